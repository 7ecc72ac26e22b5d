"""Exercise 5, gradient_check: the learner's own gradient checker, judged by closed forms.

For f = sum(x**3) the central difference is exactly 3x^2 + eps^2 while the
forward difference is 3x^2 + 3x*eps + eps^2, so with a large eps and values
on a grid of quarters (where every sum and cube is exact in binary) the
formula a learner used can be read off the numbers. Every call also checks
that x came back unchanged (the learner fixture does that by itself).
"""

import math

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from shared_checks import seeds, thousandths

from gradkata.probes import Probe
from gradkata.sandbox import LearnerError
from gradkata.verdict import constant_ratio, expect_close, expect_true, show

# A step, and points on a grid of quarters, for which every number below is exact in binary.
EPS = 0.5
GRID_1D = np.array([1.0, -2.0, 0.25, 0.0])
GRID_2D = np.array([[0.5, -1.0, 1.5], [2.0, -0.25, 0.75]])
GRID_3D = np.array([[[1.0, -0.5], [0.25, 2.0]], [[-1.5, 0.0], [0.75, -2.0]]])

# What a constant ratio between a numerical gradient and the expected one suggests.
RATIOS = {
    2.0: "Your values are exactly twice the expected ones: divide by 2*eps, the distance "
         "between x - eps and x + eps, not by eps.",
    0.5: "Your values are exactly half the expected ones: divide by 2*eps, not by 4*eps "
         "or by (2*eps)**2.",
    1.0: "Your values are close to the expected ones, but further off than rounding allows.",
}



def shape_of(rng, most):
    """A random shape of 1 to 3 dimensions, sides 1 to 3, at most ``most`` elements."""
    while True:
        shape = tuple(int(side) for side in rng.integers(1, 4, size=rng.integers(1, 4)))
        if math.prod(shape) <= most:
            return shape


def moderate(rng, shape):
    """x for the tests below: values in [-2, 2] to three decimals."""
    return thousandths(rng, shape, bound=2)

# Separable test functions f(x) = sum(term(x)): the term and its elementwise derivative.
TERMS = {
    "square": (lambda v: v**2, lambda v: 2 * v),
    "cube": (lambda v: v**3, lambda v: 3 * v**2),
    "sin": (np.sin, np.cos),
    "exp": (np.exp, np.exp),
}


# The functions handed to the learner's code are probes, functions of gradkata.probes
# named with their parameters: the learner's process runs them itself, a recording
# one brings back the points it was called at (see gradkata.probes).
# f(x) = sum(x**3), evaluated in float64 whatever x's dtype.
cubes = Probe("sum_in_float64", of="cube")


def central_cubes(x, eps):
    """The central difference of sum(x**3), a closed form:
    ((x + eps)**3 - (x - eps)**3) / (2*eps) = 3x^2 + eps^2."""
    x = np.asarray(x, dtype=np.float64)
    return 3 * x**2 + eps**2


def wrong_formulas(kind, x, eps):
    """The usual wrong answers for f = sum(term(x)), each with what it suggests: the forward
    and backward differences with this eps, and the central difference with eps = 1e-5."""
    term, derivative = TERMS[kind]
    v = np.asarray(x, dtype=np.float64)
    central = "Take the central one: (f(x + eps) - f(x - eps)) / (2*eps)."
    return [
        ((term(v + eps) - term(v)) / eps,
         f"Your values are the forward difference (f(x + eps) - f(x)) / eps. {central}"),
        ((term(v) - term(v - eps)) / eps,
         f"Your values are the backward difference (f(x) - f(x - eps)) / eps. {central}"),
        ((term(v + 1e-5) - term(v - 1e-5)) / 2e-5 if kind in ("square", "cube") else derivative(v),
         f"Your values are the central difference with eps = 1e-5, not with the eps you were "
         f"given ({eps:g}): use the eps argument."),
    ]


def notes(got, want, wrong, hint, rtol=1e-6, atol=1e-9):
    """factors= and hint= for expect_close: name the wrong formula `got` matches, if any.

    When the answer is a constant multiple of the expected one (as the forward
    difference of exp is), the formula is named instead of a bare ratio.
    """
    try:
        g = np.asarray(got, dtype=np.float64)
    except (TypeError, ValueError):
        return RATIOS, hint
    for values, text in wrong:
        if g.shape == values.shape and np.all(np.abs(g - values) <= atol + rtol * np.abs(values)):
            ratio = constant_ratio(got, want)
            return ({ratio: text}, hint) if ratio is not None else (RATIOS, text)
    return RATIOS, hint


def scalar_factors(got, want, factors):
    """`factors`, plus a silent entry for any other ratio between two single numbers.

    Two numbers always have a constant ratio, so for a single number only the
    ratios listed mean something; the rest would be named "a constant factor".
    """
    try:
        ratio = float(got) / float(want)
    except (TypeError, ValueError, ZeroDivisionError, OverflowError):
        return factors
    if not math.isfinite(ratio) or any(abs(ratio - k) <= 1e-3 * max(1.0, abs(k)) for k in factors):
        return factors
    return {**factors, ratio: "That value fits no simple slip: see the formula below."}


def perturbation_problem(points, x0, eps):
    """What is wrong with the points f was called at, or None.

    Central differences call f exactly twice per element of x, each time at x
    with that one element moved by +eps or by -eps (up to rounding in x's dtype).
    """
    n = x0.size
    if len(points) != 2 * n:
        text = (f"f was called {len(points)} times, but central differences call it twice per "
                f"element, {2 * n} times for x of shape {x0.shape}: at x + eps*e_i and at "
                "x - eps*e_i for every index i.")
        if len(points) == n + 1:
            text += " One call per element plus one more is the forward difference's pattern."
        return text
    slack = 8 * np.finfo(x0.dtype).eps * (1.0 + float(np.max(np.abs(x0))) + eps)
    seen = {}
    for k, point in enumerate(points, 1):
        if point.shape != x0.shape:
            return (f"Call {k} of f received an array of shape {point.shape}, but x has shape "
                    f"{x0.shape}: call f on x itself, in its own shape, not on a flattened copy.")
        moved = np.argwhere(np.abs(point.astype(np.float64) - x0.astype(np.float64)) > slack)
        if len(moved) == 0:
            return (f"Call {k} of f was at x itself, with no element moved: that belongs to the "
                    "forward difference (f(x + eps) - f(x)) / eps. Central differences evaluate "
                    "f at x + eps*e_i and at x - eps*e_i only.")
        if len(moved) > 1:
            where = [[int(i) for i in m] for m in moved[:4]]
            return (f"Call {k} of f saw {len(moved)} elements of x moved at once (indices "
                    f"{where}{', ...' if len(moved) > 4 else ''}): each call may differ from x "
                    "in one element only. Put each element back to its saved value before moving "
                    "the next one.")
        ix = tuple(int(i) for i in moved[0])
        step = float(point[ix]) - float(x0[ix])
        if abs(abs(step) - eps) > slack:
            return (f"Call {k} of f saw x{list(ix)} moved by {step:.6g}, but it should move by "
                    f"+eps or -eps, with eps = {eps:g}: use the eps argument.")
        seen.setdefault(ix, []).append(1 if step > 0 else -1)
    for ix in np.ndindex(x0.shape):
        signs = seen.get(ix, [])
        if sorted(signs) != [-1, 1]:
            return (f"x{list(ix)} was moved by +eps {signs.count(1)} times and by -eps "
                    f"{signs.count(-1)} times; central differences move each element once "
                    "each way.")
    return None


# --------------------------------------------------------------------------
# numerical_gradient


def test_numerical_gradient_matches_the_docstring_example(learner):
    """For f = sum(x**2) at x = [1, -2, 3] the result is 2x = [2, -4, 6], as in the docstring."""
    x = np.array([1.0, -2.0, 3.0])
    got = learner.numerical_gradient(Probe("sum_of_squares"), x)
    want = np.array([2.0, -4.0, 6.0])
    # A quadratic has no truncation error: only rounding, about 1e-16 * |f| / eps ~ 1e-10.
    factors, hint = notes(got, want, wrong_formulas("square", x, 1e-5),
                          "Each element i: (f(x + eps*e_i) - f(x - eps*e_i)) / (2*eps), with x "
                          "put back afterwards.", rtol=1e-8, atol=1e-8)
    expect_close(got, want, rtol=1e-8, atol=1e-8, call=learner.numerical_gradient,
                 factors=factors, hint=hint)


def test_numerical_gradient_takes_central_differences_with_the_given_eps(learner):
    """For f = sum(x**3) the result is exactly 3x^2 + eps^2, for x of 1, 2 or 3 dimensions.

    A closed form: ((x + eps)**3 - (x - eps)**3) / (2*eps) = 3x^2 + eps^2. With
    eps = 0.5 and x on a grid of quarters every step is exact in float64, so
    the forward difference (3x^2 + 3x*eps + eps^2), a division by eps instead
    of 2*eps (twice the answer) and an ignored eps (3x^2) all show.
    """
    grids = (GRID_1D, GRID_2D, GRID_3D)
    for x, got in zip(grids, learner.numerical_gradient.each((cubes, x, EPS) for x in grids)):
        factors, hint = notes(got, central_cubes(x, EPS), wrong_formulas("cube", x, EPS),
                              "For f = sum(x**3) the central difference is exactly ((x + eps)**3 "
                              "- (x - eps)**3) / (2*eps) = 3x^2 + eps^2, one element at a time.")
        hint = rows_reading(got, central_cubes(x, EPS), x, 1e-12, 1e-12) or hint
        expect_close(got, central_cubes(x, EPS), rtol=1e-12, atol=1e-12,
                     call=learner.numerical_gradient, factors=factors, hint=hint)


def test_numerical_gradient_defaults_to_a_small_eps(learner):
    """Without eps the step is the documented 1e-5: for f = sum(x**3) that gives 3x^2 + 1e-10.

    The closed form 3x^2 + eps^2 again, at eps = 1e-5; rounding adds about
    1e-16 * |f| / eps ~ 1e-10. A default changed to a large step shows.
    (Found by mutation testing: see docs/mutation.md.)
    """
    got = learner.numerical_gradient(cubes, GRID_1D)
    want = central_cubes(GRID_1D, 1e-5)
    wrong = wrong_formulas("cube", GRID_1D, 1e-5)[:2]  # the forward and backward differences
    factors, hint = notes(got, want, wrong, default_eps_reading(got, GRID_1D), rtol=1e-8,
                          atol=1e-8)
    expect_close(got, want, rtol=1e-8, atol=1e-8, call=learner.numerical_gradient,
                 factors=factors, hint=hint)


def default_eps_reading(got, x):
    """What a wrong answer without eps suggests: a central difference with another default
    step (named with that step), or else the possible causes, none of them asserted."""
    try:
        g = np.asarray(got, dtype=np.float64)
    except (TypeError, ValueError):
        return ""
    if g.shape == np.shape(x) and np.all(np.isfinite(g)):
        offset = g - 3 * np.asarray(x, dtype=np.float64) ** 2  # eps^2 for a central difference
        step = math.sqrt(abs(float(np.mean(offset))))
        if step > 0 and np.allclose(g, central_cubes(x, step), rtol=1e-8, atol=1e-8):
            return (f"Your values are the central difference with eps = {step:.3g}: the "
                    "default step in the signature is 1e-5.")
    return ("Possible causes: a default eps other than 1e-5, a step that is not the central "
            "difference (f(x + eps) - f(x - eps)) / (2*eps), or an x not put back between "
            "elements.")


def test_numerical_gradient_moves_one_element_by_eps_at_a_time(learner):
    """f is called 2 * x.size times, each time at x with exactly one element moved by +eps or -eps.

    The f passed here records every point it sees (the docstring: f is called
    2 * x.size times, at x + eps*e_i and x - eps*e_i). So earlier elements
    that were never put back, a forward difference, a whole row moved at once
    or a flattened x are seen directly. Then an f that raises part-way: x must be
    put back all the same.
    """
    x = np.array([[0.3, -1.7, 2.2], [0.0, 1.1, -0.4]])
    eps = 1e-3
    record = cubes.recording()  # keeps a copy of each point it is called at
    learner.numerical_gradient(record, x, eps)
    problem = perturbation_problem(record.points, x, eps)
    expect_true(problem is None, f"{problem}", call=learner.numerical_gradient)

    # x holds its original values afterwards even when f raises part-way, as the
    # docstring says. This f raises as soon as the second element is moved, after the
    # first element's two calls went well. Passing the exception on is right; what is
    # checked is the caller's x once the call has left (the learner fixture compares it
    # with a copy, and names the element left perturbed).
    failing = Probe("cubes_failing_off", at=1, x=x.copy())
    try:
        learner.numerical_gradient(failing, x, 1e-3)
    except LearnerError:
        pass  # f's ValueError passed on: right, and x was found as it was


def symmetric_matrix(n, rng):
    """A symmetric n x n matrix of halves and integers from -3 to 3."""
    m = rng.integers(-3, 4, size=(n, n)).astype(np.float64)
    return (m + m.T) / 2


def closed_form_case(kind, x, eps, rng):
    """f, the closed form of its central difference at x with step eps, and |f|'s size.

    quadratic  f = 1/2 v.A v + b.v (v = x flattened, A symmetric): exactly A v + b
    sin        f = sum(sin x): (sin(x + eps) - sin(x - eps)) / (2 eps) = cos(x) sin(eps)/eps
    exp        f = sum(exp x): exp(x) sinh(eps)/eps
    cube       f = sum(x**3):  3x^2 + eps^2
    The size bounds |f| near x, for the rounding allowance; the last item lists the
    usual wrong answers, for the message.
    """
    v = np.asarray(x, dtype=np.float64)
    n = v.size
    if kind == "quadratic":
        a = symmetric_matrix(n, rng)
        b = moderate(rng, n)

        f = Probe("quadratic", a=a, b=b, in_float64=True)

        big = np.abs(v.ravel()) + eps
        size = float(0.5 * big @ np.abs(a) @ big + np.abs(b) @ big)
        want = (a @ v.ravel() + b).reshape(v.shape)
        # forward and backward differences of a quadratic: A v + b +- (eps/2) diag(A)
        half = (eps / 2 * np.diag(a)).reshape(v.shape)
        central = "Take the central one: (f(x + eps) - f(x - eps)) / (2*eps)."
        wrong = [(want + half, "Your values are the forward difference (f(x + eps) - f(x)) / "
                               f"eps. {central}"),
                 (want - half, "Your values are the backward difference (f(x) - f(x - eps)) / "
                               f"eps. {central}")]
        return f, want, size, wrong
    f = Probe("sum_in_float64", of=kind)
    if kind == "sin":
        want, size = np.cos(v) * np.sin(eps) / eps, float(n)
    elif kind == "exp":
        want, size = np.exp(v) * np.sinh(eps) / eps, float(np.sum(np.exp(np.abs(v) + eps)))
    else:
        want, size = central_cubes(v, eps), float(np.sum((np.abs(v) + eps) ** 3))
    return f, want, size, wrong_formulas(kind, v, eps)


@given(seed=seeds, dtype=st.sampled_from([np.float64, np.float32]),
       kind=st.sampled_from(["quadratic", "sin", "exp", "cube"]),
       eps=st.sampled_from([1e-3, 1e-2, 1e-1]))
def test_numerical_gradient_matches_closed_forms_for_any_shape(learner, seed, dtype, kind, eps):
    """For quadratic forms and sums of sin, exp and cubes the result is the central difference.

    Any shape of 1 to 3 dimensions, float64 or float32, eps from 1e-3 to 0.1;
    the expected values are closed forms of the central difference (see
    closed_form_case), which keep the eps^2 terms.
    """
    rng = np.random.default_rng(seed)
    x = moderate(rng, shape_of(rng, 12)).astype(dtype)
    f, want, size, wrong = closed_form_case(kind, x, eps, rng)
    got = learner.numerical_gradient(f, x, eps)
    # Rounding of f, about n ulps of |f|, divided by the step; in float32 the step
    # actually taken, (x + eps) - (x - eps) rounded to float32, is off by an ulp of x.
    atol = 8 * x.size * np.finfo(np.float64).eps * size / eps
    rtol = 1e-9
    if dtype == np.float32:
        rtol = 4 * np.finfo(np.float32).eps * (1 + float(np.max(np.abs(x)))) / eps
        atol += rtol * (1 + float(np.max(np.abs(want))))
    factors, hint = notes(got, want, wrong,
                          f"The central difference, one element at a time, on x itself in its "
                          f"own shape ({kind}, eps = {eps:g}, x of shape {x.shape}, {x.dtype}).",
                          rtol=max(rtol, 1e-6), atol=max(atol, 1e-9))
    hint = rows_reading(got, want, x, max(rtol, 1e-6), max(atol, 1e-9)) or hint
    expect_close(got, want, rtol=rtol, atol=atol, call=learner.numerical_gradient,
                 factors=factors, hint=hint)


def rows_reading(got, want, x, rtol, atol):
    """For an x of 2 or more dimensions: whether only len(x) elements were computed, the
    first len(x) in order, the rest left at 0 (a loop over range(len(x))); '' if not."""
    try:
        g = np.asarray(got, dtype=np.float64)
    except (TypeError, ValueError):
        return ""
    n = len(x) if np.ndim(x) else 0
    if np.ndim(x) < 2 or g.shape != want.shape or n >= x.size:
        return ""
    flat, expected = g.ravel(), want.ravel()
    if (np.allclose(flat[:n], expected[:n], rtol=rtol, atol=atol) and np.all(flat[n:] == 0)
            and np.any(expected[n:] != 0)):
        return (f"Only the first {n} of the {x.size} elements were computed and the rest are 0: "
                f"len(x) = {n} counts the rows of x (its first axis), not its elements. Visit "
                "every index of x, whatever its number of dimensions.")
    return ""


def test_numerical_gradient_returns_float64_for_float32_x(learner):
    """For a float32 x the values are right and the result is a float64 array (as documented).

    With eps = 0.5 and x on a grid of quarters, x + eps is exact in float32 too,
    so the result is exactly 3x^2 + eps^2 for f = sum(x**3).
    """
    x = GRID_2D.astype(np.float32)
    got = learner.numerical_gradient(cubes, x, EPS)
    factors, hint = notes(got, central_cubes(x, EPS), wrong_formulas("cube", x, EPS),
                          "For f = sum(x**3) the central difference is exactly 3x^2 + eps^2, "
                          "for float32 x as for float64.")
    expect_close(got, central_cubes(x, EPS), rtol=1e-12, atol=1e-12,
                 call=learner.numerical_gradient, factors=factors, hint=hint)
    dtype = getattr(got, "dtype", None)
    expect_true(dtype == np.float64,
                f"The values are right, but the result has dtype {dtype}; the docstring asks "
                "for float64 whatever the float dtype of x: the result array was made in x's "
                "dtype.",
                call=learner.numerical_gradient)


# --------------------------------------------------------------------------
# relative_error

ONE_SIDED = ("That is |a - b| / |a| or |a - b| / |b|: divide by |a| + |b|, so that the order of "
             "a and b does not matter.")
RELATIVE_CASES = [
    # (a, b, closed form of max |a-b| / max(1e-8, |a|+|b|), what the case shows,
    #  what a ratio between a wrong answer and the right one suggests)
    (2.0, 1.0, 1 / 3, "A factor 2 gives |2 - 1| / (2 + 1) = 1/3.",
     {1.5: ONE_SIDED, 3.0: ONE_SIDED}),
    (1.0, 2.0, 1 / 3, "The measure is symmetric: |1 - 2| / (1 + 2) = 1/3.",
     {1.5: ONE_SIDED, 3.0: ONE_SIDED}),
    (-1.5, 1.5, 1.0, "Opposite signs give |-1.5 - 1.5| / (1.5 + 1.5) = 1.", {2.0: ONE_SIDED}),
    (0.7, 0.7, 0.0, "Equal values give 0.", {}),
    (0.0, 0.0, 0.0, "Two zeros give 0 / max(1e-8, 0) = 0: the floor 1e-8 avoids 0/0.", {}),
    (1e-9, 0.0, 0.1, "For 1e-9 against 0 the denominator is the floor: 1e-9 / 1e-8 = 0.1.",
     {10.0: "That is 1e-9 / 1e-9: the floor max(1e-8, |a| + |b|) is missing, or lower than 1e-8.",
      1 / 1.1: "That is 1e-9 / (1e-9 + 1e-8): the floor is added to |a| + |b|; take the "
               "larger of the two, elementwise."}),
    ([1.0, 2.0, 3.0], [1.0, 2.0, 6.0], 1 / 3,
     "The worst element decides: 3/9 = 1/3 at the last index.",
     {1 / 3: "Your value is the mean of the elementwise terms (1/9), not the largest (1/3)."}),
    ([[1.0, -2.0], [0.0, 4.0]], [[1.0, 2.0], [0.0, 4.0]], 1.0,
     "The worst element decides: 1 where the sign flipped.",
     {0.25: "Your value is the mean of the elementwise terms (1/4), not the largest (1)."}),
]


def test_relative_error_matches_closed_forms(learner):
    """relative_error gives 1/3 for a factor 2, 1 for a sign flip, 0 for zeros, 0.1 at the floor.

    Closed forms of max over i of |a_i - b_i| / max(1e-8, |a_i| + |b_i|), for
    scalars, lists and 2-D arrays (see RELATIVE_CASES).
    """
    results = learner.relative_error.each((a, b) for a, b, *_ in RELATIVE_CASES)
    for (_, _, want, hint, factors), got in zip(RELATIVE_CASES, results):
        expect_close(got, want, rtol=1e-12, atol=1e-15, call=learner.relative_error,
                     factors=scalar_factors(got, want, factors),
                     hint=hint + " The formula: max over i of "
                                 "|a_i - b_i| / max(1e-8, |a_i| + |b_i|).")


def relative_arrays(rng, dtype):
    """Two same-shape arrays of values in [-100, 100], about a quarter of their entries
    replaced by 0 or by values below the floor 1e-8 (1e-9, -3e-9)."""
    shape = shape_of(rng, 12)

    def one():
        values = rng.uniform(-100, 100, size=shape)
        small = rng.choice([0.0, 1e-9, -3e-9], size=shape)
        return np.where(rng.random(shape) < 0.25, small, values).astype(dtype)

    return one(), one()


@given(seed=seeds, dtype=st.sampled_from([np.float64, np.float32]))
def test_relative_error_matches_the_reference_and_is_symmetric(learner, reference, seed, dtype):
    """For any two same-shape arrays relative_error follows the docstring, both ways round."""
    a, b = relative_arrays(np.random.default_rng(seed), dtype)
    want = reference.relative_error(a, b)
    # float32 inputs may be compared in float32: agreement to a few float32 ulps.
    rtol = 1e-12 if dtype == np.float64 else 1e-6
    expect_close(learner.relative_error(a, b), want, rtol=rtol, atol=1e-15,
                 call=learner.relative_error,
                 hint="The worst element decides: the largest, over all elements, of "
                      "|a - b| / max(1e-8, |a| + |b|), the floor taken element by element.")
    expect_close(learner.relative_error(b, a), want, rtol=rtol, atol=1e-15,
                 call=learner.relative_error,
                 hint="This is the same pair with a and b swapped, and the measure is symmetric: "
                      "divide by |a| + |b|, not by |a| or |b| alone.")


def test_relative_error_handles_empty_and_nan_inputs(learner):
    """relative_error returns a Python float: 0.0 for empty arrays and nan if an entry is nan."""
    got = learner.relative_error(np.array([]), np.array([]))
    expect_close(got, 0.0, atol=0.0, call=learner.relative_error,
                 hint="The docstring: 0.0 for empty arrays, where there is nothing to compare.")
    got = learner.relative_error(np.array([1.0, 2.0]), np.array([1.0, 3.0]))
    expect_true(isinstance(got, float),
                f"It returned {show(got)}, a {type(got).__name__}; the docstring asks for a "
                "Python float: return float(...).", call=learner.relative_error)
    got = learner.relative_error(np.array([1.0, np.nan]), np.array([1.0, 1.0]))
    expect_true(isinstance(got, float) and math.isnan(got),
                f"It returned {show(got)}, but the docstring asks for nan when an entry is nan: "
                "a gradient holding nan must never pass a check (np.max keeps nan; np.nanmax "
                "and max() may drop it).", call=learner.relative_error)


# --------------------------------------------------------------------------
# check_gradient


def check_case(kind, x, rng):
    """A function and its exact gradient, whose components stay away from 0 (at least 0.1)
    so that the relative error of a correct gradient is only rounding and eps^2."""
    if kind == "exp":
        return Probe("sum_of_exp"), Probe("scaled_exp")
    if kind == "cubic":
        return Probe("sum_of_cubes_over_3_plus_z"), Probe("squares_plus_1")
    # 1/2 v.A v + b.v with b chosen so that the gradient at x is a drawn g, |g_i| >= 0.5
    n = x.size
    a = symmetric_matrix(n, rng)
    g = rng.uniform(0.5, 3, size=n) * rng.choice([-1.0, 1.0], size=n)
    b = g - a @ x.ravel()
    return Probe("quadratic", a=a, b=b), Probe("quadratic_gradient", a=a, b=b)


@given(seed=seeds, dtype=st.sampled_from([np.float64, np.float32]),
       kind=st.sampled_from(["exp", "cubic", "quadratic"]))
def test_check_gradient_accepts_correct_gradients(learner, reference, seed, dtype, kind):
    """check_gradient returns True (a bool) for the exact gradient of a smooth f, any shape."""
    rng = np.random.default_rng(seed)
    x = moderate(rng, shape_of(rng, 8)).astype(dtype)
    f, grad = check_case(kind, x.astype(np.float64), rng)
    got = learner.check_gradient(f, grad, x)
    work = x.astype(np.float64)
    error = reference.relative_error(reference.numerical_gradient(f, work), grad(work))
    if not (isinstance(got, (bool, np.bool_)) and got):
        expect_true(False,
                    f"It returned {show(got)}, but the gradient is exact: the worst relative "
                    f"error between it and the central difference is {error:.1e}, below the "
                    "default tolerance 1e-6, so True was expected (a bool). "
                    + check_reading(learner, reference, f, grad, x, got),
                    call=learner.check_gradient)


def check_reading(learner, reference, f, grad, x, got):
    """Why check_gradient rejected an exact gradient, read off its helpers: the learner's
    relative_error and numerical_gradient are tried on the same numbers, and the float64
    copy is tested by giving numerical_gradient x in its own dtype."""
    if not isinstance(got, (bool, np.bool_)):
        return f"It returned a {type(got).__name__}: the docstring asks for a bool."
    work = x.astype(np.float64)
    numeric, analytic = reference.numerical_gradient(f, work), grad(work)
    try:
        theirs = learner.relative_error(numeric, analytic)
        right = abs(float(theirs) - reference.relative_error(numeric, analytic)) <= 1e-9
    except Exception:  # noqa: BLE001 - any failure of the helper points at the helper
        right = False
    if not right:
        return ("Your relative_error gives a different value on these two gradients than the "
                "docstring's formula: check_gradient builds on it, so fix relative_error "
                "first (its own tests say how).")
    try:
        theirs = learner.numerical_gradient(f, work.copy())
        # numpy, not the reference: the handout answers the reference's calls on the
        # tests' own inputs only, and these numbers come from the learner.
        right = np.shape(theirs) == numeric.shape and np.allclose(theirs, numeric, rtol=1e-9,
                                                                   atol=1e-12)
    except Exception:  # noqa: BLE001
        right = False
    if not right:
        return ("Your numerical_gradient differs from the central difference at this float64 "
                "x: check_gradient builds on it, so fix numerical_gradient first (its own tests "
                "say how).")
    if x.dtype != np.float64:
        return (f"Your relative_error and numerical_gradient are both right in float64, and "
                f"x was {x.dtype}: a step of eps in {x.dtype} is mostly rounding, so the "
                "check must work on a private float64 copy of x, as the docstring says.")
    return ("Your relative_error and numerical_gradient are both right on these numbers. "
            "Possible causes: the comparison with the tolerance is the wrong way round, eps or "
            "tolerance are not passed on, or grad is evaluated at another point than the "
            "numerical gradient.")


def test_check_gradient_rejects_wrong_gradients(learner):
    """check_gradient returns False for a gradient twice, half or minus the true one, or with nan.

    Also for one element 1% off: the relative error is then 0.01 / 2.01 there.
    """
    x = np.array([[0.5, -1.0], [1.5, 2.0]])
    # relative errors (closed forms): 1/3, 1/3, 1, 0.01/2.01 in one element, nan
    wrong = [
        ("twice the true gradient (a stray factor 2)", Probe("scaled_exp", c=2.0)),
        ("half the true gradient (a missing factor 2)", Probe("scaled_exp", c=0.5)),
        ("the true gradient with its sign flipped", Probe("scaled_exp", c=-1.0)),
        ("the true gradient with one element 1% too large",
         Probe("scaled_exp", c=np.array([[1.0, 1.0], [1.01, 1.0]]))),
        ("the true gradient with one element nan",
         Probe("scaled_exp", c=np.array([[1.0, np.nan], [1.0, 1.0]]))),
    ]
    f = Probe("sum_of_exp")
    results = learner.check_gradient.each((f, grad, x) for _, grad in wrong)
    for (name, _), got in zip(wrong, results):
        expect_true(isinstance(got, (bool, np.bool_)) and not got,
                    f"It returned {show(got)} for f = sum(exp(x)) and grad = {name}; False was "
                    "expected. check_gradient must compare grad(x) with numerical_gradient(f, x, "
                    "eps), not with f(x), and return True only when the error is below the "
                    "tolerance.", call=learner.check_gradient)


def test_check_gradient_respects_the_tolerance(learner):
    """check_gradient returns True exactly when the relative error is strictly below tolerance.

    For f = 1/2 sum(x**2) with eps = 0.5 on a grid of quarters the numerical
    gradient is exactly x. Against grad = c*x the relative error is the closed
    form |c - 1| / (|c| + 1): 0.2 for c = 1.5 and exactly 0.5 for c = 3.
    """
    x = GRID_2D

    half_squares = Probe("half_sum_of_squares")

    cases = [  # (c, tolerance, expected, error)
        (1.5, 0.25, True, 0.2), (1.5, 0.15, False, 0.2),
        (3.0, float(np.nextafter(0.5, 1.0)), True, 0.5),
        (3.0, 0.5, False, 0.5),
        # the default tolerance, 1e-6
        (1 + 1e-7, None, True, 1e-7 / (2 + 1e-7)), (1 + 1e-5, None, False, 1e-5 / (2 + 1e-5)),
    ]
    def arguments(c, tolerance):  # no tolerance: the default
        given = (half_squares, Probe("scaled", c=c), x, EPS)
        return given if tolerance is None else given + (tolerance,)

    calls = [arguments(c, tolerance) for c, tolerance, _, _ in cases]
    results, described = [], []  # every answer, and each call written out as it was made
    for got in learner.check_gradient.each(calls):
        results.append(got)
        described.append(learner.check_gradient.last_call)
    reading = None
    for (_, tolerance, want, error), got, call in zip(cases, results, described):
        if not (isinstance(got, (bool, np.bool_)) and bool(got) == want):
            reading = reading or tolerance_reading(learner, cases, results, half_squares, x)
            expect_true(False,
                        f"It returned {show(got)}; the relative error here is {error:.3g} and "
                        f"the tolerance {1e-6 if tolerance is None else tolerance!r}"
                        f"{' (the default)' if tolerance is None else ''}, so {want} was "
                        f"expected. {reading}", call=call)


def tolerance_reading(learner, cases, results, f, x):
    """Why check_gradient answered the tolerance cases wrongly, named only when the answers fit
    one explanation: each candidate's answers are worked out from the closed-form errors, and
    eps not passed on is tried with the learner's own helpers."""
    if not all(isinstance(got, (bool, np.bool_)) for got in results):
        return "Return a bool, as the docstring says."
    got = [bool(g) for g in results]
    tol = [1e-6 if t is None else t for _, t, _, _ in cases]
    errors = [e for _, _, _, e in cases]
    candidates = [
        ([e <= t for e, t in zip(errors, tol)],
         "Only an error equal to the tolerance was accepted where it must fail: return whether "
         "the error is strictly below the tolerance (error < tolerance)."),
        ([not (e < t) for e, t in zip(errors, tol)],
         "Every answer is the opposite of the expected one: the comparison is the wrong way "
         "round; return True when the error is below the tolerance."),
        ([e < 1e-6 for e in errors],
         "Your answers fit a tolerance fixed at 1e-6 whatever was passed: compare with the "
         "tolerance argument."),
    ]
    for predicted, text in candidates:
        if got == predicted:
            return text
    tie = next(i for i, (c, t, _, _) in enumerate(cases) if c == 3.0 and t != 0.5)
    if got[tie] is False and sum(g != w for g, (_, _, w, _) in zip(got, cases)) == 1:
        # The tolerance sits one rounding step above the error: any rounding the check adds
        # to the exact 0.5 makes it fail. Try the learner's helpers with and without eps.
        try:
            analytic = 3.0 * x
            with_eps = float(learner.relative_error(
                learner.numerical_gradient(f, x.copy(), EPS), analytic))
            default = float(learner.relative_error(learner.numerical_gradient(f, x.copy()),
                                                   analytic))
            fits = with_eps < tol[tie] <= default
        except Exception:  # noqa: BLE001 - a failing helper has its own tests
            fits = False
        if fits:
            return (f"Your own helpers give an error of {with_eps!r} with eps = {EPS:g}, below "
                    f"the tolerance, and {default!r} with numerical_gradient's default eps, not "
                    "below it: the numbers fit an eps that is not passed on. Call "
                    "numerical_gradient(f, x, eps).")
        return ("Your check saw an error a rounding step above the exact 0.5. Possible causes: "
                "eps not passed on to numerical_gradient (another eps rounds differently), the "
                "check working on values other than a float64 copy of x, or a comparison other "
                "than error < tolerance.")
    return ("Possible causes: the comparison (True exactly when error < tolerance), the "
            "tolerance argument not used, eps not passed on to numerical_gradient, or a helper "
            "(relative_error, numerical_gradient) that is wrong: their own tests say.")


def test_check_gradient_passes_eps_on(learner):
    """check_gradient passes eps on: for sum(x**3) a large eps makes the check fail.

    The central difference of sum(x**3) is 3x^2 + eps^2 (closed form), so against
    the exact 3x^2 the relative error is eps^2 / (6x^2 + eps^2): about 0.14 at
    x = 0.5 with eps = 0.5, and below 1e-6 with eps = 1e-3.
    """
    x = np.array([1.0, -1.0, 0.5])
    cases = ((EPS, False), (1e-3, True))
    grad = Probe("three_squares")
    results = learner.check_gradient.each((cubes, grad, x, eps, 0.01) for eps, _ in cases)
    for (eps, want), got in zip(cases, results):
        worst = eps**2 / (6 * 0.25 + eps**2)
        expect_true(isinstance(got, (bool, np.bool_)) and bool(got) == want,
                    f"It returned {show(got)}; with eps = {eps:g} the numerical gradient is "
                    f"3x^2 + eps^2, a relative error of {worst:.2g} against the exact 3x^2, so "
                    f"with tolerance 0.01 {want} was expected. Pass eps on: "
                    "numerical_gradient(f, x, eps).", call=learner.check_gradient)


def test_check_gradient_works_on_integer_x(learner):
    """check_gradient works on a list or an integer array x, by working on a float64 copy."""
    for x in ([1, 2, 3], np.array([[1, -2], [3, 1]])):
        f = Probe("sum_of_cubes_over_3_plus_z", record=True)  # keeps the points and their dtype
        got = learner.check_gradient(f, Probe("squares_plus_1"), x)
        kinds = sorted({str(point.dtype) for point in f.points})
        why = (f" f saw arrays of dtype {kinds}: in an integer array x[i] + eps is truncated "
               "back to x[i]. Work on a float64 copy of x, as the docstring says."
               if any(not k.startswith("float") for k in kinds) else "")
        expect_true(isinstance(got, (bool, np.bool_)) and got,
                    f"It returned {show(got)} for the exact gradient x**2 + 1 of "
                    f"sum(x**3/3 + x) at integer x = {show(x)}; True was expected.{why}",
                    call=learner.check_gradient)
