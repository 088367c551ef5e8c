"""Capabilities as real programs see them: capsh and setpriv (libcap, util-linux)
give the same transcript natively and sandboxed; --cap-drop/--cap-add shape the
sandbox's root as docker's options do; set-uid programs run with their owner's
rights. tests/programs/creds_caps.c checks the syscalls one by one."""
import shutil
import subprocess
import sys

import pytest

pytestmark = [pytest.mark.timeout(120),
              pytest.mark.skipif(shutil.which("capsh") is None or shutil.which("setpriv") is None,
                                 reason="capsh (libcap2-bin) or setpriv (util-linux) missing")]

# Each line one program; what it prints (and its status) must match native.
TRANSCRIPT = r"""
capsh --print | grep -v '^Current IAB'
setpriv --reuid=1000 --regid=1000 --clear-groups id
setpriv --reuid=1000 --regid=1000 --clear-groups grep Cap /proc/self/status
setpriv --reuid=1000 --regid=1000 --clear-groups --inh-caps=+net_raw --ambient-caps=+net_raw grep Cap /proc/self/status
capsh --drop=cap_chown -- -c 'touch /tmp/cap-x; chown 5 /tmp/cap-x; echo chown=$?; rm /tmp/cap-x'
capsh --keep=1 --user=nobody --caps=cap_dac_override+eip -- -c 'grep Cap /proc/self/status' 2>&1
capsh --secbits=0x2f --print | grep Securebits
setpriv --reuid=1000 --regid=1000 --clear-groups cat /etc/shadow >/dev/null; echo shadow=$?
capsh --drop=cap_setuid -- -c 'setpriv --reuid=1000 id; echo r=$?' 2>&1
capsh --user=nobody -- -c 'id -u; grep CapEff /proc/self/status'
"""


def _run(argv):
    return subprocess.run(argv, capture_output=True, cwd="/", stdin=subprocess.DEVNULL, timeout=100)


def sandboxed(*options_and_argv):
    return _run([sys.executable, "-m", "pylinuxabi", "run", "--strict", *options_and_argv])


def test_capsh_and_setpriv_transcript_is_native():
    native = _run(["sh", "-c", TRANSCRIPT])
    ours = sandboxed("sh", "-c", TRANSCRIPT)
    assert native.returncode == 0, native.stderr
    assert ours.stdout.decode() == native.stdout.decode()
    assert ours.returncode == native.returncode


def _status_caps(result):
    return dict(line.split(":\t") for line in result.stdout.decode().splitlines() if line.startswith("Cap"))


def test_cap_drop_all_leaves_root_without_capabilities():
    r = sandboxed("--cap-drop", "ALL", "sh", "-c",
                  "grep ^Cap /proc/self/status; touch /tmp/f; chown 5 /tmp/f 2>/dev/null; echo chown=$?")
    caps = _status_caps(r)
    assert set(caps.values()) == {"0000000000000000"}, caps
    assert "chown=1" in r.stdout.decode()


def test_cap_add_after_drop_all_is_dockers_rule():
    r = sandboxed("--cap-drop", "ALL", "--cap-add", "CHOWN", "--cap-add", "cap_kill", "sh", "-c",
                  "grep ^Cap /proc/self/status; touch /tmp/f; chown 5 /tmp/f; echo chown=$?; "
                  "mount -t tmpfs none /mnt 2>/dev/null; echo mount=$?")
    caps = _status_caps(r)
    assert caps["CapBnd"] == caps["CapPrm"] == caps["CapEff"] == "%016x" % (1 << 0 | 1 << 5), caps
    out = r.stdout.decode()
    assert "chown=0" in out and "mount=" in out and "mount=0" not in out


def test_cap_drop_one_matches_capsh_drop():
    """`--cap-drop chown` is what `capsh --drop=cap_chown` does to a root shell natively."""
    script = "grep ^Cap /proc/self/status; touch /tmp/cap-y; chown 5 /tmp/cap-y 2>&1 | sed 's/.*: //'; rm -f /tmp/cap-y"
    native = _run(["capsh", "--drop=cap_chown", "--shell=/bin/sh", "--", "-c", script])
    ours = sandboxed("--cap-drop", "chown", "sh", "-c", script)
    assert ours.stdout == native.stdout
    assert b"Operation not permitted" in ours.stdout


def test_an_unknown_capability_is_a_usage_error():
    r = sandboxed("--cap-drop", "cap_flying", "true")
    assert r.returncode == 125       # docker's status for its own errors
    assert b"cap_flying" in r.stderr


def test_a_set_uid_root_program_reads_what_its_owner_may():
    """passwd -S reads /etc/shadow for the calling user: it works only as set-uid root."""
    native = _run(["setpriv", "--reuid=1000", "--regid=1000", "--clear-groups", "passwd", "-S"])
    ours = sandboxed("--user", "1000:1000", "passwd", "-S")
    assert native.returncode == 0, native.stderr
    assert ours.stdout == native.stdout
    assert ours.returncode == 0
