"""The syscall table (syscalls/table.py): every x86-64 number, its class, decoder and handler."""
import errno
import re
from pathlib import Path

import pytest

from pylinuxabi.syscalls import registry
from pylinuxabi.syscalls import table as T
from pylinuxabi.base.names import SYSCALL_NAMES, SYSCALL_NUMBERS

CORE_C = Path(__file__).resolve().parents[2] / "native" / "core.c"
U64 = (1 << 64) - 1


@pytest.fixture(scope="module")
def counts():
    return {}


@pytest.fixture(scope="module")
def table(counts):
    return T.build(counts)


def entry(table, name):
    return table[SYSCALL_NUMBERS[name]]


def regs(*values):
    return tuple(values) + (0,) * (6 - len(values))


# --------------------------------------------------------------------------
# coverage

def test_table_has_one_entry_per_number_from_0_to_467(table):
    assert len(table) == 468
    assert [e.nr for e in table] == list(range(468))


def test_every_entry_has_a_name(table):
    assert all(isinstance(e.name, str) and e.name for e in table)


def test_assigned_numbers_carry_the_kernels_names(table):
    assert {e.nr: e.name for e in table if e.nr in SYSCALL_NAMES} == SYSCALL_NAMES


def test_unassigned_number_is_named_after_its_number(table):
    assert table[400].name == "syscall_0x190"


def test_every_entry_has_a_known_class_and_a_handler(table):
    kinds = {T.EMULATED, T.PASSTHROUGH, T.ALLOWED, T.UNIMPLEMENTED}
    assert all(e.kind in kinds and callable(e.handler) for e in table)


# --------------------------------------------------------------------------
# classes

@pytest.mark.parametrize("name", ["read", "write", "openat", "close", "execve", "mmap", "getdents64"])
def test_model_answers_file_and_exec_calls(table, name):
    assert entry(table, name).kind == T.EMULATED


@pytest.mark.parametrize("name", ["futex", "rt_sigreturn", "clock_gettime"])
def test_calls_the_filter_lets_through_are_allowed(table, name):
    assert entry(table, name).kind == T.ALLOWED


@pytest.mark.parametrize("name", ["munmap", "mprotect", "madvise", "mremap", "pkey_mprotect", "mseal"])
def test_calls_that_could_reach_the_reserved_range_are_checked_before_the_host_runs_them(table, name):
    assert entry(table, name).kind == T.PASSTHROUGH
    assert entry(table, name).handler.__module__ == "pylinuxabi.syscalls.mm"


@pytest.mark.parametrize("name", ["clone", "exit_group", "wait4", "kill"])
def test_process_calls_are_passed_through_to_the_host(table, name):
    assert entry(table, name).kind == T.PASSTHROUGH


def test_unassigned_number_is_unimplemented(table):
    assert table[400].kind == T.UNIMPLEMENTED


def test_class_allowed_is_exactly_the_filters_list(table):
    assert {e.name for e in table if e.kind == T.ALLOWED} == T.BPF_ALLOWED


@pytest.mark.skipif(not CORE_C.exists(), reason="native/core.c not in this checkout")
def test_BPF_ALLOWED_is_kept_in_step_with_the_seccomp_filter():
    text = CORE_C.read_text()
    assert set(re.findall(r"ALLOW_NR\(SYS_(\w+)\)", text)) == T.BPF_ALLOWED
    filter_ = text[text.index("static int install_filter"):]
    checked = set(re.findall(r"BPF_JEQ \| BPF_K, SYS_(\w+), \d+, \d+\),", filter_)) - {"mmap"}
    assert checked == T.BPF_RANGE_CHECKED


# --------------------------------------------------------------------------
# decoders

def test_int_argument_is_sign_extended_from_32_bits(table):
    fd, buf, count = entry(table, "read").decode(regs(0xFFFFFFFF, 0x1000, 10))
    assert fd == -1


def test_int_argument_ignores_the_upper_32_bits(table):
    (fd,) = entry(table, "close").decode(regs(0xDEADBEEF00000003))
    assert fd == 3


def test_AT_FDCWD_decodes_from_its_32_bit_form(table):
    assert entry(table, "openat").decode(regs(0xFFFFFF9C, 0x1000, 0, 0))[0] == -100


def test_pointer_and_size_arguments_stay_unsigned(table):
    assert tuple(entry(table, "read").decode(regs(3, U64, U64))) == (3, U64, U64)


def test_long_argument_is_sign_extended_from_64_bits(table):
    assert tuple(entry(table, "lseek").decode(regs(3, U64, 0))) == (3, -1, 0)


def test_unsigned_int_argument_keeps_32_bits_unsigned(table):
    assert tuple(entry(table, "close_range").decode(regs(0xFFFFFFFF, 0x100000005, 0))) \
        == (0xFFFFFFFF, 5, 0)


def test_decoder_returns_as_many_arguments_as_the_handler_takes(table):
    assert len(entry(table, "read").decode(regs(1, 2, 3, 4, 5, 6))) == 3
    assert len(entry(table, "mmap").decode(regs(1, 2, 3, 4, 5, 6))) == 6


# --------------------------------------------------------------------------
# unimplemented calls

def test_unimplemented_handler_returns_minus_ENOSYS_and_counts_the_name(table, counts):
    before = counts.get("syscall_0x190", 0)
    assert table[400].handler(None, *table[400].decode(regs())) == -errno.ENOSYS
    assert table[400].handler(None) == -errno.ENOSYS
    assert counts["syscall_0x190"] == before + 2


def test_named_unimplemented_call_is_counted_under_its_name(table, counts):
    e = next(e for e in table if e.kind == T.UNIMPLEMENTED and e.nr in SYSCALL_NAMES)
    assert e.handler(None, 1, 2, 3) == -errno.ENOSYS
    assert counts[e.name] >= 1


def test_numbers_beyond_the_table_get_an_unknown_entry(table, counts):
    e = table.unknown(500)
    assert (e.nr, e.name, e.kind) == (500, "syscall_0x1f4", T.UNIMPLEMENTED)
    before = counts.get("syscall_0x1f4", 0)
    assert e.handler(None) == -errno.ENOSYS
    assert counts["syscall_0x1f4"] == before + 1


def test_registering_two_handlers_for_one_name_is_refused(table):
    with pytest.raises(ValueError):
        registry.syscall("read")(lambda task: 0)
