"""The network around the sandbox (DESIGN §12), set up by the supervisor: the sandbox's own
namespace (lo, and eth0 in the default mode) and the host's listening sockets of -p.
Connections going outside are platform/outside.py's."""
import errno
import fcntl
import os
import socket
import struct
import sys

SIOCGIFFLAGS, SIOCSIFFLAGS, IFF_UP = 0x8913, 0x8914, 0x1
NETLINK_ROUTE = 0
NLMSGHDR = struct.Struct("<IHHII")          # len, type, flags, seq, pid
IFINFOMSG = struct.Struct("<BxHiII")        # family, type, index, flags, change
IFADDRMSG = struct.Struct("<BBBBi")         # family, prefixlen, flags, scope, index
RTATTR = struct.Struct("<HH")
NLMSG_ERROR, RTM_NEWLINK, RTM_NEWADDR = 2, 16, 20
NLM_F_REQUEST, NLM_F_ACK, NLM_F_EXCL, NLM_F_CREATE = 0x1, 0x4, 0x200, 0x400
IFLA_IFNAME, IFLA_LINKINFO, IFLA_INFO_KIND = 3, 18, 1
IFA_ADDRESS, IFA_LOCAL = 1, 2
BRIDGE_ADDRESS = "10.0.2.100"               # the sandbox's own, as slirp4netns gives podman's


def publish_listeners(publish):
    """-p: sockets in the host's namespace, made before we leave it, as docker's proxy
    makes them (no address: 0.0.0.0 and [::]), TCP listening or UDP bound; the
    supervisor's publisher forwards what they get (PtracePlatform.publish): [(socket,
    the sandbox's port)]. OSError with docker's words if a port is taken."""
    listeners = []
    for address, host_port, port, proto in publish:
        addresses = [address] if address else ["0.0.0.0", "::"]
        kind = socket.SOCK_DGRAM if proto == "udp" else socket.SOCK_STREAM
        for i, addr in enumerate(addresses):
            family = socket.AF_INET6 if ":" in addr else socket.AF_INET
            s = socket.socket(family, kind | socket.SOCK_CLOEXEC)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            try:
                s.bind((addr, host_port))
                if kind == socket.SOCK_STREAM:
                    s.listen(socket.SOMAXCONN)
            except OSError as e:
                s.close()
                if i and e.errno in (errno.EADDRNOTAVAIL, errno.EAFNOSUPPORT):
                    continue        # a host without IPv6: 0.0.0.0 alone, as docker
                for other, _ in listeners:
                    other.close()
                where = f"[{addr}]" if family == socket.AF_INET6 else addr
                raise OSError(e.errno, f"Bind for {where}:{host_port} failed: "
                                       f"{'port is already allocated' if e.errno == errno.EADDRINUSE else e.strerror}")
            if not host_port:
                host_port = s.getsockname()[1]      # [::] on the port 0.0.0.0 got
                print(f"pylinuxabi: published {addr}:{host_port} -> {port}/{proto}", file=sys.stderr)
            listeners.append((s, port))
    return listeners


def set_up(bridge):
    """The sandbox's own network namespace, as a container runtime leaves it (we are
    root of the namespace): `lo` up, ping sockets for every group (docker's
    net.ipv4.ping_group_range), and in the default mode an eth0 with an address of
    its own, as docker's bridge gives (see bridge_interface)."""
    try:
        interface_up(b"lo")
        open_ping_sockets()
        if bridge:
            bridge_interface()
    except OSError as e:
        print(f"pylinuxabi: cannot set up the sandbox's network: {e.strerror}", file=sys.stderr)


def open_ping_sockets():
    """net.ipv4.ping_group_range 0 2147483647: every group may make ICMP ping sockets,
    as docker sets it in a container's namespace."""
    try:
        with open("/proc/sys/net/ipv4/ping_group_range", "w") as f:
            f.write("0 2147483647")
    except OSError:
        pass                    # (a kernel without them: ping falls back to raw sockets)


def interface_up(name):
    """SIOCSIFFLAGS IFF_UP."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as s:
        ifr = fcntl.ioctl(s, SIOCGIFFLAGS, struct.pack("16sH22x", name, 0))
        flags = struct.unpack_from("16sH", ifr)[1]
        fcntl.ioctl(s, SIOCSIFFLAGS, struct.pack("16sH22x", name, flags | IFF_UP))


def bridge_interface():
    """eth0 with BRIDGE_ADDRESS/32 and no route: programs look for an address other than
    the loopback's before they resolve names (glibc's AI_ADDRCONFIG), and docker's bridge
    gives a container one. The device is an ifb (a device that drops what is routed to it;
    no route leads there) with IPv6 off, as docker leaves eth0 without IPv6; a kernel
    without ifb gets the address on lo. Other addresses still have no route in the
    namespace, which is what sends a connection outside (DESIGN §12)."""
    with socket.socket(socket.AF_NETLINK, socket.SOCK_RAW | socket.SOCK_CLOEXEC, NETLINK_ROUTE) as nl:
        name = b"eth0"
        link = IFINFOMSG.pack(socket.AF_UNSPEC, 0, 0, 0, 0) + _rtattr(IFLA_IFNAME, name + b"\0") + \
            _rtattr(IFLA_LINKINFO, _rtattr(IFLA_INFO_KIND, b"ifb"))
        try:
            _netlink(nl, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, link)
        except OSError:
            name = b"lo"
        address = socket.inet_aton(BRIDGE_ADDRESS)
        ifaddr = IFADDRMSG.pack(socket.AF_INET, 32, 0, 0, socket.if_nametoindex(name.decode())) + \
            _rtattr(IFA_LOCAL, address) + _rtattr(IFA_ADDRESS, address)
        _netlink(nl, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, ifaddr)
    if name == b"eth0":
        try:
            with open("/proc/sys/net/ipv6/conf/eth0/disable_ipv6", "w") as f:
                f.write("1")
        except OSError:
            pass                    # (a kernel without IPv6)
        interface_up(name)


def _rtattr(kind, payload):
    size = RTATTR.size + len(payload)
    return RTATTR.pack(size, kind) + payload + bytes(-size % 4)


def _netlink(nl, kind, flags, body):
    """One rtnetlink request, acknowledged: OSError with its error."""
    nl.send(NLMSGHDR.pack(NLMSGHDR.size + len(body), kind, NLM_F_REQUEST | NLM_F_ACK | flags, 1, 0) + body)
    reply = nl.recv(4096)
    if len(reply) >= NLMSGHDR.size + 4 and NLMSGHDR.unpack_from(reply)[1] == NLMSG_ERROR:
        err = -struct.unpack_from("<i", reply, NLMSGHDR.size)[0]
        if err:
            raise OSError(err, os.strerror(err))
