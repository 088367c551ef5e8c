"""Virtual credentials: the program's uids, gids, groups and capabilities,
independent of the host's.

Pure model. Permission checks ask `capable(CAP_…)`, as Linux does, never
"is uid 0": a root that dropped CAP_DAC_OVERRIDE gets EACCES like anyone.
The rules that move capabilities when ids change (capabilities(7),
security/commoncap.c) are here, next to the sets they change.
"""
import errno

from pylinuxabi.base.errors import SyscallError

CAP_NAMES = (
    "chown", "dac_override", "dac_read_search", "fowner", "fsetid", "kill", "setgid", "setuid",
    "setpcap", "linux_immutable", "net_bind_service", "net_broadcast", "net_admin", "net_raw",
    "ipc_lock", "ipc_owner", "sys_module", "sys_rawio", "sys_chroot", "sys_ptrace", "sys_pacct",
    "sys_admin", "sys_boot", "sys_nice", "sys_resource", "sys_time", "sys_tty_config", "mknod",
    "lease", "audit_write", "audit_control", "setfcap", "mac_override", "mac_admin", "syslog",
    "wake_alarm", "block_suspend", "audit_read", "perfmon", "bpf", "checkpoint_restore")
CAP_LAST_CAP = len(CAP_NAMES) - 1
(CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER, CAP_FSETID, CAP_KILL, CAP_SETGID,
 CAP_SETUID, CAP_SETPCAP) = range(9)
CAP_LINUX_IMMUTABLE, CAP_NET_ADMIN, CAP_NET_RAW = 9, 12, 13
CAP_SYS_CHROOT, CAP_SYS_PTRACE, CAP_SYS_ADMIN = 18, 19, 21
CAP_SYS_NICE, CAP_SYS_RESOURCE, CAP_SYS_TIME, CAP_MKNOD, CAP_MAC_OVERRIDE = 23, 24, 25, 27, 32
CAP_FULL_SET = (1 << (CAP_LAST_CAP + 1)) - 1


def cap_bit(cap):
    return 1 << cap


# What follows fsuid to and from 0 (CAP_FS_SET in include/linux/capability.h).
CAP_FS_SET = sum(cap_bit(c) for c in (CAP_CHOWN, CAP_MKNOD, CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH,
                                      CAP_FOWNER, CAP_FSETID, CAP_LINUX_IMMUTABLE, CAP_MAC_OVERRIDE))

# securebits (linux/securebits.h): each flag has a lock bit right above it
SECURE_NOROOT, SECURE_NO_SETUID_FIXUP, SECURE_KEEP_CAPS, SECURE_NO_CAP_AMBIENT_RAISE = 0, 2, 4, 6
SECURE_EXEC_RESTRICT_FILE, SECURE_EXEC_DENY_INTERACTIVE = 8, 10
SECURE_ALL_BITS = sum(1 << b for b in (SECURE_NOROOT, SECURE_NO_SETUID_FIXUP, SECURE_KEEP_CAPS,
                                       SECURE_NO_CAP_AMBIENT_RAISE, SECURE_EXEC_RESTRICT_FILE,
                                       SECURE_EXEC_DENY_INTERACTIVE))
SECURE_ALL_LOCKS = SECURE_ALL_BITS << 1


def cap_by_name(name):
    """The number of a capability named as docker and capsh do ("CHOWN", "cap_chown")."""
    n = name.lower()
    n = n[4:] if n.startswith("cap_") else n
    return CAP_NAMES.index(n)


class Creds:
    """The credentials of one process (shared by its threads).

    A uid of 0 gets every capability, as a root process of Linux has; others
    start with none. `bset` is the bounding set.
    """

    def __init__(self, uid=0, gid=0, groups=(), bset=CAP_FULL_SET):
        self.ruid = self.euid = self.suid = self.fsuid = uid
        self.rgid = self.egid = self.sgid = self.fsgid = gid
        self.groups = list(groups)
        self.cap_bset = bset
        self.cap_permitted = self.cap_effective = bset if uid == 0 else 0
        self.cap_inheritable = self.cap_ambient = 0
        self.securebits = 0

    def in_group(self, gid):
        return gid == self.fsgid or gid in self.groups

    def capable(self, cap):
        return self.cap_effective >> cap & 1

    def check(self, cap, err=errno.EPERM):
        """Raise `err` (EPERM) unless the capability is effective."""
        if not self.cap_effective >> cap & 1:
            raise SyscallError(err)

    def secure(self, bit):
        return self.securebits >> bit & 1

    def copy(self):
        c = Creds.__new__(Creds)
        c.__dict__.update(self.__dict__)
        c.groups = list(self.groups)
        return c

    def undumpable_after(self, old):
        """commit_creds: a change of effective or fs ids, or more permitted
        capabilities, makes the process undumpable (fs.suid_dumpable = 0)."""
        return ((self.euid, self.egid, self.fsuid, self.fsgid) != (old.euid, old.egid, old.fsuid, old.fsgid)
                or bool(self.cap_permitted & ~old.cap_permitted))

    # -- capabilities following id changes (cap_task_fix_setuid) --------------
    def fix_setuid(self, old):
        """After setuid/setreuid/setresuid from `old` (cap_emulate_setxuid): losing
        uid 0 from all of real, effective and saved loses the capabilities
        (unless SECURE_KEEP_CAPS keeps the permitted ones); the effective set
        follows the effective uid to and from 0."""
        if self.secure(SECURE_NO_SETUID_FIXUP):
            return
        if 0 in (old.ruid, old.euid, old.suid) and 0 not in (self.ruid, self.euid, self.suid):
            if not self.secure(SECURE_KEEP_CAPS):
                self.cap_permitted = self.cap_effective = 0
            self.cap_ambient = 0
        if old.euid == 0 and self.euid != 0:
            self.cap_effective = 0
        if old.euid != 0 and self.euid == 0:
            self.cap_effective = self.cap_permitted

    def fix_setfsuid(self, old_fsuid):
        """The file-system capabilities follow fsuid to and from 0."""
        if self.secure(SECURE_NO_SETUID_FIXUP):
            return
        if old_fsuid == 0 and self.fsuid != 0:
            self.cap_effective &= ~CAP_FS_SET
        elif old_fsuid != 0 and self.fsuid == 0:
            self.cap_effective |= self.cap_permitted & CAP_FS_SET

    # -- exec (cap_bprm_creds_from_file) ----------------------------------------
    def for_exec(self, mode, file_uid, file_gid, may_suid, no_new_privs):
        """The credentials after exec of a file with `mode` owned by file_uid:file_gid,
        and whether the exec is secure (AT_SECURE). may_suid: its mount allows
        set-id bits. File capabilities (security.capability) are not modelled:
        every file is taken to have none."""
        new = self.copy()
        if may_suid and not no_new_privs:
            if mode & 0o4000:
                new.euid = file_uid
            if mode & 0o2010 == 0o2010:
                new.egid = file_gid
        effective = False
        new.cap_permitted = 0
        if not self.secure(SECURE_NOROOT):
            if new.euid == 0 or new.ruid == 0:
                new.cap_permitted = self.cap_bset | self.cap_inheritable
            effective = new.euid == 0
        gained = new.cap_permitted & ~self.cap_permitted
        id_changed = new.euid != self.euid or not self.in_group(new.egid)
        if (id_changed or gained) and no_new_privs:
            new.euid, new.egid = new.ruid, new.rgid
            new.cap_permitted &= self.cap_permitted
        new.suid = new.fsuid = new.euid
        new.sgid = new.fsgid = new.egid
        if new.euid != self.ruid or new.egid != self.rgid:
            new.cap_ambient = 0
        new.cap_permitted |= new.cap_ambient
        new.cap_effective = new.cap_permitted if effective else new.cap_ambient
        new.securebits &= ~(1 << SECURE_KEEP_CAPS)
        secure = (id_changed or new.euid != self.ruid or new.egid != self.rgid
                  or (new.ruid != 0 and (effective or new.cap_permitted & ~new.cap_ambient)))
        return new, bool(secure)
