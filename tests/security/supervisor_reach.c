/*
 * Reach for pid 1 (the sandbox's init; today the supervisor): usage
 * supervisor_reach MODE. Signals: SIGTERM to pid 1 by every call that sends
 * one, then a pause (a SIGTERM passed on to us would end us with 143).
 * Scheduling: change pid 1's, then wait at the handshake for the test.
 * Reading: print pid 1's /proc files, direct and through a bind mount of /.
 */
#include "attack.h"
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/resource.h>

/* Print a file's bytes (NULs as spaces), at most n. */
static void dump(const char *path, size_t n)
{
    static char buf[1 << 16];
    int fd = open(path, O_RDONLY);
    ssize_t got = fd < 0 ? -1 : read(fd, buf, n < sizeof buf ? n : sizeof buf);
    printf("== %s: %s\n", path, got < 0 ? strerror(errno) : "");
    for (ssize_t i = 0; i < got; i++)
        putchar(buf[i] ? buf[i] : ' ');
    putchar('\n');
    if (fd >= 0)
        close(fd);
}

/* Print what pid 1's memory holds at its stack's top, where its environment is. */
static void dump_memory(const char *proc)
{
    char path[256], line[512];
    snprintf(path, sizeof path, "%s/maps", proc);
    FILE *maps = fopen(path, "r");
    snprintf(path, sizeof path, "%s/mem", proc);
    int mem = open(path, O_RDONLY);
    printf("== %s: %s\n", path, mem < 0 ? strerror(errno) : "");
    while (maps && mem >= 0 && fgets(line, sizeof line, maps)) {
        unsigned long start, end;
        static char buf[1 << 16];
        if (!strstr(line, "[stack]") || sscanf(line, "%lx-%lx", &start, &end) != 2)
            continue;
        off_t from = end - sizeof buf > start ? end - sizeof buf : start;
        ssize_t got = pread(mem, buf, end - from, from);
        for (ssize_t i = 0; i < got; i++)
            putchar(buf[i] >= 32 && buf[i] < 127 ? buf[i] : ' ');
        putchar('\n');
    }
}

static long signal_pid1(const char *mode)
{
    if (!strcmp(mode, "kill"))
        return kill(1, SIGTERM);
    if (!strcmp(mode, "tkill"))
        return syscall(SYS_tkill, 1, SIGTERM);
    if (!strcmp(mode, "tgkill"))
        return syscall(SYS_tgkill, 1, 1, SIGTERM);
    if (!strcmp(mode, "rt_sigqueueinfo")) {
        siginfo_t si = { .si_signo = SIGTERM, .si_code = SI_QUEUE, .si_pid = getpid() };
        return syscall(SYS_rt_sigqueueinfo, 1, SIGTERM, &si);
    }
    if (!strcmp(mode, "pidfd_send_signal")) {
        int fd = syscall(SYS_pidfd_open, 1, 0);
        return fd < 0 ? -1 : syscall(SYS_pidfd_send_signal, fd, SIGTERM, NULL, 0);
    }
    if (!strcmp(mode, "kill_all"))
        return kill(-1, SIGTERM);       /* every process we may signal; we block it ourselves */
    return -2;
}

int main(int argc, char **argv)
{
    const char *mode = argv[1];
    long r = signal_pid1(mode);
    if (r != -2) {
        printf("%s: %s\n", mode, r < 0 ? strerror(errno) : "sent");
        fflush(stdout);
        struct timespec ts = { 1, 0 };
        nanosleep(&ts, NULL);           /* time for a passed-on SIGTERM to arrive */
        return 0;
    }
    if (!strcmp(mode, "proc")) {
        mkdir("/tmp/root", 0755);
        r = mount("/", "/tmp/root", NULL, MS_BIND, NULL);
        printf("bind mount of /: %s\n", r < 0 ? strerror(errno) : "done");
        const char *files[] = { "environ", "cmdline", "maps", "status" };
        for (int i = 0; i < 4; i++) {
            char path[64];
            snprintf(path, sizeof path, "/proc/1/%s", files[i]);
            dump(path, 1 << 16);
            snprintf(path, sizeof path, "/tmp/root/proc/1/%s", files[i]);
            dump(path, 1 << 16);
        }
        dump_memory("/proc/1");
        dump_memory("/tmp/root/proc/1");
        return 0;
    }
    if (!strcmp(mode, "setpriority"))
        r = setpriority(PRIO_PROCESS, 1, 19);
    else if (!strcmp(mode, "sched_setaffinity")) {
        cpu_set_t one;
        CPU_ZERO(&one);
        CPU_SET(0, &one);
        r = sched_setaffinity(1, sizeof one, &one);
    } else if (!strcmp(mode, "sched_setscheduler")) {
        struct sched_param sp = { 0 };
        r = sched_setscheduler(1, SCHED_IDLE, &sp);
    }
    printf("%s: %s\n", mode, r < 0 ? strerror(errno) : "done");
    handshake("ready");
    return 0;
}
