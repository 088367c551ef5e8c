/*
 * SA_RESETHAND: the handler runs once, then the disposition is SIG_DFL.
 *
 * The host resets it; the supervisor's copy of the dispositions must follow,
 * because it decides how a signal that ends a wait with a signal mask of its
 * own (ppoll, pselect6) is delivered: a handler runs under the wait's mask,
 * so the copy saying "handler" for a signal now at SIG_DFL makes the next
 * handler run under the wrong mask. The case: SIGURG was reset to SIG_DFL
 * (ignored), SIGURG and SIGWINCH are both pending when ppoll lets them in;
 * Linux discards SIGURG and runs SIGWINCH's handler under ppoll's mask.
 * Also: what sigaction reports after the reset, a second SIGURG ignored by
 * a blocking read, SIG_IGN with SA_RESETHAND (never reset), a forked child's
 * copy, and a handler installed again after the reset.
 */
#include "common.h"
#include <poll.h>
#include <signal.h>
#include <sys/select.h>
#include <sys/wait.h>

static volatile int caught[65];
static volatile int usr1_blocked_in_handler = -1;

static void on_signal(int sig) { caught[sig]++; }

static void on_winch(int sig)
{
    sigset_t now;
    sigprocmask(SIG_SETMASK, NULL, &now);
    usr1_blocked_in_handler = sigismember(&now, SIGUSR1);
    caught[sig]++;
}

static void install(int sig, void (*handler)(int), int flags)
{
    struct sigaction sa = {0};
    sa.sa_handler = handler;
    sa.sa_flags = flags;
    sigaction(sig, &sa, NULL);
}

static const char *disposition(int sig)
{
    struct sigaction sa;
    sigaction(sig, NULL, &sa);
    if (sa.sa_handler == SIG_DFL)
        return "SIG_DFL";
    if (sa.sa_handler == SIG_IGN)
        return "SIG_IGN";
    return "handler";
}

static void block(int sig, int how)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, sig);
    sigprocmask(how, &set, NULL);
}

/* Both SIGURG (reset to SIG_DFL by now) and SIGWINCH pending when `wait` lets them in. */
static void both_pending(int use_ppoll)
{
    printf("-- %s: SIGURG (reset) and SIGWINCH pending\n", use_ppoll ? "ppoll" : "pselect");
    block(SIGUSR1, SIG_BLOCK);
    block(SIGURG, SIG_BLOCK);
    block(SIGWINCH, SIG_BLOCK);
    install(SIGWINCH, on_winch, 0);
    raise(SIGURG);
    raise(SIGWINCH);
    caught[SIGURG] = caught[SIGWINCH] = 0;
    usr1_blocked_in_handler = -1;
    sigset_t open;
    sigemptyset(&open);
    struct timespec ts = {5, 0};
    if (use_ppoll)
        SHOW(ppoll(NULL, 0, &ts, &open));
    else
        SHOW(pselect(0, NULL, NULL, NULL, &ts, &open));
    SHOW(caught[SIGURG]);
    SHOW(caught[SIGWINCH]);
    SHOW(usr1_blocked_in_handler);
    sigset_t now;
    sigprocmask(SIG_SETMASK, NULL, &now);
    printf("after: SIGUSR1 blocked %d, SIGURG blocked %d\n", sigismember(&now, SIGUSR1), sigismember(&now, SIGURG));
    sigset_t pending;
    sigpending(&pending);
    printf("still pending: SIGURG %d SIGWINCH %d\n", sigismember(&pending, SIGURG), sigismember(&pending, SIGWINCH));
    block(SIGURG, SIG_UNBLOCK);
    block(SIGWINCH, SIG_UNBLOCK);
    block(SIGUSR1, SIG_UNBLOCK);
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);

    printf("-- SA_RESETHAND: the handler runs once\n");
    install(SIGURG, on_signal, SA_RESETHAND);
    printf("before: %s\n", disposition(SIGURG));
    raise(SIGURG);
    SHOW(caught[SIGURG]);
    printf("after: %s\n", disposition(SIGURG));
    raise(SIGURG);
    SHOW(caught[SIGURG]);

    both_pending(1);

    printf("-- a reset handler's copy in a forked child\n");
    install(SIGURG, on_signal, SA_RESETHAND);
    pid_t child = fork();
    if (child == 0) {
        raise(SIGURG);
        printf("child: caught %d, then %s\n", caught[SIGURG], disposition(SIGURG));
        both_pending(0);
        _exit(0);
    }
    waitpid(child, NULL, 0);
    printf("parent: still %s\n", disposition(SIGURG));
    raise(SIGURG);
    SHOW(caught[SIGURG]);
    both_pending(0);

    printf("-- a blocking read, SIGURG sent twice by a child\n");
    install(SIGURG, on_signal, SA_RESETHAND);
    caught[SIGURG] = 0;
    int p[2];
    pipe(p);
    pid_t parent = getpid();
    child = fork();
    if (child == 0) {
        usleep(50000);
        kill(parent, SIGURG);
        usleep(50000);
        kill(parent, SIGURG);
        usleep(50000);
        write(p[1], "x", 1);
        _exit(0);
    }
    char c;
    SHOW(read(p[0], &c, 1));           /* EINTR: the handler ran, no SA_RESTART */
    SHOW(caught[SIGURG]);
    SHOW(read(p[0], &c, 1));           /* SIGURG is SIG_DFL now: the read goes on */
    SHOW(caught[SIGURG]);
    waitpid(child, NULL, 0);

    printf("-- SA_RESETHAND with SA_RESTART: restarted once, then ignored\n");
    install(SIGURG, on_signal, SA_RESETHAND | SA_RESTART);
    caught[SIGURG] = 0;
    child = fork();
    if (child == 0) {
        usleep(50000);
        kill(parent, SIGURG);
        usleep(50000);
        kill(parent, SIGURG);
        usleep(50000);
        write(p[1], "y", 1);
        _exit(0);
    }
    SHOW(read(p[0], &c, 1));
    SHOW(caught[SIGURG]);
    printf("now: %s\n", disposition(SIGURG));
    waitpid(child, NULL, 0);

    printf("-- SIG_IGN with SA_RESETHAND stays SIG_IGN\n");
    struct sigaction sa = {0};
    sa.sa_handler = SIG_IGN;
    sa.sa_flags = SA_RESETHAND;
    sigaction(SIGUSR2, &sa, NULL);
    raise(SIGUSR2);
    printf("SIGUSR2: %s\n", disposition(SIGUSR2));
    return 0;
}
