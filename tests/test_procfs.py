"""/proc for processes, from the model: what a process reads of itself matches
Linux (pids aside, which the sandbox numbers on its own)."""
import pytest

pytestmark = pytest.mark.timeout(60)

SNIPPETS = {
    "cmdline": "cat /proc/self/cmdline | od -c",
    "comm_of_exec": "cat /proc/self/comm; exec /bin/cat /proc/self/comm",
    "comm_of_shell": "cat /proc/$$/comm",
    "status_name_and_ids": "grep -E '^(Name|Umask|State|Uid|Gid|Threads):' /proc/self/status",
    "stat_name_and_state": "cut -d' ' -f2-3 /proc/self/stat",
    "environ": "env -i A=1 B=2 /bin/cat /proc/self/environ | od -c",
    "maps_names": "grep -o '/usr/bin/cat' /proc/self/maps | sort -u",
    "fd_links": "ls -l /proc/self/fd/ 2>&1 | grep -c -- '->'",
    "exe": "readlink /proc/self/exe",
    "limits": "cat /proc/self/limits",
    # a pipe opened again through its fd link is a new end of the same pipe (pipefs's
    # fifo_open: no wait for a partner, no ENXIO): /dev/stdin, /dev/stdout, as asyncio's
    # subprocess tests read them
    "reopen_pipes": "printf abc | (cat /dev/stdin; echo; [ /proc/self/fd/0 -ef /dev/stdin ] && echo same) | "
                    "(exec 3</proc/self/fd/0; cat <&3; readlink /proc/self/fd/3 | tr -d 0-9; "
                    "echo to the write end > /dev/stdout) | cat",
    "machine_files": "cat /proc/version; grep -c processor /proc/cpuinfo; grep MemTotal /proc/meminfo; "
                     "grep -c . /proc/filesystems",
}


@pytest.mark.parametrize("name", sorted(SNIPPETS))
def test_proc_self_matches_native(name, run_native, run_sandboxed, assert_same_behaviour):
    argv = ["/bin/sh", "-c", SNIPPETS[name]]
    assert_same_behaviour(argv, run_native(argv), run_sandboxed(argv))


@pytest.mark.parametrize("variant", ["dynamic", "static"])
def test_proc_thread_self_is_the_reading_threads_task_directory(variant, build, run_native, run_sandboxed,
                                                                 assert_same_behaviour):
    """/proc/thread-self links to <tgid>/task/<tid> of whichever thread reads it
    (tests/programs/proc_thread_self.c: main thread, another thread, a child)."""
    binary = build("proc_thread_self", variant)
    native = run_native([binary])
    assert native.returncode == 0 and "NO\n" not in native.stdout, native.stdout
    assert_same_behaviour([binary], native, run_sandboxed([binary]))


def test_proc_self_is_our_pid_and_hides_the_supervisors_mappings(run_sandboxed):
    result = run_sandboxed(["/bin/sh", "-c", "readlink /proc/self; cat /proc/self/maps"])
    lines = result.stdout.splitlines()
    assert lines[0].isdigit() and int(lines[0]) > 2
    assert not any("pylinuxabi" in line or line.startswith("7e00000") for line in lines[1:])


def test_closing_fds_while_reading_proc_self_fd_skips_none(run_sandboxed):
    """CPython's fallback for close_range: read /proc/self/fd a few entries at a
    time, closing as it goes; positions are fd numbers, as in proc_readfd."""
    code = ("import os, subprocess, sys\n"
            "fds = [x for _ in range(5) for x in os.pipe()]\n"
            "for fd in fds: os.set_inheritable(fd, True)\n"
            "out = subprocess.check_output([sys.executable, '-c', 'import os; print(sorted(map(int, os.listdir(\"/proc/self/fd\"))))'],"
            " close_fds=True, pass_fds=(fds[0],))\n"
            "print(out.decode().strip() == str([0, 1, 2, fds[0], 4 if fds[0] == 3 else 3]))\n")
    result = run_sandboxed(["/usr/bin/python3", "-c", code])
    assert result.stdout == "True\n", result.stderr
