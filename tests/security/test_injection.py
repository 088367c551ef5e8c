"""Attacks on the supervisor's host syscall injection (issue 10, class 1).

Judged on the host: a marker directory that an injected mkdirat would make,
and the reserved range [0x7e0000000000, 0x7e0100000000) as /proc/<pid>/maps and mem show it.
"""
import hashlib

import pytest

from .hostside import describe, run_attack, supervisor_survived

RESERVED = (0x7E0000000000, 0x7E0100000000)


def reserved_state(pid):
    """Each mapping of the reserved range in host process pid: (range, perms, path, digest).

    The digest is of the bytes the process sees (read through the host's
    /proc/pid/mem), for every mapping but the shared park page, whose words change.
    """
    state = []
    with open(f"/proc/{pid}/maps") as maps:
        lines = maps.read().splitlines()
    for line in lines:
        fields = line.split(None, 5)
        start, end = (int(x, 16) for x in fields[0].split("-"))
        if end <= RESERVED[0] or start >= RESERVED[1]:
            continue
        path = fields[5] if len(fields) > 5 else ""
        digest = None
        if "park" not in path:
            with open(f"/proc/{pid}/mem", "rb", buffering=0) as mem:
                mem.seek(start)
                digest = hashlib.sha256(mem.read(end - start)).hexdigest()[:16]
        state.append((fields[0], fields[1], path, digest))
    return state


def test_a_racing_thread_cannot_turn_an_injected_mmap_into_its_own_host_syscall(attack, host_dir):
    marker = host_dir / "escaped-race"
    result = run_attack([attack("hijack_race"), marker], timeout=120)
    assert not marker.exists(), "an injected syscall ran the program's code on the host\n" + describe(result)
    assert supervisor_survived(result), describe(result)
    assert "tries" in result.stdout, describe(result)


def test_mapping_a_file_over_its_own_syscall_instruction_runs_nothing_on_the_host(attack, host_dir):
    marker = host_dir / "escaped-fixed-map"
    result = run_attack([attack("hijack_fixed_map"), marker])
    assert not marker.exists(), "the file mapped over the syscall ran on the host\n" + describe(result)
    assert supervisor_survived(result), describe(result)


TAMPERS = ["mprotect", "pkey_mprotect", "mmap_fixed", "munmap_then_map", "mremap",
           "proc_self_mem", "process_vm_writev", "madvise_dontfork"]


@pytest.mark.timeout(120)
@pytest.mark.parametrize("mode", TAMPERS)
def test_the_stub_and_park_page_cannot_be_changed_by_the_program(attack, sandbox, host_dir, mode):
    """Every process keeps the reserved range exactly as the supervisor mapped it;
    injections set off afterwards run nothing of the program's on the host."""
    marker = host_dir / f"escaped-{mode}"
    box = sandbox([attack("stub_tamper"), mode, marker])
    assert box.readline() == "before\n"
    (program,) = box.program_processes()
    before = reserved_state(program.pid)
    assert any("r-x" in perms for _, perms, _, _ in before), before
    box.send()
    assert box.readline() == "after\n"
    changed = {p.pid: reserved_state(p.pid) for p in box.program_processes()}
    box.send()
    result = box.finish(timeout=60)
    assert not marker.exists(), "the tampered stub ran on the host\n" + describe(result)
    for pid, after in changed.items():
        assert after == before, (f"{mode}: the reserved range of host pid {pid} changed\n"
                                 f"before: {before}\nafter:  {after}\n" + describe(result))
    assert supervisor_survived(result), describe(result)
