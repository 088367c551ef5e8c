"""Where filesystem events come from (fsnotify): the VFS reports each change here,
and the routing rules of Linux's fsnotify send it to the marks (inotify watches) set.

The VFS and the fd syscalls call in only while `active` (some mark exists), so
reads and writes cost nothing without inotify. Knows marks only by their
duck type (`mask`, `handle`, `freed`); inotify (vfs/inotify.py) and dnotify
(vfs/dnotify.py) provide them.
"""
import os
import weakref

from pylinuxabi.base.errors import SyscallError
from pylinuxabi.vfs.file import O_ACCMODE, O_PATH

IN_ACCESS, IN_MODIFY, IN_ATTRIB, IN_CLOSE_WRITE = 0x1, 0x2, 0x4, 0x8
IN_CLOSE_NOWRITE, IN_OPEN, IN_MOVED_FROM, IN_MOVED_TO = 0x10, 0x20, 0x40, 0x80
IN_CREATE, IN_DELETE, IN_DELETE_SELF, IN_MOVE_SELF = 0x100, 0x200, 0x400, 0x800
IN_UNMOUNT, IN_Q_OVERFLOW, IN_IGNORED, IN_ISDIR = 0x2000, 0x4000, 0x8000, 0x40000000
IN_ALL_EVENTS = 0xFFF
FS_RENAME = 0x10000000      # a rename within one directory, for that directory (dnotify's DN_RENAME)
EVENTS = IN_ALL_EVENTS | FS_RENAME
# what a directory's marks hear about its children (FS_EVENTS_POSS_ON_CHILD)
ON_CHILD = (IN_ACCESS | IN_MODIFY | IN_ATTRIB | IN_CLOSE_WRITE | IN_CLOSE_NOWRITE | IN_OPEN
            | IN_MOVED_FROM | IN_MOVED_TO | IN_CREATE | IN_DELETE)
DELETED = b" (deleted)"     # what namei appends to the name of an unlinked dentry

active = False          # is any mark set anywhere?
_marks = {}             # object key -> [mark]
_keys = weakref.WeakKeyDictionary()     # inode object -> its key, once computed
_cookie = 0
_replaced = None        # the dentry a rename is replacing, until moved() reports it
# stat() of an object already gone: a host error, or (tmpfs, once its data is freed
# after the last link and open went) a TypeError from fstat of the closed memfd
_STAT_FAILS = (SyscallError, TypeError)


# -- marks ------------------------------------------------------------------------------
def key(inode):
    """What marks are keyed by: the object's (st_dev, st_ino), as the program identifies
    it. (An overlay has one inode object per name, so two hard links are two objects.)"""
    try:
        k = _keys.get(inode)
    except TypeError:               # an object without weak references (hostfs): no cache
        k = None
    if k is None:
        try:
            s = inode.stat()
            k = (s.dev, s.ino)
        except _STAT_FAILS:
            return inode
        try:
            _keys[inode] = k
        except TypeError:
            pass
    return k


def marks(inode):
    """The marks set on inode (a list; empty if none)."""
    return _marks.get(key(inode), [])


def add_mark(inode, mark):
    global active
    mark.key = key(inode)
    _marks.setdefault(mark.key, []).append(mark)
    active = True


def remove_mark(mark):
    """Take a mark off its object; its owner hears of it through mark.freed() (IN_IGNORED)."""
    global active
    on = _marks.get(mark.key)
    if on is None or mark not in on:
        return
    on.remove(mark)
    if not on:
        del _marks[mark.key]
    active = bool(_marks)
    mark.freed()


# -- delivery ---------------------------------------------------------------------------
def _send(inode, mask, name=None, cookie=0, unlinked=False):
    """fsnotify(): every mark on inode that wants one of mask's events gets it."""
    on = _marks.get(key(inode))
    if on:
        for m in tuple(on):
            if mask & m.mask & EVENTS:
                m.handle(mask, cookie, name, unlinked)


def _isdir(inode):
    return IN_ISDIR if inode.is_dir() else 0


def _unlinked(dentry):
    """d_unlinked: namei renamed the dentry "<name> (deleted)" and dropped it from its parent."""
    p = dentry.parent
    return p is not None and dentry.name.endswith(DELETED) and p.children.get(dentry.name) is not dentry


def _on_object(dentry, inode, mask, path_event=False):
    """fsnotify_parent: the parent directory's marks with the child's name, then the object's own."""
    mask |= _isdir(inode)
    unlinked = path_event and dentry is not None and _unlinked(dentry)
    parent = dentry.parent if dentry is not None else None
    if parent is not None and mask & ON_CHILD:
        name = dentry.name
        if name.endswith(DELETED) and _unlinked(dentry):
            name = name[:-len(DELETED)]
        _send(parent.inode, mask, name, unlinked=unlinked)
    _send(inode, mask, unlinked=unlinked)


def _self(inode, mask):
    """fsnotify_inode: an event for the object's own marks only."""
    _send(inode, mask | _isdir(inode))


def _links_left(inode):
    if inode.is_dir():
        return 0                    # a removed directory is gone (it has no other names)
    try:
        return inode.stat().nlink
    except _STAT_FAILS:
        return 0


def _gone(inode):
    """The last link went (fsnotify_inoderemove): IN_DELETE_SELF, then every mark is freed."""
    _self(inode, IN_DELETE_SELF)
    for m in tuple(marks(inode)):
        remove_mark(m)


def _name_event(dentry, mask, name=None, cookie=0, parent=None):
    """fsnotify_name: a directory entry changed; only the directory's marks hear it."""
    parent = parent or dentry.parent
    if parent is not None:
        _send(parent.inode, mask | _isdir(dentry.inode), name or dentry.name, cookie)


# -- what the VFS reports ---------------------------------------------------------------
def notify(dentry, mask):
    """Event `mask` happened to the object named by dentry, after the change:
    IN_CREATE a new name (a new hard link too); IN_DELETE a name removed by unlink
    or rmdir (dentry.parent still the directory); IN_DELETE_SELF the target a rename
    is replacing (reported with the next moved()); IN_ATTRIB, IN_MODIFY a change of
    attributes or size."""
    global _replaced
    inode = dentry.inode
    if mask & IN_CREATE:
        if not inode.is_dir() and _links_left(inode) > 1:
            _self(inode, IN_ATTRIB)                 # fsnotify_link: the link count changed
        _name_event(dentry, IN_CREATE)
    elif mask & IN_DELETE:
        if not inode.is_dir():
            _self(inode, IN_ATTRIB)
        if _links_left(inode) == 0:
            _gone(inode)
        _name_event(dentry, IN_DELETE)
    elif mask & IN_DELETE_SELF:
        _replaced = dentry
    else:
        _on_object(dentry, inode, mask)


def moved(old_parent, old_name, new_dentry):
    """A rename (fsnotify_move): FS_RENAME in the directory if it stays in one,
    IN_MOVED_FROM in the old directory and IN_MOVED_TO in the new with one cookie,
    the replaced target's link count, IN_MOVE_SELF, and then the replaced target's
    end if that was its last link."""
    global _cookie, _replaced
    _cookie = (_cookie + 1) & 0xFFFFFFFF or 1
    target, _replaced = _replaced, None
    if old_parent is new_dentry.parent:
        _name_event(new_dentry, FS_RENAME, old_name, parent=old_parent)
    _name_event(new_dentry, IN_MOVED_FROM, old_name, _cookie, parent=old_parent)
    _name_event(new_dentry, IN_MOVED_TO, None, _cookie)
    if target is not None:
        _self(target.inode, IN_ATTRIB)
    _self(new_dentry.inode, IN_MOVE_SELF)
    if target is not None and _links_left(target.inode) == 0:
        _gone(target.inode)


def file_event(f, mask):
    """IN_OPEN, IN_ACCESS, IN_MODIFY or IN_CLOSE_* through an open file (O_PATH files make none)."""
    if not f.flags & O_PATH and f.inode is not None:
        _on_object(f.dentry, f.inode, mask, path_event=True)


def closed(f):
    """The last reference to an open file went (fsnotify_close)."""
    writer = (f.flags & O_ACCMODE) in (os.O_WRONLY, os.O_RDWR)
    file_event(f, IN_CLOSE_WRITE if writer else IN_CLOSE_NOWRITE)
