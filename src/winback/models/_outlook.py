"""Each customer's outlook from a BTYD model: P(alive), the next order's median date, and CLV.

Definitions (time in the BTYD models' weeks, converted to and from days here):

- ``p_alive``: the model's P(the customer is still active at the cutoff | history).
- ``days_to_next_order``: the median time from the cutoff to the next order *if the customer is
  active and stays so*: ``(alpha + T) * (2 ** (1 / (r + x)) - 1)`` weeks (the Lomax median of
  the waiting time, :func:`~winback.models.btyd._base.next_purchase_quantile`), in days, rounded
  up to whole days (at least 1): the first day by which such a customer has ordered with
  probability at least one half. It ignores dropout; ``p_alive`` says how likely that is.
- ``clv_spend``: the expected spend over the next ``months`` months, in monthly steps: the
  model's expected purchases in month k (of 365.25 / 12 days), discounted to the cutoff by
  ``(1 + annual_discount_rate) ** (-k / 12)`` (paid at the month's end, as
  ``GammaGamma.customer_lifetime_value``), summed, times the expected value per order:
  Gamma-Gamma's conditional expected order value, or the customer's own mean order value
  (``monetary_mean``) where Gamma-Gamma has none.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from winback.exceptions import ConfigError
from winback.features import column_name
from winback.models._hybrid import BTYD_DAYS_PER_UNIT

__all__ = ["DAYS_PER_MONTH", "OUTLOOK_COLUMNS", "btyd_outlook", "discounted_purchases"]

DAYS_PER_MONTH = 365.25 / 12
OUTLOOK_COLUMNS = ("p_alive", "days_to_next_order", "clv_spend")


def rfm_weeks(features: pd.DataFrame) -> pd.DataFrame:
    """The lifetimes RFM summary in weeks back from a features frame's ``rfm_`` columns (days)."""
    return pd.DataFrame(
        {
            "frequency": features["rfm_frequency"].to_numpy(dtype=float),
            "recency": features["rfm_recency"].to_numpy(dtype=float) / BTYD_DAYS_PER_UNIT,
            "T": features["rfm_T"].to_numpy(dtype=float) / BTYD_DAYS_PER_UNIT,
        },
        index=features.index,
    )


def discounted_purchases(
    model: Any, rfm: pd.DataFrame, *, months: int, annual_discount_rate: float = 0.0
) -> np.ndarray:
    """Expected purchases over ``months`` months, each month's discounted to the cutoff.

    Parameters
    ----------
    model : BetaGeo or ParetoNBD
        Fitted with time in weeks.
    rfm : DataFrame
        ``frequency``, ``recency``, ``T`` (weeks), one row per customer.
    months : int
        Horizon in months of 365.25 / 12 days; >= 1.
    annual_discount_rate : float
        Yearly rate r >= 0; month k's purchases are weighted by ``(1 + r) ** (-k / 12)``.

    Returns
    -------
    ndarray
        One value per row; with ``annual_discount_rate=0`` it equals
        ``model.expected_purchases(months * 365.25 / 12 / 7, rfm)``.

    Examples
    --------
    >>> from winback.models.btyd import BetaGeo
    >>> model = BetaGeo()
    >>> model.params_ = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
    >>> rfm = pd.DataFrame({"frequency": [2.0], "recency": [30.43], "T": [38.86]})
    >>> bool(discounted_purchases(model, rfm, months=9, annual_discount_rate=0.1)[0]
    ...      < discounted_purchases(model, rfm, months=9)[0])
    True
    """
    if int(months) != months or months < 1:
        raise ConfigError(f"months: expected a whole number >= 1, got {months!r}.")
    if not (np.isfinite(annual_discount_rate) and annual_discount_rate >= 0):
        raise ConfigError(f"annual_discount_rate: expected >= 0, got {annual_discount_rate!r}.")
    k = np.arange(1, int(months) + 1, dtype=float)
    ends = k * DAYS_PER_MONTH / BTYD_DAYS_PER_UNIT
    with np.errstate(all="ignore"):
        cumulative = np.column_stack([model.expected_purchases(t, rfm) for t in ends])
    per_month = np.diff(cumulative, axis=1, prepend=0.0)
    return per_month @ (1.0 + annual_discount_rate) ** (-k / 12.0)


def btyd_outlook(
    features: pd.DataFrame,
    model: Any,
    name: str | None,
    *,
    months: int = 12,
    annual_discount_rate: float = 0.0,
) -> pd.DataFrame:
    """Return :data:`OUTLOOK_COLUMNS` per row of ``features`` (see the module docstring).

    Parameters
    ----------
    features : DataFrame
        A features frame of :meth:`WinbackModel.build_features` (``rfm_`` columns,
        ``{name}_p_alive``, ``gg_expected_value``, ``monetary_mean``).
    model : BetaGeo, ParetoNBD or None
        The fitted BTYD model ``name`` (weeks); None gives NaN everywhere.
    name : str or None
        Its registry name (``bgnbd`` or ``pareto_nbd``).
    """
    if model is None or name is None:
        nan = np.full(len(features), np.nan)
        return pd.DataFrame(dict.fromkeys(OUTLOOK_COLUMNS, nan), index=features.index)
    rfm = rfm_weeks(features)
    with np.errstate(all="ignore"):
        weeks = model.time_to_next_purchase(rfm)
    days = np.maximum(np.ceil(weeks * BTYD_DAYS_PER_UNIT - 1e-9), 1.0)
    purchases = discounted_purchases(
        model, rfm, months=months, annual_discount_rate=annual_discount_rate
    )
    return pd.DataFrame(
        {
            "p_alive": features[column_name("{model}_p_alive", model=name)].to_numpy(dtype=float),
            "days_to_next_order": days,
            "clv_spend": purchases * order_value(features),
        },
        index=features.index,
    )


def order_value(features: pd.DataFrame) -> np.ndarray:
    """Expected value per order: Gamma-Gamma's, else the customer's own mean (``monetary_mean``)."""
    gg = features[column_name("gg_expected_value")].to_numpy(dtype=float)
    own = (
        features["monetary_mean"].to_numpy(dtype=float)
        if "monetary_mean" in features
        else np.full(len(features), np.nan)
    )
    return np.where(np.isfinite(gg), gg, np.clip(own, 0.0, None))
