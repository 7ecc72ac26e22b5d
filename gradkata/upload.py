"""One student's upload, graded by the kata's suite: what every hosted grader shares.

The Gradescope autograder (:mod:`gradkata.autograder`) and the PrairieLearn
grader (:mod:`gradkata.prairielearn`) both run as root in a container made for
one submission, and both:

1. lock away what the student's code has no business reading (the tests, the
   reference, the results): :func:`lock_away`, and check that the unprivileged
   user the student's code runs as exists: :func:`check_user`;
2. pick the modules out of the upload (:func:`choose`). A module found more
   than once: the copy nearest the top of the upload is graded (the fewest
   folders deep), and among copies equally deep the first in alphabetical
   order of its path. Links are never followed (one could point at the
   reference). :func:`upload_note` says which file was graded;
3. copy them to a folder of their own (:func:`copy_modules`) and grade them
   with the suite in a child pytest (:func:`run_suite`), which fails with
   :class:`GraderFailed` when pytest could not grade;
4. write their results in one step (:func:`write_atomically`).

What differs, the platform's results format and what it does with a failed
grader, stays in their own modules.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Sequence

from . import catalog, scoring

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


def lock_away(folders: Iterable[Path], files: Iterable[Path] = ()) -> None:
    """Make ``folders`` (created if missing) and ``files`` (if present) readable by
    their owner, root, only."""
    for folder in folders:
        folder.mkdir(exist_ok=True)
        folder.chmod(0o700)  # enough on its own: nothing below can be reached
        for inner, subfolders, names in os.walk(folder):
            for name in subfolders + names:  # and each file too, should one be reached
                path = Path(inner) / name
                if not path.is_symlink():
                    path.chmod(path.stat().st_mode & 0o700)
    for file in files:
        if file.exists():
            file.chmod(0o600)


def check_user(user: Optional[str]) -> None:
    """As root, the learner's code runs as ``user``: it must exist."""
    if os.getuid() != 0:
        instead = f", not as {user}" if user else ""
        print(f"gradkata: not running as root: the learner's code runs as this user "
              f"(uid {os.getuid()}){instead}")
        return
    if not user:
        print("gradkata: GRADKATA_SANDBOX_USER is not set: the learner's code runs as root")
        return
    import pwd

    try:
        pwd.getpwnam(user)
    except KeyError:
        raise GraderFailed(f"the sandbox user {user!r} does not exist (the grader's setup "
                           "creates it; GRADKATA_SANDBOX_USER names another)") from None


def copy_modules(upload: Path, choices: List[Choice], work: Path) -> None:
    for choice in choices:
        if choice.graded is not None:
            target = work / f"{choice.module}.py"
            shutil.copyfile(upload / choice.graded, target, follow_symlinks=False)
            target.chmod(0o644)


@dataclass
class SuiteRun:
    """What the child pytest gave: Gradescope's results.json and the per-test results."""

    gradescope: Dict[str, Any]
    per_test: List[Dict[str, Any]]  # as --gradkata-raw wrote them

    @property
    def results(self) -> List[scoring.TestResult]:
        return scoring.results_from_json({"results": self.per_test})


def run_suite(source: Path, work: Path, raw_results: Path, timeout: float,
              tests: str = "tests") -> SuiteRun:
    """Run the suite of the kata in ``source`` on the modules in ``work``, in a child
    pytest; its results, or GraderFailed. ``raw_results`` is where the child writes
    Gradescope's results (the per-test ones go beside it); both are removed after."""
    env = {k: v for k, v in os.environ.items() if k != "GRADKATA_IMPL"}
    per_test = raw_results.with_name("pytest-per-test.json")
    proc = subprocess.run(
        [sys.executable, "-I", "-m", "pytest", "-p", "no:cacheprovider", f"--impl={work}",
         "--gradescope", str(raw_results), "--gradkata-raw", str(per_test),
         "-o", f"timeout={timeout:g}", tests],
        cwd=source, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    print(proc.stdout, flush=True)  # for the instructor: the platform keeps it in a log
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
    return SuiteRun(data, results)


def grade(source: Path, work: Path, raw_results: Path, timeout: float) -> Dict[str, Any]:
    """Gradescope's results.json for the modules in ``work``, or GraderFailed."""
    return run_suite(source, work, raw_results, timeout).gradescope


def write_atomically(path: Path, data: Dict[str, Any]) -> None:
    text = json.dumps(data, indent=2) + "\n"
    write_text_atomically(path, text)


def write_text_atomically(path: Path, text: str) -> None:
    temporary = path.with_name(path.name + ".partial")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)
