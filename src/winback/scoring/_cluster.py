"""Scoring chunks on a Dask cluster's workers, in order, with a bounded number in flight."""

from __future__ import annotations

import collections
import logging
from collections.abc import Callable, Iterator
from typing import Any

import pandas as pd

from winback.models import WinbackModel
from winback.scoring._chunks import Chunk

__all__ = ["score_on_cluster"]

logger = logging.getLogger(__name__)


def score_on_cluster(
    client: Any,
    score_chunk: Callable[[WinbackModel, Chunk], tuple[pd.DataFrame, Any]],
    model: WinbackModel,
    chunks: Iterator[Chunk],
) -> Iterator[tuple[pd.DataFrame, Any]]:
    """Yield ``score_chunk(model, chunk)`` per chunk, in order, computed on ``client``'s workers.

    The model is broadcast once; chunks are submitted as results come back, at most two per
    worker at a time, so the driver never holds more than that many chunks besides its inputs.
    """
    shared = client.scatter(model, broadcast=True)
    window = 2 * max(len(client.scheduler_info().get("workers", {})), 1)
    pending: collections.deque = collections.deque()
    for chunk in chunks:
        pending.append(client.submit(score_chunk, shared, chunk, pure=False))
        if len(pending) >= window:
            yield pending.popleft().result()
    while pending:
        yield pending.popleft().result()
