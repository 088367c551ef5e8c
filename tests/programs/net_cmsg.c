/*
 * Control messages and the error queue of AF_INET/AF_INET6 datagram sockets
 * (tests/test_inet.py): IP_PKTINFO, IP_RECVTTL, IP_RECVTOS, SO_TIMESTAMP(NS), IPV6_RECVPKTINFO,
 * IPV6_RECVHOPLIMIT; IP_RECVERR and IPV6_RECVERR with an ICMP port unreachable read from
 * MSG_ERRQUEUE; a control buffer too small (MSG_CTRUNC); IP_PKTINFO on send. Times are only
 * checked for their presence and size. Run in a private network namespace with lo up.
 */
#include "common.h"
#include <arpa/inet.h>
#include <linux/errqueue.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>

#define PORT 47311
#define CLOSED_PORT 47312

static const char *ename(int e)
{
    const char *n = strerrorname_np(e);
    return n ? n : errname(e);
}

static long show(const char *label, long r)
{
    if (r == -1)
        printf("%s = -1 %s\n", label, ename(errno));
    else
        printf("%s = %ld\n", label, r);
    return r;
}

#define S(expr) show(#expr, (long)(expr))

static int on = 1;

/* Receive one datagram with a control buffer of `space` bytes and print each control message. */
static void receive(int fd, size_t space, int flags)
{
    char data[64], control[512];
    struct sockaddr_storage from;
    struct iovec iov = {data, sizeof data};
    struct msghdr m = {.msg_name = &from, .msg_namelen = sizeof from, .msg_iov = &iov, .msg_iovlen = 1,
                       .msg_control = control, .msg_controllen = space};
    memset(control, 0xAA, sizeof control);
    long n = recvmsg(fd, &m, flags);
    if (n < 0) {
        printf("recvmsg(space %zu, flags %#x) = -1 %s\n", space, flags, ename(errno));
        return;
    }
    printf("recvmsg(space %zu, flags %#x) = %ld, msg_flags %#x, controllen %zu\n", space, flags, n, m.msg_flags,
           (size_t)m.msg_controllen);
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
        printf("  cmsg level %d type %d len %zu", c->cmsg_level, c->cmsg_type, (size_t)c->cmsg_len);
        if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
            struct in_pktinfo *p = (void *)CMSG_DATA(c);
            char a[32], b[32];
            inet_ntop(AF_INET, &p->ipi_spec_dst, a, sizeof a);
            inet_ntop(AF_INET, &p->ipi_addr, b, sizeof b);
            printf(" pktinfo ifindex %d spec_dst %s addr %s", p->ipi_ifindex, a, b);
        } else if (c->cmsg_level == IPPROTO_IP && (c->cmsg_type == IP_TTL || c->cmsg_type == IP_TOS)) {
            printf(" value %d", c->cmsg_type == IP_TTL ? *(int *)CMSG_DATA(c) : *(unsigned char *)CMSG_DATA(c));
        } else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
            struct in6_pktinfo *p = (void *)CMSG_DATA(c);
            char a[64];
            inet_ntop(AF_INET6, &p->ipi6_addr, a, sizeof a);
            printf(" pktinfo6 ifindex %d addr %s", p->ipi6_ifindex, a);
        } else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_HOPLIMIT) {
            printf(" hoplimit %d", *(int *)CMSG_DATA(c));
        } else if ((c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_RECVERR) ||
                   (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_RECVERR)) {
            struct sock_extended_err *e = (void *)CMSG_DATA(c);
            printf(" errno %s origin %d type %d code %d", ename(e->ee_errno), e->ee_origin, e->ee_type, e->ee_code);
        }
        printf("\n");
    }
}

static void ipv4(void)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(PORT)};
    struct sockaddr_in closed = {.sin_family = AF_INET, .sin_port = htons(CLOSED_PORT)};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    closed.sin_addr = a.sin_addr;
    int r = socket(AF_INET, SOCK_DGRAM, 0), s = socket(AF_INET, SOCK_DGRAM, 0);
    S(bind(r, (struct sockaddr *)&a, sizeof a));
    S(setsockopt(r, IPPROTO_IP, IP_PKTINFO, &on, sizeof on));
    S(setsockopt(r, IPPROTO_IP, IP_RECVTTL, &on, sizeof on));
    S(setsockopt(r, IPPROTO_IP, IP_RECVTOS, &on, sizeof on));
    S(setsockopt(r, SOL_SOCKET, SO_TIMESTAMP, &on, sizeof on));
    int got = 0;
    socklen_t len = sizeof got;
    S(getsockopt(r, IPPROTO_IP, IP_PKTINFO, &got, &len));
    printf("IP_PKTINFO value %d len %u\n", got, len);
    S(sendto(s, "hello", 5, 0, (struct sockaddr *)&a, sizeof a));
    receive(r, 512, 0);
    S(sendto(s, "again", 5, 0, (struct sockaddr *)&a, sizeof a));
    receive(r, CMSG_SPACE(sizeof(struct in_pktinfo)), 0);      /* room for the first only */
    S(sendto(s, "third", 5, 0, (struct sockaddr *)&a, sizeof a));
    receive(r, 0, 0);

    /* IP_PKTINFO on send: the source address chosen by the sender */
    char control[CMSG_SPACE(sizeof(struct in_pktinfo))] = {0};
    struct iovec iov = {"pkt", 3};
    struct msghdr m = {.msg_name = &a, .msg_namelen = sizeof a, .msg_iov = &iov, .msg_iovlen = 1,
                       .msg_control = control, .msg_controllen = sizeof control};
    struct cmsghdr *c = CMSG_FIRSTHDR(&m);
    c->cmsg_level = IPPROTO_IP;
    c->cmsg_type = IP_PKTINFO;
    c->cmsg_len = CMSG_LEN(sizeof(struct in_pktinfo));
    inet_pton(AF_INET, "127.0.0.5", &((struct in_pktinfo *)CMSG_DATA(c))->ipi_spec_dst);
    S(sendmsg(s, &m, 0));
    receive(r, 512, 0);

    /* the error queue: a datagram to a closed port comes back as ICMP port unreachable */
    S(setsockopt(s, IPPROTO_IP, IP_RECVERR, &on, sizeof on));
    receive(s, 512, MSG_ERRQUEUE);          /* empty: EAGAIN at once */
    S(sendto(s, "nobody", 6, 0, (struct sockaddr *)&closed, sizeof closed));
    struct pollfd p = {s, 0, 0};
    S(poll(&p, 1, 2000));
    printf("revents %#x\n", p.revents);
    receive(s, 512, MSG_ERRQUEUE);
    int err = 0;
    len = sizeof err;
    S(getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &len));
    printf("SO_ERROR %s\n", err ? ename(err) : "0");
    close(r);
    close(s);
}

static void ipv6(void)
{
    struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_port = htons(PORT), .sin6_addr = IN6ADDR_LOOPBACK_INIT};
    struct sockaddr_in6 closed = a;
    closed.sin6_port = htons(CLOSED_PORT);
    int r = socket(AF_INET6, SOCK_DGRAM, 0), s = socket(AF_INET6, SOCK_DGRAM, 0);
    S(bind(r, (struct sockaddr *)&a, sizeof a));
    S(setsockopt(r, IPPROTO_IPV6, IPV6_RECVPKTINFO, &on, sizeof on));
    S(setsockopt(r, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, &on, sizeof on));
    S(sendto(s, "six", 3, 0, (struct sockaddr *)&a, sizeof a));
    receive(r, 512, 0);
    S(setsockopt(s, IPPROTO_IPV6, IPV6_RECVERR, &on, sizeof on));
    S(sendto(s, "nobody", 6, 0, (struct sockaddr *)&closed, sizeof closed));
    struct pollfd p = {s, 0, 0};
    S(poll(&p, 1, 2000));
    receive(s, 512, MSG_ERRQUEUE);
    close(r);
    close(s);
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    ipv4();
    ipv6();
    return 0;
}
