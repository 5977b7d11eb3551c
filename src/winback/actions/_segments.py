"""Named RFM segments (the segment table kept as data), risk/value tiers and the at-risk list.

Customers get recency, frequency and monetary quintile scores 1-5 by rank; frequency and monetary
are averaged into one FM score (rounded half up), and an ordered table of ``{name, r, fm}`` rules
maps the (R, FM) pair to a segment name, first match wins, with an explicit default for anything no
rule matches. The default table is the widely used 11-segment R x FM grid (Champions ... Lost).
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from winback.actions._value import retention_values
from winback.exceptions import ConfigError, DataError
from winback.validation import read_yaml, validated

__all__ = [
    "AT_RISK_SEGMENTS",
    "DEFAULT_SEGMENT_TABLE",
    "SegmentRule",
    "SegmentTable",
    "assign_tiers",
    "at_risk_segments",
    "load_segment_table",
    "rfm_segments",
]

SCORES = (1, 2, 3, 4, 5)
AT_RISK_SEGMENTS = ("Can't Lose Them", "At Risk", "About to Sleep", "Need Attention")


def _score_set(value: object) -> object:
    """Accept ``5``, ``[4, 5]`` or ``"2-5"`` and return a sorted tuple of scores."""
    if isinstance(value, str) and "-" in value:
        low, _, high = value.partition("-")
        try:
            return tuple(range(int(low), int(high) + 1))
        except ValueError:
            return value  # pydantic reports the type error
    if isinstance(value, int) and not isinstance(value, bool):
        return (value,)
    if isinstance(value, list | tuple):
        return tuple(sorted(set(value)))
    return value


ScoreSet = Annotated[
    tuple[Annotated[int, Field(ge=1, le=5, strict=True)], ...],
    BeforeValidator(_score_set),
    Field(min_length=1, description="scores 1-5: an int, a list of ints or a range 'lo-hi'"),
]


class SegmentRule(BaseModel):
    """One row of the segment table: customers whose R score is in ``r`` and FM score in ``fm``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    r: ScoreSet
    fm: ScoreSet


class SegmentTable(BaseModel):
    """Ordered segment rules (first match wins) and the name given to customers none matches."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    segments: tuple[SegmentRule, ...] = Field(min_length=1)
    default: str = Field(default="Other", min_length=1)

    @model_validator(mode="after")
    def _names_unique(self) -> SegmentTable:
        names = [rule.name for rule in self.segments]
        dupes = sorted({name for name in names if names.count(name) > 1})
        if dupes:
            raise ValueError(f"segment names must be unique, repeated: {', '.join(dupes)}")
        return self

    def grid(self) -> np.ndarray:
        """Return the 5 x 5 array of segment names indexed by ``[r_score - 1, fm_score - 1]``."""
        grid = np.full((5, 5), self.default, dtype=object)
        done = np.zeros((5, 5), dtype=bool)
        for rule in self.segments:
            cells = np.zeros((5, 5), dtype=bool)
            cells[np.ix_([r - 1 for r in rule.r], [fm - 1 for fm in rule.fm])] = True
            grid[cells & ~done] = rule.name
            done |= cells
        return grid


def _rule(name: str, r: Sequence[int], fm: Sequence[int]) -> SegmentRule:
    return SegmentRule(name=name, r=tuple(r), fm=tuple(fm))


#: The R x FM grid (R = recency score, FM = frequency/monetary score), one cell per pair:
#:
#: ====  ==============  ==================  ==============  ==================  ===============
#: R\\FM  1               2                   3               4                   5
#: ====  ==============  ==================  ==============  ==================  ===============
#: 5     New             Potential Loyalist  Potential Loy.  Champions           Champions
#: 4     Promising       Potential Loyalist  Potential Loy.  Loyal               Loyal
#: 3     About to Sleep  About to Sleep      Need Attention  Loyal               Loyal
#: 2     Hibernating     Hibernating         At Risk         At Risk             Can't Lose Them
#: 1     Lost            Lost                At Risk         At Risk             Can't Lose Them
#: ====  ==============  ==================  ==============  ==================  ===============
DEFAULT_SEGMENT_TABLE = SegmentTable(
    segments=(
        _rule("Champions", r=[5], fm=[4, 5]),
        _rule("Loyal", r=[3, 4], fm=[4, 5]),
        _rule("Potential Loyalist", r=[4, 5], fm=[2, 3]),
        _rule("New", r=[5], fm=[1]),
        _rule("Promising", r=[4], fm=[1]),
        _rule("Need Attention", r=[3], fm=[3]),
        _rule("About to Sleep", r=[3], fm=[1, 2]),
        _rule("Can't Lose Them", r=[1, 2], fm=[5]),
        _rule("At Risk", r=[1, 2], fm=[3, 4]),
        _rule("Hibernating", r=[2], fm=[1, 2]),
        _rule("Lost", r=[1], fm=[1, 2]),
    ),
    default="Other",
)


def load_segment_table(path: str | os.PathLike[str]) -> SegmentTable:
    """Read a segment table from YAML: ``segments: [{name, r, fm}, ...]`` and ``default``.

    ``r`` and ``fm`` take a score (``5``), a list of scores (``[4, 5]``) or a range (``"2-5"``).

    Raises
    ------
    ConfigError
        If the file is missing or not YAML, or an entry has an unknown key or a bad score; the
        message names the entry (``segments[3] 'New'``) and the key.
    """
    path = Path(path)
    raw = read_yaml(path, what="Segment table")
    return validated(SegmentTable, raw, source=str(path), what="segment table")


def rfm_segments(
    frame: pd.DataFrame,
    *,
    recency: str = "recency_days",
    frequency: str = "n_orders",
    monetary: str = "monetary_total",
    table: SegmentTable | None = None,
) -> pd.DataFrame:
    """Return ``frame`` with RFM quintile scores and the named segment of each customer.

    Scores are quintiles of the rank (``5 * (rank - 1) // n + 1``) so they do not depend on row
    order: tied customers share the lowest rank of their tie group (``method="min"``), hence the
    same score. Recency is ranked in reverse: the fewest days since the last order score 5.

    Parameters
    ----------
    frame : DataFrame
        One row per customer with numeric, non-missing ``recency``, ``frequency`` and
        ``monetary`` columns.
    recency, frequency, monetary : str
        Column names of days since the last order, order count and money spent.
    table : SegmentTable, optional
        Segment rules; :data:`DEFAULT_SEGMENT_TABLE` when None.

    Returns
    -------
    DataFrame
        A copy of ``frame`` (same rows, same order) plus ``r_score``, ``f_score``, ``m_score``,
        ``fm_score`` (int64, 1-5; FM is the mean of F and M rounded half up) and ``segment`` (str).
    """
    table = DEFAULT_SEGMENT_TABLE if table is None else table
    _check_numeric(frame, [recency, frequency, monetary], what="rfm_segments")
    out = frame.copy()
    out["r_score"] = _quintile_scores(frame[recency], descending=True)
    out["f_score"] = _quintile_scores(frame[frequency], descending=False)
    out["m_score"] = _quintile_scores(frame[monetary], descending=False)
    out["fm_score"] = (out["f_score"] + out["m_score"] + 1) // 2
    names = table.grid()[out["r_score"].to_numpy() - 1, out["fm_score"].to_numpy() - 1]
    out["segment"] = pd.Series(names, index=out.index, dtype="str")
    return out


def _quintile_scores(values: pd.Series, *, descending: bool) -> np.ndarray:
    """Return 1-5 scores: quintiles of the ``min`` rank, higher values score higher (or lower)."""
    n = len(values)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    ranks = values.rank(method="min", ascending=not descending).to_numpy(dtype=np.int64)
    return (5 * (ranks - 1)) // n + 1


def _check_numeric(frame: pd.DataFrame, columns: Sequence[str], *, what: str) -> None:
    problems = []
    for col in columns:
        if col not in frame.columns:
            problems.append(f"column {col!r} is missing")
        elif not pd.api.types.is_numeric_dtype(frame[col]) or pd.api.types.is_bool_dtype(
            frame[col]
        ):
            problems.append(f"column {col!r} must be numeric, got dtype {frame[col].dtype}")
        elif frame[col].isna().any():
            rows = frame.index[frame[col].isna()][:5].tolist()
            problems.append(f"column {col!r} has {frame[col].isna().sum()} missing values {rows}")
    if problems:
        raise DataError(
            f"{what}: " + "; ".join(problems) + f". Available columns: {', '.join(frame.columns)}."
        )


def assign_tiers(
    values: pd.Series | Sequence[float] | np.ndarray,
    *,
    cuts: Sequence[float] = (0.3, 0.6),
    labels: Sequence[str] = ("low", "medium", "high"),
    by: Literal["value", "quantile"] = "value",
) -> pd.Series:
    """Return a tier label for each value: ``labels[i]`` for values in ``[cut[i-1], cut[i])``.

    With ``by="value"`` the cuts are thresholds on the values themselves (e.g. churn probability
    0.3 and 0.6); with ``by="quantile"`` they are quantile levels of ``values`` (e.g. ``(0.5,
    0.8)`` puts the top 20 % in the last tier). A value equal to a cut goes to the higher tier.

    Returns
    -------
    Series
        Labels (dtype ``str``) with the index of ``values`` when it is a Series.

    Raises
    ------
    ConfigError
        If cuts are not strictly increasing, quantile levels are outside (0, 1), or the number of
        labels is not ``len(cuts) + 1``.
    DataError
        If a value is missing.
    """
    cuts = _check_cuts(cuts, labels, by=by)
    series = values if isinstance(values, pd.Series) else pd.Series(np.asarray(values, float))
    if series.isna().any():
        raise DataError(
            f"assign_tiers: {int(series.isna().sum())} missing values in "
            f"{series.name or 'values'}; fill or drop them before assigning tiers."
        )
    numbers = series.to_numpy(dtype=float)
    edges = np.quantile(numbers, cuts) if by == "quantile" and len(numbers) else np.asarray(cuts)
    index = np.searchsorted(edges, numbers, side="right")
    return pd.Series(np.asarray(labels, dtype=object)[index], index=series.index, dtype="str")


def _check_cuts(cuts: Sequence[float], labels: Sequence[str], *, by: str) -> tuple[float, ...]:
    cuts = tuple(float(c) for c in cuts)
    if by not in ("value", "quantile"):
        raise ConfigError(f"assign_tiers: by must be 'value' or 'quantile', got {by!r}.")
    if len(labels) != len(cuts) + 1:
        raise ConfigError(
            f"assign_tiers: {len(cuts)} cuts need {len(cuts) + 1} labels, got {list(labels)}."
        )
    if any(b <= a for a, b in itertools.pairwise(cuts)):
        raise ConfigError(f"assign_tiers: cuts must be strictly increasing, got {list(cuts)}.")
    if by == "quantile" and any(not 0 < c < 1 for c in cuts):
        raise ConfigError(f"assign_tiers: quantile cuts must lie in (0, 1), got {list(cuts)}.")
    return cuts


def at_risk_segments(
    scored: pd.DataFrame,
    *,
    risk_tiers: Sequence[str] = ("high",),
    segments: Sequence[str] | None = AT_RISK_SEGMENTS,
) -> pd.DataFrame:
    """Return the at-risk list for marketing, the most value at risk first.

    A customer is listed when their ``risk_tier`` is in ``risk_tiers`` **or** their ``segment``
    is in ``segments`` (pass ``segments=None`` to use the risk tier alone).

    Parameters
    ----------
    scored : DataFrame
        The scored frame: ``customer_id``, ``p_churn``, ``expected_value``, ``risk_tier``,
        ``segment`` and any other columns.

    Returns
    -------
    DataFrame
        The selected rows plus ``value_if_retained`` and ``value_at_risk = p_churn *
        value_if_retained`` (:func:`~winback.actions.retention_values`; taken as scored when
        the frame has both), sorted by ``value_at_risk`` descending then ``customer_id``, with
        a fresh 0..n-1 index.
    """
    needed = ["customer_id", "p_churn", "expected_value", "risk_tier"]
    needed += [] if segments is None else ["segment"]
    missing = [col for col in needed if col not in scored.columns]
    if missing:
        raise DataError(
            f"at_risk_segments: scored frame lacks {missing}; "
            f"available columns: {', '.join(scored.columns)}."
        )
    chosen = scored["risk_tier"].isin(list(risk_tiers))
    if segments is not None:
        chosen |= scored["segment"].isin(list(segments))
    out = scored.loc[chosen].copy()
    if not {"value_if_retained", "value_at_risk"} <= set(out.columns):
        values = retention_values(out)
        out["value_if_retained"] = values["value_if_retained"]
        out["value_at_risk"] = values["value_at_risk"]
    out = out.sort_values(["value_at_risk", "customer_id"], ascending=[False, True], kind="stable")
    return out.reset_index(drop=True)
