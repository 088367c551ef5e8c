"""/proc, /sys and /dev files that programs and test suites read (issue 11, defect 6):
/proc/config.gz, smaps, smaps_rollup, pagemap, ns/, sysvipc/, writable sysctls, inotify
fdinfo, ksm and transparent huge pages, hugetlbfs — run natively and under pylinuxabi
(tests/programs/proc_extras*.c), as root and as a user, comparing what is stable."""
import re
import shutil

import pytest
from conftest import reachable

pytestmark = pytest.mark.timeout(120)

AS_USER = ["setpriv", "--reuid=1000", "--regid=1000", "--clear-groups"]
needs_setpriv = pytest.mark.skipif(shutil.which("setpriv") is None, reason="setpriv (util-linux) missing")
PARTS = ["config", "smaps", "pagemap", "ns"]


@pytest.mark.parametrize("part", PARTS)
@pytest.mark.parametrize("variant", ["dynamic", "static"])
def test_proc_files_of_a_process_match_native(variant, part, build, run_native, run_sandboxed,
                                              assert_same_behaviour):
    """config.gz as the host has it; smaps's blocks are maps's lines; smaps_rollup sums
    them; pagemap's entries (present, exclusive, file bits) and errors; ns/ links whose
    target, stat and open fd agree, the same in parent and child."""
    binary = build("proc_extras", variant)
    native = run_native([binary, part])
    assert native.returncode == 0 and not re.search(r"\bNO\b", native.stdout), native.stdout
    assert_same_behaviour([binary, part], native, run_sandboxed([binary, part]))


@needs_setpriv
@pytest.mark.parametrize("part", PARTS)
def test_proc_files_of_a_process_match_native_as_a_user(part, build, run_native, run_sandboxed,
                                                        assert_same_behaviour):
    """The same as an unprivileged user (a write open of a namespace is EPERM before the
    permission check: nsfs inodes are immutable)."""
    binary = reachable(build("proc_extras"))
    native = run_native([*AS_USER, binary, part])
    assert native.returncode == 0, native.stderr
    argv = ["--user", "1000:1000", binary, part]
    assert_same_behaviour(argv, native, run_sandboxed(argv))


def test_root_may_open_proc_files_for_writing_and_the_writes_fail(run_native, run_sandboxed,
                                                                  assert_same_behaviour):
    """procfs has no open check of its own: root opens read-only files for writing; a
    write is EINVAL (no write operation) or, for /proc's own files, EIO."""
    script = ("for f in /proc/self/status /proc/self/maps /proc/cpuinfo /proc/self/smaps; do "
              "(echo x > $f) 2>&1 | sed 's/.*: //'; done; : > /proc/self/maps && echo truncated")
    argv = ["/bin/sh", "-c", script]
    assert_same_behaviour(argv, run_native(argv), run_sandboxed(argv))


def test_config_gz_reads_as_the_hosts_kernel_configuration(run_native, run_sandboxed, assert_same_behaviour):
    """What a test framework does to learn the kernel's options."""
    argv = ["/bin/sh", "-c", "zcat /proc/config.gz 2>&1 | grep -E '^CONFIG_(IKCONFIG|NAMESPACES|HUGETLBFS)=' "
            "|| echo no config"]
    assert_same_behaviour(argv, run_native(argv), run_sandboxed(argv))


def test_ns_links_read_with_ordinary_tools(run_native, run_sandboxed, assert_same_behaviour):
    argv = ["/bin/sh", "-c", "ls /proc/self/ns; stat -L -c '%F %a %h %s' /proc/self/ns/*; "
            "for n in /proc/self/ns/*; do readlink $n | sed 's/[0-9]*]$/N]/'; done; "
            "[ \"$(readlink /proc/$$/ns/mnt)\" = \"$(readlink /proc/self/ns/mnt)\" ] && echo same"]
    assert_same_behaviour(argv, run_native(argv), run_sandboxed(argv))


def test_smaps_and_pagemap_never_show_the_reserved_range(run_sandboxed):
    """The supervisor's own mappings (the reserved range at 0x7e0000000000) are hidden
    from smaps as from maps, and their pagemap entries read as never mapped."""
    code = ("import struct\n"
            "smaps = open('/proc/self/smaps').read()\n"
            "print(any(l.startswith('7e00000') for l in smaps.splitlines()))\n"
            "with open('/proc/self/pagemap', 'rb') as f:\n"
            "    f.seek(0x7e0000000000 // 4096 * 8)\n"
            "    print(set(struct.unpack('1040Q', f.read(1040 * 8))))\n")
    result = run_sandboxed(["/usr/bin/python3", "-c", code])
    assert result.stdout == "False\n{0}\n", result.stderr


# -- /proc/sysvipc ------------------------------------------------------------------
def test_sysvipc_files_show_the_objects_in_linuxs_columns(build, run_native, run_sandboxed, assert_same_behaviour):
    """Each object's line, rebuilt from IPC_STAT with Linux's format, is the file's;
    a removed segment still attached is listed keyless with SHM_DEST."""
    binary = build("proc_extras_ipc")
    native = run_native([binary])
    assert native.returncode == 0 and not re.search(r"\bNO\b", native.stdout), native.stdout + native.stderr
    assert_same_behaviour([binary], native, run_sandboxed([binary]))


@pytest.mark.skipif(shutil.which("ipcs") is None, reason="ipcs (util-linux) missing")
def test_ipcs_lists_the_sandboxs_objects(build, run_native, run_sandboxed, assert_same_behaviour):
    """ipcs reads /proc/sysvipc first; the objects a program left are listed."""
    binary = build("proc_extras_ipc")
    key = "0x5ca1ab1f"
    script = (f"{binary} {key} && ipcs -m -s -q | grep -i {key} | awk '{{print $1, $4, $5, $6}}'; "
              f"ipcrm -M {key} -S {key} -Q {key}")
    argv = ["/bin/sh", "-c", script]
    native = run_native(argv)
    assert native.stdout.count(key) == 3, native.stdout + native.stderr
    assert_same_behaviour(argv, native, run_sandboxed(argv))


# -- writable sysctls ---------------------------------------------------------------
NEW_NAMESPACES = ["unshare", "-u", "-p", "-f"]
needs_unshare = pytest.mark.skipif(shutil.which("unshare") is None, reason="unshare (util-linux) missing")


@needs_unshare
def test_sysctls_the_sandbox_holds_take_writes_as_linux(build, run_native, run_sandboxed, assert_same_behaviour):
    """hostname and domainname (64 bytes, up to a newline), pipe-max-size, tainted and
    ns_last_pid (numbers: EINVAL when malformed or out of range), core_pattern.
    Natively in new UTS and PID namespaces, machine-wide ones rewritten unchanged."""
    binary = build("proc_extras_sysctl")
    native = run_native([*NEW_NAMESPACES, binary])
    assert native.returncode == 0 and "5001: yes" in native.stdout, native.stdout + native.stderr
    assert_same_behaviour([binary], native, run_sandboxed([binary]))


@needs_unshare
@needs_setpriv
def test_sysctls_refuse_a_user(build, run_native, run_sandboxed, assert_same_behaviour):
    """Their modes refuse a user (EACCES), but ns_last_pid's (0666): there the handler
    asks for CAP_SYS_ADMIN or CAP_CHECKPOINT_RESTORE (EPERM)."""
    import socket
    binary = reachable(build("proc_extras_sysctl"))
    native = run_native([*NEW_NAMESPACES, *AS_USER, binary])
    assert native.returncode == 0 and "ns_last_pid: EPERM" in native.stdout, native.stdout + native.stderr
    argv = ["--hostname", socket.gethostname(), "--user", "1000:1000", binary]
    assert_same_behaviour(argv, native, run_sandboxed(argv))


def test_pipe_max_size_written_is_what_F_SETPIPE_SZ_enforces(run_sandboxed):
    """A new pipe-max-size (rounded up to a power-of-two number of pages) is the limit
    for an unprivileged F_SETPIPE_SZ (EPERM over it); the host's never changes."""
    with open("/proc/sys/fs/pipe-max-size") as f:
        host = f.read()
    code = ("import fcntl, os\n"
            "open('/proc/sys/fs/pipe-max-size', 'w').write('4097')\n"
            "print(open('/proc/sys/fs/pipe-max-size').read().strip())\n"
            "os.setresgid(1000, 1000, 1000); os.setresuid(1000, 1000, 1000)\n"
            "r, w = os.pipe()\n"
            "print(fcntl.fcntl(r, 1031, 8192))\n"
            "try:\n"
            "    fcntl.fcntl(r, 1031, 16384)\n"
            "except OSError as e:\n"
            "    print(e.errno == 1)\n")
    result = run_sandboxed(["/usr/bin/python3", "-c", code])
    assert result.stdout == "8192\n8192\nTrue\n", result.stderr
    with open("/proc/sys/fs/pipe-max-size") as f:
        assert f.read() == host


def test_hosts_sysctls_stay_read_only_and_hostname_follows_writes(run_sandboxed):
    """The host's sysctls are read-only to the sandbox (EROFS, as docker's /proc/sys);
    a hostname written is the one uname gives."""
    script = ("echo 60 > /proc/sys/vm/swappiness 2>/dev/null || echo refused; "
              "echo 1 > /proc/sys/kernel/pid_max 2>/dev/null || echo refused; "
              "echo written-name > /proc/sys/kernel/hostname && hostname; "
              "python3 -c \"import os; print(os.uname().nodename)\"")
    result = run_sandboxed(["/bin/sh", "-c", script])
    assert result.stdout == "refused\nrefused\nwritten-name\nwritten-name\n", result.stderr
    err = run_sandboxed(["/usr/bin/python3", "-c", "import os\ntry:\n    os.open('/proc/sys/vm/swappiness', os.O_WRONLY)\n"
                         "except OSError as e:\n    print(e.errno == 30)"])
    assert err.stdout == "True\n", err.stderr
