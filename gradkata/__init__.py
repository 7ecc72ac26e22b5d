"""gradkata: a kata on gradient descent and gradient checking, graded by pytest.

The pieces: :mod:`gradkata.catalog` (the exercises), :mod:`gradkata.plugin`
(the pytest plugin), :mod:`gradkata.sandbox` and :mod:`gradkata.learner`
(running learner code safely), :mod:`gradkata.verdict` (messages),
:mod:`gradkata.gradcheck` (the trusted gradient checker),
:mod:`gradkata.scoring` (points, Gradescope), :mod:`gradkata.classgrade`
(grading a class), :mod:`gradkata.cli` (the learner's companion),
:mod:`gradkata.notebooks` (the kata in Jupyter: ``%load_ext gradkata`` gives the
``%gradkata check EXERCISE`` magic; :func:`check` is the same as a function).

Importing gradkata imports nothing else: pytest's entry point and Jupyter load
the parts they need.
"""

from typing import Any, Optional

__version__ = "0.1.0"


def check(exercise: str, time_limit: Optional[float] = None, plot: bool = True) -> Any:
    """Grade ``exercise`` as this Jupyter kernel defines it (see :mod:`gradkata.notebooks`)."""
    from .notebooks import check as check_in_kernel

    return check_in_kernel(exercise, time_limit, plot)


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext gradkata``: registers the ``%gradkata`` magic."""
    from .notebooks import load_ipython_extension as load

    load(ipython)
