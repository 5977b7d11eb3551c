"""The Gamma-Gamma model of spend per transaction (Fader, Hardie & Lee 2005) and customer value.

A customer's transaction values are Gamma(p, nu) with ``nu ~ Gamma(q, gamma)`` across customers,
so their mean value is ``p / nu``; value is assumed independent of the purchase process.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np
from scipy.special import digamma, gammaln

from winback.exceptions import ConfigError
from winback.models.btyd._base import (
    BTYDModel,
    SearchSpace,
    collapse_rows,
    distinct_values,
    weighted_sum,
)
from winback.models.btyd._validate import (
    RFMData,
    frequency_array,
    monetary_array,
    require_repeat_buyers,
)

__all__ = ["GammaGamma"]


class TransactionModel(Protocol):
    """A fitted purchase model: :class:`BetaGeo` or :class:`ParetoNBD`."""

    def expected_purchases(self, t: float | np.ndarray, data: RFMData) -> np.ndarray: ...


class GammaGamma(BTYDModel):
    """Gamma-Gamma model of the mean value of a customer's transactions.

    Parameters
    ----------
    penalizer : float, default 0.0
        L2 penalty on the parameters added to the mean negative log-likelihood per customer.
    initial_params : mapping of str to float, optional
        Warm start of the optimiser (e.g. an earlier cutoff's fit), keys
        ``p``, ``q``, ``gamma``.
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
        Fitted ``p`` (shape of a transaction's value), ``q`` and ``gamma`` (shape and scale of
        the heterogeneity; ``gamma`` is in money).
    log_likelihood_ : float
        Log-likelihood of the repeat buyers' mean values at ``params_`` (without the penalty).
    n_customers_ : int
        Number of customers fitted on: those with ``frequency > 0``.
    start_ : {"default", "warm"}
        Which start the fit came from: derived from the data, or ``initial_params``.
    converged_ : bool
        Whether the optimiser met its convergence criterion.
    degenerate_ : bool
        Whether the fit ended on a bound of the parameter space.
    diagnostics_ : dict
        JSON-ready record of the fit: the chosen run's ``log_likelihood``,
        ``penalised_objective``, ``converged``, optimiser ``message``, ``iterations``,
        ``evaluations`` and ``on_bound``; ``start``, ``degenerate``, ``problems`` (the warnings'
        texts) and ``starts``: the same record for each start tried.

    Notes
    -----
    ``data`` has one row per customer and columns ``frequency`` (number of repeat transactions)
    and ``monetary_value`` (mean value of the repeat transactions, the first purchase excluded).
    As published, only customers with ``frequency > 0`` are fitted on; the others' values are
    ignored and may be missing.

    Examples
    --------
    >>> import pandas as pd
    >>> data = pd.DataFrame({"frequency": [0, 1, 3, 2, 6],
    ...                      "monetary_value": [float("nan"), 20.0, 35.0, 15.0, 28.0]})
    >>> model = GammaGamma().fit(data)
    >>> model.n_customers_
    4
    """

    param_names = ("p", "q", "gamma")

    def fit(self, data: RFMData) -> GammaGamma:
        """Fit ``p``, ``q``, ``gamma`` by maximum likelihood on the repeat buyers; return ``self``.

        Raises
        ------
        DataError
            If a column is missing, a repeat buyer's value is missing or not positive, or no
            customer has a repeat purchase.
        ConfigError
            If an option given to the constructor is invalid.
        """
        where = "GammaGamma.fit"
        self._check_options()
        x = frequency_array(data, where=where)
        require_repeat_buyers(x, where=where)
        value = monetary_array(data, x, where=where, strict=True)
        repeat = x > 0
        (xu, mu), counts = collapse_rows(x[repeat], value[repeat])
        weights = counts / counts.sum()
        default = {"p": 1.0, "q": 2.0, "gamma": float(np.mean(value[repeat]))}
        chosen, runs = self._optimise(
            lambda theta: _neg_mean_log_likelihood(theta, xu, mu, weights),
            default,
            SearchSpace.plain(self.param_names),
        )
        self._finish_fit(chosen, runs, int(repeat.sum()))
        return self

    def conditional_expected_average_profit(self, data: RFMData) -> np.ndarray:
        """Return E[mean transaction value | frequency, monetary_value] for each row.

        ``p (gamma + x m) / (p x + q - 1)``: a weighted average of the population mean
        ``p gamma / (q - 1)`` and the customer's own mean ``m``. Customers without repeat purchases
        get the population mean, which is infinite when ``q <= 1``.
        """
        p, q, gamma = self._params()
        where = "GammaGamma.conditional_expected_average_profit"
        x = frequency_array(data, where=where)
        value = monetary_array(data, x, where=where, strict=False)
        own = np.where(x > 0, x * value, 0.0)
        denominator = p * x + q - 1.0
        with np.errstate(divide="ignore"):
            return np.where(denominator > 0, p * (gamma + own) / denominator, np.inf)

    def customer_lifetime_value(
        self,
        transaction_model: TransactionModel,
        data: RFMData,
        *,
        time: float,
        discount_rate: float = 0.0,
        periods: int = 1,
    ) -> np.ndarray:
        """Return the expected (discounted) spend of each customer over ``(T, T + time]``.

        ``time`` is split into ``periods`` equal periods; the purchases expected in period k
        (from ``transaction_model.expected_purchases``) times the conditional expected value are
        discounted by ``(1 + discount_rate) ** k``. With the defaults this is the expected spend
        ``expected_purchases(time) * conditional_expected_average_profit``.

        Parameters
        ----------
        transaction_model : BetaGeo or ParetoNBD
            Fitted on the same customers' ``frequency``/``recency``/``T`` in the same time unit.
        data : DataFrame or mapping of arrays
            Columns ``frequency``, ``recency``, ``T`` and ``monetary_value``.
        time : float
            Horizon, in the transaction model's time unit; > 0.
        discount_rate : float, default 0.0
            Discount rate per period; >= 0.
        periods : int, default 1
            Number of discounting periods the horizon is split into; >= 1.
        """
        where = "GammaGamma.customer_lifetime_value"
        if not (np.isfinite(time) and time > 0):
            raise ConfigError(f"{where}: expected time > 0, got {time!r}.")
        if not (np.isfinite(discount_rate) and discount_rate >= 0):
            raise ConfigError(f"{where}: expected discount_rate >= 0, got {discount_rate!r}.")
        if int(periods) != periods or periods < 1:
            raise ConfigError(f"{where}: expected a whole number of periods >= 1, got {periods!r}.")
        value = self.conditional_expected_average_profit(data)
        ends = np.linspace(0.0, time, int(periods) + 1)
        cumulative = [transaction_model.expected_purchases(end, data) for end in ends[1:]]
        purchases = np.diff(np.vstack([np.zeros_like(cumulative[0]), *cumulative]), axis=0)
        discount = (1.0 + discount_rate) ** -np.arange(1.0, periods + 1.0)
        return value * weighted_sum(purchases.T, discount)


def _log_likelihood(
    params: np.ndarray, x: np.ndarray, m: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Return each repeat buyer's log-density of their mean value and its log-parameter gradient.

    ``ln G(px+q) - ln G(px) - ln G(q) + q ln gamma + (px-1) ln m + px ln x - (px+q) ln(xm+gamma)``;
    the gamma and digamma functions of ``x`` are computed once per distinct frequency.
    """
    p, q, gamma = params
    values, position = distinct_values(x)
    psi = digamma(p * values + q)
    per_value = np.stack(
        [
            gammaln(p * values + q) - gammaln(p * values) - gammaln(q),
            psi - digamma(p * values),
            psi - digamma(q),
        ]
    )[:, position]
    px = p * x
    log_m, log_total = np.log(m), np.log(x * m + gamma)
    ll = (
        per_value[0]
        + q * np.log(gamma)
        + (px - 1.0) * log_m
        + px * np.log(x)
        - (px + q) * log_total
    )
    d_p = x * (per_value[1] + log_m + np.log(x) - log_total)
    d_q = per_value[2] + np.log(gamma) - log_total
    d_gamma = q / gamma - (px + q) / (x * m + gamma)
    return ll, np.stack([d_p * p, d_q * q, d_gamma * gamma])


def _neg_mean_log_likelihood(
    theta: np.ndarray, x: np.ndarray, m: np.ndarray, weights: np.ndarray
) -> tuple[float, np.ndarray]:
    ll, grad = _log_likelihood(np.exp(theta), x, m)
    return -float(weighted_sum(ll, weights)), -weighted_sum(grad, weights)
