"""Column layouts of the exported list files: a generic CSV and Mailchimp's contact import.

A layout is data: the header of the address column per channel, and ``(header, field)`` pairs for
the other columns, where ``field`` names a column of the prepared export rows. Channels a
platform cannot send (post, phone calls) are written in the generic layout.

Mailchimp (https://mailchimp.com/help/format-guidelines-for-your-import-file/): the import needs
one e-mail address column for e-mail contacts and an SMS phone number column for SMS contacts;
every other column is matched to an audience field during the import. The extra columns here are
named like Mailchimp merge tags (upper case, at most 10 characters) so they map to merge fields
of the same name; ``Tags`` holds the campaign id and the action, comma-separated, for the
importer's tags option.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["LAYOUTS", "Layout", "render"]

ADDRESS = "address"  # the field holding the channel's address (e-mail, phone, postal address)

_SCORES: tuple[tuple[str, str], ...] = (
    ("segment", "segment"),
    ("risk_tier", "risk_tier"),
    ("value_tier", "value_tier"),
    ("p_churn", "p_churn"),
    ("expected_value", "expected_value"),
    ("expected_gain", "expected_gain"),
)
_IDS: tuple[tuple[str, str], ...] = (
    ("customer_id", "customer_id"),
    ("campaign_id", "campaign_id"),
    ("action", "action"),
    ("channel", "channel"),
    ("offer", "offer"),
)

#: Decimal places of the numeric fields (fixed formatting keeps re-runs byte-identical).
DECIMALS: Mapping[str, int] = {"p_churn": 6, "expected_value": 2, "expected_gain": 2, "cost": 2}


@dataclass(frozen=True)
class Layout:
    """How one list file is laid out.

    ``address_headers`` maps a channel to the header of its address column (``None``: use the
    address column's own name, e.g. ``email``); channels missing from it fall back to the
    generic layout. ``fields`` are the ``(header, field)`` pairs written after the address.
    """

    name: str
    address_headers: Mapping[str, str] | None
    fields: tuple[tuple[str, str], ...]
    leading: tuple[tuple[str, str], ...] = ()


GENERIC = Layout(name="generic", address_headers=None, fields=_SCORES, leading=_IDS)
MAILCHIMP = Layout(
    name="mailchimp",
    address_headers={"email": "Email Address", "sms": "SMS Phone Number"},
    fields=(
        ("Tags", "tags"),
        ("CUST_ID", "customer_id"),
        ("CAMPAIGN", "campaign_id"),
        ("ACTION", "action"),
        ("OFFER", "offer"),
        ("SEGMENT", "segment"),
        ("RISK_TIER", "risk_tier"),
        ("VALUE_TIER", "value_tier"),
        ("P_CHURN", "p_churn"),
        ("EXP_VALUE", "expected_value"),
    ),
)
LAYOUTS: Mapping[str, Layout] = {"generic": GENERIC, "mailchimp": MAILCHIMP}
CONTROL_FIELDS = (*_IDS, *_SCORES)


def layout_for(layout: Layout, channel: str) -> Layout:
    """Return ``layout`` if it can send ``channel``, else the generic layout."""
    if layout.address_headers is None or channel in layout.address_headers:
        return layout
    return GENERIC


def render(
    rows: pd.DataFrame, layout: Layout, *, channel: str, address_column: str
) -> pd.DataFrame:
    """Return the list file for ``rows`` (one channel) as all-text columns in ``layout``.

    ``rows`` holds the fields named by the layouts plus ``address``; ``address_column`` is the
    customers column the address came from (the generic header).
    """
    layout = layout_for(layout, channel)
    header = address_column if layout.address_headers is None else layout.address_headers[channel]
    pairs = (*layout.leading, (header, ADDRESS), *layout.fields)
    return select_fields(rows, pairs)


def select_fields(rows: pd.DataFrame, pairs: tuple[tuple[str, str], ...]) -> pd.DataFrame:
    """Return a frame with one text column per ``(header, field)``, numbers fixed-formatted."""
    return pd.DataFrame({header: _text(rows[field], field) for header, field in pairs})


def _text(values: pd.Series, field: str) -> pd.Series:
    if field in DECIMALS:
        numbers = values.to_numpy(dtype=float)
        return pd.Series(np.char.mod(f"%.{DECIMALS[field]}f", numbers), index=values.index)
    return values.astype("str")
