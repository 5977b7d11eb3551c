"""LightGBM estimators for the three tasks: repurchase/churn probabilities and expected spend.

Both follow the scikit-learn contract: keyword-only ``__init__`` that only stores settings, ``fit``
that returns ``self``, fitted state in attributes ending in ``_``. Early stopping uses a later,
non-overlapping validation cutoff passed as ``X_val``/``y_val``; classifiers are then calibrated on
that validation set (isotonic or sigmoid, chosen by cross-validated log loss). No resampling.
"""

from __future__ import annotations

from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.utils.validation import check_is_fitted

from winback.exceptions import ConfigError, ModelError
from winback.models._booster import booster_predict
from winback.models._calibration import choose_calibrator
from winback.models._treeshap import pattern_shap, split_trees

__all__ = ["LGBMProbability", "LGBMSpend"]


class _LGBMBase(BaseEstimator):
    """Shared training loop: LightGBM with early stopping on a validation frame."""

    _objective: str = "binary"
    _metric: str = "binary_logloss"

    def __init__(
        self,
        *,
        n_estimators: int = 2000,
        learning_rate: float = 0.05,
        num_leaves: int = 15,
        min_child_samples: int = 100,
        subsample: float = 0.8,
        colsample_bytree: float = 0.8,
        reg_lambda: float = 1.0,
        early_stopping_rounds: int = 50,
        random_state: int = 0,
        n_jobs: int = 1,
    ) -> None:
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.subsample = subsample
        self.colsample_bytree = colsample_bytree
        self.reg_lambda = reg_lambda
        self.early_stopping_rounds = early_stopping_rounds
        self.random_state = random_state
        self.n_jobs = n_jobs

    def _lgb_params(self) -> dict[str, Any]:
        return {
            "objective": self._objective,
            "metric": self._metric,
            "learning_rate": self.learning_rate,
            "num_leaves": self.num_leaves,
            "min_data_in_leaf": self.min_child_samples,
            "bagging_fraction": self.subsample,
            "bagging_freq": 1 if self.subsample < 1 else 0,
            "feature_fraction": self.colsample_bytree,
            "lambda_l2": self.reg_lambda,
            "seed": self.random_state,
            "num_threads": self.n_jobs,
            "deterministic": True,
            "force_row_wise": True,
            "verbosity": -1,
            **self._extra_params(),
        }

    def _extra_params(self) -> dict[str, Any]:
        return {}

    def _fit_booster(self, X: pd.DataFrame, y: np.ndarray, X_val: pd.DataFrame, y_val: np.ndarray):
        self.feature_names_in_ = np.asarray(X.columns, dtype=object)
        self.n_features_in_ = X.shape[1]
        train = lgb.Dataset(X, label=y, free_raw_data=True)
        valid = lgb.Dataset(_aligned(X_val, self.feature_names_in_), label=y_val, reference=train)
        booster = lgb.train(
            self._lgb_params(),
            train,
            num_boost_round=self.n_estimators,
            valid_sets=[valid],
            valid_names=["validation"],
            callbacks=[lgb.early_stopping(self.early_stopping_rounds, verbose=False)],
        )
        self.best_iteration_ = int(booster.best_iteration or booster.current_iteration())
        self.booster_ = lgb.Booster(
            model_str=booster.model_to_string(num_iteration=self.best_iteration_)
        )
        return self

    def _raw_predict(self, X: pd.DataFrame) -> np.ndarray:
        check_is_fitted(self, "booster_")
        return booster_predict(self.booster_, _aligned(X, self.feature_names_in_))

    def contributions(self, X: pd.DataFrame, *, method: str = "shap") -> pd.DataFrame:
        """Per-feature contributions to the raw score, plus ``bias``; rows sum to the raw score.

        ``method="shap"``: exact TreeSHAP values from LightGBM (``pred_contrib``), computed once
        per distinct decision pattern of each tree (:mod:`winback.models._treeshap`; same values
        up to rounding, several times faster on large batches).
        ``method="path"``: decision-path attribution (Saabas; treeinterpreter, XGBoost's
        ``approx_contribs``): each split on a customer's path credits its feature with the change
        in the node's expected value. Same sum, not consistent in the SHAP sense: its top
        driver often differs from SHAP's (``bench/bench_reasons.py``).
        """
        check_is_fitted(self, "booster_")
        X = _aligned(X, self.feature_names_in_)
        if method == "shap":
            values = self._shap(X)
        elif method == "path":
            if getattr(self, "path_tables_", None) is None:
                self.path_tables_ = _leaf_tables(self.booster_, len(self.feature_names_in_))
            values = _path_contributions(self.booster_, X, self.path_tables_)
        else:
            raise ConfigError(
                f"contributions: method must be 'shap' (exact TreeSHAP) or 'path' (decision-path "
                f"attribution), got {method!r}."
            )
        columns = [*self.feature_names_in_, "bias"]
        return pd.DataFrame(values, index=X.index, columns=columns)

    def _shap(self, X: pd.DataFrame) -> np.ndarray:
        if getattr(self, "shap_trees_", None) is None:
            self.shap_trees_ = split_trees(self.booster_) or []
        if not self.shap_trees_ or self.booster_.pandas_categorical:
            return booster_predict(self.booster_, X, pred_contrib=True)
        if getattr(self, "shap_tables_", None) is None:  # filled as patterns are met
            self.shap_tables_ = [None] * len(self.shap_trees_)
        values = X.to_numpy(dtype=np.float64, na_value=np.nan)
        return pattern_shap(self.booster_, self.shap_trees_, values, self.shap_tables_)

    def feature_importance(self) -> pd.Series:
        """Total gain of each feature, descending."""
        check_is_fitted(self, "booster_")
        gain = self.booster_.feature_importance(importance_type="gain")
        return pd.Series(gain, index=self.feature_names_in_).sort_values(ascending=False)


class LGBMProbability(ClassifierMixin, _LGBMBase):
    """Calibrated probability of a binary outcome (e.g. repurchase within h days, or churn).

    ``fit(X, y, X_val=..., y_val=...)`` trains with early stopping on the validation frame and then
    fits a :class:`~winback.models._calibration.Calibrator` on the validation predictions.
    """

    def fit(
        self, X: pd.DataFrame, y: np.ndarray, *, X_val: pd.DataFrame, y_val: np.ndarray
    ) -> LGBMProbability:
        """Train on ``(X, y)``, stop early and calibrate on ``(X_val, y_val)``; return self."""
        y, y_val = _binary(y, "y"), _binary(y_val, "y_val")
        self.classes_ = np.array([0, 1])
        self._fit_booster(X, y, X_val, y_val)
        raw_val = self._raw_predict(X_val)
        self.calibrator_ = choose_calibrator(raw_val, y_val, seed=self.random_state)
        return self

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        """Return an ``(n, 2)`` array of calibrated [P(y=0), P(y=1)]."""
        check_is_fitted(self, ["booster_", "calibrator_"])
        p = self.calibrator_.transform(self._raw_predict(X))
        return np.column_stack([1 - p, p])

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        """Return the 0/1 prediction at probability 0.5."""
        return (self.predict_proba(X)[:, 1] >= 0.5).astype(int)


class LGBMSpend(RegressorMixin, _LGBMBase):
    """Expected spend over a horizon: Tweedie regression, suited to many exact zeros.

    Refunds can make a window's spend negative; the target is floored at zero for training
    (Tweedie needs non-negative labels), so predictions are expected gross positive spend.
    Predictions are scaled by ``level_`` so that they total the validation cutoff's spend.
    """

    _objective = "tweedie"
    _metric = "tweedie"

    def __init__(
        self,
        *,
        tweedie_variance_power: float = 1.5,
        n_estimators: int = 2000,
        learning_rate: float = 0.05,
        num_leaves: int = 15,
        min_child_samples: int = 100,
        subsample: float = 0.8,
        colsample_bytree: float = 0.8,
        reg_lambda: float = 1.0,
        early_stopping_rounds: int = 50,
        random_state: int = 0,
        n_jobs: int = 1,
    ) -> None:
        # Every parameter is spelled out: scikit-learn's get_params/clone read the signature.
        super().__init__(
            n_estimators=n_estimators,
            learning_rate=learning_rate,
            num_leaves=num_leaves,
            min_child_samples=min_child_samples,
            subsample=subsample,
            colsample_bytree=colsample_bytree,
            reg_lambda=reg_lambda,
            early_stopping_rounds=early_stopping_rounds,
            random_state=random_state,
            n_jobs=n_jobs,
        )
        self.tweedie_variance_power = tweedie_variance_power

    def _extra_params(self) -> dict[str, Any]:
        return {"tweedie_variance_power": self.tweedie_variance_power}

    def fit(
        self, X: pd.DataFrame, y: np.ndarray, *, X_val: pd.DataFrame, y_val: np.ndarray
    ) -> LGBMSpend:
        """Train with early stopping on ``(X_val, y_val)``, then set the level; return self.

        ``level_`` is the validation spend over the booster's predicted validation spend (1 when
        either is 0): the spend counterpart of calibrating probabilities on that cutoff, so
        predicted totals match the most recent window the labels can check.
        """
        y = np.clip(np.asarray(y, dtype=float), 0, None)
        y_val = np.clip(np.asarray(y_val, dtype=float), 0, None)
        self._fit_booster(X, y, X_val, y_val)
        self.level_ = _level(y_val.sum(), self._raw_predict(X_val).sum())
        return self

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        """Return the expected spend per row."""
        check_is_fitted(self, ["booster_", "level_"])
        return self.level_ * self._raw_predict(X)


def _level(observed: float, predicted: float) -> float:
    """Multiplier that makes ``predicted`` total ``observed`` (1.0 when either is not positive)."""
    return float(observed / predicted) if observed > 0 and predicted > 0 else 1.0


def _leaf_tables(booster: lgb.Booster, n_features: int) -> tuple[np.ndarray, float]:
    """Return ``tables[t, leaf, feature]`` (path credit of each leaf) and the summed root values."""
    trees = booster.dump_model()["tree_info"]
    n_leaves = max(t["num_leaves"] for t in trees)
    tables = np.zeros((len(trees), n_leaves, n_features))
    bias = 0.0
    for t, info in enumerate(trees):
        root = info["tree_structure"]
        bias += root.get("internal_value", root.get("leaf_value", 0.0))
        _credit_paths(root, tables[t], np.zeros(n_features))
    return tables, bias


def _credit_paths(node: dict, table: np.ndarray, credit: np.ndarray) -> None:
    if "leaf_index" in node or "split_feature" not in node:
        table[node.get("leaf_index", 0)] = credit
        return
    here = node["internal_value"]
    for child in (node["left_child"], node["right_child"]):
        value = child["internal_value"] if "split_feature" in child else child["leaf_value"]
        step = credit.copy()
        step[node["split_feature"]] += value - here
        _credit_paths(child, table, step)


def _path_contributions(
    booster: lgb.Booster, X: pd.DataFrame, path_tables: tuple[np.ndarray, float]
) -> np.ndarray:
    """Sum each tree's leaf credit rows: a sparse one-hot of the leaves times the stacked tables."""
    tables, bias = path_tables
    n_trees, n_leaves, n_features = tables.shape
    leaves = booster_predict(booster, X, pred_leaf=True).reshape(len(X), -1).astype(np.int64)
    columns = (leaves + np.arange(n_trees) * n_leaves).ravel()  # row-major: one row per customer
    indptr = np.arange(0, columns.size + 1, n_trees)
    onehot = sparse.csr_matrix(
        (np.ones(columns.size), columns, indptr), shape=(len(X), n_trees * n_leaves)
    )
    out = np.empty((len(X), n_features + 1))
    out[:, :n_features] = onehot @ tables.reshape(n_trees * n_leaves, n_features)
    out[:, n_features] = bias
    return out


def _binary(y: Any, name: str) -> np.ndarray:
    arr = np.asarray(y)
    values = set(np.unique(arr).tolist())
    if not values <= {0, 1}:
        raise ModelError(f"{name} must hold 0/1 labels, got values {sorted(values)[:5]}.")
    if len(values) < 2:
        raise ModelError(f"{name} holds a single class ({values}); cannot train a classifier.")
    return arr.astype(int)


def _aligned(X: pd.DataFrame, names: np.ndarray) -> pd.DataFrame:
    missing = [c for c in names if c not in X.columns]
    if missing:
        raise ModelError(
            f"The features frame lacks {len(missing)} column(s) the model was trained on: "
            f"{missing[:10]}. Build features with the same FeatureConfig as training."
        )
    return X.loc[:, list(names)]


def restore_booster(model_str: str) -> lgb.Booster:
    """Return a LightGBM booster from its own text format."""
    return lgb.Booster(model_str=model_str)
