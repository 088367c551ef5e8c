"""readahead(2): advice to read a file's pages ahead, which changes no result.

Only the arguments are checked, as ksys_readahead and generic_fadvise check them.
"""
import errno
import stat as st

from pylinuxabi.base.errors import check
from pylinuxabi.syscalls.registry import syscall


@syscall("readahead", "ilu")
def readahead(task, fd, offset, count):
    """readahead(2): regular files (and block devices) only; 0, as the page cache is the host's."""
    f = task.files.get_file(fd)
    f.check_readable()
    mode = f.stat().mode
    check(st.S_ISREG(mode) or st.S_ISBLK(mode), errno.EINVAL)
    check(count < 1 << 63, errno.EINVAL)           # (a negative loff_t length)
    return 0
