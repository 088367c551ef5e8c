"""Unit tests of the AF_UNIX model (vfs/socket.py) without tracing: the send buffer's
accounting, connections, shutdown and close, names, readiness. The expected
numbers are what Linux 6.18 gave on this kind of machine (tests/programs/ipc_unix.c
checks the same against the kernel)."""
import errno

import pytest

from pylinuxabi.base.errors import SyscallError, WouldBlock
from pylinuxabi.vfs import socket as sk
from pylinuxabi.vfs.file import POLLERR, POLLHUP, POLLIN, POLLOUT


def pair(kind=sk.SOCK_STREAM):
    a, b = sk.UnixSocket(kind), sk.UnixSocket(kind)
    a.peer, b.peer = b, a
    a.state = b.state = sk.TCP_ESTABLISHED
    a.has_file = b.has_file = True
    return a, b


def send(sock, data, timeo=0):
    if sock.type == sk.SOCK_STREAM:
        return sock.stream_send(data, 0, None, None, None, 0, timeo, False)
    return sock.dgram_send(len(data), lambda: data, 0, None, None, None, None, timeo, False)


def recv(sock, size, flags=0, timeo=0):
    out = bytearray()

    def sink(offset, data):
        out[offset:] = data
        return len(data)
    if sock.type == sk.SOCK_STREAM:
        sock.stream_recv(size, flags, sink, sk.RecvState(), timeo, False)
        return bytes(out)
    sock.dgram_recv(size, flags, sink, timeo, False)
    return bytes(out)


@pytest.mark.parametrize("size, outq", [(1, 768), (192, 768), (193, 1280), (1000, 2304), (3776, 4352),
                                        (3777, 4864), (4000, 4864), (10000, 12544), (40000, 41472)])
def test_a_stream_send_costs_its_skbs_truesize(size, outq):
    a, b = pair()
    assert send(a, b"x" * size) == size
    assert a.wmem == outq
    assert b.inq() == size


@pytest.mark.parametrize("size, outq", [(0, 768), (3777, 8448), (10000, 16640), (40000, 41216),
                                        (100000, 102656), (106000, 135424), (200000, 200960)])
def test_a_datagram_costs_its_truesize(size, outq):
    assert sk.dgram_truesize(size) == outq


def test_a_stream_send_stops_when_the_send_buffer_is_full():
    a, b = pair()
    sent = [send(a, b"x" * 1000) for _ in range(93)]
    assert sent == [1000] * 93 and a.wmem == 93 * 2304
    with pytest.raises(SyscallError) as e:
        send(a, b"x")
    assert e.value.errno == errno.EAGAIN
    assert not a.poll() & POLLOUT
    with pytest.raises(WouldBlock):
        send(a, b"y", timeo=None)


def test_a_big_nonblocking_stream_send_is_partial():
    a, b = pair()
    assert send(a, bytes(300000)) == 219264     # six skbs of 36544 bytes


def test_a_blocked_writer_waits_on_its_write_queue():
    a, b = pair()
    while True:
        try:
            send(a, b"x" * 4096)
        except SyscallError:
            break
    with pytest.raises(WouldBlock) as e:
        send(a, b"x", timeo=None)
    assert e.value.waitables == [a.wq_out]
    woken = []
    a.wq_out.add(lambda: woken.append(1))
    recv(b, 1 << 20)
    assert woken and a.wmem == 0 and a.poll() & POLLOUT


def test_datagrams_keep_their_boundaries_and_truncate():
    a, b = pair(sk.SOCK_DGRAM)
    send(a, b"abc")
    send(a, b"defg")
    assert b.inq() == 3
    assert recv(b, 2) == b"ab"
    assert recv(b, 10) == b"defg"
    with pytest.raises(SyscallError) as e:
        recv(b, 10)
    assert e.value.errno == errno.EAGAIN


def test_closing_with_unread_data_resets_the_peer():
    a, b = pair()
    send(b, b"unread")
    a.release()
    assert b.poll() & (POLLERR | POLLHUP | POLLIN) == POLLERR | POLLHUP | POLLIN
    with pytest.raises(SyscallError) as e:
        recv(b, 10)
    assert e.value.errno == errno.ECONNRESET
    assert recv(b, 10) == b""
    with pytest.raises(SyscallError) as e:
        send(b, b"x")
    assert e.value.errno == errno.EPIPE and e.value.sigpipe


def test_shutdown_for_writing_is_eof_for_the_peer():
    a, b = pair()
    send(a, b"12")
    a.do_shutdown(1)
    assert recv(b, 10) == b"12"
    assert recv(b, 10, timeo=None) == b""
    assert b.poll() & sk.POLLRDHUP
    with pytest.raises(SyscallError) as e:
        send(a, b"x")
    assert e.value.errno == errno.EPIPE


def test_connect_queues_an_embryo_until_accept():
    listener = sk.UnixSocket(sk.SOCK_STREAM)
    listener.bind_abstract(b"\x01\x00\x00unit-listener")
    listener.listen(0, (1, 0, 0))
    client = sk.UnixSocket(sk.SOCK_STREAM)
    client.stream_connect(lambda: listener, (2, 0, 0), 0, False)
    assert client.state == sk.TCP_ESTABLISHED and client.peercred == (1, 0, 0)
    assert listener.poll() & POLLIN
    other = sk.UnixSocket(sk.SOCK_STREAM)
    with pytest.raises(SyscallError) as e:          # backlog 0: one may wait
        other.stream_connect(lambda: listener, (3, 0, 0), 0, False)
    assert e.value.errno == errno.EAGAIN
    with pytest.raises(WouldBlock) as w:
        other.stream_connect(lambda: listener, (3, 0, 0), None, False)
    assert w.value.waitables == [listener.peer_wait]
    new = listener.accept(0, False)
    assert new.peer is client and new.peercred == (2, 0, 0)
    assert new.getname(False) == listener.addr and client.getname(True) == listener.addr
    listener.release()
    assert (listener.type, listener.addr) not in sk.names.abstract


def test_abstract_names_are_per_type_and_autobind_picks_five_hex_digits():
    a, b, c = sk.UnixSocket(sk.SOCK_STREAM), sk.UnixSocket(sk.SOCK_DGRAM), sk.UnixSocket(sk.SOCK_STREAM)
    name = b"\x01\x00\x00unit-name"
    a.bind_abstract(name)
    b.bind_abstract(name)
    with pytest.raises(SyscallError) as e:
        c.bind_abstract(name)
    assert e.value.errno == errno.EADDRINUSE
    c.autobind()
    assert len(c.addr) == 8 and c.addr[2] == 0 and c.addr[3:] == c.addr[3:].lower()
    int(c.addr[3:], 16)
    for s in (a, b, c):
        s.release()


def test_a_dgram_sender_to_a_full_queue_waits_for_the_receivers_room():
    server = sk.UnixSocket(sk.SOCK_DGRAM)
    client = sk.UnixSocket(sk.SOCK_DGRAM)
    client.dgram_connect(lambda: server)
    for _ in range(11):
        send(client, b"m")
    assert not client.poll() & POLLOUT
    with pytest.raises(WouldBlock) as w:
        send(client, b"m", timeo=None)
    assert w.value.waitables == [server.peer_wait]
    recv(server, 1)
    assert client.poll() & POLLOUT
    server.release()
    with pytest.raises(SyscallError) as e:
        send(client, b"m")
    assert e.value.errno == errno.ECONNREFUSED
    with pytest.raises(SyscallError) as e:
        send(client, b"m")
    assert e.value.errno == errno.ENOTCONN
