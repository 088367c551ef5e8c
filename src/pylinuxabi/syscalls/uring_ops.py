"""io_uring's opcodes (DESIGN §7): what each SQE asks, as the syscall that does it.

An opcode's function gets the Request (syscalls/io_uring.py): its copied SQE, its ring
and its worker, a Task of its own over the submitting thread. Most call the handler of
their syscall with the SQE's fields in that syscall's argument order (READ is read or
pread64, OPENAT is openat…), so every rule and errno is the syscall's; a function
returns the result, raises SyscallError (the CQE's -errno) or WouldBlock (the request
waits), or returns None for a request that completes later by itself (TIMEOUT).
"""
import collections
import errno
import functools
import struct
import time

from pylinuxabi.base.abi import TIMESPEC, signed32
from pylinuxabi.base.errors import SyscallError, WouldBlock, check
from pylinuxabi.syscalls import attr, epoll as epollsys, fd as fdsys, fs, namei as nameisys, net, splice, xattr
from pylinuxabi.syscalls.poll import RECHECK
from pylinuxabi.syscalls.splice import SPLICE_F_ALL
from pylinuxabi.vfs.file import POLLERR, POLLHUP, POLLIN, POLLOUT
from pylinuxabi.vfs.io_uring import Ring

# SQE flags
IOSQE_FIXED_FILE, IOSQE_IO_DRAIN, IOSQE_IO_LINK, IOSQE_IO_HARDLINK = 1, 2, 4, 8
IOSQE_ASYNC, IOSQE_BUFFER_SELECT, IOSQE_CQE_SKIP_SUCCESS = 16, 32, 64
SQE_FLAGS = 0x7F
FIXED_FD = 1 << 31          # the fd a handler is given for a registered file (no SQE's fd is it)

IORING_FSYNC_DATASYNC = 1
IORING_CQE_F_BUFFER, IORING_CQE_F_MORE, IORING_CQE_F_SOCK_NONEMPTY = 1, 2, 4
IORING_CQE_BUFFER_SHIFT = 16
IORING_RECV_MULTISHOT = 2           # (in ioprio)
IORING_ACCEPT_MULTISHOT = 1         # (in ioprio)
MAX_BIDS_PER_BGID = 1 << 16
PROVIDED_MAX = 1 << 20              # provided buffers a ring holds, at most (ENOMEM past it)
IORING_TIMEOUT_ABS = 1
IORING_POLL_ADD_MULTI = 1
IORING_ASYNC_CANCEL_ALL, IORING_ASYNC_CANCEL_FD, IORING_ASYNC_CANCEL_ANY = 1, 2, 4
IORING_ASYNC_CANCEL_FD_FIXED, IORING_ASYNC_CANCEL_USERDATA, IORING_ASYNC_CANCEL_OP = 8, 16, 32
CANCEL_FLAGS = 0x3F
RWF_HIPRI, RWF_DSYNC, RWF_SYNC, RWF_NOWAIT = 1, 2, 4, 8
SPLICE_F_FD_IN_FIXED = 1 << 31
IORING_FIXED_FD_NO_CLOEXEC = 1
IORING_REGISTER_FILES_SKIP = -2
IORING_FILE_INDEX_ALLOC = 0xFFFFFFFF      # (as a u32 in file_index, or off's low word as -1)
IORING_MSG_DATA, IORING_MSG_SEND_FD = 0, 1
IORING_MSG_RING_CQE_SKIP, IORING_MSG_RING_FLAGS_PASS = 1, 2
RW_FLAGS = RWF_HIPRI | RWF_DSYNC | RWF_SYNC | RWF_NOWAIT      # (RWF_APPEND is not built: EOPNOTSUPP)


class Op:
    """One opcode: its name and function, whether it is a read or write (RWF_NOWAIT,
    a short transfer fails a link) and whether it takes the SQE's fd as a file."""

    __slots__ = ("name", "fn", "rw", "short_fails", "file", "ioprio", "buffer_select", "multishot", "prep",
                 "woken", "polls", "nowait")

    def __init__(self, name, fn, rw=False, short_fails=False, file=True, ioprio=False, buffer_select=False,
                 multishot=lambda req: False, prep=None, woken=None, polls=0, nowait=lambda req: False):
        self.name, self.fn, self.rw, self.short_fails, self.file = name, fn, rw, short_fails, file
        self.ioprio = ioprio or rw      # may the SQE's ioprio be set (io_issue_def.ioprio)?
        # may it take a provided buffer (IOSQE_BUFFER_SELECT)? in its SQE's addr and len, or
        # ("msghdr") in req.buffer, its addr being a msghdr
        self.buffer_select = buffer_select
        self.multishot = multishot      # does this request stay armed after a result (CQE_F_MORE)?
        self.prep = prep                # checks made when it is submitted (refused: the submission ends)
        self.woken = woken              # what it notes when its wait is told, before anything runs
        # io_issue_def.pollin/pollout: on EAGAIN it waits for these events (io_arm_poll_handler),
        # whatever O_NONBLOCK says, unless the SQE asks not to (`nowait`)
        self.polls = polls
        self.nowait = nowait


def s64(v):
    return v - (1 << 64) if v >= 1 << 63 else v


def _fd(req):
    """The fd a handler is given: the SQE's, or FIXED_FD for a registered file."""
    return FIXED_FD if req.sqe.flags & IOSQE_FIXED_FILE else req.sqe.fd


def _rw_offset(req):
    """The request's offset: -1 (the file's position) for a stream or when asked."""
    off = s64(req.sqe.off)
    check(off >= -1, errno.EINVAL)
    f = req.worker.files.get_file(_fd(req))
    return -1 if off == -1 or not f.seekable() else off


def _transfer(stream, positioned, req):
    """READ and WRITE: the stream call (read, write) at the file's position for offset
    -1 or a stream, else the positioned one (pread64, pwrite64)."""
    s = req.sqe
    check(not s.op_flags & ~RW_FLAGS, errno.EOPNOTSUPP)
    off = _rw_offset(req)
    if off == -1:
        return stream(req.worker, _fd(req), s.addr, s.len)
    return positioned(req.worker, _fd(req), s.addr, s.len, off)


def _vectored(call, req):
    """READV and WRITEV: preadv2 or pwritev2, offset -1 meaning the file's position. The
    iovecs are imported before the file is looked at (io_prep_rwv: EFAULT before EBADF)."""
    s = req.sqe
    check(not s.op_flags & ~RW_FLAGS, errno.EOPNOTSUPP)
    fdsys.read_iovec(req.worker, s.addr, s.len)
    return call(req.worker, _fd(req), s.addr, s.len, _rw_offset(req), 0, 0)


_read = functools.partial(_transfer, fdsys.read, fdsys.pread64)
_write = functools.partial(_transfer, fdsys.write, fdsys.pwrite64)
_readv = functools.partial(_vectored, fdsys.preadv2)
_writev = functools.partial(_vectored, fdsys.pwritev2)


def _fixed(req):
    """READ_FIXED, WRITE_FIXED: the range must lie in registered buffer buf_index."""
    s, buffers = req.sqe, req.ring.buffers
    check(s.buf_index < len(buffers), errno.EFAULT)
    base, length = buffers[s.buf_index]
    check(base <= s.addr and s.addr + s.len <= base + length, errno.EFAULT)


def _read_fixed(req):
    _fixed(req)
    return _read(req)


def _write_fixed(req):
    _fixed(req)
    return _write(req)


IORING_NOP_INJECT_RESULT, IORING_NOP_FILE, IORING_NOP_FIXED_FILE, IORING_NOP_FIXED_BUFFER = 1, 2, 4, 8
NOP_FLAGS = 0x1F                    # (and IORING_NOP_TW: how it completes, nothing to see)


def _nop_prep(req):
    check(not req.sqe.op_flags & ~NOP_FLAGS, errno.EINVAL)


def _nop(req):
    """io_nop: 0, or the result in len (IORING_NOP_INJECT_RESULT); with IORING_NOP_FILE it
    looks its fd up (a registered one with NOP_FIXED_FILE), with NOP_FIXED_BUFFER the
    registered buffer buf_index (EFAULT)."""
    s, flags = req.sqe, req.sqe.op_flags
    if flags & IORING_NOP_FILE:
        if flags & IORING_NOP_FIXED_FILE:
            check(0 <= s.fd < len(req.ring.files) and req.ring.files[s.fd] is not None, errno.EBADF)
        else:
            req.worker.files.get(s.fd)
    if flags & IORING_NOP_FIXED_BUFFER:
        check(s.buf_index < len(req.ring.buffers), errno.EFAULT)
    return signed32(s.len) if flags & IORING_NOP_INJECT_RESULT else 0


def _fsync(req):
    check(not req.sqe.op_flags & ~IORING_FSYNC_DATASYNC, errno.EINVAL)
    if req.sqe.op_flags & IORING_FSYNC_DATASYNC:
        return attr.fdatasync(req.worker, _fd(req))
    return attr.fsync(req.worker, _fd(req))


def _sync_file_range(req):
    s = req.sqe
    return attr.sync_file_range(req.worker, _fd(req), s64(s.off), s.len, s.op_flags)


O_CLOEXEC = 0o2000000


def _openat_prep(req):
    """__io_openat_prep: a direct open (file_index) may not ask O_CLOEXEC."""
    s = req.sqe
    check(not s.buf_index, errno.EINVAL)
    check(not s.flags & IOSQE_FIXED_FILE, errno.EBADF)
    flags = signed32(s.op_flags) if OPS[s.opcode].name == "OPENAT" else fs.read_open_how(req.worker, s.off, s.len, limit=None)[0]
    check(not (s.file_index and flags & O_CLOEXEC), errno.EINVAL)


def _openat(req):
    s = req.sqe
    return _direct(req, fs.openat(req.worker, s.fd, s.addr, signed32(s.op_flags), s.len))


def _openat2(req):
    s = req.sqe
    return _direct(req, fs.openat2(req.worker, s.fd, s.addr, s.off, s.len, limit=None))


def _direct(req, fd):
    """An fd a request opened (or accepted, or made a socket of): with the SQE's file_index
    the file goes to the ring's registered-file table instead, a direct descriptor."""
    if not req.sqe.file_index or fd < 0:
        return fd
    return install_direct(req.ring, req.worker.files.detach(fd), req.sqe.file_index)


def install_direct(ring, f, file_index):
    """io_fixed_fd_install: f (its reference taken) into registered-file slot file_index - 1,
    or with IORING_FILE_INDEX_ALLOC into the first free one: 0, or that slot. An error
    (ENXIO: no table; EINVAL: past its end; ENFILE: none free) lets f go."""
    try:
        check(ring.files, errno.ENXIO)
        alloc = file_index & 0xFFFFFFFF == IORING_FILE_INDEX_ALLOC      # (file_index shares splice_fd_in's s32)
        slot = free_slot(ring) if alloc else file_index - 1
        check(0 <= slot < len(ring.files), errno.EINVAL)
    except SyscallError:
        f.put()
        raise
    set_slot(ring, slot, f)
    return slot if alloc else 0


def _close_prep(req):
    s = req.sqe
    check(not s.off and not s.addr and not s.len and not s.op_flags and not s.buf_index, errno.EINVAL)
    check(not s.flags & IOSQE_FIXED_FILE, errno.EBADF)
    check(not (s.file_index and s.fd), errno.EINVAL)


def _close(req):
    """CLOSE of an fd, or with file_index of a direct descriptor (io_close_fixed)."""
    s = req.sqe
    if s.file_index:
        files, slot = req.ring.files, s.file_index - 1
        check(files, errno.ENXIO)
        check(0 <= slot < len(files), errno.EINVAL)
        check(files[slot] is not None, errno.EBADF)
        set_slot(req.ring, slot, None)
        return 0
    f = req.worker.files.get(s.fd)
    check(not isinstance(f, Ring), errno.EBADF)         # a ring cannot close itself this way
    return fdsys.close(req.worker, s.fd)


def _statx(req):
    s = req.sqe
    return fs.statx(req.worker, s.fd, s.addr, signed32(s.op_flags), s.len, s.off)


def _renameat(req):
    s = req.sqe
    return nameisys.renameat2(req.worker, s.fd, s.addr, signed32(s.len), s.off, s.op_flags)


def _unlinkat(req):
    s = req.sqe
    return nameisys.unlinkat(req.worker, s.fd, s.addr, signed32(s.op_flags))


def _mkdirat(req):
    s = req.sqe
    return nameisys.mkdirat(req.worker, s.fd, s.addr, s.len)


def _symlinkat(req):
    s = req.sqe
    return nameisys.symlinkat(req.worker, s.addr, s.fd, s.off)


def _linkat(req):
    s = req.sqe
    return nameisys.linkat(req.worker, s.fd, s.addr, signed32(s.len), s.off, signed32(s.op_flags))


def _ftruncate(req):
    s = req.sqe
    return attr.ftruncate(req.worker, _fd(req), s64(s.off))


def _fallocate(req):
    s = req.sqe
    return attr.fallocate(req.worker, _fd(req), signed32(s.len), s64(s.off), s64(s.addr))


def _fadvise(req):
    s = req.sqe
    return fdsys.fadvise64(req.worker, _fd(req), s64(s.off), s64(s.addr) or s.len, signed32(s.op_flags))


def _send(req):
    s = req.sqe
    return net.sendto(req.worker, _fd(req), s.addr, s.len, s.op_flags, 0, 0)


def _recv(req):
    """recv (and IORING_CQE_F_SOCK_NONEMPTY); a multishot one
    (IORING_RECV_MULTISHOT) takes a provided buffer each time."""
    s = req.sqe
    check(not s.ioprio & ~IORING_RECV_MULTISHOT, errno.EINVAL)
    check(not s.ioprio or s.flags & IOSQE_BUFFER_SELECT, errno.EINVAL)
    return _nonempty(req, net.recvfrom(req.worker, _fd(req), s.addr, s.len, s.op_flags, 0, 0))


def _nonempty(req, n):
    """IORING_CQE_F_SOCK_NONEMPTY after a receive, as io_recv_finish sets it from msg_inq."""
    try:
        if req.worker.files.get_file(_fd(req)).inq_hint() > 0:
            req.cflags |= IORING_CQE_F_SOCK_NONEMPTY
    except SyscallError:
        pass
    return n


def _sendmsg(req):
    return net.sendmsg(req.worker, _fd(req), req.sqe.addr, req.sqe.op_flags)


def _recvmsg(req):
    """recvmsg; with IOSQE_BUFFER_SELECT into the provided buffer (req.buffer)."""
    into = req.buffer if req.in_buffer else None
    return _nonempty(req, net.recvmsg(req.worker, _fd(req), req.sqe.addr, req.sqe.op_flags, into))


def _accept_prep(req):
    """io_accept_prep: a direct accept may not ask SOCK_CLOEXEC; a multishot one into
    direct descriptors takes free slots (IORING_FILE_INDEX_ALLOC)."""
    s = req.sqe
    check(not s.len and not s.buf_index, errno.EINVAL)
    check(not s.ioprio & ~(IORING_ACCEPT_MULTISHOT | IORING_ACCEPT_DONTWAIT), errno.EINVAL)
    if s.file_index:
        check(not signed32(s.op_flags) & O_CLOEXEC, errno.EINVAL)
        check(not s.ioprio & IORING_ACCEPT_MULTISHOT or s.file_index & 0xFFFFFFFF == IORING_FILE_INDEX_ALLOC,
              errno.EINVAL)


def _accept(req):
    s = req.sqe
    return _direct(req, net.accept4(req.worker, _fd(req), s.addr, s.off, signed32(s.op_flags)))


def _connect(req):
    s = req.sqe
    return net.connect(req.worker, _fd(req), s.addr, signed32(s.off))


def _unused(*fields):
    """A prep that refuses the SQE fields the opcode does not use (EINVAL)."""
    def prep(req):
        s = req.sqe
        check(not any(getattr(s, f) for f in fields), errno.EINVAL)
    return prep


def _shutdown(req):
    return net.shutdown(req.worker, _fd(req), signed32(req.sqe.len))


def _socket(req):
    s = req.sqe
    check(not (s.file_index and signed32(s.off) & O_CLOEXEC), errno.EINVAL)     # (SOCK_CLOEXEC is O_CLOEXEC)
    return _direct(req, net.socket(req.worker, s.fd, signed32(s.off), signed32(s.len)))


def _epoll_ctl(req):
    s = req.sqe
    return epollsys.epoll_ctl(req.worker, s.fd, signed32(s.len), signed32(s.off), s.addr)


def _splice_in(req):
    """SPLICE's and TEE's input: splice_fd_in, a registered file with SPLICE_F_FD_IN_FIXED."""
    s = req.sqe
    if s.op_flags & SPLICE_F_FD_IN_FIXED:
        files = req.ring.files
        check(0 <= s.file_index < len(files) and files[s.file_index] is not None, errno.EBADF)
        return files[s.file_index]
    return req.worker.files.get_file(s.file_index)


def _splice_ends(req):
    """SPLICE's and TEE's flags checked; their (input, output) files."""
    s = req.sqe
    check(not s.op_flags & ~(SPLICE_F_ALL | SPLICE_F_FD_IN_FIXED), errno.EINVAL)
    return _splice_in(req), req.worker.files.get_file(_fd(req))


def _splice(req):
    """splice between files with offsets given as values (-1: the file's own)."""
    s = req.sqe
    fin, fout = _splice_ends(req)       # (a length of 0 is 0, once the files are found)
    if not s.len:
        return 0
    off_in, off_out = s64(s.addr), s64(s.off)
    n, _ = splice.splice_files(req.worker, fin, fout, None if off_in == -1 else off_in,
                               None if off_out == -1 else off_out, s.len, s.op_flags & SPLICE_F_ALL)
    return splice.notify_splice(fin, fout, n)


def _tee(req):
    s = req.sqe
    fin, fout = _splice_ends(req)
    if not s.len:
        return 0
    return splice.tee_files(req.worker, fin, fout, s.len, s.op_flags & SPLICE_F_ALL)


def file_for_table(task, fd):
    """A file a table slot may hold (io_uring's own rings may not be registered)."""
    if fd == -1:
        return None
    f = task.files.get_file(fd)
    check(not isinstance(f, Ring), errno.EBADF)
    f.get()
    return f


def update_files(task, ring, offset, fds_addr, nr):
    """Registered-file slots from `offset` on get the files of the fds at fds_addr (-1
    empties one, IORING_REGISTER_FILES_SKIP leaves it): how many were done, or the
    error that stopped the first (__io_sqe_files_update)."""
    check(ring.files, errno.ENXIO)
    check(offset + nr <= len(ring.files), errno.EINVAL)
    done = 0
    try:
        for done in range(nr):
            fd = struct.unpack("<i", task.mem.read(fds_addr + 4 * done, 4))[0]
            if fd == IORING_REGISTER_FILES_SKIP:
                continue
            f = file_for_table(task, fd)
            if ring.files[offset + done] is not None:       # (__io_sqe_files_update: cleared, then set)
                set_slot(ring, offset + done, None)
            if f is not None:
                set_slot(ring, offset + done, f)
        done = nr
    except SyscallError:
        if not done:
            raise
    return done


def _files_update_prep(req):
    s = req.sqe
    check(not s.flags & IOSQE_FIXED_FILE and not s.op_flags and not s.file_index, errno.EINVAL)
    check(s.len, errno.EINVAL)


def _files_update(req):
    """FILES_UPDATE: update_files from an SQE (fds at addr, len of them, from slot off);
    with IORING_FILE_INDEX_ALLOC each fd goes to a free slot, whose number is written
    back in its place (ENFILE once none is left)."""
    s = req.sqe
    offset = s.off & 0xFFFFFFFF             # (io_rsrc_update.offset is a u32)
    if offset == IORING_FILE_INDEX_ALLOC:
        return _files_update_alloc(req)
    return update_files(req.worker, req.ring, offset, s.addr, s.len)


def _files_update_alloc(req):
    s, ring, task = req.sqe, req.ring, req.worker
    check(ring.files, errno.ENXIO)
    done = 0
    try:
        for done in range(s.len):
            fd = struct.unpack("<i", task.mem.read(s.addr + 4 * done, 4))[0]
            slot = free_slot(ring)
            f = file_for_table(task, fd)
            try:
                task.mem.write(s.addr + 4 * done, struct.pack("<i", slot))
            except SyscallError:
                f.put()
                raise
            set_slot(ring, slot, f)
        done = s.len
    except SyscallError:
        if not done:
            raise
    return done


def free_slot(ring):
    """An empty registered-file slot (ENFILE if there is none), as io_file_bitmap_get
    finds it: the first from the hint (where the last slot was filled or emptied) on,
    then from the start."""
    files, hint = ring.files, min(ring.alloc_hint, len(ring.files))
    for start, end in ((hint, len(files)), (0, hint)):
        slot = next((i for i in range(start, end) if files[i] is None), None)
        if slot is not None:
            return slot
    raise SyscallError(errno.ENFILE)


def set_slot(ring, slot, f):
    """Registered-file slot `slot` holds f (None: emptied); what it held goes. The hint
    for free_slot follows (io_file_bitmap_set: past a slot filled; _clear: a slot
    emptied); a file replacing another leaves it."""
    old, ring.files[slot] = ring.files[slot], f
    if old is None and f is not None:
        ring.alloc_hint = slot + 1
    elif old is not None and f is None:
        ring.alloc_hint = slot
    if old is not None:
        old.put()


def _xattr_prep(req):
    check(not req.sqe.ioprio and not req.sqe.buf_index and not req.sqe.file_index, errno.EINVAL)


def _fsetxattr(req):
    s = req.sqe
    return xattr.fsetxattr(req.worker, _fd(req), s.addr, s.off, s.len, signed32(s.op_flags))


def _setxattr(req):
    s = req.sqe
    return xattr.setxattr(req.worker, s.addr3, s.addr, s.off, s.len, signed32(s.op_flags))


def _fgetxattr(req):
    s = req.sqe
    check(not s.op_flags, errno.EINVAL)
    return xattr.fgetxattr(req.worker, _fd(req), s.addr, s.off, s.len)


def _getxattr(req):
    s = req.sqe
    check(not s.op_flags, errno.EINVAL)
    return xattr.getxattr(req.worker, s.addr3, s.addr, s.off, s.len)


def _msg_ring_prep(req):
    s = req.sqe
    check(not s.buf_index and not s.personality, errno.EINVAL)


def _msg_ring(req):
    """MSG_RING: a CQE posted in another ring (IORING_MSG_DATA: res len, user_data off,
    flags file_index with FLAGS_PASS), or a registered file of ours put in its table
    (IORING_MSG_SEND_FD: from our slot addr3 to its slot file_index - 1, or a free one
    with IORING_FILE_INDEX_ALLOC; res 0, or the slot)."""
    s = req.sqe
    target = req.worker.files.get_file(_fd(req))
    check(isinstance(target, Ring), errno.EBADFD)
    if s.addr == IORING_MSG_DATA:
        check(not s.addr3 and not s.op_flags & ~IORING_MSG_RING_FLAGS_PASS, errno.EINVAL)
        check(not s.file_index or s.op_flags & IORING_MSG_RING_FLAGS_PASS, errno.EINVAL)
        check(target.enabled, errno.EBADFD)
        flags = s.file_index if s.op_flags & IORING_MSG_RING_FLAGS_PASS else 0
        target.requests.post_data(s.off, signed32(s.len), flags)
        return 0
    if s.addr == IORING_MSG_SEND_FD:
        return _msg_send_fd(req, target)
    raise SyscallError(errno.EINVAL)


def _msg_send_fd(req, target):
    s = req.sqe
    check(not s.len and not s.op_flags & ~(IORING_MSG_RING_CQE_SKIP | IORING_MSG_RING_FLAGS_PASS), errno.EINVAL)
    check(target is not req.ring, errno.EINVAL)
    files = req.ring.files
    check(s.addr3 < len(files) and files[s.addr3] is not None, errno.EBADF)
    check(target.enabled, errno.EBADFD)
    f = files[s.addr3]
    f.get()
    res = install_direct(target, f, s.file_index)
    if not s.op_flags & IORING_MSG_RING_CQE_SKIP:
        target.requests.post_data(s.off, res)
    return res


def _bind(req):
    s = req.sqe
    return net.bind(req.worker, _fd(req), s.addr, signed32(s.off))


def _listen(req):
    return net.listen(req.worker, _fd(req), signed32(req.sqe.len))


def _fixed_fd_install_prep(req):
    s = req.sqe
    check(not (s.off or s.addr or s.len or s.buf_index or s.file_index or s.addr3), errno.EINVAL)
    check(s.flags & IOSQE_FIXED_FILE, errno.EBADF)
    check(not s.op_flags & ~IORING_FIXED_FD_NO_CLOEXEC, errno.EINVAL)
    check(not s.personality, errno.EPERM)         # (io_install_fixed_fd_prep: REQ_F_CREDS)


def _fixed_fd_install(req):
    """A registered file installed in the fd table: the new fd (close-on-exec unless
    IORING_FIXED_FD_NO_CLOEXEC)."""
    f = req.held[1]
    f.get()
    return req.worker.files.install_new(f, cloexec=not req.sqe.op_flags & IORING_FIXED_FD_NO_CLOEXEC)


def _pipe(req):
    """PIPE: pipe2 into the two ints at addr (direct descriptors are not built)."""
    s = req.sqe
    check(not s.file_index and not s.off and not s.len, errno.EINVAL)
    return fdsys.pipe2(req.worker, s.addr, signed32(s.op_flags))


def _read_multishot_prep(req):
    s = req.sqe
    check(s.flags & IOSQE_BUFFER_SELECT, errno.EINVAL)
    check(not s.op_flags, errno.EINVAL)


def _read_multishot(req):
    """A read of a pollable file into a provided buffer each time there is data, until
    EOF or an error (regular files: EBADFD)."""
    f = req.worker.files.get_file(_fd(req))
    check(f.can_poll() and not f.seekable(), errno.EBADFD)
    return fdsys.read(req.worker, _fd(req), req.sqe.addr, req.sqe.len)


def _poll_add(req):
    """A poll: the events that are there (32 bits), else a wait on the file. A multishot
    one (IORING_POLL_ADD_MULTI) reports again at each wake-up that finds events."""
    s = req.sqe
    check(not s.len & ~IORING_POLL_ADD_MULTI, errno.EINVAL)
    f = req.worker.files.get_file(_fd(req))
    events = s.op_flags | POLLERR | POLLHUP
    ready = (f.poll() | req.seen) & events
    req.seen = 0
    if ready and not req.reported:
        req.reported = True     # (a multishot poll's next report waits for a wake-up)
        return ready
    req.reported = False
    raise WouldBlock(f.wait_queues(), file=f, host=f.host_waits(events))


def _poll_woken(req):
    """The events there when the poll's wait was told: it reports them even if a request
    woken with it takes the data first (io_poll_wake keeps the wake-up's mask)."""
    if req.held is not None:
        req.seen = req.held[1].poll()


def _provide_buffers_prep(req):
    """io_provide_buffers_prep: nbufs (the fd field) buffers of len bytes from addr, ids
    from off up; refused when the request is prepared."""
    s = req.sqe
    check(not s.op_flags and not s.file_index, errno.EINVAL)
    check(0 < s.fd <= MAX_BIDS_PER_BGID, errno.E2BIG)
    check(s.len, errno.EINVAL)
    check(s.addr + s.len * s.fd < 1 << 64, errno.EOVERFLOW)
    fdsys.access_ok(s.addr, s.len * s.fd)
    check(s.off <= 0xFFFF, errno.E2BIG)
    check(s.off + s.fd <= MAX_BIDS_PER_BGID, errno.EINVAL)


def _provide_buffers(req):
    """The buffers join group buf_index, after those it has (ENOMEM past what a ring
    may hold, PROVIDED_MAX)."""
    s, ring = req.sqe, req.ring
    check(s.buf_index not in ring.buffer_rings, errno.EINVAL)      # (a buffer ring's group)
    check(ring.provided + s.fd <= PROVIDED_MAX, errno.ENOMEM)
    group = ring.buffer_groups.setdefault(s.buf_index, collections.deque())
    group.extend((s.addr + i * s.len, s.len, s.off + i) for i in range(s.fd))
    ring.provided += s.fd
    return 0


def _remove_buffers_prep(req):
    s = req.sqe
    check(not (s.op_flags or s.addr or s.len or s.off or s.file_index), errno.EINVAL)
    check(0 < s.fd <= MAX_BIDS_PER_BGID, errno.EINVAL)


def _remove_buffers(req):
    """Up to nbufs buffers of group buf_index gone (the last given first): how many;
    -ENOENT for a group never given any."""
    s, ring = req.sqe, req.ring
    check(s.buf_index not in ring.buffer_rings, errno.EINVAL)
    group = ring.buffer_groups.get(s.buf_index)
    if group is None:
        return -errno.ENOENT
    n = min(s.fd, len(group))
    for _ in range(n):
        group.pop()
    ring.provided -= n
    return n


def _poll_remove(req):
    target = req.sqe.addr
    if req.ring.requests.cancel(lambda r: r.op.name == "POLL_ADD", user_data=target):
        return 0
    return -errno.ENOENT


def _async_cancel_prep(req):
    """io_async_cancel_prep: ANY takes no other key."""
    s = req.sqe
    check(not s.off and not s.file_index, errno.EINVAL)
    check(not s.op_flags & ~CANCEL_FLAGS, errno.EINVAL)
    if s.op_flags & IORING_ASYNC_CANCEL_ANY:
        check(not s.op_flags & (IORING_ASYNC_CANCEL_FD | IORING_ASYNC_CANCEL_OP), errno.EINVAL)


def _async_cancel(req):
    """io_async_cancel: ALL and ANY answer how many were cancelled (0 included); else 0,
    or -ENOENT when none matched."""
    s = req.sqe
    flags = s.op_flags
    found = cancel_requests(req.ring, req.worker, flags, s.addr, s.fd, s.len, exclude=req)
    if flags & (IORING_ASYNC_CANCEL_ALL | IORING_ASYNC_CANCEL_ANY):
        return found
    return 0 if found else -errno.ENOENT


def cancel_requests(ring, worker, flags, user_data, fd, opcode, exclude=None):
    """The waiting requests and TIMEOUTs that match (io_cancel_req_match: ANY all, else
    the file of FD, the opcode of OP, and user_data unless FD or OP alone) cancelled
    with -ECANCELED, the first or (ALL, ANY) all of them: how many."""
    requests = ring.requests
    by_data = False
    if flags & IORING_ASYNC_CANCEL_ANY:
        match = lambda r: r is not exclude
    else:
        file = _cancel_file(ring, worker, flags, fd) if flags & IORING_ASYNC_CANCEL_FD else None
        by_data = not flags & (IORING_ASYNC_CANCEL_FD | IORING_ASYNC_CANCEL_OP) or flags & IORING_ASYNC_CANCEL_USERDATA

        def match(r):
            return ((file is None or _file_of(r) is file)
                    and (not flags & IORING_ASYNC_CANCEL_OP or r.sqe.opcode == opcode)
                    and (not by_data or r.user_data == user_data))
    everything = bool(flags & (IORING_ASYNC_CANCEL_ALL | IORING_ASYNC_CANCEL_ANY))
    only = user_data if by_data else None
    found = requests.cancel(match, everything, user_data=only)
    for t in [t for t in requests.timeouts if match(t)][:None if everything else max(0, 1 - found)]:
        requests.end_timeout(t, -errno.ECANCELED)
        found += 1
    return found


def _cancel_file(ring, worker, flags, fd):
    """CANCEL_FD's file: the fd's, or with CANCEL_FD_FIXED a registered one."""
    if flags & IORING_ASYNC_CANCEL_FD_FIXED:
        check(0 <= fd < len(ring.files) and ring.files[fd] is not None, errno.EBADF)
        return ring.files[fd]
    return worker.files.get(fd)


def _file_of(req):
    """The file a waiting request holds (the fdget it made), else its fd's now."""
    if req.held is not None:
        return req.held[1]
    try:
        return req.worker.files.get(req.sqe.fd)
    except SyscallError:
        return None


IORING_TIMEOUT_BOOTTIME, IORING_TIMEOUT_REALTIME = 1 << 2, 1 << 3
IORING_TIMEOUT_ETIME_SUCCESS, IORING_TIMEOUT_MULTISHOT = 1 << 5, 1 << 6
TIMEOUT_FLAGS = (IORING_TIMEOUT_ABS | IORING_TIMEOUT_BOOTTIME | IORING_TIMEOUT_REALTIME
                 | IORING_TIMEOUT_ETIME_SUCCESS | IORING_TIMEOUT_MULTISHOT)


def _timeout(req):
    """A timer that ends with -ETIME, or with 0 once `off` other requests have completed;
    IORING_TIMEOUT_MULTISHOT: one -ETIME with IORING_CQE_F_MORE every interval, `off`
    times (0: until removed), the last without MORE."""
    s = req.sqe
    interval = _read_timeout(req)
    requests = req.ring.requests
    if s.op_flags & IORING_TIMEOUT_MULTISHOT:
        req.target = interval
        req.repeats = s.off
    elif s.off:
        req.target = requests.completions + s.off
    requests.add_timeout(req)
    req.timer = requests.kernel.timers.add(time.monotonic() + interval, functools.partial(requests.timeout_fired, req))
    return None


def _read_timeout(req):
    """A TIMEOUT's or LINK_TIMEOUT's struct __kernel_timespec, read at submission: the
    seconds from now (an IORING_TIMEOUT_ABS time on CLOCK_MONOTONIC, or on BOOTTIME or
    REALTIME as asked)."""
    s = req.sqe
    flags = s.op_flags
    check(s.len == 1 and not s.buf_index, errno.EINVAL)
    check(not flags & ~TIMEOUT_FLAGS, errno.EINVAL)
    check(~flags & (IORING_TIMEOUT_BOOTTIME | IORING_TIMEOUT_REALTIME), errno.EINVAL)      # one clock
    check(~flags & (IORING_TIMEOUT_MULTISHOT | IORING_TIMEOUT_ABS), errno.EINVAL)          # (relative only)
    sec, nsec = TIMESPEC.unpack(req.worker.mem.read(s.addr, TIMESPEC.size))
    check(sec >= 0 and 0 <= nsec < 10**9, errno.EINVAL)
    return _from_now(sec + nsec / 1e9, flags)


def _from_now(when, flags):
    if not flags & IORING_TIMEOUT_ABS:
        return when
    clock = (time.CLOCK_REALTIME if flags & IORING_TIMEOUT_REALTIME else
             time.CLOCK_BOOTTIME if flags & IORING_TIMEOUT_BOOTTIME else time.CLOCK_MONOTONIC)
    return when - time.clock_gettime(clock)


def _link_timeout(req):
    """Checked and read when submitted; armed when the request before it has to wait."""
    check(not req.sqe.off, errno.EINVAL)
    req.target = max(0.0, _read_timeout(req))
    return None


IORING_TIMEOUT_UPDATE, IORING_LINK_TIMEOUT_UPDATE = 1 << 1, 1 << 4
IORING_TIMEOUT_CLOCKS = 1 << 2 | 1 << 3             # BOOTTIME, REALTIME
IORING_TIMEOUT_UPDATE_MASK = IORING_TIMEOUT_UPDATE | IORING_LINK_TIMEOUT_UPDATE


def _timeout_remove(req):
    """TIMEOUT_REMOVE (io_timeout_remove): cancel the TIMEOUT whose user_data is addr, or
    with IORING_TIMEOUT_UPDATE give it a new time (the timespec at addr2, i.e. off), or
    with IORING_LINK_TIMEOUT_UPDATE an armed LINK_TIMEOUT: 0, or -ENOENT if none is
    pending."""
    s = req.sqe
    check(not s.buf_index and not s.len and not s.file_index, errno.EINVAL)
    requests = req.ring.requests
    flags = s.op_flags
    if not flags & IORING_TIMEOUT_UPDATE_MASK:
        check(not flags, errno.EINVAL)
        for t in requests.timeouts:
            if t.user_data == s.addr:
                requests.cancel_timeout(t)
                return 0
        return -errno.ENOENT
    check(not flags & ~(IORING_TIMEOUT_UPDATE_MASK | IORING_TIMEOUT_ABS | IORING_TIMEOUT_BOOTTIME
                        | IORING_TIMEOUT_REALTIME), errno.EINVAL)
    check(~flags & (IORING_TIMEOUT_BOOTTIME | IORING_TIMEOUT_REALTIME), errno.EINVAL)
    sec, nsec = TIMESPEC.unpack(req.worker.mem.read(s.off, TIMESPEC.size))
    check(sec >= 0 and nsec >= 0, errno.EINVAL)
    due = time.monotonic() + _from_now(sec + nsec / 1e9, flags)
    if flags & IORING_LINK_TIMEOUT_UPDATE:
        for r in (*requests.waiting, *requests.timeouts):
            lt = r.link_timeout
            if lt is not None and lt.timer is not None and lt.user_data == s.addr:
                lt.timer.cancel()
                lt.timer = requests.kernel.timers.add(due, functools.partial(requests.link_timed_out, r))
                return 0
        return -errno.ENOENT
    for t in requests.timeouts:
        if t.user_data == s.addr and t.timer is not None:
            if t.sqe.op_flags & IORING_TIMEOUT_MULTISHOT:
                t.target = max(0.0, due - time.monotonic())     # its interval from now on
            t.timer.cancel()
            t.timer = requests.kernel.timers.add(due, functools.partial(requests.timeout_fired, t))
            return 0
    return -errno.ENOENT


SOCKET_URING_OP_SIOCINQ, SOCKET_URING_OP_SIOCOUTQ, SOCKET_URING_OP_GETSOCKOPT, SOCKET_URING_OP_SETSOCKOPT = 0, 1, 2, 3
SOL_SOCKET, SIOCOUTQ = 1, 0x5411


def _uring_cmd(req):
    """URING_CMD (io_uring_cmd_sock): a socket's commands, cmd_op in off's low word:
    SIOCINQ and SIOCOUTQ (the count), GETSOCKOPT (SOL_SOCKET only; the value's length)
    and SETSOCKOPT, with level and optname in addr's two words, optval in addr3 and
    optlen in file_index. Another file has no uring_cmd (EOPNOTSUPP), nor has any
    other command."""
    s, worker = req.sqe, req.worker
    try:
        f = req.held[1] if req.held is not None else net.socket_file(worker, s.fd)
    except SyscallError as e:
        return -(errno.EOPNOTSUPP if e.errno == errno.ENOTSOCK else e.errno)
    cmd, level, optname, optlen = s.off & 0xFFFFFFFF, s.addr & 0xFFFFFFFF, s.addr >> 32, s.file_index & 0xFFFFFFFF
    if cmd == SOCKET_URING_OP_SIOCINQ:
        return f.fionread()
    if cmd == SOCKET_URING_OP_SIOCOUTQ:
        return struct.unpack("<i", f.ioctl(SIOCOUTQ, 0, worker)[1])[0]
    if cmd == SOCKET_URING_OP_GETSOCKOPT:
        check(level == SOL_SOCKET, errno.EOPNOTSUPP)
        value = net.sockopt_value(f, level, optname, optlen)[:optlen]
        worker.mem.write(s.addr3, value)
        return len(value)
    if cmd == SOCKET_URING_OP_SETSOCKOPT:
        return net.setsockopt(worker, _fd(req), signed32(level), signed32(optname), s.addr3, signed32(optlen))
    return -errno.EOPNOTSUPP


IORING_ACCEPT_DONTWAIT = 1 << 1
MSG_DONTWAIT = 0x40
_rw_nowait = lambda req: bool(req.sqe.op_flags & RWF_NOWAIT)       # noqa: E731
_msg_nowait = lambda req: bool(req.sqe.op_flags & MSG_DONTWAIT)    # noqa: E731


def poll_armed(req, events):
    """An opcode that got EAGAIN waits for the file's `events` as a poll would: the
    WouldBlock to raise, or None where Linux answers EAGAIN (the SQE asked, or the file
    cannot be polled)."""
    if req.op.nowait(req):
        return None
    try:
        f = req.held[1] if req.held is not None else req.worker.files.get_file(req.sqe.fd)
    except SyscallError:
        return None
    if not f.can_poll():
        return None
    host = f.host_waits(events)
    return WouldBlock(f.wait_queues(), file=f, host=host, recheck=RECHECK if host is None else None)


OPS = {
    0: Op("NOP", _nop, file=False, prep=_nop_prep),
    1: Op("READV", _readv, rw=True, polls=POLLIN, nowait=_rw_nowait),
    2: Op("WRITEV", _writev, rw=True, polls=POLLOUT, nowait=_rw_nowait),
    3: Op("FSYNC", _fsync),
    4: Op("READ_FIXED", _read_fixed, rw=True, short_fails=True, polls=POLLIN, nowait=_rw_nowait),
    5: Op("WRITE_FIXED", _write_fixed, rw=True, short_fails=True, polls=POLLOUT, nowait=_rw_nowait),
    6: Op("POLL_ADD", _poll_add, multishot=lambda req: req.sqe.len & IORING_POLL_ADD_MULTI, woken=_poll_woken),
    7: Op("POLL_REMOVE", _poll_remove, file=False),
    8: Op("SYNC_FILE_RANGE", _sync_file_range),
    9: Op("SENDMSG", _sendmsg, ioprio=True, polls=POLLOUT, nowait=_msg_nowait),
    10: Op("RECVMSG", _recvmsg, ioprio=True, polls=POLLIN, nowait=_msg_nowait, buffer_select="msghdr"),
    11: Op("TIMEOUT", _timeout, file=False),
    12: Op("TIMEOUT_REMOVE", _timeout_remove, file=False),
    13: Op("ACCEPT", _accept, ioprio=True, prep=_accept_prep, multishot=lambda req: req.sqe.ioprio & IORING_ACCEPT_MULTISHOT,
           polls=POLLIN, nowait=lambda req: bool(req.sqe.ioprio & IORING_ACCEPT_DONTWAIT)),
    14: Op("ASYNC_CANCEL", _async_cancel, file=False, prep=_async_cancel_prep),
    15: Op("LINK_TIMEOUT", _link_timeout, file=False),
    16: Op("CONNECT", _connect),
    17: Op("FALLOCATE", _fallocate),
    18: Op("OPENAT", _openat, file=False, prep=_openat_prep),
    19: Op("CLOSE", _close, file=False, prep=_close_prep),
    21: Op("STATX", _statx, file=False),
    22: Op("READ", _read, rw=True, short_fails=True, buffer_select=True, polls=POLLIN, nowait=_rw_nowait),
    23: Op("WRITE", _write, rw=True, short_fails=True, polls=POLLOUT, nowait=_rw_nowait),
    24: Op("FADVISE", _fadvise),
    26: Op("SEND", _send, ioprio=True, polls=POLLOUT, nowait=_msg_nowait),
    27: Op("RECV", _recv, ioprio=True, buffer_select=True, polls=POLLIN, nowait=_msg_nowait,
           multishot=lambda req: req.sqe.ioprio & IORING_RECV_MULTISHOT),
    28: Op("OPENAT2", _openat2, file=False, prep=_openat_prep),
    29: Op("EPOLL_CTL", _epoll_ctl, file=False),
    30: Op("SPLICE", _splice),
    20: Op("FILES_UPDATE", _files_update, file=False, prep=_files_update_prep),
    31: Op("PROVIDE_BUFFERS", _provide_buffers, file=False, prep=_provide_buffers_prep),
    32: Op("REMOVE_BUFFERS", _remove_buffers, file=False, prep=_remove_buffers_prep),
    33: Op("TEE", _tee, prep=_unused("addr", "off")),
    34: Op("SHUTDOWN", _shutdown, prep=_unused("off", "addr", "op_flags", "buf_index", "file_index", "addr3")),
    35: Op("RENAMEAT", _renameat, file=False),
    36: Op("UNLINKAT", _unlinkat, file=False),
    37: Op("MKDIRAT", _mkdirat, file=False),
    38: Op("SYMLINKAT", _symlinkat, file=False),
    39: Op("LINKAT", _linkat, file=False),
    40: Op("MSG_RING", _msg_ring, prep=_msg_ring_prep),
    41: Op("FSETXATTR", _fsetxattr, prep=_xattr_prep),
    42: Op("SETXATTR", _setxattr, file=False, prep=_xattr_prep),
    43: Op("FGETXATTR", _fgetxattr, prep=_xattr_prep),
    44: Op("GETXATTR", _getxattr, file=False, prep=_xattr_prep),
    45: Op("SOCKET", _socket, file=False, prep=_unused("addr", "op_flags", "buf_index")),
    46: Op("URING_CMD", _uring_cmd),
    49: Op("READ_MULTISHOT", _read_multishot, buffer_select=True, prep=_read_multishot_prep,
           multishot=lambda req: True),
    54: Op("FIXED_FD_INSTALL", _fixed_fd_install, prep=_fixed_fd_install_prep),
    55: Op("FTRUNCATE", _ftruncate, prep=_unused("op_flags", "addr", "len", "buf_index", "file_index", "addr3")),
    56: Op("BIND", _bind, prep=_unused("len", "buf_index", "op_flags", "file_index")),
    57: Op("LISTEN", _listen, prep=_unused("addr", "off", "buf_index", "op_flags", "file_index")),
    62: Op("PIPE", _pipe, file=False),
}
# every opcode of this machine's kernel, by number (PROBE and the README's table)
OPCODE_NAMES = (
    "NOP", "READV", "WRITEV", "FSYNC", "READ_FIXED", "WRITE_FIXED", "POLL_ADD", "POLL_REMOVE",
    "SYNC_FILE_RANGE", "SENDMSG", "RECVMSG", "TIMEOUT", "TIMEOUT_REMOVE", "ACCEPT", "ASYNC_CANCEL",
    "LINK_TIMEOUT", "CONNECT", "FALLOCATE", "OPENAT", "CLOSE", "FILES_UPDATE", "STATX", "READ", "WRITE",
    "FADVISE", "MADVISE", "SEND", "RECV", "OPENAT2", "EPOLL_CTL", "SPLICE", "PROVIDE_BUFFERS",
    "REMOVE_BUFFERS", "TEE", "SHUTDOWN", "RENAMEAT", "UNLINKAT", "MKDIRAT", "SYMLINKAT", "LINKAT",
    "MSG_RING", "FSETXATTR", "SETXATTR", "FGETXATTR", "GETXATTR", "SOCKET", "URING_CMD", "SEND_ZC",
    "SENDMSG_ZC", "READ_MULTISHOT", "WAITID", "FUTEX_WAIT", "FUTEX_WAKE", "FUTEX_WAITV",
    "FIXED_FD_INSTALL", "FTRUNCATE", "BIND", "LISTEN", "RECV_ZC", "EPOLL_WAIT", "READV_FIXED",
    "WRITEV_FIXED", "PIPE")
assert all(OPCODE_NAMES[n] == op.name for n, op in OPS.items())
IORING_OP_LAST = 63         # the kernel's count of opcodes (6.18): PROBE's last_op is one less
