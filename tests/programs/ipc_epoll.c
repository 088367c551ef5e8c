/* epoll: epoll_create, epoll_create1, epoll_ctl, epoll_wait, epoll_pwait,
 * epoll_pwait2 on pipes, other epolls, pidfds and inotify: which files may be
 * watched (those with a poll operation: /proc's own files, sysctls, sysfs
 * attributes, /dev/random, and what they report), an epoll fd's missing read
 * and write and unchangeable anonymous inode, the argument checks in Linux's
 * order, level- and edge-triggered and one-shot items (a pipe's writers woken
 * only by reads from a full pipe), the order of the ready list, HUP/ERR, items that live
 * as long as the open file description (dup, fork, reused fd numbers),
 * nesting limits, polling an epoll fd, waits ended by a thread, a process,
 * a timeout or a signal (never restarted, even with SA_RESTART), signal
 * masks of epoll_pwait, partial copies to a faulting buffer, fdinfo. */
#include "common.h"
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/select.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>

#ifndef EPOLLEXCLUSIVE
#define EPOLLEXCLUSIVE (1u << 28)
#endif
#define EPIOCSPARAMS _IOW(0x8A, 0x01, char[8])
#define EPIOCGPARAMS _IOR(0x8A, 0x02, char[8])

/* epoll_wait and print what came back: "label = n [events data] ..." */
static void wait_show(const char *label, int e, int max, int timeout)
{
    struct epoll_event evs[8];
    memset(evs, 0xee, sizeof evs);
    int n = epoll_wait(e, evs, max, timeout);
    printf("%s = %d", label, n);
    if (n < 0)
        printf(" %s", errname(errno));
    for (int i = 0; i < n; i++)
        printf(" [%#x %lu]", evs[i].events, (unsigned long)evs[i].data.u64);
    printf("\n");
}

/* epoll_ctl with an event built here; prints the result under `label`. */
static int ctl(const char *label, int e, int op, int fd, unsigned events, unsigned long data)
{
    struct epoll_event ev = {events, {.u64 = data}};
    return show_(label, epoll_ctl(e, op, fd, &ev));
}

static int cmp_lines(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The "tfd:" lines of /proc/self/fdinfo/<e>, up to " ino:" (inode numbers and
 * devices are the machine's), sorted (Linux lists them by kernel address). */
static void show_fdinfo(int e)
{
    char path[64], buf[4096], *lines[16];
    int n = 0;
    snprintf(path, sizeof path, "/proc/self/fdinfo/%d", e);
    int fd = open(path, O_RDONLY);
    ssize_t len = read(fd, buf, sizeof buf - 1);
    close(fd);
    buf[len > 0 ? len : 0] = 0;
    for (char *line = strtok(buf, "\n"); line && n < 16; line = strtok(NULL, "\n")) {
        if (strncmp(line, "tfd:", 4))
            continue;
        char *ino = strstr(line, " ino:");
        if (ino)
            *ino = 0;
        lines[n++] = line;
    }
    qsort(lines, n, sizeof *lines, cmp_lines);
    printf("fdinfo: %d items\n", n);
    for (int i = 0; i < n; i++)
        printf("  %s\n", lines[i]);
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static volatile int alarms;
static void on_alarm(int sig) { (void)sig; alarms++; }

static int writer_fd;
static void *late_writer(void *arg)
{
    (void)arg;
    usleep(100000);
    write(writer_fd, "t", 1);
    return NULL;
}

/* Wait (up to 5 s) until the thread whose tid will be stored at *tid sleeps:
 * it is then in the call it was about to make. */
static void wait_until_sleeping(volatile pid_t *tid)
{
    for (int i = 0; i < 500; i++) {
        char path[64], buf[256] = "";
        if (*tid) {
            snprintf(path, sizeof path, "/proc/self/task/%d/stat", (int)*tid);
            int fd = open(path, O_RDONLY);
            ssize_t n = read(fd, buf, sizeof buf - 1);
            close(fd);
            char *state = n > 0 ? strrchr(buf, ')') : NULL;
            if (state && state[2] == 'S')
                return;
        }
        usleep(10000);
    }
}

static int waiter_ep;
static volatile pid_t waiter_tid;
static void *waiter(void *arg)
{
    (void)arg;
    struct epoll_event ev;
    waiter_tid = syscall(SYS_gettid);
    long n = epoll_wait(waiter_ep, &ev, 1, 5000);
    printf("thread's wait on a closed epfd = %ld [%#x %lu]\n", n, ev.events, (unsigned long)ev.data.u64);
    return NULL;
}

static void creation(void)
{
    printf("-- creation\n");
    SHOW(syscall(SYS_epoll_create, 0));
    SHOW(syscall(SYS_epoll_create, -1));
    int e = epoll_create(1), c = epoll_create1(EPOLL_CLOEXEC);
    CHECK(e >= 0 && c >= 0);
    SHOW(syscall(SYS_epoll_create1, 1));
    SHOW(syscall(SYS_epoll_create1, O_NONBLOCK));
    SHOW(fcntl(c, F_GETFD));
    SHOW(fcntl(e, F_GETFD));
    OCT(fcntl(e, F_GETFL));
    char path[64], link[64] = "";
    snprintf(path, sizeof path, "/proc/self/fd/%d", e);
    SHOW(readlink(path, link, sizeof link - 1));
    printf("link: %s\n", link);
    struct stat s, s2;
    fstat(e, &s);
    fstat(c, &s2);
    printf("fstat: type %s mode %o nlink %lu size %ld blksize %ld\n", ftype(s.st_mode),
           s.st_mode & 07777, (unsigned long)s.st_nlink, (long)s.st_size, (long)s.st_blksize);
    CHECK(s.st_ino == s2.st_ino && s.st_dev == s2.st_dev);   /* one anonymous inode */
    char b[4];
    int n;
    struct iovec none = {b, 0};
    SHOW(read(e, b, 1));
    SHOW(read(e, b, 0));
    SHOW(read(e, BADPTR, 1));
    SHOW(readv(e, &none, 1));
    SHOW(readv(e, BADPTR, 1));
    SHOW(write(e, b, 1));
    SHOW(write(e, BADPTR, 1));
    SHOW(writev(e, &none, 0));
    SHOW(fchmod(e, 0600));
    SHOW(fchown(e, -1, -1));
    SHOW(futimens(e, NULL));
    snprintf(path, sizeof path, "/proc/self/fd/%d", e);
    SHOW(chmod(path, 0600));
    SHOW(pread(e, b, 1, 0));
    SHOW(lseek(e, 5, SEEK_SET));
    SHOW(lseek(e, 0, 9));
    SHOW(ioctl(e, FIONREAD, &n));
    SHOW(ioctl(e, TCGETS, b));
    unsigned char params[8] = {0};
    SHOW(ioctl(e, EPIOCGPARAMS, params));
    params[0] = 5, params[4] = 16, params[6] = 1;
    SHOW(ioctl(e, EPIOCSPARAMS, params));
    params[6] = 2;
    SHOW(ioctl(e, EPIOCSPARAMS, params));
    memset(params, 0, sizeof params);
    SHOW(ioctl(e, EPIOCGPARAMS, params));
    printf("params: %d %d %d\n", params[0], params[4], params[6]);
    close(e);
    close(c);
}

static void targets(void)
{
    printf("-- which files epoll takes\n");
    int e = epoll_create1(0), other = epoll_create1(0), p[2];
    pipe(p);
    int reg = open("/etc/passwd", O_RDONLY), dir = open("/etc", O_RDONLY | O_DIRECTORY);
    int null = open("/dev/null", O_RDWR), zero = open("/dev/zero", O_RDONLY);
    int mfd = memfd_create("x", 0), path = open("/etc/passwd", O_PATH);
    int status = open("/proc/self/status", O_RDONLY);
    int ino = inotify_init1(0), pidfd = syscall(SYS_pidfd_open, getpid(), 0);
    ctl("regular file", e, EPOLL_CTL_ADD, reg, EPOLLIN, 0);
    ctl("directory", e, EPOLL_CTL_ADD, dir, EPOLLIN, 0);
    ctl("/dev/null", e, EPOLL_CTL_ADD, null, EPOLLIN, 0);
    ctl("/dev/zero", e, EPOLL_CTL_ADD, zero, EPOLLIN, 0);
    ctl("memfd", e, EPOLL_CTL_ADD, mfd, EPOLLIN, 0);
    ctl("/proc/self/status", e, EPOLL_CTL_ADD, status, EPOLLIN, 0);
    ctl("O_PATH", e, EPOLL_CTL_ADD, path, EPOLLIN, 0);
    ctl("pipe", e, EPOLL_CTL_ADD, p[0], EPOLLIN, 0);
    ctl("inotify", e, EPOLL_CTL_ADD, ino, EPOLLIN, 0);
    ctl("pidfd", e, EPOLL_CTL_ADD, pidfd, EPOLLIN, 0);
    ctl("another epoll", e, EPOLL_CTL_ADD, other, EPOLLIN, 0);
    char buf[8];
    SHOW(read(pidfd, buf, 0));
    SHOW(fchmod(ino, 0600));
    SHOW(fchown(pidfd, -1, -1));
    close(reg), close(dir), close(null), close(zero), close(mfd), close(path), close(status);
    close(ino), close(pidfd), close(other), close(p[0]), close(p[1]), close(e);

    printf("-- files with a poll operation of their filesystem's\n");
    const char *paths[] = {"/proc/stat", "/proc/version", "/proc/self/mounts", "/proc/self/mountinfo",
                           "/proc/self/stat", "/proc/self/cmdline", "/proc/self/fdinfo/1", "/proc/self",
                           "/proc/sys/kernel/ostype", "/proc/sys/fs/pipe-max-size", "/proc/sys",
                           "/sys/devices/system/cpu/online", "/sys/devices/system/cpu", "/dev/random",
                           "/dev/urandom", "/dev/full", NULL};
    for (int i = 0; paths[i]; i++) {
        int fd = open(paths[i], O_RDONLY);
        e = epoll_create1(0);
        struct pollfd pf = {fd, POLLIN | POLLOUT | POLLPRI, 0};
        poll(&pf, 1, 0);
        printf("%s: poll %#x, ", paths[i], pf.revents);
        if (ctl("epoll_ctl", e, EPOLL_CTL_ADD, fd, EPOLLIN | EPOLLOUT | EPOLLPRI | EPOLLET, i) == 0)
            wait_show("  ET", e, 8, 0);
        close(fd), close(e);
    }
    printf("-- a sysfs attribute: POLLERR|POLLPRI until it is read\n");
    int attr = open("/sys/devices/system/cpu/online", O_RDONLY);
    struct pollfd pf = {attr, POLLIN | POLLOUT | POLLPRI, 0};
    poll(&pf, 1, 0);
    printf("before a read: %#x\n", pf.revents);
    SHOW(read(attr, buf, 0));
    poll(&pf, 1, 0);
    printf("after reading nothing: %#x\n", pf.revents);
    SHOW(pread(attr, buf, 1, 100));
    poll(&pf, 1, 0);
    printf("after a read past its end: %#x\n", pf.revents);
    close(attr);
}

static void ctl_errors(void)
{
    printf("-- epoll_ctl: the checks and their order\n");
    int e = epoll_create1(0), e2 = epoll_create1(0), p[2];
    pipe(p);
    int reg = open("/etc/passwd", O_RDONLY), path = open("/etc", O_PATH);
    struct epoll_event ev = {EPOLLIN, {.u64 = 7}};
    SHOW(epoll_ctl(BADFD, EPOLL_CTL_ADD, p[0], BADPTR));
    SHOW(epoll_ctl(BADFD, EPOLL_CTL_DEL, p[0], BADPTR));
    SHOW(epoll_ctl(e, EPOLL_CTL_DEL, p[0], BADPTR));
    SHOW(epoll_ctl(e, 99, p[0], BADPTR));
    SHOW(epoll_ctl(e, 99, p[0], &ev));
    SHOW(epoll_ctl(e, 99, reg, &ev));
    SHOW(epoll_ctl(e, 0, p[0], &ev));
    SHOW(epoll_ctl(e, EPOLL_CTL_ADD, BADFD, &ev));
    SHOW(epoll_ctl(e, EPOLL_CTL_ADD, -1, &ev));
    SHOW(epoll_ctl(reg, EPOLL_CTL_ADD, reg, &ev));
    SHOW(epoll_ctl(p[0], EPOLL_CTL_ADD, p[0], &ev));
    SHOW(epoll_ctl(p[0], EPOLL_CTL_ADD, p[1], &ev));
    SHOW(epoll_ctl(e, EPOLL_CTL_ADD, e, &ev));
    SHOW(epoll_ctl(path, EPOLL_CTL_ADD, p[0], &ev));
    SHOW(epoll_ctl(e, EPOLL_CTL_MOD, p[0], &ev));
    SHOW(epoll_ctl(e, EPOLL_CTL_DEL, p[0], &ev));
    SHOW(epoll_ctl(e, EPOLL_CTL_ADD, p[0], &ev));
    SHOW(epoll_ctl(e, EPOLL_CTL_ADD, p[0], &ev));
    SHOW(epoll_ctl(e, EPOLL_CTL_MOD, p[0], &ev));
    SHOW(epoll_ctl(e, EPOLL_CTL_MOD, e, &ev));
    SHOW(epoll_ctl(e, EPOLL_CTL_MOD, BADFD, &ev));

    printf("-- EPOLLEXCLUSIVE\n");
    ctl("MOD with it", e, EPOLL_CTL_MOD, p[0], EPOLLIN | EPOLLEXCLUSIVE, 0);
    ctl("MOD with it, no such item", e2, EPOLL_CTL_MOD, p[1], EPOLLIN | EPOLLEXCLUSIVE, 0);
    ctl("ADD existing", e, EPOLL_CTL_ADD, p[0], EPOLLIN | EPOLLEXCLUSIVE, 0);
    ctl("with EPOLLRDHUP", e, EPOLL_CTL_ADD, p[1], EPOLLOUT | EPOLLRDHUP | EPOLLEXCLUSIVE, 0);
    ctl("with EPOLLONESHOT", e, EPOLL_CTL_ADD, p[1], EPOLLOUT | EPOLLONESHOT | EPOLLEXCLUSIVE, 0);
    ctl("on an epoll", e, EPOLL_CTL_ADD, e2, EPOLLIN | EPOLLEXCLUSIVE, 0);
    ctl("allowed bits", e, EPOLL_CTL_ADD, p[1],
        EPOLLOUT | EPOLLET | EPOLLERR | EPOLLHUP | EPOLLWAKEUP | EPOLLEXCLUSIVE, 1);
    ctl("then MOD without it", e, EPOLL_CTL_MOD, p[1], EPOLLOUT, 0);
    ctl("DEL", e, EPOLL_CTL_DEL, p[1], 0, 0);
    ctl("alone", e, EPOLL_CTL_ADD, p[1], EPOLLEXCLUSIVE, 0);
    ctl("on a regular file", e, EPOLL_CTL_ADD, reg, EPOLLIN | EPOLLEXCLUSIVE, 0);
    close(reg), close(path), close(p[0]), close(p[1]), close(e), close(e2);
}

static void level_and_edge(void)
{
    printf("-- level-triggered: the ready list's order\n");
    int e = epoll_create1(0), a[2], b[2], c[2];
    char ch;
    pipe(a), pipe(b), pipe(c);
    ctl("add a", e, EPOLL_CTL_ADD, a[0], EPOLLIN, 1);
    ctl("add b", e, EPOLL_CTL_ADD, b[0], EPOLLIN, 2);
    ctl("add c", e, EPOLL_CTL_ADD, c[0], EPOLLIN, 3);
    wait_show("nothing", e, 8, 0);
    write(b[1], "x", 1), write(c[1], "x", 1), write(a[1], "x", 1);
    wait_show("b, c, a became ready", e, 8, 0);
    wait_show("two of them", e, 2, 0);
    wait_show("two more", e, 2, 0);
    read(c[0], &ch, 1);
    wait_show("c drained", e, 8, 0);
    read(a[0], &ch, 1), read(b[0], &ch, 1);

    printf("-- edge-triggered\n");
    ctl("MOD a to ET", e, EPOLL_CTL_MOD, a[0], EPOLLIN | EPOLLET, 11);
    wait_show("nothing", e, 8, 0);
    write(a[1], "xy", 2);
    wait_show("data", e, 8, 0);
    wait_show("no new data", e, 8, 0);
    read(a[0], &ch, 1);
    wait_show("after a partial read", e, 8, 0);
    write(a[1], "z", 1);
    wait_show("after another write", e, 8, 0);
    ctl("MOD again", e, EPOLL_CTL_MOD, a[0], EPOLLIN | EPOLLET, 12);
    wait_show("after MOD", e, 8, 0);
    read(a[0], &ch, 1), read(a[0], &ch, 1);
    ctl("ET on the write end", e, EPOLL_CTL_ADD, a[1], EPOLLOUT | EPOLLET, 13);
    wait_show("room", e, 8, 0);
    wait_show("room, no new event", e, 8, 0);
    write(a[1], "q", 1);
    wait_show("a write wakes only the reader", e, 8, 0);
    read(a[0], &ch, 1);
    wait_show("a read from a pipe with room wakes no writer", e, 8, 0);
    ctl("DEL the read end", e, EPOLL_CTL_DEL, a[0], 0, 0);
    fcntl(a[1], F_SETFL, O_NONBLOCK);
    char page[4096] = {0};
    int pages = 0;
    write(a[1], "q", 1);
    while (write(a[1], page, sizeof page) == (ssize_t)sizeof page)
        pages++;
    printf("filled with 1 byte and %d pages\n", pages);
    wait_show("full", e, 8, 0);
    read(a[0], page, 100);
    wait_show("a read from a full pipe wakes the writer", e, 8, 0);
    read(a[0], page, 100);
    wait_show("the next read does not", e, 8, 0);
    fcntl(a[0], F_SETFL, O_NONBLOCK);
    while (read(a[0], page, sizeof page) > 0)
        ;
    wait_show("nor draining it", e, 8, 0);
    fcntl(a[0], F_SETFL, 0);
    fcntl(a[1], F_SETFL, 0);
    ctl("ADD the read end again", e, EPOLL_CTL_ADD, a[0], EPOLLIN | EPOLLET, 12);
    wait_show("empty", e, 8, 0);
    ctl("DEL the write end", e, EPOLL_CTL_DEL, a[1], 0, 0);
    close(a[1]);
    wait_show("writer gone: HUP is an edge", e, 8, 0);
    wait_show("and only one", e, 8, 0);
    ctl("DEL a", e, EPOLL_CTL_DEL, a[0], 0, 0);
    close(a[0]);
    pipe(a);

    printf("-- EPOLLONESHOT\n");
    ctl("MOD b", e, EPOLL_CTL_MOD, b[0], EPOLLIN | EPOLLONESHOT, 21);
    write(b[1], "x", 1);
    wait_show("fires", e, 8, 0);
    wait_show("disabled", e, 8, 0);
    write(b[1], "x", 1);
    wait_show("disabled after new data", e, 8, 0);
    show_fdinfo(e);
    ctl("ADD it again", e, EPOLL_CTL_ADD, b[0], EPOLLIN, 0);
    ctl("MOD rearms", e, EPOLL_CTL_MOD, b[0], EPOLLIN | EPOLLONESHOT, 22);
    wait_show("fires again", e, 8, 0);
    read(b[0], &ch, 1), read(b[0], &ch, 1);
    ctl("DEL b", e, EPOLL_CTL_DEL, b[0], 0, 0);
    ctl("DEL c", e, EPOLL_CTL_DEL, c[0], 0, 0);

    printf("-- EPOLLERR and EPOLLHUP are always reported\n");
    ctl("read end, no events", e, EPOLL_CTL_ADD, b[0], 0, 31);
    ctl("write end, no events", e, EPOLL_CTL_ADD, c[1], 0, 32);
    show_fdinfo(e);
    wait_show("nothing", e, 8, 0);
    close(b[1]);
    close(c[0]);
    wait_show("HUP then ERR", e, 8, 0);
    ctl("EPOLLRDHUP on a pipe", e, EPOLL_CTL_MOD, b[0], EPOLLIN | EPOLLRDHUP | EPOLLWAKEUP, 33);
    wait_show("no RDHUP from pipes", e, 8, 0);
    show_fdinfo(e);
    close(b[0]), close(c[1]), close(a[0]), close(a[1]);
    wait_show("all closed", e, 8, 0);
    show_fdinfo(e);
    close(e);
}

static void lifetime(void)
{
    printf("-- items live as long as the open file description\n");
    int e = epoll_create1(0), p[2], q[2];
    pipe(p);
    ctl("add p0", e, EPOLL_CTL_ADD, p[0], EPOLLIN, 41);
    int d = dup(p[0]);
    close(p[0]);
    write(p[1], "x", 1);
    wait_show("fd closed, dup open", e, 8, 0);
    ctl("MOD by the closed fd", e, EPOLL_CTL_MOD, p[0], EPOLLIN, 0);
    ctl("MOD by the dup", e, EPOLL_CTL_MOD, d, EPOLLIN, 0);
    ctl("DEL by the dup", e, EPOLL_CTL_DEL, d, 0, 0);
    ctl("ADD the dup", e, EPOLL_CTL_ADD, d, EPOLLIN, 42);
    wait_show("two keys, one file", e, 8, 0);
    pipe(q);
    CHECK(q[0] == p[0]);        /* the closed number is reused */
    ctl("ADD the new file at the old number", e, EPOLL_CTL_ADD, q[0], EPOLLIN, 43);
    ctl("DEL it", e, EPOLL_CTL_DEL, q[0], 0, 0);
    show_fdinfo(e);
    pid_t child = fork();
    if (child == 0) {
        close(d);
        _exit(0);
    }
    waitpid(child, NULL, 0);
    wait_show("a child closed its copy", e, 8, 0);
    close(d);
    wait_show("last reference gone", e, 8, 0);
    show_fdinfo(e);
    close(p[1]), close(q[0]), close(q[1]), close(e);
}

static void nesting(void)
{
    printf("-- nesting limits\n");
    int ep[7], up[7];
    char label[64];
    for (int i = 0; i < 7; i++)
        ep[i] = epoll_create1(0), up[i] = epoll_create1(0);
    for (int i = 1; i < 7; i++) {
        snprintf(label, sizeof label, "ep%d into ep%d", i - 1, i);
        ctl(label, ep[i], EPOLL_CTL_ADD, ep[i - 1], EPOLLIN, i);
    }
    ctl("cycle ep2 into ep0", ep[0], EPOLL_CTL_ADD, ep[2], EPOLLIN, 0);
    ctl("cycle ep1 into ep1's child", ep[0], EPOLL_CTL_ADD, ep[1], EPOLLIN, 0);
    for (int i = 4; i >= 1; i--) {
        snprintf(label, sizeof label, "up%d into up%d", i - 1, i);
        ctl(label, up[i], EPOLL_CTL_ADD, up[i - 1], EPOLLIN, i);
    }
    ctl("up5 into up0", up[0], EPOLL_CTL_ADD, up[5], EPOLLIN, 0);
    ctl("up3 into up6 too", up[6], EPOLL_CTL_ADD, up[3], EPOLLIN, 0);
    ctl("up5 into up2", up[2], EPOLL_CTL_ADD, up[5], EPOLLIN, 0);
    for (int i = 0; i < 7; i++)
        close(ep[i]), close(up[i]);

    printf("-- an epoll in an epoll, and in poll and select\n");
    int outer = epoll_create1(0), inner = epoll_create1(0), p[2];
    char ch;
    pipe(p);
    ctl("pipe into inner", inner, EPOLL_CTL_ADD, p[0], EPOLLIN, 1);
    ctl("inner into outer", outer, EPOLL_CTL_ADD, inner, EPOLLIN | EPOLLOUT, 2);
    wait_show("outer, nothing", outer, 8, 0);
    struct pollfd pf = {inner, POLLIN | POLLOUT | POLLPRI, 0};
    int r = poll(&pf, 1, 0);
    printf("poll(inner) = %d %#x\n", r, pf.revents);
    write(p[1], "x", 1);
    r = poll(&pf, 1, 0);
    printf("poll(inner) = %d %#x\n", r, pf.revents);
    fd_set rs;
    FD_ZERO(&rs);
    FD_SET(inner, &rs);
    SHOW(select(inner + 1, &rs, NULL, NULL, &(struct timeval){0, 0}));
    wait_show("outer", outer, 8, 0);
    wait_show("outer again (LT)", outer, 8, 0);
    wait_show("inner", inner, 8, 0);
    wait_show("outer still", outer, 8, 0);
    read(p[0], &ch, 1);
    wait_show("outer, pipe drained", outer, 8, 0);
    ctl("outer's item ET", outer, EPOLL_CTL_MOD, inner, EPOLLIN | EPOLLET, 3);
    write(p[1], "x", 1);
    wait_show("outer ET", outer, 8, 0);
    wait_show("outer ET again", outer, 8, 0);
    write(p[1], "x", 1);
    wait_show("outer ET after a write", outer, 8, 0);
    close(inner);
    wait_show("inner closed: gone from outer", outer, 8, 0);
    close(p[0]), close(p[1]), close(outer);
}

static void blocking(void)
{
    printf("-- waits\n");
    int e = epoll_create1(0), q[2];
    char ch;
    pthread_t th;
    pipe(q);
    writer_fd = q[1];
    ctl("add", e, EPOLL_CTL_ADD, q[0], EPOLLIN, 5);
    pthread_create(&th, NULL, late_writer, NULL);
    wait_show("woken by a thread", e, 8, -1);
    pthread_join(th, NULL);
    read(q[0], &ch, 1);

    pid_t child = fork();
    if (child == 0) {
        usleep(100000);
        write(q[1], "p", 1);
        _exit(0);
    }
    wait_show("woken by a process", e, 8, 5000);
    waitpid(child, NULL, 0);
    read(q[0], &ch, 1);

    int outer = epoll_create1(0);
    ctl("nest", outer, EPOLL_CTL_ADD, e, EPOLLIN, 6);
    pthread_create(&th, NULL, late_writer, NULL);
    wait_show("woken through a nested epoll", outer, 8, 5000);
    pthread_join(th, NULL);
    read(q[0], &ch, 1);
    pthread_create(&th, NULL, late_writer, NULL);
    struct pollfd pf = {e, POLLIN, 0};
    int r = poll(&pf, 1, 5000);
    printf("poll on the epfd = %d %#x\n", r, pf.revents);
    pthread_join(th, NULL);
    read(q[0], &ch, 1);
    close(outer);

    double t0 = now();
    wait_show("timeout 100ms", e, 8, 100);
    printf("waited long enough: %s\n", now() - t0 >= 0.095 ? "yes" : "NO");
    struct epoll_event evs[2];
    struct timespec ts = {0, 100000000};
    t0 = now();
    SHOW(syscall(SYS_epoll_pwait2, e, evs, 2, &ts, NULL, 8));
    printf("waited long enough: %s\n", now() - t0 >= 0.095 ? "yes" : "NO");

    waiter_ep = dup(e);
    pthread_create(&th, NULL, waiter, NULL);
    wait_until_sleeping(&waiter_tid);
    close(waiter_ep);       /* the waiting thread holds the file */
    usleep(50000);
    write(q[1], "w", 1);
    pthread_join(th, NULL);
    read(q[0], &ch, 1);

    printf("-- signals\n");
    struct sigaction sa = {0};
    sa.sa_handler = on_alarm;
    sigaction(SIGALRM, &sa, NULL);
    ualarm(100000, 0);
    wait_show("a handler, no SA_RESTART", e, 8, -1);
    sa.sa_flags = SA_RESTART;
    sigaction(SIGALRM, &sa, NULL);
    ualarm(100000, 0);
    wait_show("a handler with SA_RESTART", e, 8, -1);
    ualarm(100000, 0);
    wait_show("the same with a timeout", e, 8, 3000);
    signal(SIGCHLD, SIG_DFL);
    child = fork();
    if (child == 0)
        _exit(0);
    wait_show("SIGCHLD, ignored, does not end it", e, 8, 200);
    waitpid(child, NULL, 0);
    printf("alarms = %d\n", alarms);

    sigset_t alrm, empty, cur;
    sigemptyset(&alrm);
    sigaddset(&alrm, SIGALRM);
    sigemptyset(&empty);
    ualarm(50000, 0);
    r = epoll_pwait(e, evs, 2, 200, &alrm);
    printf("epoll_pwait blocking SIGALRM = %d\n", r);
    printf("alarms = %d\n", alarms);
    sigprocmask(SIG_BLOCK, &alrm, NULL);
    ualarm(50000, 0);
    usleep(100000);
    r = epoll_pwait(e, evs, 2, -1, &empty);
    printf("epoll_pwait letting a pending SIGALRM in = %d %s\n", r, r < 0 ? errname(errno) : "");
    printf("alarms = %d\n", alarms);
    sigprocmask(SIG_SETMASK, NULL, &cur);
    printf("SIGALRM blocked again after it: %d\n", sigismember(&cur, SIGALRM));
    sigprocmask(SIG_UNBLOCK, &alrm, NULL);
    ualarm(50000, 0);
    r = syscall(SYS_epoll_pwait2, e, evs, 2, &ts, NULL, 8);
    printf("epoll_pwait2 and SIGALRM = %d %s\n", r, r < 0 ? errname(errno) : "");
    printf("alarms = %d\n", alarms);
    close(q[0]), close(q[1]), close(e);
}

static void wait_errors(void)
{
    printf("-- epoll_wait: the checks and their order\n");
    int e = epoll_create1(0), p[2];
    pipe(p);
    struct epoll_event evs[2];
    void *kernel = (void *)0xffff800000000000UL, *top = (void *)(0x7ffffffff000UL - 12);
    SHOW(epoll_wait(e, evs, 0, 0));
    SHOW(epoll_wait(e, evs, -1, 0));
    SHOW(epoll_wait(e, NULL, 178956970, 0));
    SHOW(epoll_wait(e, evs, 178956971, 0));
    SHOW(epoll_wait(BADFD, evs, 0, 0));
    SHOW(epoll_wait(BADFD, kernel, 1, 0));
    SHOW(epoll_wait(e, kernel, 0, 0));
    SHOW(epoll_wait(p[0], kernel, 1, 0));
    SHOW(epoll_wait(p[0], evs, 1, 0));
    SHOW(epoll_wait(e, kernel, 1, 0));
    SHOW(epoll_wait(e, BADPTR, 1, 0));
    SHOW(epoll_wait(e, top, 1, 0));
    SHOW(epoll_wait(e, top, 2, 0));
    sigset_t ss;
    sigemptyset(&ss);
    SHOW(syscall(SYS_epoll_pwait, e, evs, 1, 0, NULL, 4));
    SHOW(syscall(SYS_epoll_pwait, e, evs, 1, 0, &ss, 4));
    SHOW(syscall(SYS_epoll_pwait, e, evs, 1, 0, BADPTR, 8));
    SHOW(syscall(SYS_epoll_pwait, BADFD, evs, 1, 0, &ss, 4));
    struct timespec ts = {0, 2000000000};
    SHOW(syscall(SYS_epoll_pwait2, e, evs, 1, &ts, NULL, 8));
    SHOW(syscall(SYS_epoll_pwait2, e, evs, 1, &ts, &ss, 4));
    SHOW(syscall(SYS_epoll_pwait2, e, evs, 1, BADPTR, &ss, 4));
    ts = (struct timespec){-1, 0};
    SHOW(syscall(SYS_epoll_pwait2, e, evs, 1, &ts, NULL, 8));
    ts = (struct timespec){0, 0};
    SHOW(syscall(SYS_epoll_pwait2, e, evs, 1, &ts, NULL, 8));
    SHOW(syscall(SYS_epoll_pwait2, BADFD, evs, 0, NULL, NULL, 8));

    printf("-- a buffer that faults\n");
    int a[2], b[2];
    pipe(a), pipe(b);
    ctl("a", e, EPOLL_CTL_ADD, a[1], EPOLLOUT, 71);
    ctl("b", e, EPOLL_CTL_ADD, b[1], EPOLLOUT, 72);
    SHOW(epoll_wait(e, BADPTR, 1, 0));
    wait_show("nothing lost", e, 8, 0);
    char *page = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    munmap(page + 4096, 4096);
    struct epoll_event *last = (struct epoll_event *)(page + 4096 - 12);
    int r = epoll_wait(e, last, 2, 0);
    printf("room for one = %d [%#x %lu]\n", r, last->events, (unsigned long)last->data.u64);
    wait_show("the other stays first", e, 8, 0);
    SHOW(epoll_wait(e, (void *)(page + 4096 - 6), 2, 0));
    wait_show("after a straddling event", e, 8, 0);
    close(a[0]), close(a[1]), close(b[0]), close(b[1]), close(p[0]), close(p[1]), close(e);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    creation();
    targets();
    ctl_errors();
    level_and_edge();
    lifetime();
    nesting();
    blocking();
    wait_errors();
    return 0;
}
