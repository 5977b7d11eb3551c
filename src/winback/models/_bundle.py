"""Model bundles on disk: LightGBM text files + JSON, sealed by a manifest of sha256 hashes.

Layout of ``models/<name>/``::

    manifest.json              sha256 of every other file, winback version, bundle format
    model.json                 tasks, calibrators, spend levels, blend weights, the simple
                               candidates (RFM logit coefficients, calibrated BTYD), level
                               offsets, BTYD parameters, features, metadata
    <task>_<method>.txt        LightGBM's own model files
    ...                        any extra files (evaluation.json, config.yaml, plots/*.png)

:func:`load_model` verifies every hash, the package's minor version and the bundle format before
parsing anything; no file in a bundle is ever unpickled.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np

from winback.exceptions import ModelError
from winback.features import FeatureConfig
from winback.models._calibration import Calibrator
from winback.models._hybrid import FittedBTYD
from winback.models._lgbm import LGBMProbability, LGBMSpend, restore_booster
from winback.models._simple import BTYDScore, RFMLogit
from winback.models._tasks import ProbabilityTask, SpendTask, TaskSpec
from winback.models._winback_model import WinbackModel
from winback.models.btyd import BetaGeo, GammaGamma, ParetoNBD

__all__ = ["load_model", "save_model", "seal_bundle", "sha256_file", "verify_bundle"]

MANIFEST = "manifest.json"
FORMAT_VERSION = 3  # 2: spend candidates; 3: simple probability candidates, conditional tasks


def sha256_file(path: Path) -> str:
    """Return the hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _version() -> str:
    from winback import __version__

    return __version__


# ----------------------------------------------------------------------------- saving


def _model_spec(model: Any, file: str) -> dict[str, Any]:
    spec = {
        "file": file,
        "best_iteration": model.best_iteration_,
        "features": list(model.feature_names_in_),
    }
    if isinstance(model, LGBMProbability):
        spec["calibrator"] = model.calibrator_.to_dict()
    else:
        spec["level"] = model.level_
    return spec


def _task_spec(name: str, task: ProbabilityTask | SpendTask, files: dict[str, str]) -> dict:
    out: dict[str, Any] = {
        "kind": "probability" if isinstance(task, ProbabilityTask) else "spend",
        "spec": {
            "name": task.spec.name,
            "horizon_days": task.spec.horizon_days,
            "label_days": task.spec.label_days,
        },
        "base_features": task.base_features,
        "hybrid_features": task.hybrid_features,
        "method": task.method,
        "selection": task.selection,
        "models": {},
    }
    for method, model in task.models.items():
        file = f"{name}_{method}.txt"
        files[file] = model.booster_.model_to_string()
        out["models"][method] = _model_spec(model, file)
    out["blend"] = task.blend
    if isinstance(task, ProbabilityTask):
        out.update(
            {
                "horizon_btyd": task.horizon_btyd,
                "rfm_logit": None if task.rfm_logit is None else task.rfm_logit.to_dict(),
                "btyd_score": None if task.btyd_score is None else task.btyd_score.to_dict(),
                "condition_task": task.condition_task,
                "condition_days": task.condition_days,
                "level_btyd": task.level_btyd,
                "level_offsets": task.level_offsets,
            }
        )
    return out


def model_document(model: WinbackModel) -> tuple[dict[str, Any], dict[str, str]]:
    """Return (model.json content, {file name: LightGBM model text})."""
    files: dict[str, str] = {}
    doc = {
        "format": FORMAT_VERSION,
        "name": model.name,
        "winback_version": _version(),
        "feature_config": model.feature_config.model_dump(mode="json"),
        "btyd_horizons_days": model.btyd_horizons_days,
        "btyd_params": model.btyd.params(),
        "tasks": {name: _task_spec(name, task, files) for name, task in model.tasks.items()},
        "metadata": model.metadata,
    }
    return doc, files


def save_model(
    model: WinbackModel,
    path: str | os.PathLike[str],
    *,
    extra_files: dict[str, bytes] | None = None,
) -> Path:
    """Write ``model`` (and ``extra_files``, relative path -> bytes) as a sealed bundle at ``path``.

    The bundle is assembled in a temporary folder beside ``path`` and moved into place, so a
    crash never leaves a half-written bundle; an existing bundle at ``path`` is replaced.
    """
    doc, lgbm_files = model_document(model)
    contents = {"model.json": json.dumps(doc, indent=2, sort_keys=True, default=str).encode()}
    contents.update({k: v.encode() for k, v in lgbm_files.items()})
    contents.update(extra_files or {})
    return seal_bundle(contents, path)


def seal_bundle(
    contents: dict[str, bytes], path: str | os.PathLike[str], *, format: object = FORMAT_VERSION
) -> Path:
    """Write ``contents`` (relative path -> bytes) and a sha256 manifest as a bundle at ``path``.

    Assembled in a temporary folder beside ``path`` and moved into place (an existing bundle is
    replaced whole); :func:`verify_bundle` with the same ``format`` checks it before loading.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
    try:
        for rel, data in contents.items():
            (tmp / rel).parent.mkdir(parents=True, exist_ok=True)
            (tmp / rel).write_bytes(data)
        manifest = {
            "winback_version": _version(),
            "format": format,
            "files": {rel: sha256_file(tmp / rel) for rel in sorted(contents)},
        }
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
        _swap_into_place(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return path


def _swap_into_place(tmp: Path, path: Path) -> None:
    old = None
    if path.exists():
        old = path.with_name(f".{path.name}.old")
        shutil.rmtree(old, ignore_errors=True)
        os.replace(path, old)
    os.replace(tmp, path)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


# ----------------------------------------------------------------------------- loading


def verify_bundle(path: Path, *, format: object = FORMAT_VERSION) -> dict[str, Any]:
    """Check the manifest's hashes, version and ``format``; return the manifest or raise
    ModelError."""
    manifest_path = path / MANIFEST
    if not manifest_path.is_file():
        raise ModelError(f"{path} is not a winback model bundle: {MANIFEST} is missing.")
    try:
        manifest = json.loads(manifest_path.read_text())
        files = dict(manifest["files"])
    except (ValueError, KeyError, TypeError) as exc:
        raise ModelError(f"{manifest_path} is not a valid manifest: {exc}") from exc
    for rel, expected in sorted(files.items()):
        file = path / rel
        if not file.is_file():
            raise ModelError(f"Bundle {path}: {rel} is listed in the manifest but missing.")
        if sha256_file(file) != expected:
            raise ModelError(
                f"Bundle {path}: {rel} does not match its sha256 in {MANIFEST} (the file was "
                "changed after training). Retrain or restore the bundle; it will not be loaded."
            )
    _check_version(path, str(manifest.get("winback_version", "")))
    _check_format(path, manifest.get("format"), format)
    return manifest


def _check_format(path: Path, written: object, expected: object) -> None:
    if written != expected:
        raise ModelError(
            f"Bundle {path} has format {written}; this winback reads format {expected} here. "
            "Retrain the model with this version."
        )


def _check_version(path: Path, written_by: str) -> None:
    current = _version()
    if written_by.split(".")[:2] != current.split(".")[:2]:
        raise ModelError(
            f"Bundle {path} was written by winback {written_by or '<unknown>'}; this is winback "
            f"{current}. Retrain the model with this version (bundles are not portable across "
            "minor versions)."
        )


def _restore_lgbm(path: Path, spec: dict[str, Any], kind: str) -> LGBMProbability | LGBMSpend:
    model = LGBMProbability() if kind == "probability" else LGBMSpend()
    model.booster_ = restore_booster((path / spec["file"]).read_text())
    model.best_iteration_ = spec["best_iteration"]
    model.feature_names_in_ = np.asarray(spec["features"], dtype=object)
    model.n_features_in_ = len(spec["features"])
    if kind == "probability":
        model.classes_ = np.array([0, 1])
        model.calibrator_ = Calibrator.from_dict(spec["calibrator"])
    else:
        model.level_ = float(spec["level"])
    return model


def _restore_task(path: Path, doc: dict[str, Any]) -> ProbabilityTask | SpendTask:
    spec = TaskSpec(**doc["spec"])
    cls = ProbabilityTask if doc["kind"] == "probability" else SpendTask
    task = cls(
        spec=spec, base_features=doc["base_features"], hybrid_features=doc["hybrid_features"]
    )
    task.models = {m: _restore_lgbm(path, s, doc["kind"]) for m, s in doc["models"].items()}
    task.method = doc["method"]
    task.selection = doc["selection"]
    task.blend = doc.get("blend")
    if isinstance(task, ProbabilityTask):
        task.horizon_btyd = doc["horizon_btyd"]
        task.rfm_logit = None if doc["rfm_logit"] is None else RFMLogit.from_dict(doc["rfm_logit"])
        task.btyd_score = (
            None if doc["btyd_score"] is None else BTYDScore.from_dict(doc["btyd_score"])
        )
        task.condition_task = doc["condition_task"]
        task.condition_days = doc["condition_days"]
        task.level_btyd = doc["level_btyd"]
        task.level_offsets = {k: float(v) for k, v in doc["level_offsets"].items()}
    return task


def _restore_btyd(params: dict[str, dict[str, float] | None]) -> FittedBTYD:
    models = {}
    for name, cls in (("bgnbd", BetaGeo), ("pareto_nbd", ParetoNBD), ("gamma_gamma", GammaGamma)):
        models[name] = None
        if params.get(name) is not None:
            models[name] = cls()
            models[name].params_ = dict(params[name])
    return FittedBTYD(**models)


def load_model(path: str | os.PathLike[str]) -> WinbackModel:
    """Load a bundle written by :func:`save_model` after checking every file's sha256.

    Raises
    ------
    ModelError
        If the bundle is missing, a file does not match the manifest (naming the file), or the
        bundle was written by another minor version of winback.
    """
    path = Path(path)
    if not path.is_dir():
        raise ModelError(f"No model bundle at {path}: expected a folder written by winback train.")
    verify_bundle(path)
    try:
        doc = json.loads((path / "model.json").read_text(encoding="utf-8"))
        return WinbackModel(
            name=doc["name"],
            tasks={name: _restore_task(path, t) for name, t in doc["tasks"].items()},
            feature_config=FeatureConfig.model_validate(doc["feature_config"]),
            btyd=_restore_btyd(doc["btyd_params"]),
            btyd_horizons_days=list(doc["btyd_horizons_days"]),
            metadata=doc["metadata"],
        )
    except (OSError, ValueError, KeyError, TypeError, lgb.basic.LightGBMError) as exc:
        # ValueError covers JSONDecodeError, UnicodeDecodeError and pydantic's ValidationError
        raise ModelError(
            f"Bundle {path}: model.json or a model file it names cannot be read "
            f"({type(exc).__name__}: {_first_line(exc)}). "
            "Retrain the model."
        ) from exc


def _first_line(exc: BaseException) -> str:
    lines = str(exc).splitlines()
    return lines[0] if lines else repr(exc)
