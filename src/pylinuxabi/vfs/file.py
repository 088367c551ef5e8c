"""Open file descriptions: one OpenFile per open(), shared by dup and fork.

The operations the read/write/seek/ioctl/poll/mmap syscalls call into.
"""
import errno
import os

from pylinuxabi.base.errors import SyscallError
from pylinuxabi.vfs import writecount

O_ACCMODE = 3
POLLIN, POLLPRI, POLLOUT, POLLERR, POLLHUP, POLLNVAL = 0x1, 0x2, 0x4, 0x8, 0x10, 0x20
POLLRDNORM, POLLWRNORM = 0x40, 0x100
POLL_IN, POLL_OUT = 1, 2            # the si_code of an O_ASYNC signal (F_SETSIG): why it came
O_PATH = 0o10000000
O_LARGEFILE = 0o100000
MAX_LFS_FILESIZE = (1 << 63) - 1        # the largest file size and offset
# the status flags F_SETFL may change (O_ASYNC is the fasync operation's, where there is one)
SETFL_MASK = os.O_APPEND | os.O_NONBLOCK | os.O_DIRECT | os.O_NOATIME


class OpenFile:
    """Base open file: every operation fails as Linux does for an object without it."""

    discards_writes = False     # /dev/null: writes never look at the buffer
    has_read = True             # a read (write) operation, FMODE_CAN_READ (_WRITE): without one,
    has_write = True            # read and readv (write, writev) are EINVAL, buffers unlooked at
    host_backed = False         # readiness comes from a host fd (no queue tells us of changes)
    supports_direct = False     # may O_DIRECT be set (the filesystem has direct I/O)?
    sized_records = False       # reads return whole records: a 0-byte read is EINVAL, not 0 (inotify)
    write_record = None         # each write is one record of exactly this size, checked before its
                                # data is read; writev makes one write per iovec (eventfd)
    whole_writes = False        # a write is one message, never cut into pieces (datagram sockets)
    wake_signals = 0            # signals whose arrival changes poll(): a wait on the file takes
                                # them rather than being interrupted (signalfd)
    tty_rdev = None             # a host terminal: its device number (its I/O may be the host's own)
    getfl_cloexec = False       # F_GETFL shows O_CLOEXEC: opened by dentry_open with it (TIOCGPTPEER),
                                # where open(2) strips it (build_open_flags)
    created = False             # FMODE_CREATED: the open made the file (F_CREATED_QUERY)
    write_key = None            # a regular file opened for writing: its writecount key
    run_key = None              # an executable an exec holds: its writecount key
    has_fasync = False          # does O_ASYNC make it signal its owner (vfs/fasync.py)?

    def __init__(self, dentry, inode, flags):
        self.dentry = dentry
        self.inode = inode
        self.flags = flags
        self.offset = 0
        self.refs = 0

    # -- access -------------------------------------------------------------
    @property
    def readable(self):
        return not self.flags & O_PATH and (self.flags & O_ACCMODE) in (os.O_RDONLY, os.O_RDWR)

    @property
    def writable(self):
        return not self.flags & O_PATH and (self.flags & O_ACCMODE) in (os.O_WRONLY, os.O_RDWR)

    def check_readable(self):
        if not self.readable:
            raise SyscallError(errno.EBADF)

    def check_writable(self):
        if not self.writable:
            raise SyscallError(errno.EBADF)

    # -- data -----------------------------------------------------------------
    def read(self, count):
        """Read at the file offset and advance it."""
        data = self.pread(count, self.offset)
        self.offset += len(data)
        return data

    def unread(self, n):
        """The last read's final n bytes never reached the program (a fault): give them back."""
        if self.seekable():
            self.offset -= n

    def write(self, data):
        if self.flags & os.O_APPEND:
            self.offset = self.stat().size
        n = self.pwrite(data, self.offset)
        self.offset += n
        return n

    def write_message(self, length, fetch):
        """write(2) of a file with whole_writes: the length bytes fetch() reads, as one."""
        return self.write(fetch())

    def pread(self, count, offset):
        raise SyscallError(errno.EINVAL)

    def pwrite(self, data, offset):
        raise SyscallError(errno.EINVAL)

    def seekable(self):
        return True

    def lseek(self, offset, whence):
        if whence == os.SEEK_SET:
            new = offset
        elif whence == os.SEEK_CUR:
            new = self.offset + offset
        elif whence == os.SEEK_END:
            new = self.stat().size + offset
        elif whence in (os.SEEK_DATA, os.SEEK_HOLE):
            size = self.stat().size
            if offset < 0 or offset >= size:
                raise SyscallError(errno.ENXIO)
            new = offset if whence == os.SEEK_DATA else size
        else:
            raise SyscallError(errno.EINVAL)
        if new < 0:
            raise SyscallError(errno.EINVAL)
        self.offset = new
        return new

    def fsync(self, datasync):
        """Write the data (and with datasync=False the metadata) back: only files kept
        on the host's disks (a writable hostfs) have anything to write."""

    def poll(self):
        """Ready events now (POLLIN, POLLOUT, POLLHUP…): files that never wait are always ready."""
        return POLLIN | POLLRDNORM | POLLOUT | POLLWRNORM

    def wait_queues(self):
        """Queues notified when poll() may change (none for files that never wait)."""
        return ()

    def fasync_queues(self):
        """(queue, events, reason) triples O_ASYNC listens on (vfs/fasync.py): a wake-up
        of the queue signals the owner if the file then has one of the events (0:
        always), with the POLL_* reason F_SETSIG's siginfo gives. By default the input
        (POLL_IN) and output (POLL_OUT) sides of wait_queues()."""
        sides = ((POLLIN | POLLHUP, POLL_IN), (POLLOUT, POLL_OUT))
        return [(q, ready, reason) for q, (ready, reason) in zip(self.wait_queues(), sides) if q is not None]

    def host_waits(self, events):
        """The (host fd, poll events) pairs whose readiness may end a wait on this
        file for `events` (the host waker, DESIGN §4): none for a file the model's
        queues wake, None for a host-backed one that must be looked at again."""
        return None if self.host_backed else []

    def can_poll(self):
        """Has the file a poll operation of its own (file_can_poll)? epoll refuses one
        without (EPERM); poll and select see it always ready."""
        return type(self).poll is not OpenFile.poll

    def getdents64(self, size):
        """Raw linux_dirent64 records that fit in `size` bytes."""
        raise SyscallError(errno.ENOTDIR)

    def ioctl(self, request, arg, task):
        """Returns (result, bytes to write at arg or None). ENOTTY when unknown."""
        raise SyscallError(errno.ENOTTY)

    def fionread(self):
        raise SyscallError(errno.ENOTTY)

    def inq_hint(self):
        """What a socket's recvmsg reports in msg_inq (io_uring's IORING_CQE_F_SOCK_NONEMPTY):
        the bytes still queued."""
        return self.fionread()

    def stat(self):
        return self.inode.stat()

    def mmap_fd(self):
        """A host fd the process can map, or None to map anonymous zero pages."""
        raise SyscallError(errno.ENODEV)

    def mmap_region(self, offset, length):
        """(host fd, offset in it) that an mmap of `length` bytes at `offset` maps: the
        file's own bytes, unless it lays out regions of its own (io_uring's rings)."""
        return self.mmap_fd(), offset

    def fdinfo(self):
        """Lines of /proc/<pid>/fdinfo/<fd> after pos, flags, mnt_id and ino."""
        return b""

    def path(self):
        """The name /proc/self/fd shows."""
        return self.dentry.path() if self.dentry is not None else b"anon_inode:[unknown]"

    # -- references (Linux's get_file/fput) ----------------------------------------
    def get(self):
        """Another reference: an fd, a syscall waiting on the file (as fdget keeps it
        open while other threads close or replace its fd), a message carrying it."""
        self.refs += 1

    def put(self):
        """Drop a reference; the last one closes the file: off every epoll watching
        it (eventpoll_release), IN_CLOSE_* (before anything is released), its OFD and
        flock locks, then release()."""
        self.refs -= 1
        if self.refs == 0:
            from pylinuxabi.vfs import epoll, fasync, fsnotify, locks      # (they build on this module)
            epoll.release_file(self)
            if self.flags & os.O_ASYNC:
                fasync.off(self)
            if fsnotify.active:
                fsnotify.closed(self)
            locks.release_file(self.inode, self)
            if self.write_key is not None:
                writecount.put_write(self.write_key)
            self.release()

    def flush(self, files):
        """An fd of the fd table `files` no longer names the file (f_op->flush, at every
        close, not only the last): POSIX message queues drop the closer's mq_notify."""

    def release(self):
        """The last reference is gone."""


class StreamFile(OpenFile):
    """An open file that is a stream (pipes, sockets): no seeking (no_llseek), no
    positioned I/O."""

    def seekable(self):
        return False

    def lseek(self, offset, whence):
        raise SyscallError(errno.ESPIPE)

    def pread(self, count, offset):
        raise SyscallError(errno.ESPIPE)

    def pwrite(self, data, offset):
        raise SyscallError(errno.ESPIPE)

    def fsync(self, datasync):
        raise SyscallError(errno.EINVAL)        # pipes, FIFOs and sockets have no fsync operation


class AnonStreamFile(StreamFile):
    """A stream on an anonymous inode (inotify, eventfd, signalfd, timerfd, epoll):
    lseek succeeds and leaves the offset where it is (noop_llseek)."""

    def lseek(self, offset, whence):
        return self.offset
