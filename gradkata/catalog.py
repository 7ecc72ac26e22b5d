"""The six exercises, in the order a learner takes them.

This is the one place that names them: the pytest plugin, the score table,
the class grader and the CLI all read it. To add an exercise, add a row here,
write the marked reference ``solutions/<name>.py`` and generate its stub
``exercises/<name>.py`` from it (``python -m gradkata.authoring``), a graded
test file ``tests/test_<name>.py`` and its hints in ``gradkata/hints.toml``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional, Tuple


@dataclass(frozen=True)
class Exercise:
    number: int
    name: str  # module name, in exercises/ and solutions/
    title: str
    seed: str  # the story it retells, in a few words a learner can follow (no file names)
    functions: Tuple[str, ...]  # in the order a learner should write them
    points: int  # what its graded tests add up to


EXERCISES: Tuple[Exercise, ...] = (
    Exercise(
        1,
        "single_neuron",
        "One neuron, one sample, gradients by the chain rule",
        "a two-input neuron learns one sample, step by step",
        ("y_hat", "gradient_w1", "gradient_w2", "gradient_b", "adapt_weights"),
        15,
    ),
    Exercise(
        2,
        "loop_gradients",
        "A full-batch step, one sample at a time",
        "ten noise-free points of a line, fitted from zero",
        ("calculate_gradients",),
        15,
    ),
    Exercise(
        3,
        "vectorized",
        "Forward, loss and backward with matrices",
        "ten samples of five features, a little noise",
        ("forward", "calculate_loss", "backward"),
        20,
    ),
    Exercise(
        4,
        "numeric_gradients",
        "Gradients by nudging each weight (finite differences)",
        "y = 3x in float32: creep, oscillate, blow up, freeze",
        ("feed_forward", "update_weights"),
        15,
    ),
    Exercise(
        5,
        "gradient_check",
        "Your own gradient checker",
        "the checker behind this kata's own tests",
        ("numerical_gradient", "relative_error", "check_gradient"),
        20,
    ),
    Exercise(
        6,
        "learning_rate",
        "When does gradient descent converge?",
        "why lr = 0.1 oscillates and lr = 1 blows up on y = 3x",
        ("critical_learning_rate", "classify_learning_rate"),
        15,
    ),
)

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


def exercise_of_test_file(path: Path) -> Optional[str]:
    """The exercise a test file grades by its name, or None."""
    stem = Path(path).stem
    if not stem.startswith("test_"):
        return None
    rest = stem[len("test_"):]
    for name in sorted(NAMES, key=len, reverse=True):  # the longest name that fits
        if rest == name or rest.startswith(name + "_"):
            return name
    return None
