/*
 * Ask the host for a privilege through a call the supervisor may pass on:
 * usage host_priv MODE. Clock calls set what they just read (a no-op if they
 * succeed); the others leave their effect on this process for the test to
 * see from the host while we wait at the handshake.
 */
#include "attack.h"
#include <sched.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/timex.h>

/* struct sched_attr of sched_setattr(2) (no libc header has it here) */
struct sched_attr {
    uint32_t size, sched_policy;
    uint64_t sched_flags;
    int32_t sched_nice;
    uint32_t sched_priority;
    uint64_t sched_runtime, sched_deadline, sched_period;
};

#define IOPRIO_CLASS_RT 1
#define IOPRIO_WHO_PROCESS 1

static long try(const char *mode)
{
    if (!strcmp(mode, "adjtimex")) {
        struct timex tx = {0};
        if (adjtimex(&tx) < 0)
            return -1;
        tx.modes = ADJ_TICK;                    /* the tick it already has */
        return adjtimex(&tx) < 0 ? -1 : 0;
    }
    if (!strcmp(mode, "clock_adjtime")) {
        struct timex tx = {0};
        if (syscall(SYS_clock_adjtime, CLOCK_REALTIME, &tx) < 0)
            return -1;
        tx.modes = ADJ_TICK;
        return syscall(SYS_clock_adjtime, CLOCK_REALTIME, &tx) < 0 ? -1 : 0;
    }
    if (!strcmp(mode, "clock_settime")) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return clock_settime(CLOCK_REALTIME, &ts);
    }
    if (!strcmp(mode, "settimeofday")) {
        struct timeval tv;
        gettimeofday(&tv, NULL);
        return settimeofday(&tv, NULL);
    }
    if (!strcmp(mode, "sched_fifo")) {
        struct sched_param sp = { .sched_priority = 1 };
        return sched_setscheduler(0, SCHED_FIFO, &sp);
    }
    if (!strcmp(mode, "sched_setattr")) {
        struct sched_attr a = { .size = sizeof a, .sched_policy = SCHED_RR, .sched_priority = 1 };
        return syscall(SYS_sched_setattr, 0, &a, 0);
    }
    if (!strcmp(mode, "nice"))
        return setpriority(PRIO_PROCESS, 0, -20);
    if (!strcmp(mode, "ioprio_rt"))
        return syscall(SYS_ioprio_set, IOPRIO_WHO_PROCESS, 0, IOPRIO_CLASS_RT << 13);
    if (!strcmp(mode, "mlock")) {
        /* first try to lift the limit, then lock 64 MiB and everything */
        struct rlimit rl = { RLIM_INFINITY, RLIM_INFINITY };
        setrlimit(RLIMIT_MEMLOCK, &rl);
        size_t n = 64 << 20;
        char *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        long r = mlock(p, n);
        long r2 = mlockall(MCL_CURRENT);
        return r < 0 && r2 < 0 ? -1 : 0;
    }
    if (!strcmp(mode, "rlimit_nofile")) {
        struct rlimit rl;
        getrlimit(RLIMIT_NOFILE, &rl);
        rl.rlim_max += 4096;
        rl.rlim_cur = rl.rlim_max;
        return setrlimit(RLIMIT_NOFILE, &rl);
    }
    errno = EINVAL;
    return -1;
}

int main(int argc, char **argv)
{
    long r = try(argv[1]);
    printf("%s: %s\n", argv[1], r < 0 ? strerror(errno) : "done");
    handshake("ready");
    return 0;
}
