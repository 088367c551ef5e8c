"""memfds and their seals (vfs/memfd.py, syscalls/memfd.py), copy_file_range and sendfile
(syscalls/copy.py).

The rules are those of memfd_create(2), fcntl(2) "File sealing", copy_file_range(2)
and sendfile(2), as mm/memfd.c, mm/shmem.c, fs/read_write.c and fs/splice.c apply them.
The handlers run against a stand-in task: an fd table, creds and a small memory.
"""
import errno
import mmap
import os
import stat as st

import pytest

from pylinuxabi.base.creds import Creds
from pylinuxabi.base.errors import SyscallError, WouldBlock
from pylinuxabi.kernel.fdtable import FdTable
from pylinuxabi.kernel.task import host_rlimits
from pylinuxabi.syscalls import copy, memfd as sys_memfd
from pylinuxabi.vfs import memfd
from pylinuxabi.vfs.file import OpenFile
from pylinuxabi.vfs.memfd import F_SEAL_EXEC, MFD_ALLOW_SEALING, MFD_EXEC, MFD_HUGETLB, MFD_NOEXEC_SEAL
from pylinuxabi.vfs.pipe import PIPE_DEFAULT_SIZE, make_pipe
from pylinuxabi.vfs.tmpfs import (F_SEAL_FUTURE_WRITE, F_SEAL_GROW, F_SEAL_SEAL, F_SEAL_SHRINK,
                                  F_SEAL_WRITE, PAGE, TmpFS)

BASE, SIZE = 0x10000, 4096


class Memory:
    """One page of the program's memory at BASE; anything else faults."""

    def __init__(self):
        self.data = bytearray(SIZE)

    def _span(self, addr, n):
        if addr < BASE or addr + n > BASE + SIZE:
            raise SyscallError(errno.EFAULT)
        return addr - BASE

    def read(self, addr, n):
        at = self._span(addr, n)
        return bytes(self.data[at:at + n])

    def write(self, addr, data):
        at = self._span(addr, len(data))
        self.data[at:at + len(data)] = data

    def write_some(self, addr, data):
        try:
            self.write(addr, data)
        except SyscallError:
            return 0
        return len(data)

    def read_cstring(self, addr, limit):
        at = self._span(addr, 1)
        end = self.data.find(b"\0", at, at + limit + 1)
        if end < 0:
            raise SyscallError(errno.ENAMETOOLONG)
        return bytes(self.data[at:end])


class Kernel:
    def __init__(self):
        self.signals = []

    def send_signal(self, task, sig):
        self.signals.append(sig)


class Process:
    def __init__(self):
        self.kernel = Kernel()
        self.rlimits = host_rlimits()


class Task:
    def __init__(self):
        self.files = FdTable()
        self.creds = Creds(1000, 1000)
        self.mem = Memory()
        self.process = Process()
        self.progress = 0


def errno_of(fn, *args, **kwargs):
    with pytest.raises(SyscallError) as info:
        fn(*args, **kwargs)
    return errno.errorcode[info.value.errno]


@pytest.fixture
def task():
    t = Task()
    yield t
    t.files.close_range(0, t.files.limit - 1)


@pytest.fixture(autouse=True)
def noexec_scope_0(monkeypatch):
    """vm.memfd_noexec = 0, the default, whatever this machine says."""
    monkeypatch.setattr(memfd, "_noexec_scope", 0)


def new_memfd(flags=0, name=b"t"):
    return memfd.create(name, sys_memfd.memfd_flags(flags), Creds(1000, 1000))


def put_name(task, name):
    task.mem.write(BASE, name + b"\0")
    return BASE


def put_offset(task, at, pos):
    task.mem.write(at, pos.to_bytes(8, "little", signed=True))
    return at


def get_offset(task, at):
    return int.from_bytes(task.mem.read(at, 8), "little", signed=True)


# -- memfd_create ---------------------------------------------------------------------------
def test_a_memfd_is_a_nameless_regular_file_open_read_write_with_O_LARGEFILE():
    f = new_memfd()
    s = f.stat()
    assert st.S_ISREG(s.mode) and s.nlink == 0 and s.size == 0
    assert f.flags == os.O_RDWR | 0o100000
    assert (s.uid, s.gid) == (1000, 1000)
    f.release()


def test_proc_fd_link_of_a_memfd_reads_slash_memfd_NAME_deleted():
    f = new_memfd(name=b"a/b c")
    assert f.path() == b"/memfd:a/b c (deleted)"
    f.release()


def test_a_memfd_is_mode_0777_and_with_MFD_NOEXEC_SEAL_0666_sealed_against_exec():
    f, g = new_memfd(), new_memfd(MFD_NOEXEC_SEAL)
    assert f.stat().mode & 0o7777 == 0o777
    assert g.stat().mode & 0o7777 == 0o666
    assert memfd.get_seals(g) == F_SEAL_EXEC
    f.release()
    g.release()


def test_memfd_create_names_up_to_249_bytes_and_longer_ones_are_EINVAL(task):
    fd = sys_memfd.memfd_create(task, put_name(task, b"m" * 249), 0)
    assert task.files.get(fd).path() == b"/memfd:" + b"m" * 249 + b" (deleted)"
    assert errno_of(sys_memfd.memfd_create, task, put_name(task, b"m" * 250), 0) == "EINVAL"


def test_memfd_create_with_a_bad_name_pointer_is_EFAULT(task):
    assert errno_of(sys_memfd.memfd_create, task, 0, 0) == "EFAULT"


def test_memfd_create_with_MFD_CLOEXEC_sets_close_on_exec(task):
    fd = sys_memfd.memfd_create(task, put_name(task, b"x"), memfd.MFD_CLOEXEC)
    assert fd in task.files.cloexec


@pytest.mark.parametrize("flags", [0x100, 0xFFFFFFFF, MFD_EXEC | MFD_NOEXEC_SEAL, 21 << 26])
def test_unknown_memfd_flags_and_huge_page_sizes_without_MFD_HUGETLB_are_EINVAL(flags):
    assert errno_of(sys_memfd.memfd_flags, flags) == "EINVAL"


def test_vm_memfd_noexec_1_makes_memfds_noexec_sealed_and_2_refuses_MFD_EXEC(monkeypatch):
    monkeypatch.setattr(memfd, "_noexec_scope", 1)
    assert sys_memfd.memfd_flags(0) & MFD_NOEXEC_SEAL
    monkeypatch.setattr(memfd, "_noexec_scope", 2)
    assert errno_of(sys_memfd.memfd_flags, MFD_EXEC) == "EACCES"


def test_a_hugetlb_memfd_refuses_write_and_sizes_that_are_not_whole_huge_pages():
    try:
        f = new_memfd(MFD_HUGETLB)
    except SyscallError:
        pytest.skip("no hugetlb memfds on this machine")
    huge = f.stat().blksize
    assert errno_of(f.pwrite, b"x", 0) == "EINVAL"
    assert errno_of(f.inode.setattr, size=PAGE) == "EINVAL"
    f.inode.setattr(size=huge)
    assert f.stat().size == huge
    f.release()


# -- seals ---------------------------------------------------------------------------------
def test_a_memfd_without_MFD_ALLOW_SEALING_is_born_with_F_SEAL_SEAL():
    f = new_memfd()
    assert memfd.get_seals(f) == F_SEAL_SEAL
    assert errno_of(memfd.add_seals, f, F_SEAL_WRITE) == "EPERM"
    f.release()


def test_adding_seals_needs_a_file_open_for_writing():
    f = new_memfd(MFD_ALLOW_SEALING)
    ro = f.inode.open(f.dentry, os.O_RDONLY, None)
    assert errno_of(memfd.add_seals, ro, F_SEAL_WRITE) == "EPERM"
    assert memfd.get_seals(ro) == 0
    ro.release()
    f.release()


def test_unknown_seal_bits_are_EINVAL():
    f = new_memfd(MFD_ALLOW_SEALING)
    assert errno_of(memfd.add_seals, f, 0x100) == "EINVAL"
    f.release()


def test_F_SEAL_SEAL_stops_further_seals_even_none():
    f = new_memfd(MFD_ALLOW_SEALING)
    memfd.add_seals(f, F_SEAL_SEAL | F_SEAL_SHRINK)
    assert errno_of(memfd.add_seals, f, 0) == "EPERM"
    assert memfd.get_seals(f) == F_SEAL_SEAL | F_SEAL_SHRINK
    f.release()


def test_F_SEAL_WRITE_refuses_writes_and_hole_punching_but_not_truncation():
    f = new_memfd(MFD_ALLOW_SEALING)
    f.write(b"0123456789")
    memfd.add_seals(f, F_SEAL_WRITE)
    assert errno_of(f.pwrite, b"x", 0) == "EPERM"
    assert errno_of(f.inode.fallocate, 0x3, 0, 4) == "EPERM"        # PUNCH_HOLE | KEEP_SIZE
    f.inode.setattr(size=20)
    f.inode.setattr(size=5)
    assert f.pread(100, 0) == b"01234"
    f.release()


def test_F_SEAL_FUTURE_WRITE_refuses_writes():
    f = new_memfd(MFD_ALLOW_SEALING)
    memfd.add_seals(f, F_SEAL_FUTURE_WRITE)
    assert errno_of(f.pwrite, b"x", 0) == "EPERM"
    f.release()


def test_F_SEAL_SHRINK_refuses_a_smaller_size_and_F_SEAL_GROW_a_larger_one():
    f = new_memfd(MFD_ALLOW_SEALING)
    f.inode.setattr(size=30)
    memfd.add_seals(f, F_SEAL_SHRINK | F_SEAL_GROW)
    assert errno_of(f.inode.setattr, size=29) == "EPERM"
    assert errno_of(f.inode.setattr, size=31) == "EPERM"
    f.inode.setattr(size=30)
    f.release()


def test_F_SEAL_GROW_writes_the_pages_before_the_one_that_would_grow_the_file():
    f = new_memfd(MFD_ALLOW_SEALING)
    f.inode.setattr(size=5000)
    memfd.add_seals(f, F_SEAL_GROW)
    assert f.pwrite(b"q" * 10000, 100) == PAGE - 100
    assert errno_of(f.pwrite, b"q" * 10000, PAGE) == "EPERM"
    assert f.pwrite(b"q" * 904, PAGE) == 904
    assert f.stat().size == 5000
    f.release()


def test_F_SEAL_GROW_refuses_fallocate_past_the_end_even_with_FALLOC_FL_KEEP_SIZE():
    f = new_memfd(MFD_ALLOW_SEALING)
    memfd.add_seals(f, F_SEAL_GROW)
    assert errno_of(f.inode.fallocate, 0, 0, 100) == "EPERM"
    assert errno_of(f.inode.fallocate, 0x1, 0, 100) == "EPERM"
    f.release()


def test_F_SEAL_WRITE_while_a_writable_shared_mapping_exists_is_EBUSY():
    f = new_memfd(MFD_ALLOW_SEALING)
    f.inode.setattr(size=PAGE)
    m = mmap.mmap(f.mmap_fd(), PAGE, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
    assert errno_of(memfd.add_seals, f, F_SEAL_WRITE) == "EBUSY"
    assert memfd.get_seals(f) == 0
    m.close()
    memfd.add_seals(f, F_SEAL_WRITE)
    assert memfd.get_seals(f) == F_SEAL_WRITE
    f.release()


def test_a_write_sealed_memfd_cannot_be_mapped_shared_and_writable():
    f = new_memfd(MFD_ALLOW_SEALING)
    f.inode.setattr(size=PAGE)
    memfd.add_seals(f, F_SEAL_FUTURE_WRITE)
    with pytest.raises(PermissionError):
        mmap.mmap(f.mmap_fd(), PAGE, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
    mmap.mmap(f.mmap_fd(), PAGE, mmap.MAP_PRIVATE, mmap.PROT_READ | mmap.PROT_WRITE).close()
    f.release()


def test_F_SEAL_EXEC_on_an_executable_memfd_seals_writes_and_sizes_too():
    f = new_memfd(MFD_ALLOW_SEALING)
    memfd.add_seals(f, F_SEAL_EXEC)
    assert memfd.get_seals(f) == (F_SEAL_EXEC | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE
                                  | F_SEAL_FUTURE_WRITE)
    assert errno_of(f.inode.setattr, mode=0o666) == "EPERM"
    f.inode.setattr(mode=0o1777)                    # the x bits stay: allowed
    f.release()


def test_a_plain_tmpfs_file_reports_F_SEAL_SEAL_and_other_files_EINVAL():
    fs = TmpFS()
    node = fs.root_inode.create(b"f", 0o644, Creds())
    f = node.open(None, os.O_RDWR, None)
    assert memfd.get_seals(f) == F_SEAL_SEAL
    assert errno_of(memfd.add_seals, f, F_SEAL_WRITE) == "EPERM"
    r, w = make_pipe()
    assert errno_of(memfd.get_seals, r) == "EINVAL"
    assert errno_of(memfd.add_seals, w, F_SEAL_WRITE) == "EINVAL"
    for x in (f, r, w):
        x.release()


def test_seals_fcntl_on_an_O_PATH_descriptor_is_EBADF():
    f = new_memfd(MFD_ALLOW_SEALING)
    p = OpenFile(f.dentry, f.inode, 0o10000000)
    assert errno_of(sys_memfd.seals_fcntl, p, sys_memfd.F_GET_SEALS, 0) == "EBADF"
    f.release()


# -- copy_file_range -------------------------------------------------------------------------
IN, OUT = BASE + 256, BASE + 264


def two_memfds(task, data=b"ABCDEFGHIJKLMNOPQRSTUVWXYZ"):
    a, b = new_memfd(), new_memfd()
    a.pwrite(data, 0)
    return task.files.install(a), task.files.install(b)


def test_copy_file_range_without_offsets_advances_both_file_offsets(task):
    s, d = two_memfds(task)
    assert copy.copy_file_range(task, s, 0, d, 0, 100, 0) == 26
    assert task.files.get(s).offset == 26 and task.files.get(d).offset == 26
    assert copy.copy_file_range(task, s, 0, d, 0, 100, 0) == 0        # at EOF


def test_copy_file_range_with_offsets_moves_them_and_leaves_the_file_offsets(task):
    s, d = two_memfds(task)
    put_offset(task, IN, 10)
    put_offset(task, OUT, 5)
    assert copy.copy_file_range(task, s, IN, d, OUT, 6, 0) == 6
    assert (get_offset(task, IN), get_offset(task, OUT)) == (16, 11)
    assert task.files.get(s).offset == 0 and task.files.get(d).offset == 0
    assert task.files.get(d).pread(100, 0) == bytes(5) + b"KLMNOP"


def test_copy_file_range_of_more_than_a_chunk_copies_it_all(task, monkeypatch):
    monkeypatch.setattr(copy, "CHUNK", 7)
    data = bytes(range(256)) * 3
    s, d = two_memfds(task, data)
    assert copy.copy_file_range(task, s, 0, d, 0, 10000, 0) == len(data)
    assert task.files.get(d).pread(10000, 0) == data


def test_copy_file_range_with_flags_is_EINVAL(task):
    s, d = two_memfds(task)
    assert errno_of(copy.copy_file_range, task, s, 0, d, 0, 1, 1) == "EINVAL"


def test_copy_file_range_with_a_negative_offset_is_EOVERFLOW(task):
    s, d = two_memfds(task)
    assert errno_of(copy.copy_file_range, task, s, put_offset(task, IN, -1), d, 0, 10, 0) == "EOVERFLOW"


def test_copy_file_range_within_one_file_may_not_overlap(task):
    s, _ = two_memfds(task)
    put_offset(task, IN, 4)
    put_offset(task, OUT, 0)
    assert errno_of(copy.copy_file_range, task, s, IN, s, OUT, 8, 0) == "EINVAL"
    put_offset(task, OUT, 20)
    assert copy.copy_file_range(task, s, IN, s, OUT, 4, 0) == 4


def test_copy_file_range_between_filesystems_is_EXDEV(task):
    s, _ = two_memfds(task)
    node = TmpFS().root_inode.create(b"f", 0o644, Creds())
    d = task.files.install(node.open(None, os.O_RDWR, None))
    assert errno_of(copy.copy_file_range, task, s, 0, d, 0, 1, 0) == "EXDEV"


def test_copy_file_range_needs_read_then_write_access_and_no_O_APPEND(task):
    s, d = two_memfds(task)
    task.files.get(d).flags |= os.O_APPEND
    assert errno_of(copy.copy_file_range, task, s, 0, d, 0, 1, 0) == "EBADF"
    assert errno_of(copy.copy_file_range, task, 99, 0, s, 0, 1, 0) == "EBADF"


def test_copy_file_range_to_or_from_a_pipe_is_EINVAL(task):
    s, _ = two_memfds(task)
    r, w = make_pipe()
    rfd, wfd = task.files.install(r), task.files.install(w)
    assert errno_of(copy.copy_file_range, task, s, 0, wfd, 0, 1, 0) == "EINVAL"
    assert errno_of(copy.copy_file_range, task, rfd, 0, s, 0, 1, 0) == "EINVAL"


def test_copy_file_range_with_a_bad_offset_pointer_is_EFAULT(task):
    s, d = two_memfds(task)
    assert errno_of(copy.copy_file_range, task, s, 8, d, 0, 1, 0) == "EFAULT"


# -- sendfile ---------------------------------------------------------------------------------
def test_sendfile_without_an_offset_advances_the_input_offset(task):
    s, d = two_memfds(task)
    assert copy.sendfile(task, d, s, 0, 10) == 10
    assert task.files.get(s).offset == 10 and task.files.get(d).offset == 10


def test_sendfile_with_an_offset_updates_it_and_not_the_input_offset(task):
    s, d = two_memfds(task)
    put_offset(task, IN, 20)
    assert copy.sendfile(task, d, s, IN, 100) == 6
    assert get_offset(task, IN) == 26 and task.files.get(s).offset == 0
    assert task.files.get(d).pread(100, 0) == b"UVWXYZ"


def test_sendfile_of_0_bytes_is_0(task):
    s, d = two_memfds(task)
    assert copy.sendfile(task, d, s, 0, 0) == 0


def test_sendfile_to_an_O_APPEND_file_is_EINVAL(task):
    s, d = two_memfds(task)
    task.files.get(d).flags |= os.O_APPEND
    assert errno_of(copy.sendfile, task, d, s, 0, 10) == "EINVAL"


def test_sendfile_with_a_negative_offset_is_EINVAL(task):
    s, d = two_memfds(task)
    assert errno_of(copy.sendfile, task, d, s, put_offset(task, IN, -1), 10) == "EINVAL"


def test_sendfile_from_a_pipe_is_EINVAL_and_with_an_offset_ESPIPE(task):
    _, d = two_memfds(task)
    r, w = make_pipe()
    rfd = task.files.install(r)
    task.files.install(w)
    assert errno_of(copy.sendfile, task, d, rfd, 0, 10) == "EINVAL"
    assert errno_of(copy.sendfile, task, d, rfd, put_offset(task, IN, 0), 10) == "ESPIPE"


def test_sendfile_into_a_pipe_writes_once_what_fits(task):
    a = new_memfd()
    a.pwrite(b"x" * (PIPE_DEFAULT_SIZE + 100), 0)
    s = task.files.install(a)
    r, w = make_pipe()
    task.files.install(r)
    wfd = task.files.install(w)
    assert copy.sendfile(task, wfd, s, 0, PIPE_DEFAULT_SIZE + 100) == PIPE_DEFAULT_SIZE
    assert task.files.get(s).offset == PIPE_DEFAULT_SIZE
    with pytest.raises(WouldBlock):
        copy.sendfile(task, wfd, s, 0, 10)
    w.flags |= os.O_NONBLOCK
    assert errno_of(copy.sendfile, task, wfd, s, 0, 10) == "EAGAIN"


def test_sendfile_into_a_pipe_without_readers_is_EPIPE_and_SIGPIPE(task):
    s, _ = two_memfds(task)
    r, w = make_pipe()
    wfd = task.files.install(w)
    r.release()
    assert errno_of(copy.sendfile, task, wfd, s, 0, 10) == "EPIPE"
    assert task.process.kernel.signals == [13]


class Trickle(OpenFile):
    """A writable stream that takes `step` bytes, then must be waited for once."""

    def __init__(self, step):
        super().__init__(None, None, os.O_WRONLY)
        self.step, self.got, self.ready = step, b"", True

    def write(self, data):
        if not self.ready:
            self.ready = True
            raise WouldBlock()
        self.ready = False
        self.got += data[:self.step]
        return min(len(data), self.step)


def test_sendfile_that_waits_part_way_goes_on_where_it_stopped(task, monkeypatch):
    monkeypatch.setattr(copy, "CHUNK", 4)
    s, _ = two_memfds(task)
    out = Trickle(3)
    d = task.files.install(out)
    for _ in range(100):
        try:
            n = copy.sendfile(task, d, s, 0, 20)
            break
        except WouldBlock:
            pass
    assert n == 20 and out.got == b"ABCDEFGHIJKLMNOPQRST"
    assert task.files.get(s).offset == 20 and task.progress == 0
