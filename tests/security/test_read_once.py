"""Checks made on memory the program can still change (issue 10, class 4).

Every child of the program, seen in the host's /proc, stays traced by the
supervisor and in the program's own namespaces.
"""
import os

import pytest

from .hostside import describe, supervisor_survived

NAMESPACES = ("pid", "user", "net")


def host_view(pid):
    """(TracerPid, namespace inodes) of host process pid, or None if it is gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            tracer = next(int(line.split()[1]) for line in f if line.startswith("TracerPid:"))
        return tracer, tuple(os.readlink(f"/proc/{pid}/ns/{ns}") for ns in NAMESPACES)
    except (OSError, StopIteration):
        return None


def check_children(box):
    """Each program process is traced by the supervisor and shares the first one's namespaces."""
    sup = box.supervisor().pid
    procs = box.program_processes()
    main = host_view(procs[0].pid)
    strays = {}
    for p in procs:
        view = host_view(p.pid)
        if view is not None and (view[0] != sup or view[1] != main[1]):
            strays[p.pid] = view
    return strays


def shown(strays):
    first = dict(list(strays.items())[:3])
    return f"{len(strays)} children outside the model (pid: TracerPid, namespaces), e.g. {first}\n"


@pytest.mark.timeout(180)
def test_flags_flipped_into_clone_args_after_the_check_never_reach_the_host(attack, sandbox):
    box = sandbox([attack("clone_escape"), "clone3_flip"])
    strays, rounds = {}, 0
    while (line := box.readline(timeout=120)) == "batch\n":
        rounds += 1
        strays.update(check_children(box))
        box.send()
    result = box.finish()
    assert not strays, shown(strays) + describe(result)
    assert rounds > 0 and line == "done\n", describe(result)
    assert supervisor_survived(result), describe(result)


@pytest.mark.timeout(120)
@pytest.mark.parametrize("mode", ["clone_untraced", "clone3_untraced"])
def test_CLONE_UNTRACED_leaves_the_child_traced(attack, sandbox, mode):
    box = sandbox([attack("clone_escape"), mode])
    box.readline()
    assert box.readline() == "batch\n"
    strays = check_children(box)
    box.send()
    result = box.finish()
    assert not strays, shown(strays) + describe(result)
    assert supervisor_survived(result), describe(result)
