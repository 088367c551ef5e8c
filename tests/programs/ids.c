/* getpid, gettid, getppid, getuid, geteuid, getgid, getegid, getgroups,
 * setuid, setgid, getrlimit, prlimit64.
 *
 * Ids differ between the sandbox (pid 2, parent 1, uid/gid 0) and a native
 * run, so only relations between them are printed.  Limits are inherited
 * and so only checked for consistency. */
#include "common.h"
#include <sys/resource.h>

static void test_pids(void)
{
    printf("-- getpid/gettid/getppid\n");
    long pid = OK(syscall(SYS_getpid));
    long tid = OK(syscall(SYS_gettid));
    long ppid = OK(syscall(SYS_getppid));
    CHECK(pid > 0);
    CHECK(tid == pid);
    CHECK(ppid > 0);
    CHECK(ppid != pid);
    CHECK(syscall(SYS_getpid) == pid);
    CHECK(syscall(SYS_getppid) == ppid);
    CHECK(getpid() == pid);
    CHECK(gettid() == tid);
    CHECK(getppid() == ppid);
}

static void test_uids(void)
{
    gid_t groups[65536];

    printf("-- getuid/geteuid/getgid/getegid\n");
    long uid = OK(syscall(SYS_getuid));
    long euid = OK(syscall(SYS_geteuid));
    long gid = OK(syscall(SYS_getgid));
    long egid = OK(syscall(SYS_getegid));
    CHECK(uid == euid);
    CHECK(gid == egid);
    CHECK(uid >= 0 && uid < 0xffffffffL);
    CHECK(gid >= 0 && gid < 0xffffffffL);
    CHECK(getuid() == (uid_t)uid && geteuid() == (uid_t)euid);
    CHECK(getgid() == (gid_t)gid && getegid() == (gid_t)egid);

    printf("-- getgroups\n");
    long n = OK(syscall(SYS_getgroups, 0, NULL));
    CHECK(n >= 0 && n <= 65536);
    CHECK(syscall(SYS_getgroups, 0, BADPTR) == n);   /* size 0: count only */
    CHECK(syscall(SYS_getgroups, 65536, groups) == n);
    CHECK(syscall(SYS_getgroups, n, groups) == n);
    /* too small a buffer: EINVAL; a bad one: EFAULT (if there is anything
     * to copy -- with no supplementary groups both calls just return 0) */
    long small = syscall(SYS_getgroups, n > 1 ? n - 1 : 1, groups);
    int small_err = errno;
    long bad = syscall(SYS_getgroups, n > 0 ? n : 1, BADPTR);
    int bad_err = errno;
    CHECK(n > 1 ? small == -1 && small_err == EINVAL : small == n);
    CHECK(n > 0 ? bad == -1 && bad_err == EFAULT : bad == 0);
    SHOW(syscall(SYS_getgroups, -1, groups));
    SHOW(syscall(SYS_getgroups, -1, NULL));
    CHECK(syscall(SYS_getgroups, 65537, groups) == n);

    printf("-- setuid/setgid\n");
    SHOW(syscall(SYS_setuid, uid));
    SHOW(syscall(SYS_setgid, gid));
    CHECK(syscall(SYS_getuid) == uid && syscall(SYS_geteuid) == euid);
    CHECK(syscall(SYS_getgid) == gid && syscall(SYS_getegid) == egid);
    SHOW(syscall(SYS_setuid, -1));
    SHOW(syscall(SYS_setgid, -1));
    SHOW(syscall(SYS_setuid, 0xffffffffL));
    SHOW(syscall(SYS_setgid, 0xffffffffL));
    CHECK(syscall(SYS_getuid) == uid && syscall(SYS_getgid) == gid);
}

static const char *const rnames[] = {
    "CPU", "FSIZE", "DATA", "STACK", "CORE", "RSS", "NPROC", "NOFILE",
    "MEMLOCK", "AS", "LOCKS", "SIGPENDING", "MSGQUEUE", "NICE", "RTPRIO",
    "RTTIME",
};

static void test_rlimits(void)
{
    struct rlimit rl, old, rl2;

    printf("-- getrlimit/prlimit64\n");
    for (int r = 0; r < 16; r++) {
        long a = syscall(SYS_getrlimit, r, &rl);
        long b = syscall(SYS_prlimit64, 0, r, NULL, &old);
        printf("RLIMIT_%s: getrlimit=%s prlimit64=%s soft<=hard=%s same=%s\n",
               rnames[r], a == 0 ? "ok" : errname(errno),
               b == 0 ? "ok" : errname(errno),
               rl.rlim_cur <= rl.rlim_max ? "yes" : "NO",
               rl.rlim_cur == old.rlim_cur && rl.rlim_max == old.rlim_max ? "yes" : "NO");
    }
    SHOW(syscall(SYS_getrlimit, RLIMIT_NOFILE, &rl));
    CHECK(rl.rlim_cur <= rl.rlim_max);
    CHECK(rl.rlim_cur >= 64);
    SHOW(syscall(SYS_prlimit64, syscall(SYS_getpid), RLIMIT_NOFILE, NULL, &old));
    CHECK(old.rlim_cur == rl.rlim_cur && old.rlim_max == rl.rlim_max);
    SHOW(syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, NULL, NULL));

    /* lowering the soft limit takes effect on descriptor allocation */
    rl2 = (struct rlimit){64, rl.rlim_max};
    SHOW(syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, &rl2, &old));
    CHECK(old.rlim_cur == rl.rlim_cur && old.rlim_max == rl.rlim_max);
    SHOW(syscall(SYS_getrlimit, RLIMIT_NOFILE, &rl2));
    SHOW(rl2.rlim_cur);
    CHECK(rl2.rlim_max == rl.rlim_max);
    SHOW(syscall(SYS_dup2, 1, 63));
    SHOW(syscall(SYS_dup2, 1, 64));
    SHOW(syscall(SYS_fcntl, 1, F_DUPFD, 63));
    SHOW(syscall(SYS_fcntl, 1, F_DUPFD, 64));
    SHOW(syscall(SYS_close, 63));
    /* and back up again, to no more than the hard limit */
    SHOW(syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, &rl, &old));
    SHOW(old.rlim_cur);
    SHOW(syscall(SYS_getrlimit, RLIMIT_NOFILE, &rl2));
    CHECK(rl2.rlim_cur == rl.rlim_cur && rl2.rlim_max == rl.rlim_max);

    /* errors */
    SHOW(syscall(SYS_getrlimit, 99, &rl2));
    SHOW(syscall(SYS_getrlimit, 16, &rl2));
    SHOW(syscall(SYS_getrlimit, -1, &rl2));
    SHOW(syscall(SYS_getrlimit, RLIMIT_NOFILE, BADPTR));
    SHOW(syscall(SYS_getrlimit, RLIMIT_NOFILE, NULL));
    SHOW(syscall(SYS_prlimit64, 0, 99, NULL, &old));
    SHOW(syscall(SYS_prlimit64, 0, 16, NULL, &old));
    SHOW(syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, NULL, BADPTR));
    SHOW(syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, BADPTR, &old));
    SHOW(syscall(SYS_prlimit64, 0x3fffffff, RLIMIT_NOFILE, NULL, &old));
    SHOW(syscall(SYS_prlimit64, -1, RLIMIT_NOFILE, NULL, &old));
    rl2 = (struct rlimit){rl.rlim_max, rl.rlim_cur > 1 ? rl.rlim_cur - 1 : 0};
    SHOW(syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, &rl2, NULL));
    rl2 = (struct rlimit){10, 5};
    SHOW(syscall(SYS_prlimit64, 0, RLIMIT_CORE, &rl2, NULL));
    SHOW(syscall(SYS_getrlimit, RLIMIT_NOFILE, &rl2));
    CHECK(rl2.rlim_cur == rl.rlim_cur && rl2.rlim_max == rl.rlim_max);
}

int main(void)
{
    test_pids();
    test_uids();
    test_rlimits();
    return 0;
}
