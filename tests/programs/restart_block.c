/*
 * A futex wait with a timeout (sem_timedwait) while a child exits: under
 * ptrace the ignored SIGCHLD still stops the waiter, whose wait comes back
 * as restart_syscall(2), which the host must run (it holds the restart block).
 */
#include "common.h"
#include <semaphore.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

int main(void)
{
    sem_t sem;
    sem_init(&sem, 0, 0);
    FLUSH();
    pid_t child = fork();
    if (child == 0) {
        usleep(100000);
        _exit(0);
    }
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_nsec += 500000000;
    if (until.tv_nsec >= 1000000000) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000;
    }
    SHOW(sem_timedwait(&sem, &until));
    int status;
    SHOW(waitpid(child, &status, 0) == child);
    SHOW(WIFEXITED(status));
    return 0;
}
