"""One fitted task (repurchase, churn or spend): candidate models, the shipped choice, prediction.

Probability tasks
-----------------
Candidates: LightGBM on the base features, the *hybrid* on base + BTYD features, the *blend* of
the better of the two with the best BTYD model, the best BTYD model alone, as fitted at the cutoff
(``<model>_uncalibrated``) and calibrated (``<model>_calibrated``), and the RFM logit
(``rfm_logit_calibrated``); all but the first BTYD one are calibrated on the validation cutoff
(isotonic or sigmoid, chosen by cross-validation).

Choice (stable on small validation sets): climb from the simplest candidate, the BTYD model as
fitted, to the calibrated BTYD model, the RFM logit and then LightGBM, the hybrid and the blend;
each step up is taken
only if the more complex candidate beats the current one with one-sided 95% confidence: the mean
of the per-customer differences of out-of-fold log loss on the validation cutoff plus 1.645
standard errors must be below zero (among those that pass, the lowest log loss wins). On a few
hundred customers the standard error is large and a simple model ships; on tens of thousands a
real gain passes.

Level: calibration on one validation window carries that window's base rate. A task measures, on
its labelled training cutoffs, whether carrying the level of the window that just ended
(adjusted for the population's change by BTYD) or the BTYD model's own level (fitted at each
cutoff) tracked the observed rate better; with the BTYD level, :meth:`ProbabilityTask.anchor_level`
scales each candidate's purchase rates (P(no order) to a power) so that its mean over the
population at the cutoff equals the BTYD model's.

Coherence across horizons: the task with the longer horizon is modelled as the shorter one plus a
conditional increment, P(no order within h2) = P(no order within h1) x P(no order in (h1, h2] |
none in (0, h1]). Its candidates are trained on the customers without an order within h1, so for
every customer P(order within h1) <= P(order within h2) by construction.

Horizon extension: when the label window (``label_days`` L) is shorter than the horizon h, the
survival P(no order within L) is extended with the chosen BTYD model's P(no order in (L, h] | none
in (0, L]). Where BTYD gives no value (a failed fit), the constant-hazard extension S(L)^(h/L)
is used instead, logged at WARNING and recorded in ``selection``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy.optimize import brentq, nnls
from scipy.special import expit
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import KFold, StratifiedKFold

from winback.exceptions import ModelError
from winback.features import BTYD_MODELS as BTYD_MODEL_NAMES
from winback.features import column_name
from winback.models._hybrid import expected_purchases_column, p_purchase_column
from winback.models._lgbm import LGBMProbability, LGBMSpend
from winback.models._simple import BTYDScore, RFMLogit, clip_logit

__all__ = [
    "ProbabilityTask",
    "SpendTask",
    "TaskSpec",
    "btyd_probability",
    "btyd_spend",
    "choose_candidate",
    "extend_horizon",
]

logger = logging.getLogger(__name__)

_EPS = 1e-6
BTYD_MODELS = tuple(BTYD_MODEL_NAMES)
RFM_METHOD = "rfm_logit_calibrated"
EXTENSION = "extension"  # a conditional task without a window of its own: BTYD extension only
MIN_EVENTS = 20  # fewer outcomes of either kind in a window: no model of that window is fitted
Z_95 = 1.6448536269514722  # one-sided 95% normal quantile
MIN_LEVEL_PAIRS = 3  # labelled cutoff pairs needed before the BTYD level may replace validation's


@dataclass(frozen=True)
class TaskSpec:
    """What a task predicts: ``kind`` over ``horizon_days``, trained on ``label_days`` labels."""

    name: Literal["repurchase", "churn", "spend"]
    horizon_days: int
    label_days: int

    @property
    def label_column(self) -> str:
        """Training label column in a training frame."""
        return self.label_at(self.label_days)

    def label_at(self, days: int) -> str:
        """The label column of the task's kind over ``days`` (spend, or an order at all)."""
        template = "spend_within_{h}d" if self.name == "spend" else "purchased_within_{h}d"
        return column_name(template, h=days)

    def target(self, frame: pd.DataFrame, *, days: int | None = None) -> np.ndarray:
        """Return the task's target at ``days`` (default: label_days) from a labelled frame."""
        days = self.label_days if days is None else days
        if self.name == "spend":
            return frame[self.label_at(days)].to_numpy(dtype=float)
        bought = frame[self.label_at(days)].to_numpy(dtype=int)
        return 1 - bought if self.name == "churn" else bought


def btyd_probability(frame: pd.DataFrame, model: str, spec: TaskSpec, days: int) -> np.ndarray:
    """Return the BTYD model's probability of the task's event within ``days``."""
    p = frame[p_purchase_column(model, days)].to_numpy(dtype=float)
    return 1 - p if spec.name == "churn" else p


def _btyd_none(frame: pd.DataFrame, model: str | None, days: int) -> np.ndarray:
    """BTYD's P(no order within ``days``) (1 at 0 days; NaN without a model)."""
    if days == 0:
        return np.ones(len(frame))
    if model is None:
        return np.full(len(frame), np.nan)
    return 1 - frame[p_purchase_column(model, days)].to_numpy(dtype=float)


def extend_survival(
    survival: np.ndarray, frame: pd.DataFrame, btyd: str | None, start: int, end: int
) -> tuple[np.ndarray, int]:
    """Extend P(no order within ``start`` days) to ``end`` days; also return the fallback count.

    q = (1 - P(X(end) >= 1)) / (1 - P(X(start) >= 1)) is the BTYD model's probability of no order
    in (start, end] given none in (0, start], clipped to [0, 1]. Where it is undefined (no model,
    a failed fit, 0/0) the constant-hazard ratio ``survival ** ((end - start) / start)`` is used;
    the count of such rows is returned so that the caller reports it.
    """
    survival = np.clip(np.asarray(survival, dtype=float), 0.0, 1.0)
    if end <= start:
        return survival, 0
    with np.errstate(all="ignore"):
        q = _btyd_none(frame, btyd, end) / _btyd_none(frame, btyd, start)
        undefined = ~np.isfinite(q)
        constant_hazard = survival ** ((end - start) / start)
    q = np.where(undefined, constant_hazard, np.clip(q, 0.0, 1.0))
    return np.clip(survival * q, 0.0, 1.0), int(undefined.sum())


def extend_horizon(
    p: np.ndarray, frame: pd.DataFrame, spec: TaskSpec, btyd: str | None
) -> np.ndarray:
    """Extend P(event within label_days L) to horizon_days h through BTYD's survival ratio.

    Churn (no order): p * q; repurchase: 1 - (1 - p) * q, with q from :func:`extend_survival`
    (the constant-hazard ratio, logged at WARNING, where BTYD has no value). Both stay in
    [0, 1] and keep the calibrated L-day level.
    """
    survival = p if spec.name == "churn" else 1 - p
    out, fallback = extend_survival(survival, frame, btyd, spec.label_days, spec.horizon_days)
    _warn_fallback(fallback, len(frame), spec, btyd)
    return out if spec.name == "churn" else 1 - out


def _warn_fallback(count: int, total: int, spec: TaskSpec, btyd: str | None) -> None:
    if count:
        logger.warning(
            "%s: %d of %d customers have no %s estimate; their %d-day probability is extended to "
            "%d days at a constant hazard instead.",
            spec.name,
            count,
            total,
            btyd or "BTYD",
            spec.label_days,
            spec.horizon_days,
        )


def choose_candidate(
    y: np.ndarray, predictions: dict[str, np.ndarray], tiers: list[list[str]]
) -> tuple[str, dict[str, Any]]:
    """Return the shipped candidate and the evidence: climb from the simplest only on evidence.

    ``predictions`` are out-of-fold probabilities on the validation cutoff; ``tiers`` lists the
    candidates from the simplest tier to the most complex. The best (lowest log loss) of the
    first non-empty tier is the default; a candidate of a later tier replaces the current choice
    only if mean(loss_candidate - loss_current) + 1.645 * its standard error < 0 (per-customer
    log loss, paired), i.e. its gain is significant at one-sided 95%; among those that pass the
    lowest log loss wins, and the next tier is compared with it.
    """
    y = np.asarray(y, dtype=float)
    losses = {m: _row_log_loss(y, p) for m, p in predictions.items()}
    means = {m: float(v.mean()) for m, v in losses.items()}
    tiers = [[m for m in tier if m in losses] for tier in tiers]
    tiers = [tier for tier in tiers if tier]
    chosen = min(tiers[0], key=lambda m: (means[m], m))
    steps = []
    for tier in tiers[1:]:
        gains = {m: _paired_gain(losses[m], losses[chosen]) for m in tier}
        passed = [m for m, g in gains.items() if g["upper_95"] < 0]
        steps.append({"against": chosen, "gains": gains})
        if passed:
            chosen = min(passed, key=lambda m: (means[m], m))
    return chosen, {"cv_log_loss": means, "tiers": tiers, "steps": steps}


def _paired_gain(loss: np.ndarray, reference: np.ndarray) -> dict[str, float]:
    """Mean per-customer loss difference and its one-sided 95% upper bound."""
    d = loss - reference
    se = float(d.std(ddof=1) / np.sqrt(len(d))) if len(d) > 1 else float("inf")
    return {"mean": float(d.mean()), "upper_95": float(d.mean() + Z_95 * se)}


def _row_log_loss(y: np.ndarray, p: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(p, dtype=float), _EPS, 1 - _EPS)
    return -(y * np.log(p) + (1 - y) * np.log1p(-p))


def _cv_blend(Z: np.ndarray, y: np.ndarray, seed: int) -> np.ndarray:
    """Out-of-fold predictions of the blend's logistic regression (5 stratified folds)."""
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=seed)
    pred = np.empty(len(y))
    for train, test in folds.split(Z, y):
        pred[test] = LogisticRegression(C=1e4).fit(Z[train], y[train]).predict_proba(Z[test])[:, 1]
    return pred


def _safe_auc(y: np.ndarray, score: np.ndarray) -> float:
    ok = np.isfinite(score)
    if ok.sum() < 2 or len(np.unique(y[ok])) < 2:
        return float("nan")
    return float(roc_auc_score(y[ok], score[ok]))


def _rate_offset(survival: np.ndarray, target: float) -> float:
    """Return d with mean(survival ** exp(d)) = target: the log of a purchase-rate factor.

    Raising P(no order) to the power k multiplies every customer's purchase rate by k (the
    complementary log-log scale), the way a level change acts on a Poisson purchase process.
    0 when ``target`` is not in (0, 1) or the survivals cannot reach it.
    """
    s = np.clip(survival[np.isfinite(survival)], 0.0, 1.0)
    if not 0 < target < 1 or len(s) == 0:
        return 0.0

    def gap(d: float) -> float:
        return float(np.mean(s ** np.exp(d))) - target

    if gap(-10.0) * gap(10.0) > 0:
        return 0.0
    return float(brentq(gap, -10.0, 10.0, xtol=1e-12))


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
    """A fitted repurchase or churn task; see the module docstring for how it is chosen.

    ``condition_task``/``condition_days``: the shorter-horizon task this one is conditional on
    (None for the shortest). ``level_offsets``: per candidate, the log of the purchase-rate
    factor that anchors its level at the cutoff (see :meth:`anchor_level`).
    """

    models: dict[str, LGBMProbability] = field(default_factory=dict)
    horizon_btyd: str | None = None
    rfm_logit: RFMLogit | None = None
    btyd_score: BTYDScore | None = None
    condition_task: str | None = None
    condition_days: int | None = None
    level_btyd: str | None = None
    level_offsets: dict[str, float] = field(default_factory=dict)

    # ------------------------------------------------------------------------------- fitting

    def fit(
        self, train: pd.DataFrame, val: pd.DataFrame, *, lgbm_params: dict[str, Any], seed: int
    ) -> ProbabilityTask:
        """Fit the candidates on ``train``, choose and calibrate on ``val``; return self.

        A conditional task (``condition_days`` set) fits on the customers of each frame without
        an order within ``condition_days``.
        """
        self.selection = {}
        full_val = val
        if self.condition_days is not None:
            train, val = self._given_none(train), self._given_none(val)
        reason = self._no_window_reason(train, val)
        if reason is not None:
            self.method = EXTENSION
            self.selection = {"chosen": EXTENSION, "criterion": reason}
            self._fit_transfer(full_val)
            return self
        y, y_val = self.spec.target(train), self.spec.target(val)
        oof: dict[str, np.ndarray] = {}
        for name, cols in self._feature_sets():
            model = LGBMProbability(**lgbm_params, random_state=seed)
            self.models[name] = model.fit(train[cols], y, X_val=val[cols], y_val=y_val)
            oof[name] = model.calibrator_.cv_predictions_
        btyd = self._best_btyd(val, y_val)
        oof.update(self._fit_blend(val, y_val, btyd, seed))
        oof.update(self._fit_simple(train, y, val, y_val, btyd, seed))
        tiers = [
            [m for m in oof if m.endswith("_uncalibrated")],
            [m for m in oof if m.endswith("_calibrated") and m != RFM_METHOD],
            [RFM_METHOD],
            ["lightgbm", "hybrid", "blend"],
        ]
        self.method, evidence = choose_candidate(y_val, oof, tiers)
        self.selection = {
            **self.selection,  # notes made while fitting (BTYD models without estimates)
            "criterion": (
                "from the simplest candidate up (BTYD as fitted, calibrated BTYD, RFM logit, "
                "LightGBM/hybrid/blend): a more complex one ships only if its per-customer "
                "out-of-fold log-loss gain on the validation cutoff is significant (one-sided 95%)"
            ),
            **evidence,
            "validation_auc": {m: _safe_auc(y_val, p) for m, p in oof.items()},
            "validation_customers": len(y_val),
            "chosen": self.method,
        }
        if self.condition_days is not None:
            self.selection["conditional_on"] = (
                f"no order within {self.condition_days} days ({self.condition_task}): fitted on "
                f"the {len(y_val)} validation customers without one"
            )
        self.level_btyd = self._level_btyd(val, y_val)
        self.selection["level"] = self._level_source(train, val)
        self._fit_transfer(full_val)
        return self

    def _given_none(self, frame: pd.DataFrame) -> pd.DataFrame:
        bought = column_name("purchased_within_{h}d", h=self.condition_days)
        return frame[frame[bought].to_numpy() == 0]

    def _no_window_reason(self, train: pd.DataFrame, val: pd.DataFrame) -> str | None:
        L = self.spec.label_days
        if self.condition_days is not None and self.condition_days >= L:
            return (
                f"no label window beyond {self.condition_task}'s {self.condition_days} days fits "
                f"({L}-day labels): P(no order within {self.spec.horizon_days} days) is "
                f"P(no order within {self.condition_days} days) extended by BTYD"
            )
        for frame, where in ((train, "training"), (val, "validation")):
            y = self.spec.target(frame)
            if min(int(y.sum()), int(len(y) - y.sum())) < MIN_EVENTS:
                return (
                    f"fewer than {MIN_EVENTS} customers with (or without) the event in the "
                    f"{where} windows ({int(y.sum())} of {len(y)}): no model of the {L}-day "
                    "window is fitted; the horizon is reached by the BTYD extension"
                )
        return None

    def _btyd_event(self, frame: pd.DataFrame, model: str, days: int) -> np.ndarray:
        """BTYD's probability of the task's event within ``days`` (given none before, if so)."""
        none = _btyd_none(frame, model, days)
        if self.condition_days is not None:
            with np.errstate(all="ignore"):
                none = none / _btyd_none(frame, model, self.condition_days)
        return none if self.spec.name == "churn" else 1 - none

    def _best_btyd(self, frame: pd.DataFrame, y: np.ndarray) -> str | None:
        """The BTYD model with the best validation AUC among those defined for every customer."""
        aucs = {}
        for m in BTYD_MODELS:
            p = self._btyd_event(frame, m, self.spec.label_days)
            if np.isfinite(p).all():
                aucs[m] = _safe_auc(y, p)
            else:
                self._note_unavailable(m, int((~np.isfinite(p)).sum()), len(p))
        aucs = {m: a for m, a in aucs.items() if np.isfinite(a)}
        return max(aucs, key=lambda m: (aucs[m], m)) if aucs else None

    def _note_unavailable(self, model: str, missing: int, total: int) -> None:
        text = f"{model} has no estimate for {missing} of {total} validation customers"
        notes = self.selection.setdefault("btyd_unavailable", [])
        if text not in notes:
            notes.append(text)
            logger.warning("%s task: %s; it is not a candidate.", self.spec.name, text)

    def _fit_blend(
        self, val: pd.DataFrame, y_val: np.ndarray, btyd: str | None, seed: int
    ) -> dict[str, np.ndarray]:
        if btyd is None:
            return {}
        losses = {n: min(m.calibrator_.cv_log_loss_.values()) for n, m in self.models.items()}
        base = min(losses, key=lambda n: (losses[n], n))
        Z = self._blend_inputs(val, base, btyd)
        lr = LogisticRegression(C=1e4).fit(Z, y_val)
        self.blend = {
            "model": base,
            "btyd": btyd,
            "coef": lr.coef_[0].tolist(),
            "intercept": float(lr.intercept_[0]),
        }
        return {"blend": _cv_blend(Z, y_val, seed)}

    def _fit_simple(
        self,
        train: pd.DataFrame,
        y: np.ndarray,
        val: pd.DataFrame,
        y_val: np.ndarray,
        btyd: str | None,
        seed: int,
    ) -> dict[str, np.ndarray]:
        """Fit the RFM logit and the calibrated best BTYD model; their out-of-fold predictions."""
        self.rfm_logit = RFMLogit().fit(train, y).calibrate(val, y_val, seed=seed)
        out = {RFM_METHOD: self.rfm_logit.calibrator_.cv_predictions_}
        if btyd is not None:
            raw = self._btyd_event(val, btyd, self.spec.label_days)
            self.btyd_score = BTYDScore(model=btyd).calibrate(raw, y_val, seed=seed)
            out[f"{btyd}_calibrated"] = self.btyd_score.calibrator_.cv_predictions_
            out[f"{btyd}_uncalibrated"] = np.clip(raw, 0.0, 1.0)  # nothing fitted on validation
        return out

    def _blend_inputs(self, frame: pd.DataFrame, base: str, btyd: str) -> np.ndarray:
        p_model = self.models[base].predict_proba(frame[self._cols(base)])[:, 1]
        p_btyd = np.nan_to_num(self._btyd_event(frame, btyd, self.spec.label_days), nan=0.5)
        return np.column_stack([clip_logit(p_model), clip_logit(p_btyd)])

    def _fit_transfer(self, val: pd.DataFrame) -> None:
        """Choose the BTYD model that extends the label window to the horizon (if shorter).

        Chosen whenever ``label_days`` < ``horizon_days`` (the RFM logit baseline is extended
        with it too), noted in ``selection`` when this task's own score is extended.
        """
        if self.spec.label_days >= self.spec.horizon_days:
            return
        start = self._extension_start()
        y = self.spec.target(val)
        aucs = {}
        for m in BTYD_MODELS:
            p = btyd_probability(val, m, self.spec, self.spec.label_days)
            if np.isfinite(p).all():
                aucs[m] = _safe_auc(y, p)
        aucs = {m: a for m, a in aucs.items() if np.isfinite(a)}
        self.horizon_btyd = max(aucs, key=lambda m: (aucs[m], m)) if aucs else None
        how = (
            f"{self.horizon_btyd}'s per-customer P(no order in (L, h] | none in (0, L])"
            if self.horizon_btyd is not None
            else "a constant hazard (no BTYD model could be fitted for every customer)"
        )
        if start >= self.spec.horizon_days:
            return
        if self.horizon_btyd is None:
            logger.warning("%s task: the horizon is extended by %s.", self.spec.name, how)
        self.selection["horizon_transfer"] = (
            f"trained on {self.spec.label_days}-day labels (no {self.spec.horizon_days}-day window "
            f"fits twice before the label bound); probabilities of no order within {start} days "
            f"extended to {self.spec.horizon_days} days by {how}"
        )

    def _extension_start(self) -> int:
        if self.condition_days is None:
            return self.spec.label_days
        if self.method == EXTENSION:
            return self.condition_days
        return max(self.spec.label_days, self.condition_days)

    # --------------------------------------------------------------------------------- level

    def _level_btyd(self, val: pd.DataFrame, y_val: np.ndarray) -> str | None:
        """The BTYD model whose mean probability was closest to the validation rate."""
        errors = {}
        for m in BTYD_MODELS:
            p = self._btyd_event(val, m, self.spec.label_days)
            if np.isfinite(p).all():
                errors[m] = abs(float(p.mean()) - float(y_val.mean()))
        return min(errors, key=lambda m: (errors[m], m)) if errors else None

    def _level_source(self, train: pd.DataFrame, val: pd.DataFrame) -> dict[str, Any]:
        """Which level tracked the observed rate better over the labelled training cutoffs.

        For each cutoff c with an earlier cutoff c' about one label window before it:
        ``validation`` predicts rate(c) = rate(c') x B(c) / B(c') (the level of the window that
        just ended, moved by BTYD's view of the population's change), ``btyd`` predicts B(c),
        the BTYD model's mean probability at c. The one with the smaller mean absolute log error
        is used; ``validation`` when fewer than :data:`MIN_LEVEL_PAIRS` pairs exist or no BTYD
        model is available.
        """
        levels = self._levels(train, val)
        L = self.spec.label_days
        errors: dict[str, list[float]] = {"validation": [], "btyd": []}
        dates = sorted(levels)
        for c in dates:
            earlier = [d for d in dates if d < c]
            if not earlier:
                continue
            prev = min(earlier, key=lambda d: abs((c - d).days - L))
            if abs((c - prev).days - L) > L / 2:
                continue
            (rate, b), (rate_prev, b_prev) = levels[c], levels[prev]
            errors["validation"].append(abs(np.log(rate_prev * b / b_prev / rate)))
            errors["btyd"].append(abs(np.log(b / rate)))
        mean = {k: float(np.mean(v)) if v else float("nan") for k, v in errors.items()}
        use_btyd = len(errors["btyd"]) >= MIN_LEVEL_PAIRS and mean["btyd"] < mean["validation"]
        return {
            "source": "btyd" if use_btyd else "validation",
            "btyd_model": self.level_btyd,
            "pairs": len(errors["btyd"]),
            "mean_abs_log_error": mean,
        }

    def _levels(self, train: pd.DataFrame, val: pd.DataFrame) -> dict[pd.Timestamp, tuple]:
        """(observed rate, BTYD mean) per labelled cutoff; the validation cutoff last."""
        if self.level_btyd is None or "cutoff" not in train.index.names:
            return {}
        out = {}
        cutoffs = train.index.get_level_values("cutoff")
        last = max(cutoffs) if len(cutoffs) else None
        for c in sorted(set(cutoffs)):
            out[c] = self._level_pair(train[cutoffs == c])
        if last is not None:
            out[last + pd.Timedelta(days=self.spec.label_days)] = self._level_pair(val)
        return {c: v for c, v in out.items() if all(0 < x < 1 for x in v)}

    def _level_pair(self, frame: pd.DataFrame) -> tuple[float, float]:
        rate = float(self.spec.target(frame).mean())
        p = self._btyd_event(frame, self.level_btyd, self.spec.label_days)
        return rate, float(p[np.isfinite(p)].mean()) if np.isfinite(p).any() else float("nan")

    def anchor_level(self, frame: pd.DataFrame) -> ProbabilityTask:
        """Anchor each candidate's level to the BTYD model's at the cutoff of ``frame``.

        ``frame`` holds the population at the cutoff the model scores as of (features only, no
        labels). With the ``btyd`` level source each candidate's purchase rates are scaled (its
        P(no order) raised to a power, see :func:`_rate_offset`) so that its mean probability of
        the (conditional) label-window event over ``frame`` equals the level BTYD model's; with
        ``validation`` nothing moves. Returns self.
        """
        self.level_offsets = {}
        level = self.selection.get("level", {})
        if level.get("source") != "btyd" or self.level_btyd is None:
            return self
        target = self._btyd_event(frame, self.level_btyd, self.spec.label_days)
        target = float(np.nanmean(target)) if np.isfinite(target).any() else float("nan")
        target = target if self.spec.name == "churn" else 1 - target  # P(no order)
        for method in self.candidates:
            p = self._label_probability(frame, method)
            none = p if self.spec.name == "churn" else 1 - p
            self.level_offsets[method] = _rate_offset(none, target)
        level["target_mean"] = target
        level["offsets"] = dict(self.level_offsets)
        return self

    # ---------------------------------------------------------------------------- prediction

    @property
    def candidates(self) -> list[str]:
        """Names of the fitted candidates (the shipped one among them)."""
        return list(self.selection.get("cv_log_loss", {})) or [self.method]

    def _label_probability(self, frame: pd.DataFrame, method: str) -> np.ndarray:
        """One candidate's uncorrected probability of the (conditional) label-window event."""
        L = self.spec.label_days
        if method == "blend":
            b = self.blend
            z = self._blend_inputs(frame, b["model"], b["btyd"]) @ np.asarray(b["coef"])
            return expit(z + b["intercept"])
        if method in self.models:
            return self.models[method].predict_proba(frame[self._cols(method)])[:, 1]
        if method == RFM_METHOD:
            return self.rfm_logit.predict_proba(frame)[:, 1]
        if self._is_btyd(method):
            raw = self._btyd_event(frame, self.btyd_score.model, L)
            if method.endswith("_uncalibrated"):
                return np.clip(raw, 0.0, 1.0)
            return self.btyd_score.predict(raw)
        raise ModelError(f"The {self.spec.name} task has no candidate {method!r}.")

    def predict_label_window(self, frame: pd.DataFrame, method: str) -> np.ndarray:
        """One candidate's probability of the (conditional) event within label_days, anchored."""
        p = self._label_probability(frame, method)
        offset = self.level_offsets.get(method, 0.0)
        if not offset:
            return p
        none = (p if self.spec.name == "churn" else 1 - p) ** np.exp(offset)
        return none if self.spec.name == "churn" else 1 - none

    def survival(
        self, frame: pd.DataFrame, *, given: np.ndarray | None = None, method: str | None = None
    ) -> np.ndarray:
        """Return P(no order within horizon_days) for each row of ``frame``.

        ``given`` is the condition task's survival P(no order within condition_days), required
        for a conditional task; ``method`` defaults to the shipped candidate.
        """
        method = self.method if method is None else method
        if self.condition_days is not None and given is None:
            raise ModelError(
                f"The {self.spec.name} task is conditional on {self.condition_task} (no order "
                f"within {self.condition_days} days): pass given=<its survival>, or predict "
                "through WinbackModel.predict."
            )
        if method == EXTENSION:
            start, surv = self.condition_days, np.asarray(given, dtype=float)
        else:
            p = self.predict_label_window(frame, method)
            surv = p if self.spec.name == "churn" else 1 - p
            if given is not None:
                surv = np.asarray(given, dtype=float) * surv
            start = self._extension_start()
        h = self.spec.horizon_days
        out, fallback = extend_survival(surv, frame, self.horizon_btyd, start, h)
        _warn_fallback(fallback, len(frame), self.spec, self.horizon_btyd)
        return out

    def predict(
        self, frame: pd.DataFrame, *, given: np.ndarray | None = None, method: str | None = None
    ) -> np.ndarray:
        """Return the probability of the task's event within horizon_days for each row."""
        surv = self.survival(frame, given=given, method=method)
        return surv if self.spec.name == "churn" else 1 - surv

    def predict_method(
        self, frame: pd.DataFrame, method: str, *, given: np.ndarray | None = None
    ) -> np.ndarray:
        """Return one candidate's probability of the task's event within horizon_days."""
        return self.predict(frame, given=given, method=method)

    # ---------------------------------------------------------------------------- explaining

    @property
    def shipped_model(self) -> Any:
        """The model behind the shipped score: LightGBM (the blend's base), or the simple model.

        Raises
        ------
        ModelError
            If the task ships the BTYD extension of a shorter task alone (no model of its own).
        """
        if self.method == RFM_METHOD:
            return self.rfm_logit
        if self._is_btyd(self.method):
            return self.btyd_score
        if self.method == EXTENSION:
            raise ModelError(
                f"The {self.spec.name} task has no model of its own: it extends "
                f"{self.condition_task} with BTYD ({self.selection.get('criterion', '')})."
            )
        return super().shipped_model

    def _is_btyd(self, method: str) -> bool:
        """Whether ``method`` is the BTYD model alone (as fitted, or calibrated)."""
        if self.btyd_score is None:
            return False
        m = self.btyd_score.model
        return method in (f"{m}_calibrated", f"{m}_uncalibrated")

    def contributions(self, frame: pd.DataFrame, *, method: str = "shap") -> pd.DataFrame | None:
        """Log-odds contributions toward the task's event, per feature (None: no model of its own).

        From the shipped LightGBM model (the blend's base for a blend); rows sum to its raw score.
        When a simple model ships (the RFM logit or a BTYD model), the drivers come from the
        task's better LightGBM candidate (lower validation log loss), which estimates the same
        event from every feature: the RFM logit's four terms or a BTYD model's one number would
        tell a marketer little more than "recent, frequent, valuable".
        """
        if self.method == EXTENSION:
            return None
        model = self.shipped_model
        if isinstance(model, BTYDScore | RFMLogit) and self.models:
            model = self.models[self.explaining_candidate]
        elif isinstance(model, BTYDScore):
            p = self.predict_label_window(frame, self.method)
            return model.contributions(clip_logit(p), frame.index)
        return model.contributions(frame, method=method)

    @property
    def explaining_candidate(self) -> str:
        """The LightGBM candidate whose contributions explain a simple shipped model."""
        recorded = self.selection.get("cv_log_loss", {})
        losses = {n: recorded.get(n, float("inf")) for n in self.models}
        return min(losses, key=lambda n: (losses[n], n))

    def feature_importance(self) -> pd.Series | None:
        """Importance of each column in the shipped model (None without a model of its own)."""
        return None if self.method == EXTENSION else self.shipped_model.feature_importance()


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
            num = frame[expected_purchases_column(model, h)].to_numpy(dtype=float)
            den = frame[expected_purchases_column(model, L)].to_numpy(dtype=float)
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
    purchases = frame[expected_purchases_column(model, days)].to_numpy(dtype=float)
    return purchases * frame[column_name("gg_expected_value")].to_numpy(dtype=float)


def _rmse(y: np.ndarray, pred: np.ndarray) -> float:
    return float(np.sqrt(np.mean((np.nan_to_num(pred) - y) ** 2)))


def _cv_nnls_rmse(Z: np.ndarray, y: np.ndarray, seed: int) -> float:
    pred = np.empty(len(y))
    for train, test in KFold(n_splits=5, shuffle=True, random_state=seed).split(Z):
        weights, _ = nnls(Z[train], y[train])
        pred[test] = Z[test] @ weights
    return _rmse(y, pred)
