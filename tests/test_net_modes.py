"""docker's network modes and -p (issue 12): the default private loopback with outbound
connections through the host, --net none, --net host, DNS, and ports published to the host.

The outside world is not reachable from CI, so each test makes its own: a network namespace
(unshare -n) in which 10.200.0.1 is a local address of the "host" with servers on it, and
pylinuxabi runs in that namespace, so that it is the host's network to the sandbox.
"""
import shlex
import sys
import subprocess
import textwrap

import pytest
from conftest import sandbox_command
from test_inet import needs_netns

pytestmark = [pytest.mark.timeout(180), needs_netns]

HOST_ADDR = "10.200.0.1"

# a server on the "host": HTTP on 10.200.0.1:8123 and on the host's own loopback, 127.0.0.1:8124
SERVERS = f"""
ip link set lo up && ip addr add {HOST_ADDR}/32 dev lo
python3 -m http.server 8123 --bind {HOST_ADDR} >/dev/null 2>&1 & a=$!
python3 -m http.server 8124 --bind 127.0.0.1 >/dev/null 2>&1 & b=$!
trap 'kill $a $b' EXIT
for i in $(seq 50); do curl -s -o /dev/null http://{HOST_ADDR}:8123/ && curl -s -o /dev/null http://127.0.0.1:8124/ && break; sleep 0.1; done
"""

CONNECT = """
import errno, socket, sys
for addr in sys.argv[1:]:
    host, port = addr.rsplit(":", 1)
    try:
        s = socket.create_connection((host, int(port)), timeout=5)
        s.sendall(b"GET / HTTP/1.0\\r\\n\\r\\n")
        print(addr, s.recv(12).decode(), s.getpeername()[0])
    except OSError as e:
        print(addr, errno.errorcode[e.errno])
"""


def in_host_net(script, timeout=120):
    """Run the shell script in a network namespace of its own, after SERVERS; sandbox is
    this checkout's `pylinuxabi run --strict --env-host`."""
    env_line = "sandbox() { " + shlex.join(sandbox_command([])) + ' "$@"; }\n'
    r = subprocess.run(["unshare", "-n", "sh", "-c", SERVERS + env_line + textwrap.dedent(script)],
                       capture_output=True, text=True, timeout=timeout)
    return r


def connect_lines(r):
    return [line for line in r.stdout.splitlines() if line.startswith(("10.", "127."))]


def test_default_network_connects_out_through_the_host_with_a_private_loopback():
    r = in_host_net(f"""
        sandbox python3 -c '{CONNECT}' {HOST_ADDR}:8123 127.0.0.1:8124
        sandbox curl -s -o /dev/null -w 'curl %{{http_code}}\\n' http://{HOST_ADDR}:8123/
    """)
    assert connect_lines(r) == [f"{HOST_ADDR}:8123 HTTP/1.0 200 {HOST_ADDR}",
                                "127.0.0.1:8124 ECONNREFUSED"], r.stderr
    assert "curl 200" in r.stdout, r.stderr


def test_net_none_is_the_loopback_alone_and_the_default_adds_an_address():
    r = in_host_net(f"""
        sandbox --net none python3 -c '{CONNECT}' {HOST_ADDR}:8123
        sandbox --network none ip -o addr | cut -d' ' -f2,7
        sandbox ip -o -4 addr | cut -d' ' -f2,7
        sandbox ip -o -4 route
    """)
    assert connect_lines(r) == [f"{HOST_ADDR}:8123 ENETUNREACH"], r.stderr
    # none: lo alone; the default: eth0 with an address of its own and no route to anywhere
    assert r.stdout.splitlines()[1:] == ["lo 127.0.0.1/8", "lo ::1/128", "lo 127.0.0.1/8", "eth0 10.0.2.100/32"]


def test_net_host_shares_the_hosts_network():
    r = in_host_net(f"""
        sandbox --net host python3 -c '{CONNECT}' 127.0.0.1:8124 {HOST_ADDR}:8123
    """)
    assert connect_lines(r) == ["127.0.0.1:8124 HTTP/1.0 200 127.0.0.1",
                                f"{HOST_ADDR}:8123 HTTP/1.0 200 {HOST_ADDR}"], r.stderr


UDP = f"""
import errno, socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(5)
s.sendto(b"ping", ("{HOST_ADDR}", 5300))
data, peer = s.recvfrom(100)
print("udp", data.decode(), peer[0])
try:
    s.sendto(b"x", ("127.0.0.1", 5300))
except OSError as e:
    print("udp loopback after going out:", errno.errorcode[e.errno])
"""

UDP_ECHO = f"""
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("{HOST_ADDR}", 5300))
while True:
    data, peer = s.recvfrom(100)
    s.sendto(data.upper(), peer)
"""


def test_udp_goes_out_and_back():
    """A datagram to an outside address leaves through the host and its answer comes back;
    the socket has then left the sandbox, whose own loopback it can no longer reach."""
    r = in_host_net(f"""
        python3 -c '{UDP_ECHO}' & e=$!
        sleep 0.5
        sandbox python3 -c '{UDP}'
        kill $e
    """)
    assert "udp PING 10.200.0.1" in r.stdout, r.stderr
    assert "udp loopback after going out: ENETUNREACH" in r.stdout


DNS_SERVER = """
import socket, struct
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("10.200.0.1", 53))
while True:
    q, peer = s.recvfrom(512)
    ident, flags, qd = struct.unpack("!HHH", q[:6])
    end = q.index(b"\\0", 12) + 5
    qtype = struct.unpack("!H", q[end - 4:end - 2])[0]
    answers = b""
    if qtype == 1:      # A: every name is 10.200.0.7
        answers = b"\\xc0\\x0c" + struct.pack("!HHIH", 1, 1, 60, 4) + bytes([10, 200, 0, 7])
    header = struct.pack("!HHHHHH", ident, 0x8180, 1, 1 if answers else 0, 0, 0)
    s.sendto(header + q[12:end] + answers, peer)
"""


@pytest.mark.parametrize("mode", ["bridge", "host"])
def test_dns_resolves_through_the_hosts_resolver_configuration(tmp_path, mode):
    """glibc's resolver, reading the resolv.conf it is given, asks a name server outside."""
    resolv = tmp_path / "resolv.conf"
    resolv.write_text(f"nameserver {HOST_ADDR}\noptions timeout:2 attempts:2\n")
    r = in_host_net(f"""
        python3 -c '{DNS_SERVER}' & d=$!
        sleep 0.5
        sandbox --net {mode} -v {resolv}:/etc/resolv.conf:ro getent ahostsv4 pylinuxabi.test
        kill $d
    """)
    assert "10.200.0.7      STREAM pylinuxabi.test" in r.stdout, r.stdout + r.stderr


ECHO_SERVER = """
import socket
l = socket.socket()
l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(("0.0.0.0", 7000))
l.listen()
print("listening", flush=True)
for _ in range(2):
    c, _ = l.accept()
    data = b""
    while chunk := c.recv(65536):
        data += chunk
    c.sendall(data.upper())
    c.close()
"""

ECHO_CLIENT = """
import socket, sys
for host in ("127.0.0.1", "::1"):
    c = socket.create_connection((host, int(sys.argv[1])), timeout=10)
    c.sendall(b"abc" * 100000)
    c.shutdown(socket.SHUT_WR)
    data = b""
    while chunk := c.recv(65536):
        data += chunk
    print(host, len(data), data[:6].decode())
"""


def test_publish_reaches_a_sandbox_port_from_the_host():
    """-p 17000:7000: host clients over IPv4 and IPv6 reach the sandbox's server; a
    half-closed connection carries the answer back (300 kB each way)."""
    r = in_host_net(f"""
        sandbox -p 17000:7000 python3 -c '{ECHO_SERVER}' > server.out 2>&1 & s=$!
        for i in $(seq 100); do grep -q listening server.out 2>/dev/null && break; sleep 0.1; done
        python3 -c '{ECHO_CLIENT}' 17000
        wait $s; echo "sandbox exit $?"
        rm -f server.out
    """)
    assert "127.0.0.1 300000 ABCABC" in r.stdout, r.stdout + r.stderr
    assert "::1 300000 ABCABC" in r.stdout
    assert "sandbox exit 0" in r.stdout


def test_publish_errors_are_the_users(tmp_path):
    taken = in_host_net("""
        python3 -c 'import socket,time; s=socket.socket(); s.bind(("0.0.0.0", 17001)); s.listen(); time.sleep(30)' & t=$!
        sleep 0.5
        sandbox -p 17001:80 true; echo "exit $?"
        sandbox -p 80:70000 true; echo "exit $?"
        sandbox -p 53/sctp true; echo "exit $?"
        kill $t
    """)
    assert taken.stdout.split() == ["exit", "125"] * 3, taken.stdout + taken.stderr
    lines = taken.stderr.splitlines()
    assert "pylinuxabi: Bind for 0.0.0.0:17001 failed: port is already allocated" in lines
    assert any("bad port mapping '80:70000'" in line for line in lines)


UDP_SERVER = """
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", 7001))
print("bound", flush=True)
for _ in range(4):
    data, peer = s.recvfrom(100)
    s.sendto(data.upper() + b" " + peer[0].encode(), peer)
"""

UDP_CLIENTS = """
import socket, sys
for host, family in (("127.0.0.1", socket.AF_INET), ("::1", socket.AF_INET6)):
    for n in range(2):
        c = socket.socket(family, socket.SOCK_DGRAM)
        c.settimeout(5)
        c.sendto(b"hello %d" % n, (host, int(sys.argv[1])))
        print(host, c.recvfrom(100)[0].decode())
"""


def test_publish_udp_gives_each_client_its_own_flow():
    """-p 17003:7001/udp: datagrams of each host client reach the sandbox's server from a
    socket of their own, and its answers go back to that client."""
    r = in_host_net(f"""
        sandbox -p 17003:7001/udp python3 -c '{UDP_SERVER}' > server.out 2>&1 & s=$!
        for i in $(seq 100); do grep -q bound server.out 2>/dev/null && break; sleep 0.1; done
        python3 -c '{UDP_CLIENTS}' 17003
        wait $s; echo "sandbox exit $?"
        rm -f server.out
    """)
    assert r.stdout.splitlines() == ["127.0.0.1 HELLO 0 127.0.0.1", "127.0.0.1 HELLO 1 127.0.0.1",
                                     "::1 HELLO 0 127.0.0.1", "::1 HELLO 1 127.0.0.1", "sandbox exit 0"], \
        r.stdout + r.stderr


def test_publish_with_no_server_closes_the_clients_connection():
    r = in_host_net("""
        sandbox -p 17002:7002 sleep 3 & s=$!
        sleep 1.5
        python3 -c '
import socket
c = socket.create_connection(("127.0.0.1", 17002), timeout=5)
try:
    print("read", c.recv(10))
except ConnectionResetError:
    print("read reset")
'
        wait $s
    """)
    assert "read b''" in r.stdout or "read reset" in r.stdout, r.stdout + r.stderr


def _tiny_wheel(path):
    """A wheel pip accepts: demo_pkg 1.0, one module."""
    import zipfile
    info = "demo_pkg-1.0.dist-info"
    files = {"demo_pkg.py": "VALUE = 42\n",
             f"{info}/METADATA": "Metadata-Version: 2.1\nName: demo-pkg\nVersion: 1.0\n",
             f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"}
    files[f"{info}/RECORD"] = "".join(f"{name},,\n" for name in files) + f"{info}/RECORD,,\n"
    with zipfile.ZipFile(path, "w") as z:
        for name, text in files.items():
            z.writestr(name, text)


def test_pip_downloads_from_an_index_outside(tmp_path):
    """`pip download` in the default mode, from a package index on the host's network
    (the outside world's stand-in): name resolution aside, what `pip download six` does."""
    index = tmp_path / "simple" / "demo-pkg"
    index.mkdir(parents=True)
    _tiny_wheel(index / "demo_pkg-1.0-py3-none-any.whl")
    r = in_host_net(f"""
        cd {tmp_path} && python3 -m http.server 8125 --bind {HOST_ADDR} >/dev/null 2>&1 & i=$!
        for n in $(seq 50); do curl -s -o /dev/null http://{HOST_ADDR}:8125/ && break; sleep 0.1; done
        sandbox python3 -m pip --isolated download --no-deps --no-cache-dir --disable-pip-version-check \\
            --index-url http://{HOST_ADDR}:8125/simple --trusted-host {HOST_ADDR} -d /tmp/w demo-pkg
        kill $i
    """)
    assert "Saved /tmp/w/demo_pkg-1.0-py3-none-any.whl" in r.stdout, r.stdout + r.stderr


def test_the_sandboxs_hostname_resolves_to_its_address(run_sandboxed):
    """/etc/hosts and /etc/hostname are the sandbox's, mounted over the tree's as docker
    mounts its: gethostbyname(gethostname()) is eth0's address (CPython's test_socket
    relies on it); with --net none the hostname has no address; the host's files stay."""
    code = ("import socket\n"
            "try: print(socket.gethostname(), socket.gethostbyname(socket.gethostname()))\n"
            "except OSError as e: print(socket.gethostname(), 'unresolved')\n"
            "print(open('/etc/hostname').read().strip())\n")
    r = run_sandboxed(["--hostname", "web", sys.executable, "-c", code])
    assert r.stdout == "web 10.0.2.100\nweb\n", r.stderr
    r = run_sandboxed(["--net", "none", sys.executable, "-c", code])
    assert r.stdout.splitlines()[0] == "pylinuxabi unresolved", r.stderr
    host_hosts = open("/etc/hosts").read()
    run_sandboxed(["/bin/sh", "-c", "echo 10.9.9.9 added >> /etc/hosts"])
    assert open("/etc/hosts").read() == host_hosts
