"""What the benchmarks share: a call's run times, peak memory, and writing their result file.

Results go to ``bench/results/*.json``, files of the repository (committed, rewritten by every
run): :func:`write_result` writes them atomically, without winback's rule that an output path
must hold nothing winback did not write (:func:`winback.io.check_replaceable`), since a fresh
clone has the committed files but not the record of who wrote them."""

from __future__ import annotations

import json
import os
import resource
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
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


def write_result(result: Any, path: str | os.PathLike[str]) -> Path:
    """Write ``result`` as indented, key-sorted JSON to ``path``, atomically (temp + rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(result, indent=2, sort_keys=True, default=str) + "\n")
    os.replace(tmp, path)
    return path
