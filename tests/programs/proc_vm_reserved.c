/*
 * Sandbox only: process_vm_readv/writev never read or write the reserved range
 * (stub, park page, argument slots) for the program, though the park page is
 * mapped readable in every process; the init (pid 1) has no memory to show.
 */
#include "common.h"
#include <linux/kcmp.h>
#include <sys/uio.h>
#include <sys/wait.h>

#define STUB ((void *)0x7e0000000000UL)
#define PARK ((void *)0x7e0000010000UL)

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    pid_t me = getpid();
    char buf[64] = "0123456789";
    struct iovec l = {buf, 16}, park = {PARK, 16}, stub = {STUB, 16};
    SHOW(process_vm_readv(me, &l, 1, &park, 1, 0));
    SHOW(process_vm_readv(me, &l, 1, &stub, 1, 0));
    SHOW(process_vm_writev(me, &l, 1, &park, 1, 0));
    SHOW(process_vm_writev(me, &park, 1, &l, 1, 0));        /* the park page as the source */
    SHOW(process_vm_readv(me, &park, 1, &l, 1, 0));
    struct iovec two[2] = {{buf + 20, 4}, {PARK, 16}};
    struct iovec src = {buf, 20};
    SHOW(process_vm_readv(me, two, 2, &src, 1, 0));         /* 4, then the range */
    struct iovec one = {buf, 10};
    SHOW(process_vm_readv(1, &l, 1, &one, 1, 0));           /* the init: no memory of its own */
    SHOW(syscall(SYS_kcmp, 1, 1, KCMP_VM, 0, 0));
    SHOW(syscall(SYS_kcmp, me, 1, KCMP_FILES, 0, 0) > 0);
    pid_t c = fork();
    if (c == 0) {
        if (syscall(SYS_setresgid, 1000, 1000, 1000) || syscall(SYS_setresuid, 1000, 1000, 1000))
            _exit(1);
        SHOW(process_vm_readv(1, &l, 1, &one, 1, 0));
        SHOW(syscall(SYS_kcmp, 1, 1, KCMP_VM, 0, 0));
        _exit(0);
    }
    waitpid(c, NULL, 0);
    return 0;
}
