"""Config -> MLflow params and evaluation -> MLflow metrics, on hand-written inputs."""

from __future__ import annotations

import math

from winback.tracking._log import config_params, evaluation_metrics, registered_model_name
from winback.training import TrainConfig


def _config(**overrides: object) -> TrainConfig:
    raw = {
        "name": "shop",
        "data": {"orders": "data/orders.parquet", "columns": {"amount": "Total EUR"}},
        "features": {"windows_days": [30, 90]},
        "backtest": {"evaluation_cutoff": "2024-01-31", "bootstrap": 50},
        "lightgbm": {"learning_rate": 0.05},
    }
    return TrainConfig.model_validate({**raw, **overrides})


def test_config_is_flattened_with_dotted_keys():
    params = config_params(_config())
    assert params["name"] == "shop"
    assert params["data.orders"] == "data/orders.parquet"
    assert params["data.columns.amount"] == "Total EUR"
    assert params["data.events"] == "None"
    assert params["features.windows_days"] == "[30, 90]"
    assert params["backtest.evaluation_cutoff"] == "2024-01-31"
    assert params["backtest.bootstrap"] == "50"
    assert params["lightgbm.learning_rate"] == "0.05"
    assert params["lightgbm.n_estimators"] == "2000"  # defaults are logged too
    assert params["tracking.experiment"] == "winback"
    assert params["output_dir"] == "models"
    assert all(isinstance(v, str) for v in params.values())


def test_empty_mappings_are_one_param_and_feature_defaults_are_logged():
    params = config_params(_config(data={"orders": "o.csv"}, features={}))
    assert params["data.columns"] == "{}"
    assert params["features.windows_days"] == "[30, 90, 180, 365]"
    assert params["features.event_types"] == "None"


def test_long_values_are_cut_to_mlflow_limit():
    long_path = "d/" * 4000 + "orders.csv"
    params = config_params(_config(data={"orders": long_path}))
    assert params["data.orders"] == long_path[:6000]


def test_metrics_are_task_method_metric_and_skip_non_finite():
    evaluation = {
        "churn_60d": {
            "methods": {
                "winback": {"auc": 0.75, "log_loss": 0.5},
                "recency": {"auc": 0.7, "log_loss": math.nan},
                "bgnbd": {"auc": math.inf, "brier": 0.2},
            },
            "auc_difference_vs_best_baseline": {
                "baseline": "recency",
                "diff": 0.05,
                "ci_low": -0.01,
                "ci_high": 0.11,
            },
            "selection": {"cv_log_loss": {"lightgbm": 0.52}, "chosen": "lightgbm"},
            "label_days_trained": 60,
        },
        "spend_60d": {"methods": {"winback": {"mae": 12, "calibrated": True}}},
    }
    assert evaluation_metrics(evaluation) == {
        "churn_60d.winback.auc": 0.75,
        "churn_60d.winback.log_loss": 0.5,
        "churn_60d.recency.auc": 0.7,
        "churn_60d.bgnbd.brier": 0.2,
        "churn_60d.auc_difference_vs_best_baseline.diff": 0.05,
        "churn_60d.auc_difference_vs_best_baseline.ci_low": -0.01,
        "churn_60d.auc_difference_vs_best_baseline.ci_high": 0.11,
        "churn_60d.selection.cv_log_loss.lightgbm": 0.52,
        "churn_60d.label_days_trained": 60.0,
        "spend_60d.winback.mae": 12.0,
    }


def test_registered_name_defaults_to_winback_and_config_name():
    assert registered_model_name(_config()) == "winback-shop"
    named = _config(tracking={"registered_model": "retail-churn"})
    assert registered_model_name(named) == "retail-churn"
