"""Memory syscalls the model must answer: brk, file-backed mmap, and any change
to the mappings that could reach the reserved range (DESIGN §3).

Anonymous mappings and the like stop here only when the BPF filter cannot
tell that they stay clear of the reserved range; the host maps our files
after we hand the process a host fd.
"""
import errno
import os

from pylinuxabi.base.abi import PAGE
from pylinuxabi.base.errors import SyscallError, check
from pylinuxabi.kernel.kernel import PASS
from pylinuxabi.syscalls.registry import PASSTHROUGH, syscall

SYS_mmap, SYS_munmap = 9, 11
PROT_READ, PROT_WRITE = 1, 2
MAP_SHARED, MAP_PRIVATE, MAP_SHARED_VALIDATE, MAP_TYPE = 0x01, 0x02, 0x03, 0x0F
MAP_FIXED, MAP_ANONYMOUS, MAP_FIXED_NOREPLACE = 0x10, 0x20, 0x100000


def _page_up(x):
    return (x + PAGE - 1) & ~(PAGE - 1)


MREMAP_FIXED = 2


def _platform(task):
    return task.process.kernel.platform


def _clear_of_reserved(task, addr, length):
    """The reserved range (the stub, the park page, the argument slots) is
    the supervisor's: a change to it is refused as for an mseal'd range."""
    if _platform(task).touches_reserved(addr, length):
        raise SyscallError(errno.EPERM)


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
    if flags & MAP_FIXED:
        _clear_of_reserved(task, addr, length)
    if flags & MAP_ANONYMOUS:
        return PASS
    # Linux's order: the offset (sys_mmap), the fd (ksys_mmap_pgoff), then do_mmap's
    check(offset & (PAGE - 1) == 0, errno.EINVAL)
    f = task.files.get_file(fd)
    check(length != 0, errno.EINVAL)
    kind = flags & MAP_TYPE
    check(kind in (MAP_SHARED, MAP_PRIVATE, MAP_SHARED_VALIDATE), errno.EINVAL)
    if not f.readable:
        raise SyscallError(errno.EACCES)
    if kind != MAP_PRIVATE and prot & PROT_WRITE and not f.writable:
        raise SyscallError(errno.EACCES)
    hostfd, offset = f.mmap_region(offset, length)
    zero_fd = None
    if hostfd is None and kind != MAP_PRIVATE and not f.writable:
        hostfd = zero_fd = _read_only_zero_pages(offset + length)
    try:
        with _platform(task).inject(task.thread) as inj:
            if hostfd is None:
                r = inj.syscall(SYS_mmap, addr, length, prot, flags | MAP_ANONYMOUS, -1, 0)
            else:
                tfd = inj.install_fd(hostfd)
                r = inj.syscall(SYS_mmap, addr, length, prot, flags, tfd, offset)
                inj.close_fd(tfd)
            inj.result = r
    finally:
        if zero_fd is not None:
            os.close(zero_fd)
    return r


def _read_only_zero_pages(size):
    """A shared mapping of /dev/zero open read-only is shared zero pages that may
    never become writable (do_mmap clears VM_MAYWRITE): a read-only fd of a new
    memfd, so the host refuses mprotect(PROT_WRITE) with EACCES as Linux does."""
    try:
        memfd = os.memfd_create("dev/zero", os.MFD_CLOEXEC)
        try:
            os.ftruncate(memfd, _page_up(size))
            return os.open(f"/proc/self/fd/{memfd}", os.O_RDONLY | os.O_CLOEXEC)
        finally:
            os.close(memfd)
    except OSError:
        raise SyscallError(errno.ENOMEM) from None


@syscall("munmap", "uu", kind=PASSTHROUGH)
def munmap(task, addr, length):
    """munmap(2): the host's, outside the reserved range."""
    _clear_of_reserved(task, addr, length)
    return PASS


@syscall("mprotect", "uui", kind=PASSTHROUGH)
def mprotect(task, addr, length, prot):
    """mprotect(2): the host's, outside the reserved range."""
    _clear_of_reserved(task, addr, length)
    return PASS


@syscall("pkey_mprotect", "uuii", kind=PASSTHROUGH)
def pkey_mprotect(task, addr, length, prot, pkey):
    """pkey_mprotect(2): the host's, outside the reserved range."""
    _clear_of_reserved(task, addr, length)
    return PASS


@syscall("madvise", "uui", kind=PASSTHROUGH)
def madvise(task, addr, length, advice):
    """madvise(2): the host's, outside the reserved range (MADV_DONTFORK would
    leave a child without the stub)."""
    _clear_of_reserved(task, addr, length)
    return PASS


@syscall("mseal", "uuu", kind=PASSTHROUGH)
def mseal(task, addr, length, flags):
    """mseal(2): the host's, outside the reserved range."""
    _clear_of_reserved(task, addr, length)
    return PASS


@syscall("mremap", "uuuuu", kind=PASSTHROUGH)
def mremap(task, old, old_size, new_size, flags, new):
    """mremap(2): the host's, if neither the old range nor a fixed new one
    reaches the reserved range (old_size 0 duplicates a mapping at old)."""
    _clear_of_reserved(task, old, old_size)
    if flags & MREMAP_FIXED:
        _clear_of_reserved(task, new, new_size)
    return PASS
