/* AF_UNIX sockets: socket, socketpair, bind (paths, the abstract namespace,
 * autobind), listen, accept4, connect, send/recv families with MSG_PEEK,
 * MSG_DONTWAIT, MSG_WAITALL, MSG_TRUNC, MSG_NOSIGNAL, MSG_CMSG_CLOEXEC,
 * sendmmsg/recvmmsg, SCM_RIGHTS (a pipe, a file, across fork), SCM_CREDENTIALS
 * and SO_PASSCRED, SO_PEERCRED, shutdown, EPIPE and SIGPIPE, getsockname and
 * getpeername lengths, socket options, SIOCINQ/SIOCOUTQ and the send buffer's
 * accounting, poll readiness, blocking and timeouts (SO_RCVTIMEO and
 * SO_SNDTIMEO, EINTR), datagram boundaries, fstat and /proc/self/fd, and the
 * errno of bad input. */
#include "common.h"
#include <ctype.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <linux/sockios.h>

#pragma GCC diagnostic ignored "-Wrestrict"

static const char *sockerr(int e)
{
    switch (e) {
    case EAFNOSUPPORT: return "EAFNOSUPPORT";
    case EPROTONOSUPPORT: return "EPROTONOSUPPORT";
    case ESOCKTNOSUPPORT: return "ESOCKTNOSUPPORT";
    case EPROTOTYPE: return "EPROTOTYPE";
    case ENOPROTOOPT: return "ENOPROTOOPT";
    case EADDRINUSE: return "EADDRINUSE";
    case ECONNREFUSED: return "ECONNREFUSED";
    case ECONNRESET: return "ECONNRESET";
    case ENOTCONN: return "ENOTCONN";
    case EISCONN: return "EISCONN";
    case EMSGSIZE: return "EMSGSIZE";
    case ENOBUFS: return "ENOBUFS";
    case EDOM: return "EDOM";
    default: return errname(e);
    }
}

static long sshow_(const char *label, long r)
{
    if (r == -1)
        printf("%s = -1 %s\n", label, sockerr(errno));
    else
        printf("%s = %ld\n", label, r);
    return r;
}

#undef SHOW
#define SHOW(expr) sshow_(#expr, (long)(expr))

static char dir[64];
static volatile int sigpipes, alarms;
static void on_sigpipe(int s) { (void)s; sigpipes++; }
static void on_alarm(int s) { (void)s; alarms++; }

static socklen_t path_addr(struct sockaddr_un *a, const char *name)
{
    memset(a, 0, sizeof *a);
    a->sun_family = AF_UNIX;
    snprintf(a->sun_path, sizeof a->sun_path, "%s/%s", dir, name);
    return offsetof(struct sockaddr_un, sun_path) + strlen(a->sun_path) + 1;
}

static socklen_t abs_addr(struct sockaddr_un *a, const char *name)
{
    memset(a, 0, sizeof *a);
    a->sun_family = AF_UNIX;
    memcpy(a->sun_path + 1, name, strlen(name));
    return offsetof(struct sockaddr_un, sun_path) + 1 + strlen(name);
}

static void show_poll(const char *label, int fd)
{
    struct pollfd p = {fd, POLLIN | POLLOUT | POLLRDHUP | POLLPRI, 0};
    int r = poll(&p, 1, 0);
    printf("poll %s = %d:%s%s%s%s%s%s\n", label, r, p.revents & POLLIN ? " IN" : "",
           p.revents & POLLOUT ? " OUT" : "", p.revents & POLLHUP ? " HUP" : "",
           p.revents & POLLRDHUP ? " RDHUP" : "", p.revents & POLLERR ? " ERR" : "",
           p.revents & POLLPRI ? " PRI" : "");
}

static int inq(int fd) { int v = -1; return ioctl(fd, SIOCINQ, &v) < 0 ? -errno : v; }
static int outq(int fd) { int v = -1; return ioctl(fd, SIOCOUTQ, &v) < 0 ? -errno : v; }

static int intopt(int fd, int name)
{
    int v = -1;
    socklen_t l = sizeof v;
    if (getsockopt(fd, SOL_SOCKET, name, &v, &l) < 0)
        return -1000 - errno;
    return v;
}

/* Send data with the given fds (SCM_RIGHTS) and, if cred, SCM_CREDENTIALS. */
static long send_fds(int s, const char *data, const int *fds, int n, const struct ucred *cred)
{
    union { char buf[CMSG_SPACE(sizeof(int) * 8) + CMSG_SPACE(sizeof(struct ucred))]; struct cmsghdr align; } u;
    struct iovec iov = {(void *)data, strlen(data)};
    struct msghdr m = {0};
    memset(u.buf, 0, sizeof u.buf);
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    m.msg_control = u.buf;
    m.msg_controllen = 0;
    struct cmsghdr *c = (struct cmsghdr *)u.buf;
    if (n) {
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int) * n);
        memcpy(CMSG_DATA(c), fds, sizeof(int) * n);
        m.msg_controllen += CMSG_SPACE(sizeof(int) * n);
        c = (struct cmsghdr *)(u.buf + m.msg_controllen);
    }
    if (cred) {
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_CREDENTIALS;
        c->cmsg_len = CMSG_LEN(sizeof *cred);
        memcpy(CMSG_DATA(c), cred, sizeof *cred);
        m.msg_controllen += CMSG_SPACE(sizeof *cred);
    }
    if (!m.msg_controllen)
        m.msg_control = NULL;
    return sendmsg(s, &m, 0);
}

/* recvmsg with a control buffer of clen bytes; prints what came; the fds
 * received are stored in fds (up to 8), their count returned. */
static int recv_show(int s, size_t clen, int flags, int *fds)
{
    union { char buf[512]; struct cmsghdr align; } u;
    char data[64];
    struct iovec iov = {data, sizeof data};
    struct msghdr m = {0};
    int nfds = 0;
    memset(u.buf, 0, sizeof u.buf);
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    m.msg_control = clen ? u.buf : NULL;
    m.msg_controllen = clen;
    long r = recvmsg(s, &m, flags);
    if (r < 0) {
        printf("  recvmsg(clen %zu) = -1 %s\n", clen, sockerr(errno));
        return 0;
    }
    printf("  recvmsg(clen %zu) = %ld \"%.*s\" flags %#x controllen %zu\n", clen, r, (int)r, data,
           m.msg_flags, (size_t)m.msg_controllen);
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
        printf("    cmsg level %d type %d len %zu", c->cmsg_level, c->cmsg_type, (size_t)c->cmsg_len);
        if (c->cmsg_type == SCM_RIGHTS) {
            int n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
            for (int i = 0; i < n; i++) {
                int fd;
                memcpy(&fd, CMSG_DATA(c) + i * sizeof fd, sizeof fd);
                printf(" [fd ok %d cloexec %d]", fcntl(fd, F_GETFD) >= 0, fcntl(fd, F_GETFD));
                if (nfds < 8)
                    fds[nfds++] = fd;
            }
        }
        if (c->cmsg_type == SCM_CREDENTIALS && c->cmsg_len >= CMSG_LEN(sizeof(struct ucred))) {
            struct ucred uc;
            memcpy(&uc, CMSG_DATA(c), sizeof uc);
            printf(" [pid %s uid %u gid %u]", uc.pid == getpid() ? "me" : uc.pid == 0 ? "0" : "other",
                   uc.uid, uc.gid);
        }
        printf("\n");
    }
    return nfds;
}

static void test_create(void)
{
    int s, sv[2];
    printf("-- creating sockets\n");
    s = SHOW(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    SHOW(fcntl(s, F_GETFD));
    OCT(fcntl(s, F_GETFL));
    close(s);
    SHOW(socket(AF_UNIX, 99, 0));
    SHOW(socket(AF_UNIX, SOCK_STREAM | 0x100000, 0));
    SHOW(socket(AF_UNIX, SOCK_RDM, 0));
    SHOW(socket(AF_UNIX, 0, 0));
    SHOW(socket(AF_UNIX, SOCK_STREAM, 5));
    SHOW(socket(-1, SOCK_STREAM, 0));
    SHOW(socket(46, SOCK_STREAM, 0));
    s = SHOW(socket(AF_UNIX, SOCK_RAW, 1));
    printf("SOCK_RAW gives type %d protocol %d\n", intopt(s, SO_TYPE), intopt(s, SO_PROTOCOL));
    close(s);
    SHOW(socketpair(AF_UNIX, SOCK_STREAM, 0, BADPTR));
    SHOW(socketpair(AF_UNIX, 99, 0, sv));
    SHOW(socketpair(AF_UNIX, SOCK_STREAM, 7, sv));
    SHOW(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv));
    SHOW(fcntl(sv[1], F_GETFD));
    close(sv[0]);
    close(sv[1]);
}

static void test_stat_proc(void)
{
    int sv[2];
    struct stat st;
    char path[64], link[64] = {0}, want[64];
    printf("-- fstat and /proc/self/fd\n");
    SHOW(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    SHOW(fstat(sv[0], &st));
    printf("type %s mode %o nlink %ld size %ld blksize %ld\n", ftype(st.st_mode), st.st_mode & 07777,
           (long)st.st_nlink, (long)st.st_size, (long)st.st_blksize);
    snprintf(path, sizeof path, "/proc/self/fd/%d", sv[0]);
    SHOW(readlink(path, link, sizeof link - 1) > 0);
    snprintf(want, sizeof want, "socket:[%lu]", (unsigned long)st.st_ino);
    CHECK(strcmp(link, want) == 0);
    struct stat st2;
    fstat(sv[1], &st2);
    CHECK(st2.st_ino != st.st_ino && st2.st_dev == st.st_dev);
    SHOW(open(path, O_RDONLY));
    SHOW(lseek(sv[0], 0, SEEK_SET));
    SHOW(pread(sv[0], path, 1, 0));
    OCT(fcntl(sv[0], F_GETFL));
    close(sv[0]);
    close(sv[1]);
}

static void test_stream_basics(void)
{
    int sv[2], v;
    char buf[64];
    printf("-- stream data\n");
    SHOW(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    show_poll("fresh", sv[0]);
    SHOW(write(sv[0], "hello", 5));
    printf("SIOCINQ %d SIOCOUTQ %d\n", inq(sv[1]), outq(sv[0]));
    SHOW(ioctl(sv[1], FIONREAD, &v));
    printf("FIONREAD %d\n", v);
    show_poll("with data", sv[1]);
    SHOW(send(sv[0], " world", 6, 0));
    SHOW(recv(sv[1], buf, 3, MSG_PEEK));
    SHOW(recv(sv[1], buf, sizeof buf, MSG_PEEK));
    SHOW(recv(sv[1], buf, 2, MSG_TRUNC));
    SHOW(read(sv[1], buf, 4));
    printf("got \"%.4s\"\n", buf);
    SHOW(recv(sv[1], buf, sizeof buf, MSG_WAITALL | MSG_DONTWAIT));
    printf("got \"%.5s\" SIOCOUTQ %d\n", buf, outq(sv[0]));
    SHOW(recv(sv[1], buf, sizeof buf, MSG_DONTWAIT));
    SHOW(recv(sv[1], buf, 0, MSG_DONTWAIT));
    SHOW(read(sv[1], buf, 0));
    SHOW(send(sv[0], "", 0, 0));
    {
        struct iovec iov[3] = {{"ab", 2}, {"", 0}, {"cde", 3}};
        SHOW(writev(sv[0], iov, 3));
        char x[2], y[10];
        struct iovec in[2] = {{x, 2}, {y, sizeof y}};
        SHOW(readv(sv[1], in, 2));
        printf("readv \"%.2s\" \"%.3s\"\n", x, y);
    }
    SHOW(fcntl(sv[1], F_SETFL, O_NONBLOCK));
    SHOW(read(sv[1], buf, 1));
    printf("outq sizes:");
    static char big[40000];
    int sizes[] = {1, 192, 193, 1000, 3776, 3777, 10000, 40000};
    for (unsigned i = 0; i < sizeof sizes / sizeof *sizes; i++) {
        send(sv[0], big, sizes[i], 0);
        printf(" %d->%d", sizes[i], outq(sv[0]));
        while (recv(sv[1], big, sizeof big, 0) > 0)
            ;
    }
    printf("\n");
    close(sv[0]);
    close(sv[1]);
}

static void test_fill(void)
{
    int sv[2];
    static char buf[300000];
    printf("-- the send buffer\n");
    for (int type = 0; type < 3; type++) {
        int t = type == 0 ? SOCK_STREAM : type == 1 ? SOCK_DGRAM : SOCK_SEQPACKET;
        socketpair(AF_UNIX, t | SOCK_NONBLOCK, 0, sv);
        long n = 0, total = 0, r;
        while ((r = send(sv[0], buf, 1000, 0)) > 0) {
            n++;
            total += r;
        }
        printf("type %d: %ld sends, %ld bytes, then %s; SIOCOUTQ %d SIOCINQ %d\n", t, n, total, sockerr(errno),
               outq(sv[0]), inq(sv[1]));
        show_poll("full", sv[0]);
        recv(sv[1], buf, 1000, 0);
        show_poll("one read", sv[0]);
        while (recv(sv[1], buf, 1000, 0) > 0)
            ;
        show_poll("drained", sv[0]);
        r = send(sv[0], buf, sizeof buf, 0);
        printf("send 300000 = %ld %s\n", r, r < 0 ? sockerr(errno) : "");
        close(sv[0]);
        close(sv[1]);
    }
    socketpair(AF_UNIX, SOCK_DGRAM, 0, sv);
    int v = 1;
    setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &v, sizeof v);
    printf("SO_SNDBUF 1 -> %d\n", intopt(sv[0], SO_SNDBUF));
    SHOW(send(sv[0], buf, 4576, 0));
    SHOW(send(sv[0], buf, 4577, 0));
    close(sv[0]);
    close(sv[1]);
}

static void test_dgram_seqpacket(void)
{
    int sv[2];
    char buf[64];
    const char *names[] = {"dgram", "seqpacket"};
    int types[] = {SOCK_DGRAM, SOCK_SEQPACKET};
    for (int t = 0; t < 2; t++) {
        printf("-- %s boundaries\n", names[t]);
        SHOW(socketpair(AF_UNIX, types[t], 0, sv));
        SHOW(send(sv[0], "abc", 3, 0));
        SHOW(send(sv[0], "defg", 4, 0));
        SHOW(send(sv[0], "", 0, 0));
        printf("SIOCINQ %d\n", inq(sv[1]));
        SHOW(recv(sv[1], buf, 2, MSG_PEEK));
        SHOW(recv(sv[1], buf, 2, MSG_PEEK | MSG_TRUNC));
        SHOW(recv(sv[1], buf, sizeof buf, 0));
        struct iovec iov = {buf, 2};
        struct msghdr m = {0};
        m.msg_iov = &iov;
        m.msg_iovlen = 1;
        SHOW(recvmsg(sv[1], &m, 0));
        printf("msg_flags %#x \"%.2s\"\n", m.msg_flags, buf);
        SHOW(recvmsg(sv[1], &m, MSG_CMSG_CLOEXEC));
        printf("msg_flags %#x\n", m.msg_flags);
        m.msg_flags = 0x5555;
        SHOW(recvmsg(sv[1], &m, MSG_DONTWAIT));
        printf("msg_flags %#x\n", m.msg_flags);
        SHOW(send(sv[0], "xyz", 3, 0));
        SHOW(recv(sv[1], buf, 1, MSG_TRUNC));
        SHOW(write(sv[0], "12345", 5));
        SHOW(read(sv[1], buf, 2));
        SHOW(recv(sv[1], buf, 1, MSG_DONTWAIT));
        SHOW(shutdown(sv[0], SHUT_WR));
        show_poll("shut writer", sv[0]);
        show_poll("its peer", sv[1]);
        SHOW(send(sv[0], "x", 1, 0));
        SHOW(recv(sv[1], buf, 1, MSG_DONTWAIT));
        SHOW(shutdown(sv[1], SHUT_RD));
        show_poll("shut reader", sv[1]);
        SHOW(recv(sv[1], buf, 1, MSG_DONTWAIT));
        SHOW(recv(sv[1], buf, 1, 0));
        SHOW(send(sv[0], "x", 1, 0));
        close(sv[0]);
        close(sv[1]);
        SHOW(socketpair(AF_UNIX, types[t], 0, sv));
        SHOW(send(sv[1], "q", 1, 0));
        close(sv[0]);
        show_poll("peer gone", sv[1]);
        int err = intopt(sv[1], SO_ERROR);
        printf("SO_ERROR %s\n", err ? sockerr(err) : "0");
        SHOW(send(sv[1], "q", 1, 0));
        SHOW(send(sv[1], "q", 1, 0));
        SHOW(recv(sv[1], buf, 1, MSG_DONTWAIT));
        close(sv[1]);
    }
}

static void test_shutdown_close(void)
{
    int sv[2];
    char buf[64];
    printf("-- stream shutdown and close\n");
    SHOW(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    SHOW(send(sv[0], "12", 2, 0));
    SHOW(shutdown(sv[0], SHUT_WR));
    show_poll("shut writer", sv[0]);
    show_poll("its peer", sv[1]);
    SHOW(recv(sv[1], buf, sizeof buf, 0));
    SHOW(recv(sv[1], buf, sizeof buf, 0));
    SHOW(read(sv[1], buf, sizeof buf));
    SHOW(send(sv[1], "back", 4, 0));
    SHOW(recv(sv[0], buf, sizeof buf, 0));
    SHOW(shutdown(sv[1], SHUT_RDWR));
    show_poll("both shut", sv[0]);
    SHOW(shutdown(sv[1], 3));
    SHOW(shutdown(sv[1], -1));
    close(sv[0]);
    close(sv[1]);
    SHOW(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    SHOW(send(sv[1], "unread", 6, 0));
    SHOW(send(sv[0], "for you", 7, 0));
    close(sv[0]);
    show_poll("peer closed with data unread", sv[1]);
    SHOW(recv(sv[1], buf, sizeof buf, 0));
    printf("SO_ERROR %s\n", sockerr(intopt(sv[1], SO_ERROR)));
    printf("SO_ERROR again %d\n", intopt(sv[1], SO_ERROR));
    show_poll("after SO_ERROR", sv[1]);
    SHOW(recv(sv[1], buf, sizeof buf, 0));
    close(sv[1]);
    SHOW(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    SHOW(send(sv[1], "unread", 6, 0));
    close(sv[0]);
    SHOW(recv(sv[1], buf, sizeof buf, MSG_DONTWAIT));
    SHOW(recv(sv[1], buf, sizeof buf, MSG_DONTWAIT));
    close(sv[1]);
}

static void test_sigpipe(void)
{
    int sv[2], status;
    printf("-- EPIPE and SIGPIPE\n");
    signal(SIGPIPE, on_sigpipe);
    sigpipes = 0;
    SHOW(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    close(sv[1]);
    SHOW(send(sv[0], "x", 1, 0));
    printf("SIGPIPEs %d\n", sigpipes);
    SHOW(write(sv[0], "x", 1));
    printf("SIGPIPEs %d\n", sigpipes);
    SHOW(send(sv[0], "x", 1, MSG_NOSIGNAL));
    printf("SIGPIPEs %d\n", sigpipes);
    SHOW(shutdown(sv[0], SHUT_WR));
    SHOW(send(sv[0], "x", 1, MSG_DONTWAIT));
    printf("SIGPIPEs %d\n", sigpipes);
    close(sv[0]);
    SHOW(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv));
    close(sv[1]);
    SHOW(send(sv[0], "x", 1, 0));
    printf("SIGPIPEs %d (none for seqpacket)\n", sigpipes);
    close(sv[0]);
    SHOW(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv));
    shutdown(sv[0], SHUT_WR);
    SHOW(send(sv[0], "x", 1, 0));
    printf("SIGPIPEs %d (none for dgram)\n", sigpipes);
    close(sv[0]);
    close(sv[1]);
    signal(SIGPIPE, SIG_DFL);
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    close(sv[1]);
    FLUSH();
    pid_t child = fork();
    if (child == 0) {
        send(sv[0], "x", 1, 0);
        _exit(0);
    }
    waitpid(child, &status, 0);
    printf("sender killed by signal %d\n", WIFSIGNALED(status) ? WTERMSIG(status) : 0);
    close(sv[0]);
}

static void test_path_bind(void)
{
    struct sockaddr_un a, b;
    socklen_t al, l;
    struct stat st;
    int s, s2, c;
    printf("-- binding to paths\n");
    al = path_addr(&a, "srv");
    s = SHOW(socket(AF_UNIX, SOCK_STREAM, 0));
    l = sizeof b;
    SHOW(getsockname(s, (void *)&b, &l));
    printf("unbound name: len %d family %d\n", l, b.sun_family);
    umask(027);
    SHOW(bind(s, (void *)&a, al));
    SHOW(stat(a.sun_path, &st));
    printf("type %s mode %o\n", ftype(st.st_mode), st.st_mode & 07777);
    umask(022);
    SHOW(bind(s, (void *)&a, al));
    l = sizeof b;
    SHOW(getsockname(s, (void *)&b, &l));
    CHECK(l == al && strcmp(b.sun_path, a.sun_path) == 0);
    l = 4;
    SHOW(getsockname(s, (void *)&b, &l));
    CHECK(l == al);
    s2 = SHOW(socket(AF_UNIX, SOCK_STREAM, 0));
    SHOW(bind(s2, (void *)&a, al));
    SHOW(connect(s2, (void *)&a, al));
    SHOW(bind(s2, (void *)&a, al + 20));
    {
        struct sockaddr_un d;
        socklen_t dl = path_addr(&d, "");
        SHOW(bind(s2, (void *)&d, dl));
        path_addr(&d, "x/");
        SHOW(bind(s2, (void *)&d, dl + 2));
        path_addr(&d, "nodir/x");
        SHOW(bind(s2, (void *)&d, dl + 7));
    }
    {
        /* binding a bound socket: EINVAL and no new file */
        struct sockaddr_un d;
        socklen_t dl = path_addr(&d, "second");
        SHOW(bind(s, (void *)&d, dl));
        SHOW(stat(d.sun_path, &st));
    }
    {
        /* the whole 108 bytes of sun_path, with no NUL */
        struct sockaddr_un d;
        int t = socket(AF_UNIX, SOCK_DGRAM, 0);
        path_addr(&d, "");
        size_t n = strlen(d.sun_path);
        memset(d.sun_path + n, 'L', sizeof d.sun_path - n);
        SHOW(bind(t, (void *)&d, sizeof d));
        l = sizeof d + 10;
        struct sockaddr_storage ss;
        SHOW(getsockname(t, (void *)&ss, &l));
        printf("name length %d\n", l);
        char p[200];
        snprintf(p, sizeof p, "%.*s", (int)sizeof d.sun_path, d.sun_path);
        SHOW(unlink(p));
        close(t);
    }
    al = path_addr(&a, "none");
    SHOW(connect(s2, (void *)&a, al));
    al = path_addr(&a, "");
    SHOW(connect(s2, (void *)&a, al));
    strcpy(a.sun_path, "/etc/passwd");
    SHOW(connect(s2, (void *)&a, 14));
    al = path_addr(&a, "srv");
    SHOW(connect(s2, (void *)&a, al));            /* not listening */
    c = socket(AF_UNIX, SOCK_DGRAM, 0);
    SHOW(connect(c, (void *)&a, al));             /* wrong type */
    SHOW(sendto(c, "x", 1, 0, (void *)&a, al));
    close(c);
    SHOW(unlink(a.sun_path));
    SHOW(connect(s2, (void *)&a, al));
    close(s);
    close(s2);
}

static void test_abstract(void)
{
    struct sockaddr_un a, b;
    socklen_t al, l;
    printf("-- the abstract namespace\n");
    int x = socket(AF_UNIX, SOCK_STREAM, 0), y = socket(AF_UNIX, SOCK_DGRAM, 0), z = socket(AF_UNIX, SOCK_STREAM, 0);
    al = abs_addr(&a, "pylinuxabi-ipc");
    SHOW(bind(x, (void *)&a, al));
    l = sizeof b;
    SHOW(getsockname(x, (void *)&b, &l));
    printf("len %d name \"%.*s\" first byte %d\n", l, (int)(l - 3), b.sun_path + 1, b.sun_path[0]);
    SHOW(bind(y, (void *)&a, al));                /* another type: its own namespace */
    SHOW(bind(z, (void *)&a, al));
    SHOW(bind(z, (void *)&a, al + 1));             /* a trailing NUL makes another name */
    SHOW(listen(x, 1));
    int c = socket(AF_UNIX, SOCK_STREAM, 0);
    SHOW(connect(c, (void *)&a, al + 2));
    SHOW(connect(c, (void *)&a, al));
    close(x);
    close(y);
    close(z);
    close(c);
    c = socket(AF_UNIX, SOCK_STREAM, 0);
    SHOW(connect(c, (void *)&a, al));              /* its listener is gone */
    printf("-- autobind\n");
    int t = socket(AF_UNIX, SOCK_DGRAM, 0);
    SHOW(bind(t, (void *)&a, offsetof(struct sockaddr_un, sun_path)));
    l = sizeof b;
    memset(&b, 0, sizeof b);
    SHOW(getsockname(t, (void *)&b, &l));
    int hex = 1;
    for (int i = 1; i <= 5; i++)
        hex &= isxdigit((unsigned char)b.sun_path[i]) && !isupper((unsigned char)b.sun_path[i]);
    printf("len %d first byte %d five hex digits %d\n", l, b.sun_path[0], hex);
    SHOW(bind(t, (void *)&a, offsetof(struct sockaddr_un, sun_path)));
    SHOW(bind(t, (void *)&a, al));
    int on = 1;
    int u = socket(AF_UNIX, SOCK_DGRAM, 0);
    setsockopt(u, SOL_SOCKET, SO_PASSCRED, &on, sizeof on);
    SHOW(sendto(u, "hi", 2, 0, (void *)&b, l));    /* SO_PASSCRED: the sender is autobound */
    struct sockaddr_un from;
    socklen_t fl = sizeof from;
    char buf[8];
    SHOW(recvfrom(t, buf, sizeof buf, 0, (void *)&from, &fl));
    printf("sender name len %d first byte %d\n", fl, from.sun_path[0]);
    close(t);
    close(u);
    close(c);
}

static void test_listen_accept(void)
{
    struct sockaddr_un a, b;
    socklen_t al, l;
    char buf[64];
    int v;
    printf("-- listen, connect, accept\n");
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    SHOW(listen(s, 5));                            /* unbound */
    SHOW(accept(s, NULL, NULL));
    SHOW(send(s, "x", 1, 0));
    SHOW(recv(s, buf, 1, MSG_DONTWAIT));
    SHOW(read(s, buf, 1));
    l = sizeof b;
    SHOW(getpeername(s, (void *)&b, &l));
    show_poll("unconnected", s);
    al = path_addr(&a, "listener");
    SHOW(bind(s, (void *)&a, al));
    SHOW(listen(s, 0));
    show_poll("listening", s);
    printf("SO_ACCEPTCONN %d SIOCINQ %d\n", intopt(s, SO_ACCEPTCONN), inq(s));
    SHOW(connect(s, (void *)&a, al));
    int c1 = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
    int c2 = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
    SHOW(connect(c1, (void *)&a, al));
    show_poll("a connection waits", s);
    SHOW(connect(c2, (void *)&a, al));             /* the backlog (0) is full */
    SHOW(connect(c1, (void *)&a, al));             /* (full comes first) */
    SHOW(send(c1, "early", 5, 0));                 /* before accept */
    l = sizeof b;
    SHOW(getpeername(c1, (void *)&b, &l));
    CHECK(l == al && strcmp(b.sun_path, a.sun_path) == 0);
    l = sizeof b;
    memset(&b, 0x55, sizeof b);
    int n = accept4(s, (void *)&b, &l, SOCK_CLOEXEC | SOCK_NONBLOCK);
    SHOW(n >= 0);
    printf("peer name len %d family %d\n", l, b.sun_family);
    SHOW(fcntl(n, F_GETFD));
    OCT(fcntl(n, F_GETFL));
    l = sizeof b;
    SHOW(getsockname(n, (void *)&b, &l));
    CHECK(l == al && strcmp(b.sun_path, a.sun_path) == 0);
    SHOW(recv(n, buf, sizeof buf, 0));
    SHOW(connect(c1, (void *)&a, al));             /* EISCONN */
    SHOW(sendto(c1, "x", 1, 0, (void *)&a, al));
    SHOW(sendto(c1, "x", 1, 0, (void *)&a, 0));
    SHOW(recv(n, buf, sizeof buf, 0));
    SHOW(accept4(s, NULL, NULL, 0x1234));
    SHOW(fcntl(s, F_SETFL, O_NONBLOCK));
    SHOW(accept(s, NULL, NULL));
    SHOW(connect(c2, (void *)&a, al));
    SHOW(send(c2, "lost", 4, 0));
    SHOW(accept(s, (void *)&b, BADPTR));           /* taken, then dropped */
    SHOW(recv(c2, buf, sizeof buf, 0));
    SHOW(recv(c2, buf, sizeof buf, 0));
    SHOW(send(c2, "x", 1, MSG_NOSIGNAL));
    l = -1;
    SHOW(getsockname(s, (void *)&b, &l));
    SHOW(getsockname(s, (void *)&b, BADPTR));
    l = sizeof b;
    SHOW(getsockname(s, BADPTR, &l));
    int d = socket(AF_UNIX, SOCK_DGRAM, 0);
    SHOW(listen(d, 1));
    SHOW(accept(d, NULL, NULL));
    close(d);
    /* the listener closes with a connection not yet accepted */
    int c3 = socket(AF_UNIX, SOCK_STREAM, 0);
    SHOW(connect(c3, (void *)&a, al));
    close(s);
    show_poll("listener gone", c3);
    SHOW(recv(c3, buf, sizeof buf, 0));
    SHOW(recv(c3, buf, sizeof buf, 0));
    SHOW(connect(socket(AF_UNIX, SOCK_STREAM, 0), (void *)&a, al));
    SHOW(ioctl(n, FIONREAD, &v));
    close(n);
    close(c1);
    close(c2);
    close(c3);
    unlink(a.sun_path);
}

static void test_scm_rights(void)
{
    int sv[2], p[2], fds[8], n;
    char buf[64];
    printf("-- SCM_RIGHTS\n");
    SHOW(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    SHOW(pipe(p));
    SHOW(send_fds(sv[0], "P", p, 2, NULL));
    n = recv_show(sv[1], 512, MSG_CMSG_CLOEXEC, fds);
    if (n == 2) {
        SHOW(write(fds[1], "through", 7));
        SHOW(read(p[0], buf, sizeof buf));
        SHOW(write(p[1], "back", 4));
        SHOW(read(fds[0], buf, sizeof buf));
        close(fds[0]);
        close(fds[1]);
    }
    /* a file: the same open file description, offset shared */
    char path[80];
    snprintf(path, sizeof path, "%s/file", dir);
    int f = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    SHOW(write(f, "0123456789", 10));
    SHOW(lseek(f, 2, SEEK_SET));
    SHOW(send_fds(sv[0], "F", &f, 1, NULL));
    n = recv_show(sv[1], CMSG_SPACE(sizeof(int)), 0, fds);
    if (n == 1) {
        SHOW(read(fds[0], buf, 3));
        printf("read \"%.3s\", offset of the original now %ld\n", buf, (long)lseek(f, 0, SEEK_CUR));
        OCT(fcntl(fds[0], F_GETFL) & O_ACCMODE);
        close(fds[0]);
    }
    /* buffers too small for them all */
    SHOW(send_fds(sv[0], "2", p, 2, NULL));
    n = recv_show(sv[1], CMSG_LEN(sizeof(int)), 0, fds);
    while (n)
        close(fds[--n]);
    SHOW(send_fds(sv[0], "3", p, 2, NULL));
    n = recv_show(sv[1], sizeof(struct cmsghdr), 0, fds);
    SHOW(send_fds(sv[0], "4", p, 2, NULL));
    n = recv_show(sv[1], 0, 0, fds);
    /* with the stream: data before fds is glued to them, not after */
    SHOW(send(sv[0], "ab", 2, 0));
    SHOW(send_fds(sv[0], "C", p, 1, NULL));
    SHOW(send(sv[0], "cd", 2, 0));
    n = recv_show(sv[1], 512, 0, fds);
    while (n)
        close(fds[--n]);
    recv_show(sv[1], 512, 0, fds);
    /* peeking gives copies of the files */
    SHOW(send_fds(sv[0], "K", p, 1, NULL));
    n = recv_show(sv[1], 512, MSG_PEEK, fds);
    while (n)
        close(fds[--n]);
    n = recv_show(sv[1], 512, 0, fds);
    while (n)
        close(fds[--n]);
    /* bad fds */
    int bad[2] = {p[0], BADFD};
    SHOW(send_fds(sv[0], "B", bad, 2, NULL));
    bad[0] = -1;
    SHOW(send_fds(sv[0], "B", bad, 1, NULL));
    SHOW(recv(sv[1], buf, sizeof buf, MSG_DONTWAIT));
    /* a socket over a datagram socketpair */
    int dv[2];
    SHOW(socketpair(AF_UNIX, SOCK_DGRAM, 0, dv));
    SHOW(send_fds(dv[0], "S", &sv[0], 1, NULL));
    n = recv_show(dv[1], 512, 0, fds);
    if (n == 1) {
        SHOW(send(fds[0], "via passed socket", 17, 0));
        SHOW(recv(sv[1], buf, sizeof buf, 0));
        close(fds[0]);
    }
    /* a pipe made by a child reaches the parent */
    FLUSH();
    pid_t child = fork();
    if (child == 0) {
        int q[2];
        pipe(q);
        write(q[1], "from the child", 14);
        send_fds(dv[0], "C", &q[0], 1, NULL);
        _exit(0);
    }
    waitpid(child, NULL, 0);
    n = recv_show(dv[1], 512, 0, fds);
    if (n == 1) {
        SHOW(read(fds[0], buf, sizeof buf));
        close(fds[0]);
    }
    /* files queued in a socket that closes are let go */
    SHOW(send_fds(dv[0], "Q", &p[1], 1, NULL));
    close(p[1]);
    close(dv[1]);
    SHOW(read(p[0], buf, sizeof buf));
    close(dv[0]);
    close(p[0]);
    close(f);
    close(sv[0]);
    close(sv[1]);
    unlink(path);
}

static void test_credentials(void)
{
    int sv[2], fds[8], on = 1, p[2];
    struct ucred uc;
    socklen_t l;
    printf("-- SO_PEERCRED, SCM_CREDENTIALS, SO_PASSCRED\n");
    SHOW(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    l = sizeof uc;
    SHOW(getsockopt(sv[0], SOL_SOCKET, SO_PEERCRED, &uc, &l));
    printf("len %d pid %s uid %u gid %u\n", l, uc.pid == getpid() ? "me" : "other", uc.uid, uc.gid);
    l = 4;
    SHOW(getsockopt(sv[0], SOL_SOCKET, SO_PEERCRED, &uc, &l));
    printf("len %d\n", l);
    int u = socket(AF_UNIX, SOCK_STREAM, 0);
    l = sizeof uc;
    SHOW(getsockopt(u, SOL_SOCKET, SO_PEERCRED, &uc, &l));
    printf("unconnected: pid %d uid %d gid %d\n", uc.pid, (int)uc.uid, (int)uc.gid);
    close(u);
    SHOW(send(sv[0], "a", 1, 0));
    SHOW(setsockopt(sv[1], SOL_SOCKET, SO_PASSCRED, &on, sizeof on));
    printf("SO_PASSCRED %d\n", intopt(sv[1], SO_PASSCRED));
    recv_show(sv[1], 512, 0, fds);                 /* sent before: no credentials */
    SHOW(send(sv[0], "b", 1, 0));
    recv_show(sv[1], 512, 0, fds);
    SHOW(send(sv[0], "c", 1, 0));
    recv_show(sv[1], CMSG_LEN(4), 0, fds);
    SHOW(send(sv[0], "d", 1, 0));
    recv_show(sv[1], 0, 0, fds);
    pipe(p);
    SHOW(send_fds(sv[0], "e", p, 1, NULL));
    int n = recv_show(sv[1], 512, 0, fds);
    while (n)
        close(fds[--n]);
    uc.pid = getpid();
    uc.uid = 0;
    uc.gid = 0;
    SHOW(send_fds(sv[0], "f", NULL, 0, &uc));
    recv_show(sv[1], 512, 0, fds);
    uc.uid = 1234;
    uc.gid = 99;
    SHOW(send_fds(sv[0], "g", NULL, 0, &uc));       /* root may claim other ids */
    recv_show(sv[1], 512, 0, fds);
    SHOW(send(sv[0], "h", 1, 0));
    SHOW(send_fds(sv[0], "i", NULL, 0, &uc));
    recv_show(sv[1], 512, 0, fds);                 /* messages of other writers are not glued */
    recv_show(sv[1], 512, 0, fds);
    uc.pid = 999999;
    SHOW(send_fds(sv[0], "j", NULL, 0, &uc));
    uc.pid = getpid();
    uc.uid = -1;
    SHOW(send_fds(sv[0], "k", NULL, 0, &uc));
    shutdown(sv[0], SHUT_WR);
    recv_show(sv[1], 512, 0, fds);                 /* end of stream */
    close(sv[0]);
    close(sv[1]);
    close(p[0]);
    close(p[1]);

    /* across processes: a listener of the parent, a child connecting */
    struct sockaddr_un a;
    socklen_t al = abs_addr(&a, "pylinuxabi-cred");
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    bind(s, (void *)&a, al);
    listen(s, 4);
    int report[2];
    pipe(report);
    FLUSH();
    pid_t child = fork();
    if (child == 0) {
        int c = socket(AF_UNIX, SOCK_STREAM, 0);
        struct ucred pc;
        socklen_t pl = sizeof pc;
        int ok = connect(c, (void *)&a, al) == 0 && getsockopt(c, SOL_SOCKET, SO_PEERCRED, &pc, &pl) == 0 &&
                 pc.pid == getppid();
        write(report[1], ok ? "Y" : "N", 1);
        char x;
        read(c, &x, 1);
        _exit(0);
    }
    char ok;
    read(report[0], &ok, 1);
    printf("the child sees the listener's process as its peer: %c\n", ok);
    int n2 = accept(s, NULL, NULL);
    l = sizeof uc;
    getsockopt(n2, SOL_SOCKET, SO_PEERCRED, &uc, &l);
    printf("the accepted socket's peer is the child: %d\n", uc.pid == child);
    setsockopt(n2, SOL_SOCKET, SO_PASSCRED, &on, sizeof on);
    write(n2, "x", 1);
    waitpid(child, NULL, 0);
    close(n2);
    close(s);
    close(report[0]);
    close(report[1]);

    /* an unprivileged sender */
    socketpair(AF_UNIX, SOCK_DGRAM, 0, sv);
    setsockopt(sv[1], SOL_SOCKET, SO_PASSCRED, &on, sizeof on);
    FLUSH();
    child = fork();
    if (child == 0) {
        if (setgid(4321) || setuid(4321))
            _exit(9);
        struct ucred me = {getpid(), 4321, 4321}, other = {getpid(), 0, 4321}, ppid = {getppid(), 4321, 4321};
        int r1 = send_fds(sv[0], "own", NULL, 0, &me) == 3;
        int r2 = send_fds(sv[0], "x", NULL, 0, &other) < 0 && errno == EPERM;
        int r3 = send_fds(sv[0], "x", NULL, 0, &ppid) < 0 && errno == EPERM;
        int r4 = send(sv[0], "plain", 5, 0) == 5;
        _exit(r1 + 2 * r2 + 4 * r3 + 8 * r4);
    }
    int status;
    waitpid(child, &status, 0);
    printf("unprivileged child: %d\n", WEXITSTATUS(status));
    recv_show(sv[1], 512, 0, fds);
    recv_show(sv[1], 512, 0, fds);
    close(sv[0]);
    close(sv[1]);
}

static void test_options(void)
{
    int sv[2], v;
    socklen_t l;
    struct timeval tv;
    struct linger lg;
    printf("-- socket options\n");
    socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv);
    printf("type %d domain %d protocol %d acceptconn %d error %d\n", intopt(sv[0], SO_TYPE), intopt(sv[0], SO_DOMAIN),
           intopt(sv[0], SO_PROTOCOL), intopt(sv[0], SO_ACCEPTCONN), intopt(sv[0], SO_ERROR));
    printf("sndbuf %d rcvbuf %d reuseaddr %d keepalive %d rcvlowat %d sndlowat %d passcred %d\n",
           intopt(sv[0], SO_SNDBUF), intopt(sv[0], SO_RCVBUF), intopt(sv[0], SO_REUSEADDR),
           intopt(sv[0], SO_KEEPALIVE), intopt(sv[0], SO_RCVLOWAT), intopt(sv[0], SO_SNDLOWAT),
           intopt(sv[0], SO_PASSCRED));
    int bufs[] = {1, 3000, 70000, -5};
    for (int i = 0; i < 4; i++) {
        v = bufs[i];
        setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &v, sizeof v);
        setsockopt(sv[0], SOL_SOCKET, SO_RCVBUF, &v, sizeof v);
        printf("SO_SNDBUF/SO_RCVBUF %d -> %d %d\n", bufs[i], intopt(sv[0], SO_SNDBUF), intopt(sv[0], SO_RCVBUF));
    }
    v = 1;
    SHOW(setsockopt(sv[0], SOL_SOCKET, SO_REUSEADDR, &v, sizeof v));
    SHOW(setsockopt(sv[0], SOL_SOCKET, SO_KEEPALIVE, &v, sizeof v));
    printf("reuseaddr %d keepalive %d\n", intopt(sv[0], SO_REUSEADDR), intopt(sv[0], SO_KEEPALIVE));
    SHOW(setsockopt(sv[0], SOL_SOCKET, SO_REUSEADDR, &v, 2));
    SHOW(setsockopt(sv[0], SOL_SOCKET, SO_REUSEADDR, &v, -1));
    SHOW(setsockopt(sv[0], SOL_SOCKET, SO_REUSEADDR, BADPTR, 4));
    SHOW(setsockopt(sv[0], SOL_SOCKET, SO_TYPE, &v, sizeof v));
    SHOW(setsockopt(sv[0], SOL_SOCKET, SO_ERROR, &v, sizeof v));
    SHOW(setsockopt(sv[0], SOL_SOCKET, SO_PEERCRED, &v, sizeof v));
    SHOW(setsockopt(sv[0], SOL_SOCKET, 9999, &v, sizeof v));
    SHOW(setsockopt(sv[0], 0, SO_TYPE, &v, sizeof v));
    SHOW(setsockopt(1, SOL_SOCKET, SO_REUSEADDR, &v, sizeof v));
    SHOW(setsockopt(BADFD, SOL_SOCKET, SO_REUSEADDR, &v, sizeof v));
    l = 2;
    SHOW(getsockopt(sv[0], SOL_SOCKET, SO_TYPE, &v, &l));
    printf("len %d\n", l);
    l = 0;
    SHOW(getsockopt(sv[0], SOL_SOCKET, SO_TYPE, &v, &l));
    printf("len %d\n", l);
    l = -1;
    SHOW(getsockopt(sv[0], SOL_SOCKET, SO_TYPE, &v, &l));
    l = 100;
    SHOW(getsockopt(sv[0], SOL_SOCKET, SO_TYPE, &v, &l));
    printf("len %d\n", l);
    SHOW(getsockopt(sv[0], SOL_SOCKET, SO_TYPE, &v, BADPTR));
    l = 4;
    SHOW(getsockopt(sv[0], SOL_SOCKET, SO_TYPE, BADPTR, &l));
    SHOW(getsockopt(sv[0], SOL_SOCKET, 9999, &v, &l));
    SHOW(getsockopt(sv[0], 0, SO_TYPE, &v, &l));
    SHOW(getsockopt(1, SOL_SOCKET, SO_TYPE, &v, &l));
    SHOW(getsockopt(BADFD, SOL_SOCKET, SO_TYPE, &v, &l));
    struct { long s, us; } times[] = {{0, 1}, {1, 1}, {2, 500000}, {-1, 0}, {0, 1000000}, {0, -1}};
    for (int i = 0; i < 6; i++) {
        tv.tv_sec = times[i].s;
        tv.tv_usec = times[i].us;
        long r = setsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        l = sizeof tv;
        getsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv, &l);
        printf("SO_RCVTIMEO %ld.%06ld: %ld %s -> %ld.%06ld len %d\n", times[i].s, times[i].us, r,
               r < 0 ? sockerr(errno) : "", (long)tv.tv_sec, (long)tv.tv_usec, l);
    }
    SHOW(setsockopt(sv[0], SOL_SOCKET, SO_SNDTIMEO, &tv, 8));
    l = 8;
    SHOW(getsockopt(sv[0], SOL_SOCKET, SO_SNDTIMEO, &tv, &l));
    printf("len %d\n", l);
    l = sizeof lg;
    SHOW(getsockopt(sv[0], SOL_SOCKET, SO_LINGER, &lg, &l));
    printf("linger %d %d len %d\n", lg.l_onoff, lg.l_linger, l);
    lg.l_onoff = 5;
    lg.l_linger = 7;
    SHOW(setsockopt(sv[0], SOL_SOCKET, SO_LINGER, &lg, sizeof lg));
    lg.l_onoff = 0;
    lg.l_linger = 9;
    SHOW(setsockopt(sv[0], SOL_SOCKET, SO_LINGER, &lg, sizeof lg));
    l = sizeof lg;
    SHOW(getsockopt(sv[0], SOL_SOCKET, SO_LINGER, &lg, &l));
    printf("linger %d %d\n", lg.l_onoff, lg.l_linger);
    SHOW(setsockopt(sv[0], SOL_SOCKET, SO_LINGER, &lg, 4));
    close(sv[0]);
    close(sv[1]);
}

static void test_timeouts(void)
{
    int sv[2];
    char buf[64];
    struct timeval tv = {0, 100000};
    struct sigaction sa = {0};
    printf("-- timeouts and signals\n");
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    SHOW(setsockopt(sv[1], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv));
    SHOW(recv(sv[1], buf, 1, 0));
    SHOW(read(sv[1], buf, 1));
    SHOW(send(sv[0], "w", 1, 0));
    SHOW(recv(sv[1], buf, 5, MSG_WAITALL));        /* what came before the timeout */
    int v = 4608 / 2;
    setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &v, sizeof v);
    SHOW(setsockopt(sv[0], SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv));
    static char big[20000];
    SHOW(send(sv[0], big, sizeof big, 0));         /* some fits, then the timeout */
    SHOW(send(sv[0], big, sizeof big, 0));
    SHOW(write(sv[0], big, 10));
    while (recv(sv[1], big, sizeof big, MSG_DONTWAIT) > 0)
        ;
    sa.sa_handler = on_alarm;
    sa.sa_flags = SA_RESTART;
    sigaction(SIGALRM, &sa, NULL);
    tv.tv_sec = 5;
    tv.tv_usec = 0;
    setsockopt(sv[1], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    alarms = 0;
    ualarm(100000, 0);
    SHOW(recv(sv[1], buf, 1, 0));                  /* a timed wait is not restarted */
    printf("alarms %d\n", alarms);
    tv.tv_sec = 0;
    setsockopt(sv[1], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    FLUSH();
    pid_t child = fork();
    if (child == 0) {
        usleep(400000);
        send(sv[0], "k", 1, 0);
        _exit(0);
    }
    ualarm(100000, 0);
    SHOW(recv(sv[1], buf, 1, 0));                  /* restarted after the handler */
    printf("alarms %d\n", alarms);
    waitpid(child, NULL, 0);
    sa.sa_flags = 0;
    sigaction(SIGALRM, &sa, NULL);
    FLUSH();
    child = fork();
    if (child == 0) {
        usleep(100000);
        send(sv[0], "kl", 2, 0);
        usleep(400000);
        send(sv[0], "mn", 2, 0);
        _exit(0);
    }
    ualarm(300000, 0);
    SHOW(recv(sv[1], buf, 4, MSG_WAITALL));        /* interrupted after 2 bytes */
    printf("alarms %d\n", alarms);
    waitpid(child, NULL, 0);
    SHOW(recv(sv[1], buf, 4, MSG_WAITALL | MSG_DONTWAIT));
    close(sv[0]);
    close(sv[1]);
}

static void test_blocking(void)
{
    int sv[2], status;
    char buf[4096];
    printf("-- blocking\n");
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    FLUSH();
    pid_t child = fork();
    if (child == 0) {
        usleep(200000);
        send(sv[1], "late", 4, 0);
        usleep(200000);
        send(sv[1], "r", 1, 0);
        _exit(0);
    }
    SHOW(recv(sv[0], buf, sizeof buf, 0));
    SHOW(recv(sv[0], buf, 5, MSG_WAITALL | MSG_PEEK));
    SHOW(recv(sv[0], buf, 5, 0));
    waitpid(child, NULL, 0);
    /* a poll woken by data from another process */
    FLUSH();
    child = fork();
    if (child == 0) {
        usleep(200000);
        send(sv[1], "p", 1, 0);
        _exit(0);
    }
    struct pollfd p = {sv[0], POLLIN, 0};
    SHOW(poll(&p, 1, -1));
    printf("revents %#x\n", p.revents);
    waitpid(child, NULL, 0);
    SHOW(recv(sv[0], buf, 1, 0));
    /* a big blocking send drained by a slow reader */
    FLUSH();
    child = fork();
    if (child == 0) {
        long got = 0, r;
        close(sv[0]);
        usleep(200000);
        while ((r = recv(sv[1], buf, sizeof buf, 0)) > 0)
            got += r;
        _exit(got == 1000000 ? 0 : 1);
    }
    close(sv[1]);
    {
        static char big[1000000];
        SHOW(send(sv[0], big, sizeof big, 0));
    }
    close(sv[0]);
    waitpid(child, &status, 0);
    printf("reader got it all: %d\n", WEXITSTATUS(status) == 0);
    /* accept and connect that wait */
    struct sockaddr_un a;
    socklen_t al = abs_addr(&a, "pylinuxabi-block");
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    bind(s, (void *)&a, al);
    listen(s, 0);
    FLUSH();
    child = fork();
    if (child == 0) {
        usleep(200000);
        int c1 = socket(AF_UNIX, SOCK_STREAM, 0), c2 = socket(AF_UNIX, SOCK_STREAM, 0);
        if (connect(c1, (void *)&a, al) < 0)
            _exit(1);
        if (connect(c2, (void *)&a, al) < 0)       /* waits for the parent's accept */
            _exit(2);
        send(c2, "two", 3, 0);
        char x;
        recv(c2, &x, 1, 0);
        _exit(0);
    }
    int n1 = SHOW(accept(s, NULL, NULL)) >= 0;
    usleep(200000);
    int n2 = accept(s, NULL, NULL);
    SHOW(recv(n2, buf, sizeof buf, 0));
    close(n2);
    waitpid(child, &status, 0);
    printf("connector status %d (accepted %d)\n", WEXITSTATUS(status), n1);
    close(s);
    /* a datagram sender waits for room in a receiver's queue */
    int r = socket(AF_UNIX, SOCK_DGRAM, 0);
    al = abs_addr(&a, "pylinuxabi-dgq");
    bind(r, (void *)&a, al);
    int w = socket(AF_UNIX, SOCK_DGRAM, 0);
    connect(w, (void *)&a, al);
    fcntl(w, F_SETFL, O_NONBLOCK);
    int queued = 0;
    while (send(w, "m", 1, 0) == 1)
        queued++;
    printf("queued %d then %s\n", queued, sockerr(errno));
    show_poll("queue full", w);
    fcntl(w, F_SETFL, 0);
    FLUSH();
    child = fork();
    if (child == 0) {
        usleep(200000);
        recv(r, buf, 1, 0);
        _exit(0);
    }
    SHOW(send(w, "n", 1, 0));
    waitpid(child, NULL, 0);
    close(r);
    show_poll("receiver gone", w);
    SHOW(send(w, "n", 1, 0));
    SHOW(send(w, "n", 1, 0));
    close(w);
}

static void test_dgram_addresses(void)
{
    struct sockaddr_un a, b, from;
    socklen_t al, bl, fl;
    char buf[64];
    printf("-- datagram addresses\n");
    int srv = socket(AF_UNIX, SOCK_DGRAM, 0);
    al = path_addr(&a, "dgram");
    SHOW(bind(srv, (void *)&a, al));
    int c1 = socket(AF_UNIX, SOCK_DGRAM, 0), c2 = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    bl = abs_addr(&b, "pylinuxabi-c2");
    SHOW(bind(c2, (void *)&b, bl));
    SHOW(send(c1, "x", 1, 0));
    SHOW(connect(c1, (void *)&a, al));
    SHOW(connect(c1, (void *)&a, 1));
    SHOW(send(c1, "one", 3, 0));
    SHOW(sendto(c2, "two", 3, 0, (void *)&a, al + 30));
    fl = sizeof from;
    SHOW(recvfrom(srv, buf, sizeof buf, 0, (void *)&from, &fl));
    printf("from len %d\n", fl);
    fl = sizeof from;
    memset(&from, 0, sizeof from);
    SHOW(recvfrom(srv, buf, sizeof buf, 0, (void *)&from, &fl));
    printf("from len %d \"%.*s\"\n", fl, (int)fl - 3, from.sun_path + 1);
    SHOW(sendto(c2, "two", 3, 0, (void *)&a, al));
    fl = 4;
    SHOW(recvfrom(srv, buf, sizeof buf, 0, (void *)&from, &fl));
    printf("from len %d\n", fl);
    SHOW(send(srv, "r", 1, 0));
    SHOW(sendto(srv, "self", 4, 0, (void *)&a, al));
    SHOW(recv(srv, buf, sizeof buf, MSG_DONTWAIT));
    SHOW(sendto(srv, "to c2", 5, 0, (void *)&b, bl));
    SHOW(recv(c2, buf, sizeof buf, 0));
    /* connected elsewhere: EPERM */
    SHOW(connect(c2, (void *)&a, al));
    SHOW(connect(srv, (void *)&b, bl));
    SHOW(sendto(c1, "x", 1, 0, (void *)&b, bl));
    SHOW(connect(c1, (void *)&b, bl));
    a.sun_family = AF_UNSPEC;
    SHOW(connect(c1, (void *)&a, 2));
    a.sun_family = AF_UNIX;
    SHOW(send(c1, "x", 1, 0));
    SHOW(connect(srv, (void *)&a, 2));
    a.sun_family = AF_UNSPEC;
    SHOW(connect(srv, (void *)&a, 2));
    a.sun_family = AF_UNIX;
    /* bad input */
    SHOW(sendto(c1, "p", 1, 0, (void *)&a, 200));
    SHOW(sendto(c1, "p", 1, 0, (void *)&a, -1));
    SHOW(sendto(c1, "p", 1, 0, (void *)&a, 0));
    SHOW(sendto(c1, "p", 1, 0, BADPTR, al));
    SHOW(sendto(c1, BADPTR, 1, 0, (void *)&a, al));
    SHOW(sendto(c1, "p", 1, 0, NULL, al));
    SHOW(sendto(c1, "p", 1, MSG_OOB, (void *)&a, al));
    SHOW(sendto(c1, "p", 1, 0, (void *)&a, al));
    SHOW(recvfrom(srv, BADPTR, 1, MSG_DONTWAIT, NULL, NULL));   /* the datagram is lost */
    SHOW(recvfrom(srv, buf, 1, MSG_DONTWAIT, NULL, NULL));
    SHOW(sendto(c1, "p", 1, 0, (void *)&a, al));
    SHOW(recvfrom(srv, buf, 1, MSG_DONTWAIT, (void *)&from, BADPTR));
    SHOW(recvfrom(srv, buf, 1, MSG_DONTWAIT, NULL, NULL));
    SHOW(recv(srv, buf, 1, MSG_OOB));
    static char big[300000];
    SHOW(sendto(c1, big, sizeof big, 0, (void *)&a, al));
    SHOW(sendto(c1, big, 212960, 0, (void *)&a, al));
    SHOW(sendto(c1, big, 212961, 0, (void *)&a, al));
    SHOW(recv(srv, big, sizeof big, 0));
    close(srv);
    close(c1);
    close(c2);
    unlink(a.sun_path);
}

static void test_mmsg(void)
{
    int sv[2];
    char bufs[4][16];
    struct iovec iov[4];
    struct mmsghdr mm[4];
    printf("-- sendmmsg and recvmmsg\n");
    socketpair(AF_UNIX, SOCK_DGRAM, 0, sv);
    const char *msgs[] = {"one", "three", "ten", "x"};
    memset(mm, 0, sizeof mm);
    for (int i = 0; i < 4; i++) {
        iov[i].iov_base = (void *)msgs[i];
        iov[i].iov_len = strlen(msgs[i]);
        mm[i].msg_hdr.msg_iov = &iov[i];
        mm[i].msg_hdr.msg_iovlen = 1;
    }
    SHOW(sendmmsg(sv[0], mm, 3, 0));
    printf("msg_len %u %u %u\n", mm[0].msg_len, mm[1].msg_len, mm[2].msg_len);
    memset(mm, 0, sizeof mm);
    for (int i = 0; i < 4; i++) {
        iov[i].iov_base = bufs[i];
        iov[i].iov_len = 4;
        mm[i].msg_hdr.msg_iov = &iov[i];
        mm[i].msg_hdr.msg_iovlen = 1;
    }
    SHOW(recvmmsg(sv[1], mm, 4, MSG_DONTWAIT, NULL));
    printf("msg_len %u %u %u flags %#x %#x %#x\n", mm[0].msg_len, mm[1].msg_len, mm[2].msg_len, mm[0].msg_hdr.msg_flags,
           mm[1].msg_hdr.msg_flags, mm[2].msg_hdr.msg_flags);
    SHOW(recvmmsg(sv[1], mm, 4, MSG_DONTWAIT, NULL));
    send(sv[0], "a", 1, 0);
    SHOW(recvmmsg(sv[1], mm, 4, MSG_WAITFORONE, NULL));
    SHOW(sendmmsg(sv[0], BADPTR, 2, 0));
    SHOW(sendmmsg(1, mm, 2, 0));
    close(sv[0]);
    close(sv[1]);
}

static void test_bad_input(void)
{
    int sv[2];
    char buf[16];
    struct msghdr m = {0};
    struct iovec iov = {buf, sizeof buf};
    printf("-- bad input\n");
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    SHOW(send(1, "x", 1, 0));
    SHOW(recv(0, buf, 1, 0));
    SHOW(send(BADFD, "x", 1, 0));
    SHOW(shutdown(1, SHUT_RD));
    SHOW(listen(1, 1));
    SHOW(accept(1, NULL, NULL));
    SHOW(bind(1, NULL, 0));
    SHOW(connect(1, NULL, 0));
    SHOW(getsockname(1, (void *)buf, (socklen_t *)&sv[0]));
    SHOW(getpeername(BADFD, (void *)buf, (socklen_t *)&sv[0]));
    SHOW(send(sv[0], BADPTR, 1, 0));
    SHOW(recv(sv[1], buf, 1, MSG_OOB));
    SHOW(send(sv[0], "x", 1, MSG_OOB | MSG_NOSIGNAL) >= -1);
    SHOW(sendmsg(sv[0], BADPTR, 0));
    SHOW(recvmsg(sv[1], BADPTR, 0));
    m.msg_iov = &iov;
    m.msg_iovlen = 2000;
    SHOW(sendmsg(sv[0], &m, 0));
    m.msg_iovlen = 1;
    m.msg_name = buf;
    m.msg_namelen = -1;
    SHOW(recvmsg(sv[1], &m, MSG_DONTWAIT));
    m.msg_name = NULL;
    m.msg_namelen = 0;
    char ctl[64] = {0};
    struct cmsghdr *c = (struct cmsghdr *)ctl;
    m.msg_control = ctl;
    m.msg_controllen = 8;
    iov.iov_len = 1;
    SHOW(sendmsg(sv[0], &m, 0));                    /* too short to hold a cmsg: none */
    m.msg_controllen = 16;
    c->cmsg_len = 8;
    SHOW(sendmsg(sv[0], &m, 0));
    c->cmsg_len = 17;
    SHOW(sendmsg(sv[0], &m, 0));
    c->cmsg_len = 16;
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = 99;
    SHOW(sendmsg(sv[0], &m, 0));
    c->cmsg_level = 5;
    SHOW(sendmsg(sv[0], &m, 0));                    /* other levels are ignored */
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    SHOW(sendmsg(sv[0], &m, 0));                    /* no fds */
    c->cmsg_type = SCM_CREDENTIALS;
    SHOW(sendmsg(sv[0], &m, 0));
    m.msg_control = BADPTR;
    SHOW(sendmsg(sv[0], &m, 0));
    m.msg_control = ctl;
    m.msg_controllen = 1 << 30;
    SHOW(sendmsg(sv[0], &m, 0));
    m.msg_controllen = 200000;
    SHOW(sendmsg(sv[0], &m, 0));
    m.msg_controllen = 0;
    m.msg_name = buf;
    m.msg_namelen = 2;
    SHOW(sendmsg(sv[0], &m, 0));
    m.msg_name = NULL;
    m.msg_namelen = 0;
    SHOW(recv(sv[1], buf, sizeof buf, MSG_DONTWAIT));
    close(sv[0]);
    close(sv[1]);
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un a;
    socklen_t al = path_addr(&a, "bad");
    SHOW(bind(s, (void *)&a, 1));
    SHOW(bind(s, (void *)&a, sizeof a + 1));
    SHOW(bind(s, (void *)&a, 200));
    SHOW(bind(s, (void *)&a, -1));
    SHOW(bind(s, BADPTR, al));
    a.sun_family = AF_INET;
    SHOW(bind(s, (void *)&a, al));
    SHOW(connect(s, (void *)&a, al));
    a.sun_family = AF_UNIX;
    SHOW(connect(s, (void *)&a, 2));
    SHOW(connect(s, (void *)&a, 0));
    SHOW(connect(s, BADPTR, 10));
    SHOW(connect(s, NULL, 0));
    close(s);
}

static void test_permission(void)
{
    printf("-- connecting needs write permission on the socket\n");
    struct sockaddr_un a;
    socklen_t al = path_addr(&a, "perm");
    umask(022);
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    bind(s, (void *)&a, al);
    listen(s, 4);
    chmod(dir, 0755);
    FLUSH();
    pid_t child = fork();
    if (child == 0) {
        if (setgid(4321) || setuid(4321))
            _exit(9);
        int c = socket(AF_UNIX, SOCK_STREAM, 0);
        int r1 = connect(c, (void *)&a, al) < 0 && errno == EACCES;
        _exit(r1);
    }
    int status;
    waitpid(child, &status, 0);
    printf("unprivileged connect to a 0755 socket: EACCES %d\n", WEXITSTATUS(status));
    chmod(a.sun_path, 0777);
    FLUSH();
    child = fork();
    if (child == 0) {
        if (setgid(4321) || setuid(4321))
            _exit(9);
        int c = socket(AF_UNIX, SOCK_STREAM, 0);
        _exit(connect(c, (void *)&a, al) == 0);
    }
    waitpid(child, &status, 0);
    printf("after chmod 0777: connected %d\n", WEXITSTATUS(status));
    close(s);
    unlink(a.sun_path);
}

int main(void)
{
    strcpy(dir, "/tmp/ipc_unix.XXXXXX");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    test_create();
    test_stat_proc();
    test_stream_basics();
    test_fill();
    test_dgram_seqpacket();
    test_shutdown_close();
    test_sigpipe();
    test_path_bind();
    test_abstract();
    test_listen_accept();
    test_scm_rights();
    test_credentials();
    test_options();
    test_timeouts();
    test_blocking();
    test_dgram_addresses();
    test_mmsg();
    test_bad_input();
    test_permission();
    char path[80];
    snprintf(path, sizeof path, "%s/srv", dir);
    unlink(path);
    rmdir(dir);
    return 0;
}
