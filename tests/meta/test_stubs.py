"""The untouched exercises: every graded test fails or is "not started", the score is 0,
every stub raises NotImplementedError under a ``# TODO``, and exercises/ mirrors solutions/.

Like rustlings' CI, this also fails when an exercise is already solved: each
exercise's stub, graded beside the reference for everything else, earns nothing.
"""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Dict, List

import pytest

from gradkata import catalog

# These run whole pytest sessions in subprocesses: far past the graded tests' 10 s.
pytestmark = pytest.mark.timeout(900)

ROOT = Path(__file__).resolve().parents[2]
EXERCISES = ROOT / "exercises"
SOLUTIONS = ROOT / "solutions"
NAMES = [e.name for e in catalog.EXERCISES]
NOT_PASSED = {"not started", "failed"}


def run_pytest(*args: str, raw: Path) -> subprocess.CompletedProcess:
    """The graded suite in a subprocess, with the per-test results written to ``raw``."""
    env = {k: v for k, v in os.environ.items() if k != "GRADKATA_IMPL"}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--gradkata-raw", str(raw),
         *args],
        cwd=ROOT, capture_output=True, text=True, env=env, timeout=600)


def results_of(raw: Path, proc: subprocess.CompletedProcess) -> List[Dict]:
    assert raw.exists(), f"pytest wrote no results (exit {proc.returncode}):\n{proc.stdout[-3000:]}"
    return json.loads(raw.read_text())["results"]


def public_functions(path: Path) -> Dict[str, ast.FunctionDef]:
    tree = ast.parse(path.read_text(), filename=str(path))
    return {node.name: node for node in tree.body
            if isinstance(node, ast.FunctionDef) and not node.name.startswith("_")}


# --------------------------------------------------------------------------
# (1) The graded suite on the untouched exercises/


@pytest.fixture(scope="module")
def untouched(tmp_path_factory):
    raw = tmp_path_factory.mktemp("untouched") / "raw.json"
    proc = run_pytest(raw=raw)  # the default implementation: exercises/
    return proc, results_of(raw, proc)


def test_untouched_exercises_pass_no_graded_test_and_score_zero(untouched):
    proc, results = untouched
    assert results, "the graded suite collected no test"
    passed = [r["nodeid"] for r in results if r["status"] == "passed"]
    assert not passed, f"these graded tests pass on the untouched stubs: {passed}"
    others = {r["nodeid"]: r["status"] for r in results if r["status"] not in NOT_PASSED}
    assert not others, f"graded tests neither failed nor 'not started': {others}"
    assert sum(r["points"] for r in results if r["status"] == "passed") == 0
    assert proc.returncode == 1, proc.stdout[-3000:]
    total = [line.split() for line in proc.stdout.splitlines() if line.startswith("total ")]
    assert total and total[-1][1].startswith("0/"), proc.stdout[-3000:]


def test_untouched_exercises_show_no_traceback(untouched):
    proc, _ = untouched
    assert "Traceback" not in proc.stdout + proc.stderr


def test_every_exercise_has_graded_tests(untouched):
    _, results = untouched
    graded = {r["exercise"] for r in results}
    missing = [name for name in NAMES if name not in graded]
    assert not missing, f"exercises with no graded test: {missing}"


# --------------------------------------------------------------------------
# (2) Every stub says what to do and raises NotImplementedError

CALL_EVERY_STUB = textwrap.dedent("""
    import importlib.util, inspect, json, sys
    out = {}
    for path in sys.argv[1:]:
        name = path.rsplit("/", 1)[-1][:-3]
        spec = importlib.util.spec_from_file_location("stub_" + name, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        for fname, func in vars(module).items():
            if fname.startswith("_") or not inspect.isfunction(func):
                continue
            if func.__module__ != module.__name__:
                continue
            params = inspect.signature(func).parameters.values()
            args = [None for p in params if p.default is p.empty
                    and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
            kwargs = {p.name: None for p in params if p.default is p.empty
                      and p.kind == p.KEYWORD_ONLY}
            try:
                value = func(*args, **kwargs)
                out[name + "." + fname] = "returned " + repr(value)[:200]
            except NotImplementedError as exc:
                out[name + "." + fname] = "NotImplementedError: " + str(exc)
            except BaseException as exc:
                out[name + "." + fname] = type(exc).__name__ + ": " + str(exc)[:200]
    print(json.dumps(out))
""")


@pytest.fixture(scope="module")
def stub_calls() -> Dict[str, str]:
    paths = [str(EXERCISES / f"{name}.py") for name in NAMES]
    proc = subprocess.run([sys.executable, "-c", CALL_EVERY_STUB, *paths], cwd=EXERCISES,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.splitlines()[-1])


@pytest.mark.parametrize("name", NAMES)
def test_every_public_stub_raises_not_implemented_when_called(name, stub_calls):
    functions = public_functions(EXERCISES / f"{name}.py")
    assert functions, f"exercises/{name}.py defines no function"
    for fname in functions:
        outcome = stub_calls.get(f"{name}.{fname}", "was not called")
        assert outcome.startswith("NotImplementedError"), f"{name}.{fname}: {outcome}"


@pytest.mark.parametrize("name", NAMES)
def test_every_public_stub_has_a_todo(name):
    path = EXERCISES / f"{name}.py"
    lines = path.read_text().splitlines()
    for fname, node in public_functions(path).items():
        body = lines[node.lineno - 1:node.end_lineno]
        assert any("# TODO" in line for line in body), f"{name}.{fname} has no '# TODO'"
        last = node.body[-1]
        assert isinstance(last, ast.Raise) and "NotImplementedError" in ast.unparse(last), (
            f"{name}.{fname} does not end with raise NotImplementedError(...)")


@pytest.mark.parametrize("name", NAMES)
def test_every_catalog_function_is_a_stub(name):
    exercise = catalog.find(name)
    assert exercise is not None
    functions = public_functions(EXERCISES / f"{name}.py")
    missing = [f for f in exercise.functions if f not in functions]
    assert not missing, f"exercises/{name}.py lacks {missing}, named in the catalog"


# --------------------------------------------------------------------------
# (3) exercises/ and solutions/ mirror each other


def test_exercises_and_solutions_hold_the_same_files():
    stubs = sorted(p.name for p in EXERCISES.glob("*.py"))
    references = sorted(p.name for p in SOLUTIONS.glob("*.py"))
    assert stubs == references
    assert sorted(f"{name}.py" for name in NAMES) == [s for s in stubs if s != "__init__.py"]


@pytest.mark.parametrize("name", NAMES)
def test_stub_and_reference_share_docstrings_and_signatures(name):
    stub_tree = ast.parse((EXERCISES / f"{name}.py").read_text())
    reference_tree = ast.parse((SOLUTIONS / f"{name}.py").read_text())
    assert ast.get_docstring(stub_tree), f"exercises/{name}.py has no module docstring"
    assert ast.get_docstring(stub_tree) == ast.get_docstring(reference_tree), (
        f"{name}: the module docstrings differ")
    stubs = public_functions(EXERCISES / f"{name}.py")
    references = public_functions(SOLUTIONS / f"{name}.py")
    assert list(stubs) == list(references), f"{name}: different public functions, or order"
    for fname, stub in stubs.items():
        reference = references[fname]
        assert ast.unparse(stub.args) == ast.unparse(reference.args), (
            f"{name}.{fname}: parameters ({ast.unparse(stub.args)}) differ from the "
            f"reference's ({ast.unparse(reference.args)})")
        assert ast.get_docstring(stub), f"{name}.{fname} has no docstring"
        assert ast.get_docstring(stub) == ast.get_docstring(reference), (
            f"{name}.{fname}: the docstrings differ")


# --------------------------------------------------------------------------
# (4) No exercise is already solved, and each exercise stands on its own


def mixed_folder(tmp_path: Path, base: Path, name: str, replacement: Path) -> Path:
    """``base``'s modules with ``name``.py taken from ``replacement``."""
    folder = tmp_path / f"{base.name}-but-{name}"
    folder.mkdir()
    for path in base.glob("*.py"):
        shutil.copy(path, folder)
    shutil.copy(replacement / f"{name}.py", folder)
    return folder


@pytest.mark.parametrize("name", NAMES)
def test_no_exercise_is_already_solved(name, tmp_path):
    test_file = ROOT / "tests" / f"test_{name}.py"
    assert test_file.exists(), f"{name} has no graded test file tests/test_{name}.py"
    folder = mixed_folder(tmp_path, SOLUTIONS, name, EXERCISES)
    raw = tmp_path / "raw.json"
    proc = run_pytest(f"--impl={folder}", str(test_file), raw=raw)
    results = results_of(raw, proc)
    assert results
    passed = [r["nodeid"] for r in results if r["status"] == "passed"]
    assert not passed, f"the stub of {name} already passes {passed}"
    assert proc.returncode == 1


@pytest.mark.parametrize("name", NAMES)
def test_each_exercise_is_graded_on_its_own_module_only(name, tmp_path):
    folder = mixed_folder(tmp_path, EXERCISES, name, SOLUTIONS)
    raw = tmp_path / "raw.json"
    # One argument: pytest takes a separate path argument as a hint to its rootdir.
    proc = run_pytest(f"--impl={folder}", raw=raw)
    results = results_of(raw, proc)
    mine = [r for r in results if r["exercise"] == name]
    assert mine, f"{name} has no graded test"
    failing = {r["nodeid"]: r["message"][-500:] for r in mine if r["status"] != "passed"}
    assert not failing, f"{name}'s reference beside the other stubs fails: {failing}"
    passed = [r["nodeid"] for r in results if r["exercise"] != name and r["status"] == "passed"]
    assert not passed, f"with only {name} solved, other exercises' tests pass: {passed}"
