"""Host privileges through calls the supervisor passes on (issue 10, class 2).

Each attack leaves its effect on its own host process and waits; the test reads
that process's host state (scheduling, nice, VmLck, limits) or the host clock.
"""
import ctypes
import os
import resource
import struct

import psutil
import pytest

from .hostside import describe, supervisor_survived

UNPRIVILEGED = ("--user", "1000:1000", "--cap-drop", "ALL")
ROOT = ()
USERS = {"root": ROOT, "user1000": UNPRIVILEGED}
EPERM_LINE = "Operation not permitted"


def host_clock_state():
    """The host clock's adjtimex state (modes 0 reads): freq, status, constant, tick."""
    buf = ctypes.create_string_buffer(512)
    if ctypes.CDLL(None, use_errno=True).adjtimex(buf) < 0:
        raise OSError(ctypes.get_errno(), "adjtimex")
    freq, = struct.unpack_from("<q", buf, 16)
    status, = struct.unpack_from("<i", buf, 40)
    constant, tick = struct.unpack_from("<q", buf, 48)[0], struct.unpack_from("<q", buf, 88)[0]
    return freq, status, constant, tick


def run_until_ready(sandbox, attack, mode, options):
    """Start host_priv MODE and return (sandbox, the program's line) at its handshake."""
    box = sandbox([attack("host_priv"), mode], options)
    line = box.readline()
    assert box.readline() == "ready\n"
    return box, line


@pytest.mark.timeout(120)
@pytest.mark.parametrize("user", sorted(USERS))
@pytest.mark.parametrize("mode", ["adjtimex", "clock_adjtime", "clock_settime", "settimeofday"])
def test_the_host_clock_cannot_be_set_without_cap_add_SYS_TIME(attack, sandbox, mode, user):
    before = host_clock_state()
    box, line = run_until_ready(sandbox, attack, mode, USERS[user])
    after = host_clock_state()
    result = box.finish()
    assert line == f"{mode}: {EPERM_LINE}\n", describe(result)
    assert after == before
    assert supervisor_survived(result), describe(result)


def program_tids(box):
    tids = box.program_threads()
    assert tids, "no program thread on the host"
    return tids


@pytest.mark.timeout(120)
@pytest.mark.parametrize("mode", ["sched_fifo", "sched_setattr"])
def test_an_unprivileged_program_gets_no_realtime_class_on_the_host(attack, sandbox, mode):
    box, line = run_until_ready(sandbox, attack, mode, UNPRIVILEGED)
    policies = {tid: os.sched_getscheduler(tid) for tid in program_tids(box)}
    result = box.finish()
    assert set(policies.values()) == {os.SCHED_OTHER}, f"{policies}\n" + describe(result)
    assert line == f"{mode}: {EPERM_LINE}\n", describe(result)


@pytest.mark.timeout(120)
def test_an_unprivileged_program_cannot_lower_its_host_nice_value(attack, sandbox):
    ours = os.getpriority(os.PRIO_PROCESS, 0)
    box, line = run_until_ready(sandbox, attack, "nice", UNPRIVILEGED)
    nices = {tid: os.getpriority(os.PRIO_PROCESS, tid) for tid in program_tids(box)}
    result = box.finish()
    assert min(nices.values()) >= ours, f"{nices}\n" + describe(result)
    assert line == "nice: Permission denied\n", describe(result)     # setpriority(2): EACCES


@pytest.mark.timeout(120)
def test_an_unprivileged_program_gets_no_realtime_io_class_on_the_host(attack, sandbox):
    box, line = run_until_ready(sandbox, attack, "ioprio_rt", UNPRIVILEGED)
    classes = {p.pid: p.ionice().ioclass for p in box.program_processes()}
    result = box.finish()
    assert psutil.IOPRIO_CLASS_RT not in classes.values(), f"{classes}\n" + describe(result)


def vmlck_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmLck:"):
                return int(line.split()[1])
    return 0


@pytest.mark.timeout(120)
@pytest.mark.parametrize("user", sorted(USERS))
def test_mlock_is_bounded_by_the_hosts_RLIMIT_MEMLOCK(attack, sandbox, user):
    limit = resource.getrlimit(resource.RLIMIT_MEMLOCK)[0]
    if limit == resource.RLIM_INFINITY:
        pytest.skip("RLIMIT_MEMLOCK is unlimited here: nothing to exceed")
    box, line = run_until_ready(sandbox, attack, "mlock", USERS[user])
    locked = {p.pid: vmlck_kib(p.pid) for p in box.program_processes()}
    result = box.finish()
    assert max(locked.values()) * 1024 <= limit, f"VmLck (KiB) {locked}, limit {limit}\n" + describe(result)


def hard_file_limit(pid):
    """The hard RLIMIT_NOFILE of host process pid, from its /proc limits."""
    with open(f"/proc/{pid}/limits") as f:
        line = next(line for line in f if line.startswith("Max open files"))
    return int(line.split()[4])


@pytest.mark.timeout(120)
def test_an_unprivileged_program_cannot_raise_its_host_hard_file_limit(attack, sandbox):
    box, line = run_until_ready(sandbox, attack, "rlimit_nofile", UNPRIVILEGED)
    allowed = hard_file_limit(box.supervisor().pid)
    hard = {p.pid: hard_file_limit(p.pid) for p in box.program_processes()}
    result = box.finish()
    assert max(hard.values()) <= allowed, f"hard limits {hard}, supervisor's {allowed}\n" + describe(result)
    assert line == f"rlimit_nofile: {EPERM_LINE}\n", describe(result)
