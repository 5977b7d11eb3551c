"""Chunks of whole customers, and scoring one chunk: features, predictions, reasons, drift counts.

Features are per customer, so the result does not depend on the chunking.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from winback.models import WinbackModel
from winback.monitoring import bin_counts
from winback.scoring._config import ScoringConfig
from winback.scoring._reasons import churn_reasons

__all__ = ["Chunk", "iter_chunks", "n_chunks", "score_chunk"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Chunk:
    ids: pd.Index
    orders: pd.DataFrame
    events: pd.DataFrame | None
    customers: pd.DataFrame | None


def n_chunks(n: int, size: int) -> int:
    return max(1, -(-n // size))


def iter_chunks(
    population: pd.Index,
    orders: pd.DataFrame,
    events: pd.DataFrame | None,
    customers: pd.DataFrame | None,
    day: pd.Timestamp,
    size: int,
) -> Iterator[Chunk]:
    """Yield the rows of each run of ``size`` customers of the (sorted) population.

    Orders and events dated after ``day`` are left out; nothing is copied but one chunk's rows.
    """
    n = n_chunks(len(population), size)
    bound = day + pd.Timedelta(days=1)
    tables = {
        "orders": (orders, "order_ts"),
        "events": (events, "event_ts"),
        "customers": (customers, None),
    }
    split = {
        name: _split(frame, population, size, n, stamp=stamp, bound=bound)
        for name, (frame, stamp) in tables.items()
        if frame is not None
    }
    for k in range(n):
        yield Chunk(
            ids=population[k * size : (k + 1) * size],
            orders=next(split["orders"]),
            events=next(split["events"]) if "events" in split else None,
            customers=next(split["customers"]) if "customers" in split else None,
        )


def _split(
    frame: pd.DataFrame,
    population: pd.Index,
    size: int,
    n: int,
    *,
    stamp: str | None,
    bound: pd.Timestamp,
) -> Iterator[pd.DataFrame]:
    """Yield ``frame``'s rows per chunk (input order kept); rows of other customers, and rows
    whose ``stamp`` is not before ``bound``, are dropped."""
    position = population.get_indexer(frame["customer_id"])
    wanted = position >= 0
    if stamp is not None:
        wanted &= (frame[stamp] < bound).to_numpy()
    chunk = np.where(wanted, position // size, n).astype(np.int32)
    del position, wanted  # the generator lives for the whole run: keep only what it needs
    order = np.argsort(chunk, kind="stable").astype(np.int32)
    bounds = np.searchsorted(chunk[order], np.arange(n + 1))
    del chunk
    for k in range(n):
        yield frame.iloc[order[bounds[k] : bounds[k + 1]]]


def score_chunk(
    model: WinbackModel,
    chunk: Chunk,
    *,
    day: pd.Timestamp,
    keep: list[str],
    profile: Mapping[str, Any] | None,
    config: ScoringConfig,
    uplift: Any = None,
) -> tuple[pd.DataFrame, dict[str, np.ndarray] | None]:
    features = model.build_features(
        chunk.orders, cutoff=day, events=chunk.events, customers=chunk.customers
    )
    if not features.index.equals(chunk.ids):
        raise RuntimeError(
            f"winback bug: build_features returned {len(features)} customers for a chunk of "
            f"{len(chunk.ids)} customers with orders at or before {day.date()}."
        )
    part = model.predict(features).join(
        model.outlook(
            features, months=config.clv_months, annual_discount_rate=config.annual_discount_rate
        )
    )
    reasons = churn_reasons(
        features,
        model.contributions(features, task="churn", method=config.reasons_method),
        n=config.n_reasons,
    )
    if uplift is not None:  # per-customer uplift columns (see score's uplift_model)
        part = part.join(uplift.predict_uplift(features.join(part)))
    part = part.join(features[[c for c in keep if c in features.columns]]).assign(reasons=reasons)
    counts = None if not profile else bin_counts(profile, features)
    logger.info("scored %d customers", len(part))
    return part, counts
