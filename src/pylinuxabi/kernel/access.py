"""ptrace_may_access: may one process inspect another (kcmp, process_vm_*)?

Decided from the model's credentials alone, as kernel/ptrace.c and commoncap decide.
"""
from pylinuxabi.base.creds import CAP_SYS_PTRACE

PTRACE_MODE_READ, PTRACE_MODE_ATTACH = 0x01, 0x02
PTRACE_MODE_FSCREDS, PTRACE_MODE_REALCREDS = 0x04, 0x08
PTRACE_MODE_READ_REALCREDS = PTRACE_MODE_READ | PTRACE_MODE_REALCREDS
PTRACE_MODE_ATTACH_REALCREDS = PTRACE_MODE_ATTACH | PTRACE_MODE_REALCREDS
SUID_DUMP_USER = 1


def ptrace_may_access(caller, target, mode, has_mm=True):
    """__ptrace_may_access of the process `target` by the process `caller`: the same
    thread group always; else the caller's (real or fs) ids are all of the target's or
    it has CAP_SYS_PTRACE; a target with memory must be dumpable (or CAP_SYS_PTRACE);
    and cap_ptrace_access_check: the target's permitted set within the caller's (or
    CAP_SYS_PTRACE). One user namespace holds every process of the model."""
    if caller is target:
        return True
    c, t = caller.creds, target.creds
    privileged = c.capable(CAP_SYS_PTRACE)
    uid, gid = (c.fsuid, c.fsgid) if mode & PTRACE_MODE_FSCREDS else (c.ruid, c.rgid)
    if not privileged and not ({t.ruid, t.euid, t.suid} == {uid} and {t.rgid, t.egid, t.sgid} == {gid}):
        return False
    if has_mm and target.dumpable != SUID_DUMP_USER and not privileged:
        return False
    caller_caps = c.cap_effective if mode & PTRACE_MODE_FSCREDS else c.cap_permitted
    return not t.cap_permitted & ~caller_caps or privileged


def in_model(kernel, pid):
    """May the host be told this pid? A thread of the model, or a zombie it still shows."""
    return pid in kernel.tasks or pid in kernel.zombies


def find_task_by_vpid(kernel, pid):
    """(task or None, process) that pid names in the model, or None: a living thread
    (any tid), the init (pid 1, which has no host thread) or a zombie not yet reaped."""
    t = kernel.tasks.get(pid)
    if t is not None:
        return t, t.process
    if pid == 1 and kernel.init is not None:
        return None, kernel.init
    proc = kernel.zombies.get(pid)
    if proc is not None and pid not in kernel.processes and kernel.platform.is_zombie(pid):
        return None, proc           # (zombies holds the reaped until it is next pruned)
    return None
