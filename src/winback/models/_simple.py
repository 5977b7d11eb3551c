"""The simple candidates a probability task can ship: the RFM logit and a calibrated BTYD model.

Both are stored as plain JSON (coefficients and calibrators, no pickles) and explain their score
on the log-odds scale as LightGBM does: ``contributions`` rows sum to the raw log-odds score.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy.special import logit
from sklearn.base import BaseEstimator
from sklearn.linear_model import LogisticRegression

from winback.features import column_name
from winback.models._calibration import Calibrator, choose_calibrator

__all__ = ["RFM_LOGIT_COLUMNS", "BTYDScore", "RFMLogit", "clip_logit"]

RFM_LOGIT_COLUMNS = ["rfm_days_since_last", "rfm_frequency", "rfm_monetary_value", "rfm_T"]
_EPS = 1e-6


def clip_logit(p: np.ndarray) -> np.ndarray:
    """Return the logit of ``p`` clipped to [1e-6, 1 - 1e-6]."""
    return logit(np.clip(np.asarray(p, dtype=float), _EPS, 1 - _EPS))


def rfm_matrix(frame: pd.DataFrame) -> np.ndarray:
    """Return log(1 + x) of the RFM columns (negatives as 0, missing as 0), shape (n, 4)."""
    values = frame[RFM_LOGIT_COLUMNS].clip(lower=0).fillna(0).to_numpy(dtype=float)
    return np.log1p(values)


class RFMLogit(BaseEstimator):
    """Logistic regression on standardised log RFM (recency, frequency, monetary value, tenure).

    ``fit`` learns the coefficients on training cutoffs; ``calibrate`` fits a
    :class:`Calibrator` on a validation cutoff. Columns: :data:`RFM_LOGIT_COLUMNS`, the lifetimes
    RFM summary in days (``winback.models.rfm_days_columns``).
    """

    def __init__(self, *, C: float = 1.0) -> None:
        self.C = C

    def fit(self, frame: pd.DataFrame, y: np.ndarray) -> RFMLogit:
        """Fit on ``frame``'s RFM columns and binary outcomes ``y``; return self."""
        X = rfm_matrix(frame)
        self.mean_ = X.mean(axis=0)
        scale = X.std(axis=0)
        self.scale_ = np.where(scale > 0, scale, 1.0)
        lr = LogisticRegression(C=self.C).fit((X - self.mean_) / self.scale_, y)
        self.coef_ = lr.coef_[0].astype(float)
        self.intercept_ = float(lr.intercept_[0])
        self.calibrator_: Calibrator | None = None
        return self

    def calibrate(self, frame: pd.DataFrame, y: np.ndarray, *, seed: int) -> RFMLogit:
        """Fit the calibrator on a validation frame; return self."""
        self.calibrator_ = choose_calibrator(self.raw_proba(frame), y, seed=seed)
        return self

    def contributions(self, frame: pd.DataFrame, *, method: str = "shap") -> pd.DataFrame:
        """Per-column log-odds terms ``coef * (x - mean) / scale`` plus ``bias`` (the intercept).

        Exact for a linear model whatever ``method`` (kept for the LightGBM signature).
        """
        terms = (rfm_matrix(frame) - self.mean_) / self.scale_ * self.coef_
        out = pd.DataFrame(terms, index=frame.index, columns=RFM_LOGIT_COLUMNS)
        out["bias"] = self.intercept_
        return out

    def raw_log_odds(self, frame: pd.DataFrame) -> np.ndarray:
        """Return the uncalibrated log-odds of each row."""
        return self.contributions(frame).to_numpy().sum(axis=1)

    def raw_proba(self, frame: pd.DataFrame) -> np.ndarray:
        """Return the uncalibrated probability of each row."""
        return 1.0 / (1.0 + np.exp(-self.raw_log_odds(frame)))

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
        """Return an ``(n, 2)`` array of calibrated [P(y=0), P(y=1)]."""
        p = self.calibrator_.transform(self.raw_proba(frame))
        return np.column_stack([1 - p, p])

    def feature_importance(self) -> pd.Series:
        """Absolute standardised coefficient of each column, descending."""
        return pd.Series(np.abs(self.coef_), index=RFM_LOGIT_COLUMNS).sort_values(ascending=False)

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready description of the fitted model."""
        return {
            "C": self.C,
            "columns": list(RFM_LOGIT_COLUMNS),
            "mean": self.mean_.tolist(),
            "scale": self.scale_.tolist(),
            "coef": self.coef_.tolist(),
            "intercept": self.intercept_,
            "calibrator": None if self.calibrator_ is None else self.calibrator_.to_dict(),
        }

    @classmethod
    def from_dict(cls, spec: dict[str, Any]) -> RFMLogit:
        """Rebuild a fitted model from :meth:`to_dict` output."""
        model = cls(C=float(spec["C"]))
        model.mean_ = np.asarray(spec["mean"], dtype=float)
        model.scale_ = np.asarray(spec["scale"], dtype=float)
        model.coef_ = np.asarray(spec["coef"], dtype=float)
        model.intercept_ = float(spec["intercept"])
        cal = spec.get("calibrator")
        model.calibrator_ = None if cal is None else Calibrator.from_dict(cal)
        return model


class BTYDScore(BaseEstimator):
    """A BTYD model's probability of the task's event, calibrated on a validation cutoff.

    ``raw`` (computed by the task from the BTYD feature columns) goes through the calibrator;
    the explanation gives the whole log-odds to the model's ``p_alive`` column against the
    validation cutoff's mean (``bias``).
    """

    def __init__(self, *, model: str) -> None:
        self.model = model

    def calibrate(self, raw: np.ndarray, y: np.ndarray, *, seed: int) -> BTYDScore:
        """Fit the calibrator on validation probabilities ``raw`` and outcomes ``y``."""
        ok = np.isfinite(raw)
        self.calibrator_ = choose_calibrator(raw[ok], y[ok], seed=seed)
        self.bias_ = float(np.mean(clip_logit(self.calibrator_.transform(raw[ok]))))
        return self

    def predict(self, raw: np.ndarray) -> np.ndarray:
        """Return calibrated probabilities of raw BTYD probabilities ``raw``."""
        return self.calibrator_.transform(raw)

    @property
    def column(self) -> str:
        """The feature column the explanation credits."""
        return column_name("{model}_p_alive", model=self.model)

    def contributions(self, log_odds: np.ndarray, index: pd.Index) -> pd.DataFrame:
        """Return ``{column: log_odds - bias, bias: bias}`` for scores ``log_odds``."""
        return pd.DataFrame({self.column: log_odds - self.bias_, "bias": self.bias_}, index=index)

    def feature_importance(self) -> pd.Series:
        """The one column the score reads."""
        return pd.Series([1.0], index=[self.column])

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready description."""
        return {"model": self.model, "calibrator": self.calibrator_.to_dict(), "bias": self.bias_}

    @classmethod
    def from_dict(cls, spec: dict[str, Any]) -> BTYDScore:
        """Rebuild from :meth:`to_dict` output."""
        score = cls(model=spec["model"])
        score.calibrator_ = Calibrator.from_dict(spec["calibrator"])
        score.bias_ = float(spec["bias"])
        return score
