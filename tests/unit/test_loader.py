"""The exec loader's checks (kernel/loader.py): ELF parsing and '#!' scripts.

Files come from the host through HostFS("/") and a small fake task, so these
run without tracing. The expected results are Linux's (fs/exec.c,
fs/binfmt_elf.c, fs/binfmt_script.c), checked natively where marked.
"""
import errno
import os
import shutil
import struct
from pathlib import Path
from types import SimpleNamespace

import pytest

from pylinuxabi.kernel import loader
from pylinuxabi.base.creds import Creds
from pylinuxabi.base.errors import SyscallError
from pylinuxabi.kernel.fdtable import FdTable
from pylinuxabi.kernel.paths import AT_FDCWD, lookup
from pylinuxabi.vfs.hostfs import HostFS
from pylinuxabi.vfs.mount import Mount, MountTable

EHDR = struct.Struct("<16sHHIQQQIHHHHHH")       # Elf64_Ehdr
PHDR = struct.Struct("<IIQQQQQQ")               # Elf64_Phdr
ET_EXEC, ET_DYN = 2, 3
PT_LOAD, PT_INTERP = 1, 3
EM_AARCH64 = 183
TRUE = shutil.which("true") or "/bin/true"
ECHO = shutil.which("echo") or "/bin/echo"


def raw_elf(path):
    """(e_type, e_entry, e_phnum, PT_LOAD count, PT_INTERP bytes or None), read by hand."""
    data = Path(path).read_bytes()
    h = EHDR.unpack_from(data)
    e_type, e_entry, e_phoff, e_phentsize, e_phnum = h[1], h[4], h[5], h[9], h[10]
    loads, interp = 0, None
    for i in range(e_phnum):
        p_type, _, p_offset, _, _, p_filesz, _, _ = PHDR.unpack_from(data, e_phoff + i * e_phentsize)
        if p_type == PT_LOAD:
            loads += 1
        elif p_type == PT_INTERP:
            interp = data[p_offset:p_offset + p_filesz].rstrip(b"\0")
    return e_type, e_entry, e_phnum, loads, interp


@pytest.fixture(scope="module")
def task():
    """Just what kernel/paths.lookup and the loader read of a task."""
    host = HostFS("/")
    table = MountTable(Mount("hostfs", b"/", host.root_inode, readonly=True))
    return SimpleNamespace(fs=SimpleNamespace(root=table.root, cwd=table.root),
                           files=FdTable(), creds=Creds(), process=SimpleNamespace(no_new_privs=False))


@pytest.fixture
def opened(task):
    files = []

    def open_file(path):
        d = lookup(task, AT_FDCWD, os.fsencode(path))
        f = d.inode.open(d, os.O_RDONLY, task)
        files.append(f)
        return f
    yield open_file
    for f in files:
        f.release()


@pytest.fixture
def prepare(task):
    images = []

    def run(path, argv=None):
        path = os.fsencode(path)
        image = loader.prepare(task, path, argv if argv is not None else [path], [b"A=1"])
        images.append(image)
        return image
    yield run
    for image in images:
        loader.release(image)


def errno_of(fn, *args, **kwargs):
    with pytest.raises(SyscallError) as info:
        fn(*args, **kwargs)
    return errno.errorcode[info.value.errno]


def write(path, data, mode=0o755):
    path.write_bytes(data)
    path.chmod(mode)
    return path


# --------------------------------------------------------------------------
# Elf

def test_pie_program_is_ET_DYN_with_an_interpreter(opened):
    e_type, e_entry, e_phnum, loads, interp = raw_elf(TRUE)
    assert e_type == ET_DYN and interp
    elf = loader.Elf(opened(TRUE))
    assert elf.is_dyn
    assert elf.interp.rstrip(b"\0") == interp
    assert (elf.entry, elf.phnum, len(elf.loads)) == (e_entry, e_phnum, loads)


def test_static_program_is_ET_EXEC_without_PT_INTERP(opened, build):
    path = build("hello", "static")
    e_type, e_entry, e_phnum, loads, interp = raw_elf(path)
    assert e_type == ET_EXEC and interp is None
    elf = loader.Elf(opened(path))
    assert not elf.is_dyn
    assert elf.interp is None
    assert (elf.entry, elf.phnum, len(elf.loads)) == (e_entry, e_phnum, loads)


def test_program_headers_are_found_for_AT_PHDR(opened, build):
    elf = loader.Elf(opened(build("hello", "static")))
    first = min(elf.loads, key=lambda p: p.p_vaddr)
    assert first.p_vaddr <= elf.phdr_vaddr < first.p_vaddr + first.p_filesz


def test_text_file_is_not_an_ELF_ENOEXEC(opened, tmp_path):
    text = write(tmp_path / "notes.txt", b"just some text\n" * 10, 0o644)
    assert errno_of(loader.Elf, opened(text)) == "ENOEXEC"


def test_ELF_for_another_machine_is_ENOEXEC(opened, tmp_path):
    data = bytearray(Path(TRUE).read_bytes())
    struct.pack_into("<H", data, 18, EM_AARCH64)
    arm = write(tmp_path / "arm", bytes(data))
    assert errno_of(loader.Elf, opened(arm)) == "ENOEXEC"


def test_ELF_whose_program_headers_are_past_the_end_is_ENOEXEC(opened, tmp_path):
    # natively: execve of the first 64 bytes of /bin/true gives ENOEXEC
    short = write(tmp_path / "short", Path(TRUE).read_bytes()[:EHDR.size])
    assert errno_of(loader.Elf, opened(short)) == "ENOEXEC"


# --------------------------------------------------------------------------
# prepare: what execve checks before the point of no return

def test_exec_of_an_ELF_with_PT_INTERP_loads_the_interpreter(prepare):
    image = prepare(TRUE)
    assert image.elf.is_dyn
    assert image.interp is not None and image.interp.is_dyn
    assert image.argv == [os.fsencode(TRUE)]
    assert image.envp == [b"A=1"]


def test_exec_of_a_static_ELF_has_no_interpreter(prepare, build):
    assert prepare(build("hello", "static")).interp is None


def test_exec_of_a_directory_is_EACCES(task, tmp_path):
    assert errno_of(loader.prepare, task, os.fsencode(tmp_path), [b"x"], []) == "EACCES"


def test_exec_of_a_file_without_any_x_bit_is_EACCES_even_for_root(task, tmp_path):
    script = write(tmp_path / "noexec", b"#!/bin/sh\n", 0o644)
    assert errno_of(loader.prepare, task, os.fsencode(script), [b"x"], []) == "EACCES"


def test_exec_of_a_missing_file_is_ENOENT(task, tmp_path):
    assert errno_of(loader.prepare, task, os.fsencode(tmp_path / "nope"), [b"x"], []) == "ENOENT"


def test_exec_of_a_text_file_without_hash_bang_is_ENOEXEC(task, tmp_path):
    text = write(tmp_path / "plain", b"echo hi\n")
    assert errno_of(loader.prepare, task, os.fsencode(text), [b"x"], []) == "ENOEXEC"


# --------------------------------------------------------------------------
# '#!' scripts (fs/binfmt_script.c)

def test_script_runs_its_interpreter_with_the_script_path_in_place_of_argv0(prepare, tmp_path):
    script = write(tmp_path / "s", b"#!%s\n" % os.fsencode(ECHO))
    path = os.fsencode(script)
    image = prepare(script, [b"argv0-is-dropped", b"one", b"two"])
    assert image.argv == [os.fsencode(ECHO), path, b"one", b"two"]
    assert image.execfn == path
    assert image.elf.is_dyn == (raw_elf(ECHO)[0] == ET_DYN)


def test_script_interpreter_argument_comes_between_interpreter_and_script(prepare, tmp_path):
    script = write(tmp_path / "s", b"#!%s -n\n" % os.fsencode(ECHO))
    image = prepare(script, [b"s", b"x"])
    assert image.argv == [os.fsencode(ECHO), b"-n", os.fsencode(script), b"x"]


def test_script_interpreter_argument_is_one_argument_with_inner_spaces(prepare, tmp_path):
    # natively, "#!  /bin/echo   a  b\t \n" prints "a  b ./u"
    script = write(tmp_path / "u", b"#!  %s   a  b\t \n" % os.fsencode(ECHO))
    image = prepare(script, [b"u"])
    assert image.argv == [os.fsencode(ECHO), b"a  b", os.fsencode(script)]


def test_tab_separates_the_interpreter_from_its_argument(prepare, tmp_path):
    script = write(tmp_path / "t", b"#!%s\targ\n" % os.fsencode(ECHO))
    assert prepare(script, [b"t"]).argv[1] == b"arg"


def test_tab_inside_the_interpreter_argument_is_kept(prepare, tmp_path):
    script = write(tmp_path / "t", b"#!%s a\tb\n" % os.fsencode(ECHO))
    assert prepare(script, [b"t"]).argv[1] == b"a\tb"


def test_script_without_a_trailing_newline_still_names_its_interpreter(prepare, tmp_path):
    script = write(tmp_path / "s", b"#!%s" % os.fsencode(ECHO))
    assert prepare(script, [b"s"]).argv[0] == os.fsencode(ECHO)


@pytest.mark.parametrize("line", [b"#!\n", b"#!   \t \n"], ids=["empty", "blank"])
def test_script_without_an_interpreter_name_is_ENOEXEC(task, tmp_path, line):
    script = write(tmp_path / "s", line + b"echo hi\n")
    assert errno_of(loader.prepare, task, os.fsencode(script), [b"s"], []) == "ENOEXEC"


def test_script_whose_interpreter_is_missing_is_ENOENT(task, tmp_path):
    script = write(tmp_path / "s", b"#!%s\n" % os.fsencode(tmp_path / "no-such-interpreter"))
    assert errno_of(loader.prepare, task, os.fsencode(script), [b"s"], []) == "ENOENT"


def nested_scripts(tmp_path, levels):
    """s1 runs echo, s2 runs s1, ...; returns the path of s<levels>."""
    interp = os.fsencode(ECHO)
    for i in range(1, levels + 1):
        script = write(tmp_path / f"s{i}", b"#!%s\n" % interp)
        interp = os.fsencode(script)
    return script


# exec_binprm() in fs/exec.c: "for (depth = 0;; depth++) { if (depth > 5) return -ELOOP; ...}"
# lets five '#!' rewrites through; natively (Linux 6.18) s5 runs and s6 fails with ELOOP.
@pytest.mark.parametrize("levels", [
    1, 2, 3, 4, 5,
])
def test_nested_scripts_up_to_five_levels_run(prepare, tmp_path, levels):
    top = nested_scripts(tmp_path, levels)
    image = prepare(top, [b"top", b"x"])
    chain = [os.fsencode(tmp_path / f"s{i}") for i in range(1, levels + 1)]
    assert image.argv == [os.fsencode(ECHO)] + chain + [b"x"]
    assert image.execfn == os.fsencode(top)


@pytest.mark.parametrize("levels", [6, 7])
def test_more_than_five_nested_scripts_is_ELOOP(task, tmp_path, levels):
    top = nested_scripts(tmp_path, levels)
    assert errno_of(loader.prepare, task, os.fsencode(top), [b"top"], []) == "ELOOP"


def test_script_that_runs_itself_is_ELOOP(task, tmp_path):
    script = tmp_path / "self"
    write(script, b"#!%s\n" % os.fsencode(script))
    assert errno_of(loader.prepare, task, os.fsencode(script), [b"self"], []) == "ELOOP"
