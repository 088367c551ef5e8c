/*
 * io_uring's remaining operations, each checked by its CQE and by its effect
 * seen through the plain system calls: SYNC_FILE_RANGE, SENDMSG/RECVMSG
 * (SCM_RIGHTS, MSG_TRUNC, MSG_CTRUNC), FADVISE, OPENAT2 (RESOLVE_*, the size
 * of struct open_how), EPOLL_CTL, SPLICE and TEE (offsets given as values,
 * SPLICE_F_FD_IN_FIXED), SHUTDOWN, SOCKET; then RWF_NOWAIT, IOSQE_ASYNC,
 * REGISTER_FILES_UPDATE, ASYNC_CANCEL's ANY/ALL/FD, POLL_ADD on an eventfd
 * and on a TCP socket, a READ of a TCP socket that a forked child writes
 * later, and the ring's heads and tails in /proc/self/fdinfo.
 *
 * CQEs are printed in the order Linux posts them where that order is
 * defined, sorted by user_data elsewhere.  The ring is set up with
 * IORING_SETUP_SUBMIT_ALL, so that which checks Linux makes when it prepares
 * an SQE and which when it issues it does not show.
 */
#include "uring.h"
#include <arpa/inet.h>
#include <linux/openat2.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/wait.h>

#define IN_ORDER 0
#define SORTED 1

static char dir[64];
static int dirfd_;
static struct ring r;

static struct io_uring_sqe *sqe_of(int op, int fd, uint64_t user_data)
{
    return ring_prep(&r, op, fd, NULL, 0, 0, user_data);
}

/* io_uring_enter submitting to_submit SQEs and waiting for n CQEs, for 2 s at
 * most: a CQE that never comes ends the wait with ETIME, not a hang. */
static long enter_wait(unsigned to_submit, unsigned n)
{
    struct __kernel_timespec ts = {2, 0};
    struct io_uring_getevents_arg arg = {.ts = (uintptr_t)&ts};
    return uring_enter(r.fd, to_submit, n, IORING_ENTER_GETEVENTS | IORING_ENTER_EXT_ARG, &arg, sizeof arg);
}

/* Publish the SQEs filled, submit them and wait for n CQEs (bounded), print
 * how many the enter took and the CQEs. */
static void run(unsigned n, int sorted)
{
    unsigned pending = r.sqe_tail - __atomic_load_n(r.sq_head, __ATOMIC_ACQUIRE);
    __atomic_store_n(r.sq_tail, r.sqe_tail, __ATOMIC_RELEASE);
    long submitted = n ? enter_wait(pending, n) : uring_enter(r.fd, pending, 0, 0, NULL, 0);
    if (submitted < 0)
        printf("  submit: %s\n", uring_errname(errno));
    else
        printf("  submit: %ld\n", submitted);
    expect_cqes(&r, n, sorted, NULL);
}

/* Wait, submitting nothing, for n CQEs (bounded) and print them. */
static void wait_n(unsigned n, int sorted)
{
    if (enter_wait(0, n) < 0)
        printf("  wait %u: %s\n", n, uring_errname(errno));
    expect_cqes(&r, n, sorted, NULL);
}

/* A file in the test directory holding `content`, open O_RDWR. */
static int file_with(const char *name, const char *content)
{
    int fd = openat(dirfd_, name, O_CREAT | O_RDWR | O_TRUNC, 0600);
    if (fd < 0 || write(fd, content, strlen(content)) != (ssize_t)strlen(content)) {
        printf("file %s: %s\n", name, uring_errname(errno));
        exit(1);
    }
    return fd;
}

/* Read what a descriptor has (O_NONBLOCK for a pipe or socket) and show it. */
static void show_read(const char *what, int fd)
{
    char buf[64];
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0)
        printf("  %s: read %s\n", what, uring_errname(errno));
    else
        show_buf(what, buf, n);
}

static void show_pos(int fd)
{
    printf("  position: %lld\n", (long long)lseek(fd, 0, SEEK_CUR));
}

/* Submit the SQEs queued, wait for one CQE, print it and return its result. */
static int run_one(void)
{
    unsigned pending = r.sqe_tail - __atomic_load_n(r.sq_head, __ATOMIC_ACQUIRE);
    __atomic_store_n(r.sq_tail, r.sqe_tail, __ATOMIC_RELEASE);
    long submitted = enter_wait(pending, 1);
    if (submitted < 0)
        printf("  submit: %s\n", uring_errname(errno));
    return reap_one(&r);
}

/* -- files --------------------------------------------------------------------- */

static void sync_file_range_op(void)
{
    printf("== SYNC_FILE_RANGE (offset in off, length in len, flags in sync_range_flags)\n");
    static char block[8192];
    memset(block, 's', sizeof block);
    int fd = openat(dirfd_, "sfr", O_CREAT | O_RDWR | O_TRUNC, 0600);
    SHOW(write(fd, block, sizeof block));
    int p[2];
    pipe(p);
    struct io_uring_sqe *sqe = sqe_of(IORING_OP_SYNC_FILE_RANGE, fd, 1);
    sqe->len = 4096;
    sqe->sync_range_flags = SYNC_FILE_RANGE_WRITE;
    sqe = sqe_of(IORING_OP_SYNC_FILE_RANGE, fd, 2);      /* length 0: to the end */
    sqe->sync_range_flags = SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER;
    sqe_of(IORING_OP_SYNC_FILE_RANGE, fd, 3)->sync_range_flags = 0x8;     /* no such flag */
    sqe_of(IORING_OP_SYNC_FILE_RANGE, fd, 4)->off = (uint64_t)-1;
    sqe_of(IORING_OP_SYNC_FILE_RANGE, BADFD, 5);
    sqe_of(IORING_OP_SYNC_FILE_RANGE, p[0], 6);
    sqe_of(IORING_OP_SYNC_FILE_RANGE, fd, 7)->off = 8192;   /* past nothing written: fine */
    run(7, SORTED);
    close(p[0]);
    close(p[1]);
    close(fd);
    unlinkat(dirfd_, "sfr", 0);
}

static void fadvise_op(void)
{
    printf("== FADVISE (offset in off, length in addr, else len; advice in fadvise_advice)\n");
    int fd = file_with("fadv", "0123456789");
    int p[2];
    pipe(p);
    struct io_uring_sqe *sqe = sqe_of(IORING_OP_FADVISE, fd, 1);
    sqe->len = 4096;
    sqe->fadvise_advice = POSIX_FADV_WILLNEED;
    sqe_of(IORING_OP_FADVISE, fd, 2)->fadvise_advice = POSIX_FADV_DONTNEED;
    sqe = sqe_of(IORING_OP_FADVISE, fd, 3);
    sqe->addr = 1ULL << 40;                                 /* a 64-bit length */
    sqe->fadvise_advice = POSIX_FADV_SEQUENTIAL;
    sqe_of(IORING_OP_FADVISE, fd, 4)->fadvise_advice = 99;
    sqe = sqe_of(IORING_OP_FADVISE, fd, 5);
    sqe->addr = (uint64_t)-1;                               /* a negative length */
    sqe->fadvise_advice = POSIX_FADV_NORMAL;
    sqe_of(IORING_OP_FADVISE, p[0], 6)->fadvise_advice = POSIX_FADV_NORMAL;
    sqe_of(IORING_OP_FADVISE, BADFD, 7)->fadvise_advice = POSIX_FADV_NORMAL;
    run(7, SORTED);
    close(p[0]);
    close(p[1]);
    close(fd);
    unlinkat(dirfd_, "fadv", 0);
}

/* OPENAT2 of path under dirfd_ with `how` of `size` bytes: the fd or -errno. */
static int open2_op(const char *path, const void *how, unsigned size, uint64_t user_data)
{
    ring_prep(&r, IORING_OP_OPENAT2, dirfd_, path, size, (uintptr_t)how, user_data);
    int fd = run_one();
    if (fd >= 0) {
        struct stat st;
        fstat(fd, &st);
        printf("    opened: %s size %lld\n", ftype(st.st_mode), S_ISREG(st.st_mode) ? (long long)st.st_size : 0LL);
        close(fd);
    }
    return fd;
}

static void openat2_op(void)
{
    printf("== OPENAT2 (dirfd in fd, path in addr, struct open_how in addr2, its size in len)\n");
    close(file_with("o2", "twelve bytes"));
    symlinkat("o2", dirfd_, "o2link");
    mkdirat(dirfd_, "o2dir", 0700);
    struct open_how how = {.flags = O_RDONLY, .resolve = RESOLVE_BENEATH};
    open2_op("o2", &how, sizeof how, 1001);
    open2_op("../o2", &how, sizeof how, 1002);                 /* EXDEV: out of the dirfd */
    open2_op("/etc/passwd", &how, sizeof how, 1003);          /* EXDEV: absolute */
    open2_op("o2dir/../o2", &how, sizeof how, 1004);          /* stays beneath */
    how.resolve = RESOLVE_NO_SYMLINKS;
    open2_op("o2link", &how, sizeof how, 1005);               /* ELOOP */
    how.resolve = RESOLVE_IN_ROOT;
    open2_op("/o2", &how, sizeof how, 1006);                  /* "/" is the dirfd */
    open2_op("/../../o2", &how, sizeof how, 1007);
    how.resolve = RESOLVE_NO_MAGICLINKS;
    open2_op("/proc/self/exe", &how, sizeof how, 1008);       /* ELOOP */
    how.resolve = 0x80;                                         /* no such RESOLVE_ flag */
    open2_op("o2", &how, sizeof how, 1009);
    how.resolve = 0;
    how.flags = O_RDONLY | (1ULL << 40);                        /* unknown open flag bits */
    open2_op("o2", &how, sizeof how, 1010);
    how.flags = O_RDONLY;
    how.mode = 0600;                                            /* a mode without O_CREAT */
    open2_op("o2", &how, sizeof how, 1011);
    how.mode = 0;
    printf("-- the size of struct open_how\n");
    open2_op("o2", &how, 7, 1012);                              /* smaller than version 0 */
    open2_op("o2", &how, 0, 1013);
    struct { struct open_how h; uint64_t more; } big = {how, 0};
    open2_op("o2", &big, sizeof big, 1014);                     /* larger, zero tail: fine */
    big.more = 1;
    open2_op("o2", &big, sizeof big, 1015);                     /* E2BIG */
    static char page[8192];
    open2_op("o2", page, 4097, 1016);                           /* more than a page: E2BIG */
    open2_op("o2", BADPTR, sizeof how, 1017);
    open2_op(BADPTR, &how, sizeof how, 1018);
    how.flags = O_CREAT | O_EXCL | O_WRONLY;
    how.mode = 0640;
    open2_op("o2new", &how, sizeof how, 1019);
    struct stat st;
    if (fstatat(dirfd_, "o2new", &st, 0) == 0)
        printf("  o2new: mode %#o\n", st.st_mode & 07777);
    unlinkat(dirfd_, "o2new", 0);
    unlinkat(dirfd_, "o2link", 0);
    unlinkat(dirfd_, "o2", 0);
    unlinkat(dirfd_, "o2dir", AT_REMOVEDIR);
}

/* -- sockets ------------------------------------------------------------------- */

static void sendmsg_recvmsg(void)
{
    printf("== SENDMSG and RECVMSG on an AF_UNIX stream socketpair (msghdr in addr)\n");
    int sv[2];
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    struct iovec siov[2] = {{"hello ", 6}, {"world", 5}};
    struct msghdr smsg = {.msg_iov = siov, .msg_iovlen = 2};
    ring_prep(&r, IORING_OP_SENDMSG, sv[0], &smsg, 1, 0, 1);
    run(1, IN_ORDER);
    char a[4], b[16];
    struct iovec riov[2] = {{a, sizeof a}, {b, sizeof b}};
    struct msghdr rmsg = {.msg_iov = riov, .msg_iovlen = 2};
    ring_prep(&r, IORING_OP_RECVMSG, sv[1], &rmsg, 1, 0, 2);
    run(1, IN_ORDER);
    show_buf("first iovec", a, 4);
    show_buf("second iovec", b, 7);
    printf("  msg_flags %#x\n", rmsg.msg_flags);

    printf("-- a RECVMSG that waits for the SENDMSG after it\n");
    memset(&rmsg, 0, sizeof rmsg);
    rmsg.msg_iov = riov;
    rmsg.msg_iovlen = 2;
    ring_prep(&r, IORING_OP_RECVMSG, sv[1], &rmsg, 1, 0, 3);
    run(0, IN_ORDER);
    printf("  ready with nothing sent: %u\n", ring_ready(&r));
    ring_prep(&r, IORING_OP_SENDMSG, sv[0], &smsg, 1, 0, 4);
    run(2, SORTED);
    show_buf("received", a, 4);

    printf("-- SCM_RIGHTS: a pipe's read end passed over the socketpair\n");
    int p[2];
    pipe(p);
    write(p[1], "through the fd", 14);
    union { char buf[CMSG_SPACE(2 * sizeof(int))]; struct cmsghdr align; } ctl;
    memset(&ctl, 0, sizeof ctl);
    struct iovec one = {"F", 1};
    smsg = (struct msghdr){.msg_iov = &one, .msg_iovlen = 1, .msg_control = ctl.buf,
                           .msg_controllen = CMSG_SPACE(sizeof(int))};
    struct cmsghdr *cm = CMSG_FIRSTHDR(&smsg);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(cm), &p[0], sizeof(int));
    ring_prep(&r, IORING_OP_SENDMSG, sv[0], &smsg, 1, 0, 5);
    run(1, IN_ORDER);
    close(p[0]);
    union { char buf[CMSG_SPACE(2 * sizeof(int))]; struct cmsghdr align; } rctl;
    memset(&rctl, 0, sizeof rctl);
    char c1[8] = {0};
    struct iovec rone = {c1, sizeof c1};
    rmsg = (struct msghdr){.msg_iov = &rone, .msg_iovlen = 1, .msg_control = rctl.buf,
                           .msg_controllen = sizeof rctl.buf};
    ring_prep(&r, IORING_OP_RECVMSG, sv[1], &rmsg, 1, 0, 6)->msg_flags = MSG_CMSG_CLOEXEC;
    run(1, IN_ORDER);
    printf("  data \"%c\", msg_controllen %zu, msg_flags %#x\n", c1[0], (size_t)rmsg.msg_controllen, rmsg.msg_flags);
    cm = CMSG_FIRSTHDR(&rmsg);
    if (cm) {
        int got;
        memcpy(&got, CMSG_DATA(cm), sizeof got);
        printf("  cmsg level %d type %d len %zu\n", cm->cmsg_level, cm->cmsg_type, (size_t)cm->cmsg_len);
        SHOW(fcntl(got, F_GETFD));
        show_read("read through the passed fd", got);
        close(got);
    } else {
        printf("  no cmsg\n");
    }

    printf("-- MSG_CTRUNC: no room for the fd\n");
    pipe(p);
    memcpy(CMSG_DATA(CMSG_FIRSTHDR(&smsg)), &p[0], sizeof(int));
    ring_prep(&r, IORING_OP_SENDMSG, sv[0], &smsg, 1, 0, 7);
    run(1, IN_ORDER);
    rmsg.msg_controllen = sizeof(struct cmsghdr);
    ring_prep(&r, IORING_OP_RECVMSG, sv[1], &rmsg, 1, 0, 8);
    run(1, IN_ORDER);
    printf("  msg_controllen %zu, msg_flags %#x\n", (size_t)rmsg.msg_controllen, rmsg.msg_flags);
    close(p[0]);
    close(p[1]);

    printf("-- errors\n");
    int fd = file_with("notsock", "");
    ring_prep(&r, IORING_OP_RECVMSG, sv[1], BADPTR, 1, 0, 10);
    ring_prep(&r, IORING_OP_SENDMSG, sv[0], BADPTR, 1, 0, 11);
    struct msghdr badiov = {.msg_iov = BADPTR, .msg_iovlen = 1};
    ring_prep(&r, IORING_OP_SENDMSG, sv[0], &badiov, 1, 0, 12);
    smsg = (struct msghdr){.msg_iov = siov, .msg_iovlen = 2};
    ring_prep(&r, IORING_OP_SENDMSG, fd, &smsg, 1, 0, 13);
    ring_prep(&r, IORING_OP_SENDMSG, BADFD, &smsg, 1, 0, 14);
    run(5, SORTED);
    close(fd);
    unlinkat(dirfd_, "notsock", 0);
    close(sv[0]);
    close(sv[1]);

    printf("== RECVMSG on an AF_UNIX datagram socketpair: MSG_TRUNC\n");
    socketpair(AF_UNIX, SOCK_DGRAM, 0, sv);
    SHOW(send(sv[0], "0123456789", 10, 0));
    SHOW(send(sv[0], "abcdefghij", 10, 0));
    memset(a, 0, sizeof a);
    struct iovec small = {a, sizeof a};
    rmsg = (struct msghdr){.msg_iov = &small, .msg_iovlen = 1};
    ring_prep(&r, IORING_OP_RECVMSG, sv[1], &rmsg, 1, 0, 20);
    run(1, IN_ORDER);
    printf("  msg_flags has MSG_TRUNC: %s\n", rmsg.msg_flags & MSG_TRUNC ? "yes" : "no");
    show_buf("received", a, 4);
    rmsg = (struct msghdr){.msg_iov = &small, .msg_iovlen = 1};
    ring_prep(&r, IORING_OP_RECVMSG, sv[1], &rmsg, 1, 0, 21)->msg_flags = MSG_TRUNC;   /* the real length */
    run(1, IN_ORDER);
    printf("  msg_flags has MSG_TRUNC: %s\n", rmsg.msg_flags & MSG_TRUNC ? "yes" : "no");
    show_buf("received", a, 4);
    close(sv[0]);
    close(sv[1]);
}

static void shutdown_op(void)
{
    printf("== SHUTDOWN (how in len)\n");
    int sv[2];
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    ring_prep(&r, IORING_OP_SHUTDOWN, sv[0], NULL, SHUT_WR, 0, 1);
    run(1, IN_ORDER);
    char buf[8];
    ring_prep(&r, IORING_OP_RECV, sv[1], buf, sizeof buf, 0, 2);
    run(1, IN_ORDER);
    ring_prep(&r, IORING_OP_SEND, sv[0], "x", 1, 0, 3)->msg_flags = MSG_NOSIGNAL;
    run(1, IN_ORDER);
    SHOW(send(sv[1], "back", 4, 0));                    /* the other way is still open */
    SHOW(recv(sv[0], buf, sizeof buf, 0));
    int fd = file_with("notsock", "");
    int tcp = socket(AF_INET, SOCK_STREAM, 0);
    ring_prep(&r, IORING_OP_SHUTDOWN, sv[0], NULL, 7, 0, 4);
    ring_prep(&r, IORING_OP_SHUTDOWN, fd, NULL, SHUT_RD, 0, 5);
    ring_prep(&r, IORING_OP_SHUTDOWN, BADFD, NULL, SHUT_RD, 0, 6);
    ring_prep(&r, IORING_OP_SHUTDOWN, tcp, NULL, SHUT_RDWR, 0, 7);     /* not connected */
    ring_prep(&r, IORING_OP_SHUTDOWN, sv[1], NULL, SHUT_RD, 1, 8);     /* off must be 0 */
    run(5, SORTED);
    close(tcp);
    close(fd);
    unlinkat(dirfd_, "notsock", 0);
    close(sv[0]);
    close(sv[1]);
}

static int sockopt(int fd, int name)
{
    int v = -1;
    socklen_t len = sizeof v;
    if (getsockopt(fd, SOL_SOCKET, name, &v, &len) < 0)
        return -errno;
    return v;
}

/* A SOCKET SQE: its fd (printed as "fd"), or -errno. */
static int socket_sqe(int domain, int type, int protocol, uint64_t user_data)
{
    ring_prep(&r, IORING_OP_SOCKET, domain, NULL, protocol, type, user_data);
    return run_one();
}

static void socket_op(void)
{
    printf("== SOCKET (domain in fd, type in off, protocol in len)\n");
    int u = socket_sqe(AF_UNIX, SOCK_STREAM, 0, 1001);
    printf("  SO_TYPE %d SO_DOMAIN %d FD_CLOEXEC %d\n", sockopt(u, SO_TYPE), sockopt(u, SO_DOMAIN),
           fcntl(u, F_GETFD));
    int sv[2];
    SHOW(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    close(sv[0]);
    close(sv[1]);
    close(u);
    int d = socket_sqe(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0, 1002);
    printf("  SO_TYPE %d SO_DOMAIN %d FD_CLOEXEC %d\n", sockopt(d, SO_TYPE), sockopt(d, SO_DOMAIN),
           fcntl(d, F_GETFD));
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    OK(bind(d, (struct sockaddr *)&a, sizeof a));
    OK(getsockname(d, (struct sockaddr *)&a, &len));
    printf("  bound: family %d loopback %s port set %s\n", a.sin_family,
           a.sin_addr.s_addr == htonl(INADDR_LOOPBACK) ? "yes" : "no", a.sin_port ? "yes" : "no");
    SHOW(sendto(d, "dgram", 5, 0, (struct sockaddr *)&a, sizeof a));
    char buf[16];
    ssize_t n = recv(d, buf, sizeof buf, 0);
    show_buf("received from itself", buf, n > 0 ? n : 0);
    close(d);
    int t = socket_sqe(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, IPPROTO_TCP, 1003);
    printf("  O_NONBLOCK %s\n", fcntl(t, F_GETFL) & O_NONBLOCK ? "yes" : "no");
    close(t);
    printf("-- errors\n");
    socket_sqe(12345, SOCK_STREAM, 0, 1);
    socket_sqe(AF_INET, 99, 0, 2);
    socket_sqe(AF_UNIX, SOCK_STREAM, 5, 3);
    socket_sqe(AF_INET, SOCK_STREAM | 0x100000, 0, 4);      /* no such type flag */
    ring_prep(&r, IORING_OP_SOCKET, AF_UNIX, NULL, 0, SOCK_STREAM, 5)->rw_flags = 1;  /* must be 0 */
    run_one();
}

/* -- epoll, splice, tee ------------------------------------------------------------- */

static struct io_uring_sqe *epoll_sqe(int epfd, int op, int fd, struct epoll_event *ev, uint64_t ud)
{
    return ring_prep(&r, IORING_OP_EPOLL_CTL, epfd, ev, op, fd, ud);
}

static void show_epoll(int ep)
{
    struct epoll_event evs[4];
    int n = epoll_wait(ep, evs, 4, 0);
    printf("  epoll_wait: %d", n);
    for (int i = 0; i < n; i++)
        printf(" [events %#x data %#llx]", evs[i].events, (unsigned long long)evs[i].data.u64);
    printf("\n");
}

static void epoll_ctl_op(void)
{
    printf("== EPOLL_CTL (epfd in fd, op in len, target fd in off, event in addr)\n");
    int ep = epoll_create1(0);
    int p[2];
    pipe(p);
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 0x1234};
    epoll_sqe(ep, EPOLL_CTL_ADD, p[0], &ev, 1);
    run(1, IN_ORDER);
    epoll_sqe(ep, EPOLL_CTL_ADD, p[0], &ev, 2);                    /* EEXIST */
    run(1, IN_ORDER);
    SHOW(write(p[1], "e", 1));
    show_epoll(ep);
    ev.events = EPOLLOUT;
    ev.data.u64 = 0x5678;
    epoll_sqe(ep, EPOLL_CTL_ADD, p[1], &ev, 3);
    run(1, IN_ORDER);
    ev.events = EPOLLIN | EPOLLET;
    ev.data.u64 = 0x9abc;
    epoll_sqe(ep, EPOLL_CTL_MOD, p[0], &ev, 4);
    run(1, IN_ORDER);
    show_epoll(ep);
    epoll_sqe(ep, EPOLL_CTL_DEL, p[1], NULL, 5);
    run(1, IN_ORDER);
    show_epoll(ep);
    printf("-- errors\n");
    int fd = file_with("notpoll", "");
    epoll_sqe(ep, EPOLL_CTL_MOD, p[1], &ev, 10);                   /* ENOENT */
    epoll_sqe(ep, EPOLL_CTL_DEL, p[1], NULL, 11);                  /* ENOENT */
    epoll_sqe(ep, EPOLL_CTL_ADD, ep, &ev, 12);                     /* itself: EINVAL */
    epoll_sqe(p[0], EPOLL_CTL_ADD, p[1], &ev, 13);                 /* not an epoll: EINVAL */
    epoll_sqe(ep, 99, p[1], &ev, 14);                              /* no such op */
    epoll_sqe(ep, EPOLL_CTL_ADD, p[1], BADPTR, 15);
    epoll_sqe(ep, EPOLL_CTL_ADD, fd, &ev, 16);                     /* a regular file: EPERM */
    epoll_sqe(ep, EPOLL_CTL_ADD, BADFD, &ev, 17);
    epoll_sqe(BADFD, EPOLL_CTL_ADD, p[1], &ev, 18);
    struct epoll_event excl = {.events = EPOLLIN | EPOLLEXCLUSIVE};
    epoll_sqe(ep, EPOLL_CTL_MOD, p[0], &excl, 19);                   /* EXCLUSIVE with MOD: EINVAL */
    run(10, SORTED);
    epoll_sqe(ep, EPOLL_CTL_DEL, p[0], NULL, 20);
    run(1, IN_ORDER);
    show_epoll(ep);
    close(fd);
    unlinkat(dirfd_, "notpoll", 0);
    close(p[0]);
    close(p[1]);
    close(ep);
}

/* A SPLICE SQE: out is the SQE's fd, in its splice_fd_in; offsets as values. */
static struct io_uring_sqe *splice_sqe(int in, int64_t off_in, int out, int64_t off_out, unsigned len,
                                       unsigned flags, uint64_t ud)
{
    struct io_uring_sqe *sqe = ring_prep(&r, IORING_OP_SPLICE, out, NULL, len, (uint64_t)off_out, ud);
    sqe->splice_fd_in = in;
    sqe->splice_off_in = (uint64_t)off_in;
    sqe->splice_flags = flags;
    return sqe;
}

static void show_file(int fd)
{
    char buf[64];
    ssize_t n = pread(fd, buf, sizeof buf, 0);
    show_buf("file", buf, n > 0 ? n : 0);
}

static void splice_op(void)
{
    printf("== SPLICE (out in fd, off in off; in in splice_fd_in, off in splice_off_in; -1: the position)\n");
    int f = file_with("spl", "0123456789abcdef");
    int p[2];
    pipe2(p, O_NONBLOCK);
    lseek(f, 0, SEEK_SET);
    splice_sqe(f, 4, p[1], -1, 6, 0, 1);                       /* file at 4 -> pipe */
    run(1, IN_ORDER);
    show_read("pipe", p[0]);
    show_pos(f);                                                /* an offset leaves it */
    lseek(f, 10, SEEK_SET);
    splice_sqe(f, -1, p[1], -1, 3, 0, 2);                      /* from the position */
    run(1, IN_ORDER);
    show_read("pipe", p[0]);
    show_pos(f);
    SHOW(write(p[1], "XY", 2));
    splice_sqe(p[0], -1, f, 2, 2, 0, 3);                       /* pipe -> file at 2 */
    run(1, IN_ORDER);
    show_file(f);
    show_pos(f);
    SHOW(write(p[1], "Z", 1));
    splice_sqe(p[0], -1, f, -1, 5, SPLICE_F_MOVE | SPLICE_F_MORE, 4);   /* at the position, 13 */
    run(1, IN_ORDER);
    show_file(f);
    show_pos(f);
    splice_sqe(f, 100, p[1], -1, 5, 0, 5);                     /* past the end: 0 */
    splice_sqe(f, 0, p[1], -1, 0, 0, 6);                       /* len 0 */
    run(2, SORTED);

    printf("-- SPLICE_F_FD_IN_FIXED: splice_fd_in is a registered file's index\n");
    int files[2] = {-1, f};
    SHOW(uring_register(r.fd, IORING_REGISTER_FILES, files, 2));
    splice_sqe(1, 0, p[1], -1, 4, SPLICE_F_FD_IN_FIXED, 10);
    run(1, IN_ORDER);
    show_read("pipe", p[0]);
    splice_sqe(0, 0, p[1], -1, 4, SPLICE_F_FD_IN_FIXED, 11);   /* an empty slot */
    splice_sqe(7, 0, p[1], -1, 4, SPLICE_F_FD_IN_FIXED, 12);   /* past the table */
    run(2, SORTED);
    SHOW(uring_register(r.fd, IORING_UNREGISTER_FILES, NULL, 0));

    printf("-- errors\n");
    int g = file_with("spl2", "");
    SHOW(write(p[1], "pp", 2));
    splice_sqe(p[0], 0, f, -1, 2, 0, 20);                      /* an offset on the pipe: ESPIPE */
    splice_sqe(f, 0, p[1], 0, 2, 0, 21);
    splice_sqe(f, 0, g, 0, 2, 0, 22);                          /* no pipe: EINVAL */
    splice_sqe(BADFD, 0, p[1], -1, 2, 0, 23);
    splice_sqe(f, 0, BADFD, -1, 2, 0, 24);
    splice_sqe(f, 0, p[1], -1, 2, 0x100, 25);                  /* no such flag */
    splice_sqe(p[0], -1, p[1], -1, 2, 0, 26);                  /* a pipe into itself */
    splice_sqe(f, -2, p[1], -1, 2, 0, 27);                     /* a negative offset */
    run(8, SORTED);
    show_read("pipe", p[0]);

    printf("-- a SPLICE from an empty pipe waits for data\n");
    int q[2];
    pipe(q);
    splice_sqe(q[0], -1, g, 0, 8, 0, 30);
    run(0, IN_ORDER);
    printf("  ready with an empty pipe: %u\n", ring_ready(&r));
    SHOW(write(q[1], "late", 4));
    wait_n(1, IN_ORDER);
    show_file(g);
    close(q[0]);
    close(q[1]);
    close(g);
    close(f);
    close(p[0]);
    close(p[1]);
    unlinkat(dirfd_, "spl", 0);
    unlinkat(dirfd_, "spl2", 0);
}

static void tee_op(void)
{
    printf("== TEE (out pipe in fd, in pipe in splice_fd_in)\n");
    int a[2], b[2];
    pipe2(a, O_NONBLOCK);
    pipe2(b, O_NONBLOCK);
    SHOW(write(a[1], "teedata", 7));
    struct io_uring_sqe *sqe = ring_prep(&r, IORING_OP_TEE, b[1], NULL, 100, 0, 1);
    sqe->splice_fd_in = a[0];
    run(1, IN_ORDER);
    show_read("out pipe", b[0]);
    sqe = ring_prep(&r, IORING_OP_TEE, b[1], NULL, 3, 0, 2);
    sqe->splice_fd_in = a[0];
    run(1, IN_ORDER);
    show_read("out pipe", b[0]);
    int f = file_with("teef", "file");
    ring_prep(&r, IORING_OP_TEE, a[1], NULL, 4, 0, 3)->splice_fd_in = a[0];     /* the same pipe */
    ring_prep(&r, IORING_OP_TEE, b[1], NULL, 4, 0, 4)->splice_fd_in = f;        /* not a pipe */
    ring_prep(&r, IORING_OP_TEE, f, NULL, 4, 0, 5)->splice_fd_in = a[0];
    ring_prep(&r, IORING_OP_TEE, b[1], NULL, 0, 0, 6)->splice_fd_in = a[0];     /* len 0 */
    ring_prep(&r, IORING_OP_TEE, b[1], NULL, 4, 0, 7)->splice_fd_in = BADFD;
    ring_prep(&r, IORING_OP_TEE, b[1], NULL, 4, 1, 8)->splice_fd_in = a[0];     /* off must be 0 */
    run(6, SORTED);
    show_read("out pipe", b[0]);
    show_read("in pipe, all still there", a[0]);
    close(f);
    unlinkat(dirfd_, "teef", 0);
    close(a[0]);
    close(a[1]);
    close(b[0]);
    close(b[1]);
}

/* -- rw flags, SQE flags, registered files ------------------------------------------- */

static void nowait_async(void)
{
    printf("== RWF_NOWAIT on a READ (rw_flags)\n");
    int p[2];
    pipe(p);
    char buf[8] = {0};
    ring_prep(&r, IORING_OP_READ, p[0], buf, sizeof buf, 0, 1)->rw_flags = RWF_NOWAIT;
    run(1, IN_ORDER);
    SHOW(write(p[1], "n", 1));
    ring_prep(&r, IORING_OP_READ, p[0], buf, sizeof buf, 0, 2)->rw_flags = RWF_NOWAIT;
    run(1, IN_ORDER);
    ring_prep(&r, IORING_OP_READ, p[0], buf, sizeof buf, 0, 3)->rw_flags = 0x1000;   /* no such flag */
    run(1, IN_ORDER);

    printf("== IOSQE_ASYNC\n");
    int f = file_with("async", "async data");
    sqe_of(IORING_OP_NOP, -1, 10)->flags = IOSQE_ASYNC;
    ring_prep(&r, IORING_OP_READ, f, buf, 5, 0, 11)->flags = IOSQE_ASYNC;
    run(2, SORTED);
    show_buf("read", buf, 5);
    ring_prep(&r, IORING_OP_READ, p[0], buf, sizeof buf, 0, 12)->flags = IOSQE_ASYNC;
    run(0, IN_ORDER);
    printf("  ready with an empty pipe: %u\n", ring_ready(&r));
    SHOW(write(p[1], "later", 5));
    wait_n(1, IN_ORDER);
    show_buf("read", buf, 5);
    close(f);
    unlinkat(dirfd_, "async", 0);
    close(p[0]);
    close(p[1]);
}

static long files_update(unsigned offset, int *fds, unsigned nr)
{
    struct io_uring_files_update up = {.offset = offset, .fds = (uintptr_t)fds};
    return uring_register(r.fd, IORING_REGISTER_FILES_UPDATE, &up, nr);
}

static void fixed_read(unsigned slot, uint64_t ud)
{
    static char buf[8];
    memset(buf, 0, sizeof buf);
    ring_prep(&r, IORING_OP_READ, slot, buf, 4, 0, ud)->flags = IOSQE_FIXED_FILE;
    if (run_one() > 0)
        show_buf("read", buf, 4);
}

static void files_update_op(void)
{
    printf("== REGISTER_FILES_UPDATE\n");
    int a = file_with("fa", "AAAA"), b = file_with("fb", "BBBB"), c = file_with("fc", "CCCC");
    int fds[2] = {a, b};
    SHOW(uring_register(r.fd, IORING_REGISTER_FILES, fds, 2));
    fixed_read(0, 1);
    fixed_read(1, 2);
    int one[2] = {-1};
    SHOW(files_update(1, one, 1));
    fixed_read(1, 3);
    one[0] = c;
    SHOW(files_update(1, one, 1));
    close(c);                                                  /* the table holds its own */
    fixed_read(1, 4);
    one[0] = IORING_REGISTER_FILES_SKIP;
    SHOW(files_update(0, one, 1));                            /* slot 0 kept */
    fixed_read(0, 5);
    one[0] = b;
    one[1] = BADFD;
    SHOW(files_update(0, one, 2));                            /* the first taken, then EBADF */
    fixed_read(0, 6);
    SHOW(files_update(1, one, 2));                            /* past the table */
    SHOW(files_update(2, one, 1));
    SHOW(files_update(0, one, 0));
    one[0] = r.fd;
    SHOW(files_update(0, one, 1));                            /* a ring: EBADF */
    SHOW(files_update(0, BADPTR, 1));
    SHOW(uring_register(r.fd, IORING_REGISTER_FILES_UPDATE, BADPTR, 1));
    struct io_uring_files_update up = {.offset = 0, .resv = 1, .fds = (uintptr_t)one};
    SHOW(uring_register(r.fd, IORING_REGISTER_FILES_UPDATE, &up, 1));
    SHOW(uring_register(r.fd, IORING_UNREGISTER_FILES, NULL, 0));
    one[0] = a;
    SHOW(files_update(0, one, 1));                            /* no table: ENXIO */
    close(a);
    close(b);
    unlinkat(dirfd_, "fa", 0);
    unlinkat(dirfd_, "fb", 0);
    unlinkat(dirfd_, "fc", 0);
}

/* -- cancel ------------------------------------------------------------------------ */

/* Submit one ASYNC_CANCEL and wait for its CQE and those of `expect` others:
 * print the cancel's CQE and how many others were -ECANCELED. */
static void cancel_run(uint64_t ud, unsigned expect)
{
    __atomic_store_n(r.sq_tail, r.sqe_tail, __ATOMIC_RELEASE);
    long submitted = enter_wait(1, expect + 1);
    if (submitted < 0)
        printf("  submit: %s\n", uring_errname(errno));
    struct io_uring_cqe c;
    unsigned cancelled = 0, other = 0;
    while (ring_reap(&r, &c)) {
        if (c.user_data == ud)
            print_cqe(&c);
        else if (c.res == -ECANCELED)
            cancelled++;
        else
            other++;
    }
    printf("  others: %u -ECANCELED, %u else\n", cancelled, other);
}

static struct io_uring_sqe *cancel_sqe(int fd, uint64_t addr, unsigned flags, uint64_t ud)
{
    struct io_uring_sqe *sqe = sqe_of(IORING_OP_ASYNC_CANCEL, fd, ud);
    sqe->addr = addr;
    sqe->cancel_flags = flags;
    return sqe;
}

static void cancels(void)
{
    printf("== ASYNC_CANCEL with ALL, FD and ANY\n");
    int p[2], q[2];
    pipe(p);
    pipe(q);
    static char buf[8][8];
    for (int i = 0; i < 3; i++)
        ring_prep(&r, IORING_OP_READ, p[0], buf[i], 8, 0, 1 + i);
    ring_prep(&r, IORING_OP_READ, q[0], buf[3], 8, 0, 4);
    ring_prep(&r, IORING_OP_READ, q[0], buf[4], 8, 0, 5);
    sqe_of(IORING_OP_POLL_ADD, q[0], 6)->poll32_events = POLLIN;
    run(0, IN_ORDER);
    printf("  ready: %u\n", ring_ready(&r));
    printf("-- CANCEL_FD | CANCEL_ALL on the first pipe\n");
    cancel_sqe(p[0], 0, IORING_ASYNC_CANCEL_FD | IORING_ASYNC_CANCEL_ALL, 10);
    cancel_run(10, 3);
    printf("-- CANCEL_FD on the second pipe: one of three\n");
    cancel_sqe(q[0], 0, IORING_ASYNC_CANCEL_FD, 11);
    cancel_run(11, 1);
    printf("-- CANCEL_ANY: the rest\n");
    cancel_sqe(-1, 0, IORING_ASYNC_CANCEL_ANY, 12);
    cancel_run(12, 2);
    printf("-- CANCEL_ANY with nothing in flight\n");
    cancel_sqe(-1, 0, IORING_ASYNC_CANCEL_ANY, 13);
    cancel_run(13, 0);
    cancel_sqe(p[0], 0, IORING_ASYNC_CANCEL_FD | IORING_ASYNC_CANCEL_ALL, 14);
    cancel_run(14, 0);
    cancel_sqe(p[0], 0, IORING_ASYNC_CANCEL_FD, 15);
    cancel_run(15, 0);
    printf("-- CANCEL_ALL by user_data: two reads with the same one\n");
    ring_prep(&r, IORING_OP_READ, p[0], buf[0], 8, 0, 7);
    ring_prep(&r, IORING_OP_READ, q[0], buf[1], 8, 0, 7);
    ring_prep(&r, IORING_OP_READ, q[0], buf[2], 8, 0, 8);
    run(0, IN_ORDER);
    cancel_sqe(-1, 7, IORING_ASYNC_CANCEL_ALL, 16);
    cancel_run(16, 2);
    cancel_sqe(-1, 8, IORING_ASYNC_CANCEL_USERDATA, 17);      /* the default key, named */
    cancel_run(17, 1);
    printf("-- bad flags\n");
    cancel_sqe(p[0], 0, IORING_ASYNC_CANCEL_ANY | IORING_ASYNC_CANCEL_FD, 18);
    cancel_run(18, 0);
    cancel_sqe(-1, 0, 1U << 12, 19);
    cancel_run(19, 0);
    SHOW(write(p[1], "kept", 4));
    show_read("first pipe", p[0]);                   /* the cancelled reads took nothing */
    close(p[0]);
    close(p[1]);
    close(q[0]);
    close(q[1]);
}

/* -- waits that end later ----------------------------------------------------------- */

static int tcp_pair(int *cli)
{
    struct sockaddr_in a;
    int lst = loopback_listener(&a, 1);
    *cli = socket(AF_INET, SOCK_STREAM, 0);
    if (connect(*cli, (struct sockaddr *)&a, sizeof a) < 0) {
        printf("connect: %s\n", uring_errname(errno));
        exit(1);
    }
    int srv = accept(lst, NULL, NULL);
    close(lst);
    return srv;
}

/* A child that writes `what` on fd after 100 ms, then exits. */
static pid_t write_later(int fd, const char *what)
{
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        usleep(100000);
        write(fd, what, strlen(what));
        _exit(0);
    }
    return pid;
}

static void reap_child(pid_t pid)
{
    int status;
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status))
        printf("  child: status %#x\n", status);
}

static void later(void)
{
    printf("== POLL_ADD on an eventfd\n");
    int efd = eventfd(0, 0);
    sqe_of(IORING_OP_POLL_ADD, efd, 1)->poll32_events = POLLIN;
    run(0, IN_ORDER);
    printf("  ready with a zero count: %u\n", ring_ready(&r));
    uint64_t three = 3;
    SHOW(write(efd, &three, sizeof three));
    wait_n(1, IN_ORDER);
    sqe_of(IORING_OP_POLL_ADD, efd, 2)->poll32_events = POLLOUT | POLLIN;
    run(1, IN_ORDER);
    close(efd);

    printf("== POLL_ADD on a TCP socket a child writes to later\n");
    int cli, srv = tcp_pair(&cli);
    sqe_of(IORING_OP_POLL_ADD, srv, 3)->poll32_events = POLLIN;
    run(0, IN_ORDER);
    printf("  ready before: %u\n", ring_ready(&r));
    pid_t pid = write_later(cli, "first");
    wait_n(1, IN_ORDER);
    reap_child(pid);
    char buf[16] = {0};
    SHOW(read(srv, buf, sizeof buf));

    printf("== READ of a TCP socket a child writes to later\n");
    memset(buf, 0, sizeof buf);
    ring_prep(&r, IORING_OP_READ, srv, buf, sizeof buf, 0, 4);
    run(0, IN_ORDER);
    printf("  ready before: %u\n", ring_ready(&r));
    pid = write_later(cli, "second");
    wait_n(1, IN_ORDER);
    reap_child(pid);
    show_buf("read", buf, 6);
    close(cli);
    close(srv);
}

/* -- an enter that times out ------------------------------------------------------- */

static void enter_times_out(void)
{
    printf("== io_uring_enter that submits, then times out waiting: the count\n");
    sqe_of(IORING_OP_NOP, -1, 1);
    __atomic_store_n(r.sq_tail, r.sqe_tail, __ATOMIC_RELEASE);
    struct __kernel_timespec ts = {0, 20000000};
    struct io_uring_getevents_arg arg = {.ts = (uintptr_t)&ts};
    SHOW(uring_enter(r.fd, 1, 2, IORING_ENTER_GETEVENTS | IORING_ENTER_EXT_ARG, &arg, sizeof arg));
    reap_all(&r);
    SHOW(uring_enter(r.fd, 0, 1, IORING_ENTER_GETEVENTS | IORING_ENTER_EXT_ARG, &arg, sizeof arg));
    printf("-- and the system calls after it are whole\n");
    sqe_of(IORING_OP_NOP, -1, 2);
    __atomic_store_n(r.sq_tail, r.sqe_tail, __ATOMIC_RELEASE);
    SHOW(uring_enter(r.fd, 1, 2, IORING_ENTER_GETEVENTS | IORING_ENTER_EXT_ARG, &arg, sizeof arg));
    int p[2];
    pipe2(p, O_NONBLOCK);
    SHOW(write(p[1], "0123456789", 10));
    show_read("pipe", p[0]);
    reap_all(&r);
    close(p[0]);
    close(p[1]);
}

/* -- fdinfo ------------------------------------------------------------------------- */

/* The ring's heads, tails and masks from /proc/self/fdinfo, and only those. */
static void show_fdinfo(int fd)
{
    static const char *keys[] = {"SqMask:", "SqHead:", "SqTail:", "CqMask:", "CqHead:", "CqTail:"};
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/self/fdinfo/%d", fd);
    FILE *f = fopen(path, "r");
    if (!f) {
        printf("  %s: %s\n", path, uring_errname(errno));
        return;
    }
    printf(" ");
    while (fgets(line, sizeof line, f)) {
        for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
            size_t n = strlen(keys[i]);
            if (!strncmp(line, keys[i], n)) {
                line[strcspn(line, "\n")] = 0;
                char *v = line + n;
                v += strspn(v, " \t");
                printf(" %s %s", keys[i], v);
            }
        }
    }
    printf("\n");
    fclose(f);
}

static void fdinfo(void)
{
    printf("== /proc/self/fdinfo of a ring\n");
    struct ring saved = r;
    ring_must(&r, 8, 0, 0);
    show_fdinfo(r.fd);
    for (int i = 0; i < 3; i++)
        sqe_of(IORING_OP_NOP, -1, i);
    run(3, IN_ORDER);
    show_fdinfo(r.fd);
    int p[2];
    pipe(p);
    char buf[4];
    ring_prep(&r, IORING_OP_READ, p[0], buf, sizeof buf, 0, 10);
    sqe_of(IORING_OP_NOP, -1, 11);
    run(1, IN_ORDER);
    show_fdinfo(r.fd);
    sqe_of(IORING_OP_NOP, -1, 12);
    __atomic_store_n(r.sq_tail, r.sqe_tail, __ATOMIC_RELEASE);  /* published, not yet entered */
    show_fdinfo(r.fd);
    close(p[1]);
    ring_free(&r);
    close(p[0]);
    r = saved;
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    signal(SIGPIPE, SIG_IGN);
    umask(022);
    strcpy(dir, "/tmp/io_uring_more.XXXXXX");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    dirfd_ = open(dir, O_RDONLY | O_DIRECTORY);
    ring_must(&r, 32, IORING_SETUP_SUBMIT_ALL, 0);     /* an SQE refused at prep stops nothing */
    sync_file_range_op();
    fadvise_op();
    openat2_op();
    sendmsg_recvmsg();
    shutdown_op();
    socket_op();
    epoll_ctl_op();
    splice_op();
    tee_op();
    nowait_async();
    files_update_op();
    cancels();
    later();
    enter_times_out();
    fdinfo();
    ring_free(&r);
    close(dirfd_);
    rmdir(dir);
    return 0;
}
