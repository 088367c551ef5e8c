"""The generated kernel views (vfs/sysfs.py, vfs/procsys.py, vfs/devpts.py) without a
tracee: their trees, sysctl permissions, the cgroup's files, pty numbering."""
import errno
import os
import stat as st

import pytest

from pylinuxabi.base.creds import Creds
from pylinuxabi.base.errors import SyscallError
from pylinuxabi.vfs.devpts import DEVPTS_SUPER_MAGIC, DevPts
from pylinuxabi.vfs.inode import R_OK, W_OK, X_OK
from pylinuxabi.vfs.mount import Mount
from pylinuxabi.vfs.procsys import PROC_SUPER_MAGIC, make_procsys
from pylinuxabi.vfs.sysfs import CGROUP2_SUPER_MAGIC, SYSFS_MAGIC, make_cgroup, make_sysfs


def walk(inode, path):
    for name in path.split(b"/"):
        inode = inode.lookup(name)
    return inode


def content(inode):
    return inode.open(None, os.O_RDONLY, None).pread(1 << 16, 0)


def test_sysfs_directories_count_their_subdirectories_in_st_nlink():
    root = make_sysfs()
    assert st.S_IMODE(root.stat().mode) == 0o555 and root.stat().nlink == 12
    cpu = walk(root, b"devices/system/cpu")
    host_cpus = sorted(n.encode() for n in os.listdir("/sys/devices/system/cpu")
                       if n.startswith("cpu") and n[3:].isdigit())
    assert sorted(n for n in cpu.children() if n[3:].isdigit()) == host_cpus
    assert cpu.stat().nlink == 2 + len(host_cpus)


def test_sysfs_attributes_are_a_page_long_and_say_sysfs_to_statfs():
    online = walk(make_sysfs(), b"devices/system/cpu/online")
    assert online.stat().size == 4096 and online.fs_magic == SYSFS_MAGIC
    assert content(online) == open("/sys/devices/system/cpu/online", "rb").read()


def test_cpuN_shows_only_topology_caches_and_online():
    cpu0 = walk(make_sysfs(), b"devices/system/cpu/cpu0")
    assert set(cpu0.children()) <= {b"online", b"topology", b"cache"}
    assert b"topology" in cpu0.children()
    assert not any(child.is_symlink() for child in cpu0.children().values())


class Proc:
    def __init__(self, tids):
        self.tasks = dict.fromkeys(tids)


def test_cgroup_lists_the_model_processes_and_threads():
    procs = {7: Proc([7, 9]), 3: Proc([3])}
    root = make_cgroup(lambda: procs)
    assert content(root.lookup(b"cgroup.procs")) == b"3\n7\n"
    assert content(root.lookup(b"cgroup.threads")) == b"3\n7\n9\n"
    assert content(root.lookup(b"pids.current")) == b"3\n"
    assert content(root.lookup(b"cpu.max")) == b"max 100000\n"
    assert root.lookup(b"memory.max").fs_magic == CGROUP2_SUPER_MAGIC
    assert root.lookup(b"memory.max").stat().size == 0


def procsys(hostname=b"box"):
    return make_procsys(os.makedev(0, 99), lambda: hostname, lambda: b"(none)",
                        {b"fs/nr_open": (1048576, 0o644)}, lambda: 2)


def test_procsys_tree_is_sorted_and_its_directories_have_one_link():
    root = procsys()
    assert list(root.children()) == sorted(root.children())
    kernel = root.lookup(b"kernel")
    assert list(kernel.children()) == sorted(kernel.children())
    assert kernel.stat().nlink == 1 and st.S_IMODE(kernel.stat().mode) == 0o555
    assert content(walk(root, b"kernel/hostname")) == b"box\n"
    assert content(walk(root, b"kernel/pty/nr")) == b"2\n"
    assert content(walk(root, b"fs/nr_open")) == b"1048576\n"
    assert walk(root, b"kernel/ostype").fs_magic == PROC_SUPER_MAGIC


def test_sysctl_permission_gives_root_no_override():
    root = procsys()
    ostype, hostname = walk(root, b"kernel/ostype"), walk(root, b"kernel/hostname")
    superuser, user = Creds(0, 0), Creds(1000, 1000)
    with pytest.raises(SyscallError) as e:
        ostype.permission(superuser, W_OK)
    assert e.value.errno == errno.EACCES
    hostname.permission(superuser, W_OK | R_OK)
    for creds, inode, mask in ((user, hostname, W_OK), (superuser, hostname, X_OK), (superuser, root, W_OK)):
        with pytest.raises(SyscallError):
            inode.permission(creds, mask)
    hostname.permission(user, R_OK)


def test_devpts_numbers_from_0_reuses_the_lowest_and_lists_newest_first():
    devpts = DevPts()
    mount = Mount("devpts", b"devpts", devpts)
    ptmx = mount.root.child(b"ptmx")
    a, b, c = (ptmx.inode.open(ptmx, os.O_RDWR, None) for _ in range(3))
    try:
        assert [f.pty.number for f in (a, b, c)] == [0, 1, 2]
        b.release()
        d = ptmx.inode.open(ptmx, os.O_RDWR, None)
        assert d.pty.number == 1
        assert list(devpts.children()) == [b"1", b"2", b"0", b"ptmx"]
        node = devpts.lookup(b"1")
        assert node.stat().ino == 4 and os.major(node.stat().rdev) == 136 and node.stat().gid == 5
        assert node.fs_magic == DEVPTS_SUPER_MAGIC and devpts.stat().ino == 1
        assert (ptmx.inode.stat().ino, ptmx.inode.stat().rdev) == (2, os.makedev(5, 2))
        with pytest.raises(SyscallError) as e:
            node.open(None, os.O_RDWR | os.O_NOCTTY, None)          # locked until unlockpt
        assert e.value.errno == errno.EIO
    finally:
        for f in (a, c, d):
            f.release()
    assert list(devpts.children()) == [b"ptmx"]
