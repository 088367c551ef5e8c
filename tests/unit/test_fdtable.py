"""The fd table (kernel/fdtable.py): numbers, close-on-exec, and the open files' references.

The rules are those of open(2), dup2(2), close(2), close_range(2) and execve(2).
"""
import errno

import pytest

from pylinuxabi.base.errors import SyscallError
from pylinuxabi.kernel.fdtable import FdTable
from pylinuxabi.vfs.file import OpenFile


class CountingFile(OpenFile):
    """An open file that counts how often its last reference went away."""

    def __init__(self, name="f"):
        super().__init__(None, None, 0)
        self.name = name
        self.released = 0

    def release(self):
        self.released += 1


def errno_of(fn, *args, **kwargs):
    with pytest.raises(SyscallError) as info:
        fn(*args, **kwargs)
    return errno.errorcode[info.value.errno]


@pytest.fixture
def table():
    return FdTable()


def filled(table, n):
    files = [CountingFile(f"f{i}") for i in range(n)]
    for f in files:
        table.install(f)
    return files


# --------------------------------------------------------------------------
# allocation

def test_first_fd_of_an_empty_table_is_0(table):
    assert table.install(CountingFile()) == 0


def test_new_fd_is_the_lowest_free_one(table):
    filled(table, 4)
    table.close(1)
    table.close(2)
    assert table.install(CountingFile()) == 1
    assert table.install(CountingFile()) == 2
    assert table.install(CountingFile()) == 4


def test_lowest_free_fd_at_or_above_a_minimum(table):
    filled(table, 3)
    assert table.install(CountingFile(), lowest=10) == 10
    assert table.install(CountingFile(), lowest=10) == 11
    assert table.install(CountingFile(), lowest=1) == 3


def test_get_returns_the_installed_file(table):
    f = CountingFile()
    fd = table.install(f)
    assert table.get(fd) is f


def test_get_of_an_unused_fd_is_EBADF(table):
    assert errno_of(table.get, 0) == "EBADF"
    assert errno_of(table.get, -1) == "EBADF"


def test_install_takes_a_reference(table):
    f = CountingFile()
    table.install(f)
    table.install(f)
    assert f.refs == 2


def test_install_with_cloexec_marks_the_fd(table):
    a = table.install(CountingFile(), cloexec=True)
    b = table.install(CountingFile())
    assert a in table.cloexec and b not in table.cloexec


# --------------------------------------------------------------------------
# the limit (RLIMIT_NOFILE)

def test_install_past_the_limit_is_EMFILE(table):
    table.limit = 3
    filled(table, 3)
    f = CountingFile()
    assert errno_of(table.install, f) == "EMFILE"
    assert f.refs == 0, "a failed install takes no reference"


def test_install_above_a_minimum_at_the_limit_is_EMFILE(table):
    table.limit = 8
    assert errno_of(table.install, CountingFile(), lowest=8) == "EMFILE"


def test_a_closed_fd_below_the_limit_is_reused_after_EMFILE(table):
    table.limit = 3
    filled(table, 3)
    table.close(1)
    assert table.install(CountingFile()) == 1


def test_install_at_the_limit_is_EBADF(table):
    # dup2(oldfd, newfd) with newfd >= RLIMIT_NOFILE is EBADF, not EMFILE
    table.limit = 8
    assert errno_of(table.install_at, 8, CountingFile()) == "EBADF"


def test_install_at_a_negative_fd_is_EBADF(table):
    assert errno_of(table.install_at, -1, CountingFile()) == "EBADF"


# --------------------------------------------------------------------------
# install_at (dup2, dup3)

def test_install_at_puts_the_file_at_exactly_that_fd(table):
    f = CountingFile()
    table.install_at(7, f)
    assert table.get(7) is f
    assert table.install(CountingFile()) == 0


def test_install_at_replaces_and_releases_the_old_file(table):
    old, new = CountingFile("old"), CountingFile("new")
    table.install(old)
    table.install_at(0, new)
    assert table.get(0) is new
    assert old.released == 1 and old.refs == 0
    assert new.released == 0 and new.refs == 1


def test_install_at_does_not_release_an_old_file_still_referenced(table):
    old, new = CountingFile("old"), CountingFile("new")
    table.install(old)
    table.install(old)              # dup: fd 1 shares it
    table.install_at(0, new)
    assert old.released == 0 and old.refs == 1
    assert table.get(1) is old


def test_install_at_of_the_file_already_there_keeps_it_open(table):
    f = CountingFile()
    table.install(f)
    table.install(f)
    table.install_at(1, f)
    assert f.released == 0 and f.refs == 2


def test_install_at_sets_or_clears_cloexec(table):
    table.install(CountingFile(), cloexec=True)
    table.install_at(0, CountingFile())
    assert 0 not in table.cloexec
    table.install_at(0, CountingFile(), cloexec=True)
    assert 0 in table.cloexec


# --------------------------------------------------------------------------
# close

def test_close_releases_the_file_on_its_last_reference(table):
    f = CountingFile()
    table.install(f)
    table.close(0)
    assert f.released == 1
    assert errno_of(table.get, 0) == "EBADF"


def test_close_of_one_dup_keeps_the_file_open(table):
    f = CountingFile()
    table.install(f)
    table.install(f)
    table.close(0)
    assert f.released == 0
    table.close(1)
    assert f.released == 1


def test_close_of_an_unused_fd_is_EBADF(table):
    assert errno_of(table.close, 3) == "EBADF"


def test_close_twice_is_EBADF_and_releases_once(table):
    f = CountingFile()
    table.install(f)
    table.close(0)
    assert errno_of(table.close, 0) == "EBADF"
    assert f.released == 1


def test_close_forgets_cloexec(table):
    table.install(CountingFile(), cloexec=True)
    table.close(0)
    table.install(CountingFile())
    assert 0 not in table.cloexec


# --------------------------------------------------------------------------
# close_range

def test_close_range_closes_every_fd_in_the_range(table):
    files = filled(table, 6)
    table.close_range(1, 3)
    assert sorted(table.fds) == [0, 4, 5]
    assert [f.released for f in files] == [0, 1, 1, 1, 0, 0]


def test_close_range_to_the_maximum_closes_everything_above_first(table):
    filled(table, 5)
    table.close_range(2, 0xFFFFFFFF)
    assert sorted(table.fds) == [0, 1]


def test_close_range_skips_holes_without_error(table):
    filled(table, 5)
    table.close(2)
    table.close_range(0, 10)
    assert table.fds == {}


def test_close_range_with_cloexec_only_marks_the_fds(table):
    files = filled(table, 4)
    table.close_range(1, 2, only_cloexec=True)
    assert sorted(table.fds) == [0, 1, 2, 3]
    assert table.cloexec == {1, 2}
    assert all(f.released == 0 for f in files)


# --------------------------------------------------------------------------
# exec and fork

def test_close_on_exec_closes_only_the_cloexec_fds(table):
    keep, drop = CountingFile("keep"), CountingFile("drop")
    table.install(keep)
    table.install(drop, cloexec=True)
    table.close_on_exec()
    assert table.get(0) is keep
    assert errno_of(table.get, 1) == "EBADF"
    assert drop.released == 1 and keep.released == 0
    assert table.cloexec == set()


def test_close_on_exec_keeps_a_file_shared_with_a_kept_fd(table):
    f = CountingFile()
    table.install(f)
    table.install(f, cloexec=True)
    table.close_on_exec()
    assert f.released == 0 and f.refs == 1


def test_close_all_releases_every_file(table):
    files = filled(table, 3)
    table.close_all()
    assert table.fds == {}
    assert [f.released for f in files] == [1, 1, 1]


def test_copy_shares_the_open_files(table):
    f = CountingFile()
    table.install(f)
    child = table.copy()
    assert child.get(0) is f
    assert f.refs == 2


def test_copy_keeps_fd_numbers_cloexec_and_limit(table):
    table.limit = 64
    table.install_at(5, CountingFile(), cloexec=True)
    table.install_at(9, CountingFile())
    child = table.copy()
    assert sorted(child.fds) == [5, 9]
    assert child.cloexec == {5}
    assert child.limit == 64


def test_copy_is_independent_of_the_original(table):
    table.install(CountingFile())
    child = table.copy()
    child.install(CountingFile())
    child.close_range(0, 0, only_cloexec=True)
    assert sorted(table.fds) == [0]
    assert table.cloexec == set()


def test_file_shared_by_a_copy_is_released_when_both_close_it(table):
    f = CountingFile()
    table.install(f)
    child = table.copy()
    table.close(0)
    assert f.released == 0
    child.close(0)
    assert f.released == 1


# --------------------------------------------------------------------------
# a file held by a syscall that waits on it (fdget across a wait)

def test_a_held_file_stays_open_when_its_fd_is_closed(table):
    f = CountingFile()
    fd = table.install(f)
    f.get()
    table.close(fd)
    assert f.released == 0
    f.put()
    assert f.released == 1


def test_a_retry_finds_the_held_file_under_its_fd_whatever_the_fd_names_now(table):
    f, g = CountingFile("f"), CountingFile("g")
    fd = table.install(f)
    table.install_at(fd, g)                 # another thread dup2s over it
    table.held = (fd, f)
    assert table.get(fd) is f and table.get_file(fd) is f
    table.held = None
    assert table.get(fd) is g


def test_fd_of_finds_the_argument_that_names_a_file(table):
    f, g = CountingFile("f"), CountingFile("g")
    table.install(g)
    fd = table.install(f)
    assert table.fd_of(f, [0x7fff0000, fd, 0]) == fd
    assert table.fd_of(CountingFile("h"), [0, 1, 2]) is None
