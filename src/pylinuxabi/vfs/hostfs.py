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
"""
import collections
import errno
import os
import stat as st
import weakref

from pylinuxabi._native import ffi, lib
from pylinuxabi.kernel.creds import CAP_FSETID
from pylinuxabi.kernel.errors import SyscallError
from pylinuxabi.vfs.file import O_ACCMODE, O_PATH, OpenFile
from pylinuxabi.vfs.inode import (RENAME_EXCHANGE, RENAME_NOREPLACE, S_ISGID, S_ISUID, Inode,
                                  Stat)

O_TMPFILE = 0o20000000 | os.O_DIRECTORY
MAX_IO = 8 << 20         # one read or write moves at most this much: keeps memory bounded
AT_EMPTY_PATH = 0x1000
_STAT_BUF = ffi.new("char[144]")       # the supervisor is single-threaded: one buffer serves
# the open flags we pass on to the host: the rest are the model's (O_APPEND, O_NONBLOCK…)
HOST_OPEN_FLAGS = O_ACCMODE | os.O_SYNC | os.O_DSYNC
OPEN_NOFOLLOW = os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NOCTTY | os.O_NONBLOCK


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

    __slots__ = ("fs", "parent", "name", "_type", "_dirfd", "_pin", "linkable", "_opaque")

    def __init__(self, fs, parent, name, mode):
        self.fs = fs
        self.parent = parent
        self.name = name
        self._type = st.S_IFMT(mode)
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

    def child(self, name, mode):
        """The one live object of `name` in this directory (a new one if none is held)."""
        key = (self, name)
        inode = self.fs.live.get(key)
        if inode is None or inode._type != st.S_IFMT(mode):
            inode = HostInode(self.fs, self, name, mode)
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
        return self.child(name, s.st_mode)

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

    def open(self, dentry, flags, task, seen=None):
        """An open file; `seen` is the inode the program sees (an overlay's in front of us)."""
        seen = seen or self
        if flags & O_PATH:
            return OpenFile(dentry, seen, flags)
        kind = self._type
        if kind == st.S_IFIFO:
            from pylinuxabi.vfs.pipe import open_fifo
            return open_fifo(self, dentry, flags, task)
        if kind in (st.S_IFCHR, st.S_IFBLK) and not self.fs.readonly:
            # a node the program made: the device its number names in the model (as on tmpfs)
            from pylinuxabi.vfs.devfs import open_device
            return open_device(self, dentry, flags, task)
        if kind == st.S_IFSOCK:
            raise SyscallError(errno.ENXIO)
        if kind not in (st.S_IFREG, st.S_IFDIR):
            # the host's own devices are not ours to open (as on a nodev mount)
            raise SyscallError(errno.EACCES)
        if self.fs.readonly and ((flags & O_ACCMODE) != os.O_RDONLY or flags & os.O_TRUNC
                                 or flags & O_TMPFILE == O_TMPFILE):
            raise SyscallError(errno.EROFS)
        host_flags = flags & HOST_OPEN_FLAGS | OPEN_NOFOLLOW
        if kind == st.S_IFDIR:
            host_flags |= os.O_DIRECTORY
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
            fd = self.host_open(os.O_WRONLY | OPEN_NOFOLLOW)
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

    def fallocate(self, mode, offset, length):
        self._writable()
        fd = self.host_open(os.O_WRONLY | OPEN_NOFOLLOW)
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


def _copy_bytes(lower, fd, size):
    """The bytes of the host file `lower` into our fd, host to host."""
    src = lower.open(None, os.O_RDONLY, None)
    try:
        done = 0
        while done < size:
            n = os.copy_file_range(src.fd, fd, min(size - done, 1 << 30), done, done)
            if n == 0:
                break
            done += n
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

    def side_dir(self, host_path):
        """Another host directory served as part of this filesystem (the overlay's work
        directory: objects renamed between the two keep their live objects)."""
        fd = os.open(host_path, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
        inode = HostInode(self, None, os.fsencode(host_path), st.S_IFDIR)
        inode._dirfd = fd
        return inode
