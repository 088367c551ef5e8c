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
  dev_pty          /dev/ptmx and /dev/pts: posix_openpt, grantpt, unlockpt,
                   ptsname, openpty, ttyname; ioctl TIOCGPTN, TIOCSPTLCK,
                   TIOCGPTLCK, TIOCGPTPEER, TIOCGDEV, TIOCPKT, TIOCSIG, termios,
                   window size, TIOCSCTTY/TIOCNOTTY/TIOCGPGRP/TIOCSPGRP/TIOCGSID;
                   poll and hang-ups of either side
  files_openat2    openat2 (open_how sizes, strict flags, every RESOLVE_*),
                   name_to_handle_at, open_by_handle_at (errors)
  files_chroot     chroot, pivot_root (errors), getcwd "(unreachable)",
                   /proc/self/{root,cwd}, '..' at the new root, exec inside it
  pidfd            pidfd_open, pidfd_send_signal, pidfd_getfd, waitid(P_PIDFD),
                   clone/clone3 CLONE_PIDFD, /proc/self/fdinfo
  proc_wait        wait4, waitid (WNOHANG, WNOWAIT, WUNTRACED/WSTOPPED,
                   WCONTINUED, __WALL, __WCLONE), a zombie and a stopped child
                   in /proc/<pid>/{stat,status,comm,cmdline,exe,fd}, wait
                   statuses of children killed by signals
  proc_vfork_exec  vfork then execve, _exit or a failed exec; posix_spawn with
                   file actions; system()
  proc_orphan      reparenting of orphans (to init, to a
                   PR_SET_CHILD_SUBREAPER), PR_SET_PDEATHSIG, setsid, getsid,
                   setpgid of a double-forked daemon
  proc_signals     pselect6 and ppoll signal masks (the handler's mask and the
                   one restored after), SIGPIPE with a handler or blocked, a
                   parked pipe write interrupted before and after writing,
                   SIGCHLD ignored, SA_NOCLDSTOP
  proc_threads_fds threads sharing an fd table: a blocked read keeps its file
                   across close and dup2 of its fd, a blocked poll keeps its
                   file open across close, reads racing dup2/close,
                   concurrent open/pipe/close
  proc_pthreads    8 threads: mutex counter, condvar producer/consumer queue,
                   barrier, thread-specific data, a read blocked meanwhile;
                   pthread_setname_np/getname_np through /proc/self/task/<tid>/
                   comm, /proc/<pid>/comm written, /proc/<pid>/task/<tid>/stat
  ipc_epoll        epoll_create, epoll_create1, epoll_ctl, epoll_wait, epoll_pwait,
                   epoll_pwait2: LT/ET/ONESHOT, ready-list order, nesting, waits
                   ended by threads, processes, timeouts and signals, fdinfo
  ipc_eventfd      eventfd, eventfd2 (EFD_SEMAPHORE, overflow, 8-byte rules,
                   readv/writev), timerfd_create, timerfd_settime,
                   timerfd_gettime (each clock, absolute and periodic,
                   TFD_IOC_SET_TICKS); blocking reads and writes, poll, select
                   and epoll woken by threads, children, signals and expiries;
                   fdinfo, /proc/self/fd links, fstat of the anonymous inode
  ipc_unix         AF_UNIX sockets: socket, socketpair, bind (paths, abstract,
                   autobind), listen, accept4, connect, send/recv families and
                   their flags, sendmmsg/recvmmsg, SCM_RIGHTS, SCM_CREDENTIALS,
                   SO_PASSCRED, SO_PEERCRED, shutdown, EPIPE/SIGPIPE, options,
                   SIOCINQ/SIOCOUTQ, poll, blocking, timeouts, bad input
  fcntl_getfl      F_GETFL of a file of each kind made close-on-exec (found by
                   conform: TIOCGPTPEER's file keeps O_CLOEXEC)
  proc_resethand   SA_RESETHAND: the disposition after delivery, a reset signal
                   and a handled one both ending a ppoll/pselect6 with its own
                   mask (the handler's mask), blocking reads, fork, SIG_IGN
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
    "dev_pty": ("dynamic", "static"),
    "files_openat2": ("dynamic",),
    "files_chroot": ("dynamic", "static"),
    "pidfd": ("dynamic",),
    "proc_wait": ("dynamic", "static"),
    "proc_vfork_exec": ("dynamic", "static-pie"),
    "proc_orphan": ("dynamic",),
    "proc_signals": ("dynamic", "static"),
    "proc_threads_fds": ("dynamic", "static"),
    "proc_pthreads": ("dynamic", "static"),
    "ipc_epoll": ("dynamic", "static"),
    "ipc_eventfd": ("dynamic", "static"),
    "ipc_unix": ("dynamic", "static"),
    "proc_resethand": ("dynamic", "static"),
    "creds_caps": ("dynamic", "static"),
    "fcntl_getfl": ("dynamic",),
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
