"""Log a finished `winback train` to MLflow: params, metrics, artifacts and the registered model."""

from __future__ import annotations

import json
import logging
import math
import os
import re
import tempfile
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from winback.exceptions import TrackingError
from winback.io import write_json
from winback.tracking._uri import TRACKING_URI_ENV, check_sqlite_store, tracking_uri
from winback.training import TrainConfig

if TYPE_CHECKING:
    from mlflow.models.signature import ModelSignature

    from winback.models import WinbackModel
    from winback.training import TrainResult

__all__ = [
    "check_tracking",
    "config_params",
    "evaluation_metrics",
    "log_training_run",
    "registered_model_name",
    "version_tags",
]

logger = logging.getLogger(__name__)

# MLflow's limits (mlflow.utils.validation): param values and registry tag values.
MAX_PARAM_VALUE = 6000
MAX_KEY = 250
MAX_MODEL_VERSION_TAG_VALUE = 5000
MODEL_ARTIFACT = "model"
_UNSAFE_KEY_CHARS = re.compile(r"[^\w\-. /]")


def _key(parts: tuple[str, ...]) -> str:
    return _UNSAFE_KEY_CHARS.sub("_", ".".join(parts))[:MAX_KEY]


def _flatten(value: Any, prefix: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], Any]]:
    if isinstance(value, Mapping) and value:
        for key, item in value.items():
            yield from _flatten(item, (*prefix, str(key)))
    else:
        yield prefix, value


def config_params(config: TrainConfig) -> dict[str, str]:
    """Return the config flattened to MLflow params (``data.orders``, ``lightgbm.num_leaves``...).

    Nested keys are joined with dots, lists are written as JSON, ``None`` as ``"None"``; values
    are cut to MLflow's 6000-character limit (keys to 250 characters).
    """
    params = {}
    for parts, value in _flatten(config.model_dump(mode="json"), ()):
        text = json.dumps(value) if isinstance(value, list | dict) else str(value)
        params[_key(parts)] = text[:MAX_PARAM_VALUE]
    return params


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def evaluation_metrics(evaluation: Mapping[str, Any]) -> dict[str, float]:
    """Return the backtest evaluation as MLflow metrics, skipping NaN and infinite values.

    ``{task_key: {"methods": {method: {metric: value}}}}`` becomes ``{task_key}.{method}.{metric}``
    (e.g. ``churn_273d.winback.auc``); other numeric entries of a task keep their path, e.g.
    ``churn_273d.auc_difference_vs_best_baseline.diff``. Strings and lists are not metrics.
    """
    metrics = {}
    for task_key, result in evaluation.items():
        for parts, value in _flatten(result, (task_key,)):
            if _is_number(value):
                name = parts[:1] + parts[2:] if parts[1:2] == ("methods",) else parts
                metrics[_key(name)] = float(value)
    return metrics


def registered_model_name(config: TrainConfig) -> str:
    """Return ``config.tracking.registered_model``, or ``winback-<config.name>`` when unset."""
    return config.tracking.registered_model or f"winback-{config.name}"


def _dataset(config: TrainConfig) -> str:
    return config.data.orders


def version_tags(result: TrainResult, config: TrainConfig) -> dict[str, str]:
    """Return the tags of the registered model version (and the run).

    ``dataset`` (``data.orders`` as configured), ``evaluation_cutoff``, ``data_fingerprint``
    (sha256 of the training orders), ``winback_version`` and ``method.<task>``: the method each
    shipped task chose (e.g. ``method.churn = hybrid``).
    """
    from winback import __version__

    metadata = result.model.metadata
    tags = {
        "dataset": _dataset(config),
        "evaluation_cutoff": config.backtest.evaluation_cutoff.isoformat(),
        "data_fingerprint": str(metadata.get("data", {}).get("fingerprint", "")),
        "winback_version": __version__,
    }
    tags.update({f"method.{name}": str(task.method) for name, task in result.model.tasks.items()})
    return {k: v[:MAX_MODEL_VERSION_TAG_VALUE] for k, v in tags.items() if v}


@contextmanager
def _using_tracking_uri(uri: str) -> Iterator[None]:
    """Point MLflow's fluent API at ``uri``; restore the caller's URI (and env var) afterwards."""
    import mlflow

    check_sqlite_store(uri)
    env_before = os.environ.get(TRACKING_URI_ENV)
    uri_before = mlflow.get_tracking_uri() if mlflow.is_tracking_uri_set() else None
    mlflow.set_tracking_uri(uri)
    try:
        yield
    finally:
        mlflow.set_tracking_uri(uri_before)  # also sets or unsets the env var
        if env_before is None:
            os.environ.pop(TRACKING_URI_ENV, None)
        else:
            os.environ[TRACKING_URI_ENV] = env_before


def _experiment_id(name: str) -> str:
    from mlflow import MlflowClient

    client = MlflowClient()
    experiment = client.get_experiment_by_name(name)
    if experiment is not None:
        return experiment.experiment_id
    return client.create_experiment(name)


def _write_artifacts(result: TrainResult, folder: Path) -> None:
    write_json(result.evaluation, folder / "evaluation.json")
    (folder / "evaluation.txt").write_text(result.table.lstrip("\n") + "\n", encoding="utf-8")
    for rel, png in result.plots.items():
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_bytes(png)


def _signature(model: WinbackModel) -> ModelSignature:
    """Column names the pyfunc requires (any dtype: integer and float features both pass)."""
    from mlflow.models.signature import ModelSignature
    from mlflow.types.schema import AnyType, ColSpec, Schema

    from winback.models import PREDICTION_COLUMNS
    from winback.tracking._pyfunc import CUSTOMER_ID

    optional_id = ColSpec(AnyType(), CUSTOMER_ID, required=False)
    inputs = [optional_id, *(ColSpec(AnyType(), name) for name in model.feature_names)]
    outputs = [optional_id, *(ColSpec("double", name) for name in PREDICTION_COLUMNS)]
    return ModelSignature(inputs=Schema(inputs), outputs=Schema(outputs))


def _log_model(result: TrainResult, name: str) -> Any:
    import mlflow

    from winback import __version__

    with warnings.catch_warnings():  # the signature is given; a features example needs data
        warnings.filterwarnings("ignore", message=".*input example was not provided")
        return mlflow.pyfunc.log_model(
            name=MODEL_ARTIFACT,
            python_model=str(Path(__file__).with_name("_model_code.py")),
            # absolute: MLflow would read a relative "models/<name>" as a models:/ URI
            artifacts={"bundle": str(Path(result.bundle_path).resolve())},
            signature=_signature(result.model),
            registered_model_name=name,
            pip_requirements=[f"winback=={__version__}", f"mlflow=={mlflow.__version__}"],
        )


def log_training_run(result: TrainResult, config: TrainConfig) -> str:
    """Log a training run to MLflow and register its model; return the MLflow run id.

    The run (named after ``config.name``, in experiment ``config.tracking.experiment``) gets:

    - params: the config flattened (:func:`config_params`);
    - metrics: ``{task_key}.{method}.{metric}`` from the backtest (:func:`evaluation_metrics`);
    - artifacts: ``evaluation.json``, ``evaluation.txt`` and ``plots/*.png`` (ROC, calibration,
      cumulative gains, feature importance);
    - the model: a pyfunc (:class:`~winback.tracking.WinbackPyfunc`) with the bundle folder as
      its ``bundle`` artifact, registered as :func:`registered_model_name` with
      :func:`version_tags` on the new version.

    The tracking URI is :func:`~winback.tracking.tracking_uri` (config, then
    ``MLFLOW_TRACKING_URI``, then ``sqlite:///mlflow.db``); the caller's MLflow tracking URI is
    restored afterwards.

    Returns
    -------
    str
        The MLflow run id. The model is at ``runs:/<run id>/model`` and
        ``models:/<registered name>/<version>``.

    Raises
    ------
    TrackingError
        If MLflow refuses or cannot reach the tracking URI (the message names the URI and where
        it came from); the bundle on disk is not affected.
    """
    uri = tracking_uri(config)
    with _tracking_errors(config, uri, saved=result.bundle_path):
        run_id, name, version = _log(result, config, uri)
    logger.info("logged run %s to %s; registered %s v%s", run_id, uri, name, version)
    return run_id


def check_tracking(config: TrainConfig) -> str:
    """Open the tracking store a run with ``config`` would log to (before any training); return
    its URI.

    Raises
    ------
    TrackingError
        If MLflow cannot open or reach the store: not a database, unwritable, no server answering.
    """
    uri = tracking_uri(config)
    with _tracking_errors(config, uri, saved=None), _using_tracking_uri(uri):
        _experiment_id(config.tracking.experiment)
    return uri


@contextmanager
def _tracking_errors(config: TrainConfig, uri: str, *, saved: Path | None) -> Iterator[None]:
    """Turn what MLflow (and the SQLAlchemy or filesystem store under it) raises into a
    one-line TrackingError naming the URI and where it came from."""
    from mlflow.exceptions import MlflowException
    from sqlalchemy.exc import SQLAlchemyError

    try:
        yield
    except (MlflowException, SQLAlchemyError, OSError) as exc:
        kept = f" The model bundle at {saved} is saved." if saved is not None else ""
        raise TrackingError(
            f"Could not log to MLflow at {uri!r} ({_uri_source(config)}): "
            f"{type(exc).__name__}: {_first_line(exc)}.{kept} Fix the tracking URI (a sqlite:/// "
            "database file, or an http:// server), or train with --no-tracking (or "
            "tracking.enabled: false)."
        ) from exc


def _first_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split("\n")[0].split())
    return text[:300].rstrip(".")


def _uri_source(config: TrainConfig) -> str:
    if config.tracking.uri:
        return "tracking.uri in the config"
    if os.environ.get(TRACKING_URI_ENV, "").strip():
        return f"${TRACKING_URI_ENV}"
    return "the default"


def _log(result: TrainResult, config: TrainConfig, uri: str) -> tuple[str, str, str]:
    import mlflow
    from mlflow import MlflowClient

    name = registered_model_name(config)
    tags = version_tags(result, config)
    with _using_tracking_uri(uri):
        experiment_id = _experiment_id(config.tracking.experiment)
        with mlflow.start_run(experiment_id=experiment_id, run_name=config.name) as run:
            mlflow.set_tags(tags)
            mlflow.log_params(config_params(config))
            mlflow.log_metrics(evaluation_metrics(result.evaluation))
            with tempfile.TemporaryDirectory(prefix="winback-mlflow-") as tmp:
                _write_artifacts(result, Path(tmp))
                mlflow.log_artifacts(tmp)
            info = _log_model(result, name)
        version = str(info.registered_model_version)
        client = MlflowClient()
        for key, value in tags.items():
            client.set_model_version_tag(name, version, key, value)
    return run.info.run_id, name, version
