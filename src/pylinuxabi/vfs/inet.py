"""AF_INET and AF_INET6 sockets (ip(7), ipv6(7), tcp(7), udp(7)) backed by host sockets the supervisor owns.

The host's TCP and UDP in the sandbox's network namespace carry the data (DESIGN §12);
the model keeps the file (O_NONBLOCK, the SO_RCVTIMEO/SO_SNDTIMEO waits, the sockfs
inode) and calls the host only with bytes it has already read and checked. The host
socket is always non-blocking: a call that must wait raises WouldBlock with a re-check,
as other host-backed files do. Nothing here knows of tasks (syscalls/net.py does).
"""
import ctypes
import errno
import fcntl
import os
import select
import socket as pysocket
import stat as st
import termios

from pylinuxabi.base.errors import ERESTARTSYS, SyscallError, WouldBlock
from pylinuxabi.vfs import ifreq, sockreg
from pylinuxabi.vfs.file import POLLIN, POLLOUT, POLLRDNORM, StreamFile
from pylinuxabi.vfs.socket import SOCK_STREAM, SOCKFS_DEV, SocketFile
from pylinuxabi.vfs.stdio import ALL_POLL_EVENTS, RECHECK
from pylinuxabi.vfs.synthetic import SynthInode

AF_INET, AF_INET6 = pysocket.AF_INET, pysocket.AF_INET6
SOCKADDR_IN_SIZE, SOCKADDR_IN6_SIZE = 16, 28
SIN6_LEN_RFC2133 = 24           # an IPv6 address without sin6_scope_id is still taken
SOCKADDR_STORAGE = 128
MSG_PEEK, MSG_DONTWAIT, MSG_ERRQUEUE, MSG_NOSIGNAL = 0x2, 0x40, 0x2000, 0x4000
CONTROL_MAX = 4096              # the most control message bytes taken from the host at once
SIOCOUTQ, SIOCATMARK = 0x5411, 0x8905
OPTVAL_MAX = 256                # the longest option value passed to or from the host (TCP_INFO fits)

_libc = ctypes.CDLL(None, use_errno=True)
for _name in ("bind", "connect", "listen", "accept4", "getsockname", "getpeername", "shutdown",
              "setsockopt", "getsockopt"):
    getattr(_libc, _name).restype = ctypes.c_int
for _name in ("sendmsg", "recvmsg"):
    getattr(_libc, _name).restype = ctypes.c_ssize_t


class _IoVec(ctypes.Structure):
    _fields_ = [("base", ctypes.c_void_p), ("len", ctypes.c_size_t)]


class _MsgHdr(ctypes.Structure):
    _fields_ = [("name", ctypes.c_void_p), ("namelen", ctypes.c_uint32), ("iov", ctypes.POINTER(_IoVec)),
                ("iovlen", ctypes.c_size_t), ("control", ctypes.c_void_p), ("controllen", ctypes.c_size_t),
                ("flags", ctypes.c_int)]


def _host(result):
    """A libc call's result, or its errno as the program's error."""
    if result < 0:
        raise SyscallError(ctypes.get_errno())
    return result


def _call(fn, *args):
    ctypes.set_errno(0)
    return _host(fn(*args))


_received = ctypes.create_string_buffer(1 << 20)


def _receive_buffer(size):
    """Where a host receive lands: one buffer kept for the usual sizes (a fresh zeroed one
    per call cost more than the receive), copied out at once."""
    return _received if size <= len(_received) else ctypes.create_string_buffer(size)


class InetSocketFile(StreamFile):
    """An open AF_INET or AF_INET6 socket: a sockfs inode of ours over a host socket."""

    host_backed = True              # readiness is the host socket's
    nonblocking = SocketFile.nonblocking    # (the same rules as a unix socket's file)
    timeo = SocketFile.timeo
    timed = SocketFile.timed

    def __init__(self, family, type, protocol, fd, flags, uid, gid):
        inode = SynthInode(st.S_IFSOCK | 0o777, SOCKFS_DEV, uid, gid)      # (sock_alloc's: the caller's fsuid)
        super().__init__(None, inode, os.O_RDWR | (flags & os.O_NONBLOCK))
        self.family = family
        self.type = type
        self.protocol = protocol
        self.fd = fd                    # the host socket (non-blocking, close-on-exec, ours alone)
        self.sock = pysocket.socket(family, type, protocol, fileno=fd)     # (its fast calls)
        self.rcvtimeo = None            # jiffies, as a unix socket keeps them; None: for ever
        self.sndtimeo = None
        self.connecting = False         # a blocking connect is waiting for the handshake
        self.err = 0                    # an error recvmmsg kept for the next call
        self.pending = b""              # stream bytes read from the host the program could not take
        self.deadlines = {}             # read/write(2)'s timed waits (SocketFile.timed)
        self.last_read = b""
        self.linger = (0, 0)            # SO_LINGER as the program set it: (l_onoff, jiffies)
        self.host_options = {}          # (level, name) -> value: options set on the host socket
        self.bound = None               # the address the program bound it to
        self.outside = False            # moved to a host socket in the host's namespace (move)
        sockreg.add_inet(self)          # /proc/net/tcp and udp list it by its host inode

    @classmethod
    def create(cls, family, type, protocol, flags, uid, gid):
        """socket(2) on the host: the checks are the caller's."""
        try:
            s = pysocket.socket(family, type | pysocket.SOCK_NONBLOCK | pysocket.SOCK_CLOEXEC, protocol)
        except OSError as e:
            raise SyscallError(e.errno)
        return cls(family, type, protocol, s.detach(), flags, uid, gid)

    # -- waiting ------------------------------------------------------------------------------
    def block(self, timeo, expired, events):
        """Wait as sock_rcvtimeo/sock_sndtimeo say (see vfs/socket.py block) until the
        host socket has one of `events`."""
        if timeo == 0 or expired:
            raise SyscallError(errno.EAGAIN)
        raise WouldBlock(self.wait_queues(), timeout=timeo,
                         restart=ERESTARTSYS if timeo is None else errno.EINTR, recheck=RECHECK, file=self,
                         host=self.host_waits(events))

    def host_waits(self, events):
        return [(self.fd, events)]

    def poll(self):
        p = select.poll()
        p.register(self.fd, ALL_POLL_EVENTS)
        events = p.poll(0)
        revents = events[0][1] if events else 0
        if self.pending:
            revents |= POLLIN | POLLRDNORM
        return revents

    def writable_now(self):
        return bool(self.poll() & (select.POLLOUT | select.POLLERR | select.POLLHUP))

    # -- names and connections ----------------------------------------------------------------
    def bind(self, addr):
        buf = ctypes.create_string_buffer(addr, max(len(addr), 1))
        _call(_libc.bind, self.fd, buf, len(addr))
        self.bound = addr

    def move(self, fd):
        """Go on over another host socket of the same kind (one made in the host's
        namespace, DESIGN §12), with the options set so far."""
        for (level, name), value in self.host_options.items():
            buf = ctypes.create_string_buffer(value, max(len(value), 1))
            _libc.setsockopt(fd, level, name, buf, len(value))
        self.sock.close()
        self.fd = fd
        self.sock = pysocket.socket(self.family, self.type, self.protocol, fileno=fd)
        self.outside = True
        sockreg.add_inet(self)          # (by its new host inode: the host's namespace lists it)

    def listen(self, backlog):
        _call(_libc.listen, self.fd, backlog)

    def connect(self, addr):
        """The host's connect, which never waits (EINPROGRESS for a stream being made)."""
        buf = ctypes.create_string_buffer(addr, max(len(addr), 1))
        _call(_libc.connect, self.fd, buf, len(addr))

    def accept(self, flags, uid, gid):
        """(the new file, its inode owned by uid and gid, the peer's name) or EAGAIN."""
        name = ctypes.create_string_buffer(SOCKADDR_STORAGE)
        length = ctypes.c_uint32(SOCKADDR_STORAGE)
        fd = _call(_libc.accept4, self.fd, name, ctypes.byref(length), pysocket.SOCK_NONBLOCK | pysocket.SOCK_CLOEXEC)
        new = InetSocketFile(self.family, self.type, self.protocol, fd, flags, uid, gid)
        return new, name.raw[:min(length.value, SOCKADDR_STORAGE)]

    def getname(self, peer):
        name = ctypes.create_string_buffer(SOCKADDR_STORAGE)
        length = ctypes.c_uint32(SOCKADDR_STORAGE)
        _call(_libc.getpeername if peer else _libc.getsockname, self.fd, name, ctypes.byref(length))
        return name.raw[:min(length.value, SOCKADDR_STORAGE)]

    def shutdown(self, how):
        _call(_libc.shutdown, self.fd, how)

    def take_error(self):
        """sock_error: the pending error (one recvmmsg kept first), which reading clears."""
        err, self.err = self.err, 0
        return err or int.from_bytes(self.getsockopt(pysocket.SOL_SOCKET, pysocket.SO_ERROR, 4), "little")

    # -- data ---------------------------------------------------------------------------------
    def send_some(self, data, flags, addr=None, control=b""):
        """One host sendmsg that never waits: bytes taken, or EAGAIN / the host's error."""
        if self.type == SOCK_STREAM and not addr and not control:
            try:                        # (the common case, by the socket module's C)
                return self.sock.send(data, flags | MSG_DONTWAIT | MSG_NOSIGNAL)
            except OSError as e:
                raise SyscallError(e.errno)
        data = bytes(data)
        iov = _IoVec(ctypes.cast(ctypes.c_char_p(data), ctypes.c_void_p), len(data))      # (no copy)
        msg = _MsgHdr(None, 0, ctypes.pointer(iov), 1, None, 0, 0)
        if addr:
            name = ctypes.create_string_buffer(addr, len(addr))
            msg.name, msg.namelen = ctypes.cast(name, ctypes.c_void_p), len(addr)
        if control:
            ctl = ctypes.create_string_buffer(control, len(control))
            msg.control, msg.controllen = ctypes.cast(ctl, ctypes.c_void_p), len(control)
        return _call(_libc.sendmsg, self.fd, ctypes.byref(msg), flags | MSG_DONTWAIT | MSG_NOSIGNAL)

    def recv_some(self, size, flags, control_size=0):
        """One host receive that never waits: (data, its length as the call reports it,
        the sender's name, msg_flags, the control messages the host wrote in at most
        control_size bytes) or EAGAIN. Bytes a stream could not give the program
        before (pending) come first."""
        if self.pending and self.type == SOCK_STREAM and not flags & MSG_ERRQUEUE:
            data = self.pending[:size]
            if not flags & MSG_PEEK:
                self.pending = self.pending[len(data):]
            return data, len(data), b"", 0, b""
        if self.type == SOCK_STREAM and not flags & ~MSG_PEEK and not control_size:
            try:                        # (the common case: a stream names no sender)
                data = self.sock.recv(size, flags | MSG_DONTWAIT)
            except OSError as e:
                raise SyscallError(e.errno)
            return data, len(data), b"", 0, b""
        buf = _receive_buffer(size)
        name = ctypes.create_string_buffer(SOCKADDR_STORAGE)
        iov = _IoVec(ctypes.cast(buf, ctypes.c_void_p), size)
        msg = _MsgHdr(ctypes.cast(name, ctypes.c_void_p), SOCKADDR_STORAGE, ctypes.pointer(iov), 1, None, 0, 0)
        control_size = min(control_size, CONTROL_MAX)
        if control_size:
            ctl = ctypes.create_string_buffer(control_size)
            msg.control, msg.controllen = ctypes.cast(ctl, ctypes.c_void_p), control_size
        n = _call(_libc.recvmsg, self.fd, ctypes.byref(msg), flags | MSG_DONTWAIT)
        control = ctl.raw[:min(msg.controllen, control_size)] if control_size else b""
        data = ctypes.string_at(buf, min(n, size))
        return data, n, name.raw[:min(msg.namelen, SOCKADDR_STORAGE)], msg.flags, control

    def keep(self, data):
        """Bytes a stream read from the host that the program's buffer did not take."""
        if self.type == SOCK_STREAM and data:
            self.pending = bytes(data) + self.pending

    def read(self, count):
        """read(2): recv(2) with no flags."""
        def op(expired):
            try:
                return self.recv_some(count, 0)[0]
            except SyscallError as e:
                if e.errno == errno.EAGAIN:
                    self.block(self.timeo(self.rcvtimeo), expired, POLLIN)
                raise
        data = self.timed("rcv", self.timeo(self.rcvtimeo), op)
        self.last_read = data
        return data

    def unread(self, n):
        """read(2) could not give the program the last n bytes: a stream keeps them."""
        if n:
            self.keep(self.last_read[-n:])
        self.last_read = b""

    @property
    def whole_writes(self):
        return self.type != SOCK_STREAM

    def write(self, data):
        return self.write_message(len(data), lambda: data)

    def write_message(self, length, fetch):
        """write(2): send(2) with no flags; EPIPE is the caller's (SIGPIPE is sent by write)."""
        def op(expired):
            try:
                return self.send_some(fetch(), 0)
            except SyscallError as e:
                if e.errno == errno.EAGAIN:
                    self.block(self.timeo(self.sndtimeo), expired, POLLOUT)
                raise
        return self.timed("snd", self.timeo(self.sndtimeo), op)

    # -- options and ioctls -------------------------------------------------------------------
    def setsockopt(self, level, name, value):
        buf = ctypes.create_string_buffer(value, max(len(value), 1))
        _call(_libc.setsockopt, self.fd, level, name, buf, len(value))
        self.host_options[(level, name)] = value

    def getsockopt(self, level, name, length):
        length = max(0, min(length, OPTVAL_MAX))
        buf = ctypes.create_string_buffer(max(length, 1))
        size = ctypes.c_uint32(length)
        _call(_libc.getsockopt, self.fd, level, name, buf, ctypes.byref(size))
        return buf.raw[:min(size.value, length)]

    def _int_ioctl(self, request):
        try:
            return int.from_bytes(fcntl.ioctl(self.fd, request, bytes(4)), "little", signed=True)
        except OSError as e:
            raise SyscallError(e.errno)

    def fionread(self):
        return self._int_ioctl(termios.FIONREAD) + len(self.pending)

    def inq_hint(self):
        """tcp_inq_hint: the bytes queued, or 1 at the end of the stream (the peer's FIN);
        UDP does not say (0)."""
        if self.type != SOCK_STREAM:
            return 0
        n = self.fionread()
        if n == 0:
            try:
                return int(self.sock.recv(1, MSG_PEEK | MSG_DONTWAIT) == b"")
            except OSError:
                return 0
        return n

    def ioctl(self, request, arg, task):
        if request in (SIOCOUTQ, SIOCATMARK):
            return 0, self._int_ioctl(request).to_bytes(4, "little", signed=True)
        return ifreq.ioctl(task, request, arg, self.family, self.fd)

    # -- the file -----------------------------------------------------------------------------
    def stat(self):
        return self.inode.stat()

    def path(self):
        return b"socket:[%d]" % self.inode.ino

    def release(self):
        sockreg.remove_inet(self)
        self.sock.close()
