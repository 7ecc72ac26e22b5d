"""What ``run_autograder`` does on Gradescope, for one student's upload.

1. Lock away what the student's code has no business reading: the kata's
   folder (tests, private tests, the reference in ``solutions/``, the
   pyproject), the results folder and the submission's metadata become
   readable by root only. The student's code runs in sandbox workers as the
   sandbox user, which needs only the modules it grades (copied to a folder of
   their own) and the Python installation.
2. Pick the six modules out of the upload. A module found more than once:
   the copy nearest the top of the upload is graded (the fewest folders
   deep), and among copies equally deep the first in alphabetical order of
   its path. Links are never followed (one could point at the reference).
   The results' output says which file was graded and which were ignored.
3. Grade them with the kata's pytest suite, in a child process, and write
   ``results/results.json`` with that note on top.

If the grader itself fails (pytest ends with a status other than 0, "all
passed", or 1, "some failed", or writes no results), this writes no
results.json and exits with status 1: Gradescope then shows that the
autograder failed, instead of a score of 0 the student did not earn. What
went wrong is printed, for the instructor (Gradescope keeps it in
``results/stdout``, which students do not see).

Settings, from the environment (run_autograder sets them): the root
``GRADKATA_AUTOGRADER_ROOT`` (``/autograder`` on Gradescope) and the sandbox
user ``GRADKATA_SANDBOX_USER`` (``student``). A test runs the real script
under a temporary root with them.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Optional, Sequence

# The steps every hosted grader shares live in .upload; these names stay importable here.
from .upload import (  # noqa: F401
    Choice,
    GraderFailed,
    check_user,
    choose,
    copy_modules,
    grade,
    upload_note,
    write_atomically,
)
from .upload import lock_away as _lock_away

DEFAULT_ROOT = "/autograder"
DEFAULT_USER = "student"


def lock_away(root: Path) -> None:
    """Make the kata, the results and the submission's metadata readable by root only."""
    _lock_away([root / "source", root / "results"], [root / "submission_metadata.json"])


def run(root: Path, user: str, timeout: float) -> int:
    results = root / "results" / "results.json"
    raw_results = root / "results" / "pytest-results.json"
    work = Path(tempfile.mkdtemp(prefix="gradkata-upload-"))
    try:
        results.unlink(missing_ok=True)  # a failed run must leave none behind
        lock_away(root)
        check_user(user)
        work.chmod(0o755)  # the sandbox user reads the modules, and cannot change them
        choices = choose(root / "submission")
        copy_modules(root / "submission", choices, work)
        data = grade(root / "source", work, raw_results, timeout)
        # The note replaces the plugin's "gradkata: graded <folder>/" line, whose
        # folder is this run's temporary copy, meaningless to the student.
        table = data.get("output", "")
        if table.startswith("gradkata: graded "):
            table = table.partition("\n")[2]
        data["output"] = upload_note(choices) + "\n\n" + table
        write_atomically(results, data)
        return 0
    except GraderFailed as exc:
        print(f"gradkata autograder: grading failed: {exc}. No results.json written, so "
              "that Gradescope reports a failed autograder rather than a score.", flush=True)
        return 1
    finally:
        raw_results.unlink(missing_ok=True)
        shutil.rmtree(work, ignore_errors=True)


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m gradkata.autograder",
        description="Grade one Gradescope upload (what run_autograder runs).")
    parser.add_argument("--timeout", type=float, default=10.0, metavar="SECONDS",
                        help="time limit of each test (default 10)")
    args = parser.parse_args(argv)
    root = Path(os.environ.get("GRADKATA_AUTOGRADER_ROOT") or DEFAULT_ROOT)
    user = os.environ.get("GRADKATA_SANDBOX_USER") or DEFAULT_USER
    os.environ["GRADKATA_SANDBOX_USER"] = user  # read by the sandbox's workers
    return run(root, user, args.timeout)


if __name__ == "__main__":
    sys.exit(main())
