"""Random bytes that are the same in every run: getrandom(2) under --random-seed,
and what `pylinuxabi conform` gives both of its runs so that a program naming
files from random bytes (mkstemp, mkdtemp) names the same ones in both.

The n-th call of thread tid that succeeds gets SHA-256 in counter mode over
(seed, tid, n): a call that fails (EFAULT) takes none, as none reach the program.
"""
import hashlib


class SeededRandom:
    def __init__(self, seed):
        self.seed = int(seed)
        self.calls = {}         # tid -> calls so far

    def take(self, tid, count):
        n = self.calls.get(tid, 0)
        self.calls[tid] = n + 1
        out = bytearray()
        block = 0
        while len(out) < count:
            out += hashlib.sha256(b"%d/%d/%d/%d" % (self.seed, tid, n, block)).digest()
            block += 1
        return bytes(out[:count])

    def give_back(self, tid):
        """The bytes last taken reached nobody: the next call gets them."""
        self.calls[tid] -= 1
