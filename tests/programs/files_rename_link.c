/* Names of files in a fresh directory under /tmp: link/linkat (nlink,
 * AT_SYMLINK_FOLLOW, AT_EMPTY_PATH), symlink/symlinkat + readlink/readlinkat,
 * rename/renameat/renameat2 (file/dir replacement rules, RENAME_NOREPLACE,
 * RENAME_EXCHANGE, RENAME_WHITEOUT, ".", "..", trailing slashes), open
 * descriptors and /proc/self/fd links across a rename, and a non-root user
 * (uid 1000) in a sticky directory. */
#include "common.h"
#include "workdir.h"
#include <dirent.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE (1 << 0)
#define RENAME_EXCHANGE (1 << 1)
#define RENAME_WHITEOUT (1 << 2)
#endif



static struct stat st;
#define STAT(path) do { memset(&st, 0xa5, sizeof st); \
    long r_ = syscall(SYS_stat, path, &st); print_stat("stat(" #path ")", r_, &st); } while (0)
#define LSTAT(path) do { memset(&st, 0xa5, sizeof st); \
    long r_ = syscall(SYS_lstat, path, &st); print_stat("lstat(" #path ")", r_, &st); } while (0)
#define FSTAT(fd) do { memset(&st, 0xa5, sizeof st); \
    long r_ = syscall(SYS_fstat, fd, &st); print_stat("fstat(" #fd ")", r_, &st); } while (0)

static int cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted listing; '/' marks directories, '@' symlinks, '%' devices. */
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
            if (n < 64 && strcmp(name, ".") && strcmp(name, "..")) {
                names[n] = malloc(strlen(name) + 3);
                sprintf(names[n++], "%s%s", name,
                        type == DT_DIR ? "/" : type == DT_LNK ? "@" :
                        type == DT_CHR ? "%" : type == DT_REG ? "" : "?");
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

static void cat(const char *path)
{
    char buf[256];
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        printf("cat %s: open = -1 %s\n", path, errname(errno));
        return;
    }
    long r = read(fd, buf, sizeof buf);
    printf("cat %s: \"%.*s\"\n", path, (int)(r > 0 ? r : 0), buf);
    close(fd);
}

static void put(const char *path, const char *text)
{
    int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0644);
    if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
        printf("put %s failed: %s\n", path, errname(errno));
    close(fd);
}

static void show_link(const char *label, long r, const char *buf)
{
    if (r == -1)
        printf("%s = -1 %s\n", label, errname(errno));
    else
        printf("%s = %ld \"%.*s\"\n", label, r, (int)(r < 80 ? r : 80), buf);
}

static char lbuf[8192];
#define READLINK(path, size) do { memset(lbuf, '#', sizeof lbuf); \
    long r_ = syscall(SYS_readlink, path, lbuf, size); \
    show_link("readlink(" #path ", " #size ")", r_, lbuf); } while (0)

static int same_inode(const char *a, const char *b)
{
    struct stat sa, sb;
    return stat(a, &sa) == 0 && stat(b, &sb) == 0 &&
           sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

static void test_link(void)
{
    printf("-- link/linkat\n");
    put("f", "file f");
    SHOW(syscall(SYS_mkdir, "d", 0755));
    SHOW(syscall(SYS_link, "f", "h"));
    STAT("f");
    STAT("h");
    CHECK(same_inode("f", "h"));
    SHOW(syscall(SYS_link, "f", "d/h2"));
    STAT("f");
    SHOW(syscall(SYS_link, "f", "h"));
    SHOW(syscall(SYS_link, "f", "d"));
    SHOW(syscall(SYS_link, "d", "dlink"));
    SHOW(syscall(SYS_link, "missing", "x"));
    SHOW(syscall(SYS_link, "f", "nodir/x"));
    SHOW(syscall(SYS_link, "f/", "x"));
    SHOW(syscall(SYS_link, "f", "x/"));
    SHOW(syscall(SYS_link, "f", "f/x"));
    SHOW(syscall(SYS_link, "", "x"));
    SHOW(syscall(SYS_link, "f", ""));
    SHOW(syscall(SYS_link, BADPTR, "x"));
    SHOW(syscall(SYS_link, "f", BADPTR));
    SHOW(syscall(SYS_link, long_path(), "x"));
    SHOW(syscall(SYS_link, "f", long_name() + 5));
    SHOW(syscall(SYS_link, ".", "x"));
    SHOW(syscall(SYS_access, "x", F_OK));

    SHOW(syscall(SYS_symlink, "f", "sl"));
    SHOW(syscall(SYS_symlink, "missing", "dangling"));
    SHOW(syscall(SYS_linkat, AT_FDCWD, "sl", AT_FDCWD, "l_nofollow", 0));
    LSTAT("l_nofollow");
    LSTAT("sl");
    SHOW(syscall(SYS_linkat, AT_FDCWD, "sl", AT_FDCWD, "l_follow", AT_SYMLINK_FOLLOW));
    LSTAT("l_follow");
    CHECK(same_inode("l_follow", "f"));
    SHOW(syscall(SYS_linkat, AT_FDCWD, "dangling", AT_FDCWD, "l_dangling", AT_SYMLINK_FOLLOW));
    SHOW(syscall(SYS_linkat, AT_FDCWD, "dangling", AT_FDCWD, "l_dangling", 0));
    LSTAT("l_dangling");
    SHOW(syscall(SYS_linkat, AT_FDCWD, "f", AT_FDCWD, "x", 0x1));
    SHOW(syscall(SYS_linkat, AT_FDCWD, "f", AT_FDCWD, "x", AT_SYMLINK_NOFOLLOW));
    long dfd = SHOW(syscall(SYS_open, "d", O_RDONLY | O_DIRECTORY));
    long ffd = SHOW(syscall(SYS_open, "f", O_RDONLY));
    long pfd = SHOW(syscall(SYS_open, "f", O_PATH));
    SHOW(syscall(SYS_linkat, dfd, "h2", AT_FDCWD, "h3", 0));
    SHOW(syscall(SYS_linkat, AT_FDCWD, "h3", dfd, "h4", 0));
    SHOW(syscall(SYS_linkat, ffd, "", dfd, "empty1", AT_EMPTY_PATH));
    SHOW(syscall(SYS_linkat, pfd, "", dfd, "empty2", AT_EMPTY_PATH));
    SHOW(syscall(SYS_linkat, ffd, "", dfd, "empty3", 0));
    SHOW(syscall(SYS_linkat, dfd, "", AT_FDCWD, "empty4", AT_EMPTY_PATH));
    SHOW(syscall(SYS_linkat, BADFD, "", AT_FDCWD, "empty5", AT_EMPTY_PATH));
    SHOW(syscall(SYS_linkat, BADFD, "f", AT_FDCWD, "x", 0));
    SHOW(syscall(SYS_linkat, AT_FDCWD, "f", BADFD, "x", 0));
    SHOW(syscall(SYS_linkat, ffd, "x", AT_FDCWD, "x", 0));
    SHOW(syscall(SYS_linkat, AT_FDCWD, "f", ffd, "x", 0));
    STAT("f");
    listing("d");
    /* an unlinked file cannot get a name again (except O_TMPFILE) */
    put("gone", "gone");
    long gfd = SHOW(syscall(SYS_open, "gone", O_RDONLY));
    SHOW(syscall(SYS_unlink, "gone"));
    SHOW(syscall(SYS_linkat, gfd, "", AT_FDCWD, "back", AT_EMPTY_PATH));
    SHOW(close(gfd));
    SHOW(close(pfd));
    SHOW(close(ffd));
    SHOW(close(dfd));
    /* removing links */
    const char *names[] = {"h", "d/h2", "h3", "d/h4", "d/empty1", "d/empty2", "l_follow"};
    for (unsigned i = 0; i < sizeof names / sizeof *names; i++)
        SHOW(syscall(SYS_unlink, names[i]));
    STAT("f");
    SHOW(syscall(SYS_unlink, "l_nofollow"));
    SHOW(syscall(SYS_unlink, "l_dangling"));
    SHOW(syscall(SYS_unlink, "dangling"));
    listing(".");
}

static void test_symlink(void)
{
    static char target[5000];
    printf("-- symlink/symlinkat/readlink\n");
    SHOW(syscall(SYS_symlink, "../some/where else", "s1"));
    READLINK("s1", sizeof lbuf);
    CHECK(lbuf[18] == '#');
    LSTAT("s1");
    READLINK("s1", 4);
    READLINK("s1", 0);
    READLINK("s1", -1);
    READLINK("sl", sizeof lbuf);
    READLINK("sl/", sizeof lbuf);
    READLINK("f", sizeof lbuf);
    READLINK("d", sizeof lbuf);
    READLINK("missing", sizeof lbuf);
    READLINK("s1/x", sizeof lbuf);
    READLINK(BADPTR, sizeof lbuf);
    SHOW(syscall(SYS_readlink, "s1", BADPTR, 64));
    SHOW(syscall(SYS_symlink, "", "s_empty"));
    SHOW(syscall(SYS_symlink, "x", ""));
    SHOW(syscall(SYS_symlink, "x", "s1"));
    SHOW(syscall(SYS_symlink, "x", "f"));
    SHOW(syscall(SYS_symlink, "x", "d"));
    SHOW(syscall(SYS_symlink, "x", "nodir/s"));
    SHOW(syscall(SYS_symlink, "x", "f/s"));
    SHOW(syscall(SYS_symlink, "x", "s2/"));
    SHOW(syscall(SYS_symlink, BADPTR, "s2"));
    SHOW(syscall(SYS_symlink, "x", BADPTR));
    SHOW(syscall(SYS_symlink, "x", long_name() + 5));
    SHOW(syscall(SYS_symlink, "x", long_path()));
    /* the target is not looked up: any bytes, up to PATH_MAX-1 */
    memset(target, 't', sizeof target);
    target[4095] = 0;
    SHOW(syscall(SYS_symlink, target, "s_long"));
    LSTAT("s_long");
    READLINK("s_long", sizeof lbuf);
    CHECK(memcmp(lbuf, target, 4095) == 0);
    SHOW(syscall(SYS_open, "s_long", O_RDONLY));
    target[4095] = 't';
    target[4096] = 0;
    SHOW(syscall(SYS_symlink, target, "s_toolong"));
    SHOW(syscall(SYS_symlink, long_name(), "s_name"));   /* long component: fine */
    LSTAT("s_name");
    SHOW(syscall(SYS_open, "s_name", O_RDONLY));
    SHOW(syscall(SYS_symlink, "/nonexistent/x", "s_abs"));
    READLINK("s_abs", sizeof lbuf);
    SHOW(syscall(SYS_open, "s_abs", O_RDONLY));

    long dfd = SHOW(syscall(SYS_open, "d", O_RDONLY | O_DIRECTORY));
    long ffd = SHOW(syscall(SYS_open, "f", O_RDONLY));
    SHOW(syscall(SYS_symlinkat, "../f", dfd, "up"));
    cat("d/up");
    SHOW(syscall(SYS_symlinkat, "../f", dfd, "up"));
    SHOW(syscall(SYS_symlinkat, "f", AT_FDCWD, "s3"));
    cat("s3");
    SHOW(syscall(SYS_symlinkat, "f", BADFD, "s4"));
    SHOW(syscall(SYS_symlinkat, "f", BADFD, "/nonexistent/s4"));
    SHOW(syscall(SYS_symlinkat, "f", ffd, "s4"));
    memset(lbuf, '#', sizeof lbuf);
    long r = syscall(SYS_readlinkat, dfd, "up", lbuf, sizeof lbuf);
    show_link("readlinkat(dfd, \"up\")", r, lbuf);
    long lfd = SHOW(syscall(SYS_open, "d/up", O_PATH | O_NOFOLLOW));
    r = syscall(SYS_readlinkat, lfd, "", lbuf, sizeof lbuf);
    show_link("readlinkat(lfd, \"\")", r, lbuf);
    r = syscall(SYS_readlinkat, ffd, "", lbuf, sizeof lbuf);
    show_link("readlinkat(ffd, \"\")", r, lbuf);
    r = syscall(SYS_readlinkat, BADFD, "up", lbuf, sizeof lbuf);
    show_link("readlinkat(BADFD, \"up\")", r, lbuf);
    SHOW(close(lfd));
    SHOW(close(ffd));
    SHOW(close(dfd));
    /* a chain of links, and a loop */
    SHOW(syscall(SYS_symlink, "s3", "s5"));
    cat("s5");
    SHOW(syscall(SYS_symlink, "loop_b", "loop_a"));
    SHOW(syscall(SYS_symlink, "loop_a", "loop_b"));
    SHOW(syscall(SYS_open, "loop_a", O_RDONLY));
    SHOW(syscall(SYS_stat, "loop_a/x", &st));
    READLINK("loop_a", sizeof lbuf);
    SHOW(syscall(SYS_symlink, "self", "self"));
    SHOW(syscall(SYS_open, "self", O_RDONLY));
    listing(".");
    const char *names[] = {"s1", "s_long", "s_name", "s_abs", "d/up", "s3", "s5",
                           "loop_a", "loop_b", "self"};
    for (unsigned i = 0; i < sizeof names / sizeof *names; i++)
        SHOW(syscall(SYS_unlink, names[i]));
}

static void test_rename(void)
{
    printf("-- rename: files\n");
    put("r1", "one");
    put("r2", "two");
    SHOW(syscall(SYS_rename, "r1", "r2"));
    cat("r2");
    SHOW(syscall(SYS_access, "r1", F_OK));
    SHOW(syscall(SYS_rename, "r2", "r2"));
    cat("r2");
    SHOW(syscall(SYS_link, "r2", "r2h"));
    SHOW(syscall(SYS_rename, "r2", "r2h"));   /* same inode: nothing happens */
    listing(".");
    STAT("r2");
    SHOW(syscall(SYS_unlink, "r2h"));
    SHOW(syscall(SYS_rename, "r2", "d/r3"));
    cat("d/r3");
    SHOW(syscall(SYS_rename, "d/r3", "r3"));
    SHOW(syscall(SYS_rename, "missing", "x"));
    SHOW(syscall(SYS_rename, "r3", "nodir/x"));
    SHOW(syscall(SYS_rename, "r3", "f/x"));
    SHOW(syscall(SYS_rename, "r3", "x/"));
    SHOW(syscall(SYS_rename, "r3/", "x"));
    SHOW(syscall(SYS_rename, "r3", "f/"));
    SHOW(syscall(SYS_rename, "", "x"));
    SHOW(syscall(SYS_rename, "r3", ""));
    SHOW(syscall(SYS_rename, BADPTR, "x"));
    SHOW(syscall(SYS_rename, "r3", BADPTR));
    SHOW(syscall(SYS_rename, long_path(), "x"));
    SHOW(syscall(SYS_rename, "r3", long_name() + 5));
    SHOW(syscall(SYS_rename, "r3", "d"));
    SHOW(syscall(SYS_rename, "d", "r3"));
    /* a symlink is renamed, not its target */
    SHOW(syscall(SYS_rename, "sl", "sl2"));
    LSTAT("sl2");
    READLINK("sl2", sizeof lbuf);
    SHOW(syscall(SYS_rename, "sl2", "sl"));
    listing(".");

    printf("-- rename: directories\n");
    put("d/keep", "keep");
    SHOW(syscall(SYS_mkdir, "e", 0755));
    SHOW(syscall(SYS_mkdir, "d/sub", 0700));
    put("d/sub/inner", "inner");
    STAT("d");
    STAT("e");
    SHOW(syscall(SYS_rename, "d/sub", "e/sub"));
    STAT("d");
    STAT("e");
    STAT("e/sub");
    cat("e/sub/inner");
    SHOW(syscall(SYS_rename, "e/sub/", "e/sub2/"));
    SHOW(syscall(SYS_rename, "e/sub2", "e/sub2/deeper"));
    SHOW(syscall(SYS_rename, "e", "e/sub2/deeper"));
    SHOW(syscall(SYS_rename, "e", "e/sub2/inner"));
    SHOW(syscall(SYS_rename, "e/sub2", "e"));
    SHOW(syscall(SYS_rename, "e/sub2", "."));
    SHOW(syscall(SYS_rename, "e/sub2", ".."));
    SHOW(syscall(SYS_rename, ".", "x"));
    SHOW(syscall(SYS_rename, "..", "x"));
    SHOW(syscall(SYS_rename, "e/.", "x"));
    SHOW(syscall(SYS_rename, "e/..", "x"));
    SHOW(syscall(SYS_rename, "r3", "."));
    SHOW(syscall(SYS_rename, "e/sub2", "d"));       /* d is not empty */
    SHOW(syscall(SYS_rename, "e/sub2", "d/keep"));
    SHOW(syscall(SYS_rename, "d/keep", "e/sub2"));
    SHOW(syscall(SYS_rename, "d/keep", "e/sub2/"));
    SHOW(syscall(SYS_mkdir, "empty", 0711));
    SHOW(syscall(SYS_rename, "e/sub2", "empty"));    /* over an empty dir */
    STAT("e");
    STAT("empty");
    cat("empty/inner");
    SHOW(syscall(SYS_rename, "empty", "empty"));
    SHOW(syscall(SYS_rename, "empty", "empty/"));
    SHOW(syscall(SYS_rename, "empty", "empty/inner"));
    SHOW(syscall(SYS_rename, "empty/inner", "empty/inner/"));
    SHOW(syscall(SYS_rename, "empty/", "e/moved"));
    STAT("e");
    STAT("e/moved");
    listing(".");
    listing("e");

    printf("-- renameat\n");
    long dfd = SHOW(syscall(SYS_open, "d", O_RDONLY | O_DIRECTORY));
    long efd = SHOW(syscall(SYS_open, "e", O_RDONLY | O_DIRECTORY));
    SHOW(syscall(SYS_renameat, efd, "moved", dfd, "back"));
    listing("d");
    SHOW(syscall(SYS_renameat, dfd, "back", AT_FDCWD, "e/moved"));
    SHOW(syscall(SYS_renameat, BADFD, "moved", dfd, "x"));
    SHOW(syscall(SYS_renameat, efd, "moved", BADFD, "x"));
    SHOW(syscall(SYS_renameat, BADFD, "/nonexistent/x", dfd, "x"));
    long ffd = SHOW(syscall(SYS_open, "f", O_RDONLY));
    SHOW(syscall(SYS_renameat, ffd, "x", dfd, "x"));
    SHOW(syscall(SYS_renameat, efd, "", dfd, "x"));

    printf("-- renameat2\n");
    put("n1", "n1");
    put("n2", "n2");
    SHOW(syscall(SYS_renameat2, AT_FDCWD, "n1", AT_FDCWD, "n2", RENAME_NOREPLACE));
    SHOW(syscall(SYS_renameat2, AT_FDCWD, "n1", AT_FDCWD, "e", RENAME_NOREPLACE));
    SHOW(syscall(SYS_renameat2, AT_FDCWD, "n1", AT_FDCWD, "n3", RENAME_NOREPLACE));
    SHOW(syscall(SYS_renameat2, AT_FDCWD, "n3", AT_FDCWD, "n3", RENAME_NOREPLACE));
    SHOW(syscall(SYS_renameat2, AT_FDCWD, "missing", AT_FDCWD, "n2", RENAME_NOREPLACE));
    SHOW(syscall(SYS_renameat2, AT_FDCWD, "n3", AT_FDCWD, "n1", 0));
    /* exchange a file and a directory in the same directory */
    SHOW(syscall(SYS_renameat2, AT_FDCWD, "n1", AT_FDCWD, "e", RENAME_EXCHANGE));
    LSTAT("n1");
    LSTAT("e");
    cat("e");
    cat("n1/moved/inner");
    SHOW(syscall(SYS_renameat2, AT_FDCWD, "e", AT_FDCWD, "n1", RENAME_EXCHANGE));
    LSTAT("n1");
    LSTAT("e");
    /* ... and across directories: the parents' link counts follow */
    STAT(".");
    STAT("d");
    SHOW(syscall(SYS_renameat2, dfd, "keep", AT_FDCWD, "e", RENAME_EXCHANGE));
    STAT(".");
    STAT("d");
    LSTAT("e");
    LSTAT("d/keep");
    cat("d/keep/moved/inner");
    SHOW(syscall(SYS_renameat2, dfd, "keep", efd, "..", RENAME_EXCHANGE));
    SHOW(syscall(SYS_renameat2, dfd, "keep", AT_FDCWD, "e", RENAME_EXCHANGE));
    STAT(".");
    STAT("d");
    cat("d/keep");
    SHOW(syscall(SYS_renameat2, AT_FDCWD, "e", AT_FDCWD, "e", RENAME_EXCHANGE));
    SHOW(syscall(SYS_renameat2, AT_FDCWD, "e", AT_FDCWD, "e/moved", RENAME_EXCHANGE));
    SHOW(syscall(SYS_renameat2, AT_FDCWD, "e/moved", AT_FDCWD, "e", RENAME_EXCHANGE));
    SHOW(syscall(SYS_renameat2, AT_FDCWD, "n2", AT_FDCWD, "missing", RENAME_EXCHANGE));
    SHOW(syscall(SYS_renameat2, AT_FDCWD, "missing", AT_FDCWD, "n2", RENAME_EXCHANGE));
    SHOW(syscall(SYS_renameat2, AT_FDCWD, "n2", AT_FDCWD, "r3",
                 RENAME_NOREPLACE | RENAME_EXCHANGE));
    SHOW(syscall(SYS_renameat2, AT_FDCWD, "n2", AT_FDCWD, "r3",
                 RENAME_WHITEOUT | RENAME_EXCHANGE));
    SHOW(syscall(SYS_renameat2, AT_FDCWD, "n2", AT_FDCWD, "r3", 1 << 3));
    SHOW(syscall(SYS_renameat2, AT_FDCWD, "n2", AT_FDCWD, "r3", -1));
    SHOW(syscall(SYS_renameat2, BADFD, "n2", AT_FDCWD, "r3", RENAME_EXCHANGE));
    SHOW(syscall(SYS_renameat2, AT_FDCWD, "n2", AT_FDCWD, "r3/", RENAME_EXCHANGE));
    SHOW(syscall(SYS_renameat2, AT_FDCWD, "n2", AT_FDCWD, "r3", RENAME_EXCHANGE));
    cat("n2");
    cat("r3");
    SHOW(syscall(SYS_renameat2, AT_FDCWD, "n2", AT_FDCWD, "r3", 0));
    SHOW(syscall(SYS_unlink, "n1"));
    /* RENAME_WHITEOUT leaves a 0:0 character device behind */
    SHOW(syscall(SYS_renameat2, AT_FDCWD, "r3", AT_FDCWD, "w", RENAME_WHITEOUT));
    memset(&st, 0xa5, sizeof st);
    long r = SHOW(syscall(SYS_lstat, "r3", &st));
    if (r == 0)
        printf("whiteout: %s rdev=%u:%u\n", ftype(st.st_mode),
               major(st.st_rdev), minor(st.st_rdev));
    SHOW(syscall(SYS_open, "r3", O_RDONLY));
    cat("w");
    SHOW(syscall(SYS_renameat2, AT_FDCWD, "w", AT_FDCWD, "r3", RENAME_WHITEOUT));
    cat("r3");
    memset(&st, 0xa5, sizeof st);
    r = SHOW(syscall(SYS_lstat, "w", &st));
    if (r == 0)
        printf("whiteout: %s rdev=%u:%u\n", ftype(st.st_mode),
               major(st.st_rdev), minor(st.st_rdev));
    SHOW(syscall(SYS_renameat2, AT_FDCWD, "r3", AT_FDCWD, "w", RENAME_NOREPLACE | RENAME_WHITEOUT));
    SHOW(syscall(SYS_renameat2, AT_FDCWD, "e", AT_FDCWD, "x", RENAME_WHITEOUT));
    LSTAT("e");
    SHOW(syscall(SYS_rename, "x", "e"));           /* a directory over a whiteout */
    SHOW(syscall(SYS_unlink, "e"));
    SHOW(syscall(SYS_rename, "x", "e"));
    SHOW(syscall(SYS_unlink, "w"));
    SHOW(close(ffd));
    SHOW(close(efd));
    SHOW(close(dfd));
    listing(".");
    listing("d");
}

static void test_open_across_rename(void)
{
    char buf[64], link[4096], proc[64];
    printf("-- open descriptors across rename\n");
    put("o1", "original");
    SHOW(syscall(SYS_link, "o1", "o1h"));
    long fd = SHOW(syscall(SYS_open, "o1", O_RDWR));
    SHOW(syscall(SYS_rename, "o1", "d/o2"));
    long n = SHOW(pread(fd, buf, sizeof buf, 0));
    printf("read: \"%.*s\"\n", (int)(n > 0 ? n : 0), buf);
    snprintf(proc, sizeof proc, "/proc/self/fd/%ld", fd);
    n = readlink(proc, link, sizeof link - 1);
    link[n > 0 ? n : 0] = 0;
    printf("fd link basename: %s\n", strrchr(link, '/') ? strrchr(link, '/') + 1 : link);
    CHECK(n > 0 && strstr(link, "/d/o2") != NULL && strcmp(link + n - 5, "/d/o2") == 0);
    SHOW(pwrite(fd, "CHANGED", 7, 0));
    cat("d/o2");
    cat("o1h");
    CHECK(same_inode("d/o2", "o1h"));
    /* renamed over: the old file lives on through the descriptor */
    put("o3", "replacement");
    SHOW(syscall(SYS_rename, "o3", "d/o2"));
    cat("d/o2");
    n = SHOW(pread(fd, buf, sizeof buf, 0));
    printf("read: \"%.*s\"\n", (int)(n > 0 ? n : 0), buf);
    FSTAT(fd);
    n = readlink(proc, link, sizeof link - 1);
    link[n > 0 ? n : 0] = 0;
    printf("fd link basename: %s\n", strrchr(link, '/') ? strrchr(link, '/') + 1 : link);
    SHOW(syscall(SYS_unlink, "o1h"));
    FSTAT(fd);
    n = readlink(proc, link, sizeof link - 1);
    link[n > 0 ? n : 0] = 0;
    printf("fd link basename: %s\n", strrchr(link, '/') ? strrchr(link, '/') + 1 : link);
    SHOW(close(fd));
    /* a directory descriptor follows its directory */
    SHOW(syscall(SYS_mkdir, "dd", 0755));
    fd = SHOW(syscall(SYS_open, "dd", O_RDONLY | O_DIRECTORY));
    SHOW(syscall(SYS_rename, "dd", "d/dd2"));
    put("d/dd2/child", "child");
    cat("d/dd2/child");
    long cfd = SHOW(syscall(SYS_openat, fd, "child", O_RDONLY));
    n = SHOW(read(cfd, buf, sizeof buf));
    SHOW(close(cfd));
    SHOW(fchdir(fd));
    cat("child");
    cat("../o2");
    SHOW(chdir("../.."));
    SHOW(syscall(SYS_unlink, "d/dd2/child"));
    SHOW(syscall(SYS_rmdir, "d/dd2"));
    SHOW(close(fd));
}


static void test_as_user(void)
{
    printf("-- as uid 1000\n");
    SHOW(syscall(SYS_mkdir, "sticky", 0777));
    SHOW(syscall(SYS_chmod, "sticky", 01777));
    put("sticky/roots", "root's");
    SHOW(syscall(SYS_mkdir, "ro", 0755));
    put("ro/file", "ro");
    AS_USER({
        put("sticky/mine", "mine");
        SHOW(syscall(SYS_rename, "sticky/roots", "sticky/x"));
        SHOW(syscall(SYS_rename, "sticky/mine", "sticky/roots"));
        SHOW(syscall(SYS_unlink, "sticky/roots"));
        SHOW(syscall(SYS_link, "sticky/roots", "sticky/rlink"));
        SHOW(syscall(SYS_rename, "sticky/mine", "sticky/mine2"));
        SHOW(syscall(SYS_rename, "ro/file", "sticky/file"));
        SHOW(syscall(SYS_rename, "sticky/mine2", "ro/file"));
        SHOW(syscall(SYS_link, "sticky/mine2", "ro/link"));
        SHOW(syscall(SYS_symlink, "x", "ro/sym"));
        SHOW(syscall(SYS_symlink, "x", "sticky/sym"));
        SHOW(syscall(SYS_linkat, AT_FDCWD, "sticky/sym", AT_FDCWD, "sticky/sym2", 0));
        SHOW(syscall(SYS_renameat2, AT_FDCWD, "sticky/mine2", AT_FDCWD, "sticky/roots",
                     RENAME_EXCHANGE));
        SHOW(syscall(SYS_renameat2, AT_FDCWD, "sticky/mine2", AT_FDCWD, "sticky/w",
                     RENAME_WHITEOUT));
    });
    listing("sticky");
    listing("ro");
    SHOW(syscall(SYS_unlink, "sticky/roots"));
    SHOW(syscall(SYS_unlink, "sticky/mine2"));
    SHOW(syscall(SYS_unlink, "sticky/sym"));
    SHOW(syscall(SYS_unlink, "sticky/sym2"));
    SHOW(syscall(SYS_unlink, "sticky/w"));
    SHOW(syscall(SYS_rmdir, "sticky"));
    SHOW(syscall(SYS_unlink, "ro/file"));
    SHOW(syscall(SYS_rmdir, "ro"));
}

int main(void)
{
    enter_tmpdir();
    test_link();
    test_symlink();
    test_rename();
    test_open_across_rename();
    test_as_user();
    listing(".");
    listing("d");
    const char *names[] = {"d/o2", "d/keep", "f", "sl", "r3", "e/moved/inner"};
    for (unsigned i = 0; i < sizeof names / sizeof *names; i++)
        SHOW(syscall(SYS_unlink, names[i]));
    SHOW(syscall(SYS_rmdir, "d"));
    SHOW(syscall(SYS_rmdir, "e/moved"));
    SHOW(syscall(SYS_rmdir, "e"));
    listing(".");
    leave_tmpdir();
    return 0;
}
