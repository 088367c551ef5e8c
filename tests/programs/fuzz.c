/* Random calls of the syscalls the model answers, with hostile arguments.
 * It checks nothing itself: the test runs it under --strict, where any
 * Python exception in a handler stops the supervisor, so finishing with
 * status 0 means every bad input got an errno, not a crash.
 * Usage: fuzz SEED COUNT (stdin and stdout should be /dev/null). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

static const long calls[] = {
    SYS_read, SYS_write, SYS_open, SYS_close, SYS_stat, SYS_fstat, SYS_lstat, SYS_lseek,
    SYS_pread64, SYS_pwrite64, SYS_readv, SYS_writev, SYS_access, SYS_dup, SYS_dup2,
    SYS_uname, SYS_fcntl, SYS_getdents64, SYS_getcwd, SYS_chdir, SYS_fchdir, SYS_readlink,
    SYS_umask, SYS_getrlimit, SYS_sysinfo, SYS_getuid, SYS_getgroups, SYS_openat,
    SYS_newfstatat, SYS_readlinkat, SYS_faccessat, SYS_dup3, SYS_preadv, SYS_pwritev,
    SYS_statx, SYS_close_range, SYS_faccessat2, SYS_getxattr, SYS_lgetxattr, SYS_fgetxattr,
    SYS_listxattr, SYS_flistxattr, SYS_statfs, SYS_fstatfs, SYS_ioctl, SYS_getrandom,
    SYS_prlimit64, SYS_fadvise64, SYS_preadv2, SYS_pwritev2, SYS_creat, SYS_getresuid,
    SYS_setgroups, SYS_setfsuid, SYS_getrlimit,
};

/* every writable buffer handed out is followed by an unmapped page, so a call
 * told to write too much faults instead of corrupting the fuzzer itself */
static char *page, *edge, *buf;
static const char *paths[] = {"/", "/etc/passwd", "/etc", "/dev/null", "/dev/zero", "/proc/self/fd/0",
                              "/proc/self/exe", "/nonexistent", "", "/bin", "/etc/passwd/", "..", "/dev/fd/1"};

static uint64_t rnd(void) { return ((uint64_t)random() << 33) ^ ((uint64_t)random() << 2) ^ random(); }

static long arg(void)
{
    switch (random() % 16) {
    case 0: return 0;
    case 1: return 1;
    case 2: return -1;
    case 3: return random() % 8;                         /* small: fds, flags */
    case 4: return random() % 2048;
    case 5: return (long)buf;              /* 64 KiB, then a hole */
    case 6: return (long)(edge - random() % 64);        /* a buffer ending at an unmapped page */
    case 7: return (long)paths[random() % (sizeof paths / sizeof *paths)];
    case 8: return (long)0xffffffff81000000UL;            /* kernel half */
    case 9: return -100;                                 /* AT_FDCWD */
    case 10: return 0x7fffffff;
    case 11: return (long)1 << (random() % 63);
    case 12: return (long)rnd();
    case 13: return 4096;
    case 14: return (long)page;
    default: return 65536;
    }
}

int main(int argc, char **argv)
{
    srandom(argc > 1 ? atoi(argv[1]) : 1);
    long count = argc > 2 ? atol(argv[2]) : 2000;
    page = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    munmap(page + 4096, 4096);
    edge = page + 4096;
    buf = mmap(NULL, 65536 + 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    munmap(buf + 65536, 4096);
    for (long i = 0; i < count; i++) {
        long nr = calls[random() % (sizeof calls / sizeof *calls)];
        long a[6];
        for (int j = 0; j < 6; j++)
            a[j] = arg();
        if (nr == SYS_close || nr == SYS_dup2 || nr == SYS_dup3 || nr == SYS_close_range)
            a[1] = a[1] < 3 ? 10 + a[1] : a[1];          /* keep stdio */
        if (nr == SYS_close && a[0] < 3)
            a[0] += 10;
        if (nr == SYS_close_range && (unsigned long)a[0] < 3)
            a[0] = 3;
        if ((nr == SYS_dup2 || nr == SYS_dup3) && a[1] < 3)
            continue;
        if (nr == SYS_prlimit64 || nr == SYS_setgroups)
            a[2] = 0;                                    /* read-only: keep our own limits */
        syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
    }
    return 0;
}
