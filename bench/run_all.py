"""Run every benchmark in bench/ one after another (each writes bench/results/<name>.json).

Usage: ``python bench/run_all.py [name ...]`` (names like ``features``; default: all).
Benchmarks run sequentially, never in parallel, because the machine has two cores.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).parent


def main(argv: list[str]) -> int:
    scripts = sorted(HERE.glob("bench_*.py"))
    if argv:
        scripts = [s for s in scripts if s.stem.removeprefix("bench_") in argv]
    failed = []
    for script in scripts:
        start = time.perf_counter()
        print(f"== {script.name}", flush=True)
        code = subprocess.call([sys.executable, str(script)])
        print(f"== {script.name}: exit {code} in {time.perf_counter() - start:.1f} s", flush=True)
        if code:
            failed.append(script.name)
    if failed:
        print("failed:", ", ".join(failed))
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
