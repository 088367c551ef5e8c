"""Path syscalls: open (with openat2 and file handles), stat, access, readlink,
cwd, root (chroot, pivot_root), umask.

Mostly argument checking; names are resolved by our own path walk
(kernel/paths.py) and the work is the inode's.
"""
import errno
import os
import stat as st
import struct

from pylinuxabi.base.abi import FILE_HANDLE, OPEN_HOW, PAGE, pack_stat
from pylinuxabi.base.creds import CAP_SYS_CHROOT, SECURE_NO_SETUID_FIXUP
from pylinuxabi.base.errors import SyscallError, check
from pylinuxabi.kernel.paths import (AT_EACCESS, AT_EMPTY_PATH, AT_FDCWD, AT_NO_AUTOMOUNT, AT_SYMLINK_FOLLOW,
                                     AT_SYMLINK_NOFOLLOW, lookup, read_path, walk_start)
from pylinuxabi.syscalls.registry import syscall
from pylinuxabi.vfs import fsnotify, leases, namei, writecount
from pylinuxabi.vfs.devfs import device_cgroup_permission
from pylinuxabi.vfs.mount import MS_NODEV, Dentry, is_under
from pylinuxabi.vfs.path import (MAXSYMLINKS, RESOLVE_CACHED, RESOLVE_NO_XDEV, RESOLVE_SCOPED, RESOLVE_VALID,
                                 link_target, resolve, resolve_parent)
from pylinuxabi.vfs.file import O_ACCMODE, O_LARGEFILE, O_PATH
from pylinuxabi.vfs.inode import FS_APPEND_FL, R_OK, W_OK, X_OK

O_TMPFILE = 0o20000000
VALID_OPEN_FLAGS = (0o3 | os.O_CREAT | os.O_EXCL | os.O_NOCTTY | os.O_TRUNC | os.O_APPEND
                    | os.O_NONBLOCK | os.O_DSYNC | os.O_ASYNC | os.O_DIRECT | O_LARGEFILE
                    | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_NOATIME | os.O_CLOEXEC | os.O_SYNC
                    | O_PATH | O_TMPFILE)
O_PATH_FLAGS = O_PATH | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
AT_STATX_SYNC_TYPE = 0x6000
AT_HANDLE_MNT_ID_UNIQUE, AT_HANDLE_CONNECTABLE, AT_HANDLE_FID = 0x1, 0x2, 0x200
MAX_HANDLE_SZ = 128
FILEID_USER_FLAGS_MASK, FILEID_VALID_USER_FLAGS = 0xFFFF0000, 0x30000   # IS_CONNECTABLE | IS_DIR
STATX_RESERVED = 0x80000000
STATX_MNT_ID = 0x1000
STATX_CMTIME, STATX_BTIME = 0x40 | 0x80, 0x800      # (STATX_MTIME | STATX_CTIME)
STATX_ATTR_MOUNT_ROOT = 0x2000
VFS_ATTRIBUTES = STATX_ATTR_MOUNT_ROOT | 0x1000 | 0x200000      # | STATX_ATTR_AUTOMOUNT | STATX_ATTR_DAX
STATX_MNT_ID_BITS = STATX_MNT_ID | 0x4000


def open_flags(flags):
    """Check and normalise open flags before anything else, as build_open_flags does."""
    if flags & O_PATH:
        flags &= O_PATH_FLAGS
    if flags & os.O_CREAT and flags & os.O_DIRECTORY:
        raise SyscallError(errno.EINVAL)
    if flags & O_TMPFILE:
        if flags & (O_TMPFILE | os.O_DIRECTORY | os.O_CREAT) != O_TMPFILE | os.O_DIRECTORY:
            raise SyscallError(errno.EINVAL)
        if not flags & (os.O_WRONLY | os.O_RDWR):
            raise SyscallError(errno.EINVAL)
    return flags


def _open_target(task, dirfd, path, flags, mode, resolve_flags):
    """(dentry, created) for an open: with O_CREAT the last name is made if it is
    missing, following a dangling symlink to make its target as Linux does."""
    if not flags & os.O_CREAT:
        return lookup(task, dirfd, path, follow=not flags & os.O_NOFOLLOW, resolve_flags=resolve_flags), False
    ctx, start = walk_start(task, dirfd, path, resolve_flags)
    parent, name = resolve_parent(ctx, start, path)
    if name in (b".", b"..") or path.endswith(b"/"):
        if name == b".." and resolve_flags:
            resolve(ctx, parent, name)          # a '..' RESOLVE_* forbids fails first
        raise SyscallError(errno.EISDIR)
    while True:
        if name in (b".", b".."):
            return resolve(ctx, parent, name), False
        d = namei.peek(parent, name)
        if d is None:
            return namei.create(parent, name, mode & ~task.fs.umask, task.creds), True
        if d.mounted is not None and resolve_flags & RESOLVE_NO_XDEV:
            raise SyscallError(errno.EXDEV)
        while d.mounted is not None:
            d = d.mounted.root
        if not d.inode.is_symlink() or flags & (os.O_EXCL | os.O_NOFOLLOW):
            return d, False
        ctx.links += 1
        if ctx.links > MAXSYMLINKS:
            raise SyscallError(errno.ELOOP)
        magic, target = link_target(ctx, parent, d)
        if magic is not None:
            return magic, False
        if target.endswith(b"/"):
            return resolve(ctx, parent, target), False
        parent, name = resolve_parent(ctx, parent, target)


def do_open(task, dirfd, path, flags, mode, resolve_flags=0):
    """The common body of open, openat, openat2 and creat; returns the new fd.
    resolve_flags are openat2's RESOLVE_* restrictions on the path walk."""
    acc = flags & O_ACCMODE
    if flags & O_TMPFILE == O_TMPFILE:
        return _open_tmpfile(task, dirfd, path, flags, mode, resolve_flags)
    dentry, created = _open_target(task, dirfd, path, flags, mode, resolve_flags)
    inode = dentry.inode
    if flags & os.O_CREAT and not created:
        if flags & os.O_EXCL:
            raise SyscallError(errno.EEXIST)
        if inode.is_dir():
            raise SyscallError(errno.EISDIR)
    if flags & os.O_DIRECTORY and not inode.is_dir():
        raise SyscallError(errno.ENOTDIR)
    if inode.is_symlink() and not flags & O_PATH:
        raise SyscallError(errno.ELOOP)
    truncate = False
    if not flags & O_PATH and not created:
        if inode.is_dir() and (acc != os.O_RDONLY or flags & os.O_TRUNC):
            raise SyscallError(errno.EISDIR)
        # access mode 3 asks for both (it is for ioctl-only opens); O_TRUNC needs write
        want = (R_OK if acc != os.O_WRONLY else 0) | (W_OK if acc != os.O_RDONLY else 0)
        if flags & os.O_TRUNC:
            want |= W_OK
        inode.permission(task.creds, want)
        kind = inode.mode & 0o170000
        if want & W_OK and namei.is_readonly(dentry) and kind not in (0o020000, 0o060000, 0o010000, 0o140000):
            raise SyscallError(errno.EROFS)
        if kind in (0o020000, 0o060000) and dentry.mount.flags & MS_NODEV:
            raise SyscallError(errno.EACCES)
        device_cgroup_permission(inode, want, opening=True)
        if inode.attr_flags & FS_APPEND_FL and (acc in (os.O_WRONLY, os.O_RDWR) and not flags & os.O_APPEND
                                                or flags & os.O_TRUNC):
            raise SyscallError(errno.EPERM)     # may_open: an append-only file only grows
        if flags & os.O_NOATIME and not namei.owner_or_capable(inode, task.creds):
            raise SyscallError(errno.EPERM)     # may_open: only the owner may stop atime
        truncate = flags & os.O_TRUNC and kind == 0o100000
    if flags & O_PATH:
        kept = flags & ~os.O_CLOEXEC
    else:
        kept = flags & ~(os.O_CREAT | os.O_EXCL | os.O_NOCTTY | os.O_TRUNC | os.O_CLOEXEC) | O_LARGEFILE
    # a regular file opened for writing (or truncated) is not one being run: ETXTBSY
    write_key = None
    if not flags & O_PATH and st.S_ISREG(inode.mode):
        if acc in (os.O_WRONLY, os.O_RDWR):
            write_key = writecount.key(inode)
            writecount.get_write(write_key)
        elif truncate:
            writecount.check_write(inode)
    try:
        if not flags & O_PATH:
            leases.break_lease(inode, flags, task.wake_callback)   # may wait (do_dentry_open)
        if truncate:
            namei.truncate(dentry, 0, task.creds, check_perm=False)
        f = inode.open(dentry, flags, task)
    except BaseException:
        if write_key is not None:
            writecount.put_write(write_key)
        raise
    f.flags, f.write_key = kept, write_key
    f.created = created
    if fsnotify.active:
        fsnotify.file_event(f, fsnotify.IN_OPEN)
    return task.files.install_new(f, cloexec=bool(flags & os.O_CLOEXEC))


def _open_tmpfile(task, dirfd, path, flags, mode, resolve_flags):
    """O_TMPFILE: an unnamed file in the directory path names (linkable unless O_EXCL)."""
    d = lookup(task, dirfd, path, resolve_flags=resolve_flags)
    if not d.inode.is_dir():
        raise SyscallError(errno.ENOTDIR)
    namei.may_create(d, task.creds)
    inode = d.inode.tmpfile(mode & ~task.fs.umask & 0o7777, task.creds)
    inode.linkable = not flags & os.O_EXCL
    dentry = Dentry(b"#%d (deleted)" % inode.stat().ino, d, inode, d.mount)
    f = inode.open(dentry, flags & ~(O_TMPFILE | os.O_DIRECTORY), task)
    f.flags = flags & ~(os.O_CREAT | os.O_EXCL | os.O_NOCTTY | os.O_TRUNC | os.O_CLOEXEC
                        | O_TMPFILE | os.O_DIRECTORY) | O_LARGEFILE
    if fsnotify.active:
        fsnotify.file_event(f, fsnotify.IN_OPEN)
    return task.files.install_new(f, cloexec=bool(flags & os.O_CLOEXEC))


@syscall("open", "uiU")
def open_(task, path, flags, mode):
    """open(2)."""
    flags = open_flags(flags & 0xFFFFFFFF)
    return do_open(task, AT_FDCWD, read_path(task, path), flags, mode)


@syscall("openat", "iuiU")
def openat(task, dirfd, path, flags, mode):
    """openat(2)."""
    flags = open_flags(flags & 0xFFFFFFFF)
    return do_open(task, dirfd, read_path(task, path), flags, mode)


@syscall("creat", "uU")
def creat(task, path, mode):
    """creat(2) is open(O_CREAT|O_WRONLY|O_TRUNC)."""
    return do_open(task, AT_FDCWD, read_path(task, path), os.O_CREAT | os.O_WRONLY | os.O_TRUNC, mode)


HOW_CHUNK = 1 << 20         # the bytes past an open_how read at once to check they are zero


def read_open_how(task, addr, size, limit=PAGE):
    """(flags, mode, resolve) of a struct open_how of `size` bytes, as
    copy_struct_from_user takes it: a newer, larger struct is fine if the
    fields we do not know are zero (E2BIG otherwise), an older one is not.
    openat2 takes a page at most (E2BIG); io_uring's OPENAT2 has no limit."""
    check(size >= OPEN_HOW.size, errno.EINVAL)
    check(limit is None or size <= limit, errno.E2BIG)
    check(addr + size <= 1 << 64, errno.EFAULT)
    for at in range(addr + OPEN_HOW.size, addr + size, HOW_CHUNK):     # (a chunk at a time)
        if task.mem.read(at, min(HOW_CHUNK, addr + size - at)).strip(b"\0"):
            raise SyscallError(errno.E2BIG)
    return OPEN_HOW.unpack(task.mem.read(addr, OPEN_HOW.size))


def openat2_flags(flags, mode, resolve_flags):
    """build_open_flags for openat2: what openat ignores or drops is an error here."""
    check(not flags & ~VALID_OPEN_FLAGS, errno.EINVAL)
    check(not resolve_flags & ~RESOLVE_VALID, errno.EINVAL)
    check(resolve_flags & RESOLVE_SCOPED != RESOLVE_SCOPED, errno.EINVAL)
    if flags & (os.O_CREAT | O_TMPFILE):
        check(not mode & ~0o7777, errno.EINVAL)
    else:
        check(mode == 0, errno.EINVAL)
    check(not flags & O_PATH or not flags & ~O_PATH_FLAGS, errno.EINVAL)
    flags = open_flags(flags)
    if resolve_flags & RESOLVE_CACHED and flags & (os.O_TRUNC | os.O_CREAT | O_TMPFILE):
        raise SyscallError(errno.EAGAIN)        # these never complete from the cache alone
    return flags


@syscall("openat2", "iuuu")
def openat2(task, dirfd, path, how, size, limit=PAGE):
    """openat2(2): openat with strict flags and RESOLVE_* limits on the path walk."""
    flags, mode, resolve_flags = read_open_how(task, how, size, limit)
    flags = openat2_flags(flags, mode, resolve_flags)
    return do_open(task, dirfd, read_path(task, path), flags, mode, resolve_flags)


@syscall("name_to_handle_at", "iuuui")
def name_to_handle_at(task, dirfd, path, handle, mount_id, flags):
    """name_to_handle_at(2): no filesystem of ours exports file handles, as
    procfs does not: EOPNOTSUPP, once the flags and the path are found good."""
    check(not flags & ~(AT_SYMLINK_FOLLOW | AT_EMPTY_PATH | AT_HANDLE_FID | AT_HANDLE_MNT_ID_UNIQUE
                        | AT_HANDLE_CONNECTABLE), errno.EINVAL)
    check(not flags & AT_HANDLE_CONNECTABLE or not flags & (AT_HANDLE_FID | AT_EMPTY_PATH), errno.EINVAL)
    lookup(task, dirfd, read_path(task, path), follow=bool(flags & AT_SYMLINK_FOLLOW),
           empty_path=bool(flags & AT_EMPTY_PATH))
    raise SyscallError(errno.EOPNOTSUPP)


@syscall("open_by_handle_at", "iui")
def open_by_handle_at(task, mount_fd, handle, flags):
    """open_by_handle_at(2) needs CAP_DAC_READ_SEARCH, which the sandbox does not
    give (nor does docker's default set): EPERM, after the checks Linux makes
    first (the handle's header, then mount_fd)."""
    size, kind = FILE_HANDLE.unpack(task.mem.read(handle, FILE_HANDLE.size))
    check(0 < size <= MAX_HANDLE_SZ, errno.EINVAL)
    check(kind >= 0 and not kind & FILEID_USER_FLAGS_MASK & ~FILEID_VALID_USER_FLAGS, errno.EINVAL)
    if mount_fd != AT_FDCWD:
        check(mount_fd >= 0, errno.EBADF)
        task.files.get(mount_fd)
    raise SyscallError(errno.EPERM)


def _stat_at(task, dirfd, path_addr, flags, allow_null=False):
    if allow_null and path_addr == 0 and flags & AT_EMPTY_PATH:
        path = b""
    else:
        path = read_path(task, path_addr)
    return lookup(task, dirfd, path, follow=not flags & AT_SYMLINK_NOFOLLOW,
                  empty_path=bool(flags & AT_EMPTY_PATH))


@syscall("stat", "uu")
def stat(task, path, buf):
    """stat(2)."""
    d = lookup(task, AT_FDCWD, read_path(task, path), follow=True)
    task.mem.write(buf, d.inode.stat_raw())
    return 0


@syscall("lstat", "uu")
def lstat(task, path, buf):
    """lstat(2)."""
    d = lookup(task, AT_FDCWD, read_path(task, path), follow=False)
    task.mem.write(buf, d.inode.stat_raw())
    return 0


@syscall("fstat", "iu")
def fstat(task, fd, buf):
    """fstat(2)."""
    f = task.files.get(fd)
    task.mem.write(buf, pack_stat(f.stat()))
    return 0


@syscall("newfstatat", "iuui")
def newfstatat(task, dirfd, path, buf, flags):
    """newfstatat(2), the fstatat of x86-64."""
    check(not flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH | AT_NO_AUTOMOUNT | AT_STATX_SYNC_TYPE),
          errno.EINVAL)
    if path and flags & AT_EMPTY_PATH and dirfd != AT_FDCWD:
        p = read_path(task, path)
        if not p:
            task.mem.write(buf, pack_stat(task.files.get(dirfd).stat()))
            return 0
    d = _stat_at(task, dirfd, path, flags, allow_null=True)
    task.mem.write(buf, d.inode.stat_raw())
    return 0


@syscall("statx", "iuiUu")
def statx(task, dirfd, path, flags, mask, buf):
    """statx(2)."""
    check(not flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH | AT_NO_AUTOMOUNT | AT_STATX_SYNC_TYPE), errno.EINVAL)
    check((flags & AT_STATX_SYNC_TYPE) != AT_STATX_SYNC_TYPE, errno.EINVAL)
    check(not mask & STATX_RESERVED, errno.EINVAL)
    d = _stat_at(task, dirfd, path, flags, allow_null=True)
    raw = bytearray(d.inode.statx(mask))
    # the host's mount ids name host mounts: ours are the model's, as /proc/self/mountinfo
    # numbers them (Linux always gives STATX_MNT_ID; the unique ids of
    # STATX_MNT_ID_UNIQUE, which no call of ours takes, are not given)
    got, = struct.unpack_from("<I", raw, 0)
    if d.inode.multigrain_times:
        # a multigrain-timestamp file system (tmpfs) fills mtime and ctime in only when
        # either is asked for (fill_mg_cmtime), and btime when it is (shmem_getattr)
        asked = (STATX_CMTIME if mask & STATX_CMTIME else 0) | (mask & STATX_BTIME)
        got &= ~(STATX_CMTIME | STATX_BTIME) | asked
    struct.pack_into("<I", raw, 0, (got & ~STATX_MNT_ID_BITS) | STATX_MNT_ID)
    struct.pack_into("<Q", raw, 144, d.mount.id)
    # vfs_statx: a mount's root says so; every answer says it could, and that
    # AUTOMOUNT and DAX could be set (vfs_getattr_nosec); the file system adds its own
    attributes, = struct.unpack_from("<Q", raw, 8)
    attributes_mask, = struct.unpack_from("<Q", raw, 56)
    if d is d.mount.root:
        attributes |= STATX_ATTR_MOUNT_ROOT
    struct.pack_into("<Q", raw, 8, attributes)
    struct.pack_into("<Q", raw, 56, attributes_mask | VFS_ATTRIBUTES | d.inode.statx_attributes)
    task.mem.write(buf, bytes(raw))
    return 0


def _access(task, dirfd, path, mode, flags):
    check(not mode & ~(R_OK | W_OK | X_OK), errno.EINVAL)
    check(not flags & ~(AT_EACCESS | AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH), errno.EINVAL)
    d = lookup(task, dirfd, read_path(task, path), follow=not flags & AT_SYMLINK_NOFOLLOW,
               empty_path=bool(flags & AT_EMPTY_PATH))
    creds = task.creds
    if not flags & AT_EACCESS:
        # access() asks for the real ids, and root's capabilities only for a real root
        # (access_override_creds)
        creds = creds.copy()
        creds.fsuid, creds.fsgid = creds.ruid, creds.rgid
        if not creds.secure(SECURE_NO_SETUID_FIXUP):
            creds.cap_effective = creds.cap_permitted if creds.ruid == 0 else 0
    d.inode.permission(creds, mode)
    device_cgroup_permission(d.inode, mode)
    if mode & W_OK and d.mount.readonly and (d.inode.mode & 0o170000) in (0o100000, 0o040000, 0o120000):
        raise SyscallError(errno.EROFS)
    return 0


@syscall("access", "ui")
def access(task, path, mode):
    """access(2)."""
    return _access(task, AT_FDCWD, path, mode, 0)


@syscall("faccessat", "iui")
def faccessat(task, dirfd, path, mode):
    """faccessat(2): the raw syscall has no flags argument."""
    return _access(task, dirfd, path, mode, 0)


@syscall("faccessat2", "iuii")
def faccessat2(task, dirfd, path, mode, flags):
    """faccessat2(2)."""
    return _access(task, dirfd, path, mode, flags)


def _readlink(task, dirfd, path_addr, buf, size):
    check(size > 0, errno.EINVAL)
    path = read_path(task, path_addr)
    d = lookup(task, dirfd, path, follow=False, empty_path=True)
    if not d.inode.is_symlink():
        raise SyscallError(errno.EINVAL if path else errno.ENOENT)
    target = d.inode.readlink()[:size]
    task.mem.write(buf, target)
    return len(target)


@syscall("readlink", "uui")
def readlink(task, path, buf, size):
    """readlink(2)."""
    return _readlink(task, AT_FDCWD, path, buf, size)


@syscall("readlinkat", "iuui")
def readlinkat(task, dirfd, path, buf, size):
    """readlinkat(2)."""
    return _readlink(task, dirfd, path, buf, size)


@syscall("getcwd", "uu")
def getcwd(task, buf, size):
    """getcwd(2): returns the length including the NUL. A cwd outside the root
    (after chroot) is shown from the top of the tree, after "(unreachable)"."""
    cwd, root = task.fs.cwd, task.fs.root
    path = cwd.path(root) + b"\0"
    if not is_under(cwd, root):
        path = b"(unreachable)" + path
    if len(path) > size:
        raise SyscallError(errno.ERANGE)
    task.mem.write(buf, path)
    return len(path)


def _set_cwd(task, d):
    if not d.inode.is_dir():
        raise SyscallError(errno.ENOTDIR)
    d.inode.permission(task.creds, X_OK)
    task.fs.cwd = d
    return 0


@syscall("chdir", "u")
def chdir(task, path):
    """chdir(2)."""
    return _set_cwd(task, lookup(task, AT_FDCWD, read_path(task, path), follow=True))


@syscall("fchdir", "i")
def fchdir(task, fd):
    """fchdir(2)."""
    f = task.files.get(fd)
    if f.dentry is None:
        raise SyscallError(errno.ENOTDIR)
    return _set_cwd(task, f.dentry)


@syscall("chroot", "u")
def chroot(task, path):
    """chroot(2): the process's root becomes path; CAP_SYS_CHROOT is the virtual root's.
    The cwd stays where it is, even outside the new root."""
    d = lookup(task, AT_FDCWD, read_path(task, path), follow=True)
    if not d.inode.is_dir():
        raise SyscallError(errno.ENOTDIR)
    d.inode.permission(task.creds, X_OK)
    task.creds.check(CAP_SYS_CHROOT)
    task.fs.root = d
    return 0


@syscall("pivot_root", "uu")
def pivot_root(task, new_root, put_old):
    """pivot_root(2): EPERM, what a container process without CAP_SYS_ADMIN (docker's
    default) gets: may_mount is Linux's first check, before the paths are read.

    A privileged caller would get no further in the model as it stands: its root
    mount has no parent, like an initramfs's rootfs, for which Linux answers
    EINVAL (EBUSY first if new_root or put_old is on the root's own mount).
    """
    raise SyscallError(errno.EPERM)


@syscall("umask", "U")
def umask(task, mask):
    """umask(2)."""
    old = task.fs.umask
    task.fs.umask = mask & 0o777
    return old
