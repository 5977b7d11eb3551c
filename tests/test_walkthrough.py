"""The README's walkthrough runs as written: every block marked ``<!-- walkthrough -->``.

The shell block's commands run one by one, verbatim, in a fresh folder holding a copy of
``configs/`` (as in a clone), with the virtualenv's ``bin`` first on PATH (as after
``source .venv/bin/activate``); the Python block then runs in the same folder. The outputs are
checked against each other: scores reconcile with the demo's customers, the export and the
report exist, MLflow's predictions are the scores' numbers.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from winback.actions import load_actions_config
from winback.scoring import read_score_summary

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
MARKER = "<!-- walkthrough -->"
_BLOCK = re.compile(re.escape(MARKER) + r"\s*```(\w+)\n(.*?)```", re.DOTALL)


def walkthrough_blocks(text: str) -> list[tuple[str, str]]:
    """``(language, body)`` of each fenced block right after a ``<!-- walkthrough -->`` line."""
    return [(m.group(1), m.group(2)) for m in _BLOCK.finditer(text)]


def shell_commands(block: str) -> list[str]:
    """The block's commands: comment and blank lines dropped, ``\\`` continuations joined."""
    commands, current = [], ""
    for line in block.splitlines():
        if not current and (not line.strip() or line.lstrip().startswith("#")):
            continue
        current += line.strip() if current else line.rstrip()
        if current.endswith("\\"):
            current = current[:-1].rstrip() + " "
            continue
        commands.append(current.strip())
        current = ""
    assert not current, f"a command ends in a continuation: {current!r}"
    return commands


def test_commands_are_parsed_as_written():
    block = "# 1. a comment\nwinback a --x 1 \\\n    --y 2\n\nwinback b  # trailing\n"
    assert shell_commands(block) == ["winback a --x 1 --y 2", "winback b  # trailing"]
    text = f"x\n{MARKER}\n```bash\nwinback a\n```\n```bash\nnot marked\n```\n"
    assert walkthrough_blocks(text) == [("bash", "winback a\n")]


def _environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return env


def _run(command: list[str], folder: Path) -> str:
    done = subprocess.run(
        command, cwd=folder, env=_environment(), capture_output=True, text=True, timeout=900
    )
    assert done.returncode == 0, f"{command} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


# one worker runs the walkthrough once, for all its tests
pytestmark = pytest.mark.xdist_group("walkthrough")


@pytest.fixture(scope="module")
def walked(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    """Run the README's walkthrough blocks in a fresh folder; return it and each output."""
    blocks = walkthrough_blocks(README.read_text(encoding="utf-8"))
    languages = [language for language, _ in blocks]
    assert languages == ["bash", "python"], languages
    folder = tmp_path_factory.mktemp("walkthrough")
    shutil.copytree(ROOT / "configs", folder / "configs")
    outputs = {}
    for command in shell_commands(blocks[0][1]):
        outputs[command] = _run(["bash", "-c", command], folder)
    outputs["python"] = _run([sys.executable, "-c", blocks[1][1]], folder)
    return folder, outputs


@pytest.mark.slow
def test_walkthrough_starts_from_the_demo_data_and_runs_every_step(walked):
    _, outputs = walked
    steps = [command.split()[0:2] for command in outputs if command != "python"]
    assert steps[0] == ["winback", "demo"]
    for step in ("train", "score", "export", "report", "features"):
        assert ["winback", step] in steps
    assert any("mlflow models predict" in command for command in outputs)


@pytest.mark.slow
def test_scores_reconcile_with_the_demo_customers(walked):
    folder, _ = walked
    customers = pd.read_csv(folder / "data" / "customers.csv")
    orders = pd.read_csv(folder / "data" / "orders.csv")
    assert set(customers["customer_id"]) == set(orders["customer_id"])
    scores = pd.read_parquet(folder / "scores.parquet")
    counts = read_score_summary(folder / "scores.parquet")["customers"]
    assert counts["input"] == len(customers) == counts["scored"] + counts["rejected"]
    assert len(scores) == counts["scored"] and scores["customer_id"].is_unique
    assert set(scores["customer_id"]) <= set(customers["customer_id"])
    assert scores[["p_repurchase", "p_churn"]].stack().between(0, 1).all()
    assert (scores["p_repurchase"] + scores["p_churn"] <= 1 + 1e-12).all()
    assert scores["action"].ne("no_action").any()


@pytest.mark.slow
def test_export_holds_lists_control_and_who_was_left_out(walked):
    folder, _ = walked
    export = folder / "exports" / "spring"
    summary = json.loads((export / "summary.json").read_text())
    treatment = sorted(export.glob("treatment_*.csv"))
    assert treatment and (export / "control.csv").is_file()
    assert summary["files"] == sorted(p.name for p in export.iterdir())
    excluded = pd.read_csv(export / "excluded.csv")
    customers = pd.read_csv(folder / "data" / "customers.csv").set_index("customer_id")
    opted_out = excluded.loc[excluded["reason"] == "not_opted_in", "customer_id"]
    assert len(opted_out) and not customers.loc[opted_out, "marketing_opt_in"].any()
    actions = load_actions_config(folder / "configs" / "actions.yaml").actions
    email = {a.name for a in actions if a.channel == "email"}
    emailed = [p for p in treatment if p.stem.removeprefix("treatment_") in email]
    assert emailed  # lists of postal actions (vip_surprise_perk) hold postal addresses instead
    exported = pd.concat(pd.read_csv(p) for p in emailed)
    assert exported.iloc[:, 0].str.endswith("@example.com").all()  # the e-mail address column


@pytest.mark.slow
def test_report_is_written_and_printed(walked):
    folder, outputs = walked
    html = folder / "reports" / "report.html"
    assert html.is_file() and html.read_text(encoding="utf-8").lstrip().startswith("<!DOCTYPE")
    assert (folder / "reports" / "report.json").is_file()
    report_output = next(out for command, out in outputs.items() if "winback report" in command)
    assert "reports/report.html" in report_output


@pytest.mark.slow
def test_mlflow_predictions_are_the_scores(walked):
    folder, _ = walked
    predictions = pd.DataFrame(json.loads((folder / "predictions.json").read_text())["predictions"])
    scores = pd.read_parquet(folder / "scores.parquet").set_index("customer_id")
    predictions = predictions.set_index("customer_id")
    assert len(predictions) == len(scores)
    columns = ["p_repurchase", "p_churn", "expected_spend"]
    np.testing.assert_allclose(
        predictions[columns].to_numpy(), scores.loc[predictions.index, columns].to_numpy(), rtol=0
    )


def makefile_recipe(text: str, target: str) -> list[str]:
    """The commands of a Makefile target: ``$(BIN)/`` dropped, continuations joined."""
    lines = text.split(f"\n{target}:", 1)[1].split("\n")[1:]
    recipe = "\n".join(line[1:] for line in itertools.takewhile(lambda x: x[:1] == "\t", lines))
    return [c.replace("$(BIN)/", "") for c in shell_commands(recipe) if not c.startswith("@")]


def test_make_demo_runs_the_walkthrough_on_all_customers():
    readme = shell_commands(walkthrough_blocks(README.read_text(encoding="utf-8"))[0][1])
    make = makefile_recipe((ROOT / "Makefile").read_text(encoding="utf-8"), "demo")
    assert make[0] == "winback demo --out data/"
    assert readme[0] == "winback demo --sample --out data/"
    assert make[1:] == readme[1 : len(make)]
