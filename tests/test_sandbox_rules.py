"""Where the sandbox differs from the host on purpose (DESIGN §1): the
expected value is stated here, not taken from a native run."""
import pytest

pytestmark = pytest.mark.timeout(60)


def test_new_namespaces_are_refused_with_EPERM(build, run_sandboxed):
    result = run_sandboxed([str(build("newns"))])
    assert result.returncode == 0
    lines = result.stdout.splitlines()
    assert len(lines) == 10
    assert all(line.endswith("= EPERM") for line in lines), lines


def test_the_program_is_pid_2_with_parent_1(run_sandboxed):
    result = run_sandboxed(["/bin/sh", "-c", "echo $$ $PPID"])
    assert result.stdout.split() == ["2", "1"]


def test_the_host_root_is_read_only(run_sandboxed):
    result = run_sandboxed(["/bin/sh", "-c", "echo x > /etc/pylinuxabi-test; echo $?"])
    assert "Read-only file system" in result.stderr
    assert result.stdout.strip() == "2"
