/*
 * Waiting for children: a zombie (state Z in /proc/<pid>/stat until it is
 * reaped), wait4 and waitid with WNOHANG, WNOWAIT, WUNTRACED/WSTOPPED,
 * WCONTINUED, the exit codes of children killed by signals, and __WALL /
 * __WCLONE for a child that sends no SIGCHLD when it ends.
 */
#include "common.h"
#include <sched.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>

/* The state letter of /proc/<pid>/stat (after the ")" of the name), or the errno name. */
static const char *proc_state(pid_t pid)
{
    static char out[32];
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return errname(errno);
    long n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return n < 0 ? errname(errno) : "empty";
    buf[n] = 0;
    char *close_paren = strrchr(buf, ')');
    if (!close_paren || close_paren[1] != ' ')
        return "?";
    snprintf(out, sizeof out, "%c", close_paren[2]);
    return out;
}

/* The "State:" line of /proc/<pid>/status, without the tab. */
static const char *proc_status_state(pid_t pid)
{
    static char out[64];
    char path[64], buf[4096];
    snprintf(path, sizeof path, "/proc/%d/status", pid);
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return errname(errno);
    long n = read(fd, buf, sizeof buf - 1);
    close(fd);
    buf[n > 0 ? n : 0] = 0;
    char *line = strstr(buf, "State:\t");
    if (!line)
        return "?";
    line += 7;
    size_t len = strcspn(line, "\n");
    snprintf(out, sizeof out, "%.*s", (int)len, line);
    return out;
}

/* What else /proc shows of a zombie: its name, no command line, executable or fds. */
static void zombie_proc(pid_t pid)
{
    char path[64], buf[256];
    snprintf(path, sizeof path, "/proc/%d/comm", pid);
    int fd = open(path, O_RDONLY);
    long n = fd < 0 ? -1 : read(fd, buf, sizeof buf - 1);
    buf[n > 0 ? n : 0] = 0;
    printf("comm: %s", n > 0 ? buf : "(none)\n");
    close(fd);
    snprintf(path, sizeof path, "/proc/%d/cmdline", pid);
    fd = open(path, O_RDONLY);
    SHOW(read(fd, buf, sizeof buf));
    close(fd);
    snprintf(path, sizeof path, "/proc/%d/exe", pid);
    SHOW(readlink(path, buf, sizeof buf));
    snprintf(path, sizeof path, "/proc/%d/fd/0", pid);
    SHOW(access(path, F_OK));
    CHECK(access("/proc/self/fd/0", F_OK) == 0);
}

static const char *code_name(int code)
{
    switch (code) {
    case CLD_EXITED: return "CLD_EXITED";
    case CLD_KILLED: return "CLD_KILLED";
    case CLD_DUMPED: return "CLD_DUMPED";
    case CLD_STOPPED: return "CLD_STOPPED";
    case CLD_CONTINUED: return "CLD_CONTINUED";
    case CLD_TRAPPED: return "CLD_TRAPPED";
    default: return "0";
    }
}

static void show_info(const char *label, siginfo_t *si, pid_t child)
{
    printf("%s: pid %s signo %d code %s status %d\n", label,
           si->si_pid == child ? "=child" : si->si_pid == 0 ? "0" : "other",
           si->si_signo, code_name(si->si_code), si->si_status);
}

static void show_status(const char *label, int status)
{
    if (WIFEXITED(status))
        printf("%s: exited %d\n", label, WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        printf("%s: killed by %d%s\n", label, WTERMSIG(status), WCOREDUMP(status) ? " (core)" : "");
    else if (WIFSTOPPED(status))
        printf("%s: stopped by %d\n", label, WSTOPSIG(status));
    else if (WIFCONTINUED(status))
        printf("%s: continued\n", label);
    else
        printf("%s: status %#x\n", label, status);
}

static void zombie(void)
{
    printf("-- a zombie until reaped\n");
    siginfo_t si;
    int status;
    pid_t child = fork();
    if (child == 0)
        _exit(7);
    memset(&si, 0, sizeof si);
    /* WNOWAIT: wait for the exit but leave the child a zombie */
    SHOW(waitid(P_PID, child, &si, WEXITED | WNOWAIT));
    show_info("waitid WNOWAIT", &si, child);
    printf("stat state: %s\n", proc_state(child));
    printf("status state: %s\n", proc_status_state(child));
    zombie_proc(child);
    SHOW(kill(child, 0));
    memset(&si, 0, sizeof si);
    SHOW(waitid(P_PID, child, &si, WEXITED | WNOWAIT | WNOHANG));
    show_info("waitid WNOWAIT again", &si, child);
    SHOW(wait4(child, &status, 0, NULL) == child);
    show_status("wait4", status);
    printf("stat state after reap: %s\n", proc_state(child));
    SHOW(kill(child, 0));
    SHOW(wait4(child, &status, 0, NULL));
    SHOW(wait4(-1, &status, WNOHANG, NULL));
    memset(&si, 0, sizeof si);
    SHOW(waitid(P_ALL, 0, &si, WEXITED));
}

static void nohang(void)
{
    printf("-- WNOHANG on a running child\n");
    int p[2], status;
    siginfo_t si;
    char c;
    SHOW(pipe(p));
    pid_t child = fork();
    if (child == 0) {
        close(p[1]);
        read(p[0], &c, 1);              /* until the parent closes its end */
        _exit(3);
    }
    close(p[0]);
    SHOW(wait4(child, &status, WNOHANG, NULL));
    memset(&si, 0xff, sizeof si);
    SHOW(waitid(P_PID, child, &si, WEXITED | WNOHANG));
    printf("si_pid = %d, si_signo = %d\n", si.si_pid, si.si_signo);
    SHOW(waitid(P_PID, child, &si, WNOHANG));           /* no event asked for */
    SHOW(waitid(P_PID, child, NULL, WEXITED | 0x10000000));
    close(p[1]);
    SHOW(wait4(child, &status, 0, NULL) == child);
    show_status("wait4", status);
}

static void stop_continue(void)
{
    printf("-- WUNTRACED, WSTOPPED, WCONTINUED\n");
    int status;
    siginfo_t si;
    pid_t child = fork();
    if (child == 0) {
        raise(SIGSTOP);
        for (;;)
            pause();
    }
    SHOW(wait4(child, &status, WUNTRACED, NULL) == child);
    show_status("wait4 WUNTRACED", status);
    printf("stat state: %s\n", proc_state(child));
    printf("status state: %s\n", proc_status_state(child));
    /* reported once: a second wait has nothing new */
    SHOW(wait4(child, &status, WUNTRACED | WNOHANG, NULL));
    SHOW(kill(child, SIGCONT));
    SHOW(wait4(child, &status, WCONTINUED, NULL) == child);
    show_status("wait4 WCONTINUED", status);
    SHOW(kill(child, SIGSTOP));
    memset(&si, 0, sizeof si);
    SHOW(waitid(P_PID, child, &si, WSTOPPED | WNOWAIT));
    show_info("waitid WSTOPPED|WNOWAIT", &si, child);
    memset(&si, 0, sizeof si);
    SHOW(waitid(P_PID, child, &si, WSTOPPED));
    show_info("waitid WSTOPPED", &si, child);
    SHOW(kill(child, SIGCONT));
    memset(&si, 0, sizeof si);
    SHOW(waitid(P_PID, child, &si, WCONTINUED));
    show_info("waitid WCONTINUED", &si, child);
    SHOW(kill(child, SIGKILL));
    memset(&si, 0, sizeof si);
    SHOW(waitid(P_PID, child, &si, WEXITED));
    show_info("waitid WEXITED", &si, child);
}

static void killed(void)
{
    printf("-- children killed by signals\n");
    static const int sigs[] = { SIGTERM, SIGKILL, SIGINT, SIGUSR1, SIGPIPE, SIGALRM };
    for (unsigned i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
        int status;
        pid_t child = fork();
        if (child == 0) {
            signal(sigs[i], SIG_DFL);       /* whatever we were started with (nohup, &) */
            kill(getpid(), sigs[i]);
            _exit(0);
        }
        waitpid(child, &status, 0);
        show_status("kill self", status);
    }
    /* a fault and abort(): killed (no core file: RLIMIT_CORE is set to 0) */
    struct rlimit no_core = { 0, 0 };
    setrlimit(RLIMIT_CORE, &no_core);
    for (int i = 0; i < 2; i++) {
        int status;
        pid_t child = fork();
        if (child == 0) {
            if (i == 0)
                *(volatile int *)8 = 1;
            abort();
        }
        waitpid(child, &status, 0);
        show_status(i == 0 ? "segv" : "abort", status);
    }
}

static char clone_stack[65536] __attribute__((aligned(16)));

static int clone_child(void *arg)
{
    (void)arg;
    return 5;
}

static void wall(void)
{
    printf("-- __WALL and __WCLONE\n");
    int status;
    /* exit signal 0: a "clone" child, invisible to a plain wait */
    pid_t child = clone(clone_child, clone_stack + sizeof clone_stack, 0, NULL);
    CHECK(child > 0);
    usleep(100000);
    SHOW(waitpid(child, &status, WNOHANG));
    SHOW(waitpid(child, &status, __WCLONE) == child);
    show_status("__WCLONE", status);
    signal(SIGUSR2, SIG_IGN);
    child = clone(clone_child, clone_stack + sizeof clone_stack, SIGUSR2, NULL);
    SHOW(waitpid(child, &status, __WALL) == child);
    show_status("__WALL", status);
    signal(SIGUSR2, SIG_DFL);
    child = fork();
    if (child == 0)
        _exit(6);
    SHOW(waitpid(child, &status, __WCLONE | WNOHANG));
    SHOW(waitpid(child, &status, __WALL) == child);
    show_status("__WALL fork", status);
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    zombie();
    nohang();
    stop_continue();
    killed();
    wall();
    return 0;
}
