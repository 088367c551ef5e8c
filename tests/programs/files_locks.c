/* File locks on a file in a fresh directory under /tmp: flock (shared,
 * exclusive, LOCK_NB conflicts between two open()s, dup and fork sharing,
 * blocking until another process unlocks), POSIX record locks with fcntl
 * F_SETLK/F_SETLKW/F_GETLK (a forked child holding a range, splitting and
 * merging, F_SETLKW woken by an unlock or interrupted by a signal,
 * deadlock detection, release on close of any descriptor), and OFD locks
 * (F_OFD_SETLK/F_OFD_GETLK between descriptors of one process).
 *
 * Processes order themselves through pipes; the only sleeps are there to
 * let a waiter block first, and what is printed does not depend on them. */
#include "common.h"
#include "workdir.h"
#include <dirent.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/wait.h>


/* errname plus the lock errors */
static const char *ename(int e)
{
    switch (e) {
    case EDEADLK: return "EDEADLK";
    case ENOLCK: return "ENOLCK";
    default: return errname(e);
    }
}

static long show_l(const char *label, long r)
{
    if (r == -1)
        printf("%s = -1 %s\n", label, ename(errno));
    else
        printf("%s = %ld\n", label, r);
    return r;
}
#undef SHOW
#define SHOW(expr) show_l(#expr, (long)(expr))


static const char *ltype(int t)
{
    switch (t) {
    case F_RDLCK: return "F_RDLCK";
    case F_WRLCK: return "F_WRLCK";
    case F_UNLCK: return "F_UNLCK";
    default: return "?";
    }
}

static struct flock fl;

static struct flock *lk(int type, long start, long len)
{
    memset(&fl, 0, sizeof fl);
    fl.l_type = type;
    fl.l_whence = SEEK_SET;
    fl.l_start = start;
    fl.l_len = len;
    return &fl;
}

/* print a F_GETLK / F_OFD_GETLK result (l_pid only when told what to expect) */
static void show_getlk(const char *label, long r)
{
    if (r == -1) {
        printf("%s = -1 %s\n", label, ename(errno));
        return;
    }
    printf("%s = %ld: %s", label, r, ltype(fl.l_type));
    if (fl.l_type != F_UNLCK)
        printf(" whence=%d start=%ld len=%ld", fl.l_whence, (long)fl.l_start, (long)fl.l_len);
    printf("\n");
}
#define GETLK(fd, cmd, type, start, len) \
    show_getlk(#cmd "(" #fd ", " #type ", " #start ", " #len ")", \
               syscall(SYS_fcntl, fd, cmd, lk(type, start, len)))
#define SETLK(fd, cmd, type, start, len) \
    show_l(#cmd "(" #fd ", " #type ", " #start ", " #len ")", \
           syscall(SYS_fcntl, fd, cmd, lk(type, start, len)))

static void wait_byte(int fd)
{
    char c;
    if (read(fd, &c, 1) != 1)
        printf("pipe read failed\n");
}

static void post_byte(int fd)
{
    FLUSH();    /* what was printed so far comes before what the other side prints */
    if (write(fd, "x", 1) != 1)
        printf("pipe write failed\n");
}

/* From a child (POSIX locks of this process are invisible to itself):
 * print the write-lock conflicts on path from offset 0 on. */
static void layout(const char *path)
{
    FLUSH();
    pid_t p = fork();
    if (p == 0) {
        int fd = open(path, O_RDWR);
        long off = 0;
        printf("locks on %s:", path);
        for (int i = 0; i < 20; i++) {
            if (syscall(SYS_fcntl, fd, F_GETLK, lk(F_WRLCK, off, 0)) != 0) {
                printf(" F_GETLK = -1 %s", ename(errno));
                break;
            }
            if (fl.l_type == F_UNLCK)
                break;
            if (fl.l_len == 0) {
                printf(" %c[%ld,EOF)", fl.l_type == F_RDLCK ? 'R' : 'W', (long)fl.l_start);
                break;
            }
            printf(" %c[%ld,%ld)", fl.l_type == F_RDLCK ? 'R' : 'W', (long)fl.l_start,
                   (long)(fl.l_start + fl.l_len));
            off = fl.l_start + fl.l_len;
        }
        printf("\n");
        FLUSH();
        _exit(0);
    }
    waitpid(p, NULL, 0);
}

static void test_flock(void)
{
    int p[2], q[2];
    printf("-- flock\n");
    long a = SHOW(syscall(SYS_open, "lk", O_RDWR | O_CREAT, 0644));
    long b = SHOW(syscall(SYS_open, "lk", O_RDWR));
    long ro = SHOW(syscall(SYS_open, "lk", O_RDONLY));
    SHOW(syscall(SYS_flock, a, LOCK_SH));
    SHOW(syscall(SYS_flock, b, LOCK_SH | LOCK_NB));
    SHOW(syscall(SYS_flock, b, LOCK_EX | LOCK_NB));
    SHOW(syscall(SYS_flock, a, LOCK_SH | LOCK_NB));     /* again: no change */
    SHOW(syscall(SYS_flock, a, LOCK_UN));
    SHOW(syscall(SYS_flock, b, LOCK_EX | LOCK_NB));     /* upgrade */
    SHOW(syscall(SYS_flock, a, LOCK_SH | LOCK_NB));
    SHOW(syscall(SYS_flock, ro, LOCK_EX | LOCK_NB));
    long c = SHOW(dup(b));                               /* same open file */
    SHOW(syscall(SYS_flock, c, LOCK_EX | LOCK_NB));
    SHOW(syscall(SYS_flock, c, LOCK_UN));
    SHOW(syscall(SYS_flock, ro, LOCK_EX | LOCK_NB));     /* read-only is enough */
    SHOW(syscall(SYS_flock, b, LOCK_SH | LOCK_NB));
    SHOW(syscall(SYS_close, ro));                        /* close drops it */
    SHOW(syscall(SYS_flock, b, LOCK_EX | LOCK_NB));
    SHOW(syscall(SYS_flock, a, LOCK_UN));                /* not held: fine */
    /* errors */
    SHOW(syscall(SYS_flock, a, 0));
    SHOW(syscall(SYS_flock, a, LOCK_NB));
    SHOW(syscall(SYS_flock, a, LOCK_SH | LOCK_EX));
    SHOW(syscall(SYS_flock, a, 16));
    SHOW(syscall(SYS_flock, a, LOCK_SH | 16));
    /* LOCK_MAND (32) is ignored with a warning: 0 */
    SHOW(syscall(SYS_flock, a, 99));
    SHOW(syscall(SYS_flock, a, -1));
    SHOW(syscall(SYS_flock, BADFD, LOCK_SH));
    SHOW(syscall(SYS_flock, -1, LOCK_SH));
    long pfd = SHOW(syscall(SYS_open, "lk", O_PATH));
    SHOW(syscall(SYS_flock, pfd, LOCK_SH));
    SHOW(syscall(SYS_close, pfd));
    long dfd = SHOW(syscall(SYS_open, ".", O_RDONLY | O_DIRECTORY));
    SHOW(syscall(SYS_flock, dfd, LOCK_EX | LOCK_NB));
    SHOW(syscall(SYS_flock, dfd, LOCK_UN));
    SHOW(syscall(SYS_close, dfd));

    /* a forked child shares the open file (and its lock); its own open does not */
    FLUSH();
    pid_t pid = fork();
    if (pid == 0) {
        long own = SHOW(syscall(SYS_open, "lk", O_RDWR));
        SHOW(syscall(SYS_flock, own, LOCK_SH | LOCK_NB));
        SHOW(syscall(SYS_flock, b, LOCK_EX | LOCK_NB));
        FLUSH();
        _exit(0);
    }
    waitpid(pid, NULL, 0);

    /* a blocking LOCK_EX waits until another process unlocks */
    SHOW(syscall(SYS_flock, b, LOCK_UN));
    SHOW(pipe(p));
    SHOW(pipe(q));
    FLUSH();
    pid = fork();
    if (pid == 0) {
        int own = open("lk", O_RDWR);
        long r = syscall(SYS_flock, own, LOCK_EX);
        post_byte(p[1]);
        wait_byte(q[0]);
        usleep(200000);
        printf("child: flock = %ld, unlocking\n", r);
        FLUSH();
        syscall(SYS_flock, own, LOCK_UN);
        _exit(0);
    }
    wait_byte(p[0]);
    SHOW(syscall(SYS_flock, a, LOCK_SH | LOCK_NB));
    post_byte(q[1]);
    SHOW(syscall(SYS_flock, a, LOCK_SH));
    printf("parent: got the shared lock after the child unlocked\n");
    waitpid(pid, NULL, 0);
    /* a child holding a lock through an inherited fd keeps it after we close ours */
    SHOW(syscall(SYS_flock, a, LOCK_EX));
    FLUSH();
    pid = fork();
    if (pid == 0) {
        wait_byte(q[0]);
        SHOW(syscall(SYS_flock, b, LOCK_EX | LOCK_NB));
        FLUSH();
        _exit(0);
    }
    SHOW(syscall(SYS_close, a));
    post_byte(q[1]);
    waitpid(pid, NULL, 0);
    a = SHOW(syscall(SYS_open, "lk", O_RDWR));
    SHOW(syscall(SYS_flock, a, LOCK_EX | LOCK_NB));
    SHOW(syscall(SYS_close, a));
    SHOW(syscall(SYS_close, b));
    SHOW(syscall(SYS_close, c));
    close(p[0]);
    close(p[1]);
    close(q[0]);
    close(q[1]);
}

static volatile int alarms;
static void on_alarm(int sig) { (void)sig; alarms++; }

static void test_posix(void)
{
    int p[2], q[2];
    printf("-- fcntl F_SETLK/F_GETLK with a child holding a range\n");
    long fd = SHOW(syscall(SYS_open, "pl", O_RDWR | O_CREAT, 0644));
    SHOW(write(fd, "0123456789012345678901234567890123456789", 40));
    SHOW(pipe(p));
    SHOW(pipe(q));
    FLUSH();
    pid_t child = fork();
    if (child == 0) {
        int own = open("pl", O_RDWR);
        long r = syscall(SYS_fcntl, own, F_SETLK, lk(F_WRLCK, 10, 20));
        long r2 = syscall(SYS_fcntl, own, F_SETLK, lk(F_RDLCK, 50, 5));
        post_byte(p[1]);
        wait_byte(q[0]);          /* parent: "unlock in a moment" */
        usleep(200000);
        printf("child: locks = %ld %ld, unlocking\n", r, r2);
        FLUSH();
        syscall(SYS_fcntl, own, F_SETLK, lk(F_UNLCK, 0, 0));
        wait_byte(q[0]);          /* parent: "exit" */
        _exit(0);
    }
    wait_byte(p[0]);
    GETLK(fd, F_GETLK, F_WRLCK, 0, 0);
    CHECK(fl.l_pid == child);
    GETLK(fd, F_GETLK, F_RDLCK, 0, 10);
    GETLK(fd, F_GETLK, F_RDLCK, 29, 1);
    CHECK(fl.l_pid == child);
    GETLK(fd, F_GETLK, F_RDLCK, 30, 20);
    GETLK(fd, F_GETLK, F_RDLCK, 50, 1);                /* read vs read: none */
    GETLK(fd, F_GETLK, F_WRLCK, 54, 100);
    GETLK(fd, F_GETLK, F_WRLCK, 5, -5);                /* [0,5) */
    GETLK(fd, F_GETLK, F_WRLCK, 15, -10);              /* [5,15) */
    SETLK(fd, F_SETLK, F_RDLCK, 15, 1);
    SETLK(fd, F_SETLK, F_WRLCK, 25, 100);
    SETLK(fd, F_SETLK, F_WRLCK, 0, 10);                /* no overlap: fine */
    SETLK(fd, F_SETLK, F_WRLCK, 30, 5);
    SETLK(fd, F_SETLK, F_RDLCK, 50, 10);
    SETLK(fd, F_SETLK, F_WRLCK, 50, 10);
    /* our own locks never conflict with ourselves */
    GETLK(fd, F_GETLK, F_WRLCK, 0, 5);
    /* errors */
    SETLK(fd, F_SETLK, 99, 0, 1);
    SETLK(fd, F_GETLK, F_UNLCK, 0, 1);
    SETLK(fd, F_SETLK, F_WRLCK, -1, 1);
    SETLK(fd, F_SETLK, F_WRLCK, 5, -10);
    SHOW(syscall(SYS_fcntl, fd, F_SETLK, BADPTR));
    SHOW(syscall(SYS_fcntl, fd, F_GETLK, BADPTR));
    SHOW(syscall(SYS_fcntl, BADFD, F_SETLK, lk(F_WRLCK, 0, 1)));
    lk(F_WRLCK, 0, 1)->l_whence = 7;
    SHOW(syscall(SYS_fcntl, fd, F_SETLK, &fl));
    long ro = SHOW(syscall(SYS_open, "pl", O_RDONLY));
    long wo = SHOW(syscall(SYS_open, "pl", O_WRONLY));
    SETLK(ro, F_SETLK, F_WRLCK, 100, 1);
    SETLK(ro, F_SETLK, F_RDLCK, 100, 1);
    SETLK(wo, F_SETLK, F_RDLCK, 101, 1);
    SETLK(wo, F_SETLK, F_WRLCK, 101, 1);
    GETLK(ro, F_GETLK, F_WRLCK, 10, 1);                /* GETLK needs no mode */
    long pfd = SHOW(syscall(SYS_open, "pl", O_PATH));
    SETLK(pfd, F_SETLK, F_RDLCK, 100, 1);
    SETLK(pfd, F_GETLK, F_RDLCK, 100, 1);
    SHOW(syscall(SYS_close, pfd));
    /* SEEK_CUR and SEEK_END */
    SHOW(lseek(fd, 60, SEEK_SET));
    lk(F_RDLCK, 2, 3)->l_whence = SEEK_CUR;             /* [62,65) */
    SHOW(syscall(SYS_fcntl, fd, F_SETLK, &fl));
    lk(F_RDLCK, -1, 1)->l_whence = SEEK_END;            /* [39,40) */
    SHOW(syscall(SYS_fcntl, fd, F_SETLK, &fl));
    lk(F_WRLCK, 0, 1)->l_whence = SEEK_CUR;
    show_getlk("F_GETLK(fd, SEEK_CUR 0 1)", syscall(SYS_fcntl, fd, F_GETLK, &fl));

    printf("-- F_SETLKW waits for the child's unlock\n");
    post_byte(q[1]);
    SETLK(fd, F_SETLKW, F_WRLCK, 10, 20);
    printf("parent: got the write lock\n");
    post_byte(q[1]);
    waitpid(child, NULL, 0);
    layout("pl");
    SETLK(fd, F_SETLK, F_UNLCK, 0, 0);
    layout("pl");

    printf("-- splitting and merging\n");
    SETLK(fd, F_SETLK, F_WRLCK, 0, 100);
    SETLK(fd, F_SETLK, F_UNLCK, 40, 10);
    layout("pl");
    SETLK(fd, F_SETLK, F_RDLCK, 20, 5);
    layout("pl");
    SETLK(fd, F_SETLK, F_WRLCK, 20, 30);
    layout("pl");
    SETLK(fd, F_SETLK, F_UNLCK, 0, 0);
    SETLK(fd, F_SETLK, F_RDLCK, 10, 0);
    SETLK(fd, F_SETLK, F_WRLCK, 5, 10);
    layout("pl");

    printf("-- closing any descriptor drops the process's locks\n");
    long other = SHOW(syscall(SYS_open, "pl", O_RDONLY));
    SHOW(syscall(SYS_close, other));
    layout("pl");
    SETLK(fd, F_SETLK, F_WRLCK, 0, 1);
    long d = SHOW(dup(fd));
    SHOW(syscall(SYS_close, d));
    layout("pl");
    SETLK(fd, F_SETLK, F_WRLCK, 0, 1);
    SHOW(syscall(SYS_close, ro));
    SHOW(syscall(SYS_close, wo));
    layout("pl");

    printf("-- F_SETLKW interrupted by a signal\n");
    FLUSH();
    child = fork();
    if (child == 0) {
        int own = open("pl", O_RDWR);
        syscall(SYS_fcntl, own, F_SETLK, lk(F_WRLCK, 0, 1));
        post_byte(p[1]);
        wait_byte(q[0]);
        _exit(0);
    }
    wait_byte(p[0]);
    struct sigaction sa = {0};
    sa.sa_handler = on_alarm;
    sigaction(SIGALRM, &sa, NULL);
    alarms = 0;
    ualarm(200000, 0);
    SETLK(fd, F_SETLKW, F_WRLCK, 0, 1);
    printf("alarms = %d\n", alarms);
    /* the lock of a process that exits goes away */
    post_byte(q[1]);
    waitpid(child, NULL, 0);
    SETLK(fd, F_SETLK, F_WRLCK, 0, 1);
    SETLK(fd, F_SETLK, F_UNLCK, 0, 0);

    printf("-- deadlock detection\n");
    SETLK(fd, F_SETLK, F_WRLCK, 0, 1);
    int res[2];
    SHOW(pipe(res));
    FLUSH();
    child = fork();
    if (child == 0) {
        int own = open("pl", O_RDWR);
        syscall(SYS_fcntl, own, F_SETLK, lk(F_WRLCK, 1, 1));
        post_byte(p[1]);
        long r = syscall(SYS_fcntl, own, F_SETLKW, lk(F_WRLCK, 0, 1));
        int e = r == -1 ? errno : 0;
        if (write(res[1], &e, sizeof e) != sizeof e)
            _exit(1);
        _exit(0);                 /* drops byte 1 */
    }
    wait_byte(p[0]);
    usleep(300000);               /* let the child block on byte 0 */
    long r = syscall(SYS_fcntl, fd, F_SETLKW, lk(F_WRLCK, 1, 1));
    int mine = r == -1 ? errno : 0;
    /* whichever did not get EDEADLK must now be able to finish */
    SETLK(fd, F_SETLK, F_UNLCK, 0, 1);
    int theirs = -1;
    if (read(res[0], &theirs, sizeof theirs) != sizeof theirs)
        printf("no result from the child\n");
    waitpid(child, NULL, 0);
    /* normally the parent (whose wait would close the cycle) gets EDEADLK,
     * but which one does depends on who blocks first: print it unordered */
    printf("results: %s\n", (mine == EDEADLK && theirs == 0) ||
           (mine == 0 && theirs == EDEADLK) ? "one EDEADLK, one 0" : "something else");
    CHECK((mine == EDEADLK) != (theirs == EDEADLK));
    CHECK(mine == EDEADLK || mine == 0);
    CHECK(theirs == EDEADLK || theirs == 0);
    SETLK(fd, F_SETLK, F_UNLCK, 0, 0);
    close(res[0]);
    close(res[1]);
    close(p[0]);
    close(p[1]);
    close(q[0]);
    close(q[1]);
    SHOW(syscall(SYS_close, fd));
}

static void test_ofd(void)
{
    printf("-- OFD locks\n");
    long a = SHOW(syscall(SYS_open, "pl", O_RDWR));
    long b = SHOW(syscall(SYS_open, "pl", O_RDWR));
    SETLK(a, F_OFD_SETLK, F_WRLCK, 0, 10);
    SETLK(b, F_OFD_SETLK, F_WRLCK, 5, 1);
    SETLK(b, F_OFD_SETLK, F_RDLCK, 9, 10);
    SETLK(b, F_OFD_SETLK, F_WRLCK, 10, 10);
    GETLK(b, F_OFD_GETLK, F_RDLCK, 0, 0);
    printf("l_pid = %d\n", fl.l_pid);
    GETLK(a, F_OFD_GETLK, F_WRLCK, 0, 0);
    printf("l_pid = %d\n", fl.l_pid);
    /* l_pid must be 0 on input */
    lk(F_WRLCK, 30, 1)->l_pid = 1;
    SHOW(syscall(SYS_fcntl, a, F_OFD_SETLK, &fl));
    lk(F_WRLCK, 30, 1)->l_pid = 1;
    SHOW(syscall(SYS_fcntl, a, F_OFD_GETLK, &fl));
    SETLK(a, F_OFD_SETLK, 99, 0, 1);
    SETLK(a, F_OFD_GETLK, F_UNLCK, 0, 1);
    SETLK(BADFD, F_OFD_SETLK, F_RDLCK, 0, 1);
    /* a dup shares the lock; so does a forked child */
    long c = SHOW(dup(a));
    SETLK(c, F_OFD_SETLK, F_WRLCK, 0, 10);
    FLUSH();
    pid_t pid = fork();
    if (pid == 0) {
        SETLK(a, F_OFD_SETLK, F_WRLCK, 0, 10);
        SETLK(b, F_OFD_SETLK, F_WRLCK, 10, 1);
        GETLK(b, F_OFD_GETLK, F_WRLCK, 0, 1);
        SETLK(b, F_OFD_SETLK, F_UNLCK, 10, 1);
        FLUSH();
        _exit(0);
    }
    waitpid(pid, NULL, 0);
    /* OFD locks and POSIX locks of the same process conflict */
    SETLK(b, F_SETLK, F_WRLCK, 100, 10);
    SETLK(a, F_OFD_SETLK, F_WRLCK, 105, 1);
    GETLK(a, F_OFD_GETLK, F_WRLCK, 100, 1);
    CHECK(fl.l_pid == getpid());
    SETLK(b, F_SETLK, F_WRLCK, 5, 1);
    GETLK(b, F_GETLK, F_WRLCK, 0, 1);
    printf("l_pid = %d\n", fl.l_pid);
    /* closing one of the two descriptors of an OFD lock keeps it */
    SHOW(syscall(SYS_close, c));
    SETLK(b, F_OFD_SETLK, F_RDLCK, 0, 1);
    SHOW(syscall(SYS_close, a));
    SETLK(b, F_OFD_SETLK, F_WRLCK, 0, 10);
    /* an OFD lock survives the close of other descriptors, unlike POSIX ones */
    long e = SHOW(syscall(SYS_open, "pl", O_RDONLY));
    SHOW(syscall(SYS_close, e));
    a = SHOW(syscall(SYS_open, "pl", O_RDWR));
    SETLK(a, F_OFD_SETLK, F_WRLCK, 0, 1);
    SETLK(a, F_OFD_SETLK, F_WRLCK, 100, 1);
    SHOW(syscall(SYS_close, a));
    SHOW(syscall(SYS_close, b));
}

int main(void)
{
    enter_tmpdir();
    test_flock();
    test_posix();
    test_ofd();
    SHOW(syscall(SYS_unlink, "lk"));
    SHOW(syscall(SYS_unlink, "pl"));
    leave_tmpdir();
    return 0;
}
