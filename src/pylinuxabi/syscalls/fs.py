"""Path syscalls: open, stat, access, readlink, cwd, umask.

Mostly argument checking; names are resolved by our own path walk
(kernel/paths.py) and the work is the inode's.
"""
import errno
import os
import struct

from pylinuxabi.kernel.abi import pack_stat
from pylinuxabi.kernel.errors import SyscallError, check
from pylinuxabi.kernel.paths import (AT_EACCESS, AT_EMPTY_PATH, AT_FDCWD, AT_NO_AUTOMOUNT,
                                     AT_SYMLINK_NOFOLLOW, lookup, lookup_parent, read_path, walk_context)
from pylinuxabi.syscalls.table import syscall
from pylinuxabi.vfs import fsnotify, namei
from pylinuxabi.vfs.mount import Dentry
from pylinuxabi.vfs.path import MAXSYMLINKS, resolve, resolve_parent
from pylinuxabi.vfs.file import O_ACCMODE, O_LARGEFILE, O_PATH
from pylinuxabi.vfs.inode import R_OK, W_OK, X_OK

O_TMPFILE = 0o20000000
VALID_OPEN_FLAGS = (0o3 | os.O_CREAT | os.O_EXCL | os.O_NOCTTY | os.O_TRUNC | os.O_APPEND
                    | os.O_NONBLOCK | os.O_DSYNC | os.O_ASYNC | os.O_DIRECT | O_LARGEFILE
                    | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_NOATIME | os.O_CLOEXEC | os.O_SYNC
                    | O_PATH | O_TMPFILE)
O_PATH_FLAGS = O_PATH | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
AT_STATX_SYNC_TYPE = 0x6000
STATX_RESERVED = 0x80000000
STATX_MNT_ID_BITS = 0x1000 | 0x4000


def open_flags(flags):
    """Check and normalise open flags before anything else, as build_open_flags does."""
    if flags & O_PATH:
        flags &= O_PATH_FLAGS
    if flags & os.O_CREAT and flags & os.O_DIRECTORY:
        raise SyscallError(errno.EINVAL)
    if flags & O_TMPFILE:
        if flags & (O_TMPFILE | os.O_DIRECTORY | os.O_CREAT) != O_TMPFILE | os.O_DIRECTORY:
            raise SyscallError(errno.EINVAL)
        if not flags & (os.O_WRONLY | os.O_RDWR):
            raise SyscallError(errno.EINVAL)
    return flags


def _open_target(task, dirfd, path, flags, mode):
    """(dentry, created) for an open: with O_CREAT the last name is made if it is
    missing, following a dangling symlink to make its target as Linux does."""
    if not flags & os.O_CREAT:
        return lookup(task, dirfd, path, follow=not flags & os.O_NOFOLLOW), False
    parent, name = lookup_parent(task, dirfd, path)
    if name in (b".", b"..") or path.endswith(b"/"):
        raise SyscallError(errno.EISDIR)
    ctx = walk_context(task)
    while True:
        if name in (b".", b".."):
            return resolve(ctx, parent, name), False
        d = namei.peek(parent, name)
        if d is None:
            return namei.create(parent, name, mode & ~task.fs.umask, task.creds), True
        while d.mounted is not None:
            d = d.mounted.root
        if not d.inode.is_symlink() or flags & (os.O_EXCL | os.O_NOFOLLOW):
            return d, False
        ctx.links += 1
        if ctx.links > MAXSYMLINKS:
            raise SyscallError(errno.ELOOP)
        magic = d.inode.follow(task)
        if magic is not None:
            return magic, False
        target = d.inode.readlink()
        if not target:
            raise SyscallError(errno.ENOENT)
        if target.endswith(b"/"):
            return resolve(ctx, parent, target), False
        parent, name = resolve_parent(ctx, parent, target)


def do_open(task, dirfd, path, flags, mode):
    """The common body of open, openat and creat; returns the new fd."""
    acc = flags & O_ACCMODE
    if flags & O_TMPFILE == O_TMPFILE:
        return _open_tmpfile(task, dirfd, path, flags, mode)
    dentry, created = _open_target(task, dirfd, path, flags, mode)
    inode = dentry.inode
    if flags & os.O_CREAT and not created:
        if flags & os.O_EXCL:
            raise SyscallError(errno.EEXIST)
        if inode.is_dir():
            raise SyscallError(errno.EISDIR)
    if flags & os.O_DIRECTORY and not inode.is_dir():
        raise SyscallError(errno.ENOTDIR)
    if inode.is_symlink() and not flags & O_PATH:
        raise SyscallError(errno.ELOOP)
    truncate = False
    if not flags & O_PATH and not created:
        if inode.is_dir() and (acc != os.O_RDONLY or flags & os.O_TRUNC):
            raise SyscallError(errno.EISDIR)
        # access mode 3 asks for both (it is for ioctl-only opens); O_TRUNC needs write
        want = (R_OK if acc != os.O_WRONLY else 0) | (W_OK if acc != os.O_RDONLY else 0)
        if flags & os.O_TRUNC:
            want |= W_OK
        inode.permission(task.creds, want)
        kind = inode.mode & 0o170000
        if want & W_OK and namei.is_readonly(dentry) and kind not in (0o020000, 0o060000, 0o010000, 0o140000):
            raise SyscallError(errno.EROFS)
        truncate = flags & os.O_TRUNC and kind == 0o100000
    if flags & O_PATH:
        kept = flags & ~os.O_CLOEXEC
    else:
        kept = flags & ~(os.O_CREAT | os.O_EXCL | os.O_NOCTTY | os.O_TRUNC | os.O_CLOEXEC) | O_LARGEFILE
    if truncate:
        namei.truncate(dentry, 0, task.creds, check_perm=False)
    f = inode.open(dentry, flags, task)
    f.flags = kept
    if fsnotify.active:
        fsnotify.file_event(f, fsnotify.IN_OPEN)
    return task.files.install_new(f, cloexec=bool(flags & os.O_CLOEXEC))


def _open_tmpfile(task, dirfd, path, flags, mode):
    """O_TMPFILE: an unnamed file in the directory path names (linkable unless O_EXCL)."""
    d = lookup(task, dirfd, path)
    if not d.inode.is_dir():
        raise SyscallError(errno.ENOTDIR)
    namei.may_create(d, task.creds)
    inode = d.inode.tmpfile(mode & ~task.fs.umask & 0o7777, task.creds)
    inode.linkable = not flags & os.O_EXCL
    dentry = Dentry(b"#%d (deleted)" % inode.stat().ino, d, inode, d.mount)
    f = inode.open(dentry, flags & ~(O_TMPFILE | os.O_DIRECTORY), task)
    f.flags = flags & ~(os.O_CREAT | os.O_EXCL | os.O_NOCTTY | os.O_TRUNC | os.O_CLOEXEC
                        | O_TMPFILE | os.O_DIRECTORY) | O_LARGEFILE
    if fsnotify.active:
        fsnotify.file_event(f, fsnotify.IN_OPEN)
    return task.files.install_new(f, cloexec=bool(flags & os.O_CLOEXEC))


@syscall("open", "uiU")
def open_(task, path, flags, mode):
    """open(2)."""
    flags = open_flags(flags & 0xFFFFFFFF)
    return do_open(task, AT_FDCWD, read_path(task, path), flags, mode)


@syscall("openat", "iuiU")
def openat(task, dirfd, path, flags, mode):
    """openat(2)."""
    flags = open_flags(flags & 0xFFFFFFFF)
    return do_open(task, dirfd, read_path(task, path), flags, mode)


@syscall("creat", "uU")
def creat(task, path, mode):
    """creat(2) is open(O_CREAT|O_WRONLY|O_TRUNC)."""
    return do_open(task, AT_FDCWD, read_path(task, path), os.O_CREAT | os.O_WRONLY | os.O_TRUNC, mode)


def _stat_at(task, dirfd, path_addr, flags, allow_null=False):
    if allow_null and path_addr == 0 and flags & AT_EMPTY_PATH:
        path = b""
    else:
        path = read_path(task, path_addr)
    return lookup(task, dirfd, path, follow=not flags & AT_SYMLINK_NOFOLLOW,
                  empty_path=bool(flags & AT_EMPTY_PATH))


@syscall("stat", "uu")
def stat(task, path, buf):
    """stat(2)."""
    d = lookup(task, AT_FDCWD, read_path(task, path), follow=True)
    task.mem.write(buf, d.inode.stat_raw())
    return 0


@syscall("lstat", "uu")
def lstat(task, path, buf):
    """lstat(2)."""
    d = lookup(task, AT_FDCWD, read_path(task, path), follow=False)
    task.mem.write(buf, d.inode.stat_raw())
    return 0


@syscall("fstat", "iu")
def fstat(task, fd, buf):
    """fstat(2)."""
    f = task.files.get(fd)
    task.mem.write(buf, pack_stat(f.stat()))
    return 0


@syscall("newfstatat", "iuui")
def newfstatat(task, dirfd, path, buf, flags):
    """newfstatat(2), the fstatat of x86-64."""
    check(not flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH | AT_NO_AUTOMOUNT | AT_STATX_SYNC_TYPE),
          errno.EINVAL)
    if path and flags & AT_EMPTY_PATH and dirfd != AT_FDCWD:
        p = read_path(task, path)
        if not p:
            task.mem.write(buf, pack_stat(task.files.get(dirfd).stat()))
            return 0
    d = _stat_at(task, dirfd, path, flags, allow_null=True)
    task.mem.write(buf, d.inode.stat_raw())
    return 0


@syscall("statx", "iuiUu")
def statx(task, dirfd, path, flags, mask, buf):
    """statx(2)."""
    check(not flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH | AT_NO_AUTOMOUNT | AT_STATX_SYNC_TYPE), errno.EINVAL)
    check((flags & AT_STATX_SYNC_TYPE) != AT_STATX_SYNC_TYPE, errno.EINVAL)
    check(not mask & STATX_RESERVED, errno.EINVAL)
    d = _stat_at(task, dirfd, path, flags, allow_null=True)
    raw = bytearray(d.inode.statx(mask))
    # the host's mount ids name host mounts: not ours to show
    got, = struct.unpack_from("<I", raw, 0)
    struct.pack_into("<I", raw, 0, got & ~STATX_MNT_ID_BITS)
    raw[144:152] = bytes(8)
    task.mem.write(buf, bytes(raw))
    return 0


def _access(task, dirfd, path, mode, flags):
    check(not mode & ~(R_OK | W_OK | X_OK), errno.EINVAL)
    check(not flags & ~(AT_EACCESS | AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH), errno.EINVAL)
    d = lookup(task, dirfd, read_path(task, path), follow=not flags & AT_SYMLINK_NOFOLLOW,
               empty_path=bool(flags & AT_EMPTY_PATH))
    creds = task.creds
    if not flags & AT_EACCESS:
        # access() asks for the real ids (access_override_creds)
        creds = creds.copy()
        creds.fsuid, creds.fsgid = creds.ruid, creds.rgid
    d.inode.permission(creds, mode)
    if mode & W_OK and d.mount.readonly and (d.inode.mode & 0o170000) in (0o100000, 0o040000, 0o120000):
        raise SyscallError(errno.EROFS)
    return 0


@syscall("access", "ui")
def access(task, path, mode):
    """access(2)."""
    return _access(task, AT_FDCWD, path, mode, 0)


@syscall("faccessat", "iui")
def faccessat(task, dirfd, path, mode):
    """faccessat(2): the raw syscall has no flags argument."""
    return _access(task, dirfd, path, mode, 0)


@syscall("faccessat2", "iuii")
def faccessat2(task, dirfd, path, mode, flags):
    """faccessat2(2)."""
    return _access(task, dirfd, path, mode, flags)


def _readlink(task, dirfd, path_addr, buf, size):
    check(size > 0, errno.EINVAL)
    path = read_path(task, path_addr)
    d = lookup(task, dirfd, path, follow=False, empty_path=True)
    if not d.inode.is_symlink():
        raise SyscallError(errno.EINVAL if path else errno.ENOENT)
    target = d.inode.readlink()[:size]
    task.mem.write(buf, target)
    return len(target)


@syscall("readlink", "uui")
def readlink(task, path, buf, size):
    """readlink(2)."""
    return _readlink(task, AT_FDCWD, path, buf, size)


@syscall("readlinkat", "iuui")
def readlinkat(task, dirfd, path, buf, size):
    """readlinkat(2)."""
    return _readlink(task, dirfd, path, buf, size)


@syscall("getcwd", "uu")
def getcwd(task, buf, size):
    """getcwd(2): returns the length including the NUL."""
    path = task.fs.cwd.path(task.fs.root) + b"\0"
    if len(path) > size:
        raise SyscallError(errno.ERANGE)
    task.mem.write(buf, path)
    return len(path)


def _set_cwd(task, d):
    if not d.inode.is_dir():
        raise SyscallError(errno.ENOTDIR)
    d.inode.permission(task.creds, X_OK)
    task.fs.cwd = d
    return 0


@syscall("chdir", "u")
def chdir(task, path):
    """chdir(2)."""
    return _set_cwd(task, lookup(task, AT_FDCWD, read_path(task, path), follow=True))


@syscall("fchdir", "i")
def fchdir(task, fd):
    """fchdir(2)."""
    f = task.files.get(fd)
    if f.dentry is None:
        raise SyscallError(errno.ENOTDIR)
    return _set_cwd(task, f.dentry)


@syscall("umask", "U")
def umask(task, mask):
    """umask(2)."""
    old = task.fs.umask
    task.fs.umask = mask & 0o777
    return old
