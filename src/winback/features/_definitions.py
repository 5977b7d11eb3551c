"""The column registry: every feature, BTYD, label and score value column's name and definition.

One :class:`ColumnSpec` per column kind (``feature``: :func:`build_features`; ``btyd``: the
BTYD models' per-customer quantities; ``rfm``: the lifetimes summary in days the RFM logit reads;
``label``: outcomes after the cutoff; ``score``: the values a scoring run adds per customer): its
name template, the family of columns that tell the same story (reasons name one driver per
family), and a one-line definition. Names with ``{w}``
(a window length in days), ``{h}`` (a horizon in days), ``{type}`` (an event type's column
token) or ``{model}`` (``bgnbd`` or ``pareto_nbd``) are templates: :func:`column_name` builds a
name, :func:`parse_column` takes one apart, :func:`describe_columns` defines actual names.
Everything that builds or reads these names goes through here, never through string surgery.
"At or before the cutoff" means on the cutoff's calendar day or earlier; ``(a, b]`` windows are
in whole calendar days.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

__all__ = [
    "BTYD_DEFINITIONS",
    "BTYD_MODELS",
    "COLUMNS",
    "FEATURE_DEFINITIONS",
    "LABEL_DEFINITIONS",
    "SCORE_DEFINITIONS",
    "ColumnSpec",
    "column_kind",
    "column_name",
    "describe_columns",
    "parse_column",
]

#: The BTYD models whose per-customer quantities are features (``{model}`` in a template),
#: with the names people know them by.
BTYD_MODELS: dict[str, str] = {"bgnbd": "BG/NBD", "pareto_nbd": "Pareto/NBD"}

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

BTYD_DEFINITIONS: dict[str, str] = {
    "{model}_p_alive": "The {model} model's probability that the customer is still active.",
    "{model}_p_purchase_{h}d": (
        "The {model} model's probability of at least one order in (cutoff, cutoff + {h}d]."
    ),
    "{model}_expected_purchases_{h}d": (
        "The {model} model's expected number of orders in (cutoff, cutoff + {h}d]."
    ),
    "gg_expected_value": "Gamma-Gamma's expected value of the customer's next order.",
}

#: The per-customer values a scoring run adds to the probabilities (``winback.scoring``); the
#: BTYD model is the one training chose (``WinbackModel.btyd_model``), time in its weeks.
SCORE_DEFINITIONS: dict[str, str] = {
    "expected_value": (
        "Expected spend over the churn horizon (0 for a customer who does not order in it), "
        "times the margin when one is set: it already counts churn."
    ),
    "value_if_retained": (
        "The expected value if the customer orders within the churn horizon: expected_value / "
        "max(1 - p_churn, 0.05)."
    ),
    "value_at_risk": (
        "The value lost if the customer churns: p_churn x value_if_retained (never p_churn x "
        "expected_value, which would count churn twice)."
    ),
    "p_alive": (
        "The BTYD model's probability that the customer is still active (has not silently "
        "dropped out) on the as-of date."
    ),
    "days_to_next_order": (
        "Median days from the as-of date to the next order if the customer is active and stays "
        "so: (alpha + T)(2^(1/(r + x)) - 1) weeks from the BTYD model (r, alpha; x repeat "
        "purchases, T weeks since the first), rounded up to whole days, at least 1. It ignores "
        "dropout: read it with p_alive."
    ),
    "expected_next_order_date": (
        "The as-of date plus days_to_next_order (ISO date); empty beyond 100 years."
    ),
    "clv": (
        "Expected margin over the next clv_months months (12 by default): the BTYD model's "
        "expected orders in each month k, discounted by (1 + annual_discount_rate)^(-k/12), "
        "times Gamma-Gamma's expected order value (the customer's own mean order value where "
        "it has none), times the margin (revenue when none is set)."
    ),
}

RFM_DEFINITIONS: dict[str, str] = {
    "rfm_frequency": "Repeat purchase days (lifetimes' frequency), the RFM logit's input.",
    "rfm_recency": "Days from the first to the last purchase day (lifetimes' recency).",
    "rfm_T": "Days from the first purchase day to the cutoff (lifetimes' T).",
    "rfm_monetary_value": "Mean spend of the repeat purchase days (lifetimes' monetary value).",
    "rfm_days_since_last": "Days from the last purchase day to the cutoff, rfm_T - rfm_recency.",
}

#: The family of each feature template: features of one family tell the same story.
_FAMILIES: dict[str, str] = {
    "days_since_last_order": "recency",
    "recency_share": "recency",
    "gap_mean_days": "gaps",
    "gap_std_days": "gaps",
    "gap_last_days": "gaps",
    "overdue_ratio": "gaps",
    "spend_last_{w}d": "spend",
    "spend_trend_{w}d": "spend",
    "orders_last_{w}d": "orders",
    "orders_trend_{w}d": "orders",
    "n_orders": "frequency",
    "n_purchase_days": "frequency",
    "frequency": "frequency",
    "repeat_days_per_30d": "frequency",
    "tenure_days": "tenure",
    "active_span_days": "tenure",
    "monetary_total": "monetary",
    "monetary_mean": "monetary",
    "monetary_max": "monetary",
    "first_purchase_value": "monetary",
    "refund_share": "refunds",
    "discount_share": "discounts",
    "n_categories": "categories",
    "event_{type}_last_{w}d": "event {type}",
    "event_{type}_days_since_last": "event {type}",
    "event_{type}_last_value": "event {type}",
    "events_all_last_{w}d": "engagement",
    "events_all_days_since_last": "engagement",
    "events_all_rate_ratio_{w}d": "engagement",
    "days_since_signup": "signup",
    "marketing_opt_in": "opt_in",
    "{model}_p_alive": "btyd",
    "{model}_p_purchase_{h}d": "btyd",
    "{model}_expected_purchases_{h}d": "btyd",
    "gg_expected_value": "btyd_value",
    "rfm_days_since_last": "recency",
    "rfm_recency": "tenure",
    "rfm_T": "tenure",
    "rfm_frequency": "frequency",
    "rfm_monetary_value": "monetary",
}

_PLACEHOLDERS = {
    "{w}": r"(?P<w>\d+)",
    "{h}": r"(?P<h>\d+)",
    "{type}": r"(?P<type>\w+)",
    "{model}": "(?P<model>" + "|".join(BTYD_MODELS) + ")",
}


@dataclass(frozen=True)
class ColumnSpec:
    """One kind of column: its name template, family, definition and what produces it."""

    template: str
    kind: Literal["feature", "btyd", "rfm", "label", "score"]
    family: str
    definition: str
    pattern: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        pattern = re.escape(self.template)
        for placeholder, group in _PLACEHOLDERS.items():
            pattern = pattern.replace(re.escape(placeholder), group)
        object.__setattr__(self, "pattern", re.compile(pattern))

    def name(self, **params: object) -> str:
        """The column name for ``params`` (e.g. ``w=30``); KeyError when one is missing."""
        return self.template.format(**params)


def _specs(
    definitions: dict[str, str], kind: Literal["feature", "btyd", "rfm", "label", "score"]
) -> list:
    return [
        ColumnSpec(template, kind, _FAMILIES.get(template, kind), text)
        for template, text in definitions.items()
    ]


#: Every column kind; the first spec whose template matches a name defines it.
COLUMNS: tuple[ColumnSpec, ...] = (
    *_specs(FEATURE_DEFINITIONS, "feature"),
    *_specs(BTYD_DEFINITIONS, "btyd"),
    *_specs(RFM_DEFINITIONS, "rfm"),
    *_specs(LABEL_DEFINITIONS, "label"),
    *_specs(SCORE_DEFINITIONS, "score"),
)
_BY_TEMPLATE = {spec.template: spec for spec in COLUMNS}


def column_kind(name: str) -> str | None:
    """Return the kind of column ``name`` (``feature``, ``btyd``, ``rfm``, ``label``,
    ``score``), None if no registered template produces it."""
    try:
        return parse_column(name)[0].kind
    except KeyError:
        return None


def column_name(template: str, **params: object) -> str:
    """Return the column name of a registered ``template`` with ``params`` filled in.

    Examples
    --------
    >>> column_name("{model}_p_purchase_{h}d", model="bgnbd", h=91)
    'bgnbd_p_purchase_91d'
    """
    if template not in _BY_TEMPLATE:
        raise KeyError(f"{template!r} is not a registered column template")
    return _BY_TEMPLATE[template].name(**params)


def parse_column(name: str) -> tuple[ColumnSpec, dict[str, str]]:
    """Return the spec of column ``name`` and its template parameters.

    Raises
    ------
    KeyError
        If no registered template produces ``name``.

    Examples
    --------
    >>> spec, params = parse_column("pareto_nbd_expected_purchases_273d")
    >>> spec.template, params
    ('{model}_expected_purchases_{h}d', {'model': 'pareto_nbd', 'h': '273'})
    """
    for spec in COLUMNS:
        match = spec.pattern.fullmatch(name)
        if match is not None:
            return spec, match.groupdict()
    raise KeyError(f"{name!r} is not a column that winback.features produces")


def describe_columns(columns: Iterable[str]) -> dict[str, str]:
    """Return the one-line definition of each feature, BTYD or label column name.

    Raises
    ------
    KeyError
        If a column is not one that :mod:`winback.features` produces.

    Examples
    --------
    >>> describe_columns(["orders_last_30d"])["orders_last_30d"]
    'Purchases in the 30 days up to the cutoff, (cutoff - 30d, cutoff].'
    """
    out = {}
    for column in columns:
        spec, params = parse_column(column)
        if "model" in params:
            params = {**params, "model": BTYD_MODELS[params["model"]]}
        out[column] = spec.definition.format(**params)
    return out
