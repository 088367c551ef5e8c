"""The event loop's contract with handlers, on a fake platform: results,
SyscallError, handler crashes (EIO, or fatal under --strict), ENOSYS counts."""
import errno

import pytest

from pylinuxabi.platform import STOP_DEAD, STOP_SECCOMP, STOP_SIGNAL
from pylinuxabi.base.creds import Creds
from pylinuxabi.base.errors import SyscallError
from pylinuxabi.kernel.kernel import Kernel
from pylinuxabi.kernel.task import FsContext, Process
from pylinuxabi.platform import AT_SECCOMP
from pylinuxabi.syscalls.table import Syscall, Table


class FakeStop:
    def __init__(self, pid, kind, nr=0, args=(0,) * 6, status=0):
        self.pid, self.kind, self.nr, self.args, self.status = pid, kind, nr, list(args), status
        self.sig = self.event = self.rval = self.msg = 0


class FakeThread:
    def __init__(self, tid):
        self.tid, self.state, self.mem = tid, AT_SECCOMP, None


class FakePlatform:
    """Replays a script of stops and records how each syscall was answered."""

    def __init__(self, stops):
        self.stops = list(stops)
        self.answers = []

    def new_thread(self, tid):
        return FakeThread(tid)

    def thread_gone(self, thread):
        pass

    @staticmethod
    def is_zombie(pid):
        return False

    def wait(self):
        return self.stops.pop(0)

    def complete_and_wait(self, thread, result):
        self.answers.append(result)
        return self.wait()

    def resume_and_wait(self, thread, sig=0, exit_stop=False):
        self.answers.append("resumed")
        return self.wait()


class Options:
    strict = False


def make_kernel(handlers, stops, strict=False):
    counts = {}
    table = Table(counts)
    for nr, (name, fn) in enumerate(handlers):
        table.append(Syscall(nr, name, "emulated", fn, "u"))
    table.append(Syscall(len(handlers), "missing", "unimplemented", table._enosys("missing")))
    platform = FakePlatform(stops)
    options = Options()
    options.strict = strict
    kernel = Kernel(platform, table, None, options)
    proc = Process.first(2, FsContext(None, None), Creds())
    proc.kernel = kernel
    kernel.processes[2] = proc
    kernel.main_pid = 2
    kernel.add_task(2, proc)
    return kernel, platform, counts


def _died(status):
    return FakeStop(2, STOP_DEAD, status=status)


def test_handler_result_is_the_syscall_result():
    kernel, platform, _ = make_kernel([("answer", lambda task, a: a + 1)], [_died(0)])
    status = kernel.run(FakeStop(2, STOP_SECCOMP, nr=0, args=(41, 0, 0, 0, 0, 0)))
    assert platform.answers == [42]
    assert status == 0


def test_SyscallError_becomes_minus_errno():
    def fail(task, a):
        raise SyscallError(errno.EBADF)
    kernel, platform, _ = make_kernel([("fail", fail)], [_died(0)])
    kernel.run(FakeStop(2, STOP_SECCOMP, nr=0))
    assert platform.answers == [-errno.EBADF]


def test_a_crashing_handler_gives_the_program_EIO_and_the_loop_goes_on(caplog):
    def buggy(task, a):
        return {}["missing"]
    stops = [FakeStop(2, STOP_SECCOMP, nr=0), _died(3 << 8)]
    kernel, platform, _ = make_kernel([("buggy", buggy)], stops)
    status = kernel.run(FakeStop(2, STOP_SECCOMP, nr=0))
    assert platform.answers == [-errno.EIO, -errno.EIO]
    assert status == 3 << 8
    assert "KeyError" in caplog.text and "buggy" in caplog.text


def test_a_crashing_handler_is_fatal_under_strict():
    def buggy(task, a):
        raise RuntimeError("bug")
    kernel, _, _ = make_kernel([("buggy", buggy)], [_died(0)], strict=True)
    with pytest.raises(RuntimeError):
        kernel.run(FakeStop(2, STOP_SECCOMP, nr=0))


def test_unimplemented_syscalls_are_ENOSYS_and_counted():
    stops = [FakeStop(2, STOP_SECCOMP, nr=1), FakeStop(2, STOP_SECCOMP, nr=999), _died(0)]
    kernel, platform, counts = make_kernel([("x", lambda task, a: 0)], stops)
    kernel.run(FakeStop(2, STOP_SECCOMP, nr=1))
    assert platform.answers == [-errno.ENOSYS] * 3
    assert counts == {"missing": 2, "syscall_0x3e7": 1}


# -- the copy of the dispositions follows SA_RESETHAND (Kernel.delivered) ------------
SIGURG, HANDLER = 23, 0x401000


class SignalPlatform(FakePlatform):
    """Also answers what a signal stop of a thread in a masked wait asks."""

    def siginfo(self, thread):
        return bytes(128)

    def set_sigmask(self, thread, mask):
        pass

    def deliver_and_stop_in_handler(self, thread, sig):
        self.answers.append(("stepped into handler", sig))
        return self.wait()


def _signal_stop(sig):
    stop = FakeStop(2, STOP_SIGNAL)
    stop.sig = sig
    return stop


def _with_handler(flags_resethand, masked_wait=False):
    kernel, _, _ = make_kernel([], [_died(0)])
    platform = kernel.platform = SignalPlatform([_died(0)])
    proc = kernel.processes[2]
    proc.sig_handlers[SIGURG] = HANDLER
    if flags_resethand:
        proc.sig_resethand.add(SIGURG)
    if masked_wait:
        kernel.tasks[2].saved_sigmask = 0
    return kernel, platform, proc


def test_a_SA_RESETHAND_handler_is_SIG_DFL_in_the_copy_once_delivered():
    kernel, platform, proc = _with_handler(True)
    kernel.run(_signal_stop(SIGURG))
    assert platform.answers == ["resumed"]
    assert proc.sig_handlers[SIGURG] == 0 and not proc.sig_resethand


def test_a_handler_without_SA_RESETHAND_stays_in_the_copy():
    kernel, platform, proc = _with_handler(False)
    kernel.run(_signal_stop(SIGURG))
    assert proc.sig_handlers[SIGURG] == HANDLER


def test_a_SA_RESETHAND_handler_ending_a_masked_wait_runs_once_then_is_SIG_DFL():
    """The copy decides how a signal ending a masked wait (ppoll, pselect6) goes on:
    stepped into its handler, or let go plainly when there is none (any more)."""
    kernel, platform, proc = _with_handler(True, masked_wait=True)
    kernel.run(_signal_stop(SIGURG))
    assert platform.answers == [("stepped into handler", SIGURG)]
    assert proc.sig_handlers[SIGURG] == 0
    kernel.platform = platform = SignalPlatform([_died(0)])
    kernel.tasks[2] = kernel.add_task(2, proc)
    kernel.tasks[2].saved_sigmask = 0
    kernel.main_status = None
    kernel.run(_signal_stop(SIGURG))
    assert platform.answers == ["resumed"]
