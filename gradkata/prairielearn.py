"""``gradkata prairielearn-grade GRADE_DIR``: grade one PrairieLearn submission.

PrairieLearn's external grader runs the question's entrypoint in a container
made for one submission, with everything under ``/grade``:

- ``student/``: the file(s) the student submitted (``single_neuron.py``);
- ``tests/``: the question's tests folder, as ``gradkata prairielearn`` writes
  it: the kata's ``pyproject.toml`` (pytest's settings), the graded suite of
  the exercise under ``tests/tests/`` and its reference under
  ``tests/solutions/``;
- ``serverFilesCourse/``: the kata's package, which the entrypoint installs;
- ``results/results.json``: what this writes, in PrairieLearn's format.

The exercise graded is the one whose test file ``tests/tests/test_<name>.py``
is there. The grading is the kata's own: the same suite, sandbox and jail as
``pytest``, through the steps every hosted grader shares (:mod:`gradkata.upload`).

What the student sees, and what it costs them:

- a module that Python cannot parse (a syntax error) is not graded:
  ``gradable: false`` with the reason; PrairieLearn then awards and takes
  nothing and does not count the attempt;
- otherwise ``score`` (0..1) is the share of the exercise's points earned,
  each test an entry with its points and its diagnosis, and, for an exercise
  with a training step, the learner's own loss curve as an image;
- tests marked ``visibility`` other than ``visible`` show only which
  exercise failed: PrairieLearn shows every result at once, so a test to be
  shown "after the due date" is kept as secret as a hidden one;
- results.json never exceeds PrairieLearn's 1 MB: past it, what is cut is
  cut in the order of :data:`CUTS`, and ``message`` says what was cut.

If the grader itself fails (pytest could not grade, the sandbox user is
missing, ...), this writes no results.json and exits with status 1. PrairieLearn
then marks the grading job as failed, and a failed job makes the submission
not gradable: no points are awarded or taken, the attempt is not counted, and
course staff find what went wrong (printed here) in the job's log.
"""

from __future__ import annotations

import argparse
import ast
import base64
import io
import json
import os
import shutil
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from . import catalog, scoring
from .catalog import Exercise
from .upload import (
    GraderFailed,
    check_user,
    choose,
    copy_modules,
    lock_away,
    run_suite,
    upload_note,
    write_text_atomically,
)

# PrairieLearn's grader host fails a job whose results.json is larger than this.
RESULTS_LIMIT = 1024 * 1024
# How long the learner's step function may take, in all, to draw the loss curve.
PLOT_SECONDS = 15.0
DEFAULT_TIMEOUT = 10.0


# --------------------------------------------------------------------------
# What to grade


def exercises_in(kata: Path) -> List[Exercise]:
    """The exercises whose graded test file the question's tests folder holds."""
    found = [e for e in catalog.EXERCISES if catalog.test_files(kata / "tests", e.name)]
    if not found:
        raise GraderFailed(f"{kata}/tests/ holds no graded test file (test_<exercise>.py): "
                           "the question's tests folder is not one `gradkata prairielearn` "
                           "wrote")
    return found


def syntax_problem(path: Path, name: str) -> Optional[str]:
    """Why Python cannot even parse the module at ``path``, or None when it can.

    Only parsed, never run: running is the sandbox's job."""
    try:
        compile(path.read_bytes(), name, "exec", dont_inherit=True)
    except SyntaxError as exc:  # IndentationError and TabError too
        where = f"{name}, line {exc.lineno}" if exc.lineno else name
        text = f"{where}: {exc.msg}"
        if exc.text:
            line = exc.text.rstrip("\n")
            text += f"\n    {line.strip()}"
            if exc.offset:
                indent = len(line) - len(line.lstrip())
                text += "\n    " + " " * max(0, exc.offset - 1 - indent) + "^"
        return text
    except ValueError as exc:  # a null byte
        return f"{name}: {exc}"
    except (RecursionError, MemoryError):
        return f"{name}: nested too deeply for Python to parse it"
    return None


def descriptions(tests: Path) -> Dict[str, str]:
    """Each graded test function's name -> the first line of its docstring."""
    found: Dict[str, str] = {}
    for path in sorted(tests.glob("test_*.py")):
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"))
        except (SyntaxError, ValueError, OSError):
            continue  # pytest reports it; a description is a nicety
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) \
                    and node.name.startswith("test"):
                doc = (ast.get_docstring(node) or "").strip()
                if doc:
                    found[node.name] = " ".join(doc.split("\n\n")[0].split())
    return found


# --------------------------------------------------------------------------
# The learner's loss curve, as a PNG in memory


def png_data_url(draw: Callable[[Any], None], figsize: Tuple[float, float]) -> str:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from .plots import DPI

    fig = Figure(figsize=figsize, dpi=DPI)
    FigureCanvasAgg(fig)
    draw(fig)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _drawer(draw: Callable[[Any, Any], None], curve: Any) -> Callable[[Any], None]:
    return lambda fig: draw(fig, curve)


def loss_images(folder: Path, kata: Path, exercises: Sequence[Exercise],
                seconds: float = PLOT_SECONDS) -> Tuple[List[Dict[str, str]], List[str]]:
    """The loss curve of each exercise that has a training step, drawn with the
    learner's own step function (in the sandbox, within ``seconds`` for each);
    and a note for each one that could not be drawn."""
    from . import plots, sandbox

    images: List[Dict[str, str]] = []
    notes: List[str] = []
    for exercise in exercises:
        if exercise.name not in plots.LOSS_SETUPS:
            continue
        function = plots.LOSS_SETUPS[exercise.name]().function
        try:
            plots.require_matplotlib()
            sandbox.set_deadline(time.monotonic() + seconds, seconds)
            try:
                curve = plots.loss_curve(folder, kata, exercise.name)
            finally:
                sandbox.set_deadline(None)
            url = png_data_url(_drawer(plots.draw_loss, curve), plots.LOSS_FIGSIZE)
        except plots.PlotProblem as problem:
            if not problem.not_started:  # nothing to draw yet is no news
                first = problem.message.strip().splitlines()[0] if problem.message else ""
                end = "" if first.endswith((".", "?", "!")) else "."
                notes.append(f"No loss curve: your {exercise.name}.{function} could not draw "
                             f"it. {first}{end}".strip())
            continue
        except plots.MatplotlibMissing:
            print("gradkata: matplotlib is not installed in the grader's image: no loss curves")
            continue
        except Exception:  # noqa: BLE001 - a figure is a nicety: never a failed grading
            print(f"gradkata: the loss curve of {exercise.name} failed:\n"
                  f"{traceback.format_exc()}", flush=True)
            notes.append(f"No loss curve for {exercise.name}: the grader could not draw it.")
            continue
        label = (f"The loss over {len(curve.losses) - 1} epochs with your "
                 f"{exercise.name}.{function}")
        if curve.diverged_at is not None:
            label += f" (it blew up at epoch {curve.diverged_at})"
        images.append({"label": label, "url": url})
    return images, notes


# --------------------------------------------------------------------------
# PrairieLearn's results.json


def _base_name(test_name: str) -> str:
    return test_name.split("[", 1)[0]


def results_json(results: List[scoring.TestResult], described: Dict[str, str],
                 images: List[Dict[str, str]], notes: Sequence[str] = (),
                 note_on_top: str = "") -> Dict[str, Any]:
    """PrairieLearn's results.json (their external grading documentation) as a dict."""
    tests = []
    hidden_seen: Dict[str, int] = {}
    for r in results:
        entry = {"name": f"{r.exercise}: {r.name}",
                 "description": described.get(_base_name(r.name), ""),
                 "points": r.earned, "max_points": r.points,
                 "message": "" if r.status == "passed" else (r.message or r.status),
                 "output": r.output}
        if r.visibility != "visible":
            # Shown at once on PrairieLearn, so kept as secret as a hidden test:
            # its name and docstring may describe its input, its output echo it.
            hidden_seen[r.exercise] = hidden_seen.get(r.exercise, 0) + 1
            entry.update(name=f"{r.exercise}: hidden test {hidden_seen[r.exercise]}",
                         description="", message=scoring.hidden_message(r), output="")
        tests.append(entry)
    earned = sum(r.earned for r in results)
    possible = sum(r.points for r in results)
    shown = [r for r in results if r.visibility == "visible"]
    lines = [note_on_top, ""] if note_on_top else []
    lines += scoring.table(scoring.by_exercise(shown)) if shown else []
    if len(shown) < len(results):
        others = len(results) - len(shown)
        lines.append(f"{others} more {'test is' if others == 1 else 'tests are'} graded "
                     "but not shown here.")
    return {
        "gradable": True,
        "score": earned / possible if possible else 0.0,
        "message": " ".join([summary(results), *notes]),
        "output": "\n".join(lines),
        "images": images,
        "tests": tests,
    }


def summary(results: List[scoring.TestResult]) -> str:
    """The top message: the points, and the test to look at first."""
    earned = sum(r.earned for r in results)
    possible = sum(r.points for r in results)
    text = f"{earned:g}/{possible:g} points."
    shown = [r for r in results if r.visibility == "visible" and r.status != "passed"]
    failed = [r for r in shown if r.status != "not started"]
    if failed:
        return f"{text} Start with {failed[0].name}: its message below says what went wrong."
    if shown:
        return f"{text} Not started yet: {shown[0].name} (its message below says what to write)."
    if earned < possible:
        return f"{text} Every test shown here passes; a hidden test did not."
    return f"{text} Every test passes. Well done."


def not_gradable(reason: str) -> Dict[str, Any]:
    """A submission PrairieLearn does not grade: the attempt is not counted."""
    return {
        "gradable": False,
        "message": "Not graded, and this attempt does not count: Python cannot read your "
                   "code. Fix the line below and submit again.",
        "format_errors": [reason],
        "output": reason,
    }


def encode(data: Dict[str, Any]) -> str:
    # ASCII: whatever the learner's code printed (a lone surrogate too) is escaped,
    # so the file always encodes, and its size is its length.
    return json.dumps(data, indent=2) + "\n"


def size(data: Dict[str, Any]) -> int:
    return len(encode(data))


def _cut_text(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    if limit == 0:
        return ""  # the message says what was cut
    return text[:limit] + f"\n... ({len(text) - limit} more characters cut)"


def _each_test(key: str, limit: int) -> Callable[[Dict[str, Any]], None]:
    def cut(data: Dict[str, Any]) -> None:
        for test in data.get("tests", []):
            test[key] = _cut_text(test.get(key, ""), limit)
    return cut


def _drop_images(data: Dict[str, Any]) -> None:
    data["images"] = []


def _top_output(data: Dict[str, Any]) -> None:
    data["output"] = _cut_text(data.get("output", ""), 2000)


# What is cut, in this order, until results.json fits PrairieLearn's limit; each
# cut is named in the message. What the student's code printed goes first (the
# sandbox already keeps only its start), the diagnoses last.
CUTS: Tuple[Tuple[str, Callable[[Dict[str, Any]], None]], ...] = (
    ("what your code printed, to 500 characters a test", _each_test("output", 500)),
    ("what your code printed", _each_test("output", 0)),
    ("the loss curve", _drop_images),
    ("each test's message, to 500 characters", _each_test("message", 500)),
    ("the score table", _top_output),
    ("each test's message", _each_test("message", 0)),
)


def fit(data: Dict[str, Any], limit: int = RESULTS_LIMIT) -> Dict[str, Any]:
    """``data`` cut (see :data:`CUTS`) until its JSON takes at most ``limit`` bytes."""
    cut: List[str] = []
    message = data.get("message", "")
    for what, apply in CUTS:
        if size(data) <= limit:
            break
        apply(data)
        cut.append(what)
        data["message"] = (f"{message} To keep these results under PrairieLearn's 1 MB limit, "
                           f"the grader cut: {'; '.join(cut)}.").strip()
    if size(data) > limit:
        raise GraderFailed(f"the results take {size(data)} bytes even after every cut "
                           f"(the limit is {limit})")
    return data


# --------------------------------------------------------------------------
# One grading job


def grade_job(grade_dir: Path, user: Optional[str], timeout: float,
              limit: int = RESULTS_LIMIT) -> Optional[Dict[str, Any]]:
    """Grade ``grade_dir/student`` and return its results.json (or GraderFailed)."""
    kata = grade_dir / "tests"
    exercises = exercises_in(kata)
    if os.getuid() == 0:
        lock_away([kata] + [grade_dir / name for name in ("serverFilesCourse", "shared", "data")
                            if (grade_dir / name).exists()])
    check_user(user)
    choices = choose(grade_dir / "student", [e.name for e in exercises])
    missing = [c for c in choices if c.graded is None]
    if len(missing) == len(choices):
        names = ", ".join(f"{c.module}.py" for c in choices)
        data = not_gradable(f"No {names} was submitted.")
        data["message"] = f"Not graded, and this attempt does not count: no {names} submitted."
        return data
    for choice in choices:
        if choice.graded is not None:
            problem = syntax_problem(grade_dir / "student" / choice.graded, choice.graded)
            if problem is not None:
                return not_gradable(problem)
    work = Path(tempfile.mkdtemp(prefix="gradkata-upload-"))
    scratch = Path(tempfile.mkdtemp(prefix="gradkata-results-"))  # the judge's alone
    try:
        work.chmod(0o755)  # the sandbox user reads the modules, and cannot change them
        copy_modules(grade_dir / "student", choices, work)
        suite = run_suite(kata, work, scratch / "gradescope.json", timeout)
        graded = [e for e in exercises if e.name not in {c.module for c in missing}]
        images, notes = loss_images(work, kata, graded)
        notable = any(c.ignored or c.links or c.graded is None for c in choices)
        data = results_json(suite.results, descriptions(kata / "tests"), images, notes,
                            upload_note(choices) if notable else "")
        return fit(data, limit)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(scratch, ignore_errors=True)


def run(grade_dir: Path, user: Optional[str], timeout: float, limit: int = RESULTS_LIMIT) -> int:
    results_dir = grade_dir / "results"  # PrairieLearn does not create it
    results = results_dir / "results.json"
    try:
        results_dir.mkdir(exist_ok=True)
        results.unlink(missing_ok=True)  # a failed run must leave none behind
        data = grade_job(grade_dir, user, timeout, limit)
        assert data is not None
        write_text_atomically(results, encode(data))
        return 0
    except GraderFailed as exc:
        print(f"gradkata prairielearn-grade: grading failed: {exc}. No results.json "
              "written: PrairieLearn marks the job failed, and the submission not gradable "
              "(no points, the attempt not counted).", flush=True)
        return 1


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        prog="gradkata prairielearn-grade",
        description="Grade one PrairieLearn submission: read GRADE_DIR/student/, write "
                    "GRADE_DIR/results/results.json (what the question's entrypoint runs on "
                    "/grade; try it locally on a folder laid out the same way).")
    parser.add_argument("grade_dir", metavar="GRADE_DIR")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, metavar="SECONDS",
                        help=f"time limit of each test (default {DEFAULT_TIMEOUT:g})")
    args = parser.parse_args(argv)
    grade_dir = Path(args.grade_dir)
    if not grade_dir.is_dir():
        print(f"gradkata prairielearn-grade: {grade_dir} is not a folder", file=sys.stderr)
        return 2
    user = os.environ.get("GRADKATA_SANDBOX_USER") or None  # read by the sandbox's workers
    return run(grade_dir.resolve(), user, args.timeout)

