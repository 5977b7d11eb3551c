"""Plain-word reasons for a churn score, from LightGBM's per-feature contributions (SHAP).

For each customer the features whose contribution pushes the churn score *up* (positive, on the
log-odds scale) are ranked by contribution and the top ones are written out with one template per
feature family, e.g. ``"no order for 210 days; usually every 45"`` or ``"spend in last 90 days
down 60% vs previous 90"``. A feature no template knows is written ``"<definition>: <value>"``,
with the definition from :data:`winback.features.FEATURE_DEFINITIONS` when it has one.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd

from winback.features import describe_columns

__all__ = ["REASON_SEPARATOR", "churn_reasons", "feature_family", "reason_text"]

REASON_SEPARATOR = " | "
N_REASONS = 3

# A template renders the reason for a set of customers: (features, match) -> text per row.
Template = Callable[[pd.DataFrame, re.Match[str]], pd.Series]


def churn_reasons(
    features: pd.DataFrame,
    contributions: pd.DataFrame,
    *,
    n: int = N_REASONS,
    definitions: Mapping[str, str] | None = None,
) -> pd.Series:
    """Return the top ``n`` churn drivers of each customer in plain words, joined by `` | ``.

    Features are grouped into families (recency, order gaps, spend, order counts, BTYD
    estimates, each event type, ...; see :func:`feature_family`). A family's push toward churn
    is the sum of its features' contributions (SHAP values add up); the ``n`` families with the
    largest positive push are reported, each by its feature with the largest contribution, so a
    customer never gets three wordings of the same driver.

    Parameters
    ----------
    features : DataFrame
        The scored features, one row per customer.
    contributions : DataFrame
        Per-feature contributions to the churn score (log-odds), indexed like ``features``, one
        column per feature plus ``bias`` (ignored). Positive values raise the churn score.
    n : int, default 3
        Reasons per customer (fewer when fewer families push toward churn).
    definitions : mapping, optional
        Feature name -> plain definition for the generic fallback.

    Returns
    -------
    Series
        Text (dtype ``str``) indexed like ``features``, the strongest driver first; an empty
        string when no family pushes toward churn.
    """
    contrib = contributions.drop(columns=["bias"], errors="ignore")
    names = np.asarray(contrib.columns, dtype=object)
    values = contrib.to_numpy(dtype=float)
    push, lead = _family_push(values, [feature_family(name) for name in names])
    # strongest first; ties broken by family order so the result is deterministic
    order = np.argsort(-push, axis=1, kind="stable")[:, :n]
    top = np.take_along_axis(push, order, axis=1) > 0
    feature = np.where(top, np.take_along_axis(lead, order, axis=1), -1)
    texts = np.full(order.shape, "", dtype=object)
    for j, name in enumerate(names):
        chosen = feature == j
        rows = chosen.any(axis=1)
        if not rows.any():
            continue
        rendered = reason_text(features.loc[rows], name, definitions=definitions)
        texts[chosen] = _spread(rendered.to_numpy(dtype=object), chosen, rows)
    return pd.Series(_join(texts), index=features.index, dtype="str", name="reasons")


def _family_push(values: np.ndarray, families: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Return per row and family: the summed contribution and the column of the largest one."""
    keys = list(dict.fromkeys(families))
    push = np.zeros((len(values), len(keys)))
    lead = np.zeros((len(values), len(keys)), dtype=np.int64)
    for k, key in enumerate(keys):
        cols = np.array([j for j, f in enumerate(families) if f == key])
        push[:, k] = values[:, cols].sum(axis=1)
        lead[:, k] = cols[values[:, cols].argmax(axis=1)] if len(values) else 0
    return push, lead


def feature_family(name: str) -> str:
    """Return the family of a feature column: features of one family tell the same story."""
    for pattern, family, _, _ in _TEMPLATES:
        match = pattern.fullmatch(name)
        if match is not None:
            return family.format(**match.groupdict())
    return name


def _spread(rendered: np.ndarray, chosen: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Return the texts for the ``True`` cells of ``chosen`` (row-major), one per chosen row."""
    row_of_cell = np.nonzero(chosen)[0]
    position = np.cumsum(rows) - 1  # row index -> position among the rendered rows
    return rendered[position[row_of_cell]]


def _join(texts: np.ndarray) -> np.ndarray:
    out = texts[:, 0].copy() if texts.shape[1] else np.full(len(texts), "", dtype=object)
    for k in range(1, texts.shape[1]):
        more = texts[:, k] != ""
        out[more] = out[more] + REASON_SEPARATOR + texts[more, k]
    return out


def reason_text(
    features: pd.DataFrame, name: str, *, definitions: Mapping[str, str] | None = None
) -> pd.Series:
    """Return the plain-word reason for feature ``name`` of every row of ``features``.

    A missing value (NaN: "not defined", see :mod:`winback.features`) gets the family's
    wording for it (``"no site visit on record"``) or ``"<definition>: unknown"``.
    """
    missing = _num(features, name).isna()
    for pattern, _, template, when_missing in _TEMPLATES:
        match = pattern.fullmatch(name)
        if match is not None:
            text = template(features, match)
            if missing.any():
                absent = (
                    _generic(features, name, definitions)
                    if when_missing is None
                    else when_missing.format(**_readable(match.groupdict()))
                )
                text = text.where(~missing, absent)
            return text.astype("str")
    return _generic(features, name, definitions)


def _readable(groups: dict[str, str]) -> dict[str, str]:
    return {key: _words(value) for key, value in groups.items()}


# ----------------------------------------------------------------------------- formatting


def _num(features: pd.DataFrame, column: str) -> pd.Series:
    if column not in features.columns:
        return pd.Series(np.nan, index=features.index)
    return pd.to_numeric(features[column], errors="coerce").astype(float)


def _int(values: pd.Series) -> pd.Series:
    """Whole numbers as text (``"45"``); missing as ``"n/a"``."""
    text = values.round().astype("Int64").astype("str")
    return text.where(values.notna(), "n/a")


def _fixed(values: pd.Series, decimals: int = 2) -> pd.Series:
    numbers = values.to_numpy(dtype=float)
    text = pd.Series(np.char.mod(f"%.{decimals}f", numbers), index=values.index, dtype="str")
    return text.where(values.notna(), "n/a")


def _percent(share: pd.Series) -> pd.Series:
    return _int(100 * share) + "%"


def _value(values: pd.Series) -> pd.Series:
    """A number as compact text: integers without decimals, others with two."""
    whole = values.notna() & (values == values.round())
    return _fixed(values).where(~whole, _int(values))


def _generic(features: pd.DataFrame, name: str, definitions: Mapping[str, str] | None) -> pd.Series:
    label = _short((definitions or {}).get(name) or _definition(name))
    values = _num(features, name)
    return (label + ": " + _value(values)).astype("str")


def _definition(name: str) -> str:
    try:
        return describe_columns([name])[name]
    except KeyError:
        return name.replace("_", " ")


def _short(definition: str) -> str:
    """The definition's first clause, without the final full stop (``"Days from ...; NaN..."``)."""
    return definition.split("; ")[0].rstrip(".")


# ----------------------------------------------------------------------------- templates


def _recency(features: pd.DataFrame, _: re.Match[str]) -> pd.Series:
    """``no order for 210 days; usually every 45`` when overdue, else ``last order ... ago``."""
    since = _num(features, "days_since_last_order")
    usual = _num(features, "gap_mean_days")
    overdue = "no order for " + _int(since) + " days; usually every " + _int(usual)
    on_time = "last order " + _int(since) + " days ago; usually every " + _int(usual)
    single = "one purchase day only, " + _int(since) + " days ago"
    return overdue.where(since > usual, on_time).where(usual.notna(), single)


def _overdue(features: pd.DataFrame, _: re.Match[str]) -> pd.Series:
    since = _int(_num(features, "days_since_last_order"))
    ratio = _num(features, "overdue_ratio")
    late = "no order for " + since + " days, " + _fixed(ratio, 1) + "x the usual gap"
    usual = _int(_num(features, "gap_mean_days"))
    on_time = "last order " + since + " days ago, within the usual gap of " + usual + " days"
    return late.where(ratio > 1, on_time)


def _spend_trend(features: pd.DataFrame, match: re.Match[str]) -> pd.Series:
    w = match["w"]
    recent = _num(features, f"spend_last_{w}d")
    previous = recent - _num(features, f"spend_trend_{w}d")
    change = (recent - previous) / previous.where(previous > 0)
    word = pd.Series(np.where(change < 0, "down ", "up "), index=features.index)
    text = f"spend in last {w} days " + word + _percent(change.abs()) + f" vs previous {w}"
    none_before = f"spend in last {w} days " + _fixed(recent) + f" vs none in previous {w}"
    return text.where(previous > 0, none_before)


def _orders_trend(features: pd.DataFrame, match: re.Match[str]) -> pd.Series:
    w = match["w"]
    recent = _num(features, f"orders_last_{w}d")
    previous = recent - _num(features, f"orders_trend_{w}d")
    shown = _int(recent) + " vs " + _int(previous)
    return f"orders in last {w} days: " + shown + f" in previous {w}"


def _window(kind: str) -> Template:
    def render(features: pd.DataFrame, match: re.Match[str]) -> pd.Series:
        values = _num(features, match.string)
        shown = _int(values) if kind == "orders" else _fixed(values)
        return f"{kind} in last {match['w']} days: " + shown

    return render


def _simple(prefix: str, fmt: Callable[[pd.Series], pd.Series], suffix: str = "") -> Template:
    def render(features: pd.DataFrame, match: re.Match[str]) -> pd.Series:
        return prefix + fmt(_num(features, match.string)) + suffix

    return render


def _event_recency(features: pd.DataFrame, match: re.Match[str]) -> pd.Series:
    return f"no {_words(match['type'])} for " + _int(_num(features, match.string)) + " days"


def _event_count(features: pd.DataFrame, match: re.Match[str]) -> pd.Series:
    values = _num(features, match.string)
    return _int(values) + f" {_words(match['type'])} events in last {match['w']} days"


def _engagement_count(features: pd.DataFrame, match: re.Match[str]) -> pd.Series:
    values = _num(features, match.string)
    return _int(values) + f" engagement events in last {match['w']} days"


def _engagement_ratio(features: pd.DataFrame, match: re.Match[str]) -> pd.Series:
    ratio = _num(features, match.string)
    return f"engagement in last {match['w']} days at " + _fixed(ratio, 1) + "x the usual rate"


def _event_value(features: pd.DataFrame, match: re.Match[str]) -> pd.Series:
    return f"last {_words(match['type'])} score: " + _value(_num(features, match.string))


def _p_alive(features: pd.DataFrame, match: re.Match[str]) -> pd.Series:
    model = "BG/NBD" if match["model"] == "bgnbd" else "Pareto/NBD"
    share = _num(features, match.string)
    return f"{model} model: " + _percent(share) + " chance still active"


def _btyd_purchases(features: pd.DataFrame, match: re.Match[str]) -> pd.Series:
    model = "BG/NBD" if match["model"] == "bgnbd" else "Pareto/NBD"
    values = _num(features, match.string)
    return f"{model} model expects " + _fixed(values) + f" orders in the next {match['h']} days"


def _btyd_p_purchase(features: pd.DataFrame, match: re.Match[str]) -> pd.Series:
    model = "BG/NBD" if match["model"] == "bgnbd" else "Pareto/NBD"
    share = _num(features, match.string)
    horizon = f" chance of an order in the next {match['h']} days"
    return f"{model} model: " + _percent(share) + horizon


def _opt_in(features: pd.DataFrame, match: re.Match[str]) -> pd.Series:
    flag = _num(features, match.string)
    return pd.Series(
        np.where(flag > 0, "opted in to marketing", "not opted in to marketing"),
        index=features.index,
    )


def _words(name: str) -> str:
    return name.replace("_", " ")


# (column pattern, family, template, wording when the value is missing (None: generic))
_TEMPLATES: tuple[tuple[re.Pattern[str], str, Template, str | None], ...] = tuple(
    (re.compile(pattern), family, template, missing)
    for pattern, family, template, missing in (
        (r"days_since_last_order|recency_days", "recency", _recency, None),
        (r"overdue_ratio", "gaps", _overdue, "only one purchase day so far"),
        (
            r"gap_last_days",
            "gaps",
            _simple("last gap between orders: ", _int, " days"),
            "only one purchase day so far",
        ),
        (
            r"gap_mean_days",
            "gaps",
            _simple("usually orders every ", _int, " days"),
            "only one purchase day so far",
        ),
        (
            r"gap_std_days",
            "gaps",
            _simple("irregular ordering: gaps vary by ", _int, " days"),
            "fewer than three purchase days so far",
        ),
        (r"spend_trend_(?P<w>\d+)d", "spend", _spend_trend, None),
        (r"spend_last_(?P<w>\d+)d", "spend", _window("spend"), None),
        (r"orders_trend_(?P<w>\d+)d", "orders", _orders_trend, None),
        (r"orders_last_(?P<w>\d+)d", "orders", _window("orders"), None),
        (r"n_orders", "frequency", _simple("", _int, " orders in total"), None),
        (r"n_purchase_days", "frequency", _simple("bought on ", _int, " days in total"), None),
        (r"frequency", "frequency", _simple("", _int, " repeat purchase days"), None),
        (r"tenure_days", "tenure", _simple("customer for ", _int, " days"), None),
        (r"active_span_days", "tenure", _simple("first to last order: ", _int, " days"), None),
        (
            r"repeat_days_per_30d",
            "frequency",
            _simple("", lambda v: _fixed(v, 1), " repeat purchase days a month"),
            "first order on the scoring day",
        ),
        (
            r"recency_share",
            "recency",
            _simple("no order in the last ", _percent, " of their time as a customer"),
            "first order on the scoring day",
        ),
        (r"monetary_total", "monetary", _simple("total spend ", _fixed), None),
        (r"monetary_mean", "monetary", _simple("average order value ", _fixed), None),
        (r"monetary_max", "monetary", _simple("largest order ", _fixed), None),
        (r"first_purchase_value", "monetary", _simple("first purchase ", _fixed), None),
        (
            r"refund_share",
            "refunds",
            _simple("", _percent, " of orders refunded or returned"),
            None,
        ),
        (r"discount_share", "discounts", _simple("", _percent, " of orders discounted"), None),
        (r"n_categories", "categories", _simple("bought from ", _int, " categories"), None),
        (r"(?P<model>bgnbd|pareto_nbd)_p_alive", "btyd", _p_alive, None),
        (
            r"(?P<model>bgnbd|pareto_nbd)_expected_purchases_(?P<h>\d+)d",
            "btyd",
            _btyd_purchases,
            None,
        ),
        (r"(?P<model>bgnbd|pareto_nbd)_p_purchase_(?P<h>\d+)d", "btyd", _btyd_p_purchase, None),
        (r"gg_expected_value", "btyd_value", _simple("expected spend per order ", _fixed), None),
        (
            r"event_(?P<type>\w+)_days_since_last",
            "event {type}",
            _event_recency,
            "no {type} on record",
        ),
        (
            r"event_(?P<type>\w+)_last_value",
            "event {type}",
            _event_value,
            "no {type} score on record",
        ),
        (r"event_(?P<type>\w+)_last_(?P<w>\d+)d", "event {type}", _event_count, None),
        (
            r"events_all_days_since_last",
            "engagement",
            _simple("no engagement for ", _int, " days"),
            "no engagement on record",
        ),
        (
            r"events_all_last_(?P<w>\d+)d",
            "engagement",
            _engagement_count,
            None,
        ),
        (
            r"events_all_rate_ratio_(?P<w>\d+)d",
            "engagement",
            _engagement_ratio,
            "no engagement on record",
        ),
        (
            r"days_since_signup",
            "signup",
            _simple("signed up ", _int, " days ago"),
            "signup date unknown",
        ),
        (r"marketing_opt_in", "opt_in", _opt_in, "marketing opt-in unknown"),
    )
)
