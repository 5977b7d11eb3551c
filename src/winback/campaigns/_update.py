"""Feeding a measurement back: a new actions file whose uplifts are the measured ones, shrunk.

Each action with a constant ``uplift`` and a measured *uplift among would-be churners*
(:mod:`winback.campaigns._measure`: incremental response / mean scored ``p_churn``, the quantity
``uplift`` means in the allocation's gain) gets the precision-weighted mean of its prior value
and the measurement::

    se     = (ci_high - ci_low) / (2 * 1.96)          the measurement's standard error
    weight = (1 / se^2) / (1 / se^2 + 1 / prior_sd^2)
    uplift = weight * estimate + (1 - weight) * prior,  clipped to [0, 1]

the posterior mean of a normal prior ``N(prior, prior_sd^2)`` updated by a normal measurement
``N(estimate, se^2)``: a thin measurement (few customers, wide interval) barely moves the
uplift, a precise one replaces it. ``uplift_source`` records the estimate, its interval, the
group sizes, the prior and the weight, and the campaign it came from. Actions with
``uplift: model`` and actions the campaign did not measure are left as they are.
"""

from __future__ import annotations

import logging
import math
import os
from pathlib import Path
from typing import Any

import yaml

from winback.actions import ActionsConfig, parse_actions_config
from winback.exceptions import ConfigError
from winback.io import write_atomic

__all__ = ["DEFAULT_PRIOR_SD", "updated_actions", "write_actions_config"]

logger = logging.getLogger(__name__)

#: How far the configured uplift is believed off, as one standard deviation.
DEFAULT_PRIOR_SD = 0.05
_Z95 = 1.959963984540054
HEADER = "# Written by winback measure --update-actions"


def updated_actions(
    config: ActionsConfig, measurement: dict[str, Any], *, prior_sd: float = DEFAULT_PRIOR_SD
) -> ActionsConfig:
    """Return ``config`` with each measured action's uplift updated (see the module docstring).

    Parameters
    ----------
    config : ActionsConfig
        The actions the campaign was allocated with (the priors).
    measurement : dict
        :attr:`CampaignMeasurement.results` (or its JSON).
    prior_sd : float
        Standard deviation of the prior on each configured uplift (> 0).

    Raises
    ------
    ConfigError
        If ``prior_sd`` is not positive or the measurement has no per-action rows.
    """
    if not (isinstance(prior_sd, int | float) and prior_sd > 0 and math.isfinite(prior_sd)):
        raise ConfigError(f"prior_sd must be a positive number, got {prior_sd!r}.")
    rows = {row["label"]: row for row in measurement.get("actions") or []}
    if not rows:
        raise ConfigError("The measurement has no per-action results to update the actions with.")
    raw = config.model_dump(mode="json", exclude_none=True)
    for action in raw["actions"]:
        source = _source(action, rows.get(action["name"]), measurement, prior_sd)
        if source is not None:
            action["uplift"] = source.pop("shrunk")
            action["uplift_source"] = source
    return parse_actions_config(raw, source="updated actions")


def _source(
    action: dict[str, Any],
    row: dict[str, Any] | None,
    measurement: dict[str, Any],
    prior_sd: float,
) -> dict[str, Any] | None:
    estimate = (row or {}).get("uplift_estimate")
    if action["uplift"] == "model" or not estimate or estimate.get("ci_low") is None:
        if row is not None and action["uplift"] != "model":
            logger.warning(
                "action %r: no uplift estimate (no p_churn?), left as is", action["name"]
            )
        return None
    se = (estimate["ci_high"] - estimate["ci_low"]) / (2 * _Z95)
    prior = float(action["uplift"])
    weight = 1.0 if se <= 0 else (1 / se**2) / (1 / se**2 + 1 / prior_sd**2)
    shrunk = min(1.0, max(0.0, weight * estimate["estimate"] + (1 - weight) * prior))
    return {
        "shrunk": round(shrunk, 6),
        "campaign_id": str(measurement.get("campaign_id") or "unknown"),
        "campaign_date": str(measurement["campaign_date"]),
        "window_days": int(measurement["window_days"]),
        "estimate": float(estimate["estimate"]),
        "ci_low": float(estimate["ci_low"]),
        "ci_high": float(estimate["ci_high"]),
        "n_treatment": int(row["n_treatment"]),  # type: ignore[index]
        "n_control": int(row["n_control"]),  # type: ignore[index]
        "prior": prior,
        "prior_sd": float(prior_sd),
        "weight": round(weight, 6),
    }


def write_actions_config(
    config: ActionsConfig,
    out: str | os.PathLike[str],
    *,
    source: str | os.PathLike[str] | None = None,
) -> Path:
    """Write ``config`` as an actions YAML file, atomically, never over its source.

    Raises
    ------
    ConfigError
        If ``out`` is ``source`` (the input is never overwritten) or an existing file that
        winback did not write.
    """
    out = Path(out)
    if source is not None and _same_file(out, Path(source)):
        raise ConfigError(
            f"--out {out} is the actions file being updated; winback never overwrites its "
            "input. Write the new actions to another file, e.g. new_actions.yaml."
        )
    if out.exists() and not _written_by_us(out):
        raise ConfigError(
            f"--out {out} exists and was not written by winback measure; winback will not "
            "replace it. Choose a new file name."
        )
    body = yaml.safe_dump(
        config.model_dump(mode="json", exclude_none=True), sort_keys=False, allow_unicode=True
    )
    text = f"{HEADER} from {Path(source).name if source else 'a campaign config'}.\n{body}"
    return write_atomic(out, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def _same_file(a: Path, b: Path) -> bool:
    if a.exists() and b.exists():
        return os.path.samefile(a, b)
    return a.resolve() == b.resolve()


def _written_by_us(path: Path) -> bool:
    try:
        with open(path, encoding="utf-8") as fh:
            return fh.readline().startswith(HEADER)
    except (OSError, UnicodeDecodeError):
        return False
