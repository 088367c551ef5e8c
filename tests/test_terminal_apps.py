"""Terminal programs on a real pty, each run natively and then under pylinuxabi on
the same pty: /dev/tty, ttyname, the pager, the editor and password prompts."""
import io
import os
import re
import shlex
import shutil
import subprocess
import sys

import pytest

pexpect = pytest.importorskip("pexpect")

pytestmark = pytest.mark.timeout(120)

SANDBOX = f"{shlex.quote(sys.executable)} -m pylinuxabi run --strict"
MARK = "@@status"
ROWS, COLS = 24, 80
# what both runs see: no host pager history, no locale or terminal differences
ENV = "export TERM=xterm LANG=C LC_ALL=C LESSHISTFILE=- LESS= MANPAGER=less PAGER=less; "


def native_and_sandboxed(command, drive=lambda child: None, timeout=60):
    """Run the shell command natively and then under pylinuxabi, one after the other
    on one pty of ROWS x COLS whose session leader is a shell, as a terminal's; drive(child)
    types into each run. Returns [(transcript, exit status)] for the native run and the
    sandboxed one."""
    inner = shlex.quote(ENV + command)
    script = (f"sh -c {inner}; echo \"{MARK} $?\"; "
              f"{SANDBOX} sh -c {inner}; echo \"{MARK} $?\"")
    child = pexpect.spawn("/bin/sh", ["-c", script], dimensions=(ROWS, COLS), timeout=timeout)
    child.logfile_read = io.BytesIO()          # all the terminal showed, prompts included
    statuses = []
    try:
        for _ in range(2):
            drive(child)
            child.expect(MARK + r" (\d+)\r\n")
            statuses.append(int(child.match.group(1)))
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    transcripts = re.split(re.escape(MARK).encode() + rb" \d+\r\n", child.logfile_read.getvalue())
    return [(_unreported(out), status) for out, status in zip(transcripts, statuses)]


def _unreported(out):
    """A transcript without our own end-of-run report (unimplemented syscalls)."""
    return b"".join(line for line in out.splitlines(keepends=True) if not line.startswith(b"pylinuxabi: "))


def test_tty_names_the_terminal_as_natively():
    """ttyname(0): the name /proc/self/fd/0 gives must exist and stat as fd 0 does."""
    native, sandboxed = native_and_sandboxed("tty")
    assert re.fullmatch(rb"/dev/pts/\d+\r\n", native[0]) and native[1] == 0
    assert sandboxed == native


def test_ps_shows_the_terminal_as_natively():
    native, sandboxed = native_and_sandboxed("ps -o tty= -p $$")
    assert re.fullmatch(rb"pts/\d+ *\r\n", native[0])
    assert sandboxed == native


def test_stty_a_on_dev_tty_sets_and_reports_the_terminal_as_natively():
    """tcsetattr on /dev/tty (ENOTTY before) reaches the terminal itself; stty -a shows it."""
    native, sandboxed = native_and_sandboxed(
        "saved=$(stty -g </dev/tty); stty -echo -icanon </dev/tty && stty -a </dev/tty; "
        "stty \"$saved\" </dev/tty")
    assert b"-echo" in native[0] and b"-icanon" in native[0] and b"rows 24; columns 80" in native[0]
    assert sandboxed == native


def test_stty_a_on_stdin_is_the_terminal_size_and_settings():
    native, sandboxed = native_and_sandboxed("stty -a")
    assert b"rows 24; columns 80" in native[0]
    assert sandboxed == native


def test_dev_tty_without_a_controlling_terminal_is_ENXIO():
    """A process that left the terminal's session (setsid) has no /dev/tty, as natively."""
    code = ("import os\ntry:\n    os.open('/dev/tty', os.O_RDWR); print('opened')\n"
            "except OSError as e:\n    print('errno', e.errno)\n")
    native, sandboxed = native_and_sandboxed(f"setsid -w {sys.executable} -c {shlex.quote(code)}")
    assert native == (b"errno 6\r\n", 0)
    assert sandboxed == native


def test_dev_tty_without_a_terminal_is_ENXIO(run_sandboxed):
    code = ("import os\ntry:\n    os.open('/dev/tty', os.O_RDWR); print('opened')\n"
            "except OSError as e:\n    print('errno', e.errno)\n")
    native = subprocess.run(["setsid", "-w", sys.executable, "-c", code], capture_output=True,
                            stdin=subprocess.DEVNULL, timeout=30)
    result = run_sandboxed(["/usr/bin/setsid", "-w", sys.executable, "-c", code])
    assert native.stdout == b"errno 6\n"
    assert result.stdout == native.stdout.decode()


PTY_AS_CTTY = """
import os, pty
if os.fork() == 0:
    os.setsid()
    master, slave = pty.openpty()
    os.close(os.open(os.ttyname(slave), os.O_RDWR))      # a session leader's first terminal is its own
    tty = os.open("/dev/tty", os.O_RDWR)
    os.write(tty, b"via /dev/tty\\n")
    st = os.fstat(tty)
    print(os.read(master, 100), os.readlink(f"/proc/self/fd/{tty}"), os.major(st.st_rdev), os.minor(st.st_rdev))
    os._exit(0)
os.wait()
"""


def test_dev_tty_is_the_pty_a_session_leader_made_its_controlling_terminal(run_sandboxed):
    native = subprocess.run([sys.executable, "-c", PTY_AS_CTTY], capture_output=True,
                            stdin=subprocess.DEVNULL, timeout=30)
    result = run_sandboxed([sys.executable, "-c", PTY_AS_CTTY])
    assert native.stdout == b"b'via /dev/tty\\r\\n' /dev/tty 5 0\n"
    assert result.stdout == native.stdout.decode()


def test_getpass_reads_the_typed_password_from_dev_tty():
    """getpass opens /dev/tty, turns echo off, reads a line, and restores the terminal."""
    def drive(child):
        child.expect("Password: ")
        child.send("s3cret\r")
    native, sandboxed = native_and_sandboxed(
        f"{sys.executable} -c 'import getpass; print(repr(getpass.getpass()))' </dev/null", drive)
    assert native == (b"Password: \r\n's3cret'\r\n", 0)
    assert sandboxed == native


def test_a_script_reads_its_answer_from_dev_tty_while_stdin_is_elsewhere():
    def drive(child):
        child.expect("name\\? ")
        child.send("bob\r")
    native, sandboxed = native_and_sandboxed(
        "exec </dev/null; printf 'name? ' >/dev/tty; read answer </dev/tty; echo \"got $answer\"", drive)
    assert native == (b"name? bob\r\ngot bob\r\n", 0)
    assert sandboxed == native


@pytest.fixture
def long_file(tmp_path):
    path = tmp_path / "lines.txt"
    path.write_text("".join(f"line {i}\n" for i in range(1, 201)))
    return str(path)


@pytest.mark.slow
def test_less_pages_a_file_and_quits_on_q(long_file):
    """less reads its keys from /dev/tty: space pages on, q quits."""
    if shutil.which("less") is None:
        pytest.skip("less is not installed")
    def drive(child):
        child.expect("line 23")
        child.send(" ")
        child.expect("line 46")
        child.send("q")
    native, sandboxed = native_and_sandboxed(f"less {long_file} </dev/null", drive)
    assert native[1] == 0
    assert sandboxed == native


@pytest.mark.slow
def test_git_log_pages_through_less(tmp_path):
    if shutil.which("git") is None or shutil.which("less") is None:
        pytest.skip("git or less is not installed")
    repo = tmp_path / "repo"
    env = dict(os.environ, GIT_AUTHOR_NAME="A", GIT_AUTHOR_EMAIL="a@example.com", GIT_COMMITTER_NAME="A",
               GIT_COMMITTER_EMAIL="a@example.com", GIT_AUTHOR_DATE="2020-01-01T00:00:00Z",
               GIT_COMMITTER_DATE="2020-01-01T00:00:00Z")
    subprocess.run(["git", "init", "-q", str(repo)], check=True, env=env)
    for i in range(12):
        subprocess.run(["git", "-C", str(repo), "commit", "-q", "--allow-empty", "-m", f"commit {i}"],
                       check=True, env=env)

    def drive(child):
        child.expect("commit 9")
        child.send("q")
    native, sandboxed = native_and_sandboxed(f"git -c core.pager=less -c color.ui=never -C {repo} log", drive)
    assert native[1] == 0
    assert sandboxed == native


@pytest.mark.slow
def test_man_ls_shows_the_page_and_quits_on_q():
    if shutil.which("man") is None or not os.path.exists("/usr/share/man/man1/ls.1.gz"):
        pytest.skip("man-db or the ls manual page is not installed")

    def drive(child):
        child.expect("SYNOPSIS", timeout=90)
        child.send("q")
    native, sandboxed = native_and_sandboxed("man ls", drive, timeout=120)
    assert native[1] == 0
    assert sandboxed == native


@pytest.mark.slow
def test_vim_shows_the_file_and_quits_on_colon_q(long_file):
    vim = shutil.which("vim") or shutil.which("vi")
    if vim is None:
        pytest.skip("vim is not installed")

    def drive(child):
        child.expect("line 2")
        child.send(":q\r")
    native, sandboxed = native_and_sandboxed(f"{vim} -u NONE -i NONE -N -n {long_file}", drive)
    assert native[1] == 0
    assert sandboxed == native
