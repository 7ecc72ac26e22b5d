"""Points: from test outcomes to a score table and Gradescope's results.json.

The score is derived from outcomes only: a test earns its points when it
passed, nothing otherwise, and the total is the sum of the tests' scores.
"""

from __future__ import annotations

import enum
import json
from dataclasses import asdict, dataclass, field
from typing import Any, Dict, Iterable, List, Optional

from .catalog import EXERCISES
from .output import cut

# Who sees a test's result on Gradescope (their autograder specification):
# ``hidden`` never the student, ``after_due_date`` / ``after_published`` the
# student later, ``visible`` (the default) at once. The plugin's marker sets it.
VISIBILITIES = ("hidden", "after_due_date", "after_published", "visible")


class _Text(str, enum.Enum):
    """An enum whose members are their strings: equal to them, printed and written
    to JSON as them (the values of results files stay the words they always were)."""

    def __str__(self) -> str:
        return str(self.value)

    def __format__(self, spec: str) -> str:
        return format(str(self.value), spec)


class Status(_Text):
    """A graded test's outcome."""

    PASSED = "passed"
    FAILED = "failed"
    NOT_STARTED = "not started"  # the learner's function still raises NotImplementedError
    SKIPPED = "skipped"
    NOT_RUN = "not run"
    GRADER_ERROR = "grader error"  # the grader could not run the learner's code


class State(_Text):
    """An exercise's standing, from its tests' outcomes."""

    DONE = "done"
    IN_PROGRESS = "in progress"
    NOT_STARTED = "not started"
    NO_TESTS = "no tests"


@dataclass
class TestResult:
    """One graded test's outcome."""

    nodeid: str
    name: str
    exercise: str
    points: float
    status: Status = Status.NOT_RUN
    message: str = ""
    output: str = ""  # what the learner's code printed
    duration: float = 0.0
    visibility: str = "visible"  # one of VISIBILITIES
    function: str = ""  # not started: the learner's function it needs written, when known

    def __post_init__(self) -> None:
        self.status = Status(self.status)  # read back from JSON: a string

    @property
    def earned(self) -> float:
        return self.points if self.status == Status.PASSED else 0.0


@dataclass
class ExerciseScore:
    number: int
    name: str
    earned: float = 0.0
    possible: float = 0.0
    passed: int = 0
    failed: int = 0
    not_started: int = 0
    other: int = 0
    # The test to work on next: the first that failed (code that is written but
    # wrong comes before code still to write), else the first that did not pass.
    first_problem: Optional[TestResult] = field(default=None, repr=False)

    @property
    def tests(self) -> int:
        return self.passed + self.failed + self.not_started + self.other

    @property
    def state(self) -> State:
        if self.tests == 0:
            return State.NO_TESTS
        if self.passed == self.tests:
            return State.DONE
        if self.not_started == self.tests:
            return State.NOT_STARTED
        return State.IN_PROGRESS


def by_exercise(results: Iterable[TestResult]) -> List[ExerciseScore]:
    """Per-exercise scores, in the catalog's order, then any other exercise seen."""
    rows: Dict[str, ExerciseScore] = {
        e.name: ExerciseScore(e.number, e.name) for e in EXERCISES
    }
    for r in results:
        row = rows.setdefault(r.exercise, ExerciseScore(len(rows) + 1, r.exercise))
        row.possible += r.points
        row.earned += r.earned
        if r.status == Status.PASSED:
            row.passed += 1
        else:
            if r.status == Status.FAILED:
                row.failed += 1
            elif r.status == Status.NOT_STARTED:
                row.not_started += 1
            else:
                row.other += 1
            if row.first_problem is None or (r.status == Status.FAILED
                                             and row.first_problem.status != Status.FAILED):
                row.first_problem = r
    return [row for row in rows.values() if row.tests]


def _num(x: float) -> str:
    return f"{x:g}"


def bar(fraction: float, width: int = 20) -> str:
    """A text progress bar: ``[#####.....]``."""
    filled = int(round(max(0.0, min(1.0, fraction)) * width))
    return "[" + "#" * filled + "." * (width - filled) + "]"


def table(rows: List[ExerciseScore]) -> List[str]:
    """The score table as lines of text."""
    lines = [f"{'exercise':<22}{'points':>9}  {'passed':>6} {'failed':>6} {'not started':>11}"]
    for row in rows:
        label = f"{row.number} {row.name}"
        points = f"{_num(row.earned)}/{_num(row.possible)}"
        extra = f"  ({row.other} other)" if row.other else ""
        lines.append(f"{label:<22}{points:>9}  {row.passed:>6} {row.failed:>6} "
                     f"{row.not_started:>11}{extra}")
    earned = sum(r.earned for r in rows)
    possible = sum(r.possible for r in rows)
    lines.append(f"{'total':<22}{_num(earned) + '/' + _num(possible):>9}  "
                 f"{bar(earned / possible if possible else 0.0)}")
    return lines


def next_step(rows: List[ExerciseScore], folder_label: str) -> str:
    """One clear next step for the learner."""
    for row in rows:
        problem = row.first_problem
        if problem is None:
            continue
        if problem.status == Status.NOT_STARTED:
            first_line = problem.message.splitlines()[0] if problem.message else ""
            return (f"Next: {row.name} ({folder_label}{row.name}.py). {first_line.rstrip('.')}. "
                    f"For a hint: gradkata hint {row.name}").strip()
        return (f"Next: {row.name}: fix {problem.name} (its message is above). "
                f"For a hint: gradkata hint {row.name}")
    return "Every exercise passes. Well done."


# --------------------------------------------------------------------------
# Gradescope


def _exercise_number(name: str) -> int:
    return next((e.number for e in EXERCISES if e.name == name), 0)


def hidden_message(r: TestResult) -> str:
    """All a hidden test's entry says: which exercise failed, or nothing when it passed.

    Hidden tests hold what an instructor keeps secret (private inputs and expected
    values): no message, and nothing the learner's code printed (it could echo the
    inputs)."""
    if r.status == Status.PASSED:
        return ""
    return f"A hidden test of exercise {_exercise_number(r.exercise)} ({r.exercise}) failed."


def _test_output(r: TestResult) -> str:
    """What a test's entry in results.json says below its name."""
    if r.visibility == "hidden":
        return hidden_message(r)
    output = r.message if r.status != Status.PASSED else ""
    if r.status == Status.NOT_STARTED:
        output = output or "not started"
    if r.output:
        output += "\n\nWhat your code printed:\n" + r.output
    return cut(output.strip())


def gradescope_results(results: List[TestResult], execution_time: float,
                       visibility: str = "visible", header: str = "") -> Dict[str, Any]:
    """Gradescope's results.json as a dict (their autograder specification).

    The top-level ``output`` is shown to the student at once: its score table
    counts the visible tests only, and says how many others there are, so that
    no hidden test's name, message or outcome shows through it.
    """
    tests = []
    seen: Dict[str, int] = {}
    hidden_seen: Dict[str, int] = {}
    for r in results:
        seen[r.exercise] = seen.get(r.exercise, 0) + 1
        name = f"{r.exercise}: {r.name}"
        if r.visibility == "hidden":
            # A private test's name may describe its secret input.
            hidden_seen[r.exercise] = hidden_seen.get(r.exercise, 0) + 1
            name = f"{r.exercise}: hidden test {hidden_seen[r.exercise]}"
        tests.append({
            "name": name,
            "number": f"{_exercise_number(r.exercise)}.{seen[r.exercise]}",
            "score": r.earned,
            "max_score": r.points,
            "status": "passed" if r.status == Status.PASSED else "failed",
            "output": _test_output(r),
            "visibility": r.visibility,
            "tags": [r.exercise],
        })
    shown = [r for r in results if r.visibility == "visible"]
    lines = ([header] if header else []) + (table(by_exercise(shown)) if shown else [])
    later = len(results) - len(shown)
    if later:
        noun = "test is" if later == 1 else "tests are"
        lines.append(f"{later} more {noun} graded but not shown here: your instructor "
                     "shows them later, or keeps them hidden.")
    return {
        "score": sum(t["score"] for t in tests),
        "execution_time": round(execution_time, 3),
        "output": "\n".join(lines),
        "visibility": visibility,
        "stdout_visibility": "hidden",
        "tests": tests,
    }


def write_gradescope(path: str, results: List[TestResult], execution_time: float,
                     header: str = "") -> None:
    with open(path, "w", encoding="utf-8") as out:
        json.dump(gradescope_results(results, execution_time, header=header), out, indent=2)
        out.write("\n")


def results_from_json(data: Dict[str, Any]) -> List[TestResult]:
    """Read back the per-test results that :func:`write_raw` saved."""
    return [TestResult(**item) for item in data["results"]]


def raw(results: List[TestResult]) -> Dict[str, Any]:
    return {"results": [asdict(r) for r in results]}
