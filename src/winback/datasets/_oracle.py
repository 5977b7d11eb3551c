"""Questions answered from a simulation's truth table: who is alive, and the oracle's forecast.

:func:`oracle_purchase_probability` is the ceiling for any churn model on simulated data: it
knows each customer's latent purchase rate and whether they are still alive, which no model
can know, and it is exact under the simulator's model (seasonality and trend included).
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from winback.datasets._rate_curve import SETTINGS_KEY, curve_from_params
from winback.exceptions import ConfigError, DataError

__all__ = ["alive_at", "oracle_purchase_probability"]

_ONE_DAY = pd.Timedelta(days=1)
_TRUTH_COLUMNS = ("customer_id", "first_purchase_ts", "dropout_ts", "purchase_rate_per_day")


def alive_at(truth: pd.DataFrame, when: str | date | pd.Timestamp) -> pd.Series:
    """Return which customers are alive at the instant ``when``.

    A customer is alive from their first purchase until their dropout purchase: alive means
    ``first_purchase_ts <= when < dropout_ts``. Customers not acquired yet are not alive.

    Parameters
    ----------
    truth : DataFrame
        ``Simulation.truth`` (needs ``customer_id``, ``first_purchase_ts``, ``dropout_ts``).
    when : str, date or Timestamp
        The instant (tz-naive, UTC).

    Returns
    -------
    Series
        bool, indexed by ``customer_id``, named ``alive``, in the order of ``truth``.
    """
    _check_truth(truth, ("customer_id", "first_purchase_ts", "dropout_ts"))
    instant = pd.Timestamp(when)
    alive = (truth["first_purchase_ts"] <= instant) & (truth["dropout_ts"] > instant)
    return pd.Series(
        alive.to_numpy(dtype=bool),
        index=pd.Index(truth["customer_id"], name="customer_id"),
        name="alive",
    )


def oracle_purchase_probability(
    truth: pd.DataFrame, *, cutoff: str | date | pd.Timestamp, horizon_days: int
) -> pd.Series:
    """Return the exact probability of at least one order in the ``horizon_days`` after ``cutoff``.

    For each customer acquired at or before the cutoff day, given the true latent state at the
    end of that day (alive or not, purchase rate ``lambda``)::

        P(>= 1 order with cutoff + 1 day <= order_ts < cutoff + 1 day + horizon_days)
            = alive * (1 - exp(-lambda * integral of m(t) over the window))

    where ``m`` is the simulation's seasonality/trend multiplier (``m = 1`` by default, giving
    ``1 - exp(-lambda * horizon_days)``). This is exact because a customer alive at the start of
    the window buys in it as soon as the purchase process fires once (dropout only ever follows a
    purchase), and nothing observable before the cutoff - orders, engagement, profile - carries
    information about the window beyond this latent state. Ranking customers by this probability
    is therefore the best achievable: no model's expected AUC (or log-loss, Brier score) on the
    label "ordered in the window" can beat the oracle's; on a finite sample a model can exceed it
    only by sampling noise. Compare models' scores with the oracle's to see how much is left.

    Parameters
    ----------
    truth : DataFrame
        ``Simulation.truth``, as returned (its ``attrs`` hold the simulation settings; pandas
        keeps them through copies, filters and sorts).
    cutoff : str, date or Timestamp
        Calendar day (midnight); the window is the days ``(cutoff, cutoff + horizon_days]``.
    horizon_days : int
        Window length in days, > 0. The window must end on or before the simulation's ``end``.

    Returns
    -------
    Series
        float64 in [0, 1], named ``purchase_probability``, indexed by ``customer_id`` of the
        customers whose first purchase is on or before the cutoff day (0 for those dead by then).

    Raises
    ------
    ConfigError
        If the cutoff is not a midnight, or the window is not inside the simulated period.
    DataError
        If ``truth`` lacks a column or the simulation settings in ``attrs``.
    """
    _check_truth(truth, _TRUTH_COLUMNS)
    params = truth.attrs.get(SETTINGS_KEY)
    if params is None:
        raise DataError(
            f"truth.attrs has no {SETTINGS_KEY!r} entry, so the seasonality and period of the "
            "simulation are unknown. Pass the truth frame of simulate() (sim.truth); pandas "
            "keeps .attrs through copies, filters and sorts but not through every operation "
            "(e.g. merge), so filter it rather than rebuilding it."
        )
    start, end_exclusive, curve = curve_from_params(params)
    window_start = _validated_window_start(cutoff, horizon_days, start, end_exclusive)
    acquired = truth["first_purchase_ts"] < window_start
    scored = truth.loc[acquired]
    alive = (scored["dropout_ts"] >= window_start).to_numpy()
    offset = (window_start - start) / _ONE_DAY
    bounds = np.array([offset, offset + horizon_days], dtype=np.float64)
    exposure = float(np.diff(curve.cumulative(bounds))[0])
    rate = scored["purchase_rate_per_day"].to_numpy(dtype=np.float64)
    probability = np.where(alive, -np.expm1(-rate * exposure), 0.0)
    return pd.Series(
        probability,
        index=pd.Index(scored["customer_id"], name="customer_id"),
        name="purchase_probability",
    )


def _check_truth(truth: pd.DataFrame, columns: tuple[str, ...]) -> None:
    missing = [c for c in columns if c not in truth.columns]
    if missing:
        raise DataError(
            f"truth is missing column(s) {missing}; expected the truth table of simulate() "
            f"with columns {list(columns)}, got {list(truth.columns)}."
        )


def _validated_window_start(
    cutoff: str | date | pd.Timestamp,
    horizon_days: int,
    start: pd.Timestamp,
    end_exclusive: pd.Timestamp,
) -> pd.Timestamp:
    """Return ``cutoff + 1 day`` after checking the cutoff and that the window was simulated."""
    day = pd.Timestamp(cutoff)
    if day != day.normalize() or day.tzinfo is not None:
        raise ConfigError(
            f"cutoff must be a calendar day (tz-naive midnight), got {day}. Cutoffs are whole "
            "days: pass e.g. '2023-06-30'; orders on that day count as before the cutoff."
        )
    if isinstance(horizon_days, bool) or not isinstance(horizon_days, int | np.integer):
        raise ConfigError(f"horizon_days must be a whole number of days, got {horizon_days!r}.")
    if horizon_days <= 0:
        raise ConfigError(f"horizon_days must be > 0, got {horizon_days}.")
    last_day = end_exclusive - _ONE_DAY
    if day < start or day + pd.Timedelta(days=horizon_days) > last_day:
        raise ConfigError(
            f"The window ({day.date()}, {(day + pd.Timedelta(days=horizon_days)).date()}] of "
            f"cutoff {day.date()} with horizon_days={horizon_days} is not inside the simulated "
            f"period [{start.date()}, {last_day.date()}]: orders outside it were not "
            f"simulated. Use a cutoff between {start.date()} and "
            f"{(last_day - pd.Timedelta(days=horizon_days)).date()}."
        )
    return day + _ONE_DAY
