"""Exercise 3, vectorized: forward, loss and backward with matrices."""


import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from shared_checks import (
    best_fixed_rate,
    expect_losses,
    expect_settled,
    fail,
    generator,
    pick,
    seeds,
    thousandths,
)

from gradkata import gradcheck
from gradkata.verdict import expect_close, expect_true, show

# N is never the seed's global n_samples = 10 and always exceeds P (1 to 4), so
# a hard-coded 10 or N read off the wrong axis (x.shape[1]) changes the answer;
# and N/10, N/P are never 2 or 1/2, so such a bug is not mistaken for a factor 2.
SAMPLES = [7, 9, 11, 13]

# Relative precision a correct answer reaches in each dtype, with room for a
# different order of the sums.
PRECISION = {np.dtype(np.float32): 1e-5, np.dtype(np.float64): 1e-12}

BACKWARD_HINT = ("With the error y_hat - y and N the number of samples (the rows of x): dL/dw "
                 "is x transposed times the error, over N, of shape (P, k); dL/db is the error "
                 "summed over the samples, over N, of shape (1, k). Each step goes against its "
                 "gradient, scaled by the learning rate.")


# The likely causes of a factor in backward's step, offered as possibilities.
BACKWARD_CAUSES = {
    "twice": "the square's 2 kept although the loss's 1/(2N) cancels it, or a division by N/2.",
    "half": "a division by 2N where N belongs (the loss's 1/2 is already cancelled by the "
            "square's 2).",
    "factor": "a wrong N (N is the number of rows of x), a mean where a sum belongs, or the "
              "other way round.",
}


def backward_factors(n):
    """A step exactly 1/N of the expected one, named for backward with N samples."""
    return {1 / n: f"Your step is exactly 1/N of the expected one (N = {n}): divided by N twice, "
                   "as a mean followed by / N does (a mean already divides by N)."}


@st.composite
def problems(draw, dtypes=(np.float64,), targets=True):
    """x (N, P), w (P, k), b (1, k) and y (N, k) (or None) in one dtype, and a step size."""
    rng = generator(draw)  # one draw: everything else comes from it
    dtype = pick(rng, dtypes)
    # k is never 2, so a loss divided by N instead of N*k is not mistaken for a factor 2.
    n, p, k = pick(rng, SAMPLES), int(rng.integers(1, 5)), pick(rng, [1, 3])

    def matrix(shape):
        return thousandths(rng, shape).astype(dtype)

    x, w, b = matrix((n, p)), matrix((p, k)), matrix((1, k))
    y = matrix((n, k)) if targets else None
    # Not 0.5: a step of twice the expected size would then also read as "lr ignored".
    return x, w, b, y, pick(rng, [0.01, 0.1, 0.3])


def half_mse(x, y, w, b):
    """L(w, b) = (1/(2N)) sum (x @ w + b - y)^2, the loss backward descends, in float64."""
    return float(np.sum((x @ w + b - y) ** 2) / (2 * x.shape[0]))


def test_forward_adds_the_bias_to_every_row(learner):
    """With w = 0 every row of y_hat is the bias b: N = 5 rows of [1.5, -2.0]."""
    x = np.arange(15.0).reshape(5, 3)
    b = np.array([[1.5, -2.0]])
    expect_close(learner.forward(x, np.zeros((3, 2)), b), np.repeat(b, 5, axis=0), rtol=0,
                 atol=0, call=learner.forward,
                 hint="Add the whole (1, k) row b to every one of the N rows: x @ w + b.")


@given(problem=problems(dtypes=(np.float32, np.float64), targets=False))
def test_forward_matches_the_reference(learner, reference, problem):
    """forward returns x @ w + b, of shape (N, k), for any N, P and k, in float32 and float64."""
    x, w, b, _, _ = problem
    precision = PRECISION[x.dtype]
    scale = float(np.max(np.abs(x) @ np.abs(w) + np.abs(b)))  # what rounding is relative to
    expect_close(learner.forward(x, w, b), reference.forward(x, w, b), rtol=precision,
                 atol=precision * scale, call=learner.forward,
                 hint="y_hat = x @ w + b: an (N, P) by (P, k) matrix product, plus the (1, k) "
                      "bias, which broadcasting adds to every row.")


def test_calculate_loss_matches_the_storys_values(learner):
    """Predicting 0 scores 67.5 on y = 3, 6, 9, 12 and 62.5 on y = 3, 4, 9, 12.

    The means of the squares (9 + 36 + 81 + 144) / 4 and (9 + 16 + 81 + 144) / 4.
    Predicting 3x = 3, 6, 9, 12 scores 0 on the first y and 4/4 = 1 on the second,
    which differs from it by 2 in one place. With both y side by side (k = 2) the
    mean is over all N*k = 8 entries: (270 + 250) / 8 = 65 against 0, and 4/8 =
    0.5 against 3x in both columns; a mean over the N rows alone doubles both.
    """
    seed_001, seed_000 = (np.array(y, dtype=float).reshape(4, 1)
                          for y in ([3, 6, 9, 12], [3, 4, 9, 12]))
    both = np.hstack([seed_001, seed_000])
    cases = [(seed_001, 0 * seed_001), (seed_000, 0 * seed_001),
             (seed_001, seed_001), (seed_000, seed_001),
             (both, 0 * both), (both, np.hstack([seed_001, seed_001]))]
    got = list(learner.calculate_loss.each(cases))
    want = [67.5, 62.5, 0.0, 1.0, 65.0, 0.5]
    expect_losses(got, want,
                  "vectorized.calculate_loss(y, y_hat) with y = [[3], [6], [9], [12]] "
                  "and y = [[3], [4], [9], [12]], each against y_hat = 0 and against "
                  "y_hat = [[3], [6], [9], [12]], then both side by side (shape (4, 2)) against "
                  "0 and against [[3, 3], [6, 6], [9, 9], [12, 12]]",
                  loss_reading(cases, got))


def loss_reading(cases, got):
    """Which loss the returned values are, each named only when every value fits it; else the
    possible causes."""
    try:
        values = np.array(got, dtype=float)
    except (TypeError, ValueError):
        return ""
    if values.shape != (len(cases),):
        return ""
    diffs = [np.asarray(y, float) - np.asarray(y_hat, float) for y, y_hat in cases]
    readings = [
        ([np.sqrt(np.mean(d**2)) for d in diffs], "Your values are the square root of the MSE "
         "(the RMSE): the loss is the mean of the squared differences itself, with no root."),
        ([np.sum(d**2) for d in diffs], "Your values are the sum of the squared differences: "
         "the MSE is their mean, over all N*k entries."),
        ([np.mean(np.abs(d)) for d in diffs], "Your values are the mean absolute difference: "
         "square the differences, do not take their absolute values."),
        ([np.sum(d**2) / d.shape[0] for d in diffs], "Your values divide by the N rows alone: "
         "the mean is over every entry, all N*k of them."),
    ]
    for fitted, text in readings:
        if np.allclose(values, fitted, rtol=1e-12, atol=0):
            return text
    return ("Possible causes: a sum where the mean belongs, absolute values or a root where "
            "the squares belong, or a mean over the rows only (it is over all N*k entries).")


@given(n=st.sampled_from(SAMPLES), k=st.sampled_from([1, 3]),
       dtype=st.sampled_from([np.float32, np.float64]), seed=seeds)
def test_calculate_loss_matches_the_reference(learner, reference, n, k, dtype, seed):
    """calculate_loss is the mean of (y - y_hat)**2 over all N*k entries, as one number."""
    rng = np.random.default_rng(seed)
    y, y_hat = (thousandths(rng, (n, k)).astype(dtype) for _ in range(2))
    expect_close(learner.calculate_loss(y, y_hat), reference.calculate_loss(y, y_hat),
                 rtol=PRECISION[y.dtype], atol=1e-30, call=learner.calculate_loss,
                 hint="The loss is the mean, over every one of the N*k entries, of the squared "
                      "difference between y and y_hat.")


@given(problem=problems())
def test_backward_matches_numerical_gradient(learner, problem):
    """backward steps by -learning_rate times the numerical gradient of (1/(2N)) sum (y_hat - y)^2.

    The gradients are gradkata.gradcheck's central differences of that loss in w
    and in b. L is quadratic, so they are exact up to rounding, about
    1e-10 * (1 + L): the tolerance 1e-8 * (1 + L) leaves a wide margin. y_hat is
    computed here (x @ w + b), not by your forward.
    """
    x, w, b, y, lr = problem
    grad_w = gradcheck.numerical_gradient(lambda v: half_mse(x, y, v, b), w)
    grad_b = gradcheck.numerical_gradient(lambda v: half_mse(x, y, w, v), b)
    tolerance = 1e-8 * (1 + half_mse(x, y, w, b))
    got = learner.backward(y, x @ w + b, w, b, x, lr)
    expect_close(got, (w - lr * grad_w, b - lr * grad_b), parts=("w_next", "b_next"),
                 start=(w, b), lr=lr, rtol=1e-9, atol=lr * tolerance, call=learner.backward,
                 hint=BACKWARD_HINT, causes=BACKWARD_CAUSES, factors=backward_factors(len(x)))


@given(problem=problems(dtypes=(np.float32, np.float64)))
def test_backward_matches_the_reference(learner, reference, problem):
    """backward returns the reference's (w_next, b_next), in float32 and float64."""
    x, w, b, y, lr = problem
    y_hat = (x @ w + b).astype(x.dtype)
    want = reference.backward(y, y_hat, w, b, x, lr)
    precision = PRECISION[x.dtype]
    # Rounding is relative to the sizes of w, b and the gradient's terms, not to the result.
    error = np.abs(y_hat.astype(float) - y)
    scale = max(float(np.max(np.abs(w))), float(np.max(np.abs(b))),
                lr * float(np.max(np.abs(x).T @ error + np.sum(error, axis=0))) / x.shape[0])
    expect_close(learner.backward(y, y_hat, w, b, x, lr), want, parts=("w_next", "b_next"),
                 start=(w, b), lr=lr, rtol=precision, atol=precision * scale,
                 call=learner.backward, hint=BACKWARD_HINT, causes=BACKWARD_CAUSES,
                 factors=backward_factors(len(x)))


def expect_step_shapes(got, w, b, call, x_rows):
    """Fail unless ``got`` is a pair of arrays shaped like w (P, k) and b (1, k).

    The message names the usual cause of each wrong shape. Checked after every
    step of a descent: each message is built only when it is needed.
    """
    if not (isinstance(got, (tuple, list)) and len(got) == 2):
        fail(f"It returned {show(got)}, but the tests expected a pair (w_next, b_next).",
             call=call)
    for name, value, want in zip(("w_next", "b_next"), got, (w.shape, b.shape)):
        shape = value.shape if isinstance(value, np.ndarray) else None
        if shape != want:
            found = (f"shape {shape}" if shape is not None
                     else f"a {type(value).__name__}, not an array")
            fail(f"{name} has {found}, but the tests expected shape {want}. "
                 f"{shape_cause(name, shape, w.shape, x_rows)}".rstrip(), call=call)


def shape_cause(name, shape, w_shape, n):
    """The usual cause of a wrong shape of w_next or b_next ('' if none is known)."""
    p, k = w_shape
    causes = {
        "w_next": {(k, p): "It is transposed: dL/dw is x transposed, (P, N), times the error, "
                           "(N, k).",
                   (p, p): "Shapes (P, 1) and (1, P) were broadcast together: is a product "
                           "transposed?"},
        "b_next": {(n, k): "It has a row per sample: every sample shares b, so dL/db sums "
                           "y_hat - y over the samples (the rows, axis 0), divided by N; that "
                           "sum is missing or was taken over another axis.",
                   (k,): "The sum over the samples lost its axis: keep b's shape (1, k)."},
    }
    return causes[name].get(shape, "")


def test_backward_returns_arrays_shaped_like_w_and_b(learner):
    """backward returns w_next shaped (P, k) and b_next shaped (1, k): N = 7, P = 3, k = 2 and 1."""
    rng = np.random.default_rng(7)
    for k in (2, 1):
        x, w = rng.standard_normal((7, 3)), rng.standard_normal((3, k))
        b, y = rng.standard_normal((1, k)), rng.standard_normal((7, k))
        expect_step_shapes(learner.backward(y, x @ w + b, w, b, x, 0.1), w, b, learner.backward,
                           len(x))


def descent(learner, x, y, lr, steps):
    """Iterate the learner's backward from w = 0, b = 0, each step given y_hat = x @ w + b.

    The steps run in one go in the learner's process (the prediction is made
    there, from the w and b the last step returned); each result is checked as it
    comes back. Returns the parameters after each step as one column block
    [w; b] of shape (P + 1, k), and the MSE after each step.
    """
    w, b = np.zeros((x.shape[1], y.shape[1])), np.zeros((1, y.shape[1]))
    path, losses = [np.vstack([w, b])], [float(np.mean((x @ w + b - y) ** 2))]
    # backward(y, y_hat, w, b, x, learning_rate): the next w, b and y_hat come from the result.
    feed = [(2, ("copy", 0)), (3, ("copy", 1)), (1, ("affine", 4, 0, 1))]
    lr = float(lr)  # the docstring says float: a plain Python number, never a numpy scalar
    for got in learner.backward.chain(steps, y, x @ w + b, w, b, x, lr, feed=feed):
        expect_step_shapes(got, w, b, learner.backward, len(x))
        w, b = got
        path.append(np.vstack([w, b]))
        losses.append(float(np.mean((x @ w + b - y) ** 2)))
    return path, losses


def seed_like_data():
    """The story's set-up, y = x @ w_true + b_true + 0.05 noise, with N = 12, P = 3 and k = 2.

    (The story has N = 10, P = 5, k = 1.) x is drawn from a standard normal
    rather than the story's uniform(0, 1), whose mean of 0.5 makes A = [x, 1]
    badly conditioned; here (1/N) A^T A has kappa 4.1.
    """
    rng = np.random.default_rng(3)
    x = rng.standard_normal((12, 3))
    y = x @ rng.standard_normal((3, 2)) + rng.standard_normal((1, 2))
    y += 0.05 * rng.standard_normal((12, 2))
    a = np.column_stack([x, np.ones(12)])
    return x, y, a, np.linalg.lstsq(a, y, rcond=None)[0]


def expect_falling(losses, call, why):
    """Fail if the loss rises from a step to the next by more than rounding (1e-12 of the start)."""
    slack = 1e-12 * (1 + losses[0])
    rises = [t for t in range(len(losses) - 1) if losses[t + 1] > losses[t] + slack]
    if rises:
        t = rises[0]
        fail(f"The MSE rose at step {t + 1}, from {losses[t]:.10g} to "
             f"{losses[t + 1]:.10g}. {why}", call=call)


def test_backward_descends_to_the_least_squares_fit(learner):
    """At a small learning rate the MSE never rises and the steps reach the least-squares fit.

    The optimum is the closed form np.linalg.lstsq on A = [x, 1]. backward
    descends L = (1/(2N)) ||A theta - y||^2, whose Hessian is (1/N) A^T A; at the
    learning rate 2 / (lambda_min + lambda_max) of it, the best fixed rate, every
    error mode shrinks by at least q = (kappa - 1)/(kappa + 1) per step (0.61 here)
    and, being below the critical rate 2 / lambda_max, every step lowers the MSE.
    The number of steps is the one that takes the error below 1e-9.
    """
    x, y, a, best = seed_like_data()
    lam = np.linalg.eigvalsh(a.T @ a / len(x))
    lr, steps = best_fixed_rate(lam, np.linalg.norm(best), 1e-9)
    call = (f"backward {steps} times from w = 0, b = 0 at learning_rate = {lr:.4g} "
            "(N = 12, P = 3, k = 2)")
    path, losses = descent(learner, x, y, lr, steps)
    expect_falling(losses, call, "Below the critical learning rate every step lowers the MSE: "
                   "is it a step downhill?")
    expect_settled(path[-1], best, 1e-8, call, "The steps settle at the least-squares fit "
                   "(np.linalg.lstsq), where x.T @ (y_hat - y) and the column sums of y_hat - y "
                   "are 0.")


def test_backward_converges_below_and_diverges_above_its_critical_rate(learner):
    """Steps converge at 0.9 times backward's critical rate and blow up at 1.1 times it.

    For the MSE (1/N) ||A theta - y||^2 with A = [x, 1] the Hessian is
    (2/N) A^T A and the critical rate 2/lambda_max of it. backward descends HALF
    the MSE (it "ignores the 2"), whose Hessian is (1/N) A^T A: its critical
    rate is twice the MSE's, 4/lambda_max((2/N) A^T A). At 0.9 of it the top
    error mode is multiplied by -0.8 per step and the others shrink faster
    (kappa 4.1), so 15 steps shrink the distance to the least-squares fit theta*
    by at least 0.8**15 ~ 0.035; at 1.1 of it the top mode grows 1.2-fold per
    step, and after 15 steps the distance from theta* is about 1.2**15 ~ 15
    times the top mode's share of the start (72% here), about 11 times the
    whole starting distance. The test asks for 5 times.
    """
    x, y, a, best = seed_like_data()
    critical_mse = 2 / np.linalg.eigvalsh(2 / len(x) * a.T @ a)[-1]
    critical = 2 * critical_mse  # backward's loss is half the MSE
    steps, distance = 15, float(np.linalg.norm(best))  # from w = 0, b = 0

    below = f"backward {steps} times from w = 0, b = 0 at 0.9 * {critical:.4g}"
    path, losses = descent(learner, x, y, 0.9 * critical, steps)
    expect_falling(losses, below, "Below the critical learning rate the MSE falls at every step.")
    final = float(np.linalg.norm(path[-1] - best))
    bound = 0.8**steps * distance
    expect_true(final <= bound + 1e-12,
                f"After {steps} steps [w; b] was {final:.3g} from the least-squares fit: at 0.9 "
                "times the critical rate (2/lambda_max of the half-MSE's Hessian (1/N) A^T A) "
                f"each step shrinks that distance at least 0.8-fold, from {distance:.3g} to at "
                f"most {bound:.3g}.", call=below)

    above = f"backward {steps} times from w = 0, b = 0 at 1.1 * {critical:.4g}"
    path, _ = descent(learner, x, y, 1.1 * critical, steps)
    final = float(np.linalg.norm(path[-1] - best))
    expect_true(final >= 5 * distance,
                f"After {steps} steps [w; b] was only {final:.3g} from the least-squares fit (it "
                f"started {distance:.3g} away): above the critical rate gradient descent "
                "overshoots further at every step. Does backward divide by N and use the full "
                "learning rate?", call=above)
