"""The signals `pylinuxabi run` holds from its first instruction of its own: what it inherited, and the hold.

Imports nothing of pylinuxabi: cli.py calls capture_signals() before the
rest is imported, since importing may start child processes (ctypes's
find_library runs ldconfig), and a signal sent to us once one exists must
already be held to be passed on.
"""
import signal

FORWARDED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT)

_inherited = None


def capture_signals():
    """Note the signal state we were started with, then hold the ones we forward.

    Called first thing: a SIGTERM that comes while we start stays pending and
    is passed on once there is a program to take it.
    """
    global _inherited
    if _inherited is None:
        _inherited = inherited_signals()
        signal.pthread_sigmask(signal.SIG_BLOCK, set(FORWARDED) | {signal.SIGCHLD})
    return _inherited


def inherited_signals():
    """(ignored, blocked) signal sets as whoever started us left them.

    CPython itself ignores SIGPIPE and SIGXFSZ at start-up: those the program
    gets at their defaults, as from a shell.
    """
    ignored = set()
    for sig in range(1, signal.NSIG):
        try:
            if signal.getsignal(sig) == signal.SIG_IGN:
                ignored.add(sig)
        except ValueError:
            continue
    ignored -= {signal.SIGPIPE, signal.SIGXFSZ}
    return ignored, signal.pthread_sigmask(signal.SIG_BLOCK, [])
