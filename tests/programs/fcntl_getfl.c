/* F_GETFL of a file of each kind, made with its close-on-exec flag: the status
 * flags each open path leaves (open(2) strips O_CLOEXEC, TIOCGPTPEER's
 * dentry_open keeps it; anonymous files keep only the access mode and
 * O_NONBLOCK; a memfd is O_LARGEFILE). */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <unistd.h>

static void show(const char *what, int fd)
{
    if (fd < 0)
        printf("%-32s failed\n", what);
    else
        printf("%-32s %#x\n", what, fcntl(fd, F_GETFL));
}

int main(void)
{
    sigset_t none;
    int p[2], sv[2];
    sigemptyset(&none);
    show("open O_CLOEXEC", open("/etc/passwd", O_RDONLY | O_CLOEXEC));
    show("open O_CLOEXEC|O_NONBLOCK|O_APPEND", open("/dev/null", O_WRONLY | O_CLOEXEC | O_NONBLOCK | O_APPEND));
    show("eventfd EFD_CLOEXEC", eventfd(0, EFD_CLOEXEC));
    show("eventfd EFD_CLOEXEC|EFD_NONBLOCK", eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    show("epoll_create1 EPOLL_CLOEXEC", epoll_create1(EPOLL_CLOEXEC));
    show("timerfd_create TFD_CLOEXEC", timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC));
    show("signalfd SFD_CLOEXEC", signalfd(-1, &none, SFD_CLOEXEC));
    show("inotify_init1 IN_CLOEXEC", inotify_init1(IN_CLOEXEC));
    if (pipe2(p, O_CLOEXEC) == 0) {
        show("pipe2 O_CLOEXEC, read end", p[0]);
        show("pipe2 O_CLOEXEC, write end", p[1]);
    }
    show("socket SOCK_CLOEXEC", socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0)
        show("socketpair SOCK_CLOEXEC", sv[0]);
    show("memfd_create MFD_CLOEXEC", memfd_create("x", MFD_CLOEXEC));
    show("pidfd_open", syscall(SYS_pidfd_open, getpid(), 0));
    show("dup3 O_CLOEXEC", dup3(0, 40, O_CLOEXEC));
    show("fcntl F_DUPFD_CLOEXEC", fcntl(0, F_DUPFD_CLOEXEC, 50));
    int master = posix_openpt(O_RDWR | O_NOCTTY);
    if (master >= 0 && grantpt(master) == 0 && unlockpt(master) == 0) {
        show("TIOCGPTPEER O_CLOEXEC", ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC));
        show("TIOCGPTPEER", ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY));
    }
    return 0;
}
