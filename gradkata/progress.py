"""Where the learner stands: run the graded tests for the CLI and read their results.

The CLI never imports a learner's module. It runs the kata's own suite in a
judge (:mod:`gradkata.runner`: pytest on ``tests/test_<exercise>.py ...`` with
``--impl FOLDER``, as a learner would by hand) and gets back the per-test
results. The learner's code runs in the plugin's sandbox workers, under the
suite's time limit, so nothing it does can crash the CLI. ``gradkata watch``
forks each check's judge from a warm template (``warm=True``), so that a save
pays for the tests only; a single check starts a fresh interpreter.

The judge gets a session of its own: a Ctrl-C in the terminal reaches only
the CLI, which stops the whole run (the judge, its fork server and the
workers) and carries on (``gradkata watch``) or exits (``gradkata check``).
"""

from __future__ import annotations

import ast
import dataclasses
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, List, Optional, Sequence, Set

from . import catalog, impl, scoring
from .catalog import Exercise
from .impl import BadImpl, Impl

OVERALL_SECONDS = 600.0  # a backstop: the suite's own per-test limit stops loops long before


class ProjectNotFound(Exception):
    """The current folder is not inside a gradkata project."""


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


def resolve_impl(option: Optional[str], root: Path, cwd: Optional[Path] = None) -> Impl:
    """The graded folder, as the plugin resolves it (:func:`gradkata.impl.resolve`),
    with the ini value read by pytest, from the configuration it finds for the
    kata's tests. Raises BadImpl, also when pytest cannot read its configuration."""
    from . import runner

    try:
        rootdir, inipath, ini = runner.configuration(root)
    except runner.ConfigurationError as exc:
        raise BadImpl(str(exc)) from None
    found = impl.resolve(option, os.environ.get("GRADKATA_IMPL"), ini, rootdir, cwd or Path.cwd())
    return dataclasses.replace(found, inifile=str(inipath) if inipath is not None else None)


def graded_files(root: Path, name: str) -> List[Path]:
    """The graded test files of one exercise: tests/test_<name>.py and tests/test_<name>_*.py."""
    return catalog.test_files(root / "tests", name)


# --------------------------------------------------------------------------
# Running the suite


@dataclass
class Status:
    """One exercise's standing, from the results of a run."""

    exercise: Exercise
    score: Optional[scoring.ExerciseScore]  # None: no graded tests ran for it

    @property
    def state(self) -> scoring.State:
        return self.score.state if self.score is not None else scoring.State.NO_TESTS

    @property
    def done(self) -> bool:
        return self.state == scoring.State.DONE

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

    def updated(self, fresh: Run) -> Run:
        """This run with the exercises ``fresh`` graded again replaced by its results."""
        kept = [r for r in self.results if r.exercise not in fresh.names]
        return Run(self.impl, self.names, kept + fresh.results, fresh.returncode,
                   fresh.problem, fresh.interrupted, fresh.seconds)


def _imported(path: Path) -> Set[str]:
    """The top-level names of the modules that ``path`` imports (read, never run);
    none when it cannot be read or parsed."""
    try:
        tree = ast.parse(path.read_bytes())
    except (OSError, SyntaxError, ValueError):
        return set()
    names: Set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
            else:  # from . import x / from .x import y: the folder's own modules
                names.update(alias.name for alias in node.names)
                if node.module:
                    names.add(node.module.split(".")[0])
    return names


def affected_exercises(folder: Path, changed: Iterable[Path]) -> Optional[List[str]]:
    """The exercises whose grade can change when the files ``changed`` change: the
    exercises of the changed modules and of every exercise module that imports one
    of them, in the catalog's order. None when a change may reach any exercise (a
    file that is not an exercise's module): then every exercise is graded again."""
    folder = folder.resolve()
    reached: Set[str] = set()
    for path in changed:
        path = Path(path).resolve()
        if path.parent != folder or path.suffix != ".py" or path.stem not in catalog.NAMES:
            return None
        reached.add(path.stem)
    imports = {name: _imported(folder / f"{name}.py") for name in catalog.NAMES}
    grown = True
    while grown:  # modules that import a reached module are reached too
        more = {name for name, used in imports.items() if used & reached} - reached
        reached |= more
        grown = bool(more)
    return [name for name in catalog.NAMES if name in reached]


def run_suite(root: Path, impl: Impl, names: Optional[Sequence[str]] = None,
              time_limit: Optional[float] = None, warm: bool = False) -> Run:
    """Grade the exercises ``names`` (all by default) in a judge: forked from the
    warm template when ``warm`` (and fork exists), else a fresh interpreter.

    A Ctrl-C while it runs stops the run and returns it with ``interrupted``
    set; it never raises KeyboardInterrupt.
    """
    from . import runner

    names = list(names) if names is not None else list(catalog.NAMES)
    run = Run(impl, names)
    files = [str(f.relative_to(root)) for n in names for f in graded_files(root, n)]
    if not files:
        return run
    started = time.monotonic()
    task = runner.Task(str(root), impl.value, time_limit, paths=tuple(files),
                       cache_bytecode=True, inifile=impl.inifile)
    try:
        suite = runner.judge(task, OVERALL_SECONDS, warm=warm)
    except KeyboardInterrupt:
        run.interrupted = True
        return run
    except runner.JudgeFailed as exc:
        run.problem = f"The graded tests could not run: {exc}."
        if exc.timed_out:
            run.problem = (f"The graded tests were still running after {OVERALL_SECONDS:g} s "
                           "and were stopped.")
        return run
    finally:
        run.seconds = time.monotonic() - started
    run.results = suite.results
    if suite.error or not run.results:
        why = suite.error or "no graded test was collected"
        run.problem = f"The graded tests could not run ({why})."
    return run
