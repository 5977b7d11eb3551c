"""A small simulated customer base and a model bundle trained on it, shared by the scoring and
CLI tests (built once per session and cached in pytest's base temporary folder)."""

from __future__ import annotations

from pathlib import Path

from winback.datasets import simulate
from winback.training import TrainConfig, train

N_CUSTOMERS = 1000
START, END = "2022-01-01", "2023-12-31"
AS_OF = "2023-06-30"  # customers acquired later have orders only after the as-of date
SEED = 11


def write_simulation(folder: Path) -> dict[str, Path]:
    """Write the simulated orders, events and customers as Parquet files; return their paths."""
    sim = simulate(N_CUSTOMERS, start=START, end=END, seed=SEED)
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name in ("orders", "events", "customers"):
        paths[name] = folder / f"{name}.parquet"
        getattr(sim, name).to_parquet(paths[name], index=False)
    return paths


def train_bundle(root: Path) -> tuple[Path, dict[str, Path]]:
    """Return (bundle folder, data paths), training the bundle unless ``root`` already has it."""
    data = root / "data"
    bundle = root / "models" / "sim"
    if (bundle / "manifest.json").is_file():
        return bundle, {n: data / f"{n}.parquet" for n in ("orders", "events", "customers")}
    paths = write_simulation(data)
    config = TrainConfig.model_validate(
        {
            "name": "sim",
            "data": {
                "orders": str(paths["orders"]),
                "events": str(paths["events"]),
                "customers": str(paths["customers"]),
                "end": END,
            },
            "features": {"windows_days": [30, 90]},
            "tasks": {"repurchase_days": 60, "churn_days": 90},
            "backtest": {
                "evaluation_cutoff": "2023-09-30",
                "every_days": 150,
                "min_history_days": 90,
                "bootstrap": 10,
            },
            "lightgbm": {
                "n_estimators": 50,
                "learning_rate": 0.1,
                "min_child_samples": 20,
                "early_stopping_rounds": 10,
                "n_jobs": 1,
            },
            "tracking": {"enabled": False},
            "seed": 0,
            "output_dir": str(root / "models"),
        }
    )
    train(config, base_dir=root, progress=False)
    return bundle, paths
