/* read, write, readv, writev, pread64, pwrite64, preadv, pwritev, preadv2,
 * pwritev2, lseek.
 *
 * Reads use /etc/passwd (printed only as relations to its own contents and
 * size, plus its first bytes) and the /dev nodes; writes go only to stdout
 * and /dev/null, /dev/zero, /dev/full. */
#include "common.h"
#include <limits.h>
#include <sys/uio.h>

#ifndef RWF_HIPRI
#define RWF_HIPRI 0x1
#define RWF_DSYNC 0x2
#define RWF_SYNC 0x4
#define RWF_NOWAIT 0x8
#define RWF_APPEND 0x10
#endif

static char whole[1 << 16];   /* /etc/passwd, read with stdio */
static long whole_len;

static void load_whole(void)
{
    FILE *f = fopen("/etc/passwd", "r");
    whole_len = f ? (long)fread(whole, 1, sizeof whole, f) : -1;
    if (f)
        fclose(f);
    CHECK(whole_len > 64);
}

static void print_bytes(const char *label, const char *p, long n)
{
    printf("%s: \"", label);
    for (long i = 0; i < n; i++) {
        unsigned char c = p[i];
        if (c >= 32 && c < 127 && c != '"' && c != '\\')
            putchar(c);
        else
            printf("\\x%02x", c);
    }
    printf("\"\n");
}

static int all_zero(const char *p, long n)
{
    for (long i = 0; i < n; i++)
        if (p[i])
            return 0;
    return 1;
}

static void test_read(void)
{
    char buf[4096];
    long n, total;

    printf("-- read\n");
    long fd = SHOW(open("/etc/passwd", O_RDONLY));
    n = SHOW(read(fd, buf, 16));
    print_bytes("first 16", buf, n > 0 ? n : 0);
    CHECK(memcmp(buf, whole, 16) == 0);
    SHOW(read(fd, buf, 0));
    SHOW(read(fd, BADPTR, 16));
    SHOW(read(fd, buf, (size_t)-1));
    SHOW(lseek(fd, 0, SEEK_CUR));
    /* the whole file in small pieces */
    total = 16;
    while ((n = read(fd, buf, 7)) > 0)
        total += n;
    SHOW(n);
    CHECK(total == whole_len);
    SHOW(read(fd, buf, sizeof buf));
    SHOW(close(fd));

    SHOW(read(BADFD, buf, 1));
    SHOW(read(-1, buf, 1));
    long dir = SHOW(open("/etc", O_RDONLY | O_DIRECTORY));
    SHOW(read(dir, buf, sizeof buf));
    SHOW(close(dir));
    long path = SHOW(open("/etc/passwd", O_PATH));
    SHOW(read(path, buf, 1));
    SHOW(close(path));
    long wr = SHOW(open("/dev/null", O_WRONLY));
    SHOW(read(wr, buf, 1));
    SHOW(close(wr));

    long null = SHOW(open("/dev/null", O_RDONLY));
    SHOW(read(null, buf, sizeof buf));
    SHOW(read(null, BADPTR, 16));
    SHOW(close(null));
    long zero = SHOW(open("/dev/zero", O_RDONLY));
    memset(buf, 'x', sizeof buf);
    SHOW(read(zero, buf, 100));
    CHECK(all_zero(buf, 100));
    CHECK(buf[100] == 'x');
    SHOW(read(zero, BADPTR, 16));
    SHOW(close(zero));
    long full = SHOW(open("/dev/full", O_RDONLY));
    memset(buf, 'x', sizeof buf);
    SHOW(read(full, buf, 50));
    CHECK(all_zero(buf, 50));
    SHOW(close(full));
    long rnd = SHOW(open("/dev/urandom", O_RDONLY));
    SHOW(read(rnd, buf, 32));
    SHOW(close(rnd));
}

static void test_write(void)
{
    char buf[256];
    long r;

    printf("-- write\n");
    FLUSH();
    r = write(1, "hello, stdout\n", 14);
    SHOW(r);
    SHOW(write(1, buf, 0));
    SHOW(write(1, BADPTR, 10));
    SHOW(write(BADFD, "x", 1));
    SHOW(write(-1, "x", 1));

    long null = SHOW(open("/dev/null", O_WRONLY));
    SHOW(write(null, buf, sizeof buf));
    SHOW(write(null, BADPTR, 100));   /* /dev/null never reads the buffer */
    SHOW(write(null, buf, 0));
    SHOW(close(null));
    long zero = SHOW(open("/dev/zero", O_RDWR));
    SHOW(write(zero, buf, 10));
    SHOW(close(zero));
    long full = SHOW(open("/dev/full", O_WRONLY));
    SHOW(write(full, "x", 1));
    SHOW(write(full, buf, 0));
    SHOW(close(full));

    long ro = SHOW(open("/etc/passwd", O_RDONLY));
    SHOW(write(ro, "x", 1));
    SHOW(write(ro, "x", 0));
    SHOW(close(ro));
    long dir = SHOW(open("/etc", O_RDONLY));
    SHOW(write(dir, "x", 1));
    SHOW(close(dir));
}

static void test_readv_writev(void)
{
    char a[8], b[8], c[16], d[8];
    struct iovec iov[4];

    printf("-- readv\n");
    long fd = SHOW(open("/etc/passwd", O_RDONLY));
    iov[0] = (struct iovec){a, 4};
    iov[1] = (struct iovec){b, 0};
    iov[2] = (struct iovec){c, 8};
    SHOW(readv(fd, iov, 3));
    CHECK(memcmp(a, whole, 4) == 0 && memcmp(c, whole + 4, 8) == 0);
    SHOW(readv(fd, iov, 0));
    SHOW(readv(fd, iov, -1));
    SHOW(readv(fd, iov, IOV_MAX + 1));
    SHOW(readv(fd, BADPTR, 1));
    SHOW(readv(BADFD, iov, 1));
    SHOW(lseek(fd, 0, SEEK_CUR));
    /* a bad buffer after a good one: short read */
    iov[0] = (struct iovec){a, 4};
    iov[1] = (struct iovec){BADPTR, 4};
    SHOW(readv(fd, iov, 2));
    CHECK(memcmp(a, whole + 12, 4) == 0);
    SHOW(lseek(fd, 0, SEEK_CUR));
    /* only a bad buffer */
    SHOW(readv(fd, iov + 1, 1));
    /* a length that is negative as ssize_t */
    iov[0] = (struct iovec){a, (size_t)-1};
    SHOW(readv(fd, iov, 1));
    SHOW(close(fd));

    printf("-- writev\n");
    iov[0] = (struct iovec){"one ", 4};
    iov[1] = (struct iovec){"", 0};
    iov[2] = (struct iovec){"two ", 4};
    iov[3] = (struct iovec){"three\n", 6};
    FLUSH();
    long r = writev(1, iov, 4);
    SHOW(r);
    SHOW(writev(1, iov, 0));
    SHOW(writev(1, iov, -1));
    SHOW(writev(1, iov, IOV_MAX + 1));
    SHOW(writev(1, BADPTR, 1));
    SHOW(writev(BADFD, iov, 1));
    long null = SHOW(open("/dev/null", O_WRONLY));
    SHOW(writev(null, iov, 4));
    iov[0] = (struct iovec){BADPTR, 4};
    SHOW(writev(null, iov, 1));
    SHOW(writev(1, iov, 1));
    long ro = SHOW(open("/etc/passwd", O_RDONLY));
    SHOW(writev(ro, iov + 2, 1));
    SHOW(close(ro));
    SHOW(close(null));
    (void)d;
}

static void test_pread_pwrite(void)
{
    char buf[64];

    printf("-- pread64\n");
    long fd = SHOW(open("/etc/passwd", O_RDONLY));
    SHOW(pread(fd, buf, 8, 5));
    CHECK(memcmp(buf, whole + 5, 8) == 0);
    SHOW(lseek(fd, 0, SEEK_CUR));
    SHOW(pread(fd, buf, 8, whole_len - 3));
    CHECK(memcmp(buf, whole + whole_len - 3, 3) == 0);
    SHOW(pread(fd, buf, 8, whole_len));
    SHOW(pread(fd, buf, 8, whole_len + 1000));
    SHOW(pread(fd, buf, 0, 0));
    SHOW(pread(fd, buf, 8, -1));
    SHOW(pread(fd, BADPTR, 8, 0));
    SHOW(pread(BADFD, buf, 8, 0));
    SHOW(lseek(fd, 0, SEEK_CUR));
    long dir = SHOW(open("/etc", O_RDONLY));
    SHOW(pread(dir, buf, 8, 0));
    SHOW(close(dir));
    long null = SHOW(open("/dev/null", O_RDWR));
    SHOW(pread(null, buf, 8, 0));
    SHOW(pread(null, buf, 8, 12345));
    long zero = SHOW(open("/dev/zero", O_RDWR));
    SHOW(pread(zero, buf, 8, 100));
    long wr = SHOW(open("/dev/null", O_WRONLY));
    SHOW(pread(wr, buf, 8, 0));

    printf("-- pwrite64\n");
    SHOW(pwrite(null, "abcdef", 6, 0));
    SHOW(pwrite(null, "abcdef", 6, 1 << 20));
    SHOW(pwrite(null, "abcdef", 0, 0));
    SHOW(pwrite(null, "abcdef", 6, -1));
    SHOW(pwrite(wr, "abcdef", 6, 3));
    SHOW(pwrite(zero, "abcdef", 6, 3));
    SHOW(pwrite(fd, "abcdef", 6, 0));
    SHOW(pwrite(BADFD, "abcdef", 6, 0));
    SHOW(close(wr));
    SHOW(close(zero));
    SHOW(close(null));
    SHOW(close(fd));
}

static void test_preadv_pwritev(void)
{
    char a[8], b[8];
    struct iovec iov[2] = {{a, 4}, {b, 6}};

    printf("-- preadv\n");
    long fd = SHOW(open("/etc/passwd", O_RDONLY));
    SHOW(syscall(SYS_preadv, fd, iov, 2, 7, 0));
    CHECK(memcmp(a, whole + 7, 4) == 0 && memcmp(b, whole + 11, 6) == 0);
    SHOW(lseek(fd, 0, SEEK_CUR));
    SHOW(preadv(fd, iov, 2, 1));
    CHECK(memcmp(a, whole + 1, 4) == 0 && memcmp(b, whole + 5, 6) == 0);
    SHOW(syscall(SYS_preadv, fd, iov, 2, whole_len - 2, 0));
    SHOW(syscall(SYS_preadv, fd, iov, 2, whole_len + 5, 0));
    SHOW(syscall(SYS_preadv, fd, iov, 0, 0, 0));
    SHOW(syscall(SYS_preadv, fd, iov, 2, -1L, 0));
    SHOW(syscall(SYS_preadv, fd, iov, -1L, 0, 0));
    SHOW(syscall(SYS_preadv, fd, BADPTR, 2, 0, 0));
    SHOW(syscall(SYS_preadv, BADFD, iov, 2, 0, 0));
    long dir = SHOW(open("/etc", O_RDONLY));
    SHOW(syscall(SYS_preadv, dir, iov, 2, 0, 0));
    SHOW(close(dir));

    printf("-- pwritev\n");
    long null = SHOW(open("/dev/null", O_WRONLY));
    iov[0] = (struct iovec){"abcd", 4};
    iov[1] = (struct iovec){"efghij", 6};
    SHOW(syscall(SYS_pwritev, null, iov, 2, 0, 0));
    SHOW(pwritev(null, iov, 2, 4096));
    SHOW(syscall(SYS_pwritev, null, iov, 2, -5L, 0));
    SHOW(syscall(SYS_pwritev, null, iov, IOV_MAX + 1, 0, 0));
    SHOW(syscall(SYS_pwritev, null, BADPTR, 1, 0, 0));
    SHOW(syscall(SYS_pwritev, fd, iov, 2, 0, 0));
    SHOW(syscall(SYS_pwritev, BADFD, iov, 2, 0, 0));
    SHOW(close(null));

    printf("-- preadv2\n");
    iov[0] = (struct iovec){a, 4};
    iov[1] = (struct iovec){b, 6};
    SHOW(lseek(fd, 20, SEEK_SET));
    SHOW(syscall(SYS_preadv2, fd, iov, 2, 3, 0, 0));
    CHECK(memcmp(a, whole + 3, 4) == 0 && memcmp(b, whole + 7, 6) == 0);
    SHOW(lseek(fd, 0, SEEK_CUR));
    /* offset -1: use and advance the file position */
    SHOW(syscall(SYS_preadv2, fd, iov, 2, -1L, 0, 0));
    CHECK(memcmp(a, whole + 20, 4) == 0 && memcmp(b, whole + 24, 6) == 0);
    SHOW(lseek(fd, 0, SEEK_CUR));
    SHOW(syscall(SYS_preadv2, fd, iov, 2, -2L, 0, 0));
        SHOW(syscall(SYS_preadv2, fd, iov, 2, 0, 0, 0x80000000U));
    SHOW(syscall(SYS_preadv2, fd, iov, 2, -1L, 0, 0x40000000));
    SHOW(syscall(SYS_preadv2, BADFD, iov, 2, 0, 0, 0));
    SHOW(syscall(SYS_preadv2, fd, BADPTR, 2, 0, 0, 0));
    SHOW(syscall(SYS_preadv2, fd, iov, 2, whole_len, 0, 0));
    long zero = SHOW(open("/dev/zero", O_RDONLY));
    SHOW(syscall(SYS_preadv2, zero, iov, 2, 0, 0, 0));
    SHOW(syscall(SYS_preadv2, zero, iov, 2, -1L, 0, 0));
    SHOW(syscall(SYS_preadv2, zero, iov, 2, -1L, 0, RWF_NOWAIT));
    SHOW(close(zero));

    printf("-- pwritev2\n");
    null = SHOW(open("/dev/null", O_WRONLY));
    iov[0] = (struct iovec){"abcd", 4};
    iov[1] = (struct iovec){"efghij", 6};
    SHOW(syscall(SYS_pwritev2, null, iov, 2, 0, 0, 0));
    SHOW(syscall(SYS_pwritev2, null, iov, 2, -1L, 0, 0));
    SHOW(syscall(SYS_pwritev2, null, iov, 2, 77, 0, RWF_DSYNC));
    SHOW(syscall(SYS_pwritev2, null, iov, 2, -1L, 0, RWF_APPEND));
    SHOW(syscall(SYS_pwritev2, null, iov, 2, 0, 0, 0x40000000));
    SHOW(syscall(SYS_pwritev2, null, iov, 2, -2L, 0, 0));
    SHOW(syscall(SYS_pwritev2, fd, iov, 2, 0, 0, 0));
    SHOW(syscall(SYS_pwritev2, BADFD, iov, 2, 0, 0, 0));
    iov[0] = (struct iovec){"pwritev2 ", 9};
    iov[1] = (struct iovec){"to stdout\n", 10};
    FLUSH();
    long r = syscall(SYS_pwritev2, 1, iov, 2, -1L, 0, 0);
    SHOW(r);
    SHOW(close(null));
    SHOW(close(fd));
}

static void test_lseek(void)
{
    char buf[16];

    printf("-- lseek\n");
    long fd = SHOW(open("/etc/passwd", O_RDONLY));
    SHOW(lseek(fd, 0, SEEK_CUR));
    SHOW(lseek(fd, 10, SEEK_SET));
    SHOW(lseek(fd, -3, SEEK_CUR));
    SHOW(lseek(fd, 0, SEEK_CUR));
    SHOW(read(fd, buf, 4));
    CHECK(memcmp(buf, whole + 7, 4) == 0);
    SHOW(lseek(fd, 0, SEEK_CUR));
    CHECK(lseek(fd, 0, SEEK_END) == whole_len);
    CHECK(lseek(fd, -5, SEEK_END) == whole_len - 5);
    SHOW(read(fd, buf, 16));
    CHECK(lseek(fd, 100, SEEK_END) == whole_len + 100);
    SHOW(read(fd, buf, 16));
    SHOW(lseek(fd, 1 << 20, SEEK_SET));
    SHOW(read(fd, buf, 16));
    SHOW(lseek(fd, 0, SEEK_DATA));
    CHECK(lseek(fd, 0, SEEK_HOLE) == whole_len);
    CHECK(lseek(fd, 3, SEEK_HOLE) == whole_len);
    SHOW(lseek(fd, whole_len, SEEK_DATA));
    SHOW(lseek(fd, whole_len + 10, SEEK_HOLE));
    SHOW(lseek(fd, -1, SEEK_DATA));
    /* errors leave the position alone */
    SHOW(lseek(fd, 5, SEEK_SET));
    SHOW(lseek(fd, -1, SEEK_SET));
    SHOW(lseek(fd, -6, SEEK_CUR));
    SHOW(lseek(fd, -1000000, SEEK_END));
    SHOW(lseek(fd, 0, 5));
    SHOW(lseek(fd, 0, 99));
    SHOW(lseek(fd, 0, -1));
    SHOW(lseek(fd, 0, SEEK_CUR));
    SHOW(lseek(BADFD, 0, SEEK_SET));
    SHOW(lseek(-1, 0, SEEK_SET));
    SHOW(close(fd));
    long path = SHOW(open("/etc/passwd", O_PATH));
    SHOW(lseek(path, 0, SEEK_SET));
    SHOW(close(path));
    long null = SHOW(open("/dev/null", O_RDONLY));
    SHOW(lseek(null, 100, SEEK_SET));
    SHOW(lseek(null, -100, SEEK_CUR));
    SHOW(lseek(null, 0, SEEK_END));
    SHOW(close(null));
    long zero = SHOW(open("/dev/zero", O_RDONLY));
    SHOW(lseek(zero, 100, SEEK_SET));
    SHOW(lseek(zero, 0, SEEK_CUR));
    SHOW(close(zero));
    long dir = SHOW(open("/etc", O_RDONLY));
    SHOW(lseek(dir, 0, SEEK_CUR));
    SHOW(lseek(dir, 0, SEEK_SET));
    SHOW(lseek(dir, -1, SEEK_SET));
    SHOW(close(dir));
}

int main(void)
{
    load_whole();
    test_read();
    test_write();
    test_readv_writev();
    test_pread_pwrite();
    test_preadv_pwritev();
    test_lseek();
    return 0;
}
