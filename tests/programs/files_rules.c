/* Linux rules of issue 11 defect 5, as observed: fsync on files without an fsync
 * operation, mmap's order of checks, O_NOATIME, S_ISGID dropped by chmod,
 * prctl names and timer slack, and mprotect(PROT_WRITE) of a shared mapping of
 * a read-only file.  argv[1]: a writable directory to make files in (a tmpfs, a
 * host directory, a volume); argv[2], optional: a readable file owned by
 * another user (for O_NOATIME).  Prints one line per observation. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <grp.h>
#include <pthread.h>

static const char *err(long r)
{
    return r >= 0 ? "ok" : strerrorname_np(errno);
}

static void syncs(const char *what, int fd)
{
    printf("fsync %s: %s\n", what, err(fsync(fd)));
    printf("fdatasync %s: %s\n", what, err(fdatasync(fd)));
    close(fd);
}

static void sync_rules(const char *dir)
{
    int sv[2], p[2];
    char path[4096];
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    syncs("socket", sv[0]);
    close(sv[1]);
    pipe(p);
    syncs("pipe", p[0]);
    close(p[1]);
    syncs("/dev/null", open("/dev/null", O_RDWR));
    syncs("/dev/zero", open("/dev/zero", O_RDONLY));
    syncs("/dev/urandom", open("/dev/urandom", O_RDONLY));
    syncs("eventfd", eventfd(0, 0));
    syncs("/proc/self/status", open("/proc/self/status", O_RDONLY));
    syncs("/etc/passwd", open("/etc/passwd", O_RDONLY));
    syncs("dir", open(dir, O_RDONLY | O_DIRECTORY));
    snprintf(path, sizeof path, "%s/fifo", dir);
    mkfifo(path, 0600);
    syncs("fifo", open(path, O_RDWR));
    unlink(path);
    printf("fsync stdout: %s\n", err(fsync(1)));     /* the tests' pipe */
    snprintf(path, sizeof path, "%s/sync", dir);
    syncs("file", open(path, O_RDWR | O_CREAT, 0644));
    unlink(path);
}

static void mmap_order(void)
{
    void *m;
    m = mmap(NULL, 4096, PROT_READ, MAP_SHARED, 999, 0);
    printf("mmap bad fd: %s\n", err(m == MAP_FAILED ? -1 : 0));
    m = mmap(NULL, 0, PROT_READ, MAP_SHARED, 999, 0);
    printf("mmap bad fd, length 0: %s\n", err(m == MAP_FAILED ? -1 : 0));
    m = mmap(NULL, 4096, PROT_READ, MAP_SHARED, 999, 1);
    printf("mmap bad fd, unaligned offset: %s\n", err(m == MAP_FAILED ? -1 : 0));
    m = mmap(NULL, 4096, PROT_READ, 0, 999, 0);
    printf("mmap bad fd, no map type: %s\n", err(m == MAP_FAILED ? -1 : 0));
    m = mmap(NULL, 4096, PROT_READ, MAP_SHARED, -1, 0);
    printf("mmap fd -1: %s\n", err(m == MAP_FAILED ? -1 : 0));
    int fd = open("/dev/null", O_WRONLY);
    m = mmap(NULL, 0, PROT_READ, MAP_SHARED, fd, 0);
    printf("mmap write-only fd, length 0: %s\n", err(m == MAP_FAILED ? -1 : 0));
    close(fd);
}

static void noatime(const char *dir, const char *other)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/noatime", dir);
    int fd = open(path, O_RDWR | O_CREAT, 0644);
    close(fd);
    fd = open(path, O_RDONLY | O_NOATIME);
    printf("O_NOATIME own file: %s\n", err(fd));
    if (fd >= 0) {
        printf("F_SETFL O_NOATIME own file: %s\n", err(fcntl(fd, F_SETFL, O_NOATIME)));
        printf("F_GETFL has O_NOATIME: %d\n", !!(fcntl(fd, F_GETFL) & O_NOATIME));
        close(fd);
    }
    unlink(path);
    /* a pipe's inode is its creator's: the owner may set O_NOATIME */
    int p[2];
    struct stat s;
    pipe(p);
    fstat(p[0], &s);
    printf("pipe owned by its creator: %d\n", s.st_uid == geteuid() && s.st_gid == getegid());
    printf("F_SETFL O_NOATIME pipe: %s\n", err(fcntl(p[0], F_SETFL, O_NOATIME)));
    close(p[0]);
    close(p[1]);
    if (!other)
        return;
    printf("O_NOATIME %s: %s\n", other, err(open(other, O_RDONLY | O_NOATIME)));
    fd = open(other, O_RDONLY);
    printf("F_SETFL O_NOATIME %s: %s\n", other, err(fcntl(fd, F_SETFL, O_NOATIME)));
    printf("F_GETFL has O_NOATIME: %d\n", !!(fcntl(fd, F_GETFL) & O_NOATIME));
    close(fd);
}

/* chmod S_ISGID of a file whose group the caller is not in, without CAP_FSETID:
 * the bit is dropped, the call succeeds. As root, the child drops to uid 1000. */
static void sgid(const char *dir)
{
    char path[4096];
    struct stat s;
    snprintf(path, sizeof path, "%s/sgid", dir);
    int fd = open(path, O_RDWR | O_CREAT, 0644);
    if (geteuid() == 0) {
        printf("root chmod 02755: %s", err(chmod(path, 02755)));
        stat(path, &s);
        printf(" mode %o\n", s.st_mode & 07777);
        fchown(fd, 1000, 1234);
        fchmod(fd, 0644);
        chmod(dir, 0777);
        pid_t pid = fork();
        if (pid == 0) {
            if (setgroups(0, NULL) || setgid(1000) || setuid(1000))
                _exit(3);
            /* undumpable now, its /proc files root's: its own fds stay its to see */
            printf("PR_GET_DUMPABLE: %d\n", prctl(PR_GET_DUMPABLE));
            printf("open /proc/self/fd: %s\n", err(open("/proc/self/fd", O_RDONLY | O_DIRECTORY)));
            printf("open /proc/self/environ: %s\n", err(open("/proc/self/environ", O_RDONLY)));
            printf("chmod 02755: %s", err(chmod(path, 02755)));
            stat(path, &s);
            printf(" mode %o\n", s.st_mode & 07777);
            printf("fchmod 02755: %s", err(fchmod(fd, 02755)));
            fstat(fd, &s);
            printf(" mode %o\n", s.st_mode & 07777);
            printf("fchmodat 02711: %s", err(fchmodat(AT_FDCWD, path, 02711, 0)));
            stat(path, &s);
            printf(" mode %o\n", s.st_mode & 07777);
            fflush(stdout);
            _exit(0);
        }
        int st;
        waitpid(pid, &st, 0);
        printf("child: %d\n", st);
    } else {
        printf("own group chmod 02755: %s", err(chmod(path, 02755)));
        stat(path, &s);
        printf(" mode %o\n", s.st_mode & 07777);
    }
    close(fd);
    unlink(path);
}

/* A thread starts with its creator's slack, which is also the default it resets to. */
static void *slack_thread(void *arg)
{
    printf("thread PR_GET_TIMERSLACK: %ld\n", (long)prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0));
    prctl(PR_SET_TIMERSLACK, 7000, 0, 0, 0);
    printf("thread PR_GET_TIMERSLACK: %ld\n", (long)prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0));
    prctl(PR_SET_TIMERSLACK, 0, 0, 0, 0);
    printf("thread PR_SET_TIMERSLACK 0: %ld\n", (long)prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0));
    return arg;
}

static void prctl_rules(void)
{
    char name[32] = "";
    printf("PR_SET_NAME bad pointer: %s\n", err(prctl(PR_SET_NAME, (char *)8, 0, 0, 0)));
    printf("PR_GET_NAME bad pointer: %s\n", err(prctl(PR_GET_NAME, (char *)8, 0, 0, 0)));
    prctl(PR_GET_NAME, name, 0, 0, 0);
    printf("PR_GET_NAME: %s\n", name);
    printf("PR_GET_TIMERSLACK: %ld\n", (long)prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0));
    printf("PR_SET_TIMERSLACK 1000: %s\n", err(prctl(PR_SET_TIMERSLACK, 1000, 0, 0, 0)));
    printf("PR_GET_TIMERSLACK: %ld\n", (long)prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0));
    pthread_t thread;
    pthread_create(&thread, NULL, slack_thread, NULL);
    pthread_join(thread, NULL);
    printf("PR_GET_TIMERSLACK after the thread's: %ld\n", (long)prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0));
    pid_t pid = fork();
    if (pid == 0) {
        printf("child PR_GET_TIMERSLACK: %ld\n", (long)prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0));
        fflush(stdout);
        _exit(0);
    }
    waitpid(pid, NULL, 0);
    printf("PR_SET_TIMERSLACK 0: %s\n", err(prctl(PR_SET_TIMERSLACK, 0, 0, 0, 0)));
    printf("PR_GET_TIMERSLACK: %ld\n", (long)prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0));
}

/* A shared mapping of a file open read-only may never become writable. */
static void shared_readonly(const char *what, int fd)
{
    void *m = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
    printf("%s: mmap shared %s", what, err(m == MAP_FAILED ? -1 : 0));
    if (m != MAP_FAILED) {
        printf(", mprotect write %s", err(mprotect(m, 4096, PROT_READ | PROT_WRITE)));
        munmap(m, 4096);
    }
    m = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, fd, 0);
    printf(", private mprotect write %s\n",
           m == MAP_FAILED ? err(-1) : err(mprotect(m, 4096, PROT_READ | PROT_WRITE)));
    close(fd);
}

static void mprotect_rules(const char *dir)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/mapped", dir);
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
    write(fd, "x", 1);
    close(fd);
    shared_readonly("dir file", open(path, O_RDONLY));
    unlink(path);
    shared_readonly("/etc/passwd", open("/etc/passwd", O_RDONLY));
    shared_readonly("/dev/zero", open("/dev/zero", O_RDONLY));
    int mfd = memfd_create("rules", 0);
    ftruncate(mfd, 4096);
    snprintf(path, sizeof path, "/proc/self/fd/%d", mfd);
    shared_readonly("memfd", open(path, O_RDONLY));
    close(mfd);
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : "/tmp";
    setvbuf(stdout, NULL, _IOLBF, 0);
    sync_rules(dir);
    mmap_order();
    noatime(dir, argc > 2 ? argv[2] : NULL);
    sgid(dir);
    prctl_rules();
    mprotect_rules(dir);
    return 0;
}
