"""io_uring (issue 13): tests/programs/io_uring_core.c (setup, the rings' mmap, enter,
register, overflow), io_uring_ops.c and io_uring_more.c (each operation and IOSQE_* flag,
checked by its CQE and its effect), run natively and under `pylinuxabi run --strict`;
fio's io_uring engine, an ordinary program that drives the rings with its own raw system
calls (registered files and buffers, data verified by crc32c); and io_uring_hostile.c,
an attack on the supervisor judged from the host side."""
import json
import shutil
import tempfile

import pytest

from conftest import assert_same_behaviour, reachable, run_native, run_sandboxed

pytestmark = pytest.mark.timeout(180)

AS_USER = ["setpriv", "--reuid=1000", "--regid=1000", "--clear-groups"]


def io_uring_usable():
    """Natively, io_uring may be switched off (kernel.io_uring_disabled) or missing."""
    try:
        with open("/proc/sys/kernel/io_uring_disabled") as f:
            return f.read().strip() == "0"
    except FileNotFoundError:                           # a kernel before the sysctl (6.6)
        return True


def native(argv, user=False):
    if not io_uring_usable():
        pytest.skip("io_uring is disabled on this host (kernel.io_uring_disabled)")
    if user and shutil.which("setpriv") is None:
        pytest.skip("setpriv (util-linux) missing")
    r = run_native([*(AS_USER if user else []), *argv])
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr
    return r


@pytest.mark.parametrize("variant", ["dynamic", "static"])
def test_io_uring_core_as_root(build, variant):
    binary = build("io_uring_core", variant)
    expected = native([binary])
    assert "features&OURS 0x197f" in expected.stdout
    assert "setup 32769 CLAMP: sq_entries 32768 cq_entries 65536" in expected.stdout
    assert "IORING_ENTER_EXT_ARG, &arg, sizeof arg) = -1 ETIME" in expected.stdout
    assert "ready 2, SQ flags CQ_OVERFLOW yes, cq overflow 0" in expected.stdout
    assert_same_behaviour([binary], expected, run_sandboxed([binary]))


def test_io_uring_core_as_a_user(build):
    binary = reachable(build("io_uring_core"))
    expected = native([binary], user=True)
    assert "cqe 3 -EFAULT flags 0" in expected.stdout          # a fixed read past its buffer
    argv = ["--user", "1000:1000", binary]
    assert_same_behaviour(argv, expected, run_sandboxed(argv))


def test_io_uring_ops_as_root(build):
    binary = build("io_uring_ops")
    expected = native([binary])
    assert "cqe 4 -ECANCELED flags 0\n  cqe 5 -ECANCELED flags 0" in expected.stdout   # a failed link
    assert "cqe 20 -ECANCELED flags 0\n  cqe 21 -ETIME flags 0" in expected.stdout     # LINK_TIMEOUT
    assert "cqe 20 -ECONNREFUSED" in expected.stdout
    assert_same_behaviour([binary], expected, run_sandboxed([binary]))


def test_io_uring_more_ops_as_root(build):
    """SYNC_FILE_RANGE, SENDMSG/RECVMSG, FADVISE, OPENAT2, EPOLL_CTL, SPLICE, TEE, SHUTDOWN,
    SOCKET, RWF_NOWAIT, IOSQE_ASYNC, REGISTER_FILES_UPDATE, ASYNC_CANCEL's ANY/ALL/FD,
    POLL_ADD on an eventfd and a TCP socket, a TCP READ a forked child satisfies later,
    and the ring's heads and tails in /proc/self/fdinfo: as natively."""
    binary = build("io_uring_more")
    expected = native([binary])
    out = expected.stdout
    assert 'data "F", msg_controllen 24, msg_flags 0x40000000' in out          # SCM_RIGHTS
    assert "cqe 21 10 flags 0\n  msg_flags has MSG_TRUNC: yes" in out           # MSG_TRUNC
    assert "cqe 1002 -EXDEV" in out                                            # RESOLVE_BENEATH
    assert "epoll_wait: 2 [events 0x1 data 0x9abc] [events 0x4 data 0x5678]" in out
    assert 'file: "01XY456789abcZef"\n  position: 14' in out                   # SPLICE at -1
    assert "cqe 1 -EAGAIN flags 0" in out                                      # RWF_NOWAIT
    assert "cqe 10 3 flags 0\n  others: 3 -ECANCELED" in out                   # CANCEL_FD|ALL
    assert 'cqe 4 6 flags 0\n  read: "second"' in out                          # the late TCP READ
    assert "SqMask: 0x7 SqHead: 5 SqTail: 6 CqMask: 0xf CqHead: 4 CqTail: 4" in out
    assert_same_behaviour([binary], expected, run_sandboxed([binary]))


HOSTILE_STATUS = 7          # io_uring_hostile.c's exit status


def test_a_hostile_io_uring_program_leaves_the_supervisor_standing(build):
    """Garbage SQ indices and counts, a thread rewriting SQEs and the SQ tail while
    another enters, bad pointers in every pointer field of every opcode, 1024 bad
    registered buffers and 20000 polls that never complete: the supervisor ends with the
    program's own exit status, in bounded time, with no handler crashed (a handler bug is
    logged as "crashed:" with a traceback). Its output races, so only that is compared."""
    binary = build("io_uring_hostile")
    if not io_uring_usable():
        pytest.skip("io_uring is disabled on this host (kernel.io_uring_disabled)")
    natively = run_native([binary])
    assert natively.returncode == HOSTILE_STATUS, natively.stdout[-2000:] + natively.stderr
    sandboxed = run_sandboxed([binary], timeout=150)
    assert "Traceback" not in sandboxed.stderr and "crashed:" not in sandboxed.stderr, sandboxed.stderr[-4000:]
    assert sandboxed.returncode == HOSTILE_STATUS, sandboxed.stdout[-2000:] + sandboxed.stderr[-3000:]
    assert "(e) 20000 polls in flight" in sandboxed.stdout


# --------------------------------------------------------------------------
# fio's io_uring engine

FIO = ["fio", "--name=uring", "--thread", "--size=4m", "--bs=4k", "--rw=randwrite",
       "--ioengine=io_uring", "--iodepth=8", "--fixedbufs", "--registerfiles",
       "--verify=crc32c", "--do_verify=1", "--output-format=json"]


def fio_summary(result):
    """fio's exit status and, per job, its name, error and KiB read and written, or what
    it said instead of a report."""
    try:
        jobs = json.loads(result.stdout[result.stdout.index("{"):])["jobs"]
    except (ValueError, KeyError) as e:
        return result.returncode, f"no report ({e}): {result.stdout[-500:]} {result.stderr[-1500:]}"
    return result.returncode, [(j["jobname"], j["error"], j["read"]["io_kbytes"], j["write"]["io_kbytes"])
                               for j in jobs]


@pytest.mark.parametrize("place", ["/tmp", "/dev/shm"], ids=["overlay", "tmpfs"])
def test_fio_io_uring_engine_with_registered_files_and_buffers_verifies_its_data(place):
    """fio sets a ring up (falling back from DEFER_TASKRUN and SINGLE_ISSUER if they are
    refused), probes its ops, registers its file and buffers, keeps 8 fixed writes in
    flight and reads all 4 MiB back, checking each block's crc32c: error 0, 4 MiB
    written and 4 MiB read, as natively; on the host-backed overlay (/tmp) and on a
    tmpfs (/dev/shm)."""
    fio_verifies_as_natively(FIO, place)


def fio_verifies_as_natively(argv, place):
    """fio's io_uring job natively (in a fresh directory) and in the sandbox (at place):
    error 0, 4 MiB written and read back, the same summary."""
    if shutil.which("fio") is None:
        pytest.skip("fio is not installed (scripts/test installs it)")
    if not io_uring_usable():
        pytest.skip("io_uring is disabled on this host (kernel.io_uring_disabled)")
    where = tempfile.mkdtemp(prefix="pylinuxabi-fio-")
    try:
        expected = run_native([*argv, f"--directory={where}"], timeout=60)
    finally:
        shutil.rmtree(where)
    assert fio_summary(expected) == (0, [("uring", 0, 4096, 4096)]), expected.stderr
    sandboxed = run_sandboxed([*argv, f"--directory={place}"], timeout=120)
    assert fio_summary(sandboxed) == fio_summary(expected), sandboxed.stderr[-3000:]
