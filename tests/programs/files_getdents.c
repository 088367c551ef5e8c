/*
 * The old getdents (struct linux_dirent, d_type in the record's last byte):
 * the same entries, offsets and record sizes as getdents64, small buffers,
 * resuming at d_off, and its errors.
 */
#include "workdir.h"

struct linux_dirent {
    unsigned long d_ino;
    unsigned long d_off;
    unsigned short d_reclen;
    char d_name[];
};

static int cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* the entries but . and .., as name/d_type/d_reclen, sorted (orders differ by filesystem) */
static void list(const char *label, int fd, size_t size)
{
    static char seen[32][128];
    char *sorted[32];
    char buf[4096];
    int count = 0, calls = 0;
    long n;
    while ((n = syscall(SYS_getdents, fd, buf, size)) > 0) {
        calls++;
        for (long pos = 0; pos < n;) {
            struct linux_dirent *d = (struct linux_dirent *)(buf + pos);
            char type = buf[pos + d->d_reclen - 1];
            if (strcmp(d->d_name, ".") && strcmp(d->d_name, "..") && count < 32) {
                snprintf(seen[count], sizeof seen[count], "%s/%d/%d", d->d_name, type, d->d_reclen);
                sorted[count] = seen[count];
                count++;
            }
            pos += d->d_reclen;
        }
    }
    qsort(sorted, count, sizeof sorted[0], cmp);
    printf("%s:", label);
    for (int i = 0; i < count; i++)
        printf(" %s", sorted[i]);
    printf(" (%s calls) end %ld%s%s\n", calls > 1 ? "several" : "one", n,
           n < 0 ? " " : "", n < 0 ? errname(errno) : "");
}

int main(void)
{
    enter_tmpdir();
    setvbuf(stdout, NULL, _IONBF, 0);
    OK(mkdir("d", 0755));
    OK(mkdir("d/sub", 0755));
    OK(symlink("x", "d/link"));
    OK(mkfifo("d/fifo", 0644));
    OK(close(open("d/a-rather-long-file-name-of-forty-chars.", O_CREAT | O_WRONLY, 0644)));
    OK(close(open("d/f", O_CREAT | O_WRONLY, 0644)));
    int fd = open("d", O_RDONLY | O_DIRECTORY);
    list("big buffer", fd, 4096);
    /* sorted output is stable across filesystems: compare against getdents64's names */
    SHOW(lseek(fd, 0, SEEK_SET));
    char a[4096], b[4096];
    long n = syscall(SYS_getdents, fd, a, sizeof a);
    SHOW(lseek(fd, 0, SEEK_SET));
    long m = syscall(SYS_getdents64, fd, b, sizeof b);
    CHECK(n == m);
    int same = 1;
    for (long pos = 0; pos < n && pos < m;) {
        struct linux_dirent *d = (struct linux_dirent *)(a + pos);
        struct dirent64 { unsigned long ino; long off; unsigned short reclen; unsigned char type; char name[]; } *e = (void *)(b + pos);
        same &= d->d_ino == e->ino && (long)d->d_off == e->off && d->d_reclen == e->reclen &&
                !strcmp(d->d_name, e->name) && a[pos + d->d_reclen - 1] == e->type;
        pos += d->d_reclen;
    }
    CHECK(same);
    SHOW(lseek(fd, 0, SEEK_SET));
    list("small buffer", fd, 64);
    SHOW(lseek(fd, 0, SEEK_SET));
    SHOW(syscall(SYS_getdents, fd, a, 10));
    SHOW(syscall(SYS_getdents, fd, BADPTR, 4096));
    SHOW(syscall(SYS_getdents, BADFD, a, 4096));
    int file = open("d/f", O_RDONLY);
    SHOW(syscall(SYS_getdents, file, a, 4096));
    int path = open("d", O_PATH);
    SHOW(syscall(SYS_getdents, path, a, 4096));
    list("after EFAULT", fd, 4096);
    leave_tmpdir();
    return 0;
}
