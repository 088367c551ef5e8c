/* dup, dup2, dup3, fcntl, ioctl. */
#include "common.h"
#include <sys/ioctl.h>
#include <termios.h>

static long fcntl_(long fd, long cmd, long arg)
{
    return syscall(SYS_fcntl, fd, cmd, arg);
}

/* F_GETFL in octal: includes the O_LARGEFILE the kernel adds on 64-bit */
static void show_fl(const char *label, long fd)
{
    long r = fcntl_(fd, F_GETFL, 0);
    if (r == -1)
        printf("F_GETFL(%s) = -1 %s\n", label, errname(errno));
    else
        printf("F_GETFL(%s) = %#lo\n", label, r);
}

static void show_type(const char *label, long fd)
{
    struct stat st;
    if (syscall(SYS_fstat, fd, &st) == -1)
        printf("fstat(%s) = -1 %s\n", label, errname(errno));
    else
        printf("fstat(%s) = %s\n", label, ftype(st.st_mode));
}

static void test_dup(void)
{
    printf("-- dup\n");
    long a = SHOW(open("/etc/passwd", O_RDONLY | O_CLOEXEC));
    long b = SHOW(syscall(SYS_dup, a));
    SHOW(fcntl_(a, F_GETFD, 0));
    SHOW(fcntl_(b, F_GETFD, 0));   /* dup never copies FD_CLOEXEC */
    /* the open file description, and so the offset, is shared */
    SHOW(lseek(a, 17, SEEK_SET));
    SHOW(lseek(b, 0, SEEK_CUR));
    long c = SHOW(syscall(SYS_dup, 0));
    SHOW(syscall(SYS_close, c));
    long p = SHOW(open("/etc", O_PATH));
    long q = SHOW(syscall(SYS_dup, p));
    show_type("dup of O_PATH", q);
    SHOW(syscall(SYS_close, q));
    SHOW(syscall(SYS_close, p));
    SHOW(syscall(SYS_dup, BADFD));
    SHOW(syscall(SYS_dup, -1));
    SHOW(syscall(SYS_close, b));
    SHOW(syscall(SYS_dup, b));

    printf("-- dup2\n");
    SHOW(syscall(SYS_dup2, a, 10));
    SHOW(lseek(10, 0, SEEK_CUR));
    SHOW(fcntl_(10, F_GETFD, 0));
    SHOW(syscall(SYS_dup2, a, a));
    SHOW(syscall(SYS_dup2, 10, 10));
    /* replacing an open descriptor */
    long null = SHOW(open("/dev/null", O_RDONLY | O_CLOEXEC));
    SHOW(syscall(SYS_dup2, null, 10));
    show_type("10 after dup2", 10);
    SHOW(fcntl_(10, F_GETFD, 0));
    SHOW(syscall(SYS_dup2, null, 12));
    SHOW(syscall(SYS_open, "/dev/zero", O_RDONLY));   /* lowest free, below 10 */
    /* errors */
    SHOW(syscall(SYS_dup2, BADFD, 11));
    SHOW(fcntl_(11, F_GETFD, 0));
    SHOW(syscall(SYS_dup2, BADFD, BADFD));
    SHOW(syscall(SYS_dup2, a, -1));
    SHOW(syscall(SYS_dup2, a, 1 << 30));
    SHOW(syscall(SYS_dup2, a, 0x7fffffff));
    SHOW(syscall(SYS_dup2, -1, 10));
    show_type("10 after failed dup2", 10);

    printf("-- dup3\n");
    SHOW(syscall(SYS_dup3, a, 11, 0));
    SHOW(fcntl_(11, F_GETFD, 0));
    SHOW(syscall(SYS_dup3, a, 11, O_CLOEXEC));
    SHOW(fcntl_(11, F_GETFD, 0));
    SHOW(syscall(SYS_dup3, null, 11, 0));
    SHOW(fcntl_(11, F_GETFD, 0));
    show_type("11 after dup3", 11);
    /* errors */
    SHOW(syscall(SYS_dup3, a, a, 0));
    SHOW(syscall(SYS_dup3, a, a, O_CLOEXEC));
    SHOW(syscall(SYS_dup3, BADFD, BADFD, 0));
    SHOW(syscall(SYS_dup3, a, 13, 0x1));
    SHOW(syscall(SYS_dup3, a, 13, O_NONBLOCK));
    SHOW(syscall(SYS_dup3, a, 13, O_CLOEXEC | 0x1));
    SHOW(syscall(SYS_dup3, a, 13, -1));
    SHOW(fcntl_(13, F_GETFD, 0));
    SHOW(syscall(SYS_dup3, BADFD, 13, 0));
    SHOW(syscall(SYS_dup3, a, -1, 0));
    SHOW(syscall(SYS_dup3, a, 1 << 30, 0));
    SHOW(syscall(SYS_close_range, 3, ~0U, 0));
}

static void test_fcntl(void)
{
    printf("-- fcntl\n");
    long fd = SHOW(open("/etc/passwd", O_RDONLY));
    SHOW(fcntl_(fd, F_DUPFD, 0));
    SHOW(fcntl_(fd, F_DUPFD, 20));
    SHOW(fcntl_(fd, F_DUPFD, 20));
    SHOW(fcntl_(20, F_GETFD, 0));
    SHOW(fcntl_(fd, F_DUPFD_CLOEXEC, 30));
    SHOW(fcntl_(30, F_GETFD, 0));
    SHOW(fcntl_(fd, F_DUPFD_CLOEXEC, 0));
    SHOW(fcntl_(fd, F_DUPFD, -1));
    SHOW(fcntl_(fd, F_DUPFD, 1 << 30));
    SHOW(fcntl_(fd, F_DUPFD_CLOEXEC, 1 << 30));
    SHOW(fcntl_(BADFD, F_DUPFD, 0));

    SHOW(fcntl_(fd, F_GETFD, 0));
    SHOW(fcntl_(fd, F_SETFD, FD_CLOEXEC));
    SHOW(fcntl_(fd, F_GETFD, 0));
    SHOW(fcntl_(fd, F_SETFD, 0));
    SHOW(fcntl_(fd, F_GETFD, 0));
    SHOW(fcntl_(fd, F_SETFD, 0xff));
    SHOW(fcntl_(fd, F_GETFD, 0));
    SHOW(fcntl_(fd, F_SETFD, 2));
    SHOW(fcntl_(fd, F_GETFD, 0));
    SHOW(fcntl_(BADFD, F_GETFD, 0));
    SHOW(fcntl_(BADFD, F_SETFD, 1));
    SHOW(fcntl_(-1, F_GETFD, 0));

    show_fl("passwd O_RDONLY", fd);
    SHOW(fcntl_(fd, F_SETFL, O_APPEND));
    show_fl("after O_APPEND", fd);
    SHOW(fcntl_(fd, F_SETFL, O_NONBLOCK | O_APPEND));
    show_fl("after O_NONBLOCK|O_APPEND", fd);
    /* the access mode and creation flags cannot be changed */
    SHOW(fcntl_(fd, F_SETFL, O_RDWR | O_CREAT | O_EXCL | O_TRUNC));
    show_fl("after O_RDWR|O_CREAT|O_EXCL|O_TRUNC", fd);
    SHOW(fcntl_(fd, F_SETFL, 0));
    show_fl("after 0", fd);
    long ce = SHOW(open("/etc/passwd", O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    show_fl("O_CLOEXEC|O_NOFOLLOW", ce);
    SHOW(syscall(SYS_close, ce));
    long null = SHOW(open("/dev/null", O_RDWR | O_APPEND | O_NONBLOCK));
    show_fl("/dev/null O_RDWR|O_APPEND|O_NONBLOCK", null);
    SHOW(fcntl_(null, F_SETFL, O_DIRECT));
    show_fl("/dev/null after O_DIRECT", null);
    long wr = SHOW(open("/dev/null", O_WRONLY | O_SYNC));
    show_fl("/dev/null O_WRONLY|O_SYNC", wr);
    long dir = SHOW(open("/etc", O_RDONLY | O_DIRECTORY));
    show_fl("/etc O_DIRECTORY", dir);
    long path = SHOW(open("/etc", O_PATH));
    show_fl("/etc O_PATH", path);
    SHOW(fcntl_(path, F_GETFD, 0));
    SHOW(fcntl_(path, F_SETFD, FD_CLOEXEC));
    SHOW(fcntl_(path, F_GETFD, 0));
    SHOW(fcntl_(path, F_SETFL, O_APPEND));
    SHOW(fcntl_(path, F_DUPFD, 40));
    show_fl("dup of O_PATH", 40);
    show_fl("BADFD", BADFD);
    SHOW(fcntl_(BADFD, F_SETFL, 0));

    SHOW(fcntl_(fd, 9999, 0));
    SHOW(fcntl_(fd, -1, 0));
    SHOW(fcntl_(BADFD, 9999, 0));
    SHOW(syscall(SYS_close_range, 3, ~0U, 0));
}

static void test_ioctl(void)
{
    int n;
    struct termios t;
    struct winsize ws;

    printf("-- ioctl\n");
    long fd = SHOW(open("/etc/passwd", O_RDONLY));
    long size = lseek(fd, 0, SEEK_END);
    lseek(fd, 0, SEEK_SET);
    n = -1;
    SHOW(ioctl(fd, FIONREAD, &n));
    CHECK(n == size);
    lseek(fd, 10, SEEK_SET);
    SHOW(ioctl(fd, FIONREAD, &n));
    CHECK(n == size - 10);
    lseek(fd, size + 50, SEEK_SET);
    SHOW(ioctl(fd, FIONREAD, &n));
    SHOW(n);
    SHOW(ioctl(fd, FIONREAD, BADPTR));

    SHOW(ioctl(fd, FIOCLEX));
    SHOW(fcntl_(fd, F_GETFD, 0));
    SHOW(ioctl(fd, FIONCLEX));
    SHOW(fcntl_(fd, F_GETFD, 0));
    n = 1;
    SHOW(ioctl(fd, FIONBIO, &n));
    show_fl("after FIONBIO 1", fd);
    n = 0;
    SHOW(ioctl(fd, FIONBIO, &n));
    show_fl("after FIONBIO 0", fd);
    SHOW(ioctl(fd, FIONBIO, BADPTR));

    SHOW(ioctl(fd, TCGETS, &t));
    SHOW(ioctl(fd, TIOCGWINSZ, &ws));
    SHOW(ioctl(fd, 0x12345678, 0));

    long null = SHOW(open("/dev/null", O_RDWR));
    SHOW(ioctl(null, FIONREAD, &n));
    SHOW(ioctl(null, TCGETS, &t));
    SHOW(ioctl(null, TIOCGWINSZ, &ws));
    SHOW(ioctl(null, TCGETS, BADPTR));
    SHOW(ioctl(null, FIOCLEX));
    SHOW(fcntl_(null, F_GETFD, 0));
    SHOW(ioctl(null, 0x12345678, 0));
    long zero = SHOW(open("/dev/zero", O_RDONLY));
    SHOW(ioctl(zero, FIONREAD, &n));
    SHOW(ioctl(zero, TCGETS, &t));
    long rnd = SHOW(open("/dev/urandom", O_RDONLY));
    SHOW(ioctl(rnd, TCGETS, &t));
    SHOW(ioctl(rnd, FIONREAD, &n));
    SHOW(ioctl(rnd, FIOCLEX));

    long path = SHOW(open("/etc/passwd", O_PATH));
    SHOW(ioctl(path, FIOCLEX));
    SHOW(ioctl(path, FIONREAD, &n));
    SHOW(ioctl(BADFD, FIOCLEX));
    SHOW(ioctl(BADFD, TCGETS, &t));
    SHOW(ioctl(-1, FIONREAD, &n));
    SHOW(syscall(SYS_close_range, 3, ~0U, 0));
}

int main(void)
{
    test_dup();
    test_fcntl();
    test_ioctl();
    return 0;
}
