"""Tasks (threads) and processes (thread groups): the model of who runs.

A Process owns what CLONE_* flags share (fd table, fs context, creds, limits,
memory layout); a Task is one host thread of it.
"""
import resource
import time

from pylinuxabi.kernel.fdtable import FdTable
from pylinuxabi.kernel.waitq import WaitQueue

RLIMIT_NAMES = {getattr(resource, n): n for n in dir(resource) if n.startswith("RLIMIT_")}
RLIM_NLIMITS = 16


class FsContext:
    """root, cwd and umask (shared with CLONE_FS)."""

    def __init__(self, root, cwd, umask=0o022):
        self.root = root
        self.cwd = cwd
        self.umask = umask

    def copy(self):
        return FsContext(self.root, self.cwd, self.umask)


class MemoryLayout:
    """What we emulate of the address space: the program break."""

    def __init__(self):
        self.brk_start = 0
        self.brk = 0

    def copy(self):
        m = MemoryLayout()
        m.brk_start, m.brk = self.brk_start, self.brk
        return m


def host_rlimits():
    """The supervisor's own limits, which the first process inherits as a child would."""
    limits = {}
    for r in range(RLIM_NLIMITS):
        try:
            soft, hard = resource.getrlimit(r)
        except (ValueError, OSError):
            continue
        inf = (1 << 64) - 1
        limits[r] = [inf if soft == resource.RLIM_INFINITY else soft,
                     inf if hard == resource.RLIM_INFINITY else hard]
    return limits


class Process:
    """A thread group: pid == the leader's tid (host and sandbox pids are equal)."""

    def __init__(self, pid, files, fs, creds, rlimits, parent=None):
        self.pid = pid
        self.parent = parent
        self.files = files
        self.fs = fs
        self.creds = creds
        self.rlimits = rlimits
        self.mm = MemoryLayout()
        self.tasks = {}
        self.exe = None             # dentry of the running executable
        self.argv = []
        self.envp = []
        self.sig_handlers = {}      # signal -> handler address (0 = SIG_DFL, 1 = SIG_IGN)
        self.sig_resethand = set()  # signals whose handler was installed with SA_RESETHAND
        self.exit_status = None
        self.exit_comm = b""        # the leader's name when it died (a zombie keeps it)
        self.group_stopped = False  # stopped by SIGSTOP/SIGTSTP/… until SIGCONT (/proc says T)
        self.dumpable = 1
        self.no_new_privs = False
        self.nproc_exceeded = False     # became a user past RLIMIT_NPROC: the next execve fails
        self.exited = WaitQueue()   # told when its last thread is gone (pidfds wait on it)

    @classmethod
    def first(cls, pid, fs, creds):
        return cls(pid, FdTable(), fs, creds, host_rlimits())


class Task:
    """One thread; `thread` is the platform's handle, `mem` its address space."""

    __slots__ = ("tid", "process", "thread", "mem", "pending_exec", "clone_flags", "on_exit",
                 "waiting_on", "wake_callback", "restart", "deadline", "comm", "progress", "resume", "held",
                 "held_files", "saved_sigmask", "step_handler", "wait_signals", "park_mask")

    def __init__(self, tid, process, thread):
        self.tid = tid
        self.process = process
        self.thread = thread
        self.mem = thread.mem
        self.pending_exec = None    # an Image being exec'ed
        self.clone_flags = None     # flags of the clone this task is making
        self.on_exit = None         # callback for the syscall-exit stop we asked for
        self.waiting_on = ()        # wait queues of the syscall it is parked in
        self.wake_callback = None   # what those queues call to wake it
        self.restart = 0            # the ERESTART* code of that syscall
        self.deadline = None        # time.monotonic() at which that syscall's timeout ends
        self.comm = b""             # its name (PR_SET_NAME, /proc/<pid>/comm)
        self.progress = 0           # bytes the parked syscall has already moved
        self.resume = None          # anything else the parked syscall keeps for its retry
        self.held = None            # (fd, open file) the parked syscall holds (WouldBlock.file)
        self.held_files = None      # open files it keeps open besides (WouldBlock.files)
        self.saved_sigmask = None   # the signal mask to restore when a wait with its own ends
        self.step_handler = None    # the handler it is being stepped into (Kernel.masked_wait_signal)
        self.wait_signals = None    # (signals, the wait's own mask or None) of a park signals end
        self.park_mask = None       # the mask a park re-entering its wait gets at its entry stop

    def timed_out(self):
        """Has the timeout of the syscall being retried run out?"""
        return self.deadline is not None and time.monotonic() >= self.deadline

    def remaining(self):
        """Seconds left of that timeout (None: no timeout)."""
        return None if self.deadline is None else max(0.0, self.deadline - time.monotonic())

    @property
    def files(self):
        return self.process.files

    @property
    def fs(self):
        return self.process.fs

    @property
    def creds(self):
        return self.process.creds
