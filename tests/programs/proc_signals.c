/*
 * Signals and waits the supervisor parks: pselect6 and ppoll apply their
 * signal mask for the length of the wait only, SIGPIPE with a handler or
 * blocked, a blocking pipe write interrupted after it wrote part of its data,
 * SIGCHLD ignored (children reaped by the kernel) and SA_NOCLDSTOP, a child
 * stopped and continued while parked in a read.
 */
#include "common.h"
#include <poll.h>
#include <signal.h>
#include <sys/select.h>
#include <sys/uio.h>
#include <sys/wait.h>

static volatile int caught[65];
static void on_signal(int sig) { caught[sig]++; }

/* The mask a handler runs with: the wait's, plus the signal itself. */
static volatile int usr2_blocked_in_handler = -1, usr1_blocked_in_handler = -1;
static void on_usr1(int sig)
{
    sigset_t now;
    sigprocmask(SIG_SETMASK, NULL, &now);
    usr1_blocked_in_handler = sigismember(&now, SIGUSR1);
    usr2_blocked_in_handler = sigismember(&now, SIGUSR2);
    caught[sig]++;
}

static void handle(int sig, int flags)
{
    struct sigaction sa = {0};
    sa.sa_handler = on_signal;
    sa.sa_flags = flags;
    sigaction(sig, &sa, NULL);
}

static int blocked(int sig)
{
    sigset_t now;
    sigprocmask(SIG_SETMASK, NULL, &now);
    return sigismember(&now, sig);
}

static int pending(int sig)
{
    sigset_t set;
    sigpending(&set);
    return sigismember(&set, sig);
}

/* A child that sends `sig` to us after `usec`, then exits. */
static pid_t signal_later(int sig, int usec)
{
    pid_t parent = getpid();
    pid_t child = fork();
    if (child == 0) {
        usleep(usec);
        kill(parent, sig);
        _exit(0);
    }
    return child;
}

static void wait_mask(int use_ppoll)
{
    printf("-- %s: the mask unblocks a signal for the wait only\n", use_ppoll ? "ppoll" : "pselect");
    int p[2];
    pipe(p);
    sigset_t usr1, usr2, wait_with;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    sigemptyset(&usr2);
    sigaddset(&usr2, SIGUSR2);
    sigprocmask(SIG_BLOCK, &usr1, NULL);
    sigprocmask(SIG_BLOCK, &usr2, NULL);
    sigprocmask(SIG_SETMASK, NULL, &wait_with);
    sigdelset(&wait_with, SIGUSR1);
    sigdelset(&wait_with, SIGUSR2);
    struct sigaction sa = {0};
    sa.sa_handler = on_usr1;
    sa.sa_flags = SA_RESTART;
    sigaction(SIGUSR1, &sa, NULL);
    caught[SIGUSR1] = 0;
    pid_t child = signal_later(SIGUSR1, 50000);
    long r;
    if (use_ppoll) {
        struct pollfd fds = { p[0], POLLIN, 0 };
        r = ppoll(&fds, 1, NULL, &wait_with);
    } else {
        fd_set rd;
        FD_ZERO(&rd);
        FD_SET(p[0], &rd);
        r = pselect(p[0] + 1, &rd, NULL, NULL, NULL, &wait_with);
    }
    printf("wait = %ld %s, handler ran %d time(s)\n", r, r < 0 ? errname(errno) : "", caught[SIGUSR1]);
    printf("in the handler: SIGUSR1 blocked %d, SIGUSR2 blocked %d\n",
           usr1_blocked_in_handler, usr2_blocked_in_handler);
    printf("after: SIGUSR1 blocked %d, SIGUSR2 blocked %d\n", blocked(SIGUSR1), blocked(SIGUSR2));
    sigprocmask(SIG_UNBLOCK, &usr2, NULL);
    waitpid(child, NULL, 0);

    printf("-- %s: a signal already pending is delivered by the wait\n", use_ppoll ? "ppoll" : "pselect");
    caught[SIGUSR1] = 0;
    raise(SIGUSR1);
    printf("pending before: %s\n", pending(SIGUSR1) ? "yes" : "no");
    struct timespec ten_s = { 10, 0 };
    if (use_ppoll) {
        struct pollfd fds = { p[0], POLLIN, 0 };
        r = ppoll(&fds, 1, &ten_s, &wait_with);
    } else {
        fd_set rd;
        FD_ZERO(&rd);
        FD_SET(p[0], &rd);
        r = pselect(p[0] + 1, &rd, NULL, NULL, &ten_s, &wait_with);
    }
    printf("wait = %ld %s, handler ran %d time(s)\n", r, r < 0 ? errname(errno) : "", caught[SIGUSR1]);

    printf("-- %s: the mask blocks a signal for the wait only\n", use_ppoll ? "ppoll" : "pselect");
    sigprocmask(SIG_UNBLOCK, &usr1, NULL);
    sigset_t all_but_none;
    sigfillset(&all_but_none);
    caught[SIGUSR1] = 0;
    child = signal_later(SIGUSR1, 20000);
    struct timespec short_wait = { 0, 300000000 };
    if (use_ppoll) {
        struct pollfd fds = { p[0], POLLIN, 0 };
        r = ppoll(&fds, 1, &short_wait, &all_but_none);
    } else {
        fd_set rd;
        FD_ZERO(&rd);
        FD_SET(p[0], &rd);
        r = pselect(p[0] + 1, &rd, NULL, NULL, &short_wait, &all_but_none);
    }
    /* the wait timed out (a signal let in would have made it EINTR); the
     * signal comes in as soon as it ended */
    waitpid(child, NULL, 0);
    printf("wait = %ld %s, then the handler ran %d time(s)\n", r, r < 0 ? errname(errno) : "", caught[SIGUSR1]);

    printf("-- %s: data ready, the mask is put back at once\n", use_ppoll ? "ppoll" : "pselect");
    write(p[1], "x", 1);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_BLOCK, &usr1, NULL);
    if (use_ppoll) {
        struct pollfd fds = { p[0], POLLIN, 0 };
        r = ppoll(&fds, 1, NULL, &none);
    } else {
        fd_set rd;
        FD_ZERO(&rd);
        FD_SET(p[0], &rd);
        r = pselect(p[0] + 1, &rd, NULL, NULL, NULL, &none);
    }
    printf("wait = %ld, SIGUSR1 blocked: %s\n", r, blocked(SIGUSR1) ? "yes" : "no");
    sigprocmask(SIG_UNBLOCK, &usr1, NULL);
    signal(SIGUSR1, SIG_DFL);
    close(p[0]);
    close(p[1]);
}

static void sigpipe(void)
{
    printf("-- SIGPIPE with a handler, then blocked\n");
    int p[2];
    pipe(p);
    close(p[0]);
    handle(SIGPIPE, 0);
    caught[SIGPIPE] = 0;
    SHOW(write(p[1], "x", 1));
    printf("handler ran %d time(s)\n", caught[SIGPIPE]);
    struct iovec iov = { "abc", 3 };
    SHOW(writev(p[1], &iov, 1));
    printf("handler ran %d time(s)\n", caught[SIGPIPE]);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    sigprocmask(SIG_BLOCK, &set, NULL);
    caught[SIGPIPE] = 0;
    SHOW(write(p[1], "x", 1));
    printf("pending: %s, handler ran %d time(s)\n", pending(SIGPIPE) ? "yes" : "no", caught[SIGPIPE]);
    sigprocmask(SIG_UNBLOCK, &set, NULL);
    printf("after unblocking: handler ran %d time(s)\n", caught[SIGPIPE]);
    signal(SIGPIPE, SIG_DFL);
    close(p[1]);
}

static void partial_write(void)
{
    static char big[100000];
    for (int restart = 0; restart < 2; restart++) {
        printf("-- a blocking write interrupted after part of its data\n");
        int p[2];
        pipe(p);
        handle(SIGALRM, restart ? SA_RESTART : 0);
        caught[SIGALRM] = 0;
        ualarm(100000, 0);
        long r = write(p[1], big, sizeof big);      /* 64 KiB fit, then it waits */
        printf("SA_RESTART=%d: write = %ld %s, handler ran %d time(s)\n", restart, r,
               r < 0 ? errname(errno) : "", caught[SIGALRM]);
        close(p[0]);
        close(p[1]);

        printf("-- a blocking write interrupted before it wrote anything\n");
        pipe(p);
        fcntl(p[1], F_SETPIPE_SZ, 4096);
        write(p[1], big, 4096);                     /* full */
        pid_t child = fork();
        if (child == 0) {
            usleep(400000);                         /* after the alarm: drain */
            char buf[8192];
            read(p[0], buf, sizeof buf);
            _exit(0);
        }
        caught[SIGALRM] = 0;
        ualarm(100000, 0);
        r = write(p[1], big, 10);                   /* EINTR, or restarted and done */
        printf("SA_RESTART=%d: write = %ld %s, handler ran %d time(s)\n", restart, r,
               r < 0 ? errname(errno) : "", caught[SIGALRM]);
        waitpid(child, NULL, 0);
        close(p[0]);
        close(p[1]);
    }
    signal(SIGALRM, SIG_DFL);
}

static void sigchld(void)
{
    printf("-- SIGCHLD ignored: no zombies, wait gives ECHILD once they are gone\n");
    signal(SIGCHLD, SIG_IGN);
    pid_t a = fork();
    if (a == 0)
        _exit(1);
    pid_t b = fork();
    if (b == 0) {
        usleep(100000);
        _exit(2);
    }
    int status;
    SHOW(wait(&status));
    SHOW(kill(b, 0));
    signal(SIGCHLD, SIG_DFL);

    printf("-- SA_NOCLDSTOP: no SIGCHLD for a stop, one for the exit\n");
    struct sigaction sa = {0};
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_NOCLDSTOP;
    sigaction(SIGCHLD, &sa, NULL);
    caught[SIGCHLD] = 0;
    pid_t c = fork();
    if (c == 0) {
        raise(SIGSTOP);
        _exit(3);
    }
    SHOW(waitpid(c, &status, WUNTRACED) == c);
    printf("stopped: %s, SIGCHLD caught %d\n", WIFSTOPPED(status) ? "yes" : "no", caught[SIGCHLD]);
    kill(c, SIGCONT);
    SHOW(waitpid(c, &status, 0) == c);
    printf("exited %d, SIGCHLD caught %d\n", WEXITSTATUS(status), caught[SIGCHLD]);
    signal(SIGCHLD, SIG_DFL);
}

static void stop_continue_parked(void)
{
    printf("-- SIGSTOP and SIGCONT of a child parked in a pipe read\n");
    for (int with_handler = 0; with_handler < 2; with_handler++) {
        int p[2], status;
        pipe(p);
        pid_t child = fork();
        if (child == 0) {
            if (with_handler)
                handle(SIGCONT, 0);         /* no SA_RESTART: the read ends with EINTR */
            char buf[8];
            long n = read(p[0], buf, sizeof buf);
            printf("SIGCONT handler %d: child read = %ld %s\n", with_handler, n, n < 0 ? errname(errno) : "");
            if (n < 0)
                read(p[0], buf, sizeof buf);   /* live on until the parent saw it continue */
            _exit(0);
        }
        usleep(100000);
        kill(child, SIGSTOP);
        int stopped = waitpid(child, &status, WUNTRACED) == child && WIFSTOPPED(status);
        char path[64], buf[512];
        snprintf(path, sizeof path, "/proc/%d/stat", child);
        int fd = open(path, O_RDONLY);
        long n = read(fd, buf, sizeof buf - 1);
        close(fd);
        buf[n > 0 ? n : 0] = 0;
        char state = strrchr(buf, ')') ? strrchr(buf, ')')[2] : '?';
        kill(child, SIGCONT);
        int continued = waitpid(child, &status, WCONTINUED) == child && WIFCONTINUED(status);
        usleep(100000);
        write(p[1], "hey", 3);
        SHOW(waitpid(child, &status, 0) == child && WIFEXITED(status));
        /* printed once the child, which prints too, is gone */
        printf("stopped: %d, state %c, continued: %d\n", stopped, state, continued);
        close(p[0]);
        close(p[1]);
    }
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    wait_mask(0);
    wait_mask(1);
    sigpipe();
    partial_write();
    sigchld();
    stop_continue_parked();
    return 0;
}
