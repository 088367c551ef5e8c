"""Syscall-overhead benchmark: native vs strace vs the C floor tracer vs pylinuxabi.
Builds its C helpers into benchmarks/.build/ and runs them; touches nothing else."""

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
BUILD = HERE / ".build"
LOOPS = {"getuid": 200_000, "read": 100_000, "stat": 20_000}
RUNNERS = ["native", "strace", "floor", "pylinuxabi", "log-json", "recorder"]
# what each runner is, for the report's legend
LEGEND = {"log-json": "pylinuxabi run --log-json /dev/null (traps every syscall, writes a JSON object each)",
          "recorder": "conform's native run: Linux runs each call, our tracer records it (2 stops a call)"}
PIN = ["taskset", "-c", "0"]


class RunError(Exception):
    pass


def compile_c(name, extra=()):
    """Compile benchmarks/NAME.c into .build/NAME if stale; returns its path."""
    gcc = shutil.which("gcc") or sys.exit("gcc not found: it is needed to build the benchmark programs")
    BUILD.mkdir(exist_ok=True)
    src, out = HERE / f"{name}.c", BUILD / name
    if not out.exists() or out.stat().st_mtime < src.stat().st_mtime:
        print(f"building {out.relative_to(HERE.parent)}", file=sys.stderr)
        subprocess.run([gcc, "-O2", "-Wall", "-Wextra", *extra, "-o", str(out), str(src)], check=True)
    return out


def build():
    """Compile loops (static, so no dynamic loader noise) and floor, if stale."""
    return compile_c("loops", ["-static"]), compile_c("floor")


def runner_prefix(name, floor):
    """Command prefix for a runner, or a reason string if it cannot run here."""
    if name == "native":
        return []
    if name == "strace":
        return ["strace", "-f", "-o", "/dev/null"] if shutil.which("strace") else "strace is not installed"
    if name == "floor":
        return [str(floor), "--"]
    exe = shutil.which("pylinuxabi")
    if name in ("pylinuxabi", "log-json"):
        if not exe:
            return "the pylinuxabi console script is not on PATH (pip install -e . ?)"
        return [exe, "run"] + (["--log-json", "/dev/null"] if name == "log-json" else [])
    if name == "recorder":
        if os.geteuid() != 0:
            return "conform's native run needs root"
        work = Path(tempfile.mkdtemp(prefix="pylinuxabi-bench-"))
        (work / "scratch").mkdir()
        (work / "env.json").write_text(json.dumps({"PATH": "/usr/bin:/bin"}))
        return [sys.executable, "-m", "pylinuxabi.conformance.native", "/dev/null", str(work / "env.json"),
                os.getcwd(), "bench", str(work / "scratch"), "1"]
    raise ValueError(name)


def run_once(cmd, timeout):
    """Run one loop and return the ns it reports for its loop alone."""
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise RunError(f"timed out after {timeout}s")
    lines = p.stdout.split()
    if p.returncode != 0 or not lines or not lines[-1].isdigit():
        tail = (p.stderr.strip().splitlines() or ["(no stderr)"])[-3:]
        raise RunError(f"exit status {p.returncode}, stdout {p.stdout[-80:]!r}, stderr: " + " | ".join(tail))
    return int(lines[-1])


def measure(args, loops, floor):
    """Returns {(loop, placement, runner): (median, spread)} in ns per call,
    spread being half the min-max range, for what could run."""
    prefixes = {}
    for name in args.only:
        prefix = runner_prefix(name, floor)
        if isinstance(prefix, str):
            print(f"skipping {name}: {prefix}", file=sys.stderr)
        else:
            prefixes[name] = prefix
    placements = {"pinned": PIN, "unpinned": []}
    if not shutil.which("taskset"):
        print("skipping pinned runs: taskset is not installed", file=sys.stderr)
        del placements["pinned"]

    results = {}
    for loop, count in LOOPS.items():
        count = count // 10 if args.quick else count
        for placement, pin in placements.items():
            samples = {name: [] for name in prefixes}
            # Repeats are interleaved across runners so slow drift of the
            # machine (thermal, neighbours) hits every runner alike.
            for _ in range(args.repeat):
                for name in list(samples):
                    if name not in prefixes:
                        continue
                    cmd = pin + prefixes[name] + [str(loops), loop, str(count)]
                    try:
                        samples[name].append(run_once(cmd, args.timeout))
                    except RunError as e:
                        print(f"skipping {name} from now on: `{' '.join(cmd)}` failed: {e}", file=sys.stderr)
                        if name == "native":
                            sys.exit("native runs must work; giving up")
                        del prefixes[name]
            for name, ns in samples.items():
                if name in prefixes and ns:
                    median, spread = statistics.median(ns) / count, (max(ns) - min(ns)) / 2 / count
                    results[loop, placement, name] = median, spread
                    print(f"  {loop:6} {placement:8} {name:10} {median / 1000:10.3f} µs/call ±{spread / 1000:.3f}",
                          file=sys.stderr)
    return results, list(placements)


def ratio(a, b):
    return f"{a / b:.3g}x" if a is not None and b else "n/a"


def report(results, placements, only):
    def median(loop, placement, name):
        return results.get((loop, placement, name), (None, None))[0]

    print(f"\n{platform.node()}: {os.cpu_count()} CPUs, Linux {platform.release()}; "
          "µs per syscall, median of runs, spread = half the min-max range")
    for loop in LOOPS:
        for placement in placements:
            native, floor = median(loop, placement, "native"), median(loop, placement, "floor")
            print(f"\n{loop} ({placement})")
            print(f"  {'runner':<11}{'µs/call':>10}{'spread':>10}{'overhead µs':>13}{'x native':>10}{'x floor':>10}")
            for name in only:
                if (loop, placement, name) not in results:
                    print(f"  {name:<11}{'skipped':>10}")
                    continue
                ns, spread = results[loop, placement, name]
                over = f"{(ns - native) / 1000:.3f}" if native else "n/a"
                print(f"  {name:<11}{ns / 1000:>10.3f}{spread / 1000:>10.3f}{over:>13}"
                      f"{ratio(ns, native):>10}{ratio(ns, floor):>10}")
    print("\npylinuxabi / floor:")
    for loop in LOOPS:
        cells = (f"{p} {ratio(median(loop, p, 'pylinuxabi'), median(loop, p, 'floor'))}" for p in placements)
        print(f"  {loop:<7} " + ", ".join(cells))
    for name in ("log-json", "recorder"):
        if name in only:
            print(f"\n{name} / pylinuxabi run: {LEGEND[name]}")
            for loop in LOOPS:
                cells = (f"{p} {ratio(median(loop, p, name), median(loop, p, 'pylinuxabi'))}" for p in placements)
                print(f"  {loop:<7} " + ", ".join(cells))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="one tenth of the default syscall counts")
    ap.add_argument("--only", default=",".join(RUNNERS), help="comma-separated subset of " + ",".join(RUNNERS))
    ap.add_argument("--repeat", type=int, default=3, help="runs per measurement; the median is reported")
    ap.add_argument("--timeout", type=float, default=600, help="seconds allowed for a single run")
    args = ap.parse_args()
    args.only = [r.strip() for r in args.only.split(",") if r.strip()]
    unknown = set(args.only) - set(RUNNERS)
    if unknown:
        ap.error(f"unknown runner(s) {', '.join(sorted(unknown))}; choose from {','.join(RUNNERS)}")

    loops, floor = build()
    results, placements = measure(args, loops, floor)
    report(results, placements, args.only)


if __name__ == "__main__":
    main()
