"""POSIX message queue syscalls: mq_open, mq_unlink, mq_timedsend, mq_timedreceive,
mq_notify, mq_getsetattr.

Argument checking in ipc/mqueue.c's order; the queues are vfs/mqueue.py's, in the
sandbox's own IPC namespace (one MqueueFS per Kernel, also mounted at /dev/mqueue).
"""
import errno
import os
import resource
import struct
import time

from pylinuxabi.base.abi import TIMESPEC
from pylinuxabi.base.errors import ERESTARTSYS, SyscallError, WouldBlock, check
from pylinuxabi.kernel.paths import read_path
from pylinuxabi.syscalls.registry import syscall
from pylinuxabi.vfs import namei
from pylinuxabi.vfs.inet import InetSocketFile
from pylinuxabi.vfs.inode import R_OK, W_OK
from pylinuxabi.vfs.mount import Dentry
from pylinuxabi.vfs.mqueue import (MQ_PRIO_MAX, NOTIFY_REMOVED, NOTIFY_WOKENUP, SIGEV_NONE, SIGEV_SIGNAL,
                                   SIGEV_THREAD, MqueueFile, MqueueFS, Notification)
from pylinuxabi.vfs.netlink import NetlinkSocketFile
from pylinuxabi.vfs.socket import SocketFile

MQ_ATTR = struct.Struct("<qqqq32x")         # struct mq_attr: flags, maxmsg, msgsize, curmsgs, reserved
SIGEVENT = struct.Struct("<qii48x")         # struct sigevent: sigev_value, sigev_signo, sigev_notify
SIGINFO_RT = struct.Struct("<iii4xiIq96x")  # siginfo_t of SI_MESGQ: signo, errno, code, pid, uid, value
UINT = struct.Struct("<I")
NOTIFY_COOKIE_LEN = 32
SI_MESGQ = -3
NSIG = 64
SYS_rt_sigqueueinfo = 129
OPEN_DROPPED = os.O_CREAT | os.O_EXCL | os.O_NOCTTY | os.O_TRUNC   # what dentry_open keeps not


def namespace(kernel):
    """The sandbox's mqueue filesystem (its IPC namespace's), made at first use."""
    fs = getattr(kernel, "mqueue_fs", None)
    if fs is None:
        fs = kernel.mqueue_fs = MqueueFS(lambda: kernel.current_process().rlimits[resource.RLIMIT_MSGQUEUE][0])
    return fs


def _queue_name(task, addr):
    """getname, then the lookup's rules for one name (lookup_noperm_common): no '/',
    not '.' or '..' (EACCES). glibc has taken the leading '/' off already."""
    name = read_path(task, addr)
    check(name, errno.ENOENT)
    check(b"/" not in name and name not in (b".", b".."), errno.EACCES)
    return name


def _queue_file(task, mqdes):
    """The open queue behind mqdes: EBADF for any other file (f_op != mqueue's)."""
    f = task.files.get_file(mqdes)
    check(isinstance(f, MqueueFile), errno.EBADF)
    return f


def _timeout(task, addr):
    """prepare_timeout: the absolute CLOCK_REALTIME time, as seconds from now (None: none)."""
    if not addr:
        return None
    sec, nsec = TIMESPEC.unpack(task.mem.read(addr, TIMESPEC.size))
    check(sec >= 0 and 0 <= nsec < 10**9, errno.EINVAL)
    return sec + nsec / 1e9 - time.time()


def _wait(task, pending, queue, timeout):
    """wq_sleep: park until the queue changes; ETIMEDOUT once the absolute time has
    passed. A signal restarts the call with SA_RESTART (ERESTARTSYS), else EINTR."""
    if task.timed_out() or (timeout is not None and timeout <= 0):
        raise SyscallError(errno.ETIMEDOUT)
    task.resume = pending
    raise WouldBlock([queue], timeout=timeout, restart=ERESTARTSYS, file=pending.file)


# -- mq_open, mq_unlink --------------------------------------------------------------
@syscall("mq_open", "uiUu")
def mq_open(task, name_addr, oflag, mode, attr_addr):
    """mq_open(2): the fd is always close-on-exec (do_mq_open)."""
    attr = MQ_ATTR.unpack(task.mem.read(attr_addr, MQ_ATTR.size)) if attr_addr else None
    name = _queue_name(task, name_addr)
    fs = namespace(task.process.kernel)
    root = fs.mount.root
    q = _lookup(fs, name)
    if q is None:
        check(oflag & os.O_CREAT, errno.ENOENT)
        namei.may_create(root, task.creds)
        sizes = (attr[1], attr[2]) if attr is not None else None
        q = fs.root.create(name, mode & ~task.fs.umask & 0o7777, task.creds, sizes)
    else:
        check(oflag & (os.O_CREAT | os.O_EXCL) != os.O_CREAT | os.O_EXCL, errno.EEXIST)
        accmode = oflag & os.O_ACCMODE
        check(accmode != os.O_ACCMODE, errno.EINVAL)
        q.permission(task.creds, {os.O_RDONLY: R_OK, os.O_WRONLY: W_OK, os.O_RDWR: R_OK | W_OK}[accmode])
    f = MqueueFile(Dentry(name, root, q, fs.mount), q, oflag & ~OPEN_DROPPED)
    return task.files.install_new(f, cloexec=True)


def _lookup(fs, name):
    """The queue called name, None if there is none (ENAMETOOLONG past NAME_MAX)."""
    try:
        return fs.root.lookup(name)
    except SyscallError as e:
        if e.errno != errno.ENOENT:
            raise
        return None


@syscall("mq_unlink", "u")
def mq_unlink(task, name_addr):
    """mq_unlink(2): vfs_unlink in the namespace's root (1777: the sticky rule holds)."""
    name = _queue_name(task, name_addr)
    fs = namespace(task.process.kernel)
    namei.unlink(fs.mount.root, name, task.creds)
    return 0


# -- sending and receiving ---------------------------------------------------------------
class _MqSend:
    """What a parked mq_timedsend keeps for its retries: the message, read once."""

    __slots__ = ("file", "data", "prio")

    def __init__(self, file, data, prio):
        self.file, self.data, self.prio = file, data, prio


class _MqReceive:
    __slots__ = ("file",)

    def __init__(self, file):
        self.file = file


@syscall("mq_timedsend", "iuuUu")
def mq_timedsend(task, mqdes, msg_ptr, msg_len, msg_prio, timeout_addr):
    """mq_timedsend(2)."""
    pending = task.resume if isinstance(task.resume, _MqSend) else None
    waited = pending is not None
    timeout = None
    if pending is None:
        timeout = _timeout(task, timeout_addr)
        check(msg_prio < MQ_PRIO_MAX, errno.EINVAL)
        f = _queue_file(task, mqdes)
        check(f.writable, errno.EBADF)
        check(msg_len <= f.inode.msgsize, errno.EMSGSIZE)
        pending = _MqSend(f, task.mem.read(msg_ptr, msg_len), msg_prio)
    q = pending.file.inode
    if q.full():
        check(not pending.file.flags & os.O_NONBLOCK, errno.EAGAIN)
        _wait(task, pending, q.senders, timeout)
    fired = q.insert(pending.data, pending.prio, may_notify=not waited)
    if fired is not None:
        _notify(task, fired)
    return 0


@syscall("mq_timedreceive", "iuuuu")
def mq_timedreceive(task, mqdes, msg_ptr, msg_len, prio_ptr, timeout_addr):
    """mq_timedreceive(2): the message is gone from the queue even if copying it out
    faults (EFAULT), as in Linux."""
    pending = task.resume if isinstance(task.resume, _MqReceive) else None
    timeout = None
    if pending is None:
        timeout = _timeout(task, timeout_addr)
        f = _queue_file(task, mqdes)
        check(f.readable, errno.EBADF)
        check(msg_len >= f.inode.msgsize, errno.EMSGSIZE)
        pending = _MqReceive(f)
    q = pending.file.inode
    if not q.curmsgs:
        check(not pending.file.flags & os.O_NONBLOCK, errno.EAGAIN)
        _wait(task, pending, q.receivers, timeout)
    data, prio = q.take()
    if prio_ptr:
        task.mem.write(prio_ptr, UINT.pack(prio))
    task.mem.write(msg_ptr, data)
    return len(data)


# -- mq_notify ----------------------------------------------------------------------------
def _notify_socket(task, fd):
    """netlink_getsockbyfd: the netlink socket SIGEV_THREAD names (glibc's helper thread
    reads its cookies from it), held."""
    f = task.files.get_file(fd)                             # EBADF
    check(isinstance(f, (SocketFile, InetSocketFile)), errno.ENOTSOCK)
    check(isinstance(f, NetlinkSocketFile), errno.EINVAL)   # sk_family != AF_NETLINK
    f.get()
    return f


@syscall("mq_notify", "iu")
def mq_notify(task, mqdes, sevp):
    """mq_notify(2): one registration per queue (EBUSY); NULL removes the caller's own.
    SIGEV_THREAD names a netlink socket that gets sigev_value's cookie when the message
    comes (glibc's helper thread then runs the function)."""
    event = None
    sock = None
    if sevp:
        value, signo, how = SIGEVENT.unpack(task.mem.read(sevp, SIGEVENT.size))
        check(how in (SIGEV_NONE, SIGEV_SIGNAL, SIGEV_THREAD), errno.EINVAL)
        check(how != SIGEV_SIGNAL or 0 <= signo <= NSIG, errno.EINVAL)
        cookie = b""
        if how == SIGEV_THREAD:
            cookie = task.mem.read(value, NOTIFY_COOKIE_LEN)    # EFAULT first
            sock = _notify_socket(task, signo)
        event = (how, signo, value, cookie)
    try:
        q = _queue_file(task, mqdes).inode
        proc = task.process
        current = q.notify
        if event is None:
            if current is not None and current.owner is proc:
                current.end(NOTIFY_REMOVED)
                q.notify = None
                q.touch(mtime=False)
            return 0
        check(current is None, errno.EBUSY)
    except SyscallError:
        if sock is not None:
            sock.put()
        raise
    how, signo, value, cookie = event
    q.notify = Notification(proc, proc.pid, task.files, how, signo, value, sock, cookie)
    q.touch(mtime=False)
    return 0


def _notify(task, n):
    """__do_notify's SIGEV_SIGNAL: the owner process is sent sigev_signo with si_code
    SI_MESGQ, its sigev_value and the sender's pid and real uid. The sender's thread
    queues it (rt_sigqueueinfo, which lets anyone send a negative si_code), so the
    host delivers it as any signal between the program's processes."""
    n.end(NOTIFY_WOKENUP)
    if n.how != SIGEV_SIGNAL or not n.signo:
        return
    info = SIGINFO_RT.pack(n.signo, 0, SI_MESGQ, task.process.pid, task.creds.ruid, n.value)
    with task.process.kernel.platform.inject(task.thread) as inj:
        addr = inj.scratch()
        task.mem.write(addr, info)
        inj.syscall(SYS_rt_sigqueueinfo, n.pid, n.signo, addr)
        inj.result = 0


# -- mq_getsetattr --------------------------------------------------------------------------
@syscall("mq_getsetattr", "iuu")
def mq_getsetattr(task, mqdes, new_addr, old_addr):
    """mq_getsetattr(2): only O_NONBLOCK of the open file may change."""
    new = MQ_ATTR.unpack(task.mem.read(new_addr, MQ_ATTR.size)) if new_addr else None
    check(new is None or not new[0] & ~os.O_NONBLOCK, errno.EINVAL)
    f = _queue_file(task, mqdes)
    q = f.inode
    old = MQ_ATTR.pack(f.flags & os.O_NONBLOCK, q.maxmsg, q.msgsize, q.curmsgs)
    if new is not None:
        f.flags = (f.flags & ~os.O_NONBLOCK) | (new[0] & os.O_NONBLOCK)
        q.touch(mtime=False)
    if old_addr:
        task.mem.write(old_addr, old)
    return 0
