/* Creating, removing and sizing files in a fresh directory under /tmp:
 * open/openat/creat (O_CREAT, O_EXCL, O_TRUNC, O_APPEND, O_DIRECTORY,
 * O_NOFOLLOW, O_TMPFILE, O_PATH, dangling symlinks), umask, mkdir/mkdirat,
 * mknod/mknodat, rmdir, unlink/unlinkat, directory nlink, getdents64
 * (sorted), unlinked-but-open files, truncate/ftruncate, fallocate,
 * lseek SEEK_DATA/SEEK_HOLE, fsync/fdatasync/syncfs/sync_file_range, and
 * what a non-root user (uid 1000) may not do.
 *
 * Nothing printed depends on whether /tmp is ext4 or tmpfs: directory sizes
 * are never printed, st_blocks only of regular files of known content. */
#include "common.h"
#include "workdir.h"
#include <dirent.h>
#include <linux/falloc.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>




static struct stat st;
#define STAT(call) do { memset(&st, 0xa5, sizeof st); \
    long r_ = (call); print_stat(#call, r_, &st); } while (0)
#define LSTAT(path) STAT(syscall(SYS_lstat, path, &st))
#define FSTAT(fd) STAT(syscall(SYS_fstat, fd, &st))

/* Sorted "type name" listing of a directory. */
static int cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void listing(const char *path)
{
    char buf[4096], *names[64];
    int n = 0;
    long r;
    int fd = open(path, O_RDONLY | O_DIRECTORY);
    while ((r = syscall(SYS_getdents64, fd, buf, sizeof buf)) > 0) {
        for (long off = 0; off < r;) {
            unsigned short reclen = *(unsigned short *)(buf + off + 16);
            unsigned char type = *(unsigned char *)(buf + off + 18);
            const char *name = buf + off + 19;
            if (n < 64) {
                names[n] = malloc(strlen(name) + 3);
                sprintf(names[n++], "%c%s",
                        type == DT_DIR ? '/' : type == DT_LNK ? '@' :
                        type == DT_FIFO ? '|' : type == DT_CHR ? '%' :
                        type == DT_BLK ? '#' : type == DT_SOCK ? '=' :
                        type == DT_REG ? ' ' : '?', name);
            }
            off += reclen;
        }
    }
    if (r == -1)
        printf("getdents64(%s) = -1 %s\n", path, errname(errno));
    qsort(names, n, sizeof *names, cmp);
    printf("ls %s:", path);
    for (int i = 0; i < n; i++) {
        printf(" %s", names[i]);
        free(names[i]);
    }
    printf("\n");
    close(fd);
}

static void cat(const char *label, int fd)
{
    char buf[256];
    long r = pread(fd, buf, sizeof buf, 0);
    if (r == -1)
        printf("%s: pread = -1 %s\n", label, errname(errno));
    else
        printf("%s: \"%.*s\"\n", label, (int)r, buf);
}

static void cat_path(const char *path)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        printf("%s: open = -1 %s\n", path, errname(errno));
        return;
    }
    cat(path, fd);
    close(fd);
}

static void test_open_create(void)
{
    char buf[64];

    printf("-- open O_CREAT/O_EXCL/O_TRUNC/O_APPEND\n");
    long fd = SHOW(syscall(SYS_open, "a", O_CREAT | O_WRONLY, 0644));
    SHOW(write(fd, "hello world", 11));
    SHOW(close(fd));
    FSTAT(fd);
    STAT(syscall(SYS_stat, "a", &st));
    SHOW(syscall(SYS_open, "a", O_CREAT | O_EXCL | O_WRONLY, 0644));
    SHOW(syscall(SYS_open, "a", O_CREAT | O_EXCL | O_RDONLY, 0600));
    fd = SHOW(syscall(SYS_open, "a", O_EXCL | O_RDONLY));   /* O_EXCL alone: ignored */
    cat("a", fd);
    SHOW(close(fd));
    fd = SHOW(syscall(SYS_open, "a", O_CREAT | O_RDWR, 0600));   /* exists: mode unchanged */
    STAT(syscall(SYS_stat, "a", &st));
    SHOW(close(fd));
    fd = SHOW(syscall(SYS_open, "a", O_WRONLY | O_TRUNC));
    STAT(syscall(SYS_stat, "a", &st));
    SHOW(write(fd, "abc", 3));
    SHOW(close(fd));
    fd = SHOW(syscall(SYS_open, "a", O_WRONLY | O_APPEND));
    SHOW(lseek(fd, 0, SEEK_CUR));
    SHOW(write(fd, "def", 3));
    SHOW(lseek(fd, 0, SEEK_CUR));
    SHOW(lseek(fd, 0, SEEK_SET));
    SHOW(write(fd, "ghi", 3));             /* still at the end */
    SHOW(lseek(fd, 0, SEEK_CUR));
    SHOW(pwrite(fd, "XY", 2, 0));         /* Linux: pwrite on O_APPEND appends */
    SHOW(close(fd));
    cat_path("a");
    /* O_TRUNC with O_RDONLY truncates too */
    fd = SHOW(syscall(SYS_open, "a", O_RDONLY | O_TRUNC));
    FSTAT(fd);
    SHOW(close(fd));

    printf("-- open errors\n");
    SHOW(syscall(SYS_mkdir, "d", 0755));
    SHOW(syscall(SYS_open, "a", O_RDONLY | O_DIRECTORY));
    SHOW(syscall(SYS_open, "a", O_RDONLY | O_DIRECTORY | O_CREAT, 0644));
    SHOW(syscall(SYS_open, "new", O_RDONLY | O_DIRECTORY | O_CREAT, 0644));
    SHOW(syscall(SYS_access, "new", F_OK));
    SHOW(syscall(SYS_open, "d", O_WRONLY));
    SHOW(syscall(SYS_open, "d", O_RDWR));
    SHOW(syscall(SYS_open, "d", O_RDONLY | O_CREAT, 0644));
    SHOW(syscall(SYS_open, "d", O_RDONLY | O_CREAT | O_EXCL, 0644));
    SHOW(syscall(SYS_open, "d", O_RDONLY | O_TRUNC));
    SHOW(syscall(SYS_open, "new/", O_RDWR | O_CREAT, 0644));
    SHOW(syscall(SYS_open, "a/", O_RDONLY));
    SHOW(syscall(SYS_open, "a/x", O_RDWR | O_CREAT, 0644));
    SHOW(syscall(SYS_open, "nodir/x", O_RDWR | O_CREAT, 0644));
    SHOW(syscall(SYS_open, "missing", O_RDONLY));
    SHOW(syscall(SYS_open, "", O_RDWR | O_CREAT, 0644));
    SHOW(syscall(SYS_open, BADPTR, O_RDWR | O_CREAT, 0644));
    SHOW(syscall(SYS_open, long_path(), O_RDWR | O_CREAT, 0644));
    SHOW(syscall(SYS_open, long_name(), O_RDWR | O_CREAT, 0644));
    SHOW(syscall(SYS_open, long_name() + 5, O_RDWR | O_CREAT, 0644));
    SHOW(syscall(SYS_open, "/nonexistent/x", O_RDWR | O_CREAT, 0644));

    printf("-- symlinks and open\n");
    SHOW(syscall(SYS_symlink, "a", "sa"));
    SHOW(syscall(SYS_symlink, "target", "dangling"));
    SHOW(syscall(SYS_symlink, "loop2", "loop1"));
    SHOW(syscall(SYS_symlink, "loop1", "loop2"));
    SHOW(syscall(SYS_symlink, "d", "sd"));
    SHOW(syscall(SYS_open, "sa", O_RDONLY | O_NOFOLLOW));
    SHOW(syscall(SYS_open, "sa", O_RDWR | O_CREAT | O_NOFOLLOW, 0644));
    SHOW(syscall(SYS_open, "sd", O_RDONLY | O_DIRECTORY | O_NOFOLLOW));
    fd = SHOW(syscall(SYS_open, "sd", O_RDONLY | O_DIRECTORY));
    SHOW(close(fd));
    fd = SHOW(syscall(SYS_open, "sa", O_PATH | O_NOFOLLOW));
    FSTAT(fd);
    SHOW(close(fd));
    SHOW(syscall(SYS_open, "loop1", O_RDONLY));
    SHOW(syscall(SYS_open, "loop1", O_RDWR | O_CREAT, 0644));
    SHOW(syscall(SYS_open, "loop1/x", O_RDONLY));
    SHOW(syscall(SYS_open, "dangling", O_RDONLY));
    SHOW(syscall(SYS_open, "dangling", O_WRONLY | O_CREAT | O_EXCL, 0600));
    fd = SHOW(syscall(SYS_open, "dangling", O_WRONLY | O_CREAT, 0600));
    SHOW(write(fd, "via link", 8));
    SHOW(close(fd));
    STAT(syscall(SYS_stat, "target", &st));
    cat_path("target");
    LSTAT("dangling");
    SHOW(syscall(SYS_open, "dangling", O_WRONLY | O_CREAT | O_EXCL, 0600));
    listing(".");
    SHOW(syscall(SYS_unlink, "target"));
    SHOW(syscall(SYS_unlink, "dangling"));
    SHOW(syscall(SYS_unlink, "sd"));

    printf("-- openat/creat\n");
    long dfd = SHOW(syscall(SYS_open, "d", O_RDONLY | O_DIRECTORY));
    long afd = SHOW(syscall(SYS_open, "a", O_RDONLY));
    fd = SHOW(syscall(SYS_openat, dfd, "f", O_CREAT | O_RDWR | O_EXCL, 0640));
    SHOW(write(fd, "in d", 4));
    SHOW(close(fd));
    STAT(syscall(SYS_stat, "d/f", &st));
    SHOW(syscall(SYS_openat, dfd, "f", O_CREAT | O_RDWR | O_EXCL, 0640));
    fd = SHOW(syscall(SYS_openat, dfd, "../a", O_RDONLY));
    SHOW(close(fd));
    fd = SHOW(syscall(SYS_openat, BADFD, "d/f", O_RDONLY));   /* relative: EBADF */
    SHOW(syscall(SYS_openat, BADFD, "/nonexistent/x", O_RDONLY));
    SHOW(syscall(SYS_openat, afd, "x", O_CREAT | O_RDWR, 0644));
    SHOW(syscall(SYS_openat, dfd, "", O_RDONLY));
    fd = SHOW(syscall(SYS_creat, "c", 0640));
    SHOW(write(fd, "creat", 5));
    SHOW(read(fd, buf, 1));
    SHOW(close(fd));
    STAT(syscall(SYS_stat, "c", &st));
    fd = SHOW(syscall(SYS_creat, "c", 0600));    /* truncates, mode kept */
    STAT(syscall(SYS_stat, "c", &st));
    SHOW(close(fd));
    SHOW(syscall(SYS_creat, "d", 0644));
    SHOW(syscall(SYS_creat, "nodir/c", 0644));
    SHOW(syscall(SYS_creat, BADPTR, 0644));
    SHOW(syscall(SYS_unlink, "c"));
    SHOW(close(afd));
    SHOW(close(dfd));
}

static void test_tmpfile_path(void)
{
    char proc[64], buf[64];
    printf("-- O_TMPFILE\n");
    long fd = SHOW(syscall(SYS_open, ".", O_TMPFILE | O_RDWR, 0600));
    SHOW(write(fd, "anonymous", 9));
    FSTAT(fd);
    listing(".");
    snprintf(proc, sizeof proc, "/proc/self/fd/%ld", fd);
    SHOW(syscall(SYS_linkat, AT_FDCWD, proc, AT_FDCWD, "tmp1", AT_SYMLINK_FOLLOW));
    FSTAT(fd);
    STAT(syscall(SYS_stat, "tmp1", &st));
    cat_path("tmp1");
    SHOW(syscall(SYS_linkat, AT_FDCWD, proc, AT_FDCWD, "tmp1", AT_SYMLINK_FOLLOW));
    SHOW(close(fd));
    fd = SHOW(syscall(SYS_open, ".", O_TMPFILE | O_RDWR | O_EXCL, 0600));
    snprintf(proc, sizeof proc, "/proc/self/fd/%ld", fd);
    SHOW(syscall(SYS_linkat, AT_FDCWD, proc, AT_FDCWD, "tmp2", AT_SYMLINK_FOLLOW));
    SHOW(syscall(SYS_access, "tmp2", F_OK));
    SHOW(close(fd));
    fd = SHOW(syscall(SYS_open, "d", O_TMPFILE | O_WRONLY, 0666));
    FSTAT(fd);
    SHOW(read(fd, buf, 1));
    SHOW(close(fd));
    SHOW(syscall(SYS_open, ".", O_TMPFILE | O_RDONLY, 0600));
    SHOW(syscall(SYS_open, "a", O_TMPFILE | O_RDWR, 0600));
    SHOW(syscall(SYS_open, "nodir", O_TMPFILE | O_RDWR, 0600));
    SHOW(syscall(SYS_open, ".", O_TMPFILE | O_RDWR | O_CREAT, 0600));
    listing(".");
    SHOW(syscall(SYS_unlink, "tmp1"));

    printf("-- O_PATH\n");
    fd = SHOW(syscall(SYS_open, "a", O_PATH));
    SHOW(write(fd, "x", 1));
    SHOW(read(fd, buf, 1));
    SHOW(syscall(SYS_fchmod, fd, 0600));
    SHOW(syscall(SYS_ftruncate, fd, 0));
    SHOW(syscall(SYS_fsync, fd));
    FSTAT(fd);
    OCT(fcntl(fd, F_GETFL) & ~O_LARGEFILE);
    SHOW(close(fd));
    fd = SHOW(syscall(SYS_open, "a", O_PATH | O_CREAT | O_EXCL, 0600));   /* O_CREAT ignored */
    if (fd >= 0)
        SHOW(close(fd));
}

static void test_umask(void)
{
    printf("-- umask\n");
    OCT(syscall(SYS_umask, 022));
    long fd = SHOW(syscall(SYS_open, "m666", O_CREAT | O_WRONLY, 0666));
    SHOW(close(fd));
    fd = SHOW(syscall(SYS_open, "m777", O_CREAT | O_WRONLY, 0777));
    SHOW(close(fd));
    SHOW(syscall(SYS_mkdir, "d777", 0777));
    OCT(syscall(SYS_umask, 077));
    fd = SHOW(syscall(SYS_open, "u666", O_CREAT | O_WRONLY, 0666));
    SHOW(close(fd));
    fd = SHOW(syscall(SYS_open, "u777", O_CREAT | O_WRONLY, 0777));
    SHOW(close(fd));
    SHOW(syscall(SYS_mkdir, "e777", 0777));
    SHOW(syscall(SYS_mknod, "fifo077", S_IFIFO | 0666, 0));
    OCT(syscall(SYS_umask, 0));
    SHOW(syscall(SYS_mkdir, "all", 07777));
    fd = SHOW(syscall(SYS_open, "all7", O_CREAT | O_WRONLY, 07777));
    SHOW(close(fd));
    OCT(syscall(SYS_umask, 0777 | 07000));    /* only 0777 is kept */
    OCT(syscall(SYS_umask, 022));
    const char *names[] = {"m666", "m777", "d777", "u666", "u777", "e777",
                           "fifo077", "all", "all7"};
    for (unsigned i = 0; i < sizeof names / sizeof *names; i++) {
        STAT(syscall(SYS_lstat, names[i], &st));
        if (S_ISDIR(st.st_mode))
            SHOW(syscall(SYS_rmdir, names[i]));
        else
            SHOW(syscall(SYS_unlink, names[i]));
    }
}

static void test_mkdir_mknod(void)
{
    printf("-- mkdir/mkdirat\n");
    STAT(syscall(SYS_stat, "d", &st));
    SHOW(syscall(SYS_mkdir, "d/s1", 0700));
    STAT(syscall(SYS_stat, "d", &st));
    SHOW(syscall(SYS_mkdir, "d/s2/", 0750));    /* trailing slash is fine */
    STAT(syscall(SYS_stat, "d", &st));
    STAT(syscall(SYS_stat, "d/s2", &st));
    long dfd = SHOW(syscall(SYS_open, "d", O_RDONLY | O_DIRECTORY));
    SHOW(syscall(SYS_mkdirat, dfd, "s3", 0711));
    STAT(syscall(SYS_newfstatat, dfd, "s3", &st, 0));
    STAT(syscall(SYS_fstat, dfd, &st));
    SHOW(syscall(SYS_mkdirat, dfd, "s3", 0711));
    SHOW(syscall(SYS_mkdirat, BADFD, "s4", 0711));
    SHOW(syscall(SYS_mkdirat, BADFD, "/nonexistent/s4", 0711));
    SHOW(syscall(SYS_mkdir, "d", 0755));
    SHOW(syscall(SYS_mkdir, "a", 0755));
    SHOW(syscall(SYS_mkdir, "sa", 0755));
    SHOW(syscall(SYS_mkdir, "loop1", 0755));
    SHOW(syscall(SYS_mkdir, ".", 0755));
    SHOW(syscall(SYS_mkdir, "..", 0755));
    SHOW(syscall(SYS_mkdir, "", 0755));
    SHOW(syscall(SYS_mkdir, "nodir/x", 0755));
    SHOW(syscall(SYS_mkdir, "a/x", 0755));
    SHOW(syscall(SYS_mkdir, "a/", 0755));
    SHOW(syscall(SYS_mkdir, BADPTR, 0755));
    SHOW(syscall(SYS_mkdir, long_path(), 0755));
    SHOW(syscall(SYS_mkdir, long_name() + 5, 0755));
    SHOW(syscall(SYS_mkdir, "loop1/x", 0755));
    listing("d");

    printf("-- mknod/mknodat\n");
    SHOW(syscall(SYS_mknod, "fifo", S_IFIFO | 0640, 0));
    LSTAT("fifo");
    SHOW(syscall(SYS_mknod, "reg0", 0640, 0));
    LSTAT("reg0");
    SHOW(syscall(SYS_mknod, "reg1", S_IFREG | 0604, 0));
    LSTAT("reg1");
    SHOW(syscall(SYS_mknodat, dfd, "null", S_IFCHR | 0666, makedev(1, 3)));
    LSTAT("d/null");
    SHOW(syscall(SYS_mknodat, dfd, "blk", S_IFBLK | 0600, makedev(7, 200)));
    LSTAT("d/blk");
    SHOW(syscall(SYS_mknod, "sock", S_IFSOCK | 0755, 0));
    LSTAT("sock");
    SHOW(syscall(SYS_mknod, "dir", S_IFDIR | 0755, 0));
    SHOW(syscall(SYS_mknod, "lnk", S_IFLNK | 0755, 0));
    SHOW(syscall(SYS_mknod, "bad", 0170000 | 0755, 0));
    SHOW(syscall(SYS_mknod, "bad", 0030000 | 0755, 0));
    SHOW(syscall(SYS_mknod, "fifo", S_IFIFO | 0640, 0));
    SHOW(syscall(SYS_mknod, "nodir/fifo", S_IFIFO | 0640, 0));
    SHOW(syscall(SYS_mknod, "a/fifo", S_IFIFO | 0640, 0));
    SHOW(syscall(SYS_mknod, BADPTR, S_IFIFO | 0640, 0));
    SHOW(syscall(SYS_mknodat, BADFD, "fifo2", S_IFIFO | 0640, 0));
    listing(".");
    listing("d");
    SHOW(syscall(SYS_unlink, "reg0"));
    SHOW(syscall(SYS_unlink, "reg1"));
    SHOW(syscall(SYS_unlink, "sock"));
    SHOW(syscall(SYS_unlinkat, dfd, "null", 0));
    SHOW(syscall(SYS_unlinkat, dfd, "blk", 0));
    SHOW(close(dfd));
}

static void test_remove(void)
{
    printf("-- rmdir\n");
    STAT(syscall(SYS_stat, "d", &st));
    SHOW(syscall(SYS_rmdir, "d"));
    SHOW(syscall(SYS_rmdir, "a"));
    SHOW(syscall(SYS_rmdir, "fifo"));
    SHOW(syscall(SYS_rmdir, "a/"));
    SHOW(syscall(SYS_rmdir, "a/x"));
    SHOW(syscall(SYS_rmdir, "."));
    SHOW(syscall(SYS_rmdir, "d/."));
    SHOW(syscall(SYS_rmdir, "d/s1/.."));
    SHOW(syscall(SYS_rmdir, ".."));
    SHOW(syscall(SYS_rmdir, "sd"));
    SHOW(syscall(SYS_symlink, "d/s1", "sd"));
    SHOW(syscall(SYS_rmdir, "sd"));
    SHOW(syscall(SYS_rmdir, "sd/"));
    SHOW(syscall(SYS_unlink, "sd"));
    SHOW(syscall(SYS_rmdir, "missing"));
    SHOW(syscall(SYS_rmdir, "nodir/x"));
    SHOW(syscall(SYS_rmdir, ""));
    SHOW(syscall(SYS_rmdir, BADPTR));
    SHOW(syscall(SYS_rmdir, long_path()));
    SHOW(syscall(SYS_rmdir, long_name()));
    SHOW(syscall(SYS_rmdir, "loop1"));
    SHOW(syscall(SYS_rmdir, "d/s1"));
    STAT(syscall(SYS_stat, "d", &st));
    SHOW(syscall(SYS_rmdir, "d/s2/"));
    STAT(syscall(SYS_stat, "d", &st));
    listing("d");

    printf("-- unlink/unlinkat\n");
    long dfd = SHOW(syscall(SYS_open, "d", O_RDONLY | O_DIRECTORY));
    SHOW(syscall(SYS_unlink, "d"));
    SHOW(syscall(SYS_unlink, "d/"));
    SHOW(syscall(SYS_unlink, "a/"));
    SHOW(syscall(SYS_unlink, "a/x"));
    SHOW(syscall(SYS_unlink, "missing"));
    SHOW(syscall(SYS_unlink, "nodir/x"));
    SHOW(syscall(SYS_unlink, "."));
    SHOW(syscall(SYS_unlink, ".."));
    SHOW(syscall(SYS_unlink, ""));
    SHOW(syscall(SYS_unlink, BADPTR));
    SHOW(syscall(SYS_unlink, long_path()));
    SHOW(syscall(SYS_unlink, long_name()));
    SHOW(syscall(SYS_unlink, "loop1/x"));
    SHOW(syscall(SYS_unlinkat, AT_FDCWD, "a", AT_REMOVEDIR));
    SHOW(syscall(SYS_unlinkat, AT_FDCWD, "d", 0));
    SHOW(syscall(SYS_unlinkat, AT_FDCWD, "a", 0x1));
    SHOW(syscall(SYS_unlinkat, AT_FDCWD, "a", AT_REMOVEDIR | 0x1));
    SHOW(syscall(SYS_unlinkat, AT_FDCWD, "missing", 0x1));
    SHOW(syscall(SYS_unlinkat, BADFD, "a", 0));
    SHOW(syscall(SYS_unlinkat, BADFD, "a", AT_REMOVEDIR));
    SHOW(syscall(SYS_unlinkat, dfd, "../a/", 0));
    SHOW(syscall(SYS_unlinkat, dfd, "f", AT_REMOVEDIR));
    SHOW(syscall(SYS_unlinkat, dfd, "s3", 0));
    SHOW(syscall(SYS_unlinkat, dfd, "s3", AT_REMOVEDIR));
    SHOW(syscall(SYS_unlinkat, dfd, "f", 0));
    /* unlinking a symlink removes the link, not its target */
    SHOW(syscall(SYS_unlink, "sa"));
    STAT(syscall(SYS_stat, "a", &st));
    SHOW(syscall(SYS_unlink, "loop1"));
    SHOW(syscall(SYS_unlink, "loop2"));
    SHOW(syscall(SYS_unlink, "fifo"));
    listing("d");
    SHOW(close(dfd));
    SHOW(syscall(SYS_rmdir, "d"));
    listing(".");
}

static void test_unlinked_open(void)
{
    char buf[64];
    printf("-- unlinked but open\n");
    long fd = SHOW(syscall(SYS_open, "gone", O_CREAT | O_RDWR, 0644));
    SHOW(write(fd, "still here", 10));
    SHOW(syscall(SYS_unlink, "gone"));
    SHOW(syscall(SYS_access, "gone", F_OK));
    FSTAT(fd);
    SHOW(lseek(fd, 0, SEEK_SET));
    long n = SHOW(read(fd, buf, sizeof buf));
    printf("read: \"%.*s\"\n", (int)(n > 0 ? n : 0), buf);
    SHOW(write(fd, "!", 1));
    SHOW(syscall(SYS_ftruncate, fd, 5));
    FSTAT(fd);
    SHOW(close(fd));
    /* the same name again is a new file */
    fd = SHOW(syscall(SYS_open, "gone", O_CREAT | O_EXCL | O_RDWR, 0600));
    FSTAT(fd);
    SHOW(close(fd));
    SHOW(syscall(SYS_unlink, "gone"));
}

static int all_zero(int fd, long from, long to)
{
    char buf[4096];
    for (long off = from; off < to;) {
        long want = to - off < (long)sizeof buf ? to - off : (long)sizeof buf;
        long r = pread(fd, buf, want, off);
        if (r <= 0)
            return 0;
        for (long i = 0; i < r; i++)
            if (buf[i])
                return 0;
        off += r;
    }
    return 1;
}

static void test_sizes(void)
{
    char big[10000], buf[16];
    printf("-- sizes and blocks\n");
    memset(big, 'b', sizeof big);
    long fd = SHOW(syscall(SYS_open, "big", O_CREAT | O_RDWR | O_TRUNC, 0644));
    SHOW(write(fd, big, sizeof big));
    SHOW(syscall(SYS_fsync, fd));
    FSTAT(fd);
    SHOW(st.st_blocks);
    SHOW(st.st_blksize >= 512);

    printf("-- truncate/ftruncate\n");
    SHOW(syscall(SYS_ftruncate, fd, 3));
    FSTAT(fd);
    SHOW(syscall(SYS_truncate, "big", 20000));
    FSTAT(fd);
    CHECK(all_zero(fd, 3, 20000));
    SHOW(pread(fd, buf, 4, 0));
    SHOW(pread(fd, buf, 16, 19998));
    SHOW(syscall(SYS_truncate, "big", 0));
    FSTAT(fd);
    SHOW(st.st_blocks);
    SHOW(syscall(SYS_truncate, "big", -1L));
    SHOW(syscall(SYS_ftruncate, fd, -1L));
    SHOW(syscall(SYS_truncate, ".", 0));
    SHOW(syscall(SYS_truncate, "missing", 0));
    SHOW(syscall(SYS_truncate, "big/", 0));
    SHOW(syscall(SYS_truncate, "", 0));
    SHOW(syscall(SYS_truncate, BADPTR, 0));
    SHOW(syscall(SYS_truncate, long_path(), 0));
    SHOW(syscall(SYS_ftruncate, BADFD, 0));
    long ro = SHOW(syscall(SYS_open, "big", O_RDONLY));
    SHOW(syscall(SYS_ftruncate, ro, 0));
    long dir = SHOW(syscall(SYS_open, ".", O_RDONLY | O_DIRECTORY));
    SHOW(syscall(SYS_ftruncate, dir, 0));
    int p[2];
    SHOW(pipe(p));
    SHOW(syscall(SYS_ftruncate, p[1], 0));

    printf("-- fallocate\n");
    SHOW(syscall(SYS_fallocate, fd, 0, 0L, 8192L));
    FSTAT(fd);
    SHOW(st.st_blocks);
    CHECK(all_zero(fd, 0, 8192));
    SHOW(syscall(SYS_fallocate, fd, FALLOC_FL_KEEP_SIZE, 8192L, 8192L));
    FSTAT(fd);
    SHOW(st.st_blocks);
    SHOW(syscall(SYS_fallocate, fd, 0, 100L, 100L));    /* inside: no change */
    FSTAT(fd);
    SHOW(syscall(SYS_fallocate, fd, 0, 8192L, 4096L));  /* into the kept part */
    FSTAT(fd);
    SHOW(st.st_blocks);
    SHOW(pwrite(fd, big, 8192, 0));
    SHOW(syscall(SYS_fallocate, fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 4096L, 4096L));
    FSTAT(fd);
    SHOW(st.st_blocks);
    CHECK(all_zero(fd, 4096, 8192));
    SHOW(pread(fd, buf, 4, 4092));
    printf("%.4s\n", buf);
    SHOW(syscall(SYS_fallocate, fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 8000L, 1000L));
    FSTAT(fd);
    SHOW(syscall(SYS_fallocate, fd, FALLOC_FL_PUNCH_HOLE, 0L, 4096L));
    SHOW(syscall(SYS_fallocate, fd, 0x1000, 0L, 4096L));
    SHOW(syscall(SYS_fallocate, fd, -1, 0L, 4096L));
    SHOW(syscall(SYS_fallocate, fd, 0, 0L, 0L));
    SHOW(syscall(SYS_fallocate, fd, 0, -1L, 4096L));
    SHOW(syscall(SYS_fallocate, fd, 0, 0L, -1L));
    SHOW(syscall(SYS_fallocate, ro, 0, 0L, 4096L));
    SHOW(syscall(SYS_fallocate, dir, 0, 0L, 4096L));
    SHOW(syscall(SYS_fallocate, p[1], 0, 0L, 4096L));
    SHOW(syscall(SYS_fallocate, BADFD, 0, 0L, 4096L));
    FSTAT(fd);

    printf("-- SEEK_DATA/SEEK_HOLE\n");
    SHOW(syscall(SYS_ftruncate, fd, 0));
    SHOW(pwrite(fd, big, 4096, 0));
    SHOW(syscall(SYS_ftruncate, fd, 1 << 20));
    SHOW(pwrite(fd, big, 4096, 1 << 20));
    FSTAT(fd);
    SHOW(lseek(fd, 0, SEEK_DATA));
    SHOW(lseek(fd, 0, SEEK_HOLE));
    SHOW(lseek(fd, 100, SEEK_DATA));
    SHOW(lseek(fd, 5000, SEEK_DATA));
    SHOW(lseek(fd, 5000, SEEK_HOLE));
    SHOW(lseek(fd, 1 << 20, SEEK_HOLE));
    SHOW(lseek(fd, (1 << 20) + 4095, SEEK_DATA));
    SHOW(lseek(fd, (1 << 20) + 4096, SEEK_DATA));
    SHOW(lseek(fd, (1 << 20) + 4096, SEEK_HOLE));
    SHOW(lseek(fd, -1, SEEK_DATA));
    SHOW(lseek(fd, 0, SEEK_HOLE + 1));
    SHOW(lseek(fd, 0, SEEK_CUR));
    SHOW(syscall(SYS_fsync, fd));
    SHOW(lseek(fd, 0, SEEK_HOLE));
    SHOW(lseek(fd, 5000, SEEK_DATA));
    SHOW(syscall(SYS_ftruncate, fd, 3));
    SHOW(lseek(fd, 0, SEEK_DATA));
    SHOW(lseek(fd, 0, SEEK_HOLE));
    SHOW(lseek(fd, 3, SEEK_DATA));
    SHOW(lseek(dir, 0, SEEK_DATA) >= 0 || errno == EINVAL);
    SHOW(lseek(p[0], 0, SEEK_DATA));

    printf("-- fsync/fdatasync/syncfs/sync_file_range\n");
    SHOW(syscall(SYS_fsync, fd));
    SHOW(syscall(SYS_fdatasync, fd));
    SHOW(syscall(SYS_fsync, ro));
    SHOW(syscall(SYS_fsync, dir));
    SHOW(syscall(SYS_syncfs, fd));
    SHOW(syscall(SYS_syncfs, dir));
    SHOW(syscall(SYS_sync_file_range, fd, 0L, 0L, 0));
    SHOW(syscall(SYS_sync_file_range, fd, 0L, 100L,
                 SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER));
    SHOW(syscall(SYS_sync_file_range, ro, 0L, 0L, SYNC_FILE_RANGE_WRITE));
    SHOW(syscall(SYS_sync_file_range, fd, 0L, 0L, 8));
    SHOW(syscall(SYS_sync_file_range, fd, -1L, 0L, 0));
    SHOW(syscall(SYS_sync_file_range, fd, 0L, -1L, 0));
    SHOW(syscall(SYS_sync_file_range, p[0], 0L, 0L, 0));
    SHOW(syscall(SYS_sync_file_range, BADFD, 0L, 0L, 0));
    SHOW(syscall(SYS_fsync, p[0]));
    SHOW(syscall(SYS_fdatasync, p[1]));
    SHOW(syscall(SYS_fsync, BADFD));
    SHOW(syscall(SYS_fdatasync, BADFD));
    SHOW(syscall(SYS_syncfs, BADFD));
    SHOW(syscall(SYS_fsync, -1));
    SHOW(syscall(SYS_sync));
    SHOW(close(p[0]));
    SHOW(close(p[1]));
    SHOW(close(dir));
    SHOW(close(ro));
    SHOW(close(fd));
    SHOW(syscall(SYS_unlink, "big"));
}

/* Run body as uid/gid 1000 in a child. */

static void test_as_user(void)
{
    printf("-- as uid 1000\n");
    SHOW(syscall(SYS_mkdir, "rootdir", 0755));
    SHOW(syscall(SYS_mkdir, "open", 0777));
    SHOW(syscall(SYS_chmod, "open", 0777));
    long fd = SHOW(syscall(SYS_open, "rootdir/f", O_CREAT | O_WRONLY, 0644));
    SHOW(close(fd));
    fd = SHOW(syscall(SYS_open, "secret", O_CREAT | O_WRONLY, 0600));
    SHOW(close(fd));
    SHOW(syscall(SYS_mkdir, "closed", 0700));
    AS_USER({
        SHOW(syscall(SYS_open, "rootdir/f", O_WRONLY));
        SHOW(syscall(SYS_open, "rootdir/f", O_RDONLY | O_TRUNC));
        long r = SHOW(syscall(SYS_open, "rootdir/f", O_RDONLY));
        if (r >= 0) close(r);
        SHOW(syscall(SYS_open, "secret", O_RDONLY));
        SHOW(syscall(SYS_open, "rootdir/new", O_CREAT | O_WRONLY, 0644));
        r = SHOW(syscall(SYS_open, "rootdir/f", O_CREAT | O_RDONLY, 0644));
        if (r >= 0) close(r);
        SHOW(syscall(SYS_open, "rootdir/f", O_CREAT | O_EXCL | O_RDONLY, 0644));
        SHOW(syscall(SYS_open, "closed/x", O_RDONLY));
        SHOW(syscall(SYS_open, "closed/x", O_CREAT | O_RDWR, 0644));
        SHOW(syscall(SYS_mkdir, "rootdir/sub", 0755));
        SHOW(syscall(SYS_mkdir, "rootdir", 0755));
        SHOW(syscall(SYS_unlink, "rootdir/f"));
        SHOW(syscall(SYS_unlink, "rootdir/missing"));
        SHOW(syscall(SYS_rmdir, "rootdir"));
        SHOW(syscall(SYS_truncate, "rootdir/f", 0));
        SHOW(syscall(SYS_mknod, "open/fifo", S_IFIFO | 0644, 0));
        SHOW(syscall(SYS_mknod, "open/null", S_IFCHR | 0644, makedev(1, 3)));
        SHOW(syscall(SYS_mknod, "rootdir/fifo", S_IFIFO | 0644, 0));
        r = SHOW(syscall(SYS_open, "open/mine", O_CREAT | O_WRONLY, 0644));
        if (r >= 0) close(r);
        r = SHOW(syscall(SYS_open, ".", O_TMPFILE | O_RDWR, 0600));
        if (r >= 0) close(r);
        r = SHOW(syscall(SYS_open, "open", O_TMPFILE | O_RDWR, 0600));
        if (r >= 0) close(r);
        SHOW(syscall(SYS_mkdir, "open/mydir", 0755));
    });
    STAT(syscall(SYS_stat, "open/mine", &st));
    CHECK(st.st_uid == 1000 && st.st_gid == 1000);
    LSTAT("open/fifo");
    LSTAT("open/mydir");
    listing("open");
    listing("rootdir");
    SHOW(syscall(SYS_unlink, "open/mine"));
    SHOW(syscall(SYS_unlink, "open/fifo"));
    SHOW(syscall(SYS_rmdir, "open/mydir"));
    SHOW(syscall(SYS_rmdir, "open"));
    SHOW(syscall(SYS_rmdir, "closed"));
    SHOW(syscall(SYS_unlink, "rootdir/f"));
    SHOW(syscall(SYS_rmdir, "rootdir"));
    SHOW(syscall(SYS_unlink, "secret"));
}

int main(void)
{
    enter_tmpdir();
    test_open_create();
    test_tmpfile_path();
    test_umask();
    test_mkdir_mknod();
    test_remove();
    test_unlinked_open();
    test_sizes();
    test_as_user();
    SHOW(syscall(SYS_unlink, "a"));
    listing(".");
    leave_tmpdir();
    return 0;
}
