/* openat2 and file handles, in a fresh directory under /tmp:
 * struct open_how's size rules (EINVAL, E2BIG, EFAULT), its strict flag and
 * mode checks (where openat ignores), every RESOLVE_* flag -- NO_XDEV
 * across /proc, /dev and /dev/shm, NO_MAGICLINKS on /proc/<pid>/{fd/N,exe,cwd},
 * NO_SYMLINKS, BENEATH and IN_ROOT over a tree of relative, absolute,
 * escaping and looping symlinks, CACHED for cached and never-seen names --
 * and name_to_handle_at / open_by_handle_at up to the errors every
 * filesystem gives the same (EOPNOTSUPP on procfs and pipes, EPERM without
 * CAP_DAC_READ_SEARCH).
 *
 * What a successful open reached is printed by name: the content of a
 * regular file, or which known directory it is. Nothing printed depends on
 * /tmp being its own mount or not: NO_XDEV is tried only on /proc, /dev and
 * /dev/shm, which are mounts natively and in the sandbox.
 *
 * With the argument "root-handle", it prints only what open_by_handle_at
 * gives root for a well-formed handle (the sandbox: EPERM, as docker). */
#include "common.h"
#include "workdir.h"
#include <linux/openat2.h>
#include <sys/mman.h>

#ifndef SYS_openat2
#define SYS_openat2 437
#endif
#define AT_HANDLE_MNT_ID_UNIQUE 0x1
#define AT_HANDLE_CONNECTABLE 0x2
#define AT_HANDLE_FID 0x200
#define XO_LARGEFILE 0100000     /* glibc's O_LARGEFILE is 0 on x86-64 */

struct handle {
    unsigned int bytes;
    int type;
    unsigned char data[128];
};

/* directories a successful open may reach, known by (st_dev, st_ino) */
static struct { const char *name; dev_t dev; ino_t ino; } known[16];
static int nknown;

static void remember(const char *name, const char *path)
{
    struct stat s;
    if (stat(path, &s) != 0) {
        printf("stat %s failed\n", path);
        return;
    }
    known[nknown].name = name;
    known[nknown].dev = s.st_dev;
    known[nknown].ino = s.st_ino;
    nknown++;
}

/* What fd is open on: a file's content, a known directory's name, or its type. */
static void describe(int fd)
{
    struct stat s;
    char buf[64];
    if (fstat(fd, &s) != 0) {
        printf("fstat: %s", errname(errno));
        return;
    }
    if (S_ISREG(s.st_mode)) {
        long n = pread(fd, buf, sizeof buf, 0);
        if (n < 0)
            printf("reg (pread: %s)", errname(errno));
        else
            printf("\"%.*s\"", (int)n, buf);
        return;
    }
    for (int i = 0; i < nknown; i++)
        if (known[i].dev == s.st_dev && known[i].ino == s.st_ino) {
            printf("dir %s", known[i].name);
            return;
        }
    printf("%s", ftype(s.st_mode));
}

static long how_open(int dfd, const char *path, unsigned long long flags,
                     unsigned long long mode, unsigned long long resolve)
{
    struct open_how how = {flags, mode, resolve};
    return syscall(SYS_openat2, dfd, path, &how, sizeof how);
}

/* openat2 and what it opened (closed again at once) */
static void show_open(const char *label, long fd)
{
    if (fd < 0) {
        printf("%s = -1 %s\n", label, errname(errno));
        return;
    }
    printf("%s = ", label);
    describe(fd);
    printf("\n");
    close(fd);
}
#define O2(dfd, path, flags, mode, resolve) \
    show_open("openat2(" #dfd ", " #path ", " #flags ", " #mode ", " #resolve ")", \
              how_open(dfd, path, flags, mode, resolve))
/* the common case: read-only, no mode */
#define R2(dfd, path, resolve) O2(dfd, path, O_RDONLY, 0, resolve)
#define P2(dfd, path, resolve) O2(dfd, path, O_PATH, 0, resolve)

static void put(const char *path, const char *text)
{
    int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0644);
    if (fd < 0 || write(fd, text, strlen(text)) != (long)strlen(text))
        printf("put %s failed\n", path);
    close(fd);
}

static void make_tree(void)
{
    if (mkdir("root", 0755) || mkdir("root/a", 0755) || mkdir("root/etc", 0755) ||
        mkdir("private", 0700))
        printf("mkdir failed\n");
    put("root/file", "inside");
    put("root/a/b", "ab");
    put("root/etc/f", "root etc f");
    put("outside", "outside");
    put("scratch", "scratch");
    if (symlink("/etc/f", "root/abs") || symlink("/etc", "root/absdir") ||
        symlink("a/b", "root/rel") || symlink("a", "root/sdir") ||
        symlink("../outside", "root/up") || symlink("a/../../root/file", "root/upup") ||
        symlink("..", "root/dotdot") || symlink(".", "root/self") ||
        symlink("loop", "root/loop") || symlink("/newfile", "root/dangling"))
        printf("symlink failed\n");
    remember("root", "root");
    remember("root/a", "root/a");
    remember("root/etc", "root/etc");
    remember("tmpdir", ".");
    remember("/", "/");
    remember("/proc", "/proc");
    remember("/dev", "/dev");
    remember("/dev/shm", "/dev/shm");
}

static void test_struct(void)
{
    struct open_how how = {O_RDONLY, 0, 0};
    static char big[4200];
    char *page;

    printf("-- struct open_how: sizes and faults\n");
    OK(syscall(SYS_openat2, AT_FDCWD, "scratch", &how, 0));
    OK(syscall(SYS_openat2, AT_FDCWD, "scratch", &how, 23));
    OK(syscall(SYS_openat2, AT_FDCWD, "scratch", &how, 24));
    OK(syscall(SYS_openat2, AT_FDCWD, "scratch", BADPTR, 23));
    OK(syscall(SYS_openat2, AT_FDCWD, "scratch", BADPTR, 24));
    OK(syscall(SYS_openat2, AT_FDCWD, "scratch", BADPTR, 5000));
    memcpy(big, &how, sizeof how);
    OK(syscall(SYS_openat2, AT_FDCWD, "scratch", big, 32));     /* zero tail: fine */
    OK(syscall(SYS_openat2, AT_FDCWD, "scratch", big, 4096));
    OK(syscall(SYS_openat2, AT_FDCWD, "scratch", big, 4097));   /* more than a page */
    big[30] = 1;
    OK(syscall(SYS_openat2, AT_FDCWD, "scratch", big, 32));     /* a field we do not know */
    OK(syscall(SYS_openat2, AT_FDCWD, "scratch", big, 30));     /* ... beyond usize */
    OK(syscall(SYS_openat2, AT_FDCWD, BADPTR, big, 32));        /* the struct first */
    OK(syscall(SYS_openat2, AT_FDCWD, BADPTR, &how, 24));
    big[30] = 0;
    /* a struct that ends where memory ends */
    page = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    munmap(page + 4096, 4096);
    memcpy(page + 4096 - 24, &how, 24);
    OK(syscall(SYS_openat2, AT_FDCWD, "scratch", page + 4096 - 24, 24));
    OK(syscall(SYS_openat2, AT_FDCWD, "scratch", page + 4096 - 24, 32));
    OK(syscall(SYS_openat2, AT_FDCWD, "scratch", page + 4096 - 16, 24));
    munmap(page, 4096);
    /* the OKs above leaked fds: put them back */
    for (int fd = 3; fd < 64; fd++)
        close(fd);
}

static void test_flags(void)
{
    unsigned long long invalid = 0;
    printf("-- flags and mode: strict where openat is lax\n");
    for (int bit = 0; bit < 64; bit++) {
        unsigned long long f = 1ULL << bit;
        if (f == O_DIRECT)      /* whether a filesystem has direct I/O is its own business */
            continue;
        /* O_CREAT and __O_TMPFILE take a mode */
        long fd = how_open(AT_FDCWD, "scratch", f, (f & (O_CREAT | 020000000)) ? 0600 : 0, 0);
        if (fd >= 0)
            close(fd);
        else if (errno == EINVAL)
            invalid |= f;
    }
    printf("single flag bits refused: %#llx\n", invalid);
    R2(AT_FDCWD, "scratch", 0);
    O2(AT_FDCWD, "scratch", 1ULL << 40, 0, 0);
    O2(AT_FDCWD, BADPTR, 1ULL << 40, 0, 0);
    O2(AT_FDCWD, "scratch", 1ULL << 30, 0, 0);
    show_open("openat(scratch, 1 << 30)", syscall(SYS_openat, AT_FDCWD, "scratch", 1 << 30, 0));
    O2(AT_FDCWD, "scratch", 3, 0, 0);
    O2(AT_FDCWD, "scratch", O_RDONLY, 0, 0x40);
    O2(AT_FDCWD, "scratch", O_RDONLY, 0, 1ULL << 63);
    O2(AT_FDCWD, "scratch", O_RDONLY, 0, RESOLVE_BENEATH | RESOLVE_IN_ROOT);
    O2(AT_FDCWD, "scratch", O_RDONLY, 0644, 0);
    O2(AT_FDCWD, "scratch", O_PATH, 0644, 0);
    O2(AT_FDCWD, "made", O_CREAT | O_WRONLY, 010644, 0);
    O2(AT_FDCWD, "made", O_CREAT | O_WRONLY, 1ULL << 32, 0);
    O2(AT_FDCWD, "made", O_CREAT | O_WRONLY, 0640, 0);
    {
        struct stat s;
        SHOW(stat("made", &s));
        OCT(s.st_mode & 07777);
    }
    O2(AT_FDCWD, ".", O_TMPFILE | O_WRONLY, 0600, 0);
    O2(AT_FDCWD, ".", O_TMPFILE | O_RDONLY, 0600, 0);
    O2(AT_FDCWD, ".", O_CREAT | O_DIRECTORY, 0, 0);
    O2(AT_FDCWD, "scratch", O_PATH | O_RDWR, 0, 0);
    O2(AT_FDCWD, "scratch", O_PATH | O_CREAT, 0, 0);
    O2(AT_FDCWD, "scratch", O_PATH | XO_LARGEFILE, 0, 0);
    show_open("openat(scratch, O_PATH|O_LARGEFILE)",
              syscall(SYS_openat, AT_FDCWD, "scratch", O_PATH | XO_LARGEFILE, 0));
    O2(AT_FDCWD, "scratch", O_PATH | O_NOFOLLOW | O_CLOEXEC, 0, 0);
    O2(AT_FDCWD, "scratch", O_PATH | O_DIRECTORY, 0, 0);
    O2(AT_FDCWD, "scratch", XO_LARGEFILE, 0, 0);
    long fd = how_open(AT_FDCWD, "scratch", O_RDONLY | O_CLOEXEC, 0, 0);
    OCT(fcntl(fd, F_GETFL));
    SHOW(fcntl(fd, F_GETFD));
    close(fd);
    fd = how_open(AT_FDCWD, "scratch", O_PATH, 0, 0);
    OCT(fcntl(fd, F_GETFL));
    close(fd);

    printf("-- RESOLVE_CACHED refuses what needs more than a lookup, after EINVAL\n");
    O2(AT_FDCWD, BADPTR, O_CREAT | O_WRONLY, 0600, RESOLVE_CACHED);
    O2(AT_FDCWD, BADPTR, O_TRUNC | O_WRONLY, 0, RESOLVE_CACHED);
    O2(AT_FDCWD, BADPTR, O_TMPFILE | O_WRONLY, 0600, RESOLVE_CACHED);
    O2(AT_FDCWD, BADPTR, O_CREAT | O_DIRECTORY, 0, RESOLVE_CACHED);
    O2(AT_FDCWD, BADPTR, O_RDONLY, 0, RESOLVE_CACHED);

    printf("-- dirfd and path\n");
    int file = open("scratch", O_RDONLY);
    R2(AT_FDCWD, "", 0);
    R2(BADFD, "scratch", 0);
    R2(BADFD, "", 0);
    R2(file, "x", 0);
    R2(file, "x", RESOLVE_IN_ROOT);
    R2(BADFD, "/proc/self/comm", 0);
    R2(BADFD, "/proc/self/comm", RESOLVE_IN_ROOT);
    R2(BADFD, "/proc/self/comm", RESOLVE_BENEATH);
    R2(BADFD, "proc/self/comm", RESOLVE_BENEATH);
    R2(AT_FDCWD, long_path(), RESOLVE_BENEATH);
    R2(AT_FDCWD, long_name() + 5, RESOLVE_BENEATH);
    close(file);
}

static void test_scoped(void)
{
    int R = open("root", O_RDONLY | O_DIRECTORY);

    printf("-- RESOLVE_BENEATH: nothing escapes root/\n");
    R2(R, "file", RESOLVE_BENEATH);
    R2(R, "a/b", RESOLVE_BENEATH);
    R2(R, "a/../file", RESOLVE_BENEATH);
    R2(R, "./a/./b", RESOLVE_BENEATH);
    R2(R, ".", RESOLVE_BENEATH);
    R2(R, "a/..", RESOLVE_BENEATH);
    R2(R, "..", RESOLVE_BENEATH);
    R2(R, "../outside", RESOLVE_BENEATH);
    R2(R, "a/../../outside", RESOLVE_BENEATH);
    R2(R, "/etc/f", RESOLVE_BENEATH);
    R2(R, "rel", RESOLVE_BENEATH);
    R2(R, "sdir/b", RESOLVE_BENEATH);
    R2(R, "self/file", RESOLVE_BENEATH);
    R2(R, "abs", RESOLVE_BENEATH);
    R2(R, "absdir/f", RESOLVE_BENEATH);
    R2(R, "up", RESOLVE_BENEATH);
    R2(R, "upup", RESOLVE_BENEATH);
    R2(R, "dotdot", RESOLVE_BENEATH);
    R2(R, "dotdot/root/file", RESOLVE_BENEATH);
    R2(R, "loop", RESOLVE_BENEATH);
    R2(R, "missing", RESOLVE_BENEATH);
    R2(R, "missing/..", RESOLVE_BENEATH);
    R2(R, "file/..", RESOLVE_BENEATH);
    P2(R, "abs", RESOLVE_BENEATH);
    O2(R, "abs", O_PATH | O_NOFOLLOW, 0, RESOLVE_BENEATH);
    O2(R, "dangling", O_CREAT | O_WRONLY, 0644, RESOLVE_BENEATH);
    O2(R, "..", O_CREAT | O_WRONLY, 0644, RESOLVE_BENEATH);
    O2(R, "a/..", O_CREAT | O_WRONLY, 0644, RESOLVE_BENEATH);
    O2(R, "new-beneath", O_CREAT | O_WRONLY, 0644, RESOLVE_BENEATH);
    O2(R, "a/../../new-escaped", O_CREAT | O_WRONLY, 0644, RESOLVE_BENEATH);
    SHOW(access("new-escaped", F_OK));

    printf("-- RESOLVE_IN_ROOT: root/ is '/'\n");
    R2(R, "file", RESOLVE_IN_ROOT);
    R2(R, "/file", RESOLVE_IN_ROOT);
    R2(R, "/", RESOLVE_IN_ROOT);
    R2(R, "..", RESOLVE_IN_ROOT);
    R2(R, "../../file", RESOLVE_IN_ROOT);
    R2(R, "a/../../a/b", RESOLVE_IN_ROOT);
    R2(R, "/etc/f", RESOLVE_IN_ROOT);
    R2(R, "abs", RESOLVE_IN_ROOT);
    R2(R, "absdir/f", RESOLVE_IN_ROOT);
    R2(R, "absdir/../file", RESOLVE_IN_ROOT);
    R2(R, "up", RESOLVE_IN_ROOT);
    R2(R, "upup", RESOLVE_IN_ROOT);
    R2(R, "dotdot", RESOLVE_IN_ROOT);
    R2(R, "dotdot/dotdot/file", RESOLVE_IN_ROOT);
    R2(R, "loop", RESOLVE_IN_ROOT);
    R2(AT_FDCWD, "/outside", RESOLVE_IN_ROOT);
    R2(AT_FDCWD, "/root/abs", RESOLVE_IN_ROOT);
    O2(R, "..", O_CREAT | O_WRONLY, 0644, RESOLVE_IN_ROOT);
    O2(R, "dangling", O_CREAT | O_WRONLY, 0644, RESOLVE_IN_ROOT);
    R2(R, "newfile", 0);
    O2(R, "/new-in-root", O_CREAT | O_WRONLY, 0644, RESOLVE_IN_ROOT);
    R2(R, "new-in-root", 0);
    R2(AT_FDCWD, "root/abs", 0);        /* without: the host's /etc/f */

    printf("-- RESOLVE_NO_SYMLINKS\n");
    R2(R, "file", RESOLVE_NO_SYMLINKS);
    R2(R, "rel", RESOLVE_NO_SYMLINKS);
    R2(R, "sdir/b", RESOLVE_NO_SYMLINKS);
    R2(R, "self/file", RESOLVE_NO_SYMLINKS);
    R2(R, "abs", RESOLVE_NO_SYMLINKS | RESOLVE_IN_ROOT);
    O2(R, "rel", O_PATH | O_NOFOLLOW, 0, RESOLVE_NO_SYMLINKS);
    O2(R, "rel", O_RDONLY | O_NOFOLLOW, 0, RESOLVE_NO_SYMLINKS);
    O2(R, "dangling", O_CREAT | O_WRONLY, 0644, RESOLVE_NO_SYMLINKS | RESOLVE_IN_ROOT);
    O2(R, "dangling", O_CREAT | O_WRONLY | O_NOFOLLOW, 0644, RESOLVE_NO_SYMLINKS);
    R2(AT_FDCWD, "/proc/self/comm", RESOLVE_NO_SYMLINKS);
    close(R);
}

static void test_proc_dev(void)
{
    char buf[64];
    int proc = open("/proc", O_RDONLY | O_DIRECTORY);
    int pself = open("/proc/self", O_RDONLY | O_DIRECTORY);
    int dev = open("/dev", O_RDONLY | O_DIRECTORY);
    int comm = open("/proc/self/comm", O_RDONLY);
    int here = open("scratch", O_RDONLY);
    int pipefd[2];
    if (pipe(pipefd))
        printf("pipe failed\n");

    printf("-- RESOLVE_NO_MAGICLINKS\n");
    snprintf(buf, sizeof buf, "/proc/self/fd/%d", here);
    R2(AT_FDCWD, buf, 0);
    R2(AT_FDCWD, buf, RESOLVE_NO_MAGICLINKS);
    O2(AT_FDCWD, buf, O_PATH | O_NOFOLLOW, 0, RESOLVE_NO_MAGICLINKS);
    O2(AT_FDCWD, buf, O_RDONLY | O_NOFOLLOW, 0, RESOLVE_NO_MAGICLINKS);
    P2(AT_FDCWD, "/proc/self/exe", RESOLVE_NO_MAGICLINKS);
    P2(AT_FDCWD, "/proc/self/cwd/scratch", RESOLVE_NO_MAGICLINKS);
    P2(AT_FDCWD, "/proc/self/root/proc", RESOLVE_NO_MAGICLINKS);
    P2(AT_FDCWD, "/proc/self/root/proc", 0);
    R2(AT_FDCWD, "/proc/self/comm", RESOLVE_NO_MAGICLINKS);   /* /proc/self is no magic link */
    P2(AT_FDCWD, "/dev/stdin", RESOLVE_NO_MAGICLINKS);
    P2(AT_FDCWD, "/dev/null", RESOLVE_NO_MAGICLINKS);
    P2(AT_FDCWD, "/proc/self/fd", RESOLVE_NO_MAGICLINKS);
    P2(AT_FDCWD, "/proc/self/fd", RESOLVE_NO_SYMLINKS);
    O2(AT_FDCWD, "/proc/self", O_PATH | O_NOFOLLOW, 0, RESOLVE_NO_SYMLINKS);

    printf("-- magic links in a scoped walk\n");
    snprintf(buf, sizeof buf, "fd/%d", comm);
    R2(pself, buf, 0);
    R2(pself, buf, RESOLVE_BENEATH);
    R2(pself, buf, RESOLVE_IN_ROOT);
    O2(pself, buf, O_PATH | O_NOFOLLOW, 0, RESOLVE_BENEATH);
    P2(proc, "self/cwd", RESOLVE_BENEATH);
    P2(proc, "self/exe", RESOLVE_IN_ROOT);
    R2(proc, "self/comm", RESOLVE_BENEATH);
    R2(proc, "self/../self/comm", RESOLVE_IN_ROOT);
    R2(proc, "self/../../proc/self/comm", RESOLVE_BENEATH);

    printf("-- RESOLVE_NO_XDEV\n");
    R2(AT_FDCWD, "/proc/self/comm", RESOLVE_NO_XDEV);
    P2(AT_FDCWD, "/proc", RESOLVE_NO_XDEV);
    P2(AT_FDCWD, "/proc/..", RESOLVE_NO_XDEV);
    R2(proc, "self/comm", RESOLVE_NO_XDEV);
    P2(proc, ".", RESOLVE_NO_XDEV);
    P2(proc, "..", RESOLVE_NO_XDEV);
    P2(proc, "../etc", RESOLVE_NO_XDEV);
    P2(proc, "..", RESOLVE_NO_XDEV | RESOLVE_IN_ROOT);
    P2(pself, "..", RESOLVE_NO_XDEV);
    R2(pself, buf, RESOLVE_NO_XDEV);                /* fd of /proc/self/comm: same mount */
    snprintf(buf, sizeof buf, "fd/%d", here);
    R2(pself, buf, RESOLVE_NO_XDEV);                /* fd of a file elsewhere */
    snprintf(buf, sizeof buf, "fd/%d", pipefd[0]);
    P2(pself, buf, RESOLVE_NO_XDEV);
    P2(pself, "cwd", RESOLVE_NO_XDEV);
    P2(dev, "null", RESOLVE_NO_XDEV);
    P2(dev, "shm", RESOLVE_NO_XDEV);
    P2(dev, "shm/..", RESOLVE_NO_XDEV);
    P2(dev, "missing/../shm", RESOLVE_NO_XDEV);
    P2(dev, "null/..", RESOLVE_NO_XDEV);
    P2(dev, "stdin", RESOLVE_NO_XDEV);              /* an absolute link off the root's mount */
    P2(dev, "shm", RESOLVE_NO_XDEV | RESOLVE_NO_SYMLINKS | RESOLVE_BENEATH);
    O2(dev, "shm", O_CREAT | O_RDWR, 0600, RESOLVE_NO_XDEV);
    O2(dev, "shm", O_CREAT | O_RDWR, 0600, 0);

    /* a directory of our own on /dev/shm, another mount */
    char shm[64], target[128];
    strcpy(shm, "/dev/shm/pla-openat2-XXXXXX");
    if (!mkdtemp(shm))
        printf("mkdtemp on /dev/shm failed\n");
    int sfd = open(shm, O_RDONLY | O_DIRECTORY);
    snprintf(target, sizeof target, "%s/f", shm);
    if (mkdirat(sfd, "d", 0755) || symlinkat(target, sfd, "abs") || symlinkat("f", sfd, "rel") ||
        symlinkat("../..", sfd, "up2"))
        printf("symlink on /dev/shm failed\n");
    int f = openat(sfd, "f", O_CREAT | O_WRONLY, 0644);
    if (write(f, "on shm", 6) != 6)
        printf("write failed\n");
    close(f);
    R2(sfd, "f", RESOLVE_NO_XDEV);
    R2(sfd, "rel", RESOLVE_NO_XDEV);
    R2(sfd, "d/../rel", RESOLVE_NO_XDEV);
    R2(sfd, "abs", 0);
    R2(sfd, "abs", RESOLVE_NO_XDEV);                /* to itself, but by way of '/' */
    R2(sfd, "abs", RESOLVE_NO_XDEV | RESOLVE_IN_ROOT);
    P2(sfd, "..", RESOLVE_NO_XDEV);
    P2(sfd, "up2", RESOLVE_NO_XDEV);
    P2(sfd, "up2", 0);
    R2(AT_FDCWD, target, RESOLVE_NO_XDEV);
    unlinkat(sfd, "abs", 0);
    unlinkat(sfd, "rel", 0);
    unlinkat(sfd, "up2", 0);
    unlinkat(sfd, "f", 0);
    unlinkat(sfd, "d", AT_REMOVEDIR);
    close(sfd);
    SHOW(rmdir(shm));
    close(proc);
    close(pself);
    close(dev);
    close(comm);
    close(here);
    close(pipefd[0]);
    close(pipefd[1]);
}

static void test_cached(void)
{
    int R = open("root", O_RDONLY | O_DIRECTORY);
    printf("-- RESOLVE_CACHED\n");
    R2(R, "file", RESOLVE_CACHED);
    R2(R, "a/b", RESOLVE_CACHED);
    /* (following a symlink may need an atime update, which is not "cached":
     * whether it does depends on the clock's granularity) */
    R2(R, "a/../file", RESOLVE_CACHED);
    R2(R, "never-seen", RESOLVE_CACHED);
    R2(R, "a/never-seen", RESOLVE_CACHED);
    /* (whether a procfs name is in the dcache depends on the kernel's
     * version and on the host: only magic links, never cached, are shown) */
    R2(AT_FDCWD, "/proc/self/fd/0", RESOLVE_CACHED);
    R2(R, "file", RESOLVE_CACHED | RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS);
    O2(R, "file", O_WRONLY | O_TRUNC, 0, RESOLVE_CACHED);
    close(R);
}

static void test_handles(void)
{
    struct handle h = {sizeof h.data, 0};
    int mnt, pipefd[2];
    printf("-- name_to_handle_at\n");
    if (pipe(pipefd))
        printf("pipe failed\n");
    SHOW(syscall(SYS_name_to_handle_at, AT_FDCWD, "/proc/self/comm", &h, &mnt, 0x4));
    SHOW(syscall(SYS_name_to_handle_at, AT_FDCWD, "/proc/self/comm", &h, &mnt, AT_SYMLINK_NOFOLLOW));
    SHOW(syscall(SYS_name_to_handle_at, AT_FDCWD, "/proc/self/comm", &h, &mnt,
                 AT_HANDLE_CONNECTABLE | AT_HANDLE_FID));
    SHOW(syscall(SYS_name_to_handle_at, AT_FDCWD, "/proc/self/comm", &h, &mnt,
                 AT_HANDLE_CONNECTABLE | AT_EMPTY_PATH));
    SHOW(syscall(SYS_name_to_handle_at, AT_FDCWD, BADPTR, &h, &mnt, 0x8000));
    SHOW(syscall(SYS_name_to_handle_at, AT_FDCWD, BADPTR, &h, &mnt, 0));
    SHOW(syscall(SYS_name_to_handle_at, 0, NULL, &h, &mnt, AT_EMPTY_PATH));
    SHOW(syscall(SYS_name_to_handle_at, AT_FDCWD, "", &h, &mnt, 0));
    SHOW(syscall(SYS_name_to_handle_at, AT_FDCWD, "missing", BADPTR, BADPTR, 0));
    SHOW(syscall(SYS_name_to_handle_at, AT_FDCWD, long_path(), &h, &mnt, 0));
    SHOW(syscall(SYS_name_to_handle_at, BADFD, "x", &h, &mnt, 0));
    SHOW(syscall(SYS_name_to_handle_at, BADFD, "", &h, &mnt, AT_EMPTY_PATH));
    SHOW(syscall(SYS_name_to_handle_at, AT_FDCWD, "/proc/self/comm", &h, &mnt, 0));
    SHOW(syscall(SYS_name_to_handle_at, AT_FDCWD, "/proc/self/comm", BADPTR, BADPTR, 0));
    SHOW(syscall(SYS_name_to_handle_at, AT_FDCWD, "/proc/self/comm", &h, &mnt,
                 AT_HANDLE_MNT_ID_UNIQUE | AT_HANDLE_CONNECTABLE));
    SHOW(syscall(SYS_name_to_handle_at, AT_FDCWD, "/proc", &h, &mnt, 0));
    SHOW(syscall(SYS_name_to_handle_at, AT_FDCWD, "/proc/self", &h, &mnt, 0));
    SHOW(syscall(SYS_name_to_handle_at, pipefd[0], "", &h, &mnt, AT_EMPTY_PATH));
    char buf[64];
    snprintf(buf, sizeof buf, "/proc/self/fd/%d", pipefd[0]);
    SHOW(syscall(SYS_name_to_handle_at, AT_FDCWD, buf, &h, &mnt, AT_SYMLINK_FOLLOW));
    AS_USER(SHOW(syscall(SYS_name_to_handle_at, AT_FDCWD, "private/x", &h, &mnt, 0)));

    printf("-- open_by_handle_at: what comes before the capability check\n");
    struct handle g = {8, 1};
    SHOW(syscall(SYS_open_by_handle_at, AT_FDCWD, BADPTR, O_RDONLY));
    g.bytes = 0;
    SHOW(syscall(SYS_open_by_handle_at, AT_FDCWD, &g, O_RDONLY));
    g.bytes = 129;
    SHOW(syscall(SYS_open_by_handle_at, AT_FDCWD, &g, O_RDONLY));
    g.bytes = 8;
    g.type = -1;
    SHOW(syscall(SYS_open_by_handle_at, AT_FDCWD, &g, O_RDONLY));
    g.type = 1 | 0x200000;
    SHOW(syscall(SYS_open_by_handle_at, AT_FDCWD, &g, O_RDONLY));
    g.type = 1;
    SHOW(syscall(SYS_open_by_handle_at, BADFD, &g, O_RDONLY));
    SHOW(syscall(SYS_open_by_handle_at, -5, &g, O_RDONLY));
    printf("-- open_by_handle_at without CAP_DAC_READ_SEARCH\n");
    AS_USER(
        SHOW(syscall(SYS_open_by_handle_at, AT_FDCWD, BADPTR, O_RDONLY));
        g.bytes = 0;
        SHOW(syscall(SYS_open_by_handle_at, AT_FDCWD, &g, O_RDONLY));
        g.bytes = 8;
        g.type = 1 | 0x200000;
        SHOW(syscall(SYS_open_by_handle_at, AT_FDCWD, &g, O_RDONLY));
        g.type = 1;
        SHOW(syscall(SYS_open_by_handle_at, BADFD, &g, O_RDONLY));
        SHOW(syscall(SYS_open_by_handle_at, AT_FDCWD, &g, O_RDONLY));
        SHOW(syscall(SYS_open_by_handle_at, pipefd[0], &g, O_PATH));
        g.type = 1 | 0x10000;
        SHOW(syscall(SYS_open_by_handle_at, AT_FDCWD, &g, O_RDONLY)));
    close(pipefd[0]);
    close(pipefd[1]);
}

static void root_handle(void)
{
    /* a handle no filesystem gave: Linux tries to decode it (ESTALE) for root
     * with CAP_DAC_READ_SEARCH; a sandbox without the capability refuses */
    struct handle g = {8, 1, {0xff, 0xff, 0xff, 0x7f}};
    SHOW(syscall(SYS_open_by_handle_at, AT_FDCWD, &g, O_RDONLY));
}

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "root-handle")) {
        root_handle();
        return 0;
    }
    enter_tmpdir();
    make_tree();
    test_struct();
    test_flags();
    test_scoped();
    test_proc_dev();
    test_cached();
    test_handles();
    leave_tmpdir();
    return 0;
}
