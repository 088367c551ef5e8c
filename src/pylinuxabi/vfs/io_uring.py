"""io_uring instances (io_uring(7)): the rings the program shares with us, and their state.

A Ring is the anonymous-inode file io_uring_setup returns. Its SQ ring, CQ ring and
SQE array live in one memfd: the program maps it (mmap of the ring fd at
IORING_OFF_SQ_RING, _CQ_RING or _SQES, `mmap_region`) and we read and write it
through a mapping of our own. The layout is the kernel's (6.18, struct io_rings):
the heads, tails, masks, entry counts, dropped, the flags and the overflow count in
the first 64 bytes, the CQEs from byte 64, the SQ index array after them (64-byte
aligned); the SQEs from the next page on.

Everything the program can write there changes under us: an SQE is copied once
(`sqe`) and only the copy is used; the indices it gives are masked; our own head of
the SQ and tail of the CQ are kept here and only written out.

CQEs the CQ has no room for wait in `overflow` (IORING_FEAT_NODROP) and go out in
order as the program makes room; IORING_SQ_CQ_OVERFLOW tells it some wait. The
requests themselves (syscalls/io_uring.py) are the syscall layer's: this module
knows nothing of tasks or opcodes.
"""
import collections
import errno
import mmap
import os
import struct

from pylinuxabi._native import ffi, lib
from pylinuxabi.base.errors import SyscallError, check
from pylinuxabi.base.waitq import WaitQueue
from pylinuxabi.vfs.file import POLLIN, POLLOUT, POLLRDNORM, POLLWRNORM, StreamFile
from pylinuxabi.vfs.inotify import ANON_INODE

PAGE = mmap.PAGESIZE
IORING_OFF_SQ_RING, IORING_OFF_CQ_RING, IORING_OFF_SQES = 0, 0x8000000, 0x10000000
IORING_OFF_MMAP_MASK = 0xF8000000
IORING_OFF_PBUF_RING, IORING_OFF_PBUF_SHIFT = 0x80000000, 16

# struct io_rings (io_uring/io_uring.h), as this machine's kernel lays it out
SQ_HEAD, SQ_TAIL, CQ_HEAD, CQ_TAIL = 0, 4, 8, 12
SQ_RING_MASK, CQ_RING_MASK, SQ_RING_ENTRIES, CQ_RING_ENTRIES = 16, 20, 24, 28
SQ_DROPPED, SQ_FLAGS, CQ_FLAGS, CQ_OVERFLOW = 32, 36, 40, 44
CQES = 64

IORING_SQ_NEED_WAKEUP, IORING_SQ_CQ_OVERFLOW, IORING_SQ_TASKRUN = 1, 2, 4
IORING_CQ_EVENTFD_DISABLED = 1

CQE = struct.Struct("<QiI")         # user_data, res, flags (16 bytes; CQE32 adds 16 zero bytes)
# struct io_uring_sqe, 64 bytes: opcode flags ioprio fd | off | addr | len op_flags |
# user_data | buf_index personality file_index | addr3 | pad
SQE = struct.Struct("<BBHiQQIIQHHiQQ")

OVERFLOW_MAX = 1 << 16      # CQEs held past a full CQ, at most (then dropped and counted, as
                            # Linux does when it cannot allocate an overflow entry)


def _align(n, to):
    return (n + to - 1) & ~(to - 1)


class Sqe:
    """One SQE as it was when we copied it."""

    __slots__ = ("opcode", "flags", "ioprio", "fd", "off", "addr", "len", "op_flags", "user_data",
                 "buf_index", "personality", "file_index", "addr3", "pad", "raw")

    def __init__(self, raw):
        (self.opcode, self.flags, self.ioprio, self.fd, self.off, self.addr, self.len, self.op_flags,
         self.user_data, self.buf_index, self.personality, self.file_index, self.addr3,
         self.pad) = SQE.unpack_from(raw)
        self.raw = raw


class BufferRing:
    """A provided-buffer ring (IORING_REGISTER_PBUF_RING): `entries` struct io_uring_buf
    (addr, len, bid, resv) in the program's memory at `addr`, whose tail the program
    keeps in the first one's resv field; the head is ours."""

    ENTRY = struct.Struct("<QIHH")

    def __init__(self, addr, entries, own=False):
        self.addr, self.entries, self.head = addr, entries, 0
        self.memfd = self.mem = None
        if own:             # IOU_PBUF_RING_MMAP: the ring's memory is ours, mapped by the program
            size = _align(entries * self.ENTRY.size, PAGE)
            try:
                self.memfd = os.memfd_create("[io_uring pbuf]", os.MFD_CLOEXEC)
                os.ftruncate(self.memfd, size)
                self.mem = mmap.mmap(self.memfd, size)
            except OSError:
                self.release()
                raise SyscallError(errno.ENOMEM) from None

    def _read(self, mem, at, n):
        if self.mem is not None:
            return bytes(self.mem[at:at + n])
        return mem.read(self.addr + at, n)

    def first(self, mem):
        """(address, length, id) of the next buffer, read now, or None if the ring is empty."""
        tail = struct.unpack("<H", self._read(mem, 14, 2))[0]
        if tail == self.head & 0xFFFF:
            return None
        at = (self.head & (self.entries - 1)) * self.ENTRY.size
        addr, length, bid, _ = self.ENTRY.unpack(self._read(mem, at, self.ENTRY.size))
        return addr, length, bid

    def take(self):
        self.head = (self.head + 1) & 0xFFFF

    def release(self):
        if self.mem is not None:
            self.mem.close()
        if self.memfd is not None:
            os.close(self.memfd)
        self.memfd = self.mem = None


class Ring(StreamFile):
    """One io_uring instance: its shared memory, our heads and tails, held CQEs, the
    registered files and buffers, and `cq_posted`, the queue told of every CQE."""

    has_read = has_write = False

    def __init__(self, sq_entries, cq_entries, setup_flags, sqe_size, cqe_size):
        super().__init__(None, ANON_INODE, os.O_RDWR)
        self.sq_entries, self.cq_entries = sq_entries, cq_entries
        self.setup_flags = setup_flags
        self.sqe_size, self.cqe_size = sqe_size, cqe_size
        self.sq_array = _align(CQES + cq_entries * cqe_size, 64)
        self.no_sqarray = bool(setup_flags & (1 << 16))     # IORING_SETUP_NO_SQARRAY: SQ slot i is SQE i
        self.rings_size = self.sq_array + (0 if self.no_sqarray else 4 * sq_entries)
        self.sqes_at = _align(self.rings_size, PAGE)
        self.sqes_size = sq_entries * sqe_size
        size = self.sqes_at + _align(self.sqes_size, PAGE)
        try:        # (the supervisor's own fds and memory running out: ENOMEM, as io_mem_alloc's)
            self.memfd = os.memfd_create("[io_uring]", os.MFD_CLOEXEC)
        except OSError:
            raise SyscallError(errno.ENOMEM) from None
        try:
            os.ftruncate(self.memfd, size)
            self.mem = mmap.mmap(self.memfd, size)
        except OSError:
            os.close(self.memfd)
            raise SyscallError(errno.ENOMEM) from None
        self.buffer = ffi.from_buffer(self.mem)
        self.words = ffi.cast("uint32_t *", self.buffer)       # (for atomic updates)
        self.sqpoll = None          # the SQPOLL poller's slot (native sqpoll_add), if one watches
        self.owner = None           # the task that set it up (SQPOLL submits as it)
        self.sq_idle_ms = 0         # SQPOLL: idle time before IORING_SQ_NEED_WAKEUP
        self.sq_head = 0            # ours: the next SQE to take (ctx->cached_sq_head)
        self.cq_tail = 0            # ours: where the next CQE goes
        self.sq_flags = 0
        self.dropped = 0
        self.overflow = collections.deque()
        self.overflow_lost = 0      # CQEs dropped past OVERFLOW_MAX (cq.overflow)
        self.cq_posted = WaitQueue()
        self.files = []             # registered files (IORING_REGISTER_FILES): OpenFile or None
        self.alloc_hint = 0         # where the search for a free slot starts (io_file_table.alloc_hint)
        self.submitter = None       # SINGLE_ISSUER: the tid of the one thread that may submit
        self.local_work = []        # DEFER_TASKRUN: CQEs held until the submitter enters
        self.buffers = []           # registered buffers: (address, length)
        self.buffer_groups = {}     # provided buffers (PROVIDE_BUFFERS): group id -> deque of
                                    # (address, length, buffer id), taken from the left
        self.provided = 0           # how many buffers the groups hold
        self.buffer_rings = {}      # group id -> BufferRing (IORING_REGISTER_PBUF_RING)
        self.eventfd = None         # (EventFd, only for async completions) of REGISTER_EVENTFD
        self.enabled = not setup_flags & (1 << 6)       # IORING_SETUP_R_DISABLED
        self.restrictions = None    # what the ring allows once enabled (the syscall layer's Restrictions)
        self.personalities = {}     # id -> the Creds registered under it
        self.next_personality = 1
        self.requests = None        # the syscall layer's state of requests in flight
        self.cq_timeouts = 0        # TIMEOUTs that have fired (each ends a wait in io_uring_enter)
        self.trace = None           # --strace: a deque of SQE and CQE lines not shown yet
        for at, value in ((SQ_RING_MASK, sq_entries - 1), (CQ_RING_MASK, cq_entries - 1),
                          (SQ_RING_ENTRIES, sq_entries), (CQ_RING_ENTRIES, cq_entries)):
            self._set(at, value)

    # -- the shared memory ----------------------------------------------------------
    def _u32(self, at):
        """A word the program shares with us, read in one load (struct would read it a
        byte at a time, and the program may be changing it meanwhile)."""
        return self.words[at >> 2]

    def _set(self, at, value):
        """A word the program reads, written in one store (a torn tail once let a
        program reap CQEs we had not posted)."""
        self.words[at >> 2] = value & 0xFFFFFFFF

    def sq_ready(self):
        """SQEs the program has queued for us: its tail past our head, at most the ring."""
        return min((self._u32(SQ_TAIL) - self.sq_head) & 0xFFFFFFFF, self.sq_entries)

    def next_sqe(self):
        """The next queued SQE, copied (None if its index is out of range: dropped)."""
        slot = self.sq_head & (self.sq_entries - 1)
        index = slot if self.no_sqarray else self._u32(self.sq_array + 4 * slot)
        self.sq_head = (self.sq_head + 1) & 0xFFFFFFFF
        if index >= self.sq_entries:
            self.dropped += 1
            self._set(SQ_DROPPED, self.dropped)
            return None
        at = self.sqes_at + index * self.sqe_size
        return Sqe(bytes(self.mem[at:at + self.sqe_size]))

    def commit_sq(self):
        """The SQ head the program sees: what we have taken."""
        self._set(SQ_HEAD, self.sq_head)

    def cq_ready(self):
        """CQEs the program has not reaped, held ones included."""
        return min((self.cq_tail - self._u32(CQ_HEAD)) & 0xFFFFFFFF, self.cq_entries) + len(self.overflow)

    def post(self, user_data, res, flags=0):
        """A CQE: into the CQ if it has room and none is held before it, else held."""
        if self.overflow or not self._cq_room():
            if len(self.overflow) >= OVERFLOW_MAX:
                self.overflow_lost += 1
                self._set(CQ_OVERFLOW, self.overflow_lost)
            else:
                self.overflow.append((user_data, res, flags))
                self._set_sq_flag(IORING_SQ_CQ_OVERFLOW, True)
        else:
            self._write_cqe(user_data, res, flags)
        self.cq_posted.notify()

    def flush_overflow(self):
        """Held CQEs into the room the program has made since (io_cqring_overflow_flush)."""
        moved = False
        while self.overflow and self._cq_room():
            self._write_cqe(*self.overflow.popleft())
            moved = True
        if not self.overflow:
            self._set_sq_flag(IORING_SQ_CQ_OVERFLOW, False)
        return moved

    def has_room(self):
        """Would a CQE go into the CQ itself (not the overflow list)? A multishot request's
        CQE with IORING_CQE_F_MORE is posted only then (io_req_post_cqe)."""
        return not self.overflow and self._cq_room()

    def _cq_room(self):
        return (self.cq_tail - self._u32(CQ_HEAD)) & 0xFFFFFFFF < self.cq_entries

    def _write_cqe(self, user_data, res, flags):
        at = CQES + (self.cq_tail & (self.cq_entries - 1)) * self.cqe_size
        CQE.pack_into(self.mem, at, user_data, res, flags)
        if self.cqe_size > CQE.size:
            self.mem[at + CQE.size:at + self.cqe_size] = bytes(self.cqe_size - CQE.size)
        self.cq_tail = (self.cq_tail + 1) & 0xFFFFFFFF
        self._set(CQ_TAIL, self.cq_tail)

    def _set_sq_flag(self, flag, on):
        """One bit of the SQ flags (the SQPOLL poller sets NEED_WAKEUP in the same word)."""
        flags = self.sq_flags | flag if on else self.sq_flags & ~flag
        if flags != self.sq_flags:
            self.sq_flags = flags
            lib.ring_flags(self.words + SQ_FLAGS // 4, flag if on else 0, 0 if on else flag)

    def watch_sq(self, idle_ms, sig):
        """IORING_SETUP_SQPOLL: the poller watches our SQ tail from now on (sig tells the
        main thread of SQEs); False if it watches too many rings already."""
        slot = lib.sqpoll_add(self.words + SQ_TAIL // 4, self.words + SQ_HEAD // 4, self.words + SQ_FLAGS // 4,
                              idle_ms, sig)
        if slot < 0:
            return False
        self.sqpoll = slot
        return True

    def wake_sq(self):
        """IORING_ENTER_SQ_WAKEUP: the poller looks again (NEED_WAKEUP cleared)."""
        if self.sqpoll is not None:
            lib.sqpoll_wake(self.sqpoll)

    def note(self, line):
        self.trace.append(line)

    def trace_lines(self):
        """--strace: the SQEs taken and CQEs posted since the last look."""
        if not self.trace:
            return []
        lines = list(self.trace)
        self.trace.clear()
        return lines

    def eventfd_enabled(self):
        return not self._u32(CQ_FLAGS) & IORING_CQ_EVENTFD_DISABLED

    # -- the file --------------------------------------------------------------
    def mmap_region(self, offset, length):
        """io_uring_mmap: the region the offset's top bits name — the SQ and CQ rings (one
        region: SINGLE_MMAP) or the SQEs — from its start, whatever the offset's low bits
        and the length say (Linux maps the region's pages and leaves the rest); ENOMEM
        for a region the ring has not."""
        region = offset & IORING_OFF_MMAP_MASK
        if region in (IORING_OFF_SQ_RING, IORING_OFF_CQ_RING):
            return self.memfd, 0
        if region == IORING_OFF_SQES:
            return self.memfd, self.sqes_at
        if region == IORING_OFF_PBUF_RING:         # (a kernel-allocated buffer ring's: its group)
            buf_ring = self.buffer_rings.get(offset >> IORING_OFF_PBUF_SHIFT & 0x7FF)
            check(buf_ring is not None and buf_ring.memfd is not None, errno.ENOMEM)
            return buf_ring.memfd, 0
        raise SyscallError(errno.ENOMEM)

    def mmap_fd(self):
        return self.memfd

    def adopt(self, rings, sqes):
        """IORING_SETUP_NO_MMAP: the program's own memory holds the rings; what it held
        is kept but for the rings' header (io_rings up to the CQEs), which is ours."""
        self.mem[CQES:len(rings)] = rings[CQES:]
        self.mem[self.sqes_at:self.sqes_at + len(sqes)] = sqes

    def poll(self):
        """io_uring_poll: readable with CQEs to reap, writable with room in the SQ."""
        events = 0
        if self.cq_ready():
            events |= POLLIN | POLLRDNORM
        if (self._u32(SQ_TAIL) - self.sq_head) & 0xFFFFFFFF < self.sq_entries:
            events |= POLLOUT | POLLWRNORM
        return events

    def wait_queues(self):
        return [self.cq_posted]

    def fdinfo(self):
        """io_uring_show_fdinfo's first lines: the rings' heads and tails."""
        sq_mask, cq_mask = self.sq_entries - 1, self.cq_entries - 1
        lines = [f"SqMask:\t0x{sq_mask:x}", f"SqHead:\t{self._u32(SQ_HEAD)}", f"SqTail:\t{self._u32(SQ_TAIL)}",
                 f"CachedSqHead:\t{self.sq_head}", f"CqMask:\t0x{cq_mask:x}", f"CqHead:\t{self._u32(CQ_HEAD)}",
                 f"CqTail:\t{self._u32(CQ_TAIL)}", f"CachedCqTail:\t{self.cq_tail}",
                 f"UserFiles:\t{len(self.files)}", f"UserBufs:\t{len(self.buffers)}",
                 f"CqOverflowList:\t{len(self.overflow)}"]
        return ("\n".join(lines) + "\n").encode()

    def path(self):
        return b"anon_inode:[io_uring]"

    def release(self):
        """The last reference: requests in flight are cancelled (by the syscall layer's
        hook), registered files and the eventfd let go, the memory unmapped."""
        if self.sqpoll is not None:
            lib.sqpoll_remove(self.sqpoll)
            self.sqpoll = None
        if self.requests is not None:
            self.requests.ring_closed()
        self.unregister_files()
        if self.eventfd is not None:
            self.eventfd[0].put()
            self.eventfd = None
        for buf_ring in self.buffer_rings.values():
            buf_ring.release()
        ffi.release(self.buffer)
        self.mem.close()
        os.close(self.memfd)

    def unregister_files(self):
        files, self.files = self.files, []
        for f in files:
            if f is not None:
                f.put()
