"""inotify syscalls: inotify_init, inotify_init1, inotify_add_watch, inotify_rm_watch.

Argument checks in inotify_user.c's order; the watches and the queue are
vfs/inotify.py's (reads, poll and FIONREAD come through the fd syscalls).
"""
import errno

from pylinuxabi.base.errors import SyscallError, check
from pylinuxabi.kernel.paths import AT_FDCWD, lookup, read_path
from pylinuxabi.syscalls.registry import syscall
from pylinuxabi.vfs.inode import R_OK
from pylinuxabi.vfs.inotify import (ALL_INOTIFY_BITS, IN_CLOEXEC, IN_DONT_FOLLOW, IN_MASK_ADD, IN_MASK_CREATE,
                                    IN_NONBLOCK, IN_ONLYDIR, Inotify)


def _instance(task, fd):
    """The inotify instance open at fd: EBADF for no file, EINVAL for another kind."""
    f = task.files.get_file(fd)
    if not isinstance(f, Inotify):
        raise SyscallError(errno.EINVAL)
    return f


@syscall("inotify_init1", "i")
def inotify_init1(task, flags):
    """inotify_init1(2)."""
    check(not flags & ~(IN_CLOEXEC | IN_NONBLOCK), errno.EINVAL)
    f = Inotify(flags & IN_NONBLOCK)
    return task.files.install_new(f, cloexec=bool(flags & IN_CLOEXEC))


@syscall("inotify_init")
def inotify_init(task):
    """inotify_init(2)."""
    return inotify_init1(task, 0)


@syscall("inotify_add_watch", "iuU")
def inotify_add_watch(task, fd, path, mask):
    """inotify_add_watch(2): the path is followed unless IN_DONT_FOLLOW; watching needs read permission."""
    check(not mask & ~ALL_INOTIFY_BITS, errno.EINVAL)
    check(mask & ALL_INOTIFY_BITS, errno.EINVAL)
    task.files.get(fd)                  # EBADF before the flag combination
    check(not (mask & IN_MASK_ADD and mask & IN_MASK_CREATE), errno.EINVAL)
    f = _instance(task, fd)
    dentry = lookup(task, AT_FDCWD, read_path(task, path), follow=not mask & IN_DONT_FOLLOW)
    inode = dentry.inode
    if mask & IN_ONLYDIR and not inode.is_dir():
        raise SyscallError(errno.ENOTDIR)
    inode.permission(task.creds, R_OK)
    return f.add_watch(inode, mask)


@syscall("inotify_rm_watch", "ii")
def inotify_rm_watch(task, fd, wd):
    """inotify_rm_watch(2)."""
    _instance(task, fd).rm_watch(wd)
    return 0
