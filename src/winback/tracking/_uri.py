"""Which MLflow tracking URI a training run logs to: config, then environment, then local SQLite."""

from __future__ import annotations

import os

from winback.training import TrainConfig

__all__ = ["DEFAULT_TRACKING_URI", "TRACKING_URI_ENV", "resolve_tracking_uri", "tracking_uri"]

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
