"""struct stat and struct statx as base/abi.py packs them, read back at the kernel's offsets.

The offsets below are written out from the x86-64 uapi headers
(asm/stat.h, linux/stat.h), independently of abi.py, and the values come
from os.stat of real files; statx is also compared with the host kernel's own.
"""
import os
import stat
import struct

import pytest

from pylinuxabi.base import abi
from pylinuxabi.vfs.hostfs import HostFS
from pylinuxabi.vfs.inode import Stat

# struct stat (x86-64): field -> (offset, format)
STAT_FIELDS = {
    "st_dev": (0, "Q"), "st_ino": (8, "Q"), "st_nlink": (16, "Q"), "st_mode": (24, "I"),
    "st_uid": (28, "I"), "st_gid": (32, "I"), "st_rdev": (40, "Q"), "st_size": (48, "q"),
    "st_blksize": (56, "q"), "st_blocks": (64, "q"),
    "st_atime": (72, "q"), "st_atime_nsec": (80, "q"),
    "st_mtime": (88, "q"), "st_mtime_nsec": (96, "q"),
    "st_ctime": (104, "q"), "st_ctime_nsec": (112, "q"),
}
# struct statx: field -> (offset, format)
STATX_FIELDS = {
    "stx_mask": (0, "I"), "stx_blksize": (4, "I"), "stx_attributes": (8, "Q"),
    "stx_nlink": (16, "I"), "stx_uid": (20, "I"), "stx_gid": (24, "I"), "stx_mode": (28, "H"),
    "stx_ino": (32, "Q"), "stx_size": (40, "Q"), "stx_blocks": (48, "Q"),
    "stx_atime.tv_sec": (64, "q"), "stx_atime.tv_nsec": (72, "I"),
    "stx_btime.tv_sec": (80, "q"), "stx_btime.tv_nsec": (88, "I"),
    "stx_ctime.tv_sec": (96, "q"), "stx_ctime.tv_nsec": (104, "I"),
    "stx_mtime.tv_sec": (112, "q"), "stx_mtime.tv_nsec": (120, "I"),
    "stx_rdev_major": (128, "I"), "stx_rdev_minor": (132, "I"),
    "stx_dev_major": (136, "I"), "stx_dev_minor": (140, "I"),
}
STATX_BASIC_STATS, STATX_BTIME = 0x7FF, 0x800
# what pack_statx fills from a Stat, and so what it must agree with the kernel on
BASIC_STATX = [f for f in STATX_FIELDS if not f.startswith(("stx_mask", "stx_attributes", "stx_btime"))]


def unpack(layout, data):
    return {name: struct.unpack_from("<" + fmt, data, off)[0] for name, (off, fmt) in layout.items()}


def expected_stat(s):
    return {
        "st_dev": s.st_dev, "st_ino": s.st_ino, "st_nlink": s.st_nlink, "st_mode": s.st_mode,
        "st_uid": s.st_uid, "st_gid": s.st_gid, "st_rdev": s.st_rdev, "st_size": s.st_size,
        "st_blksize": s.st_blksize, "st_blocks": s.st_blocks,
        "st_atime": s.st_atime_ns // 10**9, "st_atime_nsec": s.st_atime_ns % 10**9,
        "st_mtime": s.st_mtime_ns // 10**9, "st_mtime_nsec": s.st_mtime_ns % 10**9,
        "st_ctime": s.st_ctime_ns // 10**9, "st_ctime_nsec": s.st_ctime_ns % 10**9,
    }


def expected_statx(s):
    return {
        "stx_blksize": s.st_blksize, "stx_nlink": s.st_nlink, "stx_uid": s.st_uid,
        "stx_gid": s.st_gid, "stx_mode": s.st_mode, "stx_ino": s.st_ino, "stx_size": s.st_size,
        "stx_blocks": s.st_blocks,
        "stx_atime.tv_sec": s.st_atime_ns // 10**9, "stx_atime.tv_nsec": s.st_atime_ns % 10**9,
        "stx_ctime.tv_sec": s.st_ctime_ns // 10**9, "stx_ctime.tv_nsec": s.st_ctime_ns % 10**9,
        "stx_mtime.tv_sec": s.st_mtime_ns // 10**9, "stx_mtime.tv_nsec": s.st_mtime_ns % 10**9,
        "stx_rdev_major": os.major(s.st_rdev), "stx_rdev_minor": os.minor(s.st_rdev),
        "stx_dev_major": os.major(s.st_dev), "stx_dev_minor": os.minor(s.st_dev),
    }


@pytest.fixture
def regular_file(tmp_path):
    path = tmp_path / "data"
    path.write_bytes(b"x" * 12345)
    os.utime(path, ns=(1_600_000_000_123_456_789, 1_700_000_000_987_654_321))
    return path


# --------------------------------------------------------------------------
# struct stat

def test_struct_stat_is_144_bytes():
    assert abi.STAT.size == 144
    assert len(abi.pack_stat(Stat())) == 144


def test_pack_stat_puts_each_field_at_its_offset(regular_file):
    s = os.stat(regular_file)
    assert unpack(STAT_FIELDS, abi.pack_stat(Stat.from_host(s))) == expected_stat(s)


def test_pack_stat_of_a_device_carries_its_rdev():
    s = os.stat("/dev/null")
    assert stat.S_ISCHR(s.st_mode)
    assert unpack(STAT_FIELDS, abi.pack_stat(Stat.from_host(s))) == expected_stat(s)


def test_pack_stat_leaves_padding_and_unused_words_zero(regular_file):
    data = abi.pack_stat(Stat.from_host(os.stat(regular_file)))
    assert data[36:40] == bytes(4)          # __pad0
    assert data[120:144] == bytes(24)       # __unused[3]


# --------------------------------------------------------------------------
# struct statx

def test_struct_statx_is_256_bytes():
    assert abi.STATX_SIZE == 256
    assert len(abi.pack_statx(Stat())) == 256


def test_pack_statx_puts_each_field_at_its_offset(regular_file):
    s = os.stat(regular_file)
    got = unpack(STATX_FIELDS, abi.pack_statx(Stat.from_host(s)))
    assert {k: got[k] for k in BASIC_STATX} == expected_statx(s)


def test_pack_statx_splits_device_numbers_into_major_and_minor():
    s = os.stat("/dev/null")
    got = unpack(STATX_FIELDS, abi.pack_statx(Stat.from_host(s)))
    assert (got["stx_rdev_major"], got["stx_rdev_minor"]) == (1, 3)


def test_pack_statx_handles_minor_numbers_above_255():
    dev = os.makedev(259, 0x12345)
    got = unpack(STATX_FIELDS, abi.pack_statx(Stat(dev=dev, rdev=dev)))
    assert (got["stx_dev_major"], got["stx_dev_minor"]) == (259, 0x12345)
    assert (got["stx_rdev_major"], got["stx_rdev_minor"]) == (259, 0x12345)


def test_pack_statx_mask_has_the_basic_stats_without_btime_when_unknown(regular_file):
    got = unpack(STATX_FIELDS, abi.pack_statx(Stat.from_host(os.stat(regular_file))))
    assert got["stx_mask"] == STATX_BASIC_STATS
    assert (got["stx_btime.tv_sec"], got["stx_btime.tv_nsec"]) == (0, 0)


def test_pack_statx_reports_btime_when_the_filesystem_knows_it():
    got = unpack(STATX_FIELDS, abi.pack_statx(Stat(btime_ns=1_500_000_000_000_000_042)))
    assert got["stx_mask"] == STATX_BASIC_STATS | STATX_BTIME
    assert (got["stx_btime.tv_sec"], got["stx_btime.tv_nsec"]) == (1_500_000_000, 42)


def test_pack_statx_keeps_the_reserved_timestamp_words_zero(regular_file):
    data = abi.pack_statx(Stat.from_host(os.stat(regular_file)))
    for ts in (64, 80, 96, 112):
        assert data[ts + 12:ts + 16] == bytes(4)       # __reserved of struct statx_timestamp


def test_pack_statx_agrees_with_the_hosts_statx(regular_file):
    # the host kernel fills struct statx itself; the fields we model must sit where it puts them
    fs = HostFS(str(regular_file.parent))
    host_bytes = fs.root_inode.lookup(b"data").statx(STATX_BASIC_STATS)
    assert len(host_bytes) == 256
    host = unpack(STATX_FIELDS, host_bytes)
    ours = unpack(STATX_FIELDS, abi.pack_statx(Stat.from_host(os.stat(regular_file))))
    assert host["stx_mask"] & STATX_BASIC_STATS == STATX_BASIC_STATS
    assert {k: ours[k] for k in BASIC_STATX} == {k: host[k] for k in BASIC_STATX}
