/*
 * fcntl(2)'s file owner and leases: F_SETOWN/F_GETOWN(_EX), F_SETSIG/F_GETSIG,
 * F_SETLEASE/F_GETLEASE with lease breaking, and F_CREATED_QUERY.
 *
 * A lease holder is sent its lease signal (SIGIO, or F_SETSIG's) when another
 * open file description opens (or truncate(2)s) the file in a way that
 * conflicts; the opener blocks until the holder gives the lease up or
 * downgrades it (O_NONBLOCK: EWOULDBLOCK at once).
 *
 * usage: fcntl_lease DIR OTHERS_FILE   (DIR writable; OTHERS_FILE a readable
 * file owned by root, e.g. /etc/passwd)
 */
#include "common.h"
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>

#ifndef F_CREATED_QUERY
#define F_CREATED_QUERY 1028
#endif

static char dir[4096];
static const char *others_file;
static volatile sig_atomic_t got[65];

static void on_signal(int sig) { got[sig]++; }

static const char *at(const char *name)
{
    static char p[2][4200];
    static int i;
    i ^= 1;
    snprintf(p[i], sizeof p[i], "%s/%s", dir, name);
    return p[i];
}

static const char *lease_name(int t)
{
    return t == F_RDLCK ? "F_RDLCK" : t == F_WRLCK ? "F_WRLCK" : t == F_UNLCK ? "F_UNLCK" : "?";
}

static void show_lease(const char *what, int fd)
{
    int t = fcntl(fd, F_GETLEASE);
    if (t < 0)
        printf("%s: F_GETLEASE -1 %s\n", what, errname(errno));
    else
        printf("%s: F_GETLEASE %s\n", what, lease_name(t));
}

/* Wait (at most 5 s) for signal sig; print whether it came. */
static void await_signal(const char *what, int sig)
{
    for (int i = 0; i < 5000 && !got[sig]; i++)
        usleep(1000);
    printf("%s: %s\n", what, got[sig] ? "signalled" : "no signal");
    got[sig] = 0;
}

static const char *owner_type(int t)
{
    return t == F_OWNER_TID ? "F_OWNER_TID" : t == F_OWNER_PID ? "F_OWNER_PID"
         : t == F_OWNER_PGRP ? "F_OWNER_PGRP" : "?";
}

/* F_GETOWN_EX, with the pid told as what it is to us. */
static void show_owner(const char *what, int fd)
{
    struct f_owner_ex o = {-1, -1};
    if (fcntl(fd, F_GETOWN_EX, &o) < 0) {
        printf("%s: F_GETOWN_EX -1 %s\n", what, errname(errno));
        return;
    }
    const char *who = o.pid == 0 ? "0"
                    : o.type == F_OWNER_PGRP ? (o.pid == getpgrp() ? "our group" : "another group")
                    : o.pid == getpid() ? "us" : "another";
    int own = fcntl(fd, F_GETOWN);
    const char *getown = own == 0 ? "0" : own == getpid() ? "us" : own == -getpgrp() ? "-our group"
                       : "another";
    printf("%s: %s %s; F_GETOWN %s\n", what, owner_type(o.type), who, getown);
}

static int wait_fd = -1;

static void *thread_main(void *arg)
{
    *(pid_t *)arg = gettid();
    char c;
    read(wait_fd, &c, 1);
    return NULL;
}

/* F_SETOWN, F_SETOWN_EX, F_SETSIG and their errors. */
static void owners(void)
{
    int fd = open(at("owned"), O_RDWR | O_CREAT, 0644);
    show_owner("fresh file", fd);
    SHOW(fcntl(fd, F_GETSIG));
    SHOW(fcntl(fd, F_SETOWN, getpid()));
    show_owner("F_SETOWN getpid()", fd);
    SHOW(fcntl(fd, F_SETOWN, -getpgrp()));
    show_owner("F_SETOWN -getpgrp()", fd);
    SHOW(fcntl(fd, F_SETOWN, 0));
    show_owner("F_SETOWN 0", fd);
    SHOW(fcntl(fd, F_SETOWN, INT_MIN));
    SHOW(fcntl(fd, F_SETOWN, 4000000));
    SHOW(fcntl(fd, F_SETOWN, -4000000));

    struct f_owner_ex o = {F_OWNER_TID, gettid()};
    SHOW(fcntl(fd, F_SETOWN_EX, &o));
    show_owner("F_SETOWN_EX F_OWNER_TID gettid()", fd);
    o = (struct f_owner_ex){F_OWNER_PGRP, getpgrp()};
    SHOW(fcntl(fd, F_SETOWN_EX, &o));
    show_owner("F_SETOWN_EX F_OWNER_PGRP getpgrp()", fd);
    o = (struct f_owner_ex){F_OWNER_PID, getpid()};
    SHOW(fcntl(fd, F_SETOWN_EX, &o));
    show_owner("F_SETOWN_EX F_OWNER_PID getpid()", fd);
    o = (struct f_owner_ex){3, getpid()};
    SHOW(fcntl(fd, F_SETOWN_EX, &o));
    o = (struct f_owner_ex){-1, 0};
    SHOW(fcntl(fd, F_SETOWN_EX, &o));
    o = (struct f_owner_ex){F_OWNER_PID, -5};
    SHOW(fcntl(fd, F_SETOWN_EX, &o));
    o = (struct f_owner_ex){F_OWNER_PID, 4000000};
    SHOW(fcntl(fd, F_SETOWN_EX, &o));
    show_owner("after the failed ones", fd);
    SHOW(fcntl(fd, F_SETOWN_EX, BADPTR));
    SHOW(fcntl(fd, F_GETOWN_EX, BADPTR));

    /* another thread's id: F_SETOWN (a process) takes it, but names no process */
    int p[2];
    pipe(p);
    wait_fd = p[0];
    pthread_t th;
    volatile pid_t tid = 0;
    pthread_create(&th, NULL, thread_main, (void *)&tid);
    while (!tid)
        usleep(1000);
    SHOW(fcntl(fd, F_SETOWN, tid));
    show_owner("F_SETOWN of another thread", fd);
    o = (struct f_owner_ex){F_OWNER_TID, tid};
    SHOW(fcntl(fd, F_SETOWN_EX, &o));
    struct f_owner_ex back = {-1, -1};
    fcntl(fd, F_GETOWN_EX, &back);
    printf("F_SETOWN_EX F_OWNER_TID of another thread: %s %s\n", owner_type(back.type),
           back.pid == tid ? "that thread" : "?");
    CHECK(fcntl(fd, F_GETOWN) == tid);
    write(p[1], "x", 1);
    pthread_join(th, NULL);
    close(p[0]);
    close(p[1]);

    SHOW(fcntl(fd, F_SETSIG, SIGRTMIN));
    CHECK(fcntl(fd, F_GETSIG) == SIGRTMIN);
    SHOW(fcntl(fd, F_SETSIG, 64));
    SHOW(fcntl(fd, F_GETSIG));
    SHOW(fcntl(fd, F_SETSIG, 65));
    SHOW(fcntl(fd, F_SETSIG, -1));
    SHOW(fcntl(fd, F_GETSIG));
    SHOW(fcntl(fd, F_SETSIG, 0));
    SHOW(fcntl(fd, F_GETSIG));
    int dup_fd = dup(fd);           /* the owner is the open file's: dups share it */
    SHOW(fcntl(fd, F_SETSIG, SIGUSR1));
    SHOW(fcntl(dup_fd, F_GETSIG));
    close(dup_fd);

    int opath = open(at("owned"), O_PATH);
    SHOW(fcntl(opath, F_SETOWN, getpid()));
    SHOW(fcntl(opath, F_GETOWN));
    SHOW(fcntl(opath, F_GETOWN_EX, &o));
    SHOW(fcntl(opath, F_SETSIG, SIGIO));
    SHOW(fcntl(opath, F_GETSIG));
    SHOW(fcntl(opath, F_GETLEASE));
    SHOW(fcntl(opath, F_SETLEASE, F_RDLCK));
    SHOW(fcntl(opath, F_CREATED_QUERY));
    close(opath);
    close(fd);
    unlink(at("owned"));
}

/* F_CREATED_QUERY: did this open create the file? */
static void created(void)
{
    int a = open(at("new"), O_RDWR | O_CREAT | O_EXCL, 0644);
    SHOW(fcntl(a, F_CREATED_QUERY));
    int b = open(at("new"), O_RDWR | O_CREAT, 0644);
    SHOW(fcntl(b, F_CREATED_QUERY));
    int c = open(at("new"), O_RDONLY);
    SHOW(fcntl(c, F_CREATED_QUERY));
    int d = dup(a);
    SHOW(fcntl(d, F_CREATED_QUERY));
    int t = open(dir, O_TMPFILE | O_RDWR, 0600);
    SHOW(fcntl(t, F_CREATED_QUERY));
    SHOW(fcntl(BADFD, F_CREATED_QUERY));
    close(a);
    close(b);
    close(c);
    close(d);
    close(t);
    unlink(at("new"));
}

/* Who may take which lease, on what. */
static void lease_rules(void)
{
    int w = open(at("leased"), O_RDWR | O_CREAT, 0644);
    show_lease("fresh", w);
    SHOW(fcntl(w, F_SETLEASE, F_RDLCK));             /* open for writing: EAGAIN */
    SHOW(fcntl(w, F_SETLEASE, F_UNLCK));             /* none to drop */
    SHOW(fcntl(w, F_SETLEASE, 7));
    SHOW(fcntl(w, F_SETLEASE, -1));
    SHOW(fcntl(w, F_SETLEASE, F_WRLCK));             /* the only open: fine */
    show_lease("write lease", w);
    show_owner("a lease makes us the owner", w);
    SHOW(fcntl(w, F_SETLEASE, F_WRLCK));             /* again: fine */
    SHOW(fcntl(w, F_SETLEASE, F_RDLCK));             /* downgrade: we still write */
    show_lease("after F_RDLCK", w);
    int dup_fd = dup(w);
    show_lease("its dup", dup_fd);
    SHOW(fcntl(dup_fd, F_SETLEASE, F_UNLCK));        /* the lease is the open file's */
    show_lease("after F_UNLCK by the dup", w);
    show_owner("F_UNLCK forgets the owner", w);
    close(dup_fd);

    SHOW(fcntl(w, F_SETSIG, SIGRTMIN + 1));
    SHOW(fcntl(w, F_SETLEASE, F_WRLCK));
    SHOW(fcntl(w, F_SETLEASE, F_UNLCK));
    SHOW(fcntl(w, F_GETSIG));                        /* ...and the signal */

    int r = open(at("leased"), O_RDONLY);
    SHOW(fcntl(w, F_SETLEASE, F_WRLCK));             /* another open: EAGAIN */
    SHOW(fcntl(r, F_SETLEASE, F_WRLCK));
    SHOW(fcntl(r, F_SETLEASE, F_RDLCK));             /* a writer is open: EAGAIN */
    close(w);
    SHOW(fcntl(r, F_SETLEASE, F_WRLCK));             /* the only open, read-only: fine */
    SHOW(fcntl(r, F_SETLEASE, F_RDLCK));
    int r2 = open(at("leased"), O_RDONLY);           /* a reader: no conflict */
    SHOW(fcntl(r2, F_SETLEASE, F_RDLCK));            /* read leases share */
    SHOW(fcntl(r2, F_SETLEASE, F_WRLCK));            /* not with another lease */
    show_lease("first reader", r);
    show_lease("second reader", r2);
    close(r2);                                       /* closing drops its lease */
    SHOW(fcntl(r, F_SETLEASE, F_WRLCK));
    close(r);
    int again = open(at("leased"), O_WRONLY | O_NONBLOCK);   /* the lease went with the close */
    OK(again);
    close(again);
    unlink(at("leased"));

    int d = open(dir, O_RDONLY | O_DIRECTORY);
    show_lease("a directory", d);
    SHOW(fcntl(d, F_SETLEASE, F_RDLCK));
    SHOW(fcntl(d, F_SETLEASE, 7));
    close(d);
    int p[2];
    pipe(p);
    SHOW(fcntl(p[0], F_SETLEASE, F_RDLCK));
    show_lease("a pipe", p[0]);
    close(p[0]);
    close(p[1]);
    int n = open("/dev/null", O_RDONLY);
    SHOW(fcntl(n, F_SETLEASE, F_RDLCK));
    close(n);
    int o = open(others_file, O_RDONLY);
    SHOW(fcntl(o, F_SETLEASE, F_RDLCK));             /* not our file: EACCES, unless CAP_LEASE */
    SHOW(fcntl(o, F_SETLEASE, F_UNLCK));
    close(o);
    SHOW(fcntl(BADFD, F_SETLEASE, F_RDLCK));
    SHOW(fcntl(BADFD, F_GETLEASE));
}

/* A child does `what` to the leased file; it reports each step down a pipe. */
static int report[2];

static void say(const char *fmt, long r)
{
    char line[128];
    int n = r < 0 ? snprintf(line, sizeof line, fmt, errname(errno))
                  : snprintf(line, sizeof line, fmt, "ok");
    write(report[1], line, n);
}

/* Print the child's next report line (waiting at most `ms`), or that none came. */
static void heard(int ms)
{
    struct pollfd pfd = {report[0], POLLIN, 0};
    if (poll(&pfd, 1, ms) <= 0) {
        printf("  child: (still blocked)\n");
        return;
    }
    char line[128];
    int i = 0;
    while (i < (int)sizeof line - 1 && read(report[0], &line[i], 1) == 1 && line[i] != '\n')
        i++;
    line[i] = 0;
    printf("  child: %s\n", line);
}

enum { OPEN_READ, OPEN_WRITE, TRUNCATE };

static pid_t breaker(int how, int leased)
{
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    close(report[0]);
    close(leased);                  /* the lease is the open file's: it must not stay open here */
    int flags = how == OPEN_READ ? O_RDONLY : O_WRONLY;
    if (how == TRUNCATE) {
        say("truncate: %s\n", truncate(at("broken"), 0));
        _exit(0);
    }
    int fd = open(at("broken"), flags | O_NONBLOCK);
    say("open O_NONBLOCK: %s\n", fd);
    fd = open(at("broken"), flags);
    say("open: %s\n", fd);
    _exit(0);
}

static void finish(pid_t pid)
{
    int status;
    waitpid(pid, &status, 0);
    close(report[0]);
}

/* A write lease broken by a reader: we are signalled and the reader waits until we
 * downgrade; F_GETLEASE meanwhile tells what we must go to.  (A write lease on a
 * read-only open file: one open for writing could not be downgraded to F_RDLCK.) */
static void break_by_reader(int sig)
{
    close(open(at("broken"), O_RDWR | O_CREAT | O_TRUNC, 0644));
    int fd = open(at("broken"), O_RDONLY);
    if (sig != SIGIO)
        fcntl(fd, F_SETSIG, sig);
    SHOW(fcntl(fd, F_SETLEASE, F_WRLCK));
    pipe(report);
    pid_t pid = breaker(OPEN_READ, fd);
    close(report[1]);
    await_signal("reader opens", sig);
    heard(5000);                                    /* O_NONBLOCK: EWOULDBLOCK */
    show_lease("  while broken", fd);
    heard(200);                                     /* the blocking open waits */
    SHOW(fcntl(fd, F_SETLEASE, F_RDLCK));
    heard(5000);
    show_lease("  after", fd);
    finish(pid);
    close(fd);
}

/* A read lease broken by a writer or truncate(2): it must go. */
static void break_by_writer(int how)
{
    int fd = open(at("broken"), O_RDONLY | O_CREAT, 0644);
    SHOW(fcntl(fd, F_SETLEASE, F_RDLCK));
    pipe(report);
    pid_t pid = breaker(how, fd);
    close(report[1]);
    await_signal(how == TRUNCATE ? "truncate(2)" : "writer opens", SIGIO);
    if (how != TRUNCATE)
        heard(5000);
    show_lease("  while broken", fd);
    heard(200);
    SHOW(fcntl(fd, F_SETLEASE, F_RDLCK));           /* the waiting opener counts as a writer */
    heard(200);
    SHOW(fcntl(fd, F_SETLEASE, F_UNLCK));
    heard(5000);
    show_lease("  after", fd);
    finish(pid);
    close(fd);
}

/* Closing the leased file also ends the break. */
static void break_ended_by_close(void)
{
    int fd = open(at("broken"), O_RDWR | O_CREAT, 0644);
    SHOW(fcntl(fd, F_SETLEASE, F_WRLCK));
    pipe(report);
    pid_t pid = breaker(OPEN_WRITE, fd);
    close(report[1]);
    await_signal("writer opens", SIGIO);
    heard(5000);
    int other = open(at("broken"), O_RDONLY | O_NONBLOCK);   /* we break our own lease too */
    printf("  our own second open: %s\n", other < 0 ? errname(errno) : "ok");
    heard(200);
    SHOW(close(fd));
    heard(5000);
    finish(pid);
}

int main(int argc, char **argv)
{
    if (argc < 3)
        return 2;
    snprintf(dir, sizeof dir, "%s/lease.%d", argv[1], getpid());
    others_file = argv[2];
    if (mkdir(dir, 0755) != 0) {
        perror("mkdir");
        return 1;
    }
    setbuf(stdout, NULL);
    struct sigaction sa = {0};
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESTART;
    sigaction(SIGIO, &sa, NULL);
    sigaction(SIGRTMIN + 2, &sa, NULL);
    owners();
    created();
    lease_rules();
    break_by_reader(SIGIO);
    break_by_reader(SIGRTMIN + 2);
    break_by_writer(OPEN_WRITE);
    break_by_writer(TRUNCATE);
    break_ended_by_close();
    unlink(at("broken"));
    rmdir(dir);
    return 0;
}
