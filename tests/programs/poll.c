/* poll, ppoll, select, pselect6 on pipes, /dev/null and regular files:
 * readiness, POLLHUP/POLLERR/POLLNVAL, timeouts, a wait ended by a writer
 * in another process, and the errors. */
#include "common.h"
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/select.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile int alarms;
static void on_alarm(int sig) { (void)sig; alarms++; }

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static void show_poll(const char *label, struct pollfd *p, int n, long r)
{
    printf("%s = %ld", label, r);
    if (r < 0)
        printf(" %s", errname(errno));
    for (int i = 0; i < n; i++)
        printf(" [%d: %#x]", i, p[i].revents);
    printf("\n");
}

int main(void)
{
    int p[2];
    struct pollfd fds[4];
    int file = open("/etc/passwd", O_RDONLY), null = open("/dev/null", O_RDWR);

    pipe(p);
    fds[0] = (struct pollfd){p[0], POLLIN, 0};
    fds[1] = (struct pollfd){p[1], POLLOUT, 0};
    fds[2] = (struct pollfd){file, POLLIN | POLLOUT, 0};
    fds[3] = (struct pollfd){null, POLLIN, 0};
    show_poll("empty pipe", fds, 4, poll(fds, 4, 0));
    write(p[1], "x", 1);
    show_poll("one byte", fds, 4, poll(fds, 4, 0));
    fds[2] = (struct pollfd){999, POLLIN, 0};
    fds[3] = (struct pollfd){-1, POLLIN, 0};
    show_poll("bad and negative fds", fds, 4, poll(fds, 4, 0));
    double t0 = now();
    char c;
    read(p[0], &c, 1);
    show_poll("timeout 150ms", fds, 1, poll(fds, 1, 150));
    printf("waited long enough: %s\n", now() - t0 >= 0.14 ? "yes" : "NO");
    struct timespec ts = {0, 100000000};
    show_poll("ppoll timeout", fds, 1, syscall(SYS_ppoll, fds, 1, &ts, NULL, 8));

    pid_t child = fork();
    if (child == 0) {
        usleep(200000);
        write(p[1], "y", 1);
        _exit(0);
    }
    show_poll("woken by a writer", fds, 1, poll(fds, 1, -1));
    waitpid(child, NULL, 0);
    read(p[0], &c, 1);

    close(p[1]);
    show_poll("writer gone", fds, 1, poll(fds, 1, -1));
    close(p[0]);
    pipe(p);
    close(p[0]);
    fds[1] = (struct pollfd){p[1], POLLOUT, 0};
    show_poll("reader gone", fds + 1, 1, poll(fds + 1, 1, 0));
    close(p[1]);

    printf("-- a signal during the wait\n");
    pipe(p);
    signal(SIGALRM, on_alarm);
    fds[0] = (struct pollfd){p[0], POLLIN, 0};
    ualarm(100000, 0);
    show_poll("poll(-1) and SIGALRM", fds, 1, poll(fds, 1, -1));
    ualarm(100000, 0);
    show_poll("poll(5000) and SIGALRM", fds, 1, poll(fds, 1, 5000));
    printf("alarms = %d\n", alarms);
    close(p[0]);
    close(p[1]);

    printf("-- errors\n");
    show_poll("EFAULT", fds, 0, poll(BADPTR, 1, 0));
    show_poll("too many fds", fds, 0, syscall(SYS_poll, fds, 1L << 30, 0));
    ts.tv_nsec = 2000000000;
    show_poll("bad timespec", fds, 0, syscall(SYS_ppoll, fds, 1, &ts, NULL, 8));

    printf("-- select\n");
    pipe(p);
    fd_set r, w;
    FD_ZERO(&r); FD_ZERO(&w);
    FD_SET(p[0], &r); FD_SET(p[1], &w);
    SHOW(select(p[1] + 1, &r, &w, NULL, &(struct timeval){0, 0}));
    printf("readable %d writable %d\n", FD_ISSET(p[0], &r), FD_ISSET(p[1], &w));
    FD_ZERO(&r);
    FD_SET(p[0], &r);
    t0 = now();
    SHOW(select(p[0] + 1, &r, NULL, NULL, &(struct timeval){0, 120000}));
    printf("waited long enough: %s\n", now() - t0 >= 0.11 ? "yes" : "NO");
    FD_SET(p[0], &r);
    write(p[1], "z", 1);
    ts = (struct timespec){1, 0};
    SHOW(syscall(SYS_pselect6, p[0] + 1, &r, NULL, NULL, &ts, NULL));
    printf("readable %d\n", FD_ISSET(p[0], &r));
    FD_ZERO(&r);
    FD_SET(900, &r);
    SHOW(select(901, &r, NULL, NULL, &(struct timeval){0, 0}));
    SHOW(select(-1, NULL, NULL, NULL, &(struct timeval){0, 0}));
    SHOW(select(1, NULL, NULL, NULL, &(struct timeval){-1, 0}));
    return 0;
}
