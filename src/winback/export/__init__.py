"""Campaign exports for marketing: per-action list files, the control list and a summary.

- :func:`export_campaign`: writes ``treatment_<action>.csv`` (generic or Mailchimp layout),
  ``control.csv`` and ``summary.json``, atomically, leaving out customers who did not opt in or
  lack an address for the channel (counted by reason).
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
