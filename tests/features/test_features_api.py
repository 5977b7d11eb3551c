"""The public namespace, the data dictionary, FeatureConfig and the docstring examples."""

from __future__ import annotations

import pandas as pd
import pytest
from features_testing import make_events, make_orders
from pydantic import ValidationError

from winback.features import (
    FEATURE_DEFINITIONS,
    LABEL_DEFINITIONS,
    FeatureConfig,
    build_training_frame,
    describe_columns,
)


def test_every_column_of_a_full_training_frame_has_a_one_line_definition():
    orders = make_orders(
        [
            (1, "2024-01-01", 5.0, "x", 1.0),
            (1, "2024-02-01", 6.0, "y", 0.0),
            (2, "2024-02-10", 7.0, None, 0.0),
        ],
        columns=("category", "discount"),
    )
    events = make_events([(1, "2024-01-20", "email open", None), (2, "2024-02-01", "nps", 8.0)])
    customers = pd.DataFrame(
        {
            "customer_id": [1, 2],
            "signup_ts": pd.to_datetime(["2023-12-01", None]).astype("M8[ns]"),
            "marketing_opt_in": [True, False],
        }
    )
    frame = build_training_frame(
        orders,
        cutoffs=["2024-02-15"],
        horizons_days=[7, 14],
        events=events,
        customers=customers,
        data_end="2024-03-31",
    )
    definitions = describe_columns(frame.columns)
    assert list(definitions) == list(frame.columns)
    assert all(text and "\n" not in text and "{" not in text for text in definitions.values())
    assert (
        definitions["event_email_open_last_90d"]
        == "Events of type 'email_open' in (cutoff - 90d, cutoff]."
    )
    assert (
        definitions["purchased_within_14d"]
        == "1 if at least one order in (cutoff, cutoff + 14d], else 0."
    )


def test_every_template_is_used_by_some_column():
    names = [
        "orders_last_30d",
        "spend_last_30d",
        "orders_trend_30d",
        "spend_trend_30d",
        "event_nps_last_30d",
        "event_nps_days_since_last",
        "event_nps_last_value",
        "events_all_last_30d",
        "events_all_rate_ratio_30d",
        "purchased_within_30d",
        "spend_within_30d",
    ]
    templates = {t for t in [*FEATURE_DEFINITIONS, *LABEL_DEFINITIONS] if "{" in t}
    assert len(describe_columns(names)) == len(names) == len(templates)


def test_an_unknown_column_has_no_definition():
    with pytest.raises(
        KeyError, match=r"'churn_score' is not a column that winback\.features produces"
    ):
        describe_columns(["churn_score"])


def test_feature_config_defaults_and_validation():
    config = FeatureConfig()
    assert config.windows_days == [30, 90, 180, 365]
    assert config.event_types is None
    assert config.value_event_types == ["nps", "review"]
    assert FeatureConfig(windows_days=[365, 7]).windows_days == [7, 365]
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        FeatureConfig(windows=[30])
    with pytest.raises(ValidationError, match="windows_days must be distinct"):
        FeatureConfig(windows_days=[30, 30])
    with pytest.raises(ValidationError, match="event types must be distinct"):
        FeatureConfig(event_types=["nps", "nps"])
    with pytest.raises(ValidationError, match="at least 1 item"):
        FeatureConfig(windows_days=[])


def test_feature_config_round_trips_through_json():
    config = FeatureConfig(windows_days=[14], event_types=["nps"])
    assert FeatureConfig.model_validate_json(config.model_dump_json()) == config
