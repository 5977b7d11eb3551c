"""The sorted order log every feature and label is computed from, and its segment arithmetic.

:func:`prepare_orders` reads the orders once into flat numpy arrays sorted by
(customer, calendar day, input row): one int64 ``key = code << day_bits | (day - day0)`` per
row, where ``code`` is the customer's rank (or ``customer_id - min`` for compact integer ids),
plus the amounts and optional columns in the same order. One customer's rows are then one
contiguous run, and the rows of any day range of a customer are a sub-run found by
:meth:`OrderLog.positions` (a binary search on ``key``). Features are reductions over runs
(``ufunc.reduceat``, :func:`segment_reduce`, ``np.bincount``), so nothing loops over customers
in Python and every customer's values depend on that customer's rows alone.

**A purchase is an order with a positive amount** (or a free one: amount 0, quantity > 0; see
:func:`winback.io.purchase_mask`). The other orders (cancellations, refunds, returns; the reader
nets the lines of an order first) are kept apart in
``refund_key``/``refund_amount``: they never count as an order, a purchase day, for recency or
for a label, and a customer with nothing but such orders is not in the population. They only
reduce money (``monetary_total``, windowed spend, spend labels) and count in ``refund_share``.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from winback.dates import day_numbers
from winback.exceptions import DataError
from winback.io import check_frame, purchase_mask

__all__ = ["OrderLog", "positions_in", "prepare_orders", "rows_of", "segment_reduce"]

_KEY_BITS = 62  # packed sort keys stay below 2**62, clear of the int64 sign bit


@dataclass(frozen=True, eq=False)
class OrderLog:
    """Orders sorted by (customer, day, input row), as flat arrays.

    Attributes
    ----------
    key
        Sorted int64 ``code << day_bits | (day - day0)``, one per order row.
    amount
        The rows' amounts (float64), in ``key`` order.
    day_bits, day0
        Bits of the key that hold the day, and the day number that is 0 there.
    discount, category
        The rows' discounts (float64, NaN read as 0) and category codes (int64, -1 missing),
        or ``None`` when the orders have no such column.
    id_offset, id_values
        How codes map back to customer ids: ``code + id_offset`` for compact integer ids,
        else ``id_values[code]`` (the sorted distinct ids).
    refund_key, refund_amount
        The orders that are not purchases (amount <= 0), keyed and sorted like ``key``.
    """

    key: np.ndarray
    amount: np.ndarray
    day_bits: int
    day0: int
    discount: np.ndarray | None
    category: np.ndarray | None
    id_offset: int | None
    id_values: pd.Index | None
    id_is_string: bool
    refund_key: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    refund_amount: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.float64))

    @functools.cached_property
    def starts(self) -> np.ndarray:
        """First row of each customer (int64, ascending)."""
        code = self.key >> self.day_bits
        changed = np.empty(len(code), dtype=bool)
        changed[:1] = True
        np.not_equal(code[1:], code[:-1], out=changed[1:])
        return np.flatnonzero(changed)

    @functools.cached_property
    def stops(self) -> np.ndarray:
        """One past the last row of each customer."""
        return np.append(self.starts[1:], len(self.key)) if len(self.key) else self.starts

    @functools.cached_property
    def codes(self) -> np.ndarray:
        """Code of each customer, aligned with :attr:`starts` (ascending)."""
        return self.key[self.starts] >> self.day_bits

    @functools.cached_property
    def new_day(self) -> np.ndarray:
        """Boolean per row: first row of a (customer, day), i.e. a new purchase day."""
        flag = np.empty(len(self.key), dtype=bool)
        flag[:1] = True
        np.not_equal(self.key[1:], self.key[:-1], out=flag[1:])
        return flag

    def days_at(self, rows: np.ndarray) -> np.ndarray:
        """Day numbers of ``rows``."""
        return (self.key[rows] & ((1 << self.day_bits) - 1)) + self.day0

    def upto(self, last_day: int) -> OrderLog:
        """The log of the rows dated on or before ``last_day`` (``self`` if that is all)."""
        mask = (1 << self.day_bits) - 1
        keep = (self.key & mask) <= last_day - self.day0
        keep_refunds = (self.refund_key & mask) <= last_day - self.day0
        if keep.all() and keep_refunds.all():
            return self

        def cut(values: np.ndarray | None) -> np.ndarray | None:
            return None if values is None else values[keep]

        return replace(
            self,
            key=self.key[keep],
            amount=self.amount[keep],
            discount=cut(self.discount),
            category=cut(self.category),
            refund_key=self.refund_key[keep_refunds],
            refund_amount=self.refund_amount[keep_refunds],
        )

    def refund_positions(self, codes: np.ndarray, last_days: np.ndarray | int) -> np.ndarray:
        """Per customer code, the first refund row after its refunds dated ``<= last_days``
        (as :meth:`positions`, on ``refund_key``)."""
        return positions_in(self.refund_key, self.day_bits, self.day0, codes, last_days)

    def refund_totals(self, codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per customer code (sorted): the number and the sum of its refunds in the log."""
        first = np.searchsorted(self.refund_key, codes << self.day_bits)
        stop = np.searchsorted(self.refund_key, (codes + 1) << self.day_bits)
        sums = segment_reduce(np.add, self.refund_amount, np.column_stack([first, stop]), empty=0.0)
        return stop - first, sums[:, 0]

    def positions(self, codes: np.ndarray, last_days: np.ndarray | int) -> np.ndarray:
        """Per customer code, the first row after its rows dated ``<= last_days``.

        ``last_days`` is a scalar or an array aligned with ``codes``. A customer's rows dated in
        ``(a, b]`` are ``positions(code, a):positions(code, b)``.
        """
        return positions_in(self.key, self.day_bits, self.day0, codes, last_days)

    def ids_of(self, codes: np.ndarray) -> pd.Index:
        """The customer ids of ``codes`` as an Index named ``customer_id``."""
        if self.id_offset is not None:
            return pd.Index(codes + self.id_offset, dtype="int64", name="customer_id")
        assert self.id_values is not None
        return self.id_values.take(codes).rename("customer_id")

    def codes_of(self, ids: pd.Series, *, frame: str) -> np.ndarray:
        """Codes of another frame's customer ids; -1 for ids that have no orders here."""
        values = _id_values(ids)
        is_string = values.dtype.kind not in "iu"
        if is_string != self.id_is_string:
            raise DataError(
                f"{frame}.customer_id holds {'strings' if is_string else 'integers'} but "
                f"orders.customer_id holds {'strings' if self.id_is_string else 'integers'}; "
                "both frames must use the same customer ids. Read them through winback.io."
            )
        if self.id_values is not None:
            return self.id_values.get_indexer(values).astype(np.int64)
        codes = values.astype(np.int64) - np.int64(self.id_offset or 0)
        top = int(self.key[-1] >> self.day_bits) if len(self.key) else -1
        codes[(codes < 0) | (codes > top)] = -1
        return codes


def positions_in(
    key: np.ndarray, day_bits: int, day0: int, codes: np.ndarray, last_days: np.ndarray | int
) -> np.ndarray:
    """See :meth:`OrderLog.positions`."""
    offset = np.clip(np.asarray(last_days, dtype=np.int64) - day0, -1, (1 << day_bits) - 1)
    return np.searchsorted(key, (codes << day_bits) + offset, side="right")


def rows_of(population: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """Index in the sorted ``population`` codes of each code, -1 where absent (or code < 0)."""
    if len(population) == 0:
        return np.full(len(codes), -1, dtype=np.int64)
    pos = np.searchsorted(population, codes)
    found = population[np.minimum(pos, len(population) - 1)] == codes
    return np.where(found & (codes >= 0), pos, -1)


def segment_reduce(
    ufunc: np.ufunc,
    values: np.ndarray,
    bounds: np.ndarray,
    *,
    empty: float,
    dtype: type | None = None,
) -> np.ndarray:
    """Reduce ``values`` over consecutive runs given by the rows of ``bounds``.

    ``bounds`` is ``(m, k + 1)``; flattened row by row it must be non-decreasing (runs of
    customers sorted by code). The result is ``(m, k)``: entry ``(i, j)`` is
    ``ufunc.reduce(values[bounds[i, j]:bounds[i, j + 1]])``, or ``empty`` for an empty run.
    A single ``ufunc.reduceat`` does it; the stretches between rows are reduced and dropped.
    """
    m, width = bounds.shape
    flat = bounds.ravel()
    result = np.full(m * width, empty, dtype=dtype or values.dtype)
    if len(flat) > 1 and len(values):
        cut = int(np.searchsorted(flat, len(values)))  # entries from `cut` on are len(values)
        if cut:
            reduced = ufunc.reduceat(values, flat[:cut], dtype=dtype)
            n = min(cut, len(flat) - 1)
            keep = flat[1 : n + 1] > flat[:n]
            result[:n][keep] = reduced[:n][keep]
    return result.reshape(m, width)[:, : width - 1]


def _id_values(ids: pd.Series) -> np.ndarray:
    """The customer ids (checked by the data contract: no nulls) as int64 or string values."""
    if pd.api.types.is_integer_dtype(ids.dtype):
        return ids.to_numpy(dtype=np.int64)
    return ids.array


def _customer_codes(ids, key_bits: int) -> tuple[np.ndarray, int, int | None, pd.Index | None]:
    """Return (codes, number of codes, id offset or None, sorted distinct ids or None).

    Integer ids whose range fits in ``key_bits`` bits are coded as ``id - min`` (no hashing);
    other ids are ranked with ``pd.factorize(sort=True)``.
    """
    if ids.dtype.kind in "iu" and len(ids):
        low, high = int(ids.min()), int(ids.max())
        if (high - low).bit_length() <= key_bits:
            return ids - np.int64(low), high - low + 1, low, None
    codes, distinct = pd.factorize(ids, sort=True)
    index = pd.Index(distinct, dtype="int64" if ids.dtype.kind in "iu" else None)
    return codes.astype(np.int64, copy=False), len(index), None, index


def _sorted_keys(codes: np.ndarray, days: np.ndarray, day_bits: int, row_bits: int, n_codes: int):
    """Return (sorted keys, row order): a stable sort by (code, day).

    When code, day and row number fit in 62 bits they are packed into one int64 and sorted in
    place with ``ndarray.sort`` (SIMD-accelerated); otherwise ``np.lexsort`` is used.
    """
    if max(n_codes - 1, 1).bit_length() + day_bits + row_bits <= _KEY_BITS:
        packed = codes << np.int64(day_bits)
        packed |= days
        packed <<= np.int64(row_bits)
        packed |= np.arange(len(codes), dtype=np.int64)
        packed.sort()
        order = packed & np.int64((1 << row_bits) - 1)
        packed >>= np.int64(row_bits)
        return packed, order
    order = np.lexsort((days, codes))
    key = codes[order] << np.int64(day_bits)
    key |= days[order]
    return key, order


def prepare_orders(
    orders: pd.DataFrame, *, last_day: int | None = None, optional_columns: bool = True
) -> OrderLog:
    """Return the :class:`OrderLog` of ``orders``, keeping rows with ``day <= last_day`` only.

    The purchases (:func:`winback.io.purchase_mask`) make ``key``; the other rows are kept
    apart as refunds (``refund_key``), see the module docstring.

    Parameters
    ----------
    orders
        Validated orders: ``customer_id``, ``order_ts``, ``amount`` and optionally
        ``discount`` (NaN read as no discount) and ``category`` (missing: no category).
    last_day
        Drop rows after this day number before sorting (``None`` keeps all).
    optional_columns
        Read ``discount`` and ``category`` when present (``False`` skips them).
    """
    check_frame(orders, "orders", where="winback.features")
    days = day_numbers(orders["order_ts"], column="order_ts")
    amount = orders["amount"].to_numpy(dtype=np.float64)
    ids = _id_values(orders["customer_id"])
    purchase = purchase_mask(orders)
    keep = None
    if last_day is not None:
        keep = days <= last_day
        if keep.all():
            keep = None
        else:
            days, amount, ids, purchase = days[keep], amount[keep], ids[keep], purchase[keep]
    n = len(days)
    day0 = int(days.min()) if n else 0
    days -= day0
    day_bits = max(1, int(days.max()).bit_length()) if n else 1
    row_bits = max(1, (n - 1).bit_length())
    codes, n_codes, id_offset, id_values = _customer_codes(ids, _KEY_BITS - day_bits - row_bits)
    if max(n_codes - 1, 1).bit_length() + day_bits > _KEY_BITS:
        raise DataError(
            f"orders hold {n_codes} customers over {int(days.max()) + 1} days, too many to "
            "index; split the data by customer."
        )
    id_is_string = ids.dtype.kind not in "iu"
    del ids
    refund_key, refund_order = _sorted_keys(
        codes[~purchase], days[~purchase], day_bits, row_bits, n_codes
    )
    refund_amount = amount[~purchase][refund_order]
    if not purchase.all():
        codes, days, amount = codes[purchase], days[purchase], amount[purchase]
    key, order = _sorted_keys(codes, days, day_bits, row_bits, n_codes)
    del codes, days
    extras = {
        column: _extra_column(orders, column, keep, purchase)[order]
        for column in ("discount", "category")
        if optional_columns and column in orders.columns
    }
    return OrderLog(
        key=key,
        amount=amount[order],
        day_bits=day_bits,
        day0=day0,
        discount=extras.get("discount"),
        category=extras.get("category"),
        id_offset=id_offset,
        id_values=id_values,
        id_is_string=id_is_string,
        refund_key=refund_key,
        refund_amount=refund_amount,
    )


def _extra_column(
    orders: pd.DataFrame, column: str, keep: np.ndarray | None, purchase: np.ndarray
) -> np.ndarray:
    """The purchases' values of ``discount`` (NaN read as 0) or ``category`` (codes, -1 missing)."""
    series = orders[column]
    if column == "discount":
        values = np.nan_to_num(series.to_numpy(dtype=np.float64, na_value=np.nan), nan=0.0)
    else:
        values = pd.factorize(series)[0].astype(np.int64, copy=False)
    values = values if keep is None else values[keep]
    return values if purchase.all() else values[purchase]
