"""Feeding a measurement back into the actions file: shrinkage, provenance, safe writing."""

from __future__ import annotations

import pytest
from campaign_testing import ACTIONS

from winback.actions import load_actions_config, parse_actions_config
from winback.campaigns import updated_actions, write_actions_config
from winback.exceptions import ConfigError

Z = 1.959963984540054


def measurement(estimate: float, half_width: float) -> dict:
    row = {
        "label": "discount",
        "n_treatment": 900,
        "n_control": 100,
        "uplift_estimate": {
            "estimate": estimate,
            "ci_low": estimate - half_width,
            "ci_high": estimate + half_width,
        },
    }
    return {
        "campaign_id": "spring",
        "campaign_date": "2024-06-30",
        "window_days": 90,
        "actions": [row],
    }


def test_precise_measurements_replace_the_prior_and_thin_ones_barely_move_it() -> None:
    config = parse_actions_config(ACTIONS)
    precise = updated_actions(config, measurement(0.20, 0.002), prior_sd=0.05).actions[0]
    thin = updated_actions(config, measurement(0.20, 0.5), prior_sd=0.05).actions[0]
    assert precise.uplift == pytest.approx(0.20, abs=1e-3)
    se = 0.5 / Z
    weight = (1 / se**2) / (1 / se**2 + 1 / 0.05**2)
    assert thin.uplift == pytest.approx(weight * 0.20 + (1 - weight) * 0.08, abs=1e-6)
    assert 0.08 < thin.uplift < 0.09
    source = thin.uplift_source
    assert (source.campaign_id, source.n_treatment, source.n_control) == ("spring", 900, 100)
    assert (source.estimate, source.prior, source.weight) == (
        0.20,
        0.08,
        pytest.approx(weight, abs=1e-6),
    )


def test_unmeasured_actions_keep_their_uplift_and_estimates_are_clipped() -> None:
    config = parse_actions_config(ACTIONS)
    new = updated_actions(config, measurement(-0.5, 0.001))
    assert new.actions[0].uplift == 0.0  # a harmful action's uplift cannot go below 0
    assert new.actions[1] == config.actions[1]


def test_the_new_file_round_trips_and_never_overwrites_its_input(tmp_path) -> None:
    source = tmp_path / "actions.yaml"
    write_actions_config(parse_actions_config(ACTIONS), source)
    source.write_text(source.read_text().replace("# Written by", "# edited by hand; written by"))
    config = load_actions_config(source)
    new = updated_actions(config, measurement(0.12, 0.02))
    out = write_actions_config(new, tmp_path / "new.yaml", source=source)
    assert load_actions_config(out) == new
    with pytest.raises(ConfigError, match="is the actions file being updated; winback never"):
        write_actions_config(new, source, source=source)
    with pytest.raises(ConfigError, match="exists and was not written by winback measure"):
        write_actions_config(new, source)
    write_actions_config(new, out, source=source)  # its own output may be replaced


def test_a_bad_uplift_source_is_a_config_error() -> None:
    raw = {**ACTIONS, "actions": [dict(ACTIONS["actions"][0], uplift_source={"estimate": 1})]}
    with pytest.raises(ConfigError, match=r"uplift_source.campaign_id: required key is missing"):
        parse_actions_config(raw, source="x.yaml")
