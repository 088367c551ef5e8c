"""hostcopy.copy_file: copy-up's data, from a host file into a memfd (another filesystem)."""
import os

from pylinuxabi.vfs.hostcopy import copy_file

MIB = 1 << 20


def _sparse(tmp_path):
    path = tmp_path / "sparse"
    with open(path, "wb") as f:
        for offset in (0, 64 * MIB):
            f.seek(offset)
            f.write(b"data %d\n" % offset)
        f.truncate(128 * MIB)
    return os.open(path, os.O_RDONLY)


def test_copy_into_a_memfd_falls_back_where_copy_file_range_is_EXDEV_and_keeps_the_holes(tmp_path):
    src = _sparse(tmp_path)
    dst = os.memfd_create("upper")
    copy_file(src, dst, 128 * MIB)
    assert os.fstat(dst).st_size == 128 * MIB
    assert os.pread(dst, 9, 0) == b"data 0\n\0\0"
    assert os.pread(dst, 14, 64 * MIB) == b"data %d\n" % (64 * MIB)
    assert os.lseek(dst, 4096, os.SEEK_DATA) == 64 * MIB        # the hole between stayed one
    assert os.fstat(dst).st_blocks * 512 < MIB


def test_copy_within_one_filesystem_keeps_the_holes_too(tmp_path):
    src = _sparse(tmp_path)
    dst = os.open(tmp_path / "copy", os.O_RDWR | os.O_CREAT)
    copy_file(src, dst, 128 * MIB)
    assert os.pread(dst, 14, 64 * MIB) == b"data %d\n" % (64 * MIB)
    assert os.fstat(dst).st_blocks * 512 < MIB


def test_copy_of_a_prefix_stops_at_size(tmp_path):
    src = _sparse(tmp_path)
    dst = os.memfd_create("upper")
    copy_file(src, dst, 5)
    assert os.fstat(dst).st_size == 5 and os.pread(dst, 10, 0) == b"data "
