/*
 * A fresh working directory for the file-API programs: each makes one under
 * /tmp (PLA_TEMPLATE), works there with relative paths, and removes it at the
 * end, printing how many entries it had left (0 when it cleaned up itself).
 */
#ifndef PYLINUXABI_TEST_WORKDIR_H
#define PYLINUXABI_TEST_WORKDIR_H

#include "common.h"
#include <dirent.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>

#ifndef PLA_TEMPLATE
#define PLA_TEMPLATE "/tmp/pla-XXXXXX"
#endif

static char tmpdir[64];

/* Remove what is left below path (not path itself); count the entries. */
static __attribute__((unused)) int rmtree(int dfd)
{
    int n = 0;
    DIR *d = fdopendir(dfd);
    struct dirent *e;
    if (!d)
        return 0;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        n++;
        if (unlinkat(dfd, e->d_name, 0) == 0)
            continue;
        int sub = openat(dfd, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
        if (sub >= 0)
            n += rmtree(sub);
        unlinkat(dfd, e->d_name, AT_REMOVEDIR);
        rewinddir(d);
    }
    closedir(d);
    return n;
}

static void enter_tmpdir(void)
{
    strcpy(tmpdir, PLA_TEMPLATE);
    /* 0755: the uid 1000 children must be able to enter it */
    if (!mkdtemp(tmpdir) || chmod(tmpdir, 0755) != 0 || chdir(tmpdir) != 0) {
        perror("mkdtemp");
        exit(1);
    }
    umask(022);
}

static void leave_tmpdir(void)
{
    if (chdir("/") != 0)
        exit(1);
    int n = rmtree(open(tmpdir, O_RDONLY | O_DIRECTORY));
    printf("leftover entries: %d\n", n);
    OK(rmdir(tmpdir));
}

/* "label = r: type perm=.. nlink=.." and the size or rdev, or the errno name. */
static __attribute__((unused)) void print_stat(const char *label, long r, const struct stat *st)
{
    if (r == -1) {
        printf("%s = -1 %s\n", label, errname(errno));
        return;
    }
    printf("%s = %ld: %s perm=%04o nlink=%lu", label, r, ftype(st->st_mode),
           st->st_mode & 07777, (unsigned long)st->st_nlink);
    switch (st->st_mode & S_IFMT) {
    case S_IFREG:
    case S_IFLNK:
        printf(" size=%ld", (long)st->st_size);
        break;
    case S_IFCHR:
    case S_IFBLK:
        printf(" rdev=%u:%u", major(st->st_rdev), minor(st->st_rdev));
        break;
    }
    printf("\n");
}

/* Run the statements in a child with uid and gid 1000 and no groups, and wait for it. */
#define AS_USER(...) do { FLUSH(); pid_t pid_ = fork(); \
    if (pid_ == 0) { \
        if (syscall(SYS_setresgid, 1000, 1000, 1000) || syscall(SYS_setgroups, 0, NULL) || \
            syscall(SYS_setresuid, 1000, 1000, 1000)) { printf("setid failed\n"); } \
        __VA_ARGS__; FLUSH(); _exit(0); } \
    waitpid(pid_, NULL, 0); } while (0)

#endif
