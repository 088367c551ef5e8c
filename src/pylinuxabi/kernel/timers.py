"""Kernel timers: callbacks due at a time.monotonic() instant, run from the event loop.

The supervisor has no clock of its own: a parked thread's futex timeout is
what brings it back (DESIGN §4), so the kernel parks no thread past the next
timer and runs what is due when a parked thread returns. Pure Python.
"""
import heapq
import itertools
import time


class Timer:
    """One armed callback; cancel() disarms it."""

    __slots__ = ("due", "callback", "armed")

    def __init__(self, due, callback):
        self.due = due
        self.callback = callback
        self.armed = True

    def cancel(self):
        self.armed = False


class Timers:
    """The armed timers, earliest first.

    `earlier` (set by the kernel) is called when a new timer becomes the
    first, so that some parked thread comes back in time for it.
    """

    def __init__(self):
        self.heap = []
        self.seq = itertools.count()
        self.earlier = None

    def add(self, due, callback):
        """Call callback() at time.monotonic() == due (or soon after); returns the Timer."""
        timer = Timer(due, callback)
        first = self.next_due()
        heapq.heappush(self.heap, (due, next(self.seq), timer))
        if self.earlier is not None and (first is None or due < first):
            self.earlier()
        return timer

    def next_due(self):
        """When the first armed timer is due (None: none is armed)."""
        heap = self.heap
        while heap and not heap[0][2].armed:
            heapq.heappop(heap)
        return heap[0][0] if heap else None

    def run_due(self):
        """Run (and disarm) every timer that is due now."""
        heap = self.heap
        now = time.monotonic()
        while heap and heap[0][0] <= now:
            timer = heapq.heappop(heap)[2]
            if timer.armed:
                timer.armed = False
                timer.callback()
