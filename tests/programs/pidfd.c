/*
 * pidfds: pidfd_open (flags, errors), poll readiness at exit, waitid(P_PIDFD)
 * with WNOHANG, WNOWAIT and a non-blocking pidfd (EAGAIN), pidfd_send_signal
 * to a live, zombie and reaped process, clone3's CLONE_PIDFD (close-on-exec,
 * the fd is ours), pidfd_getfd, an open /proc/<pid> as a pidfd, and
 * /proc/self/fdinfo of a pidfd.
 */
#include "common.h"
#include <linux/sched.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <sys/wait.h>

static void fdinfo(int fd, pid_t pid)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/self/fdinfo/%d", fd);
    FILE *f = fopen(path, "r");
    if (!f) {
        printf("fdinfo: %s\n", errname(errno));
        return;
    }
    while (fgets(line, sizeof line, f)) {
        int v;
        if (sscanf(line, "Pid: %d", &v) == 1)
            printf("fdinfo Pid: %s\n", v == pid ? "the pid" : v == -1 ? "-1" : "other");
        else if (!strncmp(line, "flags:", 6))
            printf("fdinfo %s", line);
    }
    fclose(f);
}

static int readiness(int fd, int timeout)
{
    struct pollfd p = {fd, POLLIN, 0};
    int r = poll(&p, 1, timeout);
    return r < 0 ? -1 : p.revents;
}

int main(void)
{
    siginfo_t si;
    pid_t child = fork();
    if (child == 0) {
        pause();
        _exit(3);
    }
    int fd = SHOW(syscall(SYS_pidfd_open, child, 0));
    char path[64], link[64] = "";
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    SHOW(readlink(path, link, sizeof link - 1));
    printf("link %s\n", link);
    struct stat st;
    SHOW(fstat(fd, &st));
    printf("mode %o\n", st.st_mode);
    OCT(fcntl(fd, F_GETFL));
    SHOW(fcntl(fd, F_GETFD));
    fdinfo(fd, child);
    SHOW(readiness(fd, 0));
    memset(&si, 0, sizeof si);
    SHOW(waitid(P_PIDFD, fd, &si, WEXITED | WNOHANG));
    printf("si_pid set: %d\n", si.si_pid != 0);
    int nb = SHOW(syscall(SYS_pidfd_open, child, O_NONBLOCK));
    OCT(fcntl(nb, F_GETFL));
    SHOW(waitid(P_PIDFD, nb, &si, WEXITED));
    SHOW(waitid(P_PIDFD, nb, &si, WEXITED | WNOHANG));
    SHOW(syscall(SYS_pidfd_send_signal, fd, SIGTERM, NULL, 0));
    SHOW(readiness(fd, 5000));
    SHOW(waitid(P_PIDFD, fd, &si, WEXITED | WNOWAIT));
    printf("code %d status %d\n", si.si_code, si.si_status);
    SHOW(syscall(SYS_pidfd_send_signal, fd, 0, NULL, 0));
    fdinfo(fd, child);
    SHOW(waitid(P_PIDFD, fd, &si, WEXITED));
    SHOW(syscall(SYS_pidfd_send_signal, fd, SIGTERM, NULL, 0));
    SHOW(readiness(fd, 0));
    fdinfo(fd, child);
    SHOW(waitid(P_PIDFD, fd, &si, WEXITED));
    SHOW(syscall(SYS_pidfd_open, child, 0));
    SHOW(syscall(SYS_pidfd_open, 0, 0));
    SHOW(syscall(SYS_pidfd_open, -5, 0));
    SHOW(syscall(SYS_pidfd_open, getpid(), 1));
    SHOW(syscall(SYS_pidfd_send_signal, 0, SIGTERM, NULL, 0));
    SHOW(syscall(SYS_pidfd_send_signal, 99, SIGTERM, NULL, 0));
    SHOW(syscall(SYS_pidfd_send_signal, fd, SIGTERM, NULL, 8));
    SHOW(waitid(P_PIDFD, 0, &si, WEXITED));
    SHOW(waitid(P_PIDFD, -1, &si, WEXITED));
    SHOW(waitid(P_PIDFD, 99, &si, WEXITED));

    /* a pidfd to ourselves: signals come from us */
    int self = SHOW(syscall(SYS_pidfd_open, getpid(), 0));
    signal(SIGUSR1, SIG_IGN);
    SHOW(syscall(SYS_pidfd_send_signal, self, SIGUSR1, NULL, 0));
    int procdir = open("/proc/self", O_RDONLY | O_DIRECTORY);
    SHOW(syscall(SYS_pidfd_send_signal, procdir, SIGUSR1, NULL, 0));
    close(procdir);
    int plain = open("/proc/self/comm", O_RDONLY);
    SHOW(syscall(SYS_pidfd_send_signal, plain, SIGUSR1, NULL, 0));
    close(plain);
    SHOW(syscall(SYS_pidfd_getfd, self, 1, 0) >= 0);
    SHOW(syscall(SYS_pidfd_getfd, self, 1, 1));
    SHOW(syscall(SYS_pidfd_getfd, self, 77, 0));
    SHOW(syscall(SYS_pidfd_getfd, fd, 1, 0));

    /* clone3 with CLONE_PIDFD */
    int pfd = -1;
    struct clone_args ca;
    memset(&ca, 0, sizeof ca);
    ca.flags = CLONE_PIDFD;
    ca.pidfd = (uint64_t)(uintptr_t)&pfd;
    ca.exit_signal = SIGCHLD;
    FLUSH();
    long k = syscall(SYS_clone3, &ca, sizeof ca);
    if (k == 0)
        _exit(7);
    printf("clone3 pidfd %d cloexec %d\n", pfd, fcntl(pfd, F_GETFD));
    SHOW(waitid(P_PIDFD, pfd, &si, WEXITED));
    printf("status %d\n", si.si_status);
    /* clone with CLONE_PIDFD: the fd goes where the parent tid would */
    pfd = -1;
    FLUSH();
    k = syscall(SYS_clone, CLONE_PIDFD | SIGCHLD, 0, &pfd, 0, 0);
    if (k == 0)
        _exit(9);
    printf("clone pidfd %d\n", pfd);
    SHOW(readiness(pfd, 5000));
    SHOW(waitid(P_PIDFD, pfd, &si, WEXITED));
    printf("status %d\n", si.si_status);
    SHOW(syscall(SYS_clone, CLONE_PIDFD | CLONE_PARENT_SETTID | SIGCHLD, 0, &pfd, 0, 0));
    return 0;
}
