"""docs/coverage.md is what `pylinuxabi coverage` makes of the table and the committed usage."""
from pathlib import Path

from pylinuxabi.observe import coverage, usage

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_coverage_md_is_current():
    made = coverage.markdown(coverage.load_usage(DOCS / "coverage-usage.json"))
    assert (DOCS / "coverage.md").read_text() == made, \
        "docs/coverage.md is stale: run `pylinuxabi coverage --write docs/coverage.md`"


def test_usage_counts_commands_and_flag_bits(tmp_path):
    u = usage.Usage(tmp_path)
    nr_fcntl, nr_openat, nr_getuid = 72, 257, 102
    u.seen(nr_fcntl, (3, 1, 0, 0, 0, 0))                    # F_GETFD
    u.seen(nr_fcntl, (3, 1, 0, 0, 0, 0))
    u.seen(nr_openat, (0, 0, 0o2000000 | 0o100, 0, 0, 0))   # O_CLOEXEC|O_CREAT
    u.seen(nr_openat, (0, 0, 0, 0, 0, 0))                   # O_RDONLY
    u.seen(nr_getuid, (0,) * 6)
    u.save()
    u.save()                                                # a second sandbox's file
    merged = usage.merge(tmp_path)
    assert merged["fcntl"] == {"calls": 4, "values": {"1": 4}}
    assert merged["openat"] == {"calls": 4, "values": {"0": 2, "64": 2, "524288": 2}}
    assert merged["getuid"] == {"calls": 2, "values": {}}
    rows = {r[1]: r for r in coverage.rows(merged)}
    assert rows["fcntl"][3:] == (4, [("F_GETFD", 4)])
    assert rows["openat"][4] == [("O_RDONLY", 2), ("O_CREAT", 2), ("O_CLOEXEC", 2)]
    assert rows["getuid"][2] == "emulated" and rows["kexec_load"][2] == "unimplemented"
