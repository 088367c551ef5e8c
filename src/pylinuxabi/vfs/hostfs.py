"""hostfs: a host directory served read-only, confined to that directory.

Host objects are opened only with openat(dirfd, one_component, O_NOFOLLOW)
from directory fds we hold, so no host path string ever leaves the root.
"""
import collections
import errno
import os
import stat as st

from pylinuxabi._native import ffi, lib
from pylinuxabi.kernel.errors import SyscallError
from pylinuxabi.vfs.file import O_ACCMODE, O_PATH, OpenFile
from pylinuxabi.vfs.inode import Inode, Stat

O_TMPFILE = 0o20000000 | os.O_DIRECTORY
MAX_IO = 8 << 20         # one read or write moves at most this much: keeps memory bounded
AT_EMPTY_PATH = 0x1000
_STAT_BUF = ffi.new("char[144]")       # the supervisor is single-threaded: one buffer serves


# the non-root HostInodes holding a dir fd, least recently used first
_open_dirs = collections.OrderedDict()
MAX_OPEN_DIRS = 1024


def _host_error(e):
    return SyscallError(e.errno or errno.EIO)


class HostInode(Inode):
    """A host file, named by its parent's dir fd and its name in that directory."""

    __slots__ = ("fs", "parent", "name", "_type", "_dirfd")

    readonly = True

    def __init__(self, fs, parent, name, mode):
        self.fs = fs
        self.parent = parent
        self.name = name
        self._type = st.S_IFMT(mode)
        self._dirfd = None

    def dirfd(self):
        """Our O_PATH fd of this directory: opened on first use and kept while it is
        among the MAX_OPEN_DIRS most recently used (a tree walk must not run us out of fds)."""
        fd = self._dirfd
        if fd is not None:
            if self.parent is not None:
                _open_dirs.move_to_end(self)
            return fd
        try:
            fd = os.open(self.name, os.O_PATH | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC,
                         dir_fd=self.parent.dirfd())
        except OSError as e:
            raise _host_error(e)
        self._dirfd = fd
        _open_dirs[self] = None
        if len(_open_dirs) > MAX_OPEN_DIRS:
            old, _ = _open_dirs.popitem(last=False)
            os.close(old._dirfd)
            old._dirfd = None
        return fd

    @property
    def mode(self):
        return self._type

    def at(self):
        """(dir fd, name) that name this object to the host's *at() calls ("" = the root dir itself)."""
        if self.parent is None:
            return self.dirfd(), b""
        return self.parent.dirfd(), self.name

    def _host_call(self, fn, size, *extra):
        """Run a native host_* call that fills a buffer of `size` bytes; returns the bytes."""
        buf = ffi.new("char[]", size)
        dirfd, name = self.at()
        r = fn(dirfd, name, *extra, buf)
        if r < 0:
            raise SyscallError(-r)
        return ffi.buffer(buf, size)[:]

    def is_dir(self):
        return self._type == st.S_IFDIR

    def is_symlink(self):
        return self._type == st.S_IFLNK

    def host_stat(self):
        try:
            if self.parent is None:
                return os.stat(self.dirfd())
            return os.stat(self.name, dir_fd=self.parent.dirfd(), follow_symlinks=False)
        except OSError as e:
            raise _host_error(e)

    def stat(self):
        return Stat.from_host(self.host_stat())

    def stat_raw(self):
        dirfd, name = self.at()
        r = lib.host_stat(dirfd, name, _STAT_BUF)         # the hot path: no buffer allocation
        if r < 0:
            raise SyscallError(-r)
        return ffi.buffer(_STAT_BUF, 144)[:]

    def _proc_path(self):
        """Our own /proc/self/fd/N/name for this object: the kernel walks one component from a dir fd we hold."""
        if self.parent is None:
            return f"/proc/self/fd/{self.dirfd()}"
        return f"/proc/self/fd/{self.parent.dirfd()}/".encode() + self.name

    def getxattr(self, name):
        try:
            return os.getxattr(self._proc_path(), name, follow_symlinks=False)
        except OSError as e:
            raise _host_error(e)

    def listxattr(self):
        try:
            return [n.encode() for n in os.listxattr(self._proc_path(), follow_symlinks=False)]
        except OSError as e:
            raise _host_error(e)

    def statfs(self):
        return self._host_call(lib.host_statfs, 120)

    def statx(self, mask):
        """Raw struct statx from the host (fields as Linux fills them, btime included)."""
        return self._host_call(lib.host_statx, 256, 0 if self.parent else AT_EMPTY_PATH, mask)

    def lookup(self, name):
        if self._type != st.S_IFDIR:
            raise SyscallError(errno.ENOTDIR)
        if name in (b".", b"..") or b"/" in name:
            raise SyscallError(errno.EINVAL)    # the walk handles these; never let the host do it
        try:
            s = os.stat(name, dir_fd=self.dirfd(), follow_symlinks=False)
        except OSError as e:
            raise _host_error(e)
        return HostInode(self.fs, self, name, s.st_mode)

    def readlink(self):
        if self._type != st.S_IFLNK:
            raise SyscallError(errno.EINVAL)
        try:
            return os.readlink(self.name, dir_fd=self.parent.dirfd())
        except OSError as e:
            raise _host_error(e)

    def open(self, dentry, flags, task):
        if flags & O_PATH:
            return OpenFile(dentry, self, flags)
        if (flags & O_ACCMODE) != os.O_RDONLY or flags & os.O_TRUNC \
                or flags & O_TMPFILE == O_TMPFILE:
            raise SyscallError(errno.EROFS)
        if self._type not in (st.S_IFREG, st.S_IFDIR):
            # devices, fifos and sockets of the host are not ours to open (as on a nodev mount)
            raise SyscallError(errno.EACCES)
        host_flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NOCTTY
        if self._type == st.S_IFDIR:
            host_flags |= os.O_DIRECTORY
        try:
            if self.parent is None:
                fd = os.open(".", host_flags, dir_fd=self.dirfd())
            else:
                fd = os.open(self.name, host_flags, dir_fd=self.parent.dirfd())
        except OSError as e:
            raise _host_error(e)
        cls = HostDirFile if self._type == st.S_IFDIR else HostFile
        return cls(dentry, self, flags, fd)


class HostFile(OpenFile):
    """An open regular host file: data through our own host fd."""

    supports_direct = True

    def __init__(self, dentry, inode, flags, fd):
        super().__init__(dentry, inode, flags)
        self.fd = fd

    def pread(self, count, offset):
        try:
            return os.pread(self.fd, min(count, MAX_IO), offset)
        except OSError as e:
            raise _host_error(e)

    def lseek(self, offset, whence):
        if whence in (os.SEEK_DATA, os.SEEK_HOLE):
            try:
                self.offset = os.lseek(self.fd, offset, whence)
            except OSError as e:
                raise _host_error(e)
            return self.offset
        return super().lseek(offset, whence)

    def fionread(self):
        return os.fstat(self.fd).st_size - self.offset     # negative past EOF, as Linux

    def mmap_fd(self):
        return self.fd

    def release(self):
        os.close(self.fd)


class HostDirFile(OpenFile):
    """An open host directory: entries straight from the host's getdents64, in its order."""

    def __init__(self, dentry, inode, flags, fd):
        super().__init__(dentry, inode, flags)
        self.fd = fd

    def pread(self, count, offset):
        raise SyscallError(errno.EISDIR)

    def pwrite(self, data, offset):
        raise SyscallError(errno.EISDIR)

    def lseek(self, offset, whence):
        try:
            self.offset = os.lseek(self.fd, offset, whence)
        except OSError as e:
            raise _host_error(e)
        return self.offset

    def getdents64(self, size):
        size = min(size, 1 << 20)
        buf = ffi.new("char[]", size)
        n = lib.host_getdents64(self.fd, buf, size)
        if n < 0:
            raise SyscallError(-n)
        return ffi.buffer(buf, n)[:]

    def release(self):
        os.close(self.fd)


class HostFS:
    """One host directory tree; root() is its top inode."""

    def __init__(self, host_path):
        try:
            fd = os.open(host_path, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
        except OSError as e:
            raise OSError(e.errno, f"cannot serve {host_path}: {e.strerror}")
        self.root_inode = HostInode(self, None, b"/", st.S_IFDIR)
        self.root_inode._dirfd = fd
