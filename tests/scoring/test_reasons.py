"""Churn reasons from per-feature contributions, on hand-made examples."""

from __future__ import annotations

import numpy as np
import pandas as pd

from winback.models import load_model
from winback.scoring import ScoringConfig, churn_reasons, score
from winback.scoring._reasons import NO_DRIVER, feature_family, reason_text


def _features() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "days_since_last_order": [210.0, 3.0],
            "gap_mean_days": [45.0, np.nan],
            "overdue_ratio": [210 / 45, np.nan],
            "spend_last_90d": [40.0, 0.0],
            "spend_trend_90d": [-60.0, 0.0],
            "event_site_visit_days_since_last": [30.0, np.nan],
            "mystery_score": [1.5, 2.0],
        },
        index=pd.Index([10, 11], name="customer_id"),
    )


def test_top_three_families_pushing_toward_churn_in_plain_words():
    features = _features()
    contributions = pd.DataFrame(
        {
            "days_since_last_order": [0.9, -0.5],
            "gap_mean_days": [0.1, 0.0],
            "overdue_ratio": [0.3, 0.0],
            "spend_last_90d": [0.05, 0.0],
            "spend_trend_90d": [0.6, 0.0],
            "event_site_visit_days_since_last": [-0.2, 0.4],
            "mystery_score": [0.2, 0.0],
            "bias": [5.0, 5.0],
        },
        index=features.index,
    )
    reasons = churn_reasons(features, contributions)
    # customer 10: recency 0.9, spend 0.65, gaps 0.4 (mystery 0.2 is 4th; site visit pulls away)
    assert reasons.loc[10] == (
        "No order for 210 days; usually orders every 45 days | "
        "Spend in the last 90 days down 60% on the 90 before | "
        "No order for 210 days, 4.7 times the usual gap"
    )
    # customer 11: only the site-visit family pushes toward churn; its value is missing
    assert reasons.loc[11] == "No site visit on record"


def test_without_a_driver_the_reason_states_the_ordering():
    features = _features()
    contributions = pd.DataFrame(-0.1, index=features.index, columns=features.columns)
    assert churn_reasons(features, contributions).tolist() == [
        "No order for 210 days; usually orders every 45 days",
        "Only one purchase day so far, 3 days ago",
    ]
    without_recency = features.drop(columns="days_since_last_order")
    reasons = churn_reasons(without_recency, contributions.drop(columns="days_since_last_order"))
    assert reasons.tolist() == [NO_DRIVER, NO_DRIVER]


def test_unknown_features_fall_back_to_definition_and_value():
    features = _features()
    assert reason_text(features, "mystery_score").tolist() == [
        "Mystery score: 1.50",
        "Mystery score: 2",
    ]
    text = reason_text(features.assign(n_categories=[4, 1]), "n_categories")
    assert text.tolist() == ["Bought from 4 categories", "Bought from 1 category"]


def test_families_group_features_that_tell_the_same_story():
    assert feature_family("spend_trend_90d") == feature_family("spend_last_30d") == "spend"
    assert feature_family("bgnbd_p_alive") == feature_family("pareto_nbd_p_purchase_90d")
    assert feature_family("event_email_open_last_30d") == "event email_open"
    assert feature_family("something_new") == "something_new"


def test_rates_over_tenure_and_pooled_engagement_read_in_plain_words():
    features = pd.DataFrame(
        {
            "repeat_days_per_30d": [1.5, np.nan],
            "recency_share": [0.6, np.nan],
            "events_all_days_since_last": [12.0, np.nan],
            "events_all_last_30d": [3, 0],
            "events_all_rate_ratio_30d": [0.3, np.nan],
        }
    )
    assert reason_text(features, "repeat_days_per_30d").tolist() == [
        "Comes back to buy 1.5 times a month",
        "First order on the scoring day",
    ]
    assert reason_text(features, "recency_share").tolist() == [
        "No order in the last 60% of their time as a customer",
        "First order on the scoring day",
    ]
    assert reason_text(features, "events_all_days_since_last").tolist() == [
        "No engagement for 12 days",
        "No engagement on record",
    ]
    assert reason_text(features, "events_all_last_30d").tolist() == [
        "3 engagement events in the last 30 days",
        "No engagement in the last 30 days",
    ]
    assert reason_text(features, "events_all_rate_ratio_30d").tolist() == [
        "Engagement in the last 30 days at 0.3x the usual rate",
        "No engagement on record",
    ]
    assert feature_family("events_all_last_90d") == feature_family("events_all_days_since_last")
    assert feature_family("recency_share") == feature_family("days_since_last_order")


def test_trends_read_as_sentences_whatever_the_previous_window_held():
    features = pd.DataFrame(
        {
            "spend_last_30d": [0.0, 45.0, 10.0],
            "spend_trend_30d": [0.0, 45.0, -30.0],
            "orders_last_90d": [0, 2, 1],
            "orders_trend_90d": [0, 2, -3],
        }
    )
    assert reason_text(features, "spend_trend_30d").tolist() == [
        "No spend in the last 60 days",
        "Spend in the last 30 days: 45.00, none in the 30 before",
        "Spend in the last 30 days down 75% on the 30 before",
    ]
    assert reason_text(features, "orders_trend_90d").tolist() == [
        "No orders in the last 180 days",
        "Orders in the last 90 days: 2, none in the 90 before",
        "Orders in the last 90 days down 75% on the 90 before",
    ]
    assert reason_text(features, "spend_last_30d").tolist() == [
        "No spend in the last 30 days",
        "Spent 45.00 in the last 30 days",
        "Spent 10.00 in the last 30 days",
    ]


def test_every_registered_feature_template_has_a_wording():
    from winback.features import COLUMNS
    from winback.scoring._reasons import _WORDINGS

    features = [spec.template for spec in COLUMNS if spec.kind in ("feature", "btyd")]
    assert sorted(set(features) - set(_WORDINGS)) == []
    assert sorted(set(_WORDINGS) - set(features)) == []


def test_scored_reasons_are_those_of_lightgbm_own_treeshap(trained, frames, as_of, monkeypatch):
    """The default reasons (per-pattern TreeSHAP) are word for word those of LightGBM's own
    ``pred_contrib``, for every customer of the simulated base; the scores are untouched."""
    tables = {name: frames[name] for name in ("events", "customers")}
    config = ScoringConfig(chunk_size=300)  # several chunks: the pattern tables carry over

    def scores() -> pd.DataFrame:
        model = load_model(trained[0])
        result = score(model, frames["orders"], as_of=as_of, config=config, **tables)
        return result.scores.set_index("customer_id")

    ours = scores()
    monkeypatch.setattr("winback.models._lgbm.split_trees", lambda booster: None)
    exact = scores()  # every contribution from LightGBM's pred_contrib
    assert (ours["reasons"] != "").all()
    pd.testing.assert_frame_equal(ours, exact)
