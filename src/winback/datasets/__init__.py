"""Bundled real data (CDNOW) and a simulator of customer bases with known latent truth."""

from winback.datasets._cdnow import load_cdnow

__all__ = ["load_cdnow"]
