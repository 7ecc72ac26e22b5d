"""The kata in Jupyter: generated notebooks, a check in the kernel, notebooks graded as modules.

Three jobs, one rule for each:

- **Generating** ``notebooks/<N>_<exercise>.ipynb`` from the marked reference, the
  one source :mod:`gradkata.authoring` reads: the story and maths (the module's
  and the functions' docstrings) in Markdown, an imports cell, one code cell per
  function to write (its stub, as in exercises/) and a check cell. Outputs stay
  empty and ids fixed, so the files only change when the reference does::

      python -m gradkata.notebooks           # rewrite notebooks/ from solutions/
      python -m gradkata.notebooks --check   # exit 1 and name the stale notebooks

- **Turning code cells into modules.** Only the cells' top-level ``import``
  and ``def`` (and ``class``) statements count, in the order of the cells; other
  statements (prints, experiments, constants) are left out, as a module's
  tests would not run them either, and imports of gradkata itself are dropped.
  A function of the exercise that no cell defines becomes a stub that raises
  NotImplementedError ("not started"). A notebook folder is graded like a
  folder of modules: :func:`modules_from` writes ``<exercise>.py`` for each
  ``[<N>_]<exercise>.ipynb`` into a temporary folder, which the pytest plugin
  grades in its place (``pytest --impl=FOLDER``, ``gradkata grade``). A cell
  that is not valid Python is kept whole, so the graded module reports the
  syntax error as a .py file would.

- **Checking in the kernel** (``%load_ext gradkata`` then ``%gradkata check
  EXERCISE``, or ``gradkata.check("EXERCISE")``). The functions graded are the
  code of the cells *run* in this kernel, in the order they ran (IPython's
  input history), turned into modules by the rule above; a cell that did not
  parse defined nothing, so it is skipped. Every exercise whose functions some
  cell defined gets its module; the others are absent, i.e. not started. The
  modules go to a private temporary folder and the exercise's graded tests run
  on it in a pytest subprocess (:func:`gradkata.progress.run_suite`): the same
  suite, sandbox, time limits and messages as ``pytest``. A function that never
  returns is stopped by the suite's time limit, so the check always returns.
  For the exercises with a training step, the loss curve is drawn by
  ``gradkata plot loss`` in a subprocess, so the learner's step runs in the
  sandbox there too, never in the judge.

The notebooks' own dependencies (nbformat, Jupyter) are imported only where
they are needed: grading a notebook folder reads the .ipynb JSON directly.
"""

from __future__ import annotations

import argparse
import ast
import base64
import html
import inspect
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from . import authoring, catalog

FOLDER = "notebooks"
NBFORMAT_MINOR = 5  # cell ids are part of the format from 4.5 on; ours are fixed
PLOT_SECONDS = 120.0  # the plot subprocess's backstop: each learner call has its own limit
# The exercises with a training step, whose check draws the learner's loss curve
# (gradkata.plots.LOSS_SETUPS; not imported here: it imports numpy and the sandbox).
LOSS_PLOTTED = ("single_neuron", "loop_gradients", "vectorized", "numeric_gradients")
INSTALL = ('The notebooks need Jupyter, an optional extra of gradkata. In the kata\'s folder:\n'
           '    python -m pip install -e ".[notebooks]"')


class NotebookProblem(ValueError):
    """A folder of notebooks that cannot be graded as it is; the message says why."""


def file_name(exercise: catalog.Exercise) -> str:
    return f"{exercise.number}_{exercise.name}.ipynb"


# --------------------------------------------------------------------------
# Docstrings (reStructuredText, numpydoc) as Markdown


_SECTION_UNDERLINE = re.compile(r"^-{3,}$")
_FIELD_SECTIONS = {"Parameters", "Returns", "Yields", "Raises", "Attributes"}


def markdown(doc: str) -> str:
    """A numpydoc docstring as Markdown: ````x```` as code, ``::`` blocks and other
    indented blocks fenced, section titles in bold, parameters as a list."""
    lines = inspect.cleandoc(doc).splitlines()
    out: List[str] = []
    section = ""
    i = 0
    while i < len(lines):
        line = lines[i].rstrip()
        following = lines[i + 1].strip() if i + 1 < len(lines) else ""
        if line and not line.startswith(" ") and _SECTION_UNDERLINE.match(following) \
                and len(following) == len(line.strip()):
            section = line.strip()
            out += ["", f"**{section}**", ""]
            i += 2
            continue
        if line.startswith(" ") and section not in _FIELD_SECTIONS:
            block = []  # an indented block: a literal (after ``::``) or a table of names
            while i < len(lines) and (lines[i].startswith(" ") or not lines[i].strip()):
                block.append(lines[i])
                i += 1
            while block and not block[-1].strip():
                block.pop()
            out += ["```", *textwrap.dedent("\n".join(block)).splitlines(), "```", ""]
            continue
        if section in _FIELD_SECTIONS and line.strip():
            if line.startswith(" "):
                out.append("  " + _inline(line.strip()))
            else:
                name, colon, kind = line.strip().partition(" : ")
                item = f"**{name}** : {_inline(kind)}" if colon else _inline(name)
                out.append(f"- {item}  ")  # two spaces: the description on a line of its own
            i += 1
            continue
        if line.endswith("::"):  # rST's "a literal block follows"
            line = line[:-1] if line.strip() != "::" else ""
        out.append(_inline(line))
        i += 1
    text = "\n".join(out)
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"


def _inline(text: str) -> str:
    return re.sub(r"``(.+?)``", r"`\1`", text)


# --------------------------------------------------------------------------
# Generating the notebooks


def _cell(kind: str, cell_id: str, source: str) -> Dict[str, Any]:
    cell: Dict[str, Any] = {"cell_type": kind, "id": cell_id, "metadata": {},
                            "source": source.rstrip("\n")}
    if kind == "code":
        cell.update(execution_count=None, outputs=[])
    return cell


def check_cell(name: str) -> str:
    return f"%load_ext gradkata\n%gradkata check {name}"


def import_block(exercise: authoring.Exercise) -> str:
    """The stub's imports as exercises/ shows them: the note, the groups, the noqa marks."""
    if not exercise.imports:
        return "# This exercise needs no imports."
    lines = exercise.stub.splitlines()
    start = lines.index(authoring.IMPORTS_NOTE)
    last = max(i for i, line in enumerate(lines)
               if line.split(authoring.UNUSED_IMPORT)[0].rstrip() in exercise.imports)
    return "\n".join(lines[start:last + 1])


def build(exercise: authoring.Exercise, entry: catalog.Exercise) -> str:
    """The notebook of one exercise, as the JSON text written to disk."""
    import nbformat

    story = markdown(exercise.docstring)
    intro = (f"# {entry.number}. {entry.title}\n\n{story}\n"
             "Write each function in its cell, run the cell, then run the check at the end: "
             "it grades the functions you ran with the kata's own tests. Only the cells' "
             "`import` and `def` statements are graded.")
    cells = [_cell("markdown", "story", intro),
             _cell("code", "imports", import_block(exercise))]
    for function in exercise.functions:
        cells.append(_cell("markdown", f"{function.name}-about",
                           f"## `{function.name}`\n\n{markdown(function.docstring)}"))
        cells.append(_cell("code", function.name, function.stub))
    cells.append(_cell("markdown", "check-about",
                       "## Check\n\nGrades the functions as you last ran them: a score table, "
                       "the first problem to fix" + (", and the loss curve of your training "
                                                     "step" if entry.name in LOSS_PLOTTED else "")
                       + ". In a terminal, `gradkata hint "
                       f"{entry.name}` gives a hint."))
    cells.append(_cell("code", "check", check_cell(entry.name)))
    notebook = nbformat.from_dict({
        "nbformat": 4, "nbformat_minor": NBFORMAT_MINOR,
        "metadata": {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        },
        "cells": cells,
    })
    nbformat.validate(notebook)
    return str(nbformat.writes(notebook)) + "\n"


def generate(root: Path) -> Dict[Path, str]:
    """Every notebook as it should be: ``{root/notebooks/<N>_<name>.ipynb: text}``."""
    return {root / FOLDER / file_name(e): build(authoring.read(e.name, root), e)
            for e in catalog.EXERCISES}


def stale(root: Path) -> List[Path]:
    """The notebooks in ``root``/notebooks that differ from what :func:`generate` makes."""
    return authoring.differing(generate(root))


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m gradkata.notebooks",
        description="Generate notebooks/ from the marked reference in solutions/.")
    parser.add_argument("--check", action="store_true",
                        help="change nothing; exit 1 if a notebook differs from its generated "
                             "form")
    parser.add_argument("--root", type=Path, default=None,
                        help="the kata's folder (default: found from the current folder)")
    args = parser.parse_args(argv)
    from .progress import ProjectNotFound, find_root

    try:
        root = args.root.resolve() if args.root else find_root(needs=("solutions",))
        files = generate(root)
        differ = stale(root)
    except ImportError as exc:
        print(f"gradkata.notebooks: {exc}\n{INSTALL}", file=sys.stderr)
        return 2
    except (ProjectNotFound, authoring.AuthoringError, OSError) as exc:
        print(f"gradkata.notebooks: {exc}", file=sys.stderr)
        return 2
    if not differ:
        print(f"{FOLDER}/ is up to date ({len(files)} notebooks)")
        return 0
    if args.check:
        for path in differ:
            print(f"{path.relative_to(root)} is not what solutions/ generates")
        print("Run `python -m gradkata.notebooks` to regenerate it.")
        return 1
    (root / FOLDER).mkdir(exist_ok=True)
    for path in differ:
        path.write_text(files[path], encoding="utf-8")
        print(f"wrote {path.relative_to(root)}")
    return 0


# --------------------------------------------------------------------------
# Code cells to modules


@dataclass(frozen=True)
class _Piece:
    """One top-level statement kept from a cell, or a whole cell that does not parse."""

    cell: str  # how the cell is named in the module's comments
    text: str
    line: int = 1  # where it starts in its cell
    defines: Optional[str] = None  # the def's (or class's) name
    future: bool = False  # a ``from __future__`` import: it must open the module
    broken: bool = False


_MAGIC = re.compile(r"^\s*[%!]")


def _without_magics(source: str) -> Optional[str]:
    """A cell's Python: IPython's line magics and shell escapes dropped; None for a cell
    magic (``%%...``), whose body is not Python."""
    if source.lstrip().startswith("%%"):
        return None
    return "\n".join("" if _MAGIC.match(line) else line for line in source.splitlines())


def _is_gradkata_import(node: ast.stmt) -> bool:
    if isinstance(node, ast.Import):
        return any(alias.name.split(".")[0] == "gradkata" for alias in node.names)
    if isinstance(node, ast.ImportFrom):
        return (node.module or "").split(".")[0] == "gradkata"
    return False


def pieces(source: str, cell: str, keep_broken: bool) -> List[_Piece]:
    """The top-level imports and defs of one cell, in order. A cell that does not parse
    is kept whole when ``keep_broken`` (a file's cell: its error is the learner's to
    see), else it gives nothing (a kernel's cell: it defined nothing)."""
    code = _without_magics(source)
    if code is None or not code.strip():
        return []
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return [_Piece(cell, code, broken=True)] if keep_broken else []
    lines = code.splitlines()
    found = []
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            if _is_gradkata_import(node):
                continue
            text = ast.get_source_segment(code, node) or ""
            future = isinstance(node, ast.ImportFrom) and node.module == "__future__"
            found.append(_Piece(cell, text, node.lineno, future=future))
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            first = min([d.lineno for d in node.decorator_list] + [node.lineno])
            text = "\n".join(lines[first - 1:node.end_lineno])
            found.append(_Piece(cell, text, first, defines=node.name))
    return found


def _placeholder(exercise: str, function: str) -> str:
    return (f"def {function}(*args, **kwargs):\n"
            f"    raise NotImplementedError(\"{exercise}.{function}: not started\")")


# Where a line of a written module came from: (the cell's name, the line in the cell).
Origins = Dict[int, Tuple[str, int]]


def module(exercise: catalog.Exercise, kept: Sequence[_Piece], where: str
           ) -> Tuple[str, Origins]:
    """The module ``exercise.name``.py made of the ``kept`` pieces, with a stub for each
    of the exercise's functions that none defines; and where each of its lines came from."""
    lines = [f"# {exercise.name}.py, written by gradkata from {where}: the top-level imports "
             "and defs of its code cells, in order."]
    origins: Origins = {}

    def add(piece: _Piece) -> None:
        for offset, line in enumerate(piece.text.splitlines()):
            lines.append(line)
            origins[len(lines)] = (piece.cell, piece.line + offset)

    for piece in kept:
        if piece.future:
            add(piece)
    cell = None
    for piece in kept:
        if piece.future:
            continue
        if piece.cell != cell:
            lines += ["", f"# {piece.cell}"]
            cell = piece.cell
        add(piece)
    defined = {p.defines for p in kept}
    missing = [f for f in exercise.functions if f not in defined]
    if missing and not any(p.broken for p in kept):
        lines += ["", "# Not defined in any cell:"]
        lines += [line for f in missing for line in _placeholder(exercise.name, f).splitlines()]
    return "\n".join(lines) + "\n", origins


def module_text(exercise: catalog.Exercise, kept: Sequence[_Piece], where: str) -> str:
    return module(exercise, kept, where)[0]


def notebook_cells(path: Path) -> List[str]:
    """The source of each code cell of a notebook file (nbformat 4), in order."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        cells = data["cells"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise NotebookProblem(f"{path.name} is not a notebook that can be read ({exc})") from None
    out = []
    for cell in cells:
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        out.append("".join(source) if isinstance(source, list) else str(source))
    return out


def _exercise_of_notebook(path: Path) -> Optional[catalog.Exercise]:
    stem = re.sub(r"^\d+_", "", path.stem)
    return next((e for e in catalog.EXERCISES if e.name == stem), None)


def write_modules(folder: Path, target: Path) -> List[str]:
    """Write ``target/<exercise>.py`` for each exercise notebook in ``folder``; returns
    the exercises written. Notebooks named after no exercise are left out."""
    written: Dict[str, Path] = {}
    for path in sorted(folder.glob("*.ipynb")):
        exercise = _exercise_of_notebook(path)
        if exercise is None:
            continue
        if exercise.name in written:
            raise NotebookProblem(
                f"{folder} holds two notebooks for {exercise.name}: {written[exercise.name].name} "
                f"and {path.name}. Keep one.")
        written[exercise.name] = path
        kept = [piece for number, source in enumerate(notebook_cells(path), 1)
                for piece in pieces(source, f"code cell {number} of {path.name}", True)]
        (target / f"{exercise.name}.py").write_text(module_text(exercise, kept, path.name),
                                                    encoding="utf-8")
    return list(written)


def modules_from(folder: Path,
                 cleanup: Optional[Callable[[Callable[[], None]], None]] = None) -> Path:
    """The folder of modules to grade for ``folder``: itself when it holds no notebooks,
    else a new temporary folder of modules written from its notebooks (removed by the
    function handed to ``cleanup``, e.g. pytest's ``config.add_cleanup``).

    A folder holding exercise modules and notebooks both is refused: which to grade
    would be a guess.
    """
    notebooks = sorted(p.name for p in folder.glob("*.ipynb"))
    if not notebooks:
        return folder
    modules = sorted(f"{e.name}.py" for e in catalog.EXERCISES
                     if (folder / f"{e.name}.py").is_file())
    if modules:
        raise NotebookProblem(
            f"{folder} holds exercise modules ({', '.join(modules)}) and notebooks "
            f"({', '.join(notebooks)}): grade one or the other. Move one kind to a folder "
            "of its own.")
    target = Path(tempfile.mkdtemp(prefix="gradkata-notebooks-"))
    try:
        write_modules(folder, target)
    except BaseException:
        shutil.rmtree(target, ignore_errors=True)
        raise
    if cleanup is not None:
        cleanup(lambda: shutil.rmtree(target, ignore_errors=True))
    return target


def for_pytest(folder: Path, config: Any) -> Path:
    """:func:`modules_from` for the pytest plugin: the temporary folder lives as long as
    pytest's configuration, and a problem is a usage error."""
    try:
        return modules_from(folder, config.add_cleanup)
    except NotebookProblem as exc:
        import pytest

        raise pytest.UsageError(f"gradkata: {exc}") from None


def kernel_modules(cells: Sequence[str], target: Path,
                   always: Sequence[str] = ()) -> Dict[str, Origins]:
    """Write the modules of the functions the ``cells`` define into ``target``; returns
    the exercises written, each with where its module's lines came from. ``cells`` is a
    kernel's input history, indexed like IPython's ``In`` (by execution count), so a
    line's origin reads as Jupyter labels the cell: ``In[3]``. Each module holds every import,
    its own functions and the helpers (defs that are no exercise's function). The
    exercises ``always`` get a module even if no cell defined their functions: then
    each is a stub, so the check says which function to write, not which file is missing."""
    kept = [piece for number, source in enumerate(cells)
            for piece in pieces(source, f"In[{number}]", False)]
    owner = {f: e.name for e in catalog.EXERCISES for f in e.functions}
    written: Dict[str, Origins] = {}
    for exercise in catalog.EXERCISES:
        if exercise.name not in always and not any(owner.get(p.defines or "") == exercise.name
                                                   for p in kept):
            continue
        mine = [p for p in kept if p.defines is None or owner.get(p.defines, exercise.name)
                == exercise.name]
        text, origins = module(exercise, mine, "this notebook's kernel")
        (target / f"{exercise.name}.py").write_text(text, encoding="utf-8")
        written[exercise.name] = origins
    return written


# --------------------------------------------------------------------------
# The check in the kernel


def _kata_root() -> Path:
    from .progress import ProjectNotFound, find_root

    try:
        return find_root(needs=("tests", "exercises"))  # the handout has no solutions/
    except ProjectNotFound:
        installed = Path(__file__).resolve().parents[1]  # an editable install of the kata
        if (installed / "tests").is_dir() and (installed / "exercises").is_dir():
            return installed
        raise


def _history() -> List[str]:
    """The cells run in this IPython kernel, in order (as IPython parsed them)."""
    try:
        from IPython import get_ipython
    except ImportError:
        get_ipython = None
    shell = get_ipython() if get_ipython is not None else None
    if shell is None:
        raise RuntimeError("gradkata.check grades the cells run in a Jupyter (IPython) kernel; "
                           "outside one, run `gradkata check` in a terminal.")
    return [str(cell) for cell in shell.history_manager.input_hist_parsed]


@dataclass
class Report:
    """What a check found, shown as HTML in the notebook (and as text elsewhere)."""

    exercise: catalog.Exercise
    run: Any  # gradkata.progress.Run
    folder: str = ""  # where the modules were graded (gone once the check returns)
    origins: Dict[str, Origins] = field(default_factory=dict)  # by exercise
    plot_png: Optional[bytes] = None
    plot_note: str = ""

    @property
    def status(self) -> Any:
        return self.run.status(self.exercise.name)

    def headline(self) -> str:
        e = self.exercise
        if not self.run.ok:
            return f"{e.number} {e.name}: the check could not finish"
        s = self.status
        return (f"{e.number} {e.name}: {s.state}, {s.passed}/{s.tests} tests pass, "
                f"{s.earned:g}/{s.possible:g} points")

    def located(self, text: str) -> str:
        """``text`` with the graded modules' lines named as the cells they came from:
        ``File ".../single_neuron.py", line 9`` becomes ``Cell In[2], line 3``."""
        if not self.folder:
            return text
        folders = {self.folder, str(Path(self.folder).resolve())}
        pattern = "|".join(re.escape(f) for f in sorted(folders))

        def cell(match: re.Match) -> str:
            origin = self.origins.get(match["module"], {}).get(int(match["line"]))
            return match[0] if origin is None else f"Cell {origin[0]}, line {origin[1]}"

        return re.sub(rf'File "(?:{pattern})/(?P<module>\w+)\.py", line (?P<line>\d+)', cell,
                      text)

    def problem_lines(self) -> List[str]:
        """The first problem: its kind and test, then its message, as text lines."""
        if not self.run.ok:
            return [self.run.problem or "Stopped."]
        s = self.status
        problem = s.score.first_problem if s.score is not None else None
        if s.done:
            return ["It passes. Well done!"]
        if problem is None:
            return []
        if problem.status == "not started":
            first = problem.message.strip().splitlines()[0] if problem.message.strip() else ""
            return ["Not started: " + re.sub(r":\s*not started\.?$", ".", first)]
        kind = "Failed" if problem.status == "failed" else f"Did not run ({problem.status})"
        lines = [f"{kind}: {problem.name}", self.located(problem.message.rstrip())]
        if problem.output.strip():
            lines += ["What your code printed:", self.located(problem.output.rstrip())]
        return lines

    def __repr__(self) -> str:
        return "\n".join([self.headline(), "", *self.problem_lines()])

    def _repr_html_(self) -> str:
        e = self.exercise
        parts = [f"<div class=\"gradkata-check\"><h3>{html.escape(self.headline())}</h3>"]
        if self.run.ok:
            rows = "".join(
                f"<tr><td>{html.escape(r.name)}</td><td>{html.escape(r.status)}</td>"
                f"<td style=\"text-align:right\">{r.earned:g}/{r.points:g}</td></tr>"
                for r in self.run.results if r.exercise == e.name)
            parts.append("<table><thead><tr><th>test</th><th>result</th><th>points</th>"
                         f"</tr></thead><tbody>{rows}</tbody></table>")
            problem = self.problem_lines()
            if problem:
                parts.append(f"<p><b>{html.escape(problem[0])}</b></p>")
                for line in problem[1:]:
                    tag = "p" if line == "What your code printed:" else "pre"
                    parts.append(f"<{tag}>{html.escape(line)}</{tag}>")
            if not self.status.done:
                parts.append(f"<p>Stuck? <code>gradkata hint {e.name}</code>, in a terminal "
                             "in the kata's folder, gives the next hint.</p>")
        else:
            parts.append(f"<pre>{html.escape(self.run.problem or 'Stopped.')}</pre>")
        if self.plot_png is not None:
            data = base64.b64encode(self.plot_png).decode("ascii")
            parts.append(f"<img alt=\"the loss over the epochs with your "
                         f"{html.escape(e.name)} step\" src=\"data:image/png;base64,{data}\">")
        if self.plot_note:
            parts.append(f"<pre>{html.escape(self.plot_note)}</pre>")
        parts.append("</div>")
        return "\n".join(parts)


def _loss_plot(root: Path, folder: Path, name: str) -> tuple:
    """(PNG bytes or None, a note): ``gradkata plot loss`` on the folder, in a subprocess."""
    out = folder.parent / f"loss-{name}.png"
    env = dict(os.environ, MPLBACKEND="Agg", PYTHONDONTWRITEBYTECODE="1")
    env.pop("GRADKATA_IMPL", None)
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "gradkata", "plot", "loss", name, "--impl", str(folder),
             "--out", str(out)],
            cwd=str(root), env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True,
            timeout=PLOT_SECONDS, start_new_session=(os.name == "posix"))
    except subprocess.TimeoutExpired:
        return None, f"The loss curve was still being drawn after {PLOT_SECONDS:g} s; stopped."
    if proc.returncode == 0 and out.is_file():
        return out.read_bytes(), ""
    said = (proc.stdout + proc.stderr).strip()
    if said.startswith("Not started"):
        return None, ""
    lines = [line for line in said.splitlines() if not line.startswith("Running your")]
    return None, "No loss curve:\n" + "\n".join(lines)


def check(exercise: str, time_limit: Optional[float] = None, plot: bool = True) -> Report:
    """Grade ``exercise`` as this kernel defines it (the cells run so far), with the
    kata's graded suite in a pytest subprocess; the report shows itself in the notebook."""
    from . import progress

    entry = catalog.find(str(exercise))
    if entry is None:
        choices = ", ".join(f"{e.number} {e.name}" for e in catalog.EXERCISES)
        raise ValueError(f"there is no exercise {exercise!r}. Choose one of: {choices}.")
    root = _kata_root()
    cells = _history()
    scratch = Path(tempfile.mkdtemp(prefix="gradkata-check-"))
    try:
        folder = scratch / "modules"
        folder.mkdir()
        origins = kernel_modules(cells, folder, always=[entry.name])
        impl = progress.Impl(str(folder), folder, "this notebook: ", "the notebook's kernel")
        run = progress.run_suite(root, impl, [entry.name], time_limit)
        report = Report(entry, run, str(folder), origins)
        if plot and run.ok and entry.name in LOSS_PLOTTED and report.status.state not in (
                "not started", "no tests"):
            report.plot_png, report.plot_note = _loss_plot(root, folder, entry.name)
        return report
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _magic(line: str) -> Any:
    """``%gradkata check EXERCISE [--time-limit SECONDS]``."""
    parser = argparse.ArgumentParser(prog="%gradkata", add_help=False)
    parser.add_argument("command", choices=["check"])
    parser.add_argument("exercise")
    parser.add_argument("--time-limit", type=float, default=None)
    parser.add_argument("--no-plot", action="store_true")
    try:
        args = parser.parse_args(line.split())
    except SystemExit:
        print("Usage: %gradkata check EXERCISE [--time-limit SECONDS] [--no-plot]")
        return None
    return check(args.exercise, args.time_limit, plot=not args.no_plot)


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext gradkata``: the ``%gradkata`` line magic."""
    ipython.register_magic_function(_magic, "line", "gradkata")


# --------------------------------------------------------------------------
# gradkata notebooks


def open_lab(root: Path) -> int:
    """Start JupyterLab in ``root``/notebooks (the exit status of the command)."""
    folder = root / FOLDER
    if not folder.is_dir():
        print(f"gradkata: there is no {FOLDER}/ folder in {root}.", file=sys.stderr)
        return 1
    try:
        import jupyterlab  # noqa: F401
    except ImportError:
        print(f"gradkata notebooks: JupyterLab is not installed.\n{INSTALL}", file=sys.stderr)
        return 1
    return subprocess.call([sys.executable, "-m", "jupyter", "lab"], cwd=str(folder))


if __name__ == "__main__":  # pragma: no cover - run as a script
    sys.exit(main())
