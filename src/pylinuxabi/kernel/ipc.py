"""System V IPC objects (shared memory, semaphore sets, message queues) and the
key namespace they live in: one IpcNamespace per Kernel, as ipc/util.c's ids.

Pure model plus the host memfds that hold segments' pages; no task registers,
no ptrace: syscalls/ipc.py maps and unmaps through the platform.
"""
import errno
import os
import time

from pylinuxabi.base.creds import CAP_SYS_ADMIN
from pylinuxabi.base.errors import SyscallError
from pylinuxabi.base.waitq import WaitQueue

IPC_PRIVATE = 0
IPC_CREAT, IPC_EXCL, IPC_NOWAIT = 0o1000, 0o2000, 0o4000
S_IRWXUGO = 0o777
S_IRUGO, S_IWUGO, S_IXUGO = 0o444, 0o222, 0o111
SHM_DEST, SHM_LOCKED = 0o1000, 0o2000       # shown in shm_perm.mode
CAP_IPC_LOCK, CAP_IPC_OWNER = 14, 15
IPCMNI_SHIFT = 15                           # id = seq << 15 | index (ipcmni_extend off)
IPCMNI = 1 << IPCMNI_SHIFT
SEQ_MAX = (1 << 31) >> IPCMNI_SHIFT         # INT_MAX >> IPCMNI_SHIFT, ipcid_seq_max()
PAGE = 4096
SEMVMX = 32767
SEMAEM = SEMVMX
SHMMIN = 1


def _sysctl(name, default):
    """A /proc/sys/kernel value of the host: the sandbox gets the machine's limits."""
    try:
        with open(f"/proc/sys/kernel/{name}") as f:
            return [int(v) for v in f.read().split()]
    except (OSError, ValueError):
        return default


class Limits:
    """shm*, msg* and sem of /proc/sys/kernel, read once from the host."""

    def __init__(self):
        self.shmmax = _sysctl("shmmax", [(1 << 64) - (1 << 24) - 1])[0]
        self.shmall = _sysctl("shmall", [(1 << 64) - (1 << 24) - 1])[0]
        self.shmmni = min(_sysctl("shmmni", [4096])[0], IPCMNI)
        self.shm_rmid_forced = _sysctl("shm_rmid_forced", [0])[0]
        self.msgmax = _sysctl("msgmax", [8192])[0]
        self.msgmnb = _sysctl("msgmnb", [16384])[0]
        self.msgmni = min(_sysctl("msgmni", [32000])[0], IPCMNI)
        sem = _sysctl("sem", [32000, 1024000000, 500, 32000])
        self.semmsl, self.semmns, self.semopm, self.semmni = sem[0], sem[1], sem[2], min(sem[3], IPCMNI)


class IpcPerm:
    """struct kern_ipc_perm: who owns an object and who may use it."""

    def __init__(self, key, mode, creds, pid):
        self.key = key
        self.mode = mode & S_IRWXUGO
        self.uid = self.cuid = creds.euid
        self.gid = self.cgid = creds.egid
        self.id = -1
        self.seq = 0
        self.cpid = pid
        self.removed = False
        self.ctime = int(time.time())

    def allows(self, creds, flag):
        """ipcperms(): the owner's, group's or others' bits for the requested
        access (any of rwx in flag), else CAP_IPC_OWNER."""
        requested = (flag >> 6 | flag >> 3 | flag) & 0o7
        granted = self.mode
        if creds.euid in (self.cuid, self.uid):
            granted >>= 6
        elif creds.in_group(self.cgid) or creds.in_group(self.gid):
            granted >>= 3
        return not requested & ~granted & 0o7 or bool(creds.capable(CAP_IPC_OWNER))

    def check(self, creds, flag):
        if not self.allows(creds, flag):
            raise SyscallError(errno.EACCES)

    def check_owner(self, creds):
        """ipcctl_obtain_check: IPC_SET and IPC_RMID are the owner's, creator's or
        CAP_SYS_ADMIN's."""
        if creds.euid not in (self.cuid, self.uid) and not creds.capable(CAP_SYS_ADMIN):
            raise SyscallError(errno.EPERM)

    def set(self, uid, gid, mode):
        """IPC_SET: the new owner (ids of -1 are not valid uids: EINVAL) and rwx bits."""
        if uid == 0xFFFFFFFF or gid == 0xFFFFFFFF:
            raise SyscallError(errno.EINVAL)
        self.uid, self.gid = uid, gid
        self.mode = (self.mode & ~S_IRWXUGO) | (mode & S_IRWXUGO)
        self.ctime = int(time.time())


class Ids:
    """One kind's objects (struct ipc_ids): index → object, key → object, ids that
    grow cyclically with a sequence number bumped at each wrap of the index."""

    def __init__(self, limit):
        self.limit = limit
        self.objects = {}       # index -> object
        self.keys = {}          # key -> object (not IPC_PRIVATE)
        self.seq = 0
        self.last_idx = -1

    def add(self, obj):
        if len(self.objects) >= self.limit:
            raise SyscallError(errno.ENOSPC)
        idx = next((i for i in range(self.last_idx + 1, self.limit) if i not in self.objects), None)
        if idx is None:
            idx = next(i for i in range(self.limit) if i not in self.objects)
        if idx <= self.last_idx:
            self.seq = (self.seq + 1) % SEQ_MAX
        self.last_idx = idx
        perm = obj.perm
        perm.seq = self.seq
        perm.id = (self.seq << IPCMNI_SHIFT) + idx
        self.objects[idx] = obj
        if perm.key != IPC_PRIVATE:
            self.keys[perm.key] = obj
        return perm.id

    def get(self, ident):
        """The object named by an id (ipc_obtain_object_check): EINVAL if none."""
        obj = self.objects.get(ident % IPCMNI) if ident >= 0 else None
        if obj is None or obj.perm.id != ident:
            raise SyscallError(errno.EINVAL)
        return obj

    def at_index(self, idx):
        """The object at an index (SHM_STAT and kin): EINVAL if none."""
        obj = self.objects.get(idx) if 0 <= idx < IPCMNI else None
        if obj is None:
            raise SyscallError(errno.EINVAL)
        return obj

    def forget_key(self, obj):
        """The key goes (IPC_RMID): the object, if it lives on, shows IPC_PRIVATE."""
        if self.keys.get(obj.perm.key) is obj:
            del self.keys[obj.perm.key]
        obj.perm.key = IPC_PRIVATE

    def remove(self, obj):
        self.forget_key(obj)
        self.objects.pop(obj.perm.id % IPCMNI, None)
        obj.perm.removed = True

    def max_idx(self):
        """ipc_get_maxidx, as the *_INFO commands return it (0 when none)."""
        return max(self.objects, default=0)

    def lookup(self, key, flags, create, more_checks, creds):
        """ipcget(): a new object for IPC_PRIVATE or a missing key with IPC_CREAT
        (create(key) makes and adds it), else the key's object, checked."""
        if key == IPC_PRIVATE:
            return create(key)
        obj = self.keys.get(key)
        if obj is None:
            if not flags & IPC_CREAT:
                raise SyscallError(errno.ENOENT)
            return create(key)
        if flags & IPC_CREAT and flags & IPC_EXCL:
            raise SyscallError(errno.EEXIST)
        more_checks(obj)
        obj.perm.check(creds, flags & S_IRWXUGO)
        return obj.perm.id


# -- shared memory ------------------------------------------------------------
class ShmSegment:
    """struct shmid_kernel: its pages are a host memfd the supervisor holds, which
    each attaching process maps (so separate processes share them)."""

    def __init__(self, perm, size):
        self.perm = perm
        self.size = size
        self.memfd = os.memfd_create(f"SYSV{perm.key & 0xFFFFFFFF:08x}", os.MFD_CLOEXEC)
        self.rofd = None        # an O_RDONLY description of it, for SHM_RDONLY attaches
        try:
            os.ftruncate(self.memfd, size)
        except OSError as e:
            os.close(self.memfd)
            raise SyscallError(errno.ENOMEM if e.errno == errno.ENOSPC else e.errno)
        self.nattch = 0
        self.atime = self.dtime = 0
        self.lpid = 0
        self.locked_by = None   # the euid charged for SHM_LOCK (None: not locked)

    @property
    def pages(self):
        return (self.size + PAGE - 1) // PAGE

    def fd_for(self, readonly):
        if not readonly:
            return self.memfd
        if self.rofd is None:
            self.rofd = os.open(f"/proc/self/fd/{self.memfd}", os.O_RDONLY | os.O_CLOEXEC)
        return self.rofd

    def rss_pages(self):
        try:
            return os.fstat(self.memfd).st_blocks * 512 // PAGE
        except OSError:
            return 0

    def close(self):
        for fd in (self.memfd, self.rofd):
            if fd is not None:
                os.close(fd)
        self.memfd = self.rofd = None


class Attachments:
    """The segments attached in one address space: address → (segment, length).
    Processes sharing memory (CLONE_VM) share one, counted by `users`."""

    def __init__(self):
        self.maps = {}
        self.users = 1


# -- semaphores ---------------------------------------------------------------
class Semaphore:
    __slots__ = ("value", "pid")

    def __init__(self):
        self.value = 0
        self.pid = 0


class SemSet:
    """struct sem_array. `waiters` are the tasks parked in semop on it, with the
    operation that blocked them (GETNCNT and GETZCNT count those)."""

    def __init__(self, perm, nsems):
        self.perm = perm
        self.sems = [Semaphore() for _ in range(nsems)]
        self.otime = 0
        self.queue = WaitQueue()
        self.waiters = {}       # task -> (sem_num, sem_op) of its blocking operation

    def count(self, semnum, zero):
        """How many parked tasks wait on semnum for zero (GETZCNT) or to decrease it
        (GETNCNT): those still parked on this set (a signal ends a park unseen here)."""
        self.waiters = {t: w for t, w in self.waiters.items() if self.queue in t.waiting_on}
        return sum(1 for num, op in self.waiters.values() if num == semnum and (op == 0 if zero else op < 0))

    def changed(self):
        self.queue.notify()


# -- message queues -----------------------------------------------------------
class Message:
    __slots__ = ("mtype", "text")

    def __init__(self, mtype, text):
        self.mtype = mtype
        self.text = text


class MsgQueue:
    """struct msg_queue: messages in order of sending, woken readers and writers."""

    def __init__(self, perm, qbytes):
        self.perm = perm
        self.messages = []
        self.cbytes = 0
        self.qbytes = qbytes
        self.stime = self.rtime = 0
        self.lspid = self.lrpid = 0
        self.queue = WaitQueue()

    def fits(self, size):
        return self.cbytes + size <= self.qbytes and len(self.messages) + 1 <= self.qbytes


# -- the namespace --------------------------------------------------------------
class IpcNamespace:
    """The sandbox's IPC namespace: its three id sets, limits and the per-process
    state (attached segments, semaphore undo lists)."""

    def __init__(self):
        self.limits = lim = Limits()
        self.shm = Ids(lim.shmmni)
        self.sem = Ids(lim.semmni)
        self.msg = Ids(lim.msgmni)
        self.shm_tot = 0            # pages of every segment
        self.used_sems = 0
        self.msg_bytes = 0
        self.msg_hdrs = 0
        self.locked = {}            # euid -> pages locked by SHM_LOCK
        self.spaces = {}            # Process -> Attachments
        self.undo = {}              # Process -> {SemSet: [semadj…]}

    # shared memory
    def space(self, proc):
        s = self.spaces.get(proc)
        if s is None:
            s = self.spaces[proc] = Attachments()
        return s

    def attach(self, proc, seg, addr, length, pid):
        """A new attachment; those it maps over wholly (SHM_REMAP) are gone."""
        maps = self.space(proc).maps
        for start, (old, n) in list(maps.items()):
            if addr <= start and start + n <= addr + length:
                del maps[start]
                if not old.perm.removed:
                    self.detach(old, pid)
        maps[addr] = (seg, length)
        seg.nattch += 1
        seg.atime = int(time.time())
        seg.lpid = pid

    def detach(self, seg, pid):
        """shm_close: one attachment fewer; the last of a removed segment destroys it."""
        seg.nattch -= 1
        seg.dtime = int(time.time())
        seg.lpid = pid
        if seg.nattch == 0 and (seg.perm.mode & SHM_DEST or self.limits.shm_rmid_forced):
            self.destroy_shm(seg)

    def destroy_shm(self, seg):
        self.shm.remove(seg)
        self.shm_tot -= seg.pages
        if seg.locked_by is not None:
            self.unlock_shm(seg)
        seg.close()

    def unlock_shm(self, seg):
        left = self.locked.get(seg.locked_by, 0) - seg.pages
        if left > 0:
            self.locked[seg.locked_by] = left
        else:
            self.locked.pop(seg.locked_by, None)
        seg.locked_by = None
        seg.perm.mode &= ~SHM_LOCKED

    def rmid_shm(self, seg):
        """do_shm_rmid: attached segments live on, keyless, until their last detach."""
        if seg.nattch:
            seg.perm.mode |= SHM_DEST
            self.shm.forget_key(seg)
        else:
            self.destroy_shm(seg)

    def drop_space(self, proc):
        """proc's memory is gone (exit, exec): its attachments end unless a CLONE_VM
        sibling still has them."""
        s = self.spaces.pop(proc, None)
        if s is None:
            return
        s.users -= 1
        if s.users:
            return
        for seg, _ in s.maps.values():
            if not seg.perm.removed:
                self.detach(seg, proc.pid)

    def fork(self, parent, child, shares_vm):
        """The child's address space: the parent's own (CLONE_VM) or a copy, whose
        attachments count as new ones (shm_open of each vma in dup_mmap)."""
        s = self.spaces.get(parent)
        if s is None:
            return
        if shares_vm:
            s.users += 1
            self.spaces[child] = s
            return
        self.space(child)
        for addr, (seg, length) in s.maps.items():
            if not seg.perm.removed:
                self.attach(child, seg, addr, length, parent.pid)

    # semaphores
    def rmid_sem(self, sset):
        self.sem.remove(sset)
        self.used_sems -= len(sset.sems)
        for undo in self.undo.values():
            undo.pop(sset, None)
        sset.changed()          # its waiters find it removed: EIDRM

    def exit_sem(self, proc):
        """exit_sem: the process's semadj values are applied, clamped to 0..SEMVMX."""
        undo = self.undo.pop(proc, None)
        if not undo:
            return
        now = int(time.time())
        for sset, adj in undo.items():
            if sset.perm.removed:
                continue
            for sem, a in zip(sset.sems, adj):
                if a:
                    sem.value = min(max(sem.value + a, 0), SEMVMX)
                    sem.pid = proc.pid
            sset.otime = now
            sset.changed()

    # message queues
    def rmid_msg(self, q):
        self.msg.remove(q)
        self.msg_bytes -= q.cbytes
        self.msg_hdrs -= len(q.messages)
        q.messages = []
        q.queue.notify()


def namespace(kernel):
    """The sandbox's IPC namespace, made at first use."""
    ns = getattr(kernel, "ipc_namespace", None)
    if ns is None:
        ns = kernel.ipc_namespace = IpcNamespace()
    return ns


# the kernel's hooks (kernel/kernel.py)
def process_forked(kernel, parent, child, flags):
    """fork and clone of a process: attachments copied (or shared with CLONE_VM);
    semaphore undo lists are not inherited (CLONE_SYSVSEM sharing is not modelled)."""
    ns = getattr(kernel, "ipc_namespace", None)
    if ns is not None:
        ns.fork(parent, child, bool(flags & 0x100))


def process_execed(kernel, proc):
    """exec: a fresh address space has no segments attached (undo lists stay)."""
    ns = getattr(kernel, "ipc_namespace", None)
    if ns is not None:
        ns.drop_space(proc)


def process_exited(kernel, proc):
    """The last thread is gone: segments detached, SEM_UNDO applied."""
    ns = getattr(kernel, "ipc_namespace", None)
    if ns is not None:
        ns.drop_space(proc)
        ns.exit_sem(proc)


# -- /proc/sysvipc/{shm,sem,msg}: ipc/util.c's seq files, Linux's columns ----------------
SYSVIPC_HEADERS = {
    "shm": b"       key      shmid perms                  size  cpid  lpid nattch   uid   gid  cuid  cgid"
           b"      atime      dtime      ctime                   rss                  swap\n",
    "sem": b"       key      semid perms      nsems   uid   gid  cuid  cgid      otime      ctime\n",
    "msg": b"       key      msqid perms      cbytes       qnum lspid lrpid   uid   gid  cuid  cgid"
           b"      stime      rtime      ctime\n",
}


def _signed_key(key):
    return key - (1 << 32) if key & 0x80000000 else key


def _owners(p):
    return (p.uid, p.gid, p.cuid, p.cgid)


def _shm_line(seg):
    """sysvipc_shm_proc_show: the size, rss and swap in bytes (no swap here)."""
    p = seg.perm
    return b"%10d %10d  %4o %21d %5d %5d  %5d %5d %5d %5d %5d %10d %10d %10d %21d %21d\n" % (
        _signed_key(p.key), p.id, p.mode, seg.size, p.cpid, seg.lpid, seg.nattch, *_owners(p),
        seg.atime, seg.dtime, p.ctime, seg.rss_pages() * PAGE, 0)


def _sem_line(sset):
    """sysvipc_sem_proc_show."""
    p = sset.perm
    return b"%10d %10d  %4o %10d %5d %5d %5d %5d %10d %10d\n" % (
        _signed_key(p.key), p.id, p.mode, len(sset.sems), *_owners(p), sset.otime, p.ctime)


def _msg_line(q):
    """sysvipc_msg_proc_show."""
    p = q.perm
    return b"%10d %10d  %4o  %10d %10d %5d %5d %5d %5d %5d %5d %10d %10d %10d\n" % (
        _signed_key(p.key), p.id, p.mode, q.cbytes, len(q.messages), q.lspid, q.lrpid, *_owners(p),
        q.stime, q.rtime, p.ctime)


def render_sysvipc(kernel, kind):
    """/proc/sysvipc/<kind> (shm, sem or msg): the header, then a line per object of the
    sandbox's namespace in index order. (The model has one PID and user namespace, so
    pids and ids are shown as they are.)"""
    ns = getattr(kernel, "ipc_namespace", None)
    ids = getattr(ns, kind) if ns is not None else None
    line = {"shm": _shm_line, "sem": _sem_line, "msg": _msg_line}[kind]
    objects = [ids.objects[i] for i in sorted(ids.objects)] if ids is not None else []
    return SYSVIPC_HEADERS[kind] + b"".join(line(obj) for obj in objects)
