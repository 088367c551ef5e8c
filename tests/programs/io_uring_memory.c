/*
 * Where io_uring's shared memory lives, through raw syscalls:
 * - IORING_SETUP_NO_MMAP: the rings and SQEs in the program's own memory
 *   (EFAULT unmapped, EINVAL misaligned); the rings' header is the kernel's,
 *   the rest of the memory keeps what it held; a NOP submitted and reaped there,
 *   with IORING_SETUP_NO_SQARRAY (SQ slot i is SQE i, sq_off.array 0);
 * - IORING_SETUP_REGISTERED_FD_ONLY: no fd, a registered ring's index, used with
 *   IORING_ENTER_REGISTERED_RING (EINVAL without NO_MMAP);
 * - a kernel-allocated buffer ring (IOU_PBUF_RING_MMAP) mapped at
 *   IORING_OFF_PBUF_RING | bgid << 16, a READ taking its buffer, and
 *   IORING_REGISTER_PBUF_STATUS's head.
 */
#include "common.h"
#include "uring.h"
#include <sys/mman.h>

#define SETUP_NO_MMAP (1u << 14)
#define SETUP_REGISTERED_FD_ONLY (1u << 15)
#define SETUP_NO_SQARRAY (1u << 16)
#define ENTER_REGISTERED_RING (1u << 4)
#define REGISTER_PBUF_RING 22
#define REGISTER_PBUF_STATUS 26
#define PBUF_RING_MMAP 1
#define OFF_PBUF_RING 0x80000000ULL

static long setup_in(void *sqes, void *rings, unsigned flags)
{
    struct io_uring_params p;
    memset(&p, 0, sizeof p);
    p.flags = SETUP_NO_MMAP | flags;
    p.sq_off.resv2 = (uintptr_t)sqes;           /* sq_off.user_addr */
    p.cq_off.resv2 = (uintptr_t)rings;          /* cq_off.user_addr */
    long r = uring_setup(8, &p);
    if (r >= 0)
        printf("  sq_off.array %u, cq_off.cqes %u, user_addr kept: %s\n", p.sq_off.array, p.cq_off.cqes,
               p.cq_off.resv2 == (uintptr_t)rings ? "yes" : "no");
    return r;
}

static void no_mmap(void)
{
    printf("== NO_MMAP: the rings in the program's memory\n");
    char *m = mmap(NULL, 4 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    SHOW(setup_in((void *)0x1000, (void *)0x3000, 0));
    SHOW(setup_in(m + 8, m + 2 * 4096, 0));
    SHOW(setup_in(NULL, NULL, 0));
    memset(m, 0xAB, 4 * 4096);
    long fd = SHOW(setup_in(m, m + 2 * 4096, SETUP_NO_SQARRAY));
    unsigned *rings = (unsigned *)(m + 2 * 4096);
    printf("  head %u tail %u, sq mask %u entries %u, cq mask %u entries %u\n", rings[0], rings[1], rings[4],
           rings[6], rings[5], rings[7]);
    printf("  a CQE slot %#x, the SQEs %#x: kept\n", rings[16], (unsigned)(unsigned char)m[100]);
    struct io_uring_sqe *sqe = (struct io_uring_sqe *)m;
    memset(sqe, 0, sizeof *sqe);
    sqe->opcode = IORING_OP_NOP;
    sqe->user_data = 42;
    __atomic_store_n(&rings[1], 1, __ATOMIC_RELEASE);          /* SQ tail: slot 0 is SQE 0 */
    SHOW(uring_enter(fd, 1, 1, IORING_ENTER_GETEVENTS, NULL, 0));
    struct io_uring_cqe *cqe = (struct io_uring_cqe *)(m + 2 * 4096 + 64);
    printf("  sq head %u, cq tail %u, cqe user_data %llu res %d\n", rings[0], rings[3],
           (unsigned long long)cqe->user_data, cqe->res);
    close(fd);

    printf("== REGISTERED_FD_ONLY\n");
    struct io_uring_params p;
    memset(&p, 0, sizeof p);
    p.flags = SETUP_REGISTERED_FD_ONLY;
    SHOW(uring_setup(8, &p));                   /* without NO_MMAP: EINVAL */
    long index = SHOW(setup_in(m, m + 2 * 4096, SETUP_REGISTERED_FD_ONLY | SETUP_NO_SQARRAY));
    memset(sqe, 0, sizeof *sqe);
    sqe->opcode = IORING_OP_NOP;
    sqe->user_data = 43;
    __atomic_store_n(&rings[1], 1, __ATOMIC_RELEASE);
    SHOW(uring_enter(index, 1, 1, IORING_ENTER_GETEVENTS | ENTER_REGISTERED_RING, NULL, 0));
    printf("  cqe user_data %llu res %d\n", (unsigned long long)cqe->user_data, cqe->res);
}

static void kernel_buffer_ring(void)
{
    printf("== a kernel-allocated buffer ring (IOU_PBUF_RING_MMAP)\n");
    struct ring r;
    ring_must(&r, 8, 0, 0);
    struct buf_reg reg = {.ring_addr = 4096, .ring_entries = 8, .bgid = 3, .flags = PBUF_RING_MMAP};
    SHOW(uring_register(r.fd, REGISTER_PBUF_RING, &reg, 1));     /* (the address is not looked at) */
    SHOW(uring_register(r.fd, REGISTER_PBUF_RING, &reg, 1));     /* EEXIST */
    struct io_uring_buf *bufs = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, r.fd,
                                     OFF_PBUF_RING | (uint64_t)3 << 16);
    printf("  mapped: %s\n", bufs == MAP_FAILED ? uring_errname(errno) : "yes");
    void *other = mmap(NULL, 4096, PROT_READ, MAP_SHARED, r.fd, OFF_PBUF_RING | (uint64_t)4 << 16);
    printf("  group 4's: %s\n", other == MAP_FAILED ? uring_errname(errno) : "mapped");
    static char pool[2][8];
    for (int i = 0; i < 2; i++) {
        bufs[i].addr = (uintptr_t)pool[i];
        bufs[i].len = sizeof pool[i];
        bufs[i].bid = 20 + i;
    }
    __atomic_store_n(&bufs[0].resv, 2, __ATOMIC_RELEASE);      /* the tail */
    int p[2];
    pipe(p);
    write(p[1], "buffered", 8);
    struct io_uring_sqe *sqe = ring_prep(&r, IORING_OP_READ, p[0], NULL, 0, 0, 1);
    sqe->flags = IOSQE_BUFFER_SELECT;
    sqe->buf_group = 3;
    ring_run(&r, 1, 0);
    show_buf("pool[0]", pool[0], 8);
    uint32_t status[10] = {3};
    SHOW(uring_register(r.fd, REGISTER_PBUF_STATUS, status, 1));
    printf("  head %u\n", status[1]);
    status[0] = 9;
    SHOW(uring_register(r.fd, REGISTER_PBUF_STATUS, status, 1));     /* no such group: ENOENT */
    close(p[0]);
    close(p[1]);
    ring_free(&r);
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    no_mmap();
    kernel_buffer_ring();
    return 0;
}
