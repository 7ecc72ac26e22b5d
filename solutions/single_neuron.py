"""One neuron, one sample: gradient descent worked out by hand.

A neuron with two inputs predicts ``y_hat = w1*x_1 + w2*x_2 + b`` for a
single sample and is scored with the loss ``L = 1/2 (y_hat - y)^2``. The chain
rule gives each parameter a gradient of one short line, and stepping every
parameter against its gradient, epoch after epoch, pulls the prediction onto
the target. The example worked through in the docstrings below is the sample
``x_1 = 2, x_2 = -1, y = 1`` from the starting weights ``[-0.5, 0.5, 1.5]``
with the learning rate ``alpha = 0.1``: the neuron first predicts 0.0, after
one step 0.6, then 0.84, 0.936, ..., closing in on the target 1.

Functions, in order:
    y_hat          the forward pass: the neuron's prediction
    gradient_w1    dL/dw1
    gradient_w2    dL/dw2
    gradient_b     dL/db
    adapt_weights  repeat the update for a number of epochs
"""

import numpy as np


def y_hat(x_1, x_2, w):
    """Predict the neuron's output for one sample.

    The forward pass, with the weights packed as ``w = [w1, w2, b]``::

        y_hat = w1 * x_1 + w2 * x_2 + b

    Parameters
    ----------
    x_1, x_2 : float
        The sample's two inputs.
    w : sequence of 3 floats, or ndarray of shape (3,), float64
        The weights ``[w1, w2, b]``; the bias is the last entry.

    Returns
    -------
    float
        The prediction, as a Python float.

    Examples
    --------
    The worked example: ``y_hat(2, -1, [-0.5, 0.5, 1.5])`` is ``0.0``; after
    one update, ``y_hat(2, -1, [-0.3, 0.4, 1.6])`` is ``0.6`` (up to rounding).
    """
    # TODO: return the neuron's prediction for this sample, as a Python float.
    # BEGIN SOLUTION
    # y_hat = w1*x_1 + w2*x_2 + b
    return float(x_1 * w[0] + x_2 * w[1] + w[2])
    # END SOLUTION


def gradient_w1(y_hat, y, x_1):
    """Return dL/dw1, the slope of the loss along the first weight.

    With ``L = 1/2 (y_hat - y)^2`` and ``y_hat = w1*x_1 + w2*x_2 + b``, the
    chain rule gives::

        dL/dw1 = dL/dy_hat * dy_hat/dw1 = (y_hat - y) * x_1

    The 1/2 in the loss is there to cancel the 2 that differentiating the
    square brings down.

    Parameters
    ----------
    y_hat : float
        The prediction for this sample (the number, not the function).
    y : float
        The target.
    x_1 : float
        The input that ``w1`` multiplies.

    Returns
    -------
    float
        ``(y_hat - y) * x_1``.

    Examples
    --------
    At the start of the worked example: ``gradient_w1(0.0, 1, 2)`` is
    ``-2.0``. The gradient is negative, so the update
    ``w1 - alpha * (-2.0)`` raises ``w1``.
    """
    # TODO: return the slope of the loss along w1, as a Python float.
    # BEGIN SOLUTION
    # dL/dw1 = (y_hat - y) * x_1
    return float((y_hat - y) * x_1)
    # END SOLUTION


def gradient_w2(y_hat, y, x_2):
    """Return dL/dw2, the slope of the loss along the second weight.

    With ``L = 1/2 (y_hat - y)^2`` and ``y_hat = w1*x_1 + w2*x_2 + b``::

        dL/dw2 = dL/dy_hat * dy_hat/dw2 = (y_hat - y) * x_2

    Parameters
    ----------
    y_hat : float
        The prediction for this sample (the number, not the function).
    y : float
        The target.
    x_2 : float
        The input that ``w2`` multiplies.

    Returns
    -------
    float
        ``(y_hat - y) * x_2``.

    Examples
    --------
    At the start of the worked example: ``gradient_w2(0.0, 1, -1)`` is
    ``1.0``, so the update lowers ``w2``.
    """
    # TODO: return the slope of the loss along w2, as a Python float.
    # BEGIN SOLUTION
    # dL/dw2 = (y_hat - y) * x_2
    return float((y_hat - y) * x_2)
    # END SOLUTION


def gradient_b(y_hat, y):
    """Return dL/db, the slope of the loss along the bias.

    The bias enters ``y_hat`` with coefficient 1, so ``dy_hat/db = 1`` and::

        dL/db = dL/dy_hat * 1 = y_hat - y

    Parameters
    ----------
    y_hat : float
        The prediction for this sample (the number, not the function).
    y : float
        The target.

    Returns
    -------
    float
        ``y_hat - y``.

    Examples
    --------
    At the start of the worked example: ``gradient_b(0.0, 1)`` is ``-1.0``.
    """
    # TODO: return the slope of the loss along the bias, as a Python float.
    # BEGIN SOLUTION
    # dL/db = (y_hat - y) * 1
    return float(y_hat - y)
    # END SOLUTION


def adapt_weights(x_1, x_2, y, initial_weights, epochs, alpha=0.1):
    """Run ``epochs`` steps of gradient descent on one sample; return the weights.

    Each epoch makes one prediction and then moves every parameter against
    its gradient, all three gradients taken from that same prediction::

        y_hat = w1 * x_1 + w2 * x_2 + b        (before any weight changes)
        w1 <- w1 - alpha * (y_hat - y) * x_1
        w2 <- w2 - alpha * (y_hat - y) * x_2
        b  <- b  - alpha * (y_hat - y)

    Parameters
    ----------
    x_1, x_2 : float
        The sample's two inputs.
    y : float
        The target.
    initial_weights : sequence of 3 floats, or ndarray of shape (3,)
        The starting ``[w1, w2, b]``. It is not modified: the function works
        on a float64 copy.
    epochs : int
        How many updates to make. With ``epochs=0`` the result is a copy of
        the initial weights.
    alpha : float, default 0.1
        The learning rate (0.1 in the worked example).

    Returns
    -------
    ndarray of shape (3,), float64
        The weights ``[w1, w2, b]`` after the last epoch, in a new array.

    Examples
    --------
    The worked example, ``adapt_weights(2, -1, 1, [-0.5, 0.5, 1.5], epochs)``:
    one epoch gives ``[-0.3, 0.4, 1.6]`` and two give ``[-0.22, 0.36, 1.64]``
    (up to rounding); with more epochs the weights approach
    ``[-1/6, 1/3, 5/3]``. Every update moves the weights along
    ``[x_1, x_2, 1] = [2, -1, 1]``, and each epoch multiplies the error
    ``y_hat - y`` by ``1 - alpha * (x_1^2 + x_2^2 + 1) = 0.4``, so the
    predictions run 0.6, 0.84, 0.936, ... towards 1.

    The weights are returned, never written into ``initial_weights``: a
    caller who keeps its starting weights (to try another learning rate, say)
    must find them as they were.
    """
    # TODO: return the weights after `epochs` steps of gradient descent, leaving
    # initial_weights as they are; each epoch takes all three gradients from one
    # prediction.
    # BEGIN SOLUTION
    # A float copy: the caller's weights stay as they were.
    w = np.array(initial_weights, dtype=float)
    for _ in range(epochs):
        # Forward pass once, with the weights as they are at the epoch's start.
        prediction = y_hat(x_1, x_2, w)
        # Backward pass: every gradient comes from that same prediction.
        dw1 = gradient_w1(prediction, y, x_1)  # (y_hat - y) * x_1
        dw2 = gradient_w2(prediction, y, x_2)  # (y_hat - y) * x_2
        db = gradient_b(prediction, y)  # (y_hat - y)
        # Step downhill: against the gradient, scaled by the learning rate.
        w[0] = w[0] - alpha * dw1
        w[1] = w[1] - alpha * dw2
        w[2] = w[2] - alpha * db
    return w
    # END SOLUTION
