"""Differential tests: each program in tests/programs/ must behave the same
(stdout and exit status) under pylinuxabi as when run natively.

Program -> syscalls covered:
  hello            write, exit_group (smoke test)
  open_close       open, openat, creat (errors only), close, close_range
  read_write       read, write, readv, writev, pread64, pwrite64, preadv,
                   pwritev, preadv2, pwritev2, lseek
  stat             stat, lstat, fstat, newfstatat, statx
  access_readlink  access, faccessat, faccessat2, readlink, readlinkat
  dirs             getdents64, getcwd, chdir, fchdir
  fds              dup, dup2, dup3, fcntl, ioctl
  sysmisc          umask, uname, sysinfo, getrandom
  ids              getpid, gettid, getppid, get[e]uid, get[e]gid, getgroups,
                   setuid, setgid, getrlimit, prlimit64
  thread_state     arch_prctl, set_tid_address, set_robust_list, rseq
  exit_status      exit, exit_group (exit status only)
"""
import pytest

pytestmark = pytest.mark.timeout(120)

# every program is built dynamically; these also static and static-pie
PROGRAMS = {
    "hello": ("dynamic", "static", "static-pie"),
    "open_close": ("dynamic",),
    "read_write": ("dynamic", "static", "static-pie"),
    "stat": ("dynamic", "static"),
    "access_readlink": ("dynamic",),
    "dirs": ("dynamic",),
    "fds": ("dynamic", "static-pie"),
    "sysmisc": ("dynamic", "static"),
    "ids": ("dynamic", "static", "static-pie"),
    "thread_state": ("dynamic", "static", "static-pie"),
    "xattr_statfs": ("dynamic",),
    "setids": ("dynamic", "static"),
    "pipes": ("dynamic", "static"),
    "poll": ("dynamic",),
    "prctl_clone": ("dynamic", "static"),
    "thread_exec": ("dynamic",),
    "files_create": ("dynamic", "static"),
    "files_rename_link": ("dynamic",),
    "files_attr": ("dynamic",),
    "files_locks": ("dynamic",),
    "files_memfd_copy": ("dynamic",),
    "files_inotify": ("dynamic",),
    "pipe_size": ("dynamic",),
    "restart_block": ("dynamic", "static"),
}
SLOW = {"dirs"}

# exit_status MODE -> the exit status it must produce
EXIT_MODES = {
    "exit": 3,
    "exit_group": 5,
    "wrap": 7,
    "negative": 255,
    "libc": 42,
    "unflushed": 9,
    "return": 0,
}
EXIT_VARIANTS = ("dynamic", "static", "static-pie")


def _program_params():
    for name, variants in PROGRAMS.items():
        for variant in variants:
            marks = [pytest.mark.slow] if name in SLOW else []
            yield pytest.param(name, variant, id=f"{name}-{variant}", marks=marks)


def _exit_params():
    for variant in EXIT_VARIANTS:
        for mode, status in EXIT_MODES.items():
            yield pytest.param(variant, mode, status, id=f"{mode}-{variant}")


@pytest.mark.parametrize("name,variant", list(_program_params()))
def test_native_is_deterministic(build, run_native, name, variant):
    """The programs themselves must be deterministic and succeed natively,
    or a difference under the supervisor means nothing."""
    binary = build(name, variant)
    first = run_native([binary])
    second = run_native([binary])
    assert first.returncode == 0, first.stderr
    assert first.stdout == second.stdout
    assert "NO\n" not in first.stdout   # a CHECK() failed natively


@pytest.mark.parametrize("name,variant", list(_program_params()))
def test_program(build, run_native, run_sandboxed, assert_same_behaviour, name, variant):
    binary = build(name, variant)
    native = run_native([binary])
    sandboxed = run_sandboxed([binary])
    assert_same_behaviour([binary], native, sandboxed)


@pytest.mark.parametrize("variant,mode,status", list(_exit_params()))
def test_exit_status(build, run_native, run_sandboxed, assert_same_behaviour,
                     variant, mode, status):
    binary = build("exit_status", variant)
    native = run_native([binary, mode])
    assert native.returncode == status, "the program itself is wrong"
    sandboxed = run_sandboxed([binary, mode])
    assert_same_behaviour([binary, mode], native, sandboxed)
