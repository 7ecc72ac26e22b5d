"""The kata's own tests: they run whole grading sessions in subprocesses, so the
graded tests' 10-second limit does not fit them."""

import pytest


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "slow: a class-sized grading batch (test_hostile.py, a class of 200 in "
        "test_reports.py), Jupyter kernels, a simulated autograder; tox runs these once (in its "
        "coverage environment), not once per Python")


def pytest_collection_modifyitems(items):
    for item in items:
        if item.get_closest_marker("timeout") is None:
            item.add_marker(pytest.mark.timeout(900))
