"""Every script in examples/ runs, and shows what the README says it shows."""
import os
import shutil
import subprocess

import pytest

from conftest import REPO_ROOT

EXAMPLES = REPO_ROOT / "examples"


def run(script):
    # the scripts call the `pylinuxabi` console script, as a user would
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT / "src"))
    return subprocess.run(["sh", str(EXAMPLES / script)], capture_output=True, text=True, env=env, timeout=300,
                          stdin=subprocess.DEVNULL)


pytestmark = pytest.mark.skipif(shutil.which("pylinuxabi") is None, reason="the pylinuxabi console script")


def test_sandboxed_build_leaves_the_host_untouched():
    r = run("sandboxed-build.sh")
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == ["hello from a sandboxed build", "hello", "hello.o",
                                     "host untouched: Makefile hello.c "]
    assert sorted(os.listdir(EXAMPLES / "hello")) == ["Makefile", "hello.c"]


@pytest.mark.skipif(os.geteuid() != 0, reason="conform's native run needs root")
def test_conform_names_the_seeded_divergence():
    r = run("conform-seeded.sh")
    assert r.returncode == 1, r.stdout + r.stderr
    assert '    native: openat(AT_FDCWD, "/etc/hostname", O_RDONLY) = 3' in r.stdout.splitlines()
    assert '    model:  openat(AT_FDCWD, "/etc/hostname", O_RDONLY) = -1 EACCES (Permission denied)' \
        in r.stdout.splitlines()


@pytest.mark.skipif(shutil.which("cc") is None, reason="a C compiler")
def test_injection_exposes_the_unchecked_write():
    r = run("inject-unchecked-write.sh")
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == ["saved /tmp/record.txt", "the record holds 0 bytes"]


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl")
def test_the_published_server_answers_the_host():
    r = run("publish.sh")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "served from the sandbox\n"
