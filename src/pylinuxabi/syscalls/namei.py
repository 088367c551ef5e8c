"""Syscalls that change names: mkdir, mknod, rmdir, unlink, rename, link, symlink.

Argument checks and the walk to the parent directory here; vfs/namei.py
does the shared checks and the filesystem the change.
"""
import errno
import os
import stat as st

from pylinuxabi.base.creds import CAP_DAC_READ_SEARCH
from pylinuxabi.base.errors import SyscallError, check
from pylinuxabi.kernel.paths import (AT_EMPTY_PATH, AT_FDCWD, AT_REMOVEDIR, AT_SYMLINK_FOLLOW, lookup,
                                     lookup_parent, read_path)
from pylinuxabi.syscalls.registry import syscall
from pylinuxabi.vfs import namei
from pylinuxabi.vfs.inode import RENAME_EXCHANGE, RENAME_NOREPLACE, RENAME_WHITEOUT


def _parent(task, dirfd, path_addr):
    """(parent dentry, last name, had a trailing slash) of a path to create or remove."""
    path = read_path(task, path_addr)
    parent, name = lookup_parent(task, dirfd, path)
    return parent, name, path.endswith(b"/")


def _creating(task, dirfd, path_addr, allow_slash=False):
    parent, name, slash = _parent(task, dirfd, path_addr)
    if name in (b".", b".."):
        raise SyscallError(errno.EEXIST)
    if slash and not allow_slash:
        # a trailing slash names a directory: EEXIST if there is one, else ENOENT
        if namei.peek(parent, name) is not None:
            raise SyscallError(errno.EEXIST)
        raise SyscallError(errno.ENOENT)
    return parent, name


def _mkdir(task, dirfd, path, mode):
    parent, name = _creating(task, dirfd, path, allow_slash=True)
    namei.mkdir(parent, name, mode & ~task.fs.umask & 0o1777, task.creds)
    return 0


@syscall("mkdir", "uU")
def mkdir(task, path, mode):
    """mkdir(2)."""
    return _mkdir(task, AT_FDCWD, path, mode)


@syscall("mkdirat", "iuU")
def mkdirat(task, dirfd, path, mode):
    """mkdirat(2)."""
    return _mkdir(task, dirfd, path, mode)


def _mknod(task, dirfd, path, mode, dev):
    fmt = st.S_IFMT(mode)
    if fmt == 0:
        mode |= st.S_IFREG
        fmt = st.S_IFREG
    check(fmt != st.S_IFDIR, errno.EPERM)
    check(fmt in (st.S_IFREG, st.S_IFCHR, st.S_IFBLK, st.S_IFIFO, st.S_IFSOCK), errno.EINVAL)
    parent, name = _creating(task, dirfd, path)
    perm = mode & ~task.fs.umask & 0o7777
    namei.mknod(parent, name, fmt | perm, _decode_dev(dev), task.creds)
    return 0


def _decode_dev(dev):
    """The kernel's new_decode_dev of a 32-bit dev_t, as a host-style makedev value."""
    major = (dev & 0xFFF00) >> 8
    minor = (dev & 0xFF) | ((dev >> 12) & 0xFFF00)
    return os.makedev(major, minor)


@syscall("mknod", "uUu")
def mknod(task, path, mode, dev):
    """mknod(2)."""
    return _mknod(task, AT_FDCWD, path, mode, dev & 0xFFFFFFFF)


@syscall("mknodat", "iuUu")
def mknodat(task, dirfd, path, mode, dev):
    """mknodat(2)."""
    return _mknod(task, dirfd, path, mode, dev & 0xFFFFFFFF)


def _rmdir(task, dirfd, path_addr):
    parent, name, _ = _parent(task, dirfd, path_addr)
    if name == b".":
        raise SyscallError(errno.EINVAL)
    if name == b"..":
        raise SyscallError(errno.ENOTEMPTY)
    namei.rmdir(parent, name, task.creds)
    return 0


def _unlink(task, dirfd, path_addr):
    parent, name, slash = _parent(task, dirfd, path_addr)
    if name in (b".", b".."):
        raise SyscallError(errno.EISDIR)
    if slash:
        namei.want_write(parent)
        victim = namei.peek(parent, name)
        if victim is None:
            raise SyscallError(errno.ENOENT)
        raise SyscallError(errno.EISDIR if victim.inode.is_dir() else errno.ENOTDIR)
    namei.unlink(parent, name, task.creds)
    return 0


@syscall("rmdir", "u")
def rmdir(task, path):
    """rmdir(2)."""
    return _rmdir(task, AT_FDCWD, path)


@syscall("unlink", "u")
def unlink(task, path):
    """unlink(2)."""
    return _unlink(task, AT_FDCWD, path)


@syscall("unlinkat", "iui")
def unlinkat(task, dirfd, path, flags):
    """unlinkat(2)."""
    check(not flags & ~AT_REMOVEDIR, errno.EINVAL)
    if flags & AT_REMOVEDIR:
        return _rmdir(task, dirfd, path)
    return _unlink(task, dirfd, path)


def _rename(task, olddirfd, oldpath, newdirfd, newpath, flags):
    check(not flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE | RENAME_WHITEOUT), errno.EINVAL)
    check(not (flags & (RENAME_NOREPLACE | RENAME_WHITEOUT) and flags & RENAME_EXCHANGE), errno.EINVAL)
    old_parent, old_name, old_slash = _parent(task, olddirfd, oldpath)
    new_parent, new_name, new_slash = _parent(task, newdirfd, newpath)
    return namei.rename(old_parent, old_name, new_parent, new_name, flags, task.creds,
                        old_slash, new_slash)


@syscall("rename", "uu")
def rename(task, oldpath, newpath):
    """rename(2)."""
    return _rename(task, AT_FDCWD, oldpath, AT_FDCWD, newpath, 0)


@syscall("renameat", "iuiu")
def renameat(task, olddirfd, oldpath, newdirfd, newpath):
    """renameat(2)."""
    return _rename(task, olddirfd, oldpath, newdirfd, newpath, 0)


@syscall("renameat2", "iuiuU")
def renameat2(task, olddirfd, oldpath, newdirfd, newpath, flags):
    """renameat2(2)."""
    return _rename(task, olddirfd, oldpath, newdirfd, newpath, flags)


def _link(task, olddirfd, oldpath_addr, newdirfd, newpath_addr, flags):
    check(not flags & ~(AT_SYMLINK_FOLLOW | AT_EMPTY_PATH), errno.EINVAL)
    oldpath = read_path(task, oldpath_addr)
    if flags & AT_EMPTY_PATH and not oldpath:
        task.creds.check(CAP_DAC_READ_SEARCH, errno.ENOENT)     # linkat of an fd
    old = lookup(task, olddirfd, oldpath, follow=bool(flags & AT_SYMLINK_FOLLOW),
                 empty_path=bool(flags & AT_EMPTY_PATH))
    parent, name = _creating(task, newdirfd, newpath_addr)
    namei.link(old, parent, name, task.creds)
    return 0


@syscall("link", "uu")
def link(task, oldpath, newpath):
    """link(2)."""
    return _link(task, AT_FDCWD, oldpath, AT_FDCWD, newpath, 0)


@syscall("linkat", "iuiui")
def linkat(task, olddirfd, oldpath, newdirfd, newpath, flags):
    """linkat(2)."""
    return _link(task, olddirfd, oldpath, newdirfd, newpath, flags)


def _symlink(task, target_addr, dirfd, path_addr):
    target = read_path(task, target_addr)
    if not target:
        raise SyscallError(errno.ENOENT)
    parent, name = _creating(task, dirfd, path_addr)
    namei.symlink(parent, name, target, task.creds)
    return 0


@syscall("symlink", "uu")
def symlink(task, target, path):
    """symlink(2)."""
    return _symlink(task, target, AT_FDCWD, path)


@syscall("symlinkat", "uiu")
def symlinkat(task, target, dirfd, path):
    """symlinkat(2)."""
    return _symlink(task, target, dirfd, path)
