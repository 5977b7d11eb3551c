"""One fitted task (repurchase, churn or spend): candidate models, the shipped choice, prediction.

A probability task trains LightGBM on the base features and a hybrid on base + BTYD features,
calibrates both on the validation cutoff, builds a calibrated blend of the better one with the best
BTYD model, and ships whichever has the lowest cross-validated log loss on the validation cutoff.
When the label window trained on (``label_days``) is shorter than the task's horizon, the
calibrated probability of no order within ``label_days`` is extended to the horizon with the best
BTYD model's per-customer probability of no order in (L, h] given none in (0, L]: LightGBM
supplies the calibrated level over the window labels can check, BTYD only the extrapolation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy.optimize import nnls
from scipy.special import expit, logit
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss, roc_auc_score
from sklearn.model_selection import KFold, StratifiedKFold

from winback.exceptions import ModelError
from winback.models._lgbm import LGBMProbability, LGBMSpend

__all__ = ["ProbabilityTask", "SpendTask", "TaskSpec"]

_EPS = 1e-6
BTYD_MODELS = ("bgnbd", "pareto_nbd")


@dataclass(frozen=True)
class TaskSpec:
    """What a task predicts: ``kind`` over ``horizon_days``, trained on ``label_days`` labels."""

    name: Literal["repurchase", "churn", "spend"]
    horizon_days: int
    label_days: int

    @property
    def label_column(self) -> str:
        """Training label column in a training frame."""
        prefix = "spend" if self.name == "spend" else "purchased"
        return f"{prefix}_within_{self.label_days}d"

    def target(self, frame: pd.DataFrame, *, days: int | None = None) -> np.ndarray:
        """Return the task's target at ``days`` (default: label_days) from a labelled frame."""
        days = self.label_days if days is None else days
        if self.name == "spend":
            return frame[f"spend_within_{days}d"].to_numpy(dtype=float)
        bought = frame[f"purchased_within_{days}d"].to_numpy(dtype=int)
        return 1 - bought if self.name == "churn" else bought


def btyd_probability(frame: pd.DataFrame, model: str, spec: TaskSpec, days: int) -> np.ndarray:
    """Return the BTYD model's probability of the task's event within ``days``."""
    p = frame[f"{model}_p_purchase_{days}d"].to_numpy(dtype=float)
    return 1 - p if spec.name == "churn" else p


def extend_horizon(p: np.ndarray, frame: pd.DataFrame, spec: TaskSpec, btyd: str) -> np.ndarray:
    """Extend P(event within label_days L) to horizon_days h through BTYD's survival ratio.

    q = (1 - P(X(h) >= 1)) / (1 - P(X(L) >= 1)) is the BTYD model's probability of no order in
    (L, h] given none in (0, L], clipped to [0, 1] (NaN -> 1). Churn (no order): p * q;
    repurchase: 1 - (1 - p) * q. Both stay in [0, 1] and keep the calibrated L-day level.
    """
    L, h = spec.label_days, spec.horizon_days
    none_h = 1 - frame[f"{btyd}_p_purchase_{h}d"].to_numpy(dtype=float)
    none_l = 1 - frame[f"{btyd}_p_purchase_{L}d"].to_numpy(dtype=float)
    with np.errstate(all="ignore"):
        q = np.clip(np.nan_to_num(none_h / none_l, nan=1.0, posinf=1.0), 0.0, 1.0)
    out = p * q if spec.name == "churn" else 1 - (1 - p) * q
    return np.clip(out, 0.0, 1.0)


def _clip_logit(p: np.ndarray) -> np.ndarray:
    return logit(np.clip(p, _EPS, 1 - _EPS))


def _cv_blend_log_loss(Z: np.ndarray, y: np.ndarray, seed: int) -> float:
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=seed)
    pred = np.empty(len(y))
    for train, test in folds.split(Z, y):
        pred[test] = LogisticRegression(C=1e4).fit(Z[train], y[train]).predict_proba(Z[test])[:, 1]
    return float(log_loss(y, np.clip(pred, _EPS, 1 - _EPS), labels=[0, 1]))


def _safe_auc(y: np.ndarray, score: np.ndarray) -> float:
    ok = np.isfinite(score)
    if ok.sum() < 2 or len(np.unique(y[ok])) < 2:
        return float("nan")
    return float(roc_auc_score(y[ok], score[ok]))


@dataclass
class _Task:
    """What every task holds: its spec, the two feature sets, its models and the choice made."""

    spec: TaskSpec
    base_features: list[str]
    hybrid_features: list[str]
    models: dict[str, Any] = field(default_factory=dict)
    method: str = "lightgbm"
    blend: dict[str, Any] | None = None
    selection: dict[str, Any] = field(default_factory=dict)

    def _feature_sets(self) -> tuple[tuple[str, list[str]], ...]:
        """The LightGBM candidates and their columns: base features, and base + BTYD (hybrid)."""
        return (("lightgbm", self.base_features), ("hybrid", self.hybrid_features))

    def _cols(self, name: str) -> list[str]:
        return self.hybrid_features if name == "hybrid" else self.base_features

    @property
    def shipped_model(self) -> Any:
        """The LightGBM model behind the shipped score (the blend's base for a blend).

        Raises
        ------
        ModelError
            If the task ships a BTYD model alone (only spend can), which has no LightGBM.
        """
        if self.method in self.models:
            return self.models[self.method]
        if self.method == "blend":
            return self.models[self.blend["model"]]
        raise ModelError(
            f"The {self.spec.name} task ships {self.method} (BTYD x Gamma-Gamma), which has no "
            "LightGBM model and so no feature contributions."
        )


@dataclass
class ProbabilityTask(_Task):
    """A fitted repurchase or churn task; see the module docstring for how it is chosen."""

    models: dict[str, LGBMProbability] = field(default_factory=dict)
    horizon_btyd: str | None = None

    def fit(
        self, train: pd.DataFrame, val: pd.DataFrame, *, lgbm_params: dict[str, Any], seed: int
    ) -> ProbabilityTask:
        """Fit the candidates on ``train``, choose and calibrate on ``val``; return self."""
        y, y_val = self.spec.target(train), self.spec.target(val)
        for name, cols in self._feature_sets():
            model = LGBMProbability(**lgbm_params, random_state=seed)
            self.models[name] = model.fit(train[cols], y, X_val=val[cols], y_val=y_val)
        losses = {n: min(m.calibrator_.cv_log_loss_.values()) for n, m in self.models.items()}
        losses.update(self._fit_blend(val, y_val, seed))
        self.method = min(losses, key=lambda m: (losses[m], m))
        self.selection = {
            "criterion": "5-fold cross-validated log loss on the validation cutoff",
            "cv_log_loss": losses,
            "validation_auc": {
                m: _safe_auc(y_val, self.predict_method(val, m, transfer=False)) for m in losses
            },
            "chosen": self.method,
        }
        if self.spec.label_days < self.spec.horizon_days:
            self._fit_transfer(val)
        return self

    def _best_btyd(self, frame: pd.DataFrame, y: np.ndarray) -> str | None:
        aucs = {
            m: _safe_auc(y, btyd_probability(frame, m, self.spec, self.spec.label_days))
            for m in BTYD_MODELS
        }
        aucs = {m: a for m, a in aucs.items() if np.isfinite(a)}
        return max(aucs, key=lambda m: (aucs[m], m)) if aucs else None

    def _fit_blend(self, val: pd.DataFrame, y_val: np.ndarray, seed: int) -> dict[str, float]:
        btyd = self._best_btyd(val, y_val)
        if btyd is None:
            return {}
        base = min(self.models, key=lambda n: min(self.models[n].calibrator_.cv_log_loss_.values()))
        Z = self._blend_inputs(val, base, btyd, self.spec.label_days)
        lr = LogisticRegression(C=1e4).fit(Z, y_val)
        self.blend = {
            "model": base,
            "btyd": btyd,
            "coef": lr.coef_[0].tolist(),
            "intercept": float(lr.intercept_[0]),
        }
        return {"blend": _cv_blend_log_loss(Z, y_val, seed)}

    def _blend_inputs(self, frame: pd.DataFrame, base: str, btyd: str, days: int) -> np.ndarray:
        p_model = self.models[base].predict_proba(frame[self._cols(base)])[:, 1]
        p_btyd = np.nan_to_num(btyd_probability(frame, btyd, self.spec, days), nan=0.5)
        return np.column_stack([_clip_logit(p_model), _clip_logit(p_btyd)])

    def _fit_transfer(self, val: pd.DataFrame) -> None:
        self.horizon_btyd = self._best_btyd(val, self.spec.target(val)) or "bgnbd"
        self.selection["horizon_transfer"] = (
            f"trained on {self.spec.label_days}-day labels (no {self.spec.horizon_days}-day window "
            f"fits twice before the label bound); calibrated {self.spec.label_days}-day "
            f"probabilities extended to {self.spec.horizon_days} days by {self.horizon_btyd}'s "
            "per-customer P(no order in (L, h] | none in (0, L])"
        )

    def predict_method(
        self, frame: pd.DataFrame, method: str, *, transfer: bool = True
    ) -> np.ndarray:
        """Return one candidate's probability of the task's event for each row of ``frame``."""
        if method == "blend":
            b = self.blend
            Z = self._blend_inputs(frame, b["model"], b["btyd"], self.spec.label_days)
            p = expit(Z @ np.asarray(b["coef"]) + b["intercept"])
        else:
            p = self.models[method].predict_proba(frame[self._cols(method)])[:, 1]
        if transfer and self.horizon_btyd is not None:
            p = extend_horizon(p, frame, self.spec, self.horizon_btyd)
        return p

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        """Return the shipped probability for each row of ``frame``."""
        return self.predict_method(frame, self.method)


@dataclass
class SpendTask(_Task):
    """A fitted spend task; the shipped candidate has the lowest validation RMSE.

    Candidates: Tweedie LightGBM on base or hybrid features (each scaled to the validation total,
    see :class:`LGBMSpend`); the better BTYD model's expected purchases x Gamma-Gamma's expected
    order value (``<btyd>_gg``); and a non-negative least-squares blend of the better LightGBM
    with it (weights fitted on the validation cutoff, its RMSE 5-fold cross-validated). When
    trained on a shorter label window than the horizon, LightGBM's predictions are scaled per
    customer by the BTYD ratio of expected purchases over the horizon to those over the window;
    the BTYD candidate predicts the horizon directly.
    """

    models: dict[str, LGBMSpend] = field(default_factory=dict)

    def fit(
        self, train: pd.DataFrame, val: pd.DataFrame, *, lgbm_params: dict[str, Any], seed: int
    ) -> SpendTask:
        """Fit the candidates on ``train``, choose on ``val``; return self."""
        y, y_val = self.spec.target(train), self.spec.target(val)
        predicted = {}
        for name, cols in self._feature_sets():
            model = LGBMSpend(**lgbm_params, random_state=seed)
            self.models[name] = model.fit(train[cols], y, X_val=val[cols], y_val=y_val)
            predicted[name] = model.predict(val[cols])
        rmse = {name: _rmse(y_val, p) for name, p in predicted.items()}
        rmse.update(self._fit_blend(val, y_val, predicted, rmse, seed))
        self.method = min(rmse, key=lambda m: (rmse[m], m))
        self.selection = {
            "criterion": "RMSE on the validation cutoff (5-fold cross-validated for the blend)",
            "rmse": rmse,
            "validation_levels": {n: m.level_ for n, m in self.models.items()},
            "chosen": self.method,
        }
        return self

    def _fit_blend(
        self,
        val: pd.DataFrame,
        y_val: np.ndarray,
        predicted: dict[str, np.ndarray],
        rmse: dict[str, float],
        seed: int,
    ) -> dict[str, float]:
        """Fit the blend of the better LightGBM with the better BTYD x Gamma-Gamma; their RMSEs.

        ``predicted`` holds each LightGBM candidate's predictions on ``val``.
        """
        days = self.spec.label_days
        btyd = {m: btyd_spend(val, m, days) for m in BTYD_MODELS}
        scores = {m: _rmse(y_val, p) for m, p in btyd.items() if np.isfinite(p).any()}
        if not scores:
            return {}
        best = min(scores, key=lambda m: (scores[m], m))
        base = min(self.models, key=lambda m: (rmse[m], m))
        Z = np.column_stack([predicted[base], np.nan_to_num(btyd[best])])
        weights, _ = nnls(Z, y_val)
        self.blend = {"model": base, "btyd": best, "weights": weights.tolist()}
        return {f"{best}_gg": scores[best], "blend": _cv_nnls_rmse(Z, y_val, seed)}

    def _model_spend(self, frame: pd.DataFrame, method: str) -> np.ndarray:
        return self.models[method].predict(frame[self._cols(method)])

    def horizon_ratio(self, frame: pd.DataFrame) -> np.ndarray:
        """Return the per-customer scale from label_days to horizon_days (1 when equal)."""
        h, L = self.spec.horizon_days, self.spec.label_days
        if h == L:
            return np.ones(len(frame))
        for model in BTYD_MODELS:
            num = frame[f"{model}_expected_purchases_{h}d"].to_numpy(dtype=float)
            den = frame[f"{model}_expected_purchases_{L}d"].to_numpy(dtype=float)
            with np.errstate(all="ignore"):
                ratio = num / den
            if np.isfinite(ratio).any():
                return np.where(np.isfinite(ratio), ratio, h / L)
        return np.full(len(frame), h / L)

    def predict_method(self, frame: pd.DataFrame, method: str) -> np.ndarray:
        """Return one candidate's expected spend over the horizon."""
        h = self.spec.horizon_days
        if method in self.models:
            return self._model_spend(frame, method) * self.horizon_ratio(frame)
        b = self.blend
        btyd = np.nan_to_num(btyd_spend(frame, b["btyd"], h))
        if method == f"{b['btyd']}_gg":
            return btyd
        w_model, w_btyd = b["weights"]
        return w_model * self.predict_method(frame, b["model"]) + w_btyd * btyd

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        """Return the shipped expected spend over the horizon."""
        return self.predict_method(frame, self.method)


def btyd_spend(frame: pd.DataFrame, model: str, days: int) -> np.ndarray:
    """Return the BTYD model's expected purchases in ``days`` x Gamma-Gamma's expected value."""
    purchases = frame[f"{model}_expected_purchases_{days}d"].to_numpy(dtype=float)
    return purchases * frame["gg_expected_value"].to_numpy(dtype=float)


def _rmse(y: np.ndarray, pred: np.ndarray) -> float:
    return float(np.sqrt(np.mean((np.nan_to_num(pred) - y) ** 2)))


def _cv_nnls_rmse(Z: np.ndarray, y: np.ndarray, seed: int) -> float:
    pred = np.empty(len(y))
    for train, test in KFold(n_splits=5, shuffle=True, random_state=seed).split(Z):
        weights, _ = nnls(Z[train], y[train])
        pred[test] = Z[test] @ weights
    return _rmse(y, pred)
