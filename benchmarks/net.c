/* net.c - network benchmark workload for benchmarks/net.py.
 * Talks over 127.0.0.1 TCP or an AF_UNIX socket in /tmp; touches nothing else.
 *
 * Usage:
 *   net echo tcp|unix ROUNDS CLIENTS
 *       Forks one server and CLIENTS clients; each client makes ROUNDS/CLIENTS
 *       round trips (send MSG_SIZE bytes, wait for all of them to come back).
 *   net bulk tcp|unix BYTES BUFSIZE
 *       Forks a sender that writes BYTES in BUFSIZE write()s to a receiver
 *       that read()s them with a BUFSIZE buffer, then acknowledges with one byte.
 *   net echo-server tcp PORT CLIENTS
 *       Only the echo server, on 0.0.0.0:PORT, until CLIENTS connections close
 *       (the sandbox side of `pylinuxabi run -p HOSTPORT:PORT`).
 *   net echo-clients tcp HOST PORT ROUNDS CLIENTS
 *       Only the clients, connecting to HOST:PORT (the host side of -p); they
 *       retry until one echo has gone through, as the server may start later.
 *
 * Prints one line of key=value pairs: elapsed_ns (the timed part alone:
 * from the first client's start to the last client's end, or the sender's
 * first write to the receiver's ack; CLOCK_MONOTONIC, so process start-up,
 * connection set-up and the tracer's own set-up are not counted) and
 * syscalls (made by this program inside the timed part, counted by the
 * wrappers below, in every process: they tell how many tracer stops one
 * round trip costs).  The server counts from its first epoll_wait, which
 * includes one warm-up echo per client and the closing reads: a handful of
 * calls out of thousands.
 *
 * Every echo is compared with what was sent and the bulk stream is sampled
 * against its pattern, so a broken emulator fails loudly instead of
 * producing a fast but meaningless number.  No fd ever reaches 77, the fd
 * floor.c emulates read() on.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MSG_SIZE 64
#define MAX_CLIENTS 64

static long syscalls; /* calls made through the counted wrappers below */

struct address {
    struct sockaddr_storage ss;
    socklen_t len;
};

/* What a client or the server sends back to the parent through a pipe. */
struct report {
    long long t0, t1; /* CLOCK_MONOTONIC ns around the timed part */
    long syscalls;
};

static long long now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void die(const char *what)
{
    perror(what);
    exit(1);
}

static void fail(const char *what)
{
    fprintf(stderr, "net: %s\n", what);
    exit(1);
}

/* --- counted syscalls: the ones inside the timed part ------------------- */

static ssize_t c_read(int fd, void *buf, size_t n)
{
    syscalls++;
    return read(fd, buf, n);
}

static ssize_t c_write(int fd, const void *buf, size_t n)
{
    syscalls++;
    return write(fd, buf, n);
}

static int c_epoll_wait(int ep, struct epoll_event *evs, int n)
{
    syscalls++;
    return epoll_wait(ep, evs, n, -1);
}

static int c_close(int fd)
{
    syscalls++;
    return close(fd);
}

/* Writes all of buf, counting each write(). */
static void write_all(int fd, const char *buf, size_t n)
{
    while (n > 0) {
        ssize_t w = c_write(fd, buf, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            die("write");
        buf += w;
        n -= w;
    }
}

/* Reads exactly n bytes, counting each read(); 0 on EOF before any byte. */
static int read_all(int fd, char *buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = c_read(fd, buf + got, n - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -1;
        if (r == 0)
            return got == 0 ? 0 : -1;
        got += r;
    }
    return 1;
}

/* --- set-up (not counted) ------------------------------------------------ */

static struct address tcp_address(const char *host, int port)
{
    struct address a = {.len = sizeof(struct sockaddr_in)};
    struct sockaddr_in *in = (struct sockaddr_in *)&a.ss;
    in->sin_family = AF_INET;
    in->sin_port = htons(port);
    if (inet_pton(AF_INET, host, &in->sin_addr) != 1)
        fail("bad IPv4 address");
    return a;
}

static struct address unix_address(void)
{
    struct address a = {.len = sizeof(struct sockaddr_un)};
    struct sockaddr_un *un = (struct sockaddr_un *)&a.ss;
    un->sun_family = AF_UNIX;
    snprintf(un->sun_path, sizeof un->sun_path, "/tmp/pylinuxabi-net-bench-%d.sock", (int)getpid());
    return a;
}

/* A listening socket for tcp (on host:port, port 0 = any) or unix; *a is
 * set to the address clients connect to. */
static int listener(const char *kind, const char *host, int port, struct address *a)
{
    int one = 1, fd;
    if (strcmp(kind, "tcp") == 0) {
        *a = tcp_address(host, port);
        fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0)
            die("socket");
    } else if (strcmp(kind, "unix") == 0) {
        *a = unix_address();
        unlink(((struct sockaddr_un *)&a->ss)->sun_path);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
            die("socket");
    } else {
        fail("the transport is tcp or unix");
    }
    if (bind(fd, (struct sockaddr *)&a->ss, a->len) < 0 || listen(fd, MAX_CLIENTS) < 0)
        die("bind/listen");
    if (a->ss.ss_family == AF_INET && getsockname(fd, (struct sockaddr *)&a->ss, &a->len) < 0)
        die("getsockname");
    return fd;
}

static int connect_to(const struct address *a)
{
    int one = 1;
    int fd = socket(a->ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        die("socket");
    if (connect(fd, (const struct sockaddr *)&a->ss, a->len) < 0) {
        close(fd);
        return -1;
    }
    /* Small messages must leave at once, as any request/response protocol sets. */
    if (a->ss.ss_family == AF_INET)
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

static void send_report(int fd, long long t0, long long t1)
{
    struct report r = {t0, t1, syscalls};
    if (write(fd, &r, sizeof r) != sizeof r) /* < PIPE_BUF: atomic */
        die("write report");
}

static struct report read_report(int fd)
{
    struct report r;
    if (read(fd, &r, sizeof r) != sizeof r)
        fail("a worker died before reporting");
    return r;
}

static void wait_children(void)
{
    int st, bad = 0;
    while (wait(&st) > 0)
        bad |= !WIFEXITED(st) || WEXITSTATUS(st) != 0;
    if (bad)
        fail("a worker failed");
}

/* --- echo ------------------------------------------------------------------ */

/* Accepts `clients` connections, then echoes with one epoll loop until
 * all of them are closed. */
static void echo_serve(int lfd, int clients, int tcp)
{
    struct epoll_event evs[MAX_CLIENTS];
    char buf[4096];
    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0)
        die("epoll_create1");
    for (int i = 0; i < clients; i++) {
        int one = 1, fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
        struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
        if (fd < 0)
            die("accept4");
        if (tcp)
            setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0)
            die("epoll_ctl");
    }
    close(lfd);
    syscalls = 0;
    for (int open = clients; open > 0;) {
        int n = c_epoll_wait(ep, evs, MAX_CLIENTS);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            die("epoll_wait");
        for (int i = 0; i < n; i++) {
            int fd = evs[i].data.fd;
            ssize_t r = c_read(fd, buf, sizeof buf);
            if (r < 0 && (errno == EINTR || errno == EAGAIN))
                continue;
            if (r < 0)
                die("server read");
            if (r == 0) {
                c_close(fd); /* also leaves the epoll set */
                open--;
                continue;
            }
            write_all(fd, buf, r);
        }
    }
}

/* Connects (retrying up to 30 s if `retry`, for a server that may not be
 * up yet) and makes one echo that is not timed. */
static int echo_connect(const struct address *a, int retry)
{
    char msg[MSG_SIZE] = "warm-up", back[MSG_SIZE];
    for (int attempt = 0;; attempt++) {
        int fd = connect_to(a);
        if (fd >= 0 && write(fd, msg, sizeof msg) == sizeof msg && read_all(fd, back, sizeof back) == 1) {
            if (memcmp(msg, back, sizeof msg) != 0)
                fail("the warm-up echo came back different");
            return fd;
        }
        if (fd >= 0)
            close(fd);
        if (!retry || attempt >= 300)
            die("connect");
        usleep(100000);
    }
}

/* One client: `rounds` timed round trips of MSG_SIZE bytes, each echo checked. */
static void echo_client(int fd, long rounds, int ready, int go, int results)
{
    char msg[MSG_SIZE], back[MSG_SIZE], c;
    memset(msg, 'a' + getpid() % 26, sizeof msg);
    if (write(ready, "r", 1) != 1)
        die("write ready");
    if (read(go, &c, 1) != 0) /* EOF: the parent closed its end, all start */
        fail("bad start signal");
    syscalls = 0;
    long long t0 = now_ns();
    for (long i = 0; i < rounds; i++) {
        memcpy(msg, &i, sizeof i);
        write_all(fd, msg, sizeof msg);
        if (read_all(fd, back, sizeof back) != 1)
            die("client read");
        if (memcmp(msg, back, sizeof msg) != 0)
            fail("an echo came back different");
    }
    long long t1 = now_ns();
    send_report(results, t0, t1);
}

/* Forks `clients` clients that share `rounds` round trips, starts them at
 * once and returns the span of their timed parts and their syscall count. */
static struct report echo_clients(const struct address *a, long rounds, int clients, int retry)
{
    int ready[2], go[2], results[2];
    char c;
    if (pipe2(ready, O_CLOEXEC) < 0 || pipe2(go, O_CLOEXEC) < 0 || pipe2(results, O_CLOEXEC) < 0)
        die("pipe");
    for (int i = 0; i < clients; i++) {
        long share = rounds / clients + (i < rounds % clients);
        pid_t pid = fork();
        if (pid < 0)
            die("fork");
        if (pid == 0) {
            close(go[1]);
            int fd = echo_connect(a, retry);
            echo_client(fd, share, ready[1], go[0], results[1]);
            close(fd);
            _exit(0);
        }
    }
    close(ready[1]);
    close(go[0]);
    close(results[1]);
    for (int i = 0; i < clients; i++)
        if (read(ready[0], &c, 1) != 1)
            fail("a client died before the start");
    close(go[1]); /* go */
    struct report all = {0, 0, 0};
    for (int i = 0; i < clients; i++) {
        struct report r = read_report(results[0]);
        all.t0 = i == 0 || r.t0 < all.t0 ? r.t0 : all.t0;
        all.t1 = r.t1 > all.t1 ? r.t1 : all.t1;
        all.syscalls += r.syscalls;
    }
    return all;
}

static int echo(const char *kind, long rounds, int clients)
{
    struct address a;
    int lfd = listener(kind, "127.0.0.1", 0, &a);
    int server_report[2];
    if (pipe2(server_report, O_CLOEXEC) < 0)
        die("pipe");
    pid_t server = fork();
    if (server < 0)
        die("fork");
    if (server == 0) {
        close(server_report[0]);
        echo_serve(lfd, clients, a.ss.ss_family == AF_INET);
        send_report(server_report[1], 0, 0);
        _exit(0);
    }
    close(lfd);
    close(server_report[1]);
    struct report r = echo_clients(&a, rounds, clients, 0);
    struct report s = read_report(server_report[0]);
    wait_children();
    if (a.ss.ss_family == AF_UNIX)
        unlink(((struct sockaddr_un *)&a.ss)->sun_path);
    printf("elapsed_ns=%lld syscalls=%ld rounds=%ld\n", r.t1 - r.t0, r.syscalls + s.syscalls, rounds);
    return 0;
}

static int echo_server_only(int port, int clients)
{
    struct address a;
    echo_serve(listener("tcp", "0.0.0.0", port, &a), clients, 1);
    printf("syscalls=%ld\n", syscalls);
    return 0;
}

static int echo_clients_only(const char *host, int port, long rounds, int clients)
{
    struct address a = tcp_address(host, port);
    struct report r = echo_clients(&a, rounds, clients, 1);
    wait_children();
    printf("elapsed_ns=%lld syscalls=%ld rounds=%ld\n", r.t1 - r.t0, r.syscalls, rounds);
    return 0;
}

/* --- bulk ------------------------------------------------------------------ */

/* The stream's byte at offset off: a pattern with period `size`, the
 * buffer's length, so the sender fills its buffer once. */
static char pattern(long long off, long size)
{
    long i = off % size;
    return (char)(i * 131 + i / 256 + 7);
}

static void bulk_send(const struct address *a, long long bytes, long size, int results)
{
    char *buf = malloc(size), ack;
    int fd = connect_to(a);
    if (!buf || fd < 0)
        die("sender set-up");
    for (long i = 0; i < size; i++)
        buf[i] = pattern(i, size);
    syscalls = 0;
    long long t0 = now_ns();
    for (long long left = bytes; left > 0; left -= size < left ? size : left)
        write_all(fd, buf, size < left ? size : left);
    if (read_all(fd, &ack, 1) != 1 || ack != 'k')
        fail("no ack from the receiver");
    long long t1 = now_ns();
    send_report(results, t0, t1);
    close(fd);
}

/* Reads the whole stream, checking the first and last byte of every read. */
static void bulk_receive(int lfd, long long bytes, long size)
{
    char *buf = malloc(size);
    int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
    if (!buf || fd < 0)
        die("receiver set-up");
    syscalls = 0;
    for (long long got = 0; got < bytes;) {
        ssize_t r = c_read(fd, buf, size);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            die("receiver read");
        if (buf[0] != pattern(got, size) || buf[r - 1] != pattern(got + r - 1, size))
            fail("the bulk stream is corrupt");
        got += r;
    }
    write_all(fd, "k", 1);
    close(fd);
}

static int bulk(const char *kind, long long bytes, long size)
{
    struct address a;
    int lfd = listener(kind, "127.0.0.1", 0, &a);
    int results[2];
    if (pipe2(results, O_CLOEXEC) < 0)
        die("pipe");
    pid_t sender = fork();
    if (sender < 0)
        die("fork");
    if (sender == 0) {
        close(lfd);
        close(results[0]);
        bulk_send(&a, bytes, size, results[1]);
        _exit(0);
    }
    close(results[1]);
    bulk_receive(lfd, bytes, size);
    struct report r = read_report(results[0]);
    wait_children();
    if (a.ss.ss_family == AF_UNIX)
        unlink(((struct sockaddr_un *)&a.ss)->sun_path);
    printf("elapsed_ns=%lld syscalls=%ld bytes=%lld\n", r.t1 - r.t0, r.syscalls + syscalls, bytes);
    return 0;
}

/* --- main ------------------------------------------------------------------ */

static long positive(const char *s)
{
    char *end;
    long long v = strtoll(s, &end, 10);
    if (*s == '\0' || *end != '\0' || v <= 0)
        fail("counts and sizes are positive integers");
    return v;
}

static int client_count(const char *s)
{
    long n = positive(s);
    if (n > MAX_CLIENTS)
        fail("too many clients");
    return n;
}

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN); /* a dead peer is reported as EPIPE, not a silent death */
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc == 5 && strcmp(argv[1], "echo") == 0)
        return echo(argv[2], positive(argv[3]), client_count(argv[4]));
    if (argc == 5 && strcmp(argv[1], "bulk") == 0)
        return bulk(argv[2], positive(argv[3]), positive(argv[4]));
    if (argc == 5 && strcmp(argv[1], "echo-server") == 0 && strcmp(argv[2], "tcp") == 0)
        return echo_server_only(positive(argv[3]), client_count(argv[4]));
    if (argc == 7 && strcmp(argv[1], "echo-clients") == 0 && strcmp(argv[2], "tcp") == 0)
        return echo_clients_only(argv[3], positive(argv[4]), positive(argv[5]), client_count(argv[6]));
    fprintf(stderr,
            "usage: %s echo tcp|unix ROUNDS CLIENTS\n"
            "       %s bulk tcp|unix BYTES BUFSIZE\n"
            "       %s echo-server tcp PORT CLIENTS\n"
            "       %s echo-clients tcp HOST PORT ROUNDS CLIENTS\n",
            argv[0], argv[0], argv[0], argv[0]);
    return 2;
}
