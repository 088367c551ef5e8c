#!/usr/bin/env python3
"""liburing's own test suite (an independent io_uring test suite: Jens Axboe's), run
natively and under pylinuxabi, test by test.

    python3 scripts/liburing_tests.py                 # every test; a table of those that differ
    python3 scripts/liburing_tests.py send_recv.t     # some
    python3 scripts/liburing_tests.py --all           # also those KNOWN to differ

The source is Debian's liburing 2.9 tarball (sha256-checked), built once under
tests/.build/. Each test runs in a fresh directory of its own, natively then under
`pylinuxabi run`; exit status 0 is a pass, 77 a skip (liburing's T_EXIT_SKIP).
tests/acceptance/test_liburing_suite.py requires every test that passes natively to
pass under pylinuxabi too, but those in KNOWN, which say why they do not.
"""
import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.request

VERSION = "2.9"
URL = f"http://deb.debian.org/debian/pool/main/libu/liburing/liburing_{VERSION}.orig.tar.gz"
SHA256 = "57e9b36e4ac1e46b8e0351dfb1694dc59638fc25e384b4ba36d87b800b16db1a"
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(REPO, "tests", ".build", f"liburing-{VERSION}")
SKIP = 77

# test -> why it does not pass under pylinuxabi (not run by the acceptance test)
KNOWN = {
    "poll-race-mshot.t": "hangs natively on this kernel too (it times out in both)",
    "poll-many.t": "speed: 5000 pipes polled over and over, each write a ptrace stop; over two minutes",
    "poll-mshot-update.t": "speed: thousands of multishot polls re-armed; over two minutes",
    "pollfree.t": "speed: signalfd polls freed in a loop for 10 s natively; over two minutes",
    "500f9fbadef8.t": "IOPOLL on an O_DIRECT file: no file of ours polls (-EOPNOTSUPP), so it skips",
    "io_uring_register.t": "REGISTER_BUFFERS of a shared file mapping: the host's pinning refuses it "
                           "(EFAULT), ours cannot tell a model file's mapping from shared memory",
    "recv-multishot.t": "multishot RECVMSG (io_uring_recvmsg_out) is not built",
    "recvsend_bundle.t": "bundles (IORING_RECVSEND_BUNDLE) are not built; it skips",
    "recvsend_bundle-inc.t": "incremental buffer rings (IOU_PBUF_RING_INC) are not built; it skips",
    "read-inc-file.t": "incremental buffer rings (IOU_PBUF_RING_INC) are not built; it skips",
    "futex.t": "the FUTEX_WAIT/WAKE/WAITV opcodes are not built; it skips",
    "waitid.t": "the WAITID opcode is not built; it skips",
    "send-zerocopy.t": "SEND_ZC and SENDMSG_ZC are not built",
    "min-timeout.t": "IORING_FEAT_MIN_TIMEOUT (EXT_ARG's min_wait_usec) is not built; it skips",
    "min-timeout-wait.t": "IORING_FEAT_MIN_TIMEOUT is not built; it skips",
    "reg-reg-ring.t": "IORING_FEAT_REG_REG_RING (registering through a registered ring) is not built; it skips",
    "regbuf-clone.t": "REGISTER_CLONE_BUFFERS is not built; it skips",
    "reg-hint.t": "REGISTER_FILES with a range hint is not built; it skips",
    "register-restrictions.t": "a restriction on an SQE opcode it tests is not built; it skips",
    "fd-pass.t": "MSG_RING's fd passing to a ring with no table: skips",
    "file-exit-unreg.t": "skips: an unregistration at exit it looks for is not built",
    "ooo-file-unreg.t": "skips: out-of-order file unregistration is not built",
    "accept-non-empty.t": "skips: ACCEPT's IORING_CQE_F_SOCK_NONEMPTY is not built",
    "fsnotify.t": "skips: fanotify is not built",
    "wq-aff.t": "REGISTER_IOWQ_AFF is not built",
}


def fetch_and_build():
    """The test binaries' directory, built once (None if the source cannot be had)."""
    tests = os.path.join(BUILD, "test")
    if os.path.exists(os.path.join(tests, ".built")):
        return tests
    os.makedirs(os.path.dirname(BUILD), exist_ok=True)
    tarball = BUILD + ".tar.gz"
    if not os.path.exists(tarball):
        try:
            with urllib.request.urlopen(URL, timeout=120) as r:
                data = r.read()
        except OSError as e:
            print(f"cannot fetch {URL}: {e}", file=sys.stderr)
            return None
        if hashlib.sha256(data).hexdigest() != SHA256:
            print(f"{URL}: not the tarball we know (sha256)", file=sys.stderr)
            return None
        with open(tarball, "wb") as f:
            f.write(data)
    shutil.rmtree(BUILD, ignore_errors=True)
    with tarfile.open(tarball) as tar:
        tar.extractall(os.path.dirname(BUILD), filter="data")
    for cmd in (["./configure"], ["make", f"-j{os.cpu_count() or 1}"]):
        subprocess.run(cmd, cwd=BUILD, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    open(os.path.join(tests, ".built"), "w").close()
    return tests


def all_tests(tests):
    return sorted(n for n in os.listdir(tests) if n.endswith(".t"))


def run_one(tests, name, sandboxed, timeout):
    """(exit status or "timeout", seconds, the output's end)."""
    cmd = [os.path.join(tests, name)]
    if sandboxed:
        cmd = [sys.executable, "-m", "pylinuxabi", "run", "--strict", *cmd]     # (a handler's crash fails it)
    env = dict(os.environ, PYTHONPATH=os.path.join(REPO, "src"))
    with tempfile.TemporaryDirectory(prefix="liburing-") as cwd:
        start = time.monotonic()
        try:
            p = subprocess.run(cmd, cwd=cwd, env=env, stdin=subprocess.DEVNULL, capture_output=True,
                               timeout=timeout)
            status, out = p.returncode, p.stdout + p.stderr
        except subprocess.TimeoutExpired as e:
            status, out = "timeout", (e.stdout or b"") + (e.stderr or b"")
        return status, time.monotonic() - start, out[-1500:].decode(errors="replace")


def compare(tests, names, timeout=120, log=print):
    """{name: (native status, sandboxed status, the sandboxed output's end)} of the tests
    that pass natively."""
    results = {}
    for name in names:
        native, took, _ = run_one(tests, name, False, timeout)
        if native != 0:
            log(f"{name}: natively {native}, not compared")
            continue
        status, took2, out = run_one(tests, name, True, timeout)
        results[name] = (native, status, out)
        log(f"{name}: {'pass' if status == 0 else status} ({took:.1f} s natively, {took2:.1f} s under pylinuxabi)")
    return results


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("tests", nargs="*")
    ap.add_argument("--all", action="store_true", help="also the tests KNOWN to differ")
    ap.add_argument("--timeout", type=float, default=120)
    args = ap.parse_args()
    tests = fetch_and_build()
    if tests is None:
        return 2
    names = args.tests or [n for n in all_tests(tests) if args.all or n not in KNOWN]
    results = compare(tests, names, args.timeout)
    passed = [n for n, (_, s, _) in results.items() if s == 0]
    print(f"\n{len(passed)} of {len(results)} tests that pass natively pass under pylinuxabi "
          f"({len(KNOWN)} known to differ{' were run' if args.all else ' not run'})")
    for n, (_, s, out) in results.items():
        if s != 0:
            print(f"--- {n}: {s}; {KNOWN.get(n, 'not known')}\n{out[-400:]}")
    return 0 if len(passed) == len(results) else 1


if __name__ == "__main__":
    sys.exit(main())
