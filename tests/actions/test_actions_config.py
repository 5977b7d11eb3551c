"""The campaign config: the shipped file, and errors that name the action and the key."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from winback.actions import ActionsConfig, load_actions_config, parse_actions_config
from winback.actions._config import AllOf, AnyOf, Condition
from winback.exceptions import ConfigError

REPO = Path(__file__).resolve().parents[2]
SHIPPED = REPO / "configs" / "actions.yaml"


def minimal() -> dict[str, Any]:
    return {
        "campaign_id": "c1",
        "budget": 100.0,
        "actions": [
            {
                "name": "perk",
                "channel": "mail",
                "offer": "gift",
                "unit_cost": 5.0,
                "uplift": 0.2,
                "when": {"field": "p_churn", "op": ">=", "value": 0.5},
            },
            {
                "name": "discount",
                "channel": "email",
                "offer": "10% off",
                "unit_cost": 1,
                "uplift": 0.1,
                "max_customers": 10,
                "when": {
                    "all": [
                        {"field": "risk_tier", "op": "in", "value": ["medium", "high"]},
                        {"any": [{"field": "segment", "op": "==", "value": "Lost"}]},
                    ]
                },
            },
        ],
    }


def error_of(raw: dict[str, Any]) -> str:
    with pytest.raises(ConfigError) as info:
        parse_actions_config(raw, source="test.yaml")
    assert isinstance(info.value.__cause__, ValidationError)
    return str(info.value)


def test_shipped_config_is_the_retention_playbook() -> None:
    config = load_actions_config(SHIPPED)
    assert config.control_fraction == 0.1
    assert config.default_action == "no_action"
    assert [a.name for a in config.actions] == [
        "vip_surprise_perk",
        "discount_15",
        "winback_email",
        "vip_invitation",
        "first_order_thanks",
    ]
    perk = config.actions[0]
    assert (perk.channel, perk.unit_cost, perk.max_customers) == ("mail", 12.0, 200)
    assert perk.when == AllOf(
        all=(
            Condition(field="value_tier", op="==", value="high"),
            Condition(field="risk_tier", op="in", value=("medium", "high")),
        )
    )


def test_minimal_config_defaults_and_nested_rules() -> None:
    config = parse_actions_config(minimal())
    assert isinstance(config, ActionsConfig)
    assert (config.control_fraction, config.default_action) == (0.1, "no_action")
    assert config.actions[0].max_customers is None
    assert config.actions[1].unit_cost == 1.0
    rule = config.actions[1].when
    assert isinstance(rule, AllOf) and isinstance(rule.all[1], AnyOf)


def test_bad_operator_names_action_and_allowed_operators() -> None:
    raw = minimal()
    raw["actions"][1]["when"]["all"][0]["op"] = "like"
    assert (
        "actions[1] ('discount').when.all[0].op: must be one of "
        "'<', '<=', '>', '>=', '==', '!=', 'in' or 'not in' (got 'like')"
    ) in error_of(raw)


def test_bad_operator_deep_in_nested_groups_gives_the_path() -> None:
    raw = minimal()
    raw["actions"][1]["when"]["all"][1]["any"][0]["op"] = "~"
    assert "actions[1] ('discount').when.all[1].any[0].op: must be one of" in error_of(raw)
    assert "(got '~')" in error_of(raw)


def test_unknown_key_names_action_key_and_allowed_keys() -> None:
    raw = minimal()
    raw["actions"][0]["colour"] = "red"
    assert (
        "actions[0] ('perk').colour: unknown key 'colour' (allowed keys: name, channel, offer, "
        "unit_cost, uplift, max_customers, when, uplift_source)"
    ) in error_of(raw)


def test_unknown_key_in_a_condition_and_at_top_level() -> None:
    raw = minimal()
    raw["actions"][0]["when"]["column"] = "x"
    raw["budjet"] = 5
    message = error_of(raw)
    assert (
        "actions[0] ('perk').when.column: unknown key 'column' (allowed keys: field, op, value)"
    ) in message
    assert "; budjet: unknown key 'budjet' (allowed keys: campaign_id, budget," in message
    assert "did you mean 'budget'?" in message


def test_wrong_types_and_missing_keys_are_all_reported() -> None:
    raw = minimal()
    raw["actions"][0]["unit_cost"] = "cheap"
    raw["actions"][0]["uplift"] = True
    del raw["actions"][1]["offer"]
    raw["actions"][1]["channel"] = "fax"
    message = error_of(raw)
    assert "actions[0] ('perk').unit_cost: Input should be a valid number (got 'cheap')" in (
        message
    )
    assert (
        "actions[0] ('perk').uplift: uplift must be a number in [0, 1] (the share of would-be "
        "churners the action keeps) or 'model' (per-customer uplift from an uplift model), got True"
    ) in message
    assert "actions[1] ('discount').offer: required key is missing" in message
    assert (
        "actions[1] ('discount').channel: must be one of 'email', 'sms', 'mail' or 'call' "
        "(got 'fax')"
    ) in message


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"budget": 0}, "config: budget: Input should be greater than 0 (got 0)"),
        ({"control_fraction": 1.0}, "control_fraction: Input should be less than 1 (got 1.0)"),
        ({"campaign_id": "spring sale"}, "campaign_id: String should match pattern"),
        ({"default_action": "perk"}, "default_action 'perk' is also the name of an action"),
        ({"actions": []}, "actions: Tuple should have at least 1 item"),
    ],
)
def test_top_level_values_are_checked(change: dict[str, Any], expected: str) -> None:
    assert expected in error_of({**minimal(), **change})


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ({"field": "x", "op": "in", "value": 3}, "condition op 'in' needs a list value, got 3"),
        ({"field": "x", "op": "==", "value": [1, 2]}, "needs a single value, got the list [1, 2]"),
        ({"field": "x", "op": "<", "value": "high"}, "condition op '<' needs a number"),
        ({"field": "x", "op": "in", "value": []}, "non-empty list"),
        ({"field": "x", "op": "==", "value": {"a": 1}}, "condition value must be a number"),
        ({"all": []}, "when.all: Tuple should have at least 1 item"),
        ("p_churn > 0.5", "when: expected a condition {field, op, value} or a group {all: [...]}"),
        ({"any": [1]}, "when.any[0]: expected a condition {field, op, value} or a group"),
    ],
)
def test_condition_values_must_fit_the_operator(condition: dict[str, Any], expected: str) -> None:
    raw = minimal()
    raw["actions"][0]["when"] = condition
    message = error_of(raw)
    assert "actions[0] ('perk')" in message
    assert expected in message


def test_duplicate_action_names() -> None:
    raw = minimal()
    raw["actions"][1]["name"] = "perk"
    assert "action names must be unique, repeated: perk" in error_of(raw)


def test_loader_errors_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_actions_config(tmp_path / "nope.yaml")
    path = tmp_path / "actions.yaml"
    path.write_text("campaign_id: [unclosed\n")
    with pytest.raises(ConfigError, match="is not valid YAML"):
        load_actions_config(path)
    path.write_text("- just\n- a list\n")
    with pytest.raises(ConfigError, match="expected a mapping of keys at the top level"):
        load_actions_config(path)
    raw = copy.deepcopy(minimal())
    raw["actions"][0]["op"] = "x"
    path.write_text(yaml.safe_dump(raw))
    with pytest.raises(ConfigError, match=f"{path}: invalid actions config"):
        load_actions_config(path)


def test_yaml_reads_1e13_as_text_and_the_config_takes_it_as_a_number(tmp_path: Path) -> None:
    raw = minimal()
    path = tmp_path / "big.yaml"
    path.write_text(yaml.safe_dump(raw).replace("budget: 100.0", "budget: 1e13"))
    assert yaml.safe_load(path.read_text())["budget"] == "1e13"  # YAML 1.1: no dot, no float
    assert load_actions_config(path).budget == 1e13


@pytest.mark.parametrize("budget", [".inf", "-.inf", ".nan"])
def test_yaml_infinity_and_nan_budgets_are_refused(tmp_path: Path, budget: str) -> None:
    path = tmp_path / "inf.yaml"
    path.write_text(yaml.safe_dump(minimal()).replace("budget: 100.0", f"budget: {budget}"))
    with pytest.raises(ConfigError, match="budget: "):
        load_actions_config(path)


@pytest.mark.parametrize("cost", [".inf", "1e400"])
def test_an_infinite_unit_cost_is_refused(cost: str) -> None:
    raw = minimal()
    raw["actions"][0]["unit_cost"] = float(cost.replace(".inf", "inf"))
    with pytest.raises(ConfigError, match=r"unit_cost: expected a finite number"):
        parse_actions_config(raw)
