"""The Pareto/NBD model (Schmittlein, Morrison & Colombo 1987): maximum likelihood and predictions.

Each customer buys as a Poisson process of rate ``lambda ~ Gamma(r, alpha)`` during an exponential
lifetime of rate ``mu ~ Gamma(s, beta)``, and can drop out at any moment.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import digamma, gammaln

from winback.models.btyd._base import (
    LOG_BOUND,
    BTYDModel,
    Histories,
    PoissonPurchases,
    SearchSpace,
    distinct_rows,
    distinct_values,
    weighted_sum,
)
from winback.models.btyd._hypergeometric import hyp2f1_one, log_hyp2f1_one_derivatives
from winback.models.btyd._validate import (
    RFMData,
    horizon_array,
    rfm_arrays,
)

__all__ = ["ParetoNBD"]

# s == 1 is a removable singularity of the expected-purchases formulas.
_S_NEAR_ONE = 1e-10
# The fit moves (ln r, ln alpha, ln s, ln(beta/alpha)) and keeps alpha/beta within 1e3 either
# way. The continued fraction needs ~2/sqrt(1-z) levels and 1 - z >= 1/ratio at y = 0: at 1e3 a
# fit costs at most ~650 levels per point, at 1e5 ~6,000, which made fits that drift towards a
# vanished dropout process (beta/alpha -> infinity) 10x slower for a likelihood gain of ~1e-6.
# A fit that needs a larger ratio is reported as ending on a bound (degenerate).
_MAX_SCALE_RATIO = 1e3
_COORDINATES = np.array([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 1, 0, 1]], dtype=np.float64)
_LOG_RATIO = np.log(_MAX_SCALE_RATIO)
_BOUNDS = np.array([[-LOG_BOUND, LOG_BOUND]] * 3 + [[-_LOG_RATIO, _LOG_RATIO]])
_SPACE = SearchSpace(_COORDINATES, _BOUNDS, ("r", "alpha", "s", "beta/alpha"))
# The fit's likelihood works through its points and customers in runs of this many: temporaries
# of 64 KB stay in cache and in malloc's heap (megabyte ones are mapped fresh and page-fault).
_CHUNK = 1 << 13


class ParetoNBD(PoissonPurchases, BTYDModel):
    """Pareto/NBD model of repeat purchasing with dropout at any time.

    Parameters are ``r``, ``alpha`` (gamma heterogeneity of the purchase rate) and ``s``,
    ``beta`` (gamma heterogeneity of the dropout rate); ``alpha`` and ``beta`` are in the data's
    time unit.

    Parameters
    ----------
    penalizer : float, default 0.0
        L2 penalty on the parameters added to the mean negative log-likelihood per customer.
    initial_params : mapping of str to float, optional
        Warm start of the optimiser (e.g. an earlier cutoff's fit), keys
        ``r``, ``alpha``, ``s``, ``beta``.
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
        Fitted ``r``, ``alpha``, ``s``, ``beta``.
    log_likelihood_ : float
        Log-likelihood of the data at ``params_`` (without the penalty).
    n_customers_ : int
        Number of customers fitted on.
    start_ : {"default", "warm"}
        Which start the fit came from: derived from the data, or ``initial_params``.
    converged_ : bool
        Whether the optimiser met its convergence criterion.
    degenerate_ : bool
        Whether the fit lost its dropout process (under 1% of customers drop out within the
        longest history) or ended on a bound of the parameter space.
    diagnostics_ : dict
        JSON-ready record of the fit: the chosen run's ``log_likelihood``,
        ``penalised_objective``, ``converged``, optimiser ``message``, ``iterations``,
        ``evaluations`` and ``on_bound``; ``start``, ``degenerate``, ``problems`` (the warnings'
        texts), ``longest_history``, ``dropout_share`` and ``starts``: the same
        record for each start tried.

    Notes
    -----
    ``data`` is as for :class:`BetaGeo`: columns ``frequency``, ``recency`` and ``T`` in one time
    unit. The likelihood follows Fader & Hardie, "A Note on Deriving the Pareto/NBD Model and
    Related Expressions" (2005), with its Gaussian hypergeometric terms written as the integral
    ``J(y) = int_y^inf (alpha+u)^-(r+x) (beta+u)^-(s+1) du`` and evaluated in a form that cannot
    overflow (see ``_log_tail_integral``). Fits keep ``alpha / beta`` within ``1e-3 .. 1e3`` (a
    fit on that bound is flagged degenerate); predictions are exact to double precision for
    ratios up to ``1e5`` and lose digits slowly beyond.

    Examples
    --------
    The published CDNOW fit (four customers, as in :class:`BetaGeo`'s example, do not identify
    a Pareto/NBD: such a fit runs to a bound and warns):

    >>> from winback.datasets import load_cdnow
    >>> from winback.features import rfm_summary
    >>> summary = rfm_summary(load_cdnow(sample=True), cutoff="1997-09-30", time_unit="W")
    >>> model = ParetoNBD().fit(summary)
    >>> {name: round(value, 2) for name, value in model.params_.items()}
    {'r': 0.55, 'alpha': 10.58, 's': 0.61, 'beta': 11.67}
    >>> model.converged_, model.degenerate_, model.start_
    (True, False, 'default')
    """

    param_names = ("r", "alpha", "s", "beta")
    _compare_with = "BetaGeo"

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
        h = self._histories(data, where="ParetoNBD.fit")
        scale = 1.0 / h.rate
        default = {"r": 1.0, "alpha": scale, "s": 1.0, "beta": scale}
        chosen, runs = self._optimise(_Likelihood(h), default, _SPACE)
        self._finish_fit(chosen, runs, h.n_customers, longest=h.longest)
        return self

    def _dropout_share(self, longest: float) -> float:
        """Share of new customers who drop out within ``longest``: ``1 - (beta/(beta+T))^s``."""
        _, _, s, beta = self._params()
        return float(-np.expm1(-s * np.log1p(longest / beta)))

    def _dropout_parameters(self) -> str:
        _, _, s, beta = self._params()
        return (
            f"s = {s:.3g}, beta = {beta:.3g} (mean dropout rate s/beta = {s / beta:.2g} per "
            "time unit)"
        )

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


class _Likelihood:
    """The Pareto/NBD mean negative log-likelihood of a fit's histories and its gradient.

    Set up once per fit, evaluated at log-parameters ``theta``. Per customer (Fader & Hardie
    2005, eq. 18) ``ln L = ln C + ln(L_alive + L_dead)`` as in :meth:`_Histories.log_likelihood`,
    with ``L_dead = s [J(t_x) - J(T)]``. Its gradient needs ``J`` and its four partial
    derivatives at each distinct point ``(x, y)``, from :func:`_log_tail_integrals`; the
    customers' weights on those partials, ``s J(t_x) / L`` and ``-s J(T) / L``, are gathered per
    point first so that each partial is summed once.

    The points are sorted with the one-time buyers' first (their fraction coefficients are
    shared) and by ``y`` within each block, so ``z`` falls along each block and the
    continued fraction works on shrinking prefixes.
    """

    def __init__(self, h: Histories) -> None:
        w = h.weights
        self.values, position = distinct_values(h.x)
        self.value_weights = np.bincount(position, weights=w, minlength=self.values.size)
        self.x, self.T, self.w, self.wx = h.x, h.T, w, w * h.x
        self.points, where = _Points.of(h)
        self.at_recency, self.at_T = where[: h.x.size], where[h.x.size :]
        self.where = where
        # Work arrays, reused by every evaluation (fresh megabyte arrays cost page faults).
        self.log_j, self.d_j = np.empty(self.points.y.size), np.empty((4, self.points.y.size))
        self.on_points = np.empty(2 * h.x.size)

    def __call__(self, theta: np.ndarray) -> tuple[float, np.ndarray]:
        """Return the mean negative log-likelihood and its gradient in ``theta``."""
        params = np.exp(theta)
        _log_tail_integrals(params, self.points, self.log_j, self.d_j)
        value, grad = self._constant_terms(params)
        for chunk in _chunks(0, self.x.size):
            chunk_value, chunk_grad = self._mixture(params, chunk)
            value += chunk_value
            grad += chunk_grad
        on_points = np.bincount(self.where, weights=self.on_points, minlength=self.log_j.size)
        grad += weighted_sum(self.d_j, on_points)
        return -value, -grad * params

    def _mixture(self, params: np.ndarray, chunk: slice) -> tuple[float, np.ndarray]:
        """Return the customers' summed ``ln(L_alive + L_dead)`` and its gradient without the
        ``J`` terms; store their weights on each point's ``d ln J`` in ``on_points``.

        ``d ln(L_alive + L_dead) = P(alive) d ln L_alive + P(dead) d ln s
        + [s J(t_x) d ln J(t_x) - s J(T) d ln J(T)] / (L_alive + L_dead)``.
        """
        r, alpha, s, beta = params
        w, x, T = self.w[chunk], self.x[chunk], self.T[chunk]
        age, age_b = alpha + T, beta + T
        log_age, log_age_b = np.log(age), np.log(age_b)
        log_alive = -(r + x) * log_age - s * log_age_b
        log_j1, log_j2 = self.log_j[self.at_recency[chunk]], self.log_j[self.at_T[chunk]]
        with np.errstate(divide="ignore"):
            log_dead = np.log(s) + log_j1 + np.log(-np.expm1(log_j2 - log_j1))
        log_total = np.maximum(log_alive, log_dead) + np.log1p(
            np.exp(-np.abs(log_alive - log_dead))
        )
        alive, dead = np.exp(log_alive - log_total), np.exp(log_dead - log_total)
        on_recency = w * np.exp(np.log(s) + log_j1 - log_total)
        self.on_points[chunk] = on_recency
        self.on_points[self.x.size :][chunk] = -on_recency * np.exp(log_j2 - log_j1)
        grad = [
            -weighted_sum(alive * log_age, w),
            -weighted_sum(alive / age, r * w + self.wx[chunk]),
            weighted_sum(dead, w) / s - weighted_sum(alive * log_age_b, w),
            -s * weighted_sum(alive / age_b, w),
        ]
        return float(weighted_sum(log_total, w)), np.array(grad)

    def _constant_terms(self, params: np.ndarray) -> tuple[float, np.ndarray]:
        """The mean of ``ln C = ln[G(r+x)/G(r)] + r ln alpha + s ln beta`` and its gradient."""
        r, alpha, s, beta = params
        v, W = self.values, self.value_weights
        value = weighted_sum(gammaln(r + v) - gammaln(r), W) + r * np.log(alpha) + s * np.log(beta)
        grad = [weighted_sum(digamma(r + v) - digamma(r), W) + np.log(alpha), r / alpha]
        return float(value), np.array([*grad, np.log(beta), s / beta])


@dataclass(frozen=True)
class _Points:
    """The distinct points ``(x, y)`` where a fit needs ``J``: one-time buyers' first.

    ``y`` rises within each block (so ``z`` falls); ``values`` are the repeat buyers' distinct
    frequencies and ``group`` each repeat point's position among them.
    """

    x: np.ndarray
    y: np.ndarray
    n_once: int
    values: np.ndarray
    group: np.ndarray

    def chunks(self) -> list[slice]:
        """Consecutive runs of points, none across the two blocks."""
        return [*_chunks(0, self.n_once), *_chunks(self.n_once, self.y.size)]

    @classmethod
    def of(cls, h: Histories) -> tuple[_Points, np.ndarray]:
        """Return the points of histories ``h`` and the positions of ``(x, t_x)``, ``(x, T)``.

        ``h`` is sorted by ``(x, t_x, T)``, so the one-time buyers come first with their ``T``
        already sorted: their block is ``0`` and those ``T``; only the repeat buyers' points are
        sorted (by ``y``, then ``x``) and deduplicated.
        """
        n_once = int(np.searchsorted(h.x, 0.0, side="right"))
        once_y = np.concatenate([[0.0], h.T[:n_once]])
        keep = np.ones(once_y.size, dtype=bool)
        keep[1:] = once_y[1:] != once_y[:-1]
        once_at = np.cumsum(keep) - 1  # position of each of [0, T...] among the kept
        (y, x), where = distinct_rows(
            np.concatenate([h.t_x[n_once:], h.T[n_once:]]),
            np.concatenate([h.x[n_once:], h.x[n_once:]]),
        )
        n_first = int(keep.sum())
        n_repeat = h.x.size - n_once
        at_recency = np.concatenate([np.zeros(n_once, np.intp), n_first + where[:n_repeat]])
        at_T = np.concatenate([once_at[1:], n_first + where[n_repeat:]])
        values, group = distinct_values(x)
        points = cls(
            np.concatenate([np.zeros(n_first), x]),
            np.concatenate([once_y[keep], y]),
            n_first,
            values,
            group,
        )
        return points, np.concatenate([at_recency, at_T])


def _log_tail_integrals(
    params: np.ndarray, points: _Points, log_j: np.ndarray, d_j: np.ndarray
) -> None:
    """Fill ``log_j`` with ``ln J`` at the points ``(x, y)``, ``d_j`` with its partials in
    ``(r, alpha, s, beta)`` (4 rows), a chunk of points at a time.

    ``J = int_y^inf (alpha+u)^-p (beta+u)^-q du`` with ``p = r + x``, ``q = s + 1``. With
    ``(A, B)`` the larger and smaller of ``alpha``, ``beta`` and ``(P, Q)`` their exponents,
    ``ln J = -p ln(alpha+y) - q ln(beta+y) + ln(B+y) + ln F - ln(p+q-1)`` with
    ``F = 2F1(1, P; P+Q; z)``, ``z = (A-B)/(A+y)`` (see :func:`_log_tail_integral`). So
    ``d ln J/dp = -ln(alpha+y) + d ln F/dP_p - 1/(p+q-1)`` (likewise for ``q``), and, from
    ``dJ/dA = -P J(P+1, Q)`` and ``F(P+1, Q) P / (P+Q) = (F-1)/z``,
    ``d ln J/dA = -(p+q-1) R / (A+y)`` and ``d ln J/dB = -(p+q-1)(1-R) / (B+y)`` with
    ``R = (F-1)/(z F)`` (the two sum to ``d ln J/dy``, as ``J`` depends on ``A+y`` and ``B+y``).
    The one-time buyers' points share their fraction coefficients; the repeat buyers' points get
    theirs once per distinct frequency.
    """
    for chunk in points.chunks():
        log_j[chunk], d_j[:, chunk] = _tail_chunk(params, points, chunk)


def _tail_chunk(params: np.ndarray, points: _Points, chunk: slice) -> tuple[np.ndarray, np.ndarray]:
    """``ln J`` and its partials at one chunk of points (see :func:`_log_tail_integrals`)."""
    r, alpha, s, beta = params
    x, y = points.x[chunk], points.y[chunk]
    swap = alpha < beta
    A, B = (beta, alpha) if swap else (alpha, beta)
    p, q = r + x, s + 1.0
    log_ay, log_by = np.log(alpha + y), np.log(beta + y)
    z = (A - B) / (A + y)
    if chunk.start < points.n_once:  # one-time buyers: x = 0
        fraction = log_hyp2f1_one_derivatives(*((q, r) if swap else (r, q)), z)
    else:
        p_values, offset = r + points.values, points.n_once
        group = points.group[chunk.start - offset : chunk.stop - offset]
        fraction = log_hyp2f1_one_derivatives(
            *((q, p_values) if swap else (p_values, q)), z, group=group
        )
    log_f, d_P, d_Q, ratio = fraction
    d_p, d_q = (d_Q, d_P) if swap else (d_P, d_Q)
    total = p + s  # p + q - 1
    log_j = -p * log_ay - q * log_by + (log_ay if swap else log_by) + log_f - np.log(total)
    d_A = -total * ratio / (A + y)
    d_B = -total * (1.0 - ratio) / (B + y)
    d_alpha, d_beta = (d_B, d_A) if swap else (d_A, d_B)
    inverse = 1.0 / total
    return log_j, np.stack([d_p - log_ay - inverse, d_alpha, d_q - log_by - inverse, d_beta])


def _chunks(start: int, stop: int) -> list[slice]:
    """``[start, stop)`` in runs of ``_CHUNK``."""
    return [slice(i, min(i + _CHUNK, stop)) for i in range(start, stop, _CHUNK)]


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
