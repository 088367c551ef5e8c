"""Virtual credentials: what the program's uid/gid are, independent of the host's.

Pure model; permission checks in the VFS read fsuid, fsgid and groups.
"""


class Creds:
    """The credentials of one process (shared by its threads)."""

    def __init__(self, uid=0, gid=0, groups=()):
        self.ruid = self.euid = self.suid = self.fsuid = uid
        self.rgid = self.egid = self.sgid = self.fsgid = gid
        self.groups = list(groups)

    def in_group(self, gid):
        return gid == self.fsgid or gid in self.groups

    def copy(self):
        c = Creds.__new__(Creds)
        c.__dict__.update(self.__dict__)
        c.groups = list(self.groups)
        return c
