"""A failure message opens with "What this test checks:" and the test docstring's first line,
so that line must be a whole sentence: a line cut mid-sentence tells the learner half a check."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parents[1]
GRADED = sorted(TESTS.glob("test_*.py"))


def first_lines(path: Path):
    """(test name, first line of its docstring) for every test function in ``path``."""
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
            doc = ast.get_docstring(node) or ""
            yield node.name, (doc.splitlines() or [""])[0].strip()


@pytest.mark.parametrize("path", GRADED, ids=lambda p: p.stem)
def test_every_graded_test_opens_its_docstring_with_a_whole_sentence(path):
    cut = [f"{name}: {line!r}" for name, line in first_lines(path)
           if not line.endswith(".")]
    assert cut == [], "docstring first lines that are not a whole sentence ending in a full stop"


def test_the_check_sees_a_line_cut_mid_sentence(tmp_path):
    path = tmp_path / "test_x.py"
    path.write_text('def test_a():\n    """A rate that is not > 0, or inputs that are not\n'
                    '    (N,) raise."""\n\n\ndef test_b():\n    """Whole."""\n')
    assert [line for _, line in first_lines(path)] == [
        "A rate that is not > 0, or inputs that are not", "Whole."]
    assert GRADED, "no graded test files found"
