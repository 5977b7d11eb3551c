"""The walkthrough's demo files: CDNOW's orders and a SIMULATED customer table (CDNOW has none).

:func:`demo_customers` draws one customer record per CDNOW customer from a seeded generator
(e-mail at example.com, opt-in with some opt-outs, a fictitious postal address, a country);
:func:`write_demo` writes ``orders.csv``, ``customers.csv`` and ``demo.json`` (what was written,
with the sha256 of each file) into a folder, and only ever replaces files it wrote itself.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from winback.datasets._cdnow import load_cdnow
from winback.exceptions import ConfigError
from winback.io import check_replaceable, output_lock, sha256_file, write_frame, write_json

__all__ = ["DEMO_FORMAT", "DemoFiles", "demo_customers", "write_demo"]

DEMO_FORMAT = "winback-demo/1"
ORDERS_FILE = "orders.csv"
CUSTOMERS_FILE = "customers.csv"
MANIFEST_FILE = "demo.json"
SIMULATED_NOTE = (
    "customers.csv is SIMULATED: CDNOW has no customer table. Its e-mails (example.com), "
    "opt-ins, postal addresses and countries are drawn at random (seeded); only customer_id "
    "and signup_ts (the first order's day) come from CDNOW."
)

#: Share of customers per country (CDNOW was a US retailer that also shipped abroad).
_COUNTRIES = {"US": 0.82, "CA": 0.07, "GB": 0.06, "DE": 0.05}
_OPT_OUT = 0.12  # share who declined marketing
_NO_POSTAL_ADDRESS = 0.04  # share with no postal address on file
_STREETS = ("Maple", "Oak", "Cedar", "Elm", "Pine", "Birch", "Willow", "Aspen", "Chestnut", "Ash")
_STREET_KINDS = ("Street", "Avenue", "Road", "Lane", "Drive")
_TOWNS = {  # fictitious towns, one postcode style per country
    "US": ("Springfield", "Riverton", "Fairview", "Lakeside"),
    "CA": ("Northbrook", "Pine Ridge", "Maplewood"),
    "GB": ("Ashford Green", "Millbrook", "Kingsmere"),
    "DE": ("Lindenau", "Birkenfeld", "Talheim"),
}


@dataclass(frozen=True)
class DemoFiles:
    """What :func:`write_demo` wrote: the orders, the simulated customers and the manifest."""

    orders: Path
    customers: Path
    manifest: Path
    n_customers: int
    n_orders: int


def _postcode(country: str, rng: np.random.Generator) -> str:
    digits = rng.integers(0, 10, size=5)
    if country == "GB":
        return f"ZZ{digits[0]} {digits[1]}ZZ"  # ZZ is no real postcode area
    if country == "CA":
        return f"X{digits[0]}X {digits[1]}X{digits[2]}"
    return "".join(map(str, digits))


def _addresses(countries: np.ndarray, rng: np.random.Generator) -> list[str]:
    numbers = rng.integers(1, 400, size=len(countries))
    streets = rng.integers(0, len(_STREETS), size=len(countries))
    kinds = rng.integers(0, len(_STREET_KINDS), size=len(countries))
    towns = rng.integers(0, 12, size=len(countries))
    return [
        f"{number} {_STREETS[street]} {_STREET_KINDS[kind]}, "
        f"{_TOWNS[country][town % len(_TOWNS[country])]} {_postcode(country, rng)}"
        for number, street, kind, town, country in zip(
            numbers, streets, kinds, towns, countries, strict=True
        )
    ]


def demo_customers(orders: pd.DataFrame, *, seed: int = 0) -> pd.DataFrame:
    """Return a SIMULATED customer table for the customers of ``orders``, the same for a seed.

    Parameters
    ----------
    orders : DataFrame
        Orders with ``customer_id`` and ``order_ts`` (e.g. :func:`load_cdnow`).
    seed : int
        Seed of the random draws: the same orders and seed give the same table.

    Returns
    -------
    DataFrame
        One row per customer, sorted by ``customer_id``: ``customer_id``, ``email``
        (``customer<id>@example.com``), ``marketing_opt_in`` (False for about 12%),
        ``postal_address`` (fictitious; empty for about 4%), ``country`` (US, CA, GB, DE),
        ``signup_ts`` (the day of the first order) and ``simulated`` (always True).

    Examples
    --------
    >>> orders = load_cdnow(sample=True)
    >>> customers = demo_customers(orders)
    >>> len(customers), customers["email"].iloc[0]
    (2357, 'customer4@example.com')
    >>> bool(customers["simulated"].all())
    True
    >>> demo_customers(orders).equals(customers)
    True
    """
    first = orders.groupby("customer_id", sort=True)["order_ts"].min()
    ids = first.index.to_numpy()
    rng = np.random.default_rng(seed)
    countries = rng.choice(list(_COUNTRIES), size=len(ids), p=list(_COUNTRIES.values()))
    opted_in = rng.random(len(ids)) >= _OPT_OUT
    addresses = np.asarray(_addresses(countries, rng), dtype=object)
    addresses[rng.random(len(ids)) < _NO_POSTAL_ADDRESS] = ""
    return pd.DataFrame(
        {
            "customer_id": ids,
            "email": [f"customer{i}@example.com" for i in ids],
            "marketing_opt_in": opted_in,
            "postal_address": addresses,
            "country": countries,
            "signup_ts": first.dt.normalize().to_numpy(),
            "simulated": True,
        }
    )


def _orders_file(orders: pd.DataFrame) -> pd.DataFrame:
    """CDNOW's orders as written: one row per order, the day as an ISO date."""
    return orders[["customer_id", "order_ts", "amount", "quantity"]].assign(
        order_ts=orders["order_ts"].dt.strftime("%Y-%m-%d")
    )


def _customers_file(customers: pd.DataFrame) -> pd.DataFrame:
    return customers.assign(signup_ts=customers["signup_ts"].dt.strftime("%Y-%m-%d"))


def write_demo(out: str | os.PathLike[str], *, sample: bool = False, seed: int = 0) -> DemoFiles:
    """Write the demo data into the folder ``out``: CDNOW's orders and SIMULATED customers.

    Writes ``orders.csv`` (``customer_id, order_ts, amount, quantity``: CDNOW as shipped, or its
    1/10 sample), ``customers.csv`` (:func:`demo_customers`: simulated, since CDNOW has no
    customer table) and ``demo.json`` (what this is, the seed and the sha256 of both files), each
    atomically. Files the folder already holds are replaced only if winback wrote them and they
    are unchanged; the same arguments write byte-identical files.

    Parameters
    ----------
    out : path
        Folder to write into (created if missing).
    sample : bool
        Write the CDNOW 1/10 sample (2,357 customers) instead of all 23,570 customers.
    seed : int
        Seed of the simulated customer table.

    Returns
    -------
    DemoFiles
        The paths written and the number of customers and orders.

    Raises
    ------
    ConfigError
        If ``out`` is a file, or holds an ``orders.csv``, ``customers.csv`` or ``demo.json``
        that winback did not write (:func:`winback.io.check_replaceable`).
    """
    folder = Path(out)
    if folder.exists() and not folder.is_dir():
        raise ConfigError(f"winback demo: --out {folder} is a file; give a folder, e.g. data/.")
    with output_lock(folder / ORDERS_FILE, what="demo files"):
        for name in (ORDERS_FILE, CUSTOMERS_FILE, MANIFEST_FILE):  # all, before writing any
            check_replaceable(folder / name)
        return _write(folder, sample=sample, seed=seed)


def _write(folder: Path, *, sample: bool, seed: int) -> DemoFiles:
    orders = load_cdnow(sample=sample)
    customers = demo_customers(orders, seed=seed)
    orders_path = write_frame(_orders_file(orders), folder / ORDERS_FILE)
    customers_path = write_frame(_customers_file(customers), folder / CUSTOMERS_FILE)
    manifest = {
        "format": DEMO_FORMAT,
        "orders": f"CDNOW {'1/10 sample' if sample else 'master file'} "
        "(Fader, Hardie & Lee 2005), 1997-01-01 to 1998-06-30",
        "customers": SIMULATED_NOTE,
        "sample": sample,
        "seed": seed,
        "n_customers": len(customers),
        "n_orders": len(orders),
        "files": {p.name: sha256_file(p) for p in (orders_path, customers_path)},
    }
    manifest_path = write_json(manifest, folder / MANIFEST_FILE)
    return DemoFiles(orders_path, customers_path, manifest_path, len(customers), len(orders))
