/*
 * AF_INET and AF_INET6 sockets over the loopback (tests/test_inet.py): creation and its
 * errors, options, bind (privileged ports, EADDRINUSE, EADDRNOTAVAIL), TCP connect (blocking,
 * non-blocking with EINPROGRESS then SO_ERROR, ECONNREFUSED), accept, the send/recv family
 * with MSG_PEEK, MSG_DONTWAIT, MSG_WAITALL and MSG_TRUNC, shutdown, SIGPIPE and
 * MSG_NOSIGNAL, RST on close with unread data, UDP, IPv4-mapped IPv6, epoll, timeouts,
 * EFAULT. Run in a private network namespace whose lo is up; ports printed are never
 * the ephemeral ones.
 */
#include "common.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>

static const char *ename(int e)
{
    const char *n = strerrorname_np(e);
    return n ? n : errname(e);
}

static long show_net(const char *label, long r)
{
    if (r == -1)
        printf("%s = -1 %s\n", label, ename(errno));
    else
        printf("%s = %ld\n", label, r);
    return r;
}

static long ok_net(const char *label, long r)
{
    if (r == -1)
        printf("%s = -1 %s\n", label, ename(errno));
    else
        printf("%s = ok\n", label);
    return r;
}

#define S(expr) show_net(#expr, (long)(expr))
#define K(expr) ok_net(#expr, (long)(expr))

static struct sockaddr_in in4(const char *ip, int port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    inet_pton(AF_INET, ip, &a.sin_addr);
    return a;
}

static struct sockaddr_in6 in6(const char *ip, int port)
{
    struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_port = htons(port)};
    inet_pton(AF_INET6, ip, &a.sin6_addr);
    return a;
}

static void show_name(const char *label, const struct sockaddr *sa, socklen_t len)
{
    char buf[64] = "?";
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((struct sockaddr_in *)sa)->sin_addr, buf, sizeof buf);
    else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((struct sockaddr_in6 *)sa)->sin6_addr, buf, sizeof buf);
    printf("%s: family %d len %u addr %s\n", label, sa->sa_family, (unsigned)len, buf);
}

static int port_of(int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
        return -1;
    return ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
                                          : ((struct sockaddr_in6 *)&ss)->sin6_port);
}

static int getint(int fd, int level, int name)
{
    int v = -12345;
    socklen_t len = sizeof v;
    if (getsockopt(fd, level, name, &v, &len) < 0)
        return -1000 - errno;
    return v;
}

static volatile int sigpipes;
static void on_sigpipe(int sig) { (void)sig; sigpipes++; }
static volatile int alarms;
static void on_alarm(int sig) { (void)sig; alarms++; }

static void creation(void)
{
    printf("-- creation\n");
    int fd;
    K(fd = socket(AF_INET, SOCK_STREAM, 0));
    S(getint(fd, SOL_SOCKET, SO_TYPE));
    S(getint(fd, SOL_SOCKET, SO_DOMAIN));
    S(getint(fd, SOL_SOCKET, SO_PROTOCOL));
    S(getint(fd, SOL_SOCKET, SO_ACCEPTCONN));
    S(getint(fd, SOL_SOCKET, SO_ERROR));
    struct stat sb;
    S(fstat(fd, &sb));
    CHECK(S_ISSOCK(sb.st_mode));
    char path[64], link[64] = "";
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    readlink(path, link, sizeof link - 1);
    CHECK(strncmp(link, "socket:[", 8) == 0);
    close(fd);
    K(fd = socket(AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    S(getint(fd, SOL_SOCKET, SO_TYPE));
    S(getint(fd, SOL_SOCKET, SO_DOMAIN));
    S(getint(fd, SOL_SOCKET, SO_PROTOCOL));
    S(fcntl(fd, F_GETFL) & O_NONBLOCK);
    S(fcntl(fd, F_GETFD));
    close(fd);
    S(socket(AF_INET, SOCK_STREAM, IPPROTO_UDP));
    S(socket(AF_INET, SOCK_DGRAM, IPPROTO_TCP));
    S(socket(AF_INET, SOCK_RAW, 0));
    S(socket(AF_INET, SOCK_SEQPACKET, 0));
    S(socket(AF_INET6, SOCK_SEQPACKET, 0));
    S(socket(AF_INET, SOCK_STREAM, -1));
    S(socket(AF_INET, SOCK_STREAM, 300));
    S(socket(AF_INET, SOCK_STREAM | 0x10000, 0));
    S(socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP));
    S(socket(AF_INET6, SOCK_DGRAM, IPPROTO_ICMPV6));
    if (geteuid() != 0)
        S(socket(AF_INET, SOCK_RAW, IPPROTO_ICMP));
    int sv[2];
    S(socketpair(AF_INET, SOCK_STREAM, 0, sv));
    S(socketpair(AF_INET6, SOCK_DGRAM, 0, sv));
}

static void options(void)
{
    printf("-- options\n");
    int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1, v;
    S(getint(fd, SOL_SOCKET, SO_REUSEADDR));
    S(setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one));
    S(getint(fd, SOL_SOCKET, SO_REUSEADDR));
    S(setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one));
    S(getint(fd, SOL_SOCKET, SO_REUSEPORT));
    S(setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one));
    S(getint(fd, SOL_SOCKET, SO_KEEPALIVE));
    S(getint(fd, IPPROTO_TCP, TCP_NODELAY));
    S(setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one));
    S(getint(fd, IPPROTO_TCP, TCP_NODELAY));
    v = 30;
    S(setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &v, sizeof v));
    S(getint(fd, IPPROTO_TCP, TCP_KEEPIDLE));
    S(getint(fd, IPPROTO_IP, IP_TTL));
    v = 10;
    S(setsockopt(fd, IPPROTO_IP, IP_TTL, &v, sizeof v));
    S(getint(fd, IPPROTO_IP, IP_TTL));
    v = 4096;
    S(setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof v));
    S(getint(fd, SOL_SOCKET, SO_RCVBUF));
    S(setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, sizeof v));
    S(getint(fd, SOL_SOCKET, SO_SNDBUF));
    struct linger l = {1, 5}, l2;
    socklen_t len = sizeof l2;
    S(setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l));
    S(getsockopt(fd, SOL_SOCKET, SO_LINGER, &l2, &len));
    printf("linger %d %d len %u\n", l2.l_onoff, l2.l_linger, (unsigned)len);
    struct timeval tv = {1, 500000}, tv2;
    len = sizeof tv2;
    S(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv));
    S(getsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv2, &len));
    printf("rcvtimeo %ld %ld\n", (long)tv2.tv_sec, (long)tv2.tv_usec);
    S(setsockopt(fd, SOL_SOCKET, 9999, &one, sizeof one));
    S(getint(fd, SOL_SOCKET, 9999));
    S(setsockopt(fd, 12345, 1, &one, sizeof one));
    S(setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, 2));
    S(setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, -1));
    S(setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, BADPTR, 4));
    v = 7;
    S(setsockopt(fd, SOL_SOCKET, SO_PRIORITY, &v, sizeof v));
    len = 2;
    v = 0;
    S(getsockopt(fd, SOL_SOCKET, SO_TYPE, &v, &len));
    printf("short SO_TYPE %d len %u\n", v, (unsigned)len);
    len = -1;
    S(getsockopt(fd, SOL_SOCKET, SO_TYPE, &v, &len));
    close(fd);
    fd = socket(AF_INET6, SOCK_STREAM, 0);
    S(getint(fd, IPPROTO_IPV6, IPV6_V6ONLY));
    S(setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one));
    S(getint(fd, IPPROTO_IPV6, IPV6_V6ONLY));
    close(fd);
}

static void binding(void)
{
    printf("-- bind\n");
    int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    struct sockaddr_in a = in4("127.0.0.1", 0);
    struct sockaddr_in6 a6 = in6("::1", 0);
    S(bind(fd, NULL, 0));
    S(connect(fd, NULL, 0));
    S(connect(fd, (struct sockaddr *)&a, 1));
    S(bind(fd, (struct sockaddr *)&a, 8));
    S(bind(fd, (struct sockaddr *)&a6, sizeof a));
    S(bind(fd, BADPTR, sizeof a));
    S(bind(fd, (struct sockaddr *)&a, 200));
    a = in4("10.1.2.3", 5000);
    S(bind(fd, (struct sockaddr *)&a, sizeof a));
    a = in4("10.1.2.3", 80);
    S(bind(fd, (struct sockaddr *)&a, sizeof a));
    a = in4("127.0.0.1", 80);
    S(bind(fd, (struct sockaddr *)&a, sizeof a));
    close(fd);
    fd = socket(AF_INET, SOCK_STREAM, 0);
    a = in4("127.0.0.1", 5555);
    S(bind(fd, (struct sockaddr *)&a, sizeof a));
    S(bind(fd, (struct sockaddr *)&a, sizeof a));
    S(port_of(fd));
    int fd2 = socket(AF_INET, SOCK_STREAM, 0);
    S(bind(fd2, (struct sockaddr *)&a, sizeof a));
    close(fd2);
    close(fd);
    fd = socket(AF_INET, SOCK_STREAM, 0);
    fd2 = socket(AF_INET, SOCK_STREAM, 0);
    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
    setsockopt(fd2, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
    S(bind(fd, (struct sockaddr *)&a, sizeof a));
    S(bind(fd2, (struct sockaddr *)&a, sizeof a));
    S(listen(fd, 5));
    S(listen(fd2, 5));
    close(fd);
    close(fd2);
    fd = socket(AF_INET6, SOCK_DGRAM, 0);
    S(bind(fd, (struct sockaddr *)&a6, 20));
    S(bind(fd, (struct sockaddr *)&a, sizeof a6));
    a6 = in6("::1", 443);
    S(bind(fd, (struct sockaddr *)&a6, sizeof a6));
    a6 = in6("::1", 0);
    S(bind(fd, (struct sockaddr *)&a6, sizeof a6));
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    S(getsockname(fd, (struct sockaddr *)&ss, &len));
    show_name("v6 name", (struct sockaddr *)&ss, len);
    len = 4;
    S(getsockname(fd, (struct sockaddr *)&ss, &len));
    printf("short name len %u\n", (unsigned)len);
    len = sizeof ss;
    S(getpeername(fd, (struct sockaddr *)&ss, &len));
    close(fd);
}

/* A listener on ip (v4 or v6) with an ephemeral port; returns it, port in *port. */
static int listener(int family, const char *ip, int *port)
{
    int fd = socket(family, SOCK_STREAM, 0);
    if (family == AF_INET) {
        struct sockaddr_in a = in4(ip, 0);
        bind(fd, (struct sockaddr *)&a, sizeof a);
    } else {
        struct sockaddr_in6 a = in6(ip, 0);
        bind(fd, (struct sockaddr *)&a, sizeof a);
    }
    listen(fd, 16);
    *port = port_of(fd);
    return fd;
}

static int connect_to(int family, const char *ip, int port, int flags)
{
    int fd = socket(family, SOCK_STREAM | flags, 0);
    int r;
    if (family == AF_INET) {
        struct sockaddr_in a = in4(ip, port);
        r = connect(fd, (struct sockaddr *)&a, sizeof a);
    } else {
        struct sockaddr_in6 a = in6(ip, port);
        r = connect(fd, (struct sockaddr *)&a, sizeof a);
    }
    if (r < 0 && !(flags & SOCK_NONBLOCK))
        printf("connect: %s\n", ename(errno));
    return fd;
}

static void tcp(int family, const char *ip)
{
    printf("-- tcp %s\n", ip);
    int port, c, s, n;
    int l = listener(family, ip, &port);
    S(getint(l, SOL_SOCKET, SO_ACCEPTCONN));
    int nb = fcntl(l, F_GETFL);
    fcntl(l, F_SETFL, nb | O_NONBLOCK);
    S(accept(l, NULL, NULL));
    fcntl(l, F_SETFL, nb);
    c = connect_to(family, ip, port, 0);
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    K(s = accept4(l, (struct sockaddr *)&ss, &len, SOCK_NONBLOCK));
    show_name("peer", (struct sockaddr *)&ss, len);
    CHECK(ntohs(((struct sockaddr_in *)&ss)->sin_port) == port_of(c));
    S(fcntl(s, F_GETFL) & O_NONBLOCK);
    len = sizeof ss;
    S(getpeername(c, (struct sockaddr *)&ss, &len));
    show_name("c's peer", (struct sockaddr *)&ss, len);
    CHECK(ntohs(((struct sockaddr_in *)&ss)->sin_port) == port);
    struct sockaddr_in a = in4(ip, port);
    S(connect(c, (struct sockaddr *)&a, sizeof a));
    char buf[256];
    S(recv(s, buf, sizeof buf, 0));
    S(send(c, "hello world", 11, 0));
    usleep(20000);
    S(ioctl(s, FIONREAD, &n) == 0 ? n : -1);
    S(recv(s, buf, 5, MSG_PEEK));
    S(recv(s, buf, 5, 0));
    printf("got %.5s\n", buf);
    S(read(s, buf, sizeof buf));
    printf("got %.6s\n", buf);
    S(recv(s, buf, sizeof buf, MSG_DONTWAIT));
    S(write(c, "abc", 3));
    struct iovec iov[2] = {{(char *)"de", 2}, {(char *)"fgh", 3}};
    S(writev(c, iov, 2));
    usleep(20000);
    char b1[4], b2[8];
    struct iovec riov[2] = {{b1, 4}, {b2, 8}};
    S(readv(s, riov, 2));
    /* a bad buffer: EFAULT and the data stays */
    S(send(c, "xyz", 3, 0));
    usleep(20000);
    S(recv(s, BADPTR, 3, 0));
    S(recv(s, buf, 3, 0));
    S(send(c, BADPTR, 3, 0));
    /* sendmsg / recvmsg */
    struct msghdr m = {0};
    struct iovec one = {(char *)"msg!", 4};
    m.msg_iov = &one;
    m.msg_iovlen = 1;
    S(sendmsg(c, &m, 0));
    usleep(20000);
    char cbuf[64];
    struct iovec rone = {buf, sizeof buf};
    struct msghdr rm = {.msg_name = &ss, .msg_namelen = sizeof ss, .msg_iov = &rone, .msg_iovlen = 1,
                        .msg_control = cbuf, .msg_controllen = sizeof cbuf};
    S(recvmsg(s, &rm, 0));
    printf("recvmsg namelen %u controllen %zu flags %#x\n", (unsigned)rm.msg_namelen, rm.msg_controllen,
           rm.msg_flags);
    int fds[1] = {0};
    char ctl[CMSG_SPACE(sizeof fds)];
    m.msg_control = ctl;
    m.msg_controllen = sizeof ctl;
    struct cmsghdr *cm = CMSG_FIRSTHDR(&m);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(sizeof fds);
    memcpy(CMSG_DATA(cm), fds, sizeof fds);
    S(sendmsg(c, &m, 0));
    /* MSG_WAITALL: the rest comes later from another process */
    pid_t pid = fork();
    if (pid == 0) {
        usleep(100000);
        send(c, "12345", 5, 0);
        usleep(100000);
        send(c, "67890", 5, 0);
        usleep(200000);         /* (our SIGCHLD comes after the receive is over) */
        _exit(0);
    }
    fcntl(s, F_SETFL, 0);
    S(recv(s, buf, 10, MSG_WAITALL));
    printf("got %.10s\n", buf);
    waitpid(pid, NULL, 0);
    /* a blocking recv waits; SO_RCVTIMEO ends a wait with EAGAIN */
    pid = fork();
    if (pid == 0) {
        usleep(100000);
        send(c, "late", 4, 0);
        _exit(0);
    }
    S(recv(s, buf, sizeof buf, 0));
    waitpid(pid, NULL, 0);
    struct timeval tv = {0, 100000};
    setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    S(recv(s, buf, sizeof buf, 0));
    S(read(s, buf, sizeof buf));
    /* a signal ends a wait with EINTR (no SA_RESTART) */
    tv = (struct timeval){0, 0};
    setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    struct sigaction sa = {.sa_handler = on_alarm};
    sigaction(SIGALRM, &sa, NULL);
    ualarm(100000, 0);
    S(recv(s, buf, sizeof buf, 0));
    ualarm(100000, 0);
    S(accept(l, NULL, NULL));
    S(alarms);
    /* epoll, edge-triggered */
    int ep = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN | EPOLLET, .data.u32 = 7}, out[4];
    S(epoll_ctl(ep, EPOLL_CTL_ADD, s, &ev));
    S(epoll_wait(ep, out, 4, 0));
    send(c, "E", 1, 0);
    S(epoll_wait(ep, out, 4, 2000));
    printf("event %#x data %u\n", out[0].events, out[0].data.u32);
    S(epoll_wait(ep, out, 4, 50));
    S(recv(s, buf, sizeof buf, 0));
    close(ep);
    /* poll */
    struct pollfd p = {.fd = s, .events = POLLIN | POLLOUT};
    S(poll(&p, 1, 0));
    printf("revents %#x\n", p.revents);
    /* half-close */
    S(shutdown(c, SHUT_WR));
    S(shutdown(c, 7));
    S(recv(s, buf, sizeof buf, 0));
    S(send(c, "x", 1, MSG_NOSIGNAL));
    S(sigpipes);
    S(send(c, "x", 1, 0));
    S(sigpipes);
    S(send(s, "back", 4, 0));
    usleep(20000);
    S(recv(c, buf, sizeof buf, 0));
    p.fd = s;
    p.events = POLLIN | POLLRDHUP;
    S(poll(&p, 1, 0));
    printf("revents %#x\n", p.revents);
    close(c);
    close(s);
    /* RST: closing with unread data */
    c = connect_to(family, ip, port, 0);
    s = accept(l, NULL, NULL);
    send(c, "unread", 6, 0);
    usleep(20000);
    close(s);
    usleep(20000);
    S(recv(c, buf, sizeof buf, 0));
    S(recv(c, buf, sizeof buf, 0));
    close(c);
    /* non-blocking connect */
    c = connect_to(family, ip, port, SOCK_NONBLOCK);
    printf("nonblocking connect: %s\n", ename(errno));
    p.fd = c;
    p.events = POLLOUT;
    S(poll(&p, 1, 2000));
    printf("revents %#x\n", p.revents);
    S(getint(c, SOL_SOCKET, SO_ERROR));
    a = in4(ip, port);
    if (family == AF_INET)
        S(connect(c, (struct sockaddr *)&a, sizeof a));
    s = accept(l, NULL, NULL);
    close(s);
    close(c);
    /* refused */
    close(l);
    c = connect_to(family, ip, port, 0);
    close(c);
    c = connect_to(family, ip, port, SOCK_NONBLOCK);
    p.fd = c;
    p.events = POLLOUT;
    S(poll(&p, 1, 2000));
    printf("revents %#x\n", p.revents);
    S(getint(c, SOL_SOCKET, SO_ERROR));
    S(getint(c, SOL_SOCKET, SO_ERROR));
    close(c);
}

static void udp(void)
{
    printf("-- udp\n");
    int a = socket(AF_INET, SOCK_DGRAM, 0), b = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in sa = in4("127.0.0.1", 0), from;
    bind(a, (struct sockaddr *)&sa, sizeof sa);
    sa.sin_port = htons(port_of(a));
    char buf[64];
    S(sendto(b, "datagram", 8, 0, (struct sockaddr *)&sa, sizeof sa));
    S(sendto(b, "second", 6, 0, (struct sockaddr *)&sa, sizeof sa));
    S(sendto(b, "x", 1, 0, (struct sockaddr *)&sa, 8));
    S(send(b, "x", 1, 0));
    usleep(20000);
    S(ioctl(a, FIONREAD, &(int){0}) == 0);
    socklen_t len = sizeof from;
    S(recvfrom(a, buf, 4, MSG_TRUNC, (struct sockaddr *)&from, &len));
    show_name("from", (struct sockaddr *)&from, len);
    CHECK(ntohs(from.sin_port) == port_of(b));
    struct iovec iov = {buf, 3};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
    S(recvmsg(a, &m, 0));
    printf("msg_flags %#x\n", m.msg_flags);
    S(recv(a, buf, sizeof buf, MSG_DONTWAIT));
    S(connect(b, (struct sockaddr *)&sa, sizeof sa));
    S(send(b, "conn", 4, 0));
    S(write(b, "wr", 2));
    usleep(20000);
    S(recv(a, buf, sizeof buf, 0));
    S(read(a, buf, sizeof buf));
    /* sendmmsg / recvmmsg */
    struct iovec mv[2] = {{(char *)"first", 5}, {(char *)"second!", 7}};
    struct mmsghdr mm[2] = {{.msg_hdr = {.msg_iov = &mv[0], .msg_iovlen = 1}},
                            {.msg_hdr = {.msg_iov = &mv[1], .msg_iovlen = 1}}};
    S(sendmmsg(b, mm, 2, 0));
    printf("msg_len %u %u\n", mm[0].msg_len, mm[1].msg_len);
    usleep(20000);
    char r1[8], r2[8];
    struct iovec rv[2] = {{r1, sizeof r1}, {r2, sizeof r2}};
    struct mmsghdr rmm[2] = {{.msg_hdr = {.msg_iov = &rv[0], .msg_iovlen = 1}},
                             {.msg_hdr = {.msg_iov = &rv[1], .msg_iovlen = 1}}};
    S(recvmmsg(a, rmm, 2, MSG_DONTWAIT, NULL));
    printf("got %.*s %.*s\n", (int)rmm[0].msg_len, r1, (int)rmm[1].msg_len, r2);
    S(recvmmsg(a, rmm, 2, MSG_DONTWAIT, NULL));
    static char big[70000];
    S(send(b, big, sizeof big, 0));
    struct sockaddr unspec = {.sa_family = AF_UNSPEC};
    S(connect(b, &unspec, sizeof unspec));
    S(send(b, "x", 1, 0));
    close(a);
    close(b);
    /* IPv6, and a v4 peer seen through a v4-mapped address */
    int v6 = socket(AF_INET6, SOCK_DGRAM, 0), v4 = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in6 s6 = in6("::", 0), f6;
    bind(v6, (struct sockaddr *)&s6, sizeof s6);
    struct sockaddr_in to = in4("127.0.0.1", port_of(v6));
    S(sendto(v4, "mapped", 6, 0, (struct sockaddr *)&to, sizeof to));
    len = sizeof f6;
    S(recvfrom(v6, buf, sizeof buf, 0, (struct sockaddr *)&f6, &len));
    show_name("v6 from", (struct sockaddr *)&f6, len);
    close(v6);
    close(v4);
}

static void v4_mapped_tcp(void)
{
    printf("-- v4-mapped tcp\n");
    int port, l = listener(AF_INET, "127.0.0.1", &port);
    int c = connect_to(AF_INET6, "::ffff:127.0.0.1", port, 0);
    int s = accept(l, NULL, NULL);
    S(send(c, "hi", 2, 0));
    char buf[8];
    S(recv(s, buf, sizeof buf, 0));
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    S(getsockname(c, (struct sockaddr *)&ss, &len));
    show_name("name", (struct sockaddr *)&ss, len);
    close(s);
    close(c);
    close(l);
    l = listener(AF_INET6, "::1", &port);
    int one = 1;
    c = socket(AF_INET6, SOCK_STREAM, 0);
    setsockopt(c, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    struct sockaddr_in6 a = in6("::ffff:127.0.0.1", port);
    S(connect(c, (struct sockaddr *)&a, sizeof a));
    close(c);
    close(l);
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    signal(SIGPIPE, on_sigpipe);
    creation();
    options();
    binding();
    tcp(AF_INET, "127.0.0.1");
    tcp(AF_INET6, "::1");
    udp();
    v4_mapped_tcp();
    return 0;
}
