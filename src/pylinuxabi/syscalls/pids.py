"""Calls the host runs that name a process by pid: process groups, sessions, robust lists.

They reach the host only once their targets are known to be the model's processes;
pid 1 is the model's init, whose group and session are those the host gives for the
supervisor (nothing the program could not see from its own), and which has no robust list.
"""
import errno
import os
import struct

from pylinuxabi.base.errors import SyscallError
from pylinuxabi.kernel.access import PTRACE_MODE_READ_REALCREDS, in_model, ptrace_may_access
from pylinuxabi.kernel.kernel import PASS, Resume
from pylinuxabi.kernel.task import INIT_PID, NO_SUCH_PID
from pylinuxabi.syscalls.registry import PASSTHROUGH, syscall



def _check_pid(task, pid):
    """ESRCH for a pid that is not the caller (0), the init, or a task or zombie of the model."""
    if pid and pid != INIT_PID and not in_model(task.process.kernel, pid):
        raise SyscallError(errno.ESRCH)


@syscall("setpgid", "ii", kind=PASSTHROUGH)
def setpgid(task, pid, pgid):
    """setpgid(2): no process may join the group of the supervisor. The host is asked
    for a group that does not exist instead, so that its checks run in Linux's order
    and end, where they would have let it join, with the EPERM Linux gives for a group
    of another session."""
    if pgid < 0:
        return PASS                 # the host's EINVAL, which comes first
    _check_pid(task, pid)
    try:
        supervisor_pgrp = os.getpgid(INIT_PID)
    except OSError:
        supervisor_pgrp = 0
    if pgid > 0 and pgid == supervisor_pgrp:
        return Resume(args=(None, NO_SUCH_PID, None, None, None, None))
    return PASS


@syscall("getpgid", "i", kind=PASSTHROUGH)
def getpgid(task, pid):
    """getpgid(2)."""
    _check_pid(task, pid)
    return PASS


@syscall("getsid", "i", kind=PASSTHROUGH)
def getsid(task, pid):
    """getsid(2)."""
    _check_pid(task, pid)
    return PASS


ROBUST_LIST_HEAD_SIZE = 24


@syscall("get_robust_list", "iuu", kind=PASSTHROUGH)
def get_robust_list(task, pid, head_ptr, len_ptr):
    """get_robust_list(2): the host answers for the model's threads; the init has none."""
    kernel = task.process.kernel
    if pid == 0 or pid == task.tid:
        return PASS
    t = kernel.tasks.get(pid)
    target = t.process if t is not None else kernel.init if pid == INIT_PID else None
    if target is None:
        raise SyscallError(errno.ESRCH)
    if not ptrace_may_access(task.process, target, PTRACE_MODE_READ_REALCREDS):
        raise SyscallError(errno.EPERM)
    if t is not None:
        return PASS
    task.mem.write(len_ptr, struct.pack("<Q", ROBUST_LIST_HEAD_SIZE))
    task.mem.write(head_ptr, struct.pack("<Q", 0))
    return 0
