"""Readiness syscalls: poll, ppoll, select, pselect6 over every OpenFile's poll().

Not ready yet means WouldBlock on the files' wait queues and, for files
backed by host fds, on the host waker's watch of those fds (DESIGN §4).
"""
import errno
import struct

from pylinuxabi.base.abi import POLLFD, TIMESPEC, TIMEVAL
from pylinuxabi.base.errors import ERESTARTNOHAND, SyscallError, WouldBlock, check
from pylinuxabi.syscalls.registry import syscall
from pylinuxabi.vfs.file import POLLERR, POLLHUP, POLLIN, POLLNVAL, POLLOUT, POLLPRI, POLLRDNORM, POLLWRNORM

RECHECK = 0.05
POLLRDBAND, POLLWRBAND = 0x80, 0x200
POLLIN_SET = POLLRDNORM | POLLRDBAND | POLLIN | POLLHUP | POLLERR
POLLOUT_SET = POLLWRBAND | POLLWRNORM | POLLOUT | POLLERR
POLLEX_SET = POLLPRI
FD_SETSIZE_BITS = 64


def _wait(task, watched, timeout, sigmask):
    """Raise WouldBlock for a readiness wait on `watched` (file, poll events) pairs, or
    return when the timeout is over. sigmask: the signal mask to wait with (None: the
    thread's own)."""
    if timeout == 0 or task.timed_out():
        return
    files = [f for f, _ in watched]
    queues = [q for f in files for q in f.wait_queues()]
    host = []
    for f, events in watched:
        waits = f.host_waits(events | POLLERR | POLLHUP)
        if waits is None:
            host = None
            break
        host += waits
    recheck = RECHECK if any(f.host_backed for f in files) else None
    signals = 0
    for f in files:
        signals |= f.wake_signals
    raise WouldBlock(queues, timeout=timeout, restart=ERESTARTNOHAND, recheck=recheck, files=files,
                     sigmask=sigmask, signals=signals, host=host)


def _select_events(wanted, bit):
    """The poll events select waits for on one fd (its bit in the three sets)."""
    sets = zip(wanted, (POLLIN, POLLOUT, POLLPRI))
    return sum(events for mask, events in sets if mask & bit)


def read_sigmask(task, addr, size):
    """The sigset_t at addr (None if addr is NULL) of a call that waits with it."""
    if not addr:
        return None
    check(size == 8, errno.EINVAL)
    return int.from_bytes(task.mem.read(addr, 8), "little")


def do_poll(task, fds_addr, nfds, timeout, sigmask=None):
    """The body of poll and ppoll; timeout in seconds (None: wait for ever)."""
    check(0 <= nfds <= task.files.limit, errno.EINVAL)
    raw = task.mem.read(fds_addr, nfds * POLLFD.size)
    entries = [POLLFD.unpack_from(raw, i * POLLFD.size) for i in range(nfds)]
    out = bytearray(raw)
    ready = 0
    watched = []
    for i, (fd, events, _) in enumerate(entries):
        revents = 0
        if fd >= 0:
            f = task.files.fds.get(fd)
            if f is None:
                revents = POLLNVAL
            else:
                watched.append((f, events & 0xFFFF))
                revents = f.poll() & ((events & 0xFFFF) | POLLERR | POLLHUP)
        struct.pack_into("<h", out, i * POLLFD.size + 6, revents if revents < 0x8000 else revents - 0x10000)
        ready += revents != 0
    if ready == 0:
        _wait(task, watched, timeout, sigmask)
    task.mem.write(fds_addr, bytes(out))
    return ready


def read_timespec(task, addr):
    """The timeout at a struct timespec in seconds (None if addr is NULL): EINVAL if invalid."""
    if not addr:
        return None
    sec, nsec = TIMESPEC.unpack(task.mem.read(addr, TIMESPEC.size))
    check(sec >= 0 and 0 <= nsec < 1_000_000_000, errno.EINVAL)
    return sec + nsec / 1e9


@syscall("poll", "uUi")
def poll(task, fds, nfds, timeout_ms):
    """poll(2)."""
    return do_poll(task, fds, nfds, None if timeout_ms < 0 else timeout_ms / 1000)


@syscall("ppoll", "uUuuu")
def ppoll(task, fds, nfds, tsp, sigmask, sigsetsize):
    """ppoll(2): the thread waits with the signal mask given, if any."""
    mask = read_sigmask(task, sigmask, sigsetsize)
    return do_poll(task, fds, nfds, read_timespec(task, tsp), mask)


def do_select(task, nfds, sets, timeout, sigmask=None):
    """The body of select and pselect6: sets is (readfds, writefds, exceptfds) addresses."""
    check(nfds >= 0, errno.EINVAL)
    nfds = min(nfds, task.files.max_fds)     # as max_select_fd: fds past the table are not looked at
    nbytes = (nfds + FD_SETSIZE_BITS - 1) // FD_SETSIZE_BITS * 8
    wanted = [int.from_bytes(task.mem.read(a, nbytes), "little") if a else 0 for a in sets]
    files = {}
    for fd in range(nfds):
        bit = 1 << fd
        if (wanted[0] | wanted[1] | wanted[2]) & bit:
            f = task.files.fds.get(fd)
            if f is None:
                raise SyscallError(errno.EBADF)
            files[fd] = f
    got = [0, 0, 0]
    ready = 0
    for fd, f in files.items():
        bit = 1 << fd
        events = f.poll()
        for i, mask in enumerate((POLLIN_SET, POLLOUT_SET, POLLEX_SET)):
            if wanted[i] & bit and events & mask:
                got[i] |= bit
                ready += 1
    if ready == 0:
        _wait(task, [(f, _select_events(wanted, 1 << fd)) for fd, f in files.items()], timeout, sigmask)
    for addr, value in zip(sets, got):
        if addr:
            task.mem.write(addr, value.to_bytes(nbytes, "little"))
    return ready


@syscall("select", "iuuuu")
def select(task, nfds, readfds, writefds, exceptfds, tvp):
    """select(2)."""
    timeout = None
    if tvp:
        sec, usec = TIMEVAL.unpack(task.mem.read(tvp, TIMEVAL.size))
        check(sec >= 0 and usec >= 0, errno.EINVAL)
        timeout = sec + usec / 1e6
    return do_select(task, nfds, (readfds, writefds, exceptfds), timeout)


@syscall("pselect6", "iuuuuu")
def pselect6(task, nfds, readfds, writefds, exceptfds, tsp, sig):
    """pselect6(2): the sixth argument points at {sigset pointer, its size}; the
    thread waits with that signal mask, if any."""
    mask = None
    if sig:
        mask_addr, size = struct.unpack("<QQ", task.mem.read(sig, 16))
        mask = read_sigmask(task, mask_addr, size)
    return do_select(task, nfds, (readfds, writefds, exceptfds), read_timespec(task, tsp), mask)
