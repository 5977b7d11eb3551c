"""The registered pyfunc scores a features frame exactly like the bundle it wraps."""

from __future__ import annotations

import json
import subprocess
import sys

import mlflow
import numpy as np
import pandas as pd
import pytest

from simulated import END, side_tables
from winback.exceptions import ModelError
from winback.models import PREDICTION_COLUMNS, load_model
from winback.scoring import score_files, write_model_features

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("tracking")]

MODEL_URI = "models:/winback-tracking-test/1"  # conftest.REGISTERED_MODEL, version 1


@pytest.fixture
def registry(logged, monkeypatch):
    """Point MLflow at the logged run's store for ``models:/`` URIs; unset afterwards."""
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    mlflow.set_tracking_uri(logged.uri)
    yield logged.uri
    mlflow.set_tracking_uri(None)


@pytest.fixture(scope="module")
def bundle_predictions(trained):
    return load_model(trained.bundle).predict(trained.features)


def test_registered_pyfunc_predicts_exactly_like_the_bundle(registry, trained, bundle_predictions):
    predicted = mlflow.pyfunc.load_model(MODEL_URI).predict(trained.features)
    assert list(predicted.columns) == ["customer_id", *PREDICTION_COLUMNS]
    pd.testing.assert_frame_equal(predicted.set_index("customer_id"), bundle_predictions)


def test_customer_id_column_is_kept_and_absent_id_is_not_invented(
    registry, trained, bundle_predictions
):
    model = mlflow.pyfunc.load_model(MODEL_URI)
    as_column = model.predict(trained.features.reset_index())
    pd.testing.assert_frame_equal(as_column, bundle_predictions.reset_index())
    anonymous = model.predict(trained.features.reset_index(drop=True))
    assert list(anonymous.columns) == list(PREDICTION_COLUMNS)
    np.testing.assert_array_equal(anonymous.to_numpy(), bundle_predictions.to_numpy())


def test_missing_feature_column_is_refused_by_the_signature(registry, trained):
    model = mlflow.pyfunc.load_model(MODEL_URI)
    dropped = trained.result.model.feature_names[0]
    with pytest.raises(mlflow.exceptions.MlflowException, match=dropped):
        model.predict(trained.features.drop(columns=dropped))


def test_tampered_bundle_is_not_loaded(registry, trained, tmp_path):
    local = mlflow.artifacts.download_artifacts(artifact_uri=MODEL_URI, dst_path=str(tmp_path))
    model_json = next(tmp_path.rglob(f"artifacts/{trained.config.name}/model.json"))  # the bundle
    model_json.write_text(model_json.read_text() + " ")
    with pytest.raises(ModelError, match=r"model\.json does not match its sha256"):
        mlflow.pyfunc.load_model(local)


def test_mlflow_models_predict_cli_gives_the_same_numbers(
    logged, trained, bundle_predictions, tmp_path, monkeypatch
):
    trained.features.to_csv(tmp_path / "features.csv")  # customer_id becomes a column
    env = {**_env_without_tracking_uri(), "MLFLOW_TRACKING_URI": logged.uri}
    command = [
        sys.executable,
        "-m",
        "mlflow",
        "models",
        "predict",
        "-m",
        MODEL_URI,
        "-i",
        "features.csv",
        "-t",
        "csv",
        "--env-manager",
        "local",
        "-o",
        "out.json",
    ]
    subprocess.run(command, cwd=tmp_path, env=env, check=True, capture_output=True, timeout=120)
    out = pd.DataFrame(json.loads((tmp_path / "out.json").read_text())["predictions"])
    out = out.set_index("customer_id")
    assert out.index.tolist() == bundle_predictions.index.tolist()
    # floats survive CSV (shortest repr) and JSON exactly, so the numbers are identical
    np.testing.assert_array_equal(
        out[list(PREDICTION_COLUMNS)].to_numpy(), bundle_predictions.to_numpy()
    )


@pytest.mark.filterwarnings("ignore::winback.exceptions.DriftWarning")
def test_features_file_round_trip_through_the_registered_model(registry, trained, tmp_path):
    """`winback features` -> the registered pyfunc -> the numbers `winback score` writes."""
    tables = ("orders", "events", "customers")
    paths = {name: trained.workdir / f"{name}.parquet" for name in tables}
    as_of = str(END)
    write_model_features(
        trained.bundle,
        paths["orders"],
        as_of=as_of,
        out=tmp_path / "features.csv",
        **side_tables(paths),
    )
    scored = score_files(
        trained.bundle,
        paths["orders"],
        as_of=as_of,
        out=tmp_path / "scores.parquet",
        **side_tables(paths),
        progress=False,
    ).scores.set_index("customer_id")
    model = mlflow.pyfunc.load_model(MODEL_URI)
    predicted = model.predict(pd.read_csv(tmp_path / "features.csv")).set_index("customer_id")
    assert predicted.index.equals(scored.index)
    columns = list(PREDICTION_COLUMNS)
    np.testing.assert_array_equal(predicted[columns].to_numpy(), scored[columns].to_numpy())


def _env_without_tracking_uri() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}
