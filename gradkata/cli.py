"""``gradkata``: the learner's command line.

    gradkata [list]                  every exercise with its status, points and a bar
    gradkata check [EXERCISE]        the first unfinished exercise's first problem
    gradkata hint EXERCISE [--all]   the next hint (or every hint shown so far)
    gradkata watch                   check again on every save under exercises/
    gradkata plot learning-rate      the weight at three learning rates, with your update_weights
    gradkata plot loss EXERCISE      the loss over the epochs with your step function
    gradkata solution EXERCISE       the reference, once the exercise passes
    gradkata reset EXERCISE          the original stub back (your file is kept)
    gradkata notebooks               the exercises as Jupyter notebooks, in JupyterLab
    gradkata grade / handout / gradescope-bundle / prairielearn[-grade] ...   for teachers

``--impl`` (or GRADKATA_IMPL) picks the graded folder, as for the test suite.
Grading runs the suite in a judge process (:mod:`gradkata.progress`); learner code
only ever runs in the sandbox, so a learner's mistake is a message, never a
traceback. Exit status: 0 success, 1 an exercise fails or is not done (or the
command could not do its job), 2 a usage error, 130 stopped by Ctrl-C.
"""

from __future__ import annotations

import argparse
import ast
import atexit
import datetime
import importlib
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from . import authoring, catalog, hints, progress
from .catalog import Exercise
from .scoring import State, Status, TestResult, bar

# Subcommands implemented in other modules: the rest of the command line is theirs.
PASSTHROUGH: Dict[str, Tuple[str, str]] = {
    "grade": ("gradkata.classgrade", "grade a class's submissions (for teachers)"),
    "gradescope-bundle": ("gradkata.bundle", "build the Gradescope autograder zip (for teachers)"),
    "handout": ("gradkata.handout", "write the learners' copy of the kata, without the "
                "solutions (for teachers)"),
    "prairielearn": ("gradkata.prairielearn_export",
                     "write PrairieLearn questions and their grader (for teachers)"),
    "prairielearn-grade": ("gradkata.prairielearn",
                           "grade one PrairieLearn submission folder (the questions' grader)"),
}

BAR_WIDTH = 10
TOTAL_BAR_WIDTH = 20


class UsageProblem(Exception):
    """A mistake on the command line (exit status 2)."""


# --------------------------------------------------------------------------
# Output


class Style:
    """Colours, only on a terminal and when NO_COLOR is not set."""

    def __init__(self, stream: Any = None) -> None:
        stream = stream or sys.stdout
        isatty = getattr(stream, "isatty", lambda: False)
        self.on = bool(isatty()) and not os.environ.get("NO_COLOR")

    def _paint(self, text: str, code: str) -> str:
        return f"\033[{code}m{text}\033[0m" if self.on else text

    def green(self, text: str) -> str:
        return self._paint(text, "32")

    def yellow(self, text: str) -> str:
        return self._paint(text, "33")

    def red(self, text: str) -> str:
        return self._paint(text, "31")

    def dim(self, text: str) -> str:
        return self._paint(text, "2")

    def bold(self, text: str) -> str:
        return self._paint(text, "1")


def say(text: str = "") -> None:
    print(text, flush=True)


def complain(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def indent(text: str, prefix: str = "  ") -> str:
    return textwrap.indent(text.rstrip(), prefix, lambda line: True)


def _num(x: float) -> str:
    return f"{x:g}"


def _shown(path: Path) -> str:
    """A path as the learner would type it: relative to the current folder when inside it."""
    path = Path(path).absolute()
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


# --------------------------------------------------------------------------
# Exercises and the project


def find_exercise(name: str) -> Exercise:
    exercise = catalog.find(name)
    if exercise is None:
        choices = ", ".join(f"{e.number} {e.name}" for e in catalog.EXERCISES)
        raise UsageProblem(f"there is no exercise '{name}'. Choose one of: {choices}.")
    return exercise


def unrepeated(message: str) -> str:
    """A not-started message after the words "Not started:", without saying them again."""
    text = message.strip()
    for tail in (": not started.", ": not started"):
        if text.endswith(tail):
            return text[:-len(tail)] + "."
    return text


def whose(impl: progress.Impl) -> str:
    """How the graded code is named: the kata's reference is not the learner's."""
    return "the reference" if impl.value == "solutions" else "your"


def project(args: argparse.Namespace) -> Tuple[Path, progress.Impl]:
    root = progress.find_root()
    return root, progress.resolve_impl(getattr(args, "impl", None), root)


def not_started_functions(exercise: Exercise, results: Sequence[TestResult]) -> List[str]:
    """The functions that not-started results need written, in the catalog's order
    (then any other, by name); each result carries its function as data."""
    named = {r.function for r in results if r.status == Status.NOT_STARTED and r.function}
    return [f for f in exercise.functions if f in named] + sorted(named - set(exercise.functions))


def state_text(status: progress.Status) -> str:
    if status.state == State.IN_PROGRESS:
        return f"in progress {status.passed}/{status.tests} tests"
    if status.state == State.NO_TESTS:
        return "no graded tests yet"
    return status.state


def progress_lines(run: progress.Run, style: Style) -> List[str]:
    """The exercises, one line each, and the total."""
    lines = []
    statuses = run.statuses()
    for s in statuses:
        e = s.exercise
        text = f"{state_text(s):<24}"
        if s.state == State.DONE:
            text = style.green(text)
        elif s.state == State.IN_PROGRESS:
            text = style.yellow(text)
        else:
            text = style.dim(text)
        fraction = s.earned / s.possible if s.possible else 0.0
        points = f"{_num(s.earned)}/{_num(s.possible)}"
        shown_bar = bar(fraction, BAR_WIDTH) if s.tests else ""
        lines.append(f"{e.number:>2} {e.name:<19} {text} {points:>6}  {shown_bar}".rstrip())
    earned = sum(s.earned for s in statuses)
    possible = sum(s.possible for s in statuses)
    fraction = earned / possible if possible else 0.0
    done = sum(s.done for s in statuses)
    total = f"{_num(earned)}/{_num(possible)}"
    lines.append(f"{'':>2} {'total':<19} {f'{done}/{len(statuses)} done':<24} {total:>6}  "
                 f"{bar(fraction, TOTAL_BAR_WIDTH)} {fraction:.0%}")
    return lines


def first_unfinished(run: progress.Run) -> Optional[progress.Status]:
    return next((s for s in run.statuses() if s.tests and not s.done), None)


def hint_line(name: str, root: Optional[Path]) -> str:
    available = len(hints.load().get(name, []))
    seen = hints.shown(root).get(name, 0) if root is not None else 0
    if not available:
        return f"Stuck? `gradkata check {name}` again after each change."
    if seen >= available:
        return f"Stuck? `gradkata hint {name} --all` shows the {available} hints again."
    return f"Stuck? `gradkata hint {name}` gives hint {seen + 1} of {available}."


def run_problem(run: progress.Run) -> Optional[int]:
    """Report a run that was stopped or could not happen; its exit status, or None if it ran."""
    if run.interrupted:
        say("\nCheck stopped (Ctrl-C).")
        return 130
    if run.problem:
        complain(f"gradkata: {run.problem}")
        return 1
    return None


def show_exercise(run: progress.Run, status: progress.Status, root: Path, style: Style,
                  footer: str = "") -> int:
    """One exercise's check: its standing, then its first problem and how to get a hint."""
    e, impl = status.exercise, run.impl
    where = f"{impl.label}{e.name}.py"
    if status.state == State.NO_TESTS:
        say(f"{e.number} {e.name} has no graded tests yet (no tests/test_{e.name}.py), so it "
            "cannot be checked.")
        return 1
    fraction = status.earned / status.possible if status.possible else 0.0
    headline = (f"{e.number} {e.name} ({where}): {status.passed}/{status.tests} tests pass, "
                f"{_num(status.earned)}/{_num(status.possible)} points {bar(fraction, BAR_WIDTH)}")
    say(style.bold(headline))
    if status.done:
        say(style.green("It passes. Well done!"))
        say(f"Compare with the reference: gradkata solution {e.name}")
        return 0
    problem = status.score.first_problem if status.score is not None else None
    say("")
    if problem is None:  # pragma: no cover - a row that is not done has a first problem
        say("Some tests did not pass.")
    elif problem.status == Status.NOT_STARTED:
        say(style.yellow("Not started: ") + (unrepeated(problem.message) or "not written yet."))
        if problem.function:
            say(f"Write {problem.function} next, in {where}.")
    else:
        label = "Failed" if problem.status == Status.FAILED else f"Did not run ({problem.status})"
        say(style.red(f"{label}: {problem.name}"))
        if problem.message.strip():
            say(indent(problem.message))
        if problem.output.strip():
            say("")
            say("What your code printed:")
            say(indent(problem.output))
    say("")
    if footer:
        say(footer)
    say(hint_line(e.name, root))
    return 1


# --------------------------------------------------------------------------
# list


def cmd_list(args: argparse.Namespace) -> int:
    root, impl = project(args)
    style = Style()
    run = progress.run_suite(root, impl, time_limit=args.time_limit)
    stopped = run_problem(run)
    if stopped is not None:
        return stopped
    say(f"gradkata: {impl.label} (graded in {run.seconds:.1f} s)")
    say("")
    for line in progress_lines(run, style):
        say(line)
    say("")
    say(next_text(run))
    return 0


def next_text(run: progress.Run) -> str:
    status = first_unfinished(run)
    if status is not None:
        e = status.exercise
        return (f"Next: {e.number} {e.name} ({run.impl.label}{e.name}.py). "
                "`gradkata check` shows what is left.")
    untested = [s.exercise.name for s in run.statuses() if not s.tests]
    if untested:
        return f"Every graded exercise passes ({', '.join(untested)}: no graded tests yet)."
    return "Every exercise passes. Well done!"


# --------------------------------------------------------------------------
# check


def cmd_check(args: argparse.Namespace) -> int:
    named = find_exercise(args.exercise) if args.exercise else None
    root, impl = project(args)
    style = Style()
    names = [named.name] if named else None
    run = progress.run_suite(root, impl, names, time_limit=args.time_limit)
    stopped = run_problem(run)
    if stopped is not None:
        return stopped
    return show_check(run, named, root, style)


DONE_FILE = "done.json"  # in hints.STATE_FOLDER: the exercises seen passing, per folder


def just_done(run: progress.Run, root: Path) -> List[Exercise]:
    """The exercises that pass now and did not at the last check of this folder (which is
    remembered in .gradkata/done.json); the first check only remembers."""
    path = root / hints.STATE_FOLDER / DONE_FILE
    try:
        seen = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        seen = None
    if not isinstance(seen, dict):
        seen = None
    key = run.impl.label or "."
    before = set(seen.get(key, [])) if seen is not None else None
    now = {s.exercise.name for s in run.statuses() if s.done}
    failing = {s.exercise.name for s in run.statuses() if s.score is not None and not s.done}
    kept = ((before or set()) - failing) | now  # exercises this run did not grade keep theirs
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({**(seen or {}), key: sorted(kept)}, indent=2),
                        encoding="utf-8")
    except OSError:
        return []
    if before is None:
        return []
    return [s.exercise for s in run.statuses() if s.exercise.name in now - before]


def show_check(run: progress.Run, named: Optional[Exercise], root: Path, style: Style,
               total: bool = True, news: bool = True) -> int:
    """Say what the check found; with ``news``, announce the exercises that have just passed.

    ``watch`` starts without news: nothing has changed yet, and its table already shows
    which exercises are done (the memory of them is brought up to date all the same).
    """
    for exercise in just_done(run, root):
        if news:
            say(style.green(f"Exercise {exercise.number} done: {exercise.name} passes every "
                            "test."))
    if named is not None:
        code = show_exercise(run, run.status(named.name), root, style)
        if code == 0:
            say("Next: `gradkata check` finds the first unfinished exercise.")
        return code
    status = first_unfinished(run)
    if status is None:
        say(style.green(next_text(run)))
        return 0
    statuses = run.statuses()
    earned = sum(s.earned for s in statuses)
    possible = sum(s.possible for s in statuses)
    done = sum(s.done for s in statuses)
    footer = (f"Total: {_num(earned)}/{_num(possible)} points "
              f"{bar(earned / possible if possible else 0.0, TOTAL_BAR_WIDTH)}, "
              f"{done}/{len(statuses)} exercises done.")
    return show_exercise(run, status, root, style, footer=footer if total else "")


# --------------------------------------------------------------------------
# hint


def cmd_hint(args: argparse.Namespace) -> int:
    exercise = find_exercise(args.exercise)
    root = progress.find_root()
    available = hints.load().get(exercise.name, [])
    if not available:
        say(f"There are no hints for {exercise.name} yet.")
        return 1
    seen = hints.shown(root).get(exercise.name, 0)
    if args.all:
        count = min(max(seen, 1), len(available))
        first = 1
    elif seen >= len(available):
        count = first = len(available)
        say(f"That was the last hint for {exercise.name}; here it is again.")
    else:
        count = first = seen + 1
    if count > seen:
        hints.record(root, exercise.name, count)
    for number in range(first, count + 1):
        say(f"Hint {number} of {len(available)} for {exercise.number} {exercise.name}:")
        say(textwrap.fill(available[number - 1], width=78, initial_indent="  ",
                          subsequent_indent="  "))
        say("")
    if count < len(available):
        say(f"Another hint: gradkata hint {exercise.name} "
            f"({len(available) - count} more). All shown so far: gradkata hint "
            f"{exercise.name} --all")
    else:
        say(f"That is every hint. `gradkata check {exercise.name}` shows what is left; "
            f"`gradkata solution {exercise.name}` shows the reference once it passes.")
    return 0


# --------------------------------------------------------------------------
# watch


def cmd_watch(args: argparse.Namespace) -> int:
    try:
        import watchfiles
    except ImportError:
        complain('gradkata watch needs watchfiles, an optional extra. Install it with\n'
                 '    pip install "gradkata[watch]"\n'
                 'or, in a clone of the kata, pip install -e ".[learn]"')
        return 1
    root, impl = project(args)
    style = Style()

    last: List[progress.Run] = []  # the last complete check

    def check(changed: Optional[Sequence[Path]] = None) -> int:
        # After a save, only the exercises the saved files can change are graded
        # again (in a fresh judge); the others' results stand from the last check.
        names = None
        if last and changed is not None:
            names = progress.affected_exercises(impl.folder, changed)
        say(style.dim(f"Checking {impl.label} ..."))
        run = progress.run_suite(root, impl, names, time_limit=args.time_limit, warm=True)
        if run.interrupted:
            say("Check stopped (Ctrl-C). Still watching: save a file to check again, "
                "or press Ctrl-C again to quit.")
            return 130
        if run.problem:
            say(run.problem)
            return 1
        if names is not None:
            run = last[0].updated(run)
        last[:] = [run]
        for line in progress_lines(run, style):
            say(line)
        say("")
        return show_check(run, None, root, style, total=False, news=changed is not None)

    code = check()
    checks = 0
    waiting = (f"\nWatching {impl.label} for changes: save a file to check again. "
               "Ctrl-C quits.")
    say(waiting)
    try:
        for changes in watchfiles.watch(impl.folder, watch_filter=watchfiles.PythonFilter(),
                                        raise_interrupt=True):
            checks += 1
            paths = sorted({Path(path) for _, path in changes})
            changed = ", ".join(sorted({_shown(path) for path in paths}))
            stamp = datetime.datetime.now().strftime("%H:%M:%S")
            say("")
            say(style.bold(f"=== {stamp} {changed} changed: checking again ==="))
            code = check(paths)
            if args.exit_after and checks >= args.exit_after:
                return 0 if code == 0 else 1
            say(waiting)
    except KeyboardInterrupt:
        say("\nStopped watching. Bye!")
        return 0
    return 0 if code == 0 else 1


# --------------------------------------------------------------------------
# plot


def positive_rate(text: str) -> float:
    """A learning rate from the command line: a number above 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"a learning rate must be above 0, not {text}")
    return value


def cmd_plot(args: argparse.Namespace) -> int:
    exercise = find_exercise(args.exercise) if getattr(args, "exercise", None) else None
    from . import plots  # numpy and the sandbox: only when plotting

    if exercise is not None and exercise.name not in plots.LOSS_SETUPS:
        choices = ", ".join(plots.LOSS_SETUPS)
        raise UsageProblem(f"{exercise.name} has no training step to plot. `gradkata plot loss` "
                           f"draws: {choices}.")
    try:
        plots.require_matplotlib()
    except plots.MatplotlibMissing as exc:
        complain(str(exc))
        return 1
    root, impl = project(args)
    out = Path(args.out) if args.out else None
    try:
        if args.figure == "learning-rate":
            module, function = "numeric_gradients", "update_weights"
            say(f"Running {whose(impl)} {module}.{function} ({impl.label}{module}.py) for "
                f"{plots.WEIGHT_EPOCHS} epochs at each learning rate ...")
            histories = plots.learning_rate_histories(impl.folder, root)
            for lr, history in histories.items():
                frozen = plots.frozen_epoch(history)
                note = (f", frozen from epoch {frozen} on" if frozen is not None else "")
                say(f"  learning rate {lr:<5g} W = {history[-1]:.6g} after "
                    f"{len(history)} epochs{note}")
            path = plots.render(lambda fig: plots.draw_learning_rate(fig, histories),
                                plots.LEARNING_RATE_FIGSIZE, out, "gradkata-learning-rate.png")
        else:
            assert exercise is not None
            setup = plots.loss_setup(exercise.name, args.lr)
            module, function = exercise.name, setup.function
            say(f"Running {whose(impl)} {module}.{function} ({impl.label}{module}.py) for "
                f"{setup.epochs} epochs at learning rate {setup.lr:g} ...")
            curve = plots.loss_curve(impl.folder, root, exercise.name, args.lr)
            say(f"  loss {curve.losses[0]:.6g} at the start, {curve.losses[-1]:.6g} after "
                f"epoch {len(curve.losses) - 1}; least-squares optimum {curve.optimum:.6g}")
            if curve.diverged_at is not None:
                say(f"  The loss blew up at epoch {curve.diverged_at}: your steps go uphill or "
                    "overshoot. `gradkata check` says why.")
            path = plots.render(lambda fig: plots.draw_loss(fig, curve), plots.LOSS_FIGSIZE,
                                out, f"gradkata-loss-{exercise.name}.png")
    except plots.PlotProblem as problem:
        if problem.not_started:
            say(f"Not started: {unrepeated(problem.message)}")
            say("There is nothing to plot yet.")
        else:
            say(f"Your {module}.{function} could not draw the plot:")
            say(indent(problem.message))
        say(f"`gradkata check {module}` shows what is left; `gradkata hint {module}` helps.")
        return 1
    except OSError as exc:
        complain(f"gradkata: could not write the figure: {exc}")
        return 1
    if path is not None:
        say(f"Saved the figure to {_shown(path)}")
    return 0


# --------------------------------------------------------------------------
# solution


def cmd_solution(args: argparse.Namespace) -> int:
    exercise = find_exercise(args.exercise)
    root, impl = project(args)
    reference = root / "solutions" / f"{exercise.name}.py"
    if not (root / "solutions").is_dir():
        say(f"The solution of {exercise.name} is not part of this copy of the kata: your "
            "instructor handed it out without solutions/. The tests' messages say what is "
            f"expected (gradkata check {exercise.name}), and gradkata hint {exercise.name} helps.")
        return 1
    if not reference.is_file():
        complain(f"gradkata: the reference {_shown(reference)} is missing.")
        return 1
    run = progress.run_suite(root, impl, [exercise.name], time_limit=args.time_limit)
    stopped = run_problem(run)
    if stopped is not None:
        return stopped
    status = run.status(exercise.name)
    where = f"{impl.label}{exercise.name}.py"
    if status.done:
        say(f"{exercise.number} {exercise.name} passes, so here is the reference, "
            f"solutions/{exercise.name}.py:")
        say("")
        # Shown without the solution markers the stubs are generated from.
        say(authoring.reference_text(reference.read_text(encoding="utf-8")).rstrip())
        say("")
        say(f"Compare it with yours: diff {where} solutions/{exercise.name}.py")
        return 0
    if status.state == State.NO_TESTS:
        say(f"{exercise.name} has no graded tests yet, so its solution stays hidden.")
        return 1
    say(f"The solution of {exercise.name} is shown once {where} passes. For now "
        f"{status.passed}/{status.tests} tests pass ({_num(status.earned)}/"
        f"{_num(status.possible)} points).")
    left = [r for r in run.results if r.exercise == exercise.name and r.status != Status.PASSED]
    todo = not_started_functions(exercise, left)
    todo += [f for f in unwritten_functions(impl.folder / f"{exercise.name}.py", exercise)
             if f not in todo]
    todo = [f for f in exercise.functions if f in todo] + [f for f in todo
                                                          if f not in exercise.functions]
    if todo:
        say(f"Not started yet: {', '.join(todo)}.")
    failing = [r for r in left if r.status != Status.NOT_STARTED]
    if failing:
        say("Tests still failing:")
        for r in failing:
            say(f"  - {r.name}" + (f" ({r.status})" if r.status != Status.FAILED else ""))
    say(f"`gradkata check {exercise.name}` shows the first problem; "
        f"`gradkata hint {exercise.name}` gives a hint.")
    return 1


# --------------------------------------------------------------------------
# reset
#
# The original stub comes from git: the kata is used as a clone, so its
# history holds every stub as shipped, and nothing needs generating or
# duplicating in the package. The newest committed version of
# exercises/<name>.py in which every function still raises
# NotImplementedError is the stub; so a learner who commits their own work
# still gets the stub back, and a stub fixed upstream comes back fixed.
# Without git (or outside a clone) reset says so and changes nothing.


class StubUnavailable(Exception):
    pass


def _stub_functions(source: bytes) -> Optional[Dict[str, bool]]:
    """Each top-level function of a module's source, and whether its body still raises
    NotImplementedError; None if the source does not parse. The code is read, never run."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return None

    def raises_not_implemented(body: List[ast.stmt]) -> bool:
        for stmt in body:
            if isinstance(stmt, ast.Raise) and stmt.exc is not None:
                exc = stmt.exc.func if isinstance(stmt.exc, ast.Call) else stmt.exc
                if isinstance(exc, ast.Name) and exc.id == "NotImplementedError":
                    return True
        return False

    return {node.name: raises_not_implemented(node.body) for node in tree.body
            if isinstance(node, ast.FunctionDef)}


def is_stub(source: bytes, exercise: Exercise) -> bool:
    """Whether every function of the exercise still raises NotImplementedError."""
    functions = _stub_functions(source)
    return functions is not None and all(functions.get(f, False) for f in exercise.functions)


def unwritten_functions(path: Path, exercise: Exercise) -> List[str]:
    """The exercise's functions that the learner's file still leaves as stubs (or lacks)."""
    try:
        functions = _stub_functions(path.read_bytes())
    except OSError:
        return list(exercise.functions)
    if functions is None:
        return []  # a syntax error: the tests' messages say more
    return [f for f in exercise.functions if functions.get(f, True)]


def _git(root: Path, *args: str) -> bytes:
    git = shutil.which("git")
    if git is None:
        raise StubUnavailable("gradkata reset takes the original stub from git, and git is not "
                              "installed. Download the file again from the kata's repository.")
    proc = subprocess.run([git, *args], cwd=str(root), capture_output=True,
                          stdin=subprocess.DEVNULL)
    if proc.returncode != 0:
        lines = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        why = f" ({lines[-1]})" if lines else ""
        raise StubUnavailable(
            f"gradkata reset takes the original stub from git, and git could not help{why}. "
            "Is this folder a clone of the kata? Otherwise download the file again."
        )
    return proc.stdout


def original_stub(root: Path, exercise: Exercise) -> bytes:
    """The newest committed version of exercises/<name>.py that is still a stub."""
    relative = f"exercises/{exercise.name}.py"
    commits = _git(root, "log", "--format=%H", "--", relative).decode().split()
    for commit in commits:
        try:
            source = _git(root, "show", f"{commit}:./{relative}")
        except StubUnavailable:
            continue  # deleted in that commit
        if is_stub(source, exercise):
            return source
    raise StubUnavailable(f"git has no committed version of {relative} that is still a stub, so "
                          "there is nothing to reset it to.")


def backup_path(target: Path) -> Path:
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    path = target.with_name(f"{target.name}.{stamp}.gradkata-backup")
    n = 1
    while path.exists():
        path = target.with_name(f"{target.name}.{stamp}-{n}.gradkata-backup")
        n += 1
    return path


def cmd_reset(args: argparse.Namespace) -> int:
    exercise = find_exercise(args.exercise)
    root, impl = project(args)
    if impl.folder.resolve() == (root / "solutions").resolve():
        say("gradkata reset puts a stub back in your own exercise files; solutions/ holds the "
            "reference and is never reset.")
        return 1
    target = impl.folder / f"{exercise.name}.py"
    try:
        stub = original_stub(root, exercise)
    except StubUnavailable as exc:
        say(str(exc))
        return 1
    current = target.read_bytes() if target.exists() else None
    if current == stub:
        say(f"{_shown(target)} is already the original stub: nothing to do.")
        return 0
    backup = backup_path(target)
    if not args.yes:
        kept = f" Your file will be kept as {_shown(backup)}." if current is not None else ""
        try:
            answer = input(f"Put the original stub back in {_shown(target)}?{kept} [y/N] ")
        except EOFError:  # no terminal to answer: the default, no
            say("")
            answer = ""
        if answer.strip().lower() not in ("y", "yes"):
            say("Nothing changed.")
            return 1
    if current is not None:
        shutil.copy2(target, backup)
    target.write_bytes(stub)
    say(f"{_shown(target)} is the original stub again.")
    if current is not None:
        say(f"Your previous version is kept in {_shown(backup)}.")
    return 0


# --------------------------------------------------------------------------
# notebooks


def cmd_notebooks(args: argparse.Namespace) -> int:
    from . import notebooks

    return notebooks.open_lab(progress.find_root(needs=("notebooks",)))


# --------------------------------------------------------------------------
# grade, gradescope-bundle: other modules, the rest of the command line untouched


def passthrough(command: str, argv: List[str]) -> int:
    module_name, _ = PASSTHROUGH[command]
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        if exc.name != module_name:
            raise
        complain(f"gradkata {command} is not available in this version of gradkata.")
        return 2
    result = module.main(argv)
    return int(result or 0)


# --------------------------------------------------------------------------
# The parser


def build_parser() -> argparse.ArgumentParser:
    impl_help = ("the folder to grade: 'exercises' (the default), 'solutions', or a folder "
                 "holding the six exercise modules; also GRADKATA_IMPL")
    limit_help = "seconds each graded test may run (default: the suite's own, 10)"

    def add_impl(p: argparse.ArgumentParser, default: Any) -> None:
        p.add_argument("--impl", metavar="FOLDER", default=default, help=impl_help)

    def add_limit(p: argparse.ArgumentParser, default: Any) -> None:
        p.add_argument("--time-limit", metavar="SECONDS", type=float, default=default,
                       help=limit_help)

    parser = argparse.ArgumentParser(
        prog="gradkata",
        description="The gradkata companion: your progress, checks, hints, plots and more.",
        epilog="EXERCISE is a name (single_neuron) or a number (1). Without a command: list.",
    )
    add_impl(parser, None)
    add_limit(parser, None)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def command(name: str, help: str, limit: bool = True) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help, description=help[0].upper() + help[1:] + ".")
        add_impl(p, argparse.SUPPRESS)  # SUPPRESS: an --impl before the command still counts
        if limit:
            add_limit(p, argparse.SUPPRESS)
        return p

    command("list", "every exercise with its status, points and a progress bar")
    p = command("check", "grade the first unfinished exercise (or EXERCISE) and show its "
                "first problem")
    p.add_argument("exercise", nargs="?", metavar="EXERCISE")
    p = command("hint", "show the next hint for EXERCISE", limit=False)
    p.add_argument("exercise", metavar="EXERCISE")
    p.add_argument("--all", action="store_true", help="show every hint shown so far")
    p = command("watch", "check again on every save of a file in the graded folder")
    p.add_argument("--exit-after", metavar="N", type=int, default=0,
                   help="stop after N checks triggered by changes, with the last check's "
                        "exit status (for scripts and tests)")
    p = command("plot", "draw a figure with your own functions (needs matplotlib)", limit=False)
    figures = p.add_subparsers(dest="figure", metavar="FIGURE", required=True)
    lr = figures.add_parser("learning-rate", help="fitting y = 3x: the weight over the epochs "
                            "for learning rates 0.01, 0.1 and 1, with your update_weights")
    loss = figures.add_parser("loss", help="the loss over the epochs with your step function, "
                              "against the least-squares optimum")
    loss.add_argument("exercise", metavar="EXERCISE",
                      help="single_neuron, loop_gradients, vectorized or numeric_gradients")
    loss.add_argument("--lr", type=positive_rate, metavar="RATE",
                      help="the learning rate (default: the exercise's own, as in its story)")
    for f in (lr, loss):
        add_impl(f, argparse.SUPPRESS)
        f.add_argument("--out", metavar="FILE.png",
                       help="save the figure there (default: a window if one can open, else "
                            "gradkata-<figure>.png in the current folder)")
    p = command("solution", "show the reference solution of EXERCISE, once it passes")
    p.add_argument("exercise", metavar="EXERCISE")
    p = command("reset", "put the original stub of EXERCISE back (your file is kept as a "
                "backup)", limit=False)
    p.add_argument("exercise", metavar="EXERCISE")
    p.add_argument("--yes", "-y", action="store_true", help="do not ask for confirmation")
    command("notebooks", "open the exercises as Jupyter notebooks in JupyterLab (needs the "
            "notebooks extra)", limit=False)
    for name, (_, help) in PASSTHROUGH.items():  # listed for --help; main() runs them
        p = sub.add_parser(name, help=help + " (its own options follow it)", add_help=False)
        p.add_argument("rest", nargs=argparse.REMAINDER)
    return parser


HANDLERS: Dict[str, Callable[[argparse.Namespace], int]] = {
    "list": cmd_list,
    "check": cmd_check,
    "hint": cmd_hint,
    "watch": cmd_watch,
    "plot": cmd_plot,
    "solution": cmd_solution,
    "reset": cmd_reset,
    "notebooks": cmd_notebooks,
}


def _passthrough_after_options(argv: List[str]) -> Optional[str]:
    """A teacher command that comes after gradkata's own options, if any: those options
    are not its own, so it would be run with a command line it did not get."""
    i = 0
    while i < len(argv):
        if argv[i] in PASSTHROUGH:
            return argv[i]
        if argv[i] in ("--impl", "--time-limit"):
            i += 2
        elif argv[i].startswith(("--impl=", "--time-limit=")):
            i += 1
        else:
            return None
    return None


def main(argv: Optional[List[str]] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in PASSTHROUGH:
        return passthrough(argv[0], argv[1:])
    parser = build_parser()
    late = _passthrough_after_options(argv)
    if late is not None:
        parser.exit(2, f"gradkata: {late} reads its own options: put them after '{late}' "
                       f"(gradkata {late} --help lists them).\n")
    args = parser.parse_args(argv)
    command = args.command or "list"
    if not hasattr(args, "time_limit"):
        args.time_limit = None
    try:
        return HANDLERS[command](args)
    except UsageProblem as exc:
        parser.exit(2, f"gradkata {command}: {exc}\n")
    except (progress.ProjectNotFound, progress.BadImpl) as exc:
        parser.exit(2, f"gradkata: {exc}\n")
    except KeyboardInterrupt:
        say("\nStopped.")
        return 130
    except BrokenPipeError:  # pragma: no cover - `gradkata | head`: the reader has gone
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    return 0  # pragma: no cover - parser.exit raises


def run() -> None:
    """The ``gradkata`` command: :func:`main`, then an exit that skips tearing down
    every imported module (pytest's and its plugins', read for the configuration),
    which costs a watcher a quarter of a second between its verdict and its exit
    on a busy machine. What must happen at exit still does: output is flushed and
    the exit handlers run (multiprocessing's among them: its temporary folder goes,
    the judges' template is told to end)."""
    code = main()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # pragma: no cover - closed, or the reader is gone
            pass
    atexit._run_exitfuncs()
    os._exit(code)


if __name__ == "__main__":  # pragma: no cover
    run()
