"""File-descriptor syscalls: read/write families, seek, dup, fcntl, ioctl, close, getdents.

Mostly argument checking; the work is the OpenFile's (vfs/file.py).
"""
import errno
import os
import signal
import struct

from pylinuxabi.base.abi import I32, IOVEC, U32
from pylinuxabi.base.creds import CAP_SYS_RESOURCE
from pylinuxabi.base.errors import SyscallError, WouldBlock, check
from pylinuxabi.syscalls.locks import LEASE_COMMANDS, LOCK_COMMANDS, fcntl_lease, fcntl_lock
from pylinuxabi.syscalls.memfd import F_ADD_SEALS, F_GET_SEALS, seals_fcntl
from pylinuxabi.syscalls import fsize, terminal
from pylinuxabi.syscalls.registry import syscall
from pylinuxabi.syscalls import sigio
from pylinuxabi.syscalls.sigio import F_NOTIFY, OWNER_COMMANDS, fcntl_notify, fcntl_owner
from pylinuxabi.vfs import fasync, fsnotify, namei
from pylinuxabi.vfs.file import O_PATH, SETFL_MASK
from pylinuxabi.vfs.inode import (FS_APPEND_FL, FS_IOC32_GETFLAGS, FS_IOC32_SETFLAGS, FS_IOC_GETFLAGS,
                                  FS_IOC_SETFLAGS)
from pylinuxabi.vfs.pipe import PipeEnd, make_pipe

MAX_RW_COUNT = 0x7FFFF000
IO_CHUNK = 1 << 20         # the most of a write's buffer we copy at once (Linux copies page by
                           # page): what we hold never grows with the length the program gives
IOV_MAX = 1024
F_DUPFD, F_GETFD, F_SETFD, F_GETFL, F_SETFL = 0, 1, 2, 3, 4
F_DUPFD_CLOEXEC = 1030
F_SETPIPE_SZ, F_GETPIPE_SZ = 1031, 1032
F_CREATED_QUERY = 1028
FD_CLOEXEC = 1
FIONREAD, FIONBIO, FIONCLEX, FIOCLEX, FIOASYNC = 0x541B, 0x5421, 0x5450, 0x5451, 0x5452
CLOSE_RANGE_UNSHARE, CLOSE_RANGE_CLOEXEC = 1 << 1, 1 << 2
RWF_SUPPORTED = 0x1F       # HIPRI | DSYNC | SYNC | NOWAIT | APPEND


def _file(task, fd):
    return task.files.get_file(fd)


def _readable(task, fd):
    f = _file(task, fd)
    f.check_readable()
    return f


def _writable(task, fd):
    f = _file(task, fd)
    f.check_writable()
    return f


def _check_dir(f):
    if f.dentry is not None and f.inode.is_dir():
        raise SyscallError(errno.EISDIR)


TASK_SIZE_MAX = (1 << 47) - 4096


def access_ok(addr, size):
    """Linux's access_ok: the range lies in user space (contents are not checked)."""
    if addr + size > TASK_SIZE_MAX:
        raise SyscallError(errno.EFAULT)


def copy_out(task, f, buf, data):
    """Give read data to the program: a fault part-way makes a short read (EFAULT if none)."""
    n = task.mem.write_some(buf, data)
    if n < len(data):
        f.unread(len(data) - n)
        if n == 0:
            raise SyscallError(errno.EFAULT)
    return n


def read_iovec(task, iov, iovcnt):
    """[(base, len)] of a struct iovec array, checked as Linux's import_iovec does."""
    if iovcnt < 0 or iovcnt > IOV_MAX:
        raise SyscallError(errno.EINVAL)
    raw = task.mem.read(iov, iovcnt * IOVEC.size)
    vec = [IOVEC.unpack_from(raw, i * IOVEC.size) for i in range(iovcnt)]
    total = 0
    for base, n in vec:
        if n > 0x7FFFFFFFFFFFFFFF:
            raise SyscallError(errno.EINVAL)
        access_ok(base, n)
        total += n
    if total > 0x7FFFFFFFFFFFFFFF:
        raise SyscallError(errno.EINVAL)
    return vec


def scatter(task, f, vec, data):
    """Copy data into the iovec buffers in order, stopping at a fault; returns the count."""
    pos = 0
    for base, n in vec:
        if pos >= len(data):
            break
        chunk = data[pos:pos + n]
        done = task.mem.write_some(base, chunk)
        pos += done
        if done < len(chunk):
            break
    if pos < len(data):
        f.unread(len(data) - pos)
        if pos == 0:
            raise SyscallError(errno.EFAULT)
    return pos


def gather(task, vec):
    """The bytes the iovec buffers hold, capped at MAX_RW_COUNT."""
    out = bytearray()
    for base, n in vec:
        n = min(n, MAX_RW_COUNT - len(out))
        out += task.mem.read(base, n)
    return bytes(out)


def fetch(task, vec, offset, n):
    """Up to n bytes of the buffers vec from offset: short at the first fault."""
    out = []
    for base, length in vec:
        if n <= 0:
            break
        if offset >= length:
            offset -= length
            continue
        take = min(length - offset, n)
        got = task.mem.read_some(base + offset, take)
        out.append(got)
        n -= len(got)
        if len(got) < take:
            break
        offset = 0
    return b"".join(out)


class _NoUnread:
    """positional reads leave the file offset alone, whatever reached the program"""

    @staticmethod
    def unread(n):
        pass


def _count(vec):
    return min(sum(n for _, n in vec), MAX_RW_COUNT)


def _accessed(f, n, always=False):
    """IN_ACCESS after a read that returned data (vfs_read), or after any readv (vfs_readv)."""
    if fsnotify.active and (n or always):
        fsnotify.file_event(f, fsnotify.IN_ACCESS)
    return n


def _modified(f, n):
    """IN_MODIFY after a write that wrote something (vfs_write, vfs_writev)."""
    if fsnotify.active and n:
        fsnotify.file_event(f, fsnotify.IN_MODIFY)
    return n


@syscall("read", "iuu")
def read(task, fd, buf, count):
    """read(2)."""
    f = _readable(task, fd)
    _check_dir(f)
    check(f.has_read, errno.EINVAL)
    access_ok(buf, count)
    if f.tty_rdev is not None and terminal.is_lent(task, f):
        return terminal.host_io(task, f, False)
    if count == 0 and not f.sized_records:
        return 0
    n = copy_out(task, f, buf, f.read(min(count, MAX_RW_COUNT)))
    if n and fsnotify.active:
        fsnotify.file_event(f, fsnotify.IN_ACCESS)
    return n


class Progress:
    """What a write loop has written so far (it survives a wait in task.progress)."""

    __slots__ = ("done",)


def write_loop(task, body, *args):
    """Run body(progress, *args), a loop that writes and adds to progress.done, as write(2)
    runs: a wait keeps what is done in task.progress for the retry; EPIPE sends the
    thread SIGPIPE; EPIPE or EAGAIN after a partial write is the partial count."""
    p = Progress()
    p.done = task.progress
    try:
        body(p, *args)
    except WouldBlock:
        task.progress = p.done
        raise
    except SyscallError as e:
        task.progress = 0
        # a pipe always sends SIGPIPE with EPIPE; a socket says whether it does
        # (stream sockets only, and only when nothing of this call was sent)
        sigpipe = getattr(e, "sigpipe", None)
        if e.errno == errno.EPIPE and (sigpipe is None or sigpipe and not p.done):
            task.process.kernel.send_signal(task, signal.SIGPIPE)
        if p.done and e.errno in (errno.EPIPE, errno.EAGAIN):
            return p.done
        raise
    task.progress = 0
    return p.done


def write_all(task, f, data):
    """Write data to f as write(2) does: a blocking write to a pipe goes on until
    all of it is written, waiting as needed; a nonblocking one returns what fit."""
    return write_loop(task, _write_rest, f, data)


def _write_rest(p, f, data):
    while True:
        p.done += f.write(data[p.done:])
        if p.done >= len(data) or f.flags & os.O_NONBLOCK:
            break


def write_user(task, f, vec, count):
    """Write count bytes of the program's buffers vec to f as write(2) and writev(2) do,
    IO_CHUNK bytes at a time (re-read from the program after a wait, as Linux copies
    as it goes); a fault or an error after some is written is the count written. A
    file with whole_writes takes all of it as one message."""
    if f.whole_writes:
        return write_loop(task, _write_message, f, count, lambda: gather(task, vec))
    return write_loop(task, _write_chunks, task, f, vec, count)


def _write_message(p, f, count, fetch_all):
    p.done += f.write_message(count, fetch_all)


def _write_chunks(p, task, f, vec, count):
    while p.done < count:
        want = min(count - p.done, IO_CHUNK)
        data = fetch(task, vec, p.done, want)
        if not data:
            if p.done:
                return
            raise SyscallError(errno.EFAULT)
        try:
            n = f.write(data)
        except SyscallError as e:
            if p.done and e.errno not in (errno.EPIPE, errno.EAGAIN):
                return          # (write_loop's rules for these two)
            raise
        p.done += n
        if n == 0 or n < len(data) and f.flags & os.O_NONBLOCK or n == len(data) < want:
            return


def pwrite_user(task, f, vec, count, offset):
    """pwrite(2) and pwritev(2) of count bytes of vec at offset, IO_CHUNK bytes at a time."""
    done = 0
    while done < count:
        want = min(count - done, IO_CHUNK)
        data = fetch(task, vec, done, want)
        if not data:
            if done:
                break
            raise SyscallError(errno.EFAULT)
        try:
            n = f.pwrite(data, offset + done)
        except SyscallError:
            if done:
                break
            raise
        done += n
        if n < want:
            break
    return done


@syscall("write", "iuu")
def write(task, fd, buf, count):
    """write(2)."""
    f = _writable(task, fd)
    check(f.has_write, errno.EINVAL)
    access_ok(buf, count)
    if f.tty_rdev is not None and terminal.is_lent(task, f):
        return terminal.host_io(task, f, True)
    if f.write_record is not None and count != f.write_record:
        raise SyscallError(errno.EINVAL)        # (before the data is read)
    count = fsize.write_room(task, f, None, min(count, MAX_RW_COUNT))
    if f.discards_writes:
        n = count
    elif count <= IO_CHUNK and not f.whole_writes:
        n = write_all(task, f, task.mem.read(buf, count) if count else b"")
    else:
        n = write_user(task, f, [(buf, count)], count)
    if n and fsnotify.active:
        fsnotify.file_event(f, fsnotify.IN_MODIFY)
    return n


@syscall("pread64", "iuul")
def pread64(task, fd, buf, count, offset):
    """pread64(2)."""
    check(offset >= 0, errno.EINVAL)
    f = _readable(task, fd)
    _check_dir(f)
    access_ok(buf, count)
    data = f.pread(min(count, MAX_RW_COUNT), offset)
    n = task.mem.write_some(buf, data)
    if n == 0 and data:
        raise SyscallError(errno.EFAULT)
    return _accessed(f, n)


@syscall("pwrite64", "iuul")
def pwrite64(task, fd, buf, count, offset):
    """pwrite64(2)."""
    check(offset >= 0, errno.EINVAL)
    f = _writable(task, fd)
    access_ok(buf, count)
    count = fsize.write_room(task, f, offset, min(count, MAX_RW_COUNT))
    if f.discards_writes:
        return _modified(f, count)
    if count > IO_CHUNK:
        return _modified(f, pwrite_user(task, f, [(buf, count)], count, offset))
    return _modified(f, f.pwrite(task.mem.read(buf, count) if count else b"", offset))


def _preadv(task, fd, iov, iovcnt, offset, flags=0):
    f = _readable(task, fd)
    check(offset != -1 or f.has_read, errno.EINVAL)         # (readv: before the iovecs are read)
    vec = read_iovec(task, iov, iovcnt)
    check(not flags & ~RWF_SUPPORTED, errno.EOPNOTSUPP)
    _check_dir(f)
    if offset == -1 and f.tty_rdev is not None and terminal.is_lent(task, f):
        return terminal.host_io(task, f, False)
    count = _count(vec)
    if offset == -1:
        return _accessed(f, scatter(task, f, vec, f.read(count) if count else b""), always=True)
    check(offset >= 0, errno.EINVAL)
    data = f.pread(count, offset) if count else b""
    n = scatter(task, _NoUnread, vec, data)
    return _accessed(f, n, always=True)


def _pwritev(task, fd, iov, iovcnt, offset, flags=0):
    f = _writable(task, fd)
    check(offset != -1 or f.has_write, errno.EINVAL)
    vec = read_iovec(task, iov, iovcnt)
    check(not flags & ~RWF_SUPPORTED, errno.EOPNOTSUPP)
    if offset == -1 and f.tty_rdev is not None and terminal.is_lent(task, f):
        return terminal.host_io(task, f, True)
    if f.discards_writes:
        return _modified(f, _count(vec))
    if offset == -1 and f.write_record is not None:
        return _modified(f, write_loop(task, _write_records, task, f, vec))
    count = fsize.write_room(task, f, None if offset == -1 else offset, _count(vec))
    if count > IO_CHUNK:
        if offset == -1:
            return _modified(f, write_user(task, f, vec, count))
        check(offset >= 0, errno.EINVAL)
        return _modified(f, pwrite_user(task, f, vec, count, offset))
    data = gather(task, vec)[:count]
    if not data:
        return 0
    if offset == -1:
        return _modified(f, write_all(task, f, data))
    check(offset >= 0, errno.EINVAL)
    return _modified(f, f.pwrite(data, offset))


def _write_records(p, task, f, vec):
    """writev to a file that takes one record per write (eventfd): each iovec is one
    write, as do_loop_readv_writev makes them; an error after some is their count."""
    skip = p.done                       # written before a wait
    try:
        for base, n in vec:
            if skip >= n:
                skip -= n
                continue
            if n != f.write_record:
                raise SyscallError(errno.EINVAL)
            p.done += f.write(task.mem.read(base, n))
    except SyscallError:
        if not p.done:
            raise


@syscall("readv", "iui")
def readv(task, fd, iov, iovcnt):
    """readv(2)."""
    return _preadv(task, fd, iov, iovcnt, -1)


@syscall("writev", "iui")
def writev(task, fd, iov, iovcnt):
    """writev(2)."""
    return _pwritev(task, fd, iov, iovcnt, -1)


@syscall("preadv", "iuill")
def preadv(task, fd, iov, iovcnt, pos_l, pos_h):
    """preadv(2): the offset comes split in two registers (only pos_l matters on 64-bit)."""
    check(pos_l >= 0, errno.EINVAL)
    return _preadv(task, fd, iov, iovcnt, pos_l)


@syscall("pwritev", "iuill")
def pwritev(task, fd, iov, iovcnt, pos_l, pos_h):
    """pwritev(2)."""
    check(pos_l >= 0, errno.EINVAL)
    return _pwritev(task, fd, iov, iovcnt, pos_l)


@syscall("preadv2", "iuilli")
def preadv2(task, fd, iov, iovcnt, pos_l, pos_h, flags):
    """preadv2(2): offset -1 means the file offset."""
    check(pos_l >= -1, errno.EINVAL)
    return _preadv(task, fd, iov, iovcnt, pos_l, flags)


@syscall("pwritev2", "iuilli")
def pwritev2(task, fd, iov, iovcnt, pos_l, pos_h, flags):
    """pwritev2(2)."""
    check(pos_l >= -1, errno.EINVAL)
    return _pwritev(task, fd, iov, iovcnt, pos_l, flags)


@syscall("lseek", "ili")
def lseek(task, fd, offset, whence):
    """lseek(2)."""
    f = _file(task, fd)
    check(0 <= whence <= os.SEEK_HOLE, errno.EINVAL)
    return f.lseek(offset, whence)


@syscall("close", "i")
def close(task, fd):
    """close(2)."""
    task.files.close(fd)
    return 0


@syscall("close_range", "UUU")
def close_range(task, first, last, flags):
    """close_range(2)."""
    check(not flags & ~(CLOSE_RANGE_UNSHARE | CLOSE_RANGE_CLOEXEC), errno.EINVAL)
    check(first <= last, errno.EINVAL)
    if flags & CLOSE_RANGE_UNSHARE:
        task.process.files = task.files.unshare()     # a table shared by CLONE_FILES becomes our own
    task.files.close_range(first, last, only_cloexec=bool(flags & CLOSE_RANGE_CLOEXEC))
    return 0


@syscall("dup", "i")
def dup(task, fd):
    """dup(2)."""
    return task.files.install(task.files.get(fd))


@syscall("dup2", "ii")
def dup2(task, oldfd, newfd):
    """dup2(2): same fd is a no-op that still checks oldfd."""
    f = task.files.get(oldfd)
    if oldfd == newfd:
        return newfd
    task.files.install_at(newfd, f)
    return newfd


@syscall("dup3", "iii")
def dup3(task, oldfd, newfd, flags):
    """dup3(2)."""
    check(not flags & ~os.O_CLOEXEC, errno.EINVAL)
    check(oldfd != newfd, errno.EINVAL)
    f = task.files.get(oldfd)
    task.files.install_at(newfd, f, cloexec=bool(flags & os.O_CLOEXEC))
    return newfd


@syscall("fcntl", "iiu")
def fcntl(task, fd, cmd, arg):
    """fcntl(2): descriptor and status flags here, record locks and leases in
    syscalls/locks.py, the file's owner and dnotify in syscalls/sigio.py."""
    files = task.files
    f = files.get(fd)
    if cmd in (F_DUPFD, F_DUPFD_CLOEXEC):
        lowest = arg & 0xFFFFFFFF
        check(lowest < files.limit, errno.EINVAL)
        return files.install(f, cloexec=cmd == F_DUPFD_CLOEXEC, lowest=lowest)
    if cmd == F_GETFD:
        return FD_CLOEXEC if fd in files.cloexec else 0
    if cmd == F_SETFD:
        if arg & FD_CLOEXEC:
            files.cloexec.add(fd)
        else:
            files.cloexec.discard(fd)
        return 0
    if cmd == F_GETFL:
        return f.flags if f.getfl_cloexec else f.flags & ~os.O_CLOEXEC
    if cmd == F_SETFL:
        if f.flags & O_PATH:
            raise SyscallError(errno.EBADF)
        if (arg ^ f.flags) & os.O_APPEND and f.inode.attr_flags & FS_APPEND_FL:
            raise SyscallError(errno.EPERM)     # setfl: an append-only file stays O_APPEND
        if arg & os.O_NOATIME and not f.flags & os.O_NOATIME and not namei.owner_or_capable(f.inode, task.creds):
            raise SyscallError(errno.EPERM)     # setfl: as open, only the owner may stop atime
        if arg & os.O_DIRECT and not f.supports_direct:
            raise SyscallError(errno.EINVAL)
        if (arg ^ f.flags) & os.O_ASYNC and f.has_fasync:
            _set_async(task, f, fd, arg & os.O_ASYNC)
        f.flags = (f.flags & ~SETFL_MASK) | (arg & SETFL_MASK)
        return 0
    if cmd in LOCK_COMMANDS:
        return fcntl_lock(task, f, cmd, arg)
    if cmd in OWNER_COMMANDS:
        return fcntl_owner(task, f, cmd, arg)
    if cmd in LEASE_COMMANDS:
        return fcntl_lease(task, f, fd, cmd, arg)
    if cmd == F_NOTIFY:
        return fcntl_notify(task, f, fd, arg)
    if cmd == F_CREATED_QUERY:
        return 1 if f.created else 0        # FMODE_CREATED: this open made the file
    if cmd in (F_ADD_SEALS, F_GET_SEALS):
        return seals_fcntl(f, cmd, arg)
    if cmd in (F_SETPIPE_SZ, F_GETPIPE_SZ):
        if not isinstance(f, PipeEnd):
            raise SyscallError(errno.EBADF)
        if cmd == F_GETPIPE_SZ:
            return f.pipe.capacity
        return f.pipe.resize(arg & 0xFFFFFFFF, privileged=task.creds.capable(CAP_SYS_RESOURCE))
    raise SyscallError(errno.EINVAL)


@syscall("ioctl", "iUu")
def ioctl(task, fd, request, arg):
    """ioctl(2): the fd-table requests here, the rest by the file."""
    f = task.files.get(fd)
    if f.flags & O_PATH:
        raise SyscallError(errno.EBADF)
    if request == FIOCLEX:
        task.files.cloexec.add(fd)
        return 0
    if request == FIONCLEX:
        task.files.cloexec.discard(fd)
        return 0
    if request == FIONBIO:
        on = I32.unpack(task.mem.read(arg, 4))[0]
        f.flags = f.flags | os.O_NONBLOCK if on else f.flags & ~os.O_NONBLOCK
        return 0
    if request == FIOASYNC:
        on = I32.unpack(task.mem.read(arg, 4))[0]
        if bool(on) != bool(f.flags & os.O_ASYNC):
            check(f.has_fasync, errno.ENOTTY)       # ioctl_fioasync: no fasync operation
            _set_async(task, f, fd, on)
        return 0
    if request == FIONREAD:
        if f.dentry is not None and f.inode.is_dir():
            raise SyscallError(errno.ENOTTY)
        n = f.fionread()
        task.mem.write(arg, I32.pack(max(min(n, 0x7FFFFFFF), -0x80000000)))
        return 0
    if f.tty_rdev is not None and terminal.is_lent(task, f):
        return terminal.host_ioctl(task, request, arg)
    if request in FLAGS_IOCTLS:
        return _inode_flags(task, f, request, arg)
    result, out = f.ioctl(request, arg, task)
    if out is not None:
        task.mem.write(arg, out)
    return result


def _set_async(task, f, fd, on):
    """The file's fasync operation: O_ASYNC on (signals to its owner) or off."""
    fasync.set_async(f, on, sigio.notifier(task, f, fd))
    f.flags = f.flags | os.O_ASYNC if on else f.flags & ~os.O_ASYNC


FLAGS_IOCTLS = {FS_IOC_GETFLAGS, FS_IOC32_GETFLAGS, FS_IOC_SETFLAGS, FS_IOC32_SETFLAGS}


def _inode_flags(task, f, request, arg):
    """FS_IOC_GETFLAGS and FS_IOC_SETFLAGS (lsattr, chattr): an int of inode flags,
    whatever the request's size says, kept by the inode's filesystem."""
    if request in (FS_IOC_GETFLAGS, FS_IOC32_GETFLAGS):
        task.mem.write(arg, U32.pack(f.inode.fileattr_get()))
        return 0
    flags = U32.unpack(task.mem.read(arg, 4))[0]
    namei.set_flags(f.dentry, f.inode, flags, task.creds)
    return 0


POSIX_FADV_NOREUSE = 5


@syscall("fadvise64", "illi")
def fadvise64(task, fd, offset, length, advice):
    """fadvise64(2): advice changes no result, but its arguments are checked."""
    f = _file(task, fd)
    if not f.seekable():
        raise SyscallError(errno.ESPIPE)
    check(0 <= advice <= POSIX_FADV_NOREUSE and length >= 0, errno.EINVAL)
    return 0


@syscall("pipe2", "ui")
def pipe2(task, fds, flags):
    """pipe2(2)."""
    check(not flags & ~(os.O_CLOEXEC | os.O_NONBLOCK | os.O_DIRECT), errno.EINVAL)
    access_ok(fds, 8)
    r, w = make_pipe(bool(flags & os.O_NONBLOCK), task.creds.fsuid, task.creds.fsgid)
    install_pair(task, r, w, bool(flags & os.O_CLOEXEC), fds)
    return 0


def install_pair(task, a, b, cloexec, addr, then=lambda: None):
    """Give two new files fds and write those (two ints) at addr, as pipe2 and socketpair
    do; then() runs last, and its result is returned. If anything fails, neither fd stays."""
    files = task.files
    fd1 = files.install_new(a, cloexec)
    try:
        fd2 = files.install_new(b, cloexec)
    except SyscallError:
        files.close(fd1)
        raise
    try:
        task.mem.write(addr, I32.pack(fd1) + I32.pack(fd2))
        return then()
    except SyscallError:
        files.close(fd1)
        files.close(fd2)
        raise


@syscall("pipe", "u")
def pipe(task, fds):
    """pipe(2)."""
    return pipe2(task, fds, 0)


def _read_dir(task, fd, dirp, count, records=bytes):
    """getdents64 and getdents: what fits of the directory's entries, as records()
    makes them of linux_dirent64 ones."""
    f = _file(task, fd)
    if f.dentry is None or not f.inode.is_dir():
        raise SyscallError(errno.ENOTDIR)
    access_ok(dirp, count)
    pos = f.lseek(0, os.SEEK_CUR)
    data = records(f.getdents64(count))
    if task.mem.write_some(dirp, data) < len(data):
        f.lseek(pos, os.SEEK_SET)       # nothing was consumed
        raise SyscallError(errno.EFAULT)
    return _accessed(f, len(data), always=True)        # (iterate_dir: even at the end)


@syscall("getdents64", "iuU")
def getdents64(task, fd, dirp, count):
    """getdents64(2)."""
    return _read_dir(task, fd, dirp, count)


DIRENT64_HEAD = struct.Struct("<QqHB")      # d_ino, d_off, d_reclen, d_type (then d_name)
DIRENT_HEAD = struct.Struct("<QQH")         # d_ino, d_off, d_reclen (d_name, then d_type last)


def dirents_from_dirents64(data):
    """linux_dirent records for linux_dirent64 ones: each is as long (both round
    19 + the name + its NUL up to 8 bytes), the name one byte earlier and d_type
    in the record's last byte, as filldir writes them."""
    out = bytearray(len(data))
    pos = 0
    while pos < len(data):
        ino, off, reclen, dtype = DIRENT64_HEAD.unpack_from(data, pos)
        name = data[pos + DIRENT64_HEAD.size:pos + reclen].split(b"\0", 1)[0]
        DIRENT_HEAD.pack_into(out, pos, ino, off & 0xFFFFFFFFFFFFFFFF, reclen)
        out[pos + DIRENT_HEAD.size:pos + DIRENT_HEAD.size + len(name)] = name
        out[pos + reclen - 1] = dtype
        pos += reclen
    return bytes(out)


@syscall("getdents", "iuU")
def getdents(task, fd, dirp, count):
    """getdents(2): the old struct linux_dirent, over getdents64's directory reading."""
    return _read_dir(task, fd, dirp, count, dirents_from_dirents64)
