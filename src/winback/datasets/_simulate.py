"""Simulated customer bases with known latent truth: :func:`simulate`, :class:`Simulation` and
its :class:`SimulationSettings`.

The generative model (all times continuous, in days since ``start``; stored floored to the second)
-----------------------------------------------------------------------------------------------
Acquisition
    Customer ``i`` makes a first purchase at ``t0_i``, uniform over the acquisition period.
    ``customer_id`` is ``1..n`` in order of acquisition.
Purchases (BG/NBD, Fader, Hardie & Lee 2005)
    ``lambda_i ~ Gamma(r, rate=alpha)`` per day and ``p_i ~ Beta(a, b)``. While alive, repeat
    purchases arrive as a Poisson process of rate ``lambda_i * m(t)``, where ``m`` is the
    seasonality/trend/level-shift multiplier of :mod:`winback.datasets._rate_curve` (``m = 1`` by
    default), simulated by thinning. Right after each *repeat* purchase the customer dies with
    probability ``p_i`` (as in BG/NBD the first purchase never kills), so the number of repeat
    purchases until death is geometric. ``dropout_ts`` is the time of that last purchase; when it
    falls after ``end`` it is drawn exactly from the same process continued past ``end``.
Order values (gamma-gamma, Fader, Hardie & Lee 2005b)
    ``nu_i ~ Gamma(spend_q, rate=spend_gamma)`` and each order's amount ``~ Gamma(spend_p,
    rate=nu_i)``, rounded to cents, so the customer's mean order value is ``spend_p / nu_i``.
    A fraction ``refund_rate`` of orders is returned: an extra row at the same time with the
    negated amount (and quantity), order id suffixed ``-R``.
Engagement
    Propensity ``e_i ~ Gamma(engagement_shape, rate=engagement_shape)`` (mean 1). Events of each
    type arrive at ``e_i * event_rates[type] * h_i(t)`` from signup (or ``start``) to ``end``.
    ``h_i = 1`` until the customer's *disengagement*: the penultimate purchase before dropout
    (``disengage_ts``, the moment at most one purchase is left). From then ``h_i`` falls linearly
    to ``engagement_after_dropout`` over ``engagement_decay_days`` and stays there, also after
    dropout. NPS scores are Binomial(10, 0.8) before disengagement and Binomial(10, 0.35) after.
    Customers without marketing opt-in get no email events; after an unsubscribe none either.

Why the fade starts at the penultimate purchase and not at a fixed time before ``dropout_ts``:
dropout happens at a purchase, so a fade anchored on the future dropout time would reveal when a
future purchase happens, and a model reading engagement could then beat the oracle. Anchored on
the penultimate purchase, engagement reflects only the customer's present latent state, so the
engagement rate still falls in the weeks before dropout and is near zero after it, and
:func:`~winback.datasets.oracle_purchase_probability` stays the best achievable predictor.

Defaults (retail-like): mean purchase rate ``r / alpha = 0.04`` per day (about 15 a year while
alive), mean dropout probability per repeat purchase ``a / (a + b) = 0.09``; with customers
acquired uniformly over the default three years this gives about 10 orders per customer (so 1M
customers give about 10M order rows), about half of them still alive at ``end``. Mean order value
``spend_p * spend_gamma / (spend_q - 1) = 60`` dollars. About 12 engagement events per customer.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from types import MappingProxyType
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from winback.datasets._rate_curve import (
    DAYS_PER_YEAR,
    SETTINGS_KEY,
    RateCurve,
    curve_from_params,
)
from winback.exceptions import ConfigError

__all__ = ["Simulation", "SimulationSettings", "simulate"]

logger = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

EventType = Literal[
    "site_visit", "email_open", "email_click", "support_ticket", "nps", "unsubscribe"
]
DEFAULT_EVENT_RATES: Mapping[str, float] = MappingProxyType(
    {
        "site_visit": 0.02,
        "email_open": 0.015,
        "email_click": 0.003,
        "support_ticket": 0.0008,
        "nps": 0.0008,
        "unsubscribe": 0.0004,
    }
)
_EMAIL_EVENTS = ("email_open", "email_click", "unsubscribe")
_NPS_LIKELIHOOD_ENGAGED = 0.8
_NPS_LIKELIHOOD_DISENGAGED = 0.35

_CATEGORIES = ("apparel", "beauty", "electronics", "grocery", "home", "toys")
_CATEGORY_WEIGHTS = (0.25, 0.15, 0.1, 0.2, 0.2, 0.1)
_FAVOURITE_CATEGORY_SHARE = 0.6
_CHANNELS = ("web", "app", "store")
_CHANNEL_WEIGHTS = (0.55, 0.3, 0.15)
_USUAL_CHANNEL_SHARE = 0.75
_DISCOUNTED_SHARE = 0.2
_DOLLARS_PER_ITEM = 40.0
_COUNTRIES = ("US", "GB", "DE", "FR", "CA", "AU", "NL")
_COUNTRY_WEIGHTS = (0.5, 0.15, 0.1, 0.08, 0.07, 0.06, 0.04)
_MISSING_COUNTRY = 0.02
_MISSING_EMAIL = 0.05
_MISSING_PHONE = 0.35
_SIGNUP_AT_CHECKOUT = 0.5
_SIGNUP_LEAD_DAYS = 60.0

_SECONDS_PER_DAY = 86_400
_NEVER = pd.Timestamp("2262-01-01")
_MAX_REPEATS = 2.0**62
_LAST_INSTANT = 1e-7  # days (~0.01 s): keeps floored times strictly before the horizon


class SimulationSettings(BaseModel):
    """Every setting of :func:`simulate`, validated once; ``Simulation.params`` is its dump.

    ``simulate(n, seed=..., **overrides)`` builds one from keyword overrides; pass
    ``settings=SimulationSettings(...)`` to reuse one. Each field's description documents it.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    n_customers: int = Field(
        gt=0, description="Customers, all acquired (first purchase) in the acquisition period."
    )
    start: date = Field(
        default=date(2022, 1, 1), description="First calendar day simulated (inclusive)."
    )
    end: date = Field(default=date(2024, 12, 31), description="Last calendar day simulated.")
    seed: int = Field(default=0, ge=0, description="Seed of the random generator.")
    acquisition_start: date | None = Field(
        default=None, description="First day of first purchases (uniform); default ``start``."
    )
    acquisition_end: date | None = Field(
        default=None, description="Last day of first purchases; default ``end``."
    )
    r: float = Field(default=0.8, gt=0, description="Shape of the Gamma purchase rates per day.")
    alpha: float = Field(
        default=20.0, gt=0, description="Rate of the Gamma purchase rates (mean r / alpha a day)."
    )
    a: float = Field(default=1.0, gt=0, description="Beta(a, b) dropout probability: a.")
    b: float = Field(default=10.0, gt=0, description="Beta(a, b) dropout probability: b.")
    seasonality: float = Field(
        default=0.0,
        ge=0,
        lt=1,
        description="Amplitude of the yearly multiplier 1 + seasonality * cos(...) of rates.",
    )
    seasonality_peak_day: float = Field(
        default=330.0, ge=1, le=366, description="Day of the year (1 = 1 January) of the peak."
    )
    trend: float = Field(
        default=0.0,
        description=(
            "Relative change of purchase rates per year, linear from start (0.1 = +10% a year), "
            "held at its end value afterwards."
        ),
    )
    level_shift: float = Field(
        default=0.0,
        gt=-1,
        description=(
            "Relative jump of every purchase rate from level_shift_date on (0.3 = +30%, "
            "-0.3 = -30%); the oracle knows it."
        ),
    )
    level_shift_date: date | None = Field(
        default=None,
        description="First day of the shifted level, inside [start, end]; needed with a shift.",
    )
    spend_p: float = Field(default=6.0, gt=0, description="Order amount ~ Gamma(spend_p, nu).")
    spend_q: float = Field(default=4.0, gt=1, description="nu ~ Gamma(spend_q, spend_gamma).")
    spend_gamma: float = Field(default=30.0, gt=0, description="Rate of nu's Gamma.")
    refund_rate: float = Field(
        default=0.02, ge=0, lt=1, description="Share of orders refunded (a negative row)."
    )
    extra_columns: bool = Field(
        default=True,
        description="Add order_id, quantity, discount, category and channel to orders.",
    )
    engagement_shape: float = Field(
        default=2.0,
        gt=0,
        description="Shape (and rate) of the Gamma engagement propensity; smaller: more spread.",
    )
    event_rates: dict[EventType, float] = Field(
        default_factory=lambda: dict(DEFAULT_EVENT_RATES),
        description=(
            "Events per day of an engaged customer of propensity 1, by type; types left out "
            "are not generated, {} gives no events."
        ),
    )
    engagement_decay_days: float = Field(
        default=30.0, gt=0, description="Days over which engagement fades after disengagement."
    )
    engagement_after_dropout: float = Field(
        default=0.05,
        ge=0,
        le=1,
        description="Engagement multiplier reached at the end of the fade, kept after dropout.",
    )
    opt_in_rate: float = Field(
        default=0.85, ge=0, le=1, description="Share of customers with marketing_opt_in."
    )

    @model_validator(mode="after")
    def _check_dates_and_trend(self) -> SimulationSettings:
        if self.end < self.start:
            raise ValueError(f"end ({self.end}) must not be before start ({self.start})")
        # fill the acquisition period (frozen model: set through __dict__ before anyone reads it)
        if self.acquisition_start is None:
            object.__setattr__(self, "acquisition_start", self.start)
        if self.acquisition_end is None:
            object.__setattr__(self, "acquisition_end", self.end)
        if not self.start <= self.acquisition_start <= self.acquisition_end <= self.end:
            raise ValueError(
                "the acquisition period must lie inside [start, end] with acquisition_start <= "
                f"acquisition_end; got [{self.acquisition_start}, {self.acquisition_end}] for "
                f"[{self.start}, {self.end}]"
            )
        years = ((self.end - self.start).days + 1) / 365.25
        if 1.0 + self.trend * years <= 0.0:
            raise ValueError(
                f"trend={self.trend} would make purchase rates negative before end: it must be "
                f"greater than {-1.0 / years:.4f} (-1 / years simulated)"
            )
        if any(rate < 0 for rate in self.event_rates.values()):
            raise ValueError(f"event_rates must be >= 0 per day, got {self.event_rates}")
        self._check_level_shift()
        return self

    def _check_level_shift(self) -> None:
        if self.level_shift != 0 and self.level_shift_date is None:
            raise ValueError(f"level_shift={self.level_shift} needs a level_shift_date")
        if self.level_shift_date is not None and not (
            self.start <= self.level_shift_date <= self.end
        ):
            raise ValueError(
                f"level_shift_date ({self.level_shift_date}) must lie inside [start, end] = "
                f"[{self.start}, {self.end}]"
            )


@dataclass(frozen=True, eq=False, repr=False)
class Simulation:
    """A simulated customer base and its latent truth, returned by :func:`simulate`.

    Attributes
    ----------
    orders : DataFrame
        The data contract's orders: ``customer_id`` (int64), ``order_ts`` (datetime64[ns]),
        ``amount`` (float64, negative for refunds) and, with ``extra_columns=True``, ``order_id``
        (str), ``quantity`` (float64), ``discount`` (float64, >= 0), ``category`` (str) and
        ``channel`` (str). Sorted by customer then time.
    events : DataFrame
        ``customer_id``, ``event_ts`` (datetime64[ns]), ``event_type`` (str: site_visit,
        email_open, email_click, support_ticket, nps, unsubscribe), ``value`` (float64: the NPS
        score 0-10, NaN for other types). Sorted by customer then time.
    customers : DataFrame
        ``customer_id``, ``email`` (str/NaN), ``phone`` (str/NaN), ``signup_ts`` (<= first
        purchase), ``marketing_opt_in`` (bool), ``country`` (str/NaN).
    truth : DataFrame
        One row per customer: ``customer_id``, ``first_purchase_ts``, ``disengage_ts``,
        ``dropout_ts`` (datetime64[ns]; the last two may lie after ``end``; a time past
        2262-01-01 is stored as 2262-01-01), ``purchase_rate_per_day`` (lambda),
        ``dropout_probability`` (p), ``mean_order_value`` and ``engagement_propensity``.
        ``truth.attrs["winback.simulation"]`` keeps the settings the oracle needs.
    params : Mapping
        Every setting used, defaults filled in (read-only).
    """

    orders: pd.DataFrame
    events: pd.DataFrame
    customers: pd.DataFrame
    truth: pd.DataFrame
    params: Mapping[str, Any]

    def __repr__(self) -> str:
        return (
            f"Simulation(customers={len(self.customers):,}, orders={len(self.orders):,}, "
            f"events={len(self.events):,}, start={self.params['start']}, "
            f"end={self.params['end']}, seed={self.params['seed']})"
        )


@dataclass(frozen=True)
class _Lifecycles:
    """Latent state and purchase history of every customer (index = customer_id - 1)."""

    first: FloatArray
    rate: FloatArray
    dropout_probability: FloatArray
    spend_nu: FloatArray
    propensity: FloatArray
    disengage: FloatArray
    dropout: FloatArray
    order_owner: IntArray
    order_time: FloatArray


def simulate(
    n_customers: int,
    *,
    seed: int = 0,
    settings: SimulationSettings | None = None,
    **overrides: Any,
) -> Simulation:
    """Simulate a customer base whose latent purchase rates, dropout times and values are known.

    The model is described in the docstring of :mod:`winback.datasets._simulate`. Everything is
    vectorised numpy: a million customers take seconds. The same settings give identical frames;
    each part (purchases, values, extra columns, engagement, profiles) has its own random stream,
    so e.g. ``extra_columns=False`` leaves the purchases unchanged.

    Parameters
    ----------
    n_customers : int
        Number of customers, all acquired (first purchase) during the acquisition period.
    seed : int
        Seed of the random generator.
    settings : SimulationSettings, optional
        Settings to start from (``n_customers``, ``seed`` and ``overrides`` replace theirs).
    **overrides
        Any other field of :class:`SimulationSettings`, e.g. ``start="2022-01-01"``,
        ``seasonality=0.3``, ``level_shift=-0.3, level_shift_date="2024-07-01"``; each field's
        description says what it does.

    Returns
    -------
    Simulation
        ``orders``, ``events``, ``customers``, ``truth`` and ``params``; see :class:`Simulation`.

    Raises
    ------
    ConfigError
        If a setting is unknown or out of range (every problem is listed).

    Examples
    --------
    >>> from winback.datasets import simulate
    >>> sim = simulate(500, seed=1)
    >>> sim.truth.shape[0], sim.orders["customer_id"].nunique()
    (500, 500)
    """
    base = {} if settings is None else settings.model_dump(exclude_unset=True)
    settings = _validate({**base, **overrides, "n_customers": n_customers, "seed": seed})
    params = settings.model_dump()
    start_ts, end_exclusive, curve = curve_from_params(params)
    horizon = float((end_exclusive - start_ts).days)
    streams = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(5)]
    latent_rng, value_rng, extra_rng, engagement_rng, profile_rng = streams

    lifecycles = _simulate_lifecycles(latent_rng, settings, curve, start_ts, horizon)
    signup, opt_in = _draw_signup(profile_rng, lifecycles.first, settings.opt_in_rate)
    orders = _order_frame(value_rng, extra_rng, lifecycles, settings, start_ts)
    events = _event_frame(engagement_rng, lifecycles, signup, opt_in, settings, start_ts, horizon)
    customers = _customer_frame(profile_rng, signup, opt_in, start_ts)
    truth = _truth_frame(lifecycles, settings, start_ts)
    truth.attrs[SETTINGS_KEY] = dict(params)
    logger.debug(
        "Simulated %d customers: %d order rows, %d events", n_customers, len(orders), len(events)
    )
    return Simulation(
        orders=orders,
        events=events,
        customers=customers,
        truth=truth,
        params=MappingProxyType(params),
    )


def _validate(arguments: dict[str, Any]) -> SimulationSettings:
    """Return the validated settings or raise a ConfigError listing every invalid argument."""
    try:
        return SimulationSettings(**arguments)
    except ValidationError as exc:
        problems = "; ".join(_describe(error) for error in exc.errors())
        raise ConfigError(f"simulate() got invalid arguments: {problems}.") from exc


def _describe(error: Any) -> str:
    """One pydantic error as ``argument: message (got value)``; cross-argument checks as is."""
    if not error["loc"]:
        return str(error["msg"]).removeprefix("Value error, ")
    where = ".".join(str(part) for part in error["loc"])
    return f"{where}: {error['msg']} (got {error['input']!r})"


# --------------------------------------------------------------------------- purchases


def _simulate_lifecycles(
    rng: np.random.Generator,
    settings: SimulationSettings,
    curve: RateCurve,
    start: pd.Timestamp,
    horizon: float,
) -> _Lifecycles:
    """Draw latent parameters, purchase times up to ``horizon`` and the times of dropout."""
    n = settings.n_customers
    acq_lo = float((pd.Timestamp(settings.acquisition_start) - start).days)
    acq_hi = float((pd.Timestamp(settings.acquisition_end) - start).days) + 1.0
    first = np.sort(rng.uniform(acq_lo, acq_hi, n))
    rate = rng.gamma(settings.r, 1.0 / settings.alpha, n)
    dropout_probability = rng.beta(settings.a, settings.b, n)
    spend_nu = rng.gamma(settings.spend_q, 1.0 / settings.spend_gamma, n)
    propensity = rng.gamma(settings.engagement_shape, 1.0 / settings.engagement_shape, n)
    repeats_until_dropout = _geometric(rng, dropout_probability)

    owner, time = _thinned_poisson(rng, rate, first, horizon, curve)
    kept, disengage, dropout = _cut_at_dropout(
        rng, owner, time, first, rate, repeats_until_dropout, curve, start
    )
    order_owner, order_time = _with_first_purchases(owner[kept], time[kept], first)
    return _Lifecycles(
        first=first,
        rate=rate,
        dropout_probability=dropout_probability,
        spend_nu=spend_nu,
        propensity=propensity,
        disengage=disengage,
        dropout=dropout,
        order_owner=order_owner,
        order_time=order_time,
    )


def _geometric(rng: np.random.Generator, p: FloatArray) -> FloatArray:
    """Trials until the first success (>= 1) for each ``p``, as float (p may be ~0)."""
    uniform = 1.0 - rng.random(p.size)  # in (0, 1]
    with np.errstate(divide="ignore", invalid="ignore"):
        trials = np.floor(np.log(uniform) / np.log1p(-p)) + 1.0
    return np.nan_to_num(np.minimum(trials, _MAX_REPEATS), nan=1.0, posinf=_MAX_REPEATS)


def _sorted_uniform_segments(
    rng: np.random.Generator, counts: IntArray, lo: FloatArray, hi: FloatArray
) -> tuple[IntArray, FloatArray]:
    """Return ``(owner, t)``: ``counts[i]`` sorted uniform points in ``[lo[i], hi[i])`` per ``i``.

    Uses exponential spacings (the k-th of n sorted uniforms is ``S_k / S_{n+1}`` for partial
    sums ``S`` of n+1 standard exponentials), so no sort is needed.
    """
    n = counts.size
    owner = np.repeat(np.arange(n, dtype=np.int64), counts)
    segment_end = np.cumsum(counts + 1)
    partial = np.cumsum(rng.standard_exponential(int(segment_end[-1]) if n else 0))
    before = np.concatenate(([0.0], partial[segment_end[:-1] - 1]))
    scale = (hi - lo) / (partial[segment_end - 1] - before)
    points = partial[np.arange(owner.size) + owner]  # skips the last spacing of each segment
    return owner, lo[owner] + (points - before[owner]) * scale[owner]


def _thinned_poisson(
    rng: np.random.Generator,
    rate: FloatArray,
    first: FloatArray,
    horizon: float,
    curve: RateCurve,
) -> tuple[IntArray, FloatArray]:
    """Repeat-purchase times in ``(first, horizon)`` at rate ``rate * m(t)``, by thinning."""
    envelope = curve.max_level()
    counts = rng.poisson(rate * envelope * (horizon - first))
    owner, time = _sorted_uniform_segments(rng, counts, first, np.full(first.size, horizon))
    time = np.minimum(time, horizon - _LAST_INSTANT)
    accepted = rng.random(time.size) * envelope < curve.level(time)
    return owner[accepted], time[accepted]


def _cut_at_dropout(
    rng: np.random.Generator,
    owner: IntArray,
    time: FloatArray,
    first: FloatArray,
    rate: FloatArray,
    repeats_until_dropout: FloatArray,
    curve: RateCurve,
    start: pd.Timestamp,
) -> tuple[BoolArray, FloatArray, FloatArray]:
    """Keep repeats up to the dropout purchase; return ``(kept, disengage, dropout)`` times.

    ``disengage`` is the time of the penultimate purchase before dropout (the first purchase if
    dropout comes at the first repeat). For customers still alive at the horizon the remaining
    purchases happen after it: the k-th one is at operational time ``Gamma(k, 1) / rate`` past
    the horizon (memorylessness), which the rate curve maps back to calendar time.
    """
    n = first.size
    in_window = np.bincount(owner, minlength=n).astype(np.float64)
    segment_start = np.cumsum(in_window).astype(np.int64) - in_window.astype(np.int64)
    rank = np.arange(owner.size) - segment_start[owner]
    kept = rank < repeats_until_dropout[owner]

    def time_of_repeat(k: FloatArray, who: IntArray) -> FloatArray:
        """Calendar time of repeat number ``k`` (1-based, 0 = first purchase) in the window."""
        index = segment_start[who] + k.astype(np.int64) - 1
        return np.where(k >= 1, time[np.maximum(index, 0)] if time.size else 0.0, first[who])

    remaining = repeats_until_dropout - in_window
    dies_inside = remaining <= 0
    inside = np.flatnonzero(dies_inside)
    outside = np.flatnonzero(~dies_inside)

    dropout = np.empty(n)
    disengage = np.empty(n)
    dropout[inside] = time_of_repeat(repeats_until_dropout[inside], inside)
    disengage[inside] = time_of_repeat(repeats_until_dropout[inside] - 1, inside)

    cap = float((_NEVER - start).days)
    exposure_cap = curve.max_level() * (cap + DAYS_PER_YEAR)  # maps past ``cap`` in any case
    positive_rate = np.maximum(rate[outside], np.finfo(np.float64).tiny)
    before_last = rng.gamma(np.maximum(remaining[outside] - 1.0, 0.0))
    last = before_last + rng.standard_exponential(outside.size)
    with np.errstate(over="ignore"):
        before_last_exposure = np.minimum(before_last / positive_rate, exposure_cap)
        last_exposure = np.minimum(last / positive_rate, exposure_cap)
    dropout[outside] = np.minimum(curve.time_after_horizon(last_exposure), cap)
    disengage_after = np.minimum(curve.time_after_horizon(before_last_exposure), cap)
    disengage[outside] = np.where(
        remaining[outside] > 1.0,
        disengage_after,
        time_of_repeat(in_window[outside], outside),
    )
    return kept, disengage, dropout


def _with_first_purchases(
    owner: IntArray, time: FloatArray, first: FloatArray
) -> tuple[IntArray, FloatArray]:
    """Prepend each customer's first purchase; rows sorted by customer, then time."""
    all_owner = np.concatenate((np.arange(first.size, dtype=np.int64), owner))
    all_time = np.concatenate((first, time))
    order = np.argsort(all_owner, kind="stable")
    return all_owner[order], all_time[order]


# --------------------------------------------------------------------------- frames


def _timestamps(days: FloatArray, start: pd.Timestamp) -> npt.NDArray[np.datetime64]:
    """``start + days``, floored to the second, as datetime64[ns]."""
    seconds = np.floor(days * _SECONDS_PER_DAY).astype(np.int64)
    start_ns = np.datetime64(start.as_unit("ns").to_datetime64(), "ns")
    return start_ns + seconds.astype("timedelta64[s]").astype("timedelta64[ns]")


def _strings(
    labels: tuple[str, ...], codes: IntArray, missing: BoolArray | None = None
) -> pd.Series:
    """A pandas ``str`` Series of ``labels[codes]`` (NaN where ``missing``), built in Arrow."""
    values = pa.array(labels, type=pa.string()).take(pa.array(codes))
    if missing is not None:
        values = pc.if_else(pa.array(missing), pa.scalar(None, pa.string()), values)
    return pd.Series(values, dtype="str")


def _prefixed_ids(prefix: str, numbers: IntArray, suffix: str | pa.Array = "") -> pa.Array:
    """Arrow strings ``f"{prefix}{number}{suffix}"`` (``suffix`` may vary by row)."""
    return pc.binary_join_element_wise(prefix, pa.array(numbers).cast(pa.string()), suffix, "")


def _order_frame(
    value_rng: np.random.Generator,
    extra_rng: np.random.Generator,
    lifecycles: _Lifecycles,
    settings: SimulationSettings,
    start: pd.Timestamp,
) -> pd.DataFrame:
    """Orders with gamma-gamma amounts, refund rows and (optionally) the extra columns."""
    owner = lifecycles.order_owner
    n_orders = owner.size
    amount = value_rng.gamma(settings.spend_p, 1.0 / lifecycles.spend_nu[owner])
    amount = np.maximum(np.round(amount, 2), 0.01)
    refunded = value_rng.random(n_orders) < settings.refund_rate
    rows = np.repeat(np.arange(n_orders), 1 + refunded)
    is_refund = np.zeros(rows.size, dtype=bool)
    is_refund[np.cumsum(1 + refunded)[refunded] - 1] = True
    sign = np.where(is_refund, -1.0, 1.0)
    frame = pd.DataFrame(
        {
            "customer_id": owner[rows] + 1,
            "order_ts": _timestamps(lifecycles.order_time[rows], start),
            "amount": sign * amount[rows],
        }
    )
    if settings.extra_columns:
        extras = _order_extras(extra_rng, owner, amount, lifecycles.first.size)
        suffix = pc.if_else(pa.array(is_refund), "-R", "")
        frame["order_id"] = pd.Series(_prefixed_ids("O", rows + 1, suffix), dtype="str")
        frame["quantity"] = sign * extras["quantity"][rows]
        frame["discount"] = np.where(is_refund, 0.0, extras["discount"][rows])
        frame["category"] = _strings(_CATEGORIES, extras["category"][rows])
        frame["channel"] = _strings(_CHANNELS, extras["channel"][rows])
    return frame


def _order_extras(
    rng: np.random.Generator, owner: IntArray, amount: FloatArray, n_customers: int
) -> dict[str, npt.NDArray[Any]]:
    """Quantity, discount, category code and channel code of every purchase."""
    n_orders = owner.size
    favourite = rng.choice(len(_CATEGORIES), size=n_customers, p=_CATEGORY_WEIGHTS)
    usual_channel = rng.choice(len(_CHANNELS), size=n_customers, p=_CHANNEL_WEIGHTS)
    category = np.where(
        rng.random(n_orders) < _FAVOURITE_CATEGORY_SHARE,
        favourite[owner],
        rng.integers(0, len(_CATEGORIES), n_orders),
    )
    channel = np.where(
        rng.random(n_orders) < _USUAL_CHANNEL_SHARE,
        usual_channel[owner],
        rng.integers(0, len(_CHANNELS), n_orders),
    )
    discounted = rng.random(n_orders) < _DISCOUNTED_SHARE
    discount = np.where(discounted, np.round(amount * rng.uniform(0.05, 0.3, n_orders), 2), 0.0)
    quantity = 1.0 + rng.poisson(amount / _DOLLARS_PER_ITEM).astype(np.float64)
    return {"quantity": quantity, "discount": discount, "category": category, "channel": channel}


def _draw_signup(
    rng: np.random.Generator, first: FloatArray, opt_in_rate: float
) -> tuple[FloatArray, BoolArray]:
    """Signup times (at the first purchase or some days before it) and marketing opt-in."""
    n = first.size
    lead = np.where(rng.random(n) < _SIGNUP_AT_CHECKOUT, 0.0, rng.exponential(_SIGNUP_LEAD_DAYS, n))
    return first - lead, rng.random(n) < opt_in_rate


def _customer_frame(
    rng: np.random.Generator, signup: FloatArray, opt_in: BoolArray, start: pd.Timestamp
) -> pd.DataFrame:
    """The customers table: ids, contact details (some missing), signup, opt-in, country."""
    n = signup.size
    ids = np.arange(1, n + 1, dtype=np.int64)
    email = pd.Series(_prefixed_ids("customer", ids, "@example.com"), dtype="str")
    phone_digits = pc.utf8_lpad(pa.array(ids).cast(pa.string()), 7, "0")
    phone = pd.Series(pc.binary_join_element_wise("+1-555-", phone_digits, ""), dtype="str")
    country = rng.choice(len(_COUNTRIES), size=n, p=_COUNTRY_WEIGHTS)
    return pd.DataFrame(
        {
            "customer_id": ids,
            "email": email.mask(rng.random(n) < _MISSING_EMAIL),
            "phone": phone.mask(rng.random(n) < _MISSING_PHONE),
            "signup_ts": _timestamps(signup, start),
            "marketing_opt_in": opt_in,
            "country": _strings(_COUNTRIES, country, missing=rng.random(n) < _MISSING_COUNTRY),
        }
    )


def _truth_frame(
    lifecycles: _Lifecycles, settings: SimulationSettings, start: pd.Timestamp
) -> pd.DataFrame:
    """One row per customer with the latent state the simulation drew."""
    n = lifecycles.first.size
    return pd.DataFrame(
        {
            "customer_id": np.arange(1, n + 1, dtype=np.int64),
            "first_purchase_ts": _timestamps(lifecycles.first, start),
            "disengage_ts": _timestamps(lifecycles.disengage, start),
            "dropout_ts": _timestamps(lifecycles.dropout, start),
            "purchase_rate_per_day": lifecycles.rate,
            "dropout_probability": lifecycles.dropout_probability,
            "mean_order_value": settings.spend_p / lifecycles.spend_nu,
            "engagement_propensity": lifecycles.propensity,
        }
    )


# --------------------------------------------------------------------------- engagement


def _engagement_level(
    time: FloatArray, disengage: FloatArray, dropout: FloatArray, settings: SimulationSettings
) -> FloatArray:
    """Multiplier ``h(t)``: 1, then a linear fade from disengagement, then the floor."""
    floor = settings.engagement_after_dropout
    faded = np.clip((time - disengage) / settings.engagement_decay_days, 0.0, 1.0)
    level = 1.0 - (1.0 - floor) * faded
    return np.where(time >= dropout, floor, level)


def _event_frame(
    rng: np.random.Generator,
    lifecycles: _Lifecycles,
    signup: FloatArray,
    opt_in: BoolArray,
    settings: SimulationSettings,
    start: pd.Timestamp,
    horizon: float,
) -> pd.DataFrame:
    """Engagement events, thinned by the engagement level, email rules applied."""
    types = tuple(settings.event_rates)
    rates = np.array([settings.event_rates[t] for t in types], dtype=np.float64)
    total_rate = float(rates.sum())
    begin = np.clip(signup, 0.0, horizon)
    owner, time = _engagement_times(rng, lifecycles, begin, total_rate, settings, horizon)
    if total_rate > 0:
        kind = rng.choice(len(types), size=owner.size, p=rates / total_rate)
    else:
        kind = np.zeros(0, dtype=np.int64)
    keep = _email_rules(owner, time, kind, types, opt_in)
    owner, time, kind = owner[keep], time[keep], kind[keep]
    value = np.full(owner.size, np.nan)
    if "nps" in types:
        is_nps = kind == types.index("nps")
        engaged = time[is_nps] < lifecycles.disengage[owner[is_nps]]
        likelihood = np.where(engaged, _NPS_LIKELIHOOD_ENGAGED, _NPS_LIKELIHOOD_DISENGAGED)
        value[is_nps] = rng.binomial(10, likelihood)
    return pd.DataFrame(
        {
            "customer_id": owner + 1,
            "event_ts": _timestamps(time, start),
            "event_type": _strings(types, kind),
            "value": value,
        }
    )


def _engagement_times(
    rng: np.random.Generator,
    lifecycles: _Lifecycles,
    begin: FloatArray,
    total_rate: float,
    settings: SimulationSettings,
    horizon: float,
) -> tuple[IntArray, FloatArray]:
    """Times of all engagement events, by thinning where ``h`` varies.

    Each customer's period splits at ``settled`` (end of the fade, dropout or horizon, whichever
    is first): before it ``h`` is in [floor, 1] and candidates at the full rate are thinned by
    ``h``; after it ``h`` equals the floor, so events are drawn at the floor rate directly.
    """
    disengage, dropout = lifecycles.disengage, lifecycles.dropout
    settled = np.minimum(disengage + settings.engagement_decay_days, dropout)
    settled = np.clip(settled, begin, horizon)
    full_rate = lifecycles.propensity * total_rate
    floor = settings.engagement_after_dropout
    counts = rng.poisson(
        np.column_stack((full_rate * (settled - begin), full_rate * floor * (horizon - settled)))
    )
    lo = np.column_stack((begin, settled)).ravel()
    hi = np.column_stack((settled, np.full(begin.size, horizon))).ravel()
    segment, time = _sorted_uniform_segments(rng, counts.ravel(), lo, hi)
    owner = segment // 2
    time = np.minimum(time, horizon - _LAST_INSTANT)
    varying = np.flatnonzero(segment % 2 == 0)
    level = _engagement_level(
        time[varying], disengage[owner[varying]], dropout[owner[varying]], settings
    )
    accepted = np.ones(time.size, dtype=bool)
    accepted[varying] = rng.random(varying.size) < level
    return owner[accepted], time[accepted]


def _email_rules(
    owner: IntArray, time: FloatArray, kind: IntArray, types: tuple[str, ...], opt_in: BoolArray
) -> BoolArray:
    """Mask of events kept: no email events without opt-in, none after the first unsubscribe."""
    email_codes = [types.index(t) for t in _EMAIL_EVENTS if t in types]
    is_email = np.isin(kind, email_codes)
    keep = ~is_email | opt_in[owner]
    if "unsubscribe" not in types:
        return keep
    unsubscribed_at = np.full(opt_in.size, np.inf)
    is_unsubscribe = keep & (kind == types.index("unsubscribe"))
    np.minimum.at(unsubscribed_at, owner[is_unsubscribe], time[is_unsubscribe])
    return keep & ~(is_email & (time > unsubscribed_at[owner]))
