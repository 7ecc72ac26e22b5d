"""One source for stubs and reference (gradkata/authoring.py), and what the learner reads.

- exercises/ is exactly what ``python -m gradkata.authoring`` generates from solutions/;
- the generator turns a marked block into the stub's raise and refuses broken markers;
- a stub states the goal, not the steps: at most 3 comment lines a function, no numpy
  call named; the steps live in the hints, four or more an exercise, the first without code;
- learner-facing text tells the stories in the kata's own words: it never cites a seed,
  a seed's file or a figure the learner does not have.
"""

from __future__ import annotations

import ast
import io
import re
import shutil
import tokenize
from pathlib import Path
from typing import Iterator, List, Tuple

import numpy as np
import pytest

from gradkata import authoring, catalog, hints

ROOT = Path(__file__).resolve().parents[2]
NAMES = [e.name for e in catalog.EXERCISES]


# --------------------------------------------------------------------------
# (1) exercises/ is generated


def test_exercises_are_what_the_generator_makes_from_solutions():
    stale = [str(p.relative_to(ROOT)) for p in authoring.stale(ROOT)]
    assert not stale, (f"{stale} differ from what solutions/ generates: run "
                       "`python -m gradkata.authoring` and commit the result")


@pytest.mark.parametrize("name", NAMES)
def test_every_catalog_function_has_a_marked_solution(name):
    exercise = authoring.read(name, ROOT)
    marked = [f.name for f in exercise.functions]
    assert marked == list(catalog.find(name).functions), (
        f"solutions/{name}.py marks {marked}; the catalog names {catalog.find(name).functions}")


@pytest.mark.parametrize("name", NAMES)
def test_the_reference_shown_to_learners_is_the_same_code_without_markers(name):
    source = (ROOT / "solutions" / f"{name}.py").read_text()
    shown = authoring.reference_text(source)
    assert "BEGIN SOLUTION" not in shown and "END SOLUTION" not in shown
    assert ast.dump(ast.parse(shown)) == ast.dump(ast.parse(source))
    assert authoring.read(name, ROOT).reference == shown


SOURCE = '''"""A module."""

import numpy as np
from copy import deepcopy


def double(x):
    """Twice x."""
    # TODO: return twice x.
    # BEGIN SOLUTION
    y = 2 * x  # the double
    return y
    # END SOLUTION


def _helper():
    return np.pi


def half(x):
    """Half x."""
    x = deepcopy(x)
    # TODO: return half of x,
    #   as a float.
    # BEGIN SOLUTION
    return x / 2
    # END SOLUTION
'''

STUB = '''"""A module."""

# Imported for you to use; unused until you write your solution.
import numpy as np  # noqa: F401
from copy import deepcopy  # noqa: F401


def double(x):
    """Twice x."""
    # TODO: return twice x.
    raise NotImplementedError("demo.double: not started")


def _helper():
    return np.pi


def half(x):
    """Half x."""
    x = deepcopy(x)
    # TODO: return half of x,
    #   as a float.
    raise NotImplementedError("demo.half: not started")
'''


def test_the_generator_replaces_each_marked_block_by_the_stubs_raise():
    exercise = authoring.parse(SOURCE, "demo")
    assert exercise.stub == STUB
    assert exercise.docstring == "A module."
    assert exercise.imports == ("import numpy as np", "from copy import deepcopy")
    double, half = exercise.functions
    assert (double.name, double.todo, double.solution) == (
        "double", "return twice x.", "y = 2 * x  # the double\nreturn y\n")
    assert double.head == 'def double(x):\n    """Twice x."""\n'
    assert double.docstring == "Twice x."
    assert half.todo == "return half of x, as a float."
    assert half.stub == ('def half(x):\n    """Half x."""\n    x = deepcopy(x)\n'
                         '    # TODO: return half of x,\n    #   as a float.\n'
                         '    raise NotImplementedError("demo.half: not started")\n')
    assert half.reference == ('def half(x):\n    """Half x."""\n    x = deepcopy(x)\n'
                              '    # TODO: return half of x,\n    #   as a float.\n'
                              '    return x / 2\n')
    assert exercise.reference == authoring.reference_text(SOURCE)
    assert "SOLUTION" not in exercise.reference and "return x / 2" in exercise.reference


BROKEN = {
    "no END": ("    return x / 2\n    # END SOLUTION\n", "    return x / 2\n",
               "without an # END SOLUTION"),
    "an END alone": ("    # BEGIN SOLUTION\n    return x / 2", "    return x / 2", "without a"),
    "no TODO": ("    # TODO: return twice x.\n", "", "needs a '# TODO:' comment"),
    "two blocks": ("    y = 2 * x  # the double\n",
                   "    # END SOLUTION\n    # TODO: more\n    # BEGIN SOLUTION\n", "second"),
    "nested": ("    return y\n", "    # BEGIN SOLUTION\n    return y\n", "inside the block"),
    "END misaligned": ("    return y\n    # END SOLUTION", "    return y\n  # END SOLUTION",
                       "not indented like"),
    "at module level": ("def _helper():", "# TODO: x\n# BEGIN SOLUTION\n# END SOLUTION\n\n\n"
                        "def _helper():", "outside a function"),
    "no docstring": ('    """Twice x."""\n', "", "double has no docstring"),
    "a long import": ("from copy import deepcopy", "from copy import (\n    deepcopy,\n)",
                      "one line"),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_the_generator_refuses_broken_markers_and_names_the_line(case):
    old, new, words = BROKEN[case]
    assert SOURCE.count(old) >= 1
    with pytest.raises(authoring.AuthoringError, match=r"solutions/demo\.py:\d+: ") as err:
        authoring.parse(SOURCE.replace(old, new, 1), "demo")
    assert words in str(err.value)


def test_the_command_checks_then_regenerates_a_stale_stub(tmp_path, capsys):
    for part in ("solutions", "exercises"):
        shutil.copytree(ROOT / part, tmp_path / part)
    (tmp_path / "pyproject.toml").write_text("")
    stub = tmp_path / "exercises" / "vectorized.py"
    generated = stub.read_text()
    stub.write_text(generated.replace("# TODO:", "# TODO: by hand,", 1))
    assert authoring.main(["--check", "--root", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "exercises/vectorized.py is not what solutions/vectorized.py generates" in out
    assert "python -m gradkata.authoring" in out
    assert authoring.main(["--root", str(tmp_path)]) == 0
    assert "wrote exercises/vectorized.py" in capsys.readouterr().out
    assert stub.read_text() == generated
    assert authoring.main(["--check", "--root", str(tmp_path)]) == 0
    assert authoring.main(["--root", str(tmp_path)]) == 0
    assert "up to date" in capsys.readouterr().out
    (tmp_path / "solutions" / "vectorized.py").write_text(SOURCE.replace("# TODO:", "#"))
    assert authoring.main(["--root", str(tmp_path)]) == 2
    assert "solutions/vectorized.py:10: a solution block needs" in capsys.readouterr().err


# --------------------------------------------------------------------------
# (2) Stubs state the goal; the hints hold the steps

NUMPY_NAMES = {n for n in (*dir(np), *dir(np.linalg)) if not n.startswith("_")}
# numpy names that are also plain words of a goal ("the mean squared error", "a copy").
# A word added here must be one a sentence uses as English, not as the call's name.
ENGLISH = {"abs", "all", "any", "bool", "copy", "dtype", "empty", "float32", "float64", "full",
           "gradient", "max", "mean", "min", "ones", "shape", "sign", "size", "sum", "zeros"}
CALL_SHAPES = re.compile(r"\b(?:np|numpy)\s*\.|\b\w+\s*\(\s*\)|\b\w+=")


def stub_comments(name: str) -> Iterator[Tuple[str, List[Tuple[int, str]]]]:
    """Each public stub function of exercise ``name`` with its comment lines (number, text)."""
    source = (ROOT / "exercises" / f"{name}.py").read_text()
    comments = [(tok.start[0], tok.string)
                for tok in tokenize.generate_tokens(io.StringIO(source).readline)
                if tok.type == tokenize.COMMENT]
    for node in ast.parse(source).body:
        if isinstance(node, ast.FunctionDef) and not node.name.startswith("_"):
            end = node.end_lineno or node.lineno
            yield node.name, [(n, text) for n, text in comments if node.lineno <= n <= end]


def numpy_words(comment: str) -> List[str]:
    named = [m.group(0) for m in CALL_SHAPES.finditer(comment)]
    words = re.findall(r"[A-Za-z_][A-Za-z0-9_]*", comment)
    named += [w for w in words if w in NUMPY_NAMES and w not in ENGLISH]
    named += [w for w in re.findall(r"\b(\w+)\s*\(", comment) if w in NUMPY_NAMES]
    return named


def test_the_numpy_check_catches_what_the_old_stubs_said():
    for said in ("(np.result_type(x.dtype, np.float64) gives the dtype)",
                 "1e-8 and |a| + |b| (np.maximum, not max)",
                 "np.linalg.eigvalsh returns them in ascending order",
                 "Build A by appending a column of N ones (hstack)",
                 "return 0.0 (max has an `initial=` argument for that)",
                 "sum the error over the sample axis keeping the dimensions: keepdims=True"):
        assert numpy_words(said), said
    assert not numpy_words("# TODO: return the mean squared error, as a Python float.")


@pytest.mark.parametrize("name", NAMES)
def test_no_stub_has_more_than_three_comment_lines_or_names_a_numpy_call(name):
    for function, comments in stub_comments(name):
        assert 1 <= len(comments) <= 3, (
            f"exercises/{name}.py: {function} has {len(comments)} comment lines; a stub says "
            "what to achieve in at most 3 (the steps belong in gradkata/kata.toml)")
        for number, text in comments:
            named = numpy_words(text)
            assert not named, (
                f"exercises/{name}.py:{number}: {function}'s comment names {named}: {text!r}. "
                "Say what to achieve; the numpy tools belong in the third hint (if the word "
                "is plain English here, add it to ENGLISH in this test)")


CODE = re.compile(r"np\.|numpy|`|\w\(|[\[\]=*@]|\w_\w|[A-Za-z]\.[A-Za-z]")


def test_the_code_check_catches_code():
    for code in ("use np.mean", "return float(x)", "w[2]", "y_hat", "a = b", "x * w", "A @ B",
                 "`for`", "x.shape"):
        assert CODE.search(code), code
    assert not CODE.search("The prediction is a weighted sum (plus the bias), 0.5 at most.")


@pytest.mark.parametrize("name", NAMES)
def test_every_exercise_has_four_tiers_of_hints_and_the_first_names_no_code(name):
    given = hints.load().get(name, [])
    assert len(given) >= 4, (f"{name} has {len(given)} hints in gradkata/kata.toml; it needs "
                             "four tiers: the idea, the formula, the numpy tools, near-code")
    found = CODE.search(given[0])
    assert found is None, (f"{name}'s first hint should give the idea in words, but it has "
                           f"code: {found.group(0)!r} in {given[0]!r}")


# --------------------------------------------------------------------------
# (3) Learner-facing text never points at what the learner does not have

# "seed 003", "seeds 000 and 001", "seed_001s", a seed's file name, a notebook.
CITATION = re.compile(r"(?i)\bseeds?[ _]?\d|\b\d{3}_[0-9a-f]{8,}|\.txt\b|\.ipynb\b")
# In prose written only for the learner, "the seed" means nothing either.
ANY_SEED = re.compile(r"(?i)\bseed(s|'s|s')?\b")


def test_the_citation_patterns_catch_the_old_references():
    for old in ("From seed 003 (``003_3261bf8e19f34bf4.txt``).", "seeds 000, 001",
                "Seed 001's plots", "seed_001s three plots", "as seed 000 does"):
        assert CITATION.search(old), old
    assert ANY_SEED.search("The learning rate (the seed's value).")
    assert not CITATION.search("random data seeded by hypothesis, seed=seeds, 1e-8")


def string_literals(path: Path) -> Iterator[Tuple[int, str]]:
    with open(path, encoding="utf-8") as f:
        for tok in tokenize.generate_tokens(f.readline):
            if tok.type == tokenize.STRING:
                yield tok.start[0], tok.string


def docstrings(path: Path) -> Iterator[Tuple[str, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    yield path.name, ast.get_docstring(tree) or ""
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef):
            yield f"{path.name}:{node.name}", ast.get_docstring(node) or ""


def learner_text() -> Iterator[Tuple[str, str, re.Pattern[str]]]:
    """(where, text, the pattern it must not match) for every learner-facing text."""
    for folder in ("exercises", "solutions"):
        for path in sorted((ROOT / folder).glob("*.py")):
            yield f"{folder}/{path.name}", path.read_text(encoding="utf-8"), CITATION
            for where, doc in docstrings(path):
                yield f"{folder}/{where} (docstring)", doc, ANY_SEED
    for name, given in hints.load().items():
        for i, hint in enumerate(given, 1):
            yield f"gradkata/kata.toml ({name}) hint {i}", hint, ANY_SEED
    for exercise in catalog.EXERCISES:
        yield f"gradkata/kata.toml ({exercise.name})", f"{exercise.title} {exercise.seed}", \
            ANY_SEED
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    yield "README.md", readme, CITATION
    table = [line for line in readme.splitlines() if re.match(r"\| \d \| `", line)]
    assert len(table) == len(NAMES), "README.md's exercise table has moved or changed shape"
    yield "README.md's exercise table", "\n".join(table), ANY_SEED
    yield "docs/cli-session.md", (ROOT / "docs" / "cli-session.md").read_text(), CITATION
    for path in (ROOT / "gradkata" / "cli.py", ROOT / "gradkata" / "plots.py",
                 *sorted((ROOT / "tests").glob("test_*.py")), ROOT / "tests" / "shared_checks.py"):
        for line, literal in string_literals(path):
            yield f"{path.relative_to(ROOT)}:{line}", literal, CITATION


def test_learner_facing_text_cites_no_seed_file_or_figure():
    found = []
    for where, text, pattern in learner_text():
        for match in pattern.finditer(text):
            around = text[max(0, match.start() - 30):match.end() + 30].replace("\n", " ")
            found.append(f"{where}: {match.group(0)!r} in ...{around}...")
    assert not found, ("learner-facing text points at sources the learner does not have; tell "
                       "the story in the kata's own words, with its numbers:\n" + "\n".join(found))
