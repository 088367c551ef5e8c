"""Where the sandbox differs from the host on purpose (DESIGN §1): the
expected value is stated here, not taken from a native run."""
import pytest

pytestmark = pytest.mark.timeout(60)


def test_new_namespaces_are_refused_with_EPERM(build, run_sandboxed):
    result = run_sandboxed([str(build("newns"))])
    assert result.returncode == 0
    lines = result.stdout.splitlines()
    assert len(lines) == 10
    assert all(line.endswith("= EPERM") for line in lines), lines


def test_the_program_is_pid_2_with_parent_1(run_sandboxed):
    result = run_sandboxed(["/bin/sh", "-c", "echo $$ $PPID"])
    assert result.stdout.split() == ["2", "1"]


def test_a_read_only_root_refuses_writes_with_EROFS(run_sandboxed):
    result = run_sandboxed(["--read-only", "/bin/sh", "-c", "echo x > /etc/pylinuxabi-test; echo $?"])
    assert "Read-only file system" in result.stderr
    assert result.stdout.strip() == "2"


def test_the_program_sees_the_O_NONBLOCK_it_set_on_stdout(tmp_path):
    """Its own view of the flags is the model's."""
    import os
    import subprocess
    import sys
    r, w = os.pipe()
    try:
        code = ("import fcntl, os; fcntl.fcntl(1, fcntl.F_SETFL, os.O_NONBLOCK); "
                "print(fcntl.fcntl(1, fcntl.F_GETFL) & os.O_NONBLOCK != 0)")
        proc = subprocess.run([sys.executable, "-m", "pylinuxabi", "run", "--strict", "/usr/bin/python3", "-c", code],
                              stdout=w, stderr=subprocess.PIPE, timeout=60)
        os.close(w)
        w = None
        assert proc.returncode == 0, proc.stderr
        assert os.read(r, 100) == b"True\n"
    finally:
        if w is not None:
            os.close(w)
        os.close(r)


def test_the_shells_stdout_file_description_never_gets_O_NONBLOCK():
    """The host stdio is shared with the user's shell: its status flags never change."""
    import fcntl
    import os
    import subprocess
    import sys
    r, w = os.pipe()
    before = fcntl.fcntl(w, fcntl.F_GETFL)
    code = "import fcntl, os; fcntl.fcntl(1, fcntl.F_SETFL, os.O_NONBLOCK | os.O_APPEND)"
    subprocess.run([sys.executable, "-m", "pylinuxabi", "run", "--strict", "/usr/bin/python3", "-c", code],
                   stdout=w, timeout=60, check=True)
    after = fcntl.fcntl(w, fcntl.F_GETFL)
    os.close(r)
    os.close(w)
    assert after == before


# the kernel's views, mounted as docker mounts them (tests/test_sysfs.py)
SYSTEM_MOUNTS = ["devtmpfs /dev devtmpfs rw,relatime 0 0",
                 "devpts /dev/pts devpts rw,nosuid,noexec,relatime,gid=5,mode=620,ptmxmode=666 0 0",
                 "shm /dev/shm tmpfs rw,relatime 0 0",
                 "mqueue /dev/mqueue mqueue rw,nosuid,nodev,noexec,relatime 0 0", "proc /proc proc rw,relatime 0 0",
                 "proc /proc/sys proc rw,nosuid,nodev,noexec,relatime 0 0",
                 "sysfs /sys sysfs ro,nosuid,nodev,noexec,relatime 0 0",
                 "cgroup /sys/fs/cgroup cgroup2 ro,nosuid,nodev,noexec,relatime 0 0"]


SYNTHETIC_MOUNTS = ["devtmpfs /dev devtmpfs rw,relatime 0 0",
                    "devpts /dev/pts devpts rw,nosuid,noexec,relatime,gid=5,mode=620,ptmxmode=666 0 0",
                    "shm /dev/shm tmpfs rw,relatime 0 0",
                    "mqueue /dev/mqueue mqueue rw,nosuid,nodev,noexec,relatime 0 0", "proc /proc proc rw,relatime 0 0",
                    "proc /proc/sys proc rw,nosuid,nodev,noexec,relatime 0 0",
                    "sysfs /sys sysfs ro,nosuid,nodev,noexec,relatime 0 0",
                    "cgroup /sys/fs/cgroup cgroup2 ro,nosuid,nodev,noexec,relatime 0 0",
                    # a network of its own: its names, as docker mounts its (sandbox.py network_files)
                    "tmpfs /etc/hosts tmpfs rw,relatime 0 0", "tmpfs /etc/hostname tmpfs rw,relatime 0 0"]


def test_proc_mounts_is_the_sandboxs_mount_table(run_sandboxed):
    result = run_sandboxed(["/bin/cat", "/proc/mounts"])
    assert result.stdout.splitlines() == ["overlay / overlay rw,relatime 0 0"] + SYNTHETIC_MOUNTS
    result = run_sandboxed(["--read-only", "--tmpfs", "/tmp", "/bin/cat", "/proc/mounts"])
    assert result.stdout.splitlines() == (["/ / hostfs ro,relatime 0 0"] + SYNTHETIC_MOUNTS
                                          + ["tmpfs /tmp tmpfs rw,relatime 0 0"])


def test_root_may_not_open_by_handle_nor_pivot_root(build, run_sandboxed):
    """No CAP_DAC_READ_SEARCH, no CAP_SYS_ADMIN for pivot_root: what docker's
    default capabilities give root (natively, Linux decodes the handle: ESTALE)."""
    result = run_sandboxed([str(build("files_openat2")), "root-handle"])
    assert result.stdout == "syscall(SYS_open_by_handle_at, AT_FDCWD, &g, O_RDONLY) = -1 EPERM\n", result.stderr
    result = run_sandboxed([str(build("files_chroot")), "root-pivot"])
    assert result.stdout == ('syscall(SYS_pivot_root, BADPTR, BADPTR) = -1 EPERM\n'
                             'syscall(SYS_pivot_root, "/", "/") = -1 EPERM\n'), result.stderr
