"""The netlink parts of the socket syscalls (af_netlink.c): creating NETLINK_ROUTE sockets,
sending, connecting and the SOL_NETLINK options, called from syscalls/net.py.

Argument checks and the caller's permissions here; the socket and the walk over the
messages are vfs/netlink.py. The rest of the socket calls (bind, names, receiving,
SOL_SOCKET options) are the host-backed socket's paths in syscalls/net.py.
"""
import errno

from pylinuxabi.base.abi import I32
from pylinuxabi.base.errors import SyscallError, check
from pylinuxabi.vfs import netlink
from pylinuxabi.vfs.file import POLLOUT
from pylinuxabi.vfs.ifreq import may_configure
from pylinuxabi.vfs.netlink import GET_OPTIONS, SET_OPTIONS, NetlinkSocketFile

SOL_NETLINK = netlink.SOL_NETLINK


def create(task, kind, flags, protocol):
    """netlink_create of a NETLINK_ROUTE or NETLINK_SOCK_DIAG socket (the caller checked the
    arguments): the opener's permission to change the configuration goes with the file."""
    c = task.creds
    return NetlinkSocketFile.create(kind, protocol, flags, c.fsuid, c.fsgid, may_configure(task),
                                    bool(task.process.kernel.options.new_net))


def send(task, f, vec, flags, addr):
    """netlink_sendmsg: MSG_OOB is EOPNOTSUPP; an address other than the kernel's needs
    CAP_NET_ADMIN (netlink_allowed: rtnetlink lets nobody else send to a port or group);
    the message must fit the send buffer (EMSGSIZE) and is read once. A change it asks
    for needs CAP_NET_ADMIN of the caller and, unless an address is given
    (NETLINK_SKB_DST), of the opener too (__netlink_ns_capable)."""
    check(not flags & netlink.MSG_OOB, errno.EOPNOTSUPP)
    if addr:
        pid, groups = netlink.destination(addr)
        check(not (pid or groups) or may_configure(task), errno.EPERM)
    f.check_size(vec.total)
    data = vec.read(task, 0, vec.total)
    allowed = may_configure(task) and bool(addr or f.opener_may_configure)
    try:
        return f.send_messages(data, addr or None, allowed)
    except SyscallError as e:
        if e.errno == errno.EAGAIN:
            f.block(f.timeo(f.sndtimeo, flags), task.timed_out(), POLLOUT)
        raise


def connect(task, f, data):
    """netlink_connect: a peer other than the kernel needs CAP_NET_ADMIN; the host checks
    the rest (AF_UNSPEC disconnects, EINVAL for a short or foreign address)."""
    if len(data) >= netlink.SOCKADDR_NL.size and data[0] | data[1] << 8 == netlink.AF_NETLINK:
        pid, groups = netlink.destination(data)
        check(not (pid or groups) or may_configure(task), errno.EPERM)
    f.connect(data)
    return 0


def setsockopt(task, f, optname, optval, optlen):
    """netlink_setsockopt: the int value is read first when optlen allows one (EFAULT);
    the options in SET_OPTIONS go to the host (multicast subscriptions are read-only,
    open to anyone on NETLINK_ROUTE); others are ENOPROTOOPT."""
    check(optlen >= 0, errno.EINVAL)
    value = task.mem.read(optval, I32.size) if optlen >= I32.size else b""
    if optname not in SET_OPTIONS:
        raise SyscallError(errno.ENOPROTOOPT)
    f.setsockopt(SOL_NETLINK, optname, value)
    return 0


def getsockopt(task, f, optname, optval, optlen):
    """netlink_getsockopt: the length is read first (EINVAL if negative); the host gives
    the value (EINVAL for an int that does not fit) and the length it needs."""
    length = I32.unpack(task.mem.read(optlen, I32.size))[0]
    check(length >= 0, errno.EINVAL)
    if optname not in GET_OPTIONS:
        raise SyscallError(errno.ENOPROTOOPT)
    value, size = f.netlink_getsockopt(optname, length)
    if value:
        task.mem.write(optval, value)
    task.mem.write(optlen, I32.pack(size))
    return 0
