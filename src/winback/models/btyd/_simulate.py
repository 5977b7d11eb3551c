"""Simulated RFM summaries from BG/NBD and Pareto/NBD with known parameters (tests, benchmarks).

Each function draws every customer's latent rates, then their history in ``[0, T]`` and their
purchases in ``(T, T + horizon]``, fully vectorised.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

__all__ = ["simulate_bg_nbd", "simulate_gamma_gamma", "simulate_pareto_nbd"]


def simulate_bg_nbd(
    params: Mapping[str, float], T: np.ndarray, *, horizon: float, rng: np.random.Generator
) -> pd.DataFrame:
    """Return a BG/NBD customer base observed at ``T`` (one row per entry of ``T``).

    Columns: ``frequency``, ``recency``, ``T``, ``alive`` (bool, active at T) and
    ``future_purchases`` (number of purchases in ``(T, T + horizon]``).

    A customer drops out right after repeat purchase number ``K ~ Geometric(p)``, so with ``N``
    Poisson events in ``[0, T]`` the frequency is ``min(N, K)`` and the recency is that order
    statistic of ``N`` uniform event times: ``T * Beta(x, N - x + 1)``.
    """
    T = np.asarray(T, dtype=np.float64)
    lam = rng.gamma(params["r"], 1.0 / params["alpha"], T.size)
    p = rng.beta(params["a"], params["b"], T.size)
    last = rng.geometric(p)
    events = rng.poisson(lam * T)
    x = np.minimum(events, last)
    alive = events < last
    future = np.where(alive, np.minimum(rng.poisson(lam * horizon), last - events), 0)
    return _summary(x, _order_statistic(x, events, T, rng), T, alive, future)


def simulate_pareto_nbd(
    params: Mapping[str, float], T: np.ndarray, *, horizon: float, rng: np.random.Generator
) -> pd.DataFrame:
    """Return a Pareto/NBD customer base observed at ``T``; columns as :func:`simulate_bg_nbd`.

    A customer buys at rate ``lambda`` until an exponential lifetime ``tau`` of rate ``mu`` ends.
    """
    T = np.asarray(T, dtype=np.float64)
    lam = rng.gamma(params["r"], 1.0 / params["alpha"], T.size)
    mu = rng.gamma(params["s"], 1.0 / params["beta"], T.size)
    lifetime = rng.exponential(1.0 / mu)
    active = np.minimum(lifetime, T)
    x = rng.poisson(lam * active)
    alive = lifetime > T
    future = rng.poisson(lam * np.clip(lifetime - T, 0.0, horizon))
    return _summary(x, _order_statistic(x, x, active, rng), T, alive, future)


def simulate_gamma_gamma(
    params: Mapping[str, float], frequency: np.ndarray, *, rng: np.random.Generator
) -> pd.DataFrame:
    """Return ``frequency``, ``monetary_value`` (mean of ``frequency`` values) and ``next_value``.

    Transaction values are Gamma(p, rate nu) with ``nu ~ Gamma(q, rate gamma)``; the mean of x of
    them is Gamma(p x, rate x nu). ``next_value`` is one further transaction of the customer.
    """
    x = np.asarray(frequency, dtype=np.float64)
    nu = rng.gamma(params["q"], 1.0 / params["gamma"], x.size)
    shape = np.maximum(params["p"] * x, np.finfo(float).tiny)
    mean = np.where(x > 0, rng.gamma(shape, 1.0 / (np.maximum(x, 1.0) * nu)), np.nan)
    return pd.DataFrame(
        {
            "frequency": x,
            "monetary_value": mean,
            "next_value": rng.gamma(params["p"], 1.0 / nu),
        }
    )


def _order_statistic(
    k: np.ndarray, n: np.ndarray, span: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Time of the k-th of n uniform events on [0, span] (0 where k == 0)."""
    draw = rng.beta(np.maximum(k, 1), np.maximum(n - k + 1, 1))
    return np.where(k > 0, span * draw, 0.0)


def _summary(
    x: np.ndarray, t_x: np.ndarray, T: np.ndarray, alive: np.ndarray, future: np.ndarray
) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "frequency": x.astype(np.float64),
            "recency": t_x,
            "T": T,
            "alive": alive,
            "future_purchases": future.astype(np.float64),
        }
    )
