"""strace's lines for signal deliveries and rt_sigreturn, from raw siginfo bytes."""
import struct

from pylinuxabi.observe.strace import format_siginfo, format_sigreturn_mask


def siginfo(signo, code, *fields, fmt=""):
    raw = struct.pack("<iii4x", signo, 0, code) + struct.pack("<" + fmt, *fields)
    return raw.ljust(128, b"\0")


def test_kill_from_a_process_shows_its_pid_and_uid():
    assert format_siginfo(siginfo(15, 0, 7, 0, fmt="iI")) == \
        "--- SIGTERM {si_signo=SIGTERM, si_code=SI_USER, si_pid=7, si_uid=0} ---"


def test_a_child_exit_shows_status_and_times():
    raw = siginfo(17, 1, 3, 0, 5, 0, 0, fmt="iIi4xqq")
    assert format_siginfo(raw) == ("--- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=3, si_uid=0, "
                                   "si_status=5, si_utime=0, si_stime=0} ---")


def test_a_child_killed_names_the_signal():
    raw = siginfo(17, 2, 3, 0, 9, 0, 0, fmt="iIi4xqq")
    assert "si_code=CLD_KILLED" in format_siginfo(raw) and "si_status=SIGKILL" in format_siginfo(raw)


def test_a_fault_shows_its_address():
    assert format_siginfo(siginfo(11, 1, 0x10, fmt="Q")) == \
        "--- SIGSEGV {si_signo=SIGSEGV, si_code=SEGV_MAPERR, si_addr=0x10} ---"


def test_a_terminal_signal_is_SI_KERNEL():
    assert format_siginfo(siginfo(2, 0x80)) == "--- SIGINT {si_signo=SIGINT, si_code=SI_KERNEL} ---"


def test_rt_sigreturn_shows_the_mask_it_restores():
    assert format_sigreturn_mask(0) == "rt_sigreturn({mask=[]})"
    assert format_sigreturn_mask(1 << 16) == "rt_sigreturn({mask=[CHLD]})"
