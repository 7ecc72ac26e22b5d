"""gradkata: a kata on gradient descent and gradient checking, graded by pytest.

The pieces: :mod:`gradkata.catalog` (the exercises), :mod:`gradkata.plugin`
(the pytest plugin), :mod:`gradkata.sandbox` and :mod:`gradkata.learner`
(running learner code safely), :mod:`gradkata.verdict` (messages),
:mod:`gradkata.gradcheck` (the trusted gradient checker),
:mod:`gradkata.scoring` (points, Gradescope), :mod:`gradkata.classgrade`
(grading a class), :mod:`gradkata.cli` (the learner's companion).
"""

__version__ = "0.1.0"
