/* memfd_create (names, flags, MAP_SHARED mappings, file seals through
 * fcntl F_ADD_SEALS/F_GET_SEALS), copy_file_range between files in a fresh
 * directory under /tmp, and sendfile to a file and to a pipe.
 *
 * The permission bits of a memfd are not printed: they depend on the
 * vm.memfd_noexec sysctl. */
#include "common.h"
#include "workdir.h"
#include <dirent.h>
#include <sys/mman.h>
#include <sys/sendfile.h>

#ifndef F_SEAL_FUTURE_WRITE
#define F_SEAL_FUTURE_WRITE 0x0010
#endif


static void fdlink(long fd)
{
    char proc[64], buf[512];
    snprintf(proc, sizeof proc, "/proc/self/fd/%ld", fd);
    long n = readlink(proc, buf, sizeof buf - 1);
    if (n < 0) {
        printf("readlink(fd %ld) = -1 %s\n", fd, errname(errno));
        return;
    }
    buf[n] = 0;
    printf("readlink(fd %ld) = \"%.60s%s\"\n", fd, buf, n > 60 ? "..." : "");
}

static void fstat_size(const char *label, long fd)
{
    struct stat st;
    if (syscall(SYS_fstat, fd, &st) != 0)
        printf("%s: fstat = -1 %s\n", label, errname(errno));
    else
        printf("%s: %s size=%ld\n", label, ftype(st.st_mode), (long)st.st_size);
}

static void contents(const char *label, long fd)
{
    char buf[256];
    long n = pread(fd, buf, sizeof buf, 0);
    if (n < 0)
        printf("%s: pread = -1 %s\n", label, errname(errno));
    else
        printf("%s: %ld \"%.*s\"\n", label, n, (int)n, buf);
}

static const char *seals(long s)
{
    static char buf[128];
    if (s < 0) {
        snprintf(buf, sizeof buf, "-1 %s", errname(errno));
        return buf;
    }
    snprintf(buf, sizeof buf, "%#lx%s%s%s%s%s", s,
             s & F_SEAL_SEAL ? " SEAL" : "", s & F_SEAL_SHRINK ? " SHRINK" : "",
             s & F_SEAL_GROW ? " GROW" : "", s & F_SEAL_WRITE ? " WRITE" : "",
             s & F_SEAL_FUTURE_WRITE ? " FUTURE_WRITE" : "");
    return buf;
}
#define SEALS(fd) printf("F_GET_SEALS(" #fd ") = %s\n", seals(syscall(SYS_fcntl, fd, F_GET_SEALS)))

static void test_memfd(void)
{
    char name[300];
    printf("-- memfd_create\n");
    long fd = SHOW(syscall(SYS_memfd_create, "test", 0));
    fdlink(fd);
    fstat_size("memfd", fd);
    SHOW(fcntl(fd, F_GETFD));
    OCT(fcntl(fd, F_GETFL));              /* O_RDWR and the kernel's O_LARGEFILE */
    long fd2 = SHOW(syscall(SYS_memfd_create, "cloexec", MFD_CLOEXEC));
    SHOW(fcntl(fd2, F_GETFD));
    fdlink(fd2);
    SHOW(close(fd2));
    fd2 = SHOW(syscall(SYS_memfd_create, "", 0));
    fdlink(fd2);
    SHOW(close(fd2));
    fd2 = SHOW(syscall(SYS_memfd_create, "a/b c", 0));
    fdlink(fd2);
    SHOW(close(fd2));
    memset(name, 'm', sizeof name);
    name[249] = 0;
    fd2 = SHOW(syscall(SYS_memfd_create, name, 0));
    fdlink(fd2);
    SHOW(close(fd2));
    name[249] = 'm';
    name[250] = 0;
    SHOW(syscall(SYS_memfd_create, name, 0));
    SHOW(syscall(SYS_memfd_create, "bad", 0x100));
    SHOW(syscall(SYS_memfd_create, "bad", -1));
    SHOW(syscall(SYS_memfd_create, BADPTR, 0));
    SHOW(syscall(SYS_memfd_create, NULL, 0));

    printf("-- memfd read/write/mmap\n");
    char buf[64];
    SHOW(write(fd, "hello memfd", 11));
    fstat_size("memfd", fd);
    SHOW(lseek(fd, 0, SEEK_CUR));
    SHOW(lseek(fd, 0, SEEK_SET));
    long n = SHOW(read(fd, buf, sizeof buf));
    printf("read: \"%.*s\"\n", (int)(n > 0 ? n : 0), buf);
    SHOW(syscall(SYS_ftruncate, fd, 4096));
    fstat_size("memfd", fd);
    char *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    CHECK(m != MAP_FAILED);
    printf("map: \"%.11s\"\n", m);
    memcpy(m, "HELLO", 5);
    contents("after a store to the map", fd);
    SHOW(pwrite(fd, "J", 1, 0));
    printf("map: \"%.11s\"\n", m);
    SHOW(munmap(m, 4096));
    SHOW(syscall(SYS_ftruncate, fd, 5));
    contents("truncated", fd);
    /* a copy through /proc/self/fd is the same file */
    char proc[64];
    snprintf(proc, sizeof proc, "/proc/self/fd/%ld", fd);
    long again = SHOW(syscall(SYS_open, proc, O_RDWR));
    SHOW(pwrite(again, "!", 1, 4));
    contents("via reopen", fd);
    SHOW(close(again));
    /* no seals: F_SEAL_SEAL is set from the start */
    SEALS(fd);
    SHOW(syscall(SYS_fcntl, fd, F_ADD_SEALS, F_SEAL_WRITE));
    SHOW(close(fd));

    printf("-- seals\n");
    fd = SHOW(syscall(SYS_memfd_create, "sealed", MFD_ALLOW_SEALING));
    SEALS(fd);
    SHOW(write(fd, "0123456789", 10));
    m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    CHECK(m != MAP_FAILED);
    SHOW(syscall(SYS_fcntl, fd, F_ADD_SEALS, F_SEAL_WRITE));   /* writable map: EBUSY */
    SEALS(fd);
    SHOW(munmap(m, 4096));
    SHOW(syscall(SYS_fcntl, fd, F_ADD_SEALS, 0x100));
    SHOW(syscall(SYS_fcntl, fd, F_ADD_SEALS, -1));
    SHOW(syscall(SYS_fcntl, fd, F_ADD_SEALS, 0));
    SHOW(syscall(SYS_fcntl, fd, F_ADD_SEALS, F_SEAL_WRITE));
    SEALS(fd);
    SHOW(write(fd, "x", 1));
    SHOW(pwrite(fd, "x", 1, 0));
    SHOW(syscall(SYS_ftruncate, fd, 20));
    SHOW(syscall(SYS_ftruncate, fd, 10));
    fstat_size("sealed", fd);
    m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    printf("mmap(shared, writable) = %s\n", m == MAP_FAILED ? errname(errno) : "ok");
    m = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
    printf("mmap(shared, read-only) = %s\n", m == MAP_FAILED ? errname(errno) : "ok");
    if (m != MAP_FAILED) {
        SHOW(mprotect(m, 4096, PROT_READ | PROT_WRITE));
        munmap(m, 4096);
    }
    m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    printf("mmap(private, writable) = %s\n", m == MAP_FAILED ? errname(errno) : "ok");
    if (m != MAP_FAILED)
        munmap(m, 4096);
    SHOW(syscall(SYS_fcntl, fd, F_ADD_SEALS, F_SEAL_SHRINK));
    SEALS(fd);
    SHOW(syscall(SYS_ftruncate, fd, 5));
    SHOW(syscall(SYS_ftruncate, fd, 30));
    SHOW(syscall(SYS_ftruncate, fd, 30));
    fstat_size("sealed", fd);
    SHOW(syscall(SYS_fcntl, fd, F_ADD_SEALS, F_SEAL_GROW));
    SHOW(syscall(SYS_ftruncate, fd, 31));
    SHOW(syscall(SYS_ftruncate, fd, 30));
    SHOW(syscall(SYS_fallocate, fd, 0, 0L, 100L));
    SHOW(syscall(SYS_fcntl, fd, F_ADD_SEALS, F_SEAL_SEAL));
    SEALS(fd);
    SHOW(syscall(SYS_fcntl, fd, F_ADD_SEALS, F_SEAL_WRITE));
    SHOW(syscall(SYS_fcntl, fd, F_ADD_SEALS, 0));
    SHOW(syscall(SYS_fcntl, BADFD, F_GET_SEALS));
    SHOW(syscall(SYS_fcntl, BADFD, F_ADD_SEALS, F_SEAL_SEAL));
    SHOW(close(fd));

    /* F_SEAL_GROW alone: writes inside the file work, past its end do not */
    fd = SHOW(syscall(SYS_memfd_create, "grow", MFD_ALLOW_SEALING | MFD_CLOEXEC));
    SHOW(write(fd, "abcdef", 6));
    SHOW(syscall(SYS_fcntl, fd, F_ADD_SEALS, F_SEAL_GROW | F_SEAL_SHRINK));
    SEALS(fd);
    SHOW(pwrite(fd, "XY", 2, 2));
    SHOW(pwrite(fd, "XY", 2, 5));
    SHOW(pwrite(fd, "XY", 2, 6));
    SHOW(write(fd, "Z", 1));              /* offset 6: past the end */
    SHOW(lseek(fd, 0, SEEK_SET));
    SHOW(write(fd, "Z", 1));
    contents("grow-sealed", fd);
    /* adding seals needs a writable descriptor */
    snprintf(proc, sizeof proc, "/proc/self/fd/%ld", fd);
    long ro = SHOW(syscall(SYS_open, proc, O_RDONLY));
    SEALS(ro);
    SHOW(syscall(SYS_fcntl, ro, F_ADD_SEALS, F_SEAL_WRITE));
    SHOW(close(ro));
    SHOW(close(fd));

    /* F_SEAL_FUTURE_WRITE: existing shared mappings stay writable */
    fd = SHOW(syscall(SYS_memfd_create, "future", MFD_ALLOW_SEALING));
    SHOW(syscall(SYS_ftruncate, fd, 4096));
    m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    CHECK(m != MAP_FAILED);
    SHOW(syscall(SYS_fcntl, fd, F_ADD_SEALS, F_SEAL_FUTURE_WRITE));
    SEALS(fd);
    SHOW(pwrite(fd, "w", 1, 0));
    memcpy(m, "mapped", 6);
    contents("future-sealed", fd);
    char *m2 = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    printf("mmap(shared, writable) = %s\n", m2 == MAP_FAILED ? errname(errno) : "ok");
    SHOW(munmap(m, 4096));
    SHOW(close(fd));
}

static void put(const char *path, const char *text)
{
    int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0644);
    if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
        printf("put %s failed: %s\n", path, errname(errno));
    close(fd);
}

#define ALPHA "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

static void test_copy_file_range(void)
{
    loff_t in, out;
    printf("-- copy_file_range\n");
    put("src", ALPHA);                               /* 62 bytes */
    long s = SHOW(syscall(SYS_open, "src", O_RDONLY));
    long d = SHOW(syscall(SYS_open, "dst", O_RDWR | O_CREAT | O_TRUNC, 0644));
    SHOW(syscall(SYS_copy_file_range, s, NULL, d, NULL, 62L, 0));
    SHOW(lseek(s, 0, SEEK_CUR));
    SHOW(lseek(d, 0, SEEK_CUR));
    contents("dst", d);
    SHOW(syscall(SYS_copy_file_range, s, NULL, d, NULL, 10L, 0));   /* at EOF */
    in = 10;
    out = 5;
    SHOW(lseek(s, 3, SEEK_SET));
    SHOW(syscall(SYS_copy_file_range, s, &in, d, &out, 6L, 0));
    printf("in=%ld out=%ld\n", (long)in, (long)out);
    SHOW(lseek(s, 0, SEEK_CUR));
    SHOW(lseek(d, 0, SEEK_CUR));
    contents("dst", d);
    in = 50;
    SHOW(syscall(SYS_copy_file_range, s, &in, d, NULL, 100L, 0));  /* short: 12 */
    printf("in=%ld\n", (long)in);
    contents("dst", d);
    in = 100;
    SHOW(syscall(SYS_copy_file_range, s, &in, d, NULL, 10L, 0));
    in = 0;
    out = 100;                                    /* past the end: a hole */
    SHOW(syscall(SYS_copy_file_range, s, &in, d, &out, 2L, 0));
    fstat_size("dst", d);
    SHOW(syscall(SYS_copy_file_range, s, &in, d, &out, 0L, 0));
    /* same file */
    out = 0;
    in = 4;
    SHOW(syscall(SYS_copy_file_range, d, &in, d, &out, 8L, 0));    /* overlapping */
    in = 0;
    out = 20;
    SHOW(syscall(SYS_copy_file_range, d, &in, d, &out, 10L, 0));
    contents("dst", d);
    /* errors */
    in = 0;
    SHOW(syscall(SYS_copy_file_range, s, &in, d, NULL, 10L, 1));
    long app = SHOW(syscall(SYS_open, "dst", O_WRONLY | O_APPEND));
    SHOW(syscall(SYS_copy_file_range, s, &in, app, NULL, 10L, 0));
    SHOW(syscall(SYS_close, app));
    long wo = SHOW(syscall(SYS_open, "src", O_WRONLY));
    SHOW(syscall(SYS_copy_file_range, wo, &in, d, NULL, 10L, 0));
    SHOW(syscall(SYS_copy_file_range, s, &in, s, NULL, 10L, 0));
    SHOW(syscall(SYS_close, wo));
    SHOW(syscall(SYS_copy_file_range, BADFD, &in, d, NULL, 10L, 0));
    SHOW(syscall(SYS_copy_file_range, s, &in, BADFD, NULL, 10L, 0));
    in = -1;
    SHOW(syscall(SYS_copy_file_range, s, &in, d, NULL, 10L, 0));
    in = 0;
    out = -1;
    SHOW(syscall(SYS_copy_file_range, s, &in, d, &out, 10L, 0));
    SHOW(syscall(SYS_copy_file_range, s, BADPTR, d, NULL, 10L, 0));
    SHOW(syscall(SYS_copy_file_range, s, NULL, d, BADPTR, 10L, 0));
    long dir = SHOW(syscall(SYS_open, ".", O_RDONLY | O_DIRECTORY));
    SHOW(syscall(SYS_copy_file_range, dir, NULL, d, NULL, 10L, 0));
    int p[2];
    SHOW(pipe(p));
    SHOW(syscall(SYS_copy_file_range, s, &in, p[1], NULL, 10L, 0));
    SHOW(write(p[1], "pipe", 4));
    SHOW(syscall(SYS_copy_file_range, p[0], NULL, d, NULL, 4L, 0));
    long mfd = SHOW(syscall(SYS_memfd_create, "cfr", 0));
    SHOW(write(mfd, "memfd data", 10));
    in = 0;
    SHOW(syscall(SYS_copy_file_range, mfd, &in, d, NULL, 10L, 0));
    SHOW(syscall(SYS_copy_file_range, s, NULL, mfd, NULL, 10L, 0));
    in = 0;
    long m2 = SHOW(syscall(SYS_memfd_create, "cfr2", 0));
    SHOW(syscall(SYS_copy_file_range, mfd, &in, m2, NULL, 10L, 0));
    contents("memfd copy", m2);
    SHOW(close(m2));
    SHOW(close(mfd));
    close(p[0]);
    close(p[1]);
    SHOW(close(dir));
    SHOW(close(d));
    SHOW(close(s));
}

static void test_sendfile(void)
{
    char buf[128];
    loff_t off;
    printf("-- sendfile\n");
    long s = SHOW(syscall(SYS_open, "src", O_RDONLY));
    long d = SHOW(syscall(SYS_open, "out", O_RDWR | O_CREAT | O_TRUNC, 0644));
    SHOW(syscall(SYS_sendfile, d, s, NULL, 10L));
    SHOW(lseek(s, 0, SEEK_CUR));
    SHOW(lseek(d, 0, SEEK_CUR));
    off = 30;
    SHOW(syscall(SYS_sendfile, d, s, &off, 5L));
    printf("off=%ld\n", (long)off);
    SHOW(lseek(s, 0, SEEK_CUR));
    SHOW(lseek(d, 0, SEEK_CUR));
    contents("out", d);
    SHOW(syscall(SYS_sendfile, d, s, NULL, 0L));
    off = 60;
    SHOW(syscall(SYS_sendfile, d, s, &off, 100L));
    printf("off=%ld\n", (long)off);
    SHOW(syscall(SYS_sendfile, d, s, &off, 100L));
    off = 1000;
    SHOW(syscall(SYS_sendfile, d, s, &off, 100L));
    SHOW(lseek(s, 0, SEEK_END));
    SHOW(syscall(SYS_sendfile, d, s, NULL, 100L));
    contents("out", d);
    /* to a pipe */
    int p[2];
    SHOW(pipe(p));
    off = 26;
    SHOW(syscall(SYS_sendfile, p[1], s, &off, 26L));
    long n = SHOW(read(p[0], buf, sizeof buf));
    printf("pipe: \"%.*s\"\n", (int)(n > 0 ? n : 0), buf);
    SHOW(lseek(s, 52, SEEK_SET));
    SHOW(syscall(SYS_sendfile, p[1], s, NULL, 1000L));
    SHOW(lseek(s, 0, SEEK_CUR));
    n = SHOW(read(p[0], buf, sizeof buf));
    printf("pipe: \"%.*s\"\n", (int)(n > 0 ? n : 0), buf);
    /* from a memfd */
    long mfd = SHOW(syscall(SYS_memfd_create, "sendfile", 0));
    SHOW(write(mfd, "from memfd", 10));
    off = 5;
    SHOW(syscall(SYS_sendfile, p[1], mfd, &off, 100L));
    n = SHOW(read(p[0], buf, sizeof buf));
    printf("pipe: \"%.*s\"\n", (int)(n > 0 ? n : 0), buf);
    SHOW(close(mfd));
    /* errors */
    long app = SHOW(syscall(SYS_open, "out", O_WRONLY | O_APPEND));
    SHOW(syscall(SYS_sendfile, app, s, NULL, 10L));
    SHOW(syscall(SYS_close, app));
    long wo = SHOW(syscall(SYS_open, "src", O_WRONLY));
    SHOW(syscall(SYS_sendfile, d, wo, NULL, 10L));
    SHOW(syscall(SYS_close, wo));
    long ro = SHOW(syscall(SYS_open, "out", O_RDONLY));
    SHOW(syscall(SYS_sendfile, ro, s, NULL, 10L));
    SHOW(syscall(SYS_close, ro));
    SHOW(syscall(SYS_sendfile, BADFD, s, NULL, 10L));
    SHOW(syscall(SYS_sendfile, d, BADFD, NULL, 10L));
    off = -1;
    SHOW(syscall(SYS_sendfile, d, s, &off, 10L));
    SHOW(syscall(SYS_sendfile, d, s, BADPTR, 10L));
    long dir = SHOW(syscall(SYS_open, ".", O_RDONLY | O_DIRECTORY));
    SHOW(syscall(SYS_sendfile, d, dir, NULL, 10L));
    SHOW(close(dir));
    SHOW(close(p[0]));
    SHOW(close(p[1]));
    SHOW(close(d));
    SHOW(close(s));
    SHOW(syscall(SYS_unlink, "out"));
    SHOW(syscall(SYS_unlink, "src"));
    SHOW(syscall(SYS_unlink, "dst"));
}

int main(void)
{
    test_memfd();
    enter_tmpdir();
    test_copy_file_range();
    test_sendfile();
    leave_tmpdir();
    return 0;
}
