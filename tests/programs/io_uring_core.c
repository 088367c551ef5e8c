/*
 * io_uring's core: io_uring_setup's parameters and errors, the mmap of the
 * rings, NOPs and the CQ ring's head and tail, READ/WRITE/READV/WRITEV on a
 * regular file (explicit offsets and the file position), a READ on a pipe
 * that completes later, io_uring_enter's errors, io_uring_register (probe,
 * files, buffers, eventfd) and a CQ overflow held by IORING_FEAT_NODROP.
 * Runs as root or as a user: the output is the same.
 */
#include "uring.h"
#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/wait.h>

/* The features the model honours: only these are compared. */
#define OURS (IORING_FEAT_SINGLE_MMAP | IORING_FEAT_NODROP | IORING_FEAT_SUBMIT_STABLE | \
              IORING_FEAT_RW_CUR_POS | IORING_FEAT_CUR_PERSONALITY | IORING_FEAT_FAST_POLL | \
              IORING_FEAT_POLL_32BITS | IORING_FEAT_EXT_ARG | IORING_FEAT_CQE_SKIP | \
              IORING_FEAT_LINKED_FILE)

static char dir[64];

/* -- 1. io_uring_setup ------------------------------------------------------- */

static void show_params(const struct io_uring_params *p)
{
    printf("  sq_entries %u cq_entries %u flags %#x sq_thread_cpu %u sq_thread_idle %u wq_fd %u"
           " resv %u %u %u features&OURS %#x\n",
           p->sq_entries, p->cq_entries, p->flags, p->sq_thread_cpu, p->sq_thread_idle, p->wq_fd,
           p->resv[0], p->resv[1], p->resv[2], p->features & OURS);
    const struct io_sqring_offsets *s = &p->sq_off;
    printf("  sq_off head %u tail %u ring_mask %u ring_entries %u flags %u dropped %u array %u"
           " resv1 %u resv2 %llu\n",
           s->head, s->tail, s->ring_mask, s->ring_entries, s->flags, s->dropped, s->array, s->resv1,
           (unsigned long long)s->resv2);
    const struct io_cqring_offsets *c = &p->cq_off;
    printf("  cq_off head %u tail %u ring_mask %u ring_entries %u overflow %u cqes %u flags %u"
           " resv1 %u resv2 %llu\n",
           c->head, c->tail, c->ring_mask, c->ring_entries, c->overflow, c->cqes, c->flags, c->resv1,
           (unsigned long long)c->resv2);
}

/* io_uring_setup(entries) with flags and cq_entries: its result, and the
 * entries it chose. */
static void try_setup(const char *what, unsigned entries, unsigned flags, unsigned cq_entries)
{
    struct io_uring_params p = {0};
    p.flags = flags;
    p.cq_entries = cq_entries;
    long fd = uring_setup(entries, &p);
    if (fd < 0) {
        printf("setup %s: %s\n", what, uring_errname(errno));
        return;
    }
    printf("setup %s: sq_entries %u cq_entries %u\n", what, p.sq_entries, p.cq_entries);
    close(fd);
}

static void setup(void)
{
    printf("== setup\n");
    struct io_uring_params p = {0};
    long fd = OK(uring_setup(4, &p));
    show_params(&p);
    close(fd);
    try_setup("5", 5, 0, 0);
    try_setup("1", 1, 0, 0);
    try_setup("4 CQSIZE 100", 4, IORING_SETUP_CQSIZE, 100);
    try_setup("4 CQSIZE 4", 4, IORING_SETUP_CQSIZE, 4);
    try_setup("4 CQSIZE 0", 4, IORING_SETUP_CQSIZE, 0);
    try_setup("4 CQSIZE 2", 4, IORING_SETUP_CQSIZE, 2);
    try_setup("4 CQSIZE 65537", 4, IORING_SETUP_CQSIZE, 65537);
    try_setup("4 CQSIZE|CLAMP 65537", 4, IORING_SETUP_CQSIZE | IORING_SETUP_CLAMP, 65537);
    try_setup("0", 0, 0, 0);
    try_setup("32768", 32768, 0, 0);
    try_setup("32769", 32769, 0, 0);
    try_setup("32769 CLAMP", 32769, IORING_SETUP_CLAMP, 0);
    try_setup("4 flag 1<<31", 4, 1U << 31, 0);
    struct io_uring_params q = {0};
    q.resv[1] = 1;
    SHOW(uring_setup(4, &q));
    SHOW(uring_setup(4, BADPTR));
    SHOW(uring_setup(4, NULL));
}

/* -- 2. mmap of the rings ---------------------------------------------------- */

static void show_map(const char *what, void *m)
{
    if (m == MAP_FAILED)
        printf("mmap %s: %s\n", what, uring_errname(errno));
    else
        printf("mmap %s: ok\n", what);
}

static void mapping(void)
{
    printf("== mmap\n");
    struct io_uring_params p = {0};
    int fd = uring_setup(4, &p);
    size_t sq_len = p.sq_off.array + p.sq_entries * 4;
    size_t cq_len = p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe);
    size_t len = sq_len > cq_len ? sq_len : cq_len;
    int prot = PROT_READ | PROT_WRITE;
    char *sq = mmap(NULL, len, prot, MAP_SHARED, fd, IORING_OFF_SQ_RING);
    show_map("SQ_RING", sq);
    char *cq = mmap(NULL, len, prot, MAP_SHARED, fd, IORING_OFF_CQ_RING);
    show_map("CQ_RING", cq);
    void *sqes = mmap(NULL, p.sq_entries * sizeof(struct io_uring_sqe), prot, MAP_SHARED, fd,
                      IORING_OFF_SQES);
    show_map("SQES", sqes);
    if (sq != MAP_FAILED && cq != MAP_FAILED) {
        unsigned *via_sq = RING_FIELD(sq, p.sq_off.array), *via_cq = RING_FIELD(cq, p.sq_off.array);
        *via_sq = 3;
        printf("  SINGLE_MMAP: written through SQ_RING, read through CQ_RING: %u\n", *via_cq);
        *via_cq = 0;
        printf("  and back: %u\n", *via_sq);
        printf("  ring_mask %u ring_entries %u (sq) %u %u (cq)\n", *RING_FIELD(sq, p.sq_off.ring_mask),
               *RING_FIELD(sq, p.sq_off.ring_entries), *RING_FIELD(cq, p.cq_off.ring_mask),
               *RING_FIELD(cq, p.cq_off.ring_entries));
    }
    show_map("offset 0x68000000", mmap(NULL, 4096, prot, MAP_SHARED, fd, 0x68000000));
    show_map("SQ_RING 1 MiB", mmap(NULL, 1 << 20, prot, MAP_SHARED, fd, IORING_OFF_SQ_RING));
    show_map("SQES 1 MiB", mmap(NULL, 1 << 20, prot, MAP_SHARED, fd, IORING_OFF_SQES));
    show_map("SQ_RING private", mmap(NULL, len, prot, MAP_PRIVATE, fd, IORING_OFF_SQ_RING));
    munmap(sq, len);
    munmap(cq, len);
    munmap(sqes, p.sq_entries * sizeof(struct io_uring_sqe));
    close(fd);
}

/* -- 3. NOP ------------------------------------------------------------------ */

static void show_cq(struct ring *r, const char *when)
{
    printf("  %s: cq head %u tail %u, sq head %u tail %u\n", when, *r->cq_head, *r->cq_tail, *r->sq_head,
           *r->sq_tail);
}

static void nops(void)
{
    printf("== nop\n");
    struct ring r;
    ring_must(&r, 8, 0, 0);
    show_cq(&r, "fresh");
    ring_prep(&r, IORING_OP_NOP, -1, NULL, 0, 0, 0x123456789abcdefULL);
    SHOW(ring_submit(&r, 1, IORING_ENTER_GETEVENTS));
    show_cq(&r, "one NOP");
    reap_all(&r);
    show_cq(&r, "reaped");
    for (uint64_t ud = 1; ud <= 3; ud++)
        ring_prep(&r, IORING_OP_NOP, -1, NULL, 0, 0, ud);
    SHOW(ring_submit(&r, 3, IORING_ENTER_GETEVENTS));
    show_cq(&r, "three NOPs");
    reap_all(&r);
    ring_prep(&r, IORING_OP_NOP, -1, NULL, 0, 0, UINT64_MAX);
    ring_prep(&r, IORING_OP_NOP, -1, NULL, 0, 0, 0);
    __atomic_store_n(r.sq_tail, r.sqe_tail, __ATOMIC_RELEASE);
    SHOW(uring_enter(r.fd, 8, 2, IORING_ENTER_GETEVENTS, NULL, 0));     /* asks for more than queued */
    reap_all(&r);
    SHOW(uring_enter(r.fd, 0, 0, IORING_ENTER_GETEVENTS, NULL, 0));
    SHOW(uring_enter(r.fd, 0, 0, 0, NULL, 0));
    show_cq(&r, "after");

    printf("-- an SQE Linux refuses ends the submission, and is counted\n");
    ring_prep(&r, IORING_OP_NOP, -1, NULL, 0, 0, 10);
    ring_prep(&r, 250, -1, NULL, 0, 0, 11);                      /* no such opcode */
    ring_prep(&r, IORING_OP_NOP, -1, NULL, 0, 0, 12);
    SHOW(ring_submit(&r, 2, IORING_ENTER_GETEVENTS));
    reap_all(&r);
    show_cq(&r, "refused opcode");
    SHOW(ring_submit(&r, 1, IORING_ENTER_GETEVENTS));
    reap_all(&r);
    ring_prep(&r, IORING_OP_NOP, -1, NULL, 0, 0, 13)->flags = 0x80;   /* no such SQE flag */
    ring_prep(&r, IORING_OP_NOP, -1, NULL, 0, 0, 14);
    SHOW(ring_submit(&r, 1, IORING_ENTER_GETEVENTS));
    reap_all(&r);
    SHOW(ring_submit(&r, 1, IORING_ENTER_GETEVENTS));
    reap_all(&r);
    ring_prep(&r, IORING_OP_NOP, -1, NULL, 0, 0, 15)->ioprio = 1;     /* a NOP takes no ioprio */
    SHOW(ring_submit(&r, 1, IORING_ENTER_GETEVENTS));
    reap_all(&r);
    show_cq(&r, "end");
    ring_free(&r);

    printf("-- IORING_SETUP_SUBMIT_ALL goes on after a refused SQE\n");
    ring_must(&r, 4, IORING_SETUP_SUBMIT_ALL, 0);
    ring_prep(&r, 250, -1, NULL, 0, 0, 20);
    ring_prep(&r, IORING_OP_NOP, -1, NULL, 0, 0, 21);
    SHOW(ring_submit(&r, 2, IORING_ENTER_GETEVENTS));
    reap_all(&r);
    ring_free(&r);
}

/* -- 4. READ/WRITE/READV/WRITEV on a regular file ------------------------------ */

/* Submit the SQEs queued, wait for n completions and print them in order. */
static void run(struct ring *r, unsigned n)
{
    ring_run(r, n, 0);
}

static void file_io(void)
{
    printf("== read and write\n");
    char path[128];
    snprintf(path, sizeof path, "%s/f", dir);
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
    struct ring r;
    ring_must(&r, 8, 0, 0);

    ring_prep(&r, IORING_OP_WRITE, fd, "hello world\n", 12, 0, 1);
    run(&r, 1);
    char buf[64] = {0};
    ring_prep(&r, IORING_OP_READ, fd, buf, 5, 6, 2);
    run(&r, 1);
    show_buf("read at 6", buf, 5);
    struct iovec wv[2] = {{"abc", 3}, {"defg", 4}};
    ring_prep(&r, IORING_OP_WRITEV, fd, wv, 2, 12, 3);
    run(&r, 1);
    char a[5], b[16];
    struct iovec rv[2] = {{a, sizeof a}, {b, sizeof b}};
    ring_prep(&r, IORING_OP_READV, fd, rv, 2, 0, 4);
    run(&r, 1);
    show_buf("readv iov0", a, 5);
    show_buf("readv iov1", b, 14);
    SHOW(lseek(fd, 0, SEEK_CUR));            /* explicit offsets leave the position alone */

    printf("-- offset -1: the file position, used and moved\n");
    SHOW(lseek(fd, 2, SEEK_SET));
    memset(buf, 0, sizeof buf);
    ring_prep(&r, IORING_OP_READ, fd, buf, 4, (uint64_t)-1, 5);
    run(&r, 1);
    show_buf("read at pos", buf, 4);
    SHOW(lseek(fd, 0, SEEK_CUR));
    ring_prep(&r, IORING_OP_WRITE, fd, "XY", 2, (uint64_t)-1, 6);
    run(&r, 1);
    SHOW(lseek(fd, 0, SEEK_CUR));
    struct iovec rv2[2] = {{a, 2}, {b, 3}};
    ring_prep(&r, IORING_OP_READV, fd, rv2, 2, (uint64_t)-1, 7);
    run(&r, 1);
    show_buf("readv at pos iov0", a, 2);
    show_buf("readv at pos iov1", b, 3);
    SHOW(lseek(fd, 0, SEEK_CUR));
    struct iovec wv2[1] = {{"!", 1}};
    ring_prep(&r, IORING_OP_WRITEV, fd, wv2, 1, (uint64_t)-1, 8);
    run(&r, 1);
    SHOW(lseek(fd, 0, SEEK_CUR));
    memset(buf, 0, sizeof buf);
    SHOW(pread(fd, buf, sizeof buf, 0));
    show_buf("file", buf, 19);

    printf("-- end of file\n");
    ring_prep(&r, IORING_OP_READ, fd, buf, 100, 15, 9);
    ring_prep(&r, IORING_OP_READ, fd, buf, 100, 19, 10);
    ring_prep(&r, IORING_OP_READ, fd, buf, 100, 1000, 11);
    ring_run(&r, 3, 1);                           /* independent reads: sorted */
    SHOW(lseek(fd, 0, SEEK_END));
    ring_prep(&r, IORING_OP_READ, fd, buf, 10, (uint64_t)-1, 12);
    run(&r, 1);

    printf("-- errors come in the CQE; the enter counts the SQE\n");
    int wo = open(path, O_WRONLY);
    int rdonly = open(path, O_RDONLY);
    ring_prep(&r, IORING_OP_READ, BADFD, buf, 4, 0, 20);
    run(&r, 1);
    ring_prep(&r, IORING_OP_READ, wo, buf, 4, 0, 21);
    run(&r, 1);
    ring_prep(&r, IORING_OP_WRITE, rdonly, "z", 1, 0, 22);
    run(&r, 1);
    ring_prep(&r, IORING_OP_READ, fd, BADPTR, 4, 0, 23);
    run(&r, 1);
    ring_prep(&r, IORING_OP_WRITE, fd, BADPTR, 4, 0, 24);
    run(&r, 1);
    ring_prep(&r, IORING_OP_READV, fd, BADPTR, 1, 0, 25);
    run(&r, 1);
    ring_prep(&r, IORING_OP_READ, fd, buf, 4, (uint64_t)-2, 26);
    run(&r, 1);
    ring_prep(&r, IORING_OP_READ, -1, buf, 4, 0, 27);
    run(&r, 1);
    int d = open(dir, O_RDONLY | O_DIRECTORY);
    ring_prep(&r, IORING_OP_READ, d, buf, 4, 0, 28);
    run(&r, 1);
    close(d);
    SHOW(lseek(fd, 0, SEEK_CUR));
    close(wo);
    close(rdonly);
    close(fd);
    unlink(path);
    ring_free(&r);
}

/* -- 5. a READ on an empty pipe completes when data comes ------------------------ */

static void pipe_read(void)
{
    printf("== pipe read\n");
    struct ring r;
    ring_must(&r, 4, 0, 0);
    int p[2];
    pipe(p);
    char buf[16] = {0};
    ring_prep(&r, IORING_OP_READ, p[0], buf, sizeof buf, 0, 1);
    SHOW(ring_submit(&r, 0, 0));
    printf("  ready after submit: %u\n", ring_ready(&r));
    SHOW(write(p[1], "data", 4));
    SHOW(ring_wait(&r, 1));
    reap_all(&r);
    show_buf("read", buf, 4);

    printf("-- a blocking enter waits for it\n");
    ring_prep(&r, IORING_OP_READ, p[0], buf, sizeof buf, 0, 2);
    SHOW(ring_submit(&r, 0, 0));
    if (fork() == 0) {
        usleep(20000);
        write(p[1], "later", 5);
        _exit(0);
    }
    SHOW(ring_wait(&r, 1));
    reap_all(&r);
    show_buf("read", buf, 5);
    wait(NULL);
    close(p[0]);
    close(p[1]);
    ring_free(&r);
}

/* -- 6. io_uring_enter's errors -------------------------------------------------- */

static void enter_errors(void)
{
    printf("== enter errors\n");
    struct ring r;
    ring_must(&r, 4, 0, 0);
    int p[2];
    pipe(p);
    SHOW(uring_enter(BADFD, 0, 0, 0, NULL, 0));
    SHOW(uring_enter(-1, 0, 0, 0, NULL, 0));
    SHOW(uring_enter(p[0], 0, 0, 0, NULL, 0));
    SHOW(uring_enter(r.fd, 0, 0, 1U << 31, NULL, 0));
    SHOW(uring_enter(r.fd, 0, 0, IORING_ENTER_SQ_WAKEUP, NULL, 0));   /* no SQPOLL: ignored */

    printf("-- EXT_ARG\n");
    struct __kernel_timespec ts = {0, 10 * 1000 * 1000};
    struct io_uring_getevents_arg arg = {0};
    arg.ts = (uintptr_t)&ts;
    SHOW(uring_enter(r.fd, 0, 1, IORING_ENTER_GETEVENTS | IORING_ENTER_EXT_ARG, &arg, sizeof arg));
    printf("  ready: %u\n", ring_ready(&r));
    SHOW(uring_enter(r.fd, 0, 1, IORING_ENTER_GETEVENTS | IORING_ENTER_EXT_ARG, &arg, sizeof arg - 1));
    SHOW(uring_enter(r.fd, 0, 1, IORING_ENTER_GETEVENTS | IORING_ENTER_EXT_ARG, BADPTR, sizeof arg));
    arg.ts = (uintptr_t)BADPTR;
    SHOW(uring_enter(r.fd, 0, 1, IORING_ENTER_GETEVENTS | IORING_ENTER_EXT_ARG, &arg, sizeof arg));
    arg.ts = (uintptr_t)&ts;
    ts.tv_nsec = 1000000000;
    SHOW(uring_enter(r.fd, 0, 1, IORING_ENTER_GETEVENTS | IORING_ENTER_EXT_ARG, &arg, sizeof arg));
    ts.tv_nsec = 10 * 1000 * 1000;
    sigset_t mask;
    sigemptyset(&mask);
    arg.sigmask = (uintptr_t)&mask;
    arg.sigmask_sz = 4;
    SHOW(uring_enter(r.fd, 0, 1, IORING_ENTER_GETEVENTS | IORING_ENTER_EXT_ARG, &arg, sizeof arg));
    arg.sigmask_sz = 8;
    SHOW(uring_enter(r.fd, 0, 1, IORING_ENTER_GETEVENTS | IORING_ENTER_EXT_ARG, &arg, sizeof arg));
    arg.ts = 0;                                             /* a NOP completes: no timeout needed */
    ring_prep(&r, IORING_OP_NOP, -1, NULL, 0, 0, 1);
    __atomic_store_n(r.sq_tail, r.sqe_tail, __ATOMIC_RELEASE);
    SHOW(uring_enter(r.fd, 1, 1, IORING_ENTER_GETEVENTS | IORING_ENTER_EXT_ARG, &arg, sizeof arg));
    reap_all(&r);

    printf("-- a plain sigmask argument\n");
    SHOW(uring_enter(r.fd, 0, 1, IORING_ENTER_GETEVENTS, &mask, 4));
    SHOW(uring_enter(r.fd, 0, 1, IORING_ENTER_GETEVENTS, BADPTR, 8));

    close(p[0]);
    close(p[1]);
    int fd = r.fd;
    ring_free(&r);
    SHOW(uring_enter(fd, 0, 0, 0, NULL, 0));
}

/* -- 7. io_uring_register ---------------------------------------------------- */

static const struct { int op; const char *name; } probed[] = {
    {IORING_OP_NOP, "NOP"}, {IORING_OP_READV, "READV"}, {IORING_OP_WRITEV, "WRITEV"},
    {IORING_OP_FSYNC, "FSYNC"}, {IORING_OP_READ_FIXED, "READ_FIXED"},
    {IORING_OP_WRITE_FIXED, "WRITE_FIXED"}, {IORING_OP_POLL_ADD, "POLL_ADD"},
    {IORING_OP_POLL_REMOVE, "POLL_REMOVE"}, {IORING_OP_TIMEOUT, "TIMEOUT"},
    {IORING_OP_TIMEOUT_REMOVE, "TIMEOUT_REMOVE"}, {IORING_OP_ACCEPT, "ACCEPT"},
    {IORING_OP_ASYNC_CANCEL, "ASYNC_CANCEL"}, {IORING_OP_LINK_TIMEOUT, "LINK_TIMEOUT"},
    {IORING_OP_CONNECT, "CONNECT"}, {IORING_OP_FALLOCATE, "FALLOCATE"},
    {IORING_OP_OPENAT, "OPENAT"}, {IORING_OP_CLOSE, "CLOSE"}, {IORING_OP_STATX, "STATX"},
    {IORING_OP_READ, "READ"}, {IORING_OP_WRITE, "WRITE"}, {IORING_OP_SEND, "SEND"},
    {IORING_OP_RECV, "RECV"}, {IORING_OP_RENAMEAT, "RENAMEAT"}, {IORING_OP_UNLINKAT, "UNLINKAT"},
    {IORING_OP_MKDIRAT, "MKDIRAT"}, {IORING_OP_SYMLINKAT, "SYMLINKAT"},
    {IORING_OP_LINKAT, "LINKAT"}, {OP_FTRUNCATE, "FTRUNCATE"},
};

static void probe(int ring)
{
    size_t size = sizeof(struct io_uring_probe) + 256 * sizeof(struct io_uring_probe_op);
    struct io_uring_probe *pr = calloc(1, size);
    SHOW(uring_register(ring, IORING_REGISTER_PROBE, pr, 256));
    printf("  last_op >= IORING_OP_READ: %s\n", pr->last_op >= IORING_OP_READ ? "yes" : "no");
    printf("  ops_len == last_op + 1: %s\n", pr->ops_len == pr->last_op + 1 ? "yes" : "no");
    for (size_t i = 0; i < sizeof probed / sizeof probed[0]; i++) {
        int op = probed[i].op;
        int ok = op < pr->ops_len && pr->ops[op].op == op && (pr->ops[op].flags & IO_URING_OP_SUPPORTED);
        printf("  %s %s\n", probed[i].name, ok ? "supported" : "NOT supported");
    }
    memset(pr, 0, size);
    SHOW(uring_register(ring, IORING_REGISTER_PROBE, pr, 4));
    printf("  ops_len %u, op 3 %u flags %u, op 4 resv %u\n", pr->ops_len, pr->ops[3].op, pr->ops[3].flags,
           pr->ops[4].op + pr->ops[4].flags);
    pr->resv = 1;                                       /* a probe must come zeroed */
    SHOW(uring_register(ring, IORING_REGISTER_PROBE, pr, 4));
    memset(pr, 0, size);
    pr->ops[1].resv2 = 1;
    SHOW(uring_register(ring, IORING_REGISTER_PROBE, pr, 4));
    SHOW(uring_register(ring, IORING_REGISTER_PROBE, BADPTR, 4));
    free(pr);
}

static void fixed_files(struct ring *r, int fd)
{
    printf("-- registered files\n");
    char buf[16] = {0};
    int fds[3] = {-1, fd, -1};
    SHOW(uring_register(r->fd, IORING_UNREGISTER_FILES, NULL, 0));
    SHOW(uring_register(r->fd, IORING_REGISTER_FILES, fds, 3));
    SHOW(uring_register(r->fd, IORING_REGISTER_FILES, fds, 3));
    ring_prep(r, IORING_OP_READ, 1, buf, 5, 0, 1)->flags = IOSQE_FIXED_FILE;
    run(r, 1);
    show_buf("fixed read", buf, 5);
    ring_prep(r, IORING_OP_READ, 0, buf, 5, 0, 2)->flags = IOSQE_FIXED_FILE;     /* an empty slot */
    run(r, 1);
    ring_prep(r, IORING_OP_READ, 3, buf, 5, 0, 3)->flags = IOSQE_FIXED_FILE;     /* past the table */
    run(r, 1);
    SHOW(uring_register(r->fd, IORING_UNREGISTER_FILES, NULL, 0));
    ring_prep(r, IORING_OP_READ, 1, buf, 5, 0, 4)->flags = IOSQE_FIXED_FILE;
    run(r, 1);
    SHOW(uring_register(r->fd, IORING_UNREGISTER_FILES, NULL, 0));
    SHOW(uring_register(r->fd, IORING_REGISTER_FILES, fds, 0));
    SHOW(uring_register(r->fd, IORING_REGISTER_FILES, BADPTR, 2));
    int bad[1] = {BADFD};
    SHOW(uring_register(r->fd, IORING_REGISTER_FILES, bad, 1));
    int self[1] = {r->fd};
    SHOW(uring_register(r->fd, IORING_REGISTER_FILES, self, 1));
}

static void fixed_buffers(struct ring *r, int fd)
{
    printf("-- registered buffers\n");
    static char b0[4096] __attribute__((aligned(4096))), b1[4096] __attribute__((aligned(4096)));
    struct iovec iov[2] = {{b0, sizeof b0}, {b1, 100}};
    SHOW(uring_register(r->fd, IORING_UNREGISTER_BUFFERS, NULL, 0));
    SHOW(uring_register(r->fd, IORING_REGISTER_BUFFERS, iov, 2));
    SHOW(uring_register(r->fd, IORING_REGISTER_BUFFERS, iov, 2));
    memcpy(b1, "FIXED", 5);
    struct io_uring_sqe *sqe = ring_prep(r, IORING_OP_WRITE_FIXED, fd, b1, 5, 20, 1);
    sqe->buf_index = 1;
    run(r, 1);
    sqe = ring_prep(r, IORING_OP_READ_FIXED, fd, b0 + 100, 30, 0, 2);
    run(r, 1);
    show_buf("read fixed", b0 + 100, 25);
    sqe = ring_prep(r, IORING_OP_READ_FIXED, fd, b1 + 90, 20, 0, 3);          /* runs past buffer 1 */
    sqe->buf_index = 1;
    run(r, 1);
    sqe = ring_prep(r, IORING_OP_READ_FIXED, fd, b0 + 4096, 1, 0, 4);          /* just after buffer 0 */
    run(r, 1);
    sqe = ring_prep(r, IORING_OP_READ_FIXED, fd, b0, 10, 0, 5);                 /* no buffer 2 */
    sqe->buf_index = 2;
    run(r, 1);
    sqe = ring_prep(r, IORING_OP_READ_FIXED, fd, b1, 100, 0, 6);                /* all of buffer 1 */
    sqe->buf_index = 1;
    run(r, 1);
    SHOW(uring_register(r->fd, IORING_UNREGISTER_BUFFERS, NULL, 0));
    sqe = ring_prep(r, IORING_OP_READ_FIXED, fd, b0, 10, 0, 7);
    run(r, 1);
    SHOW(uring_register(r->fd, IORING_REGISTER_BUFFERS, BADPTR, 1));
    struct iovec empty[1] = {{b0, 0}};
    SHOW(uring_register(r->fd, IORING_REGISTER_BUFFERS, empty, 1));
    SHOW(uring_register(r->fd, IORING_REGISTER_BUFFERS, iov, 0));
}

static void show_eventfd(int efd)
{
    uint64_t v = 0;
    if (read(efd, &v, sizeof v) < 0)
        printf("  eventfd: %s\n", uring_errname(errno));
    else
        printf("  eventfd: %llu\n", (unsigned long long)v);
}

static void eventfd_notify(struct ring *r)
{
    printf("-- registered eventfd\n");
    int efd = eventfd(0, EFD_NONBLOCK);
    SHOW(uring_register(r->fd, IORING_UNREGISTER_EVENTFD, NULL, 0));
    SHOW(uring_register(r->fd, IORING_REGISTER_EVENTFD, &efd, 1));
    SHOW(uring_register(r->fd, IORING_REGISTER_EVENTFD, &efd, 1));
    show_eventfd(efd);
    for (int i = 0; i < 3; i++) {
        ring_prep(r, IORING_OP_NOP, -1, NULL, 0, 0, 100 + i);
        ring_submit(r, 1, IORING_ENTER_GETEVENTS);
    }
    reap_all(r);
    printf("  after three enters of one NOP each:\n");
    show_eventfd(efd);
    SHOW(uring_register(r->fd, IORING_UNREGISTER_EVENTFD, NULL, 0));
    ring_prep(r, IORING_OP_NOP, -1, NULL, 0, 0, 110);
    ring_submit(r, 1, IORING_ENTER_GETEVENTS);
    reap_all(r);
    printf("  after unregistering:\n");
    show_eventfd(efd);
    int bad = BADFD;
    SHOW(uring_register(r->fd, IORING_REGISTER_EVENTFD, &bad, 1));
    SHOW(uring_register(r->fd, IORING_REGISTER_EVENTFD, &efd, 2));
    SHOW(uring_register(r->fd, IORING_REGISTER_EVENTFD, BADPTR, 1));
    int notev = r->fd;
    SHOW(uring_register(r->fd, IORING_REGISTER_EVENTFD, &notev, 1));
    close(efd);
}

static void registering(void)
{
    printf("== register\n");
    char path[128];
    snprintf(path, sizeof path, "%s/reg", dir);
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
    write(fd, "registered file contents", 24);
    struct ring r;
    ring_must(&r, 4, 0, 0);
    probe(r.fd);
    fixed_files(&r, fd);
    fixed_buffers(&r, fd);
    eventfd_notify(&r);
    printf("-- bad calls\n");
    SHOW(uring_register(r.fd, 9999, NULL, 0));
    SHOW(uring_register(r.fd, 255, NULL, 0));
    SHOW(uring_register(BADFD, IORING_REGISTER_PROBE, NULL, 0));
    SHOW(uring_register(fd, IORING_UNREGISTER_FILES, NULL, 0));
    close(fd);
    unlink(path);
    ring_free(&r);
}

/* -- 8. CQ overflow ---------------------------------------------------------- */

static void overflow(void)
{
    printf("== overflow\n");
    struct ring r;
    ring_must(&r, 2, IORING_SETUP_CQSIZE, 2);
    printf("  sq_entries %u cq_entries %u\n", r.p.sq_entries, r.p.cq_entries);
    for (uint64_t ud = 1; ud <= 2; ud++)
        ring_prep(&r, IORING_OP_NOP, -1, NULL, 0, 0, ud);
    SHOW(ring_submit(&r, 0, 0));
    for (uint64_t ud = 3; ud <= 4; ud++)
        ring_prep(&r, IORING_OP_NOP, -1, NULL, 0, 0, ud);
    SHOW(ring_submit(&r, 0, 0));
    printf("  ready %u, SQ flags CQ_OVERFLOW %s, cq overflow %u\n", ring_ready(&r),
           *r.sq_flags & IORING_SQ_CQ_OVERFLOW ? "yes" : "no", *r.cq_overflow);
    reap_all(&r);
    printf("  ready %u, SQ flags CQ_OVERFLOW %s\n", ring_ready(&r),
           *r.sq_flags & IORING_SQ_CQ_OVERFLOW ? "yes" : "no");
    SHOW(uring_enter(r.fd, 0, 0, IORING_ENTER_GETEVENTS, NULL, 0));
    printf("  ready %u, SQ flags CQ_OVERFLOW %s\n", ring_ready(&r),
           *r.sq_flags & IORING_SQ_CQ_OVERFLOW ? "yes" : "no");
    reap_all(&r);
    printf("  ready %u, cq overflow %u\n", ring_ready(&r), *r.cq_overflow);
    show_cq(&r, "end");
    ring_free(&r);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    umask(022);
    strcpy(dir, "/tmp/io_uring_core.XXXXXX");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    setup();
    mapping();
    nops();
    file_io();
    pipe_read();
    enter_errors();
    registering();
    overflow();
    rmdir(dir);
    return 0;
}
