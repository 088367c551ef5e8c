"""memfd_create(2) and the seal commands of fcntl(2).

Argument checking; the files and their seals are vfs/memfd.py's.
"""
import errno

from pylinuxabi.base.errors import SyscallError, check
from pylinuxabi.syscalls.registry import syscall
from pylinuxabi.vfs import memfd
from pylinuxabi.vfs.file import O_PATH

F_ADD_SEALS, F_GET_SEALS = 1033, 1034


def memfd_flags(flags):
    """memfd_create's flags as sanitize_flags leaves them: EINVAL for unknown bits
    (huge page sizes only with MFD_HUGETLB) or EXEC with NOEXEC_SEAL; vm.memfd_noexec
    picks between the two when neither is given, and may forbid MFD_EXEC (EACCES)."""
    allowed = memfd.MFD_ALL_FLAGS
    if flags & memfd.MFD_HUGETLB:
        allowed |= memfd.MFD_HUGE_MASK << memfd.MFD_HUGE_SHIFT
    check(not flags & ~allowed, errno.EINVAL)
    check(flags & (memfd.MFD_EXEC | memfd.MFD_NOEXEC_SEAL)
          != memfd.MFD_EXEC | memfd.MFD_NOEXEC_SEAL, errno.EINVAL)
    scope = memfd.noexec_scope()
    if not flags & (memfd.MFD_EXEC | memfd.MFD_NOEXEC_SEAL):
        noexec = scope >= memfd.MEMFD_NOEXEC_SCOPE_NOEXEC_SEAL
        flags |= memfd.MFD_NOEXEC_SEAL if noexec else memfd.MFD_EXEC
    if not flags & memfd.MFD_NOEXEC_SEAL and scope >= memfd.MEMFD_NOEXEC_SCOPE_NOEXEC_ENFORCED:
        raise SyscallError(errno.EACCES)
    return flags


@syscall("memfd_create", "uU")
def memfd_create(task, name, flags):
    """memfd_create(2)."""
    flags = memfd_flags(flags)
    try:
        name = task.mem.read_cstring(name, memfd.MFD_NAME_MAX_LEN)
    except SyscallError as e:
        raise SyscallError(errno.EINVAL if e.errno == errno.ENAMETOOLONG else e.errno)
    f = memfd.create(name, flags, task.creds)
    return task.files.install_new(f, cloexec=bool(flags & memfd.MFD_CLOEXEC))


def seals_fcntl(f, cmd, arg):
    """fcntl(fd, F_ADD_SEALS or F_GET_SEALS, arg) on the open file f."""
    if f.flags & O_PATH:
        raise SyscallError(errno.EBADF)
    if cmd == F_GET_SEALS:
        return memfd.get_seals(f)
    return memfd.add_seals(f, arg & 0xFFFFFFFF)
