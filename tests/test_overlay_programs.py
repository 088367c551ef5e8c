"""Real programs that write, under the default copy-on-write root.

Each script runs natively in a fresh host directory and under pylinuxabi in
a directory that exists only inside the sandbox; stdout and status must be
the same. Around the sandboxed runs, a digest of the host trees they read
and wrote (every file's metadata and bytes) must not change, and the
sandbox's directory must not appear on the host.
"""
import hashlib
import os
import shutil
import stat
import uuid

import pytest

pytestmark = [pytest.mark.timeout(300), pytest.mark.slow]

WATCHED = ["/etc", "/usr/share/doc", "/usr/lib/python3/dist-packages/pip" ]


def tree_digest(paths):
    """sha256 over (path, mode, uid, gid, size, mtime, link target or bytes) of every object."""
    h = hashlib.sha256()
    for top in paths:
        if not os.path.lexists(top):
            continue
        for dirpath, dirnames, filenames in os.walk(top):
            dirnames.sort()
            for name in [""] + sorted(filenames) + dirnames:
                p = os.path.join(dirpath, name) if name else dirpath
                s = os.lstat(p)
                h.update(f"{p}|{s.st_mode}|{s.st_uid}|{s.st_gid}|{s.st_size}|{s.st_mtime_ns}|".encode())
                if stat.S_ISLNK(s.st_mode):
                    h.update(os.readlink(p).encode())
                elif stat.S_ISREG(s.st_mode):
                    try:
                        with open(p, "rb") as f:
                            for chunk in iter(lambda: f.read(1 << 20), b""):
                                h.update(chunk)
                    except PermissionError:
                        pass
    return h.hexdigest()


SCRIPTS = {
    "tar_roundtrip": """
        tar czf a.tgz /usr/share/doc 2>/dev/null
        mkdir x && tar xzf a.tgz -C x && diff -r --no-dereference /usr/share/doc x/usr/share/doc && echo same
    """,
    "cp_a": """
        cp -a /usr/share/doc doc && diff -r --no-dereference /usr/share/doc doc && echo same
        # metadata cp -a keeps (directory sizes are the filesystem's own: tmpfs is not ext4)
        find doc -type d -printf '%p %M %n %U %G %T@\n' -o -printf '%p %M %n %U %G %T@ %s %l\n' | sort | md5sum
    """,
    "git": """
        git init -q r && cd r && printf 'one\\n' > f && mkdir d && printf 'two\\n' > d/g
        git add f d && git -c user.name=t -c user.email=t@example.com commit -qm first
        git log --format=%s && git cat-file -p 'HEAD^{tree}' && git status --short && git fsck --no-progress
    """,
    "sqlite3": """
        sqlite3 db 'create table t(a, b); begin;
            with recursive c(x) as (select 1 union all select x + 1 from c where x < 10000)
            insert into t select x, x * 2 from c; commit;
            select count(*), sum(b) from t; pragma integrity_check;'
    """,
    "compileall": """
        cp -r /usr/lib/python3/dist-packages/pip/_internal/cli tree
        python3 -m compileall -q tree && ls tree/__pycache__ | wc -l
        python3 -c 'import sys; sys.path.insert(0, "tree"); import parser' 2>&1 | tail -1
    """,
    "find_xdev": """
        find /usr -xdev -name '*.py' | wc -l
    """,
    "shell_changes": """
        echo hi > /etc/motd && cat /etc/motd
        rm -rf /usr/share/doc && ls /usr/share/doc 2>&1 | sed 's/.*: //'
        mkdir -p /usr/share/doc/new && ls /usr/share/doc
    """,
}


@pytest.mark.parametrize("name", list(SCRIPTS))
def test_writing_programs_match_native_and_leave_the_host_unchanged(name, run_native, run_sandboxed,
                                                                    assert_same_behaviour, tmp_path):
    for tool in ("tar", "git", "sqlite3", "python3", "find"):
        if tool in SCRIPTS[name] and shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed")
    if name == "compileall" and not os.path.isdir("/usr/lib/python3/dist-packages/pip/_internal/cli"):
        pytest.skip("no Debian pip package to compile")
    script = "set -e; cd \"$1\"\n" + SCRIPTS[name]
    native_dir = tmp_path / "native"
    native_dir.mkdir()
    if name == "shell_changes":
        native = None          # it changes the host: what the sandbox must show is stated below
    else:
        native = run_native(["/bin/sh", "-c", script, "sh", native_dir])
        assert native.returncode == 0, native.stderr
    guest_dir = f"/tmp/pylinuxabi-{uuid.uuid4().hex}"
    before = tree_digest(WATCHED)
    sandboxed = run_sandboxed(["/bin/sh", "-c", f"mkdir -p {guest_dir}; " + script, "sh", guest_dir])
    assert tree_digest(WATCHED) == before, "the sandboxed run changed the host"
    assert not os.path.exists(guest_dir)
    if native is None:
        assert sandboxed.returncode == 0, sandboxed.stderr
        assert sandboxed.stdout == "hi\nNo such file or directory\nnew\n"
    else:
        assert_same_behaviour([name], native, sandboxed)
