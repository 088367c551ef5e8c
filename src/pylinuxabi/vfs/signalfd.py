"""signalfd objects (signalfd(2)): the caller's pending signals of a mask, read as records.

An anonymous-inode OpenFile (fs/signalfd.c). The host keeps the signals:
`signals` (given by the syscall layer) tells which of a mask are pending for
the calling thread and takes one; a read with none waits until one of the
mask arrives (WouldBlock.signals), which the kernel lets end the wait.
"""
import errno
import os
import struct

from pylinuxabi.base.abi import SIGINFO_HEAD, SIGNALFD_SIGINFO
from pylinuxabi.base.errors import SyscallError, WouldBlock
from pylinuxabi.vfs.file import POLLIN, AnonStreamFile
from pylinuxabi.vfs.inotify import ANON_INODE

SFD_CLOEXEC, SFD_NONBLOCK = os.O_CLOEXEC, os.O_NONBLOCK
SIGILL, SIGTRAP, SIGBUS, SIGFPE, SIGSEGV, SIGCHLD, SIGPOLL, SIGSYS = 4, 5, 7, 8, 11, 17, 29, 31
SI_USER, SI_KERNEL, SI_TIMER, SI_SIGIO = 0, 0x80, -2, -5
BUS_MCEERR_AR, BUS_MCEERR_AO = 4, 5
# the si_codes each signal has of its own, and the layout of their siginfo (siginfo_layout)
SIG_SICODES = {SIGILL: (11, "fault"), SIGFPE: (15, "fault"), SIGSEGV: (10, "fault"), SIGBUS: (5, "fault"),
               SIGTRAP: (6, "fault"), SIGCHLD: (6, "chld"), SIGPOLL: (6, "poll"), SIGSYS: (2, "sys")}
NSIGPOLL = 6


def _layout(sig, code):
    if SI_USER < code < SI_KERNEL:
        limit, layout = SIG_SICODES.get(sig, (0, None))
        if layout is not None and code <= limit:
            return "mceerr" if sig == SIGBUS and BUS_MCEERR_AR <= code <= BUS_MCEERR_AO else layout
        return "poll" if code <= NSIGPOLL else "kill"
    if code == SI_TIMER:
        return "timer"
    if code == SI_SIGIO:
        return "poll"
    return "rt" if code < 0 else "kill"


def signalfd_siginfo(raw):
    """The record a read gives for a siginfo_t, as signalfd_copyinfo fills it."""
    signo, err, code = SIGINFO_HEAD.unpack_from(raw)
    f = dict.fromkeys(("pid", "uid", "fd", "tid", "band", "overrun", "trapno", "status", "int", "ptr",
                       "utime", "stime", "addr", "addr_lsb", "syscall", "call_addr", "arch"), 0)
    layout = _layout(signo, code)
    if layout in ("kill", "rt", "chld"):
        f["pid"], f["uid"] = struct.unpack_from("<iI", raw, 16)
        f["pid"] &= 0xFFFFFFFF
    if layout in ("rt", "timer"):
        f["ptr"] = struct.unpack_from("<Q", raw, 24)[0]
        f["int"] = struct.unpack_from("<i", raw, 24)[0]
    if layout == "timer":
        f["tid"], f["overrun"] = struct.unpack_from("<II", raw, 16)
    elif layout == "poll":
        band, f["fd"] = struct.unpack_from("<qi", raw, 16)
        f["band"] = band & 0xFFFFFFFF
    elif layout in ("fault", "mceerr"):
        f["addr"] = struct.unpack_from("<Q", raw, 16)[0]
        if layout == "mceerr":
            f["addr_lsb"] = struct.unpack_from("<H", raw, 24)[0]
    elif layout == "chld":
        f["status"], f["utime"], f["stime"] = struct.unpack_from("<i4xqq", raw, 24)
        f["utime"] &= (1 << 64) - 1
        f["stime"] &= (1 << 64) - 1
    elif layout == "sys":
        f["call_addr"], f["syscall"], f["arch"] = struct.unpack_from("<QiI", raw, 16)
    return SIGNALFD_SIGINFO.pack(signo & 0xFFFFFFFF, err, code, f["pid"], f["uid"], f["fd"], f["tid"],
                                 f["band"], f["overrun"], f["trapno"], f["status"], f["int"], f["ptr"],
                                 f["utime"], f["stime"], f["addr"], f["addr_lsb"], 0, f["syscall"],
                                 f["call_addr"], f["arch"])


class SignalFd(AnonStreamFile):
    """One signalfd: its mask. `signals` has pending(mask) and dequeue(mask) (raw
    siginfo or None) for the thread calling."""

    sized_records = True        # a read smaller than a record (even 0 bytes) is EINVAL
    has_write = False           # no write operation: EINVAL
    host_backed = True          # readiness is the host's pending signals, which no queue tells
                                # of: epoll looks again at each wait, which takes those signals

    def __init__(self, mask, flags, signals):
        super().__init__(None, ANON_INODE, os.O_RDWR | (flags & SFD_NONBLOCK))
        self.mask = mask
        self.signals = signals

    @property
    def wake_signals(self):
        return self.mask

    def host_waits(self, events):
        return []           # its signals end the wait (wake_signals)

    def read(self, count):
        """As many pending signals as whole records fit; with none, EAGAIN or wait for one."""
        n = count // SIGNALFD_SIGINFO.size
        if not n:
            raise SyscallError(errno.EINVAL)
        out = []
        while len(out) < n:
            raw = self.signals.dequeue(self.mask)
            if raw is None:
                break
            out.append(signalfd_siginfo(raw))
        if out:
            return b"".join(out)
        if self.flags & os.O_NONBLOCK:
            raise SyscallError(errno.EAGAIN)
        raise WouldBlock(signals=self.mask, file=self)

    def unread(self, n):
        """A fault while copying out: the signals taken are gone all the same, as on Linux."""

    def poll(self):
        return POLLIN if self.signals.pending(self.mask) else 0

    def fdinfo(self):
        return b"sigmask:\t%016x\n" % self.mask

    def path(self):
        return b"anon_inode:[signalfd]"
