"""openat2's RESOLVE_* restrictions in the path walk (vfs/path.py), over a
synthetic tree. Each test states one rule of fs/namei.c; the same rules are
checked against Linux by tests/programs/files_openat2.c.
"""
import errno

import pytest

from pylinuxabi.base.creds import Creds
from pylinuxabi.base.errors import SyscallError
from pylinuxabi.vfs import path as vfs_path
from pylinuxabi.vfs.file import OpenFile
from pylinuxabi.vfs.mount import MountTable, Mount
from pylinuxabi.vfs.path import (RESOLVE_BENEATH, RESOLVE_CACHED, RESOLVE_IN_ROOT, RESOLVE_NO_MAGICLINKS,
                                 RESOLVE_NO_SYMLINKS, RESOLVE_NO_XDEV, WalkContext, resolve)
from pylinuxabi.vfs.synthetic import CharDevice, SynthDir, SynthLink

ROOT = Creds()


def device():
    return CharDevice(1, 3, OpenFile)


class VolatileDir(SynthDir):
    """A directory whose children are made at each lookup, as procfs's are."""

    cacheable_children = False


class Tree:
    """   /top/dir/{f, rel -> f, abs -> /top/dir/f, up -> ../.., loop -> loop}
          /top/magic      a magic link to /top/dir/f
          /top/far        a magic link to /m/g, on another mount
          /m/             a second filesystem: g, back -> /top, v/ (volatile) holding h
    """

    def __init__(self):
        self.dir = SynthDir({b"f": device(), b"rel": SynthLink(b"f"), b"abs": SynthLink(b"/top/dir/f"),
                             b"up": SynthLink(b"../.."), b"loop": SynthLink(b"loop")})
        top = SynthDir({b"dir": self.dir,
                        b"magic": SynthLink(target_fn=lambda: b"/top/dir/f",
                                            follow_fn=lambda: self.walk(b"/top/dir/f")),
                        b"far": SynthLink(target_fn=lambda: b"/m/g", follow_fn=lambda: self.walk(b"/m/g"))})
        self.table = MountTable(Mount("synth", b"root", SynthDir({b"top": top, b"m": SynthDir()})))
        self.root = self.table.root
        other = SynthDir({b"g": device(), b"back": SynthLink(b"/top"),
                          b"v": VolatileDir({b"h": device()})})
        self.table.mount(self.root.child(b"m"), "synth", b"other", other)

    def walk(self, path, start=None, resolve_flags=0, follow=True, scoped_root=False):
        start = self.walk(start) if isinstance(start, bytes) else (start or self.root)
        root = start if scoped_root else self.root
        return resolve(WalkContext(root, ROOT, None, resolve_flags), start, path, follow)

    def name(self, dentry):
        return dentry.path()


@pytest.fixture
def tree():
    return Tree()


def errno_of(fn, *args, **kwargs):
    with pytest.raises(SyscallError) as info:
        fn(*args, **kwargs)
    return errno.errorcode[info.value.errno]


def test_no_flags_walk_never_calls_the_restricted_helpers(tree, monkeypatch):
    """The hot path pays nothing for RESOLVE_*: plain walks, mounts, '..' and
    symlinks included, never reach the checks."""
    def fail(*args):
        raise AssertionError("restricted helper on a plain walk")
    for name in ("_restricted_dotdot", "_restricted_child", "link_target"):
        monkeypatch.setattr(vfs_path, name, fail)
    assert tree.name(tree.walk(b"/m/back/dir/rel")) == b"/top/dir/f"
    assert tree.name(tree.walk(b"/m/../top/magic")) == b"/top/dir/f"


# -- RESOLVE_NO_XDEV ------------------------------------------------------------

def test_no_xdev_refuses_stepping_onto_a_mount(tree):
    assert errno_of(tree.walk, b"/m/g", resolve_flags=RESOLVE_NO_XDEV) == "EXDEV"
    assert errno_of(tree.walk, b"m", b"/", RESOLVE_NO_XDEV, False) == "EXDEV"


def test_no_xdev_allows_an_absolute_path_to_start_on_another_mount(tree):
    assert tree.name(tree.walk(b"/top/dir/f", b"/m", RESOLVE_NO_XDEV)) == b"/top/dir/f"


def test_no_xdev_refuses_dotdot_out_of_a_mount(tree):
    assert errno_of(tree.walk, b"..", b"/m", RESOLVE_NO_XDEV) == "EXDEV"
    assert tree.name(tree.walk(b"v/..", b"/m", RESOLVE_NO_XDEV)) == b"/m"


def test_no_xdev_refuses_an_absolute_symlink_off_the_roots_mount(tree):
    assert errno_of(tree.walk, b"back", b"/m", RESOLVE_NO_XDEV) == "EXDEV"
    assert tree.name(tree.walk(b"abs", b"/top/dir", RESOLVE_NO_XDEV)) == b"/top/dir/f"


def test_no_xdev_lets_a_magic_link_lead_only_within_its_mount(tree):
    assert tree.name(tree.walk(b"/top/magic", resolve_flags=RESOLVE_NO_XDEV)) == b"/top/dir/f"
    assert errno_of(tree.walk, b"/top/far", resolve_flags=RESOLVE_NO_XDEV) == "EXDEV"


# -- symlinks and magic links -----------------------------------------------------

def test_no_symlinks_refuses_every_symlink_it_would_follow(tree):
    assert errno_of(tree.walk, b"/top/dir/rel", resolve_flags=RESOLVE_NO_SYMLINKS) == "ELOOP"
    assert errno_of(tree.walk, b"/top/magic", resolve_flags=RESOLVE_NO_SYMLINKS) == "ELOOP"
    assert tree.walk(b"/top/dir/rel", resolve_flags=RESOLVE_NO_SYMLINKS, follow=False).inode.is_symlink()


def test_no_magiclinks_refuses_only_magic_links(tree):
    assert errno_of(tree.walk, b"/top/magic", resolve_flags=RESOLVE_NO_MAGICLINKS) == "ELOOP"
    assert tree.name(tree.walk(b"/top/dir/rel", resolve_flags=RESOLVE_NO_MAGICLINKS)) == b"/top/dir/f"


def test_the_link_limit_still_holds(tree):
    assert errno_of(tree.walk, b"/top/dir/loop", resolve_flags=RESOLVE_NO_MAGICLINKS) == "ELOOP"


# -- RESOLVE_BENEATH and RESOLVE_IN_ROOT ---------------------------------------

def test_beneath_allows_dotdot_below_the_start_only(tree):
    walk = tree.walk
    assert tree.name(walk(b"dir/../dir/f", b"/top", RESOLVE_BENEATH, scoped_root=True)) == b"/top/dir/f"
    assert errno_of(walk, b"..", b"/top/dir", RESOLVE_BENEATH, scoped_root=True) == "EXDEV"
    assert errno_of(walk, b"up", b"/top/dir", RESOLVE_BENEATH, scoped_root=True) == "EXDEV"


def test_beneath_refuses_absolute_and_magic_links(tree):
    walk = tree.walk
    assert errno_of(walk, b"dir/abs", b"/top", RESOLVE_BENEATH, scoped_root=True) == "EXDEV"
    assert errno_of(walk, b"magic", b"/top", RESOLVE_BENEATH, scoped_root=True) == "EXDEV"
    assert tree.name(walk(b"dir/rel", b"/top", RESOLVE_BENEATH, scoped_root=True)) == b"/top/dir/f"


def test_in_root_keeps_dotdot_and_absolute_links_inside(tree):
    walk = tree.walk
    assert tree.name(walk(b"../../..", b"/top", RESOLVE_IN_ROOT, scoped_root=True)) == b"/top"
    assert tree.name(walk(b"dir/up", b"/top", RESOLVE_IN_ROOT, scoped_root=True)) == b"/top"
    assert errno_of(walk, b"dir/abs", b"/top", RESOLVE_IN_ROOT, scoped_root=True) == "ENOENT"  # /top/top/dir/f
    assert errno_of(walk, b"magic", b"/top", RESOLVE_IN_ROOT, scoped_root=True) == "EXDEV"


# -- RESOLVE_CACHED -------------------------------------------------------------

def test_cached_needs_the_dentry_cache_but_not_for_synthetic_directories(tree):
    assert errno_of(tree.walk, b"/top/dir/f", resolve_flags=RESOLVE_CACHED) == "EAGAIN"
    tree.walk(b"/top/dir/f")
    assert tree.name(tree.walk(b"/top/dir/f", resolve_flags=RESOLVE_CACHED)) == b"/top/dir/f"
    tree.walk(b"/m/v")
    assert tree.name(tree.walk(b"/m/v/h", resolve_flags=RESOLVE_CACHED)) == b"/m/v/h"


def test_cached_refuses_magic_links(tree):
    tree.walk(b"/top/magic", follow=False)
    tree.walk(b"/top/dir/f")
    assert errno_of(tree.walk, b"/top/magic", resolve_flags=RESOLVE_CACHED) == "EAGAIN"
