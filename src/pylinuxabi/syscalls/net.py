"""Socket syscalls: socket, socketpair, bind, listen, accept, connect, send/recv families,
shutdown, getsockopt/setsockopt, get{sock,peer}name, as net/socket.c: AF_UNIX, and AF_INET and
AF_INET6 over host sockets (vfs/inet.py, the end of this file).

Argument checking, sockaddr and msghdr decoding (read once into the supervisor),
control messages and the program's fd table here; the sockets are vfs/socket.py.
Other families are not modelled: they fail with EAFNOSUPPORT and are reported at exit.

"""
import errno
import os
import signal
import socket as pysocket
import stat as st
import struct
import time

from pylinuxabi.base.creds import CAP_NET_ADMIN, CAP_NET_RAW, CAP_SETGID, CAP_SETUID, CAP_SYS_ADMIN
from pylinuxabi.base.errors import ERESTARTSYS, SyscallError, WouldBlock, check
from pylinuxabi.kernel.paths import AT_FDCWD, lookup, lookup_parent
from pylinuxabi.syscalls.fd import IO_CHUNK, IOV_MAX, MAX_RW_COUNT, access_ok, install_pair, read_iovec
from pylinuxabi.syscalls import netlink
from pylinuxabi.syscalls.registry import syscall
from pylinuxabi.vfs import inet, namei
from pylinuxabi.vfs.file import POLLIN, POLLOUT
from pylinuxabi.vfs.inet import InetSocketFile
from pylinuxabi.vfs.netlink import AF_NETLINK, NetlinkSocketFile, check_create as netlink_check_create
from pylinuxabi.vfs.inode import W_OK
from pylinuxabi.vfs.socket import (AF_UNIX, AF_UNSPEC, MSG_CMSG_CLOEXEC, MSG_CTRUNC, MSG_DONTWAIT, MSG_OOB,
                                   MSG_WAITALL, SOCK_DGRAM, SOCK_RAW, SOCK_SEQPACKET, SOCK_STREAM,
                                   SOCK_TYPE_MASK, SOCKADDR_UN_SIZE, SOMAXCONN, SUN_PATH, TCP_ESTABLISHED,
                                   TCP_LISTEN, RecvState, SocketFile, UnixSocket, drop_files, names)
from pylinuxabi.vfs import socket as sockfs
from pylinuxabi.vfs.stdio import RECHECK

MSGHDR = struct.Struct("<QI4xQQQQi4x")      # struct user_msghdr, 56 bytes
MSGHDR_CONTROLLEN, MSGHDR_FLAGS = 40, 48    # offsets written back by recvmsg
MMSGHDR_SIZE = 64                           # struct mmsghdr: msghdr, msg_len, padding
CMSGHDR = struct.Struct("<Qii")             # cmsg_len, cmsg_level, cmsg_type
UCRED = struct.Struct("<iII")
TIMEVAL = struct.Struct("<qq")
TIMESPEC = struct.Struct("<qq")
LINGER = struct.Struct("<ii")
INT = struct.Struct("<i")

NPROTO = 46
SOCK_MAX = 11
SOCK_NONBLOCK, SOCK_CLOEXEC = os.O_NONBLOCK, os.O_CLOEXEC
SOCKADDR_STORAGE = 128
SOL_SOCKET = 1
SCM_RIGHTS, SCM_CREDENTIALS = 1, 2
SCM_MAX_FD = 253
OPTMEM_MAX = 131072
INT_MAX = 0x7FFFFFFF
OVERFLOW_ID = 65534                 # what an id that has no mapping reads as
MSG_WAITFORONE, MSG_CMSG_COMPAT = 0x10000, 0x80000000

(SO_DEBUG, SO_REUSEADDR, SO_TYPE, SO_ERROR, SO_DONTROUTE, SO_BROADCAST, SO_SNDBUF, SO_RCVBUF,
 SO_KEEPALIVE, SO_OOBINLINE, SO_NO_CHECK, SO_PRIORITY, SO_LINGER, SO_BSDCOMPAT, SO_REUSEPORT,
 SO_PASSCRED, SO_PEERCRED, SO_RCVLOWAT, SO_SNDLOWAT, SO_RCVTIMEO, SO_SNDTIMEO) = range(1, 22)
SO_PEERNAME, SO_ACCEPTCONN = 28, 30
SO_SNDBUFFORCE, SO_RCVBUFFORCE, SO_PASSSEC, SO_MARK = 32, 33, 34, 36
SO_PROTOCOL, SO_DOMAIN = 38, 39
SO_RCVTIMEO_NEW, SO_SNDTIMEO_NEW = 66, 67
FLAG_OPTIONS = (SO_DEBUG, SO_DONTROUTE, SO_BROADCAST, SO_KEEPALIVE, SO_OOBINLINE, SO_NO_CHECK,
                SO_PASSSEC, SO_REUSEADDR, SO_REUSEPORT)
MAX_SCHEDULE_TIMEOUT = (1 << 63) - 1



# -- helpers --------------------------------------------------------------------------------
def socket_file(task, fd):
    """The socket open at fd: EBADF, or ENOTSOCK for another kind of file."""
    f = task.files.get_file(fd)
    if not isinstance(f, (SocketFile, InetSocketFile)):
        raise SyscallError(errno.ENOTSOCK)
    return f


_sock = socket_file


def _is_inet(f):
    return isinstance(f, InetSocketFile)       # (and NetlinkSocketFile, which is one)


def _is_netlink(f):
    return isinstance(f, NetlinkSocketFile)


def _report(task, call, family):
    """An address family we do not model: counted for the report `pylinuxabi run` prints."""
    try:
        name = pysocket.AddressFamily(family).name
    except ValueError:
        name = str(family)
    counts = task.process.kernel.table.counts
    key = f"{call}({name})"
    counts[key] = counts.get(key, 0) + 1


def _check_create(task, call, family, kind, protocol):
    """__sock_create and unix_create's checks; returns the socket type (SOCK_RAW is a datagram)."""
    if family < 0 or family >= NPROTO:
        raise SyscallError(errno.EAFNOSUPPORT)
    if kind >= SOCK_MAX:
        raise SyscallError(errno.EINVAL)
    if family in (AF_INET, AF_INET6) and call == "socketpair":
        raise SyscallError(errno.EOPNOTSUPP)       # (inet_socketpair is sock_no_socketpair)
    if family == AF_NETLINK:
        if not netlink_check_create(kind, protocol):
            _report(task, call, f"AF_NETLINK/{protocol}")
            raise SyscallError(errno.EPROTONOSUPPORT)       # (as a kernel built without it)
        check(call != "socketpair", errno.EOPNOTSUPP)       # (sock_no_socketpair)
        return kind
    if family != AF_UNIX:
        _report(task, call, family)
        raise SyscallError(errno.EAFNOSUPPORT)
    if protocol not in (0, AF_UNIX):
        raise SyscallError(errno.EPROTONOSUPPORT)
    if kind == SOCK_RAW:
        return SOCK_DGRAM
    if kind not in (SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET):
        raise SyscallError(errno.ESOCKTNOSUPPORT)
    return kind


def _type_flags(type):
    flags = type & ~SOCK_TYPE_MASK
    check(not flags & ~(SOCK_CLOEXEC | SOCK_NONBLOCK), errno.EINVAL)
    return type & SOCK_TYPE_MASK, flags


def _new_socket(task, kind):
    c = task.creds
    return UnixSocket(kind, c.fsuid, c.fsgid)


def _peercred(task):
    """Who we are to SO_PEERCRED: pid, euid, egid."""
    c = task.creds
    return (task.process.pid, c.euid, c.egid)


def _skbcred(task):
    """Who we are to SCM_CREDENTIALS: pid, real uid and gid."""
    c = task.creds
    return (task.process.pid, c.ruid, c.rgid)


def _read_sockaddr(task, addr, addrlen):
    """move_addr_to_kernel: the sockaddr bytes, read once."""
    if addrlen < 0 or addrlen > SOCKADDR_STORAGE:
        raise SyscallError(errno.EINVAL)
    if addrlen == 0:
        return b""
    return task.mem.read(addr, addrlen)


def _put_sockaddr(task, name, addr, lenp):
    """move_addr_to_user: the name's whole length goes back first (even if the name
    then faults, as since 6.13), then as much of the name as the program's length allows."""
    ulen = INT.unpack(task.mem.read(lenp, 4))[0]
    n = min(ulen, len(name))
    if n >= 0:
        task.mem.write(lenp, INT.pack(len(name)))
    if n < 0:
        raise SyscallError(errno.EINVAL)
    if n:
        task.mem.write(addr, name[:n])


def _validate(data):
    """unix_validate_addr."""
    if len(data) <= SUN_PATH or len(data) > SOCKADDR_UN_SIZE:
        raise SyscallError(errno.EINVAL)
    if data[0] | data[1] << 8 != AF_UNIX:
        raise SyscallError(errno.EINVAL)


def _bsd_name(data):
    """The path of a filesystem address: sun_path up to its first NUL (unix_mkname_bsd)."""
    return data[SUN_PATH:].split(b"\0", 1)[0]


def _finder(task, data, kind):
    """A function that finds the socket an address names, as unix_find_other."""
    def find():
        if data[SUN_PATH]:
            return _find_bsd(task, _bsd_name(data), kind)
        other = names.abstract.get((kind, bytes(data)))
        if other is None or other.dead:
            raise SyscallError(errno.ECONNREFUSED)
        return other
    return find


def _find_bsd(task, path, kind):
    """unix_find_bsd: the path walked in our VFS, write permission on what it names, then
    the socket bound to that inode."""
    dentry = lookup(task, AT_FDCWD, path, follow=True)
    inode = dentry.inode
    s = inode.stat()
    if namei.is_readonly(dentry) and (st.S_ISREG(s.mode) or st.S_ISDIR(s.mode) or st.S_ISLNK(s.mode)):
        raise SyscallError(errno.EROFS)
    inode.permission(task.creds, W_OK)
    if not st.S_ISSOCK(s.mode):
        raise SyscallError(errno.ECONNREFUSED)
    other = names.bsd.get((s.dev, s.ino))
    if other is None or other.dead:
        raise SyscallError(errno.ECONNREFUSED)
    if other.type != kind:
        raise SyscallError(errno.EPROTOTYPE)
    return other


class IoVec:
    """The program's buffers of one call: [(base, len)], read and written at an offset."""

    def __init__(self, vec):
        self.vec = vec
        self.total = min(sum(n for _, n in vec), MAX_RW_COUNT)

    @classmethod
    def one(cls, buf, n):
        n = min(n, MAX_RW_COUNT)
        access_ok(buf, n)
        return cls([(buf, n)])

    def _pieces(self, offset, n):
        for base, length in self.vec:
            if n <= 0:
                return
            if offset >= length:
                offset -= length
                continue
            take = min(length - offset, n)
            yield base + offset, take
            n -= take
            offset = 0

    def read(self, task, offset, n):
        """n bytes of the buffers from offset (EFAULT if they are not all there)."""
        return b"".join(task.mem.read(addr, take) for addr, take in self._pieces(offset, n))

    def write(self, task, offset, data):
        """Copy data into the buffers from offset; returns how much got there before a fault."""
        done = 0
        for addr, take in self._pieces(offset, len(data)):
            n = task.mem.write_some(addr, data[done:done + take])
            done += n
            if n < take:
                break
        return done


def _msghdr(task, msg, receiving):
    """___sys_{send,recv}msg's copy_msghdr_from_user: (name pointer, name bytes or its
    length, IoVec, control pointer, control length)."""
    name, namelen, iov, iovlen, control, controllen, _ = MSGHDR.unpack(task.mem.read(msg, MSGHDR.size))
    namelen = namelen - (1 << 32) if namelen >= 1 << 31 else namelen
    if not name:
        namelen = 0
    if namelen < 0:
        raise SyscallError(errno.EINVAL)
    namelen = min(namelen, SOCKADDR_STORAGE)
    addr = None
    if name and namelen and not receiving:
        addr = task.mem.read(name, namelen)
    if iovlen > IOV_MAX:
        raise SyscallError(errno.EMSGSIZE)
    vec = IoVec(read_iovec(task, iov, iovlen))
    return name, (namelen if receiving else addr), vec, control, controllen


# -- control messages -----------------------------------------------------------------------
def _scm_send(task, ctl):
    """__scm_send: (files, creds) of the control messages; the files are references taken."""
    files = []
    creds = None
    pos = 0
    try:
        while pos + CMSGHDR.size <= len(ctl):
            cmsg_len, level, type = CMSGHDR.unpack_from(ctl, pos)
            if cmsg_len < CMSGHDR.size or cmsg_len > len(ctl) - pos:
                raise SyscallError(errno.EINVAL)
            if level == SOL_SOCKET:
                if type == SCM_RIGHTS:
                    num = (cmsg_len - CMSGHDR.size) // 4
                    if num > 0:
                        if num > SCM_MAX_FD or len(files) + num > SCM_MAX_FD:
                            raise SyscallError(errno.EINVAL)
                        for (fd,) in struct.iter_unpack("<i", ctl[pos + 16:pos + 16 + 4 * num]):
                            f = task.files.fds.get(fd) if fd >= 0 else None
                            if f is None:
                                raise SyscallError(errno.EBADF)
                            f.get()
                            files.append(f)
                elif type == SCM_CREDENTIALS:
                    if cmsg_len != CMSGHDR.size + UCRED.size:
                        raise SyscallError(errno.EINVAL)
                    creds = _check_creds(task, *UCRED.unpack_from(ctl, pos + CMSGHDR.size))
                else:
                    raise SyscallError(errno.EINVAL)
            pos += (cmsg_len + 7) & ~7
    except SyscallError:
        drop_files(files)
        raise
    return files or None, creds


def _check_creds(task, pid, uid, gid):
    """scm_check_creds: our own pid, ids we hold, unless capable; the pid must exist."""
    if uid == 0xFFFFFFFF or gid == 0xFFFFFFFF:
        raise SyscallError(errno.EINVAL)
    c = task.creds
    if not ((pid == task.process.pid or c.capable(CAP_SYS_ADMIN))
            and (uid in (c.ruid, c.euid, c.suid) or c.capable(CAP_SETUID))
            and (gid in (c.rgid, c.egid, c.sgid) or c.capable(CAP_SETGID))):
        raise SyscallError(errno.EPERM)
    kernel = task.process.kernel
    if pid <= 0 or not (pid in kernel.tasks or pid in kernel.processes or pid in kernel.zombies):
        raise SyscallError(errno.ESRCH)
    return (pid, uid, gid)


def _control(task, ptr, size):
    """____sys_sendmsg's copy of the control buffer (ENOBUFS past optmem_max)."""
    if size > INT_MAX:
        raise SyscallError(errno.ENOBUFS)
    if not size:
        return b""
    if size > 36 and size >= OPTMEM_MAX:
        raise SyscallError(errno.ENOBUFS)
    return task.mem.read(ptr, size)


class ControlOut:
    """The program's msg_control buffer as put_cmsg and scm_detach_fds fill it."""

    def __init__(self, task, ptr, size):
        self.task = task
        self.ptr = ptr
        self.left = size
        self.used = 0
        self.flags = 0

    def _advance(self, space):
        space = min(space, self.left)
        self.used += space
        self.left -= space

    def put(self, level, type, payload):
        if not self.ptr or self.left < CMSGHDR.size:
            self.flags |= MSG_CTRUNC
            return
        cmlen = CMSGHDR.size + len(payload)
        if self.left < cmlen:
            self.flags |= MSG_CTRUNC
            cmlen = self.left
        try:
            self.task.mem.write(self.ptr + self.used,
                                CMSGHDR.pack(cmlen, level, type) + payload[:cmlen - CMSGHDR.size])
        except SyscallError:
            return
        self._advance(CMSGHDR.size + ((len(payload) + 7) & ~7))

    def put_files(self, files, cloexec):
        """scm_detach_fds: as many as fit get fds of ours; the rest are dropped (MSG_CTRUNC)."""
        fdmax = (self.left - CMSGHDR.size) // 4 if self.left > CMSGHDR.size else 0
        at = self.ptr + self.used
        i = 0
        for f in files[:max(fdmax, 0)]:
            try:
                fd = self.task.files.install(f, cloexec)
            except SyscallError:
                break
            try:
                self.task.mem.write(at + CMSGHDR.size + 4 * i, INT.pack(fd))
            except SyscallError:
                self.task.files.close(fd)
                break
            i += 1
        if i:
            try:
                self.task.mem.write(at, CMSGHDR.pack(CMSGHDR.size + 4 * i, SOL_SOCKET, SCM_RIGHTS))
                self._advance(CMSGHDR.size + ((4 * i + 7) & ~7))
            except SyscallError:
                pass
        if i < len(files) or (files and fdmax <= 0):
            self.flags |= MSG_CTRUNC
        drop_files(files)


def _scm_recv(task, out, sock, creds, files, cloexec):
    """scm_recv_unix: SCM_CREDENTIALS if SO_PASSCRED, then the files passed."""
    if out is None or not out.ptr:
        if sock.passcred or files:
            if out is not None:
                out.flags |= MSG_CTRUNC
        drop_files(files)
        return
    if sock.passcred:
        pid, uid, gid = creds if creds is not None else (0, OVERFLOW_ID, OVERFLOW_ID)
        out.put(SOL_SOCKET, SCM_CREDENTIALS, UCRED.pack(pid, uid, gid))
    if files:
        out.put_files(files, cloexec)


# -- creating -------------------------------------------------------------------------------
@syscall("socket", "iii")
def socket(task, family, type, protocol):
    """socket(2)."""
    kind, flags = _type_flags(type)
    if family in (AF_INET, AF_INET6):
        check(kind < SOCK_MAX, errno.EINVAL)
        f = _inet_create(task, family, kind, flags, protocol)
        return task.files.install_new(f, cloexec=bool(flags & SOCK_CLOEXEC))
    kind = _check_create(task, "socket", family, kind, protocol)
    if family == AF_NETLINK:
        f = netlink.create(task, kind, flags, protocol)
        return task.files.install_new(f, cloexec=bool(flags & SOCK_CLOEXEC))
    f = SocketFile(_new_socket(task, kind), flags)
    return task.files.install_new(f, cloexec=bool(flags & SOCK_CLOEXEC))


@syscall("socketpair", "iiiu")
def socketpair(task, family, type, protocol, sv):
    """socketpair(2): the fds are reserved and written before the sockets are made, as Linux does."""
    kind, flags = _type_flags(type)
    a, b = SocketFile(_new_socket(task, SOCK_STREAM), flags), SocketFile(_new_socket(task, SOCK_STREAM), flags)
    kind = install_pair(task, a, b, bool(flags & SOCK_CLOEXEC), sv,
                        lambda: _check_create(task, "socketpair", family, kind, protocol))
    sa, sb = a.sock, b.sock
    sa.type = sb.type = kind
    sa.peer, sb.peer = sb, sa
    sa.peercred = sb.peercred = _peercred(task)
    sa.state = sb.state = TCP_ESTABLISHED
    return 0


# -- names and connections --------------------------------------------------------------------
@syscall("bind", "iui")
def bind(task, fd, addr, addrlen):
    """bind(2): a path makes a socket inode in our VFS; a leading NUL names it in the
    abstract namespace; the family alone picks a free abstract name."""
    f = _sock(task, fd)
    data = _read_sockaddr(task, addr, addrlen)
    if _is_inet(f):
        return _inet_bind(task, f, data)
    sock = f.sock
    if len(data) == SUN_PATH and data[0] | data[1] << 8 == AF_UNIX:
        sock.autobind()
        return 0
    _validate(data)
    if not data[SUN_PATH]:
        sock.bind_abstract(bytes(data))
        return 0
    _bind_bsd(task, sock, _bsd_name(data))
    return 0


def _bind_bsd(task, sock, path):
    """unix_bind_bsd: mknod an S_IFSOCK inode (the umask applies); EEXIST is EADDRINUSE;
    a socket that is already bound takes the new name away again (EINVAL)."""
    try:
        parent, name = lookup_parent(task, AT_FDCWD, path)
        if name in (b".", b".."):
            raise SyscallError(errno.EEXIST)
        if path.endswith(b"/"):
            raise SyscallError(errno.EEXIST if namei.peek(parent, name) is not None else errno.ENOENT)
        mode = st.S_IFSOCK | (0o777 & ~task.fs.umask)
        dentry = namei.mknod(parent, name, mode, 0, task.creds)
    except SyscallError as e:
        if e.errno == errno.EEXIST:
            raise SyscallError(errno.EADDRINUSE)
        raise
    if sock.addr is not None:
        namei.unlink(parent, name, task.creds)
        raise SyscallError(errno.EINVAL)
    s = dentry.inode.stat()
    sock.bind_bsd(sockfs.UNNAMED + path + b"\0", (s.dev, s.ino))


@syscall("listen", "ii")
def listen(task, fd, backlog):
    """listen(2): the backlog is capped at net.core.somaxconn."""
    f = _sock(task, fd)
    if _is_inet(f):
        f.listen(backlog)
        return 0
    if backlog & 0xFFFFFFFF > SOMAXCONN:
        backlog = SOMAXCONN
    f.sock.listen(backlog, _peercred(task))
    return 0


@syscall("connect", "iui")
def connect(task, fd, addr, addrlen):
    """connect(2)."""
    f = task.files.get_file(fd)
    data = _read_sockaddr(task, addr, addrlen)
    if _is_netlink(f):
        return netlink.connect(task, f, data)
    if _is_inet(f):
        return _inet_connect(task, f, data)
    if not isinstance(f, SocketFile):
        raise SyscallError(errno.ENOTSOCK)
    sock = f.sock
    if sock.type == SOCK_DGRAM:
        check(len(data) >= 2, errno.EINVAL)
        if data[0] | data[1] << 8 == AF_UNSPEC:
            sock.dgram_connect(None)
            return 0
        _validate(data)
        if sock.passcred:
            sock.autobind()
        sock.dgram_connect(_finder(task, data, sock.type))
        return 0
    _validate(data)
    if sock.passcred:
        sock.autobind()
    sock.stream_connect(_finder(task, data, sock.type), _peercred(task), f.timeo(sock.sndtimeo),
                        task.timed_out(), f)
    return 0


@syscall("accept4", "iuui")
def accept4(task, fd, addr, addrlen, flags):
    """accept4(2): a connection dequeued stays taken even if its address cannot be
    given to the program (EFAULT), as in Linux."""
    check(not flags & ~(SOCK_CLOEXEC | SOCK_NONBLOCK), errno.EINVAL)
    f = _sock(task, fd)
    if _is_inet(f):
        return _inet_accept(task, f, addr, addrlen, flags)
    sock = f.sock
    new = SocketFile(sock.accept(f.timeo(sock.rcvtimeo), task.timed_out(), f), flags)
    st_ = new.sock.stat()
    st_.uid, st_.gid = task.creds.fsuid, task.creds.fsgid     # (its inode is made by accept)
    if addr:
        try:
            _put_sockaddr(task, new.sock.getname(peer=True), addr, addrlen)
        except SyscallError:
            new.release()
            raise
    return task.files.install_new(new, cloexec=bool(flags & SOCK_CLOEXEC))


@syscall("accept", "iuu")
def accept(task, fd, addr, addrlen):
    """accept(2)."""
    return accept4(task, fd, addr, addrlen, 0)


def _getname(task, fd, addr, addrlen, peer):
    f = _sock(task, fd)
    _put_sockaddr(task, f.getname(peer) if _is_inet(f) else f.sock.getname(peer), addr, addrlen)
    return 0


@syscall("getsockname", "iuu")
def getsockname(task, fd, addr, addrlen):
    """getsockname(2): an unbound socket's name is its family alone (length 2)."""
    return _getname(task, fd, addr, addrlen, False)


@syscall("getpeername", "iuu")
def getpeername(task, fd, addr, addrlen):
    """getpeername(2)."""
    return _getname(task, fd, addr, addrlen, True)


@syscall("shutdown", "ii")
def shutdown(task, fd, how):
    """shutdown(2)."""
    f = _sock(task, fd)
    check(0 <= how <= 2, errno.EINVAL)
    if _is_inet(f):
        f.shutdown(how)
        return 0
    f.sock.do_shutdown(how)
    return 0


# -- sending ----------------------------------------------------------------------------------
def _send(task, f, vec, flags, addr, files, creds, whole=True):
    """The protocol's sendmsg; files (references taken) are passed on or dropped. addr is
    the sockaddr bytes given (None: none). A blocking stream send goes on until all is
    sent, keeping its progress in task.progress across waits (whole=False: it stops at
    the first partial send, as sendmmsg does)."""
    if _is_netlink(f):
        drop_files(files)
        return netlink.send(task, f, vec, flags, addr)
    if _is_inet(f):
        drop_files(files)
        return _inet_send(task, f, vec, flags, addr, whole)
    sock = f.sock
    if f.flags & os.O_NONBLOCK:
        flags |= MSG_DONTWAIT
    timeo = f.timeo(sock.sndtimeo, flags)
    expired = task.timed_out()
    me = _skbcred(task)
    find = None
    try:
        if flags & MSG_OOB:
            raise SyscallError(errno.EOPNOTSUPP)    # (urgent data is not modelled)
        if sock.type == SOCK_STREAM:
            if addr:
                raise SyscallError(errno.EISCONN if sock.state == TCP_ESTABLISHED else errno.EOPNOTSUPP)
        elif sock.type == SOCK_SEQPACKET:
            err = sock.take_error()
            if err:
                raise SyscallError(err)
            if sock.state != TCP_ESTABLISHED:
                raise SyscallError(errno.ENOTCONN)
        elif addr:
            _validate(addr)
            find = _finder(task, addr, sock.type)
    except SyscallError:
        drop_files(files)
        raise
    if sock.type == SOCK_STREAM:
        return _stream_send(task, f, vec, flags, files, creds, me, timeo, expired, whole)
    return sock.dgram_send(vec.total, lambda: vec.read(task, 0, vec.total), flags, find, files, creds, me,
                           timeo, expired, f)


def _stream_send(task, f, vec, flags, files, creds, me, timeo, expired, whole):
    sock = f.sock
    done = task.progress
    if done:
        drop_files(files)       # they went with the first part
        files = None
    total = vec.total
    try:
        while True:
            n = min(total - done, sock.sndbuf + 65536, IO_CHUNK)    # at most what can be queued now
            data = vec.read(task, done, n)
            sent = sock.stream_send(data, flags, files, creds, me, done, timeo, expired, f)
            files = None
            done += sent
            if done >= total or timeo == 0 or (not whole and sent < n):
                break
    except WouldBlock:
        if done and not whole:
            task.progress = 0
            return done             # (sendmmsg: the rest of this message is not waited for)
        task.progress = done
        raise
    except SyscallError as e:
        task.progress = 0
        drop_files(files)
        if getattr(e, "sigpipe", False):
            task.process.kernel.send_signal(task, signal.SIGPIPE)
        if done:
            return done
        raise
    task.progress = 0
    return done


@syscall("sendto", "iuuUui")
def sendto(task, fd, buf, length, flags, addr, addrlen):
    """sendto(2) (and send(2), which is sendto without an address)."""
    vec = IoVec.one(buf, length)
    f = _sock(task, fd)
    data = _read_sockaddr(task, addr, addrlen) if addr else None
    return _send(task, f, vec, flags, data, None, None)


@syscall("sendmsg", "iuU")
def sendmsg(task, fd, msg, flags):
    """sendmsg(2)."""
    return _sendmsg(task, _sock(task, fd), msg, flags)[0]


def _sendmsg(task, f, msg, flags, whole=True):
    """(bytes sent, bytes the message has)."""
    _, addr, vec, control, controllen = _msghdr(task, msg, receiving=False)
    if _is_inet(f) and not _is_netlink(f):
        ctl = _inet_control(task, control, controllen)
        return _inet_send(task, f, vec, flags, addr, whole, ctl), vec.total
    ctl = _control(task, control, controllen)
    files, creds = _scm_send(task, ctl) if ctl else (None, None)
    return _send(task, f, vec, flags, addr, files, creds, whole), vec.total


@syscall("sendmmsg", "iuUU")
def sendmmsg(task, fd, mmsg, vlen, flags):
    """sendmmsg(2): the count sent so far survives waits in task.progress; an error
    after some is their count."""
    f = _sock(task, fd)
    vlen = min(vlen, IOV_MAX)
    count = task.progress
    task.progress = 0
    err = None
    try:
        while count < vlen:
            entry = mmsg + count * MMSGHDR_SIZE
            n, total = _sendmsg(task, f, entry, flags, whole=False)
            task.mem.write(entry + MSGHDR.size, struct.pack("<I", n))
            count += 1
            if n < total:
                break
    except WouldBlock:
        task.progress = count
        raise
    except SyscallError as e:
        err = e
    task.progress = 0
    if count or err is None:
        return count
    raise err


# -- receiving --------------------------------------------------------------------------------
class Received:
    """What one recvmsg got: its result, msg_flags to add, whose name to report, creds, files."""

    __slots__ = ("result", "flags", "sender", "creds", "files", "passcred_scm")

    def __init__(self, result, flags, sender, creds, files, passcred_scm=True):
        self.result = result
        self.flags = flags
        self.sender = sender
        self.creds = creds
        self.files = files
        self.passcred_scm = passcred_scm     # does scm_recv run (not after an empty datagram wait)


def _recv(task, f, vec, flags, whole=True):
    """The protocol's recvmsg into the program's buffers."""
    sock = f.sock
    if f.flags & os.O_NONBLOCK:
        flags |= MSG_DONTWAIT
    timeo = f.timeo(sock.rcvtimeo, flags)
    expired = task.timed_out()

    def sink(offset, data):
        return vec.write(task, offset, data)

    if sock.type == SOCK_STREAM:
        rs = task.resume if task.progress else None     # a receive parked after copying some
        task.progress = 0
        if rs is None:
            rs = RecvState()
            rs.creds = (0, 0, 0)        # (what scm_recv reports when no data came: a zeroed cookie)
        try:
            # (recvmmsg does not wait for more of a message it has begun: no progress in bytes)
            n = sock.stream_recv(vec.total, flags if whole else flags & ~MSG_WAITALL, sink, rs, timeo,
                                 expired, f, lowat=None if whole else 1)
        except WouldBlock:
            if rs.copied:
                task.progress = rs.copied
                task.resume = rs
            raise
        return Received(n, 0, rs.sender, rs.creds, rs.files)
    if sock.type == SOCK_SEQPACKET and sock.state != TCP_ESTABLISHED:
        raise SyscallError(errno.ENOTCONN)
    got = sock.dgram_recv(vec.total, flags, sink, timeo, expired, f)
    if got is None:
        return Received(0, 0, None, None, None, passcred_scm=False)
    return Received(*got)


def _name_of(sock):
    return sock.addr if sock is not None and sock.addr is not None else b""


@syscall("recvfrom", "iuuUuu")
def recvfrom(task, fd, buf, length, flags, addr, addrlen):
    """recvfrom(2) (and recv(2)): the data is taken even if the address cannot be given."""
    vec = IoVec.one(buf, length)
    f = _sock(task, fd)
    if _is_inet(f):
        result, sender, _, _ = _inet_recv(task, f, vec, flags)
        if addr:
            _put_sockaddr(task, sender, addr, addrlen)
        return result
    got = _recv(task, f, vec, flags)
    drop_files(got.files)
    if addr:
        _put_sockaddr(task, _name_of(got.sender), addr, addrlen)
    return got.result


def _recvmsg(task, f, msg, flags, whole=True, into=None):
    name, namelen, vec, control, controllen = _msghdr(task, msg, receiving=True)
    if into is not None:
        vec = _selected(vec, *into)
    if _is_inet(f):
        return _inet_recvmsg(task, f, msg, flags, name, namelen, vec, control, controllen, whole)
    got = _recv(task, f, vec, flags & ~MSG_CMSG_COMPAT, whole)
    out = ControlOut(task, control, controllen)
    out.flags = flags & MSG_CMSG_CLOEXEC
    if got.passcred_scm or got.files:
        _scm_recv(task, out, f.sock, got.creds, got.files, bool(flags & MSG_CMSG_CLOEXEC))
    if name:
        _put_sockaddr(task, _name_of(got.sender) if namelen else b"", name, msg + 8)
    task.mem.write(msg + MSGHDR_FLAGS, INT.pack(got.flags | out.flags))
    task.mem.write(msg + MSGHDR_CONTROLLEN, struct.pack("<Q", out.used))
    return got.result


def _selected(vec, addr, length):
    """io_uring's RECVMSG with a provided buffer (io_recvmsg_copy_hdr): the msghdr names
    at most one iovec (EINVAL), whose length, if any, bounds the buffer's."""
    check(len(vec.vec) <= 1, errno.EINVAL)
    return IoVec.one(addr, min(length, vec.total) if vec.vec and vec.total else length)


@syscall("recvmsg", "iuU")
def recvmsg(task, fd, msg, flags, into=None):
    """recvmsg(2): control messages as scm_recv_unix writes them. (`into`: io_uring's
    provided buffer (address, length) in place of the msghdr's iovec.)"""
    return _recvmsg(task, _sock(task, fd), msg, flags, into=into)


@syscall("recvmmsg", "iuUUu")
def recvmmsg(task, fd, mmsg, vlen, flags, timeout):
    """recvmmsg(2): waits for vlen messages (MSG_WAITFORONE: for one); the timeout is only
    looked at after each message, as Linux does; the count so far survives waits."""
    if flags & MSG_CMSG_COMPAT:
        raise SyscallError(errno.EINVAL)
    end = None
    if timeout:
        sec, nsec = TIMESPEC.unpack(task.mem.read(timeout, TIMESPEC.size))
        check(sec >= 0 and 0 <= nsec < 1_000_000_000, errno.EINVAL)
        end = task.resume if task.progress else None    # when a parked call's timeout ends
        if end is None:
            end = time.monotonic() + sec + nsec / 1e9
    f = _sock(task, fd)
    sock = f if _is_inet(f) else f.sock
    count = task.progress
    task.progress = 0
    if not count:
        err = sock.take_error()
        if err:
            raise SyscallError(err)
    error = None
    try:
        while count < vlen:
            if count and flags & MSG_WAITFORONE:
                flags |= MSG_DONTWAIT
            entry = mmsg + count * MMSGHDR_SIZE
            n = _recvmsg(task, f, entry, flags & ~MSG_WAITFORONE, whole=False)
            task.mem.write(entry + MSGHDR.size, struct.pack("<I", n))
            count += 1
            if end is not None and time.monotonic() >= end:
                break
    except WouldBlock:
        task.progress = count
        if end is not None:
            task.resume = end
        raise
    except SyscallError as e:
        error = e
    if end is not None and count:
        left = max(0.0, end - time.monotonic())
        task.mem.write(timeout, TIMESPEC.pack(int(left), int(left % 1 * 1e9)))
    if error is None:
        return count
    if not count:
        raise error
    if error.errno != errno.EAGAIN:
        sock.err = error.errno      # for the next call, as Linux keeps it
    return count


# -- options ----------------------------------------------------------------------------------
def _timeval(jiffies):
    """sock_get_timeout: (sec, usec) of a timeout in jiffies (0, 0 for none)."""
    if jiffies is None:
        return TIMEVAL.pack(0, 0)
    return TIMEVAL.pack(jiffies // sockfs.HZ, (jiffies % sockfs.HZ) * 1_000_000 // sockfs.HZ)


def _set_timeout(task, optval, optlen):
    """sock_set_timeout: the timeval in jiffies, rounded up (None: wait for ever)."""
    if optlen < TIMEVAL.size:
        raise SyscallError(errno.EINVAL)
    sec, usec = TIMEVAL.unpack(task.mem.read(optval, TIMEVAL.size))
    if usec < 0 or usec >= 1_000_000:
        raise SyscallError(errno.EDOM)
    if sec < 0:
        return 0
    if (sec or usec) and sec < MAX_SCHEDULE_TIMEOUT // sockfs.HZ - 1:
        return sec * sockfs.HZ + -(-usec // (1_000_000 // sockfs.HZ))
    return None


@syscall("setsockopt", "iiiui")
def setsockopt(task, fd, level, optname, optval, optlen):
    """setsockopt(2): the SOL_SOCKET options a unix socket has; ENOPROTOOPT for the rest."""
    f = _sock(task, fd)
    if _is_netlink(f) and level == netlink.SOL_NETLINK:
        return netlink.setsockopt(task, f, optname, optval, optlen)
    if _is_inet(f):
        return _inet_setsockopt(task, f, level, optname, optval, optlen)
    check(optlen >= 0, errno.EINVAL)
    if level != SOL_SOCKET:
        raise SyscallError(errno.EOPNOTSUPP)
    if optlen < 4:
        raise SyscallError(errno.EINVAL)
    val = INT.unpack(task.mem.read(optval, 4))[0]
    sock = f.sock
    c = task.creds
    if optname in (SO_SNDBUF, SO_SNDBUFFORCE, SO_RCVBUF, SO_RCVBUFFORCE):
        force = optname in (SO_SNDBUFFORCE, SO_RCVBUFFORCE)
        if force:
            if not c.capable(CAP_NET_ADMIN):
                raise SyscallError(errno.EPERM)
            val = max(val, 0)
        if optname in (SO_SNDBUF, SO_SNDBUFFORCE):
            if not force:
                val = min(val & 0xFFFFFFFF, sockfs.WMEM_MAX)
            val = min(val, INT_MAX // 2)
            sock.sndbuf = max(val * 2, sockfs.SOCK_MIN_SNDBUF)
            if sock.writable():
                sock.wq_out.notify()
        else:
            if not force:
                val = min(val & 0xFFFFFFFF, sockfs.RMEM_MAX)
            val = min(val, INT_MAX // 2)
            sock.rcvbuf = max(val * 2, sockfs.SOCK_MIN_RCVBUF)
    elif optname == SO_PASSCRED:
        sock.passcred = bool(val)
    elif optname == SO_DEBUG and val and not c.capable(CAP_NET_ADMIN):
        raise SyscallError(errno.EACCES)
    elif optname == SO_REUSEPORT and val:
        raise SyscallError(errno.EOPNOTSUPP)        # (only for inet sockets)
    elif optname in FLAG_OPTIONS:
        sock.options[optname] = int(bool(val))
    elif optname == SO_PRIORITY:
        if not (0 <= val <= 6 or c.capable(CAP_NET_RAW) or c.capable(CAP_NET_ADMIN)):
            raise SyscallError(errno.EPERM)
        sock.options[optname] = val
    elif optname == SO_MARK:
        if not (c.capable(CAP_NET_RAW) or c.capable(CAP_NET_ADMIN)):
            raise SyscallError(errno.EPERM)
        sock.options[optname] = val
    elif optname == SO_RCVLOWAT:
        sock.rcvlowat = (INT_MAX if val < 0 else val) or 1
    elif optname in (SO_RCVTIMEO, SO_RCVTIMEO_NEW):
        sock.rcvtimeo = _set_timeout(task, optval, optlen)
    elif optname in (SO_SNDTIMEO, SO_SNDTIMEO_NEW):
        sock.sndtimeo = _set_timeout(task, optval, optlen)
    elif optname == SO_LINGER:
        if optlen < LINGER.size:
            raise SyscallError(errno.EINVAL)
        onoff, linger = LINGER.unpack(task.mem.read(optval, LINGER.size))
        if onoff:
            sock.linger = (1, _lingertime(linger))
        else:
            sock.linger = (0, sock.linger[1])
    else:
        raise SyscallError(errno.ENOPROTOOPT)
    return 0


@syscall("getsockopt", "iiiuu")
def getsockopt(task, fd, level, optname, optval, optlen):
    """getsockopt(2): the value, cut to the length the program gives, and its length."""
    f = _sock(task, fd)
    if _is_netlink(f) and level == netlink.SOL_NETLINK:
        return netlink.getsockopt(task, f, optname, optval, optlen)
    if not _is_inet(f) and level != SOL_SOCKET:
        raise SyscallError(errno.EOPNOTSUPP)        # (sock_no_getsockopt: before the length is read)
    length = INT.unpack(task.mem.read(optlen, 4))[0]
    check(length >= 0, errno.EINVAL)
    value = sockopt_value(f, level, optname, length)[:length]
    task.mem.write(optval, value)
    task.mem.write(optlen, INT.pack(len(value)))
    return 0


def sockopt_value(f, level, optname, length):
    """A socket option's value, before getsockopt cuts it to the `length` asked (which
    SO_PEERNAME must not exceed the name by: EINVAL)."""
    if _is_inet(f):
        return _inet_sockopt_value(f, level, optname, length)
    if level != SOL_SOCKET:
        raise SyscallError(errno.EOPNOTSUPP)
    sock = f.sock
    if optname == SO_PEERCRED:
        pid, uid, gid = sock.peercred if sock.peercred is not None else (0, 0xFFFFFFFF, 0xFFFFFFFF)
        return UCRED.pack(pid, uid, gid)
    if optname == SO_PEERNAME:
        if sock.peer is None:
            raise SyscallError(errno.ENOTCONN)
        name = sock.getname(peer=True)
        check(len(name) >= length, errno.EINVAL)
        return name
    if optname in (SO_RCVTIMEO, SO_RCVTIMEO_NEW):
        return _timeval(sock.rcvtimeo)
    if optname in (SO_SNDTIMEO, SO_SNDTIMEO_NEW):
        return _timeval(sock.sndtimeo)
    if optname == SO_LINGER:
        onoff, lingertime = sock.linger
        return LINGER.pack(onoff, _s32(lingertime // sockfs.HZ))
    return INT.pack(_int_option(sock, optname))


def _lingertime(linger):
    """sock_setsockopt's SO_LINGER: l_linger seconds in jiffies (a negative one is for ever)."""
    seconds = linger & 0xFFFFFFFFFFFFFFFF if linger < 0 else linger
    return MAX_SCHEDULE_TIMEOUT if seconds >= MAX_SCHEDULE_TIMEOUT // sockfs.HZ else seconds * sockfs.HZ


def _s32(v):
    v &= 0xFFFFFFFF
    return v - (1 << 32) if v >= 1 << 31 else v


def _int_option(sock, optname):
    if optname == SO_TYPE:
        return sock.type
    if optname == SO_DOMAIN:
        return AF_UNIX
    if optname == SO_PROTOCOL:
        return 0
    if optname == SO_ERROR:
        return sock.take_error()
    if optname == SO_ACCEPTCONN:
        return int(sock.state == TCP_LISTEN)
    if optname == SO_SNDBUF:
        return sock.sndbuf
    if optname == SO_RCVBUF:
        return sock.rcvbuf
    if optname == SO_PASSCRED:
        return int(sock.passcred)
    if optname in FLAG_OPTIONS:
        return sock.options.get(optname, 0)
    if optname in (SO_PRIORITY, SO_MARK):
        return sock.options.get(optname, 0)
    if optname == SO_RCVLOWAT:
        return sock.rcvlowat
    if optname == SO_SNDLOWAT:
        return 1
    raise SyscallError(errno.ENOPROTOOPT)


# -- AF_INET and AF_INET6: host sockets the supervisor owns (vfs/inet.py) --------------------
# The model reads every address and option value once, checks what the host would not
# (capabilities, the options it lets through) and gives the host only those bytes; the
# host kernel, which is Linux, checks families and lengths as Linux does.
AF_INET, AF_INET6 = pysocket.AF_INET, pysocket.AF_INET6
IPPROTO_IP, IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP, IPPROTO_IPV6, IPPROTO_ICMPV6 = 0, 1, 6, 17, 41, 58
IPPROTO_UDPLITE, IPPROTO_MAX = 136, 263
CAP_NET_BIND_SERVICE = 10
MSG_PEEK, MSG_TRUNC, MSG_ERRQUEUE, MSG_NOSIGNAL = 0x2, 0x20, 0x2000, 0x4000
INET_SEND_FLAGS = 0x1 | 0x4 | 0x80 | 0x800 | 0x8000 | MSG_NOSIGNAL     # OOB DONTROUTE EOR CONFIRM MORE
INET_RECV_FLAGS = 0x1 | MSG_PEEK | MSG_TRUNC | MSG_ERRQUEUE             # OOB PEEK TRUNC ERRQUEUE
DGRAM_MAX = 0xFFFF          # the most a UDP datagram can carry (udp_sendmsg: EMSGSIZE past it)
V4_MAPPED = bytes(10) + b"\xff\xff"          # ::ffff:a.b.c.d
SANDBOX_V6 = (bytes(16), bytes(15) + b"\1", V4_MAPPED + bytes(4))    # ::, ::1, ::ffff:0.0.0.0

# the options set on the host as the program gives them (after the model's checks below)
SOL_TCP, SOL_IP, SOL_IPV6, SOL_ICMPV6, SOL_RAW = IPPROTO_TCP, IPPROTO_IP, IPPROTO_IPV6, IPPROTO_ICMPV6, 255
# (numbers as in the kernel's headers; observe/strace.py names them all). Not among them: those
# that take a program's pointer or fd (SO_ATTACH_FILTER, SO_ATTACH_BPF…), load host modules
# (TCP_ULP) or need a privilege the model does not check (IPsec policies, raw-only options).
SO_PREFER_BUSY_POLL, SO_BUSY_POLL_BUDGET, SO_TXTIME, SO_BINDTODEVICE, SO_BINDTOIFINDEX = 69, 70, 61, 25, 62
SO_ATTACH_BPF, SO_ATTACH_REUSEPORT_EBPF = 50, 52
IP_TRANSPARENT, IPV6_TRANSPARENT, TCP_REPAIR, TCP_CONGESTION = 19, 75, 19, 13
CLOCK_MONOTONIC = 1
INET_SET_OPTIONS = {
    SOL_SOCKET: {SO_DEBUG, SO_REUSEADDR, SO_DONTROUTE, SO_BROADCAST, SO_SNDBUF, SO_RCVBUF, SO_KEEPALIVE,
                 SO_OOBINLINE, SO_NO_CHECK, SO_PRIORITY, SO_REUSEPORT, SO_RCVLOWAT, SO_SNDBUFFORCE,
                 SO_RCVBUFFORCE, SO_MARK, 14, 16, 25, 27, 29, 34, 35, 37, 40, 41, 42, 43, 44, 45, 46, 47, 49, 50,
                 52, 53, 60, 61, 62, 63, 64, 65, 68, 69, 70, 72, 73, 74, 75, 76},
    SOL_TCP: {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 13, 14, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 27, 29, 30, 32,
              33, 34, 36, 37},
    SOL_IP: {1, 2, 3, 4, 5, 6, 7, 8, 10, 11, 12, 13, 15, 18, 19, 20, 21, 23, 24, 25, 26, 32, 33, 34, 35, 36, 37, 38,
             39, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51},
    SOL_IPV6: {1, 7, 16, 17, 18, 19, 20, 21, 23, 25, 26, 27, 28, 29, 30, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51,
               52, 62, 66, 67, 69, 72, 73, 74, 75, 76, 77, 78},
    IPPROTO_UDP: {1, 103, 104},                 # UDP_CORK UDP_SEGMENT UDP_GRO
    IPPROTO_UDPLITE: {10, 11},                  # UDPLITE_SEND_CSCOV, UDPLITE_RECV_CSCOV
    SOL_RAW: {1},                               # ICMP_FILTER
    SOL_ICMPV6: {1},                            # ICMPV6_FILTER
}
# and those only read
INET_GET_OPTIONS = {
    SOL_SOCKET: INET_SET_OPTIONS[SOL_SOCKET] | {SO_TYPE, SO_ERROR, SO_SNDLOWAT, SO_ACCEPTCONN, SO_PROTOCOL,
                                                SO_DOMAIN},
    SOL_TCP: INET_SET_OPTIONS[SOL_TCP] | {11, 26, 28},  # TCP_INFO TCP_CC_INFO TCP_SAVED_SYN
    SOL_IP: INET_SET_OPTIONS[SOL_IP] | {14},            # IP_MTU
    SOL_IPV6: INET_SET_OPTIONS[SOL_IPV6] | {24},        # IPV6_MTU
    IPPROTO_UDP: INET_SET_OPTIONS[IPPROTO_UDP],
    IPPROTO_UDPLITE: INET_SET_OPTIONS[IPPROTO_UDPLITE],
    SOL_RAW: INET_SET_OPTIONS[SOL_RAW],
    SOL_ICMPV6: INET_SET_OPTIONS[SOL_ICMPV6],
}


def _inet_create(task, family, kind, flags, protocol):
    """inet_create / inet6_create's choice of protocol: TCP, UDP and UDP-Lite are made on the host;
    raw sockets need CAP_NET_RAW; ping sockets need a group in ping_group_range."""
    if not 0 <= protocol < IPPROTO_MAX:
        raise SyscallError(errno.EINVAL)
    ping = IPPROTO_ICMP if family == AF_INET else IPPROTO_ICMPV6
    if kind == SOCK_STREAM:
        check(protocol in (IPPROTO_IP, IPPROTO_TCP), errno.EPROTONOSUPPORT)
        protocol = IPPROTO_TCP
    elif kind == SOCK_DGRAM and protocol == ping:
        _check_ping(task)
    elif kind == SOCK_DGRAM:
        check(protocol in (IPPROTO_IP, IPPROTO_UDP, IPPROTO_UDPLITE), errno.EPROTONOSUPPORT)
        protocol = protocol or IPPROTO_UDP
    elif kind == SOCK_RAW:
        check(protocol != IPPROTO_IP, errno.EPROTONOSUPPORT)
        check(_net_capable(task, CAP_NET_RAW), errno.EPERM)
    else:
        raise SyscallError(errno.ESOCKTNOSUPPORT)
    c = task.creds
    return InetSocketFile.create(family, kind, protocol, flags, c.fsuid, c.fsgid)


def _check_ping(task):
    """ping_init_sock: EACCES unless a group of ours is in net.ipv4.ping_group_range (the
    namespace's, which the sandbox's own opens to every group, as docker does)."""
    try:
        low, high = (int(v) for v in open("/proc/sys/net/ipv4/ping_group_range").read().split())
    except (OSError, ValueError):
        low, high = 1, 0
    c = task.creds
    check(any(low <= g <= high for g in (c.egid, *c.groups)), errno.EACCES)


def _unprivileged_port_start():
    try:
        return int(open("/proc/sys/net/ipv4/ip_unprivileged_port_start").read())
    except (OSError, ValueError):
        return 1024


def _inet_bind(task, f, data):
    """inet_bind / inet6_bind: a port below ip_unprivileged_port_start needs
    CAP_NET_BIND_SERVICE in the model (the host would let the supervisor have it).
    IPv4 looks at the address first (EADDRNOTAVAIL: asked of the host with port 0),
    IPv6 at the port first, as Linux does."""
    port = _bind_port(f.family, data)
    if port and port < _unprivileged_port_start() and not task.creds.capable(CAP_NET_BIND_SERVICE):
        if f.family == AF_INET:
            _probe_local(f, data)
        raise SyscallError(errno.EACCES)
    f.bind(data)
    return 0


def _bind_port(family, data):
    """The port a bind asks for, where Linux gets as far as looking at it (else 0)."""
    kind = data[0] | data[1] << 8 if len(data) >= 2 else None
    if family == AF_INET and len(data) >= 16 and (kind == AF_INET or kind == AF_UNSPEC and data[4:8] == bytes(4)):
        return data[2] << 8 | data[3]
    if family == AF_INET6 and len(data) >= 24 and kind == AF_INET6:
        return data[2] << 8 | data[3]
    return 0


def _probe_local(f, data):
    """EADDRNOTAVAIL if the host would not bind this address (with port 0)."""
    probe = InetSocketFile.create(f.family, f.type, f.protocol, 0, 0, 0)
    try:
        probe.bind(data[:2] + b"\0\0" + data[4:])
    except SyscallError as e:
        if e.errno == errno.EADDRNOTAVAIL:
            raise
    finally:
        probe.release()


def _inet_connect(task, f, data):
    """inet_stream_connect: the host connects without waiting; a blocking connect waits
    for the handshake (again after a signal restarts it) and reports SO_ERROR; a
    timeout (SO_SNDTIMEO) that runs out is EINPROGRESS. An address the sandbox's
    namespace has no route to is tried outside (_go_outside)."""
    if f.connecting and not f.nonblocking():
        return _connect_wait(task, f, data)
    _check_destination(f, data)
    try:
        f.connect(data)
    except SyscallError as e:
        if e.errno == errno.ENETUNREACH and _go_outside(task, f):
            return _inet_connect(task, f, data)
        if e.errno != errno.EINPROGRESS or f.nonblocking():
            raise
        f.connecting = True
        return _connect_wait(task, f, data)
    return 0


def _go_outside(task, f):
    """The default network mode (DESIGN §12): a socket that is not bound to an address or
    port of the sandbox's own goes on over a socket made in the host's namespace, as a
    container's connection leaves through docker's bridge. False if it may not."""
    outside = task.process.kernel.options.outside
    if outside is None or f.outside or f.bound is not None and not _unbound_address(f.family, f.bound):
        return False
    try:
        fd = outside.socket(f.family, f.type, f.protocol)
    except OSError:
        return False
    f.move(fd)
    return True


def _unbound_address(family, data):
    """Is a bind's address the wildcard with port 0 (what autobinding would choose)?"""
    if _bind_port(family, data):
        return False
    return data[4:8] == bytes(4) if family == AF_INET else data[8:24] == bytes(16)


def _check_destination(f, data):
    """A socket that went outside reaches the host's loopback, not the sandbox's: an
    address of the sandbox itself is ENETUNREACH for it (the sandbox's is private)."""
    if not f.outside or len(data) < 8:
        return
    family = data[0] | data[1] << 8
    if family == AF_INET:
        local = data[4] in (0, 127)
    elif family == AF_INET6 and len(data) >= 24:
        addr = data[8:24]
        local = addr in SANDBOX_V6 or addr.startswith(V4_MAPPED + b"\x7f")
    else:
        return
    check(not local, errno.ENETUNREACH)


def _connect_wait(task, f, data):
    """The handshake is over when the host socket is writable: connecting again then
    gives what Linux's blocking connect returns (0, or the error, which it clears)."""
    if not f.writable_now():
        if task.timed_out():
            raise SyscallError(errno.EINPROGRESS)
        timeo = f.timeo(f.sndtimeo)
        raise WouldBlock(timeout=timeo, restart=ERESTARTSYS if timeo is None else errno.EINTR,
                         recheck=RECHECK, file=f, host=f.host_waits(POLLOUT))
    f.connecting = False
    f.connect(data)
    return 0


def _inet_accept(task, f, addr, addrlen, flags):
    """inet_accept on the host's queue; waits as the listener's SO_RCVTIMEO says."""
    try:
        new, name = f.accept(flags, task.creds.fsuid, task.creds.fsgid)
    except SyscallError as e:
        if e.errno == errno.EAGAIN:
            f.block(f.timeo(f.rcvtimeo), task.timed_out(), POLLIN)
        raise
    if addr:
        try:
            _put_sockaddr(task, name, addr, addrlen)
        except SyscallError:
            new.release()
            raise
    return task.files.install_new(new, cloexec=bool(flags & SOCK_CLOEXEC))


def _inet_control(task, control, controllen):
    """The control messages of a send, read once, for the host's sendmsg to check and
    use (an inet socket never takes files or credentials from them); those that need
    a capability the host has and the caller may not are checked here first, as
    __sock_cmsg_send does (SO_MARK, SO_PRIORITY)."""
    ctl = _control(task, control, controllen)
    pos = 0
    while pos + CMSGHDR.size <= len(ctl):
        cmsg_len, level, type = CMSGHDR.unpack_from(ctl, pos)
        if cmsg_len < CMSGHDR.size or cmsg_len > len(ctl) - pos:
            break           # (the host says what a bad header is)
        if level == SOL_SOCKET and type in (SO_MARK, SO_PRIORITY) and cmsg_len >= CMSGHDR.size + 4:
            _check_socket_option(task, type, INT.unpack_from(ctl, pos + CMSGHDR.size)[0])
        pos += (cmsg_len + 7) & ~7
    return ctl


def _inet_send(task, f, vec, flags, addr, whole=True, control=b""):
    """tcp_sendmsg / udp_sendmsg through the host: a stream goes on until all is sent
    (progress in task.progress across waits); SIGPIPE with EPIPE unless MSG_NOSIGNAL,
    only when nothing was sent."""
    timeo = f.timeo(f.sndtimeo, flags)
    expired = task.timed_out()
    host_flags = flags & INET_SEND_FLAGS
    if f.type != SOCK_STREAM:
        check(vec.total <= DGRAM_MAX, errno.EMSGSIZE)
        data = vec.read(task, 0, vec.total)
        if addr:
            _check_destination(f, addr)
        try:
            return f.send_some(data, host_flags, addr, control)
        except SyscallError as e:
            if e.errno == errno.ENETUNREACH and addr and _go_outside(task, f):
                return _inet_send(task, f, vec, flags, addr, whole, control)
            if e.errno == errno.EAGAIN:
                f.block(timeo, expired, POLLOUT)
            raise
    done = task.progress
    task.progress = 0
    try:
        while True:
            n = min(vec.total - done, IO_CHUNK)
            done += f.send_some(vec.read(task, done, n), host_flags, addr, control if not done else b"")
            if done >= vec.total:
                return done
    except SyscallError as e:
        if e.errno == errno.EAGAIN and not (done and (timeo == 0 or expired or not whole)):
            task.progress = done
            f.block(timeo, expired, POLLOUT)
        if e.errno == errno.EPIPE and not done and not flags & MSG_NOSIGNAL:
            task.process.kernel.send_signal(task, signal.SIGPIPE)
        if done:
            return done
        raise


def _inet_recv(task, f, vec, flags, whole=True, control_size=0):
    """tcp_recvmsg / udp_recvmsg through the host: (result, sender's name, msg_flags, control
    messages). A stream fills the buffers with what is there (MSG_WAITALL: waits for all
    of it, progress in task.progress); bytes the program's buffers refuse stay for the
    next call. The error queue (MSG_ERRQUEUE, with IP_RECVERR) is the host's: it never waits."""
    if flags & MSG_ERRQUEUE:
        data, length, sender, msg_flags, control = f.recv_some(min(vec.total, DGRAM_MAX), flags & INET_RECV_FLAGS,
                                                               control_size)
        vec.write(task, 0, data)
        return length, sender, msg_flags, control
    stream = f.type == SOCK_STREAM
    timeo = f.timeo(f.rcvtimeo, flags)
    expired = task.timed_out()
    host_flags = flags & INET_RECV_FLAGS
    waitall = stream and whole and flags & MSG_WAITALL and not flags & MSG_PEEK
    copied = task.progress
    task.progress = 0
    while True:
        want = min(vec.total - copied, IO_CHUNK) if stream else min(vec.total, DGRAM_MAX)
        try:
            data, length, sender, msg_flags, control = f.recv_some(want, host_flags, control_size)
        except SyscallError as e:
            if e.errno == errno.EAGAIN and not (copied and (not waitall or timeo == 0 or expired)):
                task.progress = copied
                f.block(timeo, expired, POLLIN)
            if copied:
                return copied, b"", 0, b""
            raise
        control_size = 0            # (a stream's control messages come with its first bytes)
        n = vec.write(task, copied, data)
        if n < len(data):           # a datagram is lost with EFAULT (udp_recvmsg); a stream keeps the rest
            f.keep(data[n:])
            check(stream and copied + n, errno.EFAULT)
            return copied + n, sender, msg_flags, control
        if not stream:
            return length, sender, msg_flags, control
        copied += n
        if not data or copied >= vec.total or flags & MSG_PEEK or (len(data) < want and not waitall):
            return copied, sender, msg_flags, control


def _inet_setsockopt(task, f, level, optname, optval, optlen):
    """The options INET_SET_OPTIONS lets through, after sock_setsockopt's capability
    checks; SO_RCVTIMEO/SO_SNDTIMEO are the model's (its waits); SO_LINGER is kept by
    the model and only its abortive form (l_onoff 1, l_linger 0) reaches the host,
    whose close must never wait; anything else is ENOPROTOOPT."""
    check(optlen >= 0, errno.EINVAL)
    if level == SOL_SOCKET and optname in (SO_RCVTIMEO, SO_RCVTIMEO_NEW, SO_SNDTIMEO, SO_SNDTIMEO_NEW):
        value = _set_timeout(task, optval, optlen)
        if optname in (SO_RCVTIMEO, SO_RCVTIMEO_NEW):
            f.rcvtimeo = value
        else:
            f.sndtimeo = value
        return 0
    if level == SOL_SOCKET and optname == SO_LINGER:
        check(optlen >= LINGER.size, errno.EINVAL)
        onoff, linger = LINGER.unpack(task.mem.read(optval, LINGER.size))
        f.setsockopt(SOL_SOCKET, SO_LINGER, LINGER.pack(1 if onoff and linger == 0 else 0, 0))
        f.linger = (int(bool(onoff)), _lingertime(linger) if onoff else f.linger[1])
        return 0
    if optname not in INET_SET_OPTIONS.get(level, ()):
        raise SyscallError(errno.ENOPROTOOPT)
    value = task.mem.read(optval, min(optlen, inet.OPTVAL_MAX))
    if len(value) >= 4:
        _check_option(task, f, level, optname, value)
    f.setsockopt(level, optname, value)
    return 0


def _net_capable(task, *caps):
    """Has the caller one of these network capabilities? The sandbox holds them over its
    own network namespace only: with --net host, none (the host's network is not its to
    change, as a container on the host's network without CAP_NET_ADMIN)."""
    return task.process.kernel.options.new_net and any(task.creds.capable(cap) for cap in caps)


def _check_socket_option(task, optname, val):
    """sock_setsockopt's capability checks of SOL_SOCKET options (also control messages)."""
    if optname in (SO_SNDBUFFORCE, SO_RCVBUFFORCE):
        check(_net_capable(task, CAP_NET_ADMIN), errno.EPERM)
    elif optname == SO_DEBUG and val:
        check(_net_capable(task, CAP_NET_ADMIN), errno.EACCES)
    elif optname == SO_PRIORITY:
        check(0 <= val <= 6 or _net_capable(task, CAP_NET_RAW, CAP_NET_ADMIN), errno.EPERM)
    elif optname == SO_MARK:
        check(_net_capable(task, CAP_NET_RAW, CAP_NET_ADMIN), errno.EPERM)
    elif optname == SO_PREFER_BUSY_POLL and val:
        check(_net_capable(task, CAP_NET_ADMIN), errno.EPERM)
    elif optname == SO_TXTIME:
        check(val == CLOCK_MONOTONIC or _net_capable(task, CAP_NET_ADMIN), errno.EPERM)     # (its clockid)


def _check_option(task, f, level, optname, value):
    """The capability checks Linux makes of an option the host, being root, would let
    through (value: at least 4 bytes)."""
    val = INT.unpack_from(value)[0]
    if level == SOL_SOCKET:
        _check_socket_option(task, optname, val)
        if optname == SO_BUSY_POLL_BUDGET and val > _int_set(f, SOL_SOCKET, SO_BUSY_POLL_BUDGET):
            check(_net_capable(task, CAP_NET_ADMIN), errno.EPERM)
        elif optname in (SO_ATTACH_BPF, SO_ATTACH_REUSEPORT_EBPF):
            task.files.get_file(val)        # EBADF; an open file is never a BPF program here
            raise SyscallError(errno.EINVAL)
        elif optname in (SO_BINDTODEVICE, SO_BINDTOIFINDEX) and _int_of(f, SOL_SOCKET, SO_BINDTOIFINDEX):
            check(_net_capable(task, CAP_NET_RAW), errno.EPERM)     # (sock_bindtoindex: bound already)
    elif (level, optname) in ((SOL_IP, IP_TRANSPARENT), (SOL_IPV6, IPV6_TRANSPARENT)):
        check(_net_capable(task, CAP_NET_RAW, CAP_NET_ADMIN), errno.EPERM)
    elif (level, optname) == (SOL_TCP, TCP_REPAIR):
        check(_net_capable(task, CAP_NET_ADMIN), errno.EPERM)
    elif (level, optname) == (SOL_TCP, TCP_CONGESTION):
        name = value.split(b"\0", 1)[0]
        check(name in _allowed_congestion() or _net_capable(task, CAP_NET_ADMIN), errno.EPERM)


def _int_of(f, level, optname):
    return INT.unpack_from(f.getsockopt(level, optname, 4).ljust(4, b"\0"))[0]


def _int_set(f, level, optname):
    """The int the program last set an option to that cannot be read back (0 if never)."""
    return INT.unpack_from(f.host_options.get((level, optname), bytes(4)).ljust(4, b"\0"))[0]


def _allowed_congestion():
    """net.ipv4.tcp_allowed_congestion_control: what a caller without CAP_NET_ADMIN may choose."""
    try:
        return open("/proc/sys/net/ipv4/tcp_allowed_congestion_control", "rb").read().split()
    except OSError:
        return []


def _inet_sockopt_value(f, level, optname, length):
    if level == SOL_SOCKET and optname in (SO_RCVTIMEO, SO_RCVTIMEO_NEW):
        return _timeval(f.rcvtimeo)
    if level == SOL_SOCKET and optname in (SO_SNDTIMEO, SO_SNDTIMEO_NEW):
        return _timeval(f.sndtimeo)
    if level == SOL_SOCKET and optname == SO_LINGER:
        onoff, lingertime = f.linger
        return LINGER.pack(onoff, _s32(lingertime // sockfs.HZ))
    if level == SOL_SOCKET and optname == SO_ERROR:
        return INT.pack(f.take_error())
    if level == SOL_SOCKET and optname == SO_PEERNAME:
        value = f.getname(True)             # (ENOTCONN)
        check(len(value) >= length, errno.EINVAL)
        return value
    if optname in INET_GET_OPTIONS.get(level, ()):
        return f.getsockopt(level, optname, length)
    raise SyscallError(errno.ENOPROTOOPT)


def _inet_recvmsg(task, f, msg, flags, name, namelen, vec, control, controllen, whole):
    """recvmsg(2) of an inet socket: the control messages are the host's (IP_PKTINFO,
    SO_TIMESTAMP, the error queue's sock_extended_err…), which carry no fds or
    credentials, copied as they are into the program's buffer."""
    size = controllen if control else 0
    result, sender, msg_flags, ctl = _inet_recv(task, f, vec, flags & ~MSG_CMSG_COMPAT, whole, size)
    if name:
        _put_sockaddr(task, sender if namelen else b"", name, msg + 8)
    if ctl:
        task.mem.write(control, ctl)
    task.mem.write(msg + MSGHDR_FLAGS, INT.pack(msg_flags & ~MSG_CMSG_CLOEXEC))
    task.mem.write(msg + MSGHDR_CONTROLLEN, struct.pack("<Q", len(ctl)))
    return result
