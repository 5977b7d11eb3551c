"""Drift monitoring: quantile profiles of the training features and the population stability index.

- :func:`feature_profile`: the reference profile a model bundle stores (plain JSON).
- :func:`population_stability`: PSI per feature of a scored population against that profile.
- :func:`bin_counts`, :func:`add_counts`, :func:`stability_from_counts`: the same PSI from bin
  counts that add up across parts of a population (chunks, workers), so no part needs the whole.
- :func:`drifted`: the features beyond a threshold, largest shift first.

A *profile* of a feature is its quantile bin edges on the training population plus the share of
rows in each bin and the share of missing values; it is plain JSON (stored in a model bundle's
metadata under ``feature_profile``). The population stability index (PSI) of a scored population
against that profile is ``sum((a - e) * ln(a / e))`` over the bins and the missing-value bucket,
with ``e`` the training share and ``a`` the scored share (both floored at 1e-4 so an empty bin
does not give an infinite index). Common reading: < 0.1 stable, 0.1-0.25 moderate shift,
> 0.25 a significant shift.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from winback.exceptions import ConfigError, DataError

__all__ = [
    "DRIFT_THRESHOLD",
    "add_counts",
    "bin_counts",
    "drifted",
    "feature_profile",
    "population_stability",
    "stability_from_counts",
]

DRIFT_THRESHOLD = 0.25
_FLOOR = 1e-4


def feature_profile(
    frame: pd.DataFrame, columns: Sequence[str], *, bins: int = 10
) -> dict[str, dict[str, Any]]:
    """Return the quantile profile of each column of ``frame`` (JSON-serialisable).

    Parameters
    ----------
    frame : DataFrame
        The reference population, one row per customer (e.g. the training features at the
        latest training cutoff).
    columns : sequence of str
        Numeric columns to profile.
    bins : int, default 10
        Number of quantile bins. Features with many tied values (counts) get fewer bins: equal
        quantile edges are merged.

    Returns
    -------
    dict
        ``{column: {"edges": [...], "proportions": [...], "nan_share": float}}``. ``edges`` are
        the interior bin edges (ascending, distinct); bin ``i`` holds values ``v`` with
        ``edges[i-1] < v <= edges[i]`` (the first bin is open below, the last open above), so
        there are ``len(edges) + 1`` proportions. Proportions are shares of *all* rows; they
        sum with ``nan_share`` (missing or infinite values) to 1.

    Raises
    ------
    DataError
        If a column is missing or not numeric, or ``frame`` has no rows.
    ConfigError
        If ``bins`` is below 2.
    """
    if bins < 2:
        raise ConfigError(f"feature_profile: bins must be at least 2, got {bins}.")
    _check_columns(frame, columns, what="feature_profile")
    if len(frame) == 0:
        raise DataError("feature_profile: the frame has no rows; a profile needs a population.")
    levels = np.linspace(0, 1, bins + 1)[1:-1]
    profile = {}
    for col in columns:
        values = _finite(frame[col])
        present = values[~np.isnan(values)]
        edges = np.unique(np.quantile(present, levels)) if present.size else np.array([])
        counts = _counts(values, edges)
        shares = counts / len(values)
        profile[col] = {
            "edges": [float(e) for e in edges],
            "proportions": [float(s) for s in shares[:-1]],
            "nan_share": float(shares[-1]),
        }
    return profile


def population_stability(
    profile: Mapping[str, Mapping[str, Any]], frame: pd.DataFrame
) -> pd.Series:
    """Return the PSI of every profiled column of ``frame`` against ``profile``.

    Parameters
    ----------
    profile : mapping
        The output of :func:`feature_profile` on the reference population.
    frame : DataFrame
        The population to compare, with every profiled column.

    Returns
    -------
    Series
        PSI per feature (float64, index = the profile's columns in its order, name ``"psi"``);
        0 means the same distribution over the profile's bins. Empty ``frame``: all NaN.
    """
    return stability_from_counts(profile, bin_counts(profile, frame))


def bin_counts(
    profile: Mapping[str, Mapping[str, Any]], frame: pd.DataFrame
) -> dict[str, np.ndarray]:
    """Return, per profiled column, the row counts of ``frame`` in the profile's bins + missing.

    Counts of several parts of a population add up to the counts of the whole, which is how
    scoring in chunks computes the PSI of the full population.
    """
    _check_columns(frame, list(profile), what="population_stability")
    return {
        col: _counts(_finite(frame[col]), np.asarray(spec["edges"], dtype=float))
        for col, spec in profile.items()
    }


def add_counts(
    total: dict[str, np.ndarray] | None, part: Mapping[str, np.ndarray]
) -> dict[str, np.ndarray]:
    """Return ``total + part`` column by column (``total`` None: a copy of ``part``)."""
    if total is None:
        return {col: counts.copy() for col, counts in part.items()}
    return {col: total[col] + part[col] for col in total}


def stability_from_counts(
    profile: Mapping[str, Mapping[str, Any]], counts: Mapping[str, np.ndarray]
) -> pd.Series:
    """Return the PSI per column from bin counts (see :func:`bin_counts`)."""
    psi = {}
    for col, spec in profile.items():
        expected = np.append(np.asarray(spec["proportions"], float), float(spec["nan_share"]))
        n = counts[col].sum()
        if n == 0:
            psi[col] = np.nan
            continue
        actual = np.maximum(counts[col] / n, _FLOOR)
        expected = np.maximum(expected, _FLOOR)
        psi[col] = float(np.sum((actual - expected) * np.log(actual / expected)))
    return pd.Series(psi, dtype="float64", name="psi")


def drifted(psi: pd.Series, *, threshold: float = DRIFT_THRESHOLD) -> list[str]:
    """Return the features whose PSI exceeds ``threshold``, largest shift first."""
    over = psi[psi > threshold]
    return over.sort_values(ascending=False, kind="stable").index.tolist()


def _counts(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Counts per bin (``len(edges) + 1`` bins) followed by the missing-value count."""
    missing = np.isnan(values)
    index = np.searchsorted(edges, values[~missing], side="left")
    counts = np.bincount(index, minlength=len(edges) + 1).astype(np.int64)
    return np.append(counts, np.int64(missing.sum()))


def _finite(values: pd.Series) -> np.ndarray:
    out = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    return np.where(np.isfinite(out), out, np.nan)


def _check_columns(frame: pd.DataFrame, columns: Iterable[str], *, what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataError(
            f"{what}: the frame lacks the profiled columns {missing}; it has "
            f"{', '.join(map(str, frame.columns))}."
        )
    bad = [
        c
        for c in columns
        if not (pd.api.types.is_numeric_dtype(frame[c]) or pd.api.types.is_bool_dtype(frame[c]))
    ]
    if bad:
        raise DataError(f"{what}: columns {bad} are not numeric; a profile needs numbers.")
