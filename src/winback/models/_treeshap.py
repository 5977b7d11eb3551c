"""Exact TreeSHAP of a LightGBM model, computed once per distinct decision pattern of each tree.

A tree's TreeSHAP values for a row depend on the row only through the side it takes at every
split of that tree (LightGBM's ``Tree::TreeSHAP`` reads a feature value only to decide a split).
A tree of ``L`` leaves has ``L - 1`` splits, and a batch of customers takes few distinct
patterns of sides; so each tree's values are computed by LightGBM itself
(``pred_contrib=True`` restricted to that tree) for one row per pattern and copied to every row
that shares it. The result is LightGBM's exact TreeSHAP, summed tree by tree (differences are
floating-point rounding only), at a fraction of the cost on large batches.
"""

from __future__ import annotations

from dataclasses import dataclass

import lightgbm as lgb
import numpy as np

from winback.models._booster import booster_predict

__all__ = ["PatternTable", "SplitTree", "pattern_shap", "split_trees"]

# LightGBM's decision_type bits (include/LightGBM/tree.h) and its zero threshold (kZeroThreshold)
_CATEGORICAL, _DEFAULT_LEFT = 1, 2
_MISSING_ZERO, _MISSING_NAN = 1, 2
_ZERO = float(np.float32(1e-35))
_DENSE_CODES_MAX_SPLITS = 20  # up to 2**20 codes: a lookup table; more: np.unique
_TABLE_MAX_SPLITS = 16  # a tree's pattern table indexes 2**splits codes


@dataclass(frozen=True)
class SplitTree:
    """The numerical splits of one tree: feature, threshold, default side and missing type."""

    feature: np.ndarray
    threshold: np.ndarray
    default_left: np.ndarray
    missing: np.ndarray

    @property
    def used(self) -> np.ndarray:
        """The features the tree splits on (the only ones it gives a non-zero value)."""
        return np.unique(self.feature)


def split_trees(booster: lgb.Booster) -> list[SplitTree] | None:
    """Return the splits of every tree of ``booster``, read from its model text.

    None when the trees cannot be read that way: a categorical split, or several trees per
    iteration (multiclass).
    """
    if booster.num_model_per_iteration() != 1:
        return None
    trees, fields = [], {}
    for line in booster.model_to_string().splitlines():
        key, _, value = line.partition("=")
        if key == "Tree":
            fields = {}
        fields[key] = value
        if key == "shrinkage":  # the last line of a tree
            trees.append(_parse(fields))
    if any(tree is None for tree in trees):
        return None
    return trees


def _parse(fields: dict[str, str]) -> SplitTree | None:
    def ints(key: str) -> np.ndarray:
        return np.array(fields.get(key, "").split(), dtype=np.int64)

    decision = ints("decision_type")
    if (decision & _CATEGORICAL).any():
        return None
    return SplitTree(
        feature=ints("split_feature"),
        threshold=np.array(fields.get("threshold", "").split(), dtype=np.float64),
        default_left=(decision & _DEFAULT_LEFT) > 0,
        missing=(decision >> 2) & 3,
    )


@dataclass(frozen=True)
class PatternTable:
    """One tree's TreeSHAP values per pattern seen: ``row[code]`` indexes ``values`` (-1: none).

    ``values`` has one column per feature the tree splits on, then the tree's bias.
    """

    row: np.ndarray
    values: np.ndarray


def _tree_shap(booster: lgb.Booster, t: int, rows: np.ndarray) -> np.ndarray:
    """LightGBM's TreeSHAP values of ``rows`` under tree ``t`` alone (one thread: small calls)."""
    return booster_predict(
        booster, rows, pred_contrib=True, start_iteration=t, num_iteration=1, num_threads=1
    )


def pattern_shap(
    booster: lgb.Booster,
    trees: list[SplitTree],
    X: np.ndarray,
    tables: list[PatternTable | None] | None = None,
) -> np.ndarray:
    """Return LightGBM's TreeSHAP values of ``X`` (n, features + 1; last column the bias).

    ``X`` holds the model's features in its order, as float64 (what LightGBM predicts on).
    ``tables``, one slot per tree (start with ``[None] * len(trees)``), keeps the values of
    the patterns seen so far for the next call: only new patterns are computed by LightGBM.
    The values are the same with or without it (a pattern's values do not depend on the row).
    """
    n, n_features = X.shape
    X = np.asfortranarray(X)
    nan = np.isnan(X)
    out = np.zeros((n, n_features + 1), order="F")
    for t, tree in enumerate(trees):
        columns = [*tree.used, n_features]
        codes = _codes(tree, X, nan)
        table = None if tables is None else tables[t]
        if len(tree.feature) > _TABLE_MAX_SPLITS or tables is None:
            first, inverse = _patterns(codes, len(tree.feature))
            values = _tree_shap(booster, t, X[first])[:, columns]
        else:
            if table is None:
                table = PatternTable(
                    row=np.full(1 << len(tree.feature), -1, dtype=np.int32),
                    values=np.empty((0, len(columns))),
                )
            table = _extended(table, booster, t, codes, X, columns)
            tables[t] = table  # one assignment: a concurrent call at worst recomputes
            inverse, values = table.row[codes], table.values
        for k, column in enumerate(columns):
            out[:, column] += values[inverse, k]
    return out


def _extended(
    table: PatternTable,
    booster: lgb.Booster,
    t: int,
    codes: np.ndarray,
    X: np.ndarray,
    columns: list[int],
) -> PatternTable:
    """``table`` with the values of the patterns among ``codes`` it lacks (itself if none)."""
    unknown = table.row[codes] < 0
    if not unknown.any():
        return table
    first, _ = _patterns(codes[unknown], len(table.row).bit_length() - 1)
    rows = np.flatnonzero(unknown)[first]
    found = _tree_shap(booster, t, X[rows])[:, columns]
    row = table.row.copy()
    row[codes[rows]] = len(table.values) + np.arange(len(rows))
    return PatternTable(row=row, values=np.concatenate([table.values, found]))


def _codes(tree: SplitTree, X: np.ndarray, nan: np.ndarray) -> np.ndarray:
    """Each row's pattern of sides: bit ``i`` set when the row goes left at split ``i``.

    LightGBM's ``NumericalDecision``: NaN counts as 0 unless the missing type is NaN; a
    missing value (NaN, or zero under missing type Zero) takes the default side; otherwise
    ``value <= threshold`` goes left.
    """
    codes = np.zeros(len(X), dtype=np.int64)
    for i, (f, threshold, default_left, missing) in enumerate(
        zip(tree.feature, tree.threshold, tree.default_left, tree.missing, strict=True)
    ):
        x, x_nan = X[:, f], nan[:, f]
        left = x <= threshold  # False for NaN
        if missing == _MISSING_NAN:
            left |= x_nan & default_left
        elif missing == _MISSING_ZERO:
            zero = x_nan | ((x >= -_ZERO) & (x <= _ZERO))
            left = np.where(zero, default_left, left)
        else:
            left |= x_nan & (threshold >= 0.0)
        codes |= left.astype(np.int64) << i
    return codes


def _patterns(codes: np.ndarray, n_splits: int) -> tuple[np.ndarray, np.ndarray]:
    """Return one row per distinct code (in code order) and each row's pattern number."""
    if n_splits > _DENSE_CODES_MAX_SPLITS:
        _, first, inverse = np.unique(codes, return_index=True, return_inverse=True)
        return first, inverse.ravel()
    row = np.full(1 << n_splits, -1, dtype=np.int64)
    row[codes[::-1]] = np.arange(len(codes) - 1, -1, -1)  # any row of a pattern would do
    present = np.flatnonzero(row >= 0)
    number = np.zeros(1 << n_splits, dtype=np.int64)
    number[present] = np.arange(len(present))
    return row[present], number[codes]
