"""What `winback score` and `winback export` tell the user, on the shared simulated model: the
column mappings of every table, the margin, why an action reached nobody, who was left out of an
export, drift once, and a progress bar only on a terminal."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import re
import struct
import subprocess
import sys
import termios
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from simulated import AS_OF, SimTrained, side_tables
from winback.actions import load_actions_config
from winback.models import load_model

ACTIONS = Path(__file__).parents[1] / "configs" / "actions.yaml"
runner = CliRunner()


def _app():
    from winback.cli import app

    return app


def _score(sim: SimTrained, out: Path, *extra: str, paths: dict[str, Path] | None = None):
    data = paths or sim.paths
    args = ["score", "--model", str(sim.bundle), "--as-of", AS_OF, "--out", str(out)]
    args += ["--chunk-size", "300"]
    for table in ("orders", "events", "customers"):
        args += [f"--{table}", str(data[table])]
    return runner.invoke(_app(), [*args, *extra])


@pytest.fixture(scope="module")
def campaign(sim_trained: SimTrained, tmp_path_factory) -> tuple[Path, dict, str]:
    """Scores of the shipped actions config: (scores file, summary, printed output)."""
    out = tmp_path_factory.mktemp("campaign") / "scores.parquet"
    result = _score(sim_trained, out, "--actions", str(ACTIONS))
    assert result.exit_code == 0, result.output
    summary = json.loads(out.with_name("scores.summary.json").read_text())
    return out, summary, result.output


def _renamed(sim: SimTrained, folder: Path) -> dict[str, Path]:
    """The simulated tables with events and customers columns renamed as a shop might."""
    renames = {
        "events": {"customer_id": "Customer ID", "event_ts": "Event Time", "event_type": "Event"},
        "customers": {"customer_id": "Customer ID", "marketing_opt_in": "Accepts Marketing"},
    }
    paths = {"orders": sim.paths["orders"]}
    for table, names in renames.items():
        paths[table] = folder / f"{table}.parquet"
        pd.read_parquet(sim.paths[table]).rename(columns=names).to_parquet(paths[table])
    return paths


def test_score_and_export_map_the_columns_of_events_and_customers(sim_trained, campaign, tmp_path):
    paths = _renamed(sim_trained, tmp_path)
    unmapped = _score(sim_trained, tmp_path / "bad.parquet", paths=paths)
    assert unmapped.exit_code == 1
    fix = '--event-columns "customer_id=Customer ID,event_ts=Event Time,event_type=Event"'
    assert fix in unmapped.output, unmapped.output

    out = tmp_path / "scores.parquet"
    result = _score(
        sim_trained,
        out,
        "--actions",
        str(ACTIONS),
        "--event-columns",
        "customer_id=Customer ID,event_ts=Event Time,event_type=Event",
        "--customer-columns",
        "customer_id=Customer ID,marketing_opt_in=Accepts Marketing",
        paths=paths,
    )
    assert result.exit_code == 0, result.output
    pd.testing.assert_frame_equal(pd.read_parquet(out), pd.read_parquet(campaign[0]))

    export = ["export", "--scores", str(out), "--customers", str(paths["customers"])]
    unmapped = runner.invoke(_app(), [*export, "--out", str(tmp_path / "x")])
    assert unmapped.exit_code == 1
    assert '--customer-columns "customer_id=Customer ID"' in unmapped.output, unmapped.output
    mapped = "customer_id=Customer ID,marketing_opt_in=Accepts Marketing"
    for name, extra in {"mapped": ["--customer-columns", mapped], "plain": []}.items():
        source = paths["customers"] if extra else sim_trained.paths["customers"]
        args = [*export[:-1], str(source), "--out", str(tmp_path / name), *extra]
        assert runner.invoke(_app(), args).exit_code == 0
    summaries = [
        json.loads((tmp_path / n / "summary.json").read_text()) for n in ("mapped", "plain")
    ]
    assert summaries[0] == summaries[1]


def test_margin_scales_expected_value_and_is_checked(sim_trained, campaign, tmp_path):
    out = tmp_path / "scores.parquet"
    assert _score(sim_trained, out, "--margin", "0.4").exit_code == 0
    scores = pd.read_parquet(out)
    np.testing.assert_allclose(scores["expected_value"], 0.4 * scores["expected_spend"])
    plain = pd.read_parquet(campaign[0])
    np.testing.assert_allclose(plain["expected_value"], plain["expected_spend"])
    refused = _score(sim_trained, tmp_path / "s.parquet", "--margin", "0")
    assert refused.exit_code == 1
    assert refused.output.startswith("ConfigError:") and "--margin" in refused.output


_OPS = {
    "==": lambda c, v: c == v,
    "!=": lambda c, v: c != v,
    "<": lambda c, v: c < v,
    "<=": lambda c, v: c <= v,
    ">": lambda c, v: c > v,
    ">=": lambda c, v: c >= v,
    "in": lambda c, v: c.isin(list(v)),
}


def _matches(rule, frame: pd.DataFrame) -> np.ndarray:
    """The rule evaluated here, independently of winback's rule engine."""
    if hasattr(rule, "all"):
        return np.logical_and.reduce([_matches(part, frame) for part in rule.all])
    if hasattr(rule, "any"):
        return np.logical_or.reduce([_matches(part, frame) for part in rule.any])
    return _OPS[rule.op](frame[rule.field], rule.value).to_numpy(dtype=bool)


def _count(pattern: str, text: str) -> int:
    found = re.search(pattern, text)
    return int(found.group(1).replace(",", "")) if found else 0


def _check_reason(actions, i: int, reason: str, allocated: pd.DataFrame, budget: float) -> None:
    """Recompute, from the allocation, the numbers a reason states; fail if any is false."""
    action = actions[i]
    eligible = _matches(action.when, allocated)
    # uplift x value at risk, value at risk = p_churn x expected_value / max(1 - p_churn, 0.05)
    p_churn = allocated["p_churn"]
    value = action.uplift * p_churn * allocated["expected_value"] / np.maximum(1 - p_churn, 0.05)
    gain = (value - action.unit_cost).to_numpy()
    assert action.name not in set(allocated["action"])
    if reason.startswith("no customer matched"):
        assert not eligible.any()
        parts = getattr(action.when, "all", None) or getattr(action.when, "any", None)
        counts = [int(_matches(p, allocated).sum()) for p in parts or [action.when]]
        assert re.findall(r": (\d[\d,]*)", reason) == [f"{c:,}" for c in counts]
    elif reason.startswith("expected gain not positive"):
        shown = re.search(
            r"for all ([\d,]+) eligible: unit_cost ([\d.]+) . .*at most (-?[\d.]+)$", reason
        )
        assert shown, reason
        assert int(shown.group(1).replace(",", "")) == eligible.sum()
        assert float(shown.group(2)) == pytest.approx(action.unit_cost)
        assert float(shown.group(3)) == pytest.approx(value[eligible].max(), abs=0.005)
        assert value[eligible].max() <= action.unit_cost
    else:
        positive = eligible & (gain > 0)
        assert _count(r"of the ([\d,]+) eligible with a positive", reason) == positive.sum() > 0
        better = positive & (allocated["expected_gain"].to_numpy() >= gain)
        assert _count(r"([\d,]+) got an action with a higher", reason) == better.sum()
        assert _count(r"budget exhausted for ([\d,]+)", reason) == (positive & ~better).sum()
        if "budget exhausted" in reason:
            left = budget - allocated["cost"].sum()
            assert left < action.unit_cost
            assert _count(r": ([\d,]+)\.\d\d left", reason) == int(left)


@pytest.mark.parametrize("margin", [None, "0.03"])
def test_every_action_that_reached_nobody_says_why_and_it_is_true(
    sim_trained, campaign, tmp_path, margin
):
    """The shipped actions; at a 3 % margin, some of them are not worth their cost (at 10 %,
    with the gain on the value at risk, every one of them reaches somebody)."""
    out, summary, output = campaign
    if margin is not None:
        out = tmp_path / "scores.parquet"
        result = _score(sim_trained, out, "--actions", str(ACTIONS), "--margin", margin)
        assert result.exit_code == 0, result.output
        output = result.output
        summary = json.loads(out.with_name("scores.summary.json").read_text())
    config = load_actions_config(ACTIONS)
    scores = pd.read_parquet(out)
    reasons = summary["actions"]["no_customers"]
    assert set(reasons) == {a.name for a in config.actions} - set(scores["action"])
    assert reasons or margin is None
    for i, action in enumerate(config.actions):
        if action.name in reasons:
            _check_reason(config.actions, i, reasons[action.name], scores, config.budget)
            assert f"  {action.name}: nobody, {reasons[action.name]}" in output


_EVERYONE = {"field": "p_churn", "op": ">=", "value": 0.0}
_PROBE = {"name": "probe", "channel": "mail", "offer": "x", "when": _EVERYONE}


@pytest.mark.parametrize(
    ("actions", "budget", "start"),
    [
        (
            [
                {
                    **_PROBE,
                    "unit_cost": 1.0,
                    "uplift": 0.5,
                    "when": {"all": [_EVERYONE, {"field": "n_orders", "op": "<", "value": 0}]},
                }
            ],
            1e6,
            "no customer matched",
        ),
        ([{**_PROBE, "unit_cost": 1e5, "uplift": 0.5}], 1e6, "expected gain not positive"),
        ([{**_PROBE, "unit_cost": 2.0, "uplift": 1.0}], 1.0, "of the "),
        (
            [
                {**_PROBE, "name": "better", "unit_cost": 0.5, "uplift": 0.9},
                {**_PROBE, "unit_cost": 0.5, "uplift": 0.3},
            ],
            1e6,
            "of the ",
        ),
    ],
    ids=["no match", "no gain", "budget", "outbid"],
)
def test_each_kind_of_reason_is_true_on_the_simulated_scores(campaign, actions, budget, start):
    from winback.actions import allocate_actions, empty_action_reasons, parse_actions_config

    allocation = ["action", "offer", "channel", "expected_gain", "cost", "group"]
    scores = pd.read_parquet(campaign[0]).drop(columns=allocation)
    config = parse_actions_config({"campaign_id": "c", "budget": budget, "actions": actions})
    allocated = allocate_actions(scores, config)
    reasons = empty_action_reasons(allocated, config)
    assert list(reasons) == ["probe"] and reasons["probe"].startswith(start), reasons
    _check_reason(config.actions, len(actions) - 1, reasons["probe"], allocated, budget)


def test_export_prints_who_was_left_out_of_each_list_and_why(campaign, sim_trained, tmp_path):
    out = tmp_path / "export"
    args = ["export", "--scores", str(campaign[0]), "--customers"]
    result = runner.invoke(_app(), [*args, str(sim_trained.paths["customers"]), "--out", str(out)])
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["actions"]
    for name, action in summary["actions"].items():
        line = next(line for line in result.output.splitlines() if line.startswith(f"{name}: "))
        for reason in {**action["treatment"]["left_out"], **action["control"]["left_out"]}:
            n = action["treatment"]["left_out"][reason] + action["control"]["left_out"][reason]
            words = reason.replace("_", " ")
            assert (f"{n:,} {words}" in line) == (n > 0), line
    left = sum(n for g in summary["left_out"].values() for n in g.values())
    assert left > 0  # opt-outs of the simulation (and mail without a postal address)
    assert "not opted in" in result.output


def test_drift_is_reported_once_in_winback_s_words(sim_trained, tmp_path):
    orders = pd.read_parquet(sim_trained.paths["orders"])
    orders["amount"] = orders["amount"] * 50  # spend features shift far from training
    paths = {**sim_trained.paths, "orders": tmp_path / "orders.parquet"}
    orders.to_parquet(paths["orders"])
    result = _score(sim_trained, tmp_path / "scores.parquet", paths=paths)
    assert result.exit_code == 0, result.output
    assert result.output.count("drifted beyond PSI") == 1, result.output
    assert "site-packages" not in result.output and ".py:" not in result.output
    assert "DriftWarning" not in result.output


def test_no_progress_bar_off_a_terminal_and_one_per_chunk_through_a_callback(sim_trained, campaign):
    assert "scoring:" not in campaign[2] and "chunk/s" not in campaign[2]
    from winback.scoring import score

    frames = {t: pd.read_parquet(p) for t, p in sim_trained.paths.items()}
    seen: list[tuple[int, int]] = []
    from winback.scoring import ScoringConfig

    result = score(
        load_model(sim_trained.bundle),
        frames["orders"],
        as_of=AS_OF,
        **side_tables(frames),
        config=ScoringConfig(chunk_size=250),
        progress=lambda done, total: seen.append((done, total)),
    )
    total = -(-result.summary["customers"]["scored"] // 250)
    assert seen == [(i, total) for i in range(1, total + 1)]


def _read_all(fd: int) -> bytes:
    """Everything written to a pseudo-terminal until its other end closed."""
    out = b""
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # EIO: the other end is closed
            return out
        if not chunk:
            return out
        out += chunk


def test_a_progress_bar_on_a_terminal(sim_trained, tmp_path):
    primary, secondary = pty.openpty()
    fcntl.ioctl(secondary, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    args = [Path(sys.executable).with_name("winback").as_posix(), "score"]
    args += ["--model", str(sim_trained.bundle), "--as-of", AS_OF, "--chunk-size", "300"]
    args += ["--out", str(tmp_path / "s.parquet")]
    for table in ("orders", "events", "customers"):
        args += [f"--{table}", str(sim_trained.paths[table])]
    with subprocess.Popen(args, stdout=subprocess.PIPE, stderr=secondary) as proc:
        os.close(secondary)
        terminal = _read_all(primary)
        stdout = proc.stdout.read() if proc.stdout else b""
    os.close(primary)
    assert proc.returncode == 0, terminal
    chunks = -(-pd.read_parquet(tmp_path / "s.parquet").shape[0] // 300)
    assert b"scoring: 100%" in terminal, terminal
    assert f"{chunks}/{chunks} [".encode() in terminal, terminal
    assert b"scoring" not in stdout
