"""The terminal we were started on: its I/O and ioctls are run by the host.

Every process holds the terminal at the host fd TTY_FD (the platform lends
it at launch). A read, write or terminal ioctl on a file that is that
terminal is rewritten to name TTY_FD and run by the host in the calling
thread (Resume's args), so job control is the host's own: a background
process group that reads gets SIGTTIN, TIOCSPGRP is checked against the
caller's session, a blocked read is interrupted and restarted as Linux does,
and Ctrl-C reaches the foreground group. Requests that could reach past the sandbox are refused as for a
process without CAP_SYS_ADMIN.
"""
import errno
import os
import termios

from pylinuxabi.base.errors import SyscallError
from pylinuxabi.kernel.kernel import Resume
from pylinuxabi.vfs.file import POLLIN, POLLOUT

# ioctls of the tty layer the host answers on the terminal
TIOCGSID, TIOCSBRK, TIOCCBRK = 0x5429, 0x5427, 0x5428
TIOCGEXCL = 0x80045440
TCGETS2, TCSETS2, TCSETSW2, TCSETSF2 = 0x802C542A, 0x402C542B, 0x402C542C, 0x402C542D
HOST_IOCTLS = frozenset({
    termios.TCGETS, termios.TCSETS, termios.TCSETSW, termios.TCSETSF,
    termios.TCGETA, termios.TCSETA, termios.TCSETAW, termios.TCSETAF,
    TCGETS2, TCSETS2, TCSETSW2, TCSETSF2,
    termios.TCSBRK, termios.TCSBRKP, TIOCSBRK, TIOCCBRK, termios.TCXONC, termios.TCFLSH,
    termios.TIOCGWINSZ, termios.TIOCSWINSZ, termios.TIOCOUTQ, termios.TIOCGETD,
    termios.TIOCGPGRP, termios.TIOCSPGRP, TIOCGSID, termios.TIOCSCTTY, termios.TIOCNOTTY,
    termios.TIOCEXCL, termios.TIOCNXCL, TIOCGEXCL, termios.TIOCMGET,
    termios.TIOCGSOFTCAR, termios.TIOCSSOFTCAR, termios.TIOCGLCKTRMIOS,
})
# typing into the user's terminal (as dev.tty.legacy_tiocsti=0 refuses it: EIO),
# redirecting the console, changing the line discipline
REFUSED_IOCTLS = {termios.TIOCSTI: errno.EIO, termios.TIOCCONS: errno.EPERM, termios.TIOCSETD: errno.EPERM}


def is_lent(task, f):
    """Is f the terminal every process holds at TTY_FD?"""
    return f.tty_rdev is not None and f.tty_rdev == task.process.kernel.platform.terminal_rdev


def host_io(task, f, for_write):
    """Let the host run this read or write (plain or vectored) on TTY_FD.

    A non-blocking file (O_NONBLOCK is kept in our model only: the host's
    description is the user's shell's too) is EAGAIN when the terminal is
    not ready, and otherwise goes to the host, which then has data or room.
    """
    if f.flags & os.O_NONBLOCK and not f.poll() & (POLLOUT if for_write else POLLIN):
        raise SyscallError(errno.EAGAIN)
    return _on_host(task)


def host_ioctl(task, request, arg):
    if request in REFUSED_IOCTLS:
        raise SyscallError(REFUSED_IOCTLS[request])
    if request not in HOST_IOCTLS:
        raise SyscallError(errno.ENOTTY)
    if request == termios.TIOCSCTTY and arg != 0:
        raise SyscallError(errno.EPERM)         # stealing a terminal needs CAP_SYS_ADMIN
    if request == termios.TIOCSPGRP:
        return _set_foreground(task, arg)
    return _on_host(task)


def _set_foreground(task, arg):
    """TIOCSPGRP: the host sets the foreground group from our copy of the pgid,
    which may not be a group the supervisor (host pid 1) is in: as for a group
    of another session, EPERM."""
    raw = task.mem.read(arg, 4)
    pgid = int.from_bytes(raw, "little", signed=True)
    if pgid < 0:
        raise SyscallError(errno.EINVAL)
    if pgid == os.getpgid(0):
        raise SyscallError(errno.EPERM)
    copy = task.process.kernel.platform.stash(task.thread, raw)
    return Resume(args=(task.process.kernel.platform.tty_fd, None, copy))


def _on_host(task):
    return Resume(args=(task.process.kernel.platform.tty_fd,))
