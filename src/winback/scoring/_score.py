"""Batch scoring: every customer's churn and repurchase probability, value, tiers, segment,
reasons and (optionally) campaign action, with the customers that could not be scored and why.

The run is split into chunks of whole customers (scored here or on a Dask cluster's workers);
population-wide steps -- RFM segments, quantile value tiers, the budgeted allocation and drift --
run on the assembled per-customer scores. The run ends by reconciling: every input customer is
either scored or rejected, never both, never neither.
"""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from winback.actions import (
    ActionsConfig,
    SegmentTable,
    empty_action_reasons,
)
from winback.exceptions import DataError
from winback.io import check_frame, purchase_mask
from winback.models import WinbackModel, load_model
from winback.monitoring import add_counts
from winback.progress import progress_bar
from winback.scoring._chunks import iter_chunks, n_chunks, score_chunk
from winback.scoring._cluster import score_on_cluster
from winback.scoring._columns import SCORE_COLUMNS
from winback.scoring._config import ScoringConfig
from winback.scoring._inputs import (
    as_of_day,
    campaign_config,
    campaign_fields,
    check_campaign,
    missing_tables,
    nobody_message,
)
from winback.scoring._population import RFM_INPUTS, allocate, assemble
from winback.scoring._rejects import input_customers, rejected_customers
from winback.scoring._summary import drift_summary, run_summary, summary_lines

__all__ = ["ScoreResult", "feature_columns", "finish_run", "keep_columns", "score"]

logger = logging.getLogger(__name__)


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
        actions (``no_customers``: why each action that reached nobody did, see
        :func:`winback.actions.empty_action_reasons`) and drift (``message`` when features
        drifted). :attr:`lines` says the same for a person.
    paths : dict
        Where :func:`~winback.scoring.score_files` wrote ``scores``, ``rejects`` and ``summary``
        (empty when nothing was written).
    """

    scores: pd.DataFrame
    rejects: pd.DataFrame
    summary: dict[str, Any]
    paths: Mapping[str, Path] = field(default_factory=dict)

    @property
    def lines(self) -> list[str]:
        """The summary as lines for a person (what `winback score` prints)."""
        return summary_lines(self.summary)


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
    progress: bool | Callable[[int, int], None] | None = None,
    client: Any = None,
    allow_missing: Iterable[str] = (),
    date_format: str | None = None,
    uplift_model: Any = None,
) -> ScoreResult:
    """Score every customer with a purchase at or before ``as_of``.

    Parameters
    ----------
    model : WinbackModel or path
        A loaded model or the folder of a bundle (loaded with its hash check).
    orders, events, customers : DataFrame
        Validated frames (the data contract; read them with :mod:`winback.io`). Rows after
        ``as_of`` are ignored; a customer whose orders are all after it is rejected with
        ``"no order at or before as-of"``, one whose orders by then are all cancellations or
        refunds with ``"no purchase at or before as-of"``. A model trained with events or
        customers needs them (see ``allow_missing``).
    as_of : date-like
        The calendar day the scores are as of (midnight); required, never taken from the data.
        Text must be an ISO 8601 date (or follow ``date_format``); a day more than the model's
        longest horizon after the last order is refused.
    actions : ActionsConfig or path, optional
        A campaign (``configs/actions.yaml``); adds the allocation columns.
    segment_table : SegmentTable, optional
        RFM segment rules; :data:`winback.actions.DEFAULT_SEGMENT_TABLE` when None.
    data_rejects : DataFrame, optional
        Rows the data gate set aside, as ``table``, ``customer_id`` (NA when unreadable) and
        ``reason`` (see :func:`winback.io.gate_rejects`): their customers count as input customers.
    config : ScoringConfig, optional
        Tier cut points, margin, CLV horizon and discount rate, chunk size, drift threshold.
    progress : bool or callable, optional
        Show a progress bar over the chunks; None shows it on a terminal only (standard error
        is one). A callable is called as ``progress(chunks_done, chunks_total)`` after each
        chunk instead.
    client : distributed.Client, optional
        Score the chunks on this Dask cluster's workers (the model is sent to each worker once;
        at most two chunks per worker are in flight). The population-wide steps (segments, value
        tiers, allocation, drift, rejects) stay here. The result is identical to a local run.
    allow_missing : iterable of {"events", "customers"}
        Tables the model was trained with that may be absent: their features are then missing
        and the scores shift. The summary records them under ``allowed_missing``.
    date_format : str, optional
        strftime format of a text ``as_of`` that is not ISO 8601, e.g. ``"%d/%m/%Y"``.
    uplift_model : object, optional
        Per-customer uplift for ``uplift: model`` actions: any object with ``columns`` (the
        ``uplift_<action>`` names) and ``predict_uplift(frame)``, which takes a chunk's features
        joined with its predictions and returns those columns indexed like it (e.g.
        :func:`winback.campaigns.load_uplift_model`). The columns are in the scores.

    Returns
    -------
    ScoreResult
        ``scores`` with, per customer: ``customer_id``; ``p_repurchase`` (P(an order within the
        repurchase horizon)), ``p_churn`` (P(no order within the churn horizon)),
        ``expected_spend`` (spend over the churn horizon), ``expected_value`` (= expected_spend,
        times ``config.margin`` when set); ``value_if_retained`` and ``value_at_risk``
        (:func:`winback.actions.retention_values`: value at risk = value if retained x
        p_churn); ``p_alive``, ``days_to_next_order``, ``expected_next_order_date`` and ``clv``
        (over ``config.clv_months``, discounted at ``config.annual_discount_rate``, times the
        margin) from the model's BTYD part (:meth:`WinbackModel.outlook`; definitions in
        :data:`winback.features.SCORE_DEFINITIONS`); ``risk_tier`` (on ``p_churn``) and
        ``value_tier`` (on ``expected_value``), each low/medium/high; ``segment`` (named RFM
        segment from ``recency_days``, ``n_orders``, ``monetary_total``, also in the output);
        ``reasons``
        (up to three churn drivers, strongest first, joined by ``" | "``); ``model``,
        ``model_version`` and ``as_of`` (ISO date); with ``actions``: ``action``, ``offer``,
        ``channel``, ``expected_gain``, ``cost``, ``group`` (treatment/control/none).

    Raises
    ------
    ConfigError
        If ``as_of`` is not a calendar date or is implausible for the data, a table the model
        reads is missing, or the actions config is invalid or names a field scoring does not
        produce or a segment or tier no customer can have (checked before any work).
    DataError
        If a frame lacks a required column, or no customer has a purchase by ``as_of``.

    Warns
    -----
    DriftWarning
        When features drifted beyond ``config.drift_threshold`` from the training population.
    """
    config = config or ScoringConfig()
    model = model if isinstance(model, WinbackModel) else load_model(model)
    campaign = campaign_config(actions)
    check_frame(orders, "orders", where="winback.score")
    orders_ts, ids = orders["order_ts"], orders["customer_id"]
    horizon = max(model.horizons.values(), default=0)
    day = as_of_day(as_of, orders_ts=orders_ts, horizon_days=horizon, date_format=date_format)
    missing = missing_tables(model, events=events, customers=customers, allow_missing=allow_missing)
    known = (orders_ts < day + pd.Timedelta(days=1)).to_numpy()
    bought = known & purchase_mask(orders)
    population = pd.Index(ids[bought].unique()).sort_values()
    if population.empty:
        raise DataError(nobody_message(orders_ts, day))
    uplift_columns = () if uplift_model is None else tuple(uplift_model.columns)
    if campaign is not None:
        columns = feature_columns(model, population[0], orders, events, customers, day)
        check_campaign(campaign, [*columns, *uplift_columns], segment_table)
    keep = keep_columns(campaign, uplift_columns)
    parts, counts = [], None
    profile = model.metadata.get("feature_profile")
    chunks = iter_chunks(population, orders, events, customers, day, config.chunk_size)
    score_one = functools.partial(
        score_chunk, day=day, keep=keep, profile=profile, config=config, uplift=uplift_model
    )
    results = (
        (score_one(model, chunk) for chunk in chunks)
        if client is None
        else score_on_cluster(client, score_one, model, chunks)
    )
    total = n_chunks(len(population), config.chunk_size)
    bar = progress_bar(
        results, total=total, desc="scoring", unit="chunk", disable=_bar_off(progress)
    )
    for done, (part, chunk_counts) in enumerate(bar, start=1):
        parts.append(part)
        if chunk_counts is not None:
            counts = add_counts(counts, chunk_counts)
        if callable(progress):
            progress(done, total)
    rejects = rejected_customers(
        population, orders, events, customers, data_rejects, known=known, bought=bought
    )
    inputs = input_customers(orders, events, customers, data_rejects)
    run = RunSettings(model, day, keep, config, campaign, segment_table, missing, uplift_columns)
    return finish_run(parts, population, counts, rejects, inputs, data_rejects, run)


@dataclass(frozen=True)
class RunSettings:
    """What the population-wide steps of a scoring run need besides the chunks' results."""

    model: WinbackModel
    day: pd.Timestamp
    keep: list[str]
    config: ScoringConfig
    campaign: ActionsConfig | None
    segment_table: SegmentTable | None
    missing: list[str]
    uplift_columns: tuple[str, ...]


def keep_columns(campaign: ActionsConfig | None, uplift_columns: tuple[str, ...]) -> list[str]:
    """The feature columns a chunk's scores keep: the RFM inputs and what the campaign reads."""
    return sorted(
        {*RFM_INPUTS.values(), *(campaign_fields(campaign) - set(SCORE_COLUMNS)), *uplift_columns}
    )


def finish_run(
    parts: list[pd.DataFrame],
    population: pd.Index,
    counts: Any,
    rejects: pd.DataFrame,
    inputs: pd.Index,
    data_rejects: pd.DataFrame | None,
    run: RunSettings,
) -> ScoreResult:
    """The population-wide steps on the chunks' per-customer scores (in population order):
    tiers, segments, allocation, drift, the reconciliation and the summary."""
    model, day, keep, config, campaign = run.model, run.day, run.keep, run.config, run.campaign
    scored = assemble(parts, population, keep, model, day, config, run.segment_table)
    if campaign is not None:
        scored = allocate(scored, campaign, keep)
    drift = drift_summary(model.metadata.get("feature_profile"), counts, config.drift_threshold)
    summary = run_summary(scored, rejects, inputs, data_rejects, drift, model, day)
    if campaign is not None:
        summary["actions"].update(
            campaign_id=campaign.campaign_id,
            budget=campaign.budget,
            no_customers=empty_action_reasons(scored, campaign),
        )
    summary["allowed_missing"] = run.missing
    summary["values"] = {
        "btyd_model": model.btyd_model,
        "margin": config.margin,
        "clv_months": config.clv_months,
        "annual_discount_rate": config.annual_discount_rate,
        "clv_total": round(float(scored["clv"].sum()), 2),
        "value_at_risk_total": round(float(scored["value_at_risk"].sum()), 2),
    }
    scores = scored.drop(
        columns=[c for c in keep if c not in (*SCORE_COLUMNS, *run.uplift_columns)]
    )
    return ScoreResult(scores.reset_index(drop=True), rejects, summary)


def _bar_off(progress: bool | Callable[[int, int], None] | None) -> bool | None:
    """tqdm's ``disable``: None (off unless on a terminal) for None, else off unless True."""
    return None if progress is None else progress is not True


def feature_columns(
    model: WinbackModel,
    customer: object,
    orders: pd.DataFrame,
    events: pd.DataFrame | None,
    customers: pd.DataFrame | None,
    day: pd.Timestamp,
) -> list[str]:
    """The feature columns scoring will produce: those of one customer (the set of columns
    depends on the model and on which tables and columns are given, never on the values)."""

    def rows(frame: pd.DataFrame | None) -> pd.DataFrame | None:
        return None if frame is None else frame.loc[frame["customer_id"] == customer]

    features = model.build_features(
        rows(orders), cutoff=day, events=rows(events), customers=rows(customers)
    )
    return [str(c) for c in features.columns]
