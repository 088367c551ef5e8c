/* Newer opcodes: BIND, LISTEN (6.11), FIXED_FD_INSTALL (6.8), PIPE (6.16), READ_MULTISHOT (6.7). */
#include "common.h"
#include "uring.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#define OP_READ_MULTISHOT 49
#define OP_FIXED_FD_INSTALL 54
#define OP_BIND 56
#define OP_LISTEN 57
#define OP_PIPE 62
static char pool[3][8];
int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    struct ring r;
    ring_must(&r, 8, IORING_SETUP_SUBMIT_ALL, 0);
    printf("== BIND, LISTEN\n");
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    ring_prep(&r, OP_BIND, s, &a, 0, sizeof a, 1);
    ring_run(&r, 1, 0);
    ring_prep(&r, OP_LISTEN, s, NULL, 5, 0, 2);
    ring_run(&r, 1, 0);
    int accepting = 0;
    socklen_t len = sizeof accepting;
    getsockopt(s, SOL_SOCKET, SO_ACCEPTCONN, &accepting, &len);
    printf("  listening: %d\n", accepting);
    ring_prep(&r, OP_BIND, s, &a, 0, sizeof a, 3);                  /* bound already */
    ring_prep(&r, OP_BIND, s, BADPTR, 0, sizeof a, 4);
    ring_prep(&r, OP_LISTEN, 0, NULL, 5, 0, 5);                     /* stdin: no socket */
    ring_run(&r, 3, 1);
    printf("== FIXED_FD_INSTALL\n");
    int p[2];
    pipe(p);
    int files[2] = {p[0], -1};
    SHOW(uring_register(r.fd, IORING_REGISTER_FILES, files, 2));
    close(p[0]);
    struct io_uring_sqe *sqe = ring_prep(&r, OP_FIXED_FD_INSTALL, 0, NULL, 0, 0, 1000);
    sqe->flags = IOSQE_FIXED_FILE;
    struct io_uring_cqe c;
    ring_submit_wait(&r, 1);
    ring_reap(&r, &c);
    print_cqe(&c);
    write(p[1], "via", 3);
    char buf[8] = {0};
    printf("  read through the new fd: %zd, cloexec %d\n", read(c.res, buf, 3), (fcntl(c.res, F_GETFD) & FD_CLOEXEC) != 0);
    close(c.res);
    sqe = ring_prep(&r, OP_FIXED_FD_INSTALL, 0, NULL, 0, 0, 1001);
    sqe->flags = IOSQE_FIXED_FILE;
    sqe->rw_flags = 1;                                             /* IORING_FIXED_FD_NO_CLOEXEC */
    ring_submit_wait(&r, 1);
    ring_reap(&r, &c);
    print_cqe(&c);
    printf("  cloexec %d\n", (fcntl(c.res, F_GETFD) & FD_CLOEXEC) != 0);
    close(c.res);
    ring_prep(&r, OP_FIXED_FD_INSTALL, 0, NULL, 0, 0, 6);           /* not a fixed file */
    sqe = ring_prep(&r, OP_FIXED_FD_INSTALL, 1, NULL, 0, 0, 7);     /* an empty slot */
    sqe->flags = IOSQE_FIXED_FILE;
    sqe = ring_prep(&r, OP_FIXED_FD_INSTALL, 0, NULL, 0, 0, 8);
    sqe->flags = IOSQE_FIXED_FILE;
    sqe->rw_flags = 2;
    ring_run(&r, 3, 1);
    printf("== PIPE\n");
    int q[2] = {-1, -1};
    ring_prep(&r, OP_PIPE, 0, q, 0, 0, 9);
    ring_run(&r, 1, 0);
    write(q[1], "pipe", 4);
    printf("  read: %zd\n", read(q[0], buf, 4));
    sqe = ring_prep(&r, OP_PIPE, 0, BADPTR, 0, 0, 10);
    sqe = ring_prep(&r, OP_PIPE, 0, q, 0, 0, 11);
    sqe->rw_flags = 0x12345;
    ring_run(&r, 2, 1);
    printf("== READ_MULTISHOT\n");
    sqe = ring_prep(&r, IORING_OP_PROVIDE_BUFFERS, 3, pool, 8, 0, 12);
    sqe->buf_group = 1;
    ring_run(&r, 1, 0);
    sqe = ring_prep(&r, OP_READ_MULTISHOT, q[0], NULL, 0, 0, 13);
    sqe->flags = IOSQE_BUFFER_SELECT;
    sqe->buf_group = 1;
    SHOW(ring_submit(&r, 0, 0));
    const char *words[] = {"one", "two"};
    for (int i = 0; i < 2; i++) {
        write(q[1], words[i], 3);
        ring_wait(&r, 1);
        ring_reap(&r, &c);
        printf("  cqe %llu %s more %d buffer %u\n", (unsigned long long)c.user_data, cqe_res(c.res),
               !!(c.flags & 2), c.flags >> 16);
    }
    close(q[1]);
    ring_wait(&r, 1);
    ring_reap(&r, &c);
    printf("  cqe %llu %s more %d\n", (unsigned long long)c.user_data, cqe_res(c.res), !!(c.flags & 2));
    int f = open("/tmp", O_RDONLY | O_DIRECTORY);
    sqe = ring_prep(&r, OP_READ_MULTISHOT, q[0], NULL, 0, 0, 14);   /* no BUFFER_SELECT */
    sqe = ring_prep(&r, OP_READ_MULTISHOT, f, NULL, 0, 0, 15);      /* not pollable */
    sqe->flags = IOSQE_BUFFER_SELECT;
    sqe->buf_group = 1;
    ring_run(&r, 2, 1);
    return 0;
}
