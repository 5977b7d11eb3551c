"""Scoring on a Dask cluster: the same scores, rejects and summary as scoring here."""

from __future__ import annotations

import pandas as pd
import pytest
from distributed import get_task_stream

from winback.scoring import ScoringConfig, score

pytestmark = pytest.mark.xdist_group("dask")


def test_chunks_scored_on_workers_equal_a_local_run(model, frames, as_of, client):
    kwargs = {
        "as_of": as_of,
        "events": frames["events"],
        "customers": frames["customers"],
        "actions": "configs/actions.yaml",
        "config": ScoringConfig(chunk_size=97),
    }
    here = score(model, frames["orders"], **kwargs)
    with get_task_stream(client) as stream:
        there = score(model, frames["orders"], **kwargs, client=client)
    pd.testing.assert_frame_equal(here.scores, there.scores)
    pd.testing.assert_frame_equal(here.rejects, there.rejects)
    assert here.summary == there.summary
    # every chunk was scored by a worker task; more chunks than the in-flight window of 4
    chunks = -(-len(here.scores) // 97)
    tasks = [t for t in stream.data if t["key"].startswith("score_chunk")]
    assert chunks > 4
    assert len(tasks) == chunks
