"""The kernel's event loop: take each stop, run its handler, answer, repeat.

It sees SyscallEvents from the platform and asks the platform to act; it
never calls ptrace itself. Handlers come from the table it is given.
"""
import errno
import logging
import os
import resource
import signal
import struct
import sys
import time
import traceback

from pylinuxabi.kernel import fdtable, ipc, loader
from pylinuxabi.base.abi import I32, RT_SIGFRAME_SIGMASK, U32, U64
from pylinuxabi.base.errors import ERESTARTSYS, SyscallError, WouldBlock
from pylinuxabi.kernel.task import INIT_PID, MemoryLayout, Process, SchedState, Task
from pylinuxabi.kernel.timers import Timers
from pylinuxabi.platform import (AT_EXIT, AT_SECCOMP, EVENT_CLONE, EVENT_EXEC, EVENT_FORK, EVENT_VFORK,
                                 STOP_DEAD, STOP_ENTRY, STOP_EVENT, STOP_EXIT, STOP_GROUP, STOP_NONE,
                                 STOP_SECCOMP, STOP_SIGNAL, ThreadGone)

log = logging.getLogger("pylinuxabi")
CLONE_VM, CLONE_FS, CLONE_FILES, CLONE_THREAD = 0x100, 0x200, 0x400, 0x10000
NO_RETURN = (60, 231)      # exit, exit_group
SYS_rt_sigreturn = 15
SYS_futex = 202
SYS_rt_sigtimedwait = 128
SIGINFO_SIZE = 128
# si_signo, si_errno, si_code, then (the union is 8-byte aligned) _kill's si_pid, si_uid
SIGINFO_KILL = struct.Struct("<iii4xiI")
SI_USER, SI_TKILL = 0, -6
CLD_CONTINUED = 6               # SIGCHLD's si_codes are CLD_EXITED (1) to CLD_CONTINUED
GONE_KEPT = 256                 # how many processes gone we remember the real uid of
SUPERVISOR_PID = 1              # the supervisor, as the program's PID namespace sees it (DESIGN §1)
ALL_SIGNALS = (1 << 64) - 1     # a mask blocking every signal (SIGKILL and SIGSTOP stay unblocked)
# what a host futex wait returns when a signal interrupts it (with a timeout:
# ERESTART_RESTARTBLOCK, 516)
INTERRUPTED = (-ERESTARTSYS, -516, -errno.EINTR)
STOP_SIGNALS = (signal.SIGSTOP, signal.SIGTSTP, signal.SIGTTIN, signal.SIGTTOU)
SIG_DFL, SIG_IGN = 0, 1         # sigaction handler values
ZOMBIES_CHECKED = 64


class Resume:
    """A handler's answer other than a number: let the host run the syscall.

    exit_stop asks to see it return; on_exit(task, result) is then called and
    its return value is what the program sees. args (six values, None keeping
    one) has the host run the syscall with other arguments: the program's own
    registers are given back at the exit stop, as the syscall ABI keeps them.
    """

    __slots__ = ("exit_stop", "on_exit", "args")

    def __init__(self, exit_stop=False, on_exit=None, args=None):
        self.exit_stop = exit_stop or args is not None
        self.on_exit = on_exit
        self.args = args


PASS = Resume()


class Kernel:
    def __init__(self, platform, table, mounts, options):
        self.platform = platform
        self.table = table
        self.mounts = mounts
        self.options = options
        self.processes = {}
        self.init = None                # the model's pid 1 (Process.make_init), made at spawn
        self.zombies = {}               # pid -> Process dead but not yet waited for by its parent
        self.zombies_checked = ZOMBIES_CHECKED  # how many of those until we ask the host which are left
        self.tasks = {}
        self.unimplemented = {}         # syscall name -> count
        self.main_pid = None
        self.main_status = None
        self.tracer = None              # the observers (observe/): --strace, --log-json
        self.inject = None              # --inject's faults (inject.Injector)
        self.seeded_random = None       # --random-seed: getrandom's bytes (base/seeded.py)
        self.usage = None               # the syscalls answered, for `pylinuxabi coverage` (observe/usage.py)
        self.idle_hooks = []            # called when the wait for a stop is interrupted (io_uring's SQPOLL)
        self.exec_hooks = []            # called with a task that execs (io_uring cancels its requests)
        self.deferred = []              # work to run between stops (defer)
        self.orphan_stops = set()       # new children whose first stop beat their parent's event
        self.current = None             # the task whose syscall is being served
        self.filesystems = {}           # what mount(2) can make: type name -> make(source, data)
        self.main_stopped = None        # called with the signal when the main process stops
        self.timers = Timers()          # kernel timers (timerfd): run when a parked thread comes back
        self.timers.earlier = self.timer_waker
        self.parked_until = {}          # parked task -> time.monotonic() its park ends (inf: never)
        self.gone_ruids = {}            # pid -> real uid of a process gone lately (its SIGCHLD's si_uid)

    def current_process(self):
        return self.current.process

    def stopped(self, proc):
        """Is proc in a group stop? Its parent, told by the host, may ask /proc before
        we have taken the stop's report: the host then still holds it for us."""
        return proc.group_stopped or self.platform.group_stop_pending(proc.pid)

    def visible_processes(self):
        """{pid: Process} as /proc lists them: the living, and the dead that their
        parent has not waited for yet (the host's wait4 tells only the parent; so we
        ask the host which zombies are left)."""
        zombies = self.zombies
        for pid in [pid for pid in zombies if pid in self.processes or not self.platform.is_zombie(pid)]:
            del zombies[pid]
        self.zombies_checked = max(ZOMBIES_CHECKED, 2 * len(zombies))
        init = {INIT_PID: self.init} if self.init is not None else {}
        return {**init, **zombies, **self.processes}

    def nproc(self, uid):
        """What RLIMIT_NPROC counts for a real uid: its threads, and its zombies until reaped."""
        n = sum(1 for t in self.tasks.values() if t.process.creds.ruid == uid)
        return n + sum(1 for pid, p in self.visible_processes().items()
                       if pid not in self.processes and not p.is_init and p.creds.ruid == uid)

    # -- processes -------------------------------------------------------------
    def add_task(self, tid, process):
        t = Task(tid, process, self.platform.new_thread(tid))
        t.wake_callback = lambda: self.wake(t)
        process.tasks[tid] = t
        self.tasks[tid] = t
        return t

    def spawn(self, argv, envp, fs, creds, stdio, nofile):
        """Start the program: launch the sandbox and exec argv[0] in its pid 2.

        nofile is the RLIMIT_NOFILE soft limit the program inherits.
        """
        proc = Process.first(0, fs, creds)
        proc.kernel = self
        proc.rlimits[resource.RLIMIT_NOFILE][0] = nofile
        proc.files.limit = nofile
        for fd, f in enumerate(stdio):
            if f is not None:
                proc.files.install_at(fd, f)
        probe = Task(0, proc, self.platform.new_thread(0))
        try:
            image = loader.prepare(probe, loader.find_program(probe, argv[0], envp), argv, envp)
        finally:
            self.platform.thread_gone(probe.thread)
        self.init = Process.make_init(proc, SchedState(os.sched_getaffinity(0),
                                                       nice=os.getpriority(os.PRIO_PROCESS, 0)))
        self.init.kernel = self
        proc.parent = self.init
        pid = self.platform.launch((creds.ruid, creds.rgid))
        proc.pid = pid
        self.processes[pid] = proc
        self.main_pid = pid
        task = self.add_task(pid, proc)
        stop = self.platform.wait()
        if stop.kind != STOP_SECCOMP or stop.pid != pid:
            raise OSError(errno.EIO, f"unexpected first stop of the program: kind {stop.kind}")
        task.pending_exec = image
        task.on_exit = None
        return self.platform.resume_and_wait(task.thread, exit_stop=True)

    # -- the loop ------------------------------------------------------------
    def run(self, stop):
        """Serve stops until the program's main process is gone; returns its wait status."""
        tasks = self.tasks
        table = self.table
        platform = self.platform
        strict = self.options.strict
        tracer = self.tracer
        inject = self.inject
        usage = self.usage
        deferred = self.deferred
        while True:
            if deferred:
                self.run_deferred()
            kind = stop.kind
            if kind == STOP_SECCOMP:
                task = tasks.get(stop.pid)
                if task is None:
                    stop = self.stray(stop)
                    continue
                if stop.nr == SYS_futex and task.thread.parked_regs is not None:
                    # our park entering its wait again, which a filter trapping every
                    # call (--trace-all, --strace…) stops after its entry stop: on into it
                    stop = platform.resume_and_wait(task.thread, exit_stop=True)
                    continue
                task.thread.state = AT_SECCOMP
                self.current = task
                if tracer:
                    tracer.begin(task)
                if task.saved_sigmask is not None:
                    self.restore_sigmask(task)      # its masked wait restarted: a new syscall
                entry = table[stop.nr] if 0 <= stop.nr < len(table) else table.unknown(stop.nr)
                args = entry.decode(stop.args)
                if usage is not None:
                    usage.seen(stop.nr, stop.args)
                fault = inject.fault(task, stop.nr, stop.args) if inject else None
                try:
                    if fault is None:
                        result = entry.handler(task, *args)
                    else:
                        result = fault.run(self, task, entry, args, stop.args)
                except SyscallError as e:
                    result = -e.errno
                except WouldBlock as wait:
                    stop = self.block(task, wait, stop.args)
                    continue
                except ThreadGone:
                    stop = platform.wait()
                    continue
                except Exception:
                    if strict:
                        raise
                    log.error("handler %s crashed:\n%s", entry.name, traceback.format_exc())
                    result = -errno.EIO
                if deferred:
                    self.run_deferred()
                if result.__class__ is int:
                    if tracer:
                        tracer.syscall(task, entry, stop.args, result)
                    stop = platform.complete_and_wait(task.thread, result)
                    continue
                if tracer and entry.nr in NO_RETURN:
                    tracer.no_return(task, entry, stop.args)
                if tracer or result.exit_stop:
                    mask = tracer.sigreturn_mask(task, stop.rsp) if tracer and entry.nr == SYS_rt_sigreturn else None
                    saved = platform.set_args(task.thread, result.args) if result.args is not None else None
                    task.on_exit = (entry, tuple(stop.args), result.on_exit, mask, saved)
                    stop = platform.resume_and_wait(task.thread, exit_stop=True)
                else:
                    stop = platform.resume_and_wait(task.thread)
                continue
            stop = self.other_stop(stop)
            if stop is None:
                break
        return self.main_status

    def other_stop(self, stop):
        """Everything that is not a seccomp stop: exits, events, signals, group stops."""
        kind, pid = stop.kind, stop.pid
        platform = self.platform
        if kind == STOP_NONE:
            if pid == -errno.ECHILD:
                return None
            if platform.take_told() and self.timers.heap:      # (its alarm: timer_waker)
                self.timers.run_due()
                self.timer_waker()
            for hook in self.idle_hooks:
                hook()
            if self.deferred:
                self.run_deferred()
            return platform.wait()
        task = self.tasks.get(pid)
        if kind == STOP_DEAD:
            self.task_died(pid, stop.status)
            if self.main_status is not None:
                return None         # the program is gone: the sandbox goes with it
            return platform.wait()
        if task is None:
            return self.stray(stop)
        if task.clone_args is not None:
            self.first_stop(task)
        if kind == STOP_EXIT:
            task.thread.state = AT_EXIT
            if task.thread.parked_regs is not None:
                return self.wait_ended(task, stop.rval)
            pending, task.on_exit = task.on_exit, None
            result = stop.rval
            if pending is not None:
                entry, args, on_exit, mask, saved = pending
                if saved is not None:
                    platform.set_args(task.thread, saved)
                if on_exit is not None:
                    result = on_exit(task, result)
                if self.tracer:
                    self.tracer.syscall(task, entry, args, result, mask)
            if result != stop.rval:
                return platform.complete_and_wait(task.thread, result)
            return platform.resume_and_wait(task.thread)
        if kind == STOP_EVENT:
            return self.event(task, stop)
        if kind == STOP_ENTRY:
            # a park re-entering its wait (Kernel.set_park_mask): the wait's mask now
            if stop.nr != SYS_futex or task.thread.parked_regs is None:
                return self.hijacked(task, stop)
            if task.park_mask is not None:
                mask, task.park_mask = task.park_mask, None
                try:
                    platform.set_sigmask(task.thread, mask)
                except ThreadGone:
                    return platform.wait()
            return platform.resume_and_wait(task.thread, exit_stop=True)
        if kind == STOP_SIGNAL:
            try:
                info = self.fix_siginfo(task, stop.sig)
            except ThreadGone:
                return platform.wait()
            if task.saved_sigmask is not None:
                return self.masked_wait_signal(task, stop.sig)
            if self.tracer:
                self.tracer.signal(task, info)
            if log.isEnabledFor(logging.DEBUG):
                self.log_signal(task, stop.sig)
            self.delivered(task.process, stop.sig)
            return platform.resume_and_wait(task.thread, sig=stop.sig)
        if kind == STOP_GROUP:
            task.process.group_stopped = stop.sig in STOP_SIGNALS     # else SIGCONT ended it
            if stop.sig in STOP_SIGNALS:
                platform.listen(task.thread)      # stays stopped until SIGCONT
                if pid == self.main_pid and self.main_stopped is not None:
                    self.main_stopped(stop.sig)
                return platform.wait()
            return platform.resume_and_wait(task.thread)
        return platform.resume_and_wait(task.thread)

    def hijacked(self, task, stop):
        """A thread stopped where only a syscall of ours could be: the program got
        between us and the host (DESIGN, threat model). Its process goes."""
        log.error("pid %d: thread %d entered syscall %d where we expected our own: killed",
                  task.process.pid, task.tid, stop.nr)
        os.kill(task.tid, signal.SIGKILL)
        return self.platform.resume_and_wait(task.thread)

    def send_signal(self, task, sig, info=None):
        """A signal from the model to one thread: the host delivers it. The siginfo
        the program sees is `info` (128 bytes), by default what send_sig(sig, current)
        gives, as for SIGPIPE and SIGXFSZ: SI_USER from the thread's own process and
        real uid. The host's says the supervisor sent it; fix_siginfo puts ours in."""
        if info is None:
            info = SIGINFO_KILL.pack(sig, 0, SI_USER, task.process.pid, task.creds.ruid).ljust(SIGINFO_SIZE, b"\0")
        if task.forged_signals is None:
            task.forged_signals = {}
        task.forged_signals[sig] = info         # (standard signals are queued once)
        self.platform.signal_thread(task.thread, task.process.pid, sig)

    def send_process_signal(self, proc, sig, info):
        """send_signal to a whole process: whichever thread takes it sees `info`."""
        if proc.forged_signals is None:
            proc.forged_signals = {}
        proc.forged_signals[sig] = info
        try:
            os.kill(proc.pid, sig)
        except OSError:
            pass                    # gone meanwhile

    def fix_siginfo(self, task, sig):
        """The siginfo of a signal `task` is stopped delivering, as the program is to see
        it (returned): one the model sent gets its own (send_signal); one a process of
        the program sent with kill or tgkill gets the sender's real uid in the model
        (the host's is the uid its processes all share), and so does a SIGCHLD of its child."""
        platform = self.platform
        raw = platform.siginfo(task.thread)
        _, _, code, pid, uid = SIGINFO_KILL.unpack_from(raw)
        forged = task.forged_signals.pop(sig, None) if task.forged_signals else None
        if forged is None and task.process.forged_signals:
            forged = task.process.forged_signals.pop(sig, None)
        if forged is not None and code in (SI_USER, SI_TKILL) and pid == SUPERVISOR_PID:
            new = forged
        elif (code in (SI_USER, SI_TKILL) or (sig == signal.SIGCHLD and 0 < code <= CLD_CONTINUED)) \
                and pid != SUPERVISOR_PID:
            sender = self.processes.get(pid) or self.zombies.get(pid)
            ruid = sender.creds.ruid if sender is not None else self.gone_ruids.get(pid)
            if ruid is None or ruid == uid:
                return raw
            new = raw[:20] + U32.pack(ruid) + raw[24:]
        else:
            return raw
        platform.set_siginfo(task.thread, new)
        return new

    # -- blocking (DESIGN §4) ---------------------------------------------------
    def block(self, task, wait, args=()):
        """Park `task` in the host until one of the wait's queues is notified, or the
        host waker sees one of its host fds ready (else it looks again after its recheck)."""
        task.restart = wait.restart
        if wait.file is not None and task.held is None:
            self.hold(task, wait.file, args)
        if wait.files and task.held_files is None:
            task.held_files = list(wait.files)      # those of its first pass, as Linux's poll table
            for f in task.held_files:
                f.get()
        if wait.timeout is not None and task.deadline is None:
            task.deadline = time.monotonic() + wait.timeout
        park_for = task.remaining()
        platform = self.platform
        word = platform.park_word(task.thread)      # (before a watch can change it)
        if wait.host:
            task.host_watches = platform.watch_host(task.thread, wait.host)
        watched = wait.host is not None and (not wait.host or task.host_watches is not None)
        if wait.recheck is not None and not watched:
            park_for = wait.recheck if park_for is None else min(park_for, wait.recheck)
        due = self.timers.next_due()
        now = time.monotonic()
        if due is not None:
            park_for = max(0.0, due - now) if park_for is None else max(0.0, min(park_for, due - now))
        self.parked_until[task] = float("inf") if park_for is None else now + park_for
        wake = task.wake_callback
        for queue in wait.waitables:
            queue.add(wake)
        task.waiting_on = wait.waitables
        try:
            self.set_park_mask(task, wait)
            platform.park(task.thread, park_for, word)
        except ThreadGone:
            self.stop_waiting(task)
            self.parked_until.pop(task, None)
        if self.deferred:
            self.run_deferred()         # (now that a wake-up they make cannot be missed)
        return platform.wait()

    def defer(self, work):
        """Run work() between stops: after the handler that asked, before its thread goes
        on (io_uring's requests woken by another syscall complete there, never inside
        the handler whose notify woke them)."""
        self.deferred.append(work)

    def run_deferred(self):
        deferred = self.deferred
        while deferred:
            work = deferred[:]
            deferred.clear()            # (in place: run() keeps the list itself)
            for fn in work:
                fn()

    def set_park_mask(self, task, wait):
        """The signal mask the thread waits under: its own, or the wait's (pselect6, ppoll),
        less the signals the wait takes itself (a signalfd's, WouldBlock.signals: they end
        the park, and wait_ended blocks them again before they could be delivered).

        A park made again at the wait's return goes back to user mode to enter the wait
        anew; a signal delivered on the way would run in the middle of the park, with
        the wait's registers. So every signal stays blocked until the entry stop, which
        sets the wait's mask: one that came meanwhile then ends the new wait at once.
        """
        platform = self.platform
        task.wait_signals = (wait.signals, wait.sigmask) if wait.signals else None
        mask = None
        if wait.sigmask is not None or wait.signals:
            if task.saved_sigmask is None:
                task.saved_sigmask = platform.sigmask(task.thread)
            base = task.saved_sigmask if wait.sigmask is None else wait.sigmask
            mask = base & ~wait.signals
        if task.thread.state == AT_EXIT:
            task.park_mask = platform.sigmask(task.thread) if mask is None else mask
            platform.set_sigmask(task.thread, ALL_SIGNALS)
        elif mask is not None:
            platform.set_sigmask(task.thread, mask)

    def timer_waker(self):
        """Keep some parked thread due back by the next kernel timer, which runs it then:
        a timer added, or a parked thread gone on, may leave none that is. With no thread
        parked (all run, or poll an io_uring CQ), the host waker's alarm brings the loop
        back for it."""
        due = self.timers.next_due()
        parked = self.parked_until
        if due is not None and not parked:
            self.platform.alarm(due)
        if due is None or not parked or min(parked.values()) <= due:
            return
        task = next(iter(parked))
        parked[task] = 0.0          # back at once, to park again no longer than the timer
        self.wake(task)

    def hold(self, task, file, args):
        """The wait holds the file it waits on, under the fd (one of the syscall's
        arguments `args`) it was reached by: its retries find it there whatever
        other threads do to that fd meanwhile, as Linux's fdget gives."""
        fd = task.files.fd_of(file, args)
        if fd is not None:
            file.get()
            task.held = (fd, file)

    def release_held(self, task):
        """The syscall is over: the files its wait held go (perhaps closing them)."""
        if task.held is not None:
            task.held[1].put()
            task.held = None
        if task.held_files is not None:
            for f in task.held_files:
                f.put()
            task.held_files = None

    def retry(self, task, entry, raw):
        """Run a parked syscall's handler again, with the file its wait holds."""
        files = task.files
        files.held = task.held
        self.current = task
        try:
            return entry.handler(task, *entry.decode(raw))
        finally:
            files.held = None

    def restore_sigmask(self, task):
        """A wait with its own signal mask is over: the thread's own comes back."""
        mask, task.saved_sigmask = task.saved_sigmask, None
        task.step_handler = None
        if mask is None:
            return                  # (put back already)
        try:
            self.platform.set_sigmask(task.thread, mask)
        except ThreadGone:
            pass

    def masked_wait_signal(self, task, sig):
        """A signal stop of a thread whose wait had its own signal mask (pselect6, ppoll).

        Linux runs the handler of the signal that ended such a wait under the
        wait's mask, and saves the thread's own in the handler's frame for
        rt_sigreturn to put back (and blocked again now, the signal would only
        be queued again). So the wait's mask stays while the thread steps into
        the handler; on its first instruction we write the thread's own mask
        into the frame. With no handler the syscall restarts, and its seccomp
        stop puts the thread's own mask back.
        """
        platform = self.platform
        restored = 0            # the thread's own mask, if put back before the signal goes on
        try:
            info = platform.siginfo(task.thread)
            if task.step_handler is not None:
                task.step_handler = None
                if sig == signal.SIGTRAP and I32.unpack_from(info, 8)[0] == signal.SIGTRAP:
                    # si_code SIGTRAP: the kernel's report of stepping into the handler
                    rsp = platform.get_regs(task.thread).rsp
                    task.mem.write(rsp + RT_SIGFRAME_SIGMASK, U64.pack(task.saved_sigmask))
                    task.saved_sigmask = None
                    return platform.resume_and_wait(task.thread)
                restored = task.saved_sigmask
                self.restore_sigmask(task)      # another signal came first: the own mask now
        except (SyscallError, ThreadGone):
            restored = task.saved_sigmask
            self.restore_sigmask(task)
            self.delivered(task.process, sig, restored)
            return platform.resume_and_wait(task.thread, sig=sig)
        if self.tracer:
            self.tracer.signal(task, info)
        handler = self.delivered(task.process, sig, restored)
        if task.saved_sigmask is None or handler in (SIG_DFL, SIG_IGN):
            return platform.resume_and_wait(task.thread, sig=sig)
        task.step_handler = handler
        return platform.deliver_and_stop_in_handler(task.thread, sig)

    @staticmethod
    def delivered(proc, sig, blocked=0):
        """sig goes on from its signal-delivery stop: the handler the host runs for it
        (the copy's). Running one installed with SA_RESETHAND makes the disposition
        SIG_DFL, in the host and so in the copy; a signal `blocked` by a mask put back
        meanwhile is queued again instead, and changes nothing."""
        handler = proc.sig_handlers.get(sig, SIG_DFL)
        if sig in proc.sig_resethand and handler not in (SIG_DFL, SIG_IGN) and not blocked >> (sig - 1) & 1:
            proc.sig_handlers[sig] = SIG_DFL
            proc.sig_resethand.discard(sig)
        return handler

    def dequeue_signal(self, task, mask):
        """Take one pending signal of `mask` from a thread, its own before its process's,
        as signalfd_dequeue does: the host's rt_sigtimedwait with a zero timeout, run in
        the thread. Returns the raw siginfo_t (128 bytes), or None if none is pending."""
        with self.platform.inject(task.thread) as inj:
            base = inj.scratch()
            ours = self.platform.stash(task.thread, U64.pack(mask) + bytes(16))    # the set, a zero timespec
            r = inj.syscall(SYS_rt_sigtimedwait, ours, base, ours + 8, 8)
            if r == -errno.EAGAIN:
                return None
            if r < 0:
                raise SyscallError(-r)
            return task.mem.read(base, SIGINFO_SIZE)

    def takes_signal(self, task):
        """A wait that signals end (a signalfd's, WouldBlock.signals) was interrupted: the
        mask it waits under comes back, so none of them is delivered. Is one of its
        signals pending, for the syscall to take as Linux's signalfd_dequeue does
        before it looks for others?"""
        signals, wait_mask = task.wait_signals
        task.wait_signals = None
        try:
            if wait_mask is None:
                self.restore_sigmask(task)
            else:
                self.platform.set_sigmask(task.thread, wait_mask)
            return bool(self.platform.pending_signals(task.thread) & signals)
        except ThreadGone:
            return False

    def describe(self):
        """The model's threads as a developer reads them when the program seems to hang
        (SIGUSR1 to the supervisor logs it, sandbox.py): each thread's parked syscall
        with its raw arguments, what it waits on, and the timers."""
        lines = [f"{len(self.tasks)} threads, {len(self.timers.heap)} timers, "
                 f"{len(self.parked_until)} parked"]
        now = time.monotonic()
        for tid, task in sorted(self.tasks.items()):
            head = f"pid {task.process.pid} tid {tid} {task.comm.decode(errors='replace')!r}"
            thread = task.thread
            if thread.parked_regs is None:
                lines.append(f"{head}: not parked (state {thread.state})")
                continue
            nr, raw = self.platform.parked_syscall(thread)
            name = self.table[nr].name if 0 <= nr < len(self.table) else str(nr)
            until = self.parked_until.get(task)
            lines.append(
                f"{head}: parked in {name}({', '.join(hex(a) for a in raw)}); "
                f"{len(task.waiting_on)} queues, {len(task.host_watches or ())} host watches, "
                f"back in {'-' if until is None else f'{until - now:.3f}'} s, "
                f"deadline {'-' if task.deadline is None else f'{task.deadline - now:.3f}'} s, "
                f"held {task.held[0] if task.held else '-'}, resume {type(task.resume).__name__}, "
                f"park word {self.platform.park_word(thread)}")
        return "\n".join(lines)

    def wake(self, task):
        """A queue `task` waits on was notified: end its park (it retries at the exit stop)."""
        self.stop_waiting(task)
        self.platform.wake(task.thread)

    def stop_waiting(self, task):
        for queue in task.waiting_on:
            queue.remove(task.wake_callback)
        task.waiting_on = ()
        if task.host_watches is not None:
            self.platform.unwatch_host(task.host_watches)
            task.host_watches = None

    def wait_ended(self, task, rval):
        """The host wait of a parked task returned: a signal, or a wake-up to retry the syscall."""
        platform = self.platform
        self.stop_waiting(task)
        self.parked_until.pop(task, None)
        if self.timers.heap:
            self.timers.run_due()
        nr, raw = platform.parked_syscall(task.thread)
        entry = self.table[nr]
        if rval in INTERRUPTED and task.wait_signals is not None and self.takes_signal(task):
            rval = 0            # a signal the syscall takes itself: retry it
        if rval in INTERRUPTED:
            # a signal: the original syscall goes back with its restart code and
            # the host's signal delivery restarts it or makes it EINTR; one that
            # already moved data returns that count, as Linux's do
            task.deadline = task.resume = None
            result = task.progress or -task.restart
            task.progress = 0
            self.release_held(task)
            platform.unpark(task.thread, result)
            self.timer_waker()
            if self.tracer:
                self.tracer.syscall(task, entry, raw, result)
            return platform.resume_and_wait(task.thread)
        try:
            result = self.retry(task, entry, raw)
        except SyscallError as e:
            result = -e.errno
        except WouldBlock as wait:
            return self.block(task, wait)
        except ThreadGone:
            return platform.wait()
        except Exception:
            if self.options.strict:
                raise
            log.error("handler %s crashed:\n%s", entry.name, traceback.format_exc())
            result = -errno.EIO
        if result.__class__ is not int:
            log.error("handler %s asked to pass a syscall through after it had blocked", entry.name)
            result = -errno.EIO
        task.deadline = task.resume = None
        self.release_held(task)
        if task.saved_sigmask is not None:
            self.restore_sigmask(task)
        platform.unpark(task.thread, result)
        self.timer_waker()
        if self.tracer:
            self.tracer.syscall(task, entry, raw, result)
        return platform.resume_and_wait(task.thread)

    def log_signal(self, task, sig):
        """For developers (--debug logging): where a signal hit, and the address space."""
        regs = self.platform.get_regs(task.thread)
        with open(f"/proc/{task.tid}/maps") as f:
            maps = f.read()
        log.debug("pid %d: signal %d at rip %#x rsp %#x\n%s", task.tid, sig, regs.rip, regs.rsp, maps)

    def stray(self, stop):
        """A stop of a thread we have no model of yet: a new child ahead of its parent's event."""
        if stop.kind == STOP_DEAD:
            return self.platform.wait()
        self.orphan_stops.add(stop.pid)
        return self.platform.wait()

    def event(self, task, stop):
        platform = self.platform
        ev = stop.event
        if ev == EVENT_EXEC:
            return self.exec_event(task, stop)
        if ev in (EVENT_FORK, EVENT_VFORK, EVENT_CLONE):
            child = int(stop.msg)
            try:
                self.new_child(task, child, ev)
            except OSError as e:        # no park word left for it (see _check_nproc)
                log.error("pid %d: cannot model new task %d (%s): killed", task.process.pid, child, e)
                os.kill(child, signal.SIGKILL)
            if child in self.orphan_stops:
                self.orphan_stops.discard(child)
                if child in self.tasks and self.tasks[child].clone_args is not None:
                    self.first_stop(self.tasks[child])
                platform.resume(child)
        # a syscall whose return we asked to see (strace of clone) still returns after the event
        return platform.resume_and_wait(task.thread, exit_stop=task.on_exit is not None)

    def first_stop(self, task):
        """A new child's first stop: if its parent's clone ran with our copies of
        its arguments, the child gets the parent's own registers back, as the
        syscall ABI keeps them (only rax differs)."""
        saved, task.clone_args = task.clone_args, None
        try:
            self.platform.set_args(task.thread, saved)
        except ThreadGone:
            pass

    def new_child(self, parent, tid, ev):
        flags = parent.clone_flags or 0
        parent.clone_flags = None
        saved = parent.on_exit[4] if parent.on_exit is not None else None
        pproc = parent.process
        if ev == EVENT_CLONE and flags & CLONE_THREAD:
            child = self.add_task(tid, pproc)
            child.comm, child.clone_args = parent.comm, saved
            if self.tracer:
                self.tracer.spawned(parent, child, True)
            return
        files = pproc.files.share() if flags & CLONE_FILES else pproc.files.copy()
        fs = pproc.fs if flags & CLONE_FS else pproc.fs.copy()
        proc = Process(tid, files, fs, pproc.creds.copy(), {k: list(v) for k, v in pproc.rlimits.items()},
                       parent=pproc)
        proc.kernel = self
        proc.mm = pproc.mm if flags & CLONE_VM else pproc.mm.copy()    # (vfork shares the break too)
        proc.dumpable = pproc.dumpable
        proc.run_image(pproc.exe, pproc.exe_key)
        proc.argv = pproc.argv
        proc.envp = pproc.envp
        proc.sig_handlers = dict(pproc.sig_handlers)
        proc.sig_resethand = set(pproc.sig_resethand)
        child = self.add_task(tid, proc)
        child.comm, child.clone_args = parent.comm, saved
        self.processes[tid] = proc
        ipc.process_forked(self, pproc, proc, flags)
        if self.tracer:
            self.tracer.spawned(parent, child, False)

    def exec_took_leader(self, leader, former):
        """A thread other than the leader exec'ed: Linux gave it the leader's tid (and
        the old leader died unreported). Our model of it moves there too."""
        proc = leader.process
        self.stop_waiting(leader)
        self.parked_until.pop(leader, None)
        self.release_held(leader)
        self.platform.thread_gone(leader.thread)
        task = self.tasks.pop(former)
        proc.tasks.pop(former, None)
        self.platform.retid(task.thread, leader.tid)
        task.tid = leader.tid
        task.mem = task.thread.mem
        self.tasks[task.tid] = task
        proc.tasks[task.tid] = task
        return task

    def task_died(self, tid, status):
        task = self.tasks.pop(tid, None)
        if task is None:
            return
        self.stop_waiting(task)
        if self.parked_until.pop(task, None) is not None:
            self.timer_waker()
        self.release_held(task)
        for f in task.ring_fds or ():       # (io_uring_unreg_ringfd at its exit)
            if f is not None:
                f.put()
        self.platform.thread_gone(task.thread)
        if task.pending_exec is not None:       # killed between execve and its new image
            loader.release(task.pending_exec)
            task.pending_exec = None
        proc = task.process
        proc.tasks.pop(tid, None)
        if tid == proc.pid:
            proc.exit_status = status
            proc.exit_comm = task.comm
            self.gone_ruids[tid] = proc.creds.ruid
            if len(self.gone_ruids) > GONE_KEPT:
                del self.gone_ruids[next(iter(self.gone_ruids))]
            if self.tracer:
                self.tracer.exited(task, status)
        if not proc.tasks:
            self.processes.pop(proc.pid, None)
            proc.run_image(None, None)          # exit_mm
            self.reparent_children(proc)
            proc.files.put()                    # closes its fds unless another process shares them
            proc.files = fdtable.FdTable()      # a zombie has none (exit_files)
            ipc.process_exited(self, proc)
            proc.exited.notify()
            if self.platform.is_zombie(proc.pid):
                self.became_zombie(proc)
            if proc.pid == self.main_pid:
                self.main_status = proc.exit_status if proc.exit_status is not None else status

    def reparent_children(self, proc):
        """proc is gone: its children are the init's, as the host's are the supervisor's."""
        for p in self.processes.values():
            if p.parent is proc:
                p.parent = self.init
        for p in self.zombies.values():
            if p.parent is proc:
                p.parent = self.init

    def became_zombie(self, proc):
        """proc is dead, but its parent has yet to wait for it: /proc still shows it,
        as Linux shows a zombie (no command line, executable or open files)."""
        proc.argv = []
        self.zombies[proc.pid] = proc
        if len(self.zombies) > self.zombies_checked:
            self.visible_processes()        # forget those reaped meanwhile

    def exec_event(self, task, stop):
        """The stub is running in a fresh address space: build the pending image in it."""
        platform = self.platform
        former = int(stop.msg)
        if former != task.tid and former in self.tasks:
            task = self.exec_took_leader(task, former)
        image = task.pending_exec
        task.pending_exec = None
        task.on_exit = None
        proc = task.process
        try:
            platform.prepare_image(task.thread)
            if image is None:
                raise SyscallError(errno.EPERM, "an exec we did not ask for")
            # dumpable again, unless it was running set-id or the exec gained privilege
            old, proc.creds = proc.creds, image.creds
            proc.dumpable = int(old.euid == old.ruid and old.egid == old.rgid
                                and not image.creds.undumpable_after(old))
            brk = loader.build(platform, task, image)
        except ThreadGone:
            log.debug("thread %d vanished during exec", task.tid, exc_info=True)
            if image is not None:
                loader.release(image)
            return platform.wait()
        except Exception:
            if image is not None:
                loader.release(image)
            # past the point of no return: the process cannot go on, as in Linux
            log.error("exec of %r failed:\n%s", image and image.argv[:1], traceback.format_exc())
            if self.options.strict and not isinstance(sys.exc_info()[1], SyscallError):
                raise
            os.kill(task.tid, signal.SIGKILL)
            return platform.resume_and_wait(task.thread)
        proc.mm = MemoryLayout()            # a new address space: a vfork parent keeps its own
        proc.mm.brk_start = proc.mm.brk = brk
        proc.run_image(image.dentry, image.elf.file.run_key)
        proc.envp = image.envp
        task.comm = image.comm[:15]
        proc.argv = image.argv
        for hook in self.exec_hooks:
            hook(task)
        proc.files = proc.files.unshare()   # the fds of a CLONE_FILES parent stay its own
        proc.files.close_on_exec()
        proc.sig_handlers = {s: h for s, h in proc.sig_handlers.items() if h == 1}
        proc.sig_resethand = set()          # (exec clears every sa_flags)
        ipc.process_execed(self, proc)
        loader.release(image)
        if self.tracer:
            self.tracer.exec_done(task, image)
        return platform.complete_and_wait(task.thread, 0)
