"""Training data from a database: config source forms, and a password in a config URL kept out of
the config's dump, the bundle's config.yaml and MLflow (run params, model version tags)."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
import yaml

from every_source import every_source
from postgres_server import PostgresServer
from winback.datasets import simulate
from winback.exceptions import ConfigError
from winback.training import load_config, load_training_data
from winback.training._config import DataConfig

DATA_END = "2023-12-31"


def _config_file(tmp_path: Path, orders: object) -> Path:
    config = {
        "name": "from-db",
        "data": {"orders": orders, "end": DATA_END},
        "features": {"windows_days": [30, 90]},
        "tasks": {"repurchase_days": 30, "churn_days": 60},
        "backtest": {
            "evaluation_cutoff": "2023-09-02",
            "every_days": 60,
            "max_train_cutoffs": 2,
            "min_train_cutoffs": 1,
            "min_history_days": 300,
            "bootstrap": 10,
        },
        "lightgbm": {"n_estimators": 20, "learning_rate": 0.1, "min_child_samples": 20},
        "tracking": {"uri": f"sqlite:///{tmp_path / 'mlflow.db'}", "registered_model": "db-test"},
        "output_dir": str(tmp_path / "models"),
    }
    path = tmp_path / "train.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def test_config_source_forms_and_passwords_aside() -> None:
    config = DataConfig.model_validate(
        {
            "orders": "postgresql://ann:hunter2@db/shop?table=sales.orders",
            "events": {"url": "postgresql://ann:hunter2@db/shop", "query": "SELECT * FROM e#1"},
            "customers": "customers.parquet",
        }
    )
    assert config.orders == "postgresql://ann@db/shop?table=sales.orders"
    assert config.events == "postgresql://ann@db/shop?query=SELECT%20%2A%20FROM%20e%231"
    assert "hunter2" not in repr(config) + str(config.model_dump(mode="json"))
    assert config.source("orders") == "postgresql://ann:hunter2@db/shop?table=sales.orders"
    assert config.source("events").startswith("postgresql://ann:hunter2@db/shop?query=SELECT")
    assert config.source("customers") == "customers.parquet"
    assert config.model_copy().source("orders") == config.source("orders")


@pytest.mark.parametrize(
    ("orders", "expected"),
    [
        ("postgresql://ann:hunter2@db/shop", "no table or query is given"),
        ({"url": "postgresql://db/shop", "tabel": "orders"}, "got keys \\['tabel', 'url'\\]"),
        ("mysql://ann:hunter2@db/shop?table=o", "unsupported URL scheme"),
    ],
)
def test_config_source_errors_name_the_key(tmp_path: Path, orders: object, expected: str) -> None:
    with pytest.raises(ConfigError, match=expected) as caught:
        load_config(_config_file(tmp_path, orders))
    assert "data" in str(caught.value)
    assert "hunter2" not in str(caught.value)


@pytest.mark.xdist_group("postgres")
@pytest.mark.slow
def test_train_from_postgres_keeps_the_password_out_of_bundle_and_mlflow(
    postgres: PostgresServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import mlflow

    from winback.tracking import log_training_run
    from winback.training import train

    orders = simulate(300, start="2022-01-01", end=DATA_END, seed=3).orders
    url = every_source(orders, tmp_path / "data", server=postgres, table="train_orders")["postgres"]
    config = load_config(_config_file(tmp_path, url))
    assert postgres.password in config.data.source("orders")
    from_db = load_training_data(config, base_dir=tmp_path).orders
    from_file = load_training_data(
        config.model_copy(
            update={"data": DataConfig(orders=str(tmp_path / "data" / "train_orders.parquet"))}
        ),
        base_dir=tmp_path,
    ).orders
    assert from_db.equals(from_file)
    monkeypatch.chdir(tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # BTYD convergence notes on a tiny training set
        result = train(config, base_dir=tmp_path, progress=False)
        run_id = log_training_run(result, config)
    bundle_config = (tmp_path / result.bundle_path / "config.yaml").read_text()
    assert f"orders: postgresql://winback@127.0.0.1:{postgres.port}/shop?table=train_orders" in (
        bundle_config
    )
    client = mlflow.MlflowClient(f"sqlite:///{tmp_path / 'mlflow.db'}")
    params = client.get_run(run_id).data.params
    assert (
        params["data.orders"]
        == f"postgresql://winback@127.0.0.1:{postgres.port}/shop?table=train_orders"
    )
    tags = client.get_model_version("db-test", "1").tags
    shown = [bundle_config, str(params), str(tags), str(result.table)]
    assert all(postgres.password not in text for text in shown)
