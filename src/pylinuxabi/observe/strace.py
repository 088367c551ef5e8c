"""strace-style text for one x86-64 Linux system call, its result, and a process's end.
Pure formatting: touches tracee memory only through the read_string/read_bytes callbacks."""

from __future__ import annotations

import errno as _errno
import os
import socket
import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from ptrace.syscall.linux_constants import RLIMIT_RESOURCE, SIGPROCMASK_HOW
from ptrace.syscall.posix_constants import SYSCALL_ARG_DICT
from ptrace.syscall.prototypes import FILENAME_ARGUMENTS, SYSCALL_PROTOTYPES
from ptrace.syscall.socketcall_constants import SOCKET_FAMILY, SOCKET_TYPE

from pylinuxabi.base.names import SYSCALL_NAMES

__all__ = [
    "MAX_STRLEN",
    "PendingCall",
    "begin_call",
    "format_call",
    "format_args",
    "format_result",
    "format_exit",
    "quote_bytes",
    "format_siginfo",
    "format_sigreturn_mask",
]

ReadString = Callable[[int, int], "bytes | None"]
ReadBytes = Callable[[int, int], "bytes | None"]

#: strace's default -s: strings and buffers are cut after this many bytes.
MAX_STRLEN = 32
#: Paths are printed whole, up to PATH_MAX.
PATH_MAX = 4096
#: strace's -a default: column of the "= result" when aligned.
ALIGN_COLUMN = 40

_U64 = (1 << 64) - 1
_U32 = (1 << 32) - 1
_MAX_ERRNO = 4095


# --------------------------------------------------------------------------
# Number helpers
# --------------------------------------------------------------------------

def _u32(v: int) -> int:
    return v & _U32


def _s32(v: int) -> int:
    v &= _U32
    return v - (1 << 32) if v & 0x80000000 else v


def _s64(v: int) -> int:
    v &= _U64
    return v - (1 << 64) if v & (1 << 63) else v


def _hex(v: int) -> str:
    """C's %#x: "0" for zero, "0x.." otherwise."""
    return "0" if v == 0 else f"{v:#x}"


def _ptr(v: int) -> str:
    return "NULL" if v == 0 else f"{v:#x}"


def _octal(v: int) -> str:
    """C's %#03o, as strace prints modes: 000, 022, 0644, 04755."""
    return ("0" + format(v, "o") if v else "0").rjust(3, "0")


def _is_error(result: int) -> bool:
    return -_MAX_ERRNO <= result <= -1


# --------------------------------------------------------------------------
# Strings
# --------------------------------------------------------------------------

_ESCAPES = {
    ord('"'): '\\"',
    ord("\\"): "\\\\",
    ord("\f"): "\\f",
    ord("\n"): "\\n",
    ord("\r"): "\\r",
    ord("\t"): "\\t",
    ord("\v"): "\\v",
}


def quote_bytes(data: bytes, *, force_hex: bool = False) -> str:
    """Quote bytes like strace: C escapes, other non-printables as short octal.

    An octal escape is widened to three digits when the next byte is an
    octal digit, so that "\\0" followed by "1" prints as "\\0001".
    """
    if force_hex:
        return '"' + "".join(f"\\x{c:02x}" for c in data) + '"'
    out = []
    last = len(data) - 1
    for i, c in enumerate(data):
        esc = _ESCAPES.get(c)
        if esc is not None:
            out.append(esc)
        elif 0x20 <= c < 0x7F:
            out.append(chr(c))
        elif i < last and 0x30 <= data[i + 1] <= 0x37:
            out.append(f"\\{c:03o}")
        else:
            out.append(f"\\{c:o}")
    return '"' + "".join(out) + '"'


# --------------------------------------------------------------------------
# Symbolic tables
# --------------------------------------------------------------------------

class _Flags:
    """Bit flags printed as NAME|NAME|0xrest, like strace's printflags().

    Names are tried in order; a name matches when all its bits are still
    unprinted, so composite values (O_SYNC, STATX_ALL) must come first.
    """

    def __init__(self, names: Sequence[tuple[int, str]], unknown: str,
                 zero: str = "0", bits: int = 32):
        self.names = tuple(names)
        self.unknown = unknown
        self.zero = zero
        self.mask = (1 << bits) - 1

    def parts(self, value: int) -> list[str]:
        """Names of the set flags followed by the unnamed rest in hex."""
        rest = value & self.mask
        out = []
        for bit, name in self.names:
            if bit and rest & bit == bit:
                out.append(name)
                rest &= ~bit
        if rest:
            out.append(f"{rest:#x}")
        return out

    def __call__(self, value: int) -> str:
        value &= self.mask
        if value == 0:
            return self.zero
        parts = self.parts(value)
        if len(parts) == 1 and parts[0].startswith("0x"):
            return f"{value:#x} /* {self.unknown} */"
        return "|".join(parts)


class _Enum:
    """One value out of a table, like strace's printxval()."""

    def __init__(self, names: dict[int, str], unknown: str, bits: int = 32):
        self.names = names
        self.unknown = unknown
        self.mask = (1 << bits) - 1

    def __call__(self, value: int) -> str:
        value &= self.mask
        name = self.names.get(value)
        return name if name is not None else f"{value:#x} /* {self.unknown} */" if value else f"0 /* {self.unknown} */"


# open(2) and friends --------------------------------------------------------

_O_ACCMODE = {0: "O_RDONLY", 1: "O_WRONLY", 2: "O_RDWR", 3: "O_ACCMODE"}
_O_CREAT = 0o100
_O_TMPFILE_BIT = 0o20000000          # __O_TMPFILE; O_TMPFILE is this | O_DIRECTORY
_O_FLAGS = _Flags([
    (0o100, "O_CREAT"),
    (0o200, "O_EXCL"),
    (0o400, "O_NOCTTY"),
    (0o1000, "O_TRUNC"),
    (0o2000, "O_APPEND"),
    (0o4000, "O_NONBLOCK"),
    (0o4010000, "O_SYNC"),            # __O_SYNC | O_DSYNC
    (0o10000, "O_DSYNC"),
    (0o40000, "O_DIRECT"),
    (0o100000, "O_LARGEFILE"),
    (0o400000, "O_NOFOLLOW"),
    (0o1000000, "O_NOATIME"),
    (0o2000000, "O_CLOEXEC"),
    (0o10000000, "O_PATH"),
    (0o20200000, "O_TMPFILE"),        # __O_TMPFILE | O_DIRECTORY
    (0o200000, "O_DIRECTORY"),
    (0o20000, "FASYNC"),
], unknown="O_???")


def _open_flags(v: int) -> str:
    """Access mode first, then the other O_* flags (open, openat, F_SETFL)."""
    v = _u32(v)
    return "|".join([_O_ACCMODE[v & 3]] + _O_FLAGS.parts(v & ~3))


_S_IFMT = 0o170000
_S_IFCHR = 0o020000
_S_IFBLK = 0o060000
_FILE_TYPES = {
    0o140000: "S_IFSOCK",
    0o120000: "S_IFLNK",
    0o100000: "S_IFREG",
    0o060000: "S_IFBLK",
    0o040000: "S_IFDIR",
    0o020000: "S_IFCHR",
    0o010000: "S_IFIFO",
}
_MODE_SPECIAL = ((0o4000, "S_ISUID"), (0o2000, "S_ISGID"), (0o1000, "S_ISVTX"))


def _symbolic_mode(mode: int) -> str:
    """S_IFREG|S_ISUID|0755, as strace prints st_mode (the type part may be absent)."""
    kind = _FILE_TYPES.get(mode & _S_IFMT)
    if kind is None and mode & _S_IFMT:
        return _octal(mode)
    parts = [kind] if kind else []
    parts += [name for bit, name in _MODE_SPECIAL if mode & bit]
    return "|".join(parts + [_octal(mode & 0o777)])


def _makedev(dev: int) -> str:
    major = ((dev >> 8) & 0xFFF) | ((dev >> 32) & ~0xFFF)
    minor = (dev & 0xFF) | ((dev >> 12) & ~0xFF)
    return f"makedev({_hex(major)}, {_hex(minor)})"


_ACCESS_MODE = _Flags([(4, "R_OK"), (2, "W_OK"), (1, "X_OK")], unknown="?_OK", zero="F_OK")

_AT_FLAG_NAMES = [
    (0x100, "AT_SYMLINK_NOFOLLOW"),
    (0x200, "AT_REMOVEDIR"),
    (0x400, "AT_SYMLINK_FOLLOW"),
    (0x800, "AT_NO_AUTOMOUNT"),
    (0x1000, "AT_EMPTY_PATH"),
    (0x8000, "AT_RECURSIVE"),
]
_AT_FLAGS = _Flags(_AT_FLAG_NAMES, unknown="AT_???")
_FACCESSAT_FLAGS = _Flags([
    (0x100, "AT_SYMLINK_NOFOLLOW"),
    (0x200, "AT_EACCESS"),
    (0x1000, "AT_EMPTY_PATH"),
], unknown="AT_???")
_AT_STATX_SYNC_TYPE = 0x6000
_STATX_AT_FLAGS = _Flags(
    [(0x2000, "AT_STATX_FORCE_SYNC"), (0x4000, "AT_STATX_DONT_SYNC")] + _AT_FLAG_NAMES,
    unknown="AT_???")


def _statx_flags(v: int) -> str:
    v = _u32(v)
    parts = _STATX_AT_FLAGS.parts(v)
    if not v & _AT_STATX_SYNC_TYPE:
        parts.insert(0, "AT_STATX_SYNC_AS_STAT")
    return "|".join(parts)


_STATX_MASK = _Flags([
    (0xFFF, "STATX_ALL"),
    (0x7FF, "STATX_BASIC_STATS"),
    (0x1, "STATX_TYPE"),
    (0x2, "STATX_MODE"),
    (0x4, "STATX_NLINK"),
    (0x8, "STATX_UID"),
    (0x10, "STATX_GID"),
    (0x20, "STATX_ATIME"),
    (0x40, "STATX_MTIME"),
    (0x80, "STATX_CTIME"),
    (0x100, "STATX_INO"),
    (0x200, "STATX_SIZE"),
    (0x400, "STATX_BLOCKS"),
    (0x800, "STATX_BTIME"),
    (0x1000, "STATX_MNT_ID"),
    (0x2000, "STATX_DIOALIGN"),
    (0x4000, "STATX_MNT_ID_UNIQUE"),
    (0x8000, "STATX_SUBVOL"),
    (0x10000, "STATX_WRITE_ATOMIC"),
    (0x20000, "STATX_DIO_READ_ALIGN"),
], unknown="STATX_???")
_STATX_ATTRIBUTES = _Flags([
    (0x4, "STATX_ATTR_COMPRESSED"),
    (0x10, "STATX_ATTR_IMMUTABLE"),
    (0x20, "STATX_ATTR_APPEND"),
    (0x40, "STATX_ATTR_NODUMP"),
    (0x800, "STATX_ATTR_ENCRYPTED"),
    (0x1000, "STATX_ATTR_AUTOMOUNT"),
    (0x2000, "STATX_ATTR_MOUNT_ROOT"),
    (0x100000, "STATX_ATTR_VERITY"),
    (0x200000, "STATX_ATTR_DAX"),
    (0x400000, "STATX_ATTR_WRITE_ATOMIC"),
], unknown="STATX_ATTR_???", bits=64)

# Memory -------------------------------------------------------------------

_PROT = _Flags([
    (0x1, "PROT_READ"),
    (0x2, "PROT_WRITE"),
    (0x4, "PROT_EXEC"),
    (0x8, "PROT_SEM"),
    (0x01000000, "PROT_GROWSDOWN"),
    (0x02000000, "PROT_GROWSUP"),
], unknown="PROT_???", zero="PROT_NONE", bits=64)

_MAP_TYPES = {0: "MAP_FILE", 1: "MAP_SHARED", 2: "MAP_PRIVATE", 3: "MAP_SHARED_VALIDATE"}
_MAP_TYPE_MASK = 0xF
_MAP_HUGE_SHIFT = 26
_MAP_HUGE_MASK = 0x3F << _MAP_HUGE_SHIFT
_MAP_FLAGS = _Flags([
    (0x10, "MAP_FIXED"),
    (0x20, "MAP_ANONYMOUS"),
    (0x40, "MAP_32BIT"),
    (0x4000, "MAP_NORESERVE"),
    (0x8000, "MAP_POPULATE"),
    (0x10000, "MAP_NONBLOCK"),
    (0x100, "MAP_GROWSDOWN"),
    (0x800, "MAP_DENYWRITE"),
    (0x1000, "MAP_EXECUTABLE"),
    (0x2000, "MAP_LOCKED"),
    (0x20000, "MAP_STACK"),
    (0x40000, "MAP_HUGETLB"),
    (0x80000, "MAP_SYNC"),
    (0x100000, "MAP_FIXED_NOREPLACE"),
], unknown="MAP_???")


def _mmap_flags(v: int) -> str:
    v &= _U32
    kind = v & _MAP_TYPE_MASK
    parts = [_MAP_TYPES.get(kind, f"{kind:#x} /* MAP_??? */")]
    parts += _MAP_FLAGS.parts(v & ~(_MAP_TYPE_MASK | _MAP_HUGE_MASK))
    if v & _MAP_HUGE_MASK:
        parts.append(f"{(v & _MAP_HUGE_MASK) >> _MAP_HUGE_SHIFT}<<MAP_HUGE_SHIFT")
    return "|".join(parts)


_MREMAP_FIXED = 2
_MREMAP_FLAGS = _Flags([(1, "MREMAP_MAYMOVE"), (2, "MREMAP_FIXED"), (4, "MREMAP_DONTUNMAP")],
                       unknown="MREMAP_???", bits=64)
_MADVISE = _Enum({
    0: "MADV_NORMAL", 1: "MADV_RANDOM", 2: "MADV_SEQUENTIAL", 3: "MADV_WILLNEED",
    4: "MADV_DONTNEED", 8: "MADV_FREE", 9: "MADV_REMOVE", 10: "MADV_DONTFORK",
    11: "MADV_DOFORK", 12: "MADV_MERGEABLE", 13: "MADV_UNMERGEABLE", 14: "MADV_HUGEPAGE",
    15: "MADV_NOHUGEPAGE", 16: "MADV_DONTDUMP", 17: "MADV_DODUMP", 18: "MADV_WIPEONFORK",
    19: "MADV_KEEPONFORK", 20: "MADV_COLD", 21: "MADV_PAGEOUT", 22: "MADV_POPULATE_READ",
    23: "MADV_POPULATE_WRITE", 24: "MADV_DONTNEED_LOCKED", 25: "MADV_COLLAPSE",
    100: "MADV_HWPOISON", 101: "MADV_SOFT_OFFLINE",
}, unknown="MADV_???")

# File descriptors -----------------------------------------------------------

_AT_FDCWD = -100
_FD_FLAGS = _Flags([(1, "FD_CLOEXEC")], unknown="FD_???")

_F_GETFD, _F_SETFD, _F_GETFL, _F_SETFL = 1, 2, 3, 4
_F_SETSIG, _F_SETLEASE, _F_NOTIFY, _F_ADD_SEALS = 10, 1024, 1026, 1033
_FCNTL_CMDS = {
    0: "F_DUPFD", 1: "F_GETFD", 2: "F_SETFD", 3: "F_GETFL", 4: "F_SETFL",
    5: "F_GETLK", 6: "F_SETLK", 7: "F_SETLKW", 8: "F_SETOWN", 9: "F_GETOWN",
    10: "F_SETSIG", 11: "F_GETSIG", 15: "F_SETOWN_EX", 16: "F_GETOWN_EX",
    17: "F_GETOWNER_UIDS", 36: "F_OFD_GETLK", 37: "F_OFD_SETLK", 38: "F_OFD_SETLKW",
    1024: "F_SETLEASE", 1025: "F_GETLEASE", 1026: "F_NOTIFY", 1027: "F_DUPFD_QUERY",
    1028: "F_CREATED_QUERY", 1030: "F_DUPFD_CLOEXEC", 1031: "F_SETPIPE_SZ",
    1032: "F_GETPIPE_SZ", 1033: "F_ADD_SEALS", 1034: "F_GET_SEALS",
    1035: "F_GET_RW_HINT", 1036: "F_SET_RW_HINT", 1037: "F_GET_FILE_RW_HINT",
    1038: "F_SET_FILE_RW_HINT",
}
_FCNTL_CMD = _Enum(_FCNTL_CMDS, unknown="F_???")
_FCNTL_NO_ARG = {1, 3, 9, 11, 1025, 1028, 1032, 1034}
_FCNTL_PTR_ARG = {5, 6, 7, 15, 16, 17, 36, 37, 38, 1035, 1036, 1037, 1038}
_FCNTL_LEASE = _Enum({0: "F_RDLCK", 1: "F_WRLCK", 2: "F_UNLCK"}, unknown="F_???")
_FCNTL_SEALS = _Flags([
    (1, "F_SEAL_SEAL"), (2, "F_SEAL_SHRINK"), (4, "F_SEAL_GROW"),
    (8, "F_SEAL_WRITE"), (0x10, "F_SEAL_FUTURE_WRITE"), (0x20, "F_SEAL_EXEC"),
], unknown="F_SEAL_???")
_DNOTIFY = _Flags([
    (1, "DN_ACCESS"), (2, "DN_MODIFY"), (4, "DN_CREATE"), (8, "DN_DELETE"),
    (0x10, "DN_RENAME"), (0x20, "DN_ATTRIB"), (0x80000000, "DN_MULTISHOT"),
], unknown="DN_???")

_SEEK = _Enum({**SYSCALL_ARG_DICT["lseek"]["origin"], 3: "SEEK_DATA", 4: "SEEK_HOLE"},
              unknown="SEEK_???")
_CLOSE_RANGE = _Flags([(2, "CLOSE_RANGE_UNSHARE"), (4, "CLOSE_RANGE_CLOEXEC")],
                      unknown="CLOSE_RANGE_???")
_GRND = _Flags([(1, "GRND_NONBLOCK"), (2, "GRND_RANDOM"), (4, "GRND_INSECURE")],
               unknown="GRND_???")
_MFD = _Flags([(1, "MFD_CLOEXEC"), (2, "MFD_ALLOW_SEALING"), (4, "MFD_HUGETLB"),
               (8, "MFD_NOEXEC_SEAL"), (0x10, "MFD_EXEC")], unknown="MFD_???")
_EFD = _Flags([(1, "EFD_SEMAPHORE"), (0o2000000, "EFD_CLOEXEC"), (0o4000, "EFD_NONBLOCK")],
              unknown="EFD_???")
_EPOLL_CREATE = _Flags([(0o2000000, "EPOLL_CLOEXEC")], unknown="EPOLL_???")
_RENAME = _Flags([(1, "RENAME_NOREPLACE"), (2, "RENAME_EXCHANGE"), (4, "RENAME_WHITEOUT")],
                 unknown="RENAME_???")
_UMOUNT = _Flags([(1, "MNT_FORCE"), (2, "MNT_DETACH"), (4, "MNT_EXPIRE"),
                  (8, "UMOUNT_NOFOLLOW")], unknown="MNT_???")
_XATTR = _Flags([(1, "XATTR_CREATE"), (2, "XATTR_REPLACE")], unknown="XATTR_???")

_FADVISE = _Enum({0: "POSIX_FADV_NORMAL", 1: "POSIX_FADV_RANDOM", 2: "POSIX_FADV_SEQUENTIAL",
                  3: "POSIX_FADV_WILLNEED", 4: "POSIX_FADV_DONTNEED", 5: "POSIX_FADV_NOREUSE"},
                 unknown="POSIX_FADV_???")

# ioctl ------------------------------------------------------------------------

_IOCTL_NAMES = {
    0x5401: "TCGETS",
    0x5402: "SNDCTL_TMR_START or TCSETS",     # strace's own (ambiguous) spelling
    0x5403: "SNDCTL_TMR_STOP or TCSETSW",
    0x5404: "SNDCTL_TMR_CONTINUE or TCSETSF",
    0x5409: "TCSBRK",
    0x540A: "TCXONC",
    0x540B: "TCFLSH",
    0x540C: "TIOCEXCL",
    0x540D: "TIOCNXCL",
    0x540E: "TIOCSCTTY",
    0x540F: "TIOCGPGRP",
    0x5410: "TIOCSPGRP",
    0x5411: "TIOCOUTQ",
    0x5412: "TIOCSTI",
    0x5413: "TIOCGWINSZ",
    0x5414: "TIOCSWINSZ",
    0x541B: "FIONREAD",
    0x5421: "FIONBIO",
    0x5422: "TIOCNOTTY",
    0x5427: "TIOCSBRK",
    0x5428: "TIOCCBRK",
    0x5429: "TIOCGSID",
    0x5441: "TIOCGPTPEER",
    0x5450: "FIONCLEX",
    0x5451: "FIOCLEX",
    0x5452: "FIOASYNC",
    0x80045430: "TIOCGPTN",
    0x40045431: "TIOCSPTLCK",
    0x40049409: "BTRFS_IOC_CLONE or FICLONE",
}
_IOCTL_NO_ARG = {0x5450, 0x5451, 0x5422, 0x540C, 0x540D, 0x5427, 0x5428}
_IOCTL_INT_IN = {0x5421, 0x5452, 0x5410, 0x40045431}
_IOCTL_INT_OUT = {0x541B, 0x540F, 0x5411, 0x5429, 0x80045430}
_IOCTL_DECIMAL = {0x540E, 0x5409, 0x540A, 0x40049409}
_TIOCGWINSZ, _TIOCSWINSZ, _TCFLSH = 0x5413, 0x5414, 0x540B
_TCFLSH_ARG = _Enum({0: "TCIFLUSH", 1: "TCOFLUSH", 2: "TCIOFLUSH"}, unknown="TC???")
_IOC_DIRS = {0: "_IOC_NONE", 1: "_IOC_WRITE", 2: "_IOC_READ", 3: "_IOC_READ|_IOC_WRITE"}


def _ioctl_request(v: int) -> str:
    v = _u32(v)
    name = _IOCTL_NAMES.get(v)
    if name is not None:
        return name
    direction, size, kind, nr = v >> 30, (v >> 16) & 0x3FFF, (v >> 8) & 0xFF, v & 0xFF
    return f"_IOC({_IOC_DIRS[direction]}, {_hex(kind)}, {_hex(nr)}, {_hex(size)})"


# arch_prctl ---------------------------------------------------------------------

_ARCH_SET_GS, _ARCH_SET_FS, _ARCH_GET_FS, _ARCH_GET_GS, _ARCH_GET_CPUID = (
    0x1001, 0x1002, 0x1003, 0x1004, 0x1011)
_ARCH_PRCTL = _Enum({
    0x1001: "ARCH_SET_GS", 0x1002: "ARCH_SET_FS", 0x1003: "ARCH_GET_FS",
    0x1004: "ARCH_GET_GS", 0x1011: "ARCH_GET_CPUID", 0x1012: "ARCH_SET_CPUID",
    0x1021: "ARCH_GET_XCOMP_SUPP", 0x1022: "ARCH_GET_XCOMP_PERM",
    0x1023: "ARCH_REQ_XCOMP_PERM", 0x1024: "ARCH_GET_XCOMP_GUEST_PERM",
    0x1025: "ARCH_REQ_XCOMP_GUEST_PERM", 0x1026: "ARCH_XCOMP_TILECFG",
    0x2001: "ARCH_MAP_VDSO_X32", 0x2002: "ARCH_MAP_VDSO_32", 0x2003: "ARCH_MAP_VDSO_64",
    0x4001: "ARCH_GET_UNTAG_MASK", 0x4002: "ARCH_ENABLE_TAGGED_ADDR",
    0x4003: "ARCH_GET_MAX_TAG_BITS", 0x4004: "ARCH_FORCE_TAGGED_SVA",
    0x5001: "ARCH_SHSTK_ENABLE", 0x5002: "ARCH_SHSTK_DISABLE", 0x5003: "ARCH_SHSTK_LOCK",
    0x5004: "ARCH_SHSTK_UNLOCK", 0x5005: "ARCH_SHSTK_STATUS",
}, unknown="ARCH_???")

# Resources, clocks --------------------------------------------------------------

# python-ptrace calls 15 RLIMIT_NLIMITS; the kernel (and strace) say RLIMIT_RTTIME.
_RLIMIT = _Enum({**RLIMIT_RESOURCE, 15: "RLIMIT_RTTIME"}, unknown="RLIMIT_???")
_CLOCKS = _Enum({
    0: "CLOCK_REALTIME", 1: "CLOCK_MONOTONIC", 2: "CLOCK_PROCESS_CPUTIME_ID",
    3: "CLOCK_THREAD_CPUTIME_ID", 4: "CLOCK_MONOTONIC_RAW", 5: "CLOCK_REALTIME_COARSE",
    6: "CLOCK_MONOTONIC_COARSE", 7: "CLOCK_BOOTTIME", 8: "CLOCK_REALTIME_ALARM",
    9: "CLOCK_BOOTTIME_ALARM", 11: "CLOCK_TAI",
}, unknown="CLOCK_???")
_TIMER_FLAGS = _Flags([(1, "TIMER_ABSTIME")], unknown="TIMER_???")

# Signals, processes -----------------------------------------------------------------

_SIGNAL_NAMES = {
    1: "SIGHUP", 2: "SIGINT", 3: "SIGQUIT", 4: "SIGILL", 5: "SIGTRAP", 6: "SIGABRT",
    7: "SIGBUS", 8: "SIGFPE", 9: "SIGKILL", 10: "SIGUSR1", 11: "SIGSEGV", 12: "SIGUSR2",
    13: "SIGPIPE", 14: "SIGALRM", 15: "SIGTERM", 16: "SIGSTKFLT", 17: "SIGCHLD",
    18: "SIGCONT", 19: "SIGSTOP", 20: "SIGTSTP", 21: "SIGTTIN", 22: "SIGTTOU",
    23: "SIGURG", 24: "SIGXCPU", 25: "SIGXFSZ", 26: "SIGVTALRM", 27: "SIGPROF",
    28: "SIGWINCH", 29: "SIGIO", 30: "SIGPWR", 31: "SIGSYS",
}
_NSIG = 64
_SIGRTMIN = 32


def _signame(sig: int) -> str | None:
    if sig in _SIGNAL_NAMES:
        return _SIGNAL_NAMES[sig]
    if sig == _SIGRTMIN:
        return "SIGRTMIN"
    if _SIGRTMIN < sig <= _NSIG:
        return f"SIGRT_{sig - _SIGRTMIN}"
    return None


def _signal(v: int) -> str:
    sig = _s32(v)
    return _signame(sig) or str(sig)


def _sigset(mask: int) -> str:
    """strace's sigset: [INT CHLD], or ~[...] when at least 2/3 of the bits are set."""
    sigs = [s for s in range(1, _NSIG + 1) if mask >> (s - 1) & 1]
    prefix = ""
    if len(sigs) >= _NSIG * 2 // 3:
        prefix = "~"
        sigs = [s for s in range(1, _NSIG + 1) if not mask >> (s - 1) & 1]
    return prefix + "[" + " ".join(_signame(s)[3:] for s in sigs) + "]"


_SI_CODES = {0: "SI_USER", 0x80: "SI_KERNEL", -1: "SI_QUEUE", -2: "SI_TIMER", -3: "SI_MESGQ",
             -4: "SI_ASYNCIO", -5: "SI_SIGIO", -6: "SI_TKILL"}
_CLD_CODES = {1: "CLD_EXITED", 2: "CLD_KILLED", 3: "CLD_DUMPED", 4: "CLD_TRAPPED", 5: "CLD_STOPPED",
              6: "CLD_CONTINUED"}
_FAULT_CODES = {11: {1: "SEGV_MAPERR", 2: "SEGV_ACCERR"}, 7: {1: "BUS_ADRALN", 2: "BUS_ADRERR"},
                4: {1: "ILL_ILLOPC", 2: "ILL_ILLOPN"}, 8: {1: "FPE_INTDIV", 2: "FPE_INTOVF"}}
_SIGCHLD, _FAULTS = 17, (4, 7, 8, 11)


def format_siginfo(raw: bytes) -> str:
    """A signal delivery as strace shows it: `--- SIGTERM {si_signo=SIGTERM, ...} ---`."""
    signo, _errno, code = struct.unpack_from("<iii", raw, 0)
    name = _signame(signo) or str(signo)
    if signo == _SIGCHLD and code in _CLD_CODES:
        pid, uid, status = struct.unpack_from("<iIi", raw, 16)
        utime, stime = struct.unpack_from("<qq", raw, 32)
        status_text = (_signame(status) or str(status)) if code in (2, 3, 5, 6) else str(status)
        body = (f"si_code={_CLD_CODES[code]}, si_pid={pid}, si_uid={uid}, si_status={status_text}, "
                f"si_utime={utime}, si_stime={stime}")
    elif signo in _FAULTS and code > 0:
        addr, = struct.unpack_from("<Q", raw, 16)
        body = f"si_code={_FAULT_CODES[signo].get(code, code)}, si_addr={_ptr(addr)}"
    elif code in (0, -6):
        pid, uid = struct.unpack_from("<iI", raw, 16)
        body = f"si_code={_SI_CODES[code]}, si_pid={pid}, si_uid={uid}"
    else:
        body = f"si_code={_SI_CODES.get(code, code)}"
    return f"--- {name} {{si_signo={name}, {body}}} ---"


def format_sigreturn_mask(mask: int) -> str:
    """rt_sigreturn's argument as strace shows it: the mask the frame restores."""
    return f"rt_sigreturn({{mask={_sigset(mask)}}})"


_SIGPROCMASK_HOW = _Enum(SIGPROCMASK_HOW, unknown="SIG_???")
_SA_RESTORER = 0x04000000
_SA_FLAGS = _Flags([
    (0x04000000, "SA_RESTORER"),
    (0x08000000, "SA_ONSTACK"),
    (0x10000000, "SA_RESTART"),
    (0x20000000, "SA_INTERRUPT"),
    (0x40000000, "SA_NODEFER"),
    (0x80000000, "SA_RESETHAND"),
    (0x4, "SA_SIGINFO"),
    (0x1, "SA_NOCLDSTOP"),
    (0x2, "SA_NOCLDWAIT"),
], unknown="SA_???", bits=64)
_SA_HANDLERS = {0: "SIG_DFL", 1: "SIG_IGN"}

_WAIT_OPTIONS = _Flags([
    (1, "WNOHANG"), (2, "WSTOPPED"), (4, "WEXITED"), (8, "WCONTINUED"),
    (0x1000000, "WNOWAIT"), (0x20000000, "__WNOTHREAD"), (0x40000000, "__WALL"),
    (0x80000000, "__WCLONE"),
], unknown="W???")

_CSIGNAL = 0xFF
_CLONE_SETTLS = 0x80000
_CLONE_PARENT_SETTID = 0x100000
_CLONE_PIDFD = 0x1000
_CLONE_CHILD_TID = 0x200000 | 0x1000000     # CLONE_CHILD_CLEARTID | CLONE_CHILD_SETTID
_CLONE_FLAGS = _Flags([
    (0x100, "CLONE_VM"), (0x200, "CLONE_FS"), (0x400, "CLONE_FILES"),
    (0x800, "CLONE_SIGHAND"), (0x1000, "CLONE_PIDFD"), (0x2000, "CLONE_PTRACE"),
    (0x4000, "CLONE_VFORK"), (0x8000, "CLONE_PARENT"), (0x10000, "CLONE_THREAD"),
    (0x20000, "CLONE_NEWNS"), (0x40000, "CLONE_SYSVSEM"), (0x80000, "CLONE_SETTLS"),
    (0x100000, "CLONE_PARENT_SETTID"), (0x200000, "CLONE_CHILD_CLEARTID"),
    (0x800000, "CLONE_UNTRACED"), (0x1000000, "CLONE_CHILD_SETTID"),
    (0x2000000, "CLONE_NEWCGROUP"), (0x4000000, "CLONE_NEWUTS"),
    (0x8000000, "CLONE_NEWIPC"), (0x10000000, "CLONE_NEWUSER"),
    (0x20000000, "CLONE_NEWPID"), (0x40000000, "CLONE_NEWNET"), (0x80000000, "CLONE_IO"),
], unknown="CLONE_???", bits=64)


def _clone_flags(v: int) -> str:
    parts = _CLONE_FLAGS.parts(v & ~_CSIGNAL)
    sig = v & _CSIGNAL
    if sig:
        parts.append(_signame(sig) or str(sig))
    return "|".join(parts) or "0"


_FUTEX_PRIVATE, _FUTEX_CLOCK_REALTIME = 128, 256
_FUTEX_CMDS = {
    0: "FUTEX_WAIT", 1: "FUTEX_WAKE", 2: "FUTEX_FD", 3: "FUTEX_REQUEUE",
    4: "FUTEX_CMP_REQUEUE", 5: "FUTEX_WAKE_OP", 6: "FUTEX_LOCK_PI", 7: "FUTEX_UNLOCK_PI",
    8: "FUTEX_TRYLOCK_PI", 9: "FUTEX_WAIT_BITSET", 10: "FUTEX_WAKE_BITSET",
    11: "FUTEX_WAIT_REQUEUE_PI", 12: "FUTEX_CMP_REQUEUE_PI", 13: "FUTEX_LOCK_PI2",
}
_FUTEX_WAKE_OPS = _Enum({0: "FUTEX_OP_SET", 1: "FUTEX_OP_ADD", 2: "FUTEX_OP_OR",
                         3: "FUTEX_OP_ANDN", 4: "FUTEX_OP_XOR"}, unknown="FUTEX_OP_???")
_FUTEX_WAKE_CMPS = _Enum({0: "FUTEX_OP_CMP_EQ", 1: "FUTEX_OP_CMP_NE", 2: "FUTEX_OP_CMP_LT",
                          3: "FUTEX_OP_CMP_LE", 4: "FUTEX_OP_CMP_GT", 5: "FUTEX_OP_CMP_GE"},
                         unknown="FUTEX_OP_CMP_???")

# Sockets --------------------------------------------------------------------------

_AF_UNIX, _AF_INET, _AF_INET6, _AF_NETLINK = 1, 2, 10, 16
# python-ptrace spells 1 AF_FILE; strace prints AF_UNIX.
_SOCKET_FAMILY = _Enum({**SOCKET_FAMILY, 1: "AF_UNIX", 38: "AF_ALG", 40: "AF_VSOCK",
                        44: "AF_XDP"}, unknown="AF_???")
_SOCK_TYPE = _Enum({**SOCKET_TYPE, 6: "SOCK_DCCP"}, unknown="SOCK_???")
_SOCK_FLAGS = _Flags([(0o2000000, "SOCK_CLOEXEC"), (0o4000, "SOCK_NONBLOCK")],
                     unknown="SOCK_???")
# setsockopt and getsockopt: levels and option names as strace prints them
_SOL = _Enum({0: "SOL_IP", 1: "SOL_SOCKET", 6: "SOL_TCP", 17: "SOL_UDP", 41: "SOL_IPV6", 58: "SOL_ICMPV6",
              136: "SOL_UDPLITE", 255: "SOL_RAW", 263: "SOL_PACKET", 270: "SOL_NETLINK"}, unknown="SOL_???")
_SOCKOPTS = {
    0: _Enum({
        1: "IP_TOS", 2: "IP_TTL", 3: "IP_HDRINCL", 4: "IP_OPTIONS", 5: "IP_ROUTER_ALERT",
        6: "IP_RECVOPTS", 7: "IP_RETOPTS", 8: "IP_PKTINFO", 9: "IP_PKTOPTIONS",
        10: "IP_MTU_DISCOVER", 11: "IP_RECVERR", 12: "IP_RECVTTL", 13: "IP_RECVTOS", 14: "IP_MTU",
        15: "IP_FREEBIND", 16: "IP_IPSEC_POLICY", 17: "IP_XFRM_POLICY", 18: "IP_PASSSEC",
        19: "IP_TRANSPARENT", 20: "IP_ORIGDSTADDR", 21: "IP_MINTTL", 22: "IP_NODEFRAG",
        23: "IP_CHECKSUM", 24: "IP_BIND_ADDRESS_NO_PORT", 25: "IP_RECVFRAGSIZE",
        26: "IP_RECVERR_RFC4884", 32: "IP_MULTICAST_IF", 33: "IP_MULTICAST_TTL",
        34: "IP_MULTICAST_LOOP", 35: "IP_ADD_MEMBERSHIP", 36: "IP_DROP_MEMBERSHIP",
        37: "IP_UNBLOCK_SOURCE", 38: "IP_BLOCK_SOURCE", 39: "IP_ADD_SOURCE_MEMBERSHIP",
        40: "IP_DROP_SOURCE_MEMBERSHIP", 41: "IP_MSFILTER", 42: "MCAST_JOIN_GROUP",
        43: "MCAST_BLOCK_SOURCE", 44: "MCAST_UNBLOCK_SOURCE", 45: "MCAST_LEAVE_GROUP",
        46: "MCAST_JOIN_SOURCE_GROUP", 47: "MCAST_LEAVE_SOURCE_GROUP", 48: "MCAST_MSFILTER",
        49: "IP_MULTICAST_ALL", 50: "IP_UNICAST_IF"
    }, unknown="IP_???"),
    1: _Enum({
        1: "SO_DEBUG", 2: "SO_REUSEADDR", 3: "SO_TYPE", 4: "SO_ERROR", 5: "SO_DONTROUTE",
        6: "SO_BROADCAST", 7: "SO_SNDBUF", 8: "SO_RCVBUF", 9: "SO_KEEPALIVE", 10: "SO_OOBINLINE",
        11: "SO_NO_CHECK", 12: "SO_PRIORITY", 13: "SO_LINGER", 14: "SO_BSDCOMPAT",
        15: "SO_REUSEPORT", 16: "SO_PASSCRED", 17: "SO_PEERCRED", 18: "SO_RCVLOWAT",
        19: "SO_SNDLOWAT", 20: "SO_RCVTIMEO_OLD", 21: "SO_SNDTIMEO_OLD",
        22: "SO_SECURITY_AUTHENTICATION", 23: "SO_SECURITY_ENCRYPTION_TRANSPORT",
        24: "SO_SECURITY_ENCRYPTION_NETWORK", 25: "SO_BINDTODEVICE", 26: "SO_ATTACH_FILTER",
        27: "SO_DETACH_FILTER", 28: "SO_PEERNAME", 29: "SO_TIMESTAMP_OLD", 30: "SO_ACCEPTCONN",
        31: "SO_PEERSEC", 32: "SO_SNDBUFFORCE", 33: "SO_RCVBUFFORCE", 34: "SO_PASSSEC",
        35: "SO_TIMESTAMPNS_OLD", 36: "SO_MARK", 37: "SO_TIMESTAMPING_OLD", 38: "SO_PROTOCOL",
        39: "SO_DOMAIN", 40: "SO_RXQ_OVFL", 41: "SO_WIFI_STATUS", 42: "SO_PEEK_OFF", 43: "SO_NOFCS",
        44: "SO_LOCK_FILTER", 45: "SO_SELECT_ERR_QUEUE", 46: "SO_BUSY_POLL",
        47: "SO_MAX_PACING_RATE", 48: "SO_BPF_EXTENSIONS", 49: "SO_INCOMING_CPU",
        50: "SO_ATTACH_BPF", 51: "SO_ATTACH_REUSEPORT_CBPF", 52: "SO_ATTACH_REUSEPORT_EBPF",
        53: "SO_CNX_ADVICE", 55: "SO_MEMINFO", 56: "SO_INCOMING_NAPI_ID", 57: "SO_COOKIE",
        59: "SO_PEERGROUPS", 60: "SO_ZEROCOPY", 61: "SO_TXTIME", 62: "SO_BINDTOIFINDEX",
        63: "SO_TIMESTAMP_NEW", 64: "SO_TIMESTAMPNS_NEW", 65: "SO_TIMESTAMPING_NEW",
        66: "SO_RCVTIMEO_NEW", 67: "SO_SNDTIMEO_NEW", 68: "SO_DETACH_REUSEPORT_BPF",
        69: "SO_PREFER_BUSY_POLL", 70: "SO_BUSY_POLL_BUDGET", 71: "SO_NETNS_COOKIE",
        72: "SO_BUF_LOCK", 73: "SO_RESERVE_MEM", 74: "SO_TXREHASH", 75: "SO_RCVMARK"
    }, unknown="SO_???"),
    6: _Enum({
        1: "TCP_NODELAY", 2: "TCP_MAXSEG", 3: "TCP_CORK", 4: "TCP_KEEPIDLE", 5: "TCP_KEEPINTVL",
        6: "TCP_KEEPCNT", 7: "TCP_SYNCNT", 8: "TCP_LINGER2", 9: "TCP_DEFER_ACCEPT",
        10: "TCP_WINDOW_CLAMP", 11: "TCP_INFO", 12: "TCP_QUICKACK", 13: "TCP_CONGESTION",
        14: "TCP_MD5SIG", 15: "TCP_COOKIE_TRANSACTIONS", 16: "TCP_THIN_LINEAR_TIMEOUTS",
        17: "TCP_THIN_DUPACK", 18: "TCP_USER_TIMEOUT", 19: "TCP_REPAIR", 20: "TCP_REPAIR_QUEUE",
        21: "TCP_QUEUE_SEQ", 22: "TCP_REPAIR_OPTIONS", 23: "TCP_FASTOPEN", 24: "TCP_TIMESTAMP",
        25: "TCP_NOTSENT_LOWAT", 26: "TCP_CC_INFO", 27: "TCP_SAVE_SYN", 28: "TCP_SAVED_SYN",
        29: "TCP_REPAIR_WINDOW", 30: "TCP_FASTOPEN_CONNECT", 31: "TCP_ULP", 32: "TCP_MD5SIG_EXT",
        33: "TCP_FASTOPEN_KEY", 34: "TCP_FASTOPEN_NO_COOKIE", 35: "TCP_ZEROCOPY_RECEIVE",
        36: "TCP_INQ", 37: "TCP_TX_DELAY"
    }, unknown="TCP_???"),
    17: _Enum({
        1: "UDP_CORK", 100: "UDP_ENCAP", 101: "UDP_NO_CHECK6_TX", 102: "UDP_NO_CHECK6_RX",
        103: "UDP_SEGMENT", 104: "UDP_GRO"
    }, unknown="UDP_???"),
    41: _Enum({
        1: "IPV6_ADDRFORM", 2: "IPV6_2292PKTINFO", 3: "IPV6_2292HOPOPTS", 4: "IPV6_2292DSTOPTS",
        5: "IPV6_2292RTHDR", 6: "IPV6_2292PKTOPTIONS", 7: "IPV6_CHECKSUM", 8: "IPV6_2292HOPLIMIT",
        9: "IPV6_NEXTHOP", 10: "IPV6_AUTHHDR", 11: "IPV6_FLOWINFO", 16: "IPV6_UNICAST_HOPS",
        17: "IPV6_MULTICAST_IF", 18: "IPV6_MULTICAST_HOPS", 19: "IPV6_MULTICAST_LOOP",
        20: "IPV6_ADD_MEMBERSHIP", 21: "IPV6_DROP_MEMBERSHIP", 22: "IPV6_ROUTER_ALERT",
        23: "IPV6_MTU_DISCOVER", 24: "IPV6_MTU", 25: "IPV6_RECVERR", 26: "IPV6_V6ONLY",
        27: "IPV6_JOIN_ANYCAST", 28: "IPV6_LEAVE_ANYCAST", 29: "IPV6_MULTICAST_ALL",
        30: "IPV6_ROUTER_ALERT_ISOLATE", 31: "IPV6_RECVERR_RFC4884", 32: "IPV6_FLOWLABEL_MGR",
        33: "IPV6_FLOWINFO_SEND", 34: "IPV6_IPSEC_POLICY", 35: "IPV6_XFRM_POLICY",
        36: "IPV6_HDRINCL", 42: "MCAST_JOIN_GROUP", 43: "MCAST_BLOCK_SOURCE",
        44: "MCAST_UNBLOCK_SOURCE", 45: "MCAST_LEAVE_GROUP", 46: "MCAST_JOIN_SOURCE_GROUP",
        47: "MCAST_LEAVE_SOURCE_GROUP", 48: "MCAST_MSFILTER", 49: "IPV6_RECVPKTINFO",
        50: "IPV6_PKTINFO", 51: "IPV6_RECVHOPLIMIT", 52: "IPV6_HOPLIMIT", 53: "IPV6_RECVHOPOPTS",
        54: "IPV6_HOPOPTS", 55: "IPV6_RTHDRDSTOPTS", 56: "IPV6_RECVRTHDR", 57: "IPV6_RTHDR",
        58: "IPV6_RECVDSTOPTS", 59: "IPV6_DSTOPTS", 60: "IPV6_RECVPATHMTU", 61: "IPV6_PATHMTU",
        62: "IPV6_DONTFRAG", 63: "IPV6_USE_MIN_MTU", 64: "IP6T_SO_SET_REPLACE",
        65: "IP6T_SO_SET_ADD_COUNTERS", 66: "IPV6_RECVTCLASS", 67: "IPV6_TCLASS",
        70: "IPV6_AUTOFLOWLABEL", 72: "IPV6_ADDR_PREFERENCES", 73: "IPV6_MINHOPCOUNT",
        74: "IPV6_ORIGDSTADDR", 75: "IPV6_TRANSPARENT", 76: "IPV6_UNICAST_IF",
        77: "IPV6_RECVFRAGSIZE", 78: "IPV6_FREEBIND"
    }, unknown="IPV6_???"),
}
_SO_LINGER = 13
# (level, option)s whose value is a struct: strace shows their address, not [N]
_STRUCT_SOCKOPTS = {(0, 35), (0, 36), (0, 42), (0, 45), (1, 13), (1, 26), (1, 51), (41, 20), (41, 21), (41, 27),
                    (41, 28), (41, 42), (41, 45)}
_SHUT = _Enum({0: "SHUT_RD", 1: "SHUT_WR", 2: "SHUT_RDWR"}, unknown="SHUT_???")

_IPPROTO = _Enum({
    0: "IPPROTO_IP", 1: "IPPROTO_ICMP", 2: "IPPROTO_IGMP", 4: "IPPROTO_IPIP",
    6: "IPPROTO_TCP", 17: "IPPROTO_UDP", 41: "IPPROTO_IPV6", 47: "IPPROTO_GRE",
    50: "IPPROTO_ESP", 51: "IPPROTO_AH", 58: "IPPROTO_ICMPV6", 132: "IPPROTO_SCTP",
    136: "IPPROTO_UDPLITE", 255: "IPPROTO_RAW", 262: "IPPROTO_MPTCP",
}, unknown="IPPROTO_???")
_NETLINK_PROTO = _Enum({
    0: "NETLINK_ROUTE", 2: "NETLINK_USERSOCK", 3: "NETLINK_FIREWALL", 4: "NETLINK_SOCK_DIAG",
    5: "NETLINK_NFLOG", 6: "NETLINK_XFRM", 7: "NETLINK_SELINUX", 8: "NETLINK_ISCSI",
    9: "NETLINK_AUDIT", 10: "NETLINK_FIB_LOOKUP", 11: "NETLINK_CONNECTOR",
    12: "NETLINK_NETFILTER", 13: "NETLINK_IP6_FW", 14: "NETLINK_DNRTMSG",
    15: "NETLINK_KOBJECT_UEVENT", 16: "NETLINK_GENERIC", 18: "NETLINK_SCSITRANSPORT",
    19: "NETLINK_ECRYPTFS", 20: "NETLINK_RDMA", 21: "NETLINK_CRYPTO", 22: "NETLINK_SMC",
}, unknown="NETLINK_???")
_MSG_FLAGS = _Flags([
    (0x1, "MSG_OOB"), (0x2, "MSG_PEEK"), (0x4, "MSG_DONTROUTE"), (0x8, "MSG_CTRUNC"),
    (0x10, "MSG_PROXY"), (0x20, "MSG_TRUNC"), (0x40, "MSG_DONTWAIT"), (0x80, "MSG_EOR"),
    (0x100, "MSG_WAITALL"), (0x200, "MSG_FIN"), (0x400, "MSG_SYN"), (0x800, "MSG_CONFIRM"),
    (0x1000, "MSG_RST"), (0x2000, "MSG_ERRQUEUE"), (0x4000, "MSG_NOSIGNAL"),
    (0x8000, "MSG_MORE"), (0x10000, "MSG_WAITFORONE"), (0x40000, "MSG_BATCH"),
    (0x4000000, "MSG_ZEROCOPY"), (0x20000000, "MSG_FASTOPEN"),
    (0x40000000, "MSG_CMSG_CLOEXEC"),
], unknown="MSG_???")


def _socket_type(v: int) -> str:
    v = _u32(v)
    kind = _SOCK_TYPE(v & 0xF)
    return kind if v == v & 0xF else f"{kind}|{_SOCK_FLAGS(v & ~0xF)}"


# Errors ---------------------------------------------------------------------------

# Python's errno.errorcode picks the other alias for these two numbers.
_ERRNO_NAMES = {**_errno.errorcode, _errno.EDEADLK: "EDEADLK", _errno.EOPNOTSUPP: "EOPNOTSUPP"}
# Kernel-internal errnos that can leak to a tracer (include/linux/errno.h).
_ERRNO_NAMES.update({
    512: "ERESTARTSYS", 513: "ERESTARTNOINTR", 514: "ERESTARTNOHAND", 515: "ENOIOCTLCMD",
    516: "ERESTART_RESTARTBLOCK", 517: "EPROBE_DEFER", 518: "EOPENSTALE", 519: "ENOPARAM",
    521: "EBADHANDLE", 522: "ENOTSYNC", 523: "EBADCOOKIE", 524: "ENOTSUPP",
    525: "ETOOSMALL", 526: "ESERVERFAULT", 527: "EBADTYPE", 528: "EJUKEBOX",
    529: "EIOCBQUEUED", 530: "ERECALLCONFLICT",
})
# Interrupted calls that the kernel restarts: strace shows "= ? ERESTARTSYS (...)".
_RESTART_TEXT = {
    512: "To be restarted if SA_RESTART is set",
    513: "To be restarted",
    514: "To be restarted if no handler",
    516: "Interrupted by signal",
}


# --------------------------------------------------------------------------
# Call context and argument formatters
# --------------------------------------------------------------------------

@dataclass
class _Call:
    """One call being formatted.

    ``snapshot`` holds memory read when the call was entered (see begin_call):
    data the call reads from the tracee is taken from it, so the line shows the
    arguments as passed even if the call overwrote them (execve, or sigprocmask
    with set == oldset).  Buffers the call fills in are read live, after it.
    """
    name: str
    args: tuple[int, ...]
    result: int | None
    read_string: ReadString
    read_bytes: ReadBytes
    snapshot: dict[tuple[str, int, int], bytes | None] | None = None
    recording: bool = False

    @property
    def ok(self) -> bool:
        """The call returned and did not fail: output buffers are meaningful."""
        return self.result is not None and not _is_error(self.result)

    def after(self) -> _Call:
        """This call, reading memory live (for what the kernel wrote)."""
        return replace(self, snapshot=None, recording=False)

    def _read(self, kind: str, addr: int, size: int) -> bytes | None:
        key = (kind, addr, size)
        if self.snapshot is not None and key in self.snapshot:
            return self.snapshot[key]
        reader = self.read_string if kind == "s" else self.read_bytes
        try:
            data = reader(addr, size)
        except OSError:
            data = None
        data = None if data is None else bytes(data)
        if self.recording and self.snapshot is not None:
            self.snapshot[key] = data
        return data

    def mem(self, addr: int, size: int) -> bytes | None:
        if addr == 0:
            return None
        if size == 0:
            return b""
        data = self._read("b", addr, size)
        if data is None or len(data) < size:
            return None
        return data[:size]

    def cstring(self, addr: int, limit: int) -> str:
        """A NUL-terminated string, cut after ``limit`` bytes ("..." appended)."""
        if addr == 0:
            return "NULL"
        data = self._read("s", addr, limit + 1)
        if data is None:
            return _ptr(addr)
        data = data.split(b"\0", 1)[0]
        if len(data) > limit:
            return quote_bytes(data[:limit]) + "..."
        return quote_bytes(data)

    def buffer(self, addr: int, size: int, *, force_hex: bool = False) -> str:
        """``size`` bytes at ``addr``, cut after MAX_STRLEN ("..." appended)."""
        shown = min(size, MAX_STRLEN)
        data = self.mem(addr, shown)
        if data is None:
            return _ptr(addr)
        text = quote_bytes(data, force_hex=force_hex)
        return text + "..." if size > shown else text

    def word(self, addr: int, fmt: str) -> tuple | None:
        data = self.mem(addr, struct.calcsize(fmt))
        return None if data is None else struct.unpack(fmt, data)


#: An argument formatter gets the call and the argument's index; None omits it.
Fmt = Callable[[_Call, int], "str | None"]
#: A decoder of the memory an argument points at; returns None when unreadable.
Decoder = Callable[[_Call, int], "str | None"]


def _value(fn: Callable[[int], str]) -> Fmt:
    """Formatter from a function of the raw register value."""
    return lambda c, i: fn(c.args[i])


_int = _value(lambda v: str(_s32(v)))
_long = _value(lambda v: str(_s64(v)))
_uint = _value(lambda v: str(_u32(v)))
_ulong = _value(lambda v: str(v & _U64))
_hexarg = _value(_hex)
_pointer = _value(_ptr)
_fd = _int
_dirfd = _value(lambda v: "AT_FDCWD" if _s32(v) == _AT_FDCWD else str(_s32(v)))
_uid = _value(lambda v: "-1" if _u32(v) == _U32 else str(_u32(v)))
_mode = _value(lambda v: _octal(v & 0xFFFF))
_path: Fmt = lambda c, i: c.cstring(c.args[i], PATH_MAX)
_string: Fmt = lambda c, i: c.cstring(c.args[i], MAX_STRLEN)


def _buf_in(len_index: int) -> Fmt:
    """Data the call reads from the caller (write-like): length from an argument."""
    return lambda c, i: c.buffer(c.args[i], c.args[len_index] & _U64)


def _buf_out(*, force_hex: bool = False) -> Fmt:
    """Data the call filled in (read-like): length is the result, shown only on success,
    and never past the buffer, whose size is the next argument (recv with MSG_TRUNC
    returns the datagram's whole length)."""
    def fmt(c: _Call, i: int) -> str:
        if not c.ok:
            return _ptr(c.args[i])
        return c.after().buffer(c.args[i], min(c.result, c.args[i + 1]), force_hex=force_hex)
    return fmt


def _decoded(decoder: Decoder, *, after: bool) -> Fmt:
    """Pointer argument shown as the struct it points at.

    ``after``: the kernel fills it in, so it is decoded only after a successful call.
    """
    def fmt(c: _Call, i: int) -> str:
        addr = c.args[i]
        if addr == 0 or (after and not c.ok):
            return _ptr(addr)
        text = decoder(c.after() if after else c, addr)
        return _ptr(addr) if text is None else text
    return fmt


def _in(decoder: Decoder) -> Fmt:
    return _decoded(decoder, after=False)


def _out(decoder: Decoder) -> Fmt:
    return _decoded(decoder, after=True)


# Struct decoders ------------------------------------------------------------------

def _dec_int(c: _Call, addr: int) -> str | None:
    v = c.word(addr, "<i")
    return None if v is None else f"[{v[0]}]"


def _dec_u64_hex(c: _Call, addr: int) -> str | None:
    v = c.word(addr, "<Q")
    return None if v is None else f"[{_hex(v[0])}]"


def _dec_fd_pair(c: _Call, addr: int) -> str | None:
    v = c.word(addr, "<ii")
    return None if v is None else f"[{v[0]}, {v[1]}]"


def _dec_stat(c: _Call, addr: int) -> str | None:
    # x86-64 struct stat: dev, ino, nlink (u64); mode, uid, gid, pad (u32); rdev, size (u64)
    v = c.word(addr, "<QQQIIIIQq")
    if v is None:
        return None
    mode, rdev, size = v[3], v[7], v[8]
    if mode & _S_IFMT in (_S_IFCHR, _S_IFBLK):
        second = f"st_rdev={_makedev(rdev)}"
    else:
        second = f"st_size={size}"
    return f"{{st_mode={_symbolic_mode(mode)}, {second}, ...}}"


def _dec_statx(c: _Call, addr: int) -> str | None:
    # struct statx: mask, blksize (u32); attributes (u64); nlink, uid, gid (u32);
    # mode, pad (u16); ino, size (u64)
    v = c.word(addr, "<IIQIIIHHQQ")
    if v is None:
        return None
    mask, attributes, mode, size = v[0], v[2], v[6], v[9]
    return (f"{{stx_mask={_STATX_MASK(mask)}, stx_attributes={_STATX_ATTRIBUTES(attributes)}, "
            f"stx_mode={_symbolic_mode(mode)}, stx_size={size}, ...}}")


def _rlim(v: int) -> str:
    if v == _U64:
        return "RLIM64_INFINITY"
    if v > 1024 and v % 1024 == 0:
        return f"{v // 1024}*1024"
    return str(v)


def _dec_rlimit(c: _Call, addr: int) -> str | None:
    v = c.word(addr, "<QQ")
    return None if v is None else f"{{rlim_cur={_rlim(v[0])}, rlim_max={_rlim(v[1])}}}"


_URING_SETUP = _Flags([(1 << i, "IORING_SETUP_" + n) for i, n in enumerate((
    "IOPOLL", "SQPOLL", "SQ_AFF", "CQSIZE", "CLAMP", "ATTACH_WQ", "R_DISABLED", "SUBMIT_ALL",
    "COOP_TASKRUN", "TASKRUN_FLAG", "SQE128", "CQE32", "SINGLE_ISSUER", "DEFER_TASKRUN",
    "NO_MMAP", "REGISTERED_FD_ONLY", "NO_SQARRAY"))], unknown="IORING_SETUP_???")
_URING_FEAT = _Flags([(1 << i, "IORING_FEAT_" + n) for i, n in enumerate((
    "SINGLE_MMAP", "NODROP", "SUBMIT_STABLE", "RW_CUR_POS", "CUR_PERSONALITY", "FAST_POLL",
    "POLL_32BITS", "SQPOLL_NONFIXED", "EXT_ARG", "NATIVE_WORKERS", "RSRC_TAGS", "CQE_SKIP",
    "LINKED_FILE", "REG_REG_RING"))], unknown="IORING_FEAT_???")
_URING_ENTER = _Flags([(1 << i, "IORING_ENTER_" + n) for i, n in enumerate((
    "GETEVENTS", "SQ_WAKEUP", "SQ_WAIT", "EXT_ARG", "REGISTERED_RING", "ABS_TIMER",
    "EXT_ARG_REG", "NO_IOWAIT"))], unknown="IORING_ENTER_???")
_URING_REGISTER = _Enum(dict(enumerate((
    "IORING_REGISTER_BUFFERS", "IORING_UNREGISTER_BUFFERS", "IORING_REGISTER_FILES",
    "IORING_UNREGISTER_FILES", "IORING_REGISTER_EVENTFD", "IORING_UNREGISTER_EVENTFD",
    "IORING_REGISTER_FILES_UPDATE", "IORING_REGISTER_EVENTFD_ASYNC", "IORING_REGISTER_PROBE",
    "IORING_REGISTER_PERSONALITY", "IORING_UNREGISTER_PERSONALITY", "IORING_REGISTER_RESTRICTIONS",
    "IORING_REGISTER_ENABLE_RINGS", "IORING_REGISTER_FILES2", "IORING_REGISTER_FILES_UPDATE2",
    "IORING_REGISTER_BUFFERS2", "IORING_REGISTER_BUFFERS_UPDATE", "IORING_REGISTER_IOWQ_AFF",
    "IORING_UNREGISTER_IOWQ_AFF", "IORING_REGISTER_IOWQ_MAX_WORKERS", "IORING_REGISTER_RING_FDS",
    "IORING_UNREGISTER_RING_FDS", "IORING_REGISTER_PBUF_RING", "IORING_UNREGISTER_PBUF_RING",
    "IORING_REGISTER_SYNC_CANCEL", "IORING_REGISTER_FILE_ALLOC_RANGE"))), unknown="IORING_REGISTER_???")


def _dec_uring_params(c: _Call, addr: int) -> str | None:
    """struct io_uring_params as strace prints it: what was asked, and after a
    successful call what the kernel filled in."""
    v = c.word(addr, "<10I7IIQ8IQ")
    if v is None:
        return None
    text = f"{{flags={_URING_SETUP(v[2])}, sq_thread_cpu={v[3]}, sq_thread_idle={v[4]}"
    if v[2] & 32:                                       # IORING_SETUP_ATTACH_WQ
        text += f", wq_fd={_s32(v[6])}"
    if not c.ok:
        return text + "}"
    sq, cq = v[10:17], v[19:26]
    return (text + f", sq_entries={v[0]}, cq_entries={v[1]}, features={_URING_FEAT(v[5])}, "
            f"sq_off={{head={sq[0]}, tail={sq[1]}, ring_mask={sq[2]}, ring_entries={sq[3]}, "
            f"flags={sq[4]}, dropped={sq[5]}, array={sq[6]}}}, "
            f"cq_off={{head={cq[0]}, tail={cq[1]}, ring_mask={cq[2]}, ring_entries={cq[3]}, "
            f"overflow={cq[4]}, cqes={cq[5]}, flags={cq[6]}}}}}")


def _dec_timespec(c: _Call, addr: int) -> str | None:
    v = c.word(addr, "<qq")
    return None if v is None else f"{{tv_sec={v[0]}, tv_nsec={v[1]}}}"


def _dec_winsize(c: _Call, addr: int) -> str | None:
    v = c.word(addr, "<HHHH")
    if v is None:
        return None
    return f"{{ws_row={v[0]}, ws_col={v[1]}, ws_xpixel={v[2]}, ws_ypixel={v[3]}}}"


def _dec_sigset(c: _Call, addr: int) -> str | None:
    v = c.word(addr, "<Q")
    return None if v is None else _sigset(v[0])


def _dec_sigaction(c: _Call, addr: int) -> str | None:
    # struct kernel_sigaction on x86-64: handler, flags, restorer, mask (u64 each)
    v = c.word(addr, "<QQQQ")
    if v is None:
        return None
    handler, flags, restorer, mask = v
    text = (f"{{sa_handler={_SA_HANDLERS.get(handler, _ptr(handler))}, "
            f"sa_mask={_sigset(mask)}, sa_flags={_SA_FLAGS(flags)}")
    if flags & _SA_RESTORER:
        text += f", sa_restorer={_ptr(restorer)}"
    return text + "}"


def _wait_status(status: int) -> str:
    if os.WIFEXITED(status):
        return f"[{{WIFEXITED(s) && WEXITSTATUS(s) == {os.WEXITSTATUS(status)}}}]"
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        core = " && WCOREDUMP(s)" if os.WCOREDUMP(status) else ""
        return f"[{{WIFSIGNALED(s) && WTERMSIG(s) == {_signame(sig) or sig}{core}}}]"
    if os.WIFSTOPPED(status):
        sig = os.WSTOPSIG(status)
        return f"[{{WIFSTOPPED(s) && WSTOPSIG(s) == {_signame(sig) or sig}}}]"
    if os.WIFCONTINUED(status):
        return "[{WIFCONTINUED(s)}]"
    return f"[{status:#x}]"


def _dec_wait_status(c: _Call, addr: int) -> str | None:
    v = c.word(addr, "<i")
    return None if v is None else _wait_status(v[0])


def _pointer_array(c: _Call, addr: int, limit: int):
    """Yield the pointers of a NULL-terminated array (at most ``limit``); None on a fault."""
    for k in range(limit):
        v = c.word(addr + 8 * k, "<Q")
        if v is None:
            yield None
            return
        if v[0] == 0:
            return
        yield v[0]


def _dec_argv(c: _Call, addr: int) -> str | None:
    items = []
    for k, p in enumerate(_pointer_array(c, addr, MAX_STRLEN + 1)):
        if p is None:
            if k == 0:
                return None
            items.append("...")
            break
        if k == MAX_STRLEN:
            items.append("...")
            break
        items.append(c.cstring(p, MAX_STRLEN))
    return "[" + ", ".join(items) + "]"


def _dec_envp(c: _Call, addr: int) -> str | None:
    count = 0
    for p in _pointer_array(c, addr, 1 << 20):
        if p is None:
            return None
        count += 1
    return f"{_ptr(addr)} /* {count} var{'' if count == 1 else 's'} */"


def _dec_iovec(c: _Call, addr: int, count: int, data_size: int | None) -> str | None:
    """[{iov_base="..", iov_len=N}, ...]; ``data_size`` caps the bytes shown (readv)."""
    items = []
    for k in range(min(count, MAX_STRLEN)):
        v = c.word(addr + 16 * k, "<QQ")
        if v is None:
            if k == 0:
                return None
            items.append("...")
            break
        base, length = v
        shown = length
        if data_size is not None:
            shown = min(length, data_size)
            data_size -= shown
        items.append(f"{{iov_base={c.buffer(base, shown)}, iov_len={length}}}")
    else:
        if count > MAX_STRLEN:
            items.append("...")
    return "[" + ", ".join(items) + "]"


def _iovec_in(count_index: int) -> Fmt:
    return _in(lambda c, addr: _dec_iovec(c, addr, c.args[count_index] & _U64, None))


def _iovec_out(count_index: int) -> Fmt:
    return _out(lambda c, addr: _dec_iovec(c, addr, c.args[count_index] & _U64, c.result))


def _dec_dirents(c: _Call, addr: int) -> str | None:
    # linux_dirent and linux_dirent64 both keep d_reclen (u16) at offset 16.
    data = c.mem(addr, c.result)
    if data is None:
        return None
    count = offset = 0
    while offset + 18 <= len(data):
        reclen = struct.unpack_from("<H", data, offset + 16)[0]
        if reclen == 0:
            break
        count += 1
        offset += reclen
    return f"{_ptr(addr)} /* {count} entries */"


def _dec_gid_list(c: _Call, addr: int, count: int) -> str | None:
    shown = max(0, min(count, MAX_STRLEN))
    data = c.mem(addr, 4 * shown)
    if data is None:
        return None
    gids = [str(g) for g in struct.unpack(f"<{shown}I", data)]
    if count > shown:
        gids.append("...")
    return "[" + ", ".join(gids) + "]"


def _dec_sockaddr(c: _Call, addr: int, length: int) -> str | None:
    length = min(length, 128)                   # sizeof(struct sockaddr_storage)
    if length < 2:
        return None
    data = c.mem(addr, length)
    if data is None:
        return None
    family = struct.unpack_from("<H", data)[0]
    fields = [f"sa_family={_SOCKET_FAMILY(family)}"]
    if family == _AF_UNIX:
        path = data[2:]
        if path[:1] == b"\0":                   # abstract name: every byte counts
            fields.append("sun_path=@" + quote_bytes(path[1:]))
        elif path:
            fields.append("sun_path=" + quote_bytes(path.split(b"\0", 1)[0]))
    elif family == _AF_INET and length >= 16:
        fields.append(f"sin_port=htons({struct.unpack_from('>H', data, 2)[0]})")
        fields.append(f'sin_addr=inet_addr("{socket.inet_ntop(socket.AF_INET, data[4:8])}")')
    elif family == _AF_INET6 and length >= 24:
        port, flowinfo = struct.unpack_from(">HI", data, 2)
        address = socket.inet_ntop(socket.AF_INET6, data[8:24])
        fields += [f"sin6_port=htons({port})", f"sin6_flowinfo=htonl({flowinfo})",
                   f'inet_pton(AF_INET6, "{address}", &sin6_addr)']
        if length >= 28:
            fields.append(f"sin6_scope_id={struct.unpack_from('<I', data, 24)[0]}")
    elif family == _AF_NETLINK and length >= 12:
        pid, groups = struct.unpack_from("<II", data, 4)
        fields += [f"nl_pid={pid}", f"nl_groups={groups:#08x}"]
    else:
        fields.append(f"sa_data={quote_bytes(data[2:])}")
    return "{" + ", ".join(fields) + "}"


def _ts(c: _Call, addr: int) -> str:
    if addr == 0:
        return "NULL"
    return _dec_timespec(c, addr) or _ptr(addr)


# Per-argument formatters that look at other arguments -------------------------------

def _open_mode(c: _Call, i: int) -> str | None:
    """open/openat mode: shown only with O_CREAT or O_TMPFILE."""
    flags = c.args[i - 1]
    return _mode(c, i) if flags & (_O_CREAT | _O_TMPFILE_BIT) else None


def _mknod_dev(c: _Call, i: int) -> str | None:
    mode = c.args[i - 1]
    return _makedev(c.args[i]) if mode & _S_IFMT in (_S_IFCHR, _S_IFBLK) else None


def _mremap_new_addr(c: _Call, i: int) -> str | None:
    return _ptr(c.args[i]) if c.args[3] & _MREMAP_FIXED else None


def _sigset_arg(c: _Call, i: int, *, after: bool) -> str:
    """A sigset_t pointer; decoded only when sigsetsize (last arg) is 8."""
    if c.args[3] & _U64 != _NSIG // 8:
        return _ptr(c.args[i])
    return _decoded(_dec_sigset, after=after)(c, i)


def _fcntl_arg(c: _Call, i: int) -> str | None:
    cmd, arg = _u32(c.args[1]), c.args[i]
    if cmd in _FCNTL_NO_ARG:
        return None
    if cmd == _F_SETFD:
        return _FD_FLAGS(arg)
    if cmd == _F_SETFL:
        return _open_flags(arg)
    if cmd in _FCNTL_PTR_ARG:
        return _ptr(arg)
    if cmd == _F_SETSIG:
        return _signal(arg)
    if cmd == _F_SETLEASE:
        return _FCNTL_LEASE(arg)
    if cmd == _F_ADD_SEALS:
        return _FCNTL_SEALS(arg)
    if cmd == _F_NOTIFY:
        return _DNOTIFY(arg)
    if cmd in _FCNTL_CMDS:
        return str(_s32(arg))
    return _hex(arg)


def _ioctl_arg(c: _Call, i: int) -> str | None:
    request, arg = _u32(c.args[1]), c.args[i]
    if request in _IOCTL_NO_ARG:
        return None
    if request in _IOCTL_INT_IN:
        return _in(_dec_int)(c, i)
    if request in _IOCTL_INT_OUT:
        return _out(_dec_int)(c, i)
    if request == _TIOCGWINSZ:
        return _out(_dec_winsize)(c, i)
    if request == _TIOCSWINSZ:
        return _in(_dec_winsize)(c, i)
    if request == _TCFLSH:
        return _TCFLSH_ARG(arg)
    if request in _IOCTL_DECIMAL:
        return str(_s32(arg))
    if request in _IOCTL_NAMES:
        return _ptr(arg)
    return _hex(arg)


def _arch_prctl_arg(c: _Call, i: int) -> str | None:
    code, arg = _u32(c.args[0]), c.args[i]
    if code == _ARCH_GET_CPUID:
        return None
    if code in (_ARCH_GET_FS, _ARCH_GET_GS):
        return _out(_dec_u64_hex)(c, i)
    return _hex(arg)


def _protocol(c: _Call, i: int) -> str:
    family = _u32(c.args[0])
    if family in (_AF_INET, _AF_INET6):
        return _IPPROTO(c.args[i])
    if family == _AF_NETLINK:
        return _NETLINK_PROTO(c.args[i])
    return str(_s32(c.args[i]))


def _sockaddr_in(len_index: int) -> Fmt:
    """struct sockaddr the call reads; its length is argument ``len_index``."""
    return _in(lambda c, addr: _dec_sockaddr(c, addr, _s32(c.args[len_index])))


def _sockaddr_out(len_index: int) -> Fmt:
    """struct sockaddr the call fills in; argument ``len_index`` points at its length."""
    def fmt(c: _Call, i: int) -> str:
        addr = c.args[i]
        lengths = _socklen(c, c.args[len_index]) if addr and c.ok else None
        text = None if lengths is None else _dec_sockaddr(c.after(), addr, min(lengths))
        return _ptr(addr) if text is None else text
    return fmt


def _socklen(c: _Call, addr: int) -> tuple[int, int] | None:
    """*addrlen as passed to the call and as the kernel left it."""
    before, after = c.word(addr, "<i"), c.after().word(addr, "<i")
    if before is None or after is None:
        return None
    return before[0], after[0]


def _socklen_inout(c: _Call, i: int) -> str:
    """An in/out socklen_t: [16], or [128 => 16] when the kernel changed it."""
    addr = c.args[i]
    if addr == 0:
        return "NULL"
    lengths = _socklen(c, addr)
    if lengths is None:
        return _ptr(addr)
    before, after = lengths
    if not c.ok or before == after:
        return f"[{before if not c.ok else after}]"
    return f"[{before} => {after}]"


def _sockopt_name(c: _Call, i: int) -> str:
    names = _SOCKOPTS.get(_s32(c.args[1]))
    return str(_s32(c.args[i])) if names is None else names(c.args[i])


def _dec_sockopt(c: _Call, addr: int, length: int) -> str | None:
    """An option's value as strace shows it: [N] for an int, SO_LINGER's struct, else the
    bytes (a struct option too short for its struct: its address)."""
    option = (_s32(c.args[1]), _s32(c.args[2]))
    if option in _STRUCT_SOCKOPTS:
        if option != (1, _SO_LINGER) or length < 8:
            return None
    elif length == 4:
        return _dec_int(c, addr)
    if option == (1, _SO_LINGER):
        v = c.word(addr, "<ii")
        return None if v is None else f"{{l_onoff={v[0]}, l_linger={v[1]}}}"
    return c.buffer(addr, max(length, 0))


def _sockopt_in(c: _Call, i: int) -> str:
    """setsockopt's value, optlen (argument 4) bytes."""
    addr = c.args[i]
    text = _dec_sockopt(c, addr, _s32(c.args[4])) if addr else None
    return _ptr(addr) if text is None else text


def _sockopt_out(c: _Call, i: int) -> str:
    """getsockopt's value, as long as the kernel says it made it."""
    addr = c.args[i]
    lengths = _socklen(c, c.args[4]) if addr and c.ok else None
    text = None if lengths is None else _dec_sockopt(c.after(), addr, lengths[1])
    return _ptr(addr) if text is None else text


# Whole-call formatters (argument lists that depend on flags) -------------------------

def _clone_args(c: _Call) -> list[str]:
    # x86-64 clone(flags, stack, parent_tid, child_tid, tls)
    flags, stack, parent_tid, child_tid, tls = c.args[:5]
    out = [f"child_stack={_ptr(stack)}", f"flags={_clone_flags(flags)}"]
    if flags & (_CLONE_PARENT_SETTID | _CLONE_PIDFD):
        shown = _decoded(_dec_int, after=True)(c, 2)
        out.append(f"parent_tid={shown}")
    if flags & _CLONE_SETTLS:
        out.append(f"tls={_ptr(tls)}")
    if flags & _CLONE_CHILD_TID:
        out.append(f"child_tidptr={_ptr(child_tid)}")
    return out


def _futex_op(op: int) -> str:
    op = _u32(op)
    name = _FUTEX_CMDS.get(op & ~(_FUTEX_PRIVATE | _FUTEX_CLOCK_REALTIME))
    if name is None:
        return f"{op:#x} /* FUTEX_??? */"
    if op & _FUTEX_PRIVATE:
        name += "_PRIVATE"
    if op & _FUTEX_CLOCK_REALTIME:
        name += "|FUTEX_CLOCK_REALTIME"
    return name


def _futex_wake_op(v: int) -> str:
    v = _u32(v)
    shift = "FUTEX_OP_OPARG_SHIFT<<28|" if v >> 28 & 8 else ""
    return (f"{shift}{_FUTEX_WAKE_OPS(v >> 28 & 7)}<<28|{_hex(v >> 12 & 0xFFF)}<<12|"
            f"{_FUTEX_WAKE_CMPS(v >> 24 & 0xF)}<<24|{_hex(v & 0xFFF)}")


def _futex_args(c: _Call) -> list[str]:
    uaddr, op, val, timeout, uaddr2, val3 = c.args[:6]
    cmd = _u32(op) & ~(_FUTEX_PRIVATE | _FUTEX_CLOCK_REALTIME)
    out = [_ptr(uaddr), _futex_op(op)]
    val_s, val2_s = str(_u32(val)), str(_u32(timeout))
    bitset = "FUTEX_BITSET_MATCH_ANY" if _u32(val3) == _U32 else _hex(_u32(val3))
    if cmd == 0:                                    # WAIT
        out += [val_s, _ts(c, timeout)]
    elif cmd == 9:                                  # WAIT_BITSET
        out += [val_s, _ts(c, timeout), bitset]
    elif cmd in (1, 2):                             # WAKE, FD
        out += [val_s]
    elif cmd == 10:                                 # WAKE_BITSET
        out += [val_s, bitset]
    elif cmd == 3:                                  # REQUEUE
        out += [val_s, val2_s, _ptr(uaddr2)]
    elif cmd in (4, 12):                            # CMP_REQUEUE, CMP_REQUEUE_PI
        out += [val_s, val2_s, _ptr(uaddr2), str(_u32(val3))]
    elif cmd == 5:                                  # WAKE_OP
        out += [val_s, val2_s, _ptr(uaddr2), _futex_wake_op(val3)]
    elif cmd in (6, 13):                            # LOCK_PI, LOCK_PI2
        out += [_ts(c, timeout)]
    elif cmd in (7, 8):                             # UNLOCK_PI, TRYLOCK_PI
        pass
    elif cmd == 11:                                 # WAIT_REQUEUE_PI
        out += [val_s, _ts(c, timeout), _ptr(uaddr2)]
    else:
        out += [val_s, _hex(timeout), _hex(uaddr2), _hex(val3)]
    return out


_CUSTOM_ARGS: dict[str, Callable[[_Call], list[str]]] = {
    "clone": _clone_args,
    "futex": _futex_args,
}


# --------------------------------------------------------------------------
# Signatures: python-ptrace prototypes + rules on argument names + overrides
# --------------------------------------------------------------------------

def _proto(*args: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    """A prototype in python-ptrace's shape from C declarations like "const char *path"."""
    out = []
    for decl in args:
        cut = decl.rindex("*") + 1 if "*" in decl else decl.rindex(" ")
        ctype, argname = decl[:cut].strip(), decl[cut:].strip()
        out.append((ctype.replace(" *", "*").replace("*", " *"), argname))
    return ("long", tuple(out))


# Prototypes python-ptrace lacks (or gets wrong for x86-64).  "hex" marks an
# argument shown in hex (flags words without a symbolic table here).
_EXTRA_DECLARATIONS: dict[str, tuple[str, ...]] = {
    "rt_sigreturn": (),
    "modify_ldt": ("int func", "void *ptr", "unsigned long bytecount"),
    "_sysctl": ("void *args",),
    "arch_prctl": ("int code", "unsigned long addr"),
    "umount2": ("const char *target", "int flags"),
    "iopl": ("unsigned int level",),
    "set_thread_area": ("void *u_info",),
    "get_thread_area": ("void *u_info",),
    "timerfd_create": ("clockid_t clockid", "int flags"),
    "preadv": ("unsigned long fd", "void *vec", "unsigned long vlen", "loff_t pos"),
    "pwritev": ("unsigned long fd", "void *vec", "unsigned long vlen", "loff_t pos"),
    "preadv2": ("unsigned long fd", "void *vec", "unsigned long vlen", "loff_t pos",
                "hex flags"),
    "pwritev2": ("unsigned long fd", "void *vec", "unsigned long vlen", "loff_t pos",
                 "hex flags"),
    "pkey_mprotect": ("unsigned long start", "size_t len", "unsigned long prot",
                      "int pkey"),
    "pkey_alloc": ("hex flags", "hex init_val"),
    "pkey_free": ("int pkey",),
    "io_pgetevents": ("hex ctx_id", "long min_nr", "long nr", "void *events",
                      "void *timeout", "void *usig"),
    "rseq": ("hex rseq", "hex rseq_len", "int flags", "hex sig"),
    "pidfd_send_signal": ("int pidfd", "int sig", "void *info", "hex flags"),
    "io_uring_setup": ("u32 entries", "void *p"),
    "io_uring_enter": ("unsigned int fd", "u32 to_submit", "u32 min_complete",
                       "hex flags", "void *argp", "size_t argsz"),
    "io_uring_register": ("unsigned int fd", "unsigned int opcode", "void *arg",
                          "unsigned int nr_args"),
    "open_tree": ("int dfd", "const char *filename", "hex flags"),
    "move_mount": ("int from_dfd", "const char *from_pathname", "int to_dfd",
                   "const char *to_pathname", "hex flags"),
    "fsopen": ("const char *fs_name", "hex flags"),
    "fsconfig": ("int fd", "unsigned int cmd", "const char *key", "void *value",
                 "int aux"),
    "fsmount": ("int fs_fd", "hex flags", "hex attr_flags"),
    "fspick": ("int dfd", "const char *path", "hex flags"),
    "pidfd_open": ("pid_t pid", "hex flags"),
    "clone3": ("void *uargs", "size_t size"),
    "close_range": ("unsigned int fd", "unsigned int max_fd", "unsigned int flags"),
    "openat2": ("int dfd", "const char *filename", "void *how", "size_t usize"),
    "pidfd_getfd": ("int pidfd", "int fd", "hex flags"),
    "faccessat2": ("int dfd", "const char *filename", "int mode", "int flags"),
    "process_madvise": ("int pidfd", "void *vec", "size_t vlen", "int advice",
                        "hex flags"),
    "epoll_pwait2": ("int epfd", "void *events", "int maxevents", "void *timeout",
                     "void *sigmask", "size_t sigsetsize"),
    "mount_setattr": ("int dfd", "const char *path", "hex flags", "void *uattr",
                      "size_t usize"),
    "quotactl_fd": ("unsigned int fd", "unsigned int cmd", "qid_t id", "void *addr"),
    "landlock_create_ruleset": ("void *attr", "size_t size", "hex flags"),
    "landlock_add_rule": ("int ruleset_fd", "int rule_type", "void *rule_attr",
                          "hex flags"),
    "landlock_restrict_self": ("int ruleset_fd", "hex flags"),
    "memfd_secret": ("hex flags",),
    "process_mrelease": ("int pidfd", "hex flags"),
    "futex_waitv": ("void *waiters", "unsigned int nr_futexes", "hex flags",
                    "void *timeout", "clockid_t clockid"),
    "set_mempolicy_home_node": ("unsigned long start", "unsigned long len",
                                "unsigned long home_node", "hex flags"),
    "cachestat": ("unsigned int fd", "void *cstat_range", "void *cstat", "hex flags"),
    "fchmodat2": ("int dfd", "const char *filename", "umode_t mode", "int flags"),
    "map_shadow_stack": ("unsigned long addr", "unsigned long size", "hex flags"),
    "futex_wake": ("void *uaddr", "hex mask", "int nr", "hex flags"),
    "futex_wait": ("void *uaddr", "unsigned long val", "hex mask", "hex flags",
                   "void *timeout", "clockid_t clockid"),
    "futex_requeue": ("void *waiters", "hex flags", "int nr_wake", "int nr_requeue"),
    "statmount": ("void *req", "void *buf", "size_t bufsize", "hex flags"),
    "listmount": ("void *req", "void *mnt_ids", "size_t nr_mnt_ids", "hex flags"),
    "lsm_get_self_attr": ("unsigned int attr", "void *ctx", "void *size", "hex flags"),
    "lsm_set_self_attr": ("unsigned int attr", "void *ctx", "u32 size", "hex flags"),
    "lsm_list_modules": ("void *ids", "void *size", "hex flags"),
    "mseal": ("unsigned long start", "size_t len", "hex flags"),
    "setxattrat": ("int dfd", "const char *path", "int at_flags", "const char *name",
                   "void *args", "size_t size"),
    "getxattrat": ("int dfd", "const char *path", "int at_flags", "const char *name",
                   "void *args", "size_t size"),
    "listxattrat": ("int dfd", "const char *path", "int at_flags", "void *list",
                    "size_t size"),
    "removexattrat": ("int dfd", "const char *path", "int at_flags",
                      "const char *name"),
    "open_tree_attr": ("int dfd", "const char *path", "hex flags", "void *uattr",
                       "size_t usize"),
    "io_uring_setup": ("u32 entries", "void *p"),
    "io_uring_enter": ("unsigned int fd", "u32 to_submit", "u32 min_complete", "hex flags",
                       "void *argp", "size_t argsz"),
    "io_uring_register": ("unsigned int fd", "unsigned int opcode", "void *arg",
                          "unsigned int nr_args"),
}
_EXTRA_PROTOTYPES = {name: _proto(*decls) for name, decls in _EXTRA_DECLARATIONS.items()}

# Obsolete/unimplemented x86-64 entries: argument count only (shown in hex).
_HEX_ONLY_NARGS = {
    "create_module": 2, "get_kernel_syms": 1, "query_module": 5, "nfsservctl": 3,
    "getpmsg": 5, "putpmsg": 5, "afs_syscall": 5, "tuxcall": 3, "security": 3,
    "epoll_ctl_old": 4, "epoll_wait_old": 4, "vserver": 5,
}

_FD_ARGS = {
    "fd", "fildes", "oldfd", "newfd", "sockfd", "epfd", "ufd", "fd_in", "fd_out", "in_fd",
    "out_fd", "fdin", "fdout", "group_fd", "mount_fd", "kernel_fd", "initrd_fd",
    "fanotify_fd", "pidfd", "ruleset_fd", "fs_fd",
}
_DIRFD_ARGS = {"dfd", "dirfd", "olddfd", "newdfd", "from_dfd", "to_dfd"}
_PATH_ARGS = set(FILENAME_ARGUMENTS) | {
    "specialfile", "library", "new_root", "put_old", "dev_name", "dir_name", "special",
    "target", "from_pathname", "to_pathname",
}
_ADDRESS_ARGS = {"addr", "start", "brk", "new_addr", "shmaddr"}
_SIGNED32 = {"int", "pid_t", "clockid_t", "key_t", "mqd_t", "__s32", "key_serial_t",
             "timer_t"}
_SIGNED64 = {"long", "off_t", "loff_t"}
_UNSIGNED32 = {"unsigned int", "unsigned", "u32", "qid_t"}
_UNSIGNED64 = {"size_t", "unsigned long", "u64"}


def _auto(ctype: str, argname: str) -> Fmt:
    """Default formatter from a C prototype argument."""
    if argname in _DIRFD_ARGS:
        return _dirfd
    if argname in _FD_ARGS:
        return _fd
    if "*" in ctype or "[" in ctype:
        is_char = ctype.replace("const ", "").strip() == "char *"
        if is_char and argname in _PATH_ARGS:
            return _path
        if is_char and ctype.startswith("const "):
            return _string
        return _pointer
    if argname in _ADDRESS_ARGS:
        return _pointer
    if ctype == "umode_t":
        return _mode
    if ctype in ("uid_t", "gid_t"):
        return _uid
    if argname in ("flags", "flag") or ctype == "hex":
        return _hexarg
    if ctype in _SIGNED32:
        return _int
    if ctype in _SIGNED64:
        return _long
    if ctype in _UNSIGNED32:
        return _uint
    if ctype in _UNSIGNED64:
        return _ulong
    return _hexarg


_AT = _value(_AT_FLAGS)
_OPEN = _value(_open_flags)
_OPEN_NOACC = _value(_Flags(_O_FLAGS.names, unknown="O_???"))
_STAT_OUT = _out(_dec_stat)
_SIG = _value(_signal)
_WRITEV = {"vec": _iovec_in(2)}
_READV = {"vec": _iovec_out(2)}
_SETXATTR = {"value": _buf_in(3), "flags": _value(_XATTR)}
_GETXATTR = {"value": _buf_out()}
_EXEC = {"argv": _in(_dec_argv), "envp": _in(_dec_envp)}
_SOCKADDR_OUT = {"addr": _sockaddr_out(2), "addrlen": _socklen_inout}

# Hand-made per-syscall overrides, by argument name.
_OVERRIDES: dict[str, dict[str, Fmt]] = {
    "read": {"buf": _buf_out()},
    "pread64": {"buf": _buf_out()},
    "write": {"buf": _buf_in(2)},
    "pwrite64": {"buf": _buf_in(2)},
    "readv": _READV, "preadv": _READV, "preadv2": _READV,
    "writev": _WRITEV, "pwritev": _WRITEV, "pwritev2": _WRITEV,
    "readlink": {"buf": _buf_out()},
    "readlinkat": {"buf": _buf_out()},
    "getcwd": {"pathname": _out(lambda c, a: c.cstring(a, PATH_MAX))},
    "getrandom": {"buf": _buf_out(force_hex=True), "flags": _value(_GRND)},
    "sethostname": {"name": _buf_in(1)},
    "setdomainname": {"name": _buf_in(1)},
    "setxattr": _SETXATTR, "lsetxattr": _SETXATTR, "fsetxattr": _SETXATTR,
    "getxattr": _GETXATTR, "lgetxattr": _GETXATTR, "fgetxattr": _GETXATTR,
    "open": {"flags": _OPEN, "mode": _open_mode},
    "openat": {"flags": _OPEN, "mode": _open_mode},
    "mq_open": {"name": _path, "oflag": _OPEN, "mode": _open_mode},
    "mq_unlink": {"name": _path},
    "mq_timedsend": {"msg_ptr": _buf_in(2)},
    "mq_timedreceive": {"msg_ptr": _buf_out()},
    "mknod": {"mode": _value(_symbolic_mode), "dev": _mknod_dev},
    "mknodat": {"mode": _value(_symbolic_mode), "dev": _mknod_dev},
    "umask": {"mask": _mode},
    "access": {"mode": _value(_ACCESS_MODE)},
    "faccessat": {"mode": _value(_ACCESS_MODE)},
    "faccessat2": {"mode": _value(_ACCESS_MODE), "flags": _value(_FACCESSAT_FLAGS)},
    "stat": {"statbuf": _STAT_OUT},
    "fstat": {"statbuf": _STAT_OUT},
    "lstat": {"statbuf": _STAT_OUT},
    "newfstatat": {"statbuf": _STAT_OUT, "flag": _AT},
    "statx": {"flags": _value(_statx_flags), "mask": _value(_STATX_MASK),
              "statxbuf": _out(_dec_statx)},
    "unlinkat": {"flag": _AT},
    "fchownat": {"flag": _AT},
    "utimensat": {"flags": _AT},
    "linkat": {"flags": _AT},
    "execveat": {**_EXEC, "flags": _AT},
    "fchmodat2": {"flags": _AT},
    "setxattrat": {"at_flags": _AT}, "getxattrat": {"at_flags": _AT},
    "listxattrat": {"at_flags": _AT}, "removexattrat": {"at_flags": _AT},
    "execve": _EXEC,
    "renameat2": {"flags": _value(_RENAME)},
    "umount2": {"flags": _value(_UMOUNT)},
    "mount": {"type": _string},
    "name_to_handle_at": {"name": _path, "flag": _AT},
    "mmap": {"prot": _value(_PROT), "flags": _value(_mmap_flags), "fd": _fd,
             "pgoff": _hexarg},
    "mprotect": {"prot": _value(_PROT)},
    "pkey_mprotect": {"prot": _value(_PROT)},
    "mremap": {"flags": _value(_MREMAP_FLAGS), "new_addr": _mremap_new_addr},
    "madvise": {"behavior": _value(_MADVISE)},
    "fadvise64": {"advice": _value(_FADVISE)},
    "memfd_create": {"flags": _value(_MFD)},
    "fcntl": {"cmd": _value(_FCNTL_CMD), "arg": _fcntl_arg},
    "lseek": {"whence": _value(_SEEK)},
    "ioctl": {"cmd": _value(_ioctl_request), "arg": _ioctl_arg},
    "arch_prctl": {"code": _value(_ARCH_PRCTL), "addr": _arch_prctl_arg},
    "getrlimit": {"resource": _value(_RLIMIT), "rlim": _out(_dec_rlimit)},
    "setrlimit": {"resource": _value(_RLIMIT), "rlim": _in(_dec_rlimit)},
    "prlimit64": {"resource": _value(_RLIMIT), "new_rlim": _in(_dec_rlimit),
                  "old_rlim": _out(_dec_rlimit)},
    "close_range": {"fd": _uint, "flags": _value(_CLOSE_RANGE)},
    "dup3": {"flags": _OPEN_NOACC},
    "pipe": {"fildes": _out(_dec_fd_pair)},
    "pipe2": {"fildes": _out(_dec_fd_pair), "flags": _OPEN_NOACC},
    "eventfd2": {"flags": _value(_EFD)},
    "epoll_create1": {"flags": _value(_EPOLL_CREATE)},
    "socket": {"domain": _value(_SOCKET_FAMILY), "type": _value(_socket_type),
               "protocol": _protocol},
    "socketpair": {"domain": _value(_SOCKET_FAMILY), "type": _value(_socket_type),
                   "protocol": _protocol, "sv": _out(_dec_fd_pair)},
    "connect": {"addr": _sockaddr_in(2)},
    "bind": {"addr": _sockaddr_in(2)},
    "accept": _SOCKADDR_OUT,
    "accept4": {**_SOCKADDR_OUT, "flags": _value(_SOCK_FLAGS)},
    "getsockname": _SOCKADDR_OUT,
    "getpeername": _SOCKADDR_OUT,
    "sendto": {"buf": _buf_in(2), "flags": _value(_MSG_FLAGS), "dest_addr": _sockaddr_in(5)},
    "recvfrom": {"buf": _buf_out(), "flags": _value(_MSG_FLAGS), "src_addr": _sockaddr_out(5),
                 "addrlen": _socklen_inout},
    "setsockopt": {"level": _value(_SOL), "optname": _sockopt_name, "optval": _sockopt_in},
    "getsockopt": {"level": _value(_SOL), "optname": _sockopt_name, "optval": _sockopt_out,
                   "optlen": _socklen_inout},
    "shutdown": {"how": _value(_SHUT)},
    "io_uring_setup": {"p": _in(_dec_uring_params)},
    "io_uring_enter": {"flags": _value(_URING_ENTER)},
    "io_uring_register": {"opcode": _value(_URING_REGISTER)},
    "sendmsg": {"flags": _value(_MSG_FLAGS)},
    "recvmsg": {"flags": _value(_MSG_FLAGS)},
    "wait4": {"stat_addr": _decoded(
        lambda c, a: _dec_wait_status(c, a) if c.result > 0 else None, after=True),
        "options": _value(_WAIT_OPTIONS)},
    "waitid": {"options": _value(_WAIT_OPTIONS)},
    "kill": {"sig": _SIG}, "tkill": {"sig": _SIG}, "tgkill": {"sig": _SIG},
    "rt_sigqueueinfo": {"sig": _SIG}, "rt_tgsigqueueinfo": {"sig": _SIG},
    "pidfd_send_signal": {"sig": _SIG},
    "rt_sigaction": {"signum": _SIG, "act": _in(_dec_sigaction),
                     "oldact": _out(_dec_sigaction)},
    "rt_sigprocmask": {"how": _value(_SIGPROCMASK_HOW),
                       "set": lambda c, i: _sigset_arg(c, i, after=False),
                       "oset": lambda c, i: _sigset_arg(c, i, after=True)},
    "nanosleep": {"rqtp": _in(_dec_timespec)},
    "clock_nanosleep": {"which_clock": _value(_CLOCKS), "flags": _value(_TIMER_FLAGS),
                        "rqtp": _in(_dec_timespec)},
    "clock_gettime": {"which_clock": _value(_CLOCKS), "tp": _out(_dec_timespec)},
    "clock_getres": {"which_clock": _value(_CLOCKS), "tp": _out(_dec_timespec)},
    "clock_settime": {"which_clock": _value(_CLOCKS), "tp": _in(_dec_timespec)},
    "timerfd_create": {"clockid": _value(_CLOCKS)},
    "getgroups": {"grouplist": _out(
        lambda c, a: _dec_gid_list(c, a, min(_s32(c.args[0]), c.result)))},
    "setgroups": {"grouplist": _in(lambda c, a: _dec_gid_list(c, a, _s32(c.args[0])))},
    "getdents": {"dirent": _out(_dec_dirents)},
    "getdents64": {"dirent": _out(_dec_dirents)},
}


def _build_signatures() -> dict[str, tuple[Fmt, ...]]:
    table: dict[str, tuple[Fmt, ...]] = {}
    for name in SYSCALL_NAMES.values():
        proto = _EXTRA_PROTOTYPES.get(name) or SYSCALL_PROTOTYPES.get(name)
        if proto is None:
            table[name] = (_hexarg,) * _HEX_ONLY_NARGS.get(name, 6)
            continue
        over = _OVERRIDES.get(name, {})
        table[name] = tuple(over.get(argname) or _auto(ctype, argname)
                            for ctype, argname in proto[1])
    return table


#: syscall name -> one formatter per argument.
_SIGNATURES = _build_signatures()


# --------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------

def _ret_hex(c: _Call) -> str:
    return _hex(c.result & _U64)


def _ret_fcntl(c: _Call) -> str:
    cmd, r = _u32(c.args[1]), c.result
    if cmd == _F_GETFL:
        return f"{_hex(r)} (flags {_open_flags(r)})"
    if cmd == _F_GETFD and r:
        return f"{_hex(r)} (flags {_FD_FLAGS(r)})"
    return str(r)


_RESULTS: dict[str, Callable[[_Call], str]] = {
    "mmap": _ret_hex,
    "mremap": _ret_hex,
    "brk": _ret_hex,
    "shmat": _ret_hex,
    "umask": lambda c: _octal(c.result),
    "fcntl": _ret_fcntl,
}


def _error_text(err: int) -> str:
    name = _ERRNO_NAMES.get(err)
    if err in _RESTART_TEXT:
        return f"? {name} ({_RESTART_TEXT[err]})"
    if name is None:
        return f"-1 {err} ({os.strerror(err)})"
    return f"-1 {name} ({os.strerror(err)})"


# --------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------

def _make_call(nr: int, args: Sequence[int], result: int | None,
               read_string: ReadString, read_bytes: ReadBytes,
               snapshot: dict | None = None, recording: bool = False) -> _Call:
    regs = tuple(a & _U64 for a in args[:6]) + (0,) * (6 - min(len(args), 6))
    if result is not None and result >= 1 << 63:
        result -= 1 << 64                       # accept an unsigned rax too
    name = SYSCALL_NAMES.get(nr, "")
    return _Call(name, regs, result, read_string, read_bytes, snapshot, recording)


def _render_args(nr: int, c: _Call) -> str:
    if not c.name:
        return f"syscall_{nr & _U64:#x}(" + ", ".join(_hex(a) for a in c.args) + ")"
    custom = _CUSTOM_ARGS.get(c.name)
    if custom is not None:
        parts = custom(c)
    else:
        parts = [text for i, fmt in enumerate(_SIGNATURES[c.name])
                 if (text := fmt(c, i)) is not None]
    return f"{c.name}({', '.join(parts)})"


def _join(call: str, result: str, align: bool) -> str:
    if align:
        return (call + " ").ljust(ALIGN_COLUMN) + "= " + result
    return f"{call} = {result}"


def format_args(nr: int, args: Sequence[int], result: int | None,
                read_string: ReadString, read_bytes: ReadBytes) -> str:
    """``name(arg, ...)`` without the result.

    ``result`` matters for buffers the call fills in (read, stat, ...): they are
    shown only when the result says success; pass None before the call returns.
    """
    return _render_args(nr, _make_call(nr, args, result, read_string, read_bytes))


def format_result(nr: int, args: Sequence[int], result: int | None) -> str:
    """The text after ``= ``: ``3``, ``0x7f12345000``, ``-1 ENOENT (...)`` or ``?``."""
    if result is None:
        return "?"
    c = _make_call(nr, args, result, _no_memory, _no_memory)
    if _is_error(c.result):
        return _error_text(-c.result)
    special = _RESULTS.get(c.name)
    return special(c) if special is not None else str(c.result)


def _no_memory(addr: int, size: int) -> None:
    return None


def format_call(nr: int, args: tuple[int, ...], result: int | None,
                read_string: ReadString, read_bytes: ReadBytes,
                *, align: bool = False) -> str:
    """One strace line for syscall ``nr``, e.g. ``close(99) = -1 EBADF (Bad file descriptor)``.

    ``args``: the six raw argument registers (unsigned).  ``result``: raw return
    value as a signed int (-errno on failure), or None for a call that did not
    return (exit, exit_group).  ``read_string(addr, max_len)`` returns the bytes
    of a NUL-terminated string (at most ``max_len``, None on a fault) and
    ``read_bytes(addr, n)`` returns ``n`` raw bytes (None on a fault).
    ``align`` pads before ``=`` to column 40 as strace does; the default
    separator is a single space.

    Everything is read from memory now, i.e. after the call; use begin_call()
    when the call may overwrite its own inputs (execve, sigprocmask, ...).
    """
    call = format_args(nr, args, result, read_string, read_bytes)
    return _join(call, format_result(nr, args, result), align)


class PendingCall:
    """A syscall seen at entry, to be printed once its result is known.

    Creating it reads (and keeps) everything the call takes from the tracee's
    memory, the way strace decodes input arguments on syscall entry.
    """

    def __init__(self, nr: int, args: Sequence[int],
                 read_string: ReadString, read_bytes: ReadBytes):
        self.nr = nr
        self.args = tuple(args)
        self._snapshot: dict[tuple[str, int, int], bytes | None] = {}
        self._read_string = read_string
        self._read_bytes = read_bytes
        entry = _make_call(nr, args, None, read_string, read_bytes,
                           self._snapshot, recording=True)
        #: ``name(args`` as it would print if the call never returned.
        self.entry_text = _render_args(nr, entry)

    def finish(self, result: int | None, read_string: ReadString | None = None,
               read_bytes: ReadBytes | None = None, *, align: bool = False) -> str:
        """The full line; ``result`` None for a call that did not return."""
        c = _make_call(self.nr, self.args, result, read_string or self._read_string,
                       read_bytes or self._read_bytes, self._snapshot)
        return _join(_render_args(self.nr, c), format_result(self.nr, self.args, result),
                     align)


def begin_call(nr: int, args: Sequence[int],
               read_string: ReadString, read_bytes: ReadBytes) -> PendingCall:
    """Capture a call at entry; ``.finish(result)`` gives the strace line."""
    return PendingCall(nr, args, read_string, read_bytes)


def format_exit(status: int) -> str:
    """strace's last line for a process, from its raw wait status (os.waitpid).

    ``+++ exited with 0 +++``, ``+++ killed by SIGKILL +++``,
    ``+++ killed by SIGSEGV (core dumped) +++``.
    """
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        core = " (core dumped)" if os.WCOREDUMP(status) else ""
        return f"+++ killed by {_signame(sig) or sig}{core} +++"
    return f"+++ exited with {os.WEXITSTATUS(status)} +++"


# names of the values `pylinuxabi coverage` lists (observe/usage.py's selectors):
# one command, or one flag bit, as strace would print it
_VALUE_NAMES = {
    "fcntl": lambda v: _FCNTL_CMD(v), "ioctl": lambda v: _IOCTL_NAMES.get(v, f"{v:#x}"),
    "madvise": lambda v: _MADVISE(v), "lseek": lambda v: _SEEK(v), "fadvise64": lambda v: _FADVISE(v),
    "arch_prctl": lambda v: _ARCH_PRCTL(v), "socket": lambda v: SOCKET_FAMILY.get(v, str(v)),
    "open": lambda v: _O_FLAGS.parts(v)[0] if v else "O_RDONLY",
    "openat": lambda v: _O_FLAGS.parts(v)[0] if v else "O_RDONLY",
    "mmap": lambda v: (_MAP_TYPES.get(v) if v & _MAP_TYPE_MASK == v else _MAP_FLAGS.parts(v)[0]),
    "clone": lambda v: _CLONE_FLAGS.parts(v)[0] if v & ~_CSIGNAL else f"signal {v}",
    "renameat2": lambda v: _RENAME.parts(v)[0] if v else "0", "umount2": lambda v: _UMOUNT.parts(v)[0] if v else "0",
    "statx": lambda v: "|".join(_STATX_AT_FLAGS.parts(v)) if v else "0",
    "newfstatat": lambda v: _AT_FLAGS.parts(v)[0] if v else "0",
    "getrandom": lambda v: _GRND.parts(v)[0] if v else "0", "memfd_create": lambda v: _MFD.parts(v)[0] if v else "0",
    "eventfd2": lambda v: _EFD.parts(v)[0] if v else "0",
}


def value_name(syscall: str, value: int) -> str:
    """A command or one flag bit of `syscall` by its name, when the formatter knows it."""
    name = _VALUE_NAMES.get(syscall)
    try:
        return name(value) if name else f"{value:#x}"
    except (IndexError, KeyError, TypeError):
        return f"{value:#x}"
