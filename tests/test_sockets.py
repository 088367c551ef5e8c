"""AF_UNIX sockets with real programs: python3's socket module, socketserver,
asyncio and multiprocessing.connection must print the same stdout and exit with
the same status under `pylinuxabi run --strict` as natively; CPython's own
test_signal (the wake-up fd tests, which use socketpair) and test_socket (its
AF_UNIX classes) must pass as natively. Families other than AF_UNIX are not
modelled: they fail with EAFNOSUPPORT and are named in the report of
unimplemented syscalls. The C program of this area is tests/programs/ipc_unix.c
(test_programs.py); multiprocessing's forkserver is in test_processes.py.
"""
import os
import re
import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.timeout(300)

PYTHON3 = "/usr/bin/python3" if os.access("/usr/bin/python3", os.X_OK) else sys.executable


def _has_cpython_tests(module):
    """Does sys.executable have CPython's test package (Debian's python3 does not)?"""
    probe = subprocess.run([sys.executable, "-c", f"import test.{module}"], capture_output=True)
    return probe.returncode == 0


needs_test_signal = pytest.mark.skipif(not _has_cpython_tests("test_signal"),
                                       reason="this python has no test.test_signal")
needs_test_socket = pytest.mark.skipif(not _has_cpython_tests("test_socket"),
                                       reason="this python has no test.test_socket")


def same_stdout_and_status(argv, run_native, run_sandboxed, assert_same_behaviour):
    native = run_native(argv)
    sandboxed = run_sandboxed(argv)
    assert_same_behaviour(argv, native, sandboxed)
    return native, sandboxed


# --------------------------------------------------------------------------
# python3's socket module

PY_ROUND_TRIPS = textwrap.dedent("""\
    import array, os, socket
    for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM, socket.SOCK_SEQPACKET):
        a, b = socket.socketpair(socket.AF_UNIX, kind)
        a.sendall(b"hello")
        a.send(b"world")
        print(kind.name, b.recv(3), b.recv(100))
        print("names", repr(a.getsockname()), repr(b.getpeername()), a.family.name, a.type.name)
        r, w = os.pipe()
        socket.send_fds(a, [b"fds"], [r, w])
        msg, fds, flags, addr = socket.recv_fds(b, 10, 4)
        os.write(fds[1], b"via the passed pipe")
        print("recv_fds", msg, len(fds), flags, os.read(r, 100))
        for fd in fds + [r, w]:
            os.close(fd)
        b.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
        a.send(b"cred")
        msg, anc, flags, addr = b.recvmsg(10, socket.CMSG_SPACE(12))
        pid, uid, gid = array.array("i", anc[0][2])
        print("creds", msg, pid == os.getpid(), uid == os.getuid(), gid == os.getgid())
        pid, uid, gid = array.array("i", a.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12))
        print("peercred", pid == os.getpid(), uid == os.geteuid(), gid == os.getegid())
        b.settimeout(0.05)
        try:
            b.recv(1)
        except socket.timeout as e:
            print("timeout", type(e).__name__)
        b.settimeout(None)
        a.shutdown(socket.SHUT_WR)
        if kind != socket.SOCK_DGRAM:
            print("eof", b.recv(10))
        try:
            a.send(b"x")
        except BrokenPipeError:
            print("EPIPE after shutdown")
        a.close()
        b.close()

    a, b = socket.socketpair()
    pid = os.fork()
    if pid == 0:
        a.close()
        with b.makefile("rw") as f:
            for line in f:
                f.write(line.upper())
                f.flush()
        os._exit(0)
    b.close()
    with a.makefile("rw") as f:
        for word in ("alpha", "beta", "gamma"):
            f.write(word + "\\n")
            f.flush()
            print("echo", f.readline().strip())
    a.shutdown(socket.SHUT_WR)
    print("child", os.waitpid(pid, 0)[1])
    a.close()

    a, b = socket.socketpair()
    a.setblocking(False)
    total = 0
    try:
        while True:
            total += a.send(b"x" * 4096)
    except BlockingIOError:
        print("filled", total, "SO_SNDBUF", a.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF))
    b.setblocking(False)
    got = 0
    try:
        while True:
            got += len(b.recv(65536))
    except BlockingIOError:
        print("drained", got == total)
""")


def test_python3_socketpair_round_trips(tmp_path, run_native, run_sandboxed, assert_same_behaviour):
    """socketpair of each type: data, names, send_fds/recv_fds, SO_PASSCRED,
    SO_PEERCRED, timeouts, shutdown; makefile across a fork; a nonblocking fill."""
    script = tmp_path / "pairs.py"
    script.write_text(PY_ROUND_TRIPS)
    native, _ = same_stdout_and_status([PYTHON3, script], run_native, run_sandboxed, assert_same_behaviour)
    assert native.returncode == 0, native.stderr
    assert "recv_fds b'fds' 2 0 b'via the passed pipe'" in native.stdout
    assert native.stdout.count("creds b'cred' True True True") == 3
    assert "echo GAMMA\nchild 0\n" in native.stdout


PY_SERVERS = textwrap.dedent("""\
    import asyncio, os, socket, socketserver, tempfile, threading
    from multiprocessing.connection import Client, Listener

    d = tempfile.mkdtemp()
    path = os.path.join(d, "srv.sock")

    class Echo(socketserver.StreamRequestHandler):
        def handle(self):
            for line in self.rfile:
                self.wfile.write(b"echo " + line)

    srv = socketserver.UnixStreamServer(path, Echo)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    with socket.socket(socket.AF_UNIX) as c:
        c.connect(path)
        f = c.makefile("rwb")
        for i in range(3):
            f.write(b"line %d\\n" % i)
            f.flush()
            print(f.readline().decode().strip())
        f.close()
    srv.shutdown()
    srv.server_close()
    os.unlink(path)

    async def main():
        async def handle(reader, writer):
            data = await reader.readline()
            writer.write(data[::-1])
            await writer.drain()
            writer.close()
        server = await asyncio.start_unix_server(handle, path)
        results = []
        for word in (b"stressed\\n", b"drawer\\n"):
            r, w = await asyncio.open_unix_connection(path)
            w.write(word)
            await w.drain()
            results.append(await r.read())
            w.close()
            await w.wait_closed()
        server.close()
        await server.wait_closed()
        return results
    print(asyncio.run(main()))
    os.unlink(path)

    listener = Listener(path, "AF_UNIX", authkey=b"secret")
    pid = os.fork()
    if pid == 0:
        with Client(path, "AF_UNIX", authkey=b"secret") as conn:
            conn.send({"n": 21})
            conn.send(conn.recv() * 2)
        os._exit(0)
    with listener.accept() as conn:
        conn.send(conn.recv()["n"])
        print("from the child", conn.recv())
    listener.close()
    print("child status", os.waitpid(pid, 0)[1])
    os.rmdir(d)

    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind("\\0pylinuxabi-test-%d" % os.getpid())
    c = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    c.bind("")
    for m in (b"one", b"two" * 100, b""):
        c.sendto(m, s.getsockname())
    for _ in range(3):
        data, addr = s.recvfrom(1000)
        print(len(data), addr == c.getsockname(), addr[:1] == b"\\0")
""")


def test_python3_unix_servers(tmp_path, run_native, run_sandboxed, assert_same_behaviour):
    """socketserver.UnixStreamServer with a thread, asyncio's unix server (epoll),
    multiprocessing.connection with an authkey across a fork, abstract datagrams."""
    script = tmp_path / "servers.py"
    script.write_text(PY_SERVERS)
    native, _ = same_stdout_and_status([PYTHON3, script], run_native, run_sandboxed, assert_same_behaviour)
    assert native.stdout == ("echo line 0\necho line 1\necho line 2\n[b'\\ndesserts', b'\\nreward']\n"
                             "from the child 42\nchild status 0\n3 True True\n300 True True\n0 True True\n")


def test_unmodelled_family_fails_and_is_reported(run_sandboxed):
    """AF_PACKET is not modelled: EAFNOSUPPORT, and `pylinuxabi run` names it at exit."""
    code = ("import socket\n"
            "try:\n    socket.socket(socket.AF_PACKET, socket.SOCK_RAW)\n"
            "except OSError as e:\n    print('errno', e.errno)\n"
            "print(socket.socketpair()[0].family.name)\n")
    result = run_sandboxed(["--report", PYTHON3, "-c", code])
    assert result.stdout == "errno 97\nAF_UNIX\n"
    assert "unimplemented syscalls used: socket(AF_PACKET) (1)" in result.stderr


# --------------------------------------------------------------------------
# CPython's own tests

def _regrtest(run, args):
    """Run `python -m test ARGS -v` with run (native or sandboxed): (ran, result line, output)."""
    result = run([sys.executable, "-m", "test", *args, "-v"], timeout=600)
    out = result.stdout
    ran = re.search(r"^Ran (\d+) tests?", out, re.M)
    verdict = re.search(r"^Result: (\w+)", out, re.M)
    return (int(ran.group(1)) if ran else None, verdict.group(1) if verdict else None, out + result.stderr)


TEST_SIGNAL_WAKEUP = ["test_signal", "-m", "WakeupSocketSignalTests", "-m", "WakeupFDTests",
                      # (these two make AF_INET sockets)
                      "-i", "test_invalid_socket", "-i", "test_set_wakeup_fd_socket_result"]


@pytest.mark.slow
@needs_test_signal
def test_cpython_test_signal_wakeup_fds(run_native, run_sandboxed):
    """signal.set_wakeup_fd with socketpairs: a signal's number written to a
    nonblocking socket, the warning when it is full, errors when it is closed."""
    native = _regrtest(run_native, TEST_SIGNAL_WAKEUP)
    sandboxed = _regrtest(run_sandboxed, TEST_SIGNAL_WAKEUP)
    assert native[:2] == (7, "SUCCESS"), native[2][-3000:]
    assert sandboxed[:2] == native[:2], sandboxed[2][-3000:]


@pytest.mark.slow
@needs_test_signal
def test_cpython_test_signal_inet_wakeup_fds(run_native, run_sandboxed):
    """set_wakeup_fd with AF_INET sockets (host sockets of the supervisor, issue 12)."""
    args = ["test_signal", "-m", "test_invalid_socket", "-m", "test_set_wakeup_fd_socket_result"]
    native = _regrtest(run_native, args)
    sandboxed = _regrtest(run_sandboxed, args)
    assert native[1] == "SUCCESS", native[2][-3000:]
    assert sandboxed[:2] == native[:2], sandboxed[2][-3000:]


# test_socket's classes that use AF_UNIX only (the rest make AF_INET sockets)
TEST_SOCKET_UNIX = ["test_socket"] + [arg for cls in (
    "BasicSocketPairTest", "SendmsgUnixStreamTest", "RecvmsgUnixStreamTest", "RecvmsgIntoUnixStreamTest",
    "RecvmsgSCMRightsStreamTest", "RecvmsgIntoSCMRightsStreamTest", "TestLinuxAbstractNamespace",
    "TestUnixDomain", "SendRecvFdsTests") for arg in ("-m", cls)]


@pytest.mark.slow
@needs_test_socket
def test_cpython_test_socket_unix_classes(run_native, run_sandboxed):
    native = _regrtest(run_native, TEST_SOCKET_UNIX)
    sandboxed = _regrtest(run_sandboxed, TEST_SOCKET_UNIX)
    assert native[1] == "SUCCESS" and native[0] > 80, native[2][-3000:]
    assert sandboxed[:2] == native[:2], sandboxed[2][-3000:]
