"""The hold-out control group: a stable hash of (campaign id, customer id) decides who is held out.

The hash is BLAKE2b (64 bits) of the UTF-8 string ``"<campaign_id>\\x1f<customer_id>"``, its top 53
bits scaled to [0, 1), so membership is reproducible across machines and library versions,
independent of row order and of the other customers, and changes when the campaign id changes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator

import numpy as np
import pandas as pd

from winback.exceptions import ConfigError

__all__ = ["control_mask", "stable_uniform"]

_SEPARATOR = "\x1f"  # ASCII unit separator: cannot be confused with characters of an id
_SCALE = float(2**53)


def stable_uniform(customer_ids: Iterable[object], *, salt: str) -> np.ndarray:
    """Return one number in [0, 1) per customer id, a pure function of ``(salt, str(id))``.

    Integer ids hash as their decimal string (``7`` and ``"7"`` give the same number).
    """
    values = [_unit(f"{salt}{_SEPARATOR}{cid}") for cid in _plain(customer_ids)]
    return np.asarray(values, dtype=np.float64)


def control_mask(
    customer_ids: Iterable[object], *, campaign_id: str, fraction: float
) -> np.ndarray:
    """Return a boolean array: True for customers held out as the campaign's control group.

    A customer is held out when ``stable_uniform(id, salt=campaign_id) < fraction``, so about
    ``fraction`` of any set of customers is held out (a binomial draw), and enlarging
    ``fraction`` only adds customers to the control group.
    """
    if not 0 <= fraction < 1:
        raise ConfigError(f"control fraction must lie in [0, 1), got {fraction!r}.")
    return stable_uniform(customer_ids, salt=campaign_id) < fraction


def _unit(key: str) -> float:
    digest = hashlib.blake2b(key.encode("utf-8"), digest_size=8).digest()
    return (int.from_bytes(digest, "big") >> 11) / _SCALE  # top 53 bits: exact, always < 1


def _plain(customer_ids: Iterable[object]) -> list[object]:
    """Return Python scalars (``np.int64(7)`` -> ``7``) so ``str`` gives the plain decimal form."""
    return pd.Series(
        list(customer_ids) if isinstance(customer_ids, Iterator) else customer_ids
    ).tolist()
