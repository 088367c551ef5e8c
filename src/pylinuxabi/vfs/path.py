"""The path walk: our own, over our dentries, never the host's.

Handles '.', '..' clamped at the process root, mount crossing, symlinks with
Linux's 40-link limit, magic links, trailing slashes and NAME_MAX/PATH_MAX,
and openat2's RESOLVE_* restrictions (checked only off the hot path: at '..',
at a dentry-cache miss or mount, and at a symlink).
"""
import errno

from pylinuxabi.base.errors import SyscallError
from pylinuxabi.vfs.inode import DAC_OVERRIDE, DAC_READ_SEARCH, X_OK

MAXSYMLINKS = 40
SEARCH_ANY = DAC_OVERRIDE | DAC_READ_SEARCH
NAME_MAX = 255
PATH_MAX = 4096

# openat2's struct open_how .resolve bits
RESOLVE_NO_XDEV = 0x01          # no mount crossing, by name, '..', or symlink
RESOLVE_NO_MAGICLINKS = 0x02    # no /proc/<pid>/fd/N-style links
RESOLVE_NO_SYMLINKS = 0x04      # no symlinks at all
RESOLVE_BENEATH = 0x08          # nothing may escape the starting directory
RESOLVE_IN_ROOT = 0x10          # the starting directory is the root ('/', '..')
RESOLVE_CACHED = 0x20           # only what the dentry cache knows (else EAGAIN)
RESOLVE_SCOPED = RESOLVE_BENEATH | RESOLVE_IN_ROOT
RESOLVE_VALID = 0x3F


class WalkContext:
    """Who walks: their root (for '/' and '..' clamping), creds, task (magic links),
    and the RESOLVE_* restrictions of the walk (0 for all but openat2)."""

    __slots__ = ("root", "creds", "task", "links", "resolve")

    def __init__(self, root, creds, task=None, resolve=0):
        self.root = root
        self.creds = creds
        self.task = task
        self.links = 0
        self.resolve = resolve


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
    search_all = creds.cap_effective & SEARCH_ANY     # may search every directory: skip the checks
    last_i = len(names) - 1
    while last_i >= 0 and not names[last_i]:
        last_i -= 1
    for i, name in enumerate(names):
        if not name:
            continue
        inode = cur.inode
        if not inode.is_dir():
            raise SyscallError(errno.ENOTDIR)
        if not search_all:
            inode.permission(creds, X_OK)
        if name == b".":
            continue
        if name == b"..":
            if cur is not ctx.root:
                cur = cur.up() if not ctx.resolve else _restricted_dotdot(ctx, cur)
            elif ctx.resolve & RESOLVE_BENEATH:
                raise SyscallError(errno.EXDEV)
            continue
        if len(name) > NAME_MAX:
            raise SyscallError(errno.ENAMETOOLONG)
        child = cur.children.get(name)      # the dentry cache, inline: this is the hot path
        if child is None or child.mounted is not None:
            child = cur.child(name) if not ctx.resolve else _restricted_child(ctx, cur, name, child)
        if child.inode.is_symlink() and (i < last_i or follow_last or trailing):
            ctx.links += 1
            if ctx.links > MAXSYMLINKS:
                raise SyscallError(errno.ELOOP)
            if ctx.resolve:
                magic, target = link_target(ctx, cur, child)
                cur = magic if magic is not None else _walk(ctx, cur, target, True)
                continue
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


# -- RESOLVE_* (fs/namei.c: follow_dotdot, handle_mounts, pick_link, nd_jump_link) --------

def _restricted_dotdot(ctx, cur):
    """'..' below the walk's root: RESOLVE_NO_XDEV refuses to climb out of a mount."""
    if cur.parent is None and cur.mount.mountpoint is not None and ctx.resolve & RESOLVE_NO_XDEV:
        raise SyscallError(errno.EXDEV)
    return cur.up()


def _restricted_child(ctx, cur, name, cached):
    """A name the dentry cache lacks, or a mount point: RESOLVE_CACHED will not ask the
    filesystem (a synthetic directory answers from the model, so that counts as cached),
    RESOLVE_NO_XDEV will not step onto a mount."""
    if cached is None and ctx.resolve & RESOLVE_CACHED and cur.inode.cacheable_children:
        raise SyscallError(errno.EAGAIN)
    child = cur.child(name)
    if child.mount is not cur.mount and ctx.resolve & RESOLVE_NO_XDEV:
        raise SyscallError(errno.EXDEV)
    return child


def link_target(ctx, cur, link):
    """(dentry, None) for a magic link, (None, target) for another: where the symlink
    dentry `link` in directory `cur` leads, under ctx.resolve's rules (the caller
    has counted the link). A magic link is one whose inode.follow() gives the
    dentry itself: procfs's fd/N, exe, cwd and root.

    No symlink at all with RESOLVE_NO_SYMLINKS (ELOOP). A magic link may not be
    followed with RESOLVE_NO_MAGICLINKS (ELOOP), in a scoped walk (EXDEV), nor to
    another mount with RESOLVE_NO_XDEV; an absolute target may not jump to the
    root with RESOLVE_BENEATH, nor with RESOLVE_NO_XDEV from another mount than
    the root's. RESOLVE_IN_ROOT needs nothing here: its root is where it started.
    """
    rf = ctx.resolve
    inode = link.inode
    if rf & RESOLVE_NO_SYMLINKS:
        raise SyscallError(errno.ELOOP)
    magic = inode.follow(ctx.task)
    if magic is not None:
        if rf:
            if rf & RESOLVE_CACHED:         # procfs makes the way there at each walk
                raise SyscallError(errno.EAGAIN)
            if rf & RESOLVE_NO_MAGICLINKS:
                raise SyscallError(errno.ELOOP)
            if rf & RESOLVE_SCOPED or rf & RESOLVE_NO_XDEV and magic.mount is not cur.mount:
                raise SyscallError(errno.EXDEV)
        return magic, None
    target = inode.readlink()
    if not target:
        raise SyscallError(errno.ENOENT)
    if target[:1] == b"/" and rf:
        if rf & RESOLVE_BENEATH or rf & RESOLVE_NO_XDEV and cur.mount is not ctx.root.mount:
            raise SyscallError(errno.EXDEV)
    return None, target
