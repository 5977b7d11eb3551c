"""Maximum-likelihood machinery shared by the BTYD models: collapsing, optimising, choosing a start,
fit diagnostics and the fitted guard."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from scipy.optimize import minimize
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.validation import check_is_fitted
from threadpoolctl import threadpool_limits

from winback.exceptions import ConfigError
from winback.models.btyd._validate import (
    RFMData,
    check_options,
    require_repeat_buyers,
    rfm_arrays,
)

__all__ = [
    "LOG_BOUND",
    "VANISHED_DROPOUT_SHARE",
    "BTYDModel",
    "Histories",
    "Objective",
    "Optimum",
    "PoissonPurchases",
    "SearchSpace",
    "collapse_rows",
    "distinct_rows",
    "distinct_values",
    "minimise",
    "next_purchase_quantile",
    "percent",
    "weighted_sum",
]

logger = logging.getLogger(__name__)

Objective = Callable[[np.ndarray], tuple[float, np.ndarray]]
"""Mean negative log-likelihood per customer at log-parameters, and its gradient in them."""

# Log-parameters are kept in [-LOG_BOUND, LOG_BOUND]: wide enough for any sensible fit
# (e^23 ~ 1e10), narrow enough that gammaln/hyp2f1 never overflow during line searches.
LOG_BOUND = 23.0
# Stop when an iteration improves the mean log-likelihood by less than this relative amount.
_FTOL = 1e-12
# A fit that has fewer than this share of customers drop out within the longest history has lost
# its dropout component (retail bases lose tens of percent): it is flagged as degenerate.
VANISHED_DROPOUT_SHARE = 1e-2
# A warm start's fit replaces the default start's only when its penalised mean negative
# log-likelihood is lower by more than this relative amount: two runs that reach the same optimum
# differ by ~1e-12, and a tie keeps the fit that does not depend on earlier fits.
_WARM_MARGIN = 1e-9


@dataclass(frozen=True)
class Histories:
    """A fit's distinct (frequency, recency, T) rows, sorted, with how many customers share each."""

    x: np.ndarray
    t_x: np.ndarray
    T: np.ndarray
    counts: np.ndarray
    rate: float  # repeat purchases per unit of time over all customers (sets the default start)

    @property
    def weights(self) -> np.ndarray:
        """Each distinct row's share of the customers."""
        return self.counts / self.counts.sum()

    @property
    def n_customers(self) -> int:
        return int(self.counts.sum())

    @property
    def longest(self) -> float:
        """The longest history ``T`` (the span over which dropout is judged)."""
        return float(self.T.max())


@dataclass(frozen=True)
class SearchSpace:
    """Where the optimiser moves: log-parameters ``coordinates @ u`` with ``u`` inside ``bounds``.

    ``names`` label the coordinates ``u`` in diagnostics (e.g. ``"beta/alpha"`` for a ratio).
    """

    coordinates: np.ndarray
    bounds: np.ndarray
    names: tuple[str, ...]

    @classmethod
    def plain(cls, names: tuple[str, ...]) -> SearchSpace:
        """Each log-parameter on its own, within ``±LOG_BOUND``."""
        k = len(names)
        return cls(np.eye(k), np.tile([-LOG_BOUND, LOG_BOUND], (k, 1)), names)


@dataclass(frozen=True)
class Optimum:
    """The end of one optimiser run from one start."""

    theta: np.ndarray  # log-parameters
    objective: float  # penalised mean negative log-likelihood per customer
    penalty: float  # the penalty's part of ``objective``
    converged: bool
    message: str
    iterations: int
    evaluations: int
    on_bound: tuple[str, ...]  # coordinates that ended on a bound, worded for people

    def log_likelihood(self, n_customers: int) -> float:
        """The data's log-likelihood at ``theta`` (without the penalty)."""
        return -n_customers * (self.objective - self.penalty)


class BTYDModel(BaseEstimator):
    """Base of the BTYD models: stores the options, runs the fit's starts, guards predictions.

    Parameters
    ----------
    penalizer : float, default 0.0
        Coefficient of an L2 penalty on the (natural-scale) parameters added to the mean negative
        log-likelihood per customer, as lifetimes' ``penalizer_coef``. Depends on the time unit.
    initial_params : mapping of str to float, optional
        A warm start of the optimiser, one positive value per parameter (e.g. the parameters
        fitted at an earlier cutoff); by default a start derived from the data's purchase rate.
    tol : float, default 1e-7
        Convergence tolerance of L-BFGS-B on the projected gradient of the mean log-likelihood.
    max_iter : int, default 500
        Maximum number of optimiser iterations per start.
    try_default_start : bool, default True
        When ``initial_params`` is given, also fit from the default start and keep the fit with
        the higher penalised likelihood (the default one on a tie), so that a warm start can
        only improve a fit, never trap it. Ignored without ``initial_params``.
    """

    param_names: ClassVar[tuple[str, ...]] = ()

    def __init__(
        self,
        *,
        penalizer: float = 0.0,
        initial_params: Mapping[str, float] | None = None,
        tol: float = 1e-7,
        max_iter: int = 500,
        try_default_start: bool = True,
    ) -> None:
        self.penalizer = penalizer
        self.initial_params = initial_params
        self.tol = tol
        self.max_iter = max_iter
        self.try_default_start = try_default_start

    def _check_options(self) -> None:
        check_options(
            where=f"{type(self).__name__}.fit",
            penalizer=self.penalizer,
            initial_params=self.initial_params,
            names=self.param_names,
            tol=self.tol,
            max_iter=self.max_iter,
            try_default_start=self.try_default_start,
        )

    def _histories(self, data: RFMData, *, where: str) -> Histories:
        """Check the options and ``data`` for a fit; return its collapsed histories."""
        self._check_options()
        x, t_x, T = rfm_arrays(data, where=where)
        require_repeat_buyers(x, where=where)
        (xu, tu, Tu), counts = collapse_rows(x, t_x, T)
        # Summed over the sorted distinct rows, so the default start does not depend on row order.
        rate = weighted_sum(xu, counts) / max(weighted_sum(Tu, counts), np.finfo(float).tiny)
        return Histories(xu, tu, Tu, counts, float(rate))

    def _optimise(
        self, objective: Objective, default: Mapping[str, float], space: SearchSpace
    ) -> tuple[str, dict[str, Optimum]]:
        """Run the optimiser from each start; return the chosen start's label and every run.

        Starts are ``"warm"`` (``initial_params``) and ``"default"`` (``default``); the warm run
        is chosen only if its penalised objective is lower by more than ``_WARM_MARGIN``.
        """
        starts: dict[str, Mapping[str, float]] = {}
        if self.initial_params is not None:
            starts["warm"] = self.initial_params
        if self.initial_params is None or self.try_default_start:
            starts["default"] = default
        runs = {
            label: minimise(
                objective,
                np.log([float(start[name]) for name in self.param_names]),
                penalizer=self.penalizer,
                tol=self.tol,
                max_iter=self.max_iter,
                space=space,
            )
            for label, start in starts.items()
        }
        if len(runs) == 1:
            return next(iter(runs)), runs
        warm, cold = runs["warm"].objective, runs["default"].objective
        better = warm < cold - _WARM_MARGIN * max(1.0, abs(cold))
        return ("warm" if better else "default"), runs

    def _finish_fit(
        self, chosen: str, runs: dict[str, Optimum], n_customers: int, *, longest: float = 0.0
    ) -> None:
        """Store the chosen run as the fit, with its diagnostics; warn about its problems."""
        optimum = runs[chosen]
        self.params_ = dict(zip(self.param_names, np.exp(optimum.theta).tolist(), strict=True))
        self.log_likelihood_ = float(optimum.log_likelihood(n_customers))
        self.n_customers_ = int(n_customers)
        self.start_ = chosen
        self.converged_ = optimum.converged
        dropout = self._dropout_problem(longest)
        problems = _optimiser_problems(optimum) + ([] if dropout is None else [dropout])
        self.degenerate_ = bool(optimum.on_bound) or dropout is not None
        self.diagnostics_ = {
            **_run_record(optimum, n_customers),
            "start": chosen,
            "degenerate": self.degenerate_,
            "problems": problems,
            **self._fit_summary(longest),
            "starts": {label: _run_record(run, n_customers) for label, run in runs.items()},
        }
        where = f"{type(self).__name__}.fit"
        for problem in problems:
            warnings.warn(f"{where}: {problem}", ConvergenceWarning, stacklevel=3)
        logger.debug("%s fitted: %s", type(self).__name__, self.diagnostics_)

    def _dropout_problem(self, longest: float) -> str | None:
        """A transaction model's message when its dropout component vanished (else None)."""
        return None

    def _fit_summary(self, longest: float) -> dict[str, Any]:
        """Model-specific JSON-ready figures added to ``diagnostics_``."""
        return {}

    def _params(self) -> tuple[float, ...]:
        check_is_fitted(self, "params_")
        return tuple(self.params_[name] for name in self.param_names)


def minimise(
    objective: Objective,
    start: np.ndarray,
    *,
    penalizer: float,
    tol: float,
    max_iter: int,
    space: SearchSpace,
) -> Optimum:
    """Minimise ``objective`` plus the L2 penalty from ``start`` (log-parameters) by L-BFGS-B.

    The optimiser moves the coordinates ``u`` of ``space`` (log-parameters ``coordinates @ u``);
    a non-finite value or gradient is reported as ``+inf`` so line searches step back.
    """
    to_log = space.coordinates

    def penalised(u: np.ndarray) -> tuple[float, np.ndarray]:
        theta = to_log @ u
        squares = np.exp(2.0 * theta)
        with np.errstate(all="ignore"):
            value, grad = objective(theta)
        if not np.isfinite(value) or not np.all(np.isfinite(grad)):
            return np.inf, np.zeros_like(u)
        return value + penalizer * squares.sum(), to_log.T @ (grad + 2.0 * penalizer * squares)

    # L-BFGS-B's many tiny BLAS calls are 10-40x slower with a multi-threaded BLAS on a busy
    # machine (thread wake-ups dominate); one thread is also bit-reproducible.
    with threadpool_limits(limits=1, user_api="blas"):
        result = minimize(
            penalised,
            np.linalg.solve(to_log, start),
            jac=True,
            method="L-BFGS-B",
            bounds=space.bounds,
            options={"gtol": tol, "ftol": _FTOL, "maxiter": int(max_iter)},
        )
    theta = to_log @ result.x
    return Optimum(
        theta=theta,
        objective=float(result.fun),
        penalty=float(penalizer * np.exp(2.0 * theta).sum()),
        converged=bool(result.success),
        message=str(result.message),
        iterations=int(result.nit),
        evaluations=int(result.nfev),
        on_bound=_on_bound(result.x, space),
    )


def _optimiser_problems(optimum: Optimum) -> list[str]:
    """Domain-worded problems of an optimiser run: stopped early, or ended on a bound."""
    problems = []
    if not optimum.converged:
        problems.append(
            f"the optimiser stopped before converging ({optimum.message}) after "
            f"{optimum.iterations} iterations; the parameters may be inaccurate. Raise max_iter, "
            "rescale time or set a penalizer."
        )
    if optimum.on_bound:
        problems.append(
            f"the fit ran to the edge of the parameter space ({'; '.join(optimum.on_bound)}): "
            "the data do not identify the model. Set a penalizer or use more customers or a "
            "longer history."
        )
    return problems


def _on_bound(u: np.ndarray, space: SearchSpace) -> tuple[str, ...]:
    low, high = space.bounds[:, 0], space.bounds[:, 1]
    return tuple(
        f"{name} at its {side} bound {np.exp(limit):.3g}"
        for name, value, lo, hi in zip(space.names, u, low, high, strict=True)
        for side, limit in (("lower", lo), ("upper", hi))
        if np.isclose(value, limit)
    )


class PoissonPurchases:
    """Mixin of the models whose active customers buy as a Poisson process with a
    Gamma(r, alpha) rate, r and alpha their first two parameters (BG/NBD, Pareto/NBD).

    Each names its dropout parameters (:meth:`_dropout_parameters`), the share of new customers
    who drop out within a span (:meth:`_dropout_share`; an upper bound where
    ``_share_is_bound``) and the other model to compare with when that share vanishes."""

    _share_is_bound: ClassVar[bool] = False
    _compare_with: ClassVar[str] = ""

    def _dropout_share(self, longest: float) -> float:
        raise NotImplementedError

    def _dropout_parameters(self) -> str:
        raise NotImplementedError

    def _dropout_problem(self, longest: float) -> str | None:
        """The message when the dropout component vanished (else None)."""
        share = self._dropout_share(longest)
        if share >= VANISHED_DROPOUT_SHARE:
            return None
        bound = "at most " if self._share_is_bound else ""
        return (
            f"the dropout component vanished: {self._dropout_parameters()}, so {bound}"
            f"{percent(share)} of customers drop out within {longest:.4g} time units (the "
            "longest history): customers are modelled as never dropping out and P(alive) is ~1 "
            "for everyone. Check that the summary has lapsed customers and one row per purchase "
            f"occasion, and compare with {self._compare_with}."
        )

    def _fit_summary(self, longest: float) -> dict[str, float]:
        key = "dropout_share_at_most" if self._share_is_bound else "dropout_share"
        return {"longest_history": longest, key: self._dropout_share(longest)}

    def time_to_next_purchase(self, data: RFMData, *, quantile: float = 0.5) -> np.ndarray:
        """Return the ``quantile`` of the time from T to the next purchase if the customer is
        active at T and stays so (default: the median), in the data's time unit.

        ``(alpha + T) * ((1 - quantile) ** (-1 / (r + x)) - 1)``: given activity, ``lambda`` has
        the posterior Gamma(r + x, alpha + T) and the wait is Lomax (see
        :func:`next_purchase_quantile`).
        """
        where = f"{type(self).__name__}.time_to_next_purchase"
        if not 0 < quantile < 1:
            raise ConfigError(f"{where}: expected 0 < quantile < 1, got {quantile!r}.")
        r, alpha = self._params()[:2]  # type: ignore[attr-defined]
        x, _, T = rfm_arrays(data, where=where)
        return next_purchase_quantile(r, alpha, x, T, quantile)


def next_purchase_quantile(
    r: float, alpha: float, x: np.ndarray, T: np.ndarray, quantile: float
) -> np.ndarray:
    """Quantile of the time from T to the next purchase of a customer active at T who stays so.

    In BG/NBD and Pareto/NBD an active customer buys as a Poisson process of rate ``lambda``,
    and given activity at T the history leaves ``lambda ~ Gamma(r + x, alpha + T)`` (the
    dropout terms of the likelihood do not involve ``lambda``). The waiting time to the next
    purchase is exponential given ``lambda``, so over the posterior
    ``P(wait > t) = ((alpha + T) / (alpha + T + t)) ** (r + x)``: a Lomax (Pareto II)
    distribution of shape ``r + x`` and scale ``alpha + T``, whose ``q`` quantile is
    ``(alpha + T) * ((1 - q) ** (-1 / (r + x)) - 1)``; the median is
    ``(alpha + T) * (2 ** (1 / (r + x)) - 1)``. In the data's time unit.
    """
    shape = r + np.asarray(x, dtype=float)
    return (alpha + np.asarray(T, dtype=float)) * np.expm1(-np.log1p(-quantile) / shape)


def percent(share: float) -> str:
    """``share`` as a percentage with two significant digits (``0.0029`` -> ``"0.29%"``)."""
    return f"{100.0 * share:.2g}%"


def _run_record(optimum: Optimum, n_customers: int) -> dict[str, Any]:
    """A JSON-ready summary of one optimiser run."""
    return {
        "log_likelihood": _json_float(optimum.log_likelihood(n_customers)),
        "penalised_objective": _json_float(optimum.objective),
        "converged": optimum.converged,
        "message": optimum.message,
        "iterations": optimum.iterations,
        "evaluations": optimum.evaluations,
        "on_bound": list(optimum.on_bound),
    }


def _json_float(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None


def distinct_rows(*columns: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
    """Return the distinct rows of ``columns`` in sorted order and, per input row, its position.

    ``keys[i][inverse]`` rebuilds ``columns[i]``. Sorting makes the result independent of the
    input's row order, so fits are identical however the rows are shuffled.
    """
    order = np.lexsort(columns[::-1])
    stacked = np.column_stack(columns)[order]
    starts = np.ones(len(order), dtype=bool)
    starts[1:] = np.any(stacked[1:] != stacked[:-1], axis=1)
    inverse = np.empty(len(order), dtype=np.intp)
    inverse[order] = np.cumsum(starts) - 1
    return [stacked[starts, i] for i in range(len(columns))], inverse


def distinct_values(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return the sorted distinct values of ``x`` and each element's position among them.

    Linear time when ``x`` is already sorted (as the frequencies of :func:`collapse_rows` are),
    so a likelihood can evaluate its functions of the frequency once per distinct value.
    """
    if x.size and np.all(x[1:] >= x[:-1]):
        starts = np.empty(x.size, dtype=bool)
        starts[0] = True
        np.not_equal(x[1:], x[:-1], out=starts[1:])
        return x[starts], np.cumsum(starts) - 1
    values, position = np.unique(x, return_inverse=True)
    return values, position.reshape(x.shape)


def collapse_rows(*columns: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
    """Return the distinct rows of ``columns`` (sorted) and how many customers share each.

    Summaries in whole days have many customers with identical histories; the likelihood is
    evaluated once per distinct history and weighted by its count (Fader and Hardie's trick).
    """
    keys, inverse = distinct_rows(*columns)
    return keys, np.bincount(inverse, minlength=len(keys[0])).astype(np.float64)


def weighted_sum(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Return ``sum(values * weights)`` over the last axis.

    Deliberately not ``values @ weights``: a threaded BLAS dot product is slower on these short
    vectors on a busy machine and its rounding can depend on the thread count.
    """
    return np.sum(values * weights, axis=-1)
