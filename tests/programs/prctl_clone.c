/* prctl (names, dumpable, death signal, subreaper, no_new_privs, capability
 * bounding set) and clone/clone3 refusing new namespaces. */
#include "common.h"
#include <sched.h>
#include <linux/sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void)
{
    char name[32] = {0};
    int v = -1;
    SHOW(prctl(PR_SET_NAME, "a-very-long-thread-name", 0, 0, 0));
    SHOW(prctl(PR_GET_NAME, name, 0, 0, 0));
    printf("name = %s\n", name);
    SHOW(prctl(PR_GET_DUMPABLE, 0, 0, 0, 0));
    SHOW(prctl(PR_SET_DUMPABLE, 2, 0, 0, 0));
    SHOW(prctl(PR_SET_PDEATHSIG, SIGUSR1, 0, 0, 0));
    SHOW(prctl(PR_GET_PDEATHSIG, &v, 0, 0, 0));
    printf("pdeathsig = %d\n", v);
    SHOW(prctl(PR_SET_PDEATHSIG, 99, 0, 0, 0));
    SHOW(prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0));
    SHOW(prctl(PR_GET_CHILD_SUBREAPER, &v, 0, 0, 0));
    printf("subreaper = %d\n", v);
    SHOW(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0));
    SHOW(prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
    SHOW(prctl(PR_SET_NO_NEW_PRIVS, 2, 0, 0, 0));
    SHOW(prctl(PR_CAPBSET_READ, 0, 0, 0, 0));
    SHOW(prctl(PR_CAPBSET_READ, 1000, 0, 0, 0));
    SHOW(prctl(12345, 0, 0, 0, 0));
    SHOW(prctl(PR_GET_NAME, BADPTR, 0, 0, 0));

    printf("-- clone\n");
    pid_t p = syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);
    if (p == 0)
        _exit(7);
    int st;
    waitpid(p, &st, 0);
    printf("child exit %d\n", WEXITSTATUS(st));
    struct clone_args ca = {0};
    ca.exit_signal = SIGCHLD;
    p = syscall(SYS_clone3, &ca, sizeof ca);
    if (p == 0)
        _exit(8);
    waitpid(p, &st, 0);
    printf("clone3 child exit %d\n", WEXITSTATUS(st));
    SHOW(syscall(SYS_clone3, &ca, 8));
    SHOW(syscall(SYS_clone3, BADPTR, sizeof ca));
    return 0;
}
