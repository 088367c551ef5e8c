/* fstat, stat, lstat, newfstatat, statx.
 *
 * Printed fields: file type and permission bits, st_nlink and st_size of
 * regular files, st_size of symlinks (the target length), st_rdev of device
 * nodes.  Inode/device numbers are only compared with each other, never
 * printed; times, blocks and owners are not printed. */
#include "common.h"
#include <sys/sysmacros.h>

#ifndef AT_STATX_SYNC_TYPE
#define AT_STATX_SYNC_TYPE 0x6000
#endif
#ifndef STATX__RESERVED
#define STATX__RESERVED 0x80000000U
#endif

static void print_stat(const char *label, long r, const struct stat *st)
{
    if (r == -1) {
        printf("%s = -1 %s\n", label, errname(errno));
        return;
    }
    printf("%s = %ld: %s", label, r, ftype(st->st_mode));
    switch (st->st_mode & S_IFMT) {
    case S_IFREG:
        printf(" perm=%04o nlink=%lu size=%ld", st->st_mode & 07777,
               (unsigned long)st->st_nlink, (long)st->st_size);
        break;
    case S_IFLNK:
        printf(" size=%ld", (long)st->st_size);
        break;
    case S_IFCHR:
    case S_IFBLK:
        printf(" perm=%04o rdev=%u:%u size=%ld", st->st_mode & 07777,
               major(st->st_rdev), minor(st->st_rdev), (long)st->st_size);
        break;
    }
    printf("\n");
}

#define STAT(call, st) do { memset(&(st), 0xa5, sizeof(st)); \
    long r_ = (call); print_stat(#call, r_, &(st)); } while (0)

static int same_file(const struct stat *a, const struct stat *b)
{
    return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

static void test_stat_lstat_fstat(void)
{
    struct stat st, st2;

    printf("-- stat\n");
    STAT(syscall(SYS_stat, "/etc/passwd", &st), st);
    STAT(syscall(SYS_stat, "/etc/../etc/passwd", &st2), st2);
    CHECK(same_file(&st, &st2));
    STAT(syscall(SYS_stat, "/etc", &st), st);
    STAT(syscall(SYS_stat, "/", &st), st);
    STAT(syscall(SYS_stat, "/dev/null", &st), st);
    STAT(syscall(SYS_stat, "/dev/zero", &st), st);
    STAT(syscall(SYS_stat, "/dev/full", &st), st);
    STAT(syscall(SYS_stat, "/dev/random", &st), st);
    STAT(syscall(SYS_stat, "/dev/urandom", &st), st);
    STAT(syscall(SYS_stat, "/dev/tty", &st), st);
    STAT(syscall(SYS_stat, "/bin", &st), st);
    STAT(syscall(SYS_stat, "/usr/bin", &st2), st2);
    CHECK(same_file(&st, &st2));
    STAT(syscall(SYS_stat, "/nonexistent", &st), st);
    STAT(syscall(SYS_stat, "/etc/passwd/", &st), st);
    STAT(syscall(SYS_stat, "/etc/passwd/x", &st), st);
    STAT(syscall(SYS_stat, "", &st), st);
    STAT(syscall(SYS_stat, BADPTR, &st), st);
    STAT(syscall(SYS_stat, NULL, &st), st);
    STAT(syscall(SYS_stat, long_path(), &st), st);
    STAT(syscall(SYS_stat, long_name(), &st), st);
    SHOW(syscall(SYS_stat, "/etc/passwd", BADPTR));
    SHOW(syscall(SYS_stat, "/etc/passwd", NULL));

    printf("-- lstat\n");
    STAT(syscall(SYS_lstat, "/etc/passwd", &st), st);
    STAT(syscall(SYS_lstat, "/bin", &st), st);
    STAT(syscall(SYS_stat, "/bin", &st2), st2);
    CHECK(!same_file(&st, &st2));
    STAT(syscall(SYS_lstat, "/bin/", &st), st);
    STAT(syscall(SYS_lstat, "/etc/os-release", &st), st);
    STAT(syscall(SYS_lstat, "/etc", &st), st);
    STAT(syscall(SYS_lstat, "/dev/null", &st), st);
    STAT(syscall(SYS_lstat, "/nonexistent", &st), st);
    STAT(syscall(SYS_lstat, "/etc/passwd/", &st), st);
    STAT(syscall(SYS_lstat, "", &st), st);
    STAT(syscall(SYS_lstat, BADPTR, &st), st);
    STAT(syscall(SYS_lstat, long_path(), &st), st);
    SHOW(syscall(SYS_lstat, "/bin", BADPTR));

    printf("-- fstat\n");
    long fd = SHOW(open("/etc/passwd", O_RDONLY));
    STAT(syscall(SYS_fstat, fd, &st), st);
    STAT(syscall(SYS_stat, "/etc/passwd", &st2), st2);
    CHECK(same_file(&st, &st2));
    SHOW(syscall(SYS_fstat, fd, BADPTR));
    SHOW(close(fd));
    fd = SHOW(open("/etc", O_RDONLY | O_DIRECTORY));
    STAT(syscall(SYS_fstat, fd, &st), st);
    SHOW(close(fd));
    fd = SHOW(open("/dev/null", O_RDWR));
    STAT(syscall(SYS_fstat, fd, &st), st);
    SHOW(close(fd));
    fd = SHOW(open("/bin", O_PATH | O_NOFOLLOW));
    STAT(syscall(SYS_fstat, fd, &st), st);
    SHOW(close(fd));
    fd = SHOW(open("/etc/passwd", O_PATH));
    STAT(syscall(SYS_fstat, fd, &st), st);
    SHOW(close(fd));
    STAT(syscall(SYS_fstat, BADFD, &st), st);
    STAT(syscall(SYS_fstat, -1, &st), st);
    STAT(syscall(SYS_fstat, fd, &st), st);   /* closed */
}

static void test_newfstatat(void)
{
    struct stat st, st2;

    printf("-- newfstatat\n");
    long etc = SHOW(open("/etc", O_RDONLY | O_DIRECTORY));
    long file = SHOW(open("/etc/passwd", O_RDONLY));
    long root = SHOW(open("/", O_PATH));
    STAT(syscall(SYS_newfstatat, AT_FDCWD, "/etc/passwd", &st, 0), st);
    STAT(syscall(SYS_newfstatat, etc, "passwd", &st2, 0), st2);
    CHECK(same_file(&st, &st2));
    STAT(syscall(SYS_newfstatat, root, "etc/passwd", &st2, 0), st2);
    CHECK(same_file(&st, &st2));
    STAT(syscall(SYS_newfstatat, BADFD, "/etc/passwd", &st2, 0), st2);
    STAT(syscall(SYS_newfstatat, root, "bin", &st, 0), st);
    STAT(syscall(SYS_newfstatat, root, "bin", &st, AT_SYMLINK_NOFOLLOW), st);
    STAT(syscall(SYS_newfstatat, root, "bin/", &st, AT_SYMLINK_NOFOLLOW), st);
    STAT(syscall(SYS_newfstatat, etc, "os-release", &st, AT_SYMLINK_NOFOLLOW), st);
    STAT(syscall(SYS_newfstatat, etc, "passwd", &st, AT_NO_AUTOMOUNT), st);
    /* AT_EMPTY_PATH: the dirfd itself */
    STAT(syscall(SYS_newfstatat, file, "", &st, AT_EMPTY_PATH), st);
    STAT(syscall(SYS_stat, "/etc/passwd", &st2), st2);
    CHECK(same_file(&st, &st2));
    STAT(syscall(SYS_newfstatat, etc, "", &st, AT_EMPTY_PATH), st);
    STAT(syscall(SYS_newfstatat, root, "", &st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW), st);
    long lnk = SHOW(open("/bin", O_PATH | O_NOFOLLOW));
    STAT(syscall(SYS_newfstatat, lnk, "", &st, AT_EMPTY_PATH), st);
    SHOW(close(lnk));
    SHOW(chdir("/etc"));
    STAT(syscall(SYS_newfstatat, AT_FDCWD, "", &st, AT_EMPTY_PATH), st);
    STAT(syscall(SYS_newfstatat, AT_FDCWD, "passwd", &st, 0), st);
    SHOW(chdir("/"));
    /* errors */
    STAT(syscall(SYS_newfstatat, file, "", &st, 0), st);
    STAT(syscall(SYS_newfstatat, etc, "", &st, 0), st);
    STAT(syscall(SYS_newfstatat, BADFD, "passwd", &st, 0), st);
    STAT(syscall(SYS_newfstatat, BADFD, "", &st, AT_EMPTY_PATH), st);
    STAT(syscall(SYS_newfstatat, -1, "", &st, AT_EMPTY_PATH), st);
    STAT(syscall(SYS_newfstatat, file, "x", &st, 0), st);
    STAT(syscall(SYS_newfstatat, etc, "nonexistent", &st, 0), st);
    STAT(syscall(SYS_newfstatat, etc, "passwd", &st, 0x1), st);
    STAT(syscall(SYS_newfstatat, etc, "passwd", &st, AT_STATX_SYNC_TYPE), st);
    STAT(syscall(SYS_newfstatat, etc, "passwd", &st, ~0), st);
    STAT(syscall(SYS_newfstatat, etc, BADPTR, &st, 0), st);
    SHOW(syscall(SYS_newfstatat, etc, "passwd", BADPTR, 0));
    STAT(syscall(SYS_newfstatat, etc, long_path() + 1, &st, 0), st);
    SHOW(close(root));
    SHOW(close(file));
    SHOW(close(etc));
}

/* Prints the requested basic-stats part of stx_mask, then only the fields
 * that were requested and that the mask says are valid. */
static void print_statx(const char *label, long r, const struct statx *sx,
                        unsigned want)
{
    if (r == -1) {
        printf("%s = -1 %s\n", label, errname(errno));
        return;
    }
    /* only what was asked for: kernels differ in what else they report */
    unsigned m = sx->stx_mask & want;
    printf("%s = %ld: mask=%#x", label, r, m & STATX_BASIC_STATS);
    if (m & STATX_TYPE)
        printf(" %s", ftype(sx->stx_mode));
    switch (sx->stx_mode & S_IFMT) {
    case S_IFREG:
        if (m & STATX_MODE)
            printf(" perm=%04o", sx->stx_mode & 07777);
        if (m & STATX_NLINK)
            printf(" nlink=%u", sx->stx_nlink);
        if (m & STATX_SIZE)
            printf(" size=%llu", (unsigned long long)sx->stx_size);
        break;
    case S_IFLNK:
        if (m & STATX_SIZE)
            printf(" size=%llu", (unsigned long long)sx->stx_size);
        break;
    case S_IFCHR:
        if (m & STATX_MODE)
            printf(" perm=%04o", sx->stx_mode & 07777);
        printf(" rdev=%u:%u", sx->stx_rdev_major, sx->stx_rdev_minor);
        break;
    }
    printf("\n");
}

static struct statx sx;

/* is id the first field of a line of /proc/self/mountinfo? */
static int mount_listed(unsigned long long id)
{
    FILE *f = fopen("/proc/self/mountinfo", "r");
    char line[1024];
    int found = 0;
    while (f && fgets(line, sizeof line, f))
        if (strtoull(line, NULL, 10) == id)
            found = 1;
    if (f)
        fclose(f);
    return found;
}

#define STATX(dfd, path, flags, want) do { memset(&sx, 0xa5, sizeof sx); \
    long r_ = syscall(SYS_statx, dfd, path, flags, want, &sx); \
    print_statx("statx(" #dfd ", " #path ", " #flags ", " #want ")", r_, &sx, want); \
    } while (0)

static void test_statx(void)
{
    struct stat st;

    printf("-- statx\n");
    long etc = SHOW(open("/etc", O_RDONLY | O_DIRECTORY));
    long file = SHOW(open("/etc/passwd", O_RDONLY));
    STATX(AT_FDCWD, "/etc/passwd", 0, STATX_BASIC_STATS);
    syscall(SYS_stat, "/etc/passwd", &st);
    CHECK(sx.stx_ino == st.st_ino);
    CHECK(makedev(sx.stx_dev_major, sx.stx_dev_minor) == st.st_dev);
    CHECK(sx.stx_size == (unsigned long long)st.st_size);
    CHECK(sx.stx_mode == st.st_mode);
    STATX(etc, "passwd", 0, STATX_ALL);
    STATX(etc, "passwd", 0, STATX_TYPE | STATX_MODE);
    CHECK((sx.stx_mask & (STATX_TYPE | STATX_MODE)) == (STATX_TYPE | STATX_MODE));
    STATX(etc, "passwd", 0, 0);
    STATX(etc, "passwd", AT_STATX_FORCE_SYNC, STATX_SIZE);
    STATX(etc, "passwd", AT_STATX_DONT_SYNC, STATX_SIZE);
    STATX(file, "", AT_EMPTY_PATH, STATX_BASIC_STATS);
    STATX(etc, "", AT_EMPTY_PATH, STATX_BASIC_STATS);
    STATX(AT_FDCWD, "/etc", 0, STATX_BASIC_STATS);
    STATX(AT_FDCWD, "/bin", 0, STATX_BASIC_STATS);
    STATX(AT_FDCWD, "/bin", AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS);
    STATX(etc, "os-release", AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS);
    STATX(AT_FDCWD, "/dev/null", 0, STATX_BASIC_STATS);
    STATX(AT_FDCWD, "/dev/urandom", 0, STATX_BASIC_STATS);
    STATX(BADFD, "/etc/passwd", 0, STATX_BASIC_STATS);
    /* errors */
    STATX(AT_FDCWD, "/nonexistent", 0, STATX_BASIC_STATS);
    STATX(AT_FDCWD, "/etc/passwd/", 0, STATX_BASIC_STATS);
    STATX(AT_FDCWD, "", 0, STATX_BASIC_STATS);
    STATX(file, "", 0, STATX_BASIC_STATS);
    STATX(BADFD, "passwd", 0, STATX_BASIC_STATS);
    STATX(BADFD, "", AT_EMPTY_PATH, STATX_BASIC_STATS);
    STATX(file, "x", 0, STATX_BASIC_STATS);
    STATX(etc, "passwd", 0x1, STATX_BASIC_STATS);
    STATX(etc, "passwd", AT_STATX_SYNC_TYPE, STATX_BASIC_STATS);
    STATX(etc, "passwd", 0, STATX__RESERVED);
    STATX(etc, BADPTR, 0, STATX_BASIC_STATS);
    SHOW(syscall(SYS_statx, etc, "passwd", 0, STATX_BASIC_STATS, BADPTR));
    SHOW(syscall(SYS_statx, etc, "passwd", 0, STATX_BASIC_STATS, NULL));
    STATX(AT_FDCWD, long_path(), 0, STATX_BASIC_STATS);
    STATX(AT_FDCWD, long_name(), 0, STATX_BASIC_STATS);
    /* a mount's root says so (STATX_ATTR_MOUNT_ROOT), and every answer gives
       STATX_MNT_ID with a mount id /proc/self/mountinfo lists */
    const char *places[] = {"/", "/proc", "/dev/pts", "/etc", "/tmp", NULL};
    for (int i = 0; places[i]; i++) {
        struct statx m;
        long r = syscall(SYS_statx, AT_FDCWD, places[i], 0, STATX_BASIC_STATS, &m);
        printf("statx(%s): %ld mount_root=%d in_mask=%d mnt_id=%d listed=%d\n", places[i], r,
               !!(m.stx_attributes & STATX_ATTR_MOUNT_ROOT), !!(m.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT),
               !!(m.stx_mask & STATX_MNT_ID), mount_listed(m.stx_mnt_id));
    }
    /* the attributes each file system could set, and what it fills in */
    int shm = open("/dev/shm/pla-statx", O_CREAT | O_RDWR, 0600);
    const char *kinds[] = {"/dev/shm/pla-statx", "/etc/passwd", "/proc/self/status", "/", NULL};
    for (int i = 0; kinds[i]; i++) {
        struct statx m;
        long r = syscall(SYS_statx, AT_FDCWD, kinds[i], 0, STATX_ALL, &m);
        printf("statx(%s): %ld mask=%#x attributes_mask=%#llx\n", kinds[i], r, m.stx_mask & ~STATX_MNT_ID,
               (unsigned long long)m.stx_attributes_mask);
    }
    /* tmpfs has multigrain times: mtime and ctime are filled in when either is
       asked for, btime when it is */
    unsigned asks[] = {0, STATX_MODE, STATX_MTIME, STATX_BTIME, STATX_BASIC_STATS};
    for (int i = 0; i < 5; i++) {
        struct statx m;
        syscall(SYS_statx, shm, "", AT_EMPTY_PATH, asks[i], &m);
        printf("statx(shm file, %#x): mask=%#x\n", asks[i], m.stx_mask & ~STATX_MNT_ID);
    }
    close(shm);
    unlink("/dev/shm/pla-statx");
    SHOW(close(file));
    SHOW(close(etc));
}

int main(void)
{
    test_stat_lstat_fstat();
    test_newfstatat();
    test_statx();
    return 0;
}
