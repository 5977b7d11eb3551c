"""`winback train`: load data, backtest against the baselines, fit the shipped model, save it.

Two fits happen. The *backtest* fit uses only label windows ending at or before the evaluation
cutoff and is scored on the window after it (evaluation.json). The *production* fit uses the same
procedure with every window that ends by the data's end; it is what the bundle ships for scoring.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from winback.config import TrainConfig
from winback.exceptions import ConfigError
from winback.features import FeatureConfig
from winback.models._bundle import save_model
from winback.models._evaluate import Scores, backtest_scores, evaluate_backtest, format_table
from winback.models._frames import FrameBuilder, label_columns
from winback.models._plan import WindowPlan, plan_windows
from winback.models._tasks import ProbabilityTask, SpendTask, TaskSpec
from winback.models._winback_model import WinbackModel

__all__ = ["TrainResult", "TrainingData", "load_training_data", "train"]

logger = logging.getLogger(__name__)

TASKS = ("repurchase", "churn", "spend")


@dataclass(frozen=True)
class TrainingData:
    """Validated inputs of a training run and the rows the data gate set aside."""

    orders: pd.DataFrame
    events: pd.DataFrame | None = None
    customers: pd.DataFrame | None = None
    rejects: dict[str, pd.DataFrame] = field(default_factory=dict)


@dataclass
class TrainResult:
    """What `winback train` produced."""

    model: WinbackModel
    backtest_model: WinbackModel
    evaluation: dict[str, Any]
    bundle_path: Path
    table: str
    plots: dict[str, bytes]
    rejects: dict[str, pd.DataFrame] = field(default_factory=dict)
    run_id: str | None = None


def load_training_data(config: TrainConfig, *, base_dir: Path) -> TrainingData:
    """Read the config's orders (or bundled dataset), events and customers through the data gate."""
    from winback.datasets import load_cdnow
    from winback.io import read_customers, read_events, read_orders

    data = config.data
    end = None if data.end is None else pd.Timestamp(data.end)
    rejects: dict[str, pd.DataFrame] = {}
    if data.orders in ("cdnow", "cdnow_sample"):
        orders = load_cdnow(sample=data.orders == "cdnow_sample")
    else:
        orders, rejects["orders"] = read_orders(
            config.resolve(data.orders, base_dir), columns=data.columns or None, end=end
        )
    events = customers = None
    if data.events:
        events, rejects["events"] = read_events(config.resolve(data.events, base_dir), end=end)
    if data.customers:
        customers, rejects["customers"] = read_customers(config.resolve(data.customers, base_dir))
    return TrainingData(orders, events, customers, rejects)


def fingerprint(orders: pd.DataFrame) -> str:
    """Return a sha256 of the orders' content (row order matters)."""
    hashed = pd.util.hash_pandas_object(orders, index=False).to_numpy()
    return hashlib.sha256(hashed.tobytes()).hexdigest()


def _horizons(config: TrainConfig) -> dict[str, int]:
    t = config.tasks
    return {"repurchase": t.repurchase_days, "churn": t.churn_days, "spend": t.churn_days}


def _plans(config: TrainConfig, first: pd.Timestamp, bound: pd.Timestamp) -> dict[str, WindowPlan]:
    bt = config.backtest
    return {
        name: plan_windows(
            first_date=first,
            label_bound=bound,
            horizon_days=h,
            every_days=bt.every_days,
            min_history_days=bt.min_history_days,
            max_train_cutoffs=bt.max_train_cutoffs,
            min_train_cutoffs=bt.min_train_cutoffs,
        )
        for name, h in _horizons(config).items()
    }


def _feature_columns(frame: pd.DataFrame) -> tuple[list[str], list[str]]:
    labels = set(label_columns(frame))
    numeric = [
        c
        for c in frame.columns
        if c not in labels and not c.startswith("rfm_") and pd.api.types.is_numeric_dtype(frame[c])
    ]
    btyd = [c for c in numeric if c.startswith(("bgnbd_", "pareto_nbd_", "gg_"))]
    base = [c for c in numeric if c not in btyd]
    return base, base + btyd


def _fit_tasks(
    builder: FrameBuilder, plans: dict[str, WindowPlan], config: TrainConfig
) -> tuple[dict[str, ProbabilityTask | SpendTask], dict[str, dict[str, pd.DataFrame]]]:
    lgbm = config.lightgbm.model_dump()
    tasks: dict[str, ProbabilityTask | SpendTask] = {}
    frames: dict[str, dict[str, pd.DataFrame]] = {}
    for name, plan in plans.items():
        train = builder.many(plan.train_cutoffs, desc=f"{name} training cutoffs")
        val = builder.at(plan.validation_cutoff)
        base, hybrid = _feature_columns(train)
        spec = TaskSpec(name=name, horizon_days=plan.horizon_days, label_days=plan.label_days)
        cls = SpendTask if name == "spend" else ProbabilityTask
        logger.info("fitting %s (%s)", name, plan.note)
        task = cls(spec=spec, base_features=base, hybrid_features=hybrid)
        tasks[name] = task.fit(train, val, lgbm_params=lgbm, seed=config.seed)
        frames[name] = {"train": train, "validation": val}
    return tasks, frames


def _plan_metadata(plans: dict[str, WindowPlan]) -> dict[str, Any]:
    return {
        name: {
            "horizon_days": p.horizon_days,
            "label_days": p.label_days,
            "train_cutoffs": [str(c.date()) for c in p.train_cutoffs],
            "validation_cutoff": str(p.validation_cutoff.date()),
            "label_bound": str(p.label_bound.date()),
            "note": p.note,
        }
        for name, p in plans.items()
    }


def _pinned_feature_config(config: TrainConfig, events: pd.DataFrame | None) -> FeatureConfig:
    fc = FeatureConfig.model_validate(config.features)
    if events is not None and fc.event_types is None:
        types = sorted(events["event_type"].astype(str).unique().tolist())
        fc = fc.model_copy(update={"event_types": types})
    return fc


def _check_evaluation_window(config: TrainConfig, cutoff: pd.Timestamp, end: pd.Timestamp) -> None:
    longest = max(_horizons(config).values())
    if cutoff + pd.Timedelta(days=longest) > end:
        raise ConfigError(
            f"backtest.evaluation_cutoff: {cutoff.date()} + {longest} days runs past the data's "
            f"end {end.date()}; choose a cutoff on or before "
            f"{(end - pd.Timedelta(days=longest)).date()}."
        )


def _evaluation_plots(
    model: WinbackModel, frames: dict[str, dict[str, pd.DataFrame]], scores: dict[str, Scores]
) -> dict[str, bytes]:
    from winback.report import plot_calibration, plot_feature_importance, plot_gains, plot_roc

    plots = {}
    for name, task_scores in scores.items():
        task = model.tasks[name]
        y = task.spec.target(frames[name]["test"], days=task.spec.horizon_days)
        shown = {
            m: np.nan_to_num(s)
            for m, (s, _) in task_scores.items()
            if m in ("winback", "bgnbd", "pareto_nbd", "recency")
        }
        probs = {
            m: np.nan_to_num(s)
            for m, (s, p) in task_scores.items()
            if p and m in ("winback", "bgnbd", "pareto_nbd")
        }
        key = f"{name}_{task.spec.horizon_days}d"
        plots[f"plots/roc_{key}.png"] = _png(plot_roc(y, shown))
        plots[f"plots/calibration_{key}.png"] = _png(plot_calibration(y, probs))
        plots[f"plots/gains_{key}.png"] = _png(plot_gains(y, shown))
        importance = task.shipped_model.feature_importance()
        plots[f"plots/importance_{name}.png"] = _png(plot_feature_importance(importance))
    return plots


def _profile(reference: pd.DataFrame, columns: list[str]) -> dict[str, Any]:
    """Feature distributions of the population at the data's end, the reference for drift."""
    from winback.scoring import feature_profile

    return feature_profile(reference, columns)


def _png(ax: Any) -> bytes:
    buf = io.BytesIO()
    ax.figure.savefig(buf, format="png", dpi=100, bbox_inches="tight", metadata={"Software": None})
    return buf.getvalue()


def _builder(
    config: TrainConfig, data: TrainingData, horizons: list[int], end: pd.Timestamp, progress: bool
) -> FrameBuilder:
    return FrameBuilder(
        orders=data.orders,
        events=data.events,
        customers=data.customers,
        feature_config=_pinned_feature_config(config, data.events),
        label_horizons_days=horizons,
        btyd_horizons_days=horizons,
        data_end=end,
        progress=progress,
    )


def _data_metadata(orders: pd.DataFrame, first: pd.Timestamp, end: pd.Timestamp) -> dict:
    return {
        "fingerprint": fingerprint(orders),
        "first_order": str(first.date()),
        "end": str(end.date()),
        "n_orders": len(orders),
        "n_customers": int(orders["customer_id"].nunique()),
    }


def _fitted_model(
    builder: FrameBuilder,
    plans: dict[str, WindowPlan],
    config: TrainConfig,
    *,
    at: pd.Timestamp,
    metadata: dict[str, Any],
) -> tuple[WinbackModel, dict[str, dict[str, pd.DataFrame]]]:
    """Fit every task of ``plans``; BTYD feature parameters are those fitted at ``at``."""
    tasks, frames = _fit_tasks(builder, plans, config)
    reference = builder.at(at)
    model = WinbackModel(
        name=config.name,
        tasks=tasks,
        feature_config=builder.feature_config,
        btyd=builder.fitted_btyd[at],
        btyd_horizons_days=builder.btyd_horizons_days,
        metadata={**metadata, "plans": _plan_metadata(plans), "btyd_fitted_at": str(at.date())},
    )
    for name in frames:
        frames[name]["test"] = reference
    return model, frames


def _bundle_files(
    config: TrainConfig,
    evaluation: dict,
    plots: dict[str, bytes],
    rejects: dict[str, pd.DataFrame],
) -> dict:
    """Evaluation, config, plots, and the data gate's rejected rows (``rejects/<table>.csv``)."""
    files = {
        "evaluation.json": json.dumps(evaluation, indent=2, sort_keys=True, default=float).encode(),
        "config.yaml": yaml.safe_dump(config.model_dump(mode="json"), sort_keys=True).encode(),
        **plots,
    }
    for table, frame in sorted(rejects.items()):
        if len(frame):
            files[f"rejects/{table}.csv"] = frame.to_csv(index=False, lineterminator="\n").encode()
    return files


def train(config: TrainConfig, *, base_dir: Path = Path("."), progress: bool = True) -> TrainResult:
    """Run a full training: backtest, evaluation, production fit, bundle. No tracking here.

    Parameters
    ----------
    config : TrainConfig
        The validated config (see :func:`winback.config.load_config`).
    base_dir : Path
        Folder that relative data paths in the config are resolved against.
    progress : bool
        Show progress bars on long steps.

    Returns
    -------
    TrainResult
        The production model, the backtest model, evaluation (task -> method -> metric),
        the bundle path and the printed comparison table.
    """
    data = load_training_data(config, base_dir=base_dir)
    first = data.orders["order_ts"].min().floor("D")
    end = _data_end(config, data.orders)
    cutoff = pd.Timestamp(config.backtest.evaluation_cutoff)
    _check_evaluation_window(config, cutoff, end)
    bt_plans, prod_plans = _plans(config, first, cutoff), _plans(config, first, end)
    horizons = sorted(
        {
            d
            for ps in (bt_plans, prod_plans)
            for p in ps.values()
            for d in (p.horizon_days, p.label_days)
        }
    )
    builder = _builder(config, data, horizons, end, progress)
    meta = {"data": _data_metadata(data.orders, first, end), "seed": config.seed}
    backtest, frames = _fitted_model(
        builder,
        bt_plans,
        config,
        at=cutoff,
        metadata={**meta, "evaluation_cutoff": str(cutoff.date())},
    )
    scores = backtest_scores(backtest, frames)
    evaluation = evaluate_backtest(
        backtest, frames, scores=scores, n_boot=config.backtest.bootstrap, seed=config.seed
    )
    plots = _evaluation_plots(backtest, frames, scores)
    model, prod_frames = _fitted_model(
        builder,
        prod_plans,
        config,
        at=end,
        metadata={
            **meta,
            "backtest": {
                "evaluation_cutoff": str(cutoff.date()),
                "plans": _plan_metadata(bt_plans),
            },
        },
    )
    reference = next(iter(prod_frames.values()))["test"]
    model.metadata["feature_profile"] = _profile(reference, model.feature_names)
    model.metadata["feature_profile_as_of"] = str(end.date())
    extra = _bundle_files(config, evaluation, plots, data.rejects)
    bundle = save_model(model, Path(config.output_dir).resolve() / config.name, extra_files=extra)
    table = format_table(evaluation)
    return TrainResult(model, backtest, evaluation, bundle, table, plots, data.rejects)


def _data_end(config: TrainConfig, orders: pd.DataFrame) -> pd.Timestamp:
    """The data's stated end, or its last order day."""
    if config.data.end is not None:
        return pd.Timestamp(config.data.end)
    return orders["order_ts"].max().floor("D")
