"""Extended attributes and filesystem statistics: getxattr/listxattr families, statfs.

Reading only for now; setting and removing come with the writable filesystems.
"""
import errno

from pylinuxabi.kernel.errors import check
from pylinuxabi.kernel.paths import AT_FDCWD, lookup, read_path
from pylinuxabi.syscalls.table import syscall

XATTR_NAME_MAX = 255
XATTR_SIZE_MAX = 65536
XATTR_LIST_MAX = 65536


def _inode_at(task, path_addr, follow):
    return lookup(task, AT_FDCWD, read_path(task, path_addr), follow=follow).inode


def _fd_inode(task, fd):
    return task.files.get(fd).inode


def _get(task, inode_fn, name_addr, value, size):
    name = task.mem.read_cstring(name_addr, XATTR_NAME_MAX + 1)
    check(0 < len(name) <= XATTR_NAME_MAX, errno.ERANGE)
    size = min(size, XATTR_SIZE_MAX)
    data = inode_fn().getxattr(name)
    if size == 0:
        return len(data)
    check(len(data) <= size, errno.ERANGE)
    task.mem.write(value, data)
    return len(data)


def _list(task, inode_fn, buf, size):
    data = b"".join(n + b"\0" for n in inode_fn().listxattr())
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


@syscall("statfs", "uu")
def statfs(task, path, buf):
    """statfs(2)."""
    task.mem.write(buf, _inode_at(task, path, True).statfs())
    return 0


@syscall("fstatfs", "iu")
def fstatfs(task, fd, buf):
    """fstatfs(2)."""
    task.mem.write(buf, task.files.get(fd).inode.statfs())
    return 0
