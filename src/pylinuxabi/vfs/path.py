"""The path walk: our own, over our dentries, never the host's.

Handles '.', '..' clamped at the process root, mount crossing, symlinks with
Linux's 40-link limit, magic links, trailing slashes and NAME_MAX/PATH_MAX.
"""
import errno

from pylinuxabi.kernel.errors import SyscallError
from pylinuxabi.vfs.inode import X_OK

MAXSYMLINKS = 40
NAME_MAX = 255
PATH_MAX = 4096


class WalkContext:
    """Who walks: their root (for '/' and '..' clamping), creds, and task (magic links)."""

    __slots__ = ("root", "creds", "task", "links")

    def __init__(self, root, creds, task=None):
        self.root = root
        self.creds = creds
        self.task = task
        self.links = 0


def resolve(ctx, start, path, follow=True):
    """The dentry `path` names, starting at `start` for relative paths."""
    if not path:
        raise SyscallError(errno.ENOENT)
    return _walk(ctx, start, path, follow)


def resolve_parent(ctx, start, path):
    """(parent dentry, last component) for calls that create or remove a name.

    The last component may be '.' or '..'; callers decide what that means.
    """
    if not path:
        raise SyscallError(errno.ENOENT)
    stripped = path.rstrip(b"/")
    if not stripped:                       # "/" itself
        return ctx.root, b"."
    head, _, last = stripped.rpartition(b"/")
    if b"/" not in stripped:
        parent = start
    else:
        parent = _walk(ctx, start, head or b"/", True)
    if not parent.inode.is_dir():
        raise SyscallError(errno.ENOTDIR)
    parent.inode.permission(ctx.creds, X_OK)
    if len(last) > NAME_MAX:
        raise SyscallError(errno.ENAMETOOLONG)
    return parent, last


def _walk(ctx, cur, path, follow_last):
    if path[:1] == b"/":
        cur = ctx.root
    names = path.split(b"/")
    trailing = path.endswith(b"/")
    creds = ctx.creds
    root_creds = creds.fsuid == 0       # root may search every directory: skip the checks
    last_i = len(names) - 1
    while last_i >= 0 and not names[last_i]:
        last_i -= 1
    for i, name in enumerate(names):
        if not name:
            continue
        inode = cur.inode
        if not inode.is_dir():
            raise SyscallError(errno.ENOTDIR)
        if not root_creds:
            inode.permission(creds, X_OK)
        if name == b".":
            continue
        if name == b"..":
            if cur is not ctx.root:
                cur = cur.up()
            continue
        if len(name) > NAME_MAX:
            raise SyscallError(errno.ENAMETOOLONG)
        child = cur.children.get(name)      # the dentry cache, inline: this is the hot path
        if child is None or child.mounted is not None:
            child = cur.child(name)
        if child.inode.is_symlink() and (i < last_i or follow_last or trailing):
            ctx.links += 1
            if ctx.links > MAXSYMLINKS:
                raise SyscallError(errno.ELOOP)
            magic = child.inode.follow(ctx.task)
            if magic is not None:
                child = magic
            else:
                target = child.inode.readlink()
                if not target:
                    raise SyscallError(errno.ENOENT)
                child = _walk(ctx, cur, target, True)
        cur = child
    if trailing and not cur.inode.is_dir():
        raise SyscallError(errno.ENOTDIR)
    return cur
