"""O_ASYNC (Linux's ->fasync, kill_fasync): a file whose data or room arrives
signals its owner (vfs/fown.py: SIGIO, or F_SETSIG's signal).

Files that have a fasync operation (pipes, sockets, inotify: `has_fasync`)
are hooked on the queues their fasync_queues() name while O_ASYNC is set:
pipes on queues of their own, woken where pipe_read, pipe_write and
pipe_release call kill_fasync; other files on their wait queues' input and
output sides, signalling when the file is then ready on that side. The
signal itself is the caller's `notify(reason)` (the syscall layer sends it).
"""
import weakref

_hooks = weakref.WeakKeyDictionary()        # open file -> its hooks while O_ASYNC is on


class _Hook:
    """A persistent waiter on one of the file's queues (a WaitQueue forgets its
    waiters as it runs them: each call puts this one back)."""

    __slots__ = ("file", "queue", "ready", "reason", "notify", "on")

    def __init__(self, file, queue, ready, reason, notify):
        self.file, self.queue, self.ready, self.reason, self.notify = file, queue, ready, reason, notify
        self.on = True
        queue.add(self)

    def __call__(self):
        if not self.on:
            return
        self.queue.add(self)
        if not self.ready or self.file.poll() & self.ready:
            self.notify(self.reason)

    def off(self):
        self.on = False
        self.queue.remove(self)


def set_async(file, on, notify):
    """fasync_helper: O_ASYNC turned on (with the signal sender) or off. Files
    without a fasync operation just keep the flag, as Linux's setfl does."""
    off(file)
    if not on or not file.has_fasync:
        return
    _hooks[file] = [_Hook(file, q, ready, reason, notify) for q, ready, reason in file.fasync_queues()]


def off(file):
    """O_ASYNC cleared, or the file's last reference gone (__fput)."""
    for hook in _hooks.pop(file, ()):
        hook.off()
