"""io_uring_setup, io_uring_enter, io_uring_register, and the requests they run (DESIGN §7).

Each SQE becomes a Request, run against the same VFS and socket objects as the plain
syscalls: an opcode's function (syscalls/uring_ops.py) calls the handler of its syscall
(READ is read or pread64, OPENAT is openat…) as a worker of the submitting process, a Task of its own
over the submitter's thread (Linux runs requests in io-wq workers that share the
process's files, memory and credentials), so that a request that must wait keeps
its state apart from the thread's own syscalls.

A request that would block (WouldBlock) waits on the same queues a syscall would;
when one is told, the request is put on its ring's ready list and run again by
Kernel.defer, between two stops and never from inside another handler.
Requests whose readiness only a host fd knows (sockets, the terminal) have the host
waker tell the supervisor (a token), so they complete while the program spins on its CQ
ring; those on a signalfd are looked at again by a thread that waits in io_uring_enter,
which waits for their signals too. Link chains, drains and CQE_SKIP_SUCCESS follow
io_uring/io_uring.c.
"""
import collections
import errno
import functools
import logging
import os
import struct
import time
import traceback
import weakref

from pylinuxabi.base.abi import TIMESPEC, signed32
from pylinuxabi.base.creds import CAP_SYS_ADMIN, CAP_SYS_NICE
from pylinuxabi.base.errors import ERESTARTNOHAND, SyscallError, WouldBlock, check
from pylinuxabi.kernel.task import Task
from pylinuxabi.platform import ThreadGone
from pylinuxabi.syscalls.poll import RECHECK, read_sigmask
from pylinuxabi.syscalls.registry import syscall
from pylinuxabi.syscalls.uring_ops import (FIXED_FD, IORING_CQE_BUFFER_SHIFT, IORING_CQE_F_BUFFER,
                                           IORING_CQE_F_MORE, IORING_OP_LAST, IORING_TIMEOUT_ETIME_SUCCESS,
                                           IORING_TIMEOUT_MULTISHOT, IOSQE_ASYNC, IOSQE_BUFFER_SELECT,
                                           IOSQE_CQE_SKIP_SUCCESS, IOSQE_FIXED_FILE, IOSQE_IO_DRAIN,
                                           IOSQE_IO_HARDLINK, IOSQE_IO_LINK, OPCODE_NAMES, OPS, RWF_NOWAIT, SQE_FLAGS,
                                           CANCEL_FLAGS, IORING_ASYNC_CANCEL_ALL, IORING_ASYNC_CANCEL_ANY,
                                           IORING_ASYNC_CANCEL_FD, IORING_ASYNC_CANCEL_OP, cancel_requests,
                                           file_for_table, poll_armed, s64, update_files)
from pylinuxabi.vfs.eventfd import EventFd
from pylinuxabi.syscalls.mm import MAP_FIXED, MAP_SHARED, PROT_READ, PROT_WRITE, SYS_mmap
from pylinuxabi.vfs.io_uring import PAGE, BufferRing, Ring, IORING_SQ_TASKRUN

log = logging.getLogger("pylinuxabi")

IORING_MAX_ENTRIES, IORING_MAX_CQ_ENTRIES = 32768, 65536
# setup flags
SETUP_IOPOLL, SETUP_SQPOLL, SETUP_SQ_AFF, SETUP_CQSIZE, SETUP_CLAMP = 1, 2, 4, 8, 16
SETUP_ATTACH_WQ, SETUP_R_DISABLED, SETUP_SUBMIT_ALL = 32, 64, 128
SETUP_COOP_TASKRUN, SETUP_TASKRUN_FLAG, SETUP_SQE128, SETUP_CQE32 = 1 << 8, 1 << 9, 1 << 10, 1 << 11
SETUP_SINGLE_ISSUER, SETUP_DEFER_TASKRUN, SETUP_NO_MMAP = 1 << 12, 1 << 13, 1 << 14
SETUP_REGISTERED_FD_ONLY, SETUP_NO_SQARRAY = 1 << 15, 1 << 16
# the flags we honour: SQPOLL is the poller thread of native/core.c (sqpoll_add); NO_MMAP
# maps the ring's memory over the program's (_map_user_rings); IOPOLL rings take only the requests
# Linux lets them, and no file of ours polls (-EOPNOTSUPP, as a file without ->iopoll);
# ATTACH_WQ checks the ring it names (the async backend it would share is ours anyway)
SETUP_FLAGS = (SETUP_IOPOLL | SETUP_SQPOLL | SETUP_SQ_AFF | SETUP_CQSIZE | SETUP_CLAMP | SETUP_ATTACH_WQ
               | SETUP_R_DISABLED | SETUP_SUBMIT_ALL | SETUP_COOP_TASKRUN | SETUP_TASKRUN_FLAG | SETUP_SQE128
               | SETUP_CQE32 | SETUP_SINGLE_ISSUER | SETUP_DEFER_TASKRUN | SETUP_NO_MMAP | SETUP_REGISTERED_FD_ONLY
               | SETUP_NO_SQARRAY)
IOPOLL_OPS = {"NOP", "READV", "WRITEV", "READ_FIXED", "WRITE_FIXED", "READ", "WRITE", "FILES_UPDATE", "PROVIDE_BUFFERS",
              "REMOVE_BUFFERS", "MSG_RING", "URING_CMD"}     # (io_issue_def.iopoll)
SQ_THREAD_IDLE_MS = 1000    # an SQPOLL ring's idle time before NEED_WAKEUP, unless sq_thread_idle says
# the features we honour (IORING_FEAT_*): SINGLE_MMAP, NODROP, SUBMIT_STABLE (SQEs are
# copied at submission), RW_CUR_POS, CUR_PERSONALITY, FAST_POLL (a request that would
# block waits for readiness), POLL_32BITS, EXT_ARG, CQE_SKIP, LINKED_FILE (a linked
# request finds its file when it runs), SQPOLL_NONFIXED
FEATURES = 1 | 2 | 4 | 8 | 16 | 32 | 64 | 128 | 256 | 2048 | 4096
# struct io_uring_params: sq_entries cq_entries flags sq_thread_cpu sq_thread_idle features
# wq_fd resv[3] | sq_off (head tail ring_mask ring_entries flags dropped array resv1 user_addr)
# | cq_off (head tail ring_mask ring_entries overflow cqes flags resv1 user_addr)
PARAMS = struct.Struct("<10I 7IIQ 8IQ")

# io_uring_enter flags
ENTER_GETEVENTS, ENTER_SQ_WAKEUP, ENTER_SQ_WAIT, ENTER_EXT_ARG = 1, 2, 4, 8
ENTER_REGISTERED_RING, ENTER_ABS_TIMER, ENTER_EXT_ARG_REG, ENTER_NO_IOWAIT = 16, 32, 64, 128
ENTER_FLAGS = 0xFF
GETEVENTS_ARG = struct.Struct("<QIIQ")      # sigmask, sigmask_sz, min_wait_usec, ts

IO_URING_OP_SUPPORTED = 1
PROBE_HEAD = struct.Struct("<BBH3I")
PROBE_OP = struct.Struct("<BBHI")
FILES_UPDATE = struct.Struct("<IIQ")
IOVEC = struct.Struct("<QQ")
BUF_REG = struct.Struct("<QIHH3Q")          # struct io_uring_buf_reg
RSRC_UPDATE = struct.Struct("<IIQ")         # struct io_uring_rsrc_update: offset, resv, data
RESTRICTION = struct.Struct("<HBB3I")       # struct io_uring_restriction
IO_RINGFD_REG_MAX = 16
IORING_REGISTER_USE_REGISTERED_RING = 1 << 31
IORING_REGISTER_LAST = 35
IORING_RESTRICTION_REGISTER_OP, IORING_RESTRICTION_SQE_OP = 0, 1
IORING_RESTRICTION_SQE_FLAGS_ALLOWED, IORING_RESTRICTION_SQE_FLAGS_REQUIRED = 2, 3
IORING_MAX_RESTRICTIONS = 4 + IORING_REGISTER_LAST
PERSONALITY_MAX = 0xFFFF
# struct io_uring_sync_cancel_reg: addr, fd, flags, timeout (sec, nsec), opcode, pad[7], pad2[3]
SYNC_CANCEL = struct.Struct("<QiIqqB7B3Q")
SZ_1G = 1 << 30
IORING_MAX_REG_BUFFERS = 1 << 14
IN_FLIGHT_MAX = 1 << 17     # requests waiting in all rings, at most (Requests.held)
TRACE_MAX = 4096            # --strace: SQE and CQE lines kept for the next io_uring_enter's
IORING_MAX_FIXED_FILES = 1 << 20


# -- requests ------------------------------------------------------------------------
class Request:
    """One SQE on its way: the worker it runs as, the file it holds, what follows it in
    its link chain, and, while it waits, the WouldBlock it waits with."""

    __slots__ = ("ring", "sqe", "op", "worker", "held", "rest", "wait", "waker", "timer", "target", "queued",
                 "link_timeout", "cflags", "in_buffer", "buffer", "reported", "told", "seen", "repeats", "drain")

    def __init__(self, ring, sqe, op, worker):
        self.ring, self.sqe, self.op, self.worker = ring, sqe, op, worker
        self.held = None        # (fd the handler is given, open file): what fdget gave it
        self.rest = ()          # the requests linked after it, run when it completes
        self.wait = None
        self.waker = None       # what its queues call
        self.timer = None       # a TIMEOUT's kernel timer
        self.target = None      # a count TIMEOUT's number of completions; a LINK_TIMEOUT's or multishot
                                # TIMEOUT's seconds
        self.repeats = 0        # a multishot TIMEOUT's CQEs still to post (0: for ever)
        self.queued = False     # on the ready list
        self.link_timeout = None    # the LINK_TIMEOUT linked right after it
        self.cflags = 0             # its CQE's flags (IORING_CQE_F_*)
        self.in_buffer = False      # running with a provided buffer in its SQE's place
        self.buffer = None          # that buffer: (address, length)
        self.drain = bool(sqe.flags & IOSQE_IO_DRAIN)      # (REQ_F_IO_DRAIN: io_init_drain may set it)
        self.reported = False       # a multishot poll that has reported this readiness
        self.told = None            # while it waits on host fds: the host waker's token, or a timer
        self.seen = 0               # a poll's events when its wait was told (Op.woken)

    @property
    def user_data(self):
        return self.sqe.user_data


class Worker(Task):
    """What a request runs as: a task of its own over the submitting thread (its files,
    memory and process), with the credentials of a registered personality if the SQE
    names one (io_uring's personalities: the creds of whoever registered them)."""

    __slots__ = ("own_creds",)

    def __init__(self, task, creds=None):
        super().__init__(task.tid, task.process, task.thread)
        self.own_creds = creds

    @property
    def creds(self):
        return self.process.creds if self.own_creds is None else self.own_creds


class Requests:
    """A ring's requests in flight (ring.requests): those waiting, those ready to run
    again, chains held back by a drain, and the pending TIMEOUTs.

    `held` counts the requests of every ring that wait or are held back: past
    IN_FLIGHT_MAX a submission stops (EAGAIN if it took none), as Linux's does when
    it cannot allocate a request, so the supervisor's memory stays bounded."""

    held = 0
    everywhere = weakref.WeakSet()      # every ring's Requests (task_gone cancels in each)

    def __init__(self, ring, kernel):
        self.ring, self.kernel = ring, kernel
        Requests.everywhere.add(self)
        if _task_execs not in kernel.exec_hooks:
            kernel.exec_hooks.append(_task_execs)
        self.waiting = {}       # (a dict as an ordered set: thousands may wait)
        self.signal_waiters = set()     # those waiting on a signalfd
        self.by_user_data = {}          # user_data -> {request: None} of the waiting (cancels look there)
        self.ready = []
        self.drained = []       # chains waiting for every request before them (IOSQE_IO_DRAIN)
        self.timeouts = []
        self.completions = 0    # CQEs posted for requests other than TIMEOUTs (their count)
        self.scheduled = False
        self.to_start = collections.deque()     # chains to start (start)
        self.starting = False
        self.running = 0        # requests being issued now (one inside another's completion)
        self.drain_next = False     # a drain in the middle of a chain drains the next chain too
        self.closed = False
        self.inline = False     # requests run in io_uring_enter's submission (EVENTFD_ASYNC skips them)

    # -- running -------------------------------------------------------------------
    def queue(self, chain):
        """A chain (one request, or several linked) as submitted: run now, or after the
        requests before it if it or one before it asked for a drain."""
        if self.drained or (chain[0].drain and self.in_flight()):
            self.drained.append(chain)
            Requests.held += len(chain)
            return
        self.start(chain)

    def in_flight(self):
        return bool(self.waiting or self.timeouts or self.running)

    def start(self, chain):
        """Run the chain's first request (what follows it runs when it completes). Chains
        that complete one request after another run here in turn, not one inside the
        other's call: a chain of thousands of linked requests is only a longer loop."""
        self.to_start.append(chain)
        if self.starting:
            return
        self.starting = True
        try:
            while self.to_start:
                self._start(self.to_start.popleft())
        finally:
            self.starting = False

    def _start(self, chain):
        req, rest = chain[0], chain[1:]
        if rest and rest[0].op.name == "LINK_TIMEOUT":
            req.link_timeout, rest = rest[0], rest[1:]
        req.rest = rest
        if req.op.name == "LINK_TIMEOUT":      # linked after another LINK_TIMEOUT: it times nothing
            self.complete(req, -errno.ECANCELED)
            return
        self.issue(req)

    def issue(self, req):
        """Run the request; it completes now, or waits. A multishot request posts each
        result with IORING_CQE_F_MORE and runs again until it must wait or fails. While
        it runs it counts as in flight: chains drained behind it go once it is done."""
        self.running += 1
        try:
            self._issue(req)
        finally:
            self.running -= 1
        if self.drained and not self.in_flight():
            self.release_drained()

    def _issue(self, req):
        try:
            res = self.run(req)
            if res is None:         # a TIMEOUT, armed
                self.arm_link_timeout(req)
                return
            while req.op.multishot(req) and (res > 0 or res == 0 and req.op.name == "ACCEPT"):  # (EOF ends one)
                if not self.ring.has_room():
                    break           # a full CQ ends it: this result is its last CQE, without MORE
                self.post(req, res, req.cflags | IORING_CQE_F_MORE)
                req.cflags = 0
                res = self.run(req)
        except WouldBlock as wait:
            if req.sqe.op_flags & RWF_NOWAIT and req.op.rw:
                res = -errno.EAGAIN
            else:
                self.park(req, wait)
                self.arm_link_timeout(req)
                return
        self.complete(req, res, req.cflags)

    def arm_link_timeout(self, req):
        """The request waits: its LINK_TIMEOUT's time starts."""
        lt = req.link_timeout
        if lt is not None and lt.timer is None:
            lt.timer = self.kernel.timers.add(time.monotonic() + lt.target, functools.partial(self.link_timed_out, req))

    def run(self, req):
        """The opcode's function as the worker, with the file the request holds;
        -ECANCELED once the thread that submitted it is gone (an SQPOLL ring's go on
        over another thread of the process while there is one)."""
        worker, kernel = req.worker, self.kernel
        if _gone(worker, kernel, self.inline) and (self.ring.sqpoll is None or not _move_worker(worker)):
            return -errno.ECANCELED
        if req.held is None and req.sqe.flags & IOSQE_FIXED_FILE and req.op.file:
            # a registered file is looked up when the request is issued (io_assign_file), so a
            # direct open linked before it is seen; an op with no file ignores the flag
            fixed, fd = self.ring.files, req.sqe.fd
            if not (0 <= fd < len(fixed) and fixed[fd] is not None):
                return -errno.EBADF
            fixed[fd].get()
            req.held = (FIXED_FD, fixed[fd])
        if req.sqe.flags & IOSQE_BUFFER_SELECT and not req.in_buffer:
            return self.run_with_buffer(req)
        files = worker.files
        if req.op.rw and self.ring.setup_flags & SETUP_IOPOLL:
            try:
                if req.held is None:
                    files.get_file(req.sqe.fd)      # (EBADF first)
            except SyscallError as e:
                return -e.errno
            return -errno.EOPNOTSUPP                # (io_rw_init_file: no file of ours has ->iopoll)
        saved, files.held = files.held, req.held
        current, kernel.current = kernel.current, worker
        try:
            res = req.op.fn(req)
            if res == -errno.EAGAIN and req.op.polls:       # (an O_NONBLOCK file's: Linux arms a poll)
                wait = poll_armed(req, req.op.polls)
                if wait is not None:
                    raise wait
            if res is not None and res.__class__ is not int:
                return -errno.EOPNOTSUPP        # the host would have to run it (the lent terminal)
            if res == -errno.EFAULT and not self.inline and _dying(worker):
                return -errno.ECANCELED
            return res
        except SyscallError as e:
            if e.errno == errno.EFAULT and not self.inline and _dying(worker):
                return -errno.ECANCELED
            if e.errno == errno.EAGAIN and req.op.polls:
                wait = poll_armed(req, req.op.polls)
                if wait is not None:
                    raise wait from None
            return -e.errno
        except WouldBlock:
            raise
        except ThreadGone:
            return -errno.ECANCELED
        except Exception:
            log.error("io_uring %s crashed:\n%s", req.op.name, traceback.format_exc())
            return -errno.EIO
        finally:
            files.held = saved
            kernel.current = current

    def run_with_buffer(self, req):
        """IOSQE_BUFFER_SELECT: the first buffer of group buf_index (-ENOBUFS if it has
        none) stands for the SQE's address and length (a length of 0: the buffer's); it
        is used up when the request succeeds (IORING_CQE_F_BUFFER | bid << 16), else
        goes back to the head of its group."""
        sqe = req.sqe
        buf_ring, group = self.ring.buffer_rings.get(sqe.buf_index), self.ring.buffer_groups.get(sqe.buf_index)
        if buf_ring is not None:
            return self.run_with_ring_buffer(req, buf_ring)
        if not group:
            return -errno.ENOBUFS
        addr, length, bid = group.popleft()
        keep = sqe.addr, sqe.len
        self._select(req, addr, length)
        try:
            res = self.run(req)
        except WouldBlock:
            group.appendleft((addr, length, bid))
            raise
        finally:
            sqe.addr, sqe.len = keep
            req.in_buffer = False
        if res < 0 or (res == 0 and req.op.multishot(req)):     # (EOF ends a multishot recv unused)
            group.appendleft((addr, length, bid))
        else:
            req.cflags |= IORING_CQE_F_BUFFER | bid << IORING_CQE_BUFFER_SHIFT
        return res

    @staticmethod
    def _select(req, addr, length):
        """The provided buffer stands for the SQE's address and length (a length of 0:
        the buffer's), or, for RECVMSG, for its msghdr's iovec (req.buffer)."""
        req.in_buffer = True
        req.buffer = addr, length
        if req.op.buffer_select != "msghdr":
            sqe = req.sqe
            sqe.addr, sqe.len = addr, min(sqe.len, length) if sqe.len else length

    def run_with_ring_buffer(self, req, buf_ring):
        """BUFFER_SELECT from a buffer ring: its next buffer, read from the program's
        memory now, taken (the head moves) only when the request succeeds."""
        sqe = req.sqe
        try:
            first = buf_ring.first(req.worker.mem)
        except SyscallError as e:
            return -e.errno
        if first is None:
            return -errno.ENOBUFS
        addr, length, bid = first
        keep = sqe.addr, sqe.len
        self._select(req, addr, length)
        try:
            res = self.run(req)
        finally:
            sqe.addr, sqe.len = keep
            req.in_buffer = False
        if res > 0 or (res == 0 and not req.op.multishot(req)):
            buf_ring.take()
            req.cflags |= IORING_CQE_F_BUFFER | bid << IORING_CQE_BUFFER_SHIFT
        return res

    def park(self, req, wait):
        if req.held is None and wait.file is not None:
            fd = req.worker.files.fd_of(wait.file, (req.sqe.fd,))
            if fd is not None:
                wait.file.get()
                req.held = (fd, wait.file)
        req.wait = wait
        Requests.held += 1
        req.waker = functools.partial(self.wake, req)
        for queue in wait.waitables:
            queue.add(req.waker)
        if wait.host or wait.recheck is not None:
            # (a socket's, the terminal's: no thread of the program need wait for them)
            platform = self.kernel.platform
            req.told = platform.tell_when_ready(wait.host, req.waker) if wait.host else None
            if req.told is None:
                req.told = self.kernel.timers.add(time.monotonic() + (wait.recheck or RECHECK), req.waker)
        if req.held is not None and getattr(req.held[1], "wake_signals", 0):
            self.signal_waiters.add(req)
        self.waiting[req] = None
        self.by_user_data.setdefault(req.user_data, {})[req] = None

    def wake(self, req):
        """A queue the request waits on was told: run it again soon, between stops."""
        if req.queued or req not in self.waiting:
            return
        if req.op.woken is not None:
            req.op.woken(req)
        req.queued = True
        self.ready.append(req)
        if not self.scheduled:
            self.scheduled = True
            self.kernel.defer(self.run_ready)

    def run_ready(self):
        """Run again the requests whose queues (or host fds) told."""
        self.scheduled = False
        ready, self.ready = self.ready, []
        for req in ready:
            req.queued = False
            if req in self.waiting:
                self.unpark(req)
                self.issue(req)

    def signal_waits(self):
        """The signals the waiting requests' signalfds take (0: none): a thread waiting in
        io_uring_enter waits for them too, and then looks at those requests again."""
        mask = 0
        for req in self.signal_waiters:
            mask |= req.held[1].wake_signals
        return mask

    def wake_signal_waits(self):
        for req in list(self.signal_waiters):
            if req.held[1].poll():
                self.wake(req)

    def unpark(self, req):
        del self.waiting[req]
        same = self.by_user_data[req.user_data]
        del same[req]
        if not same:
            del self.by_user_data[req.user_data]
        self.signal_waiters.discard(req)
        Requests.held -= 1
        for queue in req.wait.waitables:
            queue.remove(req.waker)
        if req.told.__class__ is int:
            self.kernel.platform.forget(req.told)
        elif req.told is not None:
            req.told.cancel()
        req.wait = req.waker = req.told = None

    def complete(self, req, res, cflags=0):
        """Post the request's CQE (unless CQE_SKIP_SUCCESS and it succeeded), then what is
        linked after it: run, or cancelled after a failure unless the link was hard."""
        drop(req)
        if not (res >= 0 and req.sqe.flags & IOSQE_CQE_SKIP_SUCCESS):
            self.post(req, res, cflags)
        lt, req.link_timeout = req.link_timeout, None
        if lt is not None:          # the request beat its LINK_TIMEOUT
            if lt.timer is not None:
                lt.timer.cancel()
            if not lt.sqe.flags & IOSQE_CQE_SKIP_SUCCESS:      # (io_disarm_next: not a failure)
                self.post(lt, -errno.ECANCELED)
        rest, req.rest = req.rest, ()
        if rest:
            failed = res < 0 or (req.op.short_fails and res < req.sqe.len)
            if res == -errno.ETIME and req.op.name == "TIMEOUT" and req.sqe.op_flags & IORING_TIMEOUT_ETIME_SUCCESS:
                failed = False
            if failed and not req.sqe.flags & IOSQE_IO_HARDLINK:
                # (a failed request that asked CQE_SKIP_SUCCESS posts its own CQE and
                # skips those of the chain: req_set_fail's REQ_F_SKIP_LINK_CQES)
                self.cancel_chain(rest, post=not req.sqe.flags & IOSQE_CQE_SKIP_SUCCESS)
            else:
                self.start(rest)
        if self.drained and not self.in_flight():
            self.release_drained()

    def release_drained(self):
        chains, self.drained = self.drained, []
        Requests.held -= sum(map(len, chains))
        for chain in chains:
            self.queue(chain)

    def post(self, req, res, cflags=0):
        # (a multishot poll reports through task work even when it is ready at once:
        # __io_poll_execute, so a DEFER_TASKRUN ring holds that CQE too)
        task_work = req.op.name == "POLL_ADD" and cflags & IORING_CQE_F_MORE
        self.post_data(req.user_data, res, cflags, counted=req.op.name != "TIMEOUT", task_work=task_work)

    def post_data(self, user_data, res, cflags=0, counted=True, task_work=False):
        """A CQE, and what follows one: --strace's line, count TIMEOUTs reached, the
        registered eventfd told. A DEFER_TASKRUN ring holds what completes outside its
        submitter's io_uring_enter until that thread enters (io_req_local_work_add), with
        IORING_SQ_TASKRUN set if TASKRUN_FLAG asked."""
        ring = self.ring
        if ring.setup_flags & SETUP_DEFER_TASKRUN and (task_work or not self.inline):
            ring.local_work.append((user_data, res, cflags))
            if ring.setup_flags & SETUP_TASKRUN_FLAG:
                ring._set_sq_flag(IORING_SQ_TASKRUN, True)
            ring.cq_posted.notify()
        else:
            ring.post(user_data, res, cflags)
        if ring.trace is not None:
            ring.note(f"cqe user_data={user_data} res={_res_text(res)}" + (f" flags={cflags}" if cflags else ""))
        if counted:
            self.completions += 1
            for t in [t for t in self.timeouts if t.target is not None and self.completions >= t.target
                      and not t.sqe.op_flags & IORING_TIMEOUT_MULTISHOT]:
                self.end_timeout(t, 0)
        if ring.eventfd is not None and ring.eventfd_enabled() and not (ring.eventfd[1] and self.inline):
            ring.eventfd[0].signal()

    # -- cancelling ----------------------------------------------------------------
    def cancel_chain(self, chain, post=True):
        """Requests linked after one that failed (or with one refused): -ECANCELED each,
        the files they hold let go."""
        for r in chain:
            drop(r)
            if post:
                self.post(r, -errno.ECANCELED)

    def cancel(self, match, everything=False, user_data=None):
        """Cancel the waiting requests `match` picks (the first, or all), among those of
        `user_data` if it is given: -ECANCELED."""
        found = 0
        candidates = self.waiting if user_data is None else self.by_user_data.get(user_data, ())
        for req in [r for r in candidates if match(r)]:
            self.unpark(req)
            self.complete(req, -errno.ECANCELED)
            found += 1
            if not everything:
                break
        return found

    def link_timed_out(self, req):
        """A LINK_TIMEOUT's time came before its request completed: the request is
        cancelled (and what is linked after it), the timeout ends with -ETIME."""
        lt, req.link_timeout = req.link_timeout, None
        if lt is None:
            return
        if req in self.timeouts:
            self.end_timeout(req, -errno.ECANCELED)
        elif req in self.waiting:
            self.unpark(req)
            self.complete(req, -errno.ECANCELED)
        else:
            return
        if not lt.sqe.flags & IOSQE_CQE_SKIP_SUCCESS:
            self.post(lt, -errno.ETIME)

    def add_timeout(self, req):
        self.timeouts.append(req)
        Requests.held += 1

    def cancel_timeout(self, req):
        """TIMEOUT_REMOVE found it: -ECANCELED, posted after the remove's own CQE (Linux
        fails it through task work: io_req_task_queue_fail)."""
        self.timeouts.remove(req)
        Requests.held -= 1
        if req.timer is not None:
            req.timer.cancel()
        self.kernel.defer(lambda: self.closed or self.complete(req, -errno.ECANCELED))

    def timeout_fired(self, req):
        """A TIMEOUT's time came: -ETIME; a multishot one goes on (io_timeout_finish)."""
        if req.sqe.op_flags & IORING_TIMEOUT_MULTISHOT and req in self.timeouts:
            if req.repeats != 1 and self.ring.has_room():
                self.ring.cq_timeouts += 1
                self.post(req, -errno.ETIME, IORING_CQE_F_MORE)
                req.repeats = max(0, req.repeats - 1)
                req.timer = self.kernel.timers.add(time.monotonic() + req.target, functools.partial(self.timeout_fired, req))
                return
        self.end_timeout(req, -errno.ETIME)

    def end_timeout(self, req, res):
        if req in self.timeouts:
            self.timeouts.remove(req)
            Requests.held -= 1
            if res != -errno.ECANCELED:
                self.ring.cq_timeouts += 1      # (io_timeout_fn, io_kill_timeout)
            if req.timer is not None:
                req.timer.cancel()
            self.complete(req, res)

    def ring_closed(self):
        """The ring's last reference went: what waits is dropped, with no CQE to post,
        and the files it and what is linked after it hold let go."""
        self.closed = True
        for req in list(self.waiting):
            self.unpark(req)
            for r in (req, *req.rest):
                drop(r)
        for req in self.timeouts:
            if req.timer is not None:
                req.timer.cancel()
        for chain in self.drained:
            for r in chain:
                drop(r)
        Requests.held -= len(self.timeouts) + sum(map(len, self.drained))
        self.timeouts = []
        self.drained = []


def drop(req):
    """The file a request holds is let go (it will not run)."""
    if req.held is not None:
        req.held[1].put()
        req.held = None


def _task_execs(task):
    """A thread execs: the requests it submitted are cancelled (-ECANCELED), as
    io_uring_task_cancel does; an SQPOLL ring's belong to its poller and go on. (A
    thread that exits leaves its requests waiting; each ends -ECANCELED when it would
    have run: Requests.run.)"""
    for requests in list(Requests.everywhere):
        if requests.ring.sqpoll is None:
            mine = lambda r: r.worker.tid == task.tid
            requests.cancel(mine, everything=True)
            for t in [t for t in requests.timeouts if mine(t)]:
                requests.end_timeout(t, -errno.ECANCELED)


def _gone(worker, kernel, inline):
    """Has the thread a request runs over exited? (Inline, it is the one submitting.)"""
    return not inline and worker.tid not in kernel.tasks


def _dying(worker):
    """Has the thread exited before we heard of it (a zombie the host has not reported,
    whose memory is gone)?"""
    try:
        with open(f"/proc/{worker.process.pid}/task/{worker.tid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[1].split()[0] in (b"Z", b"X")
    except (OSError, IndexError):
        return True


def _move_worker(worker):
    """The thread that set an SQPOLL ring up is gone: the worker goes on over another
    thread of its process (its memory is the same), if one is left."""
    alive = next(iter(worker.process.tasks.values()), None)
    if alive is None:
        return False
    worker.tid, worker.thread, worker.mem = alive.tid, alive.thread, alive.mem
    return True


# -- submission ---------------------------------------------------------------------------
def _requests(ring, task):
    if ring.requests is None:
        ring.requests = Requests(ring, task.process.kernel)
    return ring.requests


def _prepare(ring, task, sqe):
    """io_init_req: the opcode and the SQE's flags (a registered file is looked up when
    the request runs); EINVAL et al. fail the request at once (and stop the submission
    without SUBMIT_ALL)."""
    op = OPS.get(sqe.opcode)
    check(op is not None, errno.EINVAL)
    check(not sqe.flags & ~SQE_FLAGS, errno.EINVAL)
    check(op.ioprio or not sqe.ioprio, errno.EINVAL)
    if op.rw and sqe.ioprio:
        _ioprio_check_cap(task, sqe.ioprio)
    if ring.restrictions is not None:
        ring.restrictions.check_sqe(sqe)
    creds = None
    if sqe.personality:
        creds = ring.personalities.get(sqe.personality)
        check(creds is not None, errno.EINVAL)
    check(not ring.setup_flags & SETUP_IOPOLL or op.name in IOPOLL_OPS, errno.EINVAL)
    req = Request(ring, sqe, op, Worker(task, creds))
    if op.prep is not None:
        op.prep(req)
    if sqe.flags & IOSQE_BUFFER_SELECT:
        check(op.buffer_select, errno.EOPNOTSUPP)
    return req


IOPRIO_CLASS_NONE, IOPRIO_CLASS_RT, IOPRIO_CLASS_BE, IOPRIO_CLASS_IDLE = 0, 1, 2, 3


def _ioprio_check_cap(task, ioprio):
    """A read's or write's I/O priority, checked as io_prep_rw does (ioprio_check_cap):
    the real-time class needs CAP_SYS_NICE or CAP_SYS_ADMIN (EPERM); an unknown class,
    or a level with the class NONE, is EINVAL."""
    klass, level = ioprio >> 13 & 7, ioprio & 7
    if klass == IOPRIO_CLASS_RT:
        check(task.creds.capable(CAP_SYS_NICE) or task.creds.capable(CAP_SYS_ADMIN), errno.EPERM)
    check(klass in (IOPRIO_CLASS_RT, IOPRIO_CLASS_BE, IOPRIO_CLASS_IDLE) or klass == IOPRIO_CLASS_NONE and not level,
          errno.EINVAL)


def submit(task, ring, count):
    """io_submit_sqes: up to `count` SQEs from the SQ; links gather into chains that end
    with the first SQE without IOSQE_IO_LINK/HARDLINK (or the batch). Returns how many
    were taken."""
    requests = _requests(ring, task)
    count = min(count, ring.sq_ready())
    requests.inline = True
    try:
        submitted = _take(ring, requests, task, count)
    finally:
        requests.inline = False
    ring.commit_sq()
    return submitted


def _take(ring, requests, task, count):
    submitted = 0
    chain = []
    while submitted < count:
        if Requests.held >= IN_FLIGHT_MAX:
            check(submitted, errno.EAGAIN)
            break
        sqe = ring.next_sqe()
        if sqe is None:
            break
        submitted += 1
        if ring.trace is not None:
            ring.note(_sqe_text(sqe))
        try:
            req = _prepare(ring, task, sqe)
        except SyscallError as e:
            requests.post_data(sqe.user_data, -e.errno)
            requests.cancel_chain(chain)        # a chain whose member was refused goes whole
            chain = []
            if not ring.setup_flags & SETUP_SUBMIT_ALL:
                break
            continue
        if req.op.name == "TIMEOUT" and not chain and not sqe.flags & (IOSQE_IO_LINK | IOSQE_IO_HARDLINK):
            res = requests.run(req)
            if res is not None:
                requests.complete(req, res)
            continue
        if req.op.name == "LINK_TIMEOUT":
            res = requests.run(req) if chain else -errno.EINVAL     # it must follow a linked request
            if res is not None:
                requests.post(req, res)
                requests.cancel_chain(chain)
                chain = []
                if not ring.setup_flags & SETUP_SUBMIT_ALL:
                    break
                continue
        if req.drain and chain:     # io_init_drain: the chain's head drains, and the next chain
            chain[0].drain = requests.drain_next = True
        elif not chain and requests.drain_next:
            req.drain, requests.drain_next = True, False
        chain.append(req)
        if not sqe.flags & (IOSQE_IO_LINK | IOSQE_IO_HARDLINK):
            requests.queue(chain)
            chain = []
    if chain:
        requests.queue(chain)
    return submitted


# -- --strace --------------------------------------------------------------------------------
_SQE_FLAG_NAMES = ((IOSQE_FIXED_FILE, "FIXED_FILE"), (IOSQE_IO_DRAIN, "IO_DRAIN"), (IOSQE_IO_LINK, "IO_LINK"),
                   (IOSQE_IO_HARDLINK, "IO_HARDLINK"), (IOSQE_ASYNC, "ASYNC"), (IOSQE_BUFFER_SELECT, "BUFFER_SELECT"),
                   (IOSQE_CQE_SKIP_SUCCESS, "CQE_SKIP_SUCCESS"))


def _sqe_text(sqe):
    """An SQE as --strace shows it: opcode name, fd, offset, address, length, flags, user_data."""
    op = OPS.get(sqe.opcode)
    name = op.name if op is not None else f"{sqe.opcode} /* IORING_OP_??? */"
    flags = "|".join(n for bit, n in _SQE_FLAG_NAMES if sqe.flags & bit) or "0"
    return (f"sqe {name} fd={sqe.fd} off={s64(sqe.off)} addr={sqe.addr:#x} len={sqe.len} "
            f"op_flags={sqe.op_flags:#x} flags={flags} user_data={sqe.user_data}")


def _res_text(res):
    if res < 0:
        return f"{res} {errno.errorcode.get(-res, '?')}"
    return str(res)


# -- the syscalls --------------------------------------------------------------------------
def _pow2(n):
    return 1 << (n - 1).bit_length()


@syscall("io_uring_setup", "Uu")
def io_uring_setup(task, entries, params_addr):
    """io_uring_setup(2): a ring of `entries` SQEs (a power of two) and twice as many CQEs
    (or cq_entries with CQSIZE); the params written back with the offsets to map."""
    raw = task.mem.read(params_addr, PARAMS.size)
    p = list(PARAMS.unpack(raw))
    cq_want, flags = p[1], p[2]
    check(not any(p[7:10]), errno.EINVAL)                   # resv
    check(not flags & ~SETUP_FLAGS, errno.EINVAL)           # (HYBRID_IOPOLL, 1 << 17, is not built)
    check(not flags & SETUP_REGISTERED_FD_ONLY or flags & SETUP_NO_MMAP, errno.EINVAL)
    check(0 < entries, errno.EINVAL)
    if entries > IORING_MAX_ENTRIES:
        check(flags & SETUP_CLAMP, errno.EINVAL)
        entries = IORING_MAX_ENTRIES
    sq = _pow2(entries)
    if flags & SETUP_CQSIZE:
        check(cq_want != 0, errno.EINVAL)
        if cq_want > IORING_MAX_CQ_ENTRIES:
            check(flags & SETUP_CLAMP, errno.EINVAL)
            cq_want = IORING_MAX_CQ_ENTRIES
        cq = _pow2(cq_want)
        check(cq >= sq, errno.EINVAL)
    else:
        cq = 2 * sq
    check(not flags & SETUP_TASKRUN_FLAG or flags & (SETUP_COOP_TASKRUN | SETUP_DEFER_TASKRUN), errno.EINVAL)
    check(not flags & SETUP_DEFER_TASKRUN or flags & SETUP_SINGLE_ISSUER, errno.EINVAL)
    if flags & SETUP_SQ_AFF:
        check(flags & SETUP_SQPOLL and p[3] < (os.cpu_count() or 1), errno.EINVAL)
    check(not flags & SETUP_SQPOLL or not flags & (SETUP_COOP_TASKRUN | SETUP_DEFER_TASKRUN), errno.EINVAL)
    if flags & SETUP_ATTACH_WQ:
        _attach_to(task, p[6], flags)
    ring = Ring(sq, cq, flags, 128 if flags & SETUP_SQE128 else 64, 32 if flags & SETUP_CQE32 else 16)
    if flags & SETUP_NO_MMAP:
        try:
            _map_user_rings(task, ring, p[27], p[18])
        except (SyscallError, ThreadGone):
            ring.release()
            raise
    if task.process.kernel.tracer:
        ring.trace = collections.deque(maxlen=TRACE_MAX)
    user = flags & SETUP_NO_MMAP        # (io_uring_fill_params: user_addr stays with NO_MMAP)
    sq_off = [0, 4, 16, 24, 36, 32, 0 if flags & SETUP_NO_SQARRAY else ring.sq_array, 0, p[18] if user else 0]
    cq_off = [8, 12, 20, 28, 44, 64, 40, 0, p[27] if user else 0]
    out = PARAMS.pack(sq, cq, flags, p[3], p[4], FEATURES, p[6], 0, 0, 0, *sq_off, *cq_off)
    try:
        task.mem.write(params_addr, out)
    except SyscallError:
        ring.release()
        raise
    ring.owner = task
    if flags & SETUP_SINGLE_ISSUER and not flags & SETUP_R_DISABLED:
        ring.submitter = task.tid
    _requests(ring, task)
    if flags & SETUP_SQPOLL:
        ring.sq_idle_ms = p[4] or SQ_THREAD_IDLE_MS
        if ring.enabled and not _start_sqpoll(task, ring):
            ring.release()
            raise SyscallError(errno.ENOMEM)
    if flags & SETUP_REGISTERED_FD_ONLY:
        return _register_only(task, ring)
    return task.files.install_new(ring, cloexec=True)


def _map_user_rings(task, ring, rings_at, sqes_at):
    """IORING_SETUP_NO_MMAP: the rings go at cq_off.user_addr and the SQEs at
    sq_off.user_addr, in the program's memory (EINVAL if not page aligned, EFAULT if
    not mapped, as pinning it would fail). Both are made to map the ring's memory,
    which takes what they held (but for the rings' header)."""
    regions = ((rings_at, 0, _page_up(ring.rings_size)), (sqes_at, ring.sqes_at, _page_up(ring.sqes_size)))
    held = []
    platform = task.process.kernel.platform
    for addr, _, size in regions:
        check(not addr & (PAGE - 1), errno.EINVAL)
        check(addr and not platform.touches_reserved(addr, size), errno.EFAULT)
        held.append(task.mem.read(addr, size))
    ring.adopt(*held)
    with platform.inject(task.thread) as inj:
        tfd = inj.install_fd(ring.memfd)
        try:
            for addr, offset, size in regions:
                r = inj.syscall(SYS_mmap, addr, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, tfd, offset)
                check(r == addr, errno.ENOMEM)
        finally:
            inj.close_fd(tfd)


def _page_up(n):
    return (n + PAGE - 1) & ~(PAGE - 1)


def _register_only(task, ring):
    """IORING_SETUP_REGISTERED_FD_ONLY: no fd; the ring's index among the thread's
    registered rings (EBUSY if they are all taken), for IORING_ENTER_REGISTERED_RING."""
    if task.ring_fds is None:
        task.ring_fds = [None] * IO_RINGFD_REG_MAX
    index = next((i for i, r in enumerate(task.ring_fds) if r is None), None)
    if index is None:
        ring.release()
        raise SyscallError(errno.EBUSY)
    ring.get()
    task.ring_fds[index] = ring
    return index


def _attach_to(task, wq_fd, flags):
    """ATTACH_WQ's wq_fd: a ring (ENXIO for no file, EINVAL for another), and for an SQPOLL
    ring one with a poller, set up in this process (io_attach_sq_data)."""
    try:
        other = task.files.get_file(wq_fd)
    except SyscallError:
        raise SyscallError(errno.ENXIO) from None
    check(isinstance(other, Ring), errno.EINVAL)
    if flags & SETUP_SQPOLL:
        check(other.sqpoll is not None, errno.EINVAL)
        check(other.owner is None or other.owner.process.pid == task.process.pid, errno.EPERM)


_sqpoll_rings = set()


def _start_sqpoll(task, ring):
    """The poller watches the ring's SQ; the supervisor takes what it finds whenever the
    poller's signal ends its wait for a stop (Kernel.idle_hooks)."""
    kernel = task.process.kernel
    if _sqpoll_submit not in kernel.idle_hooks:
        kernel.idle_hooks.append(_sqpoll_submit)
    if not ring.watch_sq(ring.sq_idle_ms, kernel.platform.wake_signal()):
        return False
    _sqpoll_rings.add(ring)
    return True


def _sqpoll_submit():
    """The SQPOLL thread's work: what the program queued on each watched ring, submitted
    as the task that set the ring up."""
    for ring in list(_sqpoll_rings):
        if ring.sqpoll is None:
            _sqpoll_rings.discard(ring)         # (closed)
        elif ring.sq_ready():
            submit(ring.owner, ring, ring.sq_ready())


def _registered_ring(task, index):
    """The ring a thread registered at `index` (REGISTER_RING_FDS); EINVAL for a thread
    that has not used io_uring yet (it has no io_uring context, tctx)."""
    check(0 <= index < IO_RINGFD_REG_MAX and task.ring_fds is not None, errno.EINVAL)
    ring = task.ring_fds[index]
    check(ring is not None, errno.EBADF)
    return ring


def _thread_context(task):
    """The thread's io_uring context from its first use of a ring on (io_uring_add_tctx_node):
    its registered rings' table."""
    if task.ring_fds is None:
        task.ring_fds = [None] * IO_RINGFD_REG_MAX


def _ring(task, fd):
    """The ring behind fd: EBADF, or EOPNOTSUPP for another file."""
    f = task.files.get_file(fd)
    check(isinstance(f, Ring), errno.EOPNOTSUPP)
    return f


class _Enter:
    """What a parked io_uring_enter keeps for its retries."""

    __slots__ = ("ring", "submitted", "sigmask", "timeouts")

    def __init__(self, ring, submitted, sigmask):
        self.ring, self.submitted, self.sigmask = ring, submitted, sigmask
        self.timeouts = ring.cq_timeouts


def _wait_args(task, flags, argp, argsz):
    """(timeout in seconds or None, sigmask or None) of an io_uring_enter that waits."""
    if not flags & ENTER_EXT_ARG:
        return None, read_sigmask(task, argp, argsz)
    if not argp:
        return None, None
    check(argsz == GETEVENTS_ARG.size, errno.EINVAL)
    sigmask_addr, sigmask_sz, _min_wait, ts = GETEVENTS_ARG.unpack(task.mem.read(argp, GETEVENTS_ARG.size))
    timeout = None
    if ts:
        sec, nsec = TIMESPEC.unpack(task.mem.read(ts, TIMESPEC.size))
        timeout = sec + nsec / 1e9          # (as timespec64_to_ktime: not checked)
        if flags & ENTER_ABS_TIMER:
            timeout -= time.monotonic()
        timeout = max(0.0, timeout)
    return timeout, read_sigmask(task, sigmask_addr, sigmask_sz)


@syscall("io_uring_enter", "iUUUuu")
def io_uring_enter(task, fd, to_submit, min_complete, flags, argp, argsz):
    """io_uring_enter(2): submit, then with GETEVENTS wait until min_complete CQEs are
    there (ETIME after EXT_ARG's timeout). Returns the number of SQEs taken, if any."""
    state = task.resume if isinstance(task.resume, _Enter) else None
    if state is None:
        check(not flags & ~ENTER_FLAGS, errno.EINVAL)
        check(not flags & ENTER_EXT_ARG_REG, errno.EINVAL)           # (no registered wait regions)
        ring = _registered_ring(task, fd) if flags & ENTER_REGISTERED_RING else _ring(task, fd)
        _thread_context(task)
        check(ring.enabled, errno.EBADFD)
        timeout, sigmask = _wait_args(task, flags, argp, argsz) if flags & ENTER_GETEVENTS else (None, None)
        if ring.sqpoll is not None:
            if flags & ENTER_SQ_WAKEUP:
                ring.wake_sq()
            submit(task, ring, ring.sq_ready())     # what the poller has not taken yet
            submitted = to_submit                   # (as Linux answers for an SQPOLL ring)
        else:
            # (SINGLE_ISSUER: only its submitter submits; with DEFER_TASKRUN only it may wait)
            check(not to_submit or ring.submitter in (None, task.tid), errno.EEXIST)
            check(not (flags & ENTER_GETEVENTS and ring.setup_flags & SETUP_DEFER_TASKRUN)
                  or ring.submitter in (None, task.tid), errno.EEXIST)
            submitted = submit(task, ring, to_submit) if to_submit else 0
        state = _Enter(ring, submitted, sigmask)
        if flags & ENTER_GETEVENTS and timeout is not None:
            task.deadline = time.monotonic() + timeout
    ring = state.ring
    requests = _requests(ring, task)
    signals = requests.signal_waits()
    if signals:
        requests.wake_signal_waits()
    requests.run_ready()
    if ring.local_work and flags & ENTER_GETEVENTS and ring.submitter == task.tid:     # (io_run_local_work)
        work, ring.local_work = ring.local_work, []
        for cqe in work:
            ring.post(*cqe)
    ring.flush_overflow()
    ring._set_sq_flag(IORING_SQ_TASKRUN, False)
    # (a TIMEOUT that fires ends the wait whatever min_complete says: io_should_wake)
    if flags & ENTER_GETEVENTS and ring.cq_ready() < min_complete and ring.cq_timeouts == state.timeouts:
        if task.timed_out():
            task.resume = None
            task.progress = 0       # (a write after would take it for bytes already written)
            return state.submitted or (0 if ring.cq_ready() else -errno.ETIME)     # (io_cqring_wait)
        task.resume = state
        task.progress = state.submitted         # a signal ends the wait with the count
        # (a signal that runs no handler, as an ignored SIGCHLD that ptrace makes us see,
        # restarts the wait: Linux's would never have seen it)
        # (the wait holds the ring, as io_uring_enter's fdget: a close of its fd by
        # another thread meanwhile does not end it)
        raise WouldBlock([ring.cq_posted], timeout=task.remaining(), restart=ERESTARTNOHAND, sigmask=state.sigmask,
                         signals=requests.signal_waits() if signals else 0, file=ring)
    task.resume = None
    task.progress = 0
    return state.submitted


def _read_buffers(task, addr, nr):
    """REGISTER_BUFFERS' iovecs, each checked as io_buffer_validate does (and mapped)."""
    check(0 < nr <= IORING_MAX_REG_BUFFERS, errno.EINVAL)
    raw = task.mem.read(addr, nr * IOVEC.size)
    buffers = []
    for i in range(nr):
        base, length = IOVEC.unpack_from(raw, i * IOVEC.size)
        if not base:
            check(not length, errno.EFAULT)
        else:
            check(0 < length <= SZ_1G, errno.EFAULT if length else errno.EFAULT)
            task.mem.read(base, 1)                  # EFAULT if it is not mapped
            task.mem.read(base + length - 1, 1)
        buffers.append((base, length))
    return buffers


def _register_files(task, ring, addr, nr):
    check(not ring.files, errno.EBUSY)
    check(0 < nr <= IORING_MAX_FIXED_FILES, errno.EINVAL)
    check(nr <= task.files.limit, errno.EMFILE)            # RLIMIT_NOFILE
    fds = struct.unpack(f"<{nr}i", task.mem.read(addr, 4 * nr))
    files = []
    try:
        for fd in fds:
            files.append(file_for_table(task, fd))
    except SyscallError:
        for f in files:
            if f is not None:
                f.put()
        raise
    ring.files = files
    ring.alloc_hint = 0
    return 0


def _update_files(task, ring, addr, nr):
    """REGISTER_FILES_UPDATE: struct io_uring_files_update (offset, fds)."""
    check(nr, errno.EINVAL)
    offset, resv, fds_addr = FILES_UPDATE.unpack(task.mem.read(addr, FILES_UPDATE.size))
    check(not resv, errno.EINVAL)
    return update_files(task, ring, offset, fds_addr, nr)


def _probe(task, ring, addr, nr):
    """REGISTER_PROBE: the opcodes we run, marked IO_URING_OP_SUPPORTED."""
    nr = min(nr, IORING_OP_LAST)
    size = PROBE_HEAD.size + nr * PROBE_OP.size
    check(not any(task.mem.read(addr, size)), errno.EINVAL)
    out = PROBE_HEAD.pack(IORING_OP_LAST - 1, nr, 0, 0, 0, 0) + b"".join(
        PROBE_OP.pack(op, 0, IO_URING_OP_SUPPORTED if op in OPS else 0, 0) for op in range(nr))
    task.mem.write(addr, out)
    return 0


def _register_eventfd(task, ring, addr, nr, async_only=False):
    check(ring.eventfd is None, errno.EBUSY)
    check(nr == 1, errno.EINVAL)
    fd = struct.unpack("<i", task.mem.read(addr, 4))[0]
    f = task.files.get_file(fd)
    check(isinstance(f, EventFd), errno.EINVAL)
    f.get()
    ring.eventfd = (f, async_only)
    return 0


def _sync_cancel(task, ring, addr, nr):
    """REGISTER_SYNC_CANCEL: ASYNC_CANCEL's matching, done now (struct
    io_uring_sync_cancel_reg); 0, the count with ALL or ANY, or -ENOENT."""
    check(addr and nr == 1, errno.EINVAL)
    user_data, fd, flags, _sec, _nsec, opcode, *pad = SYNC_CANCEL.unpack(task.mem.read(addr, SYNC_CANCEL.size))
    check(not any(pad), errno.EINVAL)
    check(not flags & ~CANCEL_FLAGS, errno.EINVAL)
    if flags & IORING_ASYNC_CANCEL_ANY:
        check(not flags & (IORING_ASYNC_CANCEL_FD | IORING_ASYNC_CANCEL_OP), errno.EINVAL)
    found = cancel_requests(ring, Worker(task), flags, user_data, fd, opcode)
    if flags & (IORING_ASYNC_CANCEL_ALL | IORING_ASYNC_CANCEL_ANY):
        return found
    check(found, errno.ENOENT)
    return 0


def _register_ring_fds(task, addr, nr):
    """REGISTER_RING_FDS: rings this thread may name by index in io_uring_enter
    (IORING_ENTER_REGISTERED_RING), at the offsets asked or (-1) the first free one,
    written back; how many were done, or the error that stopped the first."""
    check(0 < nr <= IO_RINGFD_REG_MAX, errno.EINVAL)
    if task.ring_fds is None:
        task.ring_fds = [None] * IO_RINGFD_REG_MAX
    table, done = task.ring_fds, 0
    try:
        for done in range(nr):
            at = addr + done * RSRC_UPDATE.size
            offset, resv, data = RSRC_UPDATE.unpack(task.mem.read(at, RSRC_UPDATE.size))
            check(not resv, errno.EINVAL)
            if offset == 0xFFFFFFFF:
                offset = next((i for i, r in enumerate(table) if r is None), None)
                check(offset is not None, errno.EBUSY)
            check(offset < IO_RINGFD_REG_MAX, errno.EINVAL)
            check(table[offset] is None, errno.EBUSY)
            ring = task.files.get_file(signed32(data))
            check(isinstance(ring, Ring), errno.EOPNOTSUPP)
            task.mem.write(at, struct.pack("<I", offset))
            ring.get()
            table[offset] = ring
        done = nr
    except SyscallError:
        if not done:
            raise
    return done


def _unregister_ring_fds(task, addr, nr):
    check(0 < nr <= IO_RINGFD_REG_MAX, errno.EINVAL)
    done = 0
    try:
        for done in range(nr):
            offset, resv, _ = RSRC_UPDATE.unpack(task.mem.read(addr + done * RSRC_UPDATE.size, RSRC_UPDATE.size))
            check(not resv and offset < IO_RINGFD_REG_MAX, errno.EINVAL)
            if task.ring_fds is not None and task.ring_fds[offset] is not None:
                task.ring_fds[offset].put()
                task.ring_fds[offset] = None
        done = nr
    except SyscallError:
        if not done:
            raise
    return done


IOU_PBUF_RING_MMAP = 1


def _register_pbuf_ring(task, ring, addr, nr):
    """A buffer ring (struct io_uring_buf_reg: ring_addr, ring_entries, bgid, flags,
    resv[3]): entries a power of two up to 32768, the group not in use (EEXIST); in the
    program's memory at ring_addr (page aligned, mapped: EFAULT), or with
    IOU_PBUF_RING_MMAP in ours, which the program maps at IORING_OFF_PBUF_RING | bgid << 16.
    (Incremental consumption, IOU_PBUF_RING_INC, is not built: EINVAL.)"""
    check(nr == 1, errno.EINVAL)
    ring_addr, entries, bgid, flags, *resv = BUF_REG.unpack(task.mem.read(addr, BUF_REG.size))
    check(not any(resv) and not flags & ~IOU_PBUF_RING_MMAP, errno.EINVAL)
    check(entries and entries & (entries - 1) == 0 and entries <= 32768, errno.EINVAL)
    check(bgid not in ring.buffer_rings and bgid not in ring.buffer_groups, errno.EEXIST)
    if flags & IOU_PBUF_RING_MMAP:         # (ring_addr is not looked at)
        ring.buffer_rings[bgid] = BufferRing(0, entries, own=True)
        return 0
    check(ring_addr, errno.EFAULT)
    check(not ring_addr & (PAGE - 1), errno.EINVAL)
    task.mem.read(ring_addr, entries * BufferRing.ENTRY.size)     # (pinned: mapped, or EFAULT)
    ring.buffer_rings[bgid] = BufferRing(ring_addr, entries)
    return 0


def _unregister_pbuf_ring(task, ring, addr, nr):
    check(nr == 1, errno.EINVAL)
    _, _, bgid, flags, *resv = BUF_REG.unpack(task.mem.read(addr, BUF_REG.size))
    check(not any(resv) and not flags, errno.EINVAL)
    buf_ring = ring.buffer_rings.pop(bgid, None)
    check(buf_ring is not None, errno.ENOENT)
    buf_ring.release()
    return 0


BUF_STATUS = struct.Struct("<II32x")     # struct io_uring_buf_status: buf_group, head, resv[8]


def _pbuf_status(task, ring, addr, nr):
    """REGISTER_PBUF_STATUS (io_register_pbuf_status): a buffer ring's head, the next
    buffer we will take, written into the struct; ENOENT for a group with no ring."""
    check(nr == 1, errno.EINVAL)
    raw = task.mem.read(addr, BUF_STATUS.size)
    check(not any(raw[8:]), errno.EINVAL)
    group = BUF_STATUS.unpack(raw)[0]
    buf_ring = ring.buffer_rings.get(group)
    check(buf_ring is not None or group in ring.buffer_groups, errno.ENOENT)
    check(buf_ring is not None, errno.EINVAL)          # (a PROVIDE_BUFFERS group)
    task.mem.write(addr, BUF_STATUS.pack(group, buf_ring.head))
    return 0


class Restrictions:
    """IORING_REGISTER_RESTRICTIONS: the register opcodes, SQE opcodes and SQE flags a
    ring allows once it is enabled (EACCES for the rest)."""

    def __init__(self, register_ops, sqe_ops, allowed, required):
        self.register_ops, self.sqe_ops = register_ops, sqe_ops
        self.allowed, self.required = allowed, required

    def check_sqe(self, sqe):
        check(sqe.opcode in self.sqe_ops, errno.EACCES)
        check(not sqe.flags & ~(self.allowed | self.required), errno.EACCES)
        check(sqe.flags & self.required == self.required, errno.EACCES)


def _register_restrictions(task, ring, addr, nr):
    """Only while the ring is still disabled (EBADFD), once (EBUSY); each entry read
    once (struct io_uring_restriction: opcode, the op or flags, resv, resv2[3])."""
    check(not ring.enabled, errno.EBADFD)
    check(ring.restrictions is None, errno.EBUSY)
    check(addr and nr <= IORING_MAX_RESTRICTIONS, errno.EINVAL)     # (none at all: nothing allowed)
    raw = task.mem.read(addr, nr * RESTRICTION.size)
    register_ops, sqe_ops, allowed, required = set(), set(), 0, 0
    for i in range(nr):
        kind, value, resv, *resv2 = RESTRICTION.unpack_from(raw, i * RESTRICTION.size)
        check(not resv and not any(resv2), errno.EINVAL)
        if kind == IORING_RESTRICTION_REGISTER_OP:
            check(value < IORING_REGISTER_LAST, errno.EINVAL)
            register_ops.add(value)
        elif kind == IORING_RESTRICTION_SQE_OP:
            check(value < IORING_OP_LAST, errno.EINVAL)
            sqe_ops.add(value)
        elif kind == IORING_RESTRICTION_SQE_FLAGS_ALLOWED:
            allowed = value
        elif kind == IORING_RESTRICTION_SQE_FLAGS_REQUIRED:
            required = value
        else:
            raise SyscallError(errno.EINVAL)
    ring.restrictions = Restrictions(register_ops, sqe_ops, allowed, required)
    return 0


def _register_personality(task, ring, arg, nr):
    """The caller's credentials as they are now, under a new id (1 up)."""
    check(not arg and not nr, errno.EINVAL)
    ids = ring.personalities
    check(len(ids) < PERSONALITY_MAX, errno.ENOMEM)
    new = ring.next_personality         # (xa_alloc_cyclic: ids go on past freed ones)
    while new in ids:
        new = new % PERSONALITY_MAX + 1
    ring.next_personality = new % PERSONALITY_MAX + 1
    ids[new] = task.creds.copy()
    return new


def _unregister_personality(ring, arg, nr):
    check(not arg, errno.EINVAL)
    check(ring.personalities.pop(nr, None) is not None, errno.EINVAL)
    return 0


def _register_buffers(task, ring, arg, nr):
    check(not ring.buffers, errno.EBUSY)
    ring.buffers = _read_buffers(task, arg, nr)
    return 0


def _unregister_buffers(task, ring, arg, nr):
    check(not arg and not nr, errno.EINVAL)
    check(ring.buffers, errno.ENXIO)
    ring.buffers = []
    return 0


def _unregister_files(task, ring, arg, nr):
    check(not arg and not nr, errno.EINVAL)
    check(ring.files, errno.ENXIO)
    ring.unregister_files()
    return 0


def _unregister_eventfd(task, ring, arg, nr):
    check(not arg and not nr, errno.EINVAL)
    check(ring.eventfd is not None, errno.ENXIO)
    ring.eventfd[0].put()
    ring.eventfd = None
    return 0


def _enable_rings(task, ring, arg, nr):
    check(not ring.enabled, errno.EBADFD)
    ring.enabled = True
    if ring.setup_flags & SETUP_SINGLE_ISSUER and ring.submitter is None:
        ring.submitter = task.tid
    if ring.setup_flags & SETUP_SQPOLL and not _start_sqpoll(task, ring):
        raise SyscallError(errno.ENOMEM)
    return 0


# io_uring_register's opcodes we run: opcode -> (name, handler(task, ring, arg, nr_args))
REGISTER = {
    0: ("REGISTER_BUFFERS", _register_buffers),
    1: ("UNREGISTER_BUFFERS", _unregister_buffers),
    2: ("REGISTER_FILES", _register_files),
    3: ("UNREGISTER_FILES", _unregister_files),
    4: ("REGISTER_EVENTFD", functools.partial(_register_eventfd, async_only=False)),
    5: ("UNREGISTER_EVENTFD", _unregister_eventfd),
    6: ("REGISTER_FILES_UPDATE", _update_files),
    7: ("REGISTER_EVENTFD_ASYNC", functools.partial(_register_eventfd, async_only=True)),
    8: ("REGISTER_PROBE", _probe),
    9: ("REGISTER_PERSONALITY", _register_personality),
    10: ("UNREGISTER_PERSONALITY", lambda task, ring, arg, nr: _unregister_personality(ring, arg, nr)),
    11: ("REGISTER_RESTRICTIONS", _register_restrictions),
    12: ("REGISTER_ENABLE_RINGS", _enable_rings),
    20: ("REGISTER_RING_FDS", lambda task, ring, arg, nr: _register_ring_fds(task, arg, nr)),
    21: ("UNREGISTER_RING_FDS", lambda task, ring, arg, nr: _unregister_ring_fds(task, arg, nr)),
    22: ("REGISTER_PBUF_RING", _register_pbuf_ring),
    23: ("UNREGISTER_PBUF_RING", _unregister_pbuf_ring),
    24: ("REGISTER_SYNC_CANCEL", _sync_cancel),
    26: ("REGISTER_PBUF_STATUS", _pbuf_status),
}


@syscall("io_uring_register", "iUuU")
def io_uring_register(task, fd, opcode, arg, nr_args):
    """io_uring_register(2): the REGISTER table's opcodes (EINVAL for the others); a
    ring whose restrictions are in force refuses those they leave out (EACCES)."""
    if opcode & IORING_REGISTER_USE_REGISTERED_RING:
        opcode &= ~IORING_REGISTER_USE_REGISTERED_RING
        ring = _registered_ring(task, fd)
    else:
        ring = _ring(task, fd)
    check(opcode < IORING_REGISTER_LAST, errno.EINVAL)
    if ring.restrictions is not None and ring.enabled:
        check(opcode in ring.restrictions.register_ops, errno.EACCES)
    _thread_context(task)
    check(ring.submitter is None or ring.submitter == task.tid, errno.EEXIST)     # (SINGLE_ISSUER)
    entry = REGISTER.get(opcode)
    check(entry is not None, errno.EINVAL)
    return entry[1](task, ring, arg, nr_args)


# -- the README's table -------------------------------------------------------------------------
SETUP_NAMES = ("IOPOLL", "SQPOLL", "SQ_AFF", "CQSIZE", "CLAMP", "ATTACH_WQ", "R_DISABLED", "SUBMIT_ALL",
               "COOP_TASKRUN", "TASKRUN_FLAG", "SQE128", "CQE32", "SINGLE_ISSUER", "DEFER_TASKRUN",
               "NO_MMAP", "REGISTERED_FD_ONLY", "NO_SQARRAY", "HYBRID_IOPOLL")
REGISTER_NAMES = (
    "REGISTER_BUFFERS", "UNREGISTER_BUFFERS", "REGISTER_FILES", "UNREGISTER_FILES", "REGISTER_EVENTFD",
    "UNREGISTER_EVENTFD", "REGISTER_FILES_UPDATE", "REGISTER_EVENTFD_ASYNC", "REGISTER_PROBE",
    "REGISTER_PERSONALITY", "UNREGISTER_PERSONALITY", "REGISTER_RESTRICTIONS", "REGISTER_ENABLE_RINGS",
    "REGISTER_FILES2", "REGISTER_FILES_UPDATE2", "REGISTER_BUFFERS2", "REGISTER_BUFFERS_UPDATE",
    "REGISTER_IOWQ_AFF", "UNREGISTER_IOWQ_AFF", "REGISTER_IOWQ_MAX_WORKERS", "REGISTER_RING_FDS",
    "UNREGISTER_RING_FDS", "REGISTER_PBUF_RING", "UNREGISTER_PBUF_RING", "REGISTER_SYNC_CANCEL",
    "REGISTER_FILE_ALLOC_RANGE", "REGISTER_PBUF_STATUS", "REGISTER_NAPI", "UNREGISTER_NAPI",
    "REGISTER_CLOCK", "REGISTER_CLONE_BUFFERS", "REGISTER_SEND_MSG_RING", "REGISTER_ZCRX_IFQ",
    "REGISTER_RESIZE_RINGS", "REGISTER_MEM_REGION")


def status_table():
    """The README's io_uring table, made from what is registered here (OPS, SETUP_FLAGS,
    REGISTER): every opcode, setup flag and register opcode of this kernel, run or not."""
    def row(names):
        return " ".join(f"`{name}`{'' if on else '✗'}" for name, on in names)

    ops = [(name, n in OPS) for n, name in enumerate(OPCODE_NAMES)]
    setup = [(name, bool(SETUP_FLAGS & 1 << n)) for n, name in enumerate(SETUP_NAMES)]
    register = [(name, n in REGISTER) for n, name in enumerate(REGISTER_NAMES)]
    lines = ["| | run (✗: EINVAL, as a kernel without it) |", "| --- | --- |",
             f"| opcodes ({sum(on for _, on in ops)} of {len(ops)}) | {row(ops)} |",
             f"| setup flags ({sum(on for _, on in setup)} of {len(setup)}) | {row(setup)} |",
             f"| register ({sum(on for _, on in register)} of {len(register)}) | {row(register)} |"]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":      # python3 -m pylinuxabi.syscalls.io_uring: the README's table
    print(status_table(), end="")
