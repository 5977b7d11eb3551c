"""Bundled real data (CDNOW) and a simulator of customer bases with known latent truth."""

from winback.datasets._cdnow import load_cdnow
from winback.datasets._oracle import alive_at, oracle_purchase_probability
from winback.datasets._simulate import Simulation, SimulationSettings, simulate

__all__ = [
    "Simulation",
    "SimulationSettings",
    "alive_at",
    "load_cdnow",
    "oracle_purchase_probability",
    "simulate",
]
