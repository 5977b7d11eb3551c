"""Scoring from files: read through the data gate, score, write the outputs atomically."""

from __future__ import annotations

import dataclasses
import json
import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from winback.actions import (
    ActionsConfig,
)
from winback.exceptions import ConfigError, DataError
from winback.io import (
    gate_rejects,
)
from winback.models import WinbackModel, load_model
from winback.scoring._config import ScoringConfig
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
        If the summary exists but is not the JSON object `winback score` writes.
    """
    path = output_paths(scores)["summary"]
    if not path.is_file():
        return {}
    try:
        summary = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DataError(f"Score summary {path} cannot be read: {exc}") from exc
    if not isinstance(summary, dict):
        raise DataError(f"Score summary {path} is not a JSON object; rerun `winback score`.")
    return summary


def read_scores(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read a scores file written by :func:`score_files` (``.parquet`` or ``.csv``).

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
        frame = pd.read_parquet(path) if suffix == ".parquet" else pd.read_csv(path)
    except (OSError, ValueError) as exc:
        raise DataError(f"Scores file {path} cannot be read: {exc}") from exc
    if "customer_id" not in frame.columns:
        raise DataError(
            f"Scores file {path} lacks the column 'customer_id'; found {list(frame.columns)}. "
            "Is it the output of `winback score`?"
        )
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
    config: ScoringConfig | None = None,
    progress: bool | None = None,
    client: Any = None,
    uplift_model: Any = None,
) -> ScoreResult:
    """Read the inputs through the data gate, :func:`score` them and write the three outputs.

    Writes (atomically; equal inputs give byte-identical files) ``out`` (``.parquet`` or
    ``.csv``), ``<out stem>.rejects.csv`` and ``<out stem>.summary.json``
    (see :func:`output_paths`). ``columns`` maps canonical order columns to the file's names,
    e.g. ``{"customer_id": "Customer ID"}``. Other parameters as in :func:`score`.
    """
    from winback.io import read_customers, read_events, read_orders, write_frame, write_json

    paths = output_paths(out)
    model = model if isinstance(model, WinbackModel) else load_model(model)
    order_frame, rejected = read_orders(orders, columns=dict(columns) if columns else None)
    id_column = (columns or {}).get("customer_id", "customer_id")
    gate = [gate_rejects(rejected, table="orders", id_column=id_column)]
    event_frame = customer_frame = None
    if events is not None:
        event_frame, rejected = read_events(events)
        gate.append(gate_rejects(rejected, table="events", id_column="customer_id"))
    if customers is not None:
        customer_frame, rejected = read_customers(customers)
        gate.append(gate_rejects(rejected, table="customers", id_column="customer_id"))
    result = score(
        model,
        order_frame,
        as_of=as_of,
        events=event_frame,
        customers=customer_frame,
        actions=actions,
        data_rejects=pd.concat(gate, ignore_index=True),
        config=config,
        progress=progress,
        client=client,
        uplift_model=uplift_model,
    )
    write_frame(result.scores, paths["scores"])
    write_frame(result.rejects, paths["rejects"])
    write_json(result.summary, paths["summary"])
    return dataclasses.replace(result, paths=paths)
