"""The virtual filesystem: mounts, path walk, inodes and open files.

Knows nothing of tasks' registers or of ptrace.
"""
