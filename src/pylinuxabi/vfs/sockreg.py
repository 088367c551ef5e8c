"""The sandbox's sockets, as the tables of its network namespace list them (for /proc/net).

AF_INET and AF_INET6 files register by the host socket's inode number, which the
host's /proc/net tables show; AF_UNIX sockets (the model's) register themselves. Plain
data: nothing here opens, closes or reads a socket but an fstat of its host fd.
"""
import os
import weakref

inet_by_host_ino = weakref.WeakValueDictionary()    # host st_ino -> InetSocketFile
_host_ino = weakref.WeakKeyDictionary()             # InetSocketFile -> the st_ino it was added under
unix_sockets = weakref.WeakSet()                    # every UnixSocket made (the dead ones are skipped)


def add_inet(f):
    """A host-backed socket file is made (socket, accept), or goes on over another host
    socket: the host socket's inode number names it."""
    remove_inet(f)
    ino = os.fstat(f.fd).st_ino
    inet_by_host_ino[ino] = f
    _host_ino[f] = ino


def remove_inet(f):
    """Its last reference is gone (the host reuses inode numbers once the fd is closed)."""
    ino = _host_ino.pop(f, None)
    if ino is not None and inet_by_host_ino.get(ino) is f:
        del inet_by_host_ino[ino]


def inet_files():
    """The live host-backed socket files."""
    return list(inet_by_host_ino.values())


def live_unix():
    """The model's AF_UNIX sockets not yet released (unix_release_sock unhashes them),
    in the order they were made."""
    return sorted((s for s in list(unix_sockets) if not s.dead), key=lambda s: s.ino)
