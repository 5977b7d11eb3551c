"""The Pareto/NBD model (Schmittlein, Morrison & Colombo 1987): maximum likelihood and predictions.

Each customer buys as a Poisson process of rate ``lambda ~ Gamma(r, alpha)`` during an exponential
lifetime of rate ``mu ~ Gamma(s, beta)``, and can drop out at any moment.
"""

from __future__ import annotations

import numpy as np
from scipy.special import gammaln

from winback.models.btyd._base import (
    LOG_BOUND,
    BTYDModel,
    distinct_rows,
    distinct_values,
    fit_log_params,
    value_or_inf,
    weighted_sum,
)
from winback.models.btyd._hypergeometric import hyp2f1_one
from winback.models.btyd._validate import (
    RFMData,
    horizon_array,
    rfm_arrays,
)

__all__ = ["ParetoNBD"]

# s == 1 is a removable singularity of the expected-purchases formulas.
_S_NEAR_ONE = 1e-10
# The fit moves (ln r, ln alpha, ln s, ln(beta/alpha)) and keeps alpha/beta within 1e5 either
# way: hyp2f1_one is exact to double precision for z <= 1 - 5e-6, i.e. such ratios, and a gamma
# heterogeneity that needs a larger one is a point mass to every practical purpose.
_MAX_SCALE_RATIO = 1e5
_COORDINATES = np.array([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 1, 0, 1]], dtype=np.float64)
_LOG_RATIO = np.log(_MAX_SCALE_RATIO)
_BOUNDS = np.array([[-LOG_BOUND, LOG_BOUND]] * 3 + [[-_LOG_RATIO, _LOG_RATIO]])


class ParetoNBD(BTYDModel):
    """Pareto/NBD model of repeat purchasing with dropout at any time.

    Parameters are ``r``, ``alpha`` (gamma heterogeneity of the purchase rate) and ``s``,
    ``beta`` (gamma heterogeneity of the dropout rate); ``alpha`` and ``beta`` are in the data's
    time unit.

    Parameters
    ----------
    penalizer : float, default 0.0
        L2 penalty on the parameters added to the mean negative log-likelihood per customer.
    initial_params : mapping of str to float, optional
        Start of the optimiser, keys ``r``, ``alpha``, ``s``, ``beta``.
    tol : float, default 1e-7
        Gradient tolerance of the optimiser (L-BFGS-B on log-parameters, numerical gradient).
    max_iter : int, default 500
        Maximum number of optimiser iterations.

    Attributes
    ----------
    params_ : dict of str to float
        Fitted ``r``, ``alpha``, ``s``, ``beta``.
    log_likelihood_ : float
        Log-likelihood of the data at ``params_`` (without the penalty).
    n_customers_ : int
        Number of customers fitted on.

    Notes
    -----
    ``data`` is as for :class:`BetaGeo`: columns ``frequency``, ``recency`` and ``T`` in one time
    unit. The likelihood follows Fader & Hardie, "A Note on Deriving the Pareto/NBD Model and
    Related Expressions" (2005), with its Gaussian hypergeometric terms written as the integral
    ``J(y) = int_y^inf (alpha+u)^-(r+x) (beta+u)^-(s+1) du`` and evaluated in a form that cannot
    overflow (see ``_log_tail_integral``). Fits keep ``alpha / beta`` within ``1e-5 .. 1e5``;
    predictions are exact to double precision there (and lose digits slowly beyond).

    Examples
    --------
    >>> import pandas as pd
    >>> data = pd.DataFrame({"frequency": [0, 2, 5, 1], "recency": [0.0, 10.0, 30.0, 4.0],
    ...                      "T": [38.0, 35.0, 32.0, 30.0]})
    >>> model = ParetoNBD().fit(data)
    >>> sorted(model.params_)
    ['alpha', 'beta', 'r', 's']
    """

    param_names = ("r", "alpha", "s", "beta")

    def fit(self, data: RFMData) -> ParetoNBD:
        """Fit the four parameters by maximum likelihood and return ``self``.

        Raises
        ------
        DataError
            If a column is missing or breaks the RFM definitions, or no customer has a repeat
            purchase.
        ConfigError
            If an option given to the constructor is invalid.
        """
        where = "ParetoNBD.fit"
        h = self._histories(data, where=where)
        histories = _Histories(h.x, h.t_x, h.T)
        weights = h.weights
        scale = 1.0 / h.rate
        start = self._start({"r": 1.0, "alpha": scale, "s": 1.0, "beta": scale})
        theta = fit_log_params(
            lambda theta: -value_or_inf(weighted_sum(histories.log_likelihood(theta), weights)),
            start,
            analytic_gradient=False,
            penalizer=self.penalizer,
            tol=self.tol,
            max_iter=self.max_iter,
            where=where,
            coordinates=_COORDINATES,
            bounds=_BOUNDS,
        )
        log_likelihood = weighted_sum(histories.log_likelihood(theta), h.counts)
        self._set_fit(theta, log_likelihood, h.n_customers)
        return self

    def probability_alive(self, data: RFMData) -> np.ndarray:
        """Return P(customer is still active at T | frequency, recency, T) for each row."""
        params = self._params()
        x, t_x, T = rfm_arrays(data, where="ParetoNBD.probability_alive")
        return _probability_alive(params, x, t_x, T)

    def expected_purchases(self, t: float | np.ndarray, data: RFMData) -> np.ndarray:
        """Return E[number of purchases in (T, T + t] | history] for each row.

        ``(r+x)(beta+T) / ((alpha+T)(s-1)) [1 - ((beta+T)/(beta+T+t))^(s-1)] P(alive)``
        (Fader & Hardie 2005, eq. 41); ``t`` is in the data's time unit.
        """
        params = self._params()
        where = "ParetoNBD.expected_purchases"
        t = horizon_array(t, where=where)
        x, t_x, T = rfm_arrays(data, where=where)
        r, alpha, s, beta = params
        alive = _probability_alive(params, x, t_x, T)
        return alive * (r + x) * (beta + T) / (alpha + T) * _lifetime_factor(s, t / (beta + T))

    def probability_of_purchase(self, t: float | np.ndarray, data: RFMData) -> np.ndarray:
        """Return P(at least one purchase in (T, T + t] | history) for each row.

        Given activity at T, ``lambda ~ Gamma(r+x, alpha+T)`` and ``mu ~ Gamma(s, beta+T)``
        independently, and the first event after T is a purchase at time ``u <= t`` with density
        ``lambda exp(-(lambda+mu) u)``. Integrating over both posteriors gives
        ``P(alive) (r+x) (alpha+T)^(r+x) (beta+T)^s int_0^t (alpha+T+u)^-(r+x+1)
        (beta+T+u)^-s du``, a difference of two Gaussian hypergeometric terms.
        """
        params = self._params()
        where = "ParetoNBD.probability_of_purchase"
        t = horizon_array(t, where=where)
        x, t_x, T = rfm_arrays(data, where=where)
        r, alpha, s, beta = params
        a_T, b_T, rx = alpha + T, beta + T, r + x
        log_integral = _log_difference(
            _log_tail_integral(0.0, a_T, rx + 1.0, b_T, s),
            _log_tail_integral(t, a_T, rx + 1.0, b_T, s),
        )
        log_buy = np.log(rx) + rx * np.log(a_T) + s * np.log(b_T) + log_integral
        return _probability_alive(params, x, t_x, T) * np.exp(np.minimum(log_buy, 0.0))

    def expected_purchases_new_customer(self, t: float | np.ndarray) -> np.ndarray:
        """Return E[number of repeat purchases in (0, t]] for a customer just acquired at time 0.

        ``r beta / (alpha (s-1)) [1 - (beta/(beta+t))^(s-1)]`` (Fader & Hardie 2005, eq. 27).
        """
        r, alpha, s, beta = self._params()
        t = horizon_array(t, where="ParetoNBD.expected_purchases_new_customer")
        return r * beta / alpha * _lifetime_factor(s, t / beta)


class _Histories:
    """Customer histories with the distinct ``(frequency, y)`` points where ``J`` is needed.

    ``J(y)`` depends on a customer only through ``x`` and ``y`` (``y`` = recency or T); every
    one-time buyer shares the point ``(0, 0)``, and day-resolution summaries share many more, so
    each likelihood evaluation computes ``J`` once per distinct point.
    """

    def __init__(self, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> None:
        self.x, self.T = x, T
        self._values, self._position = distinct_values(x)
        (self._point_x, self._point_y), where = distinct_rows(
            np.concatenate([x, x]), np.concatenate([t_x, T])
        )
        self._at_recency, self._at_T = where[: len(x)], where[len(x) :]

    def log_likelihood(self, theta: np.ndarray) -> np.ndarray:
        """Each history's ``ln C + ln(L_alive + L_dead)`` at log-parameters ``theta``.

        With ``C = G(r+x) alpha^r beta^s / G(r)``: ``L_alive = (alpha+T)^-(r+x) (beta+T)^-s``
        (still active at T) and ``L_dead = s [J(t_x) - J(T)]`` (dropped out between t_x and T),
        ``J(y) = int_y^inf (alpha+u)^-(r+x) (beta+u)^-(s+1) du`` (Fader & Hardie 2005, eq. 18).
        """
        r, alpha, s, beta = np.exp(theta)
        log_gamma_ratio = (gammaln(r + self._values) - gammaln(r))[self._position]
        log_c = log_gamma_ratio + r * np.log(alpha) + s * np.log(beta)
        return log_c + np.logaddexp(*self.log_alive_and_dead((r, alpha, s, beta)))

    def log_alive_and_dead(self, params: tuple[float, ...]) -> tuple[np.ndarray, np.ndarray]:
        """Return ``ln L_alive`` and ``ln L_dead`` of each history (see :meth:`log_likelihood`)."""
        r, alpha, s, beta = params
        log_alive = -(r + self.x) * np.log(alpha + self.T) - s * np.log(beta + self.T)
        log_j = _log_tail_integral(self._point_y, alpha, r + self._point_x, beta, s + 1.0)
        log_dead = np.log(s) + _log_difference(log_j[self._at_recency], log_j[self._at_T])
        return log_alive, log_dead


def _probability_alive(
    params: tuple[float, ...], x: np.ndarray, t_x: np.ndarray, T: np.ndarray
) -> np.ndarray:
    """P(alive | x, t_x, T) = L_alive / (L_alive + L_dead) (Fader & Hardie 2005, eq. 36-37)."""
    log_alive, log_dead = _Histories(x, t_x, T).log_alive_and_dead(params)
    return np.exp(log_alive - np.logaddexp(log_alive, log_dead))


def _log_tail_integral(
    y: float | np.ndarray,
    a: float | np.ndarray,
    p: float | np.ndarray,
    b: float | np.ndarray,
    q: float | np.ndarray,
) -> np.ndarray:
    """Return ``ln int_y^inf (a+u)^-p (b+u)^-q du`` for ``a, b > 0``, ``y >= 0``, ``p + q > 1``.

    With ``(A, P, B, Q)`` the pair of larger ``a``/``b`` first and ``z = (A-B)/(A+y)`` in [0, 1),
    the integral is ``(A+y)^-(P+Q-1) 2F1(P+Q-1, Q; P+Q; z) / (P+Q-1)`` (the form of Fader &
    Hardie's eq. 19-20), and by Euler's transformation
    ``(A+y)^-P (B+y)^(1-Q) 2F1(1, P; P+Q; z) / (P+Q-1)``, whose series has positive terms and no
    factor that overflows however large ``P`` (the frequency) is; it is evaluated by
    :func:`hyp2f1_one` because SciPy's ``hyp2f1`` fails for large ``P`` near ``z = 1``.
    """
    a, p, b, q, y = np.broadcast_arrays(*(np.asarray(v, dtype=np.float64) for v in (a, p, b, q, y)))
    swap = a < b
    A, B = np.where(swap, b, a), np.where(swap, a, b)
    P, Q = np.where(swap, q, p), np.where(swap, p, q)
    z = (A - B) / (A + y)
    return (
        -P * np.log(A + y)
        + (1.0 - Q) * np.log(B + y)
        + np.log(hyp2f1_one(P, Q, z))
        - np.log(P + Q - 1.0)
    )


def _log_difference(log_u: np.ndarray, log_v: np.ndarray) -> np.ndarray:
    """Return ``ln(exp(log_u) - exp(log_v))`` for ``log_u >= log_v`` (``-inf`` when equal)."""
    with np.errstate(divide="ignore"):
        return log_u + np.log(-np.expm1(np.minimum(log_v - log_u, 0.0)))


def _lifetime_factor(s: float, ratio: np.ndarray) -> np.ndarray:
    """Return ``[1 - (1 + ratio)^-(s-1)] / (s-1)``, equal to ``ln(1 + ratio)`` at ``s = 1``."""
    log_growth = np.log1p(ratio)
    if abs(s - 1.0) < _S_NEAR_ONE:
        return log_growth
    return -np.expm1(-(s - 1.0) * log_growth) / (s - 1.0)
