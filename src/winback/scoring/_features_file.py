"""The features file of a model bundle: what the registered MLflow model (`mlflow models predict`)
takes as input, read from the same files as `winback score` through the same data gate."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from winback.dates import check_date_format
from winback.exceptions import ConfigError
from winback.io import read_customers, read_events, read_orders, write_frame
from winback.models import WinbackModel, load_model
from winback.scoring._inputs import OPTIONAL_TABLES, as_of_day, check_outputs

__all__ = ["FeaturesFile", "write_model_features"]


@dataclass(frozen=True)
class FeaturesFile:
    """What :func:`write_model_features` wrote: the file, its customers and feature columns."""

    path: Path
    rows: int
    columns: int


def write_model_features(
    model: WinbackModel | str | os.PathLike[str],
    orders: str | os.PathLike[str] | pd.DataFrame,
    *,
    as_of: Any,
    out: str | os.PathLike[str],
    events: str | os.PathLike[str] | pd.DataFrame | None = None,
    customers: str | os.PathLike[str] | pd.DataFrame | None = None,
    columns: Mapping[str, str] | None = None,
    event_columns: Mapping[str, str] | None = None,
    customer_columns: Mapping[str, str] | None = None,
    date_format: str | None = None,
    encoding: str = "utf-8",
) -> FeaturesFile:
    """Write the features ``model`` scores as of ``as_of``: the input of its MLflow pyfunc.

    The orders (and events, customers) go through the data gate as in :func:`score_files`; the
    frame is :meth:`WinbackModel.build_features` at the as-of day, its ``feature_names``
    columns (those of the pyfunc's signature) written atomically after ``customer_id``
    (``.csv`` or ``.parquet``), so that
    ``mlflow models predict -m models:/<name>/<version> -i features.csv -t csv`` returns
    ``customer_id, p_repurchase, p_churn, expected_spend`` per customer.

    Returns
    -------
    FeaturesFile
        The path written, the number of customers (rows) and of feature columns.

    Raises
    ------
    ConfigError
        If ``out`` is not a ``.csv``/``.parquet`` name, is an input or lies inside the bundle,
        or ``as_of`` is not a day the data can be scored on.
    DataError
        If the data gate rejects every row of a table.
    """
    out = Path(out)
    if out.suffix.lower() not in (".csv", ".parquet"):
        raise ConfigError(f"--out {out}: expected a file name ending in .csv or .parquet.")
    if date_format is not None:
        check_date_format(date_format)
    inputs = {"orders": orders, "events": events, "customers": customers, "model": model}
    check_outputs([out], inputs)
    model = model if isinstance(model, WinbackModel) else load_model(model)
    _check_tables(model, events=events, customers=customers)
    read = {"encoding": encoding, "date_format": date_format}
    gated = read_orders(orders, columns=dict(columns) if columns else None, **read)
    gated.require_rows()
    tables = {
        "events": (events, read_events, event_columns),
        "customers": (customers, read_customers, customer_columns),
    }
    frames = {}
    for name, (source, reader, mapping) in tables.items():
        if source is not None:
            table = reader(source, columns=dict(mapping) if mapping else None, **read)
            table.require_rows()
            frames[name] = table.data
    day = as_of_day(
        as_of,
        orders_ts=gated.data["order_ts"],
        horizon_days=max(model.horizons.values(), default=0),
        date_format=date_format,
    )
    features = model.build_features(gated.data, cutoff=day, **frames)[model.feature_names]
    write_frame(features.reset_index(), out)
    return FeaturesFile(out, len(features), features.shape[1])


def _check_tables(model: WinbackModel, **given: object) -> None:
    """Refuse to leave out a table the model's features read (they would all be missing)."""
    for table, prefixes in OPTIONAL_TABLES.items():
        reading = [name for name in model.feature_names if name.startswith(prefixes)]
        if reading and given[table] is None:
            raise ConfigError(
                f"The model {model.name!r} was trained with {table} (its features "
                f"{', '.join(reading[:3])} read them), but no {table} were given; pass them "
                f"(--{table} on the command line, {table}= in Python)."
            )
