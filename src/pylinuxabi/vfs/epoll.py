"""epoll instances (epoll(7)): an anonymous OpenFile with an interest list and a ready list.

Works with any OpenFile through poll() and wait_queues(), as fs/eventpoll.c does
through f_op->poll; knows nothing of tasks, fds tables or user memory.

Each item (one (fd, file) key) hangs a callback on its file's wait queues, as
ep_poll_callback: a wake-up puts the item at the tail of the ready list and wakes
the instance's own queue (epoll_wait callers, and poll/select/outer epolls
watching this one). Collecting events re-polls each queued item: a level-triggered
one goes back on the list, an edge-triggered one waits for the next wake-up, a
one-shot one is disabled. Files backed by host fds tell no queue: their items are
re-polled at each look instead, an edge being an event that was not there at the
last look. Items go when their open file description's last reference does
(release_file, called by the fd table), not when one fd of it is closed.
"""
import errno
import os
import select

from pylinuxabi.base.creds import CAP_NET_ADMIN
from pylinuxabi.base.errors import SyscallError
from pylinuxabi.base.waitq import WaitQueue
from pylinuxabi.vfs.file import POLLERR, POLLHUP, POLLIN, POLLOUT, POLLRDNORM, AnonStreamFile
from pylinuxabi.vfs.inotify import ANON_INODE

EPOLLRDHUP = 0x2000
EPOLLEXCLUSIVE, EPOLLWAKEUP, EPOLLONESHOT, EPOLLET = 1 << 28, 1 << 29, 1 << 30, 1 << 31
EP_PRIVATE_BITS = EPOLLWAKEUP | EPOLLONESHOT | EPOLLET | EPOLLEXCLUSIVE
EPOLLEXCLUSIVE_OK_BITS = POLLIN | POLLOUT | POLLERR | POLLHUP | EPOLLWAKEUP | EPOLLET | EPOLLEXCLUSIVE
EP_MAX_NESTS = 4                # epoll instances nested in one another, at most
EPOLL_CLOEXEC = os.O_CLOEXEC
# struct epoll_params (EPIOCSPARAMS, EPIOCGPARAMS): busy-poll settings, kept and given back
EPIOCSPARAMS, EPIOCGPARAMS = 0x40088A01, 0x80088A02
NAPI_POLL_WEIGHT = 64
S32_MAX = 0x7FFFFFFF

# open file -> the items (of any instance) that watch it: Linux's file->f_ep
_watchers = {}
# wait queue -> its Hook, the one callback all items on it share
_hooks = {}


class Hook:
    """The items watching one wait queue, newest first: Linux's add_wait_queue puts each
    at the head, so a wake-up reaches the last one added first (and the ready list
    shows that order). EPOLLEXCLUSIVE items go to the tail, oldest first
    (add_wait_queue_exclusive), and a wake-up stops at the first of them whose
    epoll had a waiter to wake (__wake_up_common with nr_exclusive 1)."""

    __slots__ = ("queue", "items")

    def __init__(self, queue):
        self.queue = queue
        self.items = []
        queue.add(self)

    def __call__(self):
        self.queue.add(self)        # a WaitQueue forgets its waiters as it runs them
        for item in tuple(self.items):
            if item.wake() and item.events & EPOLLEXCLUSIVE:
                break


def _hook(queue, item):
    hook = _hooks.get(queue)
    if hook is None:
        hook = _hooks[queue] = Hook(queue)
    if item.events & EPOLLEXCLUSIVE:
        hook.items.append(item)
    else:
        hook.items.insert(0, item)


def _unhook(queue, item):
    hook = _hooks.get(queue)
    if hook is None:
        return
    try:
        hook.items.remove(item)
    except ValueError:
        return
    if not hook.items:
        queue.remove(hook)
        del _hooks[queue]


class EpItem:
    """One entry of an interest list: the (fd, file) it was added as, what it asks for
    (EPOLLERR|EPOLLHUP always added), the data given back, and for host-backed files
    the events seen at the last look."""

    __slots__ = ("ep", "fd", "file", "events", "data", "queues", "seen")

    def __init__(self, ep, fd, file, events, data):
        self.ep = ep
        self.fd = fd
        self.file = file
        self.events = events
        self.data = data
        self.queues = [q for q in file.wait_queues() if q is not None]
        self.seen = 0

    def poll(self):
        """ep_item_poll: the file's events that the item asks for."""
        return self.file.poll() & self.events

    def wake(self):
        """ep_poll_callback: the file's queue was woken. True if the epoll had a
        waiter, which an exclusive wake-up counts as the one it woke."""
        if not self.events & ~EP_PRIVATE_BITS:
            return False            # disabled (EPOLLONESHOT fired): ignored until EPOLL_CTL_MOD
        ep = self.ep
        if ep.items.get((self.fd, self.file)) is not self:
            return False            # removed while its queue was being woken
        if self not in ep.ready:
            ep.ready[self] = None
        active = bool(ep.queue.waiters)
        ep.queue.notify()
        return active


class EventPoll(AnonStreamFile):
    """An epoll instance: anon_inode:[eventpoll]."""

    has_read = has_write = False

    def __init__(self):
        super().__init__(None, ANON_INODE, os.O_RDWR)
        self.items = {}         # (fd, file) -> EpItem, in the order they were added
        self.ready = {}         # EpItem -> None: the ready list, in its order
        self.queue = WaitQueue()    # Linux's ep->wq and ep->poll_wait in one
        self.looked_at = []     # items polled at each look: host-backed files and other epolls
        self.params = bytes(8)  # struct epoll_params

    # -- the interest list (epoll_ctl) ---------------------------------------------------
    def find(self, fd, file):
        return self.items.get((fd, file))

    def insert(self, fd, file, events, data):
        """ep_insert: watch file's queues; queue the item at once if it is ready."""
        item = EpItem(self, fd, file, events, data)
        self.items[(fd, file)] = item
        _watchers.setdefault(file, []).append(item)
        for q in item.queues:
            _hook(q, item)
        if file.host_backed or isinstance(file, EventPoll):
            self.looked_at.append(item)
        revents = item.poll()
        item.seen = revents
        if revents:
            self._queue(item)
        elif file.host_backed:
            self.queue.notify()     # waiters parked without a re-check must now park with one

    def modify(self, item, events, data):
        """ep_modify: new events and data; queued if ready under them (a disabled
        one-shot item is armed again)."""
        item.events = events
        item.data = data
        revents = item.poll()
        item.seen = revents
        if revents:
            self._queue(item)

    def remove(self, item):
        """ep_remove: off the file's queues and both lists."""
        del self.items[(item.fd, item.file)]
        self.ready.pop(item, None)
        for q in item.queues:
            _unhook(q, item)
        if item in self.looked_at:
            self.looked_at.remove(item)
        watchers = _watchers.get(item.file)
        if watchers is not None:
            watchers.remove(item)
            if not watchers:
                del _watchers[item.file]

    def _queue(self, item):
        if item not in self.ready:
            self.ready[item] = None
        self.queue.notify()

    # -- nesting (ep_loop_check) -----------------------------------------------------------
    def nested(self):
        """The epoll instances in this one's interest list."""
        return [item.file for item in self.items.values() if isinstance(item.file, EventPoll)]

    def depth_below(self, target):
        """How many levels of epolls lie below this one; None if `target` is among them
        (a cycle)."""
        deepest = 0
        for inner in self.nested():
            if inner is target:
                return None
            d = inner.depth_below(target)
            if d is None:
                return None
            deepest = max(deepest, d + 1)
        return deepest

    def depth_above(self):
        """How many levels of epolls this one lies in."""
        outers = [item.ep for item in _watchers.get(self, ())]
        return max((ep.depth_above() + 1 for ep in outers), default=0)

    def may_contain(self, inner):
        """ep_loop_check: may `inner` be added here without a cycle or more than
        EP_MAX_NESTS levels of nesting?"""
        if inner is self:
            return False
        below = inner.depth_below(self)
        return below is not None and below + 1 + self.depth_above() <= EP_MAX_NESTS

    # -- events --------------------------------------------------------------------------
    def look(self):
        """Queue the items no wake-up tells of: level-triggered ones whose file is ready
        now, edge-triggered ones with an event new since the last look."""
        for item in self.looked_at:
            if not item.file.host_backed or not item.events & ~EP_PRIVATE_BITS:
                continue
            revents = item.poll()
            new = revents & ~item.seen if item.events & EPOLLET else revents
            item.seen = revents
            if new and item not in self.ready:
                self.ready[item] = None

    def collect(self, maxevents):
        """ep_send_events, first half: up to maxevents (item, events) from the ready
        list, in its order. Items found not ready leave the list on the way."""
        self.look()
        picked = []
        ready = self.ready
        for item in list(ready):
            if len(picked) >= maxevents:
                break
            revents = item.poll()
            if revents:
                picked.append((item, revents))
            else:
                del ready[item]
        return picked

    def delivered(self, picked):
        """ep_send_events, second half: these (the first of a collect()) reached the
        program. Level-triggered items go back at the tail of the list, edge-triggered
        ones wait for a wake-up, one-shot ones are disabled until EPOLL_CTL_MOD. Those
        not delivered stay at the head, as Linux splices them back."""
        ready = self.ready
        for item, _ in picked:
            ready.pop(item, None)
            if item.events & EPOLLONESHOT:
                item.events &= EP_PRIVATE_BITS
            elif not item.events & EPOLLET:
                ready[item] = None

    # -- the file ------------------------------------------------------------------------
    @property
    def host_backed(self):
        """An instance watching host-backed files is one too: it must be looked at again."""
        return any(item.file.host_backed for item in self.looked_at)

    def _watched(self):
        """(item, the events a wait is for) of the looked-at items a change can make ready:
        None if an edge-triggered one is ready already (only a new edge on it would do,
        which the host cannot be asked for: that wait must look again)."""
        watched = []
        for item in self.looked_at:
            want = item.events & ~EP_PRIVATE_BITS
            if not want:
                continue            # a disabled one-shot item
            if item.events & EPOLLET and item.seen & want:
                return None
            watched.append((item, want))
        return watched

    def host_waits(self, events):
        watched = self._watched()
        if watched is None:
            return None
        waits = []
        for item, want in watched:
            more = item.file.host_waits(want)
            if more is None:
                return None
            waits += more
        return waits

    @property
    def wake_signals(self):
        """The signals of the signalfds (and inner instances) watched for input."""
        signals = 0
        for item, want in self._watched() or ():
            if want & POLLIN:
                signals |= item.file.wake_signals
        return signals

    def poll(self):
        """ep_eventpoll_poll: readable while an item on the ready list is ready (those
        that are not leave it)."""
        self.look()
        ready = self.ready
        for item in list(ready):
            if item.poll():
                return POLLIN | POLLRDNORM
            del ready[item]
        return 0

    def wait_queues(self):
        return (self.queue,)

    def ioctl(self, request, arg, task):
        """ep_eventpoll_ioctl: the busy-poll parameters; anything else is EINVAL."""
        if request == EPIOCGPARAMS:
            return 0, self.params
        if request == EPIOCSPARAMS:
            raw = task.mem.read(arg, 8)
            usecs = int.from_bytes(raw[0:4], "little")
            budget = int.from_bytes(raw[4:6], "little")
            if raw[7] or usecs > S32_MAX or raw[6] > 1:
                raise SyscallError(errno.EINVAL)
            if budget > NAPI_POLL_WEIGHT and not task.creds.capable(CAP_NET_ADMIN):
                raise SyscallError(errno.EPERM)
            self.params = raw
            return 0, None
        raise SyscallError(errno.EINVAL)

    def fionread(self):
        raise SyscallError(errno.EINVAL)        # not a regular file: ep_eventpoll_ioctl's answer

    def fsync(self, datasync):
        raise SyscallError(errno.EINVAL)        # no fsync operation

    def read(self, count):
        raise SyscallError(errno.EINVAL)

    def write(self, data):
        raise SyscallError(errno.EINVAL)

    def fdinfo(self):
        """ep_show_fdinfo: one line per item."""
        lines = []
        for item in self.items.values():
            st = item.file.stat()
            sdev = os.major(st.dev) << 20 | os.minor(st.dev)      # the kernel's own dev_t
            lines.append(b"tfd: %8d events: %8x data: %16x  pos:%d ino:%x sdev:%x\n"
                         % (item.fd, item.events, item.data, item.file.offset, st.ino, sdev))
        return b"".join(lines)

    def path(self):
        return b"anon_inode:[eventpoll]"

    def release(self):
        """ep_free: every item leaves its file's queues."""
        for item in list(self.items.values()):
            self.remove(item)



def release_file(file):
    """eventpoll_release: the last reference to `file` is gone; so are the items
    that watch it, in every instance."""
    items = _watchers.get(file)
    if items:
        for item in list(items):
            item.ep.remove(item)


def can_poll(file):
    """file_can_poll: may epoll watch this file (else EPERM)? A file backed by a host
    fd answers as the host object does (a regular file or /dev/null cannot be)."""
    host_fd = getattr(file, "fd", None) if file.host_backed else None
    if isinstance(host_fd, int):
        return _host_can_poll(host_fd)
    return file.can_poll()


_probe = None


def _host_can_poll(fd):
    """Ask the host's epoll whether it would take the host fd."""
    global _probe
    if _probe is None:
        _probe = select.epoll()             # (close-on-exec)
    try:
        _probe.register(fd, 0)
    except PermissionError:
        return False
    except OSError:
        return True
    _probe.unregister(fd)
    return True
