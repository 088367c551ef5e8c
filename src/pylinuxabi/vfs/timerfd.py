"""timerfd objects (timerfd_create(2)): a timer on a clock, read as its count of expirations.

An anonymous-inode OpenFile kept as fs/timerfd.c keeps it: the hrtimer's
expiry, `ticks` and `expired`. Expiry is worked out from the clock when
looked at; a kernel timer (kernel/timers.py) tells the file's WaitQueue at
the expiry, so blocking reads, poll, select and epoll wait on the queue alone.
"""
import errno
import os
import struct
import time

from pylinuxabi.base.errors import SyscallError, WouldBlock
from pylinuxabi.base.waitq import WaitQueue
from pylinuxabi.vfs.file import POLLIN, AnonStreamFile
from pylinuxabi.vfs.inotify import ANON_INODE

TFD_TIMER_ABSTIME, TFD_TIMER_CANCEL_ON_SET = 1, 2
TFD_CLOEXEC, TFD_NONBLOCK = os.O_CLOEXEC, os.O_NONBLOCK
TFD_IOC_SET_TICKS = 0x40085400          # _IOW('T', 0, u64)
CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_BOOTTIME = 0, 1, 7
CLOCK_REALTIME_ALARM, CLOCK_BOOTTIME_ALARM = 8, 9
# the alarm clocks are their base clocks that would also wake a suspended machine
BASE_CLOCK = {CLOCK_REALTIME: CLOCK_REALTIME, CLOCK_MONOTONIC: CLOCK_MONOTONIC,
              CLOCK_BOOTTIME: CLOCK_BOOTTIME, CLOCK_REALTIME_ALARM: CLOCK_REALTIME,
              CLOCK_BOOTTIME_ALARM: CLOCK_BOOTTIME}
NSEC = 1_000_000_000
TICKS = struct.Struct("<Q")


class TimerFd(AnonStreamFile):
    """One timer. Times are nanoseconds of its clock; `expires` 0 is never set."""

    sized_records = True        # a read smaller than the count (even 0 bytes) is EINVAL
    has_write = False           # no write operation: EINVAL

    def __init__(self, clockid, flags, timers):
        super().__init__(None, ANON_INODE, os.O_RDWR | (flags & TFD_NONBLOCK))
        self.clockid = clockid
        self.clock = BASE_CLOCK[clockid]
        self.timers = timers        # the kernel's, which wake the queue at expiry
        self.kernel_timer = None
        self.expires = 0            # when the hrtimer fires next (or last fired)
        self.active = False         # is the hrtimer queued (to fire at `expires`)?
        self.interval = 0
        self.ticks = 0
        self.expired = False        # fired, and (if periodic) not yet forwarded by a read
        self.settime_flags = 0
        self.queue = WaitQueue()

    # -- the hrtimer ----------------------------------------------------------------------
    def now(self):
        return time.clock_gettime_ns(self.clock)

    def _fired(self):
        """Has the hrtimer fired by now? (timerfd_tmrproc: one tick; it stays stopped.)"""
        if self.active and self.now() >= self.expires:
            self.active = False
            self.expired = True
            self.ticks += 1
        return self.ticks

    def _start(self):
        self.active = True
        self._arm_kernel_timer()

    def _arm_kernel_timer(self):
        if self.kernel_timer is not None:
            self.kernel_timer.cancel()
        delay = max(0, self.expires - self.now()) / NSEC
        self.kernel_timer = self.timers.add(time.monotonic() + delay, self._kernel_timer_due)

    def _kernel_timer_due(self):
        self.kernel_timer = None
        if self._fired():
            self.queue.notify()
        elif self.active:
            self._arm_kernel_timer()    # its clock went back meanwhile (CLOCK_REALTIME)

    def _forward(self):
        """hrtimer_forward_now: move a fired periodic timer past now; returns the periods moved."""
        delta = self.now() - self.expires
        if delta < 0:
            return 0
        n = delta // self.interval + 1
        self.expires += n * self.interval
        return n

    def _catch_up(self):
        """A fired periodic timer runs on (timerfd_read/gettime): the periods missed are ticks."""
        if self.expired and self.interval:
            self.ticks += self._forward() - 1
            self._start()
        self.expired = False

    def remaining(self):
        return max(0, self.expires - self.now())

    # -- the syscalls' operations ----------------------------------------------------------
    def settime(self, flags, value, interval):
        """Arm (value != 0) or disarm; returns the old (remaining, interval)."""
        self._fired()
        if self.expired and self.interval:
            self._forward()             # so the old value given back is the next expiry
        old = (self.remaining(), self.interval)
        if self.kernel_timer is not None:
            self.kernel_timer.cancel()
            self.kernel_timer = None
        self.active = self.expired = False
        self.ticks = 0
        self.interval = interval
        self.settime_flags = flags
        self.expires = 0
        if value:
            self.expires = value if flags & TFD_TIMER_ABSTIME else self.now() + value
            self._start()
        return old

    def gettime(self):
        """(remaining, interval), a fired periodic timer moved on first."""
        self._fired()
        if self.expired and self.interval:
            self._catch_up()
        return self.remaining(), self.interval

    def read(self, count):
        if count < TICKS.size:
            raise SyscallError(errno.EINVAL)
        if not self._fired():
            if self.flags & os.O_NONBLOCK:
                raise SyscallError(errno.EAGAIN)
            raise WouldBlock([self.queue], file=self)
        self._catch_up()
        ticks, self.ticks = self.ticks, 0
        return TICKS.pack(ticks)

    def unread(self, n):
        """A fault while copying the count out: the ticks are gone all the same, as on Linux."""

    def poll(self):
        return POLLIN if self._fired() else 0

    def wait_queues(self):
        return (self.queue,)

    def ioctl(self, request, arg, task):
        """TFD_IOC_SET_TICKS: set the count of expirations (checkpoint/restore)."""
        if request != TFD_IOC_SET_TICKS:
            raise SyscallError(errno.ENOTTY)
        ticks = TICKS.unpack(task.mem.read(arg, TICKS.size))[0]
        if not ticks:
            raise SyscallError(errno.EINVAL)
        self.ticks = ticks
        self.queue.notify()
        return 0, None

    def fdinfo(self):
        self._fired()
        value, interval = self.remaining(), self.interval
        return (b"clockid: %d\nticks: %d\nsettime flags: 0%o\nit_value: (%d, %d)\nit_interval: (%d, %d)\n"
                % (self.clockid, self.ticks, self.settime_flags, value // NSEC, value % NSEC,
                   interval // NSEC, interval % NSEC))

    def path(self):
        return b"anon_inode:[timerfd]"

    def release(self):
        if self.kernel_timer is not None:
            self.kernel_timer.cancel()
            self.kernel_timer = None
