"""Swapping in a reference: the conventions the suite fixes are checked first, and a
reference that breaks one stops the run with one message naming it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import types
from pathlib import Path

import pytest

from gradkata import conventions
from gradkata.plugin import load_reference

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("exercise", sorted({c.exercise for c in conventions.CONVENTIONS}))
def test_the_kata_s_reference_follows_every_convention(exercise):
    assert conventions.broken(exercise, load_reference(ROOT, exercise, {})) == []


@pytest.mark.parametrize("convention", conventions.CONVENTIONS, ids=lambda c: c.function)
def test_a_reference_twice_off_breaks_the_convention_and_is_named(convention):
    real = load_reference(ROOT, convention.exercise, {})
    original = getattr(real, convention.function)

    def doubled(*args):
        result = original(*args)
        return tuple(2 * r for r in result) if isinstance(result, tuple) else 2 * result

    fake = types.SimpleNamespace(**{**vars(real), convention.function: doubled})
    [message] = conventions.broken(convention.exercise, fake)
    assert convention.statement in message and f"solutions/{convention.exercise}.py" in message


def test_a_backward_on_the_full_mse_stops_the_run_with_one_message(tmp_path):
    kata = tmp_path / "kata"
    kata.mkdir()
    shutil.copy(ROOT / "pyproject.toml", kata)
    for folder in ("exercises", "solutions", "tests"):
        shutil.copytree(ROOT / folder, kata / folder,
                        ignore=shutil.ignore_patterns("__pycache__", "meta", "private"))
    path = kata / "solutions" / "vectorized.py"
    source = path.read_text()
    for old in ("grad_w = x.T @ error / n_samples",
                "grad_b = np.sum(error, axis=0, keepdims=True) / n_samples"):
        assert source.count(old) == 1
        source = source.replace(old, old.replace("= ", "= 2 * ", 1))
    path.write_text(source)
    env = {k: v for k, v in os.environ.items() if k != "GRADKATA_IMPL"}
    proc = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider",
                           "--impl=solutions", "tests"], cwd=kata, capture_output=True,
                          text=True, env=env, timeout=300)
    assert proc.returncode == pytest.ExitCode.USAGE_ERROR, proc.stdout[-2000:]
    errors = [line for line in proc.stderr.splitlines() if line.startswith("ERROR: gradkata:")]
    assert len(errors) == 1 and "backward descends half the MSE" in errors[0], proc.stderr
    assert "gives 5, 3" in errors[0] and "passed" not in proc.stdout + proc.stderr
