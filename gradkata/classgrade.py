"""``gradkata grade``: grade a class's submissions, in parallel, into a CSV.

Each submission is a folder holding the six exercise modules (a missing one
counts as not started). A pool of judge processes, one per core, each with
pytest, numpy and hypothesis imported once, runs the graded suite on one
submission after another. The judges never run learner code: that happens in
sandbox workers (:mod:`gradkata.sandbox`), so whatever a submission's code
does costs at most the points of the tests that called it.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

from . import catalog, progress, scoring

CSV_COLUMNS = ["submission", "score", "max_score", *catalog.NAMES]


def find_root(start: Optional[Path] = None) -> Path:
    """The kata's folder, as the other commands find it; grading needs its tests/ and
    solutions/ (the reference). Outside it, a usage error (exit status 2)."""
    try:
        return progress.find_root(start, needs=("tests", "solutions"))
    except progress.ProjectNotFound as exc:
        print(f"gradkata: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


@dataclass
class Graded:
    submission: str
    folder: str
    results: List[scoring.TestResult]
    seconds: float
    error: str = ""

    @property
    def rows(self) -> List[scoring.ExerciseScore]:
        return scoring.by_exercise(self.results)

    @property
    def score(self) -> float:
        return sum(r.earned for r in self.results)

    @property
    def max_score(self) -> float:
        return sum(r.points for r in self.results) or float(catalog.TOTAL_POINTS)


class _Collector:
    """A pytest plugin object that keeps the session's graded results."""

    def __init__(self) -> None:
        self.results: List[scoring.TestResult] = []

    def pytest_sessionfinish(self, session: Any) -> None:
        from .plugin import _state_key

        state = session.config.stash.get(_state_key, None)
        if state is not None:
            self.results = list(state.results.values())


def _exit_with_parent(parent: int) -> None:
    """End this judge process if the one that started it dies (killed, say, by a
    time limit): otherwise it would wait for work forever, holding its pipes."""
    import threading

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, name="gradkata-parent-watch", daemon=True).start()


def _warm_up(parent: int) -> None:
    _exit_with_parent(parent)
    # Import once per judge process what every submission's run needs.
    import hypothesis  # noqa: F401
    import numpy  # noqa: F401
    import pytest  # noqa: F401

    from . import plugin  # noqa: F401


def grade_one(root: str, folder: str, timeout: float, extra: Sequence[str] = ()) -> Dict[str, Any]:
    """Run the graded suite on one submission folder, in this process; return its results."""
    import contextlib
    import io

    import pytest

    collector = _Collector()
    started = time.monotonic()
    args = [
        "-c", os.path.join(root, "pyproject.toml"), "--rootdir", root,
        "-p", "no:cacheprovider", "-p", "no:terminal",
        "--impl", folder, "-o", f"timeout={timeout:g}",
        *extra,
        os.path.join(root, "tests"),
    ]
    sink = io.StringIO()
    error = ""
    with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
        try:
            code = pytest.main(args, plugins=[collector])
        except Exception as exc:  # noqa: BLE001 - a judge failure is reported, not raised
            code, error = -1, f"{type(exc).__name__}: {exc}"
    if not error and int(code) not in (0, 1):
        # 0 and 1 are "all passed" and "some failed"; anything else means the
        # judge itself did not finish (an internal error, an interruption).
        tail = sink.getvalue()[-2000:]
        error = f"pytest ended with status {int(code)}:\n{tail}"
    return {
        "results": [r.__dict__ for r in collector.results],
        "seconds": time.monotonic() - started,
        "error": error,
    }


def _names(folders: Sequence[str]) -> List[str]:
    """A unique name per submission: its folder's name, numbered when two share one."""
    seen: Dict[str, int] = {}
    names = []
    for folder in folders:
        base = Path(folder).resolve().name or "submission"
        seen[base] = seen.get(base, 0) + 1
        names.append(base if seen[base] == 1 else f"{base}-{seen[base]}")
    return names


def grade_all(root: Path, folders: Sequence[str], *, jobs: int, timeout: float,
              progress: Any = None) -> List[Graded]:
    """Grade every folder with ``jobs`` judge processes; results in the order given."""
    names = _names(folders)
    out: List[Optional[Graded]] = [None] * len(folders)
    done = 0
    with ProcessPoolExecutor(max_workers=max(1, jobs), initializer=_warm_up,
                             initargs=(os.getpid(),)) as pool:
        futures = {
            pool.submit(grade_one, str(root), str(Path(f).resolve()), timeout): i
            for i, f in enumerate(folders)
        }
        for future in as_completed(futures):
            i = futures[future]
            try:
                data = future.result()
                graded = Graded(names[i], folders[i],
                                [scoring.TestResult(**r) for r in data["results"]],
                                data["seconds"], data["error"])
            except Exception as exc:  # noqa: BLE001 - one broken judge must not stop the batch
                graded = Graded(names[i], folders[i], [], 0.0, f"{type(exc).__name__}: {exc}")
            out[i] = graded
            done += 1
            if progress is not None:
                status = f"{graded.score:g}/{graded.max_score:g}"
                if graded.error:
                    status += f" (grading error: {graded.error.splitlines()[0]})"
                progress(f"[{done}/{len(folders)}] {graded.submission}: {status} "
                         f"in {graded.seconds:.1f} s")
    return [g for g in out if g is not None]


def csv_row(graded: Graded) -> Dict[str, Any]:
    per = {row.name: row.earned for row in graded.rows}
    row: Dict[str, Any] = {
        "submission": graded.submission,
        "score": f"{graded.score:g}",
        "max_score": f"{graded.max_score:g}",
    }
    for name in catalog.NAMES:
        row[name] = f"{per.get(name, 0.0):g}"
    return row


def write_csv(path: str, graded: Sequence[Graded]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        for g in graded:
            writer.writerow(csv_row(g))


def write_results(folder: str, graded: Sequence[Graded]) -> None:
    os.makedirs(folder, exist_ok=True)
    for g in graded:
        target = Path(folder) / g.submission
        target.mkdir(parents=True, exist_ok=True)
        data = scoring.gradescope_results(g.results, g.seconds,
                                          header=f"gradkata: graded {g.submission}")
        if g.error:
            data["output"] += f"\n\nGrading error: {g.error}"
        (target / "results.json").write_text(json.dumps(data, indent=2) + "\n")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gradkata grade",
        description="Grade submission folders (each holding the six exercise modules).")
    parser.add_argument("submissions", nargs="+", metavar="SUBMISSION",
                        help="folders to grade")
    parser.add_argument("--csv", required=True, metavar="FILE",
                        help="write one row per submission: " + ",".join(CSV_COLUMNS))
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, metavar="N",
                        help="judge processes to run at once (default: all cores)")
    parser.add_argument("--results", metavar="DIR",
                        help="also write DIR/<submission>/results.json (Gradescope format)")
    parser.add_argument("--timeout", type=float, default=10.0, metavar="SECONDS",
                        help="time limit of each test (default 10)")
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    missing = [s for s in args.submissions if not Path(s).is_dir()]
    if missing:
        print(f"gradkata grade: not a folder: {', '.join(missing)}", file=sys.stderr)
        return 2
    if args.jobs < 1 or args.timeout <= 0:
        print("gradkata grade: --jobs and --timeout must be positive", file=sys.stderr)
        return 2
    root = find_root()
    started = time.monotonic()
    graded = grade_all(root, args.submissions, jobs=args.jobs, timeout=args.timeout,
                       progress=lambda line: print(line, file=sys.stderr, flush=True))
    write_csv(args.csv, graded)
    if args.results:
        write_results(args.results, graded)
    elapsed = time.monotonic() - started
    noun = "submission" if len(graded) == 1 else "submissions"
    where = f" and {args.results.rstrip('/')}/" if args.results else ""
    print(f"graded {len(graded)} {noun} in {elapsed:.1f} s "
          f"({len(graded) / elapsed:.2f} per second); wrote {args.csv}{where}", file=sys.stderr)
    return 1 if any(g.error for g in graded) else 0
