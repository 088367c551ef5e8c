"""POSIX message queues (ipc/mqueue.c): the mqueue filesystem of one IPC namespace,
its queues and their open files.

Pure model: no tasks, registers or signals. syscalls/mqueue.py checks the
arguments of mq_*, parks waiters on the queues' WaitQueues and sends the
notification signal; open(2), unlink(2) and ls reach the same queues here.
"""
import errno
import itertools
import os
import stat as st
import time
from collections import deque

from pylinuxabi.base.errors import SyscallError
from pylinuxabi.base.waitq import WaitQueue
from pylinuxabi.vfs.file import (O_ACCMODE, O_PATH, POLLIN, POLLOUT, POLLRDNORM, POLLWRNORM, OpenFile)
from pylinuxabi.vfs.inode import Inode, Stat, anon_dev
from pylinuxabi.vfs.mount import Mount
from pylinuxabi.vfs.synthetic import ListedDirFile

MQUEUE_MAGIC = 0x19800202
DIRENT_SIZE = 20            # what each queue adds to the directory's st_size
FILENT_SIZE = 80            # a queue file's st_size
NAME_MAX = 255
MQ_PRIO_MAX = 32768
HARD_MSGMAX = 65536         # what CAP_SYS_RESOURCE may ask for, whatever the sysctls say
HARD_MSGSIZEMAX = 16 << 20
MSG_MSG_SIZE = 48           # sizeof(struct msg_msg) and of struct posix_msg_tree_node on x86-64:
TREE_NODE_SIZE = 48         # what a queue is charged to RLIMIT_MSGQUEUE besides its messages
ULONG_MAX = (1 << 64) - 1
CAP_SYS_RESOURCE = 24
SIGEV_SIGNAL, SIGEV_NONE, SIGEV_THREAD = 0, 1, 2
NOTIFY_WOKENUP, NOTIFY_REMOVED = 1, 2       # the last byte of a SIGEV_THREAD cookie
_HOST_SYSCTL = "/proc/sys/fs/mqueue/"


def _sysctl(name, default):
    """A fs.mqueue sysctl of the host: /proc/sys shows the sandbox the host's, so its
    limits are those (a fresh IPC namespace would start from the defaults)."""
    try:
        with open(_HOST_SYSCTL + name) as f:
            return int(f.read())
    except (OSError, ValueError):
        return default


class Limits:
    """fs.mqueue.*, read once."""

    def __init__(self):
        self.queues_max = _sysctl("queues_max", 256)
        self.msg_max = _sysctl("msg_max", 10)
        self.msgsize_max = _sysctl("msgsize_max", 8192)
        self.msg_default = _sysctl("msg_default", 10)
        self.msgsize_default = _sysctl("msgsize_default", 8192)


def queue_bytes(maxmsg, msgsize):
    """What a queue is charged to its creator's RLIMIT_MSGQUEUE (mqueue_get_inode)."""
    return maxmsg * msgsize + maxmsg * MSG_MSG_SIZE + min(maxmsg, MQ_PRIO_MAX) * TREE_NODE_SIZE


def check_attr(limits, maxmsg, msgsize, creds):
    """mqueue_get_inode's checks of a new queue's size: both positive, within the
    sysctls (within HARD_* with CAP_SYS_RESOURCE), EOVERFLOW past an unsigned long."""
    if maxmsg <= 0 or msgsize <= 0:
        raise SyscallError(errno.EINVAL)
    if creds.capable(CAP_SYS_RESOURCE):
        if maxmsg > HARD_MSGMAX or msgsize > HARD_MSGSIZEMAX:
            raise SyscallError(errno.EINVAL)
    elif maxmsg > limits.msg_max or msgsize > limits.msgsize_max:
        raise SyscallError(errno.EINVAL)
    if queue_bytes(maxmsg, msgsize) > ULONG_MAX:
        raise SyscallError(errno.EOVERFLOW)


class Notification:
    """The one mq_notify registration of a queue: who asked (`owner`, the process, with
    its `pid` and its fd table `files`, whose closing of any fd of the queue ends the
    registration) and how (sigev_notify, sigev_signo, sigev_value; SIGEV_THREAD's netlink
    socket `sock`, held, and its NOTIFY_COOKIE_LEN bytes of `cookie`)."""

    __slots__ = ("owner", "pid", "files", "how", "signo", "value", "sock", "cookie")

    def __init__(self, owner, pid, files, how, signo=0, value=0, sock=None, cookie=b""):
        self.owner, self.pid, self.files = owner, pid, files
        self.how, self.signo, self.value = how, signo, value
        self.sock, self.cookie = sock, cookie

    def end(self, code):
        """The registration is over, the message came (NOTIFY_WOKENUP) or it was removed
        (NOTIFY_REMOVED): a SIGEV_THREAD one sends its cookie, the code in its last byte,
        to its netlink socket (set_cookie, netlink_sendskb) and lets the socket go."""
        if self.sock is not None:
            self.sock.deliver(self.cookie[:-1] + bytes([code]))
            self.sock.put()
            self.sock = None


class MQueue(Inode):
    """One queue (struct mqueue_inode_info): messages by priority, highest first and
    in order of sending within one; `receivers` and `senders` are the queues the
    parked mq_timedreceive and mq_timedsend calls wait on, `polled` poll's."""

    def __init__(self, fs, ino, mode, creds, maxmsg, msgsize):
        self.fs = fs
        self._stat = Stat(dev=fs.dev, ino=ino, mode=st.S_IFREG | (mode & 0o7777), uid=creds.fsuid,
                          gid=creds.fsgid, size=FILENT_SIZE, blocks=0)
        self.maxmsg, self.msgsize = maxmsg, msgsize
        self.charged = (creds.ruid, queue_bytes(maxmsg, msgsize))
        self.messages = {}          # priority -> deque of bytes
        self.curmsgs = 0
        self.qsize = 0              # bytes of all the messages
        self.notify = None          # a Notification, or None
        self.receivers, self.senders, self.polled = WaitQueue(), WaitQueue(), WaitQueue()
        self.opens = 0              # open files of it
        self.linked = True

    def stat(self):
        return self._stat

    def touch(self, mtime=True):
        """simple_inode_init_ts (a message in or out), or atime and ctime only."""
        now = time.time_ns()
        s = self._stat
        s.atime_ns = s.ctime_ns = now
        if mtime:
            s.mtime_ns = now

    def setattr(self, mode=None, uid=None, gid=None, size=None, atime_ns=None, mtime_ns=None):
        """simple_setattr: the queue has no operation of its own (truncate just sets st_size)."""
        if size is not None:
            self._stat.size = size
            self._stat.mtime_ns = time.time_ns()
        self._stat.change(mode, uid, gid, atime_ns, mtime_ns)

    fs_magic = MQUEUE_MAGIC

    def open(self, dentry, flags, task):
        return MqueueFile(dentry, self, flags)

    # -- messages ---------------------------------------------------------------
    def full(self):
        return self.curmsgs >= self.maxmsg

    def insert(self, data, prio, may_notify=True):
        """msg_insert. Returns the registration to act on (and drops it) when the queue
        went from empty to not empty with nobody parked in mq_timedreceive
        (__do_notify: a waiting receiver would have taken the message directly). A
        sender that had to wait never notifies: Linux's receive puts its message in
        (pipelined_receive) on a queue that was full, not empty."""
        self.messages.setdefault(prio, deque()).append(data)
        self.curmsgs += 1
        self.qsize += len(data)
        self.touch()
        fired = None
        if may_notify and self.curmsgs == 1 and not self.receivers.waiters and self.notify is not None:
            fired, self.notify = self.notify, None
        self.receivers.notify()
        self.polled.notify()
        return fired

    def take(self):
        """msg_get: the oldest message of the highest priority, as (data, priority)."""
        prio = max(self.messages)
        q = self.messages[prio]
        data = q.popleft()
        if not q:
            del self.messages[prio]
        self.curmsgs -= 1
        self.qsize -= len(data)
        self.touch()
        self.senders.notify()
        self.polled.notify()
        return data, prio

    def status(self):
        """What reading the queue's file gives (mqueue_read_file)."""
        n = self.notify
        how = n.how if n is not None else 0
        signo = n.signo if n is not None and n.how == SIGEV_SIGNAL else 0
        pid = n.pid if n is not None else 0
        return b"QSIZE:%-10d NOTIFY:%-5d SIGNO:%-5d NOTIFY_PID:%-6d\n" % (self.qsize, how, signo, pid)

    # -- life -------------------------------------------------------------------
    def opened(self):
        self.opens += 1

    def closed(self):
        self.opens -= 1
        if not self.opens and not self.linked:
            self.fs.evict(self)

    def unlinked(self):
        self.linked = False
        self._stat.nlink = 0
        self._stat.ctime_ns = time.time_ns()
        if not self.opens:
            self.fs.evict(self)


class MqueueFile(OpenFile):
    """An open queue (mqueue_file_operations): read gives its status line, there is
    no write, poll says whether a message is there (POLLIN) and room for one (POLLOUT)."""

    has_write = False

    def __init__(self, dentry, inode, flags):
        super().__init__(dentry, inode, flags)
        inode.opened()

    def pread(self, count, offset):
        text = self.inode.status()
        data = text[offset:offset + count] if offset < len(text) else b""
        if data:
            self.inode.touch(mtime=False)
        return data

    def poll(self):
        q = self.inode
        events = POLLIN | POLLRDNORM if q.curmsgs else 0
        if not q.full():
            events |= POLLOUT | POLLWRNORM
        return events

    def wait_queues(self):
        return (self.inode.polled,)

    def flush(self, files):
        """mqueue_flush_file: the registration's owner closing any fd of the queue (exit
        and exec's close-on-exec too) ends its registration."""
        q = self.inode
        if q.notify is not None and q.notify.files is files:
            q.notify.end(NOTIFY_REMOVED)
            q.notify = None

    def path(self):
        name = super().path()
        return name if self.inode.linked else name + b" (deleted)"

    def release(self):
        self.inode.closed()


class MqueueDir(Inode):
    """The filesystem's root, its only directory (mode 1777): lookup, create and
    unlink; no mkdir, rename, link, symlink or mknod (EPERM, Inode's defaults)."""

    cacheable_children = False      # every mount of the namespace shows the same queues

    def __init__(self, fs):
        self.fs = fs
        self.entries = {}           # name -> MQueue, oldest first
        self._stat = Stat(dev=fs.dev, ino=1, mode=st.S_IFDIR | 0o1777, nlink=2, size=2 * DIRENT_SIZE, blocks=0)

    def stat(self):
        return self._stat

    fs_magic = MQUEUE_MAGIC

    def setattr(self, mode=None, uid=None, gid=None, size=None, atime_ns=None, mtime_ns=None):
        self._stat.change(mode, uid, gid, atime_ns, mtime_ns)

    def lookup(self, name):
        if len(name) > NAME_MAX:
            raise SyscallError(errno.ENAMETOOLONG)
        q = self.entries.get(name)
        if q is None:
            raise SyscallError(errno.ENOENT)
        return q

    def create(self, name, mode, creds, attr=None):
        """mqueue_create_attr: a new queue, of `attr` (maxmsg, msgsize) or the defaults."""
        q = self.fs.new_queue(mode, creds, attr)
        self.entries[name] = q
        self._changed(DIRENT_SIZE)
        return q

    def unlink(self, name):
        q = self.entries.pop(name)
        self._changed(-DIRENT_SIZE)
        q.unlinked()

    def _changed(self, grow):
        s = self._stat
        s.size += grow
        s.atime_ns = s.mtime_ns = s.ctime_ns = time.time_ns()

    def open(self, dentry, flags, task):
        if flags & O_PATH:
            return OpenFile(dentry, self, flags)
        if (flags & O_ACCMODE) != os.O_RDONLY:
            raise SyscallError(errno.EISDIR)
        return MqueueDirFile(dentry, self, flags)


class MqueueDirFile(ListedDirFile):
    """The listing: newest queue first, as dcache_readdir walks the children."""

    def entries(self):
        out = []
        for pos, (name, q) in enumerate(reversed(list(self.inode.entries.items()))):
            out.append((name, q.stat().ino, st.S_IFREG >> 12, pos + 3))
        return out


class MqueueFS:
    """The mqueue filesystem of one IPC namespace: every mount of type mqueue shows
    its root, and mq_open and mq_unlink work in it through `mount`, the namespace's
    own (ipc_ns->mq_mnt). `rlimit()` is the current process's RLIMIT_MSGQUEUE soft limit."""

    def __init__(self, rlimit):
        self.limits = Limits()
        self.rlimit = rlimit
        self.dev = anon_dev()
        self.root = MqueueDir(self)
        self.mount = Mount("mqueue", b"mqueue", self.root)
        self.queues = 0             # mq_queues_count: queues until they are evicted
        self.charged = {}           # real uid -> bytes charged to RLIMIT_MSGQUEUE
        self._inos = itertools.count(2)

    def new_queue(self, mode, creds, attr):
        """mqueue_create_attr and mqueue_get_inode: queues_max (ENOSPC unless
        CAP_SYS_RESOURCE), the size checks, then RLIMIT_MSGQUEUE (EMFILE)."""
        lim = self.limits
        if self.queues >= lim.queues_max and not creds.capable(CAP_SYS_RESOURCE):
            raise SyscallError(errno.ENOSPC)
        if attr is None:
            maxmsg, msgsize = min(lim.msg_max, lim.msg_default), min(lim.msgsize_max, lim.msgsize_default)
        else:
            maxmsg, msgsize = attr
        check_attr(lim, maxmsg, msgsize, creds)
        cost = queue_bytes(maxmsg, msgsize)
        total = self.charged.get(creds.ruid, 0) + cost
        if total > self.rlimit():
            raise SyscallError(errno.EMFILE)
        q = MQueue(self, next(self._inos), mode, creds, maxmsg, msgsize)
        self.charged[creds.ruid] = total
        self.queues += 1
        return q

    def evict(self, q):
        """mqueue_evict_inode: the last name and open file are gone; its messages and
        its charge go."""
        uid, cost = q.charged
        left = self.charged.get(uid, 0) - cost
        if left > 0:
            self.charged[uid] = left
        else:
            self.charged.pop(uid, None)
        self.queues -= 1
        q.messages.clear()
        q.curmsgs = q.qsize = 0
