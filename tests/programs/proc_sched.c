/*
 * Scheduling calls against Linux's rules: nice values (setpriority, getpriority's
 * raw 20 - nice), policies and their EINVAL cases, SCHED_RESET_ON_FORK, sched_attr
 * sizes, affinity; and what an unprivileged user may do (RLIMIT_NICE,
 * RLIMIT_RTPRIO, another user's process). Run as root: the model applies what it
 * allows to the host thread, which is what the get calls then read.
 */
#include "common.h"
#include <sched.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>

/* struct sched_attr (linux/sched/types.h clashes with glibc's sched.h) */
struct sched_attr {
    uint32_t size, sched_policy;
    uint64_t sched_flags;
    int32_t sched_nice;
    uint32_t sched_priority;
    uint64_t sched_runtime, sched_deadline, sched_period;
    uint32_t sched_util_min, sched_util_max;
};
#define SCHED_DEADLINE 6
#define SCHED_FLAG_RESET_ON_FORK 0x01
#define SCHED_FLAG_KEEP_POLICY 0x08

static long setattr(pid_t pid, struct sched_attr *a, unsigned flags)
{
    return syscall(SYS_sched_setattr, pid, a, flags);
}

static long getattr(pid_t pid, struct sched_attr *a, unsigned size, unsigned flags)
{
    return syscall(SYS_sched_getattr, pid, a, size, flags);
}

static long setsched(pid_t pid, int policy, int prio)
{
    struct sched_param p = { .sched_priority = prio };
    return syscall(SYS_sched_setscheduler, pid, policy, &p);
}

static void reset(void)
{
    setsched(0, SCHED_OTHER, 0);
    syscall(SYS_setpriority, PRIO_PROCESS, 0, 0);
}

static void nice_values(void)
{
    printf("-- nice\n");
    SHOW(syscall(SYS_getpriority, PRIO_PROCESS, 0));
    SHOW(syscall(SYS_setpriority, PRIO_PROCESS, 0, 5));
    SHOW(syscall(SYS_getpriority, PRIO_PROCESS, 0));
    SHOW(syscall(SYS_setpriority, PRIO_PROCESS, 0, 100));       /* clamped to 19 */
    SHOW(syscall(SYS_getpriority, PRIO_PROCESS, getpid()));
    SHOW(syscall(SYS_setpriority, PRIO_PROCESS, 0, -3));        /* root may lower it */
    SHOW(syscall(SYS_getpriority, PRIO_PROCESS, 0));
    SHOW(syscall(SYS_setpriority, 7, 0, 0));
    SHOW(syscall(SYS_getpriority, -1, 0));
    SHOW(syscall(SYS_getpriority, PRIO_PROCESS, 999999));
    SHOW(syscall(SYS_setpriority, PRIO_PROCESS, -5, 0));
    SHOW(syscall(SYS_getpriority, PRIO_PGRP, 999999));
    reset();
    /* a process group of its own, so that nothing else is reniced */
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        setpgid(0, 0);
        SHOW(syscall(SYS_setpriority, PRIO_PGRP, 0, 2));
        SHOW(syscall(SYS_getpriority, PRIO_PGRP, 0));
        SHOW(syscall(SYS_getpriority, PRIO_PGRP, getpid()));
        SHOW(syscall(SYS_getpriority, PRIO_PROCESS, 0));
        fflush(stdout);
        _exit(0);
    }
    waitpid(pid, NULL, 0);
}

static void policies(void)
{
    struct sched_param p;
    struct timespec ts;
    printf("-- policies\n");
    SHOW(syscall(SYS_sched_getscheduler, 0));
    SHOW(setsched(0, SCHED_FIFO, 10));
    SHOW(syscall(SYS_sched_getscheduler, 0));
    p.sched_priority = -1;
    SHOW(syscall(SYS_sched_getparam, 0, &p));
    SHOW(p.sched_priority);
    p.sched_priority = 20;
    SHOW(syscall(SYS_sched_setparam, 0, &p));
    SHOW(syscall(SYS_sched_getparam, 0, &p));
    SHOW(p.sched_priority);
    SHOW(setsched(0, SCHED_RR, 3));
    SHOW(syscall(SYS_sched_rr_get_interval, 0, &ts));
    SHOW(setsched(0, SCHED_OTHER, 0));
    SHOW(setsched(0, SCHED_BATCH | SCHED_RESET_ON_FORK, 0));
    SHOW(syscall(SYS_sched_getscheduler, 0) == (SCHED_BATCH | SCHED_RESET_ON_FORK));
    SHOW(setsched(0, SCHED_IDLE, 0));
    SHOW(syscall(SYS_sched_getscheduler, 0) == (SCHED_IDLE | SCHED_RESET_ON_FORK));
    SHOW(setsched(0, SCHED_OTHER, 0));
    /* the EINVAL cases */
    SHOW(setsched(0, -1, 0));
    SHOW(setsched(0, 4, 0));
    SHOW(setsched(0, 42, 0));
    SHOW(setsched(0, SCHED_FIFO, 0));
    SHOW(setsched(0, SCHED_FIFO, 100));
    SHOW(setsched(0, SCHED_OTHER, 5));
    SHOW(setsched(-1, SCHED_OTHER, 0));
    SHOW(setsched(999999, SCHED_OTHER, 0));
    SHOW(syscall(SYS_sched_setscheduler, 0, SCHED_OTHER, NULL));
    SHOW(syscall(SYS_sched_setscheduler, 0, SCHED_OTHER, BADPTR));
    SHOW(syscall(SYS_sched_getparam, 0, NULL));
    SHOW(syscall(SYS_sched_getparam, 0, BADPTR));
    SHOW(syscall(SYS_sched_getscheduler, -1));
    SHOW(syscall(SYS_sched_getscheduler, 999999));
    SHOW(syscall(SYS_sched_rr_get_interval, 0, BADPTR));
    reset();
}

static void attrs(void)
{
    struct sched_attr a;
    printf("-- sched_attr\n");
    memset(&a, 0, sizeof a);
    SHOW(getattr(0, &a, sizeof a, 0));
    SHOW(a.size);
    SHOW(a.sched_policy);
    SHOW(getattr(0, &a, 48, 0));
    SHOW(a.size);
    SHOW(getattr(0, &a, 47, 0));
    SHOW(getattr(0, &a, sizeof a, 1));
    SHOW(getattr(0, NULL, sizeof a, 0));
    SHOW(getattr(0, BADPTR, sizeof a, 0));
    memset(&a, 0, sizeof a);
    a.size = sizeof a;
    a.sched_policy = SCHED_OTHER;
    a.sched_nice = 4;
    SHOW(setattr(0, &a, 0));
    SHOW(syscall(SYS_getpriority, PRIO_PROCESS, 0));
    a.sched_nice = -30;     /* clamped to -20 */
    SHOW(setattr(0, &a, 0));
    SHOW(syscall(SYS_getpriority, PRIO_PROCESS, 0));
    a.sched_nice = 0;
    a.sched_policy = SCHED_FIFO;
    a.sched_priority = 7;
    a.sched_flags = SCHED_FLAG_RESET_ON_FORK;
    SHOW(setattr(0, &a, 0));
    memset(&a, 0, sizeof a);
    SHOW(getattr(0, &a, sizeof a, 0));
    SHOW(a.sched_policy);
    SHOW(a.sched_priority);
    SHOW(a.sched_flags & SCHED_FLAG_RESET_ON_FORK);
    /* a child of a thread with SCHED_RESET_ON_FORK starts in SCHED_OTHER */
    pid_t pid = fork();
    if (pid == 0)
        _exit(syscall(SYS_sched_getscheduler, 0));
    int st;
    waitpid(pid, &st, 0);
    SHOW(WEXITSTATUS(st));
    memset(&a, 0, sizeof a);
    a.size = sizeof a;
    a.sched_flags = SCHED_FLAG_KEEP_POLICY;
    a.sched_priority = 9;
    SHOW(setattr(0, &a, 0));
    SHOW(syscall(SYS_sched_getscheduler, 0) & 0xff);
    memset(&a, 0, sizeof a);
    a.size = 1;
    SHOW(setattr(0, &a, 0));
    SHOW(a.size);
    struct { struct sched_attr a; char more[8]; } big;
    memset(&big, 0, sizeof big);
    big.a.size = sizeof big;
    big.more[3] = 1;
    SHOW(setattr(0, &big.a, 0));
    SHOW(big.a.size);
    big.more[3] = 0;
    big.a.size = sizeof big;
    SHOW(setattr(0, &big.a, 0));
    memset(&a, 0, sizeof a);
    a.size = sizeof a;
    SHOW(setattr(0, &a, 1));
    SHOW(setattr(-1, &a, 0));
    SHOW(setattr(0, NULL, 0));
    SHOW(setattr(0, BADPTR, 0));
    a.sched_policy = 0x80000000u;
    SHOW(setattr(0, &a, 0));
    a.sched_policy = SCHED_DEADLINE;
    SHOW(setattr(0, &a, 0));                /* no deadline: EINVAL */
    a.sched_flags = 0x100;
    a.sched_policy = SCHED_OTHER;
    SHOW(setattr(0, &a, 0));
    reset();
}

static void affinity(void)
{
    unsigned long mask[16];
    cpu_set_t one;
    printf("-- affinity\n");
    SHOW(syscall(SYS_sched_getaffinity, 0, 4, mask));
    SHOW(syscall(SYS_sched_getaffinity, 0, 12, mask));
    SHOW(syscall(SYS_sched_getaffinity, 0, sizeof mask, mask) > 0);
    SHOW(syscall(SYS_sched_getaffinity, 0, sizeof mask, BADPTR));
    SHOW(syscall(SYS_sched_getaffinity, 999999, sizeof mask, mask));
    CPU_ZERO(&one);
    CPU_SET(0, &one);
    SHOW(syscall(SYS_sched_setaffinity, 0, sizeof one, &one));
    memset(mask, 0xff, sizeof mask);
    SHOW(syscall(SYS_sched_getaffinity, 0, sizeof mask, mask) > 0);
    SHOW(mask[0]);
    CPU_ZERO(&one);
    SHOW(syscall(SYS_sched_setaffinity, 0, sizeof one, &one));
    SHOW(syscall(SYS_sched_setaffinity, 0, sizeof one, BADPTR));
    SHOW(syscall(SYS_sched_setaffinity, 999999, sizeof one, &one));
    for (int i = 0; i < 2; i++)
        CPU_SET(i, &one);
    SHOW(syscall(SYS_sched_setaffinity, 0, sizeof one, &one));
}

/* What a user without CAP_SYS_NICE may do. */
static void unprivileged(void)
{
    printf("-- unprivileged\n");
    pid_t parent = getpid();
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        struct rlimit rl = { 0, 0 };
        setrlimit(RLIMIT_NICE, &rl);
        setrlimit(RLIMIT_RTPRIO, &rl);
        if (setgid(1000) || setuid(1000))
            _exit(99);
        SHOW(syscall(SYS_setpriority, PRIO_PROCESS, 0, 5));
        SHOW(syscall(SYS_setpriority, PRIO_PROCESS, 0, 4));         /* lower: EACCES */
        SHOW(syscall(SYS_getpriority, PRIO_PROCESS, 0));
        SHOW(syscall(SYS_setpriority, PRIO_PROCESS, parent, 10));   /* not ours: EPERM */
        SHOW(syscall(SYS_getpriority, PRIO_PROCESS, parent));       /* reading is for all */
        SHOW(setsched(0, SCHED_FIFO, 1));
        SHOW(setsched(0, SCHED_BATCH, 0));
        SHOW(setsched(0, SCHED_IDLE, 0));
        SHOW(setsched(0, SCHED_OTHER, 0));                          /* out of IDLE: needs RLIMIT_NICE */
        SHOW(setsched(parent, SCHED_OTHER, 0));
        SHOW(setsched(0, SCHED_BATCH | SCHED_RESET_ON_FORK, 0));
        SHOW(setsched(0, SCHED_BATCH, 0));                          /* may not clear it */
        cpu_set_t one;
        CPU_ZERO(&one);
        CPU_SET(0, &one);
        SHOW(syscall(SYS_sched_setaffinity, 0, sizeof one, &one));
        SHOW(syscall(SYS_sched_setaffinity, parent, sizeof one, &one));
        struct sched_attr a;
        memset(&a, 0, sizeof a);
        a.size = sizeof a;
        a.sched_policy = SCHED_DEADLINE;
        a.sched_runtime = 10000000;
        a.sched_deadline = a.sched_period = 30000000;
        SHOW(setattr(0, &a, 0));
        fflush(stdout);
        _exit(0);
    }
    int st;
    waitpid(pid, &st, 0);
    SHOW(WEXITSTATUS(st));
    /* with RLIMIT_NICE and RLIMIT_RTPRIO, a user may lower its nice and go realtime */
    fflush(stdout);
    pid = fork();
    if (pid == 0) {
        struct rlimit nice = { 25, 25 }, rt = { 5, 5 };
        setrlimit(RLIMIT_NICE, &nice);
        setrlimit(RLIMIT_RTPRIO, &rt);
        if (setgid(1000) || setuid(1000))
            _exit(99);
        SHOW(syscall(SYS_setpriority, PRIO_PROCESS, 0, -5));
        SHOW(syscall(SYS_setpriority, PRIO_PROCESS, 0, -6));
        SHOW(syscall(SYS_getpriority, PRIO_PROCESS, 0));
        SHOW(setsched(0, SCHED_FIFO, 5));
        SHOW(setsched(0, SCHED_FIFO, 6));
        SHOW(setsched(0, SCHED_RR, 2));
        SHOW(setsched(0, SCHED_OTHER, 0));
        fflush(stdout);
        _exit(0);
    }
    waitpid(pid, &st, 0);
    SHOW(WEXITSTATUS(st));
}

/* Limits are unsigned 64-bit: those past 2^63 are kept as given. */
static void big_limits(void)
{
    printf("-- limits past 2^63\n");
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        struct rlimit rl = { (1ULL << 63) + 5, (1ULL << 63) + 7 }, old;
        SHOW(syscall(SYS_prlimit64, 0, RLIMIT_CORE, &rl, NULL));
        SHOW(syscall(SYS_prlimit64, 0, RLIMIT_CORE, NULL, &old));
        printf("old = %llu %llu\n", (unsigned long long)old.rlim_cur, (unsigned long long)old.rlim_max);
        rl.rlim_cur = ~0ULL - 1;
        SHOW(syscall(SYS_prlimit64, 0, RLIMIT_CORE, &rl, NULL));
        rl.rlim_cur = rl.rlim_max = (1ULL << 63) + 6;
        SHOW(syscall(SYS_prlimit64, getpid(), RLIMIT_CORE, &rl, &old));
        printf("old = %llu %llu\n", (unsigned long long)old.rlim_cur, (unsigned long long)old.rlim_max);
        SHOW(syscall(SYS_getrlimit, RLIMIT_CORE, &old));
        printf("now = %llu %llu\n", (unsigned long long)old.rlim_cur, (unsigned long long)old.rlim_max);
        fflush(stdout);
        _exit(0);
    }
    waitpid(pid, NULL, 0);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    big_limits();
    nice_values();
    policies();
    attrs();
    affinity();
    unprivileged();
    return 0;
}
