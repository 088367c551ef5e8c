/*
 * Small io_uring helpers shared by the io_uring test programs, on the raw
 * system calls (no liburing): set a ring up, map its SQ ring, CQ ring and
 * SQE array at the offsets io_uring_setup(2) returns, fill and submit SQEs,
 * reap CQEs and print them as "cqe USER_DATA RES flags FLAGS", RES being
 * -ENAME for an error.
 *
 * The installed <linux/io_uring.h> is 6.1's: what later kernels added and
 * the programs use is defined here.
 */
#ifndef PYLINUXABI_TEST_URING_H
#define PYLINUXABI_TEST_URING_H

#include "common.h"
#include <arpa/inet.h>
#include <linux/io_uring.h>
#include <netinet/in.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/uio.h>

#ifndef SYS_io_uring_setup
#define SYS_io_uring_setup 425
#define SYS_io_uring_enter 426
#define SYS_io_uring_register 427
#endif

/* opcodes after 6.1's last, IORING_OP_SENDMSG_ZC (48) */
#define OP_FTRUNCATE 55          /* 6.9 */

/* errno names common.h lacks */
static __attribute__((unused)) const char *uring_errname(int e)
{
    switch (e) {
    case ECANCELED: return "ECANCELED";
    case ETIME: return "ETIME";
    case ENOBUFS: return "ENOBUFS";
    case EALREADY: return "EALREADY";
    case EINPROGRESS: return "EINPROGRESS";
    case ECONNREFUSED: return "ECONNREFUSED";
    case ENOTCONN: return "ENOTCONN";
    case EISCONN: return "EISCONN";
    case EAFNOSUPPORT: return "EAFNOSUPPORT";
    case EBADFD: return "EBADFD";
    case EOWNERDEAD: return "EOWNERDEAD";
    case EBADR: return "EBADR";
    default: return errname(e);
    }
}

/* SHOW and OK of common.h, with those names */
static __attribute__((unused)) long uring_show_(const char *label, long r)
{
    if (r == -1)
        printf("%s = -1 %s\n", label, uring_errname(errno));
    else
        printf("%s = %ld\n", label, r);
    return r;
}

static __attribute__((unused)) long uring_ok_(const char *label, long r)
{
    if (r == -1)
        printf("%s = -1 %s\n", label, uring_errname(errno));
    else
        printf("%s = ok\n", label);
    return r;
}
#undef SHOW
#define SHOW(expr) uring_show_(#expr, (long)(expr))
#undef OK
#define OK(expr) uring_ok_(#expr, (long)(expr))

/* -- the system calls -------------------------------------------------------- */

static __attribute__((unused)) long uring_setup(unsigned entries, struct io_uring_params *p)
{
    return syscall(SYS_io_uring_setup, entries, p);
}

static __attribute__((unused)) long uring_enter(int fd, unsigned to_submit, unsigned min_complete,
                                                unsigned flags, const void *arg, size_t argsz)
{
    return syscall(SYS_io_uring_enter, fd, to_submit, min_complete, flags, arg, argsz);
}

static __attribute__((unused)) long uring_register(int fd, unsigned opcode, const void *arg,
                                                   unsigned nr_args)
{
    return syscall(SYS_io_uring_register, fd, opcode, arg, nr_args);
}

/* -- a mapped ring ----------------------------------------------------------- */

struct ring {
    int fd;
    struct io_uring_params p;
    void *sq_ptr, *cq_ptr;          /* cq_ptr == sq_ptr with IORING_FEAT_SINGLE_MMAP */
    size_t sq_len, cq_len;
    struct io_uring_sqe *sqes;
    size_t sqes_len;
    unsigned *sq_head, *sq_tail, *sq_mask, *sq_flags, *sq_dropped, *sq_array;
    unsigned *cq_head, *cq_tail, *cq_mask, *cq_overflow;
    struct io_uring_cqe *cqes;
    unsigned sqe_tail;               /* SQEs filled, not yet published in *sq_tail */
};

#define RING_FIELD(base, off) ((unsigned *)((char *)(base) + (off)))

/* Map the rings of r->fd as r->p describes them; -1 with errno on failure. */
static __attribute__((unused)) int ring_map(struct ring *r)
{
    struct io_uring_params *p = &r->p;
    r->sq_len = p->sq_off.array + p->sq_entries * sizeof(unsigned);
    r->cq_len = p->cq_off.cqes + p->cq_entries * sizeof(struct io_uring_cqe);
    if (p->features & IORING_FEAT_SINGLE_MMAP) {
        if (r->cq_len > r->sq_len)
            r->sq_len = r->cq_len;
        r->cq_len = r->sq_len;
    }
    r->sq_ptr = mmap(NULL, r->sq_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, r->fd,
                     IORING_OFF_SQ_RING);
    if (r->sq_ptr == MAP_FAILED)
        return -1;
    if (p->features & IORING_FEAT_SINGLE_MMAP) {
        r->cq_ptr = r->sq_ptr;
    } else {
        r->cq_ptr = mmap(NULL, r->cq_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, r->fd,
                         IORING_OFF_CQ_RING);
        if (r->cq_ptr == MAP_FAILED)
            return -1;
    }
    r->sqes_len = p->sq_entries * sizeof(struct io_uring_sqe);
    r->sqes = mmap(NULL, r->sqes_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, r->fd,
                   IORING_OFF_SQES);
    if (r->sqes == MAP_FAILED)
        return -1;
    r->sq_head = RING_FIELD(r->sq_ptr, p->sq_off.head);
    r->sq_tail = RING_FIELD(r->sq_ptr, p->sq_off.tail);
    r->sq_mask = RING_FIELD(r->sq_ptr, p->sq_off.ring_mask);
    r->sq_flags = RING_FIELD(r->sq_ptr, p->sq_off.flags);
    r->sq_dropped = RING_FIELD(r->sq_ptr, p->sq_off.dropped);
    r->sq_array = RING_FIELD(r->sq_ptr, p->sq_off.array);
    r->cq_head = RING_FIELD(r->cq_ptr, p->cq_off.head);
    r->cq_tail = RING_FIELD(r->cq_ptr, p->cq_off.tail);
    r->cq_mask = RING_FIELD(r->cq_ptr, p->cq_off.ring_mask);
    r->cq_overflow = RING_FIELD(r->cq_ptr, p->cq_off.overflow);
    r->cqes = (struct io_uring_cqe *)((char *)r->cq_ptr + p->cq_off.cqes);
    r->sqe_tail = *r->sq_tail;
    return 0;
}

/* Set up a ring of `entries` with setup flags (and cq_entries for CQSIZE) and
 * map it; -1 with errno on failure, having printed nothing. */
static __attribute__((unused)) int ring_init(struct ring *r, unsigned entries, unsigned flags,
                                             unsigned cq_entries)
{
    memset(r, 0, sizeof *r);
    r->p.flags = flags;
    r->p.cq_entries = cq_entries;
    r->fd = uring_setup(entries, &r->p);
    if (r->fd < 0)
        return -1;
    if (ring_map(r) < 0) {
        int e = errno;
        close(r->fd);
        errno = e;
        return -1;
    }
    return 0;
}

/* Set up a ring the program cannot go on without, or exit. */
static __attribute__((unused)) void ring_must(struct ring *r, unsigned entries, unsigned flags,
                                              unsigned cq_entries)
{
    if (ring_init(r, entries, flags, cq_entries) < 0) {
        printf("ring of %u entries: %s\n", entries, uring_errname(errno));
        exit(1);
    }
}

static __attribute__((unused)) void ring_free(struct ring *r)
{
    munmap(r->sqes, r->sqes_len);
    if (r->cq_ptr != r->sq_ptr)
        munmap(r->cq_ptr, r->cq_len);
    munmap(r->sq_ptr, r->sq_len);
    close(r->fd);
}

/* The next free SQE, zeroed, its index placed in the SQ array; NULL if the
 * SQ ring is full.  It is published to the kernel by ring_submit. */
static __attribute__((unused)) struct io_uring_sqe *ring_sqe(struct ring *r)
{
    unsigned head = __atomic_load_n(r->sq_head, __ATOMIC_ACQUIRE);
    if (r->sqe_tail - head >= r->p.sq_entries)
        return NULL;
    unsigned idx = r->sqe_tail & *r->sq_mask;
    struct io_uring_sqe *sqe = &r->sqes[idx];
    memset(sqe, 0, sizeof *sqe);
    r->sq_array[idx] = idx;
    r->sqe_tail++;
    return sqe;
}

/* An SQE of opcode op on fd, with addr, len, off and user_data. */
static __attribute__((unused)) struct io_uring_sqe *ring_prep(struct ring *r, int op, int fd,
                                                              const void *addr, unsigned len,
                                                              uint64_t off, uint64_t user_data)
{
    struct io_uring_sqe *sqe = ring_sqe(r);
    if (!sqe) {
        printf("SQ ring full\n");
        exit(1);
    }
    sqe->opcode = op;
    sqe->fd = fd;
    sqe->addr = (uintptr_t)addr;
    sqe->len = len;
    sqe->off = off;
    sqe->user_data = user_data;
    return sqe;
}

/* Publish the SQEs filled and enter with to_submit = every SQE the kernel
 * has yet to consume (a refused SQE ends a submission and leaves the rest),
 * min_complete and flags: io_uring_enter's result (-1 with errno). */
static __attribute__((unused)) long ring_submit(struct ring *r, unsigned min_complete, unsigned flags)
{
    unsigned n = r->sqe_tail - __atomic_load_n(r->sq_head, __ATOMIC_ACQUIRE);
    __atomic_store_n(r->sq_tail, r->sqe_tail, __ATOMIC_RELEASE);
    return uring_enter(r->fd, n, min_complete, flags, NULL, 0);
}

/* Submit and wait for `wait` completions. */
static __attribute__((unused)) long ring_submit_wait(struct ring *r, unsigned wait)
{
    return ring_submit(r, wait, wait ? IORING_ENTER_GETEVENTS : 0);
}

/* Wait, submitting nothing, until `n` CQEs are there to reap. */
static __attribute__((unused)) long ring_wait(struct ring *r, unsigned n)
{
    return uring_enter(r->fd, 0, n, IORING_ENTER_GETEVENTS, NULL, 0);
}

/* How many CQEs are there to reap. */
static __attribute__((unused)) unsigned ring_ready(struct ring *r)
{
    return __atomic_load_n(r->cq_tail, __ATOMIC_ACQUIRE) - *r->cq_head;
}

/* Take the oldest CQE into *out: 1, or 0 if there is none. */
static __attribute__((unused)) int ring_reap(struct ring *r, struct io_uring_cqe *out)
{
    unsigned head = *r->cq_head;
    if (head == __atomic_load_n(r->cq_tail, __ATOMIC_ACQUIRE))
        return 0;
    *out = r->cqes[head & *r->cq_mask];
    __atomic_store_n(r->cq_head, head + 1, __ATOMIC_RELEASE);
    return 1;
}

/* struct io_uring_buf_reg (IORING_REGISTER_PBUF_RING), which older headers lack. */
struct buf_reg {
    uint64_t ring_addr;
    uint32_t ring_entries;
    uint16_t bgid, flags;
    uint64_t resv[3];
};

/* A TCP socket listening on 127.0.0.1 at a port the kernel picks (its address in *a). */
static __attribute__((unused)) int loopback_listener(struct sockaddr_in *a, int backlog)
{
    int l = socket(AF_INET, SOCK_STREAM, 0);
    socklen_t alen = sizeof *a;
    *a = (struct sockaddr_in){.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    bind(l, (struct sockaddr *)a, sizeof *a);
    listen(l, backlog);
    getsockname(l, (struct sockaddr *)a, &alen);
    return l;
}

/* "-ENAME" for a negative CQE result, the number otherwise. */
static __attribute__((unused)) const char *cqe_res(int res)
{
    static char buf[48];
    if (res < 0)
        snprintf(buf, sizeof buf, "-%s", uring_errname(-res));
    else
        snprintf(buf, sizeof buf, "%d", res);
    return buf;
}

/* CQEs whose user_data is at least UD_NEWFD carry a new file descriptor
 * (OPENAT, ACCEPT): printed as "fd", its number is not compared. */
#define UD_NEWFD 1000

static __attribute__((unused)) void print_cqe(const struct io_uring_cqe *c)
{
    const char *res = c->user_data >= UD_NEWFD && c->res >= 0 ? "fd" : cqe_res(c->res);
    printf("  cqe %llu %s flags %u\n", (unsigned long long)c->user_data, res, c->flags);
}

/* Reap the oldest CQE and print it: its result, or -1 (and "no CQE") if there is none. */
static __attribute__((unused)) int reap_one(struct ring *r)
{
    struct io_uring_cqe c;
    if (!ring_reap(r, &c)) {
        printf("  no CQE\n");
        return -1;
    }
    print_cqe(&c);
    return c.res;
}

static int cqe_cmp(const void *a, const void *b)
{
    const struct io_uring_cqe *x = a, *y = b;
    return x->user_data < y->user_data ? -1 : x->user_data > y->user_data;
}

#define MAX_CQES 64

/* Reap every CQE there is (up to MAX_CQES) into c, sort them by user_data if
 * `sorted` (for completions whose order Linux does not define), print them;
 * how many there were. */
static __attribute__((unused)) unsigned reap_print(struct ring *r, int sorted, struct io_uring_cqe *c)
{
    unsigned n = 0;
    while (n < MAX_CQES && ring_reap(r, &c[n]))
        n++;
    if (sorted)
        qsort(c, n, sizeof c[0], cqe_cmp);
    for (unsigned i = 0; i < n; i++)
        print_cqe(&c[i]);
    return n;
}

/* Reap and print every CQE there is, in the order the kernel posted them. */
static __attribute__((unused)) unsigned reap_all(struct ring *r)
{
    struct io_uring_cqe c[MAX_CQES];
    return reap_print(r, 0, c);
}

/* Print the CQEs there are, as reap_print, into c if not NULL, and say so
 * if there were not n. */
static __attribute__((unused)) void expect_cqes(struct ring *r, unsigned n, int sorted, struct io_uring_cqe *c)
{
    struct io_uring_cqe mine[MAX_CQES];
    unsigned got = reap_print(r, sorted, c ? c : mine);
    if (got != n)
        printf("  (%u CQEs, %u expected)\n", got, n);
}

/* Wait, submitting nothing, for n completions and print them. */
static __attribute__((unused)) void wait_print(struct ring *r, unsigned n, int sorted)
{
    if (ring_wait(r, n) < 0)
        printf("  wait %u: %s\n", n, uring_errname(errno));
    expect_cqes(r, n, sorted, NULL);
}

/* Submit the SQEs queued, waiting for n completions; print how many the
 * enter submitted and then the CQEs (kept in c if not NULL). */
static __attribute__((unused)) void ring_run_keep(struct ring *r, unsigned n, int sorted, struct io_uring_cqe *c)
{
    long submitted = ring_submit(r, n, n ? IORING_ENTER_GETEVENTS : 0);
    if (submitted < 0)
        printf("  submit: %s\n", uring_errname(errno));
    else
        printf("  submit: %ld\n", submitted);
    expect_cqes(r, n, sorted, c);
}

static __attribute__((unused)) void ring_run(struct ring *r, unsigned n, int sorted)
{
    ring_run_keep(r, n, sorted, NULL);
}

/* Print n bytes of buf, a dot for each byte that is no printable ASCII. */
static __attribute__((unused)) void show_buf(const char *what, const char *buf, size_t n)
{
    printf("  %s: \"", what);
    for (size_t i = 0; i < n; i++)
        putchar(buf[i] >= ' ' && buf[i] < 127 ? buf[i] : '.');
    printf("\"\n");
}

#endif
