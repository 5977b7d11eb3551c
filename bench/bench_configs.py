"""Benchmark: every config is accepted or refused within 2 s and 200 MB, whatever its shape.

Each case writes one YAML file and loads it in a fresh Python process that imports only the
loader's package, so the memory the load adds (peak RSS minus RSS after the import) is measured
apart from the import: YAML alias bombs at the top level
and inside a valid ``when:`` (the shapes that took 47 s and 3.3 GB), deep and wide ``when:``
rules (valid and invalid, up to and beyond the limits), deep flow nesting, a 1 MB value, an
oversized file and a training config with an alias. Writes ``bench/results/configs.json`` with,
per case, the file size, the outcome (accepted, or the error type and the start of its one-line
message), seconds, peak RSS and whether the 2 s / 200 MB goal holds.

Usage: ``python bench/bench_configs.py``
"""

from __future__ import annotations

import json
import platform
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

from _measure import write_result
from winback.validation import MAX_CONFIG_BYTES

RESULT = Path(__file__).resolve().parent / "results" / "configs.json"
GOAL_SECONDS, GOAL_MB = 2.0, 200.0

_ACTION = (
    "campaign_id: c\nbudget: 5000.0\nactions:\n  - name: a\n    channel: email\n"
    "    offer: x\n    unit_cost: 1.0\n    uplift: 0.1\n    when: "
)
_CONDITION = "{field: p_churn, op: '>=', value: 0.6}"
_BAD_CONDITION = "{field: p_churn, op: 'x', value: [1]}"
_TRAIN = (
    "name: x\ndata: {orders: cdnow_sample}\nbacktest: {evaluation_cutoff: 1997-09-30}\n"
    "features: {windows_days: &w [30, 90]}\ntasks: {repurchase_days: 90}\nextra: *w\n"
)


def _laughs(levels: int, width: int, indent: str = "") -> str:
    """A billion-laughs alias bomb: each level lists the previous one ``width`` times."""
    lines = [f"{indent}l0: &l0 [{', '.join(['lol'] * width)}]"]
    for level in range(1, levels):
        items = ", ".join([f"*l{level - 1}"] * width)
        lines.append(f"{indent}l{level}: &l{level} [{items}]")
    return "\n".join(lines) + "\n"


def _nested(depth: int, leaf: str) -> str:
    return "{all: [" * depth + leaf + "]}" * depth


def _wide(n: int, leaf: str) -> str:
    return "{all: [" + ", ".join([leaf] * n) + "]}"


def cases() -> dict[str, tuple[str, str]]:
    """Case name -> (loader: actions/train, YAML text)."""
    bomb_in_when = (
        _ACTION
        + "\n      all:\n        - {field: p_churn, op: '>=', value: 0.5}\n"
        + "        - field: segment\n          op: in\n          value: *l8\n"
    )
    return {
        "alias_bomb_billion_laughs": ("actions", _laughs(9, 9)),
        "alias_bomb_inside_valid_when": ("actions", _laughs(9, 9) + bomb_in_when),
        "training_config_with_alias": ("train", _TRAIN),
        "deep_flow_nesting_50000": ("actions", "a: " + "[" * 50_000 + "]" * 50_000 + "\n"),
        "when_nested_20_deep_valid": ("actions", _ACTION + _nested(20, _CONDITION) + "\n"),
        "when_nested_3000_deep": ("actions", _ACTION + _nested(3000, _CONDITION) + "\n"),
        "when_2800_conditions_valid": ("actions", _ACTION + _wide(2800, _CONDITION) + "\n"),
        "when_2400_invalid_conditions": ("actions", _ACTION + _wide(2400, _BAD_CONDITION) + "\n"),
        "when_20000_conditions": ("actions", _ACTION + _wide(20_000, _CONDITION) + "\n"),
        "value_of_900kb": (
            "actions",
            _ACTION + "{field: '" + "x" * 900_000 + "', op: '>', value: 1}\n",
        ),
        "file_over_the_size_cap": ("actions", "a: " + "x" * (MAX_CONFIG_BYTES + 10) + "\n"),
    }


_CHILD = textwrap.dedent(
    """
    import importlib, json, resource, sys, time
    from winback.exceptions import WinbackError
    module, name = {
        "actions": ("winback.actions", "load_actions_config"),
        "train": ("winback.training", "load_config"),
    }[sys.argv[1]]
    loader = getattr(importlib.import_module(module), name)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    try:
        loader(sys.argv[2])
        outcome = "accepted"
    except WinbackError as exc:
        text = str(exc)
        outcome = f"{type(exc).__name__}: {text[:120]}" + (" ..." if len(text) > 120 else "")
        outcome += f" ({len(text)} characters)"
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    row = {"outcome": outcome, "seconds": seconds, "peak_kb": peak, "import_kb": before}
    print(json.dumps(row))
    """
)


def _run(loader: str, path: Path) -> dict[str, object]:
    """Load ``path`` in a fresh process; a crash or a timeout is reported, never hidden."""
    try:
        done = subprocess.run(
            [sys.executable, "-c", _CHILD, loader, str(path)],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return {"outcome": "timeout after 120 s", "seconds": 120.0, "goal_met": False}
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["?"])[-1]
        return {"outcome": f"crashed: {last}", "goal_met": False}
    measured = json.loads(done.stdout)
    peak_mb, import_mb = measured["peak_kb"] / 1024, measured["import_kb"] / 1024
    return {
        "outcome": measured["outcome"],
        "seconds": round(measured["seconds"], 3),
        "peak_rss_mb": round(peak_mb, 1),
        "rss_after_import_mb": round(import_mb, 1),
        "load_added_mb": round(peak_mb - import_mb, 1),
        "goal_met": measured["seconds"] < GOAL_SECONDS and peak_mb - import_mb < GOAL_MB,
    }


def main() -> None:
    results: dict[str, dict[str, object]] = {}
    with tempfile.TemporaryDirectory() as folder:
        for name, (loader, text) in cases().items():
            path = Path(folder) / f"{name}.yaml"
            path.write_text(text)
            results[name] = {"file_bytes": path.stat().st_size, **_run(loader, path)}
            print(f"{name:32s} {results[name]}", flush=True)
    result = {
        "benchmark": "configs.load",
        "goal": (
            f"accepted or refused within {GOAL_SECONDS} s, the load adding less than {GOAL_MB} "
            "MB to the peak RSS of a process that has imported the loader's package "
            "(importing winback.actions alone takes ~120 MB, winback.training ~240 MB)"
        ),
        "all_goals_met": all(case["goal_met"] for case in results.values()),
        "cases": results,
        "python": platform.python_version(),
        "machine": f"{platform.machine()}, {platform.processor() or 'cpu'}",
    }
    write_result(result, RESULT)
    print(f"all goals met: {result['all_goals_met']}; wrote {RESULT}")


if __name__ == "__main__":
    main()
