"""The README's generated parts say what the code does."""
import re
from pathlib import Path

from pylinuxabi.syscalls.io_uring import status_table

README = Path(__file__).resolve().parents[2] / "README.md"


def test_the_io_uring_table_is_the_registrys():
    text = README.read_text()
    table = re.search(r"<!-- io_uring table -->\n(.*?)<!-- end of the io_uring table -->", text, re.S)
    assert table, "the README has no io_uring table between its markers"
    assert table.group(1) == status_table(), "run python3 -m pylinuxabi.syscalls.io_uring"


def test_the_coverage_headline_is_docs_coverage_mds():
    from pylinuxabi.observe import coverage
    text = README.read_text()
    headline = re.search(r"<!-- coverage headline -->\n(.*?)<!-- end of the coverage headline -->", text, re.S)
    assert headline, "the README has no coverage headline between its markers"
    made = "\n".join(coverage.headline(coverage.rows(coverage.load_usage(coverage.USAGE_FILE)))) + "\n"
    assert headline.group(1) == made, "copy the headline of `pylinuxabi coverage` into the README"
