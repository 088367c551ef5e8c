"""Changing the namespace: create, link, unlink, rename, and changing attributes.

The VFS half of each operation, as fs/namei.c and fs/attr.c split it: the
checks every filesystem shares (read-only mounts, write and search
permission, sticky directories, mount points, loops) and keeping the dentry
cache true; the filesystem's inode does the rest.
"""
import errno
import stat as st

from pylinuxabi.base.creds import CAP_CHOWN, CAP_FOWNER, CAP_FSETID, CAP_LINUX_IMMUTABLE, CAP_MKNOD
from pylinuxabi.base.errors import SyscallError
from pylinuxabi.vfs import fsnotify, leases, writecount
from pylinuxabi.vfs.inode import (FS_APPEND_FL, FS_IMMUTABLE_FL, RENAME_EXCHANGE, RENAME_NOREPLACE, RENAME_WHITEOUT,
                                  S_ISGID, S_ISUID, S_ISVTX, W_OK, X_OK)
from pylinuxabi.vfs.mount import Dentry


def is_readonly(dentry):
    return dentry.mount.readonly or dentry.inode.readonly


def want_write(dentry):
    """mnt_want_write: EROFS on a read-only mount or filesystem."""
    if is_readonly(dentry):
        raise SyscallError(errno.EROFS)


def peek(parent, name):
    """The dentry of name in parent *without* stepping onto a mount there, or None."""
    d = parent.children.get(name)
    if d is not None:
        return d
    try:
        inode = parent.inode.lookup(name)
    except SyscallError as e:
        if e.errno == errno.ENOENT:
            return None
        raise
    d = Dentry(name, parent, inode, parent.mount)
    if parent.inode.cacheable_children:
        parent.children[name] = d
    return d


def may_create(parent, creds):
    want_write(parent)
    parent.inode.permission(creds, W_OK | X_OK)


def check_mutable(inode):
    """An immutable or append-only inode keeps its names, links and attributes (EPERM)."""
    if inode.attr_flags & (FS_IMMUTABLE_FL | FS_APPEND_FL):
        raise SyscallError(errno.EPERM)


def may_delete(parent, victim, creds, isdir):
    """may_delete: write+search on the directory, the sticky rule, inode flags, the
    victim's type, mount points."""
    want_write(parent)
    parent.inode.permission(creds, W_OK | X_OK)
    d = parent.inode.stat()
    if d.mode & S_ISVTX and creds.fsuid not in (victim.inode.stat().uid, d.uid) and not creds.capable(CAP_FOWNER):
        raise SyscallError(errno.EPERM)
    if parent.inode.attr_flags & FS_APPEND_FL:
        raise SyscallError(errno.EPERM)         # an append-only directory only gains names
    check_mutable(victim.inode)
    if isdir:
        if not victim.inode.is_dir():
            raise SyscallError(errno.ENOTDIR)
        if victim.mounted is not None or victim.parent is None:
            raise SyscallError(errno.EBUSY)
    elif victim.inode.is_dir():
        raise SyscallError(errno.EISDIR)
    if victim.mounted is not None:
        raise SyscallError(errno.EBUSY)


def _fresh(parent, name, inode):
    """Cache the dentry of a name just made (and tell inotify)."""
    d = Dentry(name, parent, inode, parent.mount)
    if parent.inode.cacheable_children:
        parent.children[name] = d
    if fsnotify.active:
        fsnotify.notify(d, fsnotify.IN_CREATE)
    return d


def _creating(parent, name, creds):
    """filename_create's checks: EEXIST before EROFS before EACCES."""
    if peek(parent, name) is not None:
        raise SyscallError(errno.EEXIST)
    may_create(parent, creds)


def create(parent, name, mode, creds):
    """A new regular file (O_CREAT); mode has the umask applied."""
    may_create(parent, creds)
    return _fresh(parent, name, parent.inode.create(name, mode & 0o7777, creds))


def mkdir(parent, name, mode, creds):
    _creating(parent, name, creds)
    return _fresh(parent, name, parent.inode.mkdir(name, mode & 0o7777, creds))


def mknod(parent, name, mode, rdev, creds):
    _creating(parent, name, creds)
    fmt = st.S_IFMT(mode)
    if fmt in (st.S_IFCHR, st.S_IFBLK):
        creds.check(CAP_MKNOD)
    return _fresh(parent, name, parent.inode.mknod(name, mode, rdev, creds))


def symlink(parent, name, target, creds):
    _creating(parent, name, creds)
    return _fresh(parent, name, parent.inode.symlink(name, target, creds))


def link(old, parent, name, creds):
    """link(2): old is the existing dentry."""
    if peek(parent, name) is not None:
        raise SyscallError(errno.EEXIST)
    if old.mount is not parent.mount:
        raise SyscallError(errno.EXDEV)
    may_create(parent, creds)
    check_mutable(old.inode)
    if old.inode.is_dir():
        raise SyscallError(errno.EPERM)
    if not owner_or_capable(old.inode, creds):
        # protected_hardlinks: owners, or those who could read and write it
        s = old.inode.stat()
        if not st.S_ISREG(s.mode) or s.mode & S_ISUID or (s.mode & (S_ISGID | 0o010)) == (S_ISGID | 0o010):
            raise SyscallError(errno.EPERM)
        try:
            old.inode.permission(creds, 6)
        except SyscallError:
            raise SyscallError(errno.EPERM)
    if old.inode.stat().nlink == 0 and not old.inode.linkable:
        raise SyscallError(errno.ENOENT)
    parent.inode.link(name, old.inode)
    return _fresh(parent, name, old.inode)


def unlink(parent, name, creds):
    _remove(parent, name, creds, isdir=False)


def rmdir(parent, name, creds):
    _remove(parent, name, creds, isdir=True)


def _remove(parent, name, creds, isdir):
    """do_unlinkat / do_rmdir after the walk: EROFS before ENOENT before may_delete."""
    want_write(parent)
    victim = peek(parent, name)
    if victim is None:
        raise SyscallError(errno.ENOENT)
    may_delete(parent, victim, creds, isdir)
    if isdir:
        parent.inode.rmdir(name)
    else:
        parent.inode.unlink(name)
    if fsnotify.active:
        fsnotify.notify(victim, fsnotify.IN_DELETE)
    _forget(parent, name)


def _forget(parent, name):
    d = parent.children.pop(name, None)
    if d is not None:
        d.name += b" (deleted)"        # what /proc/<pid>/fd shows of an open file's unlinked name


def _is_ancestor(a, d):
    """Is dentry a d or one of d's ancestors in the same mount?"""
    while d is not None:
        if d is a:
            return True
        d = d.parent
    return False


def rename(old_parent, old_name, new_parent, new_name, flags, creds, old_slash=False, new_slash=False):
    """renameat2 after both parents are walked: checks in do_renameat2's and vfs_rename's order."""
    if old_parent.mount is not new_parent.mount:
        raise SyscallError(errno.EXDEV)
    if old_name in (b".", b"..") or new_name in (b".", b".."):
        raise SyscallError(errno.EEXIST if flags & RENAME_NOREPLACE and new_name in (b".", b"..")
                           and old_name not in (b".", b"..") else errno.EBUSY)
    want_write(old_parent)
    old = peek(old_parent, old_name)
    if old is None:
        raise SyscallError(errno.ENOENT)
    new = peek(new_parent, new_name)
    if flags & RENAME_NOREPLACE and new is not None:
        raise SyscallError(errno.EEXIST)
    if flags & RENAME_EXCHANGE:
        if new is None:
            raise SyscallError(errno.ENOENT)
        if (old_slash and not old.inode.is_dir()) or (new_slash and not new.inode.is_dir()):
            raise SyscallError(errno.ENOTDIR)
    elif not old.inode.is_dir() and (old_slash or new_slash):
        raise SyscallError(errno.ENOTDIR)
    if _is_ancestor(old, new_parent):
        raise SyscallError(errno.EINVAL)
    if new is not None and _is_ancestor(new, old_parent):
        raise SyscallError(errno.EINVAL if flags & RENAME_EXCHANGE else errno.ENOTEMPTY)
    if new is not None and new.inode is old.inode:
        return 0
    isdir = old.inode.is_dir()
    may_delete(old_parent, old, creds, isdir)
    if new is None:
        may_create(new_parent, creds)
    else:
        may_delete(new_parent, new, creds, isdir if not flags & RENAME_EXCHANGE else new.inode.is_dir())
    if old_parent is not new_parent:
        if isdir:
            old.inode.permission(creds, W_OK)
        if flags & RENAME_EXCHANGE and new.inode.is_dir():
            new.inode.permission(creds, W_OK)
    if old.mounted is not None or (new is not None and new.mounted is not None):
        raise SyscallError(errno.EBUSY)
    old_parent.inode.rename(old_name, new_parent.inode, new_name, flags)
    # the dentry cache follows: old moves to its new name (with its subtree)
    old_parent.children.pop(old_name, None)
    if flags & RENAME_EXCHANGE:
        new_parent.children.pop(new_name, None)
        _move(new, old_parent, old_name)
    elif new is not None:
        if fsnotify.active:
            fsnotify.notify(new, fsnotify.IN_DELETE_SELF)
        _forget(new_parent, new_name)
    _move(old, new_parent, new_name)
    if fsnotify.active:
        fsnotify.moved(old_parent, old_name, old)
        if flags & RENAME_EXCHANGE:
            fsnotify.moved(new_parent, new_name, new)
    if flags & RENAME_WHITEOUT:
        old_parent.inode.mknod(old_name, st.S_IFCHR, 0, creds)
    return 0


def _move(d, parent, name):
    d.parent = parent
    d.name = name
    if parent.inode.cacheable_children:
        parent.children[name] = d


# -- attributes: setattr_prepare's rules ------------------------------------------

def owner_or_capable(inode, creds):
    """inode_owner_or_capable: the fsuid owns it, or CAP_FOWNER."""
    return inode.stat().uid == creds.fsuid or creds.capable(CAP_FOWNER)


def _owner_or_capable(inode, creds):
    if not owner_or_capable(inode, creds):
        raise SyscallError(errno.EPERM)


def _may_setattr(inode):
    """notify_change hands the change to the filesystem's setattr, whose setattr_prepare
    makes the permission checks: one that refuses all changes (anon_inode_setattr)
    does so before them."""
    if not inode.setattr_supported:
        raise SyscallError(errno.EOPNOTSUPP)


def chmod(dentry, mode, creds):
    want_write(dentry)
    inode = dentry.inode
    _may_setattr(inode)
    check_mutable(inode)
    _owner_or_capable(inode, creds)
    mode &= 0o7777
    if (not inode.is_dir() and mode & S_ISGID and not creds.in_group(inode.stat().gid)
            and not creds.capable(CAP_FSETID)):
        mode &= ~S_ISGID        # one may not give a file the setgid bit of a group one is not in
    inode.setattr(mode=mode)
    _changed(dentry, fsnotify.IN_ATTRIB)


def set_flags(dentry, inode, flags, creds):
    """FS_IOC_SETFLAGS (ioctl_setflags, vfs_fileattr_set): a writable mount, a
    filesystem with inode flags, the owner (or CAP_FOWNER); changing immutable
    or append-only needs CAP_LINUX_IMMUTABLE."""
    want_write(dentry)
    old = inode.fileattr_get()
    _owner_or_capable(inode, creds)
    if (old ^ flags) & (FS_APPEND_FL | FS_IMMUTABLE_FL) and not creds.capable(CAP_LINUX_IMMUTABLE):
        raise SyscallError(errno.EPERM)
    inode.fileattr_set(flags)


def _changed(dentry, mask):
    if fsnotify.active:
        fsnotify.notify(dentry, mask)


def chown(dentry, uid, gid, creds):
    """uid/gid of -1 (None here) leave that id alone; setuid/setgid bits go as chown_common says."""
    want_write(dentry)
    inode = dentry.inode
    _may_setattr(inode)
    check_mutable(inode)
    s = inode.stat()
    if not creds.capable(CAP_CHOWN):
        if uid is not None and uid != s.uid:
            raise SyscallError(errno.EPERM)
        if gid is not None and gid != s.gid and (s.uid != creds.fsuid or not creds.in_group(gid)):
            raise SyscallError(errno.EPERM)
        if uid is None and gid is None:
            pass
        elif s.uid != creds.fsuid:
            raise SyscallError(errno.EPERM)
    mode = None
    if not inode.is_dir() and not st.S_ISLNK(s.mode):
        mode = s.mode & 0o7777 & ~S_ISUID
        if (s.mode & (S_ISGID | 0o010)) == (S_ISGID | 0o010):
            mode &= ~S_ISGID
        if mode == s.mode & 0o7777:
            mode = None
    inode.setattr(mode=mode, uid=uid, gid=gid)
    _changed(dentry, fsnotify.IN_ATTRIB)


def utimes(dentry, atime_ns, mtime_ns, creds, to_now):
    """utimensat's rule: times set to now need ownership or write permission; set to
    given values, ownership. atime_ns/mtime_ns None = omit."""
    want_write(dentry)
    inode = dentry.inode
    _may_setattr(inode)
    if not to_now:
        check_mutable(inode)
    elif inode.attr_flags & FS_IMMUTABLE_FL:
        raise SyscallError(errno.EPERM)         # (an append-only file's times may go to now)
    if not owner_or_capable(inode, creds):
        if not to_now:
            raise SyscallError(errno.EPERM)
        inode.permission(creds, W_OK)
    inode.setattr(atime_ns=atime_ns, mtime_ns=mtime_ns)
    _changed(dentry, fsnotify.IN_ATTRIB)


def truncate(dentry, size, creds, check_perm=True, size_ok=None, waker=None):
    """do_truncate's checks, then the new size; size_ok(inode) may refuse it
    (the caller's RLIMIT_FSIZE). With a waker (truncate(2)'s: vfs_truncate) leases
    are broken first, which may wait (vfs/leases.py)."""
    want_write(dentry)
    inode = dentry.inode
    if inode.is_dir():
        raise SyscallError(errno.EISDIR)
    if not st.S_ISREG(inode.mode):
        raise SyscallError(errno.EINVAL)
    if check_perm:      # truncate(2); an open with O_TRUNC holds write access already
        inode.permission(creds, W_OK)
        if inode.attr_flags & FS_APPEND_FL:
            raise SyscallError(errno.EPERM)
        writecount.check_write(inode)
    if waker is not None:
        leases.break_lease(inode, leases.TRUNCATE, waker)
    if size_ok is not None:
        size_ok(inode)
    inode.setattr(size=size)
    _kill_suid(inode, creds)
    _changed(dentry, fsnotify.IN_MODIFY)


def _kill_suid(inode, creds):
    """A write or truncate without CAP_FSETID clears setuid (and group-exec setgid)."""
    if creds.capable(CAP_FSETID):
        return
    m = inode.stat().mode
    kill = m & S_ISUID
    if (m & (S_ISGID | 0o010)) == (S_ISGID | 0o010):
        kill |= S_ISGID
    if kill:
        inode.setattr(mode=m & 0o7777 & ~kill)

