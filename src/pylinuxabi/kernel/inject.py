"""--inject RULE: faults injected into the program's syscalls, by rule.

A rule is strace's `-e inject=` expression, which people know already:

    SET[:error=ERRNO|:retval=N][:signal=SIG][:when=EXPR]

and beyond strace's:

    :path=GLOB      only calls whose path argument matches GLOB (fnmatch, as given)
    :fd=KIND        only calls whose fd argument is a file of this kind: file, dir,
                    pipe, socket, chr, blk, link, anon (epoll, eventfd…)
    :short=N        the call runs, but moves at most N bytes (read, write, pread64,
                    pwrite64, recvfrom, sendto, getdents64: their count argument)

SET is a comma-separated list of syscall names, `all`, `/REGEX` (names matching),
`%file` (calls with a path argument) or `%desc` (calls with an fd argument), each
possibly after `!` to take it out. EXPR is strace's: FIRST, FIRST+ (then every
call), FIRST+STEP, FIRST..LAST, FIRST..LAST+STEP; invocations are counted per
thread and per syscall, as strace counts them, and only those that the rule's
path and fd conditions let through. With neither error=, retval= nor short=,
the call runs and signal= comes as it returns.

Model-level faults are options of their own: a tmpfs that is full at N bytes is
`--tmpfs PATH:size=N`.
"""
import errno as _errno
import fnmatch
import re
import signal as _signal
import stat as st

from ptrace.syscall.prototypes import FILENAME_ARGUMENTS, SYSCALL_PROTOTYPES

from pylinuxabi.base.errors import SyscallError
from pylinuxabi.base.names import SYSCALL_NAMES, SYSCALL_NUMBERS

# calls whose third argument is a byte count :short= may lower
SHORT_COUNT = {"read", "write", "pread64", "pwrite64", "recvfrom", "sendto", "getdents64", "getdents"}
FD_NAMES = ("fd", "dfd", "dirfd", "olddfd", "newdfd", "ufd", "epfd", "out_fd", "in_fd", "fd_in", "fd_out")
KINDS = {st.S_IFREG: "file", st.S_IFDIR: "dir", st.S_IFIFO: "pipe", st.S_IFSOCK: "socket", st.S_IFCHR: "chr",
         st.S_IFBLK: "blk", st.S_IFLNK: "link"}
U64 = (1 << 64) - 1


def _proto_args(name):
    proto = SYSCALL_PROTOTYPES.get(name)
    return proto[1] if proto else ()


def path_args(name):
    return [i for i, (ctype, arg) in enumerate(_proto_args(name)) if arg in FILENAME_ARGUMENTS and "char" in ctype]


def fd_arg(name):
    for i, (ctype, arg) in enumerate(_proto_args(name)):
        if arg in FD_NAMES:
            return i
    return None


def _syscall_set(text):
    """The syscall numbers a SET names."""
    chosen = set()
    for item in text.split(","):
        negate = item.startswith("!")
        item = item[1:] if negate else item
        if item == "all":
            these = set(SYSCALL_NAMES)
        elif item.startswith("/"):
            try:
                regex = re.compile(item[1:])
            except re.error as e:
                raise ValueError(f"bad regular expression {item[1:]!r}: {e}")
            these = {nr for nr, name in SYSCALL_NAMES.items() if regex.search(name)}
        elif item == "%file":
            these = {nr for nr, name in SYSCALL_NAMES.items() if path_args(name)}
        elif item == "%desc":
            these = {nr for nr, name in SYSCALL_NAMES.items() if fd_arg(name) is not None}
        elif item in SYSCALL_NUMBERS:
            these = {SYSCALL_NUMBERS[item]}
        else:
            raise ValueError(f"no syscall named {item!r}")
        chosen = chosen - these if negate else chosen | these
    if not chosen:
        raise ValueError(f"{text!r} names no syscall")
    return frozenset(chosen)


def _when(text):
    """strace's FIRST[..LAST][+[STEP]] -> (first, last or None, step or 0)."""
    m = re.fullmatch(r"(\d+)(?:\.\.(\d+))?(\+(\d*))?", text)
    if not m:
        raise ValueError(f"bad when={text!r}: FIRST, FIRST+, FIRST+STEP, FIRST..LAST or FIRST..LAST+STEP")
    first = int(m.group(1))
    last = int(m.group(2)) if m.group(2) else None
    if first < 1 or (last is not None and last < first):
        raise ValueError(f"bad when={text!r}: counts start at 1, and LAST is not before FIRST")
    step = (int(m.group(4)) if m.group(4) else 1) if m.group(3) is not None else 0
    if last is not None and not step:
        step = 1            # FIRST..LAST: each in between
    return first, last, step


def _errno_number(text):
    if text.isdigit():
        value = int(text)
    else:
        value = getattr(_errno, text, None)
    if not isinstance(value, int) or not 0 < value < 4096:
        raise ValueError(f"no errno {text!r}")
    return value


def _signal_number(text):
    if text.isdigit():
        value = int(text)
    else:
        name = text.upper()
        value = getattr(_signal, name if name.startswith("SIG") else "SIG" + name, None)
    if not isinstance(value, int) or not 0 < value < 65:
        raise ValueError(f"no signal {text!r}")
    return int(value)


class Rule:
    def __init__(self, text):
        self.text = text
        parts = text.split(":")
        self.nrs = _syscall_set(parts[0])
        self.error = self.retval = self.signal = self.short = self.path = self.fd = None
        self.when = (1, None, 1)
        for part in parts[1:]:
            key, eq, value = part.partition("=")
            if not eq or not value:
                raise ValueError(f"bad {part!r}: KEY=VALUE")
            if key == "error":
                self.error = _errno_number(value)
            elif key == "retval":
                try:
                    self.retval = int(value, 0)
                except ValueError:
                    raise ValueError(f"bad retval={value!r}") from None
            elif key == "signal":
                self.signal = _signal_number(value)
            elif key == "when":
                self.when = _when(value)
            elif key == "path":
                self.path = value
            elif key == "fd":
                if value not in set(KINDS.values()) | {"anon"}:
                    raise ValueError(f"bad fd={value!r}: {', '.join(sorted(set(KINDS.values()) | {'anon'}))}")
                self.fd = value
            elif key == "short":
                if not value.isdigit():
                    raise ValueError(f"bad short={value!r}: a byte count")
                self.short = int(value)
            else:
                raise ValueError(f"unknown {key}= (error, retval, signal, when, path, fd, short)")
        if self.error is not None and self.retval is not None:
            raise ValueError("error= and retval= exclude each other")
        if (self.error is not None or self.retval is not None) and self.short is not None:
            raise ValueError("short= runs the call: not with error= or retval=")
        if self.error is None and self.retval is None and self.signal is None and self.short is None:
            raise ValueError(f"{text!r} injects nothing: give error=, retval=, signal= or short=")
        if self.short is not None:
            if not all(SYSCALL_NAMES.get(nr) in SHORT_COUNT for nr in self.nrs):
                raise ValueError(f"short= is for {', '.join(sorted(SHORT_COUNT))}")
        if self.path is not None and not all(path_args(SYSCALL_NAMES.get(nr)) for nr in self.nrs):
            raise ValueError("path= is for syscalls with a path argument")
        if self.fd is not None and not all(fd_arg(SYSCALL_NAMES.get(nr)) is not None for nr in self.nrs):
            raise ValueError("fd= is for syscalls with an fd argument")

    def due(self, n):
        """Is the n-th (1-based) matching invocation one to tamper with?"""
        first, last, step = self.when
        if n < first or (last is not None and n > last):
            return False
        return n == first if not step else (n - first) % step == 0

    def matches(self, task, nr, raw):
        name = SYSCALL_NAMES.get(nr)
        if self.path is not None:
            paths = []
            for i in path_args(name):
                try:
                    paths.append(task.mem.read_cstring(raw[i], 4096).decode(errors="surrogateescape"))
                except SyscallError:
                    pass
            if not any(fnmatch.fnmatchcase(p, self.path) for p in paths):
                return False
        if self.fd is not None:
            fd = raw[fd_arg(name)] & 0xFFFFFFFF
            try:
                f = task.files.get(fd - (1 << 32) if fd >> 31 else fd)
            except SyscallError:
                return False
            kind = KINDS.get(st.S_IFMT(f.inode.mode), "anon")     # (anon inodes have no type bits)
            if kind != self.fd:
                return False
        return True


class Fault:
    """What one rule does to one call."""

    def __init__(self, rule):
        self.rule = rule

    def run(self, kernel, task, entry, args, raw):
        rule = self.rule
        if rule.error is not None or rule.retval is not None:
            result = -rule.error if rule.error is not None else rule.retval
        elif rule.short is not None:
            args = list(args)
            args[2] = min(args[2], rule.short)
            result = entry.handler(task, *args)
            if result.__class__ is not int:      # the host runs it (a Resume): with the smaller count
                regs = list(result.args) if result.args is not None else [None] * 6
                regs[2] = min(raw[2], rule.short)
                result = result.__class__(result.exit_stop, result.on_exit, regs)
        else:
            result = entry.handler(task, *args)
        if rule.signal is not None:
            kernel.send_signal(task, rule.signal)
        return result


class Injector:
    def __init__(self, rules):
        self.rules = [Rule(r) if isinstance(r, str) else r for r in rules]
        self.watched = frozenset().union(*(r.nrs for r in self.rules))
        self.counts = {}        # (tid, rule index, nr) -> invocations that matched

    def fault(self, task, nr, raw):
        """The Fault for this call, or None. Each rule that matches counts it; the
        first whose count is due applies."""
        if nr not in self.watched:
            return None
        chosen = None
        for i, rule in enumerate(self.rules):
            if nr not in rule.nrs or not rule.matches(task, nr, raw):
                continue
            key = (task.tid, i, nr)
            n = self.counts[key] = self.counts.get(key, 0) + 1
            if chosen is None and rule.due(n):
                chosen = Fault(rule)
        return chosen
