"""pylinuxabi: a Linux system-call personality in Python.

A ptrace supervisor runs a real x86-64 program and answers its syscalls from
its own model of Linux (see docs/DESIGN.md).
"""
__version__ = "0.1.0"
