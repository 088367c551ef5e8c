"""A debootstrapped Debian minbase tree as the sandbox's root (--root).

The tree is built once with `debootstrap --variant=minbase` into a cache
folder outside the checkout (CI clones afresh each time) and reused after.
"""
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

pytestmark = [pytest.mark.timeout(1200), pytest.mark.slow]

CACHE = Path(os.environ.get("PYLINUXABI_ROOTFS_CACHE", Path.home() / ".cache" / "pylinuxabi"))
SUITE = "bookworm"
MIRROR = os.environ.get("PYLINUXABI_DEBIAN_MIRROR", "http://deb.debian.org/debian")


@pytest.fixture(scope="session")
def minbase():
    """The path of a Debian minbase tree, debootstrapped on first use."""
    tree = CACHE / f"minbase-{SUITE}"
    if (tree / "usr/bin/dpkg").exists():
        return tree
    if shutil.which("debootstrap") is None:
        pytest.skip("debootstrap is not installed (scripts/test installs it)")
    if os.geteuid() != 0:
        pytest.skip("debootstrap needs root")
    CACHE.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".minbase-{SUITE}.", dir=CACHE))
    proc = subprocess.run(["debootstrap", "--variant=minbase", SUITE, str(work), MIRROR],
                          capture_output=True, text=True, timeout=1100)
    if proc.returncode != 0:
        shutil.rmtree(work, ignore_errors=True)
        pytest.skip(f"debootstrap failed (is {MIRROR} reachable?): {proc.stderr.strip()[-500:]}")
    try:
        os.rename(work, tree)
    except OSError:
        shutil.rmtree(work, ignore_errors=True)     # another run finished first
    return tree


def test_a_debootstrapped_tree_boots_as_root(minbase, run_native, run_sandboxed, assert_same_behaviour):
    script = 'dpkg -l | wc -l; perl -e "print 1+1"; echo; cat /etc/debian_version; id -un'
    native = run_native(["chroot", str(minbase), "/bin/bash", "-c", script])
    assert native.returncode == 0, native.stderr
    sandboxed = run_sandboxed(["--root", str(minbase), "/bin/bash", "-c", script])
    assert_same_behaviour(["bash", "-c", script], native, sandboxed)


def test_writes_under_a_root_tree_stay_in_the_sandbox(minbase, run_sandboxed):
    marker = minbase / "root" / "pylinuxabi-marker"
    result = run_sandboxed(["--root", str(minbase), "/bin/bash", "-c",
                            "echo x > /root/pylinuxabi-marker && cat /root/pylinuxabi-marker && "
                            "apt-get --version | head -1 | cut -d' ' -f1"])
    assert result.returncode == 0, result.stderr
    assert result.stdout == "x\napt\n"
    assert not marker.exists()
