/*
 * io_uring completions while the program makes no system call: it submits,
 * then spins reading the CQ ring (as liburing's io_uring_peek_cqe loops and
 * busy-polling servers do). Linux completes the requests from its own
 * context; ours must complete them without a syscall to stop at:
 * - READV and RECV on a loopback TCP socket, the data written by another
 *   thread 50 ms later (or by the peer's shutdown: 0);
 * - POLL_ADD on a TCP socket;
 * - a TIMEOUT of 30 ms, and one of 0 ms with a count, with every thread of the
 *   program spinning (no parked thread brings the supervisor back);
 * - a LINK_TIMEOUT that cancels a RECV nothing arrives for.
 * Each spin gives up after 5 s (printing "stuck").
 */
#include "common.h"
#include "uring.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <time.h>

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

/* Spin, with no system call, until the CQ ring holds n CQEs; then print them. */
static void spin_for(struct ring *r, unsigned n)
{
    double give_up = now() + 5;
    while (ring_ready(r) < n) {
        if (now() > give_up) {
            printf("  stuck: %u of %u CQEs\n", ring_ready(r), n);
            break;
        }
    }
    struct io_uring_cqe c[MAX_CQES];
    reap_print(r, 1, c);
}

static void tcp_pair(int fds[2])
{
    struct sockaddr_in a;
    int l = loopback_listener(&a, 1);
    fds[0] = socket(AF_INET, SOCK_STREAM, 0);
    connect(fds[0], (struct sockaddr *)&a, sizeof a);
    fds[1] = accept(l, NULL, NULL);
    close(l);
}

struct later {
    int fd, shut;
    const char *data;
};

static void *write_later(void *arg)
{
    struct later *w = arg;
    struct timespec t = {0, 50 * 1000 * 1000};
    nanosleep(&t, NULL);
    if (w->shut)
        shutdown(w->fd, SHUT_WR);
    else
        write(w->fd, w->data, strlen(w->data));
    return NULL;
}

static void spin_on_socket(void)
{
    printf("== READV, RECV and POLL_ADD on TCP, completed while the program spins\n");
    struct ring r;
    ring_must(&r, 16, 0, 0);
    int s[2];
    tcp_pair(s);
    char buf[16] = {0}, buf2[16] = {0};
    struct iovec iov = {buf, sizeof buf};
    ring_prep(&r, IORING_OP_READV, s[1], &iov, 1, 0, 1);
    SHOW(ring_submit(&r, 0, 0));
    pthread_t t;
    struct later w = {s[0], 0, "hello"};
    pthread_create(&t, NULL, write_later, &w);
    spin_for(&r, 1);
    pthread_join(t, NULL);
    printf("  read \"%s\"\n", buf);

    ring_prep(&r, IORING_OP_POLL_ADD, s[1], NULL, 0, 0, 2)->poll32_events = POLLIN;
    ring_prep(&r, IORING_OP_RECV, s[1], buf2, sizeof buf2, 0, 3);
    SHOW(ring_submit(&r, 0, 0));
    w.data = "world";
    pthread_create(&t, NULL, write_later, &w);
    spin_for(&r, 2);
    pthread_join(t, NULL);
    printf("  recv \"%s\"\n", buf2);

    ring_prep(&r, IORING_OP_RECV, s[1], buf2, sizeof buf2, 0, 4);
    SHOW(ring_submit(&r, 0, 0));
    w.shut = 1;
    pthread_create(&t, NULL, write_later, &w);
    spin_for(&r, 1);
    pthread_join(t, NULL);
    close(s[0]);
    close(s[1]);
    ring_free(&r);
}

static void spin_on_timeouts(void)
{
    printf("== TIMEOUT and LINK_TIMEOUT while the program spins\n");
    struct ring r;
    ring_must(&r, 16, 0, 0);
    struct __kernel_timespec ts = {0, 30 * 1000 * 1000};
    ring_prep(&r, IORING_OP_TIMEOUT, -1, &ts, 1, 0, 5);
    SHOW(ring_submit(&r, 0, 0));
    double t0 = now();
    spin_for(&r, 1);
    printf("  after at least 30 ms: %s\n", now() - t0 >= 0.029 ? "yes" : "no");

    int s[2];
    tcp_pair(s);
    char buf[8];
    ring_prep(&r, IORING_OP_RECV, s[1], buf, sizeof buf, 0, 6)->flags = IOSQE_IO_LINK;
    ring_prep(&r, IORING_OP_LINK_TIMEOUT, -1, &ts, 1, 0, 7);
    SHOW(ring_submit(&r, 0, 0));
    spin_for(&r, 2);
    close(s[0]);
    close(s[1]);
    ring_free(&r);
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    spin_on_socket();
    spin_on_timeouts();
    return 0;
}
