"""Functions the judge hands to learner code, run in the learner's worker.

``numerical_gradient(f, x)`` calls ``f`` dozens of times. A Python function of
the judge's would cost a round trip through the pipe per call, so the tests
pass a :class:`Probe` instead: the name of one of the functions below, with
its parameters. The worker has this module (the fork server loads it before
any learner module exists), looks the function up by name and calls it there.
A recording probe also keeps a copy of every point it is called at; the
points come back with the call's result.

Trusted code: it imports only numpy, is loaded before the learner's module and
is never imported by it (the sandbox refuses ``import gradkata``). Every public
function takes the point ``z`` first and its parameters by keyword.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, List

import numpy as np


def sum_of_squares(z: Any) -> float:
    """sum(z**2)"""
    return float(np.sum(z**2))


def half_sum_of_squares(z: Any) -> float:
    """sum(z**2) / 2, whose gradient is z"""
    return float(0.5 * np.sum(z**2))


_TERMS: Dict[str, Callable[[Any], Any]] = {"cube": lambda v: v**3, "sin": np.sin, "exp": np.exp}


def sum_in_float64(z: Any, of: str = "cube") -> float:
    """sum(of(z)) for of in cube, sin, exp, computed in float64 whatever z's dtype"""
    return float(np.sum(_TERMS[of](np.asarray(z, dtype=np.float64))))


def cubes_failing_off(z: Any, at: int, x: Any) -> float:
    """sum(z**3) in float64, but raises ValueError where element ``at`` (flat index)
    of z differs from that of ``x``: a function that fails part-way through a gradient"""
    if np.ravel(z)[at] != np.ravel(x)[at]:
        raise ValueError(f"f cannot be evaluated with element {at} moved")
    return sum_in_float64(z)


def sum_of_exp(z: Any) -> float:
    """sum(exp(z))"""
    return float(np.sum(np.exp(z)))


def scaled_exp(z: Any, c: Any = 1.0) -> Any:
    """exp(z) * c (c a number or an array of z's shape): exp(z) is sum_of_exp's gradient"""
    return np.exp(z) * c


def sum_of_cubes_over_3_plus_z(z: Any) -> float:
    """sum(z**3 / 3 + z)"""
    return float(np.sum(z**3 / 3 + z))


def squares_plus_1(z: Any) -> Any:
    """z**2 + 1, the gradient of sum_of_cubes_over_3_plus_z"""
    return z**2 + 1


def three_squares(z: Any) -> Any:
    """3 * z**2, the gradient of sum(z**3)"""
    return 3 * z**2


def scaled(z: Any, c: float = 1.0) -> Any:
    """c * z"""
    return c * z


def quadratic(z: Any, a: Any, b: Any, in_float64: bool = False) -> float:
    """v.A v / 2 + b.v for v = z flattened (converted to float64 first if in_float64)"""
    v = np.ravel(z)
    if in_float64:
        v = v.astype(np.float64)
    return float(0.5 * v @ a @ v + b @ v)


def quadratic_gradient(z: Any, a: Any, b: Any) -> Any:
    """A v + b in z's shape, the gradient of quadratic for a symmetric A"""
    return (a @ np.ravel(z) + b).reshape(np.shape(z))


FUNCTIONS: Dict[str, Callable[..., Any]] = {
    name: value for name, value in list(globals().items())
    if callable(value) and not name.startswith("_") and getattr(value, "__module__", "") == __name__
    and not isinstance(value, type)
}


class Probe:
    """A function of this module, named with its parameters, to hand to learner code.

    ``Probe("scaled_exp", c=2.0)`` stands for ``lambda z: scaled_exp(z, c=2.0)``.
    The judge may call it too (it runs here then). ``Probe(..., record=True)``
    records: each call the learner's code makes in the worker is kept in
    :attr:`points` (a copy of ``z`` as it was passed) once the call returns.
    """

    def __init__(self, name: str, record: bool = False, **params: Any) -> None:
        if name not in FUNCTIONS:
            raise ValueError(f"gradkata.probes has no function {name!r}")
        self.name = name
        self.params = params
        self.record = record
        self.points: List[Any] = []
        shown = ", ".join(f"{k}={v!r}" for k, v in params.items() if np.ndim(v) == 0)
        self.__name__ = f"{name}({shown})" if shown else name

    def recording(self) -> Probe:
        """A fresh probe of the same function that records the points it is called at."""
        return Probe(self.name, record=True, **self.params)

    def __call__(self, z: Any) -> Any:
        if self.record:
            z = np.array(z, copy=True)
            self.points.append(z)
        return FUNCTIONS[self.name](z, **self.params)

    def __repr__(self) -> str:
        return self.__name__
