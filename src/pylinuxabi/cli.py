"""The `pylinuxabi` command: run a program in the sandbox.

Parses options and hands them to sandbox.run; prints errors the way a shell would.
"""
import argparse
import os
import sys

from pylinuxabi import sandbox


def _user(text):
    uid, _, gid = text.partition(":")
    return int(uid), int(gid or uid)


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
    r.add_argument("program")
    r.add_argument("args", nargs=argparse.REMAINDER)
    return p


def main(argv=None):
    sandbox.capture_signals()
    argv = list(sys.argv[1:] if argv is None else argv)
    # `--strace PROGRAM` must not take PROGRAM as its file: only `--strace=FILE` names one
    for i, a in enumerate(argv):
        if a == "--strace":
            argv[i] = "--strace=-"
        if not a.startswith("-") and i > 0:
            break
    args = parser().parse_args(argv)
    if args.command == "run":
        uid, gid = args.user
        options = sandbox.Options(root=args.root, uid=uid, gid=gid, hostname=args.hostname,
                                  strict=args.strict, trace_all=args.trace_all, strace=args.strace,
                                  workdir=args.workdir, new_net=not args.net)
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
