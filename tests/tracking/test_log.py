"""A logged training run: params, metrics, artifacts, registered model version and its tags."""

from __future__ import annotations

import json
import re

import pytest
from mlflow import MlflowClient

from simulated import EVAL_CUTOFF
from winback.exceptions import TrackingError
from winback.tracking import log_training_run
from winback.tracking._log import config_params, evaluation_metrics, version_tags

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("tracking")]  # one training

PROBABILITY_TASKS = ("repurchase_60d", "churn_90d")  # simulated.sim_config's horizons


@pytest.fixture(scope="module")
def client(logged):
    return MlflowClient(tracking_uri=logged.uri)


def test_run_lands_in_configured_experiment(trained, logged, client):
    run = client.get_run(logged.run_id)
    experiment = client.get_experiment(run.info.experiment_id)
    assert experiment.name == "winback-test"
    assert run.info.run_name == trained.config.name
    assert run.info.status == "FINISHED"


def test_params_are_the_flattened_config(trained, logged, client):
    params = client.get_run(logged.run_id).data.params
    assert params == config_params(trained.config)
    assert params["data.orders"] == str(trained.workdir / "orders.parquet")
    assert params["tasks.churn_days"] == str(trained.config.tasks.churn_days)
    assert params["lightgbm.n_estimators"] == "50"


def test_metrics_are_every_finite_evaluation_number(trained, logged, client):
    metrics = client.get_run(logged.run_id).data.metrics
    evaluation = trained.result.evaluation
    assert metrics == evaluation_metrics(evaluation)
    for task in PROBABILITY_TASKS:
        expected = evaluation[task]["methods"]["winback"]["auc"]
        assert metrics[f"{task}.winback.auc"] == expected
        assert 0.5 < expected <= 1.0  # the simulated base has signal; the model finds it


def test_artifacts_hold_evaluation_and_every_plot(trained, logged, client, tmp_path):
    names = {a.path for a in client.list_artifacts(logged.run_id)}
    assert {"evaluation.json", "evaluation.txt", "plots"} <= names
    plots = {a.path for a in client.list_artifacts(logged.run_id, "plots")}
    assert plots == set(trained.result.plots)
    for task in PROBABILITY_TASKS:
        for kind in ("roc", "calibration", "gains"):
            assert f"plots/{kind}_{task}.png" in plots
        name = task.split("_")[0]
        own_model = trained.result.backtest_model.tasks[name].feature_importance() is not None
        assert (f"plots/importance_{name}.png" in plots) == own_model
    local = client.download_artifacts(logged.run_id, "", str(tmp_path))
    for rel, png in trained.result.plots.items():
        assert (tmp_path / rel).read_bytes() == png
    logged_eval = json.loads((tmp_path / "evaluation.json").read_text())
    assert evaluation_metrics(logged_eval) == evaluation_metrics(trained.result.evaluation)
    assert local


def test_model_version_is_registered_with_dataset_cutoff_and_methods(trained, logged, client):
    version = client.get_model_version(trained.config.tracking.registered_model, "1")
    assert version.run_id == logged.run_id
    assert version.tags == version_tags(trained.result, trained.config)
    assert version.tags["dataset"] == str(trained.workdir / "orders.parquet")
    assert version.tags["evaluation_cutoff"] == EVAL_CUTOFF
    for task_name, task in trained.result.model.tasks.items():
        assert version.tags[f"method.{task_name}"] == task.method
    run_tags = client.get_run(logged.run_id).data.tags
    assert run_tags["evaluation_cutoff"] == EVAL_CUTOFF


def test_caller_tracking_uri_is_left_as_it_was(logged):
    assert logged.tracking_uri_set_after is False
    assert logged.env_after is None


def test_unusable_tracking_uri_raises_tracking_error_naming_it(trained, monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    tracking = trained.config.tracking.model_copy(update={"uri": "bogus://tracking"})
    config = trained.config.model_copy(update={"tracking": tracking})
    expected = "MLflow at 'bogus://tracking' (tracking.uri in the config)"
    with pytest.raises(TrackingError, match=re.escape(expected)) as err:
        log_training_run(trained.result, config)
    assert "--no-tracking" in str(err.value)
    assert str(trained.result.bundle_path) in str(err.value)
