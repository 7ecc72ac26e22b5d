"""Exercise 6, learning_rate: how large may the learning rate be?

The story fits y = w*x + b to x = 1, 2, 3, 4 and y = 3x by gradient descent on
the MSE, from w = b = 0, at learning rates 0.01 (creeps towards w = 3), 0.1
(oscillates, then settles) and 1 (blows up). The MSE's Hessian is
H = (2/N) A^T A with A = [x, 1]; for these x it is [[15, 5], [5, 2]], with
lambda_max = (17 + sqrt(269)) / 2 and a critical rate 2/lambda_max = 4/(17 + sqrt(269)).
The tests below also run gradient descent themselves, so a rate is judged by
what it does, not only by the formula.
"""

import math

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from shared_checks import generator, pick

from gradkata.sandbox import LearnerError
from gradkata.verdict import expect_close, expect_true, show

# Seed 001's data, in the seed's own form (a list of one-element rows), and its targets.
SEED_X = [[1], [2], [3], [4]]
SEED_Y = np.array([3.0, 6.0, 9.0, 12.0])
SEED_OPTIMUM = np.array([3.0, 0.0])  # y = 3x exactly: w = 3, b = 0
# Closed form for seed 001: H = [[15, 5], [5, 2]], lambda_max = (17 + sqrt(269)) / 2.
SEED_CRITICAL = 4 / (17 + math.sqrt(269))  # about 0.1198

RATE_HINT = ("H = (2/N) A.T @ A with A = [inputs, 1] (a column of ones for the bias, N the "
             "number of rows), and the rate is 2 / (the largest eigenvalue of H).")


def design(inputs):
    """A = [inputs, 1], inputs (N,) read as (N, 1)."""
    x = np.asarray(inputs, dtype=np.float64)
    x = x.reshape(len(x), -1)
    return np.hstack([x, np.ones((len(x), 1))])


def closed_form_rate(inputs):
    """2 / lambda_max of H = (2/N) A^T A. For one feature H is 2x2 and its largest eigenvalue
    is (h11 + h22)/2 + sqrt(((h11 - h22)/2)^2 + h12^2); otherwise numpy's eigvalsh."""
    a = design(inputs)
    h = (2 / len(a)) * (a.T @ a)
    if h.shape == (2, 2):
        top = (h[0, 0] + h[1, 1]) / 2 + math.hypot((h[0, 0] - h[1, 1]) / 2, h[0, 1])
    else:
        top = float(np.linalg.eigvalsh(h)[-1])
    return 2 / top


def rate_factors(inputs, got):
    """What the ratio of a wrong rate to 2/lambda_max suggests, for these inputs.

    Each usual slip gives a rate whose ratio to the right one follows from the
    inputs alone (the closed forms below). Any other ratio is left unnamed: two
    numbers always have one.
    """
    a = design(inputs)
    n, columns = a.shape
    lam = np.linalg.eigvalsh((2 / n) * (a.T @ a))
    x = a[:, :-1]
    no_bias = np.linalg.eigvalsh((2 / n) * (x.T @ x))[-1]
    slips = [
        (0.5, "Your rate is exactly half of 2/lambda_max: it is 1/lambda_max, where the "
              "oscillation starts; the critical rate is 2/lambda_max."),
        (2.0, "Your rate is exactly twice 2/lambda_max: the Hessian of (1/N)||A theta - y||^2 "
              "is (2/N) A.T @ A, with its 2."),
        (2 / n, f"Your rate is 2/N = {2 / n:.4g} times the right one: H = A.T @ A is missing "
                "its factor 2/N."),
        (1 / n, f"Your rate is 1/N = {1 / n:.4g} times the right one: H = 2 A.T @ A is missing "
                "its 1/N."),
        ((columns - 1) / n, "Your rate is P/N times the right one: N came from the wrong axis "
                            "(the number of columns, not of rows)."),
        (lam[-1] / lam[0] if lam[0] > 1e-9 * lam[-1] else None,
         "Your rate is 2/lambda_min: the smallest eigenvalue of H, not the largest."),
        (lam[-1] / no_bias if no_bias > 0 else None,
         "Your rate is the one H would give without the column of ones in A = [inputs, 1]: the "
         "bias is a parameter too."),
    ]
    factors = {}
    for ratio, text in slips:
        if ratio is None or abs(ratio - 1) <= 1e-3:
            continue
        same = [k for k in factors if abs(k - ratio) <= 1e-3 * max(1.0, abs(k))]
        if same:
            # Both fit: say so, the second as an alternative in the same sentence's voice.
            factors[same[0]] += " Or: " + text[:1].lower() + text[1:]
        else:
            factors[float(ratio)] = text
    try:
        ratio = float(got) * lam[-1] / 2
    except (TypeError, ValueError, OverflowError):
        return factors
    if math.isfinite(ratio) and not any(abs(k - ratio) <= 1e-3 * max(1.0, abs(k))
                                        for k in factors):
        factors[ratio] = "That value fits none of the usual slips: see below."
    return factors


def as_rate(got, call):
    """The learner's rate as a float, after checking it is one positive finite number."""
    ok = isinstance(got, (int, float, np.integer, np.floating)) and not isinstance(got, bool)
    expect_true(ok and math.isfinite(float(got)) and float(got) > 0,
                f"It returned {show(got)}; the docstring asks for a positive Python float.",
                call=call)
    return float(got)


def losses(inputs, y, rates, steps):
    """MSE after each of `steps` steps of gradient descent from theta = 0 (the story's start),
    one run for each learning rate in `rates`, side by side: shape (steps + 1, len(rates)).

    The closed form of those steps: with H = (2/N) A^T A = V diag(lambda) V^T and
    theta* the least-squares fit, step t leaves the error theta_t - theta* at
    V diag((1 - lr lambda)**t) V^T (theta_0 - theta*), and the MSE is the smallest
    one plus 1/2 (theta_t - theta*)^T H (theta_t - theta*).
    """
    a = design(inputs)
    y = np.asarray(y, dtype=np.float64)
    best = np.linalg.lstsq(a, y, rcond=None)[0]
    lam, v = np.linalg.eigh(2 / len(a) * a.T @ a)
    start = v.T @ (np.zeros(a.shape[1]) - best)  # the first error, along each eigenvector
    rates = np.asarray(rates, dtype=np.float64)
    t = np.arange(steps + 1)[:, None, None]
    with np.errstate(over="ignore", invalid="ignore"):
        errors = (1 - rates[None, :, None] * lam) ** t * start  # (steps + 1, rates, modes)
        return np.mean((a @ best - y) ** 2) + 0.5 * np.sum(lam * errors**2, axis=2)


# --------------------------------------------------------------------------
# critical_learning_rate


def test_critical_learning_rate_matches_the_story(learner):
    """For the story's x = 1, 2, 3, 4 the critical rate is 4 / (17 + sqrt(269)), about 0.1198."""
    both = (SEED_X, np.array([1.0, 2.0, 3.0, 4.0]))
    for inputs, got in zip(both, learner.critical_learning_rate.each((x,) for x in both)):
        expect_close(got, SEED_CRITICAL, rtol=1e-9, call=learner.critical_learning_rate,
                     factors=rate_factors(inputs, got),
                     hint="For x = 1, 2, 3, 4, H = (2/4) [[30, 10], [10, 4]] = [[15, 5], [5, 2]]. "
                          + RATE_HINT)


@st.composite
def inputs_strategy(draw):
    """inputs of shape (N,) or (N, P), N from 1 to 6 and P from 1 to 3: values in [-3, 3]
    to two decimals, about one in five of them 0 (so columns and rows of zeros occur)."""
    rng = generator(draw)  # one draw: everything else comes from it
    n = int(rng.integers(1, 7))
    shape = (n,) if pick(rng, [True, False]) else (n, int(rng.integers(1, 4)))
    values = rng.integers(-300, 301, size=shape) / 100
    return np.where(rng.random(shape) < 0.2, 0.0, values)


@given(inputs=inputs_strategy())
def test_critical_learning_rate_matches_the_closed_form(learner, reference, inputs):
    """For any inputs of shape (N,) or (N, P) the rate is 2 / lambda_max of H = (2/N) A^T A."""
    got = learner.critical_learning_rate(inputs)
    hint = f"inputs of shape {inputs.shape}: N = {inputs.shape[0]} samples. " + RATE_HINT
    factors = rate_factors(inputs, got)
    expect_close(got, closed_form_rate(inputs), rtol=1e-9, call=learner.critical_learning_rate,
                 factors=factors, hint=hint)
    expect_close(got, reference.critical_learning_rate(inputs), rtol=1e-9,
                 call=learner.critical_learning_rate, factors=factors, hint=hint)


# Data for the descent runs: seed 001, and two made-up data sets with exact targets
# y = A @ theta_true (so the smallest MSE is 0). For each, starting from theta = 0 the
# error has a component along H's top eigenvector (checked when the tests were written).
DESCENT_DATA = [
    ("y = 3x on x = 1, 2, 3, 4", SEED_X, SEED_Y),
    ("two features", [[1, 0], [0, 1], [1, 1], [2, -1], [-1, 3]],
     design([[1, 0], [0, 1], [1, 1], [2, -1], [-1, 3]]) @ np.array([1.0, -2.0, 0.5])),
    ("one feature, six samples", [-3, -1, 0.5, 2, 2.5, 4],
     design([-3, -1, 0.5, 2, 2.5, 4]) @ np.array([-1.5, 2.0])),
]


def test_critical_learning_rate_separates_convergence_from_divergence(learner):
    """Gradient descent on the MSE converges at 0.95 times the rate, and diverges at 1.05 times it.

    A property of the rate, checked on gradient descent's closed form here: below
    2/lambda_max every factor |1 - lr*lambda| is at most 1, so the loss never
    rises; above it the error along the top eigenvector grows by more than 1.1
    per step, and the loss by more than 1.21 (1.21**100 ~ 2e8; the test asks for 1e6).
    """
    steps = 100
    results = learner.critical_learning_rate.each((inputs,) for _, inputs, _ in DESCENT_DATA)
    for (name, inputs, y), got in zip(DESCENT_DATA, results):
        rate = as_rate(got, learner.critical_learning_rate)
        runs = losses(inputs, y, [0.95 * rate, 1.05 * rate], steps)
        below, above = runs[:, 0].tolist(), runs[:, 1].tolist()
        rising = not all(b <= a * (1 + 1e-9) for a, b in zip(below, below[1:]))
        expect_true(not rising and below[-1] < 1e-2 * below[0],
                    f"For {name} (inputs {show(inputs)}) it returned {rate:.6g}. Gradient descent "
                    f"on the MSE at 0.95 times that rate gave losses {show(below[:4])[:-1]}, ... "
                    f"{below[-1]:.3g} after {steps} steps: they should fall steadily towards 0. "
                    "The rate is too large: is it 2 over the largest eigenvalue of H = (2/N) "
                    "A.T @ A, and does A have its column of ones?",
                    call=learner.critical_learning_rate)
        expect_true(not (above[-1] < 1e6 * above[0]),
                    f"For {name} (inputs {show(inputs)}) it returned {rate:.6g}. Gradient descent "
                    f"on the MSE at 1.05 times that rate went from loss {above[0]:.3g} to "
                    f"{above[-1]:.3g} in {steps} steps: it should blow up, since the critical "
                    "rate is the largest that still converges. The rate is too small: "
                    "2/lambda_max, not 1/lambda_max, with H = (2/N) A.T @ A.",
                    call=learner.critical_learning_rate)


# --------------------------------------------------------------------------
# classify_learning_rate


def test_classify_learning_rate_names_the_storys_three_rates(learner):
    """The story's three runs: lr 0.01 is "monotone", 0.1 "oscillating" and 1 "divergent".

    The steps quoted in the messages are exact gradient descent from w = b = 0
    (closed form: dL/dw = (2/N) sum x(wx + b - y)); the story reports 0.45 and 4.5
    after the first step at 0.01 and 0.1, and 45 at 1.
    """
    plots = [(0.01, "monotone", "w creeps up towards 3"),
             (0.1, "oscillating", "w jumps to 4.5, back to 1.5, and settles"),
             (1.0, "divergent", "w jumps to 45, then -660, then 10410")]
    results = learner.classify_learning_rate.each((SEED_X, lr) for lr, _, _ in plots)
    for (lr, want, plot), got in zip(plots, results):
        expect_true(got == want,
                    f"It returned {show(got)}, but fitting y = 3x at lr = {lr:g} ({plot}) is "
                    f"{want!r}. With crit = 2/lambda_max ~ {SEED_CRITICAL:.4f}: \"monotone\" up to "
                    "crit/2, \"oscillating\" below crit, \"divergent\" from crit on."
                    + label_note(got, want), call=learner.classify_learning_rate)


def expect_label(learner, inputs, lr, want, why):
    got = learner.classify_learning_rate(inputs, lr)
    expect_true(got == want, f"It returned {show(got)}, but {want!r} was expected: {why}"
                + label_note(got, want), call=learner.classify_learning_rate)


def label_note(got, want):
    """A sentence when the label is the right word written differently, else ''."""
    if isinstance(got, str) and got != want and got.strip().lower() == want:
        return (" That is the right regime, written differently: the labels are exactly "
                "\"monotone\", \"oscillating\" and \"divergent\", lower-case, no spaces.")
    return ""


def test_classify_learning_rate_switches_at_half_the_critical_rate_and_at_it(learner):
    """The label changes at crit/2 and at crit: checked just below and just above each, on x = 1..4.

    With crit = 4 / (17 + sqrt(269)) (closed form): (1 -+ 1e-9) * crit/2 gives
    "monotone" and "oscillating", (1 -+ 1e-9) * crit "oscillating" and "divergent".
    """
    crit = SEED_CRITICAL
    for lr, want in ((crit / 2 * (1 - 1e-9), "monotone"), (crit / 2 * (1 + 1e-9), "oscillating"),
                     (crit * (1 - 1e-9), "oscillating"), (crit * (1 + 1e-9), "divergent")):
        expect_label(learner, SEED_X, lr, want,
                     f"lr is {lr / crit:.9f} times crit = 2/lambda_max ~ {crit:.6f}. The "
                     "boundaries are crit/2 (= 1/lambda_max) and crit.")


def test_classify_learning_rate_breaks_ties_as_the_docstring_says(learner):
    """At exactly crit/2 the label is "monotone", at exactly crit "divergent".

    For x = -2, -2, 2, 2 the columns of A = [x, 1] are orthogonal, so
    H = (2/4) diag(16, 4) = diag(8, 2): crit = 2/8 = 0.25 exactly (closed form),
    and crit/2 = 0.125; both are exact in binary.
    """
    x = [-2.0, -2.0, 2.0, 2.0]
    rule = "The docstring: \"monotone\" if lr <= crit/2, \"divergent\" if lr >= crit."
    expect_label(learner, x, 0.125, "monotone", "lr = 0.125 is exactly crit/2. " + rule)
    expect_label(learner, x, 0.25, "divergent", "lr = 0.25 is exactly crit. " + rule)
    expect_label(learner, x, float(np.nextafter(0.125, 1)), "oscillating",
                 "lr is the next float above crit/2 = 0.125. " + rule)
    expect_label(learner, x, float(np.nextafter(0.25, 0)), "oscillating",
                 "lr is the next float below crit = 0.25. " + rule)


away_from_the_boundaries = st.floats(0.05, 3).filter(
    lambda u: abs(u - 0.5) > 1e-6 and abs(u - 1) > 1e-6)


@given(inputs=inputs_strategy(), ratio=away_from_the_boundaries)
def test_classify_learning_rate_matches_the_reference(learner, reference, inputs, ratio):
    """For any inputs and any rate (not within 1e-6 of a boundary) the label is the reference's."""
    lr = ratio * closed_form_rate(inputs)
    got = learner.classify_learning_rate(inputs, lr)
    want = reference.classify_learning_rate(inputs, lr)
    expect_true(got == want,
                f"It returned {show(got)}, but {want!r} was expected: lr = {lr:.6g} is "
                f"{ratio:.4f} times the critical rate for these inputs (shape {inputs.shape}). "
                "\"monotone\" up to crit/2, \"oscillating\" below crit, \"divergent\" from "
                "crit on." + label_note(got, want), call=learner.classify_learning_rate)


def steepest_errors(lr, steps):
    """(theta - theta_star) along H's top eigenvector during gradient descent on y = 3x."""
    a = design(SEED_X)
    top = np.linalg.eigh((2 / len(a)) * (a.T @ a))[1][:, -1]
    theta = np.zeros(2)
    out = []
    for _ in range(steps + 1):
        out.append(float(top @ (theta - SEED_OPTIMUM)))
        theta = theta - lr * (2 / len(a)) * (a.T @ (a @ theta - SEED_Y))
    return out


def observed(errors):
    """What gradient descent did along the steepest direction, in the docstring's words."""
    flips = sum(1 for p, q in zip(errors, errors[1:]) if p * q < 0)
    if abs(errors[-1]) >= abs(errors[0]):
        return "divergent", "the error grew"
    if flips == 0:
        return "monotone", "the error shrank without changing sign"
    if flips == len(errors) - 1:
        return "oscillating", "the error changed sign at every step and shrank"
    return "mixed", f"the error changed sign {flips} times in {len(errors) - 1} steps"


def test_classify_learning_rate_agrees_with_gradient_descent_on_the_story(learner):
    """Each label matches what gradient descent on y = 3x does along the steepest direction.

    Run here for nine rates from 0.01 to 1: the error theta - theta_star along
    H's top eigenvector is multiplied by 1 - lr*lambda_max at each step, so it
    keeps its sign ("monotone"), flips sign while shrinking ("oscillating"), or
    grows ("divergent"). A property of the labels, read off 12 steps (few
    enough that at lr = 0.05, where the factor is 0.165, the error stays far
    above rounding: 0.165**12 ~ 4e-10).
    """
    steps = 12
    rates = (0.01, 0.03, 0.05, 0.07, 0.1, 0.115, 0.125, 0.2, 1.0)
    for lr, got in zip(rates, learner.classify_learning_rate.each((SEED_X, lr) for lr in rates)):
        errors = steepest_errors(lr, steps)
        seen, how = observed(errors)
        expect_true(got == seen,
                    f"It returned {show(got)} for lr = {lr:g}, but gradient descent on y = 3x, "
                    f"x = 1..4, at that rate is {seen!r}: along the steepest direction {how} "
                    f"({', '.join(f'{e:.3g}' for e in errors[:4])}, ... {errors[-1]:.3g} after "
                    f"{steps} steps)." + label_note(got, seen), call=learner.classify_learning_rate)


def test_classify_learning_rate_rejects_bad_rates_and_empty_inputs(learner):
    """A bad rate (0, negative, nan) or bad inputs (empty, scalar, 3-D) raise ValueError.

    As the docstrings say: lr must be > 0, and inputs non-empty of shape (N,) or (N, P),
    for classify_learning_rate and critical_learning_rate alike.
    """
    cases = [(SEED_X, 0.0), (SEED_X, -0.1), (SEED_X, float("nan")), ([], 0.1),
             (np.ones((2, 2, 2)), 0.1), (3.0, 0.1)]
    for inputs, lr in cases:
        try:
            got = learner.classify_learning_rate(inputs, lr)
        except LearnerError as exc:
            outcome = f"it raised {exc.exc_type}"
            raised = exc.exc_type
        else:
            outcome = f"it returned {show(got)}"
            raised = None
        expect_true(raised == "ValueError",
                    f"{outcome[:1].upper()}{outcome[1:]}, but the docstring asks for a ValueError "
                    "when lr is not > 0 (zero, negative or nan: `if not lr > 0` catches nan too), "
                    "when inputs is empty, and when it does not have 1 or 2 dimensions (a "
                    "scalar, or 3 or more).",
                    call=learner.classify_learning_rate)
    # critical_learning_rate refuses the same inputs (its docstring's Raises).
    for inputs in ([], np.zeros((0, 2)), 3.0, np.ones((2, 2, 2))):
        try:
            got = learner.critical_learning_rate(inputs)
        except LearnerError as exc:
            outcome, raised = f"It raised {exc.exc_type}", exc.exc_type
        else:
            outcome, raised = f"It returned {show(got)}", None
        expect_true(raised == "ValueError",
                    f"{outcome}, but the docstring asks for a ValueError when inputs is empty "
                    "or does not have 1 or 2 dimensions (a scalar, or 3 or more).",
                    call=learner.critical_learning_rate)
