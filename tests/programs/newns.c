/* clone and clone3 asking for new namespaces: refused in the sandbox (EPERM,
 * as for a process without CAP_SYS_ADMIN), since they would be the host's. */
#include "common.h"
#include <sched.h>
#include <linux/sched.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void)
{
    long flags[] = {CLONE_NEWNET, CLONE_NEWNS, CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWUTS};
    for (int i = 0; i < 5; i++) {
        long p = syscall(SYS_clone, flags[i] | SIGCHLD, 0, 0, 0, 0);
        if (p == 0)
            _exit(0);
        printf("clone(%#lx) = %s\n", flags[i], p < 0 ? errname(errno) : "a child");
        if (p > 0)
            waitpid(p, NULL, 0);
        struct clone_args ca = {0};
        ca.flags = flags[i];
        ca.exit_signal = SIGCHLD;
        p = syscall(SYS_clone3, &ca, sizeof ca);
        if (p == 0)
            _exit(0);
        printf("clone3(%#lx) = %s\n", flags[i], p < 0 ? errname(errno) : "a child");
        if (p > 0)
            waitpid(p, NULL, 0);
    }
    return 0;
}
