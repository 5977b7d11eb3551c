"""Training inputs: the config's data read through the data gate, and what identifies it."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from winback.datasets import load_cdnow
from winback.io import DataSource, open_source, read_customers, read_events, read_orders
from winback.training._config import TrainConfig

__all__ = ["TrainingData", "data_end", "data_metadata", "fingerprint", "load_training_data"]

_BUNDLED = ("cdnow", "cdnow_sample")


@dataclass(frozen=True)
class TrainingData:
    """Validated inputs of a training run and the rows the data gate set aside."""

    orders: pd.DataFrame
    events: pd.DataFrame | None = None
    customers: pd.DataFrame | None = None
    rejects: dict[str, pd.DataFrame] = field(default_factory=dict)


def load_training_data(config: TrainConfig, *, base_dir: Path) -> TrainingData:
    """Read the config's orders (or bundled dataset), events and customers through the data gate.

    Each is a file, a folder of Parquet files or a database URL (see :class:`DataConfig`);
    relative paths, also a relative DuckDB file, are taken relative to ``base_dir``.
    """
    data = config.data
    end = None if data.end is None else pd.Timestamp(data.end)
    read = {"date_format": data.date_format, "encoding": data.encoding}
    rejects: dict[str, pd.DataFrame] = {}
    if data.orders in _BUNDLED:
        orders = load_cdnow(sample=data.orders == "cdnow_sample")
    else:
        gated = read_orders(
            _source(config, "orders", base_dir), columns=data.columns or None, end=end, **read
        )
        gated.require_rows()
        orders, rejects["orders"] = gated
    events = customers = None
    if data.events:
        events, rejects["events"] = read_events(
            _source(config, "events", base_dir),
            columns=data.event_columns or None,
            end=end,
            **read,
        )
    if data.customers:
        customers, rejects["customers"] = read_customers(
            _source(config, "customers", base_dir), columns=data.customer_columns or None, **read
        )
    return TrainingData(orders, events, customers, rejects)


def _source(config: TrainConfig, key: str, base_dir: Path) -> Path | DataSource:
    """What ``data.<key>`` names, password included, relative to ``base_dir``."""
    return open_source(config.data.source(key), base=base_dir)


def fingerprint(orders: pd.DataFrame) -> str:
    """Return a sha256 of the orders' content (row order matters)."""
    hashed = pd.util.hash_pandas_object(orders, index=False).to_numpy()
    return hashlib.sha256(hashed.tobytes()).hexdigest()


def data_metadata(orders: pd.DataFrame, first: pd.Timestamp, end: pd.Timestamp) -> dict[str, Any]:
    return {
        "fingerprint": fingerprint(orders),
        "first_order": str(first.date()),
        "end": str(end.date()),
        "n_orders": len(orders),
        "n_customers": int(orders["customer_id"].nunique()),
    }


def data_end(config: TrainConfig, orders: pd.DataFrame) -> pd.Timestamp:
    """The data's stated end, or its last order day."""
    if config.data.end is not None:
        return pd.Timestamp(config.data.end)
    return orders["order_ts"].max().floor("D")
