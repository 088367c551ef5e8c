/*
 * io_uring's operations, each checked by its CQE and by its effect seen
 * through the plain system calls: the file-system ops (OPENAT, CLOSE, STATX,
 * FSYNC, FALLOCATE, FTRUNCATE, MKDIRAT, RENAMEAT, SYMLINKAT, LINKAT,
 * UNLINKAT), POLL_ADD/POLL_REMOVE, TIMEOUT/TIMEOUT_REMOVE, ASYNC_CANCEL, the
 * IOSQE_* flags (links, hard links, link timeouts, drain, CQE skipping) and
 * SEND/RECV/ACCEPT/CONNECT on AF_UNIX and loopback TCP sockets.
 *
 * CQEs are printed in the order Linux posts them where that order is
 * defined (a chain, a drain, a count timeout), sorted by user_data elsewhere.
 */
#include "uring.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>

#define IN_ORDER 0
#define SORTED 1

static char dir[64];
static int dirfd_;
static struct ring r;

/* An SQE for op with user_data, the rest of it zero. */
static struct io_uring_sqe *sqe_of(int op, int fd, uint64_t user_data)
{
    return ring_prep(&r, op, fd, NULL, 0, 0, user_data);
}

static void show_stat(const char *name)
{
    struct stat st;
    if (fstatat(dirfd_, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        printf("  stat %s: %s\n", name, uring_errname(errno));
    else
        printf("  stat %s: %s %#o size %lld nlink %lu\n", name, ftype(st.st_mode), st.st_mode & 07777,
               S_ISDIR(st.st_mode) ? 0LL : (long long)st.st_size,   /* a directory's depends on its fs */
               (unsigned long)st.st_nlink);
}

static void show_fd_size(int fd)
{
    struct stat st;
    if (fstat(fd, &st) < 0)
        printf("  fstat: %s\n", uring_errname(errno));
    else
        printf("  fstat: size %lld\n", (long long)st.st_size);
}

/* -- files ------------------------------------------------------------------- */

/* The fd the last CQE of an OPENAT carried: the caller reaps it itself. */
static int open_op(const char *path, int flags, unsigned mode, uint64_t user_data)
{
    struct io_uring_sqe *sqe = ring_prep(&r, IORING_OP_OPENAT, dirfd_, path, mode, 0, user_data);
    sqe->open_flags = flags;
    long submitted = ring_submit(&r, 1, IORING_ENTER_GETEVENTS);
    printf("  submit: %ld\n", submitted);
    return reap_one(&r);
}

static void openat_close(void)
{
    printf("== OPENAT and CLOSE\n");
    int fd = open_op("f", O_CREAT | O_EXCL | O_RDWR, 0666, 1001);     /* the umask applies */
    open_op("f", O_CREAT | O_EXCL | O_RDWR, 0640, 1002);
    open_op("missing", O_RDONLY, 0, 1003);
    open_op("missing/x", O_CREAT | O_RDWR, 0600, 1004);
    open_op(BADPTR, O_RDONLY, 0, 1005);
    open_op("", O_RDONLY, 0, 1006);
    int other = open_op("/dev/null", O_RDONLY, 0, 1007);  /* absolute: the dirfd is ignored */
    show_stat("f");
    SHOW(write(fd, "0123456789", 10));
    OCT(fcntl(fd, F_GETFL));
    SHOW(fcntl(fd, F_GETFD));
    int cx = open_op("f", O_RDONLY | O_CLOEXEC, 0, 1008);
    SHOW(fcntl(cx, F_GETFD));
    close(cx);

    printf("-- CLOSE\n");
    sqe_of(IORING_OP_CLOSE, other, 1);
    ring_run(&r, 1, IN_ORDER);
    SHOW(fcntl(other, F_GETFD));
    char buf[4];
    ring_prep(&r, IORING_OP_READ, other, buf, 4, 0, 2);
    ring_run(&r, 1, IN_ORDER);
    sqe_of(IORING_OP_CLOSE, other, 3);
    ring_run(&r, 1, IN_ORDER);
    sqe_of(IORING_OP_CLOSE, r.fd, 4);                     /* the ring's own fd */
    ring_run(&r, 1, IN_ORDER);
    sqe_of(IORING_OP_CLOSE, fd, 5)->off = 1;             /* CLOSE takes no offset */
    ring_run(&r, 1, IN_ORDER);
    SHOW(fcntl(fd, F_GETFD));
    close(fd);
}

static void stat_sync_size(void)
{
    printf("== STATX, FSYNC, FALLOCATE, FTRUNCATE\n");
    int fd = openat(dirfd_, "f", O_RDWR);
    struct statx stx;
    memset(&stx, 0xff, sizeof stx);
    struct io_uring_sqe *sqe = ring_prep(&r, IORING_OP_STATX, dirfd_, "f", STATX_BASIC_STATS, 0, 1);
    sqe->addr2 = (uintptr_t)&stx;
    ring_run(&r, 1, IN_ORDER);
    printf("  statx: mask has BASIC_STATS %s, %s %#o size %llu nlink %u\n",
           (stx.stx_mask & STATX_BASIC_STATS) == STATX_BASIC_STATS ? "yes" : "no", ftype(stx.stx_mode),
           stx.stx_mode & 07777, (unsigned long long)stx.stx_size, stx.stx_nlink);
    memset(&stx, 0, sizeof stx);
    sqe = ring_prep(&r, IORING_OP_STATX, fd, "", STATX_SIZE, 0, 2);
    sqe->addr2 = (uintptr_t)&stx;
    sqe->statx_flags = AT_EMPTY_PATH;
    ring_run(&r, 1, IN_ORDER);
    printf("  statx AT_EMPTY_PATH: size %llu\n", (unsigned long long)stx.stx_size);
    sqe = ring_prep(&r, IORING_OP_STATX, dirfd_, "missing", STATX_BASIC_STATS, 0, 3);
    sqe->addr2 = (uintptr_t)&stx;
    sqe = ring_prep(&r, IORING_OP_STATX, dirfd_, "f", STATX_BASIC_STATS, 0, 4);
    sqe->addr2 = (uintptr_t)BADPTR;
    ring_run(&r, 2, SORTED);

    printf("-- FSYNC\n");
    sqe_of(IORING_OP_FSYNC, fd, 10);
    sqe_of(IORING_OP_FSYNC, fd, 11)->fsync_flags = IORING_FSYNC_DATASYNC;
    sqe_of(IORING_OP_FSYNC, BADFD, 12);
    ring_run(&r, 3, SORTED);
    sqe_of(IORING_OP_FSYNC, fd, 13)->fsync_flags = 0x10;  /* no such flag */
    ring_run(&r, 1, IN_ORDER);

    printf("-- FALLOCATE (offset in off, length in addr, mode in len)\n");
    sqe = sqe_of(IORING_OP_FALLOCATE, fd, 20);
    sqe->off = 4096;
    sqe->addr = 8192;
    ring_run(&r, 1, IN_ORDER);
    show_fd_size(fd);
    sqe = sqe_of(IORING_OP_FALLOCATE, fd, 21);
    sqe->off = 0;
    sqe->addr = 20000;
    sqe->len = FALLOC_FL_KEEP_SIZE;
    ring_run(&r, 1, IN_ORDER);
    show_fd_size(fd);
    sqe = sqe_of(IORING_OP_FALLOCATE, fd, 22);          /* a zero length */
    ring_run(&r, 1, IN_ORDER);
    int ro = openat(dirfd_, "f", O_RDONLY);
    sqe = sqe_of(IORING_OP_FALLOCATE, ro, 23);
    sqe->addr = 100;
    ring_run(&r, 1, IN_ORDER);

    printf("-- FTRUNCATE (length in off)\n");
    sqe_of(OP_FTRUNCATE, fd, 30)->off = 5;
    ring_run(&r, 1, IN_ORDER);
    show_fd_size(fd);
    sqe_of(OP_FTRUNCATE, fd, 31)->off = 100;
    ring_run(&r, 1, IN_ORDER);
    show_fd_size(fd);
    sqe_of(OP_FTRUNCATE, ro, 32)->off = 1;
    sqe_of(OP_FTRUNCATE, BADFD, 33)->off = 1;
    sqe_of(OP_FTRUNCATE, fd, 34)->off = (uint64_t)-1;
    ring_run(&r, 3, SORTED);
    show_fd_size(fd);
    close(ro);
    close(fd);
}

static void names(void)
{
    printf("== MKDIRAT, RENAMEAT, SYMLINKAT, LINKAT, UNLINKAT\n");
    ring_prep(&r, IORING_OP_MKDIRAT, dirfd_, "sub", 0777, 0, 1);          /* the umask applies */
    ring_run(&r, 1, IN_ORDER);
    show_stat("sub");
    ring_prep(&r, IORING_OP_MKDIRAT, dirfd_, "sub", 0750, 0, 2);
    ring_prep(&r, IORING_OP_MKDIRAT, dirfd_, "missing/sub", 0750, 0, 3);
    ring_run(&r, 2, SORTED);

    printf("-- RENAMEAT (old dirfd in fd, new dirfd in len, new name in addr2)\n");
    struct io_uring_sqe *sqe = ring_prep(&r, IORING_OP_RENAMEAT, dirfd_, "f", dirfd_, 0, 10);
    sqe->addr2 = (uintptr_t)"sub/moved";
    ring_run(&r, 1, IN_ORDER);
    show_stat("f");
    show_stat("sub/moved");
    int fd = openat(dirfd_, "other", O_CREAT | O_WRONLY, 0600);
    close(fd);
    sqe = ring_prep(&r, IORING_OP_RENAMEAT, dirfd_, "other", dirfd_, 0, 11);
    sqe->addr2 = (uintptr_t)"sub/moved";
    sqe->rename_flags = RENAME_NOREPLACE;
    ring_run(&r, 1, IN_ORDER);
    sqe = ring_prep(&r, IORING_OP_RENAMEAT, dirfd_, "nothing", dirfd_, 0, 12);
    sqe->addr2 = (uintptr_t)"x";
    sqe = ring_prep(&r, IORING_OP_RENAMEAT, dirfd_, "sub", dirfd_, 0, 13);
    sqe->addr2 = (uintptr_t)"sub/inside";
    ring_run(&r, 2, SORTED);

    printf("-- SYMLINKAT (target in addr, link in addr2, its dirfd in fd)\n");
    sqe = ring_prep(&r, IORING_OP_SYMLINKAT, dirfd_, "moved", 0, 0, 20);
    sqe->addr2 = (uintptr_t)"sub/link";
    ring_run(&r, 1, IN_ORDER);
    show_stat("sub/link");
    char target[64] = {0};
    SHOW(readlinkat(dirfd_, "sub/link", target, sizeof target));
    printf("  -> %s\n", target);
    sqe = ring_prep(&r, IORING_OP_SYMLINKAT, dirfd_, "x", 0, 0, 21);
    sqe->addr2 = (uintptr_t)"sub/link";
    ring_run(&r, 1, IN_ORDER);

    printf("-- LINKAT (old dirfd in fd, new dirfd in len, new name in addr2)\n");
    sqe = ring_prep(&r, IORING_OP_LINKAT, dirfd_, "sub/moved", dirfd_, 0, 30);
    sqe->addr2 = (uintptr_t)"hard";
    ring_run(&r, 1, IN_ORDER);
    show_stat("hard");
    sqe = ring_prep(&r, IORING_OP_LINKAT, dirfd_, "sub/link", dirfd_, 0, 31);
    sqe->addr2 = (uintptr_t)"hard2";
    sqe->hardlink_flags = AT_SYMLINK_FOLLOW;
    ring_run(&r, 1, IN_ORDER);
    show_stat("hard2");
    sqe = ring_prep(&r, IORING_OP_LINKAT, dirfd_, "sub", dirfd_, 0, 32);
    sqe->addr2 = (uintptr_t)"dirlink";
    sqe = ring_prep(&r, IORING_OP_LINKAT, dirfd_, "hard", dirfd_, 0, 33);
    sqe->addr2 = (uintptr_t)"hard2";
    ring_run(&r, 2, SORTED);

    printf("-- UNLINKAT\n");
    ring_prep(&r, IORING_OP_UNLINKAT, dirfd_, "hard", 0, 0, 40);
    ring_run(&r, 1, IN_ORDER);
    show_stat("hard");
    show_stat("hard2");
    ring_prep(&r, IORING_OP_UNLINKAT, dirfd_, "sub", 0, 0, 41)->unlink_flags = AT_REMOVEDIR;
    ring_prep(&r, IORING_OP_UNLINKAT, dirfd_, "sub", 0, 0, 42);
    ring_prep(&r, IORING_OP_UNLINKAT, dirfd_, "missing", 0, 0, 43);
    ring_prep(&r, IORING_OP_UNLINKAT, dirfd_, "hard2", 0, 0, 44)->unlink_flags = AT_REMOVEDIR;
    ring_prep(&r, IORING_OP_UNLINKAT, dirfd_, "hard2", 0, 0, 45)->unlink_flags = 0x1000;
    ring_run(&r, 5, SORTED);
    const char *rest[] = {"hard2", "other", "sub/link", "sub/moved"};
    for (int i = 0; i < 4; i++)
        ring_prep(&r, IORING_OP_UNLINKAT, dirfd_, rest[i], 0, 0, 50 + i);
    ring_run(&r, 4, SORTED);
    ring_prep(&r, IORING_OP_UNLINKAT, dirfd_, "sub", 0, 0, 54)->unlink_flags = AT_REMOVEDIR;
    ring_run(&r, 1, IN_ORDER);
    show_stat("sub");
}

/* -- poll -------------------------------------------------------------------- */

static void polls(void)
{
    printf("== POLL_ADD and POLL_REMOVE\n");
    int p[2];
    pipe(p);
    char buf[16];
    sqe_of(IORING_OP_POLL_ADD, p[0], 1)->poll32_events = POLLIN;
    ring_run(&r, 0, IN_ORDER);
    printf("  ready on an empty pipe: %u\n", ring_ready(&r));
    SHOW(write(p[1], "x", 1));
    wait_print(&r, 1, IN_ORDER);
    sqe_of(IORING_OP_POLL_ADD, p[0], 2)->poll32_events = POLLIN | POLLOUT;   /* data there already */
    sqe_of(IORING_OP_POLL_ADD, p[1], 3)->poll32_events = POLLOUT | POLLIN;
    ring_run(&r, 2, SORTED);
    SHOW(read(p[0], buf, sizeof buf));

    printf("-- POLL_REMOVE (the poll's user_data in addr)\n");
    sqe_of(IORING_OP_POLL_ADD, p[0], 4)->poll32_events = POLLIN;
    ring_run(&r, 0, IN_ORDER);
    sqe_of(IORING_OP_POLL_REMOVE, -1, 5)->addr = 4;
    ring_run(&r, 2, SORTED);
    sqe_of(IORING_OP_POLL_REMOVE, -1, 6)->addr = 77;
    ring_run(&r, 1, IN_ORDER);
    sqe_of(IORING_OP_POLL_ADD, BADFD, 7)->poll32_events = POLLIN;
    ring_run(&r, 1, IN_ORDER);

    printf("-- POLLHUP when the writer goes\n");
    sqe_of(IORING_OP_POLL_ADD, p[0], 8)->poll32_events = POLLIN;
    ring_run(&r, 0, IN_ORDER);
    close(p[1]);
    wait_print(&r, 1, IN_ORDER);
    close(p[0]);
}

/* -- timeouts ------------------------------------------------------------------ */

static struct __kernel_timespec ms(long n)
{
    struct __kernel_timespec t = {n / 1000, (n % 1000) * 1000000L};
    return t;
}

static struct io_uring_sqe *timeout_of(const struct __kernel_timespec *ts, unsigned count, uint64_t ud)
{
    return ring_prep(&r, IORING_OP_TIMEOUT, -1, ts, 1, count, ud);
}

static void timeouts(void)
{
    printf("== TIMEOUT\n");
    struct __kernel_timespec t10 = ms(10), long_ = ms(20000);
    timeout_of(&t10, 0, 1);
    ring_run(&r, 1, IN_ORDER);

    printf("-- a count: completes with 0 once that many other CQEs came\n");
    timeout_of(&long_, 2, 2);
    ring_run(&r, 0, IN_ORDER);
    sqe_of(IORING_OP_NOP, -1, 3);
    ring_run(&r, 1, IN_ORDER);
    printf("  ready after one NOP: %u\n", ring_ready(&r));
    sqe_of(IORING_OP_NOP, -1, 4);
    ring_run(&r, 2, IN_ORDER);
    timeout_of(&long_, 1, 5);
    sqe_of(IORING_OP_NOP, -1, 6);
    ring_run(&r, 2, IN_ORDER);

    printf("-- TIMEOUT_REMOVE (the timeout's user_data in addr)\n");
    timeout_of(&long_, 0, 10);
    ring_run(&r, 0, IN_ORDER);
    ring_prep(&r, IORING_OP_TIMEOUT_REMOVE, -1, NULL, 0, 0, 11)->addr = 10;
    ring_run(&r, 2, SORTED);
    ring_prep(&r, IORING_OP_TIMEOUT_REMOVE, -1, NULL, 0, 0, 12)->addr = 99;
    ring_run(&r, 1, IN_ORDER);

    printf("-- bad timeouts\n");
    timeout_of(BADPTR, 0, 20);
    ring_run(&r, 1, IN_ORDER);
    timeout_of(&t10, 0, 21)->len = 2;
    ring_run(&r, 1, IN_ORDER);
    struct __kernel_timespec neg = {-1, 0};
    timeout_of(&neg, 0, 22);
    ring_run(&r, 1, IN_ORDER);
    timeout_of(&t10, 0, 23)->timeout_flags = 1U << 20;
    ring_run(&r, 1, IN_ORDER);
}

/* -- cancel ------------------------------------------------------------------ */

static void cancels(void)
{
    printf("== ASYNC_CANCEL (the request's user_data in addr)\n");
    int p[2];
    pipe(p);
    char buf[16];
    ring_prep(&r, IORING_OP_READ, p[0], buf, sizeof buf, 0, 1);
    ring_run(&r, 0, IN_ORDER);
    printf("  ready: %u\n", ring_ready(&r));
    ring_prep(&r, IORING_OP_ASYNC_CANCEL, -1, NULL, 0, 0, 2)->addr = 1;
    ring_run(&r, 2, SORTED);
    ring_prep(&r, IORING_OP_ASYNC_CANCEL, -1, NULL, 0, 0, 3)->addr = 42;
    ring_run(&r, 1, IN_ORDER);
    SHOW(write(p[1], "still there", 11));
    SHOW(read(p[0], buf, sizeof buf));                   /* the cancelled read took nothing */
    close(p[0]);
    close(p[1]);
}

/* -- IOSQE_* flags ------------------------------------------------------------- */

static void links(void)
{
    printf("== IOSQE_IO_LINK\n");
    char buf[16] = {0};
    int fd = openat(dirfd_, "l", O_CREAT | O_RDWR | O_TRUNC, 0600);
    ring_prep(&r, IORING_OP_WRITE, fd, "linked", 6, 0, 1)->flags = IOSQE_IO_LINK;
    ring_prep(&r, IORING_OP_READ, fd, buf, sizeof buf, 0, 2);
    ring_run(&r, 2, IN_ORDER);
    show_buf("read after the linked write", buf, 6);
    printf("-- a failed head cancels the rest of its chain\n");
    ring_prep(&r, IORING_OP_READ, BADFD, buf, 4, 0, 3)->flags = IOSQE_IO_LINK;
    sqe_of(IORING_OP_NOP, -1, 4)->flags = IOSQE_IO_LINK;
    sqe_of(IORING_OP_NOP, -1, 5);
    sqe_of(IORING_OP_NOP, -1, 6);                          /* not in the chain */
    ring_run(&r, 4, SORTED);
    printf("-- a short read fails a link too\n");
    ring_prep(&r, IORING_OP_READ, fd, buf, sizeof buf, 0, 7)->flags = IOSQE_IO_LINK;
    sqe_of(IORING_OP_NOP, -1, 8);
    ring_run(&r, 2, SORTED);

    printf("== IOSQE_IO_HARDLINK: the rest run\n");
    ring_prep(&r, IORING_OP_READ, BADFD, buf, 4, 0, 10)->flags = IOSQE_IO_HARDLINK;
    sqe_of(IORING_OP_NOP, -1, 11)->flags = IOSQE_IO_HARDLINK;
    sqe_of(IORING_OP_NOP, -1, 12);
    ring_run(&r, 3, IN_ORDER);

    printf("== IORING_OP_LINK_TIMEOUT\n");
    int p[2];
    pipe(p);
    struct __kernel_timespec t10 = ms(10), t20s = ms(20000);
    ring_prep(&r, IORING_OP_READ, p[0], buf, sizeof buf, 0, 20)->flags = IOSQE_IO_LINK;
    ring_prep(&r, IORING_OP_LINK_TIMEOUT, -1, &t10, 1, 0, 21);
    ring_run(&r, 2, SORTED);
    SHOW(write(p[1], "ab", 2));
    ring_prep(&r, IORING_OP_READ, p[0], buf, sizeof buf, 0, 22)->flags = IOSQE_IO_LINK;
    ring_prep(&r, IORING_OP_LINK_TIMEOUT, -1, &t20s, 1, 0, 23);
    ring_run(&r, 2, SORTED);
    ring_prep(&r, IORING_OP_LINK_TIMEOUT, -1, &t10, 1, 0, 24);   /* linked to nothing */
    ring_run(&r, 1, IN_ORDER);

    printf("== IOSQE_IO_DRAIN: waits for all before it, holds all after it\n");
    ring_prep(&r, IORING_OP_READ, p[0], buf, sizeof buf, 0, 30);
    sqe_of(IORING_OP_NOP, -1, 31)->flags = IOSQE_IO_DRAIN;
    sqe_of(IORING_OP_NOP, -1, 32);
    ring_run(&r, 0, IN_ORDER);
    printf("  ready before the pipe has data: %u\n", ring_ready(&r));
    SHOW(write(p[1], "cd", 2));
    wait_print(&r, 3, IN_ORDER);

    printf("== IOSQE_CQE_SKIP_SUCCESS\n");
    sqe_of(IORING_OP_NOP, -1, 40)->flags = IOSQE_CQE_SKIP_SUCCESS;
    ring_prep(&r, IORING_OP_READ, BADFD, buf, 4, 0, 41)->flags = IOSQE_CQE_SKIP_SUCCESS;
    sqe_of(IORING_OP_NOP, -1, 42);
    ring_run(&r, 2, SORTED);

    printf("== bad flags\n");
    sqe_of(IORING_OP_NOP, -1, 50)->flags = IOSQE_FIXED_FILE;     /* no files registered */
    ring_run(&r, 1, IN_ORDER);
    ring_prep(&r, IORING_OP_READ, 0, buf, 4, 0, 51)->flags = IOSQE_FIXED_FILE;
    ring_run(&r, 1, IN_ORDER);
    ring_prep(&r, IORING_OP_READ, fd, buf, 4, 0, 52)->flags = IOSQE_BUFFER_SELECT;   /* no group */
    ring_run(&r, 1, IN_ORDER);
    close(p[0]);
    close(p[1]);
    close(fd);
    unlinkat(dirfd_, "l", 0);
}

/* -- sockets ----------------------------------------------------------------- */

static void unix_sockets(void)
{
    printf("== SEND and RECV on an AF_UNIX socketpair\n");
    int sv[2];
    SHOW(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    char buf[32] = {0};
    ring_prep(&r, IORING_OP_SEND, sv[0], "ping", 4, 0, 1);
    ring_run(&r, 1, IN_ORDER);
    ring_prep(&r, IORING_OP_RECV, sv[1], buf, sizeof buf, 0, 2);
    ring_run(&r, 1, IN_ORDER);
    show_buf("received", buf, 4);
    ring_prep(&r, IORING_OP_RECV, sv[1], buf, sizeof buf, 0, 3);
    ring_run(&r, 0, IN_ORDER);
    printf("  ready with nothing sent: %u\n", ring_ready(&r));
    SHOW(write(sv[0], "pong", 4));
    wait_print(&r, 1, IN_ORDER);
    show_buf("received", buf, 4);
    ring_prep(&r, IORING_OP_RECV, sv[1], buf, sizeof buf, 0, 4)->msg_flags = MSG_DONTWAIT;
    ring_run(&r, 1, IN_ORDER);
    SHOW(write(sv[0], "abcdef", 6));
    ring_prep(&r, IORING_OP_RECV, sv[1], buf, 2, 0, 5);
    ring_run(&r, 1, IN_ORDER);
    ring_prep(&r, IORING_OP_RECV, sv[1], buf, sizeof buf, 0, 6)->msg_flags = MSG_PEEK;
    ring_run(&r, 1, IN_ORDER);
    ring_prep(&r, IORING_OP_RECV, sv[1], buf, sizeof buf, 0, 7);
    ring_run(&r, 1, IN_ORDER);
    show_buf("received", buf, 4);
    int fd = openat(dirfd_, "notsock", O_CREAT | O_RDWR, 0600);
    ring_prep(&r, IORING_OP_RECV, fd, buf, sizeof buf, 0, 8);
    ring_prep(&r, IORING_OP_SEND, fd, "x", 1, 0, 9);
    ring_prep(&r, IORING_OP_RECV, sv[1], BADPTR, 4, 0, 10)->msg_flags = MSG_DONTWAIT;  /* no data: EAGAIN first */
    ring_run(&r, 3, SORTED);
    close(fd);
    unlinkat(dirfd_, "notsock", 0);
    close(sv[1]);
    ring_prep(&r, IORING_OP_SEND, sv[0], "x", 1, 0, 11)->msg_flags = MSG_NOSIGNAL;
    ring_run(&r, 1, IN_ORDER);
    ring_prep(&r, IORING_OP_RECV, sv[0], buf, sizeof buf, 0, 12);
    ring_run(&r, 1, IN_ORDER);
    close(sv[0]);
}

static int tcp_listener(struct sockaddr_in *addr, int backlog)
{
    int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    bind(s, (struct sockaddr *)&a, sizeof a);
    if (backlog >= 0)
        listen(s, backlog);
    socklen_t len = sizeof *addr;
    getsockname(s, (struct sockaddr *)addr, &len);
    return s;
}

static void tcp(void)
{
    printf("== ACCEPT, CONNECT, SEND, RECV on loopback TCP\n");
    struct sockaddr_in addr;
    int lst = tcp_listener(&addr, 4);
    struct sockaddr_in peer;
    socklen_t peer_len = sizeof peer;
    struct io_uring_sqe *sqe = ring_prep(&r, IORING_OP_ACCEPT, lst, &peer, 0, 0, 1001);
    sqe->addr2 = (uintptr_t)&peer_len;
    ring_run(&r, 0, IN_ORDER);
    printf("  ready with no client: %u\n", ring_ready(&r));
    int cli = socket(AF_INET, SOCK_STREAM, 0);
    ring_prep(&r, IORING_OP_CONNECT, cli, &addr, 0, sizeof addr, 2);
    struct io_uring_cqe done[MAX_CQES];
    ring_run_keep(&r, 2, SORTED, done);                   /* the CONNECT's 2, then the ACCEPT's 1001 */
    printf("  peer: family %d len %u loopback %s\n", peer.sin_family, peer_len,
           peer.sin_addr.s_addr == htonl(INADDR_LOOPBACK) ? "yes" : "no");

    struct pollfd pfd = {lst, POLLIN, 0};
    SHOW(poll(&pfd, 1, 0));                               /* none left: the ring took it */
    int srv = done[1].res;
    char buf[32] = {0};
    ring_prep(&r, IORING_OP_RECV, srv, buf, sizeof buf, 0, 3);
    ring_run(&r, 0, IN_ORDER);
    ring_prep(&r, IORING_OP_SEND, cli, "hello tcp", 9, 0, 4);
    ring_run(&r, 2, SORTED);
    show_buf("received", buf, 9);
    ring_prep(&r, IORING_OP_SEND, srv, "reply", 5, 0, 5)->flags = IOSQE_IO_LINK;
    ring_prep(&r, IORING_OP_RECV, cli, buf, sizeof buf, 0, 6);
    ring_run(&r, 2, IN_ORDER);
    show_buf("received", buf, 5);

    printf("-- ACCEPT flags and errors\n");
    int cli2 = socket(AF_INET, SOCK_STREAM, 0);
    connect(cli2, (struct sockaddr *)&addr, sizeof addr);
    sqe = ring_prep(&r, IORING_OP_ACCEPT, lst, NULL, 0, 0, 1010);
    sqe->accept_flags = SOCK_CLOEXEC;
    ring_run_keep(&r, 1, IN_ORDER, done);
    SHOW(fcntl(done[0].res, F_GETFD));
    close(done[0].res);
    int nolisten = tcp_listener(&peer, -1);
    ring_prep(&r, IORING_OP_ACCEPT, nolisten, NULL, 0, 0, 1011);
    ring_prep(&r, IORING_OP_ACCEPT, BADFD, NULL, 0, 0, 1012);
    ring_prep(&r, IORING_OP_ACCEPT, lst, NULL, 0, 0, 1013)->accept_flags = 0x40000000;
    ring_run(&r, 3, SORTED);

    printf("-- CONNECT errors\n");
    int cli3 = socket(AF_INET, SOCK_STREAM, 0);
    ring_prep(&r, IORING_OP_CONNECT, cli3, &peer, 0, sizeof peer, 20);   /* bound, not listening */
    ring_run(&r, 1, IN_ORDER);
    ring_prep(&r, IORING_OP_CONNECT, cli, &addr, 0, sizeof addr, 21);    /* connected already */
    ring_prep(&r, IORING_OP_CONNECT, cli3, &addr, 0, 3, 22);              /* short address */
    ring_prep(&r, IORING_OP_CONNECT, cli3, BADPTR, 0, sizeof addr, 23);
    ring_run(&r, 3, SORTED);
    close(cli3);
    close(cli2);
    close(nolisten);
    close(cli);
    close(srv);
    close(lst);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    signal(SIGPIPE, SIG_IGN);
    umask(022);
    strcpy(dir, "/tmp/io_uring_ops.XXXXXX");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    dirfd_ = open(dir, O_RDONLY | O_DIRECTORY);
    ring_must(&r, 16, 0, 0);
    openat_close();
    stat_sync_size();
    names();
    polls();
    timeouts();
    cancels();
    links();
    unix_sockets();
    tcp();
    ring_free(&r);
    close(dirfd_);
    rmdir(dir);
    return 0;
}
