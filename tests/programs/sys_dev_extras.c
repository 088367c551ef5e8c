/* /sys and /dev that programs read (issue 11, defect 6):
 *   mm DIR-less     /sys/kernel/mm/{hugepages,ksm,transparent_hugepage}: names, modes,
 *                   settings, and writes (a read-only sysfs, as docker mounts it)
 *   memfd           memfd_create(MFD_HUGETLB and its size bits) and the file it gives
 *   hugetlbfs DIR [OPTIONS]  mount -t hugetlbfs on DIR: options, statfs, files
 *   blockdev DIR    device nodes made with mknod on a tmpfs at DIR (and a nodev one),
 *                   opened as root and as a user (run in docker's device cgroup)
 * Runs as root; the user's part is a child that drops to 1000:1000. Prints what is
 * stable: errno names, modes, sizes and settings, never counters of the host. */
#include "common.h"
#include <dirent.h>
#include <grp.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>

#define HUGETLBFS_MAGIC 0x958458f6
#define MFD_HUGE_SHIFT 26

/* Run fn(arg) in a child whose ids are 1000:1000 (no capabilities left). */
static void as_user(void (*fn)(const char *), const char *arg)
{
    FLUSH();
    pid_t pid = fork();
    if (pid == 0) {
        if (setgroups(0, NULL) || setresgid(1000, 1000, 1000) || setresuid(1000, 1000, 1000))
            _exit(99);
        printf("-- as a user\n");
        fn(arg);
        FLUSH();
        _exit(0);
    }
    int status;
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static const char *open_result(const char *path, int flags)
{
    int fd = open(path, flags);
    if (fd < 0)
        return errname(errno);
    close(fd);
    return "ok";
}

/* -- /sys/kernel/mm ------------------------------------------------------------ */
/* Counters that move with the host's activity: their values are not compared. */
static int is_counter(const char *path, const char *name)
{
    static const char *names[] = {"full_scans", "pages_scanned", "pages_shared", "pages_sharing",
                                  "pages_skipped", "pages_unshared", "pages_volatile", "general_profit",
                                  "ksm_zero_pages", "stable_node_chains", "stable_node_dups",
                                  "pages_collapsed", "free_hugepages", "resv_hugepages",
                                  "surplus_hugepages", NULL};
    if (strstr(path, "/stats/"))
        return 1;
    for (int i = 0; names[i]; i++)
        if (!strcmp(name, names[i]))
            return 1;
    return 0;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

static void walk(const char *dir)
{
    struct dirent **names;
    int n = scandir(dir, &names, NULL, by_name);
    if (n < 0) {
        printf("%s: %s\n", dir, errname(errno));
        return;
    }
    for (int i = 0; i < n; i++) {
        const char *name = names[i]->d_name;
        char path[512];
        struct stat s;
        if (name[0] == '.' && (!name[1] || (name[1] == '.' && !name[2])))
            goto next;
        snprintf(path, sizeof path, "%s/%s", dir, name);
        if (lstat(path, &s) < 0) {
            printf("%s: lstat %s\n", path, errname(errno));
            goto next;
        }
        if (!(s.st_mode & 0444))
            goto next;  /* write-only attributes (actions on the host) are left out */
        printf("%s %s %o size %ld", path, ftype(s.st_mode), s.st_mode & 07777, (long)s.st_size);
        if (S_ISDIR(s.st_mode)) {
            printf(" nlink %ld\n", (long)s.st_nlink);
            walk(path);
        } else if (is_counter(path, name)) {
            printf(" (counter)\n");
        } else {
            char buf[256] = "";
            int fd = open(path, O_RDONLY);
            ssize_t r = fd < 0 ? -1 : read(fd, buf, sizeof buf - 1);
            printf(": %s", r < 0 ? errname(errno) : buf);
            if (fd >= 0)
                close(fd);
        }
    next:
        free(names[i]);
    }
    free(names);
}

static void mm_writes(const char *unused)
{
    static const char *files[] = {"/sys/kernel/mm/ksm/run", "/sys/kernel/mm/transparent_hugepage/enabled",
                                  "/sys/kernel/mm/transparent_hugepage/khugepaged/defrag",
                                  "/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages", NULL};
    for (int i = 0; files[i]; i++) {
        printf("%s O_WRONLY: %s\n", files[i], open_result(files[i], O_WRONLY));
        printf("%s O_RDONLY: %s\n", files[i], open_result(files[i], O_RDONLY));
        printf("%s access W: %s\n", files[i], access(files[i], W_OK) ? errname(errno) : "ok");
    }
}

static void mm(void)
{
    struct statfs f;
    if (statfs("/sys/kernel/mm", &f) == 0)
        printf("/sys/kernel/mm: statfs type %lx\n", (long)f.f_type);
    walk("/sys/kernel/mm/hugepages");
    walk("/sys/kernel/mm/ksm");
    walk("/sys/kernel/mm/transparent_hugepage");
    mm_writes(NULL);
    as_user(mm_writes, NULL);
}

/* -- huge page files ----------------------------------------------------------------- */
static void show_stat(const char *label, int fd)
{
    struct stat s;
    struct statfs f;
    if (fstat(fd, &s) < 0 || fstatfs(fd, &f) < 0) {
        printf("%s: %s\n", label, errname(errno));
        return;
    }
    printf("%s: %s %o size %ld blksize %ld blocks %ld nlink %ld\n", label, ftype(s.st_mode), s.st_mode & 07777,
           (long)s.st_size, (long)s.st_blksize, (long)s.st_blocks, (long)s.st_nlink);
    printf("%s: statfs type %lx bsize %ld blocks %ld bfree %ld bavail %ld files %ld ffree %ld namelen %ld frsize %ld\n",
           label, (long)f.f_type, (long)f.f_bsize, (long)f.f_blocks, (long)f.f_bfree, (long)f.f_bavail,
           (long)f.f_files, (long)f.f_ffree, (long)f.f_namelen, (long)f.f_frsize);
}

/* What an ordinary program does with a file of huge pages: size it, map it, read it.
 * `allocate`: also fallocate, which on a mount with a size limit leaves a page of the
 * limit charged each time it fails for want of huge pages (Linux's accounting; the
 * model's statfs counts the pages the files hold). */
static void use_huge_file(const char *label, int fd, long page, int allocate)
{
    char buf[8];
    show_stat(label, fd);
    SHOW(write(fd, "x", 1));
    SHOW(write(fd, "", 0));
    SHOW(pwrite(fd, "x", 1, 0));
    SHOW(ftruncate(fd, 4096));
    SHOW(ftruncate(fd, page + 4096));
    SHOW(ftruncate(fd, page));
    show_stat(label, fd);
    void *p = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    printf("mmap shared: %s\n", p == MAP_FAILED ? errname(errno) : "ok");
    if (p != MAP_FAILED) {
        ((char *)p)[0] = 'h';
        munmap(p, page);
    }
    p = mmap(NULL, page, PROT_READ, MAP_PRIVATE, fd, 0);
    printf("mmap private: %s\n", p == MAP_FAILED ? errname(errno) : "ok");
    if (p != MAP_FAILED)
        munmap(p, page);
    p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
    printf("mmap 4096 bytes: %s\n", p == MAP_FAILED ? errname(errno) : "ok");
    if (p != MAP_FAILED)
        munmap(p, 4096);
    SHOW(pread(fd, buf, sizeof buf, 0));
    SHOW(pread(fd, buf, sizeof buf, page - 4));
    SHOW(pread(fd, buf, sizeof buf, page));
    SHOW(lseek(fd, 0, SEEK_END));
    if (allocate) {
        SHOW(fallocate(fd, 0, 0, page));
        SHOW(fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, 4096));
        SHOW(fallocate(fd, FALLOC_FL_COLLAPSE_RANGE, 0, page));
    }
    SHOW(fsync(fd));
    SHOW(fcntl(fd, F_GET_SEALS));
    SHOW(ftruncate(fd, 0));
    show_stat(label, fd);
}

static void memfd(void)
{
    long page = 0;
    int fd = memfd_create("huge", MFD_HUGETLB);
    printf("memfd_create(MFD_HUGETLB): %s\n", fd < 0 ? errname(errno) : "ok");
    if (fd >= 0) {
        struct stat s;
        fstat(fd, &s);
        page = s.st_blksize;
        char link[64], target[256] = "";
        snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
        SHOW(readlink(link, target, sizeof target - 1));
        printf("link: %s\n", target);
        use_huge_file("memfd", fd, page, 1);
        close(fd);
    }
    for (int shift = 0; shift < 64; shift++) {
        fd = memfd_create("huge", MFD_HUGETLB | (unsigned)shift << MFD_HUGE_SHIFT);
        if (fd >= 0) {
            struct stat s;
            fstat(fd, &s);
            printf("size bits %d: blksize %ld\n", shift, (long)s.st_blksize);
            close(fd);
        } else if (errno != EINVAL && errno != ENODEV) {
            printf("size bits %d: %s\n", shift, errname(errno));
        } else if (shift == 21 || shift == 30 || shift == 12 || shift == 1) {
            printf("size bits %d: %s\n", shift, errname(errno));
        }
    }
    SHOW(memfd_create("huge", 21 << MFD_HUGE_SHIFT));                /* size bits need MFD_HUGETLB */
    fd = memfd_create("huge", MFD_HUGETLB | MFD_ALLOW_SEALING);
    printf("sealable: %s\n", fd < 0 ? errname(errno) : "ok");
    if (fd >= 0) {
        SHOW(fcntl(fd, F_GET_SEALS));
        SHOW(fcntl(fd, F_ADD_SEALS, F_SEAL_GROW));
        SHOW(ftruncate(fd, page));
        close(fd);
    }
    void *p = mmap(NULL, 2 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
    printf("mmap(MAP_HUGETLB): %s\n", p == MAP_FAILED ? errname(errno) : "ok");
}

static void show_mount(const char *dir)
{
    char line[1024];
    FILE *m = fopen("/proc/self/mountinfo", "r");
    while (m && fgets(line, sizeof line, m)) {
        char *sep = strstr(line, " - ");
        if (sep && !strncmp(sep, " - hugetlbfs ", 13))
            printf("mountinfo:%s", sep + 2);
    }
    if (m)
        fclose(m);
    m = fopen("/proc/mounts", "r");
    while (m && fgets(line, sizeof line, m)) {
        char *type = strstr(line, " hugetlbfs ");
        if (type)
            printf("mounts:%s", type);
    }
    if (m)
        fclose(m);
}

static void listing(void)
{
    DIR *d = opendir(".");
    struct dirent *e;
    printf("listing:");
    while ((e = readdir(d)))
        printf(" %s", e->d_name);
    printf("\n");
    closedir(d);
}

static void hugetlbfs_user(const char *dir)
{
    SHOW(mount("none", dir, "hugetlbfs", 0, NULL));
    SHOW(open("f", O_RDWR));
    SHOW(open("g", O_CREAT | O_RDWR, 0600));
}

static void hugetlbfs(const char *dir, const char *options)
{
    if (chdir(dir))
        return;
    int r = mount("none", dir, "hugetlbfs", 0, options);
    printf("mount -t hugetlbfs -o '%s': %s\n", options ? options : "", r ? errname(errno) : "ok");
    if (r)
        return;
    if (chdir("/") || chdir(dir))
        return;
    show_mount(dir);
    int fd = open(".", O_RDONLY | O_DIRECTORY);
    show_stat("root", fd);
    close(fd);
    fd = open("f", O_CREAT | O_RDWR, 0644);
    printf("create: %s\n", fd < 0 ? errname(errno) : "ok");
    if (fd >= 0) {
        struct stat s;
        fstat(fd, &s);
        use_huge_file("file", fd, s.st_blksize, !options || !strstr(options, "size="));
        SHOW(ftruncate(fd, s.st_blksize));
        close(fd);
    }
    SHOW(mkdir("dir", 0755));
    SHOW(mknod("fifo", S_IFIFO | 0644, 0));
    SHOW(symlink("f", "link"));
    SHOW(link("f", "hard"));
    SHOW(rename("hard", "moved"));
    SHOW(truncate("moved", 4096));
    listing();
    SHOW(setxattr("f", "user.x", "1", 1, 0));
    SHOW(getxattr("f", "user.x", NULL, 0));
    SHOW(listxattr("f", NULL, 0));
    fd = open("f", O_RDONLY);
    int flags = 0;
    SHOW(ioctl(fd, FS_IOC_GETFLAGS, &flags));
    close(fd);
    fd = open(".", O_TMPFILE | O_RDWR, 0600);
    printf("O_TMPFILE: %s\n", fd < 0 ? errname(errno) : "ok");
    if (fd >= 0)
        close(fd);
    fd = open(".", O_RDONLY | O_DIRECTORY);
    show_stat("root", fd);
    close(fd);
    SHOW(chmod(".", 0777));
    as_user(hugetlbfs_user, dir);
    SHOW(unlink("f"));
    SHOW(unlink("g"));
    SHOW(unlink("moved"));
    SHOW(unlink("fifo"));
    SHOW(rmdir("dir"));
    fd = open(".", O_RDONLY | O_DIRECTORY);
    show_stat("root", fd);
    close(fd);
    if (chdir("/"))
        return;
    SHOW(umount(dir));
}

/* -- block devices ----------------------------------------------------------------------- */
static const struct node {
    const char *name;
    unsigned type, major, minor, mode;
} nodes[] = {
    {"loop0", S_IFBLK, 7, 0, 0666},     /* a driver the host has */
    {"loop0-private", S_IFBLK, 7, 0, 0600},
    {"sda", S_IFBLK, 8, 0, 0666},       /* a driver this host lacks */
    {"ram0", S_IFBLK, 1, 0, 0666},
    {"blk-1-3", S_IFBLK, 1, 3, 0666},   /* /dev/null's number, as a block device */
    {"nomajor", S_IFBLK, 511, 0, 0666},
    {"blk-0-0", S_IFBLK, 0, 0, 0666},
    {"null", S_IFCHR, 1, 3, 0666},
    {"tty0", S_IFCHR, 4, 0, 0666},
    {"chr-0-0", S_IFCHR, 0, 0, 0666},
    {NULL, 0, 0, 0, 0},
};

static void try_nodes(const char *dir)
{
    for (const struct node *n = nodes; n->name; n++) {
        char path[256];
        snprintf(path, sizeof path, "%s/%s", dir, n->name);
        printf("%s: O_RDONLY %s, O_RDWR %s, O_WRONLY|O_TRUNC %s, O_PATH %s", n->name, open_result(path, O_RDONLY),
               open_result(path, O_RDWR), open_result(path, O_WRONLY | O_TRUNC), open_result(path, O_PATH));
        printf(", access R %s, W %s, F %s\n", access(path, R_OK) ? errname(errno) : "ok",
               access(path, W_OK) ? errname(errno) : "ok", access(path, F_OK) ? errname(errno) : "ok");
    }
}

static void make_nodes(const char *dir)
{
    for (const struct node *n = nodes; n->name; n++) {
        char path[256];
        struct stat s;
        snprintf(path, sizeof path, "%s/%s", dir, n->name);
        if (mknod(path, n->type | n->mode, makedev(n->major, n->minor)) < 0 || chmod(path, n->mode) < 0
            || stat(path, &s) < 0)
            printf("%s: mknod %s\n", n->name, errname(errno));
        else if (s.st_rdev != makedev(n->major, n->minor) || (s.st_mode & S_IFMT) != n->type)
            printf("%s: NO: made %o %u:%u\n", n->name, s.st_mode, major(s.st_rdev), minor(s.st_rdev));
    }
}

static void blockdev(const char *dir)
{
    char nodev[256];
    if (chmod(dir, 0755))
        return;
    OK(mount("none", dir, "tmpfs", 0, "mode=755"));
    make_nodes(dir);
    try_nodes(dir);
    as_user(try_nodes, dir);
    snprintf(nodev, sizeof nodev, "%s/nodev", dir);
    OK(mkdir(nodev, 0755));
    OK(mount("none", nodev, "tmpfs", MS_NODEV, "mode=755"));
    make_nodes(nodev);
    printf("-- on a nodev mount\n");
    try_nodes(nodev);
    OK(umount(nodev));
    OK(umount(dir));
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    umask(022);
    const char *part = argc > 1 ? argv[1] : "";
    if (!strcmp(part, "mm"))
        mm();
    else if (!strcmp(part, "memfd"))
        memfd();
    else if (!strcmp(part, "hugetlbfs") && argc > 2)
        hugetlbfs(argv[2], argc > 3 ? argv[3] : NULL);
    else if (!strcmp(part, "blockdev") && argc > 2)
        blockdev(argv[2]);
    else {
        fprintf(stderr, "usage: %s mm|memfd|hugetlbfs DIR [OPTIONS]|blockdev DIR\n", argv[0]);
        return 2;
    }
    return 0;
}
