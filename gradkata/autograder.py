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
import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence

from . import catalog

DEFAULT_ROOT = "/autograder"
DEFAULT_USER = "student"
# Folders of an upload that are never the student's work.
SKIPPED_FOLDERS = {"__MACOSX", "__pycache__"}


class GraderFailed(Exception):
    """The grader could not grade this upload: no score must be written."""


@dataclass
class Choice:
    """Which file of the upload is graded for one module, and which were not."""

    module: str
    graded: Optional[str] = None  # its path in the upload
    ignored: List[str] = field(default_factory=list)
    links: List[str] = field(default_factory=list)  # symbolic links, never followed

    def line(self) -> str:
        name = f"{self.module}.py"
        text = f"{name}: " + (self.graded if self.graded else
                              "not found (its tests count as not started)")
        if self.ignored:
            text += f"; also found and ignored: {', '.join(self.ignored)}"
        if self.links:
            text += f"; ignored as links, not files: {', '.join(self.links)}"
        return text


def choose(upload: Path, modules: Sequence[str] = catalog.NAMES) -> List[Choice]:
    """For each module, the file of ``upload`` to grade (see the module's docstring)."""
    found: Dict[str, List[str]] = {name: [] for name in modules}
    links: Dict[str, List[str]] = {name: [] for name in modules}
    wanted = {f"{name}.py": name for name in modules}
    for folder, subfolders, files in os.walk(upload):  # does not enter linked folders
        subfolders[:] = [d for d in subfolders
                         if d not in SKIPPED_FOLDERS and not d.startswith(".")]
        for file in files:
            module = wanted.get(file)
            if module is None:
                continue
            path = Path(folder) / file
            rel = path.relative_to(upload).as_posix()
            if path.is_symlink():
                links[module].append(rel)
            elif path.is_file():
                found[module].append(rel)
    choices = []
    for name in modules:
        paths = sorted(found[name], key=lambda rel: (rel.count("/"), rel))
        choices.append(Choice(name, paths[0] if paths else None, paths[1:],
                              sorted(links[name])))
    return choices


def upload_note(choices: List[Choice]) -> str:
    """The lines of the results' output that say which files were graded."""
    lines = ["Files graded from your upload:"]
    lines += [f"  {choice.line()}" for choice in choices]
    if any(choice.ignored for choice in choices):
        lines.append("A module found more than once: the copy nearest the top of the upload "
                     "(the fewest folders deep) is graded; among copies equally deep, the "
                     "first in alphabetical order of its path.")
    return "\n".join(lines)


def lock_away(root: Path) -> None:
    """Make the kata, the results and the submission's metadata readable by root only."""
    for folder in (root / "source", root / "results"):
        folder.mkdir(exist_ok=True)
        folder.chmod(0o700)  # enough on its own: nothing below can be reached
        for inner, subfolders, files in os.walk(folder):
            for name in subfolders + files:  # and each file too, should one be reached
                path = Path(inner) / name
                if not path.is_symlink():
                    path.chmod(path.stat().st_mode & 0o700)
    metadata = root / "submission_metadata.json"
    if metadata.exists():
        metadata.chmod(0o600)


def check_user(user: str) -> None:
    """As root, the learner's code runs as ``user``: it must exist."""
    if os.getuid() != 0:
        print(f"gradkata autograder: not running as root: the learner's code runs as this "
              f"user (uid {os.getuid()}), not as {user}")
        return
    import pwd

    try:
        pwd.getpwnam(user)
    except KeyError:
        raise GraderFailed(f"the sandbox user {user!r} does not exist (setup.sh creates "
                           "it; GRADKATA_SANDBOX_USER names another)") from None


def copy_modules(upload: Path, choices: List[Choice], work: Path) -> None:
    for choice in choices:
        if choice.graded is not None:
            target = work / f"{choice.module}.py"
            shutil.copyfile(upload / choice.graded, target, follow_symlinks=False)
            target.chmod(0o644)


def grade(source: Path, work: Path, raw_results: Path, timeout: float) -> dict:
    """Run the suite on ``work``; the results pytest wrote, or GraderFailed."""
    env = {k: v for k, v in os.environ.items() if k != "GRADKATA_IMPL"}
    per_test = raw_results.with_name("pytest-per-test.json")
    proc = subprocess.run(
        [sys.executable, "-I", "-m", "pytest", "-p", "no:cacheprovider", f"--impl={work}",
         "--gradescope", str(raw_results), "--gradkata-raw", str(per_test),
         "-o", f"timeout={timeout:g}", "tests"],
        cwd=source, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    print(proc.stdout, flush=True)  # for the instructor, in Gradescope's results/stdout
    if proc.returncode not in (0, 1):
        raise GraderFailed(f"pytest ended with status {proc.returncode} (0 and 1 mean that "
                           "it graded; anything else, that it could not)")
    try:
        data = json.loads(raw_results.read_text(encoding="utf-8"))
        results = json.loads(per_test.read_text(encoding="utf-8"))["results"]
    except (OSError, ValueError, KeyError) as exc:
        raise GraderFailed(f"pytest wrote no readable results ({exc})") from None
    finally:
        per_test.unlink(missing_ok=True)
    if not data.get("tests"):
        raise GraderFailed("pytest graded no test")
    # A test the grader could not run (the sandbox could not isolate the student's
    # code, say) says nothing of the student's work.
    broken = [r for r in results if r["status"] == "grader error"]
    if broken:
        raise GraderFailed(f"{len(broken)} tests could not be run by the grader, the first "
                           f"({broken[0]['nodeid']}) with: {broken[0]['message'][-500:]}")
    return data


def write_atomically(path: Path, data: dict) -> None:
    temporary = path.with_name(path.name + ".partial")
    temporary.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    os.replace(temporary, path)


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
