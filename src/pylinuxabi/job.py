"""The sandbox as one job of the user's shell, on the terminal we were started on.

When `pylinuxabi run` is the terminal's foreground job, the program becomes
it instead (and when it is brought to the foreground later): the supervisor hands its process group the terminal, so the
program's terminal I/O and job control are the host's (syscalls/terminal.py)
and Ctrl-C reaches it from the terminal itself. The two sides then act as
one job:
- the program's main process stops (Ctrl-Z): the supervisor, which cannot
  name `pylinuxabi run` from inside its PID namespace, writes a byte to the
  `stops` pipe; its SIGIO tells `pylinuxabi run`, which stops itself, so the
  user's shell sees its job stop and takes the terminal back;
- `pylinuxabi run` is continued (fg or bg): it writes "f" or "b" to the
  `conts` pipe and sends the supervisor SIGCONT; the supervisor continues the
  program's process group, giving it the terminal for "f";
- at the end `pylinuxabi run` takes the terminal back for the shell.
The supervisor sits in a process group of its own, so the shell's SIGCONT
to the job reaches it only through `pylinuxabi run`.
"""
import fcntl
import os
import signal

STOP_SIGNALS = (signal.SIGTSTP, signal.SIGTTIN, signal.SIGTTOU)


def terminal():
    """The first of our stdin, stdout and stderr that is a terminal, or None."""
    for fd in (0, 1, 2):
        try:
            if os.isatty(fd):
                return fd
        except OSError:
            continue
    return None


class Job:
    """Made in `pylinuxabi run` before it forks the supervisor; each side then uses its half."""

    def __init__(self):
        self.tty = terminal()
        self.active = self.tty is not None
        self.foreground = self.active and os.tcgetpgrp(self.tty) == os.getpgrp()
        self.gave = self.foreground     # has the program had the terminal?
        self.signals = set()            # what `pylinuxabi run` must wait for
        if self.active:
            self.stops = os.pipe()
            self.conts = os.pipe()
            fcntl.fcntl(self.stops[0], fcntl.F_SETOWN, os.getpid())
            fcntl.fcntl(self.stops[0], fcntl.F_SETFL, os.O_ASYNC | os.O_NONBLOCK)
            fcntl.fcntl(self.conts[0], fcntl.F_SETFL, os.O_NONBLOCK)
            self.signals = {signal.SIGCONT, signal.SIGIO}
            signal.pthread_sigmask(signal.SIG_BLOCK, self.signals | {signal.SIGTTOU})

    # -- in `pylinuxabi run` ---------------------------------------------------
    def outer_side(self):
        if self.active:
            os.close(self.stops[1])
            os.close(self.conts[0])

    def outer_signal(self, signo, supervisor):
        """One of self.signals came: stop with the program, or continue it."""
        if signo == signal.SIGIO:
            if _drain(self.stops[0]):
                os.kill(os.getpid(), signal.SIGTSTP)    # we go on at the shell's SIGCONT
        elif signo == signal.SIGCONT:
            fg = os.tcgetpgrp(self.tty) == os.getpgrp()
            self.gave |= fg
            try:
                os.write(self.conts[1], b"f" if fg else b"b")
                os.kill(supervisor, signal.SIGCONT)
            except OSError:
                pass            # the supervisor is gone

    def restore(self):
        """The shell's job gets its terminal back, if the program's group still has it."""
        if not self.gave:
            return
        try:
            if os.tcgetpgrp(self.tty) not in (os.getpgrp(), os.getpgid(os.getppid())):
                os.tcsetpgrp(self.tty, os.getpgrp())
        except OSError:
            pass

    # -- in the supervisor --------------------------------------------------------
    def supervisor_side(self):
        """Before the program starts: our own group; our terminal writes never stop us."""
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTTOU, signal.SIGTTIN})
        if self.active:
            os.close(self.stops[0])
            os.close(self.conts[1])
            os.setpgid(0, 0)

    def started(self, kernel):
        """The program runs as pid `kernel.main_pid`, in its own process group."""
        if not self.active:
            return
        if self.foreground:
            kernel.platform.give_terminal(kernel.main_pid)
        kernel.main_stopped = self._main_stopped
        signal.signal(signal.SIGCONT, lambda sig, frame: self._continued(kernel))

    def _main_stopped(self, sig):
        if sig in STOP_SIGNALS:
            os.write(self.stops[1], b"s")

    def _continued(self, kernel):
        said = _drain(self.conts[0])
        if not said or kernel.main_pid is None:
            return
        try:
            pgid = os.getpgid(kernel.main_pid)
            if said.endswith(b"f"):
                kernel.platform.give_terminal(pgid)
            os.killpg(pgid, signal.SIGCONT)
        except OSError:
            pass


def _drain(fd):
    """All that is in a non-blocking pipe now."""
    data = b""
    try:
        while chunk := os.read(fd, 64):
            data += chunk
    except (BlockingIOError, OSError):
        pass
    return data
