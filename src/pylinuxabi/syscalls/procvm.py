"""process_vm_readv(2) and process_vm_writev(2): memory copied between two processes.

Checked as mm_access (ptrace_may_access, ATTACH) in the model; the supervisor copies
through its own access to both address spaces, IO_CHUNK at a time, and never reads
or writes the reserved range (the stub, park page and argument slots) for them.
"""
import errno

from pylinuxabi.base.abi import IOVEC
from pylinuxabi.kernel.access import PTRACE_MODE_ATTACH_REALCREDS, find_task_by_vpid, ptrace_may_access
from pylinuxabi.base.errors import SyscallError, check
from pylinuxabi.syscalls.fd import IO_CHUNK, IOV_MAX, MAX_RW_COUNT, read_iovec
from pylinuxabi.syscalls.registry import syscall


def _remote_iovec(task, addr, count):
    """iovec_from_user: the remote iovecs, whose lengths are only used, never checked."""
    check(count <= IOV_MAX, errno.EINVAL)
    raw = task.mem.read(addr, count * IOVEC.size)
    return [IOVEC.unpack_from(raw, i * IOVEC.size) for i in range(count)]


def _clear_length(platform, addr, n):
    """How much of [addr, addr + n) comes before the reserved range (n if none of it
    is in it): the rest is a fault, as an unmapped page would be."""
    for start, end in platform.hidden_ranges():
        if addr < end and addr + n > start:
            return max(0, start - addr)
    return n


def _target_mem(task, pid, kernel):
    """mm_access: the memory of the process pid names, ESRCH or EPERM as Linux gives.
    The init's memory would be the supervisor's: never shown. It is refused as any
    process is that the caller may not attach to (EPERM), and otherwise it is ESRCH,
    as for a task without memory of its own."""
    found = find_task_by_vpid(kernel, pid)
    if found is None:
        raise SyscallError(errno.ESRCH)
    t, proc = found
    if proc is task.process:
        return task.mem
    alive = proc.is_init or proc.pid in kernel.processes
    if alive and not ptrace_may_access(task.process, proc, PTRACE_MODE_ATTACH_REALCREDS):
        raise SyscallError(errno.EPERM)
    if t is None:
        raise SyscallError(errno.ESRCH)         # the init, or a zombie (no mm)
    return t.mem


def _copy(task, local, remote, rmem, write):
    """Copy segment by segment until the local buffers are full or a fault: the count
    copied, or EFAULT if none (process_vm_rw_core)."""
    platform = task.process.kernel.platform
    lmem = task.mem
    left = min(sum(n for _, n in local), MAX_RW_COUNT)
    li, loff = 0, 0
    done = 0
    for rbase, rlen in remote:
        roff = 0
        while roff < rlen and left:
            while local[li][1] - loff == 0:
                li, loff = li + 1, 0
            lbase, llen = local[li]
            want = min(rlen - roff, llen - loff, left, IO_CHUNK)
            raddr, laddr = rbase + roff, lbase + loff
            step = min(_clear_length(platform, raddr, want), _clear_length(platform, laddr, want))
            if write:
                data = lmem.read_some(laddr, step)
                n = rmem.write_some(raddr, data)
            else:
                data = rmem.read_some(raddr, step)
                n = lmem.write_some(laddr, data)
            done += n
            left -= n
            roff += n
            loff += n
            if n < want:
                check(done, errno.EFAULT)
                return done
        if not left:
            break
    return done


def _process_vm_rw(task, pid, lvec, liovcnt, rvec, riovcnt, flags, write):
    check(flags == 0, errno.EINVAL)
    local = read_iovec(task, lvec, min(liovcnt, 1 << 31))
    if not sum(n for _, n in local):
        return 0
    remote = _remote_iovec(task, rvec, riovcnt)
    if not any(n for _, n in remote):
        return 0
    rmem = _target_mem(task, pid, task.process.kernel)
    return _copy(task, local, remote, rmem, write)


@syscall("process_vm_readv", "iuuuuu")
def process_vm_readv(task, pid, lvec, liovcnt, rvec, riovcnt, flags):
    """process_vm_readv(2)."""
    return _process_vm_rw(task, pid, lvec, liovcnt, rvec, riovcnt, flags, False)


@syscall("process_vm_writev", "iuuuuu")
def process_vm_writev(task, pid, lvec, liovcnt, rvec, riovcnt, flags):
    """process_vm_writev(2)."""
    return _process_vm_rw(task, pid, lvec, liovcnt, rvec, riovcnt, flags, True)
