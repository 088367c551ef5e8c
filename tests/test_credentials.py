"""--user UID:GID: the program's credentials are virtual, and our VFS checks
permissions with them as Linux would for that user (compared with the
program run natively under setpriv as the same user)."""
import shutil
import subprocess
import sys

import pytest

pytestmark = [pytest.mark.timeout(60),
              pytest.mark.skipif(shutil.which("setpriv") is None, reason="setpriv (util-linux) missing")]

USER = "1000:1000"


def native_as_user(argv):
    return subprocess.run(["setpriv", "--reuid=1000", "--regid=1000", "--clear-groups", *argv],
                          capture_output=True, cwd="/", stdin=subprocess.DEVNULL)


def sandboxed_as_user(argv):
    return subprocess.run([sys.executable, "-m", "pylinuxabi", "run", "--strict", "--user", USER, *argv],
                          capture_output=True, cwd="/", stdin=subprocess.DEVNULL)


@pytest.mark.parametrize("argv", [
    ["/usr/bin/id", "-u"],
    ["/usr/bin/id", "-g"],
    ["/usr/bin/id", "-G"],
])
def test_ids_are_the_virtual_user(argv):
    native, sandboxed = native_as_user(argv), sandboxed_as_user(argv)
    assert sandboxed.stdout == native.stdout
    assert sandboxed.returncode == native.returncode == 0


def test_a_file_the_user_may_not_read_is_EACCES():
    argv = ["/bin/cat", "/etc/shadow"]
    native, sandboxed = native_as_user(argv), sandboxed_as_user(argv)
    assert native.returncode == sandboxed.returncode == 1
    assert b"Permission denied" in native.stderr and b"Permission denied" in sandboxed.stderr


def test_access_answers_for_the_user():
    code = "import os; print([os.access(p, m) for p in ('/etc/shadow', '/etc/passwd', '/root') for m in (os.R_OK, os.W_OK, os.X_OK)])"
    python = shutil.which("python3", path="/usr/bin") or sys.executable
    native, sandboxed = native_as_user([python, "-c", code]), sandboxed_as_user([python, "-c", code])
    assert native.returncode == 0
    assert sandboxed.stdout == native.stdout
