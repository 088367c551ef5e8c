"""Host-backed files: the program's stdio and the terminal lent to it, shared with the user's shell.

We read and write through our own dup of the host fd and never change its
status flags (no O_NONBLOCK: the shell shares the file description).
"""
import errno
import fcntl
import os
import select
import stat as st
import termios

from pylinuxabi.base.errors import SyscallError, WouldBlock
from pylinuxabi.vfs.file import O_PATH, OpenFile
from pylinuxabi.vfs.hostfs import MAX_IO
from pylinuxabi.vfs.inode import Inode, Stat

RECHECK = 0.02             # seconds between looks at a host fd the host waker cannot watch
ALL_POLL_EVENTS = (select.POLLIN | select.POLLPRI | select.POLLOUT | select.POLLRDNORM | select.POLLRDBAND
                   | select.POLLWRNORM | select.POLLWRBAND | select.POLLRDHUP)
# ioctls answered by the host terminal itself: request → size of the struct at arg
TTY_READ_IOCTLS = {termios.TCGETS: 36, termios.TIOCGWINSZ: 8}     # kernel struct termios is 36 bytes


class HostFdInode(Inode):
    """The inode behind a host fd: metadata straight from fstat."""

    def __init__(self, fd, name):
        self.fd = fd
        self.name = name

    def stat(self):
        try:
            return Stat.from_host(os.fstat(self.fd))
        except OSError as e:
            raise SyscallError(e.errno)

    def open(self, dentry, flags, task):
        """Reopening (/dev/stdin, /proc/self/fd/N) shares the host object."""
        try:
            dup = os.dup(self.fd)
        except OSError as e:
            raise SyscallError(e.errno)
        f = HostStreamFile(dup, flags, self.name)
        f.dentry = dentry
        return f


class HostStreamFile(OpenFile):
    """An open host stream (terminal, pipe, file) we were handed.

    The host object may not be ready (a terminal with nothing typed, a full
    pipe): then the syscall waits like any other (WouldBlock) until the
    host waker sees the host fd ready, and the supervisor goes on serving
    the program's other threads and processes meanwhile.
    """

    host_backed = True          # waiting for it means asking the host again later

    def __init__(self, fd, flags, name):
        super().__init__(None, HostFdInode(fd, name), flags)
        self.fd = fd
        self.name = name
        info = os.fstat(fd)                 # a host object's type does not change: ask once
        self._seekable = st.S_ISREG(info.st_mode) or st.S_ISBLK(info.st_mode)
        if st.S_ISCHR(info.st_mode) and os.isatty(fd):
            self.tty_rdev = info.st_rdev

    def _is_seekable(self):
        return self._seekable

    def fsync(self, datasync):
        # the host object's own answer: a regular file syncs, a pipe or terminal is EINVAL
        try:
            (os.fdatasync if datasync else os.fsync)(self.fd)
        except OSError as e:
            raise SyscallError(e.errno)

    def seekable(self):
        return self._is_seekable()

    def _wait(self, for_write):
        """Return when the host fd is ready, or raise EAGAIN / WouldBlock."""
        if self._seekable:
            return                          # files and block devices never make one wait
        if for_write:
            ready = select.select([], [self.fd], [], 0)[1]
        else:
            ready = select.select([self.fd], [], [], 0)[0]
        if ready:
            return
        if self.flags & os.O_NONBLOCK:
            raise SyscallError(errno.EAGAIN)
        raise WouldBlock(recheck=RECHECK, host=self.host_waits(select.POLLOUT if for_write else select.POLLIN))

    def host_waits(self, events):
        return [] if self._seekable else [(self.fd, events)]

    def read(self, count):
        self._wait(False)
        try:
            return os.read(self.fd, min(count, MAX_IO))
        except OSError as e:
            raise SyscallError(e.errno)

    def write(self, data):
        self._wait(True)
        try:
            return os.write(self.fd, data)
        except BrokenPipeError:
            raise SyscallError(errno.EPIPE)
        except OSError as e:
            raise SyscallError(e.errno)

    def pread(self, count, offset):
        if not self._is_seekable():
            raise SyscallError(errno.ESPIPE)
        try:
            return os.pread(self.fd, min(count, MAX_IO), offset)
        except OSError as e:
            raise SyscallError(e.errno)

    def pwrite(self, data, offset):
        if not self._is_seekable():
            raise SyscallError(errno.ESPIPE)
        try:
            return os.pwrite(self.fd, data, offset)
        except OSError as e:
            raise SyscallError(e.errno)

    def lseek(self, offset, whence):
        try:
            return os.lseek(self.fd, offset, whence)
        except OSError as e:
            raise SyscallError(e.errno)

    def stat(self):
        return self.inode.stat()

    def poll(self):
        """Readiness of the host object, asked of the host's poll without waiting:
        hang-ups and errors included, which select cannot tell (an empty pipe with
        no writer left is POLLHUP alone, where select says readable)."""
        p = select.poll()
        p.register(self.fd, ALL_POLL_EVENTS)
        events = p.poll(0)
        return events[0][1] if events else 0

    def fionread(self):
        try:
            return int.from_bytes(fcntl.ioctl(self.fd, termios.FIONREAD, bytes(4)), "little", signed=True)
        except OSError as e:
            raise SyscallError(e.errno)

    def ioctl(self, request, arg, task):
        size = TTY_READ_IOCTLS.get(request)
        if size is None:
            raise SyscallError(errno.ENOTTY)
        try:
            return 0, fcntl.ioctl(self.fd, request, bytes(size))
        except OSError as e:
            raise SyscallError(e.errno)

    def mmap_fd(self):
        if not self._is_seekable():
            raise SyscallError(errno.ENODEV)
        return self.fd

    def path(self):
        return self.name

    def release(self):
        os.close(self.fd)


def host_stdio(fd):
    """Our own dup of the supervisor's fd `fd`, as the program's open file (None if closed)."""
    try:
        dup = os.dup(fd)
    except OSError:
        return None
    os.set_inheritable(dup, False)
    flags = fcntl.fcntl(dup, fcntl.F_GETFL)
    try:
        name = os.readlink(f"/proc/self/fd/{fd}").encode()
    except OSError:
        name = b"?"
    if name.startswith(b"/") and not name.startswith(b"/dev/"):
        name = b"/dev/stdin" if fd == 0 else name        # a host path is not a name the program can use
    return HostStreamFile(dup, flags & ~os.O_NONBLOCK, name)


def reopen_lent(terminal, flags):
    """A new host open of the terminal lent to the program (our host fd `terminal`):
    a description of its own, as an open of its name gives. Its I/O and ioctls the
    host runs on TTY_FD (syscalls/terminal.py), as the file's tty_rdev says."""
    acc = flags & 3
    try:
        return os.open(f"/proc/self/fd/{terminal}", (os.O_RDWR if acc == 3 else acc) | os.O_NOCTTY | os.O_CLOEXEC)
    except OSError as e:
        raise SyscallError(e.errno)


class LentTerminalNode(HostFdInode):
    """The lent terminal under its host name (/dev/pts/N) in the sandbox's /dev or
    /dev/pts. It stats as the host object, as the program's stdio on it does, so that
    ttyname's check (same dev, ino and rdev) holds and `tty` and `ps` name it as natively."""

    def open(self, dentry, flags, task):
        if flags & O_PATH:
            return OpenFile(dentry, self, flags)
        f = HostStreamFile(reopen_lent(self.fd, flags), flags, self.name)
        f.dentry = dentry
        f.inode = self
        return f


class TtyFile(HostStreamFile):
    """/dev/tty of a process whose controlling terminal is the lent one: that terminal
    (so the host runs its I/O and ioctls, job control included), shown as the
    /dev/tty node (c 5:0) as Linux's tty_open shows it."""

    def __init__(self, dentry, inode, flags, terminal):
        super().__init__(reopen_lent(terminal, flags), flags, b"/dev/tty")
        self.dentry = dentry
        self.inode = inode
