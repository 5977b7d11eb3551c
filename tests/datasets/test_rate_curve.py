"""Tests of the simulator's seasonality/trend multiplier: closed-form integral and inverse."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from winback.datasets._rate_curve import RateCurve

START = pd.Timestamp("2022-01-01")
HORIZON = 1096.0  # 2022-01-01 .. 2024-12-31 inclusive


def _curve(seasonality: float, trend: float, peak_day: float = 330.0) -> RateCurve:
    return RateCurve.from_settings(
        start=START,
        horizon_days=HORIZON,
        seasonality=seasonality,
        seasonality_peak_day=peak_day,
        trend=trend,
    )


def _numeric_integral(seasonality: float, trend: float, peak_day: float, upto: np.ndarray):
    """Trapezoid integral of the documented m(t), written out independently of RateCurve."""
    grid = np.linspace(0.0, float(upto.max()), 500_001)
    years = np.clip(grid, 0.0, HORIZON) / 365.25
    day_of_year = grid + 1  # START is 1 January, day 1 of the year
    level = (1 + trend * years) * (
        1 + seasonality * np.cos(2 * np.pi * (day_of_year - peak_day) / 365.25)
    )
    cumulative = np.concatenate(([0.0], np.cumsum((level[1:] + level[:-1]) / 2 * np.diff(grid))))
    return np.interp(upto, grid, cumulative)


@pytest.mark.parametrize(
    ("seasonality", "trend", "peak_day"),
    [(0.0, 0.0, 330.0), (0.6, 0.0, 330.0), (0.3, 0.25, 45.0), (0.9, -0.3, 200.0)],
)
def test_cumulative_equals_numeric_integral_inside_and_after_the_horizon(
    seasonality, trend, peak_day
):
    upto = np.array([0.0, 1.5, 100.0, 365.25, 800.3, HORIZON, HORIZON + 17.0, 2500.0])
    exact = _curve(seasonality, trend, peak_day).cumulative(upto)
    numeric = _numeric_integral(seasonality, trend, peak_day, upto)
    np.testing.assert_allclose(exact, numeric, rtol=1e-7, atol=1e-6)


def test_no_seasonality_and_no_trend_is_calendar_time():
    upto = np.array([0.0, 10.0, 1000.0, 5000.0])
    np.testing.assert_allclose(_curve(0.0, 0.0).cumulative(upto), upto)


def test_multiplier_peaks_on_the_requested_day_of_the_year():
    # Starting on 15 March (day 74), a peak on day 330 (26 November) is 256 days in.
    curve = RateCurve.from_settings(
        start=pd.Timestamp("2022-03-15"),
        horizon_days=HORIZON,
        seasonality=0.5,
        seasonality_peak_day=330.0,
        trend=0.0,
    )
    days = np.arange(0.0, 365.0, 0.25)
    level = curve.level(days)
    assert days[np.argmax(level)] == 256.0
    assert level.max() == pytest.approx(1.5)
    assert level.min() == pytest.approx(0.5, abs=1e-4)


def test_multiplier_stays_below_the_thinning_envelope():
    for seasonality, trend in [(0.5, 0.2), (0.9, -0.3), (0.0, 0.5)]:
        curve = _curve(seasonality, trend)
        days = np.arange(0.0, 3 * HORIZON, 0.1)
        assert curve.level(days).max() <= curve.max_level()


@pytest.mark.parametrize(("seasonality", "trend"), [(0.0, 0.1), (0.7, 0.2), (0.95, -0.3)])
def test_time_after_horizon_inverts_the_cumulative(seasonality, trend):
    curve = _curve(seasonality, trend)
    exposure = np.array([0.0, 0.3, 12.0, 250.0, 3_000.0, 40_000.0])
    when = curve.time_after_horizon(exposure)
    assert (when >= HORIZON).all()
    reached = curve.cumulative(when) - curve.cumulative(np.array([HORIZON]))
    np.testing.assert_allclose(reached, exposure, rtol=1e-9, atol=1e-6)
