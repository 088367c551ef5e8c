"""The host identity of the program's processes: what a process that got past
the model would hold on the host (DESIGN §11, "no host privilege").

Each test forks a process, gives it the program's confinement exactly as the
launcher does (native drop_and_confine), and tries the host directly; the
outcome is judged on the host (files, signals, /proc).
"""
import errno
import os
import signal
import struct

import pytest

from pylinuxabi._native import ffi, lib
from pylinuxabi.platform.ptrace import HOST_GID, HOST_UID, STUB_PATH

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="the host identity is dropped only by root")


def confined(body, inspect=None):
    """Run body() in a forked child confined as a program process; returns
    (exit status, what the child wrote: "confined 0" and what body returned).
    inspect(pid) runs on the host side once the child is confined."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(r)
            stub = os.open(STUB_PATH, os.O_RDONLY)
            os.dup2(stub, lib.STUB_FD)
            params = ffi.new("struct launch *")
            params.host_uid, params.host_gid = HOST_UID, HOST_GID
            params.landlock_abi = lib.landlock_abi()
            params.inner_uid = params.inner_gid = -1
            rc = lib.drop_and_confine(params)
            os.write(w, b"confined %d\n" % rc)
            if rc == 0:
                os.write(w, body())
        finally:
            os._exit(0)
    os.close(w)
    out = os.read(r, 64)
    if inspect is not None:
        inspect(pid)
    while chunk := os.read(r, 65536):
        out += chunk
    os.close(r)
    _, status = os.waitpid(pid, 0)
    return status, out


def attempt(fn):
    try:
        fn()
        return b"ok"
    except OSError as e:
        return errno.errorcode[e.errno].encode()


def test_a_program_process_has_no_capabilities_and_ids_that_own_nothing():
    go_r, go_w = os.pipe()
    seen = []

    def inspect(pid):
        with open(f"/proc/{pid}/status", "rb") as f:
            seen.append(f.read())
        os.write(go_w, b"x")
    _, out = confined(lambda: os.read(go_r, 1), inspect)
    assert out == b"confined 0\nx"
    status = dict(line.split(b":", 1) for line in seen[0].splitlines() if b":" in line)
    assert status[b"Uid"].split() == [str(HOST_UID).encode()] * 4
    assert status[b"Gid"].split() == [str(HOST_GID).encode()] * 4
    assert status[b"Groups"].split() == []
    for field in (b"CapInh", b"CapPrm", b"CapEff", b"CapBnd", b"CapAmb"):
        assert int(status[field], 16) == 0, field
    assert status[b"NoNewPrivs"].strip() == b"1"


def test_a_program_process_can_neither_read_nor_make_host_files(tmp_path):
    os.chmod(tmp_path, 0o777)           # so that only Landlock can refuse it
    secret = tmp_path / "secret"
    secret.write_text("host data")
    os.chmod(secret, 0o666)
    marker = tmp_path / "marker"

    def body():
        return b" ".join([attempt(lambda: open(secret).read()),
                          attempt(lambda: open(secret, "w").close()),
                          attempt(lambda: os.mkdir(marker)),
                          attempt(lambda: os.listdir(tmp_path))])
    _, out = confined(body)
    assert out == b"confined 0\nEACCES EACCES EACCES EACCES"
    assert not marker.exists()
    assert secret.read_text() == "host data"


def test_a_program_process_cannot_signal_the_supervisor():
    got = []
    old = signal.signal(signal.SIGUSR1, lambda *a: got.append(1))
    try:
        parent = os.getpid()
        _, out = confined(lambda: attempt(lambda: os.kill(parent, signal.SIGUSR1)))
    finally:
        signal.signal(signal.SIGUSR1, old)
    assert out == b"confined 0\nEPERM"
    assert got == []


def test_a_program_process_cannot_exec_a_host_program():
    _, out = confined(lambda: attempt(lambda: os.execv("/bin/true", ["true"])))
    assert out == b"confined 0\nEACCES"


def test_a_program_process_may_exec_the_stub():
    def body():
        os.execve(lib.STUB_FD, ["pylinuxabi-stub"], {})     # exits 127, as the stub does when run
    status, out = confined(body)
    assert out == b"confined 0\n"
    assert os.waitstatus_to_exitcode(status) == 127


def test_the_stub_exec_strings_are_the_stubs_own():
    """exec_stub points execveat at strings inside the stub's image (DESIGN §3)."""
    from pylinuxabi.platform.ptrace import PtracePlatform, STUB_BASE
    p = PtracePlatform()
    assert STUB_BASE <= p.exec_argv < p.stub_end
    data = open(STUB_PATH, "rb").read()
    name_addr, null = struct.unpack("<QQ", _at(data, p.exec_argv))
    assert null == 0 and STUB_BASE <= name_addr < p.stub_end


def _at(data, addr):
    """16 bytes of the stub at virtual address addr (its file is mapped from offset 0 at STUB_BASE)."""
    from pylinuxabi.platform.ptrace import STUB_BASE
    off = addr - STUB_BASE
    return data[off:off + 16]
