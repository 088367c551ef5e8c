"""System V IPC (issue 11): tests/programs/ipc_{shm,sem,msg}.c and `ipcs`, run
natively in a fresh IPC namespace (`unshare --ipc`, so other runs' objects and ids
never show) and under `pylinuxabi run --strict`, which gives each sandbox its own.
"""
import shutil

import pytest

from conftest import assert_same_behaviour, run_native, run_sandboxed

pytestmark = pytest.mark.timeout(180)

UNSHARE = shutil.which("unshare")
IPCS = shutil.which("ipcs")
PYTHON3 = shutil.which("python3")


def native_in_own_namespace(argv):
    if UNSHARE is None:
        pytest.skip("unshare (util-linux) is needed to run natively in a fresh IPC namespace")
    r = run_native([UNSHARE, "--ipc", *argv])
    if r.returncode != 0 and "unshare failed" in r.stderr:
        pytest.skip(f"cannot make an IPC namespace here: {r.stderr.strip()}")
    return r


@pytest.mark.parametrize("name", ["ipc_shm", "ipc_sem", "ipc_msg"])
@pytest.mark.parametrize("variant", ["dynamic", "static"])
def test_sysv_ipc_program_behaves_as_natively(build, name, variant):
    binary = build(name, variant)
    native = native_in_own_namespace([binary])
    assert native.returncode == 0, native.stderr
    assert "NO\n" not in native.stdout
    assert_same_behaviour([binary], native, run_sandboxed([binary]))


# objects made with IPC_PRIVATE, listed by ipcs, then removed whatever happens
IPCS_SCRIPT = r'''
import ctypes, subprocess, sys
libc = ctypes.CDLL(None, use_errno=True)
shm = libc.shmget(0, 12345, 0o640)
sem = libc.semget(0, 7, 0o604)
msg = libc.msgget(0, 0o620)
keyed = libc.shmget(0x1d2c3b4a, 4096, 0o1000 | 0o600)
try:
    buf = ctypes.create_string_buffer(b"\x01" + b"\0" * 7 + b"hello world", 19)
    libc.msgsnd(msg, buf, 11, 0)
    libc.msgsnd(msg, buf, 5, 0)
    addr = libc.shmat(keyed, None, 0)
    libc.shmctl(keyed, 0, None)         # IPC_RMID while attached: "dest", key 0
    sys.stdout.flush()
    for args in ([], ["-m"], ["-s"], ["-q"], ["-u"], ["-l"], ["-c"]):
        subprocess.run([sys.argv[1], *args], check=True)
finally:
    libc.shmctl(shm, 0, None)
    libc.semctl(sem, 0, 0)
    libc.msgctl(msg, 0, None)
'''


def test_ipcs_lists_the_sandbox_objects_as_natively():
    if IPCS is None or PYTHON3 is None:
        pytest.skip("ipcs (util-linux) and python3 are needed")
    argv = [PYTHON3, "-c", IPCS_SCRIPT, IPCS]
    native = native_in_own_namespace(argv)
    assert native.returncode == 0, native.stderr
    assert "12345" in native.stdout and "dest" in native.stdout
    assert_same_behaviour(argv, native, run_sandboxed(argv))


RESERVED_SCRIPT = r'''
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
libc.shmat.restype = ctypes.c_void_p
shm = libc.shmget(0, 4096, 0o600)
try:
    for addr in (0x7e0000010000, 0x7e000041f000):     # the park page, the range's last page
        r = libc.shmat(shm, ctypes.c_void_p(addr), 0o40000)    # SHM_REMAP
        print(hex(addr), "mapped" if r != 2**64 - 1 else ctypes.get_errno())
finally:
    libc.shmctl(shm, 0, None)
'''


def test_shmat_never_maps_over_the_reserved_range():
    """DESIGN §3: the stub, park page and argument slots stay the supervisor's;
    shmat there is EINVAL, as for an address Linux refuses."""
    if PYTHON3 is None:
        pytest.skip("python3 is needed")
    r = run_sandboxed([PYTHON3, "-c", RESERVED_SCRIPT])
    assert r.returncode == 0, r.stderr
    assert r.stdout == "0x7e0000010000 22\n0x7e000041f000 22\n"
