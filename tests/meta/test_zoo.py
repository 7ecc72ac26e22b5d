"""The mutant zoo, in full: every realistic bug caught (and named, where it has a
kind), every correct rewrite accepted, and enough of both across all functions.

Run with ``-s`` (as ``tox -e mutants`` does) to see the figures line
"caught X/Y, accepted A/B, diagnosed D/E" and one line per case.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import List

import pytest

from gradkata import catalog

sys.path.insert(0, str(Path(__file__).resolve().parent))
import zoo  # noqa: E402

# These run whole pytest sessions in subprocesses: far past the graded tests' 10 s.
pytestmark = pytest.mark.timeout(3600)

MIN_MUTANTS = 40
MIN_ALTERNATIVES = 8
FUNCTIONS = {(e.name, f) for e in catalog.EXERCISES for f in e.functions}


@pytest.fixture(scope="module")
def outcomes() -> List[zoo.Outcome]:
    found = zoo.run_all(zoo.exercises())
    print()
    for line in zoo.report(found):
        print(line)
    print(zoo.figures(found))
    return found


def mutants(outcomes: List[zoo.Outcome]) -> List[zoo.Outcome]:
    return [o for o in outcomes if o.case.mutant]


def alternatives(outcomes: List[zoo.Outcome]) -> List[zoo.Outcome]:
    return [o for o in outcomes if not o.case.mutant]


def test_every_zoo_edit_applies_and_runs(outcomes):
    broken = [f"{o.case.exercise}.{o.case.function} '{o.case.name}': {o.error}"
              for o in outcomes if o.error]
    assert not broken, "\n".join(broken)


def test_every_mutant_is_caught(outcomes):
    missed = [f"{o.case.exercise}.{o.case.function} '{o.case.name}'"
              for o in mutants(outcomes) if not o.caught]
    assert not missed, f"{zoo.figures(outcomes)}; missed:\n" + "\n".join(missed)


def test_every_mutant_with_a_kind_is_diagnosed(outcomes):
    vague = [f"{o.case.exercise}.{o.case.function} '{o.case.name}' (a {o.case.kind} bug): "
             f"{o.messages[:1]}"
             for o in mutants(outcomes) if o.case.kind and not (o.caught and o.diagnosed)]
    assert not vague, f"{zoo.figures(outcomes)}; not named:\n" + "\n".join(vague)


def test_every_alternative_is_accepted(outcomes):
    rejected = [f"{o.case.exercise}.{o.case.function} '{o.case.name}' by {o.failed}"
                for o in alternatives(outcomes) if o.failed or o.error]
    assert not rejected, f"{zoo.figures(outcomes)}; rejected:\n" + "\n".join(rejected)


def test_the_zoo_is_large_enough(outcomes):
    found = f"{zoo.figures(outcomes)} in {', '.join(zoo.exercises())}"
    assert len(mutants(outcomes)) >= MIN_MUTANTS, f"fewer than {MIN_MUTANTS} mutants: {found}"
    assert len(alternatives(outcomes)) >= MIN_ALTERNATIVES, (
        f"fewer than {MIN_ALTERNATIVES} alternatives: {found}")


def test_the_zoo_has_a_mutant_for_every_function(outcomes):
    assert len(FUNCTIONS) == 16
    covered = {(o.case.exercise, o.case.function) for o in mutants(outcomes)}
    unknown = covered - FUNCTIONS
    assert not unknown, f"mutants of functions the catalog does not name: {sorted(unknown)}"
    missing = FUNCTIONS - covered
    assert not missing, f"functions with no mutant: {sorted(missing)}"
