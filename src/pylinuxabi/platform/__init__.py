"""How stops of the traced program are obtained and acted on.

The kernel asks a platform to: wait for the next stop, complete a syscall now,
let the host run it, run host syscalls inside a process (inject), install a
host fd in a process, and read or write registers and memory. platform/ knows
nothing of files or of the model; ptrace.py is the only platform today.
"""

# The vocabulary every platform speaks to the kernel. A stop's kind:
STOP_NONE = 0           # the wait was interrupted
STOP_SECCOMP = 1        # a syscall to answer
STOP_ENTRY = 2          # a syscall's entry (only when asked for)
STOP_EXIT = 3           # a syscall's return (only when asked for)
STOP_EVENT = 4          # fork, vfork, clone, exec, exit
STOP_SIGNAL = 5         # a signal about to be delivered
STOP_GROUP = 6          # a group stop (SIGSTOP and friends)
STOP_DEAD = 7           # a thread exited or was killed
STOP_GONE = 8           # a thread vanished while we looked at it

# Where a stopped thread sits, which decides how it is answered.
AT_SECCOMP = STOP_SECCOMP
AT_EXIT = STOP_EXIT

# What an event stop is.
EVENT_FORK, EVENT_VFORK, EVENT_CLONE, EVENT_EXEC, EVENT_VFORK_DONE, EVENT_EXIT = 1, 2, 3, 4, 5, 6


class ThreadGone(Exception):
    """The thread died (SIGKILL, exit of its group) while we were acting on it."""
