"""Allocation by per-customer uplift (``uplift: model``) and the sleeping-dog exclusion."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from campaign_testing import ACTIONS

from winback.actions import allocate_actions, parse_actions_config
from winback.exceptions import ConfigError, DataError


def scored(n: int = 200) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {
            "customer_id": np.arange(n),
            "p_churn": rng.random(n),
            "expected_value": rng.gamma(2.0, 50.0, n),
            "risk_tier": rng.choice(["low", "medium", "high"], n),
            "value_tier": rng.choice(["low", "medium", "high"], n),
        }
    )


def model_config(budget: float = 1_000_000.0):
    raw = {**ACTIONS, "budget": budget}
    raw["actions"] = [dict(a, uplift="model") for a in ACTIONS["actions"]]
    return parse_actions_config(raw)


def test_a_model_column_equal_to_p_churn_times_uplift_reproduces_the_constant_allocation() -> None:
    frame = scored()
    constant = parse_actions_config({**ACTIONS, "budget": 300.0})
    columns = {f"uplift_{a.name}": frame["p_churn"] * a.uplift for a in constant.actions}
    by_model = allocate_actions(frame.assign(**columns), model_config(300.0))
    expected = allocate_actions(frame, constant)
    pd.testing.assert_frame_equal(by_model.drop(columns=list(columns)), expected)


def test_sleeping_dogs_are_left_alone() -> None:
    frame = scored()
    uplift = np.where(frame["customer_id"] % 2 == 0, -0.2, 0.3)  # even ids: contact hurts
    out = allocate_actions(frame.assign(uplift_discount=uplift, uplift_vip=uplift), model_config())
    dogs = out.loc[uplift < 0]
    assert (dogs["action"] == "no_action").all() and (dogs["group"] == "none").all()
    helped = out.loc[(uplift > 0) & frame["risk_tier"].isin(["medium", "high"]).to_numpy()]
    assert (helped["action"] != "no_action").all()


def test_gain_is_predicted_uplift_times_value_if_retained_minus_cost() -> None:
    frame = scored().assign(uplift_discount=0.1, uplift_vip=0.0)
    out = allocate_actions(frame, model_config())
    chosen = out.loc[out["action"] == "discount"]
    retained = chosen["expected_value"] / np.maximum(1 - chosen["p_churn"], 0.05)
    assert len(chosen) > 0
    assert np.allclose(chosen["expected_gain"], 0.1 * retained - 2.0)


def test_a_missing_or_broken_uplift_column_is_a_clear_error() -> None:
    with pytest.raises(
        DataError, match=r"has uplift: model but the scored frame has no 'uplift_vip'"
    ):
        allocate_actions(scored().assign(uplift_discount=0.1), model_config())
    with pytest.raises(DataError, match="uplift_vip must be a finite number; 200 rows"):
        allocate_actions(scored().assign(uplift_discount=0.1, uplift_vip=np.nan), model_config())


def test_uplift_must_be_a_share_or_the_word_model() -> None:
    raw = {**ACTIONS, "actions": [dict(ACTIONS["actions"][0], uplift="modle")]}
    with pytest.raises(ConfigError, match=r"uplift must be a number in \[0, 1\] .* or 'model'"):
        parse_actions_config(raw)
