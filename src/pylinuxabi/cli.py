"""The `pylinuxabi` command: run a program in the sandbox.

Parses options and hands them to sandbox.run; prints errors the way a shell would.
"""
import argparse
import os
import sys

from pylinuxabi.startsignals import capture_signals


def _user(text):
    uid, _, gid = text.partition(":")
    return int(uid), int(gid or uid)


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
    from pylinuxabi.kernel.creds import cap_by_name
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
    if len(parts) != 3 or parts[2] not in ("ro", "rw") or not parts[1].startswith("/"):
        raise argparse.ArgumentTypeError(f"bad volume {text!r}: HOST:GUEST[:ro|rw], GUEST absolute")
    return os.path.abspath(parts[0]), parts[1], parts[2] == "ro"


def parser():
    p = argparse.ArgumentParser(prog="pylinuxabi", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run", help="run a program under the supervisor")
    r.add_argument("--root", default="/", help="host directory to serve as / (default: the host's /)")
    r.add_argument("--user", type=_user, default=(0, 0), metavar="UID:GID",
                   help="the program's (virtual) credentials; default 0:0")
    r.add_argument("--hostname", default="pylinuxabi")
    r.add_argument("--workdir", help="starting directory inside the sandbox")
    r.add_argument("--strace", nargs="?", const="-", metavar="FILE",
                   help="log every syscall strace-style to FILE (default stderr)")
    r.add_argument("--trace-all", action="store_true", help="trap every syscall, even those the filter allows")
    r.add_argument("--strict", action="store_true", help="a crash in a handler stops the supervisor (for tests)")
    r.add_argument("--net", action="store_true", help="share the host's network (default: none)")
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
    return p


def main(argv=None):
    capture_signals()
    from pylinuxabi import sandbox      # after the hold: importing it may start child processes
    argv = list(sys.argv[1:] if argv is None else argv)
    # `--strace PROGRAM` must not take PROGRAM as its file: only `--strace=FILE` names one
    takes_value = {"--root", "--user", "--hostname", "--workdir", "--tmpfs", "-v", "--volume",
                   "--upper", "--upper-work", "--cap-add", "--cap-drop"}
    i = 1
    while i < len(argv):
        a = argv[i]
        if a == "--strace":
            argv[i] = "--strace=-"
        elif a in takes_value:
            i += 1
        elif not a.startswith("-"):
            break
        i += 1
    args = parser().parse_args(argv)
    if args.command == "run":
        if args.read_only and args.upper:
            print("pylinuxabi: --upper needs a writable root (not --read-only)", file=sys.stderr)
            return 2
        uid, gid = args.user
        options = sandbox.Options(root=args.root, uid=uid, gid=gid, hostname=args.hostname,
                                  strict=args.strict, trace_all=args.trace_all, strace=args.strace,
                                  workdir=args.workdir, new_net=not args.net, read_only=args.read_only,
                                  tmpfs=args.tmpfs, volumes=args.volume, upper=args.upper,
                                  upper_work=args.upper_work, cap_add=args.cap_add,
                                  cap_drop=args.cap_drop)
        program = args.program.encode()
        envp = [b"%s=%s" % (k, v) for k, v in os.environb.items()]
        try:
            return sandbox.run([program] + [a.encode() for a in args.args], envp, options)
        except OSError as e:
            print(f"pylinuxabi: {e.strerror or e}", file=sys.stderr)
            return 125
    return 2


if __name__ == "__main__":
    sys.exit(main())
