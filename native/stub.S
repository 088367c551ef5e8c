/*
 * The image every exec starts from. The supervisor never lets it run: it
 * maps the real program into this address space and points rip at it.
 * `inject` is the syscall instruction used to run host syscalls in the
 * process while no syscall of the program is stopped. Run freely, the stub
 * exits with status 127.
 */
    .text
    .globl _start
    .globl inject
_start:
    mov $231, %eax          /* exit_group */
    mov $127, %edi
inject:
    syscall
    ud2
    .section .note.GNU-stack,"",@progbits
