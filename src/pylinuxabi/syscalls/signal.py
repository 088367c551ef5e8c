"""Signal syscalls: the host delivers signals; we keep a copy of the dispositions.

The copy decides, e.g., whether a forwarded signal would be ignored.
"""
import errno
import os

from pylinuxabi.base.abi import KERNEL_SIGACTION
from pylinuxabi.base.creds import CAP_KILL
from pylinuxabi.base.errors import SyscallError
from pylinuxabi.kernel.access import in_model
from pylinuxabi.kernel.kernel import PASS, Resume
from pylinuxabi.kernel.task import INIT_PID, NO_SUCH_PID
from pylinuxabi.syscalls.registry import PASSTHROUGH, syscall

SIG_DFL, SIG_IGN = 0, 1
SA_RESETHAND = 0x80000000


@syscall("rt_sigaction", "iuuu", kind=PASSTHROUGH)
def rt_sigaction(task, sig, act, oldact, sigsetsize):
    """rt_sigaction(2): the host runs it, from our copy of the new action (read
    once: the one we note is the one the host installs); when it succeeds we note
    the handler, and whether it is reset to SIG_DFL once run (SA_RESETHAND,
    followed by Kernel.delivered)."""
    if not act or sigsetsize != 8:
        return PASS             # nothing to note, or the host's EINVAL
    new = task.mem.read(act, KERNEL_SIGACTION.size)
    handler, flags = KERNEL_SIGACTION.unpack(new)[:2]
    copy = task.process.kernel.platform.stash(task.thread, new)

    def installed(task, result):
        if result == 0:
            proc = task.process
            proc.sig_handlers[sig] = handler
            if flags & SA_RESETHAND:
                proc.sig_resethand.add(sig)
            else:
                proc.sig_resethand.discard(sig)
        return result
    return Resume(on_exit=installed, args=(None, copy, None, None, None, None))


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


# -- targets: processes of the model only ------------------------------------------
# The supervisor is pid 1 of the sandbox's PID namespace; the program's pid 1 is the
# model's init (Kernel.init), which never reaches the host: a signal it may be sent
# is discarded, as Linux discards those an init has no handler for (SIGNAL_UNKILLABLE:
# from inside its namespace, SIGKILL and SIGSTOP too). A pid the model lacks names
# nothing: the host is asked with one that cannot exist, for its errors in its order.
SI_TKILL = -6


def _signal_init(task, sig):
    """A signal to the init: allowed as to any process, then dropped."""
    if not 0 <= sig <= 64:
        raise SyscallError(errno.EINVAL)
    if not may_signal(task, task.process.kernel.init, sig):
        raise SyscallError(errno.EPERM)
    return 0


def _check_siginfo(task, info, to_self):
    """do_rt_sigqueueinfo: the siginfo is read (EFAULT), and nobody but the target
    itself may pretend to be the kernel, kill() or tgkill() (si_code >= 0, SI_TKILL)."""
    si_code = int.from_bytes(task.mem.read(info, 128)[8:12], "little", signed=True)
    if (si_code >= 0 or si_code == SI_TKILL) and not to_self:
        raise SyscallError(errno.EPERM)


@syscall("kill", "ii", kind=PASSTHROUGH)
def kill(task, pid, sig):
    """kill(2): to one process, a process group (0, -pgrp) or all (-1, which the host
    never lets reach its pid 1)."""
    kernel = task.process.kernel
    procs = kernel.processes
    if pid > 0:
        if pid == INIT_PID:
            return _signal_init(task, sig)
        if not in_model(kernel, pid):
            raise SyscallError(errno.ESRCH)
        if not 0 <= sig <= 64:
            return PASS             # the host's EINVAL
        target = _process_of(task, pid) or kernel.zombies.get(pid)
        return _check_targets(task, [target], sig)
    if not 0 <= sig <= 64:
        return PASS
    if pid == -1:
        return _check_targets(task, [p for p in procs.values() if p is not task.process], sig)
    pgrp = -pid if pid < -1 else _pgrp(task.process.pid)
    return _check_targets(task, [p for p in procs.values() if _pgrp(p.pid) == pgrp], sig)


def _pgrp(pid):
    try:
        return os.getpgid(pid)
    except OSError:
        return None


def _to_thread(task, tgid, tid, sig):
    """do_send_specific: the thread `tid`, of the process `tgid` unless tgid <= 0."""
    if tid == INIT_PID:
        if tgid > 0 and tgid != INIT_PID:
            raise SyscallError(errno.ESRCH)
        return _signal_init(task, sig)
    target = _process_of(task, tid)
    if target is None or (tgid > 0 and target.pid != tgid):
        raise SyscallError(errno.ESRCH)
    return _check_targets(task, [target] if 0 <= sig <= 64 else [], sig)


@syscall("tkill", "ii", kind=PASSTHROUGH)
def tkill(task, tid, sig):
    """tkill(2)."""
    if tid <= 0:
        return PASS                 # the host's EINVAL
    return _to_thread(task, 0, tid, sig)


@syscall("tgkill", "iii", kind=PASSTHROUGH)
def tgkill(task, tgid, tid, sig):
    """tgkill(2)."""
    if tid <= 0 or tgid <= 0:
        return PASS                 # the host's EINVAL
    return _to_thread(task, tgid, tid, sig)


@syscall("rt_sigqueueinfo", "iiu", kind=PASSTHROUGH)
def rt_sigqueueinfo(task, pid, sig, info):
    """rt_sigqueueinfo(2)."""
    kernel = task.process.kernel
    if pid == INIT_PID:
        _check_siginfo(task, info, to_self=False)
        return _signal_init(task, sig)
    if pid <= 0 or not in_model(kernel, pid):
        return Resume(args=(NO_SUCH_PID, None, None, None, None, None))
    target = _process_of(task, pid) or kernel.zombies.get(pid)
    return _check_targets(task, [target] if 0 <= sig <= 64 else [], sig)


@syscall("rt_tgsigqueueinfo", "iiiu", kind=PASSTHROUGH)
def rt_tgsigqueueinfo(task, tgid, tid, sig, info):
    """rt_tgsigqueueinfo(2)."""
    if tgid <= 0 or tid <= 0:
        return PASS                 # the host's EFAULT or EINVAL
    if tid == INIT_PID:
        _check_siginfo(task, info, to_self=False)
        return _to_thread(task, tgid, tid, sig)
    if not in_model(task.process.kernel, tid):
        return Resume(args=(None, NO_SUCH_PID, None, None, None, None))
    return tgkill(task, tgid, tid, sig)
