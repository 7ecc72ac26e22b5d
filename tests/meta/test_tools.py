"""The instructor's tools around the suite: the Gradescope bundle, gradkata grade's
edges, and the plugin's behaviour outside a kata."""

import csv
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from gradkata import autograder, bundle, catalog, classgrade, runner, scoring

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
    assert "-m gradkata.autograder --timeout 5" in runner
    assert 'GRADKATA_SANDBOX_USER="${GRADKATA_SANDBOX_USER:-student}"' in runner


def test_the_bundle_wants_a_zip_name(tmp_path):
    assert bundle.main([str(tmp_path / "out.tar")]) == 2


def test_grade_refuses_what_is_not_a_folder_and_bad_settings(tmp_path, capsys):
    assert classgrade.main([str(tmp_path / "missing"), "--csv", str(tmp_path / "g.csv")]) == 2
    assert "not a folder" in capsys.readouterr().err
    assert classgrade.main([str(tmp_path), "--csv", str(tmp_path / "g.csv"), "--jobs", "0"]) == 2


def test_grade_finds_the_kata_around_the_folder_then_the_installed_one(tmp_path):
    assert classgrade.find_root(ROOT / "tests") == ROOT
    # Outside any kata: the one gradkata was installed from (pip install -e).
    assert classgrade.installed_kata() == ROOT
    assert classgrade.find_root(tmp_path) == ROOT
    assert classgrade.find_root(tmp_path, kata=str(ROOT)) == ROOT


def test_grade_without_a_kata_is_a_usage_error_that_names_kata(tmp_path, capsys, monkeypatch):
    with pytest.raises(SystemExit) as stop:
        classgrade.find_root(ROOT, kata=str(tmp_path))
    assert stop.value.code == 2  # a usage error, as for the other commands
    assert f"--kata {tmp_path}: not a gradkata kata" in capsys.readouterr().err
    monkeypatch.setattr(classgrade, "installed_kata", lambda: None)  # a wheel, no kata
    with pytest.raises(SystemExit) as stop:
        classgrade.find_root(tmp_path)
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert "is not inside a gradkata project" in err and "--kata DIR" in err


def test_two_submissions_with_one_name_get_two_rows(tmp_path):
    a, b = tmp_path / "a" / "alice", tmp_path / "b" / "alice"
    assert classgrade._names([str(a), str(b), str(tmp_path / "bob")]) == [
        "alice", "alice-2", "bob"]


def test_a_suite_run_that_cannot_finish_is_reported_not_scored(tmp_path):
    run = runner.run_suite(ROOT, tmp_path, timeout=5.0, extra=["--no-such-option"])
    assert "pytest ended with status 4" in run.error
    assert run.results == []


def test_the_runner_knows_gradkata_s_own_pytest_options():
    # Judges pass --require-isolation on only where pytest knows it.
    options = runner.plugin_options()
    assert {"--impl", "--require-isolation", "--gradescope"} <= options
    assert "--no-such-option" not in options


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


def test_class_grading_results_keep_a_hidden_test_hidden(tmp_path):
    hidden = scoring.TestResult("t::p", "test_private_4242", "vectorized", 2, "failed",
                                "forward(4242) returned 1, expected 2", "printed 4242",
                                visibility="hidden")
    graded = classgrade.Graded("dan", "dan", str(tmp_path), "graded", 2, [hidden], 1.0)
    classgrade.write_results(str(tmp_path / "results"), [graded])
    text = (tmp_path / "results" / "dan" / "results.json").read_text()
    [test] = json.loads(text)["tests"]
    assert test["visibility"] == "hidden" and test["name"] == "vectorized: hidden test 1"
    number = next(e.number for e in catalog.EXERCISES if e.name == "vectorized")
    assert test["output"] == f"A hidden test of exercise {number} (vectorized) failed."
    assert "4242" not in text


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
    # Tests outside the kata's tests/ folder take their points from a points.toml beside them.
    pytester.makefile(".toml", points="[single_neuron]\ntest_y_hat = 3\ntest_skipped = 1\n"
                                      "test_not_graded_here = 1\n")
    pytester.makepyfile(test_private="""
import pytest
pytestmark = pytest.mark.exercise("single_neuron")

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


def test_a_graded_test_stopped_by_pytest_timeout_says_so_in_the_learner_s_words(pytester):
    (pytester.path / "solutions").mkdir()
    (pytester.path / "solutions" / "single_neuron.py").write_text("def y_hat():\n    return 1\n")
    (pytester.path / "exercises").mkdir()
    (pytester.path / "exercises" / "single_neuron.py").write_text("def y_hat():\n    return 1\n")
    pytester.makeini("[pytest]\ngradkata_impl = exercises\n")
    pytester.makepyfile(test_single_neuron="""
import time

def test_y_hat(learner):
    assert learner.y_hat() == 1
    time.sleep(30)  # in the judge, where only pytest-timeout's alarm stops it
""")
    (pytester.path / "points.toml").write_text("[single_neuron]\ntest_y_hat = 1\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-o", "timeout=1")
    out = result.stdout.str()
    assert "This test ran past its time limit and was stopped" in out, out
    assert "from pytest-timeout" not in out


def test_impl_outside_the_kata_gets_the_advice_that_fits_how_it_was_written(pytester, tmp_path):
    folder = tmp_path / "submission"
    folder.mkdir()
    joined = pytester.runpytest_subprocess("-p", "no:cacheprovider", f"--impl={folder}")
    assert joined.ret == pytest.ExitCode.USAGE_ERROR
    said = joined.stderr.str()
    assert "Run pytest from the kata's folder" in said and "Join them with '='" not in said
    apart = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--impl", str(folder))
    assert apart.ret == pytest.ExitCode.USAGE_ERROR
    assert "Join them with '='" in apart.stderr.str()


def test_statuses_are_an_enum_written_to_json_as_the_words_they_always_were():
    from gradkata.scoring import Status, TestResult

    result = TestResult("t::a", "a", "single_neuron", 2.0, Status.NOT_STARTED,
                        function="y_hat")
    text = json.dumps(scoring.raw([result]))
    assert '"status": "not started"' in text and '"function": "y_hat"' in text
    back = scoring.results_from_json(json.loads(text))[0]
    assert back.status is Status.NOT_STARTED and back.function == "y_hat"
    assert f"{back.status}" == "not started" and back.earned == 0.0
    with pytest.raises(ValueError):
        TestResult("t::b", "b", "single_neuron", 1.0, "finished")  # no such status


def test_pytest_timeout_s_message_is_recognised_from_its_exported_template():
    from pytest_timeout import PYTEST_FAILURE_MESSAGE

    from gradkata import plugin

    assert plugin._is_pytest_timeout(PYTEST_FAILURE_MESSAGE % 2.5)
    assert not plugin._is_pytest_timeout("Timeout: the learner's own message")
    assert not plugin._is_pytest_timeout(PYTEST_FAILURE_MESSAGE.replace("%s", ""))


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
    (kata / "tests" / "points.toml").write_text(
        "[vectorized]\ntest_forward_on_ones_matches_the_reference = 5\n")
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


def _tiny_kata(pytester, y_hat_body="    return x_1 * w[0] + x_2 * w[1] + w[2]\n"):
    """A kata of one exercise whose graded folder holds ``y_hat_body``."""
    (pytester.path / "solutions").mkdir()
    (pytester.path / "solutions" / "single_neuron.py").write_text(
        "def y_hat(x_1, x_2, w):\n    return x_1 * w[0] + x_2 * w[1] + w[2]\n")
    (pytester.path / "graded").mkdir()
    (pytester.path / "graded" / "single_neuron.py").write_text(
        "def y_hat(x_1, x_2, w):\n" + y_hat_body)
    pytester.makeini("[pytest]\ngradkata_impl = graded\n")


def _points(pytester, exercise="single_neuron", **tests):
    """Give the tests of ``exercise`` in the tiny kata's folder their points, as an
    instructor gives private tests theirs (a points.toml beside them)."""
    lines = "".join(f"{name} = {points}\n" for name, points in tests.items())
    (pytester.path / "points.toml").write_text(f"[{exercise}]\n{lines}")


PRIVATE_POINTS = dict(test_y_hat_at_the_secret_point_4242=1, test_y_hat_later=1,
                      test_y_hat_at_once=1)


# A private test file: hidden by default, one test of it shown after the due date.
PRIVATE_TESTS = """
import pytest
pytestmark = [pytest.mark.exercise("single_neuron"), pytest.mark.visibility("hidden")]

def test_y_hat_at_the_secret_point_4242(learner, reference):
    got, want = learner.y_hat(4242.5, 1, [1, 1, 1]), reference.y_hat(4242.5, 1, [1, 1, 1])
    assert got == want, f"y_hat(4242.5, ...) returned {got}, expected {want}"

@pytest.mark.visibility("after_due_date")
def test_y_hat_later(learner):
    assert learner.y_hat(0, 0, [0, 0, 5]) == 5

@pytest.mark.visibility("visible")
def test_y_hat_at_once(learner):
    assert learner.y_hat(1, 1, [1, 1, 1]) == 3
"""


def test_visibility_reaches_results_and_a_hidden_test_says_only_what_failed(pytester):
    _tiny_kata(pytester, "    print('saw', x_1)\n    return x_1 * w[0] + x_2 * w[1]\n")
    pytester.makepyfile(test_private=PRIVATE_TESTS)
    _points(pytester, **PRIVATE_POINTS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--gradescope", "gs.json",
                                           "--gradkata-raw", "raw.json")
    result.assert_outcomes(failed=3)
    data = json.loads((pytester.path / "gs.json").read_text())
    by_visibility = {t["visibility"]: t for t in data["tests"]}
    assert set(by_visibility) == {"hidden", "after_due_date", "visible"}
    hidden = by_visibility["hidden"]
    assert hidden["status"] == "failed" and hidden["score"] == 0
    number = next(e.number for e in catalog.EXERCISES if e.name == "single_neuron")
    assert hidden["output"] == f"A hidden test of exercise {number} (single_neuron) failed."
    assert hidden["name"] == "single_neuron: hidden test 1"
    # The secret input shows nowhere in what Gradescope gets, not even in the top-level
    # output; the tests shown later or at once keep their messages and what was printed.
    assert "4242" not in json.dumps(data)
    assert "assert 0 == 5" in by_visibility["after_due_date"]["output"]
    assert "saw 1" in by_visibility["visible"]["output"]
    assert "2 more tests are graded but not shown here" in data["output"]
    # The raw results (for the instructor) keep everything.
    raw = json.loads((pytester.path / "raw.json").read_text())["results"]
    assert [r["visibility"] for r in raw] == ["visible", "after_due_date", "hidden"]
    assert "4242.5" in raw[2]["message"]


def test_hidden_tests_run_after_the_visible_ones(pytester):
    _tiny_kata(pytester)
    pytester.makepyfile(test_private=PRIVATE_TESTS)
    _points(pytester, **PRIVATE_POINTS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-v")
    names = [line.split("::")[1].split()[0] for line in result.stdout.lines
             if "test_private.py::" in line and ("PASSED" in line or "FAILED" in line)]
    assert names == ["test_y_hat_at_once", "test_y_hat_later",
                     "test_y_hat_at_the_secret_point_4242"]


def test_a_private_test_without_points_stops_the_run_naming_where_they_go(pytester):
    _tiny_kata(pytester)
    pytester.makepyfile(test_private=PRIVATE_TESTS)
    _points(pytester, test_y_hat_at_once=1, test_y_hat_later=2)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--collect-only")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*test_private.py::test_y_hat_at_the_secret_point_4242 has "
                                 "no points: add `test_y_hat_at_the_secret_point_4242 = N` to "
                                 "points.toml, in its [[]single_neuron[]] table.*"])


def test_points_naming_no_test_stop_the_run_even_when_one_test_is_picked(pytester):
    _tiny_kata(pytester)
    pytester.makepyfile(test_private=PRIVATE_TESTS)
    _points(pytester, **PRIVATE_POINTS, test_y_hat_renamed_since=4)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider",
                                           "test_private.py::test_y_hat_at_once")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*points.toml [[]single_neuron[]] gives points to "
                                 "test_y_hat_renamed_since, which is no test of single_neuron "
                                 "there*"])


def test_a_leftover_points_marker_is_an_error_not_a_second_value(pytester):
    _tiny_kata(pytester)
    pytester.makepyfile(test_private="""
import pytest
pytestmark = pytest.mark.exercise("single_neuron")

@pytest.mark.points(7)
def test_y_hat(learner):
    assert learner.y_hat(1, 1, [1, 1, 1]) == 3
""")
    _points(pytester, test_y_hat=1)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*test_private.py::test_y_hat is marked points(...), but a "
                                 "graded test's points are written once, in points.toml*"])


def test_the_kata_s_own_tests_take_their_points_from_the_catalog_only(pytester):
    """In the kata's tests/ folder, a test the catalog does not list is an error, and so
    is every catalog line of the exercise once its file is collected in full."""
    _tiny_kata(pytester)
    (pytester.path / "tests").mkdir()
    (pytester.path / "tests" / "test_single_neuron.py").write_text(
        "def test_y_hat_in_a_new_test(learner):\n"
        "    assert learner.y_hat(1, 1, [1, 1, 1]) == 3\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "tests")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    said = result.stderr.str()
    assert ("tests/test_single_neuron.py::test_y_hat_in_a_new_test has no points: add "
            "`test_y_hat_in_a_new_test = N` to gradkata/kata.toml, in the [exercise.points] "
            "table of single_neuron.") in said
    listed = catalog.find("single_neuron").tests
    assert all(f"gives points to {name}, which is no test" in said for name in listed)


def test_a_test_given_points_in_two_places_is_an_error(pytester):
    _tiny_kata(pytester)
    (pytester.path / "tests").mkdir()
    name = next(iter(catalog.find("single_neuron").tests))  # a test the catalog lists
    (pytester.path / "tests" / "test_single_neuron.py").write_text(
        f"def {name}(learner):\n    assert learner.y_hat(1, 1, [1, 1, 1]) == 3\n")
    (pytester.path / "tests" / "points.toml").write_text(f"[single_neuron]\n{name} = 9\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "tests")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert (f"tests/test_single_neuron.py::{name} has points in both gradkata/kata.toml and "
            in result.stderr.str())


def test_the_catalog_writes_each_test_s_points_and_no_total():
    from gradkata.tomlfile import tomllib

    path = Path(catalog.__file__).with_name(catalog.CATALOG_FILE)
    for row in tomllib.loads(path.read_text(encoding="utf-8"))["exercise"]:
        # a table of tests, never a number: an exercise's total is a sum, not a second value
        assert isinstance(row["points"], dict) and row["points"], row["name"]


@pytest.mark.parametrize("table", [{"test_a": 0}, {"test_a": 1.5}, {"test_a": True}, [1]])
def test_a_points_table_takes_whole_positive_numbers_only(table):
    with pytest.raises(catalog.BadPoints):
        catalog.points_table(table, "here")


def test_a_bad_points_file_is_a_usage_error_naming_it(pytester):
    _tiny_kata(pytester)
    pytester.makepyfile(test_private=PRIVATE_TESTS)
    (pytester.path / "points.toml").write_text("[single_neuron\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "points.toml could not be read" in result.stderr.str()


def test_a_bad_visibility_is_a_usage_error_naming_the_test(pytester):
    _tiny_kata(pytester)
    pytester.makepyfile(test_private="""
import pytest
pytestmark = pytest.mark.exercise("single_neuron")

@pytest.mark.visibility("secret")
def test_y_hat(learner):
    assert learner.y_hat(1, 1, [1, 1, 1]) == 3
""")
    _points(pytester, test_y_hat=1)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*test_private.py::test_y_hat is marked visibility('secret');"
                                 " the marker takes one of 'hidden', 'after_due_date',"
                                 " 'after_published', 'visible'.*"])


def test_the_autograder_picks_the_shallowest_copy_then_the_first_by_path(tmp_path):
    upload = tmp_path / "upload"
    for rel in ("hw/b/vectorized.py", "hw/a/vectorized.py", "deep/er/est/vectorized.py",
                "__MACOSX/vectorized.py", ".git/single_neuron.py", "hw/single_neuron.py"):
        (upload / rel).parent.mkdir(parents=True, exist_ok=True)
        (upload / rel).write_text("")
    (upload / "loop_gradients.py").symlink_to(tmp_path / "elsewhere.py")
    choices = {c.module: c for c in autograder.choose(upload)}
    assert (choices["vectorized"].graded, choices["vectorized"].ignored) == (
        "hw/a/vectorized.py", ["hw/b/vectorized.py", "deep/er/est/vectorized.py"])
    assert (choices["single_neuron"].graded, choices["single_neuron"].ignored) == (
        "hw/single_neuron.py", [])
    assert (choices["loop_gradients"].graded, choices["loop_gradients"].links) == (
        None, ["loop_gradients.py"])
    note = autograder.upload_note(list(choices.values()))
    assert "vectorized.py: hw/a/vectorized.py; also found and ignored: hw/b/vectorized.py, " \
           "deep/er/est/vectorized.py" in note
    assert "the copy nearest the top of the upload" in note


def _fake_pytest(monkeypatch, status, tests, per_test):
    """Make autograder.grade's pytest a stand-in that writes the given results."""
    def run(args, **kwargs):
        gradescope = Path(args[args.index("--gradescope") + 1])
        gradescope.write_text(json.dumps({"score": 0, "tests": tests}))
        raw = Path(args[args.index("--gradkata-raw") + 1])
        raw.write_text(json.dumps({"results": per_test}))
        return subprocess.CompletedProcess(args, status, stdout="(pytest's output)")
    monkeypatch.setattr(subprocess, "run", run)  # the module upload.grade runs pytest with


def test_the_autograder_scores_only_what_the_grader_could_run(tmp_path, monkeypatch):
    test = {"name": "t", "score": 0, "max_score": 1}
    ran = {"nodeid": "t", "status": "failed", "message": "wrong"}
    _fake_pytest(monkeypatch, 1, [test], [ran])
    assert autograder.grade(tmp_path, tmp_path, tmp_path / "r.json", 5)["tests"] == [test]
    for status, tests, per_test, why in [
            (2, [test], [ran], "pytest ended with status 2"),
            (1, [], [], "pytest graded no test"),
            (1, [test], [dict(ran, status="grader error", message="no jail here")],
             "1 tests could not be run by the grader, the first (t) with: no jail here")]:
        _fake_pytest(monkeypatch, status, tests, per_test)
        with pytest.raises(autograder.GraderFailed, match=re.escape(why)):
            autograder.grade(tmp_path, tmp_path, tmp_path / "r.json", 5)
