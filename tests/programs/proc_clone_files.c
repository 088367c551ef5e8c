/* clone(CLONE_FILES) without CLONE_THREAD: parent and child share one fd
 * table, which lives as long as either of them (files_struct's count).
 * The child's opens, closes and close_range are the parent's too; its exit
 * takes nothing with it; its exec unshares the table first (unshare_files),
 * so close-on-exec and later opens stay its own; the table outlives a parent
 * that exits first.
 *
 * Usage: proc_clone_files [after-exec FD_CLOEXEC FD_KEPT | unshare]
 */
#include "common.h"
#include <linux/close_range.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>

static int is_open(int fd)
{
    return fcntl(fd, F_GETFD) != -1;
}

/* clone(flags | SIGCHLD) with a copy of our stack, as fork does. */
static pid_t clone_files(unsigned long flags)
{
    fflush(stdout);
    return syscall(SYS_clone, flags | SIGCHLD, 0, 0, 0, 0);
}

static int reap(pid_t p)
{
    int st = 0;
    if (waitpid(p, &st, 0) != p)
        return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void opens_and_closes_are_shared(void)
{
    printf("-- the child's opens and closes are the parent's\n");
    int a = open("/dev/null", O_RDONLY), b = open("/dev/zero", O_RDONLY);
    SHOW(a);
    SHOW(b);
    int pipefd[2];
    SHOW(pipe(pipefd));
    pid_t p = clone_files(CLONE_FILES);
    if (p == 0) {
        close(a);
        int c = open("/dev/null", O_WRONLY);    /* takes a's number */
        int d = dup2(b, 20);
        close(pipefd[0]);
        _exit(c == a && d == 20 ? 0 : 1);
    }
    SHOW(reap(p));
    /* the child's exit took none of them */
    fflush(stdout);
    SHOW(write(1, "stdout still open\n", 18));
    SHOW(is_open(a));
    SHOW(fcntl(a, F_GETFL) & O_ACCMODE);       /* the child's O_WRONLY /dev/null */
    SHOW(is_open(b));
    SHOW(is_open(20));
    SHOW(is_open(pipefd[0]));
    SHOW(is_open(pipefd[1]));
    SHOW(write(pipefd[1], "x", 1));             /* no reader left: EPIPE */
    close(a);
    close(b);
    close(20);
    close(pipefd[1]);
}

static void close_range_in_the_child_closes_for_both(void)
{
    printf("-- close_range in the child\n");
    int a = open("/dev/null", O_RDONLY), b = open("/dev/null", O_RDONLY);
    pid_t p = clone_files(CLONE_FILES);
    if (p == 0)
        _exit(syscall(SYS_close_range, 3, ~0U, 0) == 0 ? 0 : 1);
    SHOW(reap(p));
    SHOW(is_open(a));
    SHOW(is_open(b));
    SHOW(is_open(0) && is_open(1) && is_open(2));
    printf("still writing to stdout\n");
}

static void a_killed_child_takes_nothing_either(void)
{
    printf("-- a child killed by a signal\n");
    int a = open("/dev/null", O_RDONLY);
    pid_t p = clone_files(CLONE_FILES);
    if (p == 0) {
        open("/dev/null", O_RDONLY);
        raise(SIGKILL);
    }
    SHOW(reap(p));
    SHOW(is_open(a));
    SHOW(is_open(a + 1));
    close(a);
    close(a + 1);
}

static void exec_unshares_the_table(const char *self)
{
    printf("-- the child execs\n");
    int cloexec = open("/dev/null", O_RDONLY | O_CLOEXEC);
    int kept = open("/dev/zero", O_RDONLY);
    char fd1[16], fd2[16];
    snprintf(fd1, sizeof fd1, "%d", cloexec);
    snprintf(fd2, sizeof fd2, "%d", kept);
    pid_t p = clone_files(CLONE_FILES);
    if (p == 0) {
        execl(self, self, "after-exec", fd1, fd2, (char *)0);
        _exit(99);
    }
    SHOW(reap(p));
    /* close-on-exec closed the child's copy only; its later changes stayed its own */
    SHOW(is_open(cloexec));
    SHOW(is_open(kept));
    SHOW(is_open(30));
    close(cloexec);
    close(kept);
}

static int after_exec(int cloexec, int kept)
{
    SHOW(is_open(cloexec));
    SHOW(is_open(kept));
    SHOW(open("/dev/null", O_RDONLY) == cloexec);   /* the lowest free number */
    SHOW(dup2(1, 30));
    SHOW(close(kept));
    fflush(stdout);
    return 0;
}

static void the_table_outlives_a_parent_that_exits_first(void)
{
    printf("-- the parent exits first\n");
    int pipefd[2];
    SHOW(pipe(pipefd));
    fflush(stdout);
    pid_t middle = fork();
    if (middle == 0) {
        int a = open("/dev/null", O_RDONLY);
        pid_t me = getpid();
        if (clone_files(CLONE_FILES) == 0) {
            while (getppid() == me)         /* until the parent is gone */
                usleep(1000);
            char msg[64];
            int n = snprintf(msg, sizeof msg, "child: a open %d\n", is_open(a));
            write(pipefd[1], msg, n);
            _exit(0);
        }
        _exit(0);
    }
    close(pipefd[1]);
    SHOW(reap(middle));
    char buf[64] = {0};
    ssize_t n, got = 0;
    while ((n = read(pipefd[0], buf + got, sizeof buf - 1 - got)) > 0)
        got += n;
    printf("%s", buf);
    close(pipefd[0]);
}

static void close_range_unshare_leaves_the_parent_alone(void)
{
    printf("-- close_range(CLOSE_RANGE_UNSHARE) in the child\n");
    int a = open("/dev/null", O_RDONLY);
    pid_t p = clone_files(CLONE_FILES);
    if (p == 0) {
        int r = syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_UNSHARE);
        int c = open("/dev/null", O_WRONLY);
        _exit(r == 0 && c == 3 ? 0 : 1);
    }
    SHOW(reap(p));
    SHOW(fcntl(a, F_GETFL) & O_ACCMODE);       /* still the parent's O_RDONLY file */
    SHOW(is_open(a + 1));
}

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "after-exec") == 0)
        return after_exec(atoi(argv[2]), atoi(argv[3]));
    signal(SIGPIPE, SIG_IGN);
    if (argc == 2 && strcmp(argv[1], "unshare") == 0) {
        close_range_unshare_leaves_the_parent_alone();
        return 0;
    }
    opens_and_closes_are_shared();
    close_range_in_the_child_closes_for_both();
    a_killed_child_takes_nothing_either();
    exec_unshares_the_table(argv[0]);
    the_table_outlives_a_parent_that_exits_first();
    return 0;
}
