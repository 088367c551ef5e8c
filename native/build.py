"""cffi build script for the native core (API mode) and the stub binary.

Imported by setup.py; `python native/build.py` builds in place for development.
"""
import os
import shutil
import subprocess

from cffi import FFI

HERE = os.path.dirname(os.path.abspath(__file__))

def _cdef():
    """The declarations of core.h (between its cdef markers), plus what comes from system headers."""
    with open(os.path.join(HERE, "core.h")) as f:
        text = f.read()
    body = text.split("/* cdef-begin", 1)[1].split("/* cdef-end */", 1)[0]
    body = body.split("*/", 1)[1]
    return body + """
struct user_regs_struct {
    unsigned long long r15, r14, r13, r12, rbp, rbx, r11, r10, r9, r8, rax, rcx,
                       rdx, rsi, rdi, orig_rax, rip, cs, eflags, rsp, ss, fs_base,
                       gs_base, ds, es, fs, gs;
};
"""


def _builder(where):
    """The cffi builder, naming our sources by `where` (a path function): setuptools
    wants them relative, cffi's own compile (inside its tmpdir) absolute."""
    builder = FFI()
    builder.cdef(_cdef())
    builder.set_source(
        "pylinuxabi._native",
        '#include "core.h"',
        sources=[where(os.path.join(HERE, "core.c"))],
        include_dirs=[where(HERE)],
        extra_compile_args=["-O2", "-Wall"],
    )
    return builder


ffibuilder = _builder(os.path.relpath)


def build_stub(out_path):
    """Link native/stub.S into a tiny static binary at a fixed high address."""
    subprocess.check_call([
        "gcc", "-nostdlib", "-static", "-no-pie",
        "-Wl,-Ttext-segment=0x7e0000000000", "-Wl,--build-id=none",
        "-o", out_path, os.path.join(HERE, "stub.S"),
    ])


if __name__ == "__main__":
    pkg = os.path.join(HERE, "..", "src", "pylinuxabi")
    built = _builder(os.path.abspath).compile(tmpdir=os.path.join(HERE, "..", "build", "cffi"), verbose=False)
    shutil.copy(built, os.path.join(pkg, "_native.abi3.so"))
    build_stub(os.path.join(pkg, "stub"))
