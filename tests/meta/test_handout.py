"""``gradkata handout``: the learners' copy holds no reference code, installs with pip in
a fresh virtualenv, scores the stubs 0 and the reference 100, and says what the full kata
says about the zoo's mutants.

The handout is built once for the module (the build runs the graded suite twice to record
the reference's answers). Building it, installing it and running the zoo in it are slow:
marked ``slow``, run once by tox.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path
from typing import Dict, List

import pytest

from gradkata import authoring, catalog, recorded

sys.path.insert(0, str(Path(__file__).resolve().parent))
import zoo  # noqa: E402

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]

ROOT = Path(__file__).resolve().parents[2]
NAMES = [e.name for e in catalog.EXERCISES]


def _env() -> Dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("GRADKATA_IMPL", "HYPOTHESIS_PROFILE")}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


@pytest.fixture(scope="module")
def handout(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("handout") / "kata"
    proc = subprocess.run([sys.executable, "-m", "gradkata", "handout", str(out)], cwd=ROOT,
                          capture_output=True, text=True, env=_env(), timeout=900)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return out


def _texts(folder: Path) -> Dict[str, str]:
    """Every file of ``folder`` that reads as text, by relative path."""
    found = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            try:
                found[str(path.relative_to(folder))] = path.read_text(encoding="utf-8")
            except UnicodeDecodeError:
                found[str(path.relative_to(folder))] = path.read_bytes().decode("latin-1")
    return found


def _squeezed(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _shown_to_learners() -> str:
    """What the full kata already shows learners: stubs, notebooks, graded tests, hints
    (whose last tier quotes code on purpose)."""
    paths = [*ROOT.glob("exercises/*.py"), *ROOT.glob("notebooks/*.ipynb"),
             *ROOT.glob("tests/*.py"), ROOT / "gradkata" / "kata.toml"]
    return "\n".join(p.read_text(encoding="utf-8") for p in paths)


def _distinctive_lines(name: str) -> List[str]:
    """The reference's code lines that learners are not shown anyway (comments and short,
    generic lines such as a bare loop header aside)."""
    shown = _shown_to_learners()
    lines = []
    for function in authoring.read(name, ROOT).functions:
        for line in function.solution.splitlines():
            code = line.strip()
            if len(code) >= 24 and not code.startswith("#") and code not in shown:
                lines.append(code)
    return lines


def test_the_handout_holds_no_function_of_the_reference(handout):
    assert not (handout / "solutions").exists()
    assert not (handout / "tests" / "meta").exists()
    texts = _texts(handout)
    squeezed = {path: _squeezed(text) for path, text in texts.items()}
    leaks = []
    for name in NAMES:
        exercise = authoring.read(name, ROOT)
        for function in exercise.functions:
            body = _squeezed(function.solution)
            leaks += [f"{name}.{function.name}'s body in {path}"
                      for path, text in squeezed.items() if body and body in text]
        for line in _distinctive_lines(name):
            leaks += [f"{name}'s line {line!r} in {path}"
                      for path, text in texts.items() if line in text]
    assert not leaks, "\n".join(leaks)


def test_the_leak_check_finds_a_reference_line_where_there_is_one():
    """The check above can fail: each exercise has lines it looks for, found in solutions/."""
    for name in NAMES:
        lines = _distinctive_lines(name)
        source = (ROOT / "solutions" / f"{name}.py").read_text(encoding="utf-8")
        assert lines and all(line in source for line in lines), name


def test_the_answers_table_is_data_only(handout):
    table = json.loads((handout / recorded.ANSWERS).read_text(encoding="utf-8"))
    assert set(table["exercises"]) == set(NAMES)
    for entry in table["exercises"].values():
        for answers in entry["answers"].values():
            for value in answers.values():
                recorded.decode(value)  # numbers, arrays, strings: or it raises


@pytest.fixture(scope="module")
def fresh_python(handout, tmp_path_factory) -> Path:
    """A new virtualenv with the handout installed by pip (editable, as learners do).

    The fresh virtualenv sees this environment's installed packages (numpy, pytest,
    hypothesis) through a .pth file instead of installing them again: pip installs
    with --no-deps (and --ignore-installed, as this environment's own gradkata is
    visible through the .pth). pip still builds the handout in an isolated build
    environment, with setuptools from the configured index. What is under test is
    the handout's own packaging, and that the package imported is the handout's.
    """
    venv = tmp_path_factory.mktemp("venv") / "v"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    python = venv / "bin" / "python"
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()"
                           "['purelib'])"], capture_output=True, text=True, check=True).stdout
    Path(site.strip(), "gradkata-test-env.pth").write_text(sysconfig.get_paths()["purelib"]
                                                          + "\n")
    proc = subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-deps",
                           "--ignore-installed", "-e", "."], cwd=handout, capture_output=True,
                          text=True, env=_env(), timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return python


def _graded(python: Path, handout: Path, tmp_path: Path, *args: str) -> List[Dict]:
    raw = tmp_path / "raw.json"
    # "=" and a test path: a bare option value would be taken for a path by pytest's
    # search for its configuration.
    proc = subprocess.run([str(python), "-m", "pytest", "-p", "no:cacheprovider",
                           f"--gradkata-raw={raw}", *args, "tests"], cwd=handout,
                          capture_output=True, text=True, env=_env(), timeout=600)
    assert raw.exists(), proc.stdout[-3000:] + proc.stderr[-3000:]
    return json.loads(raw.read_text())["results"]


def test_the_handout_installs_and_scores_the_stubs_zero(fresh_python, handout, tmp_path):
    where = subprocess.run([str(fresh_python), "-c", "import gradkata; print(gradkata.__file__)"],
                           cwd=tmp_path, capture_output=True, text=True, check=True).stdout
    assert Path(where.strip()).resolve().is_relative_to(handout.resolve())
    results = _graded(fresh_python, handout, tmp_path)
    assert len(results) == len(_graded(Path(sys.executable), ROOT, tmp_path))
    assert {r["status"] for r in results} == {"not started"}


def test_the_handout_gives_full_marks_to_a_correct_implementation(fresh_python, handout,
                                                                 tmp_path):
    for name in NAMES:
        shutil.copy(ROOT / "solutions" / f"{name}.py", handout / "exercises" / f"{name}.py")
    try:
        results = _graded(fresh_python, handout, tmp_path)
        bad = [(r["name"], r["status"], r["message"]) for r in results if r["status"] != "passed"]
        assert results and not bad, bad
        listing = subprocess.run([str(fresh_python), "-m", "gradkata", "list"], cwd=handout,
                                 capture_output=True, text=True, env=_env(), timeout=600)
        assert listing.returncode == 0 and "100/100" in listing.stdout, listing.stdout
        solution = subprocess.run([str(fresh_python), "-m", "gradkata", "solution", "1"],
                                  cwd=handout, capture_output=True, text=True, env=_env(),
                                  timeout=600)
        assert solution.returncode == 1
        assert "not part of this copy of the kata" in solution.stdout
    finally:
        for name in NAMES:
            shutil.copy(ROOT / "exercises" / f"{name}.py", handout / "exercises" / f"{name}.py")


def _sample() -> List[zoo.Case]:
    """The first mutant of every function, and the first correct rewrite of each exercise."""
    chosen: Dict[object, zoo.Case] = {}
    for name in zoo.exercises():
        for case in zoo.cases(name):
            key = (name, case.function) if case.mutant else (name, "alternative")
            chosen.setdefault(key, case)
    return list(chosen.values())


def test_the_handout_says_what_the_full_kata_says_about_the_zoo(handout):
    sample = _sample()
    assert len(sample) >= len(catalog.EXERCISES) + 16
    differ = []
    fulls = zoo.run_cases(sample, jobs=2)
    copies = zoo.run_cases(sample, root=handout, jobs=2)
    for case, full, copy in zip(sample, fulls, copies):
        assert not full.error and not copy.error, (full.error, copy.error)
        if (full.failed, full.messages) != (copy.failed, copy.messages):
            differ.append(f"{case.exercise}.{case.function} '{case.name}':\n"
                          f"  full kata: {full.failed} {full.messages}\n"
                          f"  handout:   {copy.failed} {copy.messages}")
    assert not differ, "\n".join(differ)
