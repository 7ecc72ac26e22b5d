"""How long a learner waits for ``pytest``, next to the least a pytest run can cost.

Times the whole graded suite on solutions/ (``pytest --impl solutions -q -p
no:cacheprovider``, the learner's default hypothesis profile) against a trivial
pytest run: one hypothesis test of 50 examples with a plain ``assert`` on
integers, written to a temporary folder. Both run in this one process, by
``pytest.main`` called again and again with output suppressed, interleaved
(graded, trivial, graded, ...) so that a busy moment of the machine hits both,
after one warm-up run of each. Prints the medians and their ratio.

Target: the graded suite costs at most 2.0 times the trivial run.

    python benchmarks/latency.py [--rounds N] [--strict] [--phases] [--floor] [--commands]

``--strict`` exits 1 when the target is missed. ``--phases`` also prints where
each run's time goes (start-up, collection, the tests, the end), as medians,
from pytest's own hooks. ``--floor`` also times, interleaved with the others,
a run of as many empty tests as the graded suite has: what pytest alone costs
for that many tests, before any of them checks anything. ``--commands`` also
times both as whole ``python -m pytest`` commands, interleaved, imports and
start-up included: what a learner waits at the prompt.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple

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

EMPTY_TEST = """
def test_nothing_{}():
    pass
"""


class Phases:
    """A pytest plugin noting when each phase of a run begins, and how many tests
    the run collected."""

    NAMES = ("start-up", "configuration", "collection", "the tests", "the end")

    def __init__(self) -> None:
        self.marks: List[float] = []
        self.collected = 0

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self.collected = len(session.items)

    @pytest.hookimpl(tryfirst=True)
    def pytest_configure(self) -> None:
        self.marks.append(time.perf_counter())

    @pytest.hookimpl(tryfirst=True)
    def pytest_collection(self) -> None:
        self.marks.append(time.perf_counter())

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtestloop(self) -> None:
        self.marks.append(time.perf_counter())

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self) -> None:
        self.marks.append(time.perf_counter())


def quiet_pytest(args: Sequence[str], cwd: Path, phases: Dict[str, List[float]],
                 collected: Optional[List[int]] = None) -> int:
    """``pytest.main(args)`` run in ``cwd`` with everything it prints thrown away;
    each phase's milliseconds are appended to ``phases``, and the number of tests
    collected to ``collected`` if given."""
    sink = io.StringIO()
    here = os.getcwd()
    os.chdir(cwd)
    marks = Phases()
    try:
        with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
            started = time.perf_counter()
            code = int(pytest.main(list(args), plugins=[marks]))
            ended = time.perf_counter()
    finally:
        os.chdir(here)
    if collected is not None:
        collected.append(marks.collected)
    points: List[float] = [started, *marks.marks, ended]
    if len(points) == len(Phases.NAMES) + 1:
        for name, (a, b) in zip(Phases.NAMES, zip(points, points[1:])):
            phases.setdefault(name, []).append((b - a) * 1000)
    return code


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
    parser.add_argument("--phases", action="store_true",
                        help="also print where the time goes, phase by phase")
    parser.add_argument("--floor", action="store_true",
                        help="also time as many empty tests as the graded suite has")
    parser.add_argument("--commands", action="store_true",
                        help="also time both as whole commands, start-up included")
    options = parser.parse_args(list(argv))

    os.environ.pop("GRADKATA_IMPL", None)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "test_trivial.py").write_text(TRIVIAL_TEST)
        (folder / "pytest.ini").write_text("[pytest]\n")  # keeps the kata's config out
        trivial_args = ["-q", "-p", "no:cacheprovider", "-c", str(folder / "pytest.ini"),
                        str(folder / "test_trivial.py")]
        graded_args = ["--impl", "solutions", "-q", "-p", "no:cacheprovider"]

        graded_phases: Dict[str, List[float]] = {}
        trivial_phases: Dict[str, List[float]] = {}
        floor_phases: Dict[str, List[float]] = {}

        def graded() -> int:
            return quiet_pytest(graded_args, ROOT, graded_phases)

        def trivial() -> int:
            return quiet_pytest(trivial_args, folder, trivial_phases)

        # As many empty tests as the graded suite has: counted in its warm-up run.
        floor_args = [*trivial_args[:-1], str(folder / "test_empty.py")]

        def floor() -> int:
            return quiet_pytest(floor_args, folder, floor_phases)

        collected: List[int] = []
        # warm-up: imports, the sandbox's fork server
        timed(lambda: quiet_pytest(graded_args, ROOT, graded_phases, collected), 0, "graded")
        timed(trivial, 0, "trivial")
        count = collected[0]
        if options.floor:
            (folder / "test_empty.py").write_text(
                "".join(EMPTY_TEST.format(i) for i in range(count)))
            timed(floor, 0, "floor")
        graded_phases.clear()
        trivial_phases.clear()
        floor_phases.clear()
        graded_times: List[float] = []
        trivial_times: List[float] = []
        floor_times: List[float] = []
        for _ in range(options.rounds):
            graded_times.append(timed(graded, 0, "graded"))
            trivial_times.append(timed(trivial, 0, "trivial"))
            if options.floor:
                floor_times.append(timed(floor, 0, "floor"))
        commands: Tuple[List[float], List[float]] = ([], [])
        if options.commands:
            for _ in range(options.rounds):
                commands[0].append(timed(lambda: command(graded_args, ROOT), 0, "graded command"))
                commands[1].append(timed(lambda: command(trivial_args, folder), 0,
                                         "trivial command"))

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
    if options.commands:
        whole_graded, whole_trivial = (statistics.median(times) for times in commands)
        print(f"as whole commands (python -m pytest, start-up included): graded median "
              f"{whole_graded * 1000:.0f} ms, trivial {whole_trivial * 1000:.0f} ms, "
              f"ratio {whole_graded / whole_trivial:.2f}")
    if options.floor:
        f = statistics.median(floor_times)
        print(f"{count} empty tests: median {f * 1000:.0f} ms, "
              f"{f / t:.2f} times the trivial run")
    if options.phases:
        print("median milliseconds per phase:   graded  trivial" + ("    empty" if options.floor
                                                                     else ""))
        rows: List[Tuple[str, float, float, float]] = [
            (name, statistics.median(graded_phases.get(name, [0.0])),
             statistics.median(trivial_phases.get(name, [0.0])),
             statistics.median(floor_phases.get(name, [0.0]))) for name in Phases.NAMES]
        for name, gm, tm, fm in rows:
            print(f"  {name:<30}{gm:8.1f} {tm:8.1f}" + (f" {fm:8.1f}" if options.floor else ""))
    return 1 if options.strict and not met else 0


def command(args: Sequence[str], cwd: Path) -> int:
    """``python -m pytest args`` as a new process in ``cwd``, its output thrown away."""
    return subprocess.run([sys.executable, "-m", "pytest", *args], cwd=cwd,
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
