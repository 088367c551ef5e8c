"""pidfds (pidfd_open(2), clone's CLONE_PIDFD): an open file that names a process.

We hold a host pidfd of our own for each, opened by the supervisor (pid 1
of the sandbox's PID namespace, so pids are the program's): it keeps the
process's identity across pid reuse and tells us whether the process has
exited. The program sees only the virtual fd.
"""
import os
import select
import signal

from pylinuxabi.base.errors import SyscallError
from pylinuxabi.vfs.file import POLLHUP, POLLIN, POLLRDNORM, OpenFile
from pylinuxabi.vfs.synthetic import AnonInode

PIDFD_NONBLOCK = os.O_NONBLOCK
PIDFD_THREAD = os.O_EXCL
# pidfs files are regular-less anonymous inodes, mode 0700 on this kernel (6.18)
PIDFD_INODE = AnonInode(0o700, os.makedev(0, 16))


class PidFile(OpenFile):
    """A pidfd: readable (POLLIN) once the process has exited.

    `process` is the model's Process (None for one we do not model, pid 1);
    its `exited` queue is notified when its last thread is gone. Without
    one we ask the host again every while, as for other host objects.
    """

    has_read = has_write = False

    def __init__(self, pid, flags, process):
        try:
            self.host = os.pidfd_open(pid, flags & PIDFD_THREAD)
        except OSError as e:
            raise SyscallError(e.errno)
        super().__init__(None, PIDFD_INODE, os.O_RDWR | (flags & (PIDFD_NONBLOCK | PIDFD_THREAD)))
        self.pid = pid
        self.process = process
        self.host_backed = process is None

    def exited(self):
        return bool(select.select([self.host], [], [], 0)[0])

    def poll(self):
        """Readable once the process has exited; hung up too once it has been reaped."""
        if not self.exited():
            return 0
        return POLLIN | POLLRDNORM | (POLLHUP if self.reaped() else 0)

    def wait_queues(self):
        return [self.process.exited] if self.process is not None else []

    def reaped(self):
        """Has the process been waited for? A zombie still takes signal 0; a reaped one is gone."""
        try:
            signal.pidfd_send_signal(self.host, 0)
        except ProcessLookupError:
            return True
        except OSError:
            pass
        return False

    def seekable(self):
        return False

    def fdinfo(self):
        """Lines of /proc/<pid>/fdinfo/<fd> after the common ones: the pid, -1 once reaped."""
        pid = -1 if self.reaped() else self.pid
        return f"Pid:\t{pid}\nNSpid:\t{pid}\n".encode()

    def path(self):
        return b"anon_inode:[pidfd]"

    def release(self):
        os.close(self.host)
