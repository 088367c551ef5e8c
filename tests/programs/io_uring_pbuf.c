/* A provided-buffer ring: READs and a multishot RECV take buffers from it. */
#include "common.h"
#include "uring.h"
#include <sys/mman.h>
#include <sys/socket.h>
#define REG_PBUF 22
#define UNREG_PBUF 23
struct buf { uint64_t addr; uint32_t len; uint16_t bid, resv; };
static char data[4][8];
int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    struct ring r;
    ring_must(&r, 8, 0, 0);
    struct buf *br = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    struct buf_reg reg = {.ring_addr = (uintptr_t)br, .ring_entries = 4, .bgid = 3};
    SHOW(uring_register(r.fd, REG_PBUF, &reg, 1));
    SHOW(uring_register(r.fd, REG_PBUF, &reg, 1));                 /* the group is in use */
    struct buf_reg odd = {.ring_addr = (uintptr_t)br, .ring_entries = 3, .bgid = 4};
    SHOW(uring_register(r.fd, REG_PBUF, &odd, 1));
    struct buf_reg unaligned = {.ring_addr = (uintptr_t)br + 8, .ring_entries = 4, .bgid = 5};
    SHOW(uring_register(r.fd, REG_PBUF, &unaligned, 1));
    int p[2];
    pipe(p);
    write(p[1], "abc", 3);
    struct io_uring_sqe *sqe = ring_prep(&r, IORING_OP_READ, p[0], NULL, 0, 0, 1);
    sqe->flags = IOSQE_BUFFER_SELECT;
    sqe->buf_group = 3;
    ring_run(&r, 1, 0);                                             /* no buffer yet: ENOBUFS */
    for (int i = 0; i < 2; i++)
        br[i] = (struct buf){.addr = (uintptr_t)data[i], .len = 8, .bid = 20 + i};
    __atomic_store_n(&br[0].resv, 2, __ATOMIC_RELEASE);             /* the tail */
    for (int i = 0; i < 3; i++) {
        sqe = ring_prep(&r, IORING_OP_READ, p[0], NULL, 0, 0, 2 + i);
        sqe->flags = IOSQE_BUFFER_SELECT;
        sqe->buf_group = 3;
        if (i == 1)
            write(p[1], "defg", 4);
        ring_submit_wait(&r, 1);
        struct io_uring_cqe c;
        while (ring_reap(&r, &c))
            printf("  cqe %llu %s flags %s bid %u\n", (unsigned long long)c.user_data, cqe_res(c.res),
                   c.flags & IORING_CQE_F_BUFFER ? "BUFFER" : "-", c.flags >> IORING_CQE_BUFFER_SHIFT);
        if (i == 1)
            write(p[1], "h", 1);
    }
    show_buf("data[0]", data[0], 3);
    show_buf("data[1]", data[1], 4);
    struct buf_reg un = {.bgid = 3};
    SHOW(uring_register(r.fd, UNREG_PBUF, &un, 1));
    SHOW(uring_register(r.fd, UNREG_PBUF, &un, 1));
    return 0;
}
