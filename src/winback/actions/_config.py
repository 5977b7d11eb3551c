"""The campaign config (``configs/actions.yaml``): pydantic models and the loader.

An :class:`ActionsConfig` holds a campaign id, a budget, a control fraction and an ordered list of
:class:`Action` rules, each with an eligibility rule built from :class:`Condition` leaves combined
by :class:`AllOf` / :class:`AnyOf` (nestable). Pydantic's errors are translated at this boundary
into one :class:`~winback.exceptions.ConfigError` naming each offending action and key.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    field_validator,
    model_validator,
)

from winback.validation import SAFE_NAME, read_yaml, short_repr, validated

__all__ = [
    "CHANNELS",
    "OPERATORS",
    "Action",
    "ActionsConfig",
    "AllOf",
    "AnyOf",
    "Condition",
    "UpliftSource",
    "load_actions_config",
    "parse_actions_config",
]

Operator = Literal["<", "<=", ">", ">=", "==", "!=", "in", "not in"]
Channel = Literal["email", "sms", "mail", "call"]
OPERATORS: tuple[str, ...] = get_args(Operator)
CHANNELS: tuple[str, ...] = get_args(Channel)
ORDERING_OPERATORS = ("<", "<=", ">", ">=")

Scalar = bool | int | float | str


def _number_text(value: Any) -> Any:
    """A finite number, also one written as text: YAML 1.1 reads ``1e13`` (an exponent without
    a dot) as text. Text that is no number is left for pydantic to refuse; .inf and .nan are
    refused here."""
    if isinstance(value, str):
        try:
            value = float(value.strip().replace("_", ""))
        except ValueError:
            return value
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"expected a finite number, got {value!r} (.inf and .nan are refused)")
    return value


#: A finite, non-negative amount of money; ``1e13`` (read by YAML as text) is taken as a number.
Money = Annotated[float, BeforeValidator(_number_text), Field(ge=0, strict=True)]
_Share = Annotated[float, BeforeValidator(_number_text), Field(strict=True)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Condition(_Strict):
    """``column op value``: e.g. ``{field: p_churn, op: ">=", value: 0.6}``.

    ``in`` / ``not in`` take a list; ``<``, ``<=``, ``>``, ``>=`` take a number; ``==`` / ``!=``
    a number, a string or a boolean. A missing value in the column never satisfies a condition.
    """

    field: str = Field(min_length=1)
    op: Operator
    value: Scalar | tuple[Scalar, ...]

    @field_validator("value", mode="before")
    @classmethod
    def _scalar_or_list(cls, value: Any) -> Any:
        items = value if isinstance(value, list | tuple) else [value]
        bad = [item for item in items if not isinstance(item, Scalar)]
        if bad or (isinstance(value, list | tuple) and not value):
            raise ValueError(
                f"condition value must be a number, string, boolean or non-empty list of them, "
                f"got {value!r}"
            )
        return tuple(value) if isinstance(value, list | tuple) else value

    @model_validator(mode="after")
    def _value_fits_op(self) -> Condition:
        is_list = isinstance(self.value, tuple)
        if self.op in ("in", "not in") and not is_list:
            raise ValueError(f"condition op {self.op!r} needs a list value, got {self.value!r}")
        if self.op not in ("in", "not in") and is_list:
            raise ValueError(
                f"condition op {self.op!r} needs a single value, got the list {list(self.value)!r}"
                " (use 'in' to match any of several values)"
            )
        if self.op in ORDERING_OPERATORS and not _is_number(self.value):
            raise ValueError(f"condition op {self.op!r} needs a number, got {self.value!r}")
        return self


class AllOf(_Strict):
    """True where every rule in ``all`` is true."""

    all: tuple[Rule, ...] = Field(min_length=1)


class AnyOf(_Strict):
    """True where at least one rule in ``any`` is true."""

    any: tuple[Rule, ...] = Field(min_length=1)


def _rule_kind(value: Any) -> str:
    if isinstance(value, Mapping):
        return "all" if "all" in value else "any" if "any" in value else "condition"
    return {AllOf: "all", AnyOf: "any"}.get(type(value), "condition")


def _rule_shape(value: Any) -> Any:
    if not isinstance(value, Mapping | Condition | AllOf | AnyOf):
        raise ValueError(
            "expected a condition {field, op, value} or a group {all: [...]} or {any: [...]}, "
            f"got {short_repr(value)}"
        )
    return value


Rule = Annotated[
    Annotated[Condition, Tag("condition")]
    | Annotated[AllOf, Tag("all")]
    | Annotated[AnyOf, Tag("any")],
    Discriminator(_rule_kind),
    BeforeValidator(_rule_shape),
]
AllOf.model_rebuild()
AnyOf.model_rebuild()


def _uplift_value(value: Any) -> Any:
    """Accept a number in [0, 1] or the word ``model``; one clear message for anything else."""
    if value == "model" or (_is_number(value) and 0 <= value <= 1):
        return value
    raise ValueError(
        f"uplift must be a number in [0, 1] (the share of would-be churners the action keeps) "
        f"or 'model' (per-customer uplift from an uplift model), got {short_repr(value)}"
    )


def _uplift_number(value: Any) -> Any:
    """``_uplift_value`` of a number also written as text (YAML reads ``1e-2`` as text)."""
    return _uplift_value(_number_text(value))


class UpliftSource(_Strict):
    """Where a measured ``uplift`` came from (written by ``winback measure --update-actions``).

    ``estimate`` is the measured uplift among would-be churners with its 95% CI
    (``ci_low``, ``ci_high``) from ``n_treatment`` treated and ``n_control`` control customers of
    campaign ``campaign_id`` (sent ``campaign_date``, response window ``window_days``);
    ``prior`` (with standard deviation ``prior_sd``) is the uplift the action had before, and
    ``weight`` the share of the estimate in the new, precision-weighted ``uplift``.
    """

    campaign_id: str = Field(min_length=1)
    campaign_date: str = Field(min_length=1)
    window_days: Annotated[int, Field(gt=0, strict=True)]
    estimate: float
    ci_low: float
    ci_high: float
    n_treatment: Annotated[int, Field(ge=0, strict=True)]
    n_control: Annotated[int, Field(ge=0, strict=True)]
    prior: float
    prior_sd: Annotated[float, Field(gt=0)]
    weight: Annotated[float, Field(ge=0, le=1)]


class Action(_Strict):
    """One campaign action and who is eligible for it.

    ``uplift`` is the assumed probability that the action keeps a customer who would otherwise
    churn, so the action's expected gain for a customer is ``uplift * value_at_risk -
    unit_cost`` (``value_at_risk = p_churn * value_if_retained``, :mod:`winback.actions._value`).
    ``uplift: model`` reads each customer's predicted incremental response from the scored
    column ``uplift_<name>`` instead (written by scoring with an uplift model): the gain is
    ``uplift_<name> * value_if_retained - unit_cost``, so customers whom the contact is
    predicted to hurt (negative uplift) are never chosen. See :mod:`winback.actions._allocate`.
    ``uplift_source`` records the measurement a measured uplift came from.
    """

    name: str = Field(pattern=SAFE_NAME, description="identifier; also names the export file")
    channel: Channel
    offer: str = Field(min_length=1)
    unit_cost: Money
    uplift: Annotated[float | Literal["model"], BeforeValidator(_uplift_number)]
    max_customers: Annotated[int, Field(gt=0, strict=True)] | None = None
    when: Rule
    uplift_source: UpliftSource | None = None

    @property
    def uplift_column(self) -> str:
        """The scored column an ``uplift: model`` action reads: ``uplift_<name>``."""
        return f"uplift_{self.name}"


class ActionsConfig(_Strict):
    """A campaign: id, budget, control fraction and the ordered actions.

    The order of ``actions`` breaks ties: when two actions give a customer the same gain, the
    earlier one wins. Customers that get no action are labelled ``default_action``. ``budget``
    and ``unit_cost`` are finite amounts of any size (``.inf`` is refused); a number YAML reads
    as text, such as ``1e13`` written without a dot, is taken as that number.
    """

    campaign_id: str = Field(pattern=SAFE_NAME)
    budget: Annotated[Money, Field(gt=0)]
    control_fraction: Annotated[_Share, Field(ge=0, lt=1)] = 0.1
    default_action: str = Field(default="no_action", pattern=SAFE_NAME)
    actions: tuple[Action, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _names_unique(self) -> ActionsConfig:
        names = [action.name for action in self.actions]
        dupes = sorted({name for name in names if names.count(name) > 1})
        if dupes:
            raise ValueError(f"action names must be unique, repeated: {', '.join(dupes)}")
        if self.default_action in names:
            raise ValueError(
                f"default_action {self.default_action!r} is also the name of an action; "
                "rename one of them"
            )
        return self


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def load_actions_config(path: str | os.PathLike[str]) -> ActionsConfig:
    """Read and validate a campaign config YAML file (see ``configs/actions.yaml``).

    Raises
    ------
    ConfigError
        If the file is missing or not YAML, or a key is unknown, missing or of the wrong form;
        every problem is listed, each naming the action (``actions[2] 'discount'``) and the key.
    """
    path = Path(path)
    raw = read_yaml(path, what="Actions config")
    return parse_actions_config(raw, source=str(path))


def parse_actions_config(raw: object, *, source: str = "actions config") -> ActionsConfig:
    """Validate an already-parsed mapping (from YAML, JSON, ...) into an :class:`ActionsConfig`."""
    return validated(ActionsConfig, raw, source=source, what="actions config")


def action_label(index: int, name: object) -> str:
    """Return how messages name an action: ``actions[2] 'discount'``."""
    return f"actions[{index}] {name!r}"
