"""Training configs: the shipped one validates; every error names the key and the expected form."""

from pathlib import Path

import pytest

from winback.exceptions import ConfigError
from winback.training import load_config

ROOT = Path(__file__).parents[2]


def test_the_shipped_cdnow_config_is_valid():
    config = load_config(ROOT / "configs" / "cdnow.yaml")
    assert config.data.orders == "cdnow"
    assert (config.tasks.repurchase_days, config.tasks.churn_days) == (91, 273)
    assert str(config.backtest.evaluation_cutoff) == "1997-09-30"


def _write(tmp_path, text):
    path = tmp_path / "train.yaml"
    path.write_text(text)
    return path


BASE = """
name: shop
data: {orders: orders.csv}
backtest: {evaluation_cutoff: 2024-01-31}
"""


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "data:",
            "tasks: {churn_days: -5}\ndata:",
            r"tasks\.churn_days: Input should be greater than 0 \(got -5\)",
        ),
        (
            "data:",
            "tasks: {churn_dayz: 90}\ndata:",
            r"tasks\.churn_dayz: unknown key 'churn_dayz' \(allowed keys: repurchase_days, "
            r"churn_days\); did you mean 'churn_days'\?",
        ),
        (
            "data:",
            "lightgbm: {learning_rate: fast}\ndata:",
            r"lightgbm\.learning_rate: Input should be a valid number",
        ),
        ("2024-01-31", "someday", r"backtest\.evaluation_cutoff: Input should be a valid date"),
        ("name: shop", "name: 'my shop/x'", r"name: String should match pattern"),
    ],
)
def test_errors_name_the_key_and_the_expected_form(tmp_path, old, new, expected):
    path = _write(tmp_path, BASE.replace(old, new))
    with pytest.raises(ConfigError, match=expected) as err:
        load_config(path)
    assert str(path) in str(err.value)


def test_missing_required_section_is_named(tmp_path):
    with pytest.raises(ConfigError, match=r"backtest: required key is missing"):
        load_config(_write(tmp_path, "name: shop\ndata: {orders: o.csv}\n"))


def test_not_yaml_and_not_a_mapping(tmp_path):
    with pytest.raises(ConfigError, match="is not valid YAML"):
        load_config(_write(tmp_path, "name: [unclosed\n"))
    with pytest.raises(ConfigError, match="expected a mapping of keys at the top level"):
        load_config(_write(tmp_path, "- just\n- a list\n"))


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match=r"nope\.yaml does not exist"):
        load_config(tmp_path / "nope.yaml")
