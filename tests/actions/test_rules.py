"""Eligibility rules: each operator, missing values, nesting, and errors at apply time."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from pydantic import TypeAdapter

from winback.actions import parse_actions_config, rule_fields
from winback.actions._config import Condition, Rule
from winback.actions._rules import eligibility, evaluate_rule
from winback.exceptions import ConfigError

RULE = TypeAdapter(Rule)


def frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "p_churn": [0.1, 0.5, 0.9, np.nan],
            "risk_tier": pd.Series(["low", "medium", "high", None], dtype="str"),
            "opted": [True, False, True, False],
            "n_orders": [1, 2, 3, 4],
        }
    )


@pytest.mark.parametrize(
    ("op", "value", "expected"),
    [
        ("<", 0.5, [True, False, False, False]),
        ("<=", 0.5, [True, True, False, False]),
        (">", 0.5, [False, False, True, False]),
        (">=", 0.5, [False, True, True, False]),
        ("==", 0.5, [False, True, False, False]),
        ("!=", 0.5, [True, False, True, False]),  # NaN never satisfies, not even !=
        ("in", [0.1, 0.9], [True, False, True, False]),
        ("not in", [0.1], [False, True, True, False]),
    ],
)
def test_each_operator_on_a_column_with_a_missing_value(
    op: str, value: Any, expected: list[bool]
) -> None:
    rule = Condition(field="p_churn", op=op, value=value)
    assert evaluate_rule(rule, frame()).tolist() == expected


def test_text_and_boolean_columns() -> None:
    tiers = Condition(field="risk_tier", op="not in", value=["low"])
    assert evaluate_rule(tiers, frame()).tolist() == [False, True, True, False]
    opted = Condition(field="opted", op="==", value=True)
    assert evaluate_rule(opted, frame()).tolist() == [True, False, True, False]


def test_nested_all_and_any() -> None:
    rule = RULE.validate_python(
        {
            "any": [
                {"field": "n_orders", "op": "==", "value": 4},
                {
                    "all": [
                        {"field": "p_churn", "op": ">", "value": 0.2},
                        {"field": "risk_tier", "op": "!=", "value": "high"},
                    ]
                },
            ]
        }
    )
    assert evaluate_rule(rule, frame()).tolist() == [False, True, False, True]


def config_with(*conditions: dict[str, Any]) -> Any:
    actions = [
        {
            "name": f"a{i}",
            "channel": "email",
            "offer": "o",
            "unit_cost": 1.0,
            "uplift": 0.1,
            "when": condition,
        }
        for i, condition in enumerate(conditions)
    ]
    return parse_actions_config({"campaign_id": "c", "budget": 10.0, "actions": actions})


def test_eligibility_matrix_has_one_column_per_action() -> None:
    config = config_with(
        {"field": "n_orders", "op": ">=", "value": 3},
        {"field": "risk_tier", "op": "==", "value": "low"},
    )
    assert eligibility(frame(), config).tolist() == [
        [False, True],
        [False, False],
        [True, False],
        [True, False],
    ]


def test_unknown_field_names_action_field_and_available_columns() -> None:
    config = config_with(
        {"field": "p_churn", "op": ">", "value": 0.1},
        {"all": [{"field": "riks_tier", "op": "==", "value": "high"}]},
    )
    with pytest.raises(ConfigError) as info:
        eligibility(frame(), config)
    message = str(info.value)
    assert "actions[1] 'a1': condition field 'riks_tier' is not a column of the scored frame" in (
        message
    )
    assert "Available columns: p_churn, risk_tier, opted, n_orders." in message


def test_field_is_a_column_name_never_code() -> None:
    config = config_with({"field": "__import__('os').getcwd()", "op": "==", "value": 1})
    with pytest.raises(ConfigError, match="is not a column of the scored frame"):
        eligibility(frame(), config)


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        (
            {"field": "risk_tier", "op": "==", "value": 2},
            "compares a number value with a text column",
        ),
        (
            {"field": "n_orders", "op": "in", "value": ["1", "2"]},
            "compares a text value with a number column",
        ),
        ({"field": "risk_tier", "op": ">", "value": 1}, "orders a text column"),
        ({"field": "opted", "op": "==", "value": "yes"}, "compares a text value with a boolean"),
    ],
)
def test_value_of_the_wrong_kind_for_the_column(condition: dict[str, Any], expected: str) -> None:
    with pytest.raises(ConfigError, match="actions\\[0\\] 'a0': condition") as info:
        eligibility(frame(), config_with(condition))
    assert expected in str(info.value)


def test_object_column_of_booleans_counts_as_boolean() -> None:
    data = pd.DataFrame({"flag": pd.Series([True, None, False], dtype=object)})
    config = config_with({"field": "flag", "op": "==", "value": True})
    assert eligibility(data, config)[:, 0].tolist() == [True, False, False]


def test_rule_fields_lists_every_column_the_conditions_read() -> None:
    config = config_with(
        {"field": "p_churn", "op": ">", "value": 0.1},
        {
            "all": [
                {"field": "risk_tier", "op": "==", "value": "x"},
                {"any": [{"field": "n_orders", "op": "<", "value": 2}]},
            ]
        },
    )
    assert rule_fields(config) == ("n_orders", "p_churn", "risk_tier")
