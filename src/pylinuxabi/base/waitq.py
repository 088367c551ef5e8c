"""Wait queues: who to tell when a file becomes readable, writable or closed.

A queue holds callbacks and runs each once on notify(). Files in vfs/ own
queues; the kernel puts a parked task's wake-up on them. Pure Python, no
knowledge of tasks or the platform.
"""


class WaitQueue:
    """The waiters in the order they came (a dict as an ordered set: tens of thousands of
    io_uring polls may wait on one pipe, each removed on its own)."""

    __slots__ = ("waiters",)

    def __init__(self):
        self.waiters = {}

    def add(self, callback):
        self.waiters[callback] = None

    def remove(self, callback):
        self.waiters.pop(callback, None)

    def notify(self):
        """Run (and forget) every waiter: each re-registers if it must wait again."""
        waiters, self.waiters = self.waiters, {}
        for callback in waiters:
            callback()
