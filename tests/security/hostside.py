"""The security suite's tools: attack programs built, and sandboxes seen from the host.

Builds tests/security/*.c into tests/.build/ and runs them under `pylinuxabi run
--strict`; every verdict is read on the host (files, /proc, psutil), never from the program.
"""
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import NamedTuple

import psutil
import pytest
from conftest import reachable

SECURITY_DIR = Path(__file__).resolve().parent
REPO_ROOT = SECURITY_DIR.parent.parent
BUILD_DIR = SECURITY_DIR.parent / ".build"
CC = os.environ.get("CC", "gcc")
CFLAGS = ["-O1", "-Wall", "-Wno-unused-function", "-pthread"]
# PYLINUXABI_SECURITY_SRC=DIR runs the attacks against another tree's src/
# (e.g. an export of the last commit with its native core built in place).


# --------------------------------------------------------------------------
# building

def build_attack(name: str, static: bool = False) -> Path:
    """Compile tests/security/NAME.c (cached in tests/.build/security-NAME)."""
    src = SECURITY_DIR / f"{name}.c"
    out = BUILD_DIR / (f"security-{name}" + (".static" if static else ""))
    deps = [src, *SECURITY_DIR.glob("*.h"), Path(__file__)]
    if out.exists() and all(d.stat().st_mtime <= out.stat().st_mtime for d in deps):
        return reachable(out)      # (some attacks run as --user)
    BUILD_DIR.mkdir(exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", dir=BUILD_DIR)
    os.close(fd)
    try:
        cmd = [CC, *CFLAGS, *(["-static"] if static else []), "-o", tmp, str(src)]
        proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120)
        if proc.returncode != 0:
            pytest.fail(f"{' '.join(cmd)} failed:\n{proc.stderr}", pytrace=False)
        os.chmod(tmp, 0o755)
        os.replace(tmp, out)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return reachable(out)



# --------------------------------------------------------------------------



# --------------------------------------------------------------------------
# running, and looking at the sandbox from the host

def _namespace_pids(pid):
    """The NSpid line of a host process: its pid in each PID namespace, outermost first."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("NSpid:"):
                    return line.split()[1:]
    except OSError:
        pass
    return []


class Result(NamedTuple):
    returncode: int
    stdout: str
    stderr: str


def sandbox_command(argv, options=()):
    return [sys.executable, "-m", "pylinuxabi", "run", "--strict", *options, *map(str, argv)]


class Sandbox:
    """One `pylinuxabi run` on the host: its supervisor and program as host processes."""

    def __init__(self, argv, options=(), env=None, stdin=subprocess.PIPE):
        src = os.environ.get("PYLINUXABI_SECURITY_SRC", str(REPO_ROOT / "src"))
        full_env = dict(os.environ, LC_ALL="C")
        full_env["PYTHONPATH"] = os.pathsep.join(p for p in (src, os.environ.get("PYTHONPATH")) if p)
        if env:
            full_env.update(env)
        self.cmd = sandbox_command(argv, options)
        self.proc = subprocess.Popen(self.cmd, stdin=stdin, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, cwd="/", env=full_env,
                                     start_new_session=True)
        self._supervisor = None

    # -- the host's processes
    def supervisor(self, timeout=30):
        """The supervisor: the one child of `pylinuxabi run` (pid 1 of the sandbox)."""
        deadline = time.monotonic() + timeout
        while self._supervisor is None:
            try:
                kids = psutil.Process(self.proc.pid).children()
            except psutil.NoSuchProcess:
                kids = []
            # pid 1 of its own namespace: not a passing child such as the ldconfig that
            # ctypes' find_library runs while `pylinuxabi run` starts up
            inits = [k for k in kids if _namespace_pids(k.pid)[1:] == ["1"]]
            if inits:
                self._supervisor = inits[0]
            elif self.proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"no supervisor process under pid {self.proc.pid}")
            else:
                time.sleep(0.01)
        return self._supervisor

    def program_processes(self):
        """Every host process below the supervisor (the program's processes)."""
        try:
            return self.supervisor().children(recursive=True)
        except psutil.NoSuchProcess:
            return []

    def program_threads(self):
        """Host tids of every thread of every program process."""
        tids = []
        for p in self.program_processes():
            try:
                tids.extend(t.id for t in p.threads())
            except psutil.NoSuchProcess:
                pass
        return tids

    def readline(self, timeout=60):
        """The program's next stdout line (its 'ready' handshake), or fail."""
        import select
        deadline = time.monotonic() + timeout
        line = b""
        while not line.endswith(b"\n"):
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.proc.stdout], [], [], left)[0]:
                self.kill()
                self.proc.stdin = None
                out, err = self.proc.communicate()
                pytest.fail(f"no line from the program within {timeout}s; got {line!r}\n"
                            f"--- stderr ---\n{err[-3000:].decode(errors='replace')}", pytrace=False)
            c = os.read(self.proc.stdout.fileno(), 1)
            if not c:
                break
            line += c
        return line.decode(errors="replace")

    def send(self, data=b"\n"):
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def finish(self, timeout=60) -> Result:
        """Close its stdin and wait for it (killing its session on timeout)."""
        if self.proc.stdin:
            try:
                self.proc.stdin.close()
            except OSError:
                pass
            self.proc.stdin = None
        try:
            out, err = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            out, err = self.proc.communicate()
            pytest.fail(f"timed out after {timeout}s: {' '.join(self.cmd)}\n"
                        f"--- stdout ---\n{out[-3000:].decode(errors='replace')}\n"
                        f"--- stderr ---\n{err[-3000:].decode(errors='replace')}", pytrace=False)
        return Result(self.proc.returncode, out.decode(errors="backslashreplace"),
                      err.decode(errors="backslashreplace"))

    def kill(self):
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass



def run_attack(argv, options=(), env=None, timeout=90) -> Result:
    """Run an attack to its end with stdin closed; returns (returncode, stdout, stderr)."""
    s = Sandbox(argv, options, env, stdin=subprocess.DEVNULL)
    try:
        return s.finish(timeout)
    finally:
        if s.proc.poll() is None:
            s.kill()


def describe(result: Result) -> str:
    return (f"exit status {result.returncode}\n--- stdout ---\n{result.stdout[-3000:]}\n"
            f"--- stderr ---\n{result.stderr[-3000:]}")


def supervisor_survived(result: Result) -> bool:
    """pylinuxabi exits 125/126 and prints a traceback when the supervisor itself fails."""
    return "Traceback (most recent call last)" not in result.stderr
