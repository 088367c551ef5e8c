/*
 * Mount trees the program makes as big as it likes: a deep stack of nested
 * mounts copied by an MS_REC bind (no recursion limit in the copy), and
 * repeated recursive binds of a subtree until fs.mount-max (100000) says
 * ENOSPC, the whole copy refused before any of it is made.
 * Natively it runs in a private mount namespace (unshare -m).
 */
#include "common.h"
#include <sys/mount.h>

#define DEPTH 1500

static long mounts_now(void)
{
    FILE *f = fopen("/proc/self/mountinfo", "r");
    long n = 0;
    int c;
    while ((c = getc(f)) != EOF)
        n += c == '\n';
    fclose(f);
    return n;
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    char base[64];
    snprintf(base, sizeof base, "/tmp/pylinuxabi-mounts-%d", (int)getpid());
    mkdir(base, 0700);
    SHOW(mount("none", base, "tmpfs", 0, NULL));
    SHOW(chdir(base));
    SHOW(mkdir("deep", 0755));
    SHOW(mkdir("copy", 0755));
    SHOW(chdir("deep"));
    int ok = 1;
    for (int i = 0; i < DEPTH && ok; i++)
        ok = mkdir("d", 0755) == 0 && mount("none", "d", "tmpfs", 0, NULL) == 0 && chdir("d") == 0;
    CHECK(ok);
    SHOW(chdir(base));
    long before = mounts_now();
    SHOW(mount("deep", "copy", NULL, MS_BIND | MS_REC, NULL));
    SHOW(mounts_now() - before);

    SHOW(mkdir("t", 0755));
    SHOW(mount("none", "t", "tmpfs", 0, NULL));
    int k;
    for (k = 0; k < 30; k++) {
        char target[32];
        snprintf(target, sizeof target, "t/x%d", k);
        mkdir(target, 0755);
        before = mounts_now();
        if (mount("t", target, NULL, MS_BIND | MS_REC, NULL) < 0)
            break;
    }
    printf("binds made: %d, then %s\n", k, errname(errno));
    long now = mounts_now();
    CHECK(now == before);               /* nothing of the refused copy was made */
    CHECK(now <= 100000 && now + (1L << k) > 100000);
    SHOW(mount("none", "t/x0", "tmpfs", 0, NULL));      /* room for one more */
    SHOW(chdir("/"));
    SHOW(umount2(base, MNT_DETACH));
    SHOW(rmdir(base));
    return 0;
}
