"""winback never overwrites a file it did not write: every writer refuses anything at its path
but a file it wrote there itself, unchanged since (a user's file, an edited output, a link, a
folder), before writing anything."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from winback.exceptions import ConfigError
from winback.io import LEDGER, write_atomic, write_frame, write_json, write_together

FRAME = pd.DataFrame({"customer_id": [1, 2], "p_churn": [0.1, 0.9]})

WRITERS: dict[str, tuple[str, Callable[[Path], Path]]] = {
    "write_frame csv": ("out.csv", lambda p: write_frame(FRAME, p)),
    "write_frame parquet": ("out.parquet", lambda p: write_frame(FRAME, p)),
    "write_json": ("out.json", lambda p: write_json({"a": 1}, p)),
    "write_atomic": ("out.txt", lambda p: write_atomic(p, lambda t: t.write_text("new"))),
    "write_together": (
        "out.csv",
        lambda p: write_together({p: lambda t: t.write_text("new")})[0],
    ),
}


def _user_file(path: Path) -> None:
    path.write_bytes(b"the user's own data\n")


def _edited_output(path: Path) -> None:
    write_atomic(path, lambda t: t.write_text("winback wrote this\n"))
    with open(path, "a") as handle:
        handle.write("and the user added a line\n")


def _output_without_record(path: Path) -> None:
    write_atomic(path, lambda t: t.write_text("winback wrote this\n"))
    (path.parent / LEDGER / path.name).unlink()


def _link_to_user_file(path: Path) -> None:
    target = path.with_name("elsewhere.bin")
    _user_file(target)
    path.symlink_to(target)


def _link_to_own_output(path: Path) -> None:
    target = path.with_name("elsewhere" + path.suffix)
    write_atomic(target, lambda t: t.write_text("winback wrote this\n"))
    path.symlink_to(target)


def _folder(path: Path) -> None:
    path.mkdir()
    _user_file(path / "inside.txt")


SQUATTERS = {
    "user file": _user_file,
    "edited output": _edited_output,
    "output whose record is gone": _output_without_record,
    "link to a user file": _link_to_user_file,
    "link to a winback output": _link_to_own_output,
    "folder": _folder,
}


def _snapshot(folder: Path) -> dict[str, bytes | None]:
    return {
        p.relative_to(folder).as_posix(): (p.read_bytes() if p.is_file() else None)
        for p in sorted(folder.rglob("*"))
    }


@pytest.mark.parametrize("squatter", sorted(SQUATTERS))
@pytest.mark.parametrize("writer", sorted(WRITERS))
def test_anything_winback_did_not_write_is_refused_and_left_as_it_is(
    tmp_path: Path, writer: str, squatter: str
) -> None:
    name, write = WRITERS[writer]
    path = tmp_path / name
    SQUATTERS[squatter](path)
    before = _snapshot(tmp_path)
    with pytest.raises(ConfigError, match="winback") as refused:
        write(path)
    assert str(path) in str(refused.value) and "\n" not in str(refused.value)
    assert _snapshot(tmp_path) == before


@pytest.mark.parametrize("writer", sorted(WRITERS))
def test_its_own_unchanged_output_is_replaced_again_and_again(tmp_path: Path, writer: str) -> None:
    name, write = WRITERS[writer]
    path = tmp_path / name
    for _ in range(3):
        assert write(path) == path
    assert (tmp_path / LEDGER / name).is_file()


def test_a_unit_is_refused_whole_when_one_of_its_files_is_not_winback_s(tmp_path: Path) -> None:
    scores, summary = tmp_path / "s.csv", tmp_path / "s.summary.json"
    write_together({scores: lambda t: t.write_text("old scores")})
    _user_file(summary)
    with pytest.raises(ConfigError, match="did not write"):
        write_together(
            {scores: lambda t: t.write_text("new scores"), summary: lambda t: t.write_text("{}")}
        )
    assert scores.read_text() == "old scores"
    assert summary.read_bytes() == b"the user's own data\n"


@pytest.mark.parametrize("writer", sorted(WRITERS))
def test_a_file_where_the_record_folder_goes_is_refused_and_left(
    tmp_path: Path, writer: str
) -> None:
    name, write = WRITERS[writer]
    (tmp_path / LEDGER).write_text("the user's file of that name")
    with pytest.raises(ConfigError, match="is not the folder where winback records"):
        write(tmp_path / name)
    assert sorted(p.name for p in tmp_path.iterdir()) == [LEDGER]
    assert (tmp_path / LEDGER).read_text() == "the user's file of that name"
