"""The simulator's time-varying purchase-rate multiplier: its value, exact integral and inverse.

A customer with latent rate ``lambda`` buys at instantaneous rate ``lambda * m(t)``, where ``t`` is
in days since the simulation start and

    m(t) = (1 + trend * min(t, H) / 365.25) * (1 + amplitude * cos(2 pi (t - phase) / 365.25))
           * (1 + shift * [t >= S])

``H`` is the end of the simulated period (the trend is frozen afterwards, the season keeps
cycling), ``phase`` places the seasonal peak on the requested day of the year and ``S`` is the
start of a level shift (``shift = 0``: none). ``m`` averages to about 1 over a year at the start,
so ``lambda`` keeps its meaning of "purchases per day". The integral ``M(t)`` has a closed form,
which keeps the oracle exact.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

FloatArray = npt.NDArray[np.float64]

DAYS_PER_YEAR = 365.25
_OMEGA = 2.0 * np.pi / DAYS_PER_YEAR
_BISECTION_STEPS = 60


@dataclass(frozen=True)
class RateCurve:
    """Multiplier ``m(t)`` of purchase rates, ``t`` in days since the simulation start."""

    amplitude: float
    phase: float
    trend_per_day: float
    horizon: float
    shift: float = 0.0
    shift_start: float = 0.0

    @classmethod
    def from_settings(
        cls,
        *,
        start: pd.Timestamp,
        horizon_days: float,
        seasonality: float,
        seasonality_peak_day: float,
        trend: float,
        level_shift: float = 0.0,
        level_shift_day: float = 0.0,
    ) -> RateCurve:
        """Build the curve; ``seasonality_peak_day`` counts from 1 = 1 January.

        ``level_shift_day`` is the shift's first day in days since ``start`` (<= horizon).
        """
        days_into_year = (start - pd.Timestamp(year=start.year, month=1, day=1)).days
        return cls(
            amplitude=float(seasonality),
            phase=float(seasonality_peak_day) - 1.0 - days_into_year,
            trend_per_day=float(trend) / DAYS_PER_YEAR,
            horizon=float(horizon_days),
            shift=float(level_shift),
            shift_start=float(level_shift_day),
        )

    def _trend(self, t: FloatArray) -> FloatArray:
        return 1.0 + self.trend_per_day * np.clip(t, 0.0, self.horizon)

    def _shift(self, t: FloatArray) -> FloatArray:
        return np.where(np.asarray(t) >= self.shift_start, 1.0 + self.shift, 1.0)

    def level(self, t: FloatArray) -> FloatArray:
        """Return ``m(t)``."""
        seasonal = 1.0 + self.amplitude * np.cos(_OMEGA * (t - self.phase))
        return self._trend(t) * seasonal * self._shift(t)

    def max_level(self) -> float:
        """Return an upper bound of ``m`` over ``[0, inf)`` (the thinning envelope)."""
        trend = max(1.0, 1.0 + self.trend_per_day * self.horizon)
        return (1.0 + self.amplitude) * trend * max(1.0, 1.0 + self.shift)

    def _cumulative_within(self, t: FloatArray) -> FloatArray:
        """``M(t) = integral of m over [0, t]`` for ``0 <= t <= horizon``."""
        beta, amp = self.trend_per_day, self.amplitude

        def antiderivative(u: FloatArray) -> FloatArray:
            angle = _OMEGA * (u - self.phase)
            seasonal = (1.0 + beta * u) * np.sin(angle) / _OMEGA + beta * np.cos(angle) / _OMEGA**2
            return u + beta * u * u / 2.0 + amp * seasonal

        return antiderivative(t) - antiderivative(np.zeros_like(t))

    def cumulative(self, t: FloatArray) -> FloatArray:
        """Return ``M(t) = integral of m over [0, t]`` for ``t >= 0`` (exact, closed form).

        The shift multiplies the unshifted integral's increase after its start by ``1 + shift``.
        """
        t = np.asarray(t, dtype=np.float64)
        unshifted = self._unshifted_cumulative(t)
        if self.shift == 0.0:
            return unshifted
        at_start = self._unshifted_cumulative(np.array(self.shift_start))
        return unshifted + self.shift * np.maximum(unshifted - at_start, 0.0)

    def _unshifted_cumulative(self, t: FloatArray) -> FloatArray:
        h = np.array(self.horizon)
        within = self._cumulative_within(np.minimum(t, h))
        extra = np.maximum(t - h, 0.0)
        seasonal = np.sin(_OMEGA * (h + extra - self.phase)) - np.sin(_OMEGA * (h - self.phase))
        after = self._trend(h) * (extra + self.amplitude * seasonal / _OMEGA)
        return within + after

    def time_after_horizon(self, exposure: FloatArray) -> FloatArray:
        """Return ``t >= horizon`` with ``M(t) - M(horizon) = exposure`` (exposure >= 0).

        After the horizon ``M`` grows like ``g * (u + amplitude * (sin(...) - sin(...)) / omega)``;
        the seasonal term is bounded by ``2 * amplitude / omega``, which brackets the root for a
        vectorised bisection (60 halvings: far below a second of precision).
        """
        after = float(self._trend(np.array(self.horizon))) * (1.0 + self.shift)  # shift_start <= H
        target = np.asarray(exposure, dtype=np.float64) / after
        if self.amplitude == 0.0:
            return self.horizon + target
        slack = 2.0 * self.amplitude / _OMEGA
        lo = np.maximum(target - slack, 0.0)
        hi = target + slack
        base = np.sin(_OMEGA * (self.horizon - self.phase))
        for _ in range(_BISECTION_STEPS):
            mid = (lo + hi) / 2.0
            value = (
                mid
                + self.amplitude
                * (np.sin(_OMEGA * (self.horizon + mid - self.phase)) - base)
                / _OMEGA
            )
            below = value < target
            lo = np.where(below, mid, lo)
            hi = np.where(below, hi, mid)
        return self.horizon + (lo + hi) / 2.0


SETTINGS_KEY = "winback.simulation"
"""Key of ``truth.attrs`` holding the settings ``simulate`` used (read back by the oracle)."""


def curve_from_params(params: dict[str, object]) -> tuple[pd.Timestamp, pd.Timestamp, RateCurve]:
    """Return ``(start, end_exclusive, curve)`` from the settings stored by ``simulate``."""
    start = pd.Timestamp(params["start"])
    end_exclusive = pd.Timestamp(params["end"]) + pd.Timedelta(days=1)
    curve = RateCurve.from_settings(
        start=start,
        horizon_days=(end_exclusive - start).days,
        seasonality=float(params["seasonality"]),
        seasonality_peak_day=float(params["seasonality_peak_day"]),
        trend=float(params["trend"]),
        level_shift=float(params.get("level_shift", 0.0)),
        level_shift_day=_days_after(start, params.get("level_shift_date")),
    )
    return start, end_exclusive, curve


def _days_after(start: pd.Timestamp, day: object) -> float:
    """Days from ``start`` to ``day`` (0 when there is no day)."""
    return 0.0 if day is None else float((pd.Timestamp(day) - start).days)
