"""Pipes: a bounded byte buffer with a read end and a write end (pipe(7)).

Readers wait while it is empty and has writers; writers wait while it is
full and has readers. The last writer gone means EOF; the last reader gone
means EPIPE. Waiting is raising WouldBlock on the pipe's wait queues.
"""
import errno
import os
import stat as st

from pylinuxabi.kernel.errors import SyscallError, WouldBlock
from pylinuxabi.kernel.waitq import WaitQueue
from pylinuxabi.vfs.file import POLLERR, POLLHUP, POLLIN, POLLOUT, POLLRDNORM, POLLWRNORM, OpenFile
from pylinuxabi.vfs.synthetic import SynthInode

PIPE_BUF = 4096
PIPE_DEFAULT_SIZE = 65536
PIPEFS_DEV = os.makedev(0, 14)


class Pipe(SynthInode):
    """The pipe object, which is also its inode (pipefs has one per pipe)."""

    cacheable_children = False

    def __init__(self):
        super().__init__(st.S_IFIFO | 0o600, PIPEFS_DEV)
        self.buffer = bytearray()
        self.capacity = PIPE_DEFAULT_SIZE
        self.readers = 0
        self.writers = 0
        self.readable = WaitQueue()     # notified when data arrives or the last writer leaves
        self.writable = WaitQueue()     # notified when room appears or the last reader leaves

    def stat(self):
        s = self._stat
        s.size = 0
        return s

    def name(self):
        return b"pipe:[%d]" % self.ino


class PipeEnd(OpenFile):
    """One end of a pipe; which one its access mode says."""

    def __init__(self, pipe, flags):
        super().__init__(None, pipe, flags)
        self.pipe = pipe
        if self.readable:
            pipe.readers += 1
        if self.writable:
            pipe.writers += 1

    def seekable(self):
        return False

    def lseek(self, offset, whence):
        raise SyscallError(errno.ESPIPE)

    def pread(self, count, offset):
        raise SyscallError(errno.ESPIPE)

    def pwrite(self, data, offset):
        raise SyscallError(errno.ESPIPE)

    def read(self, count):
        p = self.pipe
        if not p.buffer:
            if p.writers == 0:
                return b""
            if self.flags & os.O_NONBLOCK:
                raise SyscallError(errno.EAGAIN)
            raise WouldBlock([p.readable])
        data = bytes(p.buffer[:count])
        del p.buffer[:len(data)]
        p.writable.notify()
        return data

    def write(self, data):
        """Takes up to PIPE_BUF bytes whole or not at all; longer writes as much as fits
        (syscalls' write_all waits for room for the rest)."""
        p = self.pipe
        if p.readers == 0:
            raise SyscallError(errno.EPIPE)
        if not data:
            return 0
        room = p.capacity - len(p.buffer)
        if room < min(len(data), PIPE_BUF) or room == 0:
            if self.flags & os.O_NONBLOCK:
                raise SyscallError(errno.EAGAIN)
            raise WouldBlock([p.writable])
        chunk = data[:room]
        p.buffer += chunk
        p.readable.notify()
        return len(chunk)

    def fionread(self):
        return len(self.pipe.buffer)

    def poll(self):
        """As pipe_poll: data or no writers for the read end; room or no readers for the write end."""
        p = self.pipe
        events = 0
        if self.readable:
            if p.buffer:
                events |= POLLIN | POLLRDNORM
            if p.writers == 0:
                events |= POLLHUP
        if self.writable:
            if p.capacity - len(p.buffer) >= PIPE_BUF:
                events |= POLLOUT | POLLWRNORM
            if p.readers == 0:
                events |= POLLERR
        return events

    def wait_queues(self):
        p = self.pipe
        return (p.readable if self.readable else None, p.writable if self.writable else None)

    def path(self):
        return self.pipe.name()

    def release(self):
        p = self.pipe
        if self.readable:
            p.readers -= 1
            if p.readers == 0:
                p.writable.notify()
        if self.writable:
            p.writers -= 1
            if p.writers == 0:
                p.readable.notify()


def make_pipe(nonblock=False):
    """(read end, write end) of a new pipe."""
    pipe = Pipe()
    extra = os.O_NONBLOCK if nonblock else 0
    return PipeEnd(pipe, os.O_RDONLY | extra), PipeEnd(pipe, os.O_WRONLY | extra)
