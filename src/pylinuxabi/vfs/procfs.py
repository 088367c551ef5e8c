"""procfs: /proc/self and /proc/<pid>/{fd/,task/,ns/,net/,exe,cwd,root,cmdline,comm,environ,stat,statm,status,
maps,smaps,smaps_rollup,pagemap}.

Made from the model; what only the host knows (memory, times, states) is
read from the supervisor's own /proc, which speaks of the same PID
namespace, and adjusted to the model (names, credentials, hidden mappings).
Processes are found through functions the kernel supplies; their
attributes are documented on ProcRoot.
"""
import array
import errno
import os
import stat as st

from pylinuxabi.base.errors import SyscallError
from pylinuxabi.vfs import procmap, procnet
from pylinuxabi.vfs.mount import MS_SHARED, Dentry, Mount, is_under
from pylinuxabi.vfs.file import O_ACCMODE, O_PATH, POLLERR, POLLIN, POLLPRI, POLLRDNORM, OpenFile, StreamFile
from pylinuxabi.vfs.inode import Stat
from pylinuxabi.vfs.synthetic import (PROC_DEV, PolledContent, SynthDir, SynthFile, SynthFileContent, SynthInode, SynthLink,
                                      read_host)

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
               b"mounts": SynthLink(b"self/mounts", dev=PROC_DEV),
               b"net": SynthLink(b"self/net", dev=PROC_DEV)}
        for name in HOST_GLOBAL:
            out[name] = global_file(lambda name=name: read_host(b"/proc/" + name))
        out.update(_host_optional())
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
            b"maps": MapsFile(p, self.hidden),
            b"smaps": _file(lambda: _smaps(p, self.hidden)),
            b"smaps_rollup": _file(lambda: _smaps_rollup(p, self.hidden)),
            b"pagemap": PagemapInode(p.pid, self.hidden),
            b"ns": ProcNsDir(p, lambda: p.pid),
            b"limits": _file(lambda: _limits(p)),
            b"cgroup": _file(lambda: b"0::/\n"),        # the root of the sandbox's cgroup namespace
            b"mounts": MountsFile(p.kernel.mounts, lambda: _mounts(p, self.mounts())),
            b"mountinfo": MountsFile(p.kernel.mounts, lambda: _mountinfo(p, self.mounts())),
            b"fdinfo": ProcFdInfoDir(p),
            # the tables of the sandbox's one network namespace (vfs/procnet.py)
            b"net": procnet.ProcNetDir(lambda: p.kernel.options.new_net, net_file, PROC_DEV),
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
        out[b"maps"] = out[b"smaps"] = _file(lambda: b"")
        out[b"smaps_rollup"] = _file(lambda: _rollup_text(0, 0, {}))
        out[b"pagemap"] = PagemapInode(None, ())
        # the init is in the sandbox's namespaces, the ones the reading process is in
        out[b"ns"] = ProcNsDir(p, lambda: self.current().pid)
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
# the same, where the host's kernel has them (config.gz: CONFIG_IKCONFIG_PROC); a fixed size
HOST_OPTIONAL = (b"config.gz",)
_host_optional_files = None


def _host_optional():
    """{name: file} of the HOST_OPTIONAL files the host has, with the host's mode and
    size (which their stat shows; a missing one is ENOENT here as there)."""
    global _host_optional_files
    if _host_optional_files is None:
        _host_optional_files = {}
        for name in HOST_OPTIONAL:
            try:
                s = os.stat(b"/proc/" + name)
            except OSError:
                continue
            f = global_file(lambda name=name: read_host(b"/proc/" + name))
            f._stat.mode, f._stat.size = s.st_mode, s.st_size
            _host_optional_files[name] = f
    return _host_optional_files


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


class ProcFile(SynthFile):
    """A read-only procfs file. Whether it may be opened for writing is the permission
    check's business alone (root may), as procfs has no open check of its own; the
    writes then fail (file_class's pwrite), and O_TRUNC changes nothing
    (proc_setattr keeps no size)."""

    def open(self, dentry, flags, task):
        if flags & O_PATH or (flags & O_ACCMODE) == os.O_RDONLY:
            return super().open(dentry, flags, task)
        return self.file_class(dentry, self, flags, self.content_fn())

    def setattr(self, mode=None, uid=None, gid=None, size=None, atime_ns=None, mtime_ns=None):
        if mode is not None or uid is not None or gid is not None or atime_ns is not None or mtime_ns is not None:
            raise SyscallError(errno.EPERM)


class GlobalContent(PolledContent):
    """An open file of /proc's root: a write finds no proc_write (EIO)."""

    def pwrite(self, data, offset):
        raise SyscallError(errno.EIO)


class MapsContent(SynthFileContent):
    """An open /proc/<pid>/maps: the mappings at open, and PROCMAP_QUERY of the
    process's mappings now (vfs/procmap.py)."""

    def ioctl(self, request, arg, task):
        if request != procmap.PROCMAP_QUERY:
            raise SyscallError(errno.ENOTTY)
        return procmap.query(task, self.inode.proc.pid, self.inode.hidden, arg), None


class MapsFile(ProcFile):
    """/proc/<pid>/maps: the host's lines without the reserved range."""

    file_class = MapsContent

    def __init__(self, proc, hidden):
        super().__init__(lambda: _maps(proc, hidden), mode=0o444, dev=PROC_DEV)
        self.proc, self.hidden = proc, hidden


def _file(content_fn, mode=0o444):
    """A file of /proc/<pid>/: no poll, no write operation (a write is EINVAL)."""
    return ProcFile(content_fn, mode=mode, dev=PROC_DEV)


def global_file(content_fn):
    """A file of /proc's root (proc_create_single…): its poll, proc_reg_poll, finds it
    always ready, so epoll takes it (the files of /proc/<pid>/ have none)."""
    return ProcFile(content_fn, dev=PROC_DEV, file_class=GlobalContent)


def net_file(content_fn, file_class):
    """A file of /proc/<pid>/net (vfs/procnet.py)."""
    return ProcFile(content_fn, dev=PROC_DEV, file_class=file_class)


class MountsFile(ProcFile):
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


# -- smaps, smaps_rollup, pagemap: the host's, without the reserved range ----------------
GATE_START = 0xFFFF800000000000     # kernel addresses: the [vsyscall] gate, in no mm's vma tree
ROLLUP_WIDTH = 72                   # show_vma_header_prefix's line is padded to this, then a space


def _is_header(line):
    """A mapping's line of smaps (its address range) rather than a "Key: value" line."""
    return line[:1] in b"0123456789abcdef"


def _smaps_blocks(text):
    """[(start, end, lines)] of each mapping of a smaps text."""
    blocks = []
    for line in text.splitlines(keepends=True):
        if _is_header(line):
            lo, hi = line.split(b" ", 1)[0].split(b"-")
            blocks.append((int(lo, 16), int(hi, 16), [line]))
        elif blocks:
            blocks[-1][2].append(line)
    return blocks


def _hidden(start, hidden):
    return any(lo <= start < hi for lo, hi in hidden)


def _smaps(proc, hidden):
    """/proc/<pid>/smaps: the host's, without the blocks of the mappings maps hides."""
    return b"".join(b"".join(lines) for start, _, lines in _smaps_blocks(_host(proc, "smaps"))
                    if not _hidden(start, hidden))


def _kb_fields(lines):
    """{key: kB} of a block's "Key:   N kB" lines."""
    out = {}
    for line in lines:
        key, _, rest = line.partition(b":")
        parts = rest.split()
        if len(parts) == 2 and parts[1] == b"kB":
            out[key] = int(parts[0])
    return out


def _pss_kind(header):
    """Which of rollup's Pss_Anon, Pss_File, Pss_Shmem a mapping's pages count in, by
    what maps says of it: a shared mapping of a file on no device (memfd, SysV,
    /dev/zero) is shmem, another file's is file, the rest anonymous."""
    fields = header.split(None, 5)
    inode, name = fields[4], fields[5].strip() if len(fields) > 5 else b""
    if inode == b"0":
        return b"Pss_Anon"
    if fields[1][3:4] == b"s" and fields[3].startswith(b"00:"):
        return b"Pss_Shmem"
    return b"Pss_File" if name else b"Pss_Anon"


def _smaps_rollup(proc, hidden):
    """/proc/<pid>/smaps_rollup: the host's sums less the hidden mappings' (their
    anonymous, file or shmem share of Pss by _pss_kind), over the range from the
    first shown mapping to the last (the gate area is in no rollup)."""
    blocks = _smaps_blocks(_host(proc, "smaps"))
    host = _host(proc, "smaps_rollup").splitlines()[1:]
    sums = _kb_fields(host)
    for start, _, lines in blocks:
        if _hidden(start, hidden):
            fields = _kb_fields(lines[1:])
            for key, kb in fields.items():
                if key in sums:
                    sums[key] = max(sums[key] - kb, 0)
            kind = _pss_kind(lines[0])
            if kind in sums:
                sums[kind] = max(sums[kind] - fields.get(b"Pss", 0), 0)
    shown = [(lo, hi) for lo, hi, _ in blocks if not _hidden(lo, hidden) and lo < GATE_START]
    return _rollup_text(shown[0][0] if shown else 0, shown[-1][1] if shown else 0, sums)


_rollup_keys = None


def _rollup_text(start, end, sums):
    """smaps_rollup's text: the [rollup] line over start-end, then every field the host's
    kernel shows (in its order), from `sums` (0 for the ones it lacks)."""
    global _rollup_keys
    if _rollup_keys is None:
        try:
            _rollup_keys = list(_kb_fields(read_host(b"/proc/self/smaps_rollup").splitlines()[1:]))
        except SyscallError:
            _rollup_keys = []
    head = b"%08x-%08x ---p 00000000 00:00 0" % (start, end)
    lines = [head.ljust(ROLLUP_WIDTH) + b" [rollup]\n"]
    lines += [b"%-16s%8d kB\n" % (key + b":", sums.get(key, 0)) for key in _rollup_keys]
    return b"".join(lines)


PM_ENTRY = 8                    # bytes per page in pagemap
PAGE = 4096
PM_PRESENT, PM_SWAP = 1 << 63, 1 << 62
PM_FRAME_MASK = (1 << 55) - 1   # the PFN (present) or swap type and offset (swapped)
PM_SWAP_TYPE_MASK = (1 << 5) - 1
PAGEMAP_READ_MAX = 1 << 23      # bytes one read gives at most (a million pages): bounded memory
TASK_SIZE = 0x7FFFFFFFF000      # the end of a 4-level x86-64 user address space


class PagemapInode(SynthInode):
    """/proc/<pid>/pagemap (mode 0400): 8 bytes per virtual page, read from the host's
    pagemap of the process at the same offsets (its mm as at open, as proc_mem_open).

    The design's choice for what the host would show beyond Linux's rule for a reader
    without CAP_SYS_ADMIN: page frame numbers and swap offsets are always zero (the
    host's physical memory is no fact of the sandbox; docker's root lacks the
    capability too), and the reserved range reads as pages never mapped, as maps
    hides it. `pid` None: the model's init, with no memory shown (all entries zero)."""

    def __init__(self, pid, hidden):
        super().__init__(st.S_IFREG | 0o400, PROC_DEV)
        self.pid = pid
        self.hidden = hidden

    def open(self, dentry, flags, task):
        if flags & O_PATH:
            return OpenFile(dentry, self, flags)
        host = None
        if self.pid is not None:
            try:
                host = os.open(f"/proc/{self.pid}/pagemap", os.O_RDONLY | os.O_CLOEXEC)
            except OSError:
                raise SyscallError(errno.ESRCH)
        return PagemapFile(dentry, self, flags, host)


class PagemapFile(OpenFile):
    """An open pagemap: reads of whole entries at entry offsets (pagemap_read: else
    EINVAL); mem_lseek takes any position from SEEK_SET or SEEK_CUR, nothing else."""

    has_write = False

    def __init__(self, dentry, inode, flags, host_fd):
        super().__init__(dentry, inode, flags)
        self.host_fd = host_fd

    def pread(self, count, offset):
        if offset < 0 or offset % PM_ENTRY or count % PM_ENTRY:
            raise SyscallError(errno.EINVAL)
        count = min(count, PAGEMAP_READ_MAX)
        if self.host_fd is None:
            return bytes(count) if offset < TASK_SIZE // PAGE * PM_ENTRY else b""
        try:
            data = os.pread(self.host_fd, count, offset)
        except OSError as e:
            raise SyscallError(e.errno)
        return _pagemap_shown(data, offset // PM_ENTRY * PAGE, self.inode.hidden)

    def lseek(self, offset, whence):
        if whence == os.SEEK_SET:
            self.offset = offset
        elif whence == os.SEEK_CUR:
            self.offset += offset
        else:
            raise SyscallError(errno.EINVAL)
        return self.offset

    def fsync(self, datasync):
        raise SyscallError(errno.EINVAL)

    def release(self):
        if self.host_fd is not None:
            os.close(self.host_fd)
            self.host_fd = None


def _pagemap_shown(data, vaddr, hidden):
    """The host's pagemap entries for the pages from vaddr on, as the sandbox sees them."""
    entries = array.array("Q", data)
    for i, e in enumerate(entries):
        if e & PM_PRESENT:
            entries[i] = e & ~PM_FRAME_MASK
        elif e & PM_SWAP:
            entries[i] = e & ~(PM_FRAME_MASK & ~PM_SWAP_TYPE_MASK)
    end = vaddr + len(entries) * PAGE
    for lo, hi in hidden:
        first, last = max(lo, vaddr), min(hi, end)
        if first < last:
            n = (last - first + PAGE - 1) // PAGE
            i = (first - vaddr) // PAGE
            entries[i:i + n] = array.array("Q", bytes(n * PM_ENTRY))
    return entries.tobytes()


# -- /proc/<pid>/ns: the namespaces the process is in --------------------------------
NSFS_MAGIC = 0x6E736673
NS_GET_NSTYPE = 0xB703
# the CLONE_NEW* flag of each kind, which NS_GET_NSTYPE answers
NS_TYPES = {b"cgroup": 0x02000000, b"ipc": 0x08000000, b"mnt": 0x00020000, b"net": 0x40000000,
            b"pid": 0x20000000, b"time": 0x00000080, b"user": 0x10000000, b"uts": 0x04000000}
NSFS_MOUNT = Mount("nsfs", b"nsfs", SynthDir({}))
_ns_names = None


def ns_names():
    """The entries of ns/ the host's kernel has (cgroup ipc mnt net pid pid_for_children…)."""
    global _ns_names
    if _ns_names is None:
        try:
            _ns_names = sorted(n.encode() for n in os.listdir("/proc/self/ns"))
        except OSError:
            _ns_names = []
    return _ns_names


class ProcNsDir(SynthDir):
    """/proc/<pid>/ns (mode 0511): a magic link per namespace, "mnt:[4026531840]".

    The model keeps no namespaces of its own (unshare(2) and setns(2) are not
    implemented, clone's CLONE_NEW* refused): every process of the sandbox is in
    the namespaces its host process is in, the ones the sandbox was started in, and
    these are what the links show — the host's names, inode numbers and nsfs
    device, so that a link's target, its stat and an open fd's fstat agree, and
    compare equal between the sandbox's processes. `host_pid()` is the host
    process whose namespaces are shown."""

    cacheable_children = False

    def __init__(self, proc, host_pid):
        super().__init__({}, mode=0o511, dev=PROC_DEV)
        self.proc = proc
        self.host_pid = host_pid

    def stat(self):
        return _owned(self._stat, self.proc)

    def lookup(self, name):
        return _owned_child(super().lookup(name), self.proc)

    def children(self):
        return {name: _ns_link(self.host_pid, name) for name in ns_names()}


def _ns_link(host_pid, name):
    def host_path():
        return f"/proc/{host_pid()}/ns/{name.decode()}"

    def target():
        try:
            return os.fsencode(os.readlink(host_path()))
        except OSError as e:
            raise SyscallError(errno.ENOENT if e.errno == errno.ESRCH else e.errno)

    def follow():
        try:
            s = os.stat(host_path())
        except OSError as e:
            raise SyscallError(errno.ENOENT if e.errno == errno.ESRCH else e.errno)
        kind = name.split(b"_", 1)[0]
        return Dentry(target(), None, NsInode(s, NS_TYPES.get(kind, 0)), NSFS_MOUNT)

    return SynthLink(target_fn=target, follow_fn=follow, dev=PROC_DEV)


class NsInode(SynthInode):
    """A namespace as nsfs shows it: a regular file, mode 0444, root's, with the
    host's inode number (the name's number) and nsfs device; immutable (S_IMMUTABLE),
    so that asking to write it is EPERM before any other permission check."""

    fs_magic = NSFS_MAGIC

    def __init__(self, host_stat, ns_type):
        self.ino = host_stat.st_ino
        self._stat = Stat(ino=host_stat.st_ino, dev=host_stat.st_dev, mode=st.S_IFREG | 0o444, nlink=1,
                          atime_ns=host_stat.st_atime_ns, mtime_ns=host_stat.st_mtime_ns,
                          ctime_ns=host_stat.st_ctime_ns)
        self.ns_type = ns_type

    def permission(self, creds, mask):
        if mask & 2:
            raise SyscallError(errno.EPERM)     # inode_permission: IS_IMMUTABLE
        super().permission(creds, mask)

    def open(self, dentry, flags, task):
        return NsFile(dentry, self, flags)


class NsFile(StreamFile):
    """An open namespace (ns_file_operations): no read, write or mmap, no seeking;
    setns(2) would take it. Of the NS_ ioctls only NS_GET_NSTYPE is answered (the
    others make fds of related namespaces, which the model does not keep)."""

    has_read = has_write = False

    def pread(self, count, offset):
        raise SyscallError(errno.EINVAL)        # pread64 too: no read operation

    def ioctl(self, request, arg, task):
        if request == NS_GET_NSTYPE:
            return self.inode.ns_type, None
        raise SyscallError(errno.ENOTTY)

    def path(self):
        return self.dentry.name


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

    return FdLink(files, fd, target_fn=target, follow_fn=follow, dev=PROC_DEV)


class FdLink(SynthLink):
    """/proc/<pid>/fd/N: its mode says how the file is open, r-x for reading, -wx for
    writing, rwx for both (tid_fd_update_inode), and its size is 64."""

    def __init__(self, files, fd, **kwargs):
        super().__init__(**kwargs)
        self.files, self.fd = files, fd
        self._stat.size = 64

    def stat(self):
        try:
            f = self.files.get(self.fd)
        except SyscallError:
            return self._stat
        access = f.flags & O_ACCMODE
        bits = 0 if f.flags & O_PATH else {os.O_RDONLY: 0o500, os.O_WRONLY: 0o300, os.O_RDWR: 0o700}.get(access, 0)
        self._stat.mode = st.S_IFLNK | bits
        return self._stat


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
