"""Setting and adjusting the clock: the host's clock is the whole machine's, so the model's
CAP_SYS_TIME is not enough: the user must also have given `--cap-add SYS_TIME` (or ALL).

Reads (adjtimex with no modes) are answered by the supervisor's own host call, made
with our copy of the struct; changes, once allowed, likewise.
"""
import ctypes
import errno
import struct

from pylinuxabi.base.creds import CAP_SYS_TIME
from pylinuxabi.base.errors import SyscallError, check
from pylinuxabi.syscalls.registry import syscall

_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long
SYS_adjtimex, SYS_settimeofday, SYS_clock_settime, SYS_clock_adjtime = 159, 164, 227, 305

CLOCK_REALTIME = 0
POSIX_CLOCKS = (0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 11)    # 10 was CLOCK_SGI_CYCLE
CLOCKFD = 3                     # the low bits of a clockid made from an fd (FD_TO_CLOCKID)
CPUCLOCK_PERTHREAD = 4
NSEC_PER_SEC, USEC_PER_SEC = 1_000_000_000, 1_000_000
# timespec64_valid_settod: below KTIME_SEC_MAX less 30 years of uptime
TIME_SETTOD_SEC_MAX = (2**63 - 1) // NSEC_PER_SEC - 30 * 365 * 86400
TIMESPEC = struct.Struct("<qq")
TIMEZONE = struct.Struct("<ii")
# struct __kernel_timex is 208 bytes; we look at modes, freq, time and tick
TIMEX_SIZE = 208
TIMEX_MODES, TIMEX_FREQ, TIMEX_TIME, TIMEX_TICK = struct.Struct("<I"), struct.Struct("<16xq"), \
    struct.Struct("<72xqq"), struct.Struct("<88xq")
ADJ_FREQUENCY, ADJ_SETOFFSET, ADJ_NANO, ADJ_TICK = 0x0002, 0x0100, 0x2000, 0x4000
ADJ_OFFSET_SINGLESHOT, ADJ_OFFSET_READONLY, ADJ_ADJTIME = 0x0001, 0x2000, 0x8000
USER_HZ = 100
PPM_SCALE = 65536
LLONG_MIN, LLONG_MAX = -2**63, 2**63 - 1


def host_capable(task, cap):
    """May the program use `cap` for an effect on the whole host? The model's
    capability, and the user's explicit --cap-add of it (Options.host_caps)."""
    return task.creds.capable(cap) and bool(task.process.kernel.options.host_caps >> cap & 1)


def _need_sys_time(task):
    """security_settime64, with the user's consent: the clock is the host's."""
    if not host_capable(task, CAP_SYS_TIME):
        raise SyscallError(errno.EPERM)


def _host(nr, *args):
    """The supervisor makes the call on the host, with arguments of its own."""
    r = _libc.syscall(nr, *args)
    if r < 0:
        raise SyscallError(ctypes.get_errno())
    return r


def _check_settod(sec, nsec):
    check(0 <= sec < TIME_SETTOD_SEC_MAX and 0 <= nsec < NSEC_PER_SEC, errno.EINVAL)


def _cpu_clock_exists(task, clockid):
    """A CPU-time clockid (negative, not an fd's) names the caller (pid 0) or a model task."""
    pid = ~(clockid >> 3)
    kernel = task.process.kernel
    if clockid & 3 == 3:
        return False
    if pid == 0:
        return True
    if clockid & CPUCLOCK_PERTHREAD:
        t = kernel.tasks.get(pid)
        return t is not None and t.process is task.process
    return pid in kernel.processes


@syscall("clock_settime", "iu")
def clock_settime(task, clockid, tp):
    """clock_settime(2): only CLOCK_REALTIME can be set."""
    if clockid < 0 and clockid & 7 != CLOCKFD:
        # posix_cpu_clock_set: EPERM for a CPU clock that exists
        raise SyscallError(errno.EPERM if _cpu_clock_exists(task, clockid) else errno.EINVAL)
    check(clockid == CLOCK_REALTIME, errno.EINVAL)      # no clock_set (or no such clock, or fd)
    sec, nsec = TIMESPEC.unpack(task.mem.read(tp, TIMESPEC.size))
    _check_settod(sec, nsec)
    _need_sys_time(task)
    return _host(SYS_clock_settime, CLOCK_REALTIME, TIMESPEC.pack(sec, nsec))


@syscall("settimeofday", "uu")
def settimeofday(task, tv, tz):
    """settimeofday(2): the time, the kernel's timezone, or both."""
    new_tv = new_tz = None
    if tv:
        sec, usec = TIMESPEC.unpack(task.mem.read(tv, TIMESPEC.size))
        check(0 <= usec <= USEC_PER_SEC, errno.EINVAL)
        new_tv = (sec, usec)
    if tz:
        new_tz = TIMEZONE.unpack(task.mem.read(tz, TIMEZONE.size))
    if new_tv is not None:
        _check_settod(new_tv[0], new_tv[1] * 1000)
    _need_sys_time(task)
    if new_tz is not None:
        check(-15 * 60 <= new_tz[0] <= 15 * 60, errno.EINVAL)
    return _host(SYS_settimeofday, TIMESPEC.pack(*new_tv) if new_tv else None,
                 TIMEZONE.pack(*new_tz) if new_tz else None)


def _read_only(modes):
    """Does the call only read the clock's state? adjtime(3)'s query (ADJ_OFFSET_SS_READ)
    reads too, whatever other bits it carries, unless it injects an offset."""
    if modes & ADJ_ADJTIME:
        return modes & ADJ_OFFSET_READONLY and not modes & ADJ_SETOFFSET
    return modes == 0


def _validate_timex(task, raw):
    """timekeeping_validate_timex, with the consent of the user for any change."""
    modes, = TIMEX_MODES.unpack_from(raw)
    if modes & ADJ_ADJTIME:
        check(modes & ADJ_OFFSET_SINGLESHOT, errno.EINVAL)
        if not modes & ADJ_OFFSET_READONLY:
            _need_sys_time(task)
    else:
        if modes:
            _need_sys_time(task)
        if modes & ADJ_TICK:
            tick, = TIMEX_TICK.unpack_from(raw)
            check(900000 // USER_HZ <= tick <= 1100000 // USER_HZ, errno.EINVAL)
    if modes & ADJ_SETOFFSET:
        _need_sys_time(task)
        _, usec = TIMEX_TIME.unpack_from(raw)
        check(0 <= usec < (NSEC_PER_SEC if modes & ADJ_NANO else USEC_PER_SEC), errno.EINVAL)
    if modes & ADJ_FREQUENCY:
        freq, = TIMEX_FREQ.unpack_from(raw)
        check(LLONG_MIN // PPM_SCALE <= freq <= LLONG_MAX // PPM_SCALE, errno.EINVAL)
    return modes


def _adjtimex(task, addr, nr, *clock):
    raw = task.mem.read(addr, TIMEX_SIZE)
    modes = _validate_timex(task, raw)
    if _read_only(modes):
        # what the host reads with the same question, asked in its canonical form
        canonical = ADJ_ADJTIME | ADJ_OFFSET_READONLY | ADJ_OFFSET_SINGLESHOT if modes else 0
        raw = TIMEX_MODES.pack(canonical) + raw[4:]
    buf = ctypes.create_string_buffer(raw, TIMEX_SIZE)
    state = _host(nr, *clock, buf)
    task.mem.write(addr, TIMEX_MODES.pack(modes) + buf.raw[4:TIMEX_SIZE])
    return state


@syscall("adjtimex", "u")
def adjtimex(task, addr):
    """adjtimex(2): returns the clock state (TIME_OK…)."""
    return _adjtimex(task, addr, SYS_adjtimex)


@syscall("clock_adjtime", "iu")
def clock_adjtime(task, clockid, addr):
    """clock_adjtime(2): CLOCK_REALTIME is adjtimex's clock; others cannot be adjusted."""
    task.mem.read(addr, TIMEX_SIZE)
    if clockid < 0:
        check(clockid & 7 != CLOCKFD, errno.EINVAL)     # no posix clock device among our files
        raise SyscallError(errno.EOPNOTSUPP)            # CPU clocks cannot be adjusted
    check(clockid in POSIX_CLOCKS, errno.EINVAL)
    check(clockid == CLOCK_REALTIME, errno.EOPNOTSUPP)
    return _adjtimex(task, addr, SYS_clock_adjtime, CLOCK_REALTIME)
