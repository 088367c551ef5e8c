"""Linux rules of issue 11 defect 5 (tests/programs/files_rules.c, run natively and
under pylinuxabi, as root and as a user, in a directory of each kind of file
system the program can make files in).

fsync of a file whose driver has none (sockets, pipes, /dev/null, /proc files) is
EINVAL; mmap looks at the fd before the length and the mapping type; O_NOATIME
is the owner's (or CAP_FOWNER's); chmod drops S_ISGID for a caller outside the
file's group; PR_SET_NAME reads user memory (EFAULT); the timer slack is per
thread, inherited, and reset to the default by 0; a shared mapping of a file
open read-only never becomes writable, whatever backs the file.
"""
import os
import shutil
import tempfile

import pytest
from conftest import reachable

pytestmark = [pytest.mark.timeout(120),
              pytest.mark.skipif(shutil.which("setpriv") is None, reason="setpriv (util-linux) missing")]

AS_USER = ["setpriv", "--reuid=1000", "--regid=1000", "--clear-groups"]

# where the program makes its files under pylinuxabi: the sandbox's /tmp, the overlay's
# upper (a directory of the host's tree), a writable volume
PLACES = {"tmp": "/tmp", "overlay": "/var/tmp", "volume": "/vol"}


@pytest.fixture
def host_dir():
    # under /tmp itself: the user must reach it, and pytest's tmp_path is root's alone
    with tempfile.TemporaryDirectory(prefix="files_rules.") as d:
        os.chmod(d, 0o777)
        yield d


@pytest.mark.parametrize("place", PLACES)
def test_file_rules_as_root(build, run_native, run_sandboxed, assert_same_behaviour, host_dir, place):
    binary = build("files_rules")
    native = run_native([binary, host_dir, "/etc/shadow"])
    assert native.returncode == 0 and "fsync /dev/null: EINVAL" in native.stdout, native.stderr
    assert "chmod 02755: ok mode 755" in native.stdout
    argv = ["-v", f"{host_dir}:/vol", binary, PLACES[place], "/etc/shadow"]
    assert_same_behaviour(argv, native, run_sandboxed(argv))


@pytest.mark.parametrize("place", PLACES)
def test_file_rules_as_a_user(build, run_native, run_sandboxed, assert_same_behaviour, host_dir, place):
    binary = reachable(build("files_rules"))
    native = run_native([*AS_USER, binary, host_dir, "/etc/passwd"])
    assert native.returncode == 0 and "O_NOATIME /etc/passwd: EPERM" in native.stdout, native.stderr
    argv = ["--user", "1000:1000", "-v", f"{host_dir}:/vol", binary, PLACES[place], "/etc/passwd"]
    assert_same_behaviour(argv, native, run_sandboxed(argv))
