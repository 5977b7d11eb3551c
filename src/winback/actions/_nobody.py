"""Why an action of a campaign was given to nobody, in numbers, from the allocation's own inputs.

An action reaches nobody for one of three reasons, checked in this order: no customer matches
its rule (each part of the rule is counted), its expected gain is not positive for any eligible
customer (the largest return before cost, ``uplift * value_at_risk`` or ``uplift_<action> *
value_if_retained``, from :func:`expected_gains`, is shown against ``unit_cost``), or
every customer with a positive gain got another action with a higher gain or was left out once the
budget left was below its ``unit_cost``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from winback.actions._allocate import expected_gains
from winback.actions._config import Action, ActionsConfig, AllOf, AnyOf, Condition, Rule
from winback.actions._rules import eligibility, evaluate_rule

__all__ = ["empty_action_reasons"]


def empty_action_reasons(allocated: pd.DataFrame, config: ActionsConfig) -> dict[str, str]:
    """Return, for each action of ``config`` that no customer got, why, with the numbers.

    Parameters
    ----------
    allocated : DataFrame
        The output of :func:`~winback.actions.allocate_actions` for ``config`` (still holding
        the columns the rules read and any ``uplift_<action>`` columns).
    config : ActionsConfig

    Returns
    -------
    dict
        Action name -> one sentence, in the order of ``config.actions``; actions that reached
        somebody are left out.

    Examples
    --------
    >>> from winback.actions import allocate_actions, parse_actions_config
    >>> config = parse_actions_config({"campaign_id": "c", "budget": 100, "actions": [
    ...     {"name": "mail", "channel": "mail", "offer": "gift", "unit_cost": 5.0,
    ...      "uplift": 0.1, "when": {"field": "p_churn", "op": ">=", "value": 0.5}}]})
    >>> scored = pd.DataFrame({"customer_id": [1, 2], "p_churn": [0.9, 0.2],
    ...                        "expected_value": [2.0, 50.0]})
    >>> print(empty_action_reasons(allocate_actions(scored, config), config)["mail"])
    expected gain not positive for all 1 eligible: unit_cost 5.00 > uplift × value_at_risk,
    which is at most 1.80
    """
    gain = expected_gains(allocated, config)
    eligible = eligibility(allocated, config)
    given = allocated["action"].to_numpy(dtype=object)
    own_gain = allocated["expected_gain"].to_numpy(dtype=float)
    budget_left = float(config.budget) - float(allocated["cost"].sum())
    reasons = {}
    for i, action in enumerate(config.actions):
        if (given == action.name).any():
            continue
        mine = eligible[:, i]
        if not mine.any():
            reasons[action.name] = _no_match(action.when, allocated)
        elif not (gain[mine, i] > 0).any():
            reasons[action.name] = _no_gain(action, gain[mine, i] + action.unit_cost)
        else:
            positive = mine & (gain[:, i] > 0)
            better = positive & (given != config.default_action) & (own_gain >= gain[:, i])
            reasons[action.name] = _outbid(action, positive, better, budget_left)
    return reasons


def _no_match(rule: Rule, frame: pd.DataFrame) -> str:
    parts = rule.all if isinstance(rule, AllOf) else rule.any if isinstance(rule, AnyOf) else ()
    counted = [
        f"{_describe(part)}: {int(evaluate_rule(part, frame).sum()):,}" for part in parts or [rule]
    ]
    joined = "; ".join(counted)
    if isinstance(rule, AllOf) and len(parts) > 1:
        joined += "; none matches all of them"
    return f"no customer matched its rule (customers with {joined})"


def _describe(rule: Rule) -> str:
    if isinstance(rule, Condition):
        value = rule.value
        shown = f"[{', '.join(map(str, value))}]" if isinstance(value, tuple) else str(value)
        return f"{rule.field} {rule.op} {shown}"
    parts = rule.all if isinstance(rule, AllOf) else rule.any
    return f"{'all' if isinstance(rule, AllOf) else 'any'} of ({', '.join(map(_describe, parts))})"


def _no_gain(action: Action, return_: np.ndarray) -> str:
    """``return_`` is the eligible customers' expected return before cost."""
    term = (
        f"{action.uplift_column} × value_if_retained"
        if action.uplift == "model"
        else "uplift × value_at_risk"
    )
    best = float(return_.max())
    sign = ">" if best < action.unit_cost else "="
    return (
        f"expected gain not positive for all {len(return_):,} eligible: unit_cost "
        f"{action.unit_cost:.2f} {sign} {term}, which is at most {best:.2f}"
    )


def _outbid(action: Action, positive: np.ndarray, better: np.ndarray, budget_left: float) -> str:
    n_better, n_budget = int(better.sum()), int((positive & ~better).sum())
    parts = []
    if n_better:
        parts.append(f"{n_better:,} got an action with a higher expected gain")
    if n_budget:
        parts.append(
            f"budget exhausted for {n_budget:,}: {budget_left:.2f} left < unit_cost "
            f"{action.unit_cost:.2f}"
        )
    return f"of the {int(positive.sum()):,} eligible with a positive expected gain, " + (
        " and ".join(parts)
    )
