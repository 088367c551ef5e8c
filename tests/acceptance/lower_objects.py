"""Run by /usr/bin/python3 in a tree of tests/acceptance/test_existing_host_files.py:
`lower_objects.py DIR OP` applies OP to every object of DIR, then prints what it sees.

What it prints is what both kernels must agree on: errno names, types, modes, owners,
sizes, link counts of files, whether mtimes are the tree's, the set one or new, the
data extents and their bytes' digest, link targets, user xattrs.
"""
import errno
import hashlib
import os
import shutil
import subprocess
import sys

STAMP_NS = 1_000_000_000 * 10**9    # the tree's times
SET_NS = 1_200_000_000 * 10**9      # what utimes_set puts
OBJECTS = ["reg", "empty", "sparse", "exec", "setuid", "rootfile", "link", "dir",
           "hard1", "fifo", "dev", "sock"]


def append(name):
    fd = os.open(name, os.O_WRONLY | os.O_APPEND | os.O_NONBLOCK)
    try:
        return os.write(fd, b"more\n")
    finally:
        os.close(fd)


def write_at_2(name):
    fd = os.open(name, os.O_WRONLY | os.O_NONBLOCK)
    try:
        return os.pwrite(fd, b"X", 2)
    finally:
        os.close(fd)


def open_rdwr(name):
    os.close(os.open(name, os.O_RDWR | os.O_NONBLOCK))


def append_and_exec(name):
    append(name)
    r = subprocess.run(["./" + name], capture_output=True, timeout=20)
    return r.returncode, r.stdout


def rename(name):
    # mv: where rename gives EXDEV (overlayfs: a directory with a lower part) it copies,
    # keeping owner, mode, times and xattrs
    return subprocess.run(["mv", name, name + ".mv"], capture_output=True, timeout=20).returncode


def unlink(name):
    if os.path.isdir(name) and not os.path.islink(name):
        shutil.rmtree(name)
    else:
        os.unlink(name)


OPS = {
    "append": append,
    "write_at_2": write_at_2,
    "truncate": lambda n: os.truncate(n, 3),
    "open_rdwr": open_rdwr,
    "append_and_exec": append_and_exec,
    "chmod": lambda n: os.chmod(n, 0o640),
    "chown": lambda n: os.chown(n, 1000, 1000, follow_symlinks=False),
    "utimes_set": lambda n: os.utime(n, ns=(SET_NS, SET_NS), follow_symlinks=False),
    "utimes_now": lambda n: os.utime(n, follow_symlinks=False),
    "setxattr": lambda n: os.setxattr(n, "user.new", b"1", follow_symlinks=False),
    "removexattr": lambda n: os.removexattr(n, "user.test", follow_symlinks=False),
    "link": lambda n: os.link(n, n + ".ln", follow_symlinks=False),
    "rename": rename,
    "unlink": unlink,
    "create_inside": lambda n: os.close(os.open(n + "/new", os.O_CREAT | os.O_WRONLY, 0o600)),
}


def extents(path, size):
    """[(start, end)] of the file's data, and a digest of those bytes."""
    out, h = [], hashlib.sha256()
    with open(path, "rb") as f:
        fd, offset = f.fileno(), 0
        while offset < size:
            try:
                start = os.lseek(fd, offset, os.SEEK_DATA)
            except OSError:
                break
            end = os.lseek(fd, start, os.SEEK_HOLE)
            out.append((start, end))
            f.seek(start)
            left = end - start
            while left:
                chunk = f.read(min(left, 1 << 20))
                h.update(chunk)
                left -= len(chunk)
            offset = end
    return out, h.hexdigest()[:16]


KINDS = {0o100000: "-", 0o040000: "d", 0o120000: "l", 0o010000: "p", 0o020000: "c", 0o140000: "s"}


def when(ns):
    return {STAMP_NS: "tree", SET_NS: "set"}.get(ns, "new")


def describe(path):
    s = os.lstat(path)
    kind = KINDS[s.st_mode & 0o170000]
    fields = [path, kind, "%o" % (s.st_mode & 0o7777), str(s.st_uid), str(s.st_gid), when(s.st_mtime_ns)]
    if kind != "d" and not path.startswith("hard"):     # (see the test: links and directories)
        fields.append("nlink=%d" % s.st_nlink)
    if kind == "-":
        ext, digest = extents(path, s.st_size)
        fields += ["size=%d" % s.st_size, "data=%s" % ext, digest]
        if s.st_size > 1 << 20:
            fields.append("sparse" if s.st_blocks * 512 < s.st_size // 2 else "FILLED")
    if kind == "l":
        fields.append("-> " + os.readlink(path))
    if kind in "-d":
        xattrs = sorted(x for x in os.listxattr(path, follow_symlinks=False) if x.startswith("user."))
        fields.append(",".join(f"{x}={os.getxattr(path, x, follow_symlinks=False)!r}" for x in xattrs))
    return " ".join(fields)


def main(top, op):
    os.chdir(top)
    for name in OBJECTS if op != "none" else ():
        try:
            result = OPS[op](name)
            print(f"{op} {name}: {result!r}" if result is not None else f"{op} {name}: ok")
        except OSError as e:
            print(f"{op} {name}: {errno.errorcode.get(e.errno, e.errno)}")
    print("--")
    for dirpath, dirnames, filenames in os.walk("."):
        dirnames.sort()
        for name in sorted(filenames + dirnames):
            path = os.path.join(dirpath, name)[2:]
            try:
                print(describe(path))
            except OSError as e:
                print(f"{path}: {errno.errorcode.get(e.errno, e.errno)}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
