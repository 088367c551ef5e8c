"""pidfd_open(2), pidfd_send_signal(2), waitid(P_PIDFD) and clone's CLONE_PIDFD.

The pidfd is ours (vfs/pidfd.py); what it names is the host's business, so
each call that acts on the process is made by the host with the process's
own pid or a host pidfd, as if the program had made it: the sender of a
signal stays the program, and wait rules stay the host's.
"""
import errno
import os
import struct

from pylinuxabi.base.creds import CAP_SYS_PTRACE
from pylinuxabi.base.errors import SyscallError, check
from pylinuxabi.kernel.kernel import PASS, Resume
from pylinuxabi.kernel.task import INIT_PID
from pylinuxabi.syscalls.signal import may_signal
from pylinuxabi.syscalls.registry import PASSTHROUGH, syscall
from pylinuxabi.vfs.pidfd import PIDFD_NONBLOCK, PIDFD_THREAD, PidFile
from pylinuxabi.vfs.procfs import ProcPidDir

SYS_pidfd_send_signal = 424
SYS_process_madvise = 440
SI_TKILL = -6
P_PID, P_PIDFD = 1, 3
WNOHANG = 1
# which of the target's processes a signal goes to (Linux 6.9)
PIDFD_SIGNAL_THREAD, PIDFD_SIGNAL_THREAD_GROUP, PIDFD_SIGNAL_PROCESS_GROUP = 1, 2, 4
CLONE_PIDFD = 0x1000


def _pidfile(task, fd):
    f = task.files.get(fd)
    if not isinstance(f, PidFile):
        raise SyscallError(errno.EBADF)
    return f


def _model_of(task, pid, flags):
    """The model's Process a pidfd waits on, when its exit is one we are told of
    (the init never exits)."""
    kernel = task.process.kernel
    if pid == INIT_PID:
        return kernel.init
    if flags & PIDFD_THREAD:
        return None
    return kernel.processes.get(pid)


@syscall("pidfd_open", "iU")
def pidfd_open(task, pid, flags):
    """pidfd_open(2): always close-on-exec. Only the model's processes (and its init)
    can be named; the host's pidfd of the init is the supervisor's, never lent."""
    check(not flags & ~(PIDFD_NONBLOCK | PIDFD_THREAD), errno.EINVAL)
    check(pid > 0, errno.EINVAL)
    kernel = task.process.kernel
    if pid != INIT_PID and pid not in kernel.tasks and pid not in kernel.zombies:
        raise SyscallError(errno.ESRCH)
    f = PidFile(pid, flags, _model_of(task, pid, flags))
    return task.files.install_new(f, cloexec=True)


def _names_init(f):
    if isinstance(f.inode, ProcPidDir):
        return f.inode.proc.is_init
    return f.pid == INIT_PID


def _signal_init(task, sig, info):
    """pidfd_send_signal to the init: checked as Linux does, then discarded."""
    if info:
        raw = task.mem.read(info, 128)
        signo, code = struct.unpack_from("<i4xi", raw)
        check(signo == sig, errno.EINVAL)
        if code >= 0 or code == SI_TKILL:
            raise SyscallError(errno.EPERM)     # only to yourself
    check(0 <= sig <= 64, errno.EINVAL)
    if not may_signal(task, task.process.kernel.init, sig):
        raise SyscallError(errno.EPERM)
    return 0


@syscall("pidfd_send_signal", "iiuU")
def pidfd_send_signal(task, fd, sig, info, flags):
    """pidfd_send_signal(2), sent by the calling thread through a host pidfd it is lent."""
    scope = PIDFD_SIGNAL_THREAD | PIDFD_SIGNAL_THREAD_GROUP | PIDFD_SIGNAL_PROCESS_GROUP
    check(not flags & ~scope and bin(flags).count("1") <= 1, errno.EINVAL)
    f = task.files.get(fd)
    proc_dir = isinstance(f.inode, ProcPidDir)      # an open /proc/<pid> names its process too
    if not proc_dir and not isinstance(f, PidFile):
        raise SyscallError(errno.EBADF)
    if _names_init(f):
        return _signal_init(task, sig, info)
    if proc_dir:
        try:
            host = os.pidfd_open(f.inode.proc.pid)
        except OSError as e:
            raise SyscallError(e.errno)
    else:
        host = f.host
    try:
        with task.process.kernel.platform.inject(task.thread) as inj:
            hostfd = inj.install_fd(host)
            r = inj.syscall(SYS_pidfd_send_signal, hostfd, sig, info, flags)
            inj.close_fd(hostfd)
            inj.result = r
    finally:
        if proc_dir:
            os.close(host)
    return r


@syscall("waitid", "iiuiu", kind=PASSTHROUGH)
def waitid(task, idtype, ident, infop, options, rusage):
    """waitid(2): the host waits; P_PIDFD becomes P_PID with the pidfd's process.

    A non-blocking pidfd makes the wait WNOHANG and an empty one EAGAIN, as Linux does.
    """
    if idtype != P_PIDFD:
        return PASS
    check(ident >= 0, errno.EINVAL)
    f = _pidfile(task, ident)
    if not f.flags & PIDFD_NONBLOCK:
        return Resume(args=(P_PID, f.pid, None, options))

    def done(task, result):
        if result == 0 and not options & WNOHANG and not _filled(task, infop):
            return -errno.EAGAIN
        return result
    return Resume(args=(P_PID, f.pid, None, options | WNOHANG), on_exit=done)


def _filled(task, infop):
    """Did the wait report a child (si_pid set)? WNOHANG with none ready leaves it 0."""
    if not infop:
        return True
    try:
        return struct.unpack("<i", task.mem.read(infop + 16, 4))[0] != 0
    except SyscallError:
        return True


def take_clone_pidfd(addr):
    """on_exit of a clone with CLONE_PIDFD: swap the host's pidfd at `addr` for one of ours.

    The host put a pidfd in the parent's host fd table (a number the program
    must not see); we close it there and store the number of our own.
    """
    def done(task, result):
        if result <= 0:
            return result
        hostfd, = struct.unpack("<i", task.mem.read(addr, 4))
        with task.process.kernel.platform.inject(task.thread) as inj:
            inj.close_fd(hostfd)
            inj.result = result
        f = PidFile(result, 0, task.process.kernel.processes.get(result))
        fd = task.files.install(f, cloexec=True)
        task.mem.write(addr, struct.pack("<i", fd))
        return result
    return done


@syscall("pidfd_getfd", "iiU")
def pidfd_getfd(task, fd, targetfd, flags):
    """pidfd_getfd(2): a duplicate of another process's open file, close-on-exec.

    Allowed as ptrace_may_access would for our model: CAP_SYS_PTRACE, or the same uid
    all round with the target dumpable.
    """
    check(flags == 0, errno.EINVAL)
    f = _pidfile(task, fd)
    kernel = task.process.kernel
    target = kernel.init if f.pid == INIT_PID else kernel.processes.get(f.pid)
    if target is None or f.reaped():
        raise SyscallError(errno.ESRCH)
    c, t = task.creds, target.creds
    if not c.capable(CAP_SYS_PTRACE) and (not target.dumpable or {t.ruid, t.euid, t.suid} != {c.ruid}
                        or c.euid != c.ruid or c.suid != c.ruid):
        raise SyscallError(errno.EPERM)
    if target.files is None:
        raise SyscallError(errno.EBADF)
    return task.files.install_new(target.files.get(targetfd), cloexec=True)


@syscall("process_madvise", "iuUiU")
def process_madvise(task, fd, iovec, vlen, advice, flags):
    """process_madvise(2): made by the calling thread through a host pidfd it is lent,
    so the host's rules (ptrace access, CAP_SYS_NICE) are the program's. The init's
    memory is the supervisor's: nobody may advise it."""
    check(flags == 0, errno.EINVAL)
    f = _pidfile(task, fd)
    if f.pid == INIT_PID:
        raise SyscallError(errno.EPERM)
    with task.process.kernel.platform.inject(task.thread) as inj:
        hostfd = inj.install_fd(f.host)
        r = inj.syscall(SYS_process_madvise, hostfd, iovec, vlen, advice, 0)
        inj.close_fd(hostfd)
        inj.result = r
    return r
