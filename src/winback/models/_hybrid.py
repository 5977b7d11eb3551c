"""BTYD quantities as features: BG/NBD, Pareto/NBD and Gamma-Gamma fitted point-in-time.

At each cutoff the classical models are fitted on that cutoff's own past only (the RFM summary
as of the cutoff, time in weeks), and their per-customer predictions become LightGBM features.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from winback.exceptions import WinbackError
from winback.models.btyd import BetaGeo, GammaGamma, ParetoNBD

__all__ = ["BTYD_DAYS_PER_UNIT", "FittedBTYD", "btyd_features", "fit_btyd"]

logger = logging.getLogger(__name__)

BTYD_DAYS_PER_UNIT = 7.0  # BTYD models are fitted with time in weeks, as in the literature


@dataclass(frozen=True)
class FittedBTYD:
    """The classical models fitted on one cutoff's past; a model that failed to fit is None."""

    bgnbd: BetaGeo | None
    pareto_nbd: ParetoNBD | None
    gamma_gamma: GammaGamma | None

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


def _fit_or_none(model: Any, data: pd.DataFrame, label: str) -> Any:
    """Fit ``model`` or return None; convergence warnings are logged, not raised to the user."""
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            fitted = model.fit(data)
        for w in caught:
            logger.info("%s: %s", label, w.message)
        return fitted
    except (WinbackError, ValueError, FloatingPointError, np.linalg.LinAlgError) as exc:
        logger.warning("%s could not be fitted (%s); its features will be missing.", label, exc)
        return None


def _start(warm: FittedBTYD | None, name: str) -> dict[str, Any]:
    model = None if warm is None else getattr(warm, name)
    return {} if model is None else {"initial_params": dict(model.params_)}


def fit_btyd(rfm_weeks: pd.DataFrame, *, warm_start: FittedBTYD | None = None) -> FittedBTYD:
    """Fit BG/NBD, Pareto/NBD and Gamma-Gamma on an RFM summary in weeks.

    Parameters
    ----------
    rfm_weeks : DataFrame
        Columns ``frequency``, ``recency``, ``T`` (weeks) and ``monetary_value``, one row per
        customer, as returned by ``winback.features.rfm_summary(..., time_unit="W")``.
    warm_start : FittedBTYD, optional
        Models fitted at an earlier cutoff; their parameters start the optimiser.
    """
    repeaters = rfm_weeks[(rfm_weeks["frequency"] > 0) & (rfm_weeks["monetary_value"] > 0)]
    return FittedBTYD(
        bgnbd=_fit_or_none(BetaGeo(**_start(warm_start, "bgnbd")), rfm_weeks, "BG/NBD"),
        pareto_nbd=_fit_or_none(
            ParetoNBD(**_start(warm_start, "pareto_nbd")), rfm_weeks, "Pareto/NBD"
        ),
        gamma_gamma=_fit_or_none(
            GammaGamma(**_start(warm_start, "gamma_gamma")), repeaters, "Gamma-Gamma"
        ),
    )


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
    for name in ("bgnbd", "pareto_nbd"):
        model = getattr(fitted, name)
        out[f"{name}_p_alive"] = _or_nan(model, lambda m: m.probability_alive(rfm_weeks), out)
        for h in horizons_days:
            t = h / BTYD_DAYS_PER_UNIT
            out[f"{name}_p_purchase_{h}d"] = _or_nan(
                model, lambda m, t=t: m.probability_of_purchase(t, rfm_weeks), out
            )
            out[f"{name}_expected_purchases_{h}d"] = _or_nan(
                model, lambda m, t=t: m.expected_purchases(t, rfm_weeks), out
            )
    spenders = _positive_spend(rfm_weeks)
    out["gg_expected_value"] = _or_nan(
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
