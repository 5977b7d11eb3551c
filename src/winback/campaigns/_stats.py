"""The statistics of a treatment-against-control comparison: intervals, tests and power.

- Response (a proportion): the difference ``p_treatment - p_control`` with Newcombe's hybrid
  score interval (method 10 of Newcombe 1998: a Wilson score interval for each proportion,
  combined by the square-and-add rule), computed by statsmodels
  (``confint_proportions_2indep(method="newcomb")``); the two-sided p-value of the pooled
  two-proportion z-test (the score test of ``p_treatment = p_control``, equivalent to Pearson's
  chi-square test; statsmodels ``proportions_ztest``).
- Revenue per customer (a mean): Welch's t interval and test (scipy ``ttest_ind`` with
  ``equal_var=False``). Welch rather than a bootstrap: it is deterministic (no seed, no
  resampling time), allows the unequal variances and sizes of a 90/10 split, and revenue per
  customer -- a zero-inflated, skewed amount -- averages over the hundreds or thousands of
  customers a group holds, where the central limit theorem makes the t interval accurate;
  ``bench/bench_campaigns.py`` measures its coverage on simulated campaigns.
- Power: the minimum detectable effect (MDE) at 80 % power and two-sided 5 % level for the
  group sizes: for the response, Cohen's arcsine effect size ``h`` solved by statsmodels
  ``NormalIndPower`` and turned back into a rate above the control rate; for revenue,
  ``(z_{1 - alpha/2} + z_{power}) * sd * sqrt(1 / n_t + 1 / n_c)``.

References: R. G. Newcombe, "Interval estimation for the difference between independent
proportions: comparison of eleven methods", Statistics in Medicine 17 (1998) 873-890;
E. B. Wilson, JASA 22 (1927) 209-212; B. L. Welch, Biometrika 34 (1947) 28-35;
J. Cohen, Statistical Power Analysis for the Behavioral Sciences (1988), ch. 6.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
from scipy import stats

__all__ = [
    "ALPHA",
    "POWER",
    "mean_difference",
    "minimum_detectable_effect",
    "proportion_difference",
    "stratified_difference",
    "wald_variance",
]

ALPHA = 0.05  # two-sided: 95 % intervals
POWER = 0.8


def proportion_difference(
    x_t: int, n_t: int, x_c: int, n_c: int, *, alpha: float = ALPHA
) -> dict[str, float | None]:
    """Return the difference of two proportions with Newcombe's interval and the z-test p-value.

    Parameters
    ----------
    x_t, n_t : int
        Responders and customers of the treatment group.
    x_c, n_c : int
        Responders and customers of the control group.
    alpha : float
        ``1 - `` the confidence level.

    Returns
    -------
    dict
        ``rate_treatment``, ``rate_control``, ``diff`` (treatment - control), ``ci_low``,
        ``ci_high`` (Newcombe hybrid score interval) and ``p_value`` (pooled z-test, two-sided);
        None where a group is empty (and ``p_value`` None when both rates are 0 or both 1).

    Examples
    --------
    Newcombe (1998), Table II, example (a): 56/70 against 48/80.

    >>> r = proportion_difference(56, 70, 48, 80)
    >>> round(r["diff"], 4), round(r["ci_low"], 4), round(r["ci_high"], 4)
    (0.2, 0.0524, 0.3339)
    """
    from statsmodels.stats.proportion import confint_proportions_2indep, proportions_ztest

    out: dict[str, float | None] = {
        "rate_treatment": x_t / n_t if n_t else None,
        "rate_control": x_c / n_c if n_c else None,
        "diff": None,
        "ci_low": None,
        "ci_high": None,
        "p_value": None,
    }
    if not (n_t and n_c):
        return out
    low, high = confint_proportions_2indep(
        x_t, n_t, x_c, n_c, method="newcomb", compare="diff", alpha=alpha
    )
    out.update(diff=x_t / n_t - x_c / n_c, ci_low=float(low), ci_high=float(high))
    if 0 < x_t + x_c < n_t + n_c:
        _, p_value = proportions_ztest(np.array([x_t, x_c]), np.array([n_t, n_c]))
        out["p_value"] = float(p_value)
    return out


def mean_difference(
    treatment: np.ndarray, control: np.ndarray, *, alpha: float = ALPHA
) -> dict[str, float | None]:
    """Return the difference of two means with Welch's t interval and p-value.

    Returns
    -------
    dict
        ``mean_treatment``, ``mean_control``, ``diff``, ``ci_low``, ``ci_high`` and ``p_value``
        (two-sided); interval and p-value are None with fewer than two values in a group, and
        the interval collapses to the difference when both groups are constant.

    Examples
    --------
    >>> r = mean_difference(np.array([1.0, 2.0, 3.0, 4.0]), np.array([0.0, 1.0, 2.0]))
    >>> round(r["diff"], 3), round(r["ci_low"], 3), round(r["ci_high"], 3)
    (1.5, -0.732, 3.732)
    """
    treatment = np.asarray(treatment, dtype=float)
    control = np.asarray(control, dtype=float)
    out: dict[str, float | None] = {
        "mean_treatment": float(treatment.mean()) if treatment.size else None,
        "mean_control": float(control.mean()) if control.size else None,
        "diff": None,
        "ci_low": None,
        "ci_high": None,
        "p_value": None,
    }
    if not (treatment.size and control.size):
        return out
    diff = float(treatment.mean() - control.mean())
    out["diff"] = diff
    if treatment.size < 2 or control.size < 2:
        return out
    if np.ptp(treatment) == 0 and np.ptp(control) == 0:  # no spread: t is undefined
        out.update(ci_low=diff, ci_high=diff, p_value=1.0 if diff == 0 else 0.0)
        return out
    with warnings.catch_warnings():  # one constant group: scipy warns, Welch still holds
        warnings.simplefilter("ignore", RuntimeWarning)
        test = stats.ttest_ind(treatment, control, equal_var=False)
        interval = test.confidence_interval(confidence_level=1 - alpha)
    out.update(ci_low=float(interval.low), ci_high=float(interval.high), p_value=float(test.pvalue))
    return out


def minimum_detectable_effect(
    n_t: int,
    n_c: int,
    *,
    rate_control: float | None = None,
    sd: float | None = None,
    alpha: float = ALPHA,
    power: float = POWER,
) -> float | None:
    """Return the smallest true effect the groups detect with ``power`` at two-sided ``alpha``.

    With ``rate_control``: the MDE of a response rate, in rate points above the control rate
    (Cohen's ``h = 2 asin sqrt(p1) - 2 asin sqrt(p0)`` solved by statsmodels' ``NormalIndPower``;
    None when no rate up to 1 is detectable). With ``sd``: the MDE of a mean, in its units.

    Examples
    --------
    >>> round(minimum_detectable_effect(9000, 1000, rate_control=0.2), 4)
    0.0386
    >>> round(minimum_detectable_effect(9000, 1000, sd=50.0), 2)
    4.67
    """
    if n_t < 1 or n_c < 1:
        return None
    if sd is not None:
        z = stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(power)
        return float(z * sd * math.sqrt(1 / n_t + 1 / n_c))
    if rate_control is None:
        raise ValueError("minimum_detectable_effect needs rate_control= or sd=.")
    from statsmodels.stats.power import NormalIndPower

    h = NormalIndPower().solve_power(
        effect_size=None, nobs1=n_t, ratio=n_c / n_t, alpha=alpha, power=power
    )
    angle = math.asin(math.sqrt(rate_control)) + float(np.squeeze(h)) / 2
    if angle > math.pi / 2:
        return None
    return math.sin(angle) ** 2 - rate_control


def as_json(values: dict[str, Any], digits: int = 6) -> dict[str, Any]:
    """Round the floats of a flat dict (JSON stays readable and byte-stable)."""
    return {
        k: round(v, digits) if isinstance(v, float) and math.isfinite(v) else v
        for k, v in values.items()
    }


def stratified_difference(
    strata: list[tuple[float, float, int]], *, alpha: float = ALPHA, power: float = POWER
) -> dict[str, float | None]:
    """Combine per-stratum differences into one, weighted by treated customers.

    Each stratum (an action) gives ``(diff, variance of diff, treated customers)``; the
    combined difference is ``sum(w * diff)`` with ``w`` the treated shares, its variance
    ``sum(w^2 * variance)``, and the interval and two-sided p-value are normal (Wald). This is
    what "all actions" (or a tier across actions) means: each action's treatment compared with
    its own control group, so a different mix of actions in the two groups cannot bias it.

    Examples
    --------
    >>> r = stratified_difference([(0.1, 0.0004, 300), (0.0, 0.0001, 100)])
    >>> round(r["diff"], 4), round(r["ci_low"], 4), round(r["ci_high"], 4)
    (0.075, 0.0452, 0.1048)
    """
    usable = [(d, v, n) for d, v, n in strata if n > 0 and math.isfinite(v)]
    total = sum(n for _, _, n in usable)
    if not total:
        return {"diff": None, "ci_low": None, "ci_high": None, "p_value": None, "mde": None}
    diff = float(sum(n / total * d for d, _, n in usable))
    se = math.sqrt(sum((n / total) ** 2 * v for _, v, n in usable))
    z = float(stats.norm.ppf(1 - alpha / 2))
    p_value = float(2 * stats.norm.sf(abs(diff) / se)) if se > 0 else None
    return {
        "diff": diff,
        "ci_low": diff - z * se,
        "ci_high": diff + z * se,
        "p_value": p_value,
        "mde": float((z + stats.norm.ppf(power)) * se),
    }


def wald_variance(values_t: np.ndarray, values_c: np.ndarray) -> float:
    """The variance of a difference of means (proportions are means of 0/1): var/n + var/n."""
    if len(values_t) < 2 or len(values_c) < 2:
        return math.nan
    return float(
        np.var(values_t, ddof=1) / len(values_t) + np.var(values_c, ddof=1) / len(values_c)
    )
