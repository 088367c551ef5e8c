"""mount(2) and umount2(2) on the sandbox's mount table (one mount namespace).

A root program may mount the filesystems we can make (tmpfs, proc, and
whatever else the sandbox registered in kernel.filesystems), bind-mount
(MS_BIND, MS_REC), move (MS_MOVE), remount read-only or read-write
(MS_REMOUNT, with MS_BIND for per-mount flags only) and change propagation.
The order of the checks is path_mount's.
"""
import errno

from pylinuxabi.base.creds import CAP_SYS_ADMIN
from pylinuxabi.base.errors import SyscallError, check
from pylinuxabi.kernel.paths import AT_FDCWD, lookup, read_path
from pylinuxabi.syscalls.registry import syscall
from pylinuxabi.vfs.mount import (MNT_FLAGS, MS_NOATIME, MS_NODIRATIME, MS_PRIVATE, MS_RDONLY, MS_RELATIME,
                                  MS_SHARED, MS_SLAVE, MS_STRICTATIME, MS_UNBINDABLE, is_under)

PAGE_SIZE = 4096
MS_REMOUNT, MS_BIND, MS_MOVE, MS_REC = 0x20, 0x1000, 0x2000, 0x4000
MS_NOUSER = 1 << 31
MS_MGC_MSK, MS_MGC_VAL = 0xFFFF0000, 0xC0ED0000
PROPAGATION = MS_SHARED | MS_PRIVATE | MS_SLAVE | MS_UNBINDABLE
MNT_FORCE, MNT_DETACH, MNT_EXPIRE, UMOUNT_NOFOLLOW = 1, 2, 4, 8
FS_TYPE_MAX = PAGE_SIZE - 1


def _mounts(task):
    return task.process.kernel.mounts


def _string(task, addr):
    """A mount string (type, source): NULL is allowed; EFAULT for a bad pointer."""
    if not addr:
        return None
    return task.mem.read_cstring(addr, FS_TYPE_MAX)


def _data(task, addr):
    """The data page: up to a page, as much of it as is readable (copy_mount_options)."""
    if not addr:
        return None
    chunk = task.mem.read_some(addr, PAGE_SIZE)
    if not chunk:
        raise SyscallError(errno.EFAULT)
    return chunk.split(b"\0", 1)[0]


def _may_mount(task):
    """may_mount: CAP_SYS_ADMIN."""
    task.creds.check(CAP_SYS_ADMIN)


def _mount_root(dentry):
    """The Mount whose root `dentry` is: EINVAL elsewhere (path_mounted)."""
    if not dentry.is_mount_root():
        raise SyscallError(errno.EINVAL)
    return dentry.mount


ATIME_FLAGS = MS_NOATIME | MS_NODIRATIME | MS_RELATIME      # MNT_ATIME_MASK


def _mnt_flags(flags):
    out = flags & MNT_FLAGS & ~MS_RELATIME
    if not flags & (MS_NOATIME | MS_STRICTATIME):
        out |= MS_RELATIME          # relatime unless told otherwise
    return out


@syscall("mount", "uuuUu")
def mount(task, source_addr, target_addr, type_addr, flags, data_addr):
    """mount(2)."""
    fs_type = _string(task, type_addr)
    source = _string(task, source_addr)
    data = _data(task, data_addr)
    target = lookup(task, AT_FDCWD, read_path(task, target_addr))
    if flags & MS_MGC_MSK == MS_MGC_VAL:
        flags &= ~MS_MGC_MSK
    check(not flags & MS_NOUSER, errno.EINVAL)
    _may_mount(task)
    table = _mounts(task)
    if flags & MS_REMOUNT:
        m = _mount_root(target)
        m.mnt_readonly = bool(flags & MS_RDONLY)
        atime = m.flags & ATIME_FLAGS
        m.flags = _mnt_flags(flags)
        if not flags & (ATIME_FLAGS | MS_STRICTATIME):
            m.flags = m.flags & ~ATIME_FLAGS | atime    # path_mount: a remount keeps the atime mode
        if not flags & MS_BIND:         # the filesystem's own state, shared by its binds
            m.sb.readonly = bool(flags & MS_RDONLY)
        table.touch()
        return 0
    if flags & MS_BIND:
        return _bind(task, table, source, target, flags)
    if flags & PROPAGATION:
        m = _mount_root(target)
        kind = flags & PROPAGATION
        check(kind & (kind - 1) == 0, errno.EINVAL)     # exactly one type
        for sub in (table._subtree(m) if flags & MS_REC else [m]):
            sub.propagation = kind
        return 0
    if flags & MS_MOVE:
        check(source is not None, errno.EFAULT)
        m = _mount_root(lookup(task, AT_FDCWD, source))
        table.move(m, target)
        return 0
    return _new_mount(task, table, fs_type, source, target, flags, data)


def _bind(task, table, source, target, flags):
    """MS_BIND: the source's directory (or file) shown again at target; MS_REC with its submounts."""
    check(source is not None, errno.EFAULT)
    src = lookup(task, AT_FDCWD, source)
    check(src.mount.propagation != MS_UNBINDABLE, errno.EINVAL)
    check(src.inode.is_dir() == target.inode.is_dir(), errno.ENOTDIR)
    fs_root = _join(src.mount.fs_root, src.path(src.mount.root))
    subs = _submounts(table, src) if flags & MS_REC else []
    table.check_room(1 + len(subs))         # the whole copy, before any of it is made
    top = table.mount(target, src.mount.fs_type, src.mount.source, src.inode, src.mount.mnt_readonly,
                      flags=src.mount.flags, fs_root=fs_root, sb=src.mount.sb)
    copies = {None: top}
    for m, parent, rel in subs:
        point = copies[parent].root
        for name in filter(None, rel.split(b"/")):
            point = point.child(name)
        copies[m] = table.mount(point, m.fs_type, m.source, m.root.inode, m.mnt_readonly,
                                flags=m.flags, fs_root=m.fs_root, sb=m.sb)
    return 0


def _submounts(table, src):
    """copy_tree's list of what an MS_REC bind of `src` copies, as it is before the copy:
    [(mount, the mount it sits on (None: src's), its place relative to that one's root
    or to src)], parents first, depth first as next_mnt walks; no recursion."""
    below = table.children_index()
    out = []
    stack = [(m, None, src) for m in reversed(below.get(src.mount, ()))]
    while stack:
        m, parent, root = stack.pop()
        if not is_under(m.mountpoint, root):
            continue
        out.append((m, parent, m.mountpoint.path(root)))
        stack.extend((sub, m, m.root) for sub in reversed(below.get(m, ())))
    return out


def _join(base, rel):
    if base == b"/":
        return rel
    return base if rel == b"/" else base + rel


def _new_mount(task, table, fs_type, source, target, flags, data):
    """do_new_mount: a fresh filesystem of a type we can make."""
    check(fs_type is not None, errno.EINVAL)
    make = task.process.kernel.filesystems.get(fs_type.decode(errors="replace"))
    if make is None:
        raise SyscallError(errno.ENODEV)
    root_inode, options = make(source, data)
    check(target.inode.is_dir() or not root_inode.is_dir(), errno.ENOTDIR)
    table.mount(target, fs_type.decode(), source if source is not None else b"none", root_inode,
                readonly=bool(flags & MS_RDONLY), flags=_mnt_flags(flags), options=options)
    return 0


@syscall("umount2", "uU")
def umount2(task, target_addr, flags):
    """umount2(2): MNT_DETACH takes submounts along; files open on it stay usable."""
    check(not flags & ~(MNT_FORCE | MNT_DETACH | MNT_EXPIRE | UMOUNT_NOFOLLOW), errno.EINVAL)
    target = lookup(task, AT_FDCWD, read_path(task, target_addr), follow=not flags & UMOUNT_NOFOLLOW)
    _may_mount(task)
    m = _mount_root(target)
    check(not (flags & MNT_EXPIRE and flags & (MNT_FORCE | MNT_DETACH)), errno.EINVAL)
    table = _mounts(task)
    if m is table.mounts[0]:
        raise SyscallError(errno.EINVAL if flags & MNT_DETACH else errno.EBUSY)
    if flags & MNT_EXPIRE:
        raise SyscallError(errno.EAGAIN)        # the first MNT_EXPIRE only marks it
    table.umount(m, detach=bool(flags & MNT_DETACH), busy=lambda m: _busy(task, m))
    return 0


def _busy(task, mount):
    """Does a process have its cwd or root, or an open file, on `mount`?"""
    for proc in task.process.kernel.processes.values():
        if proc.fs.cwd.mount is mount or proc.fs.root.mount is mount:
            return True
        if proc.files is not None:
            for f in proc.files.fds.values():
                if f.dentry is not None and f.dentry.mount is mount:
                    return True
    return False
