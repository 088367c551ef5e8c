"""Tests for the strace-style formatter and the x86-64 syscall name table.

Expected lines were checked against strace 6.1 on x86-64 (addresses made up).
"""

import os
import re
import struct

import pytest

from pylinuxabi.base.names import SYSCALL_NAMES, SYSCALL_NUMBERS
from pylinuxabi.observe.strace import (
    begin_call,
    format_args,
    format_call,
    format_exit,
    format_result,
    quote_bytes,
)

UNISTD_64 = "/usr/include/x86_64-linux-gnu/asm/unistd_64.h"
NR = SYSCALL_NUMBERS
U64 = (1 << 64) - 1


def neg(v):
    """A negative int as the unsigned 64-bit register value."""
    return v & U64


class FakeMemory:
    """Sparse tracee memory; reads that touch an unmapped byte fault (None)."""

    def __init__(self):
        self.bytes = {}

    def put(self, addr, data):
        for i, b in enumerate(data):
            self.bytes[addr + i] = b
        return addr

    def read_bytes(self, addr, n):
        try:
            return bytes(self.bytes[addr + i] for i in range(n))
        except KeyError:
            return None

    def read_string(self, addr, max_len):
        out = bytearray()
        for i in range(max_len):
            b = self.bytes.get(addr + i)
            if b is None:
                return None if not out else bytes(out)
            if b == 0:
                break
            out.append(b)
        return bytes(out)


@pytest.fixture
def mem():
    return FakeMemory()


def call(mem, name, args=(), result=0, **kw):
    args = tuple(args) + (0,) * (6 - len(args))
    return format_call(NR[name], args, result, mem.read_string, mem.read_bytes, **kw)


def cstr(s):
    return s.encode() + b"\0"


# --------------------------------------------------------------------------
# The examples of the spec
# --------------------------------------------------------------------------

def test_openat(mem):
    path = mem.put(0x1000, cstr("/etc/passwd"))
    assert (call(mem, "openat", (neg(-100), path, 0o2000000), 3)
            == 'openat(AT_FDCWD, "/etc/passwd", O_RDONLY|O_CLOEXEC) = 3')


def test_read_shows_result_bytes_cut_at_32(mem):
    passwd = b"root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1::/:/bin/sh\n"
    buf = mem.put(0x2000, passwd + bytes(4096))
    assert (call(mem, "read", (3, buf, 4096), 1234)
            == 'read(3, "root:x:0:0:root:/root:/bin/bash\\n"..., 4096) = 1234')


def test_open_enoent(mem):
    path = mem.put(0x1000, cstr("/nonexistent"))
    assert (call(mem, "open", (path, 0), -2)
            == 'open("/nonexistent", O_RDONLY) = -1 ENOENT (No such file or directory)')


def test_close_ebadf(mem):
    assert call(mem, "close", (99,), -9) == "close(99) = -1 EBADF (Bad file descriptor)"


def test_no_arguments(mem):
    assert call(mem, "getuid", (), 0) == "getuid() = 0"


def test_mmap_anonymous(mem):
    assert (call(mem, "mmap", (0, 8192, 3, 0x22, neg(-1), 0), 0x7F12345000)
            == "mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0)"
               " = 0x7f12345000")


def test_brk(mem):
    assert call(mem, "brk", (0,), 0x55D1C000) == "brk(NULL) = 0x55d1c000"
    assert call(mem, "brk", (0x1000,), 0x55D1C000) == "brk(0x1000) = 0x55d1c000"


def test_exit_group_does_not_return(mem):
    assert call(mem, "exit_group", (0,), None) == "exit_group(0) = ?"
    assert call(mem, "exit", (0xFFFFFFF,), None) == "exit(268435455) = ?"


def test_unknown_syscall(mem):
    line = format_call(500, (1, 2, 3, 4, 5, 6), -38, mem.read_string, mem.read_bytes)
    assert line == ("syscall_0x1f4(0x1, 0x2, 0x3, 0x4, 0x5, 0x6)"
                    " = -1 ENOSYS (Function not implemented)")
    line = format_call(500, (1, 0, 0, 0, 0, 0), -38, mem.read_string, mem.read_bytes)
    assert line.startswith("syscall_0x1f4(0x1, 0, 0, 0, 0, 0)")


def test_align_like_strace(mem):
    assert call(mem, "close", (3,), 0, align=True) == "close(3)" + " " * 32 + "= 0"
    long_line = call(mem, "mmap", (0, 8192, 3, 0x22, neg(-1), 0), 0x7F12345000, align=True)
    assert " = 0x7f12345000" in long_line


# --------------------------------------------------------------------------
# Strings and buffers
# --------------------------------------------------------------------------

def test_quote_escapes_like_strace():
    assert quote_bytes(b"\0\0001\n\r\v\f\a\b\x1b\xff\0") == r'"\0\0001\n\r\v\f\7\10\33\377\0"'
    assert quote_bytes(b'a"b\\c\td') == r'"a\"b\\c\td"'
    assert quote_bytes(b"\x01\x7f\xc3\xa9 \x010 \x019") == r'"\1\177\303\251 \0010 \19"'
    assert quote_bytes(b"\x75\x30\x0f", force_hex=True) == r'"\x75\x30\x0f"'


def test_write_buffer_from_count(mem):
    data = b'hello\tworld\n"q" \\ \x01\x7f\xc3\xa9 \x010 \x019 end'
    buf = mem.put(0x3000, data)
    assert (call(mem, "write", (3, buf, 33), 33)
            == r'write(3, "hello\tworld\n\"q\" \\ \1\177\303\251 \0010 \19 end"..., 33) = 33')
    buf = mem.put(0x4000, b"0123456789" * 4)
    assert (call(mem, "write", (3, buf, 32), 32)
            == 'write(3, "01234567890123456789012345678901", 32) = 32')
    assert (call(mem, "write", (3, buf, 0), 0) == 'write(3, "", 0) = 0')
    # The data is shown even when the call fails.
    assert (call(mem, "write", (99, buf, 3), -9)
            == 'write(99, "012", 3) = -1 EBADF (Bad file descriptor)')


def test_buffers_that_cannot_be_read_show_the_address(mem):
    assert (call(mem, "write", (99, 0x1234, 10), -9)
            == "write(99, 0x1234, 10) = -1 EBADF (Bad file descriptor)")
    assert (call(mem, "read", (99, 0x1234, 10), -9)
            == "read(99, 0x1234, 10) = -1 EBADF (Bad file descriptor)")
    assert (call(mem, "openat", (neg(-100), 0x10, 0), -14)
            == "openat(AT_FDCWD, 0x10, O_RDONLY) = -1 EFAULT (Bad address)")


def test_read_eof_and_pread(mem):
    buf = mem.put(0x2000, b"\6\0\0\0\4\0\0\0@" + bytes(800))
    assert call(mem, "read", (3, buf, 4096), 0) == 'read(3, "", 4096) = 0'
    assert (call(mem, "pread64", (3, buf, 784, 64), 784)
            == r'pread64(3, "\6\0\0\0\4\0\0\0@\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0"...,'
               " 784, 64) = 784")


def test_paths_are_not_cut_but_other_strings_are(mem):
    long = "0123456789" * 7
    path = mem.put(0x1000, cstr(long))
    assert call(mem, "open", (path, 0), -2).startswith(f'open("{long}", O_RDONLY)')
    name = mem.put(0x2000, cstr("0123456789" * 4))
    assert (call(mem, "memfd_create", (name, 1), 3)
            == 'memfd_create("01234567890123456789012345678901"..., MFD_CLOEXEC) = 3')
    name32 = mem.put(0x3000, cstr("0123456789" * 3 + "01"))
    assert (call(mem, "memfd_create", (name32, 3), 4)
            == 'memfd_create("01234567890123456789012345678901", MFD_CLOEXEC|MFD_ALLOW_SEALING)'
               " = 4")


def test_readlink_and_getcwd(mem):
    path = mem.put(0x1000, cstr("/proc/self/exe"))
    buf = mem.put(0x2000, b"/tmp/st/t3" + bytes(100))
    assert (call(mem, "readlink", (path, buf, 4096), 10)
            == 'readlink("/proc/self/exe", "/tmp/st/t3", 4096) = 10')
    assert (call(mem, "readlinkat", (neg(-100), path, buf, 3), 3)
            == 'readlinkat(AT_FDCWD, "/proc/self/exe", "/tm", 3) = 3')
    cwd = mem.put(0x3000, cstr("/tmp/st"))
    assert call(mem, "getcwd", (cwd, 4096), 8) == 'getcwd("/tmp/st", 4096) = 8'


def test_getrandom_hex(mem):
    buf = mem.put(0x1000, bytes([0x75, 0x30, 0xF0, 0x39, 0x09, 0xAB, 0x26, 0x41]))
    assert (call(mem, "getrandom", (buf, 8, 1), 8)
            == r'getrandom("\x75\x30\xf0\x39\x09\xab\x26\x41", 8, GRND_NONBLOCK) = 8')
    assert (call(mem, "getrandom", (buf, 4, 7), -22)
            == "getrandom(0x1000, 4, GRND_NONBLOCK|GRND_RANDOM|GRND_INSECURE)"
               " = -1 EINVAL (Invalid argument)")
    assert (call(mem, "getrandom", (0, 0, 8), -22)
            == "getrandom(NULL, 0, 0x8 /* GRND_??? */) = -1 EINVAL (Invalid argument)")


def test_iovecs(mem):
    hello, world = mem.put(0x1000, b"hello"), mem.put(0x2000, b"world\n")
    iov = mem.put(0x3000, struct.pack("<QQQQ", hello, 5, world, 6))
    assert (call(mem, "writev", (1, iov, 2), 11)
            == 'writev(1, [{iov_base="hello", iov_len=5}, {iov_base="world\\n", iov_len=6}], 2)'
               " = 11")
    a, b = mem.put(0x4000, b"abc"), mem.put(0x5000, b"defgh" + bytes(5))
    riov = mem.put(0x6000, struct.pack("<QQQQ", a, 3, b, 10))
    assert (call(mem, "readv", (6, riov, 2), 8)
            == 'readv(6, [{iov_base="abc", iov_len=3}, {iov_base="defgh", iov_len=10}], 2) = 8')


# --------------------------------------------------------------------------
# Flags and symbolic values
# --------------------------------------------------------------------------

@pytest.mark.parametrize("flags, mode, text", [
    (0o101 | 0o1000, 0o644, "O_WRONLY|O_CREAT|O_TRUNC, 0644"),
    (0o100 | 0o200, 0o4755, "O_RDONLY|O_CREAT|O_EXCL, 04755"),
    (2 | 0o2000 | 0o4000 | 0o200000 | 0o400000 | 0o20000000 | 0x40000000, 0o600,
     "O_RDWR|O_APPEND|O_NONBLOCK|O_NOFOLLOW|O_TMPFILE|0x40000000, 0600"),
    (0o400 | 0o4010000 | 0o40000 | 0o1000000 | 0o10000000 | 0o20000, 0,
     "O_RDONLY|O_NOCTTY|O_SYNC|O_DIRECT|O_NOATIME|O_PATH|FASYNC"),
    (3, 0, "O_ACCMODE"),
    (1 | 0o20200000, 0, "O_WRONLY|O_TMPFILE, 000"),
    (0o10000, 0, "O_RDONLY|O_DSYNC"),
    (0o200000, 0, "O_RDONLY|O_DIRECTORY"),
    (0x40000000, 0, "O_RDONLY|0x40000000"),
    (0o100 | 0o2000000 | 0o100000, 0o100644, "O_RDONLY|O_CREAT|O_LARGEFILE|O_CLOEXEC, 0100644"),
])
def test_open_flags_and_mode(mem, flags, mode, text):
    path = mem.put(0x1000, cstr("rel"))
    assert call(mem, "openat", (5, path, flags, mode), -9) == (
        f'openat(5, "rel", {text}) = -1 EBADF (Bad file descriptor)')


@pytest.mark.parametrize("mode, text", [
    (0, "F_OK"), (4, "R_OK"), (7, "R_OK|W_OK|X_OK"), (0xF, "R_OK|W_OK|X_OK|0x8"),
    (0x10, "0x10 /* ?_OK */"),
])
def test_access_mode(mem, mode, text):
    path = mem.put(0x1000, cstr("/x"))
    assert call(mem, "access", (path, mode), 0) == f'access("/x", {text}) = 0'


def test_at_flags(mem):
    path = mem.put(0x1000, cstr("/x"))
    assert (call(mem, "faccessat2", (neg(-100), path, 4, 0x300), -2)
            == 'faccessat2(AT_FDCWD, "/x", R_OK, AT_SYMLINK_NOFOLLOW|AT_EACCESS)'
               " = -1 ENOENT (No such file or directory)")
    assert (call(mem, "unlinkat", (5, path, 0x200), -9)
            == 'unlinkat(5, "/x", AT_REMOVEDIR) = -1 EBADF (Bad file descriptor)')
    assert (call(mem, "newfstatat", (neg(-1), path, 0, 0xFFFFFFFF), -22)
            == 'newfstatat(-1, "/x", NULL, AT_SYMLINK_NOFOLLOW|AT_REMOVEDIR|AT_SYMLINK_FOLLOW|'
               "AT_NO_AUTOMOUNT|AT_EMPTY_PATH|AT_RECURSIVE|0xffff60ff)"
               " = -1 EINVAL (Invalid argument)")
    assert (call(mem, "newfstatat", (neg(-1), path, 0, 0x2000), -9)
            == 'newfstatat(-1, "/x", NULL, 0x2000 /* AT_??? */) = -1 EBADF (Bad file descriptor)')
    assert (call(mem, "linkat", (neg(-100), path, neg(-100), path, 0x400), -2)
            .startswith('linkat(AT_FDCWD, "/x", AT_FDCWD, "/x", AT_SYMLINK_FOLLOW)'))


def test_dirfd_is_a_32_bit_int(mem):
    path = mem.put(0x1000, cstr("a"))
    assert call(mem, "openat", (0xFFFFFF9C, path, 0), 3).startswith("openat(AT_FDCWD, ")
    assert call(mem, "openat", (0xFFFFFFFF00000005, path, 0), 3).startswith("openat(5, ")
    assert call(mem, "close", (0xFFFFFFFFFFFFFFF0,), -9).startswith("close(-16)")


def test_statx_flags_and_mask(mem):
    path = mem.put(0x1000, cstr("a"))
    assert (call(mem, "statx", (neg(-1), path, 0, 0, 0), -9)
            == 'statx(-1, "a", AT_STATX_SYNC_AS_STAT, 0, NULL) = -1 EBADF (Bad file descriptor)')
    assert (call(mem, "statx", (neg(-1), path, 0x100, 0x7FF, 0), -9)
            == 'statx(-1, "a", AT_STATX_SYNC_AS_STAT|AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, NULL)'
               " = -1 EBADF (Bad file descriptor)")
    assert (call(mem, "statx", (neg(-1), path, 0x2000 | 0x1000, 0x1 | 0x2 | 0x800, 0), -9)
            == 'statx(-1, "a", AT_STATX_FORCE_SYNC|AT_EMPTY_PATH,'
               " STATX_TYPE|STATX_MODE|STATX_BTIME, NULL) = -1 EBADF (Bad file descriptor)")
    assert (call(mem, "statx", (neg(-1), path, 0x4000, 0x1FFF, 0), -9)
            == 'statx(-1, "a", AT_STATX_DONT_SYNC, STATX_ALL|STATX_MNT_ID, NULL)'
               " = -1 EBADF (Bad file descriptor)")


@pytest.mark.parametrize("prot, flags, text", [
    (0, 0x01 | 0x4000 | 0x8000 | 0x100 | 0x20000 | 0x40000 | 0x100000,
     "PROT_NONE, MAP_SHARED|MAP_NORESERVE|MAP_POPULATE|MAP_GROWSDOWN|MAP_STACK|MAP_HUGETLB|"
     "MAP_FIXED_NOREPLACE"),
    (0x10F, 0x03 | 0x40 | 0x10000 | 0x2000 | 0x80000,
     "PROT_READ|PROT_WRITE|PROT_EXEC|PROT_SEM|0x100, "
     "MAP_SHARED_VALIDATE|MAP_32BIT|MAP_NONBLOCK|MAP_LOCKED|MAP_SYNC"),
    (1, 0x22 | (21 << 26), "PROT_READ, MAP_PRIVATE|MAP_ANONYMOUS|21<<MAP_HUGE_SHIFT"),
    (1, 0, "PROT_READ, MAP_FILE"),
    (1, 0x80000, "PROT_READ, MAP_FILE|MAP_SYNC"),
    (0, 0x82, "PROT_NONE, MAP_PRIVATE|0x80"),
    (0x10, 0x2, "0x10 /* PROT_??? */, MAP_PRIVATE"),
    (0x100000001, 0x100000001, "PROT_READ|0x100000000, MAP_SHARED"),
])
def test_mmap_prot_and_flags(mem, prot, flags, text):
    assert (call(mem, "mmap", (0, 4096, prot, flags, neg(-1), 0x1000), -9)
            == f"mmap(NULL, 4096, {text}, -1, 0x1000) = -1 EBADF (Bad file descriptor)")


def test_mprotect_munmap_mremap(mem):
    assert (call(mem, "mprotect", (0x1000, 4096, 1), -12)
            == "mprotect(0x1000, 4096, PROT_READ) = -1 ENOMEM (Cannot allocate memory)")
    assert call(mem, "munmap", (0, 0), -22).startswith("munmap(NULL, 0)")
    assert (call(mem, "mremap", (0x1000, 4096, 8192, 1, 0x5000), 0x7000)
            == "mremap(0x1000, 4096, 8192, MREMAP_MAYMOVE) = 0x7000")
    assert (call(mem, "mremap", (0x1000, 4096, 8192, 3, 0x5000), -14)
            == "mremap(0x1000, 4096, 8192, MREMAP_MAYMOVE|MREMAP_FIXED, 0x5000)"
               " = -1 EFAULT (Bad address)")


@pytest.mark.parametrize("cmd, arg, result, text", [
    (1, 0, 0, "fcntl(1, F_GETFD) = 0"),
    (1, 0, 1, "fcntl(1, F_GETFD) = 0x1 (flags FD_CLOEXEC)"),
    (2, 1, 0, "fcntl(1, F_SETFD, FD_CLOEXEC) = 0"),
    (2, 0, 0, "fcntl(1, F_SETFD, 0) = 0"),
    (2, 7, 0, "fcntl(1, F_SETFD, FD_CLOEXEC|0x6) = 0"),
    (2, 0x40000000, 0, "fcntl(1, F_SETFD, 0x40000000 /* FD_??? */) = 0"),
    (3, 0, 1, "fcntl(1, F_GETFL) = 0x1 (flags O_WRONLY)"),
    (3, 0, 0x8000, "fcntl(1, F_GETFL) = 0x8000 (flags O_RDONLY|O_LARGEFILE)"),
    (4, 0o4002, 0, "fcntl(1, F_SETFL, O_RDWR|O_NONBLOCK) = 0"),
    (4, 0, 0, "fcntl(1, F_SETFL, O_RDONLY) = 0"),
    (0, 10, 11, "fcntl(1, F_DUPFD, 10) = 11"),
    (1030, 10, 12, "fcntl(1, F_DUPFD_CLOEXEC, 10) = 12"),
    (5, 0, -9, "fcntl(1, F_GETLK, NULL) = -1 EBADF (Bad file descriptor)"),
    (1031, 4096, 4096, "fcntl(1, F_SETPIPE_SZ, 4096) = 4096"),
    (1033, 3, 0, "fcntl(1, F_ADD_SEALS, F_SEAL_SEAL|F_SEAL_SHRINK) = 0"),
    (9999, 3, -22, "fcntl(1, 0x270f /* F_??? */, 0x3) = -1 EINVAL (Invalid argument)"),
])
def test_fcntl(mem, cmd, arg, result, text):
    assert call(mem, "fcntl", (1, cmd, arg), result) == text


@pytest.mark.parametrize("offset, whence, text", [
    (0, 0, "0, SEEK_SET"), (neg(-5), 1, "-5, SEEK_CUR"), (0, 2, "0, SEEK_END"),
    (0, 3, "0, SEEK_DATA"), (0, 4, "0, SEEK_HOLE"), (0, 7, "0, 0x7 /* SEEK_??? */"),
])
def test_lseek(mem, offset, whence, text):
    assert call(mem, "lseek", (1, offset, whence), -29) == (
        f"lseek(1, {text}) = -1 ESPIPE (Illegal seek)")


def test_ioctl(mem):
    out = mem.put(0x1000, struct.pack("<i", 17))
    assert call(mem, "ioctl", (1, 0x5401, 0x7FFD0), -25) == (
        "ioctl(1, TCGETS, 0x7ffd0) = -1 ENOTTY (Inappropriate ioctl for device)")
    assert call(mem, "ioctl", (1, 0x541B, out), 0) == "ioctl(1, FIONREAD, [17]) = 0"
    assert call(mem, "ioctl", (1, 0x541B, out), -25).startswith("ioctl(1, FIONREAD, 0x1000)")
    assert call(mem, "ioctl", (1, 0x5451), 0) == "ioctl(1, FIOCLEX) = 0"
    assert call(mem, "ioctl", (1, 0x5450), 0) == "ioctl(1, FIONCLEX) = 0"
    ws = mem.put(0x2000, struct.pack("<HHHH", 24, 80, 0, 0))
    assert (call(mem, "ioctl", (1, 0x5413, ws), 0)
            == "ioctl(1, TIOCGWINSZ, {ws_row=24, ws_col=80, ws_xpixel=0, ws_ypixel=0}) = 0")
    assert (call(mem, "ioctl", (1, 0x1234, 0x5678), -25)
            == "ioctl(1, _IOC(_IOC_NONE, 0x12, 0x34, 0), 0x5678)"
               " = -1 ENOTTY (Inappropriate ioctl for device)")
    assert call(mem, "ioctl", (neg(-1), 0x80047807, 0), -9).startswith(
        "ioctl(-1, _IOC(_IOC_READ, 0x78, 0x7, 0x4), 0)")
    assert call(mem, "ioctl", (neg(-1), 0xC00800EE << 0, 0), -9).startswith(
        "ioctl(-1, _IOC(_IOC_READ|_IOC_WRITE, 0, 0xee, 0x8), 0)")


def test_arch_prctl(mem):
    assert (call(mem, "arch_prctl", (0x1002, 0x7F9277E65740), 0)
            == "arch_prctl(ARCH_SET_FS, 0x7f9277e65740) = 0")
    fs = mem.put(0x1000, struct.pack("<Q", 0x7F9277E65740))
    assert (call(mem, "arch_prctl", (0x1003, fs), 0)
            == "arch_prctl(ARCH_GET_FS, [0x7f9277e65740]) = 0")
    assert call(mem, "arch_prctl", (0x1001, 0), 0) == "arch_prctl(ARCH_SET_GS, 0) = 0"
    assert call(mem, "arch_prctl", (0x1011, 0), 1) == "arch_prctl(ARCH_GET_CPUID) = 1"
    assert (call(mem, "arch_prctl", (0x3001, 0), -22)
            == "arch_prctl(0x3001 /* ARCH_??? */, 0) = -1 EINVAL (Invalid argument)")


def test_rlimits(mem):
    old = mem.put(0x1000, struct.pack("<QQ", 8192 * 1024, U64))
    assert (call(mem, "prlimit64", (0, 3, 0, old), 0)
            == "prlimit64(0, RLIMIT_STACK, NULL, {rlim_cur=8192*1024, rlim_max=RLIM64_INFINITY})"
               " = 0")
    new = mem.put(0x2000, struct.pack("<QQ", 20000, 1024))
    assert (call(mem, "prlimit64", (0, 7, new, 0), 0)
            == "prlimit64(0, RLIMIT_NOFILE, {rlim_cur=20000, rlim_max=1024}, NULL) = 0")
    assert (call(mem, "prlimit64", (neg(-1), 15, 0, 0), -3)
            == "prlimit64(-1, RLIMIT_RTTIME, NULL, NULL) = -1 ESRCH (No such process)")
    assert (call(mem, "getrlimit", (16, 0), -22)
            == "getrlimit(0x10 /* RLIMIT_??? */, NULL) = -1 EINVAL (Invalid argument)")
    assert call(mem, "getrlimit", (7, old), 0) == (
        "getrlimit(RLIMIT_NOFILE, {rlim_cur=8192*1024, rlim_max=RLIM64_INFINITY}) = 0")


def test_close_range_and_dup3(mem):
    assert (call(mem, "close_range", (3, 0xFFFFFFFF, 4), 0)
            == "close_range(3, 4294967295, CLOSE_RANGE_CLOEXEC) = 0")
    assert (call(mem, "close_range", (3, 10, 6), 0)
            == "close_range(3, 10, CLOSE_RANGE_UNSHARE|CLOSE_RANGE_CLOEXEC) = 0")
    assert call(mem, "close_range", (100, 200, 0), 0) == "close_range(100, 200, 0) = 0"
    assert call(mem, "dup3", (1, 51, 0o2000000), 51) == "dup3(1, 51, O_CLOEXEC) = 51"
    assert call(mem, "dup3", (1, 52, 0), 52) == "dup3(1, 52, 0) = 52"
    assert (call(mem, "dup3", (neg(-1), neg(-1), 0x40000000), -22)
            == "dup3(-1, -1, 0x40000000 /* O_??? */) = -1 EINVAL (Invalid argument)")
    fds = mem.put(0x1000, struct.pack("<ii", 6, 7))
    assert call(mem, "pipe2", (fds, 0o2000000), 0) == "pipe2([6, 7], O_CLOEXEC) = 0"


def test_clone(mem):
    flags = 0x200000 | 0x1000000 | 17
    assert (call(mem, "clone", (flags, 0, 0, 0x7F06EE37CA10, 0), 4188)
            == "clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD,"
               " child_tidptr=0x7f06ee37ca10) = 4188")
    assert call(mem, "clone", (17,), 6548) == "clone(child_stack=NULL, flags=SIGCHLD) = 6548"
    assert call(mem, "clone", (0,), 6549) == "clone(child_stack=NULL, flags=0) = 6549"
    tid = mem.put(0x1000, struct.pack("<i", 6550))
    assert (call(mem, "clone", (0x100000 | 0x400000 | 17, 0, tid), 6550)
            == "clone(child_stack=NULL, flags=CLONE_PARENT_SETTID|0x400000|SIGCHLD,"
               " parent_tid=[6550]) = 6550")


def test_signals(mem):
    assert call(mem, "kill", (1234567, 15), -3) == (
        "kill(1234567, SIGTERM) = -1 ESRCH (No such process)")
    assert call(mem, "kill", (1, 34), -3).startswith("kill(1, SIGRT_2)")
    assert call(mem, "kill", (1, 65), -3).startswith("kill(1, 65)")
    act = mem.put(0x1000, struct.pack("<QQQQ", 1, 0x04000000 | 0x10000000, 0x7FC848AC7050,
                                      1 << (2 - 1)))
    assert (call(mem, "rt_sigaction", (10, act, 0, 8), 0)
            == "rt_sigaction(SIGUSR1, {sa_handler=SIG_IGN, sa_mask=[INT],"
               " sa_flags=SA_RESTORER|SA_RESTART, sa_restorer=0x7fc848ac7050}, NULL, 8) = 0")
    full = mem.put(0x2000, struct.pack("<Q", U64 & ~(3 << 31)))      # glibc's sigfillset
    assert (call(mem, "rt_sigprocmask", (0, full, 0, 8), 0)
            == "rt_sigprocmask(SIG_BLOCK, ~[RTMIN RT_1], NULL, 8) = 0")
    some = mem.put(0x3000, struct.pack("<Q", (1 << 16) | (1 << 39)))
    assert (call(mem, "rt_sigprocmask", (2, some, 0, 8), 0)
            == "rt_sigprocmask(SIG_SETMASK, [CHLD RT_8], NULL, 8) = 0")
    empty = mem.put(0x4000, bytes(8))
    assert call(mem, "rt_sigprocmask", (2, empty, 0, 8), 0) == (
        "rt_sigprocmask(SIG_SETMASK, [], NULL, 8) = 0")
    assert call(mem, "rt_sigprocmask", (1, empty, 0, 4), -22).startswith(
        "rt_sigprocmask(SIG_UNBLOCK, 0x4000, NULL, 4)")


def test_sigset_complement_threshold(mem):
    m41 = mem.put(0x1000, struct.pack("<Q", (1 << 41) - 1))
    m42 = mem.put(0x2000, struct.pack("<Q", (1 << 42) - 1))
    assert "SIG_UNBLOCK, [HUP INT" in call(mem, "rt_sigprocmask", (1, m41, 0, 8), 0)
    assert "SIG_UNBLOCK, ~[RT_11 RT_12" in call(mem, "rt_sigprocmask", (1, m42, 0, 8), 0)


def test_execve(mem):
    path = mem.put(0x1000, cstr("/bin/true"))
    s1, s2, s3 = (mem.put(0x2000, cstr("true")), mem.put(0x2100, cstr("0123456789" * 4)),
                  mem.put(0x2200, cstr("x\ny")))
    argv = mem.put(0x3000, struct.pack("<QQQQ", s1, s2, s3, 0))
    envp = mem.put(0x4000, struct.pack("<QQQ", 0x2000, 0x2200, 0))
    assert (call(mem, "execve", (path, argv, envp), 0)
            == 'execve("/bin/true", ["true", "01234567890123456789012345678901"..., "x\\ny"],'
               " 0x4000 /* 2 vars */) = 0")
    assert (call(mem, "execve", (path, 0, 0), -2)
            == 'execve("/bin/true", NULL, NULL) = -1 ENOENT (No such file or directory)')
    bad = mem.put(0x5000, struct.pack("<QQQ", s1, 0x10, 0))
    assert call(mem, "execve", (path, bad, envp), -2).startswith(
        'execve("/bin/true", ["true", 0x10], 0x4000 /* 2 vars */)')


def test_wait4(mem):
    st = mem.put(0x1000, struct.pack("<i", 0))
    assert (call(mem, "wait4", (neg(-1), st, 0, 0), 4188)
            == "wait4(-1, [{WIFEXITED(s) && WEXITSTATUS(s) == 0}], 0, NULL) = 4188")
    mem.put(0x1000, struct.pack("<i", 9))
    assert (call(mem, "wait4", (4521, st, 0x40000000, 0), 4521)
            == "wait4(4521, [{WIFSIGNALED(s) && WTERMSIG(s) == SIGKILL}], __WALL, NULL) = 4521")
    mem.put(0x1000, struct.pack("<i", 11 | 0x80))
    assert call(mem, "wait4", (4522, st, 0, 0), 4522) == (
        "wait4(4522, [{WIFSIGNALED(s) && WTERMSIG(s) == SIGSEGV && WCOREDUMP(s)}], 0, NULL)"
        " = 4522")
    assert (call(mem, "wait4", (4521, st, 1 | 2 | 8 | 0x40000000, 0), 0)
            == "wait4(4521, 0x1000, WNOHANG|WSTOPPED|WCONTINUED|__WALL, NULL) = 0")
    assert call(mem, "wait4", (neg(-1), 0, 0x1000, 0), -22).startswith(
        "wait4(-1, NULL, 0x1000 /* W??? */, NULL)")


def test_sockets(mem):
    assert call(mem, "socket", (2, 1 | 0o2000000 | 0o4000, 0), 3) == (
        "socket(AF_INET, SOCK_STREAM|SOCK_CLOEXEC|SOCK_NONBLOCK, IPPROTO_IP) = 3")
    assert call(mem, "socket", (1, 2, 0), 4) == "socket(AF_UNIX, SOCK_DGRAM, 0) = 4"
    sin = mem.put(0x1000, struct.pack("<H", 2) + struct.pack(">H", 80)
                  + bytes([127, 0, 0, 1]) + bytes(8))
    assert (call(mem, "connect", (3, sin, 16), -111)
            == "connect(3, {sa_family=AF_INET, sin_port=htons(80),"
               ' sin_addr=inet_addr("127.0.0.1")}, 16) = -1 ECONNREFUSED (Connection refused)')
    sun = mem.put(0x2000, struct.pack("<H", 1) + b"/var/run/nscd/socket" + bytes(88))
    assert (call(mem, "connect", (3, sun, 110), -2)
            == 'connect(3, {sa_family=AF_UNIX, sun_path="/var/run/nscd/socket"}, 110)'
               " = -1 ENOENT (No such file or directory)")
    abstract = mem.put(0x3000, struct.pack("<H", 1) + b"\0abstract")
    assert call(mem, "connect", (3, abstract, 11), -111).startswith(
        'connect(3, {sa_family=AF_UNIX, sun_path=@"abstract"}, 11)')
    data = mem.put(0x4000, b"xyz")
    assert call(mem, "sendto", (3, data, 3, 0, 0, 0), 3) == 'sendto(3, "xyz", 3, 0, NULL, 0) = 3'
    assert (call(mem, "recvfrom", (4, data, 10, 0x40, 0, 0), 3)
            == 'recvfrom(4, "xyz", 10, MSG_DONTWAIT, NULL, NULL) = 3')


def test_stat_family(mem):
    path = mem.put(0x1000, cstr("/etc/hostname"))
    empty = mem.put(0x1100, b"\0")
    reg = struct.pack("<QQQIIIIQq", 0x803, 1234, 1, 0o100644, 0, 0, 0, 0, 34547)
    buf = mem.put(0x2000, reg)
    assert (call(mem, "newfstatat", (3, empty, buf, 0x1000), 0)
            == 'newfstatat(3, "", {st_mode=S_IFREG|0644, st_size=34547, ...}, AT_EMPTY_PATH) = 0')
    assert (call(mem, "fstat", (3, buf), 0)
            == "fstat(3, {st_mode=S_IFREG|0644, st_size=34547, ...}) = 0")
    chr_dev = struct.pack("<QQQIIIIQq", 5, 4, 1, 0o20666, 0, 0, 0, (1 << 8) | 3, 0)
    mem.put(0x3000, chr_dev)
    assert (call(mem, "stat", (path, 0x3000), 0)
            == 'stat("/etc/hostname", {st_mode=S_IFCHR|0666, st_rdev=makedev(0x1, 0x3), ...}) = 0')
    mem.put(0x3000, struct.pack("<QQQIIIIQq", 5, 4, 1, 0o104755, 0, 0, 0, 0, 72000))
    assert call(mem, "lstat", (path, 0x3000), 0) == (
        'lstat("/etc/hostname", {st_mode=S_IFREG|S_ISUID|0755, st_size=72000, ...}) = 0')
    # Failed calls show the buffer's address.
    assert (call(mem, "newfstatat", (neg(-100), path, buf, 0x100), -2)
            == 'newfstatat(AT_FDCWD, "/etc/hostname", 0x2000, AT_SYMLINK_NOFOLLOW)'
               " = -1 ENOENT (No such file or directory)")


def test_statx_struct(mem):
    path = mem.put(0x1000, cstr("/etc/hostname"))
    sx = struct.pack("<IIQIIIHHQQ", 0x17FF, 4096, 0, 1, 0, 0, 0o100755, 0, 99, 3)
    buf = mem.put(0x2000, sx)
    assert (call(mem, "statx", (neg(-100), path, 0, 0x7FF, buf), 0)
            == 'statx(AT_FDCWD, "/etc/hostname", AT_STATX_SYNC_AS_STAT, STATX_BASIC_STATS,'
               " {stx_mask=STATX_BASIC_STATS|STATX_MNT_ID, stx_attributes=0,"
               " stx_mode=S_IFREG|0755, stx_size=3, ...}) = 0")


def test_misc_numbers(mem):
    assert call(mem, "umask", (0o22,), 0o22) == "umask(022) = 022"
    assert call(mem, "umask", (0,), 0) == "umask(000) = 000"
    assert call(mem, "setresuid", (0xFFFFFFFF, 0xFFFFFFFF, 0), 0) == "setresuid(-1, -1, 0) = 0"
    assert call(mem, "read", (0, 0, U64), -9).startswith("read(0, NULL, 18446744073709551615)")
    ts = mem.put(0x1000, struct.pack("<qq", 0, 1000))
    assert call(mem, "nanosleep", (ts, 0), 0) == "nanosleep({tv_sec=0, tv_nsec=1000}, NULL) = 0"
    assert (call(mem, "clock_gettime", (1, ts), 0)
            == "clock_gettime(CLOCK_MONOTONIC, {tv_sec=0, tv_nsec=1000}) = 0")
    assert (call(mem, "futex", (0x1000, 0x81, 1), 0)
            == "futex(0x1000, FUTEX_WAKE_PRIVATE, 1) = 0")
    assert (call(mem, "futex", (0x1000, 0x189, 0, ts, 0, 0xFFFFFFFF), -110)
            == "futex(0x1000, FUTEX_WAIT_BITSET_PRIVATE|FUTEX_CLOCK_REALTIME, 0,"
               " {tv_sec=0, tv_nsec=1000}, FUTEX_BITSET_MATCH_ANY)"
               " = -1 ETIMEDOUT (Connection timed out)")
    assert (call(mem, "madvise", (0, 0, 4), 0) == "madvise(NULL, 0, MADV_DONTNEED) = 0")
    assert call(mem, "rseq", (0x7FE8EC873060, 0x20, 0, 0x53053053), 0) == (
        "rseq(0x7fe8ec873060, 0x20, 0, 0x53053053) = 0")


# --------------------------------------------------------------------------
# Results and process end
# --------------------------------------------------------------------------

def test_error_names():
    close = NR["close"]
    assert format_result(close, (1,), -95) == "-1 EOPNOTSUPP (Operation not supported)"
    assert format_result(close, (1,), -35) == "-1 EDEADLK (Resource deadlock avoided)"
    assert format_result(close, (1,), -11) == "-1 EAGAIN (Resource temporarily unavailable)"
    assert (format_result(close, (1,), -512)
            == "? ERESTARTSYS (To be restarted if SA_RESTART is set)")
    assert format_result(close, (1,), -4000) == "-1 4000 (Unknown error 4000)"
    assert format_result(close, (1,), neg(-9)) == "-1 EBADF (Bad file descriptor)"
    assert format_result(close, (1,), None) == "?"


def test_format_exit():
    assert format_exit(0) == "+++ exited with 0 +++"
    assert format_exit(3 << 8) == "+++ exited with 3 +++"
    assert format_exit(9) == "+++ killed by SIGKILL +++"
    assert format_exit(11 | 0x80) == "+++ killed by SIGSEGV (core dumped) +++"


def test_begin_call_keeps_inputs_from_entry(mem):
    """The call may overwrite what it read: show inputs as they were at entry."""
    mask = mem.put(0x1000, struct.pack("<Q", (1 << 16) | (1 << 39)))
    pending = begin_call(NR["rt_sigprocmask"], (2, mask, mask, 8, 0, 0),
                         mem.read_string, mem.read_bytes)
    mem.put(0x1000, struct.pack("<Q", U64 & ~((1 << 8) | (1 << 18) | (3 << 31))))
    assert (pending.finish(0)
            == "rt_sigprocmask(SIG_SETMASK, [CHLD RT_8], ~[KILL STOP RTMIN RT_1], 8) = 0")

    path = mem.put(0x2000, cstr("/bin/true"))
    arg0 = mem.put(0x2100, cstr("true"))
    argv = mem.put(0x3000, struct.pack("<QQ", arg0, 0))
    envp = mem.put(0x3100, struct.pack("<Q", 0))
    pending = begin_call(NR["execve"], (path, argv, envp), mem.read_string, mem.read_bytes)
    gone = FakeMemory()                     # the new program's address space
    assert (pending.finish(0, gone.read_string, gone.read_bytes)
            == 'execve("/bin/true", ["true"], 0x3100 /* 0 vars */) = 0')
    assert pending.entry_text == 'execve("/bin/true", ["true"], 0x3100 /* 0 vars */)'


def test_format_args_alone(mem):
    assert format_args(NR["close"], (3, 0, 0, 0, 0, 0), None,
                       mem.read_string, mem.read_bytes) == "close(3)"


# --------------------------------------------------------------------------
# Syscall names
# --------------------------------------------------------------------------

def test_names_table():
    assert max(SYSCALL_NAMES) == 467
    assert all(0 <= nr <= 467 for nr in SYSCALL_NAMES)
    assert SYSCALL_NAMES[0] == "read"
    assert SYSCALL_NAMES[59] == "execve"
    assert SYSCALL_NAMES[231] == "exit_group"
    assert SYSCALL_NAMES[257] == "openat"
    assert SYSCALL_NAMES[283] == "timerfd_create"
    assert SYSCALL_NAMES[435] == "clone3"
    assert SYSCALL_NAMES[439] == "faccessat2"
    assert SYSCALL_NAMES[440] == "process_madvise"
    assert SYSCALL_NAMES[449] == "futex_waitv"
    assert SYSCALL_NAMES[462] == "mseal"
    assert SYSCALL_NAMES[467] == "open_tree_attr"
    assert 400 not in SYSCALL_NAMES          # 335..423 are unassigned on x86-64
    assert all(SYSCALL_NUMBERS[name] == nr for nr, name in SYSCALL_NAMES.items())
    assert len(SYSCALL_NUMBERS) == len(SYSCALL_NAMES)


@pytest.mark.skipif(not os.path.exists(UNISTD_64), reason="no asm/unistd_64.h")
def test_names_match_kernel_header():
    with open(UNISTD_64) as header:
        defined = {int(nr): name for name, nr in
                   re.findall(r"#define __NR_(\w+)\s+(\d+)", header.read())}
    assert defined
    mismatches = {nr: (name, SYSCALL_NAMES.get(nr)) for nr, name in defined.items()
                  if SYSCALL_NAMES.get(nr) != name}
    assert mismatches == {}
    # Numbers the header does not know yet must be newer than everything it has.
    assert all(nr > max(defined) for nr in set(SYSCALL_NAMES) - set(defined))


@pytest.mark.parametrize("args", [(0,) * 6, (0x1000,) * 6, (U64,) * 6, (1, 2, 3, 4, 5, 6)])
@pytest.mark.parametrize("result", [0, 5, -14, None])
def test_every_named_syscall_formats(mem, args, result):
    """No syscall's formatter breaks on odd registers or unreadable memory."""
    mem.put(0x1000, b"\xff" * 16)
    for nr, name in SYSCALL_NAMES.items():
        line = format_call(nr, args, result, mem.read_string, mem.read_bytes)
        assert line.startswith(name + "(")
        assert (") = " in line) and "\n" not in line


def test_overrides_name_real_arguments():
    """Every hand-made override refers to an argument of the syscall's prototype."""
    from ptrace.syscall.prototypes import SYSCALL_PROTOTYPES

    from pylinuxabi.observe import strace

    known = set(SYSCALL_NAMES.values())
    for name, override in strace._OVERRIDES.items():
        assert name in known, name
        proto = strace._EXTRA_PROTOTYPES.get(name) or SYSCALL_PROTOTYPES[name]
        assert set(override) <= {argname for _, argname in proto[1]}, name


def test_io_uring_calls(mem):
    """As strace prints them: io_uring_setup's params (the asked fields alone after a
    failure), io_uring_enter's flags, io_uring_register's opcode."""
    params = struct.pack("<10I7IIQ8IQ", 4, 8, 0, 0, 0, 0x103, 0, 0, 0, 0,
                         0, 4, 16, 24, 36, 32, 192, 0, 0, 8, 12, 20, 28, 44, 64, 40, 0, 0)
    p = mem.put(0x1000, params)
    assert call(mem, "io_uring_setup", (4, p), 3) == (
        "io_uring_setup(4, {flags=0, sq_thread_cpu=0, sq_thread_idle=0, sq_entries=4, cq_entries=8,"
        " features=IORING_FEAT_SINGLE_MMAP|IORING_FEAT_NODROP|IORING_FEAT_EXT_ARG, sq_off={head=0,"
        " tail=4, ring_mask=16, ring_entries=24, flags=36, dropped=32, array=192}, cq_off={head=8,"
        " tail=12, ring_mask=20, ring_entries=28, overflow=44, cqes=64, flags=40}}) = 3")
    mem.put(0x1000, struct.pack("<3I", 0, 0, 2))
    assert call(mem, "io_uring_setup", (0, p), -22) == (
        "io_uring_setup(0, {flags=IORING_SETUP_SQPOLL, sq_thread_cpu=0, sq_thread_idle=0})"
        " = -1 EINVAL (Invalid argument)")
    assert call(mem, "io_uring_enter", (3, 0, 1, 9, 0, 0), 0) == (
        "io_uring_enter(3, 0, 1, IORING_ENTER_GETEVENTS|IORING_ENTER_EXT_ARG, NULL, 0) = 0")
    assert call(mem, "io_uring_register", (3, 8, 0x2000, 256), 0) == (
        "io_uring_register(3, IORING_REGISTER_PROBE, 0x2000, 256) = 0")
