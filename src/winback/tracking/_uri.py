"""Which MLflow tracking URI a training run logs to: config, then environment, then local SQLite."""

from __future__ import annotations

import contextlib
import os
import sqlite3
from pathlib import Path

from winback.exceptions import TrackingError
from winback.training import TrainConfig

__all__ = [
    "DEFAULT_TRACKING_URI",
    "TRACKING_URI_ENV",
    "check_sqlite_store",
    "resolve_tracking_uri",
    "tracking_uri",
]

DEFAULT_TRACKING_URI = "sqlite:///mlflow.db"
TRACKING_URI_ENV = "MLFLOW_TRACKING_URI"


def tracking_uri(config: TrainConfig) -> str:
    """Return the MLflow tracking URI a training run with ``config`` logs to.

    Precedence, first match wins:

    1. ``config.tracking.uri`` (the ``tracking.uri`` key of the training YAML);
    2. the ``MLFLOW_TRACKING_URI`` environment variable (ignored when empty);
    3. ``sqlite:///mlflow.db``: an embedded SQLite file in the current working directory (the
       project root when run through ``make train``); no server is needed.

    Examples
    --------
    >>> from winback.training import TrainConfig
    >>> config = TrainConfig.model_validate({
    ...     "name": "demo", "data": {"orders": "orders.csv"},
    ...     "backtest": {"evaluation_cutoff": "2024-01-31"},
    ...     "tracking": {"uri": "http://127.0.0.1:5000"},
    ... })
    >>> tracking_uri(config)
    'http://127.0.0.1:5000'
    """
    return resolve_tracking_uri(config.tracking.uri)


def resolve_tracking_uri(uri: str | None) -> str:
    """Return ``uri`` if given, else ``$MLFLOW_TRACKING_URI`` (when not empty), else
    ``sqlite:///mlflow.db``: the precedence of :func:`tracking_uri` without a config."""
    if uri:
        return uri
    return os.environ.get(TRACKING_URI_ENV, "").strip() or DEFAULT_TRACKING_URI


#: Tables every MLflow SQL tracking store has (its schema version and its experiments).
_MLFLOW_TABLES = {"alembic_version", "experiments"}


def check_sqlite_store(uri: str) -> None:
    """Refuse a ``sqlite:///`` URI whose file exists but is not an MLflow tracking store.

    MLflow would create its tables in any SQLite file it is pointed at (another program's
    database included); winback never writes into a file it did not write. A missing or empty
    file (a new store) and an existing MLflow store pass; other URIs are not checked.

    Raises
    ------
    TrackingError
        If the file is not an SQLite database, or is one without MLflow's tables.
    """
    if not uri.startswith("sqlite:///"):
        return
    path = Path(uri.removeprefix("sqlite:///").split("?")[0])
    if path.name == ":memory:" or not path.is_file() or path.stat().st_size == 0:
        return
    read_only = f"{path.resolve().as_uri()}?mode=ro"
    try:
        with contextlib.closing(sqlite3.connect(read_only, uri=True)) as db:
            rows = db.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
        what = "an SQLite database without MLflow's tables"
        tables = {str(row[0]) for row in rows}
    except sqlite3.DatabaseError:
        what, tables = "not an SQLite database", set()
    if not tables >= _MLFLOW_TABLES:
        raise TrackingError(
            f"The tracking store {path} is {what}, not an MLflow tracking store; winback never "
            "writes into a file it did not write. Point the tracking URI (tracking.uri, "
            "MLFLOW_TRACKING_URI) at a new file or an MLflow store, or train with --no-tracking."
        )
