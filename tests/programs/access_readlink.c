/* access, faccessat, faccessat2, readlink, readlinkat.
 *
 * Write access is only asked of /dev/null: on the host "/" the answer would
 * depend on whether "/" is writable (EROFS under pylinuxabi) and on the
 * real uid, so no W_OK on host files, and no R_OK on files root-only
 * readable (root reads anything natively). */
#include "common.h"

#ifndef AT_EACCESS
#define AT_EACCESS 0x200
#endif

static void test_access(void)
{
    printf("-- access\n");
    SHOW(syscall(SYS_access, "/etc/passwd", F_OK));
    SHOW(syscall(SYS_access, "/etc/passwd", R_OK));
    SHOW(syscall(SYS_access, "/etc/passwd", X_OK));
    SHOW(syscall(SYS_access, "/etc/passwd", R_OK | X_OK));
    SHOW(syscall(SYS_access, "/usr/bin/env", X_OK));
    SHOW(syscall(SYS_access, "/usr/bin/env", R_OK | X_OK));
    SHOW(syscall(SYS_access, "/etc", R_OK | X_OK));
    SHOW(syscall(SYS_access, "/etc/", F_OK));
    SHOW(syscall(SYS_access, "/dev/null", R_OK | W_OK));
    SHOW(syscall(SYS_access, "/dev/null", X_OK));
    SHOW(syscall(SYS_access, "/bin", F_OK));
    SHOW(syscall(SYS_access, "/bin", X_OK));
    SHOW(syscall(SYS_access, "/bin/sh", X_OK));
    SHOW(syscall(SYS_access, "/", R_OK | X_OK));
    /* errors */
    SHOW(syscall(SYS_access, "/nonexistent", F_OK));
    SHOW(syscall(SYS_access, "/nonexistent/x", F_OK));
    SHOW(syscall(SYS_access, "/etc/passwd/", F_OK));
    SHOW(syscall(SYS_access, "/etc/passwd/x", R_OK));
    SHOW(syscall(SYS_access, "", F_OK));
    SHOW(syscall(SYS_access, BADPTR, F_OK));
    SHOW(syscall(SYS_access, NULL, F_OK));
    SHOW(syscall(SYS_access, long_path(), F_OK));
    SHOW(syscall(SYS_access, long_name(), F_OK));
    SHOW(syscall(SYS_access, "/etc/passwd", 8));
    SHOW(syscall(SYS_access, "/etc/passwd", -1));
    SHOW(syscall(SYS_access, "/nonexistent", 8));
}

static void test_faccessat(void)
{
    printf("-- faccessat\n");
    long etc = SHOW(open("/etc", O_RDONLY | O_DIRECTORY));
    long root = SHOW(open("/", O_PATH));
    long file = SHOW(open("/etc/passwd", O_RDONLY));
    SHOW(syscall(SYS_faccessat, etc, "passwd", R_OK));
    SHOW(syscall(SYS_faccessat, etc, "passwd", X_OK));
    SHOW(syscall(SYS_faccessat, root, "etc/passwd", F_OK));
    SHOW(syscall(SYS_faccessat, root, "bin", X_OK));
    SHOW(syscall(SYS_faccessat, AT_FDCWD, "/etc/passwd", R_OK));
    SHOW(syscall(SYS_faccessat, BADFD, "/etc/passwd", R_OK));
    /* faccessat has no flags argument: a fourth argument is ignored */
    SHOW(syscall(SYS_faccessat, etc, "passwd", R_OK, 0xdead));
    SHOW(chdir("/etc"));
    SHOW(syscall(SYS_faccessat, AT_FDCWD, "passwd", R_OK));
    SHOW(syscall(SYS_access, "passwd", R_OK));
    SHOW(chdir("/"));
    /* errors */
    SHOW(syscall(SYS_faccessat, BADFD, "passwd", R_OK));
    SHOW(syscall(SYS_faccessat, -1, "passwd", R_OK));
    SHOW(syscall(SYS_faccessat, file, "x", R_OK));
    SHOW(syscall(SYS_faccessat, etc, "nonexistent", F_OK));
    SHOW(syscall(SYS_faccessat, etc, "", F_OK));
    SHOW(syscall(SYS_faccessat, etc, BADPTR, F_OK));
    SHOW(syscall(SYS_faccessat, etc, "passwd", 0x10));

    printf("-- faccessat2\n");
    SHOW(syscall(SYS_faccessat2, etc, "passwd", R_OK, 0));
    SHOW(syscall(SYS_faccessat2, etc, "passwd", R_OK, AT_EACCESS));
    SHOW(syscall(SYS_faccessat2, etc, "passwd", X_OK, AT_EACCESS));
    SHOW(syscall(SYS_faccessat2, AT_FDCWD, "/usr/bin/env", X_OK, AT_EACCESS));
    SHOW(syscall(SYS_faccessat2, root, "bin", F_OK, AT_SYMLINK_NOFOLLOW));
    SHOW(syscall(SYS_faccessat2, root, "bin", X_OK, AT_SYMLINK_NOFOLLOW));
    SHOW(syscall(SYS_faccessat2, root, "bin", R_OK, AT_SYMLINK_NOFOLLOW | AT_EACCESS));
    SHOW(syscall(SYS_faccessat2, file, "", R_OK, AT_EMPTY_PATH));
    SHOW(syscall(SYS_faccessat2, file, "", X_OK, AT_EMPTY_PATH));
    SHOW(syscall(SYS_faccessat2, etc, "", R_OK | X_OK, AT_EMPTY_PATH));
    SHOW(syscall(SYS_faccessat2, BADFD, "/etc/passwd", R_OK, AT_EACCESS));
    /* errors */
    SHOW(syscall(SYS_faccessat2, file, "", R_OK, 0));
    SHOW(syscall(SYS_faccessat2, BADFD, "", R_OK, AT_EMPTY_PATH));
    SHOW(syscall(SYS_faccessat2, BADFD, "passwd", R_OK, 0));
    SHOW(syscall(SYS_faccessat2, file, "x", R_OK, 0));
    SHOW(syscall(SYS_faccessat2, etc, "nonexistent", F_OK, AT_EACCESS));
    SHOW(syscall(SYS_faccessat2, etc, "passwd", R_OK, 0x1));
    SHOW(syscall(SYS_faccessat2, etc, "passwd", R_OK, ~0));
    SHOW(syscall(SYS_faccessat2, etc, "passwd", 0x10, 0));
    SHOW(syscall(SYS_faccessat2, etc, "passwd", 0x10, 0x1));
    SHOW(syscall(SYS_faccessat2, etc, BADPTR, F_OK, 0));
    SHOW(syscall(SYS_faccessat2, etc, long_path() + 1, F_OK, 0));
    SHOW(close(file));
    SHOW(close(root));
    SHOW(close(etc));
}

static void show_link(const char *label, long r, const char *buf)
{
    if (r == -1)
        printf("%s = -1 %s\n", label, errname(errno));
    else
        printf("%s = %ld \"%.*s\"\n", label, r, (int)r, buf);
}

#define LINK(call) do { memset(buf, '#', sizeof buf); \
    long r_ = (call); show_link(#call, r_, buf); } while (0)

static void test_readlink(void)
{
    char buf[256];

    printf("-- readlink\n");
    LINK(syscall(SYS_readlink, "/bin", buf, sizeof buf));
    CHECK(buf[7] == '#');   /* no terminating NUL is written */
    LINK(syscall(SYS_readlink, "/etc/os-release", buf, sizeof buf));
    LINK(syscall(SYS_readlink, "/bin", buf, 7));
    LINK(syscall(SYS_readlink, "/bin", buf, 3));
    LINK(syscall(SYS_readlink, "/bin", buf, 1));
    LINK(syscall(SYS_readlink, "/etc/../bin", buf, sizeof buf));
    /* errors */
    LINK(syscall(SYS_readlink, "/bin", buf, 0));
    LINK(syscall(SYS_readlink, "/bin", buf, -1));
    LINK(syscall(SYS_readlink, "/etc/passwd", buf, sizeof buf));
    LINK(syscall(SYS_readlink, "/etc", buf, sizeof buf));
    LINK(syscall(SYS_readlink, "/bin/", buf, sizeof buf));
    LINK(syscall(SYS_readlink, "/dev/null", buf, sizeof buf));
    LINK(syscall(SYS_readlink, "/nonexistent", buf, sizeof buf));
    LINK(syscall(SYS_readlink, "/etc/passwd/x", buf, sizeof buf));
    LINK(syscall(SYS_readlink, "", buf, sizeof buf));
    LINK(syscall(SYS_readlink, BADPTR, buf, sizeof buf));
    LINK(syscall(SYS_readlink, "/bin", BADPTR, sizeof buf));
    LINK(syscall(SYS_readlink, long_path(), buf, sizeof buf));
    LINK(syscall(SYS_readlink, long_name(), buf, sizeof buf));

    printf("-- readlinkat\n");
    long root = SHOW(open("/", O_RDONLY | O_DIRECTORY));
    long etc = SHOW(open("/etc", O_PATH));
    long file = SHOW(open("/etc/passwd", O_RDONLY));
    long lnk = SHOW(open("/bin", O_PATH | O_NOFOLLOW));
    LINK(syscall(SYS_readlinkat, root, "bin", buf, sizeof buf));
    LINK(syscall(SYS_readlinkat, etc, "os-release", buf, sizeof buf));
    LINK(syscall(SYS_readlinkat, AT_FDCWD, "/bin", buf, sizeof buf));
    LINK(syscall(SYS_readlinkat, BADFD, "/bin", buf, sizeof buf));
    LINK(syscall(SYS_readlinkat, root, "bin", buf, 5));
    /* empty path: the O_PATH|O_NOFOLLOW descriptor of the link itself */
    LINK(syscall(SYS_readlinkat, lnk, "", buf, sizeof buf));
    LINK(syscall(SYS_readlinkat, lnk, "", buf, 2));
    SHOW(chdir("/"));
    LINK(syscall(SYS_readlinkat, AT_FDCWD, "bin", buf, sizeof buf));
    LINK(syscall(SYS_readlink, "bin", buf, sizeof buf));
    /* errors */
    LINK(syscall(SYS_readlinkat, file, "", buf, sizeof buf));
    LINK(syscall(SYS_readlinkat, root, "", buf, sizeof buf));
    LINK(syscall(SYS_readlinkat, root, "bin", buf, 0));
    LINK(syscall(SYS_readlinkat, root, "etc", buf, sizeof buf));
    LINK(syscall(SYS_readlinkat, BADFD, "bin", buf, sizeof buf));
    LINK(syscall(SYS_readlinkat, BADFD, "", buf, sizeof buf));
    LINK(syscall(SYS_readlinkat, file, "x", buf, sizeof buf));
    LINK(syscall(SYS_readlinkat, lnk, "x", buf, sizeof buf));
    LINK(syscall(SYS_readlinkat, root, "nonexistent", buf, sizeof buf));
    LINK(syscall(SYS_readlinkat, root, BADPTR, buf, sizeof buf));
    LINK(syscall(SYS_readlinkat, root, "bin", BADPTR, sizeof buf));
    SHOW(close(lnk));
    SHOW(close(file));
    SHOW(close(etc));
    SHOW(close(root));
}

int main(void)
{
    test_access();
    test_faccessat();
    test_readlink();
    return 0;
}
