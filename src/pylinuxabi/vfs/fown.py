"""The owner of an open file (Linux's fown_struct): whom F_SETOWN names, with the
credentials it was set with, and the signal F_SETSIG chose (0: SIGIO).

Pure data kept per open file, made on first use as Linux's file_f_owner_allocate;
the syscall layer decides what the numbers name and sends the signals.
"""
import weakref

F_OWNER_TID, F_OWNER_PID, F_OWNER_PGRP = 0, 1, 2

_owners = weakref.WeakKeyDictionary()       # open file -> FileOwner


class FileOwner:
    __slots__ = ("pid", "type", "uid", "euid", "signum")

    def __init__(self):
        self.pid = 0                # 0: nobody
        self.type = F_OWNER_TID     # what F_GETOWN_EX tells of a file never given an owner
        self.uid = self.euid = 0    # the setter's real and effective uid (sigio_perm)
        self.signum = 0


def owner(file):
    """The file's FileOwner, or None if nothing ever set one."""
    return _owners.get(file)


def _get(file):
    o = _owners.get(file)
    if o is None:
        o = _owners[file] = FileOwner()
    return o


def set_owner(file, pid, type, creds, force=True):
    """f_modown: make pid (of `type`) the owner; without force only if the file has
    none (a lease or a dnotify watch names its taker so). The setter's ids are kept
    for the permission check at each signal."""
    o = _get(file)
    if force or not o.pid:
        o.pid, o.type = pid, type
        if pid:
            o.uid, o.euid = creds.ruid, creds.euid


def set_signal(file, signum):
    """F_SETSIG (0: SIGIO, with no siginfo)."""
    _get(file).signum = signum


def forget(file):
    """lease_modify(F_UNLCK): f_delown, and the signal back to SIGIO."""
    o = _owners.get(file)
    if o is not None:
        o.pid, o.type, o.signum = 0, F_OWNER_PID, 0
