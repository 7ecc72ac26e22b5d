"""pytest's entry point for gradkata: the options, and the kata plugin only when asked.

pytest loads this module (the ``pytest11`` entry point) in every project where
gradkata is installed, so it imports nothing beyond pytest: in a project that
is not a kata, gradkata costs pytest nothing more. A run is a kata run when
``--impl`` or ``GRADKATA_IMPL`` is given or the ini file sets
``gradkata_impl`` (the kata's pyproject.toml does); only then is
:mod:`gradkata.plugin` (numpy, the sandbox, the fixtures, the score) imported
and registered.

The options live here, not in the plugin, because pytest must know them before
it reads the command line: ``pytest --impl /elsewhere/submission`` must not
make pytest take that folder for a test path.
"""

from __future__ import annotations

import os

import pytest

IMPL_HELP = ("which implementation to grade: 'exercises' (default), 'solutions', "
             "or a folder holding the six exercise modules")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("gradkata")
    group.addoption("--impl", dest="gradkata_impl", default=None, metavar="FOLDER",
                    help=IMPL_HELP + "; also GRADKATA_IMPL and the ini value gradkata_impl")
    parser.addini("gradkata_impl", IMPL_HELP + " (setting it makes this project a kata)",
                  default="")
    group.addoption("--require-isolation", dest="gradkata_require_isolation",
                    action="store_true", default=False,
                    help="refuse to grade unless learner code runs in the operating system's "
                         "jail (Linux namespaces); the report header says which is in force")
    group.addoption("--gradescope", dest="gradkata_gradescope", default=None, metavar="FILE",
                    help="write Gradescope's results.json to FILE")
    group.addoption("--gradkata-raw", dest="gradkata_raw", default=None, metavar="FILE",
                    help="write the per-test results as JSON to FILE (for gradkata grade)")
    group.addoption("--gradkata-record", dest="gradkata_record", default=None, metavar="FILE",
                    help="write every answer the reference gives the tests to FILE (how "
                         "gradkata handout builds the learners' copy's table)")


def active(config: pytest.Config) -> bool:
    """Is this pytest run a kata run?"""
    return bool(config.getoption("gradkata_impl") or os.environ.get("GRADKATA_IMPL")
                or config.getini("gradkata_impl"))


@pytest.hookimpl(tryfirst=True)  # the plugin's own configure must run before hypothesis's
def pytest_configure(config: pytest.Config) -> None:
    if active(config):
        from . import plugin

        # pytest calls the plugin's pytest_configure as it is registered.
        config.pluginmanager.register(plugin, "gradkata-kata")
