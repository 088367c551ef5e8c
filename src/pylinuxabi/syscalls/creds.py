"""Credential syscalls: the get/set uid and gid families, groups, capget/capset,
and the capability options of prctl.

Who may change what is Linux's rule (kernel/sys.c, kernel/capability.c,
security/commoncap.c): CAP_SETUID and CAP_SETGID, not uid 0, decide; a change
of uid then moves the capability sets as base/creds.py says.
"""
import errno
import resource
import struct

from pylinuxabi.base.abi import U32
from pylinuxabi.base.creds import (CAP_FULL_SET, CAP_LAST_CAP, CAP_SETGID, CAP_SETPCAP, CAP_SETUID,
                                     SECURE_ALL_BITS, SECURE_ALL_LOCKS, SECURE_KEEP_CAPS,
                                     SECURE_NO_CAP_AMBIENT_RAISE)
from pylinuxabi.base.errors import SyscallError, check
from pylinuxabi.syscalls.registry import syscall

NGROUPS_MAX = 65536
NO_CHANGE = 0xFFFFFFFF          # -1: leave this id as it is


# -- reading -------------------------------------------------------------------
@syscall("getuid")
def getuid(task):
    """getuid(2)."""
    return task.creds.ruid


@syscall("geteuid")
def geteuid(task):
    """geteuid(2)."""
    return task.creds.euid


@syscall("getgid")
def getgid(task):
    """getgid(2)."""
    return task.creds.rgid


@syscall("getegid")
def getegid(task):
    """getegid(2)."""
    return task.creds.egid


def _getres(task, kind, addrs):
    c = task.creds
    for prefix, addr in zip("res", addrs):
        task.mem.write(addr, U32.pack(getattr(c, prefix + kind)))
    return 0


@syscall("getresuid", "uuu")
def getresuid(task, ruid, euid, suid):
    """getresuid(2)."""
    return _getres(task, "uid", (ruid, euid, suid))


@syscall("getresgid", "uuu")
def getresgid(task, rgid, egid, sgid):
    """getresgid(2)."""
    return _getres(task, "gid", (rgid, egid, sgid))


@syscall("getgroups", "iu")
def getgroups(task, size, addr):
    """getgroups(2)."""
    groups = task.creds.groups
    check(size >= 0, errno.EINVAL)
    if size == 0:
        return len(groups)
    check(size >= len(groups), errno.EINVAL)
    task.mem.write(addr, b"".join(U32.pack(g) for g in groups))
    return len(groups)


@syscall("setgroups", "iu")
def setgroups(task, size, addr):
    """setgroups(2): needs CAP_SETGID."""
    check(0 <= size <= NGROUPS_MAX, errno.EINVAL)
    task.creds.check(CAP_SETGID)
    raw = task.mem.read(addr, size * 4)
    task.creds.groups = sorted(set(struct.unpack(f"<{size}I", raw)))
    return 0


# -- changing ids ----------------------------------------------------------------
# Each takes the process's creds and "uid" or "gid", and returns the new creds,
# so that the capability rules can compare old with new.

def _cap(kind):
    return CAP_SETUID if kind == "uid" else CAP_SETGID


def _ids(c, kind):
    return getattr(c, "r" + kind), getattr(c, "e" + kind), getattr(c, "s" + kind)


def install(proc, old, new):
    """Give proc its new creds, as commit_creds does."""
    if new.undumpable_after(old):
        proc.dumpable = 0
    if new.ruid != old.ruid:
        # set_user: past RLIMIT_NPROC already, the next execve fails (PF_NPROC_EXCEEDED)
        proc.nproc_exceeded = new.ruid != 0 and proc.kernel.nproc(new.ruid) > proc.rlimits[resource.RLIMIT_NPROC][0]
    proc.creds = new


def _commit(task, old, new, kind):
    """A uid change moves the capabilities (cap_task_fix_setuid)."""
    if kind == "uid":
        new.fix_setuid(old)
    install(task.process, old, new)
    return 0


def _set(task, kind, value):
    """setuid/setgid: with the capability, all of real, effective, saved and fs;
    without, the effective and fs id, to the real or saved one only."""
    check(value != NO_CHANGE, errno.EINVAL)
    old = task.creds
    new = old.copy()
    if old.capable(_cap(kind)):
        for prefix in ("r", "s"):
            setattr(new, prefix + kind, value)
    elif value not in (getattr(old, "r" + kind), getattr(old, "s" + kind)):
        raise SyscallError(errno.EPERM)
    setattr(new, "e" + kind, value)
    setattr(new, "fs" + kind, value)
    return _commit(task, old, new, kind)


@syscall("setuid", "U")
def setuid(task, uid):
    """setuid(2)."""
    return _set(task, "uid", uid)


@syscall("setgid", "U")
def setgid(task, gid):
    """setgid(2)."""
    return _set(task, "gid", gid)


def _setres(task, kind, r, e, s):
    """setresuid/setresgid; without the capability, only to ids already held."""
    old = task.creds
    held = _ids(old, kind)
    if (all(v == NO_CHANGE or v == h for v, h in zip((r, e, s), held))
            and (e == NO_CHANGE or e == getattr(old, "fs" + kind))):
        return 0            # nothing changes: not even the fs id follows
    if not old.capable(_cap(kind)) and any(v != NO_CHANGE and v not in held for v in (r, e, s)):
        raise SyscallError(errno.EPERM)
    new = old.copy()
    for prefix, value in (("r", r), ("e", e), ("s", s)):
        if value != NO_CHANGE:
            setattr(new, prefix + kind, value)
    setattr(new, "fs" + kind, getattr(new, "e" + kind))
    return _commit(task, old, new, kind)


@syscall("setresuid", "UUU")
def setresuid(task, ruid, euid, suid):
    """setresuid(2)."""
    return _setres(task, "uid", ruid, euid, suid)


@syscall("setresgid", "UUU")
def setresgid(task, rgid, egid, sgid):
    """setresgid(2)."""
    return _setres(task, "gid", rgid, egid, sgid)


def _setre(task, kind, r, e):
    """setreuid/setregid: the saved id follows the new effective one when the real
    one is set or the effective one moves away from the old real one."""
    old = task.creds
    real, eff, saved = _ids(old, kind)
    capable = old.capable(_cap(kind))
    if r != NO_CHANGE and not capable and r not in (real, eff):
        raise SyscallError(errno.EPERM)
    if e != NO_CHANGE and not capable and e not in (real, eff, saved):
        raise SyscallError(errno.EPERM)
    new = old.copy()
    if r != NO_CHANGE:
        setattr(new, "r" + kind, r)
    if e != NO_CHANGE:
        setattr(new, "e" + kind, e)
    if r != NO_CHANGE or (e != NO_CHANGE and e != real):
        setattr(new, "s" + kind, getattr(new, "e" + kind))
    setattr(new, "fs" + kind, getattr(new, "e" + kind))
    return _commit(task, old, new, kind)


@syscall("setreuid", "UU")
def setreuid(task, ruid, euid):
    """setreuid(2)."""
    return _setre(task, "uid", ruid, euid)


@syscall("setregid", "UU")
def setregid(task, rgid, egid):
    """setregid(2)."""
    return _setre(task, "gid", rgid, egid)


def _setfs(task, kind, value):
    """setfsuid/setfsgid: return the old fs id; change it only when allowed (never an error)."""
    c = task.creds
    old = getattr(c, "fs" + kind)
    held = [getattr(c, prefix + kind) for prefix in ("r", "e", "s", "fs")]
    if value != NO_CHANGE and value != old and (value in held or c.capable(_cap(kind))):
        new = c.copy()
        setattr(new, "fs" + kind, value)
        if kind == "uid":
            new.fix_setfsuid(old)
        install(task.process, c, new)
    return old


@syscall("setfsuid", "U")
def setfsuid(task, uid):
    """setfsuid(2)."""
    return _setfs(task, "uid", uid)


@syscall("setfsgid", "U")
def setfsgid(task, gid):
    """setfsgid(2)."""
    return _setfs(task, "gid", gid)


# -- capget / capset -------------------------------------------------------------
CAP_VERSIONS = {0x19980330: 1, 0x20071026: 2, 0x20080522: 2}    # version -> u32 words per set
CAP_VERSION_3 = 0x20080522
CAP_DATA = struct.Struct("<III")        # effective, permitted, inheritable


def _cap_header(task, header):
    """(words, pid) of a cap_user_header_t. An unknown version is answered with the
    one we speak, written back into the header, and EINVAL."""
    version, pid = struct.unpack("<Ii", task.mem.read(header, 8))
    words = CAP_VERSIONS.get(version)
    if words is None:
        task.mem.write(header, U32.pack(CAP_VERSION_3))
        raise SyscallError(errno.EINVAL)
    return words, pid


@syscall("capget", "uu")
def capget(task, header, data):
    """capget(2). With data NULL, it only tells (in the header) which version we speak."""
    try:
        words, pid = _cap_header(task, header)
    except SyscallError as e:
        if not data and e.errno == errno.EINVAL:
            return 0
        raise
    if not data:
        return 0
    check(pid >= 0, errno.EINVAL)
    if pid in (0, task.process.pid):
        c = task.creds
    else:
        proc = task.process.kernel.processes.get(pid)
        if proc is None:
            raise SyscallError(errno.ESRCH)
        c = proc.creds
    out = b"".join(CAP_DATA.pack(c.cap_effective >> 32 * i & 0xFFFFFFFF, c.cap_permitted >> 32 * i & 0xFFFFFFFF,
                                 c.cap_inheritable >> 32 * i & 0xFFFFFFFF) for i in range(words))
    task.mem.write(data, out)
    return 0


@syscall("capset", "uu")
def capset(task, header, data):
    """capset(2): one's own sets only; permitted may only shrink, effective stays
    within it, inheritable within the bounding set (and the permitted, unless
    CAP_SETPCAP). A version-1 caller drops the capabilities above 31."""
    words, pid = _cap_header(task, header)
    if pid not in (0, task.process.pid):
        raise SyscallError(errno.EPERM)
    raw = task.mem.read(data, CAP_DATA.size * words)
    eff = prm = inh = 0
    for i in range(words):
        e, p, h = CAP_DATA.unpack_from(raw, i * CAP_DATA.size)
        eff, prm, inh = eff | e << 32 * i, prm | p << 32 * i, inh | h << 32 * i
    eff, prm, inh = eff & CAP_FULL_SET, prm & CAP_FULL_SET, inh & CAP_FULL_SET
    old = task.creds
    if not old.capable(CAP_SETPCAP) and inh & ~(old.cap_inheritable | old.cap_permitted):
        raise SyscallError(errno.EPERM)
    if inh & ~(old.cap_inheritable | old.cap_bset):
        raise SyscallError(errno.EPERM)
    if prm & ~old.cap_permitted or eff & ~prm:
        raise SyscallError(errno.EPERM)
    new = old.copy()
    new.cap_effective, new.cap_permitted, new.cap_inheritable = eff, prm, inh
    new.cap_ambient &= prm & inh
    task.process.creds = new
    return 0


# -- prctl's capability options (cap_task_prctl) ------------------------------------
PR_CAPBSET_READ, PR_CAPBSET_DROP = 23, 24
PR_GET_KEEPCAPS, PR_SET_KEEPCAPS = 7, 8
PR_GET_SECUREBITS, PR_SET_SECUREBITS = 27, 28
PR_CAP_AMBIENT = 47
PR_CAP_AMBIENT_IS_SET, PR_CAP_AMBIENT_RAISE, PR_CAP_AMBIENT_LOWER, PR_CAP_AMBIENT_CLEAR_ALL = 1, 2, 3, 4


def _valid_cap(cap):
    check(0 <= cap <= CAP_LAST_CAP, errno.EINVAL)
    return 1 << cap


def _capbset_read(task, cap, *_):
    _valid_cap(cap)
    return task.creds.cap_bset >> cap & 1


def _capbset_drop(task, cap, *_):
    c = task.creds
    c.check(CAP_SETPCAP)
    c.cap_bset &= ~_valid_cap(cap)
    return 0


def _set_securebits(task, bits, *_):
    c = task.creds
    old = c.securebits
    locked = (old & SECURE_ALL_LOCKS) >> 1
    if (locked & (old ^ bits) or old & SECURE_ALL_LOCKS & ~bits
            or bits & ~(SECURE_ALL_LOCKS | SECURE_ALL_BITS) or not c.capable(CAP_SETPCAP)):
        raise SyscallError(errno.EPERM)
    c.securebits = bits
    return 0


def _set_keepcaps(task, value, *_):
    c = task.creds
    check(value <= 1, errno.EINVAL)
    if c.secure(SECURE_KEEP_CAPS + 1):          # its lock
        raise SyscallError(errno.EPERM)
    c.securebits = c.securebits & ~(1 << SECURE_KEEP_CAPS) | value << SECURE_KEEP_CAPS
    return 0


def _cap_ambient(task, op, cap, arg4, arg5):
    c = task.creds
    if op == PR_CAP_AMBIENT_CLEAR_ALL:
        check(not (cap or arg4 or arg5), errno.EINVAL)
        c.cap_ambient = 0
        return 0
    check(0 <= cap <= CAP_LAST_CAP and not (arg4 or arg5), errno.EINVAL)
    bit = 1 << cap
    if op == PR_CAP_AMBIENT_IS_SET:
        return int(bool(c.cap_ambient & bit))
    if op == PR_CAP_AMBIENT_RAISE:
        if not (c.cap_permitted & c.cap_inheritable & bit) or c.secure(SECURE_NO_CAP_AMBIENT_RAISE):
            raise SyscallError(errno.EPERM)
        c.cap_ambient |= bit
        return 0
    check(op == PR_CAP_AMBIENT_LOWER, errno.EINVAL)
    c.cap_ambient &= ~bit
    return 0


# option -> handler(task, arg2, arg3, arg4, arg5); prctl (syscalls/misc.py) asks here first
PRCTL = {
    PR_CAPBSET_READ: _capbset_read,
    PR_CAPBSET_DROP: _capbset_drop,
    PR_GET_SECUREBITS: lambda task, *_: task.creds.securebits,
    PR_SET_SECUREBITS: _set_securebits,
    PR_GET_KEEPCAPS: lambda task, *_: task.creds.secure(SECURE_KEEP_CAPS),
    PR_SET_KEEPCAPS: _set_keepcaps,
    PR_CAP_AMBIENT: _cap_ambient,
}
