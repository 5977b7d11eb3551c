"""Fixtures of the campaign tests: the churn model trained once per session, the campaign."""

from __future__ import annotations

from pathlib import Path

import pytest
from campaign_testing import ACTIONS, train_model

from winback.actions import ActionsConfig, parse_actions_config
from winback.models import WinbackModel, load_model


@pytest.fixture(scope="session")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The trained churn model's bundle folder."""
    return train_model(tmp_path_factory.mktemp("campaign_model"))


@pytest.fixture(scope="session")
def churn_model(bundle: Path) -> WinbackModel:
    return load_model(bundle)


@pytest.fixture(scope="session")
def actions() -> ActionsConfig:
    return parse_actions_config(ACTIONS, source="test")
