"""Value at risk, defined once: the value if retained, and the part of it churn puts at risk.

``p_churn`` is P(no order within the churn horizon) and ``expected_value`` the expected spend
(times the margin) over that horizon, which is 0 for a customer who does not order: it already
counts churn, ``expected_value = (1 - p_churn) * value_if_retained``. So

- ``value_if_retained = expected_value / max(1 - p_churn, MIN_STAY_PROBABILITY)``: the value
  expected from the customer over the horizon if they order in it (stay);
- ``value_at_risk = p_churn * value_if_retained``: the part of it lost if they churn.

``expected_value + value_at_risk = value_if_retained`` whenever ``p_churn <= 1 -
MIN_STAY_PROBABILITY``. Multiplying ``expected_value`` itself by ``p_churn`` would count churn
twice. The floor keeps customers whose churn is near certain from dominating: it caps the value
if retained at 20 times the expected value.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

__all__ = [
    "MIN_STAY_PROBABILITY",
    "VALUE_AT_RISK_DEFINITION",
    "retention_values",
    "value_at_risk",
    "value_if_retained",
]

#: Floor on the probability of staying, ``1 - p_churn``, in :func:`value_if_retained`.
MIN_STAY_PROBABILITY = 0.05

#: The definition in words, as reports print it.
VALUE_AT_RISK_DEFINITION = (
    "value at risk = value if retained × p_churn, where value if retained = expected value "
    f"÷ max(1 − p_churn, {MIN_STAY_PROBABILITY}). The expected value counts no spend for a "
    "customer who places no order within the churn horizon, so dividing it by the probability "
    "of ordering gives the value expected from the customer if they stay; multiplying that by "
    "p_churn does not count churn twice. The floor keeps customers whose churn is near certain "
    "from dominating."
)

_Array = npt.ArrayLike


def value_if_retained(expected_value: _Array, p_churn: _Array) -> np.ndarray:
    """Return ``expected_value / max(1 - p_churn, MIN_STAY_PROBABILITY)`` (float64).

    Examples
    --------
    >>> value_if_retained([30.0, 30.0], [0.4, 1.0]).tolist()
    [50.0, 600.0]
    """
    stay = 1.0 - np.asarray(p_churn, dtype=float)
    return np.asarray(expected_value, dtype=float) / np.maximum(stay, MIN_STAY_PROBABILITY)


def value_at_risk(value_retained: _Array, p_churn: _Array) -> np.ndarray:
    """Return ``p_churn * value_retained``: the value lost if the customer churns.

    ``value_retained`` is :func:`value_if_retained`, never ``expected_value`` (which already
    counts churn).

    Examples
    --------
    >>> value_at_risk(value_if_retained([30.0], [0.4]), [0.4]).tolist()
    [20.0]
    """
    return np.asarray(p_churn, dtype=float) * np.asarray(value_retained, dtype=float)


def retention_values(scored: pd.DataFrame) -> pd.DataFrame:
    """Return ``value_if_retained`` and ``value_at_risk`` of a scored frame, indexed like it.

    ``scored`` needs ``p_churn`` and ``expected_value``.
    """
    p = scored["p_churn"].to_numpy(dtype=float)
    retained = value_if_retained(scored["expected_value"].to_numpy(dtype=float), p)
    return pd.DataFrame(
        {"value_if_retained": retained, "value_at_risk": value_at_risk(retained, p)},
        index=scored.index,
    )
