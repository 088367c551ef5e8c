"""eventfd objects (eventfd(2)): a 64-bit counter read and written 8 bytes at a time.

An anonymous-inode OpenFile (fs/eventfd.c): reads wait while the counter is
zero and writes while it would pass 0xfffffffffffffffe, on its WaitQueue.
"""
import errno
import os
import struct

from pylinuxabi.base.errors import SyscallError, WouldBlock
from pylinuxabi.base.waitq import WaitQueue
from pylinuxabi.vfs.file import POLLERR, POLLIN, POLLOUT, AnonStreamFile
from pylinuxabi.vfs.inotify import ANON_INODE

EFD_SEMAPHORE = 1
EFD_CLOEXEC, EFD_NONBLOCK = os.O_CLOEXEC, os.O_NONBLOCK
ULLONG_MAX = (1 << 64) - 1
COUNT = struct.Struct("<Q")

_ids = set()        # eventfd-id values in use: the lowest free one is next (ida_alloc)


def _new_id():
    n = 0
    while n in _ids:
        n += 1
    _ids.add(n)
    return n


class EventFd(AnonStreamFile):
    """One eventfd: its counter, and the queue its readers and writers wait on."""

    sized_records = True        # a read smaller than the counter (even 0 bytes) is EINVAL
    write_record = COUNT.size   # each write is exactly one counter value (eventfd_write)

    def __init__(self, count, flags):
        super().__init__(None, ANON_INODE, os.O_RDWR | (flags & EFD_NONBLOCK))
        self.count = count
        self.semaphore = bool(flags & EFD_SEMAPHORE)
        self.queue = WaitQueue()
        self.id = _new_id()

    def read(self, count):
        """The counter (reset to 0), or 1 (taken from it) for EFD_SEMAPHORE."""
        if count < COUNT.size:
            raise SyscallError(errno.EINVAL)
        if self.count == 0:
            if self.flags & os.O_NONBLOCK:
                raise SyscallError(errno.EAGAIN)
            raise WouldBlock([self.queue], file=self)
        value = 1 if self.semaphore else self.count
        self.count -= value
        self.queue.notify()
        return COUNT.pack(value)

    def unread(self, n):
        """A fault while copying the value out: it is gone all the same, as on Linux."""

    def write(self, data):
        """Add the value: EINVAL for ULLONG_MAX; waits while the sum would reach it."""
        if len(data) != COUNT.size:
            raise SyscallError(errno.EINVAL)
        value = COUNT.unpack(data)[0]
        if value == ULLONG_MAX:
            raise SyscallError(errno.EINVAL)
        if ULLONG_MAX - self.count <= value:
            if self.flags & os.O_NONBLOCK:
                raise SyscallError(errno.EAGAIN)
            raise WouldBlock([self.queue], file=self)
        self.count += value
        self.queue.notify()
        return COUNT.size

    def signal(self):
        """eventfd_signal from the kernel's side (an io_uring completion): one more, the
        readers told; a counter at its maximum stays there."""
        if self.count < ULLONG_MAX - 1:
            self.count += 1
        self.queue.notify()

    def poll(self):
        """As eventfd_poll: no POLLRDNORM/POLLWRNORM; POLLERR once the counter overflowed."""
        events = 0
        if self.count > 0:
            events |= POLLIN
        if self.count == ULLONG_MAX:
            events |= POLLERR
        if ULLONG_MAX - 1 > self.count:
            events |= POLLOUT
        return events

    def wait_queues(self):
        return (self.queue,)

    def fdinfo(self):
        return b"eventfd-count: %16x\neventfd-id: %d\neventfd-semaphore: %d\n" % (
            self.count, self.id, self.semaphore)

    def path(self):
        return b"anon_inode:[eventfd]"

    def release(self):
        _ids.discard(self.id)
