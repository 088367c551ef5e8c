"""Limits of issue 11 defect 5 (tests/programs/files_limits.c, run natively and
under pylinuxabi, as root and as a user, in each kind of file system the
program can make files in).

ETXTBSY both ways (a running file is not opened for writing or truncated, a
file open for writing is not run, script or ELF); RLIMIT_FSIZE over every
write path (write, pwrite, pwritev, sendfile, copy_file_range, splice, O_APPEND)
and size change (ftruncate, truncate, fallocate) with EFBIG and SIGXFSZ;
prctl PR_GET/SET_TSC; clone's EINVAL flag rules before its EPERM; EPOLLEXCLUSIVE
waking one of three waiters; rt_sigtimedwait's EAGAIN; posix_fadvise's checks.
"""
import os
import shutil
import tempfile

import pytest
from conftest import reachable

pytestmark = [pytest.mark.timeout(120),
              pytest.mark.skipif(shutil.which("setpriv") is None, reason="setpriv (util-linux) missing")]

AS_USER = ["setpriv", "--reuid=1000", "--regid=1000", "--clear-groups"]
# a directory of its own in each (the sandbox's /tmp and /var/tmp show the host's)
PLACES = {"tmp": "/tmp/files_limits.{}", "overlay": "/var/tmp/files_limits.{}", "volume": "/vol"}


@pytest.fixture
def host_dir():
    with tempfile.TemporaryDirectory(prefix="files_limits.") as d:
        os.chmod(d, 0o777)
        yield d


@pytest.mark.parametrize("place", PLACES)
def test_file_limits_as_root(build, run_native, run_sandboxed, assert_same_behaviour, host_dir, place):
    binary = build("files_limits")
    native = run_native([binary, host_dir])
    assert native.returncode == 0 and "truncate(exe, 0) = -1 ETXTBSY" in native.stdout, native.stderr
    assert "write(fd, buf, 2000) = 1000" in native.stdout and "EPOLLEXCLUSIVE 1: 1 woken" in native.stdout
    argv = ["-v", f"{host_dir}:/vol", binary, PLACES[place].format(os.path.basename(host_dir))]
    assert_same_behaviour(argv, native, run_sandboxed(argv))


@pytest.mark.parametrize("place", PLACES)
def test_file_limits_as_a_user(build, run_native, run_sandboxed, assert_same_behaviour, host_dir, place):
    binary = reachable(build("files_limits"))
    native = run_native([*AS_USER, binary, host_dir])
    assert native.returncode == 0 and "open(exe, O_WRONLY) = -1 ETXTBSY" in native.stdout, native.stderr
    argv = ["--user", "1000:1000", "-v", f"{host_dir}:/vol", binary, PLACES[place].format(os.path.basename(host_dir))]
    assert_same_behaviour(argv, native, run_sandboxed(argv))


def test_shell_sees_text_busy(run_sandboxed):
    """What a user meets: a shell copying over a program it is running."""
    r = run_sandboxed(["sh", "-c", "cp /bin/sleep /tmp/s && /tmp/s 5 & sleep 0.3; cp /bin/true /tmp/s; "
                       "echo cp=$?; kill $!; wait; cp /bin/true /tmp/s; echo again=$?"])
    assert "cp=1" in r.stdout and "again=0" in r.stdout and "Text file busy" in r.stderr, r


@pytest.mark.parametrize("user", [[], ["--user", "1000:1000"]], ids=["root", "user"])
def test_inode_flags_on_tmpfs(build, run_native, run_sandboxed, assert_same_behaviour, user):
    """FS_IOC_GETFLAGS/SETFLAGS and the append-only and immutable rules, on tmpfs
    (/dev/shm natively, the model's /dev/shm in the sandbox)."""
    binary = reachable(build("files_flags"))
    native = run_native([*(AS_USER if user else []), binary, "/dev/shm"])
    assert native.returncode == 0 and "ioctl(fd, FS_IOC_GETFLAGS, &fl) = 0" in native.stdout, native.stderr
    argv = [*user, binary, "/dev/shm"]
    assert_same_behaviour(argv, native, run_sandboxed(argv))


@pytest.mark.skipif(shutil.which("chattr") is None, reason="e2fsprogs missing")
def test_chattr_and_lsattr(run_native, run_sandboxed):
    """What chattr and lsattr users do: flags on tmpfs, and the host's flags of the
    overlay's lower files shown as they are."""
    script = ("lsattr /etc/passwd; lsattr -d /etc; f=/dev/shm/pylinuxabi-chattr-test; echo x > $f; chattr +i $f; lsattr $f; "
              "rm -f $f; echo y >> $f; chattr -i +a $f; echo z >> $f; echo w > $f; lsattr $f; cat $f; "
              "chattr -a $f; rm $f && echo gone")
    native, sandboxed = run_native(["sh", "-c", script]), run_sandboxed(["sh", "-c", script])
    assert "gone" in native.stdout, native
    assert (sandboxed.stdout, sandboxed.returncode) == (native.stdout, native.returncode), sandboxed
    assert sandboxed.stderr.count("Operation not permitted") == native.stderr.count("Operation not permitted") == 3


def test_tmpfs_space_counts_pages_allocated_past_the_end(run_native, run_sandboxed, assert_same_behaviour):
    """fallocate(FALLOC_FL_KEEP_SIZE) past the end of a tmpfs file takes space from the
    filesystem as Linux's does: 1 MiB fits, 128 TiB is ENOSPC (it once reached the host's
    memory unaccounted, filling the machine), and the size stays."""
    code = ("import ctypes, os\n"
            "libc = ctypes.CDLL(None, use_errno=True)\n"
            "fd = os.open('/dev/shm/keep', os.O_CREAT | os.O_RDWR)\n"
            "for n in (1 << 20, 1 << 47):\n"
            "    r = libc.fallocate(fd, 1, ctypes.c_long(0), ctypes.c_long(n))\n"
            "    print(n, os.strerror(ctypes.get_errno()) if r else 'ok', os.fstat(fd).st_size,\n"
            "          os.fstat(fd).st_blocks)\n"
            "os.unlink('/dev/shm/keep')\n")
    argv = ["/usr/bin/python3", "-c", code]
    assert_same_behaviour(argv, run_native(argv), run_sandboxed(argv))
