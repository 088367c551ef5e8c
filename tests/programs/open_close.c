/* open, openat, creat, close, close_range.
 *
 * Only read-only opens of host files: under pylinuxabi "/" is read-only, so
 * any case whose result would depend on "/" being writable is left out
 * (creat is exercised on error paths that are decided before the EROFS
 * check). */
#include "common.h"

#ifndef CLOSE_RANGE_UNSHARE
#define CLOSE_RANGE_UNSHARE (1U << 1)
#endif
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

static void test_open(void)
{
    long fd;

    printf("-- open\n");
    fd = SHOW(syscall(SYS_open, "/etc/passwd", O_RDONLY));
    SHOW(fcntl(fd, F_GETFD));
    SHOW(syscall(SYS_close, fd));
    fd = SHOW(syscall(SYS_open, "/etc/passwd", O_RDONLY | O_CLOEXEC));
    SHOW(fcntl(fd, F_GETFD));
    SHOW(syscall(SYS_close, fd));
    /* the lowest free descriptor is always used */
    long a = SHOW(syscall(SYS_open, "/etc/passwd", O_RDONLY));
    long b = SHOW(syscall(SYS_open, "/etc/passwd", O_RDONLY));
    SHOW(syscall(SYS_close, a));
    long c = SHOW(syscall(SYS_open, "/dev/null", O_RDWR));
    SHOW(syscall(SYS_close, b));
    SHOW(syscall(SYS_close, c));

    fd = SHOW(syscall(SYS_open, "/etc", O_RDONLY | O_DIRECTORY));
    SHOW(syscall(SYS_close, fd));
    fd = SHOW(syscall(SYS_open, "/etc/", O_RDONLY));
    SHOW(syscall(SYS_close, fd));
    fd = SHOW(syscall(SYS_open, "/dev/null", O_WRONLY));
    SHOW(syscall(SYS_close, fd));
    fd = SHOW(syscall(SYS_open, "/dev/zero", O_RDWR | O_CLOEXEC));
    SHOW(syscall(SYS_close, fd));
    /* O_CREAT on an existing file without write access: no write needed */
    fd = SHOW(syscall(SYS_open, "/etc/passwd", O_RDONLY | O_CREAT, 0644));
    SHOW(syscall(SYS_close, fd));
    /* dot-dot and repeated slashes */
    fd = SHOW(syscall(SYS_open, "/etc/../etc//./passwd", O_RDONLY));
    SHOW(syscall(SYS_close, fd));
    fd = SHOW(syscall(SYS_open, "/../../etc/passwd", O_RDONLY));
    SHOW(syscall(SYS_close, fd));

    /* errors */
    SHOW(syscall(SYS_open, "/nonexistent", O_RDONLY));
    SHOW(syscall(SYS_open, "/nonexistent/x", O_RDONLY));
    SHOW(syscall(SYS_open, "/etc/passwd/x", O_RDONLY));
    SHOW(syscall(SYS_open, "/etc/passwd/", O_RDONLY));
    SHOW(syscall(SYS_open, "/etc/passwd", O_RDONLY | O_DIRECTORY));
    SHOW(syscall(SYS_open, "/etc", O_WRONLY));
    SHOW(syscall(SYS_open, "/etc", O_RDWR));
    SHOW(syscall(SYS_open, "/etc", O_RDONLY | O_CREAT, 0644));
    SHOW(syscall(SYS_open, "/etc/", O_RDONLY | O_CREAT, 0644));
    SHOW(syscall(SYS_open, "/etc/passwd", O_RDONLY | O_CREAT | O_EXCL, 0644));
    SHOW(syscall(SYS_open, "/etc", O_RDONLY | O_CREAT | O_EXCL, 0644));
    SHOW(syscall(SYS_open, "/nonexistent/x", O_WRONLY | O_CREAT, 0644));
    SHOW(syscall(SYS_open, "/etc", O_RDONLY | O_DIRECTORY | O_CREAT, 0644));
    SHOW(syscall(SYS_open, "/tmp", O_RDONLY | O_TMPFILE, 0600));
    SHOW(syscall(SYS_open, "", O_RDONLY));
    SHOW(syscall(SYS_open, BADPTR, O_RDONLY));
    SHOW(syscall(SYS_open, NULL, O_RDONLY));
    SHOW(syscall(SYS_open, long_path(), O_RDONLY));
    SHOW(syscall(SYS_open, long_name(), O_RDONLY));

    /* symlinks: /bin is a symlink to usr/bin on merged-/usr systems */
    struct stat st;
    if (lstat("/bin", &st) == 0 && S_ISLNK(st.st_mode)) {
        printf("/bin is a symlink\n");
        SHOW(syscall(SYS_open, "/bin", O_RDONLY | O_NOFOLLOW));
        SHOW(syscall(SYS_open, "/bin", O_RDONLY | O_NOFOLLOW | O_DIRECTORY));
        fd = SHOW(syscall(SYS_open, "/bin/", O_RDONLY | O_NOFOLLOW));
        SHOW(syscall(SYS_close, fd));
        fd = SHOW(syscall(SYS_open, "/bin", O_RDONLY | O_DIRECTORY));
        SHOW(syscall(SYS_close, fd));
        fd = SHOW(syscall(SYS_open, "/bin", O_PATH | O_NOFOLLOW));
        SHOW(syscall(SYS_close, fd));
        fd = SHOW(syscall(SYS_open, "/bin/sh", O_RDONLY | O_NOFOLLOW));
        SHOW(syscall(SYS_close, fd));
    } else {
        printf("/bin is not a symlink\n");
    }
}

static void test_openat(void)
{
    long fd;

    printf("-- openat\n");
    long etc = SHOW(syscall(SYS_openat, AT_FDCWD, "/etc", O_RDONLY | O_DIRECTORY));
    fd = SHOW(syscall(SYS_openat, etc, "passwd", O_RDONLY));
    SHOW(syscall(SYS_close, fd));
    fd = SHOW(syscall(SYS_openat, etc, "../etc/./passwd", O_RDONLY));
    SHOW(syscall(SYS_close, fd));
    fd = SHOW(syscall(SYS_openat, etc, ".", O_RDONLY | O_DIRECTORY));
    SHOW(syscall(SYS_close, fd));
    /* an absolute path ignores dirfd, even a bad one */
    fd = SHOW(syscall(SYS_openat, BADFD, "/etc/passwd", O_RDONLY));
    SHOW(syscall(SYS_close, fd));
    /* O_PATH directory descriptors work as dirfd */
    long etcp = SHOW(syscall(SYS_openat, AT_FDCWD, "/etc", O_PATH));
    fd = SHOW(syscall(SYS_openat, etcp, "passwd", O_RDONLY));
    SHOW(syscall(SYS_close, fd));
    SHOW(syscall(SYS_close, etcp));
    /* AT_FDCWD relative to the working directory */
    SHOW(chdir("/etc"));
    fd = SHOW(syscall(SYS_openat, AT_FDCWD, "passwd", O_RDONLY));
    SHOW(syscall(SYS_close, fd));
    fd = SHOW(syscall(SYS_open, "passwd", O_RDONLY));
    SHOW(syscall(SYS_close, fd));
    SHOW(chdir("/"));

    /* errors */
    long file = SHOW(syscall(SYS_openat, AT_FDCWD, "/etc/passwd", O_RDONLY));
    SHOW(syscall(SYS_openat, BADFD, "passwd", O_RDONLY));
    SHOW(syscall(SYS_openat, -1, "passwd", O_RDONLY));
    SHOW(syscall(SYS_openat, file, "x", O_RDONLY));
    SHOW(syscall(SYS_openat, etc, "nonexistent", O_RDONLY));
    SHOW(syscall(SYS_openat, etc, "", O_RDONLY));
    SHOW(syscall(SYS_openat, etc, "passwd/", O_RDONLY));
    SHOW(syscall(SYS_openat, etc, BADPTR, O_RDONLY));
    SHOW(syscall(SYS_openat, etc, long_path() + 1, O_RDONLY));
    SHOW(syscall(SYS_openat, AT_FDCWD, "/etc", O_WRONLY));
    SHOW(syscall(SYS_close, file));
    SHOW(syscall(SYS_close, etc));
}

static void test_creat(void)
{
    /* only errors decided before any write permission check */
    printf("-- creat\n");
    SHOW(syscall(SYS_creat, "/nonexistent/x", 0644));
    SHOW(syscall(SYS_creat, "/etc", 0644));
    SHOW(syscall(SYS_creat, "/etc/", 0644));
    SHOW(syscall(SYS_creat, "/etc/passwd/x", 0644));
    SHOW(syscall(SYS_creat, "", 0644));
    SHOW(syscall(SYS_creat, BADPTR, 0644));
    SHOW(syscall(SYS_creat, long_path(), 0644));
}

static void test_close(void)
{
    printf("-- close\n");
    long fd = SHOW(syscall(SYS_open, "/dev/null", O_RDONLY));
    SHOW(syscall(SYS_close, fd));
    SHOW(syscall(SYS_close, fd));
    SHOW(syscall(SYS_close, BADFD));
    SHOW(syscall(SYS_close, -1));
    SHOW(syscall(SYS_close, 0x7fffffff));
}

static void test_close_range(void)
{
    printf("-- close_range\n");
    for (int i = 0; i < 5; i++)
        SHOW(syscall(SYS_open, "/dev/null", O_RDONLY));   /* 3..7 */
    SHOW(syscall(SYS_close_range, 4, 5, 0));
    SHOW(fcntl(3, F_GETFD));
    SHOW(fcntl(4, F_GETFD));
    SHOW(fcntl(5, F_GETFD));
    SHOW(fcntl(6, F_GETFD));
    SHOW(syscall(SYS_open, "/dev/null", O_RDONLY));       /* reuses 4 */
    SHOW(syscall(SYS_close_range, 6, 6, CLOSE_RANGE_CLOEXEC));
    SHOW(fcntl(6, F_GETFD));
    SHOW(fcntl(7, F_GETFD));
    SHOW(syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC));
    SHOW(fcntl(3, F_GETFD));
    SHOW(fcntl(7, F_GETFD));
    SHOW(fcntl(1, F_GETFD));
    SHOW(syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_UNSHARE));
    SHOW(fcntl(3, F_GETFD));
    SHOW(fcntl(7, F_GETFD));
    SHOW(fcntl(2, F_GETFD));
    /* nothing open in the range: still fine */
    SHOW(syscall(SYS_close_range, 100, 200, 0));
    SHOW(syscall(SYS_close_range, 3, 3, 0));
    /* errors */
    SHOW(syscall(SYS_close_range, 5, 4, 0));
    SHOW(syscall(SYS_close_range, 3, 10, 0x8));
    SHOW(syscall(SYS_close_range, 3, 10, ~0U));
    SHOW(syscall(SYS_open, "/dev/null", O_RDONLY));       /* 3 again */
}

int main(void)
{
    test_open();
    test_openat();
    test_creat();
    test_close();
    test_close_range();
    return 0;
}
