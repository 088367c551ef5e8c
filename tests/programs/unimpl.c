/*
 * Syscalls that no x86-64 Linux implements (their numbers are reserved:
 * tuxcall 184, security 185): the kernel answers -1 ENOSYS, natively and
 * under pylinuxabi, which must also count them in its exit report.
 * Used by tests/test_strace_log.py.
 */
#include "common.h"

static void call(const char *name, long nr, long a, long b, long c)
{
    errno = 0;
    long r = syscall(nr, a, b, c);
    printf("%s = %ld %s\n", name, r, r < 0 ? errname(errno) : "");
}

int main(void)
{
    call("tuxcall", 184, 1, 2, 3);
    call("tuxcall", 184, 0, 0, 0);
    call("security", 185, 7, 0, 0);
    return 0;
}
