/*
 * Limits on files and processes that issue 11 found missing:
 *   ETXTBSY: a file being run is not opened for writing (open, truncate), and
 *     a file open for writing is not run (exec of it, of a script, of itself);
 *   RLIMIT_FSIZE: writes are cut at the limit, EFBIG and SIGXFSZ past it, for
 *     write, pwrite, writev, ftruncate, truncate, fallocate, sendfile,
 *     copy_file_range and splice;
 *   prctl PR_GET_TSC/PR_SET_TSC; clone's flag rules (EINVAL) before its
 *     permission checks (EPERM); EPOLLEXCLUSIVE waking one waiter of many;
 *   rt_sigtimedwait's timeout (EAGAIN) and posix_fadvise's checks;
 *   the ioctls of /dev/random (RNDGETENTCNT, the privileged ones);
 *   exec through an fd (execveat AT_EMPTY_PATH, fexecve of a memfd, open for
 *     writing or not), the name and AT_EXECFN the program then has.
 *
 *   files_limits DIR     (DIR: where to make its files; made if missing)
 */
#include "common.h"
#include <sched.h>
#include <signal.h>
#include <linux/random.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/sendfile.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>

static char path[4096];

static const char *in(const char *dir, const char *name)
{
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return path;
}

static void copy(const char *from, const char *to)
{
    char buf[65536];
    ssize_t n;
    int in = open(from, O_RDONLY), out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0755);
    while ((n = read(in, buf, sizeof buf)) > 0)
        write(out, buf, n);
    close(in);
    close(out);
}

static void exec_child(const char *exe, int keep_fd)
{
    pid_t p = fork();
    if (p == 0) {
        execl(exe, exe, "0", (char *)NULL);
        printf("exec %s: %s\n", keep_fd >= 0 ? "while open for writing" : "", errname(errno));
        _exit(0);
    }
    int st;
    waitpid(p, &st, 0);
    printf("  exit %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -WTERMSIG(st));
}

static void text_busy(const char *dir)
{
    char exe[4096], script[4096];
    snprintf(exe, sizeof exe, "%s", in(dir, "sleeper"));
    snprintf(script, sizeof script, "%s", in(dir, "script"));
    copy("/bin/sleep", exe);
    int w = OK(open(exe, O_WRONLY | O_APPEND));
    exec_child(exe, w);
    int fd = open(script, O_WRONLY | O_CREAT | O_TRUNC, 0755);
    dprintf(fd, "#!/bin/sh\nexit 3\n");
    exec_child(script, fd);             /* a script open for writing is refused too */
    close(fd);
    exec_child(script, -1);
    close(w);
    exec_child(exe, -1);

    pid_t p = fork();
    if (p == 0) {
        execl(exe, "sleeper", "5", (char *)NULL);
        _exit(127);
    }
    usleep(300000);
    SHOW(open(exe, O_WRONLY));
    SHOW(open(exe, O_RDWR));
    SHOW(open(exe, O_RDONLY | O_TRUNC));
    SHOW(truncate(exe, 0));
    CHECK(open(exe, O_RDONLY) >= 0);
    SHOW(unlink(exe));                  /* removing it is allowed */
    kill(p, SIGKILL);
    waitpid(p, NULL, 0);
    SHOW(open("/proc/self/exe", O_WRONLY));
}

static void file_size(const char *dir)
{
    char buf[4096];
    memset(buf, 'a', sizeof buf);
    int fd = OK(open(in(dir, "big"), O_RDWR | O_CREAT | O_TRUNC, 0644));
    int src = OK(open(in(dir, "src"), O_RDWR | O_CREAT | O_TRUNC, 0644));
    write(src, buf, sizeof buf);
    signal(SIGXFSZ, SIG_IGN);
    struct rlimit rl = {1000, RLIM_INFINITY};
    SHOW(setrlimit(RLIMIT_FSIZE, &rl));
    SHOW(write(fd, buf, 2000));
    SHOW(write(fd, buf, 10));
    SHOW(write(fd, buf, 0));
    SHOW(pwrite(fd, buf, 10, 995));
    SHOW(pwrite(fd, buf, 10, 5000));
    struct iovec iov[2] = {{buf, 600}, {buf, 600}};
    SHOW(pwritev(fd, iov, 2, 0));
    SHOW(ftruncate(fd, 5000));
    SHOW(ftruncate(fd, 1000));
    SHOW(truncate(in(dir, "big"), 1001));
    SHOW(truncate(in(dir, "big"), 10));
    SHOW(ftruncate(src, 10));           /* shrinking is always allowed */
    SHOW(ftruncate(src, 4096));         /* ...and so is growing a file already past the limit? no */
    SHOW(fallocate(fd, 0, 0, 4096));
    SHOW(fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, 4096));
    /* tmpfs checks the limit even for KEEP_SIZE (shmem_fallocate), a disk does not */
    int shm = open("/dev/shm/pla-limits", O_RDWR | O_CREAT | O_TRUNC, 0600);
    SHOW(fallocate(shm, FALLOC_FL_KEEP_SIZE, 0, 4096));
    SHOW(fallocate(shm, FALLOC_FL_KEEP_SIZE, 0, 1000));
    SHOW(fallocate(shm, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, 4096));
    close(shm);
    unlink("/dev/shm/pla-limits");
    SHOW(fallocate(fd, 0, 0, 1000));
    off_t off = 0;
    SHOW(lseek(fd, 900, SEEK_SET));
    SHOW(sendfile(fd, src, &off, 4000));
    off_t in_off = 0, out_off = 500;
    SHOW(copy_file_range(src, &in_off, fd, &out_off, 4000, 0));
    out_off = 1000;
    SHOW(copy_file_range(src, &in_off, fd, &out_off, 4000, 0));
    int pp[2];
    pipe(pp);
    write(pp[1], buf, 300);
    out_off = 800;
    SHOW(splice(pp[0], NULL, fd, &out_off, 300, 0));
    int a = OK(open(in(dir, "big"), O_WRONLY | O_APPEND));
    SHOW(write(a, buf, 1));
    SHOW(lseek(fd, 0, SEEK_END));
    SHOW(write(pp[1], buf, 2000));      /* pipes have no size */
    signal(SIGXFSZ, SIG_DFL);
    FLUSH();
    pid_t p = fork();
    if (p == 0) {
        write(fd, buf, 10);
        _exit(0);
    }
    int st;
    waitpid(p, &st, 0);
    printf("SIGXFSZ by default: %s %d\n", WIFSIGNALED(st) ? "killed by" : "exit", WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
    rl.rlim_cur = RLIM_INFINITY;
    SHOW(setrlimit(RLIMIT_FSIZE, &rl));
    SHOW(write(fd, buf, 10));
    close(fd);
    close(src);
    close(a);
}

static void tsc(void)
{
    int v = -1;
    SHOW(prctl(PR_GET_TSC, &v));
    printf("tsc %d\n", v);
    SHOW(prctl(PR_GET_TSC, BADPTR));
    SHOW(prctl(PR_SET_TSC, 5));
    SHOW(prctl(PR_SET_TSC, PR_TSC_ENABLE));
}

static void clone_flags(void)
{
    SHOW(syscall(SYS_clone, CLONE_SIGHAND, 0, 0, 0, 0));
    SHOW(syscall(SYS_clone, CLONE_THREAD, 0, 0, 0, 0));
    SHOW(syscall(SYS_clone, CLONE_NEWNS | CLONE_FS, 0, 0, 0, 0));
    SHOW(syscall(SYS_clone, CLONE_NEWUSER | CLONE_FS, 0, 0, 0, 0));
    SHOW(syscall(SYS_clone, CLONE_NEWPID | CLONE_THREAD | CLONE_SIGHAND | CLONE_VM, 0, 0, 0, 0));
    SHOW(syscall(SYS_clone, CLONE_NEWUSER | CLONE_THREAD | CLONE_SIGHAND | CLONE_VM, 0, 0, 0, 0));
    SHOW(syscall(SYS_clone, CLONE_PIDFD | CLONE_DETACHED, 0, 0, 0, 0));
}

/* Three processes wait on their own epolls, all watching one eventfd; one write
 * wakes all of them, or with EPOLLEXCLUSIVE only one. */
static void exclusive(void)
{
    for (int excl = 0; excl < 2; excl++) {
        int efd = eventfd(0, 0), pp[2];
        pipe(pp);
        pid_t kids[3];
        for (int i = 0; i < 3; i++) {
            int ep = epoll_create1(0);
            struct epoll_event ev = {.events = EPOLLIN | (excl ? EPOLLEXCLUSIVE : 0)};
            epoll_ctl(ep, EPOLL_CTL_ADD, efd, &ev);
            FLUSH();
            if ((kids[i] = fork()) == 0) {
                char c = 0;
                write(pp[1], &c, 1);
                _exit(epoll_wait(ep, &ev, 1, 1500));
            }
            close(ep);
        }
        char c;
        for (int i = 0; i < 3; i++)
            read(pp[0], &c, 1);
        usleep(300000);
        uint64_t one = 1;
        write(efd, &one, 8);
        int woken = 0;
        for (int i = 0; i < 3; i++) {
            int st;
            waitpid(kids[i], &st, 0);
            woken += WEXITSTATUS(st);
        }
        printf("EPOLLEXCLUSIVE %d: %d woken\n", excl, woken);
        close(efd);
        close(pp[0]);
        close(pp[1]);
    }
}

static void waits(void)
{
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGUSR1);
    sigprocmask(SIG_BLOCK, &s, NULL);
    struct timespec ts = {0, 1000000};
    SHOW(sigtimedwait(&s, NULL, &ts));
    ts.tv_nsec = 0;
    SHOW(sigtimedwait(&s, NULL, &ts));
    ts.tv_nsec = 2000000000;
    SHOW(sigtimedwait(&s, NULL, &ts));
    int fd = open("/etc/passwd", O_RDONLY), pp[2];
    pipe(pp);
    SHOW(posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED));
    SHOW(posix_fadvise(fd, 0, 0, POSIX_FADV_WILLNEED));
    SHOW(posix_fadvise(fd, 0, 0, 99));
    SHOW(posix_fadvise(fd, 0, -1, POSIX_FADV_NORMAL));
    SHOW(posix_fadvise(pp[0], 0, 0, POSIX_FADV_NORMAL));
    SHOW(posix_fadvise(BADFD, 0, 0, POSIX_FADV_NORMAL));
}

static void random_ioctls(void)
{
    int r = open("/dev/random", O_RDONLY), n = -1, one = 8;
    SHOW(ioctl(r, RNDGETENTCNT, &n));
    CHECK(n > 0);
    SHOW(ioctl(r, RNDGETENTCNT, BADPTR));
    SHOW(ioctl(r, RNDZAPENTCNT, 0));
    SHOW(ioctl(r, RNDCLEARPOOL, 0));
    SHOW(ioctl(r, RNDADDTOENTCNT, &one));
    SHOW(ioctl(r, RNDADDTOENTCNT, BADPTR));
    one = -1;
    SHOW(ioctl(r, RNDADDTOENTCNT, &one));
    SHOW(ioctl(r, RNDRESEEDCRNG, 0));
    SHOW(ioctl(r, FIONREAD, &n));
    SHOW(ioctl(r, TCGETS, &n));
    close(r);
}

static void run_fd(int dirfd, const char *name, int flags, const char *what)
{
    char *av[] = {"files_limits", "--name", NULL}, *ev[] = {NULL};
    pid_t p = fork();
    if (p == 0) {
        syscall(SYS_execveat, dirfd, name, av, ev, flags);
        printf("%s: %s\n", what, errname(errno));
        _exit(0);
    }
    waitpid(p, NULL, 0);
}

static void fd_exec(void)
{
    int self = open("/proc/self/exe", O_RDONLY);
    run_fd(self, "", AT_EMPTY_PATH, "execveat(self, \"\")");
    char dir[4096];
    ssize_t n = readlink("/proc/self/exe", dir, sizeof dir - 1);
    dir[n] = 0;
    *strrchr(dir, '/') = 0;
    int d = open(dir, O_RDONLY | O_DIRECTORY);
    run_fd(d, "files_limits", 0, "execveat(dir, name)");
    run_fd(d, "files_limits", AT_SYMLINK_NOFOLLOW, "execveat(dir, name, NOFOLLOW)");
    int m = memfd_create("tool", 0);
    char buf[65536];
    lseek(self, 0, SEEK_SET);
    while ((n = read(self, buf, sizeof buf)) > 0)
        write(m, buf, n);
    run_fd(m, "", AT_EMPTY_PATH, "execveat(memfd, \"\")");
    char p[64];
    snprintf(p, sizeof p, "/proc/self/fd/%d", m);
    int ro = open(p, O_RDONLY);
    close(m);
    run_fd(ro, "", AT_EMPTY_PATH, "execveat(memfd read-only, \"\")");
    run_fd(ro, "", 0, "execveat(memfd, \"\", 0)");
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IONBF, 0);   /* stdout is a pipe: RLIMIT_FSIZE leaves it be */
    if (argc > 1 && strcmp(argv[1], "--name") == 0) {
        char comm[32] = {0};
        int fd = open("/proc/self/comm", O_RDONLY);
        read(fd, comm, sizeof comm - 1);
        printf("  ran as %.*s, AT_EXECFN %s\n", (int)strcspn(comm, "\n"), comm, (char *)getauxval(AT_EXECFN));
        return 0;
    }
    const char *dir = argc > 1 ? argv[1] : "/tmp";
    mkdir(dir, 0777);
    text_busy(dir);
    file_size(dir);
    tsc();
    clone_flags();
    exclusive();
    waits();
    random_ioctls();
    fd_exec();
    return 0;
}
