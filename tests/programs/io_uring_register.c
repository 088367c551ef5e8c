/*
 * io_uring's extended attributes, FILES_UPDATE, MSG_RING and the io_uring_register
 * opcodes around them, each with the errors Linux gives:
 *   1. FSETXATTR, FGETXATTR, SETXATTR, GETXATTR (checked again by getxattr(2));
 *   2. FILES_UPDATE from an SQE (SKIP, -1, IORING_FILE_INDEX_ALLOC, no table,
 *      past the table), and a fixed READ through an updated slot;
 *   3. MSG_RING: IORING_MSG_DATA (FLAGS_PASS, CQE_SKIP) and IORING_MSG_SEND_FD
 *      into another ring's table, then used there;
 *   4. IORING_REGISTER_SYNC_CANCEL of a pending pipe READ;
 *   5. IORING_REGISTER_PERSONALITY and UNREGISTER_PERSONALITY, an SQE's
 *      personality, and (as root) a child that dropped to uid 1000 opening a
 *      0600 file with root's personality;
 *   6. IORING_SETUP_R_DISABLED, IORING_REGISTER_RESTRICTIONS, ENABLE_RINGS;
 *   7. IORING_REGISTER_RING_FDS, UNREGISTER_RING_FDS, IORING_ENTER_REGISTERED_RING
 *      and IORING_REGISTER_USE_REGISTERED_RING.
 *
 * Rings are set up with IORING_SETUP_SUBMIT_ALL, so that an SQE refused when
 * prepared stops no submission, and every wait is bounded (2 s): a CQE that
 * never comes shows as "wait: ETIME" and a missing CQE, not a hang.
 */
#include "uring.h"
#include <signal.h>
#include <sys/wait.h>
#include <sys/xattr.h>

#define IN_ORDER 0
#define SORTED 1

/* after 6.1 */
#define MSG_RING_FLAGS_PASS (1U << 1)            /* 6.3: file_index is the target CQE's flags */
#define REGISTER_USE_REGISTERED_RING (1U << 31)  /* 6.3: io_uring_register's fd is an index */
#define RINGFD_REG_MAX 16                        /* IO_RINGFD_REG_MAX */

static char dir[64];
static int dirfd_;
static struct ring r;

/* io_uring_enter on ring x submitting to_submit SQEs and waiting for n CQEs,
 * for 2 s at most. */
static long enter_wait_on(struct ring *x, unsigned to_submit, unsigned n)
{
    struct __kernel_timespec ts = {2, 0};
    struct io_uring_getevents_arg arg = {.ts = (uintptr_t)&ts};
    return uring_enter(x->fd, to_submit, n, IORING_ENTER_GETEVENTS | IORING_ENTER_EXT_ARG, &arg, sizeof arg);
}

/* Publish x's SQEs, submit them, wait for n CQEs (bounded) and print them. */
static void run_on(struct ring *x, unsigned n, int sorted)
{
    unsigned pending = x->sqe_tail - __atomic_load_n(x->sq_head, __ATOMIC_ACQUIRE);
    __atomic_store_n(x->sq_tail, x->sqe_tail, __ATOMIC_RELEASE);
    long submitted = n ? enter_wait_on(x, pending, n) : uring_enter(x->fd, pending, 0, 0, NULL, 0);
    if (submitted < 0)
        printf("  submit: %s\n", uring_errname(errno));
    else
        printf("  submit: %ld\n", submitted);
    expect_cqes(x, n, sorted, NULL);
}

static void run(unsigned n, int sorted)
{
    run_on(&r, n, sorted);
}

/* Wait, submitting nothing, for n CQEs on x (bounded) and print them. */
static void wait_on(struct ring *x, unsigned n, int sorted)
{
    if (enter_wait_on(x, 0, n) < 0)
        printf("  wait %u: %s\n", n, uring_errname(errno));
    expect_cqes(x, n, sorted, NULL);
}

/* Submit the SQEs queued on r, wait for one CQE, print it and return its result. */
static int run_one(void)
{
    unsigned pending = r.sqe_tail - __atomic_load_n(r.sq_head, __ATOMIC_ACQUIRE);
    __atomic_store_n(r.sq_tail, r.sqe_tail, __ATOMIC_RELEASE);
    if (enter_wait_on(&r, pending, 1) < 0)
        printf("  submit: %s\n", uring_errname(errno));
    return reap_one(&r);
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

/* A READ of 4 bytes at offset 0 through fixed slot `slot` of ring x. */
static void fixed_read_on(struct ring *x, unsigned slot, uint64_t ud)
{
    static char buf[8];
    memset(buf, 0, sizeof buf);
    ring_prep(x, IORING_OP_READ, slot, buf, 4, 0, ud)->flags = IOSQE_FIXED_FILE;
    run_on(x, 1, IN_ORDER);
    if (buf[0])
        show_buf("read", buf, 4);
}

/* -- 1. extended attributes ------------------------------------------------------ */

/* An xattr SQE: name in addr, value in addr2, size in len, flags in
 * xattr_flags, path in addr3 (for the path opcodes; fd is then unused). */
static struct io_uring_sqe *xattr_sqe(int op, int fd, const char *path, const char *name, void *value,
                                      unsigned size, unsigned flags, uint64_t ud)
{
    struct io_uring_sqe *sqe = ring_prep(&r, op, fd, name, size, (uintptr_t)value, ud);
    sqe->xattr_flags = flags;
    sqe->addr3 = (uintptr_t)path;
    return sqe;
}

static char xval[8][16];

static void xattrs(void)
{
    printf("== FSETXATTR, FGETXATTR, SETXATTR, GETXATTR\n");
    int fd = file_with("x", "data");
    char path[128];
    snprintf(path, sizeof path, "%s/x", dir);
    memset(xval, 0, sizeof xval);
    printf("-- set\n");
    xattr_sqe(IORING_OP_FSETXATTR, fd, NULL, "user.a", "alpha", 5, 0, 1);
    xattr_sqe(IORING_OP_SETXATTR, -1, path, "user.b", "bravo!", 6, XATTR_CREATE, 2);
    xattr_sqe(IORING_OP_FSETXATTR, fd, NULL, "user.empty", "", 0, 0, 3);
    run(3, SORTED);
    printf("-- get\n");
    xattr_sqe(IORING_OP_FGETXATTR, fd, NULL, "user.b", xval[0], 16, 0, 11);
    xattr_sqe(IORING_OP_GETXATTR, -1, path, "user.a", xval[1], 16, 0, 12);
    xattr_sqe(IORING_OP_GETXATTR, -1, path, "user.b", NULL, 0, 0, 13);         /* size 0: the size */
    xattr_sqe(IORING_OP_FGETXATTR, fd, NULL, "user.a", xval[2], 5, 0, 14);      /* exactly */
    xattr_sqe(IORING_OP_FGETXATTR, fd, NULL, "user.empty", xval[3], 16, 0, 15);
    run(5, SORTED);
    show_buf("user.b", xval[0], 6);
    show_buf("user.a", xval[1], 5);
    show_buf("user.a exactly", xval[2], 5);
    printf("-- errors\n");
    xattr_sqe(IORING_OP_FGETXATTR, fd, NULL, "user.a", xval[4], 2, 0, 20);      /* ERANGE */
    xattr_sqe(IORING_OP_GETXATTR, -1, path, "user.b", xval[4], 5, 0, 21);       /* ERANGE */
    xattr_sqe(IORING_OP_FGETXATTR, fd, NULL, "user.none", xval[4], 16, 0, 22);  /* ENODATA */
    xattr_sqe(IORING_OP_GETXATTR, -1, path, "user.none", xval[4], 16, 0, 23);
    xattr_sqe(IORING_OP_FSETXATTR, fd, NULL, "user.a", "x", 1, XATTR_CREATE, 24);   /* EEXIST */
    xattr_sqe(IORING_OP_SETXATTR, -1, path, "user.none", "x", 1, XATTR_REPLACE, 25); /* ENODATA */
    xattr_sqe(IORING_OP_FSETXATTR, fd, NULL, BADPTR, "x", 1, 0, 26);            /* EFAULT */
    xattr_sqe(IORING_OP_GETXATTR, -1, path, BADPTR, xval[4], 16, 0, 27);
    xattr_sqe(IORING_OP_FSETXATTR, fd, NULL, "user.c", BADPTR, 4, 0, 28);       /* a bad value */
    xattr_sqe(IORING_OP_FGETXATTR, fd, NULL, "user.a", BADPTR, 16, 0, 29);      /* a bad buffer */
    xattr_sqe(IORING_OP_GETXATTR, -1, BADPTR, "user.a", xval[4], 16, 0, 30);    /* a bad path */
    xattr_sqe(IORING_OP_SETXATTR, -1, "/nonexistent/x", "user.a", "x", 1, 0, 31);
    xattr_sqe(IORING_OP_FGETXATTR, BADFD, NULL, "user.a", xval[4], 16, 0, 32);
    xattr_sqe(IORING_OP_FSETXATTR, fd, NULL, "user.a", "x", 1, 4, 33);          /* no such flag */
    xattr_sqe(IORING_OP_FGETXATTR, fd, NULL, "user.a", xval[4], 16, 1, 34);     /* get takes none */
    xattr_sqe(IORING_OP_FSETXATTR, fd, NULL, "nonamespace", "x", 1, 0, 35);
    xattr_sqe(IORING_OP_FSETXATTR, fd, NULL, "", "x", 1, 0, 36);
    xattr_sqe(IORING_OP_FGETXATTR, 0, NULL, "user.a", xval[4], 16, 0, 37)->flags = IOSQE_FIXED_FILE;
    static char longname[300];
    memset(longname, 'n', sizeof longname - 1);
    memcpy(longname, "user.", 5);
    xattr_sqe(IORING_OP_FSETXATTR, fd, NULL, longname, "x", 1, 0, 38);          /* > XATTR_NAME_MAX */
    xattr_sqe(IORING_OP_FSETXATTR, fd, NULL, "user.big", xval[4], 65537, 0, 39); /* > XATTR_SIZE_MAX */
    run(20, SORTED);
    printf("-- XATTR_REPLACE, then the plain system calls\n");
    xattr_sqe(IORING_OP_SETXATTR, -1, path, "user.a", "ALPHA2", 6, XATTR_REPLACE, 40);
    run(1, IN_ORDER);
    char buf[32] = {0};
    SHOW(getxattr(path, "user.a", buf, sizeof buf));
    show_buf("user.a", buf, 6);
    SHOW(fgetxattr(fd, "user.b", buf, sizeof buf));
    show_buf("user.b", buf, 6);
    SHOW(getxattr(path, "user.c", buf, sizeof buf));
    SHOW(getxattr(path, "user.empty", buf, sizeof buf));
    char list[256];
    ssize_t n = listxattr(path, list, sizeof list);
    printf("  listxattr: %zd:", n);
    for (ssize_t i = 0; i < n; i += strlen(list + i) + 1)      /* the order is the filesystem's */
        printf(" %s", list + i);
    printf("\n");
    close(fd);
    unlinkat(dirfd_, "x", 0);
}

/* -- 2. FILES_UPDATE from an SQE -------------------------------------------------- */

/* A FILES_UPDATE SQE: the fds in addr, their count in len, the first slot in off. */
static struct io_uring_sqe *update_sqe(unsigned first, int *fds, unsigned n, uint64_t ud)
{
    return ring_prep(&r, IORING_OP_FILES_UPDATE, -1, fds, n, first, ud);
}

static void files_update_op(void)
{
    printf("== FILES_UPDATE (opcode 20: fds in addr, count in len, first slot in off)\n");
    int a = file_with("fa", "AAAA"), b = file_with("fb", "BBBB"), c = file_with("fc", "CCCC");
    int fds[4] = {a};
    update_sqe(0, fds, 1, 1);                                   /* no table: ENXIO */
    run(1, IN_ORDER);
    int table[3] = {a, -1, -1};
    SHOW(uring_register(r.fd, IORING_REGISTER_FILES, table, 3));
    fds[0] = b;
    update_sqe(1, fds, 1, 2);
    run(1, IN_ORDER);
    fixed_read_on(&r, 1, 3);
    fds[0] = IORING_REGISTER_FILES_SKIP;
    fds[1] = c;
    update_sqe(0, fds, 2, 4);                                   /* slot 0 kept, slot 1 is c */
    run(1, IN_ORDER);
    close(c);                                                   /* the table holds its own */
    fixed_read_on(&r, 0, 5);
    fixed_read_on(&r, 1, 6);
    fds[0] = -1;
    update_sqe(1, fds, 1, 7);                                   /* slot 1 emptied */
    run(1, IN_ORDER);
    fixed_read_on(&r, 1, 8);
    printf("-- errors\n");
    fds[0] = b;
    fds[1] = b;
    update_sqe(2, fds, 2, 10);                                  /* past the table */
    update_sqe(3, fds, 1, 11);
    update_sqe(0, fds, 0, 12);                                  /* nr 0 */
    update_sqe(0, BADPTR, 1, 13);
    int bad[2] = {b, BADFD};
    update_sqe(1, bad, 2, 14);                                  /* the first taken, then EBADF */
    int ring_itself[1] = {r.fd};
    update_sqe(2, ring_itself, 1, 15);
    update_sqe(2, fds, 1, 16)->rw_flags = 1;
    update_sqe(2, fds, 1, 17)->flags = IOSQE_FIXED_FILE;
    update_sqe(2, fds, 1, 18)->splice_fd_in = 1;
    run(9, SORTED);
    fixed_read_on(&r, 1, 19);
    printf("-- IORING_FILE_INDEX_ALLOC: free slots picked, their indices written back\n");
    update_sqe(1, fds, 1, 20)->fd = BADFD;                      /* fd is not looked at */
    run(1, IN_ORDER);
    int two[2] = {a, b};
    update_sqe(IORING_FILE_INDEX_ALLOC, two, 2, 21);            /* one slot free: ENFILE after it */
    run(1, IN_ORDER);
    printf("  indices: %d %s\n", two[0], two[1] == b ? "(second untouched)" : "(second changed)");
    fds[0] = -1;
    update_sqe(2, fds, 1, 22);
    run(1, IN_ORDER);
    two[0] = a;
    two[1] = b;
    update_sqe(IORING_FILE_INDEX_ALLOC, two, 1, 23);
    run(1, IN_ORDER);
    printf("  index: %d\n", two[0]);
    fixed_read_on(&r, two[0], 24);
    SHOW(uring_register(r.fd, IORING_UNREGISTER_FILES, NULL, 0));
    close(a);
    close(b);
    unlinkat(dirfd_, "fa", 0);
    unlinkat(dirfd_, "fb", 0);
    unlinkat(dirfd_, "fc", 0);
}

/* -- 3. MSG_RING ------------------------------------------------------------------- */

/* A MSG_RING SQE to ring fd `target`: command in addr, the target CQE's res in
 * len and user_data in off. */
static struct io_uring_sqe *msg_sqe(int target, unsigned cmd, unsigned len, uint64_t data, uint64_t ud)
{
    return ring_prep(&r, IORING_OP_MSG_RING, target, (void *)(uintptr_t)cmd, len, data, ud);
}

static void msg_ring_data(struct ring *t)
{
    printf("== MSG_RING IORING_MSG_DATA (target ring in fd, res in len, user_data in off)\n");
    msg_sqe(t->fd, IORING_MSG_DATA, 0x1234, 77, 1);
    run(1, IN_ORDER);
    printf("  target:\n");
    wait_on(t, 1, IN_ORDER);
    printf("-- IORING_MSG_RING_FLAGS_PASS: file_index is the target CQE's flags\n");
    msg_sqe(t->fd, IORING_MSG_DATA, 5, 78, 2)->file_index = 0x5a;      /* without the flag */
    msg_sqe(t->fd, IORING_MSG_DATA, 6, 79, 3)->msg_ring_flags = MSG_RING_FLAGS_PASS;
    struct io_uring_sqe *sqe = msg_sqe(t->fd, IORING_MSG_DATA, 7, 80, 4);
    sqe->msg_ring_flags = MSG_RING_FLAGS_PASS;
    sqe->file_index = 0x5a;
    run(3, SORTED);
    printf("  target:\n");
    wait_on(t, 2, SORTED);
    printf("  target ready after: %u\n", ring_ready(t));
    printf("-- to the ring itself\n");
    msg_sqe(r.fd, IORING_MSG_DATA, 9, 90, 5);
    run(2, SORTED);
    printf("-- errors\n");
    int p[2];
    pipe(p);
    msg_sqe(p[0], IORING_MSG_DATA, 1, 1, 10);                   /* not a ring: EBADFD */
    msg_sqe(BADFD, IORING_MSG_DATA, 1, 1, 11);
    msg_sqe(t->fd, IORING_MSG_DATA, 1, 1, 12)->msg_ring_flags = IORING_MSG_RING_CQE_SKIP;
    msg_sqe(t->fd, 7, 1, 1, 13);                                /* no such command */
    msg_sqe(t->fd, IORING_MSG_DATA, 1, 1, 14)->msg_ring_flags = 0x80;
    msg_sqe(t->fd, IORING_MSG_DATA, 1, 1, 15)->addr3 = 1;     /* a source slot for DATA */
    msg_sqe(t->fd, IORING_MSG_DATA, 1, 1, 16)->personality = 1;
    msg_sqe(t->fd, IORING_MSG_DATA, 1, 1, 17)->buf_index = 1;
    run(8, SORTED);
    printf("  target ready after: %u\n", ring_ready(t));
    close(p[0]);
    close(p[1]);
}

static void msg_ring_send_fd(struct ring *t)
{
    printf("== MSG_RING IORING_MSG_SEND_FD (source slot in addr3, target slot + 1 in file_index)\n");
    int m = file_with("m", "MSGS"), n = file_with("n", "NNNN");
    struct ring bare;                                           /* a ring with no file table */
    ring_must(&bare, 4, IORING_SETUP_SUBMIT_ALL, 0);
    struct ring disabled;                                       /* a ring not yet enabled */
    ring_must(&disabled, 4, IORING_SETUP_SUBMIT_ALL | IORING_SETUP_R_DISABLED, 0);
    int none[1] = {-1};
    SHOW(uring_register(disabled.fd, IORING_REGISTER_FILES, none, 1));
    struct io_uring_sqe *sqe = msg_sqe(t->fd, IORING_MSG_SEND_FD, 0, 60, 1);
    sqe->addr3 = 0;
    sqe->file_index = 1;
    run(1, IN_ORDER);                                           /* the sender has no table: EBADF */
    int mine[3] = {m, -1, n};
    SHOW(uring_register(r.fd, IORING_REGISTER_FILES, mine, 3));
    int theirs[4] = {-1, -1, -1, -1};
    SHOW(uring_register(t->fd, IORING_REGISTER_FILES, theirs, 4));
    sqe = msg_sqe(t->fd, IORING_MSG_SEND_FD, 0, 61, 2);
    sqe->addr3 = 0;
    sqe->file_index = 3;                                        /* target slot 2 */
    run(1, IN_ORDER);
    printf("  target:\n");
    wait_on(t, 1, IN_ORDER);
    fixed_read_on(t, 2, 3);
    printf("-- CQE_SKIP: installed, nothing posted to the target\n");
    sqe = msg_sqe(t->fd, IORING_MSG_SEND_FD, 0, 62, 4);
    sqe->addr3 = 2;
    sqe->file_index = 1;
    sqe->msg_ring_flags = IORING_MSG_RING_CQE_SKIP;
    run(1, IN_ORDER);
    printf("  target ready: %u\n", ring_ready(t));
    fixed_read_on(t, 0, 5);
    printf("-- IORING_FILE_INDEX_ALLOC: the sender's res is the slot taken\n");
    sqe = msg_sqe(t->fd, IORING_MSG_SEND_FD, 0, 63, 6);
    sqe->addr3 = 0;
    sqe->file_index = IORING_FILE_INDEX_ALLOC;
    run(1, IN_ORDER);
    printf("  target:\n");
    wait_on(t, 1, IN_ORDER);
    printf("-- an occupied target slot is replaced\n");
    sqe = msg_sqe(t->fd, IORING_MSG_SEND_FD, 0, 64, 7);
    sqe->addr3 = 2;
    sqe->file_index = 3;
    run(1, IN_ORDER);
    printf("  target:\n");
    wait_on(t, 1, IN_ORDER);
    fixed_read_on(t, 2, 8);
    printf("-- errors\n");
    sqe = msg_sqe(t->fd, IORING_MSG_SEND_FD, 0, 0, 10);
    sqe->addr3 = 1;                                             /* an empty source slot */
    sqe->file_index = 1;
    sqe = msg_sqe(t->fd, IORING_MSG_SEND_FD, 0, 0, 11);
    sqe->addr3 = 3;                                             /* past the sender's table */
    sqe->file_index = 1;
    sqe = msg_sqe(t->fd, IORING_MSG_SEND_FD, 0, 0, 12);
    sqe->file_index = 5;                                        /* past the target's table */
    sqe = msg_sqe(t->fd, IORING_MSG_SEND_FD, 0, 0, 13);
    sqe->file_index = 0;                                        /* slot "-1" */
    sqe = msg_sqe(r.fd, IORING_MSG_SEND_FD, 0, 0, 14);
    sqe->file_index = 1;                                        /* to the ring itself */
    sqe = msg_sqe(bare.fd, IORING_MSG_SEND_FD, 0, 0, 15);
    sqe->file_index = 1;                                        /* a target with no table */
    sqe = msg_sqe(t->fd, IORING_MSG_SEND_FD, 1, 0, 16);
    sqe->file_index = 1;                                        /* a res (len) for SEND_FD */
    sqe = msg_sqe(disabled.fd, IORING_MSG_SEND_FD, 0, 0, 17);
    sqe->file_index = 1;                                        /* a disabled target */
    sqe = msg_sqe(t->fd, IORING_MSG_SEND_FD, 0, 0, 18);
    sqe->addr3 = 2;
    sqe->file_index = 1;
    sqe->flags = IOSQE_FIXED_FILE;                              /* the target as fixed slot 0: m */
    run(9, SORTED);
    printf("  target ready after: %u\n", ring_ready(t));
    printf("-- FLAGS_PASS is DATA's: SEND_FD ignores it\n");
    sqe = msg_sqe(t->fd, IORING_MSG_SEND_FD, 0, 66, 19);
    sqe->addr3 = 2;
    sqe->file_index = 2;
    sqe->msg_ring_flags = MSG_RING_FLAGS_PASS;
    run(1, IN_ORDER);
    printf("  target:\n");
    wait_on(t, 1, IN_ORDER);
    fixed_read_on(t, 1, 20);
    printf("-- a ring's fd cannot be a registered file\n");
    int ring_slot[1] = {t->fd};
    struct io_uring_files_update up = {.offset = 1, .fds = (uintptr_t)ring_slot};
    SHOW(uring_register(r.fd, IORING_REGISTER_FILES_UPDATE, &up, 1));
    SHOW(uring_register(r.fd, IORING_UNREGISTER_FILES, NULL, 0));
    SHOW(uring_register(t->fd, IORING_UNREGISTER_FILES, NULL, 0));
    ring_free(&bare);
    ring_free(&disabled);
    close(m);
    close(n);
    unlinkat(dirfd_, "m", 0);
    unlinkat(dirfd_, "n", 0);
}

static void msg_ring(void)
{
    struct ring t;
    ring_must(&t, 8, IORING_SETUP_SUBMIT_ALL, 0);
    msg_ring_data(&t);
    msg_ring_send_fd(&t);
    ring_free(&t);
}

/* -- 4. SYNC_CANCEL ---------------------------------------------------------------- */

/* struct io_uring_sync_cancel_reg as 6.6 has it (opcode for ASYNC_CANCEL_OP). */
struct sync_cancel {
    uint64_t addr;
    int32_t fd;
    uint32_t flags;
    struct __kernel_timespec timeout;
    uint8_t opcode;
    uint8_t pad[7];
    uint64_t pad2[3];
};

static long sync_cancel(struct sync_cancel *sc, unsigned nr_args)
{
    return uring_register(r.fd, IORING_REGISTER_SYNC_CANCEL, sc, nr_args);
}

/* A READ of the pipe that waits, submitted without waiting for it. */
static char pipebuf[8][8];

static void pending_read(int fd, uint64_t ud)
{
    ring_prep(&r, IORING_OP_READ, fd, pipebuf[ud % 8], 8, 0, ud);
    __atomic_store_n(r.sq_tail, r.sqe_tail, __ATOMIC_RELEASE);
    if (uring_enter(r.fd, 1, 0, 0, NULL, 0) != 1)
        printf("  submit: %s\n", uring_errname(errno));
}

static void sync_cancels(void)
{
    printf("== IORING_REGISTER_SYNC_CANCEL (struct io_uring_sync_cancel_reg)\n");
    int p[2];
    pipe(p);
    struct sync_cancel sc = {.addr = 41, .fd = -1, .timeout = {-1, -1}};
    pending_read(p[0], 41);
    printf("  ready before: %u\n", ring_ready(&r));
    SHOW(sync_cancel(&sc, 1));
    wait_on(&r, 1, IN_ORDER);
    SHOW(sync_cancel(&sc, 1));                                  /* nothing left: ENOENT */
    printf("-- a timeout of 0\n");
    sc = (struct sync_cancel){.addr = 42, .fd = -1, .timeout = {0, 0}};
    pending_read(p[0], 42);
    SHOW(sync_cancel(&sc, 1));
    wait_on(&r, 1, IN_ORDER);
    SHOW(sync_cancel(&sc, 1));
    printf("-- ANY | ALL: the count\n");
    pending_read(p[0], 43);
    pending_read(p[0], 44);
    sc = (struct sync_cancel){.fd = -1, .flags = IORING_ASYNC_CANCEL_ANY | IORING_ASYNC_CANCEL_ALL,
                              .timeout = {-1, -1}};
    SHOW(sync_cancel(&sc, 1));
    wait_on(&r, 2, SORTED);
    SHOW(sync_cancel(&sc, 1));                                  /* ALL of none: 0 */
    printf("-- FD: the pending read of the pipe's fd\n");
    pending_read(p[0], 45);
    sc = (struct sync_cancel){.fd = p[0], .flags = IORING_ASYNC_CANCEL_FD, .timeout = {-1, -1}};
    SHOW(sync_cancel(&sc, 1));
    wait_on(&r, 1, IN_ORDER);
    printf("-- errors\n");
    pending_read(p[0], 46);
    sc = (struct sync_cancel){.addr = 46, .fd = -1, .timeout = {-1, -1}};
    SHOW(sync_cancel(&sc, 0));                                  /* nr_args must be 1 */
    SHOW(sync_cancel(&sc, 2));
    SHOW(sync_cancel(NULL, 1));
    SHOW(sync_cancel(BADPTR, 1));
    sc.pad2[0] = 1;
    SHOW(sync_cancel(&sc, 1));                                  /* padding not zero */
    sc.pad2[0] = 0;
    sc.flags = 1U << 30;
    SHOW(sync_cancel(&sc, 1));                                  /* no such flag */
    sc.flags = IORING_ASYNC_CANCEL_FD;
    sc.fd = BADFD;
    SHOW(sync_cancel(&sc, 1));
    sc.flags = IORING_ASYNC_CANCEL_FD | IORING_ASYNC_CANCEL_FD_FIXED;
    sc.fd = 0;
    SHOW(sync_cancel(&sc, 1));                                  /* no fixed table */
    printf("  ready: %u\n", ring_ready(&r));
    printf("-- a timeout with tv_nsec out of range: not looked at, nothing had to wait\n");
    sc = (struct sync_cancel){.addr = 46, .fd = -1, .timeout = {0, 2000000000}};
    SHOW(sync_cancel(&sc, 1));
    wait_on(&r, 1, IN_ORDER);
    close(p[0]);
    close(p[1]);
}

/* -- 5. personalities -------------------------------------------------------------- */

/* An OPENAT of the test directory's file `name`, read-only, with personality
 * pers: prints the CQE ("fd" if it opened) and closes what it opened. */
static void open_as(const char *name, unsigned pers, uint64_t ud)
{
    ring_prep(&r, IORING_OP_OPENAT, dirfd_, name, 0, 0, ud)->personality = pers;
    int fd = run_one();
    if (fd >= 0) {
        char buf[8] = {0};
        read(fd, buf, 6);
        show_buf("read", buf, 6);
        close(fd);
    }
}

/* As root: a child that dropped to uid and gid 1000 (sharing the ring and
 * nothing else) opens the 0600 file without a personality (EACCES), with
 * root's (ok) and with its own (EACCES). */
static void cross_credentials(unsigned root_pers)
{
    if (geteuid() != 0) {
        printf("-- (not root: no child with other credentials)\n");
        return;
    }
    printf("-- a child at uid 1000 with root's personality\n");
    fchmod(dirfd_, 0755);
    pid_t pid = fork();
    if (pid == 0) {
        if (setresgid(1000, 1000, 1000) || setresuid(1000, 1000, 1000)) {
            printf("  setresuid: %s\n", uring_errname(errno));
            _exit(1);
        }
        open_as("secret", 0, 1101);
        open_as("secret", root_pers, 1102);
        long mine = uring_register(r.fd, IORING_REGISTER_PERSONALITY, NULL, 0);
        printf("  the child's own personality: %s\n", mine > 0 ? "registered" : uring_errname(errno));
        open_as("secret", mine, 1103);
        SHOW(uring_register(r.fd, IORING_UNREGISTER_PERSONALITY, NULL, mine));
        fflush(stdout);
        _exit(0);
    }
    int status;
    waitpid(pid, &status, 0);
    printf("  child: exit %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    r.sqe_tail = *r.sq_tail;                                    /* the child moved the shared tail */
    fchmod(dirfd_, 0700);
}

static void personalities(void)
{
    printf("== IORING_REGISTER_PERSONALITY and UNREGISTER_PERSONALITY\n");
    close(file_with("secret", "SECRET"));
    long id = SHOW(uring_register(r.fd, IORING_REGISTER_PERSONALITY, NULL, 0));
    long id2 = SHOW(uring_register(r.fd, IORING_REGISTER_PERSONALITY, NULL, 0));
    int dummy = 0;
    SHOW(uring_register(r.fd, IORING_REGISTER_PERSONALITY, &dummy, 0));    /* arg must be NULL */
    SHOW(uring_register(r.fd, IORING_REGISTER_PERSONALITY, NULL, 1));      /* nr_args must be 0 */
    open_as("secret", id, 1001);
    open_as("secret", 999, 1002);                               /* never registered: EINVAL */
    open_as("secret", 0, 1003);                                 /* 0: the submitter's own */
    cross_credentials(id);
    printf("-- unregister\n");
    SHOW(uring_register(r.fd, IORING_UNREGISTER_PERSONALITY, &dummy, id2));  /* arg must be NULL */
    SHOW(uring_register(r.fd, IORING_UNREGISTER_PERSONALITY, NULL, id2));
    SHOW(uring_register(r.fd, IORING_UNREGISTER_PERSONALITY, NULL, id2));    /* twice: EINVAL */
    SHOW(uring_register(r.fd, IORING_UNREGISTER_PERSONALITY, NULL, 0));
    SHOW(uring_register(r.fd, IORING_UNREGISTER_PERSONALITY, NULL, 70000));
    open_as("secret", id2, 1004);
    SHOW(uring_register(r.fd, IORING_REGISTER_PERSONALITY, NULL, 0));       /* the next id */
    printf("-- NOP with a personality\n");
    ring_prep(&r, IORING_OP_NOP, -1, NULL, 0, 0, 5)->personality = id;
    ring_prep(&r, IORING_OP_NOP, -1, NULL, 0, 0, 6)->personality = id2;
    run(2, SORTED);
    unlinkat(dirfd_, "secret", 0);
}

/* -- 6. restrictions --------------------------------------------------------------- */

static long restrict_ring(struct ring *x, struct io_uring_restriction *res, unsigned n)
{
    return uring_register(x->fd, IORING_REGISTER_RESTRICTIONS, res, n);
}

static long enable(struct ring *x)
{
    return uring_register(x->fd, IORING_REGISTER_ENABLE_RINGS, NULL, 0);
}

static void restrictions(void)
{
    printf("== IORING_SETUP_R_DISABLED, IORING_REGISTER_RESTRICTIONS, ENABLE_RINGS\n");
    struct ring d;
    ring_must(&d, 8, IORING_SETUP_R_DISABLED | IORING_SETUP_SUBMIT_ALL, 0);
    ring_prep(&d, IORING_OP_NOP, -1, NULL, 0, 0, 1);
    run_on(&d, 0, IN_ORDER);                                    /* a disabled ring: EBADFD */
    printf("  SQ head %u\n", *d.sq_head);
    d.sqe_tail = *d.sq_head;                                    /* take the NOP back */
    __atomic_store_n(d.sq_tail, d.sqe_tail, __ATOMIC_RELEASE);
    printf("-- bad restrictions (each refusal forgets what was given)\n");
    struct io_uring_restriction bad[1] = {{.opcode = IORING_RESTRICTION_LAST}};
    SHOW(restrict_ring(&d, bad, 1));
    bad[0] = (struct io_uring_restriction){.opcode = IORING_RESTRICTION_SQE_OP, .sqe_op = 250};
    SHOW(restrict_ring(&d, bad, 1));
    bad[0] = (struct io_uring_restriction){.opcode = IORING_RESTRICTION_REGISTER_OP, .register_op = 250};
    SHOW(restrict_ring(&d, bad, 1));
    SHOW(restrict_ring(&d, BADPTR, 1));
    SHOW(restrict_ring(&d, bad, 1025));                        /* more than 1024 */
    printf("-- NOP and READ, register PROBE\n");
    struct io_uring_restriction res[] = {
        {.opcode = IORING_RESTRICTION_SQE_OP, .sqe_op = IORING_OP_NOP},
        {.opcode = IORING_RESTRICTION_SQE_OP, .sqe_op = IORING_OP_READ},
        {.opcode = IORING_RESTRICTION_REGISTER_OP, .register_op = IORING_REGISTER_PROBE},
        {.opcode = IORING_RESTRICTION_SQE_FLAGS_ALLOWED, .sqe_flags = IOSQE_IO_LINK},
    };
    SHOW(restrict_ring(&d, res, 4));
    SHOW(restrict_ring(&d, res, 4));                            /* twice: EBUSY */
    SHOW(enable(&d));
    int fd = file_with("restricted", "READABLE");
    char buf[16] = {0};
    ring_prep(&d, IORING_OP_NOP, -1, NULL, 0, 0, 2);
    ring_prep(&d, IORING_OP_READ, fd, buf, 8, 0, 3);
    ring_prep(&d, IORING_OP_WRITE, fd, "no", 2, 0, 4);          /* not allowed: EACCES */
    ring_prep(&d, IORING_OP_NOP, -1, NULL, 0, 0, 5)->flags = IOSQE_IO_LINK;
    ring_prep(&d, IORING_OP_NOP, -1, NULL, 0, 0, 6);
    ring_prep(&d, IORING_OP_NOP, -1, NULL, 0, 0, 7)->flags = IOSQE_ASYNC;   /* a flag not allowed */
    run_on(&d, 6, SORTED);
    show_buf("read", buf, 8);
    struct { struct io_uring_probe p; struct io_uring_probe_op ops[64]; } probe;
    memset(&probe, 0, sizeof probe);
    OK(uring_register(d.fd, IORING_REGISTER_PROBE, &probe, 64));
    printf("  probe: READ %s, WRITE %s\n",
           probe.ops[IORING_OP_READ].flags & IO_URING_OP_SUPPORTED ? "supported" : "not",
           probe.ops[IORING_OP_WRITE].flags & IO_URING_OP_SUPPORTED ? "supported" : "not");
    SHOW(uring_register(d.fd, IORING_REGISTER_PROBE, &probe, 64));   /* allowed; not zeroed: EINVAL */
    SHOW(uring_register(d.fd, IORING_REGISTER_FILES, &fd, 1));  /* not allowed: EACCES */
    SHOW(uring_register(d.fd, IORING_REGISTER_PERSONALITY, NULL, 0));
    SHOW(enable(&d));
    SHOW(restrict_ring(&d, res, 4));
    SHOW(uring_register(d.fd, 200, NULL, 0));                   /* no such opcode */
    printf("-- a ring that was never disabled\n");
    SHOW(restrict_ring(&r, res, 4));
    SHOW(enable(&r));
    printf("-- a disabled ring enabled with no restrictions\n");
    struct ring e;
    ring_must(&e, 4, IORING_SETUP_R_DISABLED | IORING_SETUP_SUBMIT_ALL, 0);
    SHOW(enable(&e));
    SHOW(enable(&e));
    SHOW(restrict_ring(&e, res, 4));
    ring_prep(&e, IORING_OP_WRITE, fd, "ok", 2, 8, 8);
    run_on(&e, 1, IN_ORDER);
    ring_free(&e);
    printf("-- no restrictions at all (nr_args 0) allow nothing\n");
    ring_must(&e, 4, IORING_SETUP_R_DISABLED | IORING_SETUP_SUBMIT_ALL, 0);
    SHOW(restrict_ring(&e, NULL, 0));                           /* no array: EINVAL */
    SHOW(restrict_ring(&e, res, 0));                            /* an empty set */
    SHOW(restrict_ring(&e, res, 0));
    SHOW(enable(&e));
    ring_prep(&e, IORING_OP_NOP, -1, NULL, 0, 0, 9);
    run_on(&e, 1, IN_ORDER);
    memset(&probe, 0, sizeof probe);
    SHOW(uring_register(e.fd, IORING_REGISTER_PROBE, &probe, 64));
    ring_free(&e);
    ring_free(&d);
    close(fd);
    unlinkat(dirfd_, "restricted", 0);
}

/* -- 7. registered ring fds -------------------------------------------------------- */

static long ring_fds(unsigned op, struct io_uring_rsrc_update *up, unsigned n)
{
    return uring_register(r.fd, op, up, n);
}

/* One NOP submitted on ring x through registered index idx, waiting for it. */
static void nop_through(struct ring *x, unsigned idx, uint64_t ud)
{
    ring_prep(x, IORING_OP_NOP, -1, NULL, 0, 0, ud);
    __atomic_store_n(x->sq_tail, x->sqe_tail, __ATOMIC_RELEASE);
    long n = uring_enter(idx, 1, 1, IORING_ENTER_GETEVENTS | IORING_ENTER_REGISTERED_RING, NULL, 0);
    if (n < 0) {
        printf("  enter index %u: %s\n", idx, uring_errname(errno));
        x->sqe_tail--;
        __atomic_store_n(x->sq_tail, x->sqe_tail, __ATOMIC_RELEASE);
    } else {
        printf("  enter index %u: %ld\n", idx, n);
    }
    expect_cqes(x, n < 0 ? 0 : 1, IN_ORDER, NULL);
}

static void registered_rings(void)
{
    printf("== IORING_REGISTER_RING_FDS and UNREGISTER_RING_FDS, IORING_ENTER_REGISTERED_RING\n");
    struct ring u;
    ring_must(&u, 4, 0, 0);
    struct io_uring_rsrc_update up[2] = {{.offset = -1U, .data = r.fd}, {.offset = 5, .data = u.fd}};
    SHOW(ring_fds(IORING_REGISTER_RING_FDS, up, 2));
    printf("  offsets: %u %u\n", up[0].offset, up[1].offset);
    unsigned mine = up[0].offset;
    nop_through(&r, mine, 1);
    nop_through(&u, 5, 2);
    printf("-- an index never registered, and past the table\n");
    nop_through(&r, 3, 3);
    nop_through(&r, RINGFD_REG_MAX, 4);
    nop_through(&r, 1U << 20, 5);
    printf("-- registration errors\n");
    struct io_uring_rsrc_update one = {.offset = 5, .data = r.fd};
    SHOW(ring_fds(IORING_REGISTER_RING_FDS, &one, 1));          /* slot taken: EBUSY */
    one = (struct io_uring_rsrc_update){.offset = RINGFD_REG_MAX, .data = r.fd};
    SHOW(ring_fds(IORING_REGISTER_RING_FDS, &one, 1));
    one = (struct io_uring_rsrc_update){.offset = -1U, .resv = 1, .data = r.fd};
    SHOW(ring_fds(IORING_REGISTER_RING_FDS, &one, 1));
    int p[2];
    pipe(p);
    one = (struct io_uring_rsrc_update){.offset = -1U, .data = p[0]};
    SHOW(ring_fds(IORING_REGISTER_RING_FDS, &one, 1));          /* not a ring */
    one = (struct io_uring_rsrc_update){.offset = -1U, .data = BADFD};
    SHOW(ring_fds(IORING_REGISTER_RING_FDS, &one, 1));
    SHOW(ring_fds(IORING_REGISTER_RING_FDS, BADPTR, 1));
    SHOW(ring_fds(IORING_REGISTER_RING_FDS, up, 0));
    SHOW(ring_fds(IORING_REGISTER_RING_FDS, up, RINGFD_REG_MAX + 1));
    close(p[0]);
    close(p[1]);
    printf("-- io_uring_register through a registered index\n");
    SHOW(uring_register(mine, IORING_UNREGISTER_FILES | REGISTER_USE_REGISTERED_RING, NULL, 0));
    SHOW(uring_register(3, IORING_UNREGISTER_FILES | REGISTER_USE_REGISTERED_RING, NULL, 0));
    SHOW(uring_register(RINGFD_REG_MAX, IORING_UNREGISTER_FILES | REGISTER_USE_REGISTERED_RING, NULL, 0));
    printf("-- a forked child has no registered rings\n");
    pid_t pid = fork();
    if (pid == 0) {
        nop_through(&r, mine, 6);                               /* no io_uring task context yet */
        ring_prep(&r, IORING_OP_NOP, -1, NULL, 0, 0, 7);
        run(1, IN_ORDER);                                       /* now it has one */
        nop_through(&r, mine, 8);
        fflush(stdout);
        _exit(0);
    }
    int status;
    waitpid(pid, &status, 0);
    printf("  child: exit %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    r.sqe_tail = *r.sq_tail;
    printf("-- the ring's fd closed: still reached through its index\n");
    close(u.fd);
    nop_through(&u, 5, 9);
    printf("-- unregister\n");
    struct io_uring_rsrc_update gone[2] = {{.offset = 5}, {.offset = 7}};
    SHOW(ring_fds(IORING_UNREGISTER_RING_FDS, gone, 2));        /* 7 was empty: counted */
    nop_through(&u, 5, 10);
    gone[0] = (struct io_uring_rsrc_update){.offset = RINGFD_REG_MAX};
    SHOW(ring_fds(IORING_UNREGISTER_RING_FDS, gone, 1));
    gone[0] = (struct io_uring_rsrc_update){.offset = mine, .resv = 1};
    SHOW(ring_fds(IORING_UNREGISTER_RING_FDS, gone, 1));
    SHOW(ring_fds(IORING_UNREGISTER_RING_FDS, BADPTR, 1));
    gone[0] = (struct io_uring_rsrc_update){.offset = mine};
    SHOW(ring_fds(IORING_UNREGISTER_RING_FDS, gone, 1));
    nop_through(&r, mine, 11);
    u.fd = -1;
    ring_free(&u);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    signal(SIGPIPE, SIG_IGN);
    umask(022);
    strcpy(dir, "/tmp/io_uring_register.XXXXXX");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    dirfd_ = open(dir, O_RDONLY | O_DIRECTORY);
    ring_must(&r, 32, IORING_SETUP_SUBMIT_ALL, 0);
    xattrs();
    files_update_op();
    msg_ring();
    sync_cancels();
    personalities();
    restrictions();
    registered_rings();
    ring_free(&r);
    close(dirfd_);
    rmdir(dir);
    return 0;
}
