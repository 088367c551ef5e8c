"""Identity of the machine as the program sees it: uname, sethostname, setdomainname,
sysinfo, getrandom.

The sandbox's host and domain names are its own (kept in the options, which
/proc/sys/kernel/{hostname,domainname} read too); the rest comes from the host.
"""
import errno
import os

from pylinuxabi._native import ffi, lib
from pylinuxabi.base.abi import pack_utsname
from pylinuxabi.base.creds import CAP_SYS_ADMIN
from pylinuxabi.base.errors import SyscallError, check
from pylinuxabi.kernel.kernel import PASS
from pylinuxabi.syscalls import creds
from pylinuxabi.syscalls.fd import access_ok
from pylinuxabi.syscalls.registry import syscall

GRND_NONBLOCK, GRND_RANDOM, GRND_INSECURE = 1, 2, 4
MAX_GETRANDOM = 0x1FFFFFF
SYSINFO_SIZE = 112
SYSINFO_PROCS_OFFSET = 80
NEW_UTS_LEN = 64            # the longest host or domain name


@syscall("uname", "u")
def uname(task, addr):
    """uname(2)."""
    host = os.uname()
    options = task.process.kernel.options
    task.mem.write(addr, pack_utsname(b"Linux", options.hostname.encode(errors="surrogateescape"),
                                      host.release.encode(), host.version.encode(), b"x86_64",
                                      options.domainname.encode(errors="surrogateescape")))
    return 0


def _uts_name(task, name, length):
    """The new name for sethostname/setdomainname, as the kernel checks it."""
    task.creds.check(CAP_SYS_ADMIN)
    check(0 <= length <= NEW_UTS_LEN, errno.EINVAL)
    raw = task.mem.read(name, length) if length else b""
    return raw.split(b"\0", 1)[0].decode(errors="surrogateescape")


@syscall("sethostname", "ui")
def sethostname(task, name, length):
    """sethostname(2): the sandbox's own UTS namespace; root may change it."""
    task.process.kernel.options.hostname = _uts_name(task, name, length)
    return 0


@syscall("setdomainname", "ui")
def setdomainname(task, name, length):
    """setdomainname(2)."""
    task.process.kernel.options.domainname = _uts_name(task, name, length)
    return 0


@syscall("sysinfo", "u")
def sysinfo(task, addr):
    """sysinfo(2): the host's memory and load; the process count is the sandbox's."""
    buf = ffi.new("char[]", SYSINFO_SIZE)
    r = lib.host_sysinfo(buf)
    if r < 0:
        raise SyscallError(-r)
    raw = bytearray(ffi.buffer(buf, SYSINFO_SIZE))
    nprocs = len(task.process.kernel.processes) + 1
    raw[SYSINFO_PROCS_OFFSET:SYSINFO_PROCS_OFFSET + 2] = min(nprocs, 0xFFFF).to_bytes(2, "little")
    task.mem.write(addr, bytes(raw))
    return 0


@syscall("getrandom", "uuU")
def getrandom(task, buf, count, flags):
    """getrandom(2)."""
    check(not flags & ~(GRND_NONBLOCK | GRND_RANDOM | GRND_INSECURE), errno.EINVAL)
    check((flags & (GRND_RANDOM | GRND_INSECURE)) != (GRND_RANDOM | GRND_INSECURE), errno.EINVAL)
    access_ok(buf, count)
    count = min(count, MAX_GETRANDOM)
    if count == 0:
        return 0
    seeded = task.process.kernel.seeded_random
    n = task.mem.write_some(buf, os.urandom(count) if seeded is None else seeded.take(task.tid, count))
    if n == 0:
        if seeded is not None:
            seeded.give_back(task.tid)
        raise SyscallError(errno.EFAULT)
    return n


# -- prctl: the subset programs use at start-up ----------------------------------
PR_SET_PDEATHSIG, PR_GET_PDEATHSIG, PR_GET_DUMPABLE, PR_SET_DUMPABLE = 1, 2, 3, 4
PR_SET_NAME, PR_GET_NAME = 15, 16
PR_SET_CHILD_SUBREAPER, PR_GET_CHILD_SUBREAPER = 36, 37
PR_SET_NO_NEW_PRIVS, PR_GET_NO_NEW_PRIVS = 38, 39
PR_GET_SECCOMP = 21
PR_GET_TIMERSLACK, PR_SET_TIMERSLACK = 30, 29
PR_GET_TSC, PR_SET_TSC = 25, 26
TASK_COMM_LEN = 16
# the host's own, per thread, changing nothing but the caller: its parent, its
# timers, whether its rdtsc faults
HOST_PRCTL = {PR_SET_PDEATHSIG, PR_GET_PDEATHSIG, PR_SET_CHILD_SUBREAPER, PR_GET_CHILD_SUBREAPER,
              PR_GET_TIMERSLACK, PR_SET_TIMERSLACK, PR_GET_TSC, PR_SET_TSC}


@syscall("prctl", "iuuuu")
def prctl(task, option, arg2, arg3, arg4, arg5):
    """prctl(2): names, timer slack, dumpable, death signal, subreaper, no_new_privs,
    capabilities."""
    proc = task.process
    if option in creds.PRCTL:
        return creds.PRCTL[option](task, arg2, arg3, arg4, arg5)
    if option == PR_SET_NAME:
        # strncpy_from_user of at most 15 bytes: EFAULT unless they or a NUL before
        # them are readable
        name = task.mem.read_some(arg2, TASK_COMM_LEN - 1)
        if b"\0" not in name and len(name) < TASK_COMM_LEN - 1:
            raise SyscallError(errno.EFAULT)
        task.comm = name.split(b"\0", 1)[0]
        return 0
    if option == PR_GET_NAME:
        task.mem.write(arg2, task.comm.ljust(TASK_COMM_LEN, b"\0"))
        return 0
    if option in HOST_PRCTL:
        return PASS         # who is whose parent, timer slack and rdtsc are the host's business
    if option == PR_GET_DUMPABLE:
        return proc.dumpable
    if option == PR_SET_DUMPABLE:
        check(arg2 in (0, 1), errno.EINVAL)
        proc.dumpable = arg2
        return 0
    if option == PR_SET_NO_NEW_PRIVS:
        check(arg2 == 1 and not (arg3 or arg4 or arg5), errno.EINVAL)
        proc.no_new_privs = True        # the sandbox's filter set it on the host already
        return 0
    if option == PR_GET_NO_NEW_PRIVS:
        check(not (arg2 or arg3 or arg4 or arg5), errno.EINVAL)
        return int(proc.no_new_privs)
    if option == PR_GET_SECCOMP:
        return 0                # the program has no filter of its own: seccomp(2) is not modelled
    raise SyscallError(errno.EINVAL)
