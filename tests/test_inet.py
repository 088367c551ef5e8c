"""AF_INET and AF_INET6 sockets (issue 12, phase 1): host sockets the supervisor owns in
the sandbox's own network namespace, whose loopback the supervisor brings up.

tests/programs/net_inet.c runs natively in a network namespace of its own with `lo` up
(unshare -n), as root and as a user, and under pylinuxabi; then what users do: an
asyncio echo server and client, `python3 -m http.server` with urllib and curl.
"""
import shutil
import subprocess
import sys

import pytest
from conftest import reachable

pytestmark = [pytest.mark.timeout(180)]

AS_USER = ["setpriv", "--reuid=1000", "--regid=1000", "--clear-groups"]


def _can_unshare_net():
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        return False
    r = subprocess.run(["unshare", "-n", "ip", "link", "set", "lo", "up"], capture_output=True)
    return r.returncode == 0


needs_netns = pytest.mark.skipif(not _can_unshare_net(), reason="cannot make a network namespace natively")


def in_private_net(argv):
    """argv run natively in a new network namespace with its loopback up and ping sockets
    open to every group, as docker and the sandbox leave theirs."""
    return ["unshare", "-n", "sh", "-c", 'ip link set lo up && echo "0 2147483647" > '
            '/proc/sys/net/ipv4/ping_group_range && exec "$@"', "sh", *map(str, argv)]


@needs_netns
def test_inet_sockets_as_root(build, run_native, run_sandboxed, assert_same_behaviour):
    binary = build("net_inet")
    native = run_native(in_private_net([binary]))
    assert native.returncode == 0, native.stderr
    assert "nonblocking connect: EINPROGRESS" in native.stdout and "connect: ECONNREFUSED" in native.stdout
    assert_same_behaviour([binary], native, run_sandboxed([binary]))


@needs_netns
@pytest.mark.skipif(shutil.which("setpriv") is None, reason="setpriv (util-linux) missing")
def test_inet_sockets_as_a_user_need_CAP_NET_BIND_SERVICE_below_1024(build, run_native, run_sandboxed,
                                                                    assert_same_behaviour):
    binary = reachable(build("net_inet"))
    native = run_native(in_private_net([*AS_USER, binary]))
    assert native.returncode == 0, native.stderr
    assert "bind(fd, (struct sockaddr *)&a, sizeof a) = -1 EACCES" in native.stdout
    argv = ["--user", "1000:1000", binary]
    assert_same_behaviour(argv, native, run_sandboxed(argv))


ASYNCIO_ECHO = """
import asyncio
async def handle(r, w):
    while data := await r.read(100):
        w.write(data.upper())
        await w.drain()
    w.close()
async def main(host):
    srv = await asyncio.start_server(handle, host, 0)
    port = srv.sockets[0].getsockname()[1]
    r, w = await asyncio.open_connection(host, port)
    for word in (b"one", b"two", b"three"):
        w.write(word)
        await w.drain()
        print(host, (await r.read(100)).decode())
    w.close()
    await w.wait_closed()
    srv.close()
    await srv.wait_closed()
asyncio.run(main("127.0.0.1"))
asyncio.run(main("::1"))
"""


def test_asyncio_echo_over_the_private_loopback(run_sandboxed):
    r = run_sandboxed([sys.executable, "-c", ASYNCIO_ECHO])
    assert r.returncode == 0, r.stderr
    expected = [f"{h} {w}" for h in ("127.0.0.1", "::1") for w in ("ONE", "TWO", "THREE")]
    assert r.stdout.splitlines() == expected


HTTP_SERVER = """
cd /etc
{python} -m http.server 8765 --bind 127.0.0.1 >/dev/null 2>&1 &
server=$!
for i in 1 2 3 4 5 6 7 8 9 10; do
    {python} -c 'import socket; socket.create_connection(("127.0.0.1", 8765)).close()' 2>/dev/null && break
    sleep 0.3
done
{python} -c 'import urllib.request; r = urllib.request.urlopen("http://127.0.0.1:8765/hostname"); print(r.status, r.read() == open("/etc/hostname", "rb").read())'
{curl}
kill $server
wait $server
"""


def test_http_server_and_clients_in_one_sandbox(run_sandboxed):
    curl = "curl -s -o /dev/null -w 'curl %{http_code}\\n' http://127.0.0.1:8765/passwd" if shutil.which("curl") \
        else "echo curl 200"
    script = HTTP_SERVER.format(python=sys.executable, curl=curl)
    r = run_sandboxed(["sh", "-c", script])
    assert r.stdout == "200 True\ncurl 200\n", r.stderr


def test_loopback_is_private_to_the_sandbox(run_sandboxed):
    """A port bound in the sandbox is not the host's: binding it again on the host works."""
    import socket
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        code = (f"import socket; s = socket.socket(); s.bind(('127.0.0.1', {port})); s.listen(); "
                f"print(socket.create_connection(('127.0.0.1', {port})).getpeername()[1])")
        r = run_sandboxed([sys.executable, "-c", code])
    assert r.returncode == 0 and r.stdout == f"{port}\n", r.stderr


@needs_netns
def test_control_messages_and_the_error_queue(build, run_native, run_sandboxed, assert_same_behaviour):
    """IP_PKTINFO, IP_RECVTTL/TOS, SO_TIMESTAMP, IPv6 packet info and hop limit, MSG_CTRUNC,
    IP_PKTINFO on send, and IP_RECVERR/IPV6_RECVERR's ICMP errors read from MSG_ERRQUEUE."""
    binary = build("net_cmsg")
    native = run_native(in_private_net([binary]))
    assert native.returncode == 0, native.stderr
    assert "errno ECONNREFUSED origin 2 type 3 code 3" in native.stdout        # ICMP port unreachable
    assert "msg_flags 0x8" in native.stdout                                     # MSG_CTRUNC
    assert_same_behaviour([binary], native, run_sandboxed([binary]))


@needs_netns
def test_ping_and_raw_sockets(build, run_native, run_sandboxed, assert_same_behaviour):
    """ICMP ping sockets (every group may, as docker opens net.ipv4.ping_group_range) and,
    with CAP_NET_RAW, raw ones, over the loopback; a user has no raw socket."""
    binary = build("net_icmp")
    native = run_native(in_private_net([binary]))
    assert native.returncode == 0, native.stderr
    assert "raw packet 28 bytes, protocol 1, icmp type 0 id 0x4242 seq 3" in native.stdout
    assert_same_behaviour([binary], native, run_sandboxed([binary]))
    user = reachable(binary)
    native = run_native(in_private_net([*AS_USER, user, "user"]))
    assert "reply type 0 seq 7 data pingdata from 127.0.0.1" in native.stdout, native.stderr
    argv = ["--user", "1000:1000", user, "user"]
    assert_same_behaviour(argv, native, run_sandboxed(argv))


@needs_netns
def test_ping_command(run_sandboxed):
    """iputils' ping as root and as a user, to the sandbox's own loopback."""
    if shutil.which("ping") is None:
        pytest.skip("ping (iputils-ping) missing")
    for argv in (["ping", "-c", "2", "-i", "0.2", "127.0.0.1"], ["--user", "1000:1000", "ping", "-c", "1", "::1"]):
        r = run_sandboxed(argv)
        assert r.returncode == 0, r.stdout + r.stderr
        assert " 0% packet loss" in r.stdout
