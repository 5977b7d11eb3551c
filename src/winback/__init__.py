"""winback: which customers are about to stop buying, what they are worth, and what to do.

The public API is re-exported here and imported lazily (``import winback`` stays light; LightGBM,
scikit-learn and friends load on first use). Implementation lives in the stage packages:
``io`` (the data gate), ``datasets``, ``features``, ``models``, ``actions``, ``export``,
``report``, ``tracking`` (the only user of MLflow) and ``scoring``; the CLI in ``winback.cli``.

>>> import winback
>>> orders = winback.load_cdnow(sample=True)
>>> winback.build_features(orders, cutoff="1997-09-30").shape[0]
2357
"""

from __future__ import annotations

from importlib import import_module
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from winback.exceptions import (
    ConfigError,
    DataError,
    DriftWarning,
    LeakageError,
    ModelError,
    RejectedRowsWarning,
    TrackingError,
    WinbackError,
    WinbackWarning,
)

try:
    __version__ = version("winback")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0"

_LAZY = {
    "read_orders": "winback.io",
    "read_events": "winback.io",
    "read_customers": "winback.io",
    "load_cdnow": "winback.datasets",
    "simulate": "winback.datasets",
    "build_features": "winback.features",
    "build_training_frame": "winback.features",
    "rfm_summary": "winback.features",
    "FeatureConfig": "winback.features",
    "load_config": "winback.training",
    "train": "winback.training",
    "load_model": "winback.models",
    "BetaGeo": "winback.models",
    "ParetoNBD": "winback.models",
    "GammaGamma": "winback.models",
    "score": "winback.scoring",
    "score_files": "winback.scoring",
    "load_actions_config": "winback.actions",
    "allocate_actions": "winback.actions",
    "export_campaign": "winback.export",
    "build_report": "winback.report",
}

__all__ = [
    "ConfigError",
    "DataError",
    "DriftWarning",
    "LeakageError",
    "ModelError",
    "RejectedRowsWarning",
    "TrackingError",
    "WinbackError",
    "WinbackWarning",
    "__version__",
    *sorted(_LAZY),
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'winback' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
