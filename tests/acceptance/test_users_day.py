"""A user's day with ordinary tools, compared with native: a Python virtual environment
with a locally built package, a recursive parallel make of a C project, looking at and
signalling processes with procps, and fio's default (shared-memory) and threaded jobs.

Each project lives in a host directory (the overlay's lower layer in the sandbox) that
the sandboxed run must leave unchanged; natively the same script runs on a twin.
"""
import hashlib
import json
import os
import re
import shutil
import stat
import tempfile
from pathlib import Path

import pytest

pytestmark = [pytest.mark.timeout(120), pytest.mark.slow]

PYTHON = "/usr/bin/python3"     # the system's, with pip, venv and setuptools: not a pyenv shim
USER = (1000, 1000)


def digest(top):
    """Everything of a host tree but atimes."""
    h = hashlib.sha256()
    for p in sorted([top, *top.rglob("*")]):
        s = os.lstat(p)
        h.update(repr((str(p), s.st_mode, s.st_ino, s.st_uid, s.st_gid, s.st_size,
                       s.st_mtime_ns, s.st_ctime_ns)).encode())
        if stat.S_ISREG(s.st_mode):
            h.update(p.read_bytes())
    return h.hexdigest()


@pytest.fixture
def twins():
    """(sandbox's directory, native's directory, scratch for native outputs), reachable by
    any user."""
    base = Path(tempfile.mkdtemp(prefix="pylinuxabi-day-", dir="/var/tmp"))
    os.chmod(base, 0o755)
    dirs = base / "sandbox", base / "native", base / "out"
    for d in dirs:
        d.mkdir()
    yield dirs
    shutil.rmtree(base)


def write_tree(top, files, owner):
    """files ({path: text}) under top, all of it owned by owner (uid, gid)."""
    for name, text in files.items():
        (top / name).parent.mkdir(parents=True, exist_ok=True)
        (top / name).write_text(text)
    for p in [top, *top.rglob("*")]:
        os.chown(p, *owner)


def owner(user):
    return (0, 0) if user == "root" else USER


def as_user(user):
    return [] if user == "root" else ["setpriv", f"--reuid={USER[0]}", f"--regid={USER[1]}",
                                      "--clear-groups"]


def run_both(script, twins, user, run_native, run_sandboxed):
    """The script with $1 = the project, $2 = where its outputs go: natively on the
    twin and a scratch directory, sandboxed on the host's copy (left unchanged) and /tmp."""
    lower, native_dir, native_out = twins
    os.chown(native_out, *owner(user))
    native = run_native([*as_user(user), "/bin/sh", "-c", script, "sh", native_dir, native_out],
                        timeout=60)
    assert native.returncode == 0, native.stderr
    before = digest(lower)
    args = [] if user == "root" else ["--user", "%d:%d" % USER]
    sandboxed = run_sandboxed([*args, "/bin/sh", "-c", "mkdir /tmp/out && " + script, "sh", lower,
                               "/tmp/out"], timeout=90)
    assert digest(lower) == before, "the sandboxed run changed the host"
    return native, sandboxed


# --------------------------------------------------------------------------
# a Python venv with a wheel built from a local project

TINY_PROJECT = {
    "pyproject.toml": '[build-system]\nrequires = ["setuptools"]\n'
                      'build-backend = "setuptools.build_meta"\n\n'
                      '[project]\nname = "tinypkg"\nversion = "1.0"\n',
    "tinypkg/__init__.py": 'def hello():\n    return "hello from tinypkg"\n',
    "tinypkg/__main__.py": 'import sys\nfrom tinypkg import hello\nprint(hello(), sys.argv[1:])\n',
}

VENV_SCRIPT = f"""set -e
cd "$1"
export HOME="$2"    # pip's cache
{PYTHON} -m pip wheel -q --no-deps --no-build-isolation --no-index -w "$2/wheels" .
ls "$2/wheels"
{PYTHON} -m venv "$2/v"
"$2/v/bin/pip" install -q --no-index --find-links "$2/wheels" tinypkg
"$2/v/bin/python" -c 'import sys, tinypkg; print(tinypkg.hello(), sys.prefix == sys.argv[1] + "/v")' "$2"
"$2/v/bin/python" -m tinypkg a b
"$2/v/bin/pip" list --format=freeze --disable-pip-version-check | grep -i tinypkg
"$2/v/bin/pip" show -f tinypkg | sed -n '/^Files:/,$p' | sort
ls "$2/v/bin" | sort
"""


@pytest.mark.timeout(150)
@pytest.mark.parametrize("user", ["root", "user"])
def test_a_venv_installs_a_locally_built_wheel_and_imports_it(
        twins, user, run_native, run_sandboxed, assert_same_behaviour):
    """python -m venv (ensurepip: a zip import, subprocesses, symlinks), pip wheel
    (setuptools' build in a project on the host: copy-up of build/ and egg-info) and
    pip install --no-index from a directory (zip extraction, rename, chmod, RECORD hashes):
    the same files, the same import, as natively."""
    for d in twins[:2]:
        write_tree(d, TINY_PROJECT, owner(user))
    native, sandboxed = run_both(VENV_SCRIPT, twins, user, run_native, run_sandboxed)
    assert "hello from tinypkg True" in native.stdout
    assert_same_behaviour(["venv"], native, sandboxed)


# --------------------------------------------------------------------------
# make -j2 of a recursive C project with a generated header

C_PROJECT = {
    "Makefile": "SUBDIRS = gen lib app\n"
                "all: $(SUBDIRS)\nlib: gen\napp: lib gen\n"
                "$(SUBDIRS):\n\t$(MAKE) -C $@\n"
                "clean:\n\tfor d in $(SUBDIRS); do $(MAKE) -C $$d clean; done\n"
                ".PHONY: all clean $(SUBDIRS)\n",
    "gen/Makefile": "all: version.h\n"
                    "version.h: mkversion.sh\n\tsh mkversion.sh > version.h.tmp && mv version.h.tmp $@\n"
                    "clean:\n\trm -f version.h\n",
    "gen/mkversion.sh": "echo '#define GREETING \"made by make\"'\n"
                        "i=0; while [ $i -lt 20 ]; do\n"
                        "    echo \"#define N$i $((i * i))\"; i=$((i + 1))\ndone\n",
    "lib/Makefile": "CFLAGS = -O1 -I../gen\nOBJS = add.o mul.o sq.o\n"
                    "libcalc.a: $(OBJS)\n\t$(AR) rcs $@ $^\n"
                    "%.o: %.c ../gen/version.h calc.h\n\t$(CC) $(CFLAGS) -c $< -o $@\n"
                    "clean:\n\trm -f *.o libcalc.a\n",
    "lib/calc.h": "int add(int, int);\nint mul(int, int);\nint sq(int);\n",
    "lib/add.c": '#include "calc.h"\nint add(int a, int b) { return a + b; }\n',
    "lib/mul.c": '#include "calc.h"\n'
                 "int mul(int a, int b) {\n    int r = 0;\n"
                 "    for (int i = 0; i < b; i++) r = add(r, a);\n    return r;\n}\n",
    "lib/sq.c": '#include "calc.h"\n#include "version.h"\n'
                "int sq(int a) { return a == 19 ? N19 : mul(a, a); }\n",
    "app/Makefile": "CFLAGS = -O1 -I../gen -I../lib\n"
                    "app: main.o ../lib/libcalc.a\n\t$(CC) -o $@ main.o -L../lib -lcalc\n"
                    "main.o: main.c ../gen/version.h ../lib/calc.h\n\t$(CC) $(CFLAGS) -c $< -o $@\n"
                    "clean:\n\trm -f *.o app\n",
    "app/main.c": '#include <stdio.h>\n#include "calc.h"\n#include "version.h"\n'
                  "int main(void) {\n    int total = 0;\n"
                  "    for (int i = 0; i < 20; i++) total = add(total, sq(i));\n"
                  '    printf("%s: %d %d\\n", GREETING, total, N10);\n    return 0;\n}\n',
}

# make's lines are in the order two jobs finish: compared sorted
MAKE_SCRIPT = """set -e
cd "$1"
make -j2 --no-print-directory 2>&1 | sort
./app/app
make -q --no-print-directory && echo up to date
touch lib/add.c
make -q --no-print-directory || echo out of date
make -j2 --no-print-directory 2>&1 | sort
./app/app
ar t lib/libcalc.a
make -j2 --no-print-directory clean 2>&1 | sort
find . -type f | sort
"""


@pytest.mark.parametrize("user", ["root", "user"])
def test_make_j2_of_a_recursive_project_builds_and_runs_as_natively(
        twins, user, run_native, run_sandboxed, assert_same_behaviour):
    """Recursive make with two jobs (a jobserver pipe shared by sub-makes, fork/exec of
    sh, cc1, as, ld, ar, wait4), a header generated by a rule (rename over it), mtime
    comparisons that rebuild only what a touched source needs, on a project on the host."""
    if shutil.which("make") is None or shutil.which("cc") is None:
        pytest.skip("make and cc are not installed (scripts/test installs them)")
    for d in twins[:2]:
        write_tree(d, C_PROJECT, owner(user))
    native, sandboxed = run_both(MAKE_SCRIPT, twins, user, run_native, run_sandboxed)
    assert "made by make: 2470 100" in native.stdout
    assert_same_behaviour(["make"], native, sandboxed)


# --------------------------------------------------------------------------
# ps, top, pgrep and pkill

PS_SCRIPT = """sleep 30 &
echo "sleeper $! shell $$"
echo "== ps -ef"; ps -ef
echo "== ps aux"; ps aux
echo "== ps -o"; ps -eo pid,ppid,uid,gid,stat,ni,pri,nlwp,tty,comm,args
echo "== top"; top -bn1 -w 200
echo "== pgrep"; pgrep -f '^sleep 30'; pgrep -x sleep; pgrep -P $$ sleep; pgrep -c -u "$(id -u)" .
pkill -f '^sleep 30'; wait $!; echo "wait $?"
pgrep -f '^sleep 30'; echo "pgrep after pkill $?"
"""

INIT = "pylinuxabi-init"


def columns(section, keep, maxsplit):
    """The lines of a ps or top listing, with only the columns `keep` (by index)."""
    rows = []
    for line in section:
        fields = line.split(None, maxsplit)
        rows.append(" ".join(fields[i] for i in keep if i < len(fields)))
    return rows


def without_numbers(line):
    """A line of top's summary with its numbers as N, and single spaces: a run of them
    is one N (top prints "%Cpu(s):100.0 us" but "%Cpu(s): 12.5 us")."""
    return " ".join(re.sub(r"[\d.:]+(?:\s+[\d.:]+)*", " N ", line).split())


def stable_view(out):
    """What ps, top and pgrep show that does not depend on time, memory or the pid 1 a
    container has: headers, pids, parents, users, states, commands; pid 1's command
    apart."""
    sections, name = {}, "start"
    for line in out.splitlines():
        if line.startswith("== "):
            name = line[3:]
            continue
        sections.setdefault(name, []).append(line)
    top = sections.get("top", [])
    split = next((i for i, line in enumerate(top) if line.strip().startswith("PID")), len(top))
    views = {
        "start": sections.get("start", []),
        # UID PID PPID C STIME TTY TIME CMD
        "ps -ef": columns(sections.get("ps -ef", []), (0, 1, 2, 5, 7), 7),
        # USER PID %CPU %MEM VSZ RSS TTY STAT START TIME COMMAND
        "ps aux": columns(sections.get("ps aux", []), (0, 1, 6, 7, 10), 10),
        "ps -o": sections.get("ps -o", []),
        # the summary's labels, with the numbers left out, but the tasks' counts
        "top summary": [line if line.startswith("Tasks:") else without_numbers(line)
                        for line in top[:split]],
        # PID USER PR NI VIRT RES SHR S %CPU %MEM TIME+ COMMAND
        # (top orders its lines by %CPU)
        "top": sorted(columns(top[split:], (0, 1, 2, 3, 7, 11), 11), key=lambda row: row.split()[0]),
        "pgrep": sections.get("pgrep", []),
    }
    pid1 = {}
    for name, rows in views.items():
        for i, row in enumerate(rows):
            fields = row.split()
            pid_column = 0 if name in ("ps -o", "top") else 1
            if len(fields) > pid_column and fields[pid_column] == "1":
                pid1[name] = row
                rows[i] = "pid 1"
    return views, pid1


@pytest.mark.parametrize("user", ["root", "user"])
def test_ps_top_pgrep_and_pkill_see_the_sandboxed_processes_as_natively(
        twins, user, run_native, run_sandboxed):
    """/proc/<pid>/stat, status, cmdline, /proc/stat, meminfo, loadavg and uptime read by
    procps: the same headers, pids, parents, users, states and commands as in a new pid
    namespace natively (where pid 1 is a shell standing in for the modelled init);
    pgrep finds the background sleep and pkill's SIGTERM ends it (wait: 143)."""
    _, _, out = twins
    script = out / "ps.sh"
    script.write_text(PS_SCRIPT)
    # pid 1 is the unshared shell, pid 2 the script: as the sandbox's init and the script
    native = run_native(["unshare", "--pid", "--fork", "--mount-proc", *as_user(user),
                         "/bin/sh", "-c", '/bin/sh "$1"; :', "sh", script])
    if native.returncode != 0 and "unshare" in native.stderr:
        pytest.skip(f"cannot unshare a pid namespace here: {native.stderr.strip()}")
    args = [] if user == "root" else ["--user", "%d:%d" % USER]
    sandboxed = run_sandboxed([*args, "/bin/sh", script])
    native_view, _ = stable_view(native.stdout)
    sandboxed_view, pid1 = stable_view(sandboxed.stdout)
    assert "wait 143" in native.stdout and "pgrep after pkill 1" in native.stdout
    for name in native_view:
        assert sandboxed_view[name] == native_view[name], (name, sandboxed.stdout, sandboxed.stderr)
    assert re.fullmatch(rf"\S+ 1 0 \? {INIT}", pid1["ps -ef"]), pid1
    assert pid1["ps aux"].endswith(f" {INIT}") and pid1["top"].endswith(f" {INIT}")
    assert sandboxed.returncode == native.returncode == 0


# each fork waits for the one before it (a fifo's open blocks until both ends are there), so
# pids and tids are given out in the same order natively and sandboxed
THREADS_SCRIPT = """mkdir -p "$1" && cd "$1" && mkfifo threads stopped
/usr/bin/python3 -c 'import threading, time
for _ in range(3):
    threading.Thread(target=time.sleep, args=(30,), daemon=True).start()
open("threads", "w").write("3\\n")
time.sleep(30)' &
T=$!
read n < threads
/usr/bin/python3 -c 'import time; open("stopped", "w").write("0\\n"); time.sleep(30)' &
S=$!
read n < stopped
kill -STOP $S
i=0; until [ "$(ps -o stat= -p $S)" = T ] || [ $i -gt 300 ]; do sleep 0.1; i=$((i + 1)); done
echo "== ps -L"; ps -L -o pid,lwp,nlwp,stat,comm -p $T
echo "== states"; ps -o pid,ppid,stat,args -p $S,$T
echo "== top -H"; top -bn1 -H -p $T | sed -n '/PID/,$p' | awk '{print $1, $2, $8, $12}' | sort -n
echo "== pgrep"; pgrep -r T; pgrep -f threading; pgrep -c -P $$
kill -CONT $S; pkill -P $$; wait; echo "waited $?"
"""


def test_ps_and_top_see_threads_and_a_stopped_process_as_natively(twins, run_native, run_sandboxed,
                                                                    assert_same_behaviour):
    """/proc/<pid>/task/<tid>/stat and a stop by SIGSTOP: ps -L lists each thread with the
    same tids (allocated from the pid namespace as processes are), NLWP and states (Sl,
    T), top -H shows each thread, pgrep -r T finds the stopped process, pkill -P ends
    the children."""
    _, native_dir, out = twins
    script = out / "threads.sh"
    script.write_text(THREADS_SCRIPT)
    native = run_native(["unshare", "--pid", "--fork", "--mount-proc",
                         "/bin/sh", "-c", '/bin/sh "$1" "$2"; :', "sh", script, native_dir / "t"])
    if native.returncode != 0 and "unshare" in native.stderr:
        pytest.skip(f"cannot unshare a pid namespace here: {native.stderr.strip()}")
    assert native.stdout.count(" 4 Sl ") == 4 and " T " in native.stdout, native.stdout
    sandboxed = run_sandboxed(["/bin/sh", script, "/tmp/t"])
    assert_same_behaviour(["threads"], native, sandboxed)


# --------------------------------------------------------------------------
# fio

FIO_JOBS = {
    "processes": [],                # fio's default: a process per job, state in SysV shm
    "threads": ["--thread"],
    "verify": ["--rw=randwrite", "--verify=crc32c", "--do_verify=1"],
    "mmap": ["--ioengine=mmap"],
    "fsync": ["--fsync=8", "--fallocate=posix"],
    "libaio": ["--ioengine=libaio", "--iodepth=4"],
    "io_uring": ["--ioengine=io_uring", "--iodepth=4"],
}
FIO_GAPS = {
    "libaio": "Linux AIO is not implemented: io_setup(2) answers ENOSYS (no handler for "
              "io_setup/io_submit/io_getevents/io_destroy in src/pylinuxabi/syscalls/), so "
              "fio's libaio jobs end with error 38",
}


def fio_summary(result):
    """fio's exit status and, per job, its name, error and KiB done (read + write), or
    what it said instead of a report."""
    try:
        jobs = json.loads(result.stdout[result.stdout.index("{"):])["jobs"]
    except (ValueError, KeyError) as e:
        return result.returncode, f"no report ({e}): {result.stdout[-500:]} {result.stderr[-1500:]}"
    return result.returncode, sorted(
        (j["jobname"], j["error"], j["read"]["io_kbytes"] + j["write"]["io_kbytes"]) for j in jobs)


def fio_job(job):
    gap = FIO_GAPS.get(job)
    return pytest.param(job, marks=pytest.mark.xfail(strict=True, reason=gap)) if gap else job


@pytest.mark.parametrize("job", [fio_job(job) for job in FIO_JOBS])
def test_fio_runs_its_jobs_to_completion_without_errors_as_natively(
        twins, job, run_native, run_sandboxed):
    """fio forks its jobs and shares their state in System V shared memory (shmget,
    shmat after fork), or runs them as threads; two jobs do 4 KiB random reads and writes
    (pread/pwrite, or mmap) on their own 4 MiB files, verified by crc32c: each job ends
    with error 0 and 4 MiB done, as natively."""
    if shutil.which("fio") is None:
        pytest.skip("fio is not installed (scripts/test installs it)")
    _, _, out = twins
    argv = ["fio", "--name=t", "--size=4m", "--rw=randrw", "--bs=4k", "--numjobs=2",
            "--output-format=json", *FIO_JOBS[job]]
    native = run_native([*argv, f"--filename_format={out}/f.$jobnum"], timeout=60)
    sandboxed = run_sandboxed([*argv, "--filename_format=/tmp/f.$jobnum"], timeout=90)
    status, jobs = fio_summary(native)
    assert status == 0 and len(jobs) == 2, (status, jobs)
    assert all(err == 0 and kib >= 4096 for _, err, kib in jobs), jobs
    assert fio_summary(sandboxed) == fio_summary(native)
