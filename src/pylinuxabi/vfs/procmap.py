"""PROCMAP_QUERY, the ioctl of /proc/<pid>/maps (Linux 6.11): one mapping by address.

The host answers it for the process (its own /proc/<pid>/maps, opened by the
supervisor) into buffers of ours, never at addresses the program names; the
answer is copied to the program. As /proc/<pid>/maps leaves out the reserved
range, so does the query: a mapping there is no mapping (ENOENT), or with
PROCMAP_QUERY_COVERING_OR_NEXT_VMA the query goes on past it.
"""
import ctypes
import errno
import fcntl
import os
import struct

from pylinuxabi.base.errors import SyscallError, check

PROCMAP_QUERY = 0xC0686611          # _IOWR('f', 17, struct procmap_query)
PROCMAP_QUERY_COVERING_OR_NEXT_VMA = 0x10
# struct procmap_query: size, query_flags, query_addr, vma_start, vma_end, vma_flags,
# vma_page_size, vma_offset, inode, dev_major, dev_minor, vma_name_size,
# build_id_size, vma_name_addr, build_id_addr
QUERY = struct.Struct("<9Q4I2Q")
SIZE_VER0 = 24                      # up to query_addr: what a caller must give
PATH_MAX = 4096
BUILD_ID_SIZE_MAX = 20
TAIL_LOOKED_AT = 1 << 16            # of a longer struct, the bytes checked to be zero


def _read_query(task, arg):
    """copy_struct_from_user: the caller's size, at least SIZE_VER0; bytes past ours
    must be zero (E2BIG)."""
    usize = struct.unpack("<Q", task.mem.read(arg, 8))[0]
    check(usize >= SIZE_VER0, errno.EINVAL)
    raw = task.mem.read(arg, min(usize, QUERY.size)).ljust(QUERY.size, b"\0")
    if usize > QUERY.size:
        tail = task.mem.read(arg + QUERY.size, min(usize - QUERY.size, TAIL_LOOKED_AT))
        check(not tail.strip(b"\0") and usize - QUERY.size <= TAIL_LOOKED_AT, errno.E2BIG)
    return usize, list(QUERY.unpack(raw))


def query(task, pid, hidden, arg):
    """do_procmap_query for the program: returns 0, or raises Linux's errno."""
    usize, q = _read_query(task, arg)
    name_addr, build_addr = q[13], q[14]
    name_buf = ctypes.create_string_buffer(min(q[11], PATH_MAX) if name_addr else 0)
    build_buf = ctypes.create_string_buffer(min(q[12], BUILD_ID_SIZE_MAX) if build_addr else 0)
    ours = list(q)
    ours[0] = QUERY.size
    ours[11], ours[12] = len(name_buf), len(build_buf)
    ours[13] = ctypes.addressof(name_buf) if name_addr else 0
    ours[14] = ctypes.addressof(build_buf) if build_addr else 0
    if q[11] and not name_addr or q[12] and not build_addr:
        raise SyscallError(errno.EINVAL)
    out = _host_query(pid, hidden, ours)
    if out[11]:
        task.mem.write(name_addr, name_buf.raw[:out[11]])
    if out[12]:
        task.mem.write(build_addr, build_buf.raw[:out[12]])
    out[0], out[13], out[14] = q[0], name_addr, build_addr
    task.mem.write(arg, QUERY.pack(*out)[:min(usize, QUERY.size)])
    return 0


def _host_query(pid, hidden, q):
    """The host's answer, skipping mappings of the reserved range."""
    try:
        fd = os.open(f"/proc/{pid}/maps", os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        raise SyscallError(errno.ESRCH)
    try:
        for _ in range(len(hidden) + 2):
            buf = bytearray(QUERY.pack(*q))
            try:
                fcntl.ioctl(fd, PROCMAP_QUERY, buf, True)
            except OSError as e:
                raise SyscallError(e.errno)
            out = list(QUERY.unpack(buf))
            lo, hi = out[3], out[4]
            covering = next(((a, b) for a, b in hidden if lo < b and a < hi), None)
            if covering is None:
                return out
            if not q[1] & PROCMAP_QUERY_COVERING_OR_NEXT_VMA:
                raise SyscallError(errno.ENOENT)
            q[2] = max(q[2], covering[1])
        raise SyscallError(errno.ENOENT)
    finally:
        os.close(fd)
