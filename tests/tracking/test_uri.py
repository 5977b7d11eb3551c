"""Where runs are logged: config.tracking.uri, then $MLFLOW_TRACKING_URI, then sqlite:///mlflow.db."""

from __future__ import annotations

import subprocess
import sys

import pytest

from winback.tracking import DEFAULT_TRACKING_URI, tracking_uri
from winback.training import TrainConfig


def _config(uri: str | None) -> TrainConfig:
    return TrainConfig.model_validate(
        {
            "name": "uri-test",
            "data": {"orders": "orders.csv"},
            "backtest": {"evaluation_cutoff": "2024-01-31"},
            "tracking": {"uri": uri},
        }
    )


def test_default_is_embedded_sqlite_file_in_working_directory(monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    assert DEFAULT_TRACKING_URI == "sqlite:///mlflow.db"
    assert tracking_uri(_config(None)) == "sqlite:///mlflow.db"


def test_environment_variable_overrides_default(monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://tracking.example:5000")
    assert tracking_uri(_config(None)) == "http://tracking.example:5000"


def test_config_overrides_environment_variable(monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://tracking.example:5000")
    assert tracking_uri(_config("sqlite:///runs.db")) == "sqlite:///runs.db"


@pytest.mark.parametrize("blank", ["", "   "])
def test_blank_environment_variable_falls_back_to_default(monkeypatch, blank):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", blank)
    assert tracking_uri(_config(None)) == "sqlite:///mlflow.db"


def test_importing_winback_does_not_import_mlflow():
    code = (
        "import sys, winback, winback.cli, winback.training, winback.models; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'mlflow'))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
