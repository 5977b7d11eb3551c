"""The suite's own assumption: under ``--dist loadgroup`` one worker runs a whole xdist_group.

The expensive fixtures (the CDNOW demo model, the campaign loop, PostgreSQL, the tracking server)
are shared by a group's tests only then. pytest 9.2's structured node ids silently drop the
group tag pytest-xdist relies on (pytest-dev/pytest-xdist#1386): every worker then repeats the
fixtures and the suite takes twice as long, with nothing failing. This test fails instead.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

GROUPED = """
import pytest

pytestmark = pytest.mark.xdist_group("one")


@pytest.mark.parametrize("i", range(6))
def test_grouped(i):
    assert i >= 0
"""


def test_loadgroup_runs_a_group_on_one_worker(tmp_path: Path) -> None:
    (tmp_path / "test_grouped.py").write_text(GROUPED)
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-n",
            "2",
            "--dist",
            "loadgroup",
            "-v",
            "-p",
            "no:cacheprovider",
            "-o",
            "addopts=",
            "--rootdir",
            str(tmp_path),
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    passed = [line.split() for line in run.stdout.splitlines() if " PASSED " in line]
    assert len(passed) == 6, run.stdout
    assert {words[0] for words in passed} in ({"[gw0]"}, {"[gw1]"}), run.stdout
    assert all(words[-1].endswith("@one") for words in passed), run.stdout
