"""Evaluating eligibility rules on a scored frame: column comparisons, never eval or query.

Each operator maps to a vectorised pandas comparison; ``all`` / ``any`` groups combine boolean
arrays. Fields are checked against the frame's columns and dtypes before anything is compared, and
every problem is reported at once as a :class:`~winback.exceptions.ConfigError`.
:func:`check_rule_fields` makes the same check before any work, against the columns a run will
produce and the values its text columns can hold (segment names, tiers), so a typo such as
``At risk`` for ``At Risk`` is an error instead of a rule that matches nobody.
"""

from __future__ import annotations

import difflib
import operator
from collections.abc import Callable, Collection, Iterator, Mapping

import numpy as np
import pandas as pd

from winback.actions._config import (
    ORDERING_OPERATORS,
    ActionsConfig,
    AllOf,
    AnyOf,
    Condition,
    Rule,
    action_label,
)
from winback.exceptions import ConfigError

__all__ = ["check_rule_fields", "eligibility", "evaluate_rule", "rule_fields"]

_COMPARE: dict[str, Callable[[pd.Series, object], pd.Series]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
    "in": lambda column, values: column.isin(list(values)),  # type: ignore[call-overload]
    "not in": lambda column, values: ~column.isin(list(values)),  # type: ignore[call-overload]
}


def evaluate_rule(rule: Rule, frame: pd.DataFrame) -> np.ndarray:
    """Return a boolean array, one entry per row of ``frame``, true where ``rule`` holds.

    A missing value (NaN/NA) in a compared column makes that condition false, for every operator
    (``!=`` and ``not in`` included). :func:`eligibility` checks fields and types first.
    """
    if isinstance(rule, AllOf):
        return np.logical_and.reduce([evaluate_rule(part, frame) for part in rule.all])
    if isinstance(rule, AnyOf):
        return np.logical_or.reduce([evaluate_rule(part, frame) for part in rule.any])
    column = frame[rule.field]
    result = _COMPARE[rule.op](column, rule.value) & column.notna()
    return result.to_numpy(dtype=bool, na_value=False)


def eligibility(frame: pd.DataFrame, config: ActionsConfig) -> np.ndarray:
    """Return the ``(n_rows, n_actions)`` boolean matrix of who is eligible for which action.

    Raises
    ------
    ConfigError
        If a condition names a column the frame lacks, or compares a column with a value of the
        wrong kind (a number against a text column, an ordering on text, ...); every problem is
        listed with the action, the field and the available columns.
    """
    problems = [
        f"{action_label(i, action.name)}: {problem}"
        for i, action in enumerate(config.actions)
        for problem in _field_problems(action.when, frame)
    ]
    if problems:
        raise ConfigError(
            "Cannot apply the actions config to the scored frame:\n  - "
            + "\n  - ".join(problems)
            + f"\nAvailable columns: {', '.join(map(str, frame.columns))}."
        )
    columns = [evaluate_rule(action.when, frame) for action in config.actions]
    return np.column_stack(columns) if columns else np.zeros((len(frame), 0), dtype=bool)


def rule_fields(config: ActionsConfig) -> tuple[str, ...]:
    """Return the sorted column names the config's conditions read (the scored frame needs them)."""
    return tuple(sorted({c.field for action in config.actions for c in _conditions(action.when)}))


def _conditions(rule: Rule) -> Iterator[Condition]:
    if isinstance(rule, AllOf | AnyOf):
        for part in rule.all if isinstance(rule, AllOf) else rule.any:
            yield from _conditions(part)
    else:
        yield rule


def check_rule_fields(
    config: ActionsConfig,
    columns: Collection[str],
    *,
    values: Mapping[str, Collection[str]] | None = None,
    where: str = "the scores",
) -> None:
    """Check every condition's field against ``columns`` and its text values against ``values``.

    Parameters
    ----------
    config : ActionsConfig
    columns : collection of str
        The columns the conditions may read (e.g. the columns scoring will produce).
    values : mapping, optional
        Text column -> the values it can hold, e.g. ``{"segment": [...segment names],
        "risk_tier": ["low", "medium", "high"]}``: a condition comparing it with any other text
        (or with a number) could never match.
    where : str
        What ``columns`` are, for the message.

    Raises
    ------
    ConfigError
        One line listing every unknown field with the closest column and every value no row
        can hold with the closest value, then the allowed fields.
    """
    values = values or {}
    problems = []
    for i, action in enumerate(config.actions):
        for cond in _conditions(action.when):
            if cond.field not in columns:
                problems.append(
                    f"{action_label(i, action.name)}: condition field {cond.field!r} is not a "
                    f"column of {where}{_closest(cond.field, columns)}"
                )
            elif cond.field in values:
                problems += [
                    f"{action_label(i, action.name)}: {problem}"
                    for problem in _value_problems(cond, values[cond.field])
                ]
    if problems:
        fields = ", ".join(sorted(columns))
        raise ConfigError(
            f"Cannot use the actions config {config.campaign_id!r}: "
            + "; ".join(problems)
            + f". Allowed fields: {fields}."
        )


def _closest(word: str, choices: Collection[str]) -> str:
    close = difflib.get_close_matches(word, sorted(choices), n=1, cutoff=0.5)
    if not close:  # case or spacing only: 'At risk' -> 'At Risk'
        folded = {c.casefold().replace(" ", ""): c for c in choices}
        close = [folded[key]] if (key := word.casefold().replace(" ", "")) in folded else []
    return f" (did you mean {close[0]!r}?)" if close else ""


def _value_problems(cond: Condition, allowed: Collection[str]) -> list[str]:
    items = cond.value if isinstance(cond.value, tuple) else (cond.value,)
    problems = []
    for item in items:
        if not isinstance(item, str):
            problems.append(
                f"condition {cond.field!r} {cond.op} {item!r} compares a "
                f"{_scalar_kind(item)} with the text column {cond.field!r}"
            )
        elif item not in allowed:
            problems.append(
                f"condition {cond.field!r} {cond.op} {item!r}: no customer can have "
                f"{cond.field} {item!r}{_closest(item, allowed)}; {cond.field} values: "
                + ", ".join(repr(v) for v in allowed)
            )
    return problems


def _field_problems(rule: Rule, frame: pd.DataFrame) -> list[str]:
    problems = []
    for cond in _conditions(rule):
        if cond.field not in frame.columns:
            problems.append(
                f"condition field {cond.field!r} is not a column of the scored frame"
                + _closest(cond.field, [str(c) for c in frame.columns])
            )
            continue
        kind = _value_kind(cond.value)
        column_kind = _column_kind(frame[cond.field])
        if cond.op in ORDERING_OPERATORS and column_kind != "number":
            problems.append(
                f"condition {cond.field!r} {cond.op} {cond.value!r} orders a {column_kind} "
                f"column (dtype {frame[cond.field].dtype}); use == , != , in or not in"
            )
        elif kind != column_kind:
            problems.append(
                f"condition {cond.field!r} {cond.op} {cond.value!r} compares a {kind} value "
                f"with a {column_kind} column (dtype {frame[cond.field].dtype})"
            )
    return problems


def _value_kind(value: object) -> str:
    items = value if isinstance(value, tuple) else (value,)
    kinds = {_scalar_kind(item) for item in items}
    return kinds.pop() if len(kinds) == 1 else "mixed"


def _scalar_kind(value: object) -> str:
    if isinstance(value, bool):
        return "boolean"
    return "number" if isinstance(value, int | float) else "text"


_INFERRED_KINDS = {
    "boolean": "boolean",
    "integer": "number",
    "floating": "number",
    "mixed-integer-float": "number",
    "decimal": "number",
}


def _column_kind(column: pd.Series) -> str:
    if pd.api.types.is_bool_dtype(column):
        return "boolean"
    if pd.api.types.is_numeric_dtype(column):
        return "number"
    if pd.api.types.is_datetime64_any_dtype(column):
        return "datetime"
    if column.dtype == object:
        return _INFERRED_KINDS.get(pd.api.types.infer_dtype(column, skipna=True), "text")
    return "text"
