"""The trusted checker, gradkata.gradcheck: right on float64 and float32, and cheap in
random-direction mode."""

import numpy as np
import pytest

from gradkata import gradcheck


def mse_problem(dtype, n=64, p=10, seed=0):
    """MSE of a linear model, the ANCHORS benchmark's problem: L(w) = mean((Xw - y)^2)."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, p)).astype(dtype)
    y = rng.standard_normal(n).astype(dtype)
    w = rng.standard_normal(p).astype(dtype)

    def loss(v):
        r = x @ v.astype(dtype) - y
        return np.mean(r * r)  # computed in `dtype`

    def grad(v):
        v64 = v.astype(np.float64)
        return 2 / n * x.astype(np.float64).T @ (x.astype(np.float64) @ v64 - y)

    return loss, grad, w


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_a_correct_gradient_passes_in_its_own_dtype(dtype):
    loss, grad, w = mse_problem(dtype)
    report = gradcheck.check(loss, grad, w)
    assert report.ok, str(report)
    assert report.error < report.tolerance


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("factor", [2.0, 0.5, -1.0, 1.01])
def test_a_wrong_gradient_fails_with_its_worst_coordinate(dtype, factor):
    loss, grad, w = mse_problem(dtype)
    report = gradcheck.check(loss, lambda v: factor * grad(v), w)
    assert not report.ok
    text = str(report)
    assert "does not match" in text and "index" in text
    assert report.analytic == pytest.approx(factor * report.numeric, rel=1e-2)


def test_the_step_follows_the_dtype_and_the_scale():
    h64 = gradcheck.default_step(np.array([0.5, 1e6]))
    h32 = gradcheck.default_step(np.array([0.5], dtype=np.float32))
    assert h64[0] == pytest.approx(np.finfo(np.float64).eps ** (1 / 3))
    assert h64[1] == pytest.approx(1e6 * np.finfo(np.float64).eps ** (1 / 3))
    assert h32[0] == pytest.approx(np.finfo(np.float32).eps ** (1 / 3))


def test_a_component_tiny_next_to_the_rest_is_not_held_to_relative_precision():
    # The gradient of 1e6 * a^2 + 1e-9 * b at (1, 0) is (2e6, 1e-9): the second
    # component's rounding error is far larger than 1e-9 itself, yet it is right.
    def f(v):
        return 1e6 * v[0] ** 2 + 1e-9 * v[1]

    report = gradcheck.check(f, np.array([2e6, 1e-9]), np.array([1.0, 0.0]))
    assert report.ok, str(report)


def test_x_is_left_as_it_was():
    loss, grad, w = mse_problem(np.float64)
    before = w.copy()
    gradcheck.numerical_gradient(loss, w)
    assert np.array_equal(w, before)


def test_random_directions_check_thousands_of_parameters_in_a_few_calls():
    loss, grad, w = mse_problem(np.float64, n=64, p=2000)
    calls = []

    def counted(v):
        calls.append(1)
        return loss(v)

    assert gradcheck.check_directional(counted, grad, w, directions=4)
    assert len(calls) == 8
    wrong = gradcheck.check_directional(loss, lambda v: grad(v) * 1.5, w, directions=4)
    assert not wrong.ok and "random direction" in str(wrong)


def test_random_directions_work_in_float32():
    loss, grad, w = mse_problem(np.float32, p=500)
    assert gradcheck.check_directional(loss, grad, w)
    assert not gradcheck.check_directional(loss, lambda v: -grad(v), w)


def test_shapes_must_agree():
    with pytest.raises(ValueError, match="shape"):
        gradcheck.check(lambda v: float(np.sum(v)), np.ones(3), np.ones(2))
