/* execve from a thread that is not the leader: the other threads die, the
 * process keeps its pid, and the new image runs. */
#include "common.h"
#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

static void *run(void *arg)
{
    (void)arg;
    char *argv[] = {"/bin/sh", "-c", "[ $$ = $0 ] && echo exec from a thread kept the pid", NULL, NULL};
    static char pid[32];
    snprintf(pid, sizeof pid, "%ld", (long)getpid());
    argv[3] = pid;
    execv("/bin/sh", argv);
    perror("execv");
    return NULL;
}

int main(void)
{
    pthread_t t[3];
    printf("leader starts\n");
    fflush(stdout);
    for (int i = 0; i < 2; i++)
        pthread_create(&t[i], NULL, (void *(*)(void *))pause, NULL);
    pthread_create(&t[2], NULL, run, NULL);
    pause();
    return 1;
}
