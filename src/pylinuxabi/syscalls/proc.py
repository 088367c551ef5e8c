"""Process syscalls: exec, clone (observed), credentials, resource limits.

Exec is ours (kernel/loader.py); the host runs clone and exit, and we keep
the model of who is who.
"""
import errno
import resource
import struct

from pylinuxabi.kernel import loader
from pylinuxabi.kernel.abi import RLIMIT, U32
from pylinuxabi.kernel.errors import SyscallError, check
from pylinuxabi.kernel.kernel import PASS, Resume
from pylinuxabi.kernel.paths import AT_EMPTY_PATH, AT_FDCWD, AT_SYMLINK_NOFOLLOW, lookup, read_path
from pylinuxabi.kernel.task import RLIM_NLIMITS
from pylinuxabi.syscalls.pidfd import CLONE_PIDFD, take_clone_pidfd
from pylinuxabi.syscalls.table import PASSTHROUGH, syscall

MAX_ARG_STRLEN = 131072
MAX_ARG_STRINGS = 0x7FFFFFFF
NGROUPS_MAX = 65536
NR_OPEN = 1048576
RLIMIT_NOFILE = 7
CLONE_VM, CLONE_VFORK = 0x100, 0x4000
SIGCHLD = 17
# limits the host enforces on the process itself: the model mirrors them there
HOST_ENFORCED = {resource.RLIMIT_CPU, resource.RLIMIT_DATA, resource.RLIMIT_STACK, resource.RLIMIT_CORE,
                 resource.RLIMIT_AS, resource.RLIMIT_MEMLOCK, resource.RLIMIT_SIGPENDING,
                 resource.RLIMIT_MSGQUEUE, resource.RLIMIT_NICE, resource.RLIMIT_RTPRIO, resource.RLIMIT_RTTIME}


# -- exec ----------------------------------------------------------------------
def read_string_array(task, addr):
    """argv/envp: NULL-terminated array of string pointers (NULL array = empty)."""
    out = []
    total = 0
    while addr:
        ptr, = struct.unpack("<Q", task.mem.read(addr, 8))
        if not ptr:
            break
        try:
            s = task.mem.read_cstring(ptr, MAX_ARG_STRLEN - 1)
        except SyscallError as e:
            raise SyscallError(errno.E2BIG if e.errno == errno.ENAMETOOLONG else e.errno)
        out.append(s)
        total += len(s) + 1
        if total > loader.ARG_MAX or len(out) > MAX_ARG_STRINGS:
            raise SyscallError(errno.E2BIG)
        addr += 8
    return out


def _exec_failed(task, result):
    """The stub could not be exec'ed after all: drop the image, report the error."""
    if task.pending_exec is not None:
        loader.release(task.pending_exec)
        task.pending_exec = None
    return result


def do_execve(task, dirfd, path_addr, argv_addr, envp_addr, flags):
    check(not flags & ~(AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW), errno.EINVAL)
    path = read_path(task, path_addr)
    argv = read_string_array(task, argv_addr)
    envp = read_string_array(task, envp_addr)
    if not argv:
        argv = [b""]                # Linux ≥ 5.18 gives argc ≥ 1
    if not path and flags & AT_EMPTY_PATH:
        path = lookup(task, dirfd, b"", empty_path=True).path(task.fs.root)
    elif path[:1] != b"/" and dirfd != AT_FDCWD:
        path = lookup(task, dirfd, b"", empty_path=True).path(task.fs.root) + b"/" + path
    if flags & AT_SYMLINK_NOFOLLOW and lookup(task, AT_FDCWD, path, follow=False).inode.is_symlink():
        raise SyscallError(errno.ELOOP)
    image = loader.prepare(task, path, argv, envp)
    # committed: the host replaces the address space with the stub's, we build the image in it
    task.process.kernel.platform.exec_stub(task.thread)
    task.pending_exec = image
    return Resume(exit_stop=True, on_exit=_exec_failed)


@syscall("execve", "uuu")
def execve(task, path, argv, envp):
    """execve(2): our loader builds the image in a fresh stub process."""
    return do_execve(task, AT_FDCWD, path, argv, envp, 0)


@syscall("execveat", "iuuui")
def execveat(task, dirfd, path, argv, envp, flags):
    """execveat(2)."""
    return do_execve(task, dirfd, path, argv, envp, flags)


# -- clone: the host runs it, we note the flags for the new task's model -------------
# New namespaces would be the host's: refused as for a process without
# CAP_SYS_ADMIN in its user namespace.
CLONE_NAMESPACES = (0x00020000 | 0x04000000 | 0x08000000 | 0x10000000 | 0x20000000 | 0x40000000
                    | 0x02000000 | 0x00000080)   # NEWNS UTS IPC USER PID NET CGROUP NEWTIME


def _clone_flags(task, flags, pidfd_addr):
    if flags & CLONE_NAMESPACES:
        raise SyscallError(errno.EPERM)
    task.clone_flags = flags
    if flags & CLONE_PIDFD:
        return Resume(exit_stop=True, on_exit=take_clone_pidfd(pidfd_addr))
    return PASS


@syscall("clone", "uuu", kind=PASSTHROUGH)
def clone(task, flags, stack, parent_tid):
    """clone(2): CLONE_PIDFD stores the pidfd where CLONE_PARENT_SETTID would store the tid."""
    return _clone_flags(task, flags, parent_tid)


@syscall("clone3", "uu", kind=PASSTHROUGH)
def clone3(task, args, size):
    """clone3(2): flags and the pidfd pointer are the first fields of struct clone_args."""
    check(size >= 64, errno.EINVAL)         # CLONE_ARGS_SIZE_VER0
    flags, pidfd = struct.unpack("<QQ", task.mem.read(args, 16))
    return _clone_flags(task, flags, pidfd)


@syscall("fork", kind=PASSTHROUGH)
def fork(task):
    """fork(2)."""
    task.clone_flags = SIGCHLD
    return PASS


@syscall("vfork", kind=PASSTHROUGH)
def vfork(task):
    """vfork(2)."""
    task.clone_flags = CLONE_VM | CLONE_VFORK | SIGCHLD
    return PASS


# -- credentials ---------------------------------------------------------------
@syscall("getuid")
def getuid(task):
    """getuid(2)."""
    return task.creds.ruid


@syscall("geteuid")
def geteuid(task):
    """geteuid(2)."""
    return task.creds.euid


@syscall("getgid")
def getgid(task):
    """getgid(2)."""
    return task.creds.rgid


@syscall("getegid")
def getegid(task):
    """getegid(2)."""
    return task.creds.egid


def _getres(task, kind, addrs):
    c = task.creds
    for prefix, addr in zip("res", addrs):
        task.mem.write(addr, U32.pack(getattr(c, prefix + kind)))
    return 0


@syscall("getresuid", "uuu")
def getresuid(task, ruid, euid, suid):
    """getresuid(2)."""
    return _getres(task, "uid", (ruid, euid, suid))


@syscall("getresgid", "uuu")
def getresgid(task, rgid, egid, sgid):
    """getresgid(2)."""
    return _getres(task, "gid", (rgid, egid, sgid))


@syscall("getgroups", "iu")
def getgroups(task, size, addr):
    """getgroups(2)."""
    groups = task.creds.groups
    check(size >= 0, errno.EINVAL)
    if size == 0:
        return len(groups)
    check(size >= len(groups), errno.EINVAL)
    task.mem.write(addr, b"".join(U32.pack(g) for g in groups))
    return len(groups)


@syscall("setgroups", "iu")
def setgroups(task, size, addr):
    """setgroups(2): needs CAP_SETGID, which only root has here."""
    check(0 <= size <= NGROUPS_MAX, errno.EINVAL)
    if task.creds.euid != 0:
        raise SyscallError(errno.EPERM)
    raw = task.mem.read(addr, size * 4)
    task.creds.groups = sorted(set(struct.unpack(f"<{size}I", raw)))
    return 0


def _set(c, kind, value):
    """setuid/setgid: root sets all the ids; others may only switch among real and saved."""
    check(value != NO_CHANGE, errno.EINVAL)
    if c.euid == 0:
        for prefix in ("r", "e", "s", "fs"):
            setattr(c, prefix + kind, value)
    elif value in (getattr(c, "r" + kind), getattr(c, "s" + kind)):
        setattr(c, "e" + kind, value)
        setattr(c, "fs" + kind, value)
    else:
        raise SyscallError(errno.EPERM)
    return 0


@syscall("setuid", "U")
def setuid(task, uid):
    """setuid(2)."""
    return _set(task.creds, "uid", uid)


@syscall("setgid", "U")
def setgid(task, gid):
    """setgid(2)."""
    return _set(task.creds, "gid", gid)


def _may_become(c, ids, privileged):
    """Linux's rule for unprivileged id changes: only to one of the ids already held."""
    return privileged or all(i == NO_CHANGE or i in c for i in ids)


NO_CHANGE = 0xFFFFFFFF


def _setres(c, kind, r, e, s):
    """setresuid/setresgid on creds c; kind is "uid" or "gid"."""
    held = (getattr(c, "r" + kind), getattr(c, "e" + kind), getattr(c, "s" + kind))
    if not _may_become(held, (r, e, s), c.euid == 0):
        raise SyscallError(errno.EPERM)
    for prefix, value in (("r", r), ("e", e), ("s", s)):
        if value != NO_CHANGE:
            setattr(c, prefix + kind, value)
    setattr(c, "fs" + kind, getattr(c, "e" + kind))
    return 0


def _setre(c, kind, r, e):
    """setreuid/setregid: the saved id follows the new effective one when the real
    one is set or the effective one moves away from the old real one."""
    real, eff, saved = getattr(c, "r" + kind), getattr(c, "e" + kind), getattr(c, "s" + kind)
    privileged = c.euid == 0
    if r != NO_CHANGE and not _may_become((real, eff), (r,), privileged):
        raise SyscallError(errno.EPERM)
    if e != NO_CHANGE and not _may_become((real, eff, saved), (e,), privileged):
        raise SyscallError(errno.EPERM)
    if r != NO_CHANGE:
        setattr(c, "r" + kind, r)
    if e != NO_CHANGE:
        setattr(c, "e" + kind, e)
    if r != NO_CHANGE or (e != NO_CHANGE and e != real):
        setattr(c, "s" + kind, getattr(c, "e" + kind))
    setattr(c, "fs" + kind, getattr(c, "e" + kind))
    return 0


@syscall("setresuid", "UUU")
def setresuid(task, ruid, euid, suid):
    """setresuid(2)."""
    return _setres(task.creds, "uid", ruid, euid, suid)


@syscall("setresgid", "UUU")
def setresgid(task, rgid, egid, sgid):
    """setresgid(2)."""
    return _setres(task.creds, "gid", rgid, egid, sgid)


@syscall("setreuid", "UU")
def setreuid(task, ruid, euid):
    """setreuid(2)."""
    return _setre(task.creds, "uid", ruid, euid)


@syscall("setregid", "UU")
def setregid(task, rgid, egid):
    """setregid(2)."""
    return _setre(task.creds, "gid", rgid, egid)


def _setfs(c, kind, value):
    """setfsuid/setfsgid: return the old fs id; change it only when allowed (never an error)."""
    old = getattr(c, "fs" + kind)
    held = [getattr(c, prefix + kind) for prefix in ("r", "e", "s", "fs")]
    if value != NO_CHANGE and (c.euid == 0 or value in held):
        setattr(c, "fs" + kind, value)
    return old


@syscall("setfsuid", "U")
def setfsuid(task, uid):
    """setfsuid(2)."""
    return _setfs(task.creds, "uid", uid)


@syscall("setfsgid", "U")
def setfsgid(task, gid):
    """setfsgid(2)."""
    return _setfs(task.creds, "gid", gid)


# -- resource limits -----------------------------------------------------------
def _target(task, pid):
    if pid == 0 or pid == task.process.pid:
        return task.process
    proc = task.process.kernel.processes.get(pid)
    if proc is None:
        raise SyscallError(errno.ESRCH)
    return proc


def do_prlimit(task, proc, res, new):
    check(0 <= res < RLIM_NLIMITS, errno.EINVAL)
    old = tuple(proc.rlimits.get(res, (resource.RLIM_INFINITY,) * 2))
    if new is not None:
        soft, hard = new
        check(soft <= hard, errno.EINVAL)
        if hard > old[1] and task.creds.euid != 0:
            raise SyscallError(errno.EPERM)
        if res == RLIMIT_NOFILE and hard > NR_OPEN:
            raise SyscallError(errno.EPERM)
        proc.rlimits[res] = [soft, hard]
        if res == RLIMIT_NOFILE:
            proc.files.limit = soft
        if res in HOST_ENFORCED:
            inf = (1 << 64) - 1
            try:
                resource.prlimit(proc.pid, res, tuple(resource.RLIM_INFINITY if v == inf else v
                                                      for v in (soft, hard)))
            except (OSError, ValueError):
                pass
    return old


@syscall("prlimit64", "iiuu")
def prlimit64(task, pid, res, new_addr, old_addr):
    """prlimit64(2)."""
    new = RLIMIT.unpack(task.mem.read(new_addr, RLIMIT.size)) if new_addr else None
    proc = _target(task, pid)
    old = do_prlimit(task, proc, res, new)
    if old_addr:
        task.mem.write(old_addr, RLIMIT.pack(*old))
    return 0


@syscall("getrlimit", "iu")
def getrlimit(task, res, addr):
    """getrlimit(2)."""
    old = do_prlimit(task, task.process, res, None)
    task.mem.write(addr, RLIMIT.pack(*old))
    return 0


@syscall("setrlimit", "iu")
def setrlimit(task, res, addr):
    """setrlimit(2)."""
    new = RLIMIT.unpack(task.mem.read(addr, RLIMIT.size))
    do_prlimit(task, task.process, res, new)
    return 0

