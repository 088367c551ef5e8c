/*
 * process_vm_readv and process_vm_writev: within a process and with a forked
 * child, scattered iovecs, partial copies up to the first fault, and the
 * flag, count, pid and permission errors.
 */
#include "common.h"
#include <signal.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <sys/wait.h>

static char shared_text[64] = "child memory: hello";

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    pid_t me = getpid();
    char src[32] = "abcdefghijklmnopqrstuvwxyz", dst[32] = {0}, dst2[8] = {0};
    struct iovec l[2] = {{dst, 5}, {dst2, 3}};
    struct iovec r[2] = {{src, 4}, {src + 10, 6}};

    printf("-- within the process\n");
    SHOW(process_vm_readv(me, l, 2, r, 2, 0));
    printf("dst '%s' dst2 '%.3s'\n", dst, dst2);
    struct iovec w = {"XYZ", 3}, rw = {src + 1, 3};
    SHOW(process_vm_writev(me, &w, 1, &rw, 1, 0));
    printf("src '%s'\n", src);
    SHOW(process_vm_readv(me, l, 2, r, 2, 1));
    SHOW(process_vm_readv(me, l, 1025, r, 2, 0));
    SHOW(process_vm_readv(me, l, 2, r, 1025, 0));
    SHOW(process_vm_readv(me, l, 0, r, 1025, 0));           /* nothing to copy first */
    SHOW(process_vm_readv(me, BADPTR, 1, r, 2, 0));
    SHOW(process_vm_readv(me, l, 2, BADPTR, 1, 0));
    struct iovec zero = {src, 0};
    SHOW(process_vm_readv(0x7ffffff0, l, 2, &zero, 1, 0));  /* no remote bytes: 0 */
    SHOW(process_vm_readv(0x7ffffff0, l, 2, r, 2, 0));
    SHOW(process_vm_readv(0, l, 2, r, 2, 0));

    printf("-- faults\n");
    char *page = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    munmap(page + 4096, 4096);
    memset(page, 'p', 4096);
    char big[8192];
    struct iovec lb = {big, sizeof big}, rp = {page + 4000, 1000};
    SHOW(process_vm_readv(me, &lb, 1, &rp, 1, 0));          /* 96 bytes, then the hole */
    struct iovec rps[2] = {{page + 4096, 10}, {page, 10}};
    SHOW(process_vm_readv(me, &lb, 1, rps, 2, 0));          /* the first is a fault */
    struct iovec rps2[2] = {{page, 10}, {page + 4096, 10}};
    SHOW(process_vm_readv(me, &lb, 1, rps2, 2, 0));
    struct iovec lp = {page + 4090, 100}, rs = {src, 20};
    SHOW(process_vm_readv(me, &lp, 1, &rs, 1, 0));          /* local fault after 6 */
    SHOW(process_vm_writev(me, &lp, 1, &rs, 1, 0));
    struct iovec ro = {(void *)main, 4};
    SHOW(process_vm_writev(me, &w, 1, &ro, 1, 0));           /* read-only text */

    printf("-- a child\n");
    int go[2], back[2];
    if (pipe(go) || pipe(back))
        return 1;
    pid_t c = fork();
    if (c == 0) {
        char ch;
        strcpy(shared_text, "child's own copy");
        if (write(back[1], "r", 1) != 1 || read(go[0], &ch, 1) != 1)
            _exit(1);
        printf("child sees '%s'\n", shared_text);
        _exit(0);
    }
    char ch;
    if (read(back[0], &ch, 1) != 1)
        return 1;
    char got[64] = {0};
    struct iovec lg = {got, sizeof got - 1}, rc = {shared_text, 16};
    SHOW(process_vm_readv(c, &lg, 1, &rc, 1, 0));
    printf("read '%s', mine '%s'\n", got, shared_text);
    struct iovec nw = {"written by parent", 18}, rc2 = {shared_text, 18};
    SHOW(process_vm_writev(c, &nw, 1, &rc2, 1, 0));
    if (write(go[1], "g", 1) != 1)
        return 1;
    waitpid(c, NULL, 0);

    printf("-- another user\n");
    c = fork();
    if (c == 0) {
        if (syscall(SYS_setresgid, 1000, 1000, 1000) || syscall(SYS_setresuid, 1000, 1000, 1000))
            _exit(1);
        struct iovec lo = {dst, 4}, ro2 = {src, 4};
        SHOW(process_vm_readv(getppid(), &lo, 1, &ro2, 1, 0));
        SHOW(process_vm_readv(getpid(), &lo, 1, &ro2, 1, 0));
        _exit(0);
    }
    waitpid(c, NULL, 0);

    printf("-- a zombie\n");
    c = fork();
    if (c == 0)
        _exit(0);
    siginfo_t si;
    waitid(P_PID, c, &si, WEXITED | WNOWAIT);
    SHOW(process_vm_readv(c, l, 2, r, 2, 0));
    waitpid(c, NULL, 0);
    return 0;
}
