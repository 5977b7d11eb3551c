"""Training configuration: one YAML file loaded once into validated pydantic models.

A config describes a dataset (paths or a bundled dataset, column mapping, stated end), the feature
windows, the task horizons, the backtest (evaluation cutoff, training cutoffs), LightGBM settings,
tracking and the output folder. Any error names the key and the expected form.
"""

from __future__ import annotations

import codecs
import datetime as dt
import os
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

from winback.dates import check_date_format
from winback.exceptions import ConfigError
from winback.features import FeatureConfig
from winback.validation import read_yaml, validated


def _date_format(value: str) -> str:
    try:
        return check_date_format(value)
    except ConfigError as exc:  # reported by pydantic at data.date_format
        raise ValueError(str(exc).removeprefix("date_format ")) from None


__all__ = [
    "BacktestConfig",
    "DataConfig",
    "LightGBMConfig",
    "TasksConfig",
    "TrackingConfig",
    "TrainConfig",
    "load_config",
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DataConfig(_Strict):
    """Where the data lives. ``orders`` is a CSV/Parquet path or a bundled dataset name.

    ``date_format`` (a strftime format such as ``'%d.%m.%Y'``) and ``encoding`` (``cp1252``,
    ``latin-1``, ``utf-16``...) apply to every file read.
    """

    orders: str = Field(description="path to orders (CSV/Parquet) or 'cdnow' / 'cdnow_sample'")
    events: str | None = None
    customers: str | None = None
    columns: dict[str, str] = Field(default_factory=dict, description="canonical -> source column")
    end: dt.date | None = Field(default=None, description="last date the data covers")
    date_format: str | None = Field(
        default=None, description="strftime format of non-ISO dates, e.g. '%d.%m.%Y'"
    )
    encoding: str = Field(default="utf-8", description="text encoding of the CSV files")

    @field_validator("date_format")
    @classmethod
    def _strftime(cls, value: str | None) -> str | None:
        return None if value is None else _date_format(value)

    @field_validator("encoding")
    @classmethod
    def _codec(cls, value: str) -> str:
        try:
            codecs.lookup(value)
        except LookupError:
            raise ValueError(
                f"{value!r} is not a known text encoding; use a Python codec name such as "
                "cp1252, latin-1, utf-16 or utf-8"
            ) from None
        return value


class TasksConfig(_Strict):
    """Horizons in days: repurchase P(order within h), churn P(no order within h), spend in h."""

    repurchase_days: int = Field(default=90, gt=0)
    churn_days: int = Field(default=180, gt=0)


class BacktestConfig(_Strict):
    """The temporal holdout: train on windows ending by ``evaluation_cutoff``, test after it."""

    evaluation_cutoff: dt.date
    every_days: int = Field(default=14, gt=0, description="spacing of training cutoffs")
    max_train_cutoffs: int = Field(default=12, gt=0, description="most recent cutoffs kept")
    min_train_cutoffs: int = Field(default=4, gt=0, description="shorten labels to keep these")
    min_history_days: int = Field(default=28, ge=0, description="history before the 1st cutoff")
    bootstrap: int = Field(default=500, ge=10, description="bootstrap resamples for AUC CIs")


class LightGBMConfig(_Strict):
    """LightGBM settings shared by the three tasks."""

    n_estimators: int = Field(default=2000, gt=0)
    learning_rate: float = Field(default=0.05, gt=0, le=1)
    num_leaves: int = Field(default=15, gt=1)
    min_child_samples: int = Field(default=100, gt=0)
    subsample: float = Field(default=0.8, gt=0, le=1)
    colsample_bytree: float = Field(default=0.8, gt=0, le=1)
    reg_lambda: float = Field(default=1.0, ge=0)
    early_stopping_rounds: int = Field(default=50, gt=0)
    n_jobs: int = Field(default=1, gt=0, description="threads; >1 is slower when cores are busy")


class TrackingConfig(_Strict):
    """MLflow tracking. ``uri`` None means $MLFLOW_TRACKING_URI or ``sqlite:///mlflow.db``."""

    enabled: bool = True
    uri: str | None = None
    experiment: str = "winback"
    registered_model: str | None = None


class TrainConfig(_Strict):
    """Everything `winback train` needs; see ``configs/cdnow.yaml`` for a commented example."""

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$", description="model name (folder under output)")
    data: DataConfig
    features: FeatureConfig = Field(default_factory=FeatureConfig, description="feature windows")
    tasks: TasksConfig = Field(default_factory=TasksConfig)
    backtest: BacktestConfig
    lightgbm: LightGBMConfig = Field(default_factory=LightGBMConfig)
    tracking: TrackingConfig = Field(default_factory=TrackingConfig)
    seed: int = 0
    output_dir: str = "models"

    @field_validator("data")
    @classmethod
    def _orders_named(cls, value: DataConfig) -> DataConfig:
        if not value.orders.strip():
            raise ValueError("data.orders must name a file or a bundled dataset")
        return value

    def resolve(self, path: str | None, base: Path) -> Path | None:
        """Return ``path`` relative to ``base`` (the config file's folder) unless absolute."""
        if path is None:
            return None
        p = Path(os.path.expanduser(path))
        return p if p.is_absolute() else base / p


def load_config(path: str | os.PathLike[str]) -> TrainConfig:
    """Read and validate a training config YAML file.

    Raises
    ------
    ConfigError
        If the file is missing, is not YAML, or a key is unknown or of the wrong form.
    """
    raw = read_yaml(path, what="Config file")
    return validated(TrainConfig, raw, source=str(path), what="training config")
