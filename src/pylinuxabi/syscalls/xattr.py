"""Extended attributes and filesystem statistics: the get/list/set/remove xattr
families, statfs and fstatfs.
"""
import errno
import stat

from pylinuxabi.base.abi import STATFS
from pylinuxabi.base.creds import CAP_SYS_ADMIN
from pylinuxabi.base.errors import SyscallError, check
from pylinuxabi.kernel.paths import AT_FDCWD, lookup, read_path
from pylinuxabi.syscalls.registry import syscall
from pylinuxabi.vfs import namei
from pylinuxabi.vfs.inode import R_OK, W_OK
from pylinuxabi.vfs.mount import MS_NOATIME, MS_NODEV, MS_NODIRATIME, MS_NOEXEC, MS_NOSUID, MS_RDONLY, MS_RELATIME
from pylinuxabi.vfs.procfs import ANON_MOUNT, file_dentry

XATTR_NAME_MAX = 255
XATTR_SIZE_MAX = 65536
XATTR_LIST_MAX = 65536


def _inode_at(task, path_addr, follow):
    return lookup(task, AT_FDCWD, read_path(task, path_addr), follow=follow).inode


def _fd_inode(task, fd):
    return task.files.get_file(fd).inode


NAMESPACES = (b"user.", b"trusted.", b"security.", b"system.")


def _name(task, addr):
    """The attribute's name: ERANGE if empty or past XATTR_NAME_MAX (strncpy_from_user
    finding no NUL in the first XATTR_NAME_MAX + 1 bytes)."""
    try:
        name = task.mem.read_cstring(addr, XATTR_NAME_MAX + 1)
    except SyscallError as e:
        if e.errno != errno.ENAMETOOLONG:
            raise
        raise SyscallError(errno.ERANGE) from None
    check(0 < len(name) <= XATTR_NAME_MAX, errno.ERANGE)
    return name


def _permission(inode, name, creds, write):
    """xattr_permission, then the namespace's own checks, in Linux's order."""
    if write:
        namei.check_mutable(inode)
    if name.startswith(b"trusted."):
        creds.check(CAP_SYS_ADMIN, errno.EPERM if write else errno.ENODATA)
    elif name.startswith(b"user."):
        if not (inode.is_dir() or stat.S_ISREG(inode.mode)):
            raise SyscallError(errno.EPERM if write else errno.ENODATA)
        if write and inode.is_dir() and inode.mode & stat.S_ISVTX and not namei.owner_or_capable(inode, creds):
            raise SyscallError(errno.EPERM)
        inode.permission(creds, W_OK if write else R_OK)
    for prefix in NAMESPACES:
        if name.startswith(prefix):
            check(len(name) > len(prefix), errno.EINVAL)
            return
    raise SyscallError(errno.EOPNOTSUPP)


def _get(task, inode_fn, name_addr, value, size):
    name = _name(task, name_addr)
    size = min(size, XATTR_SIZE_MAX)
    inode = inode_fn()
    _permission(inode, name, task.creds, write=False)
    data = inode.getxattr(name)
    if size == 0:
        return len(data)
    check(len(data) <= size, errno.ERANGE)
    task.mem.write(value, data)
    return len(data)


def _list(task, inode_fn, buf, size):
    admin = task.creds.capable(CAP_SYS_ADMIN)
    data = b"".join(n + b"\0" for n in inode_fn().listxattr() if admin or not n.startswith(b"trusted."))
    if size == 0:
        return len(data)
    check(len(data) <= min(size, XATTR_LIST_MAX), errno.ERANGE)
    task.mem.write(buf, data)
    return len(data)


@syscall("getxattr", "uuuu")
def getxattr(task, path, name, value, size):
    """getxattr(2)."""
    return _get(task, lambda: _inode_at(task, path, True), name, value, size)


@syscall("lgetxattr", "uuuu")
def lgetxattr(task, path, name, value, size):
    """lgetxattr(2)."""
    return _get(task, lambda: _inode_at(task, path, False), name, value, size)


@syscall("fgetxattr", "iuuu")
def fgetxattr(task, fd, name, value, size):
    """fgetxattr(2)."""
    inode = _fd_inode(task, fd)
    return _get(task, lambda: inode, name, value, size)


@syscall("listxattr", "uuu")
def listxattr(task, path, buf, size):
    """listxattr(2)."""
    return _list(task, lambda: _inode_at(task, path, True), buf, size)


@syscall("llistxattr", "uuu")
def llistxattr(task, path, buf, size):
    """llistxattr(2)."""
    return _list(task, lambda: _inode_at(task, path, False), buf, size)


@syscall("flistxattr", "iuu")
def flistxattr(task, fd, buf, size):
    """flistxattr(2)."""
    inode = _fd_inode(task, fd)
    return _list(task, lambda: inode, buf, size)


# statfs's f_flags: ST_VALID and, as flags_by_mnt gives them, the mount's flags
ST_VALID = 0x20
ST_FLAGS = ((MS_RDONLY, 0x1), (MS_NOSUID, 0x2), (MS_NODEV, 0x4), (MS_NOEXEC, 0x8), (MS_NOATIME, 0x400),
            (MS_NODIRATIME, 0x800), (MS_RELATIME, 0x1000))


def _statfs(inode, dentry):
    """The filesystem's statfs, with f_flags from the mount the object was reached
    through (a file of an internal mount, a pipe's or a memfd's, keeps its own)."""
    raw = inode.statfs()
    if dentry is None or dentry.mount is None or dentry.mount is ANON_MOUNT:
        return raw
    fields = list(STATFS.unpack(raw))
    flags = dentry.mount.flags | (MS_RDONLY if namei.is_readonly(dentry) else 0)
    fields[11] = ST_VALID | sum(st for ms, st in ST_FLAGS if flags & ms)
    return STATFS.pack(*fields)


@syscall("statfs", "uu")
def statfs(task, path, buf):
    """statfs(2)."""
    d = lookup(task, AT_FDCWD, read_path(task, path), follow=True)
    task.mem.write(buf, _statfs(d.inode, d))
    return 0


@syscall("fstatfs", "iu")
def fstatfs(task, fd, buf):
    """fstatfs(2)."""
    f = task.files.get(fd)
    task.mem.write(buf, _statfs(f.inode, f.dentry))
    return 0


XATTR_CREATE, XATTR_REPLACE = 1, 2


def _set(task, dentry_fn, name_addr, value, size, flags):
    check(not flags & ~(XATTR_CREATE | XATTR_REPLACE), errno.EINVAL)
    name = _name(task, name_addr)
    check(size <= XATTR_SIZE_MAX, errno.E2BIG)
    data = task.mem.read(value, size) if size else b""
    d = dentry_fn()
    namei.want_write(d)
    _permission(d.inode, name, task.creds, write=True)
    d.inode.setxattr(name, data, flags)
    return 0


def _remove(task, dentry_fn, name_addr):
    name = _name(task, name_addr)
    d = dentry_fn()
    namei.want_write(d)
    _permission(d.inode, name, task.creds, write=True)
    d.inode.removexattr(name)
    return 0


def _dentry_at(task, path_addr, follow):
    return lookup(task, AT_FDCWD, read_path(task, path_addr), follow=follow)


def _fd_dentry(task, fd):
    return file_dentry(task.files.get_file(fd))


@syscall("setxattr", "uuuUi")
def setxattr(task, path, name, value, size, flags):
    """setxattr(2)."""
    return _set(task, lambda: _dentry_at(task, path, True), name, value, size, flags)


@syscall("lsetxattr", "uuuUi")
def lsetxattr(task, path, name, value, size, flags):
    """lsetxattr(2)."""
    return _set(task, lambda: _dentry_at(task, path, False), name, value, size, flags)


@syscall("fsetxattr", "iuuUi")
def fsetxattr(task, fd, name, value, size, flags):
    """fsetxattr(2)."""
    d = _fd_dentry(task, fd)
    return _set(task, lambda: d, name, value, size, flags)


@syscall("removexattr", "uu")
def removexattr(task, path, name):
    """removexattr(2)."""
    return _remove(task, lambda: _dentry_at(task, path, True), name)


@syscall("lremovexattr", "uu")
def lremovexattr(task, path, name):
    """lremovexattr(2)."""
    return _remove(task, lambda: _dentry_at(task, path, False), name)


@syscall("fremovexattr", "iu")
def fremovexattr(task, fd, name):
    """fremovexattr(2)."""
    d = _fd_dentry(task, fd)
    return _remove(task, lambda: d, name)
