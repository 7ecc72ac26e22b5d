"""Linear regression by gradient descent, one sample at a time in a Python loop.

We fit ``y = w*x + b`` to N samples by minimising the mean squared error
``L = (1/N) * sum_i (y_i - (w*x_i + b))^2``. The gradient of a sum is the sum
of the gradients, so it can be built the plain way: a for loop that adds each
sample's share, followed by one step downhill. The story: ten points drawn on
a random line, without noise, and a fit that starts from the guess
``w = b = 0.0`` and takes 500 such steps at the learning rate 0.01. In the run
retold here the loss falls from about 0.56 after the first step to about 0.0003
after 450, and w and b are still creeping towards the line's slope and
intercept (0.39 and 0.57 where the line has 0.44 and 0.54). That run's points
were drawn at random and cannot be drawn again:
``gradkata plot loss loop_gradients`` fits points of its own, so its figures
differ; what carries over is a loss that falls step after step, by orders of
magnitude, while w and b creep towards the line. The ``vectorized`` module
later replaces this loop with a single matrix product.

Functions, in order:
    calculate_gradients  one full-batch gradient-descent step (a historical name)
"""


def calculate_gradients(x_data, y_data, w, b, learning_rate, N):
    """Take one full-batch gradient-descent step on the MSE, looping over samples.

    Despite its name, the function returns the UPDATED parameters, not the
    gradients. With the prediction ``w*x_i + b``::

        L(w, b) = (1/N) * sum_i (y_i - (w*x_i + b))^2

        dL/dw = sum_i (2/N) * (y_i - (w*x_i + b)) * (-x_i)
        dL/db = sum_i (2/N) * (y_i - (w*x_i + b)) * (-1)

        w_next = w - learning_rate * dL/dw
        b_next = b - learning_rate * dL/db

    The ``(-x_i)`` and ``(-1)`` are the inner derivatives of
    ``y_i - (w*x_i + b)`` with respect to ``w`` and ``b`` (chain rule).
    Both sums are accumulated over all samples with ``w`` and ``b`` held
    fixed; the update happens only after the loop has finished. (Updating
    inside the loop would be a different algorithm: stochastic gradient
    descent, where later samples see a partly updated ``w``.)

    Parameters
    ----------
    x_data : ndarray of shape (N,), float64
        The inputs ``x_i``.
    y_data : ndarray of shape (N,), float64
        The targets ``y_i``.
    w : float, or ndarray of shape (1,), float64
        The current slope (the story starts from ``0.0``).
    b : float, or ndarray of shape (1,), float64
        The current intercept.
    learning_rate : float
        The step size (0.01 in the story).
    N : int
        The number of samples, ``len(x_data)``; the sums divide by it.

    Returns
    -------
    w_next, b_next : tuple of two floats, or of two ndarrays of shape (1,)
        The parameters after one step, of the same kind as ``w`` and ``b``
        (NumPy float64 scalars for float inputs). ``w`` and ``b`` themselves
        are not modified.

    Notes
    -----
    The story starts from ``w = b = 0.0`` and calls this once per epoch. On
    noise-free data ``y_i = w_true*x_i + b_true`` every residual vanishes at
    ``(w_true, b_true)``, so both sums are 0 there: it is the point that
    repeated steps converge to when the learning rate is small enough.
    """
    # TODO: return (w_next, b_next) after one step against the full-batch gradient,
    # summed one sample at a time while w and b stay fixed.
    # BEGIN SOLUTION
    # Start both sums at zero.
    dl_dw = 0.0
    dl_db = 0.0

    # Add each sample's share; w and b stay fixed for the whole loop.
    for x, y_true in zip(x_data, y_data):
        residual = y_true - (w * x + b)  # y_i - y_hat_i
        dl_dw += (2 / N) * residual * (-x)  # d/dw of (1/N) * residual^2
        dl_db += (2 / N) * residual * (-1)  # d/db of (1/N) * residual^2

    # One step against the gradient, only after the loop has seen every sample.
    w_next = w - learning_rate * dl_dw
    b_next = b - learning_rate * dl_db
    return w_next, b_next
    # END SOLUTION
