"""Differential test of bad syscall arguments (tests/programs/bad_input.c).

The program feeds wild, NULL, kernel-space and half-mapped pointers, bad
descriptors, bad flags and over-long or empty paths to every implemented
syscall, plus combinations of bad arguments (which error Linux reports
first) and 64-bit register values whose upper half the kernel ignores.  It
prints one line per call; the output under pylinuxabi must match a native
run exactly.
"""
import pytest

pytestmark = [pytest.mark.timeout(120), pytest.mark.slow]

VARIANTS = ("dynamic", "static", "static-pie")


@pytest.mark.parametrize("variant", VARIANTS)
def test_bad_input_native_is_deterministic(build, run_native, variant):
    binary = build("bad_input", variant)
    first = run_native([binary])
    second = run_native([binary])
    assert first.returncode == 0, first.stderr
    assert first.stdout == second.stdout


@pytest.mark.parametrize("variant", VARIANTS)
def test_bad_input(build, run_native, run_sandboxed, assert_same_behaviour, variant):
    binary = build("bad_input", variant)
    native = run_native([binary])
    sandboxed = run_sandboxed([binary])
    assert_same_behaviour([binary], native, sandboxed)
