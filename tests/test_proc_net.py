"""/proc/net (a link to self/net) and /proc/<pid>/net: the tables of the sandbox's network namespace.

tests/programs/proc_net.c finds its own TCP, UDP and unix sockets in /proc/net/{tcp,tcp6,udp,unix}
by the inode numbers of its /proc/self/fd links; it runs natively in a network namespace of
its own (unshare -n, lo up), as root and as a user, and under pylinuxabi. Then what programs
do with the tables (netstat, ss on /proc, psutil), and, judged from the host, that with
`--net host` the host's own sockets are not listed.
"""
import os
import re
import shutil
import socket
import subprocess
import sys

import pytest
from conftest import reachable, sandbox_command
from test_inet import AS_USER, in_private_net, needs_netns

LOOPBACK_ONLY = ["--net", "none"]     # a fresh namespace, as the native runs have (the default adds eth0)

pytestmark = [pytest.mark.timeout(180)]
# a Python any user may run (the harness's may be under a directory only root may search)
PYTHON3 = "/usr/bin/python3" if os.access("/usr/bin/python3", os.X_OK) else sys.executable


@needs_netns
def test_the_tables_list_the_programs_sockets_by_their_fd_links_inode(build, run_native, run_sandboxed,
                                                                      assert_same_behaviour):
    binary = build("proc_net")
    native = run_native(in_private_net([binary]))
    assert native.returncode == 0, native.stderr
    assert "tcp listener: in tcp, local 0100007F port ok, remote 00000000 port 0, state 0A, uid 0" in native.stdout
    assert "unix unaccepted client: refcount 3" in native.stdout
    assert_same_behaviour([binary], native, run_sandboxed([binary]))


@needs_netns
@pytest.mark.skipif(shutil.which("setpriv") is None, reason="setpriv (util-linux) missing")
def test_the_uid_column_is_the_socket_creators_fsuid(build, run_native, run_sandboxed, assert_same_behaviour):
    binary = reachable(build("proc_net"))
    native = run_native(in_private_net([*AS_USER, binary]))
    assert native.returncode == 0, native.stderr
    assert "state 0A, uid 1000" in native.stdout
    argv = ["--user", "1000:1000", binary]
    assert_same_behaviour(argv, native, run_sandboxed(argv))


PROC_NET_FILES = """
import os
print(os.readlink("/proc/net"))
for path in ("/proc/self/net", "/proc/%d/net" % os.getpid(), "/proc/net/tcp", "/proc/net/unix", "/proc/net/dev"):
    s = os.stat(path)
    print(path.replace(str(os.getpid()), "PID"), oct(s.st_mode), s.st_uid == 0, s.st_uid == os.geteuid())
names = set(os.listdir("/proc/net"))
print(sorted(names & {"tcp", "tcp6", "udp", "udp6", "udplite", "udplite6", "raw", "raw6", "unix", "dev",
                      "if_inet6", "route", "ipv6_route", "snmp", "netstat", "sockstat", "sockstat6"}))
print(open("/proc/net/dev").read().splitlines()[:2])
print([line.split(":")[0].strip() for line in open("/proc/net/dev").read().splitlines()[2:]])
for name in ("tcp", "unix", "dev", "route", "snmp", "sockstat"):     # seq_open_net's, then single_open_net's
    try:
        fd = os.open("/proc/net/" + name, os.O_WRONLY)
    except OSError as e:
        print(name, "open for writing:", e.strerror)
        continue
    try:
        os.write(fd, b"0")
    except OSError as e:
        print(name, "write:", e.strerror)
    os.close(fd)
"""


@needs_netns
def test_proc_net_is_a_link_to_self_net_of_root_owned_files(run_native, run_sandboxed, assert_same_behaviour):
    argv = [sys.executable, "-c", PROC_NET_FILES]
    native = run_native(in_private_net(argv))
    assert native.returncode == 0, native.stderr
    assert native.stdout.startswith("self/net\n")
    assert "tcp open for writing: Permission denied\nunix open for writing" in native.stdout
    assert "snmp write: Permission denied" in native.stdout
    argv = [*LOOPBACK_ONLY, *argv]
    assert_same_behaviour(argv, native, run_sandboxed(argv))


@needs_netns
@pytest.mark.skipif(shutil.which("setpriv") is None, reason="setpriv (util-linux) missing")
def test_a_users_own_net_directory_is_its_own(run_native, run_sandboxed, assert_same_behaviour):
    argv = [PYTHON3, "-c", PROC_NET_FILES]
    native = run_native(in_private_net([*AS_USER, *argv]))
    assert native.returncode == 0, native.stderr
    assert "/proc/self/net 0o40555 False True" in native.stdout
    argv = [*LOOPBACK_ONLY, "--user", "1000:1000", *argv]
    assert_same_behaviour(argv, native, run_sandboxed(argv))


# netstat and ss (told by PROC_ROOT to read /proc, as ss does by itself when netlink is
# missing) and psutil, on a listener, a connection, a UDP socket and a unix listener;
# ports and the pid, which differ between runs, are named
TOOLS = """
import os, re, socket, subprocess, sys
l = socket.socket(); l.bind(("127.0.0.1", 0)); l.listen()
c = socket.create_connection(l.getsockname()); a, _ = l.accept()
u = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); u.bind(("::1", 0))
x = socket.socket(socket.AF_UNIX); x.bind("\\0tools-test"); x.listen()
names = {str(s.getsockname()[1]): name for s, name in ((l, "LPORT"), (c, "CPORT"), (u, "UPORT"))}
names[str(os.fstat(x.fileno()).st_ino)] = "UNIXINO"

def named(text):
    text = re.sub(r"\\b%d/" % os.getpid(), "PID/", re.sub(r" +", " ", text))
    return re.sub(r"\\b(\\d{3,})\\b", lambda m: names.get(m.group(1), m.group(1)), text)

for cmd in TOOLS_ARGV:
    if cmd[0] == "psutil":
        import psutil
        for conn in sorted(psutil.net_connections("all"), key=lambda c: c.fd):
            print("psutil", conn.fd, conn.family.name, conn.type.name, named(str(conn.laddr)),
                  named(str(conn.raddr)), conn.status, conn.pid == os.getpid())
        continue
    r = subprocess.run(cmd, capture_output=True, text=True, env=dict(os.environ, PROC_ROOT="/proc"))
    print("$", *cmd, r.returncode)
    print("\\n".join(sorted(named(line) for line in r.stdout.splitlines())))
"""


def _tools(argvs):
    return [sys.executable, "-c", f"TOOLS_ARGV = {argvs!r}\n" + TOOLS]


@needs_netns
@pytest.mark.skipif(shutil.which("netstat") is None, reason="netstat (net-tools) missing")
def test_netstat_names_the_sockets_and_their_process(run_native, run_sandboxed, assert_same_behaviour):
    argv = _tools([["netstat", "-tunap"], ["netstat", "-xl"]])
    native = run_native(in_private_net(argv))
    assert "tcp 0 0 127.0.0.1:LPORT 0.0.0.0:* LISTEN PID/python" in native.stdout, native.stderr
    assert_same_behaviour(argv, native, run_sandboxed(argv))


@needs_netns
@pytest.mark.skipif(shutil.which("ss") is None, reason="ss (iproute2) missing")
def test_ss_reading_proc_lists_the_sockets(run_native, run_sandboxed, assert_same_behaviour):
    argv = _tools([["ss", "-tuna"], ["ss", "-xl"]])
    native = run_native(in_private_net(argv))
    assert "tcp LISTEN 0 0 127.0.0.1:LPORT 0.0.0.0:*" in native.stdout, native.stderr
    assert "u_str LISTEN 0 0 @tools-test UNIXINO * 0" in native.stdout
    assert_same_behaviour(argv, native, run_sandboxed(argv))


@needs_netns
def test_psutil_net_connections(run_native, run_sandboxed, assert_same_behaviour):
    pytest.importorskip("psutil")
    argv = _tools([["psutil"]])
    native = run_native(in_private_net(argv))
    assert "psutil 3 AF_INET SOCK_STREAM addr(ip='127.0.0.1', port=LPORT) () LISTEN True" in native.stdout, \
        native.stderr
    assert_same_behaviour(argv, native, run_sandboxed(argv))


# --net host: the host's namespace is shared; the tables must show the sandbox's sockets only
HOST_NET_READER = """
import os, socket
l = socket.socket(); l.bind(("127.0.0.1", 0)); l.listen()
u = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); u.bind(("::1", 0))
print("mine", l.getsockname()[1], u.getsockname()[1])
print("fds", *(os.readlink(f"/proc/self/fd/{s.fileno()}") for s in (l, u)))
for table in ("tcp", "tcp6", "udp", "udp6"):
    for line in open("/proc/net/" + table).read().splitlines()[1:]:
        f = line.split()
        print("row", table, int(f[1].rsplit(":", 1)[1], 16), f[9])
for name in ("sockstat", "sockstat6"):
    print(open("/proc/net/" + name).read(), end="")
"""




def test_with_net_host_the_hosts_own_sockets_are_not_listed():
    """Judged from the host: a listener and a UDP socket the test holds outside the sandbox
    are not in the sandbox's tables, every row it sees is one of its own sockets, and
    sockstat counts its sockets alone."""
    with socket.socket() as listener, socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        udp.bind(("127.0.0.1", 0))
        host_ports = {listener.getsockname()[1], udp.getsockname()[1]}
        argv = sandbox_command(["--net", "host", sys.executable, "-c", HOST_NET_READER])
        r = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    # the counts of sockets are the sandbox's too (the memory figures stay the host's)
    assert "sockets: used 2\n" in r.stdout
    assert re.search(r"^TCP: inuse 1 orphan 0 tw 0 alloc 1 mem \d+$", r.stdout, re.M), r.stdout
    assert "\nUDP: inuse 0 " in r.stdout and "\nTCP6: inuse 0\nUDP6: inuse 1\n" in r.stdout
    lines = [line.split() for line in r.stdout.splitlines() if line.split()[0] in ("mine", "fds", "row")]
    mine = {int(p) for p in lines[0][1:]}
    fds = {w for line in lines if line[0] == "fds" for w in line[1:]}
    rows = [(table, int(port), f"socket:[{ino}]") for _, table, port, ino in (x for x in lines if x[0] == "row")]
    assert {port for _, port, _ in rows} == mine, rows
    assert all(link in fds for _, _, link in rows), (rows, fds)
    assert not host_ports & {port for _, port, _ in rows}
