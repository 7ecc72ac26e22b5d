"""The mutant zoo: realistic learner bugs the graded suite must catch, and correct
alternatives it must accept.

Each exercise has a data file ``zoo_<exercise>.py`` beside this one with two
lists of dicts:

- ``MUTANTS``: ``function`` (the reference function edited), ``name`` (the bug,
  in a learner's words), ``kind`` (``"factor 2"``, ``"sign"``, ``"modified
  input"``, ``"shape"`` or ``None``: when set, some failure message must name
  it), and ``edits``: ``(old, new)`` text replacements applied to
  ``solutions/<exercise>.py``; each ``old`` must occur exactly once.
- ``ALTERNATIVES``: the same without ``kind``: correct rewrites that must pass
  every test.

and, optionally, a learner corpus written the way learners write (whole
functions, not one-token edits):

- ``LEARNERS``: ``function``, ``name``, ``source`` (the learner's whole
  function, which replaces the reference's ``def function(...)``; ``imports``
  optionally adds lines at the top of the module), ``cause`` (words a good
  tutor would use: some failure message must contain one of them for the
  cause to count as named) and optionally ``not_cause`` (words naming a wrong
  cause: a message that contains one is misleading).
- ``CORRECT``: ``function``, ``name``, ``source``: correct but unusual
  versions that must pass every test.

Each case is graded the way class grading grades a submission (a fresh judge forked
from a warm template, :mod:`gradkata.runner`). Run
``python tests/meta/zoo.py [-v] [--learners] [EXERCISE ...]`` for the figures
("caught X/Y, named N/M, misleading K, accepted A/B, diagnosed D/E");
``tests/meta/test_zoo.py`` asserts them all.
"""

from __future__ import annotations

import ast
import importlib.util
import os
import shutil
import sys
import tempfile
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

from gradkata.scoring import Status

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent

# Words a message must contain for a bug of each kind to count as diagnosed.
KIND_WORDS: Dict[str, Tuple[str, ...]] = {
    "factor 2": ("twice", "half", "factor 2"),
    "sign": ("sign",),
    "modified input": ("changed its input",),
    "shape": ("shape",),
    "missing input": ("input missing", "input is missing"),
}


@dataclass
class Case:
    exercise: str
    function: str
    name: str
    edits: List[Tuple[str, str]]
    kind: Optional[str] = None
    mutant: bool = True
    cause: Tuple[str, ...] = ()  # a message must contain one of these to name the cause
    not_cause: Tuple[str, ...] = ()  # a message containing one of these misleads
    learner: bool = False  # written whole, the way a learner writes it


@dataclass
class Outcome:
    case: Case
    failed: List[str] = field(default_factory=list)  # test names that did not pass
    messages: List[str] = field(default_factory=list)
    error: str = ""  # the edit could not be applied, or the run broke

    @property
    def caught(self) -> bool:
        return bool(self.failed) and not self.error

    @property
    def diagnosed(self) -> bool:
        words = KIND_WORDS.get(self.case.kind or "", ())
        return any(w in m for m in self.messages for w in words)

    @property
    def named(self) -> bool:
        """Some message names the cause the case was written with."""
        return self.caught and any(w.lower() in m.lower()
                                   for m in self.messages for w in self.case.cause)

    @property
    def misleading(self) -> bool:
        """Some message names a cause the case does not have."""
        return any(w.lower() in m.lower() for m in self.messages for w in self.case.not_cause)


def exercises() -> List[str]:
    return sorted(p.stem[len("zoo_"):] for p in HERE.glob("zoo_*.py"))


def cases(exercise: str) -> List[Case]:
    spec = importlib.util.spec_from_file_location(f"zoo_{exercise}", HERE / f"zoo_{exercise}.py")
    assert spec is not None and spec.loader is not None
    data = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(data)
    found = [Case(exercise, m["function"], m["name"], list(m["edits"]), m.get("kind"))
             for m in data.MUTANTS]
    found += [Case(exercise, a["function"], a["name"], list(a["edits"]), None, False)
              for a in data.ALTERNATIVES]
    found += [Case(exercise, m["function"], m["name"], whole(m), cause=tuple(m["cause"]),
                   not_cause=tuple(m.get("not_cause", ())), learner=True)
              for m in getattr(data, "LEARNERS", [])]
    found += [Case(exercise, a["function"], a["name"], whole(a), mutant=False, learner=True)
              for a in getattr(data, "CORRECT", [])]
    return found


def whole(case: Dict) -> List[Tuple[str, str]]:
    """The edits that swap the reference's function for the learner's whole one.

    ``apply_edits`` reads the markers: ``REPLACE + name`` replaces that
    function, ``PREPEND`` adds the learner's imports at the top.
    """
    edits = [(f"{REPLACE}{case['function']}", textwrap.dedent(case["source"]).strip("\n"))]
    if case.get("imports"):
        edits.append((f"{PREPEND}", textwrap.dedent(case["imports"]).strip("\n")))
    return edits


REPLACE = "\0replace def "
PREPEND = "\0prepend"


def replace_function(source: str, name: str, new: str) -> str:
    """``source`` with the top-level ``def name(...)`` (docstring and all) swapped for ``new``."""
    tree = ast.parse(source)
    lines = source.splitlines(keepends=True)
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == name:
            first = min([node.lineno] + [d.lineno for d in node.decorator_list]) - 1
            end = node.end_lineno or node.lineno
            return "".join(lines[:first]) + new + "\n" + "".join(lines[end:])
    raise ValueError(f"no top-level function {name!r} to replace")


def apply_edits(source: str, edits: Sequence[Tuple[str, str]]) -> str:
    for old, new in edits:
        if old.startswith(REPLACE):
            source = replace_function(source, old[len(REPLACE):], new)
            continue
        if old == PREPEND:
            source = new + "\n" + source
            continue
        count = source.count(old)
        if count != 1:
            raise ValueError(f"the text {old!r} occurs {count} times, not once")
        source = source.replace(old, new)
    return source


def run(case: Case, root: Path = ROOT) -> Outcome:
    """Grade the reference with ``case``'s edits applied, on its exercise's tests in the kata
    at ``root`` (this one, or a handout of it). Messages name the graded folder IMPL/."""
    return run_cases([case], root)[0]


def run_all(names: Sequence[str], jobs: int = 0, learners_only: bool = False) -> List[Outcome]:
    todo = [c for name in names for c in cases(name) if c.learner or not learners_only]
    return run_cases(todo, jobs=jobs)


def run_cases(todo: Sequence[Case], root: Path = ROOT, jobs: int = 0) -> List[Outcome]:
    """Grade every case as class grading grades a submission (:mod:`gradkata.runner`):
    one fresh judge each, forked from a warm template, ``jobs`` at a time."""
    from gradkata import classgrade, runner

    outcomes = [Outcome(case) for case in todo]
    with tempfile.TemporaryDirectory() as tmp:
        tasks, folders = [], []
        for index, (case, outcome) in enumerate(zip(todo, outcomes)):
            folder = Path(tmp) / f"case{index}"
            folder.mkdir()
            for path in (ROOT / "solutions").glob("*.py"):
                shutil.copy(path, folder)
            target = folder / f"{case.exercise}.py"
            try:
                target.write_text(apply_edits(target.read_text(), case.edits))
            except ValueError as exc:
                outcome.error = str(exc)
                continue
            tasks.append(runner.Task(str(root), str(folder), None,
                                     paths=(f"tests/test_{case.exercise}.py",)))
            folders.append((str(folder), outcome))
        runner.start_template(root)
        ends = classgrade.run_judges(tasks, jobs=jobs or os.cpu_count() or 2,
                                     seconds=JUDGE_SECONDS)
        for (folder, outcome), end in zip(folders, ends):
            if end.status != classgrade.GRADED or not end.results:
                outcome.error = f"the suite did not run ({end.status or 'no graded test'})"
                continue
            for result in end.results:
                if result.status != Status.PASSED:
                    outcome.failed.append(result.name)
                    outcome.messages.append(result.message.replace(folder, "IMPL"))
    return outcomes


JUDGE_SECONDS = 600.0  # one case's whole run, as the subprocess it replaces was given


def figures(outcomes: List[Outcome]) -> str:
    mutants = [o for o in outcomes if o.case.mutant]
    alternatives = [o for o in outcomes if not o.case.mutant]
    kinds = [o for o in mutants if o.case.kind]
    learners = [o for o in mutants if o.case.learner]
    caught = sum(o.caught for o in mutants)
    accepted = sum(not o.failed and not o.error for o in alternatives)
    diagnosed = sum(o.caught and o.diagnosed for o in kinds)
    named = sum(o.named for o in learners)
    misleading = sum(o.misleading for o in learners)
    return (f"caught {caught}/{len(mutants)} ({percent(caught, len(mutants))}), "
            f"named {named}/{len(learners)} ({percent(named, len(learners))}), "
            f"misleading {misleading}, "
            f"accepted {accepted}/{len(alternatives)} ({percent(accepted, len(alternatives))}), "
            f"diagnosed {diagnosed}/{len(kinds)}")


def percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:.0f}%" if whole else "n/a"


def report(outcomes: List[Outcome], verbose: bool = False) -> List[str]:
    lines = []
    for o in outcomes:
        c = o.case
        if o.error:
            verdict = f"ERROR {o.error}"
        elif c.mutant:
            verdict = "caught" if o.caught else "MISSED"
            if c.kind:
                verdict += " and diagnosed" if o.diagnosed else f" but NOT diagnosed as {c.kind}"
            if c.learner:
                verdict += " and named" if o.named else f" but NOT named ({' / '.join(c.cause)})"
                if o.misleading:
                    verdict += " MISLEADING"
            if o.caught:
                verdict += f" by {', '.join(o.failed)}"
        else:
            verdict = "accepted" if not o.failed else f"REJECTED by {', '.join(o.failed)}"
        label = "mutant" if c.mutant else "alternative"
        lines.append(f"{c.exercise}.{c.function} {label} '{c.name}': {verdict}")
        if verbose and c.mutant and c.learner and (o.misleading or not o.named) and o.messages:
            lines.extend("    | " + line for line in o.messages[0].splitlines())
    return lines


def main(argv: Sequence[str]) -> int:
    verbose = "-v" in argv
    learners_only = "--learners" in argv
    names = [a for a in argv if a not in ("-v", "--learners")] or exercises()
    outcomes = run_all(names, learners_only=learners_only)
    for line in report(outcomes, verbose):
        print(line)
    print(figures(outcomes))
    bad = [o for o in outcomes if o.error or (o.case.mutant and not (
        o.caught and (o.diagnosed or not o.case.kind))) or (not o.case.mutant and o.failed)
        or o.misleading]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
