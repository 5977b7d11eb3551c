"""Row rejections: which rows are set aside and why, the rejects frame, the warning counting them.

Reasons follow a short fixed vocabulary (the *kind*) optionally followed by ``": "`` and a detail:
``null customer_id``, ``unparseable order_ts: '2021-13-45'``, ``negative discount: -5.0``,
``order_ts after end: 2021-02-03 10:00:00 > 2021-01-31``, ``duplicate order_id: first seen in row
3``. A row with several problems lists them all, separated by ``"; "``.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from winback.exceptions import RejectedRowsWarning
from winback.io._encoding import printable
from winback.io._parse import as_text

__all__ = ["Rejections", "gate_rejects", "quoted"]

_MAX_VALUE_CHARS = 50
_CONTROL = r"[\x00-\x1f\x7f-\x9f\u2028\u2029]"
_REJECT_COLUMNS = ("row", "reason")
_STRING = pa.large_string()
_SEP = pa.scalar("; ", _STRING)
_COLON = pa.scalar(": ", _STRING)

Detail = Callable[[np.ndarray], pd.Series]


def quoted(raw: pd.Series) -> pd.Series:
    """Raw values as ``'text'``, cut to 50 characters, control characters (NUL, ESC...) shown
    escaped (``\x00``) so that no message or reason carries them to a terminal (vectorised)."""
    text = as_text(raw, strip=False, null_tokens=False).fillna("")
    long = (text.str.len() > _MAX_VALUE_CHARS).to_numpy(dtype=bool)
    cut = text.str.slice(0, _MAX_VALUE_CHARS)
    cut[long] = cut[long] + "..."
    control = cut.str.contains(_CONTROL, regex=True).to_numpy(dtype=bool)
    if control.any():
        cut[control] = cut[control].map(printable)
    return "'" + cut + "'"


def _problem_texts(kind: str, detail: Detail | None, positions: np.ndarray) -> pa.Array:
    """``kind`` or ``kind: detail`` for the rows at ``positions``, as an Arrow string array."""
    if detail is None:
        return pa.repeat(pa.scalar(kind, _STRING), len(positions))
    details = pa.array(detail(positions).astype("str"), type=_STRING)
    return pc.binary_join_element_wise(pa.scalar(kind, _STRING), details, _COLON)


@dataclass
class Rejections:
    """Accumulates row problems of one source of ``n`` rows, in the order they are checked."""

    n: int
    _items: list[tuple[str, np.ndarray, Detail | None]] = field(default_factory=list)
    _rejected: np.ndarray | None = None

    def add(self, kind: str, mask: np.ndarray, detail: Detail | None = None) -> None:
        """Record ``kind`` for the rows in ``mask``; ``detail(positions)`` gives their details."""
        if mask.any():
            self._items.append((kind, mask, detail))
            self._rejected = None

    def mask(self) -> np.ndarray:
        """Boolean mask of the rows with at least one problem."""
        if self._rejected is None:
            self._rejected = np.zeros(self.n, dtype=bool)
            for _, mask, _ in self._items:
                self._rejected |= mask
        return self._rejected

    def counts(self) -> dict[str, int]:
        """Rows per kind of problem, most frequent first (ties by name)."""
        counts = {kind: int(mask.sum()) for kind, mask, _ in self._items}
        return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))

    def frame(self, raw: pd.DataFrame) -> pd.DataFrame:
        """Rejects: ``row`` (1-based), ``reason``, then the raw values of the rejected rows.

        Raw columns named ``row`` or ``reason`` are renamed ``row_source``/``reason_source``.
        """
        positions = np.flatnonzero(self.mask())
        rejects = raw.iloc[positions].reset_index(drop=True)
        rejects = rejects.rename(columns={c: f"{c}_source" for c in _REJECT_COLUMNS})
        rejects.insert(0, "reason", self._reasons(positions))
        rejects.insert(0, "row", pd.Series(positions + 1, dtype="int64"))
        return rejects

    def _reasons(self, positions: np.ndarray) -> pd.Series:
        """The reason of each rejected row: its problems in check order, joined by ``"; "``."""
        if len(positions) == 0:
            return pd.Series([], dtype="str")
        texts, owners = [], []
        for kind, mask, detail in self._items:
            hit = np.flatnonzero(mask[positions])
            texts.append(_problem_texts(kind, detail, positions[hit]))
            owners.append(hit)
        text = pa.concat_arrays(texts)
        owner = np.concatenate(owners)
        order = np.argsort(owner, kind="stable")  # by row, then check order
        owner = owner[order]
        rank = np.arange(len(owner)) - np.searchsorted(owner, owner)  # problem number in its row
        reasons = text.take(order[rank == 0])  # one entry per rejected row, in row order
        for level in range(1, int(rank.max(initial=0)) + 1):
            at = rank == level
            rows = owner[at]
            joined = pc.binary_join_element_wise(reasons.take(rows), text.take(order[at]), _SEP)
            index = np.arange(len(positions))
            index[rows] = len(positions) + np.arange(len(rows))
            reasons = pa.concat_arrays([reasons, joined]).take(index)
        return pd.Series(reasons, dtype="str")

    def warn(self, *, label: str, table: str, stacklevel: int) -> None:
        """Emit a :class:`RejectedRowsWarning` stating the count and the reasons by count."""
        rejected = int(self.mask().sum())
        if not rejected:
            return
        counts = self.counts()
        listed = ", ".join(f"{count} {kind}" for kind, count in counts.items())
        several = " (a row can have several)" if sum(counts.values()) > rejected else ""
        warnings.warn(
            f"{label}: set aside {rejected} of {self.n} rows of {table} into the rejects frame "
            f"(kept {self.n - rejected}). Problems{several}: {listed}.",
            RejectedRowsWarning,
            stacklevel=stacklevel,
        )


def gate_rejects(rejects: pd.DataFrame, *, table: str, id_column: str) -> pd.DataFrame:
    """Return a data gate's rejects (``row``, ``reason``, source columns) as ``table``, ``row``,
    ``customer_id`` and ``reason``.

    ``customer_id`` is the raw id as text, stripped, integral floats without ``.0``; NA where the
    id is missing by the readers' rules (empty, blank, ``NaN``, ``n/a``, ``null``...), so a
    missing id never becomes a customer.
    """
    raw = (
        rejects[id_column]
        if id_column in rejects.columns
        else pd.Series(pd.NA, index=rejects.index, dtype=object)
    )
    frame = pd.DataFrame(
        {
            "table": table,
            "row": rejects["row"],
            "customer_id": as_text(raw),
            "reason": rejects["reason"].astype("str"),
        }
    )
    return frame.reset_index(drop=True)
