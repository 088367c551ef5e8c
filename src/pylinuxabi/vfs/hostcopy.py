"""hostcopy: a host file's bytes copied into another host fd, holes kept (copy-up's data).

Touches only the two host fds it is given; knows nothing of inodes or tasks.
"""
import errno
import os

CHUNK = 1 << 20                 # read+write fallback: bounded memory per step
EXTENT_MAX = 1 << 30            # one copy_file_range or sendfile call at most
# what copy_file_range answers when it cannot copy between these two files
# (this kernel refuses any two filesystems: EXDEV); sendfile then read+write do
NO_COPY_RANGE = (errno.EXDEV, errno.EINVAL, errno.EOPNOTSUPP, errno.ENOSYS, errno.EBADF)


def copy_file(src, dst, size):
    """Make dst (a fresh, empty host fd) a copy of the first `size` bytes of src:
    only src's data extents are written, so its holes stay holes (as overlayfs's
    ovl_copy_up_file with SEEK_DATA/SEEK_HOLE). Raises OSError."""
    os.ftruncate(dst, size)
    offset = 0
    while offset < size:
        start, end = _next_extent(src, offset, size)
        if start >= end:
            break
        _copy_extent(src, dst, start, end)
        offset = end


def _next_extent(src, offset, size):
    """[start, end) of the first data extent of src at or after offset (clipped to size)."""
    try:
        start = os.lseek(src, offset, os.SEEK_DATA)
    except OSError as e:
        if e.errno == errno.ENXIO:      # only a hole left
            return size, size
        if e.errno != errno.EINVAL:     # (EINVAL: no SEEK_DATA here: all of it is data)
            raise
        return offset, size
    end = os.lseek(src, start, os.SEEK_HOLE)
    return min(start, size), min(end, size)


def _copy_extent(src, dst, start, end):
    done = start
    while done < end:
        n = _copy_some(src, dst, done, min(end - done, EXTENT_MAX))
        if n == 0:                      # src shrank meanwhile: the rest stays a hole
            return
        done += n


def _copy_some(src, dst, offset, count):
    """Copy up to count bytes at offset from src to the same offset of dst; how many."""
    try:
        return os.copy_file_range(src, dst, count, offset, offset)
    except OSError as e:
        if e.errno not in NO_COPY_RANGE:
            raise
    os.lseek(dst, offset, os.SEEK_SET)     # sendfile writes at dst's own position
    try:
        return os.sendfile(dst, src, offset, count)
    except OSError as e:
        if e.errno not in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
            raise
    data = os.pread(src, min(count, CHUNK), offset)
    view = memoryview(data)
    while view:
        n = os.pwrite(dst, view, offset)
        view, offset = view[n:], offset + n
    return len(data)
