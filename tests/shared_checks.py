"""Checks shared by the graded test files: random data seeded by hypothesis, arrays
on a grid of thousandths, and messages for losses, settled parameters and plain
failures.

Not a test file: the graded files import it (pytest puts tests/ on sys.path).
"""

import math

import numpy as np
from hypothesis import strategies as st

from gradkata.verdict import expect_close, expect_true, show


def fail(message, call):
    """Report a learner's mistake: ``message``, under the call that showed it."""
    expect_true(False, message, call=call)


# What hypothesis draws for the data of an example: one seed for a numpy Generator.
# Drawing every array element through hypothesis costs it ten times more than the
# test itself, and the suite runs after every edit; one integer an example keeps
# the examples random, the same on every run, and cheap.
seeds = st.integers(0, 2**32 - 1)


def generator(draw):
    """A numpy Generator for one example, from a seed drawn with ``draw``
    (a composite's ``draw`` or ``data.draw``)."""
    return np.random.default_rng(draw(seeds))


def pick(rng, options):
    """One of ``options`` (as it is, not as a numpy scalar), chosen with ``rng``."""
    return options[int(rng.integers(len(options)))]


def thousandths(rng, shape, bound=3):
    """A float64 array of ``shape`` with entries in [-bound, bound] to three decimals.

    On that grid every input is exact in binary to the last digit a message shows.
    """
    limit = int(bound * 1000)
    return rng.integers(-limit, limit + 1, size=shape) / 1000


def best_fixed_rate(eigenvalues, distance, tolerance):
    """Gradient descent's best fixed learning rate on a quadratic whose Hessian has
    these eigenvalues (ascending), 2 / (lambda_min + lambda_max), and the steps it
    needs to take an error of size ``distance`` below ``tolerance``: each step
    shrinks every error mode by at least q = (kappa - 1)/(kappa + 1). Below the
    critical rate 2 / lambda_max, so every step also lowers the loss."""
    low, high = eigenvalues[0], eigenvalues[-1]
    q = (high - low) / (high + low)
    return 2 / (low + high), math.ceil(math.log(tolerance / distance) / math.log(q))


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
