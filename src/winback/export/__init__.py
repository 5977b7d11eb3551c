"""Campaign exports for marketing: per-action list files, the control list and a summary.

- :func:`export_campaign`: writes ``treatment_<action>.csv`` (generic or Mailchimp layout),
  ``control.csv``, ``excluded.csv`` and ``summary.json``, atomically, leaving out customers
  without an unambiguous opt-in or a valid address for the channel (listed and counted by
  reason); every CSV cell is made inert for spreadsheets.
"""

from winback.export._campaign import ADDRESS_COLUMNS, CampaignExport, export_campaign
from winback.export._layouts import LAYOUTS, Layout

__all__ = [
    "ADDRESS_COLUMNS",
    "LAYOUTS",
    "CampaignExport",
    "Layout",
    "export_campaign",
]
