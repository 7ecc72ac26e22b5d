"""Gradients without calculus: nudge a weight, watch the loss, divide.

A model with no hidden layer, ``y = w*x + b``, is fitted to x = 1, 2, 3, 4.
Its gradient is never derived: each weight is nudged by h = 0.0001, the change
in the loss is measured, and the ratio serves as the slope. The story fits
``y = 3x`` (targets 3, 6, 9, 12) from ``W = b = 0`` in float32, 1000 epochs at
each of three learning rates, and watches W creep towards 3 (0.01), oscillate
and settle (0.1), and blow up and then get stuck (1). The sticking is a
float32 effect, explained in ``update_weights``.

Functions, in order:
    feed_forward    the loss (MSE) of the weights on the data
    update_weights  one gradient-descent step with finite-difference gradients
"""

# Imported for you to use; unused until you write your solution.
from copy import deepcopy  # noqa: F401

import numpy as np  # noqa: F401


def feed_forward(inputs, outputs, weights):
    """Return the mean squared error of the linear model on the data.

    ::

        pred = inputs @ W + b
        L    = (1/N) * sum_n (pred[n, 0] - outputs[n, 0])^2

    Parameters
    ----------
    inputs : array_like of shape (N, P)
        One sample per row; nested lists work (the story passes
        ``[[1], [2], [3], [4]]``).
    outputs : array_like of shape (N, 1)
        The targets; nested lists work too.
    weights : list of two ndarrays
        ``[W, b]`` with W of shape (P, 1) and b of shape (1, 1); float32 in
        the story.

    Returns
    -------
    float
        The loss, as a Python float. The weights are not modified.

    Examples
    --------
    The story's data ``x = [[1], [2], [3], [4]]``,
    ``y = [[3], [6], [9], [12]]`` with zero weights: every prediction is 0,
    so the loss is ``(9 + 36 + 81 + 144) / 4 = 67.5``.
    """
    # TODO: return the mean squared error of the model's predictions on the data,
    # as a Python float (nested lists must work as well as arrays).
    raise NotImplementedError("numeric_gradients.feed_forward: not started")


def update_weights(inputs, outputs, weights, lr):
    """Take one gradient-descent step using forward finite-difference gradients.

    For every element ``theta`` of every array in ``weights``, with all the
    other elements kept at their original values::

        dL/dtheta ~ (L(theta + h) - L(theta)) / h,     h = 0.0001
        theta_next = theta - lr * dL/dtheta

    where L is ``feed_forward(inputs, outputs, .)``. Every gradient is
    measured at the ORIGINAL weights, never at partly updated ones, so the
    order of the loop does not matter. The nudge is added in place to one
    element of a deep copy of the weights, so it is rounded to the weights'
    own dtype (float32 in the story).

    Parameters
    ----------
    inputs : array_like of shape (N, P)
        One sample per row; nested lists work.
    outputs : array_like of shape (N, 1)
        The targets; nested lists work.
    weights : list of two ndarrays
        ``[W, b]`` with W of shape (P, 1) and b of shape (1, 1); float32 in
        the story. Not modified.
    lr : float
        The learning rate.

    Returns
    -------
    list of two ndarrays
        ``[W_next, b_next]``: new arrays with the same shapes and dtypes as
        ``weights``.

    Examples
    --------
    The story: ``x = [[1], [2], [3], [4]]``, ``y = [[3], [6], [9], [12]]``
    and ``W = b = 0`` in float32. The true slope of the loss in W is -45 there
    (the forward difference measures about -44.9993), so one step moves W
    to about 0.45 with lr = 0.01, 4.5 with lr = 0.1 and 45 with lr = 1, the
    numbers the story reports after its first epoch.

    At lr = 1 the steps overshoot further each time (W is about 45, then
    about -654, then about 12755), so |W| passes 1000 within three epochs,
    and then W stops moving for good. The loss is not flat there; float32
    is. Near 12755 neighbouring float32 numbers are 2^-10 (about 0.001)
    apart, so adding 0.0001 to a weight that large rounds straight back to
    the same weight (the step is less than half a unit in the last place):
    the measured loss change is exactly 0, and so is the gradient. The same
    holds for every float32 of magnitude 2048 or more, and b (about 3766)
    freezes too. Seen from outside, the nudge changes the loss too little for
    the weight ever to reach the optimum.
    """
    # TODO: return [W_next, b_next], one step against slopes measured by nudging
    # one weight at a time by 0.0001, each at the original weights and in their
    # own dtype; leave `weights` as it is.
    raise NotImplementedError("numeric_gradients.update_weights: not started")
