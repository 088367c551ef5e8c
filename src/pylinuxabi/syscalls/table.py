"""The table of every x86-64 syscall: number, name, class, decoder, handler.

Handler modules register with @syscall (syscalls/registry.py); build() imports
them and returns the table the kernel dispatches on. Unknown and
unimplemented calls get ENOSYS and are counted for `pylinuxabi run --report`.
"""
import errno

from pylinuxabi.base.abi import signed32, signed64
from pylinuxabi.base.names import SYSCALL_NAMES

from pylinuxabi.syscalls.registry import ALLOWED, EMULATED, PASSTHROUGH, UNIMPLEMENTED, registered  # noqa: F401

# Kept in step with install_filter() in native/core.c: what it always lets through,
BPF_ALLOWED = {"futex", "rt_sigreturn", "rt_sigprocmask",
               "sched_yield", "clock_gettime", "clock_getres", "gettimeofday", "time",
               "nanosleep", "clock_nanosleep", "getpid", "gettid"}
# and what it lets through when the range it names cannot reach the reserved one
# (DESIGN §3): the rest stop at their handlers in syscalls/mm.py.
BPF_RANGE_CHECKED = {"munmap", "mprotect", "madvise"}

# What the host runs (DESIGN §2): memory, threads and processes, signal delivery.
HOST_RUNS = {"mremap", "msync", "mincore", "mlock", "munlock", "mlockall", "munlockall", "mlock2",
             "clone", "fork", "vfork", "clone3", "exit", "exit_group", "wait4", "waitid",
             "set_tid_address", "set_robust_list", "get_robust_list", "rseq", "futex_waitv",
             "futex_wake", "futex_wait", "futex_requeue", "membarrier",
             "rt_sigaction", "rt_sigpending", "rt_sigsuspend", "rt_sigtimedwait", "sigaltstack",
             "rt_sigqueueinfo", "rt_tgsigqueueinfo", "kill", "tkill", "tgkill", "pause",
             "alarm", "setitimer", "getitimer", "timer_create", "timer_settime", "timer_gettime",
             "timer_getoverrun", "timer_delete", "sched_get_priority_max",
             "sched_get_priority_min", "getrusage", "times", "getcpu", "get_mempolicy",
             "set_mempolicy", "mbind", "pkey_alloc", "pkey_free", "pkey_mprotect",
             "map_shadow_stack", "mseal", "arch_prctl", "getppid", "getpgrp",
             "getpgid", "getsid", "setpgid", "setsid", "personality",
             "restart_syscall"} | BPF_ALLOWED

# argument kinds: i = int, l = long/off_t (signed 64), u = unsigned/pointer (64), U = unsigned int


def _decoder(spec):
    """A function from the six raw registers to the handler's arguments.

    Generated as one expression per spec: this runs on every syscall.
    """
    names = {"i": "s32", "l": "s64", "U": "u32"}
    parts = [f"{names[c]}(r[{i}])" if c in names else f"r[{i}]" for i, c in enumerate(spec)]
    source = f"lambda r: ({', '.join(parts)}{',' if len(parts) == 1 else ''})"
    return eval(source, {"s32": signed32, "s64": signed64, "u32": _u32})


def _u32(v):
    return v & 0xFFFFFFFF


class Syscall:
    """One table entry."""

    __slots__ = ("nr", "name", "kind", "handler", "decode")

    def __init__(self, nr, name, kind, handler, spec=""):
        self.nr = nr
        self.name = name
        self.kind = kind
        self.handler = handler
        self.decode = _decoder(spec)


class Table(list):
    """Entries indexed by syscall number; counts what the program used and we lack."""

    def __init__(self, counts):
        super().__init__()
        self.counts = counts

    def unknown(self, nr):
        return Syscall(nr, f"syscall_{nr:#x}", UNIMPLEMENTED, self._enosys(f"syscall_{nr:#x}"))

    def _enosys(self, name):
        counts = self.counts

        def enosys(task, *args):
            counts[name] = counts.get(name, 0) + 1
            return -errno.ENOSYS
        return enosys


def _passthrough(task, *args):
    from pylinuxabi.kernel.kernel import PASS
    return PASS


def build(counts):
    """The full table: every number 0..max with its class and handler."""
    from pylinuxabi.syscalls import (attr, copy, creds, eventfd, fd, fs, inotify, locks, memfd, misc, mm,  # noqa: F401
                                     mount, namei, pidfd, poll, proc, signal, xattr)  # (they register)
    from pylinuxabi.syscalls import epoll  # noqa: F401
    from pylinuxabi.syscalls import net  # noqa: F401
    from pylinuxabi.syscalls import clock, pids, sched  # noqa: F401
    from pylinuxabi.syscalls import ipc, mqueue  # noqa: F401
    from pylinuxabi.syscalls import kcmp, procvm, readahead, splice  # noqa: F401
    from pylinuxabi.syscalls import io_uring  # noqa: F401
    table = Table(counts)
    for nr in range(max(SYSCALL_NAMES) + 1):
        name = SYSCALL_NAMES.get(nr, f"syscall_{nr:#x}")
        if name in registered:
            handler, spec, kind = registered[name]
        elif name in HOST_RUNS:
            handler, spec = _passthrough, ""
            kind = ALLOWED if name in BPF_ALLOWED else PASSTHROUGH
        else:
            handler, spec = table._enosys(name), ""
            kind = UNIMPLEMENTED
        table.append(Syscall(nr, name, kind, handler, spec))
    return table
