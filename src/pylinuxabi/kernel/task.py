"""Tasks (threads) and processes (thread groups): the model of who runs.

A Process owns what CLONE_* flags share (fd table, fs context, creds, limits,
memory layout); a Task is one host thread of it.
"""
import resource
import time

from pylinuxabi.kernel.fdtable import FdTable
from pylinuxabi.base.waitq import WaitQueue
from pylinuxabi.vfs import writecount

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
        self.exe_key = None         # its writecount key: no writer may open it (ETXTBSY)
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
        self.forged_signals = None  # signal -> the siginfo for one the model sent the process
        self.is_init = False        # the model's init (pid 1): no host process of its own
        self.sched = None           # init's SchedState; a host thread's state is the host's

    def run_image(self, dentry, key):
        """The process's address space now runs the file (dentry, key), or nothing:
        as mm->exe_file, it keeps the file from writers while it lasts."""
        if key is not None:
            writecount.deny_write(key, force=True)
        if self.exe_key is not None:
            writecount.allow_write(self.exe_key)
        self.exe, self.exe_key = dentry, key

    @classmethod
    def first(cls, pid, fs, creds):
        return cls(pid, FdTable(), fs, creds, host_rlimits())

    @classmethod
    def make_init(cls, first, sched):
        """The sandbox's pid 1, as `docker run --init` has one: an init with the first
        process's credentials and limits that never runs anything. The supervisor,
        which really is pid 1 of the PID namespace, is never shown or named."""
        init = cls(INIT_PID, FdTable(), first.fs.copy(), first.creds.copy(),
                   {k: list(v) for k, v in first.rlimits.items()})
        init.is_init = True
        init.argv = [INIT_COMM]
        init.exit_comm = INIT_COMM
        init.sched = sched
        return init


INIT_PID = 1
NO_SUCH_PID = 0x7FFFFFFF            # above any pid_max: names no process or group, so a host
                                    # call given it answers with its own errors, in their order
INIT_COMM = b"pylinuxabi-init"     # 15 bytes: a whole comm


class SchedState:
    """What the scheduler keeps of one thread: the fields of struct sched_attr, and the
    CPUs it may run on. The model keeps one for its init only."""

    def __init__(self, cpus, policy=0, flags=0, nice=0, priority=0, runtime=0, deadline=0, period=0,
                 util_min=0, util_max=1024):
        self.cpus = set(cpus)
        self.policy = policy        # SCHED_NORMAL…
        self.flags = flags          # SCHED_FLAG_RESET_ON_FORK…
        self.nice = nice
        self.priority = priority    # the realtime priority (1..99 under SCHED_FIFO/SCHED_RR)
        self.runtime, self.deadline, self.period = runtime, deadline, period
        self.util_min, self.util_max = util_min, util_max


class Task:
    """One thread; `thread` is the platform's handle, `mem` its address space."""

    __slots__ = ("tid", "process", "thread", "mem", "pending_exec", "clone_flags", "on_exit",
                 "waiting_on", "host_watches", "wake_callback", "restart", "deadline", "comm", "progress", "resume", "held",
                 "held_files", "saved_sigmask", "step_handler", "wait_signals", "park_mask", "clone_args",
                 "ring_fds", "forged_signals")

    def __init__(self, tid, process, thread):
        self.tid = tid
        self.process = process
        self.thread = thread
        self.mem = thread.mem
        self.pending_exec = None    # an Image being exec'ed
        self.clone_flags = None     # flags of the clone this task is making
        self.clone_args = None      # a new child's: the argument registers its parent's clone
                                    # had before the host ran it with our copies (Resume.args)
        self.on_exit = None         # callback for the syscall-exit stop we asked for
        self.waiting_on = ()        # wait queues of the syscall it is parked in
        self.host_watches = None    # and the host waker's watches of host fds (platform.watch_host)
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
        self.ring_fds = None        # io_uring rings it registered (REGISTER_RING_FDS): open files, held
        self.forged_signals = None  # signal -> the siginfo it is to see for one the model sent

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
