"""overlay: a read-only lower tree (hostfs) under a writable upper one.

As Linux's overlayfs without redirect_dir: a name is the upper's if the upper
has it, else the lower's; the first change to a lower object copies it up
(its parents first); removing a lower name leaves a whiteout (a 0/0
character device) in the upper directory; a directory made where a lower
one was removed is opaque. Renaming a directory that has a lower part gives
EXDEV, as overlayfs does, and tools fall back to copying.

A copied-up object keeps its lower st_dev/st_ino for its lifetime; objects
born in the upper layer get the overlay's st_dev and inode numbers above
any the lower filesystem uses.

The upper layer is a TmpFS (by default: every change lives in memory and
dies with the sandbox) or a host directory served by a writable hostfs
(`--upper DIR`: the changes persist). The overlay works on upper objects
through the Inode API (lookup, create, mkdir, link, unlink, rename, setattr,
xattrs, open) and asks an upper *layer* object for the few things overlayfs
adds: whether an entry is a whiteout or a directory opaque, making those
markers, copying a lower object up, and listing a directory with its
markers. TmpUpper keeps them as flags on tmpfs inodes (so a 0/0 device the
program makes stays a device); HostUpper keeps them in Linux overlayfs's
on-disk format (a 0/0 character device, trusted.overlay.opaque="y"), so a
later run, or `mount -t overlay -o lowerdir=/,upperdir=DIR,workdir=WORK`,
sees the same tree, and makes each change the way overlayfs does: an object
is built in the work directory and renamed into place, a whiteout takes a
name's place by rename (RENAME_WHITEOUT, RENAME_EXCHANGE); so a run killed
at any moment leaves DIR consistent, with at most debris in WORK/work.

What a host upper does not keep: which lower object a copied-up one came
from (overlayfs's trusted.overlay.origin file handle): within the run that
copies it up an object keeps its lower st_dev/st_ino, as with tmpfs; a
later run shows the upper's. Merged directories show st_nlink 1 there, as
overlayfs does; a tmpfs upper keeps the lower count.
"""
import errno
import fcntl
import itertools
import os
import shutil
import stat as st
import struct

from pylinuxabi.base.abi import pack_stat, pack_statx
from pylinuxabi.base.errors import SyscallError
from pylinuxabi.vfs.file import O_ACCMODE, O_PATH, OpenFile
from pylinuxabi.vfs.hostcopy import copy_file
from pylinuxabi.vfs.inode import RENAME_EXCHANGE, RENAME_WHITEOUT, Inode
from pylinuxabi.vfs.synthetic import ListedDirFile, dirent_type
from pylinuxabi.vfs.tmpfs import TmpFS, TmpInode, is_whiteout, offset_getdents

UPPER_INO_BASE = 1 << 40        # above any inode number of the lower filesystems
DT_CHR = 2
COPIED_XATTRS = (b"user.", b"trusted.")     # what copy-up carries over (as tmpfs can hold)


class OverlayFS:
    """One overlay: `lower` is a directory inode (hostfs), `upper` a TmpFS or an
    upper layer (TmpUpper, HostUpper)."""

    def __init__(self, lower, upper):
        if isinstance(upper, TmpFS):
            upper = TmpUpper(upper)
        self.layer = upper
        top = lower.stat()
        self.dev = top.dev
        root = upper.adopt_root(top)
        self.root_inode = OverlayInode(self, None, b"/", lower, root)
        # the lower tree's file system's stx_attributes_mask, for what is copied up
        self.lower_statx_attributes = struct.unpack_from("<Q", lower.statx(0), 56)[0]


class TmpUpper:
    """An upper layer in the supervisor's memory: markers are flags on tmpfs inodes."""

    merged_dir_nlink = None     # a merged directory shows the count copied up with it
    private = ()                # no xattr names are the overlay's own

    def __init__(self, fs):
        self.fs = fs

    def adopt_root(self, top):
        """The upper root, made to look like the lower root it stands on."""
        root = self.fs.root_inode
        s = root._stat
        s.mode, s.uid, s.gid, s.nlink = top.mode, top.uid, top.gid, top.nlink
        s.size, s.blocks = top.size, top.blocks
        s.atime_ns, s.mtime_ns, s.ctime_ns = top.atime_ns, top.mtime_ns, top.ctime_ns
        root.origin = (top.dev, top.ino)
        return root

    def child(self, d, name):
        return d.children.get(name)

    def is_whiteout(self, node):
        return is_whiteout(node)

    def is_opaque(self, d):
        return d.opaque

    def set_opaque(self, d):
        d.opaque = True

    def origin(self, node, s):
        return node.origin

    def entries(self, d):
        """(name, ino, d_type, whiteout, origin) of each upper entry, in readdir order."""
        return [(name, node._stat.ino, dirent_type(node._stat.mode), is_whiteout(node), node.origin)
                for name, node, _ in d.entries()]

    def copy_up(self, d, name, lower, s, data):
        """A copy of the lower object (stat s) entered as d/name."""
        node = TmpInode(self.fs, s.mode, s.uid, s.gid, s.rdev)
        n = node._stat
        if st.S_ISREG(s.mode) and data and s.size:
            _copy_data(lower, node, s.size)
        elif st.S_ISLNK(s.mode):
            node.target = lower.readlink()
            n.size = len(node.target)
        elif st.S_ISDIR(s.mode):
            n.nlink, n.size, n.blocks = s.nlink, s.size, s.blocks
        for key, value in _lower_xattrs(lower):
            node.xattrs[key] = value
        n.atime_ns, n.mtime_ns, n.ctime_ns = s.atime_ns, s.mtime_ns, s.ctime_ns
        node.origin = (s.dev, s.ino)
        d.adopt(name, node)
        return node

    def make(self, d, name, make, covered):
        """make(dir, name) a new object as d/name; `covered`: a whiteout is there now."""
        if covered:
            d.drop(name)
        node = make(d, name)
        if covered and node.is_dir():
            node.opaque = True          # the lower directory of this name stays hidden
        return node

    def whiteout(self, d, name):
        node = TmpInode(self.fs, st.S_IFCHR, 0, 0, 0)
        node.whiteout = True
        d.add(name, node)

    def unlink(self, d, name, upper, whiteout):
        """Remove d/name (upper: its upper object, or None); leave a whiteout if asked."""
        if upper is not None:
            d.unlink(name)
        if whiteout:
            self.whiteout(d, name)

    def rmdir(self, d, name, upper, whiteout):
        """Remove the directory d/name, empty but for whiteouts; leave a whiteout if asked."""
        if upper is not None:
            self.empty(d, name, upper)
            d.rmdir(name)
        if whiteout:
            self.whiteout(d, name)

    def empty(self, d, name, upper):
        """Take the whiteouts out of the directory d/name (about to be removed or replaced)."""
        for inner in list(upper.children):
            upper.drop(inner)

    def rename(self, d, name, new_d, new_name, exchange, whiteout):
        there = new_d.children.get(new_name)
        if there is not None and is_whiteout(there):
            new_d.drop(new_name)
        d.rename(name, new_d, new_name, RENAME_EXCHANGE if exchange else 0)
        if whiteout:
            self.whiteout(d, name)


class HostUpper:
    """An upper layer in a host directory, as Linux overlayfs keeps it on disk.

    `fs` is the writable HostFS of the upper directory; `work_path` overlayfs's
    work directory on the same filesystem: we hold a lock on it for the run and
    build objects in its `work` subdirectory, as overlayfs does, which a mount
    of the overlay on the host (or our next run) cleans."""

    merged_dir_nlink = 1        # what overlayfs shows for a merged directory

    def __init__(self, fs, work_path):
        self.fs = fs
        self.private = (fs.opaque_xattr.rsplit(b".", 1)[0] + b".",)     # trusted.overlay.
        self.origins = {}       # (st_dev, st_ino) upper -> (st_dev, st_ino) of the lower original
        self._names = itertools.count(1)
        self._lock = os.open(work_path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self._lock)
            raise OSError(errno.EBUSY, f"{work_path} is in use by another run")
        scratch = os.path.join(work_path, "work")
        shutil.rmtree(scratch, ignore_errors=True)      # what a killed run was building
        os.mkdir(scratch, 0o700)
        self.work = fs.side_dir(scratch)

    @classmethod
    def at(cls, upper_path, work_path=None):
        """The layer of host directory upper_path (made if missing), with its work
        directory (default: upper_path + ".work", beside it)."""
        from pylinuxabi.vfs.hostfs import HostFS
        upper_path = os.path.abspath(upper_path)
        work_path = os.path.abspath(work_path or upper_path + ".work")
        for path in (upper_path, work_path):
            os.makedirs(path, 0o755, exist_ok=True)
        if os.stat(upper_path).st_dev != os.stat(work_path).st_dev:
            raise OSError(errno.EXDEV, f"{work_path} is not on the filesystem of {upper_path}")
        return cls(HostFS(upper_path, writable=True), work_path)

    def adopt_root(self, top):
        """The upper root; a new, empty one takes the lower root's owner, mode and times."""
        root = self.fs.root_inode
        s = root.host_stat()
        if not os.listdir(f"/proc/self/fd/{root.dirfd()}"):
            root.setattr(mode=top.mode & 0o7777, uid=top.uid, gid=top.gid,
                         atime_ns=top.atime_ns, mtime_ns=top.mtime_ns)
        self.origins[(s.st_dev, s.st_ino)] = (top.dev, top.ino)
        return root

    def child(self, d, name):
        try:
            return d.lookup(name)
        except SyscallError as e:
            if e.errno in (errno.ENOENT, errno.ENOTDIR):
                return None
            raise

    def is_whiteout(self, node):
        return node.is_whiteout()

    def is_opaque(self, d):
        return d.opaque

    def set_opaque(self, d):
        d.set_opaque()

    def origin(self, node, s):
        return self.origins.get((s.dev, s.ino))

    def entries(self, d):
        dev = d.host_stat().st_dev
        out = []
        for name, ino, dtype in _host_listing(d):
            whiteout = dtype == DT_CHR and d.lookup(name).is_whiteout()
            out.append((name, ino, dtype, whiteout, self.origins.get((dev, ino))))
        return out

    def _scratch(self):
        return b"#%x" % next(self._names)

    def copy_up(self, d, name, lower, s, data):
        node = d.copy_in(name, lower, s, data, self.work, self._scratch(), _lower_xattrs(lower))
        u = node.host_stat()
        self.origins[(u.st_dev, u.st_ino)] = (s.dev, s.ino)
        return node

    def make(self, d, name, make, covered):
        if not covered:
            return make(d, name)
        # overlayfs's create over a whiteout: build it in work, then exchange it with the whiteout
        tmp = self._scratch()
        node = make(self.work, tmp)
        try:
            d.inherit_group(node)
            if node.is_dir():
                node.set_opaque()
            self.work.host_rename(tmp, d, name, RENAME_EXCHANGE)
        except SyscallError:
            _remove(self.work, tmp)
            raise
        self.work.unlink(tmp)          # the whiteout, now in work
        return node

    def whiteout(self, d, name):
        d.make_whiteout(name)

    def _replace_with_whiteout(self, d, name, flags):
        tmp = self._scratch()
        self.work.make_whiteout(tmp)
        self.work.host_rename(tmp, d, name, flags)
        return tmp

    def unlink(self, d, name, upper, whiteout):
        if upper is not None and whiteout:
            self._replace_with_whiteout(d, name, 0)
        elif upper is not None:
            d.unlink(name)
        elif whiteout:
            d.make_whiteout(name)

    def rmdir(self, d, name, upper, whiteout):
        if upper is not None and whiteout:
            # the whiteout takes the directory's place at once; the directory is emptied in work
            tmp = self._replace_with_whiteout(d, name, RENAME_EXCHANGE)
            _remove(self.work, tmp)
        elif upper is not None:
            self.empty(d, name, upper)
            d.rmdir(name)
        elif whiteout:
            d.make_whiteout(name)

    def empty(self, d, name, upper):
        # as ovl_clear_empty: an empty opaque directory takes its place at once, and the
        # one with the whiteouts is removed in work
        if not any(whiteout for _, _, _, whiteout, _ in self.entries(upper)):
            return
        tmp = self._scratch()
        s = upper.stat()
        node = self.work.mkdir(tmp, 0o700, _MOUNTER)
        node.setattr(mode=s.mode & 0o7777, uid=s.uid, gid=s.gid, atime_ns=s.atime_ns, mtime_ns=s.mtime_ns)
        node.set_opaque()
        self.work.host_rename(tmp, d, name, RENAME_EXCHANGE)
        _remove(self.work, tmp)

    def rename(self, d, name, new_d, new_name, exchange, whiteout):
        # a whiteout at new_name is replaced by the rename itself, and one left at name by it
        d.host_rename(name, new_d, new_name, RENAME_EXCHANGE if exchange else
                      RENAME_WHITEOUT if whiteout else 0)


class _Mounter:
    """Whoever runs us: what the overlay makes for itself the host gives our own ids."""
    fsuid, fsgid = os.geteuid(), os.getegid()

    def in_group(self, gid):
        return gid == self.fsgid


_MOUNTER = _Mounter()


def _remove(d, name):
    """Remove d/name, a directory with whatever whiteouts it holds, or any other object."""
    try:
        node = d.lookup(name)
    except SyscallError:
        return
    if node.is_dir():
        for inner in os.listdir(f"/proc/self/fd/{node.dirfd()}"):
            _remove(node, os.fsencode(inner))
        d.rmdir(name)
    else:
        d.unlink(name)


def _lower_xattrs(lower):
    """[(name, value)] of the lower object's xattrs that copy-up carries over."""
    out = []
    try:
        for key in lower.listxattr():
            if key.startswith(COPIED_XATTRS) and not key.startswith((b"trusted.overlay.", b"user.overlay.")):
                out.append((key, lower.getxattr(key)))
    except SyscallError:
        pass
    return out


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
        layer = self.fs.layer
        u = self.upper.stat()
        dev, ino = layer.origin(self.upper, u) or (self.fs.dev, UPPER_INO_BASE + u.ino)
        if layer.merged_dir_nlink and self.lower is not None and self._type == st.S_IFDIR:
            return u.copy(dev=dev, ino=ino, nlink=layer.merged_dir_nlink)
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
    def statx_attributes(self):
        # a copied-up file answers for the file system of the tree it stands on (the
        # sandbox's root keeps a disk's rules, as docker's overlay on disk does)
        return self.fs.lower_statx_attributes if self.upper is not None else 0

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

    # -- extended attributes: the overlay's own (trusted.overlay.*) are not the program's
    def _private(self, name):
        return name.startswith(self.fs.layer.private) if self.fs.layer.private else False

    def getxattr(self, name):
        if self._private(name):
            raise SyscallError(errno.ENODATA)
        return (self.upper or self.lower).getxattr(name)

    def listxattr(self):
        names = (self.upper or self.lower).listxattr()
        return [n for n in names if not self._private(n)]

    # -- lookup -----------------------------------------------------------------------
    def lookup(self, name):
        kid = self.kids.get(name)
        if kid is not None:
            return kid
        if self._type != st.S_IFDIR:
            raise SyscallError(errno.ENOTDIR)
        layer = self.fs.layer
        upper = lower = None
        if self.upper is not None:
            upper = layer.child(self.upper, name)
            if upper is not None and layer.is_whiteout(upper):
                raise SyscallError(errno.ENOENT)
        if self.lower is not None and not (self.upper is not None and layer.is_opaque(self.upper)):
            if upper is None or (upper.is_dir() and not layer.is_opaque(upper)):
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
        if self.lower is None or (self.upper is not None and self.fs.layer.is_opaque(self.upper)):
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
        self.upper = self.fs.layer.copy_up(parent, self.name, self.lower, self.lower.stat(), data)
        return self.upper

    # -- changing the object ------------------------------------------------------------------
    def setattr(self, mode=None, uid=None, gid=None, size=None, atime_ns=None, mtime_ns=None):
        up = self.copy_up(data=size != 0)
        up.setattr(mode=mode, uid=uid, gid=gid, size=size, atime_ns=atime_ns, mtime_ns=mtime_ns)

    def setxattr(self, name, value, flags):
        if self._private(name):
            raise SyscallError(errno.EPERM)
        self.copy_up().setxattr(name, value, flags)

    def removexattr(self, name):
        if self._private(name):
            raise SyscallError(errno.EPERM)
        self.copy_up().removexattr(name)

    def fallocate(self, mode, offset, length):
        self.copy_up().fallocate(mode, offset, length)

    # -- inode flags: the real inode's (ovl_fileattr_get); a change copies up first --------
    @property
    def attr_flags(self):
        return self.upper.attr_flags if self.upper is not None else 0

    def fileattr_get(self):
        return (self.upper or self.lower).fileattr_get()

    def fileattr_set(self, flags):
        self.copy_up().fileattr_set(flags)

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
        """Create name in the upper directory with make(upper_dir, name); a whiteout there goes."""
        layer = self.fs.layer
        up = self.copy_up()
        old = layer.child(up, name)
        node = layer.make(up, name, make, covered=old is not None and layer.is_whiteout(old))
        kid = self.kids[name] = OverlayInode(self.fs, self, name, None, node)
        return kid

    def create(self, name, mode, creds):
        return self._make(name, lambda d, n: d.create(n, mode, creds))

    def mkdir(self, name, mode, creds):
        return self._make(name, lambda d, n: d.mkdir(n, mode, creds))

    def tmpfile(self, mode, creds):
        return OverlayInode(self.fs, self, None, None, self.copy_up().tmpfile(mode, creds))

    def mknod(self, name, mode, rdev, creds):
        return self._make(name, lambda d, n: d.mknod(n, mode, rdev, creds))

    def symlink(self, name, target, creds):
        return self._make(name, lambda d, n: d.symlink(n, target, creds))

    def link(self, name, inode):
        if not isinstance(inode, OverlayInode) or inode.fs is not self.fs:
            raise SyscallError(errno.EXDEV)
        node = inode.copy_up()
        self._make(name, lambda d, n: d.link(n, node) or node)

    def unlink(self, name):
        kid = self.lookup(name)
        up = self.copy_up()
        self.fs.layer.unlink(up, name, kid.upper, self._lower_has(name))
        self.kids.pop(name, None)

    def rmdir(self, name):
        kid = self.lookup(name)
        if kid.names():
            raise SyscallError(errno.ENOTEMPTY)
        up = self.copy_up()
        self.fs.layer.rmdir(up, name, kid.upper, self._lower_has(name))
        self.kids.pop(name, None)

    def rename(self, name, new_dir, new_name, flags):
        if not isinstance(new_dir, OverlayInode) or new_dir.fs is not self.fs:
            raise SyscallError(errno.EXDEV)
        layer = self.fs.layer
        if flags & RENAME_WHITEOUT and isinstance(layer, HostUpper):
            raise SyscallError(errno.EINVAL)    # as overlayfs: a 0/0 device would be a whiteout
        src = self.lookup(name)
        try:
            dst = new_dir.lookup(new_name)
        except SyscallError:
            dst = None
        exchange = bool(flags & RENAME_EXCHANGE)
        if src.is_dir() and src.lower is not None:
            raise SyscallError(errno.EXDEV)     # overlayfs without redirect_dir
        if exchange and dst.is_dir() and dst.lower is not None:
            raise SyscallError(errno.EXDEV)
        if dst is not None and dst.is_dir() and not exchange and dst.names():
            raise SyscallError(errno.ENOTEMPTY)
        src.copy_up()
        if dst is not None:
            dst.copy_up(data=exchange)
        up_old, up_new = self.copy_up(), new_dir.copy_up()
        old_lower = self._lower_has(name)
        # markers first: each directory is opaque before it moves where a lower one is
        if src.is_dir() and new_dir._lower_has(new_name):
            layer.set_opaque(src.upper)
        if exchange and dst.is_dir() and old_lower:
            layer.set_opaque(dst.upper)
        if dst is not None and dst.is_dir() and not exchange:
            layer.empty(up_new, new_name, dst.upper)
        layer.rename(up_old, name, up_new, new_name, exchange, whiteout=old_lower and not exchange)
        self.kids.pop(name, None)
        new_dir.kids[new_name] = src
        src.parent, src.name = new_dir, new_name
        if exchange:
            self.kids[name] = dst
            dst.parent, dst.name = self, name

    # -- listing --------------------------------------------------------------------------------------
    def names(self):
        """The merged directory's entries: [(name, ino, d_type)], upper first, then lower."""
        out = []
        seen = set()
        layer = self.fs.layer
        up = self.upper
        if up is not None:
            for name, ino, dtype, whiteout, origin in layer.entries(up):
                seen.add(name)
                if whiteout:
                    continue
                out.append((name, origin[1] if origin else UPPER_INO_BASE + ino, dtype))
        if self.lower is not None and not (up is not None and layer.is_opaque(up)):
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
    """Copy a lower file's bytes into the upper node's memfd, holes kept."""
    node.fs.charge(0, size)
    src = lower.open(None, os.O_RDONLY, None)
    try:
        copy_file(src.fd, node.data_fd(), size)
        node._stat.size = size
        node._blocks_stale = True
    except OSError as e:
        node.fs.charge(size, 0)
        raise SyscallError(e.errno or errno.EIO)
    finally:
        src.release()


class MergedDirFile(ListedDirFile):
    """An open overlay directory with an upper part: the merged listing, made at open
    and again on a rewind (as overlayfs caches it per open). A directory only in a
    memory upper layer, with no whiteouts, is read as that layer's own directory
    (ovl_iterate of a "real" directory): tmpfs's order and positions."""

    listing = None

    def getdents64(self, size):
        node = self.inode
        up = node.upper
        if node.lower is None and isinstance(up, TmpInode):
            children = []
            for name, child, pos in up.entries():
                if is_whiteout(child):
                    break
                children.append((name, child.origin[1] if child.origin else UPPER_INO_BASE + child._stat.ino,
                                 dirent_type(child._stat.mode), pos))
            else:
                parent = self.dentry.up().inode if self.dentry is not None else node
                return offset_getdents(self, node.stat().ino, parent.stat().ino, children, size)
        return super().getdents64(size)

    def entries(self):
        if self.listing is None or self.offset == 0:
            self.listing = [(name, ino, dtype, i + 3) for i, (name, ino, dtype) in enumerate(self.inode.names())]
        return self.listing
