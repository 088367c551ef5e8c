"""conform's normalisation rules and its comparison of two JSON logs."""
import json

import pytest

from pylinuxabi.conformance import compare


def rules_from(tmp_path, text):
    path = tmp_path / "rules.txt"
    path.write_text(text)
    return compare.Rules().read(path)


def test_the_shipped_rules_parse_and_hide_what_runs_choose():
    rules = compare.load_rules()
    assert rules.normalise("mmap", "mmap(NULL, 8192, PROT_READ, MAP_PRIVATE, 3, 0) = 0x7f12345000") == \
        "mmap(NULL, 8192, PROT_READ, MAP_PRIVATE, 3, 0) = ADDR"
    assert rules.normalise("getpid", "getpid() = 4242") == "getpid() = PID"
    assert rules.normalise("mkdir", 'mkdir("/tmp/pla-a1B2c3", 0700) = 0') == 'mkdir("/tmp/pla-XXXXXX", 0700) = 0'
    # what is not the run's choice stays
    assert rules.normalise("openat", 'openat(AT_FDCWD, "/etc/x", O_RDONLY) = -1 ENOENT') == \
        'openat(AT_FDCWD, "/etc/x", O_RDONLY) = -1 ENOENT'
    assert "futex" in rules.ignore
    assert rules.varies("/proc/self/status") and not rules.varies("/etc/passwd")


def test_sub_takes_any_delimiter_and_escapes(tmp_path):
    rules = rules_from(tmp_path, "sub open* #a/b#X#\nsub read |\\|+|P|\n")
    assert rules.normalise("openat", "openat(a/b)") == "openat(X)"
    assert rules.normalise("read", "read(||)") == "read(P)"
    assert rules.normalise("write", "write(a/b)") == "write(a/b)"


@pytest.mark.parametrize("line, says", [
    ("frobnicate x", "unknown rule"),
    ("ignore", "names no syscall"),
    ("sub * /a/b", "REGEX"),
    ("sub * /(/x/", "missing \\)"),
])
def test_a_bad_rule_names_its_line(tmp_path, line, says):
    with pytest.raises(compare.RuleError, match=f"rules.txt:2: .*{says}"):
        rules_from(tmp_path, "# fine\n" + line + "\n")


def write_log(path, records):
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def call(tid, name, text, result=0, **args):
    return {"ev": "syscall", "tid": tid, "name": name, "text": text, "result": result,
            "errno": None if result >= 0 else "ENOENT", "args": args}


def test_threads_are_matched_by_place_in_the_tree_not_pid(tmp_path):
    rules = compare.load_rules()
    native = write_log(tmp_path / "n", [
        call(100, "getuid", "getuid() = 0"),
        {"ev": "spawn", "tid": 100, "child": 150, "thread": False},
        call(150, "openat", 'openat(AT_FDCWD, "/x", O_RDONLY) = 3', 3, filename="/x"),
        call(150, "read", 'read(3, "abc", 10) = 3', 3, fd=3),
    ])
    model = write_log(tmp_path / "m", [
        call(2, "getuid", "getuid() = 0"),
        {"ev": "spawn", "tid": 2, "child": 3, "thread": False},
        call(3, "openat", 'openat(AT_FDCWD, "/x", O_RDONLY) = 3', 3, filename="/x"),
        call(3, "read", 'read(3, "abd", 10) = 3', 3, fd=3),
    ])
    found = compare.compare(compare.load(native, rules), compare.load(model, rules))
    assert [(d.thread, d.index, d.native.text, d.model.text) for d in found] == \
        [("1.1", 1, 'read(3, "abc", 10) = 3', 'read(3, "abd", 10) = 3')]
    assert [c.text for c in found[0].before] == ['openat(AT_FDCWD, "/x", O_RDONLY) = 3']


def test_reads_of_files_that_vary_are_not_compared(tmp_path):
    rules = compare.load_rules()
    logs = []
    for side, content, n in (("n", "VmRSS: 1", 365), ("m", "VmRSS: 22", 367)):
        logs.append(compare.load(write_log(tmp_path / side, [
            call(1, "openat", 'openat(AT_FDCWD, "/proc/self/status", O_RDONLY) = 3', 3,
                 filename="/proc/self/status"),
            call(1, "read", f'read(3, "{content}", 1024) = {n}', n, fd=3),
            call(1, "close", "close(3) = 0", 0, fd=3),
            call(1, "openat", 'openat(AT_FDCWD, "/etc/x", O_RDONLY) = 3', 3, filename="/etc/x"),
            call(1, "read", f'read(3, "{content}", 1024) = {n}', n, fd=3),
        ]), rules))
    found = compare.compare(*logs)
    assert [(d.index, d.native.name) for d in found] == [(4, "read")]      # only /etc/x's read


def test_the_summary_counts_results_by_syscall_and_errno(tmp_path):
    rules = compare.load_rules()
    native = compare.load(write_log(tmp_path / "n", [call(1, "openat", "o() = 3", 3), call(1, "openat", "o() = 4", 4)]),
                          rules)
    model = compare.load(write_log(tmp_path / "m", [call(1, "openat", "o() = 3", 3), call(1, "openat", "o() = -1", -2)]),
                         rules)
    assert compare.summary(native, model) == [("openat", "ENOENT", 0, 1), ("openat", "ok", 2, 1)]


def test_an_optional_call_made_by_one_run_only_is_stepped_over(tmp_path):
    rules = compare.load_rules()
    assert "getrandom" in rules.optional
    native = compare.load(write_log(tmp_path / "n", [
        call(1, "getrandom", 'getrandom("\\x01", 1, 0) = 1', 1),
        call(1, "mkdir", 'mkdir("/tmp/a", 0700) = 0'),
        call(1, "close", "close(3) = 0")]), rules)
    model = compare.load(write_log(tmp_path / "m", [
        call(1, "mkdir", 'mkdir("/tmp/a", 0700) = 0'),
        call(1, "close", "close(3) = -1 EBADF"), ]), rules)
    found = compare.compare(native, model, rules.optional)
    assert [(d.native.text, d.model.text) for d in found] == [("close(3) = 0", "close(3) = -1 EBADF")]


def test_a_call_restarted_after_a_signal_is_stepped_over(tmp_path):
    rules = compare.load_rules()
    native = compare.load(write_log(tmp_path / "n", [call(1, "read", 'read(3, "", 9) = 0')]), rules)
    model = compare.load(write_log(tmp_path / "m", [
        {"ev": "syscall", "tid": 1, "name": "read", "text": "read(3, 0x1, 9) = ? ERESTARTSYS", "result": -512,
         "errno": "ERESTARTSYS", "args": {}},
        call(1, "read", 'read(3, "", 9) = 0')]), rules)
    assert compare.compare(native, model) == []
