"""``gradkata gradescope-bundle OUT.zip``: an autograder for Gradescope.

The zip holds the kata (the gradkata package, the graded tests with any
private ones beside them, the reference) and Gradescope's two entry points:

- ``setup.sh`` installs Python and the kata when the autograder image is built;
- ``run_autograder`` runs :mod:`gradkata.autograder`, which finds the six
  modules in the student's upload, grades them with the same pytest suite,
  and writes ``/autograder/results/results.json``. The judge runs as root; the
  student's code runs in sandbox workers that drop to an unprivileged user,
  and the kata's folder and the results are readable by root only.
"""

from __future__ import annotations

import argparse
import os
import stat
import sys
import zipfile
from pathlib import Path
from typing import List, Optional, Sequence

from .classgrade import find_root

SETUP_SH = """#!/usr/bin/env bash
# Gradescope runs this once, when it builds the autograder image.
set -euo pipefail
apt-get update
apt-get install -y python3 python3-pip python3-venv
python3 -m venv /opt/gradkata
/opt/gradkata/bin/python -m pip install --upgrade pip
# Not editable: the gradkata package is copied into the venv, which the student's
# code may read; the kata's folder (tests, reference) stays root's alone.
/opt/gradkata/bin/python -m pip install /autograder/source
chmod -R go-rwx /autograder/source
# The student's code runs as this user (GRADKATA_SANDBOX_USER in run_autograder).
id -u student >/dev/null 2>&1 || useradd --create-home --shell /usr/sbin/nologin student
"""

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Gradescope runs this for every submission: gradkata.autograder locks the kata
# away from the student's code, picks the modules out of the upload (a module
# found twice: the shallowest copy, then the first by path; the results say so),
# grades them and writes /autograder/results/results.json. If the grader itself
# fails, it writes no results and exits non-zero: Gradescope shows a failed
# autograder, not a score of 0.
# A test runs this script under a temporary root: these three replace the root,
# the kata's Python and the user the student's code runs as.
set -uo pipefail
export GRADKATA_AUTOGRADER_ROOT="${{GRADKATA_AUTOGRADER_ROOT:-/autograder}}"
export GRADKATA_SANDBOX_USER="${{GRADKATA_SANDBOX_USER:-student}}"
python="${{GRADKATA_PYTHON:-/opt/gradkata/bin/python}}"
# -I: nothing from the working folder or the environment's PYTHON* settings.
exec "$python" -I -m gradkata.autograder --timeout {timeout}
"""


def files_to_ship(root: Path) -> List[Path]:
    """The kata's files the autograder needs, relative to ``root``."""
    wanted: List[Path] = [Path("pyproject.toml"), Path("README.md")]
    for folder, pattern in (("gradkata", "*"), ("solutions", "*.py")):
        wanted += [p.relative_to(root) for p in sorted((root / folder).rglob(pattern))
                   if p.is_file() and "__pycache__" not in p.parts]
    for path in sorted((root / "tests").rglob("*")):
        rel = path.relative_to(root)
        if path.is_file() and "meta" not in rel.parts and "__pycache__" not in rel.parts:
            wanted.append(rel)
    return wanted


def _add_script(archive: zipfile.ZipFile, name: str, text: str) -> None:
    info = zipfile.ZipInfo(name)
    info.external_attr = (stat.S_IFREG | 0o755) << 16
    archive.writestr(info, text)


def build(out: str, root: Path, timeout: float = 10.0) -> List[str]:
    """Write the bundle; return the names it holds."""
    names = []
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        _add_script(archive, "setup.sh", SETUP_SH)
        _add_script(archive, "run_autograder", RUN_AUTOGRADER.format(timeout=f"{timeout:g}"))
        names += ["setup.sh", "run_autograder"]
        for rel in files_to_ship(root):
            archive.write(root / rel, rel.as_posix())
            names.append(rel.as_posix())
    return names


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        prog="gradkata gradescope-bundle",
        description="Write a Gradescope autograder zip (setup.sh, run_autograder, the kata).")
    parser.add_argument("out", metavar="OUT.zip")
    parser.add_argument("--timeout", type=float, default=10.0, metavar="SECONDS",
                        help="time limit of each test (default 10)")
    args = parser.parse_args(argv)
    if not args.out.endswith(".zip"):
        print("gradkata gradescope-bundle: the output name must end in .zip", file=sys.stderr)
        return 2
    root = find_root()
    names = build(args.out, root, args.timeout)
    print(f"wrote {args.out}: setup.sh, run_autograder and {len(names) - 2} files of the kata "
          f"({os.path.getsize(args.out) // 1024} KiB). Upload it as the autograder of a "
          "Gradescope programming assignment.")
    return 0
