"""Observation of the kernel's syscall events, apart from the handlers: the
strace-format log today (the JSON log and the conformance recorder to come)."""
