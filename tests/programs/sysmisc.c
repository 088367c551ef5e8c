/* umask, uname, sysinfo, getrandom.
 *
 * Only invariants of uname/sysinfo are printed: the nodename differs in the
 * sandbox and memory figures change from run to run. */
#include "common.h"
#include <sys/random.h>
#include <sys/sysinfo.h>
#include <sys/utsname.h>

#ifndef GRND_INSECURE
#define GRND_INSECURE 0x0004
#endif

static void test_umask(void)
{
    printf("-- umask\n");
    long orig = syscall(SYS_umask, 022);
    CHECK(orig >= 0 && orig <= 0777);
    OCT(syscall(SYS_umask, 027));
    OCT(syscall(SYS_umask, 07777));   /* only the permission bits are kept */
    OCT(syscall(SYS_umask, 0));
    OCT(syscall(SYS_umask, -1));
    OCT(syscall(SYS_umask, 0644 | 01000));
    OCT(syscall(SYS_umask, 022));
    OCT(syscall(SYS_umask, 022));
    syscall(SYS_umask, orig);
}

static void test_uname(void)
{
    struct utsname u;

    printf("-- uname\n");
    memset(&u, 0, sizeof u);
    SHOW(syscall(SYS_uname, &u));
    printf("sysname = %s\n", u.sysname);
    printf("machine = %s\n", u.machine);
    CHECK(u.release[0] >= '2' && u.release[0] <= '9' && strchr(u.release, '.'));
    CHECK(u.nodename[0] != 0);
    CHECK(u.version[0] != 0);
    CHECK(memchr(u.nodename, 0, sizeof u.nodename) != NULL);
    SHOW(syscall(SYS_uname, BADPTR));
    SHOW(syscall(SYS_uname, NULL));
}

static void test_sysinfo(void)
{
    struct sysinfo si;

    printf("-- sysinfo\n");
    memset(&si, 0, sizeof si);
    SHOW(syscall(SYS_sysinfo, &si));
    CHECK(si.mem_unit > 0);
    CHECK(si.totalram > 0);
    CHECK(si.freeram <= si.totalram);
    CHECK(si.sharedram <= si.totalram);
    CHECK(si.freeswap <= si.totalswap);
    CHECK(si.procs >= 1);
    SHOW(syscall(SYS_sysinfo, BADPTR));
    SHOW(syscall(SYS_sysinfo, NULL));
}

static int all_zero(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return 0;
    return 1;
}

static void test_getrandom(void)
{
    static unsigned char a[1 << 20], b[1 << 20];

    printf("-- getrandom\n");
    SHOW(syscall(SYS_getrandom, a, 16, 0));
    SHOW(syscall(SYS_getrandom, b, 16, 0));
    CHECK(memcmp(a, b, 16) != 0);
    CHECK(!all_zero(a, 16));
    SHOW(syscall(SYS_getrandom, a, 0, 0));
    SHOW(syscall(SYS_getrandom, NULL, 0, 0));
    SHOW(syscall(SYS_getrandom, a, 1, 0));
    SHOW(syscall(SYS_getrandom, a, 256, 0));
    SHOW(syscall(SYS_getrandom, a, 257, 0));
    SHOW(syscall(SYS_getrandom, a, sizeof a, 0));
    CHECK(!all_zero(a + sizeof a - 64, 64));
    SHOW(syscall(SYS_getrandom, a, 16, GRND_NONBLOCK));
    SHOW(syscall(SYS_getrandom, a, 16, GRND_RANDOM));
    SHOW(syscall(SYS_getrandom, a, 16, GRND_RANDOM | GRND_NONBLOCK));
    SHOW(syscall(SYS_getrandom, a, 16, GRND_INSECURE));
    SHOW(syscall(SYS_getrandom, a, 16, GRND_INSECURE | GRND_NONBLOCK));
    /* errors */
    SHOW(syscall(SYS_getrandom, a, 16, GRND_INSECURE | GRND_RANDOM));
    SHOW(syscall(SYS_getrandom, a, 16, 0x8));
    SHOW(syscall(SYS_getrandom, a, 16, 0x100));
    SHOW(syscall(SYS_getrandom, a, 16, -1));
    SHOW(syscall(SYS_getrandom, BADPTR, 16, 0));
    SHOW(syscall(SYS_getrandom, NULL, 16, 0));
    SHOW(syscall(SYS_getrandom, BADPTR, 0, 0));
    SHOW(syscall(SYS_getrandom, BADPTR, 16, 0x100));
    /* glibc's wrapper */
    SHOW(getrandom(a, 32, 0));
}

int main(void)
{
    test_umask();
    test_uname();
    test_sysinfo();
    test_getrandom();
    return 0;
}
