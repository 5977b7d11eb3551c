"""The columns of a scoring run's outputs, in order."""

from __future__ import annotations

import logging

__all__ = ["REJECT_COLUMNS", "SCORE_COLUMNS", "TIERS"]

logger = logging.getLogger(__name__)


#: Columns of the scores frame, in order (``ALLOCATION_COLUMNS`` follow with ``actions=``).
SCORE_COLUMNS = (
    "customer_id",
    "p_repurchase",
    "p_churn",
    "expected_spend",
    "expected_value",
    "value_if_retained",
    "value_at_risk",
    "p_alive",
    "expected_next_order_date",
    "days_to_next_order",
    "clv",
    "risk_tier",
    "value_tier",
    "segment",
    "recency_days",
    "n_orders",
    "monetary_total",
    "reasons",
    "model",
    "model_version",
    "as_of",
)


REJECT_COLUMNS = ("customer_id", "reason")


TIERS = ("low", "medium", "high")
