"""NETLINK_ROUTE sockets and the SIOCGIF* interface ioctls (DESIGN §12): host sockets the
supervisor owns in the sandbox's network namespace; the model refuses the requests that
would change the configuration unless the caller has CAP_NET_ADMIN and the namespace is
the sandbox's own.

tests/programs/net_netlink.c runs natively in a network namespace of its own with `lo` up
(unshare -n, as tests/test_inet.py does), as root and as a user, and under pylinuxabi;
then what users run: ip, ifconfig, Python's if_nameindex and getaddrinfo(AI_ADDRCONFIG)
(glibc's netlink), and `--net host`, judged from the host's side.
"""
import errno
import shutil
import socket
import re
import struct
import subprocess
import sys

import pytest
from conftest import reachable
from test_inet import AS_USER, in_private_net, needs_netns

from pylinuxabi.vfs import netlink

pytestmark = [pytest.mark.timeout(180)]

# the sandboxed side of a comparison with a native namespace that has only lo
LOOPBACK_ONLY = ["--net", "none"]
needs_ip = pytest.mark.skipif(shutil.which("ip") is None, reason="iproute2's ip missing")
needs_setpriv = pytest.mark.skipif(shutil.which("setpriv") is None, reason="setpriv (util-linux) missing")


# -- the model's walk over a buffer (no tracing) ----------------------------------------------
def _message(type, flags, payload=b"\0" * 4, seq=1, length=None):
    size = netlink.NLMSGHDR.size + len(payload)
    return netlink.NLMSGHDR.pack(size if length is None else length, type, flags, seq, 0) + payload


RTM_NEWADDR, RTM_GETLINK, RTM_SETLINK = 20, 18, 19
REQUEST = netlink.NLM_F_REQUEST


def _refuse(may_configure):
    return lambda type, flags, payload: netlink.refusal(type, flags, payload, may_configure)


def test_requests_that_change_the_configuration_are_refused_without_the_capability():
    data = _message(RTM_GETLINK, REQUEST) + _message(RTM_NEWADDR, REQUEST) + _message(RTM_GETLINK, REQUEST)
    assert netlink.walk(data, _refuse(False)) == [(0, 20, None), (20, 40, errno.EPERM), (40, 60, None)]
    assert netlink.walk(data, _refuse(True)) == [(0, 60, None)]


def test_messages_that_are_not_requests_or_have_no_payload_are_not_refused():
    data = _message(RTM_NEWADDR, 0) + _message(RTM_SETLINK, REQUEST, b"") + _message(1, REQUEST)
    assert netlink.walk(data, _refuse(False)) == [(0, len(data), None)]


def test_a_type_past_RTM_MAX_is_EOPNOTSUPP_even_for_a_GET():
    data = _message(netlink.RTM_MAX + 3, REQUEST)
    assert netlink.walk(data, _refuse(True)) == [(0, 20, errno.EOPNOTSUPP)]


def test_the_walk_stops_at_a_bad_length_as_netlink_rcv_skb_does():
    bad = _message(RTM_NEWADDR, REQUEST, length=500)
    assert netlink.walk(bad, _refuse(False)) == [(0, 20, None)]
    assert netlink.walk(_message(RTM_NEWADDR, REQUEST) + b"junk", _refuse(False)) == [(0, 20, errno.EPERM)]
    assert netlink.walk(b"", _refuse(False)) == [(0, 0, None)]


def test_an_error_ack_echoes_the_request_unless_capped():
    request = _message(RTM_NEWADDR, REQUEST, b"abcde", seq=7)
    ack = netlink.error_ack(request, errno.EPERM, 4242, capped=False)
    length, type, flags, seq, pid = netlink.NLMSGHDR.unpack_from(ack)
    assert (length, type, flags, seq, pid) == (len(ack), netlink.NLMSG_ERROR, 0, 7, 4242) and length == 16 + 4 + 16 + 8
    assert ack[16:20] == (-errno.EPERM).to_bytes(4, "little", signed=True) and ack[20:20 + len(request)] == request
    capped = netlink.error_ack(request, errno.EPERM, 4242, capped=True)
    assert len(capped) == 36 and netlink.NLMSGHDR.unpack_from(capped)[2] == netlink.NLM_F_CAPPED


# -- the program, natively and sandboxed ------------------------------------------------------
@needs_netns
def test_netlink_and_interface_ioctls_as_root(build, run_native, run_sandboxed, assert_same_behaviour):
    binary = build("net_netlink")
    native = run_native(in_private_net([binary]))
    assert native.returncode == 0, native.stderr
    assert " newaddr: ack error 0" in native.stdout and "  name lo" in native.stdout
    assert_same_behaviour([binary], native, run_sandboxed([*LOOPBACK_ONLY, binary]))


@needs_netns
@needs_setpriv
def test_netlink_and_interface_ioctls_as_a_user_get_EPERM(build, run_native, run_sandboxed,
                                                          assert_same_behaviour):
    binary = reachable(build("net_netlink"))
    native = run_native(in_private_net([*AS_USER, binary]))
    assert native.returncode == 0, native.stderr
    assert " newaddr: ack error EPERM" in native.stdout and "ioctl(fd, SIOCSIFMTU, &ifr) = -1 EPERM" in native.stdout
    argv = [*LOOPBACK_ONLY, "--user", "1000:1000", binary]
    assert_same_behaviour(argv, native, run_sandboxed(argv))


@pytest.mark.parametrize("protocol", [socket.NETLINK_AUDIT if hasattr(socket, "NETLINK_AUDIT") else 9,
                                      15, 16], ids=["audit", "kobject_uevent", "generic"])
def test_other_netlink_protocols_are_EPROTONOSUPPORT(run_sandboxed, protocol):
    """Only NETLINK_ROUTE and NETLINK_SOCK_DIAG are made; the others fail as in a kernel
    built without them."""
    code = ("import socket, errno\n"
            f"try: socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, {protocol})\n"
            "except OSError as e: print(errno.errorcode[e.errno])\n")
    r = run_sandboxed([sys.executable, "-c", code])
    assert r.stdout == "EPROTONOSUPPORT\n", r.stderr


# -- what users run ---------------------------------------------------------------------------
@needs_netns
@needs_ip
@pytest.mark.parametrize("argv", [["ip", "addr"], ["ip", "link"], ["ip", "-4", "route"], ["ip", "-6", "route"],
                                  ["ip", "route", "show", "table", "all"], ["ip", "-d", "-s", "link", "show", "lo"]],
                         ids=" ".join)
def test_ip_shows_what_it_shows_in_a_fresh_namespace(run_native, run_sandboxed, assert_same_behaviour, argv):
    native = run_native(in_private_net(argv))
    assert native.returncode == 0 and (native.stdout or argv[2] == "route"), native.stderr  # (main table: empty)
    assert_same_behaviour(argv, native, run_sandboxed([*LOOPBACK_ONLY, *argv]))


PY_INTERFACES = """
import socket
print(socket.if_nameindex())
print(socket.if_nametoindex("lo"), socket.if_indextoname(1))
for family, _, _, _, addr in socket.getaddrinfo("localhost", 80, flags=socket.AI_ADDRCONFIG, type=socket.SOCK_STREAM):
    print(family.name, addr[0])
try:
    socket.if_nametoindex("nosuch0")
except OSError as e:
    print("nosuch0:", e)
"""


@needs_netns
@pytest.mark.parametrize("user", [[], ["--user", "1000:1000"]], ids=["root", "user"])
def test_python_interface_calls_use_netlink_as_natively(run_native, run_sandboxed, assert_same_behaviour, user):
    python = shutil.which("python3", path="/usr/bin:/bin") if user else sys.executable    # (one a user may run)
    if python is None:
        pytest.skip("no python3 in /usr/bin for a user")
    argv = [python, "-c", PY_INTERFACES]
    native = run_native(in_private_net([*(AS_USER if user else []), *argv]))
    assert native.returncode == 0 and "(1, 'lo')" in native.stdout, native.stderr
    assert_same_behaviour(argv, native, run_sandboxed([*LOOPBACK_ONLY, *user, *argv]))


CONFIGURE = ("ip addr add 10.9.9.9/32 dev lo 2>&1; echo ip addr add: $?; "
             "ip link set lo mtu 1500 2>&1; echo ip link set: $?; "
             "ifconfig lo mtu 9000 2>&1; echo ifconfig: $?; "
             "ip -4 addr show lo; ip link show lo")


@needs_netns
@needs_ip
@pytest.mark.skipif(shutil.which("ifconfig") is None, reason="net-tools' ifconfig missing")
@pytest.mark.parametrize("user", [[], ["--user", "1000:1000"]], ids=["root", "user"])
def test_root_may_configure_the_sandbox_network_and_a_user_may_not(run_native, run_sandboxed,
                                                                   assert_same_behaviour, user):
    argv = ["sh", "-c", CONFIGURE]
    native = run_native(in_private_net([*(AS_USER if user else []), *argv]))
    assert ("ip addr add: 2" in native.stdout) == bool(user), native.stdout
    assert_same_behaviour(argv, native, run_sandboxed([*LOOPBACK_ONLY, *user, *argv]))


def _host_lo():
    return subprocess.run(["ip", "addr", "show", "lo"], capture_output=True, text=True).stdout


@needs_ip
@pytest.mark.skipif(shutil.which("ifconfig") is None, reason="net-tools' ifconfig missing")
def test_the_host_network_is_never_changed_even_by_root(run_sandboxed):
    """--net host: the sandbox reads the host's interfaces but changes nothing (EPERM), as a
    container on the host's network without CAP_NET_ADMIN there; judged from the host."""
    before = _host_lo()
    try:
        r = run_sandboxed(["--net", "host", "sh", "-c", CONFIGURE])
        after = _host_lo()
    finally:
        subprocess.run(["ip", "addr", "del", "10.9.9.9/32", "dev", "lo"], capture_output=True)
    assert after == before
    assert "ip addr add: 2" in r.stdout and "ip link set: 2" in r.stdout and "ifconfig: 1" in r.stdout, r.stdout
    assert r.stdout.count("Operation not permitted") == 3, r.stdout
    assert "inet 127.0.0.1/8" in r.stdout and "10.9.9.9" not in r.stdout


@needs_ip
def test_the_host_network_is_what_ip_shows_with_net_host(run_native, run_sandboxed, assert_same_behaviour):
    argv = ["ip", "-4", "addr", "show", "lo"]
    native = run_native(argv)
    assert_same_behaviour(argv, native, run_sandboxed(["--net", "host", *argv]))


def _rtattr(kind, value):
    size = 4 + len(value)
    return struct.pack("<HH", size, kind) + value + bytes(-size % 4)


def test_requests_naming_another_network_namespace_are_refused():
    """A link moved to a namespace by fd or pid (also a veth's peer), a target namespace
    id, and namespace ids themselves: the host would read the fd as the supervisor's."""
    ifinfo = bytes(16)
    plain = ifinfo + _rtattr(3, b"eth1\0")
    by_fd = ifinfo + _rtattr(28, struct.pack("<i", 3))
    peer = _rtattr(1, ifinfo + _rtattr(19, struct.pack("<i", 1)))
    veth = ifinfo + _rtattr(18, _rtattr(1, b"veth\0") + _rtattr(2, peer))
    target = ifinfo + _rtattr(46, struct.pack("<i", 0))
    refuse = _refuse(True)
    assert refuse(16, netlink.NLM_F_REQUEST, plain) is None
    assert refuse(16, netlink.NLM_F_REQUEST, by_fd) == errno.EPERM
    assert refuse(16, netlink.NLM_F_REQUEST, veth) == errno.EPERM
    assert refuse(18, netlink.NLM_F_REQUEST, target) == errno.EPERM       # even a GETLINK
    assert refuse(88, netlink.NLM_F_REQUEST, bytes(8)) == errno.EPERM     # RTM_NEWNSID


# -- sock_diag: ss ---------------------------------------------------------------------------
SS_RUN = """
import socket, subprocess
l = socket.socket(); l.bind(("127.0.0.1", 4321)); l.listen()
u = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); u.bind(("::1", 5353))
c = socket.create_connection(("127.0.0.1", 4321)); s, _ = l.accept()
for args in (["ss", "-tln"], ["ss", "-tan"], ["ss", "-uan"], ["ss", "-tlnp"], ["ss", "-xl"]):
    r = subprocess.run(args, capture_output=True, text=True)
    print("$", " ".join(args))
    print(r.stdout + r.stderr, end="")
"""


def _ss_normalized(text):
    """ss's lines with the ephemeral port and the pid masked, each command's rows sorted."""
    text = re.sub(r":(3[2-9]|[4-6]\d)\d{3}\b", ":EPHEMERAL", text)
    text = re.sub(r"pid=\d+", "pid=N", text)
    blocks = text.split("$ ")
    return ["\n".join(block.splitlines()[:2] + sorted(block.splitlines()[2:])) for block in blocks]


@needs_netns
@pytest.mark.skipif(shutil.which("ss") is None, reason="iproute2's ss missing")
def test_ss_lists_the_sandboxs_sockets_through_sock_diag(run_native, run_sandboxed):
    """NETLINK_SOCK_DIAG of AF_INET and AF_INET6: the host's answers cut to the sandbox's
    sockets, with the model's inode numbers (ss -p finds the process by them); unix_diag
    is not there, and ss -x reads /proc/net/unix instead."""
    argv = [sys.executable, "-c", SS_RUN]
    native = run_native(in_private_net(argv))
    assert "users:((\"python3\"" in native.stdout, native.stdout + native.stderr
    ours = run_sandboxed([*LOOPBACK_ONLY, *argv])
    assert ours.returncode == 0, ours.stderr
    assert _ss_normalized(ours.stdout) == _ss_normalized(native.stdout)


HOST_LISTENER = """
import socket, subprocess, sys
l = socket.socket(); l.bind(("127.0.0.1", 0)); l.listen()
port = l.getsockname()[1]
r = subprocess.run([*sys.argv[1:], "ss", "-tlnH"], capture_output=True, text=True)
print("host listener listed" if ":%d " % port in r.stdout else "host listener hidden", r.stderr)
"""


@pytest.mark.skipif(shutil.which("ss") is None, reason="iproute2's ss missing")
def test_ss_under_net_host_does_not_list_the_hosts_sockets():
    """Judged from the host: a listener held outside the sandbox is not among what ss shows
    inside it with --net host."""
    from conftest import sandbox_command
    r = subprocess.run([sys.executable, "-c", HOST_LISTENER, *sandbox_command(["--net", "host"])],
                       capture_output=True, text=True, timeout=120)
    assert r.stdout.startswith("host listener hidden"), r.stdout + r.stderr
