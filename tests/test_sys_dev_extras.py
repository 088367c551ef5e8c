"""/sys and /dev that programs read (issue 11, defect 6): /sys/kernel/mm's huge page,
KSM and transparent huge page settings; memfd_create(MFD_HUGETLB) and hugetlbfs; device
nodes made with mknod — run natively and under pylinuxabi (tests/programs/sys_dev_extras.c),
as root and, in a child the program makes, as a user.

Natively each part runs where the sandbox's rules are the machine's: /sys remounted
read-only in a mount namespace of its own (docker's /sys), and the block devices in a
device cgroup with docker's default rules."""
import os
import shutil
import subprocess
import tempfile
import uuid

import pytest

pytestmark = pytest.mark.timeout(120)

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="the native run mounts and makes device nodes")


def _has_filesystem(name):
    with open("/proc/filesystems") as f:
        return any(line.split()[-1] == name for line in f if line.strip())


needs_hugetlbfs = pytest.mark.skipif(not _has_filesystem("hugetlbfs"), reason="the kernel has no hugetlbfs")


@pytest.fixture
def scratch_dir():
    path = tempfile.mkdtemp(prefix="pylinuxabi-sdx-")
    yield path
    subprocess.run(["umount", "-R", path], capture_output=True)     # after a failed run
    os.rmdir(path)


# -- /sys/kernel/mm -------------------------------------------------------------------
def _native_with_read_only_sys(run_native, argv):
    """argv natively, in a mount namespace whose /sys is read-only, as docker's is."""
    if shutil.which("unshare") is None:
        pytest.skip("unshare (util-linux) missing")
    script = 'mount -o remount,bind,ro /sys || exit 77; exec "$@"'
    result = run_native(["unshare", "-m", "sh", "-c", script, "sh", *argv])
    if result.returncode == 77:
        pytest.skip("cannot remount /sys read-only in a new mount namespace")
    return result


@needs_root
def test_kernel_mm_shows_the_hosts_huge_page_ksm_and_thp_files_read_only(
        build, run_native, run_sandboxed, assert_same_behaviour):
    """hugepages/, ksm/ and transparent_hugepage/ (khugepaged/, hugepages-*kB/ and
    their stats/) with the host's names, modes and settings; writes are EROFS for
    root (a read-only sysfs, so the host never changes) and EACCES for a user."""
    binary = build("sys_dev_extras")
    if not os.path.isdir("/sys/kernel/mm/transparent_hugepage"):
        pytest.skip("the host has no transparent huge pages")
    native = _native_with_read_only_sys(run_native, [binary, "mm"])
    assert native.returncode == 0 and "ksm/run O_WRONLY: EROFS" in native.stdout, native.stdout + native.stderr
    assert_same_behaviour([binary, "mm"], native, run_sandboxed([binary, "mm"]))


def test_ordinary_tools_read_the_thp_and_ksm_settings(run_native, run_sandboxed, assert_same_behaviour):
    script = ("cd /sys/kernel/mm && ls ksm transparent_hugepage transparent_hugepage/khugepaged hugepages && "
              "cat transparent_hugepage/enabled transparent_hugepage/defrag ksm/run && "
              "grep -r . transparent_hugepage/hugepages-2048kB/enabled hugepages/*/nr_hugepages")
    argv = ["/bin/sh", "-c", script]
    assert_same_behaviour(argv, run_native(argv), run_sandboxed(argv))


def test_the_sandbox_leaves_the_hosts_ksm_and_thp_settings_alone(run_sandboxed):
    """Judged from the host: what root in the sandbox writes changes nothing."""
    files = ["/sys/kernel/mm/ksm/run", "/sys/kernel/mm/transparent_hugepage/enabled"]
    before = [open(f).read() for f in files]
    script = "; ".join(f"echo 1 > {f} || echo refused; echo never > {f} || echo refused" for f in files)
    result = run_sandboxed(["/bin/sh", "-c", script])
    assert result.stdout == "refused\n" * 4, result.stdout + result.stderr
    assert [open(f).read() for f in files] == before


# -- huge pages -----------------------------------------------------------------------
@needs_hugetlbfs
@pytest.mark.parametrize("variant", ["dynamic", "static"])
def test_memfd_hugetlb_behaves_as_the_hosts(variant, build, run_native, run_sandboxed, assert_same_behaviour):
    """A hugetlbfs file of the internal mount: statfs, block size, no write(2), whole-page
    sizes, mmap/fallocate as the host's pool allows; the MFD_HUGE_* sizes the host has."""
    binary = build("sys_dev_extras", variant)
    native = run_native([binary, "memfd"])
    assert native.returncode == 0 and "memfd_create(MFD_HUGETLB): ok" in native.stdout, native.stdout
    assert_same_behaviour([binary, "memfd"], native, run_sandboxed([binary, "memfd"]))


MOUNT_OPTIONS = ["", "size=4M,mode=0700,nr_inodes=4", "pagesize=1G,uid=5,gid=6", "nr_inodes=2",
                 "size=50%,min_size=0", "min_size=2M", "size=2M,min_size=4M", "pagesize=4k", "size=K", "bogus=1"]


@needs_root
@needs_hugetlbfs
@pytest.mark.parametrize("options", MOUNT_OPTIONS)
def test_mount_hugetlbfs_matches_native(options, scratch_dir, build, run_native, run_sandboxed,
                                        assert_same_behaviour):
    """mount -t hugetlbfs: its options (as mountinfo shows them, EINVAL when bad, ENOMEM
    when min_size cannot be reserved), statfs with and without a size limit, files of
    whole huge pages, no symlinks, xattrs or inode flags, newest entries listed first,
    nr_inodes (ENOSPC), and a user's EPERM."""
    argv = [build("sys_dev_extras"), "hugetlbfs", scratch_dir, *([options] if options else [])]
    if "1G" in options and not os.path.isdir("/sys/kernel/mm/hugepages/hugepages-1048576kB"):
        pytest.skip("the host has no 1 GiB huge pages")
    native = run_native(argv)
    assert native.returncode == 0 and "mount -t hugetlbfs" in native.stdout, native.stdout + native.stderr
    assert_same_behaviour(argv, native, run_sandboxed(argv))


@needs_root
@needs_hugetlbfs
def test_ordinary_tools_on_a_hugetlbfs_mount(scratch_dir, run_native, run_sandboxed, assert_same_behaviour):
    script = (f"cd {scratch_dir} && mount -t hugetlbfs -o size=4M none . && cd . && stat -f -c '%T %S %b %f' . && "
              "grep hugetlbfs /proc/mounts | cut -d' ' -f1,3,4 && touch a b && mkdir c && ls -f && "
              "truncate -s 2M a && stat -c '%s %o %b' a && (echo x > b) 2>&1 | sed 's/.*: //'; "
              f"cd / && umount {scratch_dir}")
    argv = ["/bin/sh", "-c", script]
    native = run_native(argv)
    assert "hugetlbfs" in native.stdout, native.stdout + native.stderr
    assert_same_behaviour(argv, native, run_sandboxed(argv))


# -- device nodes ---------------------------------------------------------------------
DOCKER_DEVICE_RULES = ["c *:* m", "b *:* m", "c 1:3 rwm", "c 1:5 rwm", "c 1:7 rwm", "c 1:8 rwm", "c 1:9 rwm",
                       "c 5:0 rwm", "c 5:1 rwm", "c 5:2 rwm", "c 136:* rwm", "c 10:200 rwm"]
DEVICES_CGROUP = "/sys/fs/cgroup/devices"


@pytest.fixture
def docker_device_cgroup():
    """A cgroup-v1 devices cgroup with docker's default rules (moby's: every device may
    be made, only null, zero, full, random, urandom, tty, console, ptmx, the ptys and
    tun read or written), removed afterwards."""
    if not os.path.exists(os.path.join(DEVICES_CGROUP, "devices.allow")):
        pytest.skip("no cgroup-v1 devices controller to run the native side in docker's device cgroup")
    path = os.path.join(DEVICES_CGROUP, f"pylinuxabi-test-{uuid.uuid4().hex[:8]}")
    os.mkdir(path)
    try:
        with open(os.path.join(path, "devices.deny"), "w") as f:
            f.write("a")
        for rule in DOCKER_DEVICE_RULES:
            with open(os.path.join(path, "devices.allow"), "w") as f:
                f.write(rule)
        yield path
    finally:
        os.rmdir(path)


@needs_root
@pytest.mark.parametrize("variant", ["dynamic", "static"])
def test_device_nodes_open_as_in_dockers_device_cgroup(variant, scratch_dir, docker_device_cgroup, build,
                                                       run_native, run_sandboxed, assert_same_behaviour):
    """Block devices (loop0, which this host has; sda, ram0, a major with no driver)
    are EPERM to open and to access(R_OK|W_OK) for root and a user alike — after the
    mode bits (EACCES) and a nodev mount (EACCES); 0:0 passes access and a character
    0:0 opens as no driver (ENXIO); /dev/null's number opens /dev/null. The sandbox
    never opens a host device."""
    binary = build("sys_dev_extras", variant)
    argv = [binary, "blockdev", scratch_dir]
    enter = f'echo $$ > {docker_device_cgroup}/cgroup.procs && exec "$@"'
    native = run_native(["sh", "-c", enter, "sh", *argv])
    assert native.returncode == 0 and "loop0: O_RDONLY EPERM" in native.stdout, native.stdout + native.stderr
    assert_same_behaviour(argv, native, run_sandboxed(argv))


def test_a_device_node_on_a_volume_is_refused_without_opening_the_host_device(tmp_path, run_sandboxed):
    """A host directory given as a volume holding a node of a real host device (the
    loop device, /dev/null's number as a block device): never opened, EPERM as docker's cgroup."""
    if os.geteuid() != 0:
        pytest.skip("making device nodes needs root")
    os.mknod(tmp_path / "loop0", 0o60666, os.makedev(7, 0))
    os.mknod(tmp_path / "blk", 0o60666, os.makedev(1, 3))
    code = ("import os\n"
            "for n in ('loop0', 'blk'):\n"
            "    try:\n"
            "        os.open('/vol/' + n, os.O_RDONLY)\n"
            "        print(n, 'opened')\n"
            "    except OSError as e:\n"
            "        print(n, e.errno == 1)\n")
    result = run_sandboxed(["-v", f"{tmp_path}:/vol", "/usr/bin/python3", "-c", code])
    assert result.stdout == "loop0 True\nblk True\n", result.stdout + result.stderr
