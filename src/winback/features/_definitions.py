"""One-line definitions of every feature and label column (the data dictionary).

Names with ``{w}`` (a window length in days), ``{h}`` (a horizon in days) or ``{type}`` (an
event type's column token) are templates; :func:`describe_columns` resolves actual column
names. "At or before the cutoff" means on the cutoff's calendar day or earlier; ``(a, b]``
windows are in whole calendar days.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

__all__ = ["FEATURE_DEFINITIONS", "LABEL_DEFINITIONS", "describe_columns"]

FEATURE_DEFINITIONS: dict[str, str] = {
    "days_since_last_order": "Days from the last purchase day to the cutoff (0: bought that day).",
    "n_orders": (
        "Purchases (orders with amount > 0; cancellations and refunds excluded) at or before "
        "the cutoff."
    ),
    "n_purchase_days": "Distinct calendar days with a purchase at or before the cutoff.",
    "frequency": "Repeat purchase days, n_purchase_days - 1 (lifetimes' frequency).",
    "tenure_days": "Days from the first purchase day to the cutoff (lifetimes' T, in days).",
    "active_span_days": "Days from the first to the last purchase day (lifetimes' recency).",
    "repeat_days_per_30d": (
        "Repeat purchase days per 30 days of tenure, 30 * frequency / tenure_days; "
        "NaN when tenure_days is 0."
    ),
    "recency_share": (
        "Share of the tenure since the last purchase, days_since_last_order / tenure_days "
        "(1: nothing since the first purchase day); NaN when tenure_days is 0."
    ),
    "monetary_total": "Sum of order amounts at or before the cutoff (refunds subtract).",
    "monetary_mean": "Net amount per purchase, monetary_total / n_orders.",
    "monetary_max": "Largest single purchase amount.",
    "first_purchase_value": "Total amount of the first purchase day (same-day orders merged).",
    "gap_mean_days": (
        "Mean days between consecutive purchase days, active_span_days / frequency; "
        "NaN with one purchase day."
    ),
    "gap_std_days": (
        "Sample standard deviation (ddof=1) of the days between consecutive purchase days; "
        "NaN with fewer than three purchase days."
    ),
    "gap_last_days": "Days between the last two purchase days; NaN with one purchase day.",
    "overdue_ratio": (
        "days_since_last_order / gap_mean_days (above 1: later than usual); "
        "NaN with one purchase day."
    ),
    "orders_last_{w}d": "Purchases in the {w} days up to the cutoff, (cutoff - {w}d, cutoff].",
    "spend_last_{w}d": "Sum of order amounts in (cutoff - {w}d, cutoff] (refunds subtract).",
    "orders_trend_{w}d": (
        "orders_last_{w}d minus the purchases of the {w} days before, "
        "(cutoff - 2*{w}d, cutoff - {w}d]."
    ),
    "spend_trend_{w}d": (
        "spend_last_{w}d minus the spend of the {w} days before, (cutoff - 2*{w}d, cutoff - {w}d]."
    ),
    "refund_share": (
        "Share of the orders with an amount <= 0 (cancellations, refunds, returns) among all "
        "orders."
    ),
    "discount_share": "Share of the purchases with a discount > 0 (orders with a discount column).",
    "n_categories": "Distinct categories bought (orders with a category column).",
    "event_{type}_last_{w}d": "Events of type '{type}' in (cutoff - {w}d, cutoff].",
    "event_{type}_days_since_last": "Days from the last '{type}' event to the cutoff; NaN if none.",
    "event_{type}_last_value": (
        "Value of the latest '{type}' event that has one (e.g. an NPS score); NaN if none."
    ),
    "events_all_last_{w}d": "Events of every type counted above, in (cutoff - {w}d, cutoff].",
    "events_all_days_since_last": "Days from the last event of any counted type; NaN if none.",
    "events_all_rate_ratio_{w}d": (
        "Events per day in (cutoff - {w}d, cutoff] over events per day since the first event "
        "(at least {w} days): 1 usual engagement, below 1 fading; NaN if no events."
    ),
    "days_since_signup": "Days from signup_ts to the cutoff; NaN if unknown or after the cutoff.",
    "marketing_opt_in": (
        "1.0 opted in to marketing, 0.0 not, NaN unknown; the customers table's current "
        "snapshot, not its state at the cutoff."
    ),
}

LABEL_DEFINITIONS: dict[str, str] = {
    "purchased_within_{h}d": (
        "1 if at least one purchase (order with amount > 0) in (cutoff, cutoff + {h}d], else 0."
    ),
    "spend_within_{h}d": (
        "Sum of order amounts in (cutoff, cutoff + {h}d], refunds subtract; 0 if no order."
    ),
}

_PLACEHOLDERS = {"{w}": r"(?P<w>\d+)", "{h}": r"(?P<h>\d+)", "{type}": r"(?P<type>\w+)"}


def _pattern(template: str) -> re.Pattern[str]:
    pattern = re.escape(template)
    for placeholder, group in _PLACEHOLDERS.items():
        pattern = pattern.replace(re.escape(placeholder), group)
    return re.compile(pattern)


_TEMPLATES = [
    (_pattern(name), definition)
    for name, definition in {**FEATURE_DEFINITIONS, **LABEL_DEFINITIONS}.items()
]


def describe_columns(columns: Iterable[str]) -> dict[str, str]:
    """Return the one-line definition of each feature or label column name.

    Raises
    ------
    KeyError
        If a column is not one that :mod:`winback.features` produces.

    Examples
    --------
    >>> describe_columns(["orders_last_30d"])["orders_last_30d"]
    'Orders in the 30 days up to the cutoff, (cutoff - 30d, cutoff].'
    """
    out = {}
    for column in columns:
        for pattern, definition in _TEMPLATES:
            match = pattern.fullmatch(column)
            if match:
                out[column] = definition.format(**match.groupdict())
                break
        else:
            raise KeyError(f"{column!r} is not a column that winback.features produces")
    return out
