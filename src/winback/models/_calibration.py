"""Probability calibrators stored as plain JSON (no pickles): isotonic and sigmoid (Platt)."""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from scipy.special import expit, logit
from sklearn.base import BaseEstimator
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss
from sklearn.model_selection import StratifiedKFold

__all__ = ["Calibrator", "choose_calibrator"]

_EPS = 1e-6


class Calibrator(BaseEstimator):
    """Monotone map from raw model probabilities to calibrated ones.

    Parameters
    ----------
    method : {"isotonic", "sigmoid", "identity"}
        Isotonic regression (piecewise linear between fitted thresholds) or Platt scaling on the
        logit of the raw probability.
    """

    def __init__(self, *, method: Literal["isotonic", "sigmoid", "identity"] = "isotonic") -> None:
        self.method = method

    def fit(self, raw: np.ndarray, y: np.ndarray) -> Calibrator:
        """Fit on raw probabilities ``raw`` and binary (or fractional) outcomes ``y``."""
        raw = np.asarray(raw, dtype=float)
        y = np.asarray(y, dtype=float)
        if self.method == "isotonic":
            iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(raw, y)
            self.params_ = {"x": iso.X_thresholds_.tolist(), "y": iso.y_thresholds_.tolist()}
        elif self.method == "sigmoid":
            z = _logit(raw).reshape(-1, 1)
            lr = LogisticRegression(C=1e6).fit(z, (y >= 0.5).astype(int))
            self.params_ = {"slope": float(lr.coef_[0, 0]), "intercept": float(lr.intercept_[0])}
        else:
            self.params_ = {}
        return self

    def transform(self, raw: np.ndarray) -> np.ndarray:
        """Return calibrated probabilities for raw probabilities ``raw``."""
        raw = np.asarray(raw, dtype=float)
        if self.method == "isotonic":
            return np.interp(raw, self.params_["x"], self.params_["y"])
        if self.method == "sigmoid":
            return expit(self.params_["slope"] * _logit(raw) + self.params_["intercept"])
        return raw

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready description of the fitted calibrator."""
        return {"method": self.method, "params": self.params_}

    @classmethod
    def from_dict(cls, spec: dict[str, Any]) -> Calibrator:
        """Rebuild a fitted calibrator from :meth:`to_dict` output."""
        cal = cls(method=spec["method"])
        cal.params_ = dict(spec["params"])
        return cal


def _logit(p: np.ndarray) -> np.ndarray:
    return logit(np.clip(p, _EPS, 1 - _EPS))


def choose_calibrator(raw: np.ndarray, y: np.ndarray, *, seed: int = 0) -> Calibrator:
    """Pick isotonic or sigmoid by 5-fold cross-validated log loss on ``(raw, y)``, then refit.

    Choosing on held-out folds avoids favouring isotonic regression, which always wins in-sample.
    The fitted calibrator keeps ``cv_log_loss_`` (method -> loss) and ``cv_predictions_`` (the
    chosen method's out-of-fold probability of each row, for comparing candidates row by row).
    """
    raw = np.asarray(raw, dtype=float)
    y = np.asarray(y).astype(int)
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=seed)
    losses, preds = {}, {}
    for method in ("isotonic", "sigmoid"):
        pred = np.empty_like(raw)
        for train, test in folds.split(raw.reshape(-1, 1), y):
            pred[test] = Calibrator(method=method).fit(raw[train], y[train]).transform(raw[test])
        losses[method] = log_loss(y, np.clip(pred, _EPS, 1 - _EPS), labels=[0, 1])
        preds[method] = pred
    best = min(losses, key=lambda m: (losses[m], m))
    cal = Calibrator(method=best).fit(raw, y)
    cal.cv_log_loss_ = losses
    cal.cv_predictions_ = preds[best]
    return cal
