"""/sys, /sys/fs/cgroup, /proc/sys, /dev/pts and /dev/console: the files programs
parse. What is the machine's (CPUs, the kernel, machine-wide limits) matches
native; what is the sandbox's (hostname, cgroup, pty numbers, mounts made as
docker makes them, read-only) is stated."""
import os
import shutil
import sys
import uuid

import pytest

pytestmark = pytest.mark.timeout(90)

# the same natively and in the sandbox
SAME_AS_NATIVE = {
    "cpu_count": "python3 -c 'import os; print(os.cpu_count())'; nproc; nproc --all; "
                 "getconf _NPROCESSORS_ONLN; getconf _NPROCESSORS_CONF",
    "cpu_lists": "cd /sys/devices/system/cpu && cat online possible present kernel_max && ls -d cpu[0-9]* && "
                 "cat cpu0/topology/core_id cpu0/topology/thread_siblings_list",
    "transparent_hugepage": "cat /sys/kernel/mm/transparent_hugepage/enabled "
                            "/sys/kernel/mm/transparent_hugepage/hpage_pmd_size",
    "kernel_identity": "cd /proc/sys/kernel && cat ostype osrelease version; uname -r; uname -v",
    "kernel_limits": "cd /proc/sys/kernel && cat threads-max ngroups_max cap_last_cap overflowuid "
                     "overflowgid shmmax shmall random/poolsize",
    "fs_limits": "cd /proc/sys/fs && cat file-max nr_open pipe-max-size pipe-user-pages-soft "
                 "inotify/max_user_watches inotify/max_user_instances inotify/max_queued_events "
                 "mqueue/msg_max protected_hardlinks",
    "vm": "cd /proc/sys/vm && cat overcommit_memory max_map_count swappiness",
    "sysfs_and_devpts_magic": "stat -f -c %t /sys /proc/sys /dev/pts",
    "sysctl_modes": "stat -c '%A %h %s' /proc/sys /proc/sys/kernel /proc/sys/kernel/hostname "
                    "/proc/sys/kernel/ostype /proc/sys/fs/file-nr",
    "sysfs_modes": "stat -c '%A %s' /sys /sys/devices/system/cpu/online /sys/kernel/mm/transparent_hugepage/enabled",
}


@pytest.mark.parametrize("name", sorted(SAME_AS_NATIVE))
def test_machine_facts_match_native(name, run_native, run_sandboxed, assert_same_behaviour):
    argv = ["/bin/sh", "-c", SAME_AS_NATIVE[name]]
    assert_same_behaviour(argv, run_native(argv), run_sandboxed(argv))


def sandboxed_sh(run_sandboxed, script, *options):
    result = run_sandboxed([*options, "/bin/sh", "-c", script])
    assert result.returncode == 0, result.stderr
    return result.stdout


# -- sysfs -------------------------------------------------------------------------
def test_sysfs_names_none_of_the_hosts_devices(run_sandboxed):
    out = sandboxed_sh(run_sandboxed, "ls /sys; echo -; ls /sys/class /sys/block /sys/bus /sys/dev /sys/fs")
    assert out.split("-\n")[0].split() == ["block", "bus", "class", "dev", "devices", "firmware", "fs",
                                         "kernel", "module", "power"]
    assert out.split("-\n")[1].split() == ["/sys/block:", "/sys/bus:", "/sys/class:", "/sys/dev:", "/sys/fs:",
                                         "cgroup"]


def test_ls_and_find_walk_sys_proc_sys_and_dev_pts_without_errors(run_sandboxed):
    script = ("ls -la /sys /proc/sys /dev/pts >/dev/null && find /sys /proc/sys /dev/pts | sort && "
              "find /sys /proc/sys -type f -exec cat {} + | wc -l")
    result = run_sandboxed(["/bin/sh", "-c", script])
    errors = [line for line in result.stderr.splitlines() if "unimplemented syscalls" not in line]
    assert result.returncode == 0 and not errors, result.stderr
    found = set(result.stdout.splitlines())
    for path in ("/sys/devices/system/cpu/online", "/sys/devices/system/cpu/cpu0/topology/core_id",
                 "/sys/fs/cgroup/cgroup.procs", "/sys/fs/cgroup/memory.max",
                 "/sys/kernel/mm/transparent_hugepage/enabled", "/proc/sys/kernel/hostname",
                 "/proc/sys/kernel/random/boot_id", "/proc/sys/fs/inotify/max_queued_events",
                 "/proc/sys/net/core/somaxconn", "/dev/pts/ptmx"):
        assert path in found


def test_sysfs_and_cgroup_are_read_only_mounts_as_dockers(run_sandboxed):
    """/proc/sys is writable: the sysctls the sandbox holds take writes, the host's are
    EROFS one by one (vfs/procsys.py)."""
    out = sandboxed_sh(run_sandboxed, "grep -E ' /(sys|sys/fs/cgroup|proc/sys|dev/pts) ' /proc/mounts")
    assert out.splitlines() == [
        "devpts /dev/pts devpts rw,nosuid,noexec,relatime,gid=5,mode=620,ptmxmode=666 0 0",
        "proc /proc/sys proc rw,nosuid,nodev,noexec,relatime 0 0",
        "sysfs /sys sysfs ro,nosuid,nodev,noexec,relatime 0 0",
        "cgroup /sys/fs/cgroup cgroup2 ro,nosuid,nodev,noexec,relatime 0 0"]


OPEN_FOR_WRITING = ("import errno, os, sys\n"
                    "for path in sys.argv[1:]:\n"
                    "    try:\n"
                    "        os.close(os.open(path, os.O_WRONLY))\n"
                    "        print(path, 'opened')\n"
                    "    except OSError as e:\n"
                    "        print(path, errno.errorcode[e.errno])\n")
WRITE_TARGETS = ["/proc/sys/kernel/hostname", "/proc/sys/vm/swappiness", "/proc/sys/kernel/ostype",
                 "/sys/devices/system/cpu/online", "/sys/kernel/mm/transparent_hugepage/enabled",
                 "/sys/fs/cgroup/cgroup.procs", "/sys/fs/cgroup/memory.max"]


def test_writes_as_root_are_EROFS_except_sysctls_without_a_write_bit(run_sandboxed):
    """docker's read-only mounts: the permission check comes first, and sysctl's
    gives root no override (a 0444 sysctl is EACCES), kernfs's does (EROFS). The
    sysctls the sandbox holds (the hostname) take writes (tests/test_proc_extras.py)."""
    result = run_sandboxed(["/usr/bin/python3", "-c", OPEN_FOR_WRITING, *WRITE_TARGETS])
    assert result.stdout.split() == [
        "/proc/sys/kernel/hostname", "opened", "/proc/sys/vm/swappiness", "EROFS",
        "/proc/sys/kernel/ostype", "EACCES", "/sys/devices/system/cpu/online", "EROFS",
        "/sys/kernel/mm/transparent_hugepage/enabled", "EROFS", "/sys/fs/cgroup/cgroup.procs", "EROFS",
        "/sys/fs/cgroup/memory.max", "EROFS"], result.stderr


def test_writes_as_a_user_are_EACCES(run_sandboxed):
    result = run_sandboxed(["--user", "1000:1000", "/usr/bin/python3", "-c", OPEN_FOR_WRITING, *WRITE_TARGETS])
    assert result.stdout.split()[1::2] == ["EACCES"] * len(WRITE_TARGETS), result.stderr


# -- the sandbox's cgroup ----------------------------------------------------------
def test_cgroup2_root_has_no_limits_and_lists_the_sandboxs_processes(run_sandboxed):
    out = sandboxed_sh(run_sandboxed, "cd /sys/fs/cgroup && cat cgroup.controllers cpu.max memory.max pids.max "
                       "cgroup.type cgroup.subtree_control; echo ---; cat /proc/self/cgroup; echo $$; "
                       "cat cgroup.procs; echo ---; cat pids.current memory.current; "
                       "grep -c . /proc/cgroups; grep -v '^#' /proc/cgroups | cut -f2 | sort -u")
    head, procs, counts = out.split("---\n")
    assert head == "cpuset cpu io memory pids\nmax 100000\nmax\nmax\ndomain\n\n"
    lines = procs.split()
    assert lines[0] == "0::/"
    pids = [int(p) for p in lines[2:]]
    assert int(lines[1]) in pids and pids == sorted(pids) and len(pids) >= 2     # sh and cat at least
    tasks, memory, rows, hierarchies = counts.split()
    assert int(tasks) >= 2 and int(memory) > 0
    assert int(rows) > 4 and hierarchies == "0"      # cgroup v2 only


def test_cgroup2_statfs_magic(run_sandboxed):
    assert sandboxed_sh(run_sandboxed, "stat -f -c %t /sys/fs/cgroup") == "63677270\n"


@pytest.mark.skipif(shutil.which("java") is None, reason="no java on this machine")
def test_the_jvm_finds_the_cgroup2_limits(run_sandboxed):
    result = run_sandboxed(["java", "-Xlog:os+container=trace", "-version"])
    assert result.returncode == 0, result.stderr
    out = result.stdout + result.stderr
    assert "Detected cgroups v2 unified hierarchy" in out
    assert "Raw value for CPU quota is: max" in out
    assert "Memory Limit is: Unlimited" in out
    assert f"OSContainer::active_processor_count: {os.cpu_count()}" in out


# -- /proc/sys ---------------------------------------------------------------------
def test_hostname_is_the_sandboxs_and_follows_sethostname(run_sandboxed):
    out = sandboxed_sh(run_sandboxed, "cat /proc/sys/kernel/hostname /proc/sys/kernel/domainname; uname -n; "
                       "hostname box2 && cat /proc/sys/kernel/hostname && uname -n && "
                       "domainname example.org && cat /proc/sys/kernel/domainname", "--hostname", "box1")
    assert out.split() == ["box1", "(none)", "box1", "box2", "box2", "example.org"]


def test_sethostname_needs_root_and_at_most_64_bytes(run_sandboxed):
    code = ("import errno, socket\n"
            "for name in ('x' * 65, 'ok'):\n"
            "    try:\n"
            "        socket.sethostname(name)\n"
            "        print('set')\n"
            "    except OSError as e:\n"
            "        print(errno.errorcode[e.errno])\n")
    assert run_sandboxed(["/usr/bin/python3", "-c", code]).stdout.split() == ["EINVAL", "set"]
    result = run_sandboxed(["--user", "1000:1000", "/usr/bin/python3", "-c", code])
    assert result.stdout.split() == ["EPERM", "EPERM"], result.stderr


def test_pid_max_is_the_sandboxs_pid_namespaces(run_native, run_sandboxed):
    """Since Linux 6.14 each PID namespace has its own pid_max; the sandbox's is
    what a new namespace gets."""
    native = run_native(["unshare", "--pid", "--fork", "cat", "/proc/sys/kernel/pid_max"])
    if native.returncode != 0:
        pytest.skip(f"cannot make a PID namespace here: {native.stderr.strip()}")
    assert sandboxed_sh(run_sandboxed, "cat /proc/sys/kernel/pid_max") == native.stdout


def test_boot_id_is_stable_and_uuid_new_on_each_read(run_sandboxed):
    out = sandboxed_sh(run_sandboxed, "cd /proc/sys/kernel/random && cat boot_id boot_id uuid uuid")
    boot1, boot2, uuid1, uuid2 = out.split()
    assert boot1 == boot2 and uuid1 != uuid2
    for u in (boot1, uuid1, uuid2):
        assert str(uuid.UUID(u)) == u
    assert boot1 != open("/proc/sys/kernel/random/boot_id").read().strip()     # the sandbox's own boot


def test_pipe_max_size_is_what_F_SETPIPE_SZ_allows(run_sandboxed):
    code = ("import fcntl, os\n"
            "limit = int(open('/proc/sys/fs/pipe-max-size').read())\n"
            "r, w = os.pipe()\n"
            "print(fcntl.fcntl(w, fcntl.F_SETPIPE_SZ, limit) == limit)\n"
            "try:\n"
            "    fcntl.fcntl(w, fcntl.F_SETPIPE_SZ, limit * 2)\n"
            "except PermissionError:\n"
            "    print('EPERM past it')\n")
    result = run_sandboxed(["/usr/bin/python3", "-c", code])
    assert result.stdout == "True\nEPERM past it\n", result.stderr


def test_somaxconn_and_pty_count_are_the_sandboxs(run_sandboxed):
    code = ("import os\n"
            "print(open('/proc/sys/net/core/somaxconn').read().strip())\n"
            "print(open('/proc/sys/kernel/pty/nr').read().strip())\n"
            "m, s = os.openpty()\n"
            "print(open('/proc/sys/kernel/pty/nr').read().strip())\n")
    result = run_sandboxed(["/usr/bin/python3", "-c", code])
    assert result.stdout.split() == ["4096", "0", "1"], result.stderr


def test_proc_lists_sys_and_cgroups(run_sandboxed):
    out = sandboxed_sh(run_sandboxed, "ls /proc | grep -xE 'sys|cgroups'; ls /proc/sys")
    assert out.split() == ["cgroups", "sys", "fs", "kernel", "net", "vm"]


# -- /dev/ptmx, /dev/pts -----------------------------------------------------------
def test_ptmx_is_dockers_link_into_devpts(run_sandboxed):
    out = sandboxed_sh(run_sandboxed, "readlink /dev/ptmx; stat -L -c '%F %t:%T %a' /dev/ptmx; ls -a /dev/pts")
    assert out.split("\n") == ["pts/ptmx", "character special file 5:2 666", ".", "..", "ptmx", ""]


def test_ptys_are_numbered_from_0_with_dockers_owner_and_mode(run_sandboxed):
    code = ("import os, stat\n"
            "m, s = os.openpty()\n"
            "m2, s2 = os.openpty()\n"
            "print(os.ttyname(s), os.ttyname(s2))\n"
            "print(sorted(os.listdir('/dev/pts')))\n"
            "st = os.stat(os.ttyname(s))\n"
            "print(oct(stat.S_IMODE(st.st_mode)), st.st_uid, st.st_gid, os.major(st.st_rdev), os.minor(st.st_rdev))\n"
            "os.close(m)\n"
            "print(sorted(os.listdir('/dev/pts')), os.readlink('/proc/self/fd/%d' % s))\n")
    result = run_sandboxed(["/usr/bin/python3", "-c", code])
    assert result.stdout.splitlines() == [
        "/dev/pts/0 /dev/pts/1", "['0', '1', 'ptmx']", "0o620 0 5 136 0",
        "['1', 'ptmx'] /dev/pts/0 (deleted)"], result.stderr


def test_TIOCGPTPEER_of_a_locked_pty_is_EIO(run_sandboxed):
    """(Natively this also leaks the pty, a kernel bug: not a differential test.)"""
    code = ("import fcntl, os\n"
            "m = os.open('/dev/ptmx', os.O_RDWR | os.O_NOCTTY)\n"
            "try:\n"
            "    fcntl.ioctl(m, 0x5441, os.O_RDWR)\n"
            "except OSError as e:\n"
            "    print(os.strerror(e.errno))\n")
    result = run_sandboxed(["/usr/bin/python3", "-c", code])
    assert result.stdout == "Input/output error\n", result.stderr


# -- /dev/console ------------------------------------------------------------------
def test_no_console_without_a_terminal(run_sandboxed):
    """As docker makes /dev/console only for `-t`."""
    result = run_sandboxed(["/bin/sh", "-c", "ls /dev/console"])
    assert result.returncode != 0 and "No such file" in result.stderr


def test_console_is_the_terminal_we_were_started_on():
    sys.path.insert(0, os.path.dirname(__file__))
    from test_terminal import SANDBOX, run_on_pty
    out, code = run_on_pty(SANDBOX + ["/bin/sh", "-c", "stat -c '%F %t:%T %a' /dev/console; "
                                      "echo to-the-console > /dev/console; "
                                      "python3 -c 'import os; print(os.isatty(os.open(\"/dev/console\", os.O_RDWR)))'"])
    assert code == 0
    lines = [line for line in out.decode().splitlines() if not line.startswith("pylinuxabi:")]
    assert lines == ["character special file 5:1 600", "to-the-console", "True"]


CPYTHON_PTY_TESTS = ["test.test_pty.PtyTest.test_openpty", "test.test_pty.PtyTest.test_master_read",
                     "test.test_pty.PtyTest.test_fork", "test.test_os.FDInheritanceTests.test_openpty",
                     "test.test_termios", "test.test_tty"]


def test_cpythons_own_pty_and_termios_tests_pass(run_sandboxed):
    try:
        import test.test_pty  # noqa: F401
        import test.test_termios  # noqa: F401
    except ImportError:
        pytest.skip(f"{sys.executable} has no test.test_pty / test.test_termios")
    result = run_sandboxed([sys.executable, "-m", "unittest", *CPYTHON_PTY_TESTS])
    assert result.returncode == 0 and "OK" in result.stderr, result.stderr
