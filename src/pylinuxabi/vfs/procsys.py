"""/proc/sys: the sysctls programs read — the sandbox's own where the model has them
(names, limits its syscalls enforce, ids), the host's for machine-wide facts.

Writes: the sysctls the model holds (hostname, domainname, core_pattern, tainted,
ns_last_pid, pipe-max-size) are written as Linux's handlers write them, each
sandbox its own values, which never reach the host. The rest are read-only to
the sandbox, as docker's /proc/sys: opening one for writing is EROFS for whoever
passes the permission check. That check is sysctl's own (test_perm: the mode
alone, no override for root), so a sysctl without a write bit is EACCES even
for root, and others get EACCES where the mode refuses them.
"""
import errno
import os
import re
import stat as st
import uuid

from pylinuxabi.base.creds import CAP_SYS_ADMIN
from pylinuxabi.base.errors import SyscallError
from pylinuxabi.vfs import pipe
from pylinuxabi.vfs.file import O_ACCMODE, O_PATH
from pylinuxabi.vfs.inotify import MAX_QUEUED_EVENTS
from pylinuxabi.vfs.synthetic import PolledContent, SynthDir, SynthFile, read_host

PROC_SUPER_MAGIC = 0x9FA0
HOST_SYSCTL = "/proc/sys"
SOMAXCONN = 4096            # net.core.somaxconn of a new network namespace
# machine-wide sysctls a container reads from the host (listed when the host has them)
HOST_SYSCTLS = (
    "kernel/pid_max", "kernel/threads-max", "kernel/overflowuid", "kernel/overflowgid",
    "kernel/shmmax", "kernel/shmall", "kernel/shmmni", "kernel/msgmax", "kernel/msgmnb",
    "kernel/msgmni", "kernel/sem", "kernel/randomize_va_space", "kernel/yama/ptrace_scope",
    "kernel/pty/max", "kernel/pty/reserve", "kernel/random/entropy_avail", "kernel/random/poolsize",
    "kernel/random/urandom_min_reseed_secs", "kernel/random/write_wakeup_threshold",
    "fs/file-max", "fs/file-nr", "fs/pipe-user-pages-soft", "fs/pipe-user-pages-hard",
    "fs/inotify/max_user_watches", "fs/inotify/max_user_instances", "fs/mqueue/queues_max",
    "fs/mqueue/msg_max", "fs/mqueue/msgsize_max", "fs/mqueue/msg_default", "fs/mqueue/msgsize_default",
    "fs/protected_hardlinks", "fs/protected_symlinks", "fs/protected_fifos", "fs/protected_regular",
    "fs/suid_dumpable", "fs/aio-max-nr", "fs/aio-nr", "fs/lease-break-time", "fs/leases-enable",
    "fs/overflowuid", "fs/overflowgid", "fs/epoll/max_user_watches",
    "vm/overcommit_memory", "vm/overcommit_ratio", "vm/overcommit_kbytes", "vm/max_map_count",
    "vm/swappiness", "vm/mmap_min_addr", "vm/nr_hugepages", "vm/min_free_kbytes", "vm/dirty_ratio",
    "vm/dirty_background_ratio",
)


def test_perm(mode, creds, mask):
    """proc_sys_permission: the mode's owner bits for root, group bits for group root,
    the rest for others; no capability overrides them."""
    if creds.euid == 0:
        mode >>= 6
    elif creds.egid == 0 or 0 in creds.groups:
        mode >>= 3
    if mask & ~mode & 7:
        raise SyscallError(errno.EACCES)


class ProcSysFile(SynthFile):
    """One sysctl: its content made at each open; proc_sys_poll finds it always ready
    (the hostname's and domainname's change events are not modelled). One of the
    host's is read-only to the sandbox: opened for writing, EROFS."""

    fs_magic = PROC_SUPER_MAGIC
    file_class = PolledContent

    def permission(self, creds, mask):
        if mask & 1:
            raise SyscallError(errno.EACCES)        # sysctls are never executable
        test_perm(self.mode, creds, mask)

    def open(self, dentry, flags, task):
        if flags & O_PATH or (flags & O_ACCMODE) == os.O_RDONLY:
            return super().open(dentry, flags, task)
        raise SyscallError(errno.EROFS)

    def setattr(self, mode=None, uid=None, gid=None, size=None, atime_ns=None, mtime_ns=None):
        """proc_sys_setattr: no chmod or chown; a size (O_TRUNC) or times change nothing."""
        if mode is not None or uid is not None or gid is not None:
            raise SyscallError(errno.EPERM)


class HeldSysctl(ProcSysFile):
    """A sysctl whose value the sandbox holds: shown by show(); a write is given to
    store(data, creds), which checks the writer (EPERM), parses the text as the
    kernel's handler does (EINVAL) and keeps the value. The writer is the file's
    opener (its credentials as at open, as the file's f_cred)."""

    def __init__(self, show, store, mode, dev):
        super().__init__(lambda: _line(show()) + b"\n", mode=mode, dev=dev)
        self.store = store

    def open(self, dentry, flags, task):
        if flags & O_PATH or (flags & O_ACCMODE) == os.O_RDONLY:
            return super().open(dentry, flags, task)
        return SysctlWriter(dentry, self, flags, self.content_fn(), task.creds)


class SysctlWriter(PolledContent):
    """A held sysctl open for writing. A write at a later position than 0 changes
    nothing (sysctl_writes_strict's rule for numbers; strings are written whole)."""

    def __init__(self, dentry, inode, flags, data, creds):
        super().__init__(dentry, inode, flags, data)
        self.creds = creds

    def pwrite(self, data, offset):
        if data and offset == 0:
            self.inode.store(data, self.creds)
        return len(data)


# -- what the kernel's handlers accept ---------------------------------------------------
ULONG_MAX = (1 << 64) - 1
NUMBER = re.compile(rb"[ \t\n]*(-?)([0-9][0-9a-fA-FxX]*)")
PAGE = 4096
PID_MAX_LIMIT = 4 * 1024 * 1024
TAINT_FLAGS_COUNT = 20          # TAINT_FWCTL, the last of Linux 6.14
CAP_CHECKPOINT_RESTORE = 40
UTS_LEN = 64                    # __NEW_UTS_LEN
CORENAME_MAX_SIZE = 128


def parse_number(data):
    """proc_get_long after proc_skip_spaces: one number, as strtoul reads it in base 0
    (0x… hex, 0… octal), a '-' allowed before it, then a space or the end: else EINVAL."""
    m = NUMBER.match(data)
    if m is None:
        raise SyscallError(errno.EINVAL)
    text = m.group(2)
    digits, base = (text[2:], 16) if text[:2].lower() == b"0x" else (text, 8 if text[:1] == b"0" else 10)
    valid = re.match(rb"[0-9a-fA-F]*" if base == 16 else rb"[0-7]*" if base == 8 else rb"[0-9]*", digits)
    used = len(text) - len(digits) + valid.end()
    if base == 16 and valid.end() == 0:     # "0x" alone is the number 0 followed by "x"
        used, digits = 1, b"0"
    rest = data[m.start(2) + used:]
    if used >= 21 or rest[:1] not in (b"", b" ", b"\t", b"\n", b"\0"):
        raise SyscallError(errno.EINVAL)
    value = int(digits[:valid.end()] or b"0", base) if base != 16 or valid.end() else 0
    if value > ULONG_MAX:
        raise SyscallError(errno.EINVAL)
    return -value if m.group(1) else value


def parse_unsigned(data):
    value = parse_number(data)
    if value < 0:
        raise SyscallError(errno.EINVAL)
    return value


def parse_string(data, maxlen):
    """proc_dostring: up to the first newline or NUL, at most maxlen - 1 bytes (the rest dropped)."""
    return data.split(b"\n", 1)[0].split(b"\0", 1)[0][:maxlen - 1]


def round_pipe_size(value):
    """fs/pipe-max-size (do_proc_dopipe_max_size_conv): the number as an unsigned int,
    at least a page, rounded up to a power of two; over 2 GiB is EINVAL."""
    size = value & 0xFFFFFFFF
    if size > 1 << 31:
        raise SyscallError(errno.EINVAL)
    return PAGE if size < PAGE else 1 << (size - 1).bit_length()


class ProcSysDir(SynthDir):
    """A /proc/sys directory: mode 0555, one link, entries in name order (as sysctl's tree)."""

    fs_magic = PROC_SUPER_MAGIC

    def __init__(self, dev):
        super().__init__({}, mode=0o555, dev=dev)
        self._stat.nlink = 1

    def permission(self, creds, mask):
        if mask & 2:
            raise SyscallError(errno.EACCES)        # directories of sysctls take no new names
    def add(self, path, inode):
        """Put `inode` at `path` (a/b/c) below this directory, making the directories between."""
        head, _, rest = path.partition(b"/")
        if not rest:
            self.entries[head] = inode
            self.entries = dict(sorted(self.entries.items()))
            return
        sub = self.entries.get(head)
        if sub is None:
            sub = self.entries[head] = ProcSysDir(self._stat.dev)
            self.entries = dict(sorted(self.entries.items()))
        sub.add(rest, inode)


def _line(value):
    return value if isinstance(value, bytes) else str(value).encode()


def make_procsys(dev, hostname, domainname, limits, pty_count=lambda: 0, set_hostname=None, set_domainname=None):
    """The /proc/sys directory. hostname() and domainname() give the sandbox's names
    (bytes), which set_hostname(name) and set_domainname(name) change (as sethostname
    does); limits maps more sysctl paths (bytes) to the model's fixed values;
    pty_count() is how many pseudo-terminals the sandbox has."""
    root = ProcSysDir(dev)
    boot_id = str(uuid.uuid4()).encode()

    def model(path, content_fn, mode=0o444):
        root.add(path, ProcSysFile(lambda: _line(content_fn()) + b"\n", mode=mode, dev=dev))

    release, version = os.uname().release, os.uname().version
    add_uts_names(root, dev, hostname, domainname, set_hostname, set_domainname)
    model(b"kernel/ostype", lambda: b"Linux")
    model(b"kernel/osrelease", lambda: release)
    model(b"kernel/version", lambda: version)
    model(b"kernel/random/boot_id", lambda: boot_id)
    model(b"kernel/random/uuid", lambda: str(uuid.uuid4()))
    model(b"kernel/pty/nr", pty_count)
    model(b"fs/inotify/max_queued_events", lambda: MAX_QUEUED_EVENTS, 0o644)
    model(b"net/core/somaxconn", lambda: SOMAXCONN, 0o644)
    add_held_sysctls(root, dev)
    for path, (value, mode) in limits.items():
        model(path, lambda value=value: value, mode)
    for name in HOST_SYSCTLS:
        host = os.path.join(HOST_SYSCTL, name)
        try:
            mode = st.S_IMODE(os.stat(host).st_mode)
        except OSError:
            continue            # the host kernel has no such sysctl: neither have we
        root.add(name.encode(), ProcSysFile(lambda host=host: read_host(host), mode=mode, dev=dev))
    return root


def add_uts_names(root, dev, hostname, domainname, set_hostname, set_domainname):
    """kernel/hostname and kernel/domainname (proc_do_uts_string): a write takes up to
    the first newline, 64 bytes at most; no privilege beyond the mode's is asked."""
    for path, show, change in ((b"kernel/hostname", hostname, set_hostname),
                               (b"kernel/domainname", domainname, set_domainname)):
        store = (lambda data, creds, change=change: change(parse_string(data, UTS_LEN + 1))) if change else None
        if store is None:
            root.add(path, ProcSysFile(lambda show=show: show() + b"\n", mode=0o644, dev=dev))
        else:
            root.add(path, HeldSysctl(show, store, 0o644, dev))


def add_held_sysctls(root, dev):
    """kernel/core_pattern, kernel/tainted, kernel/ns_last_pid and fs/pipe-max-size,
    writable by the sandbox's root as Linux's handlers allow (each its own values,
    starting from the host's)."""
    held = {}

    def host_value(name, parse):
        if name not in held:
            held[name] = parse(read_host(os.path.join(HOST_SYSCTL, name)).rstrip(b"\n"))
        return held[name]

    def store_core_pattern(data, creds):
        held["kernel/core_pattern"] = parse_string(data, CORENAME_MAX_SIZE)

    def store_tainted(data, creds):
        """proc_taint: CAP_SYS_ADMIN's; the bits of known taints are added, never cleared."""
        if not creds.capable(CAP_SYS_ADMIN):
            raise SyscallError(errno.EPERM)
        value = parse_unsigned(data)
        held["kernel/tainted"] = host_value("kernel/tainted", int) | (value & ((1 << TAINT_FLAGS_COUNT) - 1))

    def store_pipe_max_size(data, creds):
        pipe.PIPE_MAX_SIZE = round_pipe_size(parse_unsigned(data))     # what F_SETPIPE_SZ enforces

    if os.path.exists(os.path.join(HOST_SYSCTL, "kernel/core_pattern")):
        root.add(b"kernel/core_pattern", HeldSysctl(lambda: host_value("kernel/core_pattern", bytes),
                                                     store_core_pattern, 0o644, dev))
    if os.path.exists(os.path.join(HOST_SYSCTL, "kernel/tainted")):
        root.add(b"kernel/tainted", HeldSysctl(lambda: host_value("kernel/tainted", int), store_tainted, 0o644, dev))
    root.add(b"fs/pipe-max-size", HeldSysctl(lambda: pipe.PIPE_MAX_SIZE, store_pipe_max_size, 0o644, dev))
    root.add(b"kernel/ns_last_pid", HeldSysctl(_ns_last_pid, _store_ns_last_pid, 0o666, dev))


NS_LAST_PID = "/proc/sys/kernel/ns_last_pid"       # the supervisor's /proc: the sandbox's PID namespace


def _ns_last_pid():
    """The last pid given in the sandbox's PID namespace, which is the supervisor's own
    (DESIGN §2: the model's pids are that namespace's)."""
    return read_host(NS_LAST_PID).rstrip(b"\n")


def _store_ns_last_pid(data, creds):
    """pid_ns_ctl_handler: CAP_SYS_ADMIN's or CAP_CHECKPOINT_RESTORE's; 0 to PID_MAX_LIMIT.
    The sandbox's own PID namespace takes the value (the host's is never written)."""
    if not creds.capable(CAP_SYS_ADMIN) and not creds.capable(CAP_CHECKPOINT_RESTORE):
        raise SyscallError(errno.EPERM)
    value = parse_number(data)
    if not 0 <= value <= PID_MAX_LIMIT:
        raise SyscallError(errno.EINVAL)
    if os.getpid() != 1:
        raise SyscallError(errno.EPERM)     # not in a PID namespace of our own: never the host's
    try:
        with open(NS_LAST_PID, "wb") as f:
            f.write(b"%d" % value)
    except OSError as e:
        raise SyscallError(e.errno)
