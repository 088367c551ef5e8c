"""POSIX message queues (issue 11): tests/programs/ipc_mqueue.c and ordinary programs,
run natively in a fresh IPC namespace with an mqueue filesystem mounted on a fresh
directory (`unshare --ipc --mount`), and under `pylinuxabi run --strict`, whose
sandbox has an IPC namespace of its own with its mqueue at /dev/mqueue (as docker's).
"""
import ctypes.util
import os
import shutil
import tempfile

import pytest

from conftest import assert_same_behaviour, reachable, run_native, run_sandboxed

pytestmark = pytest.mark.timeout(180)

UNSHARE = shutil.which("unshare")
SETPRIV = shutil.which("setpriv")
PYTHON3 = shutil.which("python3", path="/usr/bin:/bin")
STAT = shutil.which("stat")
SANDBOX_MOUNT = "/dev/mqueue"
AS_USER = ["setpriv", "--reuid=1000", "--regid=1000", "--clear-groups"]


def native_with_mqueue(argv, user=False):
    """argv run natively in a fresh IPC namespace whose mqueue filesystem is mounted at
    a fresh directory, which stands for "{}" in argv (as a user under setpriv if asked)."""
    if UNSHARE is None or (user and SETPRIV is None):
        pytest.skip("unshare and setpriv (util-linux) are needed to run natively in a fresh IPC namespace")
    if os.geteuid() != 0:
        pytest.skip("mounting an mqueue filesystem natively needs root")
    where = tempfile.mkdtemp(prefix="pylinuxabi-mq-")
    try:
        os.chmod(where, 0o755)
        args = [str(a).replace("{}", where) for a in argv]
        script = 'mount -t mqueue none "$1" || exit 99; shift; exec "$@"'
        r = run_native([UNSHARE, "--ipc", "--mount", "sh", "-c", script, "sh", where,
                        *(AS_USER if user else []), *args])
    finally:
        os.rmdir(where)
    if r.returncode == 99 or "unshare failed" in r.stderr:
        pytest.skip(f"cannot make an IPC namespace with an mqueue mount here: {r.stderr.strip()}")
    return r


def sandboxed(argv, user=False):
    """argv under pylinuxabi, "{}" standing for /dev/mqueue (as --user 1000:1000 if asked)."""
    args = [str(a).replace("{}", SANDBOX_MOUNT) for a in argv]
    return run_sandboxed(["--user", "1000:1000", *args] if user else args)


@pytest.mark.parametrize("variant", ["dynamic", "static"])
def test_mqueue_program_behaves_as_natively_as_root(build, variant):
    binary = build("ipc_mqueue", variant)
    argv = [binary, "{}"]
    native = native_with_mqueue(argv)
    assert native.returncode == 0, native.stderr
    assert "SI_MESGQ -3) value 4242 from-child 1" in native.stdout
    assert_same_behaviour(argv, native, sandboxed(argv))


def test_mqueue_program_behaves_as_natively_as_a_user(build):
    binary = reachable(build("ipc_mqueue"))
    argv = [binary, "{}"]
    native = native_with_mqueue(argv, user=True)
    assert native.returncode == 0, native.stderr
    assert '"/m4", O_WRONLY = -1 EACCES' in native.stdout
    assert_same_behaviour(argv, native, sandboxed(argv, user=True))


# an ordinary program: a consumer process blocked in mq_receive, a producer sending to
# it, priorities, then the queue as ls and cat see it
PRODUCER_CONSUMER = r'''
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
where = sys.argv[1]

class Attr(ctypes.Structure):
    _fields_ = [("flags", ctypes.c_long), ("maxmsg", ctypes.c_long), ("msgsize", ctypes.c_long),
                ("curmsgs", ctypes.c_long), ("reserved", ctypes.c_long * 4)]

attr = Attr(0, 4, 64, 0)
q = libc.mq_open(b"/jobs", os.O_CREAT | os.O_RDWR, 0o640, ctypes.byref(attr))
assert q >= 0, os.strerror(ctypes.get_errno())
consumer = os.fork()
if consumer == 0:
    c = libc.mq_open(b"/jobs", os.O_RDONLY)
    buf = ctypes.create_string_buffer(64)
    prio = ctypes.c_uint()
    got = []
    while not got or got[-1][0] != "stop":      # sent last with the lowest priority: taken last
        n = libc.mq_receive(c, buf, 64, ctypes.byref(prio))
        got.append((buf.raw[:n].decode(), prio.value))
    print("consumer got", sorted(got), flush=True)
    os._exit(0)
for i in range(10):                      # more than the queue holds: the producer blocks too
    assert libc.mq_send(q, b"job %d" % i, 5, i % 3) == 0
assert libc.mq_send(q, b"stop", 4, 0) == 0
os.waitpid(consumer, 0)
for i, prio in enumerate((1, 7, 3)):
    libc.mq_send(q, b"left %d" % i, 6, prio)
sys.stdout.flush()
os.system(f"cd {where} && stat -c '%A %h %s %n' jobs && cat jobs && ls {where}")
buf = ctypes.create_string_buffer(64)
prio = ctypes.c_uint()
for _ in range(3):
    n = libc.mq_receive(q, buf, 64, ctypes.byref(prio))
    print("left over", buf.raw[:n].decode(), "prio", prio.value, flush=True)
print("unlink", libc.mq_unlink(b"/jobs"))
os.system(f"ls -a {where}")
'''


def test_a_producer_and_a_consumer_process_as_natively():
    if PYTHON3 is None or STAT is None:
        pytest.skip("python3 and stat are needed")
    argv = [PYTHON3, "-c", PRODUCER_CONSUMER, "{}"]
    native = native_with_mqueue(argv)
    assert native.returncode == 0, native.stderr
    assert "('stop', 0)]" in native.stdout and "QSIZE:18" in native.stdout
    assert_same_behaviour(argv, native, sandboxed(argv))


SIGEV_THREAD = r'''
import ctypes, os, threading
libc = ctypes.CDLL(None, use_errno=True)

class SigEvent(ctypes.Structure):
    _fields_ = [("value", ctypes.c_void_p), ("signo", ctypes.c_int), ("notify", ctypes.c_int),
                ("function", ctypes.c_void_p), ("attributes", ctypes.c_void_p), ("pad", ctypes.c_byte * 32)]

done = threading.Event()
CALLBACK = ctypes.CFUNCTYPE(None, ctypes.c_void_p)
callback = CALLBACK(lambda value: done.set())
q = libc.mq_open(b"/threaded", os.O_CREAT | os.O_RDWR, 0o600, None)
ev = SigEvent(None, 0, 2, ctypes.cast(callback, ctypes.c_void_p).value, None)   # SIGEV_THREAD
if libc.mq_notify(q, ctypes.byref(ev)) != 0:
    print("mq_notify:", os.strerror(ctypes.get_errno()))
else:
    libc.mq_send(q, b"x", 1, 0)
    print("notified" if done.wait(10) else "never notified")
libc.mq_unlink(b"/threaded")
'''


def test_SIGEV_THREAD_runs_the_function_in_a_thread():
    """glibc's SIGEV_THREAD listens on a NETLINK_ROUTE socket, to which the kernel sends
    the registration's cookie when the message comes; its helper thread then runs the
    function."""
    if PYTHON3 is None:
        pytest.skip("python3 is needed")
    argv = [PYTHON3, "-c", SIGEV_THREAD]
    native = native_with_mqueue(argv)
    assert native.stdout == "notified\n", native.stderr
    ours = sandboxed(argv)
    assert ours.returncode == 0, ours.stderr
    assert ours.stdout == native.stdout


def test_dev_mqueue_is_mounted_as_docker_mounts_it():
    r = sandboxed(["/bin/grep", " /dev/mqueue ", "/proc/self/mountinfo"])
    assert r.returncode == 0, r.stderr
    fields = r.stdout.split()
    assert fields[3:6] == ["/", "/dev/mqueue", "rw,nosuid,nodev,noexec,relatime"]
    assert fields[-3:] == ["mqueue", "mqueue", "rw"]


HOST_LOOKUP = r'''
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
q = libc.mq_open(sys.argv[1].encode(), os.O_RDONLY)
print("found" if q >= 0 else os.strerror(ctypes.get_errno()))
'''


def test_a_sandbox_queue_reaches_neither_the_host_nor_another_sandbox():
    """Judged from the host: a queue a sandbox leaves behind is in no host namespace."""
    if PYTHON3 is None:
        pytest.skip("python3 is needed")
    name = f"/pylinuxabi-isolation-{os.getpid()}"
    make = ("import ctypes, os, sys; libc = ctypes.CDLL(None); "
            "print(libc.mq_open(sys.argv[1].encode(), os.O_CREAT | os.O_RDWR, 0o600, None) >= 0)")
    made = sandboxed([PYTHON3, "-c", make, name])
    assert made.stdout == "True\n", made.stderr
    host = run_native([PYTHON3, "-c", HOST_LOOKUP, name])
    try:
        assert host.stdout == f"{os.strerror(2)}\n"           # ENOENT
    finally:
        if host.stdout == "found\n":
            ctypes.CDLL(ctypes.util.find_library("c")).mq_unlink(name.encode())
    again = sandboxed([PYTHON3, "-c", HOST_LOOKUP, name])
    assert again.stdout == f"{os.strerror(2)}\n"
