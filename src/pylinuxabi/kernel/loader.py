"""The ELF loader: exec as Linux does it, into the stub's fresh address space.

prepare() resolves and validates in our VFS (errors go back to execve);
build() maps the image through injected syscalls and lays out the stack.
"""
import errno
import os
import struct

from elftools.common.exceptions import ELFError
from elftools.elf.constants import P_FLAGS
from elftools.elf.elffile import ELFFile

from pylinuxabi.base.abi import PAGE
from pylinuxabi.base.errors import SyscallError
from pylinuxabi.kernel.paths import AT_FDCWD, lookup
from pylinuxabi.vfs import writecount
from pylinuxabi.vfs.inode import X_OK
from pylinuxabi.vfs.mount import MS_NOEXEC, MS_NOSUID

MAX_INTERP_DEPTH = 5        # #! scripts run through at most 5 levels (exec_binprm)
BINPRM_BUF_SIZE = 256
ELF_ET_DYN_BASE = 0x555555554000
SYS_mmap, SYS_munmap, SYS_close = 9, 11, 3
PROT_READ, PROT_WRITE, PROT_EXEC = 1, 2, 4
MAP_PRIVATE, MAP_FIXED, MAP_ANONYMOUS = 0x02, 0x10, 0x20
PT_LOAD, PT_INTERP, PT_PHDR = "PT_LOAD", "PT_INTERP", "PT_PHDR"
ARG_MIN = 32 * PAGE         # Linux's ARG_MAX: the room exec always gives the strings
STK_LIM = 8 << 20           # _STK_LIM: exec's room is at most 3/4 of a quarter of it
SYS_clock_gettime, CLOCK_MONOTONIC = 228, 1

AT_NULL, AT_PHDR, AT_PHENT, AT_PHNUM, AT_PAGESZ, AT_BASE, AT_FLAGS, AT_ENTRY = 0, 3, 4, 5, 6, 7, 8, 9
AT_UID, AT_EUID, AT_GID, AT_EGID, AT_PLATFORM, AT_SECURE, AT_RANDOM, AT_EXECFN = 11, 12, 13, 14, 15, 23, 25, 31


def page_down(x):
    return x & ~(PAGE - 1)


def page_up(x):
    return (x + PAGE - 1) & ~(PAGE - 1)


class _FileStream:
    """A read-only stream over an OpenFile, for pyelftools."""

    def __init__(self, file):
        self.file = file
        self.pos = 0

    def seek(self, pos, whence=0):
        self.pos = pos if whence == 0 else self.pos + pos if whence == 1 else self.file.stat().size + pos
        return self.pos

    def tell(self):
        return self.pos

    def read(self, n=-1):
        if n < 0:
            n = max(0, self.file.stat().size - self.pos)
        data = self.file.pread(n, self.pos)
        self.pos += len(data)
        return data


class Elf:
    """What the loader needs of one ELF file."""

    def __init__(self, file):
        self.file = file
        try:
            elf = ELFFile(_FileStream(file))
            h = elf.header
            if elf.elfclass != 64 or not elf.little_endian or h.e_machine != "EM_X86_64":
                raise SyscallError(errno.ENOEXEC)
            if h.e_type not in ("ET_EXEC", "ET_DYN"):
                raise SyscallError(errno.ENOEXEC)
            self.is_dyn = h.e_type == "ET_DYN"
            self.entry = h.e_entry
            self.phoff, self.phnum, self.phentsize = h.e_phoff, h.e_phnum, h.e_phentsize
            self.loads = []
            self.interp = None
            self.phdr_vaddr = None
            for seg in elf.iter_segments():
                kind = seg.header.p_type
                if kind == PT_LOAD:
                    self.loads.append(seg.header)
                elif kind == PT_INTERP:
                    self.interp = seg.get_interp_name().encode()
                elif kind == PT_PHDR:
                    self.phdr_vaddr = seg.header.p_vaddr
        except (ELFError, struct.error, ValueError, AttributeError):
            raise SyscallError(errno.ENOEXEC)
        if not self.loads:
            raise SyscallError(errno.ENOEXEC)
        if self.phdr_vaddr is None:
            first = min(self.loads, key=lambda p: p.p_vaddr)
            self.phdr_vaddr = first.p_vaddr - first.p_offset + self.phoff


class Image:
    """A validated exec request, ready to build."""

    def __init__(self, dentry, elf, interp, argv, envp, execfn):
        self.dentry = dentry
        self.elf = elf
        self.interp = interp        # Elf of PT_INTERP, or None
        self.argv = argv
        self.call_argv = argv       # the argv execve was given (a #! script's image has its interpreter's)
        self.envp = envp
        self.execfn = execfn
        self.comm = execfn.rsplit(b"/", 1)[-1]     # the process's name once it runs
        self.envp_addr = 0          # where build() put the envp array (for the strace line)
        self.creds = None           # the process's credentials once it runs the image
        self.secure = False         # AT_SECURE: the exec gained privilege


def find_program(task, name, envp):
    """`name` as a shell finds it: through PATH when it has no slash."""
    if b"/" in name:
        return name
    path = b"/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    for e in envp:
        if e.startswith(b"PATH="):
            path = e[5:]
    for d in path.split(b":"):
        candidate = (d or b".") + b"/" + name
        try:
            dentry = lookup(task, AT_FDCWD, candidate, follow=True)
        except SyscallError:
            continue
        if not dentry.inode.is_dir():
            return candidate
    raise SyscallError(errno.ENOENT)


def open_executable(task, path, dentry=None):
    """open_exec: a regular file on an exec mount the caller may run (path's, or
    dentry if the caller has looked it up), held against writers (ETXTBSY if
    one has it open for writing) until _close."""
    if dentry is None:
        dentry = lookup(task, AT_FDCWD, path, follow=True)
    inode = dentry.inode
    if inode.is_dir():
        raise SyscallError(errno.EACCES)
    if (inode.mode & 0o170000) != 0o100000 or dentry.mount.flags & MS_NOEXEC:
        raise SyscallError(errno.EACCES)
    inode.permission(task.creds, X_OK)
    k = writecount.key(inode)
    writecount.deny_write(k)
    try:
        file = inode.open(dentry, os.O_RDONLY, task)
    except BaseException:
        writecount.allow_write(k)
        raise
    file.run_key = k
    return dentry, file


def _close(file):
    writecount.allow_write(file.run_key)
    file.release()


def _script(head, path, argv, depth):
    """binfmt_script: the interpreter and the arguments it is run with. The
    interpreter ends at the first blank; the rest, blanks trimmed at both ends,
    is one argument kept as written."""
    if depth >= MAX_INTERP_DEPTH:
        raise SyscallError(errno.ELOOP)
    line = head[2:].split(b"\n", 1)[0].strip(b" \t")
    end = next((i for i, c in enumerate(line) if c in b" \t"), len(line))
    interp, arg = line[:end], line[end:].strip(b" \t")
    if not interp:
        raise SyscallError(errno.ENOEXEC)
    return interp, [interp] + ([arg] if arg else []) + [path] + argv[1:]


def _open_interp(task, name):
    """The PT_INTERP program, held as the executable is; a failure to open it is
    ENOENT unless it is another error than a missing file."""
    try:
        _, ifile = open_executable(task, name)
    except SyscallError as e:
        raise SyscallError(errno.ENOENT if e.errno == errno.ENOENT else e.errno)
    try:
        return Elf(ifile)
    except BaseException:
        _close(ifile)
        raise


def prepare(task, path, argv, envp, depth=0, execfn=None, dentry=None):
    """Resolve and validate `path` (or the dentry execveat found for it) for exec:
    #! scripts, ELF, PT_INTERP."""
    dentry, file = open_executable(task, path, dentry)
    try:
        head = file.pread(BINPRM_BUF_SIZE, 0)
        if head[:2] == b"#!":
            interp, new_argv = _script(head, path, argv, depth)
        elif head[:4] != b"\x7fELF":
            raise SyscallError(errno.ENOEXEC)
        else:
            return _image(task, dentry, Elf(file), argv, envp, execfn or path)
    except BaseException:
        _close(file)
        raise
    _close(file)
    image = prepare(task, interp, new_argv, envp, depth + 1, execfn or path)
    image.call_argv = argv
    return image


def _image(task, dentry, elf, argv, envp, execfn):
    interp = _open_interp(task, elf.interp.rstrip(b"\0")) if elf.interp else None
    image = Image(dentry, elf, interp, argv, envp, execfn)
    try:
        # set-id bits of the program itself (never of a script), unless its mount is nosuid
        s = dentry.inode.stat()
        image.creds, image.secure = task.creds.for_exec(s.mode, s.uid, s.gid, not dentry.mount.flags & MS_NOSUID,
                                                        task.process.no_new_privs)
    except BaseException:
        if interp:
            _close(interp.file)
        raise
    return image


def release(image):
    """The exec is done with its files (the process holds its executable itself)."""
    _close(image.elf.file)
    if image.interp:
        _close(image.interp.file)


def _prot(flags):
    return ((PROT_READ if flags & P_FLAGS.PF_R else 0) | (PROT_WRITE if flags & P_FLAGS.PF_W else 0)
            | (PROT_EXEC if flags & P_FLAGS.PF_X else 0))


def _check(r, what):
    if r < 0 and r > -4096:
        raise SyscallError(-r, f"exec: {what} failed")
    return r


def map_elf(inj, elf, hint):
    """Map every PT_LOAD of elf in the process; returns the load bias."""
    lo = page_down(min(p.p_vaddr for p in elf.loads))
    hi = page_up(max(p.p_vaddr + p.p_memsz for p in elf.loads))
    if elf.is_dyn:
        base = _check(inj.syscall(SYS_mmap, hint, hi - lo, 0, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), "reserve")
        bias = base - lo
    else:
        bias = 0
    hostfd = elf.file.mmap_fd()
    fd = inj.install_fd(hostfd)
    try:
        for p in elf.loads:
            prot = _prot(p.p_flags)
            start = page_down(bias + p.p_vaddr)
            file_end = bias + p.p_vaddr + p.p_filesz
            mem_end = page_up(bias + p.p_vaddr + p.p_memsz)
            if p.p_filesz:
                _check(inj.syscall(SYS_mmap, start, page_up(file_end) - start, prot,
                                   MAP_PRIVATE | MAP_FIXED, fd, page_down(p.p_offset)), "mmap segment")
                if p.p_memsz > p.p_filesz and file_end % PAGE:
                    # as Linux's padzero: the rest of the page, not just up to p_memsz
                    # (ld.so's early malloc relies on it)
                    inj.thread.mem.write_force(file_end, bytes(page_up(file_end) - file_end))
                anon_start = page_up(file_end)
            else:
                anon_start = start
            if mem_end > anon_start:
                _check(inj.syscall(SYS_mmap, anon_start, mem_end - anon_start, prot,
                                   MAP_PRIVATE | MAP_FIXED | MAP_ANONYMOUS, -1, 0), "mmap bss")
    finally:
        inj.close_fd(fd)
    return bias


def read_auxv(mem, sp):
    """The auxiliary vector the host kernel gave the stub (at its initial sp)."""
    raw = mem.read_some(sp, 4096)
    words = struct.unpack(f"<{len(raw) // 8}Q", raw[: len(raw) // 8 * 8])
    i = 1 + words[0] + 1                    # argc, argv..., NULL
    while words[i]:
        i += 1
    i += 1
    auxv = {}
    while i + 1 < len(words) and words[i] != AT_NULL:
        auxv[words[i]] = words[i + 1]
        i += 2
    return auxv


def arg_limit(stack_rlimit):
    """bprm_stack_limits: what argv and envp (strings and pointers) may take of the
    new stack: a quarter of RLIMIT_STACK, at most 6 MiB, at least 128 KiB."""
    return max(min(STK_LIM // 4 * 3, stack_rlimit // 4), ARG_MIN)


def build(platform, task, image):
    """Map `image` into the stub-fresh process of `task` and point it at the entry.

    The task sits at the syscall-exit stop of the stub's execve. Returns the
    initial brk.
    """
    mem = task.mem
    regs = platform.get_regs(task.thread)
    stub_sp = regs.rsp
    auxv = read_auxv(mem, stub_sp)
    elf, interp = image.elf, image.interp
    with platform.inject(task.thread) as inj:
        hint = ELF_ET_DYN_BASE + (int.from_bytes(os.urandom(4), "little") & 0xFFFFF) * PAGE
        platform.map_reserved(inj)
        bias = map_elf(inj, elf, hint if elf.is_dyn else 0)
        entry = bias + elf.entry
        interp_bias = 0
        if interp:
            interp_bias = map_elf(inj, interp, 0)
            entry = interp_bias + interp.entry
        _grow_stack(inj, stub_sp, image, auxv)
        sp = _build_stack(mem, stub_sp, image, auxv, {
            AT_PHDR: bias + elf.phdr_vaddr, AT_PHENT: 56, AT_PHNUM: elf.phnum,
            AT_BASE: interp_bias, AT_FLAGS: 0, AT_ENTRY: bias + elf.entry, AT_PAGESZ: PAGE})
        s = inj.saved
        for reg in ("rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "r8", "r9", "r10",
                    "r11", "r12", "r13", "r14", "r15", "fs_base", "gs_base"):
            setattr(s, reg, 0)
        s.rip, s.rsp = entry, sp
        inj.result = 0
    brk_end = page_up(max(bias + p.p_vaddr + p.p_memsz for p in elf.loads))
    return brk_end + (int.from_bytes(os.urandom(2), "little") & 0x1FFF) * PAGE


def _grow_stack(inj, top, image, auxv):
    """The stub's stack mapping is what its own exec needed and 128 KiB more; a
    bigger argv and envp need it grown first, with the same 128 KiB below them
    (setup_arg_pages' stack_expand: the program and our injections use it
    before the stack grows by faults of its own). Writes through
    /proc/<pid>/mem never grow a stack, a fault in the process does: the
    stub's thread faults the lowest page in by a clock_gettime writing there."""
    need = (256 + 64 + sum(len(s) + 1 + 8 for s in image.argv + image.envp) + len(image.execfn)
            + 8 * (4 + 2 * (len(auxv) + 8)))
    if need > 8 * PAGE:
        _check(inj.syscall(SYS_clock_gettime, CLOCK_MONOTONIC, page_down(top - need) - ARG_MIN), "stack")


def _build_stack(mem, top, image, host_auxv, overrides):
    """Strings, then the argc/argv/envp/auxv vector, 16-byte aligned; returns the new sp."""
    top = (top - 256) & ~15
    strings = bytearray()
    offsets = []
    for s in image.argv + image.envp:
        offsets.append(len(strings))
        strings += s + b"\0"
    execfn_off = len(strings)
    strings += image.execfn + b"\0"
    platform_off = len(strings)
    strings += b"x86_64\0"
    strings += bytes(-len(strings) % 16)
    random_off = len(strings)
    strings += os.urandom(16)
    base = (top - len(strings)) & ~15
    addr = [base + o for o in offsets]
    argc = len(image.argv)
    auxv = dict(host_auxv)
    auxv.update(overrides)
    creds = image.creds
    auxv.update({AT_UID: creds.ruid, AT_EUID: creds.euid, AT_GID: creds.rgid, AT_EGID: creds.egid,
                 AT_SECURE: int(image.secure), AT_RANDOM: base + random_off, AT_EXECFN: base + execfn_off,
                 AT_PLATFORM: base + platform_off})
    vector = [argc] + addr[:argc] + [0] + addr[argc:] + [0]
    for k, v in auxv.items():
        vector += [k, v]
    vector += [AT_NULL, 0]
    sp = (base - 8 * len(vector)) & ~15
    image.envp_addr = sp + 8 * (argc + 2)
    mem.write(base, bytes(strings))
    mem.write(sp, struct.pack(f"<{len(vector)}Q", *vector))
    return sp
