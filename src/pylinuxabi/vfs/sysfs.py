"""sysfs and cgroup2: /sys and /sys/fs/cgroup as a container sees them.

The CPU files and the memory manager's (kernel/mm: huge pages, transparent huge
pages, KSM) are the host's (named when first listed, read at each open, as a
container reads the host's sysfs); the cgroup is the sandbox's own, whose
processes are the model's. Nothing else of the host (network devices, disks,
modules) is named. Both are mounted read-only, as docker mounts them: the VFS
answers writes with EROFS, so a program never changes the host's settings (a
read-only sysfs is what a container's root gets; holding writes in the model
would show it settings the host does not apply).
"""
import os
import stat as st

from pylinuxabi.vfs.file import POLLERR, POLLPRI
from pylinuxabi.vfs.inode import anon_dev
from pylinuxabi.vfs.synthetic import DEFAULT_POLLMASK, SynthDir, SynthFile, SynthFileContent, read_host

SYSFS_MAGIC = 0x62656572
CGROUP2_SUPER_MAGIC = 0x63677270
HOST_SYS = "/sys"
ATTR_SIZE = 4096            # what stat says of every sysfs attribute (a page)
# the host CPU files a container sees: in cpu/, and in each cpuN/
CPU_FILES = ("online", "possible", "present", "offline", "kernel_max", "isolated")
CPUN_ENTRIES = ("online", "topology", "cache")
TOP_DIRS = (b"block", b"bus", b"class", b"dev", b"devices", b"firmware", b"fs", b"kernel", b"module",
            b"power")
# kernel/mm's directories a container sees: hugetlb pools, transparent huge pages, KSM
MM_DIRS = ("hugepages", "ksm", "transparent_hugepage")


class SysDir(SynthDir):
    """A directory of a sysfs-like filesystem: st_nlink counts its subdirectories, as kernfs's."""

    def __init__(self, entries, dev, magic, mode=0o755):
        super().__init__(entries, mode=mode, dev=dev)
        self.fs_magic = magic

    def stat(self):
        s = self._stat
        s.nlink = 2 + sum(1 for child in self.children().values() if st.S_ISDIR(child.mode))
        return s


class HostMirrorDir(SysDir):
    """A host sysfs directory's readable regular files and subdirectories (no links,
    nor write-only attributes, which are actions on the host such as a hugetlb pool's
    `demote`), listed when first looked at; `only` limits which names it shows."""

    def __init__(self, host_path, dev, only=None, mode=0o755):
        super().__init__(None, dev, SYSFS_MAGIC, mode)
        self.entries = None
        self.host_path = host_path
        self.only = only

    def children(self):
        if self.entries is None:
            self.entries = _mirror_entries(self.host_path, self._stat.dev, self.only)
        return self.entries


def _mirror_entries(host_path, dev, only=None):
    out = {}
    try:
        names = sorted(os.listdir(host_path))
    except OSError:
        return out
    for name in names:
        if only is not None and name not in only:
            continue
        path = os.path.join(host_path, name)
        try:
            s = os.lstat(path)
        except OSError:
            continue
        if st.S_ISDIR(s.st_mode):
            out[name.encode()] = HostMirrorDir(path, dev, mode=st.S_IMODE(s.st_mode))
        elif st.S_ISREG(s.st_mode) and s.st_mode & 0o444:
            out[name.encode()] = _attr(lambda path=path: read_host(path), dev, st.S_IMODE(s.st_mode))
    return out


class AttrContent(SynthFileContent):
    """An open sysfs or cgroup attribute (kernfs_fop_poll, kernfs_generic_poll): always
    ready, and POLLERR|POLLPRI too until a read has shown the attribute — kernfs_seq_show
    records the count of its change notifications then, and the model sends none."""

    shown = False

    def pread(self, count, offset):
        if count:
            self.shown = True
        return super().pread(count, offset)

    def poll(self):
        return DEFAULT_POLLMASK if self.shown else DEFAULT_POLLMASK | POLLERR | POLLPRI

    def fsync(self, datasync):
        """kernfs files have one, noop_fsync."""


def _attr(content_fn, dev, mode=0o444, magic=SYSFS_MAGIC, size=ATTR_SIZE):
    f = SynthFile(content_fn, mode=mode, dev=dev, file_class=AttrContent)
    f._stat.size = size
    f.fs_magic = magic
    return f


def _cpu_dir(dev):
    """/sys/devices/system/cpu: the host's CPU lists, and cpuN/ with topology and caches."""
    host = os.path.join(HOST_SYS, "devices/system/cpu")
    entries = _mirror_entries(host, dev, CPU_FILES)
    try:
        names = os.listdir(host)
    except OSError:
        names = []
    for name in sorted(names, key=lambda n: (len(n), n)):
        if name.startswith("cpu") and name[3:].isdigit():
            entries[name.encode()] = HostMirrorDir(os.path.join(host, name), dev, only=CPUN_ENTRIES)
    return SysDir(entries, dev, SYSFS_MAGIC)


def make_sysfs():
    """The root of /sys (the cgroup2 filesystem is mounted on its fs/cgroup)."""
    dev = anon_dev()

    def d(entries=None):
        return SysDir(entries or {}, dev, SYSFS_MAGIC)

    top = {name: d() for name in TOP_DIRS}
    top[b"devices"] = d({b"system": d({b"cpu": _cpu_dir(dev)})})
    top[b"fs"] = d({b"cgroup": d()})
    top[b"kernel"] = d({b"mm": HostMirrorDir(os.path.join(HOST_SYS, "kernel/mm"), dev, only=MM_DIRS)})
    return SysDir(top, dev, SYSFS_MAGIC, mode=0o555)


# -- the sandbox's cgroup (v2), as a container's cgroup namespace root shows it --------
CONTROLLERS = b"cpuset cpu io memory pids"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def make_cgroup(processes):
    """The root of the sandbox's cgroup2 mount. `processes()` gives {pid: process}
    (with .tasks) of every process in the sandbox: all of them are in this cgroup."""
    dev = anon_dev()
    online = _read_or(os.path.join(HOST_SYS, "devices/system/cpu/online"), b"0\n")
    mems = _read_or(os.path.join(HOST_SYS, "devices/system/node/online"), b"0\n")

    def procs():
        return b"".join(b"%d\n" % pid for pid in sorted(processes()))

    def threads():
        return b"".join(b"%d\n" % tid for pid, p in sorted(processes().items()) for tid in sorted(p.tasks))

    def fixed(text):
        return lambda: text

    files = {           # name: (mode, content)
        b"cgroup.controllers": (0o444, fixed(CONTROLLERS + b"\n")),
        b"cgroup.events": (0o444, fixed(b"populated 1\nfrozen 0\n")),
        b"cgroup.freeze": (0o644, fixed(b"0\n")),
        b"cgroup.max.depth": (0o644, fixed(b"max\n")),
        b"cgroup.max.descendants": (0o644, fixed(b"max\n")),
        b"cgroup.procs": (0o644, procs),
        b"cgroup.stat": (0o444, fixed(b"nr_descendants 0\nnr_dying_descendants 0\n")),
        b"cgroup.subtree_control": (0o644, fixed(b"\n")),
        b"cgroup.threads": (0o644, threads),
        b"cgroup.type": (0o644, fixed(b"domain\n")),
        b"cpu.max": (0o644, fixed(b"max 100000\n")),
        b"cpu.stat": (0o444, lambda: _cpu_stat(processes())),
        b"cpu.weight": (0o644, fixed(b"100\n")),
        b"cpuset.cpus": (0o644, fixed(b"\n")),
        b"cpuset.cpus.effective": (0o444, fixed(online)),
        b"cpuset.mems": (0o644, fixed(b"\n")),
        b"cpuset.mems.effective": (0o444, fixed(mems)),
        b"io.max": (0o644, fixed(b"")),
        b"io.stat": (0o444, fixed(b"")),
        b"io.weight": (0o644, fixed(b"default 100\n")),
        b"memory.current": (0o444, lambda: b"%d\n" % sum(_memory(processes()).values())),
        b"memory.events": (0o444, fixed(b"low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\noom_group_kill 0\n")),
        b"memory.high": (0o644, fixed(b"max\n")),
        b"memory.low": (0o644, fixed(b"0\n")),
        b"memory.max": (0o644, fixed(b"max\n")),
        b"memory.min": (0o644, fixed(b"0\n")),
        b"memory.stat": (0o444, lambda: _memory_stat(processes())),
        b"memory.swap.current": (0o444, fixed(b"0\n")),
        b"memory.swap.max": (0o644, fixed(b"max\n")),
        b"pids.current": (0o444, lambda: b"%d\n" % sum(len(p.tasks) for p in processes().values())),
        b"pids.max": (0o644, fixed(b"max\n")),
    }
    entries = {name: _attr(fn, dev, mode, CGROUP2_SUPER_MAGIC, size=0) for name, (mode, fn) in files.items()}
    return SysDir(entries, dev, CGROUP2_SUPER_MAGIC)


def _read_or(path, default):
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        return default


def _host_proc(pid, name):
    try:
        with open(f"/proc/{pid}/{name}", "rb") as f:
            return f.read()
    except OSError:
        return b""          # gone meanwhile: it no longer counts


def _cpu_stat(processes):
    """cpu.stat from the host's times of the sandbox's live processes."""
    user = system = 0
    for pid in processes:
        fields = _host_proc(pid, "stat").rpartition(b")")[2].split()
        if len(fields) > 12:
            user += int(fields[11])
            system += int(fields[12])
    user_us, system_us = user * 10**6 // CLOCK_TICKS, system * 10**6 // CLOCK_TICKS
    return (b"usage_usec %d\nuser_usec %d\nsystem_usec %d\nnr_periods 0\nnr_throttled 0\n"
            b"throttled_usec 0\nnr_bursts 0\nburst_usec 0\n" % (user_us + system_us, user_us, system_us))


def _memory(processes):
    """Bytes of anonymous, file and shared memory the sandbox's processes hold."""
    out = {b"anon": 0, b"file": 0, b"shmem": 0}
    keys = {b"RssAnon:": b"anon", b"RssFile:": b"file", b"RssShmem:": b"shmem"}
    for pid in processes:
        for line in _host_proc(pid, "status").splitlines():
            parts = line.split()
            if parts and parts[0] in keys:
                out[keys[parts[0]]] += int(parts[1]) * 1024
    return out


def _memory_stat(processes):
    m = _memory(processes)
    rows = [(b"anon", m[b"anon"]), (b"file", m[b"file"] + m[b"shmem"]), (b"kernel", 0),
            (b"kernel_stack", 0), (b"pagetables", 0), (b"sec_pagetables", 0), (b"percpu", 0),
            (b"sock", 0), (b"vmalloc", 0), (b"shmem", m[b"shmem"]), (b"file_mapped", m[b"file"]),
            (b"file_dirty", 0), (b"file_writeback", 0), (b"swapcached", 0), (b"anon_thp", 0),
            (b"file_thp", 0), (b"shmem_thp", 0), (b"inactive_anon", 0), (b"active_anon", m[b"anon"]),
            (b"inactive_file", 0), (b"active_file", m[b"file"] + m[b"shmem"]), (b"unevictable", 0),
            (b"slab_reclaimable", 0), (b"slab_unreclaimable", 0), (b"slab", 0), (b"pgfault", 0),
            (b"pgmajfault", 0)]
    return b"".join(b"%s %d\n" % row for row in rows)


def proc_cgroups():
    """/proc/cgroups of a cgroup2-only system: every controller on hierarchy 0."""
    rows = [b"#subsys_name\thierarchy\tnum_cgroups\tenabled\n"]
    for name in (b"cpuset", b"cpu", b"cpuacct", b"blkio", b"memory", b"devices", b"freezer", b"net_cls",
                 b"perf_event", b"net_prio", b"hugetlb", b"pids", b"rdma", b"misc"):
        rows.append(b"%s\t0\t1\t1\n" % name)
    return b"".join(rows)
