/* getdents64, getcwd, chdir, fchdir.
 *
 * Directory listings are sorted before printing (the order getdents64
 * returns entries in is filesystem-specific); d_ino and d_off are not
 * printed.  The initial working directory is never printed. */
#include "common.h"
#include <dirent.h>
#include <stddef.h>

struct linux_dirent64 {
    uint64_t d_ino;
    int64_t d_off;
    unsigned short d_reclen;
    unsigned char d_type;
    char d_name[];
};

#define MAXENT 4096
static char *names[MAXENT];
static int nnames;

static int cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static char dtype(unsigned char t)
{
    switch (t) {
    case DT_REG: return 'f';
    case DT_DIR: return 'd';
    case DT_LNK: return 'l';
    case DT_CHR: return 'c';
    case DT_BLK: return 'b';
    case DT_FIFO: return 'p';
    case DT_SOCK: return 's';
    case DT_UNKNOWN: return '?';
    default: return '!';
    }
}

/* Read the whole directory with a buffer of bufsize bytes; collect
 * "type name" strings.  Returns the number of entries or -1. */
static long slurp(int fd, size_t bufsize)
{
    static char buf[65536];
    long n;
    int bad_reclen = 0;

    for (int i = 0; i < nnames; i++)
        free(names[i]);
    nnames = 0;
    while ((n = syscall(SYS_getdents64, fd, buf, bufsize)) > 0) {
        for (long off = 0; off < n;) {
            struct linux_dirent64 *d = (void *)(buf + off);
            if (d->d_reclen == 0 || d->d_reclen % 8 != 0 ||
                d->d_reclen < offsetof(struct linux_dirent64, d_name) + strlen(d->d_name) + 1)
                bad_reclen = 1;
            if (nnames < MAXENT) {
                char *s = malloc(strlen(d->d_name) + 3);
                sprintf(s, "%c %s", dtype(d->d_type), d->d_name);
                names[nnames++] = s;
            }
            off += d->d_reclen ? d->d_reclen : n;
        }
    }
    if (n == -1)
        return -1;
    if (bad_reclen)
        printf("bad d_reclen seen\n");
    qsort(names, nnames, sizeof *names, cmp);
    return nnames;
}

static int unique_names(void)
{
    for (int i = 1; i < nnames; i++)
        if (strcmp(names[i - 1], names[i]) == 0)
            return 0;
    return 1;
}

static void list_dir(const char *path, int print)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        printf("%s: missing, skipped\n", path);
        return;
    }
    int fd = open(path, O_RDONLY | O_DIRECTORY);
    long n = slurp(fd, 65536);
    if (n == -1) {
        printf("getdents64 %s = -1 %s\n", path, errname(errno));
        close(fd);
        return;
    }
    printf("%s: %s entries\n", path, print ? "listing" : "counting");
    if (print)
        for (int i = 0; i < nnames; i++)
            printf("  %s\n", names[i]);
    CHECK(unique_names());
    int has_dot = 0, has_dotdot = 0;
    for (int i = 0; i < nnames; i++) {
        has_dot |= strcmp(names[i], "d .") == 0;
        has_dotdot |= strcmp(names[i], "d ..") == 0;
    }
    CHECK(has_dot && has_dotdot);
    /* at EOF: 0, again */
    char buf[4096];
    SHOW(syscall(SYS_getdents64, fd, buf, sizeof buf));
    /* rewinding gives the same entries; so do small buffers */
    SHOW(lseek(fd, 0, SEEK_SET));
    long n2 = slurp(fd, 300);
    CHECK(n2 == n);
    SHOW(lseek(fd, 0, SEEK_SET));
    n2 = slurp(fd, 4096);
    CHECK(n2 == n);
    close(fd);
}

static void test_getdents64(void)
{
    char buf[4096];

    printf("-- getdents64\n");
    list_dir("/etc/skel", 1);
    list_dir("/usr/share/misc", 1);
    list_dir("/etc", 1);
    list_dir("/usr/bin", 0);

    long etc = SHOW(open("/etc", O_RDONLY | O_DIRECTORY));
    long file = SHOW(open("/etc/passwd", O_RDONLY));
    long path = SHOW(open("/etc", O_PATH));
    SHOW(syscall(SYS_getdents64, etc, buf, 0));
    SHOW(syscall(SYS_getdents64, etc, buf, 1));
    SHOW(syscall(SYS_getdents64, etc, buf, 23));
    SHOW(syscall(SYS_getdents64, etc, BADPTR, sizeof buf));
    SHOW(syscall(SYS_getdents64, etc, NULL, sizeof buf));
    SHOW(syscall(SYS_getdents64, file, buf, sizeof buf));
    SHOW(syscall(SYS_getdents64, path, buf, sizeof buf));
    SHOW(syscall(SYS_getdents64, BADFD, buf, sizeof buf));
    SHOW(syscall(SYS_getdents64, -1, buf, sizeof buf));
    long null = SHOW(open("/dev/null", O_RDONLY));
    SHOW(syscall(SYS_getdents64, null, buf, sizeof buf));
    SHOW(close(null));
    /* the errors above did not consume anything */
    CHECK(slurp(etc, sizeof buf) > 2);
    SHOW(close(path));
    SHOW(close(file));
    SHOW(close(etc));
}

static void show_cwd(const char *label)
{
    char buf[4096];
    memset(buf, '#', sizeof buf);
    long r = syscall(SYS_getcwd, buf, sizeof buf);
    if (r == -1)
        printf("%s: getcwd = -1 %s\n", label, errname(errno));
    else
        printf("%s: getcwd = %ld \"%s\"%s\n", label, r, buf,
               r > 0 && buf[r - 1] == 0 ? "" : " (no NUL at r-1)");
}

#define CD(call) do { show_(#call, (long)(call)); show_cwd(#call); } while (0)

static void test_chdir_getcwd(void)
{
    char buf[64];

    printf("-- chdir/getcwd\n");
    CD(chdir("/usr/bin"));
    CD(chdir("/"));
    CD(chdir("/bin"));
    CD(chdir("/etc/../usr/./bin/"));
    CD(chdir("//usr//"));
    CD(chdir("/usr"));
    CD(chdir("bin"));
    CD(chdir(".."));
    CD(chdir("../.."));
    CD(chdir(".."));
    CD(chdir("/dev"));
    CD(chdir("/usr/bin"));
    /* errors leave the cwd alone */
    CD(chdir("/nonexistent"));
    CD(chdir("/etc/passwd"));
    CD(chdir("/etc/passwd/"));
    CD(chdir("/etc/passwd/x"));
    CD(chdir("/dev/null"));
    CD(chdir(""));
    CD(chdir(BADPTR));
    CD(chdir(NULL));
    CD(chdir(long_path()));
    CD(chdir(long_name()));

    /* getcwd buffer sizes: "/usr/bin" needs 9 bytes */
    memset(buf, '#', sizeof buf);
    SHOW(syscall(SYS_getcwd, buf, 9));
    printf("buf = \"%s\"\n", buf);
    SHOW(syscall(SYS_getcwd, buf, 8));
    SHOW(syscall(SYS_getcwd, buf, 1));
    SHOW(syscall(SYS_getcwd, buf, 0));
    SHOW(syscall(SYS_getcwd, NULL, 0));
    SHOW(syscall(SYS_getcwd, NULL, 64));
    SHOW(syscall(SYS_getcwd, BADPTR, 64));
    SHOW(syscall(SYS_getcwd, buf, (size_t)-1));
    SHOW(chdir("/"));
    SHOW(syscall(SYS_getcwd, buf, 2));
    printf("buf = \"%s\"\n", buf);
    SHOW(syscall(SYS_getcwd, buf, 1));

    printf("-- fchdir\n");
    long etc = SHOW(open("/etc", O_RDONLY | O_DIRECTORY));
    long usr = SHOW(open("/usr", O_PATH));
    long bin = SHOW(open("/bin", O_RDONLY));
    long lnk = SHOW(open("/bin", O_PATH | O_NOFOLLOW));
    long file = SHOW(open("/etc/passwd", O_RDONLY));
    long null = SHOW(open("/dev/null", O_RDONLY));
    CD(fchdir(etc));
    CD(fchdir(usr));
    CD(fchdir(bin));
    CD(fchdir(lnk));
    CD(fchdir(file));
    CD(fchdir(null));
    CD(fchdir(BADFD));
    CD(fchdir(-1));
    CD(fchdir(AT_FDCWD));
    SHOW(close(etc));
    CD(fchdir(etc));
    /* the cwd survives closing the descriptor it came from */
    CD(fchdir(usr));
    SHOW(close(usr));
    CD(chdir("lib/.."));
    SHOW(close(bin));
    SHOW(close(lnk));
    SHOW(close(file));
    SHOW(close(null));
}

int main(void)
{
    test_getdents64();
    test_chdir_getcwd();
    return 0;
}
