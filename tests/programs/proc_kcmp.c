/*
 * kcmp: open files, fd tables, fs, memory and signal handlers shared or not
 * between threads, forked and cloned children; epoll targets; the ordering
 * (0 the same, 1 and 2 each other's mirror) and the permission and pid errors.
 */
#include "common.h"
#include <linux/kcmp.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/wait.h>

static long kcmp(pid_t a, pid_t b, int type, unsigned long i1, unsigned long i2)
{
    return syscall(SYS_kcmp, a, b, type, i1, i2);
}

/* "same", "differ" (checking that the order is each other's mirror), or the errno */
static void kc_(const char *label, pid_t a, pid_t b, int type, unsigned long i1, unsigned long i2)
{
    long r = kcmp(a, b, type, i1, i2);
    if (r == -1) {
        printf("%s = -1 %s\n", label, errname(errno));
    } else if (r == 0) {
        printf("%s = same\n", label);
    } else {
        long back = type == KCMP_EPOLL_TFD ? 3 - r : kcmp(b, a, type, i2, i1);
        printf("%s = differ%s\n", label, (r == 1 || r == 2) && back == 3 - r ? "" : " (NOT MIRRORED)");
    }
}
#define KC(a, b, type, i1, i2) kc_(#a ", " #b ", " #type ", " #i1 ", " #i2, a, b, type, i1, i2)

static volatile pid_t thread_tid;
static int hold[2];

static void *thread_main(void *arg)
{
    (void)arg;
    thread_tid = syscall(SYS_gettid);
    char c;
    if (read(hold[0], &c, 1) < 0)
        return NULL;
    return NULL;
}

static int clone_child(void *arg)
{
    (void)arg;
    char c;
    if (read(hold[0], &c, 1) < 0)
        _exit(1);
    _exit(0);
}

static pid_t spawn(int flags)
{
    static char stack[65536] __attribute__((aligned(16)));
    static char stack2[65536] __attribute__((aligned(16)));
    char *s = flags & CLONE_FS ? stack2 : stack;
    return clone(clone_child, s + sizeof stack, flags | SIGCHLD, NULL);
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    pid_t me = getpid();
    int pa[2], pc[2];
    if (pipe(pa) || pipe(pc))
        return 1;
    int a = pa[0];                  /* pipes: epoll takes them (not regular files) */
    int b = dup(a);
    int c = pc[0];
    int path = open("/etc/passwd", O_PATH);
    if (pipe(hold))
        return 1;

    printf("-- one process\n");
    KC(me, me, KCMP_FILE, a, a);
    KC(me, me, KCMP_FILE, a, b);
    KC(me, me, KCMP_FILE, a, c);
    KC(me, me, KCMP_FILE, path, path);
    KC(me, me, KCMP_FILE, a, BADFD);
    KC(me, me, KCMP_FILE, a + (1UL << 32), b);
    KC(me, me, KCMP_FILES, 0, 0);
    KC(me, me, KCMP_VM, 0, 0);
    KC(me, me, KCMP_FS, 0, 0);
    KC(me, me, KCMP_SIGHAND, 0, 0);
    KC(me, me, KCMP_IO, 0, 0);
    KC(me, me, KCMP_SYSVSEM, 0, 0);
    KC(me, me, KCMP_TYPES, 0, 0);
    KC(me, me, -1, 0, 0);
    KC(me, 0, KCMP_VM, 0, 0);
    KC(me, 0x7ffffff0, KCMP_VM, 0, 0);
    KC(0x7ffffff0, me, KCMP_FILE, BADFD, 0);

    printf("-- a thread\n");
    pthread_t th;
    pthread_create(&th, NULL, thread_main, NULL);
    while (!thread_tid)
        usleep(1000);
    pid_t t = thread_tid;
    KC(me, t, KCMP_FILE, a, b);
    KC(me, t, KCMP_FILES, 0, 0);
    KC(me, t, KCMP_VM, 0, 0);
    KC(me, t, KCMP_FS, 0, 0);
    KC(me, t, KCMP_SIGHAND, 0, 0);
    KC(me, t, KCMP_IO, 0, 0);
    KC(me, t, KCMP_SYSVSEM, 0, 0);

    printf("-- a forked child\n");
    pid_t f = fork();
    if (f == 0) {
        char ch;
        if (read(hold[0], &ch, 1) < 0)
            _exit(1);
        _exit(0);
    }
    int d = open("/etc/hostname", O_RDONLY);           /* opened after the fork */
    KC(me, f, KCMP_FILE, a, a);
    KC(me, f, KCMP_FILE, b, a);
    KC(me, f, KCMP_FILE, c, a);
    KC(me, f, KCMP_FILE, d, d);
    KC(me, f, KCMP_FILES, 0, 0);
    KC(me, f, KCMP_VM, 0, 0);
    KC(me, f, KCMP_FS, 0, 0);
    KC(me, f, KCMP_SIGHAND, 0, 0);
    KC(me, f, KCMP_IO, 0, 0);
    KC(t, f, KCMP_VM, 0, 0);

    printf("-- clone children\n");
    pid_t cf = spawn(CLONE_FILES);
    pid_t cs = spawn(CLONE_FS);
    KC(me, cf, KCMP_FILES, 0, 0);
    KC(me, cf, KCMP_FILE, d, d);
    KC(me, cf, KCMP_FS, 0, 0);
    KC(me, cs, KCMP_FS, 0, 0);
    KC(me, cs, KCMP_FILES, 0, 0);
    KC(cf, cs, KCMP_VM, 0, 0);

    printf("-- epoll targets\n");
    int ep = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN};
    epoll_ctl(ep, EPOLL_CTL_ADD, a, &ev);
    epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev);
    struct kcmp_epoll_slot slot = {.efd = ep, .tfd = a, .toff = 0};
    KC(me, me, KCMP_EPOLL_TFD, b, (unsigned long)&slot);
    KC(me, me, KCMP_EPOLL_TFD, c, (unsigned long)&slot);
    KC(me, f, KCMP_EPOLL_TFD, a, (unsigned long)&slot);     /* f has no epoll at ep */
    slot.toff = 1;
    KC(me, me, KCMP_EPOLL_TFD, a, (unsigned long)&slot);
    slot.toff = 0;
    slot.tfd = d;
    KC(me, me, KCMP_EPOLL_TFD, a, (unsigned long)&slot);
    slot.efd = a;
    KC(me, me, KCMP_EPOLL_TFD, a, (unsigned long)&slot);
    slot.efd = BADFD;
    KC(me, me, KCMP_EPOLL_TFD, a, (unsigned long)&slot);
    slot.efd = ep;
    slot.tfd = a;
    KC(me, me, KCMP_EPOLL_TFD, BADFD, (unsigned long)&slot);
    KC(me, me, KCMP_EPOLL_TFD, a, 1);

    printf("-- another user\n");
    pid_t u = fork();
    if (u == 0) {
        if (syscall(SYS_setresgid, 1000, 1000, 1000) || syscall(SYS_setresuid, 1000, 1000, 1000))
            _exit(1);
        pid_t self = getpid();
        KC(self, self, KCMP_VM, 0, 0);
        KC(self, me, KCMP_VM, 0, 0);
        KC(me, self, KCMP_FILE, a, a);
        prctl(PR_SET_DUMPABLE, 1);
        pid_t g = fork();
        if (g == 0) {
            pause();
            _exit(0);
        }
        KC(self, g, KCMP_VM, 0, 0);
        KC(g, self, KCMP_FILE, a, a);
        kill(g, SIGKILL);
        waitpid(g, NULL, 0);
        _exit(0);
    }
    waitpid(u, NULL, 0);

    printf("-- a zombie\n");
    pid_t z = fork();
    if (z == 0)
        _exit(0);
    siginfo_t si;
    waitid(P_PID, z, &si, WEXITED | WNOWAIT);
    KC(me, z, KCMP_FILE, a, a);
    KC(me, z, KCMP_FILES, 0, 0);
    KC(z, z, KCMP_VM, 0, 0);
    KC(z, z, KCMP_FS, 0, 0);
    KC(z, z, KCMP_SIGHAND, 0, 0);
    waitpid(z, NULL, 0);
    KC(me, z, KCMP_VM, 0, 0);

    if (write(hold[1], "tfcs", 4) != 4)      /* the thread, f, cf and cs go on */
        return 1;
    pthread_join(th, NULL);
    while (wait(NULL) > 0)
        ;
    return 0;
}
