"""hostfs (vfs/hostfs.py): a host directory served read-only and confined to itself.

The tree is a temporary host directory; the walk's root is the HostFS root
mount, so symlinks pointing outside it must land inside it, as in a chroot.
"""
import errno
import os
import stat
import struct

import pytest

from pylinuxabi.base.creds import Creds
from pylinuxabi.base.errors import SyscallError
from pylinuxabi.vfs.file import O_PATH
from pylinuxabi.vfs.hostfs import HostFS
from pylinuxabi.vfs.mount import Mount, MountTable
from pylinuxabi.vfs.path import WalkContext, resolve

DIRENT64 = struct.Struct("<QqHB")       # d_ino, d_off, d_reclen, d_type
DT_DIR, DT_REG, DT_LNK = 4, 8, 10
HELLO = b"hello, world\n"


class HostTree:
    """tree/
        hello.txt           "hello, world\\n"
        x                   "the tree's own x"
        sub/inner.txt
        etc/passwd          a fake passwd
        passwd_link  ->  /etc/passwd
        escape       ->  ../../x
        etc_link     ->  /etc
    """

    def __init__(self, path):
        self.path = path
        (path / "hello.txt").write_bytes(HELLO)
        (path / "x").write_bytes(b"the tree's own x")
        (path / "sub").mkdir()
        (path / "sub" / "inner.txt").write_bytes(b"inner")
        (path / "etc").mkdir()
        (path / "etc" / "passwd").write_bytes(b"fake:x:0:0::/:/bin/false\n")
        os.symlink("/etc/passwd", path / "passwd_link")
        os.symlink("../../x", path / "escape")
        os.symlink("/etc", path / "etc_link")
        self.fs = HostFS(str(path))
        self.table = MountTable(Mount("hostfs", str(path).encode(), self.fs.root_inode, readonly=True))
        self.root = self.table.root
        self.opened = []

    def walk(self, path, follow=True):
        return resolve(WalkContext(self.root, Creds()), self.root, path, follow)

    def open(self, path, flags=os.O_RDONLY):
        d = self.walk(path)
        f = d.inode.open(d, flags, None)
        self.opened.append(f)
        return f

    def close(self):
        for f in self.opened:
            f.release()


@pytest.fixture
def host(tmp_path):
    h = HostTree(tmp_path)
    yield h
    h.close()


def errno_of(fn, *args, **kwargs):
    with pytest.raises(SyscallError) as info:
        fn(*args, **kwargs)
    return errno.errorcode[info.value.errno]


def parse_dirents(data):
    """[(d_ino, d_off, d_reclen, d_type, name)] from raw linux_dirent64 records."""
    out, pos = [], 0
    while pos < len(data):
        ino, off, reclen, dtype = DIRENT64.unpack_from(data, pos)
        assert reclen >= DIRENT64.size + 2 and reclen % 8 == 0, "d_reclen is 8-byte aligned"
        raw = data[pos + DIRENT64.size: pos + reclen]
        assert b"\0" in raw, "d_name is NUL-terminated inside the record"
        out.append((ino, off, reclen, dtype, raw[:raw.index(b"\0")]))
        pos += reclen
    assert pos == len(data), "records fill the returned bytes exactly"
    return out


# --------------------------------------------------------------------------
# lookups stay inside the tree

def test_HostFS_of_a_missing_directory_raises_OSError(tmp_path):
    with pytest.raises(OSError):
        HostFS(str(tmp_path / "missing"))


def test_symlink_is_looked_up_as_a_symlink_inode(host):
    inode = host.fs.root_inode.lookup(b"passwd_link")
    assert inode.is_symlink()
    assert inode.readlink() == b"/etc/passwd"


def test_symlink_is_not_followed_without_follow(host):
    d = host.walk(b"/passwd_link", follow=False)
    assert d.inode.is_symlink()
    assert stat.S_ISLNK(d.inode.stat().mode)


def test_absolute_symlink_resolves_inside_the_tree(host):
    f = host.open(b"/passwd_link")
    assert f.pread(100, 0) == b"fake:x:0:0::/:/bin/false\n"


def test_absolute_symlink_to_a_directory_resolves_inside_the_tree(host):
    assert host.walk(b"/etc_link/passwd").inode.stat().ino == os.stat(host.path / "etc" / "passwd").st_ino


def test_dotdot_symlink_is_clamped_at_the_tree_root(host):
    f = host.open(b"/escape")
    assert f.pread(100, 0) == b"the tree's own x"


def test_dotdot_at_the_root_stays_at_the_root(host):
    assert host.walk(b"/..") is host.root
    assert host.walk(b"/../../..") is host.root
    assert host.open(b"/../../x").pread(100, 0) == b"the tree's own x"


def test_dotdot_from_a_subdirectory_is_its_parent(host):
    assert host.walk(b"/sub/..") is host.root


def test_missing_name_is_ENOENT(host):
    assert errno_of(host.walk, b"/nope") == "ENOENT"


def test_name_under_a_regular_file_is_ENOTDIR(host):
    assert errno_of(host.walk, b"/hello.txt/x") == "ENOTDIR"


def test_stat_is_the_hosts_lstat(host):
    s = host.walk(b"/sub/inner.txt").inode.stat()
    h = os.lstat(host.path / "sub" / "inner.txt")
    assert (s.ino, s.dev, s.mode, s.size, s.nlink, s.mtime_ns) == \
        (h.st_ino, h.st_dev, h.st_mode, h.st_size, h.st_nlink, h.st_mtime_ns)


def test_directories_and_files_have_their_types(host):
    assert host.walk(b"/sub").inode.is_dir()
    assert not host.walk(b"/hello.txt").inode.is_dir()
    assert not host.walk(b"/hello.txt").inode.is_symlink()


# --------------------------------------------------------------------------
# read-only opens

@pytest.mark.parametrize("flags", [os.O_WRONLY, os.O_RDWR, os.O_RDONLY | os.O_TRUNC,
                                   os.O_WRONLY | os.O_TRUNC], ids=["O_WRONLY", "O_RDWR",
                                   "O_RDONLY|O_TRUNC", "O_WRONLY|O_TRUNC"])
def test_open_for_writing_or_truncating_is_EROFS(host, flags):
    d = host.walk(b"/hello.txt")
    assert errno_of(d.inode.open, d, flags, None) == "EROFS"


def test_open_with_O_PATH_is_allowed_whatever_the_access_mode(host):
    d = host.walk(b"/hello.txt")
    f = d.inode.open(d, O_PATH | os.O_WRONLY, None)
    assert not f.readable and not f.writable


def test_read_only_open_does_not_change_the_host_file(host):
    before = os.stat(host.path / "hello.txt")
    host.open(b"/hello.txt").pread(100, 0)
    after = os.stat(host.path / "hello.txt")
    assert (after.st_size, after.st_mtime_ns) == (before.st_size, before.st_mtime_ns)


# --------------------------------------------------------------------------
# reading

def test_pread_reads_at_the_given_offset(host):
    f = host.open(b"/hello.txt")
    assert f.pread(5, 7) == b"world"


def test_pread_does_not_move_the_file_offset(host):
    f = host.open(b"/hello.txt")
    f.pread(5, 7)
    assert f.offset == 0
    assert f.read(5) == b"hello"
    assert f.offset == 5


def test_pread_at_or_past_the_end_returns_no_bytes(host):
    f = host.open(b"/hello.txt")
    assert f.pread(10, len(HELLO)) == b""
    assert f.pread(10, len(HELLO) + 100) == b""


def test_pread_is_cut_at_the_end_of_the_file(host):
    assert host.open(b"/hello.txt").pread(4096, 0) == HELLO


def test_pread_of_a_directory_is_EISDIR(host):
    assert errno_of(host.open(b"/sub").pread, 10, 0) == "EISDIR"


def test_getdents64_of_a_regular_file_is_ENOTDIR(host):
    assert errno_of(host.open(b"/hello.txt").getdents64, 4096) == "ENOTDIR"


def test_release_closes_the_host_fd(host):
    d = host.walk(b"/hello.txt")
    f = d.inode.open(d, os.O_RDONLY, None)
    fd = f.fd
    f.release()
    with pytest.raises(OSError) as info:
        os.fstat(fd)
    assert info.value.errno == errno.EBADF


# --------------------------------------------------------------------------
# getdents64

def test_getdents64_lists_every_name_of_the_directory(host):
    entries = parse_dirents(host.open(b"/").getdents64(4096))
    names = sorted(e[4] for e in entries)
    assert names == sorted([b".", b"..", b"hello.txt", b"x", b"sub", b"etc",
                            b"passwd_link", b"escape", b"etc_link"])


def test_getdents64_records_carry_the_inode_and_type_of_each_name(host):
    entries = parse_dirents(host.open(b"/").getdents64(4096))
    types = {b"hello.txt": DT_REG, b"sub": DT_DIR, b"passwd_link": DT_LNK}
    for ino, _, _, dtype, name in entries:
        if name in types:
            assert dtype == types[name], name
            assert ino == os.lstat(host.path / name.decode()).st_ino, name


def test_getdents64_at_the_end_returns_nothing(host):
    f = host.open(b"/sub")
    assert parse_dirents(f.getdents64(4096))
    assert f.getdents64(4096) == b""


def test_getdents64_with_a_small_buffer_continues_where_it_stopped(host):
    f = host.open(b"/")
    names = []
    while True:
        chunk = f.getdents64(48)        # room for one short record at a time
        if not chunk:
            break
        assert len(chunk) <= 48
        names += [e[4] for e in parse_dirents(chunk)]
    assert len(names) == len(set(names)) == 9


def test_getdents64_with_a_buffer_too_small_for_one_record_is_EINVAL(host):
    assert errno_of(host.open(b"/").getdents64, 8) == "EINVAL"
