"""LightGBM predictions that threads sharing one model can make at the same time.

LightGBM keeps the iteration range of a prediction on the booster itself (``GBDT::InitPredict``
sets the first and the number of trees used, under a shared lock only), so two threads that
predict with the same booster and different ranges read each other's: a full prediction next to
the per-tree TreeSHAP calls of :mod:`winback.models._treeshap` then uses one tree. That happens
when a Dask worker runs several scoring tasks in threads with one copy of the model. Every
prediction winback makes from a booster goes through :func:`booster_predict`, one at a time per
booster.
"""

from __future__ import annotations

import threading
import weakref
from typing import Any

import lightgbm as lgb
import numpy as np

__all__ = ["booster_predict"]

_LOCKS: weakref.WeakKeyDictionary[lgb.Booster, threading.Lock] = weakref.WeakKeyDictionary()
_LOCKS_LOCK = threading.Lock()


def booster_predict(booster: lgb.Booster, data: Any, **options: Any) -> np.ndarray:
    """``booster.predict(data, **options)``, never at the same time as another on ``booster``."""
    with _LOCKS_LOCK:
        lock = _LOCKS.setdefault(booster, threading.Lock())
    with lock:
        return booster.predict(data, **options)
