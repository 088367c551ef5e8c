"""AF_NETLINK sockets of protocol NETLINK_ROUTE (netlink(7), rtnetlink(7)) backed by host
netlink sockets the supervisor owns, in the sandbox's network namespace (DESIGN §12).

The host's rtnetlink answers the questions (RTM_GET*: dumps, lookups); the model reads each
message the program sends once and walks it as netlink_rcv_skb does, so that a request that
would change the configuration (RTM_NEW*, RTM_DEL*, RTM_SET*) reaches the host only when
the caller may make it: the others get their NLMSG_ERROR ack from the model, queued with the
host's replies. Sockets, waits, names and options are InetSocketFile's (vfs/inet.py).
Nothing here knows of tasks (syscalls/netlink.py does).
"""
import collections
import ctypes
import errno
import select
import socket as pysocket
import struct

from pylinuxabi.base.abi import I32
from pylinuxabi.base.errors import SyscallError
from pylinuxabi.base.waitq import WaitQueue
from pylinuxabi.vfs import ifreq, sockreg
from pylinuxabi.vfs.file import POLLIN, POLLOUT, POLLRDNORM
from pylinuxabi.vfs.inet import OPTVAL_MAX, InetSocketFile

AF_NETLINK = pysocket.AF_NETLINK
NETLINK_ROUTE, NETLINK_SOCK_DIAG, MAX_LINKS = 0, 4, 32
TCPDIAG_GETSOCK, DCCPDIAG_GETSOCK, SOCK_DIAG_BY_FAMILY, SOCK_DESTROY = 18, 19, 20, 21
INET_DIAG_MSG_SIZE, INET_DIAG_UID = 72, 64      # struct inet_diag_msg; idiag_uid then idiag_inode
INET_DIAG_IDS = struct.Struct("<II")
AF_INET, AF_INET6 = pysocket.AF_INET, pysocket.AF_INET6
SOL_NETLINK = 270
(NETLINK_ADD_MEMBERSHIP, NETLINK_DROP_MEMBERSHIP, NETLINK_PKTINFO, NETLINK_BROADCAST_ERROR,
 NETLINK_NO_ENOBUFS) = range(1, 6)
NETLINK_LISTEN_ALL_NSID, NETLINK_LIST_MEMBERSHIPS, NETLINK_CAP_ACK, NETLINK_EXT_ACK = 8, 9, 10, 11
NETLINK_GET_STRICT_CHK = 12
# the options set on the host as the program gives them; NETLINK_PKTINFO (a control message
# recvmsg does not make yet) and NETLINK_LISTEN_ALL_NSID (other namespaces' news) are not
SET_OPTIONS = {NETLINK_ADD_MEMBERSHIP, NETLINK_DROP_MEMBERSHIP, NETLINK_BROADCAST_ERROR, NETLINK_NO_ENOBUFS,
               NETLINK_CAP_ACK, NETLINK_EXT_ACK, NETLINK_GET_STRICT_CHK}
GET_OPTIONS = SET_OPTIONS - {NETLINK_ADD_MEMBERSHIP, NETLINK_DROP_MEMBERSHIP} | {
    NETLINK_PKTINFO, NETLINK_LISTEN_ALL_NSID, NETLINK_LIST_MEMBERSHIPS}

NLMSGHDR = struct.Struct("<IHHII")      # nlmsg_len, nlmsg_type, nlmsg_flags, nlmsg_seq, nlmsg_pid
SOCKADDR_NL = struct.Struct("<HHII")    # nl_family, nl_pad, nl_pid, nl_groups
NLM_F_REQUEST, NLM_F_CAPPED = 0x1, 0x100
NLMSG_ERROR, NLMSG_MIN_TYPE = 2, 0x10
RTM_BASE, RTM_MAX = 0x10, 123           # RTM_MAX: RTM_GETTUNNEL's group of four ends it
RTNL_KIND_GET = 2                       # (type - RTM_BASE) & 3: NEW, DEL, GET, SET
RTM_NEWNSID, RTM_GETNSID = 88, 90
LINK_MESSAGES = (16, 17, 18, 19)        # RTM_NEWLINK, DELLINK, GETLINK, SETLINK
IFINFOMSG_SIZE = 16
IFLA_LINKINFO, IFLA_INFO_DATA, PEER_INFO = 18, 2, 1     # (VETH_INFO_PEER, VXCAN_INFO_PEER… are 1)
NS_ATTRS = {19, 28, 37, 45, 46}         # IFLA_NET_NS_PID, _FD, IFLA_LINK_NETNSID, NEW_NETNSID, TARGET_NETNSID
NLA_TYPE_MASK = 0x3FFF
SNDBUF_HEADROOM = 32                    # netlink_sendmsg: EMSGSIZE past sk_sndbuf - 32
SEND_MAX = 1 << 24                      # the most read from the program for one send (ENOBUFS past it,
ANSWERS_MAX = 1 << 24                   # as an skb Linux cannot allocate), and kept of the model's acks
SO_SNDBUF, SO_RCVBUF = 7, 8
MSG_OOB = 0x1
MSG_PEEK, MSG_TRUNC = 0x2, 0x20
KERNEL = SOCKADDR_NL.pack(AF_NETLINK, 0, 0, 0)      # who the model's answers come from

_libc = ctypes.CDLL(None, use_errno=True)
_libc.getsockopt.restype = ctypes.c_int


def check_create(kind, protocol):
    """netlink_create's checks: a raw or datagram socket (ESOCKTNOSUPPORT), a protocol below
    MAX_LINKS (EPROTONOSUPPORT). True if it is one the model makes (NETLINK_ROUTE,
    NETLINK_SOCK_DIAG); for the others the caller answers as a kernel built without them
    (EPROTONOSUPPORT)."""
    if kind not in (pysocket.SOCK_RAW, pysocket.SOCK_DGRAM):
        raise SyscallError(errno.ESOCKTNOSUPPORT)
    if not 0 <= protocol < MAX_LINKS:
        raise SyscallError(errno.EPROTONOSUPPORT)
    return protocol in (NETLINK_ROUTE, NETLINK_SOCK_DIAG)


def diag_refusal(type, flags, payload, may_configure):
    """sock_diag_rcv_msg's view of a request: SOCK_DIAG_BY_FAMILY of AF_INET or AF_INET6
    (and the old TCPDIAG_GETSOCK) goes to the host, whose answers are then cut to the
    sandbox's sockets (diag_answers); other families have no handler here (ENOENT, as
    a kernel without unix_diag answers: `ss` then reads /proc/net); SOCK_DESTROY needs
    CAP_NET_ADMIN and a namespace of the sandbox's own."""
    if not flags & NLM_F_REQUEST or type < NLMSG_MIN_TYPE:
        return None
    if type == SOCK_DESTROY:
        return None if may_configure else errno.EPERM
    if type == SOCK_DIAG_BY_FAMILY:
        return None if payload[:1] in (bytes([AF_INET]), bytes([AF_INET6])) else errno.ENOENT
    if type in (TCPDIAG_GETSOCK, DCCPDIAG_GETSOCK):
        return None
    return errno.EINVAL


def diag_answers(datagram, new_net):
    """The host's sock_diag answers with the sandbox's sockets only, each with the model's
    inode number and the creator's uid, as /proc/net/tcp shows them (procnet.inet_rows):
    a record of a host socket the sandbox does not own is left out, as is one with no
    socket (inode 0) in --net host."""
    owned = dict(sockreg.inet_by_host_ino)
    out = []
    pos = 0
    while len(datagram) - pos >= NLMSGHDR.size:
        length, type, _, _, _ = NLMSGHDR.unpack_from(datagram, pos)
        if length < NLMSGHDR.size or length > len(datagram) - pos:
            out.append(datagram[pos:])
            break
        message = datagram[pos:pos + length]
        pos += length + 3 & ~3
        if type in (SOCK_DIAG_BY_FAMILY, TCPDIAG_GETSOCK) and len(message) >= NLMSGHDR.size + INET_DIAG_MSG_SIZE:
            uid, ino = INET_DIAG_IDS.unpack_from(message, NLMSGHDR.size + INET_DIAG_UID)
            f = owned.get(ino)
            if f is None and (ino != 0 or not new_net):
                continue
            if f is not None:
                message = bytearray(message)
                INET_DIAG_IDS.pack_into(message, NLMSGHDR.size + INET_DIAG_UID, f.inode.stat().uid, f.inode.ino)
                message = bytes(message)
        out.append(message.ljust(length + 3 & ~3, b"\0"))
    return b"".join(out)


def destination(addr):
    """netlink_sendmsg's and netlink_connect's look at a sockaddr_nl: (nl_pid, nl_groups), or
    EINVAL for one too short or of another family."""
    if len(addr) < SOCKADDR_NL.size:
        raise SyscallError(errno.EINVAL)
    family, _, pid, groups = SOCKADDR_NL.unpack_from(addr)
    if family != AF_NETLINK:
        raise SyscallError(errno.EINVAL)
    return pid, groups


def refusal(type, flags, payload, may_configure):
    """rtnetlink_rcv_msg's checks before any handler runs, for a message netlink_rcv_skb
    hands it (payload: its bytes after the header): the errno its ack carries, or None if
    the host may have it. A request of a type past RTM_MAX is EOPNOTSUPP (the model's
    kernel has no more); one of at least a byte that is not a GET needs CAP_NET_ADMIN
    (EPERM). Messages that are not requests, or of the netlink control types, are only
    acked. A request naming another network namespace is EPERM (names_namespace)."""
    if not flags & NLM_F_REQUEST or type < NLMSG_MIN_TYPE:
        return None
    if type > RTM_MAX:
        return errno.EOPNOTSUPP
    if len(payload) < 1:
        return None
    if (type - RTM_BASE) & 3 != RTNL_KIND_GET and not may_configure:
        return errno.EPERM
    if names_namespace(type, payload):
        return errno.EPERM
    return None


def names_namespace(type, payload):
    """Does a request name a network namespace by pid, fd or id (IFLA_NET_NS_PID/FD,
    IFLA_TARGET_NETNSID…, also in a veth peer's link info; RTM_NEWNSID and RTM_GETNSID)?
    The host would read the fd as the supervisor's and the pid in its namespace, and the
    supervisor may be capable in the host's namespace: the sandbox only ever has its own."""
    if type in (RTM_NEWNSID, RTM_GETNSID):
        return True
    if type not in LINK_MESSAGES:
        return False
    return _link_attrs_name_namespace(payload[IFINFOMSG_SIZE:], depth=0)


def _link_attrs_name_namespace(attrs, depth):
    for kind, value in _rtattrs(attrs):
        if kind in NS_ATTRS:
            return True
        if kind == IFLA_LINKINFO and depth < 2:
            for info_kind, info in _rtattrs(value):
                if info_kind == IFLA_INFO_DATA:
                    for peer_kind, peer in _rtattrs(info):
                        # a peer (veth, vxcan, netkit…) is an ifinfomsg and its own attributes
                        if peer_kind == PEER_INFO and _link_attrs_name_namespace(peer[IFINFOMSG_SIZE:], depth + 1):
                            return True
    return False


def _rtattrs(data):
    """(type without its flag bits, value) of each struct rtattr in data."""
    pos = 0
    while len(data) - pos >= 4:
        length, kind = struct.unpack_from("<HH", data, pos)
        if length < 4 or length > len(data) - pos:
            return
        yield kind & NLA_TYPE_MASK, data[pos + 4:pos + length]
        pos += length + 3 & ~3


def walk(data, refuse):
    """netlink_rcv_skb's walk over a buffer: [(start, end, errno or None)], the runs of
    messages for the host (None) and each refused message, in order. It stops at a header
    whose length is short or runs past the end, as Linux does; the bytes left go with
    the host's run before them (the host ignores them too), or to the host alone if no
    message came first."""
    runs = []
    pos = 0
    while len(data) - pos >= NLMSGHDR.size:
        length, type, flags, _, _ = NLMSGHDR.unpack_from(data, pos)
        if length < NLMSGHDR.size or length > len(data) - pos:
            break
        end = min(pos + (length + 3 & ~3), len(data))
        err = refuse(type, flags, data[pos + NLMSGHDR.size:pos + length])
        if err is None and runs and runs[-1][2] is None:
            runs[-1] = (runs[-1][0], end, None)
        else:
            runs.append((pos, end, err))
        pos = end
    if pos < len(data) or not runs:
        if runs and runs[-1][2] is None:
            runs[-1] = (runs[-1][0], len(data), None)
        elif not runs:
            runs.append((0, len(data), None))
    return runs


def error_ack(message, err, port, capped):
    """netlink_ack for an error: NLMSG_ERROR to the sender's port with the request's
    sequence number, -err, the request's header and, unless NETLINK_CAP_ACK, its payload
    (padded to 4 bytes); refusals carry no extended-ack attributes."""
    length, _, _, seq, _ = NLMSGHDR.unpack_from(message)
    payload = b"" if capped else message[NLMSGHDR.size:length].ljust(length - NLMSGHDR.size + 3 & ~3, b"\0")
    body = I32.pack(-err) + message[:NLMSGHDR.size] + payload
    return NLMSGHDR.pack(NLMSGHDR.size + len(body), NLMSG_ERROR, NLM_F_CAPPED if capped else 0, seq, port) + body


class NetlinkSocketFile(InetSocketFile):
    """An open NETLINK_ROUTE socket: a sockfs inode of ours over a host netlink socket, and
    the acks the model made for requests it refused, waiting to be read."""

    def __init__(self, type, protocol, fd, flags, uid, gid, opener_may_configure, new_net=True):
        super().__init__(AF_NETLINK, type, protocol, fd, flags, uid, gid)
        self.opener_may_configure = opener_may_configure    # (netlink_ns_capable: the opener's too)
        self.new_net = new_net                  # a namespace of the sandbox's own (sock_diag's filter)
        self.answers = collections.deque()      # [datagram, comes before the host's replies?]
        self.answer_bytes = 0
        self.arrived = WaitQueue()              # told when the kernel itself sends one (deliver)

    @classmethod
    def create(cls, type, protocol, flags, uid, gid, opener_may_configure, new_net=True):
        """socket(2) on the host: the checks are the caller's."""
        try:
            s = pysocket.socket(AF_NETLINK, type | pysocket.SOCK_NONBLOCK | pysocket.SOCK_CLOEXEC, protocol)
        except OSError as e:
            raise SyscallError(e.errno)
        return cls(type, protocol, s.detach(), flags, uid, gid, opener_may_configure, new_net)

    # -- sending ------------------------------------------------------------------------------
    def check_size(self, length):
        """netlink_sendmsg: EMSGSIZE for a message the send buffer cannot hold (before its
        bytes are read)."""
        if length > self._int_option(pysocket.SOL_SOCKET, SO_SNDBUF) - SNDBUF_HEADROOM:
            raise SyscallError(errno.EMSGSIZE)
        if length > SEND_MAX:
            raise SyscallError(errno.ENOBUFS)

    def send_messages(self, data, addr, may_configure):
        """netlink_sendmsg of data (read once) to addr (None: the connected peer, the kernel
        unless the program connected elsewhere): the runs the host may have go to it, each
        refused message gets the model's ack, in order. Returns len(data)."""
        refuse = diag_refusal if self.protocol == NETLINK_SOCK_DIAG else refusal
        runs = walk(data, lambda type, flags, payload: refuse(type, flags, payload, may_configure))
        if (len(runs) > 1 or runs[0][2] is not None) and not self._to_kernel(addr):
            runs = [(0, len(data), None)]       # (only rtnetlink itself looks at requests)
        sent = False
        acking = None
        for start, end, err in runs:
            if err is None:
                self.send_some(data[start:end], 0, addr)
                sent = True
                continue
            if acking is None:
                acking = self._acking()
            port, capped, room, first = acking
            self._answer(error_ack(data[start:end], err, port, capped), room, first and not sent)
        return len(data)

    def write_message(self, length, fetch):
        """write(2): send(2) with no flags and no address; whether a change may be made is
        judged by the opener's credentials alone (write(2) has no others to give)."""
        self.check_size(length)

        def op(expired):
            try:
                return self.send_messages(fetch(), None, self.opener_may_configure)
            except SyscallError as e:
                if e.errno == errno.EAGAIN:
                    self.block(self.timeo(self.sndtimeo), expired, POLLOUT)
                raise
        return self.timed("snd", self.timeo(self.sndtimeo), op)

    def _to_kernel(self, addr):
        peer = addr if addr else self.getname(True)
        return SOCKADDR_NL.unpack_from(peer)[2] == 0

    def _port(self):
        """Our port id, binding the socket first if it has none (netlink_autobind, which a
        send does)."""
        port = SOCKADDR_NL.unpack_from(self.getname(False))[2]
        if port == 0:
            self.bind(KERNEL)
            port = SOCKADDR_NL.unpack_from(self.getname(False))[2]
        return port

    def _acking(self):
        """What the acks of one send need: our port id, NETLINK_CAP_ACK, the room the
        receive buffer has for them, and whether they may come before the host's replies
        (the host has none to read and no ack of ours waits behind them)."""
        capped = self._int_option(SOL_NETLINK, NETLINK_CAP_ACK) != 0
        room = min(self._int_option(pysocket.SOL_SOCKET, SO_RCVBUF), ANSWERS_MAX)
        first = not self._host_readable() and all(f for _, f in self.answers)
        return self._port(), capped, room, first

    def _answer(self, datagram, room, first):
        """Queue an ack of the model's: first, it is read before the host's replies; else
        after all the host gives. One that finds the receive buffer full is dropped and
        the next receive is ENOBUFS (netlink_overrun)."""
        if self.answer_bytes + len(datagram) > room:
            self.err = errno.ENOBUFS
            return
        self.answers.append([datagram, first])
        self.answer_bytes += len(datagram)

    def deliver(self, datagram):
        """netlink_sendskb from the kernel to this socket (mq_notify's SIGEV_THREAD cookie):
        read after what the host has; a receiver waiting is woken."""
        self._answer(datagram, min(self._int_option(pysocket.SOL_SOCKET, SO_RCVBUF), ANSWERS_MAX), False)
        self.arrived.notify()

    def wait_queues(self):
        return (self.arrived,)

    # -- receiving ----------------------------------------------------------------------------
    def recv_some(self, size, flags, control_size=0):
        """One receive that never waits, as InetSocketFile's: a pending error (sock_error),
        the model's acks that come first, the host's next datagram, then the model's
        other acks (which carry no control messages)."""
        if self.err:
            err, self.err = self.err, 0
            raise SyscallError(err)
        if self.answers and self.answers[0][1]:
            return self._take_answer(size, flags)
        try:
            if self.protocol == NETLINK_SOCK_DIAG:
                return self._diag_recv(size, flags)
            return super().recv_some(size, flags, control_size)
        except SyscallError as e:
            if e.errno != errno.EAGAIN or not self.answers:
                raise
        return self._take_answer(size, flags)

    def _diag_recv(self, size, flags):
        """A sock_diag answer, cut to the sandbox's sockets (diag_answers): taken whole
        from the host, then given as a datagram of that length would be."""
        _, length, sender, msg_flags, _ = super().recv_some(0, flags | MSG_PEEK | MSG_TRUNC)
        data, _, sender, msg_flags, _ = super().recv_some(length, flags & ~MSG_TRUNC)
        data = diag_answers(data, self.new_net)
        msg_flags &= ~MSG_TRUNC
        if len(data) > size:
            msg_flags |= MSG_TRUNC
        return data[:size], len(data) if flags & MSG_TRUNC else min(len(data), size), sender, msg_flags, b""

    def _take_answer(self, size, flags):
        datagram = self.answers[0][0]
        if not flags & MSG_PEEK:
            self.answers.popleft()
            self.answer_bytes -= len(datagram)
        length = len(datagram) if flags & MSG_TRUNC else min(len(datagram), size)
        return datagram[:size], length, KERNEL, MSG_TRUNC if len(datagram) > size else 0, b""

    def poll(self):
        return super().poll() | (POLLIN | POLLRDNORM if self.answers or self.err else 0)

    def _host_readable(self):
        p = select.poll()
        p.register(self.fd, select.POLLIN)
        return bool(p.poll(0))

    # -- options and ioctls -------------------------------------------------------------------
    def _int_option(self, level, name):
        return I32.unpack(self.getsockopt(level, name, 4).ljust(4, b"\0"))[0]

    def netlink_getsockopt(self, name, length):
        """netlink_getsockopt on the host: (what it wrote, the length it reports). Every
        value is an int or an array of them, written only whole."""
        length = max(0, min(length, OPTVAL_MAX))
        buf = ctypes.create_string_buffer(max(length, 1))
        size = ctypes.c_uint32(length)
        ctypes.set_errno(0)
        if _libc.getsockopt(self.fd, SOL_NETLINK, name, buf, ctypes.byref(size)) < 0:
            raise SyscallError(ctypes.get_errno())
        return buf.raw[:min(size.value, length) & ~3], size.value

    def ioctl(self, request, arg, task):
        return ifreq.ioctl(task, request, arg, AF_NETLINK, self.fd)
