"""Pipes: a bounded byte buffer with a read end and a write end (pipe(7)).

Readers wait while it is empty and has writers; writers wait while it is
full and has readers. The last writer gone means EOF; the last reader gone
means EPIPE. Waiting is raising WouldBlock on the pipe's wait queues.
"""
import errno
import os
import stat as st

from pylinuxabi.base.abi import PAGE
from pylinuxabi.base.errors import SyscallError, WouldBlock
from pylinuxabi.base.waitq import WaitQueue
from pylinuxabi.vfs.file import O_ACCMODE, O_PATH, POLLERR, POLLHUP, POLLIN, POLLOUT, POLL_IN, POLL_OUT, POLLRDNORM, POLLWRNORM, OpenFile, StreamFile
from pylinuxabi.vfs.synthetic import SynthInode

PIPE_BUF = 4096
PIPE_DEFAULT_SIZE = 65536
PIPE_MAX_SIZE = 1048576         # /proc/sys/fs/pipe-max-size
PIPEFS_DEV = os.makedev(0, 14)


class Pipe(SynthInode):
    """The pipe object, which is also its inode (pipefs has one per pipe)."""

    cacheable_children = False

    def __init__(self, uid=0, gid=0):
        super().__init__(st.S_IFIFO | 0o600, PIPEFS_DEV, uid, gid)
        self.buffer = bytearray()
        self.capacity = PIPE_DEFAULT_SIZE
        self.readers = 0
        self.writers = 0
        self.readable = WaitQueue()     # notified when data arrives or the last writer leaves
        self.writable = WaitQueue()     # notified when room appears or the last reader leaves
        # kill_fasync: every write signals the readers, every read the writers, a close both
        self.async_in, self.async_out = WaitQueue(), WaitQueue()
        self.opened_r = self.opened_w = 0   # opens of a FIFO's ends so far (fifo_open's counters)
        self.pending = {}               # task -> (its end, the other counter) while its open waits
        self.node = None                # the FIFO's inode in a filesystem (None: an anonymous pipe)

    def stat(self):
        s = self._stat
        s.size = 0
        return s

    def open(self, dentry, flags, task):
        """The pipe opened again through /proc/<pid>/fd/N (/dev/stdin): fifo_open on its
        inode, as for a FIFO, so a reader gets a new read end of the same pipe."""
        if flags & O_PATH:
            return OpenFile(dentry, self, flags)
        return open_pipe(self, dentry, flags, task)

    def name(self):
        return b"pipe:[%d]" % self.ino

    def full(self):
        """pipe_full: no room for another page. Writers wait only then (a short write
        waits for room for all of it, up to PIPE_BUF) and poll gives no POLLOUT."""
        return self.capacity - len(self.buffer) < PIPE_BUF

    # -- what splice, tee and vmsplice do with the buffer (syscalls/splice.py) --
    def room(self):
        """Bytes that fit before the pipe is at its capacity."""
        return self.capacity - len(self.buffer)

    def wait_readable(self, nonblock, file):
        """ipipe_prep: wait while the pipe is empty and has writers (EAGAIN if nonblock)."""
        if not self.buffer and self.writers:
            if nonblock:
                raise SyscallError(errno.EAGAIN)
            raise WouldBlock([self.readable], file=file)

    def wait_writable(self, nonblock, file):
        """opipe_prep and wait_for_space: EPIPE with no reader; wait while the pipe is full."""
        if self.readers == 0:
            raise SyscallError(errno.EPIPE)
        if self.full():
            if nonblock:
                raise SyscallError(errno.EAGAIN)
            raise WouldBlock([self.writable], file=file)

    def peek(self, count):
        """Up to count bytes from the head, left where they are (tee, and splice before
        it knows how much the other side took)."""
        return bytes(self.buffer[:count])

    def consume(self, count):
        """Drop count bytes from the head, as a read that took them."""
        was_full = self.full()
        del self.buffer[:count]
        if was_full and count:
            self.writable.notify()
        self.async_out.notify()

    def push(self, data):
        """Add data that fits (room() bytes at most), as a write that put them."""
        if data:
            self.buffer += data
            self.readable.notify()
        self.async_in.notify()

    def resize(self, size, privileged):
        """F_SETPIPE_SZ: a power-of-two number of pages; EBUSY if what is queued would not fit."""
        if size > 1 << 31:
            raise SyscallError(errno.EINVAL)
        if size > PIPE_MAX_SIZE and not privileged:
            raise SyscallError(errno.EPERM)
        pages = max((size + PAGE - 1) // PAGE, 1)
        new = (1 << (pages - 1).bit_length()) * PAGE
        if new < (len(self.buffer) + PAGE - 1) // PAGE * PAGE:
            raise SyscallError(errno.EBUSY)
        self.capacity = new
        self.writable.notify()
        return new


class PipeEnd(StreamFile):
    """One end of a pipe; which one its access mode says."""

    has_fasync = True

    def __init__(self, pipe, flags, dentry=None):
        super().__init__(dentry, pipe.node or pipe, flags)
        self.pipe = pipe
        if self.readable:
            pipe.readers += 1
            pipe.opened_r += 1
        if self.writable:
            pipe.writers += 1
            pipe.opened_w += 1

    def read(self, count):
        p = self.pipe
        if not p.buffer:
            if p.writers == 0:
                return b""
            if self.flags & os.O_NONBLOCK:
                p.async_out.notify()
                raise SyscallError(errno.EAGAIN)
            raise WouldBlock([p.readable], file=self)
        was_full = p.full()
        data = bytes(p.buffer[:count])
        del p.buffer[:len(data)]
        if was_full:
            p.writable.notify()     # as pipe_read: writers wait only on a full pipe
        p.async_out.notify()
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
                p.async_in.notify()
                raise SyscallError(errno.EAGAIN)
            raise WouldBlock([p.writable], file=self)
        chunk = data[:room]
        p.buffer += chunk
        p.readable.notify()
        p.async_in.notify()
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
            if not p.full():
                events |= POLLOUT | POLLWRNORM
            if p.readers == 0:
                events |= POLLERR
        return events

    def wait_queues(self):
        p = self.pipe
        return (p.readable if self.readable else None, p.writable if self.writable else None)

    def fasync_queues(self):
        """pipe_fasync: a reader hears of every write and a writer of every read,
        whether or not it made the pipe ready."""
        p = self.pipe
        return [(q, 0, reason) for q, mine, reason in ((p.async_in, self.readable, POLL_IN),
                                                       (p.async_out, self.writable, POLL_OUT)) if mine]

    def path(self):
        return self.pipe.name() if self.dentry is None else self.dentry.path()

    def stat(self):
        return self.inode.stat()

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
        if p.readers or p.writers:
            p.async_in.notify()
            p.async_out.notify()
        if p.node is not None and p.readers == 0 and p.writers == 0:
            p.node.fifo = None          # a FIFO's buffer lives only while it is open


def make_pipe(nonblock=False, uid=0, gid=0):
    """(read end, write end) of a new pipe, whose inode is uid's and gid's (get_pipe_inode:
    the creator's fsuid and fsgid, the owner O_NOATIME asks for)."""
    pipe = Pipe(uid, gid)
    extra = os.O_NONBLOCK if nonblock else 0
    return PipeEnd(pipe, os.O_RDONLY | extra), PipeEnd(pipe, os.O_WRONLY | extra)


def open_fifo(node, dentry, flags, task):
    """Open a FIFO (a filesystem's S_IFIFO inode) as fifo_open does: a reader waits
    for a writer and a writer for a reader unless O_NONBLOCK (a writer then gets
    ENXIO); O_RDWR never waits. What a waiting open already did is kept in
    pipe.pending, so the retry after the wake-up finds it."""
    pipe = node.fifo
    if pipe is None:
        pipe = node.fifo = Pipe()
        pipe.node = node
    return open_pipe(pipe, dentry, flags, task)


def open_pipe(pipe, dentry, flags, task):
    """fifo_open of a FIFO's or an anonymous pipe's inode (pipefs's: an end of its own
    at once, whoever else has it open)."""
    if pipe.node is None:
        end = PipeEnd(pipe, flags)          # (named as every end of it: pipe:[N])
        pipe.readable.notify()
        pipe.writable.notify()
        return end
    pending = pipe.pending.pop(task, None)
    if pending is not None:
        end, seen = pending
        other = pipe.opened_w if end.readable else pipe.opened_r
        if other != seen:
            return end
        pipe.pending[task] = pending
        raise WouldBlock([pipe.readable if end.readable else pipe.writable])
    acc = flags & O_ACCMODE
    nonblock = flags & os.O_NONBLOCK
    if acc == os.O_WRONLY and nonblock and pipe.readers == 0:
        raise SyscallError(errno.ENXIO)
    end = PipeEnd(pipe, flags, dentry)
    pipe.readable.notify()
    pipe.writable.notify()
    if acc == os.O_RDONLY and pipe.writers == 0 and not nonblock:
        pipe.pending[task] = (end, pipe.opened_w)
        raise WouldBlock([pipe.readable])
    if acc == os.O_WRONLY and pipe.readers == 0:
        pipe.pending[task] = (end, pipe.opened_r)
        raise WouldBlock([pipe.writable])
    return end
