"""clone(CLONE_FILES) of a process, not a thread: one fd table for both, as Linux's
files_struct counted by its users (tests/programs/proc_clone_files.c, run natively
and under pylinuxabi).

The table is closed when its last user goes, not when the child exits; exec in
the child unshares it first (unshare_files), so close-on-exec and what the new
program opens stay the child's.
"""
import pytest

pytestmark = pytest.mark.timeout(120)


@pytest.mark.parametrize("variant", ["dynamic", "static"])
def test_a_CLONE_FILES_child_shares_the_table_and_its_exit_or_exec_leaves_the_parents_fds(
        build, run_native, run_sandboxed, assert_same_behaviour, variant):
    binary = build("proc_clone_files", variant)
    native = run_native([binary])
    assert native.returncode == 0 and "child: a open 1" in native.stdout, native.stderr
    assert_same_behaviour([binary], native, run_sandboxed([binary]))


def test_close_range_with_CLOSE_RANGE_UNSHARE_in_a_CLONE_FILES_child_leaves_the_parents_fds(
        build, run_native, run_sandboxed, assert_same_behaviour):
    binary = build("proc_clone_files")
    native = run_native([binary, "unshare"])
    assert native.returncode == 0, native.stderr
    assert_same_behaviour([binary, "unshare"], native, run_sandboxed([binary, "unshare"]))
