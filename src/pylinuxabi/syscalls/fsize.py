"""RLIMIT_FSIZE: how far a process may make a regular file grow.

A write that starts at or past the limit fails with EFBIG and the writer gets
SIGXFSZ; one that crosses it is cut short at the limit
(generic_write_check_limits). Growing a file's size past the limit by
truncate or fallocate is the same EFBIG and SIGXFSZ (inode_newsize_ok).
"""
import errno
import os
import resource
import signal
import stat as st

from pylinuxabi.base.errors import SyscallError

RLIM_INFINITY = (1 << 64) - 1


def _limit(task):
    return task.process.rlimits[resource.RLIMIT_FSIZE][0]


def _exceeded(task):
    task.process.kernel.send_signal(task, signal.SIGXFSZ)
    return SyscallError(errno.EFBIG)


def write_room(task, f, pos, count):
    """How much of a count-byte write at pos (None: at the file offset, or the end
    with O_APPEND) the limit lets through to f. An empty write is never refused
    (generic_write_checks returns first)."""
    return count and check_limits(task, f, pos, count)


def check_limits(task, f, pos, count):
    """generic_write_check_limits, which copy_file_range applies even to nothing."""
    limit = _limit(task)
    if limit == RLIM_INFINITY or not st.S_ISREG(f.inode.mode):
        return count
    if pos is None or f.flags & os.O_APPEND:
        # (a file the host holds for us, as stdout redirected to a file, keeps its
        # offset in the host's description: lseek asks it)
        pos = f.stat().size if f.flags & os.O_APPEND else f.lseek(0, os.SEEK_CUR)
    if pos >= limit:
        raise _exceeded(task)
    return min(count, limit - pos)


def check_size(task, inode, size):
    """A regular file's size becoming size (truncate, fallocate): growing past the
    limit is refused; shrinking never is."""
    limit = _limit(task)
    if limit != RLIM_INFINITY and size > limit and size > inode.stat().size:
        raise _exceeded(task)
