"""Private tests, the supported way: a file in tests/private/ (docs/instructors.md).

The kata's own checks leave tests/private out of the graded runs they start (see
conftest.py); here a private test is added to a copy of the kata, and the checks that
failed before (totals, stubs) run there and stay green, while the instructor's run
grades it, hidden, in results.json.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Dict

import pytest
from conftest import IGNORE_PRIVATE, PRIVATE

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]

ROOT = Path(__file__).resolve().parents[2]

PRIVATE_TEST = '''"""An instructor's private test: worth 5 points, hidden from learners."""
import numpy as np
import pytest
from shared_checks import expect_close

pytestmark = pytest.mark.visibility("hidden")


def test_forward_matches_the_reference_on_an_unseen_batch(learner, reference):
    """forward on a batch the public tests never use."""
    rng = np.random.default_rng(7)
    x, w, b = rng.normal(size=(6, 4)), rng.normal(size=(4, 2)), rng.normal(size=(1, 2))
    expect_close(learner.forward(x, w, b), reference.forward(x, w, b), call=learner.forward)
'''

# Its points, in the private folder's own catalog (the kata's is the learners' too).
PRIVATE_POINTS = "[vectorized]\ntest_forward_matches_the_reference_on_an_unseen_batch = 5\n"


def _env(with_private: bool) -> Dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "GRADKATA_IMPL"}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    if with_private:  # as the instructor runs it: this session's checks set the option
        env["PYTEST_ADDOPTS"] = " ".join(
            o for o in env.get("PYTEST_ADDOPTS", "").split() if o != IGNORE_PRIVATE)
    return env


@pytest.fixture(scope="module")
def kata(tmp_path_factory) -> Path:
    """A copy of the kata with one private test added the documented way."""
    copy = tmp_path_factory.mktemp("private") / "kata"
    copy.mkdir()
    shutil.copy(ROOT / "pyproject.toml", copy)
    for folder in ("exercises", "solutions", "tests"):
        shutil.copytree(ROOT / folder, copy / folder,
                        ignore=shutil.ignore_patterns("__pycache__", "private"))
    (copy / PRIVATE).mkdir()
    (copy / PRIVATE / "test_vectorized_unseen.py").write_text(PRIVATE_TEST)
    (copy / PRIVATE / "points.toml").write_text(PRIVATE_POINTS)
    return copy


def _results(kata: Path, tmp_path: Path, *args: str) -> Dict:
    out = tmp_path / "results.json"
    proc = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider",
                           f"--gradescope={out}", *args, "tests"], cwd=kata, capture_output=True,
                          text=True, env=_env(with_private=True), timeout=600)
    assert out.exists(), proc.stdout[-3000:] + proc.stderr[-3000:]
    return json.loads(out.read_text())


def test_the_instructors_run_grades_the_private_test_hidden(kata, tmp_path):
    data = _results(kata, tmp_path, "--impl=solutions")
    [private] = [t for t in data["tests"] if t["visibility"] == "hidden"]
    assert private["score"] == private["max_score"] == 5 and data["score"] == 105
    stubs = _results(kata, tmp_path)
    [private] = [t for t in stubs["tests"] if t["visibility"] == "hidden"]
    assert private["score"] == 0
    # Hidden: neither its name nor what it checks reaches the learner.
    assert "unseen" not in json.dumps(data) + json.dumps(stubs)


def test_the_kata_s_checks_stay_green_with_a_private_test(kata):
    checks = ["tests/meta/test_grading.py::test_untouched_stubs_score_zero_in_a_few_lines",
              "tests/meta/test_grading.py::test_solutions_score_every_point",
              "tests/meta/test_grading.py::test_points_add_up_to_the_catalog",
              "tests/meta/test_stubs.py::test_untouched_exercises_pass_no_graded_test_and_"
              "score_zero"]
    env = {k: v for k, v in os.environ.items() if k not in ("GRADKATA_IMPL", "PYTEST_ADDOPTS")}
    proc = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q",
                           *checks], cwd=kata, capture_output=True, text=True, env=env,
                          timeout=900)
    assert proc.returncode == 0, proc.stdout[-4000:]
    assert "4 passed" in proc.stdout
