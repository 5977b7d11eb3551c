"""Batch scoring: every customer's churn and repurchase probability, value, tiers, segment,
reasons and (optionally) campaign action, with the customers that could not be scored and why.

The run is split into chunks of whole customers (features are per customer, so the result does
not depend on the chunking, and chunks can be scored on a Dask cluster's workers);
population-wide steps -- RFM segments, quantile value tiers, the budgeted allocation and drift --
run on the assembled population. The run ends by reconciling:
every input customer is either scored or rejected, never both, never neither.
"""

from __future__ import annotations

import collections
import functools
import logging
import os
import warnings
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from winback.actions import (
    ActionsConfig,
    SegmentTable,
    allocate_actions,
    assign_tiers,
    load_actions_config,
    rfm_segments,
    rule_fields,
)
from winback.exceptions import ConfigError, DataError, DriftWarning
from winback.features._time import cutoff_day, day_to_timestamp
from winback.models import WinbackModel, load_model
from winback.scoring._config import ScoringConfig
from winback.scoring._drift import add_counts, bin_counts, drifted, stability_from_counts
from winback.scoring._reasons import churn_reasons

__all__ = [
    "ACTION_COLUMNS",
    "REJECT_COLUMNS",
    "SCORE_COLUMNS",
    "ScoreResult",
    "gate_rejects",
    "model_version",
    "output_paths",
    "read_scores",
    "reconcile",
    "score",
    "score_files",
]

logger = logging.getLogger(__name__)

#: Columns of the scores frame, in order (``ACTION_COLUMNS`` follow with ``actions=``).
SCORE_COLUMNS = (
    "customer_id",
    "p_repurchase",
    "p_churn",
    "expected_spend",
    "expected_value",
    "risk_tier",
    "value_tier",
    "segment",
    "recency_days",
    "n_orders",
    "monetary_total",
    "reasons",
    "model",
    "model_version",
    "as_of",
)
ACTION_COLUMNS = ("action", "offer", "channel", "expected_gain", "cost", "group")
REJECT_COLUMNS = ("customer_id", "reason")
TIERS = ("low", "medium", "high")

NO_ORDER_BY_AS_OF = "no order at or before as-of"
# (priority, reason) of a customer that is not scored; the lowest priority number is reported
_REASONS = {
    "after_as_of": (0, NO_ORDER_BY_AS_OF),
    "orders_rejected": (1, "every order row rejected by the data gate"),
    "customers_only": (2, "in the customers table but has no orders"),
    "events_only": (3, "has events but no orders"),
    "rejected_elsewhere": (4, "only in rows rejected by the data gate"),
}
# the RFM inputs of the segment, as named in the scores (rfm_segments' defaults) <- feature
_RFM = {
    "recency_days": "days_since_last_order",
    "n_orders": "n_orders",
    "monetary_total": "monetary_total",
}


@dataclass(frozen=True)
class ScoreResult:
    """What a scoring run produced.

    Attributes
    ----------
    scores : DataFrame
        One row per scored customer, sorted by ``customer_id``, columns :data:`SCORE_COLUMNS`
        (plus ``action``, ``offer``, ``channel``, ``expected_gain``, ``cost``, ``group`` when
        actions were allocated); see :func:`score`.
    rejects : DataFrame
        One row per input customer that was not scored: ``customer_id``, ``reason``, sorted by
        ``customer_id``.
    summary : dict
        JSON-ready counts: the reconciliation, the data gate's rejected rows, tiers, segments,
        actions and drift.
    """

    scores: pd.DataFrame
    rejects: pd.DataFrame
    summary: dict[str, Any]


def score(
    model: WinbackModel | str | os.PathLike[str],
    orders: pd.DataFrame,
    *,
    as_of: Any,
    events: pd.DataFrame | None = None,
    customers: pd.DataFrame | None = None,
    actions: ActionsConfig | str | os.PathLike[str] | None = None,
    segment_table: SegmentTable | None = None,
    data_rejects: pd.DataFrame | None = None,
    config: ScoringConfig | None = None,
    progress: bool | None = None,
    client: Any = None,
) -> ScoreResult:
    """Score every customer with an order at or before ``as_of``.

    Parameters
    ----------
    model : WinbackModel or path
        A loaded model or the folder of a bundle (loaded with its hash check).
    orders, events, customers : DataFrame
        Validated frames (the data contract; read them with :mod:`winback.io`). Rows after
        ``as_of`` are ignored; a customer whose orders are all after it is rejected with
        ``"no order at or before as-of"``.
    as_of : date-like
        The calendar day the scores are as of (midnight); required, never taken from the data.
    actions : ActionsConfig or path, optional
        A campaign (``configs/actions.yaml``); adds the allocation columns.
    segment_table : SegmentTable, optional
        RFM segment rules; :data:`winback.actions.DEFAULT_SEGMENT_TABLE` when None.
    data_rejects : DataFrame, optional
        Rows the data gate set aside, as ``table``, ``customer_id`` (NA when unreadable) and
        ``reason`` (see :func:`gate_rejects`): their customers count as input customers.
    config : ScoringConfig, optional
        Tier cut points, margin, chunk size, drift threshold.
    progress : bool, optional
        Show a progress bar over the chunks; None shows it on a terminal only.
    client : distributed.Client, optional
        Score the chunks on this Dask cluster's workers (the model is sent to each worker once;
        at most two chunks per worker are in flight). The population-wide steps (segments, value
        tiers, allocation, drift, rejects) stay here. The result is identical to a local run.

    Returns
    -------
    ScoreResult
        ``scores`` with, per customer: ``customer_id``; ``p_repurchase`` (P(an order within the
        repurchase horizon)), ``p_churn`` (P(no order within the churn horizon)),
        ``expected_spend`` (spend over the churn horizon), ``expected_value`` (= expected_spend,
        times ``config.margin`` when set); ``risk_tier`` (on ``p_churn``) and ``value_tier`` (on
        ``expected_value``), each low/medium/high; ``segment`` (named RFM segment from
        ``recency_days``, ``n_orders``, ``monetary_total``, also in the output); ``reasons``
        (up to three churn drivers, strongest first, joined by ``" | "``); ``model``,
        ``model_version`` and ``as_of`` (ISO date); with ``actions``: ``action``, ``offer``,
        ``channel``, ``expected_gain``, ``cost``, ``group`` (treatment/control/none).

    Raises
    ------
    ConfigError
        If ``as_of`` is not a calendar date, or the actions config is invalid.
    DataError
        If a frame lacks a required column.

    Warns
    -----
    DriftWarning
        When features drifted beyond ``config.drift_threshold`` from the training population.
    """
    config = config or ScoringConfig()
    model = model if isinstance(model, WinbackModel) else load_model(model)
    campaign = _campaign(actions)
    day = _as_of(as_of)
    orders_ts = _column(orders, "order_ts", "orders")
    ids = _column(orders, "customer_id", "orders")
    known = orders_ts < day + pd.Timedelta(days=1)
    population = pd.Index(ids[known].unique()).sort_values()
    if population.empty:
        raise DataError(_nobody_message(orders_ts, day))
    keep = sorted({*_RFM.values(), *(_campaign_fields(campaign) - set(SCORE_COLUMNS))})
    parts, counts = [], None
    profile = model.metadata.get("feature_profile")
    chunks = _chunks(population, orders, events, customers, day, config.chunk_size)
    score_chunk = functools.partial(
        _score_chunk, day=day, keep=keep, profile=profile, config=config
    )
    results = (
        (score_chunk(model, chunk) for chunk in chunks)
        if client is None
        else _score_on_cluster(client, score_chunk, model, chunks)
    )
    for part, chunk_counts in tqdm(
        results,
        total=_n_chunks(len(population), config.chunk_size),
        desc="scoring",
        unit="chunk",
        disable=None if progress is None else not progress,
    ):
        parts.append(part)
        if chunk_counts is not None:
            counts = add_counts(counts, chunk_counts)
    scored = _assemble(parts, population, keep, model, day, config, segment_table)
    if campaign is not None:
        scored = _allocate(scored, campaign, keep)
    rejects = _rejects(population, orders, events, customers, data_rejects, known)
    drift = _drift(profile, counts, config.drift_threshold)
    summary = _summary(
        scored, rejects, population, orders, events, customers, data_rejects, drift, model, day
    )
    if campaign is not None:
        summary["actions"].update(campaign_id=campaign.campaign_id, budget=campaign.budget)
    scores = scored.drop(columns=[c for c in keep if c not in SCORE_COLUMNS])
    return ScoreResult(scores.reset_index(drop=True), rejects, summary)


# ----------------------------------------------------------------------------- inputs


def _as_of(value: Any) -> pd.Timestamp:
    """The scoring day as a midnight Timestamp (the features' cutoff rules, named ``as_of``)."""
    return day_to_timestamp(cutoff_day(value, name="as_of"))


def _nobody_message(orders_ts: pd.Series, day: pd.Timestamp) -> str:
    span = (
        "the orders are empty"
        if orders_ts.empty
        else (f"the orders run from {orders_ts.min().date()} to {orders_ts.max().date()}")
    )
    return (
        f"No customer has an order at or before as-of {day.date()}: {span}. Pass an as-of "
        "date within the orders' span."
    )


def _column(frame: pd.DataFrame, column: str, table: str) -> pd.Series:
    if column not in frame.columns:
        raise DataError(
            f"{table} lacks the column {column!r}; found {list(frame.columns)}. Read the "
            f"{table} through winback.io (read_{table}) to get the validated columns."
        )
    return frame[column]


def _campaign(actions: ActionsConfig | str | os.PathLike[str] | None) -> ActionsConfig | None:
    if actions is None or isinstance(actions, ActionsConfig):
        return actions
    return load_actions_config(actions)


def _campaign_fields(campaign: ActionsConfig | None) -> set[str]:
    """Columns the campaign's conditions read (none without a campaign)."""
    return set(rule_fields(campaign)) if campaign is not None else set()


# ----------------------------------------------------------------------------- chunks


@dataclass(frozen=True)
class _Chunk:
    ids: pd.Index
    orders: pd.DataFrame
    events: pd.DataFrame | None
    customers: pd.DataFrame | None


def _n_chunks(n: int, size: int) -> int:
    return max(1, -(-n // size))


def _chunks(
    population: pd.Index,
    orders: pd.DataFrame,
    events: pd.DataFrame | None,
    customers: pd.DataFrame | None,
    day: pd.Timestamp,
    size: int,
) -> Iterator[_Chunk]:
    """Yield the rows of each run of ``size`` customers of the (sorted) population.

    Orders and events dated after ``day`` are left out; nothing is copied but one chunk's rows.
    """
    n = _n_chunks(len(population), size)
    bound = day + pd.Timedelta(days=1)
    tables = {
        "orders": (orders, "order_ts"),
        "events": (events, "event_ts"),
        "customers": (customers, None),
    }
    split = {
        name: _split(frame, population, size, n, table=name, stamp=stamp, bound=bound)
        for name, (frame, stamp) in tables.items()
        if frame is not None
    }
    for k in range(n):
        yield _Chunk(
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
    table: str,
    stamp: str | None,
    bound: pd.Timestamp,
) -> Iterator[pd.DataFrame]:
    """Yield ``frame``'s rows per chunk (input order kept); rows of other customers, and rows
    whose ``stamp`` is not before ``bound``, are dropped."""
    position = population.get_indexer(_column(frame, "customer_id", table))
    wanted = position >= 0
    if stamp is not None:
        wanted &= (_column(frame, stamp, table) < bound).to_numpy()
    chunk = np.where(wanted, position // size, n).astype(np.int32)
    del position, wanted  # the generator lives for the whole run: keep only what it needs
    order = np.argsort(chunk, kind="stable").astype(np.int32)
    bounds = np.searchsorted(chunk[order], np.arange(n + 1))
    del chunk
    for k in range(n):
        yield frame.iloc[order[bounds[k] : bounds[k + 1]]]


def _score_on_cluster(
    client: Any,
    score_chunk: Callable[[WinbackModel, _Chunk], tuple[pd.DataFrame, Any]],
    model: WinbackModel,
    chunks: Iterator[_Chunk],
) -> Iterator[tuple[pd.DataFrame, Any]]:
    """Yield ``score_chunk(model, chunk)`` per chunk, in order, computed on ``client``'s workers.

    The model is broadcast once; chunks are submitted as results come back, at most two per
    worker at a time, so the driver never holds more than that many chunks besides its inputs.
    """
    shared = client.scatter(model, broadcast=True)
    window = 2 * max(len(client.scheduler_info().get("workers", {})), 1)
    pending: collections.deque = collections.deque()
    for chunk in chunks:
        pending.append(client.submit(score_chunk, shared, chunk, pure=False))
        if len(pending) >= window:
            yield pending.popleft().result()
    while pending:
        yield pending.popleft().result()


def _score_chunk(
    model: WinbackModel,
    chunk: _Chunk,
    *,
    day: pd.Timestamp,
    keep: list[str],
    profile: Mapping[str, Any] | None,
    config: ScoringConfig,
) -> tuple[pd.DataFrame, dict[str, np.ndarray] | None]:
    features = model.build_features(
        chunk.orders, cutoff=day, events=chunk.events, customers=chunk.customers
    )
    if not features.index.equals(chunk.ids):
        raise RuntimeError(
            f"winback bug: build_features returned {len(features)} customers for a chunk of "
            f"{len(chunk.ids)} customers with orders at or before {day.date()}."
        )
    part = model.predict(features)
    reasons = churn_reasons(
        features,
        model.contributions(features, task="churn", method=config.reasons_method),
        n=config.n_reasons,
    )
    part = part.join(features[[c for c in keep if c in features.columns]]).assign(reasons=reasons)
    counts = None if not profile else bin_counts(profile, features)
    logger.info("scored %d customers", len(part))
    return part, counts


# ----------------------------------------------------------------------------- population


def _assemble(
    parts: list[pd.DataFrame],
    population: pd.Index,
    keep: list[str],
    model: WinbackModel,
    day: pd.Timestamp,
    config: ScoringConfig,
    segment_table: SegmentTable | None,
) -> pd.DataFrame:
    frame = pd.concat(parts)
    frame.index = population
    frame = frame.rename_axis("customer_id").reset_index()
    for name, feature in _RFM.items():
        frame[name] = frame[feature]
    margin = 1.0 if config.margin is None else config.margin
    frame["expected_value"] = frame["expected_spend"].astype(float) * margin
    frame["risk_tier"] = assign_tiers(
        frame["p_churn"].astype(float), cuts=config.risk_cuts, labels=TIERS, by="value"
    )
    frame["value_tier"] = assign_tiers(
        frame["expected_value"], cuts=config.value_cuts, labels=TIERS, by=config.value_tiers_by
    )
    segmented = rfm_segments(frame[list(_RFM)].astype(float), table=segment_table)
    frame["segment"] = segmented["segment"]
    frame["reasons"] = frame["reasons"].astype("str")
    frame["model"] = model.name
    frame["model_version"] = model_version(model)
    frame["as_of"] = day.date().isoformat()
    extra = [c for c in keep if c not in SCORE_COLUMNS]
    return frame[[*SCORE_COLUMNS, *extra]]


def model_version(model: WinbackModel) -> str:
    """The model's version: ``metadata["version"]`` when the bundle records one, else
    ``<date the BTYD part was fitted>-<first 8 hex digits of the training data's fingerprint>``."""
    meta = model.metadata
    if meta.get("version"):
        return str(meta["version"])
    fitted = meta.get("btyd_fitted_at", "unknown")
    data = str(meta.get("data", {}).get("fingerprint", ""))[:8] or "unknown"
    return f"{fitted}-{data}"


def _allocate(scored: pd.DataFrame, campaign: ActionsConfig, keep: list[str]) -> pd.DataFrame:
    allocated = allocate_actions(scored, campaign)
    return allocated[
        [*SCORE_COLUMNS, *ACTION_COLUMNS, *(c for c in keep if c not in SCORE_COLUMNS)]
    ]


# ----------------------------------------------------------------------------- rejects


def _ids(frame: pd.DataFrame | None, like: pd.Series) -> pd.Series:
    if frame is None or len(frame) == 0:
        return pd.Series([], dtype=like.dtype)
    return _as_id_dtype(frame["customer_id"], like)


def _as_id_dtype(ids: pd.Series, like: pd.Series) -> pd.Series:
    """``ids`` converted to the orders' id dtype where possible (NA where not)."""
    ids = ids.dropna()
    if ids.dtype == like.dtype:
        return ids
    if pd.api.types.is_integer_dtype(like.dtype):
        numbers = pd.to_numeric(ids.astype("str").str.strip(), errors="coerce")
        whole = numbers.notna() & (numbers == numbers.round())
        return numbers[whole].astype(like.dtype)
    return ids.astype("str").str.strip()


def _rejects(
    population: pd.Index,
    orders: pd.DataFrame,
    events: pd.DataFrame | None,
    customers: pd.DataFrame | None,
    data_rejects: pd.DataFrame | None,
    known: pd.Series,
) -> pd.DataFrame:
    """One row per input customer not in ``population``, with the most telling reason."""
    like = orders["customer_id"]
    candidates = [
        _candidates(_unscored(orders.loc[~known, "customer_id"], population), "after_as_of"),
        _candidates(_unscored(_ids(customers, like), population), "customers_only"),
        _candidates(_unscored(_ids(events, like), population), "events_only"),
    ]
    if data_rejects is not None and len(data_rejects):
        ids = _as_id_dtype(data_rejects["customer_id"], like)
        gate = data_rejects.loc[ids.index].assign(customer_id=ids)
        in_orders = gate["table"] == "orders"
        rows, other = gate.loc[in_orders], gate.loc[~in_orders]
        candidates += [
            _candidates(rows["customer_id"], "orders_rejected", detail=rows["reason"]),
            _candidates(
                other["customer_id"],
                "rejected_elsewhere",
                detail=other["table"].astype("str") + ": " + other["reason"].astype("str"),
            ),
        ]
    frame = pd.concat(candidates, ignore_index=True)
    frame = frame.loc[~frame["customer_id"].isin(population)]
    frame = frame.sort_values(["customer_id", "priority"], kind="stable")
    frame = frame.drop_duplicates("customer_id", keep="first")
    return frame[list(REJECT_COLUMNS)].reset_index(drop=True)


def _unscored(ids: pd.Series, population: pd.Index) -> pd.Series:
    """The distinct ``ids`` not in ``population`` (before any per-row text is built)."""
    distinct = pd.Series(pd.unique(ids.to_numpy()), dtype=ids.dtype)
    return distinct.loc[~distinct.isin(population)].reset_index(drop=True)


def _candidates(ids: pd.Series, key: str, *, detail: pd.Series | None = None) -> pd.DataFrame:
    """Customers ``ids`` with the reason ``key`` (and a per-row ``detail`` in parentheses)."""
    priority, reason = _REASONS[key]
    text = pd.Series(reason, index=ids.index, dtype="str")
    if detail is not None:
        text = text + " (" + detail.astype("str") + ")"
    return pd.DataFrame(
        {"customer_id": ids.to_numpy(), "priority": priority, "reason": text.to_numpy()}
    )


# ----------------------------------------------------------------------------- summary


def _drift(
    profile: Mapping[str, Any] | None, counts: dict[str, np.ndarray] | None, threshold: float
) -> dict[str, Any]:
    if not profile:
        return {
            "computed": False,
            "reason": "the model bundle has no feature_profile in its metadata (it was trained "
            "before winback recorded one); retrain the model to enable drift checks",
        }
    if counts is None:
        return {"computed": False, "reason": "no customer was scored"}
    psi = stability_from_counts(profile, counts)
    names = drifted(psi, threshold=threshold)
    if names:
        shown = ", ".join(f"{n} (PSI {psi[n]:.2f})" for n in names)
        warnings.warn(
            f"{len(names)} features drifted beyond PSI {threshold} from the training "
            f"population: {shown}. Check the input data; retrain if the shift is real.",
            DriftWarning,
            stacklevel=3,
        )
    return {
        "computed": True,
        "threshold": threshold,
        "drifted": names,
        "psi": {name: round(float(v), 6) for name, v in psi.items()},
    }


def _counts(series: pd.Series) -> dict[str, int]:
    return {str(k): int(v) for k, v in series.value_counts(sort=False).sort_index().items()}


def _summary(
    scored: pd.DataFrame,
    rejects: pd.DataFrame,
    population: pd.Index,
    orders: pd.DataFrame,
    events: pd.DataFrame | None,
    customers: pd.DataFrame | None,
    data_rejects: pd.DataFrame | None,
    drift: dict[str, Any],
    model: WinbackModel,
    day: pd.Timestamp,
) -> dict[str, Any]:
    inputs = _input_customers(orders, events, customers, data_rejects)
    reconcile(inputs, scored["customer_id"], rejects["customer_id"])
    summary: dict[str, Any] = {
        "as_of": day.date().isoformat(),
        "model": {
            "name": model.name,
            "version": model_version(model),
            "horizons_days": dict(sorted(model.horizons.items())),
        },
        "customers": {
            "input": len(inputs),
            "scored": len(scored),
            "rejected": len(rejects),
            "rejected_by_reason": _counts(rejects["reason"].str.split(" \\(", regex=True).str[0]),
        },
        "data_gate": _gate_summary(data_rejects),
        "risk_tiers": _counts(scored["risk_tier"]),
        "value_tiers": _counts(scored["value_tier"]),
        "segments": _counts(scored["segment"]),
        "expected_value_total": round(float(scored["expected_value"].sum()), 2),
        "drift": drift,
    }
    if "action" in scored.columns:
        summary["actions"] = {
            "by_action": _counts(scored["action"]),
            "by_group": _counts(scored["group"]),
            "planned_cost": round(float(scored["cost"].sum()), 2),
        }
    return summary


def _input_customers(
    orders: pd.DataFrame,
    events: pd.DataFrame | None,
    customers: pd.DataFrame | None,
    data_rejects: pd.DataFrame | None,
) -> pd.Index:
    like = orders["customer_id"]
    parts = [like, _ids(customers, like), _ids(events, like)]
    if data_rejects is not None and len(data_rejects):
        parts.append(_as_id_dtype(data_rejects["customer_id"], like))
    return pd.Index(pd.concat([p.astype(like.dtype) for p in parts]).unique())


def reconcile(inputs: pd.Index, scored: pd.Series, rejected: pd.Series) -> None:
    """Check input customers = scored + rejected (disjoint); raise RuntimeError (a bug) if not."""
    scored_ids, rejected_ids = pd.Index(scored), pd.Index(rejected)
    both = scored_ids.intersection(rejected_ids)
    lost = inputs.difference(scored_ids.union(rejected_ids))
    extra = scored_ids.union(rejected_ids).difference(inputs)
    if len(both) or len(lost) or len(extra) or len(inputs) != len(scored_ids) + len(rejected_ids):
        raise RuntimeError(
            f"winback bug: customers do not reconcile: {len(inputs)} input != {len(scored_ids)} "
            f"scored + {len(rejected_ids)} rejected (in both: {list(both[:5])}, in neither: "
            f"{list(lost[:5])}, unknown: {list(extra[:5])}). Please report this."
        )
    logger.info(
        "reconciled: %d input customers = %d scored + %d rejected",
        len(inputs),
        len(scored_ids),
        len(rejected_ids),
    )


def _gate_summary(data_rejects: pd.DataFrame | None) -> dict[str, Any]:
    if data_rejects is None or not len(data_rejects):
        return {}
    out = {}
    for table, rows in data_rejects.groupby("table", sort=True):
        kinds = rows["reason"].astype("str").str.split(":").str[0].str.split(";").str[0]
        out[str(table)] = {
            "rows_rejected": len(rows),
            "rows_without_customer_id": int(rows["customer_id"].isna().sum()),
            "by_reason": _counts(kinds),
        }
    return out


# ----------------------------------------------------------------------------- files


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


def gate_rejects(rejects: pd.DataFrame, *, table: str, id_column: str) -> pd.DataFrame:
    """Return a data gate's rejects (``row``, ``reason``, source columns) as ``table``, ``row``,
    ``customer_id`` (the raw id text, stripped; NA when empty) and ``reason``."""
    raw = (
        rejects[id_column]
        if id_column in rejects.columns
        else pd.Series(pd.NA, index=rejects.index)
    )
    ids = raw.astype("str").str.strip().replace("", pd.NA)
    frame = pd.DataFrame(
        {
            "table": table,
            "row": rejects["row"],
            "customer_id": ids.where(raw.notna()),
            "reason": rejects["reason"].astype("str"),
        }
    )
    return frame.reset_index(drop=True)


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
    )
    write_frame(result.scores, paths["scores"])
    write_frame(result.rejects, paths["rejects"])
    write_json(result.summary, paths["summary"])
    return result
