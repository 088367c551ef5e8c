"""--strace: one strace-style line per syscall, written as each call completes.

Formatting is observe/strace.py's; this only knows where lines go.
"""
import sys

from pylinuxabi.observe import strace
from pylinuxabi.observe.jsonlog import exec_text, memory_readers

# offset of uc_sigmask in the rt_sigframe's ucontext rt_sigreturn finds at sp:
# uc_flags, uc_link, uc_stack (24), uc_mcontext (256)
UC_SIGMASK = 8 + 8 + 24 + 256


class Tracer:
    def __init__(self, dest):
        self.out = sys.stderr if dest in (None, "-") else open(dest, "w")
        self.pids = set()

    def _prefix(self, task):
        self.pids.add(task.tid)
        return f"[pid {task.tid:>5}] " if len(self.pids) > 1 else ""

    def begin(self, task):
        pass

    def spawned(self, parent, child, thread):
        pass

    def sigreturn_mask(self, task, sp):
        """rt_sigreturn's frame at sp: its ucontext's uc_sigmask, which the call restores."""
        try:
            return int.from_bytes(task.mem.read(sp + UC_SIGMASK, 8), "little")
        except Exception:
            return None

    def syscall(self, task, entry, args, result, sigreturn_mask=None):
        if sigreturn_mask is not None:
            text = strace.format_sigreturn_mask(sigreturn_mask)
            self._line(task, f"{text} = {strace.format_result(entry.nr, tuple(args), result)}")
            return
        read_string, read_bytes = memory_readers(task.mem)
        self._line(task, strace.format_call(entry.nr, tuple(args), result, read_string, read_bytes))
        if entry.name in ("io_uring_enter", "io_uring_register"):
            self._ring_lines(task, args[0])

    def _ring_lines(self, task, fd):
        """After io_uring_enter: the SQEs it took and the CQEs posted since, one a line."""
        try:
            f = task.files.get(fd)
        except Exception:
            return
        for line in getattr(f, "trace_lines", list)():
            self._line(task, "  io_uring " + line)

    def no_return(self, task, entry, args):
        """exit and exit_group: shown as they start, since they never return."""
        self._line(task, strace.format_call(entry.nr, tuple(args), None, None, None))

    def exec_done(self, task, image):
        """A successful execve, shown with what it was asked (its memory is gone now)."""
        self._line(task, exec_text(image.execfn, image.call_argv, image.envp_addr, len(image.envp)))

    def signal(self, task, raw_siginfo):
        self._line(task, strace.format_siginfo(raw_siginfo))

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
