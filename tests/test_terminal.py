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


def _normalized(out):
    """Pids and our own end-of-run report taken out of a terminal transcript."""
    import re
    text = out.decode(errors="replace").replace("\r\n", "\n")
    text = re.sub(r"^\[(\d+)\] \d+$", r"[\1] PID", text, flags=re.M)
    return "\n".join(line for line in text.split("\n") if not line.startswith("pylinuxabi: "))


BASH_I = ["/usr/bin/env", "PS1=$ ", "TERM=dumb", "/bin/bash", "--norc", "--noprofile", "-i"]


def test_bash_job_control_inside_the_sandbox_is_the_hosts():
    """bash -i gets the terminal: jobs, Ctrl-Z, fg, Ctrl-C to the foreground job,
    exactly as natively."""
    keys = [b"sleep 30 &\n", b"jobs\n", b"cat\n", b"hi\n", b"\x1a", b"jobs\n", b"fg %2\n", b"\x03",
            b"echo status=$?\n", b"kill %1; wait; echo done\n", b"exit 3\n"]
    native = run_on_pty(BASH_I, keys=keys, settle=0.8)
    sandboxed = run_on_pty(SANDBOX + BASH_I, keys=keys, settle=0.8)
    assert "no job control" not in _normalized(native[0])
    assert "[2]+  Stopped                 cat" in _normalized(native[0])
    assert (_normalized(sandboxed[0]), sandboxed[1]) == (_normalized(native[0]), native[1])


def test_ctrl_z_stops_the_whole_sandbox_as_one_job_of_the_shell():
    """From the user's shell, `pylinuxabi run cat` stops on Ctrl-Z, continues on fg
    with the terminal, and ends on Ctrl-C, as `cat` itself does."""
    def session(command):
        keys = [command + b"\n", b"one\n", b"\x1a", b"jobs\n", b"fg\n", b"two\n", b"\x03",
                b"echo status=$?\n", b"exit\n"]
        out, code = run_on_pty(BASH_I, keys=keys, settle=1.5)
        # bash starts a new line after a job killed by SIGINT; `pylinuxabi run` exits 130 instead
        return _normalized(out).replace(command.decode(), "CMD").replace("^C\n$", "^C$"), code
    native = session(b"cat")
    sandboxed = session(" ".join(SANDBOX).encode() + b" cat")
    assert "[1]+  Stopped                 CMD" in native[0]
    assert "two\ntwo" in native[0] and "status=130" in native[0]
    assert sandboxed == native


def test_typing_into_the_users_terminal_is_refused():
    """TIOCSTI would queue input for the user's shell after we exit: EIO, as with
    dev.tty.legacy_tiocsti=0."""
    code = ("import fcntl, termios\n"
            "try:\n    fcntl.ioctl(0, termios.TIOCSTI, b'x'); print('typed')\n"
            "except OSError as e:\n    print('refused', e.errno)\n")
    out, status = run_on_pty(SANDBOX + [sys.executable, "-c", code])
    assert b"refused 5" in out and status == 0
