"""File locks per inode: flock(2) locks, POSIX record locks and OFD locks (Linux's fs/locks.c;
its leases are vfs/leases.py).

Pure model: owners are opaque objects (the syscall layer uses the FdTable for
POSIX locks, the OpenFile for OFD and flock locks), pids are numbers.
"""
import errno

from pylinuxabi.base.errors import SyscallError, WouldBlock
from pylinuxabi.base.waitq import WaitQueue

F_RDLCK, F_WRLCK, F_UNLCK = 0, 1, 2
OFFSET_MAX = (1 << 63) - 1
MAX_DEADLK_ITERATIONS = 10


class Lock:
    """A lock, or a request for one: type over the bytes [start, end] (end OFFSET_MAX: to EOF)."""

    __slots__ = ("owner", "type", "start", "end", "pid", "ofd")

    def __init__(self, owner, type, start=0, end=OFFSET_MAX, pid=0, ofd=False):
        self.owner = owner
        self.type = type
        self.start = start
        self.end = end
        self.pid = pid
        self.ofd = ofd

    def piece(self, start, end):
        """The same lock over [start, end] only."""
        return Lock(self.owner, self.type, start, end, self.pid, self.ofd)

    def overlaps(self, other):
        return self.start <= other.end and other.start <= self.end

    def __repr__(self):
        return f"Lock({'RWU'[self.type]}[{self.start},{self.end}] pid={self.pid})"


def _conflict(a, b):
    """Linux's locks_conflict: at least one of them is a write lock."""
    return a.type == F_WRLCK or b.type == F_WRLCK


def _posix_conflict(request, held):
    """posix_locks_conflict: another owner's overlapping lock that is not read vs read."""
    return held.owner is not request.owner and held.overlaps(request) and _conflict(request, held)


class LockContext:
    """The locks on one inode and the queue of those waiting for them to change.

    `posix` holds POSIX and OFD locks in Linux's flc_posix order: each owner's
    locks together and sorted by start, owners in the order they came.
    """

    __slots__ = ("flocks", "posix", "changed")

    def __init__(self):
        self.flocks = []
        self.posix = []
        self.changed = WaitQueue()      # notified whenever a lock goes away or gets weaker

    def idle(self):
        return not self.flocks and not self.posix and not self.changed.waiters


_contexts = {}      # inode -> LockContext, only while it has locks or waiters
_waits = {}         # waker -> (owner, context, request) of a POSIX F_SETLKW that waits


def context(inode):
    """The inode's LockContext, or None when nothing is locked there (cheap: close calls it)."""
    return _contexts.get(inode)


def _context(inode):
    ctx = _contexts.get(inode)
    if ctx is None:
        ctx = _contexts[inode] = LockContext()
    return ctx


def _done(inode, ctx, released):
    if released:
        ctx.changed.notify()
    if ctx.idle():
        _contexts.pop(inode, None)


# -- flock(2) --------------------------------------------------------------------------
def flock(inode, owner, type, waker=None):
    """flock_lock_inode: give owner a lock of `type` (F_UNLCK drops it).

    A conversion drops the old lock before looking for conflicts, as Linux
    does, so a failed upgrade leaves none. On a conflict: EWOULDBLOCK, or
    with a waker WouldBlock on the inode's queue.
    """
    ctx = _context(inode)
    released = False
    for held in ctx.flocks:
        if held.owner is owner:
            if held.type == type:
                return
            ctx.flocks.remove(held)
            released = True
            break
    try:
        if type == F_UNLCK:
            return
        request = Lock(owner, type)
        for held in ctx.flocks:
            if held.owner is not owner and _conflict(request, held):
                if waker is None:
                    raise SyscallError(errno.EWOULDBLOCK)
                raise WouldBlock([ctx.changed])
        ctx.flocks.append(request)
    finally:
        _done(inode, ctx, released)


# -- POSIX and OFD record locks -----------------------------------------------------------
def test_lock(inode, request):
    """posix_test_lock: the first lock in the way of request, or None.

    An F_UNLCK request (F_OFD_GETLK only) finds the owner's own overlapping lock.
    """
    ctx = _contexts.get(inode)
    if ctx is None:
        return None
    for held in ctx.posix:
        if request.type == F_UNLCK:
            if held.owner is request.owner and held.overlaps(request):
                return held
        elif _posix_conflict(request, held):
            return held
    return None


def set_lock(inode, request, waker=None):
    """posix_lock_inode: apply request for its owner, splitting and merging its locks.

    On a conflict: EAGAIN without a waker; with one, EDEADLK when waiting
    would close a cycle of POSIX owners, else WouldBlock on the inode's
    queue. `waker` is the callback the kernel puts on that queue while the
    caller waits (the wait-for edge counts only while it is there).
    """
    if waker is not None:
        _waits.pop(waker, None)
    ctx = _context(inode)
    if request.type != F_UNLCK:
        for held in ctx.posix:
            if not _posix_conflict(request, held):
                continue
            if waker is None:
                _done(inode, ctx, False)
                raise SyscallError(errno.EAGAIN)
            if not request.ofd:
                if _deadlock(request.owner, held):
                    _done(inode, ctx, False)
                    raise SyscallError(errno.EDEADLK)
                _waits[waker] = (request.owner, ctx, request)
            raise WouldBlock([ctx.changed])
    _done(inode, ctx, _replace(ctx, request))


def _replace(ctx, request):
    """Make request the owner's lock over its range; True if anything got weaker."""
    owner = request.owner
    first = len(ctx.posix)
    others, mine = [], []
    for held in ctx.posix:
        if held.owner is owner:
            first = min(first, len(others))
            mine.append(held)
        else:
            others.append(held)
    weaker = False
    pieces = []
    for held in mine:
        if not held.overlaps(request):
            pieces.append(held)
            continue
        if request.type != F_WRLCK:
            weaker = weaker or held.type != request.type
        if held.start < request.start:
            pieces.append(held.piece(held.start, request.start - 1))
        if held.end > request.end:
            pieces.append(held.piece(request.end + 1, held.end))
    new = None
    if request.type != F_UNLCK:
        new = request.piece(request.start, request.end)
        pieces.append(new)
    pieces.sort(key=lambda lock: lock.start)
    merged = []
    for lock in pieces:
        last = merged[-1] if merged else None
        # "start - 1" rather than "end + 1": end may be OFFSET_MAX
        if last is not None and last.type == lock.type and last.end >= lock.start - 1:
            last.end = max(last.end, lock.end)
            if last is new:
                last.pid = lock.pid     # an old lock that grows keeps its pid
                new = None
        else:
            merged.append(lock)
    ctx.posix = others[:first] + merged + others[first:]
    return weaker


def _what_owner_waits_for(owner):
    """The lock a waiting request of owner is blocked by (what_owner_is_waiting_for)."""
    for waker, (waiter, ctx, request) in list(_waits.items()):
        if waker not in ctx.changed.waiters:
            del _waits[waker]           # woken, interrupted or gone: it waits no more
            continue
        if waiter is not owner:
            continue
        for held in ctx.posix:
            if _posix_conflict(request, held):
                return held
    return None


def _deadlock(owner, blocker):
    """posix_locks_deadlock: does the chain of waits from blocker's owner lead back to owner?"""
    i = 0
    while True:
        blocker = _what_owner_waits_for(blocker.owner)
        if blocker is None:
            return False
        if i > MAX_DEADLK_ITERATIONS:
            return False
        i += 1
        if blocker.owner is owner:
            return True


def remove_posix(inode, owner):
    """locks_remove_posix: owner closed a descriptor of the inode; its record locks go."""
    ctx = _contexts.get(inode)
    if ctx is None:
        return
    kept = [held for held in ctx.posix if held.owner is not owner]
    released = len(kept) != len(ctx.posix)
    ctx.posix = kept
    _done(inode, ctx, released)


def release_file(inode, owner):
    """locks_remove_file: the open file's last reference is gone; its lease (vfs/leases.py),
    OFD and flock locks go."""
    from pylinuxabi.vfs import leases       # (leases build on this module)
    leases.release_file(owner)
    ctx = _contexts.get(inode)
    if ctx is None:
        return
    posix = [held for held in ctx.posix if held.owner is not owner]
    flocks = [held for held in ctx.flocks if held.owner is not owner]
    released = len(posix) != len(ctx.posix) or len(flocks) != len(ctx.flocks)
    ctx.posix, ctx.flocks = posix, flocks
    _done(inode, ctx, released)
