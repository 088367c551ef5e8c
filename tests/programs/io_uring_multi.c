/*
 * io_uring's provided buffers and multishot requests, through raw syscalls:
 * PROVIDE_BUFFERS and REMOVE_BUFFERS (their errors), READ and RECV with
 * IOSQE_BUFFER_SELECT (the buffer id in the CQE's flags, buffers taken in the
 * order given, -ENOBUFS once a group is empty), multishot POLL_ADD on a pipe
 * (a CQE with IORING_CQE_F_MORE per write, -ECANCELED when removed), multishot
 * ACCEPT on a loopback listener (one CQE per connection), and multishot RECV
 * over a socketpair (one buffer per arrival, the end on EOF).
 */
#include "common.h"
#include "uring.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>

#define IORING_RECV_MULTISHOT_FLAG 2
#define IORING_ACCEPT_MULTISHOT_FLAG 1

static char pool[4][8];         /* four buffers of 8 bytes, group 7, ids 10.. */

static void print_buffer_cqes(struct ring *r, unsigned n)
{
    struct io_uring_cqe c[MAX_CQES];
    unsigned got = 0;
    while (got < MAX_CQES && ring_reap(r, &c[got]))
        got++;
    for (unsigned i = 0; i < got; i++) {
        printf("  cqe %llu %s", (unsigned long long)c[i].user_data, cqe_res(c[i].res));
        if (c[i].flags & IORING_CQE_F_BUFFER) {
            unsigned bid = c[i].flags >> IORING_CQE_BUFFER_SHIFT;
            printf(" buffer %u", bid);
            if (c[i].res > 0 && bid >= 10 && bid < 14)
                show_buf("holds", pool[bid - 10], c[i].res);
            else
                printf("\n");
        } else {
            printf(" flags %u\n", c[i].flags);
        }
    }
    if (got != n)
        printf("  (%u CQEs, %u expected)\n", got, n);
}

/* A READ of fd taking a buffer of group `group` (at most len bytes; 0: the buffer's),
 * run alone, its CQE printed. */
static void read_selected(struct ring *r, int fd, unsigned len, unsigned group, uint64_t ud)
{
    struct io_uring_sqe *sqe = ring_prep(r, IORING_OP_READ, fd, NULL, len, 0, ud);
    sqe->flags = IOSQE_BUFFER_SELECT;
    sqe->buf_group = group;
    ring_submit_wait(r, 1);
    print_buffer_cqes(r, 1);
}

static void provided_buffers(void)
{
    printf("== PROVIDE_BUFFERS, REMOVE_BUFFERS\n");
    struct ring r;
    ring_must(&r, 8, 0, 0);
    /* (each its own submission: a PROVIDE_BUFFERS refused when prepared ends one) */
    struct io_uring_sqe *sqe = ring_prep(&r, IORING_OP_PROVIDE_BUFFERS, 4, pool, 8, 10, 1);
    sqe->buf_group = 7;
    ring_run(&r, 1, 0);
    sqe = ring_prep(&r, IORING_OP_PROVIDE_BUFFERS, 0, pool, 8, 0, 2);          /* no buffers */
    sqe->buf_group = 8;
    ring_run(&r, 1, 0);
    sqe = ring_prep(&r, IORING_OP_PROVIDE_BUFFERS, 70000, pool, 8, 0, 3);      /* too many */
    sqe->buf_group = 8;
    ring_run(&r, 1, 0);
    sqe = ring_prep(&r, IORING_OP_PROVIDE_BUFFERS, 2, pool, 8, 65535, 4);      /* ids past 65535 */
    sqe->buf_group = 8;
    ring_run(&r, 1, 0);
    sqe = ring_prep(&r, IORING_OP_PROVIDE_BUFFERS, 2, BADPTR, 8, 0, 16);       /* not mapped */
    sqe->buf_group = 8;
    ring_run(&r, 1, 0);
    sqe = ring_prep(&r, IORING_OP_PROVIDE_BUFFERS, 1, pool, 8, 0, 17);         /* rw_flags set */
    sqe->buf_group = 8;
    sqe->rw_flags = 1;
    ring_run(&r, 1, 0);
    sqe = ring_prep(&r, IORING_OP_NOP, -1, NULL, 0, 0, 18);                    /* the rest of a batch */
    sqe = ring_prep(&r, IORING_OP_PROVIDE_BUFFERS, 0, pool, 8, 0, 19);
    sqe = ring_prep(&r, IORING_OP_NOP, -1, NULL, 0, 0, 20);
    ring_run(&r, 2, 0);
    ring_run(&r, 1, 0);

    printf("-- READ with a provided buffer from a pipe\n");
    int p[2];
    pipe(p);
    write(p[1], "first", 5);
    read_selected(&r, p[0], 0, 7, 5);
    write(p[1], "second!!", 8);
    read_selected(&r, p[0], 3, 7, 6);                              /* len 3: at most 3 of the 8 */
    read_selected(&r, p[0], 0, 99, 7);                             /* no such group */
    read_selected(&r, BADFD, 0, 7, 8);                             /* fails: its buffer goes back */
    read_selected(&r, p[0], 0, 7, 9);

    printf("-- REMOVE_BUFFERS\n");
    sqe = ring_prep(&r, IORING_OP_REMOVE_BUFFERS, 5, NULL, 0, 0, 10);
    sqe->buf_group = 7;
    sqe = ring_prep(&r, IORING_OP_REMOVE_BUFFERS, 1, NULL, 0, 0, 11);
    sqe->buf_group = 7;
    sqe = ring_prep(&r, IORING_OP_REMOVE_BUFFERS, 1, NULL, 0, 0, 12);
    sqe->buf_group = 42;
    sqe = ring_prep(&r, IORING_OP_REMOVE_BUFFERS, 0, NULL, 0, 0, 13);
    sqe->buf_group = 7;
    ring_run(&r, 4, 0);
    write(p[1], "x", 1);
    read_selected(&r, p[0], 0, 7, 14);                             /* the group is empty */
    sqe = ring_prep(&r, IORING_OP_WRITE, p[1], "y", 1, 0, 15);     /* WRITE takes no buffer */
    sqe->flags = IOSQE_BUFFER_SELECT;
    ring_run(&r, 1, 0);
    close(p[0]);
    close(p[1]);
    ring_free(&r);
}

static void multishot_poll(void)
{
    printf("== multishot POLL_ADD\n");
    struct ring r;
    ring_must(&r, 8, 0, 0);
    int p[2];
    pipe(p);
    struct io_uring_sqe *sqe = ring_prep(&r, IORING_OP_POLL_ADD, p[0], NULL, IORING_POLL_ADD_MULTI, 0, 1);
    sqe->poll32_events = POLLIN;
    SHOW(ring_submit(&r, 0, 0));
    printf("  before a write: %u CQEs\n", ring_ready(&r));
    char c;
    for (int i = 0; i < 3; i++) {
        write(p[1], "z", 1);
        ring_wait(&r, 1);
        expect_cqes(&r, 1, 0, NULL);
        read(p[0], &c, 1);
    }
    ring_prep(&r, IORING_OP_POLL_REMOVE, -1, NULL, 0, 0, 2)->addr = 1;
    ring_run(&r, 2, 1);
    close(p[0]);
    close(p[1]);
    ring_free(&r);
}

static void multishot_accept_and_recv(void)
{
    printf("== multishot ACCEPT\n");
    struct ring r;
    ring_must(&r, 16, 0, 0);
    struct sockaddr_in a;
    int l = loopback_listener(&a, 8);
    struct io_uring_sqe *sqe = ring_prep(&r, IORING_OP_ACCEPT, l, NULL, 0, 0, UD_NEWFD);
    sqe->ioprio = IORING_ACCEPT_MULTISHOT_FLAG;
    SHOW(ring_submit(&r, 0, 0));
    int clients[3];
    for (int i = 0; i < 3; i++) {
        clients[i] = socket(AF_INET, SOCK_STREAM, 0);
        connect(clients[i], (struct sockaddr *)&a, sizeof a);
        ring_wait(&r, 1);
        struct io_uring_cqe cqe;
        while (ring_reap(&r, &cqe)) {
            print_cqe(&cqe);
            if (cqe.res >= 0)
                close(cqe.res);
        }
    }
    ring_prep(&r, IORING_OP_ASYNC_CANCEL, -1, NULL, 0, 0, 2)->addr = UD_NEWFD;
    ring_submit_wait(&r, 2);
    struct io_uring_cqe c[MAX_CQES];
    reap_print(&r, 1, c);
    for (int i = 0; i < 3; i++)
        close(clients[i]);
    close(l);

    printf("== multishot RECV with provided buffers\n");
    int sv[2];
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    sqe = ring_prep(&r, IORING_OP_PROVIDE_BUFFERS, 4, pool, 8, 10, 3);
    sqe->buf_group = 5;
    ring_run(&r, 1, 0);
    sqe = ring_prep(&r, IORING_OP_RECV, sv[0], NULL, 0, 0, 4);
    sqe->flags = IOSQE_BUFFER_SELECT;
    sqe->buf_group = 5;
    sqe->ioprio = IORING_RECV_MULTISHOT_FLAG;
    SHOW(ring_submit(&r, 0, 0));
    const char *words[] = {"one", "two", "three"};
    for (int i = 0; i < 3; i++) {
        write(sv[1], words[i], strlen(words[i]));
        ring_wait(&r, 1);
        print_buffer_cqes(&r, 1);
    }
    shutdown(sv[1], SHUT_WR);                   /* EOF: the request ends */
    ring_wait(&r, 1);
    print_buffer_cqes(&r, 1);
    sqe = ring_prep(&r, IORING_OP_RECV, sv[0], NULL, 0, 0, 5);  /* multishot without BUFFER_SELECT */
    sqe->ioprio = IORING_RECV_MULTISHOT_FLAG;
    ring_run(&r, 1, 0);
    close(sv[0]);
    close(sv[1]);
    ring_free(&r);
}

static struct ring exit_ring;
static int exit_pipe[2];
static char exit_buf[8];

static void *submit_and_exit(void *arg)
{
    ring_prep(&exit_ring, IORING_OP_READ, exit_pipe[0], exit_buf, 4, 0, 1);
    ring_prep(&exit_ring, IORING_OP_NOP, -1, NULL, 0, 0, 2);
    printf("  the thread submits: %ld\n", ring_submit(&exit_ring, 0, 0));
    return arg;
}

/* A thread that exits leaves its requests to go on (io_uring_cancel_generic cancels
 * them only at exec, or with the ring): its pipe read completes after a later write. */
static void requests_of_an_exiting_thread(void)
{
    printf("== a thread exits with a request waiting\n");
    ring_must(&exit_ring, 4, 0, 0);
    pipe(exit_pipe);
    pthread_t t;
    pthread_create(&t, NULL, submit_and_exit, NULL);
    pthread_join(t, NULL);
    SHOW(ring_wait(&exit_ring, 1));
    reap_all(&exit_ring);
    write(exit_pipe[1], "late", 4);
    for (int i = 0; i < 2000 && ring_ready(&exit_ring) < 1; i++)
        usleep(1000);
    reap_all(&exit_ring);
    show_buf("read", exit_buf, 4);
    close(exit_pipe[0]);
    close(exit_pipe[1]);
    ring_free(&exit_ring);
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    provided_buffers();
    multishot_poll();
    multishot_accept_and_recv();
    requests_of_an_exiting_thread();
    return 0;
}
