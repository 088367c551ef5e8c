"""epoll instances (vfs/epoll.py) without tracing: the interest list, the ready list and
how wake-ups of the watched files' queues feed it.

The rules are those of epoll(7) and fs/eventpoll.c; the differential program
tests/programs/ipc_epoll.c checks the same against the machine's kernel.
"""
import os

import pytest

from pylinuxabi.kernel.fdtable import FdTable
from pylinuxabi.base.waitq import WaitQueue
from pylinuxabi.vfs import epoll
from pylinuxabi.vfs.epoll import EPOLLET, EPOLLONESHOT, EventPoll
from pylinuxabi.vfs.file import POLLERR, POLLHUP, POLLIN, POLLOUT, OpenFile
from pylinuxabi.vfs.pipe import make_pipe

IN = POLLIN | POLLERR | POLLHUP      # what epoll_ctl makes of EPOLLIN
OUT = POLLOUT | POLLERR | POLLHUP


def reported(ep, maxevents=8):
    """What one epoll_wait would return: [(events, data)], delivered."""
    picked = ep.collect(maxevents)
    ep.delivered(picked)
    return [(revents, item.data) for item, revents in picked]


@pytest.fixture
def table():
    return FdTable()


def opened(table, *files):
    return [table.install(f) for f in files]


class HostLike(OpenFile):
    """A file whose readiness no queue tells of (as a host fd's)."""

    host_backed = True

    def __init__(self):
        super().__init__(None, None, os.O_RDONLY)
        self.events = 0

    def poll(self):
        return self.events


def test_a_write_queues_the_read_end_and_level_triggered_items_stay_ready(table):
    r, w = make_pipe()
    rfd, _ = opened(table, r, w)
    ep = EventPoll()
    ep.insert(rfd, r, IN, 1)
    assert reported(ep) == []
    w.write(b"x")
    assert reported(ep) == [(POLLIN, 1)]
    assert reported(ep) == [(POLLIN, 1)]
    r.read(1)
    assert reported(ep) == []
    assert not ep.ready                 # found not ready: off the list


def test_the_ready_list_is_in_order_of_becoming_ready_and_round_robins_with_maxevents(table):
    pipes = [make_pipe() for _ in range(3)]
    ep = EventPoll()
    for i, (r, w) in enumerate(pipes):
        ep.insert(table.install(r), r, IN, i)
    for i in (1, 2, 0):
        pipes[i][1].write(b"x")
    assert [d for _, d in reported(ep)] == [1, 2, 0]
    assert [d for _, d in reported(ep, 2)] == [1, 2]
    assert [d for _, d in reported(ep, 2)] == [0, 1]


def test_edge_triggered_items_report_again_only_after_a_wake_up(table):
    r, w = make_pipe()
    ep = EventPoll()
    ep.insert(table.install(r), r, IN | EPOLLET, 7)
    w.write(b"ab")
    assert reported(ep) == [(POLLIN, 7)]
    assert reported(ep) == []
    r.read(1)                           # the reader's own read wakes only writers
    assert reported(ep) == []
    w.write(b"c")
    assert reported(ep) == [(POLLIN, 7)]


def test_a_one_shot_item_is_disabled_until_modified(table):
    r, w = make_pipe()
    ep = EventPoll()
    fd = table.install(r)
    ep.insert(fd, r, IN | EPOLLONESHOT, 3)
    w.write(b"x")
    assert reported(ep) == [(POLLIN, 3)]
    w.write(b"y")
    assert reported(ep) == []
    item = ep.find(fd, r)
    assert item.events == EPOLLONESHOT
    ep.modify(item, IN | EPOLLONESHOT, 4)
    assert reported(ep) == [(POLLIN, 4)]


def test_hang_up_is_reported_without_being_asked_for(table):
    r, w = make_pipe()
    rfd, wfd = opened(table, r, w)
    ep = EventPoll()
    ep.insert(rfd, r, POLLERR | POLLHUP, 9)
    assert reported(ep) == []
    table.close(wfd)
    assert reported(ep) == [(POLLHUP, 9)]


def test_items_on_one_queue_are_woken_newest_first(table):
    r, w = make_pipe()
    fd = table.install(r)
    dup = table.install(r)
    ep = EventPoll()
    ep.insert(fd, r, IN, 1)
    ep.insert(dup, r, IN, 2)
    w.write(b"x")
    assert [d for _, d in reported(ep)] == [2, 1]


def test_an_item_goes_with_the_last_reference_to_its_file_not_with_one_fd(table):
    r, w = make_pipe()
    fd = table.install(r)
    dup = table.install(r)
    ep = EventPoll()
    ep.insert(fd, r, IN, 1)
    table.close(fd)
    assert ep.find(fd, r) is not None
    table.close(dup)
    assert ep.items == {} and ep.ready == {}
    assert r not in epoll._watchers
    assert not [q for q in r.wait_queues() if q is not None and q.waiters]


def test_closing_the_instance_unhooks_its_items(table):
    r, w = make_pipe()
    opened(table, r, w)
    efd = table.install(EventPoll())
    ep = table.get(efd)
    ep.insert(3, r, IN, 1)
    table.close(efd)
    assert r not in epoll._watchers
    assert not r.pipe.readable.waiters
    w.write(b"x")                       # nothing left to wake


def test_an_instance_is_readable_while_an_item_is_ready_and_wakes_its_watchers(table):
    r, w = make_pipe()
    inner, outer = EventPoll(), EventPoll()
    inner.insert(table.install(r), r, IN, 1)
    outer.insert(table.install(inner), inner, IN, 2)
    woken = []
    outer.queue.add(lambda: woken.append(True))
    assert inner.poll() == 0 and reported(outer) == []
    w.write(b"x")
    assert woken == [True]
    assert inner.poll() & POLLIN
    assert reported(outer) == [(POLLIN, 2)]
    r.read(1)
    assert reported(outer) == []


def test_nesting_is_refused_for_cycles_and_past_four_levels(table):
    eps = [EventPoll() for _ in range(6)]
    for e in eps:
        table.install(e)
    for i in range(1, 5):
        assert eps[i].may_contain(eps[i - 1])
        eps[i].insert(i, eps[i - 1], IN, i)
    assert not eps[5].may_contain(eps[4])          # five levels
    assert not eps[0].may_contain(eps[2])          # a cycle
    assert not eps[0].may_contain(eps[0])
    assert not eps[0].may_contain(eps[5])          # eps[0] already lies four levels down


def test_host_backed_files_are_looked_at_level_and_edge(table):
    lt, et = HostLike(), HostLike()
    ep = EventPoll()
    ep.insert(table.install(lt), lt, IN, 1)
    ep.insert(table.install(et), et, IN | EPOLLET, 2)
    assert ep.host_backed
    assert reported(ep) == []
    lt.events = et.events = POLLIN
    assert reported(ep) == [(POLLIN, 1), (POLLIN, 2)]
    assert reported(ep) == [(POLLIN, 1)]            # no new edge
    et.events = 0
    assert reported(ep) == [(POLLIN, 1)]
    et.events = POLLIN
    assert reported(ep) == [(POLLIN, 1), (POLLIN, 2)]


def test_a_hook_leaves_its_queue_with_its_last_item(table):
    q = WaitQueue()

    class Queued(OpenFile):
        def __init__(self):
            super().__init__(None, None, 0)

        def poll(self):
            return 0

        def wait_queues(self):
            return (q,)

    f = Queued()
    ep = EventPoll()
    fd = table.install(f)
    ep.insert(fd, f, IN, 1)
    assert len(q.waiters) == 1
    q.notify()
    assert len(q.waiters) == 1                      # still hooked after a wake-up
    ep.remove(ep.find(fd, f))
    assert not q.waiters and q not in epoll._hooks
