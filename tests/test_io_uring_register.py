"""io_uring (issue 13): tests/programs/io_uring_register.c, run natively and under
`pylinuxabi run --strict`, as root and as a user: the xattr opcodes (FSETXATTR,
FGETXATTR, SETXATTR, GETXATTR), FILES_UPDATE from an SQE, MSG_RING (IORING_MSG_DATA and
IORING_MSG_SEND_FD), and the io_uring_register opcodes SYNC_CANCEL, PERSONALITY and
UNREGISTER_PERSONALITY (an SQE's personality; as root, a child at uid 1000 opening a
0600 file with root's), RESTRICTIONS with IORING_SETUP_R_DISABLED and ENABLE_RINGS, and
RING_FDS / UNREGISTER_RING_FDS with IORING_ENTER_REGISTERED_RING — each with the errors
Linux gives."""
import pytest

from conftest import assert_same_behaviour, reachable, run_sandboxed
from test_io_uring import native

pytestmark = pytest.mark.timeout(180)

# What the native run must show, so that a kernel or program change that loses a
# case fails here rather than passing with both sides wrong.
NATIVE_FACTS = [
    # 1. xattrs: the size, ERANGE, ENODATA, EEXIST, EFAULT, then getxattr(2)
    "cqe 13 6 flags 0",
    "cqe 20 -ERANGE flags 0",
    "cqe 22 -ENODATA flags 0",
    "cqe 24 -EEXIST flags 0",
    "cqe 26 -EFAULT flags 0",
    'getxattr(path, "user.a", buf, sizeof buf) = 6\n  user.a: "ALPHA2"',
    # 2. FILES_UPDATE: no table, past the table, a fixed read through the new slot
    "== FILES_UPDATE (opcode 20: fds in addr, count in len, first slot in off)\n  submit: 1\n"
    "  cqe 1 -ENXIO flags 0",
    "cqe 10 -EINVAL flags 0",
    'cqe 6 4 flags 0\n  read: "CCCC"',
    # 3. MSG_RING: DATA's CQE on the target, a non-ring (EBADFD), SEND_FD then used there
    "cqe 1 0 flags 0\n  target:\n  cqe 77 4660 flags 0",
    "cqe 10 -EBADFD flags 0",
    'target ready: 0\n  submit: 1\n  cqe 5 4 flags 0\n  read: "NNNN"',
    # 4. SYNC_CANCEL
    "sync_cancel(&sc, 1) = 0\n  cqe 41 -ECANCELED flags 0\nsync_cancel(&sc, 1) = -1 ENOENT",
    # 5. personalities
    "cqe 1002 -EINVAL flags 0",
    "uring_register(r.fd, IORING_UNREGISTER_PERSONALITY, NULL, id2) = 0\n"
    "uring_register(r.fd, IORING_UNREGISTER_PERSONALITY, NULL, id2) = -1 EINVAL",
    # 6. restrictions
    "cqe 4 -EACCES flags 0",
    "uring_register(d.fd, IORING_REGISTER_FILES, &fd, 1) = -1 EACCES",
    "restrict_ring(&d, res, 4) = 0\nrestrict_ring(&d, res, 4) = -1 EBUSY",
    # 7. registered ring fds
    "offsets: 0 5\n  enter index 0: 1\n  cqe 1 0 flags 0",
    "enter index 3: EBADF",
]


def check_native(out):
    for fact in NATIVE_FACTS:
        assert fact in out, fact


def test_io_uring_register_ops_as_root(build):
    """As root, with a child at uid 1000 that opens a 0600 file only through root's
    registered personality: as natively."""
    binary = build("io_uring_register")
    expected = native([binary])
    check_native(expected.stdout)
    assert "cqe 1101 -EACCES flags 0\n  cqe 1102 fd flags 0" in expected.stdout
    assert_same_behaviour([binary], expected, run_sandboxed([binary]))


def test_io_uring_register_ops_as_a_user(build):
    binary = reachable(build("io_uring_register"))
    expected = native([binary], user=True)
    check_native(expected.stdout)
    argv = ["--user", "1000:1000", binary]
    assert_same_behaviour(argv, expected, run_sandboxed(argv))
