"""The project's own conformance corpus: every differential program of tests/programs
named in tests/conformance/programs.txt is run by `pylinuxabi conform`, natively and
under the model, and must conform syscall by syscall, or diverge only where its line
says why (`# expect: ...`). A divergence here names the syscall, where the program's
own differential test can only say that its output differs."""
import os
import subprocess
import sys

import pytest

from conftest import REPO_ROOT, TESTS_DIR

CORPUS = TESTS_DIR / "conformance" / "programs.txt"

pytestmark = [pytest.mark.skipif(os.geteuid() != 0, reason="conform's native run needs root"),
              pytest.mark.timeout(1800)]


def corpus():
    """[(program name, expected divergence or None)]"""
    out = []
    for line in CORPUS.read_text().splitlines():
        name, _, note = line.partition("# expect:")
        name = name.strip()
        if name and not name.startswith("#"):
            out.append((name, note.strip() or None))
    return out


def test_every_program_of_the_corpus_conforms(build, tmp_path):
    cases = corpus()
    suite = tmp_path / "suite.txt"
    suite.write_text("".join(f"{build(name)}" + (f"  # expect: {note}" if note else "") + "\n"
                             for name, note in cases))
    report = tmp_path / "report.json"
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT / "src"))
    r = subprocess.run([sys.executable, "-m", "pylinuxabi", "conform", "--suite", str(suite), "--json", str(report),
                        "--timeout", "300"], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=1700)
    import json
    results = json.loads(report.read_text())["cases"] if report.exists() else []
    diverging = [(os.path.basename(c["argv"][0]), c) for c in results if not c["conforms"] and not c["note"]]
    assert r.returncode == 0 and not diverging, "\n".join(
        [f"conform exit {r.returncode}: {r.stderr[-2000:]}"] + [r.stdout[-6000:]])
    assert len(results) == len(cases)
