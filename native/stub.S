/*
 * The image every exec starts from. The supervisor never lets it run: it
 * maps the real program into this address space and points rip at it.
 * `inject` is the only syscall instruction the supervisor ever makes a
 * thread execute for its own syscalls (DESIGN §3): it lies in the reserved
 * range the program cannot unmap, remap or make writable. The exec strings
 * below are what the supervisor's execveat of the stub reads, for the same
 * reason: memory the program cannot change under the kernel's reading.
 * Run freely, the stub exits with status 127.
 */
    .text
    .globl _start
    .globl inject
    .globl exec_name
    .globl exec_argv
_start:
    mov $231, %eax          /* exit_group */
    mov $127, %edi
inject:
    syscall
    ud2
exec_name:
    .asciz "pylinuxabi-stub"
    .p2align 3
exec_argv:                  /* argv = { exec_name, NULL }; envp = argv + 1; "" = the NULL's bytes */
    .quad exec_name
    .quad 0
    .section .note.GNU-stack,"",@progbits
