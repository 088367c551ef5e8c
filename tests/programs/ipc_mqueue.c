/*
 * POSIX message queues: mq_open's names, modes, attributes and limits,
 * priorities, blocking, timeouts, signals, mq_notify, poll, the mqueue
 * filesystem (argv[1] is where it is mounted: /dev/mqueue in the sandbox, a
 * fresh mount in a fresh IPC namespace natively) and queue lifetimes.
 * Run as root and as a user: each run's output is compared with the same
 * user's native run.
 */
#include "common.h"
#include <dirent.h>
#include <mqueue.h>
#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <time.h>

static const char *dir;

static const char *ename(int e)
{
    switch (e) {
    case EMSGSIZE: return "EMSGSIZE";
    case ECONNREFUSED: return "ECONNREFUSED";
    default: return errname(e);
    }
}

/* SHOW with the names common.h lacks */
static long show(const char *label, long r)
{
    if (r == -1)
        printf("%s = -1 %s\n", label, ename(errno));
    else
        printf("%s = %ld\n", label, r);
    return r;
}
#undef SHOW
#define SHOW(expr) show(#expr, (long)(expr))

static int mq_ok(const char *label, mqd_t q)
{
    if (q == (mqd_t)-1)
        printf("%s = -1 %s\n", label, ename(errno));
    else
        printf("%s = fd\n", label);
    return q;
}
#define OPEN(...) mq_ok(#__VA_ARGS__, mq_open(__VA_ARGS__))

static struct mq_attr attr_of(long maxmsg, long msgsize)
{
    struct mq_attr a = {0};
    a.mq_maxmsg = maxmsg;
    a.mq_msgsize = msgsize;
    return a;
}

static void show_attr(mqd_t q)
{
    struct mq_attr a;
    if (mq_getattr(q, &a) < 0)
        printf("  getattr: %s\n", ename(errno));
    else
        printf("  flags=%#lo maxmsg=%ld msgsize=%ld curmsgs=%ld\n", a.mq_flags, a.mq_maxmsg, a.mq_msgsize,
               a.mq_curmsgs);
}

/* The queue's file, its pid field named rather than printed. */
static void show_file(const char *name)
{
    char path[512], buf[128];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        printf("  file %s: %s\n", name, ename(errno));
        return;
    }
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    buf[n > 0 ? n : 0] = 0;
    char *pid = strstr(buf, "NOTIFY_PID:");
    if (pid) {
        long v = atol(pid + 11);
        printf("  file (%zd bytes): %.*s%s\n", n, (int)(pid - buf + 11), buf,
               v == 0 ? "0" : v == getpid() ? "self" : "other");
    }
}

static struct timespec from_now(long ms)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    t.tv_sec += ms / 1000;
    t.tv_nsec += (ms % 1000) * 1000000L;
    if (t.tv_nsec >= 1000000000L) {
        t.tv_sec++;
        t.tv_nsec -= 1000000000L;
    } else if (t.tv_nsec < 0) {   /* a negative tv_nsec is EINVAL, not a time in the past */
        t.tv_sec--;
        t.tv_nsec += 1000000000L;
    }
    return t;
}

static void msleep(long ms)
{
    struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&t, NULL);
}

/* -- names ------------------------------------------------------------------- */
static void names(void)
{
    printf("== names\n");
    OPEN("noslash", O_CREAT | O_RDWR, 0600, NULL);
    OPEN("/", O_CREAT | O_RDWR, 0600, NULL);
    OPEN("/a/b", O_CREAT | O_RDWR, 0600, NULL);
    OPEN("/.", O_CREAT | O_RDWR, 0600, NULL);
    OPEN("/..", O_CREAT | O_RDWR, 0600, NULL);
    OPEN("/missing", O_RDWR);
    SHOW(syscall(SYS_mq_open, "", O_CREAT | O_RDWR, 0600, NULL));
    SHOW(syscall(SYS_mq_open, "/x", O_CREAT | O_RDWR, 0600, NULL));
    SHOW(syscall(SYS_mq_open, BADPTR, O_CREAT | O_RDWR, 0600, NULL));
    SHOW(syscall(SYS_mq_open, "x", O_CREAT | O_RDWR, 0600, BADPTR));
    char name[300];
    memset(name, 'n', sizeof name);
    name[0] = '/';
    name[257] = 0;
    OPEN(name, O_CREAT | O_RDWR, 0600, NULL);          /* 256 characters */
    name[256] = 0;
    mqd_t q = OPEN(name, O_CREAT | O_RDWR, 0600, NULL);
    close(q);
    SHOW(mq_unlink(name));
    SHOW(mq_unlink("/missing"));
    SHOW(mq_unlink("nope"));
    SHOW(mq_unlink("/a/b"));
    SHOW(syscall(SYS_mq_unlink, BADPTR));
}

/* -- open flags and modes ------------------------------------------------------------ */
static void opening(void)
{
    printf("== open\n");
    mode_t old = umask(022);
    mqd_t q = OPEN("/m1", O_CREAT | O_EXCL | O_RDWR | O_NONBLOCK | O_TRUNC, 0666, NULL);
    OCT(fcntl(q, F_GETFL));
    SHOW(fcntl(q, F_GETFD));
    close(OPEN("/m1", O_CREAT | O_EXCL | O_RDWR, 0600, NULL));
    mqd_t q2 = OPEN("/m1", O_CREAT | O_RDONLY, 0600, NULL);
    OCT(fcntl(q2, F_GETFL));
    close(OPEN("/m1", 3));
    umask(0);
    mqd_t q3 = OPEN("/m3", O_CREAT | 3, 04777, NULL);
    OCT(fcntl(q3, F_GETFL));
    char buf[8192];
    SHOW(mq_send(q3, "x", 1, 0));
    SHOW(mq_receive(q3, buf, sizeof buf, NULL));
    umask(old);
    struct stat s;
    char path[512];
    snprintf(path, sizeof path, "%s/m1", dir);
    if (SHOW(stat(path, &s)) == 0)
        printf("  m1 %s %#o size=%lld nlink=%ld\n", ftype(s.st_mode), s.st_mode & 07777, (long long)s.st_size,
               (long)s.st_nlink);
    snprintf(path, sizeof path, "%s/m3", dir);
    if (SHOW(stat(path, &s)) == 0)
        printf("  m3 %#o\n", s.st_mode & 07777);
    SHOW(fstat(q, &s));
    printf("  fstat %s uid-is-me=%d\n", ftype(s.st_mode), s.st_uid == geteuid());
    mqd_t r = OPEN("/m4", O_CREAT | O_RDWR, 0400, NULL);       /* the creator gets what it asked */
    close(OPEN("/m4", O_WRONLY));
    close(OPEN("/m4", O_RDONLY));
    close(q);
    close(q2);
    close(q3);
    close(r);
    mq_unlink("/m1");
    mq_unlink("/m3");
    mq_unlink("/m4");
}

/* -- attributes and limits --------------------------------------------------------------- */
static void attributes(void)
{
    printf("== attributes\n");
    mqd_t q = OPEN("/a1", O_CREAT | O_RDWR, 0600, NULL);
    show_attr(q);
    struct mq_attr a = attr_of(3, 16);
    mqd_t q2 = OPEN("/a2", O_CREAT | O_RDWR, 0600, &a);
    show_attr(q2);
    a = attr_of(0, 16);
    OPEN("/a3", O_CREAT | O_RDWR, 0600, &a);
    a = attr_of(3, 0);
    OPEN("/a3", O_CREAT | O_RDWR, 0600, &a);
    a = attr_of(-1, 16);
    OPEN("/a3", O_CREAT | O_RDWR, 0600, &a);
    a = attr_of(11, 16);                  /* past msg_max: root's CAP_SYS_RESOURCE may */
    mqd_t q3 = OPEN("/a3", O_CREAT | O_RDWR, 0600, &a);
    a = attr_of(3, 8193);                 /* past msgsize_max */
    mqd_t q4 = OPEN("/a4", O_CREAT | O_RDWR, 0600, &a);
    a = attr_of(65537, 16);               /* past HARD_MSGMAX for everyone */
    OPEN("/a5", O_CREAT | O_RDWR, 0600, &a);
    a = attr_of(16, 16 * 1024 * 1024 + 1);
    OPEN("/a5", O_CREAT | O_RDWR, 0600, &a);
    a = attr_of(0, 0);
    mqd_t q5 = OPEN("/a2", O_RDWR, 0600, &a);     /* ignored without O_CREAT */
    show_attr(q5);

    struct mq_attr n = {0}, o;
    n.mq_flags = O_NONBLOCK;
    SHOW(mq_setattr(q2, &n, &o));
    printf("  old flags=%#lo\n", o.mq_flags);
    show_attr(q2);
    OCT(fcntl(q2, F_GETFL));
    show_attr(q5);                        /* the flag is the open file's */
    n.mq_flags = O_NONBLOCK | 1;
    SHOW(mq_setattr(q2, &n, &o));
    n.mq_flags = 0;
    n.mq_maxmsg = 99;                     /* only the flag changes */
    SHOW(mq_setattr(q2, &n, NULL));
    show_attr(q2);
    SHOW(syscall(SYS_mq_getsetattr, q2, BADPTR, NULL));
    SHOW(syscall(SYS_mq_getsetattr, q2, NULL, BADPTR));
    SHOW(syscall(SYS_mq_getsetattr, BADFD, NULL, &o));
    SHOW(syscall(SYS_mq_getsetattr, 1, NULL, &o));
    SHOW(syscall(SYS_mq_getsetattr, BADFD, &n, &o));
    n.mq_flags = 1;
    SHOW(syscall(SYS_mq_getsetattr, BADFD, &n, &o));   /* EINVAL first */
    SHOW(syscall(SYS_mq_getsetattr, q2, NULL, NULL));
    close(q);
    close(q2);
    close(q5);
    if (q3 >= 0)
        close(q3);
    if (q4 >= 0)
        close(q4);
    mq_unlink("/a1");
    mq_unlink("/a2");
    mq_unlink("/a3");
    mq_unlink("/a4");
}

/* RLIMIT_MSGQUEUE and queues_max */
static void limits(void)
{
    printf("== limits\n");
    struct rlimit old, lim;
    getrlimit(RLIMIT_MSGQUEUE, &old);
    lim = old;
    lim.rlim_cur = 98000;                 /* one default queue (82880 bytes), not two */
    SHOW(setrlimit(RLIMIT_MSGQUEUE, &lim));
    mqd_t q1 = OPEN("/r1", O_CREAT | O_RDWR, 0600, NULL);
    close(OPEN("/r2", O_CREAT | O_RDWR, 0600, NULL));
    struct mq_attr a = attr_of(1, 8000);
    close(OPEN("/r3", O_CREAT | O_RDWR, 0600, &a));     /* 8096 more: fits */
    a = attr_of(1, 8192);
    close(OPEN("/r4", O_CREAT | O_RDWR, 0600, &a));     /* 8288 more: does not */
    SHOW(mq_unlink("/r3"));
    close(OPEN("/r4", O_CREAT | O_RDWR, 0600, &a));     /* the charge went with the queue */
    mq_unlink("/r4");
    close(q1);                            /* its name keeps it: still charged */
    close(OPEN("/r2", O_CREAT | O_RDWR, 0600, NULL));
    q1 = OPEN("/r1", O_RDWR);
    SHOW(mq_unlink("/r1"));               /* still open: still charged */
    close(OPEN("/r2", O_CREAT | O_RDWR, 0600, NULL));
    close(q1);
    close(OPEN("/r2", O_CREAT | O_RDWR, 0600, NULL));
    mq_unlink("/r2");
    lim.rlim_cur = 0;
    SHOW(setrlimit(RLIMIT_MSGQUEUE, &lim));
    a = attr_of(1, 1);
    close(OPEN("/r5", O_CREAT | O_RDWR, 0600, &a));
    SHOW(setrlimit(RLIMIT_MSGQUEUE, &old));

    /* queues_max (256) counts every queue of the namespace; CAP_SYS_RESOURCE passes it */
    a = attr_of(1, 1);
    char name[32];
    int made = 0, err = 0;
    for (int i = 0; i < 300; i++) {
        snprintf(name, sizeof name, "/lim%d", i);
        mqd_t q = mq_open(name, O_CREAT | O_RDWR, 0600, &a);
        if (q == (mqd_t)-1) {
            err = errno;
            break;
        }
        close(q);
        made++;
    }
    printf("  made %d queues, then %s\n", made, err ? ename(err) : "no error");
    for (int i = 0; i < made; i++) {
        snprintf(name, sizeof name, "/lim%d", i);
        mq_unlink(name);
    }
}

/* -- sending and receiving --------------------------------------------------------------- */
static void messages(void)
{
    printf("== messages\n");
    struct mq_attr a = attr_of(5, 32);
    mqd_t q = OPEN("/s1", O_CREAT | O_RDWR | O_NONBLOCK, 0600, &a);
    char buf[64];
    unsigned prio;
    SHOW(mq_send(q, "p1a", 3, 1));
    SHOW(mq_send(q, "p5a", 3, 5));
    SHOW(mq_send(q, "p0", 2, 0));
    SHOW(mq_send(q, "p5b", 3, 5));
    SHOW(mq_send(q, "p1b", 3, 1));
    SHOW(mq_send(q, "full", 4, 1));
    show_attr(q);
    show_file("s1");
    SHOW(mq_receive(q, buf, 31, &prio));
    for (int i = 0; i < 6; i++) {
        memset(buf, 0, sizeof buf);
        ssize_t n = mq_receive(q, buf, sizeof buf, &prio);
        if (n < 0)
            printf("  receive: %s\n", ename(errno));
        else
            printf("  receive: %zd \"%s\" prio %u\n", n, buf, prio);
    }
    show_file("s1");
    SHOW(mq_send(q, buf, 33, 0));
    SHOW(mq_send(q, buf, 32, 32768));
    SHOW(mq_send(q, "max", 3, 32767));
    SHOW(mq_send(q, "", 0, 7));
    SHOW(mq_receive(q, buf, sizeof buf, NULL));
    SHOW(mq_receive(q, buf, sizeof buf, &prio));
    printf("  prio %u\n", prio);
    SHOW(mq_send(q, BADPTR, 3, 0));
    show_attr(q);
    SHOW(mq_send(q, "lost", 4, 0));
    SHOW(mq_receive(q, BADPTR, sizeof buf, NULL));   /* the message is gone all the same */
    SHOW(mq_send(q, "lost", 4, 0));
    SHOW(mq_receive(q, buf, sizeof buf, BADPTR));
    show_attr(q);
    SHOW(mq_send(BADFD, "x", 1, 0));
    SHOW(mq_send(1, "x", 1, 0));
    SHOW(mq_receive(0, buf, sizeof buf, NULL));
    mqd_t ro = OPEN("/s1", O_RDONLY), wo = OPEN("/s1", O_WRONLY);
    SHOW(mq_send(ro, "x", 1, 0));
    SHOW(mq_receive(wo, buf, sizeof buf, NULL));
    SHOW(read(wo, buf, sizeof buf));
    SHOW(read(q, buf, 10));
    SHOW(read(q, buf, sizeof buf));
    SHOW(lseek(q, 0, SEEK_END));
    SHOW(write(q, "x", 1));
    SHOW(pread(q, buf, 5, 55));

    /* timeouts are absolute, on CLOCK_REALTIME */
    struct timespec t = from_now(-1000);
    SHOW(mq_setattr(q, &(struct mq_attr){0}, NULL));
    SHOW(mq_timedreceive(q, buf, sizeof buf, NULL, &t));
    t = from_now(100);
    SHOW(mq_timedreceive(q, buf, sizeof buf, NULL, &t));
    t.tv_nsec = 1000000000L;
    SHOW(mq_timedreceive(q, buf, sizeof buf, NULL, &t));
    t.tv_nsec = 0;
    t.tv_sec = -1;
    SHOW(mq_timedreceive(q, buf, sizeof buf, NULL, &t));
    SHOW(mq_timedsend(q, "x", 1, 0, &t));                    /* EINVAL before EBADF and EINVAL prio */
    SHOW(mq_timedsend(BADFD, "x", 1, 99999, &t));
    SHOW(syscall(SYS_mq_timedreceive, q, buf, sizeof buf, NULL, BADPTR));
    SHOW(mq_timedreceive(BADFD, buf, sizeof buf, NULL, BADPTR));
    for (int i = 0; i < 5; i++)
        mq_send(q, "f", 1, 0);
    t = from_now(-5);
    SHOW(mq_timedsend(q, "x", 1, 0, &t));
    t = from_now(100);
    SHOW(mq_timedsend(q, "x", 1, 0, &t));
    SHOW(mq_timedreceive(q, buf, sizeof buf, NULL, &t));   /* a message there: the time does not matter */
    close(ro);
    close(wo);
    close(q);
    mq_unlink("/s1");
}

/* -- poll, select, epoll ----------------------------------------------------------------------- */
static int poll_events(int fd)
{
    struct pollfd p = {fd, POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM, 0};
    int r = poll(&p, 1, 0);
    return r < 0 ? -errno : p.revents;
}

static void polling(void)
{
    printf("== poll\n");
    struct mq_attr a = attr_of(2, 8);
    mqd_t q = OPEN("/p1", O_CREAT | O_RDWR | O_NONBLOCK, 0600, &a);
    char buf[8];
    int ep = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLET, .data.u32 = 7};
    SHOW(epoll_ctl(ep, EPOLL_CTL_ADD, q, &ev));
    for (int step = 0; step < 5; step++) {
        if (step == 1 || step == 2)
            mq_send(q, "m", 1, 0);
        if (step == 3 || step == 4)
            mq_receive(q, buf, sizeof buf, NULL);
        fd_set r, w;
        FD_ZERO(&r);
        FD_ZERO(&w);
        FD_SET(q, &r);
        FD_SET(q, &w);
        struct timeval tv = {0, 0};
        select(q + 1, &r, &w, NULL, &tv);
        struct epoll_event got = {0};
        int n = epoll_wait(ep, &got, 1, 0);
        printf("  step %d: poll %#x select r=%d w=%d epoll n=%d events=%#x\n", step, poll_events(q),
               FD_ISSET(q, &r), FD_ISSET(q, &w), n, n > 0 ? got.events : 0);
    }
    /* a poll waiting for a message is woken by another process's send */
    pid_t child = fork();
    if (child == 0) {
        mqd_t c = mq_open("/p1", O_WRONLY);
        msleep(200);
        mq_send(c, "w", 1, 3);
        _exit(0);
    }
    struct pollfd p = {q, POLLIN, 0};
    SHOW(poll(&p, 1, 10000));
    printf("  revents %#x\n", p.revents);
    struct epoll_event got;
    SHOW(epoll_wait(ep, &got, 1, 10000));
    waitpid(child, NULL, 0);
    close(ep);
    close(q);
    mq_unlink("/p1");
}

/* -- blocking, signals ---------------------------------------------------------------------------- */
static volatile sig_atomic_t alarms;
static void on_alarm(int sig)
{
    (void)sig;
    alarms++;
}

static void arm(long ms)
{
    struct itimerval it = {{0, 0}, {ms / 1000, (ms % 1000) * 1000}};
    setitimer(ITIMER_REAL, &it, NULL);
}

static void blocking(void)
{
    printf("== blocking\n");
    struct mq_attr a = attr_of(1, 8);
    mqd_t q = OPEN("/b1", O_CREAT | O_RDWR, 0600, &a);
    char buf[8] = {0};
    unsigned prio = 0;
    pid_t child = fork();
    if (child == 0) {
        mqd_t c = mq_open("/b1", O_WRONLY);
        msleep(200);
        mq_send(c, "late", 4, 9);           /* wakes the parent's receive */
        mq_send(c, "one", 3, 1);            /* fills the queue */
        struct timespec t = from_now(30000);
        mq_timedsend(c, "two", 3, 2, &t);   /* blocks until the parent receives */
        _exit(0);
    }
    ssize_t n = mq_receive(q, buf, sizeof buf, &prio);
    printf("  receive %zd \"%.*s\" prio %u\n", n, (int)(n > 0 ? n : 0), buf, prio);
    msleep(300);                            /* the child is blocked in mq_timedsend now */
    show_attr(q);
    for (int i = 0; i < 2; i++) {
        n = mq_receive(q, buf, sizeof buf, &prio);
        printf("  receive %zd \"%.*s\" prio %u\n", n, (int)(n > 0 ? n : 0), buf, prio);
    }
    int status;
    waitpid(child, &status, 0);
    printf("  child exit %d\n", WEXITSTATUS(status));

    /* a signal ends the wait: EINTR without SA_RESTART, restarted with it */
    struct sigaction sa = {0};
    sa.sa_handler = on_alarm;
    sigaction(SIGALRM, &sa, NULL);
    arm(100);
    SHOW(mq_receive(q, buf, sizeof buf, NULL));
    printf("  alarms %d\n", alarms);
    struct timespec t = from_now(10000);
    arm(100);
    SHOW(mq_timedreceive(q, buf, sizeof buf, NULL, &t));
    mq_send(q, "x", 1, 0);
    arm(100);
    SHOW(mq_send(q, "y", 1, 0));
    sa.sa_flags = SA_RESTART;
    sigaction(SIGALRM, &sa, NULL);
    mq_receive(q, buf, sizeof buf, NULL);
    child = fork();
    if (child == 0) {
        mqd_t c = mq_open("/b1", O_WRONLY);
        msleep(400);
        mq_send(c, "after", 5, 4);
        _exit(0);
    }
    arm(100);
    n = mq_receive(q, buf, sizeof buf, &prio);
    printf("  restarted receive %zd \"%.*s\" prio %u alarms %d\n", n, (int)(n > 0 ? n : 0), buf, prio, alarms);
    waitpid(child, NULL, 0);
    signal(SIGALRM, SIG_DFL);
    close(q);
    mq_unlink("/b1");
}

/* -- mq_notify ----------------------------------------------------------------------------- */
static volatile sig_atomic_t got_sig, got_code, got_value, got_pid, got_uid;
static void on_notify(int sig, siginfo_t *si, void *ctx)
{
    (void)ctx;
    got_sig = sig;
    got_code = si->si_code;
    got_value = si->si_value.sival_int;
    got_pid = si->si_pid;
    got_uid = si->si_uid;
}

static void wait_signal(void)
{
    for (int i = 0; i < 100 && !got_sig; i++)
        msleep(20);
}

static void notify(void)
{
    printf("== notify\n");
    struct sigaction sa = {0};
    sa.sa_sigaction = on_notify;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGUSR1, &sa, NULL);
    struct mq_attr a = attr_of(4, 8);
    mqd_t q = OPEN("/n1", O_CREAT | O_RDWR | O_NONBLOCK, 0600, &a);
    char buf[8];
    struct sigevent ev = {0};
    ev.sigev_notify = SIGEV_SIGNAL;
    ev.sigev_signo = SIGUSR1;
    ev.sigev_value.sival_int = 4242;
    SHOW(mq_notify(q, &ev));
    show_file("n1");
    SHOW(mq_notify(q, &ev));                  /* one registration per queue, even our own */
    pid_t child = fork();
    if (child == 0) {
        mqd_t c = mq_open("/n1", O_WRONLY);
        printf("  child notify: %s\n", mq_notify(c, &ev) < 0 ? ename(errno) : "ok");
        printf("  child unregister: %s\n", mq_notify(c, NULL) < 0 ? ename(errno) : "ok");  /* not its own */
        fflush(stdout);
        mq_send(c, "hi", 2, 1);
        _exit(0);
    }
    waitpid(child, NULL, 0);
    wait_signal();
    printf("  signal %d code %d (SI_MESGQ %d) value %d from-child %d uid-is-mine %d\n", got_sig, got_code,
           SI_MESGQ, got_value, got_pid == child, got_uid == (int)getuid());
    show_file("n1");                          /* the registration is used up */
    got_sig = 0;
    mq_receive(q, buf, sizeof buf, NULL);

    /* only a change from empty to not empty notifies */
    mq_send(q, "a", 1, 0);
    SHOW(mq_notify(q, &ev));
    SHOW(mq_send(q, "b", 1, 0));
    msleep(50);
    printf("  signalled %d\n", got_sig);
    show_file("n1");
    SHOW(mq_notify(q, NULL));
    show_file("n1");
    SHOW(mq_notify(q, NULL));
    while (mq_receive(q, buf, sizeof buf, NULL) > 0)
        ;

    /* sending to one's own queue; signal 0 registers and never signals */
    SHOW(mq_notify(q, &ev));
    SHOW(mq_send(q, "c", 1, 0));
    wait_signal();
    printf("  own send: signal %d code %d pid-is-mine %d\n", got_sig, got_code, got_pid == getpid());
    got_sig = 0;
    mq_receive(q, buf, sizeof buf, NULL);
    ev.sigev_signo = 0;
    SHOW(mq_notify(q, &ev));
    show_file("n1");
    SHOW(mq_send(q, "d", 1, 0));
    show_file("n1");
    mq_receive(q, buf, sizeof buf, NULL);

    /* SIGEV_NONE registers without telling */
    ev.sigev_notify = SIGEV_NONE;
    SHOW(mq_notify(q, &ev));
    show_file("n1");
    SHOW(mq_send(q, "e", 1, 0));
    show_file("n1");
    mq_receive(q, buf, sizeof buf, NULL);

    /* a receiver waiting takes the message: no notification */
    ev.sigev_notify = SIGEV_SIGNAL;
    ev.sigev_signo = SIGUSR1;
    SHOW(mq_notify(q, &ev));
    child = fork();
    if (child == 0) {
        mqd_t c = mq_open("/n1", O_RDONLY);
        ssize_t n = mq_receive(c, buf, sizeof buf, NULL);
        _exit(n == 1 ? 0 : 1);
    }
    msleep(300);
    SHOW(mq_send(q, "f", 1, 0));
    int status;
    waitpid(child, &status, 0);
    msleep(50);
    printf("  child received %d, signalled %d\n", WEXITSTATUS(status) == 0, got_sig);
    show_file("n1");

    /* a registration dies with its owner */
    SHOW(mq_notify(q, NULL));
    child = fork();
    if (child == 0) {
        mqd_t c = mq_open("/n1", O_RDONLY);
        _exit(mq_notify(c, &ev) < 0);
    }
    waitpid(child, &status, 0);
    printf("  child registered %d\n", WEXITSTATUS(status) == 0);
    SHOW(mq_notify(q, &ev));
    SHOW(mq_notify(q, NULL));

    /* a sender that waited for room never notifies: its message goes into a full queue */
    SHOW(mq_notify(q, NULL));
    struct mq_attr one = attr_of(1, 8);
    mqd_t q2 = OPEN("/n2", O_CREAT | O_RDWR, 0600, &one);
    child = fork();
    if (child == 0) {
        mqd_t c = mq_open("/n2", O_WRONLY);
        mq_send(c, "a", 1, 0);
        msleep(300);                          /* the parent registers meanwhile */
        _exit(mq_send(c, "b", 1, 0) < 0);     /* blocks: the queue is full */
    }
    msleep(150);
    SHOW(mq_notify(q2, &ev));
    msleep(400);
    SHOW(mq_receive(q2, buf, sizeof buf, NULL));
    waitpid(child, &status, 0);
    msleep(50);
    printf("  child sent %d, signalled %d\n", WEXITSTATUS(status) == 0, got_sig);
    show_attr(q2);
    show_file("n2");
    close(q2);
    mq_unlink("/n2");

    /* bad requests */
    ev.sigev_notify = 99;
    SHOW(mq_notify(q, &ev));
    ev.sigev_notify = SIGEV_SIGNAL;
    ev.sigev_signo = 65;
    SHOW(mq_notify(q, &ev));
    ev.sigev_signo = SIGUSR1;
    SHOW(mq_notify(BADFD, &ev));
    SHOW(mq_notify(1, &ev));
    SHOW(syscall(SYS_mq_notify, q, BADPTR));
    SHOW(mq_notify(BADFD, NULL));
    /* SIGEV_THREAD as the kernel sees it: sigev_signo names a netlink socket, the value a cookie */
    char cookie[32] = {0};
    int sv[2], pfd[2];
    socketpair(AF_UNIX, SOCK_DGRAM, 0, sv);
    pipe(pfd);
    ev.sigev_notify = SIGEV_THREAD;
    ev.sigev_value.sival_ptr = cookie;
    ev.sigev_signo = BADFD;
    SHOW(syscall(SYS_mq_notify, q, &ev));
    ev.sigev_signo = pfd[0];
    SHOW(syscall(SYS_mq_notify, q, &ev));
    ev.sigev_signo = sv[0];
    SHOW(syscall(SYS_mq_notify, q, &ev));
    ev.sigev_value.sival_ptr = BADPTR;
    SHOW(syscall(SYS_mq_notify, q, &ev));
    SHOW(syscall(SYS_mq_notify, BADFD, &ev));
    close(sv[0]);
    close(sv[1]);
    close(pfd[0]);
    close(pfd[1]);
    signal(SIGUSR1, SIG_DFL);
    close(q);
    mq_unlink("/n1");
}

/* What /proc/self/fd shows of fd, less where the mount is. */
static void show_link(int fd)
{
    char path[64], target[512];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(path, target, sizeof target - 1);
    target[n > 0 ? n : 0] = 0;
    size_t len = strlen(dir);
    const char *shown = strncmp(target, dir, len) == 0 ? target + len : target;
    printf("  fd link %s%s\n", shown == target ? "" : "MOUNT", shown);
}

/* -- lifetime and the filesystem ------------------------------------------------------------- */
static void lifetime(void)
{
    printf("== lifetime\n");
    struct mq_attr a = attr_of(3, 8);
    char buf[8];
    mqd_t q = OPEN("/l1", O_CREAT | O_RDWR | O_NONBLOCK, 0600, &a);
    SHOW(mq_send(q, "kept", 4, 0));
    close(q);
    q = OPEN("/l1", O_RDWR | O_NONBLOCK);       /* no fd kept it: its name did */
    show_attr(q);
    SHOW(mq_unlink("/l1"));
    OPEN("/l1", O_RDWR);
    struct stat s;
    SHOW(fstat(q, &s));
    printf("  nlink after unlink %ld\n", (long)s.st_nlink);
    SHOW(mq_send(q, "more", 4, 0));
    SHOW(mq_receive(q, buf, sizeof buf, NULL));
    mqd_t n = OPEN("/l1", O_CREAT | O_EXCL | O_RDWR | O_NONBLOCK, 0600, NULL);   /* a new queue */
    show_attr(n);
    show_attr(q);
    close(q);
    close(n);
    SHOW(mq_unlink("/l1"));
    SHOW(mq_unlink("/l1"));

    /* the filesystem */
    printf("== filesystem\n");
    struct statfs f;
    SHOW(statfs(dir, &f));
    printf("  type %#lx bsize %ld namelen %ld\n", (long)f.f_type, (long)f.f_bsize, (long)f.f_namelen);
    SHOW(stat(dir, &s));
    printf("  dir %#o nlink %ld size %lld\n", s.st_mode & 07777, (long)s.st_nlink, (long long)s.st_size);
    mqd_t q1 = OPEN("/f1", O_CREAT | O_RDWR, 0640, NULL);
    mqd_t q2 = OPEN("/f2", O_CREAT | O_RDWR, 0600, NULL);
    stat(dir, &s);
    printf("  dir size %lld\n", (long long)s.st_size);
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d)))
        printf("  entry %s type %d\n", e->d_name, e->d_type);
    if (d)
        closedir(d);
    char path[512], path2[512];
    snprintf(path, sizeof path, "%s/f3", dir);
    int fd = SHOW(open(path, O_CREAT | O_RDWR, 0644));     /* open(2) makes a queue of the defaults */
    show_attr(fd);
    SHOW(mq_send(fd, "via", 3, 0));
    show_file("f3");
    snprintf(path2, sizeof path2, "%s/sub", dir);
    SHOW(mkdir(path2, 0755));
    SHOW(symlink("f3", path2));
    SHOW(mknod(path2, S_IFIFO | 0600, 0));
    SHOW(rename(path, path2));
    SHOW(link(path, path2));
    SHOW(chmod(path, 0600));
    SHOW(stat(path, &s));
    printf("  f3 %#o size %lld\n", s.st_mode & 07777, (long long)s.st_size);
    SHOW(truncate(path, 0));
    SHOW(stat(path, &s));
    printf("  f3 size %lld\n", (long long)s.st_size);
    SHOW(unlink(path));
    SHOW(mq_send(fd, "on", 2, 0));                   /* still open */
    show_link(fd);                                  /* below the mount: its last name */
    show_link(q1);                                  /* mq_open's: in the namespace's own mount */
    close(fd);
    close(q1);
    close(q2);
    mq_unlink("/f1");
    mq_unlink("/f2");

    /* another mount of the namespace's mqueue shows the same queues */
    char tmp[] = "/tmp/mqmntXXXXXX";
    if (!mkdtemp(tmp))
        return;
    q1 = OPEN("/f4", O_CREAT | O_RDWR, 0600, NULL);
    if (SHOW(mount("none", tmp, "mqueue", 0, NULL)) == 0) {
        snprintf(path, sizeof path, "%s/f4", tmp);
        SHOW(access(path, F_OK));
        SHOW(umount(tmp));
    }
    rmdir(tmp);
    close(q1);
    mq_unlink("/f4");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s MQUEUE-MOUNT\n", argv[0]);
        return 2;
    }
    dir = argv[1];
    setvbuf(stdout, NULL, _IOLBF, 0);
    names();
    opening();
    attributes();
    limits();
    messages();
    polling();
    blocking();
    notify();
    lifetime();
    return 0;
}
