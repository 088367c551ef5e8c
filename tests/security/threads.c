/*
 * Threads until clone fails (each parked on a futex of its own, small
 * stacks), capped at 17000 so that the host's pids are not all taken:
 * the supervisor must answer EAGAIN, never go away.
 */
#include "attack.h"
#include <linux/futex.h>
#include <pthread.h>

#define MAX_THREADS 17000

static volatile uint32_t go;

static void *sleeper(void *arg)
{
    while (!go)
        syscall(SYS_futex, &go, FUTEX_WAIT, 0, NULL, NULL, 0);
    return NULL;
}

int main(void)
{
    static pthread_t t[MAX_THREADS];
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 64 << 10);
    int n, r = 0;
    for (n = 0; n < MAX_THREADS; n++)
        if ((r = pthread_create(&t[n], &attr, sleeper, NULL)) != 0)
            break;
    printf("threads: %d made, then %s\n", n, r ? strerrorname_np(r) : "the cap");
    go = 1;
    syscall(SYS_futex, &go, FUTEX_WAKE, 0x7fffffff, NULL, NULL, 0);
    for (int i = 0; i < n; i++)
        pthread_join(t[i], NULL);
    return 0;
}
