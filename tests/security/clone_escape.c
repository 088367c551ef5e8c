/*
 * Children the model would not allow: usage clone_escape MODE. clone3_flip:
 * a second thread flips CLONE_NEWPID|CLONE_NEWUSER|CLONE_NEWNET into
 * clone_args.flags while clone3 is being checked, 50 children a round, 20
 * rounds or 20 s; untraced modes ask for CLONE_UNTRACED. The children sleep
 * while the test looks at them from the host (at each "batch" handshake).
 */
#include "attack.h"
#include <linux/sched.h>
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>

#define BATCH 50
#define ESCAPE_FLAGS (CLONE_NEWPID | CLONE_NEWUSER | CLONE_NEWNET)

static struct clone_args args = { .exit_signal = SIGCHLD };
static volatile int done;

static void *flipper(void *arg)
{
    volatile uint64_t *flags = &args.flags;
    while (!done) {
        *flags = ESCAPE_FLAGS;
        *flags = 0;
    }
    return NULL;
}

static void child(void)
{
    struct timespec ts = { 60, 0 };
    nanosleep(&ts, NULL);
    _exit(0);
}

/* Wait at a handshake with the children alive, then end them. */
static void batch(pid_t *pids, int n)
{
    handshake("batch");
    for (int i = 0; i < n; i++) {
        kill(pids[i], SIGKILL);
        waitpid(pids[i], NULL, 0);
    }
}

int main(int argc, char **argv)
{
    const char *mode = argv[1];
    pid_t pids[BATCH];
    if (!strcmp(mode, "clone3_flip")) {
        pthread_t t;
        pthread_create(&t, NULL, flipper, NULL);
        double end = now() + 20;
        for (int round = 0; round < 20 && now() < end; round++) {
            int n = 0;
            for (int i = 0; i < BATCH; i++) {
                long pid = syscall(SYS_clone3, &args, sizeof args);
                if (pid == 0)
                    child();
                if (pid > 0)
                    pids[n++] = pid;
            }
            batch(pids, n);
        }
        done = 1;
        pthread_join(t, NULL);
    } else {
        long pid;
        if (!strcmp(mode, "clone_untraced"))
            pid = syscall(SYS_clone, CLONE_UNTRACED | SIGCHLD, 0, 0, 0, 0);
        else {
            struct clone_args a = { .flags = CLONE_UNTRACED, .exit_signal = SIGCHLD };
            pid = syscall(SYS_clone3, &a, sizeof a);
        }
        if (pid == 0)
            child();
        printf("%s: %s\n", mode, pid < 0 ? strerror(errno) : "made");
        pids[0] = pid;
        batch(pids, pid > 0);
    }
    printf("done\n");
    return 0;
}
