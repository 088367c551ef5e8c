"""A user's day on existing host files: in the default root (the host's / under a
copy-on-write overlay) every change to a lower object copies it up first.

Each test builds a fresh tree of every kind of object on the host, runs a change
in the sandbox (where the tree is in the lower layer) and natively on a twin of
the tree, and compares what the program sees; the host tree must be unchanged
after the sandboxed run, and with `--upper DIR` the host's own overlayfs over DIR
must show what the sandbox showed. Copy-up keeps what overlayfs keeps: data
(holes too), mode, owner, times, xattrs. What overlayfs (index=off, Linux's
default) is meant to show differently from a plain filesystem is stated, not
compared: a copied-up hard link is no longer linked to the lower one's other
names, and a directory's size and link count are the upper filesystem's.
"""
import hashlib
import os
import shutil
import socket
import stat
import subprocess
import tempfile
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
pytestmark = [pytest.mark.timeout(300), pytest.mark.slow]

PYTHON = "/usr/bin/python3"         # readable by --user 1000:1000, unlike a pyenv under /root
SCRIPT = (HERE / "lower_objects.py").read_text()
STAMP = 1_000_000_000
GIB = 1 << 30
USER = (1000, 1000)
OPS = ["append", "write_at_2", "truncate", "open_rdwr", "append_and_exec", "chmod", "chown",
       "utimes_set", "utimes_now", "setxattr", "removexattr", "link", "rename", "unlink",
       "create_inside"]


def build_tree(top):
    """Every kind of lower object, owned by USER but `setuid` and `rootfile` (root's)."""
    top.mkdir(mode=0o755)
    uid, gid = USER
    files = {"reg": b"hello\n", "empty": b"", "exec": b"#!/bin/sh\necho ran\n",
             "setuid": b"suid\n", "rootfile": b"root's\n", "dir/a": b"a\n", "dir/sub/b": b"b\n",
             "hard1": b"linked\n"}
    (top / "dir" / "sub").mkdir(parents=True)
    for name, data in files.items():
        (top / name).write_bytes(data)
    with open(top / "sparse", "wb") as f:      # 1 GiB, data in three blocks
        for offset in (0, GIB // 2, GIB - 4096):
            f.seek(offset)
            f.write(b"%d\n" % offset * 400)
        f.truncate(GIB)
    os.chmod(top / "exec", 0o755)
    os.link(top / "hard1", top / "hard2")
    os.symlink("reg", top / "link")
    os.mkfifo(top / "fifo", 0o644)
    os.mknod(top / "dev", stat.S_IFCHR | 0o666, os.makedev(1, 3))
    with socket.socket(socket.AF_UNIX) as s:
        s.bind(str(top / "sock"))
    for p in [top, *top.rglob("*")]:
        root_owned = p.name in ("setuid", "rootfile")
        os.chown(p, 0 if root_owned else uid, 0 if root_owned else gid, follow_symlinks=False)
        if not p.is_symlink() and (p.is_file() or p.is_dir()):
            os.setxattr(p, "user.test", b"old")
    os.chmod(top / "setuid", 0o6755)           # after chown, which would clear it
    for p in sorted([top, *top.rglob("*")], key=lambda p: -len(p.parts)):
        os.utime(p, (STAMP, STAMP), follow_symlinks=False)


def tree_digest(top):
    """Everything of the host tree but atimes: a sandboxed run must change none of it."""
    h = hashlib.sha256()
    for p in sorted([top, *top.rglob("*")]):
        s = os.lstat(p)
        h.update(repr((str(p), s.st_mode, s.st_ino, s.st_nlink, s.st_uid, s.st_gid, s.st_size,
                       s.st_blocks, s.st_mtime_ns, s.st_ctime_ns, s.st_rdev)).encode())
        if stat.S_ISLNK(s.st_mode):
            h.update(os.readlink(p).encode())
        elif stat.S_ISREG(s.st_mode) and s.st_size < GIB:
            h.update(p.read_bytes())
        if stat.S_ISREG(s.st_mode) or stat.S_ISDIR(s.st_mode):
            for x in sorted(os.listxattr(p)):
                h.update(x.encode() + os.getxattr(p, x))
    return h.hexdigest()


@pytest.fixture
def twin_trees():
    """(sandbox's tree, native's tree): the same objects, in a directory user 1000 can reach."""
    base = Path(tempfile.mkdtemp(prefix="pylinuxabi-lower-", dir="/var/tmp"))
    os.chmod(base, 0o755)
    trees = base / "sandbox", base / "native"
    for t in trees:
        build_tree(t)
    yield trees
    subprocess.run(["umount", "-q", str(base / "mnt")], capture_output=True)
    shutil.rmtree(base)


def as_user(user):
    return [] if user == "root" else ["setpriv", f"--reuid={USER[0]}", f"--regid={USER[1]}",
                                      "--clear-groups"]


def sandbox_args(user, upper):
    args = [] if user == "root" else ["--user", "%d:%d" % USER]
    return args + (["--upper", str(upper)] if upper else [])


def without_hard2(out):
    """The view minus hard1's other name (overlayfs breaks a hard link at copy-up)."""
    return "".join(line for line in out.splitlines(True) if not line.startswith("hard2 "))


@pytest.mark.parametrize("upper", [False, True], ids=["memory", "upper-dir"])
@pytest.mark.parametrize("user", ["root", "user"])
@pytest.mark.parametrize("op", OPS)
def test_a_change_to_each_kind_of_lower_object_is_seen_as_natively_and_leaves_the_host_alone(
        twin_trees, op, user, upper, run_native, run_sandboxed, assert_same_behaviour):
    lower, native_tree = twin_trees
    upper_dir = lower.parent / "upper" if upper else None
    before = tree_digest(lower)
    seen_before = run_native([PYTHON, "-c", SCRIPT, lower, "none"]).stdout
    native = run_native([*as_user(user), PYTHON, "-c", SCRIPT, native_tree, op])
    sandboxed = run_sandboxed([*sandbox_args(user, upper_dir), PYTHON, "-c", SCRIPT, lower, op])
    assert tree_digest(lower) == before, "the sandboxed run changed the host tree"
    assert native.returncode == 0, native.stderr
    assert_same_behaviour([op], native._replace(stdout=without_hard2(native.stdout)),
                          sandboxed._replace(stdout=without_hard2(sandboxed.stdout)))
    # overlayfs: hard2 is still the lower object, as it was (unless the change was its removal)
    hard2 = [line for line in sandboxed.stdout.splitlines() if line.startswith("hard2 ")]
    assert hard2 == [line for line in seen_before.splitlines() if line.startswith("hard2 ")]
    if upper:
        assert_the_hosts_overlayfs_sees_it(lower, upper_dir, sandboxed.stdout, run_native, user)


def assert_the_hosts_overlayfs_sees_it(lower, upper, seen, run_native, user):
    """The upper directory is in overlayfs's format: mounted over /, it shows the sandbox's
    view to the same user."""
    mnt = lower.parent / "mnt"
    mnt.mkdir()
    mount = subprocess.run(["mount", "-t", "overlay", "overlay", "-o",
                            f"lowerdir=/,upperdir={upper},workdir={upper}.work", str(mnt)],
                           capture_output=True, text=True)
    if mount.returncode != 0:
        pytest.skip(f"cannot mount overlayfs here: {mount.stderr.strip()}")
    try:
        shown = run_native([*as_user(user), PYTHON, "-c", SCRIPT, f"{mnt}{lower}", "none"])
    finally:
        subprocess.run(["umount", str(mnt)], check=True)
    assert shown.stdout == seen[seen.index("--\n"):]
