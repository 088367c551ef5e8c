/*
 * A hostile io_uring program, judged from the host side (the supervisor must
 * end with this program's exit status, in bounded time, without a handler
 * crashing): with its rings mapped it
 *   (a) queues garbage SQ indices and SQ tails and enters with huge to_submit
 *       and min_complete values;
 *   (b) has a second thread rewrite SQE bytes, SQ indices, the SQ tail and the
 *       CQ head in a tight loop while the first thread enters again and again;
 *   (c) puts bad pointers (unmapped, kernel, PROT_NONE, straddling the end of
 *       a mapping) in each SQE field that is a pointer, for every opcode;
 *   (d) registers 1024 buffers with bad addresses (and other bad tables);
 *   (e) submits 20000 POLL_ADDs on a pipe that never becomes ready, more than
 *       the SQ holds, in several enters;
 * then exits with HOSTILE_STATUS, leaving all of it in flight.
 *
 * What each call returns races with the other thread, so nothing is printed
 * but a line per part: the program needs no comparison of its output.
 */
#include "uring.h"
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <dirent.h>
#include <time.h>

#define HOSTILE_STATUS 7

static struct ring r;
static volatile int stop;
static char tmpdir[64];
static int dirfd_, file_fd, devnull, pipe_r, pipe_w, sock[2];
static char *scratch;                   /* a valid page whose bytes read as "x\0..." */
static char *straddle;                  /* the last 2 bytes of a mapping, unmapped after */
static char *noaccess;                  /* a PROT_NONE page */

static uint64_t rnd(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *s = x;
}

static void *bad_ptrs[5];

static void setup_memory(void)
{
    char *two = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    munmap(two + 4096, 4096);
    straddle = two + 4096 - 2;
    noaccess = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    scratch = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    scratch[0] = 'x';
    bad_ptrs[0] = BADPTR;
    bad_ptrs[1] = (void *)0xffff800000000000ULL;     /* the kernel's half */
    bad_ptrs[2] = noaccess;
    bad_ptrs[3] = straddle;
    bad_ptrs[4] = (void *)0x00007ffffffff000ULL;     /* the top user page, unmapped */
}

static void setup_files(void)
{
    strcpy(tmpdir, "/tmp/io_uring_hostile.XXXXXX");
    if (!mkdtemp(tmpdir))
        exit(2);
    dirfd_ = open(tmpdir, O_RDONLY | O_DIRECTORY);
    file_fd = openat(dirfd_, "f", O_CREAT | O_RDWR, 0600);
    write(file_fd, "some data", 9);
    devnull = open("/dev/null", O_RDWR);
    int p[2];
    pipe(p);
    pipe_r = p[0];
    pipe_w = p[1];                       /* never written: pipe_r never becomes ready */
    socketpair(AF_UNIX, SOCK_STREAM, 0, sock);
    write(sock[1], "queued", 6);
}

/* Make the CQ empty again, whatever its head says. */
static void drain_cq(void)
{
    __atomic_store_n(r.cq_head, __atomic_load_n(r.cq_tail, __ATOMIC_ACQUIRE), __ATOMIC_RELEASE);
}

/* -- (a) ------------------------------------------------------------------------ */

static void garbage_indices(void)
{
    uint64_t s = 0x1234567;
    unsigned entries = r.p.sq_entries;
    for (int round = 0; round < 300; round++) {
        for (unsigned i = 0; i < entries; i++) {
            unsigned v = rnd(&s);
            r.sq_array[i] = (v & 3) ? v : v % entries;   /* mostly out of range */
        }
        *r.sq_tail = (round & 1) ? (unsigned)rnd(&s) : *r.sq_head + entries * 3;
        uring_enter(r.fd, 0xFFFFFFFFu, 0, 0, NULL, 0);
        uring_enter(r.fd, 0x7FFFFFFFu, 0xFFFFFFFFu, 0, NULL, 0);     /* no GETEVENTS: no wait */
        struct __kernel_timespec ts = {0, 1000};
        struct io_uring_getevents_arg arg = {.ts = (uintptr_t)&ts};
        uring_enter(r.fd, 0xFFFFFFFFu, 0xFFFFFFFFu, IORING_ENTER_GETEVENTS | IORING_ENTER_EXT_ARG, &arg,
                    sizeof arg);
        uring_enter(r.fd, 1, 1, IORING_ENTER_GETEVENTS | IORING_ENTER_EXT_ARG, BADPTR, sizeof arg);
        uring_enter(r.fd, 1, 1, IORING_ENTER_GETEVENTS | IORING_ENTER_EXT_ARG, &arg, 1u << 31);
        arg.ts = (uintptr_t)BADPTR;
        uring_enter(r.fd, 1, 1, IORING_ENTER_GETEVENTS | IORING_ENTER_EXT_ARG, &arg, sizeof arg);
        arg.ts = (uintptr_t)&ts;
        arg.sigmask = (uintptr_t)straddle;
        arg.sigmask_sz = 8;
        uring_enter(r.fd, 1, 1, IORING_ENTER_GETEVENTS | IORING_ENTER_EXT_ARG, &arg, sizeof arg);
        uring_enter(r.fd, 1, 1, IORING_ENTER_GETEVENTS, straddle, 8);     /* a bad sigmask */
        uring_enter(r.fd, 1, 0, 0xFFFFFFFFu, NULL, 0);                    /* every flag */
        drain_cq();
    }
    printf("(a) garbage indices and counts: done\n");
}

/* -- (b) ------------------------------------------------------------------------ */

static void *scribbler(void *unused)
{
    (void)unused;
    uint64_t s = 0xdeadbeefcafe;
    unsigned entries = r.p.sq_entries;
    int fds[] = {-1, file_fd, devnull, pipe_r, sock[0], dirfd_, 0x7fffffff};
    while (!stop) {
        unsigned idx = rnd(&s) % entries;
        union { struct io_uring_sqe sqe; uint64_t q[8]; } u;
        for (int i = 0; i < 8; i++)
            u.q[i] = rnd(&s);
        uint64_t how = rnd(&s);
        if (how & 1)
            u.sqe.opcode %= 64;                     /* mostly an opcode that exists */
        if (how & 2)
            u.sqe.fd = fds[(how >> 8) % (sizeof fds / sizeof fds[0])];
        if (how & 4)
            u.sqe.flags &= IOSQE_IO_LINK | IOSQE_IO_HARDLINK | IOSQE_ASYNC | IOSQE_CQE_SKIP_SUCCESS;
        if (how & 8)
            u.sqe.len &= 0xffff;
        /* word by word: opcode and fd share the first, so a torn SQE keeps that rule */
        uint64_t *q = (uint64_t *)&r.sqes[idx];
        for (int i = 0; i < 8; i++)
            __atomic_store_n(&q[i], u.q[i], __ATOMIC_RELAXED);
        r.sq_array[rnd(&s) % entries] = (how & 16) ? (unsigned)rnd(&s) : idx;
        __atomic_store_n(r.sq_tail, (unsigned)rnd(&s), __ATOMIC_RELAXED);
        if ((how & 0x3f0000) == 0)
            __atomic_store_n(r.cq_head, (unsigned)rnd(&s), __ATOMIC_RELAXED);
    }
    return NULL;
}

static void racing_rewrites(void)
{
    pthread_t t;
    pthread_create(&t, NULL, scribbler, NULL);
    for (int i = 0; i < 400; i++) {
        uring_enter(r.fd, 0xFFFFFFFFu, 0, 0, NULL, 0);
        if (i % 8 == 0) {
            struct __kernel_timespec ts = {0, 100000};
            struct io_uring_getevents_arg arg = {.ts = (uintptr_t)&ts};
            uring_enter(r.fd, 0xFFFFFFFFu, 1, IORING_ENTER_GETEVENTS | IORING_ENTER_EXT_ARG, &arg, sizeof arg);
        }
        drain_cq();
    }
    stop = 1;
    pthread_join(t, NULL);
    printf("(b) racing rewrites: done\n");
}

/* -- (c) ------------------------------------------------------------------------ */

/* Queue one SQE and submit it at once; reap what is there. */
static void submit_one(int op, int fd, uint64_t addr, uint64_t off, uint64_t addr3, unsigned len, unsigned op_flags)
{
    struct io_uring_sqe *sqe = ring_sqe(&r);
    if (!sqe) {
        ring_submit(&r, 0, 0);
        drain_cq();
        sqe = ring_sqe(&r);
        if (!sqe)
            return;
    }
    sqe->opcode = op;
    sqe->fd = fd;
    sqe->addr = addr;
    sqe->off = off;
    sqe->addr3 = addr3;
    sqe->len = len;
    sqe->rw_flags = op_flags;
    sqe->user_data = op;
    ring_submit(&r, 0, 0);
    drain_cq();
}

static void bad_pointers(void)
{
    /* the ring again from scratch: (b) left its indices and tails in any state */
    ring_free(&r);
    if (ring_init(&r, 64, IORING_SETUP_SUBMIT_ALL, 0) < 0)
        exit(3);
    int fds[] = {file_fd, dirfd_, sock[0], devnull};
    struct iovec bad_iovs[3] = {{BADPTR, 100}, {scratch, (size_t)1 << 40}, {straddle, 4096}};
    struct msghdr bad_msg = {.msg_name = BADPTR, .msg_namelen = 16, .msg_iov = bad_iovs, .msg_iovlen = 3,
                             .msg_control = straddle, .msg_controllen = 4096};
    uint64_t good = (uintptr_t)scratch;
    for (int op = 0; op < 64; op++) {
        for (size_t f = 0; f < sizeof fds / sizeof fds[0]; f++) {
            for (size_t b = 0; b < sizeof bad_ptrs / sizeof bad_ptrs[0]; b++) {
                uint64_t bad = (uintptr_t)bad_ptrs[b];
                submit_one(op, fds[f], bad, bad, bad, 4096, 0);           /* all of them bad */
                submit_one(op, fds[f], bad, good, good, 16, 0);           /* one at a time */
                submit_one(op, fds[f], good, bad, good, 16, 0);
                submit_one(op, fds[f], good, good, bad, 16, 0);
            }
            submit_one(op, fds[f], (uintptr_t)bad_iovs, 0, 0, 3, 0);             /* bad iovecs */
            submit_one(op, fds[f], (uintptr_t)bad_iovs, 0, 0, 1u << 20, 0);
            submit_one(op, fds[f], (uintptr_t)&bad_msg, 0, 0, 1, 0);             /* a bad msghdr */
        }
    }
    /* the memory the ring itself is mapped at, as a buffer */
    submit_one(IORING_OP_READ, file_fd, (uintptr_t)r.sqes, 0, 0, 4096, 0);
    submit_one(IORING_OP_READ, sock[0], (uintptr_t)r.sq_ptr, 0, 0, 4096, 0);
    printf("(c) bad pointers: done\n");
}

/* -- (d) ------------------------------------------------------------------------ */

static void bad_buffers(void)
{
    static struct iovec iovs[1024];
    for (int i = 0; i < 1024; i++) {
        iovs[i].iov_base = bad_ptrs[i % 5];
        iovs[i].iov_len = (i % 3 == 0) ? 4096 : (size_t)1 << (20 + i % 12);
    }
    uring_register(r.fd, IORING_REGISTER_BUFFERS, iovs, 1024);
    for (int i = 0; i < 1023; i++) {
        iovs[i].iov_base = scratch;
        iovs[i].iov_len = 4096;
    }
    iovs[1023].iov_base = straddle;                           /* only the last one bad */
    uring_register(r.fd, IORING_REGISTER_BUFFERS, iovs, 1024);
    uring_register(r.fd, IORING_REGISTER_BUFFERS, straddle, 1024);
    uring_register(r.fd, IORING_REGISTER_BUFFERS, iovs, 0xFFFFFFFFu);
    uring_register(r.fd, IORING_REGISTER_BUFFERS, iovs, 1u << 14);
    static int fds[1024];
    for (int i = 0; i < 1024; i++)
        fds[i] = (i % 2) ? 100000 + i : -7;
    uring_register(r.fd, IORING_REGISTER_FILES, fds, 1024);
    uring_register(r.fd, IORING_REGISTER_FILES, straddle, 1024);
    uring_register(r.fd, IORING_REGISTER_FILES, fds, 0xFFFFFFFFu);
    for (unsigned op = 0; op < 64; op++)
        uring_register(r.fd, op, straddle, 1024);
    uring_register(r.fd, IORING_UNREGISTER_BUFFERS, NULL, 0);
    uring_register(r.fd, IORING_UNREGISTER_FILES, NULL, 0);
    /* fixed reads and writes through whatever was registered */
    for (unsigned i = 0; i < 64; i++) {
        struct io_uring_sqe *sqe = ring_sqe(&r);
        if (!sqe)
            break;
        sqe->opcode = (i & 1) ? IORING_OP_WRITE_FIXED : IORING_OP_READ_FIXED;
        sqe->fd = file_fd;
        sqe->addr = (uintptr_t)bad_ptrs[i % 5];
        sqe->len = 4096;
        sqe->buf_index = i * 17;
    }
    ring_submit(&r, 0, 0);
    drain_cq();
    printf("(d) bad buffers: done\n");
}

/* -- (e) ------------------------------------------------------------------------ */

static void many_polls(void)
{
    unsigned queued = 0;
    while (queued < 20000) {
        struct io_uring_sqe *sqe = ring_sqe(&r);
        if (!sqe) {
            ring_submit(&r, 0, 0);
            drain_cq();
            continue;
        }
        sqe->opcode = IORING_OP_POLL_ADD;
        sqe->fd = pipe_r;
        sqe->poll32_events = POLLIN;
        sqe->user_data = queued++;
    }
    ring_submit(&r, 0, 0);
    struct __kernel_timespec ts = {0, 1000000};
    struct io_uring_getevents_arg arg = {.ts = (uintptr_t)&ts};
    uring_enter(r.fd, 0, 1, IORING_ENTER_GETEVENTS | IORING_ENTER_EXT_ARG, &arg, sizeof arg);
    printf("(e) 20000 polls in flight: %u CQEs\n", ring_ready(&r));
}

/* Empty the directory dfd (the SQEs made files, links and directories of any
 * mode and name there). */
static void remove_tree(int dfd)
{
    int again = dup(dfd);
    DIR *d = fdopendir(again);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        if (unlinkat(dfd, e->d_name, 0) == 0)
            continue;
        fchmodat(dfd, e->d_name, 0700, 0);
        int sub = openat(dfd, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
        if (sub >= 0) {
            remove_tree(sub);
            close(sub);
        }
        unlinkat(dfd, e->d_name, AT_REMOVEDIR);
    }
    closedir(d);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    setup_memory();
    setup_files();
    if (ring_init(&r, 64, 0, 0) < 0) {
        printf("io_uring_setup: %s\n", uring_errname(errno));
        return 1;
    }
    garbage_indices();
    racing_rewrites();
    bad_pointers();
    bad_buffers();
    many_polls();
    /* leave everything in flight; clean up what the SQEs made in the directory */
    remove_tree(dirfd_);
    rmdir(tmpdir);
    return HOSTILE_STATUS;
}
