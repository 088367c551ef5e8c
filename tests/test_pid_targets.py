"""Calls that take a pid name only the model's processes; pid 1 is the sandbox's init.

Scheduling and clock calls are decided by the model's credentials (the program's
host threads have no privilege of their own): tests/programs/proc_sched.c and
time_privileged.c run as natively; sec_pids.c shows the init and what the
supervisor never sees, judged also from the host.
"""
import os
import shutil
import subprocess
import sys
import time

import pytest

from conftest import REPO_ROOT, sandbox_command

pytestmark = pytest.mark.timeout(180)


def test_scheduling_calls_follow_linuxs_rules(build, run_native, run_sandboxed, assert_same_behaviour):
    """nice, policies, sched_attr, affinity, RLIMIT_NICE/RLIMIT_RTPRIO, limits past 2^63."""
    binary = build("proc_sched")
    native = run_native([binary])
    assert native.returncode == 0 and "EIO" not in native.stdout
    assert_same_behaviour([binary], native, run_sandboxed(["--cap-add", "SYS_NICE", binary]))


def test_realtime_classes_on_host_threads_need_cap_add_sys_nice():
    """A realtime thread can starve the whole host: root inside has CAP_SYS_NICE, yet
    only an explicit --cap-add SYS_NICE lets the supervisor give its host thread one."""
    chrt = shutil.which("chrt") or "/usr/bin/chrt"
    refused = _sandboxed(chrt, "-f", "1", "/bin/true")
    assert refused.returncode != 0 and "Operation not permitted" in refused.stderr
    assert _sandboxed("--cap-add", "SYS_NICE", chrt, "-f", "1", "/bin/true").returncode == 0
    assert _sandboxed(chrt, "-b", "0", "/bin/true").returncode == 0      # SCHED_BATCH needs nothing


@pytest.mark.skipif(shutil.which("capsh") is None, reason="capsh (libcap2-bin) missing")
def test_clock_is_not_settable_without_cap_add_sys_time(build, run_native, run_sandboxed, assert_same_behaviour):
    """Root inside has CAP_SYS_TIME, yet without --cap-add SYS_TIME every set is EPERM,
    as natively for a root without CAP_SYS_TIME; reads and EINVAL/EFAULT as Linux's."""
    binary = build("time_privileged")
    native = run_native(["capsh", "--drop=cap_sys_time", "--", "-c", str(binary)])
    assert native.returncode == 0
    assert_same_behaviour([binary], native, run_sandboxed([binary]))


def _sandboxed(*argv):
    src = str(REPO_ROOT / "src")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in (src, os.environ.get("PYTHONPATH")) if p))
    cmd = [sys.executable, "-m", "pylinuxabi", "run", "--strict", *map(str, argv)]
    return subprocess.run(cmd, capture_output=True, text=True, cwd="/", env=env, stdin=subprocess.DEVNULL,
                          timeout=120)


def test_cap_add_sys_time_lets_root_set_the_clock(build):
    """With --cap-add SYS_TIME the model's CAP_SYS_TIME is the host's (settimeofday(NULL,
    NULL) sets nothing); --cap-drop SYS_TIME takes it away again."""
    binary = build("time_privileged")
    assert _sandboxed("--cap-add", "SYS_TIME", binary, "noop").stdout == \
        "syscall(SYS_settimeofday, NULL, NULL) = 0\n"
    assert _sandboxed(binary, "noop").stdout == "syscall(SYS_settimeofday, NULL, NULL) = -1 EPERM\n"
    assert _sandboxed("--cap-add", "ALL", "--cap-drop", "SYS_TIME", binary, "noop").stdout == \
        "syscall(SYS_settimeofday, NULL, NULL) = -1 EPERM\n"


PID_1 = """\
-- pid 1 from root
kill(1, 0) = 0
kill(1, SIGTERM) = 0
kill(1, SIGKILL) = 0
kill(1, SIGSTOP) = 0
kill(1, 99) = -1 EINVAL
syscall(SYS_tkill, 1, SIGTERM) = 0
syscall(SYS_tgkill, 1, 1, SIGTERM) = 0
syscall(SYS_tgkill, getpid(), 1, SIGTERM) = -1 ESRCH
syscall(SYS_rt_sigqueueinfo, 1, SIGUSR1, &si) = 0
syscall(SYS_rt_sigqueueinfo, 1, SIGUSR1, &si) = -1 EPERM
syscall(SYS_rt_sigqueueinfo, 1, SIGUSR1, BADPTR) = -1 EFAULT
syscall(SYS_rt_tgsigqueueinfo, 1, 1, SIGUSR1, &si) = 0
pfd = ok
syscall(SYS_pidfd_send_signal, pfd, SIGTERM, NULL, 0) = 0
syscall(SYS_pidfd_send_signal, pfd, SIGKILL, NULL, 0) = 0
syscall(SYS_pidfd_send_signal, pfd, SIGUSR1, &si, 0) = -1 EPERM
syscall(SYS_pidfd_getfd, pfd, 0, 0) = -1 EBADF
dfd = ok
syscall(SYS_pidfd_send_signal, dfd, SIGTERM, NULL, 0) = 0
syscall(SYS_getpriority, PRIO_PROCESS, 1) = 20
syscall(SYS_setpriority, PRIO_PROCESS, 1, 7) = 0
syscall(SYS_getpriority, PRIO_PROCESS, 1) = 13
sched_getscheduler(1) = 0
sched_setscheduler(1, SCHED_BATCH, &sp) = 0
sched_getscheduler(1) = 3
sched_setaffinity(1, sizeof one, &one) = 0
sched_getaffinity(1, sizeof one, &one) = 0
CPU_COUNT(&one) = 1
syscall(SYS_prlimit64, 1, RLIMIT_NOFILE, NULL, &rl) = 0
syscall(SYS_prlimit64, 1, RLIMIT_NOFILE, &rl, NULL) = 0
syscall(SYS_prlimit64, 1, RLIMIT_NOFILE, NULL, &rl) = 0
rl.rlim_cur = 77
syscall(SYS_get_robust_list, 1, &head, &len) = 0
head = 0
len = 24
read(fd, buf, sizeof buf - 1) > 0 = 1
stat: 1 (pylinuxabi-init) S 0 0 
read(fd, buf, sizeof buf) = 0
read(fd, buf, sizeof buf) = 0
readlink("/proc/1/exe", buf, sizeof buf) = -1 ENOENT
-- a pid nobody has
kill(gone, 0) = -1 ESRCH
syscall(SYS_tkill, gone, 0) = -1 ESRCH
syscall(SYS_tgkill, gone, gone, 0) = -1 ESRCH
syscall(SYS_rt_sigqueueinfo, gone, 0, BADPTR) = -1 EFAULT
syscall(SYS_pidfd_open, gone, 0) = -1 ESRCH
getpgid(gone) = -1 ESRCH
getsid(gone) = -1 ESRCH
setpgid(gone, 0) = -1 ESRCH
syscall(SYS_getpriority, PRIO_PROCESS, gone) = -1 ESRCH
sched_getscheduler(gone) = -1 ESRCH
syscall(SYS_prlimit64, gone, RLIMIT_NOFILE, NULL, NULL) = -1 ESRCH
syscall(SYS_get_robust_list, gone, &head, &len) = -1 ESRCH
-- pid 1 from uid 1000
kill(1, 0) = -1 EPERM
kill(1, SIGTERM) = -1 EPERM
syscall(SYS_setpriority, PRIO_PROCESS, 1, 10) = -1 EPERM
sched_setscheduler(1, SCHED_OTHER, &sp) = -1 EPERM
sched_setaffinity(1, sizeof one, &one) = -1 EPERM
syscall(SYS_prlimit64, 1, RLIMIT_NOFILE, NULL, &rl) = -1 EPERM
syscall(SYS_get_robust_list, 1, &head, &len) = -1 EPERM
syscall(SYS_pidfd_send_signal, pfd, SIGTERM, NULL, 0) = -1 EPERM
WEXITSTATUS(st) = 0
-- orphan
getppid() = 1
stat ppid: 1
status PPid:\t1
"""


def test_pid_1_is_the_sandboxs_init(build, run_sandboxed):
    """Signals to it are allowed as Linux allows and discarded (SIGKILL too), its
    scheduling and limits are the model's, /proc/1 shows an init and nothing of the
    supervisor, a pid the model lacks is ESRCH, and an orphan's parent is pid 1."""
    r = run_sandboxed([build("sec_pids")])
    assert r.stdout == PID_1, r.stderr[-3000:]
    assert r.returncode == 0


def _supervisor_of(outer):
    """The host pid of the sandbox's real pid 1: the child of `pylinuxabi run` that is
    pid 1 in its own PID namespace."""
    for _ in range(200):
        try:
            with open(f"/proc/{outer}/task/{outer}/children") as f:
                for pid in f.read().split():
                    with open(f"/proc/{pid}/status") as st:
                        for line in st:
                            if line.startswith("NSpid:") and line.split()[-1] == "1":
                                return int(pid)
        except OSError:
            pass
        time.sleep(0.05)
    raise AssertionError("no supervisor found")


def _sched(pid):
    return (os.getpriority(os.PRIO_PROCESS, pid), os.sched_getscheduler(pid), os.sched_getaffinity(pid))


def test_what_is_done_to_pid_1_never_reaches_the_supervisor(build):
    """Judged from the host: after the program renices, reschedules, pins and signals
    pid 1, the supervisor's host scheduling is what it was and it never stopped."""
    script = ("renice -n 15 -p 1 >/dev/null; chrt -b -p 0 1; taskset -p 1 1 >/dev/null; "
              "kill -TERM 1; kill -STOP 1; kill -USR1 1; kill -KILL 1; echo done; read x")
    src = str(REPO_ROOT / "src")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in (src, os.environ.get("PYTHONPATH")) if p))
    outer = subprocess.Popen(sandbox_command(["--cap-add", "SYS_NICE", "/bin/sh", "-c", script]), stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd="/", env=env, text=True)
    try:
        supervisor = _supervisor_of(outer.pid)
        before = _sched(supervisor)
        assert outer.stdout.readline() == "done\n"
        with open(f"/proc/{supervisor}/stat") as f:
            state = f.read().rpartition(") ")[2].split()[0]
        assert state != "T", "the supervisor was stopped"
        assert _sched(supervisor) == before
        outer.stdin.write("\n")
        outer.stdin.close()
        assert outer.wait(timeout=60) == 0, outer.stderr.read()[-3000:]
    finally:
        if outer.poll() is None:
            outer.kill()
            outer.wait()


def test_renice_of_the_program_reaches_its_host_thread(build):
    """The privileged effect the model allows (with the user's consent for the realtime
    class) is made on the host, whose thread has no CAP_SYS_NICE: judged from the host's /proc."""
    script = "renice -n -5 -p $$ >/dev/null; chrt -r -p 3 $$; echo $$; read x"
    src = str(REPO_ROOT / "src")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in (src, os.environ.get("PYTHONPATH")) if p))
    outer = subprocess.Popen(sandbox_command(["--cap-add", "SYS_NICE", "/bin/sh", "-c", script]), stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd="/", env=env, text=True)
    try:
        supervisor = _supervisor_of(outer.pid)
        inner = int(outer.stdout.readline())
        with open(f"/proc/{supervisor}/task/{supervisor}/children") as f:
            program = int(f.read().split()[0])
        with open(f"/proc/{program}/status") as f:
            assert [line.split()[-1] for line in f if line.startswith("NSpid:")] == [str(inner)]
        assert os.getpriority(os.PRIO_PROCESS, program) == -5
        assert os.sched_getscheduler(program) == os.SCHED_RR
        assert os.sched_getparam(program).sched_priority == 3
        outer.stdin.write("\n")
        outer.stdin.close()
        assert outer.wait(timeout=60) == 0, outer.stderr.read()[-3000:]
    finally:
        if outer.poll() is None:
            outer.kill()
            outer.wait()
