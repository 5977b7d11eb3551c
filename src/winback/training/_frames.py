"""Model-ready frames: features, labels and point-in-time BTYD features for a set of cutoffs."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field

import pandas as pd
from tqdm.auto import tqdm

from winback.features import build_features, build_training_frame, rfm_summary
from winback.models import BTYD_DAYS_PER_UNIT, FittedBTYD, btyd_features, fit_btyd

__all__ = ["FrameBuilder", "label_columns", "rfm_days_columns"]

logger = logging.getLogger(__name__)


def label_columns(frame: pd.DataFrame) -> list[str]:
    """Return the label columns (purchased_within_*, spend_within_*) of a frame."""
    return [c for c in frame.columns if c.startswith(("purchased_within_", "spend_within_"))]


@dataclass
class FrameBuilder:
    """Builds and caches one frame per cutoff: features, labels that fit, and BTYD features.

    Labels are only attached for horizons whose window ends by ``data_end``; BTYD models are fitted
    on each cutoff's own past. ``btyd_horizons_days`` fixes the BTYD feature columns.
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
        for c in tqdm(todo, desc=desc or "features", disable=True if len(todo) < 2 else quiet):
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
        fitted = fit_btyd(rfm, warm_start=self._nearest_fit(cutoff))
        self.fitted_btyd[cutoff] = fitted
        btyd = btyd_features(rfm, fitted, horizons_days=self.btyd_horizons_days)
        return frame.join(btyd, how="left").join(rfm_days_columns(rfm), how="left")

    def _nearest_fit(self, cutoff: pd.Timestamp) -> FittedBTYD | None:
        """The latest fit at an EARLIER cutoff (a later one would carry the future in its start)."""
        earlier = [c for c in self.fitted_btyd if c < cutoff]
        return self.fitted_btyd[max(earlier)] if earlier else None


def rfm_days_columns(rfm_weeks: pd.DataFrame) -> pd.DataFrame:
    """Return the lifetimes RFM summary in days, prefixed ``rfm_`` (used by the baselines).

    Columns: ``rfm_frequency``, ``rfm_recency``, ``rfm_T``, ``rfm_monetary_value`` and
    ``rfm_days_since_last`` (= T - recency).
    """
    days = pd.DataFrame(
        {
            "rfm_frequency": rfm_weeks["frequency"],
            "rfm_recency": rfm_weeks["recency"] * BTYD_DAYS_PER_UNIT,
            "rfm_T": rfm_weeks["T"] * BTYD_DAYS_PER_UNIT,
            "rfm_monetary_value": rfm_weeks["monetary_value"],
        }
    )
    days["rfm_days_since_last"] = days["rfm_T"] - days["rfm_recency"]
    return days
