"""The conventions the graded suite fixes, checked against an instructor's reference.

Most expected values come from the reference (``solutions/``), so an instructor
may rewrite it freely. A few tests also check closed forms, and those fix a
convention: which loss each function descends. docs/instructors.md states them.
A reference that follows another one (``backward`` on the full MSE, 2/N, instead
of half of it) would fail those tests on every correct submission; the plugin
checks the reference first and stops the run with one message per broken
convention instead (:func:`broken`).

Each check calls the reference on one tiny case whose answer is worked out in
its comment: x = [1, 2], y = x (one feature, one output, N = 2), from w = b = 0,
learning rate 1. The errors y_hat - y are then -1 and -2.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, List, Tuple

import numpy as np

X = np.array([[1.0], [2.0]])


@dataclass(frozen=True)
class Convention:
    exercise: str
    function: str
    statement: str  # as docs/instructors.md states it
    expected: Tuple[float, ...]  # what the tiny case gives under the convention
    call: Callable[[Any], Any]  # the reference module -> its answer on the tiny case


def _zeros(dtype: Any = np.float64) -> np.ndarray:
    return np.zeros((1, 1), dtype=dtype)


CONVENTIONS: List[Convention] = [
    # MSE (1/N) sum (y - y_hat)^2: dL/dw = (2/N) sum (y_hat - y) x = (2/2)(-1 - 4) = -5,
    # dL/db = (2/2)(-1 - 2) = -3, so one step of rate 1 lands on (5, 3).
    Convention("loop_gradients", "calculate_gradients",
               "calculate_gradients steps on the MSE (1/N) sum (y - y_hat)^2 (slopes with 2/N)",
               (5.0, 3.0),
               lambda m: m.calculate_gradients(X[:, 0], X[:, 0], 0.0, 0.0, 1.0, 2)),
    # mean of (y_hat - y)^2 = (1 + 4) / 2
    Convention("vectorized", "calculate_loss",
               "calculate_loss is the MSE, the mean of (y_hat - y)^2 over all entries",
               (2.5,), lambda m: m.calculate_loss(X, np.zeros_like(X))),
    # half the MSE, 1/(2N): dL/dw = x.T (y_hat - y) / N = -5/2, dL/db = -3/2
    Convention("vectorized", "backward",
               "backward descends half the MSE, (1/(2N)) sum (y_hat - y)^2, so its slopes "
               "divide by N and carry no factor 2",
               (2.5, 1.5),
               lambda m: m.backward(X, np.zeros_like(X), _zeros(), _zeros(), X, 1.0)),
    # the targets 3x = [3, 6] at W = b = 0: (9 + 36) / 2
    Convention("numeric_gradients", "feed_forward",
               "feed_forward is the MSE, the mean of (prediction - outputs)^2",
               (22.5,),
               lambda m: m.feed_forward(X, 3 * X, [_zeros(np.float32), _zeros(np.float32)])),
]


def _numbers(value: Any) -> Tuple[float, ...]:
    if isinstance(value, (tuple, list)):
        return tuple(float(np.asarray(v, dtype=float).ravel()[0]) for v in value)
    return (float(np.asarray(value, dtype=float).ravel()[0]),)


def broken(exercise: str, reference: Any) -> List[str]:
    """One sentence per convention of ``exercise`` that ``reference`` does not follow."""
    found = []
    for convention in CONVENTIONS:
        if convention.exercise != exercise:
            continue
        try:
            got = _numbers(convention.call(reference))
            holds = np.allclose(got, convention.expected, rtol=1e-9, atol=1e-12)
            shown = ", ".join(f"{g:g}" for g in got)
        except Exception as exc:  # noqa: BLE001 - a reference that cannot run the case
            holds, shown = False, f"an error ({type(exc).__name__}: {exc})"
        if not holds:
            expected = ", ".join(f"{e:g}" for e in convention.expected)
            found.append(
                f"solutions/{exercise}.py does not follow a convention the graded suite fixes: "
                f"{convention.statement}. On x = [1, 2], y = x from zero it gives {shown}, "
                f"the convention gives {expected}. Change the reference back, or the tests "
                "that state the convention (docs/instructors.md, \"Swapping in a reference\").")
    return found
