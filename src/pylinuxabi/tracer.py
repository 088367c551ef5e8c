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
        self._line(task, strace.format_call(entry.nr, tuple(args), result, read_string, read_bytes))

    def no_return(self, task, entry, args):
        """exit and exit_group: shown as they start, since they never return."""
        self._line(task, strace.format_call(entry.nr, tuple(args), None, None, None))

    def exec_done(self, task, image):
        """A successful execve, shown with what it was asked (its memory is gone now)."""
        argv = ", ".join(strace.quote_bytes(a[:strace.MAX_STRLEN]) + ("..." if len(a) > strace.MAX_STRLEN else "")
                         for a in image.argv)
        self._line(task, f"execve({strace.quote_bytes(image.execfn)}, [{argv}], "
                         f"{image.envp_addr:#x} /* {len(image.envp)} vars */) = 0")

    def exited(self, task, status):
        self._line(task, strace.format_exit(status))

    def _line(self, task, text):
        if self.out is None:
            return
        try:
            self.out.write(self._prefix(task) + text + "\n")
            self.out.flush()
        except OSError:
            self.out = None         # the reader went away (| head): stop logging, keep serving
