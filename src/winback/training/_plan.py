"""Temporal plans: which cutoffs train, validate and test a task, with no label past a bound.

Every label window used for training or validation ends at or before ``label_bound`` (the
evaluation cutoff in a backtest, the data's end for the production fit). Training windows end at or
before the validation cutoff, so training and validation labels never overlap.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from winback.exceptions import DataError

__all__ = ["WindowPlan", "plan_windows"]

_DAY = pd.Timedelta(days=1)


@dataclass(frozen=True)
class WindowPlan:
    """Cutoffs for one task. ``label_days`` may be shorter than ``horizon_days`` (see ``note``)."""

    horizon_days: int
    label_days: int
    train_cutoffs: tuple[pd.Timestamp, ...]
    validation_cutoff: pd.Timestamp
    label_bound: pd.Timestamp
    note: str

    def label_windows(self) -> list[tuple[pd.Timestamp, pd.Timestamp, pd.Timestamp]]:
        """Return (cutoff, first label day, last label day) for every training/validation cutoff."""
        cutoffs = [*self.train_cutoffs, self.validation_cutoff]
        return [(c, c + _DAY, c + self.label_days * _DAY) for c in cutoffs]


def plan_windows(
    *,
    first_date: pd.Timestamp,
    label_bound: pd.Timestamp,
    horizon_days: int,
    every_days: int,
    min_history_days: int,
    min_train_cutoffs: int = 4,
    max_train_cutoffs: int | None = None,
) -> WindowPlan:
    """Return the longest label window (<= horizon) that leaves ``min_train_cutoffs`` cutoffs.

    The validation cutoff is ``label_bound - L`` and training cutoffs run every ``every_days`` back
    from ``validation_cutoff - L`` to ``first_date + min_history_days`` (keeping at most
    ``max_train_cutoffs``, the most recent), where L is the label window.

    Raises
    ------
    DataError
        If even a one-week window leaves no training cutoff.
    """
    earliest = first_date + min_history_days * _DAY
    room = (label_bound - earliest).days - (min_train_cutoffs - 1) * every_days
    label_days = min(horizon_days, room // 2)
    if label_days < 7:
        label_days = min(horizon_days, (label_bound - earliest).days // 2)
    if label_days < 7:
        raise DataError(
            f"Not enough history to train: data from {first_date.date()} with label bound "
            f"{label_bound.date()} leaves no training cutoff for a {horizon_days}-day task. "
            "Use a later evaluation cutoff or a smaller backtest.min_history_days."
        )
    validation = label_bound - label_days * _DAY
    last_train = validation - label_days * _DAY
    n = (last_train - earliest).days // every_days + 1
    n = max(n, 1) if max_train_cutoffs is None else min(max(n, 1), max_train_cutoffs)
    train = tuple(sorted(last_train - i * every_days * _DAY for i in range(n)))
    note = (
        f"{horizon_days}-day labels"
        if label_days == horizon_days
        else f"trained on {label_days}-day labels: a {horizon_days}-day window does not fit "
        f"twice (train + validation) before {label_bound.date()}"
    )
    return WindowPlan(horizon_days, label_days, train, validation, label_bound, note)
