"""Ordinary programs changing existing host files in the default root (copy-on-write).

Each script runs natively on a fresh host directory and under pylinuxabi on its
twin (in the overlay's lower layer): output and status must be the same, the
host's twin must be unchanged after the sandboxed run, with the in-memory upper
and with `--upper DIR`.
"""
import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

pytestmark = [pytest.mark.timeout(300), pytest.mark.slow]

GIT_ENV = ("export GIT_AUTHOR_DATE='2001-01-01T00:00:00Z' GIT_COMMITTER_DATE='2001-01-01T00:00:00Z' "
           "GIT_AUTHOR_NAME=t GIT_AUTHOR_EMAIL=t@example.com GIT_COMMITTER_NAME=t "
           "GIT_COMMITTER_EMAIL=t@example.com GIT_CONFIG_NOSYSTEM=1 HOME=/nonexistent\n")

SCRIPTS = {
    "shell_append": "echo x >> notes.txt && cat notes.txt",
    "python_append": "/usr/bin/python3 -c 'open(\"notes.txt\", \"a\").write(\"py\\n\")' && cat notes.txt",
    "sed_in_place": "sed -i s/hello/bye/ notes.txt && cat notes.txt && stat -c '%a %u %g %s' notes.txt",
    "touch_date": "touch -d '2002-02-02 00:00:00 UTC' notes.txt && stat -c '%Y %s' notes.txt && cat notes.txt",
    "touch_now": "touch notes.txt && find notes.txt -newermt 2020-01-01 && cat notes.txt",
    "chmod": "chmod 600 notes.txt && stat -c '%a %s' notes.txt && cat notes.txt",
    "chown": "chown 1000:1000 notes.txt && stat -c '%u %g %a %s' notes.txt && cat notes.txt",
    "chmod_recursive": "chmod -R go-rx tree && find tree -printf '%p %m\\n' | sort",
    "sqlite3": "sqlite3 data.db \"insert into t values (3, 'c'); select * from t; pragma integrity_check;\"",
    "git_commit": GIT_ENV + "cd repo && echo more >> f && git add f && git commit -qm second && "
                  "git log --format='%H %s' && git status --short && git fsck --no-progress 2>&1",
}
TOOLS = {"sqlite3": "sqlite3", "git_commit": "git"}


def build_dir(top):
    """Existing files of each kind the scripts change: text, a directory tree, a database, a repository."""
    top.mkdir()
    (top / "notes.txt").write_text("hello\nworld\n")
    (top / "tree" / "sub").mkdir(parents=True)
    (top / "tree" / "sub" / "f").write_text("f\n")
    if shutil.which("sqlite3"):
        subprocess.run(["sqlite3", str(top / "data.db"),
                        "create table t(a, b); insert into t values (1, 'a'), (2, 'b');"], check=True)
    if shutil.which("git"):
        subprocess.run(["/bin/sh", "-c", GIT_ENV + "git init -q repo && cd repo && echo one > f && "
                        "git add f && git commit -qm first"], cwd=top, check=True)
    os.utime(top / "notes.txt", (1_000_000_000, 1_000_000_000))


def digest(top):
    h = hashlib.sha256()
    for p in sorted([top, *top.rglob("*")]):
        s = os.lstat(p)
        h.update(repr((str(p), s.st_mode, s.st_ino, s.st_uid, s.st_gid, s.st_size, s.st_mtime_ns)).encode())
        if p.is_file() and not p.is_symlink():
            h.update(p.read_bytes())
    return h.hexdigest()


@pytest.fixture
def twin_dirs():
    base = Path(tempfile.mkdtemp(prefix="pylinuxabi-programs-", dir="/var/tmp"))
    dirs = base / "sandbox", base / "native"
    for d in dirs:
        build_dir(d)
    yield dirs
    shutil.rmtree(base)


@pytest.mark.parametrize("upper", [False, True], ids=["memory", "upper-dir"])
@pytest.mark.parametrize("name", list(SCRIPTS))
def test_a_program_changing_an_existing_host_file_sees_what_it_sees_natively(
        twin_dirs, name, upper, run_native, run_sandboxed, assert_same_behaviour):
    tool = TOOLS.get(name)
    if tool and shutil.which(tool) is None:
        pytest.skip(f"{tool} is not installed (scripts/test installs it)")
    lower, native_dir = twin_dirs
    script = "set -e; cd \"$1\"\n" + SCRIPTS[name]
    native = run_native(["/bin/sh", "-c", script, "sh", native_dir])
    assert native.returncode == 0, native.stderr
    before = digest(lower)
    args = ["--upper", str(lower.parent / "upper")] if upper else []
    sandboxed = run_sandboxed([*args, "/bin/sh", "-c", script, "sh", lower])
    assert digest(lower) == before, "the sandboxed run changed the host"
    assert_same_behaviour([name], native, sandboxed)
