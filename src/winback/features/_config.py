"""The feature builder's settings (:class:`FeatureConfig`)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

__all__ = ["FeatureConfig"]

_EventType = Annotated[str, StringConstraints(min_length=1)]


class FeatureConfig(BaseModel):
    """Settings of :func:`~winback.features.build_features`.

    Parameters
    ----------
    windows_days
        Lengths of the trailing windows, in days, for the ``orders_last_{w}d``,
        ``spend_last_{w}d``, trend and event-count features. Stored sorted ascending.
    event_types
        Event types that get per-type columns. ``None`` (default) means every type seen at or
        before the cutoff, which makes the columns depend on the data: a model pins the list it
        was trained with so that scoring produces the same columns. Pinned types absent from the
        data give zero counts and NaN "days since".
    value_event_types
        Event types whose last ``value`` (an NPS score, review stars) becomes an
        ``event_{type}_last_value`` column whenever events are given.

    Examples
    --------
    >>> FeatureConfig(windows_days=[90, 30]).windows_days
    [30, 90]
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    windows_days: list[Annotated[int, Field(gt=0, le=36_500)]] = Field(
        default_factory=lambda: [30, 90, 180, 365], min_length=1
    )
    event_types: list[_EventType] | None = None
    value_event_types: list[_EventType] = Field(default_factory=lambda: ["nps", "review"])

    @field_validator("windows_days")
    @classmethod
    def _distinct_sorted_windows(cls, value: list[int]) -> list[int]:
        if len(set(value)) != len(value):
            raise ValueError(f"windows_days must be distinct, got {value}")
        return sorted(value)

    @field_validator("event_types", "value_event_types")
    @classmethod
    def _distinct_types(cls, value: list[str] | None) -> list[str] | None:
        if value is not None and len(set(value)) != len(value):
            raise ValueError(f"event types must be distinct, got {value}")
        return value
