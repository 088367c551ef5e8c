"""Syscalls that change a file's attributes or data size, and the sync family.

chmod, chown, utime(s/nsat), truncate, fallocate, fsync and friends: argument
checks here, the shared rules in vfs/namei.py, the change in the inode.
"""
import errno
import stat as st
import time

from pylinuxabi.base.abi import TIMESPEC, TIMEVAL, UTIMBUF
from pylinuxabi.base.errors import SyscallError, check
from pylinuxabi.kernel.paths import AT_EMPTY_PATH, AT_FDCWD, AT_SYMLINK_NOFOLLOW, lookup, read_path
from pylinuxabi.syscalls import fsize
from pylinuxabi.syscalls.registry import syscall
from pylinuxabi.vfs import namei
from pylinuxabi.vfs.file import MAX_LFS_FILESIZE, O_PATH
from pylinuxabi.vfs.inode import FS_APPEND_FL, FS_IMMUTABLE_FL
from pylinuxabi.vfs.procfs import file_dentry

UTIME_NOW = (1 << 30) - 1
UTIME_OMIT = (1 << 30) - 2
FALLOC_FL_KEEP_SIZE, FALLOC_FL_PUNCH_HOLE, FALLOC_FL_NO_HIDE_STALE = 0x01, 0x02, 0x04
FALLOC_FL_COLLAPSE_RANGE, FALLOC_FL_ZERO_RANGE, FALLOC_FL_INSERT_RANGE = 0x08, 0x10, 0x20
FALLOC_FL_UNSHARE_RANGE, FALLOC_FL_WRITE_ZEROES = 0x40, 0x80
FALLOC_SUPPORTED = (FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE | FALLOC_FL_COLLAPSE_RANGE
                    | FALLOC_FL_ZERO_RANGE | FALLOC_FL_INSERT_RANGE | FALLOC_FL_UNSHARE_RANGE
                    | FALLOC_FL_WRITE_ZEROES)
SYNC_FILE_RANGE_VALID = 0x1 | 0x2 | 0x4


def _fd_dentry(task, fd):
    """The dentry of fd for f*() calls, which do not take O_PATH files."""
    return file_dentry(task.files.get_file(fd))


def _at(task, dirfd, path_addr, flags, allowed):
    check(not flags & ~allowed, errno.EINVAL)
    path = read_path(task, path_addr)
    return lookup(task, dirfd, path, follow=not flags & AT_SYMLINK_NOFOLLOW,
                  empty_path=bool(flags & AT_EMPTY_PATH))


# -- chmod ------------------------------------------------------------------------

@syscall("chmod", "uU")
def chmod(task, path, mode):
    """chmod(2)."""
    namei.chmod(lookup(task, AT_FDCWD, read_path(task, path)), mode, task.creds)
    return 0


@syscall("fchmod", "iU")
def fchmod(task, fd, mode):
    """fchmod(2)."""
    namei.chmod(_fd_dentry(task, fd), mode, task.creds)
    return 0


@syscall("fchmodat", "iuU")
def fchmodat(task, dirfd, path, mode):
    """fchmodat(2): the raw call has no flags."""
    namei.chmod(lookup(task, dirfd, read_path(task, path)), mode, task.creds)
    return 0


@syscall("fchmodat2", "iuUi")
def fchmodat2(task, dirfd, path, mode, flags):
    """fchmodat2(2): AT_SYMLINK_NOFOLLOW and AT_EMPTY_PATH; a symlink's mode cannot change."""
    d = _at(task, dirfd, path, flags, AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)
    if d.inode.is_symlink():
        raise SyscallError(errno.EOPNOTSUPP)
    namei.chmod(d, mode, task.creds)
    return 0


# -- chown ------------------------------------------------------------------------

def _ids(uid, gid):
    return (None if uid == 0xFFFFFFFF else uid), (None if gid == 0xFFFFFFFF else gid)


@syscall("chown", "uUU")
def chown(task, path, uid, gid):
    """chown(2)."""
    namei.chown(lookup(task, AT_FDCWD, read_path(task, path)), *_ids(uid, gid), task.creds)
    return 0


@syscall("lchown", "uUU")
def lchown(task, path, uid, gid):
    """lchown(2)."""
    namei.chown(lookup(task, AT_FDCWD, read_path(task, path), follow=False), *_ids(uid, gid), task.creds)
    return 0


@syscall("fchown", "iUU")
def fchown(task, fd, uid, gid):
    """fchown(2)."""
    namei.chown(_fd_dentry(task, fd), *_ids(uid, gid), task.creds)
    return 0


@syscall("fchownat", "iuUUi")
def fchownat(task, dirfd, path, uid, gid, flags):
    """fchownat(2)."""
    d = _at(task, dirfd, path, flags, AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)
    namei.chown(d, *_ids(uid, gid), task.creds)
    return 0


# -- times --------------------------------------------------------------------------

def _set_times(task, dentry, times):
    """times: None (both now) or ((sec, nsec), (sec, nsec)) with UTIME_NOW/UTIME_OMIT."""
    if times is None:
        now = time.time_ns()
        namei.utimes(dentry, now, now, task.creds, to_now=True)
        return 0
    (asec, ansec), (msec, mnsec) = times
    if ansec == UTIME_OMIT and mnsec == UTIME_OMIT:
        return 0
    now = time.time_ns()

    def ns(sec, nsec):
        if nsec == UTIME_OMIT:
            return None
        return now if nsec == UTIME_NOW else sec * 10**9 + nsec

    # only "both now" is a touch that write permission allows; anything else needs ownership
    to_now = ansec == UTIME_NOW and mnsec == UTIME_NOW
    namei.utimes(dentry, ns(asec, ansec), ns(msec, mnsec), task.creds, to_now)
    return 0


def _read_timespecs(task, addr):
    if addr == 0:
        return None
    raw = task.mem.read(addr, 2 * TIMESPEC.size)
    times = (TIMESPEC.unpack_from(raw, 0), TIMESPEC.unpack_from(raw, TIMESPEC.size))
    for sec, nsec in times:
        if nsec not in (UTIME_NOW, UTIME_OMIT) and not 0 <= nsec < 10**9:
            raise SyscallError(errno.EINVAL)
    return times


def _read_timevals(task, addr):
    if addr == 0:
        return None
    raw = task.mem.read(addr, 2 * TIMEVAL.size)
    times = (TIMEVAL.unpack_from(raw, 0), TIMEVAL.unpack_from(raw, TIMEVAL.size))
    for sec, usec in times:
        check(0 <= usec < 10**6, errno.EINVAL)
    return tuple((sec, usec * 1000) for sec, usec in times)


@syscall("utimensat", "iuui")
def utimensat(task, dirfd, path, times, flags):
    """utimensat(2): a NULL path means dirfd itself (futimens)."""
    t = _read_timespecs(task, times)
    check(not flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH), errno.EINVAL)
    if path == 0:
        check(not flags & AT_SYMLINK_NOFOLLOW, errno.EINVAL)
        if dirfd == AT_FDCWD:
            raise SyscallError(errno.EFAULT)
        d = _fd_dentry(task, dirfd)
    else:
        d = _at(task, dirfd, path, flags, AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)
    return _set_times(task, d, t)


@syscall("futimesat", "iuu")
def futimesat(task, dirfd, path, times):
    """futimesat(2)."""
    t = _read_timevals(task, times)
    if path == 0:
        return _set_times(task, _fd_dentry(task, dirfd), t)
    return _set_times(task, lookup(task, dirfd, read_path(task, path)), t)


@syscall("utimes", "uu")
def utimes(task, path, times):
    """utimes(2)."""
    t = _read_timevals(task, times)
    return _set_times(task, lookup(task, AT_FDCWD, read_path(task, path)), t)


@syscall("utime", "uu")
def utime(task, path, times):
    """utime(2): whole seconds."""
    t = None
    if times:
        actime, modtime = UTIMBUF.unpack(task.mem.read(times, UTIMBUF.size))
        t = ((actime, 0), (modtime, 0))
    return _set_times(task, lookup(task, AT_FDCWD, read_path(task, path)), t)


# -- size -------------------------------------------------------------------------------

@syscall("truncate", "ul")
def truncate(task, path, length):
    """truncate(2)."""
    d = lookup(task, AT_FDCWD, read_path(task, path))
    check(length >= 0, errno.EINVAL)
    namei.truncate(d, length, task.creds, size_ok=lambda inode: fsize.check_size(task, inode, length),
                   waker=task.wake_callback)
    return 0


@syscall("ftruncate", "il")
def ftruncate(task, fd, length):
    """ftruncate(2): needs an fd open for writing (EINVAL otherwise)."""
    check(length >= 0, errno.EINVAL)
    f = task.files.get_file(fd)
    if not st.S_ISREG(f.inode.mode) or not f.writable:
        raise SyscallError(errno.EINVAL)
    if f.inode.attr_flags & FS_APPEND_FL:
        raise SyscallError(errno.EPERM)
    fsize.check_size(task, f.inode, length)
    f.inode.setattr(size=length)
    return 0


@syscall("fallocate", "iill")
def fallocate(task, fd, mode, offset, length):
    """fallocate(2), checked in vfs_fallocate's order."""
    f = task.files.get(fd)
    check(offset >= 0 and length > 0, errno.EINVAL)
    if mode & ~FALLOC_SUPPORTED:
        raise SyscallError(errno.EOPNOTSUPP)
    if mode & FALLOC_FL_PUNCH_HOLE and not mode & FALLOC_FL_KEEP_SIZE:
        raise SyscallError(errno.EOPNOTSUPP)
    if f.flags & O_PATH or not f.writable:
        raise SyscallError(errno.EBADF)
    if f.inode.attr_flags & FS_IMMUTABLE_FL or f.inode.attr_flags & FS_APPEND_FL and mode & ~FALLOC_FL_KEEP_SIZE:
        raise SyscallError(errno.EPERM)
    m = f.inode.mode
    if st.S_ISFIFO(m):
        raise SyscallError(errno.ESPIPE)
    if st.S_ISDIR(m):
        raise SyscallError(errno.EISDIR)
    if not st.S_ISREG(m):
        raise SyscallError(errno.ENODEV)
    if offset + length > MAX_LFS_FILESIZE:
        raise SyscallError(errno.EFBIG)
    if not mode & FALLOC_FL_KEEP_SIZE or (f.inode.fallocate_limits_kept_size and not mode & FALLOC_FL_PUNCH_HOLE):
        fsize.check_size(task, f.inode, offset + length)
    f.inode.fallocate(mode, offset, length)
    return 0


# -- sync ------------------------------------------------------------------------------------
# Our filesystems live in memory or on the host's: files of a writable hostfs are
# fsynced on the host; the rest have nothing to write back, but the arguments are
# checked as Linux does.

def _syncable(task, fd):
    f = task.files.get_file(fd)
    if f.dentry is None and not f.host_backed:
        raise SyscallError(errno.EINVAL)        # anonymous files (pidfds…) have no fsync
    return f


@syscall("fsync", "i")
def fsync(task, fd):
    """fsync(2)."""
    _syncable(task, fd).fsync(datasync=False)
    return 0


@syscall("fdatasync", "i")
def fdatasync(task, fd):
    """fdatasync(2)."""
    _syncable(task, fd).fsync(datasync=True)
    return 0


@syscall("syncfs", "i")
def syncfs(task, fd):
    """syncfs(2)."""
    task.files.get_file(fd)
    return 0


@syscall("sync")
def sync(task):
    """sync(2)."""
    return 0


@syscall("sync_file_range", "illU")
def sync_file_range(task, fd, offset, nbytes, flags):
    """sync_file_range(2)."""
    check(not flags & ~SYNC_FILE_RANGE_VALID, errno.EINVAL)
    check(offset >= 0 and nbytes >= 0 and offset + nbytes >= 0, errno.EINVAL)
    f = task.files.get_file(fd)
    if not st.S_ISREG(f.inode.mode) and not st.S_ISDIR(f.inode.mode) and not st.S_ISLNK(f.inode.mode):
        raise SyscallError(errno.ESPIPE)
    return 0

