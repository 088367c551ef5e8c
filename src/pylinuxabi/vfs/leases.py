"""File leases per inode: fcntl(2) F_SETLEASE/F_GETLEASE and lease breaking (the
lease half of Linux's fs/locks.c).

Pure model: a lease belongs to an open file description; breaking it calls the
`notify` callback its taker gave (the syscall layer sends the lease signal). An
open that must wait for a break parks on the inode's queue, as F_SETLKW does.
"""
import errno
import os
import time

from pylinuxabi.base.errors import SyscallError, WouldBlock
from pylinuxabi.base.waitq import WaitQueue
from pylinuxabi.vfs import fown
from pylinuxabi.vfs.fsnotify import key
from pylinuxabi.vfs.file import O_ACCMODE
from pylinuxabi.vfs.locks import F_RDLCK, F_UNLCK, F_WRLCK

HOST_SYSCTL = "/proc/sys/fs/"
LEASE_BREAK_TIME = 45       # seconds (fs.lease-break-time), when the host's cannot be read
NEVER = float("inf")
TRUNCATE = os.O_WRONLY      # what truncate(2) breaks leases as


def _sysctl(name, default):
    """A lease sysctl: /proc/sys is the host's (vfs/procsys.py), so its value rules."""
    try:
        with open(HOST_SYSCTL + name) as f:
            return int(f.read())
    except (OSError, ValueError):
        return default


class Lease:
    """A lease of one open file. unlock_at/downgrade_at: None, or since a break
    (FL_UNLOCK_PENDING, FL_DOWNGRADE_PENDING) when it goes by itself
    (time.monotonic(); NEVER with a lease-break-time of 0)."""

    __slots__ = ("file", "type", "notify", "unlock_at", "downgrade_at")

    def __init__(self, file, type, notify):
        self.file = file
        self.type = type
        self.notify = notify
        self.unlock_at = None
        self.downgrade_at = None

    def breaking(self):
        return self.unlock_at is not None or self.downgrade_at is not None

    def target(self):
        """target_leasetype: what a pending break takes the lease to."""
        if self.unlock_at is not None:
            return F_UNLCK
        if self.downgrade_at is not None:
            return F_RDLCK
        return self.type


class LeaseContext:
    """The leases on one inode, the queue of opens waiting for a break, and those
    opens (waker -> wants write): they count as open files, as Linux counts an
    open before it breaks leases."""

    __slots__ = ("key", "leases", "changed", "breakers")

    def __init__(self, k):
        self.key = k
        self.leases = []
        self.changed = WaitQueue()
        self.breakers = {}

    def waiting_opens(self):
        """(readers, writers) among the opens parked on a break."""
        readers = writers = 0
        for waker, write in list(self.breakers.items()):
            if waker not in self.changed.waiters:
                del self.breakers[waker]        # woken, interrupted or gone
            elif write:
                writers += 1
            else:
                readers += 1
        return readers, writers


# (st_dev, st_ino) -> LeaseContext, only while it has leases or waiting opens: keyed as the
# program knows the file (an overlay has an inode object per name)
_contexts = {}


def _context(inode):
    """The inode's LeaseContext or None, at no cost while no file has a lease."""
    return _contexts.get(key(inode)) if _contexts else None


def _done(ctx):
    if not ctx.leases and not ctx.changed.waiters:
        _contexts.pop(ctx.key, None)


def _modify(ctx, lease, type):
    """lease_modify: the lease becomes `type`, ending the pending break that asked for
    as much; F_UNLCK removes it and forgets the file's owner and signal. Waiting opens
    look again."""
    lease.downgrade_at = None
    if type == F_UNLCK:
        lease.unlock_at = None
        ctx.leases.remove(lease)
        fown.forget(lease.file)
    else:
        lease.type = type
    ctx.changed.notify()


def _time_out(ctx):
    """time_out_leases: a break nobody answered in time downgrades or removes the lease."""
    now = time.monotonic()
    for lease in list(ctx.leases):
        if lease.downgrade_at is not None and lease.downgrade_at <= now:
            _modify(ctx, lease, F_RDLCK)
        if lease.unlock_at is not None and lease.unlock_at <= now:
            _modify(ctx, lease, F_UNLCK)


def get_lease(inode, file):
    """fcntl_getlease: the file's lease type, or what a pending break takes it to."""
    ctx = _context(inode)
    if ctx is None:
        return F_UNLCK
    _time_out(ctx)
    for lease in ctx.leases:
        if lease.file is file:
            return lease.target()
    return F_UNLCK


def set_lease(inode, file, type, opens, notify):
    """generic_add_lease: give file a lease of `type` (F_RDLCK or F_WRLCK), or change
    the one it has. opens is (readers, writers): the open files of the inode opened
    read-only and for writing, file included. EAGAIN when a read lease meets a writer,
    a write lease any other open file or lease, or another lease is being broken
    for a writer. notify() is called when the lease is broken."""
    k = key(inode)
    ctx = _contexts.get(k) or _contexts.setdefault(k, LeaseContext(k))
    try:
        _time_out(ctx)
        readers, writers = opens
        waiting_readers, waiting_writers = ctx.waiting_opens()
        _check_conflicting_open(file, type, readers + waiting_readers, writers + waiting_writers)
        mine = None
        for lease in ctx.leases:
            if lease.file is file:
                mine = lease
            elif type == F_WRLCK or lease.unlock_at is not None:
                raise SyscallError(errno.EAGAIN)
        if mine is not None:
            _modify(ctx, mine, type)
        elif not _sysctl("leases-enable", 1):
            raise SyscallError(errno.EINVAL)
        else:
            mine = Lease(file, type, notify)
            ctx.leases.append(mine)
        mine.notify = notify        # lease_setup: the fd of the latest F_SETLEASE
    finally:
        _done(ctx)


def _check_conflicting_open(file, type, readers, writers):
    """check_conflicting_open: a read lease needs no writer (the taker itself
    included); a write lease no open file but the taker's own."""
    if type == F_RDLCK:
        if writers:
            raise SyscallError(errno.EAGAIN)
        return
    self_writers = 1 if file.writable else 0
    self_readers = 1 if file.readable and not file.writable else 0
    if writers != self_writers or readers != self_readers:
        raise SyscallError(errno.EAGAIN)


def remove_lease(inode, file):
    """generic_delete_lease (F_SETLEASE F_UNLCK): EAGAIN if file holds none."""
    ctx = _context(inode)
    lease = next((lease for lease in ctx.leases if lease.file is file), None) if ctx else None
    if lease is None:
        raise SyscallError(errno.EAGAIN)
    _modify(ctx, lease, F_UNLCK)
    _done(ctx)


def _conflicts(lease, want_write):
    """leases_conflict: either side writes."""
    return want_write or lease.type == F_WRLCK


def break_lease(inode, flags, waker=None):
    """__break_lease, for an open with `flags` (or a truncate: O_WRONLY) by another
    open file description: every lease in its way is broken (its holder notified
    once, and given fs.lease-break-time to downgrade or let go); then the caller
    gets EWOULDBLOCK with O_NONBLOCK, else waits (WouldBlock) and tries again.
    `waker` is the callback the kernel puts on the inode's queue while it waits."""
    ctx = _context(inode)
    if ctx is None:
        return
    ctx.breakers.pop(waker, None)
    want_write = (flags & O_ACCMODE) != os.O_RDONLY
    _time_out(ctx)
    in_the_way = [lease for lease in ctx.leases if _conflicts(lease, want_write)]
    if not in_the_way:
        _done(ctx)
        return
    break_time = _sysctl("lease-break-time", LEASE_BREAK_TIME)
    deadline = time.monotonic() + break_time if break_time > 0 else NEVER
    for lease in in_the_way:
        if want_write:
            if lease.unlock_at is not None:
                continue
            lease.unlock_at = deadline
        else:
            if lease.breaking():
                continue
            lease.downgrade_at = deadline
        lease.notify()
    if flags & os.O_NONBLOCK:
        raise SyscallError(errno.EWOULDBLOCK)
    ctx.breakers[waker] = want_write
    raise WouldBlock([ctx.changed], recheck=_next_timeout(in_the_way))


def _next_timeout(leases):
    """Seconds until the first of these breaks ends by itself (None: never)."""
    first = min(min(t for t in (lease.unlock_at, lease.downgrade_at) if t is not None) for lease in leases)
    return None if first == NEVER else max(0.0, first - time.monotonic())


def release_file(file):
    """locks_remove_lease: the open file's last reference is gone, and its lease with it.
    (Found by the file: the inode may be past stat() by now.)"""
    for ctx in list(_contexts.values()):
        for lease in [lease for lease in ctx.leases if lease.file is file]:
            _modify(ctx, lease, F_UNLCK)
            _done(ctx)
