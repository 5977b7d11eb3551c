"""Why an action reached nobody, on hand-made scores whose every number is computed by hand.

The scores' value if retained, ``expected_value / (1 - p_churn)``, is 20, 100, 37.5 and 400;
their value at risk, ``p_churn`` times that, 10, 80, 7.5 and 360.
"""

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
    # eligible: customers 1, 2, 4; 0.1 x value at risk = 1, 8, 36 -> at most 36.00 < 40
    reasons = _reasons(_action("a", 40.0, 0.1, LOST))
    assert reasons == {
        "a": "expected gain not positive for all 3 eligible: unit_cost 40.00 > uplift ×"
        " value_at_risk, which is at most 36.00"
    }


def test_an_uplift_model_action_names_its_column() -> None:
    # uplift_call x value if retained = 2, -20, 1.875, 8 -> at most 8.00 < 10
    assert _reasons(_action("call", 10.0, "model", EVERYONE)) == {
        "call": "expected gain not positive for all 4 eligible: unit_cost 10.00 > uplift_call ×"
        " value_if_retained, which is at most 8.00"
    }


def test_outbid_and_out_of_budget_are_told_apart() -> None:
    # 0.5 x value at risk - 30 = -25, 10, -26.25, 150: positive for 2 and 4
    rich = _action("rich", 30.0, 0.5, EVERYONE)
    # 0.1 x value at risk - 5 = -4, 3, -4.25, 31: positive for 2 and 4
    poor = _action("poor", 5.0, 0.1, EVERYONE)
    # budget 70: rich takes 4 (150) and 2 (10), whose gains from rich are higher than from poor
    assert _reasons(rich, poor, budget=70.0) == {
        "poor": "of the 2 eligible with a positive expected gain, 2 got an action with a higher"
        " expected gain"
    }
    # budget 10: rich (30) never fits; poor takes 4 and 2, which would have gained more from rich
    assert _reasons(rich, poor, budget=10.0) == {
        "rich": "of the 2 eligible with a positive expected gain, budget exhausted for 2: 0.00"
        " left < unit_cost 30.00"
    }
