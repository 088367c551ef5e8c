"""Where handler modules register: the @syscall decorator and the classes of calls.

Imported by every handler module and by table.py, which builds the dispatch
table from what is registered here; it imports nothing of the handlers.
"""
EMULATED = "emulated"           # answered by the model
PASSTHROUGH = "passthrough"     # the host runs it (we may look at it on the way)
ALLOWED = "allowed"             # the BPF filter lets it through without a stop
UNIMPLEMENTED = "unimplemented"

registered = {}         # name -> (handler, argument kinds, class)


def syscall(name, args="", kind=EMULATED):
    """Register the decorated function as the handler of `name`, taking `args` kinds.

    kind=PASSTHROUGH marks a handler that only looks at a call the host runs.
    """
    def register(fn):
        if name in registered:
            raise ValueError(f"two handlers for {name}")
        registered[name] = (fn, args, kind)
        return fn
    return register
