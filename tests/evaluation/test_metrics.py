"""Tests of winback.evaluation._metrics: hand-computed answers and scikit-learn references."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import norm
from sklearn.calibration import calibration_curve
from sklearn.metrics import roc_auc_score

from winback.evaluation import _metrics
from winback.evaluation._metrics import (
    bootstrap_auc_difference,
    calibration_bins,
    classification_metrics,
    cumulative_gains,
    expected_calibration_error,
    lift_at,
    regression_metrics,
)
from winback.exceptions import ConfigError, DataError


# ------------------------------------------------------------------------ classification
def test_perfect_scores_rank_every_churner_first() -> None:
    y = [0, 0, 0, 1, 1]
    m = classification_metrics(y, [0.1, 0.2, 0.3, 0.8, 0.9])
    assert m["auc"] == 1.0
    assert m["pr_auc"] == 1.0
    # Top decile = 0.5 customer, a churner: rate 1 against 2/5 overall.
    assert m["lift_top_decile"] == pytest.approx(2.5)


def test_inverted_scores_have_zero_auc() -> None:
    m = classification_metrics([0, 0, 1, 1], [0.9, 0.8, 0.2, 0.1])
    assert m["auc"] == 0.0
    assert m["lift_top_decile"] == 0.0


def test_brier_and_log_loss_by_hand() -> None:
    m = classification_metrics([0, 1], [0.2, 0.6])
    assert m["brier"] == pytest.approx((0.2**2 + 0.4**2) / 2)
    assert m["log_loss"] == pytest.approx(-(math.log(0.8) + math.log(0.6)) / 2)


def test_log_loss_clips_certain_wrong_predictions() -> None:
    m = classification_metrics([1, 0], [0.0, 1.0])
    assert m["log_loss"] == pytest.approx(-math.log(1e-15), rel=1e-3)


def test_rank_only_score_leaves_probability_metrics_nan() -> None:
    minus_recency = [-300.0, -12.0, -40.0, -3.0]
    m = classification_metrics([0, 1, 0, 1], minus_recency, probabilistic=False)
    assert m["auc"] == 1.0
    assert math.isnan(m["brier"]) and math.isnan(m["log_loss"]) and math.isnan(m["ece"])


def test_non_probability_score_is_refused_unless_declared_rank_only() -> None:
    with pytest.raises(DataError, match=r"found -300.0 at position 0.*probabilistic=False"):
        classification_metrics([0, 1], [-300.0, -12.0])


def test_single_class_is_refused() -> None:
    with pytest.raises(DataError, match="only the class 0"):
        classification_metrics([0, 0, 0], [0.1, 0.2, 0.3])


def test_labels_other_than_zero_one_are_refused() -> None:
    with pytest.raises(DataError, match=r"found 2 at position 1 \(1 invalid values"):
        classification_metrics([0, 2, 1], [0.1, 0.2, 0.3])


def test_non_finite_and_misshaped_scores_are_refused() -> None:
    with pytest.raises(DataError, match=r"score must be finite; found nan at position 1"):
        classification_metrics([0, 1, 1], [0.1, np.nan, 0.3])
    with pytest.raises(DataError, match=r"length 3 \(as y_true\), got shape \(2,\)"):
        classification_metrics([0, 1, 1], [0.1, 0.3])


def test_boolean_labels_are_accepted() -> None:
    m = classification_metrics(np.array([False, True]), [0.3, 0.7])
    assert m["auc"] == 1.0


# --------------------------------------------------------------------------- calibration
def test_ece_with_two_quantile_bins_by_hand() -> None:
    # Bins {0.1, 0.3} (mean 0.2, rate 0) and {0.6, 0.8} (mean 0.7, rate 1): 0.5*0.2 + 0.5*0.3.
    ece = expected_calibration_error([0, 0, 1, 1], [0.1, 0.3, 0.6, 0.8], n_bins=2)
    assert ece == pytest.approx(0.25)


def test_ece_with_uniform_bins_by_hand() -> None:
    # [0, 0.5]: mean 0.15, rate 1/2 -> 0.35; (0.5, 1]: mean 0.8, rate 2/3 -> 0.1333.
    ece = expected_calibration_error(
        [0, 1, 0, 1, 1], [0.1, 0.2, 0.7, 0.8, 0.9], n_bins=2, strategy="uniform"
    )
    assert ece == pytest.approx(2 / 5 * 0.35 + 3 / 5 * (0.8 - 2 / 3))


def test_tied_probabilities_share_a_quantile_bin() -> None:
    mean_pred, observed, count = calibration_bins(
        [0, 0, 1, 0, 1], [0.2, 0.2, 0.2, 0.2, 0.8], n_bins=2
    )
    np.testing.assert_allclose(mean_pred, [0.2, 0.8])
    np.testing.assert_allclose(observed, [0.25, 1.0])
    np.testing.assert_array_equal(count, [4, 1])
    ece = expected_calibration_error([0, 0, 1, 0, 1], [0.2, 0.2, 0.2, 0.2, 0.8], n_bins=2)
    assert ece == pytest.approx(4 / 5 * 0.05 + 1 / 5 * 0.2)


@pytest.mark.parametrize("strategy", ["quantile", "uniform"])
def test_calibration_bins_match_sklearn_calibration_curve(strategy: str) -> None:
    rng = np.random.default_rng(3)
    p = rng.beta(2, 5, size=500)
    y = (rng.random(500) < p).astype(int)
    mean_pred, observed, count = calibration_bins(y, p, n_bins=10, strategy=strategy)
    prob_true, prob_pred = calibration_curve(y, p, n_bins=10, strategy=strategy)
    np.testing.assert_allclose(mean_pred, prob_pred)
    np.testing.assert_allclose(observed, prob_true)
    assert count.sum() == 500


def test_calibrated_simulation_has_small_ece_and_miscalibrated_large() -> None:
    rng = np.random.default_rng(0)
    p = rng.uniform(0.05, 0.95, size=20_000)
    y = (rng.random(p.size) < p).astype(int)
    assert expected_calibration_error(y, p) < 0.02
    # Squaring every probability moves it down by p(1-p), on average 0.16 over this range.
    assert expected_calibration_error(y, p**2) > 0.12


def test_bad_binning_arguments_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="n_bins must be a positive integer, got 0"):
        expected_calibration_error([0, 1], [0.2, 0.8], n_bins=0)
    with pytest.raises(ConfigError, match="strategy must be 'quantile' or 'uniform', got 'kmeans'"):
        expected_calibration_error([0, 1], [0.2, 0.8], strategy="kmeans")  # type: ignore[arg-type]


# ----------------------------------------------------------------------------- gains / lift
def test_lift_top_decile_by_hand() -> None:
    # 20 customers, 4 churners (rate 0.2); the top 2 by score hold one churner (rate 0.5).
    y = np.zeros(20, dtype=int)
    y[[0, 5, 9, 14]] = 1
    score = np.linspace(1.0, 0.05, 20)
    assert lift_at(y, score, fraction=0.1) == pytest.approx(2.5)
    assert classification_metrics(y, score)["lift_top_decile"] == pytest.approx(2.5)


def test_lift_shares_boundary_ties_pro_rata_whatever_the_row_order() -> None:
    # Top 20% = 2 customers: the 0.9 churner plus half of the {0.5 churner, 0.5 non-churner} tie.
    y = np.array([1, 1, 0, 0, 0, 0, 0, 0, 0, 0])
    score = np.array([0.9, 0.5, 0.5, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1])
    assert lift_at(y, score, fraction=0.2) == pytest.approx(1.5 / 2 / 0.2)
    for seed in range(5):
        order = np.random.default_rng(seed).permutation(10)
        assert lift_at(y[order], score[order], fraction=0.2) == pytest.approx(3.75)


def test_constant_score_has_lift_one() -> None:
    y = np.array([1, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0])
    assert lift_at(y, np.full(12, 0.3)) == pytest.approx(1.0)


def test_cumulative_gains_by_hand_with_a_tie() -> None:
    targeted, reached = cumulative_gains([1, 1, 0, 0], [0.9, 0.5, 0.5, 0.1])
    np.testing.assert_allclose(targeted, [0, 0.25, 0.75, 1.0])
    np.testing.assert_allclose(reached, [0, 0.5, 1.0, 1.0])


def test_lift_fraction_must_be_in_unit_interval() -> None:
    with pytest.raises(ConfigError, match=r"fraction must be in \(0, 1\], got 0"):
        lift_at([0, 1], [0.1, 0.2], fraction=0)


# ------------------------------------------------------------------------------ regression
def test_regression_metrics_by_hand() -> None:
    m = regression_metrics([10.0, 20.0, 30.0], [12.0, 18.0, 33.0])
    assert m["mae"] == pytest.approx(7 / 3)
    assert m["rmse"] == pytest.approx(math.sqrt(17 / 3))
    assert m["spearman"] == pytest.approx(1.0)
    assert m["total_relative_error"] == pytest.approx(3 / 60)


def test_regression_metrics_reversed_order_and_undefined_cases() -> None:
    assert regression_metrics([1.0, 2.0, 3.0], [3.0, 2.0, 1.0])["spearman"] == pytest.approx(-1)
    constant = regression_metrics([1.0, 2.0, 3.0], [5.0, 5.0, 5.0])
    assert math.isnan(constant["spearman"])
    assert constant["total_relative_error"] == pytest.approx((15 - 6) / 6)
    assert math.isnan(regression_metrics([-1.0, 1.0], [0.0, 2.0])["total_relative_error"])


def test_regression_metrics_refuse_missing_predictions() -> None:
    with pytest.raises(DataError, match="pred must be finite; found nan at position 2"):
        regression_metrics([1.0, 2.0, 3.0], [1.0, 2.0, np.nan])


# ------------------------------------------------------------------------------- bootstrap
def test_weighted_auc_equals_sklearn_auc_of_the_resample() -> None:
    rng = np.random.default_rng(7)
    y = rng.random(300) < 0.3
    score = np.round(rng.normal(size=300) + y, 1)  # rounding creates ties
    draws = rng.integers(0, 300, size=(4, 300))
    weights = np.stack([np.bincount(row, minlength=300) for row in draws]).astype(float)
    aucs = _metrics._weighted_aucs(weights, y, *_metrics._tie_groups(score))
    expected = [roc_auc_score(y[row], score[row]) for row in draws]
    np.testing.assert_allclose(aucs, expected, rtol=0, atol=1e-12)


def test_identical_scores_give_a_degenerate_zero_interval() -> None:
    rng = np.random.default_rng(1)
    y = rng.random(500) < 0.4
    score = rng.random(500)
    result = bootstrap_auc_difference(y, score, score.copy(), n_boot=200)
    assert result == {"diff": 0.0, "ci_low": 0.0, "ci_high": 0.0}


def _simulated(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Churn labels and two scores y + N(0, 1) and y + N(0, 2) with known population AUCs."""
    rng = np.random.default_rng(seed)
    y = rng.random(n) < 0.3
    return y, y + rng.normal(0, 1, n), y + rng.normal(0, 2, n)


#: Population AUC(y + N(0, s)) = Phi(1 / (s * sqrt(2))).
TRUE_DIFF = norm.cdf(1 / math.sqrt(2)) - norm.cdf(1 / (2 * math.sqrt(2)))


def test_bootstrap_interval_contains_the_true_difference() -> None:
    y, a, b = _simulated(3000, seed=11)
    result = bootstrap_auc_difference(y, a, b, n_boot=500, seed=3)
    assert result["diff"] == pytest.approx(roc_auc_score(y, a) - roc_auc_score(y, b))
    assert result["ci_low"] < TRUE_DIFF < result["ci_high"]
    assert result["ci_low"] > 0  # the better score is detected
    assert result["ci_low"] < result["diff"] < result["ci_high"]


def test_bootstrap_intervals_cover_the_truth_about_95_percent_of_the_time() -> None:
    covered = 0
    for seed in range(40):
        y, a, b = _simulated(400, seed=100 + seed)
        r = bootstrap_auc_difference(y, a, b, n_boot=300, seed=seed)
        covered += r["ci_low"] < TRUE_DIFF < r["ci_high"]
    assert 34 <= covered <= 40  # P(fewer than 34 of 40 | coverage 0.95) < 1%


def test_bootstrap_is_deterministic_and_independent_of_chunking(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    y, a, b = _simulated(500, seed=5)
    first = bootstrap_auc_difference(y, a, b, n_boot=100, seed=9)
    assert bootstrap_auc_difference(y, a, b, n_boot=100, seed=9) == first
    assert bootstrap_auc_difference(y, a, b, n_boot=100, seed=10) != first
    monkeypatch.setattr(_metrics, "_CHUNK_CELLS", 1_700)  # 3 replicates per chunk
    assert bootstrap_auc_difference(y, a, b, n_boot=100, seed=9) == first


def test_bootstrap_narrower_interval_with_lower_level() -> None:
    y, a, b = _simulated(500, seed=2)
    wide = bootstrap_auc_difference(y, a, b, n_boot=300, level=0.95)
    narrow = bootstrap_auc_difference(y, a, b, n_boot=300, level=0.5)
    assert wide["ci_low"] < narrow["ci_low"] < narrow["ci_high"] < wide["ci_high"]


def test_bootstrap_arguments_are_checked() -> None:
    y, a, b = _simulated(50, seed=0)
    with pytest.raises(ConfigError, match="n_boot must be a positive integer, got 0"):
        bootstrap_auc_difference(y, a, b, n_boot=0)
    with pytest.raises(ConfigError, match=r"level must be in \(0, 1\), got 1.0"):
        bootstrap_auc_difference(y, a, b, level=1.0)
    with pytest.raises(DataError, match="score_b must be a 1-D array of length 50"):
        bootstrap_auc_difference(y, a, b[:10])
