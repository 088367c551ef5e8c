"""hostfs never leaves the served tree's filesystems (issue 10 part 4).

Host mount points of the kernel's interface filesystems (proc, sysfs, devtmpfs…)
under a served directory are empty, read-only directories, and host device nodes
are never opened. Each check runs in a private mount namespace of its own
(`unshare -m`), where the test mounts the host's filesystems under a temporary
tree as a bind inside the sandbox would show them.
"""
import os
import shutil
import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("unshare"),
                                reason="needs root and unshare(1) to make mounts")

SRC = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "src")

PRELUDE = """
import errno, os, stat, subprocess, sys
from pylinuxabi.base.errors import SyscallError
from pylinuxabi.vfs.hostfs import HostFS, SealedHostInode
root = sys.argv[1]
def sh(cmd):
    subprocess.run(cmd, shell=True, check=True, cwd=root)
def err(fn, *a):
    try:
        fn(*a)
    except SyscallError as e:
        return errno.errorcode[e.errno]
    return "no error"
def names(inode):
    f = inode.open(None, os.O_RDONLY | os.O_DIRECTORY, None)
    raw = f.getdents64(65536)
    out, pos = [], 0
    while pos < len(raw):
        reclen = int.from_bytes(raw[pos + 16:pos + 18], "little")
        out.append(raw[pos + 19:pos + reclen].split(b"\\0")[0])
        pos += reclen
    f.release()
    return sorted(out)
"""


def _run(tmp_path, body):
    script = PRELUDE + textwrap.dedent(body)
    r = subprocess.run(["unshare", "-m", "--propagation", "private", sys.executable, "-c", script,
                        str(tmp_path)], capture_output=True, text=True, timeout=60,
                       env=dict(os.environ, PYTHONPATH=SRC))
    assert r.returncode == 0, r.stdout + r.stderr
    return r.stdout


def test_proc_sysfs_and_devtmpfs_mount_points_are_empty_directories(tmp_path):
    out = _run(tmp_path, """
        sh("mkdir -p deep/proc sys dev data && mount -t proc proc deep/proc && mount -t sysfs sysfs sys"
           " && mount --bind /dev dev && mount -t tmpfs tmpfs data && echo hi > data/f")
        top = HostFS(root).root_inode
        for path in (b"deep/proc", b"sys", b"dev"):
            d = top
            for name in path.split(b"/"):
                d = d.lookup(name)
            print(path.decode(), type(d).__name__, stat.S_ISDIR(d.stat().mode), names(d),
                  err(d.lookup, b"self"), err(d.lookup, b"1"), err(d.lookup, b"null"))
        data = top.lookup(b"data")
        print("data", type(data).__name__, names(data))
    """)
    assert out.splitlines() == [
        "deep/proc SealedHostInode True [b'.', b'..'] ENOENT ENOENT ENOENT",
        "sys SealedHostInode True [b'.', b'..'] ENOENT ENOENT ENOENT",
        "dev SealedHostInode True [b'.', b'..'] ENOENT ENOENT ENOENT",
        "data HostInode [b'.', b'..', b'f']",
    ]


def test_devtmpfs_is_sealed_but_a_tmpfs_under_it_is_not(tmp_path):
    """devtmpfs has tmpfs's statfs magic: the mount table tells them apart."""
    out = _run(tmp_path, """
        sh("mkdir -p d && mount -t devtmpfs devtmpfs d 2>/dev/null || mount --bind /dev d;"
           " mkdir -p inner && mount -t tmpfs tmpfs inner && mount -t devpts devpts inner 2>/dev/null;"
           " mkdir -p t && mount -t tmpfs tmpfs t")
        top = HostFS(root).root_inode
        print(type(top.lookup(b"d")).__name__, type(top.lookup(b"t")).__name__)
        print(type(top.lookup(b"inner")).__name__)
    """)
    assert out.splitlines() == ["SealedHostInode HostInode", "SealedHostInode"]


def test_a_sealed_directory_cannot_be_changed_through_a_writable_volume(tmp_path):
    out = _run(tmp_path, """
        sh("mkdir -p p && mount -t proc proc p")
        from pylinuxabi.base.creds import Creds
        p = HostFS(root, writable=True).root_inode.lookup(b"p")
        print(err(p.setattr, 0o777), err(p.mkdir, b"x", 0o755, Creds()), err(p.create, b"x", 0o644, Creds()),
              err(p.setxattr, b"user.x", b"1", 0), err(p.getxattr, b"user.x"), p.listxattr())
        print(err(p.open, None, os.O_RDWR, None))
    """)
    assert out.splitlines() == ["EROFS EROFS EROFS EROFS ENODATA []", "EISDIR"]


def test_the_overlay_shows_a_sealed_lower_directory_empty(tmp_path):
    out = _run(tmp_path, """
        sh("mkdir -p proc && mount -t proc proc proc")
        from pylinuxabi.vfs.overlay import OverlayFS
        from pylinuxabi.vfs.tmpfs import TmpFS
        top = OverlayFS(HostFS(root).root_inode, TmpFS()).root_inode
        proc = top.lookup(b"proc")
        print(proc.names(), err(proc.lookup, b"self"))
    """)
    assert out.splitlines() == ["[] ENOENT"]


def test_host_device_nodes_are_never_opened(tmp_path):
    """A device the model has is the model's; any other is EACCES (as on a nodev mount),
    read-only or writable; truncate and fallocate never open one either."""
    out = _run(tmp_path, """
        sh("mknod null c 1 3 && mknod mem c 1 1 && mknod disk b 7 0 && mknod kmsg c 1 11")
        from pylinuxabi.vfs.devfs import make_devfs
        from pylinuxabi.vfs.stdio import TtyFile
        make_devfs(TtyFile)                     # (registers the model's devices)
        for writable in (False, True):
            top = HostFS(root, writable=writable).root_inode
            null = top.lookup(b"null").open(None, os.O_RDWR, None)
            print(type(null).__name__, null.write(b"x"),
                  err(top.lookup(b"mem").open, None, os.O_RDONLY, None),
                  err(top.lookup(b"disk").open, None, os.O_RDONLY, None),
                  err(top.lookup(b"kmsg").open, None, os.O_RDONLY, None))
        top = HostFS(root, writable=True).root_inode
        print(err(top.lookup(b"disk").setattr, None, None, None, 0),
              err(top.lookup(b"mem").fallocate, 0, 0, 4096))
    """)
    assert out.splitlines() == ["NullFile 1 EACCES EACCES EACCES", "NullFile 1 EACCES EACCES EACCES",
                                "EINVAL ENODEV"]
