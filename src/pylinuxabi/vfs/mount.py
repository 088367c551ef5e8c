"""Dentries (names in the tree) and mounts (filesystems grafted onto names).

A Dentry caches one name → inode binding; a mountpoint dentry carries the
Mount grafted on it, whose root dentry the path walk steps into. Mounts
stacked on one place sit each on the root of the one below.
"""
import errno
import itertools

from pylinuxabi.base.errors import SyscallError
from pylinuxabi.base.waitq import WaitQueue

# per-mount flags (mount(2)'s MS_*) that /proc/<pid>/mountinfo shows and the VFS obeys
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 0x1, 0x2, 0x4, 0x8
MS_NOATIME, MS_NODIRATIME, MS_RELATIME, MS_STRICTATIME = 0x400, 0x800, 0x200000, 0x1000000
MNT_FLAGS = MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME | MS_NODIRATIME | MS_RELATIME
# propagation types (one per mount; with one mount namespace only peers of binds could differ)
MS_UNBINDABLE, MS_PRIVATE, MS_SLAVE, MS_SHARED = 0x20000, 0x40000, 0x80000, 0x100000

MOUNT_MAX = 100000      # fs.mount-max: the mounts one namespace may hold

_ids = itertools.count(1)


class SuperBlock:
    """What the mounts of one filesystem instance share: its read-only state and options."""

    def __init__(self, readonly=False, options=b""):
        self.readonly = readonly
        self.options = options          # mountinfo's super options after rw/ro


class Mount:
    """One filesystem instance (or a part of one: a bind) attached at a dentry.

    `fs_root` is the path, inside its filesystem, of the directory this mount
    shows (not "/" for a bind mount of a subdirectory). A mount is read-only
    if it, or its filesystem (`sb`, shared by binds), is.
    """

    def __init__(self, fs_type, source, root_inode, readonly=False, parent=None, mountpoint=None,
                 flags=MS_RELATIME, fs_root=b"/", sb=None, options=b""):
        self.id = next(_ids)
        self.fs_type = fs_type
        self.source = source
        self.sb = sb if sb is not None else SuperBlock(readonly, options)
        self.mnt_readonly = readonly
        self.flags = flags              # MNT_FLAGS bits
        self.propagation = MS_PRIVATE
        self.fs_root = fs_root
        self.parent = parent            # Mount, None for the root mount
        self.mountpoint = mountpoint    # Dentry in the parent mount
        self.root = Dentry(b"/", None, root_inode, self)

    @property
    def readonly(self):
        return self.mnt_readonly or self.sb.readonly

    def mount_options(self, with_sb=False):
        """The per-mount options, as /proc/<pid>/mountinfo's sixth field (with_sb:
        read-only if the filesystem is, as /proc/<pid>/mounts shows them)."""
        out = [b"ro" if self.mnt_readonly or (with_sb and self.sb.readonly) else b"rw"]
        for bit, name in ((MS_NOSUID, b"nosuid"), (MS_NODEV, b"nodev"), (MS_NOEXEC, b"noexec"),
                          (MS_NOATIME, b"noatime"), (MS_NODIRATIME, b"nodiratime"),
                          (MS_RELATIME, b"relatime")):
            if self.flags & bit:
                out.append(name)
        return b",".join(out)

    def super_options(self):
        sb = self.sb
        return (b"ro" if sb.readonly else b"rw") + (b"," + sb.options if sb.options else b"")


class Dentry:
    """A name bound to an inode inside one mount."""

    __slots__ = ("name", "parent", "inode", "mount", "children", "mounted")

    def __init__(self, name, parent, inode, mount):
        self.name = name
        self.parent = parent
        self.inode = inode
        self.mount = mount
        self.children = {}
        self.mounted = None             # the Mount on top of this dentry, if any

    def child(self, name):
        """The dentry for `name` in this directory, stepping onto any mount there."""
        d = self.children.get(name)
        if d is None:
            d = Dentry(name, self, self.inode.lookup(name), self.mount)
            if self.inode.cacheable_children:
                self.children[name] = d
        while d.mounted is not None:
            d = d.mounted.root
        return d

    def is_mount_root(self):
        return self.parent is None

    def up(self):
        """The parent directory, crossing mount roots ('..')."""
        d = self
        while d.parent is None and d.mount.mountpoint is not None:
            d = d.mount.mountpoint
        return d.parent if d.parent is not None else d

    def path(self, root=None):
        """Absolute path of this dentry as seen from `root` (default: the global root)."""
        parts = []
        d = self
        while d is not root:
            if d.parent is None:
                if d.mount.mountpoint is None:
                    break
                d = d.mount.mountpoint
                continue
            parts.append(d.name)
            d = d.parent
        return b"/" + b"/".join(reversed(parts))


class MountTable:
    """Every mount of the sandbox, in mount order; the first one is the root."""

    def __init__(self, root_mount, mount_max=MOUNT_MAX):
        self.mounts = [root_mount]
        self.mount_max = mount_max
        self.event = 0                  # changes so far (the namespace's event count)
        self.changed = WaitQueue()      # woken at each (/proc/<pid>/mounts pollers)

    def touch(self):
        """touch_mnt_namespace: a mount came, went, moved or was remounted (a
        propagation change is none of these)."""
        self.event += 1
        self.changed.notify()

    @property
    def root(self):
        return self.mounts[0].root

    def check_room(self, n):
        """count_mounts: ENOSPC if n more mounts would pass fs.mount-max."""
        if len(self.mounts) + n > self.mount_max:
            raise SyscallError(errno.ENOSPC)

    def mount(self, mountpoint, fs_type, source, root_inode, readonly=False, **kw):
        """Graft a filesystem on `mountpoint` (a Dentry, which stays cached), on top of
        whatever is mounted there already."""
        self.check_room(1)
        m = Mount(fs_type, source, root_inode, readonly, **kw)
        _graft(m, mountpoint)
        self.mounts.append(m)
        self.touch()
        return m

    def children(self, mount):
        return [m for m in self.mounts if m.parent is mount]

    def umount(self, mount, detach=False, busy=lambda m: False):
        """Take `mount` off the tree (with detach, its submounts too). EBUSY if it has
        submounts or `busy(m)` says a file or directory in use is on it; EINVAL
        for the root."""
        if mount is self.mounts[0]:
            raise SyscallError(errno.EINVAL)
        gone = self._subtree(mount)
        if not detach and (len(gone) > 1 or busy(mount)):
            raise SyscallError(errno.EBUSY)
        for m in reversed(gone):
            if m.mountpoint.mounted is m:
                m.mountpoint.mounted = None
        gone = set(gone)
        self.mounts[:] = [m for m in self.mounts if m not in gone]
        mount.mountpoint = mount.parent = None     # what is still open on it is unreachable
        self.touch()

    def _subtree(self, mount):
        """mount and every mount below it, parents first (one pass over the table)."""
        below = self.children_index()
        out = [mount]
        for m in out:
            out.extend(below.get(m, ()))
        return out

    def children_index(self):
        """{mount: [its child mounts, in mount order]}."""
        below = {}
        for m in self.mounts:
            if m.parent is not None:
                below.setdefault(m.parent, []).append(m)
        return below

    def move(self, mount, mountpoint):
        """MS_MOVE: `mount` goes, with its submounts, onto another place."""
        if mount is self.mounts[0]:
            raise SyscallError(errno.EINVAL)
        inside = set(self._subtree(mount))
        d = mountpoint
        while d is not None:          # not into itself
            if d.mount in inside:
                raise SyscallError(errno.ELOOP)
            d = d.mount.mountpoint
        mount.mountpoint.mounted = None
        _graft(mount, mountpoint)
        self.mounts.remove(mount)
        self.mounts.append(mount)
        self.touch()


def _graft(mount, mountpoint):
    """Attach `mount` on top of whatever is mounted at `mountpoint` already."""
    while mountpoint.mounted is not None:
        mountpoint = mountpoint.mounted.root
    mount.mountpoint, mount.parent = mountpoint, mountpoint.mount
    mountpoint.mounted = mount
    # keep the mountpoint reachable from its parent's cache
    if mountpoint.parent is not None:
        mountpoint.parent.children[mountpoint.name] = mountpoint


def is_under(dentry, root):
    """Is `dentry` at or below `root` (crossing mounts upwards)?"""
    d = dentry
    while True:
        if d is root:
            return True
        if d.parent is not None:
            d = d.parent
        elif d.mount.mountpoint is not None:
            d = d.mount.mountpoint
        else:
            return False
