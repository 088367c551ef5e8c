"""Identity of the machine as the program sees it: uname, sysinfo, getrandom.

The sandbox's hostname is its own; the rest comes from the host.
"""
import errno
import os

from pylinuxabi._native import ffi, lib
from pylinuxabi.kernel.abi import pack_utsname
from pylinuxabi.kernel.errors import SyscallError, check
from pylinuxabi.syscalls.fd import access_ok
from pylinuxabi.syscalls.table import syscall

GRND_NONBLOCK, GRND_RANDOM, GRND_INSECURE = 1, 2, 4
MAX_GETRANDOM = 0x1FFFFFF
SYSINFO_SIZE = 112
SYSINFO_PROCS_OFFSET = 80


@syscall("uname", "u")
def uname(task, addr):
    """uname(2)."""
    host = os.uname()
    hostname = task.process.kernel.options.hostname.encode()
    task.mem.write(addr, pack_utsname(b"Linux", hostname, host.release.encode(), host.version.encode(),
                                      b"x86_64", b"(none)"))
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
    n = task.mem.write_some(buf, os.urandom(count))
    if n == 0:
        raise SyscallError(errno.EFAULT)
    return n
