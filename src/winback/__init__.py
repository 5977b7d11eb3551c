"""winback: which customers are about to stop buying, what they are worth, and what to do.

The public API is re-exported here; implementation lives in the stage packages
(``io``, ``datasets``, ``features``, ``models``, ``actions``, ``export``, ``report``,
``tracking``, ``scoring``) and the CLI in ``winback.cli``.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from winback.exceptions import (
    ConfigError,
    DataError,
    DriftWarning,
    LeakageError,
    ModelError,
    RejectedRowsWarning,
    WinbackError,
    WinbackWarning,
)

try:
    __version__ = version("winback")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0"

__all__ = [
    "ConfigError",
    "DataError",
    "DriftWarning",
    "LeakageError",
    "ModelError",
    "RejectedRowsWarning",
    "WinbackError",
    "WinbackWarning",
    "__version__",
]
