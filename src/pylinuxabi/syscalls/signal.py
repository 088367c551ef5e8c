"""Signal syscalls: the host delivers signals; we keep a copy of the dispositions.

The copy decides, e.g., whether a forwarded signal would be ignored.
"""
import errno
import os

from pylinuxabi.kernel.abi import KERNEL_SIGACTION_HEAD
from pylinuxabi.kernel.creds import CAP_KILL
from pylinuxabi.kernel.errors import SyscallError
from pylinuxabi.kernel.kernel import PASS
from pylinuxabi.syscalls.table import PASSTHROUGH, syscall

SIG_DFL, SIG_IGN = 0, 1
SA_RESETHAND = 0x80000000


@syscall("rt_sigaction", "iuuu", kind=PASSTHROUGH)
def rt_sigaction(task, sig, act, oldact, sigsetsize):
    """rt_sigaction(2): the host runs it; we note the new handler, and whether it is
    reset to SIG_DFL once run (SA_RESETHAND, followed by Kernel.delivered)."""
    if act and 1 <= sig <= 64 and sigsetsize == 8:
        try:
            handler, flags = KERNEL_SIGACTION_HEAD.unpack(task.mem.read(act, KERNEL_SIGACTION_HEAD.size))
        except SyscallError:
            return PASS             # the host will give the program its EFAULT
        proc = task.process
        proc.sig_handlers[sig] = handler
        if flags & SA_RESETHAND:
            proc.sig_resethand.add(sig)
        else:
            proc.sig_resethand.discard(sig)
    return PASS


# -- who may signal whom (check_kill_permission) ----------------------------------
# The host runs kill and its kin as the supervisor's user, which may signal
# every process of the sandbox; the model's credentials decide first.
SIGCONT = 18


def may_signal(task, target, sig):
    """kill_ok_by_cred: the sender's real or effective uid is the target's real or
    saved one, or CAP_KILL; SIGCONT within a session needs neither."""
    if target is task.process:
        return True
    c, t = task.creds, target.creds
    if {c.euid, c.ruid} & {t.suid, t.ruid} or c.capable(CAP_KILL):
        return True
    return sig == SIGCONT and _session(task.process.pid) == _session(target.pid)


def _session(pid):
    try:
        return os.getsid(pid)
    except OSError:
        return None


def _check_targets(task, targets, sig):
    """EPERM when every one of the targets refuses the signal. When only some do,
    the host signals them all: the model cannot split one kill (left as it is)."""
    if targets and not any(may_signal(task, p, sig) for p in targets):
        raise SyscallError(errno.EPERM)
    return PASS


def _process_of(task, tid):
    t = task.process.kernel.tasks.get(tid)
    return t.process if t is not None else None


@syscall("kill", "ii", kind=PASSTHROUGH)
def kill(task, pid, sig):
    """kill(2): to one process, a process group (0, -pgrp) or all (-1)."""
    if not 0 <= sig <= 64:
        return PASS                 # the host's EINVAL
    procs = task.process.kernel.processes
    if pid > 0:
        target = procs.get(pid)
        return _check_targets(task, [target] if target is not None else [], sig)
    if pid == -1:
        return _check_targets(task, [p for p in procs.values() if p is not task.process], sig)
    pgrp = -pid if pid < -1 else _pgrp(task.process.pid)
    return _check_targets(task, [p for p in procs.values() if _pgrp(p.pid) == pgrp], sig)


def _pgrp(pid):
    try:
        return os.getpgid(pid)
    except OSError:
        return None


@syscall("tkill", "ii", kind=PASSTHROUGH)
def tkill(task, tid, sig):
    """tkill(2)."""
    target = _process_of(task, tid)
    return _check_targets(task, [target] if target is not None and 0 <= sig <= 64 else [], sig)


@syscall("tgkill", "iii", kind=PASSTHROUGH)
def tgkill(task, tgid, tid, sig):
    """tgkill(2)."""
    target = _process_of(task, tid)
    ok = target is not None and target.pid == tgid and 0 <= sig <= 64
    return _check_targets(task, [target] if ok else [], sig)


@syscall("rt_sigqueueinfo", "iiu", kind=PASSTHROUGH)
def rt_sigqueueinfo(task, pid, sig, info):
    """rt_sigqueueinfo(2)."""
    target = task.process.kernel.processes.get(pid)
    return _check_targets(task, [target] if target is not None and 0 <= sig <= 64 else [], sig)


@syscall("rt_tgsigqueueinfo", "iiiu", kind=PASSTHROUGH)
def rt_tgsigqueueinfo(task, tgid, tid, sig, info):
    """rt_tgsigqueueinfo(2)."""
    return tgkill(task, tgid, tid, sig)
