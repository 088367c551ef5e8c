/*
 * eventfd and timerfd: the 8-byte read and write rules, EFD_SEMAPHORE,
 * overflow, poll readiness, fdinfo, /proc/self/fd links and fstat of the
 * anonymous inode; blocking reads and writes woken by another thread or
 * process, interrupted by signals (with and without SA_RESTART); timers on
 * each clock, relative and absolute, one-shot and periodic, their expiration
 * counts, settime/gettime values, and waits for an expiry in read, poll,
 * select and epoll, also when the timer is armed after the wait began;
 * signalfd: arguments, the records of kill, tgkill, sigqueue and SIGCHLD,
 * mask changes, and reads, poll, select, ppoll and epoll that wait for a
 * signal of the mask,
 * which another signal interrupts (with and without SA_RESTART).
 * Times are printed only as comparisons.
 */
#include "common.h"
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/select.h>
#include <sys/signalfd.h>
#include <sys/time.h>
#include <sys/timerfd.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>

#define TFD_IOC_SET_TICKS _IOW('T', 0, uint64_t)
#define MAX_COUNT 0xfffffffffffffffeULL

static uint64_t v;

static long ms_since(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

static void now(struct timespec *t) { clock_gettime(CLOCK_MONOTONIC, t); }

static void put(int fd, uint64_t value)
{
    if (write(fd, &value, 8) != 8)
        printf("put %llu: %s\n", (unsigned long long)value, errname(errno));
}

/* The lines of /proc/self/fdinfo/<fd> that start with one of `keys`. */
static void fdinfo(int fd, const char *const *keys)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/self/fdinfo/%d", fd);
    int f = open(path, O_RDONLY);
    ssize_t n = read(f, buf, sizeof buf - 1);
    close(f);
    if (n < 0) {
        printf("fdinfo: %s\n", errname(errno));
        return;
    }
    buf[n] = 0;
    for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n"))
        for (const char *const *k = keys; *k; k++)
            if (!strncmp(line, *k, strlen(*k)))
                printf("  fdinfo %s\n", line);
}

static void fd_link(int fd)
{
    char path[64], target[256];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(path, target, sizeof target - 1);
    target[n < 0 ? 0 : n] = 0;
    printf("link %s\n", target);
}

/* -- threads and children that act later ----------------------------------- */
struct later { int fd; uint64_t value; int usec; int is_read; };

static void *act_later(void *arg)
{
    struct later *l = arg;
    usleep(l->usec);
    if (l->is_read) {
        uint64_t got;
        if (read(l->fd, &got, 8) != 8)
            printf("later read: %s\n", errname(errno));
    } else {
        put(l->fd, l->value);
    }
    return NULL;
}

static pthread_t start(struct later *l)
{
    pthread_t t;
    pthread_create(&t, NULL, act_later, l);
    return t;
}

static volatile int caught;
static void on_alarm(int sig) { (void)sig; caught++; }

static void alarm_in(int usec, int flags)
{
    struct sigaction sa = {0};
    sa.sa_handler = on_alarm;
    sa.sa_flags = flags;
    sigaction(SIGALRM, &sa, NULL);
    struct itimerval it = {{0, 0}, {0, usec}};
    setitimer(ITIMER_REAL, &it, NULL);
}

/* -- eventfd ---------------------------------------------------------------- */
static void eventfd_rules(void)
{
    printf("-- eventfd: creation\n");
    SHOW(eventfd(0, 0x1234));
    SHOW(eventfd(0, EFD_SEMAPHORE << 1));
    int fd = eventfd(5, 0);
    SHOW(fcntl(fd, F_GETFL));
    SHOW(fcntl(fd, F_GETFD));
    int c = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    SHOW(fcntl(c, F_GETFL));
    SHOW(fcntl(c, F_GETFD));
    close(c);
    c = syscall(SYS_eventfd, 7);
    SHOW(read(c, &v, 8));
    SHOW(v);
    close(c);
    c = eventfd(0xffffffffu, 0);
    SHOW(read(c, &v, 8));
    SHOW(v);
    close(c);

    printf("-- eventfd: reads of 8 bytes or more\n");
    SHOW(read(fd, &v, 0));
    SHOW(read(fd, &v, 7));
    SHOW(read(fd, &v, 8));
    SHOW(v);
    put(fd, 2);
    char big[32];
    SHOW(read(fd, big, sizeof big));
    memcpy(&v, big, 8);
    SHOW(v);

    printf("-- eventfd: writes of exactly 8 bytes\n");
    uint64_t two[2] = {1, 2};
    SHOW(write(fd, two, 0));
    SHOW(write(fd, two, 7));
    SHOW(write(fd, two, 9));
    SHOW(write(fd, two, 16));
    SHOW(write(fd, BADPTR, 16));
    SHOW(write(fd, BADPTR, 8));
    v = ~0ULL;
    SHOW(write(fd, &v, 8));
    v = MAX_COUNT;
    SHOW(write(fd, &v, 8));
    SHOW(fcntl(fd, F_SETFL, O_NONBLOCK));
    v = 1;
    SHOW(write(fd, &v, 8));
    v = 0;
    SHOW(write(fd, &v, 8));
    SHOW(read(fd, &v, 8));
    CHECK(v == MAX_COUNT);
    SHOW(read(fd, &v, 8));

    printf("-- eventfd: a fault copying the value out loses it\n");
    put(fd, 4);
    SHOW(read(fd, BADPTR, 8));
    SHOW(read(fd, &v, 8));

    printf("-- eventfd: readv and writev\n");
    uint64_t a = 1, b = 2;
    struct iovec iov[2] = {{&a, 8}, {&b, 8}};
    SHOW(writev(fd, iov, 2));
    SHOW(read(fd, &v, 8));
    SHOW(v);
    iov[0].iov_len = iov[1].iov_len = 4;
    SHOW(writev(fd, iov, 2));
    iov[0].iov_len = 8;
    SHOW(writev(fd, iov, 2));
    SHOW(writev(fd, iov, 0));
    iov[0].iov_len = 4;
    SHOW(readv(fd, iov, 2));
    SHOW(a + ((uint64_t)b << 32) == 1 ? 1 : 0);
    put(fd, 3);
    iov[1].iov_len = 2;
    SHOW(readv(fd, iov, 2));
    SHOW(readv(fd, iov, 0));
    iov[1].iov_len = 4;
    SHOW(readv(fd, iov, 2));

    printf("-- eventfd: no position, no FIONREAD\n");
    SHOW(lseek(fd, 10, SEEK_SET));
    SHOW(lseek(fd, 0, SEEK_CUR));
    SHOW(pread(fd, &v, 8, 0));
    SHOW(pwrite(fd, &v, 8, 0));
    int n;
    SHOW(ioctl(fd, FIONREAD, &n));

    printf("-- eventfd: EFD_SEMAPHORE\n");
    int s = eventfd(2, EFD_SEMAPHORE | EFD_NONBLOCK);
    SHOW(read(s, &v, 8));
    SHOW(v);
    static const char *const efd_keys[] = {"pos:", "flags:", "eventfd-count:", "eventfd-semaphore:", NULL};
    fdinfo(s, efd_keys);
    SHOW(read(s, &v, 8));
    SHOW(v);
    SHOW(read(s, &v, 8));
    fdinfo(s, efd_keys);

    printf("-- eventfd: poll\n");
    struct pollfd p = {s, POLLIN | POLLOUT | POLLPRI | POLLRDNORM | POLLWRNORM, 0};
    SHOW(poll(&p, 1, 0));
    SHOW(p.revents);
    put(s, 1);
    SHOW(poll(&p, 1, 0));
    SHOW(p.revents);
    v = MAX_COUNT - 1;
    put(s, v);
    SHOW(poll(&p, 1, 0));
    SHOW(p.revents);
    v = 1;
    SHOW(write(s, &v, 8));
    fdinfo(s, efd_keys);

    printf("-- eventfd: the anonymous inode\n");
    fd_link(s);
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fdinfo/%d", s);
    FILE *f = fopen(path, "r");
    char line[128];
    int id = -1;
    while (f && fgets(line, sizeof line, f))
        sscanf(line, "eventfd-id: %d", &id);
    if (f)
        fclose(f);
    CHECK(id >= 0);
    struct stat st1, st2;
    fstat(s, &st1);
    fstat(fd, &st2);
    OCT(st1.st_mode);
    SHOW(st1.st_nlink);
    SHOW(st1.st_size);
    SHOW(st1.st_blksize);
    SHOW(st1.st_blocks);
    CHECK(st1.st_ino == st2.st_ino && st1.st_dev == st2.st_dev);
    close(s);
    close(fd);
}

static void eventfd_waits(void)
{
    struct timespec t0;
    printf("-- eventfd: a blocking read woken by another thread's write\n");
    int fd = eventfd(0, 0);
    struct later w = {fd, 42, 50000, 0};
    pthread_t t = start(&w);
    SHOW(read(fd, &v, 8));
    SHOW(v);
    pthread_join(t, NULL);

    printf("-- eventfd: a blocking semaphore read\n");
    int s = eventfd(0, EFD_SEMAPHORE);
    w.fd = s;
    w.value = 3;
    t = start(&w);
    SHOW(read(s, &v, 8));
    SHOW(v);
    pthread_join(t, NULL);
    SHOW(read(s, &v, 8));
    SHOW(read(s, &v, 8));
    close(s);

    printf("-- eventfd: a blocking write woken by a child's read\n");
    v = MAX_COUNT;
    put(fd, v);
    pid_t child = fork();
    if (child == 0) {
        usleep(50000);
        uint64_t got;
        _exit(read(fd, &got, 8) == 8 && got == MAX_COUNT ? 0 : 1);
    }
    now(&t0);
    v = 5;
    SHOW(write(fd, &v, 8));
    CHECK(ms_since(&t0) >= 40);
    int status;
    waitpid(child, &status, 0);
    SHOW(WEXITSTATUS(status));
    SHOW(read(fd, &v, 8));
    SHOW(v);

    printf("-- eventfd: writev of two values, the second waits\n");
    put(fd, MAX_COUNT - 1);
    struct later r = {fd, 0, 50000, 1};
    t = start(&r);
    uint64_t a = 1, b = 7;
    struct iovec iov[2] = {{&a, 8}, {&b, 8}};
    SHOW(writev(fd, iov, 2));
    pthread_join(t, NULL);
    SHOW(read(fd, &v, 8));
    SHOW(v);

    printf("-- eventfd: a read interrupted by a signal\n");
    caught = 0;
    alarm_in(50000, 0);
    SHOW(read(fd, &v, 8));
    SHOW(caught);
    caught = 0;
    alarm_in(30000, SA_RESTART);
    w.fd = fd;
    w.value = 9;
    w.usec = 100000;
    t = start(&w);
    SHOW(read(fd, &v, 8));
    SHOW(v);
    SHOW(caught);
    pthread_join(t, NULL);

    printf("-- eventfd: poll, select and epoll woken by a write\n");
    struct pollfd p = {fd, POLLIN, 0};
    w.usec = 50000;
    w.value = 1;
    t = start(&w);
    SHOW(poll(&p, 1, 5000));
    SHOW(p.revents);
    pthread_join(t, NULL);
    SHOW(read(fd, &v, 8));
    fd_set rd;
    FD_ZERO(&rd);
    FD_SET(fd, &rd);
    t = start(&w);
    SHOW(select(fd + 1, &rd, NULL, NULL, NULL));
    CHECK(FD_ISSET(fd, &rd));
    pthread_join(t, NULL);
    SHOW(read(fd, &v, 8));
    int ep = epoll_create1(0);
    struct epoll_event ev = {EPOLLIN, {.u64 = 77}}, out[2];
    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
    t = start(&w);
    SHOW(epoll_wait(ep, out, 2, 5000));
    SHOW(out[0].events);
    SHOW(out[0].data.u64);
    pthread_join(t, NULL);
    close(ep);
    close(fd);
}

/* -- timerfd ---------------------------------------------------------------- */
static struct itimerspec its(long vsec, long vnsec, long isec, long insec)
{
    struct itimerspec t = {{isec, insec}, {vsec, vnsec}};
    return t;
}

static long ns(const struct timespec *t) { return t->tv_sec * 1000000000L + t->tv_nsec; }

static void timerfd_rules(void)
{
    printf("-- timerfd: creation\n");
    OK(timerfd_create(CLOCK_REALTIME, 0));
    OK(timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC));
    OK(timerfd_create(CLOCK_BOOTTIME, TFD_NONBLOCK));
    SHOW(timerfd_create(CLOCK_PROCESS_CPUTIME_ID, 0));
    SHOW(timerfd_create(CLOCK_MONOTONIC_RAW, 0));
    SHOW(timerfd_create(99, 0));
    SHOW(timerfd_create(-1, 0));
    SHOW(timerfd_create(CLOCK_MONOTONIC, 0x1));
    int t = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    SHOW(fcntl(t, F_GETFL));
    SHOW(fcntl(t, F_GETFD));
    static const char *const keys[] = {"clockid:", "ticks:", "settime flags:", "it_interval:", NULL};
    static const char *const all[] = {"clockid:", "ticks:", "settime flags:", "it_value:", "it_interval:", NULL};
    fdinfo(t, all);

    printf("-- timerfd: reads of 8 bytes or more, no writes\n");
    SHOW(read(t, &v, 8));
    SHOW(read(t, &v, 7));
    SHOW(read(t, &v, 0));
    SHOW(write(t, &v, 8));
    SHOW(lseek(t, 5, SEEK_SET));
    SHOW(pread(t, &v, 8, 0));
    int n;
    SHOW(ioctl(t, FIONREAD, &n));

    printf("-- timerfd: settime and gettime arguments\n");
    struct itimerspec set = its(0, 0, 0, 0), old;
    SHOW(timerfd_settime(t, 0, &set, &old));
    set = its(0, 1000000000, 0, 0);
    SHOW(timerfd_settime(t, 0, &set, NULL));
    set = its(0, -1, 0, 0);
    SHOW(timerfd_settime(t, 0, &set, NULL));
    set = its(0, 0, 0, 1000000000);
    SHOW(timerfd_settime(t, 0, &set, NULL));
    set = its(-1, 0, 0, 0);
    SHOW(timerfd_settime(t, 0, &set, NULL));
    set = its(0, 0, 0, 0);
    SHOW(timerfd_settime(t, 4, &set, NULL));
    SHOW(timerfd_settime(t, TFD_TIMER_CANCEL_ON_SET, &set, NULL));
    SHOW(timerfd_settime(t, TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET, &set, NULL));
    int e = eventfd(0, 0);
    SHOW(timerfd_settime(e, 0, &set, NULL));
    SHOW(timerfd_gettime(e, &old));
    SHOW(timerfd_settime(BADFD, 0, &set, NULL));
    SHOW(timerfd_gettime(BADFD, &old));
    SHOW(timerfd_settime(t, 0, NULL, NULL));
    SHOW(timerfd_settime(t, 0, BADPTR, NULL));
    SHOW(timerfd_settime(t, 0, &set, BADPTR));
    SHOW(timerfd_gettime(t, BADPTR));
    SHOW(timerfd_gettime(t, &old));
    SHOW(old.it_value.tv_sec + old.it_value.tv_nsec + old.it_interval.tv_sec + old.it_interval.tv_nsec);

    printf("-- timerfd: a relative timer, its old value and what is left\n");
    set = its(10, 0, 3, 5);
    SHOW(timerfd_settime(t, 0, &set, &old));
    SHOW(old.it_value.tv_sec + old.it_value.tv_nsec + old.it_interval.tv_sec + old.it_interval.tv_nsec);
    SHOW(timerfd_gettime(t, &old));
    CHECK(ns(&old.it_value) > 9000000000L && ns(&old.it_value) <= 10000000000L);
    SHOW(old.it_interval.tv_sec);
    SHOW(old.it_interval.tv_nsec);
    fdinfo(t, keys);
    set = its(20, 0, 0, 0);
    SHOW(timerfd_settime(t, 0, &set, &old));
    CHECK(ns(&old.it_value) > 9000000000L && ns(&old.it_value) <= 10000000000L);
    SHOW(old.it_interval.tv_sec);
    SHOW(read(t, &v, 8));
    struct pollfd p = {t, POLLIN | POLLOUT, 0};
    SHOW(poll(&p, 1, 0));

    printf("-- timerfd: an absolute time in the past fires at once\n");
    set = its(1, 0, 0, 0);
    SHOW(timerfd_settime(t, TFD_TIMER_ABSTIME, &set, &old));
    SHOW(timerfd_gettime(t, &old));
    SHOW(old.it_value.tv_sec + old.it_value.tv_nsec + old.it_interval.tv_sec + old.it_interval.tv_nsec);
    SHOW(poll(&p, 1, 0));
    SHOW(p.revents);
    fdinfo(t, all);
    SHOW(read(t, &v, 8));
    SHOW(v);
    SHOW(read(t, &v, 8));
    SHOW(poll(&p, 1, 0));

    printf("-- timerfd: a periodic timer ten periods late counts eleven\n");
    struct timespec t0;
    now(&t0);
    set = its(t0.tv_sec - 10, t0.tv_nsec, 1, 0);
    SHOW(timerfd_settime(t, TFD_TIMER_ABSTIME, &set, NULL));
    fdinfo(t, keys);
    SHOW(read(t, &v, 8));
    SHOW(v);
    SHOW(timerfd_gettime(t, &old));
    CHECK(ns(&old.it_value) > 0 && ns(&old.it_value) <= 1000000000L);
    SHOW(old.it_interval.tv_sec);
    fdinfo(t, keys);

    printf("-- timerfd: TFD_IOC_SET_TICKS\n");
    v = 5;
    SHOW(ioctl(t, TFD_IOC_SET_TICKS, &v));
    SHOW(poll(&p, 1, 0));
    SHOW(read(t, &v, 8));
    SHOW(v);
    v = 0;
    SHOW(ioctl(t, TFD_IOC_SET_TICKS, &v));
    SHOW(ioctl(t, TFD_IOC_SET_TICKS, BADPTR));

    printf("-- timerfd: disarmed\n");
    set = its(0, 0, 0, 0);
    SHOW(timerfd_settime(t, 0, &set, &old));
    CHECK(ns(&old.it_value) > 0 && ns(&old.it_value) <= 1000000000L);
    SHOW(timerfd_gettime(t, &old));
    SHOW(old.it_value.tv_sec + old.it_value.tv_nsec + old.it_interval.tv_sec + old.it_interval.tv_nsec);
    fdinfo(t, all);

    printf("-- timerfd: CLOCK_REALTIME with TFD_TIMER_CANCEL_ON_SET\n");
    int r = timerfd_create(CLOCK_REALTIME, 0);
    clock_gettime(CLOCK_REALTIME, &t0);
    set = its(t0.tv_sec + 100, 0, 0, 0);
    SHOW(timerfd_settime(r, TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET, &set, NULL));
    fdinfo(r, keys);
    SHOW(timerfd_gettime(r, &old));
    CHECK(ns(&old.it_value) > 98000000000L && ns(&old.it_value) <= 100000000000L);

    printf("-- timerfd: the anonymous inode\n");
    fd_link(t);
    struct stat st1, st2;
    fstat(t, &st1);
    fstat(e, &st2);
    OCT(st1.st_mode);
    SHOW(st1.st_size);
    CHECK(st1.st_ino == st2.st_ino && st1.st_dev == st2.st_dev);
    close(r);
    close(e);
    close(t);
}

struct waiter { int fd; int how; long result; long ms; short revents; };

/* Wait for `fd` to be readable by poll (how 0), epoll (1), select (2) or read (3). */
static void *wait_for(void *arg)
{
    struct waiter *w = arg;
    struct timespec t0;
    now(&t0);
    if (w->how == 0) {
        struct pollfd p = {w->fd, POLLIN, 0};
        w->result = poll(&p, 1, 10000);
        w->revents = p.revents;
    } else if (w->how == 1) {
        int ep = epoll_create1(0);
        struct epoll_event ev = {EPOLLIN, {.u64 = 5}}, out;
        epoll_ctl(ep, EPOLL_CTL_ADD, w->fd, &ev);
        w->result = epoll_wait(ep, &out, 1, 10000);
        w->revents = out.events;
        close(ep);
    } else if (w->how == 2) {
        fd_set rd;
        FD_ZERO(&rd);
        FD_SET(w->fd, &rd);
        struct timeval tv = {10, 0};
        w->result = select(w->fd + 1, &rd, NULL, NULL, &tv);
        w->revents = FD_ISSET(w->fd, &rd);
    } else {
        w->result = read(w->fd, &w->revents, 8) == 8 ? (long)*(uint64_t *)&w->revents : -errno;
        w->revents = 0;
    }
    w->ms = ms_since(&t0);
    return NULL;
}

static void timerfd_waits(void)
{
    struct timespec t0;
    struct itimerspec set;
    static const char *const how[] = {"poll", "epoll", "select", "read"};

    printf("-- timerfd: a blocking read waits for the expiry\n");
    int t = timerfd_create(CLOCK_MONOTONIC, 0);
    set = its(0, 50000000, 0, 0);
    timerfd_settime(t, 0, &set, NULL);
    now(&t0);
    SHOW(read(t, &v, 8));
    SHOW(v);
    CHECK(ms_since(&t0) >= 49);

    printf("-- timerfd: a periodic timer counts the periods slept through\n");
    set = its(0, 20000000, 0, 20000000);
    timerfd_settime(t, 0, &set, NULL);
    usleep(110000);
    SHOW(read(t, &v, 8));
    CHECK(v >= 4 && v <= 7);
    now(&t0);
    SHOW(read(t, &v, 8));
    CHECK(v >= 1 && v <= 2);
    CHECK(ms_since(&t0) <= 1000);

    printf("-- timerfd: CLOCK_REALTIME and CLOCK_BOOTTIME, absolute\n");
    int r = timerfd_create(CLOCK_REALTIME, 0);
    struct timespec rt;
    clock_gettime(CLOCK_REALTIME, &rt);
    rt.tv_nsec += 60000000;
    if (rt.tv_nsec >= 1000000000) {
        rt.tv_sec++;
        rt.tv_nsec -= 1000000000;
    }
    set = its(rt.tv_sec, rt.tv_nsec, 0, 0);
    SHOW(timerfd_settime(r, TFD_TIMER_ABSTIME, &set, NULL));
    now(&t0);
    SHOW(read(r, &v, 8));
    SHOW(v);
    CHECK(ms_since(&t0) >= 30);
    close(r);
    int bt = timerfd_create(CLOCK_BOOTTIME, 0);
    clock_gettime(CLOCK_BOOTTIME, &rt);
    set = its(rt.tv_sec, rt.tv_nsec + 40000000 >= 1000000000 ? rt.tv_nsec : rt.tv_nsec + 40000000, 0, 0);
    SHOW(timerfd_settime(bt, TFD_TIMER_ABSTIME, &set, NULL));
    SHOW(read(bt, &v, 8));
    SHOW(v);
    close(bt);

    printf("-- timerfd: waits that end at the expiry\n");
    for (int i = 0; i < 4; i++) {
        struct waiter w = {t, i, 0, 0, 0};
        set = its(0, 60000000, 0, 0);
        timerfd_settime(t, 0, &set, NULL);
        wait_for(&w);
        printf("%s: result %ld revents %d waited enough %s\n", how[i], w.result, w.revents,
               w.ms >= 50 && w.ms < 5000 ? "yes" : "NO");
        if (i < 3)
            read(t, &v, 8);
    }

    printf("-- timerfd: waits begun before the timer was armed\n");
    for (int i = 0; i < 4; i++) {
        struct waiter w = {t, i, 0, 0, 0};
        set = its(0, 0, 0, 0);
        timerfd_settime(t, 0, &set, NULL);
        pthread_t th;
        pthread_create(&th, NULL, wait_for, &w);
        usleep(30000);
        now(&t0);
        set = its(0, 60000000, 0, 0);
        timerfd_settime(t, 0, &set, NULL);
        pthread_join(th, NULL);
        long ms = ms_since(&t0);
        printf("%s: result %ld revents %d ended at the expiry %s\n", how[i], w.result, w.revents,
               ms >= 50 && ms < 5000 ? "yes" : "NO");
        if (i < 3)
            read(t, &v, 8);
    }

    printf("-- timerfd: a reader of a far timer re-armed nearer\n");
    struct waiter w = {t, 3, 0, 0, 0};
    set = its(30, 0, 0, 0);
    timerfd_settime(t, 0, &set, NULL);
    pthread_t th;
    pthread_create(&th, NULL, wait_for, &w);
    usleep(30000);
    set = its(0, 50000000, 0, 0);
    timerfd_settime(t, 0, &set, NULL);
    pthread_join(th, NULL);
    printf("read: result %ld promptly %s\n", w.result, w.ms < 5000 ? "yes" : "NO");

    printf("-- timerfd: a read interrupted by a signal, and restarted\n");
    set = its(30, 0, 0, 0);
    timerfd_settime(t, 0, &set, NULL);
    caught = 0;
    alarm_in(50000, 0);
    SHOW(read(t, &v, 8));
    SHOW(caught);
    set = its(0, 150000000, 0, 0);
    timerfd_settime(t, 0, &set, NULL);
    caught = 0;
    alarm_in(50000, SA_RESTART);
    now(&t0);
    SHOW(read(t, &v, 8));
    SHOW(v);
    SHOW(caught);
    CHECK(ms_since(&t0) >= 140);

    printf("-- timerfd: shared with a child\n");
    set = its(0, 50000000, 0, 0);
    timerfd_settime(t, 0, &set, NULL);
    pid_t child = fork();
    if (child == 0) {
        uint64_t got;
        _exit(read(t, &got, 8) == 8 ? (int)got : 100);
    }
    int status;
    waitpid(child, &status, 0);
    SHOW(WEXITSTATUS(status));
    struct pollfd p = {t, POLLIN, 0};
    SHOW(poll(&p, 1, 0));
    close(t);
}

/* -- signalfd ---------------------------------------------------------------- */
static void show_record(const struct signalfd_siginfo *si)
{
    printf("  signo %u errno %d code %d pid is ours %s uid is ours %s int %d ptr %llu status %d\n",
           si->ssi_signo, si->ssi_errno, si->ssi_code, si->ssi_pid == (uint32_t)getpid() ? "yes" : "no",
           si->ssi_uid == getuid() ? "yes" : "no", si->ssi_int, (unsigned long long)si->ssi_ptr,
           si->ssi_status);
}

static sigset_t sigs(int a, int b)
{
    sigset_t m;
    sigemptyset(&m);
    if (a)
        sigaddset(&m, a);
    if (b)
        sigaddset(&m, b);
    return m;
}

/* A child that sends `sig` to `pid` after `usec`. */
static pid_t signal_later(pid_t pid, int sig, int usec)
{
    pid_t child = fork();
    if (child == 0) {
        usleep(usec);
        kill(pid, sig);
        _exit(0);
    }
    return child;
}

static void signalfd_rules(void)
{
    struct signalfd_siginfo si[3];
    printf("-- signalfd: creation\n");
    sigset_t m = sigs(SIGUSR1, SIGUSR2);
    sigaddset(&m, SIGKILL);
    sigprocmask(SIG_BLOCK, &m, NULL);
    SHOW(syscall(SYS_signalfd4, -1, &m, 4, 0));
    SHOW(syscall(SYS_signalfd4, -1, BADPTR, 8, 0));
    SHOW(syscall(SYS_signalfd4, -1, BADPTR, 8, 0x1234));
    SHOW(syscall(SYS_signalfd4, -1, &m, 8, 0x1234));
    SHOW(syscall(SYS_signalfd4, BADFD, &m, 8, 0));
    int e = eventfd(0, 0);
    SHOW(syscall(SYS_signalfd4, e, &m, 8, 0));
    close(e);
    int fd = signalfd(-1, &m, SFD_NONBLOCK | SFD_CLOEXEC);
    SHOW(fcntl(fd, F_GETFL));
    SHOW(fcntl(fd, F_GETFD));
    static const char *const keys[] = {"pos:", "flags:", "sigmask:", NULL};
    fdinfo(fd, keys);
    fd_link(fd);
    struct stat st;
    fstat(fd, &st);
    OCT(st.st_mode);

    printf("-- signalfd: reads of whole records\n");
    SHOW(read(fd, si, 127));
    SHOW(read(fd, si, 0));
    SHOW(read(fd, si, 128));
    SHOW(write(fd, si, 128));
    SHOW(lseek(fd, 3, SEEK_SET));
    SHOW(pread(fd, si, 128, 0));
    int n;
    SHOW(ioctl(fd, FIONREAD, &n));
    struct pollfd p = {fd, POLLIN | POLLOUT, 0};
    SHOW(poll(&p, 1, 0));

    printf("-- signalfd: the thread's signals before the process's\n");
    raise(SIGUSR2);
    kill(getpid(), SIGUSR1);
    SHOW(poll(&p, 1, 0));
    SHOW(p.revents);
    SHOW(read(fd, si, sizeof si));
    show_record(&si[0]);
    show_record(&si[1]);
    SHOW(poll(&p, 1, 0));
    union sigval sv = {.sival_int = 77};
    sigqueue(getpid(), SIGUSR1, sv);
    SHOW(read(fd, si, sizeof si));
    show_record(&si[0]);

    printf("-- signalfd: a fault copying out loses the signal\n");
    raise(SIGUSR1);
    SHOW(read(fd, BADPTR, 128));
    SHOW(read(fd, si, 128));

    printf("-- signalfd: a new mask for the same fd\n");
    sigset_t m2 = sigs(SIGUSR2, 0);
    SHOW(signalfd(fd, &m2, 0) == fd);
    fdinfo(fd, keys);
    raise(SIGUSR1);
    SHOW(read(fd, si, 128));
    sigset_t pending;
    sigpending(&pending);
    SHOW(sigismember(&pending, SIGUSR1));
    int got;
    sigset_t u1 = sigs(SIGUSR1, 0);
    sigwait(&u1, &got);
    SHOW(got);
    close(fd);

    printf("-- signalfd: SIGCHLD\n");
    sigset_t c = sigs(SIGCHLD, 0);
    sigprocmask(SIG_BLOCK, &c, NULL);
    int cf = signalfd(-1, &c, 0);
    pid_t child = fork();
    if (child == 0) {
        usleep(50000);
        _exit(7);
    }
    SHOW(read(cf, si, 128));
    printf("  signo %u code %d pid is the child's %s status %d\n", si[0].ssi_signo, si[0].ssi_code,
           si[0].ssi_pid == (uint32_t)child ? "yes" : "NO", si[0].ssi_status);
    waitpid(child, NULL, 0);
    close(cf);
    sigprocmask(SIG_UNBLOCK, &c, NULL);
}

struct sfd_waiter { int fd; int how; long result; uint32_t signo; };

static void *wait_signal(void *arg)
{
    struct sfd_waiter *w = arg;
    struct signalfd_siginfo si;
    if (w->how == 0) {
        w->result = read(w->fd, &si, sizeof si);
        w->signo = si.ssi_signo;
    } else {
        struct pollfd p = {w->fd, POLLIN, 0};
        w->result = poll(&p, 1, 10000);
        w->signo = p.revents;
    }
    return NULL;
}

static void signalfd_waits(void)
{
    struct signalfd_siginfo si;
    printf("-- signalfd: a blocking read woken by a child's kill\n");
    sigset_t m = sigs(SIGUSR1, SIGUSR2);
    sigprocmask(SIG_BLOCK, &m, NULL);
    int fd = signalfd(-1, &m, 0);
    pid_t child = signal_later(getpid(), SIGUSR1, 50000);
    SHOW(read(fd, &si, sizeof si));
    SHOW(si.ssi_signo);
    waitpid(child, NULL, 0);

    printf("-- signalfd: poll, select and ppoll woken by a child's kill\n");
    struct pollfd p = {fd, POLLIN, 0};
    child = signal_later(getpid(), SIGUSR2, 50000);
    SHOW(poll(&p, 1, 5000));
    SHOW(p.revents);
    SHOW(read(fd, &si, sizeof si));
    SHOW(si.ssi_signo);
    waitpid(child, NULL, 0);
    fd_set rd;
    FD_ZERO(&rd);
    FD_SET(fd, &rd);
    child = signal_later(getpid(), SIGUSR1, 50000);
    SHOW(select(fd + 1, &rd, NULL, NULL, NULL));
    CHECK(FD_ISSET(fd, &rd));
    SHOW(read(fd, &si, sizeof si));
    waitpid(child, NULL, 0);
    sigset_t own;
    sigprocmask(SIG_SETMASK, NULL, &own);
    struct timespec ts = {5, 0};
    child = signal_later(getpid(), SIGUSR2, 50000);
    SHOW(ppoll(&p, 1, &ts, &own));
    SHOW(read(fd, &si, sizeof si));
    SHOW(si.ssi_signo);
    waitpid(child, NULL, 0);
    int ep = epoll_create1(0);
    struct epoll_event ev = {EPOLLIN, {.u64 = 9}}, out;
    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
    SHOW(epoll_wait(ep, &out, 1, 0));
    raise(SIGUSR1);
    SHOW(epoll_wait(ep, &out, 1, 0));
    SHOW(read(fd, &si, sizeof si));
    child = signal_later(getpid(), SIGUSR2, 50000);
    SHOW(epoll_wait(ep, &out, 1, 5000));
    SHOW(out.data.u64);
    SHOW(read(fd, &si, sizeof si));
    SHOW(si.ssi_signo);
    waitpid(child, NULL, 0);
    close(ep);

    printf("-- signalfd: a thread's blocking read woken by tgkill to it\n");
    struct sfd_waiter w = {fd, 0, 0, 0};
    pthread_t t;
    pthread_create(&t, NULL, wait_signal, &w);
    usleep(50000);
    pthread_kill(t, SIGUSR2);
    pthread_join(t, NULL);
    printf("thread read %ld signo %u\n", w.result, w.signo);
    w.how = 1;
    pthread_create(&t, NULL, wait_signal, &w);
    usleep(50000);
    kill(getpid(), SIGUSR1);
    pthread_join(t, NULL);
    printf("thread poll %ld revents %u\n", w.result, w.signo);
    SHOW(read(fd, &si, sizeof si));
    SHOW(si.ssi_signo);

    printf("-- signalfd: another signal interrupts the read\n");
    caught = 0;
    alarm_in(50000, 0);
    SHOW(read(fd, &si, sizeof si));
    SHOW(caught);
    caught = 0;
    alarm_in(30000, SA_RESTART);
    child = signal_later(getpid(), SIGUSR2, 100000);
    SHOW(read(fd, &si, sizeof si));
    SHOW(si.ssi_signo);
    SHOW(caught);
    waitpid(child, NULL, 0);
    sigprocmask(SIG_SETMASK, NULL, &own);
    SHOW(sigismember(&own, SIGUSR1) && sigismember(&own, SIGUSR2) && !sigismember(&own, SIGALRM));
    close(fd);
    sigprocmask(SIG_UNBLOCK, &m, NULL);
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    eventfd_rules();
    eventfd_waits();
    timerfd_rules();
    timerfd_waits();
    signalfd_rules();
    signalfd_waits();
    return 0;
}
