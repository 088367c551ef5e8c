"""The supervisor is not part of the sandbox (issue 10, class 3).

pid 1 inside is a modelled init: signals sent to it never reach the supervisor
(which would pass a SIGTERM on to the program), its host scheduling never changes,
and no /proc path shows its environment or memory.
"""
import os
import secrets

import pytest

from .hostside import describe, run_attack, supervisor_survived

SIGNALLERS = ["kill", "tkill", "tgkill", "rt_sigqueueinfo", "pidfd_send_signal", "kill_all"]


@pytest.mark.timeout(120)
@pytest.mark.parametrize("mode", SIGNALLERS)
def test_SIGTERM_to_pid_1_never_reaches_the_supervisor(attack, mode):
    """The supervisor passes a SIGTERM it gets on to the program, which would die of it."""
    result = run_attack([attack("supervisor_reach"), mode])
    assert result.returncode == 0, "the supervisor took pid 1's SIGTERM\n" + describe(result)
    assert supervisor_survived(result), describe(result)


def supervisor_scheduling(box):
    sup = box.supervisor()
    return sup.nice(), sorted(sup.cpu_affinity()), os.sched_getscheduler(sup.pid)


@pytest.mark.timeout(120)
@pytest.mark.parametrize("mode", ["setpriority", "sched_setaffinity", "sched_setscheduler"])
def test_pid_1s_scheduling_is_not_the_supervisors(attack, sandbox, mode):
    box = sandbox([attack("supervisor_reach"), mode])
    before = supervisor_scheduling(box)
    box.readline()
    assert box.readline() == "ready\n"
    after = supervisor_scheduling(box)
    result = box.finish()
    assert after == before, f"{mode} on pid 1 changed the supervisor's host scheduling\n" + describe(result)


@pytest.mark.timeout(120)
def test_no_proc_path_shows_the_supervisors_environment_or_memory(attack):
    """Only `pylinuxabi run` has the secret; the program runs with an empty environment."""
    secret = "pylinuxabi-secret-" + secrets.token_hex(8)
    result = run_attack(["/usr/bin/env", "-i", attack("supervisor_reach"), "proc"],
                        env={"PYLINUXABI_TEST_SECRET": secret})
    assert "== /proc/1/environ" in result.stdout, describe(result)
    assert secret not in result.stdout, "the program read the supervisor's secret\n" + describe(result)
    assert supervisor_survived(result), describe(result)
