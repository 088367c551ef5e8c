/* /proc files programs and test frameworks read (issue 11, defect 6):
 * /proc/config.gz, /proc/self/smaps, smaps_rollup and pagemap, /proc/<pid>/ns/.
 * Prints what is stable: formats, consistency between files, errno names;
 * never numbers of memory, namespaces or pages. */
#include "common.h"
#include <linux/nsfs.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>

#define BIG (1 << 20)
static char maps[BIG], smaps[4 * BIG], rollup[BIG];

/* The whole of a file by raw reads (no stdio: its buffers would change the maps). */
static long slurp(const char *path, char *buf, long size)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return -1;
    long n = 0, r;
    while (n < size - 1 && (r = read(fd, buf + n, size - 1 - n)) > 0)
        n += r;
    buf[n] = 0;
    close(fd);
    return n;
}

static void config_gz(void)
{
    struct stat s;
    if (stat("/proc/config.gz", &s) < 0) {
        printf("config.gz: %s\n", errname(errno));
        return;
    }
    long n = slurp("/proc/config.gz", smaps, sizeof smaps);
    printf("config.gz: mode %o, size == bytes read: %s, gzip magic: %s\n", s.st_mode,
           n == s.st_size ? "yes" : "NO", (unsigned char)smaps[0] == 0x1f && (unsigned char)smaps[1] == 0x8b ? "yes" : "NO");
    int fd = open("/proc/config.gz", O_WRONLY);
    printf("config.gz O_WRONLY: %s\n", fd < 0 ? errname(errno) : "ok");
}

static int is_header(const char *line)
{
    return (*line >= '0' && *line <= '9') || (*line >= 'a' && *line <= 'f');
}

static long field_kb(const char *block, const char *key)
{
    const char *p = strstr(block, key);
    return p ? atol(p + strlen(key)) : -1;
}

static void smaps_files(void)
{
    /* read all three before printing anything */
    long nm = slurp("/proc/self/maps", maps, sizeof maps);
    long ns = slurp("/proc/self/smaps", smaps, sizeof smaps);
    long nr = slurp("/proc/self/smaps_rollup", rollup, sizeof rollup);
    if (nm < 0 || ns < 0 || nr < 0) {
        printf("smaps: %s\n", errname(errno));
        return;
    }
    /* every header of smaps is the next line of maps */
    int blocks = 0, same = 1, keys_first = 0, keys_same = 1, keys = 0, vmflags = 1;
    long rss_sum = 0;
    char *m = maps, *line = smaps, *first_key_list = NULL;
    unsigned long first_start = 0, last_end = 0;
    while (*line) {
        char *nl = strchr(line, '\n');
        if (!nl)
            break;
        *nl = 0;
        if (is_header(line)) {
            if (blocks) {
                if (!keys_first)
                    keys_first = keys;
                else if (keys != keys_first)
                    keys_same = 0;
            }
            char *mnl = strchr(m, '\n');
            if (!mnl || strncmp(line, m, mnl - m) != 0 || (long)strlen(line) != mnl - m)
                same = 0;
            m = mnl ? mnl + 1 : m;
            unsigned long lo, hi;
            sscanf(line, "%lx-%lx", &lo, &hi);
            if (!blocks)
                first_start = lo;
            if (lo < 0xffff800000000000UL)
                last_end = hi;
            blocks++;
            keys = 0;
        } else {
            if (!first_key_list && blocks == 1 && strncmp(line, "VmFlags:", 8) == 0)
                first_key_list = line;
            keys++;
            if (strncmp(line, "Rss:", 4) == 0)
                rss_sum += atol(line + 4);
        }
        line = nl + 1;
    }
    if (keys != keys_first)
        vmflags = keys_same = 0;
    printf("smaps: headers are maps's lines: %s, every maps line has a block: %s, "
           "same number of fields in each block: %s%s\n",
           same ? "yes" : "NO", *m == 0 ? "yes" : "NO", keys_same ? "yes" : "NO", vmflags ? "" : " (last differs)");
    /* the field names of the first block, in order */
    printf("smaps fields:");
    for (char *p = smaps; p < smaps + ns && p[0];) {
        char *nl = p + strlen(p);
        if (is_header(p) && p != smaps)
            break;
        if (!is_header(p)) {
            char *colon = strchr(p, ':');
            if (colon)
                printf(" %.*s", (int)(colon - p), p);
        }
        p = nl + 1;
    }
    printf("\n");
    unsigned long lo = 0, hi = 0;
    sscanf(rollup, "%lx-%lx", &lo, &hi);
    char *nl = strchr(rollup, '\n');
    printf("smaps_rollup: header ends in [rollup]: %s, ---p 00000000 00:00 0: %s, header width %ld, "
           "range is first to last mapping: %s\n",
           nl && nl - 8 >= rollup && strncmp(nl - 8, "[rollup]", 8) == 0 ? "yes" : "NO",
           strstr(rollup, " ---p 00000000 00:00 0 ") ? "yes" : "NO", nl ? (long)(nl - rollup) - (long)strcspn(rollup, " ") : -1,
           lo == first_start && hi == last_end ? "yes" : "NO");
    printf("smaps_rollup fields:");
    for (char *p = nl + 1; p && *p;) {
        char *colon = strchr(p, ':');
        char *end = strchr(p, '\n');
        if (!colon || !end)
            break;
        printf(" %.*s", (int)(colon - p), p);
        p = end + 1;
    }
    printf("\n");
    long rss = field_kb(rollup, "\nRss:");
    printf("smaps_rollup Rss within a tenth of the blocks' sum: %s\n",
           rss > 0 && labs(rss - rss_sum) * 10 <= rss_sum ? "yes" : "NO");
}

static uint64_t entry(int fd, void *addr)
{
    uint64_t e = 0;
    if (pread(fd, &e, 8, (uintptr_t)addr / 4096 * 8) != 8)
        return ~0ULL;
    return e;
}

static void show_entry(const char *what, uint64_t e)
{
    printf("pagemap %s: present %d swapped %d file/shared %d exclusive %d\n", what,
           (int)(e >> 63 & 1), (int)(e >> 62 & 1), (int)(e >> 61 & 1), (int)(e >> 56 & 1));
}

static void pagemap(void)
{
    int fd = open("/proc/self/pagemap", O_RDONLY);
    if (fd < 0) {
        printf("pagemap: %s\n", errname(errno));
        return;
    }
    struct stat s;
    fstat(fd, &s);
    printf("pagemap: mode %o size %ld\n", s.st_mode, (long)s.st_size);
    char *p = mmap(NULL, 3 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    p[0] = 1;
    show_entry("touched anonymous page", entry(fd, p));
    show_entry("untouched anonymous page", entry(fd, p + 4096));
    munmap(p + 2 * 4096, 4096);
    show_entry("unmapped page", entry(fd, p + 2 * 4096));
    show_entry("a page of our text", entry(fd, (void *)(uintptr_t)&pagemap));
    uint64_t two[2];
    long r = pread(fd, two, 16, (uintptr_t)p / 4096 * 8);
    printf("pagemap two entries: %ld, touched then untouched: %s\n", r,
           r == 16 && two[0] >> 63 && !(two[1] >> 63) ? "yes" : "NO");
    uint64_t e;
    SHOW(pread(fd, &e, 8, 3));
    SHOW(pread(fd, &e, 7, 0));
    SHOW(pread(fd, &e, 0, 0));
    SHOW(pread(fd, BADPTR, 8, (uintptr_t)p / 4096 * 8));
    SHOW(pread(fd, &e, 8, 0x800000000000UL / 4096 * 8));
    SHOW(lseek(fd, 0, SEEK_END));
    SHOW(lseek(fd, 4096, SEEK_SET));
    SHOW(lseek(fd, 8, SEEK_CUR));
    SHOW(read(fd, &e, 8));
    SHOW(write(fd, &e, 8));
    SHOW(fsync(fd));
    close(fd);
}

static const char *ns_names[] = {"cgroup", "ipc", "mnt", "net", "pid", "pid_for_children", "time",
                                 "time_for_children", "user", "uts"};
#define NNS (int)(sizeof ns_names / sizeof *ns_names)

/* The link of pid's (0: self) namespace `name`, "" if it cannot be read. */
static const char *ns_link(int pid, const char *name, char *buf)
{
    char path[64];
    if (pid)
        snprintf(path, sizeof path, "/proc/%d/ns/%s", pid, name);
    else
        snprintf(path, sizeof path, "/proc/self/ns/%s", name);
    long n = readlink(path, buf, 63);
    buf[n < 0 ? 0 : n] = 0;
    return buf;
}

static void namespaces(void)
{
    struct stat d, l, t;
    lstat("/proc/self/ns", &d);
    printf("ns/: mode %o\n", d.st_mode & 07777);
    dev_t dev = 0;
    for (int i = 0; i < NNS; i++) {
        char path[64], link[64], kind[32];
        snprintf(path, sizeof path, "/proc/self/ns/%s", ns_names[i]);
        if (lstat(path, &l) < 0) {
            printf("ns/%s: %s\n", ns_names[i], errname(errno));
            continue;
        }
        ns_link(0, ns_names[i], link);
        snprintf(kind, sizeof kind, "%s", ns_names[i]);
        char *us = strchr(kind, '_');
        if (us)
            *us = 0;
        unsigned long ino = 0;
        char prefix[32] = "";
        int fields = sscanf(link, "%31[a-z]:[%lu]", prefix, &ino);
        stat(path, &t);
        if (!dev)
            dev = t.st_dev;
        int fd = open(path, O_RDONLY);
        struct stat f;
        int fstat_same = fd >= 0 && fstat(fd, &f) == 0 && f.st_ino == t.st_ino && f.st_dev == t.st_dev;
        char fdpath[64], fdlink[64];
        snprintf(fdpath, sizeof fdpath, "/proc/self/fd/%d", fd);
        long n = readlink(fdpath, fdlink, 63);
        fdlink[n < 0 ? 0 : n] = 0;
        long type = fd >= 0 ? ioctl(fd, NS_GET_NSTYPE) : -1;
        printf("ns/%s: link %o, \"%s:[N]\": %s, stat: %s %o nlink %ld uid %d size %ld, st_ino is N: %s, "
               "one st_dev: %s, fstat same: %s, fd link same: %s, NS_GET_NSTYPE %#lx\n",
               ns_names[i], l.st_mode & 07777, kind, fields == 2 && strcmp(prefix, kind) == 0 ? "yes" : "NO",
               ftype(t.st_mode), t.st_mode & 07777, (long)t.st_nlink, t.st_uid, (long)t.st_size,
               t.st_ino == ino ? "yes" : "NO", t.st_dev == dev ? "yes" : "NO", fstat_same ? "yes" : "NO",
               strcmp(fdlink, link) == 0 ? "yes" : "NO", type);
        if (i == 2) {       /* what an ns fd does */
            char b[8];
            SHOW(read(fd, b, 8));
            SHOW(pread(fd, b, 8, 0));
            SHOW(lseek(fd, 0, SEEK_SET));
            SHOW(fsync(fd));
            SHOW(write(fd, "x", 1));
            SHOW(mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, fd, 0) == MAP_FAILED ? -1 : 0);
            SHOW(ioctl(fd, 0x1234));
            SHOW(open(path, O_RDWR));
            SHOW(open(path, O_RDONLY | O_NOFOLLOW));
            SHOW(open(path, O_RDONLY | O_DIRECTORY));
            OK(open(path, O_PATH));
        }
        close(fd);
    }
    SHOW(readlink("/proc/self/ns/nosuch", (char *)maps, 10));
    SHOW(readlink("/proc/self/ns/mnt", (char *)maps, 3));
    /* a child is in the same namespaces: its links and the parent's agree both ways */
    int parent = getpid(), pipefd[2];
    if (pipe(pipefd) < 0)
        return;
    fflush(stdout);
    pid_t child = fork();
    if (child == 0) {
        int same = 1;
        char a[64], b[64];
        for (int i = 0; i < NNS; i++)
            same &= strcmp(ns_link(0, ns_names[i], a), ns_link(parent, ns_names[i], b)) == 0 && a[0];
        printf("child's namespaces are its parent's: %s\n", same ? "yes" : "NO");
        fflush(stdout);
        char c;
        read(pipefd[0], &c, 1);
        _exit(0);
    }
    int same = 1;
    char a[64], b[64];
    for (int i = 0; i < NNS; i++) {
        struct stat s1, s2;
        char p1[64], p2[64];
        snprintf(p1, sizeof p1, "/proc/self/ns/%s", ns_names[i]);
        snprintf(p2, sizeof p2, "/proc/%d/ns/%s", child, ns_names[i]);
        same &= strcmp(ns_link(0, ns_names[i], a), ns_link(child, ns_names[i], b)) == 0 && a[0]
                && stat(p1, &s1) == 0 && stat(p2, &s2) == 0 && s1.st_ino == s2.st_ino && s1.st_dev == s2.st_dev;
    }
    write(pipefd[1], "x", 1);
    waitpid(child, NULL, 0);
    printf("parent sees the child's namespaces as its own: %s\n", same ? "yes" : "NO");
    /* a zombie has no namespaces */
    fflush(stdout);
    child = fork();
    if (child == 0)
        _exit(0);
    usleep(100000);
    char zpath[64];
    snprintf(zpath, sizeof zpath, "/proc/%d/ns/mnt", child);
    printf("zombie's ns/mnt readlink: %s\n", readlink(zpath, a, 63) < 0 ? errname(errno) : "ok");
    waitpid(child, NULL, 0);
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOFBF, 1 << 16);
    const char *only = argc > 1 ? argv[1] : "";
    if (!*only || !strcmp(only, "smaps"))
        smaps_files();
    if (!*only || !strcmp(only, "config"))
        config_gz();
    if (!*only || !strcmp(only, "pagemap"))
        pagemap();
    if (!*only || !strcmp(only, "ns"))
        namespaces();
    return 0;
}
