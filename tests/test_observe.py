"""What a user sees of --log-json, --inject and `pylinuxabi conform`, run on real programs.

The JSON log is checked against its schema (README, "The JSON log"); each kind of
--inject rule by what the program then does; conform by its verdict on a
program that conforms and on one with a seeded divergence.
"""
import json
import os
import subprocess
import sys

import pytest

from conftest import REPO_ROOT


def pylinuxabi(*args, cwd=None, stdin=subprocess.DEVNULL):
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT / "src"))
    return subprocess.run([sys.executable, "-m", "pylinuxabi", *map(str, args)], stdin=stdin,
                          capture_output=True, text=True, env=env, cwd=cwd, timeout=300)


# --------------------------------------------------------------------------
# --log-json

SYSCALL_KEYS = {"ev", "pid", "tid", "nr", "name", "args", "result", "errno", "text", "t"}


def log_of(tmp_path, *command):
    path = tmp_path / "events.jsonl"
    r = pylinuxabi("run", "--strict", "--log-json", path, *command)
    return r, [json.loads(line) for line in path.read_text().splitlines()]


def test_the_json_log_has_one_object_per_syscall_and_event(tmp_path):
    r, records = log_of(tmp_path, "sh", "-c", "cat /etc/hostname >/dev/null; ls /nonexistent; exit 3")
    assert r.returncode == 3
    assert records[0] == {"ev": "start", "schema": 1, "source": "model", "t": records[0]["t"]}
    syscalls = [x for x in records if x["ev"] == "syscall"]
    for x in syscalls:
        assert SYSCALL_KEYS <= set(x), x
        assert isinstance(x["result"], int) or (x["result"] is None and x["name"] in ("exit", "exit_group"))
        assert (x["errno"] is None) == (x["result"] is None or x["result"] >= 0), x
        assert x["text"].startswith(x["name"] + "(")
    first = syscalls[0]
    assert (first["name"], first["args"]["filename"], first["args"]["argv"][0]) == ("execve", "/usr/bin/sh", "sh")
    main = first["pid"]
    # arguments are values: a path is its string, flags and fds are numbers
    opened = [x for x in syscalls if x["name"] == "openat" and x["args"]["filename"] == "/etc/hostname"]
    assert opened and isinstance(opened[0]["args"]["flags"], int) and opened[0]["args"]["dirfd"] == -100
    assert opened[0]["result"] >= 0 and opened[0]["dur_us"] >= 0
    failed = [x for x in syscalls if x["errno"] == "ENOENT" and "/nonexistent" in x["text"]]
    assert failed and failed[0]["result"] == -2
    # the children: spawned, exec'ed, ended, and their ends signalled to the shell
    spawns = [x for x in records if x["ev"] == "spawn"]
    assert len(spawns) == 2 and all(not x["thread"] and x["tid"] == main for x in spawns)
    ls = spawns[1]["child"]
    assert any(x["tid"] == ls and x["name"] == "execve" and x["args"]["filename"] == "/usr/bin/ls" for x in syscalls)
    ends = {x["pid"]: x for x in records if x["ev"] == "exit"}
    assert ends[ls]["status"] == 2 and ends[main]["status"] == 3
    assert records[-1]["ev"] == "exit" and records[-1]["pid"] == main
    assert [x["sig"] for x in records if x["ev"] == "signal"] == ["SIGCHLD", "SIGCHLD"]


def test_the_json_log_goes_with_strace(tmp_path):
    strace = tmp_path / "strace.txt"
    r, records = log_of(tmp_path, "--strace=" + str(strace), "true")
    assert r.returncode == 0
    lines = strace.read_text().splitlines()
    texts = [x["text"] for x in records if x["ev"] == "syscall"]
    assert texts and lines[:len(texts)] == texts


# --------------------------------------------------------------------------
# --inject: one test for each kind of rule

def test_inject_error_makes_the_call_fail_without_running_it(tmp_path):
    r = pylinuxabi("run", "--inject", "openat:error=ENOSPC:path=/etc/hostname", "cat", "/etc/hostname")
    assert r.returncode == 1 and r.stdout == ""
    assert r.stderr.strip() == "cat: /etc/hostname: No space left on device"


def test_inject_when_counts_a_threads_calls():
    script = "for i in 1 2 3 4 5; do if { true; } 3</etc/hostname; then echo ok; else echo fail; fi; done 2>/dev/null"
    r = pylinuxabi("run", "--inject", "openat:error=EACCES:path=/etc/hostname:when=2+2", "sh", "-c", script)
    assert r.stdout.split() == ["ok", "fail", "ok", "fail", "ok"]


def test_inject_retval_is_what_the_call_returns():
    r = pylinuxabi("run", "--inject", "geteuid:retval=42", "id", "-u")
    assert (r.returncode, r.stdout) == (0, "42\n")


def test_inject_signal_comes_as_the_call_returns():
    r = pylinuxabi("run", "--inject", "write:signal=USR1:when=2", "sh", "-c", "echo one; echo two; echo three")
    assert (r.returncode, r.stdout) == (128 + 10, "one\ntwo\n")


def test_inject_fd_kind_picks_the_files():
    r = pylinuxabi("run", "--inject", "read:error=EIO:fd=pipe", "sh", "-c", "cat /etc/passwd; echo x | cat")
    assert r.stdout == open("/etc/passwd").read()
    assert r.stderr.strip() == "cat: -: Input/output error"


def test_inject_short_makes_writes_partial_and_the_program_go_on(tmp_path):
    strace = tmp_path / "strace.txt"
    r = pylinuxabi("run", "--strace=" + str(strace), "--inject", "write:short=4", "sh", "-c", "echo hello world")
    assert (r.returncode, r.stdout) == (0, "hello world\n")
    writes = [line for line in strace.read_text().splitlines() if line.startswith("write(1,")]
    assert writes == ['write(1, "hello world\\n", 12) = 4', 'write(1, "o world\\n", 8) = 4',
                      'write(1, "rld\\n", 4) = 4']


@pytest.mark.parametrize("rule", ["nosuch:error=EIO", "read:error=NOPE", "read", "getpid:short=1"])
def test_a_bad_rule_is_a_usage_error(rule):
    r = pylinuxabi("run", "--inject", rule, "true")
    assert r.returncode == 125 and len(r.stderr.splitlines()) == 1 and "--inject" in r.stderr


# --------------------------------------------------------------------------
# conform

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="conform's native run needs root")


@needs_root
def test_conform_passes_a_program_that_behaves_the_same(tmp_path):
    r = pylinuxabi("conform", "--", "sh", "-c", "echo hi; cat /etc/hostname; ls /nonexistent; exit 3", cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.startswith("conforms: sh -c")


@needs_root
def test_conform_names_a_seeded_divergence_and_writes_it_as_json(tmp_path):
    report = tmp_path / "report.json"
    r = pylinuxabi("conform", "--json", report, "--inject", "openat:error=EACCES:path=/etc/hostname",
                   "--", "cat", "/etc/hostname", cwd=tmp_path)
    assert r.returncode == 1, r.stdout + r.stderr
    assert r.stdout.startswith("DIVERGES: cat /etc/hostname")
    assert "exit status: native 0, model 1" in r.stdout
    case, = json.loads(report.read_text())["cases"]
    first = case["divergences"][0]
    assert first["thread"] == "1"
    assert first["native"]["text"] == 'openat(AT_FDCWD, "/etc/hostname", O_RDONLY) = 3'
    assert first["model"]["text"] == 'openat(AT_FDCWD, "/etc/hostname", O_RDONLY) = -1 EACCES (Permission denied)'
    assert {"syscall": "openat", "result": "EACCES", "native": 0, "model": 1} in case["summary"]
    assert case["status"] == {"native": 0, "model": 1} and case["differs"] == ["status", "stdout", "stderr"]


@needs_root
def test_conform_leaves_the_host_as_it_was(tmp_path):
    victim = tmp_path / "victim"
    victim.write_text("before\n")
    r = pylinuxabi("conform", "--", "sh", "-c", f"echo after > {victim}; rm -f /etc/hostname.x; "
                   f"touch /etc/pylinuxabi-conform-was-here", cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    assert victim.read_text() == "before\n"
    assert not os.path.exists("/etc/pylinuxabi-conform-was-here")


@needs_root
def test_conform_suite_writes_one_report(tmp_path):
    suite = tmp_path / "cases.txt"
    suite.write_text("# two cases\ntrue\nsh -c 'exit 4'\n"
                     "cat /etc/hostname  # expect: a seeded fault (no: this one conforms too)\n")
    r = pylinuxabi("conform", "--suite", suite, "--html", tmp_path / "html", "--json", tmp_path / "r.json",
                   cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.splitlines() == ["conforms: true", "conforms: sh -c 'exit 4'", "conforms: cat /etc/hostname"]
    cases = json.loads((tmp_path / "r.json").read_text())["cases"]
    assert [c["status"]["native"] for c in cases] == [0, 4, 0]
    page = (tmp_path / "html" / "index.html").read_text()
    assert page.count("<tr class=conforms>") == 3


@pytest.mark.parametrize("args", [[], ["--suite", "/nonexistent/cases.txt"], ["--rules", "/nonexistent", "true"]])
def test_conform_usage_errors_are_125(args):
    r = pylinuxabi("conform", *args)
    assert r.returncode == 125 and len(r.stderr.splitlines()) == 1


# --------------------------------------------------------------------------
# what conform found, kept

def test_the_supervisors_threads_take_no_pid_among_the_programs():
    # -p starts a thread of ours before the program, and a wait on a host fd (stdin
    # here, a pipe) the host waker's: neither may show as a gap in the program's pids
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT / "src"))
    p = subprocess.Popen([sys.executable, "-m", "pylinuxabi", "run", "-p", "127.0.0.1:0:8000", "sh", "-c",
                          'echo $$; read line; sh -c "echo \\$\\$"'], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         text=True, env=env)
    first = p.stdout.readline()
    p.stdin.write("go\n")
    p.stdin.close()
    assert (first, p.stdout.read(), p.wait(timeout=60)) == ("2\n", "3\n", 0)


def test_tracing_every_call_keeps_a_parked_signalfd_read_working(build, tmp_path):
    # --trace-all (and so --strace, --log-json, --inject) stops our own park's futex as
    # it enters its wait again: it once went to the futex handler and the read hung
    program = build("ipc_eventfd")
    native = subprocess.run([str(program)], capture_output=True, text=True, timeout=60, cwd=tmp_path)
    r = pylinuxabi("run", "--strace=" + str(tmp_path / "strace.txt"), program, cwd=tmp_path)
    assert (r.returncode, r.stdout) == (native.returncode, native.stdout)


@needs_root
def test_conforms_native_run_cannot_reach_the_host(tmp_path):
    # judged from the host: the native run is the host's root in namespaces of its own,
    # with docker's capabilities, so the clock, sysctls, host name, network and disks
    # stay as they were (an earlier native run once set this machine's clock)
    before = (open("/proc/sys/kernel/domainname").read(), os.uname().nodename,
              sorted(os.listdir("/sys/class/net")))
    attack = ("date -s 2099-01-01; echo evil > /proc/sys/kernel/domainname; hostname evil; "
              "ip link add pla0 type dummy; mknod /tmp/disk b 8 0 && head -c1 /tmp/disk; "
              "mount -t tmpfs none /etc; echo 1 > /proc/sysrq-trigger; true")
    r = pylinuxabi("conform", "--keep", tmp_path / "logs", "--", "sh", "-c", attack, cwd=tmp_path)
    assert r.returncode in (0, 1), r.stderr
    import time
    assert time.time() < 4070908800                         # 2099-01-01
    assert (open("/proc/sys/kernel/domainname").read(), os.uname().nodename,
            sorted(os.listdir("/sys/class/net"))) == before
    native = [json.loads(line).get("text", "") for line in (tmp_path / "logs" / "0" / "native.jsonl").open()]
    for refused in ('clock_settime(CLOCK_REALTIME, {tv_sec=4070908800, tv_nsec=0}) = -1 EPERM',
                    'sethostname("evil", 4) = -1 EPERM', 'openat(AT_FDCWD, "/tmp/disk", O_RDONLY) = -1 EACCES',
                    'openat(AT_FDCWD, "/proc/sys/kernel/domainname", O_WRONLY|O_CREAT|O_TRUNC, 0666) = -1 EROFS'):
        assert any(text.startswith(refused) for text in native), refused


# --------------------------------------------------------------------------
# coverage

def test_coverage_sums_a_runs_usage_and_writes_markdown_and_html(tmp_path):
    usage_dir = tmp_path / "usage"
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT / "src"), PYLINUXABI_USAGE=str(usage_dir))
    r = subprocess.run([sys.executable, "-m", "pylinuxabi", "run", "sh", "-c", "exec 3</etc/passwd; cat <&3"],
                       capture_output=True, text=True, env=env, timeout=120, stdin=subprocess.DEVNULL)
    assert r.returncode == 0 and len(list(usage_dir.iterdir())) == 1
    saved = tmp_path / "sum.json"
    r = pylinuxabi("coverage", "--usage", usage_dir, "--save", saved, "--write", tmp_path / "cov.md",
                   "--html", tmp_path / "html")
    assert r.returncode == 0, r.stderr
    used = json.loads(saved.read_text())
    assert used["openat"]["calls"] >= 1 and used["read"]["calls"] >= 1
    md = (tmp_path / "cov.md").read_text()
    assert "| 257 | openat | emulated |" in md and "O_CLOEXEC" in md
    assert "<td>openat<td>emulated" in (tmp_path / "html" / "index.html").read_text()
    r = pylinuxabi("coverage", "--usage", tmp_path / "nonexistent")
    assert r.returncode == 125 and len(r.stderr.splitlines()) == 1


@needs_root
def test_conforms_runs_get_the_signal_mask_conform_was_given(tmp_path):
    # `pylinuxabi` holds SIGTERM, SIGCHLD… from its first instruction to pass them on
    # (startsignals.py); conform's runs once inherited that hold, and a program waiting
    # for a parent-death SIGTERM waited forever natively
    r = pylinuxabi("conform", "--", "grep", "SigBlk", "/proc/self/status", cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.startswith("conforms:")
    native = subprocess.run(["grep", "SigBlk", "/proc/self/status"], capture_output=True, text=True)
    assert native.stdout.split() == ["SigBlk:", "0000000000000000"]
