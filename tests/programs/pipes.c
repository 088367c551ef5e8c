/* pipe, pipe2 and blocking: EOF, EPIPE/SIGPIPE, O_NONBLOCK, FIONREAD,
 * ESPIPE, a reader parked on an empty pipe woken by a writer in another
 * process, and a parked read interrupted by a signal with and without
 * SA_RESTART. */
#include "common.h"
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile int alarms;
static void on_alarm(int sig) { (void)sig; alarms++; }

static void interrupted_read(int restart)
{
    int p[2];
    char c;
    struct sigaction sa = {0};
    sa.sa_handler = on_alarm;
    sa.sa_flags = restart ? SA_RESTART : 0;
    sigaction(SIGALRM, &sa, NULL);
    SHOW(pipe(p));
    pid_t child = fork();
    if (child == 0) {
        /* write only after the parent's read was interrupted (and restarted) once */
        usleep(600000);
        write(p[1], "z", 1);
        _exit(0);
    }
    alarms = 0;
    ualarm(200000, 0);                               /* fires while the read is parked */
    printf("restart=%d\n", restart);
    long r = read(p[0], &c, 1);
    if (restart)
        printf("read = %ld (%c) after %d alarm(s)\n", r, r == 1 ? c : '?', alarms);
    else
        printf("read = %ld %s after %d alarm(s)\n", r, r < 0 ? errname(errno) : "", alarms);
    ualarm(0, 0);
    waitpid(child, NULL, 0);
    close(p[0]);
    close(p[1]);
}

int main(void)
{
    int p[2], q[2], n;
    char buf[64];
    struct stat st;

    printf("-- basics\n");
    SHOW(pipe(p));
    SHOW(write(p[1], "hello", 5));
    SHOW(ioctl(p[0], FIONREAD, &n));
    printf("FIONREAD = %d\n", n);
    SHOW(read(p[0], buf, 3));
    SHOW(read(p[0], buf, sizeof buf));
    SHOW(fstat(p[0], &st));
    CHECK(S_ISFIFO(st.st_mode));
    SHOW(lseek(p[0], 0, SEEK_SET));
    SHOW(pread(p[0], buf, 1, 0));
    SHOW(read(p[1], buf, 1));
    SHOW(write(p[0], "x", 1));
    OCT(fcntl(p[0], F_GETFL));
    OCT(fcntl(p[1], F_GETFL));
    SHOW(close(p[1]));
    SHOW(read(p[0], buf, sizeof buf));               /* EOF */
    SHOW(close(p[0]));

    printf("-- pipe2\n");
    SHOW(syscall(SYS_pipe2, q, O_CLOEXEC | O_NONBLOCK));
    SHOW(fcntl(q[0], F_GETFD));
    OCT(fcntl(q[0], F_GETFL));
    SHOW(read(q[0], buf, 1));                        /* EAGAIN */
    for (n = 0; write(q[1], buf, sizeof buf) > 0; n++)
        ;
    printf("filled with %d writes of 64: %s\n", n, errname(errno));
    SHOW(syscall(SYS_pipe2, q, 0x1));                /* bad flag */
    SHOW(syscall(SYS_pipe2, BADPTR, 0));
    SHOW(syscall(SYS_pipe, NULL));

    printf("-- EPIPE and SIGPIPE\n");
    SHOW(pipe(p));
    SHOW(close(p[0]));
    signal(SIGPIPE, SIG_IGN);
    SHOW(write(p[1], "x", 1));
    signal(SIGPIPE, SIG_DFL);
    pid_t child = fork();
    if (child == 0) {
        write(p[1], "x", 1);
        _exit(0);
    }
    int status;
    waitpid(child, &status, 0);
    printf("writer killed by signal %d\n", WIFSIGNALED(status) ? WTERMSIG(status) : 0);
    close(p[1]);

    printf("-- a reader waits for a writer in another process\n");
    SHOW(pipe(p));
    child = fork();
    if (child == 0) {
        close(p[0]);
        usleep(200000);
        for (int i = 0; i < 3; i++)
            write(p[1], "abc", 3);
        _exit(0);
    }
    close(p[1]);
    long total = 0, r;
    while ((r = read(p[0], buf, sizeof buf)) > 0)
        total += r;
    printf("read %ld bytes then %ld\n", total, r);
    waitpid(child, NULL, 0);
    close(p[0]);

    printf("-- 1 MiB through a pipe\n");
    SHOW(pipe(p));
    child = fork();
    if (child == 0) {
        close(p[0]);
        static char big[1 << 20];
        memset(big, 'q', sizeof big);
        long left = sizeof big;
        char *at = big;
        while (left > 0) {
            long w = write(p[1], at, left);
            if (w <= 0)
                _exit(1);
            at += w;
            left -= w;
        }
        _exit(0);
    }
    close(p[1]);
    total = 0;
    while ((r = read(p[0], buf, sizeof buf)) > 0)
        total += r;
    waitpid(child, &status, 0);
    printf("received %ld, writer status %d\n", total, WEXITSTATUS(status));
    close(p[0]);

    printf("-- one write of 300 KiB into a pipe a slow reader drains\n");
    SHOW(pipe(p));
    fflush(stdout);
    child = fork();
    if (child == 0) {
        close(p[1]);
        long got = 0, n;
        usleep(100000);
        while ((n = read(p[0], buf, sizeof buf)) > 0)
            got += n;
        printf("reader got %ld\n", got);
        fflush(stdout);
        _exit(0);
    }
    close(p[0]);
    {
        static char big[300 * 1024];
        SHOW(write(p[1], big, sizeof big));
    }
    close(p[1]);
    waitpid(child, NULL, 0);

    printf("-- signals while parked\n");
    interrupted_read(1);
    interrupted_read(0);
    return 0;
}
