"""Hostile arguments to every syscall the model answers: under --strict a
Python exception in any handler stops the supervisor, so a clean exit means
each bad input was answered with an errno (TESTING.md: bad input is tested)."""
import subprocess
import sys

import pytest

pytestmark = pytest.mark.timeout(300)


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_random_hostile_syscalls_never_crash_a_handler(build, seed):
    binary = build("fuzz", "static")
    proc = subprocess.run([sys.executable, "-m", "pylinuxabi", "run", "--strict", str(binary), str(seed), "3000"],
                          stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                          cwd="/", timeout=240)
    assert b"Traceback" not in proc.stderr, proc.stderr.decode(errors="replace")[-3000:]
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")[-3000:]
