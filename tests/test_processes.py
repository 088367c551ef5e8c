"""Processes, threads and signals with real programs, and what `pylinuxabi run`
leaves behind.

(a) Real programs must print the same stdout and exit with the same status
    under `pylinuxabi run --strict` as natively: a bash pipeline, busybox sh
    and dash scripts with traps, background jobs and `wait`, `make -j2` of a
    small C project with gcc, and python3 with subprocess, threading and
    multiprocessing (fork, spawn and forkserver start methods). The C
    programs of this area (proc_*.c) are in test_programs.py.

(b) `pylinuxabi run` never leaves a process behind, whatever the program
    does: double-forked and setsid daemons that ignore SIGHUP/SIGTERM,
    stopped children, children parked in waits the supervisor emulates, a
    parent stuck in vfork for a child stopped before its exec, busy forking
    children, a program killed while it has children. Every process
    of a sandbox lives in the PID namespace whose pid 1 is the supervisor
    (docs/DESIGN.md §1), so that namespace is what is checked: the
    supervisor carries a unique marker in its environment (the programs'
    own environments are built by our loader and not visible to the host's
    /proc), its namespace is pinned by an open fd (so its inode number cannot
    be reused), and after `pylinuxabi run` returns no process may be left in
    it. The program says "ready" once it has made its mess, and waits for a
    line on stdin, so that the mess is seen before it exits.
    (tests/test_lifecycle.py covers exit statuses, signal forwarding and a
    plain background child.)
"""
import contextlib
import os
import select
import shutil
import signal
import subprocess
import sys
import textwrap
import time
import uuid

import psutil
import pytest

from conftest import REPO_ROOT

pytestmark = pytest.mark.timeout(120)

PYTHON3 = "/usr/bin/python3" if os.access("/usr/bin/python3", os.X_OK) else sys.executable
BUSYBOX = shutil.which("busybox")
needs_busybox = pytest.mark.skipif(
    BUSYBOX is None, reason="busybox not installed (scripts/test installs busybox-static)")
MAKE = shutil.which("make")
needs_make = pytest.mark.skipif(
    MAKE is None or shutil.which("gcc") is None,
    reason="make and gcc not installed (scripts/test installs them)")


def same_stdout_and_status(argv, run_native, run_sandboxed, assert_same_behaviour):
    native = run_native(argv)
    sandboxed = run_sandboxed(argv)
    assert_same_behaviour(argv, native, sandboxed)
    return native


# --------------------------------------------------------------------------
# (a) shells

def test_bash_pipeline_of_a_loop_sort_and_head(run_native, run_sandboxed, assert_same_behaviour):
    native = same_stdout_and_status(
        ["/bin/bash", "-c", "for i in 1 2 3; do echo $i; done | sort -r | head -2"],
        run_native, run_sandboxed, assert_same_behaviour)
    assert native.stdout == "3\n2\n"


def test_bash_pipeline_status_and_pipefail(run_native, run_sandboxed, assert_same_behaviour):
    # $? is the last command's; PIPESTATUS every one's; a writer into a pipe
    # that head closed dies of SIGPIPE (141)
    script = ("false | true; echo $?; true | false; echo $?; "
              "set -o pipefail; false | true; echo $?; "
              "yes | head -1; echo ${PIPESTATUS[@]}")
    native = same_stdout_and_status(["/bin/bash", "-c", script],
                                    run_native, run_sandboxed, assert_same_behaviour)
    assert native.stdout == "0\n1\n1\ny\n141 0\n"


# trap on EXIT/INT/USR1 sent by kill, background jobs, wait $! and its status,
# 128+N for a job killed by signal N, a trap in a subshell job; only stdout is
# compared (shells print "Killed" with a pid on stderr)
SHELL_SCRIPT = textwrap.dedent("""\
    trap 'echo "exit trap, status $?"' EXIT
    trap 'echo got USR1' USR1
    trap 'echo got INT' INT
    kill -USR1 $$
    kill -INT $$
    echo after the kills
    sleep 0.2 &
    wait $!; echo "wait for sleep: $?"
    (exit 3) & wait $!; echo "wait for a subshell: $?"
    sh -c 'kill -TERM $$' & wait $!; echo "job killed by TERM: $?"
    sh -c 'kill -KILL $$'; echo "command killed by KILL: $?"
    false & wait $!; echo "wait for false: $?"
    false & true & wait; echo "wait for all: $?"
    for i in 3 6 9; do (sleep 0.$i; echo job $((i / 3))) & done; wait
    echo jobs done
    ( trap 'echo subshell got USR1; exit 5' USR1; while :; do sleep 0.05; done ) &
    sub=$!
    sleep 0.3
    kill -USR1 $sub
    wait $sub; echo "subshell: $?"
    echo a b c | while read x y z; do echo "$z $y $x"; done
    exit 4
""")
SHELL_EXPECTED = textwrap.dedent("""\
    got USR1
    got INT
    after the kills
    wait for sleep: 0
    wait for a subshell: 3
    job killed by TERM: 143
    command killed by KILL: 137
    wait for false: 1
    wait for all: 0
    job 1
    job 2
    job 3
    jobs done
    subshell got USR1
    subshell: 5
    c b a
    exit trap, status 4
""")


@pytest.mark.parametrize("shell", [
    pytest.param([BUSYBOX, "sh"], id="busybox_sh", marks=needs_busybox),
    pytest.param(["/bin/dash"], id="dash",
                 marks=pytest.mark.skipif(not os.path.exists("/bin/dash"), reason="no dash")),
    pytest.param(["/bin/bash"], id="bash"),
])
def test_shell_traps_jobs_and_wait(shell, tmp_path, run_native, run_sandboxed, assert_same_behaviour):
    script = tmp_path / "jobs.sh"
    script.write_text(SHELL_SCRIPT)
    native = same_stdout_and_status([*shell, script], run_native, run_sandboxed, assert_same_behaviour)
    assert (native.returncode, native.stdout) == (4, SHELL_EXPECTED)


@needs_busybox
def test_busybox_sh_trap_on_TERM_while_waiting_for_a_job(run_native, run_sandboxed, assert_same_behaviour):
    # the trap runs once the wait builtin is interrupted; the job lives on
    script = ("trap 'echo got TERM' TERM; sleep 0.5 & pid=$!; "
              "(sleep 0.1; kill -TERM $$) & wait $pid; echo \"wait: $?\"; wait $pid; echo \"again: $?\"")
    native = same_stdout_and_status([BUSYBOX, "sh", "-c", script],
                                    run_native, run_sandboxed, assert_same_behaviour)
    assert native.stdout == "got TERM\nwait: 143\nagain: 0\n"


# --------------------------------------------------------------------------
# (a) make -j2 of a small C project

MAKEFILE = textwrap.dedent("""\
    prog: main.o twice.o plus.o
    \t$(CC) -o $@ main.o twice.o plus.o
    %.o: %.c common.h
    \t$(CC) -c -O1 -o $@ $<
""")
SOURCES = {
    "common.h": "int twice(int);\nint plus(int, int);\n",
    "main.c": '#include <stdio.h>\n#include "common.h"\n'
              'int main(void) { printf("%d %d\\n", twice(21), plus(40, 2)); return 0; }\n',
    "twice.c": '#include "common.h"\nint twice(int x) { return 2 * x; }\n',
    "plus.c": '#include "common.h"\nint plus(int a, int b) { return a + b; }\n',
}


def _project(root, broken=False):
    root.mkdir()
    (root / "Makefile").write_text(MAKEFILE)
    for name, text in SOURCES.items():
        (root / name).write_text(text)
    if broken:
        (root / "plus.c").write_text("int plus(int a, int b) { return a + ; }\n")
    return root


@needs_make
@pytest.mark.parametrize("broken", [False, True], ids=["builds", "compile_error"])
def test_make_j2_builds_a_three_file_project(broken, tmp_path, run_native, run_sandboxed):
    # make -j2 waits for its jobs in pselect with SIGCHLD let in by the call's
    # signal mask only; the sandbox's writes stay in its overlay, so each run
    # builds in a project directory of its own
    results = {}
    for name, run in (("native", run_native), ("sandboxed", run_sandboxed)):
        project = _project(tmp_path / name, broken)
        script = f"cd {project} && make -s -j2; status=$?; echo \"make: $status\"; " \
                 f"[ $status = 0 ] && ./prog"
        results[name] = run(["/bin/sh", "-c", script], timeout=60)
    native, sandboxed = results["native"], results["sandboxed"]
    assert (native.returncode, native.stdout) == ((1, "make: 2\n") if broken else (0, "make: 0\n42 42\n"))
    assert (sandboxed.returncode, sandboxed.stdout) == (native.returncode, native.stdout), sandboxed.stderr


# --------------------------------------------------------------------------
# (a) python3: subprocess, threading, multiprocessing

PY_SUBPROCESS = textwrap.dedent("""\
    import signal, subprocess
    r = subprocess.run(["/bin/sh", "-c", "echo out; echo err >&2; exit 3"], capture_output=True, text=True)
    print(repr(r.stdout), repr(r.stderr), r.returncode)
    p = subprocess.Popen(["cat"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    out, _ = p.communicate(b"x" * 200000)
    print(len(out), p.returncode)
    p = subprocess.Popen(["sleep", "10"])
    p.send_signal(signal.SIGTERM)
    print("sleep:", p.wait())
    print(subprocess.check_output("echo $((6*7))", shell=True, text=True), end="")
    try:
        subprocess.run(["sleep", "5"], timeout=0.3)
    except subprocess.TimeoutExpired:
        print("timeout expired")
""")

PY_THREADING = textwrap.dedent("""\
    import os, queue, threading
    lock = threading.Lock()
    total = [0]
    def work(n):
        for _ in range(n):
            with lock:
                total[0] += 1
    ts = [threading.Thread(target=work, args=(5000,)) for _ in range(8)]
    [t.start() for t in ts]
    [t.join() for t in ts]
    print("counter", total[0])
    q = queue.Queue(maxsize=4)
    def produce():
        for i in range(1000):
            q.put(i)
        q.put(None)
    threading.Thread(target=produce).start()
    s = 0
    while (v := q.get()) is not None:
        s += v
    print("queue", s)
    r, w = os.pipe()
    got = []
    t = threading.Thread(target=lambda: got.append(os.read(r, 10)))
    t.start()
    ev = threading.Event()
    ev.wait(0.1)
    os.write(w, b"hi")
    t.join()
    print("pipe", got)
""")

PY_MULTIPROCESSING = textwrap.dedent("""\
    import multiprocessing as mp, sys
    def square(x):
        return x * x
    def produce(q, n):
        for i in range(n):
            q.put(i)
        q.put(None)
    if __name__ == "__main__":
        ctx = mp.get_context(sys.argv[1])
        with ctx.Pool(2) as pool:
            print("pool", sum(pool.map(square, range(100))))
        q = ctx.Queue()
        p = ctx.Process(target=produce, args=(q, 50))
        p.start()
        total = 0
        while (v := q.get()) is not None:
            total += v
        p.join()
        print("queue", total, "exit", p.exitcode)
""")


@pytest.mark.parametrize("code, expected", [
    (PY_SUBPROCESS, "'out\\n' 'err\\n' 3\n200000 0\nsleep: -15\n42\ntimeout expired\n"),
    (PY_THREADING, "counter 40000\nqueue 499500\npipe [b'hi']\n"),
], ids=["subprocess", "threading"])
def test_python3_subprocess_and_threading(code, expected, run_native, run_sandboxed, assert_same_behaviour):
    native = same_stdout_and_status([PYTHON3, "-c", code], run_native, run_sandboxed, assert_same_behaviour)
    assert native.stdout == expected


@pytest.mark.parametrize("method", ["fork", "spawn", "forkserver"])
def test_python3_multiprocessing(method, tmp_path, run_native, run_sandboxed, assert_same_behaviour):
    script = tmp_path / "mp.py"
    script.write_text(PY_MULTIPROCESSING)
    native = same_stdout_and_status([PYTHON3, script, method],
                                    run_native, run_sandboxed, assert_same_behaviour)
    assert native.stdout == "pool 328350\nqueue 1225 exit 0\n"


# --------------------------------------------------------------------------
# (b) nothing is left behind

MARKER = "PYLINUXABI_TEST_MARKER"


def _env(marker):
    env = dict(os.environ, LC_ALL="C")
    src = str(REPO_ROOT / "src")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (src, os.environ.get("PYTHONPATH")) if p)
    env[MARKER] = marker
    return env


def _default_signals():
    for sig in (signal.SIGINT, signal.SIGQUIT, signal.SIGHUP, signal.SIGTERM, signal.SIGPIPE):
        signal.signal(sig, signal.SIG_DFL)


def _pid_ns(pid):
    try:
        return os.stat(f"/proc/{pid}/ns/pid").st_ino
    except OSError:
        return None


def _marked(marker):
    """Processes whose environment carries the marker (the outer process and the supervisor)."""
    out = []
    for p in psutil.process_iter():
        with contextlib.suppress(psutil.Error, OSError):
            if p.environ().get(MARKER) == marker:
                out.append(p)
    return out


class Sandbox:
    """One `pylinuxabi run`, its PID namespace (pinned by an fd) and the processes in it."""

    def __init__(self, argv):
        self.marker = uuid.uuid4().hex
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "pylinuxabi", "run", "--strict", *map(str, argv)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd="/",
            env=_env(self.marker), start_new_session=True, preexec_fn=_default_signals)
        self.ns = None
        self.ns_fd = None

    def find_namespace(self, timeout=30):
        """The supervisor's PID namespace, pinned: it is marked and not in ours."""
        ours = _pid_ns(os.getpid())
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.proc.poll() is None:
            for p in _marked(self.marker):
                ns = _pid_ns(p.pid)
                if ns is not None and ns != ours:
                    with contextlib.suppress(OSError):
                        self.ns_fd = os.open(f"/proc/{p.pid}/ns/pid", os.O_RDONLY)
                        if os.fstat(self.ns_fd).st_ino == ns:
                            self.ns = ns
                            return ns
                        os.close(self.ns_fd)
            time.sleep(0.01)
        pytest.fail(f"no supervisor seen (run exited: {self.proc.poll()})")

    def members(self):
        """Live processes in the sandbox's PID namespace (zombies are gone with their reaper)."""
        out = []
        for p in psutil.process_iter():
            with contextlib.suppress(psutil.Error):
                if _pid_ns(p.pid) == self.ns and p.status() != psutil.STATUS_ZOMBIE:
                    out.append(p)
        return out

    def wait_ready(self, timeout=30):
        """Wait for the program's "ready" line."""
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        assert ready, f"no 'ready' from the program in {timeout}s"
        line = self.proc.stdout.readline()
        assert line == b"ready\n", (line, self.proc.poll(), self.stderr())

    def stderr(self):
        if self.proc.poll() is None:
            return ""
        return self.proc.stderr.read().decode(errors="replace")

    def cleanup(self):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        if self.ns is not None:
            for p in self.members():
                with contextlib.suppress(psutil.Error):
                    p.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(10)
        for f in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            with contextlib.suppress(OSError):
                f.close()
        if self.ns_fd is not None:
            os.close(self.ns_fd)


def _describe(procs):
    out = []
    for p in procs:
        try:
            out.append(f"{p.pid} {p.name()} {p.status()}")
        except psutil.Error:
            out.append(f"{p.pid} (gone)")
    return out


def _wait_empty(sandbox, timeout=5.0):
    deadline = time.monotonic() + timeout
    while True:
        left = sandbox.members() + [p for p in _marked(sandbox.marker) if p.is_running()
                                    and p.status() != psutil.STATUS_ZOMBIE]
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.05)


# Each program: (argv, processes in the namespace once it is ready (the
# supervisor included), its exit status). A program reads one line of stdin
# before it exits.
LEFTOVERS = {
    "double_fork_daemon_ignoring_HUP_TERM_INT": (
        ["/bin/sh", "-c", "(sh -c 'trap \"\" HUP TERM INT; exec sleep 60' &); "
                          "echo ready; read x; exit 3"], 3, 3),
    "setsid_daemon_ignoring_HUP_TERM": (
        ["/bin/sh", "-c", "setsid -f sh -c 'trap \"\" HUP TERM; exec sleep 60'; "
                          "echo ready; read x; exit 4"], 3, 4),
    "SIGSTOPped_and_SIGTSTPped_children": (
        ["/bin/sh", "-c", "sleep 60 & kill -STOP $!; sleep 60 & kill -TSTP $!; "
                          "echo ready; read x; exit 5"], 4, 5),
    "children_parked_in_pipe_reads_and_a_FIFO_open": (
        ["/bin/sh", "-c", "mkfifo /tmp/fifo; cat /tmp/fifo & sleep 60 | cat & "
                          "echo ready; read x; exit 6"], 5, 6),
    "stopped_child_parked_in_a_pipe_read": (
        ["/bin/sh", "-c", "sleep 60 | cat & kill -STOP $!; echo ready; read x; exit 7"], 4, 7),
    "children_busy_forking_and_spinning": (
        ["/bin/sh", "-c", "(while :; do /bin/true; done) & (while :; do :; done) & "
                          "echo ready; read x; exit 8"], 4, 8),
    "program_killed_with_a_child_ignoring_TERM": (
        ["/bin/sh", "-c", "(trap '' TERM; exec sleep 60) & echo ready; read x; kill -KILL $$"],
        3, 128 + signal.SIGKILL),
    "python_threads_parked_and_a_setsid_child_blocked_in_read": (
        [PYTHON3, "-c", textwrap.dedent("""\
            import os, signal, sys, threading
            r, w = os.pipe()
            for _ in range(3):
                threading.Thread(target=os.read, args=(r, 1), daemon=True).start()
            if os.fork() == 0:
                os.setsid()
                signal.signal(signal.SIGTERM, signal.SIG_IGN)
                signal.signal(signal.SIGHUP, signal.SIG_IGN)
                os.read(r, 1)
                os._exit(0)
            print("ready", flush=True)
            sys.stdin.readline()
            os._exit(9)
            """)], 3, 9),
}


@pytest.mark.timeout(60)
@pytest.mark.parametrize("argv, count, status", LEFTOVERS.values(), ids=LEFTOVERS.keys())
def test_run_leaves_no_process_behind(argv, count, status):
    check_nothing_left(argv, count, status)


@pytest.mark.timeout(60)
def test_run_leaves_no_process_behind_a_vfork_parent_waiting_for_a_stopped_child(build):
    # the parent waits in the kernel (state D) for a child that was stopped
    # before it could exec
    check_nothing_left([build("proc_vfork_exec"), "stuck-in-vfork"], 4, 10)


def check_nothing_left(argv, count, status):
    sandbox = Sandbox(argv)
    try:
        sandbox.find_namespace()
        sandbox.wait_ready()
        seen = sandbox.members()
        assert len(seen) >= count, _describe(seen)     # the mess was made
        sandbox.proc.stdin.write(b"go\n")
        sandbox.proc.stdin.close()
        assert sandbox.proc.wait(30) == status, sandbox.stderr()
        left = _wait_empty(sandbox)
        assert left == [], _describe(left)
    finally:
        sandbox.cleanup()
