"""Simulated campaigns with known heterogeneous effects: the ground truth to measure against.

The generative model
--------------------
Base
    :func:`winback.datasets.simulate` up to the campaign date ``T`` (BG/NBD purchases, dropout,
    gamma-gamma order values, engagement); its ``truth`` gives each customer's purchase rate
    ``lambda``, dropout probability ``p``, mean order value ``m`` and dropout time.
Campaign
    The base is scored as of ``T`` with a trained model and allocated by winback's own
    :func:`~winback.actions.allocate_actions` (budget, caps, the hash control group).
Purchases in the window ``(T, T + W]``, without a contact
    A customer alive at the end of day ``T`` buys as a Poisson process of rate ``lambda`` and
    dies with probability ``p`` after each purchase (the simulator's own process, continued); so
    ``q = alive * (1 - exp(-lambda W))`` is the probability of responding (>= 1 purchase).
    Amounts ~ Gamma(``spend_p``, mean ``m``), rounded to cents.
Effects of action ``a`` on customer ``i`` (treated customers only)
    - *reactivation*: a customer who would not buy in the window buys once (at a uniform time in
      the window, amount as above) with probability
      ``rho = min(0.95, s_a * v * reach)``, where ``v = min(m / median m, value_cap)`` is the
      customer's relative value and ``reach = 1`` if alive, ``exp(-days since dropout /
      reach_days)`` if not (the recently lapsed are won back, the long lost hardly);
    - *sleeping dogs*: a customer who would buy in the window is put off and buys nothing in it
      with probability ``sigma = dog_a * q^2`` (the loyal, with ``q`` near 1, are hurt most).

    The true effect on response is ``tau = (1 - q) rho - q sigma``: large for at-risk
    high-value customers, near zero or negative for loyal ones; on revenue it is
    ``(1 - q) rho m - sigma E[revenue without contact]``.

The truth (``CampaignSimulation.truth``) holds, per customer, ``q`` (``baseline_response``),
``effect_<action>`` (tau) and ``revenue_effect_<action>`` for every action, whoever was assigned.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from winback.actions import (
    MIN_STAY_PROBABILITY,
    ActionsConfig,
    allocate_actions,
    parse_actions_config,
)
from winback.datasets import alive_at, simulate
from winback.dates import DateLike
from winback.exceptions import ConfigError
from winback.models import WinbackModel
from winback.scoring import ScoringConfig, score

__all__ = [
    "CampaignEffects",
    "CampaignSimulation",
    "allocation_profit",
    "oracle_allocation",
    "simulate_campaign",
    "true_effects",
]

logger = logging.getLogger(__name__)

_ONE_DAY = pd.Timedelta(days=1)
_SECONDS_PER_DAY = 86_400


@dataclass(frozen=True)
class CampaignEffects:
    """The true effects' parameters (see the module docstring).

    ``reactivation`` maps an action to ``s_a``; actions left out get ``2 x`` their configured
    constant uplift (0.1 for ``uplift: model``), so the truth differs from what was assumed.
    """

    reactivation: Mapping[str, float] = field(default_factory=dict)
    sleeping_dog: Mapping[str, float] = field(default_factory=dict)
    default_sleeping_dog: float = 0.15
    reach_days: float = 120.0
    value_cap: float = 3.0

    def strengths(self, config: ActionsConfig) -> tuple[np.ndarray, np.ndarray]:
        """Return ``s_a`` and ``dog_a`` per action of ``config``, in its order."""
        s = [
            self.reactivation.get(a.name, 2 * a.uplift if a.uplift != "model" else 0.1)
            for a in config.actions
        ]
        dog = [self.sleeping_dog.get(a.name, self.default_sleeping_dog) for a in config.actions]
        if any(v < 0 for v in [*s, *dog]):
            raise ConfigError(f"campaign effects must be >= 0, got {s} and {dog}.")
        return np.asarray(s, dtype=float), np.asarray(dog, dtype=float)


@dataclass(frozen=True, eq=False)
class CampaignSimulation:
    """A simulated campaign and its truth.

    Attributes
    ----------
    orders : DataFrame
        The base's orders up to the campaign date plus the purchases of the window after it
        (the data contract; ``order_id`` ``W<customer>-<k>`` for the window's).
    events, customers : DataFrame
        The base's engagement events and customers table (up to the campaign date).
    scores : DataFrame
        The campaign: the scores as of the campaign date with ``action`` and ``group``.
    truth : DataFrame
        One row per scored customer: ``customer_id`` (str), ``alive``,
        ``purchase_rate_per_day``, ``mean_order_value``, ``baseline_response`` (q),
        ``effect_<action>`` and ``revenue_effect_<action>`` for every action.
    config : ActionsConfig
        The campaign config it was allocated with.
    params : dict
        ``campaign_date``, ``window_days``, ``seed``, ``n_customers`` and the effects.
    """

    orders: pd.DataFrame
    events: pd.DataFrame
    customers: pd.DataFrame
    scores: pd.DataFrame
    truth: pd.DataFrame
    config: ActionsConfig
    params: dict[str, Any]


def simulate_campaign(
    model: WinbackModel,
    actions: ActionsConfig,
    *,
    n_customers: int,
    campaign_date: DateLike,
    window_days: int = 90,
    start: DateLike = "2022-01-01",
    seed: int = 0,
    effects: CampaignEffects | None = None,
    uplift_model: Any = None,
    scoring: ScoringConfig | None = None,
) -> CampaignSimulation:
    """Simulate a base, run a campaign on it with winback, and the purchases that follow.

    Parameters
    ----------
    model : WinbackModel
        A trained churn model (e.g. trained on another simulated base).
    actions : ActionsConfig
        The campaign; ``uplift: model`` actions need ``uplift_model``. Its ``campaign_id``
        salts the control hash: give each replicated campaign its own id, since every
        simulated base numbers its customers 1..n and a shared id would hold out the same ids
        (customers acquired at the same point of each base) every time.
    n_customers : int
        Customers of the simulated base.
    campaign_date : date-like
        The day the base is scored and the campaign sent.
    window_days : int
        Days of purchases simulated after the campaign date (the response window).
    start : date-like
        First day of the base.
    seed : int
        Seeds the base (``simulate(seed=seed)``) and the window's purchases.
    effects : CampaignEffects, optional
        The true effects; defaults as in :class:`CampaignEffects`.
    uplift_model : object, optional
        Passed to :func:`winback.scoring.score` for ``uplift: model`` actions.
    scoring : ScoringConfig, optional
        Default: path reasons (faster), otherwise ScoringConfig's defaults.

    Returns
    -------
    CampaignSimulation
    """
    effects = effects or CampaignEffects()
    day = pd.Timestamp(campaign_date)
    base = simulate(n_customers, start=start, end=day.date(), seed=seed)
    result = score(
        model,
        base.orders,
        as_of=day,
        events=base.events,
        customers=base.customers,
        actions=actions,
        config=scoring or ScoringConfig(reasons_method="path"),
        progress=False,
        uplift_model=uplift_model,
    )
    truth = _truth(base, result.scores, actions, effects, day, window_days)
    rng = np.random.default_rng([seed, 20_240_630])
    window = _window_orders(result.scores, truth, actions, base, day, window_days, rng)
    orders = pd.concat([base.orders, window], ignore_index=True)
    names = [a.name for a in actions.actions]
    strengths, dogs = effects.strengths(actions)
    params = {
        "campaign_date": day.date().isoformat(),
        "window_days": window_days,
        "seed": seed,
        "n_customers": n_customers,
        "effects": {
            "reactivation": dict(zip(names, strengths.tolist(), strict=True)),
            "sleeping_dog": dict(zip(names, dogs.tolist(), strict=True)),
            "reach_days": effects.reach_days,
            "value_cap": effects.value_cap,
        },
    }
    return CampaignSimulation(
        orders=orders.sort_values(["customer_id", "order_ts"], kind="stable", ignore_index=True),
        events=base.events,
        customers=base.customers,
        scores=result.scores,
        truth=truth,
        config=actions,
        params=params,
    )


def _truth(
    base: Any,
    scores: pd.DataFrame,
    config: ActionsConfig,
    effects: CampaignEffects,
    day: pd.Timestamp,
    window_days: int,
) -> pd.DataFrame:
    """Per scored customer: latent state, q, and every action's true effects."""
    latent = base.truth.set_index("customer_id").reindex(scores["customer_id"].to_numpy())
    end_of_day = day + _ONE_DAY
    alive = alive_at(base.truth, end_of_day).reindex(latent.index).to_numpy()
    rate = latent["purchase_rate_per_day"].to_numpy(float)
    dropout_p = latent["dropout_probability"].to_numpy(float)
    value = latent["mean_order_value"].to_numpy(float)
    q = alive * -np.expm1(-rate * window_days)
    since = ((end_of_day - latent["dropout_ts"]) / _ONE_DAY).to_numpy(float)
    reach = np.where(alive, 1.0, np.exp(-np.clip(since, 0, None) / effects.reach_days))
    relative = np.minimum(value / np.median(value), effects.value_cap)
    expected_revenue = alive * value * _expected_purchases(rate * window_days, dropout_p)
    s, dog = effects.strengths(config)
    out = pd.DataFrame(
        {
            "customer_id": scores["customer_id"].astype(str).to_numpy(),
            "alive": alive,
            "purchase_rate_per_day": rate,
            "mean_order_value": value,
            "baseline_response": q,
            "expected_revenue": expected_revenue,
        }
    )
    for k, action in enumerate(config.actions):
        rho = np.minimum(0.95, s[k] * relative * reach)
        sigma = dog[k] * q**2
        out[f"reactivation_{action.name}"] = rho
        out[f"sleeping_dog_{action.name}"] = sigma
        out[f"effect_{action.name}"] = (1 - q) * rho - q * sigma
        out[f"revenue_effect_{action.name}"] = (1 - q) * rho * value - sigma * expected_revenue
    return out


def _expected_purchases(mean: np.ndarray, dropout_p: np.ndarray) -> np.ndarray:
    """E[purchases in the window | alive]: sum over k of (1 - p)^(k-1) P(Poisson(mean) >= k)."""
    top = int(np.ceil(mean.max() + 10 * np.sqrt(mean.max()) + 10)) if mean.size else 1
    k = np.arange(1, top + 1)
    tail = stats.poisson.sf(k[None, :] - 1, mean[:, None])
    return (tail * (1 - dropout_p[:, None]) ** (k[None, :] - 1)).sum(axis=1)


def _window_orders(
    scores: pd.DataFrame,
    truth: pd.DataFrame,
    config: ActionsConfig,
    base: Any,
    day: pd.Timestamp,
    window_days: int,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """The purchases in ``(day, day + window_days]``, with the treated customers' effects."""
    n = len(truth)
    alive = truth["alive"].to_numpy(bool)
    rate = truth["purchase_rate_per_day"].to_numpy(float)
    dropout_p = (
        base.truth.set_index("customer_id")
        .reindex(scores["customer_id"].to_numpy())["dropout_probability"]
        .to_numpy(float)
    )
    owner, when = _purchases(alive, rate, dropout_p, window_days, rng)
    buys = np.bincount(owner, minlength=n) > 0
    index = {a.name: k for k, a in enumerate(config.actions)}
    treated = (scores["group"] == "treatment").to_numpy()
    column = np.array([index.get(a, -1) for a in scores["action"].astype(str)])
    draw = rng.random(n)
    rho, sigma = np.zeros(n), np.zeros(n)
    for name, k in index.items():
        mine = treated & (column == k)
        rho[mine] = truth[f"reactivation_{name}"].to_numpy()[mine]
        sigma[mine] = truth[f"sleeping_dog_{name}"].to_numpy()[mine]
    won = ~buys & (draw < rho)
    put_off = buys & (draw < sigma)
    keep = ~put_off[owner]
    owner = np.r_[owner[keep], np.flatnonzero(won)]
    when = np.r_[when[keep], rng.random(int(won.sum())) * window_days]
    spend_p = float(base.params["spend_p"])
    mean = truth["mean_order_value"].to_numpy(float)[owner]
    amount = np.round(rng.gamma(spend_p, mean / spend_p), 2)
    seconds = np.floor(np.minimum(when, window_days - 1e-6) * _SECONDS_PER_DAY).astype(np.int64)
    frame = pd.DataFrame(
        {
            "customer_id": scores["customer_id"].to_numpy()[owner],
            "order_ts": day + _ONE_DAY + pd.to_timedelta(seconds, unit="s"),
            "amount": amount,
        }
    )
    frame = frame.sort_values(["customer_id", "order_ts"], kind="stable", ignore_index=True)
    return _with_base_columns(frame, base.orders)


def _purchases(
    alive: np.ndarray,
    rate: np.ndarray,
    dropout_p: np.ndarray,
    window_days: int,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """(owner index, day offset in the window) of each purchase of the no-contact world."""
    owners, times = [], []
    active = np.flatnonzero(alive & (rate > 0))
    clock = np.zeros(len(alive))
    while active.size:
        clock[active] += rng.exponential(1 / rate[active])
        active = active[clock[active] < window_days]
        owners.append(active)
        times.append(clock[active])
        active = active[rng.random(active.size) >= dropout_p[active]]
    if not owners:
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    return np.concatenate(owners).astype(np.int64), np.concatenate(times)


def _with_base_columns(frame: pd.DataFrame, base_orders: pd.DataFrame) -> pd.DataFrame:
    """Give the window's orders the base's optional columns (ids unique, plain defaults)."""
    if "order_id" in base_orders.columns:
        k = frame.groupby("customer_id").cumcount().to_numpy()
        frame["order_id"] = [f"W{c}-{i}" for c, i in zip(frame["customer_id"], k, strict=True)]
    defaults = {"quantity": 1.0, "discount": 0.0, "category": "grocery", "channel": "web"}
    for column, value in defaults.items():
        if column in base_orders.columns:
            frame[column] = value
    return frame[[c for c in base_orders.columns if c in frame.columns]]


def true_effects(sim: CampaignSimulation) -> dict[str, float]:
    """Return each action's true incremental response: mean ``effect_<action>`` over the
    customers the campaign assigned it (treatment and control)."""
    ids = sim.scores["customer_id"].astype(str).to_numpy()
    truth = sim.truth.set_index("customer_id").reindex(ids)
    out = {}
    for action in sim.config.actions:
        mine = (sim.scores["action"] == action.name).to_numpy()
        if mine.any():
            out[action.name] = float(truth[f"effect_{action.name}"].to_numpy()[mine].mean())
    return out


def oracle_allocation(sim: CampaignSimulation, *, margin: float = 1.0) -> pd.DataFrame:
    """Allocate the campaign knowing every true effect: gain = margin x true incremental
    revenue - unit cost, under the same budget, caps, rules and control fraction.

    The allocation's gain is ``uplift_<action> x value_if_retained - unit_cost``; the oracle's
    frame sets ``expected_value = max(1 - p_churn, MIN_STAY_PROBABILITY)``, a value if retained
    of exactly 1, so that its ``uplift_<action>`` columns, the true incremental revenue, are the
    gain before cost (``p_churn`` is kept for the rules).
    """
    raw = sim.config.model_dump(mode="json")
    for action in raw["actions"]:
        action["uplift"] = "model"
    config = parse_actions_config(raw, source="oracle")
    frame = sim.scores.drop(
        columns=["action", "offer", "channel", "expected_gain", "cost", "group"]
    )
    stay = 1.0 - frame["p_churn"].to_numpy(dtype=float)
    frame = frame.assign(expected_value=np.maximum(stay, MIN_STAY_PROBABILITY))
    for action in config.actions:
        frame[action.uplift_column] = margin * sim.truth[f"revenue_effect_{action.name}"].to_numpy()
    allocated = allocate_actions(frame, config)
    allocated["expected_value"] = sim.scores["expected_value"].to_numpy()
    return allocated


def allocation_profit(
    allocated: pd.DataFrame, sim: CampaignSimulation, *, margin: float = 1.0
) -> float:
    """Return the true expected incremental profit of an allocation of the simulated base:
    the sum over every customer assigned an action (as if all were contacted) of margin x true
    incremental revenue - unit cost."""
    ids = allocated["customer_id"].astype(str).to_numpy()
    truth = sim.truth.set_index("customer_id").reindex(ids)
    total = 0.0
    for action in sim.config.actions:
        mine = (allocated["action"] == action.name).to_numpy()
        gain = margin * truth[f"revenue_effect_{action.name}"].to_numpy()[mine]
        total += float(gain.sum() - action.unit_cost * mine.sum())
    return total
