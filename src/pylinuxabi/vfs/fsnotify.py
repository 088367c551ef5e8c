"""Where filesystem events come from (fsnotify): the VFS reports each change here.

inotify (vfs/inotify.py) registers watches; until a watch exists, `active`
is False and the call sites skip the call entirely (reads and writes are hot).
"""
IN_ACCESS, IN_MODIFY, IN_ATTRIB, IN_CLOSE_WRITE = 0x1, 0x2, 0x4, 0x8
IN_CLOSE_NOWRITE, IN_OPEN, IN_MOVED_FROM, IN_MOVED_TO = 0x10, 0x20, 0x40, 0x80
IN_CREATE, IN_DELETE, IN_DELETE_SELF, IN_MOVE_SELF = 0x100, 0x200, 0x400, 0x800

active = False          # is any watch set anywhere?
_listeners = []         # fn(dentry, mask, cookie, old_name) for each event


def listen(fn):
    """Have fn called for every event from now on (inotify does this at its first watch)."""
    global active
    _listeners.append(fn)
    active = True


def notify(dentry, mask, cookie=0, old_name=None):
    """Event `mask` happened to the object named by dentry (for IN_CREATE/IN_DELETE/
    IN_MOVED_TO the entry itself: its parent is the directory that changed)."""
    for fn in _listeners:
        fn(dentry, mask, cookie, old_name)


def moved(old_parent, old_name, new_dentry):
    """A rename: IN_MOVED_FROM in the old directory, IN_MOVED_TO in the new, one cookie."""
    from itertools import count
    global _cookies
    if _cookies is None:
        _cookies = count(1)
    cookie = next(_cookies)
    for fn in _listeners:
        fn(new_dentry, IN_MOVED_FROM, cookie, (old_parent, old_name))
    notify(new_dentry, IN_MOVED_TO, cookie)
    notify(new_dentry, IN_MOVE_SELF)


_cookies = None
