"""Signal syscalls: the host delivers signals; we keep a copy of the dispositions.

The copy decides, e.g., whether a forwarded signal would be ignored.
"""
from pylinuxabi.kernel.errors import SyscallError
from pylinuxabi.kernel.kernel import PASS
from pylinuxabi.syscalls.table import PASSTHROUGH, syscall

SIG_DFL, SIG_IGN = 0, 1


@syscall("rt_sigaction", "iuuu", kind=PASSTHROUGH)
def rt_sigaction(task, sig, act, oldact, sigsetsize):
    """rt_sigaction(2): the host runs it; we note the new handler."""
    if act and 1 <= sig <= 64 and sigsetsize == 8:
        try:
            handler = int.from_bytes(task.mem.read(act, 8), "little")
        except SyscallError:
            return PASS             # the host will give the program its EFAULT
        task.process.sig_handlers[sig] = handler
    return PASS
