"""Differential tests with real programs: busybox (static), coreutils
(dynamic) and the host's python3 must print the same stdout and exit with
the same status under `pylinuxabi run --strict` as natively.

Every input is a stable host file (/etc/passwd, /etc/os-release, /etc/skel,
/usr/share/misc, /usr), read-only on both sides.  Also: how `pylinuxabi run`
reports a program it cannot start (127 not found, 126 found but not
executable), as POSIX shells and env(1) do.
"""
import os
import shutil
import sys

import pytest

pytestmark = pytest.mark.timeout(120)

BUSYBOX = shutil.which("busybox")
needs_busybox = pytest.mark.skipif(
    BUSYBOX is None, reason="busybox not installed (CI installs busybox-static)")

# Debian's python3 if the machine has one, else the interpreter running us
PYTHON3 = "/usr/bin/python3" if os.access("/usr/bin/python3", os.X_OK) else sys.executable


def check_same(argv, run_native, run_sandboxed, assert_same_behaviour):
    native = run_native(argv)
    sandboxed = run_sandboxed(argv)
    assert_same_behaviour(argv, native, sandboxed)
    return native, sandboxed


# --------------------------------------------------------------------------
# busybox applets (one static binary: no dynamic loader, its own syscall mix)

BUSYBOX_CASES = {
    "echo": ["echo", "hello", "world"],
    "echo_n": ["echo", "-n", "no newline"],
    "cat": ["cat", "/etc/passwd"],
    "cat_two_files": ["cat", "/etc/passwd", "/etc/os-release"],
    "cat_missing_file_exit_1": ["cat", "/nonexistent/file"],
    "ls_la_etc_skel": ["ls", "-la", "/etc/skel"],
    "ls_usr_share_misc": ["ls", "/usr/share/misc"],
    "ls_l_usr_share_misc": ["ls", "-l", "/usr/share/misc"],
    "wc": ["wc", "/etc/passwd"],
    "wc_l": ["wc", "-l", "/etc/passwd"],
    "sort": ["sort", "/etc/passwd"],
    "sort_numeric_field": ["sort", "-t:", "-k3", "-n", "/etc/passwd"],
    "sha256sum": ["sha256sum", "/etc/passwd", "/etc/os-release"],
    "head": ["head", "-n", "3", "/etc/passwd"],
    "tail": ["tail", "-n", "3", "/etc/passwd"],
    "grep_match": ["grep", "root", "/etc/passwd"],
    "grep_no_match_exit_1": ["grep", "no-such-user-pylinuxabi", "/etc/passwd"],
    "grep_c": ["grep", "-c", "/bin/", "/etc/passwd"],
    "sed": ["sed", "-n", "s/:.*//p", "/etc/passwd"],
    "sed_line_range": ["sed", "-n", "2,4p", "/etc/os-release"],
}


@needs_busybox
@pytest.mark.parametrize("args", BUSYBOX_CASES.values(), ids=BUSYBOX_CASES.keys())
def test_busybox_applet_same_output_and_status(args, run_native, run_sandboxed,
                                               assert_same_behaviour):
    check_same([BUSYBOX, *args], run_native, run_sandboxed, assert_same_behaviour)


@needs_busybox
def test_busybox_grep_no_match_exits_1(run_sandboxed):
    # the differential test above compares with native; this pins the value
    r = run_sandboxed([BUSYBOX, "grep", "no-such-user-pylinuxabi", "/etc/passwd"])
    assert (r.returncode, r.stdout) == (1, "")


# --------------------------------------------------------------------------
# dynamic coreutils

@pytest.mark.parametrize("argv", [
    ["/bin/ls", "-la", "/usr"],
    ["/bin/ls", "-la", "/etc/skel"],
    ["/bin/cat", "/etc/os-release"],
], ids=["ls_la_usr", "ls_la_etc_skel", "cat_os_release"])
def test_coreutils_same_output_and_status(argv, run_native, run_sandboxed,
                                          assert_same_behaviour):
    check_same(argv, run_native, run_sandboxed, assert_same_behaviour)


def test_ls_la_usr_writes_nothing_on_stderr(run_native, run_sandboxed):
    """ls itself complains of nothing (our report of unimplemented syscalls aside)."""
    argv = ["/bin/ls", "-la", "/usr"]
    assert run_native(argv).stderr == ""
    own = [line for line in run_sandboxed(argv).stderr.splitlines()
           if not line.startswith("pylinuxabi: unimplemented syscalls used:")]
    assert own == []


# --------------------------------------------------------------------------
# the host's python3: a big dynamic program, many files opened and stat'ed

PY_SNIPPETS = {
    "listdir_root_json":
        'import json,os; print(json.dumps(sorted(os.listdir("/"))))',
    "read_etc_passwd":
        'print(open("/etc/passwd").read(), end="")',
    "stat_stable_fields":
        'import os\n'
        'for p in ("/etc/passwd", "/usr", "/etc/skel/.profile"):\n'
        '    s = os.stat(p)\n'
        '    print(p, oct(s.st_mode), s.st_size, s.st_uid, s.st_gid, s.st_nlink, s.st_mtime_ns)\n'
        's = os.lstat("/usr/share/misc/magic"); print(oct(s.st_mode), s.st_size)',
    "listdir_usr_share_misc":
        'import os; print(sorted(os.listdir("/usr/share/misc")))',
    "scandir_types":
        'import os; print(sorted((e.name, e.is_dir(), e.is_file(), e.is_symlink())'
        ' for e in os.scandir("/usr/share/misc")))',
    "symlinks":
        'import os; print(os.readlink("/usr/share/misc/magic"),'
        ' os.path.realpath("/usr/share/misc/magic"), os.path.islink("/usr/share/misc/magic"))',
    "sha256_of_file":
        'import hashlib; print(hashlib.sha256(open("/etc/passwd", "rb").read()).hexdigest())',
    "seek_tell_pread":
        'import os\n'
        'f = open("/etc/passwd", "rb"); f.seek(10); a = f.read(20)\n'
        'print(f.tell(), a, f.seek(-5, 2), f.read())\n'
        'fd = os.open("/etc/passwd", os.O_RDONLY)\n'
        'print(os.pread(fd, 16, 5), os.fstat(fd).st_size == os.lseek(fd, 0, 2))',
    "open_errors":
        'import errno\n'
        'for p in ("/nonexistent", "/etc/passwd/x", "/etc"):\n'
        '    try: open(p)\n'
        '    except OSError as e: print(p, errno.errorcode[e.errno])',
    "fork_and_wait":
        'import os\n'
        'pid = os.fork()\n'
        'if pid == 0: os._exit(7)\n'
        'print(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))',
    "sys_exit_3":
        'import sys; print("bye"); sys.exit(3)',
}


@pytest.mark.parametrize("code", PY_SNIPPETS.values(), ids=PY_SNIPPETS.keys())
def test_python3_same_output_and_status(code, run_native, run_sandboxed,
                                        assert_same_behaviour):
    check_same([PYTHON3, "-c", code], run_native, run_sandboxed, assert_same_behaviour)


# --------------------------------------------------------------------------
# a program that cannot be started: 127 not found, 126 found but not run
# (POSIX "Command Search and Execution"; env(1) and docker run do the same)

@pytest.mark.parametrize("program", ["/nonexistent/program", "no-such-program-pylinuxabi"])
def test_program_not_found_exits_127_with_message(program, run_native, run_sandboxed):
    native = run_native(["env", program])
    sandboxed = run_sandboxed([program])
    assert native.returncode == 127
    assert sandboxed.returncode == 127
    assert sandboxed.stdout == ""
    assert program in sandboxed.stderr
    assert "No such file or directory" in sandboxed.stderr


def test_non_executable_file_exits_126_with_message(tmp_path, run_native, run_sandboxed):
    program = tmp_path / "true-without-x"
    shutil.copy("/bin/true", program)
    program.chmod(0o644)
    assert run_native(["env", program]).returncode == 126
    sandboxed = run_sandboxed([program])
    assert sandboxed.returncode == 126
    assert str(program) in sandboxed.stderr
    assert "Permission denied" in sandboxed.stderr


@pytest.mark.parametrize("program, message", [
    ("/etc", "Permission denied"),                  # a directory: EACCES
    ("/etc/passwd", "Permission denied"),           # mode 0644
    ("/etc/passwd/x", "Not a directory"),           # ENOTDIR: found-but-not-run, as env says
])
def test_path_that_cannot_be_executed_exits_126(program, message, run_native, run_sandboxed):
    assert run_native(["env", program]).returncode == 126
    sandboxed = run_sandboxed([program])
    assert sandboxed.returncode == 126
    assert message in sandboxed.stderr


def test_executable_without_exec_format_exits_126(tmp_path, run_sandboxed):
    # execve gives ENOEXEC (no ELF header, no #!); the shell's fallback of
    # running it as a script is a libc/shell convention, not the kernel's
    program = tmp_path / "garbage"
    program.write_bytes(b"\x00\x01not a program\n")
    program.chmod(0o755)
    sandboxed = run_sandboxed([program])
    assert sandboxed.returncode == 126
    assert "Exec format error" in sandboxed.stderr


def test_shebang_script_runs_its_interpreter(tmp_path, run_native, run_sandboxed,
                                             assert_same_behaviour):
    script = tmp_path / "script.sh"
    script.write_text("#!/bin/sh\necho \"$0 got $1\"\nexit 5\n")
    script.chmod(0o755)
    native, _ = check_same([script, "arg"], run_native, run_sandboxed, assert_same_behaviour)
    assert native.returncode == 5
