"""--inject's rules, as strace's `-e inject=` reads them, plus our path=, fd= and short=."""
import errno
import signal

import pytest

from pylinuxabi.base.names import SYSCALL_NUMBERS
from pylinuxabi.kernel.inject import Injector, Rule


def due(rule, upto=10):
    return [n for n in range(1, upto + 1) if Rule(rule).due(n)]


def test_when_takes_stracess_forms():
    assert due("read:error=EIO") == list(range(1, 11))          # no when=: every call
    assert due("read:error=EIO:when=3") == [3]
    assert due("read:error=EIO:when=3+") == list(range(3, 11))
    assert due("read:error=EIO:when=2+3") == [2, 5, 8]
    assert due("read:error=EIO:when=2..4") == [2, 3, 4]
    assert due("read:error=EIO:when=2..8+3") == [2, 5, 8]


def test_the_set_takes_names_classes_regexes_and_negation():
    nr = SYSCALL_NUMBERS
    assert Rule("read,write:error=EIO").nrs == {nr["read"], nr["write"]}
    assert nr["openat"] in Rule("%file:error=EIO").nrs and nr["read"] not in Rule("%file:error=EIO").nrs
    assert nr["read"] in Rule("%desc:error=EIO").nrs
    assert Rule("/^pread:error=EIO").nrs == {nr["pread64"], nr["preadv"], nr["preadv2"]}
    everything = Rule("all,!read:error=EIO").nrs
    assert nr["read"] not in everything and nr["write"] in everything


def test_values():
    r = Rule("openat:error=ENOSPC:signal=USR1")
    assert (r.error, r.signal) == (errno.ENOSPC, signal.SIGUSR1)
    assert Rule("getuid:retval=0x2a").retval == 42
    assert Rule("read:error=5").error == 5
    assert Rule("write:short=3").short == 3


@pytest.mark.parametrize("text, says", [
    ("nosuch:error=EIO", "no syscall named"),
    ("read:error=ENOTANERRNO", "no errno"),
    ("read:signal=SIGNOPE", "no signal"),
    ("read:when=0", "counts start at 1"),
    ("read:when=5..2", "LAST is not before FIRST"),
    ("read:when=x", "bad when"),
    ("read", "injects nothing"),
    ("read:error=EIO:retval=1", "exclude each other"),
    ("read:error=EIO:short=1", "runs the call"),
    ("getpid:short=1", "short= is for"),
    ("read:path=/x:error=EIO", "path argument"),
    ("getpid:fd=file:error=EIO", "fd argument"),
    ("read:fd=nonsense:error=EIO", "bad fd="),
    ("read:colour=red", "unknown colour="),
    ("read:error", "KEY=VALUE"),
])
def test_bad_rules_say_what_is_wrong(text, says):
    with pytest.raises(ValueError, match=says):
        Rule(text)


class FakeTask:
    def __init__(self, tid):
        self.tid = tid


def test_invocations_are_counted_per_thread_and_per_syscall():
    injector = Injector(["read,write:error=EIO:when=2"])
    read, write = SYSCALL_NUMBERS["read"], SYSCALL_NUMBERS["write"]
    a, b = FakeTask(1), FakeTask(2)
    seen = [injector.fault(a, read, (0,) * 6) is not None,
            injector.fault(a, write, (0,) * 6) is not None,
            injector.fault(b, read, (0,) * 6) is not None,
            injector.fault(a, read, (0,) * 6) is not None,     # a's second read
            injector.fault(b, read, (0,) * 6) is not None,     # b's second read
            injector.fault(a, read, (0,) * 6) is not None]
    assert seen == [False, False, False, True, True, False]
    assert injector.fault(a, SYSCALL_NUMBERS["getpid"], (0,) * 6) is None
