/*
 * splice, tee and vmsplice between pipes, files and sockets: what moves, what
 * stays, offsets, partial transfers, nonblocking rules and errors in Linux's order; readahead.
 */
#include "workdir.h"
#include <signal.h>
#include <sys/socket.h>
#include <sys/uio.h>

static void onalarm(int s) { (void)s; }

static void drain(const char *label, int fd)
{
    char buf[256];
    long n = read(fd, buf, sizeof buf);
    printf("%s: %ld '%.*s'\n", label, n, n > 0 ? (int)n : 0, buf);
}

int main(void)
{
    enter_tmpdir();
    setvbuf(stdout, NULL, _IONBF, 0);
    signal(SIGPIPE, SIG_IGN);
    struct sigaction sa = {.sa_handler = onalarm};
    sigaction(SIGALRM, &sa, NULL);      /* no SA_RESTART: a blocked call gives EINTR */

    int f = open("data", O_RDWR | O_CREAT | O_TRUNC, 0644);
    SHOW(write(f, "0123456789abcdefghij", 20));
    int p[2], q[2];
    SHOW(pipe(p));
    SHOW(pipe(q));
    loff_t off;

    printf("-- errors\n");
    SHOW(splice(BADFD, NULL, p[1], NULL, 0, 0));            /* len 0 first */
    SHOW(splice(f, NULL, p[1], NULL, 5, 0x10));
    SHOW(splice(BADFD, NULL, p[1], NULL, 5, 0));
    SHOW(splice(f, NULL, BADFD, NULL, 5, 0));
    off = 0;
    SHOW(splice(f, NULL, p[1], &off, 5, 0));                /* offset on the pipe */
    SHOW(splice(p[0], &off, f, NULL, 5, 0));
    SHOW(splice(f, BADPTR, p[1], NULL, 5, 0));
    SHOW(splice(f, NULL, f, NULL, 5, 0));                   /* no pipe */
    SHOW(splice(p[1], NULL, f, NULL, 5, 0));                /* write end read */
    SHOW(splice(p[0], NULL, p[1], NULL, 5, 0));             /* the same pipe */
    off = -1;
    SHOW(splice(f, &off, p[1], NULL, 5, 0));
    int dir = open(".", O_RDONLY | O_DIRECTORY);
    SHOW(splice(dir, NULL, p[1], NULL, 5, 0));
    int app = open("data", O_WRONLY | O_APPEND);
    SHOW(write(p[1], "x", 1));
    SHOW(splice(p[0], NULL, app, NULL, 5, 0));
    drain("left in p", p[0]);

    printf("-- file to pipe\n");
    off = 3;
    SHOW(splice(f, &off, p[1], NULL, 4, 0));
    printf("off = %ld, file offset = %ld\n", (long)off, (long)lseek(f, 0, SEEK_CUR));
    SHOW(lseek(f, 10, SEEK_SET));
    SHOW(splice(f, NULL, p[1], NULL, 100, 0));             /* to EOF */
    printf("file offset = %ld\n", (long)lseek(f, 0, SEEK_CUR));
    SHOW(splice(f, NULL, p[1], NULL, 100, 0));             /* at EOF */
    drain("p", p[0]);

    printf("-- pipe to file\n");
    SHOW(write(p[1], "HELLO", 5));
    off = 2;
    SHOW(splice(p[0], NULL, f, &off, 3, 0));               /* partial: 2 left */
    printf("off = %ld\n", (long)off);
    SHOW(lseek(f, 0, SEEK_SET));
    SHOW(splice(p[0], NULL, f, NULL, 100, 0));             /* what the pipe holds */
    printf("file offset = %ld\n", (long)lseek(f, 0, SEEK_CUR));
    char buf[64] = {0};
    SHOW(pread(f, buf, 20, 0));
    printf("file: %.20s\n", buf);
    SHOW(splice(p[0], NULL, f, NULL, 100, SPLICE_F_NONBLOCK));  /* empty */
    alarm(1);
    SHOW(splice(p[0], NULL, f, NULL, 100, 0));             /* blocks until the alarm */
    alarm(0);

    printf("-- pipe to pipe, tee\n");
    SHOW(write(p[1], "abcdef", 6));
    SHOW(tee(p[0], q[1], 4, 0));
    SHOW(tee(p[0], q[1], 100, 0));
    SHOW(splice(p[0], NULL, q[1], NULL, 2, 0));
    drain("q", q[0]);
    drain("p", p[0]);
    SHOW(tee(p[0], q[1], 10, SPLICE_F_NONBLOCK));
    SHOW(tee(p[0], q[1], 10, 0x20));
    SHOW(tee(p[0], p[1], 10, 0));
    SHOW(tee(f, q[1], 10, 0));
    SHOW(tee(p[0], q[1], 0, 0));
    SHOW(splice(p[0], NULL, q[1], NULL, 10, SPLICE_F_NONBLOCK));
    alarm(1);
    SHOW(tee(p[0], q[1], 10, 0));                           /* blocks */
    alarm(0);

    printf("-- full pipe\n");
    SHOW(fcntl(q[1], F_SETFL, O_NONBLOCK));
    long total = 0, n;
    char big[4096];
    memset(big, 'z', sizeof big);
    while ((n = write(q[1], big, sizeof big)) > 0)
        total += n;
    printf("filled %ld\n", total);
    SHOW(splice(f, NULL, q[1], NULL, 5, 0));               /* O_NONBLOCK of the pipe */
    SHOW(fcntl(q[1], F_SETFL, 0));
    SHOW(splice(f, NULL, q[1], NULL, 5, SPLICE_F_NONBLOCK));
    struct iovec v = {big, 10};
    SHOW(vmsplice(q[1], &v, 1, SPLICE_F_NONBLOCK));
    alarm(1);
    SHOW(vmsplice(q[1], &v, 1, 0));
    alarm(0);
    close(q[0]);
    SHOW(splice(f, NULL, q[1], NULL, 5, 0));               /* no reader: EPIPE */
    close(q[1]);
    SHOW(pipe(q));

    printf("-- EOF\n");
    int r[2];
    SHOW(pipe(r));
    close(r[1]);
    SHOW(splice(r[0], NULL, f, NULL, 10, 0));
    SHOW(splice(r[0], NULL, q[1], NULL, 10, 0));
    SHOW(tee(r[0], q[1], 10, 0));
    close(r[0]);

    printf("-- sockets\n");
    int s[2];
    SHOW(socketpair(AF_UNIX, SOCK_STREAM, 0, s));
    SHOW(write(p[1], "to-socket", 9));
    SHOW(splice(p[0], NULL, s[0], NULL, 100, 0));
    drain("s[1]", s[1]);
    SHOW(write(s[1], "from-socket", 11));
    SHOW(splice(s[0], NULL, p[1], NULL, 4, 0));
    SHOW(splice(s[0], NULL, p[1], NULL, 100, 0));
    drain("p", p[0]);
    SHOW(splice(s[0], NULL, p[1], NULL, 100, SPLICE_F_NONBLOCK));
    off = 0;
    SHOW(splice(s[0], &off, p[1], NULL, 100, 0));          /* no pread on a socket */

    printf("-- vmsplice\n");
    struct iovec two[2] = {{"vm", 2}, {"splice", 6}};
    SHOW(vmsplice(p[1], two, 2, 0));
    char a[3] = {0}, b[10] = {0};
    struct iovec out[2] = {{a, 3}, {b, 10}};
    SHOW(vmsplice(p[0], out, 2, 0));
    printf("got '%.3s' '%s'\n", a, b);
    SHOW(vmsplice(p[0], out, 2, SPLICE_F_NONBLOCK));
    SHOW(vmsplice(p[0], out, 2, 0x40));
    SHOW(vmsplice(BADFD, out, 1, 0));
    SHOW(vmsplice(f, out, 1, 0));
    SHOW(vmsplice(f, out, 0, 0));
    SHOW(vmsplice(p[1], BADPTR, 1, 0));
    SHOW(vmsplice(p[1], out, 1025, 0));
    struct iovec bad = {BADPTR, 10};
    SHOW(vmsplice(p[1], &bad, 1, 0));
    SHOW(write(p[1], "xyz", 3));
    SHOW(vmsplice(p[0], &bad, 1, 0));
    drain("p after a fault", p[0]);
    alarm(1);
    SHOW(vmsplice(p[0], out, 1, 0));                        /* blocks */
    alarm(0);

    printf("-- readahead\n");
    SHOW(readahead(f, 0, 4096));
    SHOW(readahead(f, -1, 10));
    SHOW(syscall(SYS_readahead, f, 0L, -1L));
    SHOW(readahead(p[0], 0, 10));
    SHOW(readahead(dir, 0, 10));
    SHOW(readahead(app, 0, 10));                            /* write-only */
    int opath = open("data", O_PATH);
    SHOW(readahead(opath, 0, 10));
    SHOW(readahead(BADFD, 0, 10));
    SHOW(readahead(s[0], 0, 10));

    leave_tmpdir();
    return 0;
}
