/*
 * The native core of the ptrace platform: launching the sandbox, waiting for
 * and decoding stops, completing syscalls, copying memory, injecting syscalls.
 * Every function is one job, returns a negative errno on failure and never
 * calls back into Python.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <linux/audit.h>
#include <linux/capability.h>
#include <linux/futex.h>
#include <linux/filter.h>
#include <linux/ptrace.h>
#include <linux/seccomp.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>

#include "core.h"

/* ---------------------------------------------------------------- stops */

static long sys_ptrace(long req, long pid, unsigned long addr, unsigned long data)
{
    long r = syscall(SYS_ptrace, req, pid, addr, data);
    return r < 0 ? -errno : r;
}

/* Fill s from the wait status of a stopped or dead thread. */
static void decode(struct stop *s, int pid, int status)
{
    memset(s, 0, sizeof(*s));
    s->pid = pid;
    s->status = status;
    if (WIFEXITED(status) || WIFSIGNALED(status)) {
        s->kind = STOP_DEAD;
        return;
    }
    int sig = WSTOPSIG(status);
    int event = (unsigned)status >> 16;
    s->sig = sig;
    s->event = event;
    if (event == PTRACE_EVENT_SECCOMP || sig == (SIGTRAP | 0x80)) {
        struct ptrace_syscall_info info;
        long n = sys_ptrace(PTRACE_GET_SYSCALL_INFO, pid, sizeof(info),
                            (unsigned long)&info);
        if (n < 0) {
            s->kind = STOP_GONE;
            return;
        }
        s->rip = info.instruction_pointer;
        s->rsp = info.stack_pointer;
        if (info.op == PTRACE_SYSCALL_INFO_EXIT) {
            s->kind = STOP_SYSCALL_EXIT;
            s->rval = info.exit.rval;
            return;
        }
        /* seccomp and entry stops share the layout of nr and args */
        s->kind = info.op == PTRACE_SYSCALL_INFO_SECCOMP ? STOP_SECCOMP
                                                          : STOP_SYSCALL_ENTRY;
        s->nr = info.entry.nr;
        for (int i = 0; i < 6; i++)
            s->args[i] = info.entry.args[i];
        return;
    }
    if (event == PTRACE_EVENT_STOP) {
        s->kind = STOP_GROUP;
        return;
    }
    if (event) {
        unsigned long msg = 0;
        sys_ptrace(PTRACE_GETEVENTMSG, pid, 0, (unsigned long)&msg);
        s->kind = STOP_EVENT;
        s->msg = msg;
        return;
    }
    s->kind = STOP_SIGNAL;
}

/* Wait for the next stop of pid (-1: any tracee). 0, or -errno (EINTR, ECHILD). */
int wait_stop(int pid, struct stop *s)
{
    int status;
    int r = waitpid(pid, &status, __WALL);
    if (r < 0)
        return -errno;
    decode(s, r, status);
    return 0;
}

/* Non-blocking variant: 1 if a stop was decoded, 0 if none is ready. */
int poll_stop(struct stop *s)
{
    int status;
    int r = waitpid(-1, &status, __WALL | WNOHANG);
    if (r < 0)
        return -errno;
    if (r == 0)
        return 0;
    decode(s, r, status);
    return 1;
}

/* Attach to the program with our options before it runs (PTRACE_SEIZE). */
int seize(int pid, unsigned long options)
{
    return (int)sys_ptrace(PTRACE_SEIZE, pid, 0, options);
}

int resume(int pid, int request, int sig)
{
    return (int)sys_ptrace(request, pid, 0, sig);
}

#define REG_OFF(name) offsetof(struct user_regs_struct, name)

/*
 * Answer the syscall at a seccomp stop: skip it (orig_rax = -1) with result
 * in rax. At a syscall-exit stop only rax needs setting.
 */
int complete(int pid, int at_exit, long result)
{
    long r;
    if (!at_exit) {
        r = sys_ptrace(PTRACE_POKEUSR, pid, REG_OFF(orig_rax), (unsigned long)-1);
        if (r < 0)
            return (int)r;
    }
    r = sys_ptrace(PTRACE_POKEUSR, pid, REG_OFF(rax), (unsigned long)result);
    if (r < 0)
        return (int)r;
    return (int)sys_ptrace(PTRACE_CONT, pid, 0, 0);
}

/* The fused hot path: answer one syscall, then wait for the next stop. */
int complete_and_wait(int pid, int at_exit, long result, struct stop *s)
{
    int r = complete(pid, at_exit, result);
    if (r < 0 && r != -ESRCH)
        return r;
    for (;;) {
        r = wait_stop(-1, s);
        if (r != -EINTR)
            return r;
        s->kind = STOP_NONE;
        return r;
    }
}

/* Let the host run the syscall (or just continue), then wait for the next stop. */
int resume_and_wait(int pid, int request, int sig, struct stop *s)
{
    int r = (int)sys_ptrace(request, pid, 0, sig);
    if (r < 0 && r != -ESRCH)
        return r;
    return wait_stop(-1, s);
}

int get_regs(int pid, struct user_regs_struct *regs)
{
    return (int)sys_ptrace(PTRACE_GETREGS, pid, 0, (unsigned long)regs);
}

int set_regs(int pid, const struct user_regs_struct *regs)
{
    return (int)sys_ptrace(PTRACE_SETREGS, pid, 0, (unsigned long)regs);
}

/* The siginfo of the signal a thread is stopped for (128 bytes). */
int get_siginfo(int pid, void *buf)
{
    return (int)sys_ptrace(PTRACE_GETSIGINFO, pid, 0, (unsigned long)buf);
}

int set_siginfo(int pid, const void *buf)
{
    return (int)sys_ptrace(PTRACE_SETSIGINFO, pid, 0, (unsigned long)buf);
}

int get_sigmask(int pid, uint64_t *mask)
{
    return (int)sys_ptrace(PTRACE_GETSIGMASK, pid, sizeof(*mask), (unsigned long)mask);
}

int set_sigmask(int pid, uint64_t mask)
{
    return (int)sys_ptrace(PTRACE_SETSIGMASK, pid, sizeof(mask), (unsigned long)&mask);
}

/* --------------------------------------------------------------- memory */

typedef ssize_t (*vm_copy_fn)(pid_t, const struct iovec *, unsigned long,
                              const struct iovec *, unsigned long, unsigned long);

/*
 * Copy len bytes between us and the tracee with process_vm_readv/writev.
 * Returns the number copied, short only when a fault stopped the copy;
 * -EFAULT if nothing could be copied. A copy that spans an unmapped page
 * fails whole, so on failure it retries up to the end of the page.
 */
static long vm_copy(vm_copy_fn fn, int pid, uint64_t addr, void *buf, size_t len)
{
    size_t done = 0;
    while (done < len) {
        struct iovec local = { (char *)buf + done, len - done };
        struct iovec remote = { (void *)(uintptr_t)(addr + done), len - done };
        ssize_t n = fn(pid, &local, 1, &remote, 1, 0);
        if (n <= 0) {
            size_t chunk = 4096 - ((addr + done) & 4095);
            if (chunk >= len - done)
                break;
            local.iov_len = remote.iov_len = chunk;
            n = fn(pid, &local, 1, &remote, 1, 0);
            if (n <= 0)
                break;
        }
        done += n;
    }
    if (done == 0 && len > 0)
        return -EFAULT;
    return (long)done;
}

long mem_read(int pid, uint64_t addr, void *buf, size_t len)
{
    return vm_copy(process_vm_readv, pid, addr, buf, len);
}

/* Honours page protections as the program's own write would. */
long mem_write(int pid, uint64_t addr, const void *buf, size_t len)
{
    return vm_copy(process_vm_writev, pid, addr, (void *)buf, len);
}

/* Write through /proc/pid/mem, which may write read-only pages (the loader needs it). */
long mem_write_force(int pid, uint64_t addr, const void *buf, size_t len)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/mem", pid);
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    ssize_t n = pwrite(fd, buf, len, (off_t)addr);
    int err = errno;
    close(fd);
    return n < 0 ? -err : n;
}

/*
 * Read a NUL-terminated string of at most max bytes (NUL excluded) into buf,
 * which holds max + 1 bytes. Returns its length, -EFAULT, or -ENAMETOOLONG.
 * Reads page by page so that a string ending just before an unmapped page works.
 */
long read_cstring(int pid, uint64_t addr, char *buf, size_t max)
{
    size_t done = 0;
    while (done <= max) {
        size_t chunk = 4096 - ((addr + done) & 4095);
        if (chunk > max + 1 - done)
            chunk = max + 1 - done;
        struct iovec local = { buf + done, chunk };
        struct iovec remote = { (void *)(uintptr_t)(addr + done), chunk };
        ssize_t n = process_vm_readv(pid, &local, 1, &remote, 1, 0);
        if (n <= 0)
            return -EFAULT;
        char *nul = memchr(buf + done, 0, n);
        if (nul)
            return nul - buf;
        done += n;
    }
    return -ENAMETOOLONG;
}

/* ------------------------------------------------------------ injection */

/*
 * Wait for the syscall stop of pid that an injection expects, passing over
 * anything else that thread does meanwhile. Signals are blocked during an
 * injection (set_sigmask), so only SIGKILL/SIGSTOP can interfere.
 */
static int wait_injected(int pid, int want, struct stop *s)
{
    for (;;) {
        int r = wait_stop(pid, s);
        if (r == -EINTR)
            continue;
        if (r < 0)
            return r;
        if (s->kind == want || (want == STOP_SECCOMP && s->kind == STOP_SYSCALL_EXIT))
            return 0;
        if (s->kind == STOP_DEAD || s->kind == STOP_GONE)
            return -ESRCH;
        if (s->kind == STOP_EVENT && s->event == PTRACE_EVENT_EXIT) {
            /* killed on its way: let it finish dying, so that the event loop
               sees its death (this stop was ours to take, and is gone) */
            sys_ptrace(PTRACE_CONT, pid, 0, 0);
            return -ESRCH;
        }
        /* a group stop or a signal we cannot block: let the thread go on */
        int sig = s->kind == STOP_SIGNAL ? s->sig : 0;
        if (sys_ptrace(PTRACE_SYSCALL, pid, 0, sig) < 0)
            return -ESRCH;
    }
}

/*
 * Is the thread stopped at exactly the syscall an injection set up: nr with
 * these six arguments, entered from the syscall instruction at insn? Anything
 * else means the program got between us and the kernel (DESIGN §3).
 */
static int is_injected(const struct stop *s, uint64_t insn, long nr, const uint64_t *args)
{
    if (s->nr != nr || s->rip != insn + 2)
        return 0;
    for (int i = 0; i < 6; i++)
        if (s->args[i] != args[i])
            return 0;
    return 1;
}

/* An injection was led astray: the process goes, and we say so (-EPERM). */
static int hijacked(int pid)
{
    kill(pid, SIGKILL);
    return -EPERM;
}

/*
 * Run syscall nr(args) inside the stopped thread pid and store its result.
 * at_seccomp: the thread sits at a seccomp stop, whose syscall is replaced;
 * otherwise it sits at a syscall-exit stop and is pointed at the syscall
 * instruction insn (the stub's, which the program cannot change), and its
 * entry and seccomp stops must be that very syscall, or the process is
 * killed (-EPERM). Either way it ends at a syscall-exit stop. The caller
 * saves and restores the registers around a sequence of injections.
 */
int inject_syscall(int pid, int at_seccomp, uint64_t insn, long nr,
                   const uint64_t *args, long *result)
{
    struct user_regs_struct regs;
    struct stop s;
    int r = get_regs(pid, &regs);
    if (r < 0)
        return r;
    regs.orig_rax = nr;
    regs.rax = nr;
    regs.rdi = args[0];
    regs.rsi = args[1];
    regs.rdx = args[2];
    regs.r10 = args[3];
    regs.r8 = args[4];
    regs.r9 = args[5];
    if (!at_seccomp)
        regs.rip = insn;
    r = set_regs(pid, &regs);
    if (r < 0)
        return r;
    if (!at_seccomp) {
        /*
         * Enter the syscall under PTRACE_SYSCALL: an entry stop comes first,
         * then a seccomp stop if the filter traps this call (it may allow it).
         */
        if (sys_ptrace(PTRACE_SYSCALL, pid, 0, 0) < 0)
            return -ESRCH;
        r = wait_injected(pid, STOP_SYSCALL_ENTRY, &s);
        if (r < 0)
            return r;
        if (!is_injected(&s, insn, nr, args))
            return hijacked(pid);
        if (sys_ptrace(PTRACE_SYSCALL, pid, 0, 0) < 0)
            return -ESRCH;
        r = wait_injected(pid, STOP_SECCOMP, &s);
        if (r < 0)
            return r;
        if (s.kind == STOP_SECCOMP && !is_injected(&s, insn, nr, args))
            return hijacked(pid);
        if (s.kind == STOP_SYSCALL_EXIT) {
            *result = s.rval;
            return 0;
        }
    }
    if (sys_ptrace(PTRACE_SYSCALL, pid, 0, 0) < 0)
        return -ESRCH;
    r = wait_injected(pid, STOP_SYSCALL_EXIT, &s);
    if (r < 0)
        return r;
    *result = s.rval;
    return 0;
}

/* Send sig to one thread of a traced process (the model raises SIGPIPE so). */
int host_tgkill(int tgid, int tid, int sig)
{
    return syscall(SYS_tgkill, tgid, tid, sig) < 0 ? -errno : 0;
}

/* Wake every thread waiting on the futex word at addr (our own mapping of a shared page). */
int futex_wake(uint32_t *addr)
{
    long n = syscall(SYS_futex, addr, FUTEX_WAKE, 0x7fffffff, NULL, NULL, 0);
    return n < 0 ? -errno : (int)n;
}

/*
 * The host waker (DESIGN §4): a thread of the supervisor that waits in epoll
 * for the host fds parked syscalls depend on (a socket, the terminal) and
 * ends the park of the thread that waits, as wake() does from Python: the
 * park word changes and the futex is woken. Each registration is a dup of
 * the host fd, one-shot, keyed by the thread's park slot; the supervisor
 * removes it when the wait ends. A late wake-up of a slot whose thread has
 * moved on is spurious, and a parked syscall takes spurious wake-ups (it
 * retries and parks again). The thread blocks every signal and makes no
 * other call; it costs nothing while no such wait exists.
 *
 * A registration keyed by a token (WAKER_TOKEN set) is for the supervisor
 * itself, when no thread of the program waits (an io_uring request on a
 * socket while the program polls its CQ ring): the token is queued, and the
 * supervisor's main thread is sent `sig`, which ends its wait for a stop, to
 * take the queue (waker_take). A signal that comes while the main thread is
 * not in that wait is not seen, so it is sent again every millisecond until
 * the queue is taken. The waker's timerfd (waker_alarm) queues WAKER_ALARM:
 * the kernel's timers have a clock even when no thread is parked.
 */
#define WAKER_TOKEN (1ull << 32)
#define WAKER_QUEUE_MAX 4096
static int waker_epfd = -1, waker_tfd = -1;
static uint32_t *waker_words;
static int waker_main_tid, waker_sig;
static pthread_mutex_t waker_lock = PTHREAD_MUTEX_INITIALIZER;
static uint32_t waker_queue[WAKER_QUEUE_MAX];
static unsigned waker_queued;

static void waker_tell(uint32_t token)
{
    pthread_mutex_lock(&waker_lock);
    if (waker_queued < WAKER_QUEUE_MAX)
        waker_queue[waker_queued++] = token;
    pthread_mutex_unlock(&waker_lock);
}

static void *waker_main(void *arg)
{
    struct epoll_event events[64];
    for (;;) {
        int told = __atomic_load_n(&waker_queued, __ATOMIC_SEQ_CST) != 0;
        int n = epoll_wait(waker_epfd, events, 64, told ? 1 : -1);
        for (int i = 0; i < n; i++) {
            uint64_t data = events[i].data.u64;
            if (data & WAKER_TOKEN) {
                if ((uint32_t)data == WAKER_ALARM) {
                    uint64_t ticks;
                    if (read(waker_tfd, &ticks, sizeof ticks) < 0)
                        continue;
                }
                waker_tell((uint32_t)data);
                continue;
            }
            uint32_t *word = waker_words + (uint32_t)data;
            __atomic_fetch_add(word, 1, __ATOMIC_SEQ_CST);
            syscall(SYS_futex, word, FUTEX_WAKE, 0x7fffffff, NULL, NULL, 0);
        }
        if (__atomic_load_n(&waker_queued, __ATOMIC_SEQ_CST) != 0)
            syscall(SYS_tgkill, getpid(), waker_main_tid, waker_sig);
    }
    return arg;
}

/* Start the waker over the park words at `words` (once), telling the calling
 * thread of tokens by `sig`; 0 or -errno. */
int waker_start(uint32_t *words, int sig)
{
    pthread_t thread;
    pthread_attr_t attr;
    sigset_t all, old;
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = WAKER_TOKEN | WAKER_ALARM};
    int r;
    if (waker_epfd >= 0)
        return 0;
    waker_epfd = epoll_create1(EPOLL_CLOEXEC);
    if (waker_epfd < 0)
        return -errno;
    waker_tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
    if (waker_tfd < 0 || epoll_ctl(waker_epfd, EPOLL_CTL_ADD, waker_tfd, &ev) < 0) {
        r = -errno;
        goto fail;
    }
    waker_words = words;
    waker_main_tid = (int)syscall(SYS_gettid);
    waker_sig = sig;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, 64 * 1024);
    r = pthread_create(&thread, &attr, waker_main, NULL);
    pthread_attr_destroy(&attr);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (r == 0)
        return 0;
    r = -r;
fail:
    if (waker_tfd >= 0)
        close(waker_tfd);
    close(waker_epfd);
    waker_epfd = waker_tfd = -1;
    return r;
}

/* Wake park slot `slot` when host fd `fd` has one of `events` (poll bits), or,
 * with `token` (slot ignored), queue token (< WAKER_ALARM) for the supervisor:
 * returns the registration (a dup of fd) for waker_remove, or -errno. */
int waker_add(int fd, uint32_t events, uint32_t slot, int token)
{
    struct epoll_event ev;
    int dup = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (dup < 0)
        return -errno;
    ev.events = events | EPOLLONESHOT;
    ev.data.u64 = token ? WAKER_TOKEN | slot : slot;
    if (epoll_ctl(waker_epfd, EPOLL_CTL_ADD, dup, &ev) < 0) {
        int err = errno;
        close(dup);
        return -err;
    }
    return dup;
}

/* The queued tokens, at most `max` into `out` (the rest stay queued): their count. */
int waker_take(uint32_t *out, int max)
{
    pthread_mutex_lock(&waker_lock);
    unsigned n = waker_queued < (unsigned)max ? waker_queued : (unsigned)max;
    memcpy(out, waker_queue, n * sizeof *out);
    memmove(waker_queue, waker_queue + n, (waker_queued - n) * sizeof *out);
    __atomic_store_n(&waker_queued, waker_queued - n, __ATOMIC_SEQ_CST);
    pthread_mutex_unlock(&waker_lock);
    return (int)n;
}

/* Queue WAKER_ALARM at CLOCK_MONOTONIC time sec.nsec (0.0: never); 0 or -errno. */
int waker_alarm(int64_t sec, long nsec)
{
    struct itimerspec t = {.it_value = {.tv_sec = sec, .tv_nsec = nsec}};
    return timerfd_settime(waker_tfd, TFD_TIMER_ABSTIME, &t, NULL) < 0 ? -errno : 0;
}

void waker_remove(int reg)
{
    epoll_ctl(waker_epfd, EPOLL_CTL_DEL, reg, NULL);
    close(reg);
}

/*
 * The publisher (-p, DESIGN §12): a thread of the supervisor, which lives in
 * the sandbox's network namespace, that serves sockets made in the host's
 * namespace before the sandbox began. A TCP listener's connections are each
 * connected to 127.0.0.1:PORT inside, and bytes are copied both ways,
 * half-closes included. A UDP socket's datagrams go to 127.0.0.1:PORT from a
 * socket of their own per client address (a flow, as docker-proxy's), whose
 * answers go back to that client; a flow idle for PUBLISH_UDP_IDLE seconds is
 * closed. Everything is non-blocking and level-triggered; memory is bounded
 * by PUBLISH_MAX_CONNS connections of two buffers each and PUBLISH_MAX_FLOWS
 * flows (the oldest goes first).
 */
#define PUBLISH_BUF 65536
#define PUBLISH_MAX_CONNS 256
#define PUBLISH_MAX_FLOWS 256
#define PUBLISH_UDP_IDLE 90

enum { PUB_TCP_LISTENER, PUB_TCP_SIDE, PUB_UDP_SOCKET, PUB_UDP_FLOW };

struct pub_end {
    int kind;
    struct pub_conn *conn;      /* PUB_TCP_SIDE: its connection */
    int side;                   /* 0: the host's client, 1: the sandbox's server */
    int listen_fd, port;        /* the host socket, and the sandbox's port it serves */
};

struct pub_flow {
    struct pub_end end;         /* (first: events name the flow by it) */
    int fd;                     /* connected to 127.0.0.1:port inside */
    struct sockaddr_storage client;
    socklen_t client_len;
    time_t last;
    struct pub_flow *next;
};

static struct pub_flow *publish_flows;
static int publish_nflows;

struct pub_dir {
    char buf[PUBLISH_BUF];
    size_t off, len;
    int eof, shut;
};

struct pub_conn {
    int fd[2];
    struct pub_end end[2];
    struct pub_dir dir[2];      /* dir[i]: bytes read from fd[i], to be written to fd[1 - i] */
};

static int publish_epfd = -1;
static int publish_conns;

static void pub_close(struct pub_conn *c)
{
    for (int i = 0; i < 2; i++) {
        epoll_ctl(publish_epfd, EPOLL_CTL_DEL, c->fd[i], NULL);
        close(c->fd[i]);
    }
    free(c);
    publish_conns--;
}

/* Move what can be moved; 0 to go on, -1 when the connection is over. */
static int pub_pump(struct pub_conn *c)
{
    for (int i = 0; i < 2; i++) {
        struct pub_dir *d = &c->dir[i];
        for (;;) {
            if (d->len == 0 && !d->eof) {
                ssize_t n = read(c->fd[i], d->buf, PUBLISH_BUF);
                if (n > 0) {
                    d->off = 0;
                    d->len = n;
                } else if (n == 0) {
                    d->eof = 1;
                } else if (errno == EAGAIN || errno == EINTR) {
                    break;
                } else {
                    return -1;
                }
            }
            if (d->len > 0) {
                ssize_t n = send(c->fd[1 - i], d->buf + d->off, d->len, MSG_NOSIGNAL);
                if (n > 0) {
                    d->off += n;
                    d->len -= n;
                    continue;
                }
                if (n < 0 && errno != EAGAIN && errno != EINTR)
                    return -1;
                break;
            }
            if (d->eof && !d->shut) {
                shutdown(c->fd[1 - i], SHUT_WR);
                d->shut = 1;
            }
            break;
        }
    }
    if (c->dir[0].shut && c->dir[1].shut)
        return -1;
    for (int i = 0; i < 2; i++) {
        struct epoll_event ev = { 0, { .ptr = &c->end[i] } };
        if (c->dir[i].len == 0 && !c->dir[i].eof)
            ev.events |= EPOLLIN;
        if (c->dir[1 - i].len > 0)
            ev.events |= EPOLLOUT;
        epoll_ctl(publish_epfd, EPOLL_CTL_MOD, c->fd[i], &ev);
    }
    return 0;
}

/* A socket connected (or connecting) to 127.0.0.1:port inside, or -1. */
static int pub_inside(int type, int port)
{
    struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(port),
                              .sin_addr = { htonl(INADDR_LOOPBACK) } };
    int fd = socket(AF_INET, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&to, sizeof(to)) < 0 && errno != EINPROGRESS) {
        close(fd);
        return -1;
    }
    return fd;
}

static void pub_accept(struct pub_end *l)
{
    int client = accept4(l->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (client < 0)
        return;
    if (publish_conns >= PUBLISH_MAX_CONNS) {
        close(client);
        return;
    }
    int server = pub_inside(SOCK_STREAM, l->port);
    if (server < 0) {
        close(client);
        return;
    }
    struct pub_conn *c = calloc(1, sizeof(*c));
    if (c == NULL) {
        close(client);
        close(server);
        return;
    }
    publish_conns++;
    c->fd[0] = client;
    c->fd[1] = server;
    for (int i = 0; i < 2; i++) {
        struct epoll_event ev = { EPOLLIN | EPOLLOUT, { .ptr = &c->end[i] } };
        c->end[i].kind = PUB_TCP_SIDE;
        c->end[i].conn = c;
        c->end[i].side = i;
        epoll_ctl(publish_epfd, EPOLL_CTL_ADD, c->fd[i], &ev);
    }
}

static void pub_flow_close(struct pub_flow *f)
{
    struct pub_flow **p = &publish_flows;
    while (*p != f)
        p = &(*p)->next;
    *p = f->next;
    epoll_ctl(publish_epfd, EPOLL_CTL_DEL, f->fd, NULL);
    close(f->fd);
    free(f);
    publish_nflows--;
}

/* The flow of a client of UDP socket l, made if new (the oldest flow goes if there are too many). */
static struct pub_flow *pub_flow(struct pub_end *l, const struct sockaddr_storage *from, socklen_t len)
{
    struct pub_flow *f, *oldest = NULL;
    for (f = publish_flows; f != NULL; f = f->next) {
        if (f->end.listen_fd == l->listen_fd && f->client_len == len && memcmp(&f->client, from, len) == 0)
            return f;
        if (oldest == NULL || f->last < oldest->last)
            oldest = f;
    }
    if (publish_nflows >= PUBLISH_MAX_FLOWS)
        pub_flow_close(oldest);
    f = calloc(1, sizeof(*f));
    if (f == NULL)
        return NULL;
    f->fd = pub_inside(SOCK_DGRAM, l->port);
    if (f->fd < 0) {
        free(f);
        return NULL;
    }
    f->end = *l;
    f->end.kind = PUB_UDP_FLOW;
    memcpy(&f->client, from, len);
    f->client_len = len;
    struct epoll_event ev = { EPOLLIN, { .ptr = f } };
    epoll_ctl(publish_epfd, EPOLL_CTL_ADD, f->fd, &ev);
    f->next = publish_flows;
    publish_flows = f;
    publish_nflows++;
    return f;
}

static char pub_datagram[65536];

static void pub_udp_in(struct pub_end *l)
{
    for (;;) {
        struct sockaddr_storage from;
        socklen_t len = sizeof(from);
        ssize_t n = recvfrom(l->listen_fd, pub_datagram, sizeof(pub_datagram), 0, (struct sockaddr *)&from, &len);
        if (n < 0)
            return;
        struct pub_flow *f = pub_flow(l, &from, len);
        if (f == NULL)
            continue;
        f->last = time(NULL);
        send(f->fd, pub_datagram, n, 0);
    }
}

static void pub_udp_out(struct pub_flow *f)
{
    for (;;) {
        ssize_t n = recv(f->fd, pub_datagram, sizeof(pub_datagram), 0);
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR)
                return;
            continue;           /* ECONNREFUSED and the like: the error is taken, go on */
        }
        f->last = time(NULL);
        sendto(f->end.listen_fd, pub_datagram, n, 0, (struct sockaddr *)&f->client, f->client_len);
    }
}

static void pub_expire(void)
{
    time_t now = time(NULL);
    struct pub_flow *f = publish_flows;
    while (f != NULL) {
        struct pub_flow *next = f->next;
        if (now - f->last > PUBLISH_UDP_IDLE)
            pub_flow_close(f);
        f = next;
    }
}

static void *publish_main(void *arg)
{
    struct epoll_event events[64];
    for (;;) {
        int n = epoll_wait(publish_epfd, events, 64, publish_flows ? 10000 : -1);
        for (int i = 0; i < n; i++) {
            struct pub_end *e = events[i].data.ptr;
            if (e == NULL)
                continue;           /* a connection closed earlier in this batch */
            if (e->kind == PUB_TCP_LISTENER) {
                pub_accept(e);
                continue;
            }
            if (e->kind == PUB_UDP_SOCKET) {
                pub_udp_in(e);
                continue;
            }
            if (e->kind == PUB_UDP_FLOW) {
                pub_udp_out((struct pub_flow *)e);
                continue;
            }
            struct pub_conn *c = e->conn;
            if (pub_pump(c) < 0) {
                for (int j = i + 1; j < n; j++) {
                    struct pub_end *o = events[j].data.ptr;
                    if (o != NULL && o->kind == PUB_TCP_SIDE && o->conn == c)
                        events[j].data.ptr = NULL;
                }
                pub_close(c);
            }
        }
        if (publish_flows)
            pub_expire();
    }
    return arg;
}

/* Publish: sockets[i] (made in the host's namespace: a TCP listener or a bound
 * UDP socket, as types[i]) forward to ports[i] on our 127.0.0.1. 0 or -errno. */
int publish_start(const int *sockets, const int *types, const int *ports, int n)
{
    pthread_t thread;
    pthread_attr_t attr;
    sigset_t all, old;
    int r;
    publish_epfd = epoll_create1(EPOLL_CLOEXEC);
    if (publish_epfd < 0)
        return -errno;
    for (int i = 0; i < n; i++) {
        struct pub_end *l = calloc(1, sizeof(*l));
        struct epoll_event ev = { EPOLLIN, { .ptr = l } };
        if (l == NULL)
            return -ENOMEM;
        l->kind = types[i] == SOCK_DGRAM ? PUB_UDP_SOCKET : PUB_TCP_LISTENER;
        l->listen_fd = sockets[i];
        l->port = ports[i];
        fcntl(l->listen_fd, F_SETFL, fcntl(l->listen_fd, F_GETFL) | O_NONBLOCK);
        if (epoll_ctl(publish_epfd, EPOLL_CTL_ADD, l->listen_fd, &ev) < 0)
            return -errno;
    }
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    r = pthread_create(&thread, &attr, publish_main, NULL);
    pthread_attr_destroy(&attr);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return -r;
}

/* Send one host fd over the control socket; the tracee receives it by an injected recvmsg. */
int send_fd(int sock, int fd)
{
    char byte = 'F';
    struct iovec iov = { &byte, 1 };
    union {
        struct cmsghdr hdr;
        char buf[CMSG_SPACE(sizeof(int))];
    } u;
    struct msghdr msg = { 0 };
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = u.buf;
    msg.msg_controllen = sizeof(u.buf);
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &fd, sizeof(int));
    return sendmsg(sock, &msg, MSG_DONTWAIT) < 0 ? -errno : 0;
}

/* Read directory entries of one of our host directory fds, in the kernel's own format and order. */
long host_getdents64(int fd, void *buf, size_t len)
{
    long n = syscall(SYS_getdents64, fd, buf, len);
    return n < 0 ? -errno : n;
}

/* The host's struct sysinfo (112 bytes), for the model to adjust. */
int host_sysinfo(void *buf)
{
    return syscall(SYS_sysinfo, buf) < 0 ? -errno : 0;
}

/* struct stat (144 bytes) of name under one of our host dir fds, not following a symlink. */
int host_stat(int dirfd, const char *name, void *buf)
{
    int flags = name[0] ? AT_SYMLINK_NOFOLLOW : AT_EMPTY_PATH;
    return syscall(SYS_newfstatat, dirfd, name, buf, flags) < 0 ? -errno : 0;
}

/* struct statfs (120 bytes) of name under one of our host dir fds ("" = the fd's own object). */
int host_statfs(int dirfd, const char *name, void *buf)
{
    if (!name[0])
        return syscall(SYS_fstatfs, dirfd, buf) < 0 ? -errno : 0;
    int fd = openat(dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    int r = syscall(SYS_fstatfs, fd, buf) < 0 ? -errno : 0;
    close(fd);
    return r;
}

/* statx of name under one of our host dir fds, never following a symlink (256 bytes). */
int host_statx(int dirfd, const char *name, int flags, unsigned int mask, void *buf)
{
    return syscall(SYS_statx, dirfd, name, flags | AT_SYMLINK_NOFOLLOW, mask, buf) < 0 ? -errno : 0;
}

/* fallocate(2) on one of our own host fds (a tmpfs file's memfd): every mode, as shmem has them. */
int host_fallocate(int fd, int mode, int64_t offset, int64_t len)
{
    return syscall(SYS_fallocate, fd, mode, offset, len) < 0 ? -errno : 0;
}

/*
 * Changing a host object of a writable hostfs: `name` is one component in one
 * of our dir fds, never followed if it is a symlink; "" is the fd's own object
 * (AT_EMPTY_PATH: a volume's root, or an object kept by an O_PATH fd after its
 * name went).
 */
#ifndef SYS_fchmodat2
#define SYS_fchmodat2 452
#endif

static int nofollow(const char *name)
{
    return name[0] ? AT_SYMLINK_NOFOLLOW : AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH;
}

/* chmod; a symlink has no mode to change (EOPNOTSUPP). Before fchmodat2 (Linux
 * 6.6) through /proc/self/fd as glibc does it. */
int host_chmod(int dirfd, const char *name, unsigned int mode)
{
    if (syscall(SYS_fchmodat2, dirfd, name, mode, nofollow(name)) == 0)
        return 0;
    if (errno != ENOSYS)
        return -errno;
    int fd = openat(dirfd, name[0] ? name : ".", O_PATH | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    struct stat st;
    char path[32];
    int r = fstat(fd, &st) < 0 ? -errno : 0;
    if (r == 0 && S_ISLNK(st.st_mode))
        r = -EOPNOTSUPP;
    if (r == 0) {
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
        r = chmod(path, mode) < 0 ? -errno : 0;
    }
    close(fd);
    return r;
}

/* chown; -1 leaves that id alone. */
int host_chown(int dirfd, const char *name, int uid, int gid)
{
    return fchownat(dirfd, name, uid, gid, nofollow(name)) < 0 ? -errno : 0;
}

/* utimensat with nanosecond times (before 1970 too); omit bit 1 leaves atime
 * alone, bit 2 mtime (UTIME_OMIT). */
int host_utimens(int dirfd, const char *name, int64_t atime_ns, int64_t mtime_ns, int omit)
{
    struct timespec ts[2];
    int64_t ns[2] = {atime_ns, mtime_ns};
    for (int i = 0; i < 2; i++) {
        ts[i].tv_sec = ns[i] / 1000000000;
        ts[i].tv_nsec = ns[i] % 1000000000;
        if (ts[i].tv_nsec < 0) {
            ts[i].tv_nsec += 1000000000;
            ts[i].tv_sec -= 1;
        }
        if (omit & (1 << i))
            ts[i].tv_nsec = UTIME_OMIT;
    }
    return utimensat(dirfd, name, ts, nofollow(name)) < 0 ? -errno : 0;
}

/* renameat2 (RENAME_NOREPLACE, RENAME_EXCHANGE, RENAME_WHITEOUT): one name to another. */
int host_renameat2(int olddirfd, const char *oldname, int newdirfd, const char *newname,
                   unsigned int flags)
{
    return syscall(SYS_renameat2, olddirfd, oldname, newdirfd, newname, flags) < 0 ? -errno : 0;
}

/* --------------------------------------------------------------- sqpoll */

/*
 * io_uring's SQPOLL, emulated: a thread that watches the SQ tails of the rings
 * set up with IORING_SETUP_SQPOLL (in the supervisor's own mapping of their
 * memory). While a ring has SQEs past the head we took, it signals the
 * supervisor's main thread (which takes them at its next look, between stops)
 * every SQPOLL_TICK; a ring idle for its sq_thread_idle gets IORING_SQ_NEED_WAKEUP
 * and is no longer looked at until io_uring_enter(IORING_ENTER_SQ_WAKEUP).
 * It reads the program's memory and sets one flag bit: it acts on nothing else.
 */
#define SQPOLL_MAX 256
#define SQPOLL_TICK_NS 50000
#define IORING_SQ_NEED_WAKEUP_BIT 1u

struct sqpoll_ring {
    volatile uint32_t *tail, *head, *flags;
    uint64_t idle_ns, last;
    int used, asleep;
};

static struct sqpoll_ring sqpoll_rings[SQPOLL_MAX];
static pthread_mutex_t sqpoll_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t sqpoll_cond = PTHREAD_COND_INITIALIZER;
static int sqpoll_started, sqpoll_main_tid, sqpoll_sig;

static uint64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

void ring_flags(uint32_t *word, uint32_t set, uint32_t clear)
{
    if (set)
        __atomic_fetch_or(word, set, __ATOMIC_SEQ_CST);
    if (clear)
        __atomic_fetch_and(word, ~clear, __ATOMIC_SEQ_CST);
}

static void *sqpoll_main(void *arg)
{
    pthread_mutex_lock(&sqpoll_lock);
    for (;;) {
        int awake = 0, pending = 0;
        uint64_t now = now_ns();
        for (int i = 0; i < SQPOLL_MAX; i++) {
            struct sqpoll_ring *r = &sqpoll_rings[i];
            if (!r->used || r->asleep)
                continue;
            if (__atomic_load_n(r->tail, __ATOMIC_ACQUIRE) != *r->head) {
                pending = 1;
                r->last = now;
            } else if (now - r->last > r->idle_ns) {
                ring_flags((uint32_t *)r->flags, IORING_SQ_NEED_WAKEUP_BIT, 0);
                /* as io_sqpoll_wait_sq: look once more after the flag is set */
                if (__atomic_load_n(r->tail, __ATOMIC_SEQ_CST) != *r->head) {
                    ring_flags((uint32_t *)r->flags, 0, IORING_SQ_NEED_WAKEUP_BIT);
                    pending = 1;
                    r->last = now;
                } else {
                    r->asleep = 1;
                    continue;
                }
            }
            awake = 1;
        }
        if (pending)
            syscall(SYS_tgkill, getpid(), sqpoll_main_tid, sqpoll_sig);
        if (!awake) {
            pthread_cond_wait(&sqpoll_cond, &sqpoll_lock);
            continue;
        }
        pthread_mutex_unlock(&sqpoll_lock);
        struct timespec tick = {0, SQPOLL_TICK_NS};
        nanosleep(&tick, NULL);
        pthread_mutex_lock(&sqpoll_lock);
    }
    return arg;
}

/* Watch a ring (its SQ tail, the head we took, its flags word) from now on, with
 * `sig` telling the calling (main) thread: the slot, or -errno. */
int sqpoll_add(uint32_t *tail, uint32_t *head, uint32_t *flags, uint32_t idle_ms, int sig)
{
    int slot = -ENOMEM;
    pthread_mutex_lock(&sqpoll_lock);
    if (!sqpoll_started) {
        pthread_t thread;
        pthread_attr_t attr;
        sigset_t all, old;
        sqpoll_main_tid = (int)syscall(SYS_gettid);
        sqpoll_sig = sig;
        sigfillset(&all);
        pthread_sigmask(SIG_SETMASK, &all, &old);
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        pthread_attr_setstacksize(&attr, 64 * 1024);
        int r = pthread_create(&thread, &attr, sqpoll_main, NULL);
        pthread_attr_destroy(&attr);
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        if (r != 0) {
            pthread_mutex_unlock(&sqpoll_lock);
            return -r;
        }
        sqpoll_started = 1;
    }
    for (int i = 0; i < SQPOLL_MAX; i++) {
        struct sqpoll_ring *r = &sqpoll_rings[i];
        if (r->used)
            continue;
        r->tail = tail;
        r->head = head;
        r->flags = flags;
        r->idle_ns = (uint64_t)idle_ms * 1000000u;
        r->last = now_ns();
        r->asleep = 0;
        r->used = 1;
        slot = i;
        pthread_cond_signal(&sqpoll_cond);
        break;
    }
    pthread_mutex_unlock(&sqpoll_lock);
    return slot;
}

/* Stop watching a ring (before its memory goes). */
void sqpoll_remove(int slot)
{
    pthread_mutex_lock(&sqpoll_lock);
    sqpoll_rings[slot].used = 0;
    pthread_mutex_unlock(&sqpoll_lock);
}

/* IORING_ENTER_SQ_WAKEUP: watch the ring again, its NEED_WAKEUP flag cleared. */
void sqpoll_wake(int slot)
{
    pthread_mutex_lock(&sqpoll_lock);
    struct sqpoll_ring *r = &sqpoll_rings[slot];
    if (r->used) {
        ring_flags((uint32_t *)r->flags, 0, IORING_SQ_NEED_WAKEUP_BIT);
        r->asleep = 0;
        r->last = now_ns();
        pthread_cond_signal(&sqpoll_cond);
    }
    pthread_mutex_unlock(&sqpoll_lock);
}

/* --------------------------------------------------------------- launch */

/*
 * The seccomp filter: allow the calls that touch no virtual state, trace the
 * rest. Anything not x86-64 (int 0x80, x32) fails with ENOSYS: the model only
 * speaks the x86-64 ABI.
 */
#define ALLOW_NR(n) BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (n), 0, 1), \
                    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)
#define ARG_LO(i) (offsetof(struct seccomp_data, args) + 8 * (i))
#define ARG_HI(i) (offsetof(struct seccomp_data, args) + 8 * (i) + 4)

/*
 * The reserved range, from RESERVED_BASE and below RESERVED_LIMIT, holds the
 * stub and the shared area (core.h); the program may not unmap, remap,
 * protect or advise any of it. Classic BPF compares 32-bit words only, so the
 * filter lets a call (addr, len) through when it cannot reach the range
 * whatever the low words are: addr at or above the limit, or addr below
 * 0x7d00'00000000 with len under 2^40. Anything else stops, and the model
 * checks it exactly. Seven instructions, ending in TRACE and ALLOW.
 */
#define RANGE_CHECK \
    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG_HI(0)), \
    BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, RESERVED_LIMIT >> 32, 4, 0), \
    BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, (RESERVED_BASE >> 32) - 0x100, 2, 0), \
    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG_HI(1)), \
    BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x100, 0, 1), \
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRACE), \
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)

static int install_filter(int trace_all)
{
    struct sock_filter allow_some[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x40000000, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
        /* mmap: anonymous mappings name no file, so the host may run them,
           unless MAP_FIXED could place one over the reserved range */
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_mmap, 0, 12),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG_LO(3)),
        BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, MAP_ANONYMOUS, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRACE),
        BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, MAP_FIXED, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        RANGE_CHECK,
        /* munmap, mprotect, madvise: anywhere but the reserved range */
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_munmap, 2, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_mprotect, 1, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_madvise, 0, 7),
        RANGE_CHECK,
        ALLOW_NR(SYS_futex),
        ALLOW_NR(SYS_rt_sigreturn),
        ALLOW_NR(SYS_rt_sigprocmask),
        ALLOW_NR(SYS_sched_yield),
        ALLOW_NR(SYS_clock_gettime),
        ALLOW_NR(SYS_clock_getres),
        ALLOW_NR(SYS_gettimeofday),
        ALLOW_NR(SYS_time),
        ALLOW_NR(SYS_nanosleep),
        ALLOW_NR(SYS_clock_nanosleep),
        ALLOW_NR(SYS_getpid),
        ALLOW_NR(SYS_gettid),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRACE),
    };
    struct sock_filter trace_everything[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x40000000, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRACE),
    };
    struct sock_fprog prog;
    if (trace_all) {
        prog.len = sizeof(trace_everything) / sizeof(trace_everything[0]);
        prog.filter = trace_everything;
    } else {
        prog.len = sizeof(allow_some) / sizeof(allow_some[0]);
        prog.filter = allow_some;
    }
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        return -errno;
    if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0)
        return -errno;
    return 0;
}

static void write_map(const char *file, const char *text)
{
    int fd = open(file, O_WRONLY | O_CLOEXEC);
    if (fd >= 0) {
        if (write(fd, text, strlen(text)) < 0) { /* reported by the child's failure */ }
        close(fd);
    }
}

/* Keep only the fds in keep[] (already at their final numbers). */
static void close_all_but(const int *keep, int nkeep)
{
    int maxfd = (int)sysconf(_SC_OPEN_MAX);
    if (maxfd < 0 || maxfd > 65536)
        maxfd = 65536;
    for (int fd = 0; fd < maxfd; fd++) {
        int kept = 0;
        for (int i = 0; i < nkeep; i++)
            kept |= keep[i] == fd;
        if (!kept)
            close(fd);
    }
}

/* Move fd to number want (closing the old number). */
static int move_fd(int fd, int want)
{
    if (fd == want)
        return 0;
    if (dup2(fd, want) < 0)
        return -1;
    close(fd);
    return 0;
}

static int drop_bounding_set(void)
{
    for (int cap = 0; cap < 64; cap++)
        if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL)
            return -errno;
    return 0;
}

static int write_file(const char *file, const char *text)
{
    int fd = open(file, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    int r = write(fd, text, strlen(text)) == (ssize_t)strlen(text) ? 0 : -errno;
    close(fd);
    return r;
}

/*
 * A user namespace of the program's own, in which its host ids are seen as
 * the ids it starts with in the model, so that what the host kernel reports
 * of its processes to each other (si_uid of a signal or a wait) is what the
 * model says.
 */
static int enter_user_namespace(const struct launch *l)
{
    char text[64];
    uid_t uid = geteuid();
    gid_t gid = getegid();
    if (unshare(CLONE_NEWUSER) < 0)
        return -errno;
    int r = write_file("/proc/self/setgroups", "deny");
    snprintf(text, sizeof(text), "%d %u 1", l->inner_uid, (unsigned)uid);
    if (r == 0)
        r = write_file("/proc/self/uid_map", text);
    snprintf(text, sizeof(text), "%d %u 1", l->inner_gid, (unsigned)gid);
    if (r == 0)
        r = write_file("/proc/self/gid_map", text);
    return r;
}

/*
 * Give up every host privilege (DESIGN, threat model): no capabilities in any
 * set, bounding set included, in the host's user namespace or its own; no
 * supplementary groups; host ids that own nothing. A process that got past
 * the model would then be an unprivileged stranger on the host. With
 * host_uid -1 (we run unprivileged in a user namespace of our own, which
 * maps no other id) the ids stay ours and only the capabilities go.
 */
static int drop_host_privilege(const struct launch *l)
{
    int r;
    if (l->host_uid >= 0) {
        if ((r = drop_bounding_set()) < 0)
            return r;
        if (setgroups(0, NULL) < 0 || setresgid(l->host_gid, l->host_gid, l->host_gid) < 0
            || setresuid(l->host_uid, l->host_uid, l->host_uid) < 0)
            return -errno;
        prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);    /* as exec of the stub makes us anyway: /proc/self is ours */
    }
    if (l->inner_uid >= 0) {
        if ((r = enter_user_namespace(l)) < 0 || (r = drop_bounding_set()) < 0)
            return r;
        /* the namespace's root, if that is who we are there, gains nothing by exec */
        if (prctl(PR_SET_SECUREBITS, 0x3f, 0, 0, 0) < 0)     /* NOROOT, NO_SETUID_FIXUP, KEEP_CAPS_LOCKED, all locked */
            return -errno;
    }
    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
    struct __user_cap_header_struct head = { _LINUX_CAPABILITY_VERSION_3, 0 };
    struct __user_cap_data_struct none[2];
    memset(none, 0, sizeof(none));
    if (syscall(SYS_capset, &head, none) < 0)
        return -errno;
    if (syscall(SYS_capget, &head, none) < 0)
        return -errno;
    for (int i = 0; i < 2; i++)
        if (none[i].effective || none[i].permitted || none[i].inheritable)
            return -EPERM;
    return 0;
}

/* Landlock's ABI, declared here so that older headers build too. */
struct ll_ruleset_attr {
    uint64_t handled_access_fs;
    uint64_t handled_access_net;
    uint64_t scoped;
};
struct ll_path_beneath_attr {
    uint64_t allowed_access;
    int32_t parent_fd;
} __attribute__((packed));
#define LL_CREATE_RULESET_VERSION 1
#define LL_RULE_PATH_BENEATH 1
#define LL_FS_EXECUTE 1
#define LL_FS_READ_FILE 4
#define LL_SCOPE_ABSTRACT_UNIX_SOCKET 1
#define LL_SCOPE_SIGNAL 2
#ifndef SYS_landlock_create_ruleset
#define SYS_landlock_create_ruleset 444
#define SYS_landlock_add_rule 445
#define SYS_landlock_restrict_self 446
#endif

/* The Landlock ABI version this kernel speaks (0: none). */
int landlock_abi(void)
{
    long v = syscall(SYS_landlock_create_ruleset, NULL, 0, LL_CREATE_RULESET_VERSION);
    return v < 0 ? 0 : (int)v;
}

/*
 * Confine the process with Landlock: every file-system access the ABI knows
 * is denied but executing and reading the stub (every exec is an execveat of
 * it), and from ABI 6 signals and abstract unix sockets stay inside the
 * domain, so the supervisor cannot be signalled by the host either.
 */
static int confine(int abi)
{
    if (abi <= 0)
        return 0;
    struct ll_ruleset_attr attr = { 0 };
    size_t size = offsetof(struct ll_ruleset_attr, handled_access_net);
    attr.handled_access_fs = (1ULL << 13) - 1;          /* ABI 1: EXECUTE .. MAKE_SYM */
    if (abi >= 2)
        attr.handled_access_fs |= 1ULL << 13;           /* REFER */
    if (abi >= 3)
        attr.handled_access_fs |= 1ULL << 14;           /* TRUNCATE */
    if (abi >= 5)
        attr.handled_access_fs |= 1ULL << 15;           /* IOCTL_DEV */
    if (abi >= 6) {
        attr.scoped = LL_SCOPE_ABSTRACT_UNIX_SOCKET | LL_SCOPE_SIGNAL;
        size = sizeof(attr);
    }
    int ruleset = (int)syscall(SYS_landlock_create_ruleset, &attr, size, 0);
    if (ruleset < 0)
        return -errno;
    struct ll_path_beneath_attr stub = { LL_FS_EXECUTE | LL_FS_READ_FILE, STUB_FD };
    int r = 0;
    if (syscall(SYS_landlock_add_rule, ruleset, LL_RULE_PATH_BENEATH, &stub, 0) < 0
        || syscall(SYS_landlock_restrict_self, ruleset, 0) < 0)
        r = -errno;
    close(ruleset);
    return r;
}

/* Both of the above, with no_new_privs (Landlock's condition). 0 or -errno. */
int drop_and_confine(const struct launch *l)
{
    int r = drop_host_privilege(l);
    if (r == 0 && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        r = -errno;
    return r < 0 ? r : confine(l->landlock_abi);
}

/*
 * The program process: wait until the supervisor has seized us, give up
 * host privilege, confine us, install the filter, and exec the stub (the
 * supervisor builds the real image in it).
 */
static void program_child(const struct launch *l)
{
    char c;
    int gate = l->gate_fd;
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    setpgid(0, 0);
    if (move_fd(l->ctrl_fd, CTRL_FD) < 0 || move_fd(l->stub_fd, STUB_FD) < 0)
        _exit(126);
    if (l->tty_fd >= 0 && (dup2(l->tty_fd, TTY_FD) < 0 || fcntl(TTY_FD, F_SETFD, 0) < 0))
        _exit(126);
    int keep[] = { CTRL_FD, STUB_FD, TTY_FD, gate };
    close_all_but(keep, 4);
    if (read(gate, &c, 1) != 1)
        _exit(126);
    close(gate);
    if (drop_and_confine(l) < 0)
        _exit(126);
    prctl(PR_SET_PDEATHSIG, SIGKILL);      /* a change of credentials cleared it */
    /* signals as whoever started pylinuxabi left them, not as the supervisor has them */
    for (int sig = 1; sig < 65; sig++) {
        if (sig == SIGKILL || sig == SIGSTOP)
            continue;
        struct sigaction sa = { 0 };
        sa.sa_handler = (l->sig_ignored >> (sig - 1)) & 1 ? SIG_IGN : SIG_DFL;
        sigaction(sig, &sa, NULL);
    }
    sigset_t blocked;
    sigemptyset(&blocked);
    for (int sig = 1; sig < 65; sig++)
        if ((l->sig_blocked >> (sig - 1)) & 1)
            sigaddset(&blocked, sig);
    sigprocmask(SIG_SETMASK, &blocked, NULL);
    if (install_filter(l->trace_all) < 0)
        _exit(126);
    char *argv[] = { "pylinuxabi-stub", NULL };
    char *envp[] = { NULL };
    syscall(SYS_execveat, STUB_FD, "", argv, envp, AT_EMPTY_PATH);
    _exit(127);
}

/*
 * Move the calling process into new namespaces: its next child will be pid 1
 * of a new PID namespace (the supervisor), with a mount namespace of its own
 * (for its own /proc) and, unless shared, an empty network namespace. A user
 * namespace mapping our uid to 0 comes first when we are not root.
 */
int enter_namespaces(int new_user, int new_net, int host_uid, int host_gid)
{
    int flags = CLONE_NEWPID | CLONE_NEWNS;
    if (new_user)
        flags |= CLONE_NEWUSER;
    if (new_net)
        flags |= CLONE_NEWNET;
    if (unshare(flags) < 0)
        return -errno;
    if (new_user) {
        char text[64];
        write_map("/proc/self/setgroups", "deny");
        snprintf(text, sizeof(text), "0 %d 1", host_uid);
        write_map("/proc/self/uid_map", text);
        snprintf(text, sizeof(text), "0 %d 1", host_gid);
        write_map("/proc/self/gid_map", text);
    }
    return 0;
}

/*
 * In the supervisor, pid 1 of the new namespace: die with our parent, and
 * mount a /proc that speaks of this PID namespace (we use /proc/<pid>/mem).
 */
int become_init(void)
{
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
        return -errno;
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
        return -errno;
    if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
        return -errno;
    return 0;
}

/*
 * Fork the program process (pid 2). It waits for a byte on l->gate_fd, which
 * the supervisor writes after PTRACE_SEIZE. Returns its pid or -errno.
 */
int spawn_program(const struct launch *l)
{
    pid_t pid = fork();
    if (pid < 0)
        return -errno;
    if (pid == 0)
        program_child(l);
    return pid;
}
