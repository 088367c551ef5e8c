"""Denial of service of the supervisor (issue 10, class 5).

Judged on the host: the supervisor's peak RSS (VmHWM) while the program runs,
the park page's protection in /proc/<pid>/maps, and whether the supervisor lived.
"""
import pytest

from .hostside import describe, run_attack, supervisor_survived

MIB = 1 << 20
GROWTH_LIMIT = 300 * MIB


def memory(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise AssertionError(f"no {field} for {pid}")


@pytest.mark.timeout(180)
@pytest.mark.parametrize("mode", ["write_dev_null", "write_dev_full", "read_dev_zero", "two_threads"])
def test_a_huge_read_or_write_length_keeps_the_supervisors_memory_small(attack, sandbox, mode):
    box = sandbox([attack("big_rw"), mode])
    assert box.readline() == "start\n"
    sup = box.supervisor().pid
    base = memory(sup, "VmRSS")
    box.send()
    while (line := box.readline(timeout=150)) != "ready\n":
        pass
    peak = memory(sup, "VmHWM")
    box.send()
    result = box.finish()
    assert peak - base < GROWTH_LIMIT, (f"{mode}: the supervisor grew by {(peak - base) // MIB} MiB\n"
                                        + describe(result))
    assert supervisor_survived(result), describe(result)


@pytest.mark.timeout(150)
@pytest.mark.parametrize("mode", ["rbind_loop", "deep_stack"])
def test_mount_tables_end_in_a_limit_not_a_crash(attack, mode):
    """Linux stops at fs.mount-max (ENOSPC); the supervisor must neither fail (EIO) nor hang."""
    result = run_attack([attack("mount_dos"), mode], timeout=120)
    assert result.returncode == 0, describe(result)
    assert "EIO" not in result.stdout, describe(result)
    assert supervisor_survived(result), describe(result)


def park_page_perms(pid):
    with open(f"/proc/{pid}/maps") as f:
        return [line.split()[1] for line in f if line.startswith("7e0000010000-")]


@pytest.mark.timeout(120)
def test_the_park_page_stays_read_only_and_spurious_wakes_are_harmless(attack, sandbox):
    box = sandbox([attack("park_storm")])
    box.readline()
    assert box.readline() == "protected\n"
    perms = {p.pid: park_page_perms(p.pid) for p in box.program_processes()}
    box.send()
    result = box.finish()
    assert all(p and "w" not in p[0] for p in perms.values()), f"park page: {perms}\n" + describe(result)
    assert "read: 1 x after the write" in result.stdout, describe(result)
    assert supervisor_survived(result), describe(result)


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_making_threads_until_clone_fails_ends_in_EAGAIN_with_the_supervisor_running(attack):
    result = run_attack([attack("threads")], timeout=540)
    assert result.returncode == 0, describe(result)
    assert "then EAGAIN" in result.stdout or "then the cap" in result.stdout, describe(result)
    assert supervisor_survived(result), describe(result)
