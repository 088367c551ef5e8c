"""epoll with real programs: the host's python3 through selectors.EpollSelector,
select.epoll and asyncio, natively and under `pylinuxabi run --strict`, must
print the same. The syscall-level rules are tests/programs/ipc_epoll.c's
(tests/test_programs.py runs it).
"""
import os
import subprocess
import sys
import time

import pytest

from conftest import REPO_ROOT, sandbox_command

pytestmark = pytest.mark.timeout(120)

# Debian's python3 if the machine has one, else the interpreter running us
PYTHON3 = "/usr/bin/python3" if os.access("/usr/bin/python3", os.X_OK) else sys.executable

SELECTORS_WITH_PIPES_AND_A_CHILD = r'''
import os, select, selectors, subprocess, sys
sel = selectors.EpollSelector()
r, w = os.pipe()
sel.register(r, selectors.EVENT_READ, "pipe")
print("nothing:", sel.select(0))
os.write(w, b"abc")
print("ready:", [(k.data, ev) for k, ev in sel.select(0)])
child = subprocess.Popen([sys.executable, "-c",
                          "import sys, time; time.sleep(0.2); print('child says hi', flush=True); time.sleep(0.1)"],
                         stdout=subprocess.PIPE)
sel.register(child.stdout, selectors.EVENT_READ, "child")
got = []
while True:
    events = sel.select(5)
    if not events:
        print("timeout")
        break
    eof = False
    for key, _ in events:
        if key.data == "pipe":
            print("pipe:", os.read(r, 10))
            sel.unregister(r)
        else:
            data = os.read(key.fd, 100)
            got.append(data)
            eof = eof or not data
            if not data:
                sel.unregister(key.fd)
    if eof:
        break
print("child output:", b"".join(got), "status", child.wait())
ep = select.epoll()
ep.register(w, select.EPOLLOUT | select.EPOLLET)
print("ET:", ep.poll(0), ep.poll(0))
ep.modify(w, select.EPOLLOUT | select.EPOLLONESHOT)
print("one-shot:", ep.poll(0), ep.poll(0))
inner = select.epoll()
inner.register(r, select.EPOLLIN)
ep.register(inner.fileno(), select.EPOLLIN)
os.write(w, b"z")
print("nested:", [(fd == inner.fileno(), ev) for fd, ev in ep.poll(1)], inner.poll(0) == [(r, select.EPOLLIN)])
for what, fd in (("twice", w), ("regular file", os.open("/etc/passwd", os.O_RDONLY))):
    try:
        ep.register(fd, select.EPOLLIN)
    except OSError as e:
        print(what, os.strerror(e.errno))
print("fd:", os.readlink(f"/proc/self/fd/{ep.fileno()}"))
'''

ASYNCIO_SUBPROCESS = r'''
import asyncio, sys
async def main():
    p = await asyncio.create_subprocess_exec(
        sys.executable, "-c", "import sys; print(sys.stdin.read().upper()); print('to stderr', file=sys.stderr)",
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await p.communicate(b"hello from asyncio")
    print(out, err, p.returncode)
    print(await asyncio.gather(*(asyncio.sleep(0.05 * (3 - i), result=i) for i in range(3))))
asyncio.run(main())
'''

# The same program, with the event loop's self-pipe (a socketpair) made of a pipe
# instead, so that it needs only epoll and pipes.
PIPE_FOR_SELF_PIPE = r'''
import os, socket
class End:
    def __init__(self, fd): self.fd = fd
    def fileno(self): return self.fd
    def setblocking(self, flag): os.set_blocking(self.fd, flag)
    def recv(self, n): return os.read(self.fd, n)
    def send(self, data): return os.write(self.fd, data)
    def close(self): os.close(self.fd)
def socketpair(*args):
    r, w = os.pipe()
    return End(r), End(w)
socket.socketpair = socketpair
'''

STDIN_WAIT = r'''
import os, select, time
ep = select.epoll()
ep.register(0, select.EPOLLIN)
print("before:", ep.poll(0), flush=True)
t0 = time.monotonic()
print("waited for the line:", ep.poll(5), time.monotonic() - t0 > 0.2)
print("line:", os.read(0, 100))
print("nothing more yet:", ep.poll(0))
'''

STDIN_EOF = r'''
import os, select
ep = select.epoll()
ep.register(0, select.EPOLLIN)
print("before:", ep.poll(0), flush=True)
print("line:", ep.poll(5), os.read(0, 100))
print("end of file:", ep.poll(5), os.read(0, 100))
'''

FILES_WITH_A_POLL_OPERATION = r'''
import os, select
ep = select.epoll()
for path in ("/proc/stat", "/proc/version", "/proc/self/mounts", "/dev/random",
             "/sys/kernel/mm/transparent_hugepage/enabled", "/proc/sys/kernel/ostype",
             "/proc/self/status", "/dev/urandom"):
    try:
        ep.register(os.open(path, os.O_RDONLY), select.EPOLLIN)
        print(path, "taken")
    except OSError as e:
        print(path, os.strerror(e.errno))
'''


def run_both(code, run_native, run_sandboxed, assert_same_behaviour):
    argv = [PYTHON3, "-c", code]
    native = run_native(argv)
    assert native.returncode == 0, native.stderr
    sandboxed = run_sandboxed(argv)
    assert_same_behaviour(argv, native, sandboxed)
    return native


def test_selectors_epoll_with_pipes_a_child_and_nested_epolls(run_native, run_sandboxed,
                                                              assert_same_behaviour):
    native = run_both(SELECTORS_WITH_PIPES_AND_A_CHILD, run_native, run_sandboxed, assert_same_behaviour)
    assert "child says hi" in native.stdout


def test_asyncio_subprocess_with_pipes(run_native, run_sandboxed, assert_same_behaviour):
    run_both(ASYNCIO_SUBPROCESS, run_native, run_sandboxed, assert_same_behaviour)


def test_asyncio_subprocess_with_a_pipe_for_its_self_pipe(run_native, run_sandboxed,
                                                          assert_same_behaviour):
    native = run_both(PIPE_FOR_SELF_PIPE + ASYNCIO_SUBPROCESS, run_native, run_sandboxed,
                      assert_same_behaviour)
    assert "HELLO FROM ASYNCIO" in native.stdout


def _fed(argv, line, pause=0.3):
    """Run argv with a stdin pipe (a host-backed file under the sandbox): once the
    program has printed its first line (it is about to wait), `line` comes
    `pause` seconds later, and the pipe's end `pause` seconds after that."""
    src = str(REPO_ROOT / "src")
    env = dict(os.environ, LC_ALL="C",
               PYTHONPATH=os.pathsep.join(p for p in (src, os.environ.get("PYTHONPATH")) if p))
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            cwd="/", env=env)
    first = proc.stdout.readline()
    time.sleep(pause)
    proc.stdin.write(line)
    proc.stdin.flush()
    time.sleep(pause)
    proc.stdin.close()
    proc.stdin = None               # (communicate would flush it)
    out, err = proc.communicate(timeout=60)
    return proc.returncode, (first + out).decode(), err.decode()


def test_epoll_wait_on_host_backed_stdin_wakes_when_a_line_comes():
    argv = [PYTHON3, "-c", STDIN_WAIT]
    native = _fed(argv, b"hello\n")
    sandboxed = _fed(sandbox_command(argv), b"hello\n")
    assert native[0] == 0, native[2]
    assert "True" in native[1]
    assert sandboxed[:2] == native[:2], sandboxed[2]


def test_epoll_on_host_backed_stdin_at_its_end_is_a_hang_up():
    argv = [PYTHON3, "-c", STDIN_EOF]
    native = _fed(argv, b"hello\n")
    sandboxed = _fed(sandbox_command(argv), b"hello\n")
    assert native[0] == 0, native[2]
    assert sandboxed[:2] == native[:2], sandboxed[2]


def test_epoll_takes_proc_sys_and_random_files_that_have_a_poll_operation(run_native, run_sandboxed,
                                                                           assert_same_behaviour):
    run_both(FILES_WITH_A_POLL_OPERATION, run_native, run_sandboxed, assert_same_behaviour)
