/*
 * mount(2) and umount2(2) as root in a private mount namespace: new tmpfs
 * and proc mounts with their options, binds (of a subdirectory, recursive),
 * remounts (per mount and of the filesystem), propagation changes, MS_MOVE,
 * busy and lazy unmounts, noexec and nodev, and the error cases; each step's
 * /proc/self/mountinfo line is printed without ids and devices; polling
 * /proc/self/mounts and mountinfo (mounts_poll) across changes of the table;
 * mounts onto the magic link of an O_PATH fd (/proc/self/fd/N); statfs's
 * f_flags from the mount's flags.
 * Natively it runs under `unshare -m --propagation private`.
 */
#include "workdir.h"
#include <poll.h>
#include <sys/epoll.h>
#include <sys/mount.h>
#include <sys/vfs.h>

static void mountinfo(const char *name)
{
    char line[1024], want[256];
    snprintf(want, sizeof want, "%s/%s ", tmpdir, name);
    FILE *f = fopen("/proc/self/mountinfo", "r");
    int n = 0;
    while (fgets(line, sizeof line, f)) {
        char *p = line;
        for (int i = 0; i < 3; i++)
            p = strchr(p, ' ') + 1;         /* past id, parent id, major:minor */
        char *point = strchr(p, ' ') + 1;
        if (strncmp(point, want, strlen(want)))
            continue;
        *(point - 1) = 0;
        printf("  mountinfo %s: root=%s %s", name, p, point + strlen(want));
        n++;
    }
    fclose(f);
    if (!n)
        printf("  mountinfo %s: none\n", name);
}

/* statfs's f_flags: ST_VALID and the flags of the mount the path is on. */
static void statfs_flags(void)
{
    struct statfs sf;
    printf("-- statfs flags\n");
    SHOW(mkdir("s", 0755));
    SHOW(mount("none", "s", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME, "size=64k"));
    SHOW(statfs("s", &sf));
    printf("  f_flags %#lx\n", (long)sf.f_flags);
    SHOW(mount(NULL, "s", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID, NULL));
    int fd = OK(open("s", O_RDONLY));
    SHOW(fstatfs(fd, &sf));
    printf("  f_flags %#lx\n", (long)sf.f_flags);
    close(fd);
    SHOW(umount2("s", 0));
}

/* A mount point named by an O_PATH fd's magic link is the object the fd holds. */
static void magic_links(void)
{
    char link[64];
    printf("-- onto magic links\n");
    SHOW(mkdir("m", 0755));
    int dir = OK(open("m", O_PATH));
    snprintf(link, sizeof link, "/proc/self/fd/%d", dir);
    SHOW(mount("none", link, "tmpfs", 0, "size=64k"));
    mountinfo("m");
    SHOW(close(open("m/made", O_CREAT | O_WRONLY, 0644)));
    struct stat a, b;
    stat("m", &a);
    fstat(dir, &b);
    CHECK(a.st_dev != b.st_dev);        /* the fd still names the covered directory */
    SHOW(umount2("m", 0));
    SHOW(close(open("f", O_CREAT | O_WRONLY, 0644)));
    int file = OK(open("f", O_PATH));
    snprintf(link, sizeof link, "/proc/self/fd/%d", file);
    int g = OK(open("g", O_CREAT | O_WRONLY, 0644));
    SHOW(write(g, "bound", 5));
    close(g);
    SHOW(mount("g", link, NULL, MS_BIND, NULL));
    char buf[16] = {0};
    int rd = OK(open("f", O_RDONLY));
    SHOW(read(rd, buf, sizeof buf - 1));
    printf("  f reads \"%s\"\n", buf);
    close(rd);
    SHOW(umount2("f", 0));
    close(dir);
    close(file);
}

static void mounts_line(const char *name)
{
    char line[1024], want[256];
    snprintf(want, sizeof want, " %s/%s ", tmpdir, name);
    FILE *f = fopen("/proc/self/mounts", "r");
    while (fgets(line, sizeof line, f)) {
        char *p = strstr(line, want);
        if (p)
            printf("  mounts %s: %s", name, p + strlen(want));
    }
    fclose(f);
}

static void exists(const char *path)
{
    struct stat st;
    int r = stat(path, &st);
    printf("  stat %s: %s\n", path, r == 0 ? (S_ISDIR(st.st_mode) ? "dir" : "file") : errname(errno));
}

static void poll_show(const char *label, int fd)
{
    struct pollfd p = {fd, POLLIN | POLLPRI | POLLOUT, 0};
    int r = poll(&p, 1, 0);
    printf("  %s: poll = %d %#x\n", label, r, p.revents);
}

static void epoll_show(const char *label, int e)
{
    struct epoll_event ev[4];
    int n = epoll_wait(e, ev, 4, 0);
    printf("  %s: epoll_wait = %d", label, n);
    for (int i = 0; i < n; i++)
        printf(" [%#x %lu]", ev[i].events, (unsigned long)ev[i].data.u64);
    printf("\n");
}

/* An open mounts or mountinfo is readable, and POLLERR|POLLPRI once after each
 * change of the mount table since it last looked: a mount, an unmount, a move,
 * a remount — not a propagation change, nor a call that failed. */
static void mount_events(void)
{
    printf("-- polling mounts and mountinfo\n");
    int m = open("/proc/self/mounts", O_RDONLY), mi = open("/proc/self/mountinfo", O_RDONLY);
    int e = epoll_create1(0);
    struct epoll_event ev = {EPOLLIN | EPOLLPRI, {.u64 = 1}};
    SHOW(epoll_ctl(e, EPOLL_CTL_ADD, m, &ev));
    ev = (struct epoll_event){EPOLLIN | EPOLLPRI | EPOLLET, {.u64 = 2}};
    SHOW(epoll_ctl(e, EPOLL_CTL_ADD, mi, &ev));
    epoll_show("at first", e);
    epoll_show("again", e);
    SHOW(mount("none", "c", "tmpfs", 0, NULL));
    epoll_show("after a mount", e);
    epoll_show("once", e);
    poll_show("mounts", m);
    SHOW(mount(NULL, "c", NULL, MS_REMOUNT | MS_RDONLY, NULL));
    poll_show("after a remount", m);
    poll_show("once", m);
    SHOW(mount(NULL, "c", NULL, MS_REMOUNT | MS_BIND, NULL));
    poll_show("after a remount of the mount only", m);
    SHOW(mount(NULL, "c", NULL, MS_SHARED, NULL));
    poll_show("after a propagation change", m);
    SHOW(mount(NULL, "c", NULL, MS_PRIVATE, NULL));
    SHOW(mount("c", "b", NULL, MS_BIND, NULL));
    poll_show("after a bind", m);
    SHOW(mount("b", "a", NULL, MS_MOVE, NULL));
    poll_show("after a move", m);
    SHOW(umount2("b", 0));
    SHOW(mount("none", "missing", "tmpfs", 0, NULL));
    poll_show("after calls that failed", m);
    epoll_show("the edge-triggered item", e);
    epoll_show("and nothing new", e);
    int fresh = open("/proc/self/mounts", O_RDONLY);
    SHOW(umount2("a", 0));
    poll_show("after an unmount", m);
    poll_show("opened before it", fresh);
    close(fresh);
    fresh = open("/proc/self/mounts", O_RDONLY);
    poll_show("opened after it", fresh);
    SHOW(umount2("c", MNT_DETACH));
    poll_show("after a lazy unmount", fresh);
    epoll_show("both items", e);
    ev = (struct epoll_event){EPOLLPRI, {.u64 = 3}};
    SHOW(epoll_ctl(e, EPOLL_CTL_MOD, m, &ev));
    SHOW(epoll_ctl(e, EPOLL_CTL_DEL, mi, NULL));
    FLUSH();
    pid_t child = fork();
    if (child == 0) {
        usleep(100000);
        mount("none", "c", "tmpfs", 0, NULL);
        _exit(0);
    }
    struct epoll_event got;
    int n = epoll_wait(e, &got, 1, 5000);
    printf("  a wait for POLLPRI, ended by a child's mount = %d [%#x %lu]\n", n, got.events,
           (unsigned long)got.data.u64);
    waitpid(child, NULL, 0);
    SHOW(umount2("c", 0));
    close(fresh), close(m), close(mi), close(e);
}

int main(void)
{
    enter_tmpdir();
    mkdir("a", 0755);
    mkdir("b", 0755);
    mkdir("c", 0755);

    printf("-- new tmpfs\n");
    SHOW(mount("none", "a", "tmpfs", 0, "size=1m,mode=700,uid=5,gid=6"));
    struct stat st;
    stat("a", &st);
    printf("  a: mode %o uid %d gid %d\n", st.st_mode, st.st_uid, st.st_gid);
    mountinfo("a");
    mounts_line("a");
    SHOW(mkdir("a/sub", 0755));
    SHOW(mkdir("a/sub/deep", 0755));
    SHOW(mount("none", "a", "tmpfs", 0, "bogus=1"));
    SHOW(mount("none", "a", "nosuchfs", 0, NULL));
    SHOW(mount("none", "a", NULL, 0, NULL));
    SHOW(mount("none", "missing", "tmpfs", 0, NULL));
    SHOW(mount("none", "a", "tmpfs", 1u << 31, NULL));
    SHOW(mount("none", (char *)8, "tmpfs", 0, NULL));
    AS_USER(SHOW(mount("none", "a", "tmpfs", 0, NULL)); SHOW(umount2("a", 0)));

    printf("-- binds\n");
    SHOW(mount("a/sub", "b", NULL, MS_BIND, NULL));
    mountinfo("b");
    exists("b/deep");
    SHOW(mount(NULL, "b", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL));
    SHOW(mkdir("b/x", 0755));
    SHOW(mkdir("a/sub/x", 0755));
    mountinfo("b");
    mounts_line("b");
    SHOW(mount(NULL, "a", NULL, MS_REMOUNT | MS_RDONLY, NULL));
    SHOW(mkdir("a/y", 0755));
    mountinfo("a");
    SHOW(mount(NULL, "a", NULL, MS_REMOUNT, NULL));
    SHOW(mkdir("a/y", 0755));
    SHOW(mount(NULL, "b", NULL, MS_REMOUNT | MS_BIND, NULL));
    SHOW(mkdir("b/z", 0755));
    SHOW(mount(NULL, "a/sub", NULL, MS_REMOUNT, NULL));
    SHOW(umount2("b", 0));
    SHOW(mount("none", "a/sub", "tmpfs", 0, NULL));
    SHOW(mount("a", "b", NULL, MS_BIND, NULL));
    exists("b/sub/deep");
    SHOW(umount2("b", 0));
    SHOW(mount("a", "b", NULL, MS_BIND | MS_REC, NULL));
    exists("b/sub/deep");
    mountinfo("b/sub");
    SHOW(umount2("b", 0));
    SHOW(umount2("b/sub", 0));
    SHOW(umount2("b", 0));
    SHOW(umount2("a/sub", 0));

    printf("-- propagation and move\n");
    SHOW(mount(NULL, "a", NULL, MS_PRIVATE | MS_SHARED, NULL));
    SHOW(mount(NULL, "a", NULL, MS_UNBINDABLE, NULL));
    SHOW(mount("a", "b", NULL, MS_BIND, NULL));
    SHOW(mount(NULL, "a", NULL, MS_PRIVATE, NULL));
    SHOW(mount(NULL, "c", NULL, MS_PRIVATE, NULL));
    SHOW(mount("a", "a/sub", NULL, MS_MOVE, NULL));
    SHOW(mount("a", "b", NULL, MS_MOVE, NULL));
    mountinfo("a");
    mountinfo("b");
    exists("b/sub/deep");
    SHOW(mount("b", "a", NULL, MS_MOVE, NULL));

    printf("-- busy and lazy unmounts\n");
    SHOW(mount("none", "b", "tmpfs", 0, NULL));
    SHOW(mkdir("b/in", 0755));
    SHOW(mount("none", "b/in", "tmpfs", 0, NULL));
    SHOW(umount2("b", 0));
    SHOW(umount2("b/in", 0));
    int fd = open("b/f", O_CREAT | O_RDWR, 0644);
    SHOW(umount2("b", 0));
    close(fd);
    SHOW(chdir("b"));
    SHOW(umount2(".", 0));
    SHOW(chdir(".."));
    SHOW(umount2("b", MNT_EXPIRE | MNT_DETACH));
    SHOW(umount2("b", 0x100));
    SHOW(umount2("b", MNT_EXPIRE));
    SHOW(umount2("c", 0));
    SHOW(umount2("missing", 0));
    SHOW(umount2("b", 0));
    exists("b/f");
    SHOW(mount("none", "b", "tmpfs", 0, NULL));
    SHOW(mkdir("b/in", 0755));
    SHOW(mount("none", "b/in", "tmpfs", 0, NULL));
    SHOW(mkdir("b/in/d", 0755));
    fd = open("b/in", O_RDONLY | O_DIRECTORY);
    SHOW(umount2("b", MNT_DETACH));
    exists("b/in");
    SHOW(fchdir(fd));
    SHOW(mkdir("more", 0755));
    exists("d");
    SHOW(chdir(tmpdir));
    close(fd);
    mountinfo("b");

    printf("-- noexec, nodev, proc\n");
    SHOW(mount("none", "b", "tmpfs", MS_NOEXEC | MS_NOSUID | MS_NODEV, NULL));
    mountinfo("b");
    int in = open("/bin/true", O_RDONLY), out = open("b/true", O_CREAT | O_WRONLY, 0755);
    char buf[65536];
    ssize_t n;
    while ((n = read(in, buf, sizeof buf)) > 0)
        write(out, buf, n);
    close(in);
    close(out);
    SHOW(mknod("b/null", S_IFCHR | 0666, makedev(1, 3)));
    SHOW(open("b/null", O_RDONLY));
    FLUSH();
    pid_t pid = fork();
    if (pid == 0) {
        execl("b/true", "true", (char *)NULL);
        printf("  exec on noexec: %s\n", errname(errno));
        FLUSH();
        _exit(0);
    }
    waitpid(pid, NULL, 0);
    SHOW(umount2("b", 0));
    SHOW(mount("proc", "b", "proc", 0, NULL));
    exists("b/self/comm");
    mountinfo("b");
    SHOW(umount2("b", 0));
    SHOW(umount2("a", 0));
    mount_events();
    magic_links();
    statfs_flags();
    leave_tmpdir();
    return 0;
}
