/*
 * NETLINK_ROUTE sockets and the SIOCGIF* interface ioctls (tests/test_netlink.py): creation
 * and its errors, bind/getsockname (the port id only as "nonzero" and "the replies carry
 * it"), RTM_GETLINK and RTM_GETADDR dumps printing lo's stable fields, an RTM_NEWADDR
 * (done as root, an EPERM ack as a user), NLM_F_ACK and NETLINK_CAP_ACK, messages with
 * bad lengths, a buffer mixing requests, addresses to send to, options, write(2) and
 * read(2), MSG_PEEK|MSG_TRUNC, EFAULT; then the interface ioctls on a netlink, a unix, an
 * AF_INET and an AF_INET6 socket, SIOCGIFCONF with short buffers, ENODEV, the setters.
 * Run in a private network namespace whose lo is up and has only its own addresses.
 */
#include "common.h"
#include <arpa/inet.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>

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

#define S(expr) show_net(#expr, (long)(expr))

static unsigned int my_port;    /* our port id, from getsockname */
static unsigned int seq = 100;

struct request {
    struct nlmsghdr nh;
    union {
        struct ifinfomsg ifi;
        struct ifaddrmsg ifa;
        struct rtgenmsg gen;
    };
    char attrs[64];
};

static void add_attr(struct nlmsghdr *nh, unsigned short type, const void *data, int len)
{
    struct rtattr *rta = (struct rtattr *)((char *)nh + NLMSG_ALIGN(nh->nlmsg_len));
    rta->rta_type = type;
    rta->rta_len = RTA_LENGTH(len);
    memcpy(RTA_DATA(rta), data, len);
    nh->nlmsg_len = NLMSG_ALIGN(nh->nlmsg_len) + RTA_ALIGN(rta->rta_len);
}

static void make_dump(struct request *r, int type, int family)
{
    memset(r, 0, sizeof *r);
    r->nh.nlmsg_len = NLMSG_LENGTH(type == RTM_GETLINK ? sizeof(struct ifinfomsg) : sizeof(struct ifaddrmsg));
    r->nh.nlmsg_type = type;
    r->nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    r->nh.nlmsg_seq = ++seq;
    if (type == RTM_GETLINK)
        r->ifi.ifi_family = family;
    else
        r->ifa.ifa_family = family;
}

/* An RTM_NEWADDR or RTM_DELADDR of 10.7.7.7/24 on lo, asking for an ack. */
static void make_addr(struct request *r, int type, int ifindex)
{
    struct in_addr a;
    memset(r, 0, sizeof *r);
    r->nh.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifaddrmsg));
    r->nh.nlmsg_type = type;
    r->nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | (type == RTM_NEWADDR ? NLM_F_CREATE | NLM_F_EXCL : 0);
    r->nh.nlmsg_seq = ++seq;
    r->ifa.ifa_family = AF_INET;
    r->ifa.ifa_prefixlen = 24;
    r->ifa.ifa_index = ifindex;
    inet_pton(AF_INET, "10.7.7.7", &a);
    add_attr(&r->nh, IFA_LOCAL, &a, 4);
    add_attr(&r->nh, IFA_ADDRESS, &a, 4);
}

static void print_link(struct nlmsghdr *nh)
{
    struct ifinfomsg *ifi = NLMSG_DATA(nh);
    int len = nh->nlmsg_len - NLMSG_LENGTH(sizeof *ifi);
    const char *name = "?";
    unsigned mtu = 0, txq = 0;
    printf("  link index %d type %d flags %#x", ifi->ifi_index, ifi->ifi_type, ifi->ifi_flags);
    for (struct rtattr *a = IFLA_RTA(ifi); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
        if (a->rta_type == IFLA_IFNAME)
            name = RTA_DATA(a);
        else if (a->rta_type == IFLA_MTU)
            mtu = *(unsigned *)RTA_DATA(a);
        else if (a->rta_type == IFLA_TXQLEN)
            txq = *(unsigned *)RTA_DATA(a);
    }
    printf(" name %s mtu %u txqlen %u\n", name, mtu, txq);
}

static void print_addr(struct nlmsghdr *nh)
{
    struct ifaddrmsg *ifa = NLMSG_DATA(nh);
    int len = nh->nlmsg_len - NLMSG_LENGTH(sizeof *ifa);
    char buf[64] = "?", label[IFNAMSIZ] = "-";
    for (struct rtattr *a = IFA_RTA(ifa); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
        if (a->rta_type == IFA_ADDRESS)
            inet_ntop(ifa->ifa_family, RTA_DATA(a), buf, sizeof buf);
        else if (a->rta_type == IFA_LABEL)
            snprintf(label, sizeof label, "%s", (char *)RTA_DATA(a));
    }
    printf("  addr family %d %s/%d scope %d index %d flags %#x label %s\n", ifa->ifa_family, buf,
           ifa->ifa_prefixlen, ifa->ifa_scope, ifa->ifa_index, ifa->ifa_flags, label);
}

/* Read replies until NLMSG_DONE, an NLMSG_ERROR or nothing more (MSG_DONTWAIT); print them. */
static void read_replies(int fd, const char *what)
{
    static char buf[65536];
    for (;;) {
        struct sockaddr_nl from;
        struct iovec iov = {buf, sizeof buf};
        struct msghdr m = {.msg_name = &from, .msg_namelen = sizeof from, .msg_iov = &iov, .msg_iovlen = 1};
        ssize_t n = recvmsg(fd, &m, MSG_DONTWAIT);
        if (n < 0) {
            printf(" %s: recvmsg = -1 %s\n", what, ename(errno));
            return;
        }
        if (m.msg_namelen != sizeof from || from.nl_family != AF_NETLINK || from.nl_pid != 0)
            printf(" %s: sender is not the kernel\n", what);
        for (struct nlmsghdr *nh = (void *)buf; NLMSG_OK(nh, n); nh = NLMSG_NEXT(nh, n)) {
            if (nh->nlmsg_pid != my_port)
                printf(" %s: nlmsg_pid is not our port id\n", what);
            if (nh->nlmsg_type == NLMSG_DONE) {
                printf(" %s: done (seq %u)\n", what, nh->nlmsg_seq);
                return;
            }
            if (nh->nlmsg_type == NLMSG_ERROR) {
                struct nlmsgerr *e = NLMSG_DATA(nh);
                printf(" %s: ack error %s len %u flags %#x seq %u echoes type %d len %u seq %u\n", what,
                       e->error ? ename(-e->error) : "0", nh->nlmsg_len, nh->nlmsg_flags, nh->nlmsg_seq,
                       e->msg.nlmsg_type, e->msg.nlmsg_len, e->msg.nlmsg_seq);
                if (e->error && !(nh->nlmsg_flags & NLM_F_CAPPED) &&
                    nh->nlmsg_len >= NLMSG_LENGTH(sizeof *e) + e->msg.nlmsg_len - NLMSG_HDRLEN)
                    printf(" %s: the request's payload is echoed\n", what);
                return;
            }
            if (nh->nlmsg_type == RTM_NEWLINK)
                print_link(nh);
            else if (nh->nlmsg_type == RTM_NEWADDR)
                print_addr(nh);
            else
                printf("  message type %d\n", nh->nlmsg_type);
        }
    }
}

static void send_req(int fd, struct request *r, const char *what)
{
    struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
    ssize_t n = sendto(fd, r, r->nh.nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof kernel);
    if (n != (ssize_t)r->nh.nlmsg_len)
        printf("%s: sendto = %zd %s\n", what, n, n < 0 ? ename(errno) : "");
    read_replies(fd, what);
}

static int open_route(void)
{
    int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    struct sockaddr_nl a = {.nl_family = AF_NETLINK};
    socklen_t len = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) < 0 || getsockname(fd, (struct sockaddr *)&a, &len) < 0)
        printf("open_route: %s\n", ename(errno));
    my_port = a.nl_pid;
    return fd;
}

static void test_create(void)
{
    int sv[2];
    printf("-- create\n");
    S(socket(AF_NETLINK, SOCK_STREAM, NETLINK_ROUTE));
    S(socket(AF_NETLINK, SOCK_SEQPACKET, NETLINK_ROUTE));
    S(socket(AF_NETLINK, SOCK_RAW, 32));
    S(socket(AF_NETLINK, SOCK_RAW, -1));
    S(socket(AF_NETLINK, SOCK_STREAM, 99));
    S(socketpair(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE, sv));
    S(socketpair(AF_NETLINK, SOCK_STREAM, NETLINK_ROUTE, sv));
    int fd = socket(AF_NETLINK, SOCK_DGRAM, NETLINK_ROUTE);
    CHECK(fd >= 0);
    int v;
    socklen_t l = sizeof v;
    S(getsockopt(fd, SOL_SOCKET, SO_TYPE, &v, &l));
    printf("SO_TYPE %d\n", v);
    S(getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &v, &l));
    printf("SO_PROTOCOL %d\n", v);
    S(getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &v, &l));
    printf("SO_DOMAIN %d\n", v);
    S(listen(fd, 1));
    S(accept(fd, NULL, NULL));
    S(shutdown(fd, SHUT_RDWR));
    struct stat st;
    S(fstat(fd, &st));
    printf("mode %s %o\n", ftype(st.st_mode), st.st_mode & 07777);
    close(fd);
}

static void test_names(void)
{
    printf("-- names\n");
    int fd = socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE);
    struct sockaddr_nl a;
    socklen_t len = sizeof a;
    memset(&a, 0x55, sizeof a);
    S(getsockname(fd, (struct sockaddr *)&a, &len));
    printf("unbound: len %u family %d pid %u groups %u\n", len, a.nl_family, a.nl_pid, a.nl_groups);
    struct sockaddr_nl b = {.nl_family = AF_NETLINK};
    S(bind(fd, (struct sockaddr *)&b, 8));
    b.nl_family = AF_INET;
    S(bind(fd, (struct sockaddr *)&b, sizeof b));
    S(bind(fd, BADPTR, sizeof b));
    b.nl_family = AF_NETLINK;
    b.nl_groups = RTMGRP_LINK | RTMGRP_IPV4_IFADDR;      /* read-only subscriptions: anyone may */
    S(bind(fd, (struct sockaddr *)&b, sizeof b));
    len = sizeof a;
    S(getsockname(fd, (struct sockaddr *)&a, &len));
    printf("bound: len %u family %d pid nonzero %d groups %#x\n", len, a.nl_family, a.nl_pid != 0, a.nl_groups);
    len = sizeof a;
    S(getpeername(fd, (struct sockaddr *)&a, &len));
    printf("peer: len %u pid %u groups %u\n", len, a.nl_pid, a.nl_groups);
    len = 4;
    S(getsockname(fd, (struct sockaddr *)&a, &len));
    printf("short: len %u\n", len);
    S(getsockname(fd, BADPTR, &len));
    close(fd);

    /* sending autobinds */
    fd = socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE);
    struct request r;
    make_dump(&r, RTM_GETLINK, AF_UNSPEC);
    r.nh.nlmsg_flags = NLM_F_REQUEST;       /* not a dump: one link by index */
    r.ifi.ifi_index = 1;
    S(send(fd, &r, r.nh.nlmsg_len, 0));
    len = sizeof a;
    S(getsockname(fd, (struct sockaddr *)&a, &len));
    my_port = a.nl_pid;
    printf("after send: pid nonzero %d\n", a.nl_pid != 0);
    read_replies(fd, "getlink lo");
    close(fd);
}

static void test_dumps(int fd)
{
    struct request r;
    printf("-- dumps\n");
    make_dump(&r, RTM_GETLINK, AF_UNSPEC);
    send_req(fd, &r, "getlink");
    make_dump(&r, RTM_GETADDR, AF_UNSPEC);
    send_req(fd, &r, "getaddr");
    make_dump(&r, RTM_GETADDR, AF_INET);
    send_req(fd, &r, "getaddr inet");
    make_dump(&r, RTM_GETLINK, AF_UNSPEC);
    r.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
    r.ifi.ifi_index = 1;
    send_req(fd, &r, "getlink 1 with ack");
    r.ifi.ifi_index = 999;
    send_req(fd, &r, "getlink 999");
    /* iproute2's way: peek at the size first, then read */
    make_dump(&r, RTM_GETLINK, AF_UNSPEC);
    S(send(fd, &r, r.nh.nlmsg_len, 0));
    struct iovec iov = {NULL, 0};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
    ssize_t n = recvmsg(fd, &m, MSG_PEEK | MSG_TRUNC);
    printf("peek|trunc: %s flags %#x\n", n > 0 ? "positive" : ename(errno), m.msg_flags);
    char small[20];
    n = recv(fd, small, sizeof small, 0);
    printf("recv 20 of a bigger datagram: %zd\n", n);
    read_replies(fd, "rest of the dump");
}

static void test_configure(int fd)
{
    struct request r;
    printf("-- configure\n");
    make_addr(&r, RTM_NEWADDR, 1);
    send_req(fd, &r, "newaddr");
    make_dump(&r, RTM_GETADDR, AF_INET);
    send_req(fd, &r, "getaddr inet after");
    make_addr(&r, RTM_NEWADDR, 1);
    send_req(fd, &r, "newaddr again");
    make_addr(&r, RTM_DELADDR, 1);
    send_req(fd, &r, "deladdr");
    make_addr(&r, RTM_NEWADDR, 999);
    send_req(fd, &r, "newaddr on 999");
    make_addr(&r, RTM_NEWADDR, 1);
    r.nh.nlmsg_flags &= ~NLM_F_ACK;
    r.ifa.ifa_prefixlen = 33;
    send_req(fd, &r, "newaddr bad prefix no ack");
    /* a SET without a payload is not looked at (rtnetlink_rcv_msg: at least 1 byte) */
    r.nh.nlmsg_len = NLMSG_HDRLEN;
    r.nh.nlmsg_type = RTM_SETLINK;
    r.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
    send_req(fd, &r, "setlink empty");
    /* not a request: not looked at */
    make_addr(&r, RTM_NEWADDR, 1);
    r.nh.nlmsg_flags = NLM_F_ACK;
    send_req(fd, &r, "newaddr without NLM_F_REQUEST");
    make_addr(&r, RTM_NEWADDR, 1);
    r.nh.nlmsg_type = 200;
    send_req(fd, &r, "type 200");

    int one = 1;
    S(setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof one));
    make_addr(&r, RTM_NEWADDR, 999);
    send_req(fd, &r, "capped newaddr on 999");
    make_addr(&r, RTM_DELADDR, 1);
    send_req(fd, &r, "capped deladdr");
    int zero = 0;
    S(setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &zero, sizeof zero));

    /* two requests in one buffer: a change first, then a question */
    struct { struct request a; struct request b; } two;
    make_addr(&two.a, RTM_DELADDR, 1);
    make_dump(&two.b, RTM_GETLINK, AF_UNSPEC);
    two.b.nh.nlmsg_flags = NLM_F_REQUEST;
    two.b.ifi.ifi_index = 1;
    int alen = NLMSG_ALIGN(two.a.nh.nlmsg_len);
    memmove((char *)&two + alen, &two.b, two.b.nh.nlmsg_len);
    S(send(fd, &two, alen + NLMSG_LENGTH(sizeof(struct ifinfomsg)), 0));
    read_replies(fd, "mixed 1");
    read_replies(fd, "mixed 2");
    read_replies(fd, "mixed 3");
}

static void test_bad_messages(int fd)
{
    struct request r;
    char junk[64];
    printf("-- bad messages\n");
    memset(junk, 0, sizeof junk);
    S(send(fd, junk, 0, 0));
    S(send(fd, junk, 10, 0));
    read_replies(fd, "10 bytes");
    make_dump(&r, RTM_GETLINK, AF_UNSPEC);
    r.nh.nlmsg_len = 8;
    S(send(fd, &r, NLMSG_LENGTH(sizeof(struct ifinfomsg)), 0));
    read_replies(fd, "nlmsg_len 8");
    make_dump(&r, RTM_GETLINK, AF_UNSPEC);
    r.nh.nlmsg_len = 500;
    S(send(fd, &r, NLMSG_LENGTH(sizeof(struct ifinfomsg)), 0));
    read_replies(fd, "nlmsg_len past the end");
    make_addr(&r, RTM_NEWADDR, 1);
    r.nh.nlmsg_len = 500;                   /* a change that is not looked at */
    S(send(fd, &r, 40, 0));
    read_replies(fd, "newaddr past the end");
    make_dump(&r, RTM_GETLINK, AF_UNSPEC);
    S(send(fd, &r, NLMSG_LENGTH(sizeof(struct ifinfomsg)) + 7, 0));  /* trailing bytes */
    read_replies(fd, "dump with trailing bytes");
    S(send(fd, BADPTR, 32, 0));
    S(send(fd, &r, 1 << 20, 0));
    S(send(fd, &r, r.nh.nlmsg_len, MSG_OOB));
    make_dump(&r, RTM_GETLINK, AF_UNSPEC);
    S(send(fd, &r, r.nh.nlmsg_len, 0));
    S(recv(fd, BADPTR, 100, 0));
    read_replies(fd, "after EFAULT");
}

static void test_destinations(int fd)
{
    struct request r;
    printf("-- destinations\n");
    make_dump(&r, RTM_GETLINK, AF_UNSPEC);
    struct sockaddr_nl to = {.nl_family = AF_NETLINK};
    S(sendto(fd, &r, r.nh.nlmsg_len, 0, (struct sockaddr *)&to, 8));
    to.nl_family = AF_INET;
    S(sendto(fd, &r, r.nh.nlmsg_len, 0, (struct sockaddr *)&to, sizeof to));
    to.nl_family = AF_NETLINK;
    to.nl_pid = 0x7ffffff0;
    S(sendto(fd, &r, r.nh.nlmsg_len, 0, (struct sockaddr *)&to, sizeof to));
    to.nl_pid = 0;
    to.nl_groups = 1 << 30;
    r.nh.nlmsg_type = NLMSG_NOOP;
    S(sendto(fd, &r, r.nh.nlmsg_len, 0, (struct sockaddr *)&to, sizeof to));
    to.nl_groups = 0;
    S(connect(fd, (struct sockaddr *)&to, sizeof to));
    to.nl_pid = 0x7ffffff0;
    S(connect(fd, (struct sockaddr *)&to, sizeof to));
    to.nl_pid = 0;
    S(connect(fd, (struct sockaddr *)&to, 4));
    struct sockaddr_nl peer;
    socklen_t len = sizeof peer;
    S(getpeername(fd, (struct sockaddr *)&peer, &len));
    printf("peer pid %u groups %u\n", peer.nl_pid, peer.nl_groups);
    read_replies(fd, "after destinations");
}

static void test_options(int fd)
{
    int v = 1, got;
    socklen_t l;
    printf("-- options\n");
    S(setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &v, sizeof v));
    S(setsockopt(fd, SOL_NETLINK, NETLINK_GET_STRICT_CHK, &v, sizeof v));
    S(setsockopt(fd, SOL_NETLINK, NETLINK_NO_ENOBUFS, &v, sizeof v));
    S(setsockopt(fd, SOL_NETLINK, 99, &v, sizeof v));
    S(setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, BADPTR, sizeof v));
    S(setsockopt(fd, SOL_IP, IP_TTL, &v, sizeof v));
    int opts[] = {NETLINK_EXT_ACK, NETLINK_GET_STRICT_CHK, NETLINK_NO_ENOBUFS, NETLINK_CAP_ACK,
                  NETLINK_BROADCAST_ERROR};
    for (unsigned i = 0; i < sizeof opts / sizeof *opts; i++) {
        l = sizeof got;
        got = -1;
        long r = getsockopt(fd, SOL_NETLINK, opts[i], &got, &l);
        printf("getsockopt netlink %d = %ld value %d len %u\n", opts[i], r, got, l);
    }
    l = 2;
    S(getsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &got, &l));
    l = sizeof got;
    S(getsockopt(fd, SOL_NETLINK, 99, &got, &l));
    v = 1;      /* RTNLGRP_LINK */
    S(setsockopt(fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &v, sizeof v));
    unsigned groups[4] = {0};
    l = sizeof groups;
    S(getsockopt(fd, SOL_NETLINK, NETLINK_LIST_MEMBERSHIPS, groups, &l));
    printf("memberships %#x len nonzero %d\n", groups[0], l != 0);
    S(setsockopt(fd, SOL_NETLINK, NETLINK_DROP_MEMBERSHIP, &v, sizeof v));
    v = 65536;
    S(setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof v));
    l = sizeof got;
    S(getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &got, &l));
    printf("SO_RCVBUF %d\n", got);
    v = 0;
    S(setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &v, sizeof v));
}

static void test_read_write(int fd)
{
    struct request r;
    static char buf[65536];
    printf("-- read and write\n");
    make_dump(&r, RTM_GETLINK, AF_UNSPEC);
    r.nh.nlmsg_flags = NLM_F_REQUEST;
    r.ifi.ifi_index = 1;
    S(write(fd, &r, r.nh.nlmsg_len));
    ssize_t n = read(fd, buf, sizeof buf);
    struct nlmsghdr *nh = (void *)buf;
    printf("read: %s type %d\n", n > 0 ? "positive" : ename(errno), n > 0 ? nh->nlmsg_type : -1);
    struct pollfd p = {fd, POLLIN, 0};
    S(poll(&p, 1, 0));
    S(write(fd, &r, r.nh.nlmsg_len));
    S(poll(&p, 1, 1000));
    printf("revents %#x\n", p.revents);
    read_replies(fd, "polled");
    struct request c;
    make_addr(&c, RTM_NEWADDR, 999);
    S(write(fd, &c, c.nh.nlmsg_len));
    S(poll(&p, 1, 1000));
    read_replies(fd, "written newaddr on 999");
}

/* -- the interface ioctls -------------------------------------------------------------------- */
static void print_sin(const char *label, struct sockaddr *sa)
{
    char buf[64] = "?";
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((struct sockaddr_in *)sa)->sin_addr, buf, sizeof buf);
    printf("  %s family %d %s\n", label, sa->sa_family, buf);
}

static void ifreq_ioctls(int fd, const char *kind)
{
    struct ifreq ifr;
    printf("-- ioctls on %s\n", kind);
#define IFR(req, name) (memset(&ifr, 0, sizeof ifr), strcpy(ifr.ifr_name, name), ioctl(fd, req, &ifr))
    if (S(IFR(SIOCGIFINDEX, "lo")) == 0)
        printf("  index %d\n", ifr.ifr_ifindex);
    S(IFR(SIOCGIFINDEX, "nosuch0"));
    memset(&ifr, 0, sizeof ifr);
    ifr.ifr_ifindex = 1;
    if (S(ioctl(fd, SIOCGIFNAME, &ifr)) == 0)
        printf("  name %s\n", ifr.ifr_name);
    ifr.ifr_ifindex = 999;
    S(ioctl(fd, SIOCGIFNAME, &ifr));
    if (S(IFR(SIOCGIFFLAGS, "lo")) == 0)
        printf("  flags %#x\n", (unsigned short)ifr.ifr_flags);
    if (S(IFR(SIOCGIFMTU, "lo")) == 0)
        printf("  mtu %d\n", ifr.ifr_mtu);
    if (S(IFR(SIOCGIFTXQLEN, "lo")) == 0)
        printf("  txqlen %d\n", ifr.ifr_qlen);
    if (S(IFR(SIOCGIFMETRIC, "lo")) == 0)
        printf("  metric %d\n", ifr.ifr_metric);
    if (S(IFR(SIOCGIFHWADDR, "lo")) == 0)
        printf("  hwaddr family %d %02x%02x%02x%02x%02x%02x\n", ifr.ifr_hwaddr.sa_family,
               (unsigned char)ifr.ifr_hwaddr.sa_data[0], (unsigned char)ifr.ifr_hwaddr.sa_data[1],
               (unsigned char)ifr.ifr_hwaddr.sa_data[2], (unsigned char)ifr.ifr_hwaddr.sa_data[3],
               (unsigned char)ifr.ifr_hwaddr.sa_data[4], (unsigned char)ifr.ifr_hwaddr.sa_data[5]);
    if (S(IFR(SIOCGIFMAP, "lo")) == 0)
        printf("  map irq %d dma %d port %d\n", ifr.ifr_map.irq, ifr.ifr_map.dma, ifr.ifr_map.port);
    if (S(IFR(SIOCGIFADDR, "lo")) == 0)
        print_sin("addr", &ifr.ifr_addr);
    if (S(IFR(SIOCGIFNETMASK, "lo")) == 0)
        print_sin("netmask", &ifr.ifr_netmask);
    if (S(IFR(SIOCGIFBRDADDR, "lo")) == 0)
        print_sin("broadcast", &ifr.ifr_broadaddr);
    if (S(IFR(SIOCGIFDSTADDR, "lo")) == 0)
        print_sin("dstaddr", &ifr.ifr_dstaddr);
    S(IFR(SIOCGIFADDR, "nosuch0"));
    S(IFR(SIOCGIFPFLAGS, "lo"));
    S(IFR(SIOCGIFSLAVE, "lo"));
    S(ioctl(fd, SIOCGIFFLAGS, BADPTR));
    S(ioctl(fd, SIOCGIFNAME, BADPTR));
    S(ioctl(fd, SIOCOUTQ, &ifr));

    /* setters: the same value again, so nothing changes */
    short flags = IFR(SIOCGIFFLAGS, "lo") == 0 ? ifr.ifr_flags : 0;
    memset(&ifr, 0, sizeof ifr);
    strcpy(ifr.ifr_name, "lo");
    ifr.ifr_flags = flags;
    S(ioctl(fd, SIOCSIFFLAGS, &ifr));
    ifr.ifr_mtu = 65536;
    S(ioctl(fd, SIOCSIFMTU, &ifr));
    strcpy(ifr.ifr_name, "nosuch0");
    S(ioctl(fd, SIOCSIFMTU, &ifr));
    S(ioctl(fd, SIOCSIFMTU, BADPTR));
    strcpy(ifr.ifr_name, "lo");
    ifr.ifr_qlen = 1000;
    S(ioctl(fd, SIOCSIFTXQLEN, &ifr));
    S(IFR(SIOCSIFPFLAGS, "lo"));
    S(IFR(SIOCSIFADDR, "nosuch0"));
    S(IFR(SIOCDIFADDR, "nosuch0"));
    memset(&ifr, 0, sizeof ifr);
    strcpy(ifr.ifr_name, "lo");
    strcpy(ifr.ifr_newname, "lo");
    S(ioctl(fd, SIOCSIFNAME, &ifr));

    /* SIOCGIFCONF: the size needed, a buffer too short for one, one that fits */
    struct ifconf ifc = {.ifc_len = 0, .ifc_buf = NULL};
    S(ioctl(fd, SIOCGIFCONF, &ifc));
    printf("  needed %d\n", ifc.ifc_len);
    struct ifreq reqs[4];
    memset(reqs, 0x55, sizeof reqs);
    ifc.ifc_len = 20;
    ifc.ifc_req = reqs;
    S(ioctl(fd, SIOCGIFCONF, &ifc));
    printf("  short: len %d untouched %d\n", ifc.ifc_len, (unsigned char)reqs[0].ifr_name[0] == 0x55);
    ifc.ifc_len = -5;
    S(ioctl(fd, SIOCGIFCONF, &ifc));
    printf("  negative: len %d\n", ifc.ifc_len);
    ifc.ifc_len = sizeof reqs;
    S(ioctl(fd, SIOCGIFCONF, &ifc));
    printf("  full: len %d\n", ifc.ifc_len);
    for (int i = 0; i < ifc.ifc_len / (int)sizeof(struct ifreq); i++) {
        printf("  %s", reqs[i].ifr_name);
        print_sin("", &reqs[i].ifr_addr);
    }
    printf("  after the entries: untouched %d\n", (unsigned char)reqs[1].ifr_name[0] == 0x55);
    ifc.ifc_len = sizeof reqs;
    ifc.ifc_req = BADPTR;
    S(ioctl(fd, SIOCGIFCONF, &ifc));
    S(ioctl(fd, SIOCGIFCONF, BADPTR));
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    test_create();
    test_names();
    int fd = open_route();
    test_dumps(fd);
    test_configure(fd);
    test_bad_messages(fd);
    test_options(fd);
    test_read_write(fd);
    test_destinations(fd);
    close(fd);

    int s = socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE);
    ifreq_ioctls(s, "netlink");
    close(s);
    s = socket(AF_UNIX, SOCK_DGRAM, 0);
    ifreq_ioctls(s, "unix");
    close(s);
    s = socket(AF_INET, SOCK_DGRAM, 0);
    ifreq_ioctls(s, "inet");
    close(s);
    s = socket(AF_INET6, SOCK_STREAM, 0);
    ifreq_ioctls(s, "inet6");
    close(s);
    return 0;
}
