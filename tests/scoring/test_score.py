"""Batch scoring on a model trained on simulated data: reconciliation, chunking, reasons,
determinism, drift and the output files."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest

from simulated import side_tables
from winback.exceptions import ConfigError, DataError, DriftWarning
from winback.monitoring import feature_profile
from winback.scoring import SCORE_COLUMNS, ScoringConfig, score, score_files
from winback.scoring._files import output_paths


def _first_orders(orders: pd.DataFrame) -> pd.Series:
    return orders.groupby("customer_id")["order_ts"].min()


@pytest.fixture
def tables(frames) -> dict[str, pd.DataFrame]:
    """The events and customers the model was trained with (it refuses to score without)."""
    return {"events": frames["events"], "customers": frames["customers"]}


def test_scores_every_customer_with_an_order_by_as_of(model, frames, tables, as_of):
    result = score(model, frames["orders"], as_of=as_of, **tables)
    first = _first_orders(frames["orders"])
    expected = first.index[first < pd.Timestamp(as_of) + pd.Timedelta(days=1)]
    assert result.scores["customer_id"].tolist() == sorted(expected.tolist())
    assert list(result.scores.columns) == list(SCORE_COLUMNS)
    assert result.scores["p_churn"].between(0, 1).all()
    assert set(result.scores["risk_tier"]) <= {"low", "medium", "high"}
    assert (result.scores["model"] == "sim").all()
    assert (result.scores["as_of"] == as_of).all()
    # default: no margin, the value is the expected spend over the churn horizon
    np.testing.assert_array_equal(result.scores["expected_value"], result.scores["expected_spend"])


def test_risk_tiers_follow_the_configured_cut_points_and_margin_scales_value(
    model, frames, tables, as_of
):
    config = ScoringConfig(risk_cuts=(0.2, 0.9), margin=0.25)
    scores = score(model, frames["orders"], as_of=as_of, config=config, **tables).scores
    p = scores["p_churn"]
    expected = np.where(p >= 0.9, "high", np.where(p >= 0.2, "medium", "low"))
    assert scores["risk_tier"].tolist() == expected.tolist()
    np.testing.assert_allclose(scores["expected_value"], 0.25 * scores["expected_spend"])


def test_customers_only_ordering_after_as_of_are_rejected_and_everyone_reconciles(
    model, frames, as_of
):
    orders = frames["orders"]
    customers = pd.concat(
        [frames["customers"], frames["customers"].iloc[:1].assign(customer_id=900_001)],
        ignore_index=True,
    )
    result = score(model, orders, as_of=as_of, customers=customers, events=frames["events"])
    first = _first_orders(orders)
    later = first.index[first >= pd.Timestamp(as_of) + pd.Timedelta(days=1)]
    assert len(later) > 0
    rejects = result.rejects.set_index("customer_id")["reason"]
    assert (rejects.loc[later] == "no order at or before as-of").all()
    assert rejects.loc[900_001] == "in the customers table but has no orders"
    counts = result.summary["customers"]
    assert counts["input"] == orders["customer_id"].nunique() + 1
    assert counts["input"] == counts["scored"] + counts["rejected"]
    assert counts["rejected"] == len(later) + 1


def test_score_files_lists_rows_rejected_by_the_data_gate(model, frames, as_of, tmp_path):
    orders = frames["orders"][["customer_id", "order_ts", "amount"]].copy()
    orders["order_ts"] = orders["order_ts"].dt.strftime("%Y-%m-%d %H:%M:%S")
    bad = pd.DataFrame(
        {
            "customer_id": ["900002", "", "1"],
            "order_ts": ["not a date", "2023-01-05", "2023-01-06"],
            "amount": ["10.0", "5.0", "7.5"],
        }
    )
    path = tmp_path / "orders.csv"
    pd.concat([orders.astype("str"), bad], ignore_index=True).to_csv(path, index=False)
    out = tmp_path / "out" / "scores.csv"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the gate's RejectedRowsWarning
        result = score_files(
            model,
            path,
            out=out,
            as_of=as_of,
            **side_tables(frames),
        )
    rejects = pd.read_csv(output_paths(out)["rejects"])
    reason = rejects.set_index("customer_id")["reason"]
    assert reason.loc[900_002].startswith("every order row rejected by the data gate (")
    assert "order_ts" in reason.loc[900_002]
    summary = json.loads(output_paths(out)["summary"].read_text())
    assert summary["data_gate"]["orders"]["rows_rejected"] == 2
    assert summary["data_gate"]["orders"]["rows_without_customer_id"] == 1
    counts = summary["customers"]
    assert counts["input"] == frames["orders"]["customer_id"].nunique() + 1
    assert counts["input"] == counts["scored"] + counts["rejected"]
    assert len(pd.read_csv(out)) == counts["scored"] == len(result.scores)


def test_chunked_scoring_equals_unchunked(model, frames, as_of):
    kwargs = {"as_of": as_of, "events": frames["events"], "customers": frames["customers"]}
    whole = score(model, frames["orders"], **kwargs, config=ScoringConfig(chunk_size=10**6))
    chunked = score(model, frames["orders"], **kwargs, config=ScoringConfig(chunk_size=97))
    assert len(whole.scores) > 5 * 97
    pd.testing.assert_frame_equal(whole.scores, chunked.scores)
    pd.testing.assert_frame_equal(whole.rejects, chunked.rejects)
    assert whole.summary == chunked.summary


def test_reasons_point_in_the_direction_of_churn(model, frames, as_of):
    kwargs = {"as_of": as_of, "events": frames["events"], "customers": frames["customers"]}
    scores = score(model, frames["orders"], **kwargs).scores.set_index("customer_id")
    features = model.build_features(
        frames["orders"], cutoff=as_of, events=frames["events"], customers=frames["customers"]
    )
    recency = features["days_since_last_order"]
    usual = features["gap_mean_days"]
    lapsed = scores.index[(recency > 300) & (usual < 60)]
    recent = scores.index[recency <= 7]
    assert len(lapsed) >= 10 and len(recent) >= 10
    says_lapsed = scores.loc[lapsed, "reasons"].str.contains(
        "No order for|chance still active|chance of an order", regex=True
    )
    assert says_lapsed.mean() >= 0.9
    # a customer who bought last week is told "no order for N days" only when that is longer
    # than their usual gap between orders
    told = scores.loc[recent, "reasons"].str.contains("No order for")
    overdue = (recency > usual).loc[recent]
    assert told.sum() < len(recent)
    assert not (told & ~overdue).any()
    # each reason names a driver once, at most three
    parts = scores["reasons"].str.split(" | ", regex=False)
    assert parts.map(len).max() <= 3


def test_output_files_are_byte_identical_across_runs(model, trained, as_of, tmp_path):
    _, paths = trained
    outputs = []
    for run in ("a", "b"):
        out = tmp_path / run / "scores.parquet"
        score_files(
            model,
            paths["orders"],
            out=out,
            as_of=as_of,
            **side_tables(paths),
            actions="configs/actions.yaml",
            config=ScoringConfig(chunk_size=300),
        )
        outputs.append({k: p.read_bytes() for k, p in output_paths(out).items()})
    assert outputs[0] == outputs[1]


def test_drift_is_reported_only_when_the_model_has_a_profile(model, frames, tables, as_of):
    summary = score(model, frames["orders"], as_of=as_of, **tables).summary
    assert summary["drift"]["computed"] is True
    model.metadata.pop("feature_profile")  # a bundle trained before profiles were recorded
    summary = score(model, frames["orders"], as_of=as_of, **tables).summary
    assert summary["drift"]["computed"] is False
    assert "feature_profile" in summary["drift"]["reason"]


def test_shifted_population_raises_a_drift_warning_naming_the_features(
    model, frames, tables, as_of
):
    reference = model.build_features(frames["orders"], cutoff=as_of, **tables)
    model.metadata["feature_profile"] = feature_profile(reference, model.feature_names)
    with warnings.catch_warnings():
        warnings.simplefilter("error", DriftWarning)
        same = score(model, frames["orders"], as_of=as_of, **tables).summary["drift"]
    assert same["computed"] and same["drifted"] == []
    assert max(same["psi"].values()) < 0.01
    richer = frames["orders"].assign(amount=frames["orders"]["amount"] * 10)
    with pytest.warns(DriftWarning, match="monetary_total") as caught:
        shifted = score(model, richer, as_of=as_of, **tables).summary["drift"]
    assert "monetary_total" in shifted["drifted"]
    assert "days_since_last_order" not in shifted["drifted"]
    assert shifted["psi"]["monetary_total"] > 0.25
    assert "PSI" in str(caught[0].message)


def test_actions_add_the_allocation_columns(model, frames, tables, as_of):
    result = score(model, frames["orders"], as_of=as_of, actions="configs/actions.yaml", **tables)
    scores = result.scores
    assert {"action", "offer", "expected_gain", "group"} <= set(scores.columns)
    assert set(scores["group"]) <= {"treatment", "control", "none"}
    assert (scores.loc[scores["action"] == "no_action", "group"] == "none").all()
    assert result.summary["actions"]["campaign_id"] == "winback-2024-q1"


def test_an_as_of_before_every_order_is_an_error_naming_the_span(model, frames, tables):
    with pytest.raises(
        DataError, match=r"No customer has a purchase at or before as-of 2020-01-01: the orders run"
    ):
        score(model, frames["orders"], as_of="2020-01-01", **tables)


@pytest.mark.parametrize("as_of", ["2023-06-30 12:00", "yesterday"])
def test_as_of_must_be_a_calendar_date(model, frames, tables, as_of):
    with pytest.raises(ConfigError, match="as_of must be a calendar date"):
        score(model, frames["orders"], as_of=as_of, **tables)


def test_output_paths_sit_beside_the_scores(tmp_path):
    paths = output_paths(tmp_path / "scores.parquet")
    assert paths["rejects"] == tmp_path / "scores.rejects.csv"
    assert paths["summary"] == tmp_path / "scores.summary.json"
    with pytest.raises(ConfigError, match=r"expected a file name ending in \.parquet or \.csv"):
        output_paths(tmp_path / "scores.xlsx")
