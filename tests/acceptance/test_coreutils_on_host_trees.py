"""A user's day with coreutils, findutils and tar over /etc and /usr in the default root
(the host's / under a copy-on-write overlay), compared with native.

Three kinds of run:
- reading host trees (ls -lR, find -exec, du, tar c): natively on the host itself, as
  root and as a user; both must see the same bytes, modes, owners, sizes, blocks.
- copying host trees into the sandbox's writable /tmp (cp -a, tar c | tar x): the
  sandbox's in-memory layer is a tmpfs, so the native twin writes to a tmpfs scratch;
  everything is compared, directory sizes and block counts too.
- changing host trees in place (sed -i, chmod -R, chown -R, touch, ln, mv, rm -r,
  find -exec): the sandbox changes the host's own /etc and /usr/share/doc/git (lower
  objects, copied up first); natively the same script runs on a copy of them. What
  overlayfs shows differently from a plain filesystem is left out, not compared: a
  directory's size, link count and the blocks `ls` totals are the upper filesystem's.
Afterwards the host's trees must be unchanged.
"""
import hashlib
import os
import re
import shutil
import stat
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

pytestmark = [pytest.mark.timeout(120), pytest.mark.slow]

DOC = "usr/share/doc/git"     # a documentation tree with subdirectories and symlinks
USER = (1000, 1000)
# the host's network: a network of the sandbox's own mounts its own /etc/hosts and
# /etc/hostname over the host's, as docker does, and these runs compare the host's /etc
HOST_NET = ["--net", "host"]
LS = "ls -lR --time-style=+%s"

READING = {
    # ls sorts, so its output is the tree's, whatever order getdents gives
    "ls_lR": f"{LS} /etc /{DOC} /usr/include /usr/bin /usr/sbin",
    "find_exec": "find /etc -type f -name '*.conf' -exec md5sum {} + | sort; "
                 "find /etc -maxdepth 1 -type d -exec sh -c 'echo \"$1\" $(ls -A \"$1\" | wc -l)' sh {} \\; "
                 "| sort; find /etc -type l -exec readlink {} + | sort | md5sum; "
                 "find /etc -newer /etc/passwd -type f | sort; find /etc -perm -4000 -o -perm -2000 | sort",
    "du": f"du -s /etc /{DOC} /usr/include; du -sb /etc; du -a /etc | sort -k2; du -s --inodes /etc",
    "find_usr": "find /usr/include -name 'std*.h' -exec cat {} + | md5sum; "
                "find /usr/bin /usr/sbin -type l -exec readlink -f {} + | sort | uniq -c | sort -rn | head; "
                "find /usr/bin -perm -4000 -exec ls -l --time-style=+%s {} + | sort -k7",
    "tar_c": f"tar c --sort=name -C / etc {DOC} | md5sum; "
             "tar c -C / etc | tar tvf - --full-time --numeric-owner | sort -k6",
    # find -exec + and xargs fill a 128 KiB command buffer (Linux takes up to a quarter
    # of RLIMIT_STACK, never less than 128 KiB), a shell passes what it was given
    "long_argv": "find /usr/include -name '*.h' -exec cat {} + | md5sum; "
                 "seq 1 18000 | xargs /bin/echo | wc -c; /bin/echo $(seq 1 25000) | wc -c; "
                 "/bin/echo $(seq 1 200000) | wc -c",
}
GAPS = {}     # name -> why it fails today (a strict xfail), none now


def known_gaps(names):
    return [pytest.param(n, marks=pytest.mark.xfail(strict=True, reason=GAPS[n])) if n in GAPS else n
            for n in names]


COPYING = {
    "cp_a": f"cp -a /etc e && {LS} e && du -s e && du -sb e",
    "tar_x": f"tar c -C / etc {DOC} | tar x && {LS} etc usr && du -s etc usr",
    "cp_a_then_change": "cp -a /etc e && chmod -R go-w e/apt && chown -R 1000:1000 e/default && "
                        "sed -i 's/^root:/ROOT:/' e/passwd e/group && mv e/apt e/apt.moved && "
                        f"rm -r e/ssl && ln e/shells e/shells.hard && ln -s shells e/shells.sym && {LS} e",
}

# each is run after `cd "$R"`: R is / in the sandbox (the host's trees, lower objects),
# a copy of /etc and /usr/share/doc/git natively
IN_PLACE = {
    "sed_i": "sed -i -e 's/^root:/ROOT:/' -e '$a # edited' etc/passwd etc/group etc/shells && "
             "tail -n2 etc/passwd etc/group etc/shells && grep '^ROOT:' etc/passwd etc/group && "
             "stat -c '%n %a %u %g %s %h %F' etc/passwd etc/group etc/shells",
    "chmod_R": f"chmod -R g-w,o-rwx etc/apt {DOC} && {LS} etc/apt {DOC}",
    "chown_R": f"chown -R 1000:1000 {DOC} && chown -hR 1000 etc/alternatives && "
               f"{LS} -n {DOC} etc/alternatives",
    "touch": "touch -d @1000000000 etc/hostname etc/shells && touch -h -d @1000000001 etc/os-release && "
             "touch -r etc/shells etc/issue && touch etc/new-file && "
             "stat -c '%n %Y %s %F' etc/hostname etc/shells etc/issue etc/os-release && "
             "stat -c '%n %s %a %u' etc/new-file && find etc/new-file -newer etc/shells",
    "ln": "ln etc/shells etc/shells.hard && ln -s shells etc/shells.sym && ln -sf ../usr/lib/os-release "
          "etc/os-release.2 && ln -s /nonexistent etc/dangling && "
          "stat -c '%n %h %F %s' etc/shells etc/shells.hard && cat etc/shells.sym | md5sum && "
          "readlink etc/shells.sym etc/os-release.2 etc/dangling && "
          "[ etc/shells -ef etc/shells.hard ] && echo same inode && ln etc/shells etc/passwd; echo ln=$?",
    "mv": "mv etc/shells etc/shells.old && mv etc/apt etc/apt.moved && mv etc/apt.moved/sources.list.d "
          f"etc/sources.d && mv {DOC}/RelNotes usr/share/doc/RelNotes && "
          f"{LS} etc/shells.old etc/apt.moved etc/sources.d usr/share/doc/RelNotes && "
          f"ls etc/shells etc/apt {DOC}/RelNotes; echo ls=$?",
    "rm_r": f"rm -r {DOC} && ls -d {DOC}; echo ls=$?; rm -r etc/apt etc/passwd && ls etc/apt; "
            "echo ls=$?; [ -e etc/passwd ] || echo passwd gone; rm -d etc 2>/dev/null; echo rm=$?",
    "find_exec": f"find {DOC} -name '*.txt' -exec sed -i 's/git/GIT/g' {{}} + && "
                 f"find {DOC} -name '*.sh' -exec chmod 600 {{}} \\; && "
                 f"find {DOC} -type d -empty -delete; find {DOC} -name '*.txt' -exec grep -c GIT {{}} + | "
                 f"sort && find {DOC} -perm 600 | sort && {LS} {DOC}",
}

HOST_TREES = ["etc", DOC]


def tree_digest(rel):
    """Everything of a host tree but atimes: a sandboxed run must change none of it."""
    top = Path("/") / rel
    h = hashlib.sha256()
    for p in sorted([top, *top.rglob("*")]):
        s = os.lstat(p)
        h.update(repr((str(p), s.st_mode, s.st_ino, s.st_nlink, s.st_uid, s.st_gid, s.st_size,
                       s.st_mtime_ns, s.st_ctime_ns)).encode())
        if stat.S_ISLNK(s.st_mode):
            h.update(os.readlink(p).encode())
        elif stat.S_ISREG(s.st_mode):
            h.update(p.read_bytes())
    return h.hexdigest()


def hosts_digest():
    return {rel: tree_digest(rel) for rel in HOST_TREES}


@pytest.fixture
def scratch():
    """A tmpfs on the host: the native twin of the sandbox's in-memory writable layer."""
    if not Path("/", DOC).is_dir():
        pytest.skip(f"/{DOC} is missing (scripts/test installs git)")
    top = Path(tempfile.mkdtemp(prefix="pylinuxabi-day-", dir="/var/tmp"))
    mount = subprocess.run(["mount", "-t", "tmpfs", "-o", "mode=755", "tmpfs", str(top)],
                           capture_output=True, text=True)
    if mount.returncode != 0:
        os.rmdir(top)
        pytest.skip(f"cannot mount a tmpfs here: {mount.stderr.strip()}")
    yield top
    subprocess.run(["umount", str(top)], check=True)
    os.rmdir(top)
    shutil.rmtree(upper_dir(top), ignore_errors=True)
    shutil.rmtree(f"{upper_dir(top)}.work", ignore_errors=True)


def upper_dir(scratch):
    """Where --upper keeps the overlay's changes: on the host's disk, beside the scratch
    tmpfs (overlayfs's format needs trusted xattrs)."""
    return Path(f"{scratch}.upper")


def as_user(user):
    return [] if user == "root" else ["setpriv", f"--reuid={USER[0]}", f"--regid={USER[1]}",
                                      "--clear-groups"]


def shell(script, cwd):
    return ["/bin/sh", "-c", 'cd "$1" && ' + script, "sh", cwd]


def copy_host_trees(root):
    """The native twin of the host's trees: /etc and the doc tree, with owners, modes,
    times, links, under root."""
    (root / DOC).parent.mkdir(parents=True)
    subprocess.run(["cp", "-a", "/etc", str(root)], check=True)
    subprocess.run(["cp", "-a", "/" + DOC, str((root / DOC).parent)], check=True)


def new_times(out, since):
    """out with every time (seconds since the epoch) from `since` on as NEW: what the
    run itself made or changed has the time of its run."""
    return re.sub(r"\b1\d{9}\b", lambda m: "NEW" if int(m[0]) >= since else m[0], out)


def upper_view(out):
    """ls -l lines minus what overlayfs takes from its upper filesystem: a directory's
    link count and size, the blocks a listing totals (and the columns' widths, which
    follow from them)."""
    lines = []
    for line in out.splitlines():
        if line.startswith("total "):
            continue
        fields = line.split()
        if re.match(r"d[-rwxsStT]{9}$", fields[0] if fields else ""):
            fields = [fields[0], *fields[2:4], *fields[5:]]
        lines.append(" ".join(fields))
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("user", ["root", "user"])
@pytest.mark.parametrize("name", known_gaps(READING))
def test_reading_host_trees_shows_what_the_host_shows(
        scratch, name, user, run_native, run_sandboxed, assert_same_behaviour):
    """stat, getdents, read and readlink of lower objects are the host's own: ls -lR,
    find -exec, du (blocks, bytes, inodes) and a tar archive are byte for byte the
    native ones, for root and for a user (who is refused /etc/ssl/private as natively)."""
    before = hosts_digest()
    native = run_native([*as_user(user), *shell(READING[name], "/")])
    args = HOST_NET + ([] if user == "root" else ["--user", "%d:%d" % USER])
    sandboxed = run_sandboxed([*args, *shell(READING[name], "/")])
    assert hosts_digest() == before, "the sandboxed run changed the host"
    assert_same_behaviour([name], native, sandboxed)


@pytest.mark.parametrize("name", list(COPYING))
def test_copying_host_trees_into_tmp_gives_what_a_tmpfs_gives(
        scratch, name, run_native, run_sandboxed, assert_same_behaviour):
    """New files in the in-memory layer are a tmpfs's: cp -a and tar x keep modes, owners,
    times and symlinks; ls -lR, du -s and du -sb (directory sizes of 40 + 20 per entry,
    blocks in pages) read as on a native tmpfs."""
    before, since = hosts_digest(), int(time.time())
    native = run_native(shell(COPYING[name], scratch))
    assert native.returncode == 0, native.stderr
    sandboxed = run_sandboxed([*HOST_NET, *shell("mkdir /tmp/day && cd /tmp/day && " + COPYING[name], "/")])
    assert hosts_digest() == before, "the sandboxed run changed the host"
    assert_same_behaviour([name], native._replace(stdout=new_times(native.stdout, since)),
                          sandboxed._replace(stdout=new_times(sandboxed.stdout, since)))


@pytest.mark.parametrize("user, upper", [("root", False), ("root", True), ("user", False)],
                         ids=["root-memory", "root-upper-dir", "user-memory"])
@pytest.mark.parametrize("name", list(IN_PLACE))
def test_changing_host_trees_in_place_is_seen_as_natively_and_leaves_the_host_alone(
        scratch, name, user, upper, run_native, run_sandboxed, assert_same_behaviour):
    """Every change to a lower object (sed -i's rename over it, chmod, lchown, utimensat,
    link, rename of a lower directory — EXDEV, so mv copies —, unlinkat of a lower tree)
    copies up or whites out first: the program sees what it sees natively on a copy of the
    same trees, and the host's trees are unchanged. A user is refused (EACCES, EPERM)
    what root's trees refuse natively."""
    copy_host_trees(scratch / "root")
    since = int(time.time())
    native = run_native([*as_user(user), *shell(IN_PLACE[name], scratch / "root")])
    before = hosts_digest()
    args = HOST_NET + (["--upper", str(upper_dir(scratch))] if upper else [])
    args += [] if user == "root" else ["--user", "%d:%d" % USER]
    sandboxed = run_sandboxed([*args, *shell(IN_PLACE[name], "/")])
    assert hosts_digest() == before, "the sandboxed run changed the host"
    assert_same_behaviour([name], *(r._replace(stdout=upper_view(new_times(r.stdout, since)))
                                    for r in (native, sandboxed)))
