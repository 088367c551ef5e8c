"""What the model was asked: each syscall it answered and, for calls with a command
or flags argument, the values seen. `pylinuxabi coverage` reads it to say which of
what the model implements the test suite exercised.

Recorded when the environment's PYLINUXABI_USAGE names a directory: each sandbox
writes one JSON file there as it ends. The kernel calls seen() once per syscall
stop (only when recording), nothing else.
"""
import json
import os
import tempfile
from collections import Counter

from pylinuxabi.base.names import SYSCALL_NAMES, SYSCALL_NUMBERS

ENV = "PYLINUXABI_USAGE"

# syscall -> (argument index, "value": a command, or "bits": flags, each bit counted)
SELECTORS = {
    "fcntl": (1, "value"), "ioctl": (1, "value"), "prctl": (0, "value"), "socket": (0, "value"),
    "setsockopt": (2, "value"), "getsockopt": (2, "value"), "madvise": (2, "value"),
    "epoll_ctl": (1, "value"), "io_uring_register": (1, "value"), "shmctl": (1, "value"),
    "semctl": (2, "value"), "msgctl": (1, "value"), "keyctl": (0, "value"), "lseek": (2, "value"),
    "flock": (1, "value"), "fadvise64": (3, "value"), "arch_prctl": (0, "value"),
    "open": (1, "bits"), "openat": (2, "bits"), "mmap": (3, "bits"), "clone": (0, "bits"),
    "unshare": (0, "bits"), "mount": (3, "bits"), "umount2": (1, "bits"), "renameat2": (4, "bits"),
    "accept4": (3, "bits"), "pipe2": (1, "bits"), "statx": (2, "bits"), "newfstatat": (3, "bits"),
    "linkat": (4, "bits"), "unlinkat": (2, "bits"), "faccessat2": (3, "bits"), "fallocate": (1, "bits"),
    "sendmsg": (2, "bits"), "recvmsg": (2, "bits"), "sendto": (3, "bits"), "recvfrom": (3, "bits"),
    "memfd_create": (1, "bits"), "eventfd2": (1, "bits"), "signalfd4": (3, "bits"),
    "timerfd_create": (1, "bits"), "inotify_init1": (0, "bits"), "epoll_create1": (0, "bits"),
    "dup3": (2, "bits"), "preadv2": (4, "bits"), "pwritev2": (4, "bits"), "splice": (5, "bits"),
    "copy_file_range": (5, "bits"), "getrandom": (2, "bits"), "execveat": (4, "bits"),
}
_BY_NR = {SYSCALL_NUMBERS[name]: sel for name, sel in SELECTORS.items() if name in SYSCALL_NUMBERS}


class Usage:
    def __init__(self, directory):
        self.directory = directory
        self.calls = Counter()          # nr -> calls
        self.values = {}                # nr -> Counter of values (or of bits)

    def seen(self, nr, args):
        self.calls[nr] += 1
        selector = _BY_NR.get(nr)
        if selector is None:
            return
        index, how = selector
        v = args[index] & 0xFFFFFFFF
        counts = self.values.get(nr)
        if counts is None:
            counts = self.values[nr] = Counter()
        if how == "value":
            counts[v] += 1
        else:
            while v:
                bit = v & -v
                counts[bit] += 1
                v ^= bit
            if not args[index] & 0xFFFFFFFF:
                counts[0] += 1

    def save(self):
        """One JSON file in the directory: {syscall: {"calls": n, "values": {value: n}}}."""
        data = {SYSCALL_NAMES.get(nr, f"syscall_{nr}"): {"calls": n, "values": {
            str(v): c for v, c in sorted(self.values.get(nr, {}).items())}} for nr, n in sorted(self.calls.items())}
        try:
            os.makedirs(self.directory, exist_ok=True)
            fd, path = tempfile.mkstemp(prefix="usage-", suffix=".json", dir=self.directory)
            with os.fdopen(fd, "w") as f:
                json.dump(data, f)
        except OSError:
            pass            # a record for coverage must never fail a run


def merge(directory):
    """Every file of a usage directory summed: {syscall: {"calls": n, "values": {value: n}}}."""
    total = {}
    for name in sorted(os.listdir(directory)):
        if not name.endswith(".json"):
            continue
        try:
            with open(os.path.join(directory, name)) as f:
                data = json.load(f)
        except (OSError, ValueError):
            continue
        for syscall, entry in data.items():
            t = total.setdefault(syscall, {"calls": 0, "values": Counter()})
            t["calls"] += entry["calls"]
            t["values"].update({int(v): c for v, c in entry["values"].items()})
    return {k: {"calls": v["calls"], "values": {str(x): c for x, c in sorted(v["values"].items())}}
            for k, v in sorted(total.items())}
