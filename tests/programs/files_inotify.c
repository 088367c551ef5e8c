/* inotify_init, inotify_init1, inotify_add_watch, inotify_rm_watch and the
 * events read from an inotify descriptor (after each step, all pending
 * events are read without blocking), on a fresh directory under /tmp:
 * create, write, close, truncate, chmod, rename (matching cookies),
 * unlink, mkdir/rmdir, watches on files, IN_ONESHOT, IN_MASK_ADD,
 * IN_MASK_CREATE, IN_IGNORED, FIONREAD, and a blocking read woken by an
 * event caused by a forked child.
 *
 * Watch descriptors are only compared with the one add_watch returned;
 * cookies are only compared with each other. */
#include "common.h"
#include "workdir.h"
#include <dirent.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/wait.h>

#ifndef IN_MASK_CREATE
#define IN_MASK_CREATE 0x10000000
#endif


static void print_mask(uint32_t m)
{
    static const struct { uint32_t bit; const char *name; } bits[] = {
        {IN_ACCESS, "ACCESS"}, {IN_MODIFY, "MODIFY"}, {IN_ATTRIB, "ATTRIB"},
        {IN_CLOSE_WRITE, "CLOSE_WRITE"}, {IN_CLOSE_NOWRITE, "CLOSE_NOWRITE"},
        {IN_OPEN, "OPEN"}, {IN_MOVED_FROM, "MOVED_FROM"}, {IN_MOVED_TO, "MOVED_TO"},
        {IN_CREATE, "CREATE"}, {IN_DELETE, "DELETE"}, {IN_DELETE_SELF, "DELETE_SELF"},
        {IN_MOVE_SELF, "MOVE_SELF"}, {IN_UNMOUNT, "UNMOUNT"}, {IN_Q_OVERFLOW, "Q_OVERFLOW"},
        {IN_IGNORED, "IGNORED"}, {IN_ISDIR, "ISDIR"},
    };
    const char *sep = "";
    for (unsigned i = 0; i < sizeof bits / sizeof *bits; i++)
        if (m & bits[i].bit) {
            printf("%s%s", sep, bits[i].name);
            sep = "|";
            m &= ~bits[i].bit;
        }
    if (m)
        printf("%s%#x", sep, m);
}

static int cur_wd;                  /* the wd events are expected to carry */
static uint32_t cookie_from, cookie_to;

/* Print FIONREAD, then read and print every pending event. */
static void drain(const char *step, int fd)
{
    char buf[4096] __attribute__((aligned(8)));
    int avail = -1;
    long r;

    if (ioctl(fd, FIONREAD, &avail) != 0)
        printf("%s: FIONREAD = -1 %s\n", step, errname(errno));
    else
        printf("%s: FIONREAD = %d\n", step, avail);
    while ((r = read(fd, buf, sizeof buf)) > 0) {
        for (long off = 0; off < r;) {
            struct inotify_event *ev = (void *)(buf + off);
            printf("  ");
            print_mask(ev->mask);
            if (ev->len)
                printf(" \"%s\" (len %u)", ev->name, ev->len);
            if (ev->wd != cur_wd)
                printf(" wd: unexpected");
            if (ev->mask & IN_MOVED_FROM)
                cookie_from = ev->cookie;
            else if (ev->mask & IN_MOVED_TO)
                cookie_to = ev->cookie;
            else if (ev->cookie)
                printf(" cookie: unexpected");
            printf("\n");
            off += sizeof *ev + ev->len;
        }
    }
    if (r == -1 && errno != EAGAIN)
        printf("  read = -1 %s\n", errname(errno));
}

static void test_init(void)
{
    printf("-- inotify_init/inotify_init1\n");
    long fd = SHOW(syscall(SYS_inotify_init));
    OCT(fcntl(fd, F_GETFL));
    SHOW(fcntl(fd, F_GETFD));
    SHOW(close(fd));
    fd = SHOW(syscall(SYS_inotify_init1, 0));
    OCT(fcntl(fd, F_GETFL));
    SHOW(close(fd));
    fd = SHOW(syscall(SYS_inotify_init1, IN_NONBLOCK));
    OCT(fcntl(fd, F_GETFL));
    SHOW(fcntl(fd, F_GETFD));
    SHOW(close(fd));
    fd = SHOW(syscall(SYS_inotify_init1, IN_CLOEXEC));
    OCT(fcntl(fd, F_GETFL));
    SHOW(fcntl(fd, F_GETFD));
    SHOW(close(fd));
    SHOW(syscall(SYS_inotify_init1, 1));
    SHOW(syscall(SYS_inotify_init1, IN_NONBLOCK | 1));
    SHOW(syscall(SYS_inotify_init1, -1));
    /* the descriptor itself */
    fd = SHOW(syscall(SYS_inotify_init1, IN_NONBLOCK));
    struct stat st;
    SHOW(syscall(SYS_fstat, fd, &st));      /* the type bits vary between kernels */
    char link[64], proc[64];
    snprintf(proc, sizeof proc, "/proc/self/fd/%ld", fd);
    long n = readlink(proc, link, sizeof link - 1);
    printf("readlink = \"%.*s\"\n", (int)(n > 0 ? n : 0), link);
    char buf[64];
    SHOW(read(fd, buf, sizeof buf));
    SHOW(write(fd, "x", 1));
    SHOW(lseek(fd, 0, SEEK_SET));
    SHOW(close(fd));
}

static void test_dir_watch(void)
{
    char buf[64];
    printf("-- a watch on the directory\n");
    long in = SHOW(syscall(SYS_inotify_init1, IN_NONBLOCK | IN_CLOEXEC));
    uint32_t mask = IN_CREATE | IN_DELETE | IN_MODIFY | IN_CLOSE_WRITE | IN_MOVED_FROM |
                    IN_MOVED_TO | IN_ATTRIB;
    long wd = SHOW(syscall(SYS_inotify_add_watch, in, ".", mask));
    cur_wd = wd;
    drain("nothing yet", in);
    SHOW(read(in, buf, sizeof buf));

    long fd = SHOW(syscall(SYS_open, "f", O_CREAT | O_WRONLY, 0644));
    drain("create", in);
    SHOW(write(fd, "abc", 3));
    drain("write", in);
    SHOW(write(fd, "def", 3));
    SHOW(write(fd, "ghi", 3));
    drain("two writes (merged)", in);
    SHOW(close(fd));
    drain("close", in);
    fd = SHOW(syscall(SYS_open, "f", O_RDONLY));
    SHOW(read(fd, buf, sizeof buf));
    SHOW(close(fd));
    drain("open, read and close read-only (not watched)", in);
    fd = SHOW(syscall(SYS_open, "f", O_WRONLY | O_TRUNC));
    drain("open O_TRUNC", in);
    SHOW(close(fd));
    drain("close", in);
    SHOW(syscall(SYS_truncate, "f", 100));
    drain("truncate", in);
    SHOW(syscall(SYS_chmod, "f", 0600));
    drain("chmod", in);
    SHOW(syscall(SYS_chown, "f", 0, 0));
    drain("chown", in);
    SHOW(syscall(SYS_link, "f", "f2"));
    drain("link", in);
    SHOW(syscall(SYS_unlink, "f2"));
    drain("unlink of a second link", in);
    cookie_from = cookie_to = 0;
    SHOW(syscall(SYS_rename, "f", "g"));
    drain("rename", in);
    CHECK(cookie_from == cookie_to && cookie_from != 0);
    uint32_t first = cookie_from;
    cookie_from = cookie_to = 0;
    SHOW(syscall(SYS_rename, "g", "f"));
    drain("rename back", in);
    CHECK(cookie_from == cookie_to && cookie_from != first);
    SHOW(syscall(SYS_symlink, "f", "sl"));
    drain("symlink", in);
    SHOW(syscall(SYS_mknod, "fifo", S_IFIFO | 0644, 0));
    drain("mknod", in);
    SHOW(syscall(SYS_unlink, "f"));
    SHOW(syscall(SYS_unlink, "sl"));
    SHOW(syscall(SYS_unlink, "fifo"));
    drain("unlink x3", in);
    SHOW(syscall(SYS_mkdir, "sub", 0755));
    drain("mkdir", in);
    fd = SHOW(syscall(SYS_open, "sub/inner", O_CREAT | O_WRONLY, 0644));
    SHOW(write(fd, "x", 1));
    SHOW(close(fd));
    drain("events inside a subdirectory (not watched)", in);
    SHOW(syscall(SYS_chmod, "sub", 0700));
    drain("chmod of the subdirectory", in);
    cookie_from = cookie_to = 0;
    SHOW(syscall(SYS_rename, "sub", "sub2"));
    drain("rename of the subdirectory", in);
    CHECK(cookie_from == cookie_to && cookie_from != 0);
    SHOW(syscall(SYS_unlink, "sub2/inner"));
    SHOW(syscall(SYS_rmdir, "sub2"));
    drain("rmdir", in);
    SHOW(syscall(SYS_chmod, ".", 0755));
    drain("chmod of the watched directory itself", in);

    printf("-- add_watch again, IN_MASK_ADD, IN_MASK_CREATE\n");
    long wd2 = SHOW(syscall(SYS_inotify_add_watch, in, ".", IN_CREATE));
    CHECK(wd2 == wd);
    fd = SHOW(syscall(SYS_open, "h", O_CREAT | O_WRONLY, 0644));
    SHOW(write(fd, "x", 1));
    SHOW(close(fd));
    drain("create, write, close with IN_CREATE only", in);
    wd2 = SHOW(syscall(SYS_inotify_add_watch, in, ".", IN_DELETE | IN_MASK_ADD));
    CHECK(wd2 == wd);
    SHOW(syscall(SYS_rename, "h", "h2"));
    SHOW(syscall(SYS_unlink, "h2"));
    drain("rename, unlink with IN_CREATE|IN_DELETE", in);
    SHOW(syscall(SYS_inotify_add_watch, in, ".", IN_CREATE | IN_MASK_CREATE));
    SHOW(syscall(SYS_inotify_add_watch, in, ".", IN_CREATE | IN_MASK_CREATE | IN_MASK_ADD));

    printf("-- inotify_rm_watch\n");
    SHOW(syscall(SYS_inotify_rm_watch, in, wd));
    drain("rm_watch", in);
    SHOW(syscall(SYS_inotify_rm_watch, in, wd));
    SHOW(syscall(SYS_inotify_rm_watch, in, 999));
    SHOW(syscall(SYS_inotify_rm_watch, in, -1));
    SHOW(syscall(SYS_inotify_rm_watch, BADFD, 1));
    long plain = SHOW(syscall(SYS_open, ".", O_RDONLY | O_DIRECTORY));
    SHOW(syscall(SYS_inotify_rm_watch, plain, 1));
    fd = SHOW(syscall(SYS_open, "after", O_CREAT | O_WRONLY, 0644));
    SHOW(close(fd));
    drain("create after rm_watch", in);
    SHOW(syscall(SYS_unlink, "after"));

    printf("-- add_watch errors\n");
    SHOW(syscall(SYS_inotify_add_watch, in, "missing", IN_CREATE));
    SHOW(syscall(SYS_inotify_add_watch, in, ".", 0));
    SHOW(syscall(SYS_inotify_add_watch, in, ".", IN_MASK_ADD));
    SHOW(syscall(SYS_inotify_add_watch, in, "", IN_CREATE));
    SHOW(syscall(SYS_inotify_add_watch, in, BADPTR, IN_CREATE));
    SHOW(syscall(SYS_inotify_add_watch, in, long_path(), IN_CREATE));
    SHOW(syscall(SYS_inotify_add_watch, in, "/nonexistent/x", IN_CREATE));
    SHOW(syscall(SYS_inotify_add_watch, BADFD, ".", IN_CREATE));
    SHOW(syscall(SYS_inotify_add_watch, plain, ".", IN_CREATE));
    SHOW(close(plain));
    SHOW(close(in));
}

static void test_file_watch(void)
{
    char buf[64];
    printf("-- a watch on a file\n");
    long fd = SHOW(syscall(SYS_open, "w", O_CREAT | O_WRONLY, 0644));
    SHOW(close(fd));
    SHOW(syscall(SYS_symlink, "w", "wl"));
    long in = SHOW(syscall(SYS_inotify_init1, IN_NONBLOCK));
    long wd = SHOW(syscall(SYS_inotify_add_watch, in, "w", IN_ALL_EVENTS));
    cur_wd = wd;
    long wd2 = SHOW(syscall(SYS_inotify_add_watch, in, "wl", IN_ALL_EVENTS));
    CHECK(wd2 == wd);                     /* followed: the same inode */
    SHOW(syscall(SYS_inotify_add_watch, in, "w", IN_ALL_EVENTS | IN_ONLYDIR));
    SHOW(syscall(SYS_inotify_add_watch, in, "wl", IN_ALL_EVENTS | IN_ONLYDIR));
    fd = SHOW(syscall(SYS_open, "w", O_RDWR));
    drain("open", in);
    SHOW(write(fd, "data", 4));
    drain("write", in);
    SHOW(pread(fd, buf, sizeof buf, 0));
    drain("read", in);
    SHOW(close(fd));
    drain("close", in);
    fd = SHOW(syscall(SYS_open, "w", O_RDONLY));
    SHOW(close(fd));
    drain("open and close read-only", in);
    fd = SHOW(syscall(SYS_open, "w", O_PATH));
    SHOW(close(fd));
    drain("O_PATH open and close", in);
    SHOW(syscall(SYS_chmod, "w", 0600));
    drain("chmod", in);
    SHOW(syscall(SYS_rename, "w", "w2"));
    drain("rename", in);
    SHOW(syscall(SYS_link, "w2", "w3"));
    drain("link", in);
    SHOW(syscall(SYS_unlink, "w2"));
    drain("unlink of one link", in);
    SHOW(syscall(SYS_unlink, "w3"));
    drain("unlink of the last link", in);
    SHOW(syscall(SYS_inotify_rm_watch, in, wd));
    SHOW(syscall(SYS_unlink, "wl"));
    SHOW(close(in));

    printf("-- IN_ONESHOT, IN_DONT_FOLLOW, watching a directory itself\n");
    in = SHOW(syscall(SYS_inotify_init1, IN_NONBLOCK));
    fd = SHOW(syscall(SYS_open, "o", O_CREAT | O_WRONLY, 0644));
    SHOW(close(fd));
    wd = SHOW(syscall(SYS_inotify_add_watch, in, "o", IN_ATTRIB | IN_ONESHOT));
    cur_wd = wd;
    SHOW(syscall(SYS_chmod, "o", 0600));
    SHOW(syscall(SYS_chmod, "o", 0644));
    drain("two chmods with IN_ONESHOT", in);
    SHOW(syscall(SYS_inotify_rm_watch, in, wd));
    SHOW(syscall(SYS_symlink, "o", "ol"));
    wd = SHOW(syscall(SYS_inotify_add_watch, in, "ol", IN_ATTRIB | IN_DELETE_SELF | IN_DONT_FOLLOW));
    cur_wd = wd;
    SHOW(syscall(SYS_chmod, "o", 0600));
    drain("chmod of the target", in);
    SHOW(syscall(SYS_fchownat, AT_FDCWD, "ol", 0, 0, AT_SYMLINK_NOFOLLOW));
    drain("lchown of the link", in);
    SHOW(syscall(SYS_unlink, "ol"));
    drain("unlink of the link", in);
    SHOW(syscall(SYS_unlink, "o"));
    SHOW(syscall(SYS_mkdir, "dir", 0755));
    wd = SHOW(syscall(SYS_inotify_add_watch, in, "dir", IN_ALL_EVENTS));
    cur_wd = wd;
    SHOW(syscall(SYS_inotify_add_watch, in, "dir/", IN_ONLYDIR | IN_ALL_EVENTS));
    SHOW(syscall(SYS_rename, "dir", "dir2"));
    drain("rename of the directory", in);
    fd = SHOW(syscall(SYS_open, "dir2", O_RDONLY | O_DIRECTORY));
    SHOW(syscall(SYS_getdents64, fd, buf, sizeof buf) > 0);
    SHOW(close(fd));
    drain("open, getdents, close", in);
    SHOW(syscall(SYS_rmdir, "dir2"));
    drain("rmdir", in);
    /* a short buffer: EINVAL, and the event stays */
    SHOW(syscall(SYS_mkdir, "dir", 0755));
    wd = SHOW(syscall(SYS_inotify_add_watch, in, "dir", IN_CREATE));
    cur_wd = wd;
    SHOW(syscall(SYS_mknod, "dir/a-long-name", S_IFIFO | 0644, 0));
    SHOW(read(in, buf, 16));
    SHOW(read(in, buf, 0));
    drain("after the short reads", in);
    SHOW(syscall(SYS_unlink, "dir/a-long-name"));
    SHOW(syscall(SYS_rmdir, "dir"));
    SHOW(close(in));
}

static void test_blocking(void)
{
    char buf[256] __attribute__((aligned(8)));
    printf("-- a blocking read woken by another process\n");
    long in = SHOW(syscall(SYS_inotify_init1, 0));
    long wd = SHOW(syscall(SYS_inotify_add_watch, in, ".", IN_CREATE));
    FLUSH();
    pid_t pid = fork();
    if (pid == 0) {
        usleep(200000);
        int fd = open("fromchild", O_CREAT | O_WRONLY, 0644);
        close(fd);
        _exit(0);
    }
    long n = SHOW(read(in, buf, sizeof buf));
    if (n > 0) {
        struct inotify_event *ev = (void *)buf;
        printf("event: ");
        print_mask(ev->mask);
        printf(" \"%s\"%s\n", ev->name, ev->wd == wd ? "" : " wd: unexpected");
    }
    waitpid(pid, NULL, 0);
    SHOW(syscall(SYS_unlink, "fromchild"));
    SHOW(close(in));
}

int main(void)
{
    enter_tmpdir();
    test_init();
    test_dir_watch();
    test_file_watch();
    test_blocking();
    leave_tmpdir();
    return 0;
}
