"""procfs's net/ directory (/proc/<pid>/net, which /proc/net names): the tables of the sandbox's
network namespace.

The socket tables list the sandbox's sockets only. tcp, udp, raw… are the host's lines (the
supervisor's own /proc/self/net, of the namespace its host sockets live in) for the host
sockets the sandbox owns (vfs/sockreg.py), each shown with the model's inode number and
uid; unix is made from the model's AF_UNIX sockets. The interface, route and counter
files are the namespace's as the host shows them. Nothing here knows of processes: the
caller says whether the sandbox has a network namespace of its own (`new_net()`).
"""
import errno
import os
import re

from pylinuxabi.base.errors import SyscallError
from pylinuxabi.vfs import sockreg
from pylinuxabi.vfs.socket import SOCK_STREAM, SOCK_TYPE_MASK, TCP_ESTABLISHED, TCP_LISTEN
from pylinuxabi.vfs.file import O_ACCMODE
from pylinuxabi.vfs.synthetic import PolledContent, SynthDir, read_host

# the tables of sockets whose lines name a socket inode (tcp4_seq_show, udp4_format_sock,
# raw_sock_seq_show, ping_v4_format_sock and their IPv6 twins): filtered to the sandbox's
INET_TABLES = (b"tcp", b"tcp6", b"udp", b"udp6", b"udplite", b"udplite6", b"raw", b"raw6", b"icmp", b"icmp6")
NUMBERED = (b"tcp", b"tcp6")        # "sl" is the line's number (st->num); the others show a hash bucket
UID_FIELD, INODE_FIELD, POINTER_FIELD = 7, 9, 11    # whitespace-separated fields of every such line
UID_WIDTH = 5                                       # "%5u"
# the namespace's own files, shown as the host shows them (in --net host, the host's, as in
# `docker run --net host`): interfaces, addresses, routes, neighbours, counters
HOST_FILES = (b"arp", b"dev", b"dev_mcast", b"if_inet6", b"igmp", b"igmp6", b"ipv6_route", b"netstat",
              b"route", b"snmp", b"snmp6")
SOCKSTAT = (b"sockstat", b"sockstat6")
# the files made by proc_create_net_single (single_open_net); the others are seq_open_net's
SINGLE = (b"netstat", b"snmp", b"snmp6", b"sockstat", b"sockstat6")

UNIX_HEADER = b"Num       RefCount Protocol Flags    Type St Inode Path\n"
SO_ACCEPTCON = 1 << 16
SS_UNCONNECTED, SS_CONNECTING, SS_CONNECTED, SS_DISCONNECTING = 1, 2, 3, 4
SUN_PATH = 2                        # offsetof(struct sockaddr_un, sun_path)


class NetSingleContent(PolledContent):
    """An open file of net/ (its poll, proc_reg_poll's default, finds it always ready): a
    write finds no ->write of the entry (proc_simple_write: EACCES)."""

    def pwrite(self, data, offset):
        raise SyscallError(errno.EACCES)


class NetSeqContent(NetSingleContent):
    """An open table of net/: seq_open_net refuses to open an entry without ->write for
    writing (EACCES), whoever asks."""

    def __init__(self, dentry, inode, flags, data):
        if flags & O_ACCMODE != os.O_RDONLY:
            raise SyscallError(errno.EACCES)
        super().__init__(dentry, inode, flags, data)


class ProcNetDir(SynthDir):
    """/proc/<pid>/net (mode 0555): the files of the one network namespace all the
    sandbox's processes are in. Its files are made once per mode, so that their inode
    numbers stay the same, as those of one namespace's proc entries do."""

    cacheable_children = False

    def __init__(self, new_net, make_file, dev):
        super().__init__({}, mode=0o555, dev=dev)
        self.new_net = new_net
        self.make_file = make_file      # (content_fn, file_class) -> a read-only file of procfs's

    def children(self):
        return net_files(bool(self.new_net()), self.make_file)


_files = {}


def net_files(new_net, make_file):
    """{name: file} of net/ in the given mode, in Linux's order of proc entries (by the
    name's length, then its bytes)."""
    key = (new_net, make_file)
    if key not in _files:
        makers = {name: (lambda name=name: inet_table(name, new_net)) for name in INET_TABLES}
        makers.update({name: (lambda name=name: host_net(name)) for name in HOST_FILES})
        makers.update({name: (lambda name=name: sockstat(name, new_net)) for name in SOCKSTAT})
        makers = {name: fn for name, fn in makers.items() if os.path.exists(b"/proc/self/net/" + name)}
        makers[b"unix"] = unix_table
        _files[key] = {name: make_file(makers[name], NetSingleContent if name in SINGLE else NetSeqContent)
                       for name in sorted(makers, key=lambda n: (len(n), n))}
    return _files[key]


def host_net(name):
    """The supervisor's /proc/self/net/<name>: the sandbox's namespace (or the host's in --net host)."""
    return read_host(b"/proc/self/net/" + name)


# -- tcp, udp, raw, icmp and their IPv6 twins --------------------------------------------
def inet_rows(lines, new_net):
    """The rows of the sandbox's sockets among the host's `lines`.

    A row whose inode is a host socket the sandbox owns shows the model's inode number
    and the file's uid (sock_i_uid: the creator's fsuid). A row with inode 0 belongs to
    no file: a TIME_WAIT or orphaned connection, or one not yet accepted; in the
    sandbox's own namespace it can only be the sandbox's and is shown as the host has
    it; in --net host it may be anyone's and is not shown. Every other row is a socket
    the sandbox does not own. The kernel address (%pK) is shown as zeros, as to a reader
    without CAP_SYSLOG under kptr_restrict 1."""
    owned = dict(sockreg.inet_by_host_ino)
    for line in lines:
        spans = [m.span() for m in re.finditer(rb"\S+", line)]
        if len(spans) <= POINTER_FIELD:
            continue
        ino = int(line[slice(*spans[INODE_FIELD])])
        f = owned.get(ino)
        if f is None and (ino != 0 or not new_net):
            continue
        start, end = spans[POINTER_FIELD]
        values = {POINTER_FIELD: b"0" * (end - start)}
        if f is not None:
            values.update({UID_FIELD: b"%*d" % (UID_WIDTH, f.inode.stat().uid), INODE_FIELD: b"%d" % f.inode.ino})
        yield _with_fields(line, spans, values)


def _with_fields(line, spans, values):
    """line with the fields numbered as `values`' keys replaced (each after one space, as
    the kernel's formats have them); a line the kernel padded to a width keeps it."""
    body = line.rstrip(b"\n")
    padded = body.endswith(b" ")
    out = body
    for i in sorted(values, reverse=True):
        start = spans[i - 1][1] + 1
        out = out[:start] + values[i] + out[spans[i][1]:]
    if padded:
        out = out.rstrip(b" ").ljust(len(body))
    return out + line[len(body):]


def renumbered(name, rows):
    """tcp and tcp6 number their rows from 0 ("%4d:"); the others keep their bucket."""
    if name not in NUMBERED:
        return rows
    out = []
    for n, row in enumerate(rows):
        _, sep, rest = row.partition(b":")
        out.append(b"%4d" % n + sep + rest)
    return out


def inet_table(name, new_net):
    """The host's table with the sandbox's sockets only, as the model names them."""
    header, _, body = host_net(name).partition(b"\n")
    return header + b"\n" + b"".join(sandbox_rows(name, body, new_net))


def sandbox_rows(name, body, new_net):
    """The sandbox's rows among those of the host's table `name`, numbered as Linux numbers them."""
    return renumbered(name, list(inet_rows(body.splitlines(keepends=True), new_net)))


# -- unix ----------------------------------------------------------------------------------
def unix_table():
    """/proc/net/unix (unix_seq_show) from the model's sockets: the refcount Linux shows
    is 2, and one more for each socket whose peer it is; Flags __SO_ACCEPTCON for a
    listener, St the socket's state (an embryo not yet accepted has no socket: inode
    0 and SS_CONNECTING), then the name: a path, or an abstract name with '@' for
    its NULs."""
    socks = sockreg.live_unix()
    held = {}
    for s in socks:
        if s.peer is not None:
            held[id(s.peer)] = held.get(id(s.peer), 0) + 1
    lines = [UNIX_HEADER]
    for s in socks:
        lines.append(b"%016x: %08X %08X %08X %04X %02X %5d%s\n" % (
            0, 2 + held.get(id(s), 0), 0, SO_ACCEPTCON if s.state == TCP_LISTEN else 0, s.type,
            _unix_state(s), s.ino if s.has_file else 0, _unix_path(s.addr)))
    return b"".join(lines)


def _unix_state(s):
    connected = s.state == TCP_ESTABLISHED
    if s.has_file:
        return SS_CONNECTED if connected else SS_UNCONNECTED
    return SS_CONNECTING if connected else SS_DISCONNECTING


def _unix_path(addr):
    """" name" as unix_seq_show prints it ("" for an unnamed socket)."""
    if addr is None:
        return b""
    sun = addr[SUN_PATH:]
    if sun[:1] == b"\0":
        return b" @" + sun[1:].replace(b"\0", b"@")
    return b" " + sun[:-1].replace(b"\0", b"@")     # the name's NUL is not shown


# -- sockstat ------------------------------------------------------------------------------
TCP_SYN_RECV, TCP_TIME_WAIT = 3, 6  # rows of tcp that are no full socket (a request, a timewait sock)
STATE_FIELD = 3


def sockstat(name, new_net):
    """sockstat and sockstat6. "sockets: used" counts the sandbox's socks (sock_inuse_get of
    its namespace): its files', the unix socks still held, and, in its own namespace, the
    connections that outlived their file or wait to be accepted; the supervisor's own
    sockets are not counted. The
    protocols' lines: in the sandbox's own namespace, the namespace's as the host shows
    them. In --net host, the counts of sockets are the sandbox's own, so that they agree
    with the tables it is shown (TCP inuse: its rows of tcp; orphan and tw 0: such
    connections are no one's in the host's namespace; alloc: its TCP sockets); the
    memory figures (mem, FRAG) stay the host's, a machine-wide pool in any container."""
    files = sockreg.inet_files()
    rows = {table: sandbox_rows(table, host_net(table).partition(b"\n")[2], new_net)
            for table in INET_TABLES if os.path.exists(b"/proc/self/net/" + table)}
    used = len(files) + _unix_socks()
    if new_net:
        used += sum(1 for table in NUMBERED for row in rows.get(table, ()) if _fileless_sock(row))
    changes = {b"sockets": lambda old: {b"used": used}}
    if not new_net:
        tcp = sum(1 for f in files if f.type & SOCK_TYPE_MASK == SOCK_STREAM)

        def inuse(table):
            return lambda old: {b"inuse": len(rows.get(table, ()))}
        changes.update({
            b"TCP": lambda old: {b"inuse": len(rows.get(b"tcp", ())), b"orphan": 0, b"tw": 0, b"alloc": tcp},
            b"UDP": inuse(b"udp"), b"UDPLITE": inuse(b"udplite"), b"RAW": inuse(b"raw"),
            b"TCP6": inuse(b"tcp6"), b"UDP6": inuse(b"udp6"), b"UDPLITE6": inuse(b"udplite6"),
            b"RAW6": inuse(b"raw6")})
    return _set_counts(host_net(name), changes)


def _unix_socks():
    """The model's AF_UNIX socks that exist: the live ones and those a live one still holds
    as its peer (a released sock is freed at its last sock_put)."""
    live = sockreg.live_unix()
    return len(live) + len({id(s.peer) for s in live if s.peer is not None and s.peer.dead})


def _fileless_sock(row):
    """A row of tcp with inode 0 that is a full socket (an orphan, or a connection not
    yet accepted), not a request or timewait sock."""
    fields = row.split()
    return int(fields[INODE_FIELD]) == 0 and int(fields[STATE_FIELD], 16) not in (TCP_SYN_RECV, TCP_TIME_WAIT)


def _set_counts(text, changes):
    """text of "KEY: name value name value…" lines with changes[KEY](old values) applied."""
    out = []
    for line in text.splitlines():
        key, _, rest = line.partition(b": ")
        change = changes.get(key)
        if change is not None:
            words = rest.split()
            try:
                values = {k: int(v) for k, v in zip(words[::2], words[1::2])}
            except ValueError:
                raise SyscallError(errno.EIO)      # not the kernel's format
            values.update(change(values))
            line = key + b": " + b" ".join(b"%s %d" % kv for kv in values.items())
        out.append(line + b"\n")
    return b"".join(out)
