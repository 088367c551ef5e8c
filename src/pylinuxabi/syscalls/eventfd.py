"""Anonymous event files' syscalls: eventfd, eventfd2, timerfd_create, timerfd_settime,
timerfd_gettime, signalfd, signalfd4.

Argument checks in fs/eventfd.c's, fs/timerfd.c's and fs/signalfd.c's order;
the objects are vfs/eventfd.py's, vfs/timerfd.py's and vfs/signalfd.py's
(read, write, poll and fdinfo come through the fd syscalls).
"""
import errno

from pylinuxabi.base.abi import ITIMERSPEC, U64
from pylinuxabi.base.creds import cap_by_name
from pylinuxabi.base.errors import SyscallError, check
from pylinuxabi.syscalls.registry import syscall
from pylinuxabi.vfs.eventfd import EFD_CLOEXEC, EFD_NONBLOCK, EFD_SEMAPHORE, EventFd
from pylinuxabi.vfs.signalfd import SFD_CLOEXEC, SFD_NONBLOCK, SignalFd
from pylinuxabi.vfs.timerfd import (BASE_CLOCK, CLOCK_BOOTTIME_ALARM, CLOCK_REALTIME_ALARM, NSEC,
                                    TFD_CLOEXEC, TFD_NONBLOCK, TFD_TIMER_ABSTIME, TFD_TIMER_CANCEL_ON_SET,
                                    TimerFd)

CAP_WAKE_ALARM = cap_by_name("wake_alarm")
ALARM_CLOCKS = (CLOCK_REALTIME_ALARM, CLOCK_BOOTTIME_ALARM)


@syscall("eventfd2", "Ui")
def eventfd2(task, count, flags):
    """eventfd2(2)."""
    check(not flags & ~(EFD_CLOEXEC | EFD_NONBLOCK | EFD_SEMAPHORE), errno.EINVAL)
    return task.files.install_new(EventFd(count, flags), cloexec=bool(flags & EFD_CLOEXEC))


@syscall("eventfd", "U")
def eventfd(task, count):
    """eventfd(2): eventfd2 without flags."""
    return eventfd2(task, count, 0)


@syscall("timerfd_create", "ii")
def timerfd_create(task, clockid, flags):
    """timerfd_create(2): the alarm clocks need CAP_WAKE_ALARM."""
    check(not flags & ~(TFD_CLOEXEC | TFD_NONBLOCK) and clockid in BASE_CLOCK, errno.EINVAL)
    if clockid in ALARM_CLOCKS:
        task.creds.check(CAP_WAKE_ALARM)
    f = TimerFd(clockid, flags, task.process.kernel.timers)
    return task.files.install_new(f, cloexec=bool(flags & TFD_CLOEXEC))


def _timer(task, fd):
    """The timerfd open at fd: EBADF for no file, EINVAL for another kind."""
    f = task.files.get_file(fd)
    if not isinstance(f, TimerFd):
        raise SyscallError(errno.EINVAL)
    return f


def _ns(sec, nsec):
    check(sec >= 0 and 0 <= nsec < NSEC, errno.EINVAL)
    return sec * NSEC + nsec


def _itimerspec(value, interval):
    return ITIMERSPEC.pack(interval // NSEC, interval % NSEC, value // NSEC, value % NSEC)


@syscall("timerfd_settime", "iiuu")
def timerfd_settime(task, fd, flags, new, old):
    """timerfd_settime(2): the old setting is written after the new one took effect."""
    isec, insec, vsec, vnsec = ITIMERSPEC.unpack(task.mem.read(new, ITIMERSPEC.size))
    check(not flags & ~(TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET), errno.EINVAL)
    interval, value = _ns(isec, insec), _ns(vsec, vnsec)
    f = _timer(task, fd)
    if f.clockid in ALARM_CLOCKS:
        task.creds.check(CAP_WAKE_ALARM)
    was = f.settime(flags, value, interval)
    if old:
        task.mem.write(old, _itimerspec(*was))
    return 0


@syscall("timerfd_gettime", "iu")
def timerfd_gettime(task, fd, cur):
    """timerfd_gettime(2): the time to the next expiry and the interval."""
    f = _timer(task, fd)
    task.mem.write(cur, _itimerspec(*f.gettime()))
    return 0


# -- signalfd ---------------------------------------------------------------------
UNBLOCKABLE = (1 << (9 - 1)) | (1 << (19 - 1))        # SIGKILL, SIGSTOP


class CallerSignals:
    """The signals of the thread calling, which a signalfd reads and polls (the host
    keeps them: the kernel looks at and takes them in that thread)."""

    def __init__(self, kernel):
        self.kernel = kernel

    def pending(self, mask):
        return self.kernel.platform.pending_signals(self.kernel.current.thread) & mask

    def dequeue(self, mask):
        return self.kernel.dequeue_signal(self.kernel.current, mask)


@syscall("signalfd4", "iuui")
def signalfd4(task, fd, user_mask, sizemask, flags):
    """signalfd4(2): fd -1 makes a new signalfd, a signalfd's fd gets the new mask."""
    check(sizemask == U64.size, errno.EINVAL)
    mask = U64.unpack(task.mem.read(user_mask, U64.size))[0] & ~UNBLOCKABLE
    check(not flags & ~(SFD_CLOEXEC | SFD_NONBLOCK), errno.EINVAL)
    if fd == -1:
        f = SignalFd(mask, flags, CallerSignals(task.process.kernel))
        return task.files.install_new(f, cloexec=bool(flags & SFD_CLOEXEC))
    f = task.files.get_file(fd)
    if not isinstance(f, SignalFd):
        raise SyscallError(errno.EINVAL)
    f.mask = mask
    return fd


@syscall("signalfd", "iuu")
def signalfd(task, fd, user_mask, sizemask):
    """signalfd(2): signalfd4 without flags."""
    return signalfd4(task, fd, user_mask, sizemask, 0)
