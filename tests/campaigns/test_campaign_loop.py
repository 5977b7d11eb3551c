"""Done when: train, score with a control group and export; later measure with the orders that
followed; update the actions and score again (by the measured uplift, then by an uplift model).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from campaign_testing import CAMPAIGN_DATE, trained_bundle
from typer.testing import CliRunner

from winback.actions import load_actions_config
from winback.campaigns import load_uplift_model, simulate_campaign
from winback.cli import app
from winback.exceptions import ModelError
from winback.models import load_model

# one worker trains the shared churn model and runs the loop once
pytestmark = pytest.mark.xdist_group("campaigns")
ACTIONS_YAML = Path(__file__).parents[2] / "configs" / "actions.yaml"
WINDOW = 60
Z = 1.959963984540054


def invoke(*args: str) -> str:
    result = CliRunner().invoke(app, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Path:
    return trained_bundle(tmp_path_factory.getbasetemp() / "winback_campaigns")


@pytest.fixture(scope="module")
def loop(tmp_path_factory, bundle) -> dict[str, Path]:
    """The whole loop on a simulated base of 3,000 customers, through the CLI."""
    root = tmp_path_factory.mktemp("loop")
    sim = simulate_campaign(
        load_model(bundle),
        load_actions_config(ACTIONS_YAML),
        n_customers=3000,
        campaign_date=CAMPAIGN_DATE,
        window_days=WINDOW,
        seed=7,
    )
    data = {name: root / f"{name}.parquet" for name in ("orders", "events", "customers")}
    for name, path in data.items():
        getattr(sim, name).to_parquet(path, index=False)
    inputs = ("--orders", data["orders"], "--events", data["events"])
    inputs += ("--customers", data["customers"])
    paths = {**data, "root": root, "sim_scores": root / "sim_scores.parquet"}
    sim.scores.to_parquet(paths["sim_scores"])
    paths["scores"] = root / "scores.parquet"
    invoke("score", "--model", bundle, *inputs, "--as-of", CAMPAIGN_DATE,
           "--actions", ACTIONS_YAML, "--out", paths["scores"], "--reasons", "path")  # fmt: skip
    paths["export"] = root / "export"
    invoke("export", "--scores", paths["scores"], "--customers", data["customers"],
           "--out", paths["export"])  # fmt: skip
    paths.update(
        results=root / "measurement.json",
        new_actions=root / "new_actions.yaml",
        uplift=root / "uplift",
        mlflow=root / "mlflow.db",
    )
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(root)  # MLflow writes a SQLite store's artifacts under the working directory
        paths["measure_output"] = _measure(paths, inputs, bundle)
    return paths


def _measure(paths: dict, inputs: tuple, bundle: Path) -> str:
    return invoke(
        "measure", "--campaign", paths["export"], *inputs, "--campaign-date", CAMPAIGN_DATE,
        "--window-days", WINDOW, "--results", paths["results"],
        "--update-actions", ACTIONS_YAML, "--out", paths["new_actions"],
        "--model", bundle, "--fit-uplift", paths["uplift"],
        "--tracking-uri", f"sqlite:///{paths['mlflow']}",
    )  # fmt: skip


def test_the_campaign_scored_by_the_cli_is_the_simulated_one(loop) -> None:
    scored = pd.read_parquet(loop["scores"])
    simulated = pd.read_parquet(loop["sim_scores"])
    assert scored["group"].tolist() == simulated["group"].tolist()


def test_measure_reports_every_exported_customer(loop) -> None:
    results = json.loads(loop["results"].read_text())
    export = json.loads((loop["export"] / "summary.json").read_text())
    for row in results["actions"]:
        sent = export["actions"][row["label"]]
        assert row["n_treatment"] == sent["treatment"]["exported"]
        assert row["n_control"] == sent["control"]["exported"]
        assert row["response"]["ci_low"] <= row["response"]["diff"] <= row["response"]["ci_high"]
    assert results["campaign_id"] == "winback-2024-q1"
    assert "incremental response" in loop["measure_output"]


def test_the_new_actions_carry_the_shrunk_measured_uplift(loop) -> None:
    results = json.loads(loop["results"].read_text())
    old, new = load_actions_config(ACTIONS_YAML), load_actions_config(loop["new_actions"])
    rows = {row["label"]: row for row in results["actions"]}
    for before, after in zip(old.actions, new.actions, strict=True):
        if before.name not in rows:
            assert after == before
            continue
        estimate = rows[before.name]["uplift_estimate"]
        se = (estimate["ci_high"] - estimate["ci_low"]) / (2 * Z)
        weight = (1 / se**2) / (1 / se**2 + 1 / 0.05**2)
        expected = weight * estimate["estimate"] + (1 - weight) * before.uplift
        assert after.uplift == pytest.approx(min(1, max(0, expected)), abs=1e-5)
        assert after.uplift_source.campaign_id == "winback-2024-q1"


def test_scoring_again_allocates_by_the_measured_uplift(loop, bundle) -> None:
    scores = loop["root"] / "again.parquet"
    invoke("score", "--model", bundle, "--orders", loop["orders"], "--as-of", CAMPAIGN_DATE,
           "--events", loop["events"], "--customers", loop["customers"],
           "--actions", loop["new_actions"], "--out", scores, "--reasons", "path")  # fmt: skip
    frame = pd.read_parquet(scores)
    new = {a.name: a for a in load_actions_config(loop["new_actions"]).actions}
    chosen = frame.loc[frame["group"] != "none"]
    uplift = chosen["action"].map({k: a.uplift for k, a in new.items()})
    cost = chosen["action"].map({k: a.unit_cost for k, a in new.items()})
    p_churn = chosen["p_churn"]
    at_risk = p_churn * chosen["expected_value"] / np.maximum(1 - p_churn, 0.05)
    expected = uplift * at_risk - cost  # uplift x value at risk - cost
    assert np.allclose(chosen["expected_gain"], expected)


def test_scoring_with_the_uplift_model_leaves_sleeping_dogs_alone(loop, bundle) -> None:
    model = load_uplift_model(loop["uplift"])
    raw = load_actions_config(loop["new_actions"]).model_dump(mode="json", exclude_none=True)
    for action in raw["actions"]:  # actions the export reached (mail reached nobody) by model
        if action["name"] in model.actions_:
            action["uplift"] = "model"
    model_actions = loop["root"] / "model_actions.yaml"
    model_actions.write_text(yaml.safe_dump(raw))
    scores = loop["root"] / "by_model.parquet"
    invoke("score", "--model", bundle, "--orders", loop["orders"], "--as-of", CAMPAIGN_DATE,
           "--events", loop["events"], "--customers", loop["customers"],
           "--actions", model_actions, "--out", scores, "--reasons", "path",
           "--uplift-model", loop["uplift"])  # fmt: skip
    frame = pd.read_parquet(scores)
    assert set(model.columns) <= set(frame.columns)
    for action in model.actions_:
        mine = frame.loc[frame["action"] == action]
        assert (mine[f"uplift_{action}"] > 0).all()
        # predicted incremental response x value if retained - cost
        retained = mine["expected_value"] / np.maximum(1 - mine["p_churn"], 0.05)
        gain = mine[f"uplift_{action}"] * retained - mine["cost"]
        assert np.allclose(mine["expected_gain"], gain)
    evaluation = model.metadata_["evaluation"]["actions"]
    assert all(math.isfinite(v["qini_model"]) for v in evaluation.values())


def test_the_uplift_bundle_is_sealed(loop, tmp_path) -> None:
    import shutil

    copy = tmp_path / "uplift"
    shutil.copytree(loop["uplift"], copy)
    text = next(copy.glob("*.txt"))
    text.write_text(text.read_text() + "\n")
    with pytest.raises(ModelError, match="does not match its sha256"):
        load_uplift_model(copy)


def test_the_report_shows_the_measured_campaign(loop) -> None:
    out = loop["root"] / "report"
    invoke("report", "--scores", loop["scores"], "--measurement", loop["results"], "--out", out)
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "Incremental response [95% CI]" in html and "winback_email" in html
    report = json.loads((out / "report.json").read_text())
    assert report["campaign_results"]["measured"] is True


def test_the_measurement_is_an_mlflow_run_of_the_campaigns_experiment(loop) -> None:
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=f"sqlite:///{loop['mlflow']}")
    experiment = client.get_experiment_by_name("campaigns")
    runs = client.search_runs([experiment.experiment_id])
    assert len(runs) == 1
    run = runs[0]
    assert run.data.params["campaign_id"] == "winback-2024-q1"
    assert "all.response.diff" in run.data.metrics


def test_bad_input_is_one_line(loop, tmp_path) -> None:
    result = CliRunner().invoke(
        app,
        ["measure", "--campaign", str(loop["scores"]), "--orders", str(loop["orders"]),
         "--campaign-date", CAMPAIGN_DATE, "--window-days", "120", "--no-tracking",
         "--results", str(tmp_path / "m.json")],
    )  # fmt: skip
    assert result.exit_code == 1
    assert result.output.startswith("DataError: The orders end on")
    assert result.output.count("\n") == 1
    result = CliRunner().invoke(
        app,
        ["measure", "--campaign", str(loop["scores"]), "--orders", str(loop["orders"]),
         "--campaign-date", CAMPAIGN_DATE, "--window-days", "30", "--no-tracking",
         "--results", str(tmp_path / "m.json"), "--update-actions", str(ACTIONS_YAML),
         "--out", str(ACTIONS_YAML)],
    )  # fmt: skip
    assert result.exit_code == 1
    assert "winback never overwrites its input" in result.output


def test_measure_never_replaces_a_file_it_did_not_write(loop, tmp_path) -> None:
    mine = tmp_path / "notes.json"
    mine.write_text('{"my": "notes"}')
    result = CliRunner().invoke(
        app,
        ["measure", "--campaign", str(loop["scores"]), "--orders", str(loop["orders"]),
         "--campaign-date", CAMPAIGN_DATE, "--window-days", "30", "--no-tracking",
         "--results", str(mine)],
    )  # fmt: skip
    assert result.exit_code == 1
    assert "exists and is not a measurement winback wrote" in result.output
    assert mine.read_text() == '{"my": "notes"}'
