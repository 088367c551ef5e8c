/* Attributes of files in a fresh directory under /tmp: chmod, fchmod,
 * fchmodat, fchmodat2; chown, fchown, lchown, fchownat (and the setuid and
 * setgid bits they clear); utime, utimes, futimesat, utimensat (fixed
 * times printed to the nanosecond, UTIME_NOW/UTIME_OMIT); permission
 * checks of a non-root user (uid 1000) and access/faccessat2(AT_EACCESS)
 * with differing real and effective uids; setgid directories; setxattr,
 * lsetxattr, fsetxattr, getxattr, listxattr, removexattr (user.* and
 * trusted.*); statfs/fstatfs (success only).
 *
 * The uids and gids printed are the ones the program set (1000, 1234, ...),
 * never the host's. */
#include "common.h"
#include "workdir.h"
#include <dirent.h>
#include <sys/statfs.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <time.h>
#include <utime.h>

#ifndef SYS_fchmodat2
#define SYS_fchmodat2 452
#endif
#ifndef AT_EACCESS
#define AT_EACCESS 0x200
#endif


static struct stat st;

/* type, permission bits, owner (as set by this program) */
static void print_stat_owner(const char *label, long r)
{
    if (r == -1)
        printf("%s = -1 %s\n", label, errname(errno));
    else
        printf("%s = %ld: %s perm=%04o uid=%u gid=%u\n", label, r, ftype(st.st_mode),
               st.st_mode & 07777, st.st_uid, st.st_gid);
}

#define STAT(path) do { memset(&st, 0xa5, sizeof st); \
    print_stat_owner("stat(" #path ")", syscall(SYS_stat, path, &st)); } while (0)
#define LSTAT(path) do { memset(&st, 0xa5, sizeof st); \
    print_stat_owner("lstat(" #path ")", syscall(SYS_lstat, path, &st)); } while (0)

static void times_of(const char *label, const char *path, int follow)
{
    struct stat s;
    if (syscall(follow ? SYS_stat : SYS_lstat, path, &s) != 0) {
        printf("%s: stat = -1 %s\n", label, errname(errno));
        return;
    }
    printf("%s: atime=%ld.%09ld mtime=%ld.%09ld\n", label,
           (long)s.st_atim.tv_sec, s.st_atim.tv_nsec,
           (long)s.st_mtim.tv_sec, s.st_mtim.tv_nsec);
}
#define TIMES(path) times_of(path, path, 1)
#define LTIMES(path) times_of("lstat " path, path, 0)

static int near_now(struct timespec t)
{
    long now = time(NULL);
    return t.tv_sec >= now - 10 && t.tv_sec <= now + 10;
}

static void put(const char *path, const char *text, int mode)
{
    int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, mode);
    if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
        printf("put %s failed: %s\n", path, errname(errno));
    close(fd);
}


static void test_chmod(void)
{
    printf("-- chmod/fchmod/fchmodat/fchmodat2\n");
    put("f", "data", 0644);
    SHOW(syscall(SYS_mkdir, "d", 0755));
    SHOW(syscall(SYS_symlink, "f", "sl"));
    SHOW(syscall(SYS_chmod, "f", 0600));
    STAT("f");
    SHOW(syscall(SYS_chmod, "f", 07777));
    STAT("f");
    SHOW(syscall(SYS_chmod, "f", 06755));
    STAT("f");
    SHOW(syscall(SYS_chmod, "f", S_IFDIR | 0640));   /* type bits ignored */
    STAT("f");
    SHOW(syscall(SYS_chmod, "f", 0177777));
    STAT("f");
    SHOW(syscall(SYS_chmod, "d", 01777));
    STAT("d");
    SHOW(syscall(SYS_chmod, "d", 0755));
    SHOW(syscall(SYS_chmod, "sl", 0604));            /* follows the link */
    STAT("f");
    LSTAT("sl");
    SHOW(syscall(SYS_chmod, "missing", 0644));
    SHOW(syscall(SYS_chmod, "f/", 0644));
    SHOW(syscall(SYS_chmod, "f/x", 0644));
    SHOW(syscall(SYS_chmod, "", 0644));
    SHOW(syscall(SYS_chmod, BADPTR, 0644));
    SHOW(syscall(SYS_chmod, long_path(), 0644));
    SHOW(syscall(SYS_chmod, long_name(), 0644));
    long fd = SHOW(syscall(SYS_open, "f", O_RDONLY));
    SHOW(syscall(SYS_fchmod, fd, 0640));
    STAT("f");
    long pfd = SHOW(syscall(SYS_open, "f", O_PATH));
    SHOW(syscall(SYS_fchmod, pfd, 0600));
    SHOW(syscall(SYS_fchmod, BADFD, 0600));
    long dfd = SHOW(syscall(SYS_open, "d", O_RDONLY | O_DIRECTORY));
    SHOW(syscall(SYS_fchmod, dfd, 0700));
    STAT("d");
    SHOW(syscall(SYS_fchmodat, AT_FDCWD, "f", 0644));
    STAT("f");
    /* fchmodat has no flags argument: the 4th one is ignored */
    SHOW(syscall(SYS_fchmodat, AT_FDCWD, "sl", 0660, AT_SYMLINK_NOFOLLOW));
    STAT("f");
    SHOW(syscall(SYS_fchmodat, dfd, "../f", 0644));
    SHOW(syscall(SYS_fchmodat, BADFD, "f", 0644));
    SHOW(syscall(SYS_fchmodat, fd, "x", 0644));
    SHOW(syscall(SYS_fchmodat, fd, "", 0644));

    long r = SHOW(syscall(SYS_fchmodat2, AT_FDCWD, "f", 0640, 0));
    if (r == -1 && errno == ENOSYS) {
        printf("fchmodat2: not available natively\n");
    } else {
        STAT("f");
        SHOW(syscall(SYS_fchmodat2, AT_FDCWD, "sl", 0600, AT_SYMLINK_NOFOLLOW));
        STAT("f");
        LSTAT("sl");
        SHOW(syscall(SYS_fchmodat2, AT_FDCWD, "f", 0600, AT_SYMLINK_NOFOLLOW));
        STAT("f");
        SHOW(syscall(SYS_fchmodat2, AT_FDCWD, "sl", 0644, 0));
        STAT("f");
        SHOW(syscall(SYS_fchmodat2, fd, "", 0604, AT_EMPTY_PATH));
        STAT("f");
        SHOW(syscall(SYS_fchmodat2, pfd, "", 0640, AT_EMPTY_PATH));
        STAT("f");
        SHOW(syscall(SYS_fchmodat2, fd, "", 0644, 0));
        SHOW(syscall(SYS_fchmodat2, AT_FDCWD, "f", 0644, 0x1));
        SHOW(syscall(SYS_fchmodat2, AT_FDCWD, "f", 0644, AT_SYMLINK_FOLLOW));
        SHOW(syscall(SYS_fchmodat2, BADFD, "", 0644, AT_EMPTY_PATH));
        SHOW(syscall(SYS_fchmodat2, AT_FDCWD, "missing", 0644, AT_SYMLINK_NOFOLLOW));
    }
    SHOW(close(dfd));
    SHOW(close(pfd));
    SHOW(close(fd));
    SHOW(syscall(SYS_chmod, "f", 0644));

    /* what uid 1000 may do */
    put("mine", "", 0644);
    SHOW(syscall(SYS_chown, "mine", 1000, 0));
    AS_USER({
        SHOW(syscall(SYS_chmod, "f", 0666));
        SHOW(syscall(SYS_chmod, "d", 0777));
        SHOW(syscall(SYS_chmod, "mine", 04755));
        SHOW(syscall(SYS_stat, "mine", &st));
        printf("mine: perm=%04o\n", st.st_mode & 07777);
        /* not in group 0: the setgid bit is dropped silently */
        SHOW(syscall(SYS_chmod, "mine", 02755));
        SHOW(syscall(SYS_stat, "mine", &st));
        printf("mine: perm=%04o\n", st.st_mode & 07777);
        SHOW(syscall(SYS_chmod, "mine", 01644));
        SHOW(syscall(SYS_stat, "mine", &st));
        printf("mine: perm=%04o\n", st.st_mode & 07777);
    });
    STAT("f");
    STAT("mine");
}

static void test_chown(void)
{
    printf("-- chown/fchown/lchown/fchownat\n");
    SHOW(syscall(SYS_chown, "f", 1000, 1000));
    STAT("f");
    SHOW(syscall(SYS_chown, "f", -1, -1));
    STAT("f");
    SHOW(syscall(SYS_chown, "f", -1, 2000));
    STAT("f");
    SHOW(syscall(SYS_chown, "f", 3000, -1));
    STAT("f");
    SHOW(syscall(SYS_lchown, "sl", 4000, 4001));
    LSTAT("sl");
    STAT("f");
    SHOW(syscall(SYS_chown, "sl", 1000, 1000));    /* follows */
    LSTAT("sl");
    STAT("f");
    SHOW(syscall(SYS_fchownat, AT_FDCWD, "sl", 5000, 5001, AT_SYMLINK_NOFOLLOW));
    LSTAT("sl");
    SHOW(syscall(SYS_fchownat, AT_FDCWD, "sl", 0, 0, 0));
    STAT("f");
    long fd = SHOW(syscall(SYS_open, "f", O_RDONLY));
    long pfd = SHOW(syscall(SYS_open, "f", O_PATH));
    SHOW(syscall(SYS_fchown, fd, 1000, 1000));
    STAT("f");
    SHOW(syscall(SYS_fchown, pfd, 0, 0));
    SHOW(syscall(SYS_fchown, BADFD, 0, 0));
    SHOW(syscall(SYS_fchownat, pfd, "", 0, 0, AT_EMPTY_PATH));
    STAT("f");
    SHOW(syscall(SYS_fchownat, fd, "", 0, 0, 0));
    SHOW(syscall(SYS_fchownat, AT_FDCWD, "f", 0, 0, 0x1));
    SHOW(syscall(SYS_fchownat, BADFD, "f", 0, 0, 0));
    SHOW(syscall(SYS_chown, "missing", 0, 0));
    SHOW(syscall(SYS_chown, "f/", 0, 0));
    SHOW(syscall(SYS_chown, BADPTR, 0, 0));
    SHOW(syscall(SYS_lchown, long_path(), 0, 0));
    SHOW(close(pfd));
    SHOW(close(fd));

    printf("-- chown and the setuid/setgid bits\n");
    SHOW(syscall(SYS_chmod, "f", 06755));
    SHOW(syscall(SYS_chown, "f", 1000, 1000));
    STAT("f");
    SHOW(syscall(SYS_chmod, "f", 06755));
    SHOW(syscall(SYS_chown, "f", -1, -1));
    STAT("f");
    SHOW(syscall(SYS_chmod, "f", 06744));    /* setgid without group exec */
    SHOW(syscall(SYS_chown, "f", 0, 0));
    STAT("f");
    SHOW(syscall(SYS_chmod, "d", 06755));    /* directories keep them */
    SHOW(syscall(SYS_chown, "d", 1000, 1000));
    STAT("d");
    SHOW(syscall(SYS_chown, "d", 0, 0));
    SHOW(syscall(SYS_chmod, "d", 0755));
    SHOW(syscall(SYS_chmod, "f", 0644));

    /* uid 1000 owns "mine" (group 0) */
    SHOW(syscall(SYS_chown, "mine", 1000, 1000));
    AS_USER({
        SHOW(syscall(SYS_chown, "mine", 1001, -1));
        SHOW(syscall(SYS_chown, "mine", -1, 1001));
        SHOW(syscall(SYS_chown, "mine", 1000, 1000));
        SHOW(syscall(SYS_chown, "mine", -1, -1));
        SHOW(syscall(SYS_chown, "f", -1, -1));
        SHOW(syscall(SYS_chown, "f", 1000, -1));
        SHOW(syscall(SYS_lchown, "sl", -1, -1));
        SHOW(syscall(SYS_chown, "missing", 0, 0));
    });
    STAT("mine");
}

static void test_utimes(void)
{
    printf("-- utime/utimes/futimesat/utimensat\n");
    struct utimbuf ub = {1000000000, 1000000001};
    SHOW(syscall(SYS_utime, "f", &ub));
    TIMES("f");
    struct timeval tv[2] = {{1100000000, 123456}, {1100000001, 654321}};
    SHOW(syscall(SYS_utimes, "f", tv));
    TIMES("f");
    tv[0].tv_usec = 1000000;
    SHOW(syscall(SYS_utimes, "f", tv));
    tv[0].tv_usec = -1;
    SHOW(syscall(SYS_utimes, "f", tv));
    tv[0].tv_usec = 999999;
    SHOW(syscall(SYS_futimesat, AT_FDCWD, "f", tv));
    TIMES("f");
    long dfd = SHOW(syscall(SYS_open, "d", O_RDONLY | O_DIRECTORY));
    SHOW(syscall(SYS_futimesat, dfd, "../f", NULL));
    struct stat s;
    stat("f", &s);
    CHECK(near_now(s.st_atim) && near_now(s.st_mtim));
    SHOW(syscall(SYS_futimesat, BADFD, "f", tv));

    struct timespec ts[2] = {{1000000000, 123456789}, {1000000001, 987654321}};
    SHOW(syscall(SYS_utimensat, AT_FDCWD, "f", ts, 0));
    TIMES("f");
    ts[0].tv_nsec = UTIME_OMIT;
    ts[1] = (struct timespec){1200000000, 5};
    SHOW(syscall(SYS_utimensat, AT_FDCWD, "f", ts, 0));
    TIMES("f");
    ts[0] = (struct timespec){1300000000, 0};
    ts[1].tv_nsec = UTIME_OMIT;
    SHOW(syscall(SYS_utimensat, AT_FDCWD, "f", ts, 0));
    TIMES("f");
    ts[0].tv_nsec = UTIME_NOW;
    ts[1].tv_sec = 42;
    ts[1].tv_nsec = UTIME_OMIT;
    SHOW(syscall(SYS_utimensat, AT_FDCWD, "f", ts, 0));
    stat("f", &s);
    CHECK(near_now(s.st_atim));
    printf("mtime=%ld.%09ld\n", (long)s.st_mtim.tv_sec, s.st_mtim.tv_nsec);
    /* out-of-the-ordinary times */
    ts[0] = (struct timespec){-1, 0};
    ts[1] = (struct timespec){4000000000L, 999999999};
    SHOW(syscall(SYS_utimensat, AT_FDCWD, "f", ts, 0));
    TIMES("f");
    ts[0] = (struct timespec){0, 0};
    ts[1] = (struct timespec){0, 1};
    SHOW(syscall(SYS_utimensat, AT_FDCWD, "f", ts, 0));
    TIMES("f");
    /* symlinks */
    ts[0] = (struct timespec){1000000000, 1};
    ts[1] = (struct timespec){1000000000, 2};
    SHOW(syscall(SYS_utimensat, AT_FDCWD, "f", ts, 0));
    ts[0] = (struct timespec){1400000000, 3};
    ts[1] = (struct timespec){1400000000, 4};
    SHOW(syscall(SYS_utimensat, AT_FDCWD, "sl", ts, AT_SYMLINK_NOFOLLOW));
    LTIMES("sl");
    TIMES("f");
    ts[0] = (struct timespec){1500000000, 5};
    ts[1] = (struct timespec){1500000000, 6};
    SHOW(syscall(SYS_utimensat, AT_FDCWD, "sl", ts, 0));
    /* following the link may have updated its atime (relatime) */
    lstat("sl", &s);
    printf("lstat sl: mtime=%ld.%09ld\n", (long)s.st_mtim.tv_sec, s.st_mtim.tv_nsec);
    TIMES("f");
    /* by descriptor */
    long fd = SHOW(syscall(SYS_open, "f", O_RDONLY));
    ts[0] = (struct timespec){1600000000, 7};
    ts[1] = (struct timespec){1600000000, 8};
    SHOW(syscall(SYS_utimensat, fd, NULL, ts, 0));
    TIMES("f");
    ts[0].tv_nsec = 9;
    SHOW(syscall(SYS_utimensat, fd, "", ts, AT_EMPTY_PATH));
    TIMES("f");
    SHOW(syscall(SYS_utimensat, dfd, "../f", ts, 0));
    SHOW(syscall(SYS_utimensat, AT_FDCWD, NULL, ts, 0));
    SHOW(syscall(SYS_utimensat, fd, NULL, ts, AT_SYMLINK_NOFOLLOW));
    SHOW(syscall(SYS_utimensat, BADFD, NULL, ts, 0));
    SHOW(syscall(SYS_utimensat, fd, "", ts, 0));
    long pfd = SHOW(syscall(SYS_open, "f", O_PATH));
    SHOW(syscall(SYS_utimensat, pfd, NULL, ts, 0));
    SHOW(syscall(SYS_utimensat, pfd, "", ts, AT_EMPTY_PATH));
    SHOW(close(pfd));
    /* errors */
    ts[0] = (struct timespec){0, 1000000000};
    SHOW(syscall(SYS_utimensat, AT_FDCWD, "f", ts, 0));
    ts[0] = (struct timespec){0, -1};
    SHOW(syscall(SYS_utimensat, AT_FDCWD, "f", ts, 0));
    ts[0] = (struct timespec){0, 0};
    SHOW(syscall(SYS_utimensat, AT_FDCWD, "f", ts, 0x1));
    SHOW(syscall(SYS_utimensat, AT_FDCWD, "f", ts, AT_REMOVEDIR));
    SHOW(syscall(SYS_utimensat, AT_FDCWD, "f", BADPTR, 0));
    SHOW(syscall(SYS_utimensat, AT_FDCWD, BADPTR, ts, 0));
    SHOW(syscall(SYS_utimensat, AT_FDCWD, "missing", ts, 0));
    SHOW(syscall(SYS_utimensat, AT_FDCWD, "f/", ts, 0));
    SHOW(syscall(SYS_utimensat, AT_FDCWD, long_path(), ts, 0));
    SHOW(syscall(SYS_utime, "missing", &ub));
    SHOW(syscall(SYS_utime, "f", BADPTR));
    SHOW(syscall(SYS_utimes, "f", BADPTR));
    SHOW(syscall(SYS_utime, "f", NULL));
    stat("f", &s);
    CHECK(near_now(s.st_atim) && near_now(s.st_mtim));
    SHOW(close(fd));
    SHOW(close(dfd));

    /* a user who is not the owner */
    put("tw", "", 0644);
    SHOW(syscall(SYS_chmod, "tw", 0666));
    put("tr", "", 0644);
    ts[0] = (struct timespec){1000000000, 0};
    ts[1] = (struct timespec){1000000000, 0};
    SHOW(syscall(SYS_utimensat, AT_FDCWD, "tw", ts, 0));
    SHOW(syscall(SYS_utimensat, AT_FDCWD, "tr", ts, 0));
    AS_USER({
        struct timespec t2[2] = {{2000000000, 0}, {2000000000, 0}};
        SHOW(syscall(SYS_utimensat, AT_FDCWD, "tw", t2, 0));
        SHOW(syscall(SYS_utimes, "tw", tv));
        t2[0].tv_nsec = t2[1].tv_nsec = UTIME_OMIT;
        SHOW(syscall(SYS_utimensat, AT_FDCWD, "tr", t2, 0));
        t2[1].tv_nsec = UTIME_NOW;
        SHOW(syscall(SYS_utimensat, AT_FDCWD, "tw", t2, 0));
        SHOW(syscall(SYS_utimensat, AT_FDCWD, "tr", NULL, 0));
        SHOW(syscall(SYS_utime, "tr", NULL));
        t2[0].tv_nsec = UTIME_NOW;
        SHOW(syscall(SYS_utimensat, AT_FDCWD, "tr", t2, 0));
        SHOW(syscall(SYS_utimensat, AT_FDCWD, "tw", t2, 0));
    });
    TIMES("tr");
    stat("tw", &s);
    CHECK(near_now(s.st_atim) && near_now(s.st_mtim));
    ts[0] = (struct timespec){1000000000, 0};
    SHOW(syscall(SYS_utimensat, AT_FDCWD, "tw", ts, 0));
    AS_USER({
        SHOW(syscall(SYS_utimensat, AT_FDCWD, "tw", NULL, 0));
        SHOW(syscall(SYS_utime, "tr", NULL));
    });
    stat("tw", &s);
    CHECK(near_now(s.st_atim) && near_now(s.st_mtim));
    SHOW(syscall(SYS_unlink, "tw"));
    SHOW(syscall(SYS_unlink, "tr"));
}

static void test_permissions(void)
{
    printf("-- permissions of uid 1000\n");
    put("rootfile", "root", 0644);
    put("secret", "secret", 0600);
    SHOW(syscall(SYS_mkdir, "rootdir", 0755));
    SHOW(syscall(SYS_mkdir, "sticky", 0777));
    SHOW(syscall(SYS_chmod, "sticky", 01777));
    put("sticky/roots", "", 0666);
    SHOW(syscall(SYS_chmod, "sticky/roots", 0666));
    put("grp", "grp", 0644);
    SHOW(syscall(SYS_chown, "grp", 0, 1000));
    SHOW(syscall(SYS_chmod, "grp", 0604));      /* group class: no access */
    put("grp2", "grp2", 0644);
    SHOW(syscall(SYS_chown, "grp2", 0, 1234));
    SHOW(syscall(SYS_chmod, "grp2", 0060));
    SHOW(syscall(SYS_mkdir, "noexec", 0755));
    put("noexec/f", "noexec", 0644);
    SHOW(syscall(SYS_chmod, "noexec", 0644));
    SHOW(syscall(SYS_mkdir, "noread", 0755));
    put("noread/f", "noread", 0644);
    SHOW(syscall(SYS_chmod, "noread", 0311));
    AS_USER({
        SHOW(syscall(SYS_open, "rootfile", O_WRONLY));
        SHOW(syscall(SYS_open, "rootfile", O_RDWR));
        long r = SHOW(syscall(SYS_open, "rootfile", O_RDONLY));
        if (r >= 0) close(r);
        SHOW(syscall(SYS_open, "secret", O_RDONLY));
        SHOW(syscall(SYS_open, "rootdir/new", O_CREAT | O_WRONLY, 0644));
        SHOW(syscall(SYS_open, "sticky/roots", O_WRONLY));
        SHOW(syscall(SYS_unlink, "sticky/roots"));
        SHOW(syscall(SYS_rename, "sticky/roots", "sticky/x"));
        SHOW(syscall(SYS_chmod, "rootfile", 0666));
        SHOW(syscall(SYS_chmod, "sticky", 0777));
        SHOW(syscall(SYS_open, "grp", O_RDONLY));
        SHOW(syscall(SYS_open, "grp2", O_RDONLY));
        SHOW(syscall(SYS_access, "grp", R_OK));
        SHOW(syscall(SYS_access, "rootfile", R_OK));
        SHOW(syscall(SYS_access, "rootfile", W_OK));
        SHOW(syscall(SYS_access, "rootfile", X_OK));
        SHOW(syscall(SYS_access, "rootdir", W_OK));
        SHOW(syscall(SYS_access, "rootdir", X_OK));
        SHOW(syscall(SYS_access, "sticky", W_OK));
        SHOW(syscall(SYS_stat, "noexec/f", &st));
        SHOW(syscall(SYS_open, "noexec/f", O_RDONLY));
        r = SHOW(syscall(SYS_open, "noexec", O_RDONLY | O_DIRECTORY));
        if (r >= 0) close(r);
        SHOW(syscall(SYS_chdir, "noexec"));
        r = SHOW(syscall(SYS_open, "noread/f", O_RDONLY));
        if (r >= 0) close(r);
        SHOW(syscall(SYS_open, "noread", O_RDONLY | O_DIRECTORY));
        r = SHOW(syscall(SYS_open, "noread", O_PATH));
        if (r >= 0) close(r);
        SHOW(syscall(SYS_chdir, "noread"));
        SHOW(syscall(SYS_chdir, ".."));
    });
    /* with a supplementary group */
    FLUSH();
    pid_t pid = fork();
    if (pid == 0) {
        gid_t g = 1234;
        SHOW(syscall(SYS_setresgid, 1000, 1000, 1000));
        SHOW(syscall(SYS_setgroups, 1, &g));
        SHOW(syscall(SYS_setresuid, 1000, 1000, 1000));
        long r = SHOW(syscall(SYS_open, "grp2", O_RDWR));
        if (r >= 0) close(r);
        SHOW(syscall(SYS_access, "grp2", R_OK | W_OK));
        SHOW(syscall(SYS_access, "grp2", X_OK));
        FLUSH();
        _exit(0);
    }
    waitpid(pid, NULL, 0);

    printf("-- access vs faccessat2(AT_EACCESS)\n");
    FLUSH();
    pid = fork();
    if (pid == 0) {
        SHOW(syscall(SYS_setresuid, 1000, 0, 0));     /* real 1000, effective 0 */
        SHOW(syscall(SYS_access, "secret", R_OK));
        SHOW(syscall(SYS_faccessat, AT_FDCWD, "secret", R_OK));
        SHOW(syscall(SYS_faccessat2, AT_FDCWD, "secret", R_OK, 0));
        SHOW(syscall(SYS_faccessat2, AT_FDCWD, "secret", R_OK, AT_EACCESS));
        long r = SHOW(syscall(SYS_open, "secret", O_RDONLY));
        if (r >= 0) close(r);
        SHOW(syscall(SYS_setresuid, 0, 1000, 0));     /* real 0, effective 1000 */
        SHOW(syscall(SYS_access, "secret", R_OK));
        SHOW(syscall(SYS_faccessat2, AT_FDCWD, "secret", R_OK, AT_EACCESS));
        SHOW(syscall(SYS_open, "secret", O_RDONLY));
        SHOW(syscall(SYS_access, "rootfile", R_OK));
        SHOW(syscall(SYS_faccessat2, AT_FDCWD, "rootfile", R_OK, AT_EACCESS));
        SHOW(syscall(SYS_faccessat2, AT_FDCWD, "rootfile", W_OK, AT_EACCESS));
        FLUSH();
        _exit(0);
    }
    waitpid(pid, NULL, 0);
    SHOW(syscall(SYS_chmod, "noexec", 0755));
    SHOW(syscall(SYS_chmod, "noread", 0755));
    const char *names[] = {"rootfile", "secret", "sticky/roots", "grp", "grp2",
                           "noexec/f", "noread/f"};
    for (unsigned i = 0; i < sizeof names / sizeof *names; i++)
        SHOW(syscall(SYS_unlink, names[i]));
    SHOW(syscall(SYS_rmdir, "rootdir"));
    SHOW(syscall(SYS_rmdir, "sticky"));
    SHOW(syscall(SYS_rmdir, "noexec"));
    SHOW(syscall(SYS_rmdir, "noread"));
}

static void test_setgid_dir(void)
{
    printf("-- setgid directory\n");
    SHOW(syscall(SYS_mkdir, "sg", 0775));
    SHOW(syscall(SYS_chown, "sg", 0, 1234));
    SHOW(syscall(SYS_chmod, "sg", 02777));
    STAT("sg");
    put("sg/file", "", 0644);
    STAT("sg/file");
    SHOW(syscall(SYS_mkdir, "sg/sub", 0755));
    STAT("sg/sub");
    SHOW(syscall(SYS_mknod, "sg/fifo", S_IFIFO | 0640, 0));
    STAT("sg/fifo");
    put("sg/sub/deeper", "", 0644);
    STAT("sg/sub/deeper");
    long fd = SHOW(syscall(SYS_open, "sg", O_TMPFILE | O_RDWR, 0640));
    memset(&st, 0xa5, sizeof st);
    print_stat_owner("fstat(tmpfile)", syscall(SYS_fstat, fd, &st));
    SHOW(close(fd));
    AS_USER({
        put("sg/users", "", 0644);
        SHOW(syscall(SYS_stat, "sg/users", &st));
        printf("sg/users: perm=%04o uid=%u gid=%u\n", st.st_mode & 07777, st.st_uid, st.st_gid);
        /* not a member of 1234: a setgid file loses the bit */
        long r = SHOW(syscall(SYS_open, "sg/usersgid", O_CREAT | O_WRONLY, 02755));
        if (r >= 0) close(r);
        SHOW(syscall(SYS_stat, "sg/usersgid", &st));
        printf("sg/usersgid: perm=%04o uid=%u gid=%u\n", st.st_mode & 07777, st.st_uid, st.st_gid);
        SHOW(syscall(SYS_mkdir, "sg/userdir", 0755));
        SHOW(syscall(SYS_stat, "sg/userdir", &st));
        printf("sg/userdir: perm=%04o uid=%u gid=%u\n", st.st_mode & 07777, st.st_uid, st.st_gid);
        SHOW(syscall(SYS_chmod, "sg/users", 02644));
        SHOW(syscall(SYS_stat, "sg/users", &st));
        printf("sg/users: perm=%04o\n", st.st_mode & 07777);
    });
    /* root (CAP_FSETID) keeps a setgid bit it asks for */
    fd = SHOW(syscall(SYS_open, "sg/rootsgid", O_CREAT | O_WRONLY, 02755));
    SHOW(close(fd));
    STAT("sg/rootsgid");
    const char *names[] = {"sg/file", "sg/fifo", "sg/sub/deeper", "sg/users",
                           "sg/usersgid", "sg/rootsgid"};
    for (unsigned i = 0; i < sizeof names / sizeof *names; i++)
        SHOW(syscall(SYS_unlink, names[i]));
    SHOW(syscall(SYS_rmdir, "sg/sub"));
    SHOW(syscall(SYS_rmdir, "sg/userdir"));
    SHOW(syscall(SYS_rmdir, "sg"));
}

static int cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The user.* and trusted.* names of a listxattr result, sorted. */
static void print_names(const char *label, long r, char *buf)
{
    char *names[64];
    int n = 0;
    if (r == -1) {
        printf("%s = -1 %s\n", label, errname(errno));
        return;
    }
    for (long off = 0; off < r && n < 64; off += strlen(buf + off) + 1)
        if (!strncmp(buf + off, "user.", 5) || !strncmp(buf + off, "trusted.", 8))
            names[n++] = buf + off;
    qsort(names, n, sizeof *names, cmp);
    printf("%s:", label);
    for (int i = 0; i < n; i++)
        printf(" %s", names[i]);
    printf("\n");
}

#define LIST(call) do { memset(xbuf, 0, sizeof xbuf); \
    long r_ = (call); print_names(#call, r_, xbuf); } while (0)

static void show_value(const char *label, long r, const char *buf)
{
    if (r == -1)
        printf("%s = -1 %s\n", label, errname(errno));
    else
        printf("%s = %ld \"%.*s\"\n", label, r, (int)(r < 64 ? r : 64), buf);
}

#define GET(call) do { memset(xbuf, '#', sizeof xbuf); \
    long r_ = (call); show_value(#call, r_, xbuf); } while (0)

static char xbuf[4096];

static void test_xattr(void)
{
    static char big[70000];
    char name[300];

    printf("-- xattrs\n");
    SHOW(syscall(SYS_setxattr, "f", "user.test", "hello", 5, 0));
    GET(syscall(SYS_getxattr, "f", "user.test", xbuf, sizeof xbuf));
    GET(syscall(SYS_getxattr, "f", "user.test", NULL, 0));
    GET(syscall(SYS_getxattr, "f", "user.test", xbuf, 0));
    GET(syscall(SYS_getxattr, "f", "user.test", xbuf, 2));
    GET(syscall(SYS_getxattr, "f", "user.test", xbuf, 5));
    SHOW(syscall(SYS_setxattr, "f", "user.test", "again", 5, XATTR_CREATE));
    SHOW(syscall(SYS_setxattr, "f", "user.test", "bye", 3, XATTR_REPLACE));
    GET(syscall(SYS_getxattr, "f", "user.test", xbuf, sizeof xbuf));
    SHOW(syscall(SYS_setxattr, "f", "user.missing", "x", 1, XATTR_REPLACE));
    SHOW(syscall(SYS_setxattr, "f", "user.test", "x", 1, XATTR_CREATE | XATTR_REPLACE));
    SHOW(syscall(SYS_setxattr, "f", "user.new", "x", 1, XATTR_CREATE | XATTR_REPLACE));
    SHOW(syscall(SYS_setxattr, "f", "user.test", "x", 1, 4));
    SHOW(syscall(SYS_setxattr, "f", "user.empty", "", 0, 0));
    GET(syscall(SYS_getxattr, "f", "user.empty", xbuf, sizeof xbuf));
    SHOW(syscall(SYS_setxattr, "f", "user.nullval", NULL, 0, 0));
    GET(syscall(SYS_getxattr, "f", "user.nullval", xbuf, sizeof xbuf));
    SHOW(syscall(SYS_setxattr, "f", "user.bin", "a\0b", 3, 0));
    GET(syscall(SYS_getxattr, "f", "user.bin", xbuf, sizeof xbuf));
    SHOW(syscall(SYS_setxattr, "f", "trusted.x", "root only", 9, 0));
    GET(syscall(SYS_getxattr, "f", "trusted.x", xbuf, sizeof xbuf));
    /* names and values out of range */
    SHOW(syscall(SYS_setxattr, "f", "test", "x", 1, 0));
    SHOW(syscall(SYS_setxattr, "f", "user.", "x", 1, 0));
    SHOW(syscall(SYS_setxattr, "f", "", "x", 1, 0));
    SHOW(syscall(SYS_setxattr, "f", "nonsense.x", "x", 1, 0));
    strcpy(name, "user.");
    memset(name + 5, 'n', 250);
    name[255] = 0;
    SHOW(syscall(SYS_setxattr, "f", name, "x", 1, 0));
    SHOW(syscall(SYS_removexattr, "f", name));
    name[255] = 'n';
    name[256] = 0;
    SHOW(syscall(SYS_setxattr, "f", name, "x", 1, 0));
    SHOW(syscall(SYS_getxattr, "f", name, xbuf, sizeof xbuf));
    SHOW(syscall(SYS_setxattr, "f", "user.big", big, sizeof big, 0));
    SHOW(syscall(SYS_setxattr, "f", "user.x", BADPTR, 1, 0));
    SHOW(syscall(SYS_setxattr, "f", BADPTR, "x", 1, 0));
    SHOW(syscall(SYS_setxattr, BADPTR, "user.x", "x", 1, 0));
    SHOW(syscall(SYS_setxattr, "missing", "user.x", "x", 1, 0));
    SHOW(syscall(SYS_getxattr, "f", "user.test", BADPTR, sizeof xbuf));
    SHOW(syscall(SYS_getxattr, "missing", "user.test", xbuf, sizeof xbuf));
    SHOW(syscall(SYS_getxattr, "f", "user.missing", xbuf, sizeof xbuf));
    SHOW(syscall(SYS_getxattr, "f", "test", xbuf, sizeof xbuf));
    /* listing */
    LIST(syscall(SYS_listxattr, "f", xbuf, sizeof xbuf));
    /* the size needed; other namespaces (security.*) may add to it */
    long n = OK(syscall(SYS_listxattr, "f", NULL, 0));
    CHECK(n == syscall(SYS_listxattr, "f", xbuf, sizeof xbuf));
    CHECK(n >= (long)strlen("user.test user.empty user.nullval user.bin trusted.x "));
    SHOW(syscall(SYS_listxattr, "f", xbuf, 3));
    SHOW(syscall(SYS_listxattr, "f", BADPTR, sizeof xbuf));
    SHOW(syscall(SYS_listxattr, "missing", xbuf, sizeof xbuf));
    LIST(syscall(SYS_llistxattr, "sl", xbuf, sizeof xbuf));
    LIST(syscall(SYS_listxattr, "sl", xbuf, sizeof xbuf));
    /* symlinks, descriptors, directories, fifos */
    SHOW(syscall(SYS_lsetxattr, "sl", "user.test", "link", 4, 0));
    SHOW(syscall(SYS_lsetxattr, "sl", "trusted.link", "link", 4, 0));
    GET(syscall(SYS_lgetxattr, "sl", "trusted.link", xbuf, sizeof xbuf));
    GET(syscall(SYS_getxattr, "sl", "trusted.link", xbuf, sizeof xbuf));
    SHOW(syscall(SYS_lremovexattr, "sl", "trusted.link"));
    SHOW(syscall(SYS_lsetxattr, "f", "user.viaL", "L", 1, 0));
    GET(syscall(SYS_getxattr, "sl", "user.viaL", xbuf, sizeof xbuf));
    long fd = SHOW(syscall(SYS_open, "f", O_RDONLY));
    SHOW(syscall(SYS_fsetxattr, fd, "user.viaF", "F", 1, 0));
    GET(syscall(SYS_fgetxattr, fd, "user.viaF", xbuf, sizeof xbuf));
    LIST(syscall(SYS_flistxattr, fd, xbuf, sizeof xbuf));
    SHOW(syscall(SYS_fremovexattr, fd, "user.viaF"));
    SHOW(syscall(SYS_fremovexattr, fd, "user.viaF"));
    SHOW(syscall(SYS_fsetxattr, BADFD, "user.x", "x", 1, 0));
    SHOW(syscall(SYS_fgetxattr, BADFD, "user.x", xbuf, sizeof xbuf));
    long pfd = SHOW(syscall(SYS_open, "f", O_PATH));
    SHOW(syscall(SYS_fsetxattr, pfd, "user.x", "x", 1, 0));
    SHOW(syscall(SYS_fgetxattr, pfd, "user.test", xbuf, sizeof xbuf));
    SHOW(close(pfd));
    SHOW(syscall(SYS_setxattr, "d", "user.dir", "dir", 3, 0));
    GET(syscall(SYS_getxattr, "d", "user.dir", xbuf, sizeof xbuf));
    SHOW(syscall(SYS_removexattr, "d", "user.dir"));
    SHOW(syscall(SYS_mknod, "fifo", S_IFIFO | 0666, 0));
    SHOW(syscall(SYS_setxattr, "fifo", "user.x", "x", 1, 0));
    SHOW(syscall(SYS_setxattr, "fifo", "trusted.x", "x", 1, 0));
    SHOW(syscall(SYS_unlink, "fifo"));
    /* a user who is not the owner */
    SHOW(syscall(SYS_chown, "f", 0, 0));
    SHOW(syscall(SYS_chmod, "f", 0644));
    AS_USER({
        GET(syscall(SYS_getxattr, "f", "user.test", xbuf, sizeof xbuf));
        GET(syscall(SYS_getxattr, "f", "trusted.x", xbuf, sizeof xbuf));
        LIST(syscall(SYS_listxattr, "f", xbuf, sizeof xbuf));
        SHOW(syscall(SYS_setxattr, "f", "user.test", "u", 1, 0));
        SHOW(syscall(SYS_setxattr, "f", "trusted.x", "u", 1, 0));
        SHOW(syscall(SYS_removexattr, "f", "user.test"));
        SHOW(syscall(SYS_removexattr, "f", "trusted.x"));
        SHOW(syscall(SYS_setxattr, "mine", "user.mine", "m", 1, 0));
        SHOW(syscall(SYS_setxattr, "mine", "trusted.mine", "m", 1, 0));
        GET(syscall(SYS_getxattr, "mine", "user.mine", xbuf, sizeof xbuf));
    });
    GET(syscall(SYS_getxattr, "mine", "user.mine", xbuf, sizeof xbuf));
    /* removal */
    SHOW(syscall(SYS_removexattr, "f", "user.test"));
    SHOW(syscall(SYS_getxattr, "f", "user.test", xbuf, sizeof xbuf));
    SHOW(syscall(SYS_removexattr, "f", "user.test"));
    SHOW(syscall(SYS_removexattr, "f", "trusted.x"));
    SHOW(syscall(SYS_removexattr, "f", "test"));
    SHOW(syscall(SYS_removexattr, "missing", "user.test"));
    SHOW(syscall(SYS_removexattr, "f", BADPTR));
    LIST(syscall(SYS_listxattr, "f", xbuf, sizeof xbuf));
    SHOW(close(fd));
}

static void test_statfs(void)
{
    struct statfs sf;
    printf("-- statfs\n");
    OK(syscall(SYS_statfs, ".", &sf));
    CHECK(sf.f_bsize > 0 && sf.f_namelen == 255);
    long fd = SHOW(syscall(SYS_open, "f", O_RDONLY));
    OK(syscall(SYS_fstatfs, fd, &sf));
    SHOW(syscall(SYS_fstatfs, fd, BADPTR));
    SHOW(syscall(SYS_statfs, "missing", &sf));
    SHOW(syscall(SYS_statfs, "f/", &sf));
    SHOW(close(fd));
}

int main(void)
{
    enter_tmpdir();
    test_chmod();
    test_chown();
    test_utimes();
    test_permissions();
    test_setgid_dir();
    test_xattr();
    test_statfs();
    SHOW(syscall(SYS_unlink, "f"));
    SHOW(syscall(SYS_unlink, "sl"));
    SHOW(syscall(SYS_unlink, "mine"));
    SHOW(syscall(SYS_rmdir, "d"));
    leave_tmpdir();
    return 0;
}
