"""tmpfs: a filesystem in the supervisor's memory.

Metadata lives in Python; a regular file's bytes live in a memfd of its own
(made when it first holds data), so the program can mmap it, share it
between processes, and io_uring can read it: everyone sees the same pages.
Holes, SEEK_DATA/SEEK_HOLE and the fallocate modes are shmem's own.
"""
import errno
import itertools
import os
import stat as st
import time

from pylinuxabi._native import lib
from pylinuxabi.base.abi import PAGE
from pylinuxabi.base.creds import CAP_FSETID
from pylinuxabi.base.errors import SyscallError
from pylinuxabi.vfs.file import MAX_LFS_FILESIZE, O_ACCMODE, O_PATH, OpenFile
from pylinuxabi.vfs.inode import (FS_APPEND_FL, FS_IMMUTABLE_FL, FS_NOATIME_FL, FS_NODUMP_FL, RENAME_EXCHANGE,
                                  S_ISGID, Inode, Stat, anon_dev)
from pylinuxabi.vfs.synthetic import DIRENT64, ListedDirFile, dirent_type

TMPFS_MAGIC = 0x01021994
BOGO_DIRENT_SIZE = 20           # what tmpfs counts per entry in a directory's st_size
MAX_IO = 8 << 20
XATTR_CREATE, XATTR_REPLACE = 1, 2
XATTR_NAMESPACES = (b"user.", b"trusted.", b"security.")
XATTR_SIZE_MAX = 65536
FALLOC_FL_KEEP_SIZE = 0x01
FALLOC_FL_PUNCH_HOLE = 0x02
F_SEAL_SEAL, F_SEAL_SHRINK, F_SEAL_GROW = 0x1, 0x2, 0x4
F_SEAL_WRITE, F_SEAL_FUTURE_WRITE = 0x8, 0x10


def _pages(size):
    return (size + PAGE - 1) // PAGE


def default_size():
    """tmpfs's default size: half of the machine's memory."""
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2


_SUFFIXES = {b"k": 1 << 10, b"m": 1 << 20, b"g": 1 << 30, b"t": 1 << 40, b"p": 1 << 50, b"e": 1 << 60}


def parse_options(data):
    """mount -t tmpfs's option string → (TmpFS keyword arguments, mountinfo options).

    size=N[kmgtpe%], mode=OCTAL, uid=N, gid=N, nr_inodes (accepted, not
    enforced); anything else is EINVAL, as shmem_parse_one gives.
    """
    kw, shown = {}, []
    for opt in filter(None, (data or b"").split(b",")):
        key, eq, value = opt.partition(b"=")
        try:
            if key == b"size":
                if value.endswith(b"%"):
                    size = default_size() * 2 * int(value[:-1]) // 100
                else:
                    mult = _SUFFIXES.get(value[-1:].lower(), 1)
                    size = int(value[:-1] if mult != 1 else value) * mult
                kw["size"] = size
                shown.append(b"size=%dk" % (_pages(size) * PAGE // 1024))
            elif key == b"mode":
                kw["mode"] = int(value, 8) & 0o7777
                shown.append(b"mode=%o" % kw["mode"])
            elif key in (b"uid", b"gid"):
                kw[key.decode()] = int(value)
                shown.append(opt)
            elif key == b"nr_inodes":
                int(value.rstrip(b"kmgKMG"))
                shown.append(opt)
            elif key in (b"rw", b"ro", b"defaults") and not eq:
                continue
            else:
                raise ValueError(key)
        except ValueError:
            raise SyscallError(errno.EINVAL)
    return kw, b",".join(shown)


class TmpFS:
    """One tmpfs instance: its device, inode numbers and space."""

    def __init__(self, size=None, mode=0o1777, uid=0, gid=0, name="tmpfs"):
        self.dev = anon_dev()
        self.name = name
        self._inos = itertools.count(1)
        self.max_pages = _pages(size if size is not None else default_size())
        self.pages = 0                  # pages charged to files' sizes (an upper bound of use)
        self.root_inode = TmpInode(self, st.S_IFDIR | mode, uid, gid)
        self.root_inode.parent = self.root_inode

    def new_ino(self):
        return next(self._inos)

    def charge(self, old_size, new_size):
        """Account for a file growing from old_size to new_size; ENOSPC past the limit."""
        delta = _pages(new_size) - _pages(old_size)
        if delta > 0 and self.pages + delta > self.max_pages:
            raise SyscallError(errno.ENOSPC)
        self.pages += delta

    shows_blocks = True         # does statfs report its size (shmem's internal mount does not)?

    def statfs(self):
        from pylinuxabi.base.abi import STATFS
        total = self.max_pages if self.shows_blocks else 0
        free = max(total - self.pages, 0)
        return STATFS.pack(TMPFS_MAGIC, PAGE, total, free, free, 0, 0,
                           0, 0, 255, PAGE, 0x20, 0, 0, 0, 0)


TMPFS_FLAGS = FS_IMMUTABLE_FL | FS_APPEND_FL | FS_NODUMP_FL | FS_NOATIME_FL


class TmpInode(Inode):
    """A tmpfs inode of any type."""

    # shmem_fallocate checks RLIMIT_FSIZE even for KEEP_SIZE. (The sandbox's root, an
    # overlay whose upper layer is a tmpfs in memory, keeps the rule of a disk, as
    # docker's overlay on disk does: OverlayInode keeps Inode's False.)
    fallocate_limits_kept_size = True
    statx_attributes = 0x70         # APPEND | IMMUTABLE | NODUMP (shmem_getattr)
    multigrain_times = True

    def __init__(self, fs, mode, uid, gid, rdev=0):
        self.fs = fs
        self._stat = Stat(dev=fs.dev, ino=fs.new_ino(), mode=mode, uid=uid, gid=gid, rdev=rdev,
                          nlink=2 if st.S_ISDIR(mode) else 1, blocks=0)
        self._stat.btime_ns = self._stat.ctime_ns
        self.xattrs = {}
        self.memfd = None           # regular files: the data, once there is any
        self.target = b""           # symlinks
        self.fifo = None            # FIFOs: the pipe, while anyone has it open
        self.origin = None          # overlay: (dev, ino) of the lower object this was copied from
        self.opaque = False         # overlay: hides the lower directory of the same name
        self.whiteout = False       # overlay: this entry hides the lower one of its name
        if st.S_ISDIR(mode):
            self.children = {}      # name -> inode, in creation order (readdir's order)
            self.offsets = {}       # name -> its stable readdir position
            self.next_offset = 3    # 1 and 2 are '.' and '..'
            self.parent = None
            self._stat.size = 2 * BOGO_DIRENT_SIZE
        self._blocks_stale = False

    # -- metadata ---------------------------------------------------------------
    def stat(self):
        s = self._stat
        if self._blocks_stale:
            s.blocks = os.fstat(self.memfd).st_blocks if self.memfd is not None else 0
            self._blocks_stale = False
        return s

    @property
    def mode(self):
        return self._stat.mode

    def is_dir(self):
        return st.S_ISDIR(self._stat.mode)

    def is_symlink(self):
        return st.S_ISLNK(self._stat.mode)

    def _has_fileattr(self):
        if not st.S_ISREG(self._stat.mode) and not st.S_ISDIR(self._stat.mode):
            raise SyscallError(errno.ENOTTY)    # (special inodes have no fileattr operations)

    def fileattr_get(self):
        self._has_fileattr()
        return self.attr_flags

    def fileattr_set(self, flags):
        """shmem_fileattr_set: immutable, append-only, nodump and noatime."""
        self._has_fileattr()
        if flags & ~TMPFS_FLAGS:
            raise SyscallError(errno.EOPNOTSUPP)
        self.attr_flags = flags
        self.touch(mtime=False)

    def touch(self, mtime=True):
        now = time.time_ns()
        self._stat.ctime_ns = now
        if mtime:
            self._stat.mtime_ns = now

    def setattr(self, mode=None, uid=None, gid=None, size=None, atime_ns=None, mtime_ns=None):
        if size is not None:
            self.truncate(size)
        self._stat.change(mode, uid, gid, atime_ns, mtime_ns)

    def statfs(self):
        return self.fs.statfs()

    fs_magic = TMPFS_MAGIC

    # -- extended attributes ------------------------------------------------------
    def getxattr(self, name):
        try:
            return self.xattrs[name]
        except KeyError:
            raise SyscallError(errno.ENODATA)

    def listxattr(self):
        return list(self.xattrs)

    def setxattr(self, name, value, flags):
        if not name.startswith(XATTR_NAMESPACES):
            raise SyscallError(errno.EOPNOTSUPP)
        if flags & XATTR_CREATE and name in self.xattrs:
            raise SyscallError(errno.EEXIST)
        if flags & XATTR_REPLACE and name not in self.xattrs:
            raise SyscallError(errno.ENODATA)
        self.xattrs[name] = bytes(value)
        self.touch(mtime=False)

    def removexattr(self, name):
        if self.xattrs.pop(name, None) is None:
            raise SyscallError(errno.ENODATA)
        self.touch(mtime=False)

    # -- data of regular files ------------------------------------------------------
    seals = 0                       # F_SEAL_* (only memfds, vfs/memfd.py, ever have any)

    def data_fd(self):
        """The memfd holding the bytes (made now if the file had none)."""
        if self.memfd is None:
            self.memfd = os.memfd_create("tmpfs", os.MFD_CLOEXEC)
            if self._stat.size:
                os.ftruncate(self.memfd, self._stat.size)
        return self.memfd

    def pread(self, count, offset):
        size = self._stat.size
        if offset >= size or self.memfd is None:
            return b""
        return os.pread(self.memfd, min(count, size - offset, MAX_IO), offset)

    def pwrite(self, data, offset):
        if not data:
            return 0
        if offset + len(data) > MAX_LFS_FILESIZE:
            raise SyscallError(errno.EFBIG)
        size = self._stat.size
        end = offset + len(data)
        if self.seals:
            if self.seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE):
                raise SyscallError(errno.EPERM)
            if self.seals & F_SEAL_GROW and end > size:
                # shmem_write_begin refuses page by page: the pages before the one that
                # would grow the file are written
                fits = max(offset, size // PAGE * PAGE) - offset
                if fits == 0:
                    raise SyscallError(errno.EPERM)
                data, end = data[:fits], offset + fits
        extent = self.extent()
        if end > extent:
            self.fs.charge(extent, end)
        n = os.pwrite(self.data_fd(), data, offset)
        if offset + n > size:
            self._stat.size = offset + n
        self._blocks_stale = True
        self.touch()
        return n

    def truncate(self, size):
        old = self._stat.size
        if size == old:
            return
        self.may_resize(old, size)
        extent = self.extent()
        self.fs.charge(extent, size)    # (pages allocated past the old end go too)
        if self.memfd is not None or size:
            try:
                os.ftruncate(self.data_fd(), size)
            except OSError as e:
                self.fs.charge(size, extent)
                raise SyscallError(e.errno)
            self._blocks_stale = True
        self._stat.size = size
        self.alloc_end = 0
        self.touch()                # shmem_setattr: a new size is a change of the data

    alloc_end = 0       # where pages fallocate(FALLOC_FL_KEEP_SIZE) gave past the size end

    def extent(self):
        """The bytes the filesystem charges the file for: its size, or further with
        pages allocated past it (an upper bound of what it uses)."""
        return max(self._stat.size, self.alloc_end)

    def may_resize(self, old, size):
        """EPERM if the seals forbid going from old to size bytes."""
        if self.seals & (F_SEAL_SHRINK if size < old else F_SEAL_GROW):
            raise SyscallError(errno.EPERM)

    def fallocate(self, mode, offset, length):
        if not st.S_ISREG(self._stat.mode):
            raise SyscallError(errno.ENODEV)
        old = self._stat.size
        end = offset + length
        if self.seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE) and mode & FALLOC_FL_PUNCH_HOLE:
            raise SyscallError(errno.EPERM)
        if self.seals & F_SEAL_GROW and end > old:         # even with FALLOC_FL_KEEP_SIZE
            raise SyscallError(errno.EPERM)
        extent = self.extent()
        grows = end > extent and not mode & FALLOC_FL_PUNCH_HOLE
        if grows:                       # KEEP_SIZE's pages past the end are charged too
            self.fs.charge(extent, end)
        r = lib.host_fallocate(self.data_fd(), mode, offset, length)
        if r < 0:
            if grows:
                self.fs.charge(end, extent)
            raise SyscallError(-r)
        if mode & FALLOC_FL_KEEP_SIZE and not mode & FALLOC_FL_PUNCH_HOLE:
            self.alloc_end = max(self.alloc_end, end)
        self._stat.size = os.fstat(self.memfd).st_size
        self._blocks_stale = True
        self.touch()

    def seek_data(self, offset, whence):
        if offset >= self._stat.size or offset < 0:
            raise SyscallError(errno.ENXIO)
        try:
            return os.lseek(self.data_fd(), offset, whence)
        except OSError as e:
            raise SyscallError(e.errno)

    ro_fd = None

    def read_only_fd(self):
        """A read-only host fd of the same memfd (made on first use)."""
        if self.ro_fd is None:
            self.ro_fd = os.open(f"/proc/self/fd/{self.data_fd()}", os.O_RDONLY | os.O_CLOEXEC)
        return self.ro_fd

    def release_data(self):
        """The last name and the last open file are gone: give back the pages."""
        if self.memfd is not None:
            self.fs.charge(self.extent(), 0)
            os.close(self.memfd)
            self.memfd = None
        if self.ro_fd is not None:
            os.close(self.ro_fd)
            self.ro_fd = None

    # -- symlinks -----------------------------------------------------------------
    def readlink(self):
        if not self.is_symlink():
            raise SyscallError(errno.EINVAL)
        return self.target

    # -- directories ----------------------------------------------------------------
    def lookup(self, name):
        if not self.is_dir():
            raise SyscallError(errno.ENOTDIR)
        try:
            return self.children[name]
        except KeyError:
            raise SyscallError(errno.ENOENT)

    def _new(self, mode, creds, rdev=0):
        """A new inode owned as Linux's inode_init_owner says (setgid directories pass on their group)."""
        gid = creds.fsgid
        if self._stat.mode & S_ISGID:
            gid = self._stat.gid
            if st.S_ISDIR(mode):
                mode |= S_ISGID
            elif mode & S_ISGID and not creds.in_group(gid) and not creds.capable(CAP_FSETID):
                mode &= ~S_ISGID
        return type(self)(self.fs, mode, creds.fsuid, gid, rdev)     # (a directory's kind: tmpfs, hugetlbfs)

    def add(self, name, inode):
        """Enter inode under name (replacing nothing: the caller removed any old entry)."""
        self.children[name] = inode
        self.offsets[name] = self.next_offset
        self.next_offset += 1
        if self.origin is None:         # a directory copied up keeps its lower size
            self._stat.size += BOGO_DIRENT_SIZE
        if inode.is_dir():
            self._stat.nlink += 1
            inode.parent = self
        self.touch()
        return inode

    def adopt(self, name, inode):
        """Enter an inode copied up from a lower layer: the counts and times it brought
        already include it, so nothing of this directory changes."""
        self.children[name] = inode
        self.offsets[name] = self.next_offset
        self.next_offset += 1
        if inode.is_dir():
            inode.parent = self

    def drop(self, name):
        """Take name out of this directory; returns its inode."""
        inode = self.children.pop(name)
        del self.offsets[name]
        if self.origin is None:
            self._stat.size -= BOGO_DIRENT_SIZE
        if inode.is_dir():
            self._stat.nlink -= 1
        self.touch()
        return inode

    def create(self, name, mode, creds):
        return self.add(name, self._new(st.S_IFREG | (mode & 0o7777), creds))

    def mkdir(self, name, mode, creds):
        return self.add(name, self._new(st.S_IFDIR | (mode & 0o7777), creds))

    def tmpfile(self, mode, creds):
        inode = self._new(st.S_IFREG | (mode & 0o7777), creds)
        inode._stat.nlink = 0
        return inode

    def mknod(self, name, mode, rdev, creds):
        return self.add(name, self._new(mode, creds, rdev if st.S_ISCHR(mode) or st.S_ISBLK(mode) else 0))

    def symlink(self, name, target, creds):
        inode = self._new(st.S_IFLNK | 0o777, creds)
        inode.target = target
        inode._stat.size = len(target)
        return self.add(name, inode)

    def link(self, name, inode):
        if not isinstance(inode, TmpInode) or inode.fs is not self.fs:
            raise SyscallError(errno.EXDEV)
        inode._stat.nlink += 1
        inode.linkable = False
        inode.touch(mtime=False)
        self.add(name, inode)

    def unlink(self, name):
        inode = self.drop(name)
        inode._stat.nlink -= 1
        inode.touch(mtime=False)
        if inode._stat.nlink == 0:
            inode.maybe_free()

    def rmdir(self, name):
        inode = self.children[name]
        if inode.children:
            raise SyscallError(errno.ENOTEMPTY)
        self.drop(name)
        inode._stat.nlink = 0
        inode.touch(mtime=False)

    def rename(self, name, new_dir, new_name, flags):
        if not isinstance(new_dir, TmpInode) or new_dir.fs is not self.fs:
            raise SyscallError(errno.EXDEV)
        moving = self.children[name]
        there = new_dir.children.get(new_name)
        if flags & RENAME_EXCHANGE:
            self.drop(name)
            new_dir.drop(new_name)
            new_dir.add(new_name, moving)
            self.add(name, there)
            moving.touch(mtime=False)
            there.touch(mtime=False)
            return
        if there is not None:
            if there.is_dir():
                new_dir.rmdir(new_name)
            else:
                new_dir.unlink(new_name)
        self.drop(name)
        new_dir.add(new_name, moving)
        moving.touch(mtime=False)

    def open_dir(self, dentry, flags):
        return TmpDirFile(dentry, self, flags)

    def entries(self):
        """(name, inode, readdir position) of each child, in readdir order."""
        offsets = self.offsets
        return [(name, inode, offsets[name]) for name, inode in self.children.items()]

    # -- life -------------------------------------------------------------------------
    opens = 0

    def maybe_free(self):
        if self._stat.nlink == 0 and self.opens == 0:
            self.release_data()

    def open(self, dentry, flags, task, seen=None):
        """An open file of this inode; `seen` is the inode the program sees (an overlay's)."""
        mode = self._stat.mode
        seen = seen or self
        if flags & O_PATH:
            return OpenFile(dentry, seen, flags)
        if st.S_ISDIR(mode):
            if (flags & O_ACCMODE) != os.O_RDONLY:
                raise SyscallError(errno.EISDIR)
            return self.open_dir(dentry, flags)
        if st.S_ISREG(mode):
            return TmpFile(dentry, seen, flags, self)
        if st.S_ISFIFO(mode):
            from pylinuxabi.vfs.pipe import open_fifo
            return open_fifo(self, dentry, flags, task)
        if st.S_ISCHR(mode):
            from pylinuxabi.vfs.devfs import open_device
            return open_device(self, dentry, flags, task)
        raise SyscallError(errno.ENXIO)


def is_whiteout(inode):
    """An overlay whiteout: an entry of the upper layer that hides the lower name.
    (Linux stores it as a 0/0 character device; ours is marked as such, so that a
    0/0 device the program makes, as RENAME_WHITEOUT does, stays visible.)"""
    return inode.whiteout


class TmpFile(OpenFile):
    """An open regular tmpfs file. `node` holds the data; `inode` is what the
    program sees (the same, or the overlay inode in front of it)."""

    supports_direct = True

    def __init__(self, dentry, inode, flags, node=None):
        super().__init__(dentry, inode, flags)
        self.node = node = node or inode
        node.opens += 1

    def pread(self, count, offset):
        return self.node.pread(count, offset)

    def pwrite(self, data, offset):
        if self.flags & os.O_APPEND:
            offset = self.node._stat.size      # even pwrite appends to an O_APPEND file
        return self.node.pwrite(data, offset)

    def lseek(self, offset, whence):
        if whence in (os.SEEK_DATA, os.SEEK_HOLE):
            self.offset = self.node.seek_data(offset, whence)
            return self.offset
        return super().lseek(offset, whence)

    def fionread(self):
        return self.node._stat.size - self.offset

    def mmap_fd(self):
        # a file open read-only is mapped through a read-only fd of its memfd: the
        # host then refuses PROT_WRITE on a shared mapping, as Linux does
        return self.node.data_fd() if self.writable else self.node.read_only_fd()

    def release(self):
        self.node.opens -= 1
        self.node.maybe_free()


# simple_offset's positions: where the children start, and the end
DIR_OFFSET_FIRST, DIR_OFFSET_EOD = 2, 0x7FFFFFFF
DT_DIR = 4


class TmpDirFile(ListedDirFile):
    """An open tmpfs directory, read as Linux's simple_offset directories are (6.14 and
    later): '.' at position 0, '..' at 1, then the entries newest first, each at the
    stable offset it was given (3 and up). A record's d_off is the position of the
    one after it (DIR_OFFSET_EOD after the last), and reading on from a position
    gives the entries at and below it, so entries made since are not seen."""

    def entries(self):
        return [(name, inode._stat.ino, dirent_type(inode._stat.mode), pos)
                for name, inode, pos in self.inode.entries()]

    def getdents64(self, size):
        parent = self.dentry.up().inode if self.dentry is not None else self.inode
        return offset_getdents(self, self.inode.stat().ino, parent.stat().ino, self.entries(), size)


def offset_getdents(f, ino, parent_ino, children, size):
    """linux_dirent64 records of a simple_offset directory from f.offset on (see
    TmpDirFile); children: [(name, ino, d_type, position)]. Moves f.offset."""
    pos = f.offset
    if pos >= DIR_OFFSET_EOD:
        return b""
    listing = []
    if pos == 0:
        listing.append((b".", ino, DT_DIR, 0))
    if pos <= 1:
        listing.append((b"..", parent_ino, DT_DIR, 1))
    children = sorted(children, key=lambda e: e[3], reverse=True)
    listing += children if pos <= DIR_OFFSET_FIRST else [e for e in children if e[3] <= pos]
    out = bytearray()
    for i, (name, ino, dtype, at) in enumerate(listing):
        after = listing[i + 1][3] if i + 1 < len(listing) else DIR_OFFSET_EOD
        reclen = (DIRENT64.size + len(name) + 1 + 7) & ~7
        if len(out) + reclen > size:
            if not out:
                raise SyscallError(errno.EINVAL)        # not even one entry fits
            break
        out += DIRENT64.pack(ino, after, reclen, dtype) + name + bytes(reclen - DIRENT64.size - len(name))
        f.offset = after
    else:
        f.offset = DIR_OFFSET_EOD
    return bytes(out)

