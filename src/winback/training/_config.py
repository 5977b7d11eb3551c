"""Training configuration: one YAML file loaded once into validated pydantic models.

A config describes a dataset (files, folders, database URLs or a bundled dataset, column mapping,
stated end), the feature windows, the task horizons, the backtest (evaluation cutoff, training
cutoffs), LightGBM settings, tracking and the output folder. Any error names the key and the
expected form.
"""

from __future__ import annotations

import codecs
import datetime as dt
import os
from pathlib import Path
from typing import Any
from urllib.parse import quote

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    field_validator,
    model_validator,
)

from winback.dates import check_date_format
from winback.exceptions import ConfigError
from winback.features import FeatureConfig
from winback.io import is_url, open_source, without_password
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


_SOURCE_KEYS = ("orders", "events", "customers")


class DataConfig(_Strict):
    """Where the data lives: per table, a path, a bundled dataset name or a database source.

    ``orders``, ``events`` and ``customers`` each take a CSV or Parquet file, a folder of Parquet
    files, a ``postgresql://`` or ``duckdb://`` URL with ``?table=`` or ``?query=`` (see
    :mod:`winback.io`), or a mapping ``{url: ..., table: ...}`` / ``{url: ..., query: ...}``
    (stored as the equivalent URL, the query percent-encoded). ``orders`` may also be the bundled
    ``cdnow`` or ``cdnow_sample``.

    A password in a URL is kept aside: the fields hold the URL without it (so a dumped config,
    the bundle's ``config.yaml`` and MLflow params never contain it) and :meth:`source` gives it
    back to the reader. A config reloaded from a dump reads the password from ``PGPASSWORD`` or
    ``~/.pgpass``.

    ``columns``, ``event_columns`` and ``customer_columns`` map the canonical columns of the
    orders, events and customers to the source's names (see :mod:`winback.io`).
    ``date_format`` (a strftime format such as ``'%d.%m.%Y'``) and ``encoding`` (``cp1252``,
    ``latin-1``, ``utf-16``...) apply to every file read.
    """

    orders: str = Field(description="orders: path, folder, database URL, 'cdnow' or 'cdnow_sample'")
    events: str | None = None
    customers: str | None = None
    columns: dict[str, str] = Field(
        default_factory=dict, description="orders: canonical -> source column"
    )
    event_columns: dict[str, str] = Field(
        default_factory=dict, description="events: canonical -> source column"
    )
    customer_columns: dict[str, str] = Field(
        default_factory=dict, description="customers: canonical -> source column"
    )
    end: dt.date | None = Field(default=None, description="last date the data covers")
    date_format: str | None = Field(
        default=None, description="strftime format of non-ISO dates, e.g. '%d.%m.%Y'"
    )
    encoding: str = Field(default="utf-8", description="text encoding of the CSV files")

    _full_urls: dict[str, str] = PrivateAttr(default_factory=dict)

    @model_validator(mode="wrap")
    @classmethod
    def _passwords_aside(cls, data: Any, handler: Any) -> DataConfig:
        if not isinstance(data, dict):
            return handler(data)
        data = {key: _source_text(key, value) for key, value in data.items()}
        full = {
            k: data[k] for k in _SOURCE_KEYS if isinstance(data.get(k), str) and is_url(data[k])
        }
        model = handler({**data, **{k: without_password(url) for k, url in full.items()}})
        model._full_urls = {k: url for k, url in full.items() if url != without_password(url)}
        return model

    @field_validator(*_SOURCE_KEYS)
    @classmethod
    def _valid_url(cls, value: str | None) -> str | None:
        if value is not None and is_url(value):
            try:
                open_source(value)
            except ConfigError as exc:
                raise ValueError(str(exc)) from exc
        return value

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

    def source(self, key: str) -> str | None:
        """The configured ``orders``/``events``/``customers`` value, password included."""
        return self._full_urls.get(key, getattr(self, key))

    def with_reading(
        self,
        *,
        date_format: str | None = None,
        encoding: str | None = None,
        columns: dict[str, str] | None = None,
        event_columns: dict[str, str] | None = None,
        customer_columns: dict[str, str] | None = None,
    ) -> DataConfig:
        """This data config with ``date_format`` / ``encoding`` and the column mappings replaced
        (None keeps the config's), e.g. from the command line; ConfigError naming the option if
        invalid."""
        mappings = {
            "columns": columns,
            "event_columns": event_columns,
            "customer_columns": customer_columns,
        }
        update: dict[str, Any] = {k: v for k, v in mappings.items() if v is not None}
        if date_format is not None:
            update["date_format"] = check_date_format(date_format, name="--date-format")
        if encoding is not None:
            try:
                update["encoding"] = self._codec(encoding)
            except ValueError as exc:
                raise ConfigError(f"--encoding: {exc}.") from None
        return self.model_copy(update=update)


def _source_text(key: str, value: Any) -> Any:
    """A ``{url, table | query}`` mapping as its URL; anything else unchanged."""
    if key not in _SOURCE_KEYS or not isinstance(value, dict):
        return value
    unknown = set(value) - {"url", "table", "query"}
    if unknown or not isinstance(value.get("url"), str):
        raise ValueError(
            f"data.{key}: expected a path, a URL or a mapping with url and table or query, "
            f"got keys {sorted(map(str, value))}"
        )
    url = value["url"]
    extra = [f"{k}={quote(str(value[k]), safe='')}" for k in ("table", "query") if k in value]
    joiner = "&" if "?" in url else "?"
    return url + (joiner + "&".join(extra) if extra else "")


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
