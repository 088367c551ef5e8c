"""memfd_create(2)'s files and their seals (F_ADD_SEALS, F_GET_SEALS).

A memfd is a regular file of one hidden tmpfs instance, named nowhere; it may
touch tmpfs and procfs's anonymous mount, and knows nothing of tasks.
"""
import errno
import fcntl as host_fcntl
import os

from pylinuxabi.base.errors import SyscallError
from pylinuxabi.vfs.file import O_LARGEFILE
from pylinuxabi.vfs.hugetlbfs import HUGETLBFS_MAGIC, statfs_bytes as hugetlbfs_statfs
from pylinuxabi.vfs.mount import Dentry
from pylinuxabi.vfs.procfs import ANON_MOUNT
from pylinuxabi.vfs.tmpfs import (F_SEAL_FUTURE_WRITE, F_SEAL_GROW, F_SEAL_SEAL, F_SEAL_SHRINK,
                                  F_SEAL_WRITE, TmpFile, TmpFS, TmpInode)

MFD_CLOEXEC, MFD_ALLOW_SEALING, MFD_HUGETLB, MFD_NOEXEC_SEAL, MFD_EXEC = 0x1, 0x2, 0x4, 0x8, 0x10
MFD_ALL_FLAGS = 0x1F
MFD_HUGE_SHIFT, MFD_HUGE_MASK = 26, 0x3F
MFD_NAME_MAX_LEN = 249                  # NAME_MAX less the "memfd:" prefix
F_SEAL_EXEC = 0x20
F_ALL_SEALS = 0x3F
MEMFD_NOEXEC_SCOPE_NOEXEC_SEAL, MEMFD_NOEXEC_SCOPE_NOEXEC_ENFORCED = 1, 2
# the seals the host must enforce itself: they decide what the process's mmap gets
HOST_SEALS = F_SEAL_WRITE | F_SEAL_FUTURE_WRITE
UNLIMITED = 1 << 74                     # bytes: more than any sparse file can charge

_fs = None
_noexec_scope = None


class MemfdFS(TmpFS):
    """shmem's internal mount: a tmpfs with no size limit, which statfs shows as 0 blocks."""

    def __init__(self):
        super().__init__(size=UNLIMITED, name="memfd")

    shows_blocks = False


def memfd_fs():
    """The filesystem every memfd lives in, made at first use."""
    global _fs
    if _fs is None:
        _fs = MemfdFS()
    return _fs


def noexec_scope():
    """vm.memfd_noexec of the machine (0: memfds are executable unless asked otherwise)."""
    global _noexec_scope
    if _noexec_scope is None:
        try:
            with open("/proc/sys/vm/memfd_noexec") as f:
                _noexec_scope = int(f.read())
        except (OSError, ValueError):
            _noexec_scope = 0
    return _noexec_scope


class MemfdInode(TmpInode):
    """A memfd's inode. Its data memfd is made now and sealable: the seals that
    govern mappings (HOST_SEALS) are put on it too, so the host refuses writable
    shared mappings and knows, better than we could, whether one still exists."""

    def __init__(self, fs, mode, uid, gid, name, seals, host_flags=0):
        super().__init__(fs, mode, uid, gid)
        self._stat.nlink = 0
        self.seals = seals
        try:
            self.memfd = os.memfd_create(name, os.MFD_CLOEXEC | os.MFD_ALLOW_SEALING | host_flags)
        except OSError as e:
            raise SyscallError(e.errno)

    def setattr(self, mode=None, uid=None, gid=None, size=None, atime_ns=None, mtime_ns=None):
        if mode is not None and self.seals & F_SEAL_EXEC and (mode ^ self._stat.mode) & 0o111:
            raise SyscallError(errno.EPERM)
        super().setattr(mode, uid, gid, size, atime_ns, mtime_ns)

    def seal_host(self, seals):
        """Put `seals` on the data memfd; EBUSY while a writable shared mapping exists."""
        try:
            host_fcntl.fcntl(self.memfd, host_fcntl.F_ADD_SEALS, seals)
        except OSError as e:
            raise SyscallError(e.errno)


class HugeMemfdInode(MemfdInode):
    """A MFD_HUGETLB memfd: hugetlbfs's rules, which the host applies to its own
    hugetlb memfd: no write(2), sizes in whole huge pages. It lives in the internal
    hugetlbfs mount of its page size (which has no size limit: statfs counts nothing)."""

    fs_magic = HUGETLBFS_MAGIC

    def __init__(self, fs, mode, uid, gid, name, seals, host_flags):
        super().__init__(fs, mode, uid, gid, name, seals, host_flags)
        self._stat.blksize = os.fstat(self.memfd).st_blksize

    def statfs(self):
        return hugetlbfs_statfs(self._stat.blksize)

    def pwrite(self, data, offset):
        raise SyscallError(errno.EINVAL)

    def may_resize(self, old, size):
        if size % self._stat.blksize:
            raise SyscallError(errno.EINVAL)
        super().may_resize(old, size)


def create(name, flags, creds):
    """An open file (O_RDWR) of a new memfd called `name` (bytes, checked); `flags` are
    memfd_create's, already checked, with MFD_EXEC or MFD_NOEXEC_SEAL decided."""
    mode = 0o100777                 # S_IFREG | 0777: shmem_file_setup's, no umask
    seals = F_SEAL_SEAL
    if flags & MFD_NOEXEC_SEAL:
        mode &= ~0o111
        seals = F_SEAL_EXEC
    elif flags & MFD_ALLOW_SEALING:
        seals = 0
    fs = memfd_fs()
    label = b"memfd:" + name
    if flags & MFD_HUGETLB:
        host_flags = os.MFD_HUGETLB | flags & (MFD_HUGE_MASK << MFD_HUGE_SHIFT)
        inode = HugeMemfdInode(fs, mode, creds.fsuid, creds.fsgid, name, seals, host_flags)
    else:
        inode = MemfdInode(fs, mode, creds.fsuid, creds.fsgid, name, seals)
    dentry = Dentry(label + b" (deleted)", ANON_MOUNT.root, inode, ANON_MOUNT)
    return inode.open(dentry, os.O_RDWR | O_LARGEFILE, None)


def _shmem_inode(f):
    """The tmpfs inode behind f when f is a tmpfs file opened as itself (not through
    an overlay): the files that have seals (memfd_file_seals_ptr); EINVAL otherwise."""
    if not isinstance(f, TmpFile) or f.inode is not f.node:
        raise SyscallError(errno.EINVAL)
    return f.node


def get_seals(f):
    """F_GET_SEALS: a tmpfs file that is not a memfd was sealed with F_SEAL_SEAL at birth."""
    node = _shmem_inode(f)
    return node.seals if isinstance(node, MemfdInode) else F_SEAL_SEAL


def add_seals(f, seals):
    """F_ADD_SEALS, checked in memfd_add_seals's order."""
    if not f.writable:
        raise SyscallError(errno.EPERM)
    if seals & ~F_ALL_SEALS:
        raise SyscallError(errno.EINVAL)
    node = _shmem_inode(f)
    if get_seals(f) & F_SEAL_SEAL:
        raise SyscallError(errno.EPERM)
    if seals & F_SEAL_EXEC and node._stat.mode & 0o111:
        # an executable file sealed against exec changes is sealed against writes too (W^X)
        seals |= F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_FUTURE_WRITE
    host = seals & HOST_SEALS & ~node.seals
    if host:
        node.seal_host(host)
    node.seals |= seals
    return 0
