/* arch_prctl, set_tid_address, set_robust_list, rseq.
 *
 * glibc (2.35+) registers an rseq area for the main thread at startup; the
 * program checks that registration and then exercises the kernel's
 * EBUSY/EPERM/EINVAL rules around it. */
#include "common.h"
#include <asm/prctl.h>
#include <stddef.h>
#include <sys/rseq.h>

#ifndef ARCH_SET_GS
#define ARCH_SET_GS 0x1001
#define ARCH_SET_FS 0x1002
#define ARCH_GET_FS 0x1003
#define ARCH_GET_GS 0x1004
#endif
#ifndef RSEQ_SIG
#define RSEQ_SIG 0x53053053
#endif

static unsigned long fs_self(void)
{
    unsigned long v;
    __asm__ volatile("mov %%fs:0, %0" : "=r"(v));
    return v;
}

static void test_arch_prctl(void)
{
    unsigned long fs = 0, gs = 123;

    printf("-- arch_prctl\n");
    SHOW(syscall(SYS_arch_prctl, ARCH_GET_FS, &fs));
    CHECK(fs != 0);
    CHECK(fs == fs_self());   /* the TCB points at itself */
    SHOW(syscall(SYS_arch_prctl, ARCH_GET_GS, &gs));
    SHOW(gs);
    SHOW(syscall(SYS_arch_prctl, ARCH_SET_FS, fs));
    unsigned long fs2 = 0;
    SHOW(syscall(SYS_arch_prctl, ARCH_GET_FS, &fs2));
    CHECK(fs2 == fs);
    errno = 0;   /* TLS still works */
    CHECK(errno == 0);
    SHOW(syscall(SYS_arch_prctl, ARCH_SET_GS, 0));
    /* errors */
    SHOW(syscall(SYS_arch_prctl, ARCH_GET_FS, BADPTR));
    SHOW(syscall(SYS_arch_prctl, ARCH_GET_GS, NULL));
    SHOW(syscall(SYS_arch_prctl, ARCH_SET_FS, 1UL << 63));
    SHOW(syscall(SYS_arch_prctl, ARCH_SET_GS, 0xffff800000000000UL));
    SHOW(syscall(SYS_arch_prctl, 0x9999, &fs2));
    SHOW(syscall(SYS_arch_prctl, 0, &fs2));
    SHOW(syscall(SYS_arch_prctl, -1, &fs2));
    fs2 = 0;
    SHOW(syscall(SYS_arch_prctl, ARCH_GET_FS, &fs2));
    CHECK(fs2 == fs);
}

static int ctid;

static void test_set_tid_address(void)
{
    printf("-- set_tid_address\n");
    long tid = syscall(SYS_gettid);
    CHECK(syscall(SYS_set_tid_address, &ctid) == tid);
    CHECK(syscall(SYS_set_tid_address, NULL) == tid);
    CHECK(syscall(SYS_set_tid_address, BADPTR) == tid);   /* not checked */
    CHECK(syscall(SYS_set_tid_address, &ctid) == tid);
    SHOW(ctid);
}

struct robust_head {
    void *next;
    long futex_offset;
    void *pending;
};

static struct robust_head rhead = {&rhead, 0, NULL};

static void test_set_robust_list(void)
{
    printf("-- set_robust_list\n");
    SHOW(sizeof(struct robust_head));
    SHOW(syscall(SYS_set_robust_list, &rhead, sizeof rhead));
    SHOW(syscall(SYS_set_robust_list, NULL, sizeof rhead));
    SHOW(syscall(SYS_set_robust_list, BADPTR, sizeof rhead));   /* not checked */
    SHOW(syscall(SYS_set_robust_list, &rhead, sizeof rhead - 1));
    SHOW(syscall(SYS_set_robust_list, &rhead, sizeof rhead + 1));
    SHOW(syscall(SYS_set_robust_list, &rhead, 0));
    SHOW(syscall(SYS_set_robust_list, &rhead, -1L));
    SHOW(syscall(SYS_set_robust_list, &rhead, sizeof rhead));
}

static struct rseq myrseq __attribute__((aligned(32)));

static void test_rseq(void)
{
    printf("-- rseq\n");
    printf("glibc registered rseq: %s\n", __rseq_size > 0 ? "yes" : "no");
    if (__rseq_size == 0)
        return;
    struct rseq *area = (struct rseq *)((char *)fs_self() + __rseq_offset);
    unsigned len = 32;   /* what glibc 2.35+ registers */
    CHECK((int)area->cpu_id >= 0);
    CHECK(area->cpu_id == area->cpu_id_start);
    /* already registered: same args EBUSY, other sig EPERM, other area or
     * length EINVAL */
    SHOW(syscall(SYS_rseq, area, len, 0, RSEQ_SIG));
    SHOW(syscall(SYS_rseq, area, len, 0, RSEQ_SIG + 1));
    SHOW(syscall(SYS_rseq, &myrseq, 32, 0, RSEQ_SIG));
    SHOW(syscall(SYS_rseq, area, len + 32, 0, RSEQ_SIG));
    SHOW(syscall(SYS_rseq, area, 0, 0, RSEQ_SIG));
    SHOW(syscall(SYS_rseq, area, len, 2, RSEQ_SIG));
    SHOW(syscall(SYS_rseq, area, len, ~0U, RSEQ_SIG));
    SHOW(syscall(SYS_rseq, NULL, 0, 0, 0));
    /* unregistering needs the same area, length and signature */
    SHOW(syscall(SYS_rseq, &myrseq, 32, RSEQ_FLAG_UNREGISTER, RSEQ_SIG));
    SHOW(syscall(SYS_rseq, area, len + 32, RSEQ_FLAG_UNREGISTER, RSEQ_SIG));
    SHOW(syscall(SYS_rseq, area, len, RSEQ_FLAG_UNREGISTER, RSEQ_SIG + 1));
    SHOW(syscall(SYS_rseq, area, len, RSEQ_FLAG_UNREGISTER | 2, RSEQ_SIG));
    SHOW(syscall(SYS_rseq, area, len, RSEQ_FLAG_UNREGISTER, RSEQ_SIG));
    printf("after unregister: cpu_id=%d cpu_id_start=%u\n", (int)area->cpu_id,
           area->cpu_id_start);
    SHOW(syscall(SYS_rseq, area, len, RSEQ_FLAG_UNREGISTER, RSEQ_SIG));
    /* registering a fresh area */
    SHOW(syscall(SYS_rseq, (char *)&myrseq + 8, 32, 0, RSEQ_SIG));
    SHOW(syscall(SYS_rseq, BADPTR, 32, 0, RSEQ_SIG));
    SHOW(syscall(SYS_rseq, (void *)0xffffffffffffffe0UL, 32, 0, RSEQ_SIG));
    SHOW(syscall(SYS_rseq, &myrseq, 31, 0, RSEQ_SIG));
    SHOW(syscall(SYS_rseq, &myrseq, 20, 0, RSEQ_SIG));
    SHOW(syscall(SYS_rseq, &myrseq, 32, 1, RSEQ_SIG));
    myrseq.cpu_id = RSEQ_CPU_ID_UNINITIALIZED;
    SHOW(syscall(SYS_rseq, &myrseq, 32, 0, RSEQ_SIG));
    CHECK((int)myrseq.cpu_id >= 0);
    CHECK(myrseq.cpu_id == myrseq.cpu_id_start);
    SHOW(syscall(SYS_rseq, &myrseq, 32, 0, RSEQ_SIG));
    SHOW(syscall(SYS_rseq, &myrseq, 32, RSEQ_FLAG_UNREGISTER, RSEQ_SIG));
    printf("after unregister: cpu_id=%d cpu_id_start=%u\n", (int)myrseq.cpu_id,
           myrseq.cpu_id_start);
    /* hand glibc its area back */
    SHOW(syscall(SYS_rseq, area, len, 0, RSEQ_SIG));
    CHECK((int)area->cpu_id >= 0);
}

int main(void)
{
    test_arch_prctl();
    test_set_tid_address();
    test_set_robust_list();
    test_rseq();
    return 0;
}
