"""Inodes: what a file *is* (type, metadata, children, link target, data source).

Each filesystem subclasses Inode; nothing here knows about tasks or ptrace.
"""
import errno
import itertools
import os
import stat as st
import time

from pylinuxabi.base.creds import CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH
from pylinuxabi.base.errors import SyscallError

R_OK, W_OK, X_OK = 4, 2, 1
DAC_OVERRIDE, DAC_READ_SEARCH = 1 << CAP_DAC_OVERRIDE, 1 << CAP_DAC_READ_SEARCH
S_ISUID, S_ISGID, S_ISVTX = 0o4000, 0o2000, 0o1000
RENAME_NOREPLACE, RENAME_EXCHANGE, RENAME_WHITEOUT = 1, 2, 4
# inode flags (FS_IOC_GETFLAGS): the two the VFS enforces itself, and those
# tmpfs keeps besides (SHMEM_FL_USER_MODIFIABLE, without casefolding)
FS_IMMUTABLE_FL, FS_APPEND_FL, FS_NODUMP_FL, FS_NOATIME_FL = 0x10, 0x20, 0x40, 0x80
FS_IOC_GETFLAGS, FS_IOC_SETFLAGS = 0x80086601, 0x40086602
FS_IOC32_GETFLAGS, FS_IOC32_SETFLAGS = 0x80046601, 0x40046602

# minor numbers for the model's filesystem instances (the host's own anonymous
# devices count up from small numbers; ours start high so they never collide)
_anon_minors = itertools.count(0x400)


def anon_dev():
    """A new st_dev for a filesystem instance with no device (tmpfs, overlay upper)."""
    return os.makedev(0, next(_anon_minors))


class Stat:
    """The fields of struct stat/statx that the model answers with."""

    __slots__ = ("dev", "ino", "mode", "nlink", "uid", "gid", "rdev", "size",
                 "blksize", "blocks", "atime_ns", "mtime_ns", "ctime_ns", "btime_ns")

    def __init__(self, **fields):
        self.dev = self.ino = self.rdev = self.size = self.blocks = 0
        self.uid = self.gid = 0
        self.nlink = 1
        self.mode = 0
        self.blksize = 4096
        self.btime_ns = None
        now = time.time_ns()
        self.atime_ns = self.mtime_ns = self.ctime_ns = now
        for k, v in fields.items():
            setattr(self, k, v)

    def change(self, mode=None, uid=None, gid=None, atime_ns=None, mtime_ns=None):
        """simple_setattr's part for an inode kept in memory: the given fields (mode's
        permission bits only), and ctime now."""
        if mode is not None:
            self.mode = st.S_IFMT(self.mode) | (mode & 0o7777)
        if uid is not None:
            self.uid = uid
        if gid is not None:
            self.gid = gid
        if atime_ns is not None:
            self.atime_ns = atime_ns
        if mtime_ns is not None:
            self.mtime_ns = mtime_ns
        self.ctime_ns = time.time_ns()

    def copy(self, **changes):
        """A copy of these fields with `changes` applied (an overlay shows its own st_dev/st_ino)."""
        out = Stat.__new__(Stat)
        for field in Stat.__slots__:
            setattr(out, field, getattr(self, field))
        for k, v in changes.items():
            setattr(out, k, v)
        return out

    @classmethod
    def from_host(cls, s):
        """From an os.stat_result of a host object."""
        out = cls.__new__(cls)
        out.dev, out.ino, out.mode, out.nlink = s.st_dev, s.st_ino, s.st_mode, s.st_nlink
        out.uid, out.gid, out.rdev, out.size = s.st_uid, s.st_gid, s.st_rdev, s.st_size
        out.blksize, out.blocks = s.st_blksize, s.st_blocks
        out.atime_ns, out.mtime_ns, out.ctime_ns = s.st_atime_ns, s.st_mtime_ns, s.st_ctime_ns
        out.btime_ns = None
        return out


class Inode:
    """Base inode. Subclasses override what their filesystem supports."""

    cacheable_children = True       # may dentries of children be kept?
    readonly = False
    linkable = False                # an O_TMPFILE file that may yet get a name
    setattr_supported = True        # False: chmod/chown/utimes are EOPNOTSUPP before any other check
    attr_flags = 0                  # FS_IMMUTABLE_FL, FS_APPEND_FL… where the model keeps them (tmpfs)
    fallocate_limits_kept_size = False  # RLIMIT_FSIZE applies to fallocate's KEEP_SIZE too (shmem's)
    statx_attributes = 0            # the STATX_ATTR_* its file system could set (stx_attributes_mask)
    multigrain_times = False        # statx gives mtime, ctime and btime only when asked (FS_MGTIME)

    # dev, ino are stable identities; mode holds the file type bits
    def stat(self):
        raise NotImplementedError

    @property
    def mode(self):
        return self.stat().mode

    def stat_raw(self):
        """struct stat bytes (hostfs answers from the host in one call)."""
        from pylinuxabi.base.abi import pack_stat
        return pack_stat(self.stat())

    def statx(self, mask):
        """struct statx bytes; filesystems that know more than Stat override this."""
        from pylinuxabi.base.abi import pack_statx
        return pack_statx(self.stat())

    def is_dir(self):
        return st.S_ISDIR(self.mode)

    def is_symlink(self):
        return st.S_ISLNK(self.mode)

    def getxattr(self, name):
        """The value of extended attribute `name`; ENODATA if it has none."""
        raise SyscallError(errno.ENODATA)

    def listxattr(self):
        """The names of its extended attributes (a list of bytes)."""
        return []

    # -- changing the inode itself (the VFS has checked permissions) ----------
    def setattr(self, mode=None, uid=None, gid=None, size=None, atime_ns=None, mtime_ns=None):
        """chmod, chown, truncate and utimes in one: None leaves a field alone; ctime follows."""
        raise SyscallError(errno.EPERM)

    def setxattr(self, name, value, flags):
        raise SyscallError(errno.EOPNOTSUPP)

    def removexattr(self, name):
        raise SyscallError(errno.EOPNOTSUPP)

    def fallocate(self, mode, offset, length):
        raise SyscallError(errno.EOPNOTSUPP)

    # -- directory operations: `name` is one component, checked by the VFS ----
    def create(self, name, mode, creds):
        """A new regular file called name (mode holds permission bits only)."""
        raise SyscallError(errno.EPERM)

    def mkdir(self, name, mode, creds):
        raise SyscallError(errno.EPERM)

    def tmpfile(self, mode, creds):
        """O_TMPFILE: a regular file with no name in this directory."""
        raise SyscallError(errno.EOPNOTSUPP)

    def mknod(self, name, mode, rdev, creds):
        """A FIFO, socket, device or regular file (mode holds the type bits)."""
        raise SyscallError(errno.EPERM)

    def symlink(self, name, target, creds):
        raise SyscallError(errno.EPERM)

    def link(self, name, inode):
        """A new name for `inode`, which is of this filesystem (EXDEV otherwise)."""
        raise SyscallError(errno.EPERM)

    def unlink(self, name):
        raise SyscallError(errno.EPERM)

    def rmdir(self, name):
        """Remove the empty directory `name` (the VFS checked that it is one; ENOTEMPTY is ours)."""
        raise SyscallError(errno.EPERM)

    def rename(self, name, new_dir, new_name, flags):
        """Move name to new_dir/new_name (same filesystem), replacing or exchanging as flags say.

        The VFS has checked types (EISDIR/ENOTDIR), loops and NOREPLACE.
        """
        raise SyscallError(errno.EPERM)

    def statfs(self):
        """struct statfs bytes of the filesystem holding this inode."""
        from pylinuxabi.base.abi import pack_statfs
        return pack_statfs(self.fs_magic)

    fs_magic = 0x01021994       # TMPFS_MAGIC: what a synthetic filesystem looks most like

    def lookup(self, name):
        """The child inode called `name` (bytes); ENOENT if none."""
        raise SyscallError(errno.ENOTDIR)

    def readlink(self):
        raise SyscallError(errno.EINVAL)

    def follow(self, task):
        """For magic links (/proc/self/fd/N): the Dentry they lead to, or None for a normal link."""
        return None

    def open(self, dentry, flags, task):
        """A new OpenFile for this inode."""
        raise SyscallError(errno.ENXIO)

    def fileattr_get(self):
        """The inode flags FS_IOC_GETFLAGS gives (ENOTTY: the filesystem has none)."""
        raise SyscallError(errno.ENOTTY)

    def fileattr_set(self, flags):
        """Set them (the VFS has checked ownership and CAP_LINUX_IMMUTABLE); flags this
        filesystem does not keep are EOPNOTSUPP."""
        raise SyscallError(errno.ENOTTY)

    def permission(self, creds, mask):
        """Check rwx `mask` for `creds` against mode bits, as generic_permission does:
        CAP_DAC_OVERRIDE passes everything but execute of a file with no x bit at
        all; CAP_DAC_READ_SEARCH passes reading files and reading and searching
        directories."""
        if mask & W_OK and self.attr_flags & FS_IMMUTABLE_FL:
            raise SyscallError(errno.EPERM)     # (inode_permission, before the mode bits)
        caps = creds.cap_effective
        if caps & DAC_OVERRIDE and not (mask & X_OK and not self.is_dir()):
            return
        s = self.stat()
        if creds.fsuid == s.uid:
            bits = (s.mode >> 6) & 7
        elif creds.in_group(s.gid):
            bits = (s.mode >> 3) & 7
        else:
            bits = s.mode & 7
        if not mask & ~bits:
            return
        if caps & DAC_READ_SEARCH and not mask & W_OK and (st.S_ISDIR(s.mode) or mask == R_OK):
            return
        if caps & DAC_OVERRIDE and (st.S_ISDIR(s.mode) or s.mode & 0o111):
            return
        raise SyscallError(errno.EACCES)
