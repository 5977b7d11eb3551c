"""Bundled real data (CDNOW), the walkthrough's demo files, and a simulator with known truth."""

from winback.datasets._cdnow import load_cdnow
from winback.datasets._demo import DEMO_FORMAT, DemoFiles, demo_customers, write_demo
from winback.datasets._oracle import alive_at, oracle_purchase_probability
from winback.datasets._simulate import Simulation, SimulationSettings, simulate

__all__ = [
    "DEMO_FORMAT",
    "DemoFiles",
    "Simulation",
    "SimulationSettings",
    "alive_at",
    "demo_customers",
    "load_cdnow",
    "oracle_purchase_probability",
    "simulate",
    "write_demo",
]
