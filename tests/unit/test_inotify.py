"""inotify over fsnotify (vfs/inotify.py, vfs/fsnotify.py): routing, the queue, watches.

The rules are those of inotify(7) and Linux's fs/notify: events on a child
reach its directory's watches with its name, and its own watches without;
consecutive identical events merge; a watch ends with IN_IGNORED.
"""
import errno
import os
import stat as st
import struct

import pytest

from pylinuxabi.base.errors import SyscallError, WouldBlock
from pylinuxabi.vfs import fsnotify
from pylinuxabi.vfs.file import O_PATH, POLLIN, OpenFile
from pylinuxabi.vfs.fsnotify import (IN_ACCESS, IN_ALL_EVENTS, IN_ATTRIB, IN_CLOSE_NOWRITE, IN_CLOSE_WRITE,
                                     IN_CREATE, IN_DELETE, IN_DELETE_SELF, IN_IGNORED, IN_ISDIR, IN_MODIFY,
                                     IN_MOVE_SELF, IN_MOVED_FROM, IN_MOVED_TO, IN_OPEN, IN_Q_OVERFLOW)
from pylinuxabi.vfs.inode import Stat
from pylinuxabi.vfs.inotify import (IN_EXCL_UNLINK, IN_MASK_ADD, IN_MASK_CREATE, IN_ONESHOT,
                                    MAX_QUEUED_EVENTS, Inotify)
from pylinuxabi.vfs.mount import Dentry

EVENT = struct.Struct("<iIII")
_inos = iter(range(100, 10**6))


class Node:
    """An inode with just what fsnotify asks of one: stat() and is_dir()."""

    def __init__(self, isdir=False, nlink=None, ino=None):
        self.s = Stat(dev=7, ino=ino or next(_inos), mode=(st.S_IFDIR if isdir else st.S_IFREG) | 0o644,
                      nlink=nlink if nlink is not None else (2 if isdir else 1))

    def stat(self):
        return self.s

    def is_dir(self):
        return st.S_ISDIR(self.s.mode)


def child(parent, name, **kw):
    d = Dentry(name, parent, Node(**kw), None)
    parent.children[name] = d
    return d


def unlink(d, links_left=0):
    """What namei does: the filesystem drops the link, fsnotify hears, the dentry is forgotten."""
    d.inode.s.nlink = links_left
    fsnotify.notify(d, IN_DELETE)
    del d.parent.children[d.name]
    d.name += b" (deleted)"


def events(inotify, size=65536):
    """[(wd, mask, cookie, name)] of everything read."""
    data = inotify.read(size)
    out = []
    while data:
        wd, mask, cookie, n = EVENT.unpack_from(data)
        out.append((wd, mask, cookie, data[16:16 + n].rstrip(b"\0")))
        data = data[16 + n:]
    return out


def errno_of(fn, *args):
    with pytest.raises(SyscallError) as info:
        fn(*args)
    return errno.errorcode[info.value.errno]


@pytest.fixture
def root():
    return Dentry(b"/", None, Node(isdir=True), None)


@pytest.fixture
def ino():
    """A nonblocking instance, released at the end (fsnotify must then be idle again)."""
    instances = []

    def make(flags=os.O_NONBLOCK):
        instances.append(Inotify(flags))
        return instances[-1]
    yield make
    for i in instances:
        i.release()
    assert not fsnotify.active


def test_create_in_a_watched_directory_carries_the_name_NUL_padded_to_16_bytes(root, ino):
    i = ino()
    wd = i.add_watch(root.inode, IN_CREATE)
    fsnotify.notify(child(root, b"f"), IN_CREATE)
    data = i.read(4096)
    assert EVENT.unpack_from(data) == (wd, IN_CREATE, 0, 16)
    assert data[16:] == b"f" + bytes(15)


def test_a_name_of_16_bytes_takes_32_with_its_NUL(root, ino):
    i = ino()
    i.add_watch(root.inode, IN_CREATE)
    fsnotify.notify(child(root, b"x" * 16), IN_CREATE)
    assert i.fionread() == 16 + 32


def test_identical_consecutive_events_are_merged(root, ino):
    i = ino()
    wd = i.add_watch(root.inode, IN_MODIFY)
    f = child(root, b"f")
    fsnotify.notify(f, IN_MODIFY)
    fsnotify.notify(f, IN_MODIFY)
    assert events(i) == [(wd, IN_MODIFY, 0, b"f")]


def test_events_apart_are_not_merged(root, ino):
    i = ino()
    wd = i.add_watch(root.inode, IN_MODIFY | IN_ATTRIB)
    f = child(root, b"f")
    for mask in (IN_MODIFY, IN_ATTRIB, IN_MODIFY):
        fsnotify.notify(f, mask)
    assert [(w, m) for w, m, _, _ in events(i)] == [(wd, IN_MODIFY), (wd, IN_ATTRIB), (wd, IN_MODIFY)]


def test_an_event_already_read_is_not_merged_with_a_new_one(root, ino):
    i = ino()
    i.add_watch(root.inode, IN_MODIFY)
    f = child(root, b"f")
    fsnotify.notify(f, IN_MODIFY)
    events(i)
    fsnotify.notify(f, IN_MODIFY)
    assert len(events(i)) == 1


def test_read_too_small_for_the_first_event_is_EINVAL_and_the_event_stays(root, ino):
    i = ino()
    i.add_watch(root.inode, IN_CREATE)
    fsnotify.notify(child(root, b"a-long-name"), IN_CREATE)
    assert errno_of(i.read, 16) == "EINVAL"
    assert errno_of(i.read, 0) == "EINVAL"
    assert events(i)[0][3] == b"a-long-name"


def test_read_returns_only_whole_events(root, ino):
    i = ino()
    i.add_watch(root.inode, IN_CREATE)
    fsnotify.notify(child(root, b"a"), IN_CREATE)
    fsnotify.notify(child(root, b"b"), IN_CREATE)
    assert len(i.read(40)) == 32
    assert i.fionread() == 32


def test_read_of_an_empty_queue_is_EAGAIN_with_O_NONBLOCK(ino):
    assert errno_of(ino().read, 64) == "EAGAIN"


def test_read_of_an_empty_queue_waits_without_O_NONBLOCK_and_an_event_wakes_it(root, ino):
    i = ino(0)
    i.add_watch(root.inode, IN_CREATE)
    with pytest.raises(WouldBlock) as info:
        i.read(64)
    woken = []
    info.value.waitables[0].add(lambda: woken.append(True))
    fsnotify.notify(child(root, b"f"), IN_CREATE)
    assert woken == [True]
    assert i.poll() & POLLIN


def test_poll_is_POLLIN_only_while_events_are_queued(root, ino):
    i = ino()
    i.add_watch(root.inode, IN_CREATE)
    assert i.poll() == 0
    fsnotify.notify(child(root, b"f"), IN_CREATE)
    assert i.poll() & POLLIN
    i.read(64)
    assert i.poll() == 0


def test_a_child_event_reaches_the_directory_with_its_name_then_the_child_without(root, ino):
    i = ino()
    f = child(root, b"f")
    dwd = i.add_watch(root.inode, IN_ATTRIB)
    fwd = i.add_watch(f.inode, IN_ATTRIB)
    fsnotify.notify(f, IN_ATTRIB)
    assert events(i) == [(dwd, IN_ATTRIB, 0, b"f"), (fwd, IN_ATTRIB, 0, b"")]


def test_events_in_a_subdirectory_do_not_reach_the_watched_grandparent(root, ino):
    i = ino()
    i.add_watch(root.inode, IN_ALL_EVENTS)
    sub = child(root, b"sub", isdir=True)
    fsnotify.notify(child(sub, b"inner"), IN_CREATE)
    assert i.fionread() == 0


def test_directory_events_carry_IN_ISDIR(root, ino):
    i = ino()
    i.add_watch(root.inode, IN_CREATE | IN_ATTRIB)
    sub = child(root, b"sub", isdir=True)
    fsnotify.notify(sub, IN_CREATE)
    fsnotify.notify(sub, IN_ATTRIB)
    assert [m for _, m, _, _ in events(i)] == [IN_CREATE | IN_ISDIR, IN_ATTRIB | IN_ISDIR]


def test_rmdir_of_a_watched_directory_is_DELETE_SELF_without_IN_ISDIR_then_IGNORED(root, ino):
    i = ino()
    sub = child(root, b"sub", isdir=True)
    wd = i.add_watch(sub.inode, IN_ALL_EVENTS)
    unlink(sub)
    assert events(i) == [(wd, IN_DELETE_SELF, 0, b""), (wd, IN_IGNORED, 0, b"")]
    assert errno_of(i.rm_watch, wd) == "EINVAL"


def test_unlink_of_the_last_link_is_ATTRIB_DELETE_SELF_IGNORED_then_DELETE_in_the_directory(root, ino):
    i = ino()
    f = child(root, b"f")
    fwd = i.add_watch(f.inode, IN_ALL_EVENTS)
    dwd = i.add_watch(root.inode, IN_DELETE)
    unlink(f)
    assert events(i) == [(fwd, IN_ATTRIB, 0, b""), (fwd, IN_DELETE_SELF, 0, b""),
                         (fwd, IN_IGNORED, 0, b""), (dwd, IN_DELETE, 0, b"f")]


def test_unlink_of_one_of_two_links_is_only_ATTRIB(root, ino):
    i = ino()
    f = child(root, b"f", nlink=2)
    wd = i.add_watch(f.inode, IN_ALL_EVENTS)
    unlink(f, links_left=1)
    assert events(i) == [(wd, IN_ATTRIB, 0, b"")]


def test_a_new_hard_link_is_ATTRIB_on_the_inode_and_CREATE_in_the_directory(root, ino):
    i = ino()
    f = child(root, b"f")
    fwd = i.add_watch(f.inode, IN_ALL_EVENTS)
    dwd = i.add_watch(root.inode, IN_CREATE)
    f.inode.s.nlink = 2
    link = Dentry(b"g", root, f.inode, None)
    fsnotify.notify(link, IN_CREATE)
    assert events(i) == [(fwd, IN_ATTRIB, 0, b""), (dwd, IN_CREATE, 0, b"g")]


def test_watches_follow_st_dev_and_st_ino_not_the_inode_object(root, ino):
    i = ino()
    f = child(root, b"f")
    same = Node(ino=f.inode.s.ino)          # an overlay's second name of one file
    assert i.add_watch(same, IN_ATTRIB) == i.add_watch(f.inode, IN_ATTRIB)
    fsnotify.notify(f, IN_ATTRIB)
    assert len(events(i)) == 1


def test_rename_is_MOVED_FROM_and_MOVED_TO_with_one_cookie_then_MOVE_SELF(root, ino):
    i = ino()
    f = child(root, b"f")
    dwd = i.add_watch(root.inode, IN_MOVED_FROM | IN_MOVED_TO)
    fwd = i.add_watch(f.inode, IN_MOVE_SELF)
    f.name = b"g"
    fsnotify.moved(root, b"f", f)
    (w1, m1, c1, n1), (w2, m2, c2, n2), (w3, m3, c3, n3) = events(i)
    assert (w1, m1, n1) == (dwd, IN_MOVED_FROM, b"f")
    assert (w2, m2, n2) == (dwd, IN_MOVED_TO, b"g")
    assert c1 == c2 != 0
    assert (w3, m3, c3, n3) == (fwd, IN_MOVE_SELF, 0, b"")


def test_each_rename_has_its_own_cookie(root, ino):
    i = ino()
    f = child(root, b"f")
    i.add_watch(root.inode, IN_MOVED_FROM)
    fsnotify.moved(root, b"f", f)
    fsnotify.moved(root, b"g", f)
    first, second = events(i)
    assert first[2] != second[2]


def test_rename_over_a_watched_target_ends_its_watch_after_the_move(root, ino):
    i = ino()
    a, b = child(root, b"a"), child(root, b"b")
    dwd = i.add_watch(root.inode, IN_MOVED_FROM | IN_MOVED_TO)
    bwd = i.add_watch(b.inode, IN_ALL_EVENTS)
    fsnotify.notify(b, IN_DELETE_SELF)              # namei: the target is replaced...
    b.inode.s.nlink = 0
    a.name = b"b"
    fsnotify.moved(root, b"a", a)                   # ...and the rename reported
    assert [(w, m) for w, m, _, _ in events(i)] == [
        (dwd, IN_MOVED_FROM), (dwd, IN_MOVED_TO), (bwd, IN_ATTRIB), (bwd, IN_DELETE_SELF), (bwd, IN_IGNORED)]


def test_oneshot_watch_reports_once_then_IN_IGNORED(root, ino):
    i = ino()
    f = child(root, b"f")
    wd = i.add_watch(f.inode, IN_ATTRIB | IN_ONESHOT)
    fsnotify.notify(f, IN_ATTRIB)
    fsnotify.notify(f, IN_ATTRIB)
    assert events(i) == [(wd, IN_ATTRIB, 0, b""), (wd, IN_IGNORED, 0, b"")]


def test_a_second_add_watch_returns_the_same_wd_and_replaces_the_mask(root, ino):
    i = ino()
    f = child(root, b"f")
    wd = i.add_watch(root.inode, IN_CREATE | IN_MODIFY)
    assert i.add_watch(root.inode, IN_CREATE) == wd
    fsnotify.notify(f, IN_MODIFY)
    assert i.fionread() == 0


def test_IN_MASK_ADD_extends_the_mask(root, ino):
    i = ino()
    f = child(root, b"f")
    i.add_watch(root.inode, IN_CREATE)
    i.add_watch(root.inode, IN_MODIFY | IN_MASK_ADD)
    fsnotify.notify(f, IN_CREATE)
    fsnotify.notify(f, IN_MODIFY)
    assert [m for _, m, _, _ in events(i)] == [IN_CREATE, IN_MODIFY]


def test_IN_MASK_CREATE_on_a_watched_inode_is_EEXIST(root, ino):
    i = ino()
    i.add_watch(root.inode, IN_CREATE)
    assert errno_of(i.add_watch, root.inode, IN_CREATE | IN_MASK_CREATE) == "EEXIST"


def test_rm_watch_queues_IN_IGNORED_and_a_second_rm_watch_is_EINVAL(root, ino):
    i = ino()
    wd = i.add_watch(root.inode, IN_CREATE)
    i.rm_watch(wd)
    assert events(i) == [(wd, IN_IGNORED, 0, b"")]
    assert errno_of(i.rm_watch, wd) == "EINVAL"
    fsnotify.notify(child(root, b"f"), IN_CREATE)
    assert i.fionread() == 0


def test_watch_descriptors_are_not_reused_at_once(root, ino):
    i = ino()
    wd = i.add_watch(root.inode, IN_CREATE)
    i.rm_watch(wd)
    assert i.add_watch(root.inode, IN_CREATE) == wd + 1


def test_two_instances_watch_independently(root, ino):
    i, j = ino(), ino()
    i.add_watch(root.inode, IN_CREATE)
    j.add_watch(root.inode, IN_DELETE)
    fsnotify.notify(child(root, b"f"), IN_CREATE)
    assert len(events(i)) == 1 and j.fionread() == 0


def test_open_files_report_open_access_modify_and_close(root, ino):
    i = ino()
    f = child(root, b"f")
    wd = i.add_watch(f.inode, IN_ALL_EVENTS)
    writer = OpenFile(f, f.inode, os.O_RDWR)
    reader = OpenFile(f, f.inode, os.O_RDONLY)
    fsnotify.file_event(writer, IN_OPEN)
    fsnotify.file_event(writer, IN_ACCESS)
    fsnotify.file_event(writer, IN_MODIFY)
    fsnotify.closed(writer)
    fsnotify.closed(reader)
    assert [(w, m) for w, m, _, _ in events(i)] == [
        (wd, IN_OPEN), (wd, IN_ACCESS), (wd, IN_MODIFY), (wd, IN_CLOSE_WRITE), (wd, IN_CLOSE_NOWRITE)]


def test_O_PATH_files_make_no_events(root, ino):
    i = ino()
    f = child(root, b"f")
    i.add_watch(f.inode, IN_ALL_EVENTS)
    path = OpenFile(f, f.inode, O_PATH)
    fsnotify.file_event(path, IN_OPEN)
    fsnotify.closed(path)
    assert i.fionread() == 0


def test_an_open_unlinked_file_reports_to_the_directory_under_its_old_name(root, ino):
    i = ino()
    f = child(root, b"f", nlink=2)
    wd = i.add_watch(root.inode, IN_MODIFY)
    unlink(f, links_left=1)
    fsnotify.file_event(OpenFile(f, f.inode, os.O_WRONLY), IN_MODIFY)
    assert events(i) == [(wd, IN_MODIFY, 0, b"f")]


def test_IN_EXCL_UNLINK_drops_events_of_unlinked_children_through_open_files(root, ino):
    i = ino()
    f = child(root, b"f", nlink=2)
    i.add_watch(root.inode, IN_MODIFY | IN_EXCL_UNLINK)
    unlink(f, links_left=1)
    fsnotify.file_event(OpenFile(f, f.inode, os.O_WRONLY), IN_MODIFY)
    assert i.fionread() == 0


def test_a_full_queue_ends_in_one_IN_Q_OVERFLOW(root, ino):
    i = ino()
    i.add_watch(root.inode, IN_CREATE)
    for n in range(MAX_QUEUED_EVENTS + 5):
        fsnotify.notify(child(root, b"%d" % n), IN_CREATE)
    last = i.events[-1]
    assert len(i.events) == MAX_QUEUED_EVENTS + 1
    assert last[:2] == (-1, IN_Q_OVERFLOW)


def test_fsnotify_is_idle_once_the_last_watch_is_gone(root, ino):
    i = ino()
    wd = i.add_watch(root.inode, IN_CREATE)
    assert fsnotify.active
    i.rm_watch(wd)
    assert not fsnotify.active


def test_closing_the_instance_removes_its_watches(root):
    i = Inotify(os.O_NONBLOCK)
    i.add_watch(root.inode, IN_CREATE)
    i.release()
    assert not fsnotify.active and fsnotify.marks(root.inode) == []
