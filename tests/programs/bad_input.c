/* Bad arguments across the implemented syscalls: wild, NULL, kernel-space
 * and half-mapped pointers, bad descriptors, bad flags, paths that are too
 * long or empty, and combinations of several bad arguments (which error
 * wins is part of the ABI).  Also: argument registers are truncated to the
 * C type the kernel declares (int fds, flags, modes).
 *
 * Nothing here writes to the file system. */
#include "common.h"
#include <limits.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <sys/rseq.h>
#include <asm/prctl.h>

#define KPTR ((void *)0xffffffff81000000UL)   /* kernel half: never accessible */
#define HI32 0x100000000L                       /* set bit 32 of an int argument */

static char buf[4096];
static struct stat st;
static struct statx stx;

static void wild_pointers(void)
{
    long fd = open("/etc/passwd", O_RDONLY);
    long dir = open("/etc", O_RDONLY | O_DIRECTORY);
    long null = open("/dev/null", O_RDWR);
    void *ptrs[] = {BADPTR, NULL, KPTR, (void *)-1L};
    const char *names[] = {"wild (void *)1", "NULL", "kernel address", "(void *)-1"};
    int n;

    for (int i = 0; i < 4; i++) {
        void *p = ptrs[i];
        struct iovec iov = {p, 8};
        printf("-- %s\n", names[i]);
        /* as a path */
        SHOW(syscall(SYS_open, p, O_RDONLY));
        SHOW(syscall(SYS_openat, AT_FDCWD, p, O_RDONLY));
        SHOW(syscall(SYS_openat, dir, p, O_RDONLY));
        SHOW(syscall(SYS_creat, p, 0644));
        SHOW(syscall(SYS_stat, p, &st));
        SHOW(syscall(SYS_lstat, p, &st));
        SHOW(syscall(SYS_newfstatat, dir, p, &st, 0));
        SHOW(syscall(SYS_newfstatat, dir, p, &st, AT_EMPTY_PATH));
        SHOW(syscall(SYS_statx, dir, p, 0, STATX_BASIC_STATS, &stx));
        SHOW(syscall(SYS_access, p, F_OK));
        SHOW(syscall(SYS_faccessat, dir, p, F_OK));
        SHOW(syscall(SYS_faccessat2, dir, p, F_OK, 0));
        SHOW(syscall(SYS_readlink, p, buf, sizeof buf));
        SHOW(syscall(SYS_readlinkat, dir, p, buf, sizeof buf));
        SHOW(syscall(SYS_chdir, p));
        /* as an output buffer */
        SHOW(syscall(SYS_read, fd, p, 8));
        SHOW(syscall(SYS_pread64, fd, p, 8, 0));
        SHOW(syscall(SYS_readv, fd, &iov, 1));
        SHOW(syscall(SYS_preadv, fd, &iov, 1, 0, 0));
        SHOW(syscall(SYS_preadv2, fd, &iov, 1, 0, 0, 0));
        SHOW(syscall(SYS_fstat, fd, p));
        SHOW(syscall(SYS_stat, "/etc/passwd", p));
        SHOW(syscall(SYS_lstat, "/etc/passwd", p));
        SHOW(syscall(SYS_newfstatat, AT_FDCWD, "/etc/passwd", p, 0));
        SHOW(syscall(SYS_statx, AT_FDCWD, "/etc/passwd", 0, STATX_BASIC_STATS, p));
        SHOW(syscall(SYS_readlink, "/bin", p, 64));
        SHOW(syscall(SYS_getdents64, dir, p, 4096));
        SHOW(syscall(SYS_getcwd, p, 4096));
        SHOW(syscall(SYS_uname, p));
        SHOW(syscall(SYS_sysinfo, p));
        SHOW(syscall(SYS_getrandom, p, 16, 0));
        SHOW(syscall(SYS_getrlimit, RLIMIT_NOFILE, p));
        SHOW(syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, NULL, p));
        SHOW(syscall(SYS_arch_prctl, ARCH_GET_FS, p));
        SHOW(syscall(SYS_ioctl, fd, FIONREAD, p));
        SHOW(syscall(SYS_ioctl, fd, FIONBIO, p));
        /* as an input buffer */
        SHOW(syscall(SYS_write, 1, p, 8));
        SHOW(syscall(SYS_write, null, p, 8));
        SHOW(syscall(SYS_pwrite64, null, p, 8, 0));
        SHOW(syscall(SYS_writev, 1, &iov, 1));
        SHOW(syscall(SYS_writev, null, &iov, 1));
        SHOW(syscall(SYS_pwritev, null, &iov, 1, 0, 0));
        SHOW(syscall(SYS_pwritev2, null, &iov, 1, 0, 0, 0));
        SHOW(syscall(SYS_prlimit64, 0, RLIMIT_CORE, p, NULL));
        /* as an iovec array */
        SHOW(syscall(SYS_readv, fd, p, 1));
        SHOW(syscall(SYS_writev, null, p, 1));
        SHOW(syscall(SYS_preadv, fd, p, 1, 0, 0));
        SHOW(syscall(SYS_pwritev, null, p, 1, 0, 0));
        SHOW(syscall(SYS_preadv2, fd, p, 1, 0, 0, 0));
        SHOW(syscall(SYS_pwritev2, null, p, 1, 0, 0, 0));
        /* pointers nobody looks at until needed */
        SHOW(syscall(SYS_read, fd, p, 0));
        SHOW(syscall(SYS_write, null, p, 0));
        SHOW(syscall(SYS_readv, fd, p, 0));
        SHOW(syscall(SYS_getgroups, 0, p));
        SHOW(syscall(SYS_getrandom, p, 0, 0));
        SHOW(syscall(SYS_set_tid_address, p) > 0);
        SHOW(syscall(SYS_set_robust_list, p, 24));
        SHOW(syscall(SYS_ioctl, null, TCGETS, p));
    }
    n = 0;
    syscall(SYS_ioctl, fd, FIONBIO, &n);
    SHOW(syscall(SYS_set_tid_address, NULL) > 0);
    SHOW(syscall(SYS_set_robust_list, NULL, 24));
    close(null);
    close(dir);
    close(fd);
}

/* Buffers that start mapped and run into an unmapped page. */
static void half_mapped(void)
{
    printf("-- half-mapped buffers\n");
    char *page = mmap(NULL, 2 * 4096, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (page == MAP_FAILED || munmap(page + 4096, 4096) != 0) {
        printf("mmap failed\n");
        return;
    }
    char *edge = page + 4096;
    long fd = open("/etc/passwd", O_RDONLY);
    long dir = open("/etc", O_RDONLY | O_DIRECTORY);
    long null = open("/dev/null", O_RDWR);
    long zero = open("/dev/zero", O_RDONLY);
    struct iovec iov[2];

    /* reads copy what fits, then stop short */
    SHOW(syscall(SYS_read, fd, edge - 10, 100));
    SHOW(syscall(SYS_lseek, fd, 0, SEEK_CUR));
    SHOW(syscall(SYS_pread64, fd, edge - 10, 100, 0));
    SHOW(syscall(SYS_pread64, fd, edge - 1, 100, 0));
    SHOW(syscall(SYS_read, zero, edge - 10, 100));
    SHOW(syscall(SYS_getrandom, edge - 10, 100, 0));
    iov[0] = (struct iovec){buf, 5};
    iov[1] = (struct iovec){edge - 3, 100};
    SHOW(syscall(SYS_preadv, fd, iov, 2, 0, 0));
    /* all-or-nothing copies fail */
    SHOW(syscall(SYS_readlink, "/bin", edge - 3, 64));
    SHOW(syscall(SYS_getcwd, edge - 1, 4096));
    SHOW(syscall(SYS_stat, "/etc/passwd", edge - 8));
    SHOW(syscall(SYS_fstat, fd, edge - 8));
    SHOW(syscall(SYS_statx, AT_FDCWD, "/etc/passwd", 0, STATX_BASIC_STATS, edge - 8));
    SHOW(syscall(SYS_uname, edge - 8));
    SHOW(syscall(SYS_sysinfo, edge - 8));
    SHOW(syscall(SYS_getrlimit, RLIMIT_NOFILE, edge - 8));
    SHOW(syscall(SYS_arch_prctl, ARCH_GET_FS, edge - 4));
    /* writes: /dev/null never looks at the data */
    SHOW(syscall(SYS_write, null, edge - 10, 100));
    /* an iovec array running off the mapping */
    memcpy(edge - sizeof(struct iovec), &(struct iovec){buf, 4}, sizeof(struct iovec));
    SHOW(syscall(SYS_readv, fd, edge - sizeof(struct iovec), 1));
    SHOW(syscall(SYS_readv, fd, edge - sizeof(struct iovec), 2));
    SHOW(syscall(SYS_writev, null, edge - sizeof(struct iovec), 2));
    /* a path with no NUL before the unmapped page */
    memcpy(edge - 11, "/etc/passwd", 11);
    SHOW(syscall(SYS_open, edge - 11, O_RDONLY));
    SHOW(syscall(SYS_stat, edge - 11, &st));
    SHOW(syscall(SYS_access, edge - 11, F_OK));
    SHOW(syscall(SYS_chdir, edge - 4));
    /* the same path, NUL-terminated just in time */
    memcpy(edge - 12, "/etc/passwd", 12);
    long f2 = SHOW(syscall(SYS_open, edge - 12, O_RDONLY));
    SHOW(syscall(SYS_close, f2));
    SHOW(syscall(SYS_access, edge - 12, R_OK));
    close(zero);
    close(null);
    close(dir);
    close(fd);
    munmap(page, 4096);
}

static void bad_fds(void)
{
    long fds[] = {-1, BADFD, INT_MAX, INT_MIN, -100 /* AT_FDCWD */};
    const char *names[] = {"-1", "999", "INT_MAX", "INT_MIN", "AT_FDCWD"};
    struct iovec iov = {buf, 8};
    int n;

    for (int i = 0; i < 5; i++) {
        long b = fds[i];
        printf("-- fd %s\n", names[i]);
        SHOW(syscall(SYS_read, b, buf, 8));
        SHOW(syscall(SYS_write, b, buf, 8));
        SHOW(syscall(SYS_pread64, b, buf, 8, 0));
        SHOW(syscall(SYS_pwrite64, b, buf, 8, 0));
        SHOW(syscall(SYS_readv, b, &iov, 1));
        SHOW(syscall(SYS_writev, b, &iov, 1));
        SHOW(syscall(SYS_preadv, b, &iov, 1, 0, 0));
        SHOW(syscall(SYS_pwritev, b, &iov, 1, 0, 0));
        SHOW(syscall(SYS_preadv2, b, &iov, 1, -1L, 0, 0));
        SHOW(syscall(SYS_pwritev2, b, &iov, 1, -1L, 0, 0));
        SHOW(syscall(SYS_lseek, b, 0, SEEK_SET));
        SHOW(syscall(SYS_close, b));
        SHOW(syscall(SYS_fstat, b, &st));
        SHOW(syscall(SYS_newfstatat, b, "", &st, AT_EMPTY_PATH));
        SHOW(syscall(SYS_newfstatat, b, "passwd", &st, 0));
        SHOW(syscall(SYS_statx, b, "", AT_EMPTY_PATH, STATX_BASIC_STATS, &stx));
        SHOW(syscall(SYS_statx, b, "passwd", 0, STATX_BASIC_STATS, &stx));
        SHOW(syscall(SYS_openat, b, "passwd", O_RDONLY));
        SHOW(syscall(SYS_faccessat, b, "passwd", F_OK));
        SHOW(syscall(SYS_faccessat2, b, "passwd", F_OK, 0));
        SHOW(syscall(SYS_faccessat2, b, "", F_OK, AT_EMPTY_PATH));
        SHOW(syscall(SYS_readlinkat, b, "bin", buf, sizeof buf));
        SHOW(syscall(SYS_getdents64, b, buf, sizeof buf));
        SHOW(syscall(SYS_fchdir, b));
        SHOW(syscall(SYS_dup, b));
        SHOW(syscall(SYS_dup2, b, 20));
        SHOW(syscall(SYS_dup3, b, 20, 0));
        if (b < 0 || b > (1 << 20)) {   /* not a possible new descriptor */
            SHOW(syscall(SYS_dup2, 1, b));
            SHOW(syscall(SYS_dup3, 1, b, 0));
            SHOW(syscall(SYS_fcntl, 1, F_DUPFD, b));
        }
        SHOW(syscall(SYS_fcntl, b, F_GETFD));
        SHOW(syscall(SYS_fcntl, b, F_GETFL));
        SHOW(syscall(SYS_fcntl, b, F_DUPFD, 0));
        SHOW(syscall(SYS_ioctl, b, FIONREAD, &n));
        SHOW(syscall(SYS_ioctl, b, FIOCLEX));
        SHOW(syscall(SYS_close_range, b, b, 0));
    }
}

static void bad_flags(void)
{
    long fd = open("/etc/passwd", O_RDONLY);
    long dir = open("/etc", O_RDONLY | O_DIRECTORY);
    long null = open("/dev/null", O_RDWR);
    struct iovec iov = {buf, 8};
    struct rlimit rl;

    printf("-- bad flags\n");
    SHOW(syscall(SYS_open, "/etc/passwd", -1));
    SHOW(syscall(SYS_open, "/etc/passwd", O_RDONLY | O_TMPFILE));
    SHOW(syscall(SYS_open, "/etc/passwd", O_WRONLY | O_RDWR | O_DIRECTORY));
    SHOW(syscall(SYS_openat, dir, "passwd", O_CREAT | O_DIRECTORY));
    SHOW(syscall(SYS_openat, dir, "passwd", O_PATH | O_DIRECTORY));
    SHOW(syscall(SYS_openat, dir, "passwd", O_RDONLY | 0x40000000));
    SHOW(syscall(SYS_close, fd + 10));
    SHOW(syscall(SYS_close_range, 0, 10, 1U << 5));
    SHOW(syscall(SYS_close_range, 10, 0, 0));
    SHOW(syscall(SYS_close_range, ~0U, 0, 0));
    SHOW(syscall(SYS_lseek, fd, 0, 5));
    SHOW(syscall(SYS_lseek, fd, 0, INT_MAX));
    SHOW(syscall(SYS_lseek, fd, -1L, SEEK_SET));
    SHOW(syscall(SYS_lseek, fd, LONG_MIN, SEEK_END));
    SHOW(syscall(SYS_pread64, fd, buf, 8, LONG_MIN));
    SHOW(syscall(SYS_pwrite64, null, buf, 8, LONG_MIN));
    SHOW(syscall(SYS_preadv2, fd, &iov, 1, 0, 0, ~0));
    SHOW(syscall(SYS_pwritev2, null, &iov, 1, 0, 0, ~0));
    SHOW(syscall(SYS_readv, fd, &iov, INT_MIN));
    SHOW(syscall(SYS_readv, fd, &iov, 1025));
    SHOW(syscall(SYS_newfstatat, dir, "passwd", &st, -1));
    SHOW(syscall(SYS_newfstatat, dir, "passwd", &st, 0x8000));
    SHOW(syscall(SYS_statx, dir, "passwd", -1, STATX_BASIC_STATS, &stx));
    SHOW(syscall(SYS_statx, dir, "passwd", 0, -1, &stx));
    SHOW(syscall(SYS_statx, dir, "passwd", AT_STATX_FORCE_SYNC | AT_STATX_DONT_SYNC,
                 STATX_BASIC_STATS, &stx));
    SHOW(syscall(SYS_access, "/etc/passwd", 0x8));
    SHOW(syscall(SYS_faccessat, dir, "passwd", ~0));
    SHOW(syscall(SYS_faccessat2, dir, "passwd", F_OK, -1));
    SHOW(syscall(SYS_faccessat2, dir, "passwd", F_OK, 0x400));
    SHOW(syscall(SYS_readlink, "/bin", buf, INT_MIN));
    SHOW(syscall(SYS_readlinkat, dir, "os-release", buf, 0));
    SHOW(syscall(SYS_getdents64, dir, buf, 0));
    SHOW(syscall(SYS_getdents64, dir, buf, 8));
    SHOW(syscall(SYS_dup3, 1, 20, -1));
    SHOW(syscall(SYS_dup3, 1, 20, O_CLOEXEC | O_NONBLOCK));
    SHOW(syscall(SYS_dup3, 1, 1, 0));
    SHOW(syscall(SYS_fcntl, fd, -1));
    SHOW(syscall(SYS_fcntl, fd, 1234567));
    SHOW(syscall(SYS_fcntl, fd, F_DUPFD, INT_MAX));
    SHOW(syscall(SYS_fcntl, fd, F_DUPFD, -1L));
    SHOW(syscall(SYS_ioctl, fd, 0xdeadbeef, 0));
    SHOW(syscall(SYS_ioctl, null, TIOCGWINSZ, buf));
    SHOW(syscall(SYS_getrandom, buf, 8, -1));
    SHOW(syscall(SYS_getrandom, buf, 8, 0x10));
    SHOW(syscall(SYS_getgroups, INT_MIN, buf));
    SHOW(syscall(SYS_getrlimit, INT_MAX, &rl));
    SHOW(syscall(SYS_prlimit64, 0, INT_MIN, NULL, &rl));
    SHOW(syscall(SYS_setuid, -1));
    SHOW(syscall(SYS_setgid, -1));
    SHOW(syscall(SYS_arch_prctl, 0x1000, buf));
    SHOW(syscall(SYS_arch_prctl, 0x3000, buf));
    SHOW(syscall(SYS_set_robust_list, NULL, 0));
    SHOW(syscall(SYS_set_robust_list, NULL, 48));
    SHOW(syscall(SYS_rseq, NULL, 32, 0, 0));
    SHOW(syscall(SYS_rseq, NULL, 32, 4, 0));
    SHOW(syscall(SYS_rseq, buf, 32, RSEQ_FLAG_UNREGISTER, 0));
    close(null);
    close(dir);
    close(fd);
}

static void bad_paths(void)
{
    const char *paths[] = {long_path(), long_name(), "", "/nonexistent/x",
                           "/etc/passwd/x", "/etc/passwd/"};
    const char *names[] = {"5000-char path", "300-char name", "empty path",
                           "missing parent", "file as directory",
                           "file with trailing slash"};
    long dir = open("/etc", O_RDONLY | O_DIRECTORY);

    for (int i = 0; i < 6; i++) {
        const char *p = paths[i];
        printf("-- %s\n", names[i]);
        SHOW(syscall(SYS_open, p, O_RDONLY));
        SHOW(syscall(SYS_open, p, O_RDONLY | O_CREAT, 0644));
        SHOW(syscall(SYS_openat, dir, p, O_RDONLY));
        SHOW(syscall(SYS_creat, p, 0644));
        SHOW(syscall(SYS_stat, p, &st));
        SHOW(syscall(SYS_lstat, p, &st));
        SHOW(syscall(SYS_newfstatat, AT_FDCWD, p, &st, 0));
        SHOW(syscall(SYS_newfstatat, AT_FDCWD, p, &st, AT_SYMLINK_NOFOLLOW));
        SHOW(syscall(SYS_statx, AT_FDCWD, p, 0, STATX_BASIC_STATS, &stx));
        SHOW(syscall(SYS_access, p, F_OK));
        SHOW(syscall(SYS_faccessat, AT_FDCWD, p, R_OK));
        SHOW(syscall(SYS_faccessat2, AT_FDCWD, p, R_OK, AT_EACCESS));
        SHOW(syscall(SYS_readlink, p, buf, sizeof buf));
        SHOW(syscall(SYS_readlinkat, AT_FDCWD, p, buf, sizeof buf));
        SHOW(syscall(SYS_chdir, p));
    }
    /* exactly at the limits: PATH_MAX including the NUL, NAME_MAX */
    static char p[PATH_MAX + 2];
    printf("-- limits\n");
    memset(p, '/', sizeof p);
    p[PATH_MAX - 1] = 0;   /* 4095 slashes: fine */
    SHOW(syscall(SYS_access, p, F_OK));
    p[PATH_MAX - 1] = '/';
    p[PATH_MAX] = 0;       /* 4096 characters: too long */
    SHOW(syscall(SYS_access, p, F_OK));
    strcpy(p, "/etc/");
    memset(p + 5, 'x', NAME_MAX);
    p[5 + NAME_MAX] = 0;   /* a 255-character name: just missing */
    SHOW(syscall(SYS_access, p, F_OK));
    p[5 + NAME_MAX] = 'x';
    p[6 + NAME_MAX] = 0;   /* 256 characters: too long */
    SHOW(syscall(SYS_access, p, F_OK));
    close(dir);
}

/* When several arguments are bad, Linux checks them in a fixed order. */
static void precedence(void)
{
    struct iovec iov = {buf, 8};
    long fd = open("/etc/passwd", O_RDONLY);
    long wr = open("/dev/null", O_WRONLY);

    printf("-- precedence\n");
    SHOW(syscall(SYS_read, BADFD, BADPTR, 8));
    SHOW(syscall(SYS_read, wr, BADPTR, 8));
    SHOW(syscall(SYS_write, fd, BADPTR, 8));
    SHOW(syscall(SYS_pread64, BADFD, buf, 8, -1L));
    SHOW(syscall(SYS_pread64, BADFD, BADPTR, 8, 0));
    SHOW(syscall(SYS_pwrite64, fd, buf, 8, -1L));
    SHOW(syscall(SYS_lseek, BADFD, 0, 99));
    SHOW(syscall(SYS_readv, BADFD, &iov, -1L));
    SHOW(syscall(SYS_readv, BADFD, BADPTR, 1));
    SHOW(syscall(SYS_preadv, BADFD, &iov, 1, -1L, 0));
    SHOW(syscall(SYS_preadv2, BADFD, &iov, 1, 0, 0, ~0));
    SHOW(syscall(SYS_preadv2, fd, BADPTR, 1, 0, 0, ~0));
    SHOW(syscall(SYS_preadv2, fd, &iov, 1, -5L, 0, ~0));
    SHOW(syscall(SYS_open, BADPTR, -1));
    SHOW(syscall(SYS_open, BADPTR, O_RDONLY | O_TMPFILE));
    SHOW(syscall(SYS_openat, BADFD, BADPTR, O_RDONLY));
    SHOW(syscall(SYS_openat, BADFD, long_path(), O_RDONLY));
    SHOW(syscall(SYS_openat, BADFD, "", O_RDONLY));
    SHOW(syscall(SYS_openat, fd, "", O_RDONLY));
    SHOW(syscall(SYS_stat, BADPTR, BADPTR));
    SHOW(syscall(SYS_stat, "/nonexistent", BADPTR));
    SHOW(syscall(SYS_newfstatat, BADFD, BADPTR, &st, -1));
    SHOW(syscall(SYS_newfstatat, BADFD, "x", BADPTR, 0));
    SHOW(syscall(SYS_statx, BADFD, "x", -1, STATX_BASIC_STATS, BADPTR));
    SHOW(syscall(SYS_statx, BADFD, "x", 0, STATX__RESERVED, BADPTR));
    SHOW(syscall(SYS_statx, AT_FDCWD, BADPTR, 0, STATX_BASIC_STATS, BADPTR));
    SHOW(syscall(SYS_statx, AT_FDCWD, "/nonexistent", 0, STATX_BASIC_STATS, BADPTR));
    SHOW(syscall(SYS_access, BADPTR, 8));
    SHOW(syscall(SYS_access, long_path(), 8));
    SHOW(syscall(SYS_faccessat2, BADFD, BADPTR, 8, -1));
    SHOW(syscall(SYS_faccessat2, BADFD, BADPTR, F_OK, -1));
    SHOW(syscall(SYS_faccessat2, BADFD, BADPTR, F_OK, 0));
    SHOW(syscall(SYS_readlink, BADPTR, buf, 0));
    SHOW(syscall(SYS_readlink, "/nonexistent", BADPTR, 0));
    SHOW(syscall(SYS_readlink, "/etc/passwd", BADPTR, 64));
    SHOW(syscall(SYS_readlinkat, BADFD, BADPTR, buf, 0));
    SHOW(syscall(SYS_getdents64, BADFD, BADPTR, 0));
    SHOW(syscall(SYS_getdents64, fd, BADPTR, 0));
    SHOW(syscall(SYS_getcwd, BADPTR, 0));
    SHOW(syscall(SYS_getcwd, BADPTR, 1));
    SHOW(syscall(SYS_dup3, BADFD, BADFD, -1));
    SHOW(syscall(SYS_dup3, BADFD, 20, -1));
    SHOW(syscall(SYS_dup2, BADFD, -1));
    SHOW(syscall(SYS_fcntl, BADFD, -1));
    SHOW(syscall(SYS_fcntl, fd, F_DUPFD, INT_MIN));
    SHOW(syscall(SYS_ioctl, BADFD, FIONREAD, BADPTR));
    SHOW(syscall(SYS_close_range, BADFD, 3, 0));
    SHOW(syscall(SYS_close_range, BADFD, 3, ~0U));
    SHOW(syscall(SYS_getrandom, BADPTR, 16, -1));
    SHOW(syscall(SYS_getgroups, -1, BADPTR));
    SHOW(syscall(SYS_getrlimit, 99, BADPTR));
    SHOW(syscall(SYS_prlimit64, 0x3fffffff, 99, NULL, &iov));
    SHOW(syscall(SYS_prlimit64, 0x3fffffff, RLIMIT_NOFILE, BADPTR, NULL));
    SHOW(syscall(SYS_arch_prctl, 0x9999, BADPTR));
    SHOW(syscall(SYS_set_robust_list, BADPTR, 1));
    SHOW(syscall(SYS_rseq, BADPTR, 0, 0, 0));
    SHOW(syscall(SYS_chdir, long_path()));
    SHOW(syscall(SYS_fchdir, fd));
    close(wr);
    close(fd);
}

/* The kernel looks only at the low 32 bits of int/unsigned arguments. */
static void truncated_args(void)
{
    struct stat st2;

    printf("-- truncated 64-bit arguments\n");
    long fd = open("/etc/passwd", O_RDONLY);
    SHOW(fd);
    SHOW(syscall(SYS_read, HI32 | fd, buf, 4));
    SHOW(syscall(SYS_lseek, HI32 | fd, 0, SEEK_CUR));
    SHOW(syscall(SYS_lseek, fd, 1, HI32 | SEEK_CUR));
    SHOW(syscall(SYS_pread64, HI32 | fd, buf, 4, 0));
    SHOW(syscall(SYS_fstat, HI32 | fd, &st2));
    SHOW(syscall(SYS_fcntl, HI32 | fd, HI32 | F_GETFD));
    SHOW(syscall(SYS_dup2, HI32 | fd, HI32 | 20));
    SHOW(syscall(SYS_dup3, 20, HI32 | 21, HI32 | O_CLOEXEC));
    SHOW(syscall(SYS_fcntl, 21, F_GETFD));
    SHOW(syscall(SYS_newfstatat, HI32 | AT_FDCWD, "/etc/passwd", &st2, HI32));
    SHOW(syscall(SYS_statx, HI32 | AT_FDCWD, "/etc/passwd", HI32, HI32 | STATX_SIZE, &stx));
    SHOW(syscall(SYS_open, "/etc/passwd", HI32 | O_RDONLY));
    SHOW(syscall(SYS_openat, HI32 | AT_FDCWD, "/etc/passwd", HI32 | O_RDONLY));
    SHOW(syscall(SYS_dup2, fd, 22));
    SHOW(syscall(SYS_close, HI32 | 22));
    SHOW(syscall(SYS_close, 22));
    SHOW(syscall(SYS_access, "/etc/passwd", HI32 | R_OK));
    SHOW(syscall(SYS_faccessat, HI32 | AT_FDCWD, "/etc/passwd", HI32 | R_OK));
    SHOW(syscall(SYS_faccessat2, HI32 | AT_FDCWD, "/etc/passwd", HI32 | R_OK, HI32));
    SHOW(syscall(SYS_readlink, "/bin", buf, HI32 | 3));
    SHOW(syscall(SYS_readlinkat, HI32 | AT_FDCWD, "/bin", buf, HI32 | 3));
    SHOW(syscall(SYS_getrandom, buf, 4, HI32));
    SHOW(syscall(SYS_getgroups, HI32, NULL) >= 0);
    SHOW(syscall(SYS_close_range, HI32 | 20, HI32 | 21, HI32));
    SHOW(syscall(SYS_fcntl, 20, F_GETFD));
    SHOW(syscall(SYS_fchdir, HI32 | fd));
    SHOW(syscall(SYS_close, HI32 | fd));
    SHOW(syscall(SYS_close, fd));
    SHOW(syscall(SYS_umask, 022) >= 0);
    OCT(syscall(SYS_umask, HI32 | 027));
    OCT(syscall(SYS_umask, 022));
}

int main(void)
{
    chdir("/");
    wild_pointers();
    half_mapped();
    bad_fds();
    bad_flags();
    bad_paths();
    precedence();
    truncated_args();
    return 0;
}
