"""PrairieLearn: the exported questions, and their grader run on a simulated /grade folder.

``gradkata prairielearn OUT`` is run once; each grading test lays out a folder
as PrairieLearn's grader host does (the question's tests/ as ``tests/``, the
course's serverFilesCourse/gradkata as ``serverFilesCourse/gradkata``, the
submitted file in ``student/``) and runs ``gradkata prairielearn-grade`` on it
in a subprocess. What PrairieLearn's documentation requires of info.json,
question.html and results.json is checked by parsing them, and results.json
against tests/meta/prairielearn.schema.json, written from that documentation.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
import sys
import uuid
from html.parser import HTMLParser
from pathlib import Path

import pytest

from gradkata import catalog, prairielearn

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((Path(__file__).parent / "prairielearn.schema.json").read_text())
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

# A line of the reference that the broken copy below changes.
REFERENCE_LINE = "return float(x_1 * w[0] + x_2 * w[1] + w[2])"
SECRET_INPUT = "73.0625"  # the hidden test's input: it must show nowhere in the results
HIDDEN_TEST = f'''"""A private test, as an instructor adds one: hidden from students."""
import pytest

pytestmark = pytest.mark.visibility("hidden")


def test_y_hat_at_the_private_point(learner, reference):
    """y_hat at {SECRET_INPUT}."""
    args = ({SECRET_INPUT}, -0.5, [0.25, 2.0, -1.5])
    got, want = learner.y_hat(*args), reference.y_hat(*args)
    assert got == pytest.approx(want), f"y_hat{{args}} returned {{got}}, expected {{want}}"
'''

# Its points, beside it, where the instructor writes a private test's points.
HIDDEN_POINTS = "[single_neuron]\ntest_y_hat_at_the_private_point = 5\n"


def validate(data):
    pytest.importorskip("jsonschema").validate(data, SCHEMA)


def reference(name):
    return (ROOT / "solutions" / f"{name}.py").read_text()


def without_bias():
    source = reference("single_neuron")
    assert source.count(REFERENCE_LINE) == 1
    return source.replace(REFERENCE_LINE, "return float(x_1 * w[0] + x_2 * w[1])")


@pytest.fixture(scope="module")
def export(tmp_path_factory):
    out = tmp_path_factory.mktemp("course")
    proc = subprocess.run([sys.executable, "-m", "gradkata", "prairielearn", str(out),
                           "--timeout", "5"], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr
    return out


def question(export, exercise):
    return export / "questions" / "gradkata" / f"{exercise.number}_{exercise.name}"


def _env(**extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GRADKATA", "PYTEST"))}
    env.update(extra)
    return env


@pytest.fixture
def grade(export, tmp_path):
    """Lay out a /grade folder for ``exercise`` with the student's ``files``, grade it."""
    def run(files, exercise="single_neuron", private=None):
        found = catalog.find(exercise)
        folder = tmp_path / "grade"
        shutil.copytree(question(export, found) / "tests", folder / "tests")
        shutil.copytree(export / "serverFilesCourse", folder / "serverFilesCourse")
        for name, text in (private or {}).items():
            (folder / "tests" / "tests" / name).write_text(text)
        (folder / "student").mkdir()
        for name, text in files.items():
            (folder / "student" / name).write_text(text)
        proc = subprocess.run([sys.executable, "-m", "gradkata", "prairielearn-grade",
                               str(folder), "--timeout", "5"], cwd=tmp_path, env=_env(),
                              capture_output=True, text=True, timeout=600)
        results = folder / "results" / "results.json"
        data = json.loads(results.read_text()) if results.exists() else None
        return proc, data, results
    return run


# --------------------------------------------------------------------------
# The export


class _Elements(HTMLParser):
    """Every element's tag and attributes, in order."""

    def __init__(self):
        super().__init__()
        self.found = []

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, dict(attrs)))


def elements(path, tag):
    parser = _Elements()
    parser.feed(path.read_text())
    return [attrs for name, attrs in parser.found if name == tag]


def test_prairielearn_writes_six_externally_graded_questions(export):
    folders = sorted(p.name for p in (export / "questions" / "gradkata").iterdir())
    assert folders == sorted(f"{e.number}_{e.name}" for e in catalog.EXERCISES)
    uuids = set()
    for exercise in catalog.EXERCISES:
        info = json.loads((question(export, exercise) / "info.json").read_text())
        uuids.add(str(uuid.UUID(info["uuid"])))
        assert (info["type"], info["gradingMethod"]) == ("v3", "External")
        assert info["title"] and info["topic"]
        options = info["externalGradingOptions"]
        assert options["enabled"] is True and options["image"]
        assert isinstance(options["timeout"], int) and 0 < options["timeout"] <= 600
        # The entrypoint is a file that serverFilesCourse brings to /grade.
        entrypoint = Path(options["entrypoint"])
        assert entrypoint.parts[:3] == ("/", "grade", "serverFilesCourse")
        shared = [Path(p) for p in options["serverFilesCourse"]]
        assert any(entrypoint.relative_to("/grade/serverFilesCourse").is_relative_to(p)
                   for p in shared)
        for p in shared:
            assert (export / "serverFilesCourse" / p).is_dir()
        script = export / entrypoint.relative_to("/grade")
        assert os.access(script, os.X_OK)
        assert subprocess.run(["bash", "-n", str(script)]).returncode == 0
    assert len(uuids) == len(catalog.EXERCISES)  # one question each


def test_exporting_again_keeps_every_question_s_uuid(export, tmp_path):
    again = tmp_path / "again"
    from gradkata import prairielearn_export

    prairielearn_export.build(again, ROOT)
    for exercise in catalog.EXERCISES:
        first, second = (json.loads((question(out, exercise) / "info.json").read_text())
                         for out in (export, again))
        assert first["uuid"] == second["uuid"]


def test_each_question_edits_its_stub_and_shows_the_grader_s_results(export):
    for exercise in catalog.EXERCISES:
        folder = question(export, exercise)
        html = folder / "question.html"
        editors = elements(html, "pl-file-editor")
        assert [e["file-name"] for e in editors] == [f"{exercise.name}.py"]
        editor = editors[0]
        prefill = folder / editor.get("directory", ".") / editor["source-file-name"]
        assert prefill.read_text() == (ROOT / "exercises" / f"{exercise.name}.py").read_text()
        assert len(elements(html, "pl-external-grader-results")) == 1
        for function in exercise.functions:
            assert f"<code>{function}</code>" in html.read_text()


def test_each_question_s_tests_hold_the_suite_the_reference_and_pytest_s_settings(export):
    for exercise in catalog.EXERCISES:
        tests = question(export, exercise) / "tests"
        suite = tests / "tests" / f"test_{exercise.name}.py"
        assert suite.read_text() == (ROOT / "tests" / suite.name).read_text()
        assert (tests / "solutions" / f"{exercise.name}.py").read_text() == reference(
            exercise.name)
        assert "gradkata_impl" in (tests / "pyproject.toml").read_text()
        # Every helper the suite imports from tests/ is there too.
        for module in re.findall(r"^from (\w+) import", suite.read_text(), re.MULTILINE):
            if (ROOT / "tests" / f"{module}.py").exists():
                assert (tests / "tests" / f"{module}.py").exists(), module
        # The grader finds the exercise from the test file.
        assert [e.name for e in prairielearn.exercises_in(tests)] == [exercise.name]


def test_the_package_to_install_holds_the_kata_s_code_and_no_reference(export):
    kata = export / "serverFilesCourse" / "gradkata" / "kata"
    assert (kata / "pyproject.toml").is_file() and (kata / "gradkata" / "plugin.py").is_file()
    assert not list(kata.rglob("solutions")) and not list(kata.rglob("test_*.py"))


# --------------------------------------------------------------------------
# The grader


def test_the_reference_scores_1_with_its_loss_curve(grade):
    proc, data, results = grade({"single_neuron.py": reference("single_neuron")})
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    validate(data)
    assert data["gradable"] is True and data["score"] == 1.0
    assert all(t["points"] == t["max_points"] > 0 for t in data["tests"])
    assert sum(t["max_points"] for t in data["tests"]) == catalog.find("single_neuron").points
    assert all(t["description"] for t in data["tests"])  # the tests' docstrings
    [image] = data["images"]
    assert "single_neuron.adapt_weights" in image["label"]
    kind, payload = image["url"].split(",", 1)
    assert kind == "data:image/png;base64"
    assert base64.b64decode(payload).startswith(PNG_SIGNATURE)
    assert results.stat().st_size <= prairielearn.RESULTS_LIMIT


def test_a_broken_copy_earns_partial_credit_with_diagnoses(grade):
    proc, data, _ = grade({"single_neuron.py": without_bias()})
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    validate(data)
    earned = sum(t["points"] for t in data["tests"])
    possible = sum(t["max_points"] for t in data["tests"])
    assert 0 < earned < possible
    assert data["score"] == pytest.approx(earned / possible)
    failed = [t for t in data["tests"] if t["points"] < t["max_points"]]
    # Each failure says what was called and what came back.
    assert all("Called single_neuron." in t["message"] for t in failed), failed
    first = failed[0]["name"].split(": ", 1)[1]
    assert f"Start with {first}" in data["message"]


def test_a_step_that_cannot_train_gets_no_loss_curve_and_a_note_why(grade):
    source = reference("single_neuron").replace(
        "def adapt_weights(", "def adapt_weights(*args):\n    return None\n\n\ndef _unused(", 1)
    proc, data, _ = grade({"single_neuron.py": source})
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    validate(data)
    assert data["images"] == []
    assert "No loss curve: your single_neuron.adapt_weights could not draw it. " \
           "Called single_neuron.adapt_weights(" in data["message"]


def test_a_syntax_error_is_not_gradable_and_says_where(grade):
    source = reference("single_neuron").replace("def y_hat(", "def y_hat((", 1)
    proc, data, _ = grade({"single_neuron.py": source})
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    validate(data)
    assert data["gradable"] is False and "score" not in data
    line = next(n for n, text in enumerate(source.splitlines(), 1) if "def y_hat((" in text)
    [reason] = data["format_errors"]
    assert reason.startswith(f"single_neuron.py, line {line}: ")
    assert "does not count" in data["message"]
    assert "pytest" not in proc.stdout  # never graded


def test_a_student_who_prints_megabytes_stays_under_prairielearn_s_limit(grade):
    source = reference("single_neuron").replace(
        "def y_hat(x_1, x_2, w):", "def y_hat(x_1, x_2, w):\n    print('x' * 5_000_000)", 1)
    proc, data, results = grade({"single_neuron.py": source})
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    validate(data)
    assert results.stat().st_size <= prairielearn.RESULTS_LIMIT
    assert data["score"] == 1.0  # printing costs nothing
    assert any(t["output"].startswith("xxx") for t in data["tests"])


def test_a_hidden_test_shows_only_which_exercise_failed(grade):
    private = {"test_single_neuron_private.py": HIDDEN_TEST, "points.toml": HIDDEN_POINTS}
    proc, data, _ = grade({"single_neuron.py": without_bias()}, private=private)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    validate(data)
    [hidden] = [t for t in data["tests"] if "hidden test" in t["name"]]
    assert hidden == {"name": "single_neuron: hidden test 1", "description": "",
                      "points": 0.0, "max_points": 5.0, "output": "",
                      "message": "A hidden test of exercise 1 (single_neuron) failed."}
    text = json.dumps(data)
    assert SECRET_INPUT not in text and "private_point" not in text
    assert "1 more test is graded but not shown here" in data["output"]
    assert SECRET_INPUT in proc.stdout  # the job's log, for course staff


def test_a_grader_that_cannot_grade_writes_no_results_and_fails_the_job(grade):
    broken = {"test_single_neuron_private.py": "import no_such_module_here\n"}
    proc, data, results = grade({"single_neuron.py": reference("single_neuron")},
                                private=broken)
    assert proc.returncode == 1 and data is None and not results.exists()
    assert "pytest ended with status 2" in proc.stdout
    assert "not gradable" in proc.stdout


def test_the_entrypoint_runs_the_grader_on_the_grade_folder(export, tmp_path):
    folder = tmp_path / "grade"
    exercise = catalog.find("learning_rate")
    shutil.copytree(question(export, exercise) / "tests", folder / "tests")
    shutil.copytree(export / "serverFilesCourse", folder / "serverFilesCourse")
    (folder / "student").mkdir()
    (folder / "student" / "learning_rate.py").write_text(reference("learning_rate"))
    # This Python already holds gradkata; as root, the student's code runs as a user
    # that exists here (PrairieLearn's image has its own, `student`).
    user = "root" if os.geteuid() == 0 else ""
    env = _env(GRADKATA_GRADE_DIR=str(folder), GRADKATA_PYTHON=sys.executable,
               GRADKATA_INSTALLED="1", **({"GRADKATA_SANDBOX_USER": user} if user else {}))
    proc = subprocess.run([str(folder / "serverFilesCourse" / "gradkata" / "run.sh")],
                          env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    data = json.loads((folder / "results" / "results.json").read_text())
    validate(data)
    assert data["score"] == 1.0 and data["images"] == []  # no training step to plot


# --------------------------------------------------------------------------
# The 1 MB limit, cut by cut


def _results(printed, message, image):
    return {"gradable": True, "score": 0.5, "message": "1/2 points.", "output": "table",
            "images": [{"label": "loss", "url": "data:image/png;base64," + "A" * image}],
            "tests": [{"name": f"t{i}", "points": 0, "max_points": 1, "description": "",
                       "message": "m" * message, "output": "p" * printed} for i in range(4)]}


def test_what_the_code_printed_is_cut_before_the_loss_curve():
    # 95 kB in all: 80 of printed output, 10 of image, 4 of messages.
    data = prairielearn.fit(_results(printed=20_000, message=1_000, image=10_000), 16_000)
    assert prairielearn.size(data) <= 16_000
    assert all(t["output"] == "" for t in data["tests"]) and data["images"]
    assert all(t["message"] == "m" * 1_000 for t in data["tests"])
    assert "the grader cut: what your code printed, to 500 characters a test; " \
           "what your code printed." in data["message"]


def test_the_diagnoses_are_cut_last():
    data = prairielearn.fit(_results(printed=20_000, message=3_000, image=10_000), 8_000)
    assert prairielearn.size(data) <= 8_000
    assert data["images"] == [] and all(len(t["message"]) < 600 for t in data["tests"])
    assert "the loss curve; each test's message, to 500 characters." in data["message"]


def test_anything_the_code_printed_can_be_written_and_is_counted_in_bytes(tmp_path):
    data = _results(printed=10, message=10, image=10)
    data["tests"][0]["output"] = "\udc80 lone surrogate, \u00e9, \u2603, \x00"
    path = tmp_path / "results.json"
    path.write_text(prairielearn.encode(data))
    assert path.stat().st_size == prairielearn.size(data)
    assert json.loads(path.read_text())["tests"][0]["output"] == data["tests"][0]["output"]


def test_results_that_fit_are_left_whole():
    before = _results(printed=100, message=100, image=100)
    assert prairielearn.fit(json.loads(json.dumps(before)), 100_000) == before


def test_syntax_problems_name_the_line_and_only_parse(tmp_path):
    path = tmp_path / "m.py"
    path.write_text("import os\nos.remove('nothing')\ndef f(:\n    pass\n")
    problem = prairielearn.syntax_problem(path, "m.py")
    assert problem.startswith("m.py, line 3: ")
    path.write_text("raise SystemExit('ran')\n")
    assert prairielearn.syntax_problem(path, "m.py") is None  # parsed, never run


def test_both_commands_refuse_what_they_cannot_use(tmp_path, monkeypatch, capsys):
    from gradkata import prairielearn_export

    monkeypatch.chdir(tmp_path)  # not inside a kata
    assert prairielearn_export.main([str(tmp_path / "out")]) == 2
    assert "not inside a gradkata project" in capsys.readouterr().err
    assert prairielearn.main([str(tmp_path / "missing")]) == 2
    assert "is not a folder" in capsys.readouterr().err


def test_a_question_takes_the_private_tests_points_with_its_tests(tmp_path):
    from gradkata import prairielearn_export

    tests = tmp_path / "tests"
    tests.mkdir()
    for name in ("test_single_neuron.py", "test_single_neuron_private.py", "shared_checks.py"):
        (tests / name).write_text("")
    exercise = catalog.find("single_neuron")
    without = prairielearn_export.suite_files(tmp_path, exercise)
    assert Path("tests/points.toml") not in without
    (tests / "points.toml").write_text(HIDDEN_POINTS)
    assert prairielearn_export.suite_files(tmp_path, exercise) == [*without,
                                                                  Path("tests/points.toml")]
