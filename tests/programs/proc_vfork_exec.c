/*
 * vfork and exec: the parent is suspended until the child execs or exits,
 * the child borrows the parent's memory meanwhile, a failed exec leaves the
 * child running in that memory, and posix_spawn (vfork + exec inside glibc)
 * runs a program with its file actions.  The program re-executes itself
 * ("child MODE") as the exec'ed program.
 */
#include "common.h"
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

extern char **environ;

static int child_mode(const char *mode)
{
    if (strcmp(mode, "hello") == 0) {
        printf("exec'ed child says hello\n");
        return 4;
    }
    if (strcmp(mode, "fds") == 0) {
        /* what posix_spawn's file actions left: fd 5 is the pipe's write end, 6 is closed */
        char c = 'w';
        SHOW(write(5, &c, 1));
        SHOW(fcntl(6, F_GETFD));
        return 0;
    }
    if (strcmp(mode, "ppid") == 0) {
        /* the vfork parent runs again once we exec'ed: it writes to the pipe on fd 3 */
        char c;
        SHOW(read(3, &c, 1));
        return 0;
    }
    return 99;
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

/*
 * For test_processes.py: a helper process stuck in vfork, its child stopped
 * before it could exec (the helper waits in the kernel, state D), and we
 * exit once a line comes on stdin.
 */
static int stuck_in_vfork(void)
{
    pid_t helper = fork();
    if (helper == 0) {
        if (vfork() == 0) {
            raise(SIGSTOP);
            _exit(0);
        }
        _exit(0);
    }
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%d/stat", helper);
    for (int i = 0; i < 3000; i++) {           /* until the helper waits in vfork */
        int fd = open(path, O_RDONLY);
        long n = fd < 0 ? -1 : read(fd, buf, sizeof buf - 1);
        close(fd);
        buf[n > 0 ? n : 0] = 0;
        char *state = strrchr(buf, ')');
        if (state && state[2] == 'D')
            break;
        usleep(1000);
    }
    printf("ready\n");
    fflush(stdout);
    fgets(buf, sizeof buf, stdin);
    return 10;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "child") == 0)
        return child_mode(argv[2]);
    if (argc == 2 && strcmp(argv[1], "stuck-in-vfork") == 0)
        return stuck_in_vfork();
    setvbuf(stdout, NULL, _IONBF, 0);
    int status;

    printf("-- vfork then exec\n");
    volatile int shared = 0;
    pid_t child = vfork();
    if (child == 0) {
        shared = 42;                    /* the parent's memory: it sees this */
        execl("/proc/self/exe", argv[0], "child", "hello", (char *)NULL);
        _exit(127);
    }
    int seen = shared;              /* printed once the child, which prints too, is gone */
    SHOW(waitpid(child, &status, 0) == child);
    printf("shared = %d\n", seen);
    show_status("child", status);

    printf("-- vfork then _exit\n");
    shared = 0;
    child = vfork();
    if (child == 0) {
        shared = 7;
        _exit(3);
    }
    printf("shared = %d\n", shared);
    SHOW(waitpid(child, &status, 0) == child);
    show_status("child", status);

    printf("-- vfork, a failed exec, _exit\n");
    volatile int exec_errno = 0;
    child = vfork();
    if (child == 0) {
        execl("/nonexistent/program", "x", (char *)NULL);
        exec_errno = errno;
        _exit(127);
    }
    printf("exec failed with %s\n", errname(exec_errno));
    SHOW(waitpid(child, &status, 0) == child);
    show_status("child", status);

    printf("-- the parent runs again when the child execs, not when it exits\n");
    int p[2];
    SHOW(pipe(p));
    SHOW(dup2(p[0], 3) == 3 || p[0] == 3);
    child = vfork();
    if (child == 0) {
        execl("/proc/self/exe", argv[0], "child", "ppid", (char *)NULL);
        _exit(127);
    }
    /* the child is blocked reading fd 3 until we write: had we not run on, no one would */
    long wrote = write(p[1], "x", 1);
    SHOW(waitpid(child, &status, 0) == child);
    SHOW(wrote);
    show_status("child", status);
    close(p[0]);
    close(p[1]);
    close(3);

    printf("-- posix_spawn with file actions\n");
    SHOW(pipe(p));
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, p[1], 5);
    posix_spawn_file_actions_addopen(&fa, 6, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addclose(&fa, 6);
    char *args[] = { argv[0], "child", "fds", NULL };
    int spawned = posix_spawn(&child, "/proc/self/exe", &fa, NULL, args, environ);
    close(p[1]);
    char buf[8];
    SHOW(waitpid(child, &status, 0) == child);
    SHOW(spawned);
    SHOW(read(p[0], buf, sizeof buf));
    show_status("spawned", status);
    posix_spawn_file_actions_destroy(&fa);

    printf("-- posix_spawn of a missing program\n");
    char *missing[] = { "nope", NULL };
    SHOW(posix_spawn(&child, "/nonexistent/program", NULL, NULL, missing, environ) == ENOENT);

    printf("-- system()\n");
    SHOW(WEXITSTATUS(system("exit 6")));
    SHOW(WTERMSIG(system("kill -TERM $$")));
    return 0;
}
