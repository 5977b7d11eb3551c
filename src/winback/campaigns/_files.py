"""`winback measure` on files: read the campaign and orders, measure, write what was asked for."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from winback.actions import load_actions_config
from winback.campaigns._io import MEASUREMENT_FORMAT, read_campaign, write_measurement
from winback.campaigns._measure import OVERALL, measure_campaign
from winback.campaigns._update import DEFAULT_PRIOR_SD, updated_actions, write_actions_config
from winback.campaigns._uplift import campaign_features, fit_campaign_uplift, save_uplift_model
from winback.exceptions import ConfigError, DataError
from winback.io import read_customers, read_events, read_orders
from winback.models import load_model

__all__ = ["MeasureResult", "measure_files"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class MeasureResult:
    """What :func:`measure_files` did: the measurement, the files written, lines to print."""

    results: dict[str, Any]
    paths: Mapping[str, Path] = field(default_factory=dict)
    lines: tuple[str, ...] = ()


def measure_files(
    campaign: str | os.PathLike[str],
    orders: str | os.PathLike[str],
    *,
    campaign_date: str,
    window_days: int,
    results: str | os.PathLike[str] = "measurement.json",
    update_actions: str | os.PathLike[str] | None = None,
    out: str | os.PathLike[str] | None = None,
    prior_sd: float = DEFAULT_PRIOR_SD,
    margin: float = 1.0,
    orders_end: str | None = None,
    model: str | os.PathLike[str] | None = None,
    fit_uplift: str | os.PathLike[str] | None = None,
    events: str | os.PathLike[str] | None = None,
    customers: str | os.PathLike[str] | None = None,
    columns: str | None = None,
    event_columns: str | None = None,
    customer_columns: str | None = None,
    date_format: str | None = None,
    encoding: str = "utf-8",
) -> MeasureResult:
    """Measure a campaign from files and write the measurement JSON (and what else is asked).

    Parameters
    ----------
    campaign : path
        Scores with ``action`` and ``group`` or an export folder (:func:`read_campaign`).
    orders : path
        Orders including those after the campaign (read through the data gate).
    results : path
        The measurement JSON (written atomically; an existing file is replaced only when it is
        a measurement).
    update_actions, out : path, optional
        Write ``out``: the actions of ``update_actions`` with the measured uplifts
        (:func:`updated_actions`); ``out`` must differ from ``update_actions``.
    model, fit_uplift : path, optional
        With both: fit per-action uplift models on the campaign (features from ``model`` at the
        campaign date, from ``orders``, ``events``, ``customers``) and write them as a sealed
        bundle at ``fit_uplift``, with the held-out Qini evaluation.
    columns, event_columns, customer_columns : str, optional
        Column mappings of the orders, events and customers in the CLI form
        ``"customer_id=Customer ID,..."`` (:func:`winback.io.parse_columns_option`).
    date_format, encoding : str, optional
        How the orders, events and customers files are read (as in :func:`winback.io.read_orders`).
    Other parameters as in :func:`measure_campaign`.

    Raises
    ------
    ConfigError
        If ``--update-actions`` and ``--out`` are not given together, or ``--fit-uplift``
        lacks ``--model``.
    DataError
        See :func:`measure_campaign`.
    """
    _check_options(update_actions, out, model, fit_uplift, results)
    mapping = _columns(columns, "orders")
    tables = {"events": event_columns, "customers": customer_columns}
    mappings = {name: _columns(text, name) for name, text in tables.items()}
    reading = {"date_format": date_format, "encoding": encoding}
    order_frame, _ = read_orders(orders, columns=mapping, **reading)
    read = read_campaign(campaign)
    measured = measure_campaign(
        read,
        order_frame,
        campaign_date=campaign_date,
        window_days=window_days,
        orders_end=orders_end,
        margin=margin,
    )
    paths = {"results": write_measurement(measured.results, results)}
    if update_actions is not None and out is not None:
        config = load_actions_config(update_actions)
        new = updated_actions(config, measured.results, prior_sd=prior_sd)
        paths["actions"] = write_actions_config(new, out, source=update_actions)
    if fit_uplift is not None and model is not None:
        paths["uplift_model"] = _fit(
            measured,
            model,
            order_frame,
            campaign_date,
            events,
            customers,
            fit_uplift,
            mappings,
            reading,
        )
    lines = (*_summary_lines(measured.results), *(f"{k}: {p}" for k, p in paths.items()))
    return MeasureResult(measured.results, paths, lines)


def _columns(columns: str | None, table: Any) -> dict[str, str] | None:
    from winback.io import parse_columns_option

    return parse_columns_option(columns, table=table) if columns else None


def _check_options(
    update_actions: object, out: object, model: object, fit_uplift: object, results: object
) -> None:
    if (update_actions is None) != (out is None):
        raise ConfigError(
            "--update-actions and --out go together: --update-actions configs/actions.yaml "
            "--out new_actions.yaml writes the updated actions to new_actions.yaml."
        )
    if fit_uplift is not None and model is None:
        raise ConfigError(
            "--fit-uplift needs --model: the churn model bundle the campaign was scored with "
            "(its features at the campaign date are the uplift models' inputs)."
        )
    path = Path(results)  # type: ignore[arg-type]
    if path.exists() and not _is_measurement(path):
        raise DataError(
            f"--results {path} exists and is not a measurement winback wrote; winback will not "
            "replace it. Choose a new file name."
        )


def _is_measurement(path: Path) -> bool:
    try:
        return MEASUREMENT_FORMAT in path.read_text(encoding="utf-8")[:4000]
    except (OSError, UnicodeDecodeError):
        return False


def _fit(
    measured: Any,
    model: str | os.PathLike[str],
    orders: Any,
    campaign_date: str,
    events: str | os.PathLike[str] | None,
    customers: str | os.PathLike[str] | None,
    out: str | os.PathLike[str],
    mappings: dict[str, dict[str, str] | None],
    reading: dict[str, Any],
) -> Path:
    churn = load_model(model)
    x = campaign_features(
        churn,
        orders,
        campaign_date=campaign_date,
        events=None
        if events is None
        else read_events(events, columns=mappings["events"], **reading)[0],
        customers=None
        if customers is None
        else read_customers(customers, columns=mappings["customers"], **reading)[0],
    )
    uplift, evaluation = fit_campaign_uplift(x, measured.outcomes)
    metadata = {
        "campaign_id": measured.results["campaign_id"],
        "campaign_date": measured.results["campaign_date"],
        "window_days": measured.results["window_days"],
        "churn_model": getattr(churn, "name", None),
        "evaluation": evaluation,
    }
    return save_uplift_model(uplift, out, metadata=metadata)


def _summary_lines(results: dict[str, Any]) -> list[str]:
    lines = [
        f"campaign {results['campaign_id']} sent {results['campaign_date']}, "
        f"{results['window_days']}-day window to {results['window_end']}:"
    ]
    for row in [*results["actions"], results["overall"]]:
        r = row["response"]
        name = "all actions" if row["label"] == OVERALL else row["label"]
        if r["diff"] is None:
            lines.append(f"  {name}: {row['n_treatment']} treated, {row['n_control']} control")
            continue
        profit = row["incremental_profit"]
        lines.append(
            f"  {name}: {row['n_treatment']:,} treated / {row['n_control']:,} control, "
            f"incremental response {r['diff']:+.2%} [{r['ci_low']:+.2%}, {r['ci_high']:+.2%}]"
            + (f", p={r['p_value']:.3g}" if r["p_value"] is not None else "")
            + (f", incremental profit {profit:,.2f}" if profit is not None else "")
        )
    lines += [f"warning: {w}" for w in results["warnings"]]
    return lines
