"""Sockets made in the host's network namespace, for the default network mode (DESIGN §12).

The sandbox runs in a network namespace of its own, where only its loopback
exists; connections to other addresses go out "through the host", as docker's
default bridge lets them. A socket's namespace is fixed when it is made, and the
supervisor cannot go back to the host's namespace once it has left it (it may
not be root there), so before the sandbox is entered we fork a small process
that stays behind: asked over a socketpair, it makes one TCP or UDP socket and
sends it back (SCM_RIGHTS). It does nothing else: it never connects, binds or
reads, and it dies with whoever asks (end of file, or the death signal).
"""
import ctypes
import errno
import os
import socket
import struct
import sys

REQUEST = struct.Struct("<iii")         # family, type, protocol
REPLY = struct.Struct("<i")             # 0 with the socket, or an errno
FAMILIES = (socket.AF_INET, socket.AF_INET6)
KINDS = {socket.SOCK_STREAM: (0, socket.IPPROTO_TCP),
         socket.SOCK_DGRAM: (0, socket.IPPROTO_UDP, socket.IPPROTO_UDPLITE)}
NOBODY = 65534
PR_SET_PDEATHSIG = 1


class Outside:
    """The supervisor's end: socket() in the host's network namespace."""

    def __init__(self, sock, pid):
        self.sock = sock
        self.pid = pid

    @classmethod
    def start(cls):
        """Fork the maker while we are still in the host's namespace."""
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET | socket.SOCK_CLOEXEC)
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                ours.close()
                _serve(theirs)
                code = 0
            finally:
                os._exit(code)
        theirs.close()
        return cls(ours, pid)

    def socket(self, family, type, protocol):
        """A new non-blocking, close-on-exec host socket outside, as its fd; OSError if
        the host refuses it."""
        self.sock.send(REQUEST.pack(family, type, protocol))
        data, fds, _, _ = socket.recv_fds(self.sock, REPLY.size, 1)
        if len(data) < REPLY.size:
            raise OSError(errno.EIO, "the outside socket maker is gone")
        err = REPLY.unpack(data)[0]
        if err:
            for fd in fds:
                os.close(fd)
            raise OSError(err, os.strerror(err))
        return fds[0]

    def close(self):
        self.sock.close()


def _serve(sock):
    """The maker's loop: it holds no privilege it does not need (a TCP or UDP
    socket needs none), and closes what it inherited."""
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, 9, 0, 0, 0)
    os.closerange(3, sock.fileno())
    os.closerange(sock.fileno() + 1, os.sysconf("SC_OPEN_MAX"))
    if os.getuid() == 0:
        os.setgroups([])
        os.setresgid(NOBODY, NOBODY, NOBODY)
        os.setresuid(NOBODY, NOBODY, NOBODY)
    while True:
        request = sock.recv(REQUEST.size)
        if len(request) < REQUEST.size:
            return
        family, kind, protocol = REQUEST.unpack(request)
        if family not in FAMILIES or protocol not in KINDS.get(kind, ()):
            sock.send(REPLY.pack(errno.EINVAL))     # only what the model asks for
            continue
        try:
            made = socket.socket(family, kind | socket.SOCK_NONBLOCK | socket.SOCK_CLOEXEC, protocol)
        except OSError as e:
            sock.send(REPLY.pack(e.errno))
            continue
        socket.send_fds(sock, [REPLY.pack(0)], [made.fileno()])
        made.close()
