"""The CDNOW purchase logs (Fader, Hardie & Lee 2005), shipped gzip-compressed in the package."""

from __future__ import annotations

from importlib.resources import files

import pandas as pd

__all__ = ["load_cdnow"]

_MASTER = "CDNOW_master.txt.gz"
_SAMPLE = "CDNOW_sample.txt.gz"


def _raw_cdnow(sample: bool) -> pd.DataFrame:
    """Parse the whitespace-separated original file into customer_id/order_ts/quantity/amount."""
    resource = files("winback.datasets") / "data" / (_SAMPLE if sample else _MASTER)
    if sample:
        names = ["customer_id", "sample_id", "date", "quantity", "amount"]
        header = None
    else:
        names = ["customer_id", "date", "quantity", "amount"]
        header = 0
    with resource.open("rb") as fh:
        raw = pd.read_csv(
            fh, sep=r"\s+", header=header, names=names, compression="gzip",
            dtype={"customer_id": "int64", "date": "str", "quantity": "int64", "amount": "float64"},
        )
    return pd.DataFrame(
        {
            "customer_id": raw["customer_id"].astype("int64"),
            "order_ts": pd.to_datetime(raw["date"], format="%Y%m%d"),
            "amount": raw["amount"].astype("float64"),
            "quantity": raw["quantity"].astype("float64"),
        }
    )


def load_cdnow(*, sample: bool = False) -> pd.DataFrame:
    """Return the CDNOW orders: the full master file or, with ``sample=True``, the 1/10 sample.

    Returns
    -------
    DataFrame
        One row per order (69,659 rows, 23,570 customers for the master file; 6,919 rows and 2,357
        customers for the sample), columns ``customer_id`` (int64), ``order_ts`` (datetime64,
        1997-01-01 to 1998-06-30), ``amount`` (float64, US dollars) and ``quantity`` (number of CDs).
    """
    return _raw_cdnow(sample)
