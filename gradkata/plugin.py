"""The kata's pytest plugin: which implementation is graded, points, and kind reports.

Registered by gradkata's pytest entry point (:mod:`gradkata.entry`, which also
holds the command-line options) only in a kata run: when ``--impl`` or
``GRADKATA_IMPL`` is given or the ini file sets ``gradkata_impl``, as the
kata's pyproject.toml does.

- ``--impl`` / ``GRADKATA_IMPL`` / ini ``gradkata_impl`` (first found wins):
  ``exercises`` (the default), ``solutions``, or a folder of the six modules.
- fixtures ``learner`` (the graded module, run in a sandbox worker) and
  ``reference`` (the same module from ``solutions/``, in this process).
- what a test is worth: the catalog's (``gradkata/kata.toml``, each
  exercise's ``[exercise.points]``) for the kata's tests/, a ``points.toml``
  in their own folder for others (an instructor's private tests); a graded
  test without points, or points naming no test, stop the run at collection
  (:func:`check_points`). Marker ``exercise(name)``: which
  exercise a test grades, when its file is not ``test_<name>.py``. Marker
  ``visibility(level)``: who sees the test's result on Gradescope (``hidden``,
  ``after_due_date``, ``after_published`` or ``visible``, the default; a
  test's own marker wins over its file's ``pytestmark``). Tests that are not
  visible run after the visible ones, so that nothing a learner's code
  remembers from a hidden test's inputs can come out in a visible test.
- a learner's mistake is reported as its message, not a traceback; a stub
  that still raises NotImplementedError is one "not started" line.
- at the end, a score table and one next step; ``--gradescope FILE`` writes
  Gradescope's results.json; ``--gradkata-raw FILE`` the per-test results.
- with pytest-xdist (``-n``), each test's exercise, points and visibility
  travel in its reports' ``user_properties``: the controller scores them as
  they arrive, as junitxml does, and only it writes the results files.
"""

from __future__ import annotations

import gc
import json
import os
import time
from pathlib import Path
from typing import Any, Dict, Generator, List, Literal, Optional, Tuple, Union, cast

import pytest

from . import catalog, impl, jail, notebooks, recorded, runner, sandbox, scoring
from . import reference as reference_module
from .learner import LearnerModule
from .output import OUTPUT_LIMIT
from .sandbox import LearnerAbort, LearnerError
from .verdict import Mistake, exception_note

_state_key = pytest.StashKey["_State"]()


class _State:
    def __init__(self, folder: Path, label: str, source: str, rootdir: Path) -> None:
        self.folder = folder
        self.label = label  # how the folder is named to the learner
        self.source = source  # where the setting came from
        self.rootdir = rootdir
        self.results: Dict[str, scoring.TestResult] = {}
        self.order: Dict[str, int] = {}  # a graded test's place in the run, by node id
        self.learners: List[LearnerModule] = []
        self.references: Dict[str, Any] = {}
        self.launched: Dict[str, sandbox.Sandbox] = {}  # workers started ahead of their tests
        self.started = time.monotonic()
        self.recorder: Optional[recorded.Recorder] = None  # --gradkata-record
        # Every graded test function collected, by file: its exercise and name
        # (all of a file's, whatever -k or a node id selects), and what each is worth.
        self.functions: Dict[Path, List[Tuple[str, str]]] = {}
        self.points: Dict[Tuple[Path, str], int] = {}
        self.marked: List[str] = []  # graded tests still marked points(n): an error


def resolve_impl(config: pytest.Config) -> Tuple[Path, str, str]:
    """The folder to grade, how to name it, and where the setting came from
    (the rule is :func:`gradkata.impl.resolve`'s)."""
    try:
        found = impl.resolve(config.getoption("gradkata_impl"), os.environ.get("GRADKATA_IMPL"),
                             config.getini("gradkata_impl"), Path(config.rootpath),
                             Path(config.invocation_params.dir))
    except impl.BadImpl as exc:
        raise pytest.UsageError(f"gradkata: {exc}") from None
    folder = notebooks.for_pytest(found.folder, config)  # a folder of notebooks: graded as modules
    return folder.resolve(), found.label, found.source


def _register_hypothesis_profiles(config: pytest.Config) -> None:
    from hypothesis import HealthCheck, Phase, settings

    common: Dict[str, Any] = dict(
        deadline=None,
        # A grade never changes between runs: every test draws from the same
        # fixed seed (see _fix_hypothesis_seed), not from a digest of its source.
        derandomize=False,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        print_blob=False,
    )
    # The learner's profile (and the grader's: a score is the same everywhere).
    # Two examples a property: hypothesis's simplest one (seed 0, the first of
    # each sampled_from) and one drawn at random. Every realistic mistake of the
    # mutant zoo is caught at this setting (tox -e mutants), and the suite runs
    # after every edit (benchmarks/latency.py). The ci profile runs 150. No
    # shrinking: a learner sees the first failing example at once instead of
    # waiting seconds for the smallest one.
    settings.register_profile("gradkata", max_examples=2, **common,
                              phases=[Phase.explicit, Phase.reuse, Phase.generate])
    settings.register_profile("ci", max_examples=150, **common)
    _fix_hypothesis_seed(config)
    chosen = None
    try:
        chosen = config.getoption("hypothesis_profile")
    except ValueError:
        pass
    if chosen is None:
        settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "gradkata"))


def _fix_hypothesis_seed(config: pytest.Config) -> None:
    """Seed hypothesis with 0 unless --hypothesis-seed says otherwise.

    The same examples on every run, as derandomize=True gives, without its cost:
    derandomize seeds each test from a hash of its source code, which hypothesis
    reads and parses anew for every test in every run (a tenth of the suite's time).
    Hypothesis's own plugin reads the option in its pytest_configure, after ours.
    """
    try:
        if config.getoption("hypothesis_seed") is None:
            config.option.hypothesis_seed = "0"
    except ValueError:
        pass  # hypothesis's pytest plugin is not loaded: nothing reads the option


def _state(config: pytest.Config) -> Optional[_State]:
    return config.stash.get(_state_key, None)


@pytest.hookimpl(tryfirst=True)  # before hypothesis's plugin reads --hypothesis-seed
def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "points(n): no longer read: a graded test's points are written in the "
        "catalog (gradkata/kata.toml, or a points.toml beside private tests)")
    config.addinivalue_line("markers", "exercise(name): the exercise a test grades")
    config.addinivalue_line(
        "markers", "visibility(level): who sees a graded test on Gradescope: "
        + ", ".join(scoring.VISIBILITIES) + " (the default)")
    if config.inipath is None and config.getoption("gradkata_impl"):
        if any(str(arg).startswith("--impl=") for arg in config.invocation_params.args):
            raise pytest.UsageError(
                "gradkata: pytest found no configuration file, so this is not the kata's "
                "folder and no kata's tests were named. Run pytest from the kata's folder, "
                "or name its tests (pytest --impl=FOLDER KATA/tests).")
        # pytest looks for its configuration before it knows --impl takes a value,
        # so `--impl /elsewhere/folder` alone made it search from that folder.
        raise pytest.UsageError(
            "gradkata: pytest found no configuration: it took the folder after --impl for a "
            "test path. Join them with '=' (pytest --impl=FOLDER) or name the tests too "
            "(pytest --impl FOLDER tests), from the kata's folder.")
    if config.getoption("gradkata_require_isolation") and not jail.status().jailed:
        raise pytest.UsageError(
            f"gradkata: --require-isolation, but learner code would run as {jail.status().text}. "
            "Grade on Linux with user namespaces allowed (`unshare -Ur true` must succeed).")
    folder, label, source = resolve_impl(config)
    state = _State(folder, label, source, Path(config.rootpath))
    if config.getoption("gradkata_record"):
        state.recorder = recorded.Recorder()
    config.stash[_state_key] = state
    config.pluginmanager.register(_Scorer(state), "gradkata-scorer")
    _register_hypothesis_profiles(config)
    _freeze_what_exists(config)


def _freeze_what_exists(config: pytest.Config) -> None:
    """Keep pytest's full garbage collections at the end of the run to what the run made.

    pytest (8.4 and later) collects garbage at the end of every run, to report
    errors in __del__ methods. A full collection walks every object the process
    holds, and pytest, hypothesis and numpy make some 60,000 of them before a
    single test runs: two collections cost 30 to 40 ms each on a 2-core VM, a
    fifth of the whole graded run. gc.freeze() sets the objects that exist now
    aside, so those collections walk only what the tests made, where the garbage
    they look for is. The cleanup, registered here, before pytest's own
    unraisable-exception plugin registers its collection (this hook runs first),
    runs after it and puts everything back.
    """
    if hasattr(gc, "freeze"):
        gc.freeze()
        config.add_cleanup(gc.unfreeze)


def pytest_report_header(config: pytest.Config) -> Optional[List[str]]:
    state = _state(config)
    if state is None:
        return None
    return [f"gradkata: grading {state.label} ({state.folder}), set by {state.source}",
            f"gradkata: isolation: {jail.status().text}"]


# --------------------------------------------------------------------------
# Which exercise a test grades, and what it is worth


def exercise_of(node: Any) -> Optional[str]:
    marker = node.get_closest_marker("exercise")
    if marker is not None:
        return str(marker.args[0])
    return catalog.exercise_of_test_file(Path(str(node.path)))


def points_of(item: pytest.Item) -> float:
    """What a graded test is worth, as :func:`check_points` found it in the catalog."""
    state = _require(item.config)
    return float(state.points[(Path(str(item.path)), _function_name(item))])


def _function_name(node: Any) -> str:
    return str(getattr(node, "originalname", None) or node.name)


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(collector: pytest.Collector) -> Generator[None, Any, Any]:
    # Every test function of every file collected, before a node id or -k picks
    # some: the points check needs them all to tell a stale catalog line.
    report = yield
    state = _state(collector.config)
    if state is None or not report.passed or not isinstance(collector,
                                                            (pytest.Module, pytest.Class)):
        return report
    found = state.functions.setdefault(Path(str(collector.path)), [])
    for node in report.result or ():
        if isinstance(node, pytest.Function):
            exercise = exercise_of(node)
            if exercise is not None and (exercise, _function_name(node)) not in found:
                found.append((exercise, _function_name(node)))
            if exercise is not None and node.get_closest_marker("points") is not None:
                state.marked.append(
                    f"{node.nodeid} is marked points(...), but a graded test's points are "
                    f"written once, in {_where_points_go(state, node.path, exercise)}: "
                    "move the value there and remove the marker.")
    return report


def _where_points_go(state: _State, path: Any, exercise: Optional[str]) -> str:
    if Path(str(path)).parent == state.rootdir / "tests":
        return f"gradkata/{catalog.CATALOG_FILE}, in the [exercise.points] table of {exercise}"
    folder = Path(str(path)).parent
    try:
        shown = folder.relative_to(state.rootdir)
    except ValueError:
        shown = folder
    return f"{shown / catalog.POINTS_FILE}, in its [{exercise}] table"


def check_points(state: _State) -> None:
    """Find every collected graded test's points, once, in the one place they are written.

    The kata's own tests (files in its tests/ folder) take theirs from the
    catalog; any other folder's (tests/private/, say) from the ``points.toml``
    beside them, which may also add tests to the kata's folder. A test found in
    neither, or in both, and a line naming no test of a file that was collected
    in full, stop the run before the first test: a missing or stale value would
    otherwise change a score without a word.
    """
    problems: List[str] = list(dict.fromkeys(state.marked))
    local: Dict[Path, Dict[str, Dict[str, int]]] = {}
    kata_tests = state.rootdir / "tests"
    for path, functions in state.functions.items():
        folder = path.parent
        if folder not in local:
            file = folder / catalog.POINTS_FILE
            try:
                local[folder] = catalog.read_points_file(file) if file.is_file() else {}
            except catalog.BadPoints as exc:
                raise pytest.UsageError(f"gradkata: {exc}") from None
        for exercise, name in functions:
            entry = catalog.find(exercise)
            public = entry.tests.get(name) if entry is not None and folder == kata_tests else None
            private = local[folder].get(exercise, {}).get(name)
            shown = f"{path.relative_to(state.rootdir) if state.rootdir in path.parents else path}"
            if public is not None and private is not None:
                problems.append(f"{shown}::{name} has points in both gradkata/"
                                f"{catalog.CATALOG_FILE} and {folder / catalog.POINTS_FILE}: "
                                "keep one.")
            elif public is None and private is None:
                problems.append(f"{shown}::{name} has no points: add `{name} = N` to "
                                f"{_where_points_go(state, path, exercise)}.")
            else:
                state.points[(path, name)] = int(public if public is not None else private or 0)
    problems += _stale_points(state, local)
    if problems:
        raise pytest.UsageError("gradkata: " + "\ngradkata: ".join(problems))


def _stale_points(state: _State, local: Dict[Path, Dict[str, Dict[str, int]]]) -> List[str]:
    """Lines of a catalog that name no test, for each exercise whose files in that
    catalog's folder were all collected (a run of one file cannot tell of another's)."""
    stale = []
    kata_tests = state.rootdir / "tests"
    tables = [(kata_tests, e.name, dict(e.tests), f"gradkata/{catalog.CATALOG_FILE} "
               f"[exercise.points] of {e.name}") for e in catalog.EXERCISES]
    tables += [(folder, exercise, table, f"{folder / catalog.POINTS_FILE} [{exercise}]")
               for folder, tables_here in local.items() for exercise, table in tables_here.items()]
    for folder, exercise, table, where in tables:
        files = (catalog.test_files(folder, exercise) if folder == kata_tests
                 else sorted(folder.glob("test_*.py")))
        seen = {name for path, functions in state.functions.items() if path.parent == folder
                for grades, name in functions if grades == exercise}
        if not seen or any(f not in state.functions for f in files):
            continue
        for name in sorted(set(table) - seen):
            stale.append(f"{where} gives points to {name}, which is no test of "
                         f"{exercise} there: remove the line, or rename it to the test's name.")
    return stale


def visibility_of(item: pytest.Item) -> str:
    """The test's Gradescope visibility: its own marker, else its file's, else visible."""
    marker = item.get_closest_marker("visibility")
    if marker is None:
        return "visible"
    value = marker.args[0] if len(marker.args) == 1 and not marker.kwargs else None
    if value not in scoring.VISIBILITIES:
        given = ", ".join([repr(a) for a in marker.args]
                          + [f"{k}={v!r}" for k, v in marker.kwargs.items()])
        raise pytest.UsageError(
            f"gradkata: {item.nodeid} is marked visibility({given}); the marker takes one of "
            + ", ".join(repr(v) for v in scoring.VISIBILITIES) + ".")
    return str(value)


def _start_worker(state: _State, exercise: str) -> None:
    if exercise in state.launched:
        return
    box = sandbox.Sandbox(str(state.folder), exercise)
    try:
        box.launch()
    except Exception:  # noqa: BLE001 - the first call starts it again, and reports why not
        pass
    state.launched[exercise] = box


def _xdist_controller(config: pytest.Config) -> bool:
    return config.pluginmanager.has_plugin("dsession")


def _collected_files(config: pytest.Config) -> List[Path]:
    """The files and folders this run collects tests from, as paths."""
    here = Path(config.invocation_params.dir)
    return [(here / str(arg).split("::")[0]).resolve() for arg in config.args]


@pytest.hookimpl(tryfirst=True)
def pytest_collection(session: pytest.Session) -> None:
    # Start the workers of the exercises whose test files this run collects, in
    # exercise order (the order the tests run in, see below), before collection:
    # each imports the learner's module while pytest collects, instead of while
    # the first test waits. Starting one takes a millisecond or two, here in the
    # judge's only thread. (Deselected in the end? Stopped at the end.)
    state = _state(session.config)
    if state is None or _xdist_controller(session.config):
        return  # xdist's controller runs no tests: its workers start their own
    runner.ensure_worker_server()
    paths = _collected_files(session.config)
    for name in catalog.NAMES:
        for test_file in catalog.test_files(state.rootdir / "tests", name):
            test_file = test_file.resolve()
            if any(test_file == path or path in test_file.parents for path in paths):
                _start_worker(state, name)
                break


def pytest_collectstart(collector: pytest.Collector) -> None:
    # A graded file found elsewhere (or one marked with an exercise): its worker
    # starts as soon as the file is found.
    state = _state(collector.config)
    if state is None or not isinstance(collector, pytest.Module):
        return
    exercise = exercise_of(collector)
    if exercise is not None:
        _start_worker(state, exercise)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: List[pytest.Item], config: pytest.Config) -> None:
    # Run the exercises in the kata's order, the order of the score table (pytest
    # would take the files alphabetically: gradient_check first). Tests shown later
    # or never come after the visible ones: a learner's module keeps its state
    # between calls (and can leave files behind), so what it saw of a hidden
    # test's inputs could otherwise come out in a later visible test's output.
    if _state(config) is None:
        return
    order = {name: index for index, name in enumerate(catalog.NAMES)}
    rank = {"visible": 0, "after_due_date": 1, "after_published": 2, "hidden": 3}
    items.sort(key=lambda item: (rank[visibility_of(item)],
                                 order.get(exercise_of(item) or "", len(order))))


def pytest_collection_finish(session: pytest.Session) -> None:
    # After deselection (-k, -m): only the tests that run are scored.
    state = _state(session.config)
    if state is None:
        return
    check_points(state)
    _check_conventions(state, {exercise_of(item) for item in session.items} - {None})
    for index, item in enumerate(session.items):
        facts = _facts(item)
        if facts is not None:
            facts["index"] = index
            item.user_properties.append((_PROPERTY, facts))
            _result_for(state, item.nodeid, facts)


def _check_conventions(state: _State, exercises: Any) -> None:
    """Stop before the first test if the reference breaks a convention the suite fixes
    (:mod:`gradkata.conventions`): one message each, not a failure in every test that
    states it. The handout, which has no reference, was recorded from one that passed."""
    from . import conventions

    problems = []
    for name in sorted(exercises):
        if (state.rootdir / "solutions" / f"{name}.py").is_file():
            problems += conventions.broken(name, load_reference(state.rootdir, name,
                                                                state.references))
    if problems:
        raise pytest.UsageError("gradkata: " + "\ngradkata: ".join(problems))


# What a graded test's reports carry (in user_properties, which pytest-xdist sends
# from its workers to the controller): enough to score the test where they arrive.
_PROPERTY = "gradkata"


def _facts(item: pytest.Item) -> Optional[Dict[str, Any]]:
    exercise = exercise_of(item)
    if exercise is None:
        return None
    return {"name": item.name, "exercise": exercise, "points": points_of(item),
            "visibility": visibility_of(item)}


def _result_for(state: _State, nodeid: str, facts: Dict[str, Any]) -> scoring.TestResult:
    result = state.results.get(nodeid)
    if result is None:
        result = state.results[nodeid] = scoring.TestResult(
            nodeid, facts["name"], facts["exercise"], float(facts["points"]),
            visibility=facts["visibility"])
        state.order[nodeid] = int(facts.get("index", len(state.order)))
    return result


# --------------------------------------------------------------------------
# Fixtures


def load_reference(rootdir: Path, name: str, cache: Dict[str, Any]) -> Any:
    """The reference module ``solutions/<name>.py``, imported in this (the judge's) process.

    In the handout, which has no solutions/, the answers its build recorded
    (:mod:`gradkata.recorded`); a call they do not cover skips its test.
    """
    if name not in cache:
        cache[name] = reference_module.load(rootdir, name, missing=pytest.skip)
    return cache[name]


def _exercise_for(request: pytest.FixtureRequest) -> str:
    name = exercise_of(request.node)
    if name is None:
        raise RuntimeError(f"gradkata: {request.node.nodeid} grades no known exercise: name "
                           "the file test_<exercise>.py or mark it with exercise(name)")
    return name


def _require(config: pytest.Config) -> _State:
    state = _state(config)
    if state is None:
        raise RuntimeError("gradkata: this is not a kata run: set gradkata_impl in the ini file, "
                           "or pass --impl")
    return state


@pytest.fixture(scope="module")
def reference(request: pytest.FixtureRequest) -> Any:
    """The reference solution of this file's exercise (trusted, in-process)."""
    state = _require(request.config)
    name = _exercise_for(request)
    module = load_reference(state.rootdir, name, state.references)
    if state.recorder is not None:
        return state.recorder.wrap(name, module)
    return module


@pytest.fixture(scope="module")
def learner(request: pytest.FixtureRequest,
            reference: Any) -> Generator[LearnerModule, None, None]:
    """The graded implementation of this file's exercise, run in a sandbox worker."""
    state = _require(request.config)
    name = _exercise_for(request)
    module = LearnerModule(str(state.folder), name, reference, state.launched.pop(name, None))
    state.learners.append(module)
    yield module
    module.close()
    state.learners.remove(module)


# --------------------------------------------------------------------------
# Time limits: learner calls stop a little before pytest-timeout's own alarm,
# which stays as the backstop for anything else.


@pytest.hookimpl(tryfirst=True)
def pytest_timeout_set_timer(item: pytest.Item, settings: Any) -> None:
    seconds = float(settings.timeout)
    margin = min(0.5, seconds / 10)
    sandbox.set_deadline(time.monotonic() + seconds - margin, seconds)


@pytest.hookimpl(tryfirst=True)
def pytest_timeout_cancel_timer(item: pytest.Item) -> None:
    sandbox.set_deadline(None)


# --------------------------------------------------------------------------
# Reports


Problem = Union[LearnerAbort, LearnerError, Mistake]


def _learner_problem(excinfo: Any) -> Optional[Problem]:
    """The learner-facing exception behind a failure, looking inside exception groups."""
    if excinfo is None:
        return None
    stack = [excinfo.value]
    while stack:
        exc = stack.pop(0)
        if isinstance(exc, (LearnerAbort, LearnerError, Mistake)):
            return exc
        stack.extend(getattr(exc, "exceptions", ()))
    return None


def _is_pytest_timeout(text: str) -> bool:
    """Whether ``text`` is pytest-timeout's failure message (its exported template,
    "Timeout (>%ss) from pytest-timeout.", with any number of seconds)."""
    from pytest_timeout import PYTEST_FAILURE_MESSAGE

    before, _, after = PYTEST_FAILURE_MESSAGE.partition("%s")
    return (text.startswith(before) and text.endswith(after)
            and len(text) > len(before) + len(after))


def _timeout_message(excinfo: Any) -> Optional[str]:
    if excinfo is None:
        return None
    if _is_pytest_timeout(str(excinfo.value)):
        return ("This test ran past its time limit and was stopped. Is there a loop that "
                "never ends in your code?")
    return None


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Any:
    """A learner's problem needs no traceback: build its report directly.

    pytest's own report renders the whole traceback with source lines (through
    hypothesis's frames too), which costs more than the test when a learner's
    stubs make every test fail; the message replaces it anyway (_explain).
    """
    if call.excinfo is None or _learner_problem(call.excinfo) is None:
        return None  # the usual case, decided first: this runs three times a test
    if _state(item.config) is None or exercise_of(item) is None:
        return None
    when = cast(Literal["setup", "call", "teardown"], call.when)
    return pytest.TestReport(
        item.nodeid, item.location, {x: 1 for x in item.keywords}, "failed", "",
        when, duration=call.duration,
        sections=[(f"Captured {key} {when}", text) for when, key, text in item._report_sections],
        start=call.start, stop=call.stop, user_properties=item.user_properties)


@pytest.hookimpl(hookwrapper=True, specname="pytest_runtest_makereport")
def pytest_gradkata_finish_report(item: pytest.Item,
                                  call: pytest.CallInfo) -> Generator[None, Any, None]:
    outcome = yield
    report = outcome.get_result()
    state = _state(item.config)
    if state is None:
        return
    if call.when == "call":
        printed = "\n".join(t for t in (m.sandbox.take_output() for m in state.learners) if t)
        if printed:
            report.sections.append((_PRINTED, printed))
    if not any(name == _PROPERTY for name, _ in report.user_properties):
        return  # not a graded test: its report stays as pytest made it
    if report.failed:
        _explain(item, call, report)


_PRINTED = "What your code printed"


class _Scorer:
    """Scores graded tests' reports where they arrive: in this process, or, under
    pytest-xdist, on the controller (registered per run: the hook has no config)."""

    def __init__(self, state: _State) -> None:
        self.state = state

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        facts = next((value for name, value in report.user_properties if name == _PROPERTY),
                     None)
        if not isinstance(facts, dict):
            return
        result = _result_for(self.state, report.nodeid, facts)
        if report.when == "call":
            printed = "\n".join(text for name, text in report.sections if name == _PRINTED)
            if printed:
                result.output = printed
        _record(result, report)


def _explain(item: pytest.Item, call: pytest.CallInfo, report: pytest.TestReport) -> None:
    """Replace the traceback of a learner's mistake by its message."""
    problem = _learner_problem(call.excinfo)
    message = problem.message if problem is not None else _timeout_message(call.excinfo)
    if message is None:
        return
    if isinstance(problem, LearnerError):
        note = exception_note(problem.exc_type, message)
        message += f"\n{note}" if note else ""
    status = scoring.Status(getattr(problem, "status", scoring.Status.FAILED))
    doc = (item.function.__doc__ or "").strip().splitlines() if hasattr(item, "function") else []
    started = status != scoring.Status.NOT_STARTED
    checks = f"What this test checks: {doc[0]}\n" if doc and started else ""
    report.longrepr = checks + message
    # Plain strings: reports travel from pytest-xdist's workers, which send no enums.
    report.gradkata_status = status.value  # type: ignore[attr-defined]
    # The function to write, as data: no one need find it in the message's words.
    report.gradkata_function = getattr(problem, "function", "")  # type: ignore[attr-defined]


@pytest.hookimpl(tryfirst=True)
def pytest_report_teststatus(report: pytest.TestReport, config: pytest.Config) -> Any:
    # gradkata_status is set only by an active kata run
    if getattr(report, "gradkata_status", None) == scoring.Status.NOT_STARTED:
        return "not started", "n", "NOT STARTED"
    return None


def _record(result: scoring.TestResult, report: pytest.TestReport) -> None:
    """Fold one phase's report (setup, call, teardown) into the test's result."""
    if report.when == "call" and report.passed:
        result.status = scoring.Status.PASSED
    elif report.skipped and result.status == scoring.Status.NOT_RUN:
        result.status = scoring.Status.SKIPPED
        # (path, line, reason); a list once pytest-xdist has carried it over
        longrepr = report.longrepr
        result.message = str(longrepr[-1]) if isinstance(longrepr, (tuple, list)) else ""
    elif report.failed and result.status in (scoring.Status.NOT_RUN, scoring.Status.PASSED):
        result.status = scoring.Status(getattr(report, "gradkata_status", scoring.Status.FAILED))
        result.function = str(getattr(report, "gradkata_function", ""))
        # The failure itself, not report.longreprtext: under xdist that opens with
        # the worker's line ("[gw0] linux -- Python ...").
        longrepr = report.longrepr
        text = longrepr if isinstance(longrepr, str) else str(longrepr or "")
        result.message = text[-OUTPUT_LIMIT:]
    result.duration += report.duration


# --------------------------------------------------------------------------
# The end of the run


def _graded(state: _State) -> List[scoring.TestResult]:
    # In the order the tests were collected, whatever order xdist's reports came in.
    return sorted(state.results.values(), key=lambda r: state.order.get(r.nodeid, 0))


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    state = _state(config)
    if state is None:
        return
    results = _graded(state)
    if not results:
        return
    rows = scoring.by_exercise(results)
    terminalreporter.section(f"gradkata score: {state.label}", sep="=", bold=True)
    for line in scoring.table(rows):
        terminalreporter.write_line(line)
    terminalreporter.write_line("")
    terminalreporter.write_line(scoring.next_step(rows, state.label))
    gradescope = config.getoption("gradkata_gradescope")
    if gradescope:
        terminalreporter.write_line(f"Wrote Gradescope's results to {gradescope}")


@pytest.hookimpl(wrapper=True, trylast=True)
def pytest_runtestloop(session: pytest.Session) -> Generator[None, object, object]:
    try:
        return (yield)
    finally:
        # The workers were told to stop as their files finished: wait for them
        # here, before coverage tools (pytest-cov) gather what they measured.
        sandbox.reap()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    state = _state(session.config)
    if state is None:
        return
    for module in list(state.learners):
        module.close()
    for box in state.launched.values():  # started for tests that never asked for it
        box.close()
    state.launched.clear()
    sandbox.reap()
    if hasattr(session.config, "workerinput"):
        return  # an xdist worker: its reports went to the controller, which writes the files
    results = _graded(state)
    elapsed = time.monotonic() - state.started
    gradescope = session.config.getoption("gradkata_gradescope")
    if gradescope:
        scoring.write_gradescope(gradescope, results, elapsed,
                                 header=f"gradkata: graded {state.label}")
    if state.recorder is not None:
        state.recorder.write(Path(session.config.getoption("gradkata_record")))
    raw = session.config.getoption("gradkata_raw")
    if raw:
        with open(raw, "w", encoding="utf-8") as out:
            json.dump(scoring.raw(results), out)


