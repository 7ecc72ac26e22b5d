"""``gradkata handout OUT``: the learners' copy of the kata, without the answers.

    gradkata handout OUT [--kata DIR]

OUT receives what a learner needs: the package, ``exercises/`` (the stubs),
``notebooks/``, the graded tests, the learners' docs, README and pyproject.toml. It does
not receive ``solutions/``, the kata's own checks (``tests/meta``), the private
tests (``tests/private``), the benchmarks, tox.ini, or the instructors' and
maintainers' docs. In place of the reference
the graded tests get ``tests/reference_answers.json``: every answer the
reference gives the suite, recorded by running the suite against
``solutions/`` here, once with the learners' hypothesis profile and once with
the ci profile (:mod:`gradkata.recorded`). The reference must pass its own
suite, or there is nothing trustworthy to record.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Iterator, List, Optional

from . import recorded
from .progress import ProjectNotFound, find_root

# What goes into the handout, relative to the kata's folder. tests/ is taken
# file by file (its folders, meta/ and private/, stay behind).
# The docs for instructors and maintainers stay behind: they quote reference lines.
COPIED = ("README.md", "pyproject.toml", ".gitignore", "docs/cli-session.md", "exercises",
          "notebooks", "gradkata")
SKIPPED = ("__pycache__", ".pytest_cache", ".hypothesis", ".gradkata")
PROFILES = ("gradkata", "ci")


class HandoutError(Exception):
    """Why the handout could not be built."""


def _files(root: Path) -> Iterator[Path]:
    """The kata's files that go into the handout, relative to ``root``."""
    for name in COPIED:
        path = root / name
        if path.is_file():
            yield Path(name)
        elif path.is_dir():
            for found in sorted(path.rglob("*")):
                relative = found.relative_to(root)
                if found.is_file() and not any(part in SKIPPED or part.endswith(".egg-info")
                                               for part in relative.parts):
                    yield relative
    for found in sorted((root / "tests").iterdir()):
        if found.is_file() and found.suffix == ".py":
            yield found.relative_to(root)


def graded_test_files(root: Path) -> List[Path]:
    return sorted((root / "tests").glob("test_*.py"))


def record(root: Path, table: Path) -> None:
    """Run the graded suite against solutions/ once per profile, recording into ``table``."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("GRADKATA_IMPL", "HYPOTHESIS_PROFILE", "PYTEST_ADDOPTS")}
    for profile in PROFILES:
        command = [sys.executable, "-m", "pytest", "--impl", "solutions", "-q",
                   "-p", "no:cacheprovider", "--hypothesis-profile", profile,
                   "--gradkata-record", str(table),
                   *[str(p.relative_to(root)) for p in graded_test_files(root)]]
        run = subprocess.run(command, cwd=root, env=env, capture_output=True, text=True)
        if run.returncode != 0:
            tail = "\n".join((run.stdout + run.stderr).strip().splitlines()[-15:])
            raise HandoutError(
                f"the reference in solutions/ does not pass the graded suite (profile "
                f"{profile}), so its answers cannot be recorded:\n{tail}")


def build(root: Path, out: Path) -> int:
    """Write the handout of the kata at ``root`` into ``out`` (new or empty); the file count."""
    if not (root / "solutions").is_dir():
        raise HandoutError(f"{root} has no solutions/: a handout is built from the full kata")
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise HandoutError(f"{out} exists and is not an empty folder")
    if out.resolve() == root.resolve() or root.resolve() in out.resolve().parents:
        raise HandoutError(f"{out} is inside the kata: choose a folder outside it")
    count = 0
    for relative in _files(root):
        target = out / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / relative, target)
        count += 1
    record(root, out / recorded.ANSWERS)
    return count + 1


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        prog="gradkata handout",
        description="Write the learners' copy of the kata into OUT: no solutions/, and the "
                    "reference's answers recorded for the graded tests instead.")
    parser.add_argument("out", metavar="OUT", type=Path, help="a new or empty folder")
    parser.add_argument("--kata", metavar="DIR", type=Path,
                        help="the full kata (default: the one around the current folder)")
    args = parser.parse_args(argv)
    try:
        root = (args.kata or find_root(needs=("solutions", "tests"))).resolve()
        count = build(root, args.out)
    except (HandoutError, ProjectNotFound) as exc:
        print(f"gradkata handout: {exc}", file=sys.stderr)
        return 2 if isinstance(exc, ProjectNotFound) else 1
    print(f"Wrote the handout to {args.out} ({count} files, no solutions/). Learners run: "
          "python -m pip install -e . && pytest")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
