"""Memory syscalls the model must answer: brk and file-backed mmap.

Anonymous mappings never stop here (the BPF filter lets them through); the
host maps our files after we hand the process a host fd (DESIGN §3).
"""
import errno

from pylinuxabi.kernel.abi import PAGE
from pylinuxabi.kernel.errors import SyscallError, check
from pylinuxabi.kernel.kernel import PASS
from pylinuxabi.syscalls.table import syscall

SYS_mmap, SYS_munmap = 9, 11
PROT_READ, PROT_WRITE = 1, 2
MAP_SHARED, MAP_PRIVATE, MAP_SHARED_VALIDATE, MAP_TYPE = 0x01, 0x02, 0x03, 0x0F
MAP_FIXED, MAP_ANONYMOUS, MAP_FIXED_NOREPLACE = 0x10, 0x20, 0x100000


def _page_up(x):
    return (x + PAGE - 1) & ~(PAGE - 1)


def _platform(task):
    return task.process.kernel.platform


@syscall("brk", "u")
def brk(task, addr):
    """brk(2): the break is ours; growing or shrinking maps or unmaps anonymous pages."""
    mm = task.process.mm
    if addr < mm.brk_start:
        return mm.brk
    old_end, new_end = _page_up(mm.brk), _page_up(addr)
    if new_end != old_end:
        with _platform(task).inject(task.thread) as inj:
            if new_end > old_end:
                r = inj.syscall(SYS_mmap, old_end, new_end - old_end, PROT_READ | PROT_WRITE,
                                MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0)
                ok = r == old_end
            else:
                ok = inj.syscall(SYS_munmap, new_end, old_end - new_end) == 0
            inj.result = addr if ok else mm.brk
        if not ok:
            return mm.brk
    mm.brk = addr
    return addr


@syscall("mmap", "uuiiil")
def mmap(task, addr, length, prot, flags, fd, offset):
    """mmap(2) of one of our files: the process maps a host fd we pass it."""
    if flags & MAP_ANONYMOUS:
        return PASS
    check(length != 0, errno.EINVAL)
    check(offset & (PAGE - 1) == 0, errno.EINVAL)
    kind = flags & MAP_TYPE
    check(kind in (MAP_SHARED, MAP_PRIVATE, MAP_SHARED_VALIDATE), errno.EINVAL)
    f = task.files.get_file(fd)
    if not f.readable:
        raise SyscallError(errno.EACCES)
    if kind != MAP_PRIVATE and prot & PROT_WRITE and not f.writable:
        raise SyscallError(errno.EACCES)
    hostfd = f.mmap_fd()
    with _platform(task).inject(task.thread) as inj:
        if hostfd is None:
            r = inj.syscall(SYS_mmap, addr, length, prot, flags | MAP_ANONYMOUS, -1, 0)
        else:
            tfd = inj.install_fd(hostfd)
            r = inj.syscall(SYS_mmap, addr, length, prot, flags, tfd, offset)
            inj.close_fd(tfd)
        inj.result = r
    return r
