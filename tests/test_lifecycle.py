"""The life cycle of `pylinuxabi run` as a process on the host.

Process tree:  pylinuxabi run (outer)  ->  supervisor (pid 1 of the new PID
namespace)  ->  the program (pid 2)  ->  its children.

Rules checked:
- the exit status is the program's, 128+N if a signal N killed it (as a
  shell reports it);
- nothing it started outlives it: when pid 1 of a PID namespace dies the
  kernel kills every other process in the namespace (pid_namespaces(7));
- SIGTERM/SIGHUP sent to it go to the program, SIGINT/SIGQUIT to the
  program's process group, and it then exits as the program did;
- SIGKILL of the outer process or of the supervisor takes the whole tree.

Each test starts `pylinuxabi run` in a session of its own
(start_new_session=True) and kills everything it saw in a finally block.
"""
import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time

import psutil
import pytest

from conftest import REPO_ROOT

pytestmark = pytest.mark.timeout(60)

PYTHON3 = "/usr/bin/python3" if os.access("/usr/bin/python3", os.X_OK) else sys.executable
PROMPT = 5.0            # seconds within which "promptly" must happen


def _default_signals():
    """preexec_fn: start from the default dispositions even if pytest itself was started
    with some ignored (e.g. SIGINT/SIGQUIT in a background job of a script)."""
    for sig in (signal.SIGINT, signal.SIGQUIT, signal.SIGHUP, signal.SIGTERM):
        signal.signal(sig, signal.SIG_DFL)


def _env():
    env = dict(os.environ, LC_ALL="C")
    src = str(REPO_ROOT / "src")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (src, os.environ.get("PYTHONPATH")) if p)
    return env


class Run:
    """A `pylinuxabi run` process and every descendant seen so far."""

    def __init__(self, argv):
        self.stderr = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "pylinuxabi", "run", "--strict", *map(str, argv)],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=self.stderr,
            cwd="/", env=_env(), start_new_session=True, preexec_fn=_default_signals)
        self.outer = psutil.Process(self.proc.pid)
        self.seen = {}

    def collect(self):
        try:
            for child in self.outer.children(recursive=True):
                self.seen.setdefault(child.pid, child)
        except psutil.NoSuchProcess:
            pass
        return list(self.seen.values())

    def supervisor(self):
        """The outer process's forked child (same command line) that has started the
        program, or None. (The outer process forks another before it: the maker of
        sockets outside the sandbox, platform/outside.py.)"""
        try:
            cmdline = self.outer.cmdline()
            for child in self.outer.children():
                with contextlib.suppress(psutil.Error):
                    if child.cmdline() == cmdline and child.children():
                        return child
        except psutil.Error:
            pass
        return None

    def wait_program_started(self, settle=0.5, timeout=30):
        """Wait until the supervisor has a child (the program), then a little more."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, f"exited early: {self.proc.returncode} {self.err()}"
            sup = self.supervisor()
            if sup is not None:
                with contextlib.suppress(psutil.Error):
                    if sup.children():
                        time.sleep(settle)
                        return self.collect()
            time.sleep(0.01)
        pytest.fail("the program did not start")

    def wait(self, timeout=PROMPT):
        return self.proc.wait(timeout)

    def err(self):
        self.stderr.seek(0)
        return self.stderr.read().decode(errors="replace")

    def cleanup(self):
        self.collect()
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        for p in self.seen.values():
            with contextlib.suppress(psutil.Error):
                p.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(10)
        self.stderr.close()


@contextlib.contextmanager
def running(argv):
    run = Run(argv)
    try:
        yield run
    finally:
        run.cleanup()


def alive(procs):
    out = []
    for p in procs:
        with contextlib.suppress(psutil.Error):
            if p.is_running() and p.status() != psutil.STATUS_ZOMBIE:
                out.append(p)
    return out


def wait_all_gone(procs, timeout=PROMPT):
    deadline = time.monotonic() + timeout
    while alive(procs) and time.monotonic() < deadline:
        time.sleep(0.05)
    return alive(procs)


def describe(procs):
    out = []
    for p in procs:
        try:
            out.append(f"{p.pid} {p.name()} {p.status()}")
        except psutil.Error:
            out.append(f"{p.pid} (gone)")
    return out


# --------------------------------------------------------------------------
# (a) the exit status

@pytest.mark.parametrize("code", [0, 1, 3, 255])
def test_exit_status_is_the_programs(code):
    with running(["/bin/sh", "-c", f"exit {code}"]) as run:
        assert run.wait(30) == code, run.err()


def _native_returncode(argv):
    return subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL, timeout=30,
                          preexec_fn=_default_signals).returncode


KILLED_BY = {
    "sh_kill_TERM_self": (["/bin/sh", "-c", "kill -TERM $$"], signal.SIGTERM),
    "sh_kill_KILL_self": (["/bin/sh", "-c", "kill -KILL $$"], signal.SIGKILL),
    "sh_kill_INT_self": (["/bin/sh", "-c", "kill -INT $$"], signal.SIGINT),
    "python_abort": ([PYTHON3, "-c", "import os; os.abort()"], signal.SIGABRT),
    "python_null_deref": ([PYTHON3, "-c", "import ctypes; ctypes.string_at(0)"], signal.SIGSEGV),
}


@pytest.mark.parametrize("argv, sig", KILLED_BY.values(), ids=KILLED_BY.keys())
def test_killed_by_signal_exit_status_is_128_plus_signal(argv, sig):
    assert _native_returncode(argv) == -sig, "the program does not die of this signal natively"
    with running(argv) as run:
        assert run.wait(30) == 128 + sig, run.err()


# --------------------------------------------------------------------------
# (b) nothing outlives `pylinuxabi run`

def test_no_descendant_outlives_a_normal_exit():
    with running(["/bin/sleep", "2"]) as run:
        seen = run.wait_program_started(settle=0.2)
        assert len(seen) >= 2, describe(seen)     # the supervisor and the program
        assert run.wait(30) == 0, run.err()
        assert alive(seen) == [], describe(alive(seen))


def test_orphans_die_with_the_pid_namespace_when_the_program_exits():
    # sh leaves a background sleep behind: pid 1 (the supervisor) exits with
    # the program, and the kernel kills the rest of the namespace
    with running(["/bin/sh", "-c", "/bin/sleep 30 & /bin/sleep 1; exit 4"]) as run:
        run.wait_program_started(settle=0.3)
        deadline = time.monotonic() + 10
        while run.proc.poll() is None and time.monotonic() < deadline:
            run.collect()
            time.sleep(0.05)
        assert run.wait(PROMPT) == 4, run.err()
        seen = list(run.seen.values())
        assert len(seen) >= 4, describe(seen)     # supervisor, sh, both sleeps
        assert alive(seen) == [], describe(alive(seen))


# --------------------------------------------------------------------------
# (c) SIGTERM / SIGINT / SIGHUP / SIGQUIT sent to `pylinuxabi run`

FORWARDED = [signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGQUIT]


@pytest.mark.parametrize("sig", FORWARDED, ids=lambda s: s.name)
def test_forwarded_signal_kills_the_program_and_run_exits_128_plus_signal(sig):
    with running(["/bin/sleep", "30"]) as run:
        seen = run.wait_program_started()
        start = time.monotonic()
        os.kill(run.proc.pid, sig)
        assert run.wait(PROMPT) == 128 + sig, run.err()
        assert time.monotonic() - start < PROMPT
        assert wait_all_gone(seen, timeout=0) == [], describe(alive(seen))


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGQUIT], ids=lambda s: s.name)
def test_interrupt_goes_to_the_programs_process_group(sig):
    # sh waits for its child sleep; a terminal's ^C reaches both, so sh is
    # killed by the signal rather than by the supervisor cleaning up
    with running(["/bin/sh", "-c", "/bin/sleep 30; exit 9"]) as run:
        seen = run.wait_program_started()
        os.kill(run.proc.pid, sig)
        assert run.wait(PROMPT) == 128 + sig, run.err()
        assert wait_all_gone(seen, timeout=0) == [], describe(alive(seen))


def test_sigterm_goes_to_the_program_only():
    # SIGTERM reaches sh (pid 2) alone; sh, blocked in wait4 with SIGTERM
    # caught by a trap, runs the trap once its child ends, as on Linux
    script = "trap 'echo term; exit 7' TERM; /bin/sleep 1; exit 3"
    native = subprocess.Popen(["/bin/sh", "-c", script], stdout=subprocess.DEVNULL,
                              preexec_fn=_default_signals)
    try:
        time.sleep(0.3)
        native.send_signal(signal.SIGTERM)
        assert native.wait(PROMPT) == 7
    finally:
        native.kill()
        native.wait()
    with running(["/bin/sh", "-c", script]) as run:
        run.wait_program_started(settle=0.2)
        os.kill(run.proc.pid, signal.SIGTERM)
        assert run.wait(PROMPT) == 7, run.err()


def test_ignored_sigterm_is_ignored():
    # SIG_IGN survives execve: neither sh nor its sleep dies, the run ends
    # when the script does
    with running(["/bin/sh", "-c", "trap '' TERM; /bin/sleep 1; exit 5"]) as run:
        run.wait_program_started(settle=0.2)
        os.kill(run.proc.pid, signal.SIGTERM)
        assert run.wait(PROMPT) == 5, run.err()


def test_program_killed_from_outside_gives_137():
    with running(["/bin/sleep", "30"]) as run:
        seen = run.wait_program_started()
        program = run.supervisor().children()[0]
        os.kill(program.pid, signal.SIGKILL)
        assert run.wait(PROMPT) == 128 + signal.SIGKILL, run.err()
        assert wait_all_gone(seen, timeout=0) == [], describe(alive(seen))


def test_sigterm_during_startup_is_not_lost():
    with running(["/bin/sleep", "5"]) as run:
        deadline = time.monotonic() + 30
        while run.supervisor() is None:
            assert run.proc.poll() is None, run.err()
            assert time.monotonic() < deadline, "no supervisor"
            time.sleep(0.0005)
        os.kill(run.proc.pid, signal.SIGTERM)
        try:
            status = run.wait(3)
        except subprocess.TimeoutExpired:
            status = "still running 3s after SIGTERM"
        assert status == 128 + signal.SIGTERM, run.err()


# --------------------------------------------------------------------------
# signal dispositions the program inherits (signal(7): a child created by
# fork inherits its parent's dispositions; execve resets handled signals to
# the default and keeps ignored ones ignored)

def _both(argv, ignore=()):
    """(native, sandboxed) returncode and stdout, both started with `ignore` set to SIG_IGN
    (as nohup does for SIGHUP and a non-interactive shell for a background job's SIGINT)."""
    def preexec():
        _default_signals()
        for sig in ignore:
            signal.signal(sig, signal.SIG_IGN)
    out = []
    for cmd in (argv, [sys.executable, "-m", "pylinuxabi", "run", "--strict", *argv]):
        r = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                           cwd="/", env=_env(), preexec_fn=preexec, timeout=30,
                           start_new_session=True)
        out.append((r.returncode if r.returncode >= 0 else 128 - r.returncode, r.stdout))
    return out


def _kill_self(sig):
    return ["/bin/sh", "-c", f"kill -{sig.name[3:]} $$; echo survived"]


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGUSR1, signal.SIGALRM],
                         ids=lambda s: s.name)
def test_default_disposition_reaches_the_program(sig):
    native, sandboxed = _both(_kill_self(sig))
    assert native == (128 + sig, "")
    assert sandboxed == native


@pytest.mark.parametrize("sig", [signal.SIGPIPE, signal.SIGXFSZ], ids=lambda s: s.name)
def test_sigpipe_and_sigxfsz_have_the_default_disposition(sig):
    native, sandboxed = _both(_kill_self(sig))
    assert native == (128 + sig, "")
    assert sandboxed == native


def test_ignored_signal_stays_ignored_in_the_program():
    native, sandboxed = _both(_kill_self(signal.SIGUSR1), ignore=[signal.SIGUSR1])
    assert native == (0, "survived\n")
    assert sandboxed == native


@pytest.mark.parametrize("sig", [signal.SIGHUP, signal.SIGINT, signal.SIGQUIT, signal.SIGTERM],
                         ids=lambda s: s.name)
def test_signal_ignored_by_the_invoker_stays_ignored_in_the_program(sig):
    native, sandboxed = _both(_kill_self(sig), ignore=[sig])
    assert native == (0, "survived\n")
    assert sandboxed == native


# --------------------------------------------------------------------------
# (d, e) SIGKILL of the outer process or of the supervisor

def test_sigkill_of_run_kills_the_whole_tree():
    with running(["/bin/sleep", "30"]) as run:
        seen = run.wait_program_started()
        assert len(seen) >= 2, describe(seen)
        os.kill(run.proc.pid, signal.SIGKILL)
        assert run.wait(PROMPT) == -signal.SIGKILL
        assert wait_all_gone(seen) == [], describe(alive(seen))


def test_sigkill_of_the_supervisor_kills_the_tree_and_run_exits_137():
    # pid 1 of the namespace dies: the kernel SIGKILLs the rest of it; the
    # outer process reports its child's death as a shell would, 128+9
    with running(["/bin/sleep", "30"]) as run:
        seen = run.wait_program_started()
        supervisor = run.supervisor()
        assert supervisor is not None
        os.kill(supervisor.pid, signal.SIGKILL)
        assert run.wait(PROMPT) == 128 + signal.SIGKILL, run.err()
        assert wait_all_gone(seen) == [], describe(alive(seen))
