"""inotify instances (inotify(7)): watches on inodes and the queue of events read from the fd.

A watch is an fsnotify mark (vfs/fsnotify.py routes events to it); the
instance is an anonymous OpenFile whose reads wait on its WaitQueue.
"""
import errno
import os
from collections import deque

from pylinuxabi.base.abi import INOTIFY_EVENT
from pylinuxabi.base.errors import SyscallError, WouldBlock
from pylinuxabi.base.waitq import WaitQueue
from pylinuxabi.vfs import fsnotify
from pylinuxabi.vfs.file import POLLIN, POLLRDNORM, AnonStreamFile
from pylinuxabi.vfs.fsnotify import (IN_ALL_EVENTS, IN_DELETE_SELF, IN_IGNORED, IN_ISDIR, IN_MOVE_SELF,
                                     IN_Q_OVERFLOW)
from pylinuxabi.vfs.synthetic import AnonInode

IN_ONLYDIR, IN_DONT_FOLLOW, IN_EXCL_UNLINK = 0x01000000, 0x02000000, 0x04000000
IN_MASK_CREATE, IN_MASK_ADD, IN_ONESHOT = 0x10000000, 0x20000000, 0x80000000
IN_CLOEXEC, IN_NONBLOCK = os.O_CLOEXEC, os.O_NONBLOCK
ALL_INOTIFY_BITS = (IN_ALL_EVENTS | fsnotify.IN_UNMOUNT | IN_Q_OVERFLOW | IN_IGNORED | IN_ONLYDIR
                    | IN_DONT_FOLLOW | IN_EXCL_UNLINK | IN_MASK_CREATE | IN_MASK_ADD | IN_ISDIR | IN_ONESHOT)
MAX_QUEUED_EVENTS = 16384       # /proc/sys/fs/inotify/max_queued_events
INT_MAX = 0x7FFFFFFF

# Every anonymous-inode file shares one inode (anon_inodefs), mode 0600 without a type.
ANON_INODE = AnonInode(0o600, os.makedev(0, 15))


def event_size(name):
    """Bytes an event takes: the header, and the name NUL-padded to a multiple of the header."""
    if not name:
        return INOTIFY_EVENT.size
    return INOTIFY_EVENT.size * (2 + len(name) // INOTIFY_EVENT.size)


class Watch:
    """One watch descriptor: an fsnotify mark on an inode for one instance."""

    __slots__ = ("instance", "wd", "mask", "oneshot", "excl_unlink", "key")

    def __init__(self, instance, wd, arg):
        self.instance = instance
        self.wd = wd
        self.key = None
        self.set(arg, replace=True)

    def set(self, arg, replace):
        """inotify_update_existing_watch: replace or (IN_MASK_ADD) extend the mask and flags."""
        if replace:
            self.mask, self.oneshot, self.excl_unlink = 0, False, False
        self.mask |= arg & IN_ALL_EVENTS
        self.oneshot |= bool(arg & IN_ONESHOT)
        self.excl_unlink |= bool(arg & IN_EXCL_UNLINK)

    def handle(self, mask, cookie, name, unlinked):
        if self.wd is None or (self.excl_unlink and unlinked):
            return
        if mask & (IN_MOVE_SELF | IN_DELETE_SELF):
            mask &= ~IN_ISDIR           # inotify never reported IN_ISDIR with these
        self.instance.queue(self.wd, mask, cookie, name)
        if self.oneshot:
            fsnotify.remove_mark(self)

    def freed(self):
        """Off the inode (rm_watch, IN_ONESHOT, the inode's end): IN_IGNORED, and the wd is free."""
        self.instance.queue(self.wd, IN_IGNORED, 0, None)
        del self.instance.watches[self.wd]
        self.wd = None


class Inotify(AnonStreamFile):
    """An inotify instance: its watches by wd and its event queue."""

    has_fasync = True
    sized_records = True        # reads return whole events: even a zero-byte read is checked

    def __init__(self, flags):
        super().__init__(None, ANON_INODE, os.O_RDONLY | flags)
        self.watches = {}           # wd -> Watch
        self.last_wd = 0            # wds are handed out cyclically, as idr_alloc_cyclic does
        self.events = deque()       # (wd, mask, cookie, name or None)
        self.queued_bytes = 0
        self.readable_queue = WaitQueue()

    # -- watches ------------------------------------------------------------------------
    def find(self, inode):
        for m in fsnotify.marks(inode):
            if isinstance(m, Watch) and m.instance is self:
                return m
        return None

    def add_watch(self, inode, arg):
        """inotify_update_watch: the wd of the (new or changed) watch on inode."""
        w = self.find(inode)
        if w is not None:
            if arg & IN_MASK_CREATE:
                raise SyscallError(errno.EEXIST)
            w.set(arg, replace=not arg & IN_MASK_ADD)
            return w.wd
        w = Watch(self, self._next_wd(), arg)
        self.watches[w.wd] = w
        fsnotify.add_mark(inode, w)
        return w.wd

    def _next_wd(self):
        wd = self.last_wd
        while True:
            wd = wd + 1 if wd < INT_MAX else 1
            if wd not in self.watches:
                self.last_wd = wd
                return wd

    def rm_watch(self, wd):
        w = self.watches.get(wd)
        if w is None:
            raise SyscallError(errno.EINVAL)
        fsnotify.remove_mark(w)

    # -- the queue ------------------------------------------------------------------------
    def queue(self, wd, mask, cookie, name):
        """fsnotify_add_event: merged with the last queued event if identical; past
        MAX_QUEUED_EVENTS one IN_Q_OVERFLOW stands for everything lost."""
        events = self.events
        if len(events) >= MAX_QUEUED_EVENTS:
            if events[-1][1] == IN_Q_OVERFLOW:
                return
            wd, mask, cookie, name = -1, IN_Q_OVERFLOW, 0, None
        elif events:
            last = events[-1]
            if not last[1] & IN_IGNORED and last[0] == wd and last[1] == mask and last[3] == name:
                return
        events.append((wd, mask, cookie, name))
        self.queued_bytes += event_size(name)
        self.readable_queue.notify()

    def read(self, count):
        """Whole events that fit in count bytes: EINVAL if not even the first does; with
        none queued, EAGAIN (O_NONBLOCK) or wait."""
        events = self.events
        out = bytearray()
        while events:
            wd, mask, cookie, name = events[0]
            size = event_size(name)
            if len(out) + size > count:
                if not out:
                    raise SyscallError(errno.EINVAL)
                break
            events.popleft()
            self.queued_bytes -= size
            pad = size - INOTIFY_EVENT.size
            out += INOTIFY_EVENT.pack(wd, mask, cookie, pad)
            if pad:
                out += name + bytes(pad - len(name))
        if out:
            return bytes(out)
        if self.flags & os.O_NONBLOCK:
            raise SyscallError(errno.EAGAIN)
        raise WouldBlock([self.readable_queue], file=self)

    def fionread(self):
        return self.queued_bytes

    def poll(self):
        return POLLIN | POLLRDNORM if self.events else 0

    def wait_queues(self):
        return (self.readable_queue,)

    # -- the rest of the file -------------------------------------------------------------
    def fdinfo(self):
        """inotify_fdinfo: a line per watch, newest first (the group's mark list), with
        the mask as inotify_mark_user_mask gives it. Linux ends each with the
        inode's file handle; no filesystem of ours exports handles
        (name_to_handle_at is EOPNOTSUPP), so the line ends where that would begin."""
        lines = []
        for w in reversed(self.watches.values()):
            dev, ino = w.key if isinstance(w.key, tuple) else (0, 0)
            mask = w.mask | (IN_EXCL_UNLINK if w.excl_unlink else 0) | (IN_ONESHOT if w.oneshot else 0)
            lines.append(b"inotify wd:%x ino:%x sdev:%x mask:%x ignored_mask:0 \n"
                         % (w.wd, ino, os.major(dev) << 20 | os.minor(dev), mask))
        return b"".join(lines)

    def path(self):
        return b"anon_inode:inotify"

    def release(self):
        for w in list(self.watches.values()):
            fsnotify.remove_mark(w)
        self.events.clear()
        self.queued_bytes = 0

