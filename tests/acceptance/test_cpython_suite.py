"""CPython's own tests of the OS interfaces, natively and under pylinuxabi, test by
test (scripts/cpython_tests.py runs the same comparison by hand).

Every test must have the same outcome in both runs, except those listed in
KNOWN with the reason. The list is exact: a listed test that starts to match
fails this test too, so the list stays true.
"""
import importlib.util
import os
import tempfile

import pytest

from conftest import REPO_ROOT

pytestmark = [pytest.mark.timeout(1200), pytest.mark.slow]

_spec = importlib.util.spec_from_file_location("cpython_tests", REPO_ROOT / "scripts" / "cpython_tests.py")
cpython_tests = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(cpython_tests)

try:
    import test.support     # noqa: F401  (the test package, which some Pythons leave out)
    HAVE_TESTS = True
except ImportError:
    HAVE_TESTS = False

# module -> {test id: why it differs}; none today (the AF_INET ones went with issue 12's loopback)
KNOWN = {}


@pytest.mark.skipif(not HAVE_TESTS, reason="this Python has no test package")
@pytest.mark.parametrize("module", cpython_tests.MODULES)
def test_cpython_module_matches_native(module):
    with tempfile.TemporaryDirectory() as logs:
        native, _, _ = cpython_tests.run(module, False, 900, logs)
        sandbox, status, _ = cpython_tests.run(module, True, 900, logs)
        assert native, f"no test outcomes parsed from the native run of {module}"
        differ = {t: (native.get(t, "-"), sandbox.get(t, "-"))
                  for t in set(native) | set(sandbox) if native.get(t) != sandbox.get(t)}
        known = KNOWN.get(module, {})
        unexpected = {t: v for t, v in differ.items() if t not in known}
        now_same = sorted(set(known) - set(differ))
        assert not unexpected and not now_same, (
            f"{module}: outcomes (native, sandbox) that differ: {unexpected}; listed in KNOWN but now the "
            f"same: {now_same}; sandbox exit {status}\n"
            + cpython_tests.excerpt(os.path.join(logs, f"sandbox-{module}.log")))
