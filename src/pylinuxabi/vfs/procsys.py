"""/proc/sys: the sysctls programs read — the sandbox's own where the model has them
(names, limits its syscalls enforce, ids), the host's for machine-wide facts.

Writes: docker mounts /proc/sys read-only, and so does the sandbox (its own
read-only mount over procfs's "sys"). Opening a sysctl for writing is EROFS
for root — but EACCES for one whose mode has no write bit, as sysctl's own
permission check (test_perm: no override for root) comes before the mount's
— and EACCES for other users the mode refuses. The hostname is the one
uname(2) gives (sethostname changes both).
"""
import errno
import os
import stat as st
import uuid

from pylinuxabi.base.errors import SyscallError
from pylinuxabi.vfs.inotify import MAX_QUEUED_EVENTS
from pylinuxabi.vfs.pipe import PIPE_MAX_SIZE
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
    (the hostname's and domainname's change events are not modelled)."""

    fs_magic = PROC_SUPER_MAGIC
    file_class = PolledContent

    def permission(self, creds, mask):
        if mask & 1:
            raise SyscallError(errno.EACCES)        # sysctls are never executable
        test_perm(self.mode, creds, mask)


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


def make_procsys(dev, hostname, domainname, limits, pty_count=lambda: 0):
    """The /proc/sys directory. hostname() and domainname() give the sandbox's names
    (bytes); limits maps more sysctl paths (bytes) to the model's fixed values;
    pty_count() is how many pseudo-terminals the sandbox has."""
    root = ProcSysDir(dev)
    boot_id = str(uuid.uuid4()).encode()

    def model(path, content_fn, mode=0o444):
        root.add(path, ProcSysFile(lambda: _line(content_fn()) + b"\n", mode=mode, dev=dev))

    release, version = os.uname().release, os.uname().version
    model(b"kernel/hostname", hostname, 0o644)
    model(b"kernel/domainname", domainname, 0o644)
    model(b"kernel/ostype", lambda: b"Linux")
    model(b"kernel/osrelease", lambda: release)
    model(b"kernel/version", lambda: version)
    model(b"kernel/random/boot_id", lambda: boot_id)
    model(b"kernel/random/uuid", lambda: str(uuid.uuid4()))
    model(b"kernel/pty/nr", pty_count)
    model(b"fs/pipe-max-size", lambda: PIPE_MAX_SIZE, 0o644)
    model(b"fs/inotify/max_queued_events", lambda: MAX_QUEUED_EVENTS, 0o644)
    model(b"net/core/somaxconn", lambda: SOMAXCONN, 0o644)
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


