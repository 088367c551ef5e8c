/*
 * Writes whose length the program chooses: the supervisor copies them in
 * bounded pieces, and what the program sees is what Linux gives.
 *   (no argument)  differential: big writes to /dev/full, a pipe, a file and
 *                  a datagram socket, with buffers that end in an unmapped page
 *   hold           two threads each write 512 MiB to /dev/full, then the
 *                  program waits on stdin (the test measures the supervisor)
 */
#include "common.h"
#include <pthread.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/uio.h>

#define BIG (512UL << 20)

static char *big;

static void *write_full(void *arg)
{
    int fd = open("/dev/full", O_WRONLY);
    long r = syscall(SYS_write, fd, big, BIG);
    printf("write 512 MiB to /dev/full: %ld %s\n", r, r < 0 ? errname(errno) : "");
    close(fd);
    return arg;
}

static void hold(void)
{
    pthread_t a, b;
    pthread_create(&a, NULL, write_full, NULL);
    pthread_create(&b, NULL, write_full, NULL);
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    printf("ready\n");
    fflush(stdout);
    char c;
    read(0, &c, 1);
}

static void *drain(void *arg)
{
    int fd = *(int *)arg;
    static char buf[1 << 16];
    long total = 0, n;
    while ((n = read(fd, buf, sizeof buf)) > 0)
        total += n;
    printf("drained %ld\n", total);
    return NULL;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    big = mmap(NULL, BIG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (argc > 1 && !strcmp(argv[1], "hold")) {
        hold();
        return 0;
    }
    /* 3 MiB mapped, then a hole: a write stops at the fault with the count before it */
    size_t mapped = 3UL << 20;
    munmap(big + mapped, BIG - mapped);
    memset(big, 'x', mapped);
    big[0] = 'a';
    big[mapped - 1] = 'z';

    SHOW(syscall(SYS_write, open("/dev/full", O_WRONLY), big, BIG));
    SHOW(syscall(SYS_write, open("/dev/null", O_WRONLY), big, 0x7fffffffUL));

    char name[64];
    snprintf(name, sizeof name, "/tmp/pylinuxabi-bounds-%d", (int)getpid());
    int fd = open(name, O_RDWR | O_CREAT | O_TRUNC, 0600);
    SHOW(syscall(SYS_write, fd, big, 0x7fffffffUL));           /* MAX_RW_COUNT, then the fault */
    SHOW(syscall(SYS_pwrite64, fd, big + 1, 0x7fffffffUL, 10));
    struct stat s;
    fstat(fd, &s);
    SHOW(s.st_size);
    char c[2];
    SHOW(pread(fd, c, 1, (3L << 20) - 1));
    SHOW(c[0]);
    SHOW(pread(fd, c, 1, 10 + (3L << 20) - 2));
    SHOW(c[0]);
    struct iovec iov[3] = {{big, 1 << 20}, {big + (1 << 20), 1 << 20}, {big + (2 << 20), 4 << 20}};
    SHOW(lseek(fd, 0, SEEK_SET));
    SHOW(writev(fd, iov, 3));
    SHOW(pwritev(fd, iov, 3, 5));
    SHOW(syscall(SYS_write, fd, big + mapped, 0x10000000UL));  /* nothing readable */
    close(fd);
    unlink(name);

    /* a pipe: a blocking write of more than it holds waits and goes on */
    int p[2];
    pipe(p);
    pthread_t t;
    pthread_create(&t, NULL, drain, &p[0]);
    SHOW(syscall(SYS_write, p[1], big, mapped));
    close(p[1]);
    pthread_join(t, NULL);
    close(p[0]);
    /* nonblocking: what fits */
    pipe2(p, O_NONBLOCK);
    SHOW(syscall(SYS_write, p[1], big, 0x7fffffffUL));
    SHOW(syscall(SYS_write, p[1], big, 0x7fffffffUL));
    close(p[0]);
    close(p[1]);

    /* a datagram is one message: too big is EMSGSIZE, never cut */
    int sv[2];
    socketpair(AF_UNIX, SOCK_DGRAM, 0, sv);
    SHOW(syscall(SYS_write, sv[0], big, 0x7fffffffUL));
    SHOW(syscall(SYS_write, sv[0], big, 1000));
    SHOW(recv(sv[1], big + 4096, 4096, MSG_TRUNC));
    /* a stream socket: a nonblocking write queues what fits */
    close(sv[0]);
    close(sv[1]);
    socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv);
    long n = syscall(SYS_write, sv[0], big, 0x7fffffffUL);
    CHECK(n > 0 && n < (long)mapped);
    return 0;
}
