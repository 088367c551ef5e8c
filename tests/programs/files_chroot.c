/* chroot in a fresh directory under /tmp: its errors for root and for a user
 * without CAP_SYS_CHROOT (EPERM only after the lookup and the search
 * permission), then, in a child, life after chroot: '..' stays at the new
 * root, absolute paths and symlinks start there, a cwd left outside is
 * reported by getcwd as "(unreachable)..." and can still climb out,
 * /proc/self/{root,cwd} as a descriptor opened before shows them, a nested
 * chroot, and execve of a copy of this program inside the new root (a
 * dynamic build finds no interpreter there: ENOENT). pivot_root for a user
 * is EPERM before its arguments are even read.
 *
 * The working directory's random name is printed as TMPDIR. With the
 * argument "root-pivot", it prints only what pivot_root gives root (the
 * sandbox: EPERM, as docker without CAP_SYS_ADMIN). */
#include "common.h"
#include "workdir.h"

static void put(const char *path, const char *text)
{
    int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0644);
    if (fd < 0 || write(fd, text, strlen(text)) != (long)strlen(text))
        printf("put %s failed\n", path);
    close(fd);
}

/* "label = text" with our working directory's name replaced by TMPDIR */
static void show_path(const char *label, long r, const char *text)
{
    size_t n = strlen(tmpdir);
    if (r < 0) {
        printf("%s = -1 %s\n", label, errname(errno));
        return;
    }
    printf("%s = %ld \"", label, r);
    for (const char *p = text; *p;) {
        if (n && !strncmp(p, tmpdir, n)) {
            printf("TMPDIR");
            p += n;
        } else {
            putchar(*p++);
        }
    }
    printf("\"\n");
}

#define GETCWD() do { char b_[256] = ""; \
    long r_ = syscall(SYS_getcwd, b_, sizeof b_); show_path("getcwd", r_, b_); } while (0)
#define READLINKAT(dfd, name) do { char b_[256] = ""; \
    long r_ = readlinkat(dfd, name, b_, sizeof b_ - 1); \
    show_path("readlinkat(" #dfd ", " #name ")", r_, b_); } while (0)

static void cat(const char *path)
{
    char buf[64];
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        printf("cat %s = -1 %s\n", path, errname(errno));
        return;
    }
    long n = read(fd, buf, sizeof buf);
    printf("cat %s = \"%.*s\"\n", path, (int)(n > 0 ? n : 0), buf);
    close(fd);
}

/* do path and ref name the same inode? */
static void same(const char *path, const struct stat *ref, const char *refname)
{
    struct stat s;
    if (stat(path, &s) != 0) {
        printf("stat %s = -1 %s\n", path, errname(errno));
        return;
    }
    printf("%s is %s: %s\n", path, refname,
           s.st_dev == ref->st_dev && s.st_ino == ref->st_ino ? "yes" : "no");
}

static void copy_self(const char *to)
{
    char buf[65536];
    int in = open("/proc/self/exe", O_RDONLY);
    int out = open(to, O_CREAT | O_WRONLY | O_TRUNC, 0755);
    long n;
    while ((n = read(in, buf, sizeof buf)) > 0)
        if (write(out, buf, n) != n)
            printf("copy failed\n");
    close(in);
    close(out);
}

static void test_errors(void)
{
    printf("-- chroot errors\n");
    SHOW(syscall(SYS_chroot, BADPTR));
    SHOW(syscall(SYS_chroot, ""));
    SHOW(syscall(SYS_chroot, "missing"));
    SHOW(syscall(SYS_chroot, "root/file"));
    SHOW(syscall(SYS_chroot, "root/file/"));
    SHOW(syscall(SYS_chroot, "loop"));
    SHOW(syscall(SYS_chroot, long_path()));
    SHOW(syscall(SYS_chroot, long_name()));
    printf("-- chroot as a user\n");
    AS_USER(
        SHOW(syscall(SYS_chroot, BADPTR));
        SHOW(syscall(SYS_chroot, "missing"));
        SHOW(syscall(SYS_chroot, "root/file"));
        SHOW(syscall(SYS_chroot, "private"));
        SHOW(syscall(SYS_chroot, "private/sub"));
        SHOW(syscall(SYS_chroot, "root"));
        SHOW(syscall(SYS_chroot, "/"));
        SHOW(syscall(SYS_pivot_root, BADPTR, BADPTR));
        SHOW(syscall(SYS_pivot_root, "root", "root/a"));
        GETCWD());
}

static void in_chroot(void)
{
    struct stat newroot, top, a, tmp;
    int pself = open("/proc/self", O_RDONLY | O_DIRECTORY);
    int outside = open(".", O_RDONLY | O_DIRECTORY);
    stat("root", &newroot);
    stat("root/a", &a);
    stat("/", &top);
    stat("..", &tmp);

    printf("-- chroot(root), the cwd left outside\n");
    SHOW(syscall(SYS_chroot, "root"));
    GETCWD();
    printf("getcwd() is %s\n", getcwd((char[256]){0}, 256) ? "a path" : errname(errno));
    READLINKAT(pself, "root");
    READLINKAT(pself, "cwd");
    same("/", &newroot, "root");
    same("/..", &newroot, "root");
    same("/a/../..", &newroot, "root");
    same("..", &tmp, "TMPDIR/..");        /* from outside, '..' is not clamped */
    cat("/file");
    cat("/rel");
    cat("/abs");
    cat("root/abs");                      /* a relative path from outside, an absolute link */
    cat("outside");
    cat("/outside");
    cat("/up");
    cat("/proc/self/comm");

    printf("-- chdir(/)\n");
    SHOW(chdir("/"));
    GETCWD();
    READLINKAT(pself, "cwd");
    same("..", &newroot, "root");
    same("../../..", &newroot, "root");
    cat("../file");
    cat("dotdot/file");
    SHOW(chdir("a"));
    GETCWD();
    same("../..", &newroot, "root");

    printf("-- fchdir back outside, then up and out\n");
    SHOW(fchdir(outside));
    GETCWD();
    SHOW(chdir(".."));
    GETCWD();
    same(".", &tmp, "TMPDIR/..");
    SHOW(fchdir(outside));

    printf("-- a nested chroot, from inside\n");
    SHOW(chdir("/"));
    SHOW(syscall(SYS_chroot, "a"));
    GETCWD();
    same("/", &a, "root/a");
    same("/..", &a, "root/a");
    cat("/b");
    READLINKAT(pself, "root");

    printf("-- exec inside the new root\n");
    SHOW(chdir("/"));
    FLUSH();
    char *argv[] = {"prog", "inner", NULL};
    SHOW(execve("/prog", argv, (char *[]){NULL}));
    SHOW(execve("/missing", argv, (char *[]){NULL}));
}

/* what the copy of this program prints when it runs inside root/a */
static void inner(void)
{
    struct stat s;
    printf("-- inner: running in the chroot\n");
    GETCWD();
    SHOW(stat("/b", &s));
    cat("/b");
    SHOW(access("/file", F_OK));
    SHOW(access("/proc", F_OK));
}

static void test_chroot(void)
{
    FLUSH();
    pid_t pid = fork();
    if (pid == 0) {
        in_chroot();
        FLUSH();
        _exit(0);
    }
    int status;
    waitpid(pid, &status, 0);
    printf("child: %s %d\n", WIFEXITED(status) ? "exit" : "signal",
           WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
}

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "inner")) {
        inner();
        return 0;
    }
    if (argc > 1 && !strcmp(argv[1], "root-pivot")) {
        /* for root, Linux goes on to the paths and the mounts; a sandbox
         * without CAP_SYS_ADMIN refuses first */
        SHOW(syscall(SYS_pivot_root, BADPTR, BADPTR));
        SHOW(syscall(SYS_pivot_root, "/", "/"));
        return 0;
    }
    enter_tmpdir();
    if (mkdir("root", 0755) || mkdir("root/a", 0755) || mkdir("private", 0700) ||
        mkdir("private/sub", 0755))
        printf("mkdir failed\n");
    put("root/file", "inside");
    put("root/a/b", "ab");
    put("outside", "outside");
    if (symlink("/file", "root/abs") || symlink("a/b", "root/rel") ||
        symlink("..", "root/dotdot") || symlink("../outside", "root/up") ||
        symlink("loop", "loop"))
        printf("symlink failed\n");
    copy_self("root/a/prog");
    test_errors();
    test_chroot();
    leave_tmpdir();
    return 0;
}
