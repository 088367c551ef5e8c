"""The process model: tasks, fd tables, credentials, exec, the event loop.

It sees SyscallEvents and asks the platform to act; it never calls ptrace.
"""
