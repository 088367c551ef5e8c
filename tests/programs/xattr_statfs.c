/* getxattr, lgetxattr, fgetxattr, listxattr, llistxattr, flistxattr, statfs,
 * fstatfs on read-only host files and synthetic /dev and /proc. */
#include "common.h"
#include <fcntl.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

static void show_statfs(const char *label, long r, struct statfs *s)
{
    if (r == -1)
        printf("%s = -1 %s\n", label, errname(errno));
    else
        printf("%s = 0: type=%#lx bsize=%ld namelen=%ld blocks>0=%d\n", label,
               (long)s->f_type, (long)s->f_bsize, (long)s->f_namelen, s->f_blocks > 0);
}

int main(void)
{
    char buf[256];
    struct statfs s;
    int fd = open("/etc/passwd", O_RDONLY);

    printf("-- xattrs\n");
    SHOW(syscall(SYS_getxattr, "/etc/passwd", "user.nonexistent", buf, sizeof buf));
    SHOW(syscall(SYS_lgetxattr, "/etc/passwd", "user.nonexistent", buf, sizeof buf));
    SHOW(syscall(SYS_fgetxattr, fd, "user.nonexistent", buf, sizeof buf));
    SHOW(syscall(SYS_getxattr, "/etc/passwd", "", buf, sizeof buf));
    SHOW(syscall(SYS_getxattr, "/nonexistent", "user.x", buf, sizeof buf));
    SHOW(syscall(SYS_getxattr, BADPTR, "user.x", buf, sizeof buf));
    SHOW(syscall(SYS_getxattr, "/etc/passwd", BADPTR, buf, sizeof buf));
    SHOW(syscall(SYS_fgetxattr, BADFD, "user.x", buf, sizeof buf));
    SHOW(syscall(SYS_listxattr, "/etc/passwd", NULL, 0));
    SHOW(syscall(SYS_llistxattr, "/etc/passwd", buf, sizeof buf));
    SHOW(syscall(SYS_flistxattr, fd, buf, sizeof buf));
    SHOW(syscall(SYS_flistxattr, BADFD, buf, sizeof buf));
    SHOW(syscall(SYS_listxattr, "/nonexistent", buf, sizeof buf));

    printf("-- statfs\n");
    show_statfs("statfs(/)", syscall(SYS_statfs, "/", &s), &s);
    show_statfs("statfs(/etc/passwd)", syscall(SYS_statfs, "/etc/passwd", &s), &s);
    show_statfs("fstatfs(passwd)", syscall(SYS_fstatfs, fd, &s), &s);
    show_statfs("statfs(/proc)", syscall(SYS_statfs, "/proc", &s), &s);
    show_statfs("statfs(/nonexistent)", syscall(SYS_statfs, "/nonexistent", &s), &s);
    SHOW(syscall(SYS_statfs, "/", BADPTR));
    SHOW(syscall(SYS_statfs, BADPTR, &s));
    SHOW(syscall(SYS_fstatfs, BADFD, &s));
    SHOW(syscall(SYS_fstatfs, -1, &s));
    close(fd);
    return 0;
}
