"""procfs: /proc/self and /proc/<pid>/{fd/,task/,exe,cwd,root,cmdline,comm,environ,stat,statm,status,maps}.

Made from the model; what only the host knows (memory, times, states) is
read from the supervisor's own /proc, which speaks of the same PID
namespace, and adjusted to the model (names, credentials, hidden mappings).
Processes are found through functions the kernel supplies; their
attributes are documented on ProcRoot.
"""
import errno
import os

from pylinuxabi.base.errors import SyscallError
from pylinuxabi.vfs.mount import MS_SHARED, Dentry, Mount, is_under
from pylinuxabi.vfs.file import O_ACCMODE, O_PATH, POLLERR, POLLIN, POLLPRI, POLLRDNORM
from pylinuxabi.vfs.synthetic import PolledContent, SynthDir, SynthFile, SynthFileContent, SynthLink, read_host

PROC_DEV = os.makedev(0, 22)
# files with no name in the tree (host stdio, later pipes) hang off this mount
ANON_MOUNT = Mount("anon_inodefs", b"anon", SynthDir({}))


def file_dentry(f):
    """The dentry an open file is reached by; files with no name get one on ANON_MOUNT."""
    if f.dentry is None:
        return Dentry(f.path(), None, f.inode, ANON_MOUNT)
    return f.dentry


PID_POSITIONS = 1 << 20         # readdir positions of the pid directories: after every fixed entry
TASK_COMM_LEN = 16              # a thread's name, its NUL included


class ProcRoot(SynthDir):
    """/proc: one directory per process plus 'self' and 'thread-self'.

    `processes()` returns {pid: process}; a process has .pid, .files (an
    FdTable), .fs (with .cwd and .root dentries), .exe (a dentry or None),
    .argv, .envp, .creds, .tasks ({tid: task with .comm and .tid}),
    .exit_comm (its leader's name once dead) and .kernel, whose
    stopped(process) says whether it is in a group stop. `current()`
    returns the calling process and `current_tid()` the calling thread's
    tid (thread-self; without it, the process's leader). `hidden` lists (start, end) address ranges
    of the supervisor's own mappings, which maps does not show.
    """

    cacheable_children = False
    fs_magic = 0x9FA0       # PROC_SUPER_MAGIC
    extra = {}              # more entries of the root: sys/ (vfs/procsys.py), cgroups

    def __init__(self, processes, current, hidden=(), mounts=lambda: [], current_tid=None):
        super().__init__({}, mode=0o555, dev=PROC_DEV)
        self.processes = processes
        self.current = current
        self.current_tid = current_tid or (lambda: current().pid)
        self.hidden = hidden
        self.mounts = mounts        # the Mounts of the sandbox, root first

    def children(self):
        out = {b"self": SynthLink(target_fn=lambda: str(self.current().pid).encode(), dev=PROC_DEV),
               b"thread-self": SynthLink(target_fn=self._thread_self, dev=PROC_DEV),
               b"mounts": SynthLink(b"self/mounts", dev=PROC_DEV)}
        for name in HOST_GLOBAL:
            out[name] = global_file(lambda name=name: read_host(b"/proc/" + name))
        out.update(self.extra)
        for pid, proc in sorted(self.processes().items()):
            cls = InitPidDir if getattr(proc, "is_init", False) else ProcPidDir
            out[str(pid).encode()] = cls(proc, self.hidden, self.mounts, self.current)
        return out

    def position(self, name, index):
        return PID_POSITIONS + int(name) if name.isdigit() else index + 3

    def _thread_self(self):
        return b"%d/task/%d" % (self.current().pid, self.current_tid())


class ProcPidDir(SynthDir):
    """/proc/<pid>."""

    cacheable_children = False

    def __init__(self, proc, hidden=(), mounts=lambda: [], current=None):
        super().__init__({}, mode=0o555, dev=PROC_DEV)
        self.proc = proc
        self.hidden = hidden
        self.mounts = mounts
        self.current = current      # the reading process, whose root the link targets are seen from

    def _reader_root(self):
        return self.current().fs.root if self.current is not None else None

    def stat(self):
        return _owned(self._stat, self.proc)

    def lookup(self, name):
        return _owned_child(super().lookup(name), self.proc)

    def children(self):
        p = self.proc
        return {
            b"fd": ProcFdDir(p),
            b"exe": _magic(lambda: p.exe, self._reader_root),
            b"cwd": _magic(lambda: p.fs.cwd, self._reader_root),
            b"root": _magic(lambda: p.fs.root, self._reader_root),
            b"cmdline": _file(lambda: b"".join(a + b"\0" for a in p.argv)),
            b"environ": _file(lambda: b"".join(e + b"\0" for e in p.envp), mode=0o400),
            b"comm": CommFile(p, None, self.current),
            b"task": ProcTaskDir(p, self.hidden, self.mounts, self.current),
            b"stat": _file(lambda: _stat(p)),
            b"statm": _file(lambda: _host(p, "statm")),
            b"status": _file(lambda: _status(p)),
            b"maps": _file(lambda: _maps(p, self.hidden)),
            b"limits": _file(lambda: _limits(p)),
            b"cgroup": _file(lambda: b"0::/\n"),        # the root of the sandbox's cgroup namespace
            b"mounts": MountsFile(p.kernel.mounts, lambda: _mounts(p, self.mounts())),
            b"mountinfo": MountsFile(p.kernel.mounts, lambda: _mountinfo(p, self.mounts())),
            b"fdinfo": ProcFdInfoDir(p),
        }


class InitPidDir(ProcPidDir):
    """/proc/1: the model's init (Process.make_init), as `docker run --init` shows one.

    Everything is made from the model: the real pid 1 of the PID namespace is the
    supervisor, whose memory, maps, environment and files are never shown.
    """

    def children(self):
        p = self.proc
        out = super().children()
        out[b"stat"] = _file(lambda: _init_stat(p))
        out[b"statm"] = _file(lambda: b"0 0 0 0 0 0 0\n")
        out[b"status"] = _file(lambda: _init_status(p))
        out[b"maps"] = _file(lambda: b"")
        out[b"task"] = SynthDir({b"1": InitTidDir(p, self.hidden, self.mounts, self.current)},
                                mode=0o555, dev=PROC_DEV)
        return out


class InitTidDir(InitPidDir):
    """/proc/1/task/1: the init's one thread."""

    def children(self):
        out = super().children()
        del out[b"task"]
        return out


def _host_ids(get):
    """The init's process group or session: the host's for pid 1 as the program would be
    told by getpgid(1), getsid(1) (0: outside the sandbox's namespace)."""
    try:
        return get(1)
    except OSError:
        return 0


def _init_starttime():
    """When the sandbox began, in clock ticks after boot (the start of its namespace's pid 1)."""
    try:
        with open("/proc/1/stat", "rb") as f:
            return int(f.read().rpartition(b") ")[2].split()[19])
    except (OSError, ValueError, IndexError):
        return 0


def _init_stat(p):
    """proc_pid_stat(5) of a sleeping init: ppid 0, one thread, no memory of its own shown."""
    s = p.sched
    prio = -1 - s.priority if s.policy in (1, 2) else 20 + s.nice
    fields = [b"S", 0, _host_ids(os.getpgid), _host_ids(os.getsid), 0, -1, 0x400100, 0, 0, 0, 0, 0, 0, 0, 0,
              prio, s.nice, 1, 0, _init_starttime(), 0, 0, (1 << 64) - 1, 0, 0, 0, 0, 0, 0, 0, 0, 0,
              0, 0, 0, 17, min(s.cpus, default=0), s.priority, s.policy, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
    return b"1 (" + p.exit_comm + b") " + b" ".join(f if isinstance(f, bytes) else b"%d" % f
                                                  for f in fields) + b"\n"


def _cpu_list(cpus):
    ranges, run = [], []
    for c in sorted(cpus):
        if run and c != run[-1] + 1:
            ranges.append(run)
            run = []
        run.append(c)
    if run:
        ranges.append(run)
    return ",".join(f"{r[0]}" if len(r) == 1 else f"{r[0]}-{r[-1]}" for r in ranges).encode()


def _init_status(p):
    """proc_pid_status(5) of the init, with its model credentials and scheduling."""
    c, s = p.creds, p.sched
    mask = sum(1 << cpu for cpu in s.cpus)
    lines = [b"Name:\t" + p.exit_comm, b"Umask:\t%04o" % p.fs.umask, b"State:\tS (sleeping)",
             b"Tgid:\t1", b"Ngid:\t0", b"Pid:\t1", b"PPid:\t0", b"TracerPid:\t0",
             b"Uid:\t%d\t%d\t%d\t%d" % (c.ruid, c.euid, c.suid, c.fsuid),
             b"Gid:\t%d\t%d\t%d\t%d" % (c.rgid, c.egid, c.sgid, c.fsgid), b"FDSize:\t64",
             b"Groups:\t" + b" ".join(b"%d" % g for g in c.groups) + (b" " if c.groups else b""),
             b"NStgid:\t1", b"NSpid:\t1", b"NSpgid:\t%d" % _host_ids(os.getpgid),
             b"NSsid:\t%d" % _host_ids(os.getsid), b"Kthread:\t0", b"Threads:\t1",
             b"SigPnd:\t%016x" % 0, b"ShdPnd:\t%016x" % 0, b"SigBlk:\t%016x" % 0,
             b"SigIgn:\t%016x" % 0, b"SigCgt:\t%016x" % 0]
    lines += [key + b":\t%016x" % getattr(c, attr) for key, attr in CAP_LINES.items()]
    lines += [b"NoNewPrivs:\t%d" % p.no_new_privs, b"Seccomp:\t0", b"Seccomp_filters:\t0",
              b"Cpus_allowed:\t%x" % mask, b"Cpus_allowed_list:\t" + _cpu_list(s.cpus),
              b"voluntary_ctxt_switches:\t0", b"nonvoluntary_ctxt_switches:\t0"]
    return b"\n".join(lines) + b"\n"


class ProcTaskDir(SynthDir):
    """/proc/<pid>/task: one directory per thread."""

    cacheable_children = False

    def __init__(self, proc, hidden, mounts, current):
        super().__init__({}, mode=0o555, dev=PROC_DEV)
        self.proc = proc
        self.args = (hidden, mounts, current)

    def children(self):
        p = self.proc
        return {str(tid).encode(): ProcTidDir(p, p.tasks[tid], *self.args)
                for tid in sorted(p.tasks) if tid == p.pid or not _thread_gone(p, tid)}

    def position(self, name, index):
        return int(name) + 3        # a thread gone between reads skips nothing


def _thread_gone(proc, tid):
    """Has the thread ended? A traced thread stays a zombie until the supervisor has
    waited for it, a little after it woke pthread_join: Linux's is gone by then."""
    try:
        stat = _host(proc, f"task/{tid}/stat")
    except SyscallError:
        return True
    return stat.rpartition(b") ")[2][:1] in (b"Z", b"X")


class ProcTidDir(ProcPidDir):
    """/proc/<pid>/task/<tid>: the process's files, with the thread's own name and state."""

    def __init__(self, proc, task, hidden, mounts, current):
        super().__init__(proc, hidden, mounts, current)
        self.task = task

    def children(self):
        p, t = self.proc, self.task
        out = super().children()
        del out[b"task"]
        out[b"comm"] = CommFile(p, t, self.current)
        out[b"stat"] = _file(lambda: _stat(p, t))
        out[b"status"] = _file(lambda: _status(p, t))
        return out


class CommFile(SynthFile):
    """comm of a process (its leader) or of one thread: its name, which a thread
    of the same process may set by writing it (as comm_write: the first 15
    bytes are taken, the whole count returned; EINVAL from another process)."""

    def __init__(self, proc, task, current):
        super().__init__(lambda: self.name() + b"\n", mode=0o644, dev=PROC_DEV)
        self.proc = proc
        self.task = task
        self.current = current

    def name(self):
        return self.task.comm if self.task is not None else _comm(self.proc)

    def open(self, dentry, flags, task):
        if flags & O_PATH or (flags & O_ACCMODE) == os.O_RDONLY:
            return super().open(dentry, flags, task)
        return CommWriter(dentry, self, flags, self.content_fn())


class CommWriter(SynthFileContent):
    """comm open for writing."""

    def write(self, data):
        return self.pwrite(data, 0)

    def pwrite(self, data, offset):
        comm = self.inode
        proc = comm.proc
        if comm.current is None or comm.current() is not proc:
            raise SyscallError(errno.EINVAL)
        target = comm.task if comm.task is not None else proc.tasks.get(proc.pid)
        if target is not None:
            target.comm = data[:TASK_COMM_LEN - 1].split(b"\0", 1)[0]
        return len(data)


# files about the whole machine, the same inside: read from the host's /proc
HOST_GLOBAL = (b"cpuinfo", b"meminfo", b"loadavg", b"uptime", b"version", b"stat", b"filesystems")


def _limits(proc):
    """/proc/<pid>/limits from the model's rlimits, in Linux's layout."""
    rows = [("Max cpu time", 0, "seconds"), ("Max file size", 1, "bytes"), ("Max data size", 2, "bytes"),
            ("Max stack size", 3, "bytes"), ("Max core file size", 4, "bytes"),
            ("Max resident set", 5, "bytes"), ("Max processes", 6, "processes"),
            ("Max open files", 7, "files"), ("Max locked memory", 8, "bytes"),
            ("Max address space", 9, "bytes"), ("Max file locks", 10, "locks"),
            ("Max pending signals", 11, "signals"), ("Max msgqueue size", 12, "bytes"),
            ("Max nice priority", 13, ""), ("Max realtime priority", 14, ""),
            ("Max realtime timeout", 15, "us")]
    inf = (1 << 64) - 1
    out = ["%-25s %-20s %-20s %-10s" % ("Limit", "Soft Limit", "Hard Limit", "Units")]
    for name, res, unit in rows:
        soft, hard = proc.rlimits.get(res, (inf, inf))
        line = "%-25s %-20s %-20s " % (name, "unlimited" if soft == inf else soft,
                                       "unlimited" if hard == inf else hard)
        out.append(line + ("%-10s" % unit if unit else ""))
    return ("\n".join(out) + "\n").encode()


def _visible(proc, mounts):
    """(mount, its mount point as the process sees it) for the mounts under its root."""
    root = proc.fs.root
    for m in mounts:
        if m.mountpoint is None:
            if m.root is root or root.mount is m:
                yield m, b"/"
        elif is_under(m.mountpoint, root):
            yield m, m.mountpoint.path(root)


def _escape(name):
    """Spaces, tabs, newlines and backslashes as mangle() writes them (octal escapes)."""
    for c in b"\\ \t\n":
        name = name.replace(bytes([c]), b"\\%03o" % c)
    return name


def _mounts(proc, mounts):
    """/proc/<pid>/mounts: the sandbox's mount table as the process's root sees it."""
    lines = []
    for m, point in _visible(proc, mounts):
        options = m.mount_options(with_sb=True) + (b"," + m.sb.options if m.sb.options else b"")
        lines.append(b"%s %s %s %s 0 0\n" % (_escape(m.source), _escape(point), m.fs_type.encode(), options))
    return b"".join(lines)


def _mountinfo(proc, mounts):
    """/proc/<pid>/mountinfo (proc_pid_mountinfo(5)): ids, device, root, point, options."""
    lines = []
    for m, point in _visible(proc, mounts):
        parent = m.parent.id if m.parent is not None and point != b"/" else m.id
        dev = m.root.inode.stat().dev
        optional = b" shared:%d" % m.id if m.propagation == MS_SHARED else b""
        lines.append(b"%d %d %d:%d %s %s %s%s - %s %s %s\n" % (
            m.id, parent, os.major(dev), os.minor(dev), _escape(m.fs_root), _escape(point),
            m.mount_options(), optional, m.fs_type.encode(), _escape(m.source), m.super_options()))
    return b"".join(lines)


def _file(content_fn, mode=0o444):
    return SynthFile(content_fn, mode=mode, dev=PROC_DEV)


def global_file(content_fn):
    """A file of /proc's root (proc_create_single…): its poll, proc_reg_poll, finds it
    always ready, so epoll takes it (the files of /proc/<pid>/ have none)."""
    return SynthFile(content_fn, dev=PROC_DEV, file_class=PolledContent)


class MountsFile(SynthFile):
    """/proc/<pid>/mounts or mountinfo, made from the mount table `table` at open."""

    def __init__(self, table, content_fn):
        super().__init__(content_fn, dev=PROC_DEV, file_class=MountsContent)
        self.table = table


class MountsContent(SynthFileContent):
    """An open mounts or mountinfo (mounts_poll): readable, and POLLERR|POLLPRI once
    after the mount table has changed since the open or the last poll; the table's
    `changed` queue wakes pollers."""

    def __init__(self, dentry, inode, flags, data):
        super().__init__(dentry, inode, flags, data)
        self.event = inode.table.event

    def poll(self):
        table = self.inode.table
        if self.event == table.event:
            return POLLIN | POLLRDNORM
        self.event = table.event
        return POLLIN | POLLRDNORM | POLLERR | POLLPRI

    def wait_queues(self):
        return (self.inode.table.changed,)


def _comm(proc):
    leader = proc.tasks.get(proc.pid)
    return leader.comm if leader is not None else proc.exit_comm


def _host(proc, name):
    """The host's own /proc/<pid>/name (our /proc mount is of the sandbox's PID namespace)."""
    try:
        with open(f"/proc/{proc.pid}/{name}", "rb") as f:
            return f.read()
    except OSError:
        raise SyscallError(errno.ESRCH)


def _stat(proc, task=None):
    """The host's stat line with our name for the process (or one of its threads).

    A process stopped by ptrace is in a syscall we serve: to it, running;
    one in a group stop (SIGSTOP…) the host shows so too, and the model knows.
    """
    raw = _host(proc, "stat" if task is None else f"task/{task.tid}/stat")
    head, _, rest = raw.partition(b" (")
    _, _, tail = rest.rpartition(b") ")
    if tail[:2] == b"t ":
        # stopped for us = in a syscall we are serving, unless in a group stop
        tail = (b"T" if proc.kernel.stopped(proc) else b"R") + tail[1:]
    return head + b" (" + (_comm(proc) if task is None else task.comm) + b") " + tail


CAP_LINES = {b"CapInh": "cap_inheritable", b"CapPrm": "cap_permitted", b"CapEff": "cap_effective",
             b"CapBnd": "cap_bset", b"CapAmb": "cap_ambient"}


def _status(proc, task=None):
    """The host's status with the model's name and credentials (of the process or one of its threads)."""
    c = proc.creds
    lines = []
    for line in _host(proc, "status" if task is None else f"task/{task.tid}/status").splitlines():
        key = line.split(b":", 1)[0]
        if key == b"Name":
            line = b"Name:\t" + (_comm(proc) if task is None else task.comm)
        elif key == b"State" and line.endswith(b"(tracing stop)"):
            # stopped for us = in a syscall we are serving, unless in a group stop
            line = b"State:\tT (stopped)" if proc.kernel.stopped(proc) else b"State:\tR (running)"
        elif key == b"Uid":
            line = b"Uid:\t%d\t%d\t%d\t%d" % (c.ruid, c.euid, c.suid, c.fsuid)
        elif key == b"Gid":
            line = b"Gid:\t%d\t%d\t%d\t%d" % (c.rgid, c.egid, c.sgid, c.fsgid)
        elif key == b"Groups":
            line = b"Groups:\t" + b" ".join(b"%d" % g for g in c.groups) + (b" " if c.groups else b"")
        elif key in CAP_LINES:
            line = key + b":\t%016x" % getattr(c, CAP_LINES[key])
        elif key == b"NoNewPrivs":
            line = b"NoNewPrivs:\t%d" % proc.no_new_privs
        elif key in (b"Seccomp", b"Seccomp_filters"):
            line = key + b":\t0"       # the filter is ours; the program installed none (seccomp(2) is ENOSYS)
        lines.append(line)
    return b"\n".join(lines) + b"\n"


def _maps(proc, hidden):
    """The host's maps without the supervisor's own mappings (stub, park page)."""
    out = []
    for line in _host(proc, "maps").splitlines(keepends=True):
        start = int(line.split(b"-", 1)[0], 16)
        if not any(lo <= start < hi for lo, hi in hidden):
            out.append(line)
    return b"".join(out)


class ProcFdDir(SynthDir):
    """/proc/<pid>/fd: one magic link per open fd."""

    cacheable_children = False

    mode_bits = 0o500

    def __init__(self, proc):
        super().__init__({}, mode=self.mode_bits, dev=PROC_DEV)
        self.proc = proc

    def stat(self):
        return _owned(self._stat, self.proc)

    def lookup(self, name):
        return _owned_child(super().lookup(name), self.proc)

    def permission(self, creds, mask):
        # proc_fd_permission: a process may always look at its own fds, even when
        # a change of ids made it undumpable and its /proc files root's
        if creds is not self.proc.creds:
            super().permission(creds, mask)

    def children(self):
        files = self.proc.files
        out = {}
        for fd in sorted(files.fds):
            out[str(fd).encode()] = _fd_link(files, fd)
        return out

    def position(self, name, index):
        return int(name) + 3        # as proc_readfd: a close between reads skips nothing


class ProcFdInfoDir(ProcFdDir):
    """/proc/<pid>/fdinfo: position, flags, mount and inode of each open fd."""

    mode_bits = 0o555

    def children(self):
        files = self.proc.files
        return {str(fd).encode(): _file(_fdinfo(files, fd)) for fd in sorted(files.fds)}


def _fdinfo(files, fd):
    def content():
        f = files.get(fd)
        flags = f.flags | (os.O_CLOEXEC if fd in files.cloexec else 0)
        st = f.inode.stat()
        mnt = f.dentry.mount.id if f.dentry is not None else ANON_MOUNT.id
        return b"pos:\t%d\nflags:\t0%o\nmnt_id:\t%d\nino:\t%d\n" % (f.offset, flags, mnt, st.ino) + f.fdinfo()
    return content


def _owned(stat, proc):
    """task_dump_owner: a dumpable process's files are its euid's and egid's, so that
    a user may open its own /proc/self/fd/N; a non-dumpable one's are root's."""
    c = proc.creds
    stat.uid, stat.gid = (c.euid, c.egid) if proc.dumpable == 1 else (0, 0)
    return stat


def _owned_child(inode, proc):
    _owned(inode.stat(), proc)
    return inode


def _fd_link(files, fd):
    def target():
        return files.get(fd).path()

    def follow():
        return file_dentry(files.get(fd))

    return SynthLink(target_fn=target, follow_fn=follow, dev=PROC_DEV)


def _magic(get_dentry, reader_root=lambda: None):
    def target():
        d = get_dentry()
        if d is None:
            raise SyscallError(errno.ENOENT)
        return d.path(reader_root())        # as d_path: from the reader's root, or from the top

    def follow():
        d = get_dentry()
        if d is None:
            raise SyscallError(errno.ENOENT)
        return d

    return SynthLink(target_fn=target, follow_fn=follow, dev=PROC_DEV)
