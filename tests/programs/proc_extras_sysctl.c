/* Writable sysctls: kernel/hostname, domainname, core_pattern, tainted, ns_last_pid,
 * fs/pipe-max-size, as Linux's handlers take writes (EINVAL, EPERM, EACCES).
 * Natively it runs in new UTS and PID namespaces (unshare -u -p -f) and writes
 * machine-wide sysctls only with the value they already have. */
#include "common.h"
#include <sys/utsname.h>
#include <sys/wait.h>

static char value[512];

static const char *get(const char *path)
{
    int fd = open(path, O_RDONLY);
    long n = fd < 0 ? -1 : read(fd, value, sizeof value - 1);
    value[n < 0 ? 0 : n] = 0;
    if (fd >= 0)
        close(fd);
    return n < 0 ? errname(errno) : value;
}

static void put(const char *path, const char *text, size_t len)
{
    int fd = open(path, O_WRONLY);
    if (fd < 0) {
        printf("open %s for writing: %s\n", path, errname(errno));
        return;
    }
    long r = write(fd, text, len);
    printf("write %zu bytes to %s: %s\n", len, path, r < 0 ? errname(errno) : r == (long)len ? "all" : "short");
    close(fd);
}

#define PUT(path, s) put(path, s, strlen(s))

int main(void)
{
    const char *host = "/proc/sys/kernel/hostname", *dom = "/proc/sys/kernel/domainname";
    PUT(host, "sysctl-host");
    printf("hostname: %s", get(host));
    struct utsname u;
    uname(&u);
    printf("uname nodename: %s\n", u.nodename);
    PUT(host, "first\nsecond");
    printf("hostname: %s", get(host));
    char big[200];
    memset(big, 'h', sizeof big);
    put(host, big, sizeof big);
    printf("hostname length: %zu\n", strlen(get(host)) - 1);
    put(host, "", 0);
    printf("hostname after an empty write: %zu\n", strlen(get(host)) - 1);
    PUT(dom, "example.org");
    printf("domainname: %s", get(dom));

    const char *pms = "/proc/sys/fs/pipe-max-size";
    char current[64];
    snprintf(current, sizeof current, "%s", get(pms));
    PUT(pms, "abc");
    PUT(pms, "-5");
    PUT(pms, "2147483649");
    PUT(pms, "12x");
    PUT(pms, current);
    printf("pipe-max-size unchanged: %s\n", strcmp(get(pms), current) == 0 ? "yes" : "NO");
    int p[2];
    pipe(p);
    long max = atol(current);
    printf("F_SETPIPE_SZ at the maximum: %s\n", fcntl(p[0], F_SETPIPE_SZ, max) < 0 ? errname(errno) : "ok");
    printf("F_SETPIPE_SZ over it: %s\n", fcntl(p[0], F_SETPIPE_SZ, 2 * max) < 0 ? errname(errno) : "ok");

    const char *taint = "/proc/sys/kernel/tainted";
    snprintf(current, sizeof current, "%s", get(taint));
    PUT(taint, "abc");
    PUT(taint, "-1");
    PUT(taint, "0");
    printf("tainted unchanged: %s\n", strcmp(get(taint), current) == 0 ? "yes" : "NO");

    const char *core = "/proc/sys/kernel/core_pattern";
    char pattern[512];
    snprintf(pattern, sizeof pattern, "%s", get(core));
    PUT(core, pattern);
    printf("core_pattern unchanged: %s\n", strcmp(get(core), pattern) == 0 ? "yes" : "NO");

    const char *last = "/proc/sys/kernel/ns_last_pid";
    PUT(last, "abc");
    PUT(last, "-1");
    PUT(last, "99999999");
    PUT(last, "4194305");
    PUT(last, "5000");
    fflush(stdout);
    pid_t child = fork();
    if (child == 0)
        _exit(0);
    waitpid(child, NULL, 0);
    printf("next pid after ns_last_pid 5000 is 5001: %s\n", child == 5001 ? "yes" : "no");
    struct stat s;
    stat(last, &s);
    printf("ns_last_pid mode: %o\n", s.st_mode & 0777);
    stat(pms, &s);
    printf("pipe-max-size mode: %o\n", s.st_mode & 0777);
    return 0;
}
