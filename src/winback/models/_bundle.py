"""Model bundles on disk: LightGBM text files + JSON, sealed by a manifest of sha256 hashes.

Layout of ``models/<name>/``::

    manifest.json              sha256 of every other file, winback version, bundle format
    model.json                 tasks, calibrators, spend levels, blend weights, the simple
                               candidates (RFM logit coefficients, calibrated BTYD), level
                               offsets, BTYD parameters, features, metadata
    <task>_<method>.txt        LightGBM's own model files
    ...                        any extra files (evaluation.json, config.yaml, plots/*.png)

:func:`load_model` checks the seal before parsing anything (:func:`verify_bundle`): the
manifest's format and the package's minor version first, then that every file in the folder is
listed, every listed path stays inside the folder (no ``..``, no absolute path, no link out) and
every file matches its sha256. Files are then read only through the seal (:class:`_Sealed`), which
refuses a file the manifest does not list and re-checks the hash of the bytes it returns. No file
in a bundle is ever unpickled. Anything else is a :class:`~winback.exceptions.ModelError` naming
the file.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import lightgbm as lgb
import numpy as np

from winback.exceptions import ConfigError, ModelError
from winback.features import FeatureConfig
from winback.io import output_lock, sha256_file, staging_path
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
_SHA256 = re.compile(r"[0-9a-f]{64}")
_MAX_MANIFEST_BYTES = 10_000_000


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

    The bundle is assembled in a hidden folder beside ``path`` (created with the user's umask,
    like any folder) and moved into place, so a crash never leaves a half-written bundle; an
    existing bundle at ``path`` is replaced, anything else there is refused (ConfigError). One
    save at a time may write ``path``; staging left by a killed save is removed by the next one.
    ``extra_files`` paths must stay inside the bundle (relative, no ``..``).
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
    for rel in contents:
        _inside(path, rel)
    with output_lock(path, what="model bundle"):
        _check_replaceable(path)
        _seal(contents, path, format)
    return path


def _check_replaceable(path: Path) -> None:
    """Refuse to replace anything at ``path`` but a sealed bundle, unchanged since sealed."""
    if not path.exists() and not path.is_symlink():
        return
    try:
        if path.is_symlink() or not path.is_dir():
            raise ModelError(f"{path} is not a folder")
        files = _listed(path, _manifest(path))
        unchanged = not _unlisted(path, files) and all(
            _inside(path, rel).is_file() and sha256_file(_inside(path, rel)) == digest
            for rel, digest in files.items()
        )
    except ModelError:
        unchanged = False
    if not unchanged:
        raise ConfigError(
            f"{path} exists and is not a bundle winback sealed (or its files changed since); "
            "winback never replaces a folder it did not write. Save to another path, or move "
            "the folder away yourself."
        )


def _seal(contents: dict[str, bytes], path: Path, format: object) -> None:
    tmp = staging_path(path)
    tmp.mkdir()  # unlike mkdtemp (0700), honours the umask
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


def _swap_into_place(tmp: Path, path: Path) -> None:
    old = None
    if path.exists():
        old = staging_path(path)
        os.replace(path, old)
    os.replace(tmp, path)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


# ----------------------------------------------------------------------------- loading


def _inside(root: Path, rel: object) -> Path:
    """``root / rel`` if ``rel`` is a plain relative path that stays inside ``root``."""
    if not isinstance(rel, str) or not rel or "\\" in rel or "\x00" in rel:
        raise ModelError(f"Bundle {root}: {rel!r} is not a relative file path of the bundle.")
    pure = PurePosixPath(rel)
    parts = pure.parts
    if pure.is_absolute() or pure.as_posix() != rel or any(p in ("..", ".", "") for p in parts):
        raise ModelError(
            f"Bundle {root}: the path {rel!r} points outside the bundle (absolute, with '..' "
            "or not in plain form); a bundle only names its own files. It will not be loaded."
        )
    file = root.joinpath(*parts)
    resolved = file.resolve()
    if not resolved.is_relative_to(root.resolve()):
        raise ModelError(
            f"Bundle {root}: {rel} is a link to {resolved}, outside the bundle. It will not be "
            "loaded."
        )
    return file


def _manifest(root: Path) -> dict[str, Any]:
    manifest_path = root / MANIFEST
    if manifest_path.is_symlink() or not manifest_path.is_file():
        raise ModelError(f"{root} is not a winback model bundle: {MANIFEST} is missing.")
    if manifest_path.stat().st_size > _MAX_MANIFEST_BYTES:
        raise ModelError(f"{manifest_path} is not a valid manifest: it is far too large.")
    try:
        manifest = json.loads(manifest_path.read_bytes().decode("utf-8"))
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError
        raise ModelError(f"{manifest_path} is not a valid manifest: {_first_line(exc)}") from exc
    if not isinstance(manifest, dict):
        raise ModelError(f"{manifest_path} is not a valid manifest: expected a JSON object.")
    return manifest


def _listed(root: Path, manifest: dict[str, Any]) -> dict[str, str]:
    """The manifest's ``files``: relative path -> sha256, every path checked to stay inside."""
    files = manifest.get("files")
    if not isinstance(files, dict) or not files:
        raise ModelError(
            f"{root / MANIFEST} is not a valid manifest: 'files' must list every file of the "
            "bundle with its sha256."
        )
    for rel, digest in files.items():
        _inside(root, rel)
        if rel == MANIFEST or not isinstance(digest, str) or not _SHA256.fullmatch(digest):
            raise ModelError(
                f"{root / MANIFEST} is not a valid manifest: the entry {rel!r} needs a sha256 "
                "(64 hex digits)."
            )
    return files


def _unlisted(root: Path, files: dict[str, str]) -> list[str]:
    """Files (and links) in the bundle folder that the manifest does not list."""
    found = []
    for folder, dirs, names in os.walk(root):
        base = Path(folder).relative_to(root)
        links = [d for d in dirs if Path(folder, d).is_symlink()]
        for name in [*names, *links]:
            rel = (base / name).as_posix()
            if rel != MANIFEST and rel not in files:
                found.append(rel)
    return sorted(found)


def verify_bundle(path: Path, *, format: object = FORMAT_VERSION) -> dict[str, Any]:
    """Check the seal of the bundle at ``path``; return the manifest or raise ModelError.

    In order: the manifest is a JSON object; its ``format`` and the winback minor version
    match; every entry of ``files`` is a path inside the bundle with a sha256; every file in the
    folder is listed; every listed file exists and matches its sha256.
    """
    root = Path(path)
    manifest = _manifest(root)
    _check_format(root, manifest.get("format"), format)
    _check_version(root, str(manifest.get("winback_version", "")))
    files = _listed(root, manifest)
    extra = _unlisted(root, files)
    if extra:
        raise ModelError(
            f"Bundle {root}: {', '.join(extra[:5])} {'is' if len(extra) == 1 else 'are'} not "
            f"listed in {MANIFEST}: a sealed bundle holds only the files it was saved with. "
            "Remove them or retrain; it will not be loaded."
        )
    for rel, expected in sorted(files.items()):
        file = _inside(root, rel)
        if not file.is_file():
            raise ModelError(f"Bundle {root}: {rel} is listed in the manifest but missing.")
        if sha256_file(file) != expected:
            raise ModelError(_changed(root, rel))
    return manifest


def _changed(root: Path, rel: str) -> str:
    return (
        f"Bundle {root}: {rel} does not match its sha256 in {MANIFEST} (the file was "
        "changed after training). Retrain or restore the bundle; it will not be loaded."
    )


@dataclass(frozen=True)
class _Sealed:
    """A verified bundle folder whose files can be read only through the seal.

    ``sealed / "churn_lightgbm.txt"`` is a :class:`_SealedFile`: reading it refuses a path the
    manifest does not list and checks the sha256 of the very bytes it returns (so a file
    swapped after :func:`verify_bundle` is refused too).
    """

    root: Path
    files: dict[str, str]

    def __truediv__(self, rel: str) -> _SealedFile:
        return _SealedFile(self, rel)

    def __str__(self) -> str:
        return str(self.root)


@dataclass(frozen=True)
class _SealedFile:
    bundle: _Sealed
    rel: str

    def read_bytes(self) -> bytes:
        root, files = self.bundle.root, self.bundle.files
        if self.rel not in files:
            raise ModelError(
                f"Bundle {root}: model.json names {self.rel!r}, which {MANIFEST} does not list; "
                "an unlisted file is never read. Retrain the model."
            )
        data = _inside(root, self.rel).read_bytes()
        if hashlib.sha256(data).hexdigest() != files[self.rel]:
            raise ModelError(_changed(root, self.rel))
        return data

    def read_text(self, encoding: str = "utf-8") -> str:
        return self.read_bytes().decode(encoding)


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
        If the bundle is missing, of another format or minor version, holds a file the manifest
        does not list, lists a path outside the bundle, or a file does not match the manifest
        (naming the file), or model.json names a file the manifest does not list.
    """
    path = Path(path)
    if not path.is_dir():
        raise ModelError(f"No model bundle at {path}: expected a folder written by winback train.")
    sealed = _Sealed(path, dict(verify_bundle(path)["files"]))
    if "model.json" not in sealed.files:
        raise ModelError(f"Bundle {path}: model.json is not listed in {MANIFEST}; retrain.")
    try:
        doc = json.loads((sealed / "model.json").read_text(encoding="utf-8"))
        if not isinstance(doc, dict):
            raise TypeError("model.json is not a JSON object")
        tasks = {name: _restore_task(sealed, t) for name, t in doc["tasks"].items()}  # type: ignore[arg-type]
        return WinbackModel(
            name=doc["name"],
            tasks=tasks,
            feature_config=FeatureConfig.model_validate(doc["feature_config"]),
            btyd=_restore_btyd(doc["btyd_params"]),
            btyd_horizons_days=list(doc["btyd_horizons_days"]),
            metadata=doc["metadata"],
        )
    except (
        OSError,
        ValueError,
        KeyError,
        TypeError,
        AttributeError,
        lgb.basic.LightGBMError,
    ) as exc:
        # ValueError covers JSONDecodeError, UnicodeDecodeError and pydantic's ValidationError
        raise ModelError(
            f"Bundle {path}: model.json or a model file it names cannot be read "
            f"({type(exc).__name__}: {_first_line(exc)}). "
            "Retrain the model."
        ) from exc


def _first_line(exc: BaseException) -> str:
    lines = str(exc).splitlines()
    return lines[0] if lines else repr(exc)
