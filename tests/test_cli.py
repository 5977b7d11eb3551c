"""The `winback score`, `export` and `report` commands end to end through typer's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from simulated import AS_OF, SimTrained
from winback.cli import app

ACTIONS = Path(__file__).parents[1] / "configs" / "actions.yaml"


@pytest.fixture(scope="module")
def trained(sim_trained: SimTrained) -> tuple[Path, dict[str, Path]]:
    return sim_trained.bundle, sim_trained.paths


def _score_args(trained, out: Path, *extra: str) -> list[str]:
    bundle, data = trained
    return [
        "score",
        "--model",
        str(bundle),
        "--orders",
        str(data["orders"]),
        "--events",
        str(data["events"]),
        "--as-of",
        AS_OF,
        "--out",
        str(out),
        "--chunk-size",
        "200",
        *extra,
    ]


def _export_args(scores: Path, customers: Path, out: Path, *extra: str) -> list[str]:
    return [
        "export",
        "--scores",
        str(scores),
        "--customers",
        str(customers),
        "--out",
        str(out),
        *extra,
    ]


def test_score_export_report_end_to_end(trained, tmp_path):
    _, data = trained
    runner = CliRunner()
    scores = tmp_path / "scores.parquet"
    extra = ("--customers", str(data["customers"]), "--actions", str(ACTIONS))
    result = runner.invoke(app, _score_args(trained, scores, *extra))
    assert result.exit_code == 0, result.output
    summary = json.loads((tmp_path / "scores.summary.json").read_text())
    counts = summary["customers"]
    assert f"{counts['input']} input customers = {counts['scored']} scored" in result.output
    scored = pd.read_parquet(scores)
    assert len(scored) == counts["scored"] > 0
    assert {"action", "group", "reasons", "segment"} <= set(scored.columns)
    rejects = pd.read_csv(tmp_path / "scores.rejects.csv")
    assert len(rejects) == counts["rejected"] > 0

    export_dir = tmp_path / "exports" / "q1"
    result = runner.invoke(
        app,
        _export_args(scores, data["customers"], export_dir, "--layout", "mailchimp"),
    )
    assert result.exit_code == 0, result.output
    export_summary = json.loads((export_dir / "summary.json").read_text())
    assert export_summary["campaign_id"] == summary["actions"]["campaign_id"]
    assert (export_dir / "control.csv").is_file()
    assert any(p.name.startswith("treatment_") for p in export_dir.iterdir())

    report_dir = tmp_path / "reports"
    result = runner.invoke(
        app,
        [
            "report",
            "--scores",
            str(scores),
            "--orders",
            str(data["orders"]),
            "--as-of",
            AS_OF,
            "--out",
            str(report_dir),
        ],
    )
    assert result.exit_code == 0, result.output
    report = json.loads((report_dir / "report.json").read_text())
    assert report["cutoff"] == AS_OF
    assert "retention" in report and "scored" in report
    assert (report_dir / "report.md").is_file()


def test_score_prints_type_and_message_for_a_bad_orders_file(trained, tmp_path):
    bundle, _ = trained
    bad = tmp_path / "orders.csv"
    bad.write_text("who,when\n1,2023-01-01\n")
    result = CliRunner().invoke(
        app,
        [
            "score",
            "--model",
            str(bundle),
            "--orders",
            str(bad),
            "--as-of",
            AS_OF,
            "--out",
            str(tmp_path / "scores.csv"),
        ],
    )
    assert result.exit_code == 1
    assert result.stderr.startswith("DataError: ")
    assert "customer_id" in result.stderr
    assert "Traceback" not in result.output
    assert not (tmp_path / "scores.csv").exists()


def test_export_without_actions_explains_how_to_get_them(trained, tmp_path):
    _, data = trained
    scores = tmp_path / "scores.csv"
    runner = CliRunner()
    result = runner.invoke(app, _score_args(trained, scores))
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "scores.summary.json").read_text())["drift"]["computed"]
    result = runner.invoke(app, _export_args(scores, data["customers"], tmp_path / "exports"))
    assert result.exit_code == 1
    assert result.stderr.startswith("ConfigError: ")
    assert "score with --actions" in result.stderr


def test_score_rejects_a_missing_model_bundle(tmp_path):
    result = CliRunner().invoke(
        app,
        [
            "score",
            "--model",
            str(tmp_path / "nope"),
            "--orders",
            str(tmp_path / "o.csv"),
            "--as-of",
            AS_OF,
            "--out",
            str(tmp_path / "s.csv"),
        ],
    )
    assert result.exit_code == 1
    assert result.stderr.startswith("ModelError: No model bundle at")


@pytest.mark.xdist_group("dask")
def test_score_on_a_local_dask_cluster_writes_the_same_files(trained, tmp_path):
    runner = CliRunner()
    here, there = tmp_path / "here.csv", tmp_path / "there.csv"
    assert runner.invoke(app, _score_args(trained, here)).exit_code == 0
    result = runner.invoke(app, _score_args(trained, there, "--workers", "2"))
    assert result.exit_code == 0, result.output
    assert here.read_bytes() == there.read_bytes()
    assert (tmp_path / "here.summary.json").read_text() == (
        tmp_path / "there.summary.json"
    ).read_text()


def test_score_takes_workers_or_a_scheduler_not_both(trained, tmp_path):
    args = _score_args(trained, tmp_path / "s.csv", "--workers", "2", "--scheduler", "tcp://x:1")
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 1
    assert "ConfigError: Give --workers (a local cluster) or --scheduler" in result.output


def test_score_names_a_scheduler_that_does_not_answer(trained, tmp_path):
    import dask

    args = _score_args(trained, tmp_path / "s.csv", "--scheduler", "tcp://127.0.0.1:1")
    with dask.config.set({"distributed.comm.timeouts.connect": "1s"}):
        result = CliRunner().invoke(app, args)
    assert result.exit_code == 1
    assert "ConfigError: --scheduler tcp://127.0.0.1:1: no Dask scheduler answered" in result.output
    assert not (tmp_path / "s.csv").exists()
