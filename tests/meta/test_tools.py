"""The instructor's tools around the suite: the Gradescope bundle, gradkata grade's
edges, and the plugin's behaviour outside a kata."""

import csv
import json
import os
import shutil
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from gradkata import bundle, classgrade, runner, scoring

ROOT = Path(__file__).resolve().parents[2]
pytest_plugins = ["pytester"]


def gradkata(*args, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "gradkata", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=300)


def test_the_gradescope_bundle_holds_the_kata_and_two_runnable_scripts(tmp_path):
    out = tmp_path / "autograder.zip"
    proc = gradkata("gradescope-bundle", str(out), "--timeout", "5")
    assert proc.returncode == 0, proc.stderr
    assert "setup.sh, run_autograder" in proc.stdout
    with zipfile.ZipFile(out) as archive:
        names = set(archive.namelist())
        for script in ("setup.sh", "run_autograder"):
            mode = archive.getinfo(script).external_attr >> 16
            assert mode & stat.S_IXUSR, script
            text = archive.read(script).decode()
            path = tmp_path / script
            path.write_text(text)
            assert subprocess.run(["bash", "-n", str(path)]).returncode == 0, script
        runner = archive.read("run_autograder").decode()
    assert {"pyproject.toml", "gradkata/plugin.py", "tests/test_vectorized.py",
            "solutions/vectorized.py"} <= names
    assert not any(n.startswith("tests/meta/") or "__pycache__" in n for n in names)
    assert "--gradescope \"$results\"" in runner and "timeout=5" in runner
    assert "GRADKATA_SANDBOX_USER=student" in runner


def test_the_bundle_wants_a_zip_name(tmp_path):
    assert bundle.main([str(tmp_path / "out.tar")]) == 2


def test_grade_refuses_what_is_not_a_folder_and_bad_settings(tmp_path, capsys):
    assert classgrade.main([str(tmp_path / "missing"), "--csv", str(tmp_path / "g.csv")]) == 2
    assert "not a folder" in capsys.readouterr().err
    assert classgrade.main([str(tmp_path), "--csv", str(tmp_path / "g.csv"), "--jobs", "0"]) == 2


def test_grade_needs_the_kata(tmp_path, capsys):
    with pytest.raises(SystemExit) as stop:
        classgrade.find_root(tmp_path)
    assert stop.value.code == 2  # a usage error, as for the other commands
    assert "is not inside a gradkata project (a folder with pyproject.toml, tests/ and " \
           "solutions/). Run gradkata from the kata's folder." in capsys.readouterr().err
    assert classgrade.find_root(ROOT / "tests") == ROOT


def test_two_submissions_with_one_name_get_two_rows(tmp_path):
    a, b = tmp_path / "a" / "alice", tmp_path / "b" / "alice"
    assert classgrade._names([str(a), str(b), str(tmp_path / "bob")]) == [
        "alice", "alice-2", "bob"]


def test_a_suite_run_that_cannot_finish_is_reported_not_scored(tmp_path):
    run = runner.run_suite(ROOT, tmp_path, timeout=5.0, extra=["--no-such-option"])
    assert "pytest ended with status 4" in run.error
    assert run.results == []


def test_a_submission_that_could_not_be_graded_has_a_status_and_no_score(tmp_path):
    graded = classgrade.Graded("carol", "carol", str(tmp_path), "error: the judge broke", 105)
    classgrade.write_csv(str(tmp_path / "g.csv"), [graded])
    classgrade.write_results(str(tmp_path / "results"), [graded])
    header, row = (tmp_path / "g.csv").read_text().splitlines()
    assert header.split(",") == classgrade.CSV_COLUMNS
    # No score at all (never a silent 0), and the kata's real maximum.
    assert row == "carol,carol,error: the judge broke,,105" + "," * 6
    data = json.loads((tmp_path / "results" / "carol" / "results.json").read_text())
    assert "score" not in data and data["tests"] == []
    assert "could not be graded (error: the judge broke)" in data["output"]


def test_a_judge_s_deadline_grows_with_the_tests_and_their_limit():
    assert classgrade.judge_seconds(10, 2.0) < classgrade.judge_seconds(20, 2.0)
    assert classgrade.judge_seconds(10, 2.0) < classgrade.judge_seconds(10, 3.0)
    # Every test running into its limit still fits.
    assert classgrade.judge_seconds(54, 2.0) > 54 * 2.0


def test_the_snapshot_holds_what_grading_reads_and_is_read_only(tmp_path):
    snapshot = classgrade.make_snapshot(ROOT)
    try:
        assert (snapshot / "pyproject.toml").is_file()
        assert (snapshot / "solutions" / "vectorized.py").is_file()
        assert (snapshot / "tests" / "test_vectorized.py").is_file()
        assert not (snapshot / "tests" / "meta").exists()
        classgrade.seal(snapshot)
        for path in [snapshot, *snapshot.rglob("*")]:
            assert not path.stat().st_mode & 0o222, path
    finally:
        classgrade.remove_snapshot(snapshot)
    assert not snapshot.exists()


def test_scores_and_next_steps_follow_the_outcomes():
    results = [
        scoring.TestResult("a", "test_a", "single_neuron", 2, "passed"),
        scoring.TestResult("b", "test_b", "single_neuron", 3, "failed", "wrong"),
        scoring.TestResult("c", "test_c", "vectorized", 1, "skipped"),
        scoring.TestResult("d", "test_d", "private_extra", 1, "not started", "x: not started"),
    ]
    rows = scoring.by_exercise(results)
    assert [(r.name, r.earned, r.possible) for r in rows] == [
        ("single_neuron", 2, 5), ("vectorized", 0, 1), ("private_extra", 0, 1)]
    assert rows[0].state == "in progress" and rows[2].state == "not started"
    assert "(1 other)" in "\n".join(scoring.table(rows))
    assert "fix test_b" in scoring.next_step(rows, "exercises/")
    assert scoring.next_step([], "exercises/") == "Every exercise passes. Well done."
    # Written but wrong comes first, even after a test of something still to write.
    rows = scoring.by_exercise([
        scoring.TestResult("e", "test_e", "single_neuron", 1, "not started", "x: not started"),
        scoring.TestResult("f", "test_f", "single_neuron", 1, "failed", "wrong"),
        scoring.TestResult("g", "test_g", "single_neuron", 1, "failed", "wrong too"),
    ])
    assert "fix test_f" in scoring.next_step(rows, "exercises/")
    data = scoring.gradescope_results(results, 1.0)
    assert data["score"] == 2 and [t["status"] for t in data["tests"]] == [
        "passed", "failed", "failed", "failed"]


def test_the_plugin_leaves_other_projects_alone(pytester):
    pytester.makepyfile(test_plain="def test_one():\n    assert True\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    out = result.stdout.str()
    assert "gradkata: grading" not in out and "gradkata score" not in out


def test_the_plugin_grades_a_tiny_kata_with_markers_and_skips(pytester):
    (pytester.path / "solutions").mkdir()
    (pytester.path / "solutions" / "single_neuron.py").write_text(
        "def y_hat(x_1, x_2, w):\n    return x_1 * w[0] + x_2 * w[1] + w[2]\n")
    (pytester.path / "exercises").mkdir()
    (pytester.path / "exercises" / "single_neuron.py").write_text(
        "def y_hat(x_1, x_2, w):\n    raise NotImplementedError\n")
    pytester.makeini("[pytest]\ngradkata_impl = exercises\n")
    pytester.makepyfile(test_private="""
import pytest
pytestmark = pytest.mark.exercise("single_neuron")

@pytest.mark.points(3)
def test_y_hat(learner):
    assert learner.y_hat(1, 1, [1, 1, 1]) == 3

@pytest.mark.skip(reason="not this term")
def test_skipped(learner):
    pass

def test_not_graded_here(reference):
    assert reference.y_hat(0, 0, [0, 0, 2]) == 2
""")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    out = result.stdout.str()
    assert "grading exercises/" in out and "not started" in out
    # 3 + 1 + 1 points: the skipped test earns nothing, the test that only
    # uses the reference earns its point (graded tests must call learner code).
    assert "1/5" in out and "(1 other)" in out
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--impl", "solutions",
                                           "test_private.py")
    assert "4/5" in result.stdout.str()


# A judge stuck where pytest-timeout cannot reach it (here: reading a configuration
# file that is a pipe nobody writes to) runs past a short deadline: it is stopped,
# tried once more, and recorded as a timeout.
PAST_THE_DEADLINE = """
import json, sys, time
from gradkata import classgrade

classgrade.become_subreaper()
started = time.monotonic()
task = classgrade.Task(sys.argv[1], sys.argv[2], 5.0, False)
outcome = classgrade.run_judges([task], jobs=1, seconds=float(sys.argv[3]))[0]
elapsed = time.monotonic() - started
classgrade.end_every_descendant()
print(json.dumps({"status": outcome.status, "elapsed": elapsed, "results": outcome.results}))
"""


def test_a_judge_past_its_deadline_is_retried_once_then_recorded_as_a_timeout(tmp_path):
    os.mkfifo(tmp_path / "pyproject.toml")
    (tmp_path / "tests").mkdir()
    deadline = 2.0
    proc = subprocess.run([sys.executable, "-c", PAST_THE_DEADLINE, str(tmp_path),
                           str(ROOT / "solutions"), str(deadline)],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(proc.stdout.splitlines()[-1])
    assert report["status"] == "timeout" and report["results"] == []
    assert report["elapsed"] >= 2 * deadline  # two attempts, each to its deadline


PRIVATE_TEST = '''
import numpy as np
import pytest

pytestmark = pytest.mark.points(5)


def test_forward_on_ones_matches_the_reference(learner, reference):
    x, w, b = np.ones((4, 3)), np.ones((3, 2)), np.zeros((1, 2))
    assert np.allclose(learner.forward(x, w, b), reference.forward(x, w, b))
'''


def test_the_maximum_is_the_kata_s_own_even_for_a_submission_not_graded(tmp_path):
    kata = tmp_path / "kata"
    kata.mkdir()
    shutil.copy(ROOT / "pyproject.toml", kata)
    for folder in ("solutions", "exercises"):
        shutil.copytree(ROOT / folder, kata / folder,
                        ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "tests", kata / "tests",
                    ignore=shutil.ignore_patterns("__pycache__", "meta"))
    (kata / "tests" / "test_vectorized_private.py").write_text(PRIVATE_TEST)
    alice, bob = tmp_path / "alice", tmp_path / "bob"
    shutil.copytree(ROOT / "solutions", alice, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "solutions", bob, ignore=shutil.ignore_patterns("__pycache__"))
    # bob's module kills its judge (possible without the OS jail; with it, it fails alone)
    (bob / "learning_rate.py").write_text(
        "import os, signal\nparent = os.getppid()\n"
        "with open(f'/proc/{parent}/stat') as f:\n"
        "    grandparent = int(f.read().rsplit(')', 1)[1].split()[1])\n"
        "os.kill(parent, signal.SIGKILL)\nos.kill(grandparent, signal.SIGKILL)\n")
    table = tmp_path / "grades.csv"
    proc = gradkata("grade", str(alice), str(bob), "--csv", str(table), "--jobs", "2",
                    "--timeout", "5", cwd=kata)
    rows = {row["submission"]: row for row in csv.DictReader(table.open())}
    assert rows["alice"]["status"] == "graded", proc.stderr[-3000:]
    assert rows["alice"]["score"] == rows["alice"]["max_score"] == "105"
    assert rows["alice"]["vectorized"] == "25"
    assert rows["bob"]["max_score"] == "105"
    assert rows["bob"]["status"] != "graded" or float(rows["bob"]["learning_rate"]) == 0
