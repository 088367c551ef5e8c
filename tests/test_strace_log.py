"""`pylinuxabi run --strace[=FILE]` writes what strace(1) would.

The same program is traced natively with `strace -f -o FILE` and under
`pylinuxabi run --strace=FILE`; the logs must list the same syscalls in the
same order, and lines must be identical once addresses (which ASLR moves),
pids and strace's column padding are set aside.

Also the report of unimplemented syscalls: each returns -1 ENOSYS (shown so
in the log) and `pylinuxabi run` prints one line on stderr with counts.
tests/programs/unimpl.c calls tuxcall and security, reserved numbers that
no x86-64 Linux implements, so native and sandboxed runs agree.
"""
import difflib
import os
import re
import shutil
import signal
import subprocess
import sys

import pytest

from conftest import REPO_ROOT

pytestmark = pytest.mark.timeout(120)

STRACE = shutil.which("strace")
needs_strace = pytest.mark.skipif(STRACE is None, reason="strace not installed")

PID_PREFIX = re.compile(r"^(?:\[pid\s+\d+\]\s|\d+\s+)")
CALL_NAME = re.compile(r"^([a-z_][a-z0-9_]*)\(")
ADDRESS = re.compile(r"0x[0-9a-f]+")
PADDING = re.compile(r"\)\s+= ")


def _env():
    # one environment for both runs, so that execve shows the same "N vars"
    env = dict(os.environ, LC_ALL="C")
    src = str(REPO_ROOT / "src")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (src, os.environ.get("PYTHONPATH")) if p)
    return env


def _default_signals():
    # dash logs different rt_sigaction calls if it starts with SIGINT/SIGQUIT
    # ignored (pytest run as a background job of a script): same start for both
    for sig in (signal.SIGINT, signal.SIGQUIT, signal.SIGHUP, signal.SIGTERM):
        signal.signal(sig, signal.SIG_DFL)


def _run(cmd, env):
    return subprocess.run([str(c) for c in cmd], stdin=subprocess.DEVNULL, capture_output=True,
                          text=True, cwd="/", env=env, timeout=90, preexec_fn=_default_signals)


def native_log(argv, path):
    env = _env()
    r = _run([STRACE, "-f", "-o", path, *argv], env)
    if not os.path.exists(path) or "ptrace" in r.stderr:
        pytest.skip(f"strace cannot trace here: {r.stderr.strip()[-200:]}")
    return r, read_log(path)


def sandboxed_log(argv, path, extra=()):
    env = _env()
    r = _run([sys.executable, "-m", "pylinuxabi", "run", "--strict", "--env-host", *extra,
              f"--strace={path}", *argv], env)
    return r, read_log(path)


def read_log(path):
    with open(path) as f:
        return [PID_PREFIX.sub("", line.rstrip("\n")) for line in f]


def syscall_names(lines):
    names = []
    for line in lines:
        if line.startswith(("+++", "---")):
            continue
        m = CALL_NAME.match(line)
        assert m, f"not a syscall line: {line!r}"
        names.append(m.group(1))
    return names


def unpad(line):
    """strace's column padding set aside."""
    return PADDING.sub(") = ", line)


def normalise(line):
    """Addresses and strace's column padding set aside."""
    return ADDRESS.sub("ADDR", unpad(line))


def normalise_full(line):
    """normalise(), and the pid set_tid_address returns (ours is 2, the host's is not)."""
    line = normalise(line)
    if line.startswith("set_tid_address("):
        line = re.sub(r"= \d+$", "= TID", line)
    return line


@pytest.fixture
def true_logs(tmp_path):
    _, native = native_log(["/bin/true"], tmp_path / "native.log")
    r, sandboxed = sandboxed_log(["/bin/true"], tmp_path / "sandboxed.log")
    assert r.returncode == 0, r.stderr
    return native, sandboxed


@needs_strace
def test_strace_log_lists_the_same_syscalls_in_the_same_order(true_logs):
    native, sandboxed = true_logs
    assert syscall_names(sandboxed) == syscall_names(native)


@needs_strace
@pytest.mark.parametrize("line", [
    'access("/etc/ld.so.preload", R_OK) = -1 ENOENT (No such file or directory)',
    'openat(AT_FDCWD, "/etc/ld.so.cache", O_RDONLY|O_CLOEXEC) = 3',
    'openat(AT_FDCWD, "/lib/x86_64-linux-gnu/libc.so.6", O_RDONLY|O_CLOEXEC) = 3',
    "close(3) = 0",
    "exit_group(0) = ?",
    "+++ exited with 0 +++",
])
def test_strace_line_matches_native_modulo_addresses(true_logs, line):
    native, sandboxed = true_logs
    native = [normalise(x) for x in native]
    if line not in native:
        pytest.skip(f"the host's /bin/true does not log {line!r}")
    assert line in [normalise(x) for x in sandboxed]


@needs_strace
def test_strace_log_matches_native_line_by_line_modulo_addresses_and_pid(true_logs):
    native, sandboxed = true_logs
    assert [normalise_full(x) for x in sandboxed] == [normalise_full(x) for x in native]


@needs_strace
def test_strace_execve_line_matches_native_modulo_addresses(true_logs):
    native, sandboxed = true_logs
    assert normalise(sandboxed[0]) == normalise(native[0])


@needs_strace
@pytest.mark.parametrize("code", [0, 3])
def test_strace_log_ends_with_the_exit_status(tmp_path, code):
    argv = ["/bin/sh", "-c", f"exit {code}"]
    _, native = native_log(argv, tmp_path / "native.log")
    r, sandboxed = sandboxed_log(argv, tmp_path / "sandboxed.log")
    assert r.returncode == code
    expected = [f"exit_group({code}) = ?", f"+++ exited with {code} +++"]
    assert [normalise(x) for x in native[-2:]] == expected
    assert [normalise(x) for x in sandboxed[-2:]] == expected


@needs_strace
def test_strace_log_ends_with_killed_by_signal(tmp_path):
    argv = ["/bin/sh", "-c", "kill -TERM $$"]
    _, native = native_log(argv, tmp_path / "native.log")
    r, sandboxed = sandboxed_log(argv, tmp_path / "sandboxed.log")
    assert r.returncode == 128 + 15
    assert native[-1] == sandboxed[-1] == "+++ killed by SIGTERM +++"
    assert syscall_names(sandboxed) == syscall_names(native)


@needs_strace
def test_strace_log_shows_the_signal_delivered(tmp_path):
    argv = ["/bin/sh", "-c", "kill -TERM $$"]
    _, native = native_log(argv, tmp_path / "native.log")
    _, sandboxed = sandboxed_log(argv, tmp_path / "sandboxed.log")
    assert native[-2].startswith("--- SIGTERM {si_signo=SIGTERM, si_code=SI_USER")
    assert sandboxed[-2].startswith("--- SIGTERM {si_signo=SIGTERM, si_code=SI_USER")


# --------------------------------------------------------------------------
# several processes: strace -f prefixes lines with the pid once there is more
# than one; ours are pids in the sandbox's namespace, so compare per process

PID_OF = re.compile(r"^(?:\[pid\s+(\d+)\]\s|(\d+)\s+)")
FORK_CALLS = ("clone", "clone3", "fork", "vfork")


def per_process(path):
    """[[lines of one process]] in order of first appearance.

    Lines without a prefix come before a second process exists: they are the
    first process's, which in the sandbox is pid 2."""
    procs = {}
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            m = PID_OF.match(line)
            pid = (m.group(1) or m.group(2)) if m else "2"
            procs.setdefault(pid, []).append(PID_OF.sub("", line))
    return list(procs.values())


def call_names(lines, skip=()):
    """Syscall names; strace's '<... NAME resumed>' halves are not calls of their own,
    nor is a call a signal interrupted to be restarted (whether a SIGCHLD comes
    during a wait is timing, natively as under us)."""
    kept = []
    for x in lines:
        if x.startswith("<... "):
            if "= ? ERESTART" in x:     # the call its '<unfinished ...>' line began is restarted
                name = x[len("<... "):].split(" resumed", 1)[0]
                begun = [i for i, k in enumerate(kept) if k.startswith(name + "(") and k.endswith("<unfinished ...>")]
                if begun:
                    del kept[begun[-1]]
        elif "= ? ERESTART" not in x:
            kept.append(x)
    return [n for n in syscall_names(kept) if n not in skip and n != "restart_syscall"]


SH_RUNS_TRUE = ["/bin/sh", "-c", "/bin/true; exit 0"]


@needs_strace
def test_strace_each_process_makes_the_same_syscalls(tmp_path):
    native_log(SH_RUNS_TRUE, tmp_path / "native.log")
    r, _ = sandboxed_log(SH_RUNS_TRUE, tmp_path / "sandboxed.log")
    assert r.returncode == 0
    native = per_process(tmp_path / "native.log")
    sandboxed = per_process(tmp_path / "sandboxed.log")
    assert len(native) == len(sandboxed) == 2
    # process creation is checked by the next test
    got, want = ([call_names(p, skip=FORK_CALLS) for p in log] for log in (sandboxed, native))
    assert got == want, "\n".join(difflib.unified_diff(want[0] + ["--"] + want[1], got[0] + ["--"] + got[1],
                                                     "native", "sandboxed", lineterm=""))
    assert sandboxed[1][-1] == native[1][-1] == "+++ exited with 0 +++"


@needs_strace
@pytest.mark.parametrize("argv", [
    SH_RUNS_TRUE,
    ["/usr/bin/python3", "-c", "import os\npid = os.fork()\nif pid == 0: os._exit(3)\n"
                               "os.waitpid(pid, 0)"],
], ids=["sh_vfork", "python_fork"])
def test_strace_logs_the_call_that_created_a_process(tmp_path, argv):
    if not os.access(argv[0], os.X_OK):
        pytest.skip(f"{argv[0]} not installed")
    native_log(argv, tmp_path / "native.log")
    r, _ = sandboxed_log(argv, tmp_path / "sandboxed.log")
    native = per_process(tmp_path / "native.log")
    sandboxed = per_process(tmp_path / "sandboxed.log")
    assert [n for n in call_names(native[0]) if n in FORK_CALLS]        # the host logs one
    assert ([n for n in call_names(sandboxed[0]) if n in FORK_CALLS]
            == [n for n in call_names(native[0]) if n in FORK_CALLS])


SIGNAL_LINE = re.compile(r"^--- (SIG\w+) ")


def events(lines):
    """Syscall names and the signals delivered ("SIGURG"), in order; SIGCHLD, which
    comes whenever the child happens to exit, set aside."""
    out = []
    for line in lines:
        m = SIGNAL_LINE.match(line)
        if m:
            if m.group(1) != "SIGCHLD":
                out.append(m.group(1))
        elif not line.startswith(("<...", "+++")):
            out.append(CALL_NAME.match(line).group(1))
    return out


@needs_strace
def test_strace_a_reset_handler_ending_a_masked_wait_is_delivered_once(tmp_path, build):
    """tests/programs/proc_resethand.c: SIGURG's SA_RESETHAND handler has run (now
    SIG_DFL) when SIGURG and SIGWINCH end a ppoll/pselect6 with a mask of its own.
    A copy of the dispositions that still had SIGURG's handler stepped into it,
    and SIGWINCH, met under the thread's own mask, was queued again: the wait
    restarted once more (an extra ERESTARTNOHAND and a second SIGWINCH logged)."""
    binary = build("proc_resethand")
    native_log([binary], tmp_path / "native.log")
    r, _ = sandboxed_log([binary], tmp_path / "sandboxed.log")
    assert r.returncode == 0, r.stderr
    native = per_process(tmp_path / "native.log")
    sandboxed = per_process(tmp_path / "sandboxed.log")
    assert [events(p) for p in sandboxed] == [events(p) for p in native]


@needs_strace
def test_strace_rt_sigreturn_shows_the_restored_mask(tmp_path):
    native_log(SH_RUNS_TRUE, tmp_path / "native.log")
    sandboxed_log(SH_RUNS_TRUE, tmp_path / "sandboxed.log")

    def sigreturns(path):
        return [x.split(" = ")[0].rstrip() for x in per_process(path)[0]
                if x.startswith("rt_sigreturn(")]
    native = sigreturns(tmp_path / "native.log")
    assert native == ["rt_sigreturn({mask=[]})"]
    assert sigreturns(tmp_path / "sandboxed.log") == native


def test_strace_without_file_logs_to_stderr():
    # `--strace PROGRAM` must not take PROGRAM as the log file
    r = _run([sys.executable, "-m", "pylinuxabi", "run", "--strict", "--strace", "/bin/true"],
             _env())
    assert r.returncode == 0
    assert r.stdout == ""
    lines = r.stderr.splitlines()
    assert lines[0].startswith('execve("/bin/true", ["/bin/true"], ')
    assert lines[-2:] == ["exit_group(0) = ?", "+++ exited with 0 +++"]


# --------------------------------------------------------------------------
# unimplemented syscalls

ENOSYS_LINES = [
    "tuxcall(0x1, 0x2, 0x3) = -1 ENOSYS (Function not implemented)",
    "tuxcall(0, 0, 0) = -1 ENOSYS (Function not implemented)",
    "security(0x7, 0, 0) = -1 ENOSYS (Function not implemented)",
]
REPORT = "pylinuxabi: unimplemented syscalls used: tuxcall (2), security (1)"


@pytest.fixture
def unimpl(build):
    return build("unimpl")


def test_unimplemented_syscall_logged_as_enosys(unimpl, tmp_path):
    r, log = sandboxed_log([unimpl], tmp_path / "sandboxed.log")
    assert r.returncode == 0
    logged = [unpad(x) for x in log if x.startswith(("tuxcall(", "security("))]
    assert logged == ENOSYS_LINES


@needs_strace
def test_unimplemented_syscall_log_lines_match_native(unimpl, tmp_path):
    _, native = native_log([unimpl], tmp_path / "native.log")
    _, sandboxed = sandboxed_log([unimpl], tmp_path / "sandboxed.log")
    pick = ("tuxcall(", "security(")
    assert ([unpad(x) for x in sandboxed if x.startswith(pick)]
            == [unpad(x) for x in native if x.startswith(pick)] == ENOSYS_LINES)


@pytest.mark.parametrize("strace", [False, True], ids=["plain", "with_strace"])
def test_unimplemented_syscalls_reported_once_on_stderr_with_counts(unimpl, tmp_path, strace):
    extra = [f"--strace={tmp_path / 'log'}"] if strace else []
    r = _run([sys.executable, "-m", "pylinuxabi", "run", "--strict", "--report", *extra, unimpl], _env())
    assert r.returncode == 0
    assert r.stdout == "tuxcall = -1 ENOSYS\ntuxcall = -1 ENOSYS\nsecurity = -1 ENOSYS\n"
    assert r.stderr.splitlines() == [REPORT]


def test_no_report_when_every_syscall_is_implemented():
    r = _run([sys.executable, "-m", "pylinuxabi", "run", "--strict", "/bin/true"], _env())
    assert (r.returncode, r.stdout, r.stderr) == (0, "", "")
