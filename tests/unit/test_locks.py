"""File locks (vfs/locks.py): POSIX record locks, OFD locks and flock(2) locks on one inode.

The rules are those of fcntl(2) "Advisory record locking", "Open file
description locks" and flock(2), as Linux's fs/locks.c applies them.
"""
import errno

import pytest

from pylinuxabi.base.errors import SyscallError, WouldBlock
from pylinuxabi.vfs import locks
from pylinuxabi.vfs.locks import F_RDLCK, F_UNLCK, F_WRLCK, OFFSET_MAX, Lock


class Owner:
    """Stands for an FdTable (POSIX) or an OpenFile (OFD, flock)."""

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return self.name


@pytest.fixture
def inode():
    node = object()
    yield node
    locks._contexts.pop(node, None)
    locks._waits.clear()


A, B, C = Owner("A"), Owner("B"), Owner("C")


def setlk(inode, owner, type, start, end=OFFSET_MAX, pid=1, ofd=False, waker=None):
    locks.set_lock(inode, Lock(owner, type, start, end, pid, ofd), waker)


def layout(inode, owner=None):
    """[(type letter, start, end)] of the inode's record locks (of one owner if given)."""
    ctx = locks.context(inode)
    held = [] if ctx is None else ctx.posix
    return [("RWU"[lk.type], lk.start, lk.end) for lk in held if owner is None or lk.owner is owner]


def errno_of(fn, *args, **kwargs):
    with pytest.raises(SyscallError) as info:
        fn(*args, **kwargs)
    return info.value.errno


def park(fn, *args, waker, **kwargs):
    """Call fn expecting WouldBlock, and do what the kernel does: put waker on its queues."""
    with pytest.raises(WouldBlock) as info:
        fn(*args, waker=waker, **kwargs)
    for queue in info.value.waitables:
        queue.add(waker)
    return info.value


# -- ranges of one owner ------------------------------------------------------------------
def test_unlocking_the_middle_of_a_lock_splits_it(inode):
    setlk(inode, A, F_WRLCK, 0, 99)
    setlk(inode, A, F_UNLCK, 40, 49)
    assert layout(inode) == [("W", 0, 39), ("W", 50, 99)]


def test_a_read_lock_inside_a_write_lock_splits_it_in_three(inode):
    setlk(inode, A, F_WRLCK, 0, 39)
    setlk(inode, A, F_RDLCK, 20, 24)
    assert layout(inode) == [("W", 0, 19), ("R", 20, 24), ("W", 25, 39)]


def test_adjacent_and_overlapping_locks_of_one_type_merge(inode):
    setlk(inode, A, F_WRLCK, 0, 19)
    setlk(inode, A, F_RDLCK, 20, 24)
    setlk(inode, A, F_WRLCK, 25, 39)
    setlk(inode, A, F_WRLCK, 50, 99)
    setlk(inode, A, F_WRLCK, 20, 49)
    assert layout(inode) == [("W", 0, 99)]


def test_locks_to_eof_merge_without_overflow(inode):
    setlk(inode, A, F_RDLCK, 10)
    setlk(inode, A, F_RDLCK, 5, 9)
    setlk(inode, A, F_WRLCK, 5, 14)
    assert layout(inode) == [("W", 5, 14), ("R", 15, OFFSET_MAX)]


def test_unlocking_everything_forgets_the_inode(inode):
    setlk(inode, A, F_WRLCK, 0, 9)
    setlk(inode, A, F_UNLCK, 0)
    assert locks.context(inode) is None


def test_a_grown_lock_keeps_the_pid_of_the_process_that_set_it(inode):
    setlk(inode, A, F_WRLCK, 10, 19, pid=7)
    setlk(inode, A, F_WRLCK, 0, 14, pid=8)
    assert [(lk.start, lk.end, lk.pid) for lk in locks.context(inode).posix] == [(0, 19, 7)]


def test_each_owners_locks_stay_together_in_the_order_owners_came(inode):
    setlk(inode, A, F_RDLCK, 50, 59)
    setlk(inode, B, F_RDLCK, 0, 9)
    setlk(inode, A, F_RDLCK, 0, 9)
    assert [lk.owner for lk in locks.context(inode).posix] == [A, A, B]
    assert layout(inode, A) == [("R", 0, 9), ("R", 50, 59)]


# -- conflicts ----------------------------------------------------------------------------------
def test_read_locks_of_two_owners_do_not_conflict(inode):
    setlk(inode, A, F_RDLCK, 0, 9)
    setlk(inode, B, F_RDLCK, 5, 14)
    assert layout(inode, B) == [("R", 5, 14)]


def test_a_write_lock_over_another_owners_lock_is_EAGAIN(inode):
    setlk(inode, A, F_RDLCK, 0, 9)
    assert errno_of(setlk, inode, B, F_WRLCK, 9, 9) == errno.EAGAIN
    assert layout(inode, B) == []


def test_an_owners_own_locks_never_conflict(inode):
    setlk(inode, A, F_WRLCK, 0, 9)
    setlk(inode, A, F_RDLCK, 5, 5)
    assert locks.test_lock(inode, Lock(A, F_WRLCK, 0)) is None


def test_getlk_reports_the_first_conflicting_lock(inode):
    setlk(inode, A, F_RDLCK, 50, 54, pid=5)
    setlk(inode, A, F_WRLCK, 10, 29, pid=5)
    held = locks.test_lock(inode, Lock(B, F_WRLCK, 0))
    assert (held.type, held.start, held.end, held.pid) == (F_WRLCK, 10, 29, 5)
    held = locks.test_lock(inode, Lock(B, F_WRLCK, 40))
    assert (held.type, held.start, held.end) == (F_RDLCK, 50, 54)
    assert locks.test_lock(inode, Lock(B, F_RDLCK, 30)) is None


def test_ofd_getlk_with_F_UNLCK_finds_the_callers_own_lock(inode):
    setlk(inode, A, F_WRLCK, 0, 9, ofd=True)
    held = locks.test_lock(inode, Lock(A, F_UNLCK, 5, 5, ofd=True))
    assert (held.owner, held.start, held.end) == (A, 0, 9)
    assert locks.test_lock(inode, Lock(B, F_UNLCK, 5, 5, ofd=True)) is None


def test_ofd_and_posix_locks_conflict_with_each_other(inode):
    setlk(inode, A, F_WRLCK, 100, 109)              # A: a process's POSIX lock
    assert errno_of(setlk, inode, B, F_WRLCK, 105, 105, ofd=True) == errno.EAGAIN


# -- waiting and deadlocks -----------------------------------------------------------------------
def test_a_waiting_request_waits_on_the_inodes_queue(inode):
    setlk(inode, A, F_WRLCK, 0, 0)
    wait = park(setlk, inode, B, F_WRLCK, 0, 0, waker=lambda: None)
    assert wait.waitables == [locks.context(inode).changed]


def test_unlocking_wakes_the_waiters(inode):
    setlk(inode, A, F_WRLCK, 0, 0)
    woken = []
    park(setlk, inode, B, F_WRLCK, 0, 0, waker=lambda: woken.append("B"))
    setlk(inode, A, F_UNLCK, 0)
    assert woken == ["B"]


def test_a_downgrade_wakes_the_waiters_but_an_upgrade_does_not(inode):
    setlk(inode, A, F_WRLCK, 0, 0)
    setlk(inode, A, F_RDLCK, 5, 5)
    woken = []
    park(setlk, inode, B, F_RDLCK, 0, 0, waker=lambda: woken.append("B"))
    setlk(inode, A, F_WRLCK, 5, 5)
    assert woken == []
    setlk(inode, A, F_RDLCK, 0, 0)
    assert woken == ["B"]


def test_waiting_for_an_owner_that_waits_for_you_is_EDEADLK(inode):
    setlk(inode, A, F_WRLCK, 0, 0)
    setlk(inode, B, F_WRLCK, 1, 1)
    park(setlk, inode, B, F_WRLCK, 0, 0, waker=lambda: None)
    assert errno_of(setlk, inode, A, F_WRLCK, 1, 1, waker=lambda: None) == errno.EDEADLK


def test_a_cycle_through_a_third_owner_is_EDEADLK(inode):
    setlk(inode, A, F_WRLCK, 0, 0)
    setlk(inode, B, F_WRLCK, 1, 1)
    setlk(inode, C, F_WRLCK, 2, 2)
    park(setlk, inode, B, F_WRLCK, 2, 2, waker=lambda: None)      # B waits for C
    park(setlk, inode, C, F_WRLCK, 0, 0, waker=lambda: None)      # C waits for A
    assert errno_of(setlk, inode, A, F_WRLCK, 1, 1, waker=lambda: None) == errno.EDEADLK


def test_a_waiter_that_was_interrupted_is_no_edge(inode):
    setlk(inode, A, F_WRLCK, 0, 0)
    setlk(inode, B, F_WRLCK, 1, 1)
    waker = lambda: None    # noqa: E731
    park(setlk, inode, B, F_WRLCK, 0, 0, waker=waker)
    locks.context(inode).changed.remove(waker)      # a signal ended B's wait
    park(setlk, inode, A, F_WRLCK, 1, 1, waker=lambda: None)


def test_a_woken_waiter_is_no_edge_until_it_waits_again(inode):
    setlk(inode, A, F_WRLCK, 0, 0)
    setlk(inode, A, F_RDLCK, 5, 5)
    setlk(inode, B, F_WRLCK, 1, 1)
    park(setlk, inode, B, F_WRLCK, 0, 0, waker=lambda: None)
    setlk(inode, A, F_UNLCK, 5, 5)      # wakes B, which has not retried yet
    park(setlk, inode, A, F_WRLCK, 1, 1, waker=lambda: None)


def test_ofd_waiters_get_no_deadlock_detection(inode):
    setlk(inode, A, F_WRLCK, 0, 0, ofd=True)
    setlk(inode, B, F_WRLCK, 1, 1, ofd=True)
    park(setlk, inode, B, F_WRLCK, 0, 0, ofd=True, waker=lambda: None)
    park(setlk, inode, A, F_WRLCK, 1, 1, ofd=True, waker=lambda: None)


# -- release on close -------------------------------------------------------------------------------
def test_remove_posix_drops_only_that_owners_locks(inode):
    setlk(inode, A, F_WRLCK, 0, 9)
    setlk(inode, B, F_WRLCK, 10, 19)
    locks.flock(inode, A, F_WRLCK)
    locks.remove_posix(inode, A)
    assert layout(inode) == [("W", 10, 19)]
    assert [lk.owner for lk in locks.context(inode).flocks] == [A]


def test_release_file_drops_its_ofd_and_flock_locks(inode):
    setlk(inode, A, F_WRLCK, 0, 9, ofd=True)
    locks.flock(inode, A, F_RDLCK)
    woken = []
    park(locks.flock, inode, B, F_WRLCK, waker=lambda: woken.append("B"))
    locks.release_file(inode, A)
    assert woken == ["B"]
    assert locks.context(inode) is None


# -- flock ----------------------------------------------------------------------------------------------
def test_flock_shared_locks_coexist_and_exclusive_is_EWOULDBLOCK(inode):
    locks.flock(inode, A, F_RDLCK)
    locks.flock(inode, B, F_RDLCK)
    assert errno_of(locks.flock, inode, C, F_WRLCK) == errno.EWOULDBLOCK


def test_a_failed_flock_upgrade_loses_the_shared_lock(inode):
    locks.flock(inode, A, F_RDLCK)
    locks.flock(inode, B, F_RDLCK)
    assert errno_of(locks.flock, inode, B, F_WRLCK) == errno.EAGAIN
    assert [lk.owner for lk in locks.context(inode).flocks] == [A]


def test_flock_converts_the_owners_lock_in_place(inode):
    locks.flock(inode, A, F_WRLCK)
    locks.flock(inode, A, F_RDLCK)
    locks.flock(inode, B, F_RDLCK)
    assert [(lk.owner, lk.type) for lk in locks.context(inode).flocks] == [(A, F_RDLCK), (B, F_RDLCK)]


def test_flock_and_posix_locks_do_not_conflict(inode):
    locks.flock(inode, A, F_WRLCK)
    setlk(inode, B, F_WRLCK, 0)
    locks.flock(inode, A, F_UNLCK)
    assert layout(inode) == [("W", 0, OFFSET_MAX)]
