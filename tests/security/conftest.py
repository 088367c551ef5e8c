"""Fixtures for the security suite: attack programs, host directories, sandboxes.

The tools themselves live in hostside.py; these only give them to tests.
"""
import os
import shutil
import tempfile
from pathlib import Path

import pytest

from .hostside import CC, Sandbox, build_attack


@pytest.fixture(scope="session")
def attack():
    """attack(name, static=False) -> Path of the compiled attack program."""
    if shutil.which(CC) is None:
        pytest.skip(f"C compiler {CC!r} not found")
    return build_attack


@pytest.fixture
def host_dir():
    """A fresh host directory anyone may write to (an escaped unprivileged
    process could still leave its marker there); removed afterwards."""
    d = Path(tempfile.mkdtemp(prefix="pylinuxabi-sec-", dir="/tmp"))
    os.chmod(d, 0o777)
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def sandbox():
    """sandbox(argv, options=(), env=None) -> a started Sandbox; killed at teardown."""
    started = []

    def _start(argv, options=(), env=None, **kw):
        s = Sandbox(argv, options, env, **kw)
        started.append(s)
        return s

    yield _start
    for s in started:
        if s.proc.poll() is None:
            s.kill()
            s.proc.communicate()
