"""chroot(2) with real programs, through chroot(8): a static busybox that sees
only its tree ('..' stays at the new root), and a dynamic program whose
interpreter and libraries are found inside the new root (the ELF loader
resolves PT_INTERP from the process's root).

The expected output is stated here, and checked against a native run too
when the tests run as root (chroot needs CAP_SYS_CHROOT).
"""
import os
import shutil
import subprocess

import pytest
from elftools.elf.elffile import ELFFile

pytestmark = pytest.mark.timeout(120)

BUSYBOX_SCRIPT = ("ls -a /; cd ..; pwd; cd /../../bin; pwd; echo hi > /../f; "
                  "/bin/busybox cat /f; ls /; /bin/busybox readlink -f /bin/../..")
BUSYBOX_OUTPUT = ".\n..\nbin\n/\n/bin\nhi\nbin\nf\n/\n"


def _interp(path):
    with open(path, "rb") as f:
        for seg in ELFFile(f).iter_segments():
            if seg["p_type"] == "PT_INTERP":
                return seg.get_interp_name()
    return None


def _chroot_cmd():
    chroot = shutil.which("chroot") or "/usr/sbin/chroot"
    if not os.path.exists(chroot):
        pytest.skip("chroot(8) is not installed")
    return chroot


def _check(argv, expected, run_native, run_sandboxed):
    """The sandbox prints `expected`; so does Linux, where we may run it."""
    sandboxed = run_sandboxed(argv)
    assert (sandboxed.stdout, sandboxed.returncode) == (expected, 0), sandboxed.stderr[-3000:]
    if os.geteuid() == 0:
        native = run_native(argv)
        assert (native.stdout, native.returncode) == (expected, 0), native.stderr


def _busybox_tree(root):
    busybox = shutil.which("busybox")
    if busybox is None or _interp(busybox) is not None:
        pytest.skip("a static busybox is needed (Debian's busybox-static; scripts/test installs it)")
    (root / "bin").mkdir(parents=True)
    shutil.copy(busybox, root / "bin" / "busybox")
    return root


def test_busybox_in_a_chroot_sees_only_its_tree(tmp_path, run_native, run_sandboxed):
    chroot = _chroot_cmd()
    # a tree for each run: the script writes into it (natively for real)
    for name, run in (("sandboxed", run_sandboxed), ("native", run_native)):
        if name == "native" and os.geteuid() != 0:
            continue
        tree = _busybox_tree(tmp_path / name)
        result = run([chroot, tree, "/bin/busybox", "sh", "-c", BUSYBOX_SCRIPT])
        assert (result.stdout, result.returncode) == (BUSYBOX_OUTPUT, 0), (name, result.stderr[-3000:])


def _libraries(binary):
    """The absolute paths of the shared libraries `binary` loads, from ldd."""
    out = subprocess.run(["ldd", str(binary)], capture_output=True, text=True, check=True).stdout
    libs = []
    for line in out.splitlines():
        for word in line.split():
            if word.startswith("/"):
                libs.append(word)
    return libs


def test_a_dynamic_program_finds_its_interpreter_inside_the_chroot(build, tmp_path, run_native,
                                                                   run_sandboxed):
    chroot = _chroot_cmd()
    if shutil.which("ldd") is None:
        pytest.skip("ldd is not installed")
    hello = build("hello")
    interp = _interp(hello)
    tree = tmp_path / "tree"
    for lib in {interp, *_libraries(hello)}:
        dest = tree / lib.lstrip("/")
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(os.path.realpath(lib), dest)
    shutil.copy(hello, tree / "hello")
    _check([chroot, tree, "/hello"], "hello, world\n", run_native, run_sandboxed)
    # without the interpreter in the tree the exec fails, even though the host has it
    (tree / interp.lstrip("/")).unlink()
    result = run_sandboxed([chroot, tree, "/hello"])
    assert result.returncode == 127 and "No such file or directory" in result.stderr, result.stderr
