"""Named RFM segments, tiers and the at-risk list: hand-computed examples."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from winback.actions import (
    DEFAULT_SEGMENT_TABLE,
    SegmentTable,
    assign_tiers,
    at_risk_segments,
    load_segment_table,
    rfm_segments,
)
from winback.exceptions import ConfigError, DataError

REPO = Path(__file__).resolve().parents[2]


def ten_customers() -> pd.DataFrame:
    """R scores 5,5,4,4,3,3,2,2,1,1 and F = M scores 5,1,4,1,3,4,5,2,2,3 (worked out by hand)."""
    n_orders = [10, 1, 8, 2, 5, 7, 9, 3, 4, 6]
    return pd.DataFrame(
        {
            "customer_id": range(10),
            "recency_days": [0, 10, 20, 30, 40, 50, 60, 70, 80, 90],
            "n_orders": n_orders,
            "monetary_total": [10.0 * n for n in n_orders],
        }
    )


def test_rfm_segments_hand_computed_scores_and_names() -> None:
    out = rfm_segments(ten_customers())
    assert out["r_score"].tolist() == [5, 5, 4, 4, 3, 3, 2, 2, 1, 1]
    assert out["f_score"].tolist() == [5, 1, 4, 1, 3, 4, 5, 2, 2, 3]
    assert out["m_score"].tolist() == out["f_score"].tolist()
    assert out["segment"].tolist() == [
        "Champions",
        "New",
        "Loyal",
        "Promising",
        "Need Attention",
        "Loyal",
        "Can't Lose Them",
        "Hibernating",
        "Lost",
        "At Risk",
    ]


def test_rfm_segments_keeps_rows_and_does_not_touch_input() -> None:
    frame = ten_customers()
    before = frame.copy()
    out = rfm_segments(frame)
    pd.testing.assert_frame_equal(frame, before)
    pd.testing.assert_frame_equal(out[frame.columns], frame)


def test_fm_score_is_mean_of_f_and_m_rounded_half_up() -> None:
    frame = pd.DataFrame(
        {
            "recency_days": [1, 2, 3, 4, 5],
            "n_orders": [1, 2, 3, 4, 5],  # F = 1..5
            "monetary_total": [2.0, 3.0, 1.0, 5.0, 4.0],  # M = 2, 3, 1, 5, 4
        }
    )
    out = rfm_segments(frame)
    assert out["fm_score"].tolist() == [2, 3, 2, 5, 5]  # (1+2)/2=1.5->2, 2.5->3, 2, 4.5->5, 4.5->5


def test_tied_values_share_the_score_of_their_lowest_rank() -> None:
    frame = ten_customers().assign(n_orders=[1, 1, 1, 1, 1, 1, 2, 3, 4, 5])
    out = rfm_segments(frame)
    # six customers tie at rank 1 -> score 1; ranks 7..10 -> 5*6//10+1=4, 4, 5, 5
    assert out["f_score"].tolist() == [1, 1, 1, 1, 1, 1, 4, 4, 5, 5]


def test_scores_do_not_depend_on_row_order() -> None:
    frame = ten_customers().assign(n_orders=[3, 1, 3, 2, 3, 1, 5, 5, 2, 1])
    direct = rfm_segments(frame).set_index("customer_id")
    shuffled = rfm_segments(frame.sample(frac=1, random_state=3)).set_index("customer_id")
    pd.testing.assert_frame_equal(direct, shuffled.loc[direct.index])


def test_default_table_gives_every_r_fm_pair_exactly_one_named_segment() -> None:
    hits = np.zeros((5, 5), dtype=int)
    for rule in DEFAULT_SEGMENT_TABLE.segments:
        for r in rule.r:
            for fm in rule.fm:
                hits[r - 1, fm - 1] += 1
    assert (hits == 1).all()
    assert len(DEFAULT_SEGMENT_TABLE.segments) == 11
    assert DEFAULT_SEGMENT_TABLE.grid()[4].tolist() == [
        "New",
        "Potential Loyalist",
        "Potential Loyalist",
        "Champions",
        "Champions",
    ]


def test_first_matching_rule_wins_and_unmatched_get_the_default() -> None:
    table = SegmentTable.model_validate(
        {
            "segments": [
                {"name": "Top", "r": "4-5", "fm": 5},
                {"name": "Recent", "r": [5], "fm": "1-5"},
            ],
            "default": "Rest",
        }
    )
    out = rfm_segments(ten_customers(), table=table)
    # customer 0: R5 FM5 matches both rules -> the first; customer 1: R5 FM1 -> Recent
    assert out["segment"].tolist()[:4] == ["Top", "Recent", "Rest", "Rest"]


def test_custom_column_names() -> None:
    frame = ten_customers().rename(
        columns={"recency_days": "days", "n_orders": "orders", "monetary_total": "spend"}
    )
    out = rfm_segments(frame, recency="days", frequency="orders", monetary="spend")
    assert out["segment"].iloc[0] == "Champions"


def test_missing_or_bad_columns_are_data_errors() -> None:
    with pytest.raises(DataError, match="column 'n_orders' is missing"):
        rfm_segments(ten_customers().drop(columns="n_orders"))
    with pytest.raises(DataError, match=r"column 'recency_days' has 1 missing values \[2\]"):
        rfm_segments(ten_customers().assign(recency_days=[0, 1, None, 3, 4, 5, 6, 7, 8, 9]))
    with pytest.raises(DataError, match="column 'monetary_total' must be numeric"):
        rfm_segments(ten_customers().assign(monetary_total="x"))


def test_shipped_segments_yaml_is_the_default_table() -> None:
    assert load_segment_table(REPO / "configs" / "segments.yaml") == DEFAULT_SEGMENT_TABLE


def test_load_segment_table_names_the_entry_and_key(tmp_path: Path) -> None:
    path = tmp_path / "segments.yaml"
    path.write_text(
        "segments:\n"
        "  - {name: Best, r: 5, fm: [4, 5]}\n"
        "  - {name: New, r: 5, fm: 1, colour: green}\n"
        "  - {name: Odd, r: 6, fm: 1}\n"
    )
    with pytest.raises(ConfigError) as info:
        load_segment_table(path)
    message = str(info.value)
    assert "segments[1] ('New').colour: unknown key 'colour' (allowed keys: name, r, fm)" in message
    assert "segments[2] ('Odd').r[0]: Input should be less than or equal to 5 (got 6)" in message


def test_load_segment_table_reads_ranges_and_rejects_bad_files(tmp_path: Path) -> None:
    path = tmp_path / "segments.yaml"
    path.write_text("segments:\n  - {name: All, r: '1-5', fm: '1-5'}\ndefault: none\n")
    table = load_segment_table(path)
    assert table.segments[0].r == (1, 2, 3, 4, 5)
    assert (table.grid() == "All").all()
    with pytest.raises(ConfigError, match="does not exist"):
        load_segment_table(tmp_path / "missing.yaml")
    path.write_text("segments: [unclosed\n")
    with pytest.raises(ConfigError, match="is not valid YAML"):
        load_segment_table(path)
    path.write_text("segments:\n  - {name: A, r: 1, fm: 1}\n  - {name: A, r: 2, fm: 2}\n")
    with pytest.raises(ConfigError, match="segment names must be unique, repeated: A"):
        load_segment_table(path)


def test_assign_tiers_by_value_puts_a_cut_in_the_higher_tier() -> None:
    tiers = assign_tiers(pd.Series([0.1, 0.3, 0.59, 0.6, 0.9], index=list("abcde")))
    assert tiers.tolist() == ["low", "medium", "medium", "high", "high"]
    assert tiers.index.tolist() == list("abcde")


def test_assign_tiers_by_quantile() -> None:
    # quantiles of 1..10 at 0.5 and 0.8 are 5.5 and 8.2
    tiers = assign_tiers(np.arange(1, 11), cuts=(0.5, 0.8), by="quantile")
    assert tiers.tolist() == ["low"] * 5 + ["medium"] * 3 + ["high"] * 2


def test_assign_tiers_custom_labels_and_errors() -> None:
    assert assign_tiers([5, 50], cuts=(10,), labels=("small", "big")).tolist() == ["small", "big"]
    with pytest.raises(ConfigError, match="2 cuts need 3 labels"):
        assign_tiers([1.0], labels=("a", "b"))
    with pytest.raises(ConfigError, match="strictly increasing"):
        assign_tiers([1.0], cuts=(0.6, 0.3))
    with pytest.raises(ConfigError, match=r"quantile cuts must lie in \(0, 1\)"):
        assign_tiers([1.0], cuts=(0.5, 1.0), by="quantile")
    with pytest.raises(DataError, match="1 missing values in p_churn"):
        assign_tiers(pd.Series([0.1, None], name="p_churn"))


def test_at_risk_segments_lists_high_risk_or_at_risk_segments_by_value_at_risk() -> None:
    scored = pd.DataFrame(
        {
            "customer_id": [1, 2, 3, 4, 5],
            "p_churn": [0.9, 0.2, 0.5, 0.8, 0.7],
            "expected_value": [10.0, 100.0, 40.0, 25.0, 10.0],
            "risk_tier": ["high", "low", "medium", "high", "high"],
            "segment": ["Lost", "At Risk", "Loyal", "Hibernating", "New"],
        }
    )
    out = at_risk_segments(scored)
    # value if retained = expected value / (1 - p_churn): 1 -> 100, 2 -> 125, 4 -> 125, 5 -> 33.3
    # value at risk = p_churn x that: 1 -> 90, 2 -> 25 (At Risk segment), 4 -> 100, 5 -> 23.3;
    # 3 is neither
    assert out["customer_id"].tolist() == [4, 1, 2, 5]
    assert out["value_at_risk"].tolist() == pytest.approx([100.0, 90.0, 25.0, 70 / 3])
    assert out["value_if_retained"].tolist() == pytest.approx([125.0, 100.0, 125.0, 100 / 3])
    assert at_risk_segments(scored, segments=None)["customer_id"].tolist() == [4, 1, 5]
    with pytest.raises(DataError, match=r"lacks \['risk_tier'\]"):
        at_risk_segments(scored.drop(columns="risk_tier"))
