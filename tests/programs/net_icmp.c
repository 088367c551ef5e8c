/*
 * ICMP over the loopback (tests/test_inet.py): a ping socket (SOCK_DGRAM, IPPROTO_ICMP and
 * IPPROTO_ICMPV6) echoing to 127.0.0.1 and ::1, and a raw ICMP socket (with CAP_NET_RAW),
 * which sees the echo request and reply with their IP header. Prints what does not depend
 * on time or ids. Run in a private network namespace with lo up and ping_group_range
 * open to the caller's group (as docker sets it).
 */
#include "common.h"
#include <arpa/inet.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <poll.h>
#include <sys/socket.h>

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

static int wait_readable(int fd)
{
    struct pollfd p = {fd, POLLIN, 0};
    return poll(&p, 1, 2000);
}

static void ping4(void)
{
    int s = S(socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP));
    if (s < 0)
        return;
    struct sockaddr_in to = {.sin_family = AF_INET};
    inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
    struct icmphdr req = {.type = ICMP_ECHO, .un.echo.sequence = htons(7)};
    char packet[sizeof req + 8];
    memcpy(packet, &req, sizeof req);
    memcpy(packet + sizeof req, "pingdata", 8);
    S(sendto(s, packet, sizeof packet, 0, (struct sockaddr *)&to, sizeof to));
    S(wait_readable(s));
    char reply[64];
    struct sockaddr_in from;
    socklen_t len = sizeof from;
    long n = S(recvfrom(s, reply, sizeof reply, 0, (struct sockaddr *)&from, &len));
    if (n >= (long)sizeof req) {
        struct icmphdr *h = (void *)reply;
        char a[32];
        inet_ntop(AF_INET, &from.sin_addr, a, sizeof a);
        printf("reply type %d seq %d data %.8s from %s\n", h->type, ntohs(h->un.echo.sequence),
               reply + sizeof req, a);
    }
    close(s);
}

static void ping6(void)
{
    int s = S(socket(AF_INET6, SOCK_DGRAM, IPPROTO_ICMPV6));
    if (s < 0)
        return;
    struct sockaddr_in6 to = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};
    struct icmp6_hdr req = {.icmp6_type = ICMP6_ECHO_REQUEST};
    req.icmp6_seq = htons(9);
    S(sendto(s, &req, sizeof req, 0, (struct sockaddr *)&to, sizeof to));
    S(wait_readable(s));
    struct icmp6_hdr reply;
    long n = S(recv(s, &reply, sizeof reply, 0));
    if (n == sizeof reply)
        printf("reply6 type %d seq %d\n", reply.icmp6_type, ntohs(reply.icmp6_seq));
    close(s);
}

static unsigned short checksum(const void *data, int len)
{
    const unsigned short *p = data;
    unsigned long sum = 0;
    for (; len > 1; len -= 2)
        sum += *p++;
    if (len)
        sum += *(const unsigned char *)p;
    sum = (sum >> 16) + (sum & 0xffff);
    return ~(sum + (sum >> 16));
}

static void raw(void)
{
    int s = S(socket(AF_INET, SOCK_RAW, IPPROTO_ICMP));
    if (s < 0)
        return;
    struct sockaddr_in to = {.sin_family = AF_INET};
    inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
    struct icmphdr req = {.type = ICMP_ECHO, .un.echo.id = htons(0x4242), .un.echo.sequence = htons(3)};
    req.checksum = checksum(&req, sizeof req);
    S(sendto(s, &req, sizeof req, 0, (struct sockaddr *)&to, sizeof to));
    for (int i = 0; i < 2; i++) {          /* our own request, then the reply */
        char packet[128];
        S(wait_readable(s));
        long n = recv(s, packet, sizeof packet, 0);
        struct iphdr *ip = (void *)packet;
        if (n < (long)sizeof *ip) {
            printf("raw recv = %ld\n", n);
            break;
        }
        struct icmphdr *h = (void *)(packet + ip->ihl * 4);
        printf("raw packet %ld bytes, protocol %d, icmp type %d id %#x seq %d\n", n, ip->protocol, h->type,
               ntohs(h->un.echo.id), ntohs(h->un.echo.sequence));
    }
    int on = 1;
    S(setsockopt(s, IPPROTO_IP, IP_HDRINCL, &on, sizeof on));
    close(s);
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    ping4();
    ping6();
    if (argc < 2)
        raw();
    else
        S(socket(AF_INET, SOCK_RAW, IPPROTO_ICMP));     /* without CAP_NET_RAW: EPERM */
    return 0;
}
