"""The seal of a model bundle: every file listed and hashed, no unlisted file read, no path out
of the bundle, format and version first; anything else a ModelError naming the file."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from winback.exceptions import ConfigError, ModelError
from winback.models import _bundle, load_model, save_model


@pytest.fixture(scope="session")
def sealed(sim_trained: Any) -> Path:
    """The bundle of the model trained once per session on the simulated base."""
    return sim_trained.bundle


@pytest.fixture
def bundle(sealed: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(sealed, tmp_path / "bundle"))


def _manifest(bundle: Path) -> dict[str, Any]:
    return json.loads((bundle / "manifest.json").read_text())


def _write_manifest(bundle: Path, manifest: dict[str, Any]) -> None:
    (bundle / "manifest.json").write_text(json.dumps(manifest))


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _refused(bundle: Path, pattern: str) -> str:
    with pytest.raises(ModelError, match=pattern) as info:
        load_model(bundle)
    return str(info.value)


def test_an_untouched_bundle_loads(bundle: Path) -> None:
    assert load_model(bundle).name == "sim"


def test_a_manifest_that_lists_nothing_is_refused(bundle: Path) -> None:
    manifest = _manifest(bundle)
    manifest["files"] = {}
    _write_manifest(bundle, manifest)
    _refused(bundle, r"'files' must list every file of the bundle with its sha256")


@pytest.mark.parametrize("name", ["notes.txt", ".DS_Store", "plots/extra.png", "new/deep/x.txt"])
def test_a_file_the_manifest_does_not_list_is_refused_by_name(bundle: Path, name: str) -> None:
    (bundle / name).parent.mkdir(parents=True, exist_ok=True)
    (bundle / name).write_text("added later")
    message = _refused(bundle, re.escape(name) + r" is not listed in manifest\.json")
    assert str(bundle) in message


def test_an_entry_dropped_from_the_manifest_is_refused(bundle: Path) -> None:
    manifest = _manifest(bundle)
    del manifest["files"]["evaluation.json"]
    _write_manifest(bundle, manifest)
    _refused(bundle, r"evaluation\.json is not listed in manifest\.json")


@pytest.mark.parametrize(
    "entry",
    [
        "../outside.txt",
        "../../etc/hostname",
        "/etc/hostname",
        "plots/../../outside.txt",
        "plots\\..\\..\\outside.txt",
        "./model.json",
        "",
    ],
)
def test_a_manifest_path_out_of_the_bundle_is_refused_before_reading_it(
    bundle: Path, entry: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    outside = bundle.parent / "outside.txt"
    outside.write_text("somebody else's file")
    manifest = _manifest(bundle)
    manifest["files"][entry] = _sha(outside)
    _write_manifest(bundle, manifest)
    hashed: list[Path] = []
    real = _bundle.sha256_file
    monkeypatch.setattr(_bundle, "sha256_file", lambda p: hashed.append(p) or real(p))
    with pytest.raises(ModelError, match=r"Bundle .*(outside the bundle|not a relative file)"):
        load_model(bundle)
    assert hashed == []  # refused while checking the listing, before any file was read


def test_a_link_out_of_the_bundle_is_refused(bundle: Path) -> None:
    outside = bundle.parent / "outside.txt"
    outside.write_text("somebody else's file")
    os.symlink(outside, bundle / "linked.txt")
    manifest = _manifest(bundle)
    manifest["files"]["linked.txt"] = _sha(outside)
    _write_manifest(bundle, manifest)
    _refused(bundle, r"linked\.txt is a link to .*outside\.txt, outside the bundle")


def test_a_model_file_named_outside_the_bundle_is_never_read(bundle: Path) -> None:
    other = bundle.parent / "other"
    other.mkdir()
    shutil.copy(bundle / "churn_lightgbm.txt", other / "model.txt")
    doc = json.loads((bundle / "model.json").read_text())
    doc["tasks"]["churn"]["models"]["lightgbm"]["file"] = "../other/model.txt"
    (bundle / "model.json").write_text(json.dumps(doc))
    manifest = _manifest(bundle)  # resealed by whoever edited it
    manifest["files"]["model.json"] = _sha(bundle / "model.json")
    _write_manifest(bundle, manifest)
    _refused(
        bundle, r"model\.json names '\.\./other/model\.txt', which manifest\.json does not list"
    )


def test_a_file_swapped_after_the_check_is_refused_when_read(
    bundle: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = _bundle.verify_bundle

    def then_swap(path: Path) -> dict[str, Any]:
        manifest = real(path)
        with open(path / "churn_lightgbm.txt", "a") as handle:
            handle.write("\n")
        return manifest

    monkeypatch.setattr(_bundle, "verify_bundle", then_swap)
    _refused(bundle, r"churn_lightgbm\.txt does not match its sha256")


def test_format_and_version_are_checked_before_any_file_is_hashed(
    bundle: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hashed: list[Path] = []
    monkeypatch.setattr(_bundle, "sha256_file", lambda p: hashed.append(p) or "0" * 64)
    original = _manifest(bundle)
    for key, value, pattern in (
        ("format", 99, r"has format 99; this winback reads format"),
        ("winback_version", "0.0.1", r"was written by winback 0\.0\.1"),
    ):
        manifest = json.loads(json.dumps(original))
        manifest[key] = value
        manifest["files"]["notes.txt"] = "not even a hash"
        _write_manifest(bundle, manifest)
        _refused(bundle, pattern)
    assert hashed == []


_EDITS = st.sampled_from(
    [
        "drop_entry",
        "add_entry",
        "change_hash",
        "bad_hash",
        "files_as_list",
        "no_files",
        "format",
        "version",
        "not_an_object",
        "path_out",
    ]
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(edits=st.lists(_EDITS, min_size=1, max_size=3), pick=st.integers(0, 1000))
def test_any_edit_of_the_manifest_is_a_model_error(
    sealed: Path, tmp_path_factory: pytest.TempPathFactory, edits: list[str], pick: int
) -> None:
    bundle = Path(shutil.copytree(sealed, tmp_path_factory.mktemp("edit") / "bundle"))
    manifest: Any = _manifest(bundle)
    for edit in edits:
        if not isinstance(manifest, dict) or not isinstance(manifest.get("files"), dict):
            break
        files = manifest["files"]
        names = sorted(files) or ["model.json"]
        name = names[pick % len(names)]
        if edit == "drop_entry":
            files.pop(name, None)
        elif edit == "add_entry":
            files[f"extra{pick}.txt"] = "a" * 64
        elif edit == "change_hash":
            files[name] = hashlib.sha256(name.encode()).hexdigest()
        elif edit == "bad_hash":
            files[name] = "xyz"
        elif edit == "files_as_list":
            manifest["files"] = list(files)
        elif edit == "no_files":
            del manifest["files"]
        elif edit == "format":
            manifest["format"] = pick
        elif edit == "version":
            manifest["winback_version"] = f"{pick}.{pick}.0"
        elif edit == "not_an_object":
            manifest = [manifest]
        elif edit == "path_out":
            files[f"../{name}"] = files.pop(name, "a" * 64)
    if manifest == _manifest(sealed):  # an edit that changes nothing (e.g. format = 2)
        return
    (bundle / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ModelError):
        load_model(bundle)


def test_a_saved_bundle_gets_the_users_umask_not_0700(sealed: Path, tmp_path: Path) -> None:
    model = load_model(sealed)
    mask = os.umask(0o022)
    try:
        save_model(model, tmp_path / "open")
        os.umask(0o027)
        save_model(model, tmp_path / "group")
    finally:
        os.umask(mask)
    assert (tmp_path / "open").stat().st_mode & 0o777 == 0o755
    assert (tmp_path / "group").stat().st_mode & 0o777 == 0o750
    assert (tmp_path / "group" / "model.json").stat().st_mode & 0o777 == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["group", "open"]  # no staging left
    load_model(tmp_path / "group")


def test_extra_files_must_stay_inside_the_bundle(sealed: Path, tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="points outside the bundle"):
        save_model(load_model(sealed), tmp_path / "b", extra_files={"../evil.txt": b"x"})
    assert not (tmp_path / "evil.txt").exists() and not (tmp_path / "b").exists()


def _user_folder(path: Path) -> None:
    path.mkdir()
    (path / "thesis.tex").write_text("years of work")


def _bundle_with_a_user_file(path: Path, sealed: Path) -> None:
    shutil.copytree(sealed, path)
    (path / "notes.txt").write_text("mine")


def _edited_bundle(path: Path, sealed: Path) -> None:
    shutil.copytree(sealed, path)
    with open(path / "model.json", "a") as handle:
        handle.write(" ")


@pytest.mark.parametrize(
    "squat",
    [
        lambda path, sealed: _user_folder(path),
        lambda path, sealed: path.write_text("a file"),
        lambda path, sealed: path.symlink_to(sealed),
        _bundle_with_a_user_file,
        _edited_bundle,
    ],
    ids=["user folder", "file", "link to a bundle", "bundle + user file", "edited bundle"],
)
def test_saving_never_replaces_what_winback_did_not_seal(sealed, tmp_path, squat) -> None:
    path = tmp_path / "model"
    squat(path, sealed)
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    with pytest.raises(ConfigError, match="is not a bundle winback sealed"):
        save_model(load_model(sealed), path)
    assert {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()} == before


def test_saving_replaces_its_own_sealed_bundle(sealed: Path, tmp_path: Path) -> None:
    model = load_model(sealed)
    model.metadata["run"] = "first"
    save_model(model, tmp_path / "model")
    model.metadata["run"] = "second"
    save_model(model, tmp_path / "model")
    assert load_model(tmp_path / "model").metadata["run"] == "second"
