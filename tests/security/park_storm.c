/*
 * The park page (0x7e0000010000, one futex word per parked thread): try to
 * make it writable (handshake "protected": the test looks at it from the
 * host), then wake every word of it, bumping them too if we could, for 2 s
 * while another thread waits in read() on an empty pipe. The read must end
 * only with the byte written after the storm.
 */
#include "attack.h"
#include <linux/futex.h>
#include <pthread.h>

#define PARK 0x7e0000010000UL
#define PARK_SIZE 65536

static int pipefd[2];
static volatile int written;

static void *reader(void *arg)
{
    char c = 0;
    long r = read(pipefd[0], &c, 1);
    printf("read: %ld %c %s\n", r, c ? c : '-', written ? "after the write" : "before the write");
    return NULL;
}

int main(void)
{
    int writable = mprotect((void *)PARK, PARK_SIZE, PROT_READ | PROT_WRITE) == 0;
    printf("mprotect of the park page: %s\n", writable ? "done" : strerror(errno));
    handshake("protected");
    pipe(pipefd);
    pthread_t t;
    pthread_create(&t, NULL, reader, NULL);
    double end = now() + 2;
    volatile uint32_t *words = (uint32_t *)PARK;
    while (now() < end)
        for (int i = 0; i < PARK_SIZE / 4; i += 1) {
            if (writable)
                words[i]++;
            syscall(SYS_futex, &words[i], FUTEX_WAKE, 0x7fffffff, NULL, NULL, 0);
        }
    written = 1;
    write(pipefd[1], "x", 1);
    pthread_join(t, NULL);
    return 0;
}
