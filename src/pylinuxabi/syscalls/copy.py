"""copy_file_range(2) and sendfile(2): bytes moved from one open file to another.

Argument checking in Linux's order; the bytes go through the OpenFiles'
pread/pwrite/write in bounded chunks and never through the program.
"""
import errno
import os
import stat as st

from pylinuxabi.base.abi import U64, signed64
from pylinuxabi.base.errors import SyscallError, check
from pylinuxabi.syscalls import fsize
from pylinuxabi.syscalls.fd import MAX_RW_COUNT, write_loop
from pylinuxabi.syscalls.registry import syscall
from pylinuxabi.vfs.pipe import PipeEnd
from pylinuxabi.vfs.file import MAX_LFS_FILESIZE

CHUNK = 1 << 20                 # bytes held in the supervisor at a time
U64_MASK = (1 << 64) - 1


def read_offset(task, addr):
    return signed64(U64.unpack(task.mem.read(addr, 8))[0])


def put_offset(task, addr, pos):
    """Store pos at addr; False if the store faulted."""
    return task.mem.write_some(addr, U64.pack(pos & U64_MASK)) == 8


def _wraps(pos, count):
    return (pos + count) & U64_MASK < pos & U64_MASK


def _tell(f):
    return f.lseek(0, os.SEEK_CUR)


def _copy(fin, pos_in, fout, pos_out, count):
    """pread from fin, pwrite to fout, a chunk at a time; an error after some
    bytes were copied ends the copy short, as a partial splice does."""
    done = 0
    try:
        while done < count:
            data = fin.pread(min(CHUNK, count - done), pos_in + done)
            if not data:
                break
            n = fout.pwrite(data, pos_out + done)
            done += n
            if n < len(data):
                break
    except SyscallError:
        if not done:
            raise
    return done


@syscall("copy_file_range", "iuiuuU")
def copy_file_range(task, fd_in, off_in, fd_out, off_out, count, flags):
    """copy_file_range(2): between regular files of one filesystem (generic_copy_file_checks)."""
    check(flags == 0, errno.EINVAL)
    fin = task.files.get_file(fd_in)
    fout = task.files.get_file(fd_out)
    pos_in = read_offset(task, off_in) if off_in else None
    pos_out = read_offset(task, off_out) if off_out else None
    sin, sout = fin.stat(), fout.stat()
    if st.S_ISDIR(sin.mode) or st.S_ISDIR(sout.mode):
        raise SyscallError(errno.EISDIR)
    if not st.S_ISREG(sin.mode) or not st.S_ISREG(sout.mode):
        raise SyscallError(errno.EINVAL)
    if not fin.readable or not fout.writable or fout.flags & os.O_APPEND:
        raise SyscallError(errno.EBADF)
    # one filesystem: the kernel asks for one superblock, which st_dev names
    check(sin.dev == sout.dev, errno.EXDEV)
    if pos_in is None:
        pos_in = _tell(fin)
    if pos_out is None:
        pos_out = _tell(fout)
    # offsets must not wrap, compared as the kernel does, unsigned: a negative one does
    check(not _wraps(pos_in, count) and not _wraps(pos_out, count), errno.EOVERFLOW)
    count = 0 if pos_in >= sin.size else min(count, sin.size - pos_in)
    count = fsize.check_limits(task, fout, pos_out, count)
    check(pos_out < MAX_LFS_FILESIZE, errno.EFBIG)
    count = min(count, MAX_LFS_FILESIZE - pos_out)
    if (sin.dev, sin.ino) == (sout.dev, sout.ino):
        check(not (pos_out + count > pos_in and pos_out < pos_in + count), errno.EINVAL)
    check(pos_in >= 0 and pos_out >= 0, errno.EINVAL)          # rw_verify_area
    if count == 0:
        return 0
    done = _copy(fin, pos_in, fout, pos_out, min(count, MAX_RW_COUNT))
    stored = True
    for f, addr, pos in ((fin, off_in, pos_in + done), (fout, off_out, pos_out + done)):
        if addr:
            stored &= put_offset(task, addr, pos)
        else:
            f.lseek(pos, os.SEEK_SET)
    check(stored, errno.EFAULT)         # the bytes were copied all the same
    return done


def _send(task, fin, pos, fout, count):
    """Move up to count bytes of fin, from pos, into fout as write(2) would put them.

    Into a pipe it is one write of what fits, after waiting for room if there is
    none (splice_file_to_pipe); elsewhere it goes on until count or EOF (a
    blocking socket may wait part-way: what is done is kept in task.progress
    across the waits, as write_all keeps it). EPIPE sends SIGPIPE."""
    to_pipe = isinstance(fout, PipeEnd)

    def body(p):
        while p.done < count:
            data = fin.pread(min(CHUNK, count - p.done), pos + p.done)
            if not data:
                break
            n = len(data) if fout.discards_writes else fout.write(data)
            p.done += n
            if to_pipe or n < len(data) and fout.flags & os.O_NONBLOCK:
                break
    return write_loop(task, body)


@syscall("sendfile", "iiuu")
def sendfile(task, out_fd, in_fd, offset, count):
    """sendfile(2): from a regular file into any writable file (do_sendfile)."""
    pos = read_offset(task, offset) if offset else None
    fin = task.files.get_file(in_fd)
    check(fin.readable, errno.EBADF)
    if pos is not None and not fin.seekable():
        raise SyscallError(errno.ESPIPE)
    if pos is None:
        pos = _tell(fin) if fin.seekable() else 0
    check(count <= 0x7FFFFFFFFFFFFFFF and pos >= 0, errno.EINVAL)     # rw_verify_area
    count = min(count, MAX_RW_COUNT)
    fout = task.files.get_file(out_fd)
    check(fout.writable, errno.EBADF)
    if pos + count > MAX_LFS_FILESIZE:
        check(pos < MAX_LFS_FILESIZE, errno.EOVERFLOW)
        count = MAX_LFS_FILESIZE - pos
    # a source that is not a regular file has no splice_read (directories) or is
    # refused by splice_direct_to_actor, which wants one it can seek in
    regular = st.S_ISREG(fin.stat().mode)
    if not isinstance(fout, PipeEnd):
        check(not fout.flags & os.O_APPEND, errno.EINVAL)      # do_splice_direct
        check(regular, errno.EINVAL)
    if count == 0:
        return 0
    check(regular, errno.EINVAL)
    count = fsize.write_room(task, fout, None, count)
    done = _send(task, fin, pos, fout, count)
    if offset:
        check(put_offset(task, offset, pos + done), errno.EFAULT)
    elif done:
        fin.lseek(pos + done, os.SEEK_SET)
    return done
