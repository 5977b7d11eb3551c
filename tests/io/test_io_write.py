"""Writers: CSV cells never run as spreadsheet formulas, files written as one unit under a lock,
and what a killed run left behind is cleaned (and nothing else)."""

from __future__ import annotations

import csv
import multiprocessing
import os
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from winback.exceptions import ConfigError
from winback.io import (
    LEDGER,
    escape_formulas,
    output_lock,
    staging_path,
    unescape_formulas,
    write_frame,
    write_together,
)

# what a spreadsheet runs: these after any white space (also tabs, CR, LF, no-break and
# zero-width spaces), or a leading tab or carriage return
_TRIGGERS = st.sampled_from(["=", "+", "-", "@", "\t", "\r", "\uff1d"])
_SPACE = st.text(alphabet=" \t\r\n\x1c\x1f\u00a0\u00ad\u2003\u200b\u202e\u2066\ufeff", max_size=3)
_REST = st.text(max_size=12)


_INVISIBLE_FORMATS = {"\u00ad", "\u180e", "\ufeff"} | {
    chr(c) for c in (*range(0x200B, 0x2010), *range(0x202A, 0x202F), *range(0x2060, 0x2070))
}


def _runs_as_formula(cell: str) -> bool:
    """The most a spreadsheet could do: skip every invisible character (white space, soft
    hyphen, zero-width and direction marks), then run a formula character."""
    if cell[:1] in ("\t", "\r"):
        return True
    rest = cell
    while rest and (rest[0].isspace() or rest[0] in _INVISIBLE_FORMATS):
        rest = rest[1:]
    return rest[:1] in ("=", "+", "-", "@", "\uff1d", "\uff0b", "\uff0d", "\uff20")


@settings(max_examples=300, deadline=None)
@given(space=_SPACE, trigger=_TRIGGERS, rest=_REST)
def test_every_formula_prefix_gets_a_leading_quote(space: str, trigger: str, rest: str) -> None:
    cell = space + trigger + rest
    escaped = escape_formulas(pd.DataFrame({"name": [cell]}))["name"].iloc[0]
    # a tab or CR after other white space is only white space ("\u00a0\t" runs nothing)
    assert (escaped == "'" + cell) == _runs_as_formula(cell)
    assert not _runs_as_formula(escaped)
    if not space:
        assert escaped == "'" + cell


@settings(max_examples=300, deadline=None)
@given(cells=st.lists(st.one_of(st.none(), st.text(max_size=10), _SPACE), min_size=1))
def test_escaping_is_undone_exactly_and_leaves_safe_cells_alone(cells: list[str | None]) -> None:
    frame = pd.DataFrame({"text": pd.Series(cells, dtype=object), "n": range(len(cells))})
    escaped = escape_formulas(frame)
    for before, after in zip(cells, escaped["text"], strict=True):
        if before is None:
            assert pd.isna(after)
        elif _runs_as_formula(before) or before.startswith("'"):
            assert after == "'" + before or after == before  # quotes only escaped when needed
        else:
            assert after == before
        assert after is None or pd.isna(after) or not _runs_as_formula(after)
    pd.testing.assert_frame_equal(unescape_formulas(escaped), frame)
    assert escaped["n"].tolist() == list(range(len(cells)))  # numbers untouched


def test_write_frame_escapes_csv_cells_and_not_parquet(tmp_path: Path) -> None:
    frame = pd.DataFrame({"customer_id": ["=1+2", "-3", "ok"], "x": [-1.5, 2.0, 3.0]})
    write_frame(frame, tmp_path / "f.csv")
    with open(tmp_path / "f.csv", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows == [["customer_id", "x"], ["'=1+2", "-1.5"], ["'-3", "2.0"], ["ok", "3.0"]]
    write_frame(frame, tmp_path / "f.parquet")
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "f.parquet"), frame)


def _hold(
    path: str, ready: multiprocessing.synchronize.Event, done: multiprocessing.synchronize.Event
) -> None:
    with output_lock(Path(path)):
        ready.set()
        done.wait(30)


def _holder(out: Path) -> tuple[multiprocessing.process.BaseProcess, Any]:
    """A process that holds the lock of ``out`` until its event is set (or it is killed)."""
    context = multiprocessing.get_context("fork")
    ready, done = context.Event(), context.Event()
    holder = context.Process(target=_hold, args=(str(out), ready, done))
    holder.start()
    assert ready.wait(30)
    return holder, done


def test_a_second_writer_is_refused_while_the_first_holds_the_lock(tmp_path: Path) -> None:
    out = tmp_path / "scores.parquet"
    holder, done = _holder(out)
    try:
        refused = pytest.raises(ConfigError, match=r"Another winback run is writing the outputs")
        with refused, output_lock(out):
            pass
    finally:
        done.set()
        holder.join(30)
    with output_lock(out) as lock:  # free again once the first run ends
        assert lock.name == ".scores.parquet.winback-lock"
    assert not lock.exists()


def test_the_lock_is_released_when_its_holder_dies(tmp_path: Path) -> None:
    out = tmp_path / "scores.parquet"
    holder, _ = _holder(out)
    holder.kill()  # killed mid-run: the system drops its lock
    holder.join(30)
    with output_lock(out):
        pass


def test_files_written_together_and_leftovers_of_a_killed_run_cleaned(tmp_path: Path) -> None:
    out = tmp_path / "scores.parquet"
    rejects = tmp_path / "scores.rejects.csv"
    killed = staging_path(out)  # a staging folder and a temporary file a killed run left
    killed.mkdir()
    (killed / "scores.parquet").write_bytes(b"x" * 1000)
    (tmp_path / ".scores.parquet.ab12cd34.tmp").write_bytes(b"half")
    mine = [tmp_path / ".scores.notes", tmp_path / "scores.parquet.bak", tmp_path / ".tmp"]
    for path in mine:
        path.write_text("the user's")
    with output_lock(out, rejects):
        write_together(
            {
                out: lambda tmp: tmp.write_bytes(b"scores"),
                rejects: lambda tmp: tmp.write_text("rejects"),
            }
        )
    assert out.read_bytes() == b"scores" and rejects.read_text() == "rejects"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["scores.parquet", "scores.rejects.csv", LEDGER, *(p.name for p in mine)]
    )
    assert oct(out.stat().st_mode & 0o777) == oct(0o666 & ~_umask())


def test_a_failed_unit_leaves_the_previous_files_and_no_staging(tmp_path: Path) -> None:
    out, summary = tmp_path / "scores.parquet", tmp_path / "scores.summary.json"
    write_together(
        {
            out: lambda tmp: tmp.write_bytes(b"old scores"),
            summary: lambda t: t.write_text("old summary"),
        }
    )

    def fail(tmp: Path) -> None:
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        write_together({out: lambda tmp: tmp.write_bytes(b"new"), summary: fail})
    assert out.read_bytes() == b"old scores" and summary.read_text() == "old summary"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [LEDGER, "scores.parquet", "scores.summary.json"]
    )


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
