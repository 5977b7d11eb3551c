"""Calibrators: JSON round trip, monotone maps, and choosing the right family."""

import json

import numpy as np
import pytest
from scipy.special import expit, logit

from winback.models import Calibrator
from winback.models._calibration import choose_calibrator


@pytest.fixture
def miscalibrated():
    rng = np.random.default_rng(3)
    true_p = rng.uniform(0.02, 0.9, 20_000)
    y = (rng.random(true_p.size) < true_p).astype(int)
    raw = expit(0.5 * logit(true_p) + 0.7)  # overconfident in the wrong place
    return raw, y, true_p


@pytest.mark.parametrize("method", ["isotonic", "sigmoid"])
def test_calibration_repairs_a_distorted_score(miscalibrated, method):
    raw, y, true_p = miscalibrated
    cal = Calibrator(method=method).fit(raw[:10_000], y[:10_000])
    fixed = cal.transform(raw[10_000:])
    before = np.abs(raw[10_000:] - true_p[10_000:]).mean()
    after = np.abs(fixed - true_p[10_000:]).mean()
    assert after < before / 3
    assert np.all(np.diff(fixed[np.argsort(raw[10_000:])]) >= -1e-12)  # monotone


@pytest.mark.parametrize("method", ["isotonic", "sigmoid", "identity"])
def test_round_trip_through_json_is_exact(miscalibrated, method):
    raw, y, _ = miscalibrated
    cal = Calibrator(method=method).fit(raw, y)
    again = Calibrator.from_dict(json.loads(json.dumps(cal.to_dict())))
    np.testing.assert_array_equal(cal.transform(raw), again.transform(raw))


def test_sigmoid_is_chosen_when_the_distortion_is_a_logistic_one(miscalibrated):
    raw, y, _ = miscalibrated
    cal = choose_calibrator(raw, y)
    assert cal.method == "sigmoid"
    assert set(cal.cv_log_loss_) == {"isotonic", "sigmoid"}
    assert cal.cv_log_loss_["sigmoid"] <= cal.cv_log_loss_["isotonic"]


def test_isotonic_is_chosen_for_a_step_shaped_distortion():
    rng = np.random.default_rng(5)
    raw = rng.uniform(0, 1, 20_000)
    true_p = np.where(raw < 0.5, 0.05, 0.6)  # a step no sigmoid of logit(raw) can follow
    y = (rng.random(raw.size) < true_p).astype(int)
    assert choose_calibrator(raw, y).method == "isotonic"
