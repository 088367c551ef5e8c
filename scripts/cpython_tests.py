#!/usr/bin/env python3
"""Runs CPython's own test modules natively and under pylinuxabi and
compares them test by test.

    scripts/cpython_tests.py [--out DIR] [--timeout S] [--use RESOURCES] [--ignore PATTERN] [MODULE...]

Each module runs as `python3 -m test -v MODULE` in a fresh temporary working
directory, once natively and once as `pylinuxabi run --env-host`, both as the
caller (root in CI). The verbose lines (`test_x (mod.Class.test_x) ... ok`)
give every test's outcome; the report lists the counts per module and every
test whose outcome differs. Logs are kept in DIR (default
/tmp/cpython-tests) for reading the differences.
"""

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time

MODULES = ("test_os test_posix test_io test_fileio test_file test_fcntl "
           "test_resource test_mmap test_shutil test_tempfile test_pathlib "
           "test_stat test_subprocess test_signal test_threading test_selectors "
           "test_epoll test_poll test_select").split()
# by hand (named on the command line): test_socket (with --ignore '*VSOCK*'), and test_asyncio,
# which matched native test by test in four runs here but differed once in a fresh clone's CI
# run, cause not yet known

# regrtest's --timeout: a test running longer dumps every thread's stack and ends the
# run (it says which test hung and where); no test here takes a tenth of it
TEST_TIMEOUT = 300

# "test_name (module.Class.test_name) ... ok"; a test that prints gets its
# verdict on a later line.
_VERDICTS = ("ok", "FAIL", "ERROR", "skipped", "expected failure",
             "unexpected success")


def outcomes(log):
    """{test id: verdict} from a verbose regrtest log."""
    result = {}
    pending = None
    for line in log.splitlines():
        m = re.match(r"^(\w+) \(([\w.]+)\)", line)
        if m:
            pending = m.group(2)
            line = line[m.end():]
            line = line.split(" ... ", 1)[1] if " ... " in line else ""
        if pending is None:
            continue
        for verdict in _VERDICTS:
            if line.startswith(verdict):
                result[pending] = verdict.split()[0]
                pending = None
                break
    return result


def run(module, under, timeout, outdir, use=None, ignore=()):
    name = ("sandbox" if under else "native") + "-" + module
    cmd = [sys.executable, "-m", "test", "-v", f"--timeout={TEST_TIMEOUT}", *(["-u", use] if use else []),
           *[arg for pattern in ignore for arg in ("-i", pattern)], module]
    if under:
        cmd = ["pylinuxabi", "run", "--env-host"] + cmd
    with tempfile.TemporaryDirectory() as cwd:
        start = time.monotonic()
        try:
            proc = subprocess.run(cmd, cwd=cwd, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT,
                                  stdin=subprocess.DEVNULL, timeout=timeout)
            log, status = proc.stdout.decode(errors="replace"), proc.returncode
        except subprocess.TimeoutExpired as e:
            log = (e.stdout or b"").decode(errors="replace")
            status = "timeout"
        took = time.monotonic() - start
    with open(os.path.join(outdir, name + ".log"), "w") as f:
        f.write(log)
    return outcomes(log), status, took


def excerpt(path, limit=8000):
    """What tells why a run went wrong: the log's tracebacks and the supervisor's own
    lines (regrtest's --timeout dumps every thread's stack of a test that hangs), then
    its end; at most limit characters."""
    with open(path, errors="replace") as f:
        lines = f.read().splitlines()
    keep, inside = [], False
    for line in lines:
        if line.startswith(("Traceback", "Thread 0x", "Current thread", "pylinuxabi")):
            inside = True
        elif inside and not line.startswith((" ", "\t")):
            keep.append(line)
            inside = False
        if inside:
            keep.append(line)
    text = "\n".join(keep[-150:] + ["--- the log's end:"] + lines[-40:])
    return text[-limit:]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="/tmp/cpython-tests")
    ap.add_argument("--timeout", type=float, default=1800)
    ap.add_argument("--use", metavar="RESOURCES", help="regrtest's -u (network: the tests that need it)")
    ap.add_argument("--ignore", metavar="PATTERN", action="append", default=[],
                    help="regrtest's -i: leave out the tests matching (test_socket's VSOCK tests wait for "
                         "ever in a VM with vsock natively)")
    ap.add_argument("modules", nargs="*", default=MODULES)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    differ = 0
    for module in args.modules:
        native, nstatus, ntime = run(module, False, args.timeout, args.out, args.use, args.ignore)
        sandbox, sstatus, stime = run(module, True, args.timeout, args.out, args.use, args.ignore)
        count = lambda r, v: sum(1 for x in r.values() if x == v)
        print(f"{module}: native {len(native)} tests "
              f"({count(native, 'ok')} ok, {count(native, 'skipped')} skipped,"
              f" {count(native, 'FAIL') + count(native, 'ERROR')} failed,"
              f" exit {nstatus}, {ntime:.0f}s); sandbox {len(sandbox)} tests "
              f"({count(sandbox, 'ok')} ok, {count(sandbox, 'skipped')} "
              f"skipped, {count(sandbox, 'FAIL') + count(sandbox, 'ERROR')} "
              f"failed, exit {sstatus}, {stime:.0f}s)", flush=True)
        for test in sorted(set(native) | set(sandbox)):
            a, b = native.get(test, "-"), sandbox.get(test, "-")
            if a != b:
                differ += 1
                print(f"    {test}: native {a}, sandbox {b}", flush=True)
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
