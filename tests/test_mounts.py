"""mount(2), umount2(2) and the mount table as /proc shows it.

The C program runs natively in a private mount namespace (unshare -m) and
under pylinuxabi; both must print the same. Real tools (busybox mount,
findmnt) then read the table the sandbox keeps.
"""
import shutil

import pytest

pytestmark = pytest.mark.timeout(120)

BUSYBOX = shutil.which("busybox")


def test_mount_program_same_as_native_in_a_private_namespace(build, run_native, run_sandboxed,
                                                              assert_same_behaviour):
    exe = str(build("mounts"))
    native = run_native(["unshare", "-m", "--propagation", "private", exe])
    sandboxed = run_sandboxed([exe])
    assert "mountinfo a: root=/ rw,relatime - tmpfs none rw,size=1024k" in native.stdout
    assert_same_behaviour([exe], native, sandboxed)


def test_the_sandbox_mount_table_is_what_proc_shows(run_sandboxed):
    r = run_sandboxed(["/bin/sh", "-c", "cat /proc/self/mountinfo; echo; cat /proc/mounts"])
    assert r.returncode == 0, r.stderr
    info, mounts = r.stdout.split("\n\n")
    rows = [line.split() for line in info.splitlines()]
    points = {row[4]: row for row in rows}
    assert points["/"][0] == points["/"][1]                 # the root is its own parent
    assert points["/proc"][1] == points["/"][0]
    assert points["/dev/shm"][1] == points["/dev"][0]
    assert [row[row.index("-") + 1] for row in rows if row[4] == "/proc"] == ["proc"]
    assert "overlay / overlay rw,relatime 0 0" in mounts


@pytest.mark.skipif(BUSYBOX is None, reason="busybox-static is not installed")
def test_busybox_mount_and_umount_a_tmpfs(run_sandboxed):
    script = ("mkdir -p /mnt/t && mount -t tmpfs -o size=64k none /mnt/t && echo hi > /mnt/t/f && "
              "grep ' /mnt/t ' /proc/mounts && dd if=/dev/zero of=/mnt/t/big bs=1k count=100 2>&1 | "
              "head -1; umount /mnt/t && ls -A /mnt/t | wc -l")
    r = run_sandboxed([BUSYBOX, "sh", "-c", script])
    assert r.stdout.splitlines()[0] == "none /mnt/t tmpfs rw,relatime,size=64k 0 0"
    assert "No space left on device" in r.stdout
    assert r.stdout.splitlines()[-1] == "0"


@pytest.mark.skipif(shutil.which("findmnt") is None, reason="util-linux findmnt is not installed")
def test_findmnt_reads_the_table(run_sandboxed):
    r = run_sandboxed(["/bin/sh", "-c", "mount -t tmpfs -o mode=750 scratch /tmp && "
                                        "findmnt -n -o TARGET,FSTYPE,SOURCE,OPTIONS /tmp"])
    assert r.stdout.split() == ["/tmp", "tmpfs", "scratch", "rw,relatime,mode=750"], r.stderr

