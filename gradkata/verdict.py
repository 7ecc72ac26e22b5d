"""Compare what a learner's function returned with what was expected, and say why it differs.

Every failed comparison raises :class:`Mistake` with a message in three parts:
what was called, what came back against what was expected, and, when the
numbers show a recognisable pattern (a factor 2, a flipped sign, a step that
ignores the learning rate, a transposed or broadcast shape), what that suggests.
"""

from __future__ import annotations

from typing import Any, Dict, Optional, Sequence

import numpy as np


class Mistake(AssertionError):
    """A learner's function ran but gave a wrong answer."""

    status = "failed"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# --------------------------------------------------------------------------
# Showing values


def show(value: Any, limit: int = 8) -> str:
    """A short, readable rendering of a value for a learner's message."""
    if isinstance(value, (bool, np.bool_)):
        return repr(bool(value))
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        return f"{float(value):.10g}" if isinstance(value, (float, np.floating)) else str(value)
    if isinstance(value, np.ndarray):
        dtype = f", dtype={value.dtype}" if value.dtype != np.float64 else ""
        if value.size <= limit:
            # Written out by hand: np.array2string costs more than a learner's call,
            # and messages are built on every check.
            return f"array({_nested(value.tolist())}{dtype})"
        flat = ", ".join(f"{v:.6g}" for v in value.ravel()[:4])
        return f"<array of shape {value.shape}{dtype}: {flat}, ...>"
    if isinstance(value, (list, tuple)):
        inner = ", ".join(show(v, limit) for v in value)
        if isinstance(value, list):
            return f"[{inner}]"
        return f"({inner}{',' if len(value) == 1 else ''})"
    if callable(value):
        return getattr(value, "__name__", "a function")
    return repr(value)


def _nested(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_nested(v) for v in value) + "]"
    if isinstance(value, float):
        text = f"{value:.8g}"
        return text if any(c in text for c in ".enai") else text + ".0"
    return repr(value)


def describe_call(name: str, arguments: Sequence[tuple]) -> str:
    """``module.func(a=..., b=...)`` from (parameter name or None, value) pairs."""
    parts = [show(v) if k is None else f"{k}={show(v)}" for k, v in arguments]
    return f"{name}({', '.join(parts)})"


def call_text(call: Any) -> str:
    """The call's description: a string, or a remote function's last call."""
    return getattr(call, "last_call", None) or str(call)


# --------------------------------------------------------------------------
# Recognising patterns


def constant_ratio(got: Any, want: Any) -> Optional[float]:
    """The c with got == c * want elementwise (to 0.1 %), if there is one and it is not 1."""
    g = np.asarray(got, dtype=float).ravel()
    w = np.asarray(want, dtype=float).ravel()
    if g.shape != w.shape or not np.all(np.isfinite(g)) or not np.all(np.isfinite(w)):
        return None
    scale = np.max(np.abs(w)) if w.size else 0.0
    if scale == 0:
        return None
    big = np.abs(w) > 1e-9 * scale
    ratios = g[big] / w[big]
    c = float(np.median(ratios))
    if abs(c - 1.0) < 1e-2:
        return None  # a near miss, not a pattern
    tolerance = 1e-3 * abs(c) + 1e-9
    if np.all(np.abs(ratios - c) <= tolerance) and np.all(
        np.abs(g[~big]) <= 1e-6 * max(1.0, abs(c)) * scale
    ):
        return c
    return None


def _near(c: float, target: float) -> bool:
    return abs(c - target) <= 1e-3 * max(1.0, abs(target))


def fraction(c: float) -> str:
    """``c`` as a simple fraction when it is one (1/13, -3/4, 2), else to 6 digits."""
    for q in range(1, 33):
        p = round(c * q)
        if p and abs(c * q - p) <= 1e-6 * max(1.0, abs(p)):
            return str(p) if q == 1 else f"{p}/{q} ({c:.6g})"
    return f"{c:.6g}"


def explain_ratio(c: float, *, step: bool, lr: Optional[float] = None,
                  factors: Optional[Dict[float, str]] = None, part: str = "",
                  causes: Optional[Dict[str, str]] = None) -> str:
    """What a constant ratio between the answer and the expected one suggests.

    ``part`` names the one returned parameter the ratio was read from (``b_next``), when the
    answer has several: a parameter that did not move is then named, not all of them.
    ``causes`` holds the exercise's own likely causes of a factor, keyed ``"twice"``,
    ``"half"`` and ``"factor"`` (any other constant): only the function under test knows
    whether it has an N, a square to differentiate or a step h, so without them no cause
    is offered.
    """
    for value, text in (factors or {}).items():
        if _near(c, value):
            return text
    causes = causes or {}
    noun = "step (the change from the starting value)" if step else "value"
    if _near(c, 0.0):
        if step and part:
            return (f"{part} did not move: it came back as it was passed in. Is its update "
                    "applied (parameter - learning_rate * gradient) and returned?")
        return ("Nothing moved: the parameters came back unchanged. Is the update applied "
                "(w - learning_rate * gradient) and returned?" if step
                else "Your answer is 0 where the expected value is not.")
    if _near(c, 2.0):
        return (f"Your {noun} is exactly twice the expected one: a stray factor 2."
                + (f" Possible causes: {causes['twice']}" if "twice" in causes else ""))
    if _near(c, 0.5):
        return (f"Your {noun} is exactly half the expected one: a factor 2 is missing or "
                "one division by 2 too many."
                + (f" Possible causes: {causes['half']}" if "half" in causes else ""))
    if _near(c, -1.0):
        return (f"Your {noun} is the expected one with its sign flipped: check (y_hat - y) "
                "against (y - y_hat)" + (", and that the step goes downhill: "
                                         "w - lr * gradient." if step else "."))
    if step and lr is not None and lr != 1 and _near(c, 1.0 / lr):
        return ("Your step equals the gradient itself: the learning rate was not used. "
                "The step is learning_rate * gradient.")
    if step and lr is not None and lr != 1 and _near(c, -1.0 / lr):
        return ("Your step is minus the expected one over the learning rate: what came back "
                "looks like the gradient itself, not the parameters after the step.")
    if step and lr is not None and lr != 1 and _near(c, lr):
        return "Your step is multiplied by the learning rate twice."
    return (f"Your {noun} is exactly {fraction(c)} times the expected one: a constant factor."
            + (f" Possible causes: {causes['factor']}" if "factor" in causes else ""))


def _known_ratio(c: float, lr: Optional[float], factors: Optional[Dict[float, str]]) -> bool:
    known = [0.0, 2.0, 0.5, -1.0, *(factors or {})]
    if lr is not None and lr not in (0, 1):
        known += [1.0 / lr, -1.0 / lr, lr]
    return any(_near(c, k) for k in known)


def _shape_note(got_shape: tuple, want_shape: tuple) -> str:
    if want_shape == () and got_shape in ((1,), (1, 1)):
        return " A single number was expected: return float(...) rather than a 1-element array."
    if (len(got_shape) == len(want_shape) == 2 and want_shape[0] == 1 and got_shape[0] > 1
            and got_shape[1] == want_shape[1]):
        return (f" It has {got_shape[0]} rows where one was expected: the sum over the "
                "samples (the rows) is missing, or was taken over another axis. Sum over the "
                "samples' axis and keep it, with length 1.")
    if len(got_shape) == len(want_shape) and got_shape == tuple(reversed(want_shape)):
        return " It looks transposed: check the order of the factors in a matrix product."
    try:
        both = np.broadcast_shapes(got_shape, want_shape)
    except ValueError:
        return ""
    if got_shape and want_shape and both != want_shape and both == got_shape:
        return (f" Shapes {got_shape} and {want_shape}: somewhere an (N,) array met an "
                "(N, 1) one and broadcast into an N x N table, or a sum lost keepdims. Keep "
                "the shapes of the docstring (reshape, or keepdims=True).")
    return ""


# --------------------------------------------------------------------------
# Comparisons


def _as_number_array(value: Any) -> Optional[np.ndarray]:
    if value is None or isinstance(value, (str, bytes, dict)):
        return None
    try:
        arr = np.asarray(value)
    except Exception:  # noqa: BLE001 - ragged lists and the like
        return None
    if arr.dtype.kind not in "biuf":
        return None
    return arr


def _cap(text: str) -> str:
    """Start a sentence with ``text``; a name such as w_next is left as it is."""
    return text[:1].upper() + text[1:] if text.startswith("the ") else text


def _kind(value: Any) -> str:
    if value is None:
        return "None (is there a `return` statement?)"
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape}"
    return f"a {type(value).__name__}"


class _Head:
    def __init__(self, call: Any) -> None:
        self.call = call

    def __format__(self, spec: str) -> str:
        return f"Called {call_text(self.call)}.\n"


def expect_close(got: Any, want: Any, *, call: Any, what: str = "the result",
                 rtol: float = 1e-9, atol: float = 1e-12, start: Any = None,
                 lr: Optional[float] = None, hint: str = "",
                 parts: Optional[Sequence[str]] = None,
                 factors: Optional[Dict[float, str]] = None,
                 dtype: Any = None, causes: Optional[Dict[str, str]] = None,
                 _part: bool = False) -> None:
    """Raise a :class:`Mistake` unless ``got`` matches ``want``.

    ``want`` may be a number, an array, or a tuple/list of them (``parts``
    names the elements). Numbers match when ``|got - want| <= atol + rtol*|want|``
    elementwise. With ``start`` (the parameters before a step), patterns are
    read off the steps ``got - start`` and ``want - start``, and ``lr`` lets
    the message recognise an ignored learning rate. ``dtype``, when given, is
    the dtype the returned arrays must keep. ``causes`` are the exercise's likely causes
    of a factor (see :func:`explain_ratio`).
    """
    if isinstance(want, (tuple, list)):
        if not isinstance(got, (tuple, list)) or len(got) != len(want):
            raise Mistake(
                f"Called {call_text(call)}.\nIt returned {_kind(got)}, but the tests expected "
                f"{len(want)} values ({', '.join(parts or [])}) as a "
                f"{type(want).__name__}.{(' ' + hint) if hint else ''}"
            )
        names = list(parts or [f"{what}[{i}]" for i in range(len(want))])
        starts = list(start) if start is not None else [None] * len(want)
        for g, w, name, s in zip(got, want, names, starts):
            expect_close(g, w, call=call, what=name, rtol=rtol, atol=atol, start=s, lr=lr,
                         hint=hint, factors=factors, dtype=dtype, causes=causes, _part=True)
        return
    arr = _as_number_array(got)
    want_arr = np.asarray(want)
    head = _Head(call)  # the call is written out only if a message needs it
    tail = f"\n{hint}" if hint else ""
    if arr is None:
        raise Mistake(f"{head}{_cap(what)} came back as {_kind(got)}, but the tests expected "
                      f"{show(want)}.{tail}")
    if arr.shape != want_arr.shape:
        note = _shape_note(arr.shape, want_arr.shape)
        if arr.T.shape == want_arr.shape and np.allclose(arr.T, want_arr, rtol=rtol, atol=atol):
            note = " It is the expected value, transposed: check the order of a matrix product."
        raise Mistake(f"{head}{_cap(what)} has shape {arr.shape}, but the tests expected shape "
                      f"{want_arr.shape}.{note}{tail}")
    g = arr.astype(float)
    w = want_arr.astype(float)
    with np.errstate(invalid="ignore", over="ignore"):
        bad = ~(np.abs(g - w) <= atol + rtol * np.abs(w))
    if dtype is not None and arr.dtype != np.dtype(dtype):
        # The hint speaks of wrong values: with the values right, only the dtype is at fault.
        raise Mistake(f"{head}{_cap(what)} has dtype {arr.dtype}, but the tests expected "
                      f"{np.dtype(dtype)}, as the docstring says."
                      + (" Its values are right." if not np.any(bad) else tail))
    if not np.any(bad):
        return
    message = f"{head}{_cap(what)} came back as {show(got)}, but the tests expected {show(want)}"
    if arr.ndim:
        where = np.unravel_index(int(np.argmax(np.where(bad, np.abs(g - w), -1))), arr.shape)
        message += f" (the largest difference is at index {[int(i) for i in where]})"
    message += "."
    if (arr.dtype.kind == "f" and want_arr.dtype.kind == "f"
            and np.finfo(arr.dtype).eps > np.finfo(want_arr.dtype).eps):
        # Named only when the precision explains the difference: within 1000 rounding
        # steps of the lower precision (a float32 answer can be right where it is expected).
        with np.errstate(invalid="ignore", over="ignore"):
            rounding = np.all(np.abs(g - w) <= 1e3 * np.finfo(arr.dtype).eps * (1 + np.abs(w)))
        if rounding:
            message += (f" It is {arr.dtype} and agrees only to {arr.dtype}'s precision (about "
                        f"{np.finfo(arr.dtype).precision} significant digits): somewhere a "
                        f"working copy or a result changed dtype to {arr.dtype}.")
    if not np.all(np.isfinite(g)):
        message += (" Your answer holds nan or inf: an overflow (a step that is too big) "
                    "or a division by zero?")
    else:
        steps = (g, w)
        if start is not None:
            steps = (g - np.asarray(start, float), w - np.asarray(start, float))
        if (steps[0].ndim == 2 and steps[0].shape[0] == steps[0].shape[1] > 1
                and np.allclose(steps[0].T, steps[1], rtol=max(rtol, 1e-6), atol=atol)):
            noun = "step (the change from the starting value)" if start is not None else "value"
            raise Mistake(message + f" Your {noun} is the expected one transposed: check the "
                          "order of the factors in a matrix product." + tail)
        c = constant_ratio(*steps)
        if c is not None and g.size == 1 and not _known_ratio(c, lr, factors):
            c = None  # any two numbers have a ratio: for one number, name only known ones
        if c is not None:
            message += " " + explain_ratio(c, step=start is not None, lr=lr, factors=factors,
                                           part=what if _part else "", causes=causes)
    raise Mistake(message + tail)


# What a learner's exception means, for the few whose own words point away from the cause:
# (exception type, words in its message, what they mean here).
_EXCEPTION_NOTES = (
    ("ValueError", "truth value of an array",
     "Python was asked for one True or False about a whole array, which numpy refuses: a "
     "Python max or min, or an if, and or or, met an array. Work elementwise instead (numpy's "
     "np.maximum compares two arrays entry by entry)."),
    *(("UnboundLocalError", words,
       "A name your function assigns to anywhere is local to the whole function, so reading "
       "it before that assignment fails. If the name is also a function's you meant to call "
       "(say y_hat), the assignment hides that function everywhere in your function: give "
       "the variable another name.")
      # Python 3.11 and later, then 3.9 and 3.10.
      for words in ("cannot access local variable", "referenced before assignment")),
)


def exception_note(exc_type: str, text: str) -> str:
    """What a learner's exception means in the kata's words ('' when it speaks for itself)."""
    for kind, words, note in _EXCEPTION_NOTES:
        if exc_type == kind and words in text:
            return note
    return ""


def expect_true(condition: bool, message: str, *, call: Any = None) -> None:
    """Raise a :class:`Mistake` with ``message`` unless ``condition`` holds."""
    if not condition:
        head = f"Called {call_text(call)}.\n" if call is not None else ""
        raise Mistake(head + message)


def modified(before: Any, after: Any) -> Optional[str]:
    """How ``after`` differs from ``before`` beyond rounding, or None if it does not.

    Float arrays may differ by a few units in the last place (x + h - h), not more.
    """
    if isinstance(before, np.ndarray):
        after_arr = np.asarray(after)
        if after_arr.shape != before.shape:
            return f"its shape changed from {before.shape} to {after_arr.shape}"
        if before.dtype.kind == "f":
            scale = max(1.0, float(np.max(np.abs(before)))) if before.size else 1.0
            tol = 4 * np.finfo(before.dtype).eps * scale
            diff = np.abs(after_arr.astype(float) - before.astype(float))
            if not np.all(diff <= tol):
                at = tuple(int(i) for i in np.unravel_index(
                    int(np.nanargmax(np.where(np.isnan(diff), np.inf, diff))), before.shape))
                return (f"it changed by {float(diff[at]):.3g} at index {list(at)} "
                        f"(from {show(before[at])} to {show(after_arr[at])})")
            return None
        return None if np.array_equal(before, after_arr) else "its values changed"
    if isinstance(before, (list, tuple)) and isinstance(after, (list, tuple)):
        if len(before) != len(after):
            return f"its length changed from {len(before)} to {len(after)}"
        for i, (b, a) in enumerate(zip(before, after)):
            change = modified(b, a)
            if change:
                return f"element [{i}]: {change}"
        return None
    try:
        same = bool(np.all(np.asarray(before) == np.asarray(after)))
    except Exception:  # noqa: BLE001
        same = False
    return None if same else "its value changed"
