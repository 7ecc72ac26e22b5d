"""How large may the learning rate be? The question answered from the data.

The story of ``numeric_gradients`` runs gradient descent on the MSE of
``y = w*x + b`` for x = 1, 2, 3, 4 and y = 3x at three learning rates. From
w = 0, the weight creeps towards its optimum 3 at 0.01 (0.45 after the first
epoch), overshoots to 4.5 and oscillates before it settles at 0.1, and blows
up at 1 (45 after the first epoch, then ever further away).
The MSE is quadratic in (w, b), so its curvature is a constant matrix, the
Hessian H, that depends on the inputs alone. Its largest eigenvalue sets the
limits: gradient descent converges iff lr < 2/lambda_max, and it approaches
the optimum without overshooting iff lr <= 1/lambda_max.

Functions, in order:
    critical_learning_rate  the largest rate that still converges, 2/lambda_max
    classify_learning_rate  "monotone", "oscillating" or "divergent"
"""

import numpy as np


def critical_learning_rate(inputs):
    """Return 2 / lambda_max, the learning rate beyond which gradient descent diverges.

    For the MSE of the linear model, ``L(theta) = (1/N) * ||A @ theta - y||^2``
    with ``theta = (w, b)`` and ``A = [inputs, 1]`` (the inputs with a column
    of ones appended), the Hessian is constant::

        H = (2/N) * A.T @ A,        lr_crit = 2 / lambda_max(H)

    Why: L is quadratic, so its gradient at theta is
    ``H @ (theta - theta_star)`` for a minimiser theta_star, and one step of
    gradient descent gives::

        theta_next - theta_star = (I - lr * H) @ (theta - theta_star)

    Along each eigenvector of H, with eigenvalue lambda, the error is
    multiplied by ``1 - lr * lambda`` at every step. It shrinks for every
    eigenvector (with lambda > 0) iff ``|1 - lr * lambda| < 1`` for all of
    them, that is iff ``lr < 2 / lambda_max``. The targets y do not appear:
    they move theta_star, not H. The column of ones gives H a diagonal
    entry of 2, so lambda_max >= 2 and the rate is finite.

    Parameters
    ----------
    inputs : array_like of shape (N,) or (N, P)
        The inputs, one sample per row; a 1-D array is one feature, treated
        as shape (N, 1).

    Returns
    -------
    float
        ``2 / lambda_max(H)``, a positive Python float.

    Raises
    ------
    ValueError
        If ``inputs`` is empty, or does not have 1 or 2 dimensions (a scalar,
        or 3 or more dimensions).

    Examples
    --------
    The story's inputs x = 1, 2, 3, 4 give
    ``A.T @ A = [[30, 10], [10, 4]]``, so ``H = [[15, 5], [5, 2]]``, with
    ``lambda_max = (17 + sqrt(269)) / 2``, about 16.70, and a critical rate of
    about 0.1198. Its lr = 1 is more than eight times too large.
    """
    # TODO: return 2 / lambda_max for these inputs as a Python float, refusing
    # (ValueError) inputs that are empty or not 1-D or 2-D.
    # BEGIN SOLUTION
    x = np.asarray(inputs, dtype=float)
    if x.ndim not in (1, 2):
        raise ValueError(
            "inputs must have shape (N,) or (N, P); got an array with "
            f"{x.ndim} dimensions, shape {x.shape}"
        )
    if x.size == 0:
        raise ValueError(f"inputs must hold at least one sample; got shape {x.shape}")
    if x.ndim == 1:
        x = x[:, np.newaxis]  # (N,) -> (N, 1): one feature
    n_samples = x.shape[0]
    # A = [x, 1]: the bias is the weight of a constant input of 1
    a = np.hstack([x, np.ones((n_samples, 1))])
    # H = d^2 L / d theta^2 = (2/N) A^T A for L = (1/N) ||A theta - y||^2
    hessian = (2.0 / n_samples) * (a.T @ a)
    # eigvalsh: H is symmetric; eigenvalues come back in ascending order
    lambda_max = np.linalg.eigvalsh(hessian)[-1]
    # the error along the steepest eigenvector is multiplied by (1 - lr*lambda_max)
    return float(2.0 / lambda_max)
    # END SOLUTION


def classify_learning_rate(inputs, lr):
    """Say how gradient descent on the MSE of y = w*x + b behaves at rate lr.

    With ``crit = critical_learning_rate(inputs) = 2 / lambda_max``, each
    step multiplies the error along an eigenvector of the Hessian by
    ``1 - lr * lambda``::

        "monotone"     if lr <= crit / 2       every factor is >= 0
        "oscillating"  if crit / 2 < lr < crit  the steepest factor is in (-1, 0)
        "divergent"    if lr >= crit           the steepest factor is <= -1

    Monotone: for ``lr <= 1/lambda_max`` every factor ``1 - lr * lambda`` is
    >= 0, so the error shrinks without ever changing sign, and the weights
    approach the optimum from one side. Oscillating: along the steepest
    direction the error flips sign at every step but still shrinks, so the
    weights overshoot back and forth and settle. Divergent: the error along
    that direction grows at every step (at ``lr == crit`` exactly it keeps
    its size and flips forever), so gradient descent never converges.

    Parameters
    ----------
    inputs : array_like of shape (N,) or (N, P)
        The inputs, as for ``critical_learning_rate``.
    lr : float
        The learning rate, > 0.

    Returns
    -------
    str
        ``"monotone"``, ``"oscillating"`` or ``"divergent"``.

    Raises
    ------
    ValueError
        If ``lr`` is not > 0 (zero, negative or NaN), or if ``inputs`` is
        empty or does not have 1 or 2 dimensions.

    Examples
    --------
    The story's inputs x = 1, 2, 3, 4 (crit about 0.1198) and its three
    runs: 0.01 gives ``"monotone"`` (w creeps up towards 3), 0.1 gives
    ``"oscillating"`` (w jumps to 4.5, back to 1.5, and settles), and 1
    gives ``"divergent"`` (exact gradient descent sends w to 45, -660, 10410, ...).
    """
    # TODO: return the name of lr's regime, refusing (ValueError) any lr that is
    # not > 0, NaN included.
    # BEGIN SOLUTION
    if not lr > 0:  # also rejects NaN
        raise ValueError(f"the learning rate must be > 0; got lr={lr!r}")
    crit = critical_learning_rate(inputs)
    if lr <= crit / 2:
        return "monotone"  # every 1 - lr*lambda >= 0
    if lr < crit:
        return "oscillating"  # -1 < 1 - lr*lambda_max < 0
    return "divergent"  # 1 - lr*lambda_max <= -1
    # END SOLUTION
