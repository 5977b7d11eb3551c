"""Why an action reached nobody, on hand-made scores whose every number is computed by hand."""

from __future__ import annotations

import pandas as pd

from winback.actions import allocate_actions, empty_action_reasons, parse_actions_config

SCORES = pd.DataFrame(
    {
        "customer_id": [1, 2, 3, 4],
        "p_churn": [0.5, 0.8, 0.2, 0.9],
        "expected_value": [10.0, 20.0, 30.0, 40.0],
        "segment": ["Lost", "Lost", "Champions", "Lost"],
        "uplift_call": [0.1, -0.2, 0.05, 0.02],
    }
)


def _action(name: str, cost: float, uplift: float | str, when: dict) -> dict:
    return {
        "name": name,
        "channel": "email",
        "offer": "o",
        "unit_cost": cost,
        "uplift": uplift,
        "when": when,
    }


def _reasons(*actions: dict, budget: float = 1000.0) -> dict[str, str]:
    config = parse_actions_config({"campaign_id": "c", "budget": budget, "actions": actions})
    return empty_action_reasons(allocate_actions(SCORES, config), config)


LOST = {"field": "segment", "op": "==", "value": "Lost"}
EVERYONE = {"field": "p_churn", "op": ">=", "value": 0}


def test_a_rule_nobody_matches_is_counted_part_by_part() -> None:
    rule = {"all": [LOST, {"field": "p_churn", "op": ">", "value": 0.95}]}
    reasons = _reasons(_action("a", 1.0, 0.1, rule))
    assert reasons == {
        "a": "no customer matched its rule (customers with segment == Lost: 3; p_churn > 0.95: 0;"
        " none matches all of them)"
    }


def test_a_gain_never_positive_shows_the_largest_return_against_the_cost() -> None:
    # eligible: customers 1, 2, 4; p_churn x 0.1 x value = 0.5, 1.6, 3.6 -> at most 3.60 < 5
    reasons = _reasons(_action("a", 5.0, 0.1, LOST))
    assert reasons == {
        "a": "expected gain not positive for all 3 eligible: unit_cost 5.00 > p_churn × uplift ×"
        " expected_value, which is at most 3.60"
    }


def test_an_uplift_model_action_names_its_column() -> None:
    # uplift_call x value = 1.0, -4.0, 1.5, 0.8 -> at most 1.50 < 2
    assert _reasons(_action("call", 2.0, "model", EVERYONE)) == {
        "call": "expected gain not positive for all 4 eligible: unit_cost 2.00 > uplift_call ×"
        " expected_value, which is at most 1.50"
    }


def test_outbid_and_out_of_budget_are_told_apart() -> None:
    rich = _action("rich", 3.0, 0.5, EVERYONE)  # gains -0.5, 5, 0, 15: positive for 2 and 4
    poor = _action("poor", 1.0, 0.1, EVERYONE)  # gains -0.5, 0.6, -0.4, 2.6: positive for 2, 4
    # budget 7: rich takes 4 (15) and 2 (5), whose gains from rich are higher than from poor
    assert _reasons(rich, poor, budget=7.0) == {
        "poor": "of the 2 eligible with a positive expected gain, 2 got an action with a higher"
        " expected gain"
    }
    # budget 2: rich (3) never fits; poor takes 4 and 2, which would have gained more from rich
    assert _reasons(rich, poor, budget=2.0) == {
        "rich": "of the 2 eligible with a positive expected gain, budget exhausted for 2: 0.00"
        " left < unit_cost 3.00"
    }
