/* floor.c - the cheapest possible tracer built on pylinuxabi's mechanism.
 * Runs one program under ptrace + seccomp; touches nothing but its tracee.
 *
 * Usage: floor [--] PROGRAM [ARGS...]
 *
 * It measures the cost of the mechanism itself (a seccomp stop, one
 * round-trip through waitpid/ptrace, maybe one memory write), i.e. a lower
 * bound for any supervisor that emulates syscalls in user space.
 *
 * Every syscall of the tracee stops in the tracer (SECCOMP_RET_TRACE).
 * Emulated - skipped with orig_rax = -1, result put in rax:
 *   getuid()                      -> 0
 *   read(BENCH_FD=77, buf, n>=1)  -> 1, after writing one zero byte to buf
 *                                    (loops.c reads /dev/zero on fd 77)
 *   stat(path, buf) and
 *   newfstatat(AT_FDCWD, path, buf, 0)
 *                                 -> 0, after writing a zeroed struct stat;
 *                                    the path is not even read
 * Everything else is let through to the host kernel unchanged, which is
 * all a static program's start-up, exit and printf need, and all of
 * net.c: under this tracer net.c's sockets, epoll and pipes are the host's,
 * so its numbers are the pure cost of one stop per syscall.
 * Children and threads of the tracee are traced too (PTRACE_O_TRACEFORK,
 * VFORK, CLONE): they inherit the seccomp filter, and without a tracer
 * RET_TRACE would fail every one of their syscalls with ENOSYS.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#define BENCH_FD 77

static void die(const char *what)
{
    perror(what);
    exit(127);
}

static void install_filter(void)
{
    struct sock_filter insns[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRACE),
    };
    struct sock_fprog prog = {sizeof insns / sizeof insns[0], insns};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        die("PR_SET_NO_NEW_PRIVS");
    if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0)
        die("seccomp");
}

static int write_mem(pid_t pid, unsigned long addr, const void *src, size_t len)
{
    struct iovec local = {(void *)src, len}, remote = {(void *)addr, len};
    return process_vm_writev(pid, &local, 1, &remote, 1, 0) == (ssize_t)len;
}

/* Returns 1 and sets *result if the call was emulated. */
static int emulate(pid_t pid, const struct __ptrace_syscall_info *si, long *result)
{
    static const struct stat zero_stat;
    static const char zero_byte;
    const __uint64_t *a = si->seccomp.args;

    switch (si->seccomp.nr) {
    case SYS_getuid:
        *result = 0;
        return 1;
    case SYS_read:
        if ((int)a[0] != BENCH_FD || a[2] < 1)
            return 0;
        *result = write_mem(pid, a[1], &zero_byte, 1) ? 1 : -EFAULT;
        return 1;
    case SYS_stat:
        *result = write_mem(pid, a[1], &zero_stat, sizeof zero_stat) ? 0 : -EFAULT;
        return 1;
    case SYS_newfstatat:
        /* fd-relative forms are left alone: printf's fstat(1) uses them. */
        if ((int)a[0] != AT_FDCWD || a[3] != 0)
            return 0;
        *result = write_mem(pid, a[2], &zero_stat, sizeof zero_stat) ? 0 : -EFAULT;
        return 1;
    }
    return 0;
}

static void on_seccomp_stop(pid_t pid)
{
    struct __ptrace_syscall_info si;
    long result;

    if (ptrace(PTRACE_GET_SYSCALL_INFO, pid, sizeof si, &si) < 0)
        die("PTRACE_GET_SYSCALL_INFO");
    if (si.op == PTRACE_SYSCALL_INFO_SECCOMP && emulate(pid, &si, &result)) {
        if (ptrace(PTRACE_POKEUSER, pid, offsetof(struct user_regs_struct, orig_rax), -1L) < 0 ||
            ptrace(PTRACE_POKEUSER, pid, offsetof(struct user_regs_struct, rax), result) < 0)
            die("PTRACE_POKEUSER");
    }
    ptrace(PTRACE_CONT, pid, 0, 0);
}

int main(int argc, char **argv)
{
    int argi = 1, gate[2];
    if (argi < argc && strcmp(argv[argi], "--") == 0)
        argi++;
    if (argi >= argc) {
        fprintf(stderr, "usage: %s [--] PROGRAM [ARGS...]\n", argv[0]);
        return 2;
    }
    if (pipe(gate) < 0)
        die("pipe");

    pid_t child = fork();
    if (child < 0)
        die("fork");
    if (child == 0) {
        /* Wait until we are seized: with no tracer attached, RET_TRACE
         * would just fail every syscall with ENOSYS. */
        char c;
        close(gate[1]);
        if (read(gate[0], &c, 1) != 1)
            _exit(127);
        close(gate[0]);
        install_filter();
        execvp(argv[argi], argv + argi);
        die(argv[argi]);
    }

    close(gate[0]);
    if (ptrace(PTRACE_SEIZE, child, 0,
               PTRACE_O_TRACESECCOMP | PTRACE_O_EXITKILL | PTRACE_O_TRACESYSGOOD |
                   PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK | PTRACE_O_TRACECLONE) < 0)
        die("PTRACE_SEIZE");
    if (write(gate[1], "x", 1) != 1)
        die("write gate");
    close(gate[1]);

    for (;;) {
        int st;
        pid_t pid = waitpid(-1, &st, __WALL);
        if (pid < 0) {
            if (errno == EINTR)
                continue;
            die("waitpid");
        }
        if (WIFEXITED(st) || WIFSIGNALED(st)) {
            if (pid != child)
                continue;
            return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        }
        if (!WIFSTOPPED(st))
            continue;
        int event = st >> 16;
        if (event == PTRACE_EVENT_SECCOMP)
            on_seccomp_stop(pid);
        else if (event == 0)
            ptrace(PTRACE_CONT, pid, 0, WSTOPSIG(st)); /* signal-delivery stop */
        else
            ptrace(PTRACE_CONT, pid, 0, 0); /* group-stop or other event */
    }
}
