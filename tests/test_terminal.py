"""The program's stdio on a real terminal: terminal ioctls answer from the
host tty, and Ctrl-C reaches a program that is waiting in read(2)."""
import fcntl
import os
import pty
import select
import struct
import sys
import termios
import time

import pytest

pytestmark = pytest.mark.timeout(60)


def run_on_pty(argv, rows=33, cols=111, keys=(), settle=1.5):
    """Run argv with a new pty as its controlling terminal; returns (output, exit code)."""
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp(argv[0], argv)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    out = b""
    deadline = time.time() + 30
    pending = list(keys)
    start = time.time()
    while time.time() < deadline:
        if pending and time.time() - start > settle:
            os.write(fd, pending.pop(0))
            start = time.time()
        ready, _, _ = select.select([fd], [], [], 0.1)
        if ready:
            try:
                data = os.read(fd, 4096)
            except OSError:
                break
            if not data:
                break
            out += data
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    return out, os.waitstatus_to_exitcode(status)


SANDBOX = [sys.executable, "-m", "pylinuxabi", "run", "--strict"]


def test_TIOCGWINSZ_on_stdin_tty_is_the_terminal_size():
    native = run_on_pty(["/usr/bin/stty", "size"])
    sandboxed = run_on_pty(SANDBOX + ["/usr/bin/stty", "size"])
    assert native == (b"33 111\r\n", 0)
    assert sandboxed == native


def test_TCGETS_gives_the_terminal_settings():
    native = run_on_pty(["/usr/bin/stty", "-a"])
    sandboxed = run_on_pty(SANDBOX + ["/usr/bin/stty", "-a"])
    assert native[1] == 0
    assert sandboxed == native


def test_ctrl_c_ends_a_program_blocked_reading_the_terminal_with_130():
    out, code = run_on_pty(SANDBOX + ["/bin/cat"], keys=[b"hello\n", b"\x03"], settle=1.0)
    assert b"hello\r\nhello\r\n" in out
    assert code == 130


def test_a_read_of_the_terminal_does_not_stall_other_processes_and_survives_SIGCHLD():
    script = ("(for i in 1 2 3; do echo tick $i; sleep 0.2; done) & "
              "read line; echo got $line; wait")
    native = run_on_pty(["/bin/sh", "-c", script], keys=[b"hello\n"], settle=1.8)
    sandboxed = run_on_pty(SANDBOX + ["/bin/sh", "-c", script], keys=[b"hello\n"], settle=1.8)
    assert b"tick 3" in native[0] and b"got hello" in native[0]
    assert sandboxed == native
