/*
 * io_uring as liburing's own tests use it, through raw syscalls:
 * - direct descriptors: OPENAT, SOCKET and ACCEPT into a registered-file slot
 *   (file_index, or IORING_FILE_INDEX_ALLOC: the slot is the result, found
 *   from where the last one was set or freed), CLOSE
 *   of a slot, their errors (O_CLOEXEC, past the table, no table), and a
 *   chain OPENAT-direct -> READ of that slot -> CLOSE (the registered file
 *   is looked up when the READ runs, not when it is submitted);
 * - URING_CMD's socket commands (SIOCINQ, GETSOCKOPT, SETSOCKOPT), RECVMSG into a
 *   provided buffer, getsockopt(SO_PEERNAME) of a TCP socket;
 * - a READ of an O_NONBLOCK pipe waits as a poll would (RWF_NOWAIT: -EAGAIN);
 * - an IOPOLL ring: NOP runs, a READ of a file that cannot be polled is
 *   -EOPNOTSUPP, opcodes without iopoll are refused (-EINVAL);
 * - NOP's IORING_NOP_INJECT_RESULT and IORING_NOP_FILE;
 * - TIMEOUTs: in a link chain (with ETIME_SUCCESS), multishot with a count,
 *   TIMEOUT_REMOVE with IORING_TIMEOUT_UPDATE, and a fired TIMEOUT ending an
 *   io_uring_enter that waits for more CQEs than there are (it returns 0).
 */
#include "common.h"
#include "uring.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#define FILE_INDEX_ALLOC 0xFFFFFFFFu
#define NOP_INJECT_RESULT 1
#define NOP_FILE 2
#define TIMEOUT_UPDATE 2
#define TIMEOUT_ETIME_SUCCESS 32
#define TIMEOUT_MULTISHOT 64

static char dir[] = "/tmp/uring-direct-XXXXXX";
static char path[64];

static struct io_uring_sqe *direct(struct io_uring_sqe *sqe, unsigned file_index)
{
    sqe->file_index = file_index;
    return sqe;
}

static void direct_descriptors(void)
{
    printf("== OPENAT, SOCKET, ACCEPT and CLOSE with direct descriptors\n");
    struct ring r;
    ring_must(&r, 16, 0, 0);
    direct(ring_prep(&r, IORING_OP_OPENAT, AT_FDCWD, path, 0, 0, 1), 1);
    ring_run(&r, 1, 0);                         /* no table: -ENXIO */
    int empty[4] = {-1, -1, -1, -1};
    SHOW(uring_register(r.fd, IORING_REGISTER_FILES, empty, 4));
    direct(ring_prep(&r, IORING_OP_OPENAT, AT_FDCWD, path, 0, 0, 2), 2);     /* slot 1: 0 */
    ring_run(&r, 1, 0);
    char buf[16] = {0};
    ring_prep(&r, IORING_OP_READ, 1, buf, 5, 0, 3)->flags = IOSQE_FIXED_FILE;
    ring_run(&r, 1, 0);
    show_buf("read from slot 1", buf, 5);
    direct(ring_prep(&r, IORING_OP_OPENAT, AT_FDCWD, path, 0, 0, 4), FILE_INDEX_ALLOC);     /* slot 0 */
    direct(ring_prep(&r, IORING_OP_SOCKET, AF_INET, NULL, 0, SOCK_DGRAM, 5), FILE_INDEX_ALLOC);     /* 2 */
    ring_run(&r, 2, 0);
    struct io_uring_sqe *sqe = direct(ring_prep(&r, IORING_OP_OPENAT, AT_FDCWD, path, 0, 0, 6), 1);
    sqe->open_flags = O_CLOEXEC;
    ring_run(&r, 1, 0);                         /* -EINVAL */
    direct(ring_prep(&r, IORING_OP_OPENAT, AT_FDCWD, path, 0, 0, 7), 9);
    ring_run(&r, 1, 0);                         /* past the table: -EINVAL */
    direct(ring_prep(&r, IORING_OP_CLOSE, 0, NULL, 0, 0, 8), 2);
    direct(ring_prep(&r, IORING_OP_CLOSE, 0, NULL, 0, 0, 9), 2);
    ring_run(&r, 2, 0);                         /* 0, then -EBADF */
    direct(ring_prep(&r, IORING_OP_OPENAT, AT_FDCWD, path, 0, 0, 10), 4)->flags = IOSQE_IO_LINK;
    struct io_uring_sqe *rd = ring_prep(&r, IORING_OP_READ, 3, buf, 5, 5, 11);
    rd->flags = IOSQE_FIXED_FILE | IOSQE_IO_LINK;
    direct(ring_prep(&r, IORING_OP_CLOSE, 0, NULL, 0, 0, 12), 4);
    memset(buf, 0, sizeof buf);
    ring_run(&r, 3, 0);
    show_buf("read from slot 3, opened by the link", buf, 5);

    printf("== ACCEPT into a direct descriptor\n");
    struct sockaddr_in a;
    int l = loopback_listener(&a, 1);
    int c = socket(AF_INET, SOCK_STREAM, 0);
    connect(c, (struct sockaddr *)&a, sizeof a);
    direct(ring_prep(&r, IORING_OP_ACCEPT, l, NULL, 0, 0, 13), FILE_INDEX_ALLOC);
    ring_run(&r, 1, 0);         /* slot 3: the search starts at the last slot freed (alloc_hint) */
    SHOW(write(c, "over tcp", 8));
    memset(buf, 0, sizeof buf);
    ring_prep(&r, IORING_OP_RECV, 3, buf, sizeof buf, 0, 14)->flags = IOSQE_FIXED_FILE;
    ring_run(&r, 1, 0);
    show_buf("received on slot 3", buf, 8);

    printf("== URING_CMD on a socket, RECVMSG into a provided buffer\n");
    SHOW(write(c, "queued", 6));
    sqe = ring_prep(&r, IORING_OP_URING_CMD, 3, NULL, 0, 0, 15);
    sqe->flags = IOSQE_FIXED_FILE;
    sqe->cmd_op = 0;                            /* SOCKET_URING_OP_SIOCINQ: 6 */
    int type = 0, one = 1;
    sqe = ring_prep(&r, IORING_OP_URING_CMD, c, NULL, 0, 0, 16);
    sqe->cmd_op = 2;                            /* GETSOCKOPT SO_TYPE: 4 (its length) */
    sqe->addr = SOL_SOCKET | (uint64_t)SO_TYPE << 32;     /* level, optname */
    sqe->addr3 = (uintptr_t)&type;                      /* optval */
    sqe->file_index = sizeof type;                      /* optlen */
    sqe = ring_prep(&r, IORING_OP_URING_CMD, c, NULL, 0, 0, 17);
    sqe->cmd_op = 3;                            /* SETSOCKOPT SO_KEEPALIVE: 0 */
    sqe->addr = SOL_SOCKET | (uint64_t)SO_KEEPALIVE << 32;
    sqe->addr3 = (uintptr_t)&one;
    sqe->file_index = sizeof one;
    int file = open(path, O_RDONLY);
    ring_prep(&r, IORING_OP_URING_CMD, file, NULL, 0, 0, 18);      /* a file: -EOPNOTSUPP */
    ring_run(&r, 4, 0);
    int keepalive = 0;
    socklen_t klen = sizeof keepalive;
    getsockopt(c, SOL_SOCKET, SO_KEEPALIVE, &keepalive, &klen);
    printf("  SO_TYPE %d, SO_KEEPALIVE now %d\n", type, keepalive);
    struct sockaddr_in peer;
    socklen_t plen = sizeof peer;
    SHOW(getsockopt(c, SOL_SOCKET, SO_PEERNAME, &peer, &plen));
    printf("  SO_PEERNAME: %u bytes, the listener's port: %s\n", plen, peer.sin_port == a.sin_port ? "yes" : "no");
    static char pool[2][16];
    ring_prep(&r, IORING_OP_PROVIDE_BUFFERS, 2, pool, 16, 0, 19)->buf_group = 5;
    ring_run(&r, 1, 0);
    struct iovec iov = {NULL, 4};               /* its length bounds the buffer */
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
    sqe = ring_prep(&r, IORING_OP_RECVMSG, 3, &mh, 1, 0, 20);
    sqe->flags = IOSQE_FIXED_FILE | IOSQE_BUFFER_SELECT;
    sqe->buf_group = 5;
    ring_run(&r, 1, 0);
    show_buf("pool[0]", pool[0], 4);
    close(file);
    close(c);
    close(l);
    ring_free(&r);
}

static void nonblocking_waits(void)
{
    printf("== READ of an O_NONBLOCK pipe waits, as a poll would\n");
    struct ring r;
    ring_must(&r, 16, 0, 0);
    int p[2];
    SHOW(pipe2(p, O_NONBLOCK));
    char buf[8] = {0};
    ring_prep(&r, IORING_OP_READ, p[0], buf, sizeof buf, 0, 1);
    ring_run(&r, 0, 0);
    printf("  ready before the write: %u\n", ring_ready(&r));
    SHOW(write(p[1], "later", 5));
    wait_print(&r, 1, 0);
    show_buf("read", buf, 5);
    ring_prep(&r, IORING_OP_READ, p[0], buf, sizeof buf, 0, 2)->rw_flags = RWF_NOWAIT;
    ring_run(&r, 1, 0);                         /* -EAGAIN */
    close(p[0]);
    close(p[1]);
    ring_free(&r);
}

static void iopoll_ring(void)
{
    printf("== an IOPOLL ring\n");
    struct ring r;
    ring_must(&r, 16, IORING_SETUP_IOPOLL, 0);
    int fd = open(path, O_RDONLY);
    char buf[8];
    ring_prep(&r, IORING_OP_NOP, -1, NULL, 0, 0, 1);
    ring_run(&r, 1, 0);
    ring_prep(&r, IORING_OP_READ, fd, buf, sizeof buf, 0, 2);
    ring_run(&r, 1, 0);                         /* -EOPNOTSUPP */
    ring_prep(&r, IORING_OP_READ, 99, buf, sizeof buf, 0, 3);
    ring_run(&r, 1, 0);                         /* -EBADF */
    ring_prep(&r, IORING_OP_FSYNC, fd, NULL, 0, 0, 4);
    ring_run(&r, 1, 0);                         /* -EINVAL */
    close(fd);
    ring_free(&r);
}

static void nop_flags(void)
{
    printf("== NOP's flags\n");
    struct ring r;
    ring_must(&r, 16, 0, 0);
    ring_prep(&r, IORING_OP_NOP, -1, NULL, (unsigned)-EFAULT, 0, 1)->rw_flags = NOP_INJECT_RESULT;
    ring_prep(&r, IORING_OP_NOP, -1, NULL, 0, 0, 2)->rw_flags = NOP_FILE;
    ring_prep(&r, IORING_OP_NOP, 1, NULL, 0, 0, 3)->rw_flags = NOP_FILE;
    ring_run(&r, 3, 0);
    ring_prep(&r, IORING_OP_NOP, -1, NULL, 0, 0, 4)->rw_flags = 1u << 7;
    ring_run(&r, 1, 0);                         /* -EINVAL */
    ring_free(&r);
}

static void timeouts(void)
{
    printf("== TIMEOUTs: in a link, multishot, updated, ending a wait\n");
    struct ring r;
    ring_must(&r, 16, 0, 0);
    struct __kernel_timespec short_ts = {0, 20 * 1000 * 1000}, long_ts = {30, 0};
    ring_prep(&r, IORING_OP_TIMEOUT, -1, &short_ts, 1, 0, 1)->flags = IOSQE_IO_LINK;
    ring_prep(&r, IORING_OP_NOP, -1, NULL, 0, 0, 2);
    ring_run(&r, 2, 0);                         /* -ETIME, then the NOP -ECANCELED */
    struct io_uring_sqe *sqe = ring_prep(&r, IORING_OP_TIMEOUT, -1, &short_ts, 1, 0, 3);
    sqe->flags = IOSQE_IO_LINK;
    sqe->timeout_flags = TIMEOUT_ETIME_SUCCESS;
    ring_prep(&r, IORING_OP_NOP, -1, NULL, 0, 0, 4);
    ring_run(&r, 2, 0);                         /* -ETIME, then the NOP runs */
    ring_prep(&r, IORING_OP_TIMEOUT, -1, &short_ts, 1, 3, 5)->timeout_flags = TIMEOUT_MULTISHOT;
    SHOW(ring_submit(&r, 3, IORING_ENTER_GETEVENTS));      /* each firing ends a wait */
    expect_cqes(&r, 1, 0, NULL);
    wait_print(&r, 1, 0);
    wait_print(&r, 1, 0);                       /* the third, without MORE */
    ring_prep(&r, IORING_OP_TIMEOUT, -1, &long_ts, 1, 0, 6);
    ring_run(&r, 0, 0);
    sqe = ring_prep(&r, IORING_OP_TIMEOUT_REMOVE, -1, (void *)6, 0, 0, 7);
    sqe->off = (uintptr_t)&short_ts;
    sqe->timeout_flags = TIMEOUT_UPDATE;
    ring_run(&r, 1, 0);                         /* the update: 0 */
    wait_print(&r, 1, 0);                       /* 6 fires 20 ms later: -ETIME */
    ring_prep(&r, IORING_OP_TIMEOUT, -1, &short_ts, 1, 0, 8);
    SHOW(ring_submit(&r, 4, IORING_ENTER_GETEVENTS));      /* the TIMEOUT ends the wait */
    expect_cqes(&r, 1, 0, NULL);
    ring_free(&r);
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    snprintf(path, sizeof path, "%s/data", dir);
    int fd = open(path, O_WRONLY | O_CREAT, 0644);
    write(fd, "hello world", 11);
    close(fd);
    direct_descriptors();
    nonblocking_waits();
    iopoll_ring();
    nop_flags();
    timeouts();
    unlink(path);
    rmdir(dir);
    return 0;
}
