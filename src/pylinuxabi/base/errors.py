"""How handlers report failure and waiting to the kernel's event loop.

Pure definitions: no imports from the rest of pylinuxabi.
"""
import errno
import os


class SyscallError(Exception):
    """A syscall fails with a Linux errno (the program sees -errno)."""

    def __init__(self, err, message=None):
        super().__init__(message or os.strerror(err))
        self.errno = err

    def __repr__(self):
        return f"SyscallError({errno.errorcode.get(self.errno, self.errno)})"


ERESTARTSYS = 512          # restart after a handler if SA_RESTART, else EINTR
ERESTARTNOINTR = 513       # always restart
ERESTARTNOHAND = 514       # restart only if no handler ran


class WouldBlock(Exception):
    """The syscall must wait until one of `waitables` (WaitQueues) is notified, then be retried.

    `restart` is what a signal arriving meanwhile makes of it (Linux's
    ERESTART* codes: ERESTARTSYS for reads and writes, ERESTARTNOHAND for
    pause-like waits). `file` is the open file the syscall waits on: the
    wait holds it, as Linux's fdget does, so closing or dup2-ing over its fd
    meanwhile changes nothing for the syscall. `files` are open files the
    wait only keeps open (poll and select: Linux's poll table holds each file
    it waits on). `sigmask` is the signal mask the thread waits with
    (pselect6, ppoll), its own until the wait ends. `signals` (a mask) are
    signals the syscall takes itself (signalfd): one arriving ends the wait
    and the syscall is retried, where another signal would interrupt it.
    `host` lists (host fd, poll events) pairs whose readiness ends the wait at
    once (the host waker, DESIGN §4); when each is watched, `recheck` is moot.
    """

    def __init__(self, waitables=(), timeout=None, restart=ERESTARTSYS, recheck=None, file=None,
                 files=(), sigmask=None, signals=0, host=None):
        super().__init__("would block")
        self.waitables = [q for q in waitables if q is not None]
        self.timeout = timeout      # seconds the syscall may wait in all (None: for ever)
        self.restart = restart
        self.recheck = recheck      # retry after this long even if nothing is notified (host fds)
        self.file = file
        self.files = files
        self.sigmask = sigmask
        self.signals = signals
        self.host = host


def check(cond, err):
    """Raise SyscallError(err) unless cond holds: argument checks read as one line."""
    if not cond:
        raise SyscallError(err)
