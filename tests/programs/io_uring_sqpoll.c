/* SQPOLL: SQEs published with at most an SQ_WAKEUP complete; NEED_WAKEUP after the idle
 * time; SQ_AFF's checks. */
#include "common.h"
#include "uring.h"
#include <time.h>
int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    struct ring r;
    struct io_uring_params p = {0};
    p.flags = IORING_SETUP_SQPOLL;
    p.sq_thread_idle = 300;
    long fd = uring_setup(8, &p);
    if (fd < 0) { printf("setup: %s\n", uring_errname(errno)); return 1; }
    printf("setup ok, SQPOLL_NONFIXED %s\n", p.features & IORING_FEAT_SQPOLL_NONFIXED ? "yes" : "no");
    memset(&r, 0, sizeof r);
    r.fd = fd; r.p = p;
    ring_map(&r);
    int pfd[2];
    pipe(pfd);
    write(pfd[1], "hello", 5);
    char buf[8] = {0};
    ring_prep(&r, IORING_OP_NOP, -1, NULL, 0, 0, 1);
    ring_prep(&r, IORING_OP_READ, pfd[0], buf, 5, 0, 2);
    /* liburing's protocol: publish the tail, then enter only to wake a poller that sleeps
     * (a kernel's may sleep from the start; ours polls until its idle time is up) */
    __atomic_store_n(r.sq_tail, r.sqe_tail, __ATOMIC_SEQ_CST);
    if (__atomic_load_n(r.sq_flags, __ATOMIC_SEQ_CST) & IORING_SQ_NEED_WAKEUP)
        uring_enter(r.fd, 2, 0, IORING_ENTER_SQ_WAKEUP, NULL, 0);
    for (int i = 0; i < 2000 && ring_ready(&r) < 2; i++)
        usleep(1000);
    reap_all(&r);
    show_buf("read", buf, 5);
    usleep(800 * 1000);                                        /* idle: NEED_WAKEUP */
    unsigned flags = __atomic_load_n(r.sq_flags, __ATOMIC_ACQUIRE);
    printf("NEED_WAKEUP after idle: %s\n", flags & IORING_SQ_NEED_WAKEUP ? "yes" : "no");
    ring_prep(&r, IORING_OP_NOP, -1, NULL, 0, 0, 3);
    __atomic_store_n(r.sq_tail, r.sqe_tail, __ATOMIC_SEQ_CST);
    SHOW(uring_enter(r.fd, 1, 1, IORING_ENTER_SQ_WAKEUP | IORING_ENTER_GETEVENTS, NULL, 0));
    for (int i = 0; i < 2000 && ring_ready(&r) < 1; i++)
        usleep(1000);
    reap_all(&r);
    flags = __atomic_load_n(r.sq_flags, __ATOMIC_ACQUIRE);
    printf("NEED_WAKEUP after the wake-up: %s\n", flags & IORING_SQ_NEED_WAKEUP ? "yes" : "no");
    /* SQ_AFF without SQPOLL, or with a CPU that does not exist */
    struct io_uring_params q = {0};
    q.flags = IORING_SETUP_SQ_AFF;
    SHOW(uring_setup(4, &q));
    memset(&q, 0, sizeof q);
    q.flags = IORING_SETUP_SQPOLL | IORING_SETUP_SQ_AFF;
    q.sq_thread_cpu = 4096;
    SHOW(uring_setup(4, &q));
    return 0;
}
