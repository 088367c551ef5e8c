"""io_uring benchmark: fio's random reads of a 64 MiB file on a tmpfs, psync against io_uring
(one SQE per enter, batches of 32, SQPOLL), natively and under pylinuxabi, in the same run.
Writes its files in a fresh directory under /dev/shm (natively) or the sandbox's /dev/shm."""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

from run import PIN, ratio

ENGINES = {
    "psync": ["--ioengine=psync"],
    "io_uring": ["--ioengine=io_uring", "--iodepth=32"],
    "io_uring-batch32": ["--ioengine=io_uring", "--iodepth=32", "--iodepth_batch_submit=32",
                         "--iodepth_batch_complete_min=1", "--iodepth_batch_complete_max=32"],
    "io_uring-sqpoll": ["--ioengine=io_uring", "--iodepth=32", "--sqthread_poll=1"],
}


def fio(argv, runtime, sandboxed):
    """One fio run's read IOPS (None if it failed)."""
    job = ["fio", "--name=b", "--size=64m", "--bs=4k", "--rw=randread", "--time_based",
           f"--runtime={runtime}", "--output-format=json", *argv]
    if sandboxed:
        cmd = [*PIN, "pylinuxabi", "run", "--", "/bin/sh", "-c",
               'd=$(mktemp -d -p /dev/shm) && exec "$@" --directory="$d"', "sh", *job]
    else:
        where = tempfile.mkdtemp(prefix="uring-bench-", dir="/dev/shm")
        cmd = [*PIN, *job, f"--directory={where}"]
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=runtime * 10 + 60).stdout
        return json.loads(out[out.index("{"):])["jobs"][0]["read"]["iops"]
    except (ValueError, KeyError, IndexError, subprocess.TimeoutExpired):
        return None
    finally:
        if not sandboxed:
            shutil.rmtree(where, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runtime", type=int, default=3, help="seconds per fio run")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    if shutil.which("fio") is None:
        sys.exit("fio is not installed (apt-get install fio)")
    results = {}
    for _ in range(args.repeat):        # interleaved, so drift hits every runner alike
        for engine, argv in ENGINES.items():
            for sandboxed in (False, True):
                iops = fio(argv, args.runtime, sandboxed)
                if iops is not None:
                    results.setdefault((engine, sandboxed), []).append(iops)
    print(f"fio randread 4 KiB of 64 MiB on tmpfs, {args.runtime} s a run, median of {args.repeat}, "
          f"pinned to one CPU ({os.cpu_count()} CPUs)")
    print(f"{'engine':<18} {'native IOPS':>12} {'pylinuxabi':>12} {'sandbox/native':>15} {'vs psync here':>14}")
    median = {k: statistics.median(v) for k, v in results.items()}
    base = median.get(("psync", True))
    for engine in ENGINES:
        nat, sand = median.get((engine, False)), median.get((engine, True))
        print(f"{engine:<18} {nat or 0:>12.0f} {sand or 0:>12.0f} {ratio(sand, nat):>15} {ratio(sand, base):>14}")


if __name__ == "__main__":
    main()
