"""Platform 1: ptrace + seccomp RET_TRACE, one stop per emulated syscall.

Wraps the native core (pylinuxabi._native); knows nothing of files or the model.
"""
import errno
import fcntl
import logging
import mmap
import os
import signal
import socket
import struct
from contextlib import contextmanager

from pylinuxabi._native import ffi, lib
from pylinuxabi.base.errors import SyscallError
from pylinuxabi.platform import AT_EXIT, AT_SECCOMP, ThreadGone

log = logging.getLogger("pylinuxabi")
STUB_PATH = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "stub")

PTRACE_SYSCALL = 24
PTRACE_CONT = 7
PTRACE_SINGLESTEP = 9
PTRACE_LISTEN = 0x4208
PTRACE_EVENT_STOP = 128
WALL = 0x40000000               # __WALL: wait for threads and clone children too
PTRACE_SEIZE = 0x4206
PTRACE_INTERRUPT = 0x4207
PTRACE_O_TRACESYSGOOD = 0x01
PTRACE_O_TRACEFORK = 0x02
PTRACE_O_TRACEVFORK = 0x04
PTRACE_O_TRACECLONE = 0x08
PTRACE_O_TRACEEXEC = 0x10
PTRACE_O_TRACEEXIT = 0x40
PTRACE_O_TRACESECCOMP = 0x80
PTRACE_O_EXITKILL = 0x100000
TRACE_OPTIONS = (PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK
                 | PTRACE_O_TRACECLONE | PTRACE_O_TRACEEXEC | PTRACE_O_TRACEEXIT
                 | PTRACE_O_TRACESECCOMP | PTRACE_O_EXITKILL)


# What a stop is (struct stop's kind), for the kernel's loop.
# the native core's stop kinds are the platform vocabulary's
assert (lib.STOP_NONE, lib.STOP_SECCOMP, lib.STOP_SYSCALL_ENTRY, lib.STOP_SYSCALL_EXIT, lib.STOP_EVENT,
        lib.STOP_SIGNAL, lib.STOP_GROUP, lib.STOP_DEAD, lib.STOP_GONE) == tuple(range(9))

# Where a thread sits, which decides how an answer or an injection is made.

SYS_close = 3
SYS_mmap = 9
SYS_futex = 202
SYS_recvmsg = 47
PROT_NONE, PROT_READ = 0, 1
MAP_SHARED, MAP_PRIVATE, MAP_ANONYMOUS, MAP_NORESERVE, MAP_FIXED_NOREPLACE = 0x01, 0x02, 0x20, 0x4000, 0x100000
FUTEX_WAIT = 0
# The reserved range of every address space (DESIGN §3): the stub at its base
# (where native/build.py links it), then the shared area: the park page (one
# futex word per thread) and one argument slot per thread, where the model
# puts the checked copy of a struct for the host to read. The program sees
# the area read-only and can change nothing of the range.
STUB_BASE = RESERVED_BASE = lib.RESERVED_BASE
PARK_ADDR = 0x7E0000010000
PARK_SIZE = 65536
SLOTS = PARK_SIZE // 4
ARG_SLOT = 256
ARGS_ADDR = PARK_ADDR + PARK_SIZE
AREA_SIZE = PARK_SIZE + SLOTS * ARG_SLOT
WATCHES_MAX = 16384         # host fds the host waker may watch at once (more: waits look again)
WAKE_SIGNAL = signal.SIGRTMIN + 3   # our native threads' word to the main thread: its wait for a stop ends
TOLD_BATCH = 256
RESERVED_END = PARK_ADDR + AREA_SIZE
assert RESERVED_END <= lib.RESERVED_LIMIT
# the host identity of the program's processes when we run as root: ids that
# own nothing, with no capabilities (native drop_host_privilege)
HOST_UID = HOST_GID = 2147483646
F_SEAL_SEAL, F_SEAL_SHRINK, F_SEAL_GROW, F_SEAL_FUTURE_WRITE = 0x1, 0x2, 0x4, 0x10
SYS_execveat = 322
AT_EMPTY_PATH = 0x1000
MSG_CMSG_CLOEXEC = 0x40000000
# All signals blocked but SIGKILL and SIGSTOP, which cannot be.
BLOCK_ALL = ~((1 << (signal.SIGKILL - 1)) | (1 << (signal.SIGSTOP - 1))) & ((1 << 64) - 1)

_MSGHDR = struct.Struct("<QI4xQQQQi4x")   # name, namelen, iov, iovlen, control, controllen, flags
_IOVEC = struct.Struct("<QQ")


def _stub_symbols():
    """Entry point, the end of its image, and the addresses of the stub's
    symbols (native/stub.S)."""
    from elftools.elf.elffile import ELFFile
    with open(STUB_PATH, "rb") as f:
        elf = ELFFile(f)
        symtab = elf.get_section_by_name(".symtab")
        names = ("inject", "exec_argv")
        end = max(seg["p_vaddr"] + seg["p_memsz"] for seg in elf.iter_segments() if seg["p_type"] == "PT_LOAD")
        symbols = {n: symtab.get_symbol_by_name(n)[0]["st_value"] for n in names}
        return elf.header.e_entry, (end + 0xFFF) & ~0xFFF, symbols


def touches_reserved(addr, length):
    """Does [addr, addr + length) reach into the reserved range? (length rounded
    up to pages as the memory syscalls do; a length of 0 still names addr)."""
    end = addr + max((length + 0xFFF) & ~0xFFF, 1)
    return addr < RESERVED_END and end > RESERVED_BASE


class Memory:
    """A process's memory as the program sees it: faults are EFAULT."""

    __slots__ = ("pid", "_buf")

    BUF_SIZE = 65536        # kept for the calls of every size the hot path sees

    def __init__(self, pid):
        self.pid = pid
        self._buf = ffi.new("char[]", self.BUF_SIZE)

    def _buffer(self, n):
        """A buffer of at least n bytes: ours, or one that lives for this call only (the
        program chooses n: what we keep must not grow with it)."""
        if n > self.BUF_SIZE:
            return ffi.new("char[]", n)
        return self._buf

    def read(self, addr, n):
        """Exactly n bytes at addr, or SyscallError(EFAULT)."""
        if n == 0:
            return b""
        buf = self._buffer(n)
        got = lib.mem_read(self.pid, addr, buf, n)
        if got != n:
            raise SyscallError(errno.EFAULT)
        return ffi.buffer(buf, n)[:]

    def read_some(self, addr, n):
        """Up to n bytes at addr: stops at the first fault (b"" if none readable)."""
        buf = self._buffer(n)
        got = lib.mem_read(self.pid, addr, buf, n)
        return ffi.buffer(buf, got)[:] if got > 0 else b""

    def write(self, addr, data):
        if not data:
            return
        if lib.mem_write(self.pid, addr, data, len(data)) != len(data):
            raise SyscallError(errno.EFAULT)

    def write_some(self, addr, data):
        """Write as much of data as fits before the first fault; returns the count."""
        if not data:
            return 0
        n = lib.mem_write(self.pid, addr, data, len(data))
        return max(n, 0)

    def write_force(self, addr, data):
        """Write even to read-only pages (the loader's bss and stack set-up)."""
        if data and lib.mem_write_force(self.pid, addr, data, len(data)) != len(data):
            raise SyscallError(errno.EFAULT)

    def read_cstring(self, addr, limit=4096):
        """A NUL-terminated string of at most `limit` bytes; EFAULT or ENAMETOOLONG."""
        buf = self._buffer(limit + 1)
        n = lib.read_cstring(self.pid, addr, buf, limit)
        if n < 0:
            raise SyscallError(-n)
        return ffi.buffer(buf, n)[:]


class Thread:
    """One traced host thread, where it is stopped, and its park slot."""

    __slots__ = ("tid", "state", "mem", "slot", "parked_regs")

    def __init__(self, tid, mem, slot):
        self.tid = tid
        self.state = AT_SECCOMP
        self.mem = mem
        self.slot = slot            # index of its futex word in the park page
        self.parked_regs = None     # its registers at the syscall it is parked in


class Injection:
    """Host syscalls run inside a stopped thread; see PtracePlatform.inject."""

    def __init__(self, platform, thread, insn):
        self.platform = platform
        self.thread = thread
        self.insn = insn
        self.saved = ffi.new("struct user_regs_struct *")
        self.result = None          # what the interrupted syscall returns, if any

    def syscall(self, nr, *args):
        """Run one host syscall; returns its raw result (-errno on failure)."""
        t = self.thread
        argv = ffi.new("uint64_t[6]", [a & 0xFFFFFFFFFFFFFFFF for a in args] + [0] * (6 - len(args)))
        out = ffi.new("long *")
        r = lib.inject_syscall(t.tid, t.state == AT_SECCOMP, self.insn, nr, argv, out)
        if r == -errno.EPERM:
            log.error("thread %d was not at the syscall %d we injected: its process is killed", t.tid, nr)
        if r < 0:
            raise ThreadGone(t.tid)
        t.state = AT_EXIT
        return out[0]

    def scratch(self):
        """Tracee memory free for our use: well below the red zone of the saved stack."""
        return (self.saved.rsp - 8192) & ~0xF

    def install_fd(self, hostfd):
        """Give the process a copy of our host fd; returns its number there (close-on-exec)."""
        base = self.scratch()
        iov, data, control = base + 64, base + 80, base + 96
        msg = _MSGHDR.pack(0, 0, iov, 1, control, 24, 0)
        self.thread.mem.write(base, msg.ljust(64, b"\0") + _IOVEC.pack(data, 1) + bytes(16 + 24))
        platform = self.platform
        if platform.ctrl_unreceived:
            platform.drain_ctrl()
        if lib.send_fd(platform.ctrl.fileno(), hostfd) < 0:
            raise SyscallError(errno.EIO)
        platform.ctrl_unreceived = True
        r = self.syscall(SYS_recvmsg, lib.CTRL_FD, base, MSG_CMSG_CLOEXEC)
        platform.ctrl_unreceived = False
        if r != 1:
            raise SyscallError(errno.EIO, f"recvmsg of a host fd failed: {r}")
        fd = struct.unpack("<i", self.thread.mem.read(control + 16, 4))[0]
        # the number came through the program's memory, which another thread may
        # have changed: it must name what we sent, or we would act on another fd
        tid = self.thread.tid
        try:
            got = os.stat(f"/proc/{tid}/fd/{fd}")
        except (OSError, ValueError):
            got = None
        sent = os.fstat(hostfd)
        if got is None or (got.st_dev, got.st_ino) != (sent.st_dev, sent.st_ino):
            log.error("thread %d: the fd we passed it arrived as %r, not what we sent: its process is killed",
                      tid, fd)
            os.kill(tid, signal.SIGKILL)
            raise ThreadGone(tid)
        return fd

    def close_fd(self, fd):
        self.syscall(SYS_close, fd)


NS_LAST_PID = "/proc/sys/kernel/ns_last_pid"       # (our /proc: the sandbox's PID namespace's)


@contextmanager
def helper_pids():
    """Threads the supervisor starts meanwhile take pids from the top of the sandbox's
    PID namespace (ns_last_pid, which its pid 1 may set): the program's processes and
    threads are then numbered as if we had none, pid 2 first, as in docker. Only
    before the program runs, when nothing else can be given a pid meanwhile."""
    if os.getpid() != 1:
        yield           # (not in a namespace of our own: the host's pids are not ours to move)
        return
    try:
        with open("/proc/sys/kernel/pid_max") as f:
            top = int(f.read()) - 64
        with open(NS_LAST_PID) as f:
            last = int(f.read())
        with open(NS_LAST_PID, "w") as f:
            f.write(str(top))
    except (OSError, ValueError):
        yield
        return
    try:
        yield
    finally:
        with open(NS_LAST_PID, "w") as f:
            f.write(str(last))


class PtracePlatform:
    """Launches the sandbox and turns ptrace stops into calls the kernel understands."""

    def __init__(self, trace_all=False, sig_ignored=(), sig_blocked=(), terminal=None):
        self.trace_all = trace_all
        # the terminal we were started on (a host fd of ours), lent to every
        # process at TTY_FD so that the host runs its terminal syscalls
        self.terminal = terminal
        self.terminal_rdev = os.fstat(terminal).st_rdev if terminal is not None else None
        self.tty_fd = lib.TTY_FD
        self.sig_ignored = sum(1 << (s - 1) for s in sig_ignored)
        self.sig_blocked = sum(1 << (s - 1) for s in sig_blocked)
        self.stop = ffi.new("struct stop *")
        self.stub_entry, self.stub_end, symbols = _stub_symbols()
        self.stub_inject = symbols["inject"]
        self.exec_argv = symbols["exec_argv"]
        self.ctrl, self._ctrl_tracee = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
        # an fd sent to a thread that never took it (killed before its recvmsg ran) would
        # be the next thread's: we keep the tracees' end too, to drain such a message
        self.ctrl_unreceived = False
        self._make_area()
        self.free_slots = list(range(SLOTS - 1, -1, -1))
        self.host_ids = (HOST_UID, HOST_GID) if os.geteuid() == 0 else (-1, -1)
        self.landlock_abi = lib.landlock_abi()

    def _make_area(self):
        """The shared area, ours to write through our own mapping; sealed so
        that no mapping made later can write it, and lent to processes through
        a read-only fd (so mprotect cannot make their mapping writable either)."""
        fd = os.memfd_create("pylinuxabi-park", os.MFD_CLOEXEC | os.MFD_ALLOW_SEALING)
        os.ftruncate(fd, AREA_SIZE)
        self.area = mmap.mmap(fd, AREA_SIZE, mmap.MAP_SHARED)
        fcntl.fcntl(fd, fcntl.F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_FUTURE_WRITE | F_SEAL_SEAL)
        self.area_fd = os.open(f"/proc/self/fd/{fd}", os.O_RDONLY | os.O_CLOEXEC)
        os.close(fd)
        self.park_words = ffi.cast("uint32_t *", ffi.from_buffer(self.area))
        self.waker_started = False
        self.watches = 0                # host fds the waker watches now (dups of ours)
        self.told = {}                  # token: (callback, registrations) of tell_when_ready
        self.next_token = 0
        self.told_buf = ffi.new("uint32_t[]", TOLD_BATCH)

    def stash(self, thread, data):
        """Put `data` (at most ARG_SLOT bytes) in the thread's argument slot, where
        the program cannot change it; returns its address in the program."""
        offset = PARK_SIZE + thread.slot * ARG_SLOT
        self.area[offset:offset + len(data)] = data
        return ARGS_ADDR + thread.slot * ARG_SLOT

    # -- start-up ---------------------------------------------------------
    @staticmethod
    def enter_sandbox(new_net):
        """Make our next child pid 1 of new namespaces (see native enter_namespaces)."""
        r = lib.enter_namespaces(int(os.geteuid() != 0), int(new_net), os.geteuid(), os.getegid())
        if r < 0:
            raise OSError(-r, "cannot create the sandbox's namespaces: " + os.strerror(-r))

    @staticmethod
    def publish(listeners):
        """Forward what the (host socket, port) pairs get, a TCP listener's connections or
        a UDP socket's datagrams, to the port on our 127.0.0.1, from a thread of ours
        (native publish_start): -p."""
        fds = ffi.new("int[]", [s.fileno() for s, _ in listeners])
        types = ffi.new("int[]", [s.type for s, _ in listeners])
        ports = ffi.new("int[]", [port for _, port in listeners])
        with helper_pids():
            r = lib.publish_start(fds, types, ports, len(listeners))
        if r < 0:
            raise OSError(-r, "cannot publish ports: " + os.strerror(-r))

    @staticmethod
    def become_init():
        """In the forked supervisor: pid 1, our own /proc, dead with our parent."""
        r = lib.become_init()
        if r < 0:
            raise OSError(-r, "cannot set up the supervisor: " + os.strerror(-r))

    def launch(self, ids=(0, 0)):
        """Fork the program process (pid 2) and seize it; returns its pid. `ids`
        are its (uid, gid) in the model, which its user namespace shows the host's
        as (native enter_user_namespace).

        It is seized before it runs a single syscall of its own, then execs
        the stub; its first stop is that execve's seccomp stop.
        """
        with helper_pids():
            self._start_waker()     # (now, so that it takes no pid among the program's)
        gate_r, gate_w = os.pipe()
        stub_fd = os.open(STUB_PATH, os.O_RDONLY | os.O_CLOEXEC)
        params = ffi.new("struct launch *")
        params.trace_all = int(self.trace_all)
        params.sig_ignored, params.sig_blocked = self.sig_ignored, self.sig_blocked
        params.gate_fd = gate_r
        params.ctrl_fd, params.stub_fd = self._ctrl_tracee.fileno(), stub_fd
        params.tty_fd = self.terminal if self.terminal is not None else -1
        params.host_uid, params.host_gid = self.host_ids
        params.landlock_abi = self.landlock_abi
        params.inner_uid, params.inner_gid = ids
        pid = lib.spawn_program(params)
        for fd in (gate_r, stub_fd):
            os.close(fd)
        if pid < 0:
            os.close(gate_w)
            raise OSError(-pid, "cannot start the program: " + os.strerror(-pid))
        try:
            self._seize(pid)
        finally:
            os.write(gate_w, b"g")
            os.close(gate_w)
        return pid

    def drain_ctrl(self):
        """Take back the fds sent to threads that never received them (each would
        otherwise reach the next thread we pass one to, in its place)."""
        while True:
            try:        # (socket.recv_fds would drop MSG_DONTWAIT: Python 3.11 ignores its flags)
                _, control, _, _ = self._ctrl_tracee.recvmsg(1, socket.CMSG_SPACE(4), socket.MSG_DONTWAIT)
            except (BlockingIOError, InterruptedError):
                break
            for level, kind, data in control:
                if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                    for fd in struct.unpack(f"<{len(data) // 4}i", data[:len(data) // 4 * 4]):
                        os.close(fd)
        self.ctrl_unreceived = False

    def _seize(self, pid):
        r = lib.seize(pid, TRACE_OPTIONS)
        if r < 0:
            os.kill(pid, signal.SIGKILL)
            raise OSError(-r, "PTRACE_SEIZE: " + os.strerror(-r))

    @staticmethod
    def kill_all():
        """As pid 1 of the sandbox: SIGKILL every other process in it, and reap them."""
        try:
            os.kill(-1, signal.SIGKILL)
        except ProcessLookupError:
            pass
        while True:
            try:
                pid, status = os.waitpid(-1, 0x40000000)      # __WALL
            except ChildProcessError:
                return
            if os.WIFSTOPPED(status):
                lib.resume(pid, PTRACE_CONT, 0)     # a tracee stopped on its way out (EVENT_EXIT)

    @staticmethod
    def group_stop_pending(tid):
        """Has tid entered a group stop (SIGSTOP, SIGTSTP…) that wait() has not given us yet?

        The host tells the real parent as soon as a group stop is complete, so
        the parent may ask before we took the thread's own report; this peeks at
        it (WNOWAIT) without taking it.
        """
        try:
            info = os.waitid(os.P_PID, tid, os.WSTOPPED | os.WNOWAIT | os.WNOHANG | WALL)
        except OSError:
            return False
        if info is None or info.si_status >> 8 != PTRACE_EVENT_STOP:
            return False
        return info.si_status & 0xFF in (signal.SIGSTOP, signal.SIGTSTP, signal.SIGTTIN, signal.SIGTTOU)

    @staticmethod
    def pending_signals(thread):
        """The signals pending for a thread, its own and its process's (SigPnd, ShdPnd)."""
        try:
            with open(f"/proc/{thread.tid}/status", "rb") as f:
                status = f.read()
        except OSError:
            raise ThreadGone(thread.tid)
        mask = 0
        for line in status.splitlines():
            if line.startswith((b"SigPnd:", b"ShdPnd:")):
                mask |= int(line.split()[1], 16)
        return mask

    @staticmethod
    def is_zombie(pid):
        """Has the process exited without its parent having waited for it yet?"""
        try:
            with open(f"/proc/{pid}/stat", "rb") as f:
                state = f.read().rpartition(b") ")[2][:1]
        except OSError:
            return False
        return state in (b"Z", b"X")

    def new_thread(self, tid):
        if not self.free_slots:
            raise OSError(errno.EAGAIN, "too many threads for the park page")
        return Thread(tid, Memory(tid), self.free_slots.pop())

    touches_reserved = staticmethod(touches_reserved)

    def thread_room(self):
        """How many more threads the park page has words for."""
        return len(self.free_slots)

    @staticmethod
    def hidden_ranges():
        """Address ranges of our own mappings in every process (the reserved range)."""
        return [(RESERVED_BASE, RESERVED_END)]

    def retid(self, thread, tid):
        """The host thread now answers to another tid (a non-leader thread exec'ed)."""
        thread.tid = tid
        thread.mem.pid = tid

    def thread_gone(self, thread):
        self.free_slots.append(thread.slot)

    # -- parking (DESIGN §4) ---------------------------------------------------
    def map_reserved(self, inj):
        """Fill the reserved range of a fresh process, which holds only the stub:
        the shared area (park page and argument slots), read-only, at its fixed
        address, and inaccessible memory between the two, so that nothing of
        the program's is ever placed in the range (where it could not unmap it)."""
        fd = inj.install_fd(self.area_fd)
        try:
            r = inj.syscall(SYS_mmap, PARK_ADDR, AREA_SIZE, PROT_READ, MAP_SHARED | MAP_FIXED_NOREPLACE, fd, 0)
        finally:
            inj.close_fd(fd)
        if r != PARK_ADDR:
            raise SyscallError(errno.ENOMEM, f"cannot map the park page: {r}")
        gap = PARK_ADDR - self.stub_end
        r = inj.syscall(SYS_mmap, self.stub_end, gap, PROT_NONE,
                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE, -1, 0)
        if r != self.stub_end:
            raise SyscallError(errno.ENOMEM, f"cannot reserve the gap after the stub: {r}")

    def park_word(self, thread):
        """The thread's park word now: a park made with it ends at once if a wake
        came since (from us or the host waker)."""
        return self.park_words[thread.slot]

    def park(self, thread, timeout=None, word=None):
        """Turn the stopped syscall into a host futex wait on the thread's park word
        (while it still holds `word`, by default its value now).

        The thread then waits in the host, interruptible by signals, while we
        serve others; wake() ends the wait. The first park keeps the
        program's registers to give them back with the result (unpark).
        """
        regs = ffi.new("struct user_regs_struct *")
        if lib.get_regs(thread.tid, regs) < 0:
            raise ThreadGone(thread.tid)
        if thread.parked_regs is None:
            thread.parked_regs = ffi.new("struct user_regs_struct *", regs[0])
        if thread.state == AT_EXIT:
            # parked again from the wait's return: enter the wait anew, from the
            # stub's syscall instruction (the program's own could have changed)
            regs.rip = self.stub_inject
        regs.orig_rax = regs.rax = SYS_futex
        regs.rdi = PARK_ADDR + 4 * thread.slot
        regs.rsi = FUTEX_WAIT
        regs.rdx = self.park_words[thread.slot] if word is None else word
        regs.r10 = 0
        if timeout is not None:
            # the futex's relative timeout, read at its entry from the thread's
            # argument slot (the program's memory could change under the wait)
            regs.r10 = self.stash(thread, struct.pack("<qq", int(timeout), int(timeout % 1 * 1e9)))
        if lib.set_regs(thread.tid, regs) < 0:
            raise ThreadGone(thread.tid)
        lib.resume(thread.tid, PTRACE_SYSCALL, 0)

    def wake(self, thread):
        """End the park of `thread` (or make its next park return at once)."""
        words = self.park_words
        words[thread.slot] = (words[thread.slot] + 1) & 0xFFFFFFFF
        lib.futex_wake(words + thread.slot)

    def wake_signal(self):
        """The signal by which our native threads (the host waker, SQPOLL's poller) end
        the main thread's wait for a stop (stop.kind STOP_NONE), its handler set."""
        if signal.getsignal(WAKE_SIGNAL) in (signal.SIG_DFL, None):
            signal.signal(WAKE_SIGNAL, lambda sig, frame: None)     # (only to end the wait)
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {WAKE_SIGNAL})
        return WAKE_SIGNAL

    def _start_waker(self):
        if not self.waker_started:
            if lib.waker_start(self.park_words, self.wake_signal()) < 0:
                return False
            self.waker_started = True
        return True

    def _watch(self, waits, key, token):
        """Registrations of the (host fd, poll events) `waits` with the host waker under
        `key` (a park slot, or a token), or None if one cannot be made (a file epoll
        refuses, no fds left) or there would be more than WATCHES_MAX in all (each is an
        fd of ours: the program must not be able to use up the supervisor's)."""
        if self.watches + len(waits) > WATCHES_MAX or not self._start_waker():
            return None
        watches = []
        for fd, events in waits:
            reg = lib.waker_add(fd, events & 0xFFFF, key, token)
            if reg < 0:
                self.unwatch_host(watches)
                return None
            watches.append(reg)
            self.watches += 1
        return watches

    def watch_host(self, thread, waits):
        """Have the host waker (native waker_start) end the park of `thread` when one of
        the (host fd, poll events) `waits` is ready: the watches, for unwatch_host, or
        None (_watch)."""
        return self._watch(waits, thread.slot, 0)

    def unwatch_host(self, watches):
        for reg in watches:
            lib.waker_remove(reg)
        self.watches -= len(watches)

    def tell_when_ready(self, waits, callback):
        """Call callback() from the event loop (take_told) once one of the (host fd, poll
        events) `waits` is ready, whether or not a thread of the program waits: a token
        for forget, or None (_watch)."""
        token = self.next_token
        self.next_token = (token + 1) % lib.WAKER_ALARM
        watches = self._watch(waits, token, 1)
        if watches is None:
            return None
        self.told[token] = (callback, watches)
        return token

    def forget(self, token):
        entry = self.told.pop(token, None)
        if entry is not None:
            self.unwatch_host(entry[1])

    def alarm(self, due):
        """Have the waker end the main thread's wait at time.monotonic() `due` (None:
        never), for the kernel's timers when no parked thread will come back by then."""
        if due is None:
            if self.waker_started:
                lib.waker_alarm(0, 0)
        elif self._start_waker():
            lib.waker_alarm(int(due), max(1, int(due % 1 * 1e9)))

    def take_told(self):
        """Run the callbacks of the tokens the waker has queued; True if the alarm was
        among them."""
        alarm = False
        buf = self.told_buf
        while True:
            n = lib.waker_take(buf, TOLD_BATCH)
            for token in buf[0:n]:
                if token == lib.WAKER_ALARM:
                    alarm = True
                    continue
                entry = self.told.pop(token, None)
                if entry is not None:
                    self.unwatch_host(entry[1])
                    entry[0]()
            if n < TOLD_BATCH:
                return alarm

    def unpark(self, thread, result):
        """At the wait's exit stop: the program's registers back, `result` as its syscall's.

        A restart code (-ERESTARTSYS…) with the original syscall number in
        orig_rax lets the host's signal delivery restart or interrupt it as
        Linux would.
        """
        regs = thread.parked_regs
        thread.parked_regs = None
        regs.rax = result & 0xFFFFFFFFFFFFFFFF
        if lib.set_regs(thread.tid, regs) < 0:
            raise ThreadGone(thread.tid)
        thread.state = AT_EXIT

    def parked_syscall(self, thread):
        """(nr, six args) of the syscall a parked thread is waiting to finish."""
        r = thread.parked_regs
        return r.orig_rax, [r.rdi, r.rsi, r.rdx, r.r10, r.r8, r.r9]

    # -- the hot path: one C call per stop ---------------------------------
    def wait(self):
        """The next stop of any tracee (stop.kind == STOP_NONE if interrupted)."""
        r = lib.wait_stop(-1, self.stop)
        if r < 0:
            self.stop.kind = lib.STOP_NONE
            self.stop.pid = r
        return self.stop

    def complete_and_wait(self, thread, result):
        """Answer the stopped syscall with `result`, resume, and wait for the next stop."""
        r = lib.complete_and_wait(thread.tid, thread.state == AT_EXIT, result, self.stop)
        if r < 0:
            self.stop.kind = lib.STOP_NONE
            self.stop.pid = r
        return self.stop

    def resume_and_wait(self, thread, sig=0, exit_stop=False):
        """Let the host run the stopped syscall (or just go on), then wait.

        exit_stop asks for a stop when the syscall returns. A parked thread
        always gets one: its wait's return must come back to us whatever
        happens on the way (a signal delivered first, say), or the program
        would run on with the wait's registers.
        """
        req = PTRACE_SYSCALL if exit_stop or thread.parked_regs is not None else PTRACE_CONT
        r = lib.resume_and_wait(thread.tid, req, sig, self.stop)
        if r < 0:
            self.stop.kind = lib.STOP_NONE
            self.stop.pid = r
        return self.stop

    def deliver_and_stop_in_handler(self, thread, sig):
        """Deliver `sig` from its signal-delivery stop, single-stepping, and wait.

        If a handler runs, the thread's next stop is a SIGTRAP stop on the
        handler's first instruction, its frame built and none of it run (the
        kernel reports stepping into a handler so). If none does, the thread
        goes on stepping until its next stop (a syscall's seccomp stop, which
        resumes it without stepping).
        """
        r = lib.resume_and_wait(thread.tid, PTRACE_SINGLESTEP, sig, self.stop)
        if r < 0:
            self.stop.kind = lib.STOP_NONE
            self.stop.pid = r
        return self.stop

    def resume(self, tid, sig=0, request=PTRACE_CONT):
        return lib.resume(tid, request, sig)

    def siginfo(self, thread):
        """The raw siginfo (128 bytes) of the signal the thread is stopped for."""
        buf = ffi.new("char[128]")
        if lib.get_siginfo(thread.tid, buf) < 0:
            raise ThreadGone(thread.tid)
        return ffi.buffer(buf, 128)[:]

    def set_siginfo(self, thread, raw):
        """Replace the siginfo of the signal `thread` is stopped delivering."""
        if lib.set_siginfo(thread.tid, raw) < 0:
            raise ThreadGone(thread.tid)

    def signal_thread(self, thread, tgid, sig):
        """Queue `sig` for one thread; it is delivered when the thread next runs."""
        lib.host_tgkill(tgid, thread.tid, sig)

    def listen(self, thread):
        """Leave a thread in its group stop, but let SIGCONT and SIGKILL reach it."""
        return lib.resume(thread.tid, PTRACE_LISTEN, 0)

    def sigmask(self, thread):
        """The stopped thread's signal mask (bit sig-1 set: sig blocked)."""
        mask = ffi.new("uint64_t *")
        if lib.get_sigmask(thread.tid, mask) < 0:
            raise ThreadGone(thread.tid)
        return mask[0]

    def set_sigmask(self, thread, mask):
        """Set the stopped thread's signal mask; it applies when the thread runs on
        (SIGKILL and SIGSTOP cannot be blocked)."""
        if lib.set_sigmask(thread.tid, mask & 0xFFFFFFFFFFFFFFFF) < 0:
            raise ThreadGone(thread.tid)

    # -- acting inside a process ------------------------------------------
    @contextmanager
    def inject(self, thread):
        """Run host syscalls inside `thread`, then put it back as it was.

        Signals are blocked meanwhile so none is delivered into our borrowed
        registers; the thread's own registers come back with `inj.result` as
        its syscall's return value, and the thread is left at a syscall-exit
        stop ready for PTRACE_CONT. Every call but one replacing a stopped
        syscall runs from the stub's syscall instruction, which the program
        cannot change (never from its own: another thread could rewrite it).
        """
        inj = Injection(self, thread, self.stub_inject)
        tid = thread.tid
        mask = ffi.new("uint64_t *")
        if lib.get_regs(tid, inj.saved) < 0 or lib.get_sigmask(tid, mask) < 0:
            raise ThreadGone(tid)
        lib.set_sigmask(tid, BLOCK_ALL)
        try:
            yield inj
        finally:
            if thread.state == AT_EXIT:
                if inj.result is not None:
                    inj.saved.rax = inj.result & 0xFFFFFFFFFFFFFFFF
                lib.set_regs(tid, inj.saved)
            lib.set_sigmask(tid, mask[0])

    def get_regs(self, thread):
        regs = ffi.new("struct user_regs_struct *")
        if lib.get_regs(thread.tid, regs) < 0:
            raise ThreadGone(thread.tid)
        return regs

    def set_regs(self, thread, regs):
        if lib.set_regs(thread.tid, regs) < 0:
            raise ThreadGone(thread.tid)

    def give_terminal(self, pgid):
        """Make `pgid` the terminal's foreground process group (as a shell starting a job)."""
        if self.terminal is not None:
            os.tcsetpgrp(self.terminal, pgid)

    def set_args(self, thread, args):
        """Change the stopped syscall's six arguments (None keeps one); returns the old six.

        At a seccomp stop the host then runs the call with the new ones; the
        program's registers must be given back at the exit stop (the syscall
        ABI keeps them), which set_args with the returned list does.
        """
        regs = self.get_regs(thread)
        names = ("rdi", "rsi", "rdx", "r10", "r8", "r9")
        old = [getattr(regs, n) for n in names]
        for name, value in zip(names, args):
            if value is not None:
                setattr(regs, name, value & 0xFFFFFFFFFFFFFFFF)
        self.set_regs(thread, regs)
        return old

    def exec_stub(self, thread):
        """Turn the stopped syscall into the host's execveat of the stub.

        The kernel replaces the address space; an EVENT_EXEC stop follows
        (or the syscall's exit stop if it fails). Its strings are the stub's
        own (argv = {"pylinuxabi-stub", NULL}, envp = {NULL}, the path ""),
        which no thread of the program can rewrite while the kernel reads them.
        """
        regs = self.get_regs(thread)
        argv, envp, empty = self.exec_argv, self.exec_argv + 8, self.exec_argv + 8
        regs.orig_rax = SYS_execveat
        regs.rdi, regs.rsi, regs.rdx, regs.r10, regs.r8 = lib.STUB_FD, empty, argv, envp, AT_EMPTY_PATH
        self.set_regs(thread, regs)

    def prepare_image(self, thread):
        """After EVENT_EXEC: run on to the exit stop and check that the stub is what runs.

        The check guards against another thread rewriting the stub's name
        under us: anything but the stub's entry point is not ours to build on.
        """
        self.to_syscall_exit(thread)
        if self.get_regs(thread).rip != self.stub_entry:
            raise SyscallError(errno.EPERM, "exec of something other than the stub")

    def to_syscall_exit(self, thread):
        """From an event stop (exec), run on to the syscall-exit stop so registers can be set."""
        lib.resume(thread.tid, PTRACE_SYSCALL, 0)
        while True:
            r = lib.wait_stop(thread.tid, self.stop)
            if r < 0 and r != -errno.EINTR:
                raise ThreadGone(thread.tid)
            if r == 0 and self.stop.kind == lib.STOP_SYSCALL_EXIT:
                thread.state = AT_EXIT
                return
            if r == 0 and self.stop.kind in (lib.STOP_DEAD, lib.STOP_GONE):
                raise ThreadGone(thread.tid)
            if r == 0:
                lib.resume(thread.tid, PTRACE_SYSCALL, 0)
