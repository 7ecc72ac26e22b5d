"""The trusted gradient checker: the graded tests use this one, never the learner's.

Central differences ``(f(x + h) - f(x - h)) / 2h`` with a step chosen per
coordinate from the dtype and scale of ``x``: ``h = eps**(1/3) * max(1, |x_i|)``
balances the truncation error (about h**2 * f''') against rounding (about
eps * |f| / h). The step is applied in ``x``'s own dtype and the step actually
taken, ``(x + h) - (x - h)``, is what we divide by, so float32 works (the fixed
steps of torch's gradcheck and scipy's check_grad fail there).

Errors are relative, with a floor: a component is judged against
``max(|a_i| + |b_i|, floor * max_j(|a_j| + |b_j|))``, so a component that is
tiny next to the rest of the gradient is not held to a relative precision the
arithmetic cannot give it.

``check_directional`` compares directional derivatives along a few random
unit vectors instead: two function calls per direction, whatever the size of x.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Optional, Tuple

import numpy as np

Function = Callable[[np.ndarray], Any]


def default_step(x: np.ndarray) -> np.ndarray:
    """The per-coordinate step: the cube root of the dtype's epsilon, times max(1, |x_i|)."""
    dtype = x.dtype if np.issubdtype(x.dtype, np.floating) else np.dtype(np.float64)
    return np.cbrt(np.finfo(dtype).eps) * np.maximum(1.0, np.abs(x.astype(np.float64)))


def default_tolerance(dtype: Any) -> float:
    """How close a correct gradient gets at the default step: about eps**(2/3), with room."""
    dtype = np.dtype(dtype) if np.issubdtype(np.dtype(dtype), np.floating) else np.dtype(float)
    return float(100 * np.finfo(dtype).eps ** (2 / 3))


def numerical_gradient(f: Function, x: Any, step: Optional[float] = None) -> np.ndarray:
    """Central-difference gradient of scalar ``f`` at ``x`` (any shape), as float64.

    ``x`` is not modified: the differences are taken on a copy in x's dtype.
    """
    base = np.array(x, dtype=x.dtype if isinstance(x, np.ndarray) and
                    np.issubdtype(x.dtype, np.floating) else np.float64)
    work = base.copy()
    steps = default_step(base) if step is None else np.full(base.shape, float(step))
    grad = np.zeros(base.shape, dtype=np.float64)
    for ix in np.ndindex(base.shape):
        old = work[ix]
        work[ix] = old + steps[ix]
        plus_point = work[ix]
        f_plus = float(f(work))
        work[ix] = old - steps[ix]
        minus_point = work[ix]
        f_minus = float(f(work))
        work[ix] = old  # restore
        taken = float(plus_point) - float(minus_point)  # the step really taken, after rounding
        grad[ix] = (f_plus - f_minus) / taken
    return grad


def relative_errors(a: Any, b: Any, floor: float = 1e-3) -> np.ndarray:
    """Elementwise ``|a - b| / max(|a| + |b|, floor * max(|a| + |b|), tiny)``."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    size = np.abs(a) + np.abs(b)
    scale = float(np.max(size)) if size.size else 0.0
    denominator = np.maximum(size, max(floor * scale, np.finfo(np.float64).tiny))
    return np.abs(a - b) / denominator


@dataclass
class Report:
    """The outcome of a gradient check, with the worst coordinate."""

    ok: bool
    error: float
    tolerance: float
    index: Tuple[int, ...]
    numeric: float
    analytic: float
    mode: str = "coordinates"

    def __bool__(self) -> bool:
        return self.ok

    def __str__(self) -> str:
        verdict = "matches" if self.ok else "does not match"
        where = f"at index {list(self.index)}" if self.mode == "coordinates" else (
            f"along random direction {self.index[0]}")
        return (f"the gradient {verdict} the numerical one: worst {where}, "
                f"numerical {self.numeric:.10g} vs analytic {self.analytic:.10g} "
                f"(relative error {self.error:.2e}, tolerance {self.tolerance:.1e})")


def check(f: Function, grad: Any, x: Any, *, tolerance: Optional[float] = None,
          step: Optional[float] = None) -> Report:
    """Compare ``grad`` (an array, or a function of x) with the central-difference gradient."""
    x = np.asarray(x)
    analytic = np.asarray(grad(x.copy()) if callable(grad) else grad, dtype=np.float64)
    numeric = numerical_gradient(f, x, step)
    if analytic.shape != numeric.shape:
        raise ValueError(f"the gradient has shape {analytic.shape}, x has shape {numeric.shape}")
    tol = default_tolerance(x.dtype) if tolerance is None else tolerance
    errors = relative_errors(numeric, analytic)
    index: Tuple[int, ...] = ()
    if errors.size:
        index = tuple(int(i) for i in np.unravel_index(int(np.argmax(errors)), errors.shape))
    worst = float(errors[index]) if errors.size else 0.0
    return Report(worst <= tol, worst, tol, index,
                  float(numeric[index]) if numeric.size else 0.0,
                  float(analytic[index]) if analytic.size else 0.0)


def check_directional(f: Function, grad: Any, x: Any, *, directions: int = 4, seed: int = 0,
                      tolerance: Optional[float] = None) -> Report:
    """Compare directional derivatives along random unit vectors (2 calls of f each).

    For a gradient of thousands of parameters this costs ``2 * directions``
    evaluations of f instead of two per parameter. The error of each direction
    is judged against the gradient's norm, as the rounding of f is.
    """
    x = np.asarray(x, dtype=np.float64) if not (
        isinstance(x, np.ndarray) and np.issubdtype(x.dtype, np.floating)) else x
    analytic = np.asarray(grad(x.copy()) if callable(grad) else grad, dtype=np.float64)
    rng = np.random.default_rng(seed)
    scale = max(1.0, float(np.max(np.abs(x)))) if x.size else 1.0
    h = float(np.cbrt(np.finfo(x.dtype).eps)) * scale
    norm = float(np.linalg.norm(analytic))
    tol = default_tolerance(x.dtype) if tolerance is None else tolerance
    worst = (0.0, 0, 0.0, 0.0)
    for k in range(directions):
        v = rng.standard_normal(x.shape)
        v /= np.linalg.norm(v) or 1.0
        plus = (x + h * v).astype(x.dtype)
        minus = (x - h * v).astype(x.dtype)
        numeric = (float(f(plus)) - float(f(minus))) / (2 * h)
        along = float(np.sum(analytic * v))
        error = abs(numeric - along) / max(abs(numeric) + abs(along), norm, 1e-300)
        if error >= worst[0]:
            worst = (error, k, numeric, along)
    return Report(worst[0] <= tol, worst[0], tol, (worst[1],), worst[2], worst[3], "directions")
