"""The six exercises, in the order a learner takes them, read from ``gradkata/kata.toml``.

That file is the one place that names them and holds their facts (title,
story, functions, each graded test's points) and their hints, as rustlings'
info.toml does; the pytest plugin, the score table, the class grader, the hints
and the CLI all read them here. An exercise's total is the sum of its tests'
points, never written. To add an exercise, add a table there (its comments say
what else to write).

Tests that are not the kata's own (an instructor's private tests) take their
points from a ``points.toml`` in their own folder (:func:`read_points_file`), so
that the learners' copy of the catalog never names them.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Tuple

from .tomlfile import tomllib


@dataclass(frozen=True)
class Exercise:
    number: int
    name: str  # module name, in exercises/ and solutions/
    title: str
    seed: str  # its story: what it retells, in a few words a learner can follow (no file names)
    functions: Tuple[str, ...]  # in the order a learner should write them
    # each graded test's points, by test function name (left out of the hash: a dict)
    tests: Mapping[str, int] = field(hash=False)

    @property
    def points(self) -> int:
        """What its graded tests add up to."""
        return sum(self.tests.values())


CATALOG_FILE = "kata.toml"
POINTS_FILE = "points.toml"  # the points of tests in a folder other than the kata's tests/


class BadPoints(Exception):
    """A catalog's points table that is not a table of whole numbers of points."""


def points_table(table: Any, where: str) -> Dict[str, int]:
    """``table`` (test name -> points) checked: whole, positive numbers; ``where``
    names it in the error."""
    if not isinstance(table, dict):
        raise BadPoints(f"{where} must be a table of test names and their points")
    for name, value in table.items():
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise BadPoints(f"{where}: {name} = {value!r}, but points are whole numbers above 0")
    return dict(table)


def read_points_file(path: Path) -> Dict[str, Dict[str, int]]:
    """A ``points.toml``: one table per exercise, each test's name and points::

        [vectorized]
        test_forward_on_an_unseen_batch = 5
    """
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise BadPoints(f"{path} could not be read: {exc}") from None
    return {str(exercise): points_table(table, f"{path} [{exercise}]")
            for exercise, table in data.items()}


def _read() -> Tuple[Tuple[Exercise, ...], Dict[str, Tuple[str, ...]]]:
    """The exercises and their hints, from the kata's catalog file."""
    text = resources.files("gradkata").joinpath(CATALOG_FILE).read_text(encoding="utf-8")
    rows = tomllib.loads(text)["exercise"]
    exercises = tuple(
        Exercise(int(row["number"]), str(row["name"]), str(row["title"]), str(row["story"]),
                 tuple(str(f) for f in row["functions"]),
                 points_table(row.get("points", {}), f"{CATALOG_FILE} [{row['name']}.points]"))
        for row in rows)
    hints = {str(row["name"]): tuple(str(h).strip() for h in row.get("hints", ()))
             for row in rows}
    return exercises, hints


EXERCISES, HINTS = _read()
TOTAL_POINTS = sum(e.points for e in EXERCISES)
NAMES: Tuple[str, ...] = tuple(e.name for e in EXERCISES)


def find(name: str) -> Optional[Exercise]:
    """The exercise called ``name`` (its module name or its number), or None."""
    for exercise in EXERCISES:
        if name in (exercise.name, str(exercise.number)):
            return exercise
    return None


# The naming rule of graded test files: tests/test_<name>.py, and any
# tests/test_<name>_<more>.py, grade the exercise <name> (a test may also say
# which it grades with the marker exercise(name)).


def test_files(tests: Path, name: str) -> List[Path]:
    """The graded test files of exercise ``name`` in the folder ``tests``: test_<name>.py
    first, then test_<name>_*.py in order; only those that exist."""
    files = [tests / f"test_{name}.py"] + sorted(tests.glob(f"test_{name}_*.py"))
    return [f for f in files if f.is_file()]


@functools.cache
def exercise_of_test_file(path: Path) -> Optional[str]:
    """The exercise a test file grades by its name, or None (asked about every
    test, several times in each run: kept)."""
    stem = Path(path).stem
    if not stem.startswith("test_"):
        return None
    rest = stem[len("test_"):]
    for name in sorted(NAMES, key=len, reverse=True):  # the longest name that fits
        if rest == name or rest.startswith(name + "_"):
            return name
    return None
