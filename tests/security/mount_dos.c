/*
 * Mount tables that grow without end: usage mount_dos MODE. rbind_loop binds
 * / recursively under itself again and again (each copy holds the last);
 * deep_stack stacks tmpfs mounts on one directory, then binds that stack
 * recursively elsewhere. Bounded by count and 20 s; prints each errno met.
 */
#include "attack.h"
#include <sys/mount.h>

static void report(const char *what, int n, long r)
{
    printf("%s: %d done, then %s\n", what, n, r < 0 ? strerrorname_np(errno) : "no error");
}

int main(int argc, char **argv)
{
    const char *mode = argv[1];
    double end = now() + 20;
    long r = 0;
    int n;
    if (!strcmp(mode, "rbind_loop")) {
        mkdir("/tmp/loop", 0755);
        for (n = 0; n < 100 && now() < end; n++)
            if ((r = mount("/", "/tmp/loop", NULL, MS_BIND | MS_REC, NULL)) < 0)
                break;
        report("rbind of / under itself", n, r);
    } else {
        mkdir("/tmp/stack", 0755);
        mkdir("/tmp/copy", 0755);
        for (n = 0; n < 20000 && now() < end; n++)
            if ((r = mount("none", "/tmp/stack", "tmpfs", 0, "size=4k")) < 0)
                break;
        report("tmpfs stacked", n, r);
        r = mount("/tmp/stack", "/tmp/copy", NULL, MS_BIND | MS_REC, NULL);
        report("rbind of the stack", r == 0, r);
        r = umount2("/tmp/copy", MNT_DETACH);
        report("lazy umount of the copy", r == 0, r);
    }
    return 0;
}
