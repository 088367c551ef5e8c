"""Attacks beyond issue 10's list: lent host fds, the network namespace, volumes, the overlay.

Judged on the host where there is a host side (files, namespaces); the lent fds
by the errno the program gets, since a named fd leaves no trace on the host.
"""
import os

import pytest

from .hostside import describe, run_attack, supervisor_survived


@pytest.mark.timeout(120)
def test_the_supervisors_lent_host_fds_cannot_be_named(attack):
    result = run_attack([attack("beyond"), "lent_fds"])
    answers = [line.split()[-1] for line in result.stdout.splitlines()]
    assert len(answers) == 14 and set(answers) == {"EBADF"}, describe(result)
    assert supervisor_survived(result), describe(result)


@pytest.mark.timeout(120)
def test_by_default_the_program_is_in_a_network_namespace_of_its_own(attack, sandbox):
    box = sandbox([attack("beyond"), "wait"])
    assert box.readline() == "ready\n"
    theirs = {os.readlink(f"/proc/{p.pid}/ns/net") for p in box.program_processes()}
    result = box.finish()
    assert os.readlink("/proc/self/ns/net") not in theirs, describe(result)


@pytest.mark.timeout(120)
def test_nothing_escapes_a_volume_by_dotdot_or_symlinks(attack, host_dir):
    vol, outside = host_dir / "vol", host_dir / "outside"
    vol.mkdir()
    outside.mkdir()
    os.chmod(outside, 0o777)
    (vol / "hostlink").symlink_to(outside)
    result = run_attack([attack("beyond"), "volume", host_dir], options=["-v", f"{vol}:/mnt"])
    assert "volume: tried" in result.stdout, describe(result)
    assert sorted(os.listdir(outside)) == [], describe(result)
    assert supervisor_survived(result), describe(result)


@pytest.mark.timeout(120)
def test_writes_through_the_default_overlay_never_reach_the_host(attack, host_dir):
    existing = host_dir / "existing"
    existing.write_text("original")
    os.chmod(existing, 0o644)
    result = run_attack([attack("beyond"), "overlay", host_dir])
    assert "overlay: tried" in result.stdout, describe(result)
    assert existing.read_text() == "original" and existing.stat().st_mode & 0o777 == 0o644
    assert sorted(os.listdir(host_dir)) == ["existing"], describe(result)
