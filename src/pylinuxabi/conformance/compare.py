"""Two JSON logs of one program (native and model) compared: the first syscall
of each thread that differs, after the normalisation rules (rules.txt).

Threads are matched by their place in the process tree, not by pid: the main
thread is "1", its second child process "1.2", that child's first new thread
"1.2t1". Within a thread the calls are compared in order; where the texts
first differ, the rest of that thread is not compared (one divergence makes
every later call suspect). The signals a thread was delivered are compared as
a set, not by where they fell among its calls.
"""
import fnmatch
import json
import os
import re
from collections import Counter
from dataclasses import dataclass, field

RULES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "rules.txt")
CONTEXT = 3         # calls shown before a divergence
# a call a signal interrupted and the kernel restarted: the program never sees it, and
# whether a signal comes in the middle of a wait is timing
RESTARTS = {"ERESTARTSYS", "ERESTARTNOINTR", "ERESTARTNOHAND", "ERESTART_RESTARTBLOCK"}


class RuleError(Exception):
    pass


@dataclass
class Rules:
    ignore: set = field(default_factory=set)
    pid: set = field(default_factory=set)
    data: set = field(default_factory=set)       # path globs: what reads of them return varies
    optional: set = field(default_factory=set)   # calls one run may make where the other does not
    subs: list = field(default_factory=list)     # (glob, compiled regex, replacement)
    _by_name: dict = field(default_factory=dict)

    def read(self, path):
        with open(path) as f:
            for number, line in enumerate(f, 1):
                line = line.strip()
                if not line or line.startswith("#"):
                    continue
                try:
                    self._rule(line)
                except (ValueError, re.error) as e:
                    raise RuleError(f"{path}:{number}: {e}") from None
        self._by_name.clear()
        return self

    def _rule(self, line):
        kind, _, rest = line.partition(" ")
        if kind in ("ignore", "pid", "data", "optional"):
            names = rest.split()
            if not names:
                raise ValueError(f"{kind} names no syscall")
            getattr(self, kind).update(names)
            return
        if kind != "sub":
            raise ValueError(f"unknown rule {kind!r} (ignore, optional, pid, data or sub)")
        glob, _, spec = rest.strip().partition(" ")
        spec = spec.strip()
        if len(spec) < 3:
            raise ValueError("sub needs GLOB /REGEX/REPLACEMENT/")
        delim = spec[0]
        parts = re.split(r"(?<!\\)" + re.escape(delim), spec[1:])
        if len(parts) != 3 or parts[2].strip():
            raise ValueError(f"sub needs {delim}REGEX{delim}REPLACEMENT{delim}")
        # an escaped delimiter is that character itself, as in sed
        regex = parts[0].replace("\\" + delim, re.escape(delim))
        self.subs.append((glob, re.compile(regex), parts[1].replace("\\" + delim, delim)))

    def normalise(self, name, text):
        subs = self._by_name.get(name)
        if subs is None:
            subs = self._by_name[name] = [(r, repl) for glob, r, repl in self.subs if fnmatch.fnmatchcase(name, glob)]
        for regex, repl in subs:
            text = regex.sub(repl, text)
        if name in self.pid:
            text = re.sub(r"= [1-9]\d*$", "= PID", text)
        return text

    def varies(self, path):
        """Is path a file whose contents differ from run to run (a `data` rule)?"""
        return path is not None and any(fnmatch.fnmatchcase(path, glob) for glob in self.data)


def load_rules(extra=()):
    rules = Rules().read(RULES)
    for path in extra:
        rules.read(path)
    return rules


@dataclass
class Call:
    name: str           # the syscall's name, or "signal", "exit"
    text: str           # as recorded (strace's format)
    norm: str           # after the rules
    errno: str = None
    record: dict = None


@dataclass
class Trace:
    threads: dict       # key -> [Call]
    comm: dict          # key -> the program the thread last exec'ed
    signals: dict       # key -> Counter of the signals delivered to it (their normalised text)
    source: str = "?"


OPENS = {"open", "openat", "creat"}
READS = {"read", "pread64", "readv", "preadv", "preadv2"}
# a read's data, its count (what is left of a buffer depends on what came before) and result
_READ_DATA = re.compile(r'^(\w+\(\d+, ).*, \d+((?:, \d+)?\) = )\d+$')


class _Files:
    """What each process's fds name, as far as its calls show (open, dup, close):
    enough to know which reads are of files whose contents vary (`data` rules)."""

    def __init__(self):
        self.of = {}            # process key -> {fd: path}

    def spawned(self, parent, child, thread):
        table = self.of.setdefault(parent, {})
        self.of[child] = table if thread else dict(table)

    def update(self, process, record):
        table = self.of.setdefault(process, {})
        name, result, args = record["name"], record.get("result"), record.get("args", {})
        if result is None or result < 0:
            return
        if name in OPENS:
            table[result] = args.get("filename", args.get("pathname"))
        elif name == "close":
            table.pop(args.get("fd"), None)
        elif name in ("dup", "dup2", "dup3", "fcntl") and (name != "fcntl" or args.get("cmd") in (0, 1030)):
            table[result] = table.get(args.get("fildes", args.get("oldfd", args.get("fd"))))

    def path(self, process, fd):
        return self.of.get(process, {}).get(fd)


def load(path, rules):
    """A JSON log read into per-thread call lists, keyed by place in the process tree."""
    threads, comm, key_of, process_of, children, signals = {}, {}, {}, {}, Counter(), {}
    files = _Files()
    source = "?"
    with open(path) as f:
        for line in f:
            try:
                r = json.loads(line)
            except ValueError:
                continue            # a line cut short by a killed run
            ev = r.get("ev")
            if ev == "start":
                source = r.get("source", "?")
                continue
            tid = r.get("tid")
            if tid not in key_of:
                key_of[tid] = "1" if not key_of else f"?{tid}"
                process_of[key_of[tid]] = key_of[tid]
            key = key_of[tid]
            if ev == "spawn":
                children[key] += 1
                child = f"{key}t{children[key]}" if r["thread"] else f"{key}.{children[key]}"
                key_of[r["child"]] = child
                process_of[child] = process_of[key] if r["thread"] else child
                files.spawned(process_of[key], child, r["thread"])
                continue
            if ev == "syscall":
                name = r["name"]
                if name in rules.ignore:
                    continue
                if name == "execve" and r.get("result") == 0:
                    comm[key] = r["args"].get("filename")
                norm = rules.normalise(name, r["text"])
                if name in READS and rules.varies(files.path(process_of[key], r["args"].get("fd"))):
                    norm = _READ_DATA.sub(r"\1DATA, N\2N", norm)
                    last = threads.get(key, [None])[-1]
                    if last is not None and last.norm == norm:
                        continue        # how many reads a file of varying length takes varies too
                files.update(process_of[key], r)
                call = Call(name, r["text"], norm, r.get("errno"), r)
            elif ev == "signal":
                signals.setdefault(key, Counter())[rules.normalise(ev, r["text"])] += 1
                continue
            elif ev == "exit":
                call = Call(ev, r["text"], rules.normalise(ev, r["text"]), None, r)
            else:
                continue
            threads.setdefault(key, []).append(call)
    return Trace(threads, comm, signals, source)


def _key_order(key):
    return [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", key)]


@dataclass
class Divergence:
    thread: str
    program: str
    index: int          # 0-based place in the thread's calls
    before: list        # [Call] the calls both made just before
    native: Call        # None: the native thread made no more calls
    model: Call

    def as_dict(self):
        def call(c):
            return None if c is None else {"name": c.name, "text": c.text, "normalised": c.norm, "errno": c.errno}
        return {"thread": self.thread, "program": self.program, "index": self.index,
                "before": [c.text for c in self.before], "native": call(self.native), "model": call(self.model)}


def compare(native, model, optional=frozenset()):
    """[Divergence], one per thread whose calls differ, in tree order. A call named
    in `optional` that only one run made is stepped over."""
    found = []
    for key in sorted(set(native.threads) | set(model.threads), key=_key_order):
        a, b = native.threads.get(key, []), model.threads.get(key, [])
        i = j = 0
        while i < len(a) or j < len(b):
            x = a[i] if i < len(a) else None
            y = b[j] if j < len(b) else None
            if x is not None and y is not None and x.norm == y.norm:
                i, j = i + 1, j + 1
                continue
            if x is not None and (x.name in optional or x.errno in RESTARTS):
                i += 1
                continue
            if y is not None and (y.name in optional or y.errno in RESTARTS):
                j += 1
                continue
            found.append(Divergence(key, native.comm.get(key) or model.comm.get(key) or "?", i,
                                    a[max(0, i - CONTEXT):i], x, y))
            break
        else:
            # signals are compared as the set each thread got: when one from another
            # process arrives, between which two calls, is the scheduler's choice
            ours, theirs = native.signals.get(key, Counter()), model.signals.get(key, Counter())
            if ours != theirs:
                found.append(Divergence(key, native.comm.get(key) or model.comm.get(key) or "?", len(a), [],
                                        _signal_call(ours - theirs), _signal_call(theirs - ours)))
    return found


def _signal_call(extra):
    """The signals one run's thread got and the other's did not, as a Call (None: none)."""
    if not extra:
        return None
    text = "; ".join(sorted(extra.elements()))
    return Call("signal", text, text)


def summary(native, model):
    """[(syscall, result class, native count, model count)] where the counts differ: the
    whole run's syscalls by name and errno ("ok" for success)."""
    def count(trace):
        c = Counter()
        for calls in trace.threads.values():
            for call in calls:
                if call.name not in ("signal", "exit"):
                    c[call.name, call.errno or "ok"] += 1
        return c
    a, b = count(native), count(model)
    return [(name, result, a[name, result], b[name, result])
            for name, result in sorted(set(a) | set(b)) if a[name, result] != b[name, result]]
