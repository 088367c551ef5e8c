"""Shared fixtures for the differential program tests.

The C programs in tests/programs/ print what they observe of the kernel
(return values, errno names, stable struct fields).  Each test builds one
with gcc, runs it natively and under ``python -m pylinuxabi run --strict``,
and asserts that stdout and the exit status are identical.

Builds are cached in tests/.build/ and redone when the source, common.h or
this file (which holds the compiler flags) is newer than the binary.
"""
import difflib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import NamedTuple

import pytest

TESTS_DIR = Path(__file__).resolve().parent
REPO_ROOT = TESTS_DIR.parent
PROGRAMS_DIR = TESTS_DIR / "programs"
BUILD_DIR = TESTS_DIR / ".build"

CC = os.environ.get("CC", "gcc")
CFLAGS = ["-O1", "-Wall"]
# variant name -> (extra flags, suffix of the binary in tests/.build/)
VARIANTS = {
    "dynamic": ([], ""),
    "static": (["-static"], ".static"),
    "static-pie": (["-static-pie"], ".spie"),
}

NATIVE_TIMEOUT = float(os.environ.get("PYLINUXABI_TEST_NATIVE_TIMEOUT", "30"))
SANDBOX_TIMEOUT = float(os.environ.get("PYLINUXABI_TEST_TIMEOUT", "90"))


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "slow: long-running test (many syscalls under the supervisor)")


# --------------------------------------------------------------------------
# building

class BuildError(Exception):
    pass


def _needs_rebuild(out: Path, deps) -> bool:
    if not out.exists():
        return True
    built = out.stat().st_mtime
    return any(dep.stat().st_mtime > built for dep in deps)


_reachable_dir = None


def reachable(binary: Path) -> Path:
    """A copy of binary that any user can reach, for runs as another user: a
    checkout under a directory only root may search (mktemp -d) is no path a
    sandboxed --user program may walk, whatever a native run is let through."""
    global _reachable_dir
    if _reachable_dir is None:
        _reachable_dir = Path(tempfile.mkdtemp(prefix="pylinuxabi-bin-"))
        os.chmod(_reachable_dir, 0o755)
        import atexit
        atexit.register(shutil.rmtree, _reachable_dir, True)
    copy = _reachable_dir / binary.name
    if not copy.exists() or copy.stat().st_mtime < binary.stat().st_mtime:
        tmp = _reachable_dir / f".{binary.name}.tmp"
        shutil.copy2(binary, tmp)
        os.chmod(tmp, 0o755)
        os.replace(tmp, copy)
    return copy


def build_program(name: str, variant: str = "dynamic") -> Path:
    """Compile tests/programs/NAME.c (cached) and return the binary's path."""
    flags, suffix = VARIANTS[variant]
    src = PROGRAMS_DIR / f"{name}.c"
    if not src.exists():
        raise BuildError(f"no such program: {src}")
    out = BUILD_DIR / f"{name}{suffix}"
    deps = [src, *PROGRAMS_DIR.glob("*.h"), Path(__file__)]
    if not _needs_rebuild(out, deps):
        return out
    BUILD_DIR.mkdir(exist_ok=True)
    # build next to the target and rename: safe with parallel test workers
    fd, tmp = tempfile.mkstemp(prefix=f".{name}{suffix}.", dir=BUILD_DIR)
    os.close(fd)
    try:
        cmd = [CC, *CFLAGS, *flags, "-o", tmp, str(src)]
        proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True,
                              text=True, timeout=120)
        if proc.returncode != 0:
            raise BuildError(f"{' '.join(cmd)} failed:\n{proc.stderr}")
        os.chmod(tmp, 0o755)
        os.replace(tmp, out)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return out


@pytest.fixture(scope="session")
def build():
    """build(name, variant="dynamic") -> Path of the compiled program.

    Skips the test if no compiler is available or if the C library lacks
    what a static / static-pie link needs; fails it on any other compiler
    error."""
    if shutil.which(CC) is None:
        pytest.skip(f"C compiler {CC!r} not found")

    def _build(name, variant="dynamic"):
        try:
            return build_program(name, variant)
        except BuildError as e:
            msg = str(e)
            if variant != "dynamic" and ("cannot find" in msg or "rcrt1.o" in msg):
                pytest.skip(f"{variant} linking unavailable: {msg.splitlines()[-1]}")
            pytest.fail(msg, pytrace=False)

    return _build


# --------------------------------------------------------------------------
# running

class Result(NamedTuple):
    returncode: int
    stdout: str
    stderr: str


def _env(extra=None):
    env = dict(os.environ)
    env["LC_ALL"] = "C"
    if extra:
        env.update(extra)
    return env


def _run(cmd, timeout, env) -> Result:
    # own process group, so that a timeout can take down whatever the
    # command started in it as well
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, cwd="/", env=env,
                            start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
        timed_out = False
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        out, err = proc.communicate()
        timed_out = True
    out = out.decode("utf-8", "backslashreplace")
    err = err.decode("utf-8", "backslashreplace")
    if timed_out:
        pytest.fail(f"timed out after {timeout}s: {' '.join(map(str, cmd))}\n"
                    f"--- stdout so far ---\n{out[-3000:]}\n"
                    f"--- stderr so far ---\n{err[-3000:]}", pytrace=False)
    return Result(proc.returncode, out, err)


def run_native(argv, timeout=NATIVE_TIMEOUT) -> Result:
    """Run argv directly; returns (returncode, stdout, stderr)."""
    return _run([str(a) for a in argv], timeout, _env())


# `python -m pylinuxabi` from this checkout's src/, found without PYTHONPATH: with
# --env-host the program gets the harness's environment, and a PYTHONPATH naming a
# checkout a user cannot reach (under mktemp -d) would break Pythons run as a user
_SUPERVISOR = ("import runpy, sys; sys.path.insert(0, sys.argv.pop(1)); "
               "runpy.run_module('pylinuxabi', run_name='__main__')")


def sandbox_command(argv):
    # --env-host: the program sees the environment the native run sees (LC_ALL, PATH…)
    return [sys.executable, "-c", _SUPERVISOR, str(REPO_ROOT / "src"), "run", "--strict", "--env-host",
            *map(str, argv)]


def run_sandboxed(argv, timeout=SANDBOX_TIMEOUT) -> Result:
    """Run argv under `pylinuxabi run --strict` of this checkout."""
    return _run(sandbox_command(argv), timeout, _env())


def _status(rc):
    return f"killed by signal {-rc}" if rc < 0 else f"exit status {rc}"


def assert_same_behaviour(argv, native: Result, sandboxed: Result):
    """Fail with a readable report unless stdout and exit status match."""
    if native.stdout == sandboxed.stdout and native.returncode == sandboxed.returncode:
        return
    lines = [f"sandboxed run of {' '.join(map(str, argv))} differs from native"]
    if native.returncode != sandboxed.returncode:
        lines.append(f"  native:    {_status(native.returncode)}")
        lines.append(f"  sandboxed: {_status(sandboxed.returncode)}")
    if native.stdout != sandboxed.stdout:
        diff = difflib.unified_diff(
            native.stdout.splitlines(), sandboxed.stdout.splitlines(),
            "native", "sandboxed", lineterm="", n=2)
        diff = list(diff)
        if len(diff) > 200:
            diff = diff[:200] + [f"... ({len(diff) - 200} more diff lines)"]
        lines.append("--- stdout diff ---")
        lines.extend(diff)
    if sandboxed.stderr.strip():
        lines.append("--- sandboxed stderr (last 3000 chars) ---")
        lines.append(sandboxed.stderr[-3000:])
    pytest.fail("\n".join(lines), pytrace=False)


# The helpers as fixtures too, so tests need not import conftest.
@pytest.fixture(name="run_native", scope="session")
def _run_native_fixture():
    return run_native


@pytest.fixture(name="run_sandboxed", scope="session")
def _run_sandboxed_fixture():
    return run_sandboxed


@pytest.fixture(name="assert_same_behaviour", scope="session")
def _assert_same_behaviour_fixture():
    return assert_same_behaviour
