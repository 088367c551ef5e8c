"""--strace: one strace-style line per syscall, written as each call completes.

Formatting is syscalls/strace.py's; this only knows where lines go.
"""
import sys

from pylinuxabi.syscalls import strace


class Tracer:
    def __init__(self, dest):
        self.out = sys.stderr if dest in (None, "-") else open(dest, "w")
        self.pids = set()

    def _prefix(self, task):
        self.pids.add(task.tid)
        return f"[pid {task.tid:>5}] " if len(self.pids) > 1 else ""

    def syscall(self, task, entry, args, result):
        mem = task.mem

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
        line = strace.format_call(entry.nr, tuple(args), result, read_string, read_bytes)
        self.out.write(self._prefix(task) + line + "\n")
        self.out.flush()

    def exec_done(self, task, image):
        self.out.write(self._prefix(task) + f"--- exec {image.argv[0].decode(errors='replace')} ---\n")
        self.out.flush()
