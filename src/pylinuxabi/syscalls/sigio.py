"""fcntl(2)'s file owner and its signals: F_SETOWN, F_GETOWN, F_SETOWN_EX, F_GETOWN_EX,
F_SETSIG, F_GETSIG, dnotify's F_NOTIFY, and send_sigio for lease breaks and dnotify.

Argument checks and pid lookups; the owner is vfs/fown.py's, the watches vfs/dnotify.py's.
The signal is sent by the host from the supervisor (send_sigio).
"""
import errno
import os
import signal
import struct

from pylinuxabi.base.errors import SyscallError, check
from pylinuxabi.kernel.task import INIT_PID
from pylinuxabi.vfs import dnotify, fown
from pylinuxabi.vfs.file import O_PATH
from pylinuxabi.vfs.fown import F_OWNER_PGRP, F_OWNER_PID, F_OWNER_TID

F_SETOWN, F_GETOWN, F_SETSIG, F_GETSIG = 8, 9, 10, 11
F_SETOWN_EX, F_GETOWN_EX = 15, 16
F_NOTIFY = 1026
OWNER_COMMANDS = (F_SETOWN, F_GETOWN, F_SETSIG, F_GETSIG, F_SETOWN_EX, F_GETOWN_EX)
F_OWNER_EX = struct.Struct("<ii")       # struct f_owner_ex: type, pid
INT_MIN = -(1 << 31)
NSIG = 64
POLL_MSG = 3                            # si_code of a lease break or dnotify signal
SI_KERNEL = 0x80
SIGINFO_SIZE = 128
SIGINFO_POLL = struct.Struct("<iii4xqi")  # si_signo, si_errno, si_code, (pad) _sigpoll's si_band, si_fd
# band_table: the poll bits si_band gives for each POLL_* reason (POLL_IN..POLL_HUP)
BANDS = {1: 0x41, 2: 0x304, 3: 0x441, 4: 0x8, 5: 0x82, 6: 0x18}


def int_arg(arg):
    """fcntl's argi: the argument as a C int."""
    arg &= 0xFFFFFFFF
    return arg - (1 << 32) if arg >= 1 << 31 else arg


def fcntl_owner(task, f, cmd, arg):
    """fcntl(2) F_SETOWN, F_GETOWN, F_SETOWN_EX, F_GETOWN_EX, F_SETSIG and F_GETSIG."""
    if f.flags & O_PATH:
        raise SyscallError(errno.EBADF)
    kernel = task.process.kernel
    if cmd == F_GETOWN:
        o = fown.owner(f)
        if o is None or not _alive(kernel, o.pid, o.type):
            return 0
        return -o.pid if o.type == F_OWNER_PGRP else o.pid
    if cmd == F_SETOWN:
        who = int_arg(arg)
        check(who != INT_MIN, errno.EINVAL)
        type = F_OWNER_PGRP if who < 0 else F_OWNER_PID
        _set_owner(task, f, abs(who), type)
        return 0
    if cmd == F_GETOWN_EX:
        o = fown.owner(f) or fown.FileOwner()
        pid = o.pid if _alive(kernel, o.pid, o.type) else 0
        task.mem.write(arg, F_OWNER_EX.pack(o.type, pid))
        return 0
    if cmd == F_SETOWN_EX:
        type, pid = F_OWNER_EX.unpack(task.mem.read(arg, F_OWNER_EX.size))
        check(type in (F_OWNER_TID, F_OWNER_PID, F_OWNER_PGRP), errno.EINVAL)
        if pid < 0:
            raise SyscallError(errno.ESRCH)     # find_vpid finds no negative pid
        _set_owner(task, f, pid, type)
        return 0
    if cmd == F_GETSIG:
        o = fown.owner(f)
        return o.signum if o is not None else 0
    sig = int_arg(arg)
    check(0 <= sig <= NSIG, errno.EINVAL)       # valid_signal (0: plain SIGIO)
    fown.set_signal(f, sig)
    return 0


def _set_owner(task, f, pid, type):
    """f_setown / f_setown_ex: pid (0: nobody) must be a pid the sandbox knows (ESRCH)."""
    if pid and not _exists(task.process.kernel, pid):
        raise SyscallError(errno.ESRCH)
    fown.set_owner(f, pid, type, task.creds)


def _pgrp(pid):
    try:
        return os.getpgid(pid)
    except OSError:
        return None


def _sid(pid):
    try:
        return os.getsid(pid)
    except OSError:
        return None


def _exists(kernel, pid):
    """find_vpid: the number is a thread's, a zombie's, or a living group's or session's."""
    if pid == INIT_PID or pid in kernel.tasks or pid in kernel.zombies:
        return True
    return any(_pgrp(p) == pid or _sid(p) == pid for p in kernel.processes)


def _alive(kernel, pid, type):
    """pid_task(owner, type): is there still a thread, process or group the owner names?"""
    if not pid:
        return False
    if type == F_OWNER_TID:
        return pid in kernel.tasks or pid in kernel.zombies or pid == INIT_PID
    if type == F_OWNER_PID:
        return pid in kernel.processes or pid in kernel.zombies or pid == INIT_PID
    return any(_pgrp(p) == pid for p in kernel.processes)


# -- sending (send_sigio) ----------------------------------------------------------------
def notifier(task, f, fd):
    """What a lease or a dnotify watch (POLL_MSG) or O_ASYNC (its reason) of f, set through
    fd, calls to signal f's owner."""
    kernel = task.process.kernel
    return lambda reason=POLL_MSG: send_sigio(kernel, f, fd, reason)


def send_sigio(kernel, f, fd, reason):
    """send_sigio: f's owner gets its signal (F_SETSIG's, else SIGIO), each target
    process or thread that the owner's setter may signal (sigio_perm). With F_SETSIG
    the siginfo says why (si_code `reason`, si_band, si_fd `fd`); plain SIGIO is the
    kernel's own (SI_KERNEL). The host sends it from the supervisor, and the kernel
    puts this siginfo in as it is delivered (Kernel.fix_siginfo).
    """
    o = fown.owner(f)
    if o is None or not o.pid:
        return
    sig = o.signum or signal.SIGIO
    if o.signum:
        band = BANDS.get(reason, -1)
        info = SIGINFO_POLL.pack(sig, 0, reason, band, fd)
    else:
        info = SIGINFO_POLL.pack(sig, 0, SI_KERNEL, 0, 0)
    info = info.ljust(SIGINFO_SIZE, b"\0")
    if o.type == F_OWNER_TID:
        t = kernel.tasks.get(o.pid)
        if t is not None and _sigio_perm(t.process.creds, o):
            kernel.send_signal(t, sig, info)
        return
    if o.type == F_OWNER_PID:
        targets = [o.pid] if o.pid in kernel.processes else []
    else:
        targets = [pid for pid in kernel.processes if _pgrp(pid) == o.pid]
    for pid in targets:
        proc = kernel.processes[pid]
        if _sigio_perm(proc.creds, o):
            kernel.send_process_signal(proc, sig, info)    # any of its threads may take it


def _sigio_perm(creds, o):
    """sigio_perm: the owner's setter was root, or one of its real and effective uids is
    the target's real or saved uid."""
    return o.euid == 0 or bool({o.uid, o.euid} & {creds.ruid, creds.suid})


# -- dnotify -------------------------------------------------------------------------------
def fcntl_notify(task, f, fd, arg):
    """fcntl(2) F_NOTIFY: fcntl_dirnotify. No events removes the caller's watch on any
    file; else the file must be a directory (ENOTDIR) and the events are added to its
    watch. The file's owner, if it has none, becomes the caller."""
    if f.flags & O_PATH:
        raise SyscallError(errno.EBADF)
    arg &= 0xFFFFFFFF
    if not arg & ~dnotify.DN_MULTISHOT:
        dnotify.flush(task.files, f)
        return 0
    if f.dentry is None or not f.inode.is_dir():
        raise SyscallError(errno.ENOTDIR)
    dnotify.watch(f.inode, task.files, f, arg, notifier(task, f, fd))
    fown.set_owner(f, task.process.pid, F_OWNER_PID, task.creds, force=False)
    return 0
