"""overlay: a read-only lower tree (hostfs) under a writable upper one (tmpfs).

As Linux's overlayfs without redirect_dir: a name is the upper's if the upper
has it, else the lower's; the first change to a lower object copies it up
(its parents first); removing a lower name leaves a whiteout (a 0/0
character device) in the upper directory; a directory made where a lower
one was removed is opaque. Renaming a directory that has a lower part gives
EXDEV, as overlayfs does, and tools fall back to copying.

A copied-up object keeps its lower st_dev/st_ino for its lifetime; objects
born in the upper layer get the overlay's st_dev and inode numbers above
any the lower filesystem uses.
"""
import errno
import os
import stat as st

from pylinuxabi.kernel.abi import pack_stat, pack_statx
from pylinuxabi.kernel.errors import SyscallError
from pylinuxabi.vfs.file import O_ACCMODE, O_PATH, OpenFile
from pylinuxabi.vfs.inode import RENAME_EXCHANGE, Inode
from pylinuxabi.vfs.synthetic import ListedDirFile, dirent_type
from pylinuxabi.vfs.tmpfs import TmpInode, is_whiteout

UPPER_INO_BASE = 1 << 40        # above any inode number of the lower filesystems
COPY_CHUNK = 1 << 30


class OverlayFS:
    """One overlay: `lower` is a directory inode (hostfs), `upper` a TmpFS."""

    def __init__(self, lower, upper):
        self.upper = upper
        top = lower.stat()
        self.dev = top.dev
        root = upper.root_inode
        s = root._stat
        s.mode, s.uid, s.gid, s.nlink = top.mode, top.uid, top.gid, top.nlink
        s.size, s.blocks = top.size, top.blocks
        s.atime_ns, s.mtime_ns, s.ctime_ns = top.atime_ns, top.mtime_ns, top.ctime_ns
        root.origin = (top.dev, top.ino)
        self.root_inode = OverlayInode(self, None, b"/", lower, root)


class OverlayInode(Inode):
    """One name of the merged tree: its lower object, its upper object, or both."""

    def __init__(self, fs, parent, name, lower, upper):
        self.fs = fs
        self.parent = parent
        self.name = name
        self.lower = lower
        self.upper = upper
        self._type = st.S_IFMT((upper or lower).mode)
        self.kids = {}          # name -> OverlayInode: one object per name, as the dentry cache has

    # -- what the program sees ----------------------------------------------------
    def stat(self):
        if self.upper is None:
            return self.lower.stat()
        u = self.upper.stat()
        dev, ino = self.upper.origin or (self.fs.dev, UPPER_INO_BASE + u.ino)
        return u.copy(dev=dev, ino=ino)

    def stat_raw(self):
        if self.upper is None:
            return self.lower.stat_raw()
        return pack_stat(self.stat())

    def statx(self, mask):
        if self.upper is None:
            return self.lower.statx(mask)
        return pack_statx(self.stat())

    @property
    def mode(self):
        return (self.upper or self.lower).mode

    def is_dir(self):
        return self._type == st.S_IFDIR

    def is_symlink(self):
        return self._type == st.S_IFLNK

    def statfs(self):
        node = self
        while node.lower is None:
            node = node.parent
        return node.lower.statfs()

    def readlink(self):
        return (self.upper or self.lower).readlink()

    def getxattr(self, name):
        return (self.upper or self.lower).getxattr(name)

    def listxattr(self):
        return (self.upper or self.lower).listxattr()

    # -- lookup -----------------------------------------------------------------------
    def lookup(self, name):
        kid = self.kids.get(name)
        if kid is not None:
            return kid
        if self._type != st.S_IFDIR:
            raise SyscallError(errno.ENOTDIR)
        upper = lower = None
        if self.upper is not None:
            upper = self.upper.children.get(name)
            if upper is not None and is_whiteout(upper):
                raise SyscallError(errno.ENOENT)
        if self.lower is not None and not (self.upper is not None and self.upper.opaque):
            if upper is None or (upper.is_dir() and not upper.opaque):
                try:
                    lower = self.lower.lookup(name)
                except SyscallError as e:
                    if e.errno != errno.ENOENT:
                        raise
                if upper is not None and lower is not None and not lower.is_dir():
                    lower = None
        if upper is None and lower is None:
            raise SyscallError(errno.ENOENT)
        kid = self.kids[name] = OverlayInode(self.fs, self, name, lower, upper)
        return kid

    def _lower_has(self, name):
        """Does the lower layer show `name` here (so removing it needs a whiteout)?"""
        if self.lower is None or (self.upper is not None and self.upper.opaque):
            return False
        try:
            self.lower.lookup(name)
            return True
        except SyscallError:
            return False

    # -- copy-up ------------------------------------------------------------------------
    def copy_up(self, data=True):
        """The upper object, copying the lower one (and its parents) up first if needed.
        With data=False a regular file comes up empty (it is about to be truncated)."""
        if self.upper is not None:
            return self.upper
        parent = self.parent.copy_up()
        lower = self.lower
        s = lower.stat()
        node = TmpInode(self.fs.upper, s.mode, s.uid, s.gid, s.rdev)
        n = node._stat
        if st.S_ISREG(s.mode) and data and s.size:
            _copy_data(lower, node, s.size)
        elif st.S_ISLNK(s.mode):
            node.target = lower.readlink()
            n.size = len(node.target)
        elif st.S_ISDIR(s.mode):
            n.nlink, n.size, n.blocks = s.nlink, s.size, s.blocks
        try:
            for key in lower.listxattr():
                if key.startswith(b"user.") or key.startswith(b"trusted."):
                    node.xattrs[key] = lower.getxattr(key)
        except SyscallError:
            pass
        n.atime_ns, n.mtime_ns, n.ctime_ns = s.atime_ns, s.mtime_ns, s.ctime_ns
        node.origin = (s.dev, s.ino)
        parent.adopt(self.name, node)
        self.upper = node
        return node

    # -- changing the object ------------------------------------------------------------------
    def setattr(self, mode=None, uid=None, gid=None, size=None, atime_ns=None, mtime_ns=None):
        up = self.copy_up(data=size != 0)
        up.setattr(mode=mode, uid=uid, gid=gid, size=size, atime_ns=atime_ns, mtime_ns=mtime_ns)

    def setxattr(self, name, value, flags):
        self.copy_up().setxattr(name, value, flags)

    def removexattr(self, name):
        self.copy_up().removexattr(name)

    def fallocate(self, mode, offset, length):
        self.copy_up().fallocate(mode, offset, length)

    def open(self, dentry, flags, task):
        if flags & O_PATH:
            return OpenFile(dentry, self, flags)
        if self._type == st.S_IFDIR:
            if (flags & O_ACCMODE) != os.O_RDONLY:
                raise SyscallError(errno.EISDIR)
            if self.upper is None:
                f = self.lower.open(dentry, flags, task)
                f.inode = self
                return f
            return MergedDirFile(dentry, self, flags)
        if self._type == st.S_IFREG and (flags & O_ACCMODE) != os.O_RDONLY:
            self.copy_up(data=not flags & os.O_TRUNC)
        if self.upper is not None:
            return self.upper.open(dentry, flags, task, seen=self)
        f = self.lower.open(dentry, flags, task)
        f.inode = self
        return f

    # -- directory operations --------------------------------------------------------------------
    def _make(self, name, make):
        """Create name in the upper directory with make(upper_dir); a whiteout there goes first."""
        up = self.copy_up()
        old = up.children.get(name)
        covered = old is not None and is_whiteout(old)
        if covered:
            up.drop(name)
        node = make(up)
        if covered and node.is_dir():
            node.opaque = True          # the lower directory of this name stays hidden
        kid = self.kids[name] = OverlayInode(self.fs, self, name, None, node)
        return kid

    def create(self, name, mode, creds):
        return self._make(name, lambda up: up.create(name, mode, creds))

    def mkdir(self, name, mode, creds):
        return self._make(name, lambda up: up.mkdir(name, mode, creds))

    def tmpfile(self, mode, creds):
        return OverlayInode(self.fs, self, None, None, self.copy_up().tmpfile(mode, creds))

    def mknod(self, name, mode, rdev, creds):
        return self._make(name, lambda up: up.mknod(name, mode, rdev, creds))

    def symlink(self, name, target, creds):
        return self._make(name, lambda up: up.symlink(name, target, creds))

    def link(self, name, inode):
        if not isinstance(inode, OverlayInode) or inode.fs is not self.fs:
            raise SyscallError(errno.EXDEV)
        node = inode.copy_up()
        self._make(name, lambda up: up.link(name, node) or node)

    def _whiteout(self, up, name):
        node = TmpInode(self.fs.upper, st.S_IFCHR, 0, 0, 0)
        node.whiteout = True
        up.add(name, node)

    def unlink(self, name):
        kid = self.lookup(name)
        up = self.copy_up()
        if kid.upper is not None:
            up.unlink(name)
        if self._lower_has(name):
            self._whiteout(up, name)
        self.kids.pop(name, None)

    def rmdir(self, name):
        kid = self.lookup(name)
        if kid.names():
            raise SyscallError(errno.ENOTEMPTY)
        up = self.copy_up()
        if kid.upper is not None:
            for inner in list(kid.upper.children):      # whiteouts only: the merged view was empty
                kid.upper.drop(inner)
            up.rmdir(name)
        if self._lower_has(name):
            self._whiteout(up, name)
        self.kids.pop(name, None)

    def rename(self, name, new_dir, new_name, flags):
        if not isinstance(new_dir, OverlayInode) or new_dir.fs is not self.fs:
            raise SyscallError(errno.EXDEV)
        src = self.lookup(name)
        try:
            dst = new_dir.lookup(new_name)
        except SyscallError:
            dst = None
        if src.is_dir() and src.lower is not None:
            raise SyscallError(errno.EXDEV)     # overlayfs without redirect_dir
        if flags & RENAME_EXCHANGE and dst.is_dir() and dst.lower is not None:
            raise SyscallError(errno.EXDEV)
        if dst is not None and dst.is_dir() and not flags & RENAME_EXCHANGE and dst.names():
            raise SyscallError(errno.ENOTEMPTY)
        src.copy_up()
        if dst is not None:
            dst.copy_up(data=bool(flags & RENAME_EXCHANGE))
        up_old, up_new = self.copy_up(), new_dir.copy_up()
        old_lower = self._lower_has(name)
        there = up_new.children.get(new_name)
        if there is not None and is_whiteout(there):
            up_new.drop(new_name)
        if dst is not None and dst.is_dir() and dst.upper is not None and not flags & RENAME_EXCHANGE:
            for inner in list(dst.upper.children):
                dst.upper.drop(inner)
        up_old.rename(name, up_new, new_name, flags)
        if src.is_dir() and new_dir._lower_has(new_name):
            src.upper.opaque = True
        self.kids.pop(name, None)
        new_dir.kids[new_name] = src
        src.parent, src.name = new_dir, new_name
        if flags & RENAME_EXCHANGE:
            self.kids[name] = dst
            dst.parent, dst.name = self, name
            if dst.is_dir() and old_lower:
                dst.upper.opaque = True
        elif old_lower:
            self._whiteout(up_old, name)

    # -- listing --------------------------------------------------------------------------------------
    def names(self):
        """The merged directory's entries: [(name, ino, d_type)], upper first, then lower."""
        out = []
        seen = set()
        up = self.upper
        if up is not None:
            for name, node, _ in up.entries():
                seen.add(name)
                if is_whiteout(node):
                    continue
                ino = node.origin[1] if node.origin else UPPER_INO_BASE + node._stat.ino
                out.append((name, ino, dirent_type(node._stat.mode)))
        if self.lower is not None and not (up is not None and up.opaque):
            for name, ino, dtype in _host_listing(self.lower):
                if name not in seen:
                    out.append((name, ino, dtype))
        return out


def _host_listing(lower):
    """(name, ino, d_type) of a host directory, in the host's order."""
    fd = os.open(".", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC, dir_fd=lower.dirfd())
    try:
        with os.scandir(fd) as it:
            out = []
            for e in it:
                if e.is_symlink():
                    dtype = 10
                elif e.is_dir(follow_symlinks=False):
                    dtype = 4
                elif e.is_file(follow_symlinks=False):
                    dtype = 8
                else:
                    dtype = dirent_type(e.stat(follow_symlinks=False).st_mode)
                out.append((os.fsencode(e.name), e.inode(), dtype))
            return out
    finally:
        os.close(fd)


def _copy_data(lower, node, size):
    """Copy a lower file's bytes into the upper node's memfd, host to host."""
    node.fs.charge(0, size)
    src = lower.open(None, os.O_RDONLY, None)
    try:
        dst = node.data_fd()
        os.ftruncate(dst, size)
        done = 0
        while done < size:
            n = os.copy_file_range(src.fd, dst, min(size - done, COPY_CHUNK), done, done)
            if n == 0:
                break
            done += n
        node._stat.size = size
        node._blocks_stale = True
    except OSError as e:
        node.fs.charge(size, 0)
        raise SyscallError(e.errno or errno.EIO)
    finally:
        src.release()


class MergedDirFile(ListedDirFile):
    """An open overlay directory with an upper part: the merged listing, made at open
    and again on a rewind (as overlayfs caches it per open)."""

    listing = None

    def entries(self):
        if self.listing is None or self.offset == 0:
            self.listing = [(name, ino, dtype, i + 3) for i, (name, ino, dtype) in enumerate(self.inode.names())]
        return self.listing
