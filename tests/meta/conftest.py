"""The kata's own tests: they run whole grading sessions in subprocesses, so the
graded tests' 10-second limit does not fit them."""

import pytest


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "slow: minutes, not seconds: Jupyter kernels (test_notebooks.py), a class of "
        "200 submissions (test_reports.py); tox's per-Python environments leave them out")


def pytest_collection_modifyitems(items):
    for item in items:
        if item.get_closest_marker("timeout") is None:
            item.add_marker(pytest.mark.timeout(900))
