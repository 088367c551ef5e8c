/* setresuid, setresgid, setreuid, setregid, setfsuid, setfsgid, setgroups,
 * getresuid, getresgid: a root process dropping and regaining ids under
 * Linux's rules (run as root natively; the sandbox's root is virtual). */
#include "common.h"
#include <grp.h>
#include <sys/syscall.h>
#include <unistd.h>

static void ids(const char *when)
{
    uid_t r, e, s;
    gid_t rg, eg, sg;
    syscall(SYS_getresuid, &r, &e, &s);
    syscall(SYS_getresgid, &rg, &eg, &sg);
    long fsu = syscall(SYS_setfsuid, -1), fsg = syscall(SYS_setfsgid, -1);
    printf("%s: uid %u %u %u fsuid %ld gid %u %u %u fsgid %ld\n", when, r, e, s, fsu, rg, eg, sg, fsg);
}

int main(void)
{
    gid_t groups[2] = {10, 20};
    ids("start");
    SHOW(syscall(SYS_setgroups, 2, groups));
    SHOW(syscall(SYS_getgroups, 0, NULL));
    SHOW(syscall(SYS_setgroups, -1, groups));
    SHOW(syscall(SYS_setgroups, 1, BADPTR));
    SHOW(syscall(SYS_setresgid, 100, 200, 300));
    ids("setresgid 100 200 300");
    SHOW(syscall(SYS_setregid, -1, 0));
    ids("setregid -1 0");
    SHOW(syscall(SYS_setresuid, -1, 1000, -1));
    ids("setresuid -1 1000 -1");
    SHOW(syscall(SYS_setfsuid, 5));
    ids("setfsuid 5 (refused silently)");
    SHOW(syscall(SYS_setresuid, 0, 0, 0));
    ids("back to 0");
    SHOW(syscall(SYS_setreuid, 1000, 2000));
    ids("setreuid 1000 2000");
    SHOW(syscall(SYS_setresuid, -1, 3000, -1));
    SHOW(syscall(SYS_setreuid, -1, 1000));
    ids("setreuid -1 1000");
    SHOW(syscall(SYS_setuid, 2000));
    ids("setuid 2000 (unprivileged: effective only)");
    SHOW(syscall(SYS_setuid, 0));
    SHOW(syscall(SYS_setgroups, 0, NULL));
    SHOW(syscall(SYS_setresgid, 7, 7, 7));
    SHOW(syscall(SYS_setuid, -1));
    ids("end");
    return 0;
}
