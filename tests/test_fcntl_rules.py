"""fcntl(2)'s Linux rules of issue 11 defect 5: the file owner (F_SETOWN, F_SETOWN_EX,
F_SETSIG), leases and their breaking (F_SETLEASE, F_GETLEASE), dnotify (F_NOTIFY)
and F_CREATED_QUERY.

tests/programs/fcntl_lease.c and fcntl_notify.c run natively and under pylinuxabi,
as root and as a user, in a directory of each kind of file system the program can
make files in; a Python program uses dnotify and a lease as programs do; the lease
break time is checked on the model itself (Linux's default is 45 s).
"""
import os
import shutil
import sys
import tempfile
import textwrap
from types import SimpleNamespace

import pytest
from conftest import reachable

from pylinuxabi.base.errors import SyscallError, WouldBlock
from pylinuxabi.vfs import leases
from pylinuxabi.vfs.file import OpenFile
from pylinuxabi.vfs.locks import F_RDLCK, F_UNLCK, F_WRLCK

needs_setpriv = pytest.mark.skipif(shutil.which("setpriv") is None, reason="setpriv (util-linux) missing")
pytestmark = pytest.mark.timeout(120)

AS_USER = ["setpriv", "--reuid=1000", "--regid=1000", "--clear-groups"]
# where the program makes its files under pylinuxabi: the sandbox's /tmp, the overlay's
# upper (a directory of the host's tree), a writable volume
PLACES = {"tmp": "/tmp", "overlay": "/var/tmp", "volume": "/vol"}


@pytest.fixture
def host_dir():
    # under /tmp itself: the user must reach it, and pytest's tmp_path is root's alone
    with tempfile.TemporaryDirectory(prefix="fcntl_rules.") as d:
        os.chmod(d, 0o777)
        yield d


def _compare(build, run_native, run_sandboxed, assert_same_behaviour, host_dir, place, program,
             args, as_user, expect):
    binary = reachable(build(program))
    prefix = AS_USER if as_user else []
    native = run_native([*prefix, binary, host_dir, *args])
    assert native.returncode == 0 and expect in native.stdout, native.stdout + native.stderr
    user = ["--user", "1000:1000"] if as_user else []
    argv = [*user, "-v", f"{host_dir}:/vol", binary, PLACES[place], *args]
    assert_same_behaviour(argv, native, run_sandboxed(argv))


@pytest.mark.parametrize("place", PLACES)
def test_owner_leases_and_lease_breaks_as_root(build, run_native, run_sandboxed, assert_same_behaviour,
                                               host_dir, place):
    _compare(build, run_native, run_sandboxed, assert_same_behaviour, host_dir, place, "fcntl_lease",
             ["/etc/passwd"], False, "  child: open: ok")


@needs_setpriv
@pytest.mark.parametrize("place", PLACES)
def test_owner_leases_and_lease_breaks_as_a_user(build, run_native, run_sandboxed, assert_same_behaviour,
                                                 host_dir, place):
    _compare(build, run_native, run_sandboxed, assert_same_behaviour, host_dir, place, "fcntl_lease",
             ["/etc/passwd"], True, "fcntl(o, F_SETLEASE, F_RDLCK) = -1 EACCES")


@pytest.mark.parametrize("place", PLACES)
def test_dnotify_signals_the_owner_as_root(build, run_native, run_sandboxed, assert_same_behaviour,
                                           host_dir, place):
    _compare(build, run_native, run_sandboxed, assert_same_behaviour, host_dir, place, "fcntl_notify",
             [], False, "rename f g: RT+1 x3")


@needs_setpriv
@pytest.mark.parametrize("place", PLACES)
def test_dnotify_signals_the_owner_as_a_user(build, run_native, run_sandboxed, assert_same_behaviour,
                                             host_dir, place):
    _compare(build, run_native, run_sandboxed, assert_same_behaviour, host_dir, place, "fcntl_notify",
             [], True, "create a (one-shot): SIGIO x1")


# -- an ordinary program: Python's fcntl module ---------------------------------------------
PYTHON_PROGRAM = textwrap.dedent('''
    import fcntl, os, signal, sys, time
    work = os.path.join(sys.argv[1], "py.%d" % os.getpid())
    os.mkdir(work)
    seen = []
    signal.signal(signal.SIGIO, lambda sig, frame: seen.append("SIGIO"))
    signal.signal(signal.SIGRTMIN + 4, lambda sig, frame: seen.append("SIGRTMIN+4"))

    d = os.open(work, os.O_RDONLY)
    fcntl.fcntl(d, fcntl.F_SETSIG, signal.SIGRTMIN + 4)
    fcntl.fcntl(d, fcntl.F_NOTIFY, fcntl.DN_CREATE | fcntl.DN_DELETE | fcntl.DN_MULTISHOT)
    for name in ("a", "b"):
        open(os.path.join(work, name), "w").close()
        os.unlink(os.path.join(work, name))
    print("dnotify:", seen)
    os.close(d)

    seen.clear()
    path = os.path.join(work, "leased")
    open(path, "w").close()
    fd = os.open(path, os.O_RDONLY)
    fcntl.fcntl(fd, fcntl.F_SETLEASE, fcntl.F_WRLCK)
    child = os.fork()
    if child == 0:
        os.close(fd)
        os.close(os.open(path, os.O_WRONLY))      # waits for the lease to go
        os._exit(0)
    while not seen:
        time.sleep(0.01)
    print("lease:", seen, "breaking to", fcntl.fcntl(fd, fcntl.F_GETLEASE))
    fcntl.fcntl(fd, fcntl.F_SETLEASE, fcntl.F_UNLCK)
    print("writer:", os.waitpid(child, 0)[1])
    os.close(fd)
    os.unlink(path)
    os.rmdir(work)
''')


def test_a_python_program_uses_dnotify_and_a_lease(run_native, run_sandboxed, assert_same_behaviour, host_dir):
    script = os.path.join(host_dir, "dnotify_lease.py")
    with open(script, "w") as f:
        f.write(PYTHON_PROGRAM)
    native = run_native([sys.executable, script, host_dir])
    assert native.returncode == 0 and "lease: ['SIGIO'] breaking to 2" in native.stdout, native.stderr
    argv = ["-v", f"{host_dir}:/vol", sys.executable, "/vol/dnotify_lease.py", "/tmp"]
    assert_same_behaviour(argv, native, run_sandboxed(argv))


# -- the lease break time, on the model ----------------------------------------------------
class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.fixture
def model(monkeypatch):
    """A file with one open file description and a clock we move (fs.lease-break-time 45)."""
    clock = Clock()
    monkeypatch.setattr(leases.time, "monotonic", clock)
    monkeypatch.setattr(leases, "_sysctl", lambda name, default: {"lease-break-time": 45}.get(name, 1))
    stat = SimpleNamespace(dev=1, ino=4242)
    inode = SimpleNamespace(stat=lambda: stat)
    holder = OpenFile(None, inode, os.O_RDONLY)
    calls = []
    yield SimpleNamespace(clock=clock, inode=inode, holder=holder, calls=calls,
                          notify=lambda: calls.append("signal"))
    leases._contexts.clear()


def test_a_read_opener_waits_until_the_break_time_then_the_write_lease_is_downgraded(model):
    leases.set_lease(model.inode, model.holder, F_WRLCK, (1, 0), model.notify)
    waker = object()
    with pytest.raises(WouldBlock) as wait:
        leases.break_lease(model.inode, os.O_RDONLY, waker)
    assert model.calls == ["signal"] and wait.value.recheck == pytest.approx(45)
    assert leases.get_lease(model.inode, model.holder) == F_RDLCK
    model.clock.now += 44
    with pytest.raises(WouldBlock):
        leases.break_lease(model.inode, os.O_RDONLY, waker)
    assert model.calls == ["signal"]        # one signal per break
    model.clock.now += 1
    leases.break_lease(model.inode, os.O_RDONLY, waker)
    assert leases.get_lease(model.inode, model.holder) == F_RDLCK
    leases.break_lease(model.inode, os.O_RDONLY, waker)     # a read lease lets readers in


def test_a_writer_waits_until_the_break_time_then_the_lease_is_gone(model):
    leases.set_lease(model.inode, model.holder, F_RDLCK, (1, 0), model.notify)
    with pytest.raises(SyscallError) as nonblock:
        leases.break_lease(model.inode, os.O_WRONLY | os.O_NONBLOCK, object())
    assert nonblock.value.errno == 11 and model.calls == ["signal"]
    model.clock.now += 45
    leases.break_lease(model.inode, os.O_WRONLY, object())
    assert leases.get_lease(model.inode, model.holder) == F_UNLCK
    assert not leases._contexts


def test_a_lease_break_time_of_0_waits_for_ever(model, monkeypatch):
    monkeypatch.setattr(leases, "_sysctl", lambda name, default: {"lease-break-time": 0}.get(name, 1))
    leases.set_lease(model.inode, model.holder, F_WRLCK, (1, 0), model.notify)
    with pytest.raises(WouldBlock) as wait:
        leases.break_lease(model.inode, os.O_WRONLY, object())
    assert wait.value.recheck is None
    model.clock.now += 10 ** 6
    assert leases.get_lease(model.inode, model.holder) == F_UNLCK     # (what it must go to)
    with pytest.raises(WouldBlock):
        leases.break_lease(model.inode, os.O_WRONLY, object())


def test_o_async_signals_the_owner(build, run_native, run_sandboxed, assert_same_behaviour):
    """O_ASYNC: SIGIO (or F_SETSIG's signal) for pipes, sockets and inotify, at
    kill_fasync's moments; nothing for files without a fasync operation."""
    binary = build("fcntl_async")
    native = run_native([binary])
    assert native.returncode == 0 and "after write: SIGIO 1" in native.stdout, native.stderr
    assert_same_behaviour([binary], native, run_sandboxed([binary]))
