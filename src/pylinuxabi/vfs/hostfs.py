"""hostfs: a host directory served read-only or writable, confined to that directory.

Host objects are reached only through *at() calls on directory fds we hold,
one component at a time and never through a host symlink (O_NOFOLLOW,
AT_SYMLINK_NOFOLLOW), so no host path string ever leaves the root.

Writable hostfs (`-v HOST:GUEST`, and the `--upper` layer of the overlay)
changes the host directory itself. Ownership maps ids as a user namespace
would map them identically: the program's virtual uid 0 is the host's root,
and what the program creates is chowned to its virtual fsuid/fsgid (the
group as inode_init_owner chooses it: a setgid directory passes on its own).
Run by another user, the supervisor is root only of its own user namespace,
where only its own ids map: what the program creates is then that user's.

A HostInode names its object by (parent's dir fd, name). HostFS keeps one
live object per name, so that rename and unlink can move or detach the
objects the VFS still holds: a detached object (unlinked, replaced, or an
O_TMPFILE file) is then reached through an O_PATH fd of its own.

A served tree never enters the host's kernel interfaces: where a host
filesystem such as proc, sysfs or devtmpfs is mounted under a served directory
(the host's /proc under the lower /, reached by any bind the program makes),
our tree shows an empty, read-only directory (SealedHostInode) and no host
object under it is ever opened. Host device nodes are never opened either:
one of the devices the model has is the model's, any other is EACCES.
"""
import collections
import ctypes
import errno
import fcntl
import os
import stat as st
import struct
import weakref

from pylinuxabi._native import ffi, lib
from pylinuxabi.base.creds import CAP_FSETID
from pylinuxabi.base.errors import SyscallError
from pylinuxabi.vfs.file import O_ACCMODE, O_PATH, OpenFile
from pylinuxabi.vfs.hostcopy import copy_file
from pylinuxabi.vfs.inode import (FS_IOC_GETFLAGS, FS_IOC_SETFLAGS, RENAME_EXCHANGE, RENAME_NOREPLACE, S_ISGID,
                                  S_ISUID, Inode, Stat)

O_TMPFILE = 0o20000000 | os.O_DIRECTORY
MAX_IO = 8 << 20         # one read or write moves at most this much: keeps memory bounded
AT_EMPTY_PATH = 0x1000
_STAT_BUF = ffi.new("char[144]")       # the supervisor is single-threaded: one buffer serves
# the open flags we pass on to the host: the rest are the model's (O_APPEND, O_NONBLOCK…)
HOST_OPEN_FLAGS = O_ACCMODE | os.O_SYNC | os.O_DSYNC
OPEN_NOFOLLOW = os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NOCTTY | os.O_NONBLOCK


# host filesystems that are the kernel's interfaces rather than data: served trees stay out
SEALED_FS_TYPES = frozenset((
    b"proc", b"sysfs", b"devtmpfs", b"devpts", b"cgroup", b"cgroup2", b"debugfs", b"tracefs",
    b"securityfs", b"bpf", b"mqueue", b"binfmt_misc", b"hugetlbfs", b"configfs", b"fusectl",
    b"pstore", b"efivarfs", b"autofs", b"nsfs", b"rpc_pipefs", b"selinuxfs", b"smackfs",
    b"apparmorfs", b"resctrl", b"binder", b"nfsd", b"pidfs", b"usbfs", b"xenfs", b"cpuset",
    b"ipathfs", b"qibfs", b"oprofilefs", b"functionfs", b"gadgetfs", b"spufs", b"zonefs",
    b"rdma", b"dmabuf", b"anon_inodefs", b"sockfs", b"pipefs"))
# their statfs f_type, for a device our mountinfo does not name (a btrfs subvolume's)
SEALED_FS_MAGICS = frozenset((
    0x9FA0, 0x62656572, 0x1CD1, 0x27E0EB, 0x63677270, 0x64626720, 0x74726163, 0x73636673,
    0xCAFE4A11, 0x19800202, 0x42494E4D, 0x958458F6, 0x62656570, 0x65735543, 0x6165676C,
    0xDE5E81E4, 0x0187, 0x6E736673, 0x67596969, 0xF97CFF8C, 0x43415D53, 0x7655821,
    0x6C6F6F70, 0x6E667364, 0x50494446, 0x9FA2, 0xABBA1974, 0x09041934, 0x534F434B, 0x50495045))


def _mount_types():
    """{st_dev: filesystem type} of the mounts of our own mount namespace (private since
    we started: the host's later mounts never reach it)."""
    types = {}
    try:
        with open("/proc/self/mountinfo", "rb") as f:
            for line in f:
                fields = line.split()
                sep = fields.index(b"-")
                major, minor = fields[2].split(b":")
                types[os.makedev(int(major), int(minor))] = fields[sep + 1]
    except (OSError, ValueError):
        pass
    return types


class _Boundary:
    """Which host filesystems (by st_dev) served trees stay out of: decided once per device."""

    def __init__(self):
        self.sealed = {}
        self.types = None

    def is_sealed(self, dev, dirfd, name):
        sealed = self.sealed.get(dev)
        if sealed is None:
            sealed = self._decide(dev, dirfd, name)
            if sealed is None:
                return True                 # what we cannot tell we do not enter (this time)
            self.sealed[dev] = sealed
        return sealed

    def _decide(self, dev, dirfd, name):
        if self.types is None or dev not in self.types:
            self.types = _mount_types()
        kind = self.types.get(dev)
        if kind is not None:
            return kind in SEALED_FS_TYPES
        # not a mount of ours (a subvolume's own device): ask the filesystem; devtmpfs
        # shares tmpfs's magic, but is always a mount that mountinfo names
        buf = ffi.new("char[120]")
        if lib.host_statfs(dirfd, name, buf) < 0:
            return None
        return ffi.cast("long *", buf)[0] in SEALED_FS_MAGICS


_boundary = _Boundary()


def _empty_dir():
    """An O_PATH fd of an empty directory nobody can add to: the root of a read-only tmpfs
    of our own that is mounted nowhere (fsopen/fsmount), or failing that a directory we
    made and took every permission from."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    fs = libc.syscall(430, b"tmpfs", 1)                     # fsopen(FSOPEN_CLOEXEC)
    if fs >= 0:
        try:
            if libc.syscall(431, fs, 6, None, None, 0) == 0:    # fsconfig(FSCONFIG_CMD_CREATE)
                fd = libc.syscall(432, fs, 1, 0xF)    # fsmount(CLOEXEC, RDONLY|NOSUID|NODEV|NOEXEC)
                if fd >= 0:
                    return fd
        finally:
            os.close(fs)
    import atexit
    import tempfile
    path = tempfile.mkdtemp(prefix="pylinuxabi-empty-")
    os.chmod(path, 0o555)
    atexit.register(os.rmdir, path)
    return os.open(path, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)


_empty_fd = None


def empty_dir_fd():
    global _empty_fd
    if _empty_fd is None:
        _empty_fd = _empty_dir()
    return _empty_fd


# the non-root HostInodes holding a dir fd, least recently used first
_open_dirs = collections.OrderedDict()
MAX_OPEN_DIRS = 1024


def _host_root():
    """Are we the host's root (uid 0 of the initial user namespace)? Without root the
    sandbox runs us in a user namespace of our own, where we are uid 0 all the same."""
    try:
        with open("/proc/self/uid_map") as f:
            return os.geteuid() == 0 and f.read().split() == ["0", "0", "4294967295"]
    except OSError:
        return os.geteuid() == 0


HOST_ROOT = _host_root()


def _host_error(e):
    return SyscallError(e.errno or errno.EIO)


def _check(r):
    """A native host_* call's result: raise its negative errno."""
    if r < 0:
        raise SyscallError(-r)
    return r


class _Umask0:
    """umask 0 around a host create: the mode we pass is the program's, its umask applied."""

    def __enter__(self):
        self.old = os.umask(0)

    def __exit__(self, *exc):
        os.umask(self.old)


_umask0 = _Umask0()


class HostInode(Inode):
    """A host object, named by its parent's dir fd and its name in that directory
    (the root, and detached objects, by an fd of their own)."""

    __slots__ = ("fs", "parent", "name", "_type", "_dirfd", "_pin", "linkable", "_opaque", "dev")

    def __init__(self, fs, parent, name, mode):
        self.fs = fs
        self.parent = parent
        self.name = name
        self._type = st.S_IFMT(mode)
        self.dev = parent.dev if parent is not None else None   # the host st_dev it lives on
        self._dirfd = None
        self._pin = None            # our O_PATH fd of a detached object (its name is gone)
        self.linkable = False
        self._opaque = None         # overlay upper: cached trusted.overlay.opaque

    def __del__(self):
        if self._pin is not None:
            try:
                os.close(self._pin)
            except (OSError, TypeError):
                pass

    @property
    def readonly(self):
        return self.fs.readonly

    def dirfd(self):
        """Our O_PATH fd of this directory: opened on first use and kept while it is
        among the MAX_OPEN_DIRS most recently used (a tree walk must not run us out of fds)."""
        if self._pin is not None:
            return self._pin
        fd = self._dirfd
        if fd is not None:
            if self.parent is not None:
                _open_dirs.move_to_end(self)
            return fd
        if self.name is None:
            raise SyscallError(errno.ENOENT)
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
        """(dir fd, name) that name this object to the host's *at() calls ("" = the fd's own object)."""
        if self._pin is not None:
            return self._pin, b""
        if self.parent is None:
            return self.dirfd(), b""
        if self.name is None:
            raise SyscallError(errno.ENOENT)        # detached, and we could not keep it
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
        dirfd, name = self.at()
        try:
            if not name:
                return os.stat(dirfd)
            return os.stat(name, dir_fd=dirfd, follow_symlinks=False)
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
        """(path, follow) of this object through our own /proc/self/fd: the kernel walks
        one component from a dir fd we hold, or jumps to the object an fd of ours holds."""
        dirfd, name = self.at()
        if not name:
            return f"/proc/self/fd/{dirfd}", True
        return f"/proc/self/fd/{dirfd}/".encode() + name, False

    def getxattr(self, name):
        path, follow = self._proc_path()
        try:
            return os.getxattr(path, name, follow_symlinks=follow)
        except OSError as e:
            raise _host_error(e)

    def listxattr(self):
        path, follow = self._proc_path()
        try:
            return [n.encode() for n in os.listxattr(path, follow_symlinks=follow)]
        except OSError as e:
            raise _host_error(e)

    def statfs(self):
        return self._host_call(lib.host_statfs, 120)

    def statx(self, mask):
        """Raw struct statx from the host (fields as Linux fills them, btime included)."""
        dirfd, name = self.at()
        return self._host_call(lib.host_statx, 256, 0 if name else AT_EMPTY_PATH, mask)

    def child(self, name, mode, dev=None):
        """The one live object of `name` in this directory (a new one if none is held);
        dev is its host st_dev when looked up (None: made here, so on our own). A
        mount point of a filesystem served trees stay out of is a SealedHostInode."""
        cls = HostInode
        if dev is not None and dev != self.dev and _boundary.is_sealed(dev, self.dirfd(), name):
            cls = SealedHostInode
        key = (self, name)
        inode = self.fs.live.get(key)
        if inode is None or inode._type != st.S_IFMT(mode) or type(inode) is not cls:
            inode = cls(self.fs, self, name, mode)
            if dev is not None:
                inode.dev = dev
            self.fs.live[key] = inode
        return inode

    def lookup(self, name):
        if self._type != st.S_IFDIR:
            raise SyscallError(errno.ENOTDIR)
        if name in (b".", b"..") or b"/" in name:
            raise SyscallError(errno.EINVAL)    # the walk handles these; never let the host do it
        try:
            s = os.stat(name, dir_fd=self.dirfd(), follow_symlinks=False)
        except OSError as e:
            raise _host_error(e)
        return self.child(name, s.st_mode, s.st_dev)

    def readlink(self):
        if self._type != st.S_IFLNK:
            raise SyscallError(errno.EINVAL)
        dirfd, name = self.at()
        try:
            return os.readlink(name, dir_fd=dirfd) if name else os.readlink(f"/proc/self/fd/{dirfd}")
        except OSError as e:
            raise _host_error(e)

    # -- opening ----------------------------------------------------------------
    def host_open(self, flags):
        """A host fd of this object opened with flags (never through a symlink)."""
        dirfd, name = self.at()
        try:
            if not name:
                if self.parent is None and self._pin is None:
                    return os.open(".", flags, dir_fd=dirfd)
                return os.open(f"/proc/self/fd/{dirfd}", flags & ~os.O_NOFOLLOW)
            return os.open(name, flags, dir_fd=dirfd)
        except OSError as e:
            raise _host_error(e)

    def open_regular(self, flags):
        """A host fd of this regular file opened with flags, never of anything else
        put in its place meanwhile. On a writable tree the program can make device
        nodes and rename them, so the name is pinned first (O_PATH, opens nothing)
        and checked, then reopened; a read-only tree only changes by the host's
        hand, where a check after the open is enough."""
        if self.fs.readonly:
            fd = self.host_open(flags)
            if not st.S_ISREG(os.fstat(fd).st_mode):
                os.close(fd)
                raise SyscallError(errno.EACCES)
            return fd
        pin = self.host_open(os.O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC)
        try:
            mode = os.fstat(pin).st_mode
            if not st.S_ISREG(mode):
                raise SyscallError(errno.ELOOP if st.S_ISLNK(mode) else errno.EACCES)
            return os.open(f"/proc/self/fd/{pin}", flags & ~(os.O_NOFOLLOW | os.O_CREAT | os.O_EXCL))
        except OSError as e:
            raise _host_error(e)
        finally:
            os.close(pin)

    def open(self, dentry, flags, task, seen=None):
        """An open file; `seen` is the inode the program sees (an overlay's in front of us)."""
        seen = seen or self
        if flags & O_PATH:
            return OpenFile(dentry, seen, flags)
        kind = self._type
        if kind == st.S_IFIFO:
            from pylinuxabi.vfs.pipe import open_fifo
            return open_fifo(self, dentry, flags, task)
        if kind in (st.S_IFCHR, st.S_IFBLK):
            # never the host's device: the one its number names in the model (as on
            # tmpfs), and any other refused as on a nodev mount
            from pylinuxabi.vfs.devfs import model_device
            s = self.stat()
            cls = model_device(s)
            if cls is None:
                # major 0 has no driver to open (overlayfs's whiteouts): Linux's ENXIO
                raise SyscallError(errno.ENXIO if os.major(s.rdev) == 0 else errno.EACCES)
            return cls(dentry, seen, flags, task)
        if kind == st.S_IFSOCK:
            raise SyscallError(errno.ENXIO)
        if kind not in (st.S_IFREG, st.S_IFDIR):
            raise SyscallError(errno.EACCES)
        if self.fs.readonly and ((flags & O_ACCMODE) != os.O_RDONLY or flags & os.O_TRUNC
                                 or flags & O_TMPFILE == O_TMPFILE):
            raise SyscallError(errno.EROFS)
        host_flags = flags & HOST_OPEN_FLAGS | OPEN_NOFOLLOW
        if kind == st.S_IFDIR:
            host_flags |= os.O_DIRECTORY
        if kind == st.S_IFREG:
            try:
                fd = self.open_regular(host_flags)
            except SyscallError as e:
                # an append-only host file opens for writing only with O_APPEND (our writes
                # to it then land at its end, as the program's O_APPEND asks)
                if e.errno != errno.EPERM or not flags & os.O_APPEND:
                    raise
                fd = self.open_regular(host_flags | os.O_APPEND)
        else:
            fd = self.host_open(host_flags)
        cls = HostDirFile if kind == st.S_IFDIR else HostFile
        return cls(dentry, seen, flags, fd)

    # FIFOs: one model pipe per host object while it is open (pipe.py sets and clears it)
    @property
    def fifo(self):
        return self.fs.fifos.get(self._identity())

    @fifo.setter
    def fifo(self, pipe):
        if pipe is None:
            self.fs.fifos.pop(self._identity(), None)
        else:
            self.fs.fifos[self._identity()] = pipe

    def _identity(self):
        s = self.host_stat()
        return s.st_dev, s.st_ino

    # -- changing the object (the VFS has checked permissions) ------------------------
    def _writable(self):
        if self.fs.readonly:
            raise SyscallError(errno.EROFS)

    def setattr(self, mode=None, uid=None, gid=None, size=None, atime_ns=None, mtime_ns=None):
        """chown before chmod: the host's chown clears setuid bits the VFS may mean to keep."""
        self._writable()
        if size is not None:
            if self._type != st.S_IFREG:
                raise SyscallError(errno.EISDIR if self._type == st.S_IFDIR else errno.EINVAL)
            fd = self.open_regular(os.O_WRONLY | OPEN_NOFOLLOW)
            try:
                os.ftruncate(fd, size)
            except OSError as e:
                raise _host_error(e)
            finally:
                os.close(fd)
        dirfd, name = self.at()
        if uid is not None or gid is not None:
            _check(lib.host_chown(dirfd, name, -1 if uid is None else uid, -1 if gid is None else gid))
        if mode is not None:
            _check(lib.host_chmod(dirfd, name, mode & 0o7777))
        if atime_ns is not None or mtime_ns is not None:
            omit = (atime_ns is None) | (mtime_ns is None) << 1
            _check(lib.host_utimens(dirfd, name, atime_ns or 0, mtime_ns or 0, omit))

    def setxattr(self, name, value, flags):
        self._writable()
        path, follow = self._proc_path()
        try:
            os.setxattr(path, name, value, flags, follow_symlinks=follow)
        except OSError as e:
            raise _host_error(e)

    def removexattr(self, name):
        self._writable()
        path, follow = self._proc_path()
        try:
            os.removexattr(path, name, follow_symlinks=follow)
        except OSError as e:
            raise _host_error(e)

    def _fileattr_fd(self, flags):
        """A host fd for FS_IOC_*FLAGS: of a regular file (as open_regular pins it) or a
        directory, never of a device or anything put in its place."""
        if self._type == st.S_IFREG:
            return self.open_regular(flags | os.O_NONBLOCK | OPEN_NOFOLLOW)
        if self._type != st.S_IFDIR:
            raise SyscallError(errno.ENOTTY)
        return self.host_open(os.O_RDONLY | os.O_DIRECTORY | OPEN_NOFOLLOW)

    def fileattr_get(self):
        fd = self._fileattr_fd(os.O_RDONLY)
        try:
            return struct.unpack("<i", fcntl.ioctl(fd, FS_IOC_GETFLAGS, bytes(4)))[0] & 0xFFFFFFFF
        except OSError as e:
            raise _host_error(e)
        finally:
            os.close(fd)

    def fileattr_set(self, flags):
        """On the host's own file (a volume, a kept upper): the host's filesystem decides
        what it keeps, and enforces immutable and append-only itself."""
        self._writable()
        fd = self._fileattr_fd(os.O_RDONLY)
        try:
            fcntl.ioctl(fd, FS_IOC_SETFLAGS, struct.pack("<I", flags))
        except OSError as e:
            raise _host_error(e)
        finally:
            os.close(fd)

    def fallocate(self, mode, offset, length):
        self._writable()
        if self._type != st.S_IFREG:
            raise SyscallError(errno.ENODEV)        # (the host's devices are not ours to open)
        fd = self.open_regular(os.O_WRONLY | os.O_APPEND | OPEN_NOFOLLOW)     # (append-only files too)
        try:
            _check(lib.host_fallocate(fd, mode, offset, length))
        finally:
            os.close(fd)

    # -- directory operations: `name` is one component, checked by the VFS -------------
    def _owner(self, mode, creds):
        """(owner, mode) of a new object here: the mode as Linux's inode_init_owner leaves
        it, and the (uid, gid) to chown it to, or None when the host's choice is already
        the program's (our own ids, or a setgid directory's group)."""
        gid, host_gid = creds.fsgid, self.fs.host_gid
        s = self.host_stat()
        if s.st_mode & S_ISGID:
            gid = host_gid = s.st_gid
            if st.S_ISDIR(mode):
                mode |= S_ISGID
            elif mode & S_ISGID and not creds.in_group(gid) and not creds.capable(CAP_FSETID):
                mode &= ~S_ISGID
        owner = (creds.fsuid, gid)
        return (None if owner == (self.fs.host_uid, host_gid) else owner), mode

    def _settle(self, name, owner, mode, fd=None):
        """Give a new object the program's ids (the host made it ours): chown, and put
        back the setuid/setgid bits a chown of a non-directory clears."""
        if owner is None:
            return
        if fd is not None:
            dirfd, name = fd, b""
        else:
            dirfd = self.dirfd()
        r = lib.host_chown(dirfd, name, *owner)
        if r == -errno.EINVAL and not HOST_ROOT:
            return          # in our user namespace only our own ids map: the object stays ours
        _check(r)
        if mode & (S_ISUID | S_ISGID) and st.S_ISREG(mode):
            _check(lib.host_chmod(dirfd, name, mode & 0o7777))

    def create(self, name, mode, creds):
        self._writable()
        owner, mode = self._owner(st.S_IFREG | (mode & 0o7777), creds)
        try:
            with _umask0:
                fd = os.open(name, os.O_RDONLY | os.O_CREAT | os.O_EXCL | OPEN_NOFOLLOW,
                             mode & 0o7777, dir_fd=self.dirfd())
        except OSError as e:
            raise _host_error(e)
        try:
            self._settle(name, owner, mode, fd)
        finally:
            os.close(fd)
        return self.child(name, st.S_IFREG)

    def mkdir(self, name, mode, creds):
        self._writable()
        owner, mode = self._owner(st.S_IFDIR | (mode & 0o7777), creds)
        try:
            with _umask0:
                os.mkdir(name, mode & 0o7777, dir_fd=self.dirfd())
        except OSError as e:
            raise _host_error(e)
        self._settle(name, owner, mode)
        return self.child(name, st.S_IFDIR)

    def mknod(self, name, mode, rdev, creds):
        self._writable()
        owner, mode = self._owner(mode, creds)
        if not (st.S_ISCHR(mode) or st.S_ISBLK(mode)):
            rdev = 0
        try:
            with _umask0:
                os.mknod(name, mode, rdev, dir_fd=self.dirfd())
        except OSError as e:
            raise _host_error(e)
        self._settle(name, owner, mode)
        return self.child(name, mode)

    def symlink(self, name, target, creds):
        self._writable()
        owner, _ = self._owner(st.S_IFLNK, creds)
        try:
            os.symlink(target, name, dir_fd=self.dirfd())
        except OSError as e:
            raise _host_error(e)
        self._settle(name, owner, st.S_IFLNK)
        return self.child(name, st.S_IFLNK)

    def tmpfile(self, mode, creds):
        """O_TMPFILE: a host file with no name, kept by the fd we made it with."""
        self._writable()
        owner, mode = self._owner(st.S_IFREG | (mode & 0o7777), creds)
        try:
            with _umask0:
                fd = os.open(".", O_TMPFILE | os.O_RDWR | os.O_CLOEXEC, mode & 0o7777, dir_fd=self.dirfd())
        except OSError as e:
            raise _host_error(e)
        try:
            self._settle(None, owner, mode, fd)
        except SyscallError:
            os.close(fd)
            raise
        inode = HostInode(self.fs, self, None, st.S_IFREG)
        inode._pin = fd
        return inode

    def link(self, name, inode):
        """A new name for inode; returns the object of that name."""
        self._writable()
        if not isinstance(inode, HostInode) or inode.fs is not self.fs:
            raise SyscallError(errno.EXDEV)
        dirfd, src = inode.at()
        try:
            if src:
                os.link(src, name, src_dir_fd=dirfd, dst_dir_fd=self.dirfd(), follow_symlinks=False)
            else:
                # a detached object (O_TMPFILE): linkat through /proc needs no CAP_DAC_READ_SEARCH
                os.link(f"/proc/self/fd/{dirfd}", name, dst_dir_fd=self.dirfd(), follow_symlinks=True)
        except OSError as e:
            raise _host_error(e)
        if src:
            return self.child(name, inode._type)
        inode._attach(self, name)        # the O_TMPFILE file has its name now
        return inode

    def unlink(self, name):
        self._writable()
        gone = self._detaching(name)
        try:
            os.unlink(name, dir_fd=self.dirfd())
        except OSError as e:
            self._keep(gone)
            raise _host_error(e)
        self._detached(gone)

    def rmdir(self, name):
        self._writable()
        gone = self._detaching(name)
        try:
            os.rmdir(name, dir_fd=self.dirfd())
        except OSError as e:
            self._keep(gone)
            raise _host_error(e)
        self._detached(gone)

    def rename(self, name, new_dir, new_name, flags):
        """renameat2 on the host; RENAME_WHITEOUT is the VFS's to make afterwards (a mknod)."""
        self.host_rename(name, new_dir, new_name, flags & (RENAME_NOREPLACE | RENAME_EXCHANGE))

    def host_rename(self, name, new_dir, new_name, host_flags):
        """renameat2 with host_flags as they are, keeping our live objects true to their names."""
        self._writable()
        if not isinstance(new_dir, HostInode) or new_dir.fs is not self.fs:
            raise SyscallError(errno.EXDEV)
        live = self.fs.live
        moving = live.get((self, name))
        exchange = host_flags & RENAME_EXCHANGE
        gone = None if exchange else new_dir._detaching(new_name)
        r = lib.host_renameat2(self.dirfd(), name, new_dir.dirfd(), new_name, host_flags)
        if r < 0:
            new_dir._keep(gone)
            raise SyscallError(-r)
        if gone is not None:
            new_dir._detached(gone)
        there = live.pop((new_dir, new_name), None) if exchange else None
        live.pop((self, name), None)
        if moving is not None:
            moving._attach(new_dir, new_name)
        if there is not None:
            there._attach(self, name)

    # -- live objects follow their names ---------------------------------------------------
    def _attach(self, parent, name):
        """This object is now parent/name (a rename moved it, or a link named it)."""
        if self._pin is not None and parent is not None:
            os.close(self._pin)
            self._pin = None
        self.parent, self.name = parent, name
        self.fs.live[(parent, name)] = self

    def _detaching(self, name):
        """Before name goes: (object, an O_PATH fd that will keep it) if we hold its object."""
        inode = self.fs.live.get((self, name))
        if inode is None:
            return None
        try:
            fd = os.open(name, os.O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=self.dirfd())
        except OSError:
            fd = None
        return inode, fd

    def _keep(self, gone):
        """The removal failed: the object keeps its name."""
        if gone is not None and gone[1] is not None:
            os.close(gone[1])

    def _detached(self, gone):
        """The name went: the object lives on through its fd (or is gone for good)."""
        if gone is None:
            return
        inode, fd = gone
        if self.fs.live.get((self, inode.name)) is inode:
            del self.fs.live[(self, inode.name)]
        if inode._dirfd is not None:
            _open_dirs.pop(inode, None)
            os.close(inode._dirfd)
            inode._dirfd = None
        inode._pin = fd
        inode.name = None

    # -- an overlay's upper layer, in Linux overlayfs's on-disk format (vfs/overlay.py) -----
    def make_whiteout(self, name):
        """A whiteout called name: a 0/0 character device, as overlayfs makes them."""
        self._writable()
        try:
            os.mknod(name, st.S_IFCHR, 0, dir_fd=self.dirfd())
        except OSError as e:
            raise _host_error(e)
        return self.child(name, st.S_IFCHR)

    def inherit_group(self, node):
        """node, made in another directory for this one, takes the group (and a directory
        the setgid bit) that this directory, if setgid, passes on."""
        s = self.host_stat()
        if not s.st_mode & S_ISGID:
            return
        n = node.host_stat()
        dirfd, name = node.at()
        if n.st_gid != s.st_gid:
            _check(lib.host_chown(dirfd, name, -1, s.st_gid))
        if st.S_ISDIR(n.st_mode) or st.S_ISREG(n.st_mode) and n.st_mode & (S_ISUID | S_ISGID):
            mode = n.st_mode | S_ISGID if st.S_ISDIR(n.st_mode) else n.st_mode
            _check(lib.host_chmod(dirfd, name, mode & 0o7777))

    def copy_in(self, name, lower, s, data, work, scratch, xattrs):
        """Copy-up: a copy of the object `lower` (its stat s; without data if data is
        False) entered as name here in one step: a regular file is made as an O_TMPFILE
        file and linked in, anything else is made as `scratch` in the directory `work`
        and renamed here. Our own times are put back, as overlayfs does."""
        self._writable()
        kind = st.S_IFMT(s.mode)
        times = self.host_stat()
        if kind == st.S_IFREG:
            try:
                with _umask0:
                    fd = os.open(".", O_TMPFILE | os.O_RDWR | os.O_CLOEXEC, s.mode & 0o7777, dir_fd=self.dirfd())
            except OSError as e:
                raise _host_error(e)
            try:
                if data and s.size:
                    _copy_bytes(lower, fd, s.size)
                _copy_attrs(fd, b"", s, xattrs)
                os.link(f"/proc/self/fd/{fd}", name, dst_dir_fd=self.dirfd(), follow_symlinks=True)
            except OSError as e:
                raise _host_error(e)
            finally:
                os.close(fd)
        else:
            wd = work.dirfd()
            try:
                with _umask0:
                    if kind == st.S_IFDIR:
                        os.mkdir(scratch, 0o700, dir_fd=wd)
                    elif kind == st.S_IFLNK:
                        os.symlink(lower.readlink(), scratch, dir_fd=wd)
                    else:
                        os.mknod(scratch, s.mode, s.rdev, dir_fd=wd)
            except OSError as e:
                raise _host_error(e)
            try:
                _copy_attrs(wd, scratch, s, xattrs)
                _check(lib.host_renameat2(wd, scratch, self.dirfd(), name, RENAME_NOREPLACE))
            except (OSError, SyscallError) as e:
                try:
                    (os.rmdir if kind == st.S_IFDIR else os.unlink)(scratch, dir_fd=wd)
                except OSError:
                    pass
                raise e if isinstance(e, SyscallError) else _host_error(e)
        dirfd, at_name = self.at()
        lib.host_utimens(dirfd, at_name, times.st_atime_ns, times.st_mtime_ns, 0)
        return self.child(name, s.mode)

    def is_whiteout(self):
        return self._type == st.S_IFCHR and self.host_stat().st_rdev == 0

    @property
    def opaque(self):
        if self._opaque is None:
            try:
                self._opaque = self._type == st.S_IFDIR and self.getxattr(self.fs.opaque_xattr) == b"y"
            except SyscallError:
                self._opaque = False
        return self._opaque

    def set_opaque(self):
        self.setxattr(self.fs.opaque_xattr, b"y", 0)
        self._opaque = True


class SealedHostInode(HostInode):
    """The mount point of a host filesystem served trees stay out of (proc, sysfs…):
    an empty directory that nothing can change, whose host object is never opened."""

    __slots__ = ()

    def dirfd(self):
        return empty_dir_fd()

    def lookup(self, name):
        if self._type != st.S_IFDIR:
            raise SyscallError(errno.ENOTDIR)
        raise SyscallError(errno.ENOENT)

    def host_open(self, flags):
        if self._type != st.S_IFDIR:
            raise SyscallError(errno.EACCES)
        try:
            return os.open(".", flags & ~os.O_NOFOLLOW, dir_fd=empty_dir_fd())
        except OSError as e:
            raise _host_error(e)

    def open(self, dentry, flags, task, seen=None):
        seen = seen or self
        if flags & O_PATH:
            return OpenFile(dentry, seen, flags)
        if self._type != st.S_IFDIR:
            raise SyscallError(errno.EACCES)
        if (flags & O_ACCMODE) != os.O_RDONLY:
            raise SyscallError(errno.EISDIR)
        return HostDirFile(dentry, seen, flags, self.host_open(os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC))

    def readlink(self):
        raise SyscallError(errno.EINVAL)

    def getxattr(self, name):
        raise SyscallError(errno.ENODATA)

    def listxattr(self):
        return []

    def statfs(self):
        return self.parent.statfs()

    def _writable(self):
        raise SyscallError(errno.EROFS)

    @property
    def fifo(self):
        return None

    @fifo.setter
    def fifo(self, pipe):
        raise SyscallError(errno.EACCES)


def _copy_bytes(lower, fd, size):
    """The bytes of the host file `lower` into our fd, host to host."""
    src = lower.open(None, os.O_RDONLY, None)
    try:
        copy_file(src.fd, fd, size)
    finally:
        src.release()


def _copy_attrs(dirfd, name, s, xattrs):
    """Owner, mode, xattrs and times of stat s onto the object dirfd/name ("" = dirfd's)."""
    _check(lib.host_chown(dirfd, name, s.uid, s.gid))
    if not st.S_ISLNK(s.mode):
        _check(lib.host_chmod(dirfd, name, s.mode & 0o7777))
    path = f"/proc/self/fd/{dirfd}/".encode() + name if name else f"/proc/self/fd/{dirfd}"
    for key, value in xattrs:
        try:
            os.setxattr(path, key, value, follow_symlinks=not name)
        except OSError as e:
            if e.errno not in (errno.EPERM, errno.EOPNOTSUPP):
                raise
    _check(lib.host_utimens(dirfd, name, s.atime_ns, s.mtime_ns, 0))


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

    def pwrite(self, data, offset):
        try:
            if self.flags & os.O_APPEND:
                offset = os.fstat(self.fd).st_size     # even pwrite appends to an O_APPEND file
            return os.pwrite(self.fd, data, offset)
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

    def fsync(self, datasync):
        try:
            (os.fdatasync if datasync else os.fsync)(self.fd)
        except OSError as e:
            raise _host_error(e)

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

    def fsync(self, datasync):
        try:
            os.fsync(self.fd)
        except OSError as e:
            raise _host_error(e)

    def release(self):
        os.close(self.fd)


class HostFS:
    """One host directory tree; root() is its top inode. Read-only unless writable=True."""

    def __init__(self, host_path, writable=False):
        try:
            fd = os.open(host_path, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
        except OSError as e:
            raise OSError(e.errno, f"cannot serve {host_path}: {e.strerror}")
        self.readonly = not writable
        self.live = weakref.WeakValueDictionary()   # (parent HostInode, name) -> its one object
        self.fifos = {}                             # (st_dev, st_ino) -> the open FIFO's Pipe
        # overlayfs keeps its markers in trusted.* (root's); without root, mount -o userxattr's
        self.opaque_xattr = b"trusted.overlay.opaque" if HOST_ROOT else b"user.overlay.opaque"
        # who the host makes what we create belong to (our own fsuid and fsgid)
        self.host_uid, self.host_gid = os.geteuid(), os.getegid()
        self.root_inode = HostInode(self, None, b"/", st.S_IFDIR)
        self.root_inode._dirfd = fd
        self.root_inode.dev = os.fstat(fd).st_dev

    def side_dir(self, host_path):
        """Another host directory served as part of this filesystem (the overlay's work
        directory: objects renamed between the two keep their live objects)."""
        fd = os.open(host_path, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
        inode = HostInode(self, None, os.fsencode(host_path), st.S_IFDIR)
        inode._dirfd = fd
        inode.dev = os.fstat(fd).st_dev
        return inode
