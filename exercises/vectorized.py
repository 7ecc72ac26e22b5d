"""Linear regression with matrices: the forward and backward pass without a loop.

From seed 002 (``002_4d5299d06b22d7bd.txt``). The model of ``loop_gradients``
grows to P features and k outputs, ``y_hat = x @ w + b`` with x of shape
(N, P), w (P, k), b (1, k) and y (N, k). The loop over samples becomes one
matrix product, and the bias gradient becomes a sum over the sample axis,
because every sample shares the same bias. The seed read N from a global
``n_samples``; here it always comes from ``x.shape[0]``.

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
    # TODO: predict all N samples in one expression.
    #   1. Multiply the (N, P) inputs by the (P, k) weights with the matrix
    #      product operator; the result has shape (N, k).
    #   2. Add the (1, k) bias; broadcasting adds it to every row.
    #   3. Return the (N, k) result.
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
    # TODO: return the mean squared error.
    #   1. Subtract the predictions from the targets, elementwise.
    #   2. Square every difference.
    #   3. Take the mean over all entries (np.mean) and return it as a Python
    #      float.
    raise NotImplementedError("vectorized.calculate_loss: not started")


def backward(y, y_hat, w, b, x, learning_rate):
    """Take one gradient-descent step on ``w`` and ``b``; return the new pair.

    The loss differentiated here is::

        L(w, b) = (1 / (2N)) * sum_n sum_j (y_hat[n, j] - y[n, j])^2

    which is half the MSE when k = 1: the seed "ignores the 2" that
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
        The step size (0.01 in the seed).

    Returns
    -------
    w_next : ndarray of shape (P, k), float64
        The updated weights, a new array (``w`` is not modified).
    b_next : ndarray of shape (1, k), float64
        The updated bias, a new array (``b`` is not modified).
    """
    # TODO: one gradient-descent step on w and b.
    #   1. Read N from the data: the number of rows of x. Never use a global.
    #   2. Compute the error y_hat - y, shape (N, k).
    #   3. Gradient for w: the transpose of x times the error (matrix product),
    #      divided by N. Check that the shape is (P, k), the shape of w.
    #   4. Gradient for b: sum the error over the sample axis (axis 0) keeping
    #      the dimensions, then divide by N. Check that the shape is (1, k).
    #   5. Return (w - learning_rate * gradient_w, b - learning_rate * gradient_b),
    #      built as new arrays, so w and b themselves stay unchanged.
    raise NotImplementedError("vectorized.backward: not started")
