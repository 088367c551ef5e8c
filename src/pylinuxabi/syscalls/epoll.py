"""epoll syscalls: epoll_create, epoll_create1, epoll_ctl, epoll_wait, epoll_pwait, epoll_pwait2.

Argument checks in fs/eventpoll.c's order; the interest and ready lists are
vfs/epoll.py's. Nothing ready means WouldBlock on the instance's own queue, which
its items' wake-ups notify (and, for host-backed files, a look every RECHECK).
"""
import errno
import struct

from pylinuxabi.base.errors import ERESTARTNOHAND, SyscallError, WouldBlock, check
from pylinuxabi.syscalls.fd import access_ok
from pylinuxabi.syscalls.poll import RECHECK, read_sigmask, read_timespec
from pylinuxabi.syscalls.registry import syscall
from pylinuxabi.vfs.epoll import (EPOLL_CLOEXEC, EPOLLEXCLUSIVE, EPOLLEXCLUSIVE_OK_BITS, EPOLLWAKEUP,
                                  EventPoll, can_poll)
from pylinuxabi.vfs.file import POLLERR, POLLHUP, POLLIN

EPOLL_EVENT = struct.Struct("<IQ")      # struct epoll_event (packed on x86-64): events, data
EPOLL_CTL_ADD, EPOLL_CTL_DEL, EPOLL_CTL_MOD = 1, 2, 3
EP_MAX_EVENTS = 0x7FFFFFFF // EPOLL_EVENT.size
# This kernel is built without CONFIG_PM_SLEEP: EPOLLWAKEUP is dropped even for a
# caller with CAP_BLOCK_SUSPEND (checked natively, as root).
EPOLLWAKEUP_KEPT = False


@syscall("epoll_create", "i")
def epoll_create(task, size):
    """epoll_create(2): size is only checked to be positive."""
    check(size > 0, errno.EINVAL)
    return epoll_create1(task, 0)


@syscall("epoll_create1", "i")
def epoll_create1(task, flags):
    """epoll_create1(2)."""
    check(not flags & ~EPOLL_CLOEXEC, errno.EINVAL)
    return task.files.install_new(EventPoll(), cloexec=bool(flags & EPOLL_CLOEXEC))


@syscall("epoll_ctl", "iiiu")
def epoll_ctl(task, epfd, op, fd, event):
    """epoll_ctl(2)."""
    has_event = op != EPOLL_CTL_DEL
    if has_event:
        events, data = EPOLL_EVENT.unpack(task.mem.read(event, EPOLL_EVENT.size))
        if not EPOLLWAKEUP_KEPT:
            events &= ~EPOLLWAKEUP
    ep = task.files.get_file(epfd)
    target = task.files.get_file(fd)
    check(can_poll(target), errno.EPERM)
    check(ep is not target and isinstance(ep, EventPoll), errno.EINVAL)
    if has_event and events & EPOLLEXCLUSIVE:
        # exclusive wake-ups are set up at ADD only, and never for nested epolls
        check(op != EPOLL_CTL_MOD, errno.EINVAL)
        check(op != EPOLL_CTL_ADD or (not isinstance(target, EventPoll)
                                      and not events & ~EPOLLEXCLUSIVE_OK_BITS), errno.EINVAL)
    if op == EPOLL_CTL_ADD and isinstance(target, EventPoll):
        check(ep.may_contain(target), errno.ELOOP)
    item = ep.find(fd, target)
    if op == EPOLL_CTL_ADD:
        check(item is None, errno.EEXIST)
        ep.insert(fd, target, events | POLLERR | POLLHUP, data)
    elif op == EPOLL_CTL_DEL:
        check(item is not None, errno.ENOENT)
        ep.remove(item)
    elif op == EPOLL_CTL_MOD:
        check(item is not None, errno.ENOENT)
        check(not item.events & EPOLLEXCLUSIVE, errno.EINVAL)
        ep.modify(item, events | POLLERR | POLLHUP, data)
    else:
        raise SyscallError(errno.EINVAL)
    return 0


def do_epoll_wait(task, epfd, events, maxevents, timeout, sigmask=None):
    """The body of the epoll_wait family; timeout in seconds (None: wait for ever),
    sigmask the signal mask to wait with (None: the thread's own)."""
    ep = task.files.get_file(epfd)        # (6.18 looks the fd up first)
    check(0 < maxevents <= EP_MAX_EVENTS, errno.EINVAL)
    access_ok(events, maxevents * EPOLL_EVENT.size)
    check(isinstance(ep, EventPoll), errno.EINVAL)
    picked = ep.collect(maxevents)
    if not picked:
        if timeout == 0 or task.timed_out():
            return 0
        # a handler makes it EINTR even with SA_RESTART; a signal without one (ignored
        # here, so never seen natively) restarts it
        raise WouldBlock([ep.queue], timeout=timeout, restart=ERESTARTNOHAND,
                         recheck=RECHECK if ep.host_backed else None, file=ep, sigmask=sigmask,
                         signals=ep.wake_signals, host=ep.host_waits(POLLIN))
    out = b"".join(EPOLL_EVENT.pack(revents, item.data) for item, revents in picked)
    n = task.mem.write_some(events, out) // EPOLL_EVENT.size
    ep.delivered(picked[:n])        # the rest stay first on the ready list
    if n == 0:
        raise SyscallError(errno.EFAULT)
    return n


@syscall("epoll_wait", "iuii")
def epoll_wait(task, epfd, events, maxevents, timeout_ms):
    """epoll_wait(2)."""
    return do_epoll_wait(task, epfd, events, maxevents, None if timeout_ms < 0 else timeout_ms / 1000)


@syscall("epoll_pwait", "iuiiuu")
def epoll_pwait(task, epfd, events, maxevents, timeout_ms, sigmask, sigsetsize):
    """epoll_pwait(2): the thread waits with the signal mask given, if any."""
    mask = read_sigmask(task, sigmask, sigsetsize)
    return do_epoll_wait(task, epfd, events, maxevents, None if timeout_ms < 0 else timeout_ms / 1000, mask)


@syscall("epoll_pwait2", "iuiuuu")
def epoll_pwait2(task, epfd, events, maxevents, timeout, sigmask, sigsetsize):
    """epoll_pwait2(2): the timeout is a timespec (NULL: wait for ever)."""
    seconds = read_timespec(task, timeout)
    mask = read_sigmask(task, sigmask, sigsetsize)
    return do_epoll_wait(task, epfd, events, maxevents, seconds, mask)
