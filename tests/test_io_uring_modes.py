"""io_uring's provided buffers and buffer rings, multishot requests, SQPOLL, fork and the newer
opcodes (issue 13):
tests/programs/io_uring_multi.c, io_uring_sqpoll.c, io_uring_spin.c, io_uring_direct.c and io_uring_memory.c natively and under `pylinuxabi
run --strict`, as root (dynamic and static) and as a user; fio's io_uring engine with
--sqthread_poll."""

import pytest

from conftest import assert_same_behaviour, reachable, run_sandboxed
from test_io_uring import FIO, fio_verifies_as_natively, native

pytestmark = pytest.mark.timeout(120)


@pytest.mark.parametrize("variant", ["dynamic", "static"])
def test_provided_buffers_and_multishot_requests_as_natively(build, variant):
    binary = build("io_uring_multi", variant)
    expected = native([binary])
    assert 'cqe 5 5 buffer 10  holds: "first"' in expected.stdout
    assert "cqe 1 1 flags 2\n  cqe 1 1 flags 2\n  cqe 1 1 flags 2" in expected.stdout     # multishot poll
    assert "cqe 1000 fd flags 2" in expected.stdout                                      # multishot accept
    assert_same_behaviour([binary], expected, run_sandboxed([binary]))


def test_provided_buffers_as_a_user(build):
    binary = reachable(build("io_uring_multi"))
    expected = native([binary], user=True)
    argv = ["--user", "1000:1000", binary]
    assert_same_behaviour(argv, expected, run_sandboxed(argv))


def test_requests_complete_while_the_program_spins_on_its_cq(build):
    """A program that reads its CQ ring in a loop makes no syscall to stop at: a RECV or
    POLL_ADD on a TCP socket completes when data arrives (the host waker tells the
    supervisor), a TIMEOUT when it is due (the waker's alarm), as on Linux; the CQE of
    a RECV that saw the peer's FIN says IORING_CQE_F_SOCK_NONEMPTY (tcp_inq_hint)."""
    binary = build("io_uring_spin")
    expected = native([binary])
    assert 'read "hello"' in expected.stdout and "stuck" not in expected.stdout
    assert "cqe 2 1 flags 0\n  cqe 3 5 flags 0" in expected.stdout       # the poll reports, though RECV took the data
    assert "cqe 4 0 flags 4" in expected.stdout
    assert_same_behaviour([binary], expected, run_sandboxed([binary]))


@pytest.mark.parametrize("variant", ["dynamic", "static"])
def test_direct_descriptors_nonblocking_files_iopoll_and_timeouts_as_natively(build, variant):
    """What liburing's own tests drive (io_uring_direct.c): direct descriptors (the slot
    a free-slot search finds, a chain that opens one and reads it), a READ of an
    O_NONBLOCK pipe that waits, an IOPOLL ring, NOP's flags, TIMEOUTs in links,
    multishot, updated, and one ending a wait."""
    binary = build("io_uring_direct", variant)
    expected = native([binary])
    assert "cqe 13 3 flags 0" in expected.stdout and 'read from slot 3, opened by the link: " worl"' in expected.stdout
    assert "cqe 2 -EOPNOTSUPP" in expected.stdout and "cqe 1 -EFAULT flags 0" in expected.stdout
    assert "cqe 5 -ETIME flags 2\n  cqe 5 -ETIME flags 2\n  cqe 5 -ETIME flags 0" in expected.stdout
    assert_same_behaviour([binary], expected, run_sandboxed([binary]))


def test_rings_in_the_programs_memory_and_kernel_buffer_rings_as_natively(build):
    """io_uring_memory.c: NO_MMAP (rings in the program's memory, its errors, what the
    memory keeps), NO_SQARRAY, REGISTERED_FD_ONLY, and a kernel-allocated buffer ring
    mapped by the program (IOU_PBUF_RING_MMAP) with REGISTER_PBUF_STATUS."""
    binary = build("io_uring_memory")
    expected = native([binary])
    assert "sq head 1, cq tail 1, cqe user_data 42 res 0" in expected.stdout
    assert 'pool[0]: "buffered"' in expected.stdout and "head 1" in expected.stdout
    assert_same_behaviour([binary], expected, run_sandboxed([binary]))


def test_sqpoll_takes_the_sqes_a_program_publishes(build):
    """SQEs published complete with no io_uring_enter but SQ_WAKEUP for a poller that
    sleeps (ours polls until its idle time is up); after sq_thread_idle the ring says
    IORING_SQ_NEED_WAKEUP, and io_uring_enter(SQ_WAKEUP) clears it."""
    binary = build("io_uring_sqpoll")
    expected = native([binary])
    assert 'read: "hello"' in expected.stdout and "NEED_WAKEUP after idle: yes" in expected.stdout
    assert_same_behaviour([binary], expected, run_sandboxed([binary]))


def test_fio_with_sqthread_poll_verifies_its_data():
    """fio --sqthread_poll=1 submits by writing the SQ tail alone (it enters only to wake
    the poller or to wait): 4 MiB written and read back with crc32c, as natively."""
    fio_verifies_as_natively([*FIO, "--sqthread_poll=1"], "/tmp")


def test_provided_buffer_rings_as_natively(build):
    """IORING_REGISTER_PBUF_RING: a ring of buffers in the program's memory whose tail it
    moves; READs take buffers from it (ENOBUFS when it is empty), the ids in the CQEs."""
    binary = build("io_uring_pbuf")
    expected = native([binary])
    assert "cqe 2 3 flags BUFFER bid 20" in expected.stdout
    assert_same_behaviour([binary], expected, run_sandboxed([binary]))


def test_a_ring_is_shared_across_fork(build):
    """The child of a fork submits on the ring it inherited; the parent reaps the CQE."""
    binary = build("io_uring_fork")
    expected = native([binary])
    assert 'pipe: "from the child"' in expected.stdout
    assert_same_behaviour([binary], expected, run_sandboxed([binary]))


def test_newer_opcodes_as_natively(build):
    """BIND and LISTEN, FIXED_FD_INSTALL (close-on-exec unless asked), PIPE and
    READ_MULTISHOT (a provided buffer per arrival, ended by EOF), with their errors."""
    binary = build("io_uring_newer")
    expected = native([binary])
    assert "listening: 1" in expected.stdout and "cqe 13 0 more 0" in expected.stdout
    assert_same_behaviour([binary], expected, run_sandboxed([binary]))
