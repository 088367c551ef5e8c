/* loops.c - syscall micro-benchmark workload for benchmarks/run.py.
 * Touches nothing but /dev/zero (read) and /etc/passwd (stat, read-only).
 *
 * Usage: loops getuid|read|stat COUNT
 * Prints the nanoseconds spent in the loop only (CLOCK_MONOTONIC), so
 * process start-up and the tracer's own set-up are not part of the number.
 *
 * The read loop reads from BENCH_FD (77), not whatever fd open() returned:
 * floor.c emulates read() on that fd alone, and a fixed number keeps it
 * independent of fds the runner may have leaked into the process.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define BENCH_FD 77

static long long now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void die(const char *what)
{
    perror(what);
    exit(1);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s getuid|read|stat COUNT\n", argv[0]);
        return 2;
    }
    const char *mode = argv[1];
    long n = atol(argv[2]);
    long long t0, t1;

    /* Results are checked so that a broken emulator fails loudly instead
     * of producing a fast but meaningless number. */
    if (strcmp(mode, "getuid") == 0) {
        t0 = now_ns();
        for (long i = 0; i < n; i++)
            if (syscall(SYS_getuid) < 0)
                die("getuid");
        t1 = now_ns();
    } else if (strcmp(mode, "read") == 0) {
        int fd = open("/dev/zero", O_RDONLY);
        if (fd < 0 || dup2(fd, BENCH_FD) != BENCH_FD)
            die("open /dev/zero");
        if (fd != BENCH_FD)
            close(fd);
        char c;
        t0 = now_ns();
        for (long i = 0; i < n; i++)
            if (read(BENCH_FD, &c, 1) != 1)
                die("read");
        t1 = now_ns();
    } else if (strcmp(mode, "stat") == 0) {
        struct stat st;
        t0 = now_ns();
        for (long i = 0; i < n; i++)
            if (stat("/etc/passwd", &st) != 0)
                die("stat");
        t1 = now_ns();
    } else {
        fprintf(stderr, "unknown mode %s\n", mode);
        return 2;
    }
    printf("%lld\n", t1 - t0);
    return 0;
}
