"""The native half of `pylinuxabi conform`: the program on the host's own kernel,
under a tracer that only records.

    python3 -m pylinuxabi.conformance.native LOG ENV CWD HOSTNAME SCRATCH SEED PROGRAM [ARG...]

ENV: a JSON file of the program's environment (exactly: ours has Python's
additions). SCRATCH: an empty directory where the namespace's tmpfs goes. SEED:
getrandom's bytes, as `run --random-seed` gives them (base/seeded.py). It changes nothing on the host: the
program runs in mount, UTS, IPC and PID namespaces of its own, chrooted into a
kernel overlayfs of the root (and of every other disk or tmpfs mount) whose
upper layers are a tmpfs that goes with the namespace. As in the sandbox (and in
docker) it is pid 2 under an init, with its own /proc, and /dev is a tmpfs with
the usual devices, a devpts instance, /dev/shm and /dev/mqueue; /sys is the host's. Every syscall of every thread is written to
LOG by the JSON log's EventWriter, the same code that describes the model's
run, at its exit stop (its entry stop for exit and exit_group, and for execve,
whose memory is gone at its exit).
"""
import ctypes
import errno
import fcntl
import json
import os
import shutil
import signal
import socket
import stat
import struct
import sys
import time

from pylinuxabi._native import ffi, lib
from pylinuxabi.base.seeded import SeededRandom
from pylinuxabi.observe.jsonlog import SCHEMA, EventWriter, exec_text, memory_readers
from pylinuxabi.platform.ptrace import (PTRACE_O_EXITKILL, PTRACE_O_TRACECLONE, PTRACE_O_TRACEEXEC,
                                        PTRACE_O_TRACEFORK, PTRACE_O_TRACESYSGOOD, PTRACE_O_TRACEVFORK,
                                        PTRACE_LISTEN, PTRACE_SYSCALL, Memory)

OPTIONS = (PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK | PTRACE_O_TRACECLONE
           | PTRACE_O_TRACEEXEC | PTRACE_O_EXITKILL)
CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWPID, CLONE_NEWNET = 0x20000, 0x4000000, 0x8000000, 0x20000000, 0x40000000
CLONE_THREAD = 0x10000
SIOCGIFFLAGS, SIOCSIFFLAGS, IFF_UP = 0x8913, 0x8914, 1
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 0x20, 0x1000, 0x4000, 0x40000
PROC_READ_ONLY = ("/proc/sys", "/proc/sysrq-trigger", "/proc/irq", "/proc/bus", "/proc/fs")
SYS_clone, SYS_clone3, SYS_execve, SYS_exit, SYS_exit_group, SYS_execveat = 56, 435, 59, 60, 231, 322
SYS_getrandom, SYS_pivot_root = 318, 155
MNT_DETACH = 2
# file systems whose mounts are the host's own view (bound in), not data to protect
PSEUDO = {"proc", "sysfs", "devtmpfs", "devpts", "cgroup", "cgroup2", "securityfs", "debugfs", "tracefs",
          "mqueue", "hugetlbfs", "bpf", "pstore", "configfs", "fusectl", "binfmt_misc", "autofs",
          "efivarfs", "nsfs", "rpc_pipefs", "selinuxfs"}
BOUND = ("/proc", "/sys", "/dev")
STOP_SIGNALS = (signal.SIGSTOP, signal.SIGTSTP, signal.SIGTTIN, signal.SIGTTOU)

_libc = ctypes.CDLL(None, use_errno=True)


def _check(r, what):
    if r < 0:
        e = ctypes.get_errno()
        raise OSError(e, f"{what}: {os.strerror(e)}")


def _mount(source, target, fstype, flags, data=None):
    _check(_libc.mount(source and source.encode(), target.encode(), fstype and fstype.encode(),
                       ctypes.c_ulong(flags), data and data.encode()), f"mount {target}")


def _mounts():
    """(mount point, file system type) of each mount, from /proc/self/mountinfo."""
    found = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            sep = fields.index("-")
            point = fields[4].encode().decode("unicode_escape")
            found.append((point, fields[sep + 1]))
    return found


def _loopback_up():
    """The new network namespace's lo, up: a loopback and nothing else (`--net none`)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        ifreq = struct.pack("16sH14x", b"lo", 0)
        flags = struct.unpack_from("16sH", fcntl.ioctl(s, SIOCGIFFLAGS, ifreq))[1]
        fcntl.ioctl(s, SIOCSIFFLAGS, struct.pack("16sH14x", b"lo", flags | IFF_UP))


def _under(path, top):
    return path == top or path.startswith(top.rstrip("/") + "/")


def private_root(scratch, hostname):
    """Enter mount, UTS and IPC namespaces of our own, with a throwaway overlay of / as root."""
    _check(_libc.unshare(CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET), "unshare")
    _loopback_up()
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    name = hostname.encode()
    _check(_libc.sethostname(name, len(name)), "sethostname")
    mounts = _mounts()
    _mount("conform", scratch, "tmpfs", 0, "mode=700")
    root = os.path.join(scratch, "root")
    layers = [(point, fstype) for point, fstype in mounts
              if fstype not in PSEUDO and not any(_under(point, b) for b in BOUND) and not _under(point, scratch)]
    for i, (point, fstype) in enumerate(layers):
        upper, work = os.path.join(scratch, f"u{i}"), os.path.join(scratch, f"w{i}")
        os.mkdir(upper)
        os.mkdir(work)
        target = root if point == "/" else root + point
        os.makedirs(target, exist_ok=True)
        try:
            # nodev: a device node the program makes (or finds) opens nothing of the host's
            _mount("overlay", target, "overlay", MS_NODEV, f"lowerdir={point},upperdir={upper},workdir={work}")
        except OSError:
            if point == "/":
                raise
            _mount(point, target, None, MS_BIND | MS_REC)     # (could not overlay it: read-only view)
            _mount(None, target, None, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NODEV)
    _mount("/proc", root + "/proc", None, MS_BIND | MS_REC)     # (the init mounts the namespace's own)
    _mount("sysfs", root + "/sys", "sysfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC)
    _docker_dev(root + "/dev")
    _network_files(scratch, root, hostname)
    # pivot_root, not chroot: a path that escapes a chroot of the program's own then
    # reads as it would in the sandbox, with nothing of ours above it
    os.chdir(root)
    _check(_libc.syscall(SYS_pivot_root, b".", b"."), "pivot_root")
    _check(_libc.umount2(b".", MNT_DETACH), "umount the old root")
    os.chdir("/")


# the /dev docker gives a container, and the sandbox's devfs
DEVICES = {"null": (1, 3), "zero": (1, 5), "full": (1, 7), "random": (1, 8), "urandom": (1, 9), "tty": (5, 0)}
DEV_LINKS = {"fd": "/proc/self/fd", "stdin": "/proc/self/fd/0", "stdout": "/proc/self/fd/1",
             "stderr": "/proc/self/fd/2", "ptmx": "pts/ptmx"}


def _network_files(scratch, root, hostname):
    """/etc/hosts and /etc/hostname of the container's own, bound over the tree's as
    docker's (and the sandbox's, sandbox.network_files) are: the tree's hosts, and the
    hostname."""
    try:
        with open("/etc/hosts", "rb") as f:
            hosts = f.read()
    except OSError:
        from pylinuxabi.sandbox import HOSTS
        hosts = HOSTS
    if hosts and not hosts.endswith(b"\n"):
        hosts += b"\n"
    for name, text in (("hosts", hosts), ("hostname", hostname.encode() + b"\n")):
        path = os.path.join(scratch, name)
        with open(path, "wb") as f:
            f.write(text)
        os.chmod(path, 0o644)
        target = os.path.join(root, "etc", name)
        if not os.path.exists(target):
            open(target, "wb").close()
        _mount(path, target, None, MS_BIND)


def _docker_dev(dev):
    """A /dev of its own, as docker's: the usual devices, a devpts instance of its own,
    a fresh /dev/shm and the IPC namespace's mqueue."""
    _mount("dev", dev, "tmpfs", 0, "mode=755")
    for name, (major, minor) in DEVICES.items():
        os.mknod(os.path.join(dev, name), stat.S_IFCHR | 0o666, os.makedev(major, minor))
        os.chmod(os.path.join(dev, name), 0o666)
    for name, target in DEV_LINKS.items():
        os.symlink(target, os.path.join(dev, name))
    for name in ("pts", "shm", "mqueue"):
        os.mkdir(os.path.join(dev, name))
    _mount("devpts", dev + "/pts", "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,gid=5,mode=620,ptmxmode=666")
    _mount("shm", dev + "/shm", "tmpfs", 0, "mode=1777")
    _mount("mqueue", dev + "/mqueue", "mqueue", MS_NOSUID | MS_NODEV | MS_NOEXEC)


def _start(path, argv, env, cwd):
    """The program as pid 2 of a PID namespace of its own, as the sandbox's is: an init
    (pid 1, with the namespace's own /proc) forks it; it stops itself before its
    execve, and we seize it there. Returns (its pid as we see it, the init's)."""
    _check(_libc.unshare(CLONE_NEWPID), "unshare(CLONE_NEWPID)")
    ready_r, ready_w = os.pipe()
    init = os.fork()
    if init == 0:
        os.close(ready_r)
        _init(path, argv, env, cwd, ready_w)
    os.close(ready_w)
    os.read(ready_r, 1)             # the program is forked
    os.close(ready_r)
    pid = None
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if pid is None:
            with open(f"/proc/{init}/task/{init}/children") as f:
                found = f.read().split()
            pid = int(found[0]) if found else None
        if pid is not None:
            with open(f"/proc/{pid}/stat") as f:
                if f.read().rpartition(")")[2].split()[0] == "T":
                    break
        time.sleep(0.001)
    else:
        raise OSError("the program did not stop before its execve")
    _check(lib.seize(pid, OPTIONS), "PTRACE_SEIZE")
    os.kill(pid, signal.SIGCONT)
    return pid, init


# the capabilities `docker run` leaves a container's root, by number (capability.h):
# CHOWN, DAC_OVERRIDE, FOWNER, FSETID, KILL, SETGID, SETUID, SETPCAP,
# NET_BIND_SERVICE, NET_RAW, SYS_CHROOT, MKNOD, AUDIT_WRITE, SETFCAP. The rest
# (SYS_TIME, SYS_MODULE, SYS_ADMIN, NET_ADMIN...) reach beyond the namespaces.
DOCKER_CAPS = (0, 1, 3, 4, 5, 6, 7, 8, 10, 13, 18, 27, 29, 31)
DOCKER_CAP_NAMES = ("CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "SETGID", "SETUID", "SETPCAP",
                    "NET_BIND_SERVICE", "NET_RAW", "SYS_CHROOT", "MKNOD", "AUDIT_WRITE", "SETFCAP")
PR_CAPBSET_DROP, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL = 24, 47, 4
SYS_capset = 126
LINUX_CAPABILITY_VERSION_3 = 0x20080522


def _keep_capabilities(keep):
    """Only `keep`, in the bounding set and in every set of ours (the native run is
    the host's root: what it may do must not reach past its namespaces)."""
    with open("/proc/sys/kernel/cap_last_cap") as f:
        last = int(f.read())
    for cap in range(last + 1):
        if cap not in keep:
            _check(_libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0), f"PR_CAPBSET_DROP {cap}")
    _libc.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)
    mask = sum(1 << cap for cap in keep)
    header = (ctypes.c_uint32 * 2)(LINUX_CAPABILITY_VERSION_3, 0)
    data = (ctypes.c_uint32 * 6)(mask & 0xFFFFFFFF, mask & 0xFFFFFFFF, 0, mask >> 32, mask >> 32, 0)
    _check(_libc.syscall(SYS_capset, header, data), "capset")


def _init(path, argv, env, cwd, ready):
    """pid 1 of the namespace: mounts its /proc, forks the program, reaps, and ends
    with the program's status (which ends every process left in the namespace)."""
    try:
        _check(_libc.unshare(CLONE_NEWNS), "unshare(CLONE_NEWNS)")
        _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
        for ro in PROC_READ_ONLY:       # (as docker's: the host's kernel settings stay the host's)
            if os.path.exists(ro):
                _mount(ro, ro, None, MS_BIND | MS_REC)
                _mount(None, ro, None, MS_BIND | MS_REMOUNT | MS_RDONLY)
        pid = os.fork()
        if pid == 0:
            os.close(ready)
            for sig in (signal.SIGPIPE, signal.SIGXFSZ):     # Python's own choices, not the caller's
                signal.signal(sig, signal.SIG_DFL)
            os.chdir(cwd)
            os.setpgid(0, 0)        # a process group of its own, in the session outside: the sandbox's
            _keep_capabilities(DOCKER_CAPS)
            os.kill(os.getpid(), signal.SIGSTOP)
            os.execve(path, argv, env)
    except OSError as e:
        os.write(2, f"pylinuxabi conform: {argv[0].decode(errors='replace')}: {e.strerror or e}\n".encode())
        os._exit(127)
    os.write(ready, b"x")
    os.close(ready)
    while True:
        try:
            got, status = os.waitpid(-1, 0)
        except ChildProcessError:
            os._exit(125)
        if got == pid:
            os._exit(os.WEXITSTATUS(status) if os.WIFEXITED(status) else 128 + os.WTERMSIG(status))


class Recorder:
    """Every syscall of every thread, at its exit."""

    def __init__(self, writer, seeded):
        self.writer = writer
        self.seeded = seeded    # getrandom's bytes, replaced with these
        self.inner = {}         # tid -> its id in the program's PID namespace
        self.tgid = {}          # tid -> its thread group
        self.pending = {}       # tid -> (nr, args, start time, strings read at entry, Memory)
        self.fresh = set()      # seized tasks whose first stop is still to come
        self.sigcont = None     # the task whose next SIGCONT is ours, not the program's
        self.memory = {}        # tid -> Memory (each keeps a buffer: one a thread)
        self.main = None
        self.main_status = None

    def run(self, pid):
        """Record until the program's last thread is gone; its wait status."""
        self.main = pid
        self.tgid[pid] = pid
        self.fresh.add(pid)             # its first stop is the one it made itself
        self.sigcont = pid              # and the SIGCONT that ended it is ours
        stop = ffi.new("struct stop *")
        while self.tgid:
            r = lib.wait_stop(-1, stop)
            if r == -errno.EINTR:
                continue
            if r < 0:
                break
            self.take(stop)
        return self.main_status

    def _memory(self, tid):
        mem = self.memory.get(tid)
        if mem is None:
            mem = self.memory[tid] = Memory(tid)
        return mem

    def take(self, s):
        tid, kind = s.pid, s.kind
        if kind == lib.STOP_DEAD:
            self.died(tid, s.status)
            return
        if tid not in self.tgid:        # a new child ahead of its parent's event
            self.fresh.add(tid)
            return
        sig = 0
        if kind == lib.STOP_SYSCALL_ENTRY:
            self.entered(tid, s.nr, tuple(s.args))
        elif kind == lib.STOP_SYSCALL_EXIT:
            self.returned(tid, s.rval)
        elif kind == lib.STOP_EVENT:
            if s.event in (1, 2, 3):        # PTRACE_EVENT_FORK, VFORK, CLONE
                self.spawned(tid, int(s.msg))
        elif kind == lib.STOP_GROUP:
            if tid in self.fresh:           # a seized task's first stop
                self.fresh.discard(tid)
            elif s.sig in STOP_SIGNALS:     # a real group stop: it stays stopped until SIGCONT
                lib.resume(tid, PTRACE_LISTEN, 0)
                return
        elif kind == lib.STOP_SIGNAL:
            if s.sig == signal.SIGCONT and tid == self.sigcont:
                self.sigcont = None
            else:
                info = ffi.new("char[128]")
                if lib.get_siginfo(tid, info) == 0:
                    self.writer.signal(self.tgid[tid], tid, ffi.buffer(info, 128)[:])
                sig = s.sig
        lib.resume(tid, PTRACE_SYSCALL, sig)

    def entered(self, tid, nr, args):
        mem = self._memory(tid)
        strings = {}
        if nr in (SYS_execve, SYS_execveat):
            # its memory is gone at its exit: keep what it names now
            path_arg, argv_arg = (args[0], args[1]) if nr == SYS_execve else (args[1], args[2])
            strings = {"path": _read_cstring(mem, path_arg), "argv": _read_vector(mem, argv_arg),
                       "envc": len(_read_vector(mem, args[2] if nr == SYS_execve else args[3]))}
        self.pending[tid] = (nr, args, time.monotonic(), strings, mem)
        if nr in (SYS_exit, SYS_exit_group):
            self.writer.syscall(self.tgid[tid], tid, nr, args, None, _nothing, _nothing)

    def returned(self, tid, rval):
        pending = self.pending.pop(tid, None)
        if pending is None:
            return
        nr, args, t0, strings, mem = pending
        duration = time.monotonic() - t0
        if nr in (SYS_execve, SYS_execveat) and rval == 0:
            path, argv = strings["path"] or b"", strings["argv"]
            self.writer.write({"ev": "syscall", "pid": self.tgid[tid], "tid": tid, "nr": SYS_execve,
                               "name": "execve",
                               "args": {"filename": os.fsdecode(path), "argv": [os.fsdecode(a) for a in argv],
                                        "envc": strings["envc"]},
                               "result": 0, "errno": None,
                               "text": exec_text(path, argv, args[2] if nr == SYS_execve else args[3],
                                                 strings["envc"]),
                               "dur_us": round(duration * 1e6, 1)})
            return
        if nr == SYS_getrandom and rval > 0:
            mem.write_some(args[0], self.seeded.take(self._inner(tid), rval))
        self.writer.syscall(self.tgid[tid], tid, nr, args, rval, *memory_readers(mem), duration)

    def _inner(self, tid):
        """tid as the program's PID namespace numbers it (NSpid's last field)."""
        if tid not in self.inner:
            self.inner[tid] = tid
            with open(f"/proc/{tid}/status") as f:
                for line in f:
                    if line.startswith("NSpid:"):
                        self.inner[tid] = int(line.split()[-1])
        return self.inner[tid]

    def spawned(self, parent, child):
        nr, args = self.pending.get(parent, (None, (0,) * 6))[:2]
        flags = args[0]
        if nr == SYS_clone3:
            try:
                flags = int.from_bytes(self._memory(parent).read(args[0], 8), "little")
            except Exception:
                flags = 0
        thread = nr in (SYS_clone, SYS_clone3) and bool(flags & CLONE_THREAD)
        self.tgid[child] = self.tgid[parent] if thread else child
        if child in self.fresh:         # its first stop came first and was held
            self.fresh.discard(child)
            lib.resume(child, PTRACE_SYSCALL, 0)
        else:
            self.fresh.add(child)
        self.writer.spawn(self.tgid[parent], parent, child, thread)

    def died(self, tid, status):
        tgid = self.tgid.pop(tid, None)
        self.pending.pop(tid, None)
        self.memory.pop(tid, None)
        self.inner.pop(tid, None)
        self.fresh.discard(tid)
        if tgid is None:
            return
        if tid == tgid:
            self.writer.exited(tgid, tid, status)
        if tid == self.main:
            self.main_status = status


def _nothing(addr, n):
    return None


def _read_cstring(mem, addr):
    try:
        return mem.read_cstring(addr, 4096)
    except Exception:
        return None


def _read_vector(mem, addr):
    """A NULL-ended array of strings (argv, envp)."""
    items = []
    while addr and len(items) < 4096:
        try:
            p = int.from_bytes(mem.read(addr, 8), "little")
        except Exception:
            break
        if not p:
            break
        items.append(_read_cstring(mem, p) or b"")
        addr += 8
    return items


def main(argv):
    log_path, env_path, cwd, hostname, scratch, seed, program = argv[:7]
    args = [os.fsencode(a) for a in argv[6:]]
    with open(env_path) as f:
        environ = json.load(f)
    out = open(log_path, "w")
    private_root(scratch, hostname)
    env = {os.fsencode(k): os.fsencode(v) for k, v in environ.items()}
    path = program if "/" in program else shutil.which(program, path=environ.get("PATH", os.defpath))
    if path is None:
        print(f"pylinuxabi conform: {program}: command not found", file=sys.stderr)
        return 127
    writer = EventWriter(out)
    writer.write({"ev": "start", "schema": SCHEMA, "source": "native"})
    pid, init = _start(os.fsencode(path), args, env, cwd)
    status = Recorder(writer, SeededRandom(seed)).run(pid)
    os.waitpid(init, 0)
    out.close()
    if status is None:
        return 125
    if os.WIFSIGNALED(status):
        return 128 + os.WTERMSIG(status)
    return os.WEXITSTATUS(status)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
