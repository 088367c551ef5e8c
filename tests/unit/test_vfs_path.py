"""The path walk (vfs/path.py) and mounts (vfs/mount.py) over a synthetic tree.

Each test states one rule of Linux's path resolution (path_resolution(7),
fs/namei.c); where the host can show the rule, the test checks it natively too.
"""
import errno
import os

import pytest

from pylinuxabi.base.creds import Creds
from pylinuxabi.base.errors import SyscallError
from pylinuxabi.vfs.file import OpenFile
from pylinuxabi.vfs.mount import Mount, MountTable
from pylinuxabi.vfs.path import MAXSYMLINKS, NAME_MAX, WalkContext, resolve, resolve_parent
from pylinuxabi.vfs.synthetic import CharDevice, SynthDir, SynthLink

ROOT = Creds()
USER = Creds(uid=1000, gid=1000)


def null_device():
    return CharDevice(1, 3, OpenFile)


class Tree:
    """A synthetic tree with one filesystem mounted on /mnt:

        /f              a device (not a directory)
        /dir/sub/       /dir/f
        /secret/inner/  mode 0700, owned by root
        /open/inner/    mode 0711, owned by root
        /mnt/           covered by a second filesystem holding inner/, f
    """

    def __init__(self):
        self.dir = SynthDir({b"sub": SynthDir(), b"f": null_device()})
        self.root_dir = SynthDir({
            b"f": null_device(),
            b"dir": self.dir,
            b"secret": SynthDir({b"inner": SynthDir()}, mode=0o700),
            b"open": SynthDir({b"inner": SynthDir()}, mode=0o711),
            b"mnt": SynthDir({b"hidden": null_device()}),
        })
        self.mounted_dir = SynthDir({b"inner": SynthDir(), b"f": null_device()})
        self.table = MountTable(Mount("synth", b"root", self.root_dir))
        self.root = self.table.root
        self.mnt = self.table.mount(self.root.child(b"mnt"), "synth", b"other", self.mounted_dir)

    def walk(self, path, start=None, root=None, creds=ROOT, follow=True):
        ctx = WalkContext(root or self.root, creds)
        return resolve(ctx, start or self.root, path, follow)

    def parent(self, path, start=None, creds=ROOT):
        return resolve_parent(WalkContext(self.root, creds), start or self.root, path)


@pytest.fixture
def tree():
    return Tree()


def errno_of(fn, *args, **kwargs):
    with pytest.raises(SyscallError) as info:
        fn(*args, **kwargs)
    return errno.errorcode[info.value.errno]


def host_errno(fn, *args):
    """The errno name the host gives for fn(*args), or None on success."""
    try:
        fn(*args)
    except OSError as e:
        return errno.errorcode[e.errno]
    return None


# --------------------------------------------------------------------------
# '.', '..', absolute and relative starts

def test_empty_path_is_ENOENT(tree):
    assert errno_of(tree.walk, b"") == "ENOENT"


def test_missing_component_is_ENOENT(tree):
    assert errno_of(tree.walk, b"/dir/nope/f") == "ENOENT"


def test_dot_is_the_start_directory(tree):
    start = tree.walk(b"/dir")
    assert tree.walk(b".", start=start) is start
    assert tree.walk(b"./././", start=start) is start


def test_repeated_slashes_are_one_separator(tree):
    assert tree.walk(b"//dir///sub//") is tree.walk(b"/dir/sub")


def test_relative_path_starts_at_the_start_directory(tree):
    start = tree.walk(b"/dir")
    assert tree.walk(b"sub", start=start) is tree.walk(b"/dir/sub")


def test_absolute_path_ignores_the_start_directory(tree):
    start = tree.walk(b"/dir")
    assert tree.walk(b"/f", start=start).inode is tree.root_dir.entries[b"f"]


def test_dotdot_at_the_root_stays_at_the_root(tree):
    assert tree.walk(b"/..") is tree.root
    assert tree.walk(b"/../../..") is tree.root
    assert tree.walk(b"/../dir/../..").inode is tree.root_dir


def test_dotdot_is_clamped_at_the_walks_root_not_the_global_root(tree):
    chroot = tree.walk(b"/dir")
    sub = tree.walk(b"/dir/sub")
    assert tree.walk(b"/..", root=chroot) is chroot
    assert tree.walk(b"../../..", start=sub, root=chroot) is chroot


def test_absolute_path_starts_at_the_walks_root(tree):
    chroot = tree.walk(b"/dir")
    assert tree.walk(b"/sub", root=chroot) is tree.walk(b"/dir/sub")
    assert errno_of(tree.walk, b"/dir", root=chroot) == "ENOENT"


# --------------------------------------------------------------------------
# mounts

def test_mountpoint_leads_to_the_root_of_the_mounted_filesystem(tree):
    d = tree.walk(b"/mnt")
    assert d is tree.mnt.root
    assert d.inode is tree.mounted_dir


def test_names_under_a_mountpoint_come_from_the_mounted_filesystem(tree):
    inner = tree.walk(b"/mnt/inner")
    assert inner.inode is tree.mounted_dir.entries[b"inner"]
    assert inner.mount is tree.mnt


def test_names_of_the_covered_directory_are_hidden_by_the_mount(tree):
    assert errno_of(tree.walk, b"/mnt/hidden") == "ENOENT"


def test_dotdot_from_a_mount_root_goes_to_the_mountpoints_parent(tree):
    assert tree.walk(b"/mnt/..") is tree.root
    assert tree.walk(b"/mnt/inner/../../dir") is tree.walk(b"/dir")


def test_dotdot_from_a_nested_mount_root_goes_to_the_mountpoints_parent(tree):
    point = tree.walk(b"/dir/sub")
    tree.table.mount(point, "synth", b"deep", SynthDir({b"x": SynthDir()}))
    assert tree.walk(b"/dir/sub/x/../..") is tree.walk(b"/dir")
    assert tree.walk(b"/dir/sub/x").mount is tree.table.mounts[-1]


def test_second_mount_on_the_same_point_hides_the_first(tree):
    top = tree.table.mount(tree.walk(b"/mnt"), "synth", b"top", SynthDir({b"t": SynthDir()}))
    assert tree.walk(b"/mnt") is top.root
    assert errno_of(tree.walk, b"/mnt/inner") == "ENOENT"
    assert tree.walk(b"/mnt/..") is tree.root


def test_mount_table_lists_the_root_mount_first(tree):
    assert tree.table.mounts[0].root is tree.table.root
    assert tree.table.mounts[0].parent is None
    assert tree.mnt.parent is tree.table.mounts[0]
    assert tree.mnt.mountpoint.name == b"mnt"


# --------------------------------------------------------------------------
# symlinks

def test_relative_symlink_is_resolved_from_the_links_directory(tree):
    tree.dir.entries[b"l"] = SynthLink(b"sub")
    assert tree.walk(b"/dir/l") is tree.walk(b"/dir/sub")


def test_relative_symlink_with_dotdot_climbs_from_the_links_directory(tree):
    tree.dir.entries[b"up"] = SynthLink(b"../f")
    assert tree.walk(b"/dir/up").inode is tree.root_dir.entries[b"f"]


def test_absolute_symlink_is_resolved_from_the_walks_root(tree):
    tree.dir.entries[b"abs"] = SynthLink(b"/sub")
    chroot = tree.walk(b"/dir")
    assert tree.walk(b"/abs", root=chroot) is tree.walk(b"/dir/sub")
    assert errno_of(tree.walk, b"/dir/abs") == "ENOENT"      # no /sub at the global root


def test_symlink_dotdot_is_clamped_at_the_walks_root(tree):
    tree.dir.entries[b"esc"] = SynthLink(b"../../../sub")
    chroot = tree.walk(b"/dir")
    assert tree.walk(b"/esc", root=chroot) is tree.walk(b"/dir/sub")


def test_symlink_into_a_mount_crosses_it(tree):
    tree.dir.entries[b"m"] = SynthLink(b"/mnt/inner")
    assert tree.walk(b"/dir/m").mount is tree.mnt


def test_last_symlink_is_not_followed_without_follow(tree):
    link = SynthLink(b"sub")
    tree.dir.entries[b"l"] = link
    d = tree.walk(b"/dir/l", follow=False)
    assert d.inode is link
    assert d.inode.is_symlink()


def test_symlink_in_the_middle_is_followed_even_without_follow(tree):
    tree.root_dir.entries[b"dl"] = SynthLink(b"dir")
    assert tree.walk(b"/dl/sub", follow=False) is tree.walk(b"/dir/sub")


def test_trailing_slash_follows_the_last_symlink_even_without_follow(tree):
    tree.root_dir.entries[b"dl"] = SynthLink(b"dir")
    assert tree.walk(b"/dl/", follow=False) is tree.walk(b"/dir")


def test_trailing_slash_on_a_symlink_to_a_non_directory_is_ENOTDIR(tree):
    tree.root_dir.entries[b"fl"] = SynthLink(b"f")
    assert errno_of(tree.walk, b"/fl/", follow=False) == "ENOTDIR"


def test_empty_symlink_target_is_ENOENT(tree):
    tree.root_dir.entries[b"empty"] = SynthLink(b"")
    assert errno_of(tree.walk, b"/empty") == "ENOENT"


def test_symlink_loop_is_ELOOP(tree):
    tree.root_dir.entries[b"a"] = SynthLink(b"b")
    tree.root_dir.entries[b"b"] = SynthLink(b"/a")
    assert errno_of(tree.walk, b"/a") == "ELOOP"


def test_symlink_to_itself_is_ELOOP(tree):
    tree.root_dir.entries[b"self"] = SynthLink(b"self")
    assert errno_of(tree.walk, b"/self/x") == "ELOOP"


def test_magic_link_leads_to_the_dentry_it_names_not_its_text(tree):
    target = tree.walk(b"/dir/sub")
    tree.root_dir.entries[b"magic"] = SynthLink(b"anon_inode:[x]", follow_fn=lambda: target)
    assert tree.walk(b"/magic") is target
    assert tree.walk(b"/magic", follow=False).inode.readlink() == b"anon_inode:[x]"


def _chain(entries, n, end):
    """l1 -> l2 -> ... -> ln -> end, as SynthLinks in `entries`."""
    for i in range(1, n + 1):
        entries[b"l%d" % i] = SynthLink(end if i == n else b"l%d" % (i + 1))


def _host_chain(d, n, end):
    for i in range(1, n + 1):
        os.symlink(end if i == n else f"l{i + 1}", os.path.join(d, f"l{i}"))


def test_MAXSYMLINKS_is_40():
    assert MAXSYMLINKS == 40


@pytest.mark.parametrize("n, expected", [(MAXSYMLINKS, None), (MAXSYMLINKS + 1, "ELOOP")])
def test_a_chain_of_40_symlinks_resolves_and_41_is_ELOOP(tree, tmp_path, n, expected):
    _chain(tree.dir.entries, n, b"sub")
    (tmp_path / "sub").mkdir()
    _host_chain(tmp_path, n, "sub")
    assert host_errno(os.stat, tmp_path / "l1") == expected
    if expected is None:
        assert tree.walk(b"/dir/l1") is tree.walk(b"/dir/sub")
    else:
        assert errno_of(tree.walk, b"/dir/l1") == expected


def test_the_40_link_limit_counts_every_link_of_one_walk(tree, tmp_path):
    # 20 links to reach a directory, then 21 more inside it: 41 in one lookup
    _chain(tree.dir.entries, 20, b"sub")
    sub_dir = tree.dir.entries[b"sub"]
    sub_dir.entries[b"f"] = null_device()
    _chain(sub_dir.entries, 21, b"f")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "f").touch()
    _host_chain(tmp_path, 20, "sub")
    _host_chain(tmp_path / "sub", 21, "f")
    assert host_errno(os.stat, tmp_path / "l1" / "l1") == "ELOOP"
    assert errno_of(tree.walk, b"/dir/l1/l1") == "ELOOP"


def test_the_40_link_limit_does_not_count_unfollowed_last_links(tree):
    _chain(tree.dir.entries, 40, b"sub")
    tree.dir.entries[b"sub"].entries[b"last"] = SynthLink(b"x")
    assert tree.walk(b"/dir/l1/last", follow=False).inode.is_symlink()


# --------------------------------------------------------------------------
# non-directories and name lengths

def test_trailing_slash_on_a_non_directory_is_ENOTDIR(tree):
    assert errno_of(tree.walk, b"/f/") == "ENOTDIR"


@pytest.mark.parametrize("path", [b"/f/x", b"/f/.", b"/f/..", b"/dir/f/sub"])
def test_component_through_a_non_directory_is_ENOTDIR(tree, path):
    assert errno_of(tree.walk, path) == "ENOTDIR"


def test_relative_walk_from_a_non_directory_is_ENOTDIR(tree):
    assert errno_of(tree.walk, b".", start=tree.walk(b"/f")) == "ENOTDIR"


def test_NAME_MAX_is_255():
    assert NAME_MAX == 255


def test_name_of_255_bytes_is_looked_up(tree, tmp_path):
    name = b"n" * 255
    assert host_errno(os.stat, os.path.join(tmp_path, name.decode())) == "ENOENT"
    assert errno_of(tree.walk, b"/dir/" + name) == "ENOENT"
    tree.dir.entries[name] = null_device()
    assert tree.walk(b"/dir/" + name).inode is tree.dir.entries[name]


def test_name_of_256_bytes_is_ENAMETOOLONG(tree, tmp_path):
    name = b"n" * 256
    assert host_errno(os.stat, os.path.join(tmp_path, name.decode())) == "ENAMETOOLONG"
    assert errno_of(tree.walk, b"/dir/" + name) == "ENAMETOOLONG"


def test_NAME_MAX_applies_to_components_not_to_the_whole_path(tree):
    assert errno_of(tree.walk, b"/dir/" + b"/".join([b"n" * 200] * 10)) == "ENOENT"


# --------------------------------------------------------------------------
# permissions

def test_directory_without_search_permission_blocks_the_walk_with_EACCES(tree):
    assert errno_of(tree.walk, b"/secret/inner", creds=USER) == "EACCES"


def test_EACCES_comes_before_ENOENT_under_an_unsearchable_directory(tree):
    assert errno_of(tree.walk, b"/secret/missing", creds=USER) == "EACCES"


def test_dot_and_dotdot_need_search_permission_too(tree):
    assert errno_of(tree.walk, b"/secret/.", creds=USER) == "EACCES"
    assert errno_of(tree.walk, b"/secret/..", creds=USER) == "EACCES"


def test_unsearchable_directory_itself_can_be_named(tree):
    assert tree.walk(b"/secret", creds=USER).inode is tree.root_dir.entries[b"secret"]


def test_others_may_search_a_directory_with_mode_0711(tree):
    assert tree.walk(b"/open/inner", creds=USER).inode.is_dir()


def test_owner_class_bits_apply_to_the_owner(tree):
    mine = SynthDir({b"x": SynthDir()}, mode=0o700)
    mine.stat().uid = 1000
    tree.root_dir.entries[b"mine"] = mine
    assert tree.walk(b"/mine/x", creds=USER).inode.is_dir()
    assert errno_of(tree.walk, b"/mine/x", creds=Creds(uid=1001, gid=1000)) == "EACCES"


def test_group_class_bits_apply_to_a_supplementary_group():
    d = SynthDir({b"x": SynthDir()}, mode=0o710)
    d.stat().gid = 50
    table = MountTable(Mount("synth", b"root", SynthDir({b"g": d})))
    ctx = lambda creds: WalkContext(table.root, creds)       # noqa: E731
    assert resolve(ctx(Creds(uid=1000, gid=1000, groups=[50])), table.root, b"/g/x").inode.is_dir()
    with pytest.raises(SyscallError) as info:
        resolve(ctx(USER), table.root, b"/g/x")
    assert info.value.errno == errno.EACCES


def test_root_searches_a_directory_with_mode_0(tree):
    tree.root_dir.entries[b"zero"] = SynthDir({b"x": SynthDir()}, mode=0)
    assert tree.walk(b"/zero/x", creds=ROOT).inode.is_dir()
    assert errno_of(tree.walk, b"/zero/x", creds=USER) == "EACCES"


def test_symlink_target_is_walked_with_the_same_permission_checks(tree):
    tree.root_dir.entries[b"sl"] = SynthLink(b"/secret/inner")
    assert errno_of(tree.walk, b"/sl", creds=USER) == "EACCES"


# --------------------------------------------------------------------------
# resolve_parent

def test_resolve_parent_returns_the_directory_and_the_last_name(tree):
    parent, name = tree.parent(b"/dir/sub/new")
    assert parent is tree.walk(b"/dir/sub")
    assert name == b"new"


def test_resolve_parent_of_a_bare_name_is_the_start_directory(tree):
    start = tree.walk(b"/dir")
    assert tree.parent(b"new", start=start) == (start, b"new")


def test_resolve_parent_ignores_trailing_slashes(tree):
    assert tree.parent(b"/dir/sub//") == (tree.walk(b"/dir"), b"sub")


def test_resolve_parent_of_the_root_is_the_root_and_dot(tree):
    assert tree.parent(b"/") == (tree.root, b".")
    assert tree.parent(b"///") == (tree.root, b".")


def test_resolve_parent_leaves_dot_and_dotdot_to_the_caller(tree):
    assert tree.parent(b"/dir/..") == (tree.walk(b"/dir"), b"..")
    assert tree.parent(b"/dir/.") == (tree.walk(b"/dir"), b".")


def test_resolve_parent_of_an_empty_path_is_ENOENT(tree):
    assert errno_of(tree.parent, b"") == "ENOENT"


def test_resolve_parent_under_a_non_directory_is_ENOTDIR(tree):
    assert errno_of(tree.parent, b"/f/new") == "ENOTDIR"


def test_resolve_parent_with_a_256_byte_last_name_is_ENAMETOOLONG(tree):
    assert errno_of(tree.parent, b"/dir/" + b"n" * 256) == "ENAMETOOLONG"
    assert tree.parent(b"/dir/" + b"n" * 255)[1] == b"n" * 255


def test_resolve_parent_follows_a_symlink_to_the_parent(tree):
    tree.root_dir.entries[b"dl"] = SynthLink(b"dir")
    assert tree.parent(b"/dl/new") == (tree.walk(b"/dir"), b"new")


@pytest.mark.parametrize("path", [b"/secret/new", b"new"])
def test_resolve_parent_needs_search_permission_on_the_parent(tree, path):
    secret = tree.walk(b"/secret")
    assert errno_of(tree.parent, path, start=secret, creds=USER) == "EACCES"


# --------------------------------------------------------------------------
# Dentry.path

def test_root_dentry_path_is_slash(tree):
    assert tree.root.path() == b"/"


def test_dentry_path_names_every_component(tree):
    assert tree.walk(b"/dir/sub").path() == b"/dir/sub"


def test_dentry_path_crosses_mounts_through_the_mountpoint(tree):
    assert tree.walk(b"/mnt").path() == b"/mnt"
    assert tree.walk(b"/mnt/inner").path() == b"/mnt/inner"


def test_dentry_path_of_a_followed_symlink_is_the_targets_path(tree):
    tree.root_dir.entries[b"dl"] = SynthLink(b"dir/sub")
    assert tree.walk(b"/dl").path() == b"/dir/sub"


def test_dentry_path_is_relative_to_the_given_root(tree):
    chroot = tree.walk(b"/dir")
    assert tree.walk(b"/dir/sub").path(root=chroot) == b"/sub"
    assert chroot.path(root=chroot) == b"/"


def test_dentry_up_of_the_global_root_is_itself(tree):
    assert tree.root.up() is tree.root
    assert tree.root.is_mount_root()
