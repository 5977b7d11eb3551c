"""Evaluation metrics: churn-classifier scores, value-regression errors and paired bootstrap.

Pure functions on 1-D numpy arrays. scikit-learn and scipy compute every metric they have
(AUC, average precision, Brier score, log loss, MAE, RMSE, Spearman); this module adds expected
calibration error, top-decile lift, cumulative gains and a fast paired bootstrap of an AUC
difference.
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.stats import spearmanr
from sklearn.metrics import (
    average_precision_score,
    brier_score_loss,
    log_loss,
    mean_absolute_error,
    roc_auc_score,
    root_mean_squared_error,
)

from winback.exceptions import ConfigError, DataError

__all__ = [
    "binary_labels",
    "bootstrap_auc_difference",
    "calibration_bins",
    "classification_metrics",
    "cumulative_gains",
    "expected_calibration_error",
    "finite_values",
    "lift_at",
    "regression_metrics",
]

BinStrategy = Literal["quantile", "uniform"]

#: Probabilities are clipped to ``[_EPS, 1 - _EPS]`` before the log loss so that a confident wrong
#: prediction costs a large but finite amount.
_EPS = 1e-15

#: Largest number of bootstrap-weight cells held in memory at once (rows x observations).
_CHUNK_CELLS = 1_000_000


# --------------------------------------------------------------------------------------- checks
def binary_labels(y_true: ArrayLike) -> NDArray[np.int8]:
    y = np.asarray(y_true)
    if y.ndim != 1 or y.size == 0:
        raise DataError(f"y_true must be a non-empty 1-D array of 0/1 labels, got shape {y.shape}.")
    if y.dtype != bool:
        valid = np.isin(y, (0, 1))
        if not valid.all():
            bad = np.flatnonzero(~valid)
            found = y[bad[0]].item()
            raise DataError(
                f"y_true must hold only 0 and 1 (or booleans); found {found!r} at position "
                f"{bad[0]} ({bad.size} invalid values in all). Encode churned as 1, retained as 0."
            )
    y = y.astype(np.int8)
    if y.min() == y.max():
        raise DataError(
            f"y_true holds only the class {int(y[0])}; ranking metrics need both churned (1) and "
            "retained (0) customers. Evaluate on a larger or less filtered sample."
        )
    return y


def finite_values(values: ArrayLike, *, n: int, name: str) -> NDArray[np.float64]:
    x = np.asarray(values, dtype=np.float64)
    if x.ndim != 1 or x.size != n:
        raise DataError(
            f"{name} must be a 1-D array of length {n} (as y_true), got shape {x.shape}."
        )
    bad = np.flatnonzero(~np.isfinite(x))
    if bad.size:
        raise DataError(
            f"{name} must be finite; found {x[bad[0]]} at position {bad[0]} "
            f"({bad.size} non-finite values in all). Drop or impute these rows before evaluating."
        )
    return x


def _probabilities(score: NDArray[np.float64], *, name: str) -> NDArray[np.float64]:
    outside = np.flatnonzero((score < 0) | (score > 1))
    if outside.size:
        raise DataError(
            f"{name} must be probabilities in [0, 1]; found {score[outside[0]]} at position "
            f"{outside[0]}. For a rank-only score (e.g. minus recency) pass probabilistic=False."
        )
    return score


def _check_bins(n_bins: int, strategy: str) -> None:
    if not isinstance(n_bins, int | np.integer) or n_bins < 1:
        raise ConfigError(f"n_bins must be a positive integer, got {n_bins!r}.")
    if strategy not in ("quantile", "uniform"):
        raise ConfigError(f"strategy must be 'quantile' or 'uniform', got {strategy!r}.")


# ----------------------------------------------------------------------------- classification
def classification_metrics(
    y_true: ArrayLike,
    score: ArrayLike,
    *,
    probabilistic: bool = True,
    n_bins: int = 10,
    strategy: BinStrategy = "quantile",
) -> dict[str, float]:
    """Ranking and calibration metrics of a churn score against observed churn.

    Parameters
    ----------
    y_true : array-like of shape (n,)
        Observed outcome, 1 = churned, 0 = retained (booleans accepted). Both classes must occur.
    score : array-like of shape (n,)
        Higher means more likely to churn. A probability in [0, 1] when ``probabilistic``.
    probabilistic : bool, default True
        False for a score that only ranks (e.g. minus recency): ``brier``, ``log_loss`` and
        ``ece`` are then NaN and the score may take any finite value.
    n_bins, strategy
        Binning of the expected calibration error, see :func:`expected_calibration_error`.

    Returns
    -------
    dict
        ``auc`` (ROC AUC), ``pr_auc`` (average precision), ``brier``, ``log_loss`` (probabilities
        clipped to [1e-15, 1 - 1e-15]), ``ece`` and ``lift_top_decile`` (see :func:`lift_at`),
        all plain floats.

    Examples
    --------
    >>> m = classification_metrics([0, 0, 1, 1], [0.1, 0.3, 0.6, 0.8])
    >>> m["auc"], m["lift_top_decile"], round(m["ece"], 3)
    (1.0, 2.0, 0.25)
    """
    y = binary_labels(y_true)
    s = finite_values(score, n=y.size, name="score")
    nan = float("nan")
    metrics = {
        "auc": float(roc_auc_score(y, s)),
        "pr_auc": float(average_precision_score(y, s)),
        "brier": nan,
        "log_loss": nan,
        "ece": nan,
        "lift_top_decile": lift_at(y, s, fraction=0.1),
    }
    if probabilistic:
        p = _probabilities(s, name="score")
        metrics["brier"] = float(brier_score_loss(y, p))
        metrics["log_loss"] = float(log_loss(y, np.clip(p, _EPS, 1 - _EPS), labels=[0, 1]))
        metrics["ece"] = expected_calibration_error(y, p, n_bins=n_bins, strategy=strategy)
    return metrics


def calibration_bins(
    y_true: ArrayLike,
    prob: ArrayLike,
    *,
    n_bins: int = 10,
    strategy: BinStrategy = "quantile",
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.int64]]:
    """Mean predicted probability, observed rate and count of each non-empty calibration bin.

    The bins are those of :func:`sklearn.calibration.calibration_curve`: with ``"quantile"`` the
    edges are the 0, 1/n_bins, ..., 1 quantiles of ``prob`` (equal-count bins), with ``"uniform"``
    they split [0, 1] into ``n_bins`` equal widths. A probability equal to an inner edge falls in
    the lower bin, so tied probabilities always share a bin; quantile bins can therefore hold
    unequal counts, and empty bins are dropped.

    Returns
    -------
    mean_pred, observed_rate, count : arrays of the same length (at most ``n_bins``)
    """
    _check_bins(n_bins, strategy)
    y = np.asarray(y_true, dtype=np.float64)
    p = _probabilities(finite_values(prob, n=y.size, name="prob"), name="prob")
    if strategy == "quantile":
        edges = np.percentile(p, np.linspace(0, 100, n_bins + 1))
    else:
        edges = np.linspace(0.0, 1.0, n_bins + 1)
    bin_ids = np.searchsorted(edges[1:-1], p)
    count = np.bincount(bin_ids, minlength=n_bins)
    sum_pred = np.bincount(bin_ids, weights=p, minlength=n_bins)
    sum_true = np.bincount(bin_ids, weights=y, minlength=n_bins)
    kept = count > 0
    return sum_pred[kept] / count[kept], sum_true[kept] / count[kept], count[kept]


def expected_calibration_error(
    y_true: ArrayLike,
    prob: ArrayLike,
    *,
    n_bins: int = 10,
    strategy: BinStrategy = "quantile",
) -> float:
    """Expected calibration error: count-weighted mean of |mean predicted - observed rate| per bin.

    ``ECE = sum_b (n_b / n) * |mean(prob in b) - mean(y_true in b)|`` over the bins of
    :func:`calibration_bins` (10 equal-count bins by default; ``strategy="uniform"`` for 10
    equal-width bins on [0, 1]). 0 means perfectly calibrated on these bins.

    Examples
    --------
    >>> round(expected_calibration_error([0, 0, 1, 1], [0.1, 0.3, 0.6, 0.8], n_bins=2), 3)
    0.25
    """
    mean_pred, observed, count = calibration_bins(y_true, prob, n_bins=n_bins, strategy=strategy)
    return float(np.sum(count * np.abs(mean_pred - observed)) / np.sum(count))


def cumulative_gains(
    y_true: ArrayLike, score: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Cumulative gains curve: share of customers targeted vs share of churners reached.

    Customers are taken in decreasing ``score``; customers with tied scores are taken together, so
    the curve has one vertex per distinct score, starting at (0, 0) and ending at (1, 1). The
    straight line between two vertices is the expected curve when ties are broken at random, which
    makes the curve independent of row order.

    Returns
    -------
    fraction_targeted, fraction_of_positives_reached : arrays of the same length
    """
    y = binary_labels(y_true)
    s = finite_values(score, n=y.size, name="score")
    order = np.argsort(-s, kind="stable")
    s_sorted, y_sorted = s[order], y[order]
    group_ends = np.flatnonzero(np.r_[s_sorted[1:] != s_sorted[:-1], True])
    targeted = np.r_[0, group_ends + 1] / y.size
    reached = np.r_[0, np.cumsum(y_sorted)[group_ends]] / y_sorted.sum()
    return targeted.astype(np.float64), reached.astype(np.float64)


def lift_at(y_true: ArrayLike, score: ArrayLike, *, fraction: float = 0.1) -> float:
    """Churn rate among the top ``fraction`` of customers by score, divided by the overall rate.

    The top group holds exactly ``fraction * n`` customers. Customers whose score ties with the
    group's boundary are counted pro rata (each tied customer contributes the share of the tie that
    fits), which is the expected lift under random tie-breaking: deterministic and independent of
    row order, and 1.0 for a constant score. ``lift_top_decile`` is ``lift_at(..., fraction=0.1)``.

    Examples
    --------
    >>> lift_at([1, 0, 0, 0, 0, 0, 0, 0, 0, 0], [0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.0])
    10.0
    """
    if not 0 < fraction <= 1:
        raise ConfigError(f"fraction must be in (0, 1], got {fraction!r}.")
    targeted, reached = cumulative_gains(y_true, score)
    return float(np.interp(fraction, targeted, reached) / fraction)


# --------------------------------------------------------------------------------- regression
def regression_metrics(y_true: ArrayLike, pred: ArrayLike) -> dict[str, float]:
    """Errors of a predicted customer value against the realised value.

    Returns
    -------
    dict
        ``mae``, ``rmse``, ``spearman`` (rank correlation; NaN when either input is constant) and
        ``total_relative_error`` = (sum pred - sum true) / sum true (NaN when sum true is 0), all
        plain floats.

    Examples
    --------
    >>> m = regression_metrics([10.0, 20.0, 30.0], [12.0, 18.0, 33.0])
    >>> m["mae"], m["spearman"], round(m["total_relative_error"], 4)
    (2.3333333333333335, 1.0, 0.05)
    """
    y = np.asarray(y_true, dtype=np.float64)
    if y.ndim != 1 or y.size == 0:
        raise DataError(f"y_true must be a non-empty 1-D array, got shape {y.shape}.")
    y = finite_values(y, n=y.size, name="y_true")
    p = finite_values(pred, n=y.size, name="pred")
    constant = y.min() == y.max() or p.min() == p.max()
    total_true = float(y.sum())
    return {
        "mae": float(mean_absolute_error(y, p)),
        "rmse": float(root_mean_squared_error(y, p)),
        "spearman": math.nan if constant else float(spearmanr(y, p).statistic),
        "total_relative_error": (
            math.nan if total_true == 0 else (float(p.sum()) - total_true) / total_true
        ),
    }


# ---------------------------------------------------------------------------------- bootstrap
def _tie_groups(score: NDArray[np.float64]) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """Ascending stable order of ``score`` and the start of each run of tied scores in it."""
    order = np.argsort(score, kind="stable")
    s = score[order]
    return order, np.flatnonzero(np.r_[True, s[1:] != s[:-1]])


def _weighted_aucs(
    weights: NDArray[np.float64],
    is_pos: NDArray[np.bool_],
    order: NDArray[np.intp],
    starts: NDArray[np.intp],
) -> NDArray[np.float64]:
    """ROC AUC of one score under each row of observation weights (ties count one half).

    ``AUC = sum_g pos_g * (neg_below_g + neg_g / 2) / (P * N)`` over the score's tie groups g,
    with pos/neg the weighted counts of positives/negatives in g: the Mann-Whitney statistic, so
    integer weights give exactly the AUC of the resample those weights describe. NaN where a row
    has no positive or no negative weight.
    """
    w = weights[:, order]
    pos = np.where(is_pos[order], w, 0.0)
    if starts.size < order.size:  # ties: sum within each group (without ties it is a no-op)
        pos, w = np.add.reduceat(pos, starts, axis=1), np.add.reduceat(w, starts, axis=1)
    neg = w - pos
    neg_below = np.cumsum(neg, axis=1) - neg
    denominator = pos.sum(axis=1) * neg.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.sum(pos * (neg_below + 0.5 * neg), axis=1) / denominator


def bootstrap_auc_difference(
    y_true: ArrayLike,
    score_a: ArrayLike,
    score_b: ArrayLike,
    *,
    n_boot: int = 1000,
    seed: int = 0,
    level: float = 0.95,
) -> dict[str, float]:
    """Paired bootstrap interval of ``AUC(score_a) - AUC(score_b)`` on the same customers.

    Each replicate resamples customers with replacement and scores both models on the same
    resample, so the interval accounts for the correlation between the two scores. Resamples are
    represented by multiplicity weights and the AUC is computed from each score's tie groups,
    sorted once; no per-replicate sort or scikit-learn call. Replicates that draw a single class
    are dropped (only possible on tiny samples).

    Parameters
    ----------
    y_true : array-like of shape (n,)
        1 = churned, 0 = retained.
    score_a, score_b : array-like of shape (n,)
        Two scores of the same customers (any finite values; only their order matters).
    n_boot : int, default 1000
        Number of bootstrap replicates.
    seed : int, default 0
        Seed of :func:`numpy.random.default_rng`; equal inputs and seed give identical output.
    level : float, default 0.95
        Coverage of the percentile interval.

    Returns
    -------
    dict
        ``diff`` (the difference on the full sample), ``ci_low`` and ``ci_high`` (percentile
        interval). Identical scores give exactly ``(0.0, 0.0, 0.0)``.
    """
    if not isinstance(n_boot, int | np.integer) or n_boot < 1:
        raise ConfigError(f"n_boot must be a positive integer, got {n_boot!r}.")
    if not 0 < level < 1:
        raise ConfigError(f"level must be in (0, 1), got {level!r}.")
    y = binary_labels(y_true)
    a = finite_values(score_a, n=y.size, name="score_a")
    b = finite_values(score_b, n=y.size, name="score_b")
    diffs = _bootstrap_auc_differences(y.astype(bool), a, b, n_boot=n_boot, seed=seed)
    diffs = diffs[np.isfinite(diffs)]
    if diffs.size == 0:
        raise DataError(
            f"Every one of the {n_boot} bootstrap resamples held a single class; "
            "the sample is too small for a bootstrap interval."
        )
    tail = 100 * (1 - level) / 2
    low, high = np.percentile(diffs, [tail, 100 - tail])
    return {
        "diff": float(roc_auc_score(y, a) - roc_auc_score(y, b)),
        "ci_low": float(low),
        "ci_high": float(high),
    }


def _bootstrap_auc_differences(
    is_pos: NDArray[np.bool_],
    a: NDArray[np.float64],
    b: NDArray[np.float64],
    *,
    n_boot: int,
    seed: int,
) -> NDArray[np.float64]:
    """AUC(a) - AUC(b) on ``n_boot`` paired resamples, built in chunks of bounded memory."""
    n = is_pos.size
    rng = np.random.default_rng(seed)
    groups_a, groups_b = _tie_groups(a), _tie_groups(b)
    chunk = max(1, _CHUNK_CELLS // n)
    out = np.empty(n_boot)
    for start in range(0, n_boot, chunk):
        rows = min(chunk, n_boot - start)
        draws = rng.integers(0, n, size=(rows, n)) + (np.arange(rows) * n)[:, None]
        weights = np.bincount(draws.ravel(), minlength=rows * n).reshape(rows, n).astype(float)
        out[start : start + rows] = _weighted_aucs(weights, is_pos, *groups_a) - _weighted_aucs(
            weights, is_pos, *groups_b
        )
    return out
