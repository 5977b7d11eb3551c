"""BTYD quantities as features: BG/NBD, Pareto/NBD and Gamma-Gamma fitted point-in-time.

At each cutoff the classical models are fitted on that cutoff's own past only (the RFM summary
as of the cutoff, time in weeks), and their per-customer predictions become LightGBM features.
A fit that did not converge, ran to the edge of its parameter space, lost its dropout component
or failed is logged at WARNING and kept in :attr:`FittedBTYD.warnings`; nothing is dropped
silently.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from winback.exceptions import WinbackError
from winback.features import BTYD_MODELS, column_name
from winback.models.btyd import BetaGeo, GammaGamma, ParetoNBD

__all__ = [
    "BTYD_DAYS_PER_UNIT",
    "FittedBTYD",
    "btyd_features",
    "expected_purchases_column",
    "fit_btyd",
    "p_purchase_column",
    "rfm_days_columns",
]

logger = logging.getLogger(__name__)

BTYD_DAYS_PER_UNIT = 7.0  # BTYD models are fitted with time in weeks, as in the literature
# A dropout mixing distribution whose shape falls below this puts (almost) all its mass at "never
# drops out": BG/NBD's Beta(a, b) with a -> 0, Pareto/NBD's Gamma(s, beta) with s -> 0.
DEGENERATE_SHAPE = 1e-3
_DROPOUT_SHAPE = {"bgnbd": "a", "pareto_nbd": "s"}
_LABELS = {"bgnbd": "BG/NBD", "pareto_nbd": "Pareto/NBD", "gamma_gamma": "Gamma-Gamma"}


@dataclass(frozen=True)
class FittedBTYD:
    """The classical models fitted on one cutoff's past; a model that failed to fit is None.

    ``warnings`` maps a model name to what went wrong with its fit (non-convergence, a
    parameter at the edge of its space, a vanished dropout component, a failed fit).
    """

    bgnbd: BetaGeo | None
    pareto_nbd: ParetoNBD | None
    gamma_gamma: GammaGamma | None
    warnings: dict[str, list[str]] = field(default_factory=dict)

    def params(self) -> dict[str, dict[str, float] | None]:
        """Return the fitted parameters of each model (None where the fit failed)."""
        return {
            name: (None if model is None else {k: float(v) for k, v in model.params_.items()})
            for name, model in self._models().items()
        }

    def _models(self) -> dict[str, Any]:
        return {
            "bgnbd": self.bgnbd,
            "pareto_nbd": self.pareto_nbd,
            "gamma_gamma": self.gamma_gamma,
        }


def _fit_or_none(model: Any, data: pd.DataFrame, name: str, where: str) -> tuple[Any, list[str]]:
    """Fit ``model``; return it (None if it failed) and what went wrong, logged at WARNING."""
    label = f"{_LABELS[name]} {where}".strip()
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            fitted = model.fit(data)
    except (WinbackError, ValueError, FloatingPointError, np.linalg.LinAlgError) as exc:
        message = f"could not be fitted ({exc}); its features are missing"
        logger.warning("%s %s.", label, message)
        return None, [message]
    problems = [str(w.message) for w in caught]
    shape = _DROPOUT_SHAPE.get(name)
    if shape is not None and fitted.params_[shape] < DEGENERATE_SHAPE:
        problems.append(
            f"the dropout component vanished ({shape}={fitted.params_[shape]:.2g} < "
            f"{DEGENERATE_SHAPE:g}): the model treats almost every customer as never dropping out"
        )
    for problem in problems:
        logger.warning("%s: %s", label, problem)
    return fitted, problems


def _start(warm: FittedBTYD | None, name: str) -> dict[str, Any]:
    model = None if warm is None else getattr(warm, name)
    return {} if model is None else {"initial_params": dict(model.params_)}


def fit_btyd(
    rfm_weeks: pd.DataFrame, *, warm_start: FittedBTYD | None = None, where: str = ""
) -> FittedBTYD:
    """Fit BG/NBD, Pareto/NBD and Gamma-Gamma on an RFM summary in weeks.

    Parameters
    ----------
    rfm_weeks : DataFrame
        Columns ``frequency``, ``recency``, ``T`` (weeks) and ``monetary_value``, one row per
        customer, as returned by ``winback.features.rfm_summary(..., time_unit="W")``.
    warm_start : FittedBTYD, optional
        Models fitted at an earlier cutoff; their parameters start the optimiser. Training does
        not use it: each cutoff's fit then depends only on that cutoff's past, not on which other
        cutoffs (tasks) were fitted before it.
    where : str
        Names the fit in warnings (e.g. ``"at cutoff 1997-09-30"``).
    """
    repeaters = rfm_weeks[(rfm_weeks["frequency"] > 0) & (rfm_weeks["monetary_value"] > 0)]
    models, problems = {}, {}
    for name, cls, data in (
        ("bgnbd", BetaGeo, rfm_weeks),
        ("pareto_nbd", ParetoNBD, rfm_weeks),
        ("gamma_gamma", GammaGamma, repeaters),
    ):
        models[name], found = _fit_or_none(cls(**_start(warm_start, name)), data, name, where)
        if found:
            problems[name] = found
    return FittedBTYD(**models, warnings=problems)


def btyd_features(
    rfm_weeks: pd.DataFrame, fitted: FittedBTYD, *, horizons_days: list[int]
) -> pd.DataFrame:
    """Return per-customer BTYD predictions as features, indexed like ``rfm_weeks``.

    Columns: ``{model}_p_alive``, ``{model}_p_purchase_{h}d`` (P(X(h) >= 1)) and
    ``{model}_expected_purchases_{h}d`` for model in (bgnbd, pareto_nbd) and each horizon h in
    days, and ``gg_expected_value`` (Gamma-Gamma conditional expected order value). NaN where the
    model could not be fitted.
    """
    out = pd.DataFrame(index=rfm_weeks.index)
    for name in BTYD_MODELS:
        model = getattr(fitted, name)
        out[column_name("{model}_p_alive", model=name)] = _or_nan(
            model, lambda m: m.probability_alive(rfm_weeks), out
        )
        for h in horizons_days:
            t = h / BTYD_DAYS_PER_UNIT
            out[p_purchase_column(name, h)] = _or_nan(
                model, lambda m, t=t: m.probability_of_purchase(t, rfm_weeks), out
            )
            out[expected_purchases_column(name, h)] = _or_nan(
                model, lambda m, t=t: m.expected_purchases(t, rfm_weeks), out
            )
    spenders = _positive_spend(rfm_weeks)
    out[column_name("gg_expected_value")] = _or_nan(
        fitted.gamma_gamma, lambda m: m.conditional_expected_average_profit(spenders), out
    )
    return out


def _positive_spend(rfm: pd.DataFrame) -> pd.DataFrame:
    """Customers whose repeat purchases net to <= 0 (refunds) get the population prior instead."""
    ok = rfm["monetary_value"] > 0
    return pd.DataFrame(
        {
            "frequency": rfm["frequency"].where(ok, 0.0),
            "monetary_value": rfm["monetary_value"].where(ok, 0.0),
        },
        index=rfm.index,
    )


def _or_nan(model: Any, predict: Any, like: pd.DataFrame) -> np.ndarray:
    if model is None:
        return np.full(len(like), np.nan)
    with np.errstate(all="ignore"):
        return np.asarray(predict(model), dtype=float)


def rfm_days_columns(rfm_weeks: pd.DataFrame) -> pd.DataFrame:
    """Return the lifetimes RFM summary in days, prefixed ``rfm_`` (the RFM logit's inputs).

    Columns: ``rfm_frequency``, ``rfm_recency``, ``rfm_T``, ``rfm_monetary_value`` and
    ``rfm_days_since_last`` (= T - recency).
    """
    days = pd.DataFrame(
        {
            "rfm_frequency": rfm_weeks["frequency"],
            "rfm_recency": rfm_weeks["recency"] * BTYD_DAYS_PER_UNIT,
            "rfm_T": rfm_weeks["T"] * BTYD_DAYS_PER_UNIT,
            "rfm_monetary_value": rfm_weeks["monetary_value"],
        }
    )
    days["rfm_days_since_last"] = days["rfm_T"] - days["rfm_recency"]
    return days


def p_purchase_column(model: str, days: int) -> str:
    """The column of ``model``'s P(at least one order within ``days``), from the registry."""
    return column_name("{model}_p_purchase_{h}d", model=model, h=days)


def expected_purchases_column(model: str, days: int) -> str:
    """The column of ``model``'s expected orders within ``days``, from the registry."""
    return column_name("{model}_expected_purchases_{h}d", model=model, h=days)
