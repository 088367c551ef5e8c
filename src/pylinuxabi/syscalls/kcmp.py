"""kcmp(2): do two processes share a kernel object (open file, fd table, fs, mm…)?

Answered from the model's objects; may touch nothing, only compare.
"""
import errno
import random
import struct

from pylinuxabi.kernel.access import PTRACE_MODE_READ_REALCREDS, find_task_by_vpid, ptrace_may_access
from pylinuxabi.base.errors import SyscallError, check
from pylinuxabi.syscalls.registry import syscall
from pylinuxabi.vfs.epoll import EventPoll
from pylinuxabi.vfs.file import O_PATH

KCMP_FILE, KCMP_VM, KCMP_FILES, KCMP_FS, KCMP_SIGHAND, KCMP_IO, KCMP_SYSVSEM, KCMP_EPOLL_TFD = range(8)
KCMP_EPOLL_SLOT = struct.Struct("<III")     # efd, tfd, toff
U64 = (1 << 64) - 1

# kptr_obfuscate's cookies: an order of the objects that says nothing of where they are
_COOKIES = [(random.getrandbits(64), random.getrandbits(64) | 1) for _ in range(KCMP_EPOLL_TFD + 1)]


def _key(obj, kind):
    x, mul = _COOKIES[kind]
    v = (((0 if obj is None else id(obj)) ^ x) * mul) & U64
    return v - (1 << 64) if v >> 63 else v         # compared as longs, as Linux does


def kcmp_ptr(a, b, kind):
    """0 for the same object, else 1 or 2 by an order consistent for the run."""
    t1, t2 = _key(a, kind), _key(b, kind)
    return (t1 < t2) | (t1 > t2) << 1


def _alive(kernel, proc):
    """A zombie or the init keeps no memory, files or fs of its own to share (exit_mm,
    exit_files, exit_fs); the init is alive but its objects are its own."""
    return proc.is_init or proc.pid in kernel.processes


def _file(kernel, proc, fd):
    """get_file_raw_ptr: the open file at fd (O_PATH ones too), or None."""
    if not _alive(kernel, proc):
        return None
    return proc.files.fds.get(fd & 0xFFFFFFFF)      # (an unsigned int there)


def _epoll_target(task, kernel, p1, p2, idx1, slot_addr):
    """kcmp_epoll_target: the file at idx1 of p1 against a target registered in p2's epoll."""
    efd, tfd, toff = KCMP_EPOLL_SLOT.unpack(task.mem.read(slot_addr, KCMP_EPOLL_SLOT.size))
    f = _file(kernel, p1, idx1)
    check(f is not None, errno.EBADF)
    ep = _file(kernel, p2, efd)
    check(ep is not None and not ep.flags & O_PATH, errno.EBADF)     # fget_task: not O_PATH
    check(isinstance(ep, EventPoll), errno.EINVAL)
    for (fd, target) in ep.items:
        if fd == tfd:
            if toff == 0:
                return kcmp_ptr(f, target, KCMP_FILE)
            toff -= 1
    raise SyscallError(errno.ENOENT)


def _shared(kernel, proc, kind):
    """The object of kind a process holds, None where Linux's pointer is NULL."""
    alive = _alive(kernel, proc)
    if kind == KCMP_VM:
        return proc.mm if alive else None
    if kind == KCMP_FILES:
        return proc.files if alive else None
    if kind == KCMP_FS:
        return proc.fs if alive else None
    if kind == KCMP_SIGHAND:
        return proc.sig_handlers
    # KCMP_IO, KCMP_SYSVSEM: an io_context is made only by block I/O of the task's own
    # and ioprio_set, an undo list only by semop(SEM_UNDO); the model's processes have
    # neither, so every one's pointer is NULL, as a process's is on Linux until then
    return None


@syscall("kcmp", "iiiuu")
def kcmp(task, pid1, pid2, kind, idx1, idx2):
    """kcmp(2)."""
    kernel = task.process.kernel
    t1, t2 = find_task_by_vpid(kernel, pid1), find_task_by_vpid(kernel, pid2)
    if t1 is None or t2 is None:
        raise SyscallError(errno.ESRCH)
    p1, p2 = t1[1], t2[1]
    for p in (p1, p2):
        if not ptrace_may_access(task.process, p, PTRACE_MODE_READ_REALCREDS, has_mm=_alive(kernel, p)):
            raise SyscallError(errno.EPERM)
    if kind == KCMP_FILE:
        f1, f2 = _file(kernel, p1, idx1), _file(kernel, p2, idx2)
        check(f1 is not None and f2 is not None, errno.EBADF)
        return kcmp_ptr(f1, f2, KCMP_FILE)
    if kind == KCMP_EPOLL_TFD:
        return _epoll_target(task, kernel, p1, p2, idx1, idx2)
    check(KCMP_VM <= kind <= KCMP_SYSVSEM, errno.EINVAL)
    return kcmp_ptr(_shared(kernel, p1, kind), _shared(kernel, p2, kind), kind)
