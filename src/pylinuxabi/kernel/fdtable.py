"""The fd table: virtual fd numbers → open files plus the close-on-exec flag.

Shared by threads and by processes cloned with CLONE_FILES, counted by its
users as Linux's files_struct is; knows nothing of the host's fds.
"""
import errno

from pylinuxabi.base.errors import SyscallError
from pylinuxabi.vfs import dnotify, locks
from pylinuxabi.vfs.file import O_PATH


class FdTable:
    def __init__(self):
        self.fds = {}           # fd -> OpenFile
        self.cloexec = set()
        self.limit = 1024       # RLIMIT_NOFILE soft limit, kept in sync by the process
        self.max_fds = 64       # the size Linux's table has grown to (select ignores fds past it)
        self.held = None        # (fd, file) a syscall being retried holds since it first looked (see hold)
        self.users = 1          # processes using the table (files_struct.count)
        self.first_free = 0     # every fd below it is in use (Linux's next_fd): thousands open stay cheap

    def get(self, fd):
        """The open file behind fd, or EBADF."""
        held = self.held
        if held is not None and held[0] == fd:
            return held[1]
        f = self.fds.get(fd)
        if f is None:
            raise SyscallError(errno.EBADF)
        return f

    def get_file(self, fd):
        """The open file behind fd for calls that use the file itself (fdget):
        an O_PATH descriptor only names a place, and is EBADF to them."""
        held = self.held
        if held is not None and held[0] == fd:
            return held[1]
        f = self.fds.get(fd)
        if f is None or f.flags & O_PATH:
            raise SyscallError(errno.EBADF)
        return f

    def fd_of(self, file, candidates):
        """The first of `candidates` (a syscall's arguments) that is an fd of `file`, or None."""
        fds = self.fds
        for fd in candidates:
            if fds.get(fd) is file:
                return fd
        return None

    def _lowest_free(self, start):
        fd = max(start, self.first_free)
        while fd in self.fds:
            fd += 1
        if start <= self.first_free:
            self.first_free = fd
        if fd >= self.limit:
            raise SyscallError(errno.EMFILE)
        return fd

    def install(self, file, cloexec=False, lowest=0):
        """Give `file` the lowest free fd ≥ lowest."""
        fd = self._lowest_free(lowest)
        self._set(fd, file, cloexec)
        return fd

    def install_new(self, file, cloexec=False):
        """Give a file just opened the lowest free fd; with none free (EMFILE) the
        file, which nothing else holds, is released."""
        try:
            return self.install(file, cloexec)
        except SyscallError:
            if file.refs == 0:
                file.release()
            raise

    def install_at(self, fd, file, cloexec=False):
        """Put `file` at exactly fd, closing what was there (dup2)."""
        if fd < 0 or fd >= self.limit:
            raise SyscallError(errno.EBADF)
        old = self.fds.get(fd)
        self._set(fd, file, cloexec)
        if old is not None:
            self._drop(old)

    def _set(self, fd, file, cloexec):
        if fd >= self.max_fds:
            # expand_fdtable: a power of two times 128 entries
            self.max_fds = 128 * (1 << (fd // 128).bit_length())
        file.get()
        self.fds[fd] = file
        if cloexec:
            self.cloexec.add(fd)
        else:
            self.cloexec.discard(fd)

    def close(self, fd):
        f = self.fds.pop(fd, None)
        if f is None:
            raise SyscallError(errno.EBADF)
        self.cloexec.discard(fd)
        self.first_free = min(self.first_free, fd)
        self._drop(f)

    def detach(self, fd):
        """The file at fd leaves the table with no close (the caller gets its reference):
        io_uring's direct descriptors, which never had an fd, are made this way."""
        f = self.fds.pop(fd)
        self.cloexec.discard(fd)
        self.first_free = min(self.first_free, fd)
        return f

    def _drop(self, file):
        """An fd of ours no longer names file: our POSIX locks on it go (filp_close), then the reference."""
        if not file.flags & O_PATH:             # (filp_flush: an O_PATH fd leaves them)
            file.flush(self)
            locks.remove_posix(file.inode, self)    # returns at once unless the inode has locks
            dnotify.flush(self, file)               # (dnotify_flush) at once unless file has a watch
        file.put()

    def close_range(self, first, last, only_cloexec=False):
        for fd in [fd for fd in self.fds if first <= fd <= last]:
            if only_cloexec:
                self.cloexec.add(fd)
            else:
                self.close(fd)

    def close_on_exec(self):
        for fd in list(self.cloexec):
            self.close(fd)

    def close_all(self):
        for fd in list(self.fds):
            self.close(fd)

    def share(self):
        """The table, for one more process (clone with CLONE_FILES)."""
        self.users += 1
        return self

    def put(self):
        """A process is done with the table (exit_files): the last user closes every fd."""
        self.users -= 1
        if self.users == 0:
            self.close_all()

    def unshare(self):
        """The table for a process that must own its table (exec's unshare_files):
        itself if no other process uses it, else a copy of it."""
        if self.users == 1:
            return self
        self.users -= 1
        return self.copy()

    def copy(self):
        t = FdTable()
        t.limit = self.limit
        t.max_fds = self.max_fds
        for fd, f in self.fds.items():
            t._set(fd, f, fd in self.cloexec)
        return t

