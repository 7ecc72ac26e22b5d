"""Linear regression with matrices: the forward and backward pass without a loop.

The model of ``loop_gradients`` grows to P features and k outputs,
``y_hat = x @ w + b`` with x of shape (N, P), w (P, k), b (1, k) and y (N, k).
The loop over samples becomes one matrix product, and the bias gradient
becomes a sum over the sample axis, because every sample shares the same bias.
The story: 10 samples of 5 features, targets from a random linear model plus
noise of standard deviation 0.05, one output (k = 1), random starting weights,
and 2000 steps at the learning rate 0.01. In the run retold here the MSE,
already small, edges down from 0.01401 by about 0.00001 a step. That run's data
and starting weights were drawn at random and cannot be drawn again:
``gradkata plot loss vectorized`` draws its own, so its loss starts and ends
elsewhere; what carries over is a loss that falls fast at first and then
flattens. N is read from the data, ``x.shape[0]``, never from a global
variable that holds 10.

Functions, in order:
    forward         predictions for all samples at once
    calculate_loss  the mean squared error
    backward        one gradient-descent step on w and b
"""

# Imported for you to use; unused until you write your solution.
import numpy as np  # noqa: F401


def forward(x, w, b):
    """Predict every sample at once with the linear model.

    ::

        y_hat = x @ w + b,    y_hat[n, j] = sum_p x[n, p] * w[p, j] + b[0, j]

    The bias row ``b`` is broadcast over all N samples.

    Parameters
    ----------
    x : ndarray of shape (N, P), float64
        One sample per row, one feature per column.
    w : ndarray of shape (P, k), float64
        The weights.
    b : ndarray of shape (1, k), float64
        The bias, one per output.

    Returns
    -------
    ndarray of shape (N, k), float64
        The predictions ``y_hat``, in a new array.
    """
    # TODO: return the predictions for all N samples at once, without a loop.
    raise NotImplementedError("vectorized.forward: not started")


def calculate_loss(y, y_hat):
    """Return the mean squared error of the predictions.

    ::

        MSE = (1 / (N*k)) * sum_n sum_j (y[n, j] - y_hat[n, j])^2

    Parameters
    ----------
    y : ndarray of shape (N, k), float64
        The targets.
    y_hat : ndarray of shape (N, k), float64
        The predictions, ``forward(x, w, b)``.

    Returns
    -------
    float
        The mean of the squared differences over every entry, as a Python
        float.
    """
    # TODO: return the mean squared error over every entry, as a Python float.
    raise NotImplementedError("vectorized.calculate_loss: not started")


def backward(y, y_hat, w, b, x, learning_rate):
    """Take one gradient-descent step on ``w`` and ``b``; return the new pair.

    The loss differentiated here is::

        L(w, b) = (1 / (2N)) * sum_n sum_j (y_hat[n, j] - y[n, j])^2

    which is half the MSE when k = 1: this step "ignores the 2" that
    differentiating the square brings down, which amounts to halving the
    loss (a learning rate twice as large gives the same step). For k > 1
    it is k/2 times ``calculate_loss``, since it divides by N only. With
    ``y_hat = x @ w + b`` the chain rule gives::

        dL/dw = x.T @ (y_hat - y) / N                          shape (P, k)
        dL/db = sum_n (y_hat[n, :] - y[n, :]) / N, keepdims    shape (1, k)

        w_next = w - learning_rate * dL/dw
        b_next = b - learning_rate * dL/db

    The bias is shared by all samples, so its gradient sums their errors.
    N is ``x.shape[0]``.

    Parameters
    ----------
    y : ndarray of shape (N, k), float64
        The targets.
    y_hat : ndarray of shape (N, k), float64
        The predictions ``forward(x, w, b)`` for these same ``x``, ``w`` and
        ``b``; the gradient is only right if they match.
    w : ndarray of shape (P, k), float64
        The current weights.
    b : ndarray of shape (1, k), float64
        The current bias.
    x : ndarray of shape (N, P), float64
        The inputs.
    learning_rate : float
        The step size (0.01 in the story).

    Returns
    -------
    w_next : ndarray of shape (P, k), float64
        The updated weights, a new array (``w`` is not modified).
    b_next : ndarray of shape (1, k), float64
        The updated bias, a new array (``b`` is not modified).
    """
    # TODO: return (w_next, b_next), one step against the gradient above, as new
    # arrays shaped like w and b, with N taken from the data.
    raise NotImplementedError("vectorized.backward: not started")
