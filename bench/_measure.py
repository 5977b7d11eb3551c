"""What several benchmarks measure the same way: a call's run times, and peak memory."""

from __future__ import annotations

import resource
import sys
import time
import warnings
from collections.abc import Callable
from typing import Any

from winback.exceptions import RejectedRowsWarning


def timed_runs(call: Callable[[], Any], repeats: int) -> tuple[list[float], Any]:
    """Run ``call`` ``repeats`` times (the data gate's RejectedRowsWarning silenced: the
    benchmarks' data have rejects on purpose); return the seconds of each run and the last
    result."""
    times, result = [], None
    for _ in range(repeats):
        started = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RejectedRowsWarning)
            result = call()
        times.append(time.perf_counter() - started)
    return times, result


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far, in MB (10^6 bytes; Linux reports KiB,
    macOS bytes)."""
    scale = 1 if sys.platform == "darwin" else 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / 1e6
