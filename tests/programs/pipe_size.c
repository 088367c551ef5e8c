/*
 * F_GETPIPE_SZ / F_SETPIPE_SZ: the default 64 KiB, rounding up to a power of
 * two pages, the pipe-max-size limit (EPERM without CAP_SYS_RESOURCE, which
 * this machine's root lacks: its bounding set is docker-like), EINVAL past 2 GiB,
 * EBUSY when the queued data would not fit, EBADF on a non-pipe.
 */
#include "common.h"

int main(void)
{
    int p[2];
    char buf[65536] = {0};
    SHOW(pipe(p));
    SHOW(fcntl(p[0], F_GETPIPE_SZ));
    SHOW(fcntl(p[1], F_SETPIPE_SZ, 0));
    SHOW(fcntl(p[1], F_SETPIPE_SZ, 1));
    SHOW(fcntl(p[1], F_SETPIPE_SZ, 4097));
    SHOW(fcntl(p[1], F_SETPIPE_SZ, 100000));
    SHOW(fcntl(p[0], F_GETPIPE_SZ));
    SHOW(fcntl(p[1], F_SETPIPE_SZ, 1048576));
    SHOW(fcntl(p[1], F_SETPIPE_SZ, 1048577));
    SHOW(fcntl(p[1], F_SETPIPE_SZ, -1));
    SHOW(fcntl(p[1], F_SETPIPE_SZ, 65536));
    SHOW(write(p[1], buf, 20000));
    SHOW(fcntl(p[1], F_SETPIPE_SZ, 4096));
    SHOW(fcntl(p[1], F_SETPIPE_SZ, 32768));
    SHOW(fcntl(p[0], F_GETPIPE_SZ));
    SHOW(fcntl(0, F_GETPIPE_SZ));
    SHOW(fcntl(BADFD, F_GETPIPE_SZ));
    return 0;
}
