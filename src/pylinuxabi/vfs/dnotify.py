"""dnotify (fcntl F_NOTIFY): watches on directories that signal the watching file's
owner when an entry changes, as Linux's fs/notify/dnotify; one fsnotify mark per
watched directory (vfs/fsnotify.py) holds them.

Pure model: a watch calls the `notify` callback its setter gave (the syscall layer
sends the signal).
"""
from pylinuxabi.vfs import fsnotify
from pylinuxabi.vfs.fsnotify import (FS_RENAME, IN_ACCESS, IN_ATTRIB, IN_CREATE, IN_DELETE, IN_ISDIR,
                                     IN_MODIFY, IN_MOVED_FROM, IN_MOVED_TO)

DN_ACCESS, DN_MODIFY, DN_CREATE, DN_DELETE, DN_RENAME, DN_ATTRIB = 0x1, 0x2, 0x4, 0x8, 0x10, 0x20
DN_MULTISHOT = 0x80000000
# convert_arg: the fsnotify events each DN_ bit stands for
EVENTS = ((DN_ACCESS, IN_ACCESS), (DN_MODIFY, IN_MODIFY), (DN_CREATE, IN_CREATE | IN_MOVED_TO),
          (DN_DELETE, IN_DELETE | IN_MOVED_FROM), (DN_RENAME, FS_RENAME), (DN_ATTRIB, IN_ATTRIB))

_marks = {}         # fsnotify key of a watched directory -> its DnotifyMark
_watching = {}      # open file -> the DnotifyMark of the directory it watches


class Watch:
    """One dnotify_struct: the events an fd table asked for through one open file."""

    __slots__ = ("table", "file", "mask", "multishot", "notify")

    def __init__(self, table, file):
        self.table = table
        self.file = file
        self.mask = 0
        self.multishot = False
        self.notify = None


class DnotifyMark:
    """The fsnotify mark of one watched directory (a dnotify_mark), with its watches."""

    def __init__(self):
        self.key = None         # set by fsnotify.add_mark
        self.mask = 0
        self.watches = []

    def recalc(self):
        """dnotify_recalc_inode_mask: the mark hears what some watch wants."""
        mask = 0
        for w in self.watches:
            mask |= w.mask
        self.mask = mask

    def handle(self, mask, cookie, name, unlinked):
        """dnotify_handle_event: each watch that wants the event signals its owner;
        a watch without DN_MULTISHOT is gone after it has."""
        if name is None and not mask & IN_ISDIR:
            return
        for w in tuple(self.watches):
            if w.mask & mask:
                w.notify()
                if not w.multishot:
                    self.drop(lambda other: other is w)
        if self.watches:
            self.recalc()
        else:
            fsnotify.remove_mark(self)

    def drop(self, which):
        """Take off the watches which(watch) picks."""
        gone = [w for w in self.watches if which(w)]
        self.watches = [w for w in self.watches if not which(w)]
        for w in gone:
            if not any(other.file is w.file for other in self.watches):
                _watching.pop(w.file, None)

    def freed(self):
        """The directory is gone, or its last watch (fsnotify took the mark off)."""
        _marks.pop(self.key, None)
        self.drop(lambda w: True)


def _events(arg):
    mask = 0
    for dn, events in EVENTS:
        if arg & dn:
            mask |= events
    return mask


def watch(inode, table, file, arg, notify):
    """fcntl_dirnotify: add arg's events to the watch `table` has through `file` on the
    directory inode (made if it has none; DN_MULTISHOT, once given, stays)."""
    key = fsnotify.key(inode)
    mark = _marks.get(key)
    if mark is None:
        mark = _marks[key] = DnotifyMark()
        fsnotify.add_mark(inode, mark)
    w = next((w for w in mark.watches if w.table is table and w.file is file), None)
    if w is None:
        w = Watch(table, file)
        mark.watches.append(w)
    w.mask |= _events(arg)
    w.multishot = w.multishot or bool(arg & DN_MULTISHOT)
    w.notify = notify           # (its fd is the one given last, as attach_dn's dn_fd)
    _watching[file] = mark
    mark.recalc()


def flush(table, file):
    """dnotify_flush: an fd of `file` in `table` was closed (or F_NOTIFY 0 given): the
    watch table has through file goes; a mark left without watches goes too."""
    mark = _watching.get(file)
    if mark is None:
        return
    mark.drop(lambda w: w.table is table and w.file is file)
    if mark.watches:
        mark.recalc()
    else:
        fsnotify.remove_mark(mark)      # (freed() drops it from _marks)
