"""Writable volumes (`-v HOST:GUEST`) and a persistent upper layer (`--upper DIR`).

A writable volume is the host directory itself: what the program does there
must be found on the host afterwards, and nothing outside it may change;
names resolve in the sandbox's tree (`..`, symlinks), and no host symlink is
followed on the host side. `--upper DIR` keeps the overlay's changes in DIR,
in Linux overlayfs's on-disk format, for the next run (and for the host's own
overlayfs). The file-API programs (tests/programs/files_*.c, which work in a
fresh directory under /tmp) must behave as natively on ext4 when /tmp is a
writable volume or lives in a host upper layer.
"""
import hashlib
import os
import signal
import stat
import subprocess
import time
import uuid

import pytest

from conftest import REPO_ROOT, run_sandboxed, sandbox_command

pytestmark = pytest.mark.timeout(300)

FILE_PROGRAMS = ["files_create", "files_rename_link", "files_attr", "files_locks",
                 "files_memfd_copy", "files_inotify"]


def snapshot(top):
    """{relative path: (type, mode, uid, gid, size, mtime, content or link target)} of a host tree."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(top):
        for name in dirnames + filenames:
            p = os.path.join(dirpath, name)
            s = os.lstat(p)
            if stat.S_ISLNK(s.st_mode):
                body = os.readlink(p)
            elif stat.S_ISREG(s.st_mode):
                with open(p, "rb") as f:
                    body = hashlib.sha256(f.read()).hexdigest()
            else:
                body = s.st_rdev
            out[os.path.relpath(p, top)] = (stat.S_IFMT(s.st_mode), stat.S_IMODE(s.st_mode), s.st_uid,
                                            s.st_gid, s.st_size, s.st_mtime_ns, body)
    return out


def py(code):
    """argv that runs python3 -c code in the sandbox."""
    return ["/usr/bin/python3", "-c", code]


# -- writable volumes ------------------------------------------------------------------

def test_a_writable_volume_makes_the_programs_changes_on_the_host_and_nowhere_else(tmp_path, run_sandboxed):
    vol = tmp_path / "vol"
    vol.mkdir()
    (vol / "keep").write_text("keep\n")
    (vol / "edit").write_text("old\n")
    (vol / "remove").write_text("x\n")
    (vol / "d").mkdir()
    (vol / "d" / "inner").write_text("inner\n")
    (tmp_path / "outside").write_text("outside\n")
    etc_before = snapshot("/etc")
    outside_before = os.lstat(tmp_path / "outside")
    script = """set -e
        echo new > new; echo more >> edit; rm remove; mkdir made; printf data > made/f
        ln -s new link; ln new hard; mv keep kept; chmod 600 kept; rm -r d; mkfifo fifo
        ls -A | sort | tr '\\n' ' '"""
    result = run_sandboxed(["-v", f"{vol}:/vol", "--workdir", "/vol", "/bin/sh", "-c", script])
    assert result.returncode == 0, result.stderr
    assert result.stdout == "edit fifo hard kept link made new "
    assert sorted(os.listdir(vol)) == ["edit", "fifo", "hard", "kept", "link", "made", "new"]
    assert (vol / "new").read_text() == "new\n"
    assert (vol / "edit").read_text() == "old\nmore\n"
    assert (vol / "made" / "f").read_text() == "data"
    assert os.readlink(vol / "link") == "new"
    assert os.stat(vol / "new").st_nlink == 2 and os.path.samefile(vol / "new", vol / "hard")
    assert stat.S_IMODE(os.stat(vol / "kept").st_mode) == 0o600 and (vol / "kept").read_text() == "keep\n"
    assert stat.S_ISFIFO(os.lstat(vol / "fifo").st_mode)
    # nothing but the volume changed
    assert sorted(os.listdir(tmp_path)) == ["outside", "vol"]
    after = os.lstat(tmp_path / "outside")
    assert (after.st_mtime_ns, after.st_size) == (outside_before.st_mtime_ns, outside_before.st_size)
    assert snapshot("/etc") == etc_before


def test_what_the_program_creates_on_a_volume_is_owned_by_its_virtual_ids(tmp_path, run_sandboxed):
    vol = tmp_path / "vol"
    vol.mkdir(mode=0o777)
    os.chmod(vol, 0o777)
    sg = vol / "sg"
    sg.mkdir()
    os.chown(sg, 0, 1234)
    os.chmod(sg, 0o2777)
    script = "set -e; umask 022; echo x > mine; mkdir sg/d; echo y > sg/f; ln -s mine sg/l"
    result = run_sandboxed(["--user", "1000:1000", "-v", f"{vol}:/vol", "--workdir", "/vol",
                            "/bin/sh", "-c", script])
    assert result.returncode == 0, result.stderr
    owners = {name: (s.st_uid, s.st_gid, stat.S_IMODE(s.st_mode))
              for name in ("mine", "sg/d", "sg/f")
              for s in [os.lstat(vol / name)]}
    assert owners == {"mine": (1000, 1000, 0o644),
                      "sg/d": (1000, 1234, 0o2755),     # a setgid directory passes on its group and bit
                      "sg/f": (1000, 1234, 0o644)}
    link = os.lstat(vol / "sg" / "l")
    assert (link.st_uid, link.st_gid) == (1000, 1234)
    result = run_sandboxed(["-v", f"{vol}:/vol", "/bin/sh", "-c", "echo z > /vol/roots"])
    assert result.returncode == 0, result.stderr
    s = os.lstat(vol / "roots")
    assert (s.st_uid, s.st_gid) == (0, 0)


# the guest path of the volume: one the host's / has, so that a read-only root can mount on it
GUEST = "/mnt"
ESCAPES = """
import errno, os
for path in ["/mnt/root/{m}1", "/mnt/up/{m}2", "/mnt/abs/{m}3", "/mnt/../{m}4", "/mnt/sub/../../{m}5"]:
    try:
        with open(path, "w") as f:
            f.write("x")
        print(path, "written", os.path.exists("/" + os.path.basename(path)))
    except OSError as e:
        print(path, errno.errorcode[e.errno])
print(os.path.samefile("/mnt/root", "/"), os.path.samefile("/mnt/up", "/"), os.path.samefile("/mnt/..", "/"))
"""


def _escape_volume(tmp_path):
    vol = tmp_path / "vol"
    (vol / "sub").mkdir(parents=True)
    os.symlink("/", vol / "root")
    os.symlink("../../../../../../..", vol / "up")
    os.symlink(str(tmp_path), vol / "abs")
    return vol


def test_dotdot_and_symlinks_in_a_volume_resolve_in_a_read_only_sandbox_root(tmp_path, run_sandboxed):
    vol = _escape_volume(tmp_path)
    marker = "pla-escape-" + uuid.uuid4().hex[:8]
    result = run_sandboxed(["--read-only", "-v", f"{vol}:{GUEST}", *py(ESCAPES.format(m=marker))])
    assert result.returncode == 0, result.stderr
    # every path leaves the volume into the sandbox's read-only root, whose "/" they all name
    assert result.stdout.splitlines() == [
        f"/mnt/root/{marker}1 EROFS", f"/mnt/up/{marker}2 EROFS", f"/mnt/abs/{marker}3 EROFS",
        f"/mnt/../{marker}4 EROFS", f"/mnt/sub/../../{marker}5 EROFS", "True True True"]
    assert sorted(os.listdir(vol)) == ["abs", "root", "sub", "up"]
    assert not any(name.startswith(marker) for name in os.listdir(tmp_path) + os.listdir("/"))


def test_dotdot_and_symlinks_in_a_volume_resolve_in_the_sandboxs_overlay(tmp_path, run_sandboxed):
    vol = _escape_volume(tmp_path)
    marker = "pla-escape-" + uuid.uuid4().hex[:8]
    try:
        result = run_sandboxed(["-v", f"{vol}:{GUEST}", *py(ESCAPES.format(m=marker))])
        assert result.returncode == 0, result.stderr
        # written, into the sandbox's copy-on-write "/" (the third into its copy of
        # tmp_path): never on the host
        assert result.stdout.splitlines() == [
            f"/mnt/root/{marker}1 written True", f"/mnt/up/{marker}2 written True",
            f"/mnt/abs/{marker}3 written False", f"/mnt/../{marker}4 written True",
            f"/mnt/sub/../../{marker}5 written True", "True True True"]
        assert not any(name.startswith(marker) for name in os.listdir(tmp_path) + os.listdir("/"))
        assert sorted(os.listdir(vol)) == ["abs", "root", "sub", "up"]
    finally:
        for name in os.listdir("/"):
            if name.startswith(marker):
                os.unlink("/" + name)


def test_a_host_symlink_planted_in_a_volume_is_never_followed_on_the_host(tmp_path, run_sandboxed):
    outside = tmp_path / "outside"
    outside.mkdir()
    secret = outside / "secret"
    secret.write_text("secret\n")
    os.chmod(secret, 0o644)
    vol = tmp_path / "vol"
    vol.mkdir()
    os.symlink(str(secret), vol / "link")          # a host path: it means nothing in the sandbox's tree
    os.symlink(str(outside), vol / "dirlink")
    before = snapshot(outside)
    code = """
import errno, os
def show(what, fn, *args, **kw):
    try:
        fn(*args, **kw)
        print(what, "ok")
    except OSError as e:
        print(what, errno.errorcode[e.errno])
show("write", lambda: open("/vol/link", "w").write("pwned"))
show("append", lambda: open("/vol/link", "a").write("pwned"))
show("truncate", os.truncate, "/vol/link", 0)
show("chmod", os.chmod, "/vol/link", 0o777)
show("chown", os.chown, "/vol/link", 1000, 1000)
show("utime", os.utime, "/vol/link", (0, 0))
show("setxattr", os.setxattr, "/vol/link", "user.x", b"1")
show("create under", lambda: open("/vol/dirlink/new", "w"))
show("mkdir under", os.mkdir, "/vol/dirlink/newdir")
show("nofollow", os.open, "/vol/link", os.O_WRONLY | os.O_NOFOLLOW)
show("lchown", os.chown, "/vol/link", 1000, 1000, follow_symlinks=False)
show("rename", os.rename, "/vol/link", "/vol/link2")
show("unlink", os.unlink, "/vol/dirlink")
"""
    result = run_sandboxed(["--read-only", "-v", f"{vol}:{GUEST}", *py(code.replace("/vol/", "/mnt/"))])
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "write EROFS", "append EROFS", "truncate EROFS", "chmod EROFS", "chown EROFS", "utime EROFS",
        "setxattr EROFS", "create under EROFS", "mkdir under EROFS", "nofollow ELOOP",
        "lchown ok", "rename ok", "unlink ok"]
    assert snapshot(outside) == before
    assert sorted(os.listdir(vol)) == ["link2"]
    link = os.lstat(vol / "link2")
    assert stat.S_ISLNK(link.st_mode) and (link.st_uid, link.st_gid) == (1000, 1000)
    assert os.readlink(vol / "link2") == str(secret)


def test_a_read_only_volume_refuses_every_change_with_EROFS(tmp_path, run_sandboxed):
    vol = tmp_path / "vol"
    vol.mkdir()
    (vol / "f").write_text("f\n")
    (vol / "d").mkdir()
    before = snapshot(vol)
    code = """
import errno, os
for what, fn in [("open", lambda: open("/vol/f", "a")), ("create", lambda: open("/vol/g", "w")),
                 ("mkdir", lambda: os.mkdir("/vol/e")), ("unlink", lambda: os.unlink("/vol/f")),
                 ("rmdir", lambda: os.rmdir("/vol/d")), ("rename", lambda: os.rename("/vol/f", "/vol/h")),
                 ("chmod", lambda: os.chmod("/vol/f", 0o600)), ("symlink", lambda: os.symlink("f", "/vol/s")),
                 ("link", lambda: os.link("/vol/f", "/vol/l")), ("truncate", lambda: os.truncate("/vol/f", 0)),
                 ("setxattr", lambda: os.setxattr("/vol/f", "user.x", b"1"))]:
    try:
        fn()
        print(what, "ok")
    except OSError as e:
        print(what, errno.errorcode[e.errno])
print(open("/vol/f").read(), end="")
"""
    result = run_sandboxed(["-v", f"{vol}:/vol:ro", *py(code)])
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [f"{w} EROFS" for w in ("open", "create", "mkdir", "unlink", "rmdir",
                                          "rename", "chmod", "symlink", "link", "truncate", "setxattr")] + ["f"]
    assert snapshot(vol) == before


@pytest.mark.parametrize("name", FILE_PROGRAMS)
def test_file_programs_on_a_writable_volume_behave_as_on_ext4(name, build, tmp_path, run_native, run_sandboxed,
                                                              assert_same_behaviour):
    """Natively they work in /tmp (ext4 here); in the sandbox /tmp is a host directory on ext4."""
    vol = tmp_path / "tmp"
    vol.mkdir()
    os.chmod(vol, 0o1777)
    binary = build(name)
    native = run_native([binary])
    # the binary may itself live under /tmp (a checkout there), which the volume hides
    sandboxed = run_sandboxed(["-v", f"{vol}:/tmp", "-v", f"{binary.parent}:/opt/programs:ro",
                               f"/opt/programs/{binary.name}"])
    assert_same_behaviour([binary], native, sandboxed)
    assert os.listdir(vol) == []        # each program removes its own directory


# -- --upper DIR ---------------------------------------------------------------------------

LOWER_FILES = {"modified": "lower\n", "deleted": "deleted\n", "renamed": "renamed\n",
               "redone/a": "a\n", "redone/b": "b\n", "kept/k": "k\n"}
CHANGES = """set -e; cd "$1"
echo created > created; echo more >> modified; rm deleted; mv renamed renamed2
rm -r redone; mkdir redone; echo fresh > redone/only
"""
SHOW = """set -e; cd "$1"
ls -A | tr '\\n' ' '; echo; ls -A redone kept | tr '\\n' ' '; echo
cat created modified renamed2 redone/only
"""
SHOWN = "created kept modified redone renamed2 \nkept: k  redone: only \ncreated\nlower\nmore\nrenamed\nfresh\n"


@pytest.fixture
def lower(tmp_path):
    top = tmp_path / "lower"
    for rel, text in LOWER_FILES.items():
        (top / rel).parent.mkdir(parents=True, exist_ok=True)
        (top / rel).write_text(text)
    return top


def run_with_upper(upper, argv):
    return run_sandboxed(["--upper", upper, *argv])


def start_sandboxed(argv):
    """A sandboxed run in the background, in a process group of its own."""
    env = dict(os.environ, LC_ALL="C", PYTHONPATH=str(REPO_ROOT / "src"))
    return subprocess.Popen(sandbox_command(argv), env=env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)


def test_upper_keeps_a_runs_changes_for_the_next_run_and_the_host_lower_is_untouched(lower, tmp_path):
    upper = tmp_path / "upper"
    before = snapshot(lower)
    first = run_with_upper(upper, ["/bin/sh", "-c", CHANGES, "sh", lower])
    assert first.returncode == 0, first.stderr
    assert snapshot(lower) == before
    second = run_with_upper(upper, ["/bin/sh", "-c", SHOW + "test ! -e deleted && test ! -e renamed",
                                    "sh", lower])
    assert second.returncode == 0, second.stderr
    assert second.stdout == SHOWN
    # without the upper layer the sandbox sees the lower tree as it is
    plain = run_sandboxed(["/bin/sh", "-c", "cd $1; ls -A | tr '\\n' ' '", "sh", lower])
    assert plain.stdout == "deleted kept modified redone renamed "


def test_upper_is_in_linux_overlayfs_on_disk_format(lower, tmp_path):
    upper = tmp_path / "upper"
    result = run_with_upper(upper, ["/bin/sh", "-c", CHANGES, "sh", lower])
    assert result.returncode == 0, result.stderr
    here = upper / os.path.relpath(lower, "/")
    for whiteout in ("deleted", "renamed"):
        s = os.lstat(here / whiteout)
        assert stat.S_ISCHR(s.st_mode) and s.st_rdev == 0, f"{whiteout} is a 0/0 character device"
    assert os.getxattr(here / "redone", "trusted.overlay.opaque") == b"y"
    assert sorted(os.listdir(here / "redone")) == ["only"]
    assert (here / "modified").read_text() == "lower\nmore\n"
    assert (here / "renamed2").read_text() == "renamed\n"
    assert (here / "created").read_text() == "created\n"
    assert not (here / "kept").exists()         # never changed: never copied up
    # a copied-up object keeps the lower one's owner, mode and times
    for up, low in ((here / "renamed2", lower / "renamed"), (here, lower)):
        u, lo = os.lstat(up), os.lstat(low)
        assert (u.st_mode, u.st_uid, u.st_gid) == (lo.st_mode, lo.st_uid, lo.st_gid), up
    assert os.lstat(here / "renamed2").st_mtime_ns == os.lstat(lower / "renamed").st_mtime_ns
    # objects are built in the work directory and renamed into place: nothing is left there
    names = [n for _, dirs, files in os.walk(upper) for n in dirs + files]
    assert not [n for n in names if n.startswith("#")]
    assert os.listdir(str(upper) + ".work/work") == []


def test_the_hosts_own_overlayfs_sees_what_the_sandbox_wrote(lower, tmp_path):
    upper = tmp_path / "upper"
    result = run_with_upper(upper, ["/bin/sh", "-c", CHANGES, "sh", lower])
    assert result.returncode == 0, result.stderr
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    mount = subprocess.run(["mount", "-t", "overlay", "overlay", "-o",
                            f"lowerdir=/,upperdir={upper},workdir={upper}.work", str(mnt)],
                           capture_output=True, text=True)
    if mount.returncode != 0:
        pytest.skip(f"cannot mount overlayfs here: {mount.stderr.strip()}")
    try:
        shown = subprocess.run(["/bin/sh", "-c", SHOW, "sh", str(mnt) + str(lower)],
                               capture_output=True, text=True, timeout=30)
    finally:
        subprocess.run(["umount", str(mnt)], check=True)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout == SHOWN


def test_one_upper_directory_serves_one_run_at_a_time(lower, tmp_path):
    upper = tmp_path / "upper"
    holder = start_sandboxed(["--upper", upper, "/bin/sleep", "60"])
    try:
        deadline = time.monotonic() + 60
        while not os.path.isdir(str(upper) + ".work/work") and time.monotonic() < deadline:
            time.sleep(0.1)
        second = run_with_upper(upper, ["/bin/true"])
        assert second.returncode == 125
        assert second.stderr.startswith("pylinuxabi: ") and "in use by another run" in second.stderr
        assert holder.poll() is None
    finally:
        os.killpg(holder.pid, signal.SIGKILL)
        holder.wait()


KILLED_LOOP = """cd "$1"
i=0
while :; do
    i=$((i + 1))
    for n in 1 2 3 4; do
        mv f$n g$n; mv g$n f$n
        rm -r d$n; mkdir d$n; echo $i > d$n/mark
        echo $i >> f$n
    done
    touch started
done
"""
KILLED_CHECK = """cd "$1"
for n in 1 2 3 4; do
    [ -e f$n ] && [ -e g$n ] && echo "both f$n and g$n"
    [ -e f$n ] || [ -e g$n ] || echo "neither f$n nor g$n"
    first=$(cat f$n g$n 2>/dev/null | head -1)
    [ "$first" = f$n ] || echo "f$n starts with $first"
    [ -d d$n ] || continue
    case "$(ls -A d$n | tr '\\n' ' ')" in
        "lower " | "mark " | "") ;;
        *) echo "d$n holds: $(ls -A d$n | tr '\\n' ' ')" ;;
    esac
done
echo checked
"""


def test_a_killed_run_leaves_the_upper_directory_consistent(tmp_path):
    """Kill -9 in the middle of renames, whiteouts and opaque directories: every name
    is there exactly once and no directory mixes its lower and upper contents."""
    top = tmp_path / "lower"
    top.mkdir()
    for n in range(1, 5):
        (top / f"f{n}").write_text(f"f{n}\n")
        (top / f"d{n}").mkdir()
        (top / f"d{n}" / "lower").write_text("lower\n")
    upper = tmp_path / "upper"
    proc = start_sandboxed(["--upper", upper, "/bin/sh", "-c", KILLED_LOOP, "sh", top])
    try:
        deadline = time.monotonic() + 60
        marker = upper / os.path.relpath(top, "/") / "started"
        while not marker.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(1.5)
        assert proc.poll() is None, proc.stderr.read().decode()
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    names = [n for _, dirs, files in os.walk(upper) for n in dirs + files]
    assert not [n for n in names if n.startswith("#")], "a scratch object reached the upper directory"
    deadline = time.monotonic() + 30
    while True:         # the killed supervisor's lock goes with its last process
        check = run_with_upper(upper, ["/bin/sh", "-c", KILLED_CHECK, "sh", top])
        if "in use by another run" not in check.stderr or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert check.returncode == 0, check.stderr
    assert check.stdout == "checked\n"


def test_RENAME_WHITEOUT_in_a_host_upper_is_EINVAL_as_overlayfs_gives(lower, tmp_path):
    code = f"""
import ctypes, errno, os
libc = ctypes.CDLL(None, use_errno=True)
r = libc.syscall(316, -100, b"{lower}/modified", -100, b"{lower}/moved", 4)
print(r, errno.errorcode.get(ctypes.get_errno()))
"""
    result = run_with_upper(tmp_path / "upper", py(code))
    assert result.returncode == 0, result.stderr
    assert result.stdout == "-1 EINVAL\n"


@pytest.mark.parametrize("name", [n for n in FILE_PROGRAMS if n != "files_rename_link"])
def test_file_programs_over_a_host_upper_behave_as_on_ext4(name, build, tmp_path, run_native,
                                                           assert_same_behaviour):
    """The programs' /tmp directory is copied up into a host upper layer on ext4.
    (files_rename_link uses RENAME_WHITEOUT, which overlayfs refuses: the test above.)"""
    binary = build(name)
    native = run_native([binary])
    sandboxed = run_with_upper(tmp_path / "upper", [binary])
    assert_same_behaviour([binary], native, sandboxed)
    assert os.listdir(tmp_path / "upper" / "tmp") == []
