"""The notebooks: generated from the one source, graded like modules, checked in a real kernel.

The fast tests read and write notebook files. The tests marked ``slow`` start a
Jupyter kernel per notebook (nbclient) and run it top to bottom, as a learner
would; they need ipykernel, nbclient and nbformat (the ``test`` extra).
"""

from __future__ import annotations

import csv
import html
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Dict, List

import pytest

from gradkata import authoring, catalog, notebooks

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"


def exercise_notebook(entry: catalog.Exercise) -> Dict:
    return json.loads((NOTEBOOKS / notebooks.file_name(entry)).read_text(encoding="utf-8"))


def solved(entry: catalog.Exercise) -> Dict:
    """The exercise's notebook with the reference's functions in its function cells."""
    nb = exercise_notebook(entry)
    functions = {f.name: f for f in authoring.read(entry.name, ROOT).functions}
    for cell in nb["cells"]:
        if cell["id"] in functions:
            cell["source"] = functions[cell["id"]].reference
    return nb


def write_notebook(folder: Path, name: str, nb: Dict) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(json.dumps(nb), encoding="utf-8")
    return path


def clean_env() -> Dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "GRADKATA_IMPL"}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


# --------------------------------------------------------------------------
# Generated from the one source


def test_committed_notebooks_are_what_the_generator_makes():
    assert notebooks.stale(ROOT) == [], "run `python -m gradkata.notebooks`"
    assert sorted(p.name for p in NOTEBOOKS.glob("*.ipynb")) == sorted(
        notebooks.file_name(e) for e in catalog.EXERCISES)


def test_the_generators_check_names_a_notebook_that_drifted(tmp_path, capsys):
    shutil.copytree(ROOT / "solutions", tmp_path / "solutions")
    shutil.copytree(NOTEBOOKS, tmp_path / "notebooks")
    assert notebooks.main(["--check", "--root", str(tmp_path)]) == 0
    path = tmp_path / "solutions" / "learning_rate.py"
    path.write_text(path.read_text().replace('"""', '"""Edited. ', 1))  # the story changed
    capsys.readouterr()
    assert notebooks.main(["--check", "--root", str(tmp_path)]) == 1
    assert "notebooks/6_learning_rate.ipynb is not what solutions/ generates" in \
        capsys.readouterr().out
    assert notebooks.main(["--root", str(tmp_path)]) == 0
    assert notebooks.stale(tmp_path) == []


@pytest.mark.parametrize("entry", catalog.EXERCISES, ids=catalog.NAMES)
def test_a_notebook_holds_the_story_an_imports_cell_the_stubs_and_a_check(entry):
    exercise = authoring.read(entry.name, ROOT)
    cells = exercise_notebook(entry)["cells"]
    code = {c["id"]: "".join(c["source"]) for c in cells if c["cell_type"] == "code"}
    text = "".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    assert list(code) == ["imports", *entry.functions, "check"]
    for function in exercise.functions:
        assert code[function.name] == function.stub.rstrip("\n")
        assert f"## `{function.name}`" in text
    for line in exercise.imports:
        assert line in code["imports"]
    assert code["check"] == f"%load_ext gradkata\n%gradkata check {entry.name}"
    assert exercise.docstring.splitlines()[0] in text
    assert re.search(r"(?i)\bseed", text) is None  # the learner has no seed to look up
    # reStructuredText's ``literals`` became Markdown's `code` (fences aside)
    assert re.search(r"(?<!`)``(?!`)", text) is None
    assert all(not c.get("outputs") and c.get("execution_count") is None
               for c in cells if c["cell_type"] == "code")


def test_docstrings_become_markdown():
    doc = """Step once.

    The update::

        w_next = w - lr * g

    Parameters
    ----------
    w : ndarray of shape (3,)
        The weights ``[w1, w2, b]``.

    Returns
    -------
    ndarray
        The new weights.
    """
    assert notebooks.markdown(doc) == (
        "Step once.\n\nThe update:\n\n```\nw_next = w - lr * g\n```\n\n**Parameters**\n\n"
        "- **w** : ndarray of shape (3,)  \n  The weights `[w1, w2, b]`.\n\n**Returns**\n\n"
        "- ndarray  \n  The new weights.\n")


# --------------------------------------------------------------------------
# Code cells to modules


SINGLE = catalog.find("single_neuron")
assert SINGLE is not None


def test_a_cells_imports_and_defs_make_the_module_and_the_rest_is_left_out():
    cells = ["%load_ext gradkata\nimport gradkata\nimport numpy as np\nprint('hello')",
             "@staticmethod\ndef helper(x):\n    return 2 * x\n\nLIMIT = 3\nhelper(LIMIT)",
             "def y_hat(x_1, x_2, w):\n    return helper(x_1)",
             "from __future__ import annotations"]
    kept = [p for n, c in enumerate(cells, 1) for p in notebooks.pieces(c, f"cell {n}", True)]
    text = notebooks.module_text(SINGLE, kept, "a notebook")
    compile(text, "single_neuron.py", "exec")  # __future__ first, or this would fail
    assert text.splitlines()[1] == "from __future__ import annotations"
    assert "import numpy as np" in text and "@staticmethod\ndef helper(x)" in text
    for left_out in ("gradkata\n", "print(", "LIMIT = 3", "helper(LIMIT)"):
        assert left_out not in text
    # The functions no cell defines are stubs that say "not started".
    for name in ("gradient_w1", "gradient_w2", "gradient_b", "adapt_weights"):
        assert f'raise NotImplementedError("single_neuron.{name}: not started")' in text
    assert "def y_hat(*args" not in text


def test_a_cell_that_does_not_parse_is_kept_from_a_file_and_skipped_from_a_kernel():
    broken = "def y_hat(x_1, x_2, w)\n    return 0.0"
    from_file = notebooks.pieces(broken, "cell 1", keep_broken=True)
    assert [p.text for p in from_file] == [broken]
    with pytest.raises(SyntaxError):
        compile(notebooks.module_text(SINGLE, from_file, "a notebook"), "m.py", "exec")
    assert notebooks.pieces(broken, "cell 1", keep_broken=False) == []


def test_a_kernel_writes_the_modules_of_the_exercises_it_defined(tmp_path):
    cells = ["import numpy as np",
             "def twice(x):\n    return 2 * x",
             "def critical_learning_rate(x):\n    return twice(x)",
             "def y_hat(x_1, x_2, w):\n    return 0.0"]
    written = notebooks.kernel_modules(cells, tmp_path)
    assert list(written) == ["single_neuron", "learning_rate"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["learning_rate.py",
                                                         "single_neuron.py"]
    learning_rate = (tmp_path / "learning_rate.py").read_text()
    assert "def twice" in learning_rate and "def y_hat" not in learning_rate
    assert "def critical_learning_rate" not in (tmp_path / "single_neuron.py").read_text()


def test_the_checked_exercise_gets_a_module_of_stubs_when_no_cell_defined_it(tmp_path):
    assert list(notebooks.kernel_modules(["import numpy as np"], tmp_path,
                                         always=["vectorized"])) == ["vectorized"]
    text = (tmp_path / "vectorized.py").read_text()
    assert 'raise NotImplementedError("vectorized.backward: not started")' in text


def test_the_checks_traceback_names_the_cell_and_its_line(monkeypatch):
    history = ["", "import numpy as np",
               "# my first try\ndef y_hat(x_1, x_2, w):\n    a = 1\n    return a / 0"]
    monkeypatch.setattr(notebooks, "_history", lambda: history)
    report = notebooks.check("single_neuron", plot=False)
    shown = report._repr_html_()
    assert "1 single_neuron: in progress, 0/" in shown
    assert "<b>Failed: test_y_hat_matches_the_storys_values</b>" in shown
    assert "raised ZeroDivisionError" in shown
    assert "Cell In[2], line 4, in y_hat" in shown and ".py&quot;" not in shown
    assert repr(report).startswith("1 single_neuron: in progress")


def test_the_check_needs_a_kernel_and_a_known_exercise():
    with pytest.raises(ValueError, match="there is no exercise 'seven'"):
        notebooks.check("seven")
    with pytest.raises(RuntimeError, match="Jupyter"):
        notebooks.check("single_neuron")


def test_a_folder_of_modules_is_graded_as_it_is(tmp_path):
    (tmp_path / "single_neuron.py").write_text("")
    assert notebooks.modules_from(tmp_path) == tmp_path


def test_a_folder_of_notebooks_becomes_a_temporary_folder_of_modules(tmp_path):
    write_notebook(tmp_path, "1_single_neuron.ipynb", solved(SINGLE))
    write_notebook(tmp_path, "Untitled.ipynb", solved(SINGLE))  # named after no exercise
    cleanups: List = []
    folder = notebooks.modules_from(tmp_path, cleanups.append)
    assert folder != tmp_path and [p.name for p in folder.iterdir()] == ["single_neuron.py"]
    assert "def adapt_weights(" in (folder / "single_neuron.py").read_text()
    cleanups[0]()
    assert not folder.exists()


def test_two_notebooks_of_one_exercise_are_refused(tmp_path):
    write_notebook(tmp_path, "1_single_neuron.ipynb", solved(SINGLE))
    write_notebook(tmp_path, "single_neuron.ipynb", solved(SINGLE))
    with pytest.raises(notebooks.NotebookProblem, match="two notebooks for single_neuron"):
        notebooks.modules_from(tmp_path)


def test_pytest_refuses_a_folder_of_modules_and_notebooks(tmp_path):
    write_notebook(tmp_path, "1_single_neuron.ipynb", solved(SINGLE))
    (tmp_path / "vectorized.py").write_text("")
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", f"--impl={tmp_path}",
         "tests/test_single_neuron.py"],
        cwd=ROOT, capture_output=True, text=True, env=clean_env(), timeout=300)
    assert proc.returncode == pytest.ExitCode.USAGE_ERROR
    assert "holds exercise modules (vectorized.py) and notebooks (1_single_neuron.ipynb): " \
        "grade one or the other" in proc.stderr


def test_gradkata_grade_scores_notebooks_as_it_scores_the_same_code_as_modules(tmp_path):
    """Solved notebooks, the same functions as modules, and the untouched notebooks."""
    as_notebooks, as_modules = tmp_path / "as_notebooks", tmp_path / "as_modules"
    as_modules.mkdir()
    half = catalog.EXERCISES[:3]  # solved; the rest left as generated
    for entry in catalog.EXERCISES:
        nb = solved(entry) if entry in half else exercise_notebook(entry)
        write_notebook(as_notebooks, notebooks.file_name(entry), nb)
        exercise = authoring.read(entry.name, ROOT)
        (as_modules / f"{entry.name}.py").write_text(
            exercise.reference if entry in half else exercise.stub)
    untouched = NOTEBOOKS
    out = tmp_path / "grades.csv"
    proc = subprocess.run(
        [sys.executable, "-m", "gradkata", "grade", str(as_notebooks), str(as_modules),
         str(untouched), "--csv", str(out), "--jobs", "2"],
        cwd=ROOT, capture_output=True, text=True, env=clean_env(), timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = {row["submission"]: row for row in csv.DictReader(out.open())}
    scores = {name: {k: v for k, v in row.items() if k not in ("submission", "student_id")}
              for name, row in rows.items()}
    assert scores["as_notebooks"] == scores["as_modules"]
    half_points = sum(e.points for e in half)
    assert float(scores["as_notebooks"]["score"]) == half_points
    assert float(scores["notebooks"]["score"]) == 0


# --------------------------------------------------------------------------
# In a real kernel (slow: one kernel per notebook)


def _html(cell) -> str:
    return "".join(o.get("data", {}).get("text/html", "") for o in cell.outputs)


def _code_cell(source: str):
    import nbformat

    return nbformat.v4.new_code_cell(source)


@pytest.fixture
def this_python_kernel(tmp_path, monkeypatch) -> str:
    """A kernel spec that runs this Python (which has gradkata), whatever other kernel
    specs the machine has: JUPYTER_PATH is searched before the user's own folders."""
    pytest.importorskip("ipykernel")
    spec = tmp_path / "jupyter" / "kernels" / "gradkata-test"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "gradkata test", "language": "python"}))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    return "gradkata-test"


def _run_in_kernel(kernel: str, entry: catalog.Exercise, extra_cells: List[str]) -> List[str]:
    """Run the notebook top to bottom in a fresh kernel, then each of ``extra_cells``;
    the HTML each check showed: the notebook's own check first."""
    nbclient = pytest.importorskip("nbclient")
    nbformat = pytest.importorskip("nbformat")
    nb = nbformat.read(str(NOTEBOOKS / notebooks.file_name(entry)), as_version=4)
    client = nbclient.NotebookClient(nb, timeout=300, kernel_name=kernel,
                                     resources={"metadata": {"path": str(NOTEBOOKS)}})
    shown = []
    with client.setup_kernel(env=clean_env()):
        for index, cell in enumerate(nb.cells):
            client.execute_cell(cell, index)
        shown.append(_html(nb.cells[-1]))
        for source in extra_cells:
            cell = _code_cell(source)
            nb.cells.append(cell)
            client.execute_cell(cell, len(nb.cells) - 1)
            if "gradkata check" in source or "gradkata.check(" in source:
                shown.append(_html(cell))
    return shown


@pytest.mark.slow
@pytest.mark.parametrize("entry", catalog.EXERCISES, ids=catalog.NAMES)
def test_a_notebook_runs_not_started_then_full_marks_with_the_reference(entry,
                                                                        this_python_kernel):
    exercise = authoring.read(entry.name, ROOT)
    extra = [f.reference for f in exercise.functions] + [f"%gradkata check {entry.name}"]
    if entry.name == "learning_rate":
        # A function that never returns: stopped by the suite's limit, reported as pytest does.
        extra += [ENDLESS, f"import gradkata\ngradkata.check('{entry.name}', time_limit=1)"]
    shown = _run_in_kernel(this_python_kernel, entry, extra)
    first, solved_check = shown[0], shown[1]
    assert f"{entry.number} {entry.name}: not started, 0/" in first
    assert "Not started: " in first and "Failed" not in first
    assert (f"{entry.number} {entry.name}: done, " in solved_check
            and f"{entry.points:g}/{entry.points:g} points" in solved_check)
    has_plot = "data:image/png;base64," in solved_check
    assert has_plot == (entry.name in notebooks.LOSS_PLOTTED)
    if entry.name == "learning_rate":
        # The check returned, and says what pytest says of the same code.
        looped = shown[2]
        said = pytest_first_problem(exercise.reference + "\n\n" + ENDLESS, entry.name, 1)
        assert "was still running after 1 s and was stopped" in said
        assert f"<b>Failed: {said_test(said)}</b>" in looped
        assert html.escape(said.split("\n", 1)[1]) in looped


ENDLESS = "def classify_learning_rate(*args, **kwargs):\n    while True:\n        pass\n"


def pytest_first_problem(module: str, name: str, time_limit: float) -> str:
    """'<test name>\\n<message>' of the first failure pytest reports for ``module``."""
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        Path(folder, f"{name}.py").write_text(module)
        raw = Path(folder).with_suffix(".json")
        try:
            subprocess.run(
                [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", f"--impl={folder}",
                 "-o", f"timeout={time_limit:g}", "--gradkata-raw", str(raw),
                 f"tests/test_{name}.py"],
                cwd=ROOT, capture_output=True, env=clean_env(), timeout=300)
            results = json.loads(raw.read_text())["results"]
        finally:
            raw.unlink(missing_ok=True)
    failed = next(r for r in results if r["status"] == "failed")
    return f"{failed['name']}\n{failed['message']}"


def said_test(said: str) -> str:
    return said.split("\n", 1)[0]


def test_the_checks_that_draw_a_loss_curve_are_the_exercises_plots_can_draw():
    from gradkata import plots

    assert set(notebooks.LOSS_PLOTTED) == set(plots.LOSS_SETUPS)


# --------------------------------------------------------------------------
# gradkata notebooks


def test_gradkata_notebooks_says_what_to_install_without_jupyterlab(monkeypatch, capsys):
    from gradkata import cli

    monkeypatch.setitem(sys.modules, "jupyterlab", None)  # import jupyterlab fails
    monkeypatch.chdir(ROOT)
    assert cli.main(["notebooks"]) == 1
    assert 'python -m pip install -e ".[notebooks]"' in capsys.readouterr().err


def test_gradkata_notebooks_starts_jupyterlab_in_the_notebooks_folder(monkeypatch):
    from gradkata import cli

    started = []
    monkeypatch.setitem(sys.modules, "jupyterlab", type(sys)("jupyterlab"))
    monkeypatch.setattr(subprocess, "call", lambda cmd, cwd: started.append((cmd, cwd)) or 0)
    monkeypatch.chdir(ROOT / "tests")
    assert cli.main(["notebooks"]) == 0
    assert started == [([sys.executable, "-m", "jupyter", "lab"], str(NOTEBOOKS))]
