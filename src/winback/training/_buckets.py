"""Training frames built where the data lives: :func:`build_training_frame` on each hash bucket of
whole customers (on a Dask cluster's workers or here), on all buckets or a sample of them.

The sample is drawn by customer, never by row: bucket ``b`` holds the customers whose id hashes to
``b`` (:func:`winback.io.bucket_of`), and ``sample=f`` keeps buckets ``0 .. ceil(f * count) - 1``.
Which customers are in does not depend on their behaviour (a hash of the id), the same ``f`` on
the same partitioning always draws the same customers, and a sampled customer comes with all of
his orders, events and profile, so his features and labels are exactly those of the full base.
The temporal holdout is untouched (the cutoffs and label windows are the caller's), so a model
trained and evaluated on the sample is evaluated as honestly as one on the full base: the
evaluation customers are a uniform random subset, scored on periods after their training
periods.

What is population-wide in :func:`build_training_frame` is computed from the buckets' aggregates
first: ``data_end`` (when not given) is the last order day of the sampled customers and unpinned
event types are those they show by the last cutoff, exactly as a local call on the same
customers would find them, so the frame equals the local frame on those customers.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from winback.dates import DateLike, cutoff_days, day_to_timestamp
from winback.exceptions import ConfigError, DataError
from winback.features import FeatureConfig, build_training_frame
from winback.io import DataSource, gate_rejects, read_customers, read_events, read_orders
from winback.io import split_buckets as io_split_buckets
from winback.validation import validated

__all__ = ["BucketFrame", "training_frame_on_buckets"]

logger = logging.getLogger(__name__)

_READERS = {"orders": read_orders, "events": read_events, "customers": read_customers}


@dataclass(frozen=True)
class BucketFrame:
    """A training frame built per bucket.

    Attributes
    ----------
    frame : DataFrame
        As :func:`winback.features.build_training_frame`: MultiIndex (``cutoff``,
        ``customer_id``) sorted, feature columns then label columns.
    rejects : DataFrame
        The data gate's rejected rows of the buckets read (``table``, ``row``, ``customer_id``,
        ``reason``; ``row`` counts within the bucket).
    buckets : list of int
        The buckets read (the sample).
    count : int
        How many buckets the data has.
    """

    frame: pd.DataFrame
    rejects: pd.DataFrame
    buckets: list[int]
    count: int


def training_frame_on_buckets(
    orders: Any,
    *,
    cutoffs: Iterable[DateLike],
    horizons_days: int | Iterable[int],
    events: Any = None,
    customers: Any = None,
    config: FeatureConfig | Mapping[str, Any] | None = None,
    data_end: DateLike | None = None,
    sample: float = 1.0,
    client: Any = None,
    buckets: int | None = None,
    read: Mapping[str, Any] | None = None,
) -> BucketFrame:
    """:func:`~winback.features.build_training_frame` on each bucket of the (sampled) customers.

    Parameters
    ----------
    orders, events, customers
        Folders written by :func:`winback.io.partition_dataset` (with equal bucket counts), or
        database sources (then split into ``buckets`` buckets by the engine's hash).
    cutoffs, horizons_days, config, data_end
        As for :func:`~winback.features.build_training_frame`.
    sample : float
        The share of customers kept, in (0, 1]: buckets ``0 .. ceil(sample * count) - 1`` (see
        the module docstring for why this keeps the evaluation honest).
    client : distributed.Client, optional
        Build each bucket's frame on this cluster's workers; here, one after the other, if None.
    read : mapping, optional
        ``encoding`` and ``date_format`` for the readers.

    Raises
    ------
    ConfigError
        If the orders are not bucketed, or ``sample`` is not in (0, 1].
    """
    if not 0 < sample <= 1:
        raise ConfigError(f"sample must be a share of the customers in (0, 1], got {sample!r}.")
    split = io_split_buckets(
        {"orders": orders, "events": events, "customers": customers},
        count=buckets,
        id_columns={},
    )
    if split is None:
        raise ConfigError(
            "training_frame_on_buckets: the orders are not bucketed by customer; write them with "
            "`winback partition` (or pass database sources and buckets=N)."
        )
    kept = list(range(max(1, math.ceil(sample * len(split)))))
    sources = [split[b] for b in kept]
    read = dict(read or {})
    last_cutoff = max(cutoff_days(cutoffs))
    aggregates = _map(client, _aggregates, sources, last_cutoff=last_cutoff, read=read)
    if data_end is None:
        ends = [a[0] for a in aggregates if a[0] is not None]
        if not ends:
            raise DataError("training_frame_on_buckets: the sampled buckets hold no orders.")
        data_end = max(ends).normalize()
    cfg = (
        config
        if isinstance(config, FeatureConfig)
        else validated(FeatureConfig, dict(config or {}), source="config", what="feature config")
    )
    if cfg.event_types is None and events is not None:
        seen = sorted(set().union(*(a[1] for a in aggregates)))
        cfg = cfg.model_copy(update={"event_types": seen})
    parts = _map(
        client,
        _bucket_frame,
        sources,
        cutoffs=list(cutoffs),
        horizons_days=horizons_days,
        config=cfg,
        data_end=data_end,
        read=read,
    )
    frames = [p[0] for p in parts if p[0] is not None]
    frame = pd.concat(frames).sort_index(kind="stable")
    rejects = pd.concat([p[1] for p in parts], ignore_index=True)
    return BucketFrame(frame=frame, rejects=rejects, buckets=kept, count=len(split))


def _map(client: Any, fn: Any, sources: list[dict[str, Any]], **kwargs: Any) -> list[Any]:
    if client is None:
        return [fn(s, **kwargs) for s in sources]
    futures = client.map(fn, sources, **kwargs, pure=False)
    return client.gather(futures)


def _gated(
    sources: dict[str, DataSource | None], read: dict[str, Any]
) -> tuple[dict[str, pd.DataFrame | None], pd.DataFrame]:
    frames: dict[str, pd.DataFrame | None] = {}
    gates = []
    for name, source in sources.items():
        frames[name] = None
        if source is None:
            continue
        raw = source.read()
        if not len(raw):
            if name != "orders":
                raise DataError(
                    f"{source.label} holds no {name} rows, so its customers' {name} features "
                    "cannot be built like the other buckets'. Partition into fewer buckets."
                )
            continue
        table = _READERS[name](raw, name=source.label, **read)
        frames[name] = table.data
        gates.append(gate_rejects(table.rejects, table=name, id_column="customer_id"))
    rejects = (
        pd.concat(gates, ignore_index=True)
        if gates
        else pd.DataFrame(columns=["table", "row", "customer_id", "reason"])
    )
    return frames, rejects


def _aggregates(
    sources: dict[str, DataSource | None], *, last_cutoff: int, read: dict[str, Any]
) -> tuple[pd.Timestamp | None, set[str]]:
    """The bucket's last order time and the event types it shows by the last cutoff."""
    frames, _ = _gated(sources, read)
    orders, events = frames["orders"], frames["events"]
    end = None if orders is None or orders.empty else orders["order_ts"].max()
    types: set[str] = set()
    if events is not None:
        bound = day_to_timestamp(last_cutoff) + pd.Timedelta(days=1)
        types = {str(t) for t in events.loc[events["event_ts"] < bound, "event_type"].dropna()}
    return end, types


def _bucket_frame(
    sources: dict[str, DataSource | None],
    *,
    cutoffs: list[Any],
    horizons_days: Any,
    config: FeatureConfig,
    data_end: Any,
    read: dict[str, Any],
) -> tuple[pd.DataFrame | None, pd.DataFrame]:
    frames, rejects = _gated(sources, read)
    if frames["orders"] is None:
        return None, rejects
    frame = build_training_frame(
        frames["orders"],
        cutoffs=cutoffs,
        horizons_days=horizons_days,
        events=frames["events"],
        customers=frames["customers"],
        config=config,
        data_end=data_end,
    )
    return frame, rejects
