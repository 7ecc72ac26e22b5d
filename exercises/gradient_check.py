"""A gradient checker: compare an analytic gradient with a numerical one.

It turns the finite differences of ``numeric_gradients`` into a tool, the one
the test suite uses to check every gradient in this kata. Instead of a forward
difference it takes a central difference, whose error shrinks like eps^2
rather than eps, and it judges the agreement with a relative error, which
means the same whatever the size of the gradient.

Functions, in order:
    numerical_gradient  central-difference gradient of a scalar function
    relative_error      worst elementwise relative difference of two arrays
    check_gradient      does an analytic gradient match the numerical one?
"""

# Imported for you to use; unused until you write your solution.
import numpy as np  # noqa: F401


def numerical_gradient(f, x, eps=1e-5):
    """Estimate the gradient of a scalar function by central differences.

    For every index ``i`` of ``x``, with ``e_i`` the array that is 1 at ``i``
    and 0 elsewhere::

        df/dx[i] ~ (f(x + eps * e_i) - f(x - eps * e_i)) / (2 * eps)

    The error is of order eps^2 (for a quadratic ``f`` only rounding is
    left), against order eps for the forward difference of
    ``numeric_gradients``.

    Each element of ``x`` is perturbed in place, ``f`` is called on ``x``
    itself, and the element is then set back to its saved original value
    (even if ``f`` raises), so ``x`` holds exactly its original values
    afterwards, whether the function returns or raises.

    Parameters
    ----------
    f : callable
        ``f(x)`` returns a scalar. It is called 2 * ``x.size`` times.
    x : ndarray of any shape, floating dtype
        The point at which to take the gradient. It must be a float array:
        in an integer array ``x[i] + eps`` would be truncated back to
        ``x[i]``.
    eps : float, default 1e-5
        The half-width of each difference.

    Returns
    -------
    ndarray of the same shape as ``x``, float64
        The estimated gradient (float64 for float16/32/64 ``x``; a wider
        float dtype of ``x`` is kept).

    Raises
    ------
    Whatever ``f`` raises, passed on unchanged, once ``x`` is restored.

    Examples
    --------
    For ``f(x) = sum(x**2)`` at ``x = [1.0, -2.0, 3.0]`` the result is
    ``[2.0, -4.0, 6.0]`` up to rounding, the exact ``2x``.
    """
    # TODO: return the central-difference gradient of f at x, for x of any shape;
    # x must hold exactly its original values afterwards, even when f raises.
    raise NotImplementedError("gradient_check.numerical_gradient: not started")


def relative_error(a, b):
    """Return the largest elementwise relative difference between two arrays.

    ::

        max_i |a_i - b_i| / max(1e-8, |a_i| + |b_i|)

    Dividing by ``|a_i| + |b_i|`` makes the measure scale-free: 1e-6 means
    about six agreeing digits whether the gradient is 1e-3 or 1e3. The floor
    1e-8 keeps 0/0 away: two exact zeros have error 0. Each term lies
    between 0 and 1, and some values point at a typical bug: 1/3 when one
    gradient is twice the other (a missing or extra factor 2), 1 when the
    signs are flipped or one side is 0 where the other is not.

    Parameters
    ----------
    a, b : array_like of the same shape, or scalars
        The two gradients to compare.

    Returns
    -------
    float
        The largest term, as a Python float; 0.0 for empty arrays and NaN if
        any entry is NaN.
    """
    # TODO: return the worst elementwise relative difference as a Python float,
    # 0.0 when there is nothing to compare.
    raise NotImplementedError("gradient_check.relative_error: not started")


def check_gradient(f, grad, x, eps=1e-5, tolerance=1e-6):
    """Tell whether an analytic gradient agrees with the numerical one at x.

    ::

        relative_error(numerical_gradient(f, x, eps), grad(x)) < tolerance

    ``x`` is first copied to a float64 array, and both ``f`` and ``grad`` see
    only that copy: the caller's ``x`` is never touched, and an integer ``x``
    does not swallow the perturbation.

    Parameters
    ----------
    f : callable
        ``f(x)`` returns a scalar.
    grad : callable
        ``grad(x)`` returns the analytic gradient of ``f`` at ``x``, an
        array of the same shape as ``x``.
    x : array_like of any shape
        The point at which to compare.
    eps : float, default 1e-5
        Passed on to ``numerical_gradient``.
    tolerance : float, default 1e-6
        The largest relative error still accepted.

    Returns
    -------
    bool
        True if the worst relative error is below ``tolerance``.

    Notes
    -----
    A correct float64 gradient of a smooth function usually scores around
    1e-9 or less. Because of the 1e-8 floor in ``relative_error``, a
    gradient component that is tiny but not zero (say 1e-9) can fail on
    rounding noise alone, so choose points where no component is tiny.
    """
    # TODO: return, as a Python bool, whether the numerical and the analytic
    # gradient agree within tolerance, both taken at a private float64 copy of x.
    raise NotImplementedError("gradient_check.check_gradient: not started")
