"""Syscall handlers, one module per family; table.py is the single registry.

Handlers check arguments and call into kernel/ and vfs/; they hold no state.
"""
