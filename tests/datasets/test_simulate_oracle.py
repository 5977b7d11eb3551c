"""Tests of alive_at and oracle_purchase_probability: hand-computed cases and Monte Carlo checks."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from winback.datasets import Simulation, alive_at, oracle_purchase_probability, simulate
from winback.exceptions import ConfigError, DataError

DAY = pd.Timedelta(days=1)


def _hand_truth(seasonality: float = 0.0, trend: float = 0.0) -> pd.DataFrame:
    """Four customers in a simulation of 2023: bought on 1 Jan and alive, dropped out on
    10 Mar, first bought on the cutoff day, first bought after the cutoff."""
    truth = pd.DataFrame(
        {
            "customer_id": np.array([11, 12, 13, 14], dtype=np.int64),
            "first_purchase_ts": pd.to_datetime(
                ["2023-01-01 09:00", "2023-01-05 00:00", "2023-03-31 23:00", "2023-04-01 00:00"]
            ).astype("datetime64[ns]"),
            "dropout_ts": pd.to_datetime(
                ["2030-01-01 00:00", "2023-03-10 12:00", "2023-05-01 00:00", "2023-06-01 00:00"]
            ).astype("datetime64[ns]"),
            "purchase_rate_per_day": [0.1, 0.5, 0.02, 0.3],
        }
    )
    truth.attrs["winback.simulation"] = {
        "start": "2023-01-01",
        "end": "2023-12-31",
        "seasonality": seasonality,
        "seasonality_peak_day": 330.0,
        "trend": trend,
    }
    return truth


def _label(simulation: Simulation, cutoff: str, horizon_days: int) -> pd.Series:
    """1 when the customer has an order row in (cutoff, cutoff + h], per the data contract."""
    window_start = pd.Timestamp(cutoff) + DAY
    orders = simulation.orders
    in_window = orders["order_ts"].between(
        window_start, window_start + horizon_days * DAY, inclusive="left"
    )
    return pd.Series(simulation.truth["customer_id"].isin(orders.loc[in_window, "customer_id"]))


# --------------------------------------------------------------------------- hand-computed


def test_alive_at_by_hand():
    truth = _hand_truth()
    alive = alive_at(truth, "2023-03-10 12:00")
    assert alive.index.name == "customer_id"
    assert alive.dtype == bool
    # 12 dies at that very instant (right after its last purchase); 13 and 14 are not acquired
    assert alive.to_dict() == {11: True, 12: False, 13: False, 14: False}
    assert alive_at(truth, "2023-03-10 11:59:59").to_dict() == {
        11: True,
        12: True,
        13: False,
        14: False,
    }
    assert alive_at(truth, "2023-04-01").to_dict() == {11: True, 12: False, 13: True, 14: True}


def test_oracle_by_hand_without_seasonality():
    oracle = oracle_purchase_probability(_hand_truth(), cutoff="2023-03-31", horizon_days=10)
    assert oracle.name == "purchase_probability"
    assert oracle.index.name == "customer_id"
    # 14 first buys after the cutoff day: not scored; 13 bought late on the cutoff day: scored
    assert oracle.index.tolist() == [11, 12, 13]
    assert oracle[11] == pytest.approx(1 - math.exp(-0.1 * 10), rel=1e-12)
    assert oracle[12] == 0.0
    assert oracle[13] == pytest.approx(1 - math.exp(-0.02 * 10), rel=1e-12)


def test_oracle_counts_a_dropout_purchase_at_the_first_instant_of_the_window():
    truth = _hand_truth()
    truth.loc[truth["customer_id"] == 12, "dropout_ts"] = pd.Timestamp("2023-04-01")
    oracle = oracle_purchase_probability(truth, cutoff="2023-03-31", horizon_days=10)
    assert oracle[12] == pytest.approx(1 - math.exp(-0.5 * 10))


def test_oracle_by_hand_with_seasonality_and_trend():
    # m(t) = (1 + 0.2 t / 365.25) (1 + 0.5 cos(2 pi (t + 1 - 330) / 365.25)), t in days since
    # 2023-01-01; the window of cutoff 2023-06-30 and 30 days is t in [181, 211).
    oracle = oracle_purchase_probability(
        _hand_truth(seasonality=0.5, trend=0.2), cutoff="2023-06-30", horizon_days=30
    )
    t = np.linspace(181.0, 211.0, 300_001)
    level = (1 + 0.2 * t / 365.25) * (1 + 0.5 * np.cos(2 * np.pi * (t + 1 - 330) / 365.25))
    exposure = float(np.sum((level[1:] + level[:-1]) / 2 * np.diff(t)))
    assert exposure < 25  # the window is in the seasonal trough: well below 30 calendar days
    assert oracle[11] == pytest.approx(1 - math.exp(-0.1 * exposure), rel=1e-9)
    assert oracle[12] == oracle[13] == oracle[14] == 0.0  # dropped out on 10 Mar, 1 May, 1 Jun


def test_oracle_survives_filtering_and_sorting_the_truth_table():
    truth = _hand_truth()
    subset = truth[truth["customer_id"] != 12].sort_values("customer_id", ascending=False).copy()
    oracle = oracle_purchase_probability(subset, cutoff="2023-03-31", horizon_days=10)
    full = oracle_purchase_probability(truth, cutoff="2023-03-31", horizon_days=10)
    pd.testing.assert_series_equal(oracle.sort_index(), full.drop(12))


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("cutoff", "horizon_days", "message"),
    [
        ("2023-03-31 12:00", 10, "cutoff must be a calendar day (tz-naive midnight)"),
        ("2023-12-01", 31, "is not inside the simulated period [2023-01-01, 2023-12-31]"),
        ("2022-12-31", 10, "Use a cutoff between 2023-01-01 and 2023-12-21"),
        ("2023-03-31", 0, "horizon_days must be > 0, got 0"),
        ("2023-03-31", 7.5, "horizon_days must be a whole number of days, got 7.5"),
    ],
)
def test_invalid_windows_raise_config_error(cutoff, horizon_days, message):
    with pytest.raises(ConfigError) as info:
        oracle_purchase_probability(_hand_truth(), cutoff=cutoff, horizon_days=horizon_days)
    assert message in str(info.value)


def test_window_ending_on_the_last_simulated_day_is_accepted():
    oracle = oracle_purchase_probability(_hand_truth(), cutoff="2023-12-01", horizon_days=30)
    assert len(oracle) == 4


def test_truth_without_simulation_settings_raises_data_error():
    rebuilt = pd.DataFrame(_hand_truth().to_dict("list"))
    with pytest.raises(DataError, match=r"truth\.attrs has no 'winback\.simulation' entry"):
        oracle_purchase_probability(rebuilt, cutoff="2023-03-31", horizon_days=10)


def test_truth_without_a_needed_column_raises_data_error():
    with pytest.raises(DataError, match=r"truth is missing column\(s\) \['dropout_ts'\]"):
        alive_at(_hand_truth().drop(columns="dropout_ts"), "2023-03-01")


# --------------------------------------------------------------------------- Monte Carlo


@pytest.fixture(scope="module")
def seasonal() -> Simulation:
    return simulate(
        20_000,
        seed=21,
        seasonality=0.7,
        seasonality_peak_day=330,
        trend=0.3,
        extra_columns=False,
    )


def _decile_z_scores(probability: pd.Series, label: pd.Series) -> np.ndarray:
    """(observed - expected) / sd of the number of buyers in each decile of ``probability``."""
    frame = pd.DataFrame({"p": probability.to_numpy(), "y": label.to_numpy()})
    frame["decile"] = pd.qcut(frame["p"].rank(method="first"), 10, labels=False)
    grouped = frame.groupby("decile")
    expected = grouped["p"].sum()
    sd = np.sqrt(grouped["p"].apply(lambda p: (p * (1 - p)).sum())).clip(lower=1.0)
    return ((grouped["y"].sum() - expected) / sd).to_numpy()


@pytest.mark.parametrize(("cutoff", "horizon_days"), [("2023-04-30", 60), ("2024-06-30", 120)])
def test_oracle_matches_simulated_repurchase_rates_by_decile(seasonal, cutoff, horizon_days):
    oracle = oracle_purchase_probability(seasonal.truth, cutoff=cutoff, horizon_days=horizon_days)
    label = _label(seasonal, cutoff, horizon_days).set_axis(seasonal.truth["customer_id"])
    label = label.loc[oracle.index]
    assert len(oracle) > 5_000
    z = _decile_z_scores(oracle, label)
    assert np.abs(z).max() < 4
    total_sd = np.sqrt((oracle * (1 - oracle)).sum())
    assert abs(label.sum() - oracle.sum()) < 4 * total_sd

    # The same check rejects near-misses: forgetting dropout, or forgetting seasonality/trend.
    rate = seasonal.truth.set_index("customer_id").loc[oracle.index, "purchase_rate_per_day"]
    ignores_dropout = 1 - np.exp(-rate * _exposure(oracle, rate))
    assert np.abs(_decile_z_scores(ignores_dropout, label)).max() > 10
    ignores_season = (1 - np.exp(-rate * horizon_days)).where(oracle > 0, 0.0)
    assert np.abs(_decile_z_scores(ignores_season, label)).max() > 6


def _exposure(oracle: pd.Series, rate: pd.Series) -> float:
    """The window's exposure (integral of m) recovered from any alive customer's oracle value."""
    slowest = rate[oracle > 0].idxmin()  # far from saturation, so log1p is well conditioned
    return float(-np.log1p(-oracle[slowest]) / rate[slowest])


def test_engagement_adds_nothing_to_the_oracle(seasonal):
    """Among customers alive at the cutoff, the oracle is calibrated whether or not they showed
    recent engagement: engagement reflects the present latent state, never future purchases."""
    cutoff, horizon_days = "2024-03-31", 60
    window_start = pd.Timestamp(cutoff) + DAY
    oracle = oracle_purchase_probability(seasonal.truth, cutoff=cutoff, horizon_days=horizon_days)
    label = _label(seasonal, cutoff, horizon_days).set_axis(seasonal.truth["customer_id"])
    alive = oracle.index[oracle > 0]
    events = seasonal.events
    recent = events["event_ts"].between(window_start - 30 * DAY, window_start, inclusive="left")
    quiet = ~alive.isin(events.loc[recent, "customer_id"])
    truth = seasonal.truth.set_index("customer_id")
    fading = (truth.loc[alive, "disengage_ts"] < window_start).to_numpy()
    for group in (quiet, ~quiet, fading, ~fading):
        ids = alive[group]
        assert len(ids) > 300
        p, y = oracle.loc[ids], label.loc[ids]
        assert abs(y.sum() - p.sum()) < 4 * np.sqrt((p * (1 - p)).sum())


# --------------------------------------------------------------------------- level shift


def test_oracle_by_hand_with_a_level_shift_inside_the_window():
    # +30% from 2023-07-10: a 30-day window from 2023-07-01 has 9 days at 1 and 21 at 1.3
    truth = _hand_truth()
    truth.attrs["winback.simulation"] |= {"level_shift": 0.3, "level_shift_date": "2023-07-10"}
    oracle = oracle_purchase_probability(truth, cutoff="2023-06-30", horizon_days=30)
    assert oracle[11] == pytest.approx(1 - math.exp(-0.1 * (9 + 21 * 1.3)), rel=1e-12)


@pytest.fixture(scope="module", params=[0.3, -0.3])
def shifted(request) -> Simulation:
    return simulate(
        20_000,
        seed=22,
        level_shift=request.param,
        level_shift_date="2024-07-01",
        event_rates={},
        extra_columns=False,
    )


def test_oracle_knows_a_level_shift_the_past_cannot_show(shifted):
    """The window right after the shift buys at the shifted rate: the oracle says so, and the
    same check rejects the unshifted oracle (the one a model fitted before the shift implies)."""
    cutoff, horizon_days = "2024-06-30", 90
    oracle = oracle_purchase_probability(shifted.truth, cutoff=cutoff, horizon_days=horizon_days)
    label = _label(shifted, cutoff, horizon_days).set_axis(shifted.truth["customer_id"])
    label = label.loc[oracle.index]
    assert np.abs(_decile_z_scores(oracle, label)).max() < 4
    unshifted = shifted.truth.copy()
    unshifted.attrs["winback.simulation"] = {
        **shifted.truth.attrs["winback.simulation"],
        "level_shift": 0.0,
    }
    naive = oracle_purchase_probability(unshifted, cutoff=cutoff, horizon_days=horizon_days)
    assert abs(label.sum() - naive.sum()) > 6 * np.sqrt((naive * (1 - naive)).sum())
    # before the shift both agree exactly
    before = oracle_purchase_probability(shifted.truth, cutoff="2024-03-31", horizon_days=90)
    plain = oracle_purchase_probability(unshifted, cutoff="2024-03-31", horizon_days=90)
    pd.testing.assert_series_equal(before, plain)
