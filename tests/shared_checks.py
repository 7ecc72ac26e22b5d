"""Checks shared by the graded test files of the step exercises (loop_gradients,
vectorized, numeric_gradients): hypothesis arrays on a grid of thousandths, and
messages for losses, settled parameters and plain failures.

Not a test file: the graded files import it (pytest puts tests/ on sys.path).
"""

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from gradkata.verdict import expect_close, expect_true, show


def fail(message, call):
    """Report a learner's mistake: ``message``, under the call that showed it."""
    expect_true(False, message, call=call)


def thousandths(shape, bound=3):
    """Arrays of ``shape`` with entries in [-bound, bound] to three decimals, as float64.

    Drawn as integers (cheaper for hypothesis than floats) and divided by 1000.
    """
    limit = int(bound * 1000)
    return arrays(np.int16, shape, elements=st.integers(-limit, limit)).map(lambda a: a / 1000)


def expect_losses(got, want, call, hint):
    """Compare several returned losses with the expected ones at once.

    Together, so that a factor common to all of them (a sum where the mean
    belongs) is named and any other difference is not read as one. Each must be
    a single number.
    """
    for value in got:
        if isinstance(value, (bool, np.bool_)) or not isinstance(
                value, (int, float, np.integer, np.floating)):
            found = (f"an array of shape {value.shape}" if isinstance(value, np.ndarray)
                     else f"a {type(value).__name__}")
            fail(f"It returned {show(value)}, {found}, but the tests expected a single number "
                 "(one float for the whole data set).", call=call)
    expect_close(np.array(got, dtype=float), np.array(want), rtol=1e-12, what="the losses",
                 call=call, hint=hint)


def expect_settled(theta, target, atol, call, hint):
    """Fail unless every parameter ended within atol of target (where the steps should settle)."""
    gap = float(np.max(np.abs(np.asarray(theta, dtype=float) - target)))
    if not gap <= atol:
        fail(f"The parameters ended at {show(theta)}, but the tests expected {show(target)} to "
             f"within {atol:g} (the largest gap is {gap:.3g}). {hint}", call)
