"""The one column validator of the BTYD models: RFM summaries in, clean float64 arrays out."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from winback.exceptions import ConfigError, DataError

__all__ = [
    "RFMData",
    "check_options",
    "frequency_array",
    "horizon_array",
    "monetary_array",
    "require_repeat_buyers",
    "rfm_arrays",
]

RFMData = pd.DataFrame | Mapping[str, Any]
"""A DataFrame, or a mapping of column name to 1-d array, with one row per customer."""

_RFM_COLUMNS = ("frequency", "recency", "T")
_SHOWN_ROWS = 5


def rfm_arrays(data: RFMData, *, where: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return ``(frequency, recency, T)`` as float64 arrays after checking the BTYD definitions.

    ``frequency`` is the number of repeat purchase periods (whole, >= 0), ``recency`` the time from
    the first to the last purchase and ``T`` the time from the first purchase to the cutoff, both
    in one time unit, with ``0 <= recency <= T`` and ``recency == 0`` whenever ``frequency == 0``.
    ``where`` names the calling method in error messages (e.g. ``"BetaGeo.fit"``).
    """
    columns = _numeric_columns(data, _RFM_COLUMNS, where=where)
    labels = _row_labels(data, len(columns["T"]))
    for name, values in columns.items():
        _require_finite_non_negative(values, name, labels, where)
    x, t_x, T = (columns[name] for name in _RFM_COLUMNS)
    _require_whole(x, labels, where)
    _require_rows(
        t_x > T,
        labels,
        where,
        "{n} customer(s) have recency greater than T (recency must lie in [0, T])",
        "compute recency and T from the same first purchase and the same cutoff",
    )
    _require_rows(
        (x == 0) & (t_x != 0),
        labels,
        where,
        "{n} customer(s) have non-zero recency values when frequency is zero",
        "recency is the time between the first and the last purchase, so it is 0 "
        "for customers without repeat purchases",
    )
    return x, t_x, T


def frequency_array(data: RFMData, *, where: str) -> np.ndarray:
    """Return ``frequency`` (whole number of repeat purchase periods, >= 0) as float64."""
    x = _numeric_columns(data, ("frequency",), where=where)["frequency"]
    labels = _row_labels(data, len(x))
    _require_finite_non_negative(x, "frequency", labels, where)
    _require_whole(x, labels, where)
    return x


def require_repeat_buyers(frequency: np.ndarray, *, where: str) -> None:
    """Raise :class:`DataError` when no customer has a repeat purchase (nothing to fit)."""
    if not np.any(frequency > 0):
        raise DataError(
            f"{where}: no customer has a repeat purchase (frequency is 0 for all "
            f"{len(frequency)} customers), so purchase and dropout rates cannot be estimated. "
            "To fix: use a longer history (a later cutoff) or more customers."
        )


def monetary_array(data: RFMData, frequency: np.ndarray, *, where: str, strict: bool) -> np.ndarray:
    """Return ``monetary_value`` as float64, checked on the customers with ``frequency > 0``.

    Repeat buyers need a finite value, positive when ``strict`` (fitting: the likelihood takes its
    logarithm) and non-negative otherwise (prediction). Values of customers without repeat purchases
    are ignored and may be missing.
    """
    value = _numeric_columns(data, ("monetary_value",), where=where)["monetary_value"]
    labels = _row_labels(data, len(value))
    repeat = frequency > 0
    _require_rows(
        repeat & ~np.isfinite(value),
        labels,
        where,
        "column 'monetary_value' is missing or infinite for {n} customer(s) with repeat purchases",
        "give every repeat buyer the mean value of their repeat transactions",
    )
    bad = value <= 0 if strict else value < 0
    kind = "zero or negative" if strict else "negative"
    _require_rows(
        repeat & bad,
        labels,
        where,
        f"column 'monetary_value' is {kind} for {{n}} customer(s) with repeat purchases "
        "(Gamma-Gamma models positive spend)",
        "drop those customers first, e.g. data[data['monetary_value'] > 0]",
    )
    return value


def horizon_array(t: float | np.ndarray, *, where: str) -> np.ndarray:
    """Return the prediction horizon ``t`` as a float64 array, checked finite and >= 0."""
    horizon = np.asarray(t, dtype=np.float64)
    if not np.all(np.isfinite(horizon)) or np.any(horizon < 0):
        raise ConfigError(
            f"{where}: expected a finite horizon t >= 0 in the time unit of the fitted data, "
            f"got {t!r}."
        )
    return horizon


def check_options(
    *,
    where: str,
    penalizer: float,
    initial_params: Mapping[str, float] | None,
    names: Sequence[str],
    tol: float,
    max_iter: int,
    try_default_start: bool,
) -> None:
    """Raise :class:`ConfigError` when a model's constructor options cannot be used."""
    if not (np.isfinite(penalizer) and penalizer >= 0):
        raise ConfigError(f"{where}: expected penalizer >= 0, got {penalizer!r}.")
    if not (np.isfinite(tol) and tol > 0):
        raise ConfigError(f"{where}: expected tol > 0, got {tol!r}.")
    if int(max_iter) != max_iter or max_iter < 1:
        raise ConfigError(f"{where}: expected a whole max_iter >= 1, got {max_iter!r}.")
    if not isinstance(try_default_start, bool | np.bool_):
        raise ConfigError(
            f"{where}: expected try_default_start True or False, got {try_default_start!r}."
        )
    if initial_params is None:
        return
    if set(initial_params) != set(names):
        raise ConfigError(
            f"{where}: initial_params must have exactly the keys {sorted(names)}, "
            f"got {sorted(initial_params)}."
        )
    bad = {k: v for k, v in initial_params.items() if not (np.isfinite(v) and v > 0)}
    if bad:
        raise ConfigError(f"{where}: initial_params must all be positive and finite, got {bad}.")


def _numeric_columns(data: RFMData, names: Sequence[str], *, where: str) -> dict[str, np.ndarray]:
    if not isinstance(data, pd.DataFrame | Mapping):
        raise DataError(
            f"{where}: expected a DataFrame (or a mapping of arrays) with columns "
            f"{', '.join(names)}; got {type(data).__name__}."
        )
    missing = [name for name in names if name not in data]
    if missing:
        raise DataError(
            f"{where}: data is missing column(s) {missing}; expected columns {list(names)} "
            "(one row per customer, as returned by winback.features.rfm_summary)."
        )
    out: dict[str, np.ndarray] = {}
    for name in names:
        try:
            values = np.asarray(data[name], dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise DataError(
                f"{where}: column {name!r} must be numeric; it could not be read as numbers "
                f"({exc}). Convert it with pandas.to_numeric first."
            ) from exc
        if values.ndim != 1:
            raise DataError(f"{where}: column {name!r} must be 1-dimensional, got {values.shape}.")
        out[name] = values
    lengths = {name: len(v) for name, v in out.items()}
    if len(set(lengths.values())) > 1:
        raise DataError(f"{where}: columns must have one length, got {lengths}.")
    if next(iter(lengths.values())) == 0:
        raise DataError(f"{where}: data has no rows; expected one row per customer.")
    return out


def _require_finite_non_negative(
    values: np.ndarray, name: str, labels: np.ndarray, where: str
) -> None:
    _require_rows(
        ~np.isfinite(values),
        labels,
        where,
        f"column {name!r} has {{n}} missing or infinite value(s)",
        "drop those customers or fill the summary",
    )
    _require_rows(
        values < 0,
        labels,
        where,
        f"column {name!r} has {{n}} negative value(s)",
        "recompute the summary: counts and durations cannot be negative",
    )


def _require_whole(x: np.ndarray, labels: np.ndarray, where: str) -> None:
    _require_rows(
        x != np.floor(x),
        labels,
        where,
        "column 'frequency' has {n} non-whole value(s)",
        "frequency counts repeat purchase periods and must be a whole number",
    )


def _row_labels(data: RFMData, n: int) -> np.ndarray:
    return data.index.to_numpy() if isinstance(data, pd.DataFrame) else np.arange(n)


def _require_rows(bad: np.ndarray, labels: np.ndarray, where: str, problem: str, fix: str) -> None:
    """Raise a DataError naming the first offending rows when any entry of ``bad`` is True."""
    if not bad.any():
        return
    rows = labels[bad][:_SHOWN_ROWS].tolist()
    more = " ..." if bad.sum() > _SHOWN_ROWS else ""
    raise DataError(
        f"{where}: {problem.format(n=int(bad.sum()))}; rows {rows}{more}. To fix: {fix}."
    )
