"""Scoring a dataset bucketed by customer, each bucket read and scored where it runs.

Each bucket (a hash bucket of whole customers, see :func:`winback.io.partition_dataset`, or a
database table's hash bucket) is one task: it reads its own orders, events and customers
through the data gate, scores its customers in chunks with the code of a local run
(:func:`~winback.scoring._chunks.score_chunk`) and sends back only per-customer scores, its
rejected customers, its input customers, the data gate's rejected rows, drift histogram counts
and the orders' date span. The driver never holds the orders: the population-wide steps (tiers,
segments, allocation, drift, reconciliation) run on those, exactly as in a local run, so the
outputs are identical.

The as-of day is checked against the orders' date span (an aggregate of the buckets') when the
buckets are back, before anything is assembled or written.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from winback.actions import ActionsConfig, SegmentTable
from winback.exceptions import DataError
from winback.io import (
    BucketedDataset,
    DataSource,
    gate_rejects,
    purchase_mask,
    read_customers,
    read_events,
    read_orders,
)
from winback.models import WinbackModel
from winback.monitoring import add_counts
from winback.progress import progress_bar
from winback.scoring._chunks import iter_chunks, score_chunk
from winback.scoring._config import ScoringConfig
from winback.scoring._inputs import (
    as_of_day,
    campaign_config,
    check_campaign,
    missing_tables,
    nobody_message,
)
from winback.scoring._rejects import input_customers, rejected_customers
from winback.scoring._score import (
    RunSettings,
    ScoreResult,
    feature_columns,
    finish_run,
    keep_columns,
)

__all__ = ["BucketResult", "score_bucket", "score_buckets"]

logger = logging.getLogger(__name__)

_READERS = {"orders": read_orders, "events": read_events, "customers": read_customers}


@dataclass(frozen=True)
class BucketResult:
    """What one bucket sends back: small, per-customer or aggregate data only."""

    scored: pd.DataFrame  # per scored customer (index customer_id), sorted
    rejects: pd.DataFrame  # REJECT_COLUMNS
    inputs: pd.Index  # input customers
    gate: pd.DataFrame  # the data gate's rejected rows (table, row, customer_id, reason)
    counts: dict[str, np.ndarray] | None  # drift histogram counts
    span: tuple[pd.Timestamp, pd.Timestamp] | None  # first and last order_ts
    line_items: tuple[int, int, int] | None  # lines, orders, cancellations
    feature_columns: tuple[str, ...]


def score_bucket(
    model: WinbackModel,
    sources: dict[str, DataSource | None],
    *,
    day: pd.Timestamp,
    keep: list[str],
    config: ScoringConfig,
    read: dict[str, Any],
    columns: dict[str, str] | None = None,
    uplift: Any = None,
) -> BucketResult:
    """Read one bucket through the data gate and score its customers (see the module)."""
    frames, gate, line_items = _read_bucket(sources, read, columns)
    orders = frames["orders"]
    if orders is None:  # no order in this bucket: its events/customers are rejects
        return _without_orders(frames, gate)
    events, customers = frames["events"], frames["customers"]
    stamps = orders["order_ts"]
    known = (stamps < day + pd.Timedelta(days=1)).to_numpy()
    bought = known & purchase_mask(orders)
    population = pd.Index(orders["customer_id"][bought].unique()).sort_values()
    parts, counts, names = [], None, ()
    profile = model.metadata.get("feature_profile")
    for chunk in iter_chunks(population, orders, events, customers, day, config.chunk_size):
        part, chunk_counts = score_chunk(
            model, chunk, day=day, keep=keep, profile=profile, config=config, uplift=uplift
        )
        parts.append(part)
        if chunk_counts is not None:
            counts = add_counts(counts, chunk_counts)
    if len(population):
        names = tuple(feature_columns(model, population[0], orders, events, customers, day))
    scored = pd.concat(parts) if parts else pd.DataFrame()
    scored.index = population
    return BucketResult(
        scored=scored,
        rejects=rejected_customers(
            population, orders, events, customers, gate, known=known, bought=bought
        ),
        inputs=input_customers(orders, events, customers, gate),
        gate=gate,
        counts=counts,
        span=(stamps.min(), stamps.max()) if len(stamps) else None,
        line_items=line_items,
        feature_columns=names,
    )


def _read_bucket(
    sources: dict[str, DataSource | None], read: dict[str, Any], columns: dict[str, str] | None
) -> tuple[dict[str, pd.DataFrame | None], pd.DataFrame, tuple[int, int, int] | None]:
    frames: dict[str, pd.DataFrame | None] = {}
    gates, line_items = [], None
    for name, source in sources.items():
        frames[name] = None
        if source is None:
            continue
        raw = source.read()
        mapping = columns if name == "orders" else None
        if not len(raw):
            frames[name] = _empty_table(name, source, read, mapping) if name != "orders" else None
            continue
        table = _READERS[name](raw, name=source.label, columns=mapping, **read)
        id_column = (mapping or {}).get("customer_id", "customer_id")
        gates.append(gate_rejects(table.rejects, table=name, id_column=id_column))
        frames[name] = table.data
        if name == "orders" and table.line_items is not None:
            items = table.line_items
            line_items = (items.lines, items.orders, items.cancellations)
    gate = (
        pd.concat(gates, ignore_index=True)
        if gates
        else gate_rejects(pd.DataFrame({"row": [], "reason": []}), table="orders", id_column="x")
    )
    return frames, gate, line_items


def _empty_table(
    name: str, source: DataSource, read: dict[str, Any], mapping: dict[str, str] | None
) -> pd.DataFrame:
    """A table with no rows in this bucket, with the columns and types the gate gives the
    table's other buckets (read from the first bucket that has rows)."""
    for other in _siblings(source):
        raw = other.read()
        if len(raw):
            return _READERS[name](raw, columns=mapping, **read).data.iloc[:0]
    raise DataError(f"Cannot use {source.label!r}: no bucket holds any row.")


def _siblings(source: Any) -> Iterator[DataSource]:
    """The other buckets of ``source``'s table (a partitioned folder's or a database's)."""
    if isinstance(source, BucketedDataset):
        yield from source.buckets()
    else:
        yield from source.buckets(source.bucket.count, column=source.bucket.column)


def _without_orders(frames: dict[str, pd.DataFrame | None], gate: pd.DataFrame) -> BucketResult:
    """A bucket without orders: every customer in it is rejected (nobody scored). Its ids keep
    the type the other tables give them (the orders' type is unknown here)."""
    tables = [f for f in (frames["events"], frames["customers"]) if f is not None]
    kind = tables[0]["customer_id"].dtype if tables else np.dtype("int64")
    orders = pd.DataFrame(
        {
            "customer_id": pd.Series([], dtype=kind),
            "order_ts": pd.Series([], dtype="M8[ns]"),
            "amount": pd.Series([], dtype="float64"),
        }
    )
    empty = pd.Index([], dtype=kind)
    none = np.zeros(0, dtype=bool)
    events, customers = frames["events"], frames["customers"]
    return BucketResult(
        scored=pd.DataFrame(),
        rejects=rejected_customers(empty, orders, events, customers, gate, known=none, bought=none),
        inputs=input_customers(orders, events, customers, gate),
        gate=gate,
        counts=None,
        span=None,
        line_items=None,
        feature_columns=(),
    )


def score_buckets(
    model: WinbackModel,
    buckets: list[dict[str, DataSource | None]],
    *,
    as_of: Any,
    actions: ActionsConfig | Any = None,
    segment_table: SegmentTable | None = None,
    config: ScoringConfig | None = None,
    progress: bool | None = None,
    client: Any = None,
    allow_missing: Iterable[str] = (),
    date_format: str | None = None,
    encoding: str = "utf-8",
    columns: dict[str, str] | None = None,
    uplift_model: Any = None,
) -> tuple[ScoreResult, dict[str, int] | None]:
    """Score every bucket (on ``client``'s workers, or here one after the other) and run the
    population-wide steps on what they send back; also return the orders' line-item counts.

    Parameters and errors as :func:`winback.scoring.score`, the frames replaced by
    ``buckets`` (per bucket, the source of each table, see :func:`winback.io.split_buckets`).
    """
    config = config or ScoringConfig()
    campaign = campaign_config(actions)
    given = buckets[0]
    missing = missing_tables(
        model,
        events=_given(given["events"]),
        customers=_given(given["customers"]),
        allow_missing=allow_missing,
    )
    day = as_of_day(as_of, date_format=date_format)  # checked against the data below
    uplift_columns = () if uplift_model is None else tuple(uplift_model.columns)
    keep = keep_columns(campaign, uplift_columns)
    kwargs = {
        "day": day,
        "keep": keep,
        "config": config,
        "read": {"encoding": encoding, "date_format": date_format},
        "columns": columns,
        "uplift": uplift_model,
    }
    results = list(
        progress_bar(
            _run(client, model, buckets, kwargs),
            total=len(buckets),
            desc="scoring buckets",
            unit="bucket",
            disable=None if progress is None else not progress,
        )
    )
    run = RunSettings(model, day, keep, config, campaign, segment_table, missing, uplift_columns)
    return _assemble(results, run, as_of=as_of, date_format=date_format)


def _given(source: DataSource | None) -> pd.DataFrame | None:
    """A stand-in frame for "the table was given" (missing_tables only tests for None)."""
    return None if source is None else pd.DataFrame()


def _run(
    client: Any, model: WinbackModel, buckets: list[dict[str, Any]], kwargs: dict[str, Any]
) -> Iterator[BucketResult]:
    """Each bucket's result, in bucket order."""
    if client is None:
        for sources in buckets:
            yield score_bucket(model, sources, **kwargs)
        return
    shared = client.scatter(model, broadcast=True)
    futures = [
        client.submit(score_bucket, shared, sources, **kwargs, pure=False, key=f"bucket-{i}")
        for i, sources in enumerate(buckets)
    ]
    for future in futures:
        yield future.result()
        future.release()


def _same_id_type(results: list[BucketResult]) -> list[BucketResult]:
    """When some bucket's ids are text (``"00123"``), every bucket's as text: the data gate
    reads a column of integer and non-integer ids as text, as it would the whole table."""
    if all(pd.api.types.is_integer_dtype(r.inputs.dtype) for r in results):
        return results

    def text(index: pd.Index) -> pd.Index:
        return index.astype("str") if pd.api.types.is_integer_dtype(index.dtype) else index

    return [
        dataclasses.replace(
            r,
            scored=r.scored.set_axis(text(r.scored.index)),
            rejects=r.rejects.assign(customer_id=text(pd.Index(r.rejects["customer_id"]))),
            inputs=text(r.inputs),
        )
        for r in results
    ]


def _assemble(
    results: list[BucketResult], run: RunSettings, *, as_of: Any, date_format: str | None
) -> tuple[ScoreResult, dict[str, int] | None]:
    spans = [r.span for r in results if r.span is not None]
    stamps = pd.Series([min(s[0] for s in spans), max(s[1] for s in spans)] if spans else [])
    horizon = max(run.model.horizons.values(), default=0)
    as_of_day(as_of, orders_ts=stamps, horizon_days=horizon, date_format=date_format)
    if not any(len(r.scored) for r in results):
        raise DataError(nobody_message(stamps, run.day))
    if run.campaign is not None:
        names = next(r.feature_columns for r in results if r.feature_columns)
        check_campaign(run.campaign, [*names, *run.uplift_columns], run.segment_table)
    results[:] = _same_id_type(results)  # in place: the caller's list is cleared below
    counts = None
    for r in results:
        if r.counts is not None:
            counts = add_counts(counts, r.counts)
    rejects = pd.concat([r.rejects for r in results], ignore_index=True)
    rejects = rejects.sort_values("customer_id", kind="stable").reset_index(drop=True)
    gate = pd.concat([r.gate for r in results], ignore_index=True)
    inputs = pd.Index(np.concatenate([r.inputs.to_numpy() for r in results]))
    items = [r.line_items for r in results if r.line_items is not None]
    scored = [r.scored for r in results if len(r.scored)]
    results.clear()  # the buckets' scores live on in ``scored`` only, then in ``frame`` only
    frame = pd.concat(scored)
    scored.clear()
    frame = frame.iloc[np.argsort(frame.index.to_numpy(), kind="stable")]
    result = finish_run([frame], frame.index, counts, rejects, inputs, gate, run)
    line_items = (
        None
        if not items
        else dict(
            zip(("lines", "orders", "cancellations"), np.sum(items, axis=0).tolist(), strict=True)
        )
    )
    return result, line_items
