/*
 * O_ASYNC (fasync): SIGIO, or F_SETSIG's signal, to the owner of a pipe end at
 * every write (readers) and read (writers) and at the other end's close; of
 * a socket when data arrives; of an inotify fd at an event. F_SETFL leaves
 * O_ASYNC alone on files without a fasync operation (FIOASYNC is ENOTTY
 * there), and open() keeps it without arming it.
 */
#include "common.h"
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/inotify.h>
static volatile int got[65], lastfd, lastcode;
static void h(int s, siginfo_t *si, void *u) { got[s]++; lastfd = si->si_fd; lastcode = si->si_code; }
int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    struct sigaction sa = {.sa_sigaction = h, .sa_flags = SA_SIGINFO | SA_RESTART};
    sigaction(SIGIO, &sa, NULL); sigaction(SIGRTMIN + 1, &sa, NULL);
    int p[2]; pipe(p);
    fcntl(p[0], F_SETOWN, getpid());
    SHOW(fcntl(p[0], F_SETFL, O_ASYNC));
    write(p[1], "a", 1); printf("after write: SIGIO %d\n", got[SIGIO]);
    write(p[1], "b", 1); printf("after 2nd write: SIGIO %d\n", got[SIGIO]);
    char c; read(p[0], &c, 1); printf("after read: SIGIO %d\n", got[SIGIO]);
    fcntl(p[0], F_SETSIG, SIGRTMIN + 1);
    write(p[1], "c", 1); printf("F_SETSIG: rt %d\n", got[SIGRTMIN + 1]);
    close(p[1]); printf("after writer close: rt %d\n", got[SIGRTMIN + 1]);
    SHOW(fcntl(p[0], F_SETFL, 0));
    int q[2]; pipe(q); write(q[1], "x", 1);
    int on = 1; fcntl(q[1], F_SETOWN, getpid()); SHOW(ioctl(q[1], FIOASYNC, &on));
    read(q[0], &c, 1); printf("writer side after read: SIGIO %d\n", got[SIGIO]);
    int s[2]; socketpair(AF_UNIX, SOCK_STREAM, 0, s);
    fcntl(s[0], F_SETOWN, getpid()); fcntl(s[0], F_SETFL, O_ASYNC | O_NONBLOCK);
    int before = got[SIGIO];
    send(s[1], "hi", 2, 0); printf("socket data: SIGIO +%d\n", got[SIGIO] - before);
    int in = inotify_init1(0); fcntl(in, F_SETOWN, getpid()); fcntl(in, F_SETFL, O_ASYNC);
    inotify_add_watch(in, "/tmp", IN_CREATE); before = got[SIGIO];
    close(open("/tmp/as_probe_file", O_CREAT | O_WRONLY, 0600)); unlink("/tmp/as_probe_file");
    printf("inotify: SIGIO +%d\n", got[SIGIO] - before);
    int f = open("/etc/passwd", O_RDONLY);
    SHOW(fcntl(f, F_SETFL, O_ASYNC));
    SHOW(fcntl(f, F_GETFL) & O_ASYNC);
    SHOW(ioctl(f, FIOASYNC, &on));
    int g = open("/etc/passwd", O_RDONLY | O_ASYNC);
    SHOW(fcntl(g, F_GETFL) & O_ASYNC);
    SHOW(fcntl(g, F_SETFL, 0));
    SHOW(fcntl(g, F_GETFL) & O_ASYNC);
    return 0;
}
