"""System V IPC syscalls: shmget/shmat/shmdt/shmctl, semget/semop/semtimedop/semctl,
msgget/msgsnd/msgrcv/msgctl.

Argument checking in Linux's order (ipc/shm.c, sem.c, msg.c); the objects are
kernel/ipc.py's. shmat and shmdt map and unmap in the process by injection.
"""
import errno
import resource
import struct
import time

from pylinuxabi.kernel import ipc
from pylinuxabi.base.abi import PAGE, TIMESPEC
from pylinuxabi.base.errors import ERESTARTNOHAND, SyscallError, WouldBlock, check
from pylinuxabi.syscalls.registry import syscall

IPC_RMID, IPC_SET, IPC_STAT, IPC_INFO = 0, 1, 2, 3
SHM_LOCK, SHM_UNLOCK, SHM_STAT, SHM_INFO, SHM_STAT_ANY = 11, 12, 13, 14, 15
GETPID, GETVAL, GETALL, GETNCNT, GETZCNT, SETVAL, SETALL = 11, 12, 13, 14, 15, 16, 17
SEM_STAT, SEM_INFO, SEM_STAT_ANY = 18, 19, 20
MSG_STAT, MSG_INFO, MSG_STAT_ANY = 11, 12, 13
SHM_RDONLY, SHM_RND, SHM_REMAP, SHM_EXEC = 0o10000, 0o20000, 0o40000, 0o100000
SHM_HUGETLB = 0o4000
SEM_UNDO = 0x1000
MSG_NOERROR, MSG_EXCEPT, MSG_COPY = 0o10000, 0o20000, 0o40000
CAP_SYS_RESOURCE = 24
SHMLBA = PAGE
SYS_mmap, SYS_munmap = 9, 11
PROT_READ, PROT_WRITE, PROT_EXEC = 1, 2, 4
MAP_SHARED, MAP_FIXED, MAP_FIXED_NOREPLACE = 0x01, 0x10, 0x100000
LONG_MAX = (1 << 63) - 1
RLIM_INFINITY = (1 << 64) - 1

IPC64_PERM = "iIIIIHxxHH4xQQ"     # struct ipc64_perm, 48 bytes (x86-64: __kernel_mode_t is 16 bits)
SHMID64_DS = struct.Struct("<" + IPC64_PERM + "QqqqiiQQQ")         # 112
SEMID64_DS = struct.Struct("<" + IPC64_PERM + "qQqQQQQ")           # 104
MSQID64_DS = struct.Struct("<" + IPC64_PERM + "qqqQQQiiQQ")        # 120
SHMINFO64 = struct.Struct("<9Q")
SHM_INFO_S = struct.Struct("<i4x5Q")
SEMINFO = struct.Struct("<10i")
MSGINFO = struct.Struct("<7iH2x")
SEMBUF = struct.Struct("<Hhh")
LONG = struct.Struct("<q")
USHORT = struct.Struct("<H")
MSGSSZ, MSGSEG = 16, 0xFFFF
SEMMNS, SEMUSZ = 32000 * 32000, 20


def _ns(task):
    return ipc.namespace(task.process.kernel)


def _pack_perm(p):
    return (p.key, p.uid, p.gid, p.cuid, p.cgid, p.mode, p.seq, 0, 0, 0)


def _read_perm_set(task, buf, layout):
    """uid, gid, mode of an IPC_SET buffer (read before any lookup: EFAULT first)."""
    vals = layout.unpack(task.mem.read(buf, layout.size))
    return vals, (vals[1], vals[2], vals[5])


def _stat_target(ids, creds, ident, cmd, stat_cmd, any_cmd):
    """The object of an *_STAT command: by id (IPC_STAT) or index; readable unless *_STAT_ANY."""
    obj = ids.get(ident) if cmd == IPC_STAT else ids.at_index(ident)
    if cmd != any_cmd:
        obj.perm.check(creds, ipc.S_IRUGO)
    return obj


def _owned(ids, creds, ident):
    obj = ids.get(ident)
    obj.perm.check_owner(creds)
    return obj


# -- shared memory -------------------------------------------------------------
@syscall("shmget", "iui")
def shmget(task, key, size, shmflg):
    """shmget(2)."""
    ns = _ns(task)
    lim = ns.limits

    def create(k):
        check(ipc.SHMMIN <= size <= lim.shmmax, errno.EINVAL)
        pages = (size + PAGE - 1) // PAGE
        if ns.shm_tot + pages > lim.shmall:
            raise SyscallError(errno.ENOSPC)
        check(not shmflg & SHM_HUGETLB, errno.EINVAL)   # no hugetlbfs in the model
        if len(ns.shm.objects) >= ns.shm.limit:
            raise SyscallError(errno.ENOSPC)
        seg = ipc.ShmSegment(ipc.IpcPerm(k, shmflg, task.creds, task.process.pid), size)
        ns.shm_tot += pages
        return ns.shm.add(seg)

    def more_checks(seg):
        check(seg.size >= size, errno.EINVAL)

    return ns.shm.lookup(key, shmflg, create, more_checks, task.creds)


@syscall("shmat", "iui")
def shmat(task, shmid, addr, shmflg):
    """shmat(2): the process maps the segment's memfd, as a file-backed mmap."""
    flags = MAP_SHARED
    if addr:
        if addr & (SHMLBA - 1):
            check(shmflg & SHM_RND, errno.EINVAL)
            addr &= ~(SHMLBA - 1)
            check(addr or not shmflg & SHM_REMAP, errno.EINVAL)
        flags |= MAP_FIXED if shmflg & SHM_REMAP else MAP_FIXED_NOREPLACE
    else:
        check(not shmflg & SHM_REMAP, errno.EINVAL)
    readonly = bool(shmflg & SHM_RDONLY)
    prot, acc = (PROT_READ, ipc.S_IRUGO) if readonly else (PROT_READ | PROT_WRITE, ipc.S_IRUGO | ipc.S_IWUGO)
    if shmflg & SHM_EXEC:
        prot |= PROT_EXEC
        acc |= ipc.S_IXUGO
    check(shmid >= 0, errno.EINVAL)
    ns = _ns(task)
    seg = ns.shm.get(shmid)
    seg.perm.check(task.creds, acc)
    length = seg.pages * PAGE
    platform = task.process.kernel.platform
    if addr:
        check(not platform.touches_reserved(addr, length), errno.EINVAL)
    with platform.inject(task.thread) as inj:
        tfd = inj.install_fd(seg.fd_for(readonly))
        r = inj.syscall(SYS_mmap, addr, seg.size, prot, flags, tfd, 0)
        inj.close_fd(tfd)
        if r == -errno.EEXIST:
            r = -errno.EINVAL       # SHM_REMAP not given and something is mapped there
        inj.result = r
    if r < 0 and r > -4096:
        raise SyscallError(-r)
    ns.attach(task.process, seg, r, length, task.process.pid)
    return r


@syscall("shmdt", "u")
def shmdt(task, addr):
    """shmdt(2): unmaps exactly the segment attached at addr."""
    check(addr & (PAGE - 1) == 0, errno.EINVAL)
    ns = _ns(task)
    space = ns.spaces.get(task.process)
    found = space.maps.get(addr) if space is not None else None
    check(found is not None, errno.EINVAL)
    seg, length = found
    with task.process.kernel.platform.inject(task.thread) as inj:
        r = inj.syscall(SYS_munmap, addr, length)
        inj.result = r
    if r < 0:
        raise SyscallError(-r)
    del space.maps[addr]
    if not seg.perm.removed:
        ns.detach(seg, task.process.pid)
    return 0


@syscall("shmctl", "iiu")
def shmctl(task, shmid, cmd, buf):
    """shmctl(2)."""
    check(cmd >= 0 and shmid >= 0, errno.EINVAL)
    ns = _ns(task)
    creds = task.creds
    lim = ns.limits
    if cmd == IPC_INFO:
        task.mem.write(buf, SHMINFO64.pack(lim.shmmax, ipc.SHMMIN, lim.shmmni, lim.shmmni, lim.shmall,
                                           0, 0, 0, 0))
        return ns.shm.max_idx()
    if cmd == SHM_INFO:
        rss = sum(s.rss_pages() for s in ns.shm.objects.values())
        task.mem.write(buf, SHM_INFO_S.pack(len(ns.shm.objects), ns.shm_tot, rss, 0, 0, 0))
        return ns.shm.max_idx()
    if cmd in (IPC_STAT, SHM_STAT, SHM_STAT_ANY):
        seg = _stat_target(ns.shm, creds, shmid, cmd, SHM_STAT, SHM_STAT_ANY)
        p = seg.perm
        task.mem.write(buf, SHMID64_DS.pack(*_pack_perm(p), seg.size, seg.atime, seg.dtime, p.ctime,
                                            p.cpid, seg.lpid, seg.nattch, 0, 0))
        return 0 if cmd == IPC_STAT else p.id
    if cmd == IPC_SET:
        _, (uid, gid, mode) = _read_perm_set(task, buf, SHMID64_DS)
        _owned(ns.shm, creds, shmid).perm.set(uid, gid, mode)
        return 0
    if cmd == IPC_RMID:
        ns.rmid_shm(_owned(ns.shm, creds, shmid))
        return 0
    if cmd in (SHM_LOCK, SHM_UNLOCK):
        seg = ns.shm.get(shmid)
        memlock = task.process.rlimits[resource.RLIMIT_MEMLOCK][0]
        if not creds.capable(ipc.CAP_IPC_LOCK):
            check(creds.euid in (seg.perm.uid, seg.perm.cuid), errno.EPERM)
            check(cmd != SHM_LOCK or memlock != 0, errno.EPERM)
        if cmd == SHM_UNLOCK:
            if seg.locked_by is not None:
                ns.unlock_shm(seg)
            return 0
        if seg.locked_by is None:
            _lock(ns, seg, creds, memlock)
        return 0
    raise SyscallError(errno.EINVAL)


def _lock(ns, seg, creds, memlock):
    """user_shm_lock: the caller's user is charged the pages, up to RLIMIT_MEMLOCK
    unless CAP_IPC_LOCK (ENOMEM beyond)."""
    limit = memlock if memlock == RLIM_INFINITY else memlock // PAGE
    charged = ns.locked.get(creds.ruid, 0) + seg.pages
    if charged > limit and not creds.capable(ipc.CAP_IPC_LOCK):
        raise SyscallError(errno.ENOMEM)
    ns.locked[creds.ruid] = charged
    seg.locked_by = creds.ruid
    seg.perm.mode |= ipc.SHM_LOCKED


# -- semaphores --------------------------------------------------------------------
@syscall("semget", "iii")
def semget(task, key, nsems, semflg):
    """semget(2)."""
    ns = _ns(task)
    lim = ns.limits
    check(0 <= nsems <= lim.semmsl, errno.EINVAL)

    def create(k):
        check(nsems != 0, errno.EINVAL)
        if ns.used_sems + nsems > lim.semmns or len(ns.sem.objects) >= ns.sem.limit:
            raise SyscallError(errno.ENOSPC)
        ident = ns.sem.add(ipc.SemSet(ipc.IpcPerm(k, semflg, task.creds, task.process.pid), nsems))
        ns.used_sems += nsems
        return ident

    def more_checks(sset):
        check(nsems <= len(sset.sems), errno.EINVAL)

    return ns.sem.lookup(key, semflg, create, more_checks, task.creds)


class _SemWait:
    """What a parked semop keeps for its retries: the operations, read once."""

    __slots__ = ("sset", "sops", "alter")

    def __init__(self, sset, sops, alter):
        self.sset, self.sops, self.alter = sset, sops, alter


def _perform(ns, proc, sset, sops):
    """perform_atomic_semop: all the operations or none. Returns the operation that
    must wait (None when done); EAGAIN for one with IPC_NOWAIT, ERANGE past SEMVMX
    or SEMAEM."""
    values = [s.value for s in sset.sems]
    undo = ns.undo.get(proc, {}).get(sset)
    adj = list(undo) if undo is not None else [0] * len(values)
    for num, op, flg in sops:
        v = values[num]
        if (op == 0 and v) or v + op < 0:
            if flg & ipc.IPC_NOWAIT:
                raise SyscallError(errno.EAGAIN)
            return num, op
        if v + op > ipc.SEMVMX:
            raise SyscallError(errno.ERANGE)
        if flg & SEM_UNDO:
            a = adj[num] - op
            if a < -ipc.SEMAEM - 1 or a > ipc.SEMAEM:
                raise SyscallError(errno.ERANGE)
            adj[num] = a
        values[num] = v + op
    for num, _, _ in sops:
        sset.sems[num].pid = proc.pid
    for sem, v in zip(sset.sems, values):
        sem.value = v
    if any(flg & SEM_UNDO for _, _, flg in sops):
        ns.undo.setdefault(proc, {})[sset] = adj
    sset.otime = int(time.time())
    return None


def do_semtimedop(task, semid, tsops, nsops, timeout):
    """The body of semop and semtimedop; timeout in seconds (None: for ever)."""
    ns = _ns(task)
    pending = task.resume if isinstance(task.resume, _SemWait) else None
    if pending is None:
        check(nsops >= 1 and semid >= 0, errno.EINVAL)
        check(nsops <= ns.limits.semopm, errno.E2BIG)
        raw = task.mem.read(tsops, nsops * SEMBUF.size)
        sops = list(SEMBUF.iter_unpack(raw))
        if timeout is not None:
            sec, nsec = timeout
            check(sec >= 0 and 0 <= nsec < 10**9, errno.EINVAL)
            timeout = sec + nsec / 1e9
        sset = ns.sem.get(semid)
        check(max(num for num, _, _ in sops) < len(sset.sems), errno.EFBIG)
        alter = any(op for _, op, _ in sops)
        sset.perm.check(task.creds, ipc.S_IWUGO if alter else ipc.S_IRUGO)
        pending = _SemWait(sset, sops, alter)
    sset = pending.sset
    sset.waiters.pop(task, None)
    check(not sset.perm.removed, errno.EIDRM)
    blocking = _perform(ns, task.process, sset, pending.sops)
    if blocking is None:
        if pending.alter:
            sset.changed()
        return 0
    if task.timed_out():
        raise SyscallError(errno.EAGAIN)
    task.resume = pending
    sset.waiters[task] = blocking
    # never restarted, whatever SA_RESTART says (signal(7))
    raise WouldBlock([sset.queue], timeout=timeout, restart=errno.EINTR)


@syscall("semop", "iuU")
def semop(task, semid, sops, nsops):
    """semop(2)."""
    return do_semtimedop(task, semid, sops, nsops, None)


@syscall("semtimedop", "iuUu")
def semtimedop(task, semid, sops, nsops, timeout):
    """semtimedop(2)."""
    ts = None
    if timeout and not isinstance(task.resume, _SemWait):
        ts = TIMESPEC.unpack(task.mem.read(timeout, TIMESPEC.size))
    return do_semtimedop(task, semid, sops, nsops, ts)


@syscall("semctl", "iiiu")
def semctl(task, semid, semnum, cmd, arg):
    """semctl(2); arg is the union semun, passed by value."""
    check(semid >= 0, errno.EINVAL)
    ns = _ns(task)
    creds = task.creds
    lim = ns.limits
    if cmd in (IPC_INFO, SEM_INFO):
        info = cmd == SEM_INFO
        task.mem.write(arg, SEMINFO.pack(SEMMNS, lim.semmni, lim.semmns, SEMMNS, lim.semmsl, lim.semopm,
                                         lim.semopm, len(ns.sem.objects) if info else SEMUSZ, ipc.SEMVMX,
                                         ns.used_sems if info else ipc.SEMAEM))
        return ns.sem.max_idx()
    if cmd in (IPC_STAT, SEM_STAT, SEM_STAT_ANY):
        sset = _stat_target(ns.sem, creds, semid, cmd, SEM_STAT, SEM_STAT_ANY)
        p = sset.perm
        task.mem.write(arg, SEMID64_DS.pack(*_pack_perm(p), sset.otime, 0, p.ctime, 0, len(sset.sems), 0, 0))
        return 0 if cmd == IPC_STAT else p.id
    if cmd == SETVAL:
        val = arg & 0xFFFFFFFF
        val = val - (1 << 32) if val >= 1 << 31 else val
        check(0 <= val <= ipc.SEMVMX, errno.ERANGE)
        sset = ns.sem.get(semid)
        check(0 <= semnum < len(sset.sems), errno.EINVAL)
        sset.perm.check(creds, ipc.S_IWUGO)
        _set_values(ns, task, sset, {semnum: val})
        return 0
    if cmd in (GETALL, SETALL, GETVAL, GETPID, GETNCNT, GETZCNT):
        sset = ns.sem.get(semid)
        n = len(sset.sems)
        sset.perm.check(creds, ipc.S_IWUGO if cmd == SETALL else ipc.S_IRUGO)
        if cmd == GETALL:
            task.mem.write(arg, b"".join(USHORT.pack(s.value) for s in sset.sems))
            return 0
        if cmd == SETALL:
            values = [v for (v,) in USHORT.iter_unpack(task.mem.read(arg, n * USHORT.size))]
            check(all(v <= ipc.SEMVMX for v in values), errno.ERANGE)
            _set_values(ns, task, sset, dict(enumerate(values)))
            return 0
        check(0 <= semnum < n, errno.EINVAL)
        sem = sset.sems[semnum]
        if cmd == GETVAL:
            return sem.value
        if cmd == GETPID:
            return sem.pid
        return sset.count(semnum, zero=cmd == GETZCNT)
    if cmd == IPC_SET:
        _, (uid, gid, mode) = _read_perm_set(task, arg, SEMID64_DS)
        _owned(ns.sem, creds, semid).perm.set(uid, gid, mode)
        return 0
    if cmd == IPC_RMID:
        ns.rmid_sem(_owned(ns.sem, creds, semid))
        return 0
    raise SyscallError(errno.EINVAL)


def _set_values(ns, task, sset, values):
    """SETVAL and SETALL: new values, every process's semadj for them cleared."""
    for num, v in values.items():
        sset.sems[num].value = v
        sset.sems[num].pid = task.process.pid
    for undo in ns.undo.values():
        adj = undo.get(sset)
        if adj is not None:
            for num in values:
                adj[num] = 0
    sset.perm.ctime = int(time.time())
    sset.changed()


# -- message queues ----------------------------------------------------------------
@syscall("msgget", "ii")
def msgget(task, key, msgflg):
    """msgget(2)."""
    ns = _ns(task)

    def create(k):
        return ns.msg.add(ipc.MsgQueue(ipc.IpcPerm(k, msgflg, task.creds, task.process.pid), ns.limits.msgmnb))

    return ns.msg.lookup(key, msgflg, create, lambda q: None, task.creds)


class _MsgWait:
    """What a parked msgsnd or msgrcv keeps for its retries."""

    __slots__ = ("q", "msg")

    def __init__(self, q, msg=None):
        self.q, self.msg = q, msg


@syscall("msgsnd", "iuui")
def msgsnd(task, msqid, msgp, msgsz, msgflg):
    """msgsnd(2)."""
    ns = _ns(task)
    pending = task.resume if isinstance(task.resume, _MsgWait) else None
    if pending is None:
        (mtype,) = LONG.unpack(task.mem.read(msgp, LONG.size))
        check(msgsz <= ns.limits.msgmax and msgsz <= LONG_MAX and msqid >= 0, errno.EINVAL)
        check(mtype >= 1, errno.EINVAL)
        text = task.mem.read(msgp + LONG.size, msgsz)
        pending = _MsgWait(ns.msg.get(msqid), ipc.Message(mtype, text))
    q = pending.q
    q.perm.check(task.creds, ipc.S_IWUGO)
    check(not q.perm.removed, errno.EIDRM)
    size = len(pending.msg.text)
    if not q.fits(size):
        check(not msgflg & ipc.IPC_NOWAIT, errno.EAGAIN)
        task.resume = pending
        raise WouldBlock([q.queue], restart=ERESTARTNOHAND)
    q.messages.append(pending.msg)
    q.cbytes += size
    ns.msg_bytes += size
    ns.msg_hdrs += 1
    q.lspid = task.process.pid
    q.stime = int(time.time())
    q.queue.notify()
    return 0


def _find(q, msgtyp, mode):
    """find_msg: the first message of the search (the lowest type for SEARCH_LESSEQUAL;
    the msgtyp'th for MSG_COPY)."""
    if mode == "number":
        return q.messages[msgtyp] if 0 <= msgtyp < len(q.messages) else None
    if mode == "any":
        return q.messages[0] if q.messages else None
    if mode == "lesseq":
        picks = [m for m in q.messages if m.mtype <= msgtyp]
        return min(picks, key=lambda m: m.mtype) if picks else None
    want = (lambda m: m.mtype != msgtyp) if mode == "except" else (lambda m: m.mtype == msgtyp)
    return next((m for m in q.messages if want(m)), None)


def _search_mode(msgtyp, msgflg):
    """convert_mode."""
    if msgflg & MSG_COPY:
        return msgtyp, "number"
    if msgtyp == 0:
        return msgtyp, "any"
    if msgtyp < 0:
        return (LONG_MAX if msgtyp == -(1 << 63) else -msgtyp), "lesseq"
    return msgtyp, "except" if msgflg & MSG_EXCEPT else "equal"


@syscall("msgrcv", "iuuli")
def msgrcv(task, msqid, msgp, msgsz, msgtyp, msgflg):
    """msgrcv(2)."""
    ns = _ns(task)
    check(msqid >= 0 and msgsz <= LONG_MAX, errno.EINVAL)
    if msgflg & MSG_COPY:
        check(not msgflg & MSG_EXCEPT and msgflg & ipc.IPC_NOWAIT, errno.EINVAL)
    pending = task.resume if isinstance(task.resume, _MsgWait) else None
    q = pending.q if pending is not None else ns.msg.get(msqid)
    typ, mode = _search_mode(msgtyp, msgflg)
    q.perm.check(task.creds, ipc.S_IRUGO)
    check(not q.perm.removed, errno.EIDRM)
    msg = _find(q, typ, mode)
    if msg is None:
        check(not msgflg & ipc.IPC_NOWAIT, errno.ENOMSG)
        task.resume = _MsgWait(q)
        raise WouldBlock([q.queue], restart=ERESTARTNOHAND)
    size = len(msg.text)
    check(msgsz >= size or msgflg & MSG_NOERROR, errno.E2BIG)
    if msgflg & MSG_COPY:
        check(size <= min(msgsz, ns.limits.msgmax), errno.EINVAL)     # copy_msg's room
    else:
        q.messages.remove(msg)
        q.cbytes -= size
        ns.msg_bytes -= size
        ns.msg_hdrs -= 1
        q.lrpid = task.process.pid
        q.rtime = int(time.time())
        q.queue.notify()
    n = min(size, msgsz)
    task.mem.write(msgp, LONG.pack(msg.mtype))
    task.mem.write(msgp + LONG.size, msg.text[:n])
    return n


@syscall("msgctl", "iiu")
def msgctl(task, msqid, cmd, buf):
    """msgctl(2)."""
    check(cmd >= 0 and msqid >= 0, errno.EINVAL)
    ns = _ns(task)
    creds = task.creds
    lim = ns.limits
    if cmd in (IPC_INFO, MSG_INFO):
        if cmd == MSG_INFO:
            pool, mmap, tql = len(ns.msg.objects), min(ns.msg_hdrs, 2**31 - 1), min(ns.msg_bytes, 2**31 - 1)
        else:
            pool, mmap, tql = 32000 * 16384 // 1024, 16384, 16384
        task.mem.write(buf, MSGINFO.pack(pool, mmap, lim.msgmax, lim.msgmnb, lim.msgmni, MSGSSZ, tql, MSGSEG))
        return ns.msg.max_idx()
    if cmd in (IPC_STAT, MSG_STAT, MSG_STAT_ANY):
        q = _stat_target(ns.msg, creds, msqid, cmd, MSG_STAT, MSG_STAT_ANY)
        p = q.perm
        task.mem.write(buf, MSQID64_DS.pack(*_pack_perm(p), q.stime, q.rtime, p.ctime, q.cbytes,
                                            len(q.messages), q.qbytes, q.lspid, q.lrpid, 0, 0))
        return 0 if cmd == IPC_STAT else p.id
    if cmd == IPC_SET:
        vals, (uid, gid, mode) = _read_perm_set(task, buf, MSQID64_DS)
        qbytes = vals[15]
        q = _owned(ns.msg, creds, msqid)
        check(qbytes <= lim.msgmnb or creds.capable(CAP_SYS_RESOURCE), errno.EPERM)
        q.perm.set(uid, gid, mode)
        q.qbytes = qbytes
        q.queue.notify()        # more room, perhaps
        return 0
    if cmd == IPC_RMID:
        ns.rmid_msg(_owned(ns.msg, creds, msqid))
        return 0
    raise SyscallError(errno.EINVAL)
