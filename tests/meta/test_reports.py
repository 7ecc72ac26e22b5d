"""Class grading's outputs: the gradebook, the feedback per student and the class summary.

The slow tests grade one generated class of 200 submissions once (a module-scoped
fixture): correct ones (copies of solutions/), partial ones (the reference with one
bug of the mutant zoo), untouched stubs (copies of exercises/), syntax errors and
functions that never end, under a short --timeout. Every figure the summary shows is
checked against the CSV or against how the class was built; the summary page is
opened in a real headless browser, and its screenshot must show the histogram.
The fast tests check the pieces on hand-made results.
"""

from __future__ import annotations

import codecs
import csv
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List, NamedTuple

import pytest

from gradkata import catalog, classgrade, classreport, scoring, verdict

sys.path.insert(0, str(Path(__file__).resolve().parent))
import zoo  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
FULL = {e.name: float(e.points) for e in catalog.EXERCISES}
MAXIMUM = sum(FULL.values())
TIMEOUT = 2  # each test's limit in the batch: the hanging functions cost it
SYNTAX_EXERCISE = "numeric_gradients"  # where every syntax error of the class is
HANG = "    while True:\n        pass\n"
Y_HAT = "    return float(x_1 * w[0] + x_2 * w[1] + w[2])\n"
BAR_COLOUR = (0x3B, 0x6E, 0xA8)  # the histogram's bars (classreport.histogram_png)


def _env() -> Dict[str, str]:
    return {k: v for k, v in os.environ.items() if k != "GRADKATA_IMPL"}


def _copy(source: Path, folder: Path) -> Path:
    folder.mkdir(parents=True)
    for path in source.glob("*.py"):
        if path.name != "__init__.py":
            shutil.copy(path, folder)
    return folder


# --------------------------------------------------------------------------
# The pieces, on hand-made results


def _result(exercise: str, name: str, status: str, message: str = "", points: float = 5,
            visibility: str = "visible") -> scoring.TestResult:
    return scoring.TestResult(f"tests/test_{exercise}.py::{name}", name, exercise, points,
                              status, message, visibility=visibility)


def test_a_diagnosis_is_the_suggestion_after_the_comparison():
    suggestion = verdict.explain_ratio(2.0, step=False)
    message = ("What this test checks: the loss.\nCalled vectorized.calculate_loss(...).\n"
               f"The result came back as 2.4, but the tests expected 1.2. {suggestion}\n"
               "A hint on a line of its own.")
    assert classreport.diagnosis(message) == suggestion


def test_a_comparison_without_a_suggestion_is_grouped_by_what_differed():
    one = "Called f(1).\nThe result came back as 0.25, but the tests expected 0.5 (at [0])."
    other = "Called f(2).\nThe result came back as 3.0, but the tests expected 1.0."
    assert classreport.diagnosis(one) == classreport.diagnosis(other) == \
        "The result: not the expected value, and no pattern recognised."


def test_a_diagnosis_without_a_suggestion_groups_other_values_together():
    one = "Called backward 45 times.\nThe MSE rose at step 1, from 10.46 to 38.79."
    other = "Called backward 45 times.\nThe MSE rose at step 3, from 2.5 to -1e3."
    assert classreport.diagnosis(one) == classreport.diagnosis(other)
    assert classreport.diagnosis(one) == "The MSE rose at step #, from # to #."
    # A number inside a name is part of the name.
    assert "x_1" in classreport.diagnosis("Running f(x_1=0.5) was still running after 2 s.")


def test_paths_are_replaced_by_neutral_names_longest_first():
    places = {"/home/prof/kata": "kata", "/home/prof/kata/subs/alice": "submission"}
    text = 'File "/home/prof/kata/subs/alice/vectorized.py"; /home/prof/kata/tests/x.py'
    assert classreport.neutral_paths(text, places) == \
        'File "submission/vectorized.py"; kata/tests/x.py'


def test_hidden_tests_stay_hidden_in_the_feedback():
    secret = "test_private_input_of_minus_seven"
    results = [_result("vectorized", "test_forward_matches_the_reference", "passed"),
               _result("vectorized", secret, "failed", "Called forward(x=-7): the secret",
                       visibility="hidden"),
               _result("vectorized", "test_backward_matches_the_reference", "failed",
                       "Called backward(...).\nw_next came back wrong.")]
    g = classgrade.Graded("alice", "s1", "", "graded", 15, results)
    for text in (classreport.student_markdown(g), classreport.student_html(g)):
        assert secret not in text and "the secret" not in text and "-7" not in text
        assert "hidden test 1" in text
        assert "A hidden test of exercise 3 (vectorized) failed." in text
        assert "w_next came back wrong." in text  # a visible failure keeps its diagnosis
        assert "test_forward_matches_the_reference" in text  # what passed


def test_the_summary_lists_what_could_not_be_graded_and_the_roster_s_leftovers():
    graded = [
        classgrade.Graded("alice", "s1", "", "graded", 100,
                          [_result("vectorized", "test_a", "passed", points=100)]),
        classgrade.Graded("bob", "s2", "", "timeout", 100),
        classgrade.Graded("carol", "", "", "error: the judge was killed (SIGKILL)", 100),
    ]
    s = classreport.summarize(graded, unmatched=["carol"], absent=["dave"])
    assert (s.submissions, s.graded, s.timeout, s.error) == (3, 1, 1, 1)
    assert s.scores == [100]
    page = classreport.summary_html(s, None)
    for text in ("bob", "timeout", "carol", "error: the judge was killed (SIGKILL)", "dave"):
        assert text in page
    assert re.search(r'data-count="timeout">1<', page)
    feedback = classreport.student_markdown(graded[1])
    assert "could not be graded (timeout)" in feedback and "Score" not in feedback


def test_a_roster_is_read_with_or_without_a_header(tmp_path):
    with_header = tmp_path / "a.csv"
    with_header.write_text("student_id,submission\n s1 ,alice\nzoë-id,zoë\n", encoding="utf-8")
    assert classgrade.read_roster(str(with_header)) == {"alice": "s1", "zoë": "zoë-id"}
    bare = tmp_path / "b.csv"
    bare.write_bytes(codecs.BOM_UTF8 + b"alice,s1\n\nbob,s2\n")
    assert classgrade.read_roster(str(bare)) == {"alice": "s1", "bob": "s2"}
    broken = tmp_path / "c.csv"
    broken.write_text("alice\n")
    with pytest.raises(ValueError, match="row 1 has no student id"):
        classgrade.read_roster(str(broken))


def test_excel_gradebooks_carry_a_bom_and_read_back(tmp_path):
    g = classgrade.Graded("zoë", "zoë", "", "timeout", 105)
    plain, excel = tmp_path / "plain.csv", tmp_path / "excel.csv"
    classgrade.write_csv(str(plain), [g])
    classgrade.write_csv(str(excel), [g], excel=True)
    assert not plain.read_bytes().startswith(codecs.BOM_UTF8)
    assert excel.read_bytes() == codecs.BOM_UTF8 + plain.read_bytes()
    rows = classgrade.read_rows(str(excel))
    assert rows[0]["submission"] == "zoë" and rows[0]["max_score"] == "105"
    assert not list(tmp_path.glob(".*"))  # no temporary file left beside them


def test_a_merge_keeps_the_order_and_replaces_only_the_regraded_rows():
    old = [{"submission": n, "score": "1"} for n in ("a", "b", "c")]
    new = [{"submission": "b", "score": "2"}, {"submission": "d", "score": "3"}]
    assert classgrade.merge_rows(old, new) == [
        {"submission": "a", "score": "1"}, {"submission": "b", "score": "2"},
        {"submission": "c", "score": "1"}, {"submission": "d", "score": "3"}]


def test_a_gradebook_of_other_columns_is_not_merged_into(tmp_path):
    other = tmp_path / "other.csv"
    other.write_text("name,points\nalice,3\n")
    with pytest.raises(classgrade.GradebookError, match="not a gradebook of this kata"):
        classgrade.read_rows(str(other))


# --------------------------------------------------------------------------
# Regrading a subset, from outside the kata


def _grade(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gradkata", "grade", *args],
                          cwd=cwd, capture_output=True, text=True, timeout=600, env=_env())


def test_only_and_merge_regrade_a_subset_into_the_gradebook_from_anywhere(tmp_path):
    _copy(ROOT / "solutions", tmp_path / "subs" / "alice")
    bob = _copy(ROOT / "exercises", tmp_path / "subs" / "bob")
    carol = _copy(ROOT / "solutions", tmp_path / "subs" / "carol")
    # Run outside the kata: the installed one is used.
    first = _grade(tmp_path, "subs/alice", "subs/bob", "subs/carol", "--csv", "g.csv",
                   "--report", "report", "--jobs", "2")
    assert first.returncode == 0, first.stderr[-3000:]
    before = (tmp_path / "g.csv").read_text().splitlines()
    feedback = tmp_path / "report" / "students"
    alice_seen = (feedback / "alice.md").stat().st_mtime_ns
    # Bob hands in the work; carol's folder changes too, but only bob is regraded.
    shutil.rmtree(bob)
    _copy(ROOT / "solutions", bob)
    shutil.rmtree(carol)
    _copy(ROOT / "exercises", carol)
    again = _grade(tmp_path, "subs/alice", "subs/bob", "subs/carol", "--only", "bob",
                   "--merge", "g.csv", "--report", "report", "--jobs", "1")
    assert again.returncode == 0, again.stderr[-3000:]
    assert "graded 1 submission" in again.stderr
    after = (tmp_path / "g.csv").read_text().splitlines()
    assert after[0] == before[0] and after[1] == before[1] and after[3] == before[3]
    assert after[2].startswith(f"bob,bob,graded,{MAXIMUM:g},{MAXIMUM:g},")
    assert before[2].startswith(f"bob,bob,graded,0,{MAXIMUM:g},")
    assert not list(tmp_path.glob(".g.csv*"))  # no temporary file left beside it
    # The summary covers the merged gradebook: the others as they were graded.
    summary = json.loads((tmp_path / "report" / "summary.json").read_text())
    assert sorted(summary["scores"]) == [MAXIMUM] * 3
    # Only the regraded student's feedback is written again.
    assert (feedback / "alice.md").stat().st_mtime_ns == alice_seen
    assert f"Score: {MAXIMUM:g}/{MAXIMUM:g}" in (feedback / "bob.md").read_text()
    unknown = _grade(tmp_path, "subs/alice", "--only", "nobody", "--csv", "x.csv")
    assert unknown.returncode == 2 and "--only: no submission named nobody" in unknown.stderr
    elsewhere = _grade(tmp_path, "subs/alice", "--csv", "x.csv", "--kata", str(tmp_path))
    assert elsewhere.returncode == 2 and "not a gradkata kata" in elsewhere.stderr
    assert not (tmp_path / "x.csv").exists()


# --------------------------------------------------------------------------
# A class of 200


class Member(NamedTuple):
    name: str
    kind: str  # correct | partial | stub | syntax | hang
    exercise: str = ""  # the exercise a partial, syntax or hang submission gets wrong
    bug: str = ""  # the zoo's kind of bug ("factor 2", ...) for a partial one


class Batch(NamedTuple):
    tmp: Path
    members: List[Member]
    proc: subprocess.CompletedProcess
    seconds: float
    raw: bytes
    rows: Dict[str, Dict[str, str]]
    header: List[str]
    report: Path
    roster: Dict[str, str]
    absent: List[str]


def _build_class(subs: Path) -> List[Member]:
    members: List[Member] = []
    mutants = [c for name in zoo.exercises() for c in zoo.cases(name) if c.mutant]
    plan = ["correct"] * 40 + ["partial"] * 100 + ["stub"] * 20 + ["syntax"] * 20 \
        + ["hang"] * 20
    for i, kind in enumerate(plan):
        name = f"{kind}-{i:03d}" if i else "zoë"  # one name a spreadsheet could garble
        folder = subs / name
        if kind == "stub":
            _copy(ROOT / "exercises", folder)
            members.append(Member(name, kind))
            continue
        _copy(ROOT / "solutions", folder)
        if kind == "partial":
            case = mutants[i % len(mutants)]
            target = folder / f"{case.exercise}.py"
            target.write_text(zoo.apply_edits(target.read_text(), case.edits))
            members.append(Member(name, kind, case.exercise, case.kind or ""))
        elif kind == "syntax":
            (folder / f"{SYNTAX_EXERCISE}.py").write_text("def feed_forward(x, w:\n    pass\n")
            members.append(Member(name, kind, SYNTAX_EXERCISE))
        elif kind == "hang":
            target = folder / "single_neuron.py"
            target.write_text(target.read_text().replace(Y_HAT, HANG))
            members.append(Member(name, kind, "single_neuron"))
        else:
            members.append(Member(name, kind))
    return members


@pytest.fixture(scope="module")
def batch(tmp_path_factory) -> Batch:
    tmp = tmp_path_factory.mktemp("class")
    subs = tmp / "submissions"
    members = _build_class(subs)
    # The roster names every submission but five, and two students who sent nothing.
    roster = {m.name: f"id-{i:04d}" for i, m in enumerate(members) if i % 40 != 39}
    roster["zoë"] = "zoë-1"
    absent = ["nobody-1", "nobody-2"]
    with (tmp / "roster.csv").open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["submission", "student_id"])
        writer.writerows([*roster.items(), *((a, f"id-{a}") for a in absent)])
    out, err = tmp / "grade.out", tmp / "grade.err"
    started = time.monotonic()
    with out.open("w") as stdout, err.open("w") as stderr:
        code = subprocess.run(
            [sys.executable, "-m", "gradkata", "grade", *(str(subs / m.name) for m in members),
             "--csv", str(tmp / "grades.csv"), "--excel", "--roster", str(tmp / "roster.csv"),
             "--report", str(tmp / "report"), "--jobs", "2", "--timeout", str(TIMEOUT)],
            cwd=tmp, stdout=stdout, stderr=stderr, env=_env(), timeout=3600).returncode
    seconds = time.monotonic() - started
    proc = subprocess.CompletedProcess([], code, out.read_text(), err.read_text())
    print(f"\n200 submissions graded in {seconds:.1f} s")
    raw = (tmp / "grades.csv").read_bytes() if (tmp / "grades.csv").exists() else b""
    text = raw.decode("utf-8-sig")
    header = next(csv.reader(text.splitlines())) if text else []
    rows = {r["submission"]: r for r in csv.DictReader(text.splitlines())}
    return Batch(tmp, members, proc, seconds, raw, rows, header, tmp / "report", roster,
                 absent)


def _summary(batch: Batch) -> dict:
    data: dict = json.loads((batch.report / "summary.json").read_text("utf-8"))
    return data


@pytest.mark.slow
def test_the_gradebook_has_a_row_per_submission_with_the_real_maximum(batch: Batch):
    assert batch.proc.returncode in (0, 1), batch.proc.stderr[-3000:]
    assert batch.raw.startswith(codecs.BOM_UTF8)  # --excel
    assert batch.header == ["submission", "student_id", "status", "score", "max_score",
                            *catalog.NAMES]
    assert list(batch.rows) == [m.name for m in batch.members]
    for row in batch.rows.values():
        assert float(row["max_score"]) == MAXIMUM, row
        assert row["status"] == "graded" or row["status"] == "timeout" \
            or row["status"].startswith("error: "), row
        if row["status"] == "graded":
            assert float(row["score"]) == sum(float(row[n]) for n in catalog.NAMES), row
        else:
            assert row["score"] == "" and all(row[n] == "" for n in catalog.NAMES), row


@pytest.mark.slow
def test_each_kind_of_submission_scores_as_it_should(batch: Batch):
    for m in batch.members:
        row = batch.rows[m.name]
        assert row["status"] == "graded", row
        for name in catalog.NAMES:
            earned = float(row[name])
            if m.kind == "stub":
                assert earned == 0, row
            elif m.kind == "correct" or name != m.exercise:
                assert earned == FULL[name], (m, name, row)
            elif m.kind == "syntax":
                assert earned == 0, row
            else:  # a bug, or a function that never ends: caught, within its exercise
                assert earned < FULL[name], (m, row)


@pytest.mark.slow
def test_student_ids_come_from_the_roster_and_the_unmatched_are_listed_and_kept(batch: Batch):
    unmatched = [m.name for m in batch.members if m.name not in batch.roster]
    assert len(unmatched) == 5
    for m in batch.members:
        assert batch.rows[m.name]["student_id"] == batch.roster.get(m.name, ""), m
    assert batch.rows["zoë"]["student_id"] == "zoë-1"
    for name in unmatched:
        assert f"{name} is not in the roster: its row is kept" in batch.proc.stderr
    assert "in the roster but not among the submissions: nobody-1, nobody-2" \
        in batch.proc.stderr
    summary = _summary(batch)
    assert summary["not_in_roster"] == unmatched
    assert summary["roster_without_submission"] == batch.absent


@pytest.mark.slow
def test_every_student_gets_feedback_that_names_no_path_of_this_machine(batch: Batch):
    forbidden = {str(batch.tmp), str(ROOT), sys.prefix, os.path.expanduser("~")} - {"/", ""}
    for m in batch.members:
        row = batch.rows[m.name]
        for suffix in (".md", ".html"):
            text = (batch.report / "students" / f"{m.name}{suffix}").read_text("utf-8")
            assert f"Score: {row['score']}/{row['max_score']}" in text, (m, suffix)
            for path in forbidden:
                assert path not in text, (m.name, suffix, path)
        if m.kind == "syntax":
            text = (batch.report / "students" / f"{m.name}.md").read_text("utf-8")
            assert f'File "submission/{SYNTAX_EXERCISE}.py", line 1' in text
        if m.bug in zoo.KIND_WORDS:  # the zoo's diagnosed bugs reach the student
            text = (batch.report / "students" / f"{m.name}.md").read_text("utf-8")
            assert any(word in text for word in zoo.KIND_WORDS[m.bug]), m


@pytest.mark.slow
def test_the_summary_s_figures_match_the_gradebook(batch: Batch):
    summary = _summary(batch)
    rows = list(batch.rows.values())
    graded = [r for r in rows if r["status"] == "graded"]
    assert summary["submissions"] == len(rows) == 200
    assert summary["graded"] == len(graded)
    assert summary["timeout"] == sum(r["status"] == "timeout" for r in rows)
    assert summary["error"] == sum(r["status"].startswith("error") for r in rows)
    assert [x["submission"] for x in summary["not_graded"]] == \
        [r["submission"] for r in rows if r["status"] != "graded"]
    assert sorted(summary["scores"]) == sorted(float(r["score"]) for r in graded)
    assert list(summary["exercises"]) == list(catalog.NAMES)
    for name, figures in summary["exercises"].items():
        column = [float(r[name]) for r in graded]
        assert figures["possible"] == FULL[name]
        assert figures["mean"] == pytest.approx(sum(column) / len(column))
        assert figures["done"] == pytest.approx(
            sum(x == FULL[name] for x in column) / len(column))
    for test, figures in summary["tests"].items():
        assert figures["graded"] == len(graded), test
        exercise = test.split(":")[0]
        full = sum(float(r[exercise]) == FULL[exercise] for r in graded)
        zero = sum(float(r[exercise]) == 0 for r in graded)
        assert full <= figures["passed"] <= len(graded) - zero, test


@pytest.mark.slow
def test_the_most_common_mistakes_are_counted_by_diagnosis(batch: Batch):
    mistakes = _summary(batch)["mistakes"]
    counts = [m["submissions"] for m in mistakes]
    assert counts == sorted(counts, reverse=True)
    # Every syntax error of the class is one diagnosis, counted once per submission.
    syntax = [m for m in mistakes if m["exercise"] == SYNTAX_EXERCISE
              and m["diagnosis"].startswith(f"{SYNTAX_EXERCISE}.py could not be imported")]
    assert [m["submissions"] for m in syntax] == \
        [sum(m.kind == "syntax" for m in batch.members)]
    # The functions that never end are named as such.
    assert any("still running after" in m["diagnosis"] and m["exercise"] == "single_neuron"
               for m in mistakes)
    page = (batch.report / "summary.html").read_text("utf-8")
    for m in mistakes:
        assert f'<td class="n">{m["submissions"]}</td>' in page


@pytest.mark.slow
def test_the_summary_page_shows_the_gradebook_s_counts(batch: Batch):
    summary = _summary(batch)
    page = (batch.report / "summary.html").read_text("utf-8")
    shown = dict(re.findall(r'data-count="(\w+)">(\d+)<', page))
    assert shown == {k: str(summary[k]) for k in ("submissions", "graded", "timeout", "error")}
    assert 'src="data:image/png;base64,' in page
    assert (batch.report / classreport.HISTOGRAM).read_bytes().startswith(b"\x89PNG")
    assert "![score histogram](histogram.png)" in (batch.report / "summary.md").read_text("utf-8")


@pytest.mark.slow
def test_the_summary_page_renders_its_histogram_in_a_browser(batch: Batch):
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.skip("no chromium here (Debian: apt-get install chromium)")
    from matplotlib import image

    shot = batch.tmp / "summary.png"
    subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu",
                    "--hide-scrollbars", f"--screenshot={shot}", "--window-size=1000,900",
                    (batch.report / "summary.html").as_uri()],
                   capture_output=True, timeout=120, check=True)
    pixels = (image.imread(str(shot))[:, :, :3] * 255).round().astype(int)
    bars = (abs(pixels - BAR_COLOUR).max(axis=2) <= 8)
    assert bars.sum() > 500, "no histogram bar on the rendered page"
    rows, columns = bars.nonzero()
    # The bars stand within the image's 700 x 350 pixels, below the counts table.
    assert columns.max() - columns.min() < 700 and rows.max() - rows.min() < 350
    assert rows.min() > 100
