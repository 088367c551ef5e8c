"""Observation of the kernel's syscall events, apart from the handlers: the
strace-format log (tracer.py), the JSON log (jsonlog.py), and through the JSON
log the conformance recorder.

An observer has Kernel.tracer's methods: begin(task) as a syscall stops,
syscall(task, entry, args, result, sigreturn_mask), no_return, exec_done,
spawned(parent, child, thread), signal, exited, and sigreturn_mask(task, sp)."""


class Observers:
    """Several observers as one Kernel.tracer: each call goes to each, in order; a
    value asked for (sigreturn_mask) is the first one given."""

    def __init__(self, observers):
        self.observers = list(observers)

    def __getattr__(self, name):
        methods = [getattr(o, name) for o in self.observers]

        def call(*args):
            answer = None
            for method in methods:
                value = method(*args)
                if answer is None:
                    answer = value
            return answer
        setattr(self, name, call)
        return call


def observers(strace=None, log_json=None):
    """The Kernel.tracer for these options, or None."""
    made = []
    if strace is not None:
        from pylinuxabi.observe.tracer import Tracer
        made.append(Tracer(strace))
    if log_json is not None:
        from pylinuxabi.observe.jsonlog import JsonLog
        made.append(JsonLog(log_json))
    if len(made) < 2:
        return made[0] if made else None
    return Observers(made)
