"""x86-64 Linux system call numbers and names (nr <-> name tables).
Pure data: built from python-ptrace's x86-64 table plus the calls added to Linux after it."""

from __future__ import annotations

from ptrace.syscall.linux.x86_64 import SYSCALL_NAMES as _PTRACE_X86_64_NAMES

#: Highest x86-64 syscall number known to this table.
MAX_SYSCALL_NR = 467

# python-ptrace 0.9.9 stops at 440 and names 283 "timerfd"; the kernel's name is
# timerfd_create (asm/unistd_64.h).  Numbers 335..423 are unassigned on x86-64.
_CORRECTIONS = {
    283: "timerfd_create",
}

_NEWER = {
    440: "process_madvise",
    441: "epoll_pwait2",
    442: "mount_setattr",
    443: "quotactl_fd",
    444: "landlock_create_ruleset",
    445: "landlock_add_rule",
    446: "landlock_restrict_self",
    447: "memfd_secret",
    448: "process_mrelease",
    449: "futex_waitv",
    450: "set_mempolicy_home_node",
    451: "cachestat",
    452: "fchmodat2",
    453: "map_shadow_stack",
    454: "futex_wake",
    455: "futex_wait",
    456: "futex_requeue",
    457: "statmount",
    458: "listmount",
    459: "lsm_get_self_attr",
    460: "lsm_set_self_attr",
    461: "lsm_list_modules",
    462: "mseal",
    463: "setxattrat",
    464: "getxattrat",
    465: "listxattrat",
    466: "removexattrat",
    467: "open_tree_attr",
}


def _build() -> dict[int, str]:
    # Numbers >= 512 in python-ptrace's table are the x32 ABI entries; drop them.
    table = {nr: name for nr, name in _PTRACE_X86_64_NAMES.items() if 0 <= nr < 512}
    table.update(_CORRECTIONS)
    table.update(_NEWER)
    return dict(sorted(table.items()))


#: x86-64 syscall number -> name, for 0..MAX_SYSCALL_NR (with the kernel's gaps).
SYSCALL_NAMES: dict[int, str] = _build()

#: name -> x86-64 syscall number.
SYSCALL_NUMBERS: dict[str, int] = {name: nr for nr, name in SYSCALL_NAMES.items()}


def syscall_name(nr: int) -> str | None:
    """Name of syscall ``nr``, or None when the number is not assigned."""
    return SYSCALL_NAMES.get(nr)
