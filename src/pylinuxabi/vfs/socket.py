"""AF_UNIX sockets (unix(7)) in the supervisor: sockfs inodes, names, queues, and the protocol.

Follows net/unix/af_unix.c: stream, datagram and seqpacket sockets, the
abstract and filesystem namespaces, listen/connect/accept, shutdown, passed
files and credentials, and Linux's buffer accounting (each queued message
costs its sender the skb's truesize against SO_SNDBUF). Waiting is raising
WouldBlock on the sockets' wait queues; nothing here knows of tasks: the
syscalls (syscalls/net.py) say who is calling and copy to and from memory.
"""
import collections
import errno
import os
import random
import stat as st
import time

from pylinuxabi.base.abi import I32
from pylinuxabi.base.errors import ERESTARTSYS, SyscallError, WouldBlock
from pylinuxabi.base.waitq import WaitQueue
from pylinuxabi.vfs import ifreq, sockreg
from pylinuxabi.vfs.file import POLLERR, POLLHUP, POLLIN, POLLOUT, POLLRDNORM, POLLWRNORM, StreamFile
from pylinuxabi.vfs.synthetic import SynthInode, read_host

AF_UNSPEC, AF_UNIX = 0, 1
SOCK_STREAM, SOCK_DGRAM, SOCK_RAW, SOCK_SEQPACKET = 1, 2, 3, 5
SOCK_TYPE_MASK = 0xF
TCP_ESTABLISHED, TCP_CLOSE, TCP_LISTEN = 1, 7, 10
RCV_SHUTDOWN, SEND_SHUTDOWN, SHUTDOWN_MASK = 1, 2, 3
MSG_OOB, MSG_PEEK, MSG_CTRUNC, MSG_TRUNC, MSG_DONTWAIT = 0x1, 0x2, 0x8, 0x20, 0x40
MSG_WAITALL, MSG_NOSIGNAL, MSG_CMSG_CLOEXEC = 0x100, 0x4000, 0x40000000
POLLWRBAND, POLLRDHUP = 0x200, 0x2000
SIOCOUTQ, SIOCATMARK = 0x5411, 0x8905

SUN_PATH = 2                    # offsetof(struct sockaddr_un, sun_path)
SOCKADDR_UN_SIZE = 110
UNNAMED = b"\x01\x00"           # the name of a socket that has none: the family alone
SOCKFS_DEV = os.makedev(0, 9)
HZ = 250                        # the jiffies SO_RCVTIMEO/SO_SNDTIMEO/SO_LINGER are kept in
MAX_DGRAM_QLEN = 10             # /proc/sys/net/unix/max_dgram_qlen
SOMAXCONN = 4096
SOCK_MIN_SNDBUF, SOCK_MIN_RCVBUF = 4608, 2304

# what an skb costs (SKB_TRUESIZE): the sk_buff, its kmalloc'ed head with the
# skb_shared_info after it, and the pages of its paged part
SKB_OVERHEAD = 256
SHINFO = 320
PAGE = 4096
SKB_MAX_HEAD = PAGE - SHINFO                    # SKB_MAX_HEAD(0): a stream skb's linear part
UNIX_SKB_FRAGS_SZ = 32768
SKB_MAX_ALLOC = 4 * PAGE - SHINFO               # a datagram's linear part at most
MAX_SKB_FRAGS = 17


def _sysctl(name, default):
    try:
        return int(read_host(f"/proc/sys/net/core/{name}"))
    except (SyscallError, ValueError):
        return default


WMEM_DEFAULT = _sysctl("wmem_default", 212992)
RMEM_DEFAULT = _sysctl("rmem_default", 212992)
WMEM_MAX = _sysctl("wmem_max", 212992)
RMEM_MAX = _sysctl("rmem_max", 212992)


def _page_align(n):
    return (n + PAGE - 1) & ~(PAGE - 1)


def _kmalloc(n):
    """The size kmalloc gives for n bytes (n >= SHINFO here): a slab size up to 8 KiB, then pages."""
    if n <= 8192:
        for size in (512, 1024, 2048, 4096, 8192):
            if n <= size:
                return size
    return 1 << (n - 1).bit_length()


def _truesize(head, paged):
    return SKB_OVERHEAD + _kmalloc(((head + 63) & ~63) + SHINFO) + _page_align(paged)


def stream_chunk(remaining, sndbuf):
    """(bytes, truesize) of the next skb a stream send makes (unix_stream_sendmsg)."""
    size = min(remaining, (sndbuf >> 1) - 64, SKB_MAX_HEAD + UNIX_SKB_FRAGS_SZ)
    paged = min(size, _page_align(max(0, size - SKB_MAX_HEAD)))
    return size, _truesize(size - paged, paged)


def dgram_truesize(length):
    """The truesize of a datagram of `length` bytes (unix_dgram_sendmsg)."""
    paged = _page_align(min(length - SKB_MAX_ALLOC, MAX_SKB_FRAGS * PAGE)) if length > SKB_MAX_ALLOC else 0
    return _truesize(length - paged, paged)


def jiffies(seconds):
    return None if seconds is None else seconds / HZ


class Skb:
    """One queued message: its bytes, who sent it (for the address and the buffer
    accounting), the credentials it carries ((pid, uid, gid) or None) and passed files."""

    __slots__ = ("data", "consumed", "sender", "origin", "truesize", "creds", "files")

    def __init__(self, data, sender, truesize, creds=None, files=None):
        self.data = data
        self.consumed = 0
        self.sender = sender            # charged for it until it is freed
        self.origin = sender            # whose name the receiver is told
        self.truesize = truesize
        self.creds = creds
        self.files = files

    def remaining(self):
        return len(self.data) - self.consumed


def drop_files(files):
    for f in files or ():
        f.put()


def dup_files(files):
    """unix_peek_fds: more references to the same files."""
    for f in files:
        f.get()
    return list(files)


class UnixNames:
    """The sandbox's names of bound sockets: the abstract namespace, keyed by (type, address)
    as Linux's hash is, and sockets bound to filesystem inodes, keyed by (st_dev, st_ino)."""

    def __init__(self):
        self.abstract = {}
        self.bsd = {}

    def unbind(self, sock):
        key = sock.name_key
        if key is not None:
            table = self.bsd if sock.bsd else self.abstract
            if table.get(key) is sock:
                del table[key]
            sock.name_key = None


names = UnixNames()


class RecvState:
    """What a stream receive has done so far, kept across its waits: the bytes copied, the
    credentials of the data (messages of other writers are not glued to it when
    SO_PASSCRED is on), the files received and the socket whose address to report."""

    __slots__ = ("copied", "creds", "check_creds", "files", "sender")

    def __init__(self):
        self.copied = 0
        self.creds = None
        self.check_creds = False
        self.files = None
        self.sender = None


def _pipe_error(sigpipe):
    e = SyscallError(errno.EPIPE)
    e.sigpipe = sigpipe         # does Linux send SIGPIPE with it (stream sockets)?
    return e


def block(queues, timeo, expired, file=None):
    """Wait as sock_rcvtimeo/sock_sndtimeo say: timeo 0 (nonblocking) or a timeout that
    has run out is EAGAIN; a timed wait is EINTR when a signal comes, as sock_intr_errno."""
    if timeo == 0 or expired:
        raise SyscallError(errno.EAGAIN)
    raise WouldBlock(queues, timeout=timeo, restart=ERESTARTSYS if timeo is None else errno.EINTR, file=file)


class UnixSocket(SynthInode):
    """A unix socket (struct unix_sock), which is also its sockfs inode."""

    cacheable_children = False

    def __init__(self, type, uid=0, gid=0):
        super().__init__(st.S_IFSOCK | 0o777, SOCKFS_DEV, uid, gid)
        self.type = type
        self.state = TCP_CLOSE
        self.peer = None
        self.addr = None                # the sockaddr_un bytes of its name (addr->name, addr->len)
        self.name_key = None            # its key in names.abstract or names.bsd
        self.bsd = False
        self.queue = collections.deque()    # Skbs, or for a listener the embryo sockets
        self.backlog = MAX_DGRAM_QLEN   # sk_max_ack_backlog
        self.sndbuf = WMEM_DEFAULT
        self.rcvbuf = RMEM_DEFAULT
        self.wmem = 0                   # truesize of what it sent that is still queued
        self.shutdown = 0
        self.err = 0
        self.passcred = False
        self.peercred = None            # (pid, euid, egid) of the peer, for SO_PEERCRED
        self.rcvtimeo = None            # jiffies; None: wait for ever
        self.sndtimeo = None
        self.linger = (0, 0)            # (l_onoff, lingertime in jiffies)
        self.options = {}               # other SOL_SOCKET options that only are remembered
        self.rcvlowat = 1
        self.dead = False
        self.has_file = False           # an embryo has no file until accept()
        self.wq_in = WaitQueue()        # data, connections, shutdowns, errors
        self.wq_out = WaitQueue()       # room to send
        self.peer_wait = WaitQueue()    # its queue shrank or it died (connect, full datagram queue)
        self.relaying = None            # the socket whose peer_wait tells our wq_out of room
        sockreg.unix_sockets.add(self)  # /proc/net/unix lists it

    def stat(self):
        return self._stat

    def name(self):
        return b"socket:[%d]" % self.ino

    # -- state --------------------------------------------------------------------------
    def state_change(self):
        """sk_state_change: wake every waiter (they look again)."""
        self.wq_in.notify()
        self.wq_out.notify()

    def writable(self):
        """unix_writable: a quarter of the send buffer free."""
        return self.state != TCP_LISTEN and self.wmem * 4 <= self.sndbuf

    def take_error(self):
        """sock_error: the pending error, which reading clears."""
        err, self.err = self.err, 0
        return err

    def recvq_full(self):
        return len(self.queue) > self.backlog

    def inq(self):
        """SIOCINQ: queued bytes (stream, seqpacket) or the first datagram's size."""
        if self.state == TCP_LISTEN:
            raise SyscallError(errno.EINVAL)
        if self.type == SOCK_DGRAM:
            return len(self.queue[0].data) if self.queue else 0
        return sum(skb.remaining() for skb in self.queue)

    # -- names --------------------------------------------------------------------------
    def bind_abstract(self, addr):
        if self.addr is not None:
            raise SyscallError(errno.EINVAL)
        key = (self.type, addr)
        other = names.abstract.get(key)
        if other is not None:
            raise SyscallError(errno.EADDRINUSE)
        names.abstract[key] = self
        self.addr = addr
        self.name_key = key

    def autobind(self):
        """A name of 5 hex digits in the abstract namespace (unix_autobind)."""
        if self.addr is not None:
            return
        start = random.getrandbits(20)
        n = start
        while True:
            n = (n + 1) & 0xFFFFF
            addr = UNNAMED + b"\0" + b"%05x" % n
            if (self.type, addr) not in names.abstract:
                break
            if n == start:
                raise SyscallError(errno.ENOSPC)
        self.bind_abstract(addr)

    def bind_bsd(self, addr, key):
        """Bound to the filesystem socket inode whose (st_dev, st_ino) is key (just made)."""
        self.addr = addr
        self.bsd = True
        self.name_key = key
        names.bsd[key] = self

    def getname(self, peer):
        """The sockaddr bytes getsockname/getpeername give."""
        sk = self
        if peer:
            sk = self.peer
            if sk is None:
                raise SyscallError(errno.ENOTCONN)
        return sk.addr if sk.addr is not None else UNNAMED

    # -- connections ----------------------------------------------------------------------
    def listen(self, backlog, me):
        """unix_listen: me, the listening process's (pid, euid, egid), is what connecting
        sockets will see as their peer's credentials."""
        if self.type not in (SOCK_STREAM, SOCK_SEQPACKET):
            raise SyscallError(errno.EOPNOTSUPP)
        if self.addr is None:
            raise SyscallError(errno.EINVAL)
        if self.state not in (TCP_CLOSE, TCP_LISTEN):
            raise SyscallError(errno.EINVAL)
        if backlog > self.backlog:
            self.peer_wait.notify()
        self.backlog = backlog
        self.state = TCP_LISTEN
        self.peercred = me

    def stream_connect(self, find, me, timeo, expired, file=None):
        """unix_stream_connect: find() gives the listener (or raises); me is our (pid, euid, egid)."""
        other = find()
        if other.state != TCP_LISTEN or other.shutdown & RCV_SHUTDOWN:
            raise SyscallError(errno.ECONNREFUSED)
        if other.recvq_full():
            block([other.peer_wait], timeo, expired, file)
        if self.state != TCP_CLOSE:
            raise SyscallError(errno.EISCONN if self.state == TCP_ESTABLISHED else errno.EINVAL)
        new = UnixSocket(self.type, self._stat.uid, self._stat.gid)
        new.peer = self
        new.state = TCP_ESTABLISHED
        new.peercred = me
        new.addr = other.addr           # the accepted socket is named as its listener
        self.peercred = other.peercred
        self.state = TCP_ESTABLISHED
        self.peer = new
        other.queue.append(new)
        other.wq_in.notify()

    def accept(self, timeo, expired, file=None):
        """unix_accept: the next embryo (the listener's SO_PASSCRED passes on to it)."""
        if self.type not in (SOCK_STREAM, SOCK_SEQPACKET):
            raise SyscallError(errno.EOPNOTSUPP)
        if self.state != TCP_LISTEN:
            raise SyscallError(errno.EINVAL)
        err = self.take_error()
        if err:
            raise SyscallError(err)
        if not self.queue:
            if timeo != 0 and not expired and self.shutdown & RCV_SHUTDOWN:
                raise SyscallError(errno.EINVAL)
            block([self.wq_in], timeo, expired, file)
        new = self.queue.popleft()
        self.peer_wait.notify()
        new.passcred = self.passcred
        return new

    def dgram_connect(self, find):
        """unix_dgram_connect: find is None for AF_UNSPEC (dissolve the association)."""
        other = None
        if find is not None:
            other = find()
            if not other.may_receive_from(self):
                raise SyscallError(errno.EPERM)
            self.state = other.state = TCP_ESTABLISHED
        old = self.peer
        self.peer = other
        if old is None:
            return
        if other is None:
            self.state = TCP_CLOSE
        self.stop_relay()
        self.wq_out.notify()
        if other is not old:
            self.dgram_disconnected(old)
            if old.peer is None:
                old.state = TCP_CLOSE

    def may_receive_from(self, sk):
        """unix_may_send(sk, self): we have no peer or sk is it."""
        return self.peer is None or self.peer is sk

    def dgram_disconnected(self, other):
        """What arrived from the old peer goes; a peer that was connected back hears ECONNRESET."""
        if self.queue:
            self.purge()
            self.peer_wait.notify()
            if not other.dead and other.peer is self:
                other.err = errno.ECONNRESET
                other.wq_in.notify()

    def do_shutdown(self, how):
        """unix_shutdown: how is SHUT_RD, SHUT_WR or SHUT_RDWR (checked)."""
        mode = how + 1
        self.shutdown |= mode
        other = self.peer
        self.state_change()
        if other is not None and self.type in (SOCK_STREAM, SOCK_SEQPACKET):
            peer_mode = (SEND_SHUTDOWN if mode & RCV_SHUTDOWN else 0) | (RCV_SHUTDOWN if mode & SEND_SHUTDOWN else 0)
            other.shutdown |= peer_mode
            other.state_change()

    def release(self, embryo=False):
        """unix_release_sock: the last file is closed (or a listener takes its embryos along)."""
        names.unbind(self)
        self.shutdown = SHUTDOWN_MASK
        state = self.state
        self.state = TCP_CLOSE
        pair, self.peer = self.peer, None
        self.dead = True
        self.peer_wait.notify()
        self.stop_relay()
        if pair is not None and self.type in (SOCK_STREAM, SOCK_SEQPACKET):
            pair.shutdown = SHUTDOWN_MASK
            if self.queue or embryo:
                pair.err = errno.ECONNRESET
            pair.state_change()
        self.state_change()
        queue, self.queue = self.queue, collections.deque()
        for item in queue:
            if state == TCP_LISTEN:
                item.release(embryo=True)
            else:
                self.free(item)

    def purge(self):
        queue, self.queue = self.queue, collections.deque()
        for skb in queue:
            self.free(skb)

    @staticmethod
    def free(skb):
        """The skb is gone: its files go, and its sender has the room back."""
        drop_files(skb.files)
        skb.files = None
        sender = skb.sender
        if sender is not None:
            sender.wmem -= skb.truesize
            skb.sender = None
            if sender.writable():
                sender.wq_out.notify()

    def stop_relay(self):
        if self.relaying is not None:
            self.relaying.peer_wait.remove(self._relay_once)
            self.relaying = None

    def relay_from(self, other):
        """unix_dgram_peer_wake_connect: when other's queue shrinks, tell our writers."""
        if self.relaying is None:
            self.relaying = other
            other.peer_wait.add(self._relay_once)

    def _relay_once(self):
        self.relaying = None
        self.wq_out.notify()

    # -- sending ---------------------------------------------------------------------------
    def _may_alloc(self, timeo, expired, file):
        """sock_alloc_send_pskb's wait: a pending error, shutdown, or no room below SO_SNDBUF."""
        err = self.take_error()
        if err:
            raise SyscallError(err)
        if self.shutdown & SEND_SHUTDOWN:
            raise _pipe_error(False)
        if self.wmem >= self.sndbuf:
            block([self.wq_out], timeo, expired, file)

    def stream_send(self, data, flags, files, creds, me_creds, sent_before, timeo, expired, file=None):
        """unix_stream_sendmsg: queue what fits of data; returns the count (a blocking caller
        calls again for the rest, which then waits). The files passed (references the
        caller took) go with the first skb, or are dropped; creds are the
        SCM_CREDENTIALS given, or None; sent_before is what earlier calls of the same
        syscall sent (SIGPIPE only if nothing was)."""
        try:
            if flags & MSG_OOB:
                raise SyscallError(errno.EOPNOTSUPP)        # (urgent data is not modelled)
            other = self.peer
            if other is None:
                raise SyscallError(errno.ENOTCONN)
            nosignal = bool(flags & MSG_NOSIGNAL)
            if self.shutdown & SEND_SHUTDOWN:
                raise _pipe_error(not nosignal and not sent_before)
            sent = 0
            while sent < len(data):
                try:
                    self._may_alloc(timeo, expired, file)
                except (SyscallError, WouldBlock):
                    if sent:
                        return sent
                    raise
                if other.dead or other.shutdown & RCV_SHUTDOWN:
                    if sent:
                        return sent
                    raise _pipe_error(not sent_before and not nosignal)
                size, truesize = stream_chunk(len(data) - sent, self.sndbuf)
                skb = Skb(data[sent:sent + size], self, truesize, creds, files)
                files = None
                self._queue(skb, other, me_creds)
                sent += size
            return sent
        finally:
            drop_files(files)

    def _queue(self, skb, other, me_creds):
        if skb.creds is None and (self.passcred or other.passcred or not other.has_file):
            skb.creds = me_creds        # maybe_add_creds
        self.wmem += skb.truesize
        other.queue.append(skb)
        other.wq_in.notify()

    def dgram_send(self, length, fetch, flags, find, files, creds, me_creds, timeo, expired, file=None):
        """unix_dgram_sendmsg (and seqpacket's): one message of `length` bytes, which
        fetch() gives (it may fault), whole or not at all. find() resolves the
        destination address (None: send to the peer). The files passed go with the
        message, or are dropped."""
        try:
            if flags & MSG_OOB:
                raise SyscallError(errno.EOPNOTSUPP)
            other = None
            if find is None:
                other = self.peer
                if other is None:
                    raise SyscallError(errno.ENOTCONN)
            if self.passcred and self.addr is None:
                self.autobind()
            if length > self.sndbuf - 32:
                raise SyscallError(errno.EMSGSIZE)
            self._may_alloc(timeo, expired, file)
            data = fetch()
            while True:
                if other is None:
                    if find is None:
                        raise SyscallError(errno.ECONNRESET)
                    other = find()
                if not other.may_receive_from(self):
                    raise SyscallError(errno.EPERM)
                if not other.dead:
                    break
                if self.type == SOCK_SEQPACKET:
                    raise _pipe_error(False)
                if self.peer is other:
                    self.peer = None
                    self.stop_relay()
                    self.state = TCP_CLOSE
                    self.dgram_disconnected(other)
                    raise SyscallError(errno.ECONNREFUSED)
                other = None
            if other.shutdown & RCV_SHUTDOWN:
                raise _pipe_error(False)
            if other is not self and other.peer is not self and other.recvq_full():
                if timeo != 0 and not expired:
                    raise WouldBlock([other.peer_wait], timeout=timeo,
                                     restart=ERESTARTSYS if timeo is None else errno.EINTR, file=file)
                if self.peer is other:
                    self.relay_from(other)
                raise SyscallError(errno.EAGAIN)
            self._queue(Skb(data, self, dgram_truesize(len(data)), creds, files), other, me_creds)
            files = None
            return len(data)
        finally:
            drop_files(files)

    # -- receiving -----------------------------------------------------------------------
    def stream_recv(self, size, flags, sink, rs, timeo, expired, file=None, lowat=None):
        """unix_stream_read_generic. sink(offset, data) copies to the program and returns
        how much it could (less: a fault). rs (RecvState) carries what was done across
        waits; returns the bytes copied in all."""
        if self.state != TCP_ESTABLISHED:
            raise SyscallError(errno.EINVAL)
        if flags & MSG_OOB:
            raise SyscallError(errno.EINVAL)        # no urgent byte is ever queued
        lowat = self.rcvlowat if lowat is None else lowat
        target = (size if flags & MSG_WAITALL else min(lowat, size)) or 1
        peek = flags & MSG_PEEK
        copied = rs.copied
        queue = self.queue
        i = 0
        while True:
            if i >= len(queue):
                if peek and i:
                    break               # (a peek never waits past what it has seen)
                if copied >= target:
                    break
                err = self.take_error()
                if err:
                    if copied:
                        break
                    raise SyscallError(err)
                if self.shutdown & RCV_SHUTDOWN:
                    break
                if timeo == 0 or expired:
                    if copied:
                        break
                    raise SyscallError(errno.EAGAIN)
                rs.copied = copied
                block([self.wq_in], timeo, expired, file)
            skb = queue[i]
            if rs.check_creds:
                if skb.creds != rs.creds:
                    break               # never glue messages from different writers
            elif self.passcred:
                rs.creds = skb.creds
                rs.check_creds = True
            rs.sender = skb.origin or rs.sender
            chunk = min(skb.remaining(), size - copied)
            data = skb.data[skb.consumed:skb.consumed + chunk]
            if sink(copied, data) < len(data):
                if not copied:
                    raise SyscallError(errno.EFAULT)
                break
            copied += chunk
            if not peek:
                skb.consumed += chunk
                if skb.files is not None:
                    rs.files, skb.files = skb.files, None
                if skb.remaining():
                    break
                queue.popleft()
                self.free(skb)
                if rs.files is not None:
                    break
            else:
                if skb.files is not None:
                    rs.files = dup_files(skb.files)
                    break
                i += 1
                continue
            if copied >= size:
                break
        rs.copied = copied
        return copied

    def dgram_recv(self, size, flags, sink, timeo, expired, file=None):
        """__unix_dgram_recvmsg: one message. Returns (result, MSG_TRUNC or 0, sender,
        creds, files), result being the message's length with MSG_TRUNC in flags, or
        None at the end (a shut-down socket with nothing queued)."""
        if flags & MSG_OOB:
            raise SyscallError(errno.EOPNOTSUPP)
        err = self.take_error()
        if err:
            raise SyscallError(err)
        if not self.queue:
            waits = timeo != 0 and not expired
            if self.shutdown & RCV_SHUTDOWN:
                if waits or self.type == SOCK_SEQPACKET:
                    return None
                raise SyscallError(errno.EAGAIN)
            block([self.wq_in], timeo, expired, file)
        peek = flags & MSG_PEEK
        skb = self.queue[0] if peek else self.queue.popleft()
        if not peek:
            self.peer_wait.notify()
        data = skb.data
        trunc = MSG_TRUNC if size < len(data) else 0
        part = data[:size]
        files = None
        try:
            if sink(0, part) < len(part):
                raise SyscallError(errno.EFAULT)
            if skb.files is not None:
                if peek:
                    files = dup_files(skb.files)
                else:
                    files, skb.files = skb.files, None
        finally:
            if not peek:
                self.free(skb)
        result = len(data) if flags & MSG_TRUNC else len(part)
        return result, trunc, skb.origin, skb.creds, files

    def unread_front(self, data):
        """Bytes a read(2) took but could not give the program go back first in line."""
        skb = Skb(data, None, 0)
        skb.origin = self.peer
        self.queue.appendleft(skb)

    # -- readiness ---------------------------------------------------------------------
    def poll(self):
        """unix_poll for stream sockets, unix_dgram_poll for the others."""
        mask = 0
        shutdown = self.shutdown
        if self.err:
            mask |= POLLERR
        if shutdown == SHUTDOWN_MASK:
            mask |= POLLHUP
        if shutdown & RCV_SHUTDOWN:
            mask |= POLLRDHUP | POLLIN | POLLRDNORM
        if self.queue:
            mask |= POLLIN | POLLRDNORM
        if self.state == TCP_CLOSE and self.type != SOCK_DGRAM:
            mask |= POLLHUP
        writable = self.writable()
        if writable and self.type != SOCK_STREAM:
            other = self.peer
            if other is not None and other.peer is not self and other.recvq_full() and not other.dead:
                self.relay_from(other)
                writable = False
        if writable:
            mask |= POLLOUT | POLLWRNORM | POLLWRBAND
        return mask

    def queued_files(self):
        return sum(len(skb.files) for skb in self.queue if isinstance(skb, Skb) and skb.files)


class SocketFile(StreamFile):
    """An open socket: read and write are recv and send without flags."""

    has_fasync = True

    def __init__(self, sock, flags=0):
        super().__init__(None, sock, os.O_RDWR | (flags & os.O_NONBLOCK))
        self.sock = sock
        sock.has_file = True
        self.deadlines = {}         # read/write(2)'s timed waits (see timed)
        self.last_read = b""

    def nonblocking(self, flags=0):
        return bool(self.flags & os.O_NONBLOCK or flags & MSG_DONTWAIT)

    def timeo(self, jiffies_value, flags=0):
        """sock_rcvtimeo/sock_sndtimeo in seconds: 0 nonblocking, None for ever."""
        if self.nonblocking(flags):
            return 0
        return None if jiffies_value is None else jiffies_value / HZ

    def timed(self, kind, timeo, op):
        """read(2) and write(2) do not tell the file which thread calls, so a timed wait
        (SO_RCVTIMEO, SO_SNDTIMEO) keeps its deadline here, one per direction: op(expired)
        runs the call; a deadline older than a second is forgotten (its wait was
        interrupted)."""
        if not timeo:
            return op(False)
        now = time.monotonic()
        deadline = self.deadlines.get(kind)
        if deadline is not None and now > deadline + 1.0:
            deadline = None
        try:
            result = op(deadline is not None and now >= deadline)
        except WouldBlock:
            if deadline is None:
                self.deadlines[kind] = now + timeo
            raise
        except SyscallError:
            self.deadlines.pop(kind, None)
            raise
        self.deadlines.pop(kind, None)
        return result

    def read(self, count):
        """read(2): recv(2) with no flags; passed files are dropped (no room for them)."""
        sock = self.sock
        out = bytearray()

        def sink(offset, data):
            out[offset:] = data
            return len(data)

        def op(expired):
            timeo = self.timeo(sock.rcvtimeo)
            if sock.type == SOCK_STREAM:
                # (SO_RCVLOWAT is not waited for here: read(2) keeps no progress over a wait)
                rs = RecvState()
                sock.stream_recv(count, 0, sink, rs, timeo, expired, self, lowat=1)
                drop_files(rs.files)
            else:
                if sock.type == SOCK_SEQPACKET and sock.state != TCP_ESTABLISHED:
                    raise SyscallError(errno.ENOTCONN)
                got = sock.dgram_recv(count, 0, sink, timeo, expired, self)
                if got is not None:
                    drop_files(got[4])
            return bytes(out)
        data = self.timed("rcv", self.timeo(sock.rcvtimeo), op)
        self.last_read = data if sock.type == SOCK_STREAM else b""
        return data

    def unread(self, n):
        """read(2) could not give the program the last n bytes: a stream keeps them
        (a datagram is lost, as in Linux)."""
        if n and self.last_read:
            self.sock.unread_front(self.last_read[-n:])
        self.last_read = b""

    @property
    def whole_writes(self):
        return self.sock.type != SOCK_STREAM

    def write(self, data):
        """write(2): send(2) with no flags (one message for datagram sockets)."""
        return self.write_message(len(data), lambda: data)

    def write_message(self, length, fetch):
        """write(2) of one message of length bytes that fetch() gives: a datagram too
        big for the socket is refused before its bytes are read."""
        sock = self.sock

        def op(expired):
            timeo = self.timeo(sock.sndtimeo)
            if sock.type == SOCK_STREAM:
                return sock.stream_send(fetch(), 0, None, None, None, 0, timeo, expired, self)
            if sock.type == SOCK_SEQPACKET:
                err = sock.take_error()
                if err:
                    raise SyscallError(err)
                if sock.state != TCP_ESTABLISHED:
                    raise SyscallError(errno.ENOTCONN)
            return sock.dgram_send(length, fetch, 0, None, None, None, None, timeo, expired, self)
        return self.timed("snd", self.timeo(sock.sndtimeo), op)

    def fionread(self):
        return self.sock.inq()

    def inq_hint(self):
        return self.sock.inq() if self.sock.type == SOCK_STREAM else 0     # (only unix_stream_read_generic sets msg_inq)

    def ioctl(self, request, arg, task):
        if request == SIOCOUTQ:
            return 0, I32.pack(min(self.sock.wmem, 0x7FFFFFFF))
        if request == SIOCATMARK:
            return 0, I32.pack(0)
        return ifreq.ioctl(task, request, arg, AF_UNIX)

    def poll(self):
        return self.sock.poll()

    def wait_queues(self):
        return (self.sock.wq_in, self.sock.wq_out)

    def stat(self):
        return self.sock.stat()

    def path(self):
        return self.sock.name()

    def fdinfo(self):
        return b"scm_fds: %d\n" % self.sock.queued_files()

    def release(self):
        self.sock.release()
