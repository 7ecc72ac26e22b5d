"""Exercise 4, numeric_gradients: finite-difference steps on float32 weights."""


import functools
import math

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
    thousandths,
)

from gradkata.sandbox import LearnerAbort, NotStarted
from gradkata.verdict import Mistake, expect_close, expect_true, show

# Seed 001 fits y = 3x on x = 1, 2, 3, 4; seed 000 the same x with y = 3, 4, 9, 12.
# Both pass Python lists.
X_SEED = [[1], [2], [3], [4]]
Y_SEED = [[3], [6], [9], [12]]
Y_SEED_000 = [[3], [4], [9], [12]]
NUDGE = 0.0001  # the seeds' h


STEP_HINT = ("Possible causes: a slope measured at weights other than the ones you were given "
             "(a nudge or a step of an earlier element not kept apart), a nudge h other than "
             "0.0001, a slope other than (L(nudged) - L(given)) / h, or a step other than "
             "lr * slope on each element.")


def zeros():
    """The story's start W = b = 0: two separate (1, 1) float32 arrays.

    Not ``[np.array([[0]], dtype=np.float32)] * 2``: that is one array twice, and
    deepcopy keeps the two names tied, so nudging W would nudge b as well.
    """
    return [np.zeros((1, 1), dtype=np.float32), np.zeros((1, 1), dtype=np.float32)]


def design(inputs):
    """A = [x, 1], shape (N, P + 1), in float64."""
    x = np.asarray(inputs, dtype=float)
    return np.column_stack([x, np.ones(len(x))])


def stacked(weights):
    """theta = [W[0, 0], ..., W[P-1, 0], b[0, 0]] in float64."""
    return np.concatenate([np.asarray(w, dtype=float).ravel() for w in weights])


def unstacked(theta, weights):
    """theta back into [W (P, 1), b (1, 1)], still float64."""
    p = weights[0].shape[0]
    return [theta[:p].reshape(p, 1), theta[p:].reshape(1, 1)]


def mse(a, y, theta):
    """L = (1/N) ||A theta - y||^2, in float64."""
    return float(np.mean((a @ theta - np.ravel(y)) ** 2))


def analytic_step(inputs, outputs, weights, lr):
    """The closed form: [W, b] - lr * (2/N) A^T (A theta - y), in float64."""
    a, theta = design(inputs), stacked(weights)
    gradient = 2 / len(a) * a.T @ (a @ theta - np.ravel(np.asarray(outputs, float)))
    return unstacked(theta - lr * gradient, weights), gradient


def finite_difference_slack(inputs, weights, gradient, lr):
    """How far a correct finite-difference step may be from the exact one (an absolute bound).

    - truncation: a forward difference is off by (h/2) * d2L/dtheta^2, with
      d2L/dtheta_i^2 = (2/N) sum_n A[n, i]^2 (central differences by 0);
    - the nudge is added in float32, so the step really taken differs from h by up
      to half a float32 spacing of theta, a relative error of spacing/(2h) in the slope;
    - the result is rounded to float32.
    Each term is doubled for room.
    """
    a, theta = design(inputs), stacked(weights)
    curvature = float(np.max(2 / len(a) * np.sum(a**2, axis=0)))
    spacing = float(np.spacing(np.float32(np.max(np.abs(theta)))))
    slope = NUDGE * curvature + float(np.max(np.abs(gradient))) * spacing / NUDGE
    result = float(np.max(np.abs(theta - lr * gradient)))
    return lr * slope + 2 * float(np.spacing(np.float32(result)))


def sequential_step(inputs, outputs, weights, lr):
    """The weights when each element's slope is taken at the weights as already updated for
    the elements before it (W's elements in order, then b), in float64 and exactly."""
    a, theta = design(inputs), stacked(weights).copy()
    y = np.ravel(np.asarray(outputs, float))
    for i in range(len(theta)):
        theta[i] -= lr * 2 / len(a) * float(a[:, i] @ (a @ theta - y))
    return theta


def step_reading(inputs, outputs, weights, lr, got, want, atol):
    """Which slip the returned weights fit (named only on a match), else the possible causes."""
    try:
        values = stacked(got)
    except (TypeError, ValueError):
        return STEP_HINT
    if values.shape != stacked(weights).shape or not np.all(np.isfinite(values)):
        return STEP_HINT
    slip = sequential_step(inputs, outputs, weights, lr)
    if (np.allclose(values, slip, rtol=0, atol=atol)
            and not np.allclose(slip, stacked(want), rtol=0, atol=atol)):
        return ("They are what taking each element's slope at weights already stepped for the "
                "elements before it gives: every slope is measured at the original weights, "
                "the ones you were given, and the steps go into a separate copy.")
    return STEP_HINT


# What a constant factor in update_weights' step may come from: its slope is
# (L(theta + h) - L(theta)) / h and the loss a mean over the samples.
STEP_CAUSES = {
    "twice": "a slope divided by h/2, or a loss that is twice the MSE.",
    "half": "a slope divided by 2h (the central difference's denominator) after a forward "
            "difference, or half the MSE as the loss.",
    "factor": "a loss summed where its mean belongs (or the other way round), or a nudge in "
              "the slope's numerator other than the h it is divided by.",
}


def expect_weights(learner, got, want, start, lr, atol, hint=STEP_HINT):
    """[W_next, b_next]: two float32 arrays shaped like the weights, within atol of want."""
    expect_close(got, want, parts=("W_next", "b_next"), start=start, lr=lr, rtol=0, atol=atol,
                 dtype=np.dtype(np.float32), call=learner.update_weights, hint=hint,
                 causes=STEP_CAUSES)


def feed_forward_note(learner):
    """'' if the learner's feed_forward gives the story's losses, else a sentence saying
    that update_weights builds on it (one not written yet is left out)."""
    three = [np.array([[3]], dtype=np.float32), np.zeros((1, 1), dtype=np.float32)]
    try:
        got = [learner.feed_forward(X_SEED, Y_SEED, w) for w in (zeros(), three)]
    except NotStarted:
        return ""
    except (Exception, LearnerAbort):  # noqa: BLE001 - it raised or was stopped: wrong
        return ("update_weights measures its slopes with your feed_forward, and feed_forward "
                "does not return on the story's data: fix it first (its own test says how).")
    try:
        right = np.allclose([float(v) for v in got], [67.5, 0.0], rtol=1e-6, atol=1e-9)
    except (TypeError, ValueError):
        right = False
    if right:
        return ""
    return (f"update_weights measures its slopes with your feed_forward, which gives "
            f"{show(got)} where the story has [67.5, 0.0] (y = 3x at W = b = 0 and at W = 3): "
            "fix feed_forward first (its own test says how).")


def built_on_feed_forward(test):
    """A failing update_weights test also says when the learner's feed_forward is wrong."""
    @functools.wraps(test)
    def checked(*args, **kwargs):
        try:
            return test(*args, **kwargs)
        except Mistake as exc:
            learner = kwargs.get("learner")
            note = feed_forward_note(learner) if learner is not None else ""
            if not note:
                raise
            raise Mistake(f"{exc.message}\n{note}") from None
    return checked


@st.composite
def problems(draw):
    """Data (N, P) and (N, 1) as nested lists or float64 arrays, float32 weights, a step size."""
    # N is never 2, so a sum where the mean belongs is not mistaken for a factor 2.
    rng = generator(draw)  # one draw: everything else comes from it
    n, p = int(rng.integers(3, 10)), int(rng.integers(1, 4))
    x, y = thousandths(rng, (n, p)), thousandths(rng, (n, 1))
    weights = [thousandths(rng, (p, 1), 1.5).astype(np.float32),
               thousandths(rng, (1, 1), 1.5).astype(np.float32)]
    if pick(rng, [True, False]):
        x, y = x.tolist(), y.tolist()
    return x, y, weights, pick(rng, [0.02, 0.05, 0.1])


def test_feed_forward_matches_the_storys_values(learner):
    """On y = 3, 6, 9, 12 and y = 3, 4, 9, 12 the MSE is 67.5 and 62.5 at W = b = 0, 0 and 1 at W=3.

    At W = b = 0 every prediction is 0, so the MSE is (9 + 36 + 81 + 144) / 4 and
    (9 + 16 + 81 + 144) / 4. At W = 3, b = 0 the predictions are 3, 6, 9, 12: they
    fit y = 3x exactly and miss the other data's y = 4 by 2, so the MSE is 4/4.
    """
    three = [np.array([[3]], dtype=np.float32), np.zeros((1, 1), dtype=np.float32)]
    cases = [(Y_SEED, zeros()), (Y_SEED_000, zeros()), (Y_SEED, three), (Y_SEED_000, three)]
    got = list(learner.feed_forward.each((X_SEED, outputs, weights)
                                         for outputs, weights in cases))
    expect_losses(got, [67.5, 62.5, 0.0, 1.0],
                  "numeric_gradients.feed_forward(inputs=[[1], [2], [3], [4]], outputs, weights) "
                  "with outputs [[3], [6], [9], [12]] (y = 3x) and [[3], [4], [9], "
                  "[12]], each at W = b = 0 and at W = 3, b = 0",
                  loss_reading(got))


def loss_reading(got):
    """Which slip the four story losses fit (each named only on a match), else the options.

    The residuals at W = b = 0 are the targets themselves (3, 6, 9, 12 and 3, 4, 9, 12),
    and at W = 3 they are 0 and (0, 2, 0, 0): so the sum, the mean absolute error and
    the root of the mean each give their own four numbers.
    """
    slips = [([270.0, 250.0, 0.0, 4.0], "They are the sums of the squared errors, four times "
              "the expected: the loss is the mean over the samples, not the sum."),
             ([7.5, 7.0, 0.0, 0.5], "They are mean absolute errors: the loss squares each "
              "error."),
             ([math.sqrt(67.5), math.sqrt(62.5), 0.0, 1.0], "They are the roots of the "
              "expected losses: the loss is the mean squared error itself, not its root.")]
    try:
        values = [float(v) for v in got]
    except (TypeError, ValueError):
        return "The loss is one number per call: the mean of the squared errors."
    for slip, text in slips:
        if np.allclose(values, slip, rtol=1e-6, atol=1e-9):
            return text
    return ("Possible causes: a prediction other than inputs times W plus b, a sum where the "
            "mean belongs, or errors that are not squared.")


@given(problem=problems())
def test_feed_forward_matches_the_reference(learner, reference, problem):
    """feed_forward is the MSE of inputs @ W + b for any N, P, lists or arrays, float32 weights."""
    inputs, outputs, weights, _ = problem
    got = learner.feed_forward(inputs, outputs, weights)
    expect_close(got, reference.feed_forward(inputs, outputs, weights), rtol=1e-6, atol=1e-12,
                 call=learner.feed_forward, hint=loss_slip(inputs, outputs, weights, got))


def loss_slip(inputs, outputs, weights, got):
    """Which slip the loss fits, computed here in float64 (named only when exactly one fits
    and it differs from the MSE), else the possible causes."""
    x, y = np.asarray(inputs, float), np.asarray(outputs, float)
    w, b = (np.asarray(v, float) for v in weights)
    residual = x @ w + b - y
    mse_value = float(np.mean(residual**2))
    slips = [(float(np.sum(residual**2)), "It is the sum of the squared errors: the loss is "
              "their mean over the samples."),
             (float(np.mean(np.abs(residual))), "It is the mean absolute error: the loss "
              "squares each error."),
             (float(np.sqrt(mse_value)), "It is the root of the expected loss: the loss is "
              "the mean squared error itself."),
             (float(np.mean((x @ w - y) ** 2)), "It is the loss without the bias: every "
              "prediction is inputs @ W + b.")]
    try:
        value = float(got)
    except (TypeError, ValueError):
        value = None
    if value is not None:
        fits = [text for slip, text in slips
                if math.isclose(value, slip, rel_tol=1e-6, abs_tol=1e-12)
                and not math.isclose(slip, mse_value, rel_tol=1e-6, abs_tol=1e-12)]
        if len(fits) == 1:
            return fits[0]
    return ("Possible causes: the bias not added to every prediction, errors that are not "
            "squared, or a sum (or another divisor) where the mean over the N samples belongs.")


def expect_seed_step(learner, got, want, lr):
    """Like expect_weights, but an answer within a few per cent is read for the nudge h it
    implies.

    At W = b = 0 on y = 3x the loss's curvatures are d2L/dW2 = (2/N) sum x^2 = 15 and
    d2L/db2 = 2, so a forward difference with nudge h measures the slopes -45 + 7.5 h
    and -15 + h: the step lr * (45 - 7.5 h) for W and lr * (15 - h) for b. With
    h = 0.0001 that is 2e-5 of the step; 1e-4 of the step is the tolerance.
    """
    if (isinstance(got, (list, tuple)) and len(got) == 2
            and all(isinstance(g, np.ndarray) and g.shape == (1, 1) for g in got)):
        off = max(abs(float(g[0, 0]) / float(w[0, 0]) - 1) for g, w in zip(got, want))
        if 1e-4 < off < 0.05:
            found, expected = show(list(got)), show([float(w[0, 0]) for w in want])
            fail(f"It returned {found}, but the tests expected {expected} to within 1e-4 of the "
                 f"step. Your step is off by {off:.2g} of itself, more than the forward "
                 "difference with h = 0.0001 is (2e-5 here). "
                 + nudge_reading(float(got[0][0, 0]), float(got[1][0, 0]), lr),
                 call=learner.update_weights)
    atol = 1e-4 * max(abs(float(w[0, 0])) for w in want)
    expect_weights(learner, got, want, zeros(), lr, atol=atol,
                   hint=step_reading(X_SEED, Y_SEED, zeros(), lr, got, want, atol))


def nudge_reading(w_next, b_next, lr):
    """The nudge h both steps imply (see expect_seed_step), named when W and b agree on one
    larger than 0.0001; else the possible causes."""
    h_w, h_b = (45 - w_next / lr) / 7.5, 15 - b_next / lr
    if min(h_w, h_b) > 2 * NUDGE and abs(h_w - h_b) <= 0.1 * max(h_w, h_b):
        h = (h_w + h_b) / 2
        return (f"Both W and b moved as a forward difference with a nudge of h = {h:.2g} "
                f"moves them (the slope it measures is off by (h/2) * d2L/dtheta2): the "
                "story's nudge is h = 0.0001.")
    return ("Possible causes: a nudge h other than 0.0001, a slope other than "
            "(L(nudged) - L(original)) / h, or a step other than lr * slope.")


@built_on_feed_forward
def test_update_weights_matches_the_storys_steps(learner):
    """One step from W = b = 0 on y = 3x moves W to 0.45, 4.5 and 45 at lr 0.01, 0.1 and 1.

    The story's numbers. At W = b = 0 the slopes of the loss are exactly
    dL/dW = (2/N) sum (0 - y_n) x_n = -45 and dL/db = (2/N) sum (0 - y_n) = -15,
    so b moves to 0.15, 1.5 and 15. The forward difference with h = 0.0001
    measures -44.99925 and -14.9999 (0.44999, 4.49992, 44.99925 for W), within
    1e-4 of the step; the weights stay float32.
    """
    rates = (0.01, 0.1, 1)
    for lr, got in zip(rates, learner.update_weights.each((X_SEED, Y_SEED, zeros(), lr)
                                                          for lr in rates)):
        want = [np.array([[45.0 * lr]]), np.array([[15.0 * lr]])]
        expect_seed_step(learner, got, want, lr)


@built_on_feed_forward
@given(problem=problems())
def test_update_weights_matches_the_analytic_gradient(learner, problem):
    """The step is -lr times the MSE's gradient (2/N) A^T (A theta - y), to the difference's error.

    A = [x, 1] and theta = [W; b]: the closed form of the gradient. The
    tolerance (see finite_difference_slack) allows a forward or a central
    difference with h = 0.0001 on float32 weights, and nothing like a factor 2.
    """
    inputs, outputs, weights, lr = problem
    want, gradient = analytic_step(inputs, outputs, weights, lr)
    got = learner.update_weights(inputs, outputs, weights, lr)
    atol = finite_difference_slack(inputs, weights, gradient, lr)
    expect_weights(learner, got, want, weights, lr, atol=atol,
                   hint=step_reading(inputs, outputs, weights, lr, got, want, atol))


@built_on_feed_forward
@given(problem=problems())
def test_update_weights_matches_the_reference(learner, reference, problem):
    """update_weights returns the reference's [W_next, b_next]: float32 arrays of the same shapes.

    Values agree to the finite difference's error (a central difference differs
    from the reference's forward one by up to (h/2) * d2L/dtheta^2 in the slope).
    """
    inputs, outputs, weights, lr = problem
    _, gradient = analytic_step(inputs, outputs, weights, lr)
    want = [np.asarray(w, float) for w in reference.update_weights(inputs, outputs, weights, lr)]
    got = learner.update_weights(inputs, outputs, weights, lr)
    atol = 2 * finite_difference_slack(inputs, weights, gradient, lr)
    expect_weights(learner, got, want, weights, lr, atol=atol,
                   hint=step_reading(inputs, outputs, weights, lr, got, want, atol))


def expect_float32_pair(got, like, call):
    """Fail unless ``got`` is a list of two float32 arrays shaped like the weights ``like``.

    Checked after every epoch of a run: each message is built only when it is needed.
    """
    if not (isinstance(got, (list, tuple)) and len(got) == 2):
        fail(f"It returned {show(got)}, but the tests expected a list [W_next, b_next].",
             call=call)
    for name, value, old in zip(("W_next", "b_next"), got, like):
        if not (isinstance(value, np.ndarray) and value.shape == old.shape):
            fail(f"{name} came back as {show(value)}, but the tests expected an array of shape "
                 f"{old.shape}, the shape of the weights you were given.", call=call)
        if value.dtype != np.float32:
            fail(f"{name} has dtype {value.dtype}, but the tests expected float32, the dtype of "
                 "the weights you were given. Possible causes: a working copy made in another "
                 "dtype, or arithmetic with a float64 array or scalar that promoted the result.",
                 call=call)


def epochs_of(learner, inputs, outputs, lr, epochs):
    """Call update_weights repeatedly on its own output (the story's loop); the weights after each.

    The epochs run in one go in the learner's process; each result is checked as
    it comes back.
    """
    path = [zeros()]
    lr = float(lr)  # the docstring says float: a plain Python number, never a numpy scalar
    for weights in learner.update_weights.chain(epochs, inputs, outputs, path[-1], lr,
                                                feed=[(2, ("copy", None))]):
        expect_float32_pair(weights, path[-1], learner.update_weights)
        path.append(weights)
    return path


@built_on_feed_forward
def test_update_weights_freezes_at_lr_1_as_in_the_story(learner):
    """At lr 1 |W| passes 1000 within three epochs, then W and b stop moving (float32 swallows h).

    In the story's words, the weight spikes to a very high value and never reaches
    the optimum. The closed form of gradient descent at lr 1 gives
    W = 45, -660, 10410 and b = 15, -225, 3540 (each step overshoots 15.7-fold);
    float32 nudges change these a little. Once |W| and |b| are 2048 or more,
    float32 numbers are at least 2.4e-4 apart, so W + 0.0001 rounds back to W: the
    measured slope is exactly 0 and the weights never move again.
    """
    path = epochs_of(learner, X_SEED, Y_SEED, 1, 6)
    w3, b3 = (float(a[0, 0]) for a in path[3])
    expect_true(abs(w3) > 1000 and abs(b3) > 1000,
                f"After three epochs at lr 1 the weights were {show(path[3])} (epochs 1 and 2: "
                f"{show(path[1])}, {show(path[2])}): each step should overshoot about 15-fold, "
                "to |W| over 1000.", call="update_weights 3 times from W = b = 0 at lr 1")
    moved = [t for t in (4, 5, 6)
             if not all(np.array_equal(a, c) for a, c in zip(path[t], path[3]))]
    if moved:
        fail(f"After epoch 3 the weights were {show(path[3])} but at epoch {moved[0]} "
             f"{show(path[moved[0]])}: they should stay exactly where they are. Above 2048 a "
             "float32 weight plus 0.0001 rounds back to the same weight, so the measured slope "
             "is 0. Possible causes: a nudge larger than 0.0001, the nudge added where it is not "
             "swallowed (in a float64 copy of the weights, or to a Python float), or a slope "
             "not measured by nudging the weights at all.",
             call="update_weights 6 times from W = b = 0 at lr 1")


# Well-conditioned data for the convergence tests: A = [x, 1] with x = -1, 0, 1, 2
# gives H = (2/N) A^T A = [[3, 1], [1, 2]], eigenvalues 3.618 and 1.382 (kappa 2.6).
X_WELL = [[-1], [0], [1], [2]]
Y_WELL = [[-0.9], [1.2], [2.9], [5.1]]  # about 2x + 1, with noise
# The forward difference's fixed point lies (h/2) H^-1 diag(H) = (4e-5, 3e-5) from the
# least-squares fit, and float32 weights round at 2.4e-7; 2e-4 covers both.
NEAR = 2e-4


def hessian_and_fit(inputs, outputs):
    a = design(inputs)
    y = np.ravel(np.asarray(outputs, float))
    return 2 / len(a) * a.T @ a, np.linalg.lstsq(a, y, rcond=None)[0]


@built_on_feed_forward
def test_update_weights_descends_to_the_least_squares_fit(learner):
    """At a small learning rate the loss never rises and the steps reach the least-squares fit.

    The optimum is the closed form np.linalg.lstsq on A = [x, 1]. The learning
    rate is 2 / (lambda_min + lambda_max) of H, the best fixed rate: both error
    modes shrink by (3.618 - 1.382)/(3.618 + 1.382) = 0.447 per step, and below the
    critical rate 2 / lambda_max every step lowers the loss. It may rise by
    rounding only (1e-7 of the start: float32 weights and the forward
    difference's offset).
    """
    hessian, best = hessian_and_fit(X_WELL, Y_WELL)
    lam = np.linalg.eigvalsh(hessian)
    lr, epochs = best_fixed_rate(lam, np.linalg.norm(best), 1e-5)
    call = f"update_weights {epochs} times from W = b = 0 at lr = {lr:.4g}"
    path = epochs_of(learner, X_WELL, Y_WELL, lr, epochs)
    a = design(X_WELL)
    losses = [mse(a, Y_WELL, stacked(w)) for w in path]
    rises = [t for t in range(epochs) if losses[t + 1] > losses[t] + 1e-7 * (1 + losses[0])]
    if rises:
        t = rises[0]
        fail(f"The loss rose at epoch {t + 1}, from {losses[t]:.8g} to {losses[t + 1]:.8g}: at "
             "this rate, below the critical one, every step should lower it.", call=call)
    expect_settled(stacked(path[-1]), best, NEAR, call, "The steps settle at the least-squares "
                   "fit (np.linalg.lstsq), up to the forward difference's offset of about 5e-5.")


@built_on_feed_forward
def test_update_weights_converges_below_and_diverges_above_the_critical_rate(learner):
    """Steps converge at 0.9 times the critical rate 2 / lambda_max(H) and blow up at 1.1 times.

    For L = (1/N) ||A theta - y||^2 the Hessian is H = (2/N) A^T A (here
    [[3, 1], [1, 2]], computed with numpy) and each step multiplies the error
    along eigenvector i by 1 - lr * lambda_i: -0.8 and 0.31 at 0.9 * 2/lambda_max,
    so 15 steps leave at most 0.8**15 ~ 0.035 of the starting distance (plus the
    forward difference's offset); -1.2 for the top mode at 1.1 * 2/lambda_max,
    which holds 99.9% of the start, so after 15 steps the distance is about 1.2**15
    ~ 15 times the starting one; the test asks for 5. A forward difference has the
    same Hessian, so the same critical rate.
    """
    hessian, best = hessian_and_fit(X_WELL, Y_WELL)
    critical = 2 / np.linalg.eigvalsh(hessian)[-1]
    steps, distance = 15, float(np.linalg.norm(best))  # from W = b = 0

    below = f"update_weights {steps} times from W = b = 0 at lr = 0.9 * {critical:.4g}"
    path = epochs_of(learner, X_WELL, Y_WELL, 0.9 * critical, steps)
    final = float(np.linalg.norm(stacked(path[-1]) - best))
    bound = 0.8**steps * distance + NEAR
    expect_true(final <= bound,
                f"After {steps} steps [W, b] was {show(stacked(path[-1]))}, {final:.3g} from the "
                f"least-squares fit {show(best)}: below the critical rate the distance should "
                f"shrink at least 0.8-fold per step, to {bound:.3g} or less.", call=below)

    above = f"update_weights {steps} times from W = b = 0 at lr = 1.1 * {critical:.4g}"
    path = epochs_of(learner, X_WELL, Y_WELL, 1.1 * critical, steps)
    final = float(np.linalg.norm(stacked(path[-1]) - best))
    expect_true(not final <= 5 * distance,  # nan too: the weights blew up
                f"After {len(path) - 1} steps [W, b] was {show(stacked(path[-1]))}, only "
                f"{final:.3g} from the least-squares fit (it started {distance:.3g} away): above "
                "the critical rate each step should overshoot further. Possible causes: a step "
                "smaller than lr * slope, or slopes that shrink where they should grow.",
                call=above)
