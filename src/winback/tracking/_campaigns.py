"""Log a measured campaign (`winback measure`) to MLflow, as a run of experiment ``campaigns``."""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from winback.exceptions import TrackingError
from winback.io import write_json
from winback.tracking._log import _experiment_id, _first_line, _key, _using_tracking_uri
from winback.tracking._uri import resolve_tracking_uri

__all__ = ["CAMPAIGNS_EXPERIMENT", "campaign_metrics", "log_campaign_run"]

logger = logging.getLogger(__name__)

CAMPAIGNS_EXPERIMENT = "campaigns"
_ROW_METRICS = (
    "n_treatment",
    "n_control",
    "incremental_responders",
    "incremental_revenue",
    "incremental_profit",
    "incremental_profit_ci_low",
    "incremental_profit_ci_high",
    "roi",
)
_COMPARISONS = ("diff", "ci_low", "ci_high", "p_value", "mde")


def campaign_metrics(results: Mapping[str, Any]) -> dict[str, float]:
    """Return a measurement as MLflow metrics: ``<row>.<measure>`` for the overall row
    (``all``) and each action, e.g. ``discount_15.response.diff``; missing values skipped."""
    metrics: dict[str, float] = {}
    rows = [("all", results["overall"])] + [(r["label"], r) for r in results["actions"]]
    for name, row in rows:
        for measure in _ROW_METRICS:
            _put(metrics, (name, measure), row.get(measure))
        for kind in ("response", "revenue"):
            for measure in _COMPARISONS:
                _put(metrics, (name, kind, measure), row[kind].get(measure))
        estimate = row.get("uplift_estimate") or {}
        _put(metrics, (name, "uplift_estimate"), estimate.get("estimate"))
    return metrics


def _put(metrics: dict[str, float], parts: tuple[str, ...], value: Any) -> None:
    if isinstance(value, int | float) and not isinstance(value, bool) and value == value:
        metrics[_key(parts)] = float(value)


def log_campaign_run(
    results: Mapping[str, Any], *, uri: str | None = None, experiment: str = CAMPAIGNS_EXPERIMENT
) -> str:
    """Log a campaign measurement to MLflow; return the run id.

    The run, named after the campaign id, in experiment ``campaigns``, gets the params
    ``campaign_id``, ``campaign_date``, ``window_days``, ``margin`` and ``source``; the metrics of
    :func:`campaign_metrics`; and ``measurement.json`` as an artifact. The URI is ``uri``, else
    ``$MLFLOW_TRACKING_URI``, else ``sqlite:///mlflow.db`` (as for training runs).

    Raises
    ------
    TrackingError
        If MLflow refuses or cannot reach the tracking URI.
    """
    import mlflow

    resolved = resolve_tracking_uri(uri)
    params = {
        k: str(results.get(k))
        for k in ("campaign_id", "campaign_date", "window_days", "margin", "source")
    }
    with _errors(resolved), _using_tracking_uri(resolved):
        experiment_id = _experiment_id(experiment)
        name = str(results.get("campaign_id") or "campaign")
        with mlflow.start_run(experiment_id=experiment_id, run_name=name) as run:
            mlflow.set_tags({"campaign_id": name, "kind": "campaign-measurement"})
            mlflow.log_params(params)
            mlflow.log_metrics(campaign_metrics(results))
            with tempfile.TemporaryDirectory(prefix="winback-campaign-") as tmp:
                write_json(dict(results), Path(tmp) / "measurement.json")
                mlflow.log_artifacts(tmp)
    logger.info("logged campaign %s as run %s to %s", name, run.info.run_id, resolved)
    return run.info.run_id


@contextmanager
def _errors(uri: str) -> Iterator[None]:
    from mlflow.exceptions import MlflowException
    from sqlalchemy.exc import SQLAlchemyError

    try:
        yield
    except (MlflowException, SQLAlchemyError, OSError) as exc:
        raise TrackingError(
            f"Could not log the campaign to MLflow at {uri!r}: {type(exc).__name__}: "
            f"{_first_line(exc)}. The measurement JSON is written; fix the tracking URI "
            "(--tracking-uri or $MLFLOW_TRACKING_URI) or measure with --no-tracking."
        ) from exc
