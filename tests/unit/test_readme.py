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
