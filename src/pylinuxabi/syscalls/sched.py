"""Scheduling syscalls: nice values, policies and affinity, allowed by the model's credentials.

The program's host threads have no privilege of their own: once the model allows
a change, the supervisor (host root) makes it on the host thread, and reads the
host's state back for the get calls. The model's init (pid 1) has a state of its
own (Process.sched) that nothing on the host follows.
"""
import ctypes
import errno
import os
import resource
import struct

from pylinuxabi.base.creds import CAP_SYS_NICE
from pylinuxabi.base.errors import SyscallError, check
from pylinuxabi.kernel.task import INIT_PID, Process, SchedState
from pylinuxabi.syscalls.clock import host_capable
from pylinuxabi.syscalls.registry import syscall

_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long
SYS_sched_setattr, SYS_sched_getattr = 314, 315

PRIO_PROCESS, PRIO_PGRP, PRIO_USER = 0, 1, 2
MIN_NICE, MAX_NICE = -20, 19
SCHED_NORMAL, SCHED_FIFO, SCHED_RR, SCHED_BATCH, SCHED_IDLE, SCHED_DEADLINE, SCHED_EXT = 0, 1, 2, 3, 5, 6, 7
VALID_POLICIES = (SCHED_NORMAL, SCHED_FIFO, SCHED_RR, SCHED_BATCH, SCHED_IDLE, SCHED_DEADLINE)     # no sched_ext here (6.18 as built)
REALTIME = (SCHED_FIFO, SCHED_RR)
FAIR = (SCHED_NORMAL, SCHED_BATCH)
SETPARAM_POLICY = -1
SCHED_RESET_ON_FORK = 0x40000000
(SCHED_FLAG_RESET_ON_FORK, SCHED_FLAG_RECLAIM, SCHED_FLAG_DL_OVERRUN, SCHED_FLAG_KEEP_POLICY,
 SCHED_FLAG_KEEP_PARAMS, SCHED_FLAG_UTIL_CLAMP_MIN, SCHED_FLAG_UTIL_CLAMP_MAX) = (1 << i for i in range(7))
SCHED_FLAG_UTIL_CLAMP = SCHED_FLAG_UTIL_CLAMP_MIN | SCHED_FLAG_UTIL_CLAMP_MAX
SCHED_FLAG_ALL = 0x7F
SCHED_FLAG_SUGOV = 0x10000000
MAX_RT_PRIO = 100
UCLAMP_MAX = 1024
DL_SCALE = 10
RR_TIMESLICE_NS = 100_000_000
PAGE_SIZE = 4096
# struct sched_attr: size, policy, flags, nice, priority, runtime, deadline, period, util_min, util_max
SCHED_ATTR = struct.Struct("<IIQiIQQQII")
SCHED_ATTR_SIZE_VER0 = 48
SCHED_PARAM = struct.Struct("<i")
TIMESPEC = struct.Struct("<qq")
U32 = struct.Struct("<I")


# -- the target: a model thread, the caller (0) or the model's init (1) -----------
def _find(task, pid):
    """find_task_by_vpid: any thread of the model, by tid; ESRCH for anything else
    (the supervisor is never a target: pid 1 is the model's init)."""
    if pid == 0:
        return task
    kernel = task.process.kernel
    t = kernel.tasks.get(pid)
    if t is not None:
        return t
    if pid == INIT_PID and kernel.init is not None:
        return kernel.init
    raise SyscallError(errno.ESRCH)


def _process(target):
    return target if isinstance(target, Process) else target.process


def _rlimit(target, res):
    return _process(target).rlimits.get(res, (resource.RLIM_INFINITY,) * 2)[0]


def _state(target):
    """The target's scheduling state: init's from the model, a thread's from the host."""
    if isinstance(target, Process):
        return target.sched
    buf = ctypes.create_string_buffer(SCHED_ATTR.size)
    if _libc.syscall(SYS_sched_getattr, target.tid, buf, SCHED_ATTR.size, 0) < 0:
        raise SyscallError(errno.ESRCH)        # the thread is gone
    (_, policy, flags, nice, priority, runtime, deadline, period, util_min,
     util_max) = SCHED_ATTR.unpack(buf.raw)
    try:
        cpus = os.sched_getaffinity(target.tid)
        nice = os.getpriority(os.PRIO_PROCESS, target.tid)     # sched_attr has it for fair policies only
    except OSError:
        raise SyscallError(errno.ESRCH)
    return SchedState(cpus, policy, flags, nice, priority, runtime, deadline, period, util_min, util_max)


def _host_setattr(target, attr):
    """The supervisor sets a checked sched_attr (ours, not the program's) on the host thread."""
    buf = ctypes.create_string_buffer(attr, len(attr))
    if _libc.syscall(SYS_sched_setattr, target.tid, buf, 0) < 0:
        raise SyscallError(ctypes.get_errno())


def _same_owner(task, target):
    """check_same_owner: the caller's euid is the target's euid or real uid."""
    c, t = task.creds, target.creds
    return c.euid in (t.euid, t.ruid)


def _nice_reduction_ok(target, nice):
    """is_nice_reduction: RLIMIT_NICE (20 - nice) of the target allows the value."""
    return 20 - nice <= _rlimit(target, resource.RLIMIT_NICE)


# -- nice values -------------------------------------------------------------------
def _prio_targets(task, which, who):
    """The threads setpriority/getpriority act on (do_each_pid_thread, for_each_process_thread)."""
    kernel = task.process.kernel
    if which == PRIO_PROCESS:
        try:
            return [_find(task, who)]
        except SyscallError:
            return []
    if which == PRIO_PGRP:
        pgrp = who or _pgid(task.process.pid)
        out = [t for p in list(kernel.processes.values()) if _pgid(p.pid) == pgrp for t in list(p.tasks.values())]
        if kernel.init is not None and pgrp == _pgid(INIT_PID):
            out.append(kernel.init)
        return out
    uid = who or task.creds.ruid
    out = [t for t in list(kernel.tasks.values()) if t.process.creds.ruid == uid]
    if kernel.init is not None and kernel.init.creds.ruid == uid:
        out.append(kernel.init)
    return out


def _pgid(pid):
    try:
        return os.getpgid(pid)
    except OSError:
        return None


def _nice(target):
    if isinstance(target, Process):
        return target.sched.nice
    try:
        return os.getpriority(os.PRIO_PROCESS, target.tid)
    except OSError:
        raise SyscallError(errno.ESRCH)


def _set_one_prio(task, target, nice):
    """set_one_prio: the same owner (the target's real or effective uid is our euid) or
    CAP_SYS_NICE; a lower nice also needs RLIMIT_NICE or CAP_SYS_NICE."""
    t = target.creds
    if task.creds.euid not in (t.ruid, t.euid) and not task.creds.capable(CAP_SYS_NICE):
        return -errno.EPERM
    current = _nice(target)
    if nice < current and not _nice_reduction_ok(target, nice) and not task.creds.capable(CAP_SYS_NICE):
        return -errno.EACCES
    if isinstance(target, Process):
        target.sched.nice = nice
        return 0
    try:
        os.setpriority(os.PRIO_PROCESS, target.tid, nice)
    except OSError as e:
        return -e.errno
    return 0


@syscall("setpriority", "iii")
def setpriority(task, which, who, niceval):
    """setpriority(2): the last refusal, or 0 if some target took the value."""
    check(PRIO_PROCESS <= which <= PRIO_USER, errno.EINVAL)
    nice = min(max(niceval, MIN_NICE), MAX_NICE)
    error = -errno.ESRCH
    for target in _prio_targets(task, which, who):
        r = _set_one_prio(task, target, nice)
        if r < 0:
            error = r
        elif error == -errno.ESRCH:
            error = 0
    return error


@syscall("getpriority", "ii")
def getpriority(task, which, who):
    """getpriority(2): the raw syscall's 20 - nice, the highest of the targets'."""
    check(PRIO_PROCESS <= which <= PRIO_USER, errno.EINVAL)
    best = -errno.ESRCH
    for target in _prio_targets(task, which, who):
        try:
            best = max(best, 20 - _nice(target))
        except SyscallError:
            pass
    return best


# -- policies ------------------------------------------------------------------------
class Attr:
    """A struct sched_attr being set: read once from the program, checked, then applied."""

    def __init__(self, policy, flags=0, nice=0, priority=0, runtime=0, deadline=0, period=0,
                 util_min=0, util_max=0):
        self.policy, self.flags, self.nice, self.priority = policy, flags, nice, priority
        self.runtime, self.deadline, self.period = runtime, deadline, period
        self.util_min, self.util_max = util_min, util_max

    def pack(self, policy):
        return SCHED_ATTR.pack(SCHED_ATTR.size, policy, self.flags, self.nice, self.priority, self.runtime,
                               self.deadline, self.period, self.util_min, self.util_max)


def _checkparam_dl(attr):
    """__checkparam_dl: runtime <= deadline <= period, within the sysctl's period bounds."""
    if attr.flags & SCHED_FLAG_SUGOV:
        return True
    if attr.deadline == 0 or attr.runtime < 1 << DL_SCALE:
        return False
    if attr.deadline >> 63 or attr.period >> 63:
        return False
    period = attr.period or attr.deadline
    if period < attr.deadline or attr.deadline < attr.runtime:
        return False
    return _dl_period_bound("min", 100) * 1000 <= period <= _dl_period_bound("max", 4194304) * 1000


def _dl_period_bound(which, default):
    try:
        with open(f"/proc/sys/kernel/sched_deadline_period_{which}_us") as f:
            return int(f.read())
    except (OSError, ValueError):
        return default


def _user_check(task, target, cur, attr, policy, reset):
    """user_check_sched_setscheduler: what needs CAP_SYS_NICE."""
    def privileged():
        if not task.creds.capable(CAP_SYS_NICE):
            raise SyscallError(errno.EPERM)

    if policy in FAIR and attr.nice < cur.nice and not _nice_reduction_ok(target, attr.nice):
        return privileged()
    if policy in REALTIME:
        rtprio = _rlimit(target, resource.RLIMIT_RTPRIO)
        if policy != cur.policy and not rtprio:
            return privileged()
        if attr.priority > cur.priority and attr.priority > rtprio:
            return privileged()
    if policy == SCHED_DEADLINE:
        return privileged()
    if cur.policy == SCHED_IDLE and policy != SCHED_IDLE and not _nice_reduction_ok(target, cur.nice):
        return privileged()
    if not _same_owner(task, target):
        return privileged()
    if cur.flags & SCHED_FLAG_RESET_ON_FORK and not reset:
        return privileged()


def _check_uclamp(cur, attr):
    """uclamp_validate: values up to 1024 (or -1, keep), min not above max."""
    lo = attr.util_min if attr.flags & SCHED_FLAG_UTIL_CLAMP_MIN else cur.util_min
    hi = attr.util_max if attr.flags & SCHED_FLAG_UTIL_CLAMP_MAX else cur.util_max
    for v in (lo, hi):
        check(v <= UCLAMP_MAX or v == 0xFFFFFFFF, errno.EINVAL)
    check(lo == 0xFFFFFFFF or hi == 0xFFFFFFFF or lo <= hi, errno.EINVAL)


def _setscheduler(task, target, attr):
    """__sched_setscheduler(user=True): validate, check the credentials, apply."""
    cur = _state(target)
    policy = attr.policy
    if policy == SETPARAM_POLICY:
        reset = bool(cur.flags & SCHED_FLAG_RESET_ON_FORK)
        policy = cur.policy
    else:
        reset = bool(attr.flags & SCHED_FLAG_RESET_ON_FORK)
        check(policy in VALID_POLICIES, errno.EINVAL)
    check(not attr.flags & ~(SCHED_FLAG_ALL | SCHED_FLAG_SUGOV), errno.EINVAL)
    check(attr.priority <= MAX_RT_PRIO - 1, errno.EINVAL)
    check(policy != SCHED_DEADLINE or _checkparam_dl(attr), errno.EINVAL)
    check((policy in REALTIME) == (attr.priority != 0), errno.EINVAL)
    _user_check(task, target, cur, attr, policy, reset)
    check(not attr.flags & SCHED_FLAG_SUGOV, errno.EINVAL)
    if attr.flags & SCHED_FLAG_UTIL_CLAMP:
        _check_uclamp(cur, attr)
    if isinstance(target, Process):
        _set_model(target.sched, attr, policy, reset)
        return 0
    if policy not in (SCHED_NORMAL, SCHED_BATCH, SCHED_IDLE) and not host_capable(task, CAP_SYS_NICE):
        # a realtime or deadline host thread can starve the whole host: the user's consent too
        raise SyscallError(errno.EPERM)
    flags = (attr.flags & ~SCHED_FLAG_RESET_ON_FORK) | (SCHED_FLAG_RESET_ON_FORK if reset else 0)
    if attr.policy == SETPARAM_POLICY:
        flags |= SCHED_FLAG_KEEP_POLICY
    copy = Attr(policy, flags, attr.nice, attr.priority, attr.runtime, attr.deadline, attr.period,
                attr.util_min, attr.util_max)
    _host_setattr(target, copy.pack(policy))
    return 0


def _set_model(s, attr, policy, reset):
    """__setscheduler_params and uclamp on the init's model state."""
    s.flags = (s.flags & ~SCHED_FLAG_RESET_ON_FORK) | (SCHED_FLAG_RESET_ON_FORK if reset else 0)
    if not attr.flags & SCHED_FLAG_KEEP_PARAMS:
        s.policy = policy
        if policy == SCHED_DEADLINE:
            s.runtime, s.deadline, s.period = attr.runtime, attr.deadline, attr.period or attr.deadline
        elif policy in FAIR:
            s.nice = attr.nice
        s.priority = attr.priority
    if attr.flags & SCHED_FLAG_UTIL_CLAMP_MIN:
        s.util_min = 0 if attr.util_min == 0xFFFFFFFF else attr.util_min
    if attr.flags & SCHED_FLAG_UTIL_CLAMP_MAX:
        s.util_max = UCLAMP_MAX if attr.util_max == 0xFFFFFFFF else attr.util_max


def _read_param(task, pid, addr):
    check(addr and pid >= 0, errno.EINVAL)
    priority, = SCHED_PARAM.unpack(task.mem.read(addr, SCHED_PARAM.size))
    return priority, _find(task, pid)


@syscall("sched_setscheduler", "iiu")
def sched_setscheduler(task, pid, policy, param):
    """sched_setscheduler(2): SCHED_RESET_ON_FORK rides on the policy."""
    check(policy >= 0, errno.EINVAL)
    priority, target = _read_param(task, pid, param)
    flags = SCHED_FLAG_RESET_ON_FORK if policy & SCHED_RESET_ON_FORK else 0
    return _setscheduler(task, target, Attr(policy & ~SCHED_RESET_ON_FORK, flags, _nice(target),
                                            priority & 0xFFFFFFFF))


@syscall("sched_setparam", "iu")
def sched_setparam(task, pid, param):
    """sched_setparam(2)."""
    priority, target = _read_param(task, pid, param)
    return _setscheduler(task, target, Attr(SETPARAM_POLICY, 0, _nice(target), priority & 0xFFFFFFFF))


def _read_attr(task, addr):
    """sched_copy_attr: a sized struct (0 = VER0); bytes past ours must be zero, or E2BIG
    with our size written back."""
    size, = U32.unpack(task.mem.read(addr, U32.size))
    size = size or SCHED_ATTR_SIZE_VER0
    known = min(size, SCHED_ATTR.size)
    raw = task.mem.read(addr, known) if size <= PAGE_SIZE else b""
    if (size < SCHED_ATTR_SIZE_VER0 or size > PAGE_SIZE
            or (size > known and task.mem.read(addr + known, size - known).strip(b"\0"))):
        try:
            task.mem.write(addr, U32.pack(SCHED_ATTR.size))
        except SyscallError:
            pass
        raise SyscallError(errno.E2BIG)
    fields = SCHED_ATTR.unpack(raw.ljust(SCHED_ATTR.size, b"\0"))
    attr = Attr(*fields[1:])
    check(not (attr.flags & SCHED_FLAG_UTIL_CLAMP and size < SCHED_ATTR.size), errno.EINVAL)
    attr.nice = min(max(attr.nice, MIN_NICE), MAX_NICE)
    return attr


@syscall("sched_setattr", "iuU")
def sched_setattr(task, pid, uattr, flags):
    """sched_setattr(2)."""
    check(uattr and pid >= 0 and not flags, errno.EINVAL)
    attr = _read_attr(task, uattr)
    check(attr.policy < 1 << 31, errno.EINVAL)
    if attr.flags & SCHED_FLAG_KEEP_POLICY:
        attr.policy = SETPARAM_POLICY
    target = _find(task, pid)
    if attr.flags & SCHED_FLAG_KEEP_PARAMS:
        cur = _state(target)        # get_params
        attr.nice, attr.priority = cur.nice, cur.priority
        attr.runtime, attr.deadline, attr.period = cur.runtime, cur.deadline, cur.period
    return _setscheduler(task, target, attr)


@syscall("sched_getscheduler", "i")
def sched_getscheduler(task, pid):
    """sched_getscheduler(2)."""
    check(pid >= 0, errno.EINVAL)
    s = _state(_find(task, pid))
    return s.policy | (SCHED_RESET_ON_FORK if s.flags & SCHED_FLAG_RESET_ON_FORK else 0)


@syscall("sched_getparam", "iu")
def sched_getparam(task, pid, param):
    """sched_getparam(2): the realtime priority (0 outside SCHED_FIFO/SCHED_RR)."""
    check(param and pid >= 0, errno.EINVAL)
    s = _state(_find(task, pid))
    task.mem.write(param, SCHED_PARAM.pack(s.priority if s.policy in REALTIME else 0))
    return 0


@syscall("sched_getattr", "iuUU")
def sched_getattr(task, pid, uattr, usize, flags):
    """sched_getattr(2): as much of struct sched_attr as the caller has room for."""
    check(uattr and pid >= 0 and SCHED_ATTR_SIZE_VER0 <= usize <= PAGE_SIZE and not flags, errno.EINVAL)
    s = _state(_find(task, pid))
    size = min(usize, SCHED_ATTR.size)
    flags = s.flags & SCHED_FLAG_ALL
    if s.policy == SCHED_DEADLINE:
        nice, priority, dl = 0, 0, (s.runtime, s.deadline, s.period)
    elif s.policy in REALTIME:
        nice, priority, dl = 0, s.priority, (0, 0, 0)
    else:
        nice, priority, dl = s.nice, 0, (0, 0, 0)
    raw = SCHED_ATTR.pack(size, s.policy, flags, nice, priority, *dl, s.util_min, s.util_max)
    task.mem.write(uattr, raw[:size])
    return 0


@syscall("sched_rr_get_interval", "iu")
def sched_rr_get_interval(task, pid, interval):
    """sched_rr_get_interval(2)."""
    check(pid >= 0, errno.EINVAL)
    target = _find(task, pid)
    if isinstance(target, Process):
        policy = target.sched.policy
        ns = RR_TIMESLICE_NS if policy == SCHED_RR else 0
    else:
        try:
            ns = round(os.sched_rr_get_interval(target.tid) * 1e9)
        except OSError:
            raise SyscallError(errno.ESRCH)
    task.mem.write(interval, TIMESPEC.pack(*divmod(ns, 1_000_000_000)))
    return 0


# -- affinity ------------------------------------------------------------------------
def nr_cpu_ids():
    """The highest possible CPU's number + 1 (/sys/devices/system/cpu/possible)."""
    try:
        with open("/sys/devices/system/cpu/possible") as f:
            return int(f.read().strip().replace(",", "-").split("-")[-1]) + 1
    except (OSError, ValueError):
        return os.cpu_count() or 1


def cpumask_size():
    return (nr_cpu_ids() + 63) // 64 * 8


def _mask(cpus, size):
    bits = sum(1 << c for c in cpus)
    return bits.to_bytes(size, "little")


@syscall("sched_setaffinity", "iUu")
def sched_setaffinity(task, pid, length, addr):
    """sched_setaffinity(2): the same owner or CAP_SYS_NICE; the host drops CPUs it lacks."""
    size = cpumask_size()
    raw = task.mem.read(addr, min(length, size))       # get_user_cpu_mask: a shorter mask is zero-filled
    cpus = {i for i in range(len(raw) * 8) if raw[i // 8] >> (i % 8) & 1}
    target = _find(task, pid)
    if not _same_owner(task, target) and not task.creds.capable(CAP_SYS_NICE):
        raise SyscallError(errno.EPERM)
    if isinstance(target, Process):
        allowed = cpus & os.sched_getaffinity(0)
        check(allowed, errno.EINVAL)
        target.sched.cpus = allowed
        return 0
    try:
        os.sched_setaffinity(target.tid, cpus)
    except OSError as e:
        raise SyscallError(e.errno)
    return 0


@syscall("sched_getaffinity", "iUu")
def sched_getaffinity(task, pid, length, addr):
    """sched_getaffinity(2): returns the size of the kernel's mask."""
    check(length * 8 >= nr_cpu_ids() and not length & 7, errno.EINVAL)
    s = _state(_find(task, pid))
    size = min(length, cpumask_size())
    task.mem.write(addr, _mask(s.cpus, size))
    return size
