"""Path lookups on behalf of a task: dirfd/AT_FDCWD, AT_EMPTY_PATH, AT_SYMLINK_NOFOLLOW,
and openat2's RESOLVE_* flags.

The bridge between a task's fd table and cwd and the VFS path walk.
"""
import errno

from pylinuxabi.base.errors import SyscallError
from pylinuxabi.vfs.path import (PATH_MAX, RESOLVE_BENEATH, RESOLVE_IN_ROOT, RESOLVE_SCOPED, WalkContext,
                                 resolve, resolve_parent)
from pylinuxabi.vfs.procfs import file_dentry

AT_FDCWD = -100
AT_SYMLINK_NOFOLLOW = 0x100
AT_REMOVEDIR = 0x200
AT_SYMLINK_FOLLOW = 0x400
AT_NO_AUTOMOUNT = 0x800
AT_EMPTY_PATH = 0x1000
AT_EACCESS = 0x200


def read_path(task, addr):
    """The path string at addr: EFAULT, ENAMETOOLONG as Linux's getname gives them."""
    return task.mem.read_cstring(addr, PATH_MAX - 1)


def start_dir(task, dirfd, path):
    """Where a relative path starts: cwd or the directory open at dirfd."""
    if path[:1] == b"/":
        return task.fs.root
    return _dirfd_dir(task, dirfd)


def _dirfd_dir(task, dirfd):
    if dirfd == AT_FDCWD:
        return task.fs.cwd
    f = task.files.get(dirfd)
    if f.dentry is None or not f.dentry.inode.is_dir():
        raise SyscallError(errno.ENOTDIR)
    return f.dentry


def walk_context(task):
    return WalkContext(task.fs.root, task.creds, task)


def walk_start(task, dirfd, path, resolve_flags=0):
    """(WalkContext, start dentry) of a walk of `path` from dirfd (path_init).

    With RESOLVE_BENEATH or RESOLVE_IN_ROOT the directory at dirfd is the
    walk's root: an absolute path starts there too (IN_ROOT) or is refused
    at once, before dirfd is even looked at (BENEATH).
    """
    if not path:
        raise SyscallError(errno.ENOENT)
    if not resolve_flags:
        return walk_context(task), start_dir(task, dirfd, path)
    if path[:1] == b"/" and not resolve_flags & RESOLVE_IN_ROOT:
        if resolve_flags & RESOLVE_BENEATH:
            raise SyscallError(errno.EXDEV)
        start = task.fs.root
    else:
        start = _dirfd_dir(task, dirfd)
    root = start if resolve_flags & RESOLVE_SCOPED else task.fs.root
    return WalkContext(root, task.creds, task, resolve_flags), start


def lookup(task, dirfd, path, follow=True, empty_path=False, resolve_flags=0):
    """The dentry named by (dirfd, path); with empty_path, "" means dirfd itself.
    resolve_flags are openat2's RESOLVE_* restrictions."""
    if not path:
        if not empty_path:
            raise SyscallError(errno.ENOENT)
        if dirfd == AT_FDCWD:
            return task.fs.cwd
        return file_dentry(task.files.get(dirfd))
    if resolve_flags:
        return resolve(*walk_start(task, dirfd, path, resolve_flags), path, follow)
    return resolve(walk_context(task), start_dir(task, dirfd, path), path, follow)


def lookup_parent(task, dirfd, path):
    """(parent dentry, last name) for calls that create or remove names."""
    return resolve_parent(walk_context(task), start_dir(task, dirfd, path), path)
