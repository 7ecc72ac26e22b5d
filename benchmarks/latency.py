"""How long a learner waits for ``pytest``, next to the least a pytest run can cost.

Times the whole graded suite on solutions/ (``pytest --impl solutions -q -p
no:cacheprovider``, the learner's default hypothesis profile) against a trivial
pytest run: one hypothesis test of 50 examples with a plain ``assert`` on
integers, written to a temporary folder. Both run in this one process, by
``pytest.main`` called again and again with output suppressed, interleaved
(graded, trivial, graded, ...) so that a busy moment of the machine hits both,
after one warm-up run of each. Prints the medians and their ratio.

Target: the graded suite costs at most 2.0 times the trivial run.

    python benchmarks/latency.py [--rounds N] [--strict]

``--strict`` exits 1 when the target is missed.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable, List, Sequence

import pytest

ROOT = Path(__file__).resolve().parents[1]
TARGET = 2.0

TRIVIAL_TEST = '''\
from hypothesis import given, settings, strategies as st


@settings(max_examples=50, database=None, deadline=None)
@given(st.integers(), st.integers())
def test_addition_commutes(a, b):
    assert a + b == b + a
'''


def quiet_pytest(args: Sequence[str], cwd: Path) -> int:
    """``pytest.main(args)`` run in ``cwd`` with everything it prints thrown away."""
    sink = io.StringIO()
    here = os.getcwd()
    os.chdir(cwd)
    try:
        with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
            return int(pytest.main(list(args)))
    finally:
        os.chdir(here)


def timed(run: Callable[[], int], expect: int, label: str) -> float:
    started = time.perf_counter()
    code = run()
    seconds = time.perf_counter() - started
    if code != expect:
        raise SystemExit(f"latency: the {label} run ended with status {code}, not {expect}")
    return seconds


def main(argv: Sequence[str] = ()) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9, help="timed runs of each (default 9)")
    parser.add_argument("--strict", action="store_true", help="exit 1 when the target is missed")
    options = parser.parse_args(list(argv))

    os.environ.pop("GRADKATA_IMPL", None)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "test_trivial.py").write_text(TRIVIAL_TEST)
        (folder / "pytest.ini").write_text("[pytest]\n")  # keeps the kata's config out
        trivial_args = ["-q", "-p", "no:cacheprovider", "-c", str(folder / "pytest.ini"),
                        str(folder / "test_trivial.py")]
        graded_args = ["--impl", "solutions", "-q", "-p", "no:cacheprovider"]

        def graded() -> int:
            return quiet_pytest(graded_args, ROOT)

        def trivial() -> int:
            return quiet_pytest(trivial_args, folder)

        timed(graded, 0, "graded")  # warm-up: imports, the sandbox's fork server
        timed(trivial, 0, "trivial")
        graded_times: List[float] = []
        trivial_times: List[float] = []
        for _ in range(options.rounds):
            graded_times.append(timed(graded, 0, "graded"))
            trivial_times.append(timed(trivial, 0, "trivial"))

    g = statistics.median(graded_times)
    t = statistics.median(trivial_times)
    ratio = g / t
    met = ratio <= TARGET
    print(f"graded suite on solutions/: median {g * 1000:.0f} ms "
          f"(min {min(graded_times) * 1000:.0f}, max {max(graded_times) * 1000:.0f}) "
          f"over {options.rounds} runs")
    print(f"trivial run (one 50-example hypothesis test): median {t * 1000:.0f} ms "
          f"(min {min(trivial_times) * 1000:.0f}, max {max(trivial_times) * 1000:.0f})")
    print(f"ratio {ratio:.2f} (target at most {TARGET:.1f}): {'met' if met else 'NOT met'}")
    return 1 if options.strict and not met else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
