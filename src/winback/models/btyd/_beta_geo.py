"""The BG/NBD model (Fader, Hardie & Lee 2005): fit by maximum likelihood and its predictions.

Each customer buys as a Poisson process of rate ``lambda ~ Gamma(r, alpha)`` and, right after each
repeat purchase, drops out for good with probability ``p ~ Beta(a, b)``.
"""

from __future__ import annotations

import numpy as np
from scipy.special import digamma, gammaln, hyp2f1

from winback.models.btyd._base import (
    BTYDModel,
    Histories,
    PoissonPurchases,
    SearchSpace,
    distinct_values,
    weighted_sum,
)
from winback.models.btyd._validate import (
    RFMData,
    horizon_array,
    rfm_arrays,
)

__all__ = ["BetaGeo"]

# a == 1 is a removable singularity of the expected-purchases formulas; evaluate next to it.
_A_NEAR_ONE = 1e-7


class BetaGeo(PoissonPurchases, BTYDModel):
    """BG/NBD model of repeat purchasing and dropout ("beta-geometric / negative binomial").

    Parameters are ``r``, ``alpha`` (gamma heterogeneity of the purchase rate; ``alpha`` is in the
    data's time unit) and ``a``, ``b`` (beta heterogeneity of the dropout probability).

    Parameters
    ----------
    penalizer : float, default 0.0
        L2 penalty on the parameters added to the mean negative log-likelihood per customer.
    initial_params : mapping of str to float, optional
        Warm start of the optimiser (e.g. an earlier cutoff's fit), keys
        ``r``, ``alpha``, ``a``, ``b``.
    tol : float, default 1e-7
        Gradient tolerance of the optimiser (L-BFGS-B on log-parameters, analytic gradient).
    max_iter : int, default 500
        Maximum number of optimiser iterations per start.
    try_default_start : bool, default True
        With ``initial_params``, also fit from the default start and keep the fit with the
        higher penalised likelihood (the default one on a tie); ``start_`` says which won.

    Attributes
    ----------
    params_ : dict of str to float
        Fitted ``r``, ``alpha``, ``a``, ``b``.
    log_likelihood_ : float
        Log-likelihood of the data at ``params_`` (without the penalty).
    n_customers_ : int
        Number of customers fitted on.
    start_ : {"default", "warm"}
        Which start the fit came from: derived from the data, or ``initial_params``.
    converged_ : bool
        Whether the optimiser met its convergence criterion.
    degenerate_ : bool
        Whether the fit lost its dropout process (by a union bound, under 1% of customers drop
        out within the longest history) or ended on a bound of the parameter space.
    diagnostics_ : dict
        JSON-ready record of the fit: the chosen run's ``log_likelihood``,
        ``penalised_objective``, ``converged``, optimiser ``message``, ``iterations``,
        ``evaluations`` and ``on_bound``; ``start``, ``degenerate``, ``problems`` (the warnings'
        texts), ``longest_history``, ``dropout_share_at_most`` and ``starts``: the same
        record for each start tried.

    Notes
    -----
    Every method takes ``data`` with one row per customer and columns ``frequency`` (number of
    repeat purchase periods), ``recency`` (time from the first to the last purchase) and ``T``
    (time from the first purchase to the cutoff), in one time unit (lifetimes' definitions), as a
    DataFrame or a mapping of arrays. Predictions are float64 arrays in the row order of ``data``.

    Examples
    --------
    >>> import pandas as pd
    >>> data = pd.DataFrame({"frequency": [0, 2, 5, 1], "recency": [0.0, 10.0, 30.0, 4.0],
    ...                      "T": [38.0, 35.0, 32.0, 30.0]})
    >>> model = BetaGeo().fit(data)
    >>> sorted(model.params_)
    ['a', 'alpha', 'b', 'r']
    >>> model.probability_alive(data).shape
    (4,)
    """

    param_names = ("r", "alpha", "a", "b")
    _compare_with = "ParetoNBD"
    _share_is_bound = True

    def fit(self, data: RFMData) -> BetaGeo:
        """Fit the four parameters by maximum likelihood and return ``self``.

        Raises
        ------
        DataError
            If a column is missing or breaks the RFM definitions, or no customer has a repeat
            purchase.
        ConfigError
            If an option given to the constructor is invalid.
        """
        h = self._histories(data, where="BetaGeo.fit")
        default = {"r": 1.0, "alpha": 1.0 / h.rate, "a": 1.0, "b": 1.0}
        chosen, runs = self._optimise(_Likelihood(h), default, SearchSpace.plain(self.param_names))
        self._finish_fit(chosen, runs, h.n_customers, longest=h.longest)
        return self

    def _dropout_share(self, longest: float) -> float:
        """An upper bound on the share of new customers who drop out within ``longest``.

        A customer drops out only right after a purchase, so P(dropped out by T) is at most the
        expected number of purchases while active, ``r T / alpha``, times the mean dropout
        probability per purchase, ``a / (a + b)`` (a union bound).
        """
        r, alpha, a, b = self._params()
        return min(1.0, r * longest / alpha * (a / (a + b)))

    def _dropout_parameters(self) -> str:
        _, _, a, b = self._params()
        return (
            f"a = {a:.3g}, b = {b:.3g} (mean dropout probability per purchase a/(a+b) = "
            f"{a / (a + b):.2g})"
        )

    def probability_alive(self, data: RFMData) -> np.ndarray:
        """Return P(customer is still active at T | frequency, recency, T) for each row."""
        params = self._params()
        x, t_x, T = rfm_arrays(data, where="BetaGeo.probability_alive")
        return _probability_alive(params, x, t_x, T)

    def expected_purchases(self, t: float | np.ndarray, data: RFMData) -> np.ndarray:
        """Return E[number of purchases in (T, T + t] | history] for each row.

        ``t`` is in the data's time unit: a scalar or an array broadcastable to the rows.
        """
        params = self._params()
        where = "BetaGeo.expected_purchases"
        t = horizon_array(t, where=where)
        x, t_x, T = rfm_arrays(data, where=where)
        alive = _probability_alive(params, x, t_x, T)
        return alive * _expected_purchases_if_alive(params, t, x, T)

    def probability_of_purchase(self, t: float | np.ndarray, data: RFMData) -> np.ndarray:
        """Return P(at least one purchase in (T, T + t] | history) for each row.

        A BG/NBD customer can only drop out right after a purchase, so an active customer buys in
        ``(T, T + t]`` unless the Poisson process is silent there: given activity, ``lambda`` has
        the posterior Gamma(r + x, alpha + T) and the answer is
        ``P(alive) * (1 - ((alpha + T) / (alpha + T + t)) ** (r + x))``.
        """
        params = self._params()
        where = "BetaGeo.probability_of_purchase"
        t = horizon_array(t, where=where)
        x, t_x, T = rfm_arrays(data, where=where)
        r, alpha, _, _ = params
        silent = -(r + x) * np.log1p(t / (alpha + T))
        return _probability_alive(params, x, t_x, T) * -np.expm1(silent)

    def expected_purchases_new_customer(self, t: float | np.ndarray) -> np.ndarray:
        """Return E[number of repeat purchases in (0, t]] for a customer just acquired at time 0."""
        params = self._params()
        t = horizon_array(t, where="BetaGeo.expected_purchases_new_customer")
        return _expected_purchases_if_alive(params, t, np.zeros(1), np.zeros(1)).reshape(t.shape)


def _log_likelihood(
    params: np.ndarray, x: np.ndarray, t_x: np.ndarray, T: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Return each row's log-likelihood and its gradient in log-parameters (shape (4, n)).

    ``LL = ln G(r+x) - ln G(r) + r ln alpha + ln B(a, b+x) - ln B(a, b)
    + ln[(alpha+T)^-(r+x) + 1{x>0} a/(b+x-1) (alpha+t_x)^-(r+x)]`` (FHL 2005, eq. 6), the last
    term as a log-sum-exp of its two parts. Terms of ``x`` alone (gamma and digamma functions,
    the expensive part) are computed once per distinct frequency.
    """
    r, alpha, a, b = params
    values, position = distinct_values(x)
    psi_ab, psi_abx = digamma(a + b), digamma(a + b + values)
    per_value = np.stack(
        [
            gammaln(r + values) - gammaln(r) + gammaln(a + b) + gammaln(b + values)
            - gammaln(b) - gammaln(a + b + values),
            digamma(r + values) - digamma(r),
            psi_ab - psi_abx,
            psi_ab + digamma(b + values) - digamma(b) - psi_abx,
            -np.log(b + np.maximum(values, 1.0) - 1.0),
            1.0 / (b + np.maximum(values, 1.0) - 1.0),
        ]
    )[:, position]  # fmt: skip
    rx = r + x
    log_age, log_recency = np.log(alpha + T), np.log(alpha + t_x)
    log_alive = -rx * log_age
    log_dead = np.where(x > 0, np.log(a) + per_value[4] - rx * log_recency, -np.inf)
    log_tail = np.logaddexp(log_alive, log_dead)
    w_dead = np.exp(log_dead - log_tail)
    ll = per_value[0] + r * np.log(alpha) + log_tail
    d_r = per_value[1] + np.log(alpha) - log_age + w_dead * (log_age - log_recency)
    d_alpha = r / alpha - rx * ((1.0 - w_dead) / (alpha + T) + w_dead / (alpha + t_x))
    d_a = per_value[2] + w_dead / a
    d_b = per_value[3] - w_dead * per_value[5]
    return ll, np.stack([d_r * r, d_alpha * alpha, d_a * a, d_b * b])


class _Likelihood:
    """The BG/NBD mean negative log-likelihood of a fit's histories and its gradient.

    Set up once per fit, evaluated at log-parameters ``theta`` (see :func:`_log_likelihood` for
    the formula). Terms of the frequency alone are summed once per distinct frequency with the
    customers' total weight; one-time buyers contribute only ``-r ln(alpha + T)``; the
    alive/dropped-out mixture of repeat buyers is written with the log-odds
    ``d = ln(a / (b+x-1)) + (r+x) ln((alpha+T) / (alpha+t_x))`` of having dropped out, so that
    ``ln(tail) = -(r+x) ln(alpha+T) + softplus(d)`` and the weight of the dropped-out term is
    ``sigmoid(d)``.
    """

    def __init__(self, h: Histories) -> None:
        w = h.weights
        self.values, position = distinct_values(h.x)
        self.value_weights = np.bincount(position, weights=w, minlength=self.values.size)
        once = h.x == 0
        self.T_once, self.w_once = h.T[once], w[once]
        repeat = ~once
        self.x, self.t_x, self.T, self.w = h.x[repeat], h.t_x[repeat], h.T[repeat], w[repeat]
        self.wx = self.w * self.x
        self.position = position[repeat]

    def __call__(self, theta: np.ndarray) -> tuple[float, np.ndarray]:
        """Return the mean negative log-likelihood and its gradient in ``theta``."""
        r, alpha, a, b = np.exp(theta)
        value, grad = self._frequency_terms(r, a, b)
        log_alpha = np.log(alpha)
        log_age_once = np.log(alpha + self.T_once)
        value += r * (log_alpha - weighted_sum(log_age_once, self.w_once))
        grad += [
            log_alpha - weighted_sum(log_age_once, self.w_once),
            r / alpha - r * weighted_sum(1.0 / (alpha + self.T_once), self.w_once),
            0.0,
            0.0,
        ]
        tail_value, tail_grad = self._repeat_buyer_tails(r, alpha, a, b)
        grad = (grad + tail_grad) * (r, alpha, a, b)
        return -(value + tail_value), -grad

    def _frequency_terms(self, r: float, a: float, b: float) -> tuple[float, np.ndarray]:
        """``ln[G(r+x)/G(r)] + ln[B(a, b+x)/B(a, b)]`` summed, and its natural-scale gradient."""
        v, W = self.values, self.value_weights
        psi_ab, psi_abx = digamma(a + b), digamma(a + b + v)
        value = weighted_sum(
            gammaln(r + v) - gammaln(r) + gammaln(a + b) + gammaln(b + v) - gammaln(b)
            - gammaln(a + b + v),
            W,
        )  # fmt: skip
        grad = np.array(
            [
                weighted_sum(digamma(r + v) - digamma(r), W),
                0.0,
                weighted_sum(psi_ab - psi_abx, W),
                weighted_sum(psi_ab + digamma(b + v) - digamma(b) - psi_abx, W),
            ]
        )
        return float(value), grad

    def _repeat_buyer_tails(
        self, r: float, alpha: float, a: float, b: float
    ) -> tuple[float, np.ndarray]:
        """The repeat buyers' ``ln[(alpha+T)^-(r+x) + a/(b+x-1) (alpha+t_x)^-(r+x)]`` summed."""
        w = self.w
        age, recency = alpha + self.T, alpha + self.t_x
        log_age = np.log(age)
        gap = log_age - np.log(recency)
        rx = r + self.x
        inverse_b = 1.0 / (b + np.maximum(self.values, 1.0) - 1.0)
        odds = np.log(a * inverse_b)[self.position] + rx * gap
        soft = np.maximum(odds, 0.0) + np.log1p(np.exp(-np.abs(odds)))
        alive, dead = np.exp(-soft), np.exp(odds - soft)  # sigmoid(-d), sigmoid(d)
        value = weighted_sum(soft - rx * log_age, w)
        grad = np.array(
            [
                weighted_sum(dead * gap - log_age, w),
                -weighted_sum(alive / age + dead / recency, r * w + self.wx),
                weighted_sum(dead, w) / a,
                -weighted_sum(dead * inverse_b[self.position], w),
            ]
        )
        return float(value), grad


def _probability_alive(
    params: tuple[float, ...], x: np.ndarray, t_x: np.ndarray, T: np.ndarray
) -> np.ndarray:
    """P(alive | x, t_x, T) = 1 / (1 + 1{x>0} a/(b+x-1) ((alpha+T)/(alpha+t_x))^(r+x))."""
    r, alpha, a, b = params
    log_odds_dead = np.where(
        x > 0,
        np.log(a)
        - np.log(b + np.maximum(x, 1.0) - 1.0)
        + (r + x) * (np.log(alpha + T) - np.log(alpha + t_x)),
        -np.inf,
    )
    return np.exp(-np.logaddexp(0.0, log_odds_dead))


def _expected_purchases_if_alive(
    params: tuple[float, ...], t: np.ndarray, x: np.ndarray, T: np.ndarray
) -> np.ndarray:
    """E[purchases in (T, T+t] | alive at T, x, T] (FHL 2005, eq. 10 divided by P(alive)).

    ``(a+b+x-1)/(a-1) [1 - ((alpha+T)/(alpha+T+t))^(r+x) 2F1(r+x, b+x; a+b+x-1; z)]`` with
    ``z = t/(alpha+T+t)``, evaluated after Euler's transformation
    ``2F1(A, B; C; z) = (1-z)^(C-A-B) 2F1(C-A, C-B; C; z)`` so that no term overflows for large x:
    the bracket becomes ``1 - (1-z)^(a-1) 2F1(a+b-1-r, a-1; a+b+x-1; z)``. Valid for any a > 0.
    """
    r, alpha, a, b = params
    if abs(a - 1.0) < _A_NEAR_ONE:
        a = 1.0 + _A_NEAR_ONE
    log_1mz = -np.log1p(t / (alpha + T))
    z = -np.expm1(log_1mz)
    bracket = 1.0 - np.exp((a - 1.0) * log_1mz) * hyp2f1(
        a + b - 1.0 - r, a - 1.0, a + b + x - 1.0, z
    )
    return (a + b + x - 1.0) / (a - 1.0) * bracket
