"""What to do about each customer: named RFM segments, tiers, campaign rules, allocation, control.

- :func:`rfm_segments`, :data:`DEFAULT_SEGMENT_TABLE`, :func:`load_segment_table`: named segments
  from recency/frequency/monetary quintile scores, the segment table kept as data.
- :func:`assign_tiers`: low/medium/high tiers from cut points or quantiles.
- :func:`at_risk_segments`: the at-risk list for marketing; :func:`value_if_retained`,
  :func:`value_at_risk`, :func:`retention_values`: value at risk defined once
  (:data:`VALUE_AT_RISK_DEFINITION`), without counting churn twice.
- :class:`ActionsConfig`, :func:`load_actions_config`: the campaign config
  (``configs/actions.yaml``); :func:`check_rule_fields`: its fields and values checked before
  any work.
- :func:`allocate_actions`: the best eligible action per customer within budget and caps, plus the
  hold-out control group (:func:`control_mask`); :func:`empty_action_reasons`: why an action
  reached nobody.
"""

from winback.actions._allocate import ALLOCATION_COLUMNS, allocate_actions, allocation_summary
from winback.actions._config import ActionsConfig, load_actions_config, parse_actions_config
from winback.actions._control import control_mask
from winback.actions._nobody import empty_action_reasons
from winback.actions._rules import check_rule_fields, rule_fields
from winback.actions._segments import (
    AT_RISK_SEGMENTS,
    DEFAULT_SEGMENT_TABLE,
    SegmentRule,
    SegmentTable,
    assign_tiers,
    at_risk_segments,
    load_segment_table,
    rfm_segments,
)
from winback.actions._value import (
    MIN_STAY_PROBABILITY,
    VALUE_AT_RISK_DEFINITION,
    retention_values,
    value_at_risk,
    value_if_retained,
)

__all__ = [
    "ALLOCATION_COLUMNS",
    "AT_RISK_SEGMENTS",
    "DEFAULT_SEGMENT_TABLE",
    "MIN_STAY_PROBABILITY",
    "VALUE_AT_RISK_DEFINITION",
    "ActionsConfig",
    "SegmentRule",
    "SegmentTable",
    "allocate_actions",
    "allocation_summary",
    "assign_tiers",
    "at_risk_segments",
    "check_rule_fields",
    "control_mask",
    "empty_action_reasons",
    "load_actions_config",
    "load_segment_table",
    "parse_actions_config",
    "retention_values",
    "rfm_segments",
    "rule_fields",
    "value_at_risk",
    "value_if_retained",
]
