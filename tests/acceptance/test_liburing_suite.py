"""liburing's own test suite, an independent io_uring test suite, natively and under
pylinuxabi (scripts/liburing_tests.py runs the same comparison by hand).

Every test that passes natively must pass under pylinuxabi, but those listed in
KNOWN with the reason (not run here). The source is Debian's liburing tarball,
fetched and built once under tests/.build; without it the test is skipped.
"""
import importlib.util

import pytest

from conftest import REPO_ROOT

pytestmark = [pytest.mark.timeout(3000), pytest.mark.slow]

_spec = importlib.util.spec_from_file_location("liburing_tests", REPO_ROOT / "scripts" / "liburing_tests.py")
liburing_tests = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(liburing_tests)


def test_liburing_tests_that_pass_natively_pass_under_pylinuxabi():
    tests = liburing_tests.fetch_and_build()
    if tests is None:
        pytest.skip(f"liburing {liburing_tests.VERSION}'s source could not be fetched")
    names = [n for n in liburing_tests.all_tests(tests) if n not in liburing_tests.KNOWN]
    results = liburing_tests.compare(tests, names, log=lambda line: None)
    assert len(results) > 150, f"only {len(results)} liburing tests passed natively"
    failed = {n: (s, out[-600:]) for n, (_, s, out) in results.items() if s != 0}
    assert not failed, "\n".join(f"--- {n}: {s}\n{out}" for n, (s, out) in failed.items())
