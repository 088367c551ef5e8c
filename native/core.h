/* Declarations shared by core.c and the cffi build (native/build.py). */
#ifndef PYLINUXABI_CORE_H
#define PYLINUXABI_CORE_H
#include <stdint.h>
#include <stddef.h>
#include <sys/user.h>

/* cdef-begin: from here to cdef-end, native/build.py hands the text to cffi */
/* host fd numbers every tracee holds: the control socket, the stub binary, and
   (when we were started on one) the terminal, on which the program's terminal
   reads, writes and ioctls are run by the host */
#define CTRL_FD 1000
#define STUB_FD 1001
#define TTY_FD 1002

/* the reserved range of every process's address space (DESIGN §3): the stub
   at RESERVED_BASE, then the shared area (park words and argument slots), all
   below RESERVED_LIMIT; the program can neither change nor replace any of it */
#define RESERVED_BASE 0x7E0000000000
#define RESERVED_LIMIT 0x7E0100000000

enum stop_kind {
    STOP_NONE = 0,          /* wait was interrupted */
    STOP_SECCOMP = 1,       /* PTRACE_EVENT_SECCOMP: a syscall to answer */
    STOP_SYSCALL_ENTRY = 2,
    STOP_SYSCALL_EXIT = 3,
    STOP_EVENT = 4,         /* fork/vfork/clone/exec/exit/vfork-done */
    STOP_SIGNAL = 5,        /* signal-delivery-stop */
    STOP_GROUP = 6,         /* PTRACE_EVENT_STOP */
    STOP_DEAD = 7,          /* exited or killed: status says which */
    STOP_GONE = 8,          /* vanished while being decoded */
};

struct stop {
    int pid;
    int kind;
    int status;
    int sig;
    int event;
    long nr;
    uint64_t args[6];
    uint64_t rip;
    uint64_t rsp;
    long rval;
    uint64_t msg;
};

struct launch {
    int trace_all;
    int gate_fd;
    int ctrl_fd;
    int stub_fd;
    int tty_fd;             /* -1: none */
    uint64_t sig_ignored;   /* bit n-1: signal n starts ignored in the program */
    uint64_t sig_blocked;   /* bit n-1: signal n starts blocked */
    int host_uid;           /* the program's unprivileged host ids; -1: keep ours */
    int host_gid;
    int landlock_abi;       /* Landlock ABI version to confine it with; 0: none */
    int inner_uid;          /* its ids in a user namespace of its own; -1: none */
    int inner_gid;
};

int wait_stop(int pid, struct stop *s);
int poll_stop(struct stop *s);
int seize(int pid, unsigned long options);
int resume(int pid, int request, int sig);
int complete(int pid, int at_exit, long result);
int complete_and_wait(int pid, int at_exit, long result, struct stop *s);
int resume_and_wait(int pid, int request, int sig, struct stop *s);
int get_regs(int pid, struct user_regs_struct *regs);
int set_regs(int pid, const struct user_regs_struct *regs);
int get_siginfo(int pid, void *buf);
int set_siginfo(int pid, const void *buf);
int get_sigmask(int pid, uint64_t *mask);
int set_sigmask(int pid, uint64_t mask);
long mem_read(int pid, uint64_t addr, void *buf, size_t len);
long mem_write(int pid, uint64_t addr, const void *buf, size_t len);
long mem_write_force(int pid, uint64_t addr, const void *buf, size_t len);
long read_cstring(int pid, uint64_t addr, char *buf, size_t max);
int inject_syscall(int pid, int at_seccomp, uint64_t insn, long nr,
                   const uint64_t *args, long *result);
int send_fd(int sock, int fd);
int futex_wake(uint32_t *addr);
#define WAKER_ALARM 0xFFFFFFFF
int waker_start(uint32_t *words, int sig);
int waker_add(int fd, uint32_t events, uint32_t slot, int token);
void waker_remove(int reg);
int waker_take(uint32_t *out, int max);
int waker_alarm(int64_t sec, long nsec);
int publish_start(const int *sockets, const int *types, const int *ports, int n);
int sqpoll_add(uint32_t *tail, uint32_t *head, uint32_t *flags, uint32_t idle_ms, int sig);
void sqpoll_remove(int slot);
void sqpoll_wake(int slot);
void ring_flags(uint32_t *word, uint32_t set, uint32_t clear);
int host_tgkill(int tgid, int tid, int sig);
long host_getdents64(int fd, void *buf, size_t len);
int host_sysinfo(void *buf);
int host_stat(int dirfd, const char *name, void *buf);
int host_statfs(int dirfd, const char *name, void *buf);
int host_statx(int dirfd, const char *name, int flags, unsigned int mask, void *buf);
int host_fallocate(int fd, int mode, int64_t offset, int64_t len);
int host_chmod(int dirfd, const char *name, unsigned int mode);
int host_chown(int dirfd, const char *name, int uid, int gid);
int host_utimens(int dirfd, const char *name, int64_t atime_ns, int64_t mtime_ns, int omit);
int host_renameat2(int olddirfd, const char *oldname, int newdirfd, const char *newname,
                   unsigned int flags);
int enter_namespaces(int new_user, int new_net, int host_uid, int host_gid);
int become_init(void);
int spawn_program(const struct launch *l);
int landlock_abi(void);
int drop_and_confine(const struct launch *l);
/* cdef-end */
#endif
