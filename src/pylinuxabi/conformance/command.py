"""`pylinuxabi conform`: run a program natively and under the model, compare.

Both runs get the same argv, environment (docker's: PATH, HOSTNAME, HOME),
working directory, stdin bytes, hostname and the host's network; neither
changes the host (conformance/native.py; the sandbox's overlay). Exit status:
0 when they conform, 1 when they diverge, 125 for our own errors.
"""
import html
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile

from pylinuxabi.conformance import compare
from pylinuxabi.conformance.native import DOCKER_CAP_NAMES

EXIT_CONFORM, EXIT_DIVERGE, EXIT_ERROR = 0, 1, 125
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
HOSTNAME = "pylinuxabi"
SEED = 1           # both runs' getrandom bytes (base/seeded.py)


class ConformError(Exception):
    pass


class Case:
    """One command run both ways: the traces, outputs and exit statuses."""

    def __init__(self, argv, note=None):
        self.argv = argv
        self.note = note            # a --suite line's expected divergence, if any
        self.runs = {}              # "native"/"model" -> {"status", "stdout", "stderr", "trace"}
        self.divergences = []
        self.summary = []

    def differences(self):
        """What differs besides the traces: exit status, stdout, stderr."""
        n, m = self.runs["native"], self.runs["model"]
        return [what for what in ("status", "stdout", "stderr") if n[what] != m[what]]

    @property
    def conforms(self):
        return not self.divergences and not self.differences()

    def as_dict(self):
        return {"argv": self.argv, "note": self.note, "conforms": self.conforms,
                "status": {side: r["status"] for side, r in self.runs.items()},
                "differs": self.differences(),
                "divergences": [d.as_dict() for d in self.divergences],
                "summary": [{"syscall": s, "result": r, "native": a, "model": b} for s, r, a, b in self.summary]}


def _status_of(trace, returncode):
    """The main process's end as the log saw it (its subprocess's own code otherwise)."""
    for call in reversed(trace.threads.get("1", [])):
        if call.name == "exit":
            r = call.record
            return f"signal {r['signal']}" if "signal" in r else r["status"]
    return f"no exit recorded (run ended {returncode})"


def run_case(case, rules, stdin, work, options):
    env = {"PATH": DEFAULT_PATH, "HOSTNAME": HOSTNAME, "HOME": "/root"}
    cwd = os.getcwd()
    stdin_path = os.path.join(work, "stdin")
    with open(stdin_path, "wb") as f:
        f.write(stdin)
    env_path = os.path.join(work, "env.json")
    with open(env_path, "w") as f:
        json.dump(env, f)
    scratch = tempfile.mkdtemp(prefix="conform-", dir=work)
    commands = {
        "native": [sys.executable, "-m", "pylinuxabi.conformance.native", os.path.join(work, "native.jsonl"),
                   env_path, cwd, HOSTNAME, scratch, str(SEED)] + case.argv,
        "model": [sys.executable, "-m", "pylinuxabi", "run", "--net", "none", "--hostname", HOSTNAME, "-w", cwd,
                  "--random-seed", str(SEED), "--cap-drop", "ALL"]
                 + [f"--cap-add={cap}" for cap in DOCKER_CAP_NAMES] + [
                  "--log-json", os.path.join(work, "model.jsonl")]
                 + [f"--inject={rule}" for rule in options.inject] + ["--"] + case.argv,
    }
    for side, command in commands.items():
        out, err = os.path.join(work, side + ".out"), os.path.join(work, side + ".err")
        with open(stdin_path, "rb") as i, open(out, "wb") as o, open(err, "wb") as e:
            try:
                done = subprocess.run(command, stdin=i, stdout=o, stderr=e, env=env if side == "model" else None,
                                      timeout=options.timeout)
            except subprocess.TimeoutExpired:
                raise ConformError(f"the {side} run of {shlex.join(case.argv)} ran past {options.timeout} s")
        log = os.path.join(work, side + ".jsonl")
        if not os.path.exists(log) or os.path.getsize(log) == 0:
            with open(err, "rb") as f:
                tail = f.read()[-2000:].decode(errors="replace")
            raise ConformError(f"the {side} run recorded nothing (exit {done.returncode}): {tail.strip()}")
        trace = compare.load(log, rules)
        with open(out, "rb") as o, open(err, "rb") as e:
            case.runs[side] = {"status": _status_of(trace, done.returncode), "stdout": o.read(), "stderr": e.read(),
                               "trace": trace}
    native, model = case.runs["native"]["trace"], case.runs["model"]["trace"]
    case.divergences = compare.compare(native, model, rules.optional)
    case.summary = compare.summary(native, model)
    shutil.rmtree(scratch, ignore_errors=True)


def _show(text, limit=160):
    return text if len(text) <= limit else text[:limit - 3] + "..."


def report_text(case, out):
    name = shlex.join(case.argv)
    if case.conforms:
        print(f"conforms: {name}", file=out)
        return
    print(f"DIVERGES: {name}", file=out)
    for what in case.differences():
        n, m = case.runs["native"][what], case.runs["model"][what]
        if what == "status":
            print(f"  exit status: native {n}, model {m}", file=out)
        else:
            print(f"  {what} differs: native {_show(repr(n[:200]))}", file=out)
            print(f"  {' ' * len(what)}          model  {_show(repr(m[:200]))}", file=out)
    for d in case.divergences:
        print(f"  thread {d.thread} ({d.program}), call {d.index + 1}:", file=out)
        for call in d.before:
            print(f"      {_show(call.text)}", file=out)
        # (the two lines that differ are shown whole enough to see where)
        print(f"    native: {_show(d.native.text, 600) if d.native else '(no more calls)'}", file=out)
        print(f"    model:  {_show(d.model.text, 600) if d.model else '(no more calls)'}", file=out)
    if case.summary:
        print("  calls by syscall and result, where the counts differ:", file=out)
        width = max(len(s) for s, *_ in case.summary)
        print(f"    {'syscall':<{width}}  {'result':<12} {'native':>6} {'model':>6}", file=out)
        for syscall, result, a, b in case.summary[:40]:
            print(f"    {syscall:<{width}}  {result:<12} {a:>6} {b:>6}", file=out)
        if len(case.summary) > 40:
            print(f"    ... {len(case.summary) - 40} more", file=out)


def report_html(cases, directory):
    os.makedirs(directory, exist_ok=True)
    rows = []
    for i, case in enumerate(cases):
        verdict = "conforms" if case.conforms else "diverges"
        first = case.divergences[0] if case.divergences else None
        where = (f"thread {first.thread}, call {first.index + 1}: native <code>{html.escape(first.native.text if first.native else '-')}</code>"
                 f"<br>model <code>{html.escape(first.model.text if first.model else '-')}</code>") if first else \
            html.escape(", ".join(case.differences()))
        rows.append(f"<tr class={verdict}><td><code>{html.escape(shlex.join(case.argv))}</code></td>"
                    f"<td>{verdict}</td><td>{where}</td><td>{html.escape(case.note or '')}</td></tr>")
    with open(os.path.join(directory, "index.html"), "w") as f:
        f.write("<!doctype html><meta charset=utf-8><title>pylinuxabi conform</title>"
                "<style>td{vertical-align:top;padding:4px}.diverges{background:#fdd}.conforms{background:#dfd}</style>"
                "<h1>pylinuxabi conform</h1><table><tr><th>command<th>result<th>first divergence<th>note</tr>"
                + "".join(rows) + "</table>\n")


def read_suite(path):
    """One command a line (shell words); `# expect: TEXT` after it notes an expected divergence."""
    cases = []
    with open(path) as f:
        for number, line in enumerate(f, 1):
            command, _, note = line.partition("# expect:")
            command = command.strip()
            if not command or command.startswith("#"):
                continue
            try:
                argv = shlex.split(command)
            except ValueError as e:
                raise ConformError(f"{path}:{number}: {e}")
            cases.append(Case(argv, note.strip() or None))
    return cases


def main(args):
    try:
        return _main(args)
    except BrokenPipeError:         # (| head)
        return EXIT_ERROR


def _main(args):
    if os.geteuid() != 0:
        print("pylinuxabi conform: the native run needs root (a mount namespace over an overlay of /)",
              file=sys.stderr)
        return EXIT_ERROR
    try:
        rules = compare.load_rules(args.rules)
        cases = read_suite(args.suite) if args.suite else [Case(args.command)]
    except (OSError, compare.RuleError, ConformError) as e:
        print(f"pylinuxabi conform: {e}", file=sys.stderr)
        return EXIT_ERROR
    if not cases:
        print("pylinuxabi conform: no command to run", file=sys.stderr)
        return EXIT_ERROR
    stdin = b"" if sys.stdin is None or sys.stdin.isatty() or args.suite else sys.stdin.buffer.read()
    base = tempfile.mkdtemp(prefix="pylinuxabi-conform-", dir="/dev/shm" if os.path.isdir("/dev/shm") else None)
    try:
        for i, case in enumerate(cases):
            work = os.path.join(base, str(i))
            os.mkdir(work)
            try:
                run_case(case, rules, stdin, work, args)
            except ConformError as e:
                print(f"pylinuxabi conform: {e}", file=sys.stderr)
                return EXIT_ERROR
            report_text(case, sys.stdout)
            sys.stdout.flush()
        if args.keep:
            shutil.copytree(base, args.keep, dirs_exist_ok=True)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"cases": [c.as_dict() for c in cases]}, f, indent=1, default=repr)
    if args.html:
        report_html(cases, args.html)
    return EXIT_CONFORM if all(c.conforms or c.note for c in cases) else EXIT_DIVERGE
