"""Network benchmark: echo round trips and bulk throughput, native vs strace vs the floor tracer vs pylinuxabi.
Builds its C helpers into benchmarks/.build/ and runs them; touches nothing else."""

import argparse
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
from dataclasses import dataclass

from run import PIN, compile_c, ratio

RUNNERS = ["native", "strace", "floor", "pylinuxabi", "pylinuxabi-p"]
SANDBOX_PORT = 7007         # the echo server's port inside the sandbox, for -p
MIB = 1 << 20

# Run argv[1:] in the network namespace we are in (a fresh one, from
# `unshare -n`) once its lo is up, as sandbox.loopback_up does for pylinuxabi:
# native, strace and floor then talk over a loopback like the sandbox's.
LO_UP = """
import fcntl, os, socket, struct, sys
with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
    ifr = fcntl.ioctl(s, 0x8913, struct.pack("16sH22x", b"lo", 0))          # SIOCGIFFLAGS
    flags = struct.unpack_from("16sH", ifr)[1]
    fcntl.ioctl(s, 0x8914, struct.pack("16sH22x", b"lo", flags | 1))      # SIOCSIFFLAGS IFF_UP
os.execvp(sys.argv[1], sys.argv[1:])
"""


class RunError(Exception):
    pass


class TimedOut(RunError):
    pass


@dataclass
class Case:
    """One workload: net.c's arguments and how to read its result."""
    name: str
    kind: str       # "echo" or "bulk"
    transport: str  # "tcp" or "unix"
    args: list      # net.c's arguments
    units: int      # round trips (echo) or bytes (bulk)


def cases(args):
    rounds = args.rounds // 10 if args.quick and not args.rounds_given else args.rounds
    size = args.bytes // 16 if args.quick and not args.bytes_given else args.bytes
    table = {
        "echo-tcp": Case("echo-tcp", "echo", "tcp", ["echo", "tcp", rounds, args.clients], rounds),
        "echo-unix": Case("echo-unix", "echo", "unix", ["echo", "unix", rounds, args.clients], rounds),
        "bulk-tcp": Case("bulk-tcp", "bulk", "tcp", ["bulk", "tcp", size, args.buffer], size),
        "bulk-unix": Case("bulk-unix", "bulk", "unix", ["bulk", "unix", size, args.buffer], size),
    }
    return [table[name] for name in args.cases]


# -- runners ---------------------------------------------------------------------

def fresh_netns_works():
    try:
        return subprocess.run(["unshare", "-n", "--", sys.executable, "-c", LO_UP, "/bin/true"],
                              capture_output=True, timeout=30).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def has_publish(exe):
    """True once `pylinuxabi run` has -p/--publish (being added for issue 12)."""
    p = subprocess.run([exe, "run", "--help"], capture_output=True, text=True, timeout=60)
    return "--publish" in p.stdout


def runner_prefixes(only, floor, exe):
    """({runner: command prefix}, {runner: why not}) for the runners asked for."""
    netns = ["unshare", "-n", "--", sys.executable, "-c", LO_UP]
    if not fresh_netns_works():
        print("warning: cannot make a fresh network namespace (unshare -n needs root): native, strace "
              "and floor use the host's loopback", file=sys.stderr)
        netns = []
    prefixes, reasons = {}, {}
    for name in only:
        if name == "native":
            prefix = netns
        elif name == "strace":
            prefix = netns + ["strace", "-f", "-o", "/dev/null"] if shutil.which("strace") \
                else "strace is not installed"
        elif name == "floor":
            prefix = netns + [str(floor), "--"]
        elif not exe:
            prefix = "no pylinuxabi: not on PATH (pip install -e . ?) and no --pylinuxabi"
        elif name == "pylinuxabi":
            prefix = [exe, "run"]
        else:   # pylinuxabi-p: the server in the sandbox, the clients here
            prefix = [exe, "run", "-p"] if has_publish(exe) else "skipped: pylinuxabi has no -p"
        if isinstance(prefix, str):
            print(f"{name}: {prefix}", file=sys.stderr)
            reasons[name] = prefix
        else:
            prefixes[name] = prefix
    return prefixes, reasons


def spawn(cmd):
    # Own session: on a timeout the whole tree (server, clients, tracer) is
    # killed at once; no stdin, so pylinuxabi does not take a terminal.
    return subprocess.Popen([str(c) for c in cmd], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)


def finish(proc, timeout):
    """Wait for proc; returns {key: int} from its last stdout line."""
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise TimedOut(f"timed out after {timeout:g}s")
    lines = out.strip().splitlines()
    try:
        if proc.returncode == 0:
            return {k: int(v) for k, v in (item.split("=") for item in lines[-1].split())}
    except (IndexError, ValueError):
        pass
    tail = (err.strip().splitlines() or ["(no stderr)"])[-3:]
    raise RunError(f"exit status {proc.returncode}, stdout {out[-80:]!r}, stderr: " + " | ".join(tail))


def run_once(prefix, net, case, pin, timeout):
    """Returns (elapsed_ns, syscalls) of one run of `case` under prefix."""
    r = finish(spawn(pin + prefix + [net] + case.args), timeout)
    return r["elapsed_ns"], r["syscalls"]


def free_host_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_published(prefix, net, case, pin, timeout):
    """The echo server under `pylinuxabi run -p HOSTPORT:PORT`, its clients
    native on the host connecting to HOSTPORT; returns (elapsed_ns, syscalls)."""
    _, _, rounds, clients = case.args
    host_port = free_host_port()
    server = spawn(pin + prefix + [f"{host_port}:{SANDBOX_PORT}", net, "echo-server", "tcp", SANDBOX_PORT, clients])
    try:
        r = finish(spawn(pin + [net, "echo-clients", "tcp", "127.0.0.1", host_port, rounds, clients]), timeout)
        s = finish(server, 30)
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)
            server.communicate()
    return r["elapsed_ns"], r["syscalls"] + s["syscalls"]


# -- measuring -------------------------------------------------------------------

@dataclass
class Result:
    ns: float = None            # median elapsed ns of the timed part
    low: float = None           # fastest and slowest runs, ns
    high: float = None
    syscalls: float = None      # median syscalls per run
    timed_out: float = None     # the timeout in ns, if the first run hit it
    error: str = None           # why the first run failed

    @property
    def spread(self):
        """Half the min-max range, ns."""
        return (self.high - self.low) / 2


def measure(args, runs, net, prefixes, placements):
    """Returns {(case, placement, runner): Result}."""
    results = {}
    for case in runs:
        for placement, pin in placements.items():
            live = {name: prefixes[name] for name in runners_for(case, prefixes)}
            samples = {name: [] for name in live}
            # Repeats are interleaved across runners so that slow drift of the
            # machine hits every runner alike.
            for _ in range(args.repeat):
                for name in list(live):
                    run = run_published if name == "pylinuxabi-p" else run_once
                    try:
                        samples[name].append(run(live[name], net, case, pin, args.timeout))
                    except RunError as e:
                        print(f"  {case.name} {placement} {name}: dropped: {e}", file=sys.stderr)
                        if name == "native":
                            sys.exit("native runs must work; giving up")
                        if not samples[name]:
                            results[case.name, placement, name] = Result(
                                timed_out=args.timeout * 1e9 if isinstance(e, TimedOut) else None, error=str(e))
                        del live[name]
            for name, got in samples.items():
                if got:
                    ns = [g[0] for g in got]
                    results[case.name, placement, name] = r = Result(
                        statistics.median(ns), min(ns), max(ns), statistics.median(g[1] for g in got))
                    print(f"  {case.name:9} {placement:8} {name:12} {r.ns / 1e6:10.1f} ms ±{r.spread / 1e6:.1f}"
                          f"  {r.syscalls:.0f} syscalls", file=sys.stderr)
    return results


# -- reporting -------------------------------------------------------------------

def runners_for(case, only):
    """-p publishes a TCP port: it has an echo-tcp row only."""
    return [name for name in only if name != "pylinuxabi-p" or case.name == "echo-tcp"]


def report_echo(case, placement, results, only, clients, reasons):
    got = {name: results.get((case.name, placement, name)) for name in runners_for(case, only)}
    native, floor = got["native"], got.get("floor")
    per = lambda r: r.ns / case.units / 1000 if r and r.ns is not None else None     # µs per round trip
    print(f"\n{case.name} ({placement}): {case.units} round trips of 64 bytes by {clients} clients")
    print(f"  {'runner':<13}{'µs/RT':>10}{'spread':>9}{'client µs':>11}{'syscalls/RT':>13}"
          f"{'x native':>10}{'x floor':>9}")
    for name, r in got.items():
        if r is None:
            print(f"  {name:<13}{'skipped':>10}   {reasons.get(name, '')}")
        elif r.ns is None and r.timed_out is None:
            print(f"  {name:<13}{'failed':>10}   {r.error[:200]}")
        elif r.ns is None:
            print(f"  {name:<13}{'>' + format(r.timed_out / case.units / 1000, '.0f'):>10}"
                  f"   (timed out: the whole run took over {r.timed_out / 1e9:g} s)")
        else:
            us = per(r)
            print(f"  {name:<13}{us:>10.2f}{r.spread / case.units / 1000:>9.2f}{us * clients:>11.1f}"
                  f"{r.syscalls / case.units:>13.2f}{ratio(us, per(native)):>10}{ratio(us, per(floor)):>9}")
    if floor and floor.ns is not None and native:
        stop = (per(floor) - per(native)) / (floor.syscalls / case.units)
        print(f"  floor: {per(floor):.2f} µs per round trip = native + {stop:.2f} µs per stop"
              f" x {floor.syscalls / case.units:.2f} syscalls")
    for name in ("pylinuxabi", "pylinuxabi-p"):
        r = got.get(name)
        if r and r.ns is not None and floor and floor.ns is not None:
            x = per(r) / per(floor)
            print(f"  target {name} <= 2x floor: {x:.3g}x, {'met' if x <= 2 else 'not met'}")


def report_bulk(case, placement, results, only, reasons):
    got = {name: results.get((case.name, placement, name)) for name in runners_for(case, only)}
    rate = lambda ns: case.units / MIB / (ns / 1e9)
    native = got["native"]
    print(f"\n{case.name} ({placement}): {case.units / MIB:g} MiB in {case.args[3] // 1024} KiB writes and reads")
    print(f"  {'runner':<13}{'MiB/s':>10}{'spread':>9}{'syscalls':>10}{'% native':>10}")
    for name, r in got.items():
        if r is None:
            print(f"  {name:<13}{'skipped':>10}   {reasons.get(name, '')}")
        elif r.ns is None and r.timed_out is None:
            print(f"  {name:<13}{'failed':>10}   {r.error[:200]}")
        elif r.ns is None:
            print(f"  {name:<13}{'<' + format(rate(r.timed_out), '.1f'):>10}"
                  f"   (timed out: the whole run took over {r.timed_out / 1e9:g} s)")
        else:
            spread = (rate(r.low) - rate(r.high)) / 2
            pct = f"{100 * native.ns / r.ns:.1f}%" if native else "n/a"
            print(f"  {name:<13}{rate(r.ns):>10.1f}{spread:>9.1f}{r.syscalls:>10.0f}{pct:>10}")
    r = got.get("pylinuxabi")
    if r and r.ns is not None and native:
        pct = 100 * native.ns / r.ns
        print(f"  target pylinuxabi >= 50% of native: {pct:.1f}%, {'met' if pct >= 50 else 'not met'}")


def report(runs, placements, results, args, reasons):
    print(f"\n{platform.node()}: {os.cpu_count()} CPUs, Linux {platform.release()}; "
          f"median of {args.repeat} runs, spread = half the min-max range")
    for case in runs:
        for placement in placements:
            if case.kind == "echo":
                report_echo(case, placement, results, args.only, args.clients, reasons)
            else:
                report_bulk(case, placement, results, args.only, reasons)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true",
                    help="one tenth of the round trips and one sixteenth of the bytes (unless given)")
    ap.add_argument("--cases", default="echo-tcp,echo-unix,bulk-tcp,bulk-unix",
                    help="comma-separated subset of echo-tcp,echo-unix,bulk-tcp,bulk-unix")
    ap.add_argument("--only", default=",".join(RUNNERS), help="comma-separated subset of " + ",".join(RUNNERS))
    ap.add_argument("--placements", default="pinned,unpinned", help="pinned (taskset -c 0), unpinned, or both")
    ap.add_argument("--rounds", type=int, help="echo round trips in all (default 10000)")
    ap.add_argument("--clients", type=int, default=4, help="echo clients (default 4)")
    ap.add_argument("--bytes", type=int, help="bulk bytes (default 1 GiB)")
    ap.add_argument("--buffer", type=int, default=256 * 1024, help="bulk write/read size (default 256 KiB)")
    ap.add_argument("--repeat", type=int, default=3, help="runs per measurement; the median is reported")
    ap.add_argument("--timeout", type=float, default=120, help="seconds allowed for a single run")
    ap.add_argument("--pylinuxabi", default=shutil.which("pylinuxabi"),
                    help="the pylinuxabi command to measure (default: the one on PATH)")
    args = ap.parse_args()
    args.rounds_given, args.bytes_given = args.rounds is not None, args.bytes is not None
    args.rounds = args.rounds or 10_000
    args.bytes = args.bytes or 1 << 30
    args.only = [r.strip() for r in args.only.split(",") if r.strip()]
    args.cases = [c.strip() for c in args.cases.split(",") if c.strip()]
    wanted = [p.strip() for p in args.placements.split(",") if p.strip()]
    for given, known, what in ((args.only, RUNNERS, "runner"), (args.cases, ["echo-tcp", "echo-unix", "bulk-tcp",
                               "bulk-unix"], "case"), (wanted, ["pinned", "unpinned"], "placement")):
        unknown = set(given) - set(known)
        if unknown:
            ap.error(f"unknown {what}(s) {', '.join(sorted(unknown))}; choose from {','.join(known)}")
    if "native" not in args.only:
        args.only.insert(0, "native")       # every ratio needs it

    net, floor = compile_c("net", ["-static"]), compile_c("floor")
    placements = {p: PIN if p == "pinned" else [] for p in wanted}
    if "pinned" in placements and not shutil.which("taskset"):
        print("skipping pinned runs: taskset is not installed", file=sys.stderr)
        del placements["pinned"]
    runs = cases(args)
    prefixes, reasons = runner_prefixes(args.only, floor, args.pylinuxabi)
    results = measure(args, runs, net, prefixes, placements)
    report(runs, placements, results, args, reasons)


if __name__ == "__main__":
    main()
