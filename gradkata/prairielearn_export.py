"""``gradkata prairielearn OUT``: the kata as PrairieLearn questions, externally graded.

OUT is laid out as a PrairieLearn course repository, to merge into yours::

    questions/gradkata/<N>_<exercise>/     a question per exercise
        info.json                          external grading on, the image, the entrypoint
        question.html                      a file editor for <exercise>.py, the results
        clientFilesQuestion/<exercise>.py  the stub the editor starts from
        tests/                             what the grader needs, copied to /grade/tests:
            pyproject.toml                 pytest's settings of the kata
            tests/test_<exercise>.py ...   the graded suite (and the helpers it imports)
            solutions/<exercise>.py        the reference
    serverFilesCourse/gradkata/            copied to /grade/serverFilesCourse/gradkata:
        run.sh                             the entrypoint
        kata/                              the gradkata package, which run.sh installs
    graderImage/Dockerfile                 the image to build and push (not course content)

Every question's uuid is derived from its exercise's name, so exporting again
gives the same questions rather than new ones.
"""

from __future__ import annotations

import argparse
import html
import json
import math
import shutil
import stat
import sys
import uuid
from pathlib import Path
from typing import Dict, List, Optional, Sequence

from . import catalog, progress
from .catalog import Exercise
from .prairielearn import DEFAULT_TIMEOUT, PLOT_SECONDS

QUESTION_FOLDER = "gradkata"  # under the course's questions/
SERVER_FOLDER = "gradkata"  # under the course's serverFilesCourse/
ENTRYPOINT = f"/grade/serverFilesCourse/{SERVER_FOLDER}/run.sh"
DEFAULT_IMAGE = "gradkata/grader"
TOPIC = "Gradient descent"
# The namespace of the questions' uuids (a fixed, random one: these are gradkata's).
UUID_NAMESPACE = uuid.UUID("adbd9662-6a81-430d-bba9-0e769872c4d3")
# Seconds a grading job needs besides its tests: installing the kata, starting
# pytest and the sandbox, writing the results.
OVERHEAD_SECONDS = 30
MAX_TIMEOUT = 600  # PrairieLearn's ceiling for externalGradingOptions.timeout

RUN_SH = """#!/usr/bin/env bash
# PrairieLearn runs this in the grader's container for every submission, as root,
# with the submission in /grade/student and the question's tests/ in /grade/tests.
# It installs the kata's package from the course into the image's Python (not
# editable: the student's code, run as the unprivileged user, needs the sandbox's
# code but nothing of the course's folders; GRADKATA_INSTALLED=1 skips this when
# the image already holds it), then grades and writes /grade/results/results.json.
# If the grader itself fails, it writes no results and exits non-zero:
# PrairieLearn marks the job failed and the submission not gradable, so the
# student loses nothing, and the reason is in the job's log.
set -uo pipefail
grade="${{GRADKATA_GRADE_DIR:-/grade}}"
python="${{GRADKATA_PYTHON:-python3}}"
here="$(cd "$(dirname "${{BASH_SOURCE[0]}}")" && pwd)"
if [ "${{GRADKATA_INSTALLED:-0}}" != 1 ]; then
    "$python" -m pip install --quiet --no-deps --no-index --no-build-isolation \\
        --disable-pip-version-check "$here/kata" \\
        || {{ echo "gradkata: could not install the kata from $here/kata"; exit 1; }}
fi
export GRADKATA_SANDBOX_USER="${{GRADKATA_SANDBOX_USER:-student}}"
exec "$python" -I -m gradkata prairielearn-grade "$grade" --timeout {timeout}
"""

DOCKERFILE = """# The image gradkata's PrairieLearn questions are graded in: Python, the kata's
# dependencies, and the unprivileged user the student's code runs as. The kata's
# own package comes with each job from serverFilesCourse (run.sh installs it), so
# a new version of the kata needs no new image. Build it, push it to Docker Hub
# under the name the questions' info.json gives, and sync it in PrairieLearn.
FROM python:3.12-slim
RUN python -m pip install --no-cache-dir {requirements} \\
    && useradd --create-home --shell /usr/sbin/nologin student
"""

QUESTION_HTML = """<pl-question-panel>
  <p><strong>Exercise {number}: {title}</strong> ({story}).</p>
  <p>Write {functions} in <code>{module}.py</code> below. Each docstring says what the
  function takes, what it returns and the maths behind it: replace each
  <code>raise NotImplementedError</code> with your code.</p>
  <p>Each submission is graded by the kata's tests ({points} points), which say what
  went wrong when a test fails. A submission Python cannot read (a syntax error) is
  not graded and does not count as an attempt.</p>
</pl-question-panel>

<pl-file-editor file-name="{module}.py" ace-mode="ace/mode/python"
  directory="clientFilesQuestion" source-file-name="{module}.py"></pl-file-editor>

<pl-submission-panel>
  <pl-external-grader-results></pl-external-grader-results>
  <pl-file-preview></pl-file-preview>
</pl-submission-panel>
"""


def question_name(exercise: Exercise) -> str:
    return f"{exercise.number}_{exercise.name}"


def job_timeout(exercise: Exercise, test_seconds: float) -> int:
    """Seconds the whole grading job may take: every function of the exercise may run
    into its test's limit once (a function that never ends is not called again), the
    loss curve has its own budget, and the job its overhead."""
    seconds = OVERHEAD_SECONDS + len(exercise.functions) * test_seconds
    from .plots import LOSS_SETUPS

    if exercise.name in LOSS_SETUPS:
        seconds += PLOT_SECONDS
    return min(MAX_TIMEOUT, math.ceil(seconds))


def info_json(exercise: Exercise, image: str, test_seconds: float) -> Dict[str, object]:
    return {
        "uuid": str(uuid.uuid5(UUID_NAMESPACE, exercise.name)),
        "title": f"Gradient descent kata {exercise.number}: {exercise.title}",
        "topic": TOPIC,
        "tags": ["gradkata"],
        "type": "v3",
        "singleVariant": True,
        "gradingMethod": "External",
        "externalGradingOptions": {
            "enabled": True,
            "image": image,
            "entrypoint": ENTRYPOINT,
            "serverFilesCourse": [f"{SERVER_FOLDER}/"],
            "timeout": job_timeout(exercise, test_seconds),
        },
    }


def question_html(exercise: Exercise) -> str:
    names = [f"<code>{html.escape(f)}</code>" for f in exercise.functions]
    functions = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    return QUESTION_HTML.format(number=exercise.number, title=html.escape(exercise.title),
                                story=html.escape(exercise.seed), functions=functions,
                                module=exercise.name, points=exercise.points)


def suite_files(root: Path, exercise: Exercise) -> List[Path]:
    """The graded test files of ``exercise`` (private ones included), the helpers
    the suite imports and the private tests' points, relative to ``root``."""
    tests = root / "tests"
    own = catalog.test_files(tests, exercise.name)
    helpers = sorted(p for p in tests.glob("*.py") if not p.name.startswith("test_"))
    points = [p for p in [tests / catalog.POINTS_FILE] if p.is_file()]
    return [p.relative_to(root) for p in own + helpers + points]


def package_files(root: Path) -> List[Path]:
    """What installing the kata's package needs: no tests, no reference."""
    wanted = [Path("pyproject.toml"), Path("README.md")]
    wanted += [p.relative_to(root) for p in sorted((root / "gradkata").rglob("*"))
               if p.is_file() and "__pycache__" not in p.parts]
    return wanted


def requirements(root: Path) -> List[str]:
    """The kata's dependencies and its plots extra, from pyproject.toml, and what
    building its package needs."""
    from .tomlfile import tomllib

    config = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    project = config["project"]
    wanted = [d for d in project["dependencies"] if ";" not in d]  # markers: older Pythons
    wanted += project["optional-dependencies"]["plots"]
    # run.sh builds the package without build isolation (no network): the build
    # backend, and wheel for setuptools older than 70.1.
    return wanted + config["build-system"]["requires"] + ["wheel"]


def _copy(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, dst)


def _write(path: Path, text: str, executable: bool = False) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    if executable:
        path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


def build(out: Path, root: Path, image: str = DEFAULT_IMAGE,
          test_seconds: float = DEFAULT_TIMEOUT) -> List[Path]:
    """Write the questions, the entrypoint, the package and the Dockerfile under
    ``out``; return the question folders."""
    questions = []
    for exercise in catalog.EXERCISES:
        folder = out / "questions" / QUESTION_FOLDER / question_name(exercise)
        if folder.exists():
            shutil.rmtree(folder)  # a test file renamed in the kata must not linger
        _write(folder / "info.json",
               json.dumps(info_json(exercise, image, test_seconds), indent=2) + "\n")
        _write(folder / "question.html", question_html(exercise))
        _copy(root / "exercises" / f"{exercise.name}.py",
              folder / "clientFilesQuestion" / f"{exercise.name}.py")
        _copy(root / "pyproject.toml", folder / "tests" / "pyproject.toml")
        for rel in suite_files(root, exercise):
            _copy(root / rel, folder / "tests" / rel)
        _copy(root / "solutions" / f"{exercise.name}.py",
              folder / "tests" / "solutions" / f"{exercise.name}.py")
        questions.append(folder)
    server = out / "serverFilesCourse" / SERVER_FOLDER
    if server.exists():
        shutil.rmtree(server)
    _write(server / "run.sh", RUN_SH.format(timeout=f"{test_seconds:g}"), executable=True)
    for rel in package_files(root):
        _copy(root / rel, server / "kata" / rel)
    quoted = " ".join(f'"{r}"' for r in requirements(root))
    _write(out / "graderImage" / "Dockerfile", DOCKERFILE.format(requirements=quoted))
    return questions


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        prog="gradkata prairielearn",
        description="Write a PrairieLearn question per exercise, externally graded by the "
                    "kata's suite, and the grader they share (laid out as a course "
                    "repository: questions/, serverFilesCourse/), plus the grader image's "
                    "Dockerfile.")
    parser.add_argument("out", metavar="OUT")
    parser.add_argument("--image", default=DEFAULT_IMAGE,
                        help=f"the Docker image the questions are graded in, built from "
                             f"graderImage/Dockerfile (default {DEFAULT_IMAGE})")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, metavar="SECONDS",
                        help=f"time limit of each test (default {DEFAULT_TIMEOUT:g}); each "
                             "question's job timeout follows from it")
    args = parser.parse_args(argv)
    try:
        root = progress.find_root(needs=("exercises", "tests", "solutions"))
    except progress.ProjectNotFound as exc:
        print(f"gradkata prairielearn: {exc}", file=sys.stderr)
        return 2
    out = Path(args.out)
    questions = build(out, root, args.image, args.timeout)
    print(f"wrote {len(questions)} questions under {out / 'questions' / QUESTION_FOLDER}, "
          f"their grader under {out / 'serverFilesCourse' / SERVER_FOLDER} and "
          f"{out / 'graderImage' / 'Dockerfile'}. Merge questions/ and serverFilesCourse/ "
          f"into your course; build the Dockerfile and push it as {args.image}.")
    return 0
