/*
 * Threads sharing one fd table: a read blocked on a pipe keeps the open file
 * it started with when another thread closes or dup2s over its fd (Linux
 * holds a reference for the length of the call), a blocked poll keeps the
 * files it polls open (its poll table holds them); threads racing reads
 * against close and dup2 on the same fd numbers see only the outcomes Linux
 * allows; concurrent opens and closes leak nothing.
 */
#include "common.h"
#include <dirent.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>

struct blocked_read {
    int fd;
    long result;
    int err;
    char byte;
};

static void *reader(void *arg)
{
    struct blocked_read *r = arg;
    r->result = read(r->fd, &r->byte, 1);
    r->err = errno;
    return NULL;
}

/* Wait until thread `t` is blocked in a syscall: its /proc state is S. */
static void wait_sleeping(pid_t tid)
{
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/self/task/%d/stat", tid);
    for (int i = 0; i < 2000; i++) {
        int fd = open(path, O_RDONLY);
        if (fd < 0)
            break;
        long n = read(fd, buf, sizeof buf - 1);
        close(fd);
        buf[n > 0 ? n : 0] = 0;
        char *p = strrchr(buf, ')');
        if (p && p[2] == 'S')
            return;
        usleep(1000);
    }
    usleep(100000);         /* no per-thread /proc: give it time instead */
}

static pid_t reader_tid;

static void *reader_with_tid(void *arg)
{
    reader_tid = gettid();
    return reader(arg);
}

static void show_read(const char *label, struct blocked_read *r)
{
    if (r->result < 0)
        printf("%s: read = -1 %s\n", label, errname(r->err));
    else
        printf("%s: read = %ld (%c)\n", label, r->result, r->result == 1 ? r->byte : '-');
}

static void blocked_read_keeps_its_file(int how)
{
    int p[2], q[2];
    pthread_t t;
    struct blocked_read r = { 0 };
    pipe(p);
    pipe(q);
    r.fd = p[0];
    reader_tid = 0;
    pthread_create(&t, NULL, reader_with_tid, &r);
    while (!__atomic_load_n(&reader_tid, __ATOMIC_SEQ_CST))
        usleep(1000);
    wait_sleeping(reader_tid);
    if (how == 0) {
        SHOW(close(p[0]));
    } else {
        SHOW(write(q[1], "q", 1));
        SHOW(dup2(q[0], p[0]) == p[0]);
    }
    usleep(50000);
    SHOW(write(p[1], "p", 1));      /* reaches the reader through the file it holds */
    pthread_join(t, NULL);
    show_read(how == 0 ? "after close" : "after dup2", &r);
    if (how == 1) {
        char c = 0;
        SHOW(read(p[0], &c, 1));     /* the fd now names the other pipe */
        printf("got %c\n", c);
        close(p[0]);
    }
    close(p[1]);
    close(q[0]);
    close(q[1]);
}

static struct pollfd polled;
static long poll_result;

static void *poller(void *arg)
{
    (void)arg;
    reader_tid = gettid();
    poll_result = poll(&polled, 1, -1);
    return NULL;
}

/* poll's wait holds the files it polls too: the pipe keeps its reader, the
 * write succeeds and wakes the poll, which finds the fd closed (POLLNVAL). */
static void blocked_poll_keeps_its_file(void)
{
    int p[2];
    pthread_t t;
    pipe(p);
    polled.fd = p[0];
    polled.events = POLLIN;
    reader_tid = 0;
    pthread_create(&t, NULL, poller, NULL);
    while (!__atomic_load_n(&reader_tid, __ATOMIC_SEQ_CST))
        usleep(1000);
    wait_sleeping(reader_tid);
    SHOW(close(p[0]));
    usleep(50000);
    signal(SIGPIPE, SIG_IGN);
    SHOW(write(p[1], "p", 1));
    signal(SIGPIPE, SIG_DFL);
    pthread_join(t, NULL);
    printf("poll = %ld, revents %#x\n", poll_result, polled.revents);
    close(p[1]);
}

#define ROUNDS 1500
static int race_fd;
static int zero_fd, null_fd;
static volatile int stop_race;

static void *race_reader(void *arg)
{
    long *bad = arg;
    char c;
    for (int i = 0; i < ROUNDS; i++) {
        errno = 0;
        long n = read(race_fd, &c, 1);
        /* /dev/zero gives 1, /dev/null 0, a closed fd EBADF: nothing else */
        if (!(n == 1 && c == 0) && n != 0 && !(n == -1 && errno == EBADF))
            (*bad)++;
        struct stat st;
        if (fstat(race_fd, &st) == 0 && !S_ISCHR(st.st_mode))
            (*bad)++;
    }
    return NULL;
}

static void *race_changer(void *arg)
{
    long *bad = arg;
    for (int i = 0; i < ROUNDS; i++) {
        if (dup2(i & 1 ? zero_fd : null_fd, race_fd) != race_fd)
            (*bad)++;
        if (i % 3 == 0 && close(race_fd) != 0)
            (*bad)++;
    }
    return NULL;
}

static int count_fds(void)
{
    int n = 0;
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n - 1;           /* the directory's own fd */
}

static void *open_close(void *arg)
{
    long *bad = arg;
    for (int i = 0; i < ROUNDS; i++) {
        int fd = open("/dev/null", O_RDONLY);
        int p[2];
        if (fd < 0 || pipe(p) < 0) {
            (*bad)++;
            continue;
        }
        /* each fd number is ours alone until we close it */
        if (fd == p[0] || fd == p[1] || fcntl(fd, F_GETFD) < 0)
            (*bad)++;
        struct stat st;
        if (fstat(p[0], &st) < 0 || !S_ISFIFO(st.st_mode))
            (*bad)++;
        close(p[0]);
        close(p[1]);
        if (close(fd) != 0)
            (*bad)++;
    }
    return NULL;
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    printf("-- a blocked read keeps its file when another thread closes the fd\n");
    blocked_read_keeps_its_file(0);
    printf("-- a blocked read keeps its file when another thread dup2s over the fd\n");
    blocked_read_keeps_its_file(1);
    printf("-- a blocked poll keeps its file when another thread closes the fd\n");
    blocked_poll_keeps_its_file();

    printf("-- reads racing dup2 and close on one fd number\n");
    zero_fd = open("/dev/zero", O_RDONLY);
    null_fd = open("/dev/null", O_RDONLY);
    race_fd = 40;
    long bad_reader = 0, bad_changer = 0;
    pthread_t a, b;
    pthread_create(&a, NULL, race_reader, &bad_reader);
    pthread_create(&b, NULL, race_changer, &bad_changer);
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    printf("unexpected outcomes: reader %ld, changer %ld\n", bad_reader, bad_changer);
    close(race_fd);
    close(zero_fd);
    close(null_fd);

    printf("-- two threads opening and closing\n");
    int before = count_fds();
    long bad1 = 0, bad2 = 0;
    pthread_create(&a, NULL, open_close, &bad1);
    pthread_create(&b, NULL, open_close, &bad2);
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    printf("unexpected outcomes: %ld %ld\n", bad1, bad2);
    printf("fds leaked: %d\n", count_fds() - before);
    int fd = open("/dev/null", O_RDONLY);
    SHOW(fd == 3);
    return 0;
}
