"""hugetlbfs: files made of huge pages, as `mount -t hugetlbfs` gives them.

Names and metadata are the model's (a tmpfs with hugetlbfs's rules); a regular
file's pages are a host hugetlb memfd of the mount's page size, so the host's
pool decides, as it does for any process, what mmap and fallocate get (on a host
with no huge pages: ENOMEM and ENOSPC). It may touch tmpfs and the host's
/sys/kernel/mm/hugepages, which it only reads.
"""
import errno
import itertools
import os
import re
import stat as st

from pylinuxabi.base.abi import STATFS
from pylinuxabi.base.errors import SyscallError
from pylinuxabi.vfs.inode import anon_dev
from pylinuxabi.vfs.synthetic import ListedDirFile
from pylinuxabi.vfs.tmpfs import TmpDirFile, TmpFS, TmpInode

HUGETLBFS_MAGIC = 0x958458F6
HOST_HUGEPAGES = "/sys/kernel/mm/hugepages"
MFD_HUGE_SHIFT = 26
NAME_MAX = 255
ST_VALID = 0x20
U64 = (1 << 64) - 1
_MEMPARSE = re.compile(rb"(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)([kKmMgGtTpPeE]?)(.*)\Z", re.S)


def host_page_sizes():
    """The huge page sizes (bytes) the host has pools of (its hstates)."""
    try:
        names = os.listdir(HOST_HUGEPAGES)
    except OSError:
        return []
    return sorted(int(n[10:-2]) << 10 for n in names if re.fullmatch(r"hugepages-[0-9]+kB", n))


def default_page_size():
    """The default hstate's page size: /proc/meminfo's Hugepagesize."""
    try:
        with open("/proc/meminfo", "rb") as f:
            for line in f:
                if line.startswith(b"Hugepagesize:"):
                    return int(line.split()[1]) << 10
    except (OSError, ValueError):
        pass
    raise SyscallError(errno.ENODEV)        # a kernel without huge pages has no hugetlbfs


def host_pool(page_size, name):
    """A number the host's pool of `page_size` pages shows (nr_hugepages, free_hugepages…)."""
    try:
        with open(f"{HOST_HUGEPAGES}/hugepages-{page_size >> 10}kB/{name}", "rb") as f:
            return int(f.read())
    except (OSError, ValueError):
        return 0


def memparse(value):
    """memparse(): a number in C's bases with an optional K/M/G/T/P/E suffix; (n, rest)."""
    m = _MEMPARSE.match(value)
    if m is None:
        raise SyscallError(errno.EINVAL)
    digits, suffix, rest = m.groups()
    n = int(digits, 16 if digits[:2].lower() == b"0x" else 8 if digits[:1] == b"0" else 10)
    if suffix:
        n <<= 10 * (b"kmgtpe".index(suffix.lower()) + 1)
    return n & U64, rest


def _pages(value, page_size):
    """A size= or min_size= value in huge pages: bytes, or a percentage of the pool."""
    if not value[:1].isdigit():
        raise SyscallError(errno.EINVAL)
    n, rest = memparse(value)
    if rest[:1] == b"%":
        n = (n * page_size * host_pool(page_size, "nr_hugepages")) // 100
    return n // page_size


def parse_options(data, uid, gid):
    """hugetlbfs_parse_param and hugetlbfs_validate: mount's options → HugetlbFS keyword
    arguments. uid and gid are the mounter's (the root directory's owner by default)."""
    opts = {}
    for opt in filter(None, (data or b"").split(b",")):
        key, eq, value = opt.partition(b"=")
        if key in (b"rw", b"ro") and not eq:
            continue                # the generic flags, which mount's flags carry too
        if key not in (b"uid", b"gid", b"mode", b"size", b"min_size", b"nr_inodes", b"pagesize") or not eq:
            raise SyscallError(errno.EINVAL)
        opts[key] = value
    kw = {"uid": uid, "gid": gid, "page_size": default_page_size()}
    try:
        if b"uid" in opts:
            kw["uid"] = int(opts[b"uid"], 10)
        if b"gid" in opts:
            kw["gid"] = int(opts[b"gid"], 10)
        if b"mode" in opts:
            kw["mode"] = int(opts[b"mode"], 8) & 0o1777
    except ValueError:
        raise SyscallError(errno.EINVAL)
    if b"pagesize" in opts:
        kw["page_size"] = memparse(opts[b"pagesize"])[0]
        if kw["page_size"] not in host_page_sizes():
            raise SyscallError(errno.EINVAL)
    if b"nr_inodes" in opts:
        if not opts[b"nr_inodes"][:1].isdigit():
            raise SyscallError(errno.EINVAL)
        kw["nr_inodes"] = memparse(opts[b"nr_inodes"])[0]
    for key, name in ((b"size", "max_pages"), (b"min_size", "min_pages")):
        if key in opts:
            kw[name] = _pages(opts[key], kw["page_size"])
    if b"size" in opts and kw.get("min_pages", -1) > kw["max_pages"]:
        raise SyscallError(errno.EINVAL)
    return kw


def statfs_bytes(page_size, spool=None):
    """hugetlbfs_statfs: the page size as the block size; the counts only with a size
    limit (a subpool): (max pages, used pages, max inodes, free inodes)."""
    blocks = free = files = ffree = 0
    if spool is not None:
        max_pages, used, files, ffree = spool
        blocks, free = max_pages, max_pages - used
    return STATFS.pack(HUGETLBFS_MAGIC, page_size, blocks & U64, free & U64, free & U64, files & U64,
                       ffree & U64, 0, 0, NAME_MAX, page_size, ST_VALID, 0, 0, 0, 0)


def host_hugetlb_memfd(page_size, name="hugetlbfs"):
    """A host memfd of huge pages of page_size (ENODEV: the host has no such pool)."""
    try:
        return os.memfd_create(name, os.MFD_CLOEXEC | os.MFD_HUGETLB
                               | (page_size.bit_length() - 1) << MFD_HUGE_SHIFT)
    except OSError as e:
        raise SyscallError(e.errno)


class HugetlbFS(TmpFS):
    """One hugetlbfs mount: its page size, size limit (max_pages, -1 for none), and
    inode limit. min_size reserves pages from the host's pool at mount (ENOMEM when
    the pool has too few free); the model checks the pool but cannot hold the pages,
    so another process may take them later. size= is shown and counted in statfs;
    what the program's mappings fault in is the host pool's to refuse."""

    def __init__(self, page_size, max_pages=-1, min_pages=-1, nr_inodes=-1, mode=0o755, uid=0, gid=0):
        unreserved = host_pool(page_size, "free_hugepages") - host_pool(page_size, "resv_hugepages")
        if min_pages > 0 and min_pages > unreserved:
            raise SyscallError(errno.ENOMEM)        # hugepage_new_subpool cannot reserve them
        self.dev = anon_dev()
        self.name = "hugetlbfs"
        self._inos = itertools.count(1)
        self.page_size = page_size
        self.max_pages, self.min_pages = max_pages, min_pages
        self.max_inodes = self.free_inodes = nr_inodes
        self.mode, self.uid, self.gid = mode, uid, gid
        self.files = set()              # inodes holding a host memfd, whose pages are in use
        self.root_inode = HugeInode(self, st.S_IFDIR | mode, uid, gid)
        self.root_inode.parent = self.root_inode

    def charge(self, old_size, new_size):
        """A file's size takes no pages: only faulted or allocated pages do."""

    def take_inode(self):
        """hugetlbfs_alloc_inode: ENOSPC when nr_inodes are all in use."""
        if self.free_inodes == 0:
            raise SyscallError(errno.ENOSPC)
        if self.free_inodes > 0:
            self.free_inodes -= 1

    def give_inode(self):
        if self.free_inodes >= 0:
            self.free_inodes += 1

    def used_pages(self):
        return sum(os.fstat(node.memfd).st_blocks * 512 // self.page_size for node in self.files)

    def statfs(self):
        spool = None
        if self.max_pages != -1 or self.min_pages != -1:
            spool = (self.max_pages, self.used_pages(), self.max_inodes, self.free_inodes)
        return statfs_bytes(self.page_size, spool)

    def options(self):
        """hugetlbfs_show_options, as mountinfo shows them."""
        shown = []
        if self.uid:
            shown.append(b"uid=%d" % self.uid)
        if self.gid:
            shown.append(b"gid=%d" % self.gid)
        if self.mode != 0o755:
            shown.append(b"mode=%o" % self.mode)
        if self.max_inodes != -1:
            shown.append(b"nr_inodes=%d" % self.max_inodes)
        size, unit = self.page_size >> 10, b"K"
        if size >= 1024:
            size, unit = size >> 10, b"M"
        shown.append(b"pagesize=%d%s" % (size, unit))
        if self.max_pages != -1:
            shown.append(b"size=%d" % (self.max_pages * self.page_size))
        if self.min_pages != -1:
            shown.append(b"min_size=%d" % (self.min_pages * self.page_size))
        return b",".join(shown)


class HugeInode(TmpInode):
    """A hugetlbfs inode: blocks of the page size; regular files that write(2) cannot
    fill (no write_begin: EINVAL) and whose sizes are whole pages; directories whose
    size is 0 and which list the newest entry first (dcache_readdir); no extended
    attributes, symbolic links or inode flags."""

    def __init__(self, fs, mode, uid, gid, rdev=0):
        super().__init__(fs, mode, uid, gid, rdev)
        self._huge()

    def _huge(self):
        self._stat.blksize = self.fs.page_size
        if st.S_ISDIR(self._stat.mode):
            self._stat.size = 0
        self.counted = True         # in the mount's inode count until evicted

    def _new(self, mode, creds, rdev=0):
        """tmpfs's inode_init_owner decides owner and mode; the inode is then ours."""
        self.fs.take_inode()
        return super()._new(mode, creds, rdev)

    # -- directories: simple_* operations -----------------------------------------
    def add(self, name, inode):
        super().add(name, inode)
        self._stat.size = 0
        return inode

    def drop(self, name):
        inode = super().drop(name)
        self._stat.size = 0
        return inode

    def open_dir(self, dentry, flags):
        return HugeDirFile(dentry, self, flags)

    def entries(self):
        """Newest first; a position counts the entries before it, as dcache_readdir's."""
        return [(name, inode, 3 + i) for i, (name, inode, _) in enumerate(reversed(super().entries()))]

    def symlink(self, name, target, creds):
        self.fs.take_inode()
        self.fs.give_inode()        # page_symlink fails: hugetlbfs has no write_begin
        raise SyscallError(errno.EINVAL)

    def rmdir(self, name):
        inode = self.children[name]
        super().rmdir(name)
        inode.maybe_free()

    def maybe_free(self):
        if self._stat.nlink == 0 and self.opens == 0 and self.counted:
            self.counted = False
            self.fs.give_inode()
        super().maybe_free()

    # -- what hugetlbfs lacks --------------------------------------------------------
    def fileattr_get(self):
        raise SyscallError(errno.ENOTTY)

    def fileattr_set(self, flags):
        raise SyscallError(errno.ENOTTY)

    def getxattr(self, name):
        raise SyscallError(errno.EOPNOTSUPP)

    def setxattr(self, name, value, flags):
        raise SyscallError(errno.EOPNOTSUPP)

    def removexattr(self, name):
        raise SyscallError(errno.EOPNOTSUPP)

    def listxattr(self):
        return []

    # -- data --------------------------------------------------------------------------
    def data_fd(self):
        if self.memfd is None:
            self.memfd = host_hugetlb_memfd(self.fs.page_size)
            self.fs.files.add(self)
            if self._stat.size:
                os.ftruncate(self.memfd, self._stat.size)
        return self.memfd

    def pwrite(self, data, offset):
        raise SyscallError(errno.EINVAL)        # no write operation at all, for 0 bytes too

    def may_resize(self, old, size):
        """hugetlbfs_setattr: a size of whole pages only, then the seals."""
        if size % self.fs.page_size:
            raise SyscallError(errno.EINVAL)
        super().may_resize(old, size)

    def release_data(self):
        self.fs.files.discard(self)
        super().release_data()



def make(data, creds):
    """A new hugetlbfs for mount(2): (root inode, the options mountinfo shows)."""
    fs = HugetlbFS(**parse_options(data, creds.fsuid, creds.fsgid))
    fs.take_inode()                 # the root is an inode of the mount's too
    return fs.root_inode, fs.options()


class HugeDirFile(TmpDirFile):
    """An open hugetlbfs directory: dcache_readdir's cursor, not tmpfs's simple_offset
    (its positions count entries, in the order HugeInode.entries gives)."""

    getdents64 = ListedDirFile.getdents64
