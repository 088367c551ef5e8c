/*
 * /proc/thread-self: a symlink to "<tgid>/task/<tid>" of the thread that
 * reads it (the main thread and another), listed in /proc, reaching the
 * thread's own comm and status, and a forked child's own.
 */
#include "common.h"
#include <dirent.h>
#include <pthread.h>
#include <sys/wait.h>

static void check_link(const char *who)
{
    char target[128], want[128];
    ssize_t n = readlink("/proc/thread-self", target, sizeof target - 1);
    target[n < 0 ? 0 : n] = 0;
    snprintf(want, sizeof want, "%d/task/%ld", getpid(), (long)syscall(SYS_gettid));
    printf("%s: readlink is <tgid>/task/<tid>: %s\n", who, !strcmp(target, want) ? "yes" : "NO");
}

/* The value of "Key:" in /proc/thread-self/status. */
static long status_field(const char *key)
{
    char line[256];
    long value = -1;
    FILE *f = fopen("/proc/thread-self/status", "r");
    if (!f)
        return -errno;
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, key, strlen(key)))
            value = strtol(line + strlen(key), NULL, 10);
    fclose(f);
    return value;
}

static void check_files(const char *who, const char *name)
{
    char comm[64] = "";
    int fd = open("/proc/thread-self/comm", O_RDONLY);
    ssize_t n = fd < 0 ? -1 : read(fd, comm, sizeof comm - 1);
    if (fd >= 0)
        close(fd);
    comm[n < 0 ? 0 : n] = 0;
    printf("%s: comm %s", who, comm);
    printf("%s: comm is its own: %s\n", who, !strncmp(comm, name, strlen(name)) ? "yes" : "NO");
    printf("%s: status Pid is its tid: %s\n", who, status_field("Pid:") == syscall(SYS_gettid) ? "yes" : "NO");
    printf("%s: status Tgid is the pid: %s\n", who, status_field("Tgid:") == getpid() ? "yes" : "NO");
}

static void *thread_main(void *arg)
{
    (void)arg;
    pthread_setname_np(pthread_self(), "second");
    check_link("thread");
    check_files("thread", "second");
    return NULL;
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    struct stat st;
    SHOW(lstat("/proc/thread-self", &st));
    printf("type %s mode %o\n", ftype(st.st_mode), st.st_mode & 07777);
    SHOW(stat("/proc/thread-self", &st));
    printf("type %s\n", ftype(st.st_mode));
    SHOW(access("/proc/thread-self/fd", R_OK));

    int listed = 0;
    DIR *d = opendir("/proc");
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (!strcmp(e->d_name, "thread-self"))
            listed = e->d_type == DT_LNK ? 1 : 2;
    closedir(d);
    SHOW(listed);

    pthread_setname_np(pthread_self(), "first");
    check_link("main");
    check_files("main", "first");

    pthread_t t;
    pthread_create(&t, NULL, thread_main, NULL);
    pthread_join(t, NULL);
    check_link("main again");

    pid_t child = fork();
    if (child == 0) {
        check_link("child");
        _exit(0);
    }
    waitpid(child, NULL, 0);

    char target[128];
    SHOW(readlinkat(AT_FDCWD, "/proc/thread-self/", target, sizeof target));
    SHOW(open("/proc/thread-self", O_RDONLY | O_NOFOLLOW));
    return 0;
}
