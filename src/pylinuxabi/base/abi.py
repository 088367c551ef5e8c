"""The x86-64 Linux ABI structs the model exchanges with programs, defined once.

Pure data: struct layouts and pack/unpack helpers, no state.
"""
import struct

STAT = struct.Struct("<QQQIIIiQqqqqqqqqq24x")                    # struct stat, 144 bytes
STATX_HEAD = struct.Struct("<IIQIIIHHQQQQ")                       # up to stx_attributes_mask
STATX_TS = struct.Struct("<qIi")
STATX_DEVS = struct.Struct("<IIIIQ")                              # rdev, dev, mnt_id
STATX_SIZE = 256
IOVEC = struct.Struct("<QQ")
RLIMIT = struct.Struct("<QQ")
TIMESPEC = struct.Struct("<qq")
TIMEVAL = struct.Struct("<qq")
UTIMBUF = struct.Struct("<qq")                                    # actime, modtime
POLLFD = struct.Struct("<ihh")
FLOCK = struct.Struct("<hhIqqiI")       # l_type, l_whence, pad, l_start, l_len, l_pid, pad
INOTIFY_EVENT = struct.Struct("<iIII")  # wd, mask, cookie, len (then the name)
OPEN_HOW = struct.Struct("<QQQ")        # struct open_how: flags, mode, resolve (openat2)
FILE_HANDLE = struct.Struct("<Ii")      # struct file_handle: handle_bytes, handle_type (then the handle)
ITIMERSPEC = struct.Struct("<qqqq")     # struct itimerspec: it_interval {sec, nsec}, it_value {sec, nsec}
KERNEL_SIGACTION = struct.Struct("<QQQQ")     # struct kernel_sigaction: sa_handler, sa_flags, sa_restorer, sa_mask
SIGINFO_HEAD = struct.Struct("<iii4x")          # siginfo_t: si_signo, si_errno, si_code (128 bytes in all)
# struct signalfd_siginfo: signo, errno, code, pid, uid, fd, tid, band, overrun, trapno,
# status, int, ptr, utime, stime, addr, addr_lsb, pad, syscall, call_addr, arch
SIGNALFD_SIGINFO = struct.Struct("<IiiIIiIIIIiiQQQQHHiQI28x")
U64 = struct.Struct("<Q")
I32 = struct.Struct("<i")
U32 = struct.Struct("<I")
UTSNAME_FIELD = 65

STATX_TYPE, STATX_MODE, STATX_NLINK, STATX_UID, STATX_GID = 0x1, 0x2, 0x4, 0x8, 0x10
STATX_BASIC_STATS = 0x7FF
STATX_BTIME = 0x800
RLIM_INFINITY = (1 << 64) - 1
PAGE = 4096
# where a signal handler's frame (struct rt_sigframe, at rsp on the handler's first
# instruction) keeps the mask rt_sigreturn puts back: pretcode (8) then struct
# ucontext's uc_flags, uc_link (8 each), uc_stack (24), uc_mcontext (256), uc_sigmask
RT_SIGFRAME_SIGMASK = 8 + 8 + 8 + 24 + 256


def pack_stat(s):
    return STAT.pack(s.dev, s.ino, s.nlink, s.mode, s.uid, s.gid, 0, s.rdev, s.size,
                     s.blksize, s.blocks,
                     s.atime_ns // 10**9, s.atime_ns % 10**9,
                     s.mtime_ns // 10**9, s.mtime_ns % 10**9,
                     s.ctime_ns // 10**9, s.ctime_ns % 10**9)


def _ts(ns):
    return STATX_TS.pack(ns // 10**9, ns % 10**9, 0)


def pack_statx(s, mnt_id=0):
    """struct statx for a Stat (btime only when the filesystem knows it)."""
    mask = STATX_BASIC_STATS | (STATX_BTIME if s.btime_ns is not None else 0)
    head = STATX_HEAD.pack(mask, s.blksize, 0, s.nlink, s.uid, s.gid, s.mode & 0xFFFF, 0,
                           s.ino, s.size, s.blocks, 0)
    times = _ts(s.atime_ns) + _ts(s.btime_ns or 0) + _ts(s.ctime_ns) + _ts(s.mtime_ns)
    devs = STATX_DEVS.pack(s.rdev >> 8 & 0xFFF | (s.rdev >> 32 & ~0xFFF),
                           s.rdev & 0xFF | (s.rdev >> 12 & ~0xFF),
                           s.dev >> 8 & 0xFFF | (s.dev >> 32 & ~0xFFF),
                           s.dev & 0xFF | (s.dev >> 12 & ~0xFF), mnt_id)
    out = head + times + devs
    return out + bytes(STATX_SIZE - len(out))


STATFS = struct.Struct("<qqQQQQQ2iqqq4q")        # struct statfs, 120 bytes


def pack_statfs(magic, bsize=4096, namelen=255):
    """A statfs for a filesystem with no blocks of its own (synthetic ones)."""
    return STATFS.pack(magic, bsize, 0, 0, 0, 0, 0, 0, 0, namelen, bsize, 0x20, 0, 0, 0, 0)


def pack_utsname(*fields):
    return b"".join(f[:UTSNAME_FIELD - 1].ljust(UTSNAME_FIELD, b"\0") for f in fields)


def signed64(v):
    return v - (1 << 64) if v >= 1 << 63 else v


def signed32(v):
    v &= 0xFFFFFFFF
    return v - (1 << 32) if v >= 1 << 31 else v
