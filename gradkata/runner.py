"""The graded suite, run once: one implementation folder against one kata folder.

``run_suite(kata, folder)`` runs ``pytest.main`` with gradkata's plugin in this
process, prints nothing, and returns every collected graded test's result
(:class:`gradkata.scoring.TestResult`) and, when pytest itself did not finish,
why. Class grading runs it in a fresh judge process per submission; it is meant
for the CLI and the mutant zoo as well, so that the suite is run one way.
"""

from __future__ import annotations

import contextlib
import io
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, List, Optional, Sequence, Set

from . import scoring

# What a judge imports before its first run; class grading preloads these in the
# template its judges are forked from, so that no judge pays for them.
WARM_MODULES = (
    "numpy", "hypothesis", "hypothesis.strategies", "pytest", "pytest_timeout",
    "_hypothesis_pytestplugin", "gradkata.entry", "gradkata.plugin", "gradkata.jail",
    "gradkata.verdict", "gradkata.gradcheck", "gradkata.runner",
)


@dataclass
class SuiteRun:
    """What one run of the graded suite gave."""

    results: List[scoring.TestResult] = field(default_factory=list)
    seconds: float = 0.0
    error: str = ""  # empty when pytest finished (every test passed, or some failed)


class _Collector:
    """A pytest plugin object that keeps the session's graded results."""

    def __init__(self) -> None:
        self.results: List[scoring.TestResult] = []

    def pytest_sessionfinish(self, session: Any) -> None:
        from .plugin import _state_key

        state = session.config.stash.get(_state_key, None)
        if state is not None:
            self.results = list(state.results.values())


class _OptionNames:
    """Stands in for pytest's parser to learn which options a plugin adds."""

    def __init__(self) -> None:
        self.names: Set[str] = set()

    def getgroup(self, *args: Any, **kwargs: Any) -> _OptionNames:
        return self

    def addoption(self, *names: str, **kwargs: Any) -> None:
        self.names.update(names)

    def addini(self, *args: Any, **kwargs: Any) -> None:
        pass


def plugin_options() -> Set[str]:
    """The command-line options gradkata adds to pytest (``--impl``, ...)."""
    from . import entry

    names = _OptionNames()
    entry.pytest_addoption(names)  # type: ignore[arg-type]
    return names.names


def run_suite(kata: Path, folder: Path, *, timeout: Optional[float] = None,
              extra: Sequence[str] = (), collect_only: bool = False) -> SuiteRun:
    """Run the graded suite of ``kata`` (its pyproject.toml and tests/) on the
    implementation in ``folder``, in this process; ``timeout`` is each test's limit
    (None: the kata's own). What pytest prints is dropped; the results say it all."""
    import pytest

    kata = Path(kata)
    collector = _Collector()
    started = time.monotonic()
    args = [
        "-c", str(kata / "pyproject.toml"), "--rootdir", str(kata),
        "-p", "no:cacheprovider", "-p", "no:terminal",
        f"--impl={folder}",
        *(["-o", f"timeout={timeout:g}"] if timeout is not None else []),
        *(["--collect-only"] if collect_only else []),
        *extra,
        str(kata / "tests"),
    ]
    sink = io.StringIO()
    error = ""
    with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
        try:
            code = int(pytest.main(args, plugins=[collector]))
        except Exception as exc:  # noqa: BLE001 - a judge failure is reported, not raised
            code, error = -1, f"{type(exc).__name__}: {exc}"
    # 0 and 1 are "all passed" and "some failed"; anything else means pytest itself
    # did not finish (an internal error, an interruption, a usage error).
    if not error and code not in (0, 1):
        tail = sink.getvalue().strip()[-2000:]
        error = f"pytest ended with status {code}" + (f":\n{tail}" if tail else "")
    return SuiteRun(collector.results, time.monotonic() - started, error)


_WARM_UP_TEST = """
from hypothesis import given, settings, strategies as st


@settings(max_examples=1, database=None)
@given(st.integers())
def test_nothing(x):
    pass
"""


def warm_up() -> None:
    """Run pytest once, in this process, on a folder holding one trivial hypothesis
    test: what every later run pays for once (finding and importing plugins,
    hypothesis's first run, filling caches) is paid here."""
    import tempfile

    import pytest

    with tempfile.TemporaryDirectory() as folder:
        Path(folder, "test_gradkata_warm_up.py").write_text(_WARM_UP_TEST)
        sink = io.StringIO()
        with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
            pytest.main(["-q", "-p", "no:cacheprovider", "--rootdir", folder, folder])


def silence_std_fds() -> None:
    """Point file descriptors 0, 1 and 2 at /dev/null, so that nothing this process
    starts holds the terminal or the pipes of whoever started it."""
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    os.close(null)
