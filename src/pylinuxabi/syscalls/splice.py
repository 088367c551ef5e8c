"""splice(2), tee(2) and vmsplice(2): bytes moved into, out of and between pipes.

Argument checks in fs/splice.c's order; the bytes are copied (no zero-copy) through
the pipe's buffer (vfs/pipe.py), never more than the pipe holds or IO_CHUNK at once.
"""
import errno
import os
import signal
import stat as st

from pylinuxabi.base.errors import SyscallError, check
from pylinuxabi.syscalls import fsize
from pylinuxabi.syscalls.copy import put_offset, read_offset
from pylinuxabi.syscalls.fd import IO_CHUNK, MAX_RW_COUNT, fetch, read_iovec
from pylinuxabi.syscalls.registry import syscall
from pylinuxabi.vfs import fsnotify
from pylinuxabi.vfs.pipe import PipeEnd

SPLICE_F_MOVE, SPLICE_F_NONBLOCK, SPLICE_F_MORE, SPLICE_F_GIFT = 1, 2, 4, 8
SPLICE_F_ALL = SPLICE_F_MOVE | SPLICE_F_NONBLOCK | SPLICE_F_MORE | SPLICE_F_GIFT
SSIZE_MAX = (1 << 63) - 1


def _pipe_of(f):
    """get_pipe_info: the pipe of a pipe or FIFO end, else None."""
    return f.pipe if isinstance(f, PipeEnd) else None


def _can_splice(f):
    """Has the file splice_read/splice_write? Regular files, devices and sockets do;
    directories and anon files (eventfd, epoll…) do not."""
    fmt = st.S_IFMT(f.stat().mode)
    return fmt in (st.S_IFREG, st.S_IFCHR, st.S_IFBLK, st.S_IFSOCK)


def _verify_area(pos, count):
    """rw_verify_area: a count that is negative as ssize_t, a negative offset or one
    that would wrap are EINVAL."""
    check(count <= SSIZE_MAX and pos >= 0 and pos + count <= SSIZE_MAX, errno.EINVAL)


def _sigpipe(task, e):
    """EPIPE from a pipe, or a socket that says so, sends SIGPIPE (send_sig)."""
    if e.errno == errno.EPIPE and getattr(e, "sigpipe", True) is not False:
        task.process.kernel.send_signal(task, signal.SIGPIPE)


def _wait_writable(task, p, nonblock, f):
    try:
        p.wait_writable(nonblock, f)
    except SyscallError as e:
        _sigpipe(task, e)
        raise


def notify_splice(fin, fout, n):
    """fsnotify_access and fsnotify_modify after a splice or tee that moved bytes."""
    if n and fsnotify.active:
        fsnotify.file_event(fin, fsnotify.IN_ACCESS)
        fsnotify.file_event(fout, fsnotify.IN_MODIFY)
    return n


def _pipe_to_pipe(task, fin, fout, count, nonblock):
    """splice_pipe_to_pipe: what the input holds, as much as the output has room for."""
    ipipe, opipe = fin.pipe, fout.pipe
    ipipe.wait_readable(nonblock, fin)
    _wait_writable(task, opipe, nonblock, fout)
    n = min(count, len(ipipe.buffer), opipe.room())
    data = ipipe.peek(n)
    ipipe.consume(n)
    opipe.push(data)
    return n


def _pipe_to_file(task, fin, fout, pos, count, nonblock):
    """do_splice_from: waits only while the pipe is empty and has writers, then
    writes what it holds (up to count) to fout; what fout took leaves the pipe."""
    check(_can_splice(fout), errno.EINVAL)
    p = fin.pipe
    p.wait_readable(nonblock, fin)
    data = p.peek(min(count, MAX_RW_COUNT))
    if not data:
        return 0                        # no writers left
    data = data[:fsize.write_room(task, fout, pos, len(data))]
    try:
        if fout.discards_writes:
            n = len(data)
        elif fout.seekable():
            n = fout.pwrite(data, pos)
        else:
            n = fout.write(data)
    except SyscallError as e:
        _sigpipe(task, e)
        raise
    p.consume(n)
    return n


def _file_to_pipe(task, fin, fout, pos, count, nonblock):
    """splice_file_to_pipe: wait for room (wait_for_space), then one read of at most
    what fits."""
    p = fout.pipe
    _wait_writable(task, p, nonblock, fout)
    count = min(count, p.room(), MAX_RW_COUNT)
    check(_can_splice(fin), errno.EINVAL)
    if fin.seekable():
        data = fin.pread(count, pos)
    elif nonblock and not fin.flags & os.O_NONBLOCK:
        fin.flags |= os.O_NONBLOCK      # SPLICE_F_NONBLOCK: this read only
        try:
            data = fin.read(count)
        finally:
            fin.flags &= ~os.O_NONBLOCK
    else:
        data = fin.read(count)
    p.push(data)
    return len(data)


@syscall("splice", "iuiuuU")
def splice(task, fd_in, off_in, fd_out, off_out, count, flags):
    """splice(2): one side must be a pipe (EINVAL); only the other may have an offset (ESPIPE)."""
    if count == 0:
        return 0
    check(not flags & ~SPLICE_F_ALL, errno.EINVAL)
    fin = task.files.get_file(fd_in)
    fout = task.files.get_file(fd_out)
    check(not (_pipe_of(fin) and off_in) and not (_pipe_of(fout) and off_out), errno.ESPIPE)
    pos_out = read_offset(task, off_out) if off_out else None
    pos_in = read_offset(task, off_in) if off_in else None
    n, end = splice_files(task, fin, fout, pos_in, pos_out, count, flags)
    if end is not None:
        check(put_offset(task, off_in or off_out, end), errno.EFAULT)     # the bytes moved all the same
    return notify_splice(fin, fout, n)


def splice_files(task, fin, fout, pos_in, pos_out, count, flags):
    """The body of splice(2) and of io_uring's SPLICE, between open files: pos_in and
    pos_out are the offsets given (None: the file's own, which moves). Returns (bytes
    moved, where a given offset ends), fsnotify's events left to the caller."""
    ipipe, opipe = _pipe_of(fin), _pipe_of(fout)
    check(not (ipipe and pos_in is not None) and not (opipe and pos_out is not None), errno.ESPIPE)
    check(fin.readable and fout.writable, errno.EBADF)
    nonblock = flags & SPLICE_F_NONBLOCK
    if ipipe and opipe:
        check(ipipe is not opipe, errno.EINVAL)
        nonblock |= (fin.flags | fout.flags) & os.O_NONBLOCK
        return _pipe_to_pipe(task, fin, fout, count, nonblock), None
    if ipipe:
        f, pos = fout, pos_out
        check(pos is None or fout.seekable(), errno.EINVAL)        # FMODE_PWRITE
        check(not fout.flags & os.O_APPEND, errno.EINVAL)
    elif opipe:
        f, pos = fin, pos_in
        check(pos is None or fin.seekable(), errno.EINVAL)         # FMODE_PREAD
    else:
        raise SyscallError(errno.EINVAL)
    given = pos is not None
    if not given:
        pos = f.offset
    _verify_area(pos, count)
    if ipipe:
        n = _pipe_to_file(task, fin, fout, pos, count, nonblock | fin.flags & os.O_NONBLOCK)
    else:
        n = _file_to_pipe(task, fin, fout, pos, count, nonblock | fout.flags & os.O_NONBLOCK)
    if given:
        return n, pos + n
    if f.seekable():
        f.offset = pos + n
    return n, None


@syscall("tee", "iiuU")
def tee(task, fd_in, fd_out, count, flags):
    """tee(2): the input pipe's bytes copied into the output pipe, left where they are."""
    check(not flags & ~SPLICE_F_ALL, errno.EINVAL)
    if count == 0:
        return 0
    return tee_files(task, task.files.get_file(fd_in), task.files.get_file(fd_out), count, flags)


def tee_files(task, fin, fout, count, flags):
    """The body of tee(2) and of io_uring's TEE, between open files."""
    ipipe, opipe = _pipe_of(fin), _pipe_of(fout)
    check(fin.readable and fout.writable, errno.EBADF)
    check(ipipe and opipe and ipipe is not opipe, errno.EINVAL)
    nonblock = flags & SPLICE_F_NONBLOCK or (fin.flags | fout.flags) & os.O_NONBLOCK
    ipipe.wait_readable(nonblock, fin)
    _wait_writable(task, opipe, nonblock, fout)
    data = ipipe.peek(min(count, opipe.room()))
    opipe.push(data)
    return notify_splice(fin, fout, len(data))


def _to_pipe(task, f, vec, total, nonblock):
    """vmsplice_to_pipe: as much of the buffers as fits, short at the first fault."""
    p = f.pipe
    _wait_writable(task, p, nonblock, f)
    want = min(total, p.room())
    done = 0
    while done < want:
        step = min(want - done, IO_CHUNK)
        data = fetch(task, vec, done, step)
        p.push(data)
        done += len(data)
        if len(data) < step:
            break
    check(done, errno.EFAULT)
    return done


def _to_user(task, f, vec, total, nonblock):
    """vmsplice_to_user: what the pipe holds, up to total, into the buffers; the bytes
    that reached the program leave the pipe."""
    p = f.pipe
    p.wait_readable(nonblock, f)
    done = 0
    for base, length in vec:
        while length and p.buffer and done < total:
            data = p.peek(min(length, total - done, IO_CHUNK))
            n = task.mem.write_some(base, data)
            p.consume(n)
            done += n
            if n < len(data):
                check(done, errno.EFAULT)
                return done
            base += n
            length -= n
    if done and fsnotify.active:
        fsnotify.file_event(f, fsnotify.IN_ACCESS)
    return done


@syscall("vmsplice", "iuuU")
def vmsplice(task, fd, iov, nr_segs, flags):
    """vmsplice(2): into a pipe opened for writing, else out of one opened for reading;
    only SPLICE_F_NONBLOCK makes it nonblocking, not the file's O_NONBLOCK."""
    check(not flags & ~SPLICE_F_ALL, errno.EINVAL)
    f = task.files.get_file(fd)
    check(f.writable or f.readable, errno.EBADF)
    vec = read_iovec(task, iov, min(nr_segs, 1 << 31))
    total = min(sum(n for _, n in vec), MAX_RW_COUNT)
    if total == 0:
        return 0
    check(_pipe_of(f) is not None, errno.EBADF)
    nonblock = flags & SPLICE_F_NONBLOCK
    if f.writable:
        return _to_pipe(task, f, vec, total, nonblock)
    return _to_user(task, f, vec, total, nonblock)
