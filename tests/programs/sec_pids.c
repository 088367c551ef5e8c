/*
 * pid 1 is the sandbox's init (as under `docker run --init`): it may be signalled,
 * reniced and limited as Linux allows, and none of it reaches the supervisor; a pid
 * the model does not know is ESRCH; an orphan's parent is the init. Sandbox-only:
 * tests/test_pid_targets.py states what it must print.
 */
#include "common.h"
#include <sched.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>

static void as_root(void)
{
    siginfo_t si;
    struct rlimit rl;
    struct sched_param sp = { 0 };
    printf("-- pid 1 from root\n");
    SHOW(kill(1, 0));
    SHOW(kill(1, SIGTERM));
    SHOW(kill(1, SIGKILL));
    SHOW(kill(1, SIGSTOP));
    SHOW(kill(1, 99));
    SHOW(syscall(SYS_tkill, 1, SIGTERM));
    SHOW(syscall(SYS_tgkill, 1, 1, SIGTERM));
    SHOW(syscall(SYS_tgkill, getpid(), 1, SIGTERM));
    memset(&si, 0, sizeof si);
    si.si_signo = SIGUSR1;
    si.si_code = SI_QUEUE;
    SHOW(syscall(SYS_rt_sigqueueinfo, 1, SIGUSR1, &si));
    si.si_code = SI_USER;
    SHOW(syscall(SYS_rt_sigqueueinfo, 1, SIGUSR1, &si));
    SHOW(syscall(SYS_rt_sigqueueinfo, 1, SIGUSR1, BADPTR));
    si.si_code = SI_QUEUE;
    SHOW(syscall(SYS_rt_tgsigqueueinfo, 1, 1, SIGUSR1, &si));
    int pfd = syscall(SYS_pidfd_open, 1, 0);
    OK(pfd);
    SHOW(syscall(SYS_pidfd_send_signal, pfd, SIGTERM, NULL, 0));
    SHOW(syscall(SYS_pidfd_send_signal, pfd, SIGKILL, NULL, 0));
    si.si_code = SI_USER;
    SHOW(syscall(SYS_pidfd_send_signal, pfd, SIGUSR1, &si, 0));
    SHOW(syscall(SYS_pidfd_getfd, pfd, 0, 0));
    int dfd = open("/proc/1", O_RDONLY | O_DIRECTORY);
    OK(dfd);
    SHOW(syscall(SYS_pidfd_send_signal, dfd, SIGTERM, NULL, 0));
    SHOW(syscall(SYS_getpriority, PRIO_PROCESS, 1));
    SHOW(syscall(SYS_setpriority, PRIO_PROCESS, 1, 7));
    SHOW(syscall(SYS_getpriority, PRIO_PROCESS, 1));
    SHOW(sched_getscheduler(1));
    SHOW(sched_setscheduler(1, SCHED_BATCH, &sp));
    SHOW(sched_getscheduler(1));
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(0, &one);
    SHOW(sched_setaffinity(1, sizeof one, &one));
    CPU_ZERO(&one);
    SHOW(sched_getaffinity(1, sizeof one, &one));
    SHOW(CPU_COUNT(&one));
    SHOW(syscall(SYS_prlimit64, 1, RLIMIT_NOFILE, NULL, &rl));
    rl.rlim_cur = 77;
    SHOW(syscall(SYS_prlimit64, 1, RLIMIT_NOFILE, &rl, NULL));
    SHOW(syscall(SYS_prlimit64, 1, RLIMIT_NOFILE, NULL, &rl));
    SHOW(rl.rlim_cur);
    long head, len;
    SHOW(syscall(SYS_get_robust_list, 1, &head, &len));
    SHOW(head);
    SHOW(len);
    int fd = open("/proc/1/stat", O_RDONLY);
    char buf[512] = "";
    SHOW(read(fd, buf, sizeof buf - 1) > 0);
    char *p = strchr(buf, ')');
    printf("stat: %.*s\n", p ? (int)(p - buf + 8) : 0, buf);
    close(fd);
    fd = open("/proc/1/environ", O_RDONLY);
    SHOW(read(fd, buf, sizeof buf));
    close(fd);
    fd = open("/proc/1/maps", O_RDONLY);
    SHOW(read(fd, buf, sizeof buf));
    close(fd);
    SHOW(readlink("/proc/1/exe", buf, sizeof buf));
}

static void unknown_pids(void)
{
    pid_t gone = fork();
    if (gone == 0)
        _exit(0);
    waitpid(gone, NULL, 0);
    printf("-- a pid nobody has\n");
    SHOW(kill(gone, 0));
    SHOW(syscall(SYS_tkill, gone, 0));
    SHOW(syscall(SYS_tgkill, gone, gone, 0));
    SHOW(syscall(SYS_rt_sigqueueinfo, gone, 0, BADPTR));
    SHOW(syscall(SYS_pidfd_open, gone, 0));
    SHOW(getpgid(gone));
    SHOW(getsid(gone));
    SHOW(setpgid(gone, 0));
    SHOW(syscall(SYS_getpriority, PRIO_PROCESS, gone));
    SHOW(sched_getscheduler(gone));
    SHOW(syscall(SYS_prlimit64, gone, RLIMIT_NOFILE, NULL, NULL));
    long head, len;
    SHOW(syscall(SYS_get_robust_list, gone, &head, &len));
}

static void unprivileged(void)
{
    printf("-- pid 1 from uid 1000\n");
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        if (setgid(1000) || setuid(1000))
            _exit(99);
        SHOW(kill(1, 0));
        SHOW(kill(1, SIGTERM));
        SHOW(syscall(SYS_setpriority, PRIO_PROCESS, 1, 10));
        struct sched_param sp = { 0 };
        SHOW(sched_setscheduler(1, SCHED_OTHER, &sp));
        cpu_set_t one;
        CPU_ZERO(&one);
        CPU_SET(0, &one);
        SHOW(sched_setaffinity(1, sizeof one, &one));
        struct rlimit rl;
        SHOW(syscall(SYS_prlimit64, 1, RLIMIT_NOFILE, NULL, &rl));
        long head, len;
        SHOW(syscall(SYS_get_robust_list, 1, &head, &len));
        int pfd = syscall(SYS_pidfd_open, 1, 0);
        SHOW(syscall(SYS_pidfd_send_signal, pfd, SIGTERM, NULL, 0));
        fflush(stdout);
        _exit(0);
    }
    int st;
    waitpid(pid, &st, 0);
    SHOW(WEXITSTATUS(st));
}

/* A grandchild whose parent died is the init's: getppid, stat and status agree. */
static void orphan(void)
{
    int fds[2];
    printf("-- orphan\n");
    fflush(stdout);
    pipe(fds);
    pid_t child = fork();
    if (child == 0) {
        if (fork() == 0) {
            char b;
            read(fds[0], &b, 1);            /* until the parent is gone */
            for (int i = 0; i < 200 && getppid() != 1; i++)
                usleep(10000);
            SHOW(getppid());
            char buf[512] = "", *p;
            int fd = open("/proc/self/stat", O_RDONLY);
            read(fd, buf, sizeof buf - 1);
            p = strrchr(buf, ')');
            printf("stat ppid: %d\n", p ? atoi(p + 4) : -1);
            close(fd);
            FILE *f = fopen("/proc/self/status", "r");
            while (fgets(buf, sizeof buf, f))
                if (!strncmp(buf, "PPid:", 5))
                    printf("status %s", buf);
            fclose(f);
            fflush(stdout);
            _exit(0);
        }
        _exit(0);
    }
    waitpid(child, NULL, 0);
    write(fds[1], "x", 1);
    usleep(500000);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    as_root();
    unknown_pids();
    unprivileged();
    orphan();
    return 0;
}
