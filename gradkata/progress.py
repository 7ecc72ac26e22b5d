"""Where the learner stands: run the graded tests for the CLI and read their results.

The CLI never imports a learner's module. It runs the kata's own suite in a
subprocess, exactly as a learner would by hand::

    python -m pytest -q -p no:cacheprovider --gradkata-raw RESULTS.json \
        --impl FOLDER tests/test_<exercise>.py ...

and reads back the per-test results that the plugin writes (``--gradkata-raw``).
The learner's code runs in the plugin's sandbox workers, under the suite's
time limit, so nothing it does can crash the CLI.

The subprocess gets a session of its own: a Ctrl-C in the terminal reaches only
the CLI, which stops the whole run (pytest, its fork server and the workers)
and carries on (``gradkata watch``) or exits (``gradkata check``).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, List, Optional, Sequence

from . import catalog, scoring
from .catalog import Exercise

OVERALL_SECONDS = 600.0  # a backstop: the suite's own per-test limit stops loops long before


class ProjectNotFound(Exception):
    """The current folder is not inside a gradkata project."""


class BadImpl(Exception):
    """--impl / GRADKATA_IMPL names something that is not a folder."""


# --------------------------------------------------------------------------
# The project and the graded folder


def find_root(start: Optional[Path] = None,
              needs: Sequence[str] = ("exercises", "tests")) -> Path:
    """The project folder: the nearest one, from ``start`` upwards, that holds
    pyproject.toml next to the folders ``needs`` names."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "pyproject.toml").is_file() and all((folder / n).is_dir() for n in needs):
            return folder
    raise ProjectNotFound(
        f"{here} is not inside a gradkata project (a folder with pyproject.toml, "
        f"{', '.join(n + '/' for n in needs[:-1])} and {needs[-1]}/). Run gradkata from the "
        "kata's folder."
    )


@dataclass(frozen=True)
class Impl:
    """The implementation being graded."""

    value: str  # what is passed to pytest's --impl
    folder: Path  # the folder that holds the learner's modules
    label: str  # how it is named to the learner: "exercises/"
    source: str  # where the setting came from


def _ini_impl(root: Path) -> Optional[str]:
    """The ini value gradkata_impl in pyproject.toml, if any."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - exercised on Python < 3.11
        import tomli as tomllib
    try:
        with open(root / "pyproject.toml", "rb") as f:
            data = tomllib.load(f)
    except (OSError, ValueError):
        return None
    value = data.get("tool", {}).get("pytest", {}).get("ini_options", {}).get("gradkata_impl")
    return str(value) if value else None


def resolve_impl(option: Optional[str], root: Path, cwd: Optional[Path] = None) -> Impl:
    """The graded folder, as the plugin resolves it: the option, then GRADKATA_IMPL,
    then the ini value, then ``exercises``."""
    value, source, base = option, "--impl", cwd or Path.cwd()
    if not value:
        value, source = os.environ.get("GRADKATA_IMPL"), "GRADKATA_IMPL"
    if not value:
        value, source, base = _ini_impl(root), "the ini value gradkata_impl", root
    if not value:
        value, source = "exercises", "the default"
    if value in ("exercises", "solutions"):
        return Impl(value, root / value, value + "/", source)
    folder = Path(value).expanduser()
    if not folder.is_absolute():
        folder = base / folder
    if not folder.is_dir():
        raise BadImpl(f"{source} names '{value}', which is not a folder. Use 'exercises', "
                      "'solutions' or a folder holding the six exercise modules.")
    folder = folder.resolve()
    return Impl(str(folder), folder, value.rstrip("/\\") + "/", source)


def graded_files(root: Path, name: str) -> List[Path]:
    """The graded test files of one exercise: tests/test_<name>.py and tests/test_<name>_*.py."""
    tests = root / "tests"
    files = [tests / f"test_{name}.py"] + sorted(tests.glob(f"test_{name}_*.py"))
    return [f for f in files if f.is_file()]


# --------------------------------------------------------------------------
# Running the suite


@dataclass
class Status:
    """One exercise's standing, from the results of a run."""

    exercise: Exercise
    score: Optional[scoring.ExerciseScore]  # None: no graded tests ran for it

    @property
    def state(self) -> str:
        return self.score.state if self.score is not None else "no tests"

    @property
    def done(self) -> bool:
        return self.state == "done"

    @property
    def earned(self) -> float:
        return self.score.earned if self.score is not None else 0.0

    @property
    def possible(self) -> float:
        return self.score.possible if self.score is not None else float(self.exercise.points)

    @property
    def passed(self) -> int:
        return self.score.passed if self.score is not None else 0

    @property
    def tests(self) -> int:
        return self.score.tests if self.score is not None else 0


@dataclass
class Run:
    """What one run of the graded tests found."""

    impl: Impl
    names: List[str]  # the exercises that were graded
    results: List[scoring.TestResult] = field(default_factory=list)
    returncode: Optional[int] = None
    problem: Optional[str] = None  # the run itself went wrong (not the learner's code)
    interrupted: bool = False  # stopped by Ctrl-C
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.problem is None and not self.interrupted

    def statuses(self) -> List[Status]:
        """One Status per graded exercise, in the catalog's order."""
        rows = {row.name: row for row in scoring.by_exercise(self.results)}
        return [Status(e, rows.get(e.name)) for e in catalog.EXERCISES if e.name in self.names]

    def status(self, name: str) -> Status:
        return next(s for s in self.statuses() if s.exercise.name == name)


def _stop(proc: subprocess.Popen) -> None:
    """Stop pytest and everything it started (fork server, sandbox workers)."""
    try:
        if os.name == "posix":
            os.killpg(proc.pid, signal.SIGKILL)
        else:  # pragma: no cover - Windows
            proc.kill()
    except (ProcessLookupError, PermissionError):  # pragma: no cover - it ended just now
        pass
    try:
        proc.wait(5)
    except subprocess.TimeoutExpired:  # pragma: no cover
        pass


def pytest_command(root: Path, impl: Impl, names: Iterable[str], raw: str,
                   time_limit: Optional[float] = None) -> List[str]:
    files = [str(f.relative_to(root)) for name in names for f in graded_files(root, name)]
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
               "-p", "no:randomly", "--gradkata-raw", raw, "--impl", impl.value]
    if time_limit:
        command += ["-o", f"timeout={time_limit:g}"]
    return command + files


def run_suite(root: Path, impl: Impl, names: Optional[Sequence[str]] = None,
              time_limit: Optional[float] = None) -> Run:
    """Grade the exercises ``names`` (all by default) in a pytest subprocess.

    A Ctrl-C while it runs stops the run and returns it with ``interrupted``
    set; it never raises KeyboardInterrupt.
    """
    names = list(names) if names is not None else list(catalog.NAMES)
    run = Run(impl, names)
    graded = [n for n in names if graded_files(root, n)]
    if not graded:
        return run
    started = time.monotonic()
    fd, raw = tempfile.mkstemp(prefix="gradkata-", suffix=".json")
    os.close(fd)
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")  # no stale .pyc in the learner's folder
    env.pop("GRADKATA_IMPL", None)  # --impl says it
    try:
        proc = subprocess.Popen(
            pytest_command(root, impl, graded, raw, time_limit),
            cwd=str(root), env=env, stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            start_new_session=(os.name == "posix"),
        )
        try:
            output, _ = proc.communicate(timeout=OVERALL_SECONDS)
        except KeyboardInterrupt:
            _stop(proc)
            run.interrupted = True
            return run
        except subprocess.TimeoutExpired:
            _stop(proc)
            run.problem = (f"The graded tests were still running after {OVERALL_SECONDS:g} s "
                           "and were stopped.")
            return run
        run.returncode = proc.returncode
        try:
            with open(raw, encoding="utf-8") as f:
                text = f.read()
            run.results = scoring.results_from_json(json.loads(text)) if text else []
        except (OSError, ValueError, KeyError, TypeError):
            run.results = []
        if not run.results:
            tail = "\n".join(output.decode("utf-8", "replace").rstrip().splitlines()[-25:])
            run.problem = ("The graded tests could not run (pytest exit status "
                           f"{proc.returncode}). Its last lines:\n{tail}")
    finally:
        run.seconds = time.monotonic() - started
        try:
            os.unlink(raw)
        except OSError:  # pragma: no cover - already gone
            pass
    return run
