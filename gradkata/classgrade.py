"""``gradkata grade``: grade a class's submissions into a gradebook that one
hostile submission cannot spoil.

Each submission is a folder holding the six exercise modules (a missing one
counts as not started). How a batch runs:

- The kata's graded suite (pyproject.toml, tests/ without tests/meta, solutions/,
  any conftest.py) is copied into a temporary folder and made read-only: every
  judge grades from that snapshot, whatever a submission does to the kata's own
  folder meanwhile. It is removed at the end.
- One judge process per submission, forked fresh from a template that imported
  pytest, hypothesis, numpy and the plugin once (a multiprocessing fork server),
  never reused; at most ``--jobs`` at once. A judge never runs learner code: that
  happens in sandbox workers (:mod:`gradkata.sandbox`), inside the OS jail where
  there is one.
- A judge that dies, or runs past its deadline (see :func:`judge_seconds`), is
  stopped with everything it started and its submission is graded once more; a
  second failure is recorded as such (status ``timeout`` or ``error: ...``),
  never as a score. The maximum is always the kata's, from its collected tests.
- Results come back over a socket only the judge holds, read without waiting on
  anything a stray process could keep open.
- This process adopts every orphan of the batch (a child subreaper, on Linux);
  before it writes anything, it kills every process left below it and waits for
  them. The gradebook and results are then written atomically.
"""

from __future__ import annotations

import argparse
import csv
import json
import multiprocessing
import os
import shutil
import stat
import sys
import tempfile
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Deque, Dict, List, NamedTuple, Optional, Sequence, Tuple, Union

from . import catalog, classreport, jail, progress, runner, scoring
from .runner import Judge, Task, _parents, descendants, kill_tree
from .runner import kill as _kill

FIXED_COLUMNS = ["submission", "student_id", "status", "score", "max_score"]
CSV_COLUMNS = [*FIXED_COLUMNS, *catalog.NAMES]

GRADED, TIMEOUT = "graded", "timeout"
ATTEMPTS = 2  # a judge that fails is retried once

# A judge's deadline: its start (fork, importing the learner's modules, collecting)
# plus, for every collected test, the test's own limit and a margin for the work
# around it. A submission whose every test runs into its limit still finishes in
# time; a judge past this deadline is stuck where pytest-timeout cannot reach.
JUDGE_START_SECONDS = 20.0
TEST_MARGIN_SECONDS = 0.5
COLLECT_SECONDS = 60.0  # the batch's first judge only collects the kata's tests


def judge_seconds(tests: int, timeout: float) -> float:
    """How long one judge may run: ``20 + tests * (timeout + 0.5)`` seconds."""
    return JUDGE_START_SECONDS + tests * (timeout + TEST_MARGIN_SECONDS)


KATA_NEEDS = ("tests", "solutions")  # grading reads the suite and the reference


def _is_kata(folder: Path) -> bool:
    return (folder / "pyproject.toml").is_file() and all((folder / n).is_dir()
                                                         for n in KATA_NEEDS)


def installed_kata() -> Optional[Path]:
    """The kata this gradkata was installed from (``pip install -e``: the package
    lives in the kata's folder), or None when the installed package has no kata
    around it (a wheel in site-packages)."""
    folder = Path(__file__).resolve().parent.parent
    return folder if _is_kata(folder) else None


def find_root(start: Optional[Path] = None, kata: Optional[str] = None) -> Path:
    """The kata to grade against: ``kata`` (``--kata DIR``) when given; else the
    one around ``start`` (the current folder); else the installed one. None of
    them: a usage error (exit status 2) that says what to do."""
    if kata is not None:
        folder = Path(kata).resolve()
        if _is_kata(folder):
            return folder
        print(f"gradkata grade: --kata {kata}: not a gradkata kata (a folder with "
              "pyproject.toml, tests/ and solutions/)", file=sys.stderr)
        raise SystemExit(2)
    try:
        return progress.find_root(start, needs=KATA_NEEDS)
    except progress.ProjectNotFound as exc:
        found = installed_kata()
        if found is not None:
            return found
        print(f"gradkata grade: {exc.args[0].split(' Run gradkata')[0]}, and the installed "
              "gradkata has no kata around it. Give the kata's folder with --kata DIR.",
              file=sys.stderr)
        raise SystemExit(2) from None


# --------------------------------------------------------------------------
# The gradebook's rows


@dataclass
class Graded:
    submission: str  # unique within the batch
    student_id: str
    folder: str
    status: str  # "graded", "timeout" or "error: <reason>"
    max_score: float  # the kata's, from its collected tests
    results: List[scoring.TestResult] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def graded(self) -> bool:
        return self.status == GRADED

    @property
    def rows(self) -> List[scoring.ExerciseScore]:
        return scoring.by_exercise(self.results)

    @property
    def score(self) -> float:
        return sum(r.earned for r in self.results)


def csv_row(graded: Graded) -> Dict[str, Any]:
    """A submission's row; only a graded one has scores (never a silent 0)."""
    row: Dict[str, Any] = {
        "submission": graded.submission,
        "student_id": graded.student_id,
        "status": graded.status,
        "score": f"{graded.score:g}" if graded.graded else "",
        "max_score": f"{graded.max_score:g}",
    }
    per = {r.name: r.earned for r in graded.rows}
    for name in catalog.NAMES:
        row[name] = f"{per.get(name, 0.0):g}" if graded.graded else ""
    return row


def write_atomically(path: Path, data: Union[str, bytes], encoding: str = "utf-8") -> None:
    """Write a whole file or nothing: a temporary file beside it, then a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data if isinstance(data, bytes) else data.encode(encoding))
        os.replace(temporary, path)
    except BaseException:
        with _ignored(OSError):
            os.unlink(temporary)
        raise


class _ignored:
    def __init__(self, *kinds: type) -> None:
        self.kinds = kinds

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: Any, value: Any, trace: Any) -> bool:
        return kind is not None and issubclass(kind, self.kinds)


def write_csv(path: str, graded: Sequence[Graded], *, excel: bool = False) -> None:
    write_rows(path, [csv_row(g) for g in graded], excel=excel)


def write_rows(path: str, rows: Sequence[Dict[str, Any]], *, excel: bool = False) -> None:
    """The gradebook, atomically. ``excel``: UTF-8 with a byte order mark, which
    spreadsheet programs need to read "zoë" as UTF-8 rather than their own code page."""
    import io

    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=CSV_COLUMNS)
    writer.writeheader()
    for row in rows:
        writer.writerow(row)
    write_atomically(Path(path), text.getvalue(), "utf-8-sig" if excel else "utf-8")


class GradebookError(Exception):
    """An existing gradebook (``--merge``) that cannot be read as one."""


def read_rows(path: str) -> List[Dict[str, str]]:
    """The rows of a gradebook this command wrote (with or without a BOM)."""
    try:
        with open(path, encoding="utf-8-sig", newline="") as f:
            reader = csv.DictReader(f)
            rows = list(reader)
            header = reader.fieldnames or []
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise GradebookError(f"{path}: {exc}") from None
    if list(header) != CSV_COLUMNS:
        raise GradebookError(f"{path}: not a gradebook of this kata (its columns are "
                             f"{','.join(header) or 'missing'}, expected {','.join(CSV_COLUMNS)})")
    return rows


def merge_rows(old: Sequence[Dict[str, str]], new: Sequence[Dict[str, Any]]
               ) -> List[Dict[str, Any]]:
    """The old gradebook's rows in their order, a regraded submission's row replaced
    by its new one; submissions new to the gradebook after them."""
    fresh = {row["submission"]: row for row in new}
    merged: List[Dict[str, Any]] = [fresh.pop(row["submission"], row) for row in old]
    return merged + [row for row in new if row["submission"] in fresh]


def read_roster(path: str) -> Dict[str, str]:
    """Submission folder name -> student id, from a CSV file: either with a header
    naming the columns ``submission`` and ``student_id``, or two columns a row."""
    with open(path, encoding="utf-8-sig", newline="") as f:
        rows = [row for row in csv.reader(f) if row and any(cell.strip() for cell in row)]
    if not rows:
        return {}
    head = [cell.strip().lower() for cell in rows[0]]
    if "submission" in head and "student_id" in head:
        a, b = head.index("submission"), head.index("student_id")
        rows = rows[1:]
    else:
        a, b = 0, 1
    roster = {}
    for number, row in enumerate(rows, start=1):
        if len(row) <= max(a, b):
            raise ValueError(f"{path}: row {number} has no student id: {','.join(row)}")
        roster[row[a].strip()] = row[b].strip()
    return roster


def write_results(folder: str, graded: Sequence[Graded]) -> None:
    """DIR/<submission>/results.json in Gradescope's format. One that could not be
    graded gets no score at all, so that Gradescope shows a grading failure."""
    for g in graded:
        header = f"gradkata: graded {g.submission}"
        if g.graded:
            data = scoring.gradescope_results(g.results, g.seconds, header=header)
        else:
            data = {"execution_time": round(g.seconds, 3),
                    "output": f"gradkata: {g.submission} could not be graded ({g.status}).",
                    "visibility": "visible", "stdout_visibility": "hidden", "tests": []}
        write_atomically(Path(folder) / g.submission / "results.json",
                          json.dumps(data, indent=2) + "\n")


# --------------------------------------------------------------------------
# The snapshot of the kata that the judges grade from

SNAPSHOT_IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", ".*")


def make_snapshot(root: Path) -> Path:
    """Copy what grading reads (pyproject.toml, tests/ but tests/meta, solutions/,
    every conftest.py) into a new temporary folder; see :func:`seal`."""
    snapshot = Path(tempfile.mkdtemp(prefix="gradkata-kata-"))
    shutil.copy2(root / "pyproject.toml", snapshot / "pyproject.toml")
    if (root / "conftest.py").is_file():
        shutil.copy2(root / "conftest.py", snapshot / "conftest.py")
    shutil.copytree(root / "solutions", snapshot / "solutions", ignore=SNAPSHOT_IGNORED)

    def tests_ignored(folder: str, names: List[str]) -> set:
        skip = set(SNAPSHOT_IGNORED(folder, names))
        if Path(folder).resolve() == (root / "tests").resolve():
            skip.add("meta")
        return skip

    shutil.copytree(root / "tests", snapshot / "tests", ignore=tests_ignored)
    return snapshot


def seal(snapshot: Path) -> None:
    """Compile the reference, then make the whole snapshot read-only."""
    import compileall

    compileall.compile_dir(str(snapshot / "solutions"), quiet=1)
    for folder, _, files in os.walk(snapshot, topdown=False):
        for name in files:
            os.chmod(os.path.join(folder, name), stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
        os.chmod(folder, stat.S_IRUSR | stat.S_IXUSR | stat.S_IRGRP | stat.S_IXGRP
                 | stat.S_IROTH | stat.S_IXOTH)


def remove_snapshot(snapshot: Path) -> None:
    for folder, _, _ in os.walk(snapshot):
        with _ignored(OSError):
            os.chmod(folder, stat.S_IRWXU)
    shutil.rmtree(snapshot, ignore_errors=True)


# --------------------------------------------------------------------------
# Processes: adopting orphans, finding and ending what is left


def become_subreaper() -> bool:
    """Adopt every orphaned descendant (Linux's PR_SET_CHILD_SUBREAPER), so that a
    daemon started by a submission stays below this process. False elsewhere."""
    if not sys.platform.startswith("linux"):
        return False
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return int(libc.prctl(36, 1, 0, 0, 0)) == 0  # PR_SET_CHILD_SUBREAPER
    except (OSError, AttributeError):
        return False


def _reap_children() -> bool:
    """Collect every child of this process that has ended; True while any remain."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return False
        if pid == 0:
            return True


def end_every_descendant(seconds: float = 10.0) -> List[int]:
    """Kill every process below this one and wait for them all; the pids found."""
    found: List[int] = []
    end = time.monotonic() + seconds
    while True:
        left = descendants(os.getpid())
        found.extend(p for p in left if p not in found)
        for pid in left:
            _kill(pid)
        if not _reap_children() or time.monotonic() > end:
            return found
        time.sleep(0.01)


# --------------------------------------------------------------------------
# The judges


class Outcome(NamedTuple):
    """A judge's end: its run, or why there is none."""

    status: str
    results: List[scoring.TestResult]
    seconds: float


class _Running(Judge):
    """A judge at work on one submission's attempt."""

    def __init__(self, index: int, attempt: int, task: Task, seconds: float) -> None:
        super().__init__(task, seconds)
        self.index, self.attempt, self.cpus = index, attempt, task.cpus


def _outcome(data: Dict[str, Any]) -> Outcome:
    run = runner.suite_run(data)
    return Outcome(f"error: {run.error}" if run.error else GRADED, run.results, run.seconds)


def run_judges(tasks: Sequence[Task], *, jobs: int, seconds: float,
               done: Optional[Callable[[int, Outcome], None]] = None) -> List[Outcome]:
    """Run one judge per task, at most ``jobs`` at once, each stopped after
    ``seconds``; a failed one runs once more. Outcomes in the order of ``tasks``.

    Each judge runs on one CPU, the one the fewest running judges use, and its
    sandbox workers with it (:func:`gradkata.sandbox._worker_main`): a judge and
    its worker take turns, and on two CPUs each woke the other across them, which
    left a core idle a twentieth of a batch."""
    from multiprocessing.connection import wait

    pending: Deque[Tuple[int, int]] = deque((i, 1) for i in range(len(tasks)))
    running: List[_Running] = []
    outcomes: List[Optional[Outcome]] = [None] * len(tasks)
    cpus = runner.own_cpus()

    def placed(task: Task) -> Task:
        if len(cpus) < 2:
            return task
        use = {cpu: sum(cpu in judge.cpus for judge in running) for cpu in cpus}
        return task._replace(cpus=(min(cpus, key=lambda cpu: use[cpu]),))

    def finish(judge: _Running, outcome: Outcome) -> None:
        if outcome.status == GRADED:
            judge.process.join(runner.EXIT_SECONDS)  # it has answered: let it end on its own
        judge.stop()  # and whatever it started that is still there
        running.remove(judge)
        if outcome.status != GRADED and judge.attempt < ATTEMPTS:
            pending.appendleft((judge.index, judge.attempt + 1))
            return
        outcomes[judge.index] = outcome
        if done is not None:
            done(judge.index, outcome)

    while pending or running:
        while pending and len(running) < jobs:
            index, attempt = pending.popleft()
            running.append(_Running(index, attempt, placed(tasks[index]), seconds))
        now = time.monotonic()
        wait([x for j in running for x in (j.process.sentinel, j.channel)],
             timeout=max(0.0, min(j.deadline for j in running) - now))
        for judge in list(running):
            judge.read()
            elapsed = time.monotonic() - judge.started
            data = judge.message()
            if data is not None:
                finish(judge, _outcome(data))
            elif not judge.process.is_alive():
                judge.read()  # the last bytes, sent just before it ended
                data = judge.message()
                if data is None:
                    finish(judge, Outcome(f"error: {judge.death()}", [], elapsed))
                else:
                    finish(judge, _outcome(data))
            elif time.monotonic() > judge.deadline:
                finish(judge, Outcome(TIMEOUT, [], elapsed))
        # Orphans adopted from judges that have ended: nothing of theirs is needed.
        if not running or len(running) < jobs:
            _end_orphans()
    return [o if o is not None else Outcome("error: not run", [], 0.0) for o in outcomes]


def _end_orphans() -> None:
    """Kill the processes adopted by this one (their judge has ended): every child
    of this process but the judges' template and multiprocessing's helper."""
    orphans = [pid for pid, parent in _parents().items() if parent == os.getpid()]
    if not orphans:
        return  # (and always where there is no /proc)
    from multiprocessing import forkserver, resource_tracker

    keep = {c.pid for c in multiprocessing.active_children()}
    keep.add(getattr(forkserver._forkserver, "_forkserver_pid", None) or -1)  # type: ignore
    keep.add(getattr(resource_tracker._resource_tracker, "_pid", None) or -1)  # type: ignore
    for pid in orphans:
        if pid not in keep:
            kill_tree(pid)


# --------------------------------------------------------------------------
# A batch


def _names(folders: Sequence[str]) -> List[str]:
    """A unique name per submission: its folder's name, numbered when two share one."""
    seen: Dict[str, int] = {}
    names = []
    for folder in folders:
        base = Path(folder).resolve().name or "submission"
        seen[base] = seen.get(base, 0) + 1
        names.append(base if seen[base] == 1 else f"{base}-{seen[base]}")
    return names


class KataError(Exception):
    """The kata's own suite could not be collected: nothing can be graded."""


def grade_all(root: Path, folders: Sequence[str], *, jobs: int, timeout: float,
              require_isolation: bool = False,
              progress: Optional[Callable[[str], None]] = None,
              names: Optional[Sequence[str]] = None,
              student_ids: Optional[Sequence[str]] = None) -> List[Graded]:
    """Grade every folder from a sealed snapshot of ``root``, each in its own judge.
    ``names`` and ``student_ids`` default to the folders' names. The caller ends the
    processes left over (:func:`end_every_descendant`)."""
    snapshot = make_snapshot(root)
    nothing = tempfile.mkdtemp(prefix="gradkata-empty-")
    # The judges' template imports and warms up while this process goes on.
    runner.start_template(snapshot)
    try:
        # One judge collects the kata's tests: their number sets every judge's
        # deadline, their points the maximum (a private test's included). It
        # "grades" an empty folder, so that it starts no sandbox worker.
        first = run_judges([Task(str(snapshot), nothing, timeout, require_isolation,
                                 collect_only=True)],
                           jobs=1, seconds=COLLECT_SECONDS)[0]
        if first.status != GRADED or not first.results:
            raise KataError(f"the kata's tests could not be collected: "
                            f"{first.status if first.status != GRADED else 'no graded tests'}")
        tests = first.results
        maximum = sum(r.points for r in tests)
        seal(snapshot)
        names = list(names) if names is not None else _names(folders)
        if student_ids is None:
            student_ids = [Path(f).resolve().name for f in folders]
        tasks = [Task(str(snapshot), str(Path(f).resolve()), timeout, require_isolation)
                 for f in folders]
        count = [0]

        def report(index: int, outcome: Outcome) -> None:
            count[0] += 1
            if progress is not None:
                score = sum(r.earned for r in outcome.results)
                what = f"{score:g}/{maximum:g}" if outcome.status == GRADED else outcome.status
                progress(f"[{count[0]}/{len(tasks)}] {names[index]}: "
                         f"{what.splitlines()[0]} in {outcome.seconds:.1f} s")

        outcomes = run_judges(tasks, jobs=jobs, seconds=judge_seconds(len(tests), timeout),
                              done=report)
    finally:
        remove_snapshot(snapshot)
        os.rmdir(nothing)
    graded = []
    expected = sorted(r.nodeid for r in tests)
    for i, outcome in enumerate(outcomes):
        status = outcome.status
        if status == GRADED and sorted(r.nodeid for r in outcome.results) != expected:
            # Every judge grades the same snapshot: a different set of tests means
            # this run cannot be compared with the others.
            status = (f"error: the judge ran {len(outcome.results)} tests, "
                      f"the kata has {len(tests)}")
        results = outcome.results if status == GRADED else []
        places = _places(root, snapshot, folders[i])
        for r in results:
            r.message = classreport.neutral_paths(r.message, places)
            r.output = classreport.neutral_paths(r.output, places)
        graded.append(Graded(names[i], student_ids[i], folders[i],
                             classreport.neutral_paths(status, places), maximum, results,
                             outcome.seconds))
    return graded


def _places(root: Path, snapshot: Path, folder: str) -> Dict[str, str]:
    """The instructor's folders that a message may name, and the neutral names they
    get in every output: ``kata`` (the kata and its snapshot), ``submission``, and
    ``python`` (the installation, as tracebacks name it)."""
    places = {str(root): "kata", str(snapshot): "kata",
              os.path.realpath(snapshot): "kata", folder: "submission",
              str(Path(folder).resolve()): "submission"}
    for prefix in {sys.prefix, sys.base_prefix, sys.exec_prefix}:
        places[prefix] = "python"
    return places


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gradkata grade",
        description="Grade submission folders (each holding the six exercise modules).")
    parser.add_argument("submissions", nargs="+", metavar="SUBMISSION",
                        help="folders to grade")
    parser.add_argument("--csv", metavar="FILE",
                        help="write one row per submission: " + ",".join(CSV_COLUMNS)
                        + " (with --merge, the default is the merged file)")
    parser.add_argument("--excel", action="store_true",
                        help="write the CSV with a UTF-8 byte order mark, which spreadsheet "
                        "programs need to read accented names")
    parser.add_argument("--roster", metavar="FILE",
                        help="a CSV mapping submission folder names to student ids (columns "
                        "submission,student_id); without it, the id is the folder's name")
    parser.add_argument("--report", metavar="DIR",
                        help="write DIR/students/<submission>.md and .html (feedback to send "
                        "back) and DIR/summary.html (the class's figures)")
    parser.add_argument("--only", nargs="+", metavar="NAME",
                        help="grade only these submissions (by folder name) of those given")
    parser.add_argument("--merge", metavar="OLD_CSV",
                        help="start from this gradebook: the rows of the submissions graded "
                        "now are replaced, the others kept as they are")
    parser.add_argument("--kata", metavar="DIR",
                        help="the kata to grade against (default: the one around the current "
                        "folder, else the installed one)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, metavar="N",
                        help="judge processes to run at once (default: all cores)")
    parser.add_argument("--results", metavar="DIR",
                        help="also write DIR/<submission>/results.json (Gradescope format)")
    parser.add_argument("--timeout", type=float, default=10.0, metavar="SECONDS",
                        help="time limit of each test (default 10)")
    parser.add_argument("--require-isolation", action="store_true",
                        help="refuse to grade unless learner code runs in the OS jail")
    return parser


class Plan(NamedTuple):
    """Which submissions to grade, under which names and ids, and where the
    gradebook goes."""

    folders: List[str]
    names: List[str]
    student_ids: List[str]
    unmatched: List[str]  # graded submissions the roster does not name
    absent: List[str]  # roster entries that name no submission given
    old_rows: List[Dict[str, str]]  # the gradebook merged into (--merge)
    csv: str


class UsageError(Exception):
    pass


def plan(args: argparse.Namespace) -> Plan:
    missing = [s for s in args.submissions if not Path(s).is_dir()]
    if missing:
        raise UsageError(f"not a folder: {', '.join(missing)}")
    if args.jobs < 1 or args.timeout <= 0:
        raise UsageError("--jobs and --timeout must be positive")
    table = args.csv or args.merge
    if not table:
        raise UsageError("say where the gradebook goes: --csv FILE (or --merge OLD_CSV)")
    folders = list(args.submissions)
    names = _names(folders)
    if args.only:
        unknown = sorted(set(args.only) - set(names))
        if unknown:
            raise UsageError(f"--only: no submission named {', '.join(unknown)} among those "
                             "given")
        chosen = [i for i, n in enumerate(names) if n in set(args.only)]
        folders, names = [folders[i] for i in chosen], [names[i] for i in chosen]
    ids = [Path(f).resolve().name for f in folders]
    unmatched: List[str] = []
    absent: List[str] = []
    if args.roster:
        try:
            roster = read_roster(args.roster)
        except (OSError, UnicodeDecodeError, csv.Error, ValueError) as exc:
            raise UsageError(f"--roster: {exc}") from None
        ids = [roster.get(name, "") for name in names]
        unmatched = [n for n in names if n not in roster]
        if not args.only:
            absent = sorted(set(roster) - set(names))
    old_rows: List[Dict[str, str]] = []
    if args.merge:
        try:
            old_rows = read_rows(args.merge)
        except GradebookError as exc:
            raise UsageError(f"--merge: {exc}") from None
    return Plan(folders, names, ids, unmatched, absent, old_rows, table)


def _report(folder: Path, graded: List[Graded], plan_: Plan, rows: List[Dict[str, Any]],
            ) -> None:
    """Write the report; after a merge, its summary covers the whole merged
    gradebook: the submissions not regraded are read back from the report's data."""
    for g in graded:
        classreport.save(folder, g)
    everyone: List[Graded] = []
    fresh = {g.submission: g for g in graded}
    for row in rows:
        name = row["submission"]
        found = fresh.get(name) or classreport.load(folder, name)
        if found is not None:
            everyone.append(found)
    classreport.write_report(folder, everyone, students=graded, unmatched=plan_.unmatched,
                             absent=plan_.absent)


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        what = plan(args)
    except UsageError as exc:
        print(f"gradkata grade: {exc}", file=sys.stderr)
        return 2
    root = find_root(kata=args.kata)
    isolated = jail.status()
    if args.require_isolation and not isolated.jailed:
        print(f"gradkata grade: --require-isolation: refusing to grade, the isolation here is "
              f"{isolated.text}", file=sys.stderr)
        return 2
    for name in what.unmatched:
        print(f"gradkata grade: {name} is not in the roster: its row is kept, with no "
              "student id", file=sys.stderr)
    if what.absent:
        print(f"gradkata grade: in the roster but not among the submissions: "
              f"{', '.join(what.absent)}", file=sys.stderr)
    become_subreaper()
    started = time.monotonic()
    try:
        graded = grade_all(root, what.folders, jobs=args.jobs, timeout=args.timeout,
                           require_isolation=args.require_isolation,
                           progress=lambda line: print(line, file=sys.stderr, flush=True),
                           names=what.names, student_ids=what.student_ids)
    except KataError as exc:
        graded, failure = [], str(exc)
    else:
        failure = ""
    finally:
        # Nothing a submission started may outlive the batch, or write after it.
        runner.stop_template()
        end_every_descendant()
    if failure:
        print(f"gradkata grade: {failure}; nothing written", file=sys.stderr)
        return 1
    rows = [csv_row(g) for g in graded]
    if args.merge:
        rows = merge_rows(what.old_rows, rows)
    write_rows(what.csv, rows, excel=args.excel)
    if args.results:
        write_results(args.results, graded)
    if args.report:
        _report(Path(args.report), graded, what, rows)
    elapsed = time.monotonic() - started
    noun = "submission" if len(graded) == 1 else "submissions"
    written = [what.csv] + [f"{d.rstrip('/')}/" for d in (args.results, args.report) if d]
    failed = sum(not g.graded for g in graded)
    note = f", {failed} not graded (see the status column)" if failed else ""
    merged = (f" (merged into the {len(what.old_rows)} rows of {args.merge})"
              if args.merge else "")
    print(f"graded {len(graded)} {noun} in {elapsed:.1f} s "
          f"({len(graded) / elapsed:.2f} per second){note}; isolation: {isolated.text}; "
          f"wrote {', '.join(written)}{merged}", file=sys.stderr)
    return 1 if failed else 0
