"""Every input customer not scored, with the most telling reason, and the reconciliation check.

Input customers = scored + rejected, disjoint; anything else is a bug and stops the run.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from winback.scoring._columns import REJECT_COLUMNS

__all__ = [
    "NO_ORDER_BY_AS_OF",
    "NO_PURCHASE_BY_AS_OF",
    "input_customers",
    "reconcile",
    "rejected_customers",
]

logger = logging.getLogger(__name__)


NO_ORDER_BY_AS_OF = "no order at or before as-of"
NO_PURCHASE_BY_AS_OF = "no purchase at or before as-of (only cancellations or refunds)"


# (priority, reason) of a customer that is not scored; the lowest priority number is reported
_REASONS = {
    "refunds_only": (0, NO_PURCHASE_BY_AS_OF),
    "after_as_of": (1, NO_ORDER_BY_AS_OF),
    "orders_rejected": (2, "every order row rejected by the data gate"),
    "customers_only": (3, "in the customers table but has no orders"),
    "events_only": (4, "has events but no orders"),
    "rejected_elsewhere": (5, "only in rows rejected by the data gate"),
}


def _ids(frame: pd.DataFrame | None, like: pd.Series) -> pd.Series:
    if frame is None or len(frame) == 0:
        return pd.Series([], dtype=like.dtype)
    return _as_id_dtype(frame["customer_id"], like)


def _as_id_dtype(ids: pd.Series, like: pd.Series) -> pd.Series:
    """``ids`` converted to the orders' id dtype where possible (NA where not)."""
    ids = ids.dropna()
    if ids.dtype == like.dtype:
        return ids
    if pd.api.types.is_integer_dtype(like.dtype):
        numbers = pd.to_numeric(ids.astype("str").str.strip(), errors="coerce")
        whole = numbers.notna() & (numbers == numbers.round())
        return numbers[whole].astype(like.dtype)
    return ids.astype("str").str.strip()


def rejected_customers(
    population: pd.Index,
    orders: pd.DataFrame,
    events: pd.DataFrame | None,
    customers: pd.DataFrame | None,
    data_rejects: pd.DataFrame | None,
    *,
    known: np.ndarray,
    bought: np.ndarray,
) -> pd.DataFrame:
    """One row per input customer not in ``population``, with the most telling reason.

    ``known`` marks the orders dated at or before as-of, ``bought`` those of them that are
    purchases.
    """
    like = orders["customer_id"]
    refunds = like[known & ~bought]
    candidates = [
        _candidates(_unscored(refunds, population), "refunds_only"),
        _candidates(_unscored(like[~known], population), "after_as_of"),
        _candidates(_unscored(_ids(customers, like), population), "customers_only"),
        _candidates(_unscored(_ids(events, like), population), "events_only"),
    ]
    if data_rejects is not None and len(data_rejects):
        ids = _as_id_dtype(data_rejects["customer_id"], like)
        gate = data_rejects.loc[ids.index].assign(customer_id=ids)
        in_orders = gate["table"] == "orders"
        rows, other = gate.loc[in_orders], gate.loc[~in_orders]
        candidates += [
            _candidates(rows["customer_id"], "orders_rejected", detail=rows["reason"]),
            _candidates(
                other["customer_id"],
                "rejected_elsewhere",
                detail=other["table"].astype("str") + ": " + other["reason"].astype("str"),
            ),
        ]
    frame = pd.concat(candidates, ignore_index=True)
    frame = frame.loc[~frame["customer_id"].isin(population)]
    frame = frame.sort_values(["customer_id", "priority"], kind="stable")
    frame = frame.drop_duplicates("customer_id", keep="first")
    return frame[list(REJECT_COLUMNS)].reset_index(drop=True)


def _unscored(ids: pd.Series, population: pd.Index) -> pd.Series:
    """The distinct ``ids`` not in ``population`` (before any per-row text is built)."""
    distinct = pd.Series(pd.unique(ids.to_numpy()), dtype=ids.dtype)
    return distinct.loc[~distinct.isin(population)].reset_index(drop=True)


def _candidates(ids: pd.Series, key: str, *, detail: pd.Series | None = None) -> pd.DataFrame:
    """Customers ``ids`` with the reason ``key`` (and a per-row ``detail`` in parentheses)."""
    priority, reason = _REASONS[key]
    text = pd.Series(reason, index=ids.index, dtype="str")
    if detail is not None:
        text = text + " (" + detail.astype("str") + ")"
    return pd.DataFrame(
        {"customer_id": ids.to_numpy(), "priority": priority, "reason": text.to_numpy()}
    )


def input_customers(
    orders: pd.DataFrame,
    events: pd.DataFrame | None,
    customers: pd.DataFrame | None,
    data_rejects: pd.DataFrame | None,
) -> pd.Index:
    like = orders["customer_id"]
    parts = [like, _ids(customers, like), _ids(events, like)]
    if data_rejects is not None and len(data_rejects):
        parts.append(_as_id_dtype(data_rejects["customer_id"], like))
    return pd.Index(pd.concat([p.astype(like.dtype) for p in parts]).unique())


def reconcile(inputs: pd.Index, scored: pd.Series, rejected: pd.Series) -> None:
    """Check input customers = scored + rejected (disjoint); raise RuntimeError (a bug) if not."""
    scored_ids, rejected_ids = pd.Index(scored), pd.Index(rejected)
    both = scored_ids.intersection(rejected_ids)
    lost = inputs.difference(scored_ids.union(rejected_ids))
    extra = scored_ids.union(rejected_ids).difference(inputs)
    if len(both) or len(lost) or len(extra) or len(inputs) != len(scored_ids) + len(rejected_ids):
        raise RuntimeError(
            f"winback bug: customers do not reconcile: {len(inputs)} input != {len(scored_ids)} "
            f"scored + {len(rejected_ids)} rejected (in both: {list(both[:5])}, in neither: "
            f"{list(lost[:5])}, unknown: {list(extra[:5])}). Please report this."
        )
    logger.info(
        "reconciled: %d input customers = %d scored + %d rejected",
        len(inputs),
        len(scored_ids),
        len(rejected_ids),
    )
