"""devpts: /dev/pts and the pseudo-terminals a program makes by opening /dev/ptmx.

Each pty is a real host pty pair that the supervisor holds (the program only
ever has virtual fds); numbers are the sandbox's own, from 0. Reads, writes,
waiting and terminal ioctls go to the host pair (HostStreamFile); the lock,
the numbers and the session and foreground process group the model keeps.
Laid out as docker mounts devpts (gid=5,mode=620,ptmxmode=666). The terminal
lent to the program (syscalls/terminal.py) is there too, under its host number,
so that the name the program's stdio has exists in the sandbox.
"""
import errno
import fcntl
import itertools
import os
import signal
import stat as st
import struct
import termios
import weakref

from pylinuxabi.base.errors import SyscallError
from pylinuxabi.vfs.file import O_ACCMODE, O_PATH, OpenFile
from pylinuxabi.vfs.inode import anon_dev
from pylinuxabi.vfs.mount import Dentry
from pylinuxabi.vfs.stdio import HostStreamFile, LentTerminalNode
from pylinuxabi.vfs.synthetic import SynthDir, SynthInode

DEVPTS_SUPER_MAGIC = 0x1CD1
TTYAUX_MAJOR, PTMX_MINOR = 5, 2
UNIX98_PTY_SLAVE_MAJOR = 136
TTY_GID, PTS_MODE, PTMX_MODE = 5, 0o620, 0o666
INT = struct.Struct("<i")

TIOCGPTN, TIOCSPTLCK, TIOCGPTLCK, TIOCGPTPEER = 0x80045430, 0x40045431, 0x80045439, 0x5441
TIOCGDEV, TIOCSIG, TIOCGPKT, TIOCGSID = 0x80045432, 0x40045436, 0x80045438, 0x5429
TIOCSBRK, TIOCCBRK, TIOCGEXCL, TIOCVHANGUP = 0x5427, 0x5428, 0x80045440, 0x5437
TCGETS2, TCSETS2, TCSETSW2, TCSETSF2 = 0x802C542A, 0x402C542B, 0x402C542C, 0x402C542D
T = termios
# ioctls the host pair answers: request -> (bytes the program passes in, bytes it gets back)
HOST_IOCTLS = {
    T.TCGETS: (0, 36), T.TCSETS: (36, 0), T.TCSETSW: (36, 0), T.TCSETSF: (36, 0),
    T.TCGETA: (0, 18), T.TCSETA: (18, 0), T.TCSETAW: (18, 0), T.TCSETAF: (18, 0),
    TCGETS2: (0, 44), TCSETS2: (44, 0), TCSETSW2: (44, 0), TCSETSF2: (44, 0),
    T.TIOCGWINSZ: (0, 8), T.TIOCSWINSZ: (8, 0), T.TIOCOUTQ: (0, 4), T.TIOCGETD: (0, 4),
    T.TIOCPKT: (4, 0), TIOCGPKT: (0, 4), TIOCGEXCL: (0, 4), T.TIOCGSOFTCAR: (0, 4),
    T.TIOCSSOFTCAR: (4, 0), T.TIOCMGET: (0, 4), T.TIOCMSET: (4, 0), T.TIOCMBIS: (4, 0),
    T.TIOCMBIC: (4, 0), T.TIOCGLCKTRMIOS: (0, 36),
}
# ... whose argument is a value, not a pointer
HOST_VALUE_IOCTLS = {T.TCSBRK, T.TCSBRKP, T.TCXONC, T.TCFLSH, TIOCSBRK, TIOCCBRK, T.TIOCEXCL, T.TIOCNXCL}
# typing into a terminal (dev.tty.legacy_tiocsti=0), the console, line disciplines,
# locking termios and hanging up need capabilities docker's root has not
REFUSED_IOCTLS = {T.TIOCSTI: errno.EIO, T.TIOCCONS: errno.EPERM, T.TIOCSETD: errno.EPERM,
                  T.TIOCSLCKTRMIOS: errno.EPERM, TIOCVHANGUP: errno.EPERM}


def encode_dev(major, minor):
    """new_encode_dev: the 32-bit device number TIOCGDEV gives."""
    return (minor & 0xFF) | (major << 8) | ((minor & ~0xFF) << 12)


_instances = weakref.WeakSet()         # every DevPts, for /dev/tty to find a session's pty


class DevPts(SynthDir):
    """The root of a devpts instance: 'ptmx' and one node per pty whose master is open,
    newest first as Linux lists them.

    `lent` is our host fd of the terminal lent to the program, if it is a host
    pty (/dev/pts/N): node N is then that terminal, as the host's own (LentTerminalNode),
    and our ptys are numbered around it.
    """

    cacheable_children = False
    fs_magic = DEVPTS_SUPER_MAGIC

    def __init__(self, lent=None):
        dev = anon_dev()
        super().__init__({}, mode=0o755, dev=dev)
        self._stat.ino = 1
        self.ptmx = PtmxNode(self)
        self.ptys = {}                  # number -> Pty
        self._serial = itertools.count()
        self.lent_number, self.lent_node = None, None
        name = host_name(lent) if lent is not None else b""
        if name.startswith(b"/dev/pts/") and name[9:].isdigit():
            self.lent_number, self.lent_node = int(name[9:]), LentTerminalNode(lent, name)
        _instances.add(self)

    def children(self):
        out = {b"%d" % p.number: p.node for p in sorted(self.ptys.values(), key=lambda p: -p.serial)}
        if self.lent_node is not None:
            out[b"%d" % self.lent_number] = self.lent_node
        out[b"ptmx"] = self.ptmx
        return out

    def new_pty(self, master_fd, uid):
        number = next(n for n in itertools.count() if n not in self.ptys and n != self.lent_number)
        pty = self.ptys[number] = Pty(self, number, master_fd, uid, next(self._serial))
        return pty

    def create(self, name, mode, creds):
        raise SyscallError(errno.EACCES)        # devpts has no create: lookup_open's EACCES

    def ctty_of(self, sid):
        """The pty that is session sid's controlling terminal in the model, or None."""
        return next((p for p in self.ptys.values() if p.live_session() == sid), None)


class Pty:
    """One pseudo-terminal: the host master fd, our number, the lock, and the
    session and foreground process group the model gives its slave."""

    def __init__(self, devpts, number, master_fd, uid, serial):
        self.devpts = devpts
        self.number = number
        self.master_fd = master_fd
        self.serial = serial
        self.locked = True              # as a new pty is until unlockpt
        self.closed = False
        self.session = None
        self.pgrp = None
        self.node = PtsNode(self, uid)

    def open_slave(self, flags):
        """A new host fd on the slave (EIO while locked or once the master is gone)."""
        if self.closed or self.locked:
            raise SyscallError(errno.EIO)
        acc = flags & O_ACCMODE
        try:
            return fcntl.ioctl(self.master_fd, TIOCGPTPEER,
                               (os.O_RDWR if acc == O_ACCMODE else acc) | os.O_NOCTTY | os.O_CLOEXEC)
        except OSError as e:
            raise SyscallError(e.errno)

    def close(self):
        """The master's last close hangs the slave up: its session leader gets SIGHUP and SIGCONT."""
        leader = self.live_session()
        self.closed = True
        self.devpts.ptys.pop(self.number, None)
        os.close(self.master_fd)
        if leader is not None:
            for sig in (signal.SIGHUP, signal.SIGCONT):
                try:
                    os.kill(leader, sig)
                except OSError:
                    pass

    def live_session(self):
        """The session whose controlling terminal this is, if its leader is alive."""
        if self.session is not None:
            try:
                if os.getsid(self.session) == self.session:
                    return self.session
            except OSError:
                pass
            self.session = self.pgrp = None
        return None


class PtmxNode(SynthInode):
    """/dev/pts/ptmx (c 5:2): each open makes a new pty and is its master."""

    def __init__(self, devpts):
        super().__init__(st.S_IFCHR | PTMX_MODE, devpts.stat().dev,
                         rdev=os.makedev(TTYAUX_MAJOR, PTMX_MINOR))
        self._stat.ino = 2
        self.devpts = devpts
        self.fs_magic = DEVPTS_SUPER_MAGIC

    def open(self, dentry, flags, task):
        if flags & O_PATH:
            return OpenFile(dentry, self, flags)
        try:
            fd = os.open("/dev/ptmx", os.O_RDWR | os.O_NOCTTY | os.O_CLOEXEC)
        except OSError as e:
            raise SyscallError(e.errno)
        try:
            fcntl.ioctl(fd, TIOCSPTLCK, INT.pack(0))      # the host pair stays unlocked: our lock is the model's
            pty = self.devpts.new_pty(fd, task.creds.fsuid if task is not None else 0)
            return PtyMaster(pty, dentry, self, flags)
        except BaseException:
            os.close(fd)
            raise


class PtsNode(SynthInode):
    """/dev/pts/N (c 136:N, inode N+3): opening it opens the slave."""

    def __init__(self, pty, uid):
        super().__init__(st.S_IFCHR | PTS_MODE, pty.devpts.stat().dev, uid=uid, gid=TTY_GID,
                         rdev=os.makedev(UNIX98_PTY_SLAVE_MAJOR, pty.number))
        self._stat.ino = pty.number + 3
        self.pty = pty
        self.fs_magic = DEVPTS_SUPER_MAGIC

    def open(self, dentry, flags, task):
        if flags & O_PATH:
            return OpenFile(dentry, self, flags)
        f = PtySlave(self.pty, dentry, flags)
        if not flags & os.O_NOCTTY and task is not None:
            f.adopt_as_ctty(task)
        return f


class PtyFile(HostStreamFile):
    """What master and slave share: a host fd of the pair, our inode and name,
    exact readiness (hang-ups included), and the terminal ioctls."""

    is_master = False

    def __init__(self, pty, fd, dentry, inode, flags):
        super().__init__(fd, flags, b"")
        self.tty_rdev = None            # ours, not the user's terminal the host lends
        self.pty = pty
        self.dentry = dentry
        self.inode = inode

    def path(self):
        return OpenFile.path(self)

    def ioctl(self, request, arg, task):
        if request in (TIOCGPTN, TIOCSPTLCK, TIOCGPTLCK):
            raise SyscallError(errno.ENOTTY)        # master-only requests
        if request == TIOCGPTPEER:
            raise SyscallError(errno.EIO)           # on a tty that is not a master
        if request == TIOCGDEV:
            return 0, struct.pack("<I", encode_dev(UNIX98_PTY_SLAVE_MAJOR, self.pty.number))
        if request in REFUSED_IOCTLS:
            raise SyscallError(REFUSED_IOCTLS[request])
        if request in JOB_IOCTLS:
            return JOB_IOCTLS[request](self, task, arg)
        if request == T.TIOCSWINSZ:
            return self._set_winsize(task, arg)
        if request in HOST_VALUE_IOCTLS:
            return self._host_ioctl(request, arg if arg < 1 << 31 else -1), None
        sizes = HOST_IOCTLS.get(request)
        if sizes is None:
            raise SyscallError(errno.ENOTTY)
        size_in, size_out = sizes
        data = task.mem.read(arg, size_in) if size_in else bytes(size_out)
        out = self._host_ioctl(request, data)
        return 0, (out if size_out else None)

    def _host_ioctl(self, request, arg):
        try:
            return fcntl.ioctl(self.fd, request, arg)
        except OSError as e:
            raise SyscallError(e.errno)

    def _set_winsize(self, task, arg):
        """TIOCSWINSZ; a change sends SIGWINCH to the foreground process group."""
        new = task.mem.read(arg, 8)
        old = self._host_ioctl(T.TIOCGWINSZ, bytes(8))
        self._host_ioctl(T.TIOCSWINSZ, new)
        if new != old and self.pty.live_session() is not None and self.pty.pgrp:
            _killpg(self.pty.pgrp, signal.SIGWINCH)
        return 0, None

    # -- the session and process group, which the model keeps -----------------
    def _is_ctty_of_caller(self, task):
        return self.pty.live_session() is not None and self.pty.session == _sid(task)

    def adopt_as_ctty(self, task):
        """tty_open: a session leader without a terminal that opens one gets it."""
        pid = task.process.pid
        if (_sid(task) == pid and self.pty.live_session() is None and not host_ctty(pid)
                and self.pty.devpts.ctty_of(pid) is None):
            self.pty.session, self.pty.pgrp = pid, os.getpgid(pid)

    def tiocsctty(self, task, arg):
        pid = task.process.pid
        sid = _sid(task)
        if sid == pid and self.pty.live_session() == sid:
            return 0, None
        if sid != pid or host_ctty(pid) or self.pty.devpts.ctty_of(sid) is not None:
            raise SyscallError(errno.EPERM)
        if self.pty.live_session() is not None:
            raise SyscallError(errno.EPERM)         # stealing it needs CAP_SYS_ADMIN
        self.pty.session, self.pty.pgrp = sid, os.getpgid(pid)
        return 0, None

    def tiocnotty(self, task, arg):
        if not self._is_ctty_of_caller(task):
            raise SyscallError(errno.ENOTTY)
        if _sid(task) == task.process.pid:          # the leader gives it up for the session
            pgrp = self.pty.pgrp
            self.pty.session = self.pty.pgrp = None
            if pgrp:
                _killpg(pgrp, signal.SIGHUP)
                _killpg(pgrp, signal.SIGCONT)
        return 0, None

    def tiocgpgrp(self, task, arg):
        if not self.is_master and not self._is_ctty_of_caller(task):
            raise SyscallError(errno.ENOTTY)
        return 0, INT.pack(self.pty.pgrp if self.pty.live_session() is not None else 0)

    def tiocgsid(self, task, arg):
        if not self.is_master and not self._is_ctty_of_caller(task):
            raise SyscallError(errno.ENOTTY)
        sid = self.pty.live_session()
        if sid is None:
            raise SyscallError(errno.ENOTTY)
        return 0, INT.pack(sid)

    def tiocspgrp(self, task, arg):
        if not self._is_ctty_of_caller(task):
            raise SyscallError(errno.ENOTTY)
        pgrp, = INT.unpack(task.mem.read(arg, 4))
        if pgrp < 0:
            raise SyscallError(errno.EINVAL)
        if pgrp == 0:
            raise SyscallError(errno.ESRCH)         # (killpg would take 0 as our own group)
        try:
            os.killpg(pgrp, 0)
            same = os.getsid(pgrp) == self.pty.session
        except ProcessLookupError:
            raise SyscallError(errno.ESRCH)
        except OSError:
            same = True                 # its leader is gone: the group was checked to exist
        if not same:
            raise SyscallError(errno.EPERM)
        self.pty.pgrp = pgrp
        return 0, None


JOB_IOCTLS = {T.TIOCSCTTY: PtyFile.tiocsctty, T.TIOCNOTTY: PtyFile.tiocnotty,
              T.TIOCGPGRP: PtyFile.tiocgpgrp, T.TIOCSPGRP: PtyFile.tiocspgrp, TIOCGSID: PtyFile.tiocgsid}


class PtyMaster(PtyFile):
    """The master side (the open of ptmx that made the pty): its last close ends the pty."""

    is_master = True

    def __init__(self, pty, dentry, inode, flags):
        super().__init__(pty, pty.master_fd, dentry, inode, flags)

    def ioctl(self, request, arg, task):
        pty = self.pty
        if request == TIOCGPTN:
            return 0, struct.pack("<I", pty.number)
        if request == TIOCSPTLCK:
            pty.locked = INT.unpack(task.mem.read(arg, 4))[0] != 0
            return 0, None
        if request == TIOCGPTLCK:
            return 0, INT.pack(int(pty.locked))
        if request == TIOCGPTPEER:
            return self.open_peer(task, arg & 0xFFFFFFFF), None
        if request == TIOCSIG:
            if not 0 < arg < signal.NSIG:
                raise SyscallError(errno.EINVAL)
            if pty.live_session() is not None and pty.pgrp:
                _killpg(pty.pgrp, arg)
            return 0, None
        return super().ioctl(request, arg, task)

    def write(self, data):
        n = super().write(data)
        if n and self.pty.live_session() is not None and self.pty.pgrp:
            self._signal_characters(data[:n])
        return n

    def _signal_characters(self, data):
        """Typed interrupt, quit and suspend characters signal the foreground process group
        (the host's line discipline does the rest: echo, flush), as n_tty's isig."""
        try:
            attrs = termios.tcgetattr(self.fd)
        except termios.error:
            return
        lflag, cc = attrs[3], attrs[6]
        if not lflag & termios.ISIG:
            return
        for index, sig in ((termios.VINTR, signal.SIGINT), (termios.VQUIT, signal.SIGQUIT),
                           (termios.VSUSP, signal.SIGTSTP)):
            c = cc[index]
            c = c[0] if isinstance(c, bytes) else c
            if c and bytes([c]) in data:
                _killpg(self.pty.pgrp, sig)

    def open_peer(self, task, flags):
        """TIOCGPTPEER: the slave opened through the master, with no path walk."""
        d = self.dentry
        dentry = Dentry(b"%d" % self.pty.number, d.parent, self.pty.node, d.mount) if d is not None else None
        f = PtySlave(self.pty, dentry, flags)
        f.flags = flags & ~(os.O_CREAT | os.O_EXCL | os.O_NOCTTY | os.O_TRUNC)
        f.getfl_cloexec = True          # (ptm_open_peer's dentry_open keeps it in f_flags)
        if not flags & os.O_NOCTTY:
            f.adopt_as_ctty(task)
        return task.files.install_new(f, cloexec=bool(flags & os.O_CLOEXEC))

    def release(self):
        self.pty.close()


class PtySlave(PtyFile):
    """An open of /dev/pts/N: our own host fd on the slave."""

    def __init__(self, pty, dentry, flags):
        super().__init__(pty, pty.open_slave(flags), dentry, pty.node, flags)

    def path(self):
        name = super().path()
        return name + b" (deleted)" if self.pty.closed else name


def host_name(fd):
    """The host's name of our host fd `fd` (b"" if it has none)."""
    try:
        return os.readlink(f"/proc/self/fd/{fd}").encode()
    except OSError:
        return b""


def session_pty(sid):
    """The model's pty that is session sid's controlling terminal, or None."""
    return next((p for d in list(_instances) if (p := d.ctty_of(sid)) is not None), None)


def host_ctty(pid):
    """The controlling terminal the host gave process pid, as /proc/<pid>/stat's
    tty_nr (new_encode_dev), 0 if none."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            fields = f.read().rpartition(b")")[2].split()
        return int(fields[4])
    except (OSError, IndexError, ValueError):
        return 0


def _sid(task):
    try:
        return os.getsid(task.process.pid)
    except OSError:
        raise SyscallError(errno.ESRCH)


def _killpg(pgrp, sig):
    try:
        os.killpg(pgrp, sig)
    except OSError:
        pass
