/*
 * /proc/net/{tcp,tcp6,udp,unix}: the program's own sockets, as the tables of its
 * network namespace list them.
 *
 * Opens a TCP listener, a connected TCP pair, a TCP6 listener, UDP sockets, a unix
 * listener (abstract name with a NUL inside, and a path), a connection the listener
 * has not accepted, a unix socketpair and a datagram socket; then finds each one's
 * row by the inode number its /proc/self/fd link names and prints the row's stable
 * fields (addresses, whether the port is the one getsockname gives, state, uid,
 * refcount, flags, type, path).  Run natively in a network namespace of its own,
 * where the tables hold nothing else; row counts are printed too.
 */
#include "common.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>

#define MAX_ROWS 64

struct row {
    char local[33], remote[33];
    unsigned lport, rport, state, uid;
    unsigned long inode;
};

struct urow {
    unsigned refcount, protocol, flags, type, state;
    unsigned long inode;
    char path[128];
};

static int inet_rows(const char *table, struct row *rows)
{
    char path[64], line[512];
    snprintf(path, sizeof path, "/proc/net/%s", table);
    FILE *f = fopen(path, "r");
    if (!f) {
        printf("open %s: %s\n", path, errname(errno));
        return 0;
    }
    int n = 0;
    if (!fgets(line, sizeof line, f))
        printf("%s: no header\n", table);
    while (n < MAX_ROWS && fgets(line, sizeof line, f)) {
        struct row *r = &rows[n];
        if (sscanf(line, " %*d: %32[0-9A-F]:%X %32[0-9A-F]:%X %X %*s %*s %*s %u %*d %lu",
                   r->local, &r->lport, r->remote, &r->rport, &r->state, &r->uid, &r->inode) == 7)
            n++;
        else
            printf("%s: unparsed row: %s", table, line);
    }
    fclose(f);
    return n;
}

static int unix_rows(struct urow *rows)
{
    char line[512];
    FILE *f = fopen("/proc/net/unix", "r");
    if (!f) {
        printf("open /proc/net/unix: %s\n", errname(errno));
        return 0;
    }
    int n = 0;
    if (!fgets(line, sizeof line, f) || strcmp(line, "Num       RefCount Protocol Flags    Type St Inode Path\n"))
        printf("unix: header differs: %s", line);
    while (n < MAX_ROWS && fgets(line, sizeof line, f)) {
        struct urow *r = &rows[n];
        int end = 0;
        r->path[0] = 0;
        if (sscanf(line, "%*[0-9a-f]: %X %X %X %X %X %lu%n", &r->refcount, &r->protocol, &r->flags,
                   &r->type, &r->state, &r->inode, &end) < 6) {
            printf("unix: unparsed row: %s", line);
            continue;
        }
        sscanf(line + end, " %127[^\n]", r->path);
        n++;
    }
    fclose(f);
    return n;
}

/* The inode number the fd's /proc/self/fd link names ("socket:[N]"), checked against fstat. */
static unsigned long sock_ino(int fd)
{
    char path[64], target[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    ssize_t len = readlink(path, target, sizeof target - 1);
    unsigned long ino = 0;
    struct stat s;
    if (len < 0 || (target[len] = 0, sscanf(target, "socket:[%lu]", &ino) != 1))
        printf("fd %d: no socket link\n", fd);
    if (fstat(fd, &s) < 0 || s.st_ino != ino)
        printf("fd %d: the link's inode is not fstat's\n", fd);
    return ino;
}

static unsigned local_port(int fd)
{
    struct sockaddr_in6 a;
    socklen_t len = sizeof a;
    getsockname(fd, (struct sockaddr *)&a, &len);
    return ntohs(a.sin6_port);      /* sin_port and sin6_port are at the same offset */
}

static void show_inet(const char *label, const char *table, int fd, int peer)
{
    struct row rows[MAX_ROWS];
    int n = inet_rows(table, rows);
    unsigned long ino = sock_ino(fd);
    for (int i = 0; i < n; i++) {
        struct row *r = &rows[i];
        if (r->inode != ino)
            continue;
        printf("%s: in %s, local %s port %s, remote %s port %s, state %02X, uid %u\n", label, table,
               r->local, r->lport == local_port(fd) ? "ok" : "WRONG", r->remote,
               peer < 0 ? (r->rport == 0 ? "0" : "WRONG") : (r->rport == local_port(peer) ? "ok" : "WRONG"),
               r->state, r->uid);
        return;
    }
    printf("%s: not in %s\n", label, table);
}

static void show_unix(const char *label, int fd)
{
    struct urow rows[MAX_ROWS];
    int n = unix_rows(rows);
    unsigned long ino = sock_ino(fd);
    for (int i = 0; i < n; i++) {
        struct urow *r = &rows[i];
        if (r->inode == ino) {
            printf("%s: refcount %u protocol %u flags %05X type %04X st %02X path '%s'\n", label, r->refcount,
                   r->protocol, r->flags, r->type, r->state, r->path);
            return;
        }
    }
    printf("%s: not in unix\n", label);
}

/* The program's open sockets: fds whose fstat says S_IFSOCK. */
static unsigned open_sockets(void)
{
    unsigned n = 0;
    struct stat s;
    for (int fd = 0; fd < 1024; fd++)
        n += fstat(fd, &s) == 0 && S_ISSOCK(s.st_mode);
    return n;
}

/* The namespace's counts of sockets (not TCP's alloc, orphan and mem, which are machine-wide).
 * "sockets: used" also counts sockets Linux frees later (closed TCP ones finishing, unix ones
 * in flight), so only its floor is stable: the program's own open sockets. */
static void show_sockstat(void)
{
    char line[256];
    unsigned used = 0, tcp = 0, tw = 0, udp = 0, tcp6 = 0, udp6 = 0;
    FILE *f = fopen("/proc/net/sockstat", "r");
    while (f && fgets(line, sizeof line, f)) {
        sscanf(line, "sockets: used %u", &used);
        sscanf(line, "TCP: inuse %u orphan %*u tw %u", &tcp, &tw);
        sscanf(line, "UDP: inuse %u", &udp);
    }
    if (f)
        fclose(f);
    f = fopen("/proc/net/sockstat6", "r");
    while (f && fgets(line, sizeof line, f)) {
        sscanf(line, "TCP6: inuse %u", &tcp6);
        sscanf(line, "UDP6: inuse %u", &udp6);
    }
    if (f)
        fclose(f);
    printf("sockstat: sockets used %s the open ones, TCP inuse %u tw %u, UDP inuse %u, TCP6 inuse %u, UDP6 inuse %u\n",
           used >= open_sockets() ? "at least" : "fewer than", tcp, tw, udp, tcp6, udp6);
}

static void show_counts(void)
{
    struct row rows[MAX_ROWS];
    struct urow urows[MAX_ROWS];
    const char *tables[] = {"tcp", "tcp6", "udp", "udp6"};
    for (int t = 0; t < 4; t++) {
        int n = inet_rows(tables[t], rows);
        printf("%s rows: %d (states", tables[t], n);
        for (unsigned state = 1; state <= 12; state++)      /* in order: rows come in hash order */
            for (int i = 0; i < n; i++)
                if (rows[i].state == state)
                    printf(" %02X%s", state, rows[i].inode ? "" : "/no inode");
        printf(")\n");
    }
    int n = unix_rows(urows), fileless = 0;
    for (int i = 0; i < n; i++)
        fileless += urows[i].inode == 0;
    printf("unix rows: %d, without a socket: %d\n", n, fileless);
    show_sockstat();
}

static int tcp_socket(int family, const char *addr)
{
    struct sockaddr_in6 a6 = {.sin6_family = AF_INET6};
    struct sockaddr_in a4 = {.sin_family = AF_INET};
    int fd = socket(family, SOCK_STREAM, 0);
    if (family == AF_INET6) {
        inet_pton(AF_INET6, addr, &a6.sin6_addr);
        bind(fd, (struct sockaddr *)&a6, sizeof a6);
    } else {
        inet_pton(AF_INET, addr, &a4.sin_addr);
        bind(fd, (struct sockaddr *)&a4, sizeof a4);
    }
    return fd;
}

static void connect_to(int fd, int listener)
{
    struct sockaddr_storage a;
    socklen_t len = sizeof a;
    getsockname(listener, (struct sockaddr *)&a, &len);
    if (connect(fd, (struct sockaddr *)&a, len) < 0)
        printf("connect: %s\n", errname(errno));
}

int main(void)
{
    /* TCP over IPv4: a listener, a connection and its accepted end */
    int tl = tcp_socket(AF_INET, "127.0.0.1");
    listen(tl, 5);
    int tc = socket(AF_INET, SOCK_STREAM, 0);
    connect_to(tc, tl);
    int ta = accept(tl, NULL, NULL);
    int t6 = tcp_socket(AF_INET6, "::1");
    listen(t6, 5);
    int tbound = tcp_socket(AF_INET, "127.0.0.1");      /* bound, never listening: in no table */
    show_inet("tcp listener", "tcp", tl, -1);
    show_inet("tcp client", "tcp", tc, tl);
    show_inet("tcp accepted", "tcp", ta, tc);
    show_inet("tcp6 listener", "tcp6", t6, -1);
    show_inet("tcp bound only", "tcp", tbound, -1);

    /* UDP: a bound socket, one connected to it, one never bound */
    int u = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    bind(u, (struct sockaddr *)&a, sizeof a);
    int uc = socket(AF_INET, SOCK_DGRAM, 0);
    connect_to(uc, u);
    int unbound = socket(AF_INET, SOCK_DGRAM, 0);
    show_inet("udp bound", "udp", u, -1);
    show_inet("udp connected", "udp", uc, u);
    show_inet("udp unbound", "udp", unbound, -1);

    /* AF_UNIX: an abstract listener, a path listener, an unaccepted connection, a pair */
    struct sockaddr_un ua = {.sun_family = AF_UNIX};
    memcpy(ua.sun_path, "\0proc-net\0test", 14);
    int ul = socket(AF_UNIX, SOCK_STREAM, 0);
    bind(ul, (struct sockaddr *)&ua, offsetof(struct sockaddr_un, sun_path) + 14);
    listen(ul, 5);
    int uconn = socket(AF_UNIX, SOCK_STREAM, 0);
    connect(uconn, (struct sockaddr *)&ua, offsetof(struct sockaddr_un, sun_path) + 14);
    char dir[] = "/tmp/proc_net.XXXXXX";
    mkdtemp(dir);
    struct sockaddr_un up = {.sun_family = AF_UNIX};
    snprintf(up.sun_path, sizeof up.sun_path, "%s/s", dir);
    int upath = socket(AF_UNIX, SOCK_SEQPACKET, 0);
    bind(upath, (struct sockaddr *)&up, sizeof up);
    listen(upath, 5);
    int pair[2];
    socketpair(AF_UNIX, SOCK_STREAM, 0, pair);
    int ud = socket(AF_UNIX, SOCK_DGRAM, 0);
    show_unix("unix abstract listener", ul);
    show_unix("unix unaccepted client", uconn);
    show_unix("unix pair end", pair[0]);
    show_unix("unix datagram", ud);
    struct urow rows[MAX_ROWS];
    int n = unix_rows(rows);
    unsigned long ino = sock_ino(upath);
    for (int i = 0; i < n; i++)
        if (rows[i].inode == ino)
            printf("unix path listener: flags %05X type %04X path is the bound path: %s\n", rows[i].flags,
                   rows[i].type, strcmp(rows[i].path, up.sun_path) ? "NO" : "yes");
    show_counts();

    /* closing takes a socket out of the tables */
    close(unbound);
    close(uc);
    close(u);
    close(ud);
    close(pair[0]);
    show_unix("unix pair end after the other closed", pair[1]);
    close(tc);
    close(ta);
    printf("-- after closing\n");
    show_counts();
    unlink(up.sun_path);
    rmdir(dir);
    return 0;
}
