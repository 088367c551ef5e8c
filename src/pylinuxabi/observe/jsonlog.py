"""--log-json: one JSON object a line per syscall and per event of the program.

The same records are what `pylinuxabi conform` compares: its native recorder
(conformance/native.py) writes them with the EventWriter below, so both runs
are described by the same code. The schema is in the README ("The JSON log").
"""
import errno as _errno
import json
import os
import signal
import sys
import time

from ptrace.syscall.prototypes import FILENAME_ARGUMENTS, SYSCALL_PROTOTYPES

from pylinuxabi.observe import strace
from pylinuxabi.base.names import SYSCALL_NAMES

SCHEMA = 1
_U64 = (1 << 64) - 1
_MAX_ERRNO = 4095
# int-typed arguments are shown signed (AT_FDCWD is -100); everything else unsigned
_SIGNED = {"int", "long", "pid_t", "off_t", "loff_t", "key_t", "clockid_t", "timer_t", "mqd_t"}


def _signed(v, bits):
    v &= (1 << bits) - 1
    return v - (1 << bits) if v >> (bits - 1) else v


def arg_values(nr, args, read_string):
    """{name: value}: numbers as numbers, path arguments as the string they name (None on a
    fault). Names and types are python-ptrace's prototypes; a syscall it does not know
    gets arg0..arg5."""
    name = SYSCALL_NAMES.get(nr)
    proto = SYSCALL_PROTOTYPES.get(name)
    if proto is None:
        return {f"arg{i}": v & _U64 for i, v in enumerate(args)}
    values = {}
    for (ctype, argname), raw in zip(proto[1], args):
        if argname in FILENAME_ARGUMENTS and "char" in ctype and "*" in ctype:
            text = read_string(raw, strace.PATH_MAX) if raw else None
            values[argname] = os.fsdecode(text) if text is not None else None
        elif ctype in _SIGNED:
            values[argname] = _signed(raw, 32 if ctype in ("int", "pid_t", "key_t", "clockid_t", "mqd_t") else 64)
        else:
            values[argname] = raw & _U64
    return values


def errno_name(result):
    """ENOENT for -2; None for a success. Restart codes keep the kernel's names."""
    if result is None or not -_MAX_ERRNO <= result < 0:
        return None
    return _errno.errorcode.get(-result) or strace.format_result(0, (0,) * 6, result).split()[1]


class EventWriter:
    """Writes the records; knows nothing of where they come from."""

    def __init__(self, out):
        self.out = out
        self.t0 = time.monotonic()

    def write(self, record):
        if self.out is None:
            return
        record["t"] = round(time.monotonic() - self.t0, 6)
        try:
            self.out.write(json.dumps(record, separators=(",", ":")) + "\n")
            self.out.flush()
        except OSError:
            self.out = None         # the reader went away: stop logging, keep serving

    def syscall(self, pid, tid, nr, args, result, read_string, read_bytes, duration=None):
        args = tuple(a & _U64 for a in args)
        record = {"ev": "syscall", "pid": pid, "tid": tid, "nr": nr, "name": SYSCALL_NAMES.get(nr, f"syscall_{nr}"),
                  "args": arg_values(nr, args, read_string), "raw": list(args)}
        record["result"] = result
        record["errno"] = errno_name(result)
        record["text"] = strace.format_call(nr, args, result, read_string, read_bytes)
        if duration is not None:
            record["dur_us"] = round(duration * 1e6, 1)
        self.write(record)

    def spawn(self, pid, tid, child, thread):
        self.write({"ev": "spawn", "pid": pid, "tid": tid, "child": child, "thread": thread})

    def signal(self, pid, tid, raw_siginfo):
        sig = int.from_bytes(raw_siginfo[:4], "little", signed=True)
        try:
            name = signal.Signals(sig).name
        except ValueError:
            name = f"SIG{sig}"
        self.write({"ev": "signal", "pid": pid, "tid": tid, "sig": name,
                    "text": strace.format_siginfo(raw_siginfo)})

    def exited(self, pid, tid, status):
        record = {"ev": "exit", "pid": pid, "tid": tid, "text": strace.format_exit(status)}
        if os.WIFSIGNALED(status):
            record["signal"] = signal.Signals(os.WTERMSIG(status)).name
        else:
            record["status"] = os.WEXITSTATUS(status)
        self.write(record)


def memory_readers(mem):
    """read_string and read_bytes over a task's memory, None on a fault."""
    def read_string(addr, n):
        try:
            return mem.read_cstring(addr, n)
        except Exception:
            return None

    def read_bytes(addr, n):
        try:
            return mem.read(addr, n)
        except Exception:
            return None
    return read_string, read_bytes


class JsonLog:
    """The kernel's observer (Kernel.tracer's interface) for --log-json."""

    def __init__(self, dest):
        out = sys.stderr if dest in (None, "-") else open(dest, "w")
        self.writer = EventWriter(out)
        self.started = {}           # tid -> time.monotonic() its current syscall stopped
        self.writer.write({"ev": "start", "schema": SCHEMA, "source": "model"})

    def begin(self, task):
        self.started[task.tid] = time.monotonic()

    def _duration(self, task):
        t = self.started.pop(task.tid, None)
        return None if t is None else time.monotonic() - t

    def sigreturn_mask(self, task, sp):
        return None

    def syscall(self, task, entry, args, result, sigreturn_mask=None):
        read_string, read_bytes = memory_readers(task.mem)
        self.writer.syscall(task.process.pid, task.tid, entry.nr, args, result, read_string, read_bytes,
                            self._duration(task))

    def no_return(self, task, entry, args):
        self.writer.syscall(task.process.pid, task.tid, entry.nr, args, None, lambda a, n: None,
                            lambda a, n: None, None)

    def exec_done(self, task, image):
        # the memory execve read is gone: its path and argv come from the image
        self.started.pop(task.tid, None)
        self.writer.write({"ev": "syscall", "pid": task.process.pid, "tid": task.tid, "nr": 59, "name": "execve",
                           "args": {"filename": os.fsdecode(image.execfn), "argv": [os.fsdecode(a) for a in image.call_argv],
                                    "envc": len(image.envp)},
                           "result": 0, "errno": None, "text": exec_text(image.execfn, image.call_argv, image.envp_addr,
                                                                        len(image.envp))})

    def spawned(self, parent, child, thread):
        self.writer.spawn(parent.process.pid, parent.tid, child.tid, thread)

    def signal(self, task, raw_siginfo):
        self.writer.signal(task.process.pid, task.tid, raw_siginfo)

    def exited(self, task, status):
        self.writer.exited(task.process.pid, task.tid, status)


def exec_text(path, argv, envp_addr, envc):
    """execve as strace shows a successful one (the memory it read is gone by then)."""
    shown = ", ".join(strace.quote_bytes(a[:strace.MAX_STRLEN]) + ("..." if len(a) > strace.MAX_STRLEN else "")
                      for a in argv)
    return f"execve({strace.quote_bytes(path)}, [{shown}], {envp_addr:#x} /* {envc} vars */) = 0"
