"""Differential tests of issue 11's missing pieces: splice, tee, vmsplice, kcmp,
readahead, process_vm_readv/writev and the old getdents; plus what only the
sandbox shows (the reserved range, the init)."""
import pytest

pytestmark = pytest.mark.timeout(120)

PROGRAMS = {
    "files_splice": ("dynamic", "static"),
    "files_getdents": ("dynamic",),
    "proc_kcmp": ("dynamic",),
    "proc_vm": ("dynamic", "static"),
}


def _params():
    for name, variants in PROGRAMS.items():
        for variant in variants:
            yield pytest.param(name, variant, id=f"{name}-{variant}")


@pytest.mark.parametrize("name,variant", list(_params()))
def test_native_is_deterministic(build, run_native, name, variant):
    binary = build(name, variant)
    first = run_native([binary])
    second = run_native([binary])
    assert first.returncode == 0, first.stderr
    assert first.stdout == second.stdout
    assert "NO\n" not in first.stdout


@pytest.mark.parametrize("name,variant", list(_params()))
def test_program(build, run_native, run_sandboxed, assert_same_behaviour, name, variant):
    binary = build(name, variant)
    native = run_native([binary])
    sandboxed = run_sandboxed([binary])
    assert_same_behaviour([binary], native, sandboxed)


RESERVED_EXPECTED = """\
process_vm_readv(me, &l, 1, &park, 1, 0) = -1 EFAULT
process_vm_readv(me, &l, 1, &stub, 1, 0) = -1 EFAULT
process_vm_writev(me, &l, 1, &park, 1, 0) = -1 EFAULT
process_vm_writev(me, &park, 1, &l, 1, 0) = -1 EFAULT
process_vm_readv(me, &park, 1, &l, 1, 0) = -1 EFAULT
process_vm_readv(me, two, 2, &src, 1, 0) = 4
process_vm_readv(1, &l, 1, &one, 1, 0) = -1 ESRCH
syscall(SYS_kcmp, 1, 1, KCMP_VM, 0, 0) = 0
syscall(SYS_kcmp, me, 1, KCMP_FILES, 0, 0) > 0 = 1
process_vm_readv(1, &l, 1, &one, 1, 0) = -1 EPERM
syscall(SYS_kcmp, 1, 1, KCMP_VM, 0, 0) = -1 EPERM
"""


def test_process_vm_never_touches_the_reserved_range_and_the_init_has_no_memory(build, run_sandboxed):
    """The park page is mapped readable in every process, yet process_vm_* copy
    nothing from or to the reserved range (EFAULT, or the count before it). The
    init's memory would be the supervisor's: ESRCH to whoever may attach to it,
    EPERM to others (uid 1000 against a root init), as kcmp's EPERM."""
    binary = build("proc_vm_reserved", "dynamic")
    result = run_sandboxed([binary])
    assert result.returncode == 0, result.stderr
    assert result.stdout == RESERVED_EXPECTED
