"""`winback train`: load data, backtest against the baselines, fit the shipped model, save it.

Two fits happen. The *backtest* fit uses only label windows ending at or before the evaluation
cutoff and is scored on the window after it (evaluation.json). The *production* fit uses the same
procedure with every window that ends by the data's end; it is what the bundle ships for scoring.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from winback.evaluation import (
    backtest_scores,
    evaluate_backtest,
    evaluation_plots,
    format_table,
    next_order_evaluation,
)
from winback.exceptions import ConfigError
from winback.features import FeatureConfig, column_kind, parse_column
from winback.models import ProbabilityTask, SpendTask, TaskSpec, WinbackModel, save_model
from winback.monitoring import feature_profile
from winback.training._config import TrainConfig
from winback.training._data import TrainingData, data_end, data_metadata, load_training_data
from winback.training._frames import FrameBuilder
from winback.training._plan import WindowPlan, plan_windows

__all__ = ["TrainResult", "train"]

logger = logging.getLogger(__name__)

TASKS = ("repurchase", "churn", "spend")
REJECTS_SAMPLE_ROWS = 1000  # rows of each rejects table copied into the bundle


@dataclass
class TrainResult:
    """What `winback train` produced.

    ``backtest_scores``/``backtest_targets``: per probability task, every method's score on the
    window after the evaluation cutoff and the outcome it is evaluated against.
    """

    model: WinbackModel
    backtest_model: WinbackModel
    evaluation: dict[str, Any]
    bundle_path: Path
    table: str
    plots: dict[str, bytes]
    rejects: dict[str, pd.DataFrame] = field(default_factory=dict)
    run_id: str | None = None
    backtest_scores: dict[str, Any] = field(default_factory=dict)
    backtest_targets: dict[str, Any] = field(default_factory=dict)


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


def _feature_columns(frame: pd.DataFrame, days: set[int]) -> tuple[list[str], list[str]]:
    """Base and hybrid feature columns; BTYD columns only at the task's own horizons ``days``.

    A task never reads another task's horizon, so its features (and fit) do not change when only
    the other task's horizon does.
    """
    numeric = [c for c in frame.columns if pd.api.types.is_numeric_dtype(frame[c])]
    kinds = {c: column_kind(c) for c in numeric}
    unknown = [c for c, kind in kinds.items() if kind is None]
    if unknown:
        raise RuntimeError(f"winback bug: columns {unknown} are not in the column registry.")
    base = [c for c in numeric if kinds[c] == "feature"]
    btyd = [c for c in numeric if kinds[c] == "btyd"]
    own = [c for c in btyd if int(parse_column(c)[1].get("h", min(days))) in days]
    return base, base + own


def _conditions(plans: dict[str, WindowPlan]) -> dict[str, tuple[str, int]]:
    """The longer-horizon probability task -> (the shorter one, its horizon); ties: repurchase."""
    names = [n for n in ("repurchase", "churn") if n in plans]
    if len(names) < 2:
        return {}
    shorter = min(names, key=lambda n: (plans[n].horizon_days, n != "repurchase"))
    longer = next(n for n in names if n != shorter)
    return {longer: (shorter, plans[shorter].horizon_days)}


def _fit_tasks(
    builder: FrameBuilder, plans: dict[str, WindowPlan], config: TrainConfig
) -> tuple[dict[str, ProbabilityTask | SpendTask], dict[str, dict[str, pd.DataFrame]]]:
    """Fit every task of ``plans``, one after the other; return them and their training and
    validation frames.

    Not in threads: LightGBM training in one thread next to a prediction in another crashed
    the process (a segmentation fault in the test suite), so tasks are fitted in turn.
    """
    lgbm = config.lightgbm.model_dump()
    tasks: dict[str, ProbabilityTask | SpendTask] = {}
    frames: dict[str, dict[str, pd.DataFrame]] = {}
    conditions = _conditions(plans)
    for name, plan in plans.items():
        train = builder.many(plan.train_cutoffs, desc=f"{name} training cutoffs")
        val = builder.at(plan.validation_cutoff)
        frames[name] = {"train": train, "validation": val}
        logger.info("fitting %s (%s)", name, plan.note)
        task = _unfitted_task(name, plan, train, conditions)
        tasks[name] = task.fit(train, val, lgbm_params=lgbm, seed=config.seed)
    return tasks, frames


def _unfitted_task(
    name: str,
    plan: WindowPlan,
    train: pd.DataFrame,
    conditions: dict[str, tuple[str, int]],
) -> ProbabilityTask | SpendTask:
    spec = TaskSpec(name=name, horizon_days=plan.horizon_days, label_days=plan.label_days)
    days = {plan.label_days, plan.horizon_days}
    if name == "spend":
        base, hybrid = _feature_columns(train, days)
        return SpendTask(spec=spec, base_features=base, hybrid_features=hybrid)
    condition, condition_days = conditions.get(name, (None, None))
    base, hybrid = _feature_columns(train, days | {condition_days} - {None})
    return ProbabilityTask(
        spec=spec,
        base_features=base,
        hybrid_features=hybrid,
        condition_task=condition,
        condition_days=condition_days,
    )


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
    fc = config.features
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


def _builder(
    config: TrainConfig,
    data: TrainingData,
    horizons: list[int],
    end: pd.Timestamp,
    progress: bool | None,
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


def _fitted_model(
    builder: FrameBuilder,
    plans: dict[str, WindowPlan],
    config: TrainConfig,
    *,
    at: pd.Timestamp,
    metadata: dict[str, Any],
) -> tuple[WinbackModel, dict[str, dict[str, pd.DataFrame]]]:
    """Fit every task of ``plans``; BTYD feature parameters are those fitted at ``at``.

    Each probability task's level is anchored on the population at ``at`` (features only).

    Returns the model and, per task, its ``"train"`` and ``"validation"`` frames.
    """
    tasks, frames = _fit_tasks(builder, plans, config)
    population = builder.at(at)  # fits the BTYD models on the past of ``at``
    for task in tasks.values():
        if isinstance(task, ProbabilityTask):
            task.anchor_level(population)
    model = WinbackModel(
        name=config.name,
        tasks=tasks,
        feature_config=builder.feature_config,
        btyd=builder.fitted_btyd[at],
        btyd_horizons_days=builder.btyd_horizons_days,
        metadata={**metadata, "plans": _plan_metadata(plans), "btyd_fitted_at": str(at.date())},
    )
    return model, frames


def rejects_summary(rejects: dict[str, pd.DataFrame]) -> dict[str, dict[str, Any]]:
    """Per table with rejected rows: ``rows``, ``sample_rows`` and ``by_reason`` (row counts).

    A reason is the text before its first ``":"`` (``"unparseable order_ts"``); a row with several
    problems (joined by ``"; "``) counts under each.
    """
    out = {}
    for table, frame in sorted(rejects.items()):
        if not len(frame):
            continue
        kinds = frame["reason"].astype(str).str.split("; ").explode().str.split(":").str[0]
        counts = kinds.groupby(level=0).unique().explode().value_counts()
        out[table] = {
            "rows": len(frame),
            "sample_rows": min(len(frame), REJECTS_SAMPLE_ROWS),
            "by_reason": {str(k): int(v) for k, v in sorted(counts.items())},
        }
    return out


def _bundle_files(
    config: TrainConfig,
    evaluation: dict,
    plots: dict[str, bytes],
    rejects: dict[str, pd.DataFrame],
) -> dict:
    """Evaluation, config, plots, and the data gate's rejects: counts and a capped sample.

    ``rejects/summary.json`` counts every rejected row by reason; ``rejects/<table>.csv`` holds
    the first :data:`REJECTS_SAMPLE_ROWS` rejected rows of each table (the whole file can be
    far larger than the model).
    """
    files = {
        "evaluation.json": json.dumps(evaluation, indent=2, sort_keys=True, default=float).encode(),
        "config.yaml": yaml.safe_dump(config.model_dump(mode="json"), sort_keys=True).encode(),
        **plots,
    }
    summary = rejects_summary(rejects)
    if summary:
        files["rejects/summary.json"] = json.dumps(summary, indent=2, sort_keys=True).encode()
    for table in summary:
        sample = rejects[table].head(REJECTS_SAMPLE_ROWS)
        files[f"rejects/{table}.csv"] = sample.to_csv(index=False, lineterminator="\n").encode()
    return files


def train(
    config: TrainConfig, *, base_dir: Path = Path("."), progress: bool | None = None
) -> TrainResult:
    """Run a full training: backtest, evaluation, production fit, bundle. No tracking here.

    Parameters
    ----------
    config : TrainConfig
        The validated config (see :func:`winback.training.load_config`).
    base_dir : Path
        Folder that relative data paths in the config are resolved against.
    progress : bool, optional
        Show progress bars on long steps; None (default) shows them on a terminal only.

    Returns
    -------
    TrainResult
        The production model, the backtest model, evaluation (task -> method -> metric),
        the bundle path and the printed comparison table.
    """
    data = load_training_data(config, base_dir=base_dir)
    first = data.orders["order_ts"].min().floor("D")
    end = data_end(config, data.orders)
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
    meta = {"data": data_metadata(data.orders, first, end), "seed": config.seed}
    backtest, frames = _fitted_model(
        builder,
        bt_plans,
        config,
        at=cutoff,
        metadata={**meta, "evaluation_cutoff": str(cutoff.date())},
    )
    for task_frames in frames.values():
        task_frames["test"] = builder.at(cutoff)
    scores = backtest_scores(backtest, frames)
    evaluation = evaluate_backtest(
        backtest, frames, scores=scores, n_boot=config.backtest.bootstrap, seed=config.seed
    )
    evaluation["next_order"] = next_order_evaluation(
        backtest,
        builder.at(cutoff),
        data.orders,
        cutoff=cutoff,
        holdout_days=max(_horizons(config).values()),
    )
    plots = evaluation_plots(backtest, frames, scores)
    model, _ = _fitted_model(
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
    reference = builder.at(end)  # the population at the data's end: drift's reference
    model.metadata["feature_profile"] = feature_profile(reference, model.feature_names)
    model.metadata["feature_profile_as_of"] = str(end.date())
    evaluation["btyd_fits"] = builder.btyd_report()
    evaluation["production_selection"] = {
        name: task.selection for name, task in model.tasks.items()
    }
    extra = _bundle_files(config, evaluation, plots, data.rejects)
    bundle = save_model(model, Path(config.output_dir).resolve() / config.name, extra_files=extra)
    table = format_table(evaluation)
    targets = {
        name: backtest.tasks[name].spec.target(frames[name]["test"], days=task.spec.horizon_days)
        for name, task in backtest.tasks.items()
        if name in scores
    }
    return TrainResult(
        model,
        backtest,
        evaluation,
        bundle,
        table,
        plots,
        data.rejects,
        backtest_scores=scores,
        backtest_targets=targets,
    )
