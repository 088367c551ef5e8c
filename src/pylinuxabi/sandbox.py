"""From options to a running sandbox: mounts, creds, stdio, the kernel, the first process.

The composition root: the only place that wires platform, kernel, table and VFS.
"""
import errno
import os
import resource
import signal
import sys
import traceback

from pylinuxabi.kernel.creds import CAP_FULL_SET, CAP_LAST_CAP, Creds, cap_by_name
from pylinuxabi.kernel.errors import SyscallError
from pylinuxabi.kernel.kernel import Kernel
from pylinuxabi.job import Job
from pylinuxabi.kernel.task import FsContext
from pylinuxabi.platform.ptrace import PtracePlatform
from pylinuxabi.startsignals import FORWARDED, capture_signals
from pylinuxabi.syscalls import table as syscall_table
from pylinuxabi.syscalls.creds import NGROUPS_MAX
from pylinuxabi.syscalls.proc import NR_OPEN
from pylinuxabi.vfs.devfs import make_devfs
from pylinuxabi.vfs.devpts import DevPts
from pylinuxabi.vfs import namei
from pylinuxabi.vfs.hostfs import HostFS
from pylinuxabi.vfs.mount import MS_NODEV, MS_NOEXEC, MS_NOSUID, MS_RELATIME, Mount, MountTable
from pylinuxabi.vfs.overlay import HostUpper, OverlayFS
from pylinuxabi.vfs.path import WalkContext, resolve
from pylinuxabi.vfs.procfs import PROC_DEV, ProcRoot, global_file
from pylinuxabi.vfs.procsys import make_procsys
from pylinuxabi.vfs.sysfs import make_cgroup, make_sysfs, proc_cgroups
from pylinuxabi.vfs.stdio import TtyFile, host_stdio
from pylinuxabi.vfs.tmpfs import TmpFS, parse_options as parse_tmpfs_options

# what a terminal sends to the foreground group rather than to one process
GROUP_SIGNALS = (signal.SIGINT, signal.SIGQUIT)
SI_KERNEL = 0x80        # si_code of a signal a terminal sent


class Options:
    def __init__(self, root="/", uid=0, gid=0, hostname="pylinuxabi", strict=False,
                 trace_all=False, strace=None, workdir=None, new_net=False, read_only=False,
                 tmpfs=(), volumes=(), upper=None, upper_work=None, cap_add=(), cap_drop=()):
        self.signals = None         # (ignored, blocked, forwarded), set at start
        self.root = root
        self.uid = uid
        self.gid = gid
        self.hostname = hostname
        self.domainname = "(none)"      # uname's, until setdomainname
        self.strict = strict
        self.trace_all = trace_all or strace is not None
        self.strace = strace
        self.workdir = workdir
        self.new_net = new_net
        self.read_only = read_only  # no writable layer over the root
        self.tmpfs = list(tmpfs)    # [(guest path, size in bytes or None)]
        self.volumes = list(volumes)    # [(host path, guest path, read-only)]
        self.job = None             # the sandbox as a job of the user's shell (job.py), set at start
        self.upper = upper          # host directory keeping the overlay's upper layer
        self.upper_work = upper_work    # its work directory (default: upper + ".work")
        self.capabilities = capabilities(cap_add, cap_drop)  # the first process's bounding set
        self.host_caps = explicit_capabilities(cap_add, cap_drop)   # consent for host-wide effects


def host_capabilities():
    """The bounding set of whoever runs us: a program run natively by them gets no more."""
    with open("/proc/self/status", "rb") as f:
        for line in f:
            if line.startswith(b"CapBnd:"):
                return int(line.split()[1], 16) & CAP_FULL_SET
    return CAP_FULL_SET


def capabilities(add, drop):
    """The bounding set docker's --cap-add and --cap-drop make (names as "CHOWN",
    "cap_chown" or "ALL"), starting from the host's; what --cap-add grants is
    the model's to give, so it may exceed the host's."""
    names = {n.upper() for n in drop}
    caps = 0 if "ALL" in names else host_capabilities()
    caps &= ~sum(1 << cap_by_name(n) for n in names - {"ALL"})
    added = {n.upper() for n in add}
    if "ALL" in added:
        return CAP_FULL_SET & ~sum(1 << cap_by_name(n) for n in names - {"ALL"})
    return caps | sum(1 << cap_by_name(n) for n in added)


def explicit_capabilities(add, drop):
    """The capabilities the user named in --cap-add (ALL: every one), less those of
    --cap-drop: the model uses one whose effect reaches the whole host (setting the
    clock, realtime scheduling of host threads) only with this consent (DESIGN §2)."""
    added = {n.upper() for n in add}
    caps = CAP_FULL_SET if "ALL" in added else sum(1 << cap_by_name(n) for n in added)
    return caps & ~sum(1 << cap_by_name(n) for n in {n.upper() for n in drop} - {"ALL"})


# the sandbox's own mounts, left out (not an error) where a read-only root has no place for them
SYSTEM_MOUNTS = (b"/dev", b"/dev/pts", b"/dev/shm", b"/proc", b"/proc/sys", b"/sys", b"/sys/fs/cgroup")


def build_mounts(kernel, options):
    """The mount table: the root (an overlay of --root, by default the host's /, whose
    upper layer is in memory or with --upper in a host directory; or with --read-only
    the tree itself read-only), then /dev, /dev/pts, /dev/shm, /proc, /proc/sys, /sys,
    /sys/fs/cgroup, and the user's --tmpfs and --volume mounts (their mount points made
    as needed)."""
    host = HostFS(options.root)
    if options.read_only:
        root = Mount("hostfs", options.root.encode(), host.root_inode, readonly=True)
    else:
        upper = HostUpper.at(options.upper, options.upper_work) if options.upper else TmpFS()
        root = Mount("overlay", b"overlay", OverlayFS(host.root_inode, upper).root_inode)
    table = MountTable(root)
    devpts = DevPts()
    procsys = make_procsys(PROC_DEV, lambda: options.hostname.encode(errors="surrogateescape"),
                           lambda: options.domainname.encode(errors="surrogateescape"),
                           {b"kernel/ngroups_max": (NGROUPS_MAX, 0o444), b"kernel/cap_last_cap": (CAP_LAST_CAP, 0o444),
                            b"fs/nr_open": (NR_OPEN, 0o644)}, lambda: len(devpts.ptys))
    kernel.filesystems = filesystems(kernel, {b"sys": procsys, b"cgroups": global_file(proc_cgroups)})
    proc, _ = kernel.filesystems["proc"](b"proc", None)
    # as docker mounts them: the kernel's views read-only, none with devices or set-id programs
    ro_view = {"flags": MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RELATIME}
    mounts = [(b"/dev", "devtmpfs", b"devtmpfs", make_devfs(TtyFile, kernel.platform.terminal), False),
              (b"/dev/pts", "devpts", b"devpts", devpts, False,
               {"flags": MS_NOSUID | MS_NOEXEC | MS_RELATIME, "options": b"gid=5,mode=620,ptmxmode=666"}),
              (b"/dev/shm", "tmpfs", b"shm", TmpFS().root_inode, False),
              (b"/proc", "proc", b"proc", proc, False),
              (b"/proc/sys", "proc", b"proc", procsys, True, ro_view),
              (b"/sys", "sysfs", b"sysfs", make_sysfs(), True, ro_view),
              (b"/sys/fs/cgroup", "cgroup2", b"cgroup", make_cgroup(lambda: kernel.processes), True, ro_view)]
    for guest, size in options.tmpfs:
        mounts.append((guest.encode(), "tmpfs", b"tmpfs", TmpFS(size).root_inode, False))
    for host_path, guest, ro in options.volumes:
        volume = HostFS(host_path, writable=not ro)
        mounts.append((guest.encode(), "hostfs", host_path.encode(), volume.root_inode, ro))
    for path, fs_type, source, inode, ro, *kw in mounts:
        point = _mount_point(table, path, required=path not in SYSTEM_MOUNTS)
        if point is not None:
            table.mount(point, fs_type, source, inode, readonly=ro, **(kw[0] if kw else {}))
    return table


def filesystems(kernel, proc_extra):
    """The filesystem types of the sandbox's own mounts that a root program may also
    mount(2): name → make(source, data), which returns (root inode, the options
    mountinfo shows). Every proc shows `proc_extra` (sys/, cgroups) in its root."""
    def tmpfs(source, data):
        kw, shown = parse_tmpfs_options(data)
        return TmpFS(**kw).root_inode, shown

    def proc(source, data):
        root = ProcRoot(kernel.visible_processes, kernel.current_process, kernel.platform.hidden_ranges(),
                        lambda: kernel.mounts.mounts, current_tid=lambda: kernel.current.tid)
        root.extra = proc_extra
        return root, b""

    return {"tmpfs": tmpfs, "ramfs": tmpfs, "proc": proc}


def _mount_point(table, path, required):
    """The directory to mount on, made (with its parents) in a writable root if missing."""
    ctx = WalkContext(table.root, Creds())
    try:
        return resolve(ctx, table.root, path)
    except SyscallError:
        pass
    d = table.root
    try:
        for name in path.strip(b"/").split(b"/"):
            if name:
                nxt = namei.peek(d, name)
                if nxt is None:
                    nxt = namei.mkdir(d, name, 0o755, Creds())
                d = resolve(ctx, d, name)
        return d
    except SyscallError as e:
        if required:
            raise OSError(e.errno, f"cannot mount on {path.decode(errors='replace')}")
        return None


def raise_fd_limit():
    """Our own files and the model's host fds need room: take the hard limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return soft, hard


def run(argv, envp, options):
    """Run argv in a new sandbox; returns the exit status as a shell reports it.

    We fork the supervisor as pid 1 of new namespaces (so it sees pids as the
    program does, DESIGN §2) and wait for it here, passing on signals sent to
    us; a terminal's signals reach the supervisor directly.
    """
    ignored, old_mask = capture_signals()
    forwarded = [s for s in FORWARDED if s not in ignored]
    PtracePlatform.enter_sandbox(options.new_net)
    watched = set(forwarded) | {signal.SIGCHLD}
    job = options.job = Job()
    watched |= job.signals
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        # the forwarded signals stay blocked until the program exists to take them
        code = 126
        options.signals = (ignored, old_mask, forwarded)
        try:
            profile = os.environ.get("PYLINUXABI_PROFILE")
            if profile:         # a developer's tool: cProfile the supervisor into this file
                import cProfile
                profiler = cProfile.Profile()
                code = profiler.runcall(supervise, argv, envp, options)
                profiler.dump_stats(profile)
            else:
                code = supervise(argv, envp, options)
        except BaseException:
            traceback.print_exc()
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
    job.outer_side()
    # The watched signals stay blocked to the end: one that comes after the
    # supervisor is gone must not kill us and change the exit status.
    try:
        while True:
            info = signal.sigwaitinfo(watched)
            if info.si_signo == signal.SIGCHLD:
                done, status = os.waitpid(pid, os.WNOHANG)
                if done == pid:
                    return os.waitstatus_to_exitcode(status) if os.WIFEXITED(status) else 128 + os.WTERMSIG(status)
            elif info.si_signo in job.signals:
                job.outer_signal(info.si_signo, pid)
            elif info.si_code != SI_KERNEL:
                try:
                    os.kill(pid, info.si_signo)     # a terminal's signals reached it already
                except ProcessLookupError:
                    pass
    finally:
        job.restore()


def supervise(argv, envp, options):
    """In pid 1 of the sandbox: start the program and serve it until it exits."""
    PtracePlatform.become_init()
    nofile = raise_fd_limit()
    ignored, old_mask, forwarded = options.signals
    job = options.job
    job.supervisor_side()
    tty = os.dup(job.tty) if job.tty is not None else None
    platform = PtracePlatform(trace_all=options.trace_all, sig_ignored=ignored, sig_blocked=old_mask,
                              terminal=tty)
    counts = {}
    kernel = Kernel(platform, syscall_table.build(counts), None, options)
    try:
        kernel.mounts = build_mounts(kernel, options)
    except OSError as e:        # a volume or --upper directory we cannot serve
        print(f"pylinuxabi: {e.strerror or e}", file=sys.stderr)
        return 125
    root = kernel.mounts.root
    workdir = options.workdir or (os.getcwd() if options.root == "/" else "/")
    try:
        cwd = resolve(WalkContext(root, Creds()), root, workdir.encode())
    except SyscallError:
        cwd = root
    fs = FsContext(root, cwd)
    if options.strace is not None:
        from pylinuxabi.tracer import Tracer
        kernel.tracer = Tracer(options.strace)
    stdio = [host_stdio(fd) for fd in (0, 1, 2)]

    def forward(sig, frame):
        pid = kernel.main_pid
        if pid is None:
            return
        try:
            os.kill(-pid if sig in GROUP_SIGNALS else pid, sig)
        except ProcessLookupError:
            pass

    for sig in forwarded:
        signal.signal(sig, forward)
    try:
        first = kernel.spawn(argv, envp, fs, Creds(options.uid, options.gid, bset=options.capabilities),
                             stdio, nofile[0])
        job.started(kernel)
        signal.pthread_sigmask(signal.SIG_SETMASK, old_mask | {signal.SIGTTOU, signal.SIGTTIN})
        status = kernel.run(first)
    except (OSError, SyscallError) as e:
        err = e.errno
        print(f"pylinuxabi: {argv[0].decode(errors='replace')}: {os.strerror(err) if err else e}",
              file=sys.stderr)
        return 127 if err == errno.ENOENT else 126
    finally:
        platform.kill_all()
    if counts:
        listing = ", ".join(f"{name} ({n})" for name, n in sorted(counts.items(), key=lambda kv: -kv[1]))
        print(f"pylinuxabi: unimplemented syscalls used: {listing}", file=sys.stderr)
    if status is None:
        return 1
    if os.WIFEXITED(status):
        return os.WEXITSTATUS(status)
    return 128 + os.WTERMSIG(status)
