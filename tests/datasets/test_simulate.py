"""Tests of winback.datasets.simulate: contract, determinism, truth consistency, known moments."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from winback.datasets import Simulation, alive_at, simulate
from winback.exceptions import ConfigError

START = pd.Timestamp("2022-01-01")
END = pd.Timestamp("2024-12-31")
END_EXCLUSIVE = END + pd.Timedelta(days=1)
DAY = pd.Timedelta(days=1)
STR = pd.Series(["x"]).dtype  # pandas' default string dtype
NS = np.dtype("datetime64[ns]")
F8 = np.dtype("float64")
I8 = np.dtype("int64")


@pytest.fixture(scope="module")
def sim() -> Simulation:
    return simulate(4000, seed=7)


@pytest.fixture(scope="module")
def seasonal() -> Simulation:
    return simulate(4000, seed=8, seasonality=0.6, seasonality_peak_day=100, trend=0.3)


def _purchases(orders: pd.DataFrame) -> pd.DataFrame:
    return orders[orders["amount"] > 0]


def _exposure_in_days(first: pd.Series, *, seasonality: float, peak_day: float, trend: float):
    """Integral of the documented multiplier m(t) from each first purchase to END (numeric)."""
    grid = np.linspace(0.0, (END_EXCLUSIVE - START) / DAY, 400_001)
    level = (1 + trend * grid / 365.25) * (
        1 + seasonality * np.cos(2 * np.pi * (grid + 1 - peak_day) / 365.25)
    )
    cumulative = np.concatenate(([0.0], np.cumsum((level[1:] + level[:-1]) / 2 * np.diff(grid))))
    t0 = ((first - START) / DAY).to_numpy()
    return cumulative[-1] - np.interp(t0, grid, cumulative)


# --------------------------------------------------------------------------- API and contract


def test_frames_follow_the_data_contract(sim):
    assert sim.orders.dtypes.to_dict() == {
        "customer_id": I8,
        "order_ts": NS,
        "amount": F8,
        "order_id": STR,
        "quantity": F8,
        "discount": F8,
        "category": STR,
        "channel": STR,
    }
    assert sim.events.dtypes.to_dict() == {
        "customer_id": I8,
        "event_ts": NS,
        "event_type": STR,
        "value": F8,
    }
    assert sim.customers.dtypes.to_dict() == {
        "customer_id": I8,
        "email": STR,
        "phone": STR,
        "signup_ts": NS,
        "marketing_opt_in": np.dtype(bool),
        "country": STR,
    }
    assert sim.truth.dtypes.to_dict() == {
        "customer_id": I8,
        "first_purchase_ts": NS,
        "disengage_ts": NS,
        "dropout_ts": NS,
        "purchase_rate_per_day": F8,
        "dropout_probability": F8,
        "mean_order_value": F8,
        "engagement_propensity": F8,
    }
    for frame in (sim.orders, sim.events, sim.customers, sim.truth):
        assert frame["customer_id"].notna().all()


def test_one_row_per_customer_and_every_customer_orders(sim):
    ids = np.arange(1, 4001)
    np.testing.assert_array_equal(sim.customers["customer_id"], ids)
    np.testing.assert_array_equal(sim.truth["customer_id"], ids)
    assert set(sim.orders["customer_id"]) == set(ids)
    assert set(sim.events["customer_id"]) <= set(ids)
    assert sim.orders["order_id"].is_unique


@pytest.mark.parametrize(("frame", "column"), [("orders", "order_ts"), ("events", "event_ts")])
def test_rows_are_sorted_by_customer_then_time(sim, frame, column):
    rows = getattr(sim, frame)
    keys = rows["customer_id"].to_numpy()
    ts = rows[column].to_numpy().astype(np.int64)
    same_customer = keys[1:] == keys[:-1]
    assert (keys[1:] >= keys[:-1]).all()
    assert (ts[1:][same_customer] >= ts[:-1][same_customer]).all()


def test_customer_ids_follow_the_order_of_acquisition(sim):
    assert sim.truth["first_purchase_ts"].is_monotonic_increasing


def test_simulation_repr_summarises_instead_of_printing_frames():
    small = simulate(50, seed=1, event_rates={})
    assert repr(small) == (
        f"Simulation(customers=50, orders={len(small.orders)}, events=0, "
        "start=2022-01-01, end=2024-12-31, seed=1)"
    )


def test_simulation_is_frozen_and_params_are_read_only(sim):
    with pytest.raises(AttributeError):
        sim.orders = sim.orders  # type: ignore[misc]
    with pytest.raises(TypeError):
        sim.params["r"] = 1.0  # type: ignore[index]
    assert sim.params["r"] == 0.8
    assert sim.params["alpha"] == 20.0
    assert sim.params["n_customers"] == 4000


# --------------------------------------------------------------------------- determinism


def test_same_seed_gives_identical_frames():
    first = simulate(600, seed=3, seasonality=0.4, trend=0.1)
    second = simulate(600, seed=3, seasonality=0.4, trend=0.1)
    for name in ("orders", "events", "customers", "truth"):
        pd.testing.assert_frame_equal(getattr(first, name), getattr(second, name))
    assert dict(first.params) == dict(second.params)


def test_different_seeds_give_different_customers():
    first, second = simulate(600, seed=3), simulate(600, seed=4)
    assert (first.truth["purchase_rate_per_day"] != second.truth["purchase_rate_per_day"]).all()
    assert not first.orders["order_ts"].head(50).equals(second.orders["order_ts"].head(50))


def test_optional_parts_leave_purchases_and_truth_unchanged():
    full = simulate(600, seed=5)
    bare = simulate(600, seed=5, extra_columns=False, refund_rate=0.0, event_rates={})
    assert list(bare.orders.columns) == ["customer_id", "order_ts", "amount"]
    assert bare.events.empty
    assert list(bare.events.columns) == ["customer_id", "event_ts", "event_type", "value"]
    pd.testing.assert_frame_equal(bare.truth, full.truth)
    purchases = _purchases(full.orders)[["customer_id", "order_ts", "amount"]]
    pd.testing.assert_frame_equal(bare.orders, purchases.reset_index(drop=True))


# --------------------------------------------------------------------------- truth consistency


@pytest.mark.parametrize("name", ["sim", "seasonal"])
def test_orders_and_events_fall_inside_the_simulated_days(name, request):
    simulation = request.getfixturevalue(name)
    for frame, column in ((simulation.orders, "order_ts"), (simulation.events, "event_ts")):
        assert frame[column].min() >= START
        assert frame[column].max() < END_EXCLUSIVE


@pytest.mark.parametrize("name", ["sim", "seasonal"])
def test_orders_agree_with_first_purchase_and_dropout(name, request):
    simulation = request.getfixturevalue(name)
    truth = simulation.truth.set_index("customer_id")
    by_customer = _purchases(simulation.orders).groupby("customer_id")["order_ts"]
    first, last, count = by_customer.min(), by_customer.max(), by_customer.size()
    pd.testing.assert_series_equal(first, truth["first_purchase_ts"], check_names=False)
    assert (last <= truth["dropout_ts"]).all()
    died = truth["dropout_ts"] < END_EXCLUSIVE
    assert 0.2 < died.mean() < 0.8
    # dropout is the last purchase, and it always follows at least one repeat purchase
    pd.testing.assert_series_equal(last[died], truth.loc[died, "dropout_ts"], check_names=False)
    assert (count[died] >= 2).all()
    assert (truth.loc[~died, "dropout_ts"] >= END_EXCLUSIVE).all()


def test_disengagement_is_the_penultimate_purchase_before_dropout(sim):
    truth = sim.truth.set_index("customer_id")
    died = truth.index[truth["dropout_ts"] < END_EXCLUSIVE]
    purchases = _purchases(sim.orders)
    penultimate = (
        purchases[purchases["customer_id"].isin(died)].groupby("customer_id")["order_ts"].nth(-2)
    )
    expected = truth.loc[died, "disengage_ts"]
    np.testing.assert_array_equal(penultimate.sort_index().to_numpy(), expected.to_numpy())
    assert (truth["first_purchase_ts"] <= truth["disengage_ts"]).all()
    assert (truth["disengage_ts"] <= truth["dropout_ts"]).all()


@pytest.mark.parametrize("when", ["2022-06-30 12:00", "2023-09-01", "2024-12-31 23:59:59"])
def test_alive_at_matches_who_can_still_buy(sim, when):
    when = pd.Timestamp(when)
    alive = alive_at(sim.truth, when)
    truth = sim.truth.set_index("customer_id")
    acquired = truth["first_purchase_ts"] <= when
    expected = acquired & (truth["dropout_ts"] > when)
    pd.testing.assert_series_equal(alive, expected.rename("alive"))
    later = _purchases(sim.orders)
    buyers_after = set(later.loc[later["order_ts"] > when, "customer_id"])
    dead = truth.index[acquired & ~alive]
    assert buyers_after.isdisjoint(dead)
    # alive customers who die before END still have their dropout purchase ahead of them
    must_buy = truth.index[alive & (truth["dropout_ts"] < END_EXCLUSIVE)]
    assert set(must_buy) <= buyers_after


def test_signup_precedes_the_first_purchase(sim):
    signup = sim.customers.set_index("customer_id")["signup_ts"]
    first = sim.truth.set_index("customer_id")["first_purchase_ts"]
    assert (signup <= first).all()
    assert 0.4 < (signup == first).mean() < 0.6


def test_acquisition_period_is_respected():
    custom = simulate(
        500, seed=1, acquisition_start="2022-03-01", acquisition_end="2022-03-31", event_rates={}
    )
    first = custom.truth["first_purchase_ts"]
    assert first.min() >= pd.Timestamp("2022-03-01")
    assert first.max() < pd.Timestamp("2022-04-01")
    assert custom.orders["order_ts"].max() > pd.Timestamp("2024-06-01")


# --------------------------------------------------------------------------- known moments


@pytest.mark.parametrize(
    ("column", "distribution", "wrong"),
    [
        ("purchase_rate_per_day", stats.gamma(0.8, scale=1 / 20), stats.gamma(0.8, scale=1 / 24)),
        ("dropout_probability", stats.beta(1.0, 10.0), stats.beta(1.0, 8.0)),
        ("engagement_propensity", stats.gamma(2.0, scale=0.5), stats.gamma(2.0, scale=0.6)),
    ],
)
def test_latent_parameters_follow_their_priors(sim, column, distribution, wrong):
    values = sim.truth[column]
    assert stats.kstest(values, distribution.cdf).pvalue > 0.001
    assert stats.kstest(values, wrong.cdf).pvalue < 1e-6  # the check has the power to fail


def test_mean_order_values_follow_the_gamma_gamma_prior(sim):
    # mean_order_value = spend_p / nu with nu ~ Gamma(spend_q=4, rate=spend_gamma=30)
    nu = 6.0 / sim.truth["mean_order_value"]
    assert stats.kstest(nu, stats.gamma(4.0, scale=1 / 30).cdf).pvalue > 0.001
    assert stats.kstest(nu, stats.gamma(4.0, scale=1 / 25).cdf).pvalue < 1e-6


def test_purchase_rate_of_customers_who_never_drop_out_recovers_r_over_alpha():
    immortal = simulate(10_000, seed=2, a=1.0, b=1e9, event_rates={}, extra_columns=False)
    truth = immortal.truth
    assert (truth["dropout_ts"] >= END_EXCLUSIVE).all()
    repeats = immortal.orders.groupby("customer_id").size().to_numpy() - 1
    exposure = ((END_EXCLUSIVE - truth["first_purchase_ts"]) / DAY).to_numpy()
    observed = repeats.sum() / exposure.sum()
    # Var(sum N) = sum(E[lambda] T + Var[lambda] T^2) for Poisson counts with Gamma(r, alpha) rates
    r, alpha = 0.8, 20.0
    sd = np.sqrt((r / alpha * exposure + r / alpha**2 * exposure**2).sum()) / exposure.sum()
    assert abs(observed - r / alpha) < 4 * sd
    assert 4 * sd < 0.1 * r / alpha  # the tolerance is tight enough to catch a 10% error


@pytest.mark.parametrize("name", ["sim", "seasonal"])
def test_repeat_counts_and_survival_match_the_bgnbd_likelihood(name, request):
    """Given (lambda, p) and exposure E, P(alive at end) = exp(-lambda p E) and, among survivors,
    repeats ~ Poisson(lambda (1 - p) E) exactly: both sums are checked within 4 SD."""
    simulation = request.getfixturevalue(name)
    truth = simulation.truth
    params = simulation.params
    exposure = _exposure_in_days(
        truth["first_purchase_ts"],
        seasonality=params["seasonality"],
        peak_day=params["seasonality_peak_day"],
        trend=params["trend"],
    )
    rate = truth["purchase_rate_per_day"].to_numpy()
    p = truth["dropout_probability"].to_numpy()
    survives = np.exp(-rate * p * exposure)
    alive = (truth["dropout_ts"] >= END_EXCLUSIVE).to_numpy()
    assert abs(alive.sum() - survives.sum()) < 4 * np.sqrt((survives * (1 - survives)).sum())

    repeats = _purchases(simulation.orders).groupby("customer_id").size().to_numpy() - 1
    expected = (rate * (1 - p) * exposure)[alive].sum()
    assert abs(repeats[alive].sum() - expected) < 4 * np.sqrt(expected)
    # ignoring seasonality/trend would be far off for the seasonal simulation
    if params["seasonality"] > 0:
        flat = ((END_EXCLUSIVE - truth["first_purchase_ts"]) / DAY).to_numpy()
        assert abs((rate * (1 - p) * flat)[alive].sum() - expected) > 12 * np.sqrt(expected)


def test_order_amounts_average_to_the_customers_mean_order_value(sim):
    purchases = _purchases(sim.orders)
    mean_value = sim.truth.set_index("customer_id")["mean_order_value"]
    expected = mean_value.loc[purchases["customer_id"]].to_numpy()
    # amount ~ Gamma(spend_p=6, rate=nu): variance mean^2 / 6
    sd = np.sqrt((expected**2 / 6.0).sum())
    assert abs(purchases["amount"].sum() - expected.sum()) < 4 * sd
    assert (purchases["amount"] == purchases["amount"].round(2)).all()
    assert 55 < purchases["amount"].mean() < 75  # a retail basket, in dollars


def test_about_ten_orders_per_customer_with_the_defaults(sim):
    per_customer = len(sim.orders) / 4000
    assert 8.5 < per_customer < 11.5


# --------------------------------------------------------------------------- order columns


def test_refund_rows_negate_the_order_they_follow():
    refunding = simulate(1000, seed=4, refund_rate=0.1, event_rates={})
    orders = refunding.orders
    refund = orders["amount"] < 0
    share = refund.sum() / (~refund).sum()
    assert abs(share - 0.1) < 4 * np.sqrt(0.1 * 0.9 / (~refund).sum())
    position = np.flatnonzero(refund.to_numpy())
    refunds, originals = orders.iloc[position], orders.iloc[position - 1]
    np.testing.assert_array_equal(refunds["customer_id"], originals["customer_id"])
    np.testing.assert_array_equal(refunds["order_ts"], originals["order_ts"])
    np.testing.assert_array_equal(refunds["amount"], -originals["amount"])
    np.testing.assert_array_equal(refunds["quantity"], -originals["quantity"])
    assert (refunds["order_id"].to_numpy() == originals["order_id"].to_numpy() + "-R").all()
    assert (refunds["discount"] == 0).all()


def test_no_refunds_when_the_rate_is_zero():
    assert (simulate(500, seed=4, refund_rate=0.0, event_rates={}).orders["amount"] > 0).all()


def test_extra_order_columns_are_plausible(sim):
    purchases = _purchases(sim.orders)
    assert (purchases["quantity"] >= 1).all()
    assert (purchases["quantity"] == purchases["quantity"].round()).all()
    assert (sim.orders["discount"] >= 0).all()
    assert (purchases["discount"] < purchases["amount"]).all()
    assert 0.15 < (purchases["discount"] > 0).mean() < 0.25
    assert set(sim.orders["category"]) == {
        "apparel",
        "beauty",
        "electronics",
        "grocery",
        "home",
        "toys",
    }
    assert set(sim.orders["channel"]) == {"web", "app", "store"}
    # customers keep a favourite category: the top category of a frequent buyer dominates
    frequent = purchases.groupby("customer_id").filter(lambda g: len(g) >= 20)
    top_share = frequent.groupby("customer_id")["category"].agg(
        lambda c: c.value_counts(normalize=True).iloc[0]
    )
    assert top_share.mean() > 0.55


# --------------------------------------------------------------------------- customers


def test_customer_profiles(sim):
    customers = sim.customers
    n = len(customers)
    opt_in = customers["marketing_opt_in"].mean()
    assert abs(opt_in - 0.85) < 4 * np.sqrt(0.85 * 0.15 / n)
    assert 0.02 < customers["email"].isna().mean() < 0.08
    assert 0.3 < customers["phone"].isna().mean() < 0.4
    assert customers["email"].dropna().str.endswith("@example.com").all()
    assert customers["email"].dropna().is_unique
    assert set(customers["country"].dropna()) <= {"US", "GB", "DE", "FR", "CA", "AU", "NL"}
    assert 0 < customers["country"].isna().mean() < 0.05


# --------------------------------------------------------------------------- engagement


def test_event_types_and_values(sim):
    events = sim.events
    assert set(events["event_type"]) == {
        "site_visit",
        "email_open",
        "email_click",
        "support_ticket",
        "nps",
        "unsubscribe",
    }
    nps = events["event_type"] == "nps"
    assert events.loc[nps, "value"].between(0, 10).all()
    assert (events.loc[nps, "value"] == events.loc[nps, "value"].round()).all()
    assert events.loc[~nps, "value"].isna().all()
    assert 8 < len(events) / len(sim.truth) < 20


def test_events_start_at_signup(sim):
    signup = sim.customers.set_index("customer_id")["signup_ts"]
    assert (sim.events["event_ts"] >= signup.loc[sim.events["customer_id"]].to_numpy()).all()


def test_email_events_respect_opt_in_and_unsubscribe(sim):
    events = sim.events
    opted_in = sim.customers.set_index("customer_id")["marketing_opt_in"]
    email = events["event_type"].isin(["email_open", "email_click", "unsubscribe"])
    assert opted_in.loc[events.loc[email, "customer_id"]].all()
    assert (~opted_in).sum() > 400  # there were opted-out customers to check
    unsubscribes = events[events["event_type"] == "unsubscribe"]
    assert unsubscribes["customer_id"].is_unique
    assert len(unsubscribes) > 20
    unsubscribed_at = unsubscribes.set_index("customer_id")["event_ts"]
    mail = events[email & events["customer_id"].isin(unsubscribed_at.index)]
    assert (mail["event_ts"] <= unsubscribed_at.loc[mail["customer_id"]].to_numpy()).all()


def _event_rate_by_days_before_dropout(simulation: Simulation, lo: float, hi: float) -> float:
    """Events per customer-day in (dropout - hi, dropout - lo] for customers who dropped out
    after at least 200 days (negative bounds look after dropout)."""
    truth = simulation.truth
    died = truth[
        (truth["dropout_ts"] < END_EXCLUSIVE - 60 * DAY)
        & (truth["dropout_ts"] - truth["first_purchase_ts"] > 200 * DAY)
    ]
    events = simulation.events.merge(died[["customer_id", "dropout_ts"]], on="customer_id")
    before = (events["dropout_ts"] - events["event_ts"]) / DAY
    count = ((before > lo) & (before <= hi)).sum()
    return count / (len(died) * (hi - lo))


def test_engagement_falls_before_dropout_and_nearly_stops_after_it(sim):
    earlier = _event_rate_by_days_before_dropout(sim, 56, 140)
    last_weeks = _event_rate_by_days_before_dropout(sim, 0, 28)
    after = _event_rate_by_days_before_dropout(sim, -60, 0)
    assert last_weeks < 0.8 * earlier
    assert after < 0.1 * earlier


def test_engagement_without_a_fade_does_not_fall():
    # Control for the test above: with the fade disabled the same measurement shows no fall.
    flat = simulate(4000, seed=7, engagement_after_dropout=1.0)
    earlier = _event_rate_by_days_before_dropout(flat, 56, 140)
    assert 0.85 * earlier < _event_rate_by_days_before_dropout(flat, 0, 28) < 1.15 * earlier
    assert 0.85 * earlier < _event_rate_by_days_before_dropout(flat, -60, 0) < 1.15 * earlier


def test_nps_is_lower_once_a_customer_disengages(sim):
    nps = sim.events[sim.events["event_type"] == "nps"].merge(
        sim.truth[["customer_id", "disengage_ts"]], on="customer_id"
    )
    engaged = nps["event_ts"] < nps["disengage_ts"]
    assert nps.loc[engaged, "value"].mean() == pytest.approx(8.0, abs=0.3)
    assert nps.loc[~engaged, "value"].mean() == pytest.approx(3.5, abs=0.8)


def test_recent_engagement_separates_live_from_dead_customers_with_the_same_recency(sim):
    window_start = pd.Timestamp("2024-04-01")
    purchases = _purchases(sim.orders)
    last = purchases[purchases["order_ts"] < window_start].groupby("customer_id")["order_ts"].max()
    lapsed = last[(window_start - last).between(60 * DAY, 365 * DAY)].index
    recent = sim.events[sim.events["event_ts"].between(window_start - 30 * DAY, window_start)]
    engaged = lapsed.isin(recent["customer_id"])
    alive = alive_at(sim.truth, window_start - pd.Timedelta(seconds=1)).loc[lapsed].to_numpy()
    assert engaged.sum() > 200
    assert (~engaged).sum() > 200
    assert alive[engaged].mean() > alive[~engaged].mean() + 0.4


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_customers": 0}, "n_customers: Input should be greater than 0 (got 0)"),
        ({"end": "2021-12-31"}, "end (2021-12-31) must not be before start (2022-01-01)"),
        ({"seasonality": 1.2}, "seasonality: Input should be less than 1 (got 1.2)"),
        ({"trend": -0.5}, "trend=-0.5 would make purchase rates negative before end"),
        ({"start": "2022-01-01 10:00"}, "start: Datetimes provided to dates should have zero time"),
        ({"event_rates": {"page_view": 0.1}}, "event_rates.page_view.[key]: Input should be"),
        ({"acquisition_end": "2025-02-01"}, "the acquisition period must lie inside [start, end]"),
        ({"spend_q": 1.0}, "spend_q: Input should be greater than 1 (got 1.0)"),
    ],
)
def test_invalid_arguments_raise_config_error(kwargs, message):
    arguments = {"n_customers": 10, **kwargs}
    with pytest.raises(ConfigError, match="simulate\\(\\) got invalid arguments") as info:
        simulate(**arguments)
    assert message in str(info.value)


def test_every_invalid_argument_is_listed_in_one_error():
    with pytest.raises(ConfigError) as info:
        simulate(10, r=-1.0, alpha=0.0)
    assert "r: Input should be greater than 0 (got -1.0)" in str(info.value)
    assert "alpha: Input should be greater than 0 (got 0.0)" in str(info.value)


# --------------------------------------------------------------------------- settings


def test_one_settings_model_documents_validates_and_is_reused():
    from winback.datasets import SimulationSettings

    fields = SimulationSettings.model_fields
    assert all(info.description for info in fields.values())  # every setting is documented
    assert {"level_shift", "level_shift_date", "seasonality", "trend"} <= set(fields)
    settings = SimulationSettings(n_customers=50, seasonality=0.4, end="2023-12-31")
    sim = simulate(300, seed=4, settings=settings)
    assert sim.params["n_customers"] == 300 and sim.params["seasonality"] == 0.4
    assert sim.params["acquisition_end"] == pd.Timestamp("2023-12-31").date()
    same = simulate(300, seed=4, seasonality=0.4, end="2023-12-31")
    pd.testing.assert_frame_equal(sim.orders, same.orders)
    assert dict(sim.params) == dict(same.params)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"level_shift": 0.3}, "level_shift=0.3 needs a level_shift_date"),
        (
            {"level_shift": 0.3, "level_shift_date": "2026-01-01"},
            "level_shift_date (2026-01-01) must lie inside [start, end]",
        ),
        ({"level_shift": -1.0, "level_shift_date": "2023-01-01"}, "level_shift: Input should be"),
        ({"levelshift": 0.3}, "levelshift: Extra inputs are not permitted"),
    ],
)
def test_invalid_level_shifts_raise_config_error(kwargs, message):
    with pytest.raises(ConfigError, match="simulate\\(\\) got invalid arguments") as info:
        simulate(10, **kwargs)
    assert message in str(info.value)


def test_a_level_shift_scales_purchases_from_its_date_on():
    kwargs = {"event_rates": {}, "extra_columns": False, "a": 1.0, "b": 1e9}  # nobody drops out
    flat = simulate(6000, seed=5, **kwargs)
    shifted = simulate(6000, seed=5, level_shift=0.5, level_shift_date="2024-01-01", **kwargs)

    def repeats(sim: Simulation, after: bool) -> int:
        p = _purchases(sim.orders)
        p = p[p.duplicated("customer_id")]  # repeat purchases (acquisition is not scaled)
        later = p["order_ts"] >= pd.Timestamp("2024-01-01")
        return int((later if after else ~later).sum())

    before_flat, before_shifted = repeats(flat, False), repeats(shifted, False)
    after_flat, after_shifted = repeats(flat, True), repeats(shifted, True)
    assert abs(before_shifted - before_flat) < 4 * np.sqrt(before_flat)
    assert abs(after_shifted / after_flat - 1.5) < 4 * 1.5 * np.sqrt(2 / after_flat)
