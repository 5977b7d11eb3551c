"""Model-ready frames: features, labels and point-in-time BTYD features for a set of cutoffs."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from winback.features import build_features, build_training_frame, column_kind, rfm_summary
from winback.models import FittedBTYD, btyd_features, fit_btyd, rfm_days_columns
from winback.progress import progress_bar

__all__ = ["FrameBuilder", "label_columns"]

logger = logging.getLogger(__name__)


def label_columns(frame: pd.DataFrame) -> list[str]:
    """Return the label columns (purchased_within_*, spend_within_*) of a frame."""
    return [c for c in frame.columns if column_kind(c) == "label"]


@dataclass
class FrameBuilder:
    """Builds and caches one frame per cutoff: features, labels that fit, and BTYD features.

    Labels are only attached for horizons whose window ends by ``data_end``; BTYD models are fitted
    on each cutoff's own past from the models' default start, so a cutoff's fit (and frame) is the
    same whichever other cutoffs the configured tasks need. ``btyd_horizons_days`` fixes the BTYD
    feature columns.
    """

    orders: pd.DataFrame
    events: pd.DataFrame | None
    customers: pd.DataFrame | None
    feature_config: object
    label_horizons_days: list[int]
    btyd_horizons_days: list[int]
    data_end: pd.Timestamp
    progress: bool | None = None  # None: on a terminal only
    _cache: dict[pd.Timestamp, pd.DataFrame] = field(default_factory=dict)
    fitted_btyd: dict[pd.Timestamp, FittedBTYD] = field(default_factory=dict)

    def at(self, cutoff: pd.Timestamp) -> pd.DataFrame:
        """Return the frame at one cutoff, indexed by customer_id."""
        if cutoff not in self._cache:
            self._cache[cutoff] = self._build(cutoff)
        return self._cache[cutoff]

    def many(self, cutoffs: Iterable[pd.Timestamp], *, desc: str = "") -> pd.DataFrame:
        """Return the frames at several cutoffs stacked, indexed by (cutoff, customer_id)."""
        cutoffs = list(cutoffs)
        todo = [c for c in cutoffs if c not in self._cache]
        quiet = None if self.progress is None else not self.progress
        for c in progress_bar(
            todo, desc=desc or "features", disable=True if len(todo) < 2 else quiet
        ):
            self.at(c)
        return pd.concat({c: self.at(c) for c in cutoffs}, names=["cutoff", "customer_id"])

    def _build(self, cutoff: pd.Timestamp) -> pd.DataFrame:
        fitting = [
            h for h in self.label_horizons_days if cutoff + pd.Timedelta(days=h) <= self.data_end
        ]
        if fitting:
            frame = build_training_frame(
                self.orders,
                cutoffs=[cutoff],
                horizons_days=fitting,
                events=self.events,
                customers=self.customers,
                config=self.feature_config,
                data_end=self.data_end,
            ).droplevel("cutoff")
        else:
            frame = build_features(
                self.orders,
                cutoff=cutoff,
                events=self.events,
                customers=self.customers,
                config=self.feature_config,
            )
        rfm = rfm_summary(self.orders, cutoff=cutoff, time_unit="W")
        fitted = fit_btyd(rfm, where=f"at cutoff {cutoff.date()}")
        self.fitted_btyd[cutoff] = fitted
        btyd = btyd_features(rfm, fitted, horizons_days=self.btyd_horizons_days)
        return frame.join(btyd, how="left").join(rfm_days_columns(rfm), how="left")

    def btyd_report(self) -> dict[str, Any]:
        """Return how many cutoffs' BTYD models were fitted and what went wrong, by cutoff.

        ``{"cutoffs": n, "warnings": {date: {model: [message, ...]}}}`` (only cutoffs with a
        problem: a failed fit, non-convergence, a parameter at its bound, a vanished dropout).
        """
        problems = {
            str(c.date()): f.warnings for c, f in sorted(self.fitted_btyd.items()) if f.warnings
        }
        return {"cutoffs": len(self.fitted_btyd), "warnings": problems}
