"""The `pylinuxabi` command: run a program in the sandbox, with docker run's options;
conform (conformance/command.py) and coverage (observe/coverage.py).

Parses options and hands them to sandbox.run; a usage error is one line on stderr and exit 125.
"""
import argparse
import os
import signal
import sys

from pylinuxabi.startsignals import capture_signals

# docker's exit status for its own errors (bad options, a sandbox it cannot make)
EXIT_USAGE = 125
# the PATH `docker run` gives a program whose image names none
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


class Parser(argparse.ArgumentParser):
    """argparse, with docker's one line and exit status for a usage error instead of exit 2."""

    def error(self, message):
        # argparse counts the program's (possibly empty) arguments as required too
        message = message.replace("program, args", "program")
        print(f"pylinuxabi: {message} (see '{self.prog} --help')", file=sys.stderr)
        sys.exit(EXIT_USAGE)


def _user(text):
    """NAME|UID[:GROUP|GID], resolved later in the sandbox's /etc/passwd and /etc/group."""
    name, colon, group = text.partition(":")
    if not name or (colon and not group) or ":" in group:
        raise argparse.ArgumentTypeError(f"bad user {text!r}: NAME|UID[:GROUP|GID]")
    return text


_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30}


def _tmpfs(text):
    """PATH[:size=N[k|m|g]] as docker's --tmpfs takes it."""
    path, _, opts = text.partition(":")
    size = None
    for opt in filter(None, opts.split(",")):
        key, _, value = opt.partition("=")
        if key != "size" or not value:
            raise argparse.ArgumentTypeError(f"unknown tmpfs option {opt!r} (only size=N is known)")
        unit = value[-1].lower() if value[-1].isalpha() else ""
        try:
            size = int(value[:-1] if unit else value) * _UNITS[unit]
        except (ValueError, KeyError):
            raise argparse.ArgumentTypeError(f"bad tmpfs size {value!r}")
    if not path.startswith("/"):
        raise argparse.ArgumentTypeError(f"tmpfs path {path!r} must be absolute")
    return path, size


def _capability(text):
    from pylinuxabi.base.creds import cap_by_name
    if text.upper() != "ALL":
        try:
            cap_by_name(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"no capability named {text!r}") from None
    return text


def _volume(text):
    """HOST:GUEST[:ro|rw]."""
    parts = text.split(":")
    if len(parts) == 2:
        parts.append("rw")
    if len(parts) != 3 or parts[2] not in ("ro", "rw") or not parts[1].startswith("/") or not parts[0]:
        raise argparse.ArgumentTypeError(f"bad volume {text!r}: HOST:GUEST[:ro|rw], GUEST absolute")
    return os.path.abspath(parts[0]), parts[1], parts[2] == "ro"


def _publish(text):
    """docker's [IP:][HOSTPORT:]PORT[/tcp|/udp]: (host address or None for every one, host
    port (0: any free one), the sandbox's port, "tcp" or "udp"). IPv6 addresses go in
    brackets."""
    spec, _, proto = text.partition("/")
    if proto not in ("", "tcp", "udp"):
        raise argparse.ArgumentTypeError(f"bad protocol in {text!r}: tcp or udp")
    ip = None
    if spec.startswith("["):
        ip, bracket, spec = spec[1:].partition("]")
        if not bracket or not spec.startswith(":"):
            raise argparse.ArgumentTypeError(f"bad port mapping {text!r}")
        spec = spec[1:]
    parts = spec.split(":")
    if ip is None and len(parts) == 3:
        ip = parts.pop(0)
    try:
        ports = [int(p) if p else 0 for p in parts]
    except ValueError:
        ports = []
    if len(ports) == 1:
        ports.insert(0, 0)
    if len(ports) != 2 or not 0 <= ports[0] <= 65535 or not 0 < ports[1] <= 65535:
        raise argparse.ArgumentTypeError(f"bad port mapping {text!r}: [IP:][HOSTPORT:]PORT[/tcp|/udp]")
    return ip or None, ports[0], ports[1], proto or "tcp"


def _workdir(text):
    if not text.startswith("/"):
        raise argparse.ArgumentTypeError(f"the working directory {text!r} must be an absolute path")
    return text


def _env(text):
    """NAME=VALUE, or NAME for the caller's value: (name, value or None when the caller has none)."""
    name, eq, value = text.partition("=")
    if not name or any(c.isspace() for c in name):
        raise argparse.ArgumentTypeError(f"bad environment variable {text!r}: NAME=VALUE or NAME")
    return name, value if eq else os.environ.get(name)


def _env_file(path):
    """docker's --env-file: a NAME=VALUE or NAME line each, values taken as written (no
    quotes, no expansion); blank lines and lines starting with # are skipped."""
    try:
        with open(path, encoding="utf-8-sig") as f:
            lines = f.read().splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise argparse.ArgumentTypeError(f"cannot read env file {path!r}: {getattr(e, 'strerror', None) or e}")
    pairs = []
    for line in lines:
        line = line.lstrip()
        if line and not line.startswith("#"):
            try:
                pairs.append(_env(line))
            except argparse.ArgumentTypeError as e:
                raise argparse.ArgumentTypeError(f"{path}: {e}") from None
    return pairs


def _log_file(text):
    """--strace=FILE and --report=FILE: made (or emptied) now, so a bad path is a usage error."""
    if text == "-":
        return text
    try:
        open(text, "w").close()
    except OSError as e:
        raise argparse.ArgumentTypeError(f"cannot write {text!r}: {e.strerror}")
    return os.path.abspath(text)


def _inject(text):
    from pylinuxabi.kernel.inject import Rule
    try:
        Rule(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(f"bad --inject {text!r}: {e}")
    return text


def _root(text):
    if not os.path.isdir(text):
        raise argparse.ArgumentTypeError(f"{text!r} is not a directory")
    return os.path.abspath(text)


def parser():
    p = Parser(prog="pylinuxabi", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run", help="run a program under the supervisor")
    r.add_argument("--root", type=_root, default="/", help="host directory to serve as / (default: the host's /)")
    r.add_argument("-u", "--user", type=_user, metavar="NAME|UID[:GROUP|GID]",
                   help="the program's (virtual) user and group, names looked up in the sandbox's "
                        "/etc/passwd and /etc/group; default 0:0")
    r.add_argument("--hostname", default="pylinuxabi")
    r.add_argument("-w", "--workdir", type=_workdir,
                   help="starting directory inside the sandbox, made (owned by the user, mode 0755) if "
                        "missing; default: the current directory when it is the host's /, else /")
    r.add_argument("-e", "--env", type=_env, action="append", default=[], metavar="NAME[=VALUE]",
                   help="set NAME in the program's environment (without =VALUE: the caller's value, if any)")
    r.add_argument("--env-file", type=_env_file, action="append", default=[], metavar="FILE",
                   help="read NAME=VALUE and NAME lines from FILE, as docker's --env-file")
    r.add_argument("--env-host", "--env-inherit", action="store_true",
                   help="pass the caller's whole environment (podman's --env-host), not only PATH, "
                        "HOSTNAME, HOME, TERM and what -e and --env-file name")
    r.add_argument("--strace", type=_log_file, nargs="?", const="-", metavar="FILE",
                   help="log every syscall strace-style to FILE (default stderr)")
    r.add_argument("--log-json", type=_log_file, metavar="FILE",
                   help="log every syscall and event as one JSON object a line to FILE ('-': stderr; "
                        "schema in the README)")
    r.add_argument("--inject", type=_inject, action="append", default=[], metavar="RULE",
                   help="inject a fault, in strace's -e inject= syntax: SET[:error=ERRNO|:retval=N]"
                        "[:signal=SIG][:when=EXPR], and :path=GLOB, :fd=KIND, :short=N (README)")
    r.add_argument("--random-seed", type=int, metavar="N",
                   help="getrandom(2) gives the same bytes in every run with the same N (for runs to "
                        "compare; never for keys)")
    r.add_argument("--report", type=_log_file, nargs="?", const="-", metavar="FILE",
                   help="at exit, list the syscalls used that are not implemented, to FILE (default stderr)")
    r.add_argument("--trace-all", action="store_true", help="trap every syscall, even those the filter allows")
    r.add_argument("--strict", action="store_true", help="a crash in a handler stops the supervisor (for tests)")
    r.add_argument("-p", "--publish", type=_publish, action="append", default=[],
                   metavar="[IP:][HOSTPORT:]PORT[/udp]",
                   help="reach the sandbox's TCP (or UDP) port PORT from the host at IP:HOSTPORT, as docker's")
    r.add_argument("--net", "--network", choices=("bridge", "none", "host"), default="bridge",
                   help="as docker's: bridge (default) gives a private loopback and outbound connections "
                        "through the host; none the loopback only; host shares the host's network")
    r.add_argument("--read-only", action="store_true",
                   help="serve the root read-only, with no writable layer (default: a copy-on-write "
                        "overlay that keeps every change in memory)")
    r.add_argument("--upper", metavar="DIR",
                   help="keep the overlay's changes in the host directory DIR (made if missing), in "
                        "Linux overlayfs's format, so they outlive the run: a later --upper DIR run, or "
                        "mount -t overlay -o lowerdir=/,upperdir=DIR,workdir=DIR.work, sees them")
    r.add_argument("--upper-work", metavar="WORK",
                   help="overlayfs's work directory for --upper, on DIR's filesystem (default: DIR.work)")
    r.add_argument("--tmpfs", type=_tmpfs, action="append", default=[], metavar="PATH[:size=N]",
                   help="mount a fresh tmpfs at PATH")
    r.add_argument("-v", "--volume", type=_volume, action="append", default=[], metavar="HOST:GUEST[:ro]",
                   help="bind the host directory HOST at GUEST: writable (the program's changes are the "
                        "host's, owned by its virtual uid and gid), or read-only with :ro")
    r.add_argument("--cap-add", type=_capability, action="append", default=[], metavar="CAP",
                   help="give the program's root this capability (a name as CHOWN, or ALL), as docker's "
                        "--cap-add: useful after --cap-drop ALL")
    r.add_argument("--cap-drop", type=_capability, action="append", default=[], metavar="CAP",
                   help="take this capability (or ALL) from the bounding set, as docker's --cap-drop "
                        "(default: the capabilities of whoever runs pylinuxabi)")
    r.add_argument("program")
    r.add_argument("args", nargs=argparse.REMAINDER)
    c = sub.add_parser("conform", help="run a program natively and under the model; show the first syscalls "
                                       "that differ")
    c.add_argument("--json", metavar="FILE", help="also write the report as JSON to FILE")
    c.add_argument("--html", metavar="DIR", help="also write the report as DIR/index.html")
    c.add_argument("--suite", metavar="FILE", help="run every command of FILE (a shell command a line; "
                                                    "'# expect: WHY' after one notes an expected divergence)")
    c.add_argument("--rules", metavar="FILE", action="append", default=[],
                   help="more normalisation rules, after conformance/rules.txt's (same syntax)")
    c.add_argument("--inject", type=_inject, metavar="RULE", action="append", default=[],
                   help="a fault for the model's run only, as run's --inject (to see a divergence found)")
    c.add_argument("--keep", metavar="DIR", help="keep both runs' JSON logs and outputs in DIR")
    c.add_argument("--timeout", type=float, default=600, metavar="SECONDS", help="per run (default 600)")
    c.add_argument("argv", nargs=argparse.REMAINDER, metavar="PROGRAM [ARG...]")
    v = sub.add_parser("coverage", help="what the model implements, and what the test suite exercised")
    v.add_argument("--usage", metavar="DIR", help="sum the usage records in DIR (PYLINUXABI_USAGE=DIR runs)")
    v.add_argument("--save", metavar="FILE", help="with --usage: keep the sum in FILE (docs/coverage-usage.json)")
    v.add_argument("--from", dest="from_file", metavar="FILE",
                   help="the usage sum to show (default docs/coverage-usage.json)")
    v.add_argument("--write", metavar="FILE", help="write the Markdown to FILE (docs/coverage.md), not stdout")
    v.add_argument("--html", metavar="DIR", help="also write DIR/index.html")
    return p


# options that take the next word as their value; `--strace` and `--report` take one only as =FILE
TAKES_VALUE = {"--log-json", "--inject", "--random-seed",
               "--root", "-u", "--user", "--hostname", "-w", "--workdir", "-e", "--env", "--env-file",
               "--tmpfs", "-v", "--volume", "--upper", "--upper-work", "--cap-add", "--cap-drop",
               "--net", "--network", "-p", "--publish"}


def _bare_optional_values(argv):
    """`--strace PROGRAM` must not take PROGRAM as its file: a bare --strace or --report is =-."""
    argv = list(argv)
    i = 1
    while i < len(argv):
        a = argv[i]
        if a in ("--strace", "--report"):
            argv[i] = a + "=-"
        elif a in TAKES_VALUE:
            i += 1
        elif not a.startswith("-"):
            break
        i += 1
    return argv


def environment(args, on_terminal):
    """The program's environment as `docker run` makes it: PATH, HOSTNAME, TERM on a
    terminal, then --env-file and -e in order (HOME is the sandbox's to add, from
    /etc/passwd); with --env-host the caller's whole environment instead of the first three."""
    if args.env_host:
        env = dict(os.environ)
    else:
        env = {"PATH": DEFAULT_PATH, "HOSTNAME": args.hostname}
        if on_terminal:
            # our terminal is the caller's, so the caller's TERM describes it (docker's pty is an xterm)
            env["TERM"] = os.environ.get("TERM", "xterm")
    for name, value in [pair for pairs in args.env_file for pair in pairs] + args.env:
        if value is not None:
            env[name] = value
    return [os.fsencode(f"{name}={value}") for name, value in env.items()]


def _usage_error(message):
    print(f"pylinuxabi: {message}", file=sys.stderr)
    return EXIT_USAGE


def main(argv=None):
    _, inherited_mask = capture_signals()
    from pylinuxabi import sandbox      # after the hold: importing it may start child processes
    from pylinuxabi.job import terminal
    argv = _bare_optional_values(sys.argv[1:] if argv is None else argv)
    args = parser().parse_args(argv)
    if args.command in ("coverage", "conform"):
        # only `run` holds signals to pass them on: the runs conform starts must get
        # the mask we were given, not our hold (SIGTERM, SIGCHLD… blocked)
        signal.pthread_sigmask(signal.SIG_SETMASK, inherited_mask)
    if args.command == "coverage":
        from pylinuxabi.observe.coverage import main as coverage
        return coverage(args)
    if args.command == "conform":
        if args.argv[:1] == ["--"]:
            args.argv = args.argv[1:]
        if bool(args.argv) == bool(args.suite):
            return _usage_error("conform takes a program or --suite FILE (one of them)")
        args.command = args.argv
        from pylinuxabi.conformance.command import main as conform
        return conform(args)
    if args.read_only and args.upper:
        return _usage_error("--upper needs a writable root (not --read-only)")
    options = sandbox.Options(root=args.root, user=args.user, hostname=args.hostname,
                              strict=args.strict, trace_all=args.trace_all, strace=args.strace,
                              report=args.report, workdir=args.workdir, net=args.net,
                              read_only=args.read_only, tmpfs=args.tmpfs, volumes=args.volume,
                              upper=args.upper, upper_work=args.upper_work, cap_add=args.cap_add,
                              cap_drop=args.cap_drop, publish=args.publish,
                              log_json=args.log_json, inject=args.inject,
                              random_seed=args.random_seed)
    argv = [os.fsencode(args.program)] + [os.fsencode(a) for a in args.args]
    try:
        return sandbox.run(argv, environment(args, terminal() is not None), options)
    except OSError as e:
        return _usage_error(e.strerror or e)


if __name__ == "__main__":
    sys.exit(main())
