"""procfs: /proc/self and /proc/<pid>/{fd/,exe,cwd,root,cmdline,comm,environ,stat,statm,status,maps}.

Made from the model; what only the host knows (memory, times, states) is
read from the supervisor's own /proc, which speaks of the same PID
namespace, and adjusted to the model (names, credentials, hidden mappings).
Processes are found through functions the kernel supplies; their
attributes are documented on ProcRoot.
"""
import errno
import os

from pylinuxabi.kernel.errors import SyscallError
from pylinuxabi.vfs.mount import Dentry, Mount
from pylinuxabi.vfs.synthetic import SynthDir, SynthFile, SynthLink

PROC_DEV = os.makedev(0, 22)
# files with no name in the tree (host stdio, later pipes) hang off this mount
ANON_MOUNT = Mount("anon_inodefs", b"anon", SynthDir({}))


def file_dentry(f):
    """The dentry an open file is reached by; files with no name get one on ANON_MOUNT."""
    if f.dentry is None:
        return Dentry(f.path(), None, f.inode, ANON_MOUNT)
    return f.dentry


PID_POSITIONS = 1 << 20         # readdir positions of the pid directories: after every fixed entry


class ProcRoot(SynthDir):
    """/proc: one directory per process plus 'self' and 'thread-self'.

    `processes()` returns {pid: process}; a process has .pid, .files (an
    FdTable), .fs (with .cwd and .root dentries), .exe (a dentry or None),
    .argv, .envp, .creds and .tasks ({tid: task with .comm}). `current()`
    returns the calling process. `hidden` lists (start, end) address ranges
    of the supervisor's own mappings, which maps does not show.
    """

    cacheable_children = False
    fs_magic = 0x9FA0       # PROC_SUPER_MAGIC

    def __init__(self, processes, current, hidden=(), mounts=lambda: []):
        super().__init__({}, mode=0o555, dev=PROC_DEV)
        self.processes = processes
        self.current = current
        self.hidden = hidden
        self.mounts = mounts        # the Mounts of the sandbox, root first

    def children(self):
        out = {b"self": SynthLink(target_fn=lambda: str(self.current().pid).encode(), dev=PROC_DEV),
               b"mounts": SynthLink(b"self/mounts", dev=PROC_DEV)}
        for name in HOST_GLOBAL:
            out[name] = _file(lambda name=name: _host_global(name))
        for pid, proc in sorted(self.processes().items()):
            out[str(pid).encode()] = ProcPidDir(proc, self.hidden, self.mounts)
        return out

    def position(self, name, index):
        return PID_POSITIONS + int(name) if name.isdigit() else index + 3


class ProcPidDir(SynthDir):
    """/proc/<pid>."""

    cacheable_children = False

    def __init__(self, proc, hidden=(), mounts=lambda: []):
        super().__init__({}, mode=0o555, dev=PROC_DEV)
        self.proc = proc
        self.hidden = hidden
        self.mounts = mounts

    def children(self):
        p = self.proc
        return {
            b"fd": ProcFdDir(p),
            b"exe": _magic(lambda: p.exe),
            b"cwd": _magic(lambda: p.fs.cwd),
            b"root": _magic(lambda: p.fs.root),
            b"cmdline": _file(lambda: b"".join(a + b"\0" for a in p.argv)),
            b"environ": _file(lambda: b"".join(e + b"\0" for e in p.envp), mode=0o400),
            b"comm": _file(lambda: _comm(p) + b"\n", mode=0o644),
            b"stat": _file(lambda: _stat(p)),
            b"statm": _file(lambda: _host(p, "statm")),
            b"status": _file(lambda: _status(p)),
            b"maps": _file(lambda: _maps(p, self.hidden)),
            b"limits": _file(lambda: _limits(p)),
            b"mounts": _file(lambda: _mounts(p, self.mounts())),
        }


# files about the whole machine, the same inside: read from the host's /proc
HOST_GLOBAL = (b"cpuinfo", b"meminfo", b"loadavg", b"uptime", b"version", b"stat", b"filesystems")


def _host_global(name):
    with open(b"/proc/" + name, "rb") as f:
        return f.read()


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


def _mounts(proc, mounts):
    """/proc/<pid>/mounts: the sandbox's mount table as the process's root sees it."""
    lines = []
    for m in mounts:
        point = m.mountpoint.path(proc.fs.root) if m.mountpoint is not None else b"/"
        options = b"ro" if m.readonly else b"rw"
        lines.append(b"%s %s %s %s 0 0\n" % (m.source, point, m.fs_type.encode(), options))
    return b"".join(lines)


def _file(content_fn, mode=0o444):
    return SynthFile(content_fn, mode=mode, dev=PROC_DEV)


def _comm(proc):
    leader = proc.tasks.get(proc.pid)
    return leader.comm if leader is not None else b""


def _host(proc, name):
    """The host's own /proc/<pid>/name (our /proc mount is of the sandbox's PID namespace)."""
    try:
        with open(f"/proc/{proc.pid}/{name}", "rb") as f:
            return f.read()
    except OSError:
        raise SyscallError(errno.ESRCH)


def _stat(proc):
    """The host's stat line with our name for the process.

    A process stopped by ptrace is in a syscall we serve: to it, running.
    (Group stops will need the model's own state: the process-model issue.)
    """
    raw = _host(proc, "stat")
    head, _, rest = raw.partition(b" (")
    _, _, tail = rest.rpartition(b") ")
    if tail[:2] == b"t ":
        tail = b"R" + tail[1:]      # stopped for us = in a syscall we are serving
    return head + b" (" + _comm(proc) + b") " + tail


def _status(proc):
    """The host's status with the model's name and credentials."""
    c = proc.creds
    lines = []
    for line in _host(proc, "status").splitlines():
        key = line.split(b":", 1)[0]
        if key == b"Name":
            line = b"Name:\t" + _comm(proc)
        elif key == b"State" and line.endswith(b"(tracing stop)"):
            line = b"State:\tR (running)"     # stopped for us = in a syscall we are serving
        elif key == b"Uid":
            line = b"Uid:\t%d\t%d\t%d\t%d" % (c.ruid, c.euid, c.suid, c.fsuid)
        elif key == b"Gid":
            line = b"Gid:\t%d\t%d\t%d\t%d" % (c.rgid, c.egid, c.sgid, c.fsgid)
        elif key == b"Groups":
            line = b"Groups:\t" + b" ".join(b"%d" % g for g in c.groups) + (b" " if c.groups else b"")
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

    def __init__(self, proc):
        super().__init__({}, mode=0o500, dev=PROC_DEV)
        self.proc = proc

    def children(self):
        files = self.proc.files
        out = {}
        for fd in sorted(files.fds):
            out[str(fd).encode()] = _fd_link(files, fd)
        return out

    def position(self, name, index):
        return int(name) + 3        # as proc_readfd: a close between reads skips nothing


def _fd_link(files, fd):
    def target():
        return files.get(fd).path()

    def follow():
        return file_dentry(files.get(fd))

    return SynthLink(target_fn=target, follow_fn=follow, dev=PROC_DEV)


def _magic(get_dentry):
    def target():
        d = get_dentry()
        if d is None:
            raise SyscallError(errno.ENOENT)
        return d.path()

    def follow():
        d = get_dentry()
        if d is None:
            raise SyscallError(errno.ENOENT)
        return d

    return SynthLink(target_fn=target, follow_fn=follow, dev=PROC_DEV)
