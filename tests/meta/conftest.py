"""The kata's own tests: they run whole grading sessions in subprocesses, so the
graded tests' 10-second limit does not fit them."""

import os

import pytest

# The kata's own checks are about the public suite: its totals (100 points, the
# catalog's figures), its test files, its stubs. An instructor's private tests live in
# tests/private/ (docs/instructors.md) and are left out of the graded runs these checks
# start; tests/meta/test_private.py checks them instead (the reference passes them, the
# stubs do not, their visibility reaches results.json).
PRIVATE = "tests/private"
IGNORE_PRIVATE = f"--ignore={PRIVATE}"


def pytest_configure(config):
    # Inherited by every pytest subprocess the checks start (suite runs, gradkata grade).
    addopts = os.environ.get("PYTEST_ADDOPTS", "")
    if IGNORE_PRIVATE not in addopts.split():
        os.environ["PYTEST_ADDOPTS"] = f"{addopts} {IGNORE_PRIVATE}".strip()
    config.addinivalue_line(
        "markers", "slow: a class-sized grading batch (test_hostile.py, a class of 200 in "
        "test_reports.py), Jupyter kernels, a simulated autograder; tox runs these once (in its "
        "coverage environment), not once per Python")


def pytest_collection_modifyitems(items):
    for item in items:
        if item.get_closest_marker("timeout") is None:
            item.add_marker(pytest.mark.timeout(900))
