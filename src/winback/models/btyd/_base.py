"""Maximum-likelihood machinery shared by the BTYD models: collapsing, optimising, fitted guard."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
from scipy.optimize import minimize
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.validation import check_is_fitted
from threadpoolctl import threadpool_limits

from winback.models.btyd._validate import (
    RFMData,
    check_options,
    require_repeat_buyers,
    rfm_arrays,
)

__all__ = [
    "LOG_BOUND",
    "BTYDModel",
    "Histories",
    "Objective",
    "collapse_rows",
    "distinct_rows",
    "distinct_values",
    "fit_log_params",
    "value_or_inf",
    "weighted_sum",
]

logger = logging.getLogger(__name__)

Objective = Callable[[np.ndarray], "float | tuple[float, np.ndarray]"]

# Log-parameters are kept in [-LOG_BOUND, LOG_BOUND]: wide enough for any sensible fit
# (e^23 ~ 1e10), narrow enough that gammaln/hyp2f1 never overflow during line searches.
LOG_BOUND = 23.0
# Stop when an iteration improves the mean log-likelihood by less than this relative amount:
# parameters are then stable to ~1e-6, and numerical gradients cannot resolve much further.
_FTOL = 1e-12


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


class BTYDModel(BaseEstimator):
    """Base of the BTYD models: stores the options and guards predictions until fitted.

    Parameters
    ----------
    penalizer : float, default 0.0
        Coefficient of an L2 penalty on the (natural-scale) parameters added to the mean negative
        log-likelihood per customer, as lifetimes' ``penalizer_coef``. Depends on the time unit.
    initial_params : mapping of str to float, optional
        Starting point of the optimiser, one positive value per parameter; by default a start
        derived from the data's purchase rate.
    tol : float, default 1e-7
        Convergence tolerance of L-BFGS-B on the projected gradient of the mean log-likelihood.
    max_iter : int, default 500
        Maximum number of optimiser iterations; a :class:`~sklearn.exceptions.ConvergenceWarning`
        is emitted when it is reached.
    """

    param_names: ClassVar[tuple[str, ...]] = ()

    def __init__(
        self,
        *,
        penalizer: float = 0.0,
        initial_params: Mapping[str, float] | None = None,
        tol: float = 1e-7,
        max_iter: int = 500,
    ) -> None:
        self.penalizer = penalizer
        self.initial_params = initial_params
        self.tol = tol
        self.max_iter = max_iter

    def _check_options(self) -> None:
        check_options(
            where=f"{type(self).__name__}.fit",
            penalizer=self.penalizer,
            initial_params=self.initial_params,
            names=self.param_names,
            tol=self.tol,
            max_iter=self.max_iter,
        )

    def _histories(self, data: RFMData, *, where: str) -> Histories:
        """Check the options and ``data`` for a fit; return its collapsed histories."""
        self._check_options()
        x, t_x, T = rfm_arrays(data, where=where)
        require_repeat_buyers(x, where=where)
        (xu, tu, Tu), counts = collapse_rows(x, t_x, T)
        rate = x.sum() / max(T.sum(), np.finfo(float).tiny)
        return Histories(xu, tu, Tu, counts, float(rate))

    def _start(self, default: Mapping[str, float]) -> np.ndarray:
        """Return the optimiser's start in log-parameters: ``initial_params`` or ``default``."""
        start = default if self.initial_params is None else self.initial_params
        return np.log([float(start[name]) for name in self.param_names])

    def _params(self) -> tuple[float, ...]:
        check_is_fitted(self, "params_")
        return tuple(self.params_[name] for name in self.param_names)

    def _set_fit(self, log_params: np.ndarray, log_likelihood: float, n_customers: int) -> None:
        self.params_ = dict(zip(self.param_names, np.exp(log_params).tolist(), strict=True))
        self.log_likelihood_ = float(log_likelihood)
        self.n_customers_ = int(n_customers)
        logger.debug("%s fitted: %s, LL=%.4f", type(self).__name__, self.params_, log_likelihood)


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


def fit_log_params(
    objective: Objective,
    start: np.ndarray,
    *,
    analytic_gradient: bool,
    penalizer: float,
    tol: float,
    max_iter: int,
    where: str,
    coordinates: np.ndarray | None = None,
    bounds: np.ndarray | None = None,
) -> np.ndarray:
    """Minimise ``objective`` (mean negative log-likelihood of log-parameters) plus the penalty.

    With ``analytic_gradient`` the objective returns ``(value, gradient)``; otherwise L-BFGS-B
    differentiates it numerically. The optimiser works on coordinates ``u`` with log-parameters
    ``coordinates @ u`` (identity by default) inside ``bounds`` (shape (k, 2); by default
    ``±LOG_BOUND``). Returns the minimising log-parameters; warns when the optimiser did not
    converge or stopped on a bound (the data do not identify the model).
    """
    k = len(start)
    to_log = np.eye(k) if coordinates is None else np.asarray(coordinates, dtype=np.float64)
    limits = np.tile([-LOG_BOUND, LOG_BOUND], (k, 1)) if bounds is None else np.asarray(bounds)

    def penalised(u: np.ndarray) -> float | tuple[float, np.ndarray]:
        theta = to_log @ u
        squares = np.exp(2.0 * theta)
        penalty = penalizer * squares.sum()
        with np.errstate(all="ignore"):
            out = objective(theta)
        if not analytic_gradient:
            return value_or_inf(out) + penalty
        value, grad = out
        if not np.isfinite(value) or not np.all(np.isfinite(grad)):
            return np.inf, np.zeros_like(u)
        return value + penalty, to_log.T @ (grad + 2.0 * penalizer * squares)

    # L-BFGS-B's many tiny BLAS calls are 10-40x slower with a multi-threaded BLAS on a busy
    # machine (thread wake-ups dominate); one thread is also bit-reproducible.
    with threadpool_limits(limits=1, user_api="blas"):
        result = minimize(
            penalised,
            np.linalg.solve(to_log, start),
            jac=analytic_gradient,
            method="L-BFGS-B",
            bounds=limits,
            options={"gtol": tol, "ftol": _FTOL, "maxiter": int(max_iter)},
        )
    if not result.success:
        warnings.warn(
            f"{where}: the optimiser stopped before converging ({result.message}); the "
            "parameters may be inaccurate. Raise max_iter, rescale time or set a penalizer.",
            ConvergenceWarning,
            stacklevel=3,
        )
    if np.any(np.isclose(result.x, limits[:, 0]) | np.isclose(result.x, limits[:, 1])):
        warnings.warn(
            f"{where}: the fit ran to the edge of the parameter space (a parameter, or a ratio "
            "of scale parameters, went to 0 or infinity): the data do not identify the model. "
            "Set a penalizer or use more customers or a longer history.",
            ConvergenceWarning,
            stacklevel=3,
        )
    return to_log @ result.x


def value_or_inf(value: float) -> float:
    """Return ``value``, or infinity when it is not a finite number (steers line searches away)."""
    return float(value) if np.isfinite(value) else np.inf


def weighted_sum(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Return ``sum(values * weights)`` over the last axis.

    Deliberately not ``values @ weights``: a threaded BLAS dot product is slower on these short
    vectors on a busy machine and its rounding can depend on the thread count.
    """
    return np.sum(values * weights, axis=-1)
