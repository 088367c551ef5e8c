"""Process syscalls: exec, clone (observed), credentials, resource limits.

Exec is ours (kernel/loader.py); the host runs clone and exit, and we keep
the model of who is who.
"""
import ctypes
import errno
import resource
import struct

from pylinuxabi.kernel import loader
from pylinuxabi.base.abi import PAGE, RLIMIT
from pylinuxabi.base.creds import CAP_SYS_ADMIN, CAP_SYS_RESOURCE
from pylinuxabi.base.errors import SyscallError, check
from pylinuxabi.kernel.kernel import PASS, Resume
from pylinuxabi.kernel.paths import AT_EMPTY_PATH, AT_FDCWD, AT_SYMLINK_NOFOLLOW, lookup, read_path
from pylinuxabi.kernel.task import INIT_PID, RLIM_NLIMITS
from pylinuxabi.syscalls.pidfd import CLONE_PIDFD, take_clone_pidfd
from pylinuxabi.syscalls.registry import PASSTHROUGH, syscall

MAX_ARG_STRLEN = 131072
MAX_ARG_STRINGS = 0x7FFFFFFF
NR_OPEN = 1048576
RLIMIT_NOFILE = 7
CLONE_VM, CLONE_VFORK = 0x100, 0x4000
SIGCHLD = 17
INFINITY = (1 << 64) - 1        # RLIM_INFINITY as the model keeps it
# limits the host enforces on the process itself: the model mirrors them there
HOST_ENFORCED = {resource.RLIMIT_CPU, resource.RLIMIT_DATA, resource.RLIMIT_STACK, resource.RLIMIT_CORE,
                 resource.RLIMIT_AS, resource.RLIMIT_MEMLOCK, resource.RLIMIT_SIGPENDING,
                 resource.RLIMIT_MSGQUEUE, resource.RLIMIT_NICE, resource.RLIMIT_RTPRIO, resource.RLIMIT_RTTIME}


# -- exec ----------------------------------------------------------------------
def _pointers(task, addr, most):
    """count(): the string pointers of a NULL-terminated argv/envp (a NULL array is
    empty); more than `most` cannot fit (E2BIG)."""
    out = []
    while addr:
        ptr, = struct.unpack("<Q", task.mem.read(addr, 8))
        if not ptr:
            break
        if len(out) >= min(most, MAX_ARG_STRINGS):
            raise SyscallError(errno.E2BIG)
        out.append(ptr)
        addr += 8
    return out


def _strings(task, pointers, room):
    """copy_strings: each string (at most MAX_ARG_STRLEN with its NUL) while the room
    lasts; returns them and the room left."""
    out = []
    for ptr in pointers:
        check(room > 0, errno.E2BIG)
        try:
            s = task.mem.read_cstring(ptr, min(MAX_ARG_STRLEN, room) - 1)
        except SyscallError as e:
            raise SyscallError(errno.E2BIG if e.errno == errno.ENAMETOOLONG else e.errno)
        room -= len(s) + 1
        if room < 0:
            raise SyscallError(errno.E2BIG)
        out.append(s)
    return out, room


def read_arguments(task, filename, argv_addr, envp_addr):
    """argv and envp as do_execveat_common takes them: both arrays counted, then
    bprm_stack_limits' room (a quarter of RLIMIT_STACK, between 128 KiB and 6
    MiB, less the pointers), filled by the file's name, envp, then argv."""
    limit = loader.arg_limit(task.process.rlimits[resource.RLIMIT_STACK][0])
    argp = _pointers(task, argv_addr, limit // 8)
    envp = _pointers(task, envp_addr, limit // 8)
    room = limit - 8 * (max(len(argp), 1) + len(envp)) - len(filename) - 1
    check(room > 0, errno.E2BIG)
    envs, room = _strings(task, envp, room)
    args, room = _strings(task, argp, room)
    return args, envs


def _exec_failed(task, result):
    """The stub could not be exec'ed after all: drop the image, report the error."""
    if task.pending_exec is not None:
        loader.release(task.pending_exec)
        task.pending_exec = None
    return result


def do_execve(task, dirfd, path_addr, argv_addr, envp_addr, flags):
    proc = task.process
    if proc.nproc_exceeded:
        if proc.kernel.nproc(proc.creds.ruid) > proc.rlimits[resource.RLIMIT_NPROC][0]:
            raise SyscallError(errno.EAGAIN)
        proc.nproc_exceeded = False
    check(not flags & ~(AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW), errno.EINVAL)
    path = read_path(task, path_addr)
    argv, envp = read_arguments(task, path, argv_addr, envp_addr)
    if not argv:
        argv = [b""]                # Linux ≥ 5.18 gives argc ≥ 1
    # the file is the one the fd (and path) name now, whatever its name says; the
    # program learns it as Linux's bprm->filename, /dev/fd/N[/path]
    follow = not flags & AT_SYMLINK_NOFOLLOW
    if not path and flags & AT_EMPTY_PATH:
        dentry, filename = lookup(task, dirfd, b"", empty_path=True), b"/dev/fd/%d" % dirfd
    elif path[:1] != b"/" and dirfd != AT_FDCWD:
        dentry, filename = lookup(task, dirfd, path, follow=follow), b"/dev/fd/%d/%s" % (dirfd, path)
    else:
        dentry, filename = lookup(task, AT_FDCWD, path, follow=follow), path
    if not follow and dentry.inode.is_symlink():
        raise SyscallError(errno.ELOOP)
    image = loader.prepare(task, filename, argv, envp, dentry=dentry)
    if not path:
        # comm_from_dentry: the file's name, not the fd's number (a memfd's dentry
        # carries the " (deleted)" its path shows)
        image.comm = dentry.name.removesuffix(b" (deleted)")
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


CLONE_UNTRACED = 0x00800000
CLONE_INTO_CGROUP = 0x200000000
CLONE_FS, CLONE_SIGHAND, CLONE_PARENT, CLONE_THREAD = 0x200, 0x800, 0x8000, 0x10000
CLONE_DETACHED, CLONE_NEWNS, CLONE_NEWUSER, CLONE_NEWPID = 0x400000, 0x20000, 0x10000000, 0x20000000
CLONE_CLEAR_SIGHAND = 0x100000000
CSIGNAL = 0xff
CLONE_ARGS = struct.Struct("<11Q")     # struct clone_args as of Linux 5.7 (CLONE_ARGS_SIZE_VER2)
CLONE_ARGS_SIZE_VER0 = 64
MAX_PID_NS_LEVEL = 32


def _check_nproc(task):
    """copy_process: a user at RLIMIT_NPROC may not make another task, unless it is
    root or has CAP_SYS_RESOURCE or CAP_SYS_ADMIN; and, as at threads-max, no
    task may be made that the park page has no word for (counting those whose
    clone is under way)."""
    proc = task.process
    limit = proc.rlimits[resource.RLIMIT_NPROC][0]
    c = proc.creds
    if (limit != INFINITY and c.ruid != 0 and not c.capable(CAP_SYS_RESOURCE) and not c.capable(CAP_SYS_ADMIN)
            and proc.kernel.nproc(c.ruid) >= limit):
        raise SyscallError(errno.EAGAIN)
    task.clone_flags = None
    kernel = proc.kernel
    if kernel.platform.thread_room() <= sum(1 for t in kernel.tasks.values() if t.clone_flags is not None):
        raise SyscallError(errno.EAGAIN)
    proc.nproc_exceeded = False


def _invalid(flags):
    """copy_process's flag rules, which come before any limit or permission check:
    a new mount or user namespace cannot share the fs struct, a thread shares
    the signal handlers and they the memory, a thread is made in no new user or
    pid namespace, a pidfd is not CLONE_DETACHED."""
    both = lambda a, b: flags & (a | b) == a | b
    return (both(CLONE_NEWNS, CLONE_FS) or both(CLONE_NEWUSER, CLONE_FS)
            or flags & CLONE_THREAD and not flags & CLONE_SIGHAND
            or flags & CLONE_SIGHAND and not flags & CLONE_VM
            or flags & CLONE_THREAD and flags & (CLONE_NEWUSER | CLONE_NEWPID)
            or both(CLONE_PIDFD, CLONE_DETACHED))


def _clone_flags(task, flags, pidfd_addr):
    """The checks of a clone the host is to run, in copy_process's order; returns
    what to do at its return (None: nothing). CLONE_UNTRACED would make a
    process outside the model: the caller strips it."""
    check(not _invalid(flags), errno.EINVAL)
    _check_nproc(task)
    if flags & CLONE_NAMESPACES:
        raise SyscallError(errno.EPERM)
    task.clone_flags = flags & ~CLONE_UNTRACED
    return take_clone_pidfd(pidfd_addr) if flags & CLONE_PIDFD else None


@syscall("clone", "uuu", kind=PASSTHROUGH)
def clone(task, flags, stack, parent_tid):
    """clone(2): CLONE_PIDFD stores the pidfd where CLONE_PARENT_SETTID would store
    the tid. The low byte is the exit signal, not flags (so no CLONE_NEWTIME)."""
    on_exit = _clone_flags(task, flags & ~CSIGNAL, parent_tid)
    if flags & CLONE_UNTRACED:
        return Resume(on_exit=on_exit, args=(flags & ~CLONE_UNTRACED,) + (None,) * 5)
    return PASS if on_exit is None else Resume(exit_stop=True, on_exit=on_exit)


@syscall("clone3", "uu", kind=PASSTHROUGH)
def clone3(task, addr, size):
    """clone3(2): struct clone_args is read once, checked, and the host reads our
    copy (the program's could change after the check), CLONE_UNTRACED taken out."""
    check(size >= CLONE_ARGS_SIZE_VER0, errno.EINVAL)
    check(size <= PAGE, errno.E2BIG)
    known = min(size, CLONE_ARGS.size)
    raw = task.mem.read(addr, known).ljust(CLONE_ARGS.size, b"\0")
    if size > known and task.mem.read(addr + known, size - known).strip(b"\0"):
        raise SyscallError(errno.E2BIG)
    args = list(CLONE_ARGS.unpack(raw))
    flags, pidfd, exit_signal, set_tid, set_tid_size, cgroup = (
        args[0], args[1], args[4], args[8], args[9], args[10])
    check(set_tid_size <= MAX_PID_NS_LEVEL, errno.EINVAL)
    # clone3_args_valid: the exit signal has its own field, and is the parent's
    # business only for a new process
    check(not flags & CSIGNAL and not exit_signal & ~CSIGNAL
          and flags & (CLONE_SIGHAND | CLONE_CLEAR_SIGHAND) != CLONE_SIGHAND | CLONE_CLEAR_SIGHAND
          and not (flags & (CLONE_THREAD | CLONE_PARENT) and exit_signal), errno.EINVAL)
    if flags & CLONE_INTO_CGROUP and cgroup:
        raise SyscallError(errno.EOPNOTSUPP)    # our cgroup fds are not the host's
    tids = task.mem.read(set_tid, 4 * set_tid_size) if set_tid_size else b""
    on_exit = _clone_flags(task, flags, pidfd)
    args[0] = flags & ~CLONE_UNTRACED
    platform = task.process.kernel.platform
    copy = platform.stash(task.thread, CLONE_ARGS.pack(*args) + tids)
    if set_tid_size:
        args[8] = copy + CLONE_ARGS.size
        copy = platform.stash(task.thread, CLONE_ARGS.pack(*args) + tids)
    return Resume(on_exit=on_exit, args=(copy, known, None, None, None, None))


@syscall("fork", kind=PASSTHROUGH)
def fork(task):
    """fork(2)."""
    _check_nproc(task)
    task.clone_flags = SIGCHLD
    return PASS


@syscall("vfork", kind=PASSTHROUGH)
def vfork(task):
    """vfork(2)."""
    _check_nproc(task)
    task.clone_flags = CLONE_VM | CLONE_VFORK | SIGCHLD
    return PASS


# -- resource limits -----------------------------------------------------------
def _target(task, pid):
    """find_task_by_vpid, then check_prlimit_permission: the caller itself; or the
    same real gid and uid as all of the target's (or CAP_SYS_RESOURCE). Any thread
    names its process's limits; pid 1 is the model's init."""
    kernel = task.process.kernel
    if pid == 0 or pid == task.tid:
        return task.process
    t = kernel.tasks.get(pid)
    proc = t.process if t is not None else kernel.init if pid == INIT_PID else None
    if proc is None:
        raise SyscallError(errno.ESRCH)
    c, tc = task.creds, proc.creds
    if ({tc.ruid, tc.euid, tc.suid} != {c.ruid} or {tc.rgid, tc.egid, tc.sgid} != {c.rgid}) \
            and not c.capable(CAP_SYS_RESOURCE):
        raise SyscallError(errno.EPERM)
    return proc


class _Rlimit(ctypes.Structure):
    _fields_ = [("rlim_cur", ctypes.c_uint64), ("rlim_max", ctypes.c_uint64)]


_libc = ctypes.CDLL(None, use_errno=True)


def _host_prlimit(pid, res, soft, hard):
    """The supervisor sets the limit the host enforces, whole 64-bit values included
    (resource.prlimit stops at 2**63 - 1)."""
    new = _Rlimit(soft, hard)
    _libc.prlimit(pid, res, ctypes.byref(new), None)


def do_prlimit(task, proc, res, new):
    check(0 <= res < RLIM_NLIMITS, errno.EINVAL)
    old = tuple(proc.rlimits.get(res, (INFINITY,) * 2))
    if new is not None:
        soft, hard = new
        check(soft <= hard, errno.EINVAL)
        if res == RLIMIT_NOFILE and hard > NR_OPEN:
            raise SyscallError(errno.EPERM)
        if hard > old[1]:
            task.creds.check(CAP_SYS_RESOURCE)
        proc.rlimits[res] = [soft, hard]
        if res == RLIMIT_NOFILE:
            proc.files.limit = soft
        if res in HOST_ENFORCED and not proc.is_init:
            _host_prlimit(proc.pid, res, soft, hard)
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

