"""The mutant zoo, in full: every realistic bug caught (and named, where it has a
kind), every correct rewrite accepted, and enough of both across all functions.

Run with ``-s`` (as ``tox -e mutants`` does) to see the figures line
"caught X/Y, named N/M, misleading K, accepted A/B, diagnosed D/E" and one line
per case. The learner corpus (whole functions, each with the cause a tutor
would name) must be caught in full, named at least 90% of the time and never
misleading.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path
from typing import List

import pytest

from gradkata import catalog

sys.path.insert(0, str(Path(__file__).resolve().parent))
import zoo  # noqa: E402

# A whole graded session per case (a judge each): far past the graded tests' 10 s.
pytestmark = pytest.mark.timeout(3600)

MIN_MUTANTS = 40
MIN_ALTERNATIVES = 8
MIN_LEARNERS = 60  # wrong versions written whole, as learners write them
MIN_CORRECT = 20  # correct but unusual versions, written whole
NAMED_SHARE = 0.9  # of the learners' wrong versions, the share whose cause a message names
FUNCTIONS = {(e.name, f) for e in catalog.EXERCISES for f in e.functions}


def reference_functions():
    """(exercise, function) for every public top-level function of the reference solutions."""
    found = set()
    for exercise in catalog.EXERCISES:
        path = zoo.ROOT / "solutions" / f"{exercise.name}.py"
        tree = ast.parse(path.read_text())
        found |= {(exercise.name, node.name) for node in tree.body
                  if isinstance(node, ast.FunctionDef) and not node.name.startswith("_")}
    return found


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
    assert FUNCTIONS == reference_functions(), "the catalog and the solutions disagree"
    covered = {(o.case.exercise, o.case.function) for o in mutants(outcomes)}
    unknown = covered - FUNCTIONS
    assert not unknown, f"mutants of functions the catalog does not name: {sorted(unknown)}"
    missing = FUNCTIONS - covered
    assert not missing, f"functions with no mutant: {sorted(missing)}"


def learners(outcomes: List[zoo.Outcome]) -> List[zoo.Outcome]:
    return [o for o in outcomes if o.case.mutant and o.case.learner]


def test_the_learner_corpus_is_large_enough(outcomes):
    wrong = len(learners(outcomes))
    right = sum(1 for o in alternatives(outcomes) if o.case.learner)
    assert wrong >= MIN_LEARNERS, f"{wrong} wrong learner versions, fewer than {MIN_LEARNERS}"
    assert right >= MIN_CORRECT, f"{right} correct learner versions, fewer than {MIN_CORRECT}"


def test_the_learners_causes_are_named(outcomes):
    found = learners(outcomes)
    unnamed = [f"{o.case.exercise}.{o.case.function} '{o.case.name}' "
               f"({' / '.join(o.case.cause)}): {o.messages[:1]}"
               for o in found if not o.named]
    assert len(found) - len(unnamed) >= NAMED_SHARE * len(found), (
        f"{zoo.figures(outcomes)}; not named:\n" + "\n".join(unnamed))


def test_no_message_blames_a_wrong_cause(outcomes):
    misleading = [f"{o.case.exercise}.{o.case.function} '{o.case.name}': {o.messages}"
                  for o in learners(outcomes) if o.misleading]
    assert not misleading, f"{zoo.figures(outcomes)}; misleading:\n" + "\n".join(misleading)
