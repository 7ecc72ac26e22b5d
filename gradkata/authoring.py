"""One source for every exercise: the stubs in exercises/ are generated from solutions/.

Each reference function marks the code a learner writes, nbgrader style, with
its stub's TODO written just above it::

    def double(x):
        \"\"\"The docstring, shared by stub and reference.\"\"\"
        # TODO: return twice x.
        # BEGIN SOLUTION
        return 2 * x
        # END SOLUTION

The stub keeps everything but the marked block, which becomes
``raise NotImplementedError("<exercise>.<function>: not started")``. The
markers are comments, so the reference runs, is covered and is quoted (by the
mutant zoo) exactly as written. The stub also marks the module's imports as
"unused until you write your solution", since its bodies only raise.

Regenerate after editing a reference, and check that nothing drifted::

    python -m gradkata.authoring           # rewrite exercises/ from solutions/
    python -m gradkata.authoring --check   # exit 1 and name the stale stubs

For other generators (notebooks), :func:`read` gives each exercise's parts:
the module docstring and imports, and per function its signature and
docstring, its TODO, its solution and its stub.
"""

from __future__ import annotations

import argparse
import ast
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

from . import catalog

BEGIN = "# BEGIN SOLUTION"
END = "# END SOLUTION"
TODO = "# TODO:"
IMPORTS_NOTE = "# Imported for you to use; unused until you write your solution."
UNUSED_IMPORT = "  # noqa: F401"

_MARKER = re.compile(r"^(?P<indent>[ \t]*)# (?P<which>BEGIN|END) SOLUTION[ \t]*$")


class AuthoringError(ValueError):
    """A reference module whose markers cannot be turned into a stub."""


@dataclass(frozen=True)
class Function:
    """One function of an exercise, in the parts a generator needs.

    ``head`` is the source from ``def`` to the end of the docstring; ``todo``
    the TODO's text as a learner reads it (without ``#`` and ``TODO:``);
    ``solution`` the marked code, dedented to column 0; ``stub`` and
    ``reference`` the whole function as exercises/ and ``gradkata solution``
    show it.
    """

    name: str
    head: str
    docstring: str
    todo: str
    solution: str
    stub: str
    reference: str


@dataclass(frozen=True)
class Exercise:
    """One exercise module: its story (the module docstring), imports and functions."""

    name: str
    docstring: str
    imports: Tuple[str, ...]  # the reference's import lines, as written
    functions: Tuple[Function, ...]  # the functions with a marked solution, in file order
    stub: str  # the whole generated exercises/<name>.py
    reference: str  # the whole reference, markers removed


@dataclass(frozen=True)
class _Block:
    begin: int  # 0-based line numbers of the markers
    end: int
    indent: str
    todo_start: int  # first line of the TODO comment above ``begin``


def _blocks(lines: Sequence[str], where: str) -> List[_Block]:
    """The marked blocks of a module, each with its TODO; errors name the line."""
    found: List[_Block] = []
    open_at: Optional[int] = None
    indent = ""
    for i, line in enumerate(lines):
        match = _MARKER.match(line.rstrip("\n"))
        if match is None:
            continue
        if match["which"] == "BEGIN":
            if open_at is not None:
                raise AuthoringError(f"{where}:{i + 1}: {BEGIN} inside the block opened at "
                                     f"line {open_at + 1}")
            open_at, indent = i, match["indent"]
            continue
        if open_at is None:
            raise AuthoringError(f"{where}:{i + 1}: {END} without a {BEGIN}")
        if match["indent"] != indent:
            raise AuthoringError(f"{where}:{i + 1}: {END} is not indented like its {BEGIN} "
                                 f"(line {open_at + 1})")
        if not indent:
            raise AuthoringError(f"{where}:{open_at + 1}: a solution block outside a function")
        found.append(_Block(open_at, i, indent, _todo_start(lines, open_at, indent, where)))
        open_at = None
    if open_at is not None:
        raise AuthoringError(f"{where}:{open_at + 1}: {BEGIN} without an {END}")
    return found


def _todo_start(lines: Sequence[str], begin: int, indent: str, where: str) -> int:
    """The first line of the comment right above ``begin``, which must open with ``# TODO:``."""
    start = begin
    while start > 0 and lines[start - 1].startswith(indent + "#"):
        start -= 1
    if start == begin or not lines[start].startswith(indent + TODO):
        raise AuthoringError(f"{where}:{begin + 1}: a solution block needs a '{TODO}' comment "
                             "(what the learner should achieve) right above it")
    return start


def _stub_raise(indent: str, exercise: str, function: str) -> str:
    return f'{indent}raise NotImplementedError("{exercise}.{function}: not started")\n'


def _dedent(lines: Sequence[str], indent: str) -> str:
    return "".join(line[len(indent):] if line.startswith(indent) else line.lstrip(" \t")
                   for line in lines)


def _todo_text(comment_lines: Sequence[str]) -> str:
    words = [line.strip().lstrip("#").strip() for line in comment_lines]
    words[0] = words[0][len("TODO:"):].strip()
    return " ".join(w for w in words if w)


def parse(source: str, name: str, where: str = "") -> Exercise:
    """Split a reference module's ``source`` into an :class:`Exercise` called ``name``."""
    where = where or f"solutions/{name}.py"
    lines = source.splitlines(keepends=True)
    blocks = _blocks(lines, where)
    tree = ast.parse(source, filename=where)
    functions = [node for node in tree.body if isinstance(node, ast.FunctionDef)]

    def owner(block: _Block) -> ast.FunctionDef:
        before = [f for f in functions if f.lineno - 1 < block.todo_start]
        if not before or not before[-1].body:
            raise AuthoringError(f"{where}:{block.begin + 1}: a solution block outside a function")
        node = before[-1]
        doc = node.body[0]
        if ast.get_docstring(node) is None or doc.end_lineno is None:
            raise AuthoringError(f"{where}:{node.lineno}: {node.name} has no docstring")
        if block.todo_start < doc.end_lineno:
            raise AuthoringError(f"{where}:{block.begin + 1}: the block starts inside "
                                 f"{node.name}'s docstring")
        return node

    owners: Dict[str, _Block] = {}
    for block in blocks:
        node = owner(block)
        if node.name in owners:
            raise AuthoringError(f"{where}:{block.begin + 1}: {node.name} has a second "
                                 "solution block; one per function")
        owners[node.name] = block

    imports = [node for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom))]
    for imp in imports:
        if imp.end_lineno != imp.lineno:
            raise AuthoringError(f"{where}:{imp.lineno}: write each import on one line")
    import_lines = {imp.lineno - 1 for imp in imports}

    stub: List[str] = []
    reference: List[str] = []
    skip_until = -1
    for i, line in enumerate(lines):
        if i <= skip_until:
            continue
        if i in import_lines:
            if i == min(import_lines):
                stub.append(IMPORTS_NOTE + "\n")
            code = line.rstrip("\n")
            stub.append(code if UNUSED_IMPORT.strip() in code else code + UNUSED_IMPORT)
            stub.append("\n")
            reference.append(line)
            continue
        opened = next((b for b in blocks if b.begin == i), None)
        if opened is not None:
            fname = next(n for n, b in owners.items() if b is opened)
            stub.append(_stub_raise(opened.indent, name, fname))
            reference.extend(lines[opened.begin + 1:opened.end])
            skip_until = opened.end
            continue
        stub.append(line)
        reference.append(line)

    parts: List[Function] = []
    for node in functions:
        marked = owners.get(node.name)
        if marked is None:
            continue
        block = marked
        # The function's last line, the END marker counted in (a comment, so not in the AST).
        end = max(node.end_lineno or node.lineno, block.end + 1)
        doc_end = node.body[0].end_lineno or node.lineno
        todo_lines = lines[block.todo_start:block.begin]
        body_before = lines[doc_end:block.begin]
        body_after = lines[block.end + 1:end]
        head = "".join(lines[node.lineno - 1 - len(node.decorator_list):doc_end])
        solution_lines = lines[block.begin + 1:block.end]
        parts.append(Function(
            name=node.name,
            head=head,
            docstring=ast.get_docstring(node) or "",
            todo=_todo_text(todo_lines),
            solution=_dedent(solution_lines, block.indent),
            stub=head + "".join(body_before)
            + _stub_raise(block.indent, name, node.name) + "".join(body_after),
            reference=head + "".join(body_before) + "".join(solution_lines)
            + "".join(body_after),
        ))
    return Exercise(
        name=name,
        docstring=ast.get_docstring(tree) or "",
        imports=tuple(lines[i].rstrip("\n") for i in sorted(import_lines)),
        functions=tuple(parts),
        stub="".join(stub),
        reference="".join(reference),
    )


def reference_text(source: str) -> str:
    """A reference module's source with its marker lines removed (what learners are shown)."""
    return "".join(line for line in source.splitlines(keepends=True)
                   if not _MARKER.match(line.rstrip("\n")))


def read(name: str, root: Path) -> Exercise:
    """Exercise ``name``, read from ``root``/solutions."""
    path = root / "solutions" / f"{name}.py"
    return parse(path.read_text(encoding="utf-8"), name, f"solutions/{name}.py")


def generate(root: Path) -> Dict[Path, str]:
    """Every stub as it should be: ``{root/exercises/<name>.py: text}``."""
    return {root / "exercises" / f"{e.name}.py": read(e.name, root).stub
            for e in catalog.EXERCISES}


def differing(generated: Dict[Path, str]) -> List[Path]:
    """The files of ``generated`` (path: the text a generator makes) that are missing
    or hold other text: stale copies of a generated mirror (stubs, notebooks)."""
    out = []
    for path, text in generated.items():
        try:
            current: Optional[str] = path.read_text(encoding="utf-8")
        except OSError:
            current = None
        if current != text:
            out.append(path)
    return out


def stale(root: Path) -> List[Path]:
    """The stubs in ``root``/exercises that differ from what :func:`generate` makes."""
    return differing(generate(root))


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m gradkata.authoring",
        description="Generate exercises/ from the marked reference in solutions/.")
    parser.add_argument("--check", action="store_true",
                        help="change nothing; exit 1 if a stub differs from its generated form")
    parser.add_argument("--root", type=Path, default=None,
                        help="the kata's folder (default: found from the current folder)")
    args = parser.parse_args(argv)
    from .progress import ProjectNotFound, find_root

    try:
        root = args.root.resolve() if args.root else find_root(needs=("exercises", "solutions"))
        files = generate(root)
    except (ProjectNotFound, AuthoringError, OSError) as exc:
        print(f"gradkata.authoring: {exc}", file=sys.stderr)
        return 2
    differ = stale(root)
    if not differ:
        print(f"exercises/ is up to date ({len(files)} stubs)")
        return 0
    if args.check:
        for path in differ:
            print(f"{path.relative_to(root)} is not what solutions/{path.name} generates")
        print("Run `python -m gradkata.authoring` to regenerate it.")
        return 1
    for path in differ:
        path.write_text(files[path], encoding="utf-8")
        print(f"wrote {path.relative_to(root)}")
    return 0


if __name__ == "__main__":  # pragma: no cover - run as a script
    sys.exit(main())
