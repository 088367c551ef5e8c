/*
 * Orphans: a process whose parent exits is reparented (to init, or to the
 * nearest PR_SET_CHILD_SUBREAPER ancestor, which can then wait for it);
 * PR_SET_PDEATHSIG signals a child when its parent dies; sessions and
 * process groups of a double-forked daemon.  Which process init is differs
 * between a container and the sandbox: only "the parent changed" is printed.
 */
#include "common.h"
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>

/* Poll getppid() until it is no longer `old` (at most ~5 s). */
static pid_t wait_reparented(pid_t old)
{
    for (int i = 0; i < 5000; i++) {
        pid_t now = getppid();
        if (now != old)
            return now;
        usleep(1000);
    }
    return old;
}

static void show_status(const char *label, int status)
{
    if (WIFEXITED(status))
        printf("%s: exited %d\n", label, WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        printf("%s: killed by %d\n", label, WTERMSIG(status));
    else
        printf("%s: status %#x\n", label, status);
}

/* The orphan writes one line into the pipe; the test prints it. */
static void relay(int fd)
{
    char buf[256];
    long n, total = 0;
    while ((n = read(fd, buf + total, sizeof buf - 1 - total)) > 0)
        total += n;
    buf[total] = 0;
    printf("%s", buf);
}

static void orphan_to_init(void)
{
    printf("-- an orphan is reparented\n");
    int p[2];
    pipe(p);
    pid_t middle = fork();
    if (middle == 0) {
        close(p[0]);
        pid_t me = getpid();
        if (fork() == 0) {
            char line[128];
            pid_t now = wait_reparented(me);
            snprintf(line, sizeof line, "parent changed: %s\ngetppid() == 0: %s\n",
                     now != me ? "yes" : "no", now == 0 ? "yes" : "no");
            write(p[1], line, strlen(line));
            _exit(0);
        }
        _exit(0);
    }
    close(p[1]);
    int status;
    waitpid(middle, &status, 0);
    show_status("middle", status);
    relay(p[0]);
    close(p[0]);
    /* the orphan is not ours to wait for */
    SHOW(waitpid(-1, &status, WNOHANG));
}

static void orphan_to_subreaper(void)
{
    printf("-- an orphan is reparented to the subreaper\n");
    int flag = -1;
    SHOW(prctl(PR_GET_CHILD_SUBREAPER, &flag));
    printf("subreaper = %d\n", flag);
    SHOW(prctl(PR_SET_CHILD_SUBREAPER, 1));
    SHOW(prctl(PR_GET_CHILD_SUBREAPER, &flag));
    printf("subreaper = %d\n", flag);
    int p[2];
    pipe(p);
    pid_t reaper = getpid();
    pid_t middle = fork();
    if (middle == 0) {
        close(p[0]);
        pid_t me = getpid();
        if (fork() == 0) {
            char line[128];
            pid_t now = wait_reparented(me);
            snprintf(line, sizeof line, "getppid() == the subreaper: %s\n", now == reaper ? "yes" : "no");
            write(p[1], line, strlen(line));
            _exit(9);
        }
        _exit(0);
    }
    close(p[1]);
    int status;
    SHOW(waitpid(middle, &status, 0) == middle);
    show_status("middle", status);
    relay(p[0]);
    close(p[0]);
    /* now it is ours */
    pid_t got = waitpid(-1, &status, 0);
    CHECK(got > 0 && got != middle);
    show_status("orphan", status);
    SHOW(waitpid(-1, &status, WNOHANG));
}

static void death_signal(void)
{
    printf("-- PR_SET_PDEATHSIG\n");
    /* still the subreaper: the orphan killed by its death signal comes back to us */
    int p[2];
    pipe(p);
    pid_t middle = fork();
    if (middle == 0) {
        close(p[0]);
        if (fork() == 0) {
            int sig = -1;
            signal(SIGTERM, SIG_DFL);       /* whatever we were started with */
            prctl(PR_SET_PDEATHSIG, SIGTERM);
            prctl(PR_GET_PDEATHSIG, &sig);
            char line[64];
            snprintf(line, sizeof line, "pdeathsig = %d\n", sig);
            write(p[1], line, strlen(line));
            close(p[1]);
            for (;;)
                pause();
        }
        close(p[1]);
        usleep(100000);
        _exit(0);
    }
    close(p[1]);
    relay(p[0]);
    close(p[0]);
    int status;
    SHOW(waitpid(middle, &status, 0) == middle);
    pid_t got = waitpid(-1, &status, 0);
    CHECK(got > 0);
    show_status("orphan", status);
}

static void daemon_session(void)
{
    printf("-- a double-forked daemon in a session of its own\n");
    int p[2];
    pipe(p);
    pid_t first = fork();
    if (first == 0) {
        close(p[0]);
        pid_t sid = setsid();
        char line[256];
        int n = snprintf(line, sizeof line, "setsid() == getpid(): %s\n", sid == getpid() ? "yes" : "no");
        n += snprintf(line + n, sizeof line - n, "setsid() again: %s\n",
                      setsid() < 0 ? errname(errno) : "ok");
        if (fork() == 0) {
            n += snprintf(line + n, sizeof line - n, "daemon: getsid(0) == first: %s, getpgrp() == first: %s\n",
                          getsid(0) == sid ? "yes" : "no", getpgrp() == sid ? "yes" : "no");
            write(p[1], line, n);
            _exit(0);
        }
        _exit(0);
    }
    close(p[1]);
    int status;
    waitpid(first, &status, 0);
    relay(p[0]);
    close(p[0]);
    while (waitpid(-1, &status, 0) > 0)     /* the subreaper reaps the daemon */
        show_status("daemon", status);
    /* a child makes a process group of its own (we may be a session leader: not us) */
    pid_t child = fork();
    if (child == 0)
        _exit(setpgid(0, 0) == 0 && getpgrp() == getpid() && getsid(0) != getpid() ? 0 : 1);
    SHOW(waitpid(child, &status, 0) == child);
    show_status("setpgid(0, 0) in a child", status);
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    orphan_to_init();
    orphan_to_subreaper();
    death_signal();
    daemon_session();
    return 0;
}
