"""The CDNOW purchase logs (Fader, Hardie & Lee 2005), shipped gzip-compressed in the package."""

from __future__ import annotations

from functools import cache
from importlib.resources import files

import pandas as pd

from winback.exceptions import DataError

__all__ = ["load_cdnow"]

_MASTER = "CDNOW_master.txt.gz"
_SAMPLE = "CDNOW_sample.txt.gz"


@cache
def _parsed_cdnow(sample: bool) -> pd.DataFrame:
    """Parse the whitespace-separated original file (once per process; callers get copies).

    The master file has a header and columns id, date, CDs, dollars; the sample has no header
    and an extra running sample id after the customer id (dropped: ``customer_id`` is the master
    file's id, so the sample's customers are a subset of the master's).
    """
    resource = files("winback.datasets") / "data" / (_SAMPLE if sample else _MASTER)
    if sample:
        names = ["customer_id", "sample_id", "date", "quantity", "amount"]
        header = None
    else:
        names = ["customer_id", "date", "quantity", "amount"]
        header = 0
    with resource.open("rb") as fh:
        raw = pd.read_csv(
            fh,
            sep=r"\s+",
            header=header,
            names=names,
            compression="gzip",
            dtype={"customer_id": "int64", "date": "str", "quantity": "int64", "amount": "float64"},
        )
    frame = pd.DataFrame(
        {
            "customer_id": raw["customer_id"].astype("int64"),
            "order_ts": pd.to_datetime(raw["date"], format="%Y%m%d").astype("datetime64[ns]"),
            "amount": raw["amount"].astype("float64"),
            "quantity": raw["quantity"].astype("float64"),
        }
    )
    return _validated(frame, name=_SAMPLE if sample else _MASTER)


def _validated(frame: pd.DataFrame, *, name: str) -> pd.DataFrame:
    """Pass the parsed file through the data gate; the shipped files have no bad row."""
    from winback.io import read_orders

    data, rejects = read_orders(frame, name=name, end=pd.Timestamp("1998-06-30"))
    if len(rejects):  # pragma: no cover - would mean the shipped file was altered
        raise DataError(
            f"{name}: {len(rejects)} row(s) rejected by the data gate: {rejects.head()}"
        )
    return data


def load_cdnow(*, sample: bool = False) -> pd.DataFrame:
    """Return the CDNOW orders: the full master file or, with ``sample=True``, the 1/10 sample.

    CDNOW's cohort of 23,570 customers who first bought in the first quarter of 1997, followed
    until the end of June 1998 (Fader, Hardie & Lee, 2005, "Counting your customers the easy
    way"). The file is parsed once per process; every call returns a fresh copy.

    Parameters
    ----------
    sample : bool
        Return the 1/10 sample (2,357 customers, ids of the master file) instead of all data.

    Returns
    -------
    DataFrame
        One row per order in file order (by customer, then date): 69,659 rows and 23,570
        customers for the master file, 6,919 rows and 2,357 customers for the sample. Columns
        ``customer_id`` (int64), ``order_ts`` (datetime64[ns], midnight, 1997-01-01 to
        1998-06-30), ``amount`` (float64, US dollars, >= 0) and ``quantity`` (float64, number
        of CDs, >= 1).

    Examples
    --------
    >>> from winback.datasets import load_cdnow
    >>> load_cdnow(sample=True).shape
    (6919, 4)
    """
    return _parsed_cdnow(sample).copy()
