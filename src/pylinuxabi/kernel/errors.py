"""How handlers report failure and waiting to the kernel's event loop.

Pure definitions: no imports from the rest of pylinuxabi.
"""
import errno
import os


class SyscallError(Exception):
    """A syscall fails with a Linux errno (the program sees -errno)."""

    def __init__(self, err, message=None):
        super().__init__(message or os.strerror(err))
        self.errno = err

    def __repr__(self):
        return f"SyscallError({errno.errorcode.get(self.errno, self.errno)})"


class WouldBlock(Exception):
    """The syscall must wait for one of `waitables` (or `timeout` seconds) and be retried."""

    def __init__(self, waitables=(), timeout=None):
        super().__init__("would block")
        self.waitables = waitables
        self.timeout = timeout


def check(cond, err):
    """Raise SyscallError(err) unless cond holds: argument checks read as one line."""
    if not cond:
        raise SyscallError(err)
