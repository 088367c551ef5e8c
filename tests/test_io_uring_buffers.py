"""io_uring's provided buffers and multishot requests (issue 13):
tests/programs/io_uring_multi.c natively and under `pylinuxabi run --strict`, as root
(dynamic and static) and as a user."""
import pytest

from conftest import assert_same_behaviour, reachable, run_native, run_sandboxed
from test_io_uring import native

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
