"""Plain-word reasons for a churn score, from LightGBM's per-feature contributions (SHAP).

For each customer the features whose contribution pushes the churn score *up* (positive, on the
log-odds scale) are grouped by family (the column registry's, :data:`winback.features.COLUMNS`)
and the strongest families are written out as short plain sentences, one wording per column
template, e.g. ``"No order for 210 days; usually orders every 45"`` or ``"Spend in the last 90
days down 60% on the 90 days before"``. A column without a wording is written
``"<definition>: <value>"``, the definition taken from the registry.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from winback.features import BTYD_MODELS, describe_columns, parse_column

__all__ = ["REASON_SEPARATOR", "churn_reasons", "feature_family", "reason_text"]

REASON_SEPARATOR = " | "
NO_DRIVER = "No feature raises the churn risk above the average customer's"
N_REASONS = 3


@dataclass(frozen=True)
class Column:
    """A feature column being worded: its name and its template parameters (``w``, ``type``...)."""

    name: str
    params: dict[str, str]

    def __getitem__(self, key: str) -> str:
        return self.params[key]


# A wording renders the reason for a set of customers: (features, column) -> text per row.
Wording = Callable[[pd.DataFrame, Column], pd.Series]


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
        Text (dtype ``str``) indexed like ``features``, the strongest driver first. A customer
        whom no family pushes toward churn gets their ordering as a plain fact (``"Last order 12
        days ago; usually orders every 45"``), so every customer has a reason.
    """
    contrib = contributions.drop(columns=["bias"], errors="ignore")
    features = _numeric(features)
    names = np.asarray(contrib.columns, dtype=object)
    values = contrib.to_numpy(dtype=float)
    push, lead = _family_push(values, [feature_family(name) for name in names])
    # strongest first; ties broken by family order so the result is deterministic
    order = np.argsort(-push, axis=1, kind="stable")[:, :n]
    top = np.take_along_axis(push, order, axis=1) > 0
    feature = np.where(top, np.take_along_axis(lead, order, axis=1), -1)
    texts = np.full(order.shape, "", dtype=object)
    for j in np.unique(feature[feature >= 0]):  # the features someone is told about
        chosen = feature == j
        rows = chosen.any(axis=1)
        rendered = reason_text(features.loc[rows], names[j], definitions=definitions)
        texts[chosen] = _spread(rendered.to_numpy(dtype=object), chosen, rows)
    reasons = pd.Series(_join(texts), index=features.index, dtype="str", name="reasons")
    none = (reasons == "").to_numpy()
    if none.any():
        reasons[none] = _no_driver(features.loc[none]).to_numpy()
    return reasons


def _numeric(features: pd.DataFrame) -> pd.DataFrame:
    """The features as one float block (what the wordings read), so that rows are cheap to take."""
    numeric = features.select_dtypes(include=["number", "bool"])
    return pd.DataFrame(
        numeric.to_numpy(dtype=float, na_value=np.nan),
        index=features.index,
        columns=numeric.columns,
    )


def _no_driver(features: pd.DataFrame) -> pd.Series:
    """What a customer whose risk no feature raises is told: their ordering, as a plain fact."""
    if "days_since_last_order" in features.columns:
        return _recency(features, Column("days_since_last_order", {}))
    return pd.Series(NO_DRIVER, index=features.index, dtype="str")


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
    """Return the family of a feature column (the registry's); an unknown column is its own."""
    try:
        spec, params = parse_column(name)
    except KeyError:
        return name
    return spec.family.format(**params)


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
    try:
        spec, params = parse_column(name)
    except KeyError:
        return _generic(features, name, definitions)
    if spec.template not in _WORDINGS:
        return _generic(features, name, definitions)
    render, when_missing = _WORDINGS[spec.template]
    text = render(features, Column(name, params))
    missing = _num(features, name).isna()
    if missing.any():
        absent = (
            _generic(features, name, definitions)
            if when_missing is None
            else when_missing.format(**_readable(params))
        )
        text = text.where(~missing, absent)
    return text.astype("str")


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


def _counted(values: pd.Series, noun: str, plural: str = "") -> pd.Series:
    """Whole counts with their noun, singular for one (``"1 order"``, ``"3 orders"``)."""
    nouns = np.where(values.to_numpy(dtype=float) == 1, f" {noun}", f" {plural or noun + 's'}")
    return _int(values) + pd.Series(nouns, index=values.index, dtype="str")


def _days(values: pd.Series) -> pd.Series:
    return _counted(values, "day")


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
    label = label[:1].upper() + label[1:]
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


# ----------------------------------------------------------------------------- wordings


def _recency(features: pd.DataFrame, _: Column) -> pd.Series:
    """``No order for 210 days; usually orders every 45`` when overdue, else ``Last order ...``."""
    since = _num(features, "days_since_last_order")
    usual = _num(features, "gap_mean_days")
    every = "; usually orders every " + _counted(usual, "day")
    overdue = "No order for " + _counted(since, "day") + every
    on_time = "Last order " + _counted(since, "day") + " ago" + every
    single = "Only one purchase day so far, " + _counted(since, "day") + " ago"
    return overdue.where(since > usual, on_time).where(usual.notna(), single)


def _overdue(features: pd.DataFrame, _: Column) -> pd.Series:
    since = _counted(_num(features, "days_since_last_order"), "day")
    ratio = _num(features, "overdue_ratio")
    late = "No order for " + since + ", " + _fixed(ratio, 1) + " times the usual gap"
    usual = _counted(_num(features, "gap_mean_days"), "day")
    on_time = "Last order " + since + " ago, within the usual gap of " + usual
    return late.where(ratio > 1, on_time)


def _trend(features: pd.DataFrame, column: Column, *, kind: str) -> pd.Series:
    """Last ``w`` days against the ``w`` before, for spend or orders (both zero: no activity)."""
    w = column["w"]
    recent = _num(features, f"{kind}_last_{w}d")
    previous = recent - _num(features, column.name)
    shown = _fixed if kind == "spend" else _int
    noun = "Spend" if kind == "spend" else "Orders"
    change = (recent - previous) / previous.where(previous > 0)
    word = pd.Series(np.where(change < 0, " down ", " up "), index=features.index)
    moved = f"{noun} in the last {w} days" + word + _percent(change.abs()) + f" on the {w} before"
    fresh = f"{noun} in the last {w} days: " + shown(recent) + f", none in the {w} before"
    idle = f"No {kind} in the last {2 * int(w)} days"
    return moved.where(previous > 0, fresh.where(recent > 0, idle))


def _window(kind: str) -> Wording:
    def render(features: pd.DataFrame, column: Column) -> pd.Series:
        values = _num(features, column.name)
        w = column["w"]
        if kind == "orders":
            some = _counted(values, "order") + f" in the last {w} days"
        else:
            some = "Spent " + _fixed(values) + f" in the last {w} days"
        return some.where(values != 0, f"No {kind} in the last {w} days")

    return render


def _simple(prefix: str, fmt: Callable[[pd.Series], pd.Series], suffix: str = "") -> Wording:
    def render(features: pd.DataFrame, column: Column) -> pd.Series:
        return prefix + fmt(_num(features, column.name)) + suffix

    return render


def _event_recency(features: pd.DataFrame, column: Column) -> pd.Series:
    return f"No {_words(column['type'])} for " + _counted(_num(features, column.name), "day")


def _event_count(features: pd.DataFrame, column: Column) -> pd.Series:
    values = _num(features, column.name)
    some = _counted(values, f"{_words(column['type'])} event") + f" in the last {column['w']} days"
    return some.where(values != 0, f"No {_words(column['type'])} in the last {column['w']} days")


def _engagement_count(features: pd.DataFrame, column: Column) -> pd.Series:
    values = _num(features, column.name)
    some = _counted(values, "engagement event") + f" in the last {column['w']} days"
    return some.where(values != 0, f"No engagement in the last {column['w']} days")


def _engagement_ratio(features: pd.DataFrame, column: Column) -> pd.Series:
    ratio = _num(features, column.name)
    return f"Engagement in the last {column['w']} days at " + _fixed(ratio, 1) + "x the usual rate"


def _event_value(features: pd.DataFrame, column: Column) -> pd.Series:
    return f"Last {_words(column['type'])} score: " + _value(_num(features, column.name))


def _p_alive(features: pd.DataFrame, column: Column) -> pd.Series:
    share = _num(features, column.name)
    return f"{BTYD_MODELS[column['model']]} model: " + _percent(share) + " chance still active"


def _btyd_purchases(features: pd.DataFrame, column: Column) -> pd.Series:
    values = _num(features, column.name)
    expects = f"{BTYD_MODELS[column['model']]} model expects "
    return expects + _fixed(values) + f" orders in the next {column['h']} days"


def _btyd_p_purchase(features: pd.DataFrame, column: Column) -> pd.Series:
    share = _num(features, column.name)
    horizon = f" chance of an order in the next {column['h']} days"
    return f"{BTYD_MODELS[column['model']]} model: " + _percent(share) + horizon


def _opt_in(features: pd.DataFrame, column: Column) -> pd.Series:
    flag = _num(features, column.name)
    return pd.Series(
        np.where(flag > 0, "Opted in to marketing", "Not opted in to marketing"),
        index=features.index,
    )


def _words(name: str) -> str:
    return name.replace("_", " ")


_ONE_DAY = "Only one purchase day so far"

#: column template (the registry's) -> (wording, wording when the value is missing: None generic)
_WORDINGS: dict[str, tuple[Wording, str | None]] = {
    "days_since_last_order": (_recency, None),
    "overdue_ratio": (_overdue, _ONE_DAY),
    "gap_last_days": (_simple("Last gap between orders: ", _days), _ONE_DAY),
    "gap_mean_days": (_simple("Usually orders every ", _days), _ONE_DAY),
    "gap_std_days": (
        _simple("Irregular ordering: gaps vary by ", _days),
        "Fewer than three purchase days so far",
    ),
    "spend_trend_{w}d": (lambda f, c: _trend(f, c, kind="spend"), None),
    "spend_last_{w}d": (_window("spend"), None),
    "orders_trend_{w}d": (lambda f, c: _trend(f, c, kind="orders"), None),
    "orders_last_{w}d": (_window("orders"), None),
    "n_orders": (_simple("", lambda v: _counted(v, "order"), " in total"), None),
    "n_purchase_days": (_simple("Bought on ", _days, " in total"), None),
    "frequency": (_simple("Came back to buy on ", _days), None),
    "tenure_days": (_simple("Customer for ", _days), None),
    "active_span_days": (_simple("First to last order: ", _days), None),
    "repeat_days_per_30d": (
        _simple("Comes back to buy ", lambda v: _fixed(v, 1), " times a month"),
        "First order on the scoring day",
    ),
    "recency_share": (
        _simple("No order in the last ", _percent, " of their time as a customer"),
        "First order on the scoring day",
    ),
    "monetary_total": (_simple("Total spend ", _fixed), None),
    "monetary_mean": (_simple("Average order value ", _fixed), None),
    "monetary_max": (_simple("Largest order ", _fixed), None),
    "first_purchase_value": (_simple("First order worth ", _fixed), None),
    "refund_share": (_simple("", _percent, " of orders refunded or returned"), None),
    "discount_share": (_simple("", _percent, " of orders discounted"), None),
    "n_categories": (
        _simple("Bought from ", lambda v: _counted(v, "category", "categories")),
        None,
    ),
    "{model}_p_alive": (_p_alive, None),
    "{model}_expected_purchases_{h}d": (_btyd_purchases, None),
    "{model}_p_purchase_{h}d": (_btyd_p_purchase, None),
    "gg_expected_value": (_simple("Expected spend per order ", _fixed), None),
    "event_{type}_days_since_last": (_event_recency, "No {type} on record"),
    "event_{type}_last_value": (_event_value, "No {type} score on record"),
    "event_{type}_last_{w}d": (_event_count, None),
    "events_all_days_since_last": (
        _simple("No engagement for ", _days),
        "No engagement on record",
    ),
    "events_all_last_{w}d": (_engagement_count, None),
    "events_all_rate_ratio_{w}d": (_engagement_ratio, "No engagement on record"),
    "days_since_signup": (_simple("Signed up ", _days, " ago"), "Signup date unknown"),
    "marketing_opt_in": (_opt_in, "Marketing opt-in unknown"),
}
