/*
 * What the attack programs share: machine code that makes a host directory
 * (the marker the test looks for on the host), a way to call a `syscall; ret`
 * gadget of our own, and the handshake with the test (a line out, a line in).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/*
 * mkdirat(AT_FDCWD, path, 0777); syscall; then ud2. Run by the program
 * itself it makes the directory in the sandbox's overlay only; run as a
 * host syscall the supervisor injected, it makes it on the host.
 * ret_after: end with `ret` instead of ud2 (for code the program calls).
 */
static size_t put_mkdir_payload(uint8_t *p, const char *path, int ret_after)
{
    uint8_t *q = p;
    uint64_t a = (uint64_t)path;
    *q++ = 0xb8; *q++ = 0x02; *q++ = 0x01; *q++ = 0; *q++ = 0;        /* mov $258,%eax */
    memcpy(q, "\x48\xc7\xc7\x9c\xff\xff\xff", 7); q += 7;              /* mov $-100,%rdi */
    *q++ = 0x48; *q++ = 0xbe; memcpy(q, &a, 8); q += 8;                 /* movabs $path,%rsi */
    *q++ = 0xba; *q++ = 0xff; *q++ = 0x01; *q++ = 0; *q++ = 0;        /* mov $0777,%edx */
    *q++ = 0x0f; *q++ = 0x05;                                           /* syscall */
    if (ret_after)
        *q++ = 0xc3;                                                    /* ret */
    else {
        *q++ = 0x0f; *q++ = 0x0b;                                       /* ud2 */
    }
    return q - p;
}

/* Call code at g as `syscall; ret` with nr and six args (the red zone kept clear). */
static long call_gadget(void *g, long nr, long a1, long a2, long a3, long a4, long a5, long a6)
{
    register long r10 __asm__("r10") = a4;
    register long r8 __asm__("r8") = a5;
    register long r9 __asm__("r9") = a6;
    __asm__ volatile("sub $256, %%rsp\n\tcall *%[g]\n\tadd $256, %%rsp"
                     : "+a"(nr), "+D"(a1), "+S"(a2), "+d"(a3), "+r"(r10), "+r"(r8), "+r"(r9)
                     : [g] "r"(g)
                     : "rcx", "r11", "memory", "cc");
    return nr;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Tell the test we are at the point it inspects, and wait for its go (or EOF). */
static void handshake(const char *what)
{
    char c;
    printf("%s\n", what);
    fflush(stdout);
    while (read(0, &c, 1) == 1 && c != '\n')
        ;
}
