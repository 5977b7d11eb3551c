"""The errors and warnings winback raises; every error derives from :class:`WinbackError`.

Exception tree::

    WinbackError                 base of every error winback raises on purpose
    ├── DataError                input data cannot be used as given (file, column, rows named)
    │   └── LeakageError         a request would let data after a cutoff reach features or labels
    ├── ConfigError              a config file or argument is invalid (key and expected form named)
    ├── ModelError               a model bundle is missing, tampered with, or incompatible
    └── TrackingError            MLflow refused a run or its tracking store cannot be reached

    WinbackWarning (UserWarning)
    ├── RejectedRowsWarning      some rows were set aside into a rejects frame (count given)
    └── DriftWarning             scored features drifted from training (features named)

Third-party errors (pandas, pyarrow, pydantic, LightGBM) are translated at the boundary with
``raise ... from exc`` so callers only need to catch :class:`WinbackError`.
"""

from __future__ import annotations

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
]


class WinbackError(Exception):
    """Base class of every error winback raises on purpose."""


class DataError(WinbackError):
    """Input data cannot be used: the message names the file, column, rows and the fix."""


class LeakageError(DataError):
    """A cutoff or window would let data after the cutoff into features or labels."""


class ConfigError(WinbackError):
    """A config file or argument is invalid: the message names the key and the expected form."""


class ModelError(WinbackError):
    """A model bundle is missing, fails its hash check, or comes from an incompatible version."""


class TrackingError(WinbackError):
    """MLflow refused a run or cannot be reached: the message names the URI and its source."""


class WinbackWarning(UserWarning):
    """Base class of winback's warnings."""


class RejectedRowsWarning(WinbackWarning):
    """Some input rows were set aside into a rejects frame; the message states how many and why."""


class DriftWarning(WinbackWarning):
    """Scored features drifted beyond the configured threshold from the training population."""
