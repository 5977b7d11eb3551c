"""Tests of retention_kpis, monthly_activity, group_summary and scored_kpis, worked by hand."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest

from winback.exceptions import ConfigError, DataError
from winback.report import (
    RETENTION_KPIS,
    group_summary,
    monthly_activity,
    retention_by_period,
    retention_kpis,
    scored_kpis,
    value_at_risk,
)
from winback.report._kpis import VALUE_AT_RISK_DEFINITIONS

CUTOFF = "2024-03-31"

# Worked by hand from the ``orders`` fixture (see its docstring), cutoff 2024-03-31, 30 days.
EXPECTED_RETENTION = {
    "cutoff": "2024-03-31",
    "period_days": 30,
    "period_start": "2024-03-02",
    "previous_period_start": "2024-02-01",  # 2024 is a leap year
    "customers_to_date": 5,  # A B C D F; E bought after the cutoff
    "active_customers": 4,  # E: A C D F
    "new_customers": 1,  # N: C
    "previous_active_customers": 3,  # S: A B F
    "retained_customers": 2,  # A F (D came back from January)
    "retention_rate": 1.0,  # (E - N) / S = (4 - 1) / 3
    "churned_customers": 1,  # B
    "churn_rate": 1 / 3,
    "repeat_purchase_rate": 1 / 4,  # A
    "revenue": 185.0,  # 30 + 20 + 100 - 25 + 0 + 60
    "orders": 5,
    "average_order_value": 37.0,
    "purchase_frequency": 1.25,
    # Days since the previous purchase: A 02-10 -> 03-05 (24) and -> 03-31 (26), D 01-05 ->
    # 03-20 (75), F 03-01 -> 03-02 (1); C's first order has none.
    "time_between_purchases_days": (24 + 26 + 75 + 1) / 4,
    "lifespan_periods": 3.0,  # 1 / churn rate
    "textbook_clv": 37.0 * 1.25 * 3.0,
}


def test_retention_kpis_by_hand(orders: pd.DataFrame) -> None:
    assert retention_kpis(orders, cutoff=CUTOFF, period_days=30) == pytest.approx(
        EXPECTED_RETENTION
    )


def test_cancellations_and_orders_netting_to_zero_are_not_purchases(orders: pd.DataFrame) -> None:
    # D's free order (amount 0, one item) is a purchase; the same order with its item cancelled
    # (quantity 0) is not, and neither is C's return: D is no longer active in the period
    cancelled = orders.assign(
        quantity=np.where((orders["customer_id"] == "D") & (orders["amount"] == 0), 0.0, 1.0)
    )
    kpis = retention_kpis(cancelled, cutoff=CUTOFF, period_days=30)
    assert kpis["active_customers"] == EXPECTED_RETENTION["active_customers"] - 1
    assert kpis["orders"] == EXPECTED_RETENTION["orders"] - 1
    assert kpis["revenue"] == EXPECTED_RETENTION["revenue"]  # refunds and zeros still count


def test_retention_kpis_ignore_everything_after_the_cutoff_day(orders: pd.DataFrame) -> None:
    later = pd.DataFrame(
        {
            "customer_id": pd.Series(["B", "G"], dtype="str"),
            "order_ts": pd.to_datetime(["2024-04-01", "2024-05-01"]).astype("datetime64[ns]"),
            "amount": [70.0, 80.0],
        }
    )
    extended = pd.concat([orders, later], ignore_index=True)
    assert retention_kpis(extended, cutoff=CUTOFF, period_days=30) == pytest.approx(
        EXPECTED_RETENTION
    )


def test_retention_kpis_do_not_depend_on_row_order_or_cutoff_type(orders: pd.DataFrame) -> None:
    shuffled = orders.sample(frac=1.0, random_state=4)
    for cutoff in (dt.date(2024, 3, 31), pd.Timestamp("2024-03-31"), "2024-03-31T00:00"):
        assert retention_kpis(shuffled, cutoff=cutoff, period_days=30) == pytest.approx(
            EXPECTED_RETENTION
        )


def test_line_items_of_one_order_count_once(orders: pd.DataFrame) -> None:
    # A's 30.00 order of 03-05 arrives as two line items sharing an order_id; others have none.
    split = pd.concat(
        [
            orders.loc[~((orders["customer_id"] == "A") & (orders["amount"] == 30.0))],
            pd.DataFrame(
                {
                    "customer_id": pd.Series(["A", "A"], dtype="str"),
                    "order_ts": pd.to_datetime(["2024-03-05 10:00", "2024-03-05 10:01"]).astype(
                        "datetime64[ns]"
                    ),
                    "amount": [10.0, 20.0],
                    "order_id": pd.Series(["o-1", "o-1"], dtype="str"),
                }
            ),
        ],
        ignore_index=True,
    )
    assert split["order_id"].isna().sum() == len(orders) - 1
    assert retention_kpis(split, cutoff=CUTOFF, period_days=30) == pytest.approx(EXPECTED_RETENTION)


def test_retention_by_period_by_hand(orders: pd.DataFrame) -> None:
    table = retention_by_period(orders, cutoff=CUTOFF, period_days=30)
    # Periods of 30 days back to the one holding the first order (D, 2024-01-05).
    assert list(table.columns) == ["period_start", "period_end", *RETENTION_KPIS]
    assert table["period_start"].tolist() == ["2024-01-02", "2024-02-01", "2024-03-02"]
    assert table["period_end"].tolist() == ["2024-01-31", "2024-03-01", "2024-03-31"]
    latest = table.iloc[-1].drop(["period_start", "period_end"]).to_dict()
    assert latest == pytest.approx({k: EXPECTED_RETENTION[k] for k in RETENTION_KPIS})
    february = table.iloc[1]  # A B F all buy for the first time; D (January) churns
    assert february[
        ["previous_active_customers", "active_customers", "new_customers"]
    ].tolist() == [
        1,
        3,
        3,
    ]
    assert february["retention_rate"] == 0.0 and february["churn_rate"] == 1.0
    assert february["revenue"] == 95.0 and february["average_order_value"] == pytest.approx(95 / 3)
    assert math.isnan(february["time_between_purchases_days"])  # nobody's second purchase
    assert february["textbook_clv"] == pytest.approx(95 / 3 * 1.0 * 1.0)
    january = table.iloc[0]  # nobody before: every rate over S is undefined
    assert january["previous_active_customers"] == 0
    assert math.isnan(january["retention_rate"]) and math.isnan(january["textbook_clv"])


def test_retention_by_period_takes_a_number_of_periods(orders: pd.DataFrame) -> None:
    table = retention_by_period(orders, cutoff=CUTOFF, period_days=30, n_periods=5)
    assert table["period_start"].tolist()[:2] == ["2023-11-03", "2023-12-03"]
    assert table["active_customers"].tolist() == [0, 0, 1, 3, 4]
    with pytest.raises(ConfigError, match="n_periods must be a positive integer, got 0"):
        retention_by_period(orders, cutoff=CUTOFF, n_periods=0)


def test_every_retention_kpi_has_a_label_a_format_and_a_definition() -> None:
    for key, (label, kind, definition) in RETENTION_KPIS.items():
        assert label and definition, key
        assert kind in ("count", "rate", "money", "number"), key


def test_ratios_without_a_denominator_are_nan(orders: pd.DataFrame) -> None:
    kpis = retention_kpis(orders, cutoff="2024-01-10", period_days=30)
    assert kpis["active_customers"] == 1 and kpis["previous_active_customers"] == 0
    assert math.isnan(kpis["retention_rate"])
    assert kpis["average_order_value"] == 10.0


def test_cutoff_with_a_time_of_day_is_refused(orders: pd.DataFrame) -> None:
    with pytest.raises(ConfigError, match=r"calendar date \(midnight UTC\), got 2024-03-31 12:00"):
        retention_kpis(orders, cutoff="2024-03-31 12:00")


def test_bad_period_and_missing_columns_are_refused(orders: pd.DataFrame) -> None:
    with pytest.raises(ConfigError, match="period_days must be a positive integer, got 0"):
        retention_kpis(orders, cutoff=CUTOFF, period_days=0)
    with pytest.raises(DataError, match=r"orders lack the column\(s\) \['amount'\]"):
        retention_kpis(orders.drop(columns="amount"), cutoff=CUTOFF)


def test_monthly_activity_by_hand(orders: pd.DataFrame) -> None:
    monthly = monthly_activity(orders, cutoff=CUTOFF)
    expected = pd.DataFrame(
        {
            "month": pd.to_datetime(["2024-01-01", "2024-02-01", "2024-03-01"]).astype(
                "datetime64[ns]"
            ),
            "active_customers": np.array([1, 2, 4], dtype="int64"),  # D | A B | A C D F
            "orders": np.array([1, 2, 6], dtype="int64"),
            "revenue": [10.0, 90.0, 5 + 60 + 30 + 100 - 25 + 0 + 20.0],
        }
    )
    pd.testing.assert_frame_equal(monthly, expected)


def test_monthly_activity_fills_months_without_orders(orders: pd.DataFrame) -> None:
    monthly = monthly_activity(orders, cutoff="2024-02-29")
    # E's April order and everything in March are after the cutoff; no gaps before it.
    assert monthly["month"].dt.strftime("%Y-%m").tolist() == ["2024-01", "2024-02"]
    older = pd.DataFrame(
        {
            "customer_id": pd.Series(["Z"], dtype="str"),
            "order_ts": pd.to_datetime(["2023-11-20"]).astype("datetime64[ns]"),
            "amount": [7.0],
        }
    )
    monthly = monthly_activity(pd.concat([older, orders]), cutoff="2024-01-31")
    assert monthly["month"].dt.strftime("%Y-%m").tolist() == ["2023-11", "2023-12", "2024-01"]
    assert monthly["orders"].tolist() == [1, 0, 1]
    assert monthly["revenue"].tolist() == [7.0, 0.0, 10.0]


def test_monthly_activity_before_any_order_is_empty(orders: pd.DataFrame) -> None:
    monthly = monthly_activity(orders, cutoff="2023-12-31")
    assert monthly.empty
    assert list(monthly.columns) == ["month", "active_customers", "orders", "revenue"]


# ------------------------------------------------------------------------------------- scored
def test_scored_kpis_by_hand(scored: pd.DataFrame) -> None:
    kpis = scored_kpis(scored)
    assert kpis["customers"] == 4
    assert kpis["mean_p_churn"] == pytest.approx(0.425)
    assert kpis["expected_value"] == pytest.approx(360.0)
    # value if retained = expected value / (1 - p_churn) = 500, 125, 250, 11.11;
    # value at risk = p_churn x that = 400, 75, 50, 1.11.
    assert kpis["value_at_risk"] == pytest.approx(400 + 75 + 50 + 10 / 9)
    assert kpis["value_at_risk_definition"] == VALUE_AT_RISK_DEFINITIONS["expected_value"]
    assert list(kpis["by_risk_tier"]) == ["high", "low"]  # riskiest first
    assert kpis["by_risk_tier"]["high"] == pytest.approx(
        {"customers": 2, "share": 0.5, "mean_p_churn": 0.7, "expected_value": 150.0,
         "value_at_risk": 475.0}
    )  # fmt: skip
    assert kpis["by_risk_tier"]["low"] == pytest.approx(
        {"customers": 2, "share": 0.5, "mean_p_churn": 0.15, "expected_value": 210.0,
         "value_at_risk": 50 + 10 / 9}
    )  # fmt: skip
    assert list(kpis["by_segment"]) == ["champions", "loyal", "(missing)"]
    assert kpis["by_segment"]["champions"]["value_at_risk"] == pytest.approx(450.0)
    assert kpis["by_segment"]["loyal"]["mean_p_churn"] == pytest.approx(0.6)
    assert kpis["by_segment"]["(missing)"]["expected_value"] == pytest.approx(10.0)
    assert {k: v["value_at_risk"] for k, v in kpis["by_action"].items()} == pytest.approx(
        {"email": 475.0, "none": 50 + 10 / 9}
    )
    assert {k: v["customers"] for k, v in kpis["by_group"].items()} == {
        "treatment": 2,
        "control": 2,
    }
    assert list(kpis["by_group"]) == ["treatment", "control"]  # 450 before 76.1 at risk


def test_scored_kpis_without_optional_columns(scored: pd.DataFrame) -> None:
    kpis = scored_kpis(scored.drop(columns=["action", "group"]))
    assert set(kpis) == {
        "customers", "mean_p_churn", "expected_value", "value_at_risk",
        "value_at_risk_definition", "by_risk_tier", "by_segment",
    }  # fmt: skip


def test_categorical_tiers_keep_their_category_order(scored: pd.DataFrame) -> None:
    tiers = pd.Categorical(scored["risk_tier"], categories=["low", "medium", "high"], ordered=True)
    table = group_summary(scored.assign(risk_tier=tiers), "risk_tier", sort_by="mean_p_churn")
    assert table.index.tolist() == ["low", "high"]
    assert table["customers"].tolist() == [2, 2]


def test_scored_frame_problems_are_named(scored: pd.DataFrame) -> None:
    with pytest.raises(DataError, match=r"'p_churn' must hold finite numbers in \[0, 1\]; found "
                       r"1.2 at row 2 \(1 bad rows\)"):  # fmt: skip
        scored_kpis(scored.assign(p_churn=[0.8, 0.6, 1.2, 0.1]))
    with pytest.raises(DataError, match=r"customer_id 1 appears more than once"):
        scored_kpis(pd.concat([scored, scored.iloc[[0]]]))
    with pytest.raises(DataError, match=r"scored is missing the column\(s\) \['segment'\]"):
        scored_kpis(scored.drop(columns="segment"))
    with pytest.raises(ConfigError, match="sort_by must be 'value_at_risk' or 'mean_p_churn'"):
        group_summary(scored, "segment", sort_by="customers")  # type: ignore[arg-type]


def test_value_at_risk_does_not_count_churn_twice(scored: pd.DataFrame) -> None:
    values, definition = value_at_risk(scored)
    # Expected value already counts churn: 100 = (1 - 0.8) x 500 if retained.
    np.testing.assert_allclose(values["value_if_retained"], [500.0, 125.0, 250.0, 100 / 9])
    np.testing.assert_allclose(values["value_at_risk"], [400.0, 75.0, 50.0, 10 / 9])
    assert "÷ max(1 − p_churn, 0.05)" in definition
    # Near-certain churn: the stay probability is floored at 0.05 (at most 20x expected value).
    capped, _ = value_at_risk(scored.assign(p_churn=[0.99, 0.6, 0.2, 0.1]))
    assert capped["value_if_retained"].iloc[0] == pytest.approx(2000.0)
    assert capped["value_at_risk"].iloc[0] == pytest.approx(0.99 * 2000.0)


def test_value_at_risk_prefers_the_scored_columns(scored: pd.DataFrame) -> None:
    with_retained = scored.assign(value_if_retained=[10.0, 20.0, 30.0, 40.0])
    values, definition = value_at_risk(with_retained)
    np.testing.assert_allclose(values["value_at_risk"], [8.0, 12.0, 6.0, 4.0])
    assert definition == VALUE_AT_RISK_DEFINITIONS["value_if_retained"]
    scored_var = with_retained.assign(value_at_risk=[1.0, 2.0, 3.0, 4.0])
    values, definition = value_at_risk(scored_var)
    np.testing.assert_allclose(values["value_at_risk"], [1.0, 2.0, 3.0, 4.0])
    assert definition == VALUE_AT_RISK_DEFINITIONS["value_at_risk"]
    assert scored_kpis(scored_var)["value_at_risk"] == pytest.approx(10.0)
    with pytest.raises(DataError, match=r"'value_at_risk' must hold finite numbers; found nan"):
        value_at_risk(scored.assign(value_at_risk=[1.0, np.nan, 3.0, 4.0]))
