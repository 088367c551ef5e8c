"""Writable hostfs (vfs/hostfs.py) and the overlay over a host upper layer (vfs/overlay.py).

No tracing: the VFS's own operations (vfs/namei.py) on a HostFS of a
temporary directory, checked against what the host then holds. The rules:
changes reach the host object the name meant and never a host symlink's
target; objects the VFS holds follow renames and outlive unlinks; a host
upper layer is in Linux overlayfs's on-disk format.
"""
import errno
import os
import stat

import pytest

from pylinuxabi.base.creds import Creds
from pylinuxabi.base.errors import SyscallError
from pylinuxabi.vfs import namei
from pylinuxabi.vfs.hostfs import HostFS
from pylinuxabi.vfs.inode import RENAME_EXCHANGE
from pylinuxabi.vfs.mount import Mount, MountTable
from pylinuxabi.vfs.overlay import HostUpper, OverlayFS
from pylinuxabi.vfs.path import WalkContext, resolve

ROOT = Creds()
USER = Creds(uid=1000, gid=1000)


class Volume:
    """A writable HostFS of tmp_path/vol mounted as /, and tmp_path/outside beside it."""

    def __init__(self, tmp_path, writable=True):
        self.path = tmp_path / "vol"
        self.path.mkdir()
        self.outside = tmp_path / "outside"
        self.outside.mkdir()
        (self.outside / "target").write_text("target\n")
        os.chmod(self.outside / "target", 0o644)
        self.fs = HostFS(str(self.path), writable=writable)
        self.table = MountTable(Mount("hostfs", b"vol", self.fs.root_inode, readonly=not writable))
        self.root = self.table.root
        self.files = []

    def walk(self, path, follow=True):
        return resolve(WalkContext(self.root, ROOT), self.root, path, follow)

    def open(self, path, flags):
        d = self.walk(path)
        f = d.inode.open(d, flags, None)
        self.files.append(f)
        return f

    def close(self):
        for f in self.files:
            f.release()

    def target_state(self):
        s = os.stat(self.outside / "target")
        return (s.st_mode, s.st_uid, s.st_gid, s.st_size, s.st_mtime_ns, os.listxattr(self.outside / "target"),
                (self.outside / "target").read_text(), sorted(os.listdir(self.outside)))


@pytest.fixture
def vol(tmp_path):
    v = Volume(tmp_path)
    yield v
    v.close()


def errno_of(fn, *args, **kwargs):
    with pytest.raises(SyscallError) as info:
        fn(*args, **kwargs)
    return errno.errorcode[info.value.errno]


# -- changes reach the host -----------------------------------------------------------

def test_a_created_file_written_through_an_open_file_is_on_the_host(vol):
    namei.create(vol.root, b"f", 0o640, ROOT)
    f = vol.open(b"/f", os.O_RDWR)
    assert f.write(b"hello") == 5
    assert f.pwrite(b"J", 0) == 1
    assert (vol.path / "f").read_bytes() == b"Jello"
    assert stat.S_IMODE(os.stat(vol.path / "f").st_mode) == 0o640
    assert f.pread(10, 1) == b"ello"


def test_O_APPEND_writes_go_to_the_end_whatever_the_offset(vol):
    (vol.path / "log").write_bytes(b"one\n")
    f = vol.open(b"/log", os.O_WRONLY | os.O_APPEND)
    f.pwrite(b"two\n", 0)
    assert (vol.path / "log").read_bytes() == b"one\ntwo\n"


def test_new_objects_belong_to_the_programs_fsuid_and_fsgid(vol):
    os.chmod(vol.path, 0o777)
    namei.create(vol.root, b"f", 0o644, USER)
    namei.mkdir(vol.root, b"d", 0o755, USER)
    namei.symlink(vol.root, b"l", b"f", USER)
    namei.mknod(vol.root, b"p", stat.S_IFIFO | 0o600, 0, USER)
    for name in ("f", "d", "l", "p"):
        s = os.lstat(vol.path / name)
        assert (s.st_uid, s.st_gid) == (1000, 1000), name


def test_a_setgid_directory_passes_on_its_group_and_to_directories_its_bit(vol):
    (vol.path / "sg").mkdir()
    os.chown(vol.path / "sg", 0, 4321)
    os.chmod(vol.path / "sg", 0o2777)
    sg = vol.walk(b"/sg")
    namei.create(sg, b"f", 0o644, USER)
    namei.mkdir(sg, b"d", 0o755, USER)
    f, d = os.stat(vol.path / "sg" / "f"), os.stat(vol.path / "sg" / "d")
    assert (f.st_uid, f.st_gid, stat.S_IMODE(f.st_mode)) == (1000, 4321, 0o644)
    assert (d.st_uid, d.st_gid, stat.S_IMODE(d.st_mode)) == (1000, 4321, 0o2755)


def test_a_setuid_file_made_for_another_user_keeps_its_setuid_bit(vol):
    os.chmod(vol.path, 0o777)
    namei.create(vol.root, b"s", 0o4755, USER)
    s = os.stat(vol.path / "s")
    assert (s.st_uid, stat.S_IMODE(s.st_mode)) == (1000, 0o4755)


def test_setattr_changes_mode_owner_size_and_times_on_the_host(vol):
    (vol.path / "f").write_bytes(b"0123456789")
    inode = vol.walk(b"/f").inode
    inode.setattr(mode=0o600, uid=1000, gid=1001, size=4, atime_ns=-1_500_000_000, mtime_ns=7)
    s = os.stat(vol.path / "f")
    assert (stat.S_IMODE(s.st_mode), s.st_uid, s.st_gid, s.st_size) == (0o600, 1000, 1001, 4)
    assert (s.st_atime_ns, s.st_mtime_ns) == (-1_500_000_000, 7)
    inode.setattr(mtime_ns=9)          # atime left alone (UTIME_OMIT)
    assert (os.stat(vol.path / "f").st_atime_ns, os.stat(vol.path / "f").st_mtime_ns) == (-1_500_000_000, 9)


# -- the objects the VFS holds follow their names -----------------------------------------

def test_an_inode_the_vfs_holds_follows_its_object_through_a_rename(vol):
    (vol.path / "a").write_text("a\n")
    held = vol.walk(b"/a").inode
    namei.rename(vol.root, b"a", vol.root, b"b", 0, ROOT)
    (vol.path / "a").write_text("a new file\n")
    assert held.stat().ino == os.stat(vol.path / "b").st_ino
    assert vol.walk(b"/b").inode is held


def test_an_unlinked_open_file_keeps_its_data_and_shows_nlink_0(vol):
    (vol.path / "f").write_text("data\n")
    f = vol.open(b"/f", os.O_RDWR)
    namei.unlink(vol.root, b"f", ROOT)
    (vol.path / "f").write_text("another\n")
    assert f.stat().nlink == 0 and f.stat().size == 5
    f.inode.setattr(size=2)
    assert f.pread(10, 0) == b"da"
    assert (vol.path / "f").read_text() == "another\n"


def test_the_object_a_rename_replaces_is_detached_not_renamed(vol):
    (vol.path / "a").write_text("a\n")
    (vol.path / "b").write_text("bb\n")
    a, b = vol.walk(b"/a").inode, vol.walk(b"/b").inode
    namei.rename(vol.root, b"a", vol.root, b"b", 0, ROOT)
    assert b.stat().nlink == 0 and b.stat().size == 3
    assert a.stat().ino == os.stat(vol.path / "b").st_ino


def test_RENAME_EXCHANGE_swaps_the_objects_of_the_two_names(vol):
    (vol.path / "a").write_text("a\n")
    (vol.path / "d").mkdir()
    a, d = vol.walk(b"/a").inode, vol.walk(b"/d").inode
    namei.rename(vol.root, b"a", vol.root, b"d", RENAME_EXCHANGE, ROOT)
    assert stat.S_ISDIR(os.lstat(vol.path / "a").st_mode)
    assert a.stat().ino == os.stat(vol.path / "d").st_ino
    assert d.stat().ino == os.stat(vol.path / "a").st_ino


def test_an_O_TMPFILE_file_is_named_by_link(vol):
    inode = vol.fs.root_inode.tmpfile(0o600, ROOT)
    inode.linkable = True
    assert inode.stat().nlink == 0
    f = inode.open(None, os.O_RDWR, None)
    vol.files.append(f)
    f.pwrite(b"tmp", 0)
    assert os.listdir(vol.path) == []
    vol.fs.root_inode.link(b"named", inode)
    assert (vol.path / "named").read_bytes() == b"tmp"
    assert inode.stat().nlink == 1


# -- no host symlink is ever followed -----------------------------------------------------

def test_a_name_swapped_for_a_host_symlink_after_lookup_is_not_followed(vol):
    """Another host process replaces a file the VFS looked up with a symlink out of
    the volume: every change lands on the symlink or fails, never on its target."""
    (vol.path / "f").write_text("f\n")
    inode = vol.walk(b"/f").inode
    os.unlink(vol.path / "f")
    os.symlink(vol.outside / "target", vol.path / "f")
    before = vol.target_state()
    assert errno_of(inode.open, None, os.O_WRONLY, None) == "ELOOP"
    assert errno_of(inode.setattr, size=0) == "ELOOP"
    assert errno_of(inode.fallocate, 0, 0, 4096) == "ELOOP"
    assert errno_of(inode.setattr, mode=0o777) == errno.errorcode[errno.EOPNOTSUPP]
    assert errno_of(inode.setxattr, b"user.x", b"1", 0) == "EPERM"
    inode.setattr(uid=1000, gid=1000, atime_ns=0, mtime_ns=0)      # the link's own (lchown, lutimes)
    assert vol.target_state() == before
    assert (os.lstat(vol.path / "f").st_uid, os.lstat(vol.path / "f").st_mtime_ns) == (1000, 0)


def test_a_directory_swapped_for_a_host_symlink_is_not_entered(vol):
    (vol.path / "d").mkdir()
    d = vol.walk(b"/d").inode
    os.rmdir(vol.path / "d")
    os.symlink(vol.outside, vol.path / "d")
    before = vol.target_state()
    # O_DIRECTORY | O_NOFOLLOW on a symlink: ENOTDIR
    assert errno_of(d.create, b"new", 0o644, ROOT) == "ENOTDIR"
    assert errno_of(d.lookup, b"target") == "ENOTDIR"
    assert vol.target_state() == before


def test_a_read_only_hostfs_refuses_changes_with_EROFS(tmp_path):
    v = Volume(tmp_path, writable=False)
    (v.path / "f").write_text("f\n")
    inode = v.walk(b"/f").inode
    assert errno_of(v.fs.root_inode.create, b"g", 0o644, ROOT) == "EROFS"
    assert errno_of(inode.setattr, mode=0o600) == "EROFS"
    assert errno_of(namei.unlink, v.root, b"f", ROOT) == "EROFS"
    assert errno_of(inode.open, None, os.O_RDWR, None) == "EROFS"
    assert os.listdir(v.path) == ["f"]


# -- the overlay over a host upper layer ----------------------------------------------------

class Overlay:
    """An overlay of tmp_path/lower under the host upper layer tmp_path/upper."""

    def __init__(self, tmp_path):
        self.lower = tmp_path / "lower"
        self.upper = tmp_path / "upper"

    def mount(self):
        self.layer = HostUpper.at(str(self.upper))
        fs = OverlayFS(HostFS(str(self.lower)).root_inode, self.layer)
        self.root = MountTable(Mount("overlay", b"overlay", fs.root_inode)).root
        return self

    def unmount(self):
        if self.layer._lock is not None:
            os.close(self.layer._lock)      # what the end of a run does
            self.layer._lock = None

    def walk(self, path):
        return resolve(WalkContext(self.root, ROOT), self.root, path)


@pytest.fixture
def overlay(tmp_path):
    lower = tmp_path / "lower"
    (lower / "dir").mkdir(parents=True)
    (lower / "dir" / "inner").write_text("inner\n")
    (lower / "file").write_text("lower\n")
    (lower / "gone").write_text("gone\n")
    o = Overlay(tmp_path).mount()
    yield o
    o.unmount()


def test_removing_a_lower_file_leaves_a_0_0_character_device(overlay):
    namei.unlink(overlay.root, b"gone", ROOT)
    s = os.lstat(overlay.upper / "gone")
    assert stat.S_ISCHR(s.st_mode) and s.st_rdev == 0
    assert errno_of(overlay.walk, b"/gone") == "ENOENT"
    assert (overlay.lower / "gone").exists()


def test_a_directory_made_where_a_lower_one_was_removed_is_opaque(overlay):
    namei.unlink(overlay.walk(b"/dir"), b"inner", ROOT)
    namei.rmdir(overlay.root, b"dir", ROOT)
    namei.mkdir(overlay.root, b"dir", 0o755, ROOT)
    assert os.getxattr(overlay.upper / "dir", "trusted.overlay.opaque") == b"y"
    assert os.listdir(overlay.upper / "dir") == []
    assert overlay.walk(b"/dir").inode.names() == []
    assert os.listdir(overlay.upper / ".." / "upper.work" / "work") == []


def test_a_copied_up_file_keeps_its_lower_inode_number_for_the_run(overlay):
    lower_ino = os.stat(overlay.lower / "file").st_ino
    d = overlay.walk(b"/file")
    f = d.inode.open(d, os.O_WRONLY | os.O_APPEND, None)
    f.write(b"more\n")
    f.release()
    assert (overlay.upper / "file").read_text() == "lower\nmore\n"
    assert d.inode.stat().ino == lower_ino
    assert (overlay.lower / "file").read_text() == "lower\n"


def test_the_next_run_over_the_same_upper_sees_the_changes(overlay, tmp_path):
    namei.unlink(overlay.root, b"gone", ROOT)
    namei.create(overlay.root, b"new", 0o644, ROOT)
    overlay.unmount()
    again = Overlay(tmp_path).mount()
    try:
        names = sorted(name for name, _, _ in again.root.inode.names())
        assert names == [b"dir", b"file", b"new"]
    finally:
        again.unmount()


def test_the_overlays_own_xattrs_are_not_the_programs(overlay):
    namei.unlink(overlay.walk(b"/dir"), b"inner", ROOT)
    namei.rmdir(overlay.root, b"dir", ROOT)
    namei.mkdir(overlay.root, b"dir", 0o755, ROOT)
    d = overlay.walk(b"/dir").inode
    assert b"trusted.overlay.opaque" not in d.listxattr()
    assert errno_of(d.getxattr, b"trusted.overlay.opaque") == "ENODATA"
    assert errno_of(d.setxattr, b"trusted.overlay.opaque", b"n", 0) == "EPERM"


def test_an_upper_directory_serves_one_run_at_a_time(overlay):
    with pytest.raises(OSError) as info:
        HostUpper.at(str(overlay.upper))
    assert info.value.errno == errno.EBUSY
