"""i_writecount: a regular file is either open for writing or being run, never
both (ETXTBSY).

Linux counts on the inode: each open for writing (and truncate(2) for its
duration) adds one, each running program (the exe_file of an address space,
and the files an exec holds while it loads) takes one away; whichever side
finds the other's sign gives ETXTBSY. Files are keyed here by the (st_dev,
st_ino) the model shows, which an overlay keeps across copy-up, so a program
run from the lower layer still guards the copy a writer would make.
"""
import errno

from pylinuxabi.base.errors import SyscallError

_writers = {}   # (dev, ino) -> open file descriptions that may write
_runners = {}   # (dev, ino) -> images running or being loaded


def key(inode):
    s = inode.stat()
    return s.dev, s.ino


def get_write(k):
    """get_write_access: one more writer, unless the file is being run."""
    if k in _runners:
        raise SyscallError(errno.ETXTBSY)
    _add(_writers, k, 1)


def put_write(k):
    _add(_writers, k, -1)


def deny_write(k, force=False):
    """exe_file_deny_write_access: one more running image, unless the file is open
    for writing. force: another hold on an image already held (a fork's copy of
    its parent's address space, an exec past its checks)."""
    if k in _writers and not force:
        raise SyscallError(errno.ETXTBSY)
    _add(_runners, k, 1)


def allow_write(k):
    _add(_runners, k, -1)


def _add(counts, k, step):
    n = counts.get(k, 0) + step
    if n > 0:
        counts[k] = n
    else:
        counts.pop(k, None)


def check_write(inode):
    """truncate(2) by path: write access only while it runs."""
    if key(inode) in _runners:
        raise SyscallError(errno.ETXTBSY)
