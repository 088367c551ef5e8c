"""File-lock syscalls: flock(2), fcntl(2)'s F_GETLK/F_SETLK/F_SETLKW and OFD twins, and
its leases, F_SETLEASE/F_GETLEASE.

Argument checking and struct flock; the locks themselves are vfs/locks.py's, the
leases vfs/leases.py's.
"""
import errno
import os
import stat as st

from pylinuxabi.base.abi import FLOCK
from pylinuxabi.base.creds import CAP_NAMES
from pylinuxabi.base.errors import SyscallError, check
from pylinuxabi.syscalls import sigio
from pylinuxabi.syscalls.registry import syscall
from pylinuxabi.vfs import fown, leases, locks
from pylinuxabi.vfs.file import O_PATH
from pylinuxabi.vfs.fsnotify import key
from pylinuxabi.vfs.locks import F_RDLCK, F_UNLCK, F_WRLCK, OFFSET_MAX

# struct flock: l_type, l_whence, (pad), l_start, l_len, l_pid, (pad); the pads
# are fields so that F_GETLK gives them back as the program wrote them
LOCK_SH, LOCK_EX, LOCK_NB, LOCK_UN, LOCK_MAND = 1, 2, 4, 8, 32
FLOCK_TYPES = {LOCK_SH: F_RDLCK, LOCK_EX: F_WRLCK, LOCK_UN: F_UNLCK}
F_GETLK, F_SETLK, F_SETLKW = 5, 6, 7
F_OFD_GETLK, F_OFD_SETLK, F_OFD_SETLKW = 36, 37, 38
OFD_COMMANDS = (F_OFD_GETLK, F_OFD_SETLK, F_OFD_SETLKW)
LOCK_COMMANDS = (F_GETLK, F_SETLK, F_SETLKW) + OFD_COMMANDS
F_SETLEASE, F_GETLEASE = 1024, 1025
CAP_LEASE = CAP_NAMES.index("lease")
LEASE_COMMANDS = (F_SETLEASE, F_GETLEASE)


@syscall("flock", "iU")
def flock(task, fd, cmd):
    """flock(2)."""
    if cmd & LOCK_MAND:
        return 0        # Linux ignores LOCK_MAND requests (they never locked anything)
    type = FLOCK_TYPES.get(cmd & ~LOCK_NB)
    check(type is not None, errno.EINVAL)
    f = task.files.get(fd)
    if f.flags & O_PATH or (type != F_UNLCK and not (f.readable or f.writable)):
        raise SyscallError(errno.EBADF)
    # while it waits, the kernel has task.wake_callback on the inode's queue
    locks.flock(f.inode, f, type, None if cmd & LOCK_NB else task.wake_callback)
    return 0


def fcntl_lock(task, f, cmd, arg):
    """fcntl(2) F_GETLK, F_SETLK, F_SETLKW and F_OFD_*: fcntl_getlk and fcntl_setlk."""
    if f.flags & O_PATH:
        raise SyscallError(errno.EBADF)
    fields = list(FLOCK.unpack(task.mem.read(arg, FLOCK.size)))
    l_type, whence, _, l_start, l_len, l_pid, _ = fields
    ofd = cmd in OFD_COMMANDS
    if cmd in (F_GETLK, F_OFD_GETLK):
        check(ofd or l_type in (F_RDLCK, F_WRLCK), errno.EINVAL)
    request = _request(task, f, l_type, whence, l_start, l_len)
    if cmd in (F_SETLK, F_SETLKW, F_OFD_SETLK, F_OFD_SETLKW):
        _check_mode(f, request.type)
    if ofd:
        check(l_pid == 0, errno.EINVAL)
        request.owner = f
        request.ofd = True
    if cmd in (F_GETLK, F_OFD_GETLK):
        held = locks.test_lock(f.inode, request)
        if held is None:
            fields[0] = F_UNLCK
        else:
            fields[0] = held.type
            fields[1] = os.SEEK_SET
            fields[3] = held.start
            fields[4] = 0 if held.end == OFFSET_MAX else held.end - held.start + 1
            fields[5] = -1 if held.ofd else held.pid
        task.mem.write(arg, FLOCK.pack(*fields))
        return 0
    waits = cmd in (F_SETLKW, F_OFD_SETLKW)
    # while it waits, the kernel has task.wake_callback on the inode's queue
    locks.set_lock(f.inode, request, task.wake_callback if waits else None)
    return 0


def _request(task, f, l_type, whence, l_start, l_len):
    """flock_to_posix_lock: the byte range [start, end] a struct flock names, as a POSIX request."""
    if whence == os.SEEK_SET:
        base = 0
    elif whence == os.SEEK_CUR:
        base = f.offset
    elif whence == os.SEEK_END:
        base = f.stat().size
    else:
        raise SyscallError(errno.EINVAL)
    if l_start > OFFSET_MAX - base:
        raise SyscallError(errno.EOVERFLOW)
    start = base + l_start
    check(start >= 0, errno.EINVAL)
    if l_len > 0:
        if l_len - 1 > OFFSET_MAX - start:
            raise SyscallError(errno.EOVERFLOW)
        end = start + l_len - 1
    elif l_len < 0:
        check(start + l_len >= 0, errno.EINVAL)
        start, end = start + l_len, start - 1
    else:
        end = OFFSET_MAX
    check(l_type in (F_RDLCK, F_WRLCK, F_UNLCK), errno.EINVAL)
    return locks.Lock(task.files, l_type, start, end, task.process.pid)


def _check_mode(f, type):
    """check_fmode_for_setlk: a read lock needs a readable file, a write lock a writable one."""
    if type == F_RDLCK and not f.readable or type == F_WRLCK and not f.writable:
        raise SyscallError(errno.EBADF)


# -- leases ---------------------------------------------------------------------------------
def fcntl_lease(task, f, fd, cmd, arg):
    """fcntl(2) F_GETLEASE and F_SETLEASE: fcntl_getlease, fcntl_setlease. A lease taken
    makes the caller the file's owner if it has none, to be sent the lease signal."""
    if f.flags & O_PATH:
        raise SyscallError(errno.EBADF)
    if cmd == F_GETLEASE:
        return leases.get_lease(f.inode, f) if f.dentry is not None else F_UNLCK
    type = sigio.int_arg(arg)
    check(type in (F_RDLCK, F_WRLCK, F_UNLCK), errno.EINVAL)
    _may_lease(task, f)
    if type == F_UNLCK:
        leases.remove_lease(f.inode, f)
        return 0
    leases.set_lease(f.inode, f, type, _open_counts(task, f.inode), sigio.notifier(task, f, fd))
    fown.set_owner(f, task.process.pid, fown.F_OWNER_PID, task.creds, force=False)
    return 0


def _may_lease(task, f):
    """vfs_setlease: the file's owner (by fsuid) or CAP_LEASE; a regular file (EINVAL)."""
    s = f.stat()
    if s.uid != task.creds.fsuid and not task.creds.capable(CAP_LEASE):
        raise SyscallError(errno.EACCES)
    if not st.S_ISREG(s.mode) or f.dentry is None:
        raise SyscallError(errno.EINVAL)


def _open_counts(task, inode):
    """(readers, writers): the open file descriptions of the file that the sandbox's fd
    tables hold, read-only and for writing (Linux's i_readcount and i_writecount; a
    description held elsewhere, in flight in SCM_RIGHTS or by an mmap alone, is not seen)."""
    k = key(inode)
    tables, files = set(), set()
    readers = writers = 0
    for proc in task.process.kernel.processes.values():
        table = proc.files
        if table is None or id(table) in tables:
            continue
        tables.add(id(table))
        for f in table.fds.values():
            if id(f) in files or f.dentry is None or not (f.readable or f.writable):
                continue
            files.add(id(f))
            if f.inode is inode or key(f.inode) == k:
                if f.writable:
                    writers += 1
                else:
                    readers += 1
    return readers, writers
