"""How stops of the traced program are obtained and acted on.

The kernel asks a platform to: wait for the next stop, complete a syscall now,
let the host run it, run host syscalls inside a process (inject), install a
host fd in a process, and read or write registers and memory. platform/ knows
nothing of files or of the model; ptrace.py is the only platform today.
"""
