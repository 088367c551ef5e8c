"""The user's side of `pylinuxabi run`, as `docker run`'s: environment, user, workdir, errors.

Each test states what docker (or Linux) gives and checks that we give the same.
"""
import os
import shutil
import struct
import subprocess
import sys

import pytest

from conftest import REPO_ROOT

DEFAULT_PATH = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
BUSYBOX = shutil.which("busybox")


def pylinuxabi(*args, env=None, cwd="/"):
    """`pylinuxabi run --strict ARGS` with the caller's environment plus `env`."""
    full = dict(os.environ, PYTHONPATH=str(REPO_ROOT / "src"), **(env or {}))
    return subprocess.run([sys.executable, "-m", "pylinuxabi", "run", "--strict", *map(str, args)],
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, cwd=cwd,
                          env=full, timeout=90)


def env_lines(*args, env=None):
    r = pylinuxabi(*args, "/usr/bin/env", env=env)
    assert r.returncode == 0, r.stderr
    return r.stdout.splitlines()


# --------------------------------------------------------------------------
# the environment

def test_the_program_gets_PATH_HOSTNAME_and_HOME_not_the_callers_environment():
    lines = env_lines(env={"PYLINUXABI_CALLER_ONLY": "1"})
    assert lines == [DEFAULT_PATH, "HOSTNAME=pylinuxabi", "HOME=/root"]


def test_HOSTNAME_is_the_sandboxs_hostname():
    assert "HOSTNAME=box" in env_lines("--hostname", "box")


def test_dash_e_sets_takes_the_callers_value_and_leaves_out_what_the_caller_lacks():
    lines = env_lines("-e", "A=1=2", "--env", "B", "-e", "PYLINUXABI_UNSET", "-e", "PATH=/bin",
                      env={"B": "from caller"})
    assert lines == ["PATH=/bin", "HOSTNAME=pylinuxabi", "A=1=2", "B=from caller", "HOME=/root"]


def test_env_file_in_dockers_syntax_then_dash_e_over_it(tmp_path):
    f = tmp_path / "env"
    f.write_text("# a comment\n\n  SPACED= kept as written \nQUOTED=\"not unquoted\"\nBARE\nGONE\n"
                 "OVER=file\n")
    lines = env_lines("--env-file", f, "-e", "OVER=dash e", env={"BARE": "caller's"})
    assert lines[2:] == ["SPACED= kept as written ", 'QUOTED="not unquoted"', "BARE=caller's",
                         "OVER=dash e", "HOME=/root"]


def test_a_HOME_given_with_dash_e_wins_over_etc_passwd():
    assert env_lines("-e", "HOME=/elsewhere")[-1] == "HOME=/elsewhere"


def test_env_host_passes_the_callers_whole_environment_and_dash_e_over_it():
    lines = env_lines("--env-host", "-e", "OVER=2", env={"PYLINUXABI_CALLER_ONLY": "1", "OVER": "1"})
    assert "PYLINUXABI_CALLER_ONLY=1" in lines and "OVER=2" in lines and "OVER=1" not in lines
    assert f"PATH={os.environ['PATH']}" in lines


def test_TERM_is_the_callers_on_a_terminal(monkeypatch):
    from test_terminal import SANDBOX, run_on_pty
    monkeypatch.setenv("TERM", "vt220")
    monkeypatch.setenv("PYTHONPATH", str(REPO_ROOT / "src"))
    out, code = run_on_pty(SANDBOX + ["/usr/bin/env"], settle=0.2)
    assert code == 0
    assert b"TERM=vt220\r\n" in out


# --------------------------------------------------------------------------
# --user and --workdir, in a tree of our own

@pytest.fixture
def tree(tmp_path):
    """A --root tree: static busybox and an /etc/passwd and /etc/group of its own."""
    if BUSYBOX is None:
        pytest.skip("busybox not installed")
    with open(BUSYBOX, "rb") as f:
        if b"ld-linux" in f.read(4096):
            pytest.skip("busybox is not static")
    root = tmp_path / "root"
    (root / "bin").mkdir(parents=True)
    (root / "etc").mkdir()
    shutil.copy(BUSYBOX, root / "bin" / "busybox")
    (root / "etc" / "passwd").write_text("root:x:0:0:root:/root:/bin/sh\n"
                                         "alice:x:1234:4321:Alice:/home/alice:/bin/sh\n")
    (root / "etc" / "group").write_text("root:x:0:\nstaff:x:4321:\nextra:x:777:bob,alice\nother:x:888:bob\n")
    return root


def in_tree(tree, *args):
    return pylinuxabi("--root", tree, *args)


@pytest.mark.parametrize("user, expected", [
    ("alice", "uid=1234(alice) gid=4321(staff) groups=777(extra) HOME=/home/alice"),
    ("1234", "uid=1234(alice) gid=4321(staff) groups=777(extra) HOME=/home/alice"),
    ("alice:other", "uid=1234(alice) gid=888(other) HOME=/home/alice"),
    ("alice:55", "uid=1234(alice) gid=55 HOME=/home/alice"),
    ("99", "uid=99 gid=99 HOME=/"),
], ids=["name", "uid_in_passwd", "name_and_group", "name_and_gid", "uid_not_in_passwd"])
def test_user_resolved_in_the_sandboxs_etc_passwd_and_group(tree, user, expected):
    r = in_tree(tree, "-u", user, "/bin/busybox", "sh", "-c", 'echo $(busybox id) HOME=$HOME')
    assert (r.returncode, r.stdout, r.stderr) == (0, expected + "\n", "")


def test_a_user_the_sandbox_lacks_is_a_usage_error_even_when_the_host_has_it(tree):
    r = in_tree(tree, "--user", "nobody", "/bin/busybox", "true")
    assert r.returncode == 125
    assert r.stderr == "pylinuxabi: unable to find user nobody: no matching entries in passwd file\n"
    r = in_tree(tree, "--user", "alice:nogroup", "/bin/busybox", "true")
    assert r.returncode == 125 and "unable to find group nogroup" in r.stderr


def test_a_missing_workdir_is_made_with_its_parents_owned_by_the_user_mode_0755(tree):
    r = in_tree(tree, "-u", "alice", "-w", "/home/alice/src", "/bin/busybox", "sh", "-c",
                "pwd; busybox stat -c '%a %u:%g %n' /home /home/alice /home/alice/src; busybox touch f")
    assert (r.returncode, r.stderr) == (0, "")
    assert r.stdout == ("/home/alice/src\n755 1234:4321 /home\n755 1234:4321 /home/alice\n"
                        "755 1234:4321 /home/alice/src\n")


def test_workdir_short_form_and_an_existing_directory_kept_as_it_is(tree):
    r = in_tree(tree, "-u", "alice", "-w", "/etc", "/bin/busybox", "sh", "-c", "pwd; busybox stat -c %u .")
    assert (r.returncode, r.stdout) == (0, "/etc\n0\n")


@pytest.mark.parametrize("args, message", [
    (["--read-only", "-w", "/nowhere"], "pylinuxabi: cannot use --workdir /nowhere: Read-only file system\n"),
    (["-w", "/etc/passwd"], "pylinuxabi: cannot use --workdir /etc/passwd: Not a directory\n"),
], ids=["read_only_root", "a_file"])
def test_a_workdir_that_cannot_be_made_is_an_error_never_a_fallback_to_root(tree, args, message):
    r = in_tree(tree, *args, "/bin/busybox", "echo", "ran")
    assert (r.returncode, r.stdout, r.stderr) == (125, "", message)


# --------------------------------------------------------------------------
# usage errors and programs that cannot start

@pytest.mark.parametrize("args", [
    ["--bogus", "true"],
    [],
    ["--strace=/nonexistent/dir/log", "true"],
    ["--report=/nonexistent/dir/log", "true"],
    ["--root", "/nonexistent", "true"],
    ["-v", "relative", "true"],
    ["-v", "/tmp:relative", "true"],
    ["-u", "a:b:c", "true"],
    ["-u", "nosuchuser", "true"],
    ["-w", "relative", "true"],
    ["-e", "=value", "true"],
    ["--env-file", "/nonexistent", "true"],
    ["--tmpfs", "/t:size=lots", "true"],
    ["--cap-add", "FLYING", "true"],
    ["--read-only", "--upper", "/tmp/x", "true"],
], ids=lambda a: " ".join(a) or "no_program")
def test_a_usage_error_is_one_line_and_dockers_125(args):
    r = pylinuxabi(*args)
    assert r.returncode == 125
    assert r.stdout == ""
    assert r.stderr.startswith("pylinuxabi: ") and r.stderr.count("\n") == 1, r.stderr


@pytest.mark.parametrize("program, status, message", [
    ("no-such-program", 127, "pylinuxabi: no-such-program: No such file or directory\n"),
    ("{tmp}/data", 126, "pylinuxabi: {tmp}/data: Permission denied\n"),
    ("/usr", 126, "pylinuxabi: /usr: Permission denied\n"),
], ids=["not_found", "not_executable", "a_directory"])
def test_a_program_that_cannot_start_is_dockers_127_or_126(tmp_path, program, status, message):
    (tmp_path / "data").write_text("not a program\n")
    r = pylinuxabi(program.format(tmp=tmp_path))
    message = message.format(tmp=tmp_path)
    assert (r.returncode, r.stderr) == (status, message)


def _elf_header(path, elf_class, machine):
    """An ELF header only (no program headers: Linux refuses it with ENOEXEC whatever the machine)."""
    ident = b"\x7fELF" + bytes([elf_class, 1, 1]) + bytes(9)
    if elf_class == 1:
        rest = struct.pack("<HHIIIIIHHHHHH", 2, machine, 1, 0x8048000, 52, 0, 0, 52, 32, 0, 40, 0, 0)
    else:
        rest = struct.pack("<HHIQQQIHHHHHH", 2, machine, 1, 0x400000, 64, 0, 0, 64, 56, 0, 64, 0, 0)
    path.write_bytes(ident + rest)
    path.chmod(0o755)
    return path


@pytest.mark.parametrize("elf_class, machine, what", [
    (1, 3, "a 32-bit x86 (i386) ELF program"),
    (2, 183, "a 64-bit AArch64 (arm64) ELF program"),
], ids=["i386", "aarch64"])
def test_a_foreign_elf_is_refused_at_start_saying_only_x86_64_runs(tmp_path, elf_class, machine, what):
    prog = _elf_header(tmp_path / "prog", elf_class, machine)
    r = pylinuxabi(prog)
    assert (r.returncode, r.stderr) == (126, f"pylinuxabi: {prog}: {what}: only x86-64 programs are supported\n")
    r = pylinuxabi("-e", f"PATH={tmp_path}", "prog")
    assert (r.returncode, r.stderr) == (126, f"pylinuxabi: prog: {what}: only x86-64 programs are supported\n")


def test_exec_of_a_foreign_elf_inside_the_sandbox_is_ENOEXEC_as_natively(tmp_path):
    prog = _elf_header(tmp_path / "prog", 2, 183)
    code = f"import os\ntry:\n    os.execv({str(prog)!r}, ['prog'])\nexcept OSError as e:\n    print(e.errno)\n"
    native = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
    assert native.stdout == "8\n"
    r = pylinuxabi("/usr/bin/python3", "-c", code)
    assert (r.returncode, r.stdout) == (0, native.stdout)


# --------------------------------------------------------------------------
# the report of unimplemented syscalls

REPORT = "pylinuxabi: unimplemented syscalls used: tuxcall (2), security (1)\n"


def test_unimplemented_syscalls_are_not_reported_on_the_programs_stderr_by_default(build):
    r = pylinuxabi(build("unimpl"))
    assert (r.returncode, r.stderr) == (0, "")


def test_report_to_a_file(build, tmp_path):
    log = tmp_path / "report"
    r = pylinuxabi(f"--report={log}", build("unimpl"))
    assert (r.returncode, r.stderr) == (0, "")
    assert log.read_text() == REPORT


def test_bare_report_goes_to_stderr_and_does_not_take_the_program_as_its_file(build):
    r = pylinuxabi("--report", build("unimpl"))
    assert (r.returncode, r.stderr) == (0, REPORT)
