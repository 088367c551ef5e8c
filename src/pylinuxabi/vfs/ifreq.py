"""The interface ioctls every socket has (netdevice(7): SIOCGIFNAME, SIOCGIFCONF, SIOCSIFMTU…),
answered by the host from a socket of the supervisor's in the sandbox's network namespace.

Linux sends a request the socket's family does not know to dev_ioctl, whatever the family
(sock_do_ioctl), and AF_INET sockets first to devinet_ioctl (the IPv4 address requests).
The model reads the program's struct ifreq once (40 bytes), checks what the host, being
root, would not (CAP_NET_ADMIN for a setter; never a setter when the sandbox shares the
host's network) and passes only requests whose argument holds no pointer, from the lists
below; any other is ENOTTY. Knows of tasks only through the ioctl's task argument.
"""
import ctypes
import errno
import fcntl
import socket as pysocket
import struct

from pylinuxabi.base.abi import I32
from pylinuxabi.base.creds import CAP_NET_ADMIN
from pylinuxabi.base.errors import SyscallError

IFREQ_SIZE = 40             # struct ifreq: the name, then a 24-byte union
IN6_IFREQ_SIZE = 24         # struct in6_ifreq (ipv6's SIOCSIFADDR, SIOCDIFADDR)
IFCONF = struct.Struct("<i4xQ")     # struct ifconf: ifc_len, ifc_buf

SIOCGIFNAME, SIOCGIFCONF, SIOCGIFFLAGS, SIOCSIFFLAGS = 0x8910, 0x8912, 0x8913, 0x8914
SIOCGIFADDR, SIOCSIFADDR, SIOCGIFDSTADDR, SIOCSIFDSTADDR = 0x8915, 0x8916, 0x8917, 0x8918
SIOCGIFBRDADDR, SIOCSIFBRDADDR, SIOCGIFNETMASK, SIOCSIFNETMASK = 0x8919, 0x891A, 0x891B, 0x891C
SIOCGIFMETRIC, SIOCSIFMETRIC, SIOCGIFMTU, SIOCSIFMTU = 0x891D, 0x891E, 0x8921, 0x8922
SIOCSIFNAME, SIOCSIFHWADDR, SIOCGIFHWADDR, SIOCGIFSLAVE, SIOCSIFSLAVE = 0x8923, 0x8924, 0x8927, 0x8929, 0x8930
SIOCADDMULTI, SIOCDELMULTI, SIOCGIFINDEX = 0x8931, 0x8932, 0x8933
SIOCSIFPFLAGS, SIOCGIFPFLAGS, SIOCDIFADDR, SIOCSIFHWBROADCAST = 0x8934, 0x8935, 0x8936, 0x8937
SIOCGIFTXQLEN, SIOCSIFTXQLEN, SIOCGIFMAP, SIOCSIFMAP = 0x8942, 0x8943, 0x8970, 0x8971

# dev_ioctl's requests (any family): those that read, and those that change an interface
GETTERS = {SIOCGIFNAME, SIOCGIFFLAGS, SIOCGIFMETRIC, SIOCGIFMTU, SIOCGIFSLAVE, SIOCGIFHWADDR,
           SIOCGIFINDEX, SIOCGIFTXQLEN, SIOCGIFMAP}
SETTERS = {SIOCSIFFLAGS, SIOCSIFMETRIC, SIOCSIFMTU, SIOCSIFHWADDR, SIOCSIFSLAVE, SIOCADDMULTI,
           SIOCDELMULTI, SIOCSIFHWBROADCAST, SIOCSIFTXQLEN, SIOCSIFMAP, SIOCSIFNAME}
# devinet_ioctl's (AF_INET sockets); SIOC[GS]IFPFLAGS is EINVAL there, for anyone
INET_GETTERS = {SIOCGIFADDR, SIOCGIFBRDADDR, SIOCGIFNETMASK, SIOCGIFDSTADDR, SIOCGIFPFLAGS}
INET_SETTERS = {SIOCSIFADDR, SIOCSIFBRDADDR, SIOCSIFNETMASK, SIOCSIFDSTADDR}
INET_UNCHECKED = {SIOCSIFPFLAGS}
# addrconf's (AF_INET6 sockets): an in6_ifreq, the capability checked before it is read
INET6_SETTERS = {SIOCSIFADDR, SIOCDIFADDR}


def may_configure(task):
    """May the caller change the network's configuration? CAP_NET_ADMIN in the model, and
    never when the sandbox shares the host's network namespace (DESIGN §12: as a container
    on the host's network without CAP_NET_ADMIN there)."""
    return task.process.kernel.options.new_net and bool(task.creds.capable(CAP_NET_ADMIN))


def ioctl(task, request, arg, family, host_fd=None):
    """sock_ioctl's interface requests on a socket of `family` whose host socket is host_fd
    (None: one of the same family is made for the call): (result, the bytes to copy back
    to arg, or None). ENOTTY for a request that is not one of them."""
    if request == SIOCGIFCONF:
        return _on_host(family, host_fd, lambda fd: _ifconf(task, fd, arg))
    if family == pysocket.AF_INET6 and request in INET6_SETTERS:
        _check_setter(task)
        data = task.mem.read(arg, IN6_IFREQ_SIZE)
        return _on_host(family, host_fd, lambda fd: (_host_ioctl(fd, request, data)[0], None))
    inet = family == pysocket.AF_INET
    copy_out = request in GETTERS or request == SIOCSIFNAME or inet and request in INET_GETTERS
    setter = request in SETTERS or inet and request in INET_SETTERS
    if not (copy_out or setter or inet and request in INET_UNCHECKED):
        raise SyscallError(errno.ENOTTY)
    data = task.mem.read(arg, IFREQ_SIZE)       # (get_user_ifreq: before any other check)
    if setter:
        _check_setter(task)
    result, out = _on_host(family, host_fd, lambda fd: _host_ioctl(fd, request, data))
    return result, out if copy_out else None


def _check_setter(task):
    if not may_configure(task):
        raise SyscallError(errno.EPERM)


def _on_host(family, host_fd, call):
    """call(fd) on the host socket, or on a datagram socket of the family made for it
    (AF_UNIX files are the model's and have none)."""
    if host_fd is not None:
        return call(host_fd)
    with pysocket.socket(family, pysocket.SOCK_DGRAM | pysocket.SOCK_CLOEXEC) as s:
        return call(s.fileno())


def _host_ioctl(fd, request, data):
    buf = bytearray(data)
    try:
        result = fcntl.ioctl(fd, request, buf, True)
    except OSError as e:
        raise SyscallError(e.errno)
    return result, bytes(buf)


def _ifconf(task, fd, arg):
    """dev_ifconf: with no buffer, the size all entries need; else as many whole entries
    (one per IPv4 address) as fit in ifc_len, copied to ifc_buf, and their size. The
    host fills a buffer of ours no bigger than what it has to give."""
    length, buf = IFCONF.unpack(task.mem.read(arg, IFCONF.size))
    needed = _host_ifconf(fd, 0, None)[0]
    if buf:
        total, data = _host_ifconf(fd, max(0, min(length, needed)), True)
        if total:
            task.mem.write(buf, data[:total])
    else:
        total = needed
    return 0, I32.pack(total)


def _host_ifconf(fd, length, with_buffer):
    """(ifc_len the host gives back, the entries it wrote)."""
    entries = ctypes.create_string_buffer(max(length, 1))
    ifc = bytearray(IFCONF.pack(length, ctypes.addressof(entries) if with_buffer else 0))
    try:
        fcntl.ioctl(fd, SIOCGIFCONF, ifc, True)
    except OSError as e:
        raise SyscallError(e.errno)
    total = IFCONF.unpack(ifc)[0]
    return total, entries.raw[:max(0, min(total, length))]
