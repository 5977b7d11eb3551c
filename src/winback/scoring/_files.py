"""Scoring from files: read through the data gate, score, write the three outputs as one unit.

The scores, ``<stem>.rejects.csv`` and ``<stem>.summary.json`` of a run belong together: one run
at a time may write them (a lock beside them; a second run gets a clear error), they are staged
in a hidden folder and renamed into place with the summary last, and the summary records the
sha256 of the other two, so a reader can tell a matching set from files of different runs.
Staging left by a killed run is removed by the next run. No output may be one of the inputs.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from winback.actions import (
    ActionsConfig,
)
from winback.dates import check_date_format
from winback.exceptions import ConfigError, DataError
from winback.io import (
    ReadResult,
    gate_rejects,
    output_lock,
    parse_customer_ids,
    read_customers,
    read_events,
    read_json_object,
    read_orders,
    sha256_file,
    split_buckets,
    unescape_formulas,
    write_frame,
    write_json,
    write_together,
)
from winback.models import WinbackModel, load_model
from winback.scoring._bucketed import score_buckets
from winback.scoring._config import ScoringConfig
from winback.scoring._inputs import check_allow_missing, check_outputs
from winback.scoring._score import ScoreResult, score

__all__ = ["output_paths", "read_score_summary", "read_scores", "score_files"]

logger = logging.getLogger(__name__)


def output_paths(out: str | os.PathLike[str]) -> dict[str, Path]:
    """Return the files a run writes: ``scores`` (``out``), ``rejects`` and ``summary`` beside it.

    ``scores.parquet`` -> ``scores.rejects.csv`` and ``scores.summary.json``.
    """
    out = Path(out)
    if out.suffix.lower() not in (".csv", ".parquet"):
        raise ConfigError(f"--out {out}: expected a file name ending in .parquet or .csv.")
    return {
        "scores": out,
        "rejects": out.with_name(f"{out.stem}.rejects.csv"),
        "summary": out.with_name(f"{out.stem}.summary.json"),
    }


def read_score_summary(scores: str | os.PathLike[str]) -> dict[str, Any]:
    """Return the summary written beside a scores file (``<stem>.summary.json``); ``{}`` if none.

    Raises
    ------
    DataError
        If the summary exists but is not the JSON object `winback score` writes, or it records
        a scores file other than the one beside it (files of different runs).
    """
    paths = output_paths(scores)
    path = paths["summary"]
    if not path.is_file():
        return {}
    summary = read_json_object(path, what="Score summary", fix="rerun `winback score`")
    written = summary.get("outputs", {}).get("scores", {})
    if (
        written
        and paths["scores"].is_file()
        and written.get("sha256") != sha256_file(paths["scores"])
    ):
        raise DataError(
            f"{paths['scores']} is not the scores file {path} describes (its sha256 differs): "
            "the files come from different runs. Rerun `winback score`."
        )
    return summary


def read_scores(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read a scores file written by :func:`score_files` (``.parquet`` or ``.csv``).

    A CSV file is read back as written: ``customer_id`` by the readers' id rule (``"000001"``
    stays text, ``"17"`` is the integer 17) and text cells un-escaped (see
    :func:`winback.io.escape_formulas`).

    Raises
    ------
    DataError
        If the file is missing, unreadable, or lacks ``customer_id``.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"Scores file {path} does not exist; write it with `winback score`.")
    suffix = path.suffix.lower()
    if suffix not in (".parquet", ".csv"):
        raise DataError(f"Scores file {path}: expected a .parquet or .csv file, got {suffix!r}.")
    try:
        frame = (
            pd.read_parquet(path)
            if suffix == ".parquet"
            else unescape_formulas(pd.read_csv(path, dtype={"customer_id": str}))
        )
    except (OSError, ValueError) as exc:
        raise DataError(f"Scores file {path} cannot be read: {exc}") from exc
    if "customer_id" not in frame.columns:
        raise DataError(
            f"Scores file {path} lacks the column 'customer_id'; found {list(frame.columns)}. "
            "Is it the output of `winback score`?"
        )
    if suffix == ".csv":
        frame["customer_id"] = parse_customer_ids(frame["customer_id"])
    return frame


def score_files(
    model: WinbackModel | str | os.PathLike[str],
    orders: str | os.PathLike[str] | pd.DataFrame,
    *,
    out: str | os.PathLike[str],
    as_of: Any,
    events: str | os.PathLike[str] | pd.DataFrame | None = None,
    customers: str | os.PathLike[str] | pd.DataFrame | None = None,
    actions: ActionsConfig | str | os.PathLike[str] | None = None,
    columns: Mapping[str, str] | None = None,
    event_columns: Mapping[str, str] | None = None,
    customer_columns: Mapping[str, str] | None = None,
    config: ScoringConfig | None = None,
    progress: bool | None = None,
    client: Any = None,
    allow_missing: Iterable[str] = (),
    date_format: str | None = None,
    encoding: str = "utf-8",
    uplift_model: Any = None,
) -> ScoreResult:
    """Read the inputs through the data gate, :func:`score` them and write the three outputs.

    Writes ``out`` (``.parquet`` or ``.csv``), ``<out stem>.rejects.csv`` and
    ``<out stem>.summary.json`` (see :func:`output_paths`) as one unit (see the module
    docstring); equal inputs give byte-identical files. ``columns`` maps canonical order
    columns to the file's names, e.g. ``{"customer_id": "Customer ID"}``; ``event_columns`` and
    ``customer_columns`` map those of the events and customers; ``date_format`` and
    ``encoding`` apply to every file read. Other parameters as in :func:`score`.

    When the orders are a folder written by :func:`winback.io.partition_dataset` (and the events
    and customers, if given, are partitioned the same way), or are database tables and a
    ``client`` is given, each bucket of whole customers is read and scored on its own (on the
    cluster's workers, or here one after the other): the orders are never loaded here, and the
    outputs are identical to reading the same rows whole (see
    :mod:`winback.scoring._bucketed`).

    Raises
    ------
    ConfigError
        If an output would overwrite an input or lie inside the model bundle, or another run is
        writing the same outputs; and as :func:`score`.
    DataError
        If every row of the orders (or of the events or customers) is rejected by the data gate:
        the rejects (every row with its reason) are written to ``<out stem>.rejects.csv`` first,
        and the message names them.
    """
    paths = output_paths(out)
    check_allow_missing(allow_missing)  # the options first, before any file is read
    if date_format is not None:
        check_date_format(date_format)
    inputs = {"orders": orders, "events": events, "customers": customers, "model": model}
    if not isinstance(actions, ActionsConfig):
        inputs["actions config"] = actions
    check_outputs(paths.values(), inputs)
    with output_lock(*paths.values(), what="scores"):
        model = model if isinstance(model, WinbackModel) else load_model(model)
        id_column = (columns or {}).get("customer_id", "customer_id")
        buckets = split_buckets(
            {"orders": orders, "events": events, "customers": customers},
            count=_database_buckets(client),
            id_columns={"orders": id_column},
        )
        if buckets is not None:  # each bucket read and scored where it runs
            result, line_items = score_buckets(
                model,
                buckets,
                as_of=as_of,
                actions=actions,
                config=config,
                progress=progress,
                client=client,
                allow_missing=allow_missing,
                date_format=date_format,
                encoding=encoding,
                columns=dict(columns) if columns else None,
                uplift_model=uplift_model,
            )
            summary = {**result.summary, "line_items": line_items}
            _write_outputs(result, summary, paths)
            return dataclasses.replace(result, summary=summary, paths=paths)
        read = {"encoding": encoding, "date_format": date_format}
        gated = read_orders(orders, columns=dict(columns) if columns else None, **read)
        gate = [gate_rejects(gated.rejects, table="orders", id_column=id_column)]
        _require_rows(gated, gate, paths["rejects"])
        tables = {
            "events": (events, read_events, event_columns),
            "customers": (customers, read_customers, customer_columns),
        }
        frames: dict[str, pd.DataFrame | None] = {}
        for name, (source, reader, mapping) in tables.items():
            frames[name] = None
            if source is not None:
                table = reader(source, columns=dict(mapping) if mapping else None, **read)
                mapped_id = (mapping or {}).get("customer_id", "customer_id")
                gate.append(gate_rejects(table.rejects, table=name, id_column=mapped_id))
                _require_rows(table, gate, paths["rejects"])
                frames[name] = table.data
        result = score(
            model,
            gated.data,
            as_of=as_of,
            events=frames["events"],
            customers=frames["customers"],
            actions=actions,
            data_rejects=pd.concat(gate, ignore_index=True),
            config=config,
            progress=progress,
            client=client,
            allow_missing=allow_missing,
            date_format=date_format,
            uplift_model=uplift_model,
        )
        summary = {**result.summary, "line_items": _line_items(gated)}
        _write_outputs(result, summary, paths)
    return dataclasses.replace(result, summary=summary, paths=paths)


def _database_buckets(client: Any) -> int | None:
    """How many buckets a database table is read in on ``client``'s cluster: four per worker
    (None without a cluster: a database table is then read here, whole)."""
    if client is None:
        return None
    return 4 * max(len(client.scheduler_info().get("workers", {})), 1)


def _require_rows(table: ReadResult, gate: list[pd.DataFrame], rejects: Path) -> None:
    """When every row of a table was rejected, write the data gate's rejects and stop."""
    if len(table.data) or not len(table.rejects):
        return
    write_together({rejects: _csv(pd.concat(gate, ignore_index=True))})
    table.require_rows(rejects_file=rejects)


def _line_items(gated: ReadResult) -> dict[str, int] | None:
    items = gated.line_items
    if items is None:
        return None
    return {"lines": items.lines, "orders": items.orders, "cancellations": items.cancellations}


def _frame_writer(frame: pd.DataFrame, suffix: str) -> Callable[[Path], None]:
    """Write ``frame`` to a staging path as ``suffix`` (write_frame's formats and escaping)."""

    def write(tmp: Path) -> None:
        target = tmp.with_name(tmp.name + suffix)
        write_frame(frame, target)
        os.replace(target, tmp)

    return write


def _csv(frame: pd.DataFrame) -> Callable[[Path], None]:
    return _frame_writer(frame, ".csv")


def _write_outputs(result: ScoreResult, summary: dict[str, Any], paths: dict[str, Path]) -> None:
    """Scores and rejects first, then the summary recording their sha256, as one unit."""
    staged: dict[str, Path] = {}

    def remember(name: str, write: Callable[[Path], None]) -> Callable[[Path], None]:
        def run(tmp: Path) -> None:
            write(tmp)
            staged[name] = tmp

        return run

    def write_summary(tmp: Path) -> None:
        summary["outputs"] = {
            name: {"sha256": sha256_file(staged[name])} for name in ("scores", "rejects")
        }
        write_json(summary, tmp)

    write_together(
        {
            paths["scores"]: remember(
                "scores", _frame_writer(result.scores, paths["scores"].suffix.lower())
            ),
            paths["rejects"]: remember("rejects", _csv(result.rejects)),
            paths["summary"]: write_summary,
        }
    )
