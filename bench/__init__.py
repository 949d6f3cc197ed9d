"""The benchmark: `bench/run.py` (see docs/benchmarks.md). Not part of the test run."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
RESULTS = BENCH / "results"


class BenchError(Exception):
    """The benchmark could not run."""
