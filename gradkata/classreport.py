"""``gradkata grade --report DIR``: feedback to send back, and a page for the instructor.

What it writes (``DIR`` is created if need be):

- ``students/<submission>.md`` and ``.html``: one student's feedback: the score,
  a table per exercise, what passed, and every failed test with its message (the
  diagnosis). Hidden tests (the ``visibility`` marker's ``hidden``) appear only as
  gradescope's results.json shows them: no name, no message, no printed output.
- ``summary.html`` and ``summary.md``: the class: how many submissions were
  graded, timed out or errored, the score distribution (a matplotlib histogram,
  ``histogram.png`` beside the page and embedded in it as a data URL), the pass
  rate of every exercise and every test, the most common diagnosed mistakes, and
  the submissions that could not be graded.
- ``summary.json``: the same figures, for scripts.

Messages reach this module already free of the instructor's paths (class grading
replaces them, see :func:`neutral_paths`).
"""

from __future__ import annotations

import base64
import html
import io
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Sequence, Tuple

from . import catalog, scoring

if TYPE_CHECKING:  # class grading imports this module, not the other way round
    from .classgrade import Graded

HISTOGRAM = "histogram.png"
STUDENTS = "students"
MISTAKES_SHOWN = 15
OUTPUT_SHOWN = 1500  # characters of what a failed test's code printed, per test


# --------------------------------------------------------------------------
# Paths and diagnoses


def neutral_paths(text: str, names: Dict[str, str]) -> str:
    """``text`` with every path in ``names`` replaced by its neutral name (longest
    path first, so that a folder inside another is named as itself)."""
    for path in sorted(names, key=len, reverse=True):
        if path and path != "/":
            text = text.replace(path, names[path])
    return text


_SENTENCE_END = re.compile(r"(?<=[.?!])\s+(?=[A-Z(])")
# A number standing alone (a value), not one inside a name (x_1, float32, 2/N stays).
_NUMBER = re.compile(r"(?<![\w./])[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:e[-+]?\d+)?(?![\w/])",
                     re.IGNORECASE)
_COMPARISON = "but the tests expected"
_PREAMBLES = ("What this test checks:", "Called ")


def diagnosis(message: str) -> str:
    """What a failed test's message says went wrong, as one sentence, for grouping.

    A verdict reads "What this test checks: ...", "Called f(...).", then a line
    with what came back against what was expected and (when the numbers showed a
    pattern) what that suggests, then perhaps a hint. The diagnosis is that line's
    suggestion when there is one, else its first sentence. Numbers become "#", so
    that the same mistake on other inputs groups with it."""
    lines = [line.strip() for line in message.strip().splitlines()]
    lines = [line for line in lines if line and not line.startswith(_PREAMBLES)]
    if not lines:
        return ""
    sentences = [s.strip() for s in _SENTENCE_END.split(lines[0]) if s.strip()]
    chosen = sentences[0]
    if _COMPARISON in chosen:
        if len(sentences) > 1:
            # The suggestion, in words the suite chose, kept as it is (it may be a
            # reading and the possible causes behind it: all of it).
            chosen = " ".join(sentences[1:])
        else:  # values alone: what differed is the whole diagnosis
            chosen = chosen.split(" came back as ")[0].split(" has ")[0] \
                + ": not the expected value, and no pattern recognised."
    else:
        chosen = _NUMBER.sub("#", chosen)  # what was seen, with this learner's values
    chosen = chosen.rstrip(":")
    return chosen if len(chosen) <= 300 else chosen[:297] + "..."


# --------------------------------------------------------------------------
# One student's feedback


def _visible_name(r: scoring.TestResult, hidden_number: int) -> str:
    return f"hidden test {hidden_number}" if r.visibility == "hidden" else r.name


def _fence(text: str) -> str:
    """A Markdown code block that ``text`` cannot end early."""
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}text\n{text}\n{fence}"


@dataclass
class _Entry:
    """One test as the student may see it."""

    name: str
    status: str
    message: str
    output: str


def _entries(g: Graded) -> Dict[str, List[_Entry]]:
    per: Dict[str, List[_Entry]] = {}
    hidden: Dict[str, int] = {}
    for r in g.results:
        if r.visibility == "hidden":
            hidden[r.exercise] = hidden.get(r.exercise, 0) + 1
            entry = _Entry(_visible_name(r, hidden[r.exercise]), r.status,
                           scoring.hidden_message(r), "")
        else:
            message = r.message if r.status != "passed" else ""
            entry = _Entry(r.name, r.status, message, r.output[:OUTPUT_SHOWN])
        per.setdefault(r.exercise, []).append(entry)
    return per


def _score_line(g: Graded) -> str:
    if not g.graded:
        return (f"Your submission could not be graded ({g.status.splitlines()[0]}). "
                "Your instructor will look into it.")
    return f"Score: {g.score:g}/{g.max_score:g}"


def student_markdown(g: Graded) -> str:
    lines = [f"# Feedback: {g.submission}", ""]
    if g.student_id:
        lines += [f"Student: {g.student_id}", ""]
    lines += [_score_line(g), ""]
    if not g.graded:
        return "\n".join(lines)
    lines += ["| exercise | points | passed | failed | not started |", "|---|---|---|---|---|"]
    for row in g.rows:
        lines.append(f"| {row.number} {row.name} | {row.earned:g}/{row.possible:g} | "
                     f"{row.passed} | {row.failed} | {row.not_started + row.other} |")
    lines.append("")
    for exercise, entries in _entries(g).items():
        lines += [f"## {exercise}", ""]
        passed = [e.name for e in entries if e.status == "passed"]
        if passed:
            lines += ["Passed: " + ", ".join(passed) + ".", ""]
        for e in entries:
            if e.status == "passed":
                continue
            lines += [f"### {e.name}: {e.status}", ""]
            if e.message:
                lines += [_fence(e.message), ""]
            if e.output:
                lines += ["What your code printed:", "", _fence(e.output), ""]
    return "\n".join(lines).rstrip() + "\n"


_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 60em; margin: 2em auto; padding: 0 1em; }
table { border-collapse: collapse; margin: 1em 0; }
th, td { border: 1px solid #bbb; padding: 0.25em 0.6em; text-align: left; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
pre { background: #f4f4f4; padding: 0.6em; white-space: pre-wrap; }
.passed { color: #1a6b1a; } .failed { color: #a01010; }
"""


def _page(title: str, body: List[str]) -> str:
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            f"<title>{html.escape(title)}</title>\n<style>{_STYLE}</style>\n</head>\n<body>\n"
            + "\n".join(body) + "\n</body>\n</html>\n")


def student_html(g: Graded) -> str:
    e = html.escape
    body = [f"<h1>Feedback: {e(g.submission)}</h1>"]
    if g.student_id:
        body.append(f"<p>Student: {e(g.student_id)}</p>")
    body.append(f"<p><strong>{e(_score_line(g))}</strong></p>")
    if g.graded:
        body.append("<table><tr><th>exercise</th><th>points</th><th>passed</th><th>failed</th>"
                    "<th>not started</th></tr>")
        for row in g.rows:
            body.append(f"<tr><td>{row.number} {e(row.name)}</td>"
                        f"<td class=\"n\">{row.earned:g}/{row.possible:g}</td>"
                        f"<td class=\"n\">{row.passed}</td><td class=\"n\">{row.failed}</td>"
                        f"<td class=\"n\">{row.not_started + row.other}</td></tr>")
        body.append("</table>")
        for exercise, entries in _entries(g).items():
            body.append(f"<h2>{e(exercise)}</h2>")
            passed = [x.name for x in entries if x.status == "passed"]
            if passed:
                body.append(f"<p class=\"passed\">Passed: {e(', '.join(passed))}.</p>")
            for x in entries:
                if x.status == "passed":
                    continue
                body.append(f"<h3 class=\"failed\">{e(x.name)}: {e(x.status)}</h3>")
                if x.message:
                    body.append(f"<pre>{e(x.message)}</pre>")
                if x.output:
                    body.append(f"<p>What your code printed:</p><pre>{e(x.output)}</pre>")
    return _page(f"Feedback: {g.submission}", body)


# --------------------------------------------------------------------------
# The class


@dataclass
class Mistake:
    exercise: str
    diagnosis: str
    submissions: int  # how many submissions failed a test with it
    example: str  # one test that gave it


@dataclass
class Summary:
    """The figures of the class summary page (and of summary.json)."""

    submissions: int = 0
    graded: int = 0
    timeout: int = 0
    error: int = 0
    max_score: float = 0.0
    scores: List[float] = field(default_factory=list)
    # exercise -> (mean points, points possible, share of graded submissions done)
    exercises: Dict[str, Tuple[float, float, float]] = field(default_factory=dict)
    # "exercise: test" -> (passed, graded submissions)
    tests: Dict[str, Tuple[int, int]] = field(default_factory=dict)
    mistakes: List[Mistake] = field(default_factory=list)
    not_graded: List[Tuple[str, str, str]] = field(default_factory=list)  # name, id, status
    unmatched: List[str] = field(default_factory=list)  # submissions not in the roster
    absent: List[str] = field(default_factory=list)  # roster entries without a submission

    def as_json(self) -> Dict[str, Any]:
        return {
            "submissions": self.submissions, "graded": self.graded, "timeout": self.timeout,
            "error": self.error, "max_score": self.max_score, "scores": self.scores,
            "exercises": {k: {"mean": m, "possible": p, "done": d}
                          for k, (m, p, d) in self.exercises.items()},
            "tests": {k: {"passed": p, "graded": n} for k, (p, n) in self.tests.items()},
            "mistakes": [m.__dict__ for m in self.mistakes],
            "not_graded": [{"submission": s, "student_id": i, "status": t}
                           for s, i, t in self.not_graded],
            "not_in_roster": self.unmatched, "roster_without_submission": self.absent,
        }


def summarize(graded: Sequence[Graded], *, unmatched: Sequence[str] = (),
              absent: Sequence[str] = ()) -> Summary:
    s = Summary(submissions=len(graded), unmatched=list(unmatched), absent=list(absent))
    s.max_score = max((g.max_score for g in graded), default=0.0)
    done = [g for g in graded if g.graded]
    s.graded = len(done)
    s.timeout = sum(g.status == "timeout" for g in graded)
    s.error = sum(g.status.startswith("error") for g in graded)
    s.scores = [g.score for g in done]
    s.not_graded = [(g.submission, g.student_id, g.status.splitlines()[0])
                    for g in graded if not g.graded]
    sums: Dict[str, List[float]] = {}
    for g in done:
        for row in g.rows:
            entry = sums.setdefault(row.name, [0.0, row.possible, 0.0])
            entry[0] += row.earned
            entry[2] += row.state == "done"
    order = {name: i for i, name in enumerate(catalog.NAMES)}
    for name in sorted(sums, key=lambda n: order.get(n, len(order))):
        total, possible, complete = sums[name]
        s.exercises[name] = (total / len(done), possible, complete / len(done))
    tests: Dict[str, List[int]] = {}
    groups: Counter = Counter()
    examples: Dict[Tuple[str, str], str] = {}
    for g in done:
        seen = set()
        for r in g.results:
            key = f"{r.exercise}: {r.name}"
            counts = tests.setdefault(key, [0, 0])
            counts[0] += r.status == "passed"
            counts[1] += 1
            if r.status == "failed" and r.message:
                group = (r.exercise, diagnosis(r.message))
                if group[1] and group not in seen:
                    seen.add(group)
                    groups[group] += 1
                    examples.setdefault(group, r.name)
    s.tests = {k: (p, n) for k, (p, n) in tests.items()}
    s.mistakes = [Mistake(ex, text, count, examples[(ex, text)])
                  for (ex, text), count in groups.most_common(MISTAKES_SHOWN)]
    return s


def histogram_png(scores: Sequence[float], maximum: float) -> Optional[bytes]:
    """The score distribution as a PNG, or None without matplotlib (an extra)."""
    try:
        import matplotlib

        matplotlib.use("Agg", force=True)
        from matplotlib.figure import Figure
    except ImportError:
        return None
    figure = Figure(figsize=(7, 3.5), dpi=100)
    axes = figure.subplots()
    top = maximum if maximum > 0 else 1.0
    bins = [top * i / 20 for i in range(21)]
    axes.hist(list(scores), bins=bins, color="#3b6ea8", edgecolor="white")
    axes.set_xlim(0, top)
    axes.set_xlabel(f"score (of {top:g})")
    axes.set_ylabel("submissions")
    axes.set_title(f"Scores of the {len(scores)} graded submissions")
    figure.tight_layout()
    out = io.BytesIO()
    figure.savefig(out, format="png")
    return out.getvalue()


def _median(values: Sequence[float]) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def _percent(part: float) -> str:
    return f"{100 * part:.0f}%"


def _stats(s: Summary) -> str:
    if not s.scores:
        return "No submission was graded."
    mean = sum(s.scores) / len(s.scores)
    return (f"Scores of the graded submissions: mean {mean:.1f}, median {_median(s.scores):g}, "
            f"lowest {min(s.scores):g}, highest {max(s.scores):g} (of {s.max_score:g}).")


def _counts(s: Summary) -> List[Tuple[str, str, int]]:
    return [("submissions", "submissions", s.submissions), ("graded", "graded", s.graded),
            ("timeout", "timed out", s.timeout), ("error", "errored", s.error)]


def summary_markdown(s: Summary, histogram: bool) -> str:
    lines = ["# Class summary", "", "| | |", "|---|---|"]
    lines += [f"| {label} | {count} |" for _, label, count in _counts(s)]
    lines += ["", _stats(s), ""]
    lines += ([f"![score histogram]({HISTOGRAM})", ""] if histogram else
              ["(No histogram: it needs matplotlib, `pip install \"gradkata[plots]\"`.)", ""])
    lines += ["## Exercises", "", "| exercise | mean points | all tests passed |",
              "|---|---|---|"]
    for name, (mean, possible, done) in s.exercises.items():
        lines.append(f"| {name} | {mean:.1f}/{possible:g} | {_percent(done)} |")
    lines += ["", "## Tests, hardest first", "", "| test | passed |", "|---|---|"]
    for name, (passed, total) in sorted(s.tests.items(), key=lambda t: t[1][0] / t[1][1]):
        lines.append(f"| {name} | {passed}/{total} ({_percent(passed / total)}) |")
    lines += ["", "## Most common diagnosed mistakes", "",
              "| exercise | diagnosis | submissions | e.g. in |", "|---|---|---|---|"]
    for m in s.mistakes:
        text = m.diagnosis.replace("|", "\\|")
        lines.append(f"| {m.exercise} | {text} | {m.submissions} | {m.example} |")
    lines += ["", "## Not graded", ""]
    if s.not_graded:
        lines += ["| submission | student id | status |", "|---|---|---|"]
        lines += [f"| {n} | {i} | {t.replace('|', '/')} |" for n, i, t in s.not_graded]
    else:
        lines.append("Every submission was graded.")
    lines += _roster_lines(s)
    return "\n".join(lines).rstrip() + "\n"


def _roster_lines(s: Summary) -> List[str]:
    lines = []
    if s.unmatched:
        lines += ["", "## Submissions not in the roster (no student id)", "",
                  ", ".join(s.unmatched)]
    if s.absent:
        lines += ["", "## In the roster, no submission", "", ", ".join(s.absent)]
    return lines


def summary_html(s: Summary, png: Optional[bytes]) -> str:
    e = html.escape
    body = ["<h1>Class summary</h1>", "<table id=\"counts\">"]
    body += [f"<tr><th>{label}</th><td class=\"n\" data-count=\"{key}\">{count}</td></tr>"
             for key, label, count in _counts(s)]
    body += ["</table>", f"<p>{e(_stats(s))}</p>"]
    if png is not None:
        data = base64.b64encode(png).decode("ascii")
        body.append(f"<img id=\"histogram\" alt=\"score histogram\" width=\"700\" height=\"350\" "
                    f"src=\"data:image/png;base64,{data}\">")
    else:
        body.append("<p>No histogram: it needs matplotlib "
                    "(<code>pip install \"gradkata[plots]\"</code>).</p>")
    body += ["<h2>Exercises</h2>", "<table id=\"exercises\"><tr><th>exercise</th>"
             "<th>mean points</th><th>all tests passed</th></tr>"]
    for name, (mean, possible, done) in s.exercises.items():
        body.append(f"<tr><td>{e(name)}</td><td class=\"n\">{mean:.1f}/{possible:g}</td>"
                    f"<td class=\"n\">{_percent(done)}</td></tr>")
    body += ["</table>", "<h2>Tests, hardest first</h2>",
             "<table id=\"tests\"><tr><th>test</th><th>passed</th></tr>"]
    for name, (passed, total) in sorted(s.tests.items(), key=lambda t: t[1][0] / t[1][1]):
        body.append(f"<tr><td>{e(name)}</td><td class=\"n\" data-passed=\"{passed}\">"
                    f"{passed}/{total} ({_percent(passed / total)})</td></tr>")
    body += ["</table>", "<h2>Most common diagnosed mistakes</h2>",
             "<table id=\"mistakes\"><tr><th>exercise</th><th>diagnosis</th>"
             "<th>submissions</th><th>e.g. in</th></tr>"]
    for m in s.mistakes:
        body.append(f"<tr><td>{e(m.exercise)}</td><td>{e(m.diagnosis)}</td>"
                    f"<td class=\"n\">{m.submissions}</td><td>{e(m.example)}</td></tr>")
    body += ["</table>", "<h2>Not graded</h2>"]
    if s.not_graded:
        body.append("<table id=\"not-graded\"><tr><th>submission</th><th>student id</th>"
                    "<th>status</th></tr>")
        body += [f"<tr><td>{e(n)}</td><td>{e(i)}</td><td>{e(t)}</td></tr>"
                 for n, i, t in s.not_graded]
        body.append("</table>")
    else:
        body.append("<p>Every submission was graded.</p>")
    if s.unmatched:
        body += ["<h2>Submissions not in the roster (no student id)</h2>",
                 f"<p id=\"not-in-roster\">{e(', '.join(s.unmatched))}</p>"]
    if s.absent:
        body += ["<h2>In the roster, no submission</h2>",
                 f"<p id=\"no-submission\">{e(', '.join(s.absent))}</p>"]
    return _page("Class summary", body)


DATA = "data"  # each graded submission's results, so that a later --merge can summarize


def save(folder: Path, g: Graded) -> None:
    """Keep ``g``'s results in the report's data folder (not for students)."""
    from .classgrade import write_atomically

    data = {"submission": g.submission, "student_id": g.student_id, "status": g.status,
            "max_score": g.max_score, "seconds": g.seconds,
            "results": scoring.raw(g.results)["results"]}
    write_atomically(Path(folder) / DATA / f"{g.submission}.json", json.dumps(data) + "\n")


def load(folder: Path, submission: str) -> Optional[Graded]:
    """A submission :func:`save` kept, or None."""
    from .classgrade import Graded

    try:
        data = json.loads((Path(folder) / DATA / f"{submission}.json").read_text("utf-8"))
        return Graded(data["submission"], data["student_id"], "", data["status"],
                      float(data["max_score"]),
                      scoring.results_from_json({"results": data["results"]}),
                      float(data["seconds"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def write_report(folder: Path, graded: Sequence[Graded], *,
                 students: Optional[Sequence[Graded]] = None, unmatched: Sequence[str] = (),
                 absent: Sequence[str] = ()) -> Summary:
    """Write the feedback of ``students`` (default: every one graded) and the summary
    of ``graded`` into ``folder``."""
    from .classgrade import write_atomically

    folder = Path(folder)
    for g in graded if students is None else students:
        write_atomically(folder / STUDENTS / f"{g.submission}.md", student_markdown(g))
        write_atomically(folder / STUDENTS / f"{g.submission}.html", student_html(g))
    summary = summarize(graded, unmatched=unmatched, absent=absent)
    png = histogram_png(summary.scores, summary.max_score)
    if png is not None:
        write_atomically(folder / HISTOGRAM, png)
    write_atomically(folder / "summary.md", summary_markdown(summary, png is not None))
    write_atomically(folder / "summary.html", summary_html(summary, png))
    write_atomically(folder / "summary.json", json.dumps(summary.as_json(), indent=2) + "\n")
    return summary
