"""Exercise 2, loop_gradients: full-batch steps on the MSE, one sample at a time."""

import math

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from shared_checks import best_fixed_rate, expect_settled, fail, generator, pick, thousandths

from gradkata import gradcheck
from gradkata.sandbox import single_number
from gradkata.verdict import constant_ratio, expect_close, expect_true, show

# Seed 001's data (x = 1, 2, 3, 4 and y = 3x), fitted from seed 004's start w = b = 0.0.
X_SEED = np.array([1.0, 2.0, 3.0, 4.0])
Y_SEED = 3 * X_SEED

# Never the seed's N = 10 (nor 5 or 20, where a hard-coded 10 would pass for a factor 2).
SIZES = [2, 3, 4, 6, 7, 8, 9, 11, 12, 13]

STEP_HINT = ("Sum every sample's share with w and b held fixed: dL/dw = sum (2/N) * "
             "(y_i - (w*x_i + b)) * (-x_i) and dL/db = sum (2/N) * (y_i - (w*x_i + b)) * (-1); "
             "only after the loop return (w - learning_rate * dL/dw, b - learning_rate * dL/db).")


def mse(x, y, theta):
    """L(w, b) = (1/N) sum (y_i - (w x_i + b))^2 with theta = [w, b], in float64."""
    return float(np.mean((y - (theta[0] * x + theta[1])) ** 2))


def as_pair(got, call):
    """A returned (w_next, b_next) as one float64 array, after checking it is two numbers.

    One array, so that a pattern in the step (a factor 2, a flipped sign, an
    ignored learning rate) is read off both parameters together rather than
    off each single number.
    """
    numbers = []
    if isinstance(got, (tuple, list)):
        for value in got:
            try:
                numbers.append(single_number(value))
            except TypeError:
                break
    if not len(numbers) == 2 == len(got):  # the message is built only when it is needed
        fail(f"It returned {show(got)}, but the tests expected a pair (w_next, b_next) of two "
             "numbers: the parameters after one step (despite the function's name, not the "
             "gradients).", call=call)
    return np.array(numbers)


def take_step(learner, x, y, theta, lr):
    """Call calculate_gradients from theta = [w, b] (Python floats, as in the story)."""
    got = learner.calculate_gradients(x, y, float(theta[0]), float(theta[1]), lr, len(x))
    return as_pair(got, learner.calculate_gradients)


# The likely causes of a factor in this exercise's step, offered as possibilities.
CAUSES = {
    "twice": "the square's 2 counted twice, or a division by N/2 where N belongs.",
    "half": "the 2 of the square's derivative left out (d/dw of (1/N) sum r_i^2 is "
            "(2/N) sum r_i * dr_i/dw), or a division by 2N where N belongs.",
    "factor": "a wrong N (the sums divide by N, the number of samples), or a sum where a mean "
              "belongs.",
}


def expect_pair(got, want, *, start, **checks):
    """expect_close on w_next and b_next each on its own, so that a slip in one of the two
    steps (a factor, a sign, an ignored learning rate) is read off that step alone."""
    checks.pop("what", None)
    checks.setdefault("causes", CAUSES)
    got, want, start = (np.asarray(v, dtype=float) for v in (got, want, start))
    if constant_ratio(got - start, want - start) is not None:  # one slip in both: read it once
        expect_close(got, want, start=start, what="(w_next, b_next)", **checks)
    expect_close(tuple(got), tuple(want), parts=("w_next", "b_next"), start=tuple(start),
                 **checks)


@st.composite
def problems(draw):
    """x, y of a random length N (not 10), a start [w, b] and a learning rate."""
    rng = generator(draw)  # one draw: everything else comes from it
    n = pick(rng, SIZES)
    x, y, theta = thousandths(rng, n), thousandths(rng, n), thousandths(rng, 2)
    return x, y, theta, pick(rng, [0.01, 0.05, 0.2])


def test_calculate_gradients_matches_the_storys_first_steps(learner):
    """From w = b = 0 on x = 1..4, y = 3x, lr 0.01: steps to (0.45, 0.15), then (0.825, 0.2745).

    The story starts from w = b = 0.0; fitting y = 3x on x = 1, 2, 3, 4 (the
    numeric_gradients story) gives w = 0.45 after one step at lr 0.01 and 4.5 at
    lr 0.1. At w = b = 0
    every residual is y_i, so w_next = lr * (2/N) * sum x_i y_i = lr * 0.5 * 90 and
    b_next = lr * (2/N) * sum y_i = lr * 0.5 * 30. From (0.45, 0.15) the residuals
    are 2.55 x_i - 0.15, whose sums are 75 (times x_i) and 24.9, so
    w_next = 0.45 + 0.01 * 0.5 * 75 = 0.825 and b_next = 0.15 + 0.01 * 0.5 * 24.9 = 0.2745.
    """
    call = learner.calculate_gradients
    for lr, want in ((0.01, [0.45, 0.15]), (0.1, [4.5, 1.5])):
        start = np.zeros(2)
        got = take_step(learner, X_SEED, Y_SEED, start, lr)
        expect_pair(got, np.array(want), rtol=1e-12, atol=1e-12, start=start, lr=lr,
                    what="(w_next, b_next)", call=call, factors=SIGN,
                    hint=("At w = b = 0 each residual is y_i, so dL/dw = sum (2/N)*y_i*(-x_i) "
                          "= -45 and w_next = w - learning_rate * dL/dw. "
                          + step_reading(got, X_SEED, Y_SEED, start, lr)).strip())
    start = np.array([0.45, 0.15])
    got = take_step(learner, X_SEED, Y_SEED, start, 0.01)
    expect_pair(got, np.array([0.825, 0.2745]), rtol=1e-12, atol=1e-12, start=start, lr=0.01,
                what="(w_next, b_next)", call=call, factors=SIGN,
                hint=("The prediction is w*x_i + b with the w and b you were given. "
                      + step_reading(got, X_SEED, Y_SEED, start, 0.01)).strip())


# A flipped step, read in this exercise's terms: the docstring writes the chain rule with
# (y_i - y_hat_i) * (-x_i), so the inner derivative's minus is the likeliest one to go.
SIGN = {-1.0: "Your step has the opposite sign of the expected one. Possible causes here: the "
              "inner derivative's minus dropped (d/dw of y_i - (w*x_i + b) is -x_i, and d/db "
              "is -1), (y_i - y_hat_i) written where the docstring's chain rule pairs it with "
              "-x_i, or a step uphill (w + learning_rate * gradient)."}


def one_step(x, y, theta, lr):
    """(w_next, b_next) of a full-batch step on the MSE, in float64 (a closed form)."""
    residual = y - (theta[0] * x + theta[1])
    n = len(x)
    return np.array([theta[0] + lr * (2 / n) * np.sum(residual * x),
                     theta[1] + lr * (2 / n) * np.sum(residual)])


def step_reading(got, x, y, theta, lr):
    """What a wrong (w_next, b_next) fits: a swapped pair, w and b changed inside the loop, or a
    sample left out, each named only when the numbers match it; else the possible causes."""
    def same(a, b):
        return bool(np.allclose(a, b, rtol=1e-10, atol=1e-12))

    want = one_step(x, y, theta, lr)
    if same(got[::-1], want) and not same(want[::-1], want):
        return "w_next and b_next came back swapped: return them in the order (w_next, b_next)."
    inside = np.array(theta, dtype=float)
    for xi, yi in zip(x, y):  # a step per sample, each with the full-batch 2/N
        r = yi - (inside[0] * xi + inside[1])
        inside = inside + lr * (2 / len(x)) * r * np.array([xi, 1.0])
    if same(got, inside):
        return ("Your values are what changing w and b inside the loop gives: keep w and b "
                "fixed while the loop sums; change them once, after it.")
    skipped = skipped_reading(x, y, theta, lr, got, want)
    if skipped:
        return skipped
    steps = (np.asarray(got, dtype=float) - theta, want - theta)
    ratios = [constant_ratio(*steps)] + [constant_ratio(g, w) for g, w in zip(*steps)]
    known = (0.0, 2.0, 0.5, -1.0, 1 / lr, -1 / lr, lr)
    if any(c is not None and any(abs(c - k) <= 1e-3 * max(1.0, abs(k)) for k in known)
           for c in ratios):
        return ""  # the step's ratio is read out above; a list of guesses would only blur it
    return ("Possible causes: w or b changed inside the loop, a sample skipped, or one of the "
            "two steps built from the other's gradient.")


@given(problem=problems())
def test_calculate_gradients_matches_numerical_gradient(learner, problem):
    """The step is -learning_rate times the numerical gradient of the MSE, for any data and N.

    The gradient is gradkata.gradcheck's central difference of
    L(w, b) = (1/N) sum (y_i - (w x_i + b))^2 at the start. L is quadratic, so the
    difference is exact up to rounding, about 1e-10 * (1 + L): the tolerance
    1e-8 * (1 + L) leaves a wide margin.
    """
    x, y, theta, lr = problem
    numeric = gradcheck.numerical_gradient(lambda t: mse(x, y, t), theta)
    tolerance = 1e-8 * (1 + mse(x, y, theta))
    want = theta - lr * numeric
    got = take_step(learner, x, y, theta, lr)
    expect_pair(got, want, rtol=1e-9, atol=lr * tolerance, start=theta, lr=lr,
                what="(w_next, b_next)", call=learner.calculate_gradients,
                hint=skipped_reading(x, y, theta, lr, got, want) or STEP_HINT, factors=SIGN)


def skipped_reading(x, y, theta, lr, got, want):
    """If the step is the one over every sample but one (its sum divided by N or by
    N - 1), a sentence naming that sample; else ''. The closed form of the MSE's
    gradient over the samples kept, so only an exact fit names the slip."""
    n = len(x)
    for index in range(n):
        keep = np.arange(n) != index
        residual = theta[0] * x[keep] + theta[1] - y[keep]
        for divisor in (n, n - 1):
            gradient = 2 / divisor * np.array([np.sum(residual * x[keep]), np.sum(residual)])
            step = theta - lr * gradient
            if (np.allclose(got, step, rtol=1e-10, atol=1e-12)
                    and not np.allclose(step, want, rtol=1e-10, atol=1e-12)):
                return (f"Your step is the one taken with one sample left out (the one at "
                        f"index {index}, x = {x[index]:g}, y = {y[index]:g}): the loop skipped "
                        "it. Every one of the N samples adds its share to the sums.")
    return ""


@given(problem=problems())
def test_calculate_gradients_matches_the_reference(learner, reference, problem):
    """calculate_gradients returns the reference's (w_next, b_next), for any data and N."""
    x, y, theta, lr = problem
    want = np.array([float(v) for v in reference.calculate_gradients(
        x, y, float(theta[0]), float(theta[1]), lr, len(x))])
    # Only the order of the sums may differ: rounding of about 1e-15 * sum |terms| <= 1e-12.
    expect_pair(take_step(learner, x, y, theta, lr), want, rtol=1e-10, atol=1e-10, start=theta,
                 lr=lr, what="(w_next, b_next)", call=learner.calculate_gradients,
                 hint=STEP_HINT, factors=SIGN)


def expect_falling(losses, call, why):
    """Fail if the loss rises from a step to the next by more than rounding (1e-12 of the start)."""
    slack = 1e-12 * (1 + losses[0])
    rises = [t for t in range(len(losses) - 1) if losses[t + 1] > losses[t] + slack]
    if rises:
        t = rises[0]
        fail(f"The loss rose at step {t + 1}, from {losses[t]:.10g} to "
             f"{losses[t + 1]:.10g}. {why}", call=call)


def run(learner, x, y, lr, epochs, theta=(0.0, 0.0)):
    """Iterate the learner's step from theta; the parameters after each step, and the losses.

    The steps run in one go in the learner's process, each fed the last one's
    w_next and b_next as Python floats; each result is checked as it comes back.
    """
    theta = np.array(theta, dtype=float)
    lr = float(lr)  # the docstring says float: a plain Python number, never a numpy scalar
    path, losses = [theta], [mse(x, y, theta)]
    steps = learner.calculate_gradients.chain(
        epochs, x, y, float(theta[0]), float(theta[1]), lr, len(x),
        feed=[(2, ("number", 0)), (3, ("number", 1))])
    for got in steps:
        theta = as_pair(got, learner.calculate_gradients)
        path.append(theta)
        losses.append(mse(x, y, theta))
    return path, losses


def design(x):
    """A = [x, 1] and the eigenvalues of the MSE's Hessian H = (2/N) A^T A, ascending."""
    a = np.column_stack([x, np.ones_like(x)])
    return a, np.linalg.eigvalsh(2 / len(x) * a.T @ a)


def test_calculate_gradients_recovers_the_storys_line(learner):
    """Repeated steps on the story's kind of noise-free data (N = 10) reach the true w and b.

    The story draws x ~ uniform(0, 1), w and b the same way, and y = w x + b without
    noise, so the residuals all vanish at the true (w, b). Its lr 0.01 stops
    short (its 500 epochs end at w = 0.394 for a true 0.438): here the learning rate
    is the closed form's best, 2 / (lambda_min + lambda_max) of H = (2/N) A^T A,
    which shrinks the error by q = (kappa - 1)/(kappa + 1) per epoch, and the number
    of epochs is the one that takes the error below 1e-7.
    """
    rng = np.random.default_rng(11)  # any draw works; this one needs few epochs (kappa 12)
    x = rng.random(10)
    w_true, b_true = rng.random(), rng.random()
    y = w_true * x + b_true
    _, lam = design(x)
    lr, epochs = best_fixed_rate(lam, math.hypot(w_true, b_true), 1e-7)
    path, _ = run(learner, x, y, lr, epochs)
    expect_settled(path[-1], np.array([w_true, b_true]), 1e-6,
                   f"calculate_gradients {epochs} times from w = b = 0.0 at learning_rate = "
                   f"{lr:.4g} on ten noise-free points of a line (N = 10)",
                   "Each call makes exactly one full step; on noise-free data the steps settle "
                   "where every residual y_i - (w*x_i + b) is 0.")


def test_calculate_gradients_descends_to_the_least_squares_fit(learner):
    """At a small learning rate the loss never rises and the steps reach the least-squares line.

    The optimum is the closed form np.linalg.lstsq on A = [x, 1]. The learning
    rate is 2 / (lambda_min + lambda_max) of H, the best fixed rate: every error
    mode shrinks by |1 - lr * lambda| <= (kappa - 1)/(kappa + 1) per epoch and,
    below the critical rate 2 / lambda_max, the loss falls at every step (up to
    rounding, 1e-12 here).
    """
    rng = np.random.default_rng(2)
    x = rng.uniform(-1, 2, 8)
    y = 1.5 * x - 0.5 + 0.3 * rng.standard_normal(8)
    a, lam = design(x)
    best = np.linalg.lstsq(a, y, rcond=None)[0]
    lr, epochs = best_fixed_rate(lam, np.linalg.norm(best), 1e-9)
    path, losses = run(learner, x, y, lr, epochs)
    call = (f"calculate_gradients {epochs} times from w = b = 0.0 at learning_rate = {lr:.4g} "
            f"(N = {len(x)})")
    expect_falling(losses, call, "Below the critical learning rate every full-batch step "
                   "lowers the MSE: is it one step downhill, on all N samples at once?")
    expect_settled(path[-1], best, 1e-7, call, "The steps settle at the least-squares line "
                   "(np.linalg.lstsq), where both gradient sums are 0.")


def test_calculate_gradients_converges_below_and_diverges_above_the_critical_rate(learner):
    """Steps converge at 0.9 times the critical rate 2 / lambda_max(H) and blow up at 1.1 times.

    For L = (1/N) ||A theta - y||^2 with A = [x, 1], the Hessian is H = (2/N) A^T A
    (computed here with numpy) and every step multiplies the error theta - theta*
    along H's eigenvector i by 1 - lr * lambda_i. At 0.9 * 2/lambda_max that is
    -0.8 for the top one and -0.19 for the other (the data are well conditioned,
    kappa = 1.5), so 15 steps shrink the distance to the least-squares fit theta*
    by at least 0.8**15 ~ 0.035. At 1.1 * 2/lambda_max the top factor is -1.2:
    starting from 0, 96% of the distance lies along that eigenvector, so after 15
    steps the distance is about 0.96 * 1.2**15 ~ 15 times what it was; the test
    asks for 5.
    """
    rng = np.random.default_rng(5)
    x = rng.uniform(-1, 2, 9)
    y = 0.8 * x + 1.2 + 0.2 * rng.standard_normal(9)
    a, lam = design(x)
    best = np.linalg.lstsq(a, y, rcond=None)[0]
    critical = 2 / lam[-1]
    steps, distance = 15, float(np.linalg.norm(best))  # from w = b = 0

    below = f"calculate_gradients {steps} times from w = b = 0 at 0.9 * {critical:.4g}"
    path, losses = run(learner, x, y, 0.9 * critical, steps)
    expect_falling(losses, below, "Below the critical learning rate the loss falls at every "
                   "step: is the step learning_rate * gradient, downhill?")
    bound = 0.8**steps * distance
    final = float(np.linalg.norm(path[-1] - best))
    expect_true(final <= bound + 1e-12,
                f"After {steps} steps (w, b) was {show(path[-1])}, {final:.3g} from the "
                f"least-squares fit {show(best)}: at 0.9 times the critical rate each step "
                f"shrinks that distance at least 0.8-fold, from {distance:.3g} to at most "
                f"{bound:.3g}.", call=below)

    above = f"calculate_gradients {steps} times from w = b = 0 at 1.1 * {critical:.4g}"
    path, _ = run(learner, x, y, 1.1 * critical, steps)
    final = float(np.linalg.norm(path[-1] - best))
    expect_true(final >= 5 * distance,
                f"After {steps} steps (w, b) was {show(path[-1])}, only {final:.3g} from the "
                f"least-squares fit (it started {distance:.3g} away): above the critical rate "
                "gradient descent overshoots further at every step and should be about 15 "
                "times further away. Is the step the full learning_rate * gradient, with the "
                "2/N of the MSE's derivative?", call=above)


@given(problem=problems())
def test_calculate_gradients_takes_w_and_b_as_arrays_of_shape_1(learner, reference, problem):
    """w and b may be float64 arrays of shape (1,): the same step, and the caller's w and b kept.

    The docstring allows both kinds; an update in place would change the caller's arrays.
    """
    x, y, theta, lr = problem
    w, b = np.array([theta[0]]), np.array([theta[1]])
    got = learner.calculate_gradients(x, y, w, b, lr, len(x))
    want = reference.calculate_gradients(x, y, np.array([theta[0]]), np.array([theta[1]]), lr,
                                         len(x))
    expect_close(got, want, rtol=1e-10, atol=1e-10, start=(w, b), lr=lr,
                 parts=("w_next", "b_next"), call=learner.calculate_gradients, hint=STEP_HINT,
                 factors=SIGN)
