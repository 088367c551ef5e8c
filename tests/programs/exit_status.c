/* exit, exit_group: the exit status is the low 8 bits of the argument.
 *
 * usage: exit_status MODE
 *   exit        raw exit(3) from the only thread            -> status 3
 *   exit_group  raw exit_group(5)                           -> status 5
 *   wrap        raw exit_group(256 + 7)                     -> status 7
 *   negative    raw exit_group(-1)                          -> status 255
 *   libc        exit(42): stdio is flushed                  -> status 42
 *   unflushed   buffered output, then raw exit_group(9)     -> status 9,
 *               the buffered line is lost
 *   return      return 0 from main                          -> status 0
 */
#include "common.h"

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "return";

    printf("mode %s\n", mode);
    if (strcmp(mode, "unflushed") == 0) {
        syscall(SYS_exit_group, 9);
        return 99;
    }
    fflush(stdout);
    if (strcmp(mode, "exit") == 0)
        syscall(SYS_exit, 3);
    else if (strcmp(mode, "exit_group") == 0)
        syscall(SYS_exit_group, 5);
    else if (strcmp(mode, "wrap") == 0)
        syscall(SYS_exit_group, 256 + 7);
    else if (strcmp(mode, "negative") == 0)
        syscall(SYS_exit_group, -1);
    else if (strcmp(mode, "libc") == 0) {
        printf("flushed by exit()\n");
        exit(42);
    } else if (strcmp(mode, "return") == 0) {
        printf("flushed on return\n");
        return 0;
    }
    printf("not reached\n");
    return 99;
}
