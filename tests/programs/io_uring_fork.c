/* A ring shared across fork: the child submits on the inherited ring, the parent reaps. */
#include "common.h"
#include "uring.h"
#include <sys/wait.h>
int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    struct ring r;
    ring_must(&r, 4, 0, 0);
    int p[2];
    pipe(p);
    pid_t pid = fork();
    if (pid == 0) {
        ring_prep(&r, IORING_OP_WRITE, p[1], "from the child", 14, 0, 7);
        printf("child submits: %ld\n", ring_submit(&r, 1, IORING_ENTER_GETEVENTS));
        _exit(0);
    }
    waitpid(pid, NULL, 0);
    printf("parent sees %u CQE\n", ring_ready(&r));
    reap_all(&r);
    char buf[16] = {0};
    read(p[0], buf, 14);
    show_buf("pipe", buf, 14);
    r.sqe_tail = __atomic_load_n(r.sq_tail, __ATOMIC_ACQUIRE);  /* (the child moved the shared tail) */
    ring_prep(&r, IORING_OP_NOP, -1, NULL, 0, 0, 8);
    ring_run(&r, 1, 0);
    return 0;
}
