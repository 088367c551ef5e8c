"""cffi build script for the native core (API mode) and the stub binary.

Imported by setup.py; `python native/build.py` builds in place for development.
"""
import os
import subprocess

from cffi import FFI

HERE = os.path.dirname(os.path.abspath(__file__))

CDEF = """
#define CTRL_FD 1000
#define STUB_FD 1001
enum stop_kind { STOP_NONE, STOP_SECCOMP, STOP_SYSCALL_ENTRY, STOP_SYSCALL_EXIT,
                 STOP_EVENT, STOP_SIGNAL, STOP_GROUP, STOP_DEAD, STOP_GONE };
struct stop { int pid; int kind; int status; int sig; int event; long nr;
              uint64_t args[6]; uint64_t rip; uint64_t rsp; long rval; uint64_t msg; };
struct launch { int trace_all; int gate_fd; int ctrl_fd; int stub_fd; uint64_t sig_ignored; uint64_t sig_blocked; };
struct user_regs_struct {
    unsigned long long r15, r14, r13, r12, rbp, rbx, r11, r10, r9, r8, rax, rcx,
                       rdx, rsi, rdi, orig_rax, rip, cs, eflags, rsp, ss, fs_base,
                       gs_base, ds, es, fs, gs;
};
int wait_stop(int pid, struct stop *s);
int poll_stop(struct stop *s);
int resume(int pid, int request, int sig);
int complete(int pid, int at_exit, long result);
int complete_and_wait(int pid, int at_exit, long result, struct stop *s);
int resume_and_wait(int pid, int request, int sig, struct stop *s);
int get_regs(int pid, struct user_regs_struct *regs);
int set_regs(int pid, const struct user_regs_struct *regs);
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
int host_tgkill(int tgid, int tid, int sig);
long host_getdents64(int fd, void *buf, size_t len);
int host_sysinfo(void *buf);
int host_stat(int dirfd, const char *name, void *buf);
int host_statfs(int dirfd, const char *name, void *buf);
int host_statx(int dirfd, const char *name, int flags, unsigned int mask, void *buf);
int enter_namespaces(int new_user, int new_net, int host_uid, int host_gid);
int become_init(void);
int spawn_program(const struct launch *l);
"""

ffibuilder = FFI()
ffibuilder.cdef(CDEF)
ffibuilder.set_source(
    "pylinuxabi._native",
    '#include "core.h"',
    sources=[os.path.relpath(os.path.join(HERE, "core.c"))],
    include_dirs=[os.path.relpath(HERE)],
    extra_compile_args=["-O2", "-Wall"],
)


def build_stub(out_path):
    """Link native/stub.S into a tiny static binary at a fixed high address."""
    subprocess.check_call([
        "gcc", "-nostdlib", "-static", "-no-pie",
        "-Wl,-Ttext-segment=0x7e0000000000", "-Wl,--build-id=none",
        "-o", out_path, os.path.join(HERE, "stub.S"),
    ])


if __name__ == "__main__":
    pkg = os.path.join(HERE, "..", "src", "pylinuxabi")
    ffibuilder.compile(tmpdir=os.path.join(HERE, "..", "build", "cffi"), verbose=False)
    build_stub(os.path.join(pkg, "stub"))
