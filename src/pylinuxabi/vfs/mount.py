"""Dentries (names in the tree) and mounts (filesystems grafted onto names).

A Dentry caches one name → inode binding; a mountpoint dentry carries the
Mount grafted on it, whose root dentry the path walk steps into.
"""


class Mount:
    """One filesystem instance attached at a dentry."""

    def __init__(self, fs_type, source, root_inode, readonly=False, parent=None, mountpoint=None):
        self.fs_type = fs_type
        self.source = source
        self.readonly = readonly
        self.parent = parent            # Mount, None for the root mount
        self.mountpoint = mountpoint    # Dentry in the parent mount
        self.root = Dentry(b"/", None, root_inode, self)


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
    """Every mount of the sandbox; the first one is the root."""

    def __init__(self, root_mount):
        self.mounts = [root_mount]

    @property
    def root(self):
        return self.mounts[0].root

    def mount(self, mountpoint, fs_type, source, root_inode, readonly=False):
        """Graft a filesystem on `mountpoint` (a Dentry, which stays cached)."""
        while mountpoint.mounted is not None:
            mountpoint = mountpoint.mounted.root
        m = Mount(fs_type, source, root_inode, readonly, mountpoint.mount, mountpoint)
        mountpoint.mounted = m
        # keep the mountpoint reachable from its parent's cache
        if mountpoint.parent is not None:
            mountpoint.parent.children[mountpoint.name] = mountpoint
        self.mounts.append(m)
        return m
