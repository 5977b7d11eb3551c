"""Allocating campaign actions to customers under a budget and per-action caps.

For each customer and each action they are eligible for, the expected gain is

    gain = incremental response x value_if_retained - unit_cost

(:func:`expected_gains`, the one place it is computed). The *incremental response* is how much
the action raises the probability that the customer orders within the churn horizon (stays).
One more customer who stays is worth their value if retained
(:func:`~winback.actions.value_if_retained`, ``expected_value / max(1 - p_churn, 0.05)``), not
their ``expected_value``, which already counts the chance that they churn. So:

- a constant ``uplift`` is the share of would-be churners the action keeps: the incremental
  response is ``p_churn * uplift`` and the gain ``uplift * value_at_risk - unit_cost``
  (``value_at_risk = p_churn * value_if_retained``, what is lost if the customer churns);
  ``p_churn * uplift * expected_value`` would count churn twice (it is ``p_churn * (1 -
  p_churn) * uplift * value_if_retained``: for a given value if retained, largest at
  ``p_churn = 0.5`` and vanishing for the customers most at risk);
- ``uplift: model`` reads the customer's predicted incremental response ``tau(x) = P(order |
  contacted) - P(order | not contacted)`` from the scored column ``uplift_<action>``: the gain
  is ``uplift_<action> * value_if_retained - unit_cost``. A negative ``tau`` (a contact puts
  the customer off) loses a customer who would have stayed, worth the same value if retained;
  such customers are never chosen.

The campaign simulator's truth (:mod:`winback.campaigns`) has the same shape: a would-be
churner won back (probability ``(1 - q) * rho``) places an order, and a customer put off
(``q * sigma``) loses the revenue they would have brought, so its true incremental revenue is
close to ``tau * value_if_retained`` and far from ``tau * expected_value`` for the customers
most at risk.

Candidates with a positive gain are taken
greedily, highest gain first (ties: lower ``customer_id``, then the earlier action), as long as the
action's cap and the budget allow. A customer whose best action is full or no longer affordable
falls back to their next-best eligible action with a positive gain: the result is exactly the
sequential greedy over all (customer, action) candidates, computed with vectorised passes over the
customers, one pass per closed action (so at most ``n_actions + 1`` passes).

Control customers are drawn **after** allocation from the customers assigned an action: they take
a slot and count against the budget and caps like treated customers, so the control group is a
random sample of exactly the customers the campaign would have contacted (what makes the
treatment-vs-control comparison unbiased). They are never sent, so the money actually spent,
the treatment cost, is about ``(1 - control_fraction)`` of the planned cost. To spend a target
``S`` on treatment, set ``budget = S / (1 - control_fraction)``.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from winback.actions._config import ActionsConfig
from winback.actions._control import control_mask
from winback.actions._rules import eligibility
from winback.actions._value import value_if_retained
from winback.exceptions import DataError

__all__ = ["ALLOCATION_COLUMNS", "allocate_actions", "allocation_summary", "expected_gains"]

logger = logging.getLogger(__name__)

ALLOCATION_COLUMNS = ("action", "offer", "channel", "expected_gain", "cost", "group")
_MICROS = 1_000_000  # costs and budget are compared in whole millionths: exact integer sums
_INT64_SAFE = 2**62  # int64 sums of costs stay below this; larger ones use Python integers


def allocate_actions(scored: pd.DataFrame, config: ActionsConfig) -> pd.DataFrame:
    """Return ``scored`` with the action, offer, channel, gain, cost and group of every customer.

    Deterministic: there is no randomness to seed. Ties are broken by ``customer_id`` and by the
    order of ``config.actions``; the control group is a stable hash of (campaign id, customer id).

    Parameters
    ----------
    scored : DataFrame
        One row per customer: unique, non-missing ``customer_id``; ``p_churn`` in [0, 1];
        finite ``expected_value``; plus every column the config's conditions name.
    config : ActionsConfig
        The campaign (see :func:`load_actions_config`).

    Returns
    -------
    DataFrame
        A copy of ``scored`` (same rows and order; existing columns of these names are replaced)
        with ``action`` (str; ``config.default_action`` when none), ``offer`` and ``channel``
        (str, NA when no action), ``expected_gain`` (float, 0 when no action), ``cost`` (the
        action's ``unit_cost``, also for control customers; 0 when no action) and ``group``
        (``"treatment"``, ``"control"`` or ``"none"``). The planned cost, ``cost.sum()``, never
        exceeds ``config.budget``; the spend, the treatment rows' cost, is lower still.

    Raises
    ------
    DataError
        If a required column is missing or holds invalid values.
    ConfigError
        If a condition names a column ``scored`` lacks or compares values of the wrong kind.
    """
    _check_scored(scored)
    _check_uplift_columns(scored, config)
    gain = expected_gains(scored, config)
    allowed = eligibility(scored, config) & (gain > 0)
    choice = _greedy(
        gain,
        allowed,
        tie_rank=pd.factorize(scored["customer_id"], sort=True)[0],
        cost=_micros([a.unit_cost for a in config.actions], customers=len(scored)),
        cap=np.array([a.max_customers or len(scored) for a in config.actions], dtype=np.int64),
        budget=_micro(config.budget),
    )
    out = _with_assignment(scored, config, choice, gain)
    logger.info(
        "Allocated %d of %d customers (%d held out as control), planned cost %.2f of %.2f.",
        int((choice >= 0).sum()),
        len(scored),
        int((out["group"] == "control").sum()),
        float(out["cost"].sum()),
        config.budget,
    )
    return out


def expected_gains(scored: pd.DataFrame, config: ActionsConfig) -> np.ndarray:
    """Return the ``(n_customers, n_actions)`` expected gains (see the module docstring).

    ``incremental response x value_if_retained - unit_cost``: for a constant ``uplift`` that is
    ``uplift * value_at_risk - unit_cost``; for ``uplift: model``, ``uplift_<action> *
    value_if_retained - unit_cost``.

    Examples
    --------
    p_churn 0.4 and expected_value 30: value if retained 50, value at risk 20; an uplift of
    0.15 at a cost of 2 gains 0.15 x 20 - 2:

    >>> from winback.actions import parse_actions_config
    >>> config = parse_actions_config({"campaign_id": "c", "budget": 10, "actions": [
    ...     {"name": "a", "channel": "email", "offer": "o", "unit_cost": 2.0, "uplift": 0.15,
    ...      "when": {"field": "p_churn", "op": ">=", "value": 0}}]})
    >>> scored = pd.DataFrame({"p_churn": [0.4], "expected_value": [30.0]})
    >>> expected_gains(scored, config).round(12).tolist()
    [[1.0]]
    """
    p_churn = scored["p_churn"].to_numpy(float)
    retained = value_if_retained(scored["expected_value"].to_numpy(float), p_churn)
    response = [
        scored[a.uplift_column].to_numpy(float) if a.uplift == "model" else p_churn * a.uplift
        for a in config.actions
    ]
    cost = np.array([a.unit_cost for a in config.actions])
    return np.column_stack(response) * retained[:, None] - cost[None, :]


def _micro(money: float) -> int:
    """``money`` in whole millionths, as an exact Python integer (any finite size)."""
    return round(float(money) * _MICROS)


def _micros(money: list[float], *, customers: int) -> np.ndarray:
    """Unit costs in millionths: int64, or Python integers (object) when ``customers`` times
    the dearest cost could overflow int64 (costs and budgets of any finite size work)."""
    units = [_micro(m) for m in money]
    if max(units, default=0) * max(customers, 1) < _INT64_SAFE:
        return np.array(units, dtype=np.int64)
    return np.array(units, dtype=object)


def _greedy(
    gain: np.ndarray,
    allowed: np.ndarray,
    *,
    tie_rank: np.ndarray,
    cost: np.ndarray,
    cap: np.ndarray,
    budget: int,
) -> np.ndarray:
    """Return each customer's action index (-1 for none) by the greedy described in the module.

    ``cost`` and ``budget`` are whole millionths; ``budget`` is a Python integer of any size
    (compared exactly with the int64 running sums, so a budget beyond int64 never overflows).

    Each pass gives every waiting customer their best still-open action, sorts these candidates
    by gain, accepts the longest prefix that fits the caps and the budget, and closes the actions
    that can take nobody more (cap reached, or cost above what is left). The first rejected
    candidate always closes its action, so the loop ends after at most ``n_actions + 1`` passes.
    """
    n_actions = gain.shape[1]
    choice = np.full(gain.shape[0], -1, dtype=np.int64)
    is_open = np.ones(n_actions, dtype=bool)
    cap_left, budget_left = cap.copy(), budget
    waiting = np.flatnonzero(allowed.any(axis=1))
    while waiting.size and is_open.any():
        waiting, best = _best_open(gain, allowed, waiting, is_open, tie_rank)
        n_fit = _fitting_prefix(best, cost, cap_left, budget_left)
        choice[waiting[:n_fit]] = best[:n_fit]
        budget_left -= int(cost[best[:n_fit]].sum())
        cap_left -= np.bincount(best[:n_fit], minlength=n_actions)
        is_open &= (cap_left > 0) & (cost <= budget_left).astype(bool)
        waiting = waiting[n_fit:]
    return choice


def _best_open(
    gain: np.ndarray,
    allowed: np.ndarray,
    waiting: np.ndarray,
    is_open: np.ndarray,
    tie_rank: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Return the waiting customers that still have an open candidate, best gain first, and
    their best open action (ties between actions: the earlier one)."""
    masked = np.where(allowed[waiting] & is_open, gain[waiting], -np.inf)
    best = masked.argmax(axis=1)
    best_gain = masked[np.arange(len(waiting)), best]
    keep = best_gain > -np.inf
    waiting, best, best_gain = waiting[keep], best[keep], best_gain[keep]
    order = np.lexsort((tie_rank[waiting], -best_gain))
    return waiting[order], best[order]


def _fitting_prefix(best: np.ndarray, cost: np.ndarray, cap_left: np.ndarray, budget: int) -> int:
    """Return how many leading candidates fit the remaining caps and budget together."""
    running = np.zeros(len(best), dtype=np.int64)
    for action in np.unique(best):  # per action, not per customer
        rows = np.flatnonzero(best == action)
        running[rows] = np.arange(1, len(rows) + 1)
    too_many = running > cap_left[best]
    too_dear = (np.cumsum(cost[best]) > budget).astype(bool)
    rejected = np.flatnonzero(too_many | too_dear)
    return int(rejected[0]) if rejected.size else len(best)


def _with_assignment(
    scored: pd.DataFrame, config: ActionsConfig, choice: np.ndarray, gain: np.ndarray
) -> pd.DataFrame:
    """Return a copy of ``scored`` with the allocation columns for ``choice``."""
    actions = config.actions
    assigned = choice >= 0
    pick = np.where(assigned, choice, len(actions))  # the extra last slot is "no action"
    held = np.zeros(len(choice), dtype=bool)
    held[assigned] = control_mask(
        scored["customer_id"].to_numpy()[assigned],
        campaign_id=config.campaign_id,
        fraction=config.control_fraction,
    )
    out = scored.drop(columns=[c for c in ALLOCATION_COLUMNS if c in scored.columns])
    out["action"] = _labels([a.name for a in actions] + [config.default_action], pick)
    out["offer"] = _labels([a.offer for a in actions] + [None], pick)
    out["channel"] = _labels([a.channel for a in actions] + [None], pick)
    out["expected_gain"] = np.where(
        assigned, gain[np.arange(len(choice)), pick % len(actions)], 0.0
    )
    out["cost"] = np.where(assigned, np.array([a.unit_cost for a in actions] + [0.0])[pick], 0.0)
    out["group"] = _labels(["treatment", "control", "none"], np.where(assigned, held * 1, 2))
    return out


def _labels(values: list[object], index: np.ndarray) -> pd.api.extensions.ExtensionArray:
    """Return ``values[index]`` as a pandas string array (None becomes NA)."""
    return pd.array(np.asarray(values, dtype=object)[index], dtype="str")


def _check_scored(scored: pd.DataFrame) -> None:
    """Raise one DataError listing every problem with the columns allocation relies on."""
    missing = [c for c in ("customer_id", "p_churn", "expected_value") if c not in scored]
    if missing:
        raise DataError(
            f"allocate_actions: the scored frame lacks {missing}; "
            f"available columns: {', '.join(map(str, scored.columns))}."
        )
    problems = _id_problems(scored["customer_id"])
    p_churn = pd.to_numeric(scored["p_churn"], errors="coerce")
    bad_p = ~p_churn.between(0, 1)
    if bad_p.any():
        problems.append(_rows_not("p_churn", "a probability in [0, 1]", bad_p, scored.index))
    value = pd.to_numeric(scored["expected_value"], errors="coerce")
    bad_v = ~np.isfinite(value.to_numpy(dtype=float, na_value=np.nan))
    if bad_v.any():
        problems.append(_rows_not("expected_value", "a finite number", bad_v, scored.index))
    if problems:
        raise DataError("allocate_actions: " + "; ".join(problems) + ".")


def _check_uplift_columns(scored: pd.DataFrame, config: ActionsConfig) -> None:
    """Raise a DataError unless every ``uplift: model`` action has a finite uplift column."""
    problems = []
    for action in config.actions:
        if action.uplift != "model":
            continue
        column = action.uplift_column
        if column not in scored.columns:
            problems.append(
                f"action {action.name!r} has uplift: model but the scored frame has no "
                f"{column!r} column; score with the uplift model fitted for it "
                "(winback score --uplift-model <bundle>)"
            )
            continue
        values = pd.to_numeric(scored[column], errors="coerce").to_numpy(float)
        bad = ~np.isfinite(values)
        if bad.any():
            problems.append(_rows_not(column, "a finite number", bad, scored.index))
    if problems:
        raise DataError("allocate_actions: " + "; ".join(problems) + ".")


def _rows_not(column: str, rule: str, bad: pd.Series | np.ndarray, index: pd.Index) -> str:
    """``"<column> must be <rule>; N rows are not (e.g. rows [...])"``."""
    bad = np.asarray(bad, dtype=bool)
    examples = index[bad][:5].tolist()
    return f"{column} must be {rule}; {int(bad.sum())} rows are not (e.g. rows {examples})"


def _id_problems(ids: pd.Series) -> list[str]:
    problems = []
    if ids.isna().any():
        problems.append(f"customer_id is missing in {int(ids.isna().sum())} rows")
    dupes = ids[ids.duplicated(keep=False) & ids.notna()]
    if len(dupes):
        problems.append(
            f"customer_id must be unique (one row per customer); repeated: "
            f"{sorted(dupes.unique().tolist())[:5]}"
        )
    return problems


def allocation_summary(allocated: pd.DataFrame) -> pd.DataFrame:
    """Return one row per action: customers, treatment, control, planned cost, spend and gain.

    Parameters
    ----------
    allocated : DataFrame
        The output of :func:`allocate_actions`.

    Returns
    -------
    DataFrame
        Indexed by ``action`` (sorted), columns ``customers``, ``treatment``, ``control``
        (int), ``planned_cost`` (treatment + control), ``spend`` (treatment only) and
        ``expected_gain`` (treatment only), money as float.
    """
    rows = allocated.loc[allocated["group"] != "none"]
    treated = rows["group"] == "treatment"
    frame = pd.DataFrame(
        {
            "action": rows["action"],
            "treatment": treated.astype(np.int64),
            "control": (~treated).astype(np.int64),
            "planned_cost": rows["cost"],
            "spend": rows["cost"].where(treated, 0.0),
            "expected_gain": rows["expected_gain"].where(treated, 0.0),
        }
    )
    out = frame.groupby("action", sort=True).sum()
    out.insert(0, "customers", out["treatment"] + out["control"])
    return out
