/*
 * Inode flags (FS_IOC_GETFLAGS/SETFLAGS, what lsattr and chattr use) and the
 * rules the VFS applies to append-only and immutable files: may_open, truncate,
 * unlink/rename/link, chmod/chown/utimes, setxattr, fallocate; who may set them
 * (the owner; CAP_LINUX_IMMUTABLE for those two); the flags tmpfs keeps
 * (EOPNOTSUPP for others); files without flags (ENOTTY).
 *
 *   files_flags DIR      (DIR: a tmpfs directory)
 */
#include "common.h"
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/xattr.h>
#include <utime.h>

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    char f[512], g[512], d[512], e[600];
    snprintf(f, sizeof f, "%s/fa", argv[1]);
    snprintf(g, sizeof g, "%s/fb", argv[1]);
    snprintf(d, sizeof d, "%s/dd", argv[1]);
    snprintf(e, sizeof e, "%s/e", d);
    unlink(f);
    unlink(g);
    int fd = open(f, O_RDWR|O_CREAT, 0644), fl = -1;
    SHOW(ioctl(fd, FS_IOC_GETFLAGS, &fl));
    printf("flags %x\n", fl);
    SHOW(ioctl(fd, FS_IOC_GETFLAGS, BADPTR));
    fl = FS_APPEND_FL;
    SHOW(ioctl(fd, FS_IOC_SETFLAGS, &fl));
    SHOW(ioctl(fd, FS_IOC_GETFLAGS, &fl));
    printf("flags %x\n", fl);
    SHOW(open(f, O_WRONLY));
    int app = open(f, O_WRONLY|O_APPEND);
    SHOW(app >= 0);
    SHOW(fcntl(app, F_SETFL, 0));
    SHOW(fcntl(app, F_SETFL, O_APPEND | O_NONBLOCK));
    SHOW(open(f, O_RDONLY|O_TRUNC));
    SHOW(write(fd, "x", 1));
    SHOW(pwrite(fd, "x", 1, 0));
    SHOW(ftruncate(fd, 0));
    SHOW(truncate(f, 0));
    SHOW(fcntl(fd, F_SETFL, 0));
    SHOW(chmod(f, 0600));
    SHOW(unlink(f));
    SHOW(rename(f, g));
    SHOW(link(f, g));
    SHOW(utime(f, NULL));
    SHOW(fallocate(fd, 0, 0, 100));
    SHOW(fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, 100));
    fl = FS_IMMUTABLE_FL;
    SHOW(ioctl(fd, FS_IOC_SETFLAGS, &fl));
    SHOW(open(f, O_WRONLY|O_APPEND));
    SHOW(open(f, O_RDONLY) >= 0);
    SHOW(write(fd, "x", 1));
    SHOW(chmod(f, 0600));
    SHOW(chown(f, 0, 0));
    SHOW(unlink(f));
    SHOW(utime(f, NULL));
    SHOW(link(f, g));
    SHOW(setxattr(f, "user.x", "1", 1, 0));
    fl = FS_NOATIME_FL|FS_NODUMP_FL;
    SHOW(ioctl(fd, FS_IOC_SETFLAGS, &fl));
    SHOW(ioctl(fd, FS_IOC_GETFLAGS, &fl));
    printf("flags %x\n", fl);
    fl = FS_SYNC_FL;
    SHOW(ioctl(fd, FS_IOC_SETFLAGS, &fl));
    fl = 0x80000;
    SHOW(ioctl(fd, FS_IOC_SETFLAGS, &fl));
    fl = 0;
    SHOW(ioctl(fd, FS_IOC_SETFLAGS, &fl));
    int ro = open(f, O_RDONLY);
    fl = FS_NODUMP_FL;
    SHOW(ioctl(ro, FS_IOC_SETFLAGS, &fl));
    fl = 0;
    ioctl(ro, FS_IOC_SETFLAGS, &fl);
    int pf = open(f, O_PATH);
    SHOW(ioctl(pf, FS_IOC_GETFLAGS, &fl));
    mkdir(d, 0755);
    int dfd = open(d, O_RDONLY);
    fl = FS_APPEND_FL;
    SHOW(ioctl(dfd, FS_IOC_SETFLAGS, &fl));
    SHOW(close(open(e, O_CREAT|O_WRONLY, 0644)));
    SHOW(unlink(e));
    SHOW(mkdir(e, 0755) == 0 || errno == EEXIST);
    fl = 0;
    ioctl(dfd, FS_IOC_SETFLAGS, &fl);
    unlink(e);
    rmdir(e);
    rmdir(d);
    SHOW(unlink(f));
    int p[2];
    pipe(p);
    SHOW(ioctl(p[0], FS_IOC_GETFLAGS, &fl));
    int nul = open("/dev/null", O_RDONLY);
    SHOW(ioctl(nul, FS_IOC_GETFLAGS, &fl));
    int pr = open("/proc/self/status", O_RDONLY);
    SHOW(ioctl(pr, FS_IOC_GETFLAGS, &fl));
    return 0;
}
