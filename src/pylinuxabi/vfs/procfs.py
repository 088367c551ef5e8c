"""procfs, first part: /proc/self and /proc/<pid>/{fd/,exe,cwd,root} from the model.

Processes are found through a lookup function the kernel supplies; their
fd tables, cwd and exe are read through the attributes documented there.
"""
import errno
import os

from pylinuxabi.kernel.errors import SyscallError
from pylinuxabi.vfs.mount import Dentry, Mount
from pylinuxabi.vfs.synthetic import SynthDir, SynthLink

PROC_DEV = os.makedev(0, 22)
# files with no name in the tree (host stdio, later pipes) hang off this mount
ANON_MOUNT = Mount("anon_inodefs", b"anon", SynthDir({}))


class ProcRoot(SynthDir):
    """/proc: one directory per process plus 'self' and 'thread-self'.

    `processes()` returns {pid: process}; a process has .pid, .files (an
    FdTable), .fs (with .cwd and .root dentries) and .exe (a dentry or None).
    `current()` returns the calling process.
    """

    cacheable_children = False
    fs_magic = 0x9FA0       # PROC_SUPER_MAGIC

    def __init__(self, processes, current):
        super().__init__({}, mode=0o555, dev=PROC_DEV)
        self.processes = processes
        self.current = current

    def children(self):
        out = {b"self": SynthLink(target_fn=lambda: str(self.current().pid).encode(), dev=PROC_DEV)}
        for pid, proc in self.processes().items():
            out[str(pid).encode()] = ProcPidDir(proc)
        return out


class ProcPidDir(SynthDir):
    """/proc/<pid>."""

    cacheable_children = False

    def __init__(self, proc):
        super().__init__({}, mode=0o555, dev=PROC_DEV)
        self.proc = proc

    def children(self):
        p = self.proc
        return {
            b"fd": ProcFdDir(p),
            b"exe": _magic(lambda: p.exe),
            b"cwd": _magic(lambda: p.fs.cwd),
            b"root": _magic(lambda: p.fs.root),
        }


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


def _fd_link(files, fd):
    def target():
        return files.get(fd).path()

    def follow():
        f = files.get(fd)
        if f.dentry is None:
            return Dentry(f.path(), None, f.inode, ANON_MOUNT)
        return f.dentry

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
