"""From options to a running sandbox: mounts, creds, stdio, the kernel, the first process.

The composition root: the only place that wires platform, kernel, table and VFS.
"""
import errno
import logging
import os
import posixpath
import resource
import signal
import sys
import traceback

from pylinuxabi.base.creds import CAP_FULL_SET, CAP_LAST_CAP, Creds, cap_by_name
from pylinuxabi.base.errors import SyscallError
from pylinuxabi.base.seeded import SeededRandom
from pylinuxabi.kernel.inject import Injector
from pylinuxabi.kernel.ipc import render_sysvipc
from pylinuxabi.kernel.kernel import Kernel
from pylinuxabi.job import Job
from pylinuxabi.kernel.task import FsContext
from pylinuxabi.observe import observers, usage
from pylinuxabi.platform import netns
from pylinuxabi.platform.outside import Outside
from pylinuxabi.platform.ptrace import PtracePlatform
from pylinuxabi.startsignals import FORWARDED, capture_signals
from pylinuxabi.syscalls import table as syscall_table
from pylinuxabi.syscalls.creds import NGROUPS_MAX
from pylinuxabi.syscalls.mqueue import namespace as mqueue_namespace
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
from pylinuxabi.vfs.hugetlbfs import make as make_hugetlbfs
from pylinuxabi.vfs.sysfs import make_cgroup, make_sysfs, proc_cgroups
from pylinuxabi.vfs.stdio import TtyFile, host_stdio
from pylinuxabi.vfs.synthetic import SynthDir
from pylinuxabi.vfs.tmpfs import TmpFS, parse_options as parse_tmpfs_options

# what a terminal sends to the foreground group rather than to one process
GROUP_SIGNALS = (signal.SIGINT, signal.SIGQUIT)
SI_KERNEL = 0x80        # si_code of a signal a terminal sent

log = logging.getLogger("pylinuxabi")


class UsageError(Exception):
    """What the user asked for cannot be done (a --user or --workdir the sandbox lacks): exit 125."""


class Options:
    def __init__(self, root="/", uid=0, gid=0, hostname="pylinuxabi", strict=False,
                 trace_all=False, strace=None, workdir=None, net="host", read_only=False,
                 tmpfs=(), volumes=(), upper=None, upper_work=None, cap_add=(), cap_drop=(),
                 user=None, report=None, publish=(), log_json=None, inject=(), random_seed=None):
        self.signals = None         # (ignored, blocked, forwarded), set at start
        self.root = root
        self.uid = uid
        self.gid = gid
        self.user = user            # --user NAME|UID[:GROUP|GID], resolved in the sandbox's tree (over uid, gid)
        self.report = report        # where the unimplemented syscalls used are listed at exit ("-": stderr)
        self.hostname = hostname
        self.domainname = "(none)"      # uname's, until setdomainname
        self.strict = strict
        # (--inject may name a call the filter lets the host run, as getpid)
        self.trace_all = trace_all or strace is not None or log_json is not None or bool(inject)
        self.strace = strace
        self.log_json = log_json    # --log-json FILE: one JSON object per syscall and event
        self.inject = list(inject)  # --inject rules (kernel/inject.py)
        self.random_seed = random_seed  # --random-seed: getrandom's bytes the same in every run
        self.workdir = workdir
        self.net = net              # docker's network modes: bridge (default), none or host
        self.outside = None         # bridge: the maker of sockets in the host's namespace (platform/outside.py)
        self.publish = list(publish)    # -p: [(host address or None, host port or 0, sandbox port)]
        self.listeners = []         # their host sockets, made at start: [(socket, sandbox port)]
        self.read_only = read_only  # no writable layer over the root
        self.tmpfs = list(tmpfs)    # [(guest path, size in bytes or None)]
        self.volumes = list(volumes)    # [(host path, guest path, read-only)]
        self.job = None             # the sandbox as a job of the user's shell (job.py), set at start
        self.upper = upper          # host directory keeping the overlay's upper layer
        self.upper_work = upper_work    # its work directory (default: upper + ".work")
        self.capabilities = capabilities(cap_add, cap_drop)  # the first process's bounding set
        self.host_caps = explicit_capabilities(cap_add, cap_drop)   # consent for host-wide effects

    @property
    def new_net(self):
        """Has the sandbox a network namespace of its own?"""
        return self.net != "host"


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
SYSTEM_MOUNTS = (b"/dev", b"/dev/pts", b"/dev/shm", b"/dev/mqueue", b"/proc", b"/proc/sys", b"/sys",
                 b"/sys/fs/cgroup", b"/etc/hosts", b"/etc/hostname")


def build_mounts(kernel, options):
    """The mount table: the root (an overlay of --root, by default the host's /, whose
    upper layer is in memory or with --upper in a host directory; or with --read-only
    the tree itself read-only), then /dev, /dev/pts, /dev/shm, /dev/mqueue, /proc, /proc/sys, /sys,
    /sys/fs/cgroup, and the user's --tmpfs and --volume mounts (their mount points made
    as needed)."""
    host = HostFS(options.root)
    if options.read_only:
        root = Mount("hostfs", options.root.encode(), host.root_inode, readonly=True)
    else:
        upper = HostUpper.at(options.upper, options.upper_work) if options.upper else TmpFS()
        root = Mount("overlay", b"overlay", OverlayFS(host.root_inode, upper).root_inode)
    table = MountTable(root)
    devpts = DevPts(lent=kernel.platform.terminal)
    procsys = make_procsys(PROC_DEV, lambda: options.hostname.encode(errors="surrogateescape"),
                           lambda: options.domainname.encode(errors="surrogateescape"),
                           {b"kernel/ngroups_max": (NGROUPS_MAX, 0o444), b"kernel/cap_last_cap": (CAP_LAST_CAP, 0o444),
                            b"fs/nr_open": (NR_OPEN, 0o644)}, lambda: len(devpts.ptys),
                           lambda name: setattr(options, "hostname", name.decode(errors="surrogateescape")),
                           lambda name: setattr(options, "domainname", name.decode(errors="surrogateescape")))
    kernel.filesystems = filesystems(kernel, {b"sys": procsys, b"cgroups": global_file(proc_cgroups),
                                              b"sysvipc": sysvipc_dir(kernel)})
    proc, _ = kernel.filesystems["proc"](b"proc", None)
    # as docker mounts them: none with devices or set-id programs, /sys and the cgroup tree
    # read-only; /proc/sys writable where the sandbox holds the value (vfs/procsys.py)
    ro_view = {"flags": MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RELATIME}
    mounts = [(b"/dev", "devtmpfs", b"devtmpfs", make_devfs(TtyFile, kernel.platform.terminal), False),
              (b"/dev/pts", "devpts", b"devpts", devpts, False,
               {"flags": MS_NOSUID | MS_NOEXEC | MS_RELATIME, "options": b"gid=5,mode=620,ptmxmode=666"}),
              (b"/dev/shm", "tmpfs", b"shm", TmpFS().root_inode, False),
              (b"/dev/mqueue", "mqueue", b"mqueue", mqueue_namespace(kernel).root, False, ro_view),
              (b"/proc", "proc", b"proc", proc, False),
              (b"/proc/sys", "proc", b"proc", procsys, False, ro_view),     # what it holds is the sandbox's
              (b"/sys", "sysfs", b"sysfs", make_sysfs(), True, ro_view),
              (b"/sys/fs/cgroup", "cgroup2", b"cgroup", make_cgroup(lambda: kernel.processes), True, ro_view)]
    if options.new_net:
        for path, inode in network_files(options, read_sandbox_file(table.root, b"/etc/hosts")).items():
            mounts.append((path, "tmpfs", b"tmpfs", inode, False))
    for guest, size in options.tmpfs:
        mounts.append((guest.encode(), "tmpfs", b"tmpfs", TmpFS(size).root_inode, False))
    for host_path, guest, ro in options.volumes:
        mounts.append((guest.encode(), "hostfs", host_path.encode(), volume_root(host_path, ro), ro))
    for path, fs_type, source, inode, ro, *kw in mounts:
        point = _mount_point(table, path, required=path not in SYSTEM_MOUNTS, is_dir=inode.is_dir())
        if point is not None and point.inode.is_dir() != inode.is_dir():
            if path in SYSTEM_MOUNTS:
                continue            # (a tree of --root with something else there: left as it is)
            raise OSError(errno.ENOTDIR, f"cannot mount {source.decode(errors='replace')} on "
                                         f"{path.decode(errors='replace')}: not the same kind of file")
        if point is not None:
            table.mount(point, fs_type, source, inode, readonly=ro, **(kw[0] if kw else {}))
    return table


def sysvipc_dir(kernel):
    """/proc/sysvipc: the model's System V IPC objects, in Linux's columns."""
    files = {kind.encode(): global_file(lambda kind=kind: render_sysvipc(kernel, kind))
             for kind in ("msg", "sem", "shm")}
    return SynthDir(files, mode=0o555, dev=PROC_DEV)


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

    def mqueue(source, data):
        return mqueue_namespace(kernel).root, b""    # the IPC namespace's one instance (get_tree_keyed)

    def hugetlbfs(source, data):
        return make_hugetlbfs(data, kernel.current.creds)    # owned by the mounter by default

    return {"tmpfs": tmpfs, "ramfs": tmpfs, "proc": proc, "mqueue": mqueue, "hugetlbfs": hugetlbfs}


HOSTS = b"""127.0.0.1\tlocalhost
::1\tlocalhost ip6-localhost ip6-loopback
fe00::0\tip6-localnet
ff00::0\tip6-mcastprefix
ff02::1\tip6-allnodes
ff02::2\tip6-allrouters
"""


def network_files(options, tree_hosts):
    """/etc/hosts and /etc/hostname of a sandbox with a network of its own, files mounted
    over the tree's as docker mounts its: the tree's own hosts (docker's loopback names
    if it has none), and in the default mode the sandbox's hostname at its eth0 address
    (gethostbyname(gethostname()) works, as in a container). They are the sandbox's to
    change; the tree's stay as they are."""
    fs = TmpFS(name="etc")
    hostname = options.hostname.encode(errors="surrogateescape")
    hosts = tree_hosts or HOSTS
    if not hosts.endswith(b"\n"):
        hosts += b"\n"
    if options.net == "bridge":
        hosts += b"%s\t%s\n" % (netns.BRIDGE_ADDRESS.encode(), hostname)
    files = {}
    for path, text in ((b"/etc/hosts", hosts), (b"/etc/hostname", hostname + b"\n")):
        inode = fs.root_inode.create(path.rsplit(b"/", 1)[1], 0o644, Creds())
        inode.pwrite(text, 0)
        files[path] = inode
    return files


def volume_root(host_path, ro):
    """What -v HOST:GUEST mounts: the host directory, or a single host file (docker binds
    files too: -v ./resolv.conf:/etc/resolv.conf), served from its directory."""
    if os.path.isdir(host_path) or not os.path.lexists(host_path):
        return HostFS(host_path, writable=not ro).root_inode
    real = os.path.realpath(host_path)
    try:
        return HostFS(os.path.dirname(real), writable=not ro).root_inode.lookup(os.fsencode(os.path.basename(real)))
    except SyscallError as e:
        raise OSError(e.errno, f"cannot serve {host_path}: {os.strerror(e.errno)}")


def _mount_point(table, path, required, is_dir=True):
    """The directory (for a file, the file) to mount on, made with its parents in a
    writable root if missing."""
    ctx = WalkContext(table.root, Creds())
    try:
        return resolve(ctx, table.root, path)
    except SyscallError:
        pass
    d = table.root
    try:
        names = [name for name in path.strip(b"/").split(b"/") if name]
        for i, name in enumerate(names):
            if namei.peek(d, name) is None:
                if is_dir or i < len(names) - 1:
                    namei.mkdir(d, name, 0o755, Creds())
                else:
                    namei.create(d, name, 0o644, Creds())
            d = resolve(ctx, d, name)
        return d
    except SyscallError as e:
        if required:
            raise OSError(e.errno, f"cannot mount on {path.decode(errors='replace')}")
        return None


def read_sandbox_file(root, path, limit=1 << 20, start=None):
    """A regular file of the sandbox's tree as its root reads it, a relative path from
    `start` (b"" when there is none)."""
    try:
        dentry = resolve(WalkContext(root, Creds()), start or root, path)
        if (dentry.inode.stat().mode & 0o170000) != 0o100000:
            return b""
        f = dentry.inode.open(dentry, os.O_RDONLY, None)
        try:
            return f.pread(limit, 0)
        finally:
            f.release()
    except SyscallError:
        return b""


def _db(root, path, fields):
    """The entries of /etc/passwd or /etc/group, as lists of `fields` fields."""
    lines = read_sandbox_file(root, path).splitlines()
    return [e for e in (line.split(b":") for line in lines if not line.startswith(b"#")) if len(e) >= fields]


def _id(text, what):
    """A uid or gid of --user or of an /etc/passwd or /etc/group entry; (uid_t)-1 is no id."""
    if not text.isdigit() or int(text) >= 0xFFFFFFFF:
        raise UsageError(f"bad {what} {os.fsdecode(text)!r}")
    return int(text)


def resolve_user(root, spec):
    """(uid, gid, supplementary gids, home) for --user NAME|UID[:GROUP|GID], found as docker
    (libcontainer's GetExecUser) finds them in the sandbox's /etc/passwd and /etc/group: a
    numeric uid needs no entry (its gid is then the uid, its home /); the groups that list
    the user as a member are its supplementary groups unless a group is named."""
    name, _, group = os.fsencode(spec).partition(b":")
    entry = next((e for e in _db(root, b"/etc/passwd", 7) if e[0] == name or name.isdigit() and e[2] == name), None)
    if entry is None and not name.isdigit():
        raise UsageError(f"unable to find user {os.fsdecode(name)}: no matching entries in passwd file")
    if entry is None:
        uid = gid = _id(name, "uid")
        home, user = b"/", None
    else:
        uid, gid, home, user = _id(entry[2], "uid"), _id(entry[3], "gid"), entry[5] or b"/", entry[0]
    groups = _db(root, b"/etc/group", 4)
    if group:
        found = next((g for g in groups if g[0] == group or group.isdigit() and g[2] == group), None)
        if found is None and not group.isdigit():
            raise UsageError(f"unable to find group {os.fsdecode(group)}: no matching entries in group file")
        return uid, _id(found[2] if found else group, "gid"), [], home
    extra = [_id(g[2], "gid") for g in groups if user is not None and user in g[3].split(b",")]
    return uid, gid, extra, home


def make_workdir(root, path, uid, gid):
    """The --workdir directory, made with its missing parents as docker makes it (mode 0755,
    owned here by the user, as BuildKit's WORKDIR); never a fallback to /."""
    ctx = WalkContext(root, Creds())
    d = root
    try:
        for name in filter(None, posixpath.normpath(path).split(b"/")):
            if namei.peek(d, name) is None:
                namei.mkdir(d, name, 0o755, Creds()).inode.setattr(uid=uid, gid=gid)
            d = resolve(ctx, d, name)
        if not d.inode.is_dir():
            raise SyscallError(errno.ENOTDIR)
    except SyscallError as e:
        raise UsageError(f"cannot use --workdir {os.fsdecode(path)}: {os.strerror(e.errno)}") from None
    return d


def start_directory(root, options, uid, gid):
    """--workdir, else the caller's directory when / is the host's (else /)."""
    if options.workdir:
        return make_workdir(root, os.fsencode(options.workdir), uid, gid)
    try:
        return resolve(WalkContext(root, Creds()), root, os.fsencode(os.getcwd() if options.root == "/" else "/"))
    except SyscallError:
        return root


# e_machine values a user may meet, for the message that only x86-64 is run
ELF_MACHINES = {3: "x86 (i386)", 8: "MIPS", 20: "PowerPC", 21: "PowerPC 64", 22: "s390",
                40: "ARM", 183: "AArch64 (arm64)", 243: "RISC-V", 258: "LoongArch"}


def foreign_elf(root, cwd, program, envp):
    """What a program the loader refused (ENOEXEC) is, when it is an ELF file of another
    class or machine than x86-64 (None otherwise)."""
    path = program
    if b"/" not in program:
        dirs = next((e[5:] for e in reversed(envp) if e.startswith(b"PATH=")), b"").split(b":")
        path = next((p for p in ((d or b".") + b"/" + program for d in dirs)
                     if read_sandbox_file(root, p, 20, cwd)), program)
    head = read_sandbox_file(root, path, 20, cwd)
    if len(head) < 20 or head[:4] != b"\x7fELF":
        return None
    machine = int.from_bytes(head[18:20], "little" if head[5] == 1 else "big")
    if head[4] == 2 and machine == 62:
        return None
    bits = {1: "32-bit", 2: "64-bit"}.get(head[4], "unknown-class")
    return f"a {bits} {ELF_MACHINES.get(machine, f'machine {machine}')} ELF program"


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
    options.listeners = netns.publish_listeners(options.publish)
    if options.net == "bridge":
        options.outside = Outside.start()
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
    if options.outside is not None:
        options.outside.close()         # the supervisor's now: it ends with the supervisor
    for listener, _ in options.listeners:
        listener.close()
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
    if options.new_net:
        netns.set_up(bridge=options.net == "bridge")
    if options.listeners:
        PtracePlatform.publish(options.listeners)
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
    try:
        if options.user:
            uid, gid, groups, home = resolve_user(root, options.user)
        else:           # the default ids as given; only HOME comes from /etc/passwd
            uid, gid, groups, home = options.uid, options.gid, [], resolve_user(root, str(options.uid))[3]
        cwd = start_directory(root, options, uid, gid)
    except UsageError as e:
        print(f"pylinuxabi: {e}", file=sys.stderr)
        return 125
    if not any(e.startswith(b"HOME=") for e in envp):
        envp = envp + [b"HOME=" + home]     # as docker: the user's home, unless the caller set one
    fs = FsContext(root, cwd)
    kernel.tracer = observers(options.strace, options.log_json)
    if options.inject:
        kernel.inject = Injector(options.inject)
    if options.random_seed is not None:
        kernel.seeded_random = SeededRandom(options.random_seed)
    if os.environ.get(usage.ENV):
        kernel.usage = usage.Usage(os.environ[usage.ENV])     # (pylinuxabi coverage)
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
    # a developer's look at a program that seems to hang: SIGUSR1 to the supervisor
    # (the sandbox's pid 1, seen from the host) logs every thread's wait
    signal.signal(signal.SIGUSR1, lambda sig, frame: log.warning("state:\n%s", kernel.describe()))
    try:
        first = kernel.spawn(argv, envp, fs, Creds(uid, gid, groups, bset=options.capabilities),
                             stdio, nofile[0])
        job.started(kernel)
        signal.pthread_sigmask(signal.SIG_SETMASK, old_mask | {signal.SIGTTOU, signal.SIGTTIN})
        status = kernel.run(first)
    except (OSError, SyscallError) as e:
        foreign = foreign_elf(root, cwd, argv[0], envp) if e.errno == errno.ENOEXEC else None
        return cannot_start(argv[0], e.errno, foreign)
    finally:
        platform.kill_all()
        if kernel.usage is not None:
            kernel.usage.save()
    if options.report is not None:
        report(counts, options.report)
    if status is None:
        return 1
    if os.WIFEXITED(status):
        return os.WEXITSTATUS(status)
    return 128 + os.WTERMSIG(status)


def cannot_start(program, err, foreign=None):
    """docker's status for a program that cannot start: 127 not found, 126 not executable."""
    name = os.fsdecode(program)
    if foreign:
        print(f"pylinuxabi: {name}: {foreign}: only x86-64 programs are supported", file=sys.stderr)
    else:
        print(f"pylinuxabi: {name}: {os.strerror(err) if err else 'cannot execute'}", file=sys.stderr)
    return 127 if err == errno.ENOENT else 126


def report(counts, dest):
    """--report: the syscalls the program used that the model lacks (they returned ENOSYS)."""
    if not counts:
        return
    listing = ", ".join(f"{name} ({n})" for name, n in sorted(counts.items(), key=lambda kv: -kv[1]))
    line = f"pylinuxabi: unimplemented syscalls used: {listing}\n"
    if dest == "-":
        sys.stderr.write(line)
    else:
        with open(dest, "a") as f:
            f.write(line)
