"""The interval arithmetic against hand-computed and published cases."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from winback.campaigns import mean_difference, minimum_detectable_effect, proportion_difference
from winback.campaigns._stats import stratified_difference

Z = 1.959963984540054


def wilson(x: int, n: int) -> tuple[float, float]:
    """Wilson's score interval (Wilson 1927), closed form."""
    p = x / n
    centre = (p + Z**2 / (2 * n)) / (1 + Z**2 / n)
    half = Z / (1 + Z**2 / n) * math.sqrt(p * (1 - p) / n + Z**2 / (4 * n**2))
    return centre - half, centre + half


def newcombe(x1: int, n1: int, x2: int, n2: int) -> tuple[float, float]:
    """Newcombe (1998) method 10, by hand: square-and-add of the two Wilson intervals."""
    p1, p2 = x1 / n1, x2 / n2
    (l1, u1), (l2, u2) = wilson(x1, n1), wilson(x2, n2)
    d = p1 - p2
    return (
        d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2),
        d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2),
    )


# Newcombe, Statistics in Medicine 17 (1998) 873-890, Table II, method 10 (score, no CC).
PUBLISHED = [
    ((56, 70, 48, 80), (0.0524, 0.3339)),
    ((9, 10, 3, 10), (0.1705, 0.8090)),
    ((6, 7, 2, 7), (0.0582, 0.8062)),
    ((5, 56, 0, 29), (-0.0381, 0.1926)),
    ((0, 10, 0, 20), (-0.1611, 0.2775)),
    ((0, 10, 0, 10), (-0.2775, 0.2775)),
    ((10, 10, 0, 20), (0.6791, 1.0000)),
    ((10, 10, 0, 10), (0.6075, 1.0000)),
]


@pytest.mark.parametrize(("counts", "published"), PUBLISHED)
def test_newcombe_interval_matches_the_published_worked_examples(counts, published) -> None:
    result = proportion_difference(*counts)
    assert (round(result["ci_low"], 4), round(result["ci_high"], 4)) == published
    by_hand = newcombe(*counts)
    assert result["ci_low"] == pytest.approx(by_hand[0], abs=1e-9)
    assert result["ci_high"] == pytest.approx(by_hand[1], abs=1e-9)
    assert result["diff"] == pytest.approx(counts[0] / counts[1] - counts[2] / counts[3])


def test_z_test_p_value_is_the_pooled_two_proportion_test() -> None:
    result = proportion_difference(56, 70, 48, 80)
    pooled = 104 / 150
    z = (56 / 70 - 48 / 80) / math.sqrt(pooled * (1 - pooled) * (1 / 70 + 1 / 80))
    assert result["p_value"] == pytest.approx(2 * stats.norm.sf(z))
    assert proportion_difference(0, 10, 0, 20)["p_value"] is None  # no responder at all


def test_empty_group_gives_no_interval() -> None:
    result = proportion_difference(3, 10, 0, 0)
    assert result["rate_treatment"] == 0.3 and result["diff"] is None and result["ci_low"] is None


def test_welch_interval_by_hand() -> None:
    t, c = np.array([1.0, 2.0, 3.0, 4.0]), np.array([0.0, 1.0, 2.0])
    v1, v2 = np.var(t, ddof=1) / 4, np.var(c, ddof=1) / 3
    df = (v1 + v2) ** 2 / (v1**2 / 3 + v2**2 / 2)  # Welch-Satterthwaite
    half = stats.t.ppf(0.975, df) * math.sqrt(v1 + v2)
    result = mean_difference(t, c)
    assert result["diff"] == 1.5
    assert result["ci_low"] == pytest.approx(1.5 - half) and result["ci_high"] == pytest.approx(
        1.5 + half
    )
    assert result["p_value"] == pytest.approx(2 * stats.t.sf(1.5 / math.sqrt(v1 + v2), df))


def test_welch_with_constant_groups_collapses() -> None:
    result = mean_difference(np.zeros(5), np.zeros(4))
    assert (result["diff"], result["ci_low"], result["ci_high"], result["p_value"]) == (0, 0, 0, 1)


def test_minimum_detectable_effect_by_hand() -> None:
    z = stats.norm.ppf(0.975) + stats.norm.ppf(0.8)
    h = z * math.sqrt(1 / 9000 + 1 / 1000)  # Cohen's h at 80% power
    expected = math.sin(math.asin(math.sqrt(0.2)) + h / 2) ** 2 - 0.2
    assert minimum_detectable_effect(9000, 1000, rate_control=0.2) == pytest.approx(
        expected, rel=1e-5
    )
    assert minimum_detectable_effect(9000, 1000, sd=50.0) == pytest.approx(
        z * 50 * math.sqrt(1 / 9000 + 1 / 1000)
    )
    # more control customers, smaller detectable effect
    assert minimum_detectable_effect(9000, 4000, rate_control=0.2) < expected


def test_stratified_difference_weights_by_treated_customers() -> None:
    result = stratified_difference([(0.1, 0.0004, 300), (0.0, 0.0001, 100)])
    se = math.sqrt(0.75**2 * 0.0004 + 0.25**2 * 0.0001)
    assert result["diff"] == pytest.approx(0.075)
    assert result["ci_low"] == pytest.approx(0.075 - Z * se)
    assert result["p_value"] == pytest.approx(2 * stats.norm.sf(0.075 / se))
