/*
 * Unix 98 pseudo-terminals: posix_openpt, grantpt, unlockpt, ptsname,
 * TIOCGPTN/TIOCSPTLCK/TIOCGPTLCK/TIOCGPTPEER/TIOCGDEV, openpty, ttyname,
 * termios and window size through the pair, line discipline (echo, ONLCR,
 * packet mode), readiness and hang-ups of either side, /dev/pts listing
 * and nodes, and the controlling terminal of a new session (TIOCSCTTY,
 * TIOCGPGRP, TIOCGSID, TIOCNOTTY, an open without O_NOCTTY).
 *
 * Pty numbers are not printed (the sandbox numbers its own from 0): only
 * that every name of a pty agrees with TIOCGPTN. TIOCGPTPEER is never
 * asked of a locked pty: the kernel leaks the pty when it fails.
 */
#include "common.h"
#include <dirent.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <termios.h>

#define DEVPTS_SUPER_MAGIC 0x1cd1

static int in_dir(const char *dir, const char *name)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int found = 0;
    if (!d)
        return -1;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, name) == 0)
            found = e->d_type == DT_CHR ? 1 : 2;
    closedir(d);
    return found;
}

static int revents(int fd, int events, int timeout)
{
    struct pollfd p = {fd, events, 0};
    if (poll(&p, 1, timeout) < 0)
        return -1;
    return p.revents;
}

static long read_str(int fd, char *buf, size_t size)
{
    long n = read(fd, buf, size - 1);
    buf[n > 0 ? n : 0] = 0;
    return n;
}

static int link_is(int fd, const char *want)
{
    char path[64], target[256];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    long n = readlink(path, target, sizeof target - 1);
    if (n < 0)
        return 0;
    target[n] = 0;
    return strcmp(target, want) == 0;
}

static volatile sig_atomic_t got[65];

static void note(int sig)
{
    got[sig] = 1;
}

static void wait_for(int sig)
{
    for (int i = 0; i < 200 && !got[sig]; i++)
        usleep(10000);
    printf("got signal %d: %s\n", sig, got[sig] ? "yes" : "no");
}

/* In a new session: the pty becomes the controlling terminal, and gives it up;
 * its interrupt character and its master's last close signal the session. */
static void session(int m, const char *name)
{
    pid_t pid = fork();
    if (pid == 0) {
        int s, pg = -1, sid = -1, none;
        signal(SIGHUP, SIG_IGN);            /* TIOCNOTTY sends it to the foreground group: us */
        s = open(name, O_RDWR | O_NOCTTY);
        OK(setsid());
        SHOW(ioctl(s, TIOCGPGRP, &pg));
        SHOW(ioctl(s, TIOCSCTTY, 0));
        SHOW(ioctl(s, TIOCSCTTY, 0));       /* again: it is ours already */
        SHOW(ioctl(s, TIOCGPGRP, &pg));
        CHECK(pg == getpgrp());
        SHOW(ioctl(s, TIOCGSID, &sid));
        CHECK(sid == getsid(0));
        pg = -1;
        SHOW(ioctl(m, TIOCGPGRP, &pg));
        CHECK(pg == getpgrp());
        none = -5;
        SHOW(ioctl(s, TIOCSPGRP, &none));
        SHOW(ioctl(s, TIOCSPGRP, &pg));
        SHOW(ioctl(s, TIOCNOTTY));
        SHOW(ioctl(s, TIOCGPGRP, &pg));
        SHOW(ioctl(s, TIOCNOTTY));
        fflush(stdout);
        _exit(0);
    }
    waitpid(pid, NULL, 0);
    pid = fork();
    if (pid == 0) {
        int s, sid = -1;
        OK(setsid());
        s = open(name, O_RDWR);             /* a session leader's first terminal becomes its own */
        SHOW(ioctl(s, TIOCGSID, &sid));
        CHECK(sid == getsid(0));
        signal(SIGINT, note);
        SHOW(write(m, "\003", 1));          /* ^C typed: SIGINT to the foreground group, us */
        wait_for(SIGINT);
        fflush(stdout);
        _exit(0);
    }
    waitpid(pid, NULL, 0);
    pid = fork();
    if (pid == 0) {
        int m2, s2;
        char c;
        signal(SIGHUP, note);
        signal(SIGCONT, note);
        OK(setsid());
        m2 = OK(posix_openpt(O_RDWR | O_NOCTTY));
        SHOW(unlockpt(m2));
        s2 = OK(open(ptsname(m2), O_RDWR));
        SHOW(close(m2));                    /* hang-up: the session leader gets SIGHUP, SIGCONT */
        wait_for(SIGHUP);
        wait_for(SIGCONT);
        SHOW(read(s2, &c, 1));
        fflush(stdout);
        _exit(0);
    }
    waitpid(pid, NULL, 0);
}

int main(void)
{
    struct stat ms, ss, ls, ds;
    struct termios t, t2, raw;
    struct winsize ws = {33, 111, 0, 0}, ws2;
    struct statfs sf;
    char name[64], buf[256];
    unsigned n = 12345, dev = 0;
    int lock = -1, m, s, p, pg = -1, one = 1, zero = 0, q = -1;

    setvbuf(stdout, NULL, _IONBF, 0);

    /* posix_openpt: a master, locked until unlockpt */
    m = OK(posix_openpt(O_RDWR | O_NOCTTY));
    SHOW(fstat(m, &ms));
    printf("master: %s %u:%u mode %o\n", ftype(ms.st_mode), major(ms.st_rdev), minor(ms.st_rdev),
           ms.st_mode & 07777);
    OCT(fcntl(m, F_GETFL));
    SHOW(ioctl(m, TIOCGPTN, &n));
    SHOW(ioctl(m, TIOCGPTN, BADPTR));
    snprintf(name, sizeof name, "/dev/pts/%u", n);
    SHOW(ioctl(m, TIOCGPTLCK, &lock));
    SHOW(lock);
    SHOW(open(name, O_RDWR | O_NOCTTY));
    SHOW(stat(name, &ss));
    printf("slave node: %s major %u\n", ftype(ss.st_mode), major(ss.st_rdev));
    CHECK(minor(ss.st_rdev) == n);
    CHECK(ss.st_ino == n + 3);
    SHOW(stat("/dev/pts", &ds));
    CHECK(ds.st_dev == ss.st_dev);
    CHECK(ds.st_ino == 1);
    SHOW(stat("/dev/pts/ptmx", &ls));
    printf("pts/ptmx: %s %u:%u ino %lu\n", ftype(ls.st_mode), major(ls.st_rdev), minor(ls.st_rdev),
           (unsigned long)ls.st_ino);
    SHOW(statfs("/dev/pts", &sf));
    CHECK(sf.f_type == DEVPTS_SUPER_MAGIC);
    SHOW(in_dir("/dev/pts", name + 9));
    SHOW(in_dir("/dev/pts", "ptmx"));

    /* grantpt, unlockpt, ptsname */
    SHOW(grantpt(m));
    SHOW(unlockpt(m));
    SHOW(ioctl(m, TIOCGPTLCK, &lock));
    SHOW(lock);
    CHECK(strcmp(ptsname(m), name) == 0);
    SHOW(isatty(m));
    SHOW(lseek(m, 0, SEEK_CUR));

    /* the slave, by name */
    s = OK(open(name, O_RDWR | O_NOCTTY));
    SHOW(isatty(s));
    SHOW(fstat(s, &ls));
    CHECK(ls.st_rdev == ss.st_rdev && ls.st_dev == ss.st_dev && ls.st_ino == ss.st_ino);
    CHECK(link_is(s, name));
    CHECK(ttyname(s) != NULL && strcmp(ttyname(s), name) == 0);
    SHOW(ptsname_r(s, buf, sizeof buf));
    SHOW(ioctl(s, TIOCGPTN, &n));
    SHOW(ioctl(s, TIOCGPTLCK, &lock));
    SHOW(ioctl(s, TIOCSPTLCK, &zero));
    SHOW(ioctl(s, TIOCGPTPEER, O_RDWR));
    SHOW(ioctl(s, TIOCGDEV, &dev));
    CHECK(major(dev) == 136 && minor(dev) == n);
    dev = 0;
    SHOW(ioctl(m, TIOCGDEV, &dev));
    CHECK(major(dev) == 136 && minor(dev) == n);
    SHOW(ioctl(m, TIOCGPGRP, &pg));
    SHOW(pg);
    SHOW(ioctl(s, TIOCGPGRP, &pg));
    SHOW(ioctl(s, TIOCGSID, &pg));
    SHOW(ioctl(m, TIOCGSID, &pg));
    SHOW(ioctl(s, TIOCNOTTY));
    SHOW(ioctl(m, TIOCSIG, 0));

    /* termios and the window size are the pair's */
    SHOW(tcgetattr(s, &t));
    OCT(t.c_lflag);
    OCT(t.c_oflag);
    raw = t;
    cfmakeraw(&raw);
    SHOW(tcsetattr(s, TCSANOW, &raw));
    SHOW(tcgetattr(m, &t2));
    CHECK(t2.c_lflag == raw.c_lflag && t2.c_iflag == raw.c_iflag && t2.c_oflag == raw.c_oflag);
    SHOW(tcsetattr(s, TCSADRAIN, &t));
    SHOW(tcsetattr(s, TCSAFLUSH, &t));
    SHOW(tcgetattr(s, &t2));
    CHECK(t2.c_lflag == t.c_lflag);
    SHOW(ioctl(m, TCGETS, BADPTR));
    SHOW(ioctl(m, TCSETS, BADPTR));
    SHOW(ioctl(m, TIOCSWINSZ, BADPTR));
    SHOW(ioctl(m, TIOCSWINSZ, &ws));
    SHOW(ioctl(s, TIOCGWINSZ, &ws2));
    printf("winsize %d x %d\n", ws2.ws_row, ws2.ws_col);
    SHOW(tcdrain(s));
    SHOW(tcflush(s, TCIOFLUSH));
    SHOW(tcflow(s, TCOON));

    /* data: echo and canonical input one way, ONLCR the other */
    SHOW(fcntl(m, F_SETFL, O_RDWR | O_NONBLOCK));
    SHOW(read(m, buf, sizeof buf));
    printf("master idle: %#x\n", revents(m, POLLIN | POLLOUT, 0));
    SHOW(fcntl(m, F_SETFL, O_RDWR));
    SHOW(write(m, "hello\n", 6));
    SHOW(read_str(s, buf, sizeof buf));
    printf("slave read \"%s\"\n", strtok(buf, "\n"));
    printf("master sees %#x\n", revents(m, POLLIN, 5000));
    SHOW(read_str(m, buf, sizeof buf));
    CHECK(strcmp(buf, "hello\r\n") == 0);
    SHOW(write(s, "abc\n", 4));
    printf("master sees %#x\n", revents(m, POLLIN, 5000));
    SHOW(ioctl(m, FIONREAD, &q));
    SHOW(q);
    SHOW(read_str(m, buf, sizeof buf));
    CHECK(strcmp(buf, "abc\r\n") == 0);
    SHOW(ioctl(m, TIOCPKT, &one));
    SHOW(write(s, "x", 1));
    revents(m, POLLIN, 5000);
    SHOW(read(m, buf, sizeof buf));
    printf("packet: %d '%c'\n", buf[0], buf[1]);
    SHOW(ioctl(m, TIOCPKT, &zero));

    /* TIOCGPTPEER: the slave without a path */
    p = OK(ioctl(m, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC | O_NONBLOCK));
    SHOW(fcntl(p, F_GETFD));
    SHOW(fcntl(p, F_GETFL) & (O_ACCMODE | O_NONBLOCK));
    SHOW(fstat(p, &ls));
    CHECK(ls.st_rdev == ss.st_rdev && ls.st_ino == ss.st_ino);
    CHECK(link_is(p, name));
    SHOW(read(p, buf, sizeof buf));
    SHOW(ioctl(BADFD, TIOCGPTPEER, O_RDWR));
    q = open("/dev/null", O_RDONLY);
    SHOW(ioctl(q, TIOCGPTPEER, O_RDWR));
    SHOW(ioctl(q, TIOCGPTN, &n));
    SHOW(close(q));

    session(m, name);

    /* hang-ups: the last slave closed, then the master */
    SHOW(close(p));
    SHOW(close(s));
    printf("master after slave closed: %#x\n", revents(m, POLLIN | POLLOUT, 0));
    SHOW(read(m, buf, sizeof buf));
    s = OK(open(name, O_RDWR | O_NOCTTY));
    printf("master after reopen: %#x\n", revents(m, POLLIN | POLLOUT, 0));
    SHOW(close(m));
    printf("slave after master closed: %#x\n", revents(s, POLLIN | POLLOUT, 0));
    SHOW(read(s, buf, sizeof buf));
    SHOW(write(s, "x", 1));
    SHOW(tcgetattr(s, &t));
    SHOW(stat(name, &ls));
    snprintf(buf, sizeof buf, "%s (deleted)", name);
    CHECK(link_is(s, buf));
    SHOW(in_dir("/dev/pts", name + 9));
    SHOW(close(s));

    /* the directory takes no new names */
    SHOW(mkdir("/dev/pts/x", 0755));
    SHOW(open("/dev/pts/x", O_CREAT | O_RDWR, 0600));
    SHOW(open("/dev/pts/9999", O_RDWR));
    SHOW(open("/dev/pts", O_RDWR));

    /* openpty(), which asks TIOCGPTPEER */
    {
        int a, b;
        char oname[64];
        SHOW(openpty(&a, &b, oname, NULL, &ws));
        CHECK(strncmp(oname, "/dev/pts/", 9) == 0);
        CHECK(ttyname(b) != NULL && strcmp(ttyname(b), oname) == 0);
        SHOW(ioctl(b, TIOCGWINSZ, &ws2));
        printf("winsize %d x %d\n", ws2.ws_row, ws2.ws_col);
        SHOW(close(a));
        SHOW(close(b));
    }
    return 0;
}
